/* SPDX-License-Identifier: BSD-2-Clause */
/* The P-CSCF's metrics and probes (pcscf/metrics.h). */
#include "pcscf/metrics.h"

#include <string.h>

#include "common/core/rc.h"
#include "common/ops/http_probe.h"
#include "common/ops/metrics_sip.h"
#include "pcscf/sip-handler.h"

static void c_events(void *arg, ims_metrics_emitter_t *e)
{
    static const ims_metrics_field_t f[] = {
        IMS_METRICS_FIELD(pcscf_stats_t, registered),
        IMS_METRICS_FIELD(pcscf_stats_t, refreshed),
        IMS_METRICS_FIELD(pcscf_stats_t, deregistered),
        IMS_METRICS_FIELD(pcscf_stats_t, expired),
        IMS_METRICS_FIELD(pcscf_stats_t, dropped),
        IMS_METRICS_FIELD(pcscf_stats_t, refused),
        IMS_METRICS_FIELD(pcscf_stats_t, pai_stripped),
        IMS_METRICS_FIELD(pcscf_stats_t, pai_asserted),
        IMS_METRICS_FIELD(pcscf_stats_t, routes_enforced),
        IMS_METRICS_FIELD(pcscf_stats_t, subscribes),
        IMS_METRICS_FIELD(pcscf_stats_t, subscribe_failed),
        IMS_METRICS_FIELD(pcscf_stats_t, notifies),
        IMS_METRICS_FIELD(pcscf_stats_t, notifies_unknown),
        IMS_METRICS_FIELD(pcscf_stats_t, unregistered_refused),
        IMS_METRICS_FIELD(pcscf_stats_t, dialogs_early),
        IMS_METRICS_FIELD(pcscf_stats_t, dialogs_confirmed),
        IMS_METRICS_FIELD(pcscf_stats_t, dialogs_ended),
        IMS_METRICS_FIELD(pcscf_stats_t, dialogs_released),
        IMS_METRICS_FIELD(pcscf_stats_t, byes_sent),
    };
    const pcscf_ctx_t *ctx = arg;

    ims_metrics_emit_fields(e, "event", &ctx->stats, f, IMS_ARRAY_LEN(f));
}

static void c_registrations(void *arg, ims_metrics_emitter_t *e)
{
    ims_metrics_emit(e, "state", "registered", (double)pcscf_ue_count(arg));
}

static void c_dialogs(void *arg, ims_metrics_emitter_t *e)
{
    const pcscf_ctx_t *ctx = arg;

    ims_metrics_emit(e, NULL, NULL, ctx->dialogs ? (double)ims_hash_count(ctx->dialogs) : 0);
}

int pcscf_metrics_start(pcscf_ctx_t *ctx, sip_node_t *node, ims_conf_t *conf)
{
    ims_metrics_t *m = ctx->metrics = ims_metrics_new();

    ctx->m_register = ims_metrics_counter(m, "ims_register_responses_total",
                                          "Final responses to REGISTER relayed to UEs, by code",
                                          &ims_label_sip_code, NULL);
    if (!ctx->m_register || ims_metrics_sip_node(m, node) != IMS_OK ||
        ims_metrics_collector(m, "ims_registrations", "UEs registered through this P-CSCF",
                              IMS_METRIC_GAUGE, c_registrations, ctx) != IMS_OK ||
        ims_metrics_collector(m, "ims_dialogs", "Dialogs (calls) of registered UEs",
                              IMS_METRIC_GAUGE, c_dialogs, ctx) != IMS_OK ||
        ims_metrics_collector(m, "ims_pcscf_events_total", "P-CSCF procedure events",
                              IMS_METRIC_COUNTER, c_events, ctx) != IMS_OK)
        return IMS_ERROR;
    return ims_http_probe_from_conf(ctx->loop, conf, m, NULL, NULL, &ctx->probe);
}

void pcscf_metrics_stop(pcscf_ctx_t *ctx)
{
    ims_http_probe_free(ctx->probe);
    ims_metrics_free(ctx->metrics);
    ctx->probe = NULL;
    ctx->metrics = NULL;
    ctx->m_register = NULL;
}

void pcscf_metrics_on_response(void *arg, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    pcscf_ctx_t *ctx = arg;
    int code = sip_msg_status(resp);
    const char *m = sip_msg_cseq_method(resp);

    if (ctx && code >= 200 && m && strcmp(m, "REGISTER") == 0)
        ims_counter_inc(ctx->m_register, ims_sip_code_index(code));
    pcscf_on_response(arg, pr, resp);
}
