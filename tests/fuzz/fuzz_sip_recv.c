/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the SIP receive path, as a UDP transport runs it:
 * sip_msg_parse; on BAD the raw 400; on OK every accessor, serialisation, a
 * re-parse of the serialised text, a clone, for requests the 400 and 200
 * responses, for responses a proxy's relay (pop the top Via, print, the next
 * one parsed on demand, all Vias and Record-Routes parsed), for requests a
 * proxy's forward (printed over the request, and on a copy). Everything is
 * freed (LeakSanitizer is on).
 *
 * Invariants checked (abort() so libFuzzer records a crash):
 * - a failed parse (BAD or DROP) always gives a reason and no message;
 * - a raw 400 is text (no NUL before its stated length) and starts "SIP/2.0 400";
 * - a message we accepted serialises, and when the text parses back it has the
 *   same Call-ID, CSeq and kind (request/response);
 * - our verdict is libosip2's on the whole text, though we hand it the
 *   message without its lower Vias and its Record-Routes (msg_via.c), and
 *   we hold as many Vias, and the same Record-Routes once parsed
 *   (sip_msg_record_routes: as many, each printed alike);
 * - a forwarded request printed over the received one (sip_msg_print_over)
 *   has the bytes of the same changes made on a copy and printed, or both fail;
 * - our printer (sip_msg_print) gives libosip2's bytes exactly whenever both
 *   print and libosip2 prints the Content-Type (where it cannot, it writes a
 *   broken header and we print a sound one: see test_msg_print), the Vias
 *   and Record-Routes kept as text parsed first (sip_msg_kept_parse_all):
 *   libosip2 would print them among the generic headers.
 *
 * That an accepted message serialises at all, and that the text parses again,
 * is only checked with IMS_FUZZ_STRICT=1 in the environment: libosip2 itself
 * fails both on some inputs it accepts ("Accept: a/b;q" does not serialise;
 * "<sip:a?x>" is written as "<sip:a>", which it then refuses: a one-character
 * host inside angle brackets), so the default run would stop on its quirks.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/msg.h"
#include "common/sip/msg_int.h"

#define FUZZ_MAX_SIZE 65535

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sip_rcv_t g_rcv;
static bool g_strict;

static void fuzz_init(void)
{
    static bool done;

    if (done)
        return;
    done = true;
    sip_msg_global_init();
    /* Keep the log formatting in the path but off the fuzzer's output. */
    ims_log_init("fuzz", IMS_LOG_DEBUG, fopen("/dev/null", "w"));
    g_strict = getenv("IMS_FUZZ_STRICT") != NULL && strcmp(getenv("IMS_FUZZ_STRICT"), "1") == 0;
    memset(&g_rcv, 0, sizeof(g_rcv));
    g_rcv.proto = SIP_PROTO_UDP;
    if (sip_addr_from(&g_rcv.local, "127.0.0.1", 5060) != IMS_OK ||
        sip_addr_from(&g_rcv.remote, "127.0.0.1", 5070) != IMS_OK)
        abort();
}

/* Touch every byte of a string so ASan sees a bad pointer or a missing NUL. */
static size_t touch(const char *s)
{
    return s ? strlen(s) : 0;
}

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_sip_recv: invariant failed: %s\n", what);
        abort();
    }
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void exercise_accessors(const sip_msg_t *msg)
{
    osip_via_t *via;
    char sent_by[300];
    size_t n = 0;

    if (sip_msg_is_request(msg))
        n += touch(sip_msg_method(msg));
    else
        n += (size_t)sip_msg_status(msg);
    n += touch(sip_msg_call_id(msg));
    n += touch(sip_msg_cseq_method(msg));
    n += sip_msg_cseq_num(msg);
    via = sip_msg_top_via(msg);
    if (via) {
        n += touch(sip_msg_via_branch(via));
        n += touch(sip_msg_via_sent_by(via, sent_by, sizeof(sent_by)));
        /* A buffer too small must fail cleanly, not overflow. */
        n += touch(sip_msg_via_sent_by(via, sent_by, 4));
    }
    n += touch(sip_msg_to_tag(msg));
    n += touch(sip_msg_from_tag(msg));
    n += touch(sip_msg_header(msg, "P-Asserted-Identity"));
    n += touch(sip_msg_header(msg, "Security-Verify"));
    /* Keep the sum alive so nothing above is optimised out. */
    if (n == (size_t)-1)
        fputc('\0', stderr);
}

