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
 * AVPs around ours (app_build.h). That keeps one Session-Id generator per node.
 *
 * Flags: 3GPP AVPs V+M (vendor 10415), except SIP-Digest-Authenticate which is
 * V only (29.229 table 6.3.1: M must not); base AVPs M with vendor 0, and so
 * are the RFC 4590 Digest-* AVPs inside SIP-Digest-Authenticate.
 *
 * Invalid input from our own callers (a mandatory field empty, a string not
 * terminated within its buffer, counts out of range) fails the build: the
 * builder's failed flag is set, so dia_build_finish returns NULL.
 */
#include "common/core/rc.h"
#include "diameter/base/app_build.h"
#include "diameter/base/dict.h"
#include "diameter/cx/cx.h"

#define V3 DIA_VENDOR_3GPP
#define AVP_M DIA_AVP_M

/* Auth-Session-State NO_STATE_MAINTAINED; Originating-Request ORIGINATING. */
enum { CX_NO_STATE_MAINTAINED = 1, CX_ORIGINATING = 0 };

/* ---- small puts ---- */

/* Strings: M set, whatever the vendor. */
static void put_req_str(dia_builder_t *b, uint32_t code, uint32_t vendor, const char *s,
                        size_t cap)
{
    dia_put_req_str(b, code, AVP_M, vendor, s, cap);
}

static void put_opt_str(dia_builder_t *b, uint32_t code, uint32_t vendor, const char *s,
                        size_t cap)
{
    dia_put_opt_str(b, code, AVP_M, vendor, s, cap);
}

static void put_bytes(dia_builder_t *b, uint32_t code, const uint8_t *p, size_t len,
                      size_t cap)
{
    if (len > cap)
        b->failed = true;
    else if (len > 0)
        dia_put_octets(b, code, AVP_M, V3, p, len);
}

/* ---- message head ---- */

static void put_vsai(dia_builder_t *b)
{
    dia_group_begin(b, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, AVP_M, 0);
    dia_put_u32(b, DIA_AVP_VENDOR_ID, AVP_M, 0, V3);
    dia_put_u32(b, DIA_AVP_AUTH_APPLICATION_ID, AVP_M, 0, DIA_APP_CX);
    dia_group_end(b);
}

static void put_auth_session_state(dia_builder_t *b)
{
    dia_put_u32(b, DIA_AVP_AUTH_SESSION_STATE, AVP_M, 0, CX_NO_STATE_MAINTAINED);
}

/* Session-Id, Vendor-Specific-Application-Id, [result], Auth-Session-State. */
static const dia_app_head_t cx_head = { DIA_APP_CX, put_vsai, put_auth_session_state };

/* ---- grouped parts ---- */

static void put_caps(dia_builder_t *b, const cx_caps_t *c)
{
    int i;

    if (!dia_build_count_ok(b, c->nmandatory, CX_MAX_CAPS) ||
        !dia_build_count_ok(b, c->noptional, CX_MAX_CAPS) ||
        !dia_build_count_ok(b, c->nserver_names, CX_MAX_CAPS))
        return;
    dia_group_begin(b, CX_AVP_SERVER_CAPABILITIES, AVP_M, V3);
    for (i = 0; i < c->nmandatory; i++)
        dia_put_u32(b, CX_AVP_MANDATORY_CAPABILITY, AVP_M, V3, c->mandatory[i]);
    for (i = 0; i < c->noptional; i++)
        dia_put_u32(b, CX_AVP_OPTIONAL_CAPABILITY, AVP_M, V3, c->optional[i]);
    for (i = 0; i < c->nserver_names; i++)
        dia_put_bounded_str(b, CX_AVP_SERVER_NAME, AVP_M, V3, c->server_name[i], CX_STR);
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

    if (!dia_build_count_ok(b, n, CX_MAX_IMPU))
        return;
    for (i = 0; i < n; i++)
        put_req_str(b, CX_AVP_PUBLIC_IDENTITY, V3, impu[i], CX_STR);
}

/* ---- requests ---- */

static dia_msg_t *cx_request(dia_node_t *n, uint32_t code, const char *dest_realm,
                             const char *dest_host, dia_put_fn *put, const void *r)
{
    return dia_app_request(&cx_head, n, code, dest_realm, dest_host, NULL, NULL, 0, put, r);
}

static void put_uar(dia_builder_t *b, const void *ctx)
{
    const cx_uar_t *r = ctx;

    put_req_str(b, DIA_AVP_USER_NAME, 0, r->impi, sizeof(r->impi));
    put_req_str(b, CX_AVP_PUBLIC_IDENTITY, V3, r->impu, sizeof(r->impu));
    put_req_str(b, CX_AVP_VISITED_NETWORK_IDENTIFIER, V3, r->visited_network,
                sizeof(r->visited_network));
    dia_put_u32(b, CX_AVP_USER_AUTHORIZATION_TYPE, AVP_M, V3, r->auth_type);
}

