/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Rx codec refusing what it must (round trips: test_rx.c).
 *
 * - Each mandatory AVP of each request dropped in turn: IMS_ERROR naming it
 *   (Session-Id, Auth-Application-Id, Origin-*, Destination-Realm; then
 *   Termination-Cause, Specific-Action, Abort-Cause), and the mandatory AVPs
 *   inside groups: Media-Component-Number, Flow-Number, Subscription-Id-Type
 *   and -Data, Flows' Media-Component-Number. Optional ones dropped: fine.
 * - Bad values, missing 0 (5004): an Auth-Application-Id other than Rx, nine
 *   Specific-Actions, three Flow-Descriptions, a 129-bit or cut-short
 *   Framed-IPv6-Prefix, a 16-octet Framed-IP-Address, a 300-character
 *   Flow-Description; the wrong command or direction for a parser.
 * - Answers without a result, of the wrong command, with the wrong app id.
 * - Builders refusing bad input (and leaving sid_out empty).
 * - The 5005 answer with Failed-AVP, and the 5004 one.
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

#include <cmocka.h>

#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/base/codec.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"
#include "diameter/rx/rx.h"
#include "tests/unit/dia_loopback_fixture.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define PCRF_HOST "pcrf." REALM
#define PCSCF_HOST "pcscf." REALM
#define SID PCSCF_HOST ";1712345678;7"
#define FLOW "permit in 17 from 10.45.0.2 49152 to 10.45.0.3 50000"
#define V3 DIA_VENDOR_3GPP
#define M DIA_AVP_M

typedef struct rfx {
    ims_loop_t *loop;
    dia_node_t *node;
    rx_aar_t aar;           /* scratch for parsers */
} rfx_t;

static int rfx_setup(void **state)
{
    rfx_t *f = calloc(1, sizeof(*f));

    f->loop = ims_loop_new();
    f->node = dfx_node(f->loop, PCSCF_HOST, REALM, NULL, 0, DIA_APP_RX);
    *state = f;
    return 0;
}

static int rfx_teardown(void **state)
{
    rfx_t *f = *state;

    dfx_close(f->loop, f->node);
    free(f);
    return 0;
}

#define wire dfx_wire
#define drop_avp(m, code, vendor) dfx_wire(dfx_drop_avp((m), (code), (vendor)))

/* A minimal valid AAR: one component, one sub-component, one Subscription-Id. */
static void small_aar(rx_aar_t *r)
{
    memset(r, 0, sizeof(*r));
    r->nmedia = 1;
    r->media[0].number = 1;
    r->media[0].nsubs = 1;
    r->media[0].subs[0].flow_number = 1;
    strcpy(r->media[0].subs[0].flow_desc[0], FLOW);
    r->media[0].subs[0].nflow_desc = 1;
    r->nsub_ids = 1;
    r->sub_ids[0].type = RX_SUB_ID_E164;
    strcpy(r->sub_ids[0].data, "15550000001");
}

/* An AAR by hand: the node's head, Auth-Application-Id app, then body(b). */
static dia_msg_t *hand_aar(rfx_t *f, uint32_t app, void (*body)(dia_builder_t *b))
{
    dia_builder_t b;

    dia_node_request_init(f->node, &b, DIA_CMD_AAR, DIA_APP_RX, true, REALM, NULL);
    dia_put_u32(&b, DIA_AVP_AUTH_APPLICATION_ID, M, 0, app);
    body(&b);
    return wire(dia_build_finish(&b));
}

/* A RAR by hand with one Specific-Action and body(b). */
static dia_msg_t *hand_rar(rfx_t *f, void (*body)(dia_builder_t *b))
{
    dia_builder_t b;

    dia_node_request_init(f->node, &b, DIA_CMD_RAR, DIA_APP_RX, true, REALM, PCSCF_HOST);
    dia_put_u32(&b, DIA_AVP_AUTH_APPLICATION_ID, M, 0, DIA_APP_RX);
    dia_put_u32(&b, RX_AVP_SPECIFIC_ACTION, M, V3, RX_ACTION_LOSS_OF_BEARER);
    body(&b);
    return wire(dia_build_finish(&b));
}

/* ----------------------------------------------------------- missing AVPs */

