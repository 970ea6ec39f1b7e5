/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Terminating requests at the I-CSCF (TS 24.229 §5.3.2.1, TS 29.228 §6.2.1):
 *
 *   initial request for a home user --LIR--> HSS --LIA--> verdict (scscf-select.c)
 *     Server-Name            -> that S-CSCF
 *     Server-Capabilities    -> the S-CSCF they lead to (icscf_select_by, as for a UAA)
 *     neither (success)      -> the configured default S-CSCF
 *     5001 USER_UNKNOWN -> 404, 5003 IDENTITY_NOT_REGISTERED -> 480, others 480/500
 *     no answer (timeout, no open peer) -> 500 + Retry-After, as for a REGISTER
 *   The request goes to the S-CSCF with a Route to it, through the proxy core
 *   (scscf-path.c icscf_scscf_route): CANCEL, Timer C and the best response
 *   are the core's, as for any proxied request.
 *
 * What ims-hss answers (hss/cx-handler.c hss_lir), hence what the lab sees: a
 * registered user, or one whose S-CSCF is kept for unregistered services,
 * gets DIAMETER_SUCCESS with the Server-Name. A known user not registered
 * gets 5003 (480 here) unless its profile has iFCs for the unregistered state;
 * then, as TS 29.228 §6.2.1 says, Experimental 2003 UNREGISTERED_SERVICE
 * with the Server-Name when one is still assigned, else Server-Capabilities,
 * so that an S-CSCF does the unregistered-user handling (SAR UNREGISTERED_USER
 * and the unregistered iFCs; TS 24.229 §5.4.3.3).
 *
 * The request waits by its proxy request id. A CANCEL meanwhile is answered
 * by the core (487 to the INVITE), which then lets go of the request: the LIA
 * finds nothing and is only counted (lir_gone). Not done here: requests
 * for originating services through the I-CSCF (the "orig" parameter: the
 * Route carrying it is gone by now) and a second LIR with
 * REGISTRATION_AND_CAPABILITIES when the named S-CSCF fails (the core has
 * answered upstream by then).
 */
#include "icscf/term-handler.h"

#include <stdio.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "icscf/cx-path.h"
#include "icscf/diagnose.h"
#include "icscf/lir-info.h"
#include "icscf/register-handler.h"
#include "icscf/scscf-path.h"

int icscf_term_request(icscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req)
{
    icscf_lir_t *lir;
    cx_lir_t r;
    int rc = icscf_lir_fields(req, ctx->home_domain, &r);

    if (rc == IMS_DECLINED)
        return IMS_DECLINED;
    if (rc != IMS_OK) {
        IMS_INFO("%s: unusable Request-URI identity: 404", sip_msg_method(req));
        sip_proxy_reply(pr, 404, "Not Found - Unusable Request-URI");
        return IMS_OK;
    }
    if (!ctx->hss) {
        sip_proxy_reply(pr, 503, "Service Unavailable - Shutting Down");
        return IMS_OK;
    }
    lir = icscf_lir_new(ctx, sip_proxy_req_id(pr));
    snprintf(lir->impu, sizeof(lir->impu), "%s", r.impu);
    if (icscf_cx_send_lir(lir, &r) != IMS_OK) {
        IMS_WARN("LIR for %s could not be built", r.impu);
        icscf_lir_free(lir);
        sip_proxy_reply(pr, 500, NULL);
        return IMS_OK;
    }
    ctx->stats.lir++;
    IMS_DEBUG("LIR %s for %s", r.impu, sip_msg_method(req));
    return IMS_OK;
}

/* An S-CSCF for the request of pr from a successful LIA: the first candidate
 * that resolves. */
static void forward(icscf_lir_t *lir, sip_proxy_req_t *pr, const cx_lia_t *a)
{
    icscf_ctx_t *ctx = lir->ctx;
    const char *names[ICSCF_MAX_CANDIDATES];
    sip_dest_t dst;
    int n = icscf_select_by(a->server_name, a->has_caps ? &a->caps : NULL, ctx->scscfs,
                            ctx->nscscfs, ctx->default_scscf, names, ICSCF_MAX_CANDIDATES);

    for (int i = 0; i < n; i++) {
        if (icscf_scscf_resolve(sip_proxy_req_proxy(pr), names[i], &dst) != IMS_OK)
            continue;
        IMS_INFO("LIA %u%s for %s: %s to %s%s", a->result.code,
                 a->result.experimental ? " (exp)" : "", lir->impu,
                 sip_msg_method(sip_proxy_req_msg(pr)), names[i],
                 a->server_name[0] ? "" : " (chosen here)");
        ctx->stats.lir_forwarded++;
        icscf_scscf_route(pr, names[i], &dst);
        return;
    }
    ctx->stats.lir_rejected++;
    IMS_WARN("LIA %u for %s: no S-CSCF to forward to (configure icscf.default_scscf?)",
             a->result.code, lir->impu);
    icscf_reply(pr, 500, "Server Internal Error - No S-CSCF Available", 0);
}

/* The fate of the request of pr once the LIA (or its absence) is known. */
static void lia_outcome(icscf_lir_t *lir, sip_proxy_req_t *pr, int status, const cx_lia_t *a)
{
    icscf_ctx_t *ctx = lir->ctx;
    icscf_verdict_t v;

    /* per-UE log, by IMPU (diagnose.h) */
    icscf_diag_hss(ctx, "LIR", lir->impu, lir->impu, NULL, status,
                   status == IMS_OK ? &a->result : NULL);
    if (status != IMS_OK) {
        ctx->stats.lir_hss_failures++;
        IMS_WARN("LIR %s: no answer from the HSS: 500, Retry-After %u", lir->impu,
                 ctx->retry_after_s);
        icscf_reply(pr, 500, "Server Internal Error - HSS Unavailable", ctx->retry_after_s);
        return;
    }
    v = icscf_lia_verdict(a->result);
    if (v.forward) {
        forward(lir, pr, a);
        return;
    }
    ctx->stats.lir_rejected++;
    IMS_INFO("LIA %u%s for %s: %d %s", a->result.code, a->result.experimental ? " (exp)" : "",
             lir->impu, v.code, v.reason);
    icscf_reply(pr, v.code, v.reason, 0);
}

void icscf_term_on_lia(icscf_lir_t *lir, int status, const cx_lia_t *a)
{
    sip_proxy_req_t *pr = icscf_req_resume(lir->ctx, lir->pr_id);

    if (!pr) {
        /* answered meanwhile: a CANCEL (487), or shutdown */
        lir->ctx->stats.lir_gone++;
        IMS_INFO("LIA for %s: the request has gone", lir->impu);
        icscf_lir_free(lir);
        return;
    }
    lia_outcome(lir, pr, status, a);
    ims_log_ctx_clear();
    icscf_lir_free(lir);
}
