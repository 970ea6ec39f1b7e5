/* SPDX-License-Identifier: BSD-2-Clause */
#include "hss/init.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "hss/ctl.h"
#include "hss/cx-handler.h"
#include "hss/metrics.h"
#include "hss/sqn-store.h"

/* mkdir -p, mode 0700 for what it creates. */
static int make_dirs(const char *dir)
{
    char p[512];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(p))
        return IMS_ERROR;
    memcpy(p, dir, n + 1);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return IMS_ERROR;
        *s = '/';
    }
    return mkdir(p, 0700) != 0 && errno != EEXIST ? IMS_ERROR : IMS_OK;
}

static int open_state(hss_ctx_t *ctx)
{
    char path[512], err[512];

    if (make_dirs(ctx->state_dir) != IMS_OK) {
        IMS_ERR("state_dir %s: %s", ctx->state_dir, strerror(errno));
        return IMS_ERROR;
    }
    snprintf(path, sizeof(path), "%s/sqn.db", ctx->state_dir);
    ctx->sqn = hss_sqn_store_new(path, ctx->sqn_block, ctx->sqn_fsync);
    if (hss_sqn_store_load(ctx->sqn, err, sizeof(err)) != IMS_OK) {
        IMS_ERR("%s (refusing to start: SQNs could be reused)", err);
        return IMS_ERROR;
    }
    for (size_t i = 0; i < ctx->nsubs; i++) {
        hss_sub_t *sub = ctx->subs[i];

        sub->sqn_slot = hss_sqn_store_attach(ctx->sqn, sub->impi, sub->sqn_start);
    }
    return IMS_OK;
}

static int start_diameter(hss_ctx_t *ctx)
{
    ctx->node = dia_node_new(ctx->loop, &ctx->dia);
    if (!ctx->node)
        return IMS_ERROR;
    for (int i = 0; i < ctx->npeers; i++)
        if (dia_node_add_peer(ctx->node, &ctx->peers[i]) != IMS_OK)
            return IMS_ERROR;
    dia_node_on_request(ctx->node, DIA_APP_CX, hss_cx_on_request, ctx);
    if (dia_node_start(ctx->node) != IMS_OK) {
        IMS_ERR("Diameter: cannot listen on %s:%u", ctx->dia.listen_addr,
                (unsigned)ctx->dia.listen_port);
        return IMS_ERROR;
    }
    IMS_NOTICE("Diameter %s (realm %s) listening on %s:%u, %d peers", ctx->dia.origin_host,
               ctx->dia.origin_realm, ctx->dia.listen_addr, (unsigned)ctx->dia.listen_port,
               ctx->npeers);
    return IMS_OK;
}

int hss_start(hss_ctx_t *ctx)
{
    char path[512];

    if (open_state(ctx) != IMS_OK)
        return IMS_ERROR;
    ctx->loop = ims_loop_new();
    if (!ctx->loop || ims_loop_handle_signals(ctx->loop, NULL, NULL) != IMS_OK)
        return IMS_ERROR;
    if (start_diameter(ctx) != IMS_OK)
        return IMS_ERROR;
    snprintf(path, sizeof(path), "%s/hss.ctl", ctx->state_dir);
    if (!(ctx->ctl = hss_ctl_new(ctx, path)) || hss_metrics_start(ctx) != IMS_OK)
        return IMS_ERROR;
    if (ctx->test_redraw_zero_res)
        IMS_WARN("test_redraw_zero_res is on: RAND is redrawn while XRES has a zero octet "
                 "(TEST ONLY, never in service)");
    if (ctx->open5gs_mode)
        IMS_NOTICE("open5gs_mode: UAA without Server-Name/Capabilities on first registration,"
                   " AKA only, no RTR/PPR");
    IMS_NOTICE("%zu subscribers, %d S-CSCFs", ctx->nsubs, ctx->nscscfs);
    return IMS_OK;
}

static void on_stopped(void *arg)
{
    ims_loop_stop(arg);
}

void hss_stop(hss_ctx_t *ctx)
{
    hss_metrics_stop(ctx);
    if (ctx->node) {
        dia_node_stop(ctx->node, on_stopped, ctx->loop);
        ims_loop_run(ctx->loop);
        /* pending RTR/PPR callbacks run here and still find the control socket */
        dia_node_free(ctx->node);
        ctx->node = NULL;
    }
    hss_ctl_free(ctx->ctl);
    ctx->ctl = NULL;
    if (ctx->loop)
        ims_loop_free(ctx->loop);
    ctx->loop = NULL;
    hss_sqn_store_free(ctx->sqn);
    ctx->sqn = NULL;
    IMS_NOTICE("stopped: UAR %llu, MAR %llu, SAR %llu, LIR %llu, vectors %llu",
               (unsigned long long)ctx->stats.uar, (unsigned long long)ctx->stats.mar,
               (unsigned long long)ctx->stats.sar, (unsigned long long)ctx->stats.lir,
               (unsigned long long)ctx->stats.vectors);
}
