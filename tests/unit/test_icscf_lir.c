/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The I-CSCF's terminating decisions without sockets: which requests get an
 * LIR and for which identity (initial non-REGISTER requests for a user of the
 * home domain or a tel: URI; in-dialog, routed and foreign ones declined),
 * the SIP response for each LIA result (TS 24.229 §5.3.2.1: 404 unknown, 480
 * not registered) and the S-CSCF an LIA leads to (the UAA's selection rules,
 * reached through icscf_select_by). The daemon path itself, with ims-hss and
 * sipp, is tests/integration/icscf_lir.sh.
 *
 * The icscf/ pure sources are compiled into this program (the daemon is an
 * executable, not a library).
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
#include "icscf/lir-info.c"
#include "icscf/reg-info.c"
#include "icscf/scscf-select.c"

/* ---- which requests, which identity ---- */

/* A request: method, Request-URI, extra header lines (each ending CRLF). */
static sip_msg_t *request(const char *method, const char *ruri, const char *head)
{
    char buf[4096];
    sip_msg_t *m = NULL;
    const char *reason = NULL;
    int n = snprintf(buf, sizeof(buf),
                     "%s %s SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKt1\r\n"
                     "Max-Forwards: 69\r\n"
                     "From: <sip:caller@ims.test>;tag=f1\r\n"
                     "Call-ID: t1@10.0.0.1\r\n"
                     "CSeq: 1 %s\r\n"
                     "%sContent-Length: 0\r\n\r\n",
                     method, ruri, method, head);

    assert_true(n > 0 && (size_t)n < sizeof(buf));
    assert_int_equal(sip_msg_parse(buf, (size_t)n, NULL, 65535, &m, &reason), SIP_PARSE_OK);
    return m;
}

/* icscf_lir_fields on method/ruri with a To header (to_tag NULL: none); want
 * the return code and, for IMS_OK, the identity. */
static void lir_is(const char *method, const char *ruri, const char *to_tag, const char *extra,
                   int want, const char *impu)
{
    char head[1024];
    cx_lir_t r;
    sip_msg_t *m;
    int rc;

    snprintf(head, sizeof(head), "To: <sip:callee@ims.test>%s%s\r\n%s", to_tag ? ";tag=" : "",
             to_tag ? to_tag : "", extra ? extra : "");
    m = request(method, ruri, head);
    memset(&r, 0x55, sizeof(r));
    rc = icscf_lir_fields(m, "ims.test", &r);
    sip_msg_free(m);
    if (rc != want)
        fail_msg("%s %s: rc %d, want %d", method, ruri, rc, want);
    if (want == IMS_OK) {
        assert_string_equal(r.impu, impu);
        assert_false(r.originating);
        assert_int_equal(r.auth_type, 0);
    }
}

static void test_initial_requests(void **state)
{
    (void)state;
    lir_is("INVITE", "sip:alice@ims.test", NULL, NULL, IMS_OK, "sip:alice@ims.test");
    lir_is("MESSAGE", "sip:alice@ims.test", NULL, NULL, IMS_OK, "sip:alice@ims.test");
    lir_is("SUBSCRIBE", "sip:alice@ims.test", NULL, NULL, IMS_OK, "sip:alice@ims.test");
    lir_is("OPTIONS", "sip:alice@ims.test", NULL, NULL, IMS_OK, "sip:alice@ims.test");
    lir_is("INFO", "sip:alice@ims.test", NULL, NULL, IMS_OK, "sip:alice@ims.test");
    /* port, parameters, headers dropped; host case folded; sips looked up as sip */
    lir_is("INVITE", "sip:alice@IMS.Test:5070;transport=tcp;user=phone?Subject=x", NULL, NULL,
           IMS_OK, "sip:alice@ims.test");
    lir_is("INVITE", "sips:alice@ims.test", NULL, NULL, IMS_OK, "sip:alice@ims.test");
    /* the user part as written (no normalisation of numbers here) */
    lir_is("INVITE", "sip:+15550000001@ims.test;user=phone", NULL, NULL, IMS_OK,
           "sip:+15550000001@ims.test");
    /* a tel: URI is looked up as written, without its parameters, whatever the domain */
    lir_is("INVITE", "tel:+15550000001", NULL, NULL, IMS_OK, "tel:+15550000001");
    lir_is("MESSAGE", "tel:+15550000001;phone-context=ims.test", NULL, NULL, IMS_OK,
           "tel:+15550000001");
    /* our own Route entries were removed before: a Route-less request is ours */
    lir_is("INVITE", "sip:alice@ims.test", NULL, "Record-Route: <sip:10.0.0.1;lr>\r\n", IMS_OK,
           "sip:alice@ims.test");
}

