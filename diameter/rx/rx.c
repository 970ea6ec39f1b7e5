/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rx builders (TS 29.214 §5.6): one function per command, from a plain struct.
 *
 * AVP order follows the command ABNF: Session-Id first (the only fixed
 * position), then Auth-Application-Id, [Result-Code / Experimental-Result on
 * answers], Origin-Host/Realm, Destination-*, then the command's own AVPs. As
 * in Cx (app_build.h), the node writes its head (dia_node_request_init /
 * answer_init) into a small message whose AVPs we copy around ours, so there
 * is one Session-Id generator per node. Unlike Cx, a request may reuse the
 * caller's Session-Id: the head is then made without one and ours goes first.
 *
 * Flags: the Rx AVPs of Release 6/7 (500..527), IP-CAN-Type and RAT-Type are
 * V+M; the later additions (MPS-Identifier 528 onwards: AF-Signalling-Protocol,
 * Rx-Request-Type) are V only, because 29.214 table 5.3.1 says their M bit
 * must not be set and strict peers (freeDiameter's dictionary) refuse it.
 * Base, NASREQ and RFC 4006 AVPs: M, vendor 0.
 *
 * Invalid input from our own callers fails the build (the builder's failed
 * flag, so dia_build_finish returns NULL).
 */
#include "common/core/rc.h"
#include "diameter/base/app_build.h"
#include "diameter/base/dict.h"
#include "diameter/rx/rx.h"

#define V3 DIA_VENDOR_3GPP
#define AVP_M DIA_AVP_M
#define RX_FIRST_NO_M 528u   /* MPS-Identifier: the first Rx AVP without M */
#define RX_LAST_NO_M 537u

/* ---- small puts ---- */

static uint8_t v3_flags(uint32_t code)
{
    return (code >= RX_FIRST_NO_M && code <= RX_LAST_NO_M) ? 0 : AVP_M;
}

static void put_v3_u32(dia_builder_t *b, uint32_t code, uint32_t v)
{
    dia_put_u32(b, code, v3_flags(code), V3, v);
}

static void put_opt_v3_u32(dia_builder_t *b, uint32_t code, bool has, uint32_t v)
{
    if (has)
        put_v3_u32(b, code, v);
}

/* AVP flags for code of vendor (0 or 10415). */
static uint8_t avp_flags(uint32_t code, uint32_t vendor)
{
    return vendor ? v3_flags(code) : AVP_M;
}

static void put_req_str(dia_builder_t *b, uint32_t code, uint32_t vendor, const char *s,
                        size_t cap)
{
    dia_put_req_str(b, code, avp_flags(code, vendor), vendor, s, cap);
}

static void put_opt_str(dia_builder_t *b, uint32_t code, uint32_t vendor, const char *s,
                        size_t cap)
{
    dia_put_opt_str(b, code, avp_flags(code, vendor), vendor, s, cap);
}

/* ---- message head ---- */

static void put_auth_app_id(dia_builder_t *b)
{
    dia_put_u32(b, DIA_AVP_AUTH_APPLICATION_ID, AVP_M, 0, DIA_APP_RX);
}

/* Session-Id, Auth-Application-Id, [result]. */
static const dia_app_head_t rx_head = { DIA_APP_RX, put_auth_app_id, NULL };

/* ---- grouped parts ---- */

static void put_sub(dia_builder_t *b, const rx_media_sub_t *s)
{
    if (!dia_build_count_ok(b, s->nflow_desc, RX_MAX_FLOW_DESC))
        return;
    dia_group_begin(b, RX_AVP_MEDIA_SUB_COMPONENT, AVP_M, V3);
    put_v3_u32(b, RX_AVP_FLOW_NUMBER, s->flow_number);
    for (int i = 0; i < s->nflow_desc; i++)
        put_req_str(b, RX_AVP_FLOW_DESCRIPTION, V3, s->flow_desc[i], RX_STR);
    put_opt_v3_u32(b, RX_AVP_FLOW_STATUS, s->has_flow_status, s->flow_status);
    put_opt_v3_u32(b, RX_AVP_FLOW_USAGE, s->has_flow_usage, s->flow_usage);
    put_opt_v3_u32(b, RX_AVP_AF_SIGNALLING_PROTOCOL, s->has_af_signalling_protocol,
                   s->af_signalling_protocol);
    dia_group_end(b);
}

static void put_media(dia_builder_t *b, const rx_media_comp_t *c)
{
    if (!dia_build_count_ok(b, c->nsubs, RX_MAX_SUBS) ||
        !dia_build_count_ok(b, c->ncodec_data, RX_MAX_CODEC_DATA))
        return;
    dia_group_begin(b, RX_AVP_MEDIA_COMPONENT_DESCRIPTION, AVP_M, V3);
    put_v3_u32(b, RX_AVP_MEDIA_COMPONENT_NUMBER, c->number);
    for (int i = 0; i < c->nsubs; i++)
        put_sub(b, &c->subs[i]);
    put_opt_v3_u32(b, RX_AVP_MEDIA_TYPE, c->has_media_type, c->media_type);
    put_opt_v3_u32(b, RX_AVP_MAX_REQUESTED_BANDWIDTH_UL, c->has_max_bw_ul, c->max_bw_ul);
    put_opt_v3_u32(b, RX_AVP_MAX_REQUESTED_BANDWIDTH_DL, c->has_max_bw_dl, c->max_bw_dl);
    put_opt_v3_u32(b, RX_AVP_FLOW_STATUS, c->has_flow_status, c->flow_status);
    put_opt_v3_u32(b, RX_AVP_RR_BANDWIDTH, c->has_rr_bw, c->rr_bw);
    put_opt_v3_u32(b, RX_AVP_RS_BANDWIDTH, c->has_rs_bw, c->rs_bw);
    for (int i = 0; i < c->ncodec_data; i++)
        put_req_str(b, RX_AVP_CODEC_DATA, V3, c->codec_data[i], RX_CODEC_DATA);
    dia_group_end(b);
}

static void put_actions(dia_builder_t *b, const uint32_t *actions, int n)
{
    if (!dia_build_count_ok(b, n, RX_MAX_ACTIONS))
        return;
    for (int i = 0; i < n; i++)
        put_v3_u32(b, RX_AVP_SPECIFIC_ACTION, actions[i]);
}

static void put_sub_id(dia_builder_t *b, const rx_sub_id_t *s)
{
    dia_group_begin(b, RX_AVP_SUBSCRIPTION_ID, AVP_M, 0);
    dia_put_u32(b, RX_AVP_SUBSCRIPTION_ID_TYPE, AVP_M, 0, s->type);
    put_req_str(b, RX_AVP_SUBSCRIPTION_ID_DATA, 0, s->data, sizeof(s->data));
    dia_group_end(b);
}

/* Framed-IPv6-Prefix (RFC 3162 §2.3): Reserved, Prefix-Length, Prefix. We send
 * all 16 prefix octets with the bits past the length cleared, as open5gs and
 * Kamailio do; some PCRFs read the field as fixed-size. */
static void put_ipv6_prefix(dia_builder_t *b, const struct in6_addr *prefix, uint8_t len)
{
    uint8_t d[18] = { 0 };

    if (len > 128) {
        b->failed = true;
        return;
    }
    d[1] = len;
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = len > i * 8 ? len - i * 8 : 0;

        d[2 + i] = bits >= 8 ? prefix->s6_addr[i]
                             : (uint8_t)(prefix->s6_addr[i] & (0xffu << (8 - bits)));
    }
    dia_put_octets(b, RX_AVP_FRAMED_IPV6_PREFIX, AVP_M, 0, d, sizeof(d));
}

