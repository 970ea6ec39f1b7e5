/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rx parsers: one pass over a validated message's AVPs filling a plain struct,
 * as the Cx ones do (cx_parse.c).
 *
 * Each parser walks the top-level AVPs once (pass_next), which also records
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
#include "diameter/base/dict.h"
#include "diameter/rx/rx.h"

#define V3 DIA_VENDOR_3GPP
#define SEEN0_MAX 1024u     /* base codes we track */
#define SEEN3_BASE 500u     /* 3GPP Rx codes 500..627 */
#define SEEN3_MAX 128u

typedef struct rx_pass {
    dia_iter_t it;
    bool bad;                       /* a value did not fit or had the wrong size */
    bool has_result;
    rx_result_t result;
    uint32_t inner_missing;         /* first mandatory AVP missing inside a group */
    uint8_t seen0[SEEN0_MAX / 8];   /* vendor 0 codes present */
    uint8_t seen3[SEEN3_MAX / 8];   /* vendor 10415 codes present, from 500 */
} rx_pass_t;

static bool is_avp(const dia_avp_t *a, uint32_t code, uint32_t vendor)
{
    return a->code == code && a->vendor == vendor;
}

static void mark(rx_pass_t *p, const dia_avp_t *a)
{
    if (a->vendor == 0 && a->code < SEEN0_MAX)
        p->seen0[a->code / 8] |= (uint8_t)(1u << (a->code % 8));
    else if (a->vendor == V3 && a->code >= SEEN3_BASE && a->code - SEEN3_BASE < SEEN3_MAX)
        p->seen3[(a->code - SEEN3_BASE) / 8] |= (uint8_t)(1u << ((a->code - SEEN3_BASE) % 8));
}

/* code: a base code below 500, or an Rx code (500..627, vendor 10415). */
static bool seen(const rx_pass_t *p, uint32_t code)
{
    if (code >= SEEN3_BASE && code - SEEN3_BASE < SEEN3_MAX)
        return (p->seen3[(code - SEEN3_BASE) / 8] >> ((code - SEEN3_BASE) % 8)) & 1u;
    return code < SEEN0_MAX && ((p->seen0[code / 8] >> (code % 8)) & 1u);
}

static void inner_missing(rx_pass_t *p, uint32_t code)
{
    if (p->inner_missing == 0)
        p->inner_missing = code;
}

/* ---- typed takes: a failure marks the pass bad ---- */

static void take_str(rx_pass_t *p, const dia_avp_t *a, char *buf, size_t len)
{
    if (dia_avp_str(a, buf, len) != IMS_OK) {
        buf[0] = '\0';
        p->bad = true;
    }
}

static void take_u32(rx_pass_t *p, const dia_avp_t *a, uint32_t *v)
{
    if (dia_avp_u32(a, v) != IMS_OK)
        p->bad = true;
}

static void take_opt_u32(rx_pass_t *p, const dia_avp_t *a, bool *has, uint32_t *v)
{
    take_u32(p, a, v);
    *has = true;
}

/* One more of a repeated Unsigned32/Enumerated AVP into arr[*n]; too many: bad. */
static void take_u32_rep(rx_pass_t *p, const dia_avp_t *a, uint32_t *arr, int *n, int max)
{
    if (*n >= max)
        p->bad = true;
    else
        take_u32(p, a, &arr[(*n)++]);
}

static void take_result(rx_pass_t *p, const dia_avp_t *a)
{
    dia_avp_t x;

    if (a->code == DIA_AVP_RESULT_CODE) {
        if (p->has_result && p->result.experimental)
            return;     /* a 3GPP outcome says more than a base one */
        take_u32(p, a, &p->result.code);
        p->result.experimental = false;
    } else if (dia_group_find(a, DIA_AVP_EXPERIMENTAL_RESULT_CODE, 0, &x)) {
        take_u32(p, &x, &p->result.code);
        p->result.experimental = true;
    } else {
        p->bad = true;
    }
    p->has_result = true;
}

/* ---- the pass ---- */

static bool pass_start(rx_pass_t *p, const dia_msg_t *m, uint32_t code, bool request)
{
    memset(p, 0, sizeof(*p));
    if (!m || m->code != code || m->app_id != DIA_APP_RX || dia_msg_is_request(m) != request)
        return false;
    dia_iter_msg(m, &p->it);
    return true;
}

/* The next AVP for the command's parser; results and Auth-Application-Id are
 * taken here. */
static bool pass_next(rx_pass_t *p, dia_avp_t *a)
{
    uint32_t app;

    while (dia_iter_next(&p->it, a)) {
        mark(p, a);
        if (is_avp(a, DIA_AVP_RESULT_CODE, 0) || is_avp(a, DIA_AVP_EXPERIMENTAL_RESULT, 0)) {
            take_result(p, a);
            continue;
        }
        if (is_avp(a, DIA_AVP_AUTH_APPLICATION_ID, 0)) {
            if (dia_avp_u32(a, &app) != IMS_OK || app != DIA_APP_RX)
                p->bad = true;
            continue;
        }
        return true;
    }
    return false;
}

