/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Rx codec (refusals: test_rx_refusals.c; over real connections:
 * test_rx_loopback.c).
 *
 * (a) Every builder's output goes through the bytes (dia_msg_parse) into the
 *     matching parser, all fields compared: a call AAR with two media
 *     components of two sub-components each (RTP with uplink and downlink
 *     Flow-Descriptions, RTCP with Flow-Usage RTCP), AF-Signalling-Protocol,
 *     Codec-Data, Specific-Actions 1/2/4, Subscription-Ids and
 *     Framed-IP-Address; a signalling AAR with Framed-IPv6-Prefix (its bytes
 *     per RFC 3162, and a short 8-octet form read back); AAA with charging
 *     data, with Experimental-Result 5065 and as an E-bit 3001; STR/STA,
 *     RAR/RAA with Flows, ASR/ASA.
 * (b) Headers: requests 0xC0, answers P only, app 16777236, Session-Id first
 *     and equal to the one given (or a new one returned in sid_out),
 *     Auth-Application-Id 16777236 right after it (answers: AAA only), no
 *     Vendor-Specific-Application-Id or Auth-Session-State, and the V/M bits
 *     of every AVP (V only for AF-Signalling-Protocol and Rx-Request-Type).
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
#define SID "pcscf.ims.mnc001.mcc001.3gppnetwork.org;1712345678;42;call-1"
#define UL_RTP "permit in 17 from 10.45.0.2 49152 to 10.45.0.3 50000"
#define DL_RTP "permit out 17 from 10.45.0.3 50000 to 10.45.0.2 49152"
#define UL_RTCP "permit in 17 from 10.45.0.2 49153 to 10.45.0.3 50001"
#define DL_RTCP "permit out 17 from 10.45.0.3 50001 to 10.45.0.2 49153"
#define CODEC_UL "uplink\noffer\nm=audio 49152 RTP/AVP 116\na=rtpmap:116 AMR-WB/16000"
#define CODEC_DL "downlink\nanswer\nm=audio 50000 RTP/AVP 116\na=rtpmap:116 AMR-WB/16000"
#define V3 DIA_VENDOR_3GPP

/* ------------------------------------------------------------------ helpers */

typedef dfx_t rfx_t;

static int rfx_setup(void **state)
{
    return dfx_setup(state, PCSCF_HOST, REALM, DIA_APP_RX);
}

#define rfx_teardown dfx_teardown

/* The Rx AVPs 528..537 are V only (29.214 table 5.3.1: M must not). */
static bool rx_v_only(uint32_t code)
{
    return code >= 528 && code <= 537;
}

#define wire dfx_wire
#define find_u32 dfx_find_u32
#define check_bits(it, depth) dfx_check_bits((it), (depth), rx_v_only)

/* (b): the Rx head. sid: the Session-Id expected; app_id: Auth-Application-Id next. */
static void check_head(const dia_msg_t *m, bool request, const char *sid, bool app_id)
{
    dia_iter_t it;
    dia_avp_t a;
    char s[RX_SID_MAX];
    uint32_t v;

    assert_int_equal(m->app_id, 16777236);
    assert_int_equal(m->flags, request ? 0xC0 : 0x40);
    dia_iter_msg(m, &it);
    assert_true(dia_iter_next(&it, &a));
    assert_int_equal(a.code, DIA_AVP_SESSION_ID);
    assert_int_equal(dia_avp_str(&a, s, sizeof(s)), IMS_OK);
    assert_string_equal(s, sid);
    if (app_id) {
        assert_true(dia_iter_next(&it, &a));
        assert_int_equal(a.code, DIA_AVP_AUTH_APPLICATION_ID);
        assert_int_equal(dia_avp_u32(&a, &v), IMS_OK);
        assert_int_equal(v, 16777236);
    } else {
        assert_false(dia_msg_find(m, DIA_AVP_AUTH_APPLICATION_ID, 0, &a));
    }
    assert_false(dia_msg_find(m, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, 0, &a));
    assert_false(dia_msg_find(m, DIA_AVP_AUTH_SESSION_STATE, 0, &a));
    assert_true(dia_msg_find(m, DIA_AVP_ORIGIN_HOST, 0, &a));
    assert_true(dia_msg_find(m, DIA_AVP_ORIGIN_REALM, 0, &a));
    if (request)
        assert_true(dia_msg_find(m, DIA_AVP_DESTINATION_REALM, 0, &a));
    dia_iter_msg(m, &it);
    check_bits(&it, 0);
}

