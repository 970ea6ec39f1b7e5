/* SPDX-License-Identifier: BSD-2-Clause */
/* The S-CSCF's metrics and probes (scscf/metrics.h). */
#include "scscf/metrics.h"

#include <stddef.h>

#include "common/core/rc.h"
#include "common/ops/http_probe.h"
#include "common/ops/metrics_sip.h"
#include "diameter/base/peer_metrics.h"

static void count_registered(void *arg, const char *key, void *value)
{
    const scscf_reg_t *reg = value;

    if (reg->registered)
        (*(size_t *)arg)++;
}

static void c_registrations(void *arg, ims_metrics_emitter_t *e)
{
    scscf_ctx_t *ctx = arg;
    size_t n = 0;

    ims_hash_foreach(ctx->by_impi, count_registered, &n);
    ims_metrics_emit(e, "state", "registered", (double)n);
    ims_metrics_emit(e, "state", "unregistered", (double)(ims_hash_count(ctx->by_impi) - n));
}

static void c_subscriptions(void *arg, ims_metrics_emitter_t *e)
{
    const scscf_ctx_t *ctx = arg;

    ims_metrics_emit(e, NULL, NULL, (double)ims_hash_count(ctx->subs));
}

static void c_events(void *arg, ims_metrics_emitter_t *e)
{
    static const ims_metrics_field_t f[] = {
        IMS_METRICS_FIELD(scscf_stats_t, registers),
        IMS_METRICS_FIELD(scscf_stats_t, challenges),
        IMS_METRICS_FIELD(scscf_stats_t, auth_ok),
        IMS_METRICS_FIELD(scscf_stats_t, auth_failed),
        IMS_METRICS_FIELD(scscf_stats_t, registrations),
        IMS_METRICS_FIELD(scscf_stats_t, deregistrations),
        IMS_METRICS_FIELD(scscf_stats_t, expiries),
        IMS_METRICS_FIELD(scscf_stats_t, rtr),
        IMS_METRICS_FIELD(scscf_stats_t, ppr),
        IMS_METRICS_FIELD(scscf_stats_t, subscribes),
        IMS_METRICS_FIELD(scscf_stats_t, notifies),
        IMS_METRICS_FIELD(scscf_stats_t, notify_failures),
        IMS_METRICS_FIELD(scscf_stats_t, hss_errors),
    };
    const scscf_ctx_t *ctx = arg;

    ims_metrics_emit_fields(e, "event", &ctx->stats, f, IMS_ARRAY_LEN(f));
}

static int add_collectors(scscf_ctx_t *ctx, sip_node_t *node)
{
    ims_metrics_t *m = ctx->metrics;

    ctx->m_register = ims_metrics_counter(m, "ims_register_responses_total",
                                          "Final responses to REGISTER sent, by code",
                                          &ims_label_sip_code, NULL);
    hss_client_set_metrics(ctx->hss, m);
    if (!ctx->m_register || ims_metrics_sip_node(m, node) != IMS_OK ||
        (ctx->dia && dia_node_metrics(m, ctx->dia) != IMS_OK) ||
        ims_metrics_collector(m, "ims_registrations",
                              "Users known by state (unregistered: authentication pending)",
                              IMS_METRIC_GAUGE, c_registrations, ctx) != IMS_OK ||
        ims_metrics_collector(m, "ims_reg_event_subscriptions", "Reg-event subscriptions",
                              IMS_METRIC_GAUGE, c_subscriptions, ctx) != IMS_OK ||
        ims_metrics_collector(m, "ims_scscf_events_total", "S-CSCF procedure events",
                              IMS_METRIC_COUNTER, c_events, ctx) != IMS_OK)
        return IMS_ERROR;
    return IMS_OK;
}

/* Ready: an HSS peer open, and not draining. */
static bool ready(void *arg, char *why, size_t whylen)
{
    const scscf_ctx_t *ctx = arg;

    return dia_cscf_ready(ctx->node, ctx->dia, why, whylen);
}

int scscf_metrics_start(scscf_ctx_t *ctx, sip_node_t *node, ims_conf_t *conf)
{
    ctx->metrics = ims_metrics_new();
    if (add_collectors(ctx, node) != IMS_OK)
        return IMS_ERROR;
    return ims_http_probe_from_conf(ctx->loop, conf, ctx->metrics, ready, ctx, &ctx->probe);
}

void scscf_metrics_stop(scscf_ctx_t *ctx)
{
    hss_client_set_metrics(ctx->hss, NULL);   /* its counters go with the registry */
    ims_http_probe_free(ctx->probe);
    ims_metrics_free(ctx->metrics);
    ctx->probe = NULL;
    ctx->metrics = NULL;
    ctx->m_register = NULL;
}
