/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sip_msg: parsing good requests and responses, the accessors, generic
 * headers, responses built per RFC 3261 §8.2.6, serialise/parse round trips,
 * a table of malformed inputs each with its expected verdict and reason, the
 * raw 400 builder line by line, and socket address text round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/rc.h"
#include "common/sip/msg.h"

#define MAX 65535

static const char INVITE[] =
    "INVITE sip:bob@ims.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK776asdhds;rport\r\n"
    "Via: SIP/2.0/TCP [2001:db8::9];branch=z9hG4bKnashds8\r\n"
    "Max-Forwards: 70\r\n"
    "To: \"Bob\" <sip:bob@ims.example>\r\n"
    "From: \"Alice \xc3\xa9\" <sip:alice@ims.example>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.example\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@10.0.0.1:5062>\r\n"
    "k: 100rel\r\n"
    "P-Preferred-Identity: <sip:alice@ims.example>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

static const char REGISTER[] =
    "REGISTER sip:ims.example SIP/2.0\n"
    "v: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKreg1\n"
    "Max-Forwards: 70\n"
    "t: <sip:alice@ims.example>\n"
    "f: <sip:alice@ims.example>;tag=r1\n"
    "i: reg-1\n"
    "CSeq: 1 REGISTER\n"
    "m: <sip:alice@10.0.0.1:5062>;expires=600\n"
    "Expires: 600\n"
    "l: 0\n"
    "\n";

static const char RESPONSE[] =
    "SIP/2.0 180 Ringing\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK776asdhds\r\n"
    "To: <sip:bob@ims.example>;tag=a6c85cf\r\n"
    "From: <sip:alice@ims.example>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.example\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static sip_msg_t *parse_ok(const char *buf, size_t len)
{
    const char *reason = NULL;
    sip_msg_t *m = NULL;
    sip_rcv_t rcv;

    memset(&rcv, 0, sizeof(rcv));
    rcv.proto = SIP_PROTO_TCP;
    rcv.conn_id = 7;
    assert_int_equal(sip_msg_parse(buf, len, &rcv, MAX, &m, &reason), SIP_PARSE_OK);
    assert_non_null(m);
    assert_null(reason);
    assert_int_equal(m->rcv.conn_id, 7);
    return m;
}

static void test_parse_invite(void **state)
{
    sip_msg_t *m = parse_ok(INVITE, sizeof(INVITE) - 1);
    osip_via_t *v;
    char sb[64];

    assert_true(sip_msg_is_request(m));
    assert_string_equal(sip_msg_method(m), "INVITE");
    assert_int_equal(sip_msg_status(m), 0);
    assert_string_equal(sip_msg_call_id(m), "a84b4c76e66710@pc33.example");
    assert_string_equal(sip_msg_cseq_method(m), "INVITE");
    assert_int_equal(sip_msg_cseq_num(m), 314159);
    v = sip_msg_top_via(m);
    assert_non_null(v);
    assert_string_equal(sip_msg_via_branch(v), "z9hG4bK776asdhds");
    assert_string_equal(sip_msg_via_sent_by(v, sb, sizeof(sb)), "10.0.0.1:5062");
    assert_null(sip_msg_via_sent_by(v, sb, 5));  /* does not fit */
    v = osip_list_get(sip_msg_vias(m), 1);
    assert_string_equal(sip_msg_via_sent_by(v, sb, sizeof(sb)), "[2001:db8::9]:5060");
    assert_string_equal(sip_msg_from_tag(m), "1928301774");
    assert_null(sip_msg_to_tag(m));
    assert_string_equal(sip_msg_header(m, "max-forwards"), "70");
    /* compact "k" found under its full name, and the other way round */
    assert_string_equal(sip_msg_header(m, "Supported"), "100rel");
    assert_string_equal(sip_msg_header(m, "K"), "100rel");
    assert_null(sip_msg_header(m, "Require"));
    assert_int_equal(osip_list_size(&m->m->bodies), 1);
    sip_msg_free(m);
}

static void test_parse_register_lf(void **state)
{
    sip_msg_t *m = parse_ok(REGISTER, sizeof(REGISTER) - 1);

    assert_string_equal(sip_msg_method(m), "REGISTER");
    assert_string_equal(sip_msg_call_id(m), "reg-1");
    assert_string_equal(sip_msg_to_tag(m) == NULL ? "none" : "tag", "none");
    assert_string_equal(sip_msg_from_tag(m), "r1");
    assert_string_equal(sip_msg_header(m, "Expires"), "600");
    assert_int_equal(osip_list_size(&m->m->contacts), 1);
    sip_msg_free(m);
}