typedef struct drop_case {
    const char *what;
    uint32_t code, vendor;
} drop_case_t;

#define HEAD_CASES                                                                        \
    { "Session-Id", DIA_AVP_SESSION_ID, 0 },                                              \
    { "Auth-Application-Id", DIA_AVP_AUTH_APPLICATION_ID, 0 },                            \
    { "Origin-Host", DIA_AVP_ORIGIN_HOST, 0 }, { "Origin-Realm", DIA_AVP_ORIGIN_REALM, 0 }, \
    { "Destination-Realm", DIA_AVP_DESTINATION_REALM, 0 }

typedef int (*req_parser_t)(const dia_msg_t *m, void *out, uint32_t *missing);

static int p_aar(const dia_msg_t *m, void *o, uint32_t *mi) { return rx_parse_aar(m, o, mi); }
static int p_str(const dia_msg_t *m, void *o, uint32_t *mi) { return rx_parse_str(m, o, mi); }
static int p_rar(const dia_msg_t *m, void *o, uint32_t *mi) { return rx_parse_rar(m, o, mi); }
static int p_asr(const dia_msg_t *m, void *o, uint32_t *mi) { return rx_parse_asr(m, o, mi); }

/* Drop each case from a full request (taken); the parser must name it. */
static void drop_each(dia_msg_t *full, req_parser_t parse, void *out, const drop_case_t *cases,
                      size_t n)
{
    uint32_t missing = 99;

    assert_int_equal(parse(full, out, &missing), IMS_OK);
    assert_int_equal(missing, 0);
    for (size_t i = 0; i < n; i++) {
        dia_msg_t *m = drop_avp(full, cases[i].code, cases[i].vendor);

        missing = 99;
        if (parse(m, out, &missing) != IMS_ERROR || missing != cases[i].code)
            fail_msg("command %u without %s: missing %u", full->code, cases[i].what, missing);
        dia_msg_free(m);
    }
    dia_msg_free(full);
}

static void test_missing_mandatory(void **state)
{
    static const drop_case_t aar[] = { HEAD_CASES };
    static const drop_case_t str[] = { HEAD_CASES, { "Termination-Cause", 295, 0 } };
    static const drop_case_t rar[] = { HEAD_CASES, { "Specific-Action", 513, V3 } };
    static const drop_case_t asr[] = { HEAD_CASES, { "Abort-Cause", 500, V3 } };
    rfx_t *f = *state;
    rx_str_t s = { RX_TERMINATION_LOGOUT }, ps;
    rx_rar_t r = { .nspecific_actions = 1, .specific_actions = { 2 } }, pr;
    rx_asr_t a = { 0 }, pa;
    dia_msg_t *full, *m;
    uint32_t missing = 99;

    small_aar(&f->aar);
    f->aar.has_framed_ip = true;
    drop_each(wire(rx_build_aar(f->node, REALM, NULL, SID, &f->aar, NULL)), p_aar, &f->aar,
              aar, IMS_ARRAY_LEN(aar));
    drop_each(wire(rx_build_str(f->node, REALM, NULL, SID, &s, NULL)), p_str, &ps, str,
              IMS_ARRAY_LEN(str));
    drop_each(wire(rx_build_rar(f->node, REALM, PCSCF_HOST, SID, &r, NULL)), p_rar, &pr, rar,
              IMS_ARRAY_LEN(rar));
    drop_each(wire(rx_build_asr(f->node, REALM, PCSCF_HOST, SID, &a, NULL)), p_asr, &pa, asr,
              IMS_ARRAY_LEN(asr));

    /* Optional AVPs dropped are fine: the AAR without media, ids or address. */
    small_aar(&f->aar);
    f->aar.has_framed_ip = true;
    full = wire(rx_build_aar(f->node, REALM, NULL, SID, &f->aar, NULL));
    m = drop_avp(full, RX_AVP_MEDIA_COMPONENT_DESCRIPTION, V3);
    dia_msg_free(full);
    full = drop_avp(m, RX_AVP_SUBSCRIPTION_ID, 0);
    dia_msg_free(m);
    m = drop_avp(full, RX_AVP_FRAMED_IP_ADDRESS, 0);
    assert_int_equal(rx_parse_aar(m, &f->aar, &missing), IMS_OK);
    assert_int_equal(f->aar.nmedia, 0);
    assert_int_equal(f->aar.nsub_ids, 0);
    assert_false(f->aar.has_framed_ip);
    dia_msg_free(m);
    dia_msg_free(full);
}

