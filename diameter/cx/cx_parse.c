/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cx parsers: one pass over a validated message's AVPs filling a plain struct.
 *
 * Each parser walks the top-level AVPs once (dia_pass_next, avp_pass.h), which
 * also records which AVPs were present and takes the result of an answer, then
 * checks the mandatory AVPs of the command ABNF (29.229 §6.1, `{}`) in ABNF
 * order, so the first one missing is the one named in *missing. For requests that includes
 * the common head: Session-Id, Vendor-Specific-Application-Id,
 * Auth-Session-State, Origin-Host, Origin-Realm, Destination-Realm. (RTR/PPR's
 * {Destination-Host} is not enforced: routing already brought them here.)
 *
 * Values that do not fit their buffer, have the wrong size (keys are exactly
 * 16 octets), occur more often than the struct holds, or are out of range make
 * the parse fail with *missing = 0 (the caller answers 5004). Unknown AVPs are
 * skipped: their M bits were checked against the dictionary by dia_msg_parse.
 */
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "diameter/base/avp_pass.h"
#include "diameter/base/dict.h"
#include "diameter/cx/cx.h"

#define V3 DIA_VENDOR_3GPP
#define SAT_MAX 14u         /* RESTORATION, the last Server-Assignment-Type */

static const uint32_t cx_head[] = {
    DIA_AVP_SESSION_ID, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, DIA_AVP_AUTH_SESSION_STATE,
    DIA_AVP_ORIGIN_HOST, DIA_AVP_ORIGIN_REALM, DIA_AVP_DESTINATION_REALM, 0
};

/* 3GPP Cx codes 600..727 tracked; Auth-Application-Id sits inside
 * Vendor-Specific-Application-Id, so the pass leaves a top-level one alone. */
static const dia_pass_app_t cx_app = { DIA_APP_CX, 600u, false, cx_head };

/* An answer for code: take the command's AVPs, then the result into res. */
static int ans(const dia_msg_t *m, uint32_t code, dia_take_fn *take, void *ctx,
               cx_result_t *res)
{
    return dia_pass_answer(&cx_app, m, code, take, ctx, &res->code, &res->experimental);
}

/* ---- grouped parts ---- */

static void take_caps(dia_pass_t *p, const dia_avp_t *g, cx_caps_t *c)
{
    dia_iter_t it;
    dia_avp_t a;

    dia_iter_group(g, &it);
    while (dia_iter_next(&it, &a)) {
        if (dia_avp_is(&a, CX_AVP_MANDATORY_CAPABILITY, V3))
            dia_take_u32_rep(p, &a, c->mandatory, &c->nmandatory, CX_MAX_CAPS);
        else if (dia_avp_is(&a, CX_AVP_OPTIONAL_CAPABILITY, V3))
            dia_take_u32_rep(p, &a, c->optional, &c->noptional, CX_MAX_CAPS);
        else if (dia_avp_is(&a, CX_AVP_SERVER_NAME, V3))
            dia_take_str_rep(p, &a, (char *)c->server_name, CX_STR, &c->nserver_names,
                             CX_MAX_CAPS);
    }
}

static void take_digest(dia_pass_t *p, const dia_avp_t *g, cx_auth_item_t *it)
{
    dia_iter_t gi;
    dia_avp_t a;

    dia_iter_group(g, &gi);
    while (dia_iter_next(&gi, &a)) {
        if (dia_avp_is(&a, CX_AVP_DIGEST_REALM, 0))
            dia_take_str(p, &a, it->digest_realm, sizeof(it->digest_realm));
        else if (dia_avp_is(&a, CX_AVP_DIGEST_ALGORITHM, 0))
            dia_take_str(p, &a, it->digest_algorithm, sizeof(it->digest_algorithm));
        else if (dia_avp_is(&a, CX_AVP_DIGEST_QOP, 0))
            dia_take_str(p, &a, it->digest_qop, sizeof(it->digest_qop));
        else if (dia_avp_is(&a, CX_AVP_DIGEST_HA1, 0))
            dia_take_str(p, &a, it->digest_ha1, sizeof(it->digest_ha1));
    }
    it->has_digest = true;
}

