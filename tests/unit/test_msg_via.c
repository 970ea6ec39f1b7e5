/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Vias under the top one kept as text (common/sip/msg_via.c): only the
 * top one is parsed, the others reach the wire again in order, whole, after
 * a Via pushed or popped, in a response built from the request, in a clone;
 * after a pop the next one is parsed when asked for; anything but a plain
 * Via value (malformed, quoted, commented) or a folded Via line makes the
 * message parse whole, with libosip2's verdict as before.
 *
 * The Record-Routes likewise, all of them, when every one is a plain
 * name-addr: the verdict, the count and the values are libosip2's on the
 * whole text, and one pushed on top by a proxy stays above them.
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

/* The values of text's lines named name (e.g. "Via"), in order, as "v1|v2|...". */
static void lines_in(const char *text, const char *name, char *out, size_t cap)
{
    char head[32];
    size_t n = 0, hl = (size_t)snprintf(head, sizeof(head), "\r\n%s: ", name);
    const char *p = text;

    out[0] = '\0';
    while ((p = strstr(p, head)) != NULL) {
        const char *e = strstr(p + hl, "\r\n");

        n += (size_t)snprintf(out + n, cap - n, "%s%.*s", n ? "|" : "", (int)(e - p - hl),
                              p + hl);
        p = e;
    }
}

static void assert_vias(const sip_msg_t *m, const char *want)
{
    char got[1024], *t = text_of(m);

    lines_in(t, "Via", got, sizeof(got));
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

/* n filler bytes, NUL-terminated (free it). */
static char *pad_of(size_t n)
{
    char *pad = malloc(n + 1);

    assert_non_null(pad);
    memset(pad, 'x', n);
    pad[n] = '\0';
    return pad;
}

/* A request with Via lines top and low, filler bytes of another header
 * between them: our verdict must be libosip2's on the whole text (a refusal
 * of ours that libosip2 accepts must come from our own checks, not from
 * libosip2), and what we accept must hold the same Vias. */
static void as_before(const char *top, const char *low, size_t filler)
{
    size_t cap = filler + 1024, n;
    char *buf = malloc(cap), *pad = pad_of(filler);
    const char *reason = NULL;
    osip_message_t *o;
    sip_msg_t *m = NULL;
    sip_parse_rc_t rc;
    bool whole_ok;

    assert_non_null(buf);
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

/* The values of a Record-Route list as libosip2 prints them, "v1|v2|...";
 * "?" for one it cannot print (then it must fail on both sides). */
static void rr_strs(const osip_list_t *l, char *out, size_t cap)
{
    osip_record_route_t *r;
    char *s;
    size_t n = 0;

    out[0] = '\0';
    for (int i = 0; (r = osip_list_get(l, i)) != NULL; i++) {
        s = NULL;
        if (osip_record_route_to_str(r, &s) != 0)
            s = NULL;
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "|" : "", s ? s : "?");
        osip_free(s);
        assert_true(n < cap);
    }
}

/* The Record-Routes kept as text among the generic headers. */
static int kept_rrs(const osip_message_t *m)
{
    osip_header_t *h;
    int n = 0;

    for (int i = 0; (h = osip_list_get(&m->headers, i)) != NULL; i++)
        n += h->hname && osip_strcasecmp(h->hname, "Record-Route") == 0;
    return n;
}

/* One generated message: a request or a response, a Record-Route line of
 * top and one of low (NULL: none) at places that differ with the kind,
 * filler bytes of another header, and between them lines other
 * Record-Route lines of per_line plain values each (past 16 lines or 32
 * values the message is parsed whole). */
typedef struct rr_case {
    bool response;
    const char *top, *low;
    size_t filler, lines, per_line;
} rr_case_t;

/* The extra lines: plain values, named by line and place. */
static size_t rr_lines(char *out, size_t cap, size_t lines, size_t per_line)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t l = 0; l < lines; l++) {
        n += (size_t)snprintf(out + n, cap - n, "Record-Route: ");
        for (size_t v = 0; v < per_line; v++)
            n += (size_t)snprintf(out + n, cap - n, "%s<sip:rr%zu-%zu.ims.example;lr>",
                                  v ? ", " : "", l, v);
        n += (size_t)snprintf(out + n, cap - n, "\r\n");
    }
    return n;
}