static void test_parse_response(void **state)
{
    sip_msg_t *m = parse_ok(RESPONSE, sizeof(RESPONSE) - 1);

    assert_false(sip_msg_is_request(m));
    assert_null(sip_msg_method(m));
    assert_int_equal(sip_msg_status(m), 180);
    assert_string_equal(sip_msg_to_tag(m), "a6c85cf");
    assert_string_equal(sip_msg_cseq_method(m), "INVITE");
    sip_msg_free(m);
}

static void test_generic_headers(void **state)
{
    sip_msg_t *m = parse_ok(INVITE, sizeof(INVITE) - 1);
    char *txt;
    size_t len;

    assert_int_equal(sip_msg_header_add(m, "P-Asserted-Identity", "<sip:a@ims.example>"),
                     IMS_OK);
    assert_int_equal(sip_msg_header_add(m, "P-Asserted-Identity", "<tel:+15550001>"), IMS_OK);
    assert_string_equal(sip_msg_header(m, "p-asserted-identity"), "<sip:a@ims.example>");
    assert_int_equal(sip_msg_header_remove(m, "P-Preferred-Identity"), 1);
    assert_int_equal(sip_msg_header_remove(m, "P-Preferred-Identity"), 0);
    assert_int_equal(sip_msg_header_remove(m, "Supported"), 1);  /* the compact "k" */
    assert_int_equal(sip_msg_to_str(m, &txt, &len), IMS_OK);
    assert_int_equal(strlen(txt), len);
    assert_null(strstr(txt, "Preferred"));
    assert_null(strstr(txt, "100rel"));
    assert_non_null(strstr(txt, "<tel:+15550001>"));
    osip_free(txt);
    assert_int_equal(sip_msg_header_remove(m, "P-Asserted-Identity"), 2);
    assert_null(sip_msg_header(m, "P-Asserted-Identity"));
    /* the text follows a change made after an earlier serialisation */
    assert_int_equal(sip_msg_to_str(m, &txt, &len), IMS_OK);
    assert_null(strstr(txt, "+15550001"));
    osip_free(txt);
    sip_msg_free(m);
}

/* Relayed headers keep their usual spelling (libosip2 would print "Service-route"). */
static void test_header_names_respelled(void **state)
{
    static const char ok[] = "SIP/2.0 200 OK\r\n"
                             "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK77\r\n"
                             "From: <sip:a@ims.example>;tag=1\r\n"
                             "To: <sip:a@ims.example>;tag=2\r\n"
                             "Call-ID: c1\r\n"
                             "CSeq: 2 REGISTER\r\n"
                             "service-route: <sip:orig@scscf.ims.example;lr>\r\n"
                             "P-ASSOCIATED-URI: <sip:a@ims.example>\r\n"
                             "Retry-After: 5\r\n"
                             "p-charging-vector: icid-value=1\r\n"
                             "rseq: 1\r\n"
                             "x-odd-NAME: 1\r\n"
                             "Content-Length: 0\r\n\r\n";
    sip_msg_t *m = parse_ok(ok, sizeof(ok) - 1);
    char *txt;
    size_t len;

    assert_int_equal(sip_msg_to_str(m, &txt, &len), IMS_OK);
    assert_non_null(strstr(txt, "\r\nService-Route: <sip:orig@"));
    assert_non_null(strstr(txt, "\r\nP-Associated-URI: <sip:a@"));
    assert_non_null(strstr(txt, "\r\nRetry-After: 5\r\n"));
    assert_non_null(strstr(txt, "\r\nP-Charging-Vector: icid"));
    assert_non_null(strstr(txt, "\r\nRSeq: 1\r\n"));
    assert_non_null(strstr(txt, "\r\nX-Odd-Name: 1\r\n"));
    assert_string_equal(sip_msg_header(m, "service-route"), "<sip:orig@scscf.ims.example;lr>");
    osip_free(txt);
    sip_msg_free(m);
}