static void test_not_ours(void **state)
{
    (void)state;
    /* REGISTER has its own procedure; ACK and CANCEL belong to the core */
    lir_is("REGISTER", "sip:ims.test", NULL, NULL, IMS_DECLINED, NULL);
    lir_is("REGISTER", "sip:alice@ims.test", NULL, NULL, IMS_DECLINED, NULL);
    lir_is("ACK", "sip:alice@ims.test", NULL, NULL, IMS_DECLINED, NULL);
    lir_is("CANCEL", "sip:alice@ims.test", NULL, NULL, IMS_DECLINED, NULL);
    /* in-dialog: the route set is fixed */
    lir_is("BYE", "sip:alice@ims.test", "t2", NULL, IMS_DECLINED, NULL);
    lir_is("INVITE", "sip:alice@ims.test", "t2", NULL, IMS_DECLINED, NULL);
    lir_is("UPDATE", "sip:alice@10.0.0.9:5060", "t2", NULL, IMS_DECLINED, NULL);
    /* a path set by the sender */
    lir_is("INVITE", "sip:alice@ims.test", NULL, "Route: <sip:as.ims.test;lr>\r\n", IMS_DECLINED,
           NULL);
    /* not a user of the home domain */
    lir_is("INVITE", "sip:alice@other.test", NULL, NULL, IMS_DECLINED, NULL);
    lir_is("INVITE", "sip:alice@sub.ims.test", NULL, NULL, IMS_DECLINED, NULL);
    lir_is("OPTIONS", "sip:ims.test", NULL, NULL, IMS_DECLINED, NULL);
    lir_is("OPTIONS", "sip:icscf.ims.test:5060", NULL, NULL, IMS_DECLINED, NULL);
    lir_is("INVITE", "sip:alice@10.0.0.9", NULL, NULL, IMS_DECLINED, NULL);
}

static void test_unusable(void **state)
{
    char ruri[512];

    (void)state;
    /* ours, but longer than a Cx identity: answered 404 without an LIR */
    snprintf(ruri, sizeof(ruri), "sip:%0300d@ims.test", 0);
    lir_is("INVITE", ruri, NULL, NULL, IMS_ERROR, NULL);
    snprintf(ruri, sizeof(ruri), "tel:+%0300d", 0);
    lir_is("MESSAGE", ruri, NULL, NULL, IMS_ERROR, NULL);
    /* the longest that fits */
    snprintf(ruri, sizeof(ruri), "sip:%0*d@ims.test", CX_STR - 1 - 13, 0);
    lir_is("INVITE", ruri, NULL, NULL, IMS_OK, ruri);
    snprintf(ruri, sizeof(ruri), "sip:%0*d@ims.test", CX_STR - 13, 0);
    lir_is("INVITE", ruri, NULL, NULL, IMS_ERROR, NULL);
}

/* ---- LIA result -> SIP ---- */

static void lia_verdict_is(uint32_t code, bool exp, bool forward, int sip)
{
    icscf_verdict_t v = icscf_lia_verdict((cx_result_t){ code, exp });

    if (v.forward != forward || (!forward && v.code != sip))
        fail_msg("LIA %u%s: forward %d code %d, want forward %d code %d", code, exp ? " (exp)" : "",
                 v.forward, v.code, forward, sip);
    if (!forward)
        assert_non_null(v.reason);
}

static void test_lia_verdicts(void **state)
{
    (void)state;
    lia_verdict_is(2001, false, true, 0);                               /* Server-Name or caps */
    lia_verdict_is(CX_UNREGISTERED_SERVICE, true, true, 0);             /* 2003 */
    lia_verdict_is(CX_ERROR_USER_UNKNOWN, true, false, 404);            /* 5001 */
    lia_verdict_is(CX_ERROR_IDENTITY_NOT_REGISTERED, true, false, 480); /* 5003 */
    lia_verdict_is(3002, false, false, 480); /* DIAMETER_UNABLE_TO_DELIVER */
    lia_verdict_is(3004, false, false, 480); /* DIAMETER_TOO_BUSY */
    lia_verdict_is(4001, false, false, 480);
    lia_verdict_is(5012, false, false, 500); /* DIAMETER_UNABLE_TO_COMPLY */
    lia_verdict_is(5003, false, false, 500); /* base AUTHORIZATION_REJECTED: not an LIA's */
    lia_verdict_is(5005, false, false, 500);
    /* registration results are no answer to an LIR */
    lia_verdict_is(CX_FIRST_REGISTRATION, true, false, 500);
    lia_verdict_is(CX_SUBSEQUENT_REGISTRATION, true, false, 500);
    lia_verdict_is(CX_ERROR_ROAMING_NOT_ALLOWED, true, false, 500);
    lia_verdict_is(0, false, false, 500);
    /* the UAA mapping is unchanged by the LIA one: 5001 there is 403 */
    assert_int_equal(icscf_uaa_verdict((cx_result_t){ CX_ERROR_USER_UNKNOWN, true }).code, 403);
}

