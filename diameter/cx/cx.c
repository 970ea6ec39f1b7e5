/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cx builders (TS 29.229 §6.1): one function per command, from a plain struct.
 *
 * AVP order follows the command ABNF: Session-Id first (the only fixed
 * position), then Vendor-Specific-Application-Id, [Result-Code /
 * Experimental-Result on answers], Auth-Session-State, Origin-Host/Realm,
 * Destination-*, then the command's own AVPs. The node writes Session-Id,
 * Origin-* and Destination-* itself (dia_node_request_init / answer_init) in
 * its own order, so we let it write a small head message and copy that head's
 * AVPs around ours (cx_begin). That keeps one Session-Id generator per node.
 *
 * Flags: 3GPP AVPs V+M (vendor 10415), except SIP-Digest-Authenticate which is
 * V only (29.229 table 6.3.1: M must not); base AVPs M with vendor 0, and so
 * are the RFC 4590 Digest-* AVPs inside SIP-Digest-Authenticate.
 *
 * Invalid input from our own callers (a mandatory field empty, a string not
 * terminated within its buffer, counts out of range) fails the build: the
 * builder's failed flag is set, so dia_build_finish returns NULL.
 */
#include <string.h>

#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/cx/cx.h"

#define V3 DIA_VENDOR_3GPP
#define AVP_M DIA_AVP_M

/* Auth-Session-State NO_STATE_MAINTAINED; Originating-Request ORIGINATING. */
enum { CX_NO_STATE_MAINTAINED = 1, CX_ORIGINATING = 0 };

/* ---- small puts ---- */

/* A string from a fixed buffer of cap bytes (no NUL within cap: our bug). */
static void put_str(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                    const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    if (n == cap) {
        b->failed = true;
        return;
    }
    dia_put_octets(b, code, flags, vendor, s, n);
}

/* A mandatory ({} in the ABNF) string: empty fails the build. */
static void put_req_str(dia_builder_t *b, uint32_t code, uint32_t vendor, const char *s,
                        size_t cap)
{
    if (s[0] == '\0')
        b->failed = true;
    else
        put_str(b, code, AVP_M, vendor, s, cap);
}

/* An optional string: left out when empty. */
static void put_opt_str(dia_builder_t *b, uint32_t code, uint32_t vendor, const char *s,
                        size_t cap)
{
    if (s[0] != '\0')
        put_str(b, code, AVP_M, vendor, s, cap);
}

static void put_bytes(dia_builder_t *b, uint32_t code, const uint8_t *p, size_t len,
                      size_t cap)
{
    if (len > cap)
        b->failed = true;
    else if (len > 0)
        dia_put_octets(b, code, AVP_M, V3, p, len);
}

static void put_result(dia_builder_t *b, cx_result_t r)
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

static bool is_protocol_error(cx_result_t r)
{
    return !r.experimental && r.code >= 3000 && r.code < 4000;
}

/* ---- message head ---- */

/*
 * Open b as a copy of head (the node's start of the message) with the Cx
 * header AVPs inserted after Session-Id. res NULL: a request. E-bit answers
 * (3xxx) follow the generic answer-message of RFC 6733 §7.2 and carry no
 * application AVPs.
 */
static void cx_begin(dia_builder_t *b, const dia_msg_t *head, uint8_t flags,
                     const cx_result_t *res)
{
    dia_iter_t it;
    dia_avp_t a;
    bool generic = res && is_protocol_error(*res);

    dia_build_init(b, flags, head->code, head->app_id, head->hbh, head->e2e);
    if (dia_msg_find(head, DIA_AVP_SESSION_ID, 0, &a))
        dia_put_raw(b, &a);
    if (!generic) {
        dia_group_begin(b, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, AVP_M, 0);
        dia_put_u32(b, DIA_AVP_VENDOR_ID, AVP_M, 0, V3);
        dia_put_u32(b, DIA_AVP_AUTH_APPLICATION_ID, AVP_M, 0, DIA_APP_CX);
        dia_group_end(b);
    }
    if (res)
        put_result(b, *res);
    if (!generic)
        dia_put_u32(b, DIA_AVP_AUTH_SESSION_STATE, AVP_M, 0, CX_NO_STATE_MAINTAINED);
    dia_iter_msg(head, &it);
    while (dia_iter_next(&it, &a)) {
        if (a.code == DIA_AVP_SESSION_ID && a.vendor == 0)
            continue;
        dia_put_raw(b, &a);
    }
}