static void test_make_response(void **state)
{
    sip_msg_t *req = parse_ok(INVITE, sizeof(INVITE) - 1), *r, *r2;
    char *txt;
    size_t len;

    r = sip_msg_make_response(req, 486, NULL, NULL);
    assert_non_null(r);
    assert_int_equal(sip_msg_status(r), 486);
    assert_string_equal(r->m->reason_phrase, "Busy Here");
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 2);
    assert_string_equal(sip_msg_via_branch(sip_msg_top_via(r)), "z9hG4bK776asdhds");
    assert_string_equal(sip_msg_call_id(r), sip_msg_call_id(req));
    assert_int_equal(sip_msg_cseq_num(r), 314159);
    assert_string_equal(sip_msg_cseq_method(r), "INVITE");
    assert_string_equal(sip_msg_from_tag(r), "1928301774");
    assert_non_null(sip_msg_to_tag(r));
    assert_int_equal(strlen(sip_msg_to_tag(r)), 16);
    assert_int_equal(r->rcv.conn_id, 0);
    assert_null(sip_msg_header(r, "Contact"));
    assert_int_equal(sip_msg_to_str(r, &txt, &len), IMS_OK);
    assert_non_null(strstr(txt, "SIP/2.0 486 Busy Here\r\n"));
    assert_non_null(strstr(txt, "Call-ID: a84b4c76e66710@pc33.example\r\n"));
    assert_non_null(strstr(txt, "Content-Length: 0"));
    /* what we build we parse back */
    r2 = parse_ok(txt, len);
    assert_string_equal(sip_msg_to_tag(r2), sip_msg_to_tag(r));
    sip_msg_free(r2);
    osip_free(txt);
    sip_msg_free(r);

    r = sip_msg_make_response(req, 100, NULL, NULL);
    assert_null(sip_msg_to_tag(r));  /* no tag on 100 */
    assert_string_equal(r->m->reason_phrase, "Trying");
    sip_msg_free(r);
    r = sip_msg_make_response(req, 200, "Fine", "mytag");
    assert_string_equal(sip_msg_to_tag(r), "mytag");
    assert_string_equal(r->m->reason_phrase, "Fine");
    assert_null(sip_msg_make_response(r, 200, NULL, NULL));  /* never answer a response */
    sip_msg_free(r);
    assert_null(sip_msg_make_response(req, 99, NULL, NULL));
    sip_msg_free(req);
}

static void test_make_response_keeps_tag(void **state)
{
    static const char bye[] =
        "BYE sip:alice@10.0.0.1:5062 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKbye1\r\n"
        "From: <sip:bob@ims.example>;tag=b1\r\n"
        "To: <sip:alice@ims.example>;tag=a1\r\n"
        "Call-ID: c2\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
    sip_msg_t *req = parse_ok(bye, sizeof(bye) - 1), *r;

    r = sip_msg_make_response(req, 200, NULL, "ignored");
    assert_string_equal(sip_msg_to_tag(r), "a1");
    sip_msg_free(r);
    sip_msg_free(req);
}

static void test_roundtrip_and_clone(void **state)
{
    sip_msg_t *m = parse_ok(INVITE, sizeof(INVITE) - 1), *m2, *c;
    char *t1, *t2;
    size_t l1, l2;

    assert_int_equal(sip_msg_to_str(m, &t1, &l1), IMS_OK);
    m2 = parse_ok(t1, l1);
    assert_int_equal(sip_msg_to_str(m2, &t2, &l2), IMS_OK);
    assert_int_equal(l1, l2);
    assert_memory_equal(t1, t2, l1);
    assert_non_null(strstr(t1, "v=0\n"));
    c = sip_msg_clone(m2);
    assert_non_null(c);
    assert_int_equal(c->rcv.conn_id, 7);
    sip_msg_free(m2);  /* the clone is independent */
    assert_string_equal(sip_msg_call_id(c), "a84b4c76e66710@pc33.example");
    osip_free(t2);
    assert_int_equal(sip_msg_to_str(c, &t2, &l2), IMS_OK);
    assert_memory_equal(t1, t2, l1);
    osip_free(t1);
    osip_free(t2);
    sip_msg_free(c);
    sip_msg_free(m);
}

/* Body longer than Content-Length on a datagram: the rest is discarded (§18.3). */
static void test_udp_body_truncated(void **state)
{
    static const char req[] =
        "MESSAGE sip:bob@ims.example SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKm1\r\n"
        "From: <sip:alice@ims.example>;tag=1\r\nTo: <sip:bob@ims.example>\r\n"
        "Call-ID: m1\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
        "Content-Length: 5\r\n\r\nhello, and trailing junk";
    sip_msg_t *m = parse_ok(req, sizeof(req) - 1);
    osip_body_t *b = osip_list_get(&m->m->bodies, 0);

    assert_non_null(b);
    assert_int_equal(b->length, 5);
    assert_memory_equal(b->body, "hello", 5);
    sip_msg_free(m);
}

/* ---- malformed input ---- */

#define HRL   "OPTIONS sip:bob@ims.example SIP/2.0\r\n"
#define HVIA  "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKx1\r\n"
#define HFT   "From: <sip:alice@ims.example>;tag=1\r\nTo: <sip:bob@ims.example>\r\n"
#define HCID  "Call-ID: c1@h\r\n"
#define HCSQ  "CSeq: 1 OPTIONS\r\n"
#define HEND  "Content-Length: 0\r\n\r\n"

typedef struct bad_case {
    const char *name;
    const char *buf;
    size_t len;
    sip_parse_rc_t rc;
    const char *reason;
} bad_case_t;