/* End of a request: the first missing of the head, of need (0-ended), then
 * inside the groups. */
static int req_done(const rx_pass_t *p, uint32_t *missing, const uint32_t *need)
{
    static const uint32_t head[] = {
        DIA_AVP_SESSION_ID, DIA_AVP_AUTH_APPLICATION_ID, DIA_AVP_ORIGIN_HOST,
        DIA_AVP_ORIGIN_REALM, DIA_AVP_DESTINATION_REALM, 0
    };
    size_t i;

    *missing = 0;
    if (p->bad)
        return IMS_ERROR;
    for (i = 0; head[i] != 0; i++) {
        if (!seen(p, head[i])) {
            *missing = head[i];
            return IMS_ERROR;
        }
    }
    for (i = 0; need[i] != 0; i++) {
        if (!seen(p, need[i])) {
            *missing = need[i];
            return IMS_ERROR;
        }
    }
    *missing = p->inner_missing;
    return *missing ? IMS_ERROR : IMS_OK;
}

static int ans_done(const rx_pass_t *p, rx_result_t *res)
{
    if (p->bad || !p->has_result)
        return IMS_ERROR;
    *res = p->result;
    return IMS_OK;
}

/* ---- grouped parts ---- */

static void take_sub(rx_pass_t *p, const dia_avp_t *g, rx_media_sub_t *s)
{
    dia_iter_t it;
    dia_avp_t a;
    bool number = false;

    dia_iter_group(g, &it);
    while (dia_iter_next(&it, &a)) {
        if (a.vendor != V3)
            continue;
        if (a.code == RX_AVP_FLOW_NUMBER) {
            take_u32(p, &a, &s->flow_number);
            number = true;
        } else if (a.code == RX_AVP_FLOW_DESCRIPTION) {
            if (s->nflow_desc >= RX_MAX_FLOW_DESC)
                p->bad = true;
            else
                take_str(p, &a, s->flow_desc[s->nflow_desc++], RX_STR);
        } else if (a.code == RX_AVP_FLOW_STATUS) {
            take_opt_u32(p, &a, &s->has_flow_status, &s->flow_status);
        } else if (a.code == RX_AVP_FLOW_USAGE) {
            take_opt_u32(p, &a, &s->has_flow_usage, &s->flow_usage);
        } else if (a.code == RX_AVP_AF_SIGNALLING_PROTOCOL) {
            take_opt_u32(p, &a, &s->has_af_signalling_protocol, &s->af_signalling_protocol);
        }
    }
    if (!number)
        inner_missing(p, RX_AVP_FLOW_NUMBER);
}

/* The fields of a Media-Component-Description other than its sub-components. */
static void take_media_field(rx_pass_t *p, const dia_avp_t *a, rx_media_comp_t *c)
{
    switch (a->code) {
    case RX_AVP_MEDIA_TYPE:
        take_opt_u32(p, a, &c->has_media_type, &c->media_type);
        break;
    case RX_AVP_MAX_REQUESTED_BANDWIDTH_UL:
        take_opt_u32(p, a, &c->has_max_bw_ul, &c->max_bw_ul);
        break;
    case RX_AVP_MAX_REQUESTED_BANDWIDTH_DL:
        take_opt_u32(p, a, &c->has_max_bw_dl, &c->max_bw_dl);
        break;
    case RX_AVP_FLOW_STATUS:
        take_opt_u32(p, a, &c->has_flow_status, &c->flow_status);
        break;
    case RX_AVP_RR_BANDWIDTH:
        take_opt_u32(p, a, &c->has_rr_bw, &c->rr_bw);
        break;
    case RX_AVP_RS_BANDWIDTH:
        take_opt_u32(p, a, &c->has_rs_bw, &c->rs_bw);
        break;
    case RX_AVP_CODEC_DATA:
        if (c->ncodec_data >= RX_MAX_CODEC_DATA)
            p->bad = true;
        else
            take_str(p, a, c->codec_data[c->ncodec_data++], RX_CODEC_DATA);
        break;
    default:
        break;
    }
}

static void take_media(rx_pass_t *p, const dia_avp_t *g, rx_media_comp_t *c)
{
    dia_iter_t it;
    dia_avp_t a;
    bool number = false;

    dia_iter_group(g, &it);
    while (dia_iter_next(&it, &a)) {
        if (a.vendor != V3)
            continue;
        if (a.code == RX_AVP_MEDIA_COMPONENT_NUMBER) {
            take_u32(p, &a, &c->number);
            number = true;
        } else if (a.code == RX_AVP_MEDIA_SUB_COMPONENT) {
            if (c->nsubs >= RX_MAX_SUBS)
                p->bad = true;
            else
                take_sub(p, &a, &c->subs[c->nsubs++]);
        } else {
            take_media_field(p, &a, c);
        }
    }
    if (!number)
        inner_missing(p, RX_AVP_MEDIA_COMPONENT_NUMBER);
}