static void put_flows(dia_builder_t *b, const rx_flows_t *f)
{
    if (!dia_build_count_ok(b, f->nflow_numbers, RX_MAX_FLOWS))
        return;
    dia_group_begin(b, RX_AVP_FLOWS, AVP_M, V3);
    put_v3_u32(b, RX_AVP_MEDIA_COMPONENT_NUMBER, f->media_number);
    for (int i = 0; i < f->nflow_numbers; i++)
        put_v3_u32(b, RX_AVP_FLOW_NUMBER, f->flow_numbers[i]);
    dia_group_end(b);
}

/* ---- requests ---- */

/* need_host: RAR and ASR go to the one AF that holds the session; without a
 * Destination-Host they are refused like a missing struct. */
static dia_msg_t *rx_request(dia_node_t *n, uint32_t code, const char *dest_realm,
                             const char *dest_host, bool need_host, const char *sid,
                             char *sid_out, dia_put_fn *put, const void *r)
{
    if (need_host && (!dest_host || dest_host[0] == '\0'))
        r = NULL;
    return dia_app_request(&rx_head, n, code, dest_realm, dest_host, sid, sid_out, RX_SID_MAX,
                           put, r);
}

static void put_aar(dia_builder_t *b, const void *ctx)
{
    const rx_aar_t *r = ctx;

    put_opt_str(b, RX_AVP_AF_APPLICATION_IDENTIFIER, V3, r->af_app_id, sizeof(r->af_app_id));
    if (dia_build_count_ok(b, r->nmedia, RX_MAX_MEDIA))
        for (int i = 0; i < r->nmedia; i++)
            put_media(b, &r->media[i]);
    put_opt_v3_u32(b, RX_AVP_SERVICE_INFO_STATUS, r->has_service_info_status,
                   r->service_info_status);
    put_opt_str(b, RX_AVP_AF_CHARGING_IDENTIFIER, V3, r->af_charging_id,
                sizeof(r->af_charging_id));
    put_opt_v3_u32(b, RX_AVP_SIP_FORKING_INDICATION, r->has_sip_forking, r->sip_forking);
    put_actions(b, r->specific_actions, r->nspecific_actions);
    if (dia_build_count_ok(b, r->nsub_ids, RX_MAX_SUB_IDS))
        for (int i = 0; i < r->nsub_ids; i++)
            put_sub_id(b, &r->sub_ids[i]);
    if (r->has_framed_ip)
        dia_put_octets(b, RX_AVP_FRAMED_IP_ADDRESS, AVP_M, 0, &r->framed_ip, 4);
    if (r->has_framed_ipv6)
        put_ipv6_prefix(b, &r->framed_ipv6_prefix, r->framed_ipv6_prefix_len);
    put_opt_v3_u32(b, RX_AVP_RX_REQUEST_TYPE, r->has_rx_request_type, r->rx_request_type);
}