#define CASE(n, s, rc, r) {n, s, sizeof(s) - 1, rc, r}

static const bad_case_t g_bad[] = {
    CASE("no Via", HRL HFT HCID HCSQ HEND, SIP_PARSE_DROP, "Missing Via"),
    CASE("no Call-ID", HRL HVIA HFT HCSQ HEND, SIP_PARSE_DROP, "Missing Call-ID"),
    CASE("CSeq not a number", HRL HVIA HFT HCID "CSeq: abc OPTIONS\r\n" HEND, SIP_PARSE_BAD,
         "Bad CSeq"),
    CASE("CSeq over 2^31-1", HRL HVIA HFT HCID "CSeq: 2147483648 OPTIONS\r\n" HEND, SIP_PARSE_BAD,
         "Bad CSeq"),
    CASE("CSeq method mismatch", HRL HVIA HFT HCID "CSeq: 1 INVITE\r\n" HEND, SIP_PARSE_BAD,
         "CSeq method mismatch"),
    CASE("duplicate Content-Length", HRL HVIA HFT HCID HCSQ "Content-Length: 0\r\n" HEND,
         SIP_PARSE_BAD, "Duplicate Content-Length"),
    CASE("duplicate compact l", HRL HVIA HFT HCID HCSQ "l: 0\r\n" HEND, SIP_PARSE_BAD,
         "Duplicate Content-Length"),
    CASE("Content-Length not a number", HRL HVIA HFT HCID HCSQ "Content-Length: 1x\r\n\r\n",
         SIP_PARSE_BAD, "Bad Content-Length"),
    CASE("Content-Length larger than body", HRL HVIA HFT HCID HCSQ "Content-Length: 10\r\n\r\nab",
         SIP_PARSE_BAD, "Content-Length larger than body"),
    CASE("NUL byte", HRL HVIA HFT HCID HCSQ "Subject: a\0b\r\n" HEND, SIP_PARSE_BAD,
         "NUL byte in message"),
    CASE("4-part request line", "OPTIONS sip:bob@ims.example SIP/2.0 x\r\n" HVIA HFT HCID HCSQ HEND,
         SIP_PARSE_BAD, "Bad request line"),
    CASE("double space", "OPTIONS  sip:bob@ims.example SIP/2.0\r\n" HVIA HFT HCID HCSQ HEND,
         SIP_PARSE_BAD, "Bad request line"),
    CASE("SIP/3.0", "OPTIONS sip:bob@ims.example SIP/3.0\r\n" HVIA HFT HCID HCSQ HEND,
         SIP_PARSE_BAD, "Bad SIP version"),
    CASE("bad method char", "OPT@ONS sip:bob@ims.example SIP/2.0\r\n" HVIA HFT HCID HCSQ HEND,
         SIP_PARSE_BAD, "Bad method"),
    CASE("invalid UTF-8 display name", HRL HVIA "From: \"\xc3\x28\" <sip:a@ims.example>;tag=1\r\n"
         "To: <sip:bob@ims.example>\r\n" HCID HCSQ HEND, SIP_PARSE_BAD, "Invalid UTF-8"),
    CASE("overlong UTF-8", HRL HVIA HFT HCID HCSQ "Subject: \xc0\xaf\r\n" HEND, SIP_PARSE_BAD,
         "Invalid UTF-8"),
    CASE("surrogate UTF-8", HRL HVIA HFT HCID HCSQ "Subject: \xed\xa0\x80\r\n" HEND, SIP_PARSE_BAD,
         "Invalid UTF-8"),
    CASE("Max-Forwards abc", HRL HVIA HFT HCID HCSQ "Max-Forwards: abc\r\n" HEND, SIP_PARSE_BAD,
         "Bad Max-Forwards"),
    CASE("Max-Forwards 256", HRL HVIA HFT HCID HCSQ "Max-Forwards: 256\r\n" HEND, SIP_PARSE_BAD,
         "Bad Max-Forwards"),
    CASE("http Request-URI", "OPTIONS http://x SIP/2.0\r\n" HVIA HFT HCID HCSQ HEND,
         SIP_PARSE_BAD, "Unsupported URI scheme"),
    CASE("bare CR", HRL HVIA HFT HCID HCSQ "Subject: a\rContent-Length: 9\r\n" HEND, SIP_PARSE_BAD,
         "Bare CR in header"),
    CASE("control char", HRL HVIA HFT HCID HCSQ "Subject: a\x01\r\n" HEND, SIP_PARSE_BAD,
         "Control character in header"),
    CASE("no end of headers", HRL HVIA HFT HCID HCSQ "Content-Length: 0\r\n", SIP_PARSE_BAD,
         "Missing end of headers"),
    CASE("header without colon", HRL HVIA HFT HCID HCSQ "Garbage\r\n" HEND, SIP_PARSE_BAD,
         "Bad header line"),
    CASE("From not a URI", HRL HVIA "From: garbage\r\nTo: <sip:bob@ims.example>\r\n" HCID HCSQ HEND,
         SIP_PARSE_BAD, "Malformed message"),
    CASE("response with garbage", "SIP/2.0 200 OK\r\nVia: garbage\r\n\r\n", SIP_PARSE_DROP,
         "Malformed message"),
    CASE("response bad status", "SIP/2.0 2000 OK\r\n" HVIA HFT HCID HCSQ HEND, SIP_PARSE_DROP,
         "Bad status line"),
    CASE("response without CSeq", "SIP/2.0 200 OK\r\n" HVIA HFT HCID HEND, SIP_PARSE_DROP,
         "Missing CSeq"),
    CASE("plain garbage", "hello world", SIP_PARSE_DROP, "Bad request line"),
    CASE("keep-alive", "\r\n\r\n", SIP_PARSE_DROP, "Empty message"),
    CASE("empty", "", SIP_PARSE_DROP, "Empty message"),
};