/* The line of name (its colon included) and value, or none for NULL. */
static const char *rr_line(char *out, size_t cap, const char *name, const char *value)
{
    if (!value)
        return "";
    snprintf(out, cap, "%s%s\r\n", name, value);
    return out;
}

/* A request with both Via lines plain (Via and Record-Route lines cut
 * together); a response with a quoted lower Via (the Vias parsed whole,
 * the Record-Routes cut alone), its names spelt otherwise. */
static size_t rr_build(const rr_case_t *c, char *buf, size_t cap, const char *pad,
                       const char *extra)
{
    char top[512], low[512];

    if (!c->response)
        return (size_t)snprintf(
            buf, cap,
            "INVITE sip:bob@ims.example SIP/2.0\r\nVia: %s\r\n%sMax-Forwards: 70\r\n"
            "X-Pad: %s\r\nVia: %s\r\n%sTo: <sip:bob@ims.example>\r\n"
            "From: <sip:a@ims.example>;tag=1\r\nCall-ID: rr1\r\nCSeq: 1 INVITE\r\n"
            "Content-Length: 0\r\n%s\r\n",
            VIA_P, rr_line(top, sizeof(top), "Record-Route: ", c->top), pad, VIA_S, extra,
            rr_line(low, sizeof(low), "Record-Route: ", c->low));
    return (size_t)snprintf(
        buf, cap,
        "SIP/2.0 200 OK\r\n%sVia: %s\r\nVia: %s;x=\"a,b\"\r\nX-Pad: %s\r\n"
        "To: <sip:bob@ims.example>;tag=b\r\n%s%sFrom: <sip:a@ims.example>;tag=1\r\n"
        "Call-ID: rr1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        rr_line(top, sizeof(top), "Record-Route :", c->top), VIA_P, VIA_S, pad, extra,
        rr_line(low, sizeof(low), "record-route:", c->low));
}

/* What we accept holds libosip2's Vias and Record-Routes, in order, and
 * once parsed none is left kept (one that did not parse would stay). */
static void rr_same(const sip_msg_t *m, const osip_message_t *o, const rr_case_t *c)
{
    static char ours[8192], theirs[8192];
    const char *top = c->top ? c->top : "-", *low = c->low ? c->low : "-";

    assert_int_equal(osip_list_size(sip_msg_vias(m)), osip_list_size(&o->vias));
    if (osip_list_size(sip_msg_record_routes(m)) != osip_list_size(&o->record_routes))
        fail_msg("%d Record-Routes, libosip2 %d: top [%s] low [%s]",
                 osip_list_size(&m->m->record_routes), osip_list_size(&o->record_routes), top,
                 low);
    if (kept_rrs(m->m) != 0)
        fail_msg("a Record-Route left kept: top [%s] low [%s]", top, low);
    rr_strs(&m->m->record_routes, ours, sizeof(ours));
    rr_strs(&o->record_routes, theirs, sizeof(theirs));
    if (strcmp(ours, theirs) != 0)
        fail_msg("Record-Routes [%s], libosip2 [%s]: top [%s] low [%s]", ours, theirs, top, low);
}

/* Our verdict on the message is libosip2's on the whole text, as in
 * as_before; what we accept holds the same Record-Routes. Returns 0 when
 * refused, else 1, 2 when Record-Routes were kept (to count the cases). */