static void take_auth_item(dia_pass_t *p, const dia_avp_t *g, cx_auth_item_t *it)
{
    dia_iter_t gi;
    dia_avp_t a;
    bool ck = false, ik = false;

    dia_iter_group(g, &gi);
    while (dia_iter_next(&gi, &a)) {
        if (dia_avp_is(&a, CX_AVP_SIP_AUTHENTICATION_SCHEME, V3))
            dia_take_str(p, &a, it->scheme, sizeof(it->scheme));
        else if (dia_avp_is(&a, CX_AVP_SIP_AUTHENTICATE, V3))
            dia_take_octets(p, &a, it->authenticate, sizeof(it->authenticate),
                            &it->authenticate_len);
        else if (dia_avp_is(&a, CX_AVP_SIP_AUTHORIZATION, V3))
            dia_take_octets(p, &a, it->authorization, sizeof(it->authorization),
                            &it->authorization_len);
        else if (dia_avp_is(&a, CX_AVP_CONFIDENTIALITY_KEY, V3))
            dia_take_fixed(p, &a, it->ck, sizeof(it->ck), &ck);
        else if (dia_avp_is(&a, CX_AVP_INTEGRITY_KEY, V3))
            dia_take_fixed(p, &a, it->ik, sizeof(it->ik), &ik);
        else if (dia_avp_is(&a, CX_AVP_SIP_DIGEST_AUTHENTICATE, V3))
            take_digest(p, &a, it);
    }
    it->has_keys = ck && ik;
}

static void take_impu(dia_pass_t *p, const dia_avp_t *a, char (*impu)[CX_STR], int *n)
{
    dia_take_str_rep(p, a, (char *)impu, CX_STR, n, CX_MAX_IMPU);
}

/* ---- requests ---- */

static void take_uar(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    cx_uar_t *r = ctx;

    if (dia_avp_is(a, DIA_AVP_USER_NAME, 0))
        dia_take_str(p, a, r->impi, sizeof(r->impi));
    else if (dia_avp_is(a, CX_AVP_PUBLIC_IDENTITY, V3))
        dia_take_str(p, a, r->impu, sizeof(r->impu));
    else if (dia_avp_is(a, CX_AVP_VISITED_NETWORK_IDENTIFIER, V3))
        dia_take_str(p, a, r->visited_network, sizeof(r->visited_network));
    else if (dia_avp_is(a, CX_AVP_USER_AUTHORIZATION_TYPE, V3))
        dia_take_u32(p, a, &r->auth_type);
}

int cx_parse_uar(const dia_msg_t *m, cx_uar_t *r, uint32_t *missing)
{
    static const uint32_t need[] = {
        DIA_AVP_USER_NAME, CX_AVP_PUBLIC_IDENTITY, CX_AVP_VISITED_NETWORK_IDENTIFIER, 0
    };

    memset(r, 0, sizeof(*r));
    return dia_pass_request(&cx_app, m, DIA_CMD_UAR, take_uar, r, need, missing);
}

typedef struct mar_ctx {
    cx_mar_t *r;
    bool item;                  /* the ABNF allows one SIP-Auth-Data-Item */
} mar_ctx_t;

static void take_mar(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    mar_ctx_t *c = ctx;
    cx_mar_t *r = c->r;

    if (dia_avp_is(a, DIA_AVP_USER_NAME, 0)) {
        dia_take_str(p, a, r->impi, sizeof(r->impi));
    } else if (dia_avp_is(a, CX_AVP_PUBLIC_IDENTITY, V3)) {
        dia_take_str(p, a, r->impu, sizeof(r->impu));
    } else if (dia_avp_is(a, CX_AVP_SERVER_NAME, V3)) {
        dia_take_str(p, a, r->server_name, sizeof(r->server_name));
    } else if (dia_avp_is(a, CX_AVP_SIP_NUMBER_AUTH_ITEMS, V3)) {
        dia_take_u32(p, a, &r->num_items);
    } else if (dia_avp_is(a, CX_AVP_SIP_AUTH_DATA_ITEM, V3) && !c->item) {
        take_auth_item(p, a, &r->item);
        c->item = true;
    }
}

int cx_parse_mar(const dia_msg_t *m, cx_mar_t *r, uint32_t *missing)
{
    static const uint32_t need[] = {
        DIA_AVP_USER_NAME, CX_AVP_PUBLIC_IDENTITY, CX_AVP_SIP_AUTH_DATA_ITEM,
        CX_AVP_SIP_NUMBER_AUTH_ITEMS, CX_AVP_SERVER_NAME, 0
    };
    mar_ctx_t c = { r, false };

    memset(r, 0, sizeof(*r));
    return dia_pass_request(&cx_app, m, DIA_CMD_MAR, take_mar, &c, need, missing);
}

typedef struct sar_ctx {
    cx_sar_t *r;
    uint32_t type;              /* Server-Assignment-Type as received (the last one) */
} sar_ctx_t;

