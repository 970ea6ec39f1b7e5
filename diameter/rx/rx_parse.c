/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rx parsers: one pass over a validated message's AVPs filling a plain struct,
 * as the Cx ones do (cx_parse.c).
 *
 * Each parser walks the top-level AVPs once (dia_pass_next), which also records
 * which AVPs were present and takes the result of an answer, then checks the
 * mandatory AVPs of the command ABNF (29.214 §5.6, `{}`) in ABNF order, so
 * the first one missing is the one named in *missing. For requests that is
 * the common head (Session-Id, Auth-Application-Id, Origin-Host, Origin-Realm,
 * Destination-Realm), then the command's own, then the mandatory AVPs inside
 * the grouped ones present (Media-Component-Number, Flow-Number, the two
 * halves of Subscription-Id). RAR/ASR's {Destination-Host} is not enforced:
 * routing already brought them here.
 *
 * Values that do not fit their buffer, have the wrong size, occur more often
 * than the struct holds, or make no sense (an Auth-Application-Id other than
 * Rx, a prefix longer than 128 bits) make the parse fail with *missing = 0
 * (the caller answers 5004). Unknown AVPs are skipped: their M bits were
 * checked against the dictionary by dia_msg_parse.
 */
#include <string.h>

#include "common/core/rc.h"
#include "diameter/base/avp_pass.h"
#include "diameter/base/dict.h"
#include "diameter/rx/rx.h"

#define V3 DIA_VENDOR_3GPP

static const uint32_t rx_head[] = {
    DIA_AVP_SESSION_ID, DIA_AVP_AUTH_APPLICATION_ID, DIA_AVP_ORIGIN_HOST,
    DIA_AVP_ORIGIN_REALM, DIA_AVP_DESTINATION_REALM, 0
};

/* 3GPP Rx codes 500..627 tracked (a base code is below 500); the top-level
 * Auth-Application-Id is taken by the pass and must say Rx. */
static const dia_pass_app_t rx_app = { DIA_APP_RX, 500u, true, rx_head };

/* ---- grouped parts ---- */

static void take_sub(dia_pass_t *p, const dia_avp_t *g, rx_media_sub_t *s)
{
    dia_iter_t it;
    dia_avp_t a;

    dia_iter_group(g, &it);
    while (dia_iter_next(&it, &a)) {
        if (a.vendor != V3)
            continue;
        if (a.code == RX_AVP_FLOW_NUMBER) {
            dia_take_u32(p, &a, &s->flow_number);
        } else if (a.code == RX_AVP_FLOW_DESCRIPTION) {
            dia_take_str_rep(p, &a, (char *)s->flow_desc, RX_STR, &s->nflow_desc,
                             RX_MAX_FLOW_DESC);
        } else if (a.code == RX_AVP_FLOW_STATUS) {
            dia_take_opt_u32(p, &a, &s->has_flow_status, &s->flow_status);
        } else if (a.code == RX_AVP_FLOW_USAGE) {
            dia_take_opt_u32(p, &a, &s->has_flow_usage, &s->flow_usage);
        } else if (a.code == RX_AVP_AF_SIGNALLING_PROTOCOL) {
            dia_take_opt_u32(p, &a, &s->has_af_signalling_protocol, &s->af_signalling_protocol);
        }
    }
    dia_pass_group_need(p, g, RX_AVP_FLOW_NUMBER, V3);
}