static bool cx_request_begin(dia_node_t *n, dia_builder_t *b, uint32_t code,
                             const char *dest_realm, const char *dest_host)
{
    dia_builder_t hb;
    dia_msg_t *head;

    if (!n || !dest_realm || dest_realm[0] == '\0')
        return false;
    if (dest_host && dest_host[0] == '\0')
        dest_host = NULL;
    dia_node_request_init(n, &hb, code, DIA_APP_CX, true, dest_realm, dest_host);
    head = dia_build_finish(&hb);
    if (!head)
        return false;
    cx_begin(b, head, DIA_FLAG_R | DIA_FLAG_P, NULL);
    dia_msg_free(head);
    return true;
}

static bool cx_answer_begin(dia_node_t *n, dia_builder_t *b, const dia_msg_t *req,
                            cx_result_t res)
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
    cx_begin(b, head, flags, &res);
    dia_msg_free(head);
    return true;
}

/* ---- grouped parts ---- */

static void put_caps(dia_builder_t *b, const cx_caps_t *c)
{
    int i;

    if (c->nmandatory < 0 || c->nmandatory > CX_MAX_CAPS || c->noptional < 0 ||
        c->noptional > CX_MAX_CAPS || c->nserver_names < 0 ||
        c->nserver_names > CX_MAX_CAPS) {
        b->failed = true;
        return;
    }
    dia_group_begin(b, CX_AVP_SERVER_CAPABILITIES, AVP_M, V3);
    for (i = 0; i < c->nmandatory; i++)
        dia_put_u32(b, CX_AVP_MANDATORY_CAPABILITY, AVP_M, V3, c->mandatory[i]);
    for (i = 0; i < c->noptional; i++)
        dia_put_u32(b, CX_AVP_OPTIONAL_CAPABILITY, AVP_M, V3, c->optional[i]);
    for (i = 0; i < c->nserver_names; i++)
        put_str(b, CX_AVP_SERVER_NAME, AVP_M, V3, c->server_name[i], CX_STR);
    dia_group_end(b);
}

static void put_digest(dia_builder_t *b, const cx_auth_item_t *it)
{
    dia_group_begin(b, CX_AVP_SIP_DIGEST_AUTHENTICATE, 0, V3);
    put_req_str(b, CX_AVP_DIGEST_REALM, 0, it->digest_realm, sizeof(it->digest_realm));
    put_opt_str(b, CX_AVP_DIGEST_ALGORITHM, 0, it->digest_algorithm,
                sizeof(it->digest_algorithm));
    put_req_str(b, CX_AVP_DIGEST_QOP, 0, it->digest_qop, sizeof(it->digest_qop));
    put_req_str(b, CX_AVP_DIGEST_HA1, 0, it->digest_ha1, sizeof(it->digest_ha1));
    dia_group_end(b);
}

/* One SIP-Auth-Data-Item; number 0 leaves SIP-Item-Number out (MAR). */
static void put_auth_item(dia_builder_t *b, const cx_auth_item_t *it, uint32_t number)
{
    dia_group_begin(b, CX_AVP_SIP_AUTH_DATA_ITEM, AVP_M, V3);
    if (number > 0)
        dia_put_u32(b, CX_AVP_SIP_ITEM_NUMBER, AVP_M, V3, number);
    put_opt_str(b, CX_AVP_SIP_AUTHENTICATION_SCHEME, V3, it->scheme, sizeof(it->scheme));
    put_bytes(b, CX_AVP_SIP_AUTHENTICATE, it->authenticate, it->authenticate_len,
              sizeof(it->authenticate));
    put_bytes(b, CX_AVP_SIP_AUTHORIZATION, it->authorization, it->authorization_len,
              sizeof(it->authorization));
    if (it->has_keys) {
        dia_put_octets(b, CX_AVP_CONFIDENTIALITY_KEY, AVP_M, V3, it->ck, sizeof(it->ck));
        dia_put_octets(b, CX_AVP_INTEGRITY_KEY, AVP_M, V3, it->ik, sizeof(it->ik));
    }
    if (it->has_digest)
        put_digest(b, it);
    dia_group_end(b);
}

static void put_user_data(dia_builder_t *b, const char *data, size_t len)
{
    if (!data || len == 0)
        return;
    if (len > CX_USER_DATA_MAX)
        b->failed = true;
    else
        dia_put_octets(b, CX_AVP_USER_DATA, AVP_M, V3, data, len);
}

static void put_impus(dia_builder_t *b, const char (*impu)[CX_STR], int n)
{
    int i;

    if (n < 0 || n > CX_MAX_IMPU) {
        b->failed = true;
        return;
    }
    for (i = 0; i < n; i++)
        put_req_str(b, CX_AVP_PUBLIC_IDENTITY, V3, impu[i], CX_STR);
}