dia_msg_t *rx_build_aar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_aar_t *r, char *sid_out)
{
    return rx_request(n, DIA_CMD_AAR, dest_realm, dest_host, false, session_id, sid_out,
                      put_aar, r);
}

static void put_str_cmd(dia_builder_t *b, const void *ctx)
{
    const rx_str_t *r = ctx;

    dia_put_u32(b, RX_AVP_TERMINATION_CAUSE, AVP_M, 0, r->termination_cause);
}

dia_msg_t *rx_build_str(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_str_t *r, char *sid_out)
{
    return rx_request(n, DIA_CMD_STR, dest_realm, dest_host, false, session_id, sid_out,
                      put_str_cmd, r);
}

static void put_rar(dia_builder_t *b, const void *ctx)
{
    const rx_rar_t *r = ctx;

    if (r->nspecific_actions < 1)       /* *{Specific-Action}: one at least */
        b->failed = true;
    put_actions(b, r->specific_actions, r->nspecific_actions);
    if (dia_build_count_ok(b, r->nflows, RX_MAX_FLOWS))
        for (int i = 0; i < r->nflows; i++)
            put_flows(b, &r->flows[i]);
    put_opt_v3_u32(b, RX_AVP_ABORT_CAUSE, r->has_abort_cause, r->abort_cause);
    put_opt_v3_u32(b, RX_AVP_IP_CAN_TYPE, r->has_ip_can_type, r->ip_can_type);
    put_opt_v3_u32(b, RX_AVP_RAT_TYPE, r->has_rat_type, r->rat_type);
}

