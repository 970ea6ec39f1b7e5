/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Cx codec (hss_client over real connections: test_hss_client.c).
 *
 * (a) Every builder's output goes through the bytes (dia_msg_parse) into the
 *     matching parser, all fields compared: UAR/UAA with capabilities and with
 *     a server name, MAR/MAA with an AKA item (32-octet SIP-Authenticate, CK,
 *     IK), a SIP Digest item, a resync MAR (30-octet SIP-Authorization),
 *     SAR/SAA with 3 KB of User-Data and charging names, LIR/LIA, RTR with two
 *     IMPUs and a reason, PPR with User-Data, result answers with Result-Code
 *     and with Experimental-Result, and the Public-Identity bytes against the
 *     verified vector of ims-reference §4.2.
 * (b) Headers: requests 0xC0, answers P only (E for 3xxx), app 16777216,
 *     Session-Id first, Vendor-Specific-Application-Id {10415, 16777216},
 *     Auth-Session-State 1, and the V/M bits of every AVP, groups included.
 * (c) Refusals: each mandatory AVP of each request dropped in turn gives
 *     IMS_ERROR naming that AVP; a Deregistration-Reason without Reason-Code,
 *     values too long or out of range, too many IMPUs, a 15-octet key, an
 *     answer without a result, the wrong command; builders refusing bad input;
 *     the 5005 answer with its Failed-AVP.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/base/codec.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"
#include "diameter/cx/cx.h"
#include "tests/unit/dia_loopback_fixture.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define HSS_HOST "hss." REALM
#define SCSCF_HOST "scscf." REALM
#define IMPI "001010000000001@" REALM
#define IMPU "sip:001010000000001@" REALM
#define TEL "tel:+15550000001"
#define SCSCF_URI "sip:scscf." REALM ":5060"
#define V3 DIA_VENDOR_3GPP

/* ------------------------------------------------------------------ helpers */

/* SIP-Digest-Authenticate is the one Cx AVP with V only (29.229 table 6.3.1). */
static bool cx_v_only(uint32_t code)
{
    return code == CX_AVP_SIP_DIGEST_AUTHENTICATE;
}

#define wire dfx_wire
#define find_u32 dfx_find_u32
#define check_bits(it, depth) dfx_check_bits((it), (depth), cx_v_only)
#define drop_avp(m, code, vendor) dfx_wire(dfx_drop_avp((m), (code), (vendor)))

typedef dfx_t cfx_t;

static int cfx_setup(void **state)
{
    return dfx_setup(state, SCSCF_HOST, REALM, DIA_APP_CX);
}

#define cfx_teardown dfx_teardown

/* (b): the Cx head of a request or an answer. */
static void check_head(const dia_msg_t *m, bool request)
{
    dia_iter_t it;
    dia_avp_t a, x;
    uint32_t v;

    assert_int_equal(m->app_id, 16777216);
    assert_int_equal(m->flags, request ? 0xC0 : 0x40);
    dia_iter_msg(m, &it);
    assert_true(dia_iter_next(&it, &a));
    assert_int_equal(a.code, DIA_AVP_SESSION_ID);
    assert_int_equal(a.vendor, 0);
    assert_true(dia_iter_next(&it, &a));
    assert_int_equal(a.code, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID);
    assert_true(dia_group_find(&a, DIA_AVP_VENDOR_ID, 0, &x));
    assert_int_equal(dia_avp_u32(&x, &v), IMS_OK);
    assert_int_equal(v, 10415);
    assert_true(dia_group_find(&a, DIA_AVP_AUTH_APPLICATION_ID, 0, &x));
    assert_int_equal(dia_avp_u32(&x, &v), IMS_OK);
    assert_int_equal(v, 16777216);
    assert_int_equal(find_u32(m, DIA_AVP_AUTH_SESSION_STATE, 0), 1);
    assert_true(dia_msg_find(m, DIA_AVP_ORIGIN_HOST, 0, &a));
    assert_true(dia_msg_find(m, DIA_AVP_ORIGIN_REALM, 0, &a));
    if (request)
        assert_true(dia_msg_find(m, DIA_AVP_DESTINATION_REALM, 0, &a));
    dia_iter_msg(m, &it);
    check_bits(&it, 0);
}

