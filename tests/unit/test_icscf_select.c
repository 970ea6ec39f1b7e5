/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * I-CSCF decisions without sockets: the SIP response for each UAA result
 * (TS 29.228 §6.1.1 / §5.3 of ims-reference), the S-CSCF order for Server-Name,
 * Server-Capabilities (mandatory all, optional ranked, HSS names first) and the
 * open5gs case (neither: default first), and the UAR fields read from real
 * REGISTER texts (Authorization username, IMPI derived from the IMPU,
 * P-Visited-Network-ID, de-registration by Expires / contact expires / "*").
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
#include "icscf/reg-info.c"
#include "icscf/scscf-select.c"

/* ---- UAA result -> SIP ---- */

static void verdict_is(uint32_t code, bool exp, bool forward, int sip)
{
    icscf_verdict_t v = icscf_uaa_verdict((cx_result_t){ code, exp });

    if (v.forward != forward || (!forward && v.code != sip))
        fail_msg("result %u%s: forward %d code %d, want forward %d code %d", code,
                 exp ? " (exp)" : "", v.forward, v.code, forward, sip);
    if (!forward)
        assert_non_null(v.reason);
}

static void test_verdicts(void **state)
{
    verdict_is(CX_FIRST_REGISTRATION, true, true, 0);
    verdict_is(CX_SUBSEQUENT_REGISTRATION, true, true, 0);
    verdict_is(2001, false, true, 0); /* base DIAMETER_SUCCESS */
    verdict_is(CX_ERROR_USER_UNKNOWN, true, false, 403);
    verdict_is(CX_ERROR_IDENTITIES_DONT_MATCH, true, false, 403);
    verdict_is(CX_ERROR_ROAMING_NOT_ALLOWED, true, false, 403);
    verdict_is(CX_ERROR_IDENTITY_NOT_REGISTERED, true, false, 403);
    verdict_is(5003, false, false, 403); /* AUTHORIZATION_REJECTED */
    verdict_is(5012, false, false, 500); /* UNABLE_TO_COMPLY */
    verdict_is(3002, false, false, 480); /* UNABLE_TO_DELIVER */
    verdict_is(3004, false, false, 480); /* TOO_BUSY */
    verdict_is(5004, false, false, 500); /* base INVALID_AVP_VALUE */
    verdict_is(CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED, true, false, 500);
    verdict_is(2003, true, false, 500); /* LIA-only code in a UAA */
    verdict_is(0, false, false, 500);
}

/* ---- S-CSCF order ---- */

static const icscf_scscf_t LIST[] = {
    { "sip:s1.ims.test", { 1 }, 1 },
    { "sip:s2.ims.test", { 1, 2, 3 }, 3 },
    { "sip:s3.ims.test", { 2, 3 }, 2 },
    { "sip:s4.ims.test", { 1, 3 }, 2 },
};
#define NLIST ((int)(sizeof(LIST) / sizeof(LIST[0])))

static void order_is(const char **got, int n, const char *const *want, int nwant)
{
    if (n != nwant)
        fail_msg("%d candidates, want %d (first %s)", n, nwant, n ? got[0] : "-");
    for (int i = 0; i < n; i++)
        assert_string_equal(got[i], want[i]);
}

static void test_server_name_alone(void **state)
{
    cx_uaa_t a = { .result = { CX_SUBSEQUENT_REGISTRATION, true } };
    const char *out[ICSCF_MAX_CANDIDATES];
    static const char *const want[] = { "sip:named.ims.test" };

    strcpy(a.server_name, "sip:named.ims.test");
    a.has_caps = true; /* a name wins over capabilities */
    a.caps.nmandatory = 1;
    a.caps.mandatory[0] = 1;
    order_is(out, icscf_select(&a, LIST, NLIST, "sip:def.ims.test", out, 16), want, 1);
}

static void test_caps_rank(void **state)
{
    cx_uaa_t a = { .result = { CX_FIRST_REGISTRATION, true }, .has_caps = true };
    const char *out[ICSCF_MAX_CANDIDATES];
    /* mandatory 1: s3 is out; optional 2, 3: s2 has both, s4 one, s1 none */
    static const char *const want[] = { "sip:s2.ims.test", "sip:s4.ims.test", "sip:s1.ims.test" };

    a.caps.mandatory[a.caps.nmandatory++] = 1;
    a.caps.optional[a.caps.noptional++] = 2;
    a.caps.optional[a.caps.noptional++] = 3;
    order_is(out, icscf_select(&a, LIST, NLIST, "sip:def.ims.test", out, 16), want, 3);
    assert_int_equal(icscf_caps_score(&LIST[2], &a.caps), -1);
    assert_int_equal(icscf_caps_score(&LIST[1], &a.caps), 2);
    /* max bounds the list */
    order_is(out, icscf_select(&a, LIST, NLIST, NULL, out, 2), want, 2);
    /* names the HSS lists come first, and once (case-insensitive duplicates dropped) */
    strcpy(a.caps.server_name[a.caps.nserver_names++], "sip:hss-pick.ims.test");
    strcpy(a.caps.server_name[a.caps.nserver_names++], "SIP:S2.ims.test");
    order_is(out, icscf_select(&a, LIST, NLIST, NULL, out, 16),
             (const char *const[]){ "sip:hss-pick.ims.test", "SIP:S2.ims.test", "sip:s4.ims.test",
                                    "sip:s1.ims.test" },
             4);
}

