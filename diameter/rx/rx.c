/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rx builders (TS 29.214 §5.6): one function per command, from a plain struct.
 *
 * AVP order follows the command ABNF: Session-Id first (the only fixed
 * position), then Auth-Application-Id, [Result-Code / Experimental-Result on
 * answers], Origin-Host/Realm, Destination-*, then the command's own AVPs. As
 * in Cx (cx.c), the node writes its head (dia_node_request_init /
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
#include <string.h>

#include "common/core/rc.h"
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

/* A string from a fixed buffer of cap bytes (no NUL within cap: our bug). */
static void put_str(dia_builder_t *b, uint32_t code, uint32_t vendor, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    if (n == cap) {
        b->failed = true;
        return;
    }
    dia_put_octets(b, code, vendor ? v3_flags(code) : AVP_M, vendor, s, n);
}

/* A mandatory string: empty fails the build. */
static void put_req_str(dia_builder_t *b, uint32_t code, uint32_t vendor, const char *s,
                        size_t cap)
{
    if (s[0] == '\0')
        b->failed = true;
    else
        put_str(b, code, vendor, s, cap);
}

/* An optional string: left out when empty. */
static void put_opt_str(dia_builder_t *b, uint32_t code, uint32_t vendor, const char *s,
                        size_t cap)
{
    if (s[0] != '\0')
        put_str(b, code, vendor, s, cap);
}

static bool count_ok(dia_builder_t *b, int n, int max)
{
    if (n >= 0 && n <= max)
        return true;
    b->failed = true;
    return false;
}

static void put_result(dia_builder_t *b, rx_result_t r)
{
    if (!r.experimental) {
        dia_put_u32(b, DIA_AVP_RESULT_CODE, AVP_M, 0, r.code);
        return;
    }
    dia_group_begin(b, DIA_AVP_EXPERIMENTAL_RESULT, AVP_M, 0);
    dia_put_u32(b, DIA_AVP_VENDOR_ID, AVP_M, 0, V3);
    dia_put_u32(b, DIA_AVP_EXPERIMENTAL_RESULT_CODE, AVP_M, 0, r.code);
    dia_group_end(b);
}

static bool is_protocol_error(rx_result_t r)
{
    return !r.experimental && r.code >= 3000 && r.code < 4000;
}

/* ---- message head ---- */

/*
 * Open b as a copy of head (the node's start of the message) with sid (NULL:
 * the head's own Session-Id) first, then Auth-Application-Id when app_id,
 * then the result of an answer (res not NULL). E-bit answers (3xxx) follow the
 * generic answer-message of RFC 6733 §7.2 and carry no application AVPs.
 */
static void rx_begin(dia_builder_t *b, const dia_msg_t *head, uint8_t flags, const char *sid,
                     bool app_id, const rx_result_t *res)
{
    dia_iter_t it;
    dia_avp_t a;
    bool generic = res && is_protocol_error(*res);

    dia_build_init(b, flags, head->code, head->app_id, head->hbh, head->e2e);
    if (sid)
        dia_put_str(b, DIA_AVP_SESSION_ID, AVP_M, 0, sid);
    else if (dia_msg_find(head, DIA_AVP_SESSION_ID, 0, &a))
        dia_put_raw(b, &a);
    if (app_id && !generic)
        dia_put_u32(b, DIA_AVP_AUTH_APPLICATION_ID, AVP_M, 0, DIA_APP_RX);
    if (res)
        put_result(b, *res);
    dia_iter_msg(head, &it);
    while (dia_iter_next(&it, &a)) {
        if (a.code == DIA_AVP_SESSION_ID && a.vendor == 0)
            continue;
        dia_put_raw(b, &a);
    }
}

/* The node's head for a request, with a new Session-Id when sid is NULL;
 * that id is copied to sid_out (if any). */
static bool rx_request_begin(dia_node_t *n, dia_builder_t *b, uint32_t code,
                             const char *dest_realm, const char *dest_host, const char *sid,
                             char *sid_out)
{
    dia_builder_t hb;
    dia_msg_t *head;
    size_t sid_len = sid ? strnlen(sid, RX_SID_MAX) : 0;

    if (sid_out)
        sid_out[0] = '\0';
    if (!n || !dest_realm || dest_realm[0] == '\0')
        return false;
    if (sid && (sid_len == 0 || sid_len == RX_SID_MAX))
        return false;
    if (dest_host && dest_host[0] == '\0')
        dest_host = NULL;
    dia_node_request_init(n, &hb, code, DIA_APP_RX, sid == NULL, dest_realm, dest_host);
    head = dia_build_finish(&hb);
    if (!head)
        return false;
    if (sid_out && !sid && dia_msg_session_id(head, sid_out, RX_SID_MAX) != IMS_OK) {
        sid_out[0] = '\0';
        dia_msg_free(head);
        return false;
    }
    if (sid_out && sid)
        memcpy(sid_out, sid, sid_len + 1);
    rx_begin(b, head, DIA_FLAG_R | DIA_FLAG_P, sid, true, NULL);
    dia_msg_free(head);
    return true;
}

/* dia_build_finish, clearing sid_out when the build failed. */
static dia_msg_t *rx_request_finish(dia_builder_t *b, char *sid_out)
{
    dia_msg_t *m = dia_build_finish(b);

    if (!m && sid_out)
        sid_out[0] = '\0';
    return m;
}

static bool rx_answer_begin(dia_node_t *n, dia_builder_t *b, const dia_msg_t *req,
                            rx_result_t res, bool app_id)
{
    dia_builder_t hb;
    dia_msg_t *head;
    uint8_t flags;

    if (!n || !req || !dia_msg_is_request(req))
        return false;
    dia_node_answer_init(n, &hb, req, 0);
    head = dia_build_finish(&hb);
    if (!head)
        return false;
    flags = (uint8_t)(req->flags & DIA_FLAG_P);
    if (is_protocol_error(res))
        flags |= DIA_FLAG_E;
    rx_begin(b, head, flags, NULL, app_id, &res);
    dia_msg_free(head);
    return true;
}

/* ---- grouped parts ---- */

static void put_sub(dia_builder_t *b, const rx_media_sub_t *s)
{
    if (!count_ok(b, s->nflow_desc, RX_MAX_FLOW_DESC))
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
    if (!count_ok(b, c->nsubs, RX_MAX_SUBS) || !count_ok(b, c->ncodec_data, RX_MAX_CODEC_DATA))
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
    if (!count_ok(b, n, RX_MAX_ACTIONS))
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
    if (!count_ok(b, f->nflow_numbers, RX_MAX_FLOWS))
        return;
    dia_group_begin(b, RX_AVP_FLOWS, AVP_M, V3);
    put_v3_u32(b, RX_AVP_MEDIA_COMPONENT_NUMBER, f->media_number);
    for (int i = 0; i < f->nflow_numbers; i++)
        put_v3_u32(b, RX_AVP_FLOW_NUMBER, f->flow_numbers[i]);
    dia_group_end(b);
}

/* ---- requests ---- */

dia_msg_t *rx_build_aar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_aar_t *r, char *sid_out)
{
    dia_builder_t b;

    if (sid_out)
        sid_out[0] = '\0';
    if (!r || !rx_request_begin(n, &b, DIA_CMD_AAR, dest_realm, dest_host, session_id, sid_out))
        return NULL;
    put_opt_str(&b, RX_AVP_AF_APPLICATION_IDENTIFIER, V3, r->af_app_id, sizeof(r->af_app_id));
    if (count_ok(&b, r->nmedia, RX_MAX_MEDIA))
        for (int i = 0; i < r->nmedia; i++)
            put_media(&b, &r->media[i]);
    put_opt_v3_u32(&b, RX_AVP_SERVICE_INFO_STATUS, r->has_service_info_status,
                   r->service_info_status);
    put_opt_str(&b, RX_AVP_AF_CHARGING_IDENTIFIER, V3, r->af_charging_id,
                sizeof(r->af_charging_id));
    put_opt_v3_u32(&b, RX_AVP_SIP_FORKING_INDICATION, r->has_sip_forking, r->sip_forking);
    put_actions(&b, r->specific_actions, r->nspecific_actions);
    if (count_ok(&b, r->nsub_ids, RX_MAX_SUB_IDS))
        for (int i = 0; i < r->nsub_ids; i++)
            put_sub_id(&b, &r->sub_ids[i]);
    if (r->has_framed_ip)
        dia_put_octets(&b, RX_AVP_FRAMED_IP_ADDRESS, AVP_M, 0, &r->framed_ip, 4);
    if (r->has_framed_ipv6)
        put_ipv6_prefix(&b, &r->framed_ipv6_prefix, r->framed_ipv6_prefix_len);
    put_opt_v3_u32(&b, RX_AVP_RX_REQUEST_TYPE, r->has_rx_request_type, r->rx_request_type);
    return rx_request_finish(&b, sid_out);
}