/* An answer to req: same ids and command. */
static void check_answer_of(const dia_msg_t *ans, const dia_msg_t *req)
{
    assert_int_equal(ans->code, req->code);
    assert_int_equal(ans->hbh, req->hbh);
    assert_int_equal(ans->e2e, req->e2e);
}

static void set_sub(rx_media_sub_t *s, uint32_t flow, const char *ul, const char *dl)
{
    s->flow_number = flow;
    strcpy(s->flow_desc[0], ul);
    strcpy(s->flow_desc[1], dl);
    s->nflow_desc = 2;
}

/* A call: audio (RTP + RTCP) and video (RTP + RTCP), IPv4 UE. */
static rx_aar_t *sample_aar(void)
{
    rx_aar_t *r = calloc(1, sizeof(*r));

    strcpy(r->af_app_id, "IMS Services");
    r->nmedia = 2;
    for (int i = 0; i < 2; i++) {
        rx_media_comp_t *c = &r->media[i];

        c->number = (uint32_t)i + 1;
        c->nsubs = 2;
        set_sub(&c->subs[0], 1, UL_RTP, DL_RTP);
        set_sub(&c->subs[1], 2, UL_RTCP, DL_RTCP);
        c->subs[1].has_flow_usage = true;
        c->subs[1].flow_usage = RX_USAGE_RTCP;
        c->has_media_type = true;
        c->media_type = i == 0 ? RX_MEDIA_AUDIO : RX_MEDIA_VIDEO;
        c->has_max_bw_ul = c->has_max_bw_dl = true;
        c->max_bw_ul = 41000u * (uint32_t)(i + 1);
        c->max_bw_dl = 42000u * (uint32_t)(i + 1);
        c->has_rr_bw = c->has_rs_bw = true;
        c->rr_bw = 0;                   /* 0 is a value (b=RR:0), not "absent" */
        c->rs_bw = 600;
        c->has_flow_status = true;
        c->flow_status = RX_FLOW_ENABLED;
    }
    r->media[0].subs[0].has_af_signalling_protocol = true;
    r->media[0].subs[0].af_signalling_protocol = RX_SIGNALLING_SIP;
    r->media[0].subs[0].has_flow_status = true;
    r->media[0].subs[0].flow_status = RX_FLOW_ENABLED_UPLINK;
    strcpy(r->media[0].codec_data[0], CODEC_UL);
    strcpy(r->media[0].codec_data[1], CODEC_DL);
    r->media[0].ncodec_data = 2;
    r->specific_actions[0] = RX_ACTION_CHARGING_CORRELATION_EXCHANGE;
    r->specific_actions[1] = RX_ACTION_LOSS_OF_BEARER;
    r->specific_actions[2] = RX_ACTION_RELEASE_OF_BEARER;
    r->nspecific_actions = 3;
    r->sub_ids[0] = (rx_sub_id_t){ .type = RX_SUB_ID_SIP_URI };
    strcpy(r->sub_ids[0].data, "sip:001010000000001@" REALM);
    r->sub_ids[1] = (rx_sub_id_t){ .type = RX_SUB_ID_IMSI };
    strcpy(r->sub_ids[1].data, "001010000000001");
    r->nsub_ids = 2;
    r->has_framed_ip = true;
    inet_pton(AF_INET, "10.45.0.2", &r->framed_ip);
    strcpy(r->af_charging_id, "icid-0a2d0002-1");
    r->has_service_info_status = true;
    r->service_info_status = 0;
    r->has_rx_request_type = true;
    r->rx_request_type = RX_REQUEST_INITIAL;
    r->has_sip_forking = true;
    r->sip_forking = 0;
    return r;
}