/* An answer to req: same ids and command, Session-Id copied. */
static void check_answer_of(const dia_msg_t *ans, const dia_msg_t *req)
{
    char s1[512], s2[512];

    assert_int_equal(ans->code, req->code);
    assert_int_equal(ans->hbh, req->hbh);
    assert_int_equal(ans->e2e, req->e2e);
    assert_int_equal(dia_msg_session_id(ans, s1, sizeof(s1)), IMS_OK);
    assert_int_equal(dia_msg_session_id(req, s2, sizeof(s2)), IMS_OK);
    assert_string_equal(s1, s2);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

static cx_uar_t sample_uar(void)
{
    cx_uar_t r = { .auth_type = 2 };

    strcpy(r.impi, IMPI);
    strcpy(r.impu, IMPU);
    strcpy(r.visited_network, REALM);
    return r;
}

static cx_mar_t sample_mar(void)
{
    cx_mar_t r = { .num_items = 1 };

    strcpy(r.impi, IMPI);
    strcpy(r.impu, IMPU);
    strcpy(r.server_name, SCSCF_URI);
    strcpy(r.item.scheme, "Digest-AKAv1-MD5");
    return r;
}

static cx_sar_t sample_sar(void)
{
    cx_sar_t r = { .nimpu = 2, .type = CX_SAT_REGISTRATION };

    strcpy(r.impi, IMPI);
    strcpy(r.impu[0], IMPU);
    strcpy(r.impu[1], TEL);
    strcpy(r.server_name, SCSCF_URI);
    return r;
}

static cx_rtr_t sample_rtr(void)
{
    cx_rtr_t r = { .nimpu = 2, .reason_code = 1 };

    strcpy(r.impi, IMPI);
    strcpy(r.impu[0], IMPU);
    strcpy(r.impu[1], TEL);
    strcpy(r.reason_info, "new S-CSCF assigned");
    return r;
}

static cx_auth_item_t aka_item(void)
{
    cx_auth_item_t it = { .authenticate_len = 32, .authorization_len = 8, .has_keys = true };

    strcpy(it.scheme, "Digest-AKAv1-MD5");
    fill(it.authenticate, 32, 1);
    fill(it.authorization, 8, 50);
    fill(it.ck, 16, 100);
    fill(it.ik, 16, 200);
    return it;
}

static void assert_item_equal(const cx_auth_item_t *a, const cx_auth_item_t *b)
{
    assert_string_equal(a->scheme, b->scheme);
    assert_int_equal(a->authenticate_len, b->authenticate_len);
    assert_memory_equal(a->authenticate, b->authenticate, b->authenticate_len);
    assert_int_equal(a->authorization_len, b->authorization_len);
    if (b->authorization_len)
        assert_memory_equal(a->authorization, b->authorization, b->authorization_len);
    assert_int_equal(a->has_keys, b->has_keys);
    if (b->has_keys) {
        assert_memory_equal(a->ck, b->ck, 16);
        assert_memory_equal(a->ik, b->ik, 16);
    }
    assert_int_equal(a->has_digest, b->has_digest);
    assert_string_equal(a->digest_realm, b->digest_realm);
    assert_string_equal(a->digest_algorithm, b->digest_algorithm);
    assert_string_equal(a->digest_qop, b->digest_qop);
    assert_string_equal(a->digest_ha1, b->digest_ha1);
}

static void assert_caps_equal(const cx_caps_t *a, const cx_caps_t *b)
{
    assert_int_equal(a->nmandatory, b->nmandatory);
    assert_int_equal(a->noptional, b->noptional);
    assert_int_equal(a->nserver_names, b->nserver_names);
    for (int i = 0; i < b->nmandatory; i++)
        assert_int_equal(a->mandatory[i], b->mandatory[i]);
    for (int i = 0; i < b->noptional; i++)
        assert_int_equal(a->optional[i], b->optional[i]);
    for (int i = 0; i < b->nserver_names; i++)
        assert_string_equal(a->server_name[i], b->server_name[i]);
}

/* ------------------------------------------------------------- (a) + (b) */

static void test_uar_uaa(void **state)
{
    cfx_t *f = *state;
    cx_uar_t r = sample_uar(), pr;
    cx_uaa_t a = { .result = { CX_FIRST_REGISTRATION, true }, .has_caps = true }, pa;
    dia_msg_t *req, *ans;
    dia_avp_t x, y;
    char s[256];
    uint32_t missing = 99, v;

    req = wire(cx_build_uar(f->node, REALM, HSS_HOST, &r));
    assert_int_equal(req->code, 300);
    check_head(req, true);
    assert_true(dia_msg_find(req, DIA_AVP_DESTINATION_HOST, 0, &x));
    assert_int_equal(dia_avp_str(&x, s, sizeof(s)), IMS_OK);
    assert_string_equal(s, HSS_HOST);
    assert_int_equal(cx_parse_uar(req, &pr, &missing), IMS_OK);
    assert_int_equal(missing, 0);
    assert_string_equal(pr.impi, IMPI);
    assert_string_equal(pr.impu, IMPU);
    assert_string_equal(pr.visited_network, REALM);
    assert_int_equal(pr.auth_type, 2);

    a.caps.nmandatory = 2;
    a.caps.mandatory[0] = 1;
    a.caps.mandatory[1] = 7;
    a.caps.noptional = 1;
    a.caps.optional[0] = 42;
    a.caps.nserver_names = 2;
    strcpy(a.caps.server_name[0], "sip:scscf1." REALM);
    strcpy(a.caps.server_name[1], "sip:scscf2." REALM);
    ans = wire(cx_build_uaa(f->node, req, &a));
    check_head(ans, false);
    check_answer_of(ans, req);
    /* Experimental-Result{Vendor-Id 10415, Experimental-Result-Code 2001}, no Result-Code */
    assert_false(dia_msg_find(ans, DIA_AVP_RESULT_CODE, 0, &x));
    assert_true(dia_msg_find(ans, DIA_AVP_EXPERIMENTAL_RESULT, 0, &x));
    assert_true(dia_group_find(&x, DIA_AVP_VENDOR_ID, 0, &y));
    assert_int_equal(dia_avp_u32(&y, &v), IMS_OK);
    assert_int_equal(v, 10415);
    assert_int_equal(cx_parse_uaa(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 2001);
    assert_true(pa.result.experimental);
    assert_string_equal(pa.server_name, "");
    assert_true(pa.has_caps);
    assert_caps_equal(&pa.caps, &a.caps);
    dia_msg_free(ans);

    /* Subsequent registration: a Server-Name, no capabilities. */
    memset(&a, 0, sizeof(a));
    a.result = (cx_result_t){ CX_SUBSEQUENT_REGISTRATION, true };
    strcpy(a.server_name, SCSCF_URI);
    ans = wire(cx_build_uaa(f->node, req, &a));
    assert_int_equal(cx_parse_uaa(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 2002);
    assert_true(pa.result.experimental);
    assert_string_equal(pa.server_name, SCSCF_URI);
    assert_false(pa.has_caps);
    dia_msg_free(ans);
    dia_msg_free(req);
}

/* ims-reference §4.2: Public-Identity "sip:alice@ims.example" on the wire. */
static void test_public_identity_bytes(void **state)
{
    static const uint8_t want[] = {
        0x00, 0x00, 0x02, 0x59, 0xc0, 0x00, 0x00, 0x21, 0x00, 0x00, 0x28, 0xaf,
        's', 'i', 'p', ':', 'a', 'l', 'i', 'c', 'e', '@', 'i', 'm', 's', '.',
        'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 0
    };
    cfx_t *f = *state;
    cx_lir_t r = { 0 };
    dia_msg_t *m;
    dia_avp_t a;

    strcpy(r.impu, "sip:alice@ims.example");
    m = wire(cx_build_lir(f->node, REALM, NULL, &r));
    assert_true(dia_msg_find(m, CX_AVP_PUBLIC_IDENTITY, V3, &a));
    assert_int_equal(a.raw_len, 0x21);
    assert_memory_equal(a.raw, want, sizeof(want));
    assert_false(dia_msg_find(m, DIA_AVP_DESTINATION_HOST, 0, &a));
    dia_msg_free(m);
}

static void test_mar_maa_aka(void **state)
{
    cfx_t *f = *state;
    cx_mar_t r = sample_mar(), pr;
    cx_maa_t a = { .result = { DIA_SUCCESS, false }, .num_items = 1, .nitems = 1 }, *pa;
    dia_msg_t *req, *ans;
    dia_avp_t x, y;
    uint32_t missing = 99, v;

    req = wire(cx_build_mar(f->node, REALM, NULL, &r));
    assert_int_equal(req->code, 303);
    check_head(req, true);
    assert_int_equal(cx_parse_mar(req, &pr, &missing), IMS_OK);
    assert_string_equal(pr.impi, IMPI);
    assert_string_equal(pr.impu, IMPU);
    assert_string_equal(pr.server_name, SCSCF_URI);
    assert_int_equal(pr.num_items, 1);
    assert_item_equal(&pr.item, &r.item);

    strcpy(a.impi, IMPI);
    a.items[0] = aka_item();
    ans = wire(cx_build_maa(f->node, req, &a));
    check_head(ans, false);
    check_answer_of(ans, req);
    assert_int_equal(find_u32(ans, DIA_AVP_RESULT_CODE, 0), 2001);
    assert_true(dia_msg_find(ans, CX_AVP_SIP_AUTH_DATA_ITEM, V3, &x));
    assert_true(dia_group_find(&x, CX_AVP_SIP_ITEM_NUMBER, V3, &y));
    assert_int_equal(dia_avp_u32(&y, &v), IMS_OK);
    assert_int_equal(v, 1);
    assert_true(dia_group_find(&x, CX_AVP_SIP_AUTHENTICATE, V3, &y));
    assert_int_equal(y.len, 32);
    pa = calloc(1, sizeof(*pa));
    assert_int_equal(cx_parse_maa(ans, pa), IMS_OK);
    assert_int_equal(pa->result.code, 2001);
    assert_false(pa->result.experimental);
    assert_string_equal(pa->impi, IMPI);
    assert_int_equal(pa->num_items, 1);
    assert_int_equal(pa->nitems, 1);
    assert_item_equal(&pa->items[0], &a.items[0]);
    free(pa);
    dia_msg_free(ans);
    dia_msg_free(req);
}

static void test_maa_digest(void **state)
{
    cfx_t *f = *state;
    cx_mar_t r = sample_mar();
    cx_maa_t a = { .result = { DIA_SUCCESS, false }, .num_items = 1, .nitems = 1 }, *pa;
    cx_auth_item_t *it = &a.items[0];
    dia_msg_t *req, *ans;
    dia_avp_t x, y, z;

    strcpy(r.item.scheme, "SIP Digest");
    req = wire(cx_build_mar(f->node, REALM, NULL, &r));
    strcpy(it->scheme, "SIP Digest");
    it->has_digest = true;
    strcpy(it->digest_realm, REALM);
    strcpy(it->digest_algorithm, "MD5");
    strcpy(it->digest_qop, "auth");
    strcpy(it->digest_ha1, "0123456789abcdef0123456789abcdef");
    ans = wire(cx_build_maa(f->node, req, &a));
    check_head(ans, false);     /* includes: 635 V only, Digest-* vendor 0 with M */
    assert_true(dia_msg_find(ans, CX_AVP_SIP_AUTH_DATA_ITEM, V3, &x));
    assert_true(dia_group_find(&x, CX_AVP_SIP_DIGEST_AUTHENTICATE, V3, &y));
    assert_true(dia_group_find(&y, CX_AVP_DIGEST_HA1, 0, &z));
    assert_int_equal(z.len, 32);
    assert_false(dia_group_find(&x, CX_AVP_CONFIDENTIALITY_KEY, V3, &y));
    pa = calloc(1, sizeof(*pa));
    assert_int_equal(cx_parse_maa(ans, pa), IMS_OK);
    assert_int_equal(pa->nitems, 1);
    assert_item_equal(&pa->items[0], it);
    free(pa);
    dia_msg_free(ans);
    dia_msg_free(req);
}

static void test_mar_resync(void **state)
{
    cfx_t *f = *state;
    cx_mar_t r = sample_mar(), pr;
    dia_msg_t *req;
    dia_avp_t x, y;
    uint32_t missing;

    r.item.authorization_len = 30;              /* RAND(16) || AUTS(14) */
    fill(r.item.authorization, 30, 9);
    req = wire(cx_build_mar(f->node, REALM, HSS_HOST, &r));
    assert_true(dia_msg_find(req, CX_AVP_SIP_AUTH_DATA_ITEM, V3, &x));
    assert_true(dia_group_find(&x, CX_AVP_SIP_AUTHORIZATION, V3, &y));
    assert_int_equal(y.len, 30);
    assert_false(dia_group_find(&x, CX_AVP_SIP_ITEM_NUMBER, V3, &y));
    assert_int_equal(cx_parse_mar(req, &pr, &missing), IMS_OK);
    assert_int_equal(pr.item.authorization_len, 30);
    assert_memory_equal(pr.item.authorization, r.item.authorization, 30);
    assert_string_equal(pr.item.scheme, "Digest-AKAv1-MD5");
    dia_msg_free(req);
}

static char *make_user_data(size_t len)
{
    static const char head[] = "<?xml version=\"1.0\"?><IMSSubscription>";
    static const char tail[] = "</IMSSubscription>";
    char *s = malloc(len + 1);

    memset(s, 'x', len);
    memcpy(s, head, sizeof(head) - 1);
    memcpy(s + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
    s[len] = '\0';
    return s;
}

static void test_sar_saa(void **state)
{
    cfx_t *f = *state;
    cx_sar_t r = sample_sar(), pr;
    cx_saa_t a = { .result = { DIA_SUCCESS, false } }, pa;
    dia_msg_t *req, *ans;
    uint32_t missing;

    r.user_data_already_available = 0;
    req = wire(cx_build_sar(f->node, REALM, HSS_HOST, &r));
    assert_int_equal(req->code, 301);
    check_head(req, true);
    assert_int_equal(cx_parse_sar(req, &pr, &missing), IMS_OK);
    assert_string_equal(pr.impi, IMPI);
    assert_int_equal(pr.nimpu, 2);
    assert_string_equal(pr.impu[0], IMPU);
    assert_string_equal(pr.impu[1], TEL);
    assert_string_equal(pr.server_name, SCSCF_URI);
    assert_int_equal(pr.type, CX_SAT_REGISTRATION);
    assert_int_equal(pr.user_data_already_available, 0);

    strcpy(a.impi, IMPI);
    a.user_data = make_user_data(3072);
    a.user_data_len = 3072;
    strcpy(a.ecf, "aaa://ecf." REALM ":3868");
    strcpy(a.ccf, "aaa://ccf." REALM);
    ans = wire(cx_build_saa(f->node, req, &a));
    check_head(ans, false);
    assert_int_equal(cx_parse_saa(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 2001);
    assert_string_equal(pa.impi, IMPI);
    assert_int_equal(pa.user_data_len, 3072);
    assert_memory_equal(pa.user_data, a.user_data, 3072);
    assert_int_equal(pa.user_data[3072], '\0');
    assert_string_equal(pa.ecf, a.ecf);
    assert_string_equal(pa.ccf, a.ccf);
    cx_saa_clear(&pa);
    assert_null(pa.user_data);
    free(a.user_data);
    dia_msg_free(ans);
    dia_msg_free(req);

    /* Optional parts absent: no User-Name, no IMPU; deregistration. */
    memset(&r, 0, sizeof(r));
    strcpy(r.server_name, SCSCF_URI);
    r.type = CX_SAT_USER_DEREGISTRATION;
    r.user_data_already_available = 1;
    req = wire(cx_build_sar(f->node, REALM, NULL, &r));
    assert_int_equal(cx_parse_sar(req, &pr, &missing), IMS_OK);
    assert_string_equal(pr.impi, "");
    assert_int_equal(pr.nimpu, 0);
    assert_int_equal(pr.type, CX_SAT_USER_DEREGISTRATION);
    assert_int_equal(pr.user_data_already_available, 1);
    dia_msg_free(req);
}

static void test_lir_lia(void **state)
{
    cfx_t *f = *state;
    cx_lir_t r = { .originating = true, .auth_type = 2 }, pr;
    cx_lia_t a = { .result = { DIA_SUCCESS, false } }, pa;
    dia_msg_t *req, *ans;
    uint32_t missing;

    strcpy(r.impu, TEL);
    req = wire(cx_build_lir(f->node, REALM, NULL, &r));
    assert_int_equal(req->code, 302);
    check_head(req, true);
    assert_int_equal(find_u32(req, CX_AVP_ORIGINATING_REQUEST, V3), 0);
    assert_int_equal(cx_parse_lir(req, &pr, &missing), IMS_OK);
    assert_string_equal(pr.impu, TEL);
    assert_true(pr.originating);
    assert_int_equal(pr.auth_type, 2);

    strcpy(a.server_name, SCSCF_URI);
    ans = wire(cx_build_lia(f->node, req, &a));
    check_head(ans, false);
    assert_int_equal(cx_parse_lia(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 2001);
    assert_false(pa.result.experimental);
    assert_string_equal(pa.server_name, SCSCF_URI);
    assert_false(pa.has_caps);
    dia_msg_free(ans);

    /* Unregistered service: experimental 2003 with capabilities. */
    memset(&a, 0, sizeof(a));
    a.result = (cx_result_t){ CX_UNREGISTERED_SERVICE, true };
    a.has_caps = true;
    a.caps.nmandatory = 1;
    a.caps.mandatory[0] = 5;
    ans = wire(cx_build_lia(f->node, req, &a));
    assert_int_equal(cx_parse_lia(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 2003);
    assert_true(pa.result.experimental);
    assert_true(pa.has_caps);
    assert_caps_equal(&pa.caps, &a.caps);
    dia_msg_free(ans);
    dia_msg_free(req);

    /* Terminating, no capabilities wanted: neither optional AVP is sent. */
    memset(&r, 0, sizeof(r));
    strcpy(r.impu, IMPU);
    req = wire(cx_build_lir(f->node, REALM, NULL, &r));
    assert_int_equal(cx_parse_lir(req, &pr, &missing), IMS_OK);
    assert_false(pr.originating);
    assert_int_equal(pr.auth_type, 0);
    dia_msg_free(req);
}

static void test_rtr_ppr_results(void **state)
{
    cfx_t *f = *state;
    cx_rtr_t r = sample_rtr(), pr;
    cx_ppr_t p = { 0 }, pp;
    cx_result_t res;
    dia_msg_t *req, *ans;
    uint32_t missing;

    req = wire(cx_build_rtr(f->node, REALM, SCSCF_HOST, &r));
    assert_int_equal(req->code, 304);
    check_head(req, true);
    assert_int_equal(cx_parse_rtr(req, &pr, &missing), IMS_OK);
    assert_string_equal(pr.impi, IMPI);
    assert_int_equal(pr.nimpu, 2);
    assert_string_equal(pr.impu[0], IMPU);
    assert_string_equal(pr.impu[1], TEL);
    assert_int_equal(pr.reason_code, 1);
    assert_string_equal(pr.reason_info, "new S-CSCF assigned");

    ans = wire(cx_build_result_answer(f->node, req, (cx_result_t){ DIA_SUCCESS, false }));
    check_head(ans, false);
    check_answer_of(ans, req);
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, 2001);
    assert_false(res.experimental);
    dia_msg_free(ans);

    ans = wire(cx_build_result_answer(f->node, req,
                                      (cx_result_t){ CX_ERROR_USER_UNKNOWN, true }));
    check_head(ans, false);
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, 5001);
    assert_true(res.experimental);
    dia_msg_free(ans);

    /* A protocol error: E bit, the generic answer-message (no Cx head). */
    ans = wire(cx_build_result_answer(f->node, req,
                                      (cx_result_t){ DIA_COMMAND_UNSUPPORTED, false }));
    assert_int_equal(ans->flags, 0x60);
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, 3001);
    dia_msg_free(ans);
    dia_msg_free(req);

    strcpy(p.impi, IMPI);
    p.user_data = make_user_data(1500);
    p.user_data_len = 1500;
    req = wire(cx_build_ppr(f->node, REALM, SCSCF_HOST, &p));
    assert_int_equal(req->code, 305);
    check_head(req, true);
    assert_int_equal(cx_parse_ppr(req, &pp, &missing), IMS_OK);
    assert_string_equal(pp.impi, IMPI);
    assert_int_equal(pp.user_data_len, 1500);
    assert_string_equal(pp.user_data, p.user_data);
    cx_ppr_clear(&pp);
    free(p.user_data);
    dia_msg_free(req);
}

/* ---------------------------------------------------------------------- (c) */

typedef struct drop_case {
    const char *what;
    uint32_t code, vendor;
} drop_case_t;

#define HEAD_CASES                                                                        \
    { "Session-Id", DIA_AVP_SESSION_ID, 0 },                                              \
    { "Vendor-Specific-Application-Id", DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, 0 },      \
    { "Auth-Session-State", DIA_AVP_AUTH_SESSION_STATE, 0 },                              \
    { "Origin-Host", DIA_AVP_ORIGIN_HOST, 0 }, { "Origin-Realm", DIA_AVP_ORIGIN_REALM, 0 }, \
    { "Destination-Realm", DIA_AVP_DESTINATION_REALM, 0 }

typedef int (*req_parser_t)(const dia_msg_t *m, void *out, uint32_t *missing);

static int p_uar(const dia_msg_t *m, void *o, uint32_t *mi) { return cx_parse_uar(m, o, mi); }
static int p_mar(const dia_msg_t *m, void *o, uint32_t *mi) { return cx_parse_mar(m, o, mi); }
static int p_sar(const dia_msg_t *m, void *o, uint32_t *mi) { return cx_parse_sar(m, o, mi); }
static int p_lir(const dia_msg_t *m, void *o, uint32_t *mi) { return cx_parse_lir(m, o, mi); }
static int p_rtr(const dia_msg_t *m, void *o, uint32_t *mi) { return cx_parse_rtr(m, o, mi); }

static int p_ppr(const dia_msg_t *m, void *o, uint32_t *mi)
{
    int rc = cx_parse_ppr(m, o, mi);

    if (rc == IMS_OK)
        cx_ppr_clear(o);
    return rc;
}

/* Drop each case from a full request (taken); the parser must name it. */
static void drop_each(dia_msg_t *full, req_parser_t parse, const drop_case_t *cases, size_t n)
{
    union {
        cx_uar_t uar; cx_mar_t mar; cx_sar_t sar; cx_lir_t lir; cx_rtr_t rtr; cx_ppr_t ppr;
    } out;
    uint32_t missing = 99;

    assert_int_equal(parse(full, &out, &missing), IMS_OK);
    for (size_t i = 0; i < n; i++) {
        dia_msg_t *m = drop_avp(full, cases[i].code, cases[i].vendor);

        missing = 99;
        if (parse(m, &out, &missing) != IMS_ERROR || missing != cases[i].code)
            fail_msg("command %u without %s: missing %u", full->code, cases[i].what, missing);
        dia_msg_free(m);
    }
    dia_msg_free(full);
}

static void test_missing_mandatory(void **state)
{
    static const drop_case_t uar[] = {
        HEAD_CASES, { "User-Name", 1, 0 }, { "Public-Identity", 601, V3 },
        { "Visited-Network-Identifier", 600, V3 }
    };
    static const drop_case_t mar[] = {
        HEAD_CASES, { "User-Name", 1, 0 }, { "Public-Identity", 601, V3 },
        { "SIP-Auth-Data-Item", 612, V3 }, { "SIP-Number-Auth-Items", 607, V3 },
        { "Server-Name", 602, V3 }
    };
    static const drop_case_t sar[] = {
        HEAD_CASES, { "Server-Name", 602, V3 }, { "Server-Assignment-Type", 614, V3 },
        { "User-Data-Already-Available", 624, V3 }
    };
    static const drop_case_t lir[] = { HEAD_CASES, { "Public-Identity", 601, V3 } };
    static const drop_case_t rtr[] = {
        HEAD_CASES, { "User-Name", 1, 0 }, { "Deregistration-Reason", 615, V3 }
    };
    static const drop_case_t ppr[] = { HEAD_CASES, { "User-Name", 1, 0 } };
    cfx_t *f = *state;
    cx_uar_t u = sample_uar();
    cx_mar_t m = sample_mar();
    cx_sar_t s = sample_sar();
    cx_lir_t l = { 0 };
    cx_rtr_t r = sample_rtr();
    cx_ppr_t p = { 0 };
    cx_uar_t ou;
    dia_msg_t *msg, *full;
    uint32_t missing;

    strcpy(l.impu, IMPU);
    strcpy(p.impi, IMPI);
    drop_each(wire(cx_build_uar(f->node, REALM, NULL, &u)), p_uar, uar, IMS_ARRAY_LEN(uar));
    drop_each(wire(cx_build_mar(f->node, REALM, NULL, &m)), p_mar, mar, IMS_ARRAY_LEN(mar));
    drop_each(wire(cx_build_sar(f->node, REALM, NULL, &s)), p_sar, sar, IMS_ARRAY_LEN(sar));
    drop_each(wire(cx_build_lir(f->node, REALM, NULL, &l)), p_lir, lir, IMS_ARRAY_LEN(lir));
    drop_each(wire(cx_build_rtr(f->node, REALM, SCSCF_HOST, &r)), p_rtr, rtr,
              IMS_ARRAY_LEN(rtr));
    drop_each(wire(cx_build_ppr(f->node, REALM, SCSCF_HOST, &p)), p_ppr, ppr,
              IMS_ARRAY_LEN(ppr));

    /* An optional AVP dropped is fine: UAR without User-Authorization-Type. */
    full = wire(cx_build_uar(f->node, REALM, NULL, &u));
    msg = drop_avp(full, CX_AVP_USER_AUTHORIZATION_TYPE, V3);
    assert_int_equal(cx_parse_uar(msg, &ou, &missing), IMS_OK);
    assert_int_equal(ou.auth_type, 0);
    dia_msg_free(msg);
    dia_msg_free(full);
}

/* An RTR by hand: the head, User-Name, then body(b). */
static dia_msg_t *hand_request(dia_node_t *n, uint32_t code, const char *user_name,
                               void (*body)(dia_builder_t *b))
{
    dia_builder_t b;

    dia_node_request_init(n, &b, code, DIA_APP_CX, true, REALM, NULL);
    dia_group_begin(&b, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, DIA_AVP_M, 0);
    dia_put_u32(&b, DIA_AVP_VENDOR_ID, DIA_AVP_M, 0, V3);
    dia_put_u32(&b, DIA_AVP_AUTH_APPLICATION_ID, DIA_AVP_M, 0, DIA_APP_CX);
    dia_group_end(&b);
    dia_put_u32(&b, DIA_AVP_AUTH_SESSION_STATE, DIA_AVP_M, 0, 1);
    dia_put_str(&b, DIA_AVP_USER_NAME, DIA_AVP_M, 0, user_name);
    body(&b);
    return wire(dia_build_finish(&b));
}

static void body_reason_no_code(dia_builder_t *b)
{
    dia_group_begin(b, CX_AVP_DEREGISTRATION_REASON, DIA_AVP_M, V3);
    dia_put_str(b, CX_AVP_REASON_INFO, DIA_AVP_M, V3, "no code");
    dia_group_end(b);
}

static void body_uar(dia_builder_t *b)
{
    dia_put_str(b, CX_AVP_PUBLIC_IDENTITY, DIA_AVP_M, V3, IMPU);
    dia_put_str(b, CX_AVP_VISITED_NETWORK_IDENTIFIER, DIA_AVP_M, V3, REALM);
}

static void body_sar_nine(dia_builder_t *b)
{
    for (int i = 0; i < 9; i++)
        dia_put_str(b, CX_AVP_PUBLIC_IDENTITY, DIA_AVP_M, V3, IMPU);
    dia_put_str(b, CX_AVP_SERVER_NAME, DIA_AVP_M, V3, SCSCF_URI);
    dia_put_u32(b, CX_AVP_SERVER_ASSIGNMENT_TYPE, DIA_AVP_M, V3, 1);
    dia_put_u32(b, CX_AVP_USER_DATA_ALREADY_AVAILABLE, DIA_AVP_M, V3, 0);
}

static void body_sar_type99(dia_builder_t *b)
{
    dia_put_str(b, CX_AVP_SERVER_NAME, DIA_AVP_M, V3, SCSCF_URI);
    dia_put_u32(b, CX_AVP_SERVER_ASSIGNMENT_TYPE, DIA_AVP_M, V3, 99);
    dia_put_u32(b, CX_AVP_USER_DATA_ALREADY_AVAILABLE, DIA_AVP_M, V3, 0);
}

static void test_bad_values(void **state)
{
    cfx_t *f = *state;
    char long_name[300];
    cx_rtr_t r;
    cx_uar_t u;
    cx_sar_t s;
    cx_mar_t mr;
    dia_msg_t *m;
    uint32_t missing = 99;

    m = hand_request(f->node, DIA_CMD_RTR, IMPI, body_reason_no_code);
    assert_int_equal(cx_parse_rtr(m, &r, &missing), IMS_ERROR);
    assert_int_equal(missing, CX_AVP_REASON_CODE);
    dia_msg_free(m);

    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    m = hand_request(f->node, DIA_CMD_UAR, long_name, body_uar);
    missing = 99;
    assert_int_equal(cx_parse_uar(m, &u, &missing), IMS_ERROR);
    assert_int_equal(missing, 0);               /* too long: 5004, not 5005 */
    /* ...and the wrong command for a parser. */
    missing = 99;
    assert_int_equal(cx_parse_mar(m, &mr, &missing), IMS_ERROR);
    assert_int_equal(missing, 0);
    dia_msg_free(m);

    m = hand_request(f->node, DIA_CMD_SAR, IMPI, body_sar_nine);
    missing = 99;
    assert_int_equal(cx_parse_sar(m, &s, &missing), IMS_ERROR);
    assert_int_equal(missing, 0);
    dia_msg_free(m);

    m = hand_request(f->node, DIA_CMD_SAR, IMPI, body_sar_type99);
    missing = 99;
    assert_int_equal(cx_parse_sar(m, &s, &missing), IMS_ERROR);
    assert_int_equal(missing, 0);
    dia_msg_free(m);
}

static void test_bad_answers(void **state)
{
    cfx_t *f = *state;
    cx_mar_t r = sample_mar();
    cx_maa_t *a = calloc(1, sizeof(*a));
    cx_uaa_t ua;
    cx_result_t res;
    dia_msg_t *req, *ans, *bad;
    dia_builder_t b;

    req = wire(cx_build_mar(f->node, REALM, NULL, &r));

    /* A 15-octet Confidentiality-Key. */
    dia_node_answer_init(f->node, &b, req, DIA_SUCCESS);
    dia_group_begin(&b, CX_AVP_SIP_AUTH_DATA_ITEM, DIA_AVP_M, V3);
    dia_put_octets(&b, CX_AVP_CONFIDENTIALITY_KEY, DIA_AVP_M, V3, "0123456789abcde", 15);
    dia_group_end(&b);
    bad = wire(dia_build_finish(&b));
    assert_int_equal(cx_parse_maa(bad, a), IMS_ERROR);
    dia_msg_free(bad);

    /* No Result-Code and no Experimental-Result. */
    dia_node_answer_init(f->node, &b, req, 0);
    bad = wire(dia_build_finish(&b));
    assert_int_equal(cx_parse_maa(bad, a), IMS_ERROR);
    assert_int_equal(cx_parse_result(bad, &res), IMS_ERROR);
    dia_msg_free(bad);

    /* A MAA is not a UAA; a request is not an answer. */
    a->result = (cx_result_t){ DIA_SUCCESS, false };
    ans = wire(cx_build_maa(f->node, req, a));
    assert_int_equal(cx_parse_uaa(ans, &ua), IMS_ERROR);
    assert_int_equal(cx_parse_maa(req, a), IMS_ERROR);
    assert_int_equal(cx_parse_result(req, &res), IMS_ERROR);
    dia_msg_free(ans);
    dia_msg_free(req);
    free(a);
}

static void test_builders_refuse(void **state)
{
    cfx_t *f = *state;
    cx_uar_t u = sample_uar();
    cx_sar_t s = sample_sar();
    cx_mar_t m = sample_mar();
    cx_maa_t *a = calloc(1, sizeof(*a));
    dia_msg_t *req;

    assert_null(cx_build_uar(f->node, NULL, NULL, &u));
    assert_null(cx_build_uar(f->node, "", NULL, &u));
    u.impi[0] = '\0';
    assert_null(cx_build_uar(f->node, REALM, NULL, &u));
    u = sample_uar();
    memset(u.impu, 'a', sizeof(u.impu));        /* not terminated */
    assert_null(cx_build_uar(f->node, REALM, NULL, &u));
    s.nimpu = CX_MAX_IMPU + 1;
    assert_null(cx_build_sar(f->node, REALM, NULL, &s));
    s = sample_sar();
    s.server_name[0] = '\0';
    assert_null(cx_build_sar(f->node, REALM, NULL, &s));
    m.item.authorization_len = 65;
    assert_null(cx_build_mar(f->node, REALM, NULL, &m));

    m = sample_mar();
    req = wire(cx_build_mar(f->node, REALM, NULL, &m));
    a->nitems = CX_MAX_AUTH_ITEMS + 1;
    assert_null(cx_build_maa(f->node, req, a));
    a->nitems = 1;
    a->items[0].has_digest = true;              /* digest without realm/qop/HA1 */
    assert_null(cx_build_maa(f->node, req, a));
    assert_null(cx_build_result_answer(f->node, NULL, (cx_result_t){ 2001, false }));
    dia_msg_free(req);
    free(a);
}

static void test_parse_error_answer(void **state)
{
    cfx_t *f = *state;
    cx_uar_t u = sample_uar();
    dia_msg_t *req, *ans;
    dia_avp_t fa, x;
    dia_iter_t it;
    cx_result_t res;

    req = wire(cx_build_uar(f->node, REALM, NULL, &u));
    ans = wire(cx_build_parse_error_answer(f->node, req, CX_AVP_PUBLIC_IDENTITY));
    check_head(ans, false);
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, DIA_MISSING_AVP);
    assert_true(dia_msg_find(ans, DIA_AVP_FAILED_AVP, 0, &fa));
    dia_iter_group(&fa, &it);
    assert_true(dia_iter_next(&it, &x));
    assert_int_equal(x.code, 601);
    assert_int_equal(x.vendor, V3);
    assert_int_equal(x.len, 0);
    dia_msg_free(ans);

    ans = wire(cx_build_parse_error_answer(f->node, req, CX_AVP_SIP_NUMBER_AUTH_ITEMS));
    assert_true(dia_msg_find(ans, DIA_AVP_FAILED_AVP, 0, &fa));
    assert_true(dia_group_find(&fa, CX_AVP_SIP_NUMBER_AUTH_ITEMS, V3, &x));
    assert_int_equal(x.len, 4);                 /* Unsigned32: a zero-filled example */
    dia_msg_free(ans);

    ans = wire(cx_build_parse_error_answer(f->node, req, 0));
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, DIA_INVALID_AVP_VALUE);
    assert_false(dia_msg_find(ans, DIA_AVP_FAILED_AVP, 0, &fa));
    dia_msg_free(ans);
    dia_msg_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_uar_uaa, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_public_identity_bytes, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_mar_maa_aka, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_maa_digest, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_mar_resync, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_sar_saa, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_lir_lia, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_rtr_ppr_results, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_missing_mandatory, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_answers, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_builders_refuse, cfx_setup, cfx_teardown),
        cmocka_unit_test_setup_teardown(test_parse_error_answer, cfx_setup, cfx_teardown),
    };

    ims_log_init("test_cx", IMS_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