static void body_mcd_no_number(dia_builder_t *b)
{
    dia_group_begin(b, RX_AVP_MEDIA_COMPONENT_DESCRIPTION, M, V3);
    dia_put_u32(b, RX_AVP_MEDIA_TYPE, M, V3, RX_MEDIA_AUDIO);
    dia_group_end(b);
}

static void body_msc_no_flow_number(dia_builder_t *b)
{
    dia_group_begin(b, RX_AVP_MEDIA_COMPONENT_DESCRIPTION, M, V3);
    dia_put_u32(b, RX_AVP_MEDIA_COMPONENT_NUMBER, M, V3, 1);
    dia_group_begin(b, RX_AVP_MEDIA_SUB_COMPONENT, M, V3);
    dia_put_str(b, RX_AVP_FLOW_DESCRIPTION, M, V3, FLOW);
    dia_group_end(b);
    dia_group_end(b);
}

static void body_sub_id_no_type(dia_builder_t *b)
{
    dia_group_begin(b, RX_AVP_SUBSCRIPTION_ID, M, 0);
    dia_put_str(b, RX_AVP_SUBSCRIPTION_ID_DATA, M, 0, "15550000001");
    dia_group_end(b);
}

static void body_sub_id_no_data(dia_builder_t *b)
{
    dia_group_begin(b, RX_AVP_SUBSCRIPTION_ID, M, 0);
    dia_put_u32(b, RX_AVP_SUBSCRIPTION_ID_TYPE, M, 0, RX_SUB_ID_E164);
    dia_group_end(b);
}

static void body_flows_no_number(dia_builder_t *b)
{
    dia_group_begin(b, RX_AVP_FLOWS, M, V3);
    dia_put_u32(b, RX_AVP_FLOW_NUMBER, M, V3, 1);
    dia_group_end(b);
}

static void test_missing_inside_groups(void **state)
{
    rfx_t *f = *state;
    rx_rar_t r;
    dia_msg_t *m;
    uint32_t missing;
    static const struct {
        void (*body)(dia_builder_t *b);
        uint32_t want;
    } cases[] = {
        { body_mcd_no_number, RX_AVP_MEDIA_COMPONENT_NUMBER },
        { body_msc_no_flow_number, RX_AVP_FLOW_NUMBER },
        { body_sub_id_no_type, RX_AVP_SUBSCRIPTION_ID_TYPE },
        { body_sub_id_no_data, RX_AVP_SUBSCRIPTION_ID_DATA },
    };

    for (size_t i = 0; i < IMS_ARRAY_LEN(cases); i++) {
        m = hand_aar(f, DIA_APP_RX, cases[i].body);
        missing = 99;
        assert_int_equal(rx_parse_aar(m, &f->aar, &missing), IMS_ERROR);
        assert_int_equal(missing, cases[i].want);
        dia_msg_free(m);
    }
    m = hand_rar(f, body_flows_no_number);
    missing = 99;
    assert_int_equal(rx_parse_rar(m, &r, &missing), IMS_ERROR);
    assert_int_equal(missing, RX_AVP_MEDIA_COMPONENT_NUMBER);
    dia_msg_free(m);
}

/* ------------------------------------------------------------- bad values */

static void body_nothing(dia_builder_t *b)
{
    (void)b;
}

static void body_nine_actions(dia_builder_t *b)
{
    for (uint32_t i = 1; i <= 9; i++)
        dia_put_u32(b, RX_AVP_SPECIFIC_ACTION, M, V3, i);
}

static void body_three_flow_descs(dia_builder_t *b)
{
    dia_group_begin(b, RX_AVP_MEDIA_COMPONENT_DESCRIPTION, M, V3);
    dia_put_u32(b, RX_AVP_MEDIA_COMPONENT_NUMBER, M, V3, 1);
    dia_group_begin(b, RX_AVP_MEDIA_SUB_COMPONENT, M, V3);
    dia_put_u32(b, RX_AVP_FLOW_NUMBER, M, V3, 1);
    for (int i = 0; i < 3; i++)
        dia_put_str(b, RX_AVP_FLOW_DESCRIPTION, M, V3, FLOW);
    dia_group_end(b);
    dia_group_end(b);
}