static void take_sub_id(rx_pass_t *p, const dia_avp_t *g, rx_sub_id_t *s)
{
    dia_avp_t x;

    if (dia_group_find(g, RX_AVP_SUBSCRIPTION_ID_TYPE, 0, &x))
        take_u32(p, &x, &s->type);
    else
        inner_missing(p, RX_AVP_SUBSCRIPTION_ID_TYPE);
    if (dia_group_find(g, RX_AVP_SUBSCRIPTION_ID_DATA, 0, &x))
        take_str(p, &x, s->data, sizeof(s->data));
    else
        inner_missing(p, RX_AVP_SUBSCRIPTION_ID_DATA);
}

/* Framed-IPv6-Prefix (RFC 3162 §2.3): Reserved, Prefix-Length, 0..16 prefix
 * octets covering the length. Bits past the length are cleared. */
static void take_ipv6_prefix(rx_pass_t *p, const dia_avp_t *a, rx_aar_t *r)
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

static void take_framed_ip(rx_pass_t *p, const dia_avp_t *a, rx_aar_t *r)
{
    if (a->len != 4) {
        p->bad = true;
        return;
    }
    memcpy(&r->framed_ip, a->data, 4);
    r->has_framed_ip = true;
}

static void take_flows(rx_pass_t *p, const dia_avp_t *g, rx_flows_t *f)
{
    dia_iter_t it;
    dia_avp_t a;
    bool number = false;

    dia_iter_group(g, &it);
    while (dia_iter_next(&it, &a)) {
        if (is_avp(&a, RX_AVP_MEDIA_COMPONENT_NUMBER, V3)) {
            take_u32(p, &a, &f->media_number);
            number = true;
        } else if (is_avp(&a, RX_AVP_FLOW_NUMBER, V3)) {
            take_u32_rep(p, &a, f->flow_numbers, &f->nflow_numbers, RX_MAX_FLOWS);
        }
    }
    if (!number)
        inner_missing(p, RX_AVP_MEDIA_COMPONENT_NUMBER);
}

/* ---- requests ---- */

/* The AAR's top-level AVPs of vendor 10415. */
static void take_aar_v3(rx_pass_t *p, const dia_avp_t *a, rx_aar_t *r)
{
    switch (a->code) {
    case RX_AVP_AF_APPLICATION_IDENTIFIER:
        take_str(p, a, r->af_app_id, sizeof(r->af_app_id));
        break;
    case RX_AVP_MEDIA_COMPONENT_DESCRIPTION:
        if (r->nmedia >= RX_MAX_MEDIA)
            p->bad = true;
        else
            take_media(p, a, &r->media[r->nmedia++]);
        break;
    case RX_AVP_SERVICE_INFO_STATUS:
        take_opt_u32(p, a, &r->has_service_info_status, &r->service_info_status);
        break;
    case RX_AVP_AF_CHARGING_IDENTIFIER:
        take_str(p, a, r->af_charging_id, sizeof(r->af_charging_id));
        break;
    case RX_AVP_SIP_FORKING_INDICATION:
        take_opt_u32(p, a, &r->has_sip_forking, &r->sip_forking);
        break;
    case RX_AVP_SPECIFIC_ACTION:
        take_u32_rep(p, a, r->specific_actions, &r->nspecific_actions, RX_MAX_ACTIONS);
        break;
    case RX_AVP_RX_REQUEST_TYPE:
        take_opt_u32(p, a, &r->has_rx_request_type, &r->rx_request_type);
        break;
    default:
        break;
    }
}

int rx_parse_aar(const dia_msg_t *m, rx_aar_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { 0 };
    rx_pass_t p;
    dia_avp_t a;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!pass_start(&p, m, DIA_CMD_AAR, true))
        return IMS_ERROR;
    while (pass_next(&p, &a)) {
        if (a.vendor == V3) {
            take_aar_v3(&p, &a, r);
        } else if (is_avp(&a, RX_AVP_SUBSCRIPTION_ID, 0)) {
            if (r->nsub_ids >= RX_MAX_SUB_IDS)
                p.bad = true;
            else
                take_sub_id(&p, &a, &r->sub_ids[r->nsub_ids++]);
        } else if (is_avp(&a, RX_AVP_FRAMED_IP_ADDRESS, 0)) {
            take_framed_ip(&p, &a, r);
        } else if (is_avp(&a, RX_AVP_FRAMED_IPV6_PREFIX, 0)) {
            take_ipv6_prefix(&p, &a, r);
        }
    }
    return req_done(&p, missing, need);
}