static void check_bad(const char *name, const char *buf, size_t len, size_t max,
                      sip_parse_rc_t want, const char *reason)
{
    const char *got = NULL;
    sip_msg_t *m = (sip_msg_t *)1;
    sip_parse_rc_t rc;
    char *copy = malloc(len ? len : 1);

    /* An exact-size heap copy: ASan catches any read past len. */
    memcpy(copy, buf, len);
    rc = sip_msg_parse(copy, len, NULL, max, &m, &got);
    if (rc != want || got == NULL || strcmp(got, reason) != 0)
        fail_msg("%s: rc %d reason '%s', want %d '%s'", name, rc, got ? got : "(null)", want,
                 reason);
    assert_null(m);
    free(copy);
}

static void test_malformed_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(g_bad) / sizeof(g_bad[0]); i++)
        check_bad(g_bad[i].name, g_bad[i].buf, g_bad[i].len, MAX, g_bad[i].rc,
                  g_bad[i].reason);
}

static void test_malformed_sizes(void **state)
{
    size_t big = 64 * 1024, i, n;
    char *buf = malloc(big + 1024), *p;

    /* a 64 KiB header line */
    p = buf + sprintf(buf, HRL HVIA HFT HCID HCSQ "Subject: ");
    memset(p, 'a', big);
    p += big;
    p += sprintf(p, "\r\n" HEND);
    check_bad("long line", buf, (size_t)(p - buf), 1 << 20, SIP_PARSE_BAD,
              "Header line too long");
    /* the same message against a smaller limit */
    check_bad("too large", buf, (size_t)(p - buf), MAX, SIP_PARSE_BAD, "Message Too Large");
    /* more header lines than SIP_MAX_HEADERS */
    p = buf + sprintf(buf, HRL HVIA HFT HCID HCSQ);
    for (i = 0; i < SIP_MAX_HEADERS; i++)
        p += sprintf(p, "X-%zu: y\r\n", i);
    p += sprintf(p, HEND);
    n = (size_t)(p - buf);
    check_bad("many headers", buf, n, MAX, SIP_PARSE_BAD, "Too many headers");
    free(buf);
}

/* Every prefix of a good message is refused or parsed, never crashes. */
static void test_prefixes(void **state)
{
    size_t len;

    for (len = 0; len <= sizeof(INVITE) - 1; len++) {
        char *copy = malloc(len ? len : 1);
        const char *reason;
        sip_msg_t *m;

        memcpy(copy, INVITE, len);
        if (sip_msg_parse(copy, len, NULL, MAX, &m, &reason) == SIP_PARSE_OK)
            sip_msg_free(m);
        free(copy);
    }
}

/* Random damage to good messages: parse and raw_400 never crash or over-read
 * (run under ASan), and whatever parses serialises. Deterministic seed. */