/* ---- which S-CSCF an LIA leads to ---- */

static const icscf_scscf_t list[] = {
    { "sip:s1.ims.test", { 1 }, 1 },
    { "sip:s2.ims.test", { 1, 2 }, 2 },
    { "sip:s3.ims.test", { 3 }, 1 },
};

static void test_lia_server_name(void **state)
{
    cx_lia_t a = { 0 };
    const char *out[ICSCF_MAX_CANDIDATES];

    (void)state;
    snprintf(a.server_name, sizeof(a.server_name), "sip:named.ims.test:5070");
    a.has_caps = true; /* ignored beside a name */
    a.caps.mandatory[a.caps.nmandatory++] = 1;
    assert_int_equal(icscf_select_by(a.server_name, &a.caps, list, 3, "sip:def.ims.test", out,
                                     ICSCF_MAX_CANDIDATES),
                     1);
    assert_string_equal(out[0], "sip:named.ims.test:5070");
}

static void test_lia_capabilities(void **state)
{
    cx_lia_t a = { 0 };
    const char *out[ICSCF_MAX_CANDIDATES];
    int n;

    (void)state;
    /* UNREGISTERED_SERVICE without a name: mandatory 1, optional 2 -> s2, then s1 */
    a.result = (cx_result_t){ CX_UNREGISTERED_SERVICE, true };
    a.has_caps = true;
    a.caps.mandatory[a.caps.nmandatory++] = 1;
    a.caps.optional[a.caps.noptional++] = 2;
    n = icscf_select_by(a.server_name, &a.caps, list, 3, "sip:def.ims.test", out, 4);
    assert_int_equal(n, 2);
    assert_string_equal(out[0], "sip:s2.ims.test");
    assert_string_equal(out[1], "sip:s1.ims.test");
    /* names the HSS lists in the capabilities come first */
    snprintf(a.caps.server_name[0], CX_STR, "sip:hss-pick.ims.test");
    a.caps.nserver_names = 1;
    n = icscf_select_by(a.server_name, &a.caps, list, 3, "sip:def.ims.test", out, 4);
    assert_int_equal(n, 3);
    assert_string_equal(out[0], "sip:hss-pick.ims.test");
    /* nothing qualifies: the default */
    a.caps.nserver_names = 0;
    a.caps.mandatory[0] = 9;
    n = icscf_select_by(a.server_name, &a.caps, list, 3, "sip:def.ims.test", out, 4);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "sip:def.ims.test");
    /* and without a default either: nothing (the request gets 500) */
    assert_int_equal(icscf_select_by(a.server_name, &a.caps, list, 3, NULL, out, 4), 0);
}

static void test_lia_neither(void **state)
{
    const char *out[ICSCF_MAX_CANDIDATES];
    cx_uaa_t u = { 0 };
    const char *uout[ICSCF_MAX_CANDIDATES];
    int n, un;

    (void)state;
    /* success with neither (an HSS that names nobody): default first, then the list */
    n = icscf_select_by("", NULL, list, 3, "sip:def.ims.test", out, ICSCF_MAX_CANDIDATES);
    assert_int_equal(n, 4);
    assert_string_equal(out[0], "sip:def.ims.test");
    assert_string_equal(out[3], "sip:s3.ims.test");
    assert_int_equal(icscf_select_by(NULL, NULL, list, 0, NULL, out, 4), 0);
    /* the UAA entry point gives the same order for the same answer */
    un = icscf_select(&u, list, 3, "sip:def.ims.test", uout, ICSCF_MAX_CANDIDATES);
    assert_int_equal(un, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(uout[i], out[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_requests), cmocka_unit_test(test_not_ours),
        cmocka_unit_test(test_unusable),         cmocka_unit_test(test_lia_verdicts),
        cmocka_unit_test(test_lia_server_name),  cmocka_unit_test(test_lia_capabilities),
        cmocka_unit_test(test_lia_neither),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