/* ---- requests ---- */

dia_msg_t *cx_build_uar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_uar_t *r)
{
    dia_builder_t b;

    if (!r || !cx_request_begin(n, &b, DIA_CMD_UAR, dest_realm, dest_host))
        return NULL;
    put_req_str(&b, DIA_AVP_USER_NAME, 0, r->impi, sizeof(r->impi));
    put_req_str(&b, CX_AVP_PUBLIC_IDENTITY, V3, r->impu, sizeof(r->impu));
    put_req_str(&b, CX_AVP_VISITED_NETWORK_IDENTIFIER, V3, r->visited_network,
                sizeof(r->visited_network));
    dia_put_u32(&b, CX_AVP_USER_AUTHORIZATION_TYPE, AVP_M, V3, r->auth_type);
    return dia_build_finish(&b);
}

dia_msg_t *cx_build_mar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_mar_t *r)
{
    dia_builder_t b;

    if (!r || !cx_request_begin(n, &b, DIA_CMD_MAR, dest_realm, dest_host))
        return NULL;
    put_req_str(&b, DIA_AVP_USER_NAME, 0, r->impi, sizeof(r->impi));
    put_req_str(&b, CX_AVP_PUBLIC_IDENTITY, V3, r->impu, sizeof(r->impu));
    put_auth_item(&b, &r->item, 0);
    dia_put_u32(&b, CX_AVP_SIP_NUMBER_AUTH_ITEMS, AVP_M, V3, r->num_items);
    put_req_str(&b, CX_AVP_SERVER_NAME, V3, r->server_name, sizeof(r->server_name));
    return dia_build_finish(&b);
}

dia_msg_t *cx_build_sar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_sar_t *r)
{
    dia_builder_t b;

    if (!r || !cx_request_begin(n, &b, DIA_CMD_SAR, dest_realm, dest_host))
        return NULL;
    put_opt_str(&b, DIA_AVP_USER_NAME, 0, r->impi, sizeof(r->impi));
    put_impus(&b, r->impu, r->nimpu);
    put_req_str(&b, CX_AVP_SERVER_NAME, V3, r->server_name, sizeof(r->server_name));
    dia_put_u32(&b, CX_AVP_SERVER_ASSIGNMENT_TYPE, AVP_M, V3, (uint32_t)r->type);
    dia_put_u32(&b, CX_AVP_USER_DATA_ALREADY_AVAILABLE, AVP_M, V3, r->user_data_already_available);
    return dia_build_finish(&b);
}

dia_msg_t *cx_build_lir(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_lir_t *r)
{
    dia_builder_t b;

    if (!r || !cx_request_begin(n, &b, DIA_CMD_LIR, dest_realm, dest_host))
        return NULL;
    if (r->originating)
        dia_put_u32(&b, CX_AVP_ORIGINATING_REQUEST, AVP_M, V3, CX_ORIGINATING);
    put_req_str(&b, CX_AVP_PUBLIC_IDENTITY, V3, r->impu, sizeof(r->impu));
    /* Only REGISTRATION_AND_CAPABILITIES means anything in a LIR; absent reads as 0. */
    if (r->auth_type != 0)
        dia_put_u32(&b, CX_AVP_USER_AUTHORIZATION_TYPE, AVP_M, V3, r->auth_type);
    return dia_build_finish(&b);
}

dia_msg_t *cx_build_rtr(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_rtr_t *r)
{
    dia_builder_t b;

    if (!r || !cx_request_begin(n, &b, DIA_CMD_RTR, dest_realm, dest_host))
        return NULL;
    put_req_str(&b, DIA_AVP_USER_NAME, 0, r->impi, sizeof(r->impi));
    put_impus(&b, r->impu, r->nimpu);
    dia_group_begin(&b, CX_AVP_DEREGISTRATION_REASON, AVP_M, V3);
    dia_put_u32(&b, CX_AVP_REASON_CODE, AVP_M, V3, r->reason_code);
    put_opt_str(&b, CX_AVP_REASON_INFO, V3, r->reason_info, sizeof(r->reason_info));
    dia_group_end(&b);
    return dia_build_finish(&b);
}

dia_msg_t *cx_build_ppr(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_ppr_t *r)
{
    dia_builder_t b;

    if (!r || !cx_request_begin(n, &b, DIA_CMD_PPR, dest_realm, dest_host))
        return NULL;
    put_req_str(&b, DIA_AVP_USER_NAME, 0, r->impi, sizeof(r->impi));
    put_user_data(&b, r->user_data, r->user_data_len);
    return dia_build_finish(&b);
}