static void body_prefix_129(dia_builder_t *b)
{
    static const uint8_t p[18] = { 0, 129 };

    dia_put_octets(b, RX_AVP_FRAMED_IPV6_PREFIX, M, 0, p, sizeof(p));
}

static void body_prefix_short(dia_builder_t *b)
{
    static const uint8_t p[6] = { 0, 64, 0x20, 0x01, 0x0d, 0xb8 };   /* 32 bits of 64 */

    dia_put_octets(b, RX_AVP_FRAMED_IPV6_PREFIX, M, 0, p, sizeof(p));
}

static void body_ip_16(dia_builder_t *b)
{
    static const uint8_t ip[16] = { 0x20, 0x01 };

    dia_put_octets(b, RX_AVP_FRAMED_IP_ADDRESS, M, 0, ip, sizeof(ip));
}

static void body_long_flow(dia_builder_t *b)
{
    char s[301];

    memset(s, 'a', 300);
    s[300] = '\0';
    dia_group_begin(b, RX_AVP_MEDIA_COMPONENT_DESCRIPTION, M, V3);
    dia_put_u32(b, RX_AVP_MEDIA_COMPONENT_NUMBER, M, V3, 1);
    dia_group_begin(b, RX_AVP_MEDIA_SUB_COMPONENT, M, V3);
    dia_put_u32(b, RX_AVP_FLOW_NUMBER, M, V3, 1);
    dia_put_str(b, RX_AVP_FLOW_DESCRIPTION, M, V3, s);
    dia_group_end(b);
    dia_group_end(b);
}

static void test_bad_values(void **state)
{
    rfx_t *f = *state;
    static void (*const bodies[])(dia_builder_t *b) = {
        body_nine_actions, body_three_flow_descs, body_prefix_129, body_prefix_short,
        body_ip_16, body_long_flow,
    };
    rx_str_t s;
    dia_msg_t *m;
    uint32_t missing = 99;

    /* The control: a hand-made AAR with nothing more is fine. */
    m = hand_aar(f, DIA_APP_RX, body_nothing);
    assert_int_equal(rx_parse_aar(m, &f->aar, &missing), IMS_OK);
    /* ...but not as a STR: the wrong command, missing 0. */
    missing = 99;
    assert_int_equal(rx_parse_str(m, &s, &missing), IMS_ERROR);
    assert_int_equal(missing, 0);
    dia_msg_free(m);

    m = hand_aar(f, DIA_APP_CX, body_nothing);      /* Auth-Application-Id of Cx */
    missing = 99;
    assert_int_equal(rx_parse_aar(m, &f->aar, &missing), IMS_ERROR);
    assert_int_equal(missing, 0);
    dia_msg_free(m);

    for (size_t i = 0; i < IMS_ARRAY_LEN(bodies); i++) {
        m = hand_aar(f, DIA_APP_RX, bodies[i]);
        missing = 99;
        if (rx_parse_aar(m, &f->aar, &missing) != IMS_ERROR || missing != 0)
            fail_msg("bad AAR body %zu: accepted or missing %u", i, missing);
        dia_msg_free(m);
    }
}

static void test_bad_answers(void **state)
{
    rfx_t *f = *state;
    rx_str_t s = { RX_TERMINATION_LOGOUT };
    rx_sta_t sta = { { DIA_SUCCESS, false } };
    rx_raa_t raa;
    rx_aaa_t aaa;
    dia_msg_t *req, *ans, *bad;
    dia_builder_t b;

    req = wire(rx_build_str(f->node, REALM, NULL, SID, &s, NULL));

    /* No Result-Code and no Experimental-Result. */
    dia_node_answer_init(f->node, &b, req, 0);
    bad = wire(dia_build_finish(&b));
    assert_int_equal(rx_parse_sta(bad, &sta), IMS_ERROR);
    dia_msg_free(bad);

    /* An Auth-Application-Id not Rx's. */
    dia_node_answer_init(f->node, &b, req, DIA_SUCCESS);
    dia_put_u32(&b, DIA_AVP_AUTH_APPLICATION_ID, M, 0, DIA_APP_CX);
    bad = wire(dia_build_finish(&b));
    assert_int_equal(rx_parse_sta(bad, &sta), IMS_ERROR);
    dia_msg_free(bad);

    /* A STA is not a RAA or an AAA; a request is not an answer. */
    sta.result = (rx_result_t){ DIA_SUCCESS, false };
    ans = wire(rx_build_sta(f->node, req, &sta));
    assert_int_equal(rx_parse_sta(ans, &sta), IMS_OK);
    assert_int_equal(rx_parse_raa(ans, &raa), IMS_ERROR);
    assert_int_equal(rx_parse_aaa(ans, &aaa), IMS_ERROR);
    assert_int_equal(rx_parse_sta(req, &sta), IMS_ERROR);
    dia_msg_free(ans);
    dia_msg_free(req);
}

