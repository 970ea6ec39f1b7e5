/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * REGISTER at the I-CSCF (TS 24.229 §5.3.1.2, TS 29.228 §6.1.1):
 *
 *   REGISTER in --UAR--> HSS --UAA--> verdict (scscf-select.c)
 *     error    -> 403 / 480 / 500 answered here
 *     no answer (timeout, no open peer) -> 500 + Retry-After
 *     success  -> the S-CSCFs to try (Server-Name, else by capabilities,
 *                 else the configured default), resolved now, and handed to
 *                 scscf-path.c, which forwards and retries.
 *   An S-CSCF the HSS named that fails (TS 24.229 §5.3.1.3): a second UAR
 *   with REGISTRATION_AND_CAPABILITIES, and a choice by capabilities among the
 *   others (icscf_reg_requery, from scscf-path.c).
 *
 * The REGISTER waits, suspended, by its proxy request id: when the UAA comes
 * back the request may have gone (only at shutdown for a non-INVITE whose
 * final answer is ours to give, but checked all the same).
 */
#include "icscf/register-handler.h"

#include <stdio.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "icscf/cx-path.h"
#include "icscf/diagnose.h"
#include "icscf/reg-info.h"
#include "icscf/scscf-path.h"
#include "icscf/term-handler.h"

void icscf_reply(sip_proxy_req_t *pr, int code, const char *reason, uint32_t retry_after_s)
{
    sip_msg_t *r;
    char v[16];

    if (retry_after_s == 0) {
        sip_proxy_reply(pr, code, reason);
        return;
    }
    r = sip_msg_make_response(sip_proxy_req_msg(pr), code, reason, NULL);
    if (!r) {
        sip_proxy_reply(pr, code, reason);
        return;
    }
    snprintf(v, sizeof(v), "%u", retry_after_s);
    sip_msg_header_add(r, "Retry-After", v);
    sip_proxy_reply_msg(pr, r);
}

/* The answers to REGISTER made here (not relayed): counted by code. */
static void reg_reply(icscf_ctx_t *ctx, sip_proxy_req_t *pr, int code, const char *reason,
                      uint32_t retry_after_s)
{
    ims_counter_inc(ctx->m_register, ims_sip_code_index(code));
    icscf_reply(pr, code, reason, retry_after_s);
}

int icscf_on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req)
{
    icscf_ctx_t *ctx = arg;
    icscf_reg_t *reg;
    cx_uar_t uar;
    const char *why = NULL;

    if (!ctx)
        return IMS_DECLINED;
    if (strcmp(sip_msg_method(req), "REGISTER") != 0)
        return icscf_term_request(ctx, pr, req);
    ctx->stats.registers++;
    if (!ctx->hss) {
        reg_reply(ctx, pr, 503, "Service Unavailable - Shutting Down", 0);
        return IMS_OK;
    }
    if (icscf_reg_uar_fields(req, ctx->home_domain, &uar, &why) != IMS_OK) {
        IMS_INFO("REGISTER refused: %s", why);
        reg_reply(ctx, pr, 400, why, 0);
        return IMS_OK;
    }
    reg = icscf_reg_new(ctx, sip_proxy_req_id(pr));
    snprintf(reg->impi, sizeof(reg->impi), "%s", uar.impi);
    snprintf(reg->impu, sizeof(reg->impu), "%s", uar.impu);
    if (icscf_cx_send_uar(reg, &uar) != IMS_OK) {
        icscf_reg_free(reg);
        IMS_WARN("UAR for %s / %s could not be built", uar.impi, uar.impu);
        reg_reply(ctx, pr, 400, "Bad Request - Unusable Identity", 0);
        return IMS_OK;
    }
    IMS_DEBUG("UAR %s %s type %u visited %s", uar.impi, uar.impu, uar.auth_type,
              uar.visited_network);
    return IMS_OK;
}

/* Resolve one S-CSCF name into the next free target, skipping duplicates
 * (the HSS and the configuration may name one S-CSCF differently). */
static void add_target(icscf_reg_t *reg, sip_proxy_t *px, const char *name)
{
    icscf_target_t *t = &reg->targets[reg->ntargets];

    if (icscf_scscf_resolve(px, name, &t->dst) != IMS_OK)
        return;
    for (int i = 0; i < reg->ntargets; i++)
        if (reg->targets[i].dst.proto == t->dst.proto &&
            sip_addr_equal(&reg->targets[i].dst.addr, &t->dst.addr))
            return;
    snprintf(t->name, sizeof(t->name), "%s", name);
    reg->ntargets++;
}