dia_msg_t *rx_build_str(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_str_t *r, char *sid_out)
{
    dia_builder_t b;

    if (sid_out)
        sid_out[0] = '\0';
    if (!r || !rx_request_begin(n, &b, DIA_CMD_STR, dest_realm, dest_host, session_id, sid_out))
        return NULL;
    dia_put_u32(&b, RX_AVP_TERMINATION_CAUSE, AVP_M, 0, r->termination_cause);
    return rx_request_finish(&b, sid_out);
}

dia_msg_t *rx_build_rar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_rar_t *r, char *sid_out)
{
    dia_builder_t b;

    if (sid_out)
        sid_out[0] = '\0';
    if (!r || !dest_host || dest_host[0] == '\0' ||
        !rx_request_begin(n, &b, DIA_CMD_RAR, dest_realm, dest_host, session_id, sid_out))
        return NULL;
    if (r->nspecific_actions < 1)       /* *{Specific-Action}: one at least */
        b.failed = true;
    put_actions(&b, r->specific_actions, r->nspecific_actions);
    if (count_ok(&b, r->nflows, RX_MAX_FLOWS))
        for (int i = 0; i < r->nflows; i++)
            put_flows(&b, &r->flows[i]);
    put_opt_v3_u32(&b, RX_AVP_ABORT_CAUSE, r->has_abort_cause, r->abort_cause);
    put_opt_v3_u32(&b, RX_AVP_IP_CAN_TYPE, r->has_ip_can_type, r->ip_can_type);
    put_opt_v3_u32(&b, RX_AVP_RAT_TYPE, r->has_rat_type, r->rat_type);
    return rx_request_finish(&b, sid_out);
}

