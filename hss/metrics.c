/* SPDX-License-Identifier: BSD-2-Clause */
/* ims-hss metrics and probes (hss/metrics.h). */
#include "hss/metrics.h"

#include "common/core/rc.h"
#include "common/ops/http_probe.h"
#include "diameter/base/peer_metrics.h"

static void c_events(void *arg, ims_metrics_emitter_t *e)
{
    static const ims_metrics_field_t f[] = {
        IMS_METRICS_FIELD(hss_stats_t, uar), IMS_METRICS_FIELD(hss_stats_t, mar),
        IMS_METRICS_FIELD(hss_stats_t, sar), IMS_METRICS_FIELD(hss_stats_t, lir),
        IMS_METRICS_FIELD(hss_stats_t, vectors), IMS_METRICS_FIELD(hss_stats_t, redraws),
        IMS_METRICS_FIELD(hss_stats_t, resyncs), IMS_METRICS_FIELD(hss_stats_t, rtr),
        IMS_METRICS_FIELD(hss_stats_t, ppr), IMS_METRICS_FIELD(hss_stats_t, errors),
    };
    const hss_ctx_t *ctx = arg;

    ims_metrics_emit_fields(e, "event", &ctx->stats, f, IMS_ARRAY_LEN(f));
}

static void c_subscribers(void *arg, ims_metrics_emitter_t *e)
{
    static const char *const names[] = { "not_registered", "registered", "unregistered" };
    const hss_ctx_t *ctx = arg;
    size_t n[3] = { 0, 0, 0 };

    for (size_t i = 0; i < ctx->nsubs; i++)
        if ((size_t)ctx->subs[i]->state < 3)
            n[ctx->subs[i]->state]++;
    for (size_t i = 0; i < 3; i++)
        ims_metrics_emit(e, "state", names[i], (double)n[i]);
}

int hss_metrics_start(hss_ctx_t *ctx)
{
    ims_metrics_t *m = ctx->metrics = ims_metrics_new();

    if (dia_node_metrics(m, ctx->node) != IMS_OK ||
        ims_metrics_collector(m, "ims_hss_events_total", "Cx requests served and HSS events",
                              IMS_METRIC_COUNTER, c_events, ctx) != IMS_OK ||
        ims_metrics_collector(m, "ims_hss_subscribers", "Subscribers by registration state",
                              IMS_METRIC_GAUGE, c_subscribers, ctx) != IMS_OK)
        return IMS_ERROR;
    return ims_http_probe_from_conf(ctx->loop, ctx->conf, m, NULL, NULL, &ctx->probe);
}

void hss_metrics_stop(hss_ctx_t *ctx)
{
    ims_http_probe_free(ctx->probe);
    ims_metrics_free(ctx->metrics);
    ctx->probe = NULL;
    ctx->metrics = NULL;
}