dia_msg_t *cx_build_uar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_uar_t *r)
{
    return cx_request(n, DIA_CMD_UAR, dest_realm, dest_host, put_uar, r);
}

static void put_mar(dia_builder_t *b, const void *ctx)
{
    const cx_mar_t *r = ctx;

    put_req_str(b, DIA_AVP_USER_NAME, 0, r->impi, sizeof(r->impi));
    put_req_str(b, CX_AVP_PUBLIC_IDENTITY, V3, r->impu, sizeof(r->impu));
    put_auth_item(b, &r->item, 0);
    dia_put_u32(b, CX_AVP_SIP_NUMBER_AUTH_ITEMS, AVP_M, V3, r->num_items);
    put_req_str(b, CX_AVP_SERVER_NAME, V3, r->server_name, sizeof(r->server_name));
}

dia_msg_t *cx_build_mar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_mar_t *r)
{
    return cx_request(n, DIA_CMD_MAR, dest_realm, dest_host, put_mar, r);
}

static void put_sar(dia_builder_t *b, const void *ctx)
{
    const cx_sar_t *r = ctx;

    put_opt_str(b, DIA_AVP_USER_NAME, 0, r->impi, sizeof(r->impi));
    put_impus(b, r->impu, r->nimpu);
    put_req_str(b, CX_AVP_SERVER_NAME, V3, r->server_name, sizeof(r->server_name));
    dia_put_u32(b, CX_AVP_SERVER_ASSIGNMENT_TYPE, AVP_M, V3, (uint32_t)r->type);
    dia_put_u32(b, CX_AVP_USER_DATA_ALREADY_AVAILABLE, AVP_M, V3, r->user_data_already_available);
}

dia_msg_t *cx_build_sar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_sar_t *r)
{
    return cx_request(n, DIA_CMD_SAR, dest_realm, dest_host, put_sar, r);
}

static void put_lir(dia_builder_t *b, const void *ctx)
{
    const cx_lir_t *r = ctx;

    if (r->originating)
        dia_put_u32(b, CX_AVP_ORIGINATING_REQUEST, AVP_M, V3, CX_ORIGINATING);
    put_req_str(b, CX_AVP_PUBLIC_IDENTITY, V3, r->impu, sizeof(r->impu));
    /* Only REGISTRATION_AND_CAPABILITIES means anything in a LIR; absent reads as 0. */
    if (r->auth_type != 0)
        dia_put_u32(b, CX_AVP_USER_AUTHORIZATION_TYPE, AVP_M, V3, r->auth_type);
}

dia_msg_t *cx_build_lir(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_lir_t *r)
{
    return cx_request(n, DIA_CMD_LIR, dest_realm, dest_host, put_lir, r);
}

static void put_rtr(dia_builder_t *b, const void *ctx)
{
    const cx_rtr_t *r = ctx;

    put_req_str(b, DIA_AVP_USER_NAME, 0, r->impi, sizeof(r->impi));
    put_impus(b, r->impu, r->nimpu);
    dia_group_begin(b, CX_AVP_DEREGISTRATION_REASON, AVP_M, V3);
    dia_put_u32(b, CX_AVP_REASON_CODE, AVP_M, V3, r->reason_code);
    put_opt_str(b, CX_AVP_REASON_INFO, V3, r->reason_info, sizeof(r->reason_info));
    dia_group_end(b);
}

dia_msg_t *cx_build_rtr(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_rtr_t *r)
{
    return cx_request(n, DIA_CMD_RTR, dest_realm, dest_host, put_rtr, r);
}

static void put_ppr(dia_builder_t *b, const void *ctx)
{
    const cx_ppr_t *r = ctx;

    put_req_str(b, DIA_AVP_USER_NAME, 0, r->impi, sizeof(r->impi));
    put_user_data(b, r->user_data, r->user_data_len);
}

dia_msg_t *cx_build_ppr(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_ppr_t *r)
{
    return cx_request(n, DIA_CMD_PPR, dest_realm, dest_host, put_ppr, r);
}

/* ---- answers ---- */

/* res NULL (the caller's struct missing): no answer. */
static dia_msg_t *cx_answer(dia_node_t *n, const dia_msg_t *req, const cx_result_t *res,
                            dia_put_fn *put, const void *a)
{
    if (!res)
        return NULL;
    return dia_app_answer(&cx_head, n, req, res->code, res->experimental, true, put, a);
}

/* UAA and LIA: the S-CSCF's name or the capabilities to choose one by. */
static void put_server(dia_builder_t *b, const char *server_name, bool has_caps,
                       const cx_caps_t *caps)
{
    put_opt_str(b, CX_AVP_SERVER_NAME, V3, server_name, CX_STR);
    if (has_caps)
        put_caps(b, caps);
}