dia_msg_t *rx_build_asr(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_asr_t *r, char *sid_out)
{
    dia_builder_t b;

    if (sid_out)
        sid_out[0] = '\0';
    if (!r || !dest_host || dest_host[0] == '\0' ||
        !rx_request_begin(n, &b, DIA_CMD_ASR, dest_realm, dest_host, session_id, sid_out))
        return NULL;
    put_v3_u32(&b, RX_AVP_ABORT_CAUSE, r->abort_cause);
    return rx_request_finish(&b, sid_out);
}

/* ---- answers ---- */

dia_msg_t *rx_build_aaa(dia_node_t *n, const dia_msg_t *req, const rx_aaa_t *a)
{
    dia_builder_t b;

    if (!a || !req || req->code != DIA_CMD_AAR || !rx_answer_begin(n, &b, req, a->result, true))
        return NULL;
    if (a->an_charging_id_len > sizeof(a->an_charging_id)) {
        b.failed = true;
    } else if (a->an_charging_id_len > 0) {
        dia_group_begin(&b, RX_AVP_ACCESS_NETWORK_CHARGING_IDENTIFIER, AVP_M, V3);
        dia_put_octets(&b, RX_AVP_ACCESS_NETWORK_CHARGING_IDENTIFIER_VALUE, AVP_M, V3,
                       a->an_charging_id, a->an_charging_id_len);
        dia_group_end(&b);
    }
    if (a->has_an_charging_addr)
        dia_put_address(&b, RX_AVP_ACCESS_NETWORK_CHARGING_ADDRESS, AVP_M, V3,
                        (const struct sockaddr *)&a->an_charging_addr);
    put_opt_v3_u32(&b, RX_AVP_IP_CAN_TYPE, a->has_ip_can_type, a->ip_can_type);
    put_opt_v3_u32(&b, RX_AVP_RAT_TYPE, a->has_rat_type, a->rat_type);
    return dia_build_finish(&b);
}

/* STA, RAA, ASA: a result and nothing of their own that the AF uses. */
static dia_msg_t *result_answer(dia_node_t *n, const dia_msg_t *req, uint32_t code,
                                rx_result_t res)
{
    dia_builder_t b;

    if (!req || req->code != code || !rx_answer_begin(n, &b, req, res, false))
        return NULL;
    return dia_build_finish(&b);
}

dia_msg_t *rx_build_sta(dia_node_t *n, const dia_msg_t *req, const rx_sta_t *a)
{
    return a ? result_answer(n, req, DIA_CMD_STR, a->result) : NULL;
}

dia_msg_t *rx_build_raa(dia_node_t *n, const dia_msg_t *req, const rx_raa_t *a)
{
    return a ? result_answer(n, req, DIA_CMD_RAR, a->result) : NULL;
}

dia_msg_t *rx_build_asa(dia_node_t *n, const dia_msg_t *req, const rx_asa_t *a)
{
    return a ? result_answer(n, req, DIA_CMD_ASR, a->result) : NULL;
}

/* Put a zero-filled example of an AVP, for Failed-AVP (RFC 6733 §7.5): the
 * payload as long as the type's fixed size, the M bit as the dictionary says. */
static void put_example(dia_builder_t *b, uint32_t code, uint32_t vendor)
{
    static const uint8_t zeros[8];
    const dia_dict_avp_t *d = dia_dict_avp(code, vendor);
    uint8_t flags = vendor ? v3_flags(code) : AVP_M;
    size_t len = 0;

    switch (d ? d->type : DIA_T_OCTETS) {
    case DIA_T_I32: case DIA_T_U32: case DIA_T_F32: case DIA_T_TIME: case DIA_T_ENUM:
        len = 4;
        break;
    case DIA_T_I64: case DIA_T_U64: case DIA_T_F64:
        len = 8;
        break;
    default:
        break;
    }
    dia_put_octets(b, code, flags, vendor, zeros, len);
}

dia_msg_t *rx_build_parse_error_answer(dia_node_t *n, const dia_msg_t *req, uint32_t missing)
{
    rx_result_t res = { missing ? DIA_MISSING_AVP : DIA_INVALID_AVP_VALUE, false };
    uint32_t vendor = missing >= 500 ? V3 : 0;     /* the Rx codes; the base ones are lower */
    dia_builder_t b;

    if (!req || !rx_answer_begin(n, &b, req, res, req->code == DIA_CMD_AAR))
        return NULL;
    if (missing) {
        dia_group_begin(&b, DIA_AVP_FAILED_AVP, AVP_M, 0);
        put_example(&b, missing, vendor);
        dia_group_end(&b);
    }
    return dia_build_finish(&b);
}