static void assert_sub_equal(const rx_media_sub_t *a, const rx_media_sub_t *b)
{
    assert_int_equal(a->flow_number, b->flow_number);
    assert_int_equal(a->nflow_desc, b->nflow_desc);
    for (int i = 0; i < b->nflow_desc; i++)
        assert_string_equal(a->flow_desc[i], b->flow_desc[i]);
    assert_int_equal(a->has_flow_usage, b->has_flow_usage);
    assert_int_equal(a->flow_usage, b->flow_usage);
    assert_int_equal(a->has_flow_status, b->has_flow_status);
    assert_int_equal(a->flow_status, b->flow_status);
    assert_int_equal(a->has_af_signalling_protocol, b->has_af_signalling_protocol);
    assert_int_equal(a->af_signalling_protocol, b->af_signalling_protocol);
}

static void assert_media_equal(const rx_media_comp_t *a, const rx_media_comp_t *b)
{
    assert_int_equal(a->number, b->number);
    assert_int_equal(a->nsubs, b->nsubs);
    for (int i = 0; i < b->nsubs; i++)
        assert_sub_equal(&a->subs[i], &b->subs[i]);
    assert_int_equal(a->has_media_type, b->has_media_type);
    assert_int_equal(a->media_type, b->media_type);
    assert_int_equal(a->has_max_bw_ul, b->has_max_bw_ul);
    assert_int_equal(a->max_bw_ul, b->max_bw_ul);
    assert_int_equal(a->has_max_bw_dl, b->has_max_bw_dl);
    assert_int_equal(a->max_bw_dl, b->max_bw_dl);
    assert_int_equal(a->has_rr_bw, b->has_rr_bw);
    assert_int_equal(a->rr_bw, b->rr_bw);
    assert_int_equal(a->has_rs_bw, b->has_rs_bw);
    assert_int_equal(a->rs_bw, b->rs_bw);
    assert_int_equal(a->has_flow_status, b->has_flow_status);
    assert_int_equal(a->flow_status, b->flow_status);
    assert_int_equal(a->ncodec_data, b->ncodec_data);
    for (int i = 0; i < b->ncodec_data; i++)
        assert_string_equal(a->codec_data[i], b->codec_data[i]);
}

static void assert_aar_equal(const rx_aar_t *a, const rx_aar_t *b)
{
    assert_string_equal(a->af_app_id, b->af_app_id);
    assert_int_equal(a->nmedia, b->nmedia);
    for (int i = 0; i < b->nmedia; i++)
        assert_media_equal(&a->media[i], &b->media[i]);
    assert_int_equal(a->nspecific_actions, b->nspecific_actions);
    for (int i = 0; i < b->nspecific_actions; i++)
        assert_int_equal(a->specific_actions[i], b->specific_actions[i]);
    assert_int_equal(a->nsub_ids, b->nsub_ids);
    for (int i = 0; i < b->nsub_ids; i++) {
        assert_int_equal(a->sub_ids[i].type, b->sub_ids[i].type);
        assert_string_equal(a->sub_ids[i].data, b->sub_ids[i].data);
    }
    assert_int_equal(a->has_framed_ip, b->has_framed_ip);
    assert_memory_equal(&a->framed_ip, &b->framed_ip, 4);
    assert_int_equal(a->has_framed_ipv6, b->has_framed_ipv6);
    assert_int_equal(a->framed_ipv6_prefix_len, b->framed_ipv6_prefix_len);
    assert_memory_equal(&a->framed_ipv6_prefix, &b->framed_ipv6_prefix, 16);
    assert_string_equal(a->af_charging_id, b->af_charging_id);
    assert_int_equal(a->has_service_info_status, b->has_service_info_status);
    assert_int_equal(a->service_info_status, b->service_info_status);
    assert_int_equal(a->has_rx_request_type, b->has_rx_request_type);
    assert_int_equal(a->rx_request_type, b->rx_request_type);
    assert_int_equal(a->has_sip_forking, b->has_sip_forking);
    assert_int_equal(a->sip_forking, b->sip_forking);
}

