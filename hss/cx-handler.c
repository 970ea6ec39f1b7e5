/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UAR, MAR, SAR and LIR (TS 29.228 §6.1.1, §6.3, §6.1.2, §6.2.1), on the
 * registration state kept per subscriber: the whole implicit registration set
 * of an IMPI registers together, so state lives on the subscriber, not on
 * each IMPU.
 *
 * Simplifications a lab HSS can afford, each chosen to keep the CSCFs honest:
 * no roaming checks (every visited network is allowed), a SAR from an S-CSCF
 * other than the stored one overwrites it (logged) instead of answering 5007,
 * and the barring check of UAR refuses a barred IMPU with the base
 * DIAMETER_AUTHORIZATION_REJECTED (5003) for anything but de-registration.
 *
 * open5gs_mode answers as open5gs's HSS does, so that the CSCFs are tested
 * against it without one: a first registration's UAA carries neither
 * Server-Name nor Server-Capabilities (the I-CSCF must fall back to its
 * configured default S-CSCF), and MAR serves Digest-AKAv1-MD5 only ("Unknown"
 * means AKA; SIP Digest and the rest get 5006). RTR/PPR: see ctl.c.
 */
#include "hss/cx-handler.h"

#include <stdio.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "hss/hss-auth.h"
#include "hss/user-data.h"

#define DIA_AUTHORIZATION_REJECTED 5003u  /* base Result-Code, not the Cx 5003 */

/* User-Authorization-Type (29.229 §6.3.24) */
enum { UAT_REGISTRATION = 0, UAT_DE_REGISTRATION = 1, UAT_REGISTRATION_AND_CAPABILITIES = 2 };

static cx_result_t res_base(uint32_t code)
{
    return (cx_result_t){ code, false };
}

static cx_result_t res_exp(uint32_t code)
{
    return (cx_result_t){ code, true };
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Server-Capabilities from the configuration. */
static void fill_caps(const hss_ctx_t *ctx, cx_caps_t *c)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < ctx->ncap_mandatory && i < CX_MAX_CAPS; i++)
        c->mandatory[c->nmandatory++] = ctx->cap_mandatory[i];
    for (int i = 0; i < ctx->ncap_optional && i < CX_MAX_CAPS; i++)
        c->optional[c->noptional++] = ctx->cap_optional[i];
    if (ctx->caps_with_names)
        for (int i = 0; i < ctx->nscscfs && i < CX_MAX_CAPS; i++)
            copy(c->server_name[c->nserver_names++], CX_STR, ctx->scscfs[i].name);
}

/* The subscriber of impi and impu: 5001 when either is unknown, 5002 when
 * they are not one subscriber's. Empty impi: by impu alone. */
static hss_sub_t *lookup(const hss_ctx_t *ctx, const char *impi, const char *impu,
                         cx_result_t *res)
{
    hss_sub_t *by_impi = *impi ? hss_ctx_find_impi(ctx, impi) : NULL;
    hss_sub_t *by_impu = *impu ? hss_ctx_find_impu(ctx, impu) : NULL;

    if ((*impi && !by_impi) || (*impu && !by_impu) || (!by_impi && !by_impu)) {
        *res = res_exp(CX_ERROR_USER_UNKNOWN);
        return NULL;
    }
    if (by_impi && by_impu && by_impi != by_impu) {
        *res = res_exp(CX_ERROR_IDENTITIES_DONT_MATCH);
        return NULL;
    }
    return by_impi ? by_impi : by_impu;
}