static void select_targets(icscf_reg_t *reg, sip_proxy_t *px, const cx_uaa_t *a)
{
    icscf_ctx_t *ctx = reg->ctx;
    const char *names[ICSCF_MAX_CANDIDATES];
    int n =
        icscf_select(a, ctx->scscfs, ctx->nscscfs, ctx->default_scscf, names, ICSCF_MAX_CANDIDATES);

    int limit = reg->ntargets + (int)ctx->scscf_attempts;

    /* after a second UAR the S-CSCFs tried before are skipped as duplicates */
    if (limit > ICSCF_MAX_ATTEMPTS)
        limit = ICSCF_MAX_ATTEMPTS;
    for (int i = 0; i < n && reg->ntargets < limit; i++)
        add_target(reg, px, names[i]);
}

int icscf_reg_requery(icscf_reg_t *reg, sip_proxy_req_t *pr)
{
    cx_uar_t uar;
    const char *why;

    if (!reg->by_name || reg->requeried || !reg->ctx->hss ||
        icscf_reg_uar_fields(sip_proxy_req_msg(pr), reg->ctx->home_domain, &uar, &why) != IMS_OK)
        return IMS_ERROR;
    uar.auth_type = ICSCF_UAT_REGISTRATION_AND_CAPABILITIES;
    reg->requeried = true;
    if (icscf_cx_send_uar(reg, &uar) != IMS_OK)
        return IMS_ERROR;
    IMS_NOTICE("S-CSCF %s named by the HSS failed: UAR for capabilities",
               reg->targets[reg->ntargets - 1].name);
    return IMS_OK;
}

/* The fate of the REGISTER of pr once the UAA (or its absence) is known. */
static void uaa_outcome(icscf_reg_t *reg, sip_proxy_req_t *pr, int status, const cx_uaa_t *a)
{
    icscf_ctx_t *ctx = reg->ctx;
    icscf_verdict_t v;

    icscf_diag_hss(ctx, "UAR", reg->impi, reg->impu, sip_proxy_req_msg(pr), status,
                   status == IMS_OK ? &a->result : NULL);
    if (status != IMS_OK) {
        ctx->stats.hss_failures++;
        IMS_WARN("UAR: no answer from the HSS: 500, Retry-After %u", ctx->retry_after_s);
        reg_reply(ctx, pr, 500, "Server Internal Error - HSS Unavailable", ctx->retry_after_s);
        icscf_reg_free(reg);
        return;
    }
    v = icscf_uaa_verdict(a->result);
    if (!v.forward) {
        ctx->stats.uar_rejected++;
        IMS_INFO("UAA %u%s: %d %s", a->result.code, a->result.experimental ? " (exp)" : "", v.code,
                 v.reason);
        reg_reply(ctx, pr, v.code, v.reason, 0);
        icscf_reg_free(reg);
        return;
    }
    ctx->stats.uar_ok++;
    if (!reg->requeried)
        reg->by_name = a->server_name[0] != '\0';
    select_targets(reg, sip_proxy_req_proxy(pr), a);
    if (reg->next_target >= reg->ntargets) {
        IMS_WARN("UAA %u: no%s S-CSCF to forward to (configure icscf.default_scscf?)",
                 a->result.code, reg->requeried ? " other" : "");
        icscf_diag_no_scscf(ctx, reg->impi, reg->impu, sip_proxy_req_msg(pr), a);
        if (reg->requeried)
            reg_reply(ctx, pr, 504, NULL, 0); /* the one the HSS named did not answer */
        else
            reg_reply(ctx, pr, 500, "Server Internal Error - No S-CSCF Available", 0);
        icscf_reg_free(reg);
        return;
    }
    icscf_scscf_forward(reg, pr);
}

void icscf_reg_on_uaa(icscf_reg_t *reg, int status, const cx_uaa_t *a)
{
    sip_proxy_req_t *pr = icscf_req_resume(reg->ctx, reg->pr_id);

    if (!pr) {
        IMS_INFO("UAA: the REGISTER has gone");
        icscf_reg_free(reg);
        return;
    }
    uaa_outcome(reg, pr, status, a);
    ims_log_ctx_clear();
}