/* The fields of a Media-Component-Description other than its sub-components. */
static void take_media_field(dia_pass_t *p, const dia_avp_t *a, rx_media_comp_t *c)
{
    switch (a->code) {
    case RX_AVP_MEDIA_TYPE:
        dia_take_opt_u32(p, a, &c->has_media_type, &c->media_type);
        break;
    case RX_AVP_MAX_REQUESTED_BANDWIDTH_UL:
        dia_take_opt_u32(p, a, &c->has_max_bw_ul, &c->max_bw_ul);
        break;
    case RX_AVP_MAX_REQUESTED_BANDWIDTH_DL:
        dia_take_opt_u32(p, a, &c->has_max_bw_dl, &c->max_bw_dl);
        break;
    case RX_AVP_FLOW_STATUS:
        dia_take_opt_u32(p, a, &c->has_flow_status, &c->flow_status);
        break;
    case RX_AVP_RR_BANDWIDTH:
        dia_take_opt_u32(p, a, &c->has_rr_bw, &c->rr_bw);
        break;
    case RX_AVP_RS_BANDWIDTH:
        dia_take_opt_u32(p, a, &c->has_rs_bw, &c->rs_bw);
        break;
    case RX_AVP_CODEC_DATA:
        dia_take_str_rep(p, a, (char *)c->codec_data, RX_CODEC_DATA, &c->ncodec_data,
                         RX_MAX_CODEC_DATA);
        break;
    default:
        break;
    }
}

static void take_media(dia_pass_t *p, const dia_avp_t *g, rx_media_comp_t *c)
{
    dia_iter_t it;
    dia_avp_t a;

    dia_iter_group(g, &it);
    while (dia_iter_next(&it, &a)) {
        if (a.vendor != V3)
            continue;
        if (a.code == RX_AVP_MEDIA_COMPONENT_NUMBER) {
            dia_take_u32(p, &a, &c->number);
        } else if (a.code == RX_AVP_MEDIA_SUB_COMPONENT) {
            if (dia_pass_room(p, c->nsubs, RX_MAX_SUBS))
                take_sub(p, &a, &c->subs[c->nsubs++]);
        } else {
            take_media_field(p, &a, c);
        }
    }
    dia_pass_group_need(p, g, RX_AVP_MEDIA_COMPONENT_NUMBER, V3);
}

static void take_sub_id(dia_pass_t *p, const dia_avp_t *g, rx_sub_id_t *s)
{
    dia_avp_t x;

    if (dia_group_find(g, RX_AVP_SUBSCRIPTION_ID_TYPE, 0, &x))
        dia_take_u32(p, &x, &s->type);
    dia_pass_group_need(p, g, RX_AVP_SUBSCRIPTION_ID_TYPE, 0);
    if (dia_group_find(g, RX_AVP_SUBSCRIPTION_ID_DATA, 0, &x))
        dia_take_str(p, &x, s->data, sizeof(s->data));
    dia_pass_group_need(p, g, RX_AVP_SUBSCRIPTION_ID_DATA, 0);
}

/* Framed-IPv6-Prefix (RFC 3162 §2.3): Reserved, Prefix-Length, 0..16 prefix
 * octets covering the length. Bits past the length are cleared. */
static void take_ipv6_prefix(dia_pass_t *p, const dia_avp_t *a, rx_aar_t *r)
{
    uint8_t plen;

    if (a->len < 2 || a->len > 18 || a->data[1] > 128 || (a->len - 2u) * 8u < a->data[1]) {
        p->bad = true;
        return;
    }
    plen = a->data[1];
    memset(&r->framed_ipv6_prefix, 0, sizeof(r->framed_ipv6_prefix));
    for (unsigned i = 0; i < 16 && i * 8 < plen; i++) {
        unsigned bits = plen - i * 8;

        r->framed_ipv6_prefix.s6_addr[i] =
            bits >= 8 ? a->data[2 + i] : (uint8_t)(a->data[2 + i] & (0xffu << (8 - bits)));
    }
    r->framed_ipv6_prefix_len = plen;
    r->has_framed_ipv6 = true;
}

static void take_flows(dia_pass_t *p, const dia_avp_t *g, rx_flows_t *f)
{
    dia_iter_t it;
    dia_avp_t a;

    dia_iter_group(g, &it);
    while (dia_iter_next(&it, &a)) {
        if (dia_avp_is(&a, RX_AVP_MEDIA_COMPONENT_NUMBER, V3))
            dia_take_u32(p, &a, &f->media_number);
        else if (dia_avp_is(&a, RX_AVP_FLOW_NUMBER, V3))
            dia_take_u32_rep(p, &a, f->flow_numbers, &f->nflow_numbers, RX_MAX_FLOWS);
    }
    dia_pass_group_need(p, g, RX_AVP_MEDIA_COMPONENT_NUMBER, V3);
}