/* ------------------------------------------------------------- (a) + (b) */

static void test_aar_call(void **state)
{
    static const uint8_t ip[] = { 0x00, 0x00, 0x00, 0x08, 0x40, 0x00, 0x00, 0x0c,
                                  10, 45, 0, 2 };
    rfx_t *f = *state;
    rx_aar_t *r = sample_aar(), *pr = calloc(1, sizeof(*pr));
    char sid[RX_SID_MAX] = "x";
    dia_msg_t *req;
    dia_avp_t x, y, z;
    uint32_t missing = 99;

    req = wire(rx_build_aar(f->node, REALM, PCRF_HOST, SID, r, sid));
    assert_string_equal(sid, SID);
    assert_int_equal(req->code, 265);
    check_head(req, true, SID, true);
    assert_int_equal(rx_parse_aar(req, pr, &missing), IMS_OK);
    assert_int_equal(missing, 0);
    assert_aar_equal(pr, r);

    /* Wire details: Framed-IP-Address is 4 octets (NASREQ), Flow-Description V+M
     * in its sub-component, AF-Signalling-Protocol V only. */
    assert_true(dia_msg_find(req, RX_AVP_FRAMED_IP_ADDRESS, 0, &x));
    assert_int_equal(x.raw_len, sizeof(ip));
    assert_memory_equal(x.raw, ip, sizeof(ip));
    assert_true(dia_msg_find(req, RX_AVP_MEDIA_COMPONENT_DESCRIPTION, V3, &x));
    assert_true(dia_group_find(&x, RX_AVP_MEDIA_SUB_COMPONENT, V3, &y));
    assert_true(dia_group_find(&y, RX_AVP_FLOW_DESCRIPTION, V3, &z));
    assert_int_equal(z.flags, 0xC0);
    assert_int_equal(z.len, strlen(UL_RTP));
    assert_memory_equal(z.data, UL_RTP, z.len);
    assert_true(dia_group_find(&y, RX_AVP_AF_SIGNALLING_PROTOCOL, V3, &z));
    assert_int_equal(z.flags, 0x80);
    assert_int_equal(find_u32(req, RX_AVP_SPECIFIC_ACTION, V3), 1);
    dia_msg_free(req);
    free(r);
    free(pr);
}