static void put_uaa(dia_builder_t *b, const void *ctx)
{
    const cx_uaa_t *a = ctx;

    put_server(b, a->server_name, a->has_caps, &a->caps);
}

dia_msg_t *cx_build_uaa(dia_node_t *n, const dia_msg_t *req, const cx_uaa_t *a)
{
    return cx_answer(n, req, a ? &a->result : NULL, put_uaa, a);
}

static void put_maa(dia_builder_t *b, const void *ctx)
{
    const cx_maa_t *a = ctx;

    put_opt_str(b, DIA_AVP_USER_NAME, 0, a->impi, sizeof(a->impi));
    if (!dia_build_count_ok(b, a->nitems, CX_MAX_AUTH_ITEMS))
        return;
    if (a->nitems > 0 || a->num_items > 0)
        dia_put_u32(b, CX_AVP_SIP_NUMBER_AUTH_ITEMS, AVP_M, V3, a->num_items);
    for (int i = 0; i < a->nitems; i++)
        put_auth_item(b, &a->items[i], (uint32_t)i + 1);
}

dia_msg_t *cx_build_maa(dia_node_t *n, const dia_msg_t *req, const cx_maa_t *a)
{
    return cx_answer(n, req, a ? &a->result : NULL, put_maa, a);
}

static void put_saa(dia_builder_t *b, const void *ctx)
{
    const cx_saa_t *a = ctx;

    put_opt_str(b, DIA_AVP_USER_NAME, 0, a->impi, sizeof(a->impi));
    put_user_data(b, a->user_data, a->user_data_len);
    if (a->ecf[0] != '\0' || a->ccf[0] != '\0') {
        dia_group_begin(b, CX_AVP_CHARGING_INFORMATION, AVP_M, V3);
        put_opt_str(b, CX_AVP_PRIMARY_EVENT_CHARGING_FUNCTION_NAME, V3, a->ecf,
                    sizeof(a->ecf));
        put_opt_str(b, CX_AVP_PRIMARY_CHARGING_COLLECTION_FUNCTION_NAME, V3, a->ccf,
                    sizeof(a->ccf));
        dia_group_end(b);
    }
}

dia_msg_t *cx_build_saa(dia_node_t *n, const dia_msg_t *req, const cx_saa_t *a)
{
    return cx_answer(n, req, a ? &a->result : NULL, put_saa, a);
}

static void put_lia(dia_builder_t *b, const void *ctx)
{
    const cx_lia_t *a = ctx;

    put_server(b, a->server_name, a->has_caps, &a->caps);
}

dia_msg_t *cx_build_lia(dia_node_t *n, const dia_msg_t *req, const cx_lia_t *a)
{
    return cx_answer(n, req, a ? &a->result : NULL, put_lia, a);
}

dia_msg_t *cx_build_result_answer(dia_node_t *n, const dia_msg_t *req, cx_result_t result)
{
    return cx_answer(n, req, &result, NULL, NULL);
}

dia_msg_t *cx_build_parse_error_answer(dia_node_t *n, const dia_msg_t *req, uint32_t missing)
{
    uint32_t vendor = (missing >= 600 && missing < 700) ? V3 : 0;

    return dia_app_parse_error_answer(&cx_head, n, req, true, missing, vendor,
                                      dia_dict_m_flag(missing, vendor));
}

const char *cx_result_name(const cx_result_t *r)
{
    static const char *const exp[] = {
        "USER_UNKNOWN", "IDENTITIES_DONT_MATCH", "IDENTITY_NOT_REGISTERED",
        "ROAMING_NOT_ALLOWED", "IDENTITY_ALREADY_REGISTERED", "AUTH_SCHEME_NOT_SUPPORTED",
        "IN_ASSIGNMENT_TYPE", "TOO_MUCH_DATA", "NOT_SUPPORTED_USER_DATA",
    };

    if (r->experimental && r->code >= CX_ERROR_USER_UNKNOWN &&
        r->code <= CX_ERROR_NOT_SUPPORTED_USER_DATA)
        return exp[r->code - CX_ERROR_USER_UNKNOWN];
    if (r->experimental)
        return "experimental result";
    switch (r->code) {
    case 5003: return "AUTHORIZATION_REJECTED";   /* base; not the Cx 5003 */
    case DIA_UNABLE_TO_DELIVER: return "UNABLE_TO_DELIVER";
    case DIA_REALM_NOT_SERVED: return "REALM_NOT_SERVED";
    case DIA_TOO_BUSY: return "TOO_BUSY";
    case DIA_UNABLE_TO_COMPLY: return "UNABLE_TO_COMPLY";
    case DIA_MISSING_AVP: return "MISSING_AVP";
    case DIA_INVALID_AVP_VALUE: return "INVALID_AVP_VALUE";
    default: return "error";
    }
}