dia_msg_t *rx_build_rar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_rar_t *r, char *sid_out)
{
    return rx_request(n, DIA_CMD_RAR, dest_realm, dest_host, true, session_id, sid_out,
                      put_rar, r);
}

static void put_asr(dia_builder_t *b, const void *ctx)
{
    const rx_asr_t *r = ctx;

    put_v3_u32(b, RX_AVP_ABORT_CAUSE, r->abort_cause);
}

dia_msg_t *rx_build_asr(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_asr_t *r, char *sid_out)
{
    return rx_request(n, DIA_CMD_ASR, dest_realm, dest_host, true, session_id, sid_out,
                      put_asr, r);
}

/* ---- answers ---- */

/* The answer to req, which must be code; res NULL (the caller's struct
 * missing): none. app_id false: STA, RAA, ASA, whose ABNF has no
 * Auth-Application-Id. */
static dia_msg_t *rx_answer(dia_node_t *n, const dia_msg_t *req, uint32_t code,
                            const rx_result_t *res, bool app_id, dia_put_fn *put,
                            const void *a)
{
    if (!res || !req || req->code != code)
        return NULL;
    return dia_app_answer(&rx_head, n, req, res->code, res->experimental, app_id, put, a);
}

static void put_aaa(dia_builder_t *b, const void *ctx)
{
    const rx_aaa_t *a = ctx;

    if (a->an_charging_id_len > sizeof(a->an_charging_id)) {
        b->failed = true;
    } else if (a->an_charging_id_len > 0) {
        dia_group_begin(b, RX_AVP_ACCESS_NETWORK_CHARGING_IDENTIFIER, AVP_M, V3);
        dia_put_octets(b, RX_AVP_ACCESS_NETWORK_CHARGING_IDENTIFIER_VALUE, AVP_M, V3,
                       a->an_charging_id, a->an_charging_id_len);
        dia_group_end(b);
    }
    if (a->has_an_charging_addr)
        dia_put_address(b, RX_AVP_ACCESS_NETWORK_CHARGING_ADDRESS, AVP_M, V3,
                        (const struct sockaddr *)&a->an_charging_addr);
    put_opt_v3_u32(b, RX_AVP_IP_CAN_TYPE, a->has_ip_can_type, a->ip_can_type);
    put_opt_v3_u32(b, RX_AVP_RAT_TYPE, a->has_rat_type, a->rat_type);
}

dia_msg_t *rx_build_aaa(dia_node_t *n, const dia_msg_t *req, const rx_aaa_t *a)
{
    return rx_answer(n, req, DIA_CMD_AAR, a ? &a->result : NULL, true, put_aaa, a);
}

/* STA, RAA, ASA: a result and nothing of their own that the AF uses. */
dia_msg_t *rx_build_sta(dia_node_t *n, const dia_msg_t *req, const rx_sta_t *a)
{
    return rx_answer(n, req, DIA_CMD_STR, a ? &a->result : NULL, false, NULL, NULL);
}

dia_msg_t *rx_build_raa(dia_node_t *n, const dia_msg_t *req, const rx_raa_t *a)
{
    return rx_answer(n, req, DIA_CMD_RAR, a ? &a->result : NULL, false, NULL, NULL);
}

dia_msg_t *rx_build_asa(dia_node_t *n, const dia_msg_t *req, const rx_asa_t *a)
{
    return rx_answer(n, req, DIA_CMD_ASR, a ? &a->result : NULL, false, NULL, NULL);
}

dia_msg_t *rx_build_parse_error_answer(dia_node_t *n, const dia_msg_t *req, uint32_t missing)
{
    uint32_t vendor = missing >= 500 ? V3 : 0;     /* the Rx codes; the base ones are lower */

    if (!req)
        return NULL;
    return dia_app_parse_error_answer(&rx_head, n, req, req->code == DIA_CMD_AAR, missing,
                                      vendor, avp_flags(missing, vendor));
}
