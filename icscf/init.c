/* SPDX-License-Identifier: BSD-2-Clause */
/* Bring-up in order (configuration, Cx), tear-down in reverse. */
#include "icscf/init.h"

#include <stdio.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "icscf/context.h"
#include "icscf/ctl-cmds.h"
#include "icscf/cx-path.h"
#include "icscf/diagnose.h"
#include "icscf/metrics.h"

int icscf_start(sip_node_t *node, ims_conf_t *conf, void **app)
{
    icscf_ctx_t *ctx = NULL;
    char err[512];
    int rc = icscf_ctx_load(conf, &ctx, err, sizeof(err));

    *app = NULL;
    if (rc == IMS_DECLINED) {
        IMS_NOTICE("no icscf group in the configuration: I-CSCF procedures off");
        return IMS_OK;
    }
    if (rc != IMS_OK) {
        IMS_ERR("%s", err);
        fprintf(stderr, "icscf: %s\n", err);
        return IMS_ERROR;
    }
    ctx->node = node;
    ctx->loop = sip_node_loop(node);
    icscf_diag_start(ctx);
    if (icscf_cx_open(ctx) != IMS_OK || icscf_ctl_start(ctx, conf) != IMS_OK ||
        icscf_metrics_start(ctx, conf) != IMS_OK) {
        IMS_ERR("cannot start Diameter toward the HSS, the control socket or the metrics");
        icscf_metrics_stop(ctx);
        icscf_ctl_stop(ctx);
        icscf_cx_close(ctx);
        icscf_ctx_free(ctx);
        return IMS_ERROR;
    }
    IMS_NOTICE("I-CSCF for %s: %d S-CSCFs configured, default %s, %u tried per REGISTER",
               ctx->home_domain, ctx->nscscfs, ctx->default_scscf ? ctx->default_scscf : "-",
               ctx->scscf_attempts);
    *app = ctx;
    return IMS_OK;
}

void icscf_stop(void *app)
{
    icscf_ctx_t *ctx = app;

    if (!ctx)
        return;
    icscf_ctl_stop(ctx);
    icscf_metrics_stop(ctx);
    IMS_NOTICE("I-CSCF: %llu REGISTERs, %llu UAA ok, %llu refused, %llu HSS failures, "
               "%llu forwarded, %llu retries, %llu S-CSCF failures",
               (unsigned long long)ctx->stats.registers, (unsigned long long)ctx->stats.uar_ok,
               (unsigned long long)ctx->stats.uar_rejected,
               (unsigned long long)ctx->stats.hss_failures,
               (unsigned long long)ctx->stats.forwarded, (unsigned long long)ctx->stats.retries,
               (unsigned long long)ctx->stats.scscf_failures);
    IMS_NOTICE("I-CSCF: %llu LIRs, %llu forwarded, %llu answered here, %llu HSS failures, "
               "%llu requests gone before the LIA",
               (unsigned long long)ctx->stats.lir, (unsigned long long)ctx->stats.lir_forwarded,
               (unsigned long long)ctx->stats.lir_rejected,
               (unsigned long long)ctx->stats.lir_hss_failures,
               (unsigned long long)ctx->stats.lir_gone);
    icscf_cx_close(ctx); /* no UAA or LIA callback after this */
    icscf_ctx_free(ctx); /* the requests still in flight */
}