static void test_builders_refuse(void **state)
{
    rfx_t *f = *state;
    rx_str_t s = { RX_TERMINATION_LOGOUT };
    rx_rar_t r = { .nspecific_actions = 1, .specific_actions = { 2 } };
    rx_asr_t a = { 0 };
    rx_aaa_t aaa = { .result = { DIA_SUCCESS, false } };
    rx_sta_t sta = { { DIA_SUCCESS, false } };
    rx_raa_t raa = { { DIA_SUCCESS, false } };
    char sid[RX_SID_MAX], long_sid[RX_SID_MAX + 1];
    dia_msg_t *req, *ans;

    small_aar(&f->aar);
    strcpy(sid, "x");
    assert_null(rx_build_aar(f->node, NULL, NULL, SID, &f->aar, sid));
    assert_string_equal(sid, "");
    assert_null(rx_build_aar(f->node, "", NULL, SID, &f->aar, NULL));
    assert_null(rx_build_aar(f->node, REALM, NULL, "", &f->aar, NULL));
    memset(long_sid, 'a', RX_SID_MAX);
    long_sid[RX_SID_MAX] = '\0';
    assert_null(rx_build_aar(f->node, REALM, NULL, long_sid, &f->aar, NULL));

    /* Bad struct contents fail the build, and sid_out says nothing. */
    f->aar.nmedia = RX_MAX_MEDIA + 1;
    strcpy(sid, "x");
    assert_null(rx_build_aar(f->node, REALM, NULL, NULL, &f->aar, sid));
    assert_string_equal(sid, "");
    small_aar(&f->aar);
    f->aar.media[0].nsubs = RX_MAX_SUBS + 1;
    assert_null(rx_build_aar(f->node, REALM, NULL, SID, &f->aar, NULL));
    small_aar(&f->aar);
    f->aar.media[0].subs[0].flow_desc[0][0] = '\0';
    assert_null(rx_build_aar(f->node, REALM, NULL, SID, &f->aar, NULL));
    small_aar(&f->aar);
    f->aar.media[0].ncodec_data = 1;
    memset(f->aar.media[0].codec_data[0], 'c', RX_CODEC_DATA);     /* not terminated */
    assert_null(rx_build_aar(f->node, REALM, NULL, SID, &f->aar, NULL));
    small_aar(&f->aar);
    f->aar.nspecific_actions = RX_MAX_ACTIONS + 1;
    assert_null(rx_build_aar(f->node, REALM, NULL, SID, &f->aar, NULL));
    small_aar(&f->aar);
    f->aar.sub_ids[0].data[0] = '\0';
    assert_null(rx_build_aar(f->node, REALM, NULL, SID, &f->aar, NULL));
    small_aar(&f->aar);
    f->aar.has_framed_ipv6 = true;
    f->aar.framed_ipv6_prefix_len = 129;
    assert_null(rx_build_aar(f->node, REALM, NULL, SID, &f->aar, NULL));

    /* RAR and ASR need a Destination-Host; a RAR at least one Specific-Action. */
    assert_null(rx_build_rar(f->node, REALM, NULL, SID, &r, NULL));
    assert_null(rx_build_asr(f->node, REALM, "", SID, &a, NULL));
    r.nspecific_actions = 0;
    assert_null(rx_build_rar(f->node, REALM, PCSCF_HOST, SID, &r, NULL));
    r.nspecific_actions = 1;
    r.nflows = 1;
    r.flows[0].nflow_numbers = RX_MAX_FLOWS + 1;
    assert_null(rx_build_rar(f->node, REALM, PCSCF_HOST, SID, &r, NULL));

    /* Answers only to their own request; an AN-Charging-Id too long. */
    req = wire(rx_build_str(f->node, REALM, NULL, SID, &s, NULL));
    assert_null(rx_build_aaa(f->node, req, &aaa));
    assert_null(rx_build_raa(f->node, req, &raa));
    ans = rx_build_sta(f->node, req, &sta);
    assert_non_null(ans);
    dia_msg_free(ans);
    dia_msg_free(req);
    small_aar(&f->aar);
    req = wire(rx_build_aar(f->node, REALM, NULL, SID, &f->aar, NULL));
    assert_null(rx_build_sta(f->node, req, &sta));
    assert_null(rx_build_aaa(f->node, NULL, &aaa));
    ans = rx_build_aaa(f->node, req, &aaa);
    assert_non_null(ans);
    dia_msg_free(ans);
    aaa.an_charging_id_len = RX_STR + 1;
    assert_null(rx_build_aaa(f->node, req, &aaa));
    dia_msg_free(req);
}