static void test_aar_ipv6_new_session(void **state)
{
    static const uint8_t want[18] = { 0, 64, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x45, 0x00, 0x01 };
    rfx_t *f = *state;
    rx_aar_t *r = calloc(1, sizeof(*r)), *pr = calloc(1, sizeof(*pr));
    rx_media_sub_t *s = &r->media[0].subs[0];
    char sid[RX_SID_MAX], sid2[RX_SID_MAX];
    struct in6_addr ue;
    dia_msg_t *req;
    dia_builder_t b;
    dia_avp_t x;
    uint32_t missing;

    /* Registration signalling: component 0, one sub-component per SIP flow. */
    r->nmedia = 1;
    r->media[0].nsubs = 1;
    s->flow_number = 1;
    strcpy(s->flow_desc[0], "permit in 17 from 2001:db8:45:1::2 5064 to 2001:db8::10 5062");
    s->nflow_desc = 1;
    s->has_flow_usage = s->has_af_signalling_protocol = true;
    s->flow_usage = RX_USAGE_AF_SIGNALLING;
    s->af_signalling_protocol = RX_SIGNALLING_SIP;
    r->specific_actions[0] = RX_ACTION_LOSS_OF_BEARER;
    r->nspecific_actions = 1;
    inet_pton(AF_INET6, "2001:db8:45:1::2", &ue);
    r->has_framed_ipv6 = true;
    r->framed_ipv6_prefix = ue;
    r->framed_ipv6_prefix_len = 64;

    req = wire(rx_build_aar(f->node, REALM, NULL, NULL, r, sid));
    assert_int_equal(strncmp(sid, PCSCF_HOST ";", strlen(PCSCF_HOST) + 1), 0);
    check_head(req, true, sid, true);
    assert_false(dia_msg_find(req, DIA_AVP_DESTINATION_HOST, 0, &x));
    assert_false(dia_msg_find(req, RX_AVP_FRAMED_IP_ADDRESS, 0, &x));
    /* RFC 3162: reserved 0, length 64, the prefix with the host bits cleared. */
    assert_true(dia_msg_find(req, RX_AVP_FRAMED_IPV6_PREFIX, 0, &x));
    assert_int_equal(x.len, 18);
    assert_memory_equal(x.data, want, 18);
    assert_int_equal(rx_parse_aar(req, pr, &missing), IMS_OK);
    memset(&r->framed_ipv6_prefix.s6_addr[8], 0, 8);
    assert_aar_equal(pr, r);
    dia_msg_free(req);

    /* Another new session gets another id; NULL sid_out is allowed. */
    req = wire(rx_build_aar(f->node, REALM, NULL, NULL, r, sid2));
    assert_string_not_equal(sid, sid2);
    dia_msg_free(req);
    req = rx_build_aar(f->node, REALM, NULL, sid, r, NULL);
    assert_non_null(req);
    dia_msg_free(req);

    /* The short form (only the octets the length covers) reads the same. */
    dia_node_request_init(f->node, &b, DIA_CMD_AAR, DIA_APP_RX, true, REALM, NULL);
    dia_put_u32(&b, DIA_AVP_AUTH_APPLICATION_ID, DIA_AVP_M, 0, DIA_APP_RX);
    dia_put_octets(&b, RX_AVP_FRAMED_IPV6_PREFIX, DIA_AVP_M, 0, want, 10);
    req = wire(dia_build_finish(&b));
    assert_int_equal(rx_parse_aar(req, pr, &missing), IMS_OK);
    assert_true(pr->has_framed_ipv6);
    assert_int_equal(pr->framed_ipv6_prefix_len, 64);
    assert_memory_equal(&pr->framed_ipv6_prefix, &r->framed_ipv6_prefix, 16);
    dia_msg_free(req);
    free(r);
    free(pr);
}