static void take_sar(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    sar_ctx_t *c = ctx;
    cx_sar_t *r = c->r;

    if (dia_avp_is(a, DIA_AVP_USER_NAME, 0))
        dia_take_str(p, a, r->impi, sizeof(r->impi));
    else if (dia_avp_is(a, CX_AVP_PUBLIC_IDENTITY, V3))
        take_impu(p, a, r->impu, &r->nimpu);
    else if (dia_avp_is(a, CX_AVP_SERVER_NAME, V3))
        dia_take_str(p, a, r->server_name, sizeof(r->server_name));
    else if (dia_avp_is(a, CX_AVP_SERVER_ASSIGNMENT_TYPE, V3))
        dia_take_u32(p, a, &c->type);
    else if (dia_avp_is(a, CX_AVP_USER_DATA_ALREADY_AVAILABLE, V3))
        dia_take_u32(p, a, &r->user_data_already_available);
}

int cx_parse_sar(const dia_msg_t *m, cx_sar_t *r, uint32_t *missing)
{
    static const uint32_t need[] = {
        CX_AVP_SERVER_NAME, CX_AVP_SERVER_ASSIGNMENT_TYPE, CX_AVP_USER_DATA_ALREADY_AVAILABLE, 0
    };
    sar_ctx_t c = { r, 0 };
    dia_pass_t p;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!dia_pass_run(&p, &cx_app, m, DIA_CMD_SAR, true, take_sar, &c))
        return IMS_ERROR;
    if (c.type > SAT_MAX)
        p.bad = true;   /* out of range: 5004 even when a mandatory AVP is missing too */
    r->type = (cx_sat_t)c.type;
    return dia_pass_req_done(&p, need, missing);
}

static void take_lir(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    cx_lir_t *r = ctx;

    if (dia_avp_is(a, CX_AVP_PUBLIC_IDENTITY, V3))
        dia_take_str(p, a, r->impu, sizeof(r->impu));
    else if (dia_avp_is(a, CX_AVP_ORIGINATING_REQUEST, V3))
        r->originating = true;
    else if (dia_avp_is(a, CX_AVP_USER_AUTHORIZATION_TYPE, V3))
        dia_take_u32(p, a, &r->auth_type);
}

int cx_parse_lir(const dia_msg_t *m, cx_lir_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { CX_AVP_PUBLIC_IDENTITY, 0 };

    memset(r, 0, sizeof(*r));
    return dia_pass_request(&cx_app, m, DIA_CMD_LIR, take_lir, r, need, missing);
}

typedef struct rtr_ctx {
    cx_rtr_t *r;
    bool no_code;               /* the (last) Deregistration-Reason lacks Reason-Code */
} rtr_ctx_t;

static void take_rtr(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    rtr_ctx_t *c = ctx;
    cx_rtr_t *r = c->r;
    dia_avp_t x;

    if (dia_avp_is(a, DIA_AVP_USER_NAME, 0)) {
        dia_take_str(p, a, r->impi, sizeof(r->impi));
    } else if (dia_avp_is(a, CX_AVP_PUBLIC_IDENTITY, V3)) {
        take_impu(p, a, r->impu, &r->nimpu);
    } else if (dia_avp_is(a, CX_AVP_DEREGISTRATION_REASON, V3)) {
        c->no_code = !dia_group_find(a, CX_AVP_REASON_CODE, V3, &x);
        if (!c->no_code)
            dia_take_u32(p, &x, &r->reason_code);
        if (dia_group_find(a, CX_AVP_REASON_INFO, V3, &x))
            dia_take_str(p, &x, r->reason_info, sizeof(r->reason_info));
    }
}

int cx_parse_rtr(const dia_msg_t *m, cx_rtr_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { DIA_AVP_USER_NAME, CX_AVP_DEREGISTRATION_REASON, 0 };
    rtr_ctx_t c = { r, false };

    memset(r, 0, sizeof(*r));
    if (dia_pass_request(&cx_app, m, DIA_CMD_RTR, take_rtr, &c, need, missing) != IMS_OK)
        return IMS_ERROR;
    if (c.no_code) {
        *missing = CX_AVP_REASON_CODE;  /* {Reason-Code} inside Deregistration-Reason */
        return IMS_ERROR;
    }
    return IMS_OK;
}

static void take_ppr(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    cx_ppr_t *r = ctx;

    if (dia_avp_is(a, DIA_AVP_USER_NAME, 0))
        dia_take_str(p, a, r->impi, sizeof(r->impi));
    else if (dia_avp_is(a, CX_AVP_USER_DATA, V3))
        dia_take_data(p, a, CX_USER_DATA_MAX, &r->user_data, &r->user_data_len);
}

int cx_parse_ppr(const dia_msg_t *m, cx_ppr_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { DIA_AVP_USER_NAME, 0 };

    memset(r, 0, sizeof(*r));
    if (dia_pass_request(&cx_app, m, DIA_CMD_PPR, take_ppr, r, need, missing) != IMS_OK) {
        cx_ppr_clear(r);
        return IMS_ERROR;
    }
    return IMS_OK;
}