static void test_mutations(void **state)
{
    static const char *const seeds[] = {INVITE, REGISTER, RESPONSE};
    static const char alphabet[] = "\r\n:;,<>\" \t\0\x80\xc3\xffSIP/2.0lL0123456789";
    uint64_t r = 0x9e3779b97f4a7c15ULL;
    size_t iter, k, len, pos, ok = 0;

    for (iter = 0; iter < 100000; iter++) {
        const char *seed = seeds[iter % 3];
        size_t slen = strlen(seed);
        char *buf = malloc(slen + 16);
        const char *reason;
        sip_msg_t *m;
        char *out;
        size_t olen;

        memcpy(buf, seed, slen);
        len = slen;
        for (k = 0; k < 1 + iter % 4; k++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            pos = (size_t)(r >> 8) % len;
            switch (r % 3) {
            case 0:  /* overwrite */
                buf[pos] = alphabet[(r >> 40) % (sizeof(alphabet) - 1)];
                break;
            case 1:  /* insert */
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = alphabet[(r >> 40) % (sizeof(alphabet) - 1)];
                len++;
                break;
            default:  /* cut */
                len = pos + 1;
                break;
            }
        }
        /* an exact-size copy so any over-read trips ASan */
        {
            char *exact = malloc(len);

            memcpy(exact, buf, len);
            if (sip_msg_parse(exact, len, NULL, MAX, &m, &reason) == SIP_PARSE_OK) {
                ok++;
                assert_int_equal(sip_msg_to_str(m, &out, &olen), IMS_OK);
                osip_free(out);
                sip_msg_free(m);
            } else {
                assert_non_null(reason);
            }
            out = sip_msg_raw_400(exact, len, reason, &olen);
            free(out);
            free(exact);
        }
        free(buf);
    }
    print_message("mutations: %zu of 100000 parsed\n", ok);
    assert_true(ok > 0);
}

/* ---- raw 400 ---- */

static char *next_line(char **p)
{
    char *s = *p, *e = strstr(s, "\r\n");

    if (e == NULL)
        return NULL;
    *e = '\0';
    *p = e + 2;
    return s;
}

static void test_raw_400(void **state)
{
    static const char req[] =
        "\r\nINVITE sip:bob@ims.example SIP/2.0\n"
        "v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n"
        "Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKb,\n"
        " SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKc\n"
        "X-Junk: \0 nul here\n"
        "f: <sip:alice@ims.example>;tag=1\n"
        "t: \"semi;tag=no\" <sip:bob@ims.example;tag=no>  \n"
        "To: <sip:second@ims.example>\n"
        "i: abc@h\n"
        "CSeq: xx INVITE\n"
        "\n";
    char *copy = malloc(sizeof(req) - 1), *out, *p, *l;
    size_t len = 0;

    memcpy(copy, req, sizeof(req) - 1);
    out = sip_msg_raw_400(copy, sizeof(req) - 1, "Bad\r\n CSeq", &len);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    p = out;
    assert_string_equal(next_line(&p), "SIP/2.0 400 Bad CSeq");
    assert_string_equal(next_line(&p), "v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa");
    assert_string_equal(next_line(&p), "Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKb,");
    assert_string_equal(next_line(&p), " SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKc");
    assert_string_equal(next_line(&p), "f: <sip:alice@ims.example>;tag=1");
    l = next_line(&p);
    assert_non_null(l);
    assert_int_equal(strncmp(l, "t: \"semi;tag=no\" <sip:bob@ims.example;tag=no>;tag=", 50), 0);
    assert_int_equal(strlen(l), 50 + 16);
    assert_string_equal(next_line(&p), "i: abc@h");
    assert_string_equal(next_line(&p), "CSeq: xx INVITE");
    assert_string_equal(next_line(&p), "Content-Length: 0");
    assert_string_equal(next_line(&p), "");
    assert_string_equal(p, "");
    /* our own 400 parses as a response, and this one echoes the bad CSeq */
    {
        const char *reason;
        sip_msg_t *m;

        free(out);
        out = sip_msg_raw_400(copy, sizeof(req) - 1, "Bad CSeq", &len);
        assert_int_equal(sip_msg_parse(out, len, NULL, MAX, &m, &reason), SIP_PARSE_DROP);
        assert_string_equal(reason, "Bad CSeq");
    }
    free(out);
    free(copy);
}