void hss_uar(hss_ctx_t *ctx, const cx_uar_t *r, cx_uaa_t *a)
{
    hss_sub_t *sub;
    int idx;

    memset(a, 0, sizeof(*a));
    if (!(sub = lookup(ctx, r->impi, r->impu, &a->result)))
        return;
    idx = hss_sub_impu_index(sub, r->impu);
    if (idx >= 0 && sub->barred[idx] && r->auth_type != UAT_DE_REGISTRATION) {
        a->result = res_base(DIA_AUTHORIZATION_REJECTED);
        return;
    }
    switch (r->auth_type) {
    case UAT_DE_REGISTRATION:
        if (sub->state == HSS_NOT_REGISTERED || !sub->scscf) {
            a->result = res_exp(CX_ERROR_IDENTITY_NOT_REGISTERED);
            return;
        }
        a->result = res_base(DIA_SUCCESS);
        copy(a->server_name, sizeof(a->server_name), sub->scscf);
        return;
    case UAT_REGISTRATION_AND_CAPABILITIES:
        break;
    case UAT_REGISTRATION:
        /* registered, unregistered (assigned for terminating services) or a
         * name kept by *_STORE_SERVER_NAME: the I-CSCF goes to that S-CSCF */
        if (sub->scscf) {
            a->result = res_exp(CX_SUBSEQUENT_REGISTRATION);
            copy(a->server_name, sizeof(a->server_name), sub->scscf);
            return;
        }
        break;
    default:
        a->result = res_base(DIA_INVALID_AVP_VALUE);
        return;
    }
    a->result = res_exp(CX_FIRST_REGISTRATION);
    if (ctx->open5gs_mode)
        return;
    a->has_caps = true;
    fill_caps(ctx, &a->caps);
    if (ctx->uaa_server_name && ctx->nscscfs > 0)
        copy(a->server_name, sizeof(a->server_name), ctx->scscfs[0].name);
}

