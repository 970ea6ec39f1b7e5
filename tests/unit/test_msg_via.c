/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Vias under the top one kept as text (common/sip/msg_via.c): only the
 * top one is parsed, the others reach the wire again in order, whole, after
 * a Via pushed or popped, in a response built from the request, in a clone;
 * after a pop the next one is parsed when asked for; anything but a plain
 * Via value (malformed, quoted, commented) or a folded Via line makes the
 * message parse whole, with libosip2's verdict as before.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/core/rc.h"
#include "common/sip/msg.h"

#define MAX 65535

#define VIA_P "SIP/2.0/UDP 127.0.1.10:5060;branch=z9hG4bKLp1;rport=5060;received=127.0.1.10"
#define VIA_S "SIP/2.0/UDP 127.0.1.30:5060;branch=z9hG4bKLs1"
#define VIA_UE "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-ue;rport=5062"

/* Three Vias on three lines, the middle one in compact form. */
static const char INVITE3[] =
    "INVITE sip:bob@ims.example SIP/2.0\r\n"
    "Via: " VIA_P "\r\n"
    "v: " VIA_S "\r\n"
    "Max-Forwards: 69\r\n"
    "Via:   " VIA_UE "  \r\n"
    "To: <sip:bob@ims.example>\r\n"
    "From: <sip:alice@ims.example>;tag=a1\r\n"
    "Call-ID: via-1@ims.example\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

/* A UA echoing the Vias on one line, comma-separated. */
static const char RESP_COMMA[] =
    "SIP/2.0 180 Ringing\r\n"
    "Via: " VIA_P " , " VIA_S ", " VIA_UE "\r\n"
    "To: <sip:bob@ims.example>;tag=b1\r\n"
    "From: <sip:alice@ims.example>;tag=a1\r\n"
    "Call-ID: via-1@ims.example\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static sip_msg_t *parse(const char *buf, size_t len, sip_parse_rc_t want)
{
    const char *reason = NULL;
    sip_msg_t *m = NULL;

    assert_int_equal(sip_msg_parse(buf, len, NULL, MAX, &m, &reason), want);
    return m;
}

static char *text_of(const sip_msg_t *m)
{
    char *t = NULL;
    size_t len = 0;

    assert_int_equal(sip_msg_to_str(m, &t, &len), IMS_OK);
    assert_int_equal(strlen(t), len);
    return t;
}

/* The Via lines of text, in order, as "v1|v2|...". */
static void vias_in(const char *text, char *out, size_t cap)
{
    const char *p = text;
    size_t n = 0;

    out[0] = '\0';
    while ((p = strstr(p, "\r\nVia: ")) != NULL) {
        const char *e = strstr(p + 7, "\r\n");

        n += (size_t)snprintf(out + n, cap - n, "%s%.*s", n ? "|" : "", (int)(e - p - 7), p + 7);
        p = e;
    }
}

static void assert_vias(const sip_msg_t *m, const char *want)
{
    char got[1024], *t = text_of(m);

    vias_in(t, got, sizeof(got));
    assert_string_equal(got, want);
    osip_free(t);
}

static const char *branch_at(const sip_msg_t *m, int i)
{
    osip_via_t *v = osip_list_get(sip_msg_vias(m), i);

    assert_non_null(v);
    return sip_msg_via_branch(v);
}

static void test_request_keeps_lower_vias(void **state)
{
    sip_msg_t *m = parse(INVITE3, sizeof(INVITE3) - 1, SIP_PARSE_OK), *c, *r;

    (void)state;
    /* Only the top one parsed; the others printed after it, in order. */
    assert_int_equal(osip_list_size(&m->m->vias), 1);
    assert_string_equal(sip_msg_via_branch(sip_msg_top_via(m)), "z9hG4bKLp1");
    assert_vias(m, VIA_P "|" VIA_S "|" VIA_UE);
    /* A clone and a response built from the request carry them all. */
    c = sip_msg_clone(m);
    assert_non_null(c);
    assert_vias(c, VIA_P "|" VIA_S "|" VIA_UE);
    r = sip_msg_make_response(m, 100, NULL, NULL);
    assert_non_null(r);
    assert_vias(r, VIA_P "|" VIA_S "|" VIA_UE);
    /* Parsed on demand: the whole list, the same text. */
    assert_int_equal(osip_list_size(sip_msg_vias(c)), 3);
    assert_string_equal(branch_at(c, 1), "z9hG4bKLs1");
    assert_string_equal(branch_at(c, 2), "z9hG4bK-ue");
    assert_vias(c, VIA_P "|" VIA_S "|" VIA_UE);
    sip_msg_free(r);
    sip_msg_free(c);
    sip_msg_free(m);
}

static void test_response_pop_brings_next_up(void **state)
{
    sip_msg_t *m = parse(RESP_COMMA, sizeof(RESP_COMMA) - 1, SIP_PARSE_OK);

    (void)state;
    assert_int_equal(osip_list_size(&m->m->vias), 1);
    assert_string_equal(sip_msg_via_branch(sip_msg_top_via(m)), "z9hG4bKLp1");
    assert_vias(m, VIA_P "|" VIA_S "|" VIA_UE);   /* each value on its own line */
    sip_msg_pop_via(m);
    /* Printed from the kept text; parsed only when the top is asked for. */
    assert_vias(m, VIA_S "|" VIA_UE);
    assert_int_equal(osip_list_size(&m->m->vias), 0);
    assert_string_equal(sip_msg_via_branch(sip_msg_top_via(m)), "z9hG4bKLs1");
    assert_int_equal(osip_list_size(&m->m->vias), 1);
    assert_vias(m, VIA_S "|" VIA_UE);
    sip_msg_pop_via(m);
    assert_string_equal(sip_msg_via_branch(sip_msg_top_via(m)), "z9hG4bK-ue");
    sip_msg_pop_via(m);
    assert_null(sip_msg_top_via(m));
    sip_msg_free(m);
}