static void test_raw_400_refusals(void **state)
{
    static const char tagged[] = HRL HVIA "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x> ; TAG = 9\r\n"
        HCID HCSQ HEND;
    static const char nul_via[] = HRL "Via: SIP/2.0/UDP h\0;branch=z9hG4bK1\r\n" HFT HCID HCSQ HEND;
    static const char no_cseq[] = HRL HVIA HFT HCID HEND;
    static const char cut[] = HRL HVIA HFT HCID "CSeq: 1 OPTIONS\r\n";
    char *out, *big;
    size_t len, n;

    out = sip_msg_raw_400(tagged, sizeof(tagged) - 1, NULL, &len);
    assert_non_null(out);
    assert_non_null(strstr(out, "SIP/2.0 400 Bad Request\r\n"));
    assert_non_null(strstr(out, "\r\nTo: <sip:b@x> ; TAG = 9\r\n"));  /* untouched */
    free(out);
    /* a clean one parses back, with the To tag we added */
    {
        static const char req[] = HRL HVIA HFT HCID HCSQ "Max-Forwards: x\r\n" HEND;
        const char *reason;
        sip_msg_t *m;

        out = sip_msg_raw_400(req, sizeof(req) - 1, "Bad Max-Forwards", &len);
        assert_int_equal(sip_msg_parse(out, len, NULL, MAX, &m, &reason), SIP_PARSE_OK);
        assert_int_equal(sip_msg_status(m), 400);
        assert_string_equal(m->m->reason_phrase, "Bad Max-Forwards");
        assert_int_equal(strlen(sip_msg_to_tag(m)), 16);
        assert_string_equal(sip_msg_call_id(m), "c1@h");
        sip_msg_free(m);
        free(out);
    }
    assert_null(sip_msg_raw_400(RESPONSE, sizeof(RESPONSE) - 1, "x", &len));
    assert_null(sip_msg_raw_400(no_cseq, sizeof(no_cseq) - 1, "x", &len));
    assert_null(sip_msg_raw_400(nul_via, sizeof(nul_via) - 1, "x", &len));
    assert_null(sip_msg_raw_400("", 0, "x", &len));
    /* a needed line longer than SIP_MAX_LINE */
    big = malloc(SIP_MAX_LINE + 512);
    n = (size_t)sprintf(big, HRL HVIA HFT HCID "CSeq: 1 OPTIONS");
    memset(big + n, ' ', SIP_MAX_LINE);
    n += SIP_MAX_LINE;
    n += (size_t)sprintf(big + n, "\r\n" HEND);
    assert_null(sip_msg_raw_400(big, n, "x", &len));
    free(big);
    /* cut short inside the CSeq line: the partial line is not used */
    assert_null(sip_msg_raw_400(cut, sizeof(HRL HVIA HFT HCID) + 10, "x", &len));
}

/* ---- addresses and tokens ---- */

static void test_addr(void **state)
{
    sip_addr_t a, b;
    char buf[64];

    assert_int_equal(sip_addr_from(&a, "127.0.0.10", 5060), IMS_OK);
    assert_int_equal(a.ss.ss_family, AF_INET);
    assert_string_equal(sip_addr_str(&a, buf, sizeof(buf)), "127.0.0.10:5060");
    assert_int_equal(sip_addr_port(&a), 5060);
    assert_int_equal(sip_addr_from(&b, "127.0.0.10", 5060), IMS_OK);
    assert_true(sip_addr_equal(&a, &b));
    assert_int_equal(sip_addr_from(&b, "127.0.0.10", 5061), IMS_OK);
    assert_false(sip_addr_equal(&a, &b));
    assert_int_equal(sip_addr_from(&a, "[2001:db8::1]", 5062), IMS_OK);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_string_equal(sip_addr_str(&a, buf, sizeof(buf)), "[2001:db8::1]:5062");
    assert_int_equal(sip_addr_from(&b, "2001:db8::1", 5062), IMS_OK);
    assert_true(sip_addr_equal(&a, &b));
    assert_false(sip_addr_equal(&a, NULL));
    assert_int_equal(sip_addr_from(&a, "::1", 0), IMS_OK);
    assert_string_equal(sip_addr_str(&a, buf, sizeof(buf)), "[::1]:0");
    assert_int_equal(sip_addr_from(&a, "[127.0.0.1]", 1), IMS_ERROR);
    assert_int_equal(sip_addr_from(&a, "example.com", 1), IMS_ERROR);
    assert_int_equal(sip_addr_from(&a, "", 1), IMS_ERROR);
    assert_int_equal(sip_addr_from(&a, "[]", 1), IMS_ERROR);
}