static void test_caps_no_match_default(void **state)
{
    cx_uaa_t a = { .result = { CX_FIRST_REGISTRATION, true }, .has_caps = true };
    const char *out[ICSCF_MAX_CANDIDATES];
    static const char *const want[] = { "sip:def.ims.test" };

    a.caps.mandatory[a.caps.nmandatory++] = 9; /* nobody offers 9 */
    order_is(out, icscf_select(&a, LIST, NLIST, "sip:def.ims.test", out, 16), want, 1);
    assert_int_equal(icscf_select(&a, LIST, NLIST, NULL, out, 16), 0);
    /* empty capabilities: every S-CSCF qualifies, in configuration order */
    a.caps.nmandatory = 0;
    order_is(out, icscf_select(&a, LIST, NLIST, "sip:def.ims.test", out, 16),
             (const char *const[]){ "sip:s1.ims.test", "sip:s2.ims.test", "sip:s3.ims.test",
                                    "sip:s4.ims.test" },
             4);
}

static void test_open5gs_default_first(void **state)
{
    /* open5gs's HSS: 2001 with neither Server-Name nor Server-Capabilities */
    cx_uaa_t a = { .result = { CX_FIRST_REGISTRATION, true } };
    const char *out[ICSCF_MAX_CANDIDATES];

    order_is(out, icscf_select(&a, LIST, 2, "sip:s2.ims.test", out, 16),
             (const char *const[]){ "sip:s2.ims.test", "sip:s1.ims.test" }, 2);
    order_is(out, icscf_select(&a, LIST, 0, "sip:def.ims.test", out, 16),
             (const char *const[]){ "sip:def.ims.test" }, 1);
    order_is(out, icscf_select(&a, LIST, 1, NULL, out, 16),
             (const char *const[]){ "sip:s1.ims.test" }, 1);
    assert_int_equal(icscf_select(&a, LIST, 0, NULL, out, 16), 0);
}

/* ---- UAR fields from REGISTER ---- */

static sip_msg_t *parse(const char *head)
{
    char buf[2048];
    sip_msg_t *m = NULL;
    const char *reason = NULL;
    int n = snprintf(buf, sizeof(buf),
                     "REGISTER sip:ims.test SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKr1;rport\r\n"
                     "Max-Forwards: 70\r\n"
                     "Call-ID: r1@10.0.0.1\r\n"
                     "CSeq: 1 REGISTER\r\n"
                     "%sContent-Length: 0\r\n\r\n",
                     head);

    assert_int_equal(sip_msg_parse(buf, (size_t)n, NULL, 65535, &m, &reason), SIP_PARSE_OK);
    return m;
}

static void fields(const char *head, int rc, cx_uar_t *r)
{
    sip_msg_t *m = parse(head);
    const char *why = NULL;

    assert_int_equal(icscf_reg_uar_fields(m, "ims.test", r, &why), rc);
    if (rc != IMS_OK)
        assert_non_null(why);
    sip_msg_free(m);
}

#define FROM_TO(u) "From: <" u ">;tag=1\r\nTo: <" u ">\r\n"

static void test_fields_first_register(void **state)
{
    cx_uar_t r;

    /* the UE's first REGISTER: empty nonce and response */
    fields(FROM_TO("sip:alice@ims.test") "Contact: <sip:ue@10.0.0.1:5062>;expires=600000\r\n"
                                         "Authorization: Digest username=\"alice-impi@ims.test\", "
                                         "realm=\"ims.test\", "
                                         "uri=\"sip:ims.test\", nonce=\"\", response=\"\"\r\n"
                                         "P-Visited-Network-ID: \"visited.example\"\r\n",
           IMS_OK, &r);
    assert_string_equal(r.impi, "alice-impi@ims.test");
    assert_string_equal(r.impu, "sip:alice@ims.test");
    assert_string_equal(r.visited_network, "visited.example");
    assert_int_equal(r.auth_type, ICSCF_UAT_REGISTRATION);
}