/* Serialise msg, parse the text back and compare the identity fields. */
static void round_trip(const sip_msg_t *msg)
{
    char *buf = NULL;
    size_t len = 0;
    sip_msg_t *again = NULL;
    const char *reason = NULL;
    sip_parse_rc_t rc;

    if (sip_msg_to_str(msg, &buf, &len) != IMS_OK) {
        check(!g_strict, "accepted message serialises");
        return;
    }
    /* A body may hold NUL bytes, so only the terminator is checked. */
    check(buf && buf[len] == '\0' && strlen(buf) <= len, "serialised length");
    rc = sip_msg_parse(buf, len, &g_rcv, FUZZ_MAX_SIZE + 4096, &again, &reason);
    if (rc != SIP_PARSE_OK) {
        if (g_strict) {
            fprintf(stderr, "re-parse failed (%s) on:\n%s\n", reason ? reason : "?", buf);
            check(false, "serialised message parses again");
        }
        osip_free(buf);
        return;
    }
    check(sip_msg_is_request(again) == sip_msg_is_request(msg), "same kind");
    check(same_str(sip_msg_call_id(again), sip_msg_call_id(msg)), "same Call-ID");
    check(sip_msg_cseq_num(again) == sip_msg_cseq_num(msg), "same CSeq number");
    check(same_str(sip_msg_cseq_method(again), sip_msg_cseq_method(msg)), "same CSeq method");
    sip_msg_free(again);
    osip_free(buf);
}

static void respond(const sip_msg_t *req, int code, const char *to_tag)
{
    sip_msg_t *resp = sip_msg_make_response(req, code, NULL, to_tag);
    char *buf = NULL;
    size_t len = 0;

    if (!resp)
        return;
    check(!sip_msg_is_request(resp) && sip_msg_status(resp) == code, "response code");
    check(same_str(sip_msg_call_id(resp), sip_msg_call_id(req)), "response Call-ID");
    if (sip_msg_to_str(resp, &buf, &len) == IMS_OK)
        osip_free(buf);
    sip_msg_free(resp);
}

/* A proxy's use of a response: pop the top Via, print what is left, look
 * at the new top one, parse all the Vias and Record-Routes, print again as
 * edited. */
static void relay(const sip_msg_t *msg)
{
    sip_msg_t *r = sip_msg_clone(msg);
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    osip_list_t *vias, *rrs;
    osip_via_t *v;
    osip_record_route_t *rr;

    if (!r)
        return;
    sip_msg_pop_via(r);
    if (sip_msg_to_str(r, &a, &alen) == IMS_OK)
        check(a[alen] == '\0' && strlen(a) <= alen, "relayed text terminated");
    if ((v = sip_msg_top_via(r)) != NULL)
        touch(sip_msg_via_branch(v));
    vias = sip_msg_vias(r);
    for (int i = 0; (v = osip_list_get(vias, i)) != NULL; i++)
        touch(v->host);
    /* The P-CSCF reads a 2xx's Record-Routes for the dialog's route set. */
    rrs = sip_msg_record_routes(r);
    for (int i = 0; (rr = osip_list_get(rrs, i)) != NULL; i++)
        touch(rr->url ? rr->url->host : NULL);
    sip_msg_mark_edited(r);
    if (sip_msg_to_str(r, &b, &blen) != IMS_OK)
        check(!g_strict, "relayed message serialises");
    osip_free(a);
    osip_free(b);
    sip_msg_free(r);
}

