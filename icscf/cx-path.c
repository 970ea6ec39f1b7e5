/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cx toward the HSS. The UAR's callback argument is the icscf_reg_t itself:
 * the context keeps it alive while uar_pending is set, and at shutdown the
 * HSS client is freed (dropping pending callbacks) before any reg is. The
 * LIR's is the icscf_lir_t, kept alive the same way until its LIA.
 */
#include "icscf/cx-path.h"

#include "common/core/log.h"
#include "common/core/rc.h"
#include "icscf/register-handler.h"
#include "icscf/term-handler.h"

/* Cx application (TS 29.229 §6): the I-CSCF advertises it in CER. */
#define CX_APP_ID   16777216u
#define VENDOR_3GPP 10415u

static void on_uaa(void *arg, int status, const cx_uaa_t *a)
{
    icscf_reg_t *reg = arg;

    reg->uar_pending = false;
    icscf_reg_on_uaa(reg, status, a);
}

int icscf_cx_send_uar(icscf_reg_t *reg, const cx_uar_t *uar)
{
    if (hss_uar(reg->ctx->hss, uar, on_uaa, reg) != IMS_OK)
        return IMS_ERROR;
    reg->uar_pending = true;
    return IMS_OK;
}

static void on_lia(void *arg, int status, const cx_lia_t *a)
{
    icscf_term_on_lia(arg, status, a);
}

int icscf_cx_send_lir(icscf_lir_t *lir, const cx_lir_t *r)
{
    return hss_lir(lir->ctx->hss, r, on_lia, lir);
}

int icscf_cx_open(icscf_ctx_t *ctx)
{
    dia_node_cfg_t *nc = &ctx->dia.node;

    nc->apps[0] = (dia_app_t){ CX_APP_ID, VENDOR_3GPP };
    nc->napps = 1;
    if (!nc->product_name)
        nc->product_name = "ims-core icscf";
    ctx->dia_node = dia_conf_node(ctx->loop, &ctx->dia);
    if (!ctx->dia_node)
        return IMS_ERROR;
    ctx->hss = hss_client_new_cx(ctx->dia_node, ctx->hss_realm, ctx->hss_host);
    if (!ctx->hss || dia_node_start(ctx->dia_node) != IMS_OK)
        return IMS_ERROR;
    ctx->dia_started = true;
    IMS_NOTICE("Cx: %s toward realm %s%s%s, request timeout %u ms", nc->origin_host, ctx->hss_realm,
               ctx->hss_host ? " host " : "", ctx->hss_host ? ctx->hss_host : "",
               nc->request_timeout_ms);
    return IMS_OK;
}

static void on_stopped(void *arg)
{
    ims_loop_stop(arg);
}

void icscf_cx_close(icscf_ctx_t *ctx)
{
    hss_client_free(ctx->hss);
    ctx->hss = NULL;
    if (ctx->dia_node) {
        if (ctx->dia_started) {
            /* the node's loop has returned; run it once more for the DPR exchange
             * (REGISTERs arriving meanwhile get 503: hss is NULL) */
            dia_node_stop(ctx->dia_node, on_stopped, ctx->loop);
            ims_loop_run(ctx->loop);
        }
        dia_node_free(ctx->dia_node);
        ctx->dia_node = NULL;
    }
}