/* ---- requests ---- */

/* The AAR's top-level AVPs of vendor 10415. */
static void take_aar_v3(dia_pass_t *p, const dia_avp_t *a, rx_aar_t *r)
{
    switch (a->code) {
    case RX_AVP_AF_APPLICATION_IDENTIFIER:
        dia_take_str(p, a, r->af_app_id, sizeof(r->af_app_id));
        break;
    case RX_AVP_MEDIA_COMPONENT_DESCRIPTION:
        if (dia_pass_room(p, r->nmedia, RX_MAX_MEDIA))
            take_media(p, a, &r->media[r->nmedia++]);
        break;
    case RX_AVP_SERVICE_INFO_STATUS:
        dia_take_opt_u32(p, a, &r->has_service_info_status, &r->service_info_status);
        break;
    case RX_AVP_AF_CHARGING_IDENTIFIER:
        dia_take_str(p, a, r->af_charging_id, sizeof(r->af_charging_id));
        break;
    case RX_AVP_SIP_FORKING_INDICATION:
        dia_take_opt_u32(p, a, &r->has_sip_forking, &r->sip_forking);
        break;
    case RX_AVP_SPECIFIC_ACTION:
        dia_take_u32_rep(p, a, r->specific_actions, &r->nspecific_actions, RX_MAX_ACTIONS);
        break;
    case RX_AVP_RX_REQUEST_TYPE:
        dia_take_opt_u32(p, a, &r->has_rx_request_type, &r->rx_request_type);
        break;
    default:
        break;
    }
}

static void take_aar(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    rx_aar_t *r = ctx;

    if (a->vendor == V3) {
        take_aar_v3(p, a, r);
    } else if (dia_avp_is(a, RX_AVP_SUBSCRIPTION_ID, 0)) {
        if (dia_pass_room(p, r->nsub_ids, RX_MAX_SUB_IDS))
            take_sub_id(p, a, &r->sub_ids[r->nsub_ids++]);
    } else if (dia_avp_is(a, RX_AVP_FRAMED_IP_ADDRESS, 0)) {
        dia_take_fixed(p, a, &r->framed_ip, 4, &r->has_framed_ip);
    } else if (dia_avp_is(a, RX_AVP_FRAMED_IPV6_PREFIX, 0)) {
        take_ipv6_prefix(p, a, r);
    }
}

int rx_parse_aar(const dia_msg_t *m, rx_aar_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { 0 };

    memset(r, 0, sizeof(*r));
    return dia_pass_request(&rx_app, m, DIA_CMD_AAR, take_aar, r, need, missing);
}

static void take_str_cmd(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    rx_str_t *r = ctx;

    if (dia_avp_is(a, RX_AVP_TERMINATION_CAUSE, 0))
        dia_take_u32(p, a, &r->termination_cause);
}

int rx_parse_str(const dia_msg_t *m, rx_str_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { RX_AVP_TERMINATION_CAUSE, 0 };

    memset(r, 0, sizeof(*r));
    return dia_pass_request(&rx_app, m, DIA_CMD_STR, take_str_cmd, r, need, missing);
}

static void take_rar(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    rx_rar_t *r = ctx;

    if (a->vendor != V3)
        return;
    if (a->code == RX_AVP_SPECIFIC_ACTION) {
        dia_take_u32_rep(p, a, r->specific_actions, &r->nspecific_actions, RX_MAX_ACTIONS);
    } else if (a->code == RX_AVP_FLOWS) {
        if (dia_pass_room(p, r->nflows, RX_MAX_FLOWS))
            take_flows(p, a, &r->flows[r->nflows++]);
    } else if (a->code == RX_AVP_ABORT_CAUSE) {
        dia_take_opt_u32(p, a, &r->has_abort_cause, &r->abort_cause);
    } else if (a->code == RX_AVP_IP_CAN_TYPE) {
        dia_take_opt_u32(p, a, &r->has_ip_can_type, &r->ip_can_type);
    } else if (a->code == RX_AVP_RAT_TYPE) {
        dia_take_opt_u32(p, a, &r->has_rat_type, &r->rat_type);
    }
}

