/* SPDX-License-Identifier: BSD-2-Clause */
/* RTR and PPR to the stored S-CSCF. The answer is matched back to the
 * subscriber by IMPI (an id, re-resolved on arrival), never by pointer. */
#include "hss/cx-path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/cx/cx.h"
#include "hss/user-data.h"

typedef struct path_op {
    hss_ctx_t *ctx;
    bool rtr;
    char impi[CX_STR];
    hss_path_cb cb;
    void *arg;
} path_op_t;

static const char *send_err_name(dia_send_err_t err)
{
    switch (err) {
    case DIA_SEND_OK: return "ok";
    case DIA_SEND_TIMEOUT: return "timeout";
    case DIA_SEND_NO_PEER: return "no-peer";
    case DIA_SEND_SHUTDOWN: return "shutdown";
    }
    return "error";
}

static void on_answer(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    path_op_t *op = arg;
    cx_result_t res = { 0, false };
    const char *why = NULL;
    hss_sub_t *sub;

    if (!ans)
        why = send_err_name(err);
    else if (cx_parse_result(ans, &res) != IMS_OK)
        why = "no-result";
    if (!why && op->rtr && !res.experimental && res.code == DIA_SUCCESS) {
        sub = hss_ctx_find_impi(op->ctx, op->impi);
        if (sub) {
            hss_sub_set_scscf(sub, NULL);
            hss_sub_set_pending(sub, NULL);
            sub->state = HSS_NOT_REGISTERED;
            IMS_INFO("RTR for %s accepted: de-registered", op->impi);
        } else {
            IMS_NOTICE("RTA for %s: subscriber gone", op->impi);
        }
    }
    if (why)
        IMS_NOTICE("%s for %s: no answer (%s)", op->rtr ? "RTR" : "PPR", op->impi, why);
    op->cb(op->arg, why ? 0 : res.code, res.experimental, why);
    dia_msg_free(ans);
    free(op);
}

/* The subscriber and the S-CSCF its requests go to; NULL with err set. */
static hss_sub_t *target(hss_ctx_t *ctx, const char *impi, const hss_scscf_t **sc, char *err,
                         size_t errlen)
{
    hss_sub_t *sub = hss_ctx_find_impi(ctx, impi);

    if (!sub) {
        snprintf(err, errlen, "unknown IMPI %s", impi);
        return NULL;
    }
    if (!sub->scscf) {
        snprintf(err, errlen, "%s has no S-CSCF assigned", impi);
        return NULL;
    }
    if (!(*sc = hss_ctx_scscf_by_name(ctx, sub->scscf))) {
        snprintf(err, errlen, "S-CSCF %s is not configured (no diameter_host)", sub->scscf);
        return NULL;
    }
    return sub;
}

static int send_op(hss_ctx_t *ctx, dia_msg_t *req, bool rtr, const char *impi, hss_path_cb cb,
                   void *arg, char *err, size_t errlen)
{
    path_op_t *op;

    if (!req) {
        snprintf(err, errlen, "could not build the request");
        return IMS_ERROR;
    }
    if (!(op = calloc(1, sizeof(*op))))
        abort();
    op->ctx = ctx;
    op->rtr = rtr;
    snprintf(op->impi, sizeof(op->impi), "%s", impi);
    op->cb = cb;
    op->arg = arg;
    dia_node_send(ctx->node, &req, on_answer, op);
    return IMS_OK;
}

int hss_path_rtr(hss_ctx_t *ctx, const char *impi, uint32_t reason, hss_path_cb cb, void *arg,
                 char *err, size_t errlen)
{
    const hss_scscf_t *sc;
    hss_sub_t *sub = target(ctx, impi, &sc, err, errlen);
    cx_rtr_t r;

    if (!sub)
        return IMS_ERROR;
    if (reason > 3) {
        snprintf(err, errlen, "reason %u: expected 0..3", reason);
        return IMS_ERROR;
    }
    memset(&r, 0, sizeof(r));
    snprintf(r.impi, sizeof(r.impi), "%s", sub->impi);
    for (size_t i = 0; i < sub->nimpus && i < CX_MAX_IMPU; i++)
        snprintf(r.impu[r.nimpu++], CX_STR, "%s", sub->impus[i]);
    r.reason_code = reason;
    ctx->stats.rtr++;
    IMS_INFO("RTR for %s (reason %u) to %s", impi, reason, sc->diameter_host);
    return send_op(ctx, cx_build_rtr(ctx->node, sc->realm, sc->diameter_host, &r), true, impi,
                   cb, arg, err, errlen);
}

int hss_path_ppr(hss_ctx_t *ctx, const char *impi, hss_path_cb cb, void *arg, char *err,
                 size_t errlen)
{
    const hss_scscf_t *sc;
    hss_sub_t *sub = target(ctx, impi, &sc, err, errlen);
    cx_ppr_t r;
    size_t len;
    const char *ud;

    if (!sub)
        return IMS_ERROR;
    if (!(ud = hss_user_data(sub, CX_USER_DATA_MAX, &len))) {
        snprintf(err, errlen, "User-Data of %s is too large", impi);
        return IMS_ERROR;
    }
    memset(&r, 0, sizeof(r));
    snprintf(r.impi, sizeof(r.impi), "%s", sub->impi);
    r.user_data = (char *)ud;   /* read by the builder only: no cx_ppr_clear */
    r.user_data_len = len;
    ctx->stats.ppr++;
    IMS_INFO("PPR for %s to %s", impi, sc->diameter_host);
    return send_op(ctx, cx_build_ppr(ctx->node, sc->realm, sc->diameter_host, &r), false, impi,
                   cb, arg, err, errlen);
}