/* A request with Via lines top and low, filler bytes of another header
 * between them: our verdict must be libosip2's on the whole text (a refusal
 * of ours that libosip2 accepts must come from our own checks, not from
 * libosip2), and what we accept must hold the same Vias. */
static void as_before(const char *top, const char *low, size_t filler)
{
    size_t cap = filler + 1024, n;
    char *buf = malloc(cap), *pad = malloc(filler + 1);
    const char *reason = NULL;
    osip_message_t *o;
    sip_msg_t *m = NULL;
    sip_parse_rc_t rc;
    bool whole_ok;

    assert_non_null(buf);
    assert_non_null(pad);
    memset(pad, 'x', filler);
    pad[filler] = '\0';
    n = (size_t)snprintf(buf, cap,
                         "INVITE sip:bob@ims.example SIP/2.0\r\nVia: %s\r\nX-Pad: %s\r\n"
                         "Via: %s\r\nTo: <sip:bob@ims.example>\r\n"
                         "From: <sip:a@ims.example>;tag=1\r\nCall-ID: c1\r\n"
                         "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", top, pad, low);
    assert_true(n < cap);
    assert_int_equal(osip_message_init(&o), 0);
    whole_ok = osip_message_parse(o, buf, n) == 0;
    rc = sip_msg_parse(buf, n, NULL, MAX, &m, &reason);
    if (rc == SIP_PARSE_OK) {
        if (!whole_ok)
            fail_msg("accepted what libosip2 refuses: top [%s] low [%s]", top, low);
        assert_int_equal(osip_list_size(sip_msg_vias(m)), osip_list_size(&o->vias));
    } else if (whole_ok && strcmp(reason, "Malformed message") == 0) {
        fail_msg("refused what libosip2 accepts: top [%s] low [%s]", top, low);
    }
    sip_msg_free(m);
    osip_message_free(o);
    free(pad);
    free(buf);
}

static void test_as_before(void **state)
{
    static const char *const tops[] = {
        VIA_P, "", ", " VIA_S, "SIP/2.0/UDP h;x=\"foo", VIA_P ", " VIA_S " (foo",
        VIA_P ", " VIA_S ";x=\"a,b\" (c,d), " VIA_UE, VIA_P " ," VIA_S ",",
        VIA_P ", SIP/2.0/UDP\th.example", "SIP/2.0/UDP \th;branch=x",
    };
    static const char *const lows[] = {
        VIA_UE, "SIP/2.0/UDP", "garbage", "SIP/2.0/UDP ;branch=x", "UDP 10.0.0.1", "",
        "SIP/2.0 /UDP 10.0.0.1", "SIP/2.0/UDP 10.0.0.1:abc", "SIP/2.0/UDP 10.0.0.1;branch",
        "SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKx", VIA_S ", garbage",
        "SIP/2.0/UDP h;;", "SIP/2.0/UDP h:", "SIP/2.0/UDP h;=x", "SIP/2.0/UDP [::1",
        "SIP/2.0/UDP h ()", "SIP/2.0/UDP h;x=\"foo", VIA_S " (foo", VIA_S ";x=\"a,b\"",
        "SIP/2.0/UDP h:123456", "SIP/2.0/UDP h;a=b;c", "sip/2.0/tls h.example:5061;rport",
        "SIP/2.0/UDP\th.example;branch=x", "\t" VIA_UE "\t",
    };
    static const size_t fillers[] = { 1, 3000, 5000 };

    (void)state;
    for (size_t t = 0; t < sizeof(tops) / sizeof(tops[0]); t++)
        for (size_t l = 0; l < sizeof(lows) / sizeof(lows[0]); l++)
            for (size_t f = 0; f < sizeof(fillers) / sizeof(fillers[0]); f++)
                as_before(tops[t], lows[l], fillers[f]);
}

/* What libosip2 refused is still refused: a malformed lower Via gets 400. */
static void test_bad_lower_via_refused(void **state)
{
    static const char bad[] =
        "INVITE sip:b@x SIP/2.0\r\nVia: " VIA_P "\r\nVia: garbage\r\n"
        "To: <sip:b@x>\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: g\r\n"
        "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

    (void)state;
    assert_null(parse(bad, sizeof(bad) - 1, SIP_PARSE_BAD));
}

/* A folded Via line: libosip2 parses the message whole, as before. */
static void test_folded_via_parsed_whole(void **state)
{
    static const char folded[] =
        "SIP/2.0 200 OK\r\n"
        "Via: " VIA_P "\r\n"
        "Via: SIP/2.0/UDP 127.0.1.30:5060\r\n"
        " ;branch=z9hG4bKfold\r\n"
        "To: <sip:bob@ims.example>;tag=b1\r\nFrom: <sip:alice@ims.example>;tag=a1\r\n"
        "Call-ID: fold@ims.example\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    sip_msg_t *m = parse(folded, sizeof(folded) - 1, SIP_PARSE_OK);

    (void)state;
    assert_int_equal(osip_list_size(&m->m->vias), 2);
    sip_msg_pop_via(m);
    assert_string_equal(sip_msg_via_branch(sip_msg_top_via(m)), "z9hG4bKfold");
    sip_msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_keeps_lower_vias),
        cmocka_unit_test(test_response_pop_brings_next_up),
        cmocka_unit_test(test_as_before),
        cmocka_unit_test(test_bad_lower_via_refused),
        cmocka_unit_test(test_folded_via_parsed_whole),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