static void test_parse_error_answer(void **state)
{
    rfx_t *f = *state;
    rx_rar_t r = { .nspecific_actions = 1, .specific_actions = { 2 } };
    rx_str_t s = { RX_TERMINATION_LOGOUT };
    rx_raa_t raa;
    rx_sta_t sta;
    dia_msg_t *req, *ans;
    dia_avp_t fa, x;
    dia_iter_t it;

    req = wire(rx_build_rar(f->node, REALM, PCSCF_HOST, SID, &r, NULL));
    ans = wire(rx_build_parse_error_answer(f->node, req, RX_AVP_SPECIFIC_ACTION));
    assert_int_equal(ans->flags, 0x40);
    assert_int_equal(rx_parse_raa(ans, &raa), IMS_OK);
    assert_int_equal(raa.result.code, DIA_MISSING_AVP);
    assert_false(raa.result.experimental);
    assert_true(dia_msg_find(ans, DIA_AVP_FAILED_AVP, 0, &fa));
    dia_iter_group(&fa, &it);
    assert_true(dia_iter_next(&it, &x));
    assert_int_equal(x.code, 513);
    assert_int_equal(x.vendor, V3);
    assert_int_equal(x.flags, 0xC0);
    assert_int_equal(x.len, 4);                 /* Enumerated: a zero-filled example */
    dia_msg_free(ans);

    ans = wire(rx_build_parse_error_answer(f->node, req, 0));
    assert_int_equal(rx_parse_raa(ans, &raa), IMS_OK);
    assert_int_equal(raa.result.code, DIA_INVALID_AVP_VALUE);
    assert_false(dia_msg_find(ans, DIA_AVP_FAILED_AVP, 0, &fa));
    dia_msg_free(ans);
    dia_msg_free(req);

    req = wire(rx_build_str(f->node, REALM, NULL, SID, &s, NULL));
    ans = wire(rx_build_parse_error_answer(f->node, req, RX_AVP_TERMINATION_CAUSE));
    assert_int_equal(rx_parse_sta(ans, &sta), IMS_OK);
    assert_int_equal(sta.result.code, DIA_MISSING_AVP);
    assert_true(dia_msg_find(ans, DIA_AVP_FAILED_AVP, 0, &fa));
    assert_true(dia_group_find(&fa, RX_AVP_TERMINATION_CAUSE, 0, &x));
    assert_int_equal(x.flags, 0x40);
    assert_int_equal(x.len, 4);
    dia_msg_free(ans);
    dia_msg_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_mandatory, rfx_setup, rfx_teardown),
        cmocka_unit_test_setup_teardown(test_missing_inside_groups, rfx_setup, rfx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, rfx_setup, rfx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_answers, rfx_setup, rfx_teardown),
        cmocka_unit_test_setup_teardown(test_builders_refuse, rfx_setup, rfx_teardown),
        cmocka_unit_test_setup_teardown(test_parse_error_answer, rfx_setup, rfx_teardown),
    };

    ims_log_init("test_rx_refusals", IMS_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
