/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF daemon: the shared SIP node (transport, transactions, proxy
 * core) with the P-CSCF procedures of TS 24.229 §5.2 as its proxy handler.
 * Command line: see common/sip/node.h; configuration: config/pcscf.cfg.
 */
#include "common/core/rc.h"
#include "common/sip/node.h"
#include "pcscf/ctl-cmds.h"
#include "pcscf/diagnose.h"
#include "pcscf/dialog.h"
#include "pcscf/init.h"
#include "pcscf/metrics.h"
#include "pcscf/policy.h"
#include "pcscf/secagree.h"
#include "pcscf/sip-handler.h"
#include "pcscf/ue-store.h"

static const sip_proxy_handler_t g_handler = {
    .on_request = pcscf_on_request,
    .on_response = pcscf_metrics_on_response,   /* counts, then pcscf_on_response */
    .on_ack = pcscf_on_ack,
    .on_ack_dest = pcscf_on_ack_dest,
};

static void stop(void *app)
{
    if (app) {
        pcscf_policy_stop(app);  /* first: the calls freed below send no STR */
        pcscf_metrics_stop(app);
        pcscf_ctl_stop(app);
        pcscf_store_stop(app);   /* before the UEs are freed: they stay stored */
        pcscf_diag_stop(app);
    }
    pcscf_stop(app);
}

/* sec-agree (the kernel's ESP checked first), the store, the policy client,
 * the control socket and the metrics come last and go first (init.c stays free
 * of them: the unit tests compile init.c alone). */
static int start(sip_node_t *node, ims_conf_t *conf, void **app)
{
    pcscf_ctx_t *ctx;

    if (pcscf_start(node, conf, app) != IMS_OK)
        return IMS_ERROR;
    ctx = *app;
    if (ctx->enabled)
        pcscf_diag_start(ctx);
    if ((ctx->enabled && pcscf_sec_start(ctx, sip_node_transport(node), conf) != IMS_OK) ||
        (ctx->enabled && pcscf_store_start(ctx, conf) != IMS_OK) ||
        (ctx->enabled && pcscf_policy_start(ctx, conf) != IMS_OK) ||
        (ctx->enabled && pcscf_ctl_start(ctx, node, conf) != IMS_OK) ||
        pcscf_metrics_start(ctx, node, conf) != IMS_OK) {
        stop(ctx);
        *app = NULL;
        return IMS_ERROR;
    }
    pcscf_diag_register(ctx);
    return IMS_OK;
}

/* A draining P-CSCF (SIGTERM, sip.drain_ms) stays until its calls have ended. */
static size_t dialogs(void *app)
{
    return app ? pcscf_dialog_count(app) : 0;
}

static const sip_node_app_t g_app = {
    .name = "pcscf",
    .start = start,
    .stop = stop,
    .handler = &g_handler,
    .dialogs = dialogs,
};

int main(int argc, char **argv)
{
    return sip_node_run(argc, argv, &g_app);
}