/* A proxy's forward, both ways: our Via, two Record-Routes, a new
 * Request-URI and Max-Forwards printed over msg, and made on a copy. */
static void forward(const sip_msg_t *msg)
{
    static const char via[] = "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKf.1;rport\r\n";
    static const char rr[] = "Record-Route: <sip:192.0.2.1:5060;lr>\r\n"
                             "Record-Route: <sip:192.0.2.2:5061;transport=tls;lr>\r\n";
    sip_print_over_t o = { .via = via, .via_len = sizeof(via) - 1, .rr = rr,
                           .rr_len = sizeof(rr) - 1 };
    sip_msg_t *c;
    osip_header_t *h = NULL;
    osip_via_t *v = NULL;
    osip_record_route_t *r1 = NULL, *r2 = NULL;
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    int ra, rb;

    osip_message_get_max_forwards(msg->m, 0, (osip_header_t **)&o.mf);
    o.mf_value = o.mf ? "9" : NULL;
    if (osip_uri_init((osip_uri_t **)&o.req_uri) != 0 ||
        osip_uri_parse((osip_uri_t *)o.req_uri, "sip:+1555@example.net;user=phone") != 0)
        abort();
    ra = sip_msg_print_over(msg->m, &o, &a, &alen);
    if (ra != IMS_DECLINED && (c = sip_msg_clone(msg)) != NULL) {
        osip_uri_free(c->m->req_uri);
        c->m->req_uri = (osip_uri_t *)o.req_uri;
        o.req_uri = NULL;
        if (osip_via_init(&v) != 0 ||
            osip_via_parse(v, "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKf.1;rport") != 0 ||
            osip_record_route_init(&r1) != 0 ||
            osip_record_route_parse(r1, "<sip:192.0.2.1:5060;lr>") != 0 ||
            osip_record_route_init(&r2) != 0 ||
            osip_record_route_parse(r2, "<sip:192.0.2.2:5061;transport=tls;lr>") != 0)
            abort();
        osip_list_add(&c->m->vias, v, 0);
        osip_list_add(&c->m->record_routes, r2, 0);
        osip_list_add(&c->m->record_routes, r1, 0);
        if (osip_message_get_max_forwards(c->m, 0, &h) >= 0 && h) {
            osip_free(h->hvalue);
            h->hvalue = osip_strdup("9");
        }
        rb = sip_msg_to_str(c, &b, &blen);
        check(ra == rb, "forward printed over and on a copy: same verdict");
        check(ra != IMS_OK || (alen == blen && memcmp(a, b, alen) == 0),
              "forward printed over and on a copy: same bytes");
        sip_msg_free(c);
    }
    osip_uri_free((osip_uri_t *)o.req_uri);
    osip_free(a);
    osip_free(b);
}

static void on_ok(sip_msg_t *msg)
{
    sip_msg_t *copy;

    exercise_accessors(msg);
    round_trip(msg);
    copy = sip_msg_clone(msg);
    if (copy) {
        check(same_str(sip_msg_call_id(copy), sip_msg_call_id(msg)), "clone Call-ID");
        sip_msg_free(copy);
    }
    if (sip_msg_is_request(msg)) {
        respond(msg, 400, NULL);
        respond(msg, 200, "fuzztag");
        forward(msg);
    } else {
        relay(msg);
    }
}

static void on_bad(const uint8_t *data, size_t size, const char *reason)
{
    size_t outlen = 0;
    char *out = sip_msg_raw_400((const char *)data, size, reason, &outlen);

    if (!out)
        return;
    /* Headers only, and header lines with NUL bytes never pass the parser. */
    check(out[outlen] == '\0' && strlen(out) == outlen, "raw 400 length, no NUL inside");
    check(outlen >= 11 && memcmp(out, "SIP/2.0 400", 11) == 0, "raw 400 status line");
    free(out);
}

static bool ctype_prints(const osip_message_t *m)
{
    char *s = NULL;
    bool ok = !m->content_type || osip_content_type_to_str(m->content_type, &s) == 0;

    osip_free(s);
    return ok && osip_list_size(&m->accepts) <= 0;
}