static int rr_as_before(const rr_case_t *c)
{
    size_t xcap = c->lines * c->per_line * 40 + c->lines * 20 + 1;
    size_t cap = c->filler + xcap + 2048, n;
    char *buf = malloc(cap), *pad = pad_of(c->filler), *extra = malloc(xcap);
    const char *reason = NULL;
    osip_message_t *o;
    sip_msg_t *m = NULL;
    bool whole_ok;
    int ok;

    assert_non_null(buf);
    assert_non_null(extra);
    assert_true(rr_lines(extra, xcap, c->lines, c->per_line) < xcap);
    n = rr_build(c, buf, cap, pad, extra);
    assert_true(n < cap);
    assert_int_equal(osip_message_init(&o), 0);
    whole_ok = osip_message_parse(o, buf, n) == 0;
    ok = sip_msg_parse(buf, n, NULL, MAX, &m, &reason) == SIP_PARSE_OK;
    if (ok) {
        ok += kept_rrs(m->m) > 0;
        if (!whole_ok)
            fail_msg("accepted what libosip2 refuses: top [%s] low [%s]",
                     c->top ? c->top : "-", c->low ? c->low : "-");
        rr_same(m, o, c);
    } else if (whole_ok && strcmp(reason, "Malformed message") == 0) {
        fail_msg("refused what libosip2 accepts: top [%s] low [%s]", c->top ? c->top : "-",
                 c->low ? c->low : "-");
    }
    sip_msg_free(m);
    osip_message_free(o);
    free(extra);
    free(pad);
    free(buf);
    return ok;
}

#define RR_V4 "<sip:127.0.1.10:5060;lr>"
#define RR_V6 "<sip:[2001:db8::1]:5060;lr>"
#define RR_USER "<sips:scscf@scscf.ims.example;transport=tcp;lr>;x-hdr=1;flag"

static void test_rr_as_before(void **state)
{
    static const char *const tops[] = {
        NULL, RR_V4, RR_V6, RR_USER, RR_V4 ", " RR_V6 "," RR_USER, "\t<sip:ab;lr>  ", "",
        "<sip:a>", "\"P-CSCF\" <sip:pcscf.ims.example;lr>", "<sip:h.example;lr> (c)",
        "sip:h.example;lr", RR_V4 ",," RR_V6,
    };
    static const char *const lows[] = {
        NULL, RR_V4, RR_V6, RR_USER, RR_V6 " , " RR_V4, "<sip:pcscf.ims.example;transport=tcp>",
        "<sip:u@[::1]>;a=b;c", "", " ", "<sip:a>", "<sip:1>", "<sip:u@a>", "<sip:a:5060>",
        "<sip:ab>", "<sip:host.example;lr", "<sip:host .example>", "<sip:h.example;x=\"a\">",
        "<sip:h.example>;x=\"a,b\"", "<sip:h.example;;lr>", "<sip:h.example:>", "<sip:[::1>",
        "<sip:[::1]>", "<sip:[]>", "<sip:[1]>", "<SIP:host.example>", "<tel:+123>",
        "Proxy <sip:p.example;lr>", "sip:p.example;lr", "<sip:a.example>,,<sip:b.example>",
        "<sip:a.example>,", ", <sip:a.example>", "<sip:a.example>;", "<sip:a.example>;x=",
        "<sip:a.example>;=x", "<sip:a.example>x", "<sip:a.example><sip:b.example>",
        "<sip:@host.example>", "<sip:u:pw@host.example>", "<sip:h.example:123456>",
        "<sip:h.example:5060x>", "<sip:h.example?x=y>", "<sip:h.example;lr=>",
        "<sip:h.example;=x>", "<sip:a%41b@h.example;x=%41>", "<sip:b%zz@h.example>",
        "< sip:h.example>", "<sip:h.example >", "<sip:h.example> ;lr", "<sip:sip:h.example>",
        "<sip:h.example:1:2>", "<>", "<sip:>", "<sip:h.example;lr>\r\n ;x=1",
        RR_V4 ",\r\n " RR_V6, "<sip:h.example;lr> (c)", "<sip:h_x-y.example:0;a!b=c'd>;e~=f",
    };
    /* Filler bytes around the 4096 a cut message is built in on the stack;
     * extra lines below and past 16 lines, below and past 32 values. */
    static const size_t sizes[][3] = {
        { 1, 0, 0 }, { 3000, 0, 0 }, { 5000, 0, 0 }, { 1, 14, 2 }, { 5000, 14, 2 },
        { 1, 15, 1 }, { 1, 3, 10 },
    };
    size_t cases = 0, accepted = 0, kept = 0;
    int ok;

    (void)state;
    for (size_t k = 0; k < 2; k++)
        for (size_t t = 0; t < sizeof(tops) / sizeof(tops[0]); t++)
            for (size_t l = 0; l < sizeof(lows) / sizeof(lows[0]); l++)
                for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
                    rr_case_t c = { k == 1, tops[t], lows[l], sizes[s][0], sizes[s][1],
                                    sizes[s][2] };

                    ok = rr_as_before(&c);
                    accepted += ok > 0;
                    kept += ok > 1;
                    cases++;
                }
    print_message("rr_as_before: %zu messages, %zu accepted, %zu with Record-Routes kept\n",
                  cases, accepted, kept);
}