int rx_parse_rar(const dia_msg_t *m, rx_rar_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { RX_AVP_SPECIFIC_ACTION, 0 };

    memset(r, 0, sizeof(*r));
    return dia_pass_request(&rx_app, m, DIA_CMD_RAR, take_rar, r, need, missing);
}

static void take_asr(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    rx_asr_t *r = ctx;

    if (dia_avp_is(a, RX_AVP_ABORT_CAUSE, V3))
        dia_take_u32(p, a, &r->abort_cause);
}

int rx_parse_asr(const dia_msg_t *m, rx_asr_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { RX_AVP_ABORT_CAUSE, 0 };

    memset(r, 0, sizeof(*r));
    return dia_pass_request(&rx_app, m, DIA_CMD_ASR, take_asr, r, need, missing);
}

/* ---- answers ---- */

static void take_an_charging(dia_pass_t *p, const dia_avp_t *g, rx_aaa_t *a)
{
    dia_avp_t x;

    if (a->an_charging_id_len > 0)
        return;     /* one per bearer may come; the first serves correlation */
    if (!dia_group_find(g, RX_AVP_ACCESS_NETWORK_CHARGING_IDENTIFIER_VALUE, V3, &x))
        return;
    dia_take_octets(p, &x, a->an_charging_id, sizeof(a->an_charging_id),
                    &a->an_charging_id_len);
}

static void take_aaa(dia_pass_t *p, const dia_avp_t *x, void *ctx)
{
    rx_aaa_t *a = ctx;

    if (x->vendor != V3)
        return;
    if (x->code == RX_AVP_ACCESS_NETWORK_CHARGING_IDENTIFIER) {
        take_an_charging(p, x, a);
    } else if (x->code == RX_AVP_ACCESS_NETWORK_CHARGING_ADDRESS) {
        /* Families other than IPv4/IPv6 are opaque to us: left out. */
        a->has_an_charging_addr = dia_avp_address(x, &a->an_charging_addr) == IMS_OK;
    } else if (x->code == RX_AVP_IP_CAN_TYPE) {
        dia_take_opt_u32(p, x, &a->has_ip_can_type, &a->ip_can_type);
    } else if (x->code == RX_AVP_RAT_TYPE) {
        dia_take_opt_u32(p, x, &a->has_rat_type, &a->rat_type);
    }
}

/* An answer for code: take the command's AVPs (take may be NULL), then the
 * result into res. */
static int ans(const dia_msg_t *m, uint32_t code, dia_take_fn *take, void *ctx,
               rx_result_t *res)
{
    return dia_pass_answer(&rx_app, m, code, take, ctx, &res->code, &res->experimental);
}

int rx_parse_aaa(const dia_msg_t *m, rx_aaa_t *a)
{
    memset(a, 0, sizeof(*a));
    return ans(m, DIA_CMD_AAR, take_aaa, a, &a->result);
}

/* STA, RAA, ASA: only the result. */
static int parse_result_answer(const dia_msg_t *m, uint32_t code, rx_result_t *res)
{
    memset(res, 0, sizeof(*res));
    return ans(m, code, NULL, NULL, res);
}

int rx_parse_sta(const dia_msg_t *m, rx_sta_t *a)
{
    return parse_result_answer(m, DIA_CMD_STR, &a->result);
}

int rx_parse_raa(const dia_msg_t *m, rx_raa_t *a)
{
    return parse_result_answer(m, DIA_CMD_RAR, &a->result);
}

int rx_parse_asa(const dia_msg_t *m, rx_asa_t *a)
{
    return parse_result_answer(m, DIA_CMD_ASR, &a->result);
}