int rx_parse_str(const dia_msg_t *m, rx_str_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { RX_AVP_TERMINATION_CAUSE, 0 };
    rx_pass_t p;
    dia_avp_t a;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!pass_start(&p, m, DIA_CMD_STR, true))
        return IMS_ERROR;
    while (pass_next(&p, &a)) {
        if (is_avp(&a, RX_AVP_TERMINATION_CAUSE, 0))
            take_u32(&p, &a, &r->termination_cause);
    }
    return req_done(&p, missing, need);
}

int rx_parse_rar(const dia_msg_t *m, rx_rar_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { RX_AVP_SPECIFIC_ACTION, 0 };
    rx_pass_t p;
    dia_avp_t a;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!pass_start(&p, m, DIA_CMD_RAR, true))
        return IMS_ERROR;
    while (pass_next(&p, &a)) {
        if (a.vendor != V3)
            continue;
        if (a.code == RX_AVP_SPECIFIC_ACTION) {
            take_u32_rep(&p, &a, r->specific_actions, &r->nspecific_actions, RX_MAX_ACTIONS);
        } else if (a.code == RX_AVP_FLOWS) {
            if (r->nflows >= RX_MAX_FLOWS)
                p.bad = true;
            else
                take_flows(&p, &a, &r->flows[r->nflows++]);
        } else if (a.code == RX_AVP_ABORT_CAUSE) {
            take_opt_u32(&p, &a, &r->has_abort_cause, &r->abort_cause);
        } else if (a.code == RX_AVP_IP_CAN_TYPE) {
            take_opt_u32(&p, &a, &r->has_ip_can_type, &r->ip_can_type);
        } else if (a.code == RX_AVP_RAT_TYPE) {
            take_opt_u32(&p, &a, &r->has_rat_type, &r->rat_type);
        }
    }
    return req_done(&p, missing, need);
}

int rx_parse_asr(const dia_msg_t *m, rx_asr_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { RX_AVP_ABORT_CAUSE, 0 };
    rx_pass_t p;
    dia_avp_t a;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!pass_start(&p, m, DIA_CMD_ASR, true))
        return IMS_ERROR;
    while (pass_next(&p, &a)) {
        if (is_avp(&a, RX_AVP_ABORT_CAUSE, V3))
            take_u32(&p, &a, &r->abort_cause);
    }
    return req_done(&p, missing, need);
}

/* ---- answers ---- */

static void take_an_charging(rx_pass_t *p, const dia_avp_t *g, rx_aaa_t *a)
{
    dia_avp_t x;

    if (a->an_charging_id_len > 0)
        return;     /* one per bearer may come; the first serves correlation */
    if (!dia_group_find(g, RX_AVP_ACCESS_NETWORK_CHARGING_IDENTIFIER_VALUE, V3, &x))
        return;
    if (x.len > sizeof(a->an_charging_id)) {
        p->bad = true;
        return;
    }
    memcpy(a->an_charging_id, x.data, x.len);
    a->an_charging_id_len = x.len;
}

int rx_parse_aaa(const dia_msg_t *m, rx_aaa_t *a)
{
    rx_pass_t p;
    dia_avp_t x;

    memset(a, 0, sizeof(*a));
    if (!pass_start(&p, m, DIA_CMD_AAR, false))
        return IMS_ERROR;
    while (pass_next(&p, &x)) {
        if (x.vendor != V3)
            continue;
        if (x.code == RX_AVP_ACCESS_NETWORK_CHARGING_IDENTIFIER) {
            take_an_charging(&p, &x, a);
        } else if (x.code == RX_AVP_ACCESS_NETWORK_CHARGING_ADDRESS) {
            /* Families other than IPv4/IPv6 are opaque to us: left out. */
            a->has_an_charging_addr = dia_avp_address(&x, &a->an_charging_addr) == IMS_OK;
        } else if (x.code == RX_AVP_IP_CAN_TYPE) {
            take_opt_u32(&p, &x, &a->has_ip_can_type, &a->ip_can_type);
        } else if (x.code == RX_AVP_RAT_TYPE) {
            take_opt_u32(&p, &x, &a->has_rat_type, &a->rat_type);
        }
    }
    return ans_done(&p, &a->result);
}

/* STA, RAA, ASA: only the result. */
static int parse_result_answer(const dia_msg_t *m, uint32_t code, rx_result_t *res)
{
    rx_pass_t p;
    dia_avp_t x;

    memset(res, 0, sizeof(*res));
    if (!pass_start(&p, m, code, false))
        return IMS_ERROR;
    while (pass_next(&p, &x))
        ;
    return ans_done(&p, res);
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
