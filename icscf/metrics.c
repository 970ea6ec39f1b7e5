/* SPDX-License-Identifier: BSD-2-Clause */
/* The I-CSCF's metrics and probes (icscf/metrics.h). */
#include "icscf/metrics.h"

#include "common/core/rc.h"
#include "common/ops/http_probe.h"
#include "common/ops/metrics_sip.h"
#include "diameter/base/peer_metrics.h"

static void c_events(void *arg, ims_metrics_emitter_t *e)
{
    static const ims_metrics_field_t f[] = {
        IMS_METRICS_FIELD(icscf_stats_t, registers),
        IMS_METRICS_FIELD(icscf_stats_t, uar_ok),
        IMS_METRICS_FIELD(icscf_stats_t, uar_rejected),
        IMS_METRICS_FIELD(icscf_stats_t, hss_failures),
        IMS_METRICS_FIELD(icscf_stats_t, forwarded),
        IMS_METRICS_FIELD(icscf_stats_t, retries),
        IMS_METRICS_FIELD(icscf_stats_t, scscf_failures),
        IMS_METRICS_FIELD(icscf_stats_t, lir),
        IMS_METRICS_FIELD(icscf_stats_t, lir_forwarded),
        IMS_METRICS_FIELD(icscf_stats_t, lir_rejected),
        IMS_METRICS_FIELD(icscf_stats_t, lir_hss_failures),
        IMS_METRICS_FIELD(icscf_stats_t, lir_gone),
    };
    const icscf_ctx_t *ctx = arg;

    ims_metrics_emit_fields(e, "event", &ctx->stats, f, IMS_ARRAY_LEN(f));
}

static void c_in_flight(void *arg, ims_metrics_emitter_t *e)
{
    const icscf_ctx_t *ctx = arg;

    ims_metrics_emit(e, "request", "REGISTER", (double)ctx->nregs);
    ims_metrics_emit(e, "request", "LIR", (double)ctx->nlirs);
}

static int add_collectors(icscf_ctx_t *ctx)
{
    ims_metrics_t *m = ctx->metrics;

    ctx->m_register = ims_metrics_counter(m, "ims_register_responses_total",
                                          "Final responses to REGISTER made by the I-CSCF "
                                          "(relayed ones: ims_icscf_events_total forwarded)",
                                          &ims_label_sip_code, NULL);
    hss_client_set_metrics(ctx->hss, m);
    if (!ctx->m_register || ims_metrics_sip_node(m, ctx->node) != IMS_OK ||
        (ctx->dia_node && dia_node_metrics(m, ctx->dia_node) != IMS_OK) ||
        ims_metrics_collector(m, "ims_icscf_waiting_hss", "Requests waiting on the HSS",
                              IMS_METRIC_GAUGE, c_in_flight, ctx) != IMS_OK ||
        ims_metrics_collector(m, "ims_icscf_events_total", "I-CSCF procedure events",
                              IMS_METRIC_COUNTER, c_events, ctx) != IMS_OK)
        return IMS_ERROR;
    return IMS_OK;
}

/* Ready: an HSS peer open, and not draining. */
static bool ready(void *arg, char *why, size_t whylen)
{
    const icscf_ctx_t *ctx = arg;

    return dia_cscf_ready(ctx->node, ctx->dia_node, why, whylen);
}

int icscf_metrics_start(icscf_ctx_t *ctx, ims_conf_t *conf)
{
    ctx->metrics = ims_metrics_new();
    if (add_collectors(ctx) != IMS_OK)
        return IMS_ERROR;
    return ims_http_probe_from_conf(ctx->loop, conf, ctx->metrics, ready, ctx, &ctx->probe);
}

void icscf_metrics_stop(icscf_ctx_t *ctx)
{
    hss_client_set_metrics(ctx->hss, NULL);   /* its counters go with the registry */
    ims_http_probe_free(ctx->probe);
    ims_metrics_free(ctx->metrics);
    ctx->probe = NULL;
    ctx->metrics = NULL;
    ctx->m_register = NULL;
}