static void same_printers(const sip_msg_t *msg)
{
    osip_message_t *c = NULL;
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;

    if (osip_message_clone(msg->m, &c) != 0 || !c)
        return;
    /* libosip2 prints the Vias and Record-Routes kept as text (msg_via.c)
     * among the other headers, ours right under the parsed ones: compare
     * them parsed. */
    if (sip_msg_kept_parse_all(c) != IMS_OK) {
        osip_message_free(c);
        return;
    }
    osip_message_force_update(c);
    if (sip_msg_print(c, &b, &blen) == IMS_OK && osip_message_to_str(c, &a, &alen) == 0 &&
        ctype_prints(c))
        check(alen == blen && memcmp(a, b, alen) == 0, "sip_msg_print gives libosip2's text");
    osip_free(a);
    osip_free(b);
    osip_message_free(c);
}

/* The Record-Routes of msg, parsed, are libosip2's of the whole text o:
 * as many, each printed alike (or unprintable on both sides). */
static bool same_rrs(const sip_msg_t *msg, const osip_message_t *o)
{
    const osip_list_t *ours = sip_msg_record_routes(msg);
    osip_record_route_t *a, *b;
    char *sa, *sb;
    bool same = osip_list_size(ours) == osip_list_size(&o->record_routes);

    for (int i = 0; same && (a = osip_list_get(ours, i)) != NULL; i++) {
        b = osip_list_get(&o->record_routes, i);
        sa = sb = NULL;
        if (osip_record_route_to_str(a, &sa) != 0)
            sa = NULL;
        if (osip_record_route_to_str(b, &sb) != 0)
            sb = NULL;
        same = same_str(sa, sb);
        osip_free(sa);
        osip_free(sb);
    }
    return same;
}

/* Lower Vias and the Record-Routes are kept as text (msg_via.c), yet the
 * verdict must be libosip2's on the whole text: what we accept it accepts,
 * with as many Vias and the same Record-Routes; a "Malformed message" of
 * ours it refuses too. */
static void same_verdict(const uint8_t *data, size_t size, sip_msg_t *msg, const char *reason)
{
    sip_precheck_t pc;
    const char *r = NULL;
    osip_message_t *o;
    bool whole;

    if (sip_msg_precheck((const char *)data, size, FUZZ_MAX_SIZE, &pc, &r) != IMS_OK ||
        osip_message_init(&o) != 0)
        return;
    whole = osip_message_parse(o, (const char *)data + pc.start, pc.len) == 0;
    if (msg) {
        check(whole, "accepted only what libosip2 accepts whole");
        check(osip_list_size(sip_msg_vias(msg)) == osip_list_size(&o->vias), "as many Vias");
        check(same_rrs(msg, o), "the same Record-Routes");
    } else if (reason && strcmp(reason, "Malformed message") == 0) {
        check(!whole, "malformed only where libosip2 refuses the whole");
    }
    osip_message_free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sip_msg_t *msg = NULL;
    const char *reason = NULL;
    sip_parse_rc_t rc;

    fuzz_init();
    rc = sip_msg_parse((const char *)data, size, &g_rcv, FUZZ_MAX_SIZE, &msg, &reason);
    switch (rc) {
    case SIP_PARSE_OK:
        check(msg != NULL, "OK gives a message");
        same_printers(msg);
        on_ok(msg);
        same_verdict(data, size, msg, NULL);
        sip_msg_free(msg);
        break;
    case SIP_PARSE_BAD:
        check(msg == NULL && reason != NULL, "BAD gives a reason, no message");
        on_bad(data, size, reason);
        same_verdict(data, size, NULL, reason);
        break;
    case SIP_PARSE_DROP:
        check(msg == NULL && reason != NULL, "DROP gives a reason, no message");
        same_verdict(data, size, NULL, reason);
        break;
    default:
        check(false, "known parse result");
    }
    return 0;
}