static void test_random_token(void **state)
{
    char a[33], b[33];
    size_t i;

    sip_random_token(a, 32);
    sip_random_token(b, 32);
    assert_int_equal(strlen(a), 32);
    assert_string_not_equal(a, b);
    for (i = 0; i < 32; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    sip_random_token(a, 0);
    assert_string_equal(a, "");
}

/* A request built for a UAC role serialises, parses back, and carries a body. */
static void test_new_request(void **state)
{
    sip_msg_t *m = sip_msg_new_request("NOTIFY", "sip:ue@127.0.0.1:5070",
                                       "<sip:scscf.example.org>", "<sip:ue@example.org>;tag=ab",
                                       NULL, 7);
    sip_msg_t *back = NULL;
    const char *reason = NULL;
    char *text = NULL;
    size_t len = 0;
    const char *xml = "<reginfo/>";

    (void)state;
    assert_non_null(m);
    assert_int_equal(sip_msg_set_body(m, "application/reginfo+xml", xml, strlen(xml)), IMS_OK);
    assert_int_equal(sip_msg_header_add(m, "Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx"),
                     IMS_OK);
    assert_int_equal(sip_msg_to_str(m, &text, &len), IMS_OK);
    assert_int_equal(sip_msg_parse(text, len, NULL, 65535, &back, &reason), SIP_PARSE_OK);
    assert_string_equal(sip_msg_method(back), "NOTIFY");
    assert_int_equal(sip_msg_cseq_num(back), 7);
    assert_string_equal(sip_msg_cseq_method(back), "NOTIFY");
    assert_non_null(sip_msg_from_tag(back));
    assert_string_equal(sip_msg_to_tag(back), "ab");
    assert_non_null(sip_msg_call_id(back));
    assert_non_null(back->m->content_length);
    assert_string_equal(back->m->content_length->value, "10");
    assert_non_null(strstr(text, "<reginfo/>"));
    assert_null(sip_msg_new_request("NOTIFY", "not a uri", "<sip:a@b>", "<sip:c@d>", NULL, 1));
    osip_free(text);
    sip_msg_free(back);
    sip_msg_free(m);
}

/* A relayed response goes out as received, less its top Via line, byte for
 * byte; anything else that changed, or a Via line it cannot cut, prints it. */
static void test_relay_raw(void **state)
{
    static const char in[] =
        "SIP/2.0 180 Ringing\r\n"
        "v:  SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKtop\r\n"
        "VIA: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK776asdhds\r\n"
        "To:   <sip:bob@ims.example>;tag=a6c85cf\r\n"
        "From: <sip:alice@ims.example>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710@pc33.example\r\n"
        "CSeq: 314159 INVITE\r\n"
        "X-Odd:   kept   as   is\r\n"
        "Content-Length: 0\r\n"
        "\r\n";
    static const char folded[] =
        "SIP/2.0 180 Ringing\r\n"
        "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKtop,\r\n"
        " SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK776asdhds\r\n"
        "To: <sip:bob@ims.example>;tag=a6c85cf\r\n"
        "From: <sip:alice@ims.example>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710@pc33.example\r\n"
        "CSeq: 314159 INVITE\r\n"
        "Content-Length: 0\r\n"
        "\r\n";
    const char *cut = strstr(in, "VIA:");
    const char *top = strstr(in, "v:  ");
    sip_msg_t *m = parse_ok(in, sizeof(in) - 1);
    char *out = NULL;
    size_t n = 0;

    (void)state;
    sip_msg_pop_via(m);
    assert_int_equal(sip_msg_to_str(m, &out, &n), IMS_OK);
    assert_int_equal(n, sizeof(in) - 1 - (size_t)(cut - top));
    assert_memory_equal(out, in, (size_t)(top - in));
    assert_string_equal(out + (top - in), cut);
    osip_free(out);
    sip_msg_free(m);

    /* Edited after the pop: printed, so the edit shows. */
    m = parse_ok(in, sizeof(in) - 1);
    sip_msg_pop_via(m);
    assert_int_equal(sip_msg_header_add(m, "X-New", "1"), IMS_OK);
    assert_int_equal(sip_msg_to_str(m, &out, &n), IMS_OK);
    assert_non_null(strstr(out, "X-New: 1"));
    assert_null(strstr(out, "z9hG4bKtop"));
    osip_free(out);
    sip_msg_free(m);

    /* Two Via values on a folded line: printed, the second one kept. */
    m = parse_ok(folded, sizeof(folded) - 1);
    sip_msg_pop_via(m);
    assert_int_equal(sip_msg_to_str(m, &out, &n), IMS_OK);
    assert_null(strstr(out, "z9hG4bKtop"));
    assert_non_null(strstr(out, "z9hG4bK776asdhds"));
    osip_free(out);
    sip_msg_free(m);

    /* Nothing popped: printed as usual (the top Via stays). */
    m = parse_ok(in, sizeof(in) - 1);
    assert_int_equal(sip_msg_to_str(m, &out, &n), IMS_OK);
    assert_non_null(strstr(out, "z9hG4bKtop"));
    osip_free(out);
    sip_msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_invite),
        cmocka_unit_test(test_parse_register_lf),
        cmocka_unit_test(test_parse_response),
        cmocka_unit_test(test_generic_headers),
        cmocka_unit_test(test_header_names_respelled),
        cmocka_unit_test(test_make_response),
        cmocka_unit_test(test_make_response_keeps_tag),
        cmocka_unit_test(test_roundtrip_and_clone),
        cmocka_unit_test(test_udp_body_truncated),
        cmocka_unit_test(test_malformed_table),
        cmocka_unit_test(test_malformed_sizes),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_raw_400),
        cmocka_unit_test(test_raw_400_refusals),
        cmocka_unit_test(test_addr),
        cmocka_unit_test(test_random_token),
        cmocka_unit_test(test_new_request),
        cmocka_unit_test(test_relay_raw),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