static void test_fields_derived(void **state)
{
    cx_uar_t r;

    /* no Authorization: the IMPI from the IMPU; To parameters and port kept out */
    fields("From: <sip:bob@ims.test>;tag=1\r\nTo: <sip:bob@ims.test:5060;user=phone>\r\n"
           "Contact: <sip:ue@10.0.0.1>\r\n"
           "P-Visited-Network-ID: other.example;x=1, third.example\r\n",
           IMS_OK, &r);
    assert_string_equal(r.impu, "sip:bob@ims.test:5060");
    assert_string_equal(r.impi, "bob@ims.test");
    assert_string_equal(r.visited_network, "other.example");
    /* tel: IMPU, no header: home domain */
    fields(FROM_TO("tel:+15551234;phone-context=ims.test") "Contact: <sip:ue@10.0.0.1>\r\n", IMS_OK,
           &r);
    assert_string_equal(r.impu, "tel:+15551234");
    assert_string_equal(r.impi, "+15551234@ims.test");
    assert_string_equal(r.visited_network, "ims.test");
    /* credentials for our realm win over others */
    fields(FROM_TO("sip:carol@ims.test") "Authorization: Digest username=\"other\", "
                                         "realm=\"elsewhere\", nonce=\"\", "
                                         "uri=\"sip:x\", response=\"\"\r\n"
                                         "Authorization: Digest username=\"carol@ims.test\", "
                                         "realm=\"ims.test\", "
                                         "nonce=\"\", uri=\"sip:ims.test\", response=\"\"\r\n",
           IMS_OK, &r);
    assert_string_equal(r.impi, "carol@ims.test");
}

static void test_fields_deregistration(void **state)
{
    cx_uar_t r;

    fields(FROM_TO("sip:a@ims.test") "Contact: <sip:ue@10.0.0.1>\r\nExpires: 0\r\n", IMS_OK, &r);
    assert_int_equal(r.auth_type, ICSCF_UAT_DE_REGISTRATION);
    fields(FROM_TO("sip:a@ims.test") "Contact: <sip:ue@10.0.0.1>;expires=0\r\n"
                                     "Expires: 600\r\n",
           IMS_OK, &r);
    assert_int_equal(r.auth_type, ICSCF_UAT_DE_REGISTRATION);
    fields(FROM_TO("sip:a@ims.test") "Contact: *\r\nExpires: 0\r\n", IMS_OK, &r);
    assert_int_equal(r.auth_type, ICSCF_UAT_DE_REGISTRATION);
    /* one contact stays: a registration */
    fields(FROM_TO("sip:a@ims.test") "Contact: <sip:ue@10.0.0.1>;expires=0\r\n"
                                     "Contact: <sip:ue@10.0.0.2>\r\nExpires: 600\r\n",
           IMS_OK, &r);
    assert_int_equal(r.auth_type, ICSCF_UAT_REGISTRATION);
    fields(FROM_TO("sip:a@ims.test") "Contact: <sip:ue@10.0.0.1>;expires=0\r\n"
                                     "Contact: <sip:ue@10.0.0.2>\r\n",
           IMS_OK, &r);
    assert_int_equal(r.auth_type, ICSCF_UAT_REGISTRATION);
    /* a query (no Contact) is not a de-registration, even with Expires: 0 */
    fields(FROM_TO("sip:a@ims.test") "Expires: 0\r\n", IMS_OK, &r);
    assert_int_equal(r.auth_type, ICSCF_UAT_REGISTRATION);
    /* junk Expires counts as the default, not 0 */
    fields(FROM_TO("sip:a@ims.test") "Contact: <sip:ue@10.0.0.1>;expires=abc\r\n", IMS_OK, &r);
    assert_int_equal(r.auth_type, ICSCF_UAT_REGISTRATION);
}

static void test_fields_refused(void **state)
{
    char head[1024];
    cx_uar_t r;

    /* an identity longer than Cx carries: 400, never truncated */
    snprintf(head, sizeof(head), FROM_TO("sip:%0300d@ims.test"), 0, 0);
    fields(head, IMS_ERROR, &r);
    snprintf(head, sizeof(head),
             "%sAuthorization: Digest username=\"%0300d\", realm=\"x\", "
             "nonce=\"\", uri=\"sip:x\", response=\"\"\r\n",
             FROM_TO("sip:a@ims.test"), 0);
    fields(head, IMS_ERROR, &r);
}

static void test_impi_from_impu(void **state)
{
    char out[16];

    assert_int_equal(icscf_impi_from_impu("sip:a@b", "d", out, sizeof(out)), IMS_OK);
    assert_string_equal(out, "a@b");
    assert_int_equal(icscf_impi_from_impu("tel:+1;x=y", "d", out, sizeof(out)), IMS_OK);
    assert_string_equal(out, "+1@d");
    assert_int_equal(icscf_impi_from_impu("sip:", "d", out, sizeof(out)), IMS_ERROR);
    assert_int_equal(icscf_impi_from_impu("sip:0123456789@abcdef", "d", out, sizeof(out)),
                     IMS_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_server_name_alone),
        cmocka_unit_test(test_caps_rank),
        cmocka_unit_test(test_caps_no_match_default),
        cmocka_unit_test(test_open5gs_default_first),
        cmocka_unit_test(test_fields_first_register),
        cmocka_unit_test(test_fields_derived),
        cmocka_unit_test(test_fields_deregistration),
        cmocka_unit_test(test_fields_refused),
        cmocka_unit_test(test_impi_from_impu),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