/* ---- answers ---- */

dia_msg_t *cx_build_uaa(dia_node_t *n, const dia_msg_t *req, const cx_uaa_t *a)
{
    dia_builder_t b;

    if (!a || !cx_answer_begin(n, &b, req, a->result))
        return NULL;
    put_opt_str(&b, CX_AVP_SERVER_NAME, V3, a->server_name, sizeof(a->server_name));
    if (a->has_caps)
        put_caps(&b, &a->caps);
    return dia_build_finish(&b);
}

dia_msg_t *cx_build_maa(dia_node_t *n, const dia_msg_t *req, const cx_maa_t *a)
{
    dia_builder_t b;
    int i;

    if (!a || !cx_answer_begin(n, &b, req, a->result))
        return NULL;
    put_opt_str(&b, DIA_AVP_USER_NAME, 0, a->impi, sizeof(a->impi));
    if (a->nitems < 0 || a->nitems > CX_MAX_AUTH_ITEMS)
        b.failed = true;
    else if (a->nitems > 0 || a->num_items > 0)
        dia_put_u32(&b, CX_AVP_SIP_NUMBER_AUTH_ITEMS, AVP_M, V3, a->num_items);
    for (i = 0; i < a->nitems && i < CX_MAX_AUTH_ITEMS; i++)
        put_auth_item(&b, &a->items[i], (uint32_t)i + 1);
    return dia_build_finish(&b);
}

dia_msg_t *cx_build_saa(dia_node_t *n, const dia_msg_t *req, const cx_saa_t *a)
{
    dia_builder_t b;

    if (!a || !cx_answer_begin(n, &b, req, a->result))
        return NULL;
    put_opt_str(&b, DIA_AVP_USER_NAME, 0, a->impi, sizeof(a->impi));
    put_user_data(&b, a->user_data, a->user_data_len);
    if (a->ecf[0] != '\0' || a->ccf[0] != '\0') {
        dia_group_begin(&b, CX_AVP_CHARGING_INFORMATION, AVP_M, V3);
        put_opt_str(&b, CX_AVP_PRIMARY_EVENT_CHARGING_FUNCTION_NAME, V3, a->ecf,
                    sizeof(a->ecf));
        put_opt_str(&b, CX_AVP_PRIMARY_CHARGING_COLLECTION_FUNCTION_NAME, V3, a->ccf,
                    sizeof(a->ccf));
        dia_group_end(&b);
    }
    return dia_build_finish(&b);
}

dia_msg_t *cx_build_lia(dia_node_t *n, const dia_msg_t *req, const cx_lia_t *a)
{
    dia_builder_t b;

    if (!a || !cx_answer_begin(n, &b, req, a->result))
        return NULL;
    put_opt_str(&b, CX_AVP_SERVER_NAME, V3, a->server_name, sizeof(a->server_name));
    if (a->has_caps)
        put_caps(&b, &a->caps);
    return dia_build_finish(&b);
}

dia_msg_t *cx_build_result_answer(dia_node_t *n, const dia_msg_t *req, cx_result_t result)
{
    dia_builder_t b;

    if (!cx_answer_begin(n, &b, req, result))
        return NULL;
    return dia_build_finish(&b);
}

/* Put a zero-filled example of an AVP, for Failed-AVP (RFC 6733 §7.5): the
 * payload as long as the type's fixed size, the M bit as the dictionary says. */
static void put_example(dia_builder_t *b, uint32_t code, uint32_t vendor)
{
    static const uint8_t zeros[8];
    const dia_dict_avp_t *d = dia_dict_avp(code, vendor);
    uint8_t flags = (d && d->m == DIA_M_MUSTNOT) ? 0 : AVP_M;
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

dia_msg_t *cx_build_parse_error_answer(dia_node_t *n, const dia_msg_t *req, uint32_t missing)
{
    cx_result_t res = { missing ? DIA_MISSING_AVP : DIA_INVALID_AVP_VALUE, false };
    uint32_t vendor = (missing >= 600 && missing < 700) ? V3 : 0;
    dia_builder_t b;

    if (!cx_answer_begin(n, &b, req, res))
        return NULL;
    if (missing) {
        dia_group_begin(&b, DIA_AVP_FAILED_AVP, AVP_M, 0);
        put_example(&b, missing, vendor);
        dia_group_end(&b);
    }
    return dia_build_finish(&b);
}