static void test_aaa(void **state)
{
    rfx_t *f = *state;
    rx_aar_t *r = sample_aar();
    rx_aaa_t a = { .result = { DIA_SUCCESS, false } }, pa;
    struct sockaddr_in *sin = (struct sockaddr_in *)&a.an_charging_addr;
    dia_msg_t *req, *ans;
    dia_avp_t x;

    req = wire(rx_build_aar(f->node, REALM, PCRF_HOST, SID, r, NULL));
    memcpy(a.an_charging_id, "\x01\x02\x03\x04\x05", 5);
    a.an_charging_id_len = 5;
    a.has_an_charging_addr = true;
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, "10.0.0.7", &sin->sin_addr);
    a.has_ip_can_type = a.has_rat_type = true;
    a.ip_can_type = 0;          /* 3GPP-GPRS */
    a.rat_type = 1004;          /* EUTRAN */
    ans = wire(rx_build_aaa(f->node, req, &a));
    check_head(ans, false, SID, true);
    check_answer_of(ans, req);
    assert_int_equal(find_u32(ans, DIA_AVP_RESULT_CODE, 0), 2001);
    assert_int_equal(rx_parse_aaa(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 2001);
    assert_false(pa.result.experimental);
    assert_int_equal(pa.an_charging_id_len, 5);
    assert_memory_equal(pa.an_charging_id, a.an_charging_id, 5);
    assert_true(pa.has_an_charging_addr);
    assert_int_equal(pa.an_charging_addr.ss_family, AF_INET);
    assert_memory_equal(&((struct sockaddr_in *)&pa.an_charging_addr)->sin_addr,
                        &sin->sin_addr, 4);
    assert_true(pa.has_ip_can_type);
    assert_int_equal(pa.ip_can_type, 0);
    assert_true(pa.has_rat_type);
    assert_int_equal(pa.rat_type, 1004);
    dia_msg_free(ans);

    /* IP-CAN_SESSION_NOT_AVAILABLE: Experimental-Result, nothing else. */
    memset(&a, 0, sizeof(a));
    a.result = (rx_result_t){ RX_IP_CAN_SESSION_NOT_AVAILABLE, true };
    ans = wire(rx_build_aaa(f->node, req, &a));
    check_head(ans, false, SID, true);
    assert_false(dia_msg_find(ans, DIA_AVP_RESULT_CODE, 0, &x));
    assert_true(dia_msg_find(ans, DIA_AVP_EXPERIMENTAL_RESULT, 0, &x));
    assert_int_equal(rx_parse_aaa(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 5065);
    assert_true(pa.result.experimental);
    assert_false(pa.has_an_charging_addr);
    assert_false(pa.has_ip_can_type);
    dia_msg_free(ans);

    /* A protocol error: E bit, the generic answer (no Auth-Application-Id). */
    a.result = (rx_result_t){ DIA_TOO_BUSY, false };
    ans = wire(rx_build_aaa(f->node, req, &a));
    assert_int_equal(ans->flags, 0x60);
    assert_false(dia_msg_find(ans, DIA_AVP_AUTH_APPLICATION_ID, 0, &x));
    assert_int_equal(rx_parse_aaa(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 3004);
    dia_msg_free(ans);
    dia_msg_free(req);
    free(r);
}

static void test_str_sta(void **state)
{
    rfx_t *f = *state;
    rx_str_t r = { RX_TERMINATION_LOGOUT }, pr;
    rx_sta_t a = { { DIA_SUCCESS, false } }, pa;
    char sid[RX_SID_MAX];
    dia_msg_t *req, *ans;
    uint32_t missing;

    req = wire(rx_build_str(f->node, REALM, PCRF_HOST, SID, &r, sid));
    assert_string_equal(sid, SID);
    assert_int_equal(req->code, 275);
    check_head(req, true, SID, true);
    assert_int_equal(find_u32(req, RX_AVP_TERMINATION_CAUSE, 0), 1);
    assert_int_equal(rx_parse_str(req, &pr, &missing), IMS_OK);
    assert_int_equal(pr.termination_cause, RX_TERMINATION_LOGOUT);

    ans = wire(rx_build_sta(f->node, req, &a));
    check_head(ans, false, SID, false);
    check_answer_of(ans, req);
    assert_int_equal(rx_parse_sta(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 2001);
    assert_false(pa.result.experimental);
    dia_msg_free(ans);

    a.result = (rx_result_t){ DIA_UNKNOWN_SESSION_ID, false };
    ans = wire(rx_build_sta(f->node, req, &a));
    assert_int_equal(rx_parse_sta(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 5002);
    dia_msg_free(ans);
    dia_msg_free(req);
}

static void test_rar_raa(void **state)
{
    rfx_t *f = *state;
    rx_rar_t r = { .nspecific_actions = 2, .nflows = 2, .has_abort_cause = true,
                   .abort_cause = RX_ABORT_BEARER_RELEASED, .has_ip_can_type = true,
                   .ip_can_type = 5, .has_rat_type = true, .rat_type = 1004 }, pr;
    rx_raa_t a = { { DIA_SUCCESS, false } }, pa;
    dia_msg_t *req, *ans;
    dia_avp_t x;
    uint32_t missing;

    r.specific_actions[0] = RX_ACTION_LOSS_OF_BEARER;
    r.specific_actions[1] = RX_ACTION_IP_CAN_CHANGE;
    r.flows[0] = (rx_flows_t){ .media_number = 1, .nflow_numbers = 2, .flow_numbers = { 1, 2 } };
    r.flows[1] = (rx_flows_t){ .media_number = 2 };
    req = wire(rx_build_rar(f->node, REALM, PCSCF_HOST, SID, &r, NULL));
    assert_int_equal(req->code, 258);
    check_head(req, true, SID, true);
    assert_true(dia_msg_find(req, DIA_AVP_DESTINATION_HOST, 0, &x));
    assert_int_equal(rx_parse_rar(req, &pr, &missing), IMS_OK);
    assert_int_equal(pr.nspecific_actions, 2);
    assert_int_equal(pr.specific_actions[0], 2);
    assert_int_equal(pr.specific_actions[1], 6);
    assert_int_equal(pr.nflows, 2);
    assert_int_equal(pr.flows[0].media_number, 1);
    assert_int_equal(pr.flows[0].nflow_numbers, 2);
    assert_int_equal(pr.flows[0].flow_numbers[1], 2);
    assert_int_equal(pr.flows[1].media_number, 2);
    assert_int_equal(pr.flows[1].nflow_numbers, 0);
    assert_true(pr.has_abort_cause);
    assert_int_equal(pr.abort_cause, 0);
    assert_true(pr.has_ip_can_type);
    assert_int_equal(pr.ip_can_type, 5);
    assert_true(pr.has_rat_type);
    assert_int_equal(pr.rat_type, 1004);

    ans = wire(rx_build_raa(f->node, req, &a));
    check_head(ans, false, SID, false);
    check_answer_of(ans, req);
    assert_int_equal(rx_parse_raa(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 2001);
    dia_msg_free(ans);
    dia_msg_free(req);
}

static void test_asr_asa(void **state)
{
    rfx_t *f = *state;
    rx_asr_t r = { RX_ABORT_INSUFFICIENT_BEARER_RESOURCES }, pr;
    rx_asa_t a = { { DIA_SUCCESS, false } }, pa;
    dia_msg_t *req, *ans;
    uint32_t missing;

    req = wire(rx_build_asr(f->node, REALM, PCSCF_HOST, SID, &r, NULL));
    assert_int_equal(req->code, 274);
    check_head(req, true, SID, true);
    assert_int_equal(find_u32(req, RX_AVP_ABORT_CAUSE, V3), 2);
    assert_int_equal(rx_parse_asr(req, &pr, &missing), IMS_OK);
    assert_int_equal(pr.abort_cause, 2);
    ans = wire(rx_build_asa(f->node, req, &a));
    check_head(ans, false, SID, false);
    check_answer_of(ans, req);
    assert_int_equal(rx_parse_asa(ans, &pa), IMS_OK);
    assert_int_equal(pa.result.code, 2001);
    dia_msg_free(ans);
    dia_msg_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_aar_call, rfx_setup, rfx_teardown),
        cmocka_unit_test_setup_teardown(test_aar_ipv6_new_session, rfx_setup, rfx_teardown),
        cmocka_unit_test_setup_teardown(test_aaa, rfx_setup, rfx_teardown),
        cmocka_unit_test_setup_teardown(test_str_sta, rfx_setup, rfx_teardown),
        cmocka_unit_test_setup_teardown(test_rar_raa, rfx_setup, rfx_teardown),
        cmocka_unit_test_setup_teardown(test_asr_asa, rfx_setup, rfx_teardown),
    };

    ims_log_init("test_rx", IMS_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