void hss_mar(hss_ctx_t *ctx, const cx_mar_t *r, cx_maa_t *a)
{
    hss_sub_t *sub;
    hss_scheme_t scheme;
    const char *s = r->item.scheme;

    memset(a, 0, sizeof(*a));
    if (!(sub = lookup(ctx, r->impi, r->impu, &a->result)))
        return;
    copy(a->impi, sizeof(a->impi), sub->impi);
    if (strcmp(s, HSS_AKA_SCHEME) == 0)
        scheme = HSS_SCHEME_AKA;
    else if (strcmp(s, HSS_DIGEST_SCHEME) == 0)
        scheme = HSS_SCHEME_DIGEST;
    else if (*s == '\0' || strcmp(s, "Unknown") == 0)
        scheme = ctx->open5gs_mode ? HSS_SCHEME_AKA : sub->scheme;
    else {
        a->result = res_exp(CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
        return;
    }
    if ((scheme == HSS_SCHEME_DIGEST && ctx->open5gs_mode) ||
        (scheme == HSS_SCHEME_AKA && !sub->has_k) ||
        (scheme == HSS_SCHEME_DIGEST && !sub->password)) {
        a->result = res_exp(CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
        return;
    }
    /* 29.228 §6.3: the requesting S-CSCF becomes the pending one until SAR */
    if (r->server_name[0] && (!sub->scscf || strcmp(sub->scscf, r->server_name) != 0))
        hss_sub_set_pending(sub, r->server_name);
    if (scheme == HSS_SCHEME_AKA)
        a->result = hss_auth_aka(ctx, sub, r->item.authorization, r->item.authorization_len,
                                 r->num_items, a);
    else
        a->result = hss_auth_digest(ctx, sub, a);
    if (a->result.code != DIA_SUCCESS) {
        a->nitems = 0;
        a->num_items = 0;
    }
}

/* SAR state changes; true when the answer carries User-Data. */
static bool sar_assign(hss_sub_t *sub, const cx_sar_t *r, cx_result_t *res)
{
    switch (r->type) {
    case CX_SAT_NO_ASSIGNMENT:
        return true;
    case CX_SAT_REGISTRATION:
    case CX_SAT_RE_REGISTRATION:
        if (sub->state == HSS_REGISTERED && sub->scscf && strcmp(sub->scscf, r->server_name))
            IMS_NOTICE("SAR for %s from %s: was registered at %s, overwritten", sub->impi,
                       r->server_name, sub->scscf);
        hss_sub_set_scscf(sub, r->server_name);
        hss_sub_set_pending(sub, NULL);
        sub->state = HSS_REGISTERED;
        return true;
    case CX_SAT_UNREGISTERED_USER:
        hss_sub_set_scscf(sub, r->server_name);
        hss_sub_set_pending(sub, NULL);
        sub->state = HSS_UNREGISTERED;
        return true;
    case CX_SAT_TIMEOUT_DEREGISTRATION:
    case CX_SAT_USER_DEREGISTRATION:
    case CX_SAT_ADMINISTRATIVE_DEREGISTRATION:
    case CX_SAT_DEREGISTRATION_TOO_MUCH_DATA:
    case CX_SAT_AUTHENTICATION_FAILURE:
    case CX_SAT_AUTHENTICATION_TIMEOUT:
        hss_sub_set_scscf(sub, NULL);
        hss_sub_set_pending(sub, NULL);
        sub->state = HSS_NOT_REGISTERED;
        return false;
    case CX_SAT_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME:
    case CX_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME:
        if (!sub->scscf)
            hss_sub_set_scscf(sub, r->server_name);
        hss_sub_set_pending(sub, NULL);
        sub->state = HSS_NOT_REGISTERED;
        return false;
    }
    /* 12..14 (AAA_USER_DATA_REQUEST, PGW_UPDATE, RESTORATION) are not for Cx */
    *res = res_exp(CX_ERROR_IN_ASSIGNMENT_TYPE);
    return false;
}

void hss_sar(hss_ctx_t *ctx, const cx_sar_t *r, cx_saa_t *a)
{
    hss_sub_t *sub;
    const char *ud;
    size_t len;

    memset(a, 0, sizeof(*a));
    if (!(sub = lookup(ctx, r->impi, r->nimpu > 0 ? r->impu[0] : "", &a->result)))
        return;
    for (int i = 1; i < r->nimpu; i++) {
        if (hss_ctx_find_impu(ctx, r->impu[i]) != sub) {
            a->result = res_exp(hss_ctx_find_impu(ctx, r->impu[i]) ? CX_ERROR_IDENTITIES_DONT_MATCH
                                                                 : CX_ERROR_USER_UNKNOWN);
            return;
        }
    }
    a->result = res_base(DIA_SUCCESS);
    copy(a->impi, sizeof(a->impi), sub->impi);
    if (!sar_assign(sub, r, &a->result))
        return;
    if (r->user_data_already_available && r->type != CX_SAT_NO_ASSIGNMENT)
        return;
    if (!(ud = hss_user_data(sub, CX_USER_DATA_MAX, &len))) {
        a->result = res_exp(CX_ERROR_TOO_MUCH_DATA);
        return;
    }
    a->user_data = (char *)ud;
    a->user_data_len = len;
    copy(a->ecf, sizeof(a->ecf), ctx->charging_ecf);
    copy(a->ccf, sizeof(a->ccf), ctx->charging_ccf);
}

void hss_lir(hss_ctx_t *ctx, const cx_lir_t *r, cx_lia_t *a)
{
    hss_sub_t *sub;

    memset(a, 0, sizeof(*a));
    if (!(sub = hss_ctx_find_impu(ctx, r->impu))) {
        a->result = res_exp(CX_ERROR_USER_UNKNOWN);
        return;
    }
    if (r->auth_type == UAT_REGISTRATION_AND_CAPABILITIES) {
        a->result = res_base(DIA_SUCCESS);
        a->has_caps = true;
        fill_caps(ctx, &a->caps);
        return;
    }
    if (sub->state != HSS_NOT_REGISTERED && sub->scscf) {
        a->result = res_base(DIA_SUCCESS);
        copy(a->server_name, sizeof(a->server_name), sub->scscf);
        return;
    }
    if (!sub->profile || !sub->profile->unreg_services) {
        a->result = res_exp(CX_ERROR_IDENTITY_NOT_REGISTERED);
        return;
    }
    a->result = res_exp(CX_UNREGISTERED_SERVICE);
    if (sub->scscf) {
        copy(a->server_name, sizeof(a->server_name), sub->scscf);
    } else {
        a->has_caps = true;
        fill_caps(ctx, &a->caps);
    }
}

/* ---- Diameter glue ---- */

static dia_msg_t *answer_uar(hss_ctx_t *ctx, dia_node_t *node, const dia_msg_t *req,
                             uint32_t *missing)
{
    cx_uar_t r;
    cx_uaa_t a;

    if (cx_parse_uar(req, &r, missing) != IMS_OK)
        return NULL;
    ctx->stats.uar++;
    hss_uar(ctx, &r, &a);
    IMS_DEBUG("UAR %s %s type %u -> %u%s", r.impi, r.impu, r.auth_type, a.result.code,
              a.result.experimental ? " (exp)" : "");
    return cx_build_uaa(node, req, &a);
}

static dia_msg_t *answer_mar(hss_ctx_t *ctx, dia_node_t *node, const dia_msg_t *req,
                             uint32_t *missing)
{
    cx_mar_t r;
    cx_maa_t a;

    if (cx_parse_mar(req, &r, missing) != IMS_OK)
        return NULL;
    ctx->stats.mar++;
    hss_mar(ctx, &r, &a);
    IMS_DEBUG("MAR %s %s '%s' x%u -> %u%s", r.impi, r.impu, r.item.scheme, r.num_items,
              a.result.code, a.result.experimental ? " (exp)" : "");
    return cx_build_maa(node, req, &a);
}

static dia_msg_t *answer_sar(hss_ctx_t *ctx, dia_node_t *node, const dia_msg_t *req,
                             uint32_t *missing)
{
    cx_sar_t r;
    cx_saa_t a;

    if (cx_parse_sar(req, &r, missing) != IMS_OK)
        return NULL;
    ctx->stats.sar++;
    hss_sar(ctx, &r, &a);
    IMS_DEBUG("SAR %s type %d from %s -> %u%s", r.impi, (int)r.type, r.server_name,
              a.result.code, a.result.experimental ? " (exp)" : "");
    return cx_build_saa(node, req, &a);   /* a.user_data is the subscriber's: no clear */
}

static dia_msg_t *answer_lir(hss_ctx_t *ctx, dia_node_t *node, const dia_msg_t *req,
                             uint32_t *missing)
{
    cx_lir_t r;
    cx_lia_t a;

    if (cx_parse_lir(req, &r, missing) != IMS_OK)
        return NULL;
    ctx->stats.lir++;
    hss_lir(ctx, &r, &a);
    IMS_DEBUG("LIR %s -> %u%s", r.impu, a.result.code, a.result.experimental ? " (exp)" : "");
    return cx_build_lia(node, req, &a);
}

void hss_cx_on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *rctx, dia_msg_t *req)
{
    hss_ctx_t *ctx = arg;
    dia_msg_t *ans = NULL;
    uint32_t missing = 0;
    bool known = true;

    switch (req->code) {
    case DIA_CMD_UAR: ans = answer_uar(ctx, node, req, &missing); break;
    case DIA_CMD_MAR: ans = answer_mar(ctx, node, req, &missing); break;
    case DIA_CMD_SAR: ans = answer_sar(ctx, node, req, &missing); break;
    case DIA_CMD_LIR: ans = answer_lir(ctx, node, req, &missing); break;
    default:
        known = false;
        IMS_NOTICE("Cx command %u is not served by the HSS: 3001", req->code);
        ans = cx_build_result_answer(node, req, res_base(DIA_COMMAND_UNSUPPORTED));
        break;
    }
    if (!ans && known) {
        /* the parse failed (or, never expected, the build did) */
        ctx->stats.errors++;
        IMS_NOTICE("Cx %u refused: %s %u", req->code, missing ? "missing AVP" : "bad value",
                   missing);
        ans = cx_build_parse_error_answer(node, req, missing);
    }
    if (ans)
        dia_node_answer(node, rctx, &ans);
    else
        IMS_ERR("Cx %u: could not build an answer", req->code);
    dia_msg_free(req);
}