/* ---- answers ---- */

/* UAA and LIA: the assigned S-CSCF's name or the capabilities to choose one. */
typedef struct server_ctx {
    char *server_name;          /* CX_STR bytes */
    bool *has_caps;
    cx_caps_t *caps;
} server_ctx_t;

static void take_server(dia_pass_t *p, const dia_avp_t *a, void *ctx)
{
    server_ctx_t *c = ctx;

    if (dia_avp_is(a, CX_AVP_SERVER_NAME, V3)) {
        dia_take_str(p, a, c->server_name, CX_STR);
    } else if (dia_avp_is(a, CX_AVP_SERVER_CAPABILITIES, V3)) {
        memset(c->caps, 0, sizeof(*c->caps));
        take_caps(p, a, c->caps);
        *c->has_caps = true;
    }
}

int cx_parse_uaa(const dia_msg_t *m, cx_uaa_t *a)
{
    server_ctx_t c = { a->server_name, &a->has_caps, &a->caps };

    memset(a, 0, sizeof(*a));
    return ans(m, DIA_CMD_UAR, take_server, &c, &a->result);
}

static void take_maa(dia_pass_t *p, const dia_avp_t *x, void *ctx)
{
    cx_maa_t *a = ctx;

    if (dia_avp_is(x, DIA_AVP_USER_NAME, 0)) {
        dia_take_str(p, x, a->impi, sizeof(a->impi));
    } else if (dia_avp_is(x, CX_AVP_SIP_NUMBER_AUTH_ITEMS, V3)) {
        dia_take_u32(p, x, &a->num_items);
    } else if (dia_avp_is(x, CX_AVP_SIP_AUTH_DATA_ITEM, V3)) {
        if (dia_pass_room(p, a->nitems, CX_MAX_AUTH_ITEMS))
            take_auth_item(p, x, &a->items[a->nitems++]);
    }
}

int cx_parse_maa(const dia_msg_t *m, cx_maa_t *a)
{
    memset(a, 0, sizeof(*a));
    return ans(m, DIA_CMD_MAR, take_maa, a, &a->result);
}

static void take_saa(dia_pass_t *p, const dia_avp_t *x, void *ctx)
{
    cx_saa_t *a = ctx;
    dia_avp_t y;

    if (dia_avp_is(x, DIA_AVP_USER_NAME, 0)) {
        dia_take_str(p, x, a->impi, sizeof(a->impi));
    } else if (dia_avp_is(x, CX_AVP_USER_DATA, V3)) {
        dia_take_data(p, x, CX_USER_DATA_MAX, &a->user_data, &a->user_data_len);
    } else if (dia_avp_is(x, CX_AVP_CHARGING_INFORMATION, V3)) {
        if (dia_group_find(x, CX_AVP_PRIMARY_EVENT_CHARGING_FUNCTION_NAME, V3, &y))
            dia_take_str(p, &y, a->ecf, sizeof(a->ecf));
        if (dia_group_find(x, CX_AVP_PRIMARY_CHARGING_COLLECTION_FUNCTION_NAME, V3, &y))
            dia_take_str(p, &y, a->ccf, sizeof(a->ccf));
    }
}

int cx_parse_saa(const dia_msg_t *m, cx_saa_t *a)
{
    memset(a, 0, sizeof(*a));
    if (ans(m, DIA_CMD_SAR, take_saa, a, &a->result) != IMS_OK) {
        cx_saa_clear(a);
        return IMS_ERROR;
    }
    return IMS_OK;
}

int cx_parse_lia(const dia_msg_t *m, cx_lia_t *a)
{
    server_ctx_t c = { a->server_name, &a->has_caps, &a->caps };

    memset(a, 0, sizeof(*a));
    return ans(m, DIA_CMD_LIR, take_server, &c, &a->result);
}

int cx_parse_result(const dia_msg_t *m, cx_result_t *res)
{
    dia_pass_t p;
    dia_avp_t x;

    memset(res, 0, sizeof(*res));
    if (!m || dia_msg_is_request(m))
        return IMS_ERROR;
    dia_pass_open(&p, &cx_app, m);
    while (dia_pass_next(&p, &x))
        ;
    return dia_pass_ans_done(&p, &res->code, &res->experimental);
}

void cx_saa_clear(cx_saa_t *saa)
{
    free(saa->user_data);
    saa->user_data = NULL;
    saa->user_data_len = 0;
}

void cx_ppr_clear(cx_ppr_t *ppr)
{
    free(ppr->user_data);
    ppr->user_data = NULL;
    ppr->user_data_len = 0;
}