#define RR_1 "<sip:rr1.ims.example;lr>"
#define RR_2 "<sip:rr2.ims.example:5060;transport=tcp;lr>"
#define RR_3 "<sips:[2001:db8::3]:5061;lr>;x=1"
#define RR_PUSHED "<sip:pushed.ims.example;lr>"

/* A proxy pushes its Record-Route on top of three kept ones: printed
 * first, the others under it in their received order, in a clone too.
 * Their lines interleave with kept Via lines: both are cut. */
static void test_rr_order_kept(void **state)
{
    static const char req[] =
        "INVITE sip:bob@ims.example SIP/2.0\r\n"
        "Via: " VIA_P "\r\n"
        "Record-Route: " RR_1 "\r\n"
        "Via: " VIA_UE "\r\n"
        "Max-Forwards: 70\r\n"
        "Record-Route: " RR_2 ", " RR_3 "\r\n"
        "To: <sip:bob@ims.example>\r\nFrom: <sip:alice@ims.example>;tag=a1\r\n"
        "Call-ID: rr-order@ims.example\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    static const char want[] = RR_PUSHED "|" RR_1 "|" RR_2 "|" RR_3;
    sip_msg_t *m = parse(req, sizeof(req) - 1, SIP_PARSE_OK), *c;
    osip_record_route_t *r = NULL;
    char got[1024], *a, *b;

    (void)state;
    /* Kept: none of them parsed yet, nor the lower Via. */
    assert_int_equal(osip_list_size(&m->m->record_routes), 0);
    assert_int_equal(osip_list_size(&m->m->vias), 1);
    assert_int_equal(osip_record_route_init(&r), 0);
    assert_int_equal(osip_record_route_parse(r, RR_PUSHED), 0);
    assert_true(osip_list_add(&m->m->record_routes, r, 0) >= 0);
    sip_msg_mark_edited(m);
    a = text_of(m);
    lines_in(a, "Record-Route", got, sizeof(got));
    assert_string_equal(got, want);
    assert_vias(m, VIA_P "|" VIA_UE);
    c = sip_msg_clone(m);
    assert_non_null(c);
    b = text_of(c);
    assert_string_equal(b, a);
    osip_free(b);
    /* Parsed on demand: below the pushed one, in order. */
    assert_int_equal(osip_list_size(sip_msg_record_routes(c)), 4);
    rr_strs(&c->m->record_routes, got, sizeof(got));
    assert_string_equal(got, want);
    assert_int_equal(kept_rrs(c->m), 0);
    b = text_of(c);
    assert_string_equal(b, a);
    osip_free(b);
    osip_free(a);
    sip_msg_free(c);
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
        cmocka_unit_test(test_rr_as_before),
        cmocka_unit_test(test_rr_order_kept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
