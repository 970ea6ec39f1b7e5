/* SPDX-License-Identifier: BSD-2-Clause */
/* The P-CSCF's metrics and probes (pcscf/metrics.h). */
#include "pcscf/metrics.h"

#include <string.h>

#include "common/core/rc.h"
#include "common/ops/http_probe.h"
#include "common/ops/metrics_sip.h"
#include "diameter/sbi/h2_stats.h"
#include "pcscf/policy.h"
#include "pcscf/secagree.h"
#include "pcscf/sip-handler.h"

/* ---- SBI (N5 toward the PCF) ---- */

/* The operations of pcscf/n5-client.c as h2_stats.h names them (and the PCF
 * discovery at the NRF, pcscf/n5-nrf.c); "other" last. */
static const char *const sbi_ops[] = {
    "POST app-sessions", "PATCH app-sessions/{id}", "POST app-sessions/{id}/delete",
    "GET nf-instances", "other",
};
static const char *const sbi_classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
/* Indexed by sbi_h2_err_t; SBI_H2_OK has no series of its own. */
static const char *const sbi_kinds[] = {
    "none", "connect", "reset", "closed", "timeout", "protocol", "shutdown",
};
static const ims_label_t l_op = { "op", sbi_ops, IMS_ARRAY_LEN(sbi_ops) };
static const ims_label_t l_class = { "class", sbi_classes, IMS_ARRAY_LEN(sbi_classes) };
static const ims_label_t l_kind = { "kind", sbi_kinds, IMS_ARRAY_LEN(sbi_kinds) };

/* The SBI statistics are the process's (h2_stats.h), and so is their
 * observer: one P-CSCF per process, so its metric handles live here. */
static struct {
    ims_metric_t *requests, *errors, *latency;
} sbi_m;

static size_t sbi_op_index(const char *op)
{
    for (size_t i = 0; i + 1 < IMS_ARRAY_LEN(sbi_ops); i++)
        if (strcmp(op, sbi_ops[i]) == 0)
            return i;
    return IMS_ARRAY_LEN(sbi_ops) - 1;
}

static void on_sbi_outcome(void *arg, const char *op, int status, sbi_h2_err_t err,
                           uint64_t elapsed_us)
{
    size_t i = sbi_op_index(op);

    (void)arg;
    if (err != SBI_H2_OK) {
        ims_counter_inc(sbi_m.errors, ims_metric_series(sbi_m.errors, i, (size_t)err));
        return;
    }
    ims_counter_inc(sbi_m.requests,
                    ims_metric_series(sbi_m.requests, i, sbi_h2_class_of(status)));
    ims_histogram_observe_us(sbi_m.latency, i, elapsed_us);
}

static void c_sbi_conns(void *arg, ims_metrics_emitter_t *e)
{
    (void)arg;
    ims_metrics_emit(e, NULL, NULL, (double)sbi_h2_client_conn_list(NULL, 0));
}

static int sbi_metrics(ims_metrics_t *m)
{
    sbi_m.requests = ims_metrics_counter(m, "ims_sbi_requests_total",
                                         "SBI (HTTP/2) requests answered, by operation and "
                                         "status class", &l_op, &l_class);
    sbi_m.errors = ims_metrics_counter(m, "ims_sbi_errors_total",
                                       "SBI requests without an answer, by operation and kind",
                                       &l_op, &l_kind);
    sbi_m.latency = ims_metrics_histogram(m, "ims_sbi_request_seconds",
                                          "Time from an SBI request to its answer", &l_op,
                                          NULL, NULL, 0);
    if (!sbi_m.requests || !sbi_m.errors || !sbi_m.latency ||
        ims_metrics_collector(m, "ims_sbi_connections", "HTTP/2 client connections open",
                              IMS_METRIC_GAUGE, c_sbi_conns, NULL) != IMS_OK)
        return IMS_ERROR;
    sbi_h2_stats_observe(on_sbi_outcome, NULL);
    return IMS_OK;
}

/* ---- the policy client (pcscf/policy.h) ---- */

static void c_policy_sessions(void *arg, ims_metrics_emitter_t *e)
{
    const pcscf_ctx_t *ctx = arg;
    size_t all, sig;

    if (!ctx->policy)
        return;
    all = pcscf_policy_count(ctx->policy);
    sig = (size_t)pcscf_policy_stats(ctx->policy)->signalling_now;
    ims_metrics_emit(e, "kind", "call", (double)(all > sig ? all - sig : 0));
    ims_metrics_emit(e, "kind", "signalling", (double)sig);
}

/* Sessions per backend (by access type, several may serve at once). */
static void c_policy_backends(void *arg, ims_metrics_emitter_t *e)
{
    const pcscf_ctx_t *ctx = arg;

    for (size_t i = 0; ctx->policy && i < pcscf_policy_backends(ctx->policy); i++)
        ims_metrics_emit(e, "backend", pcscf_policy_backend_at(ctx->policy, i),
                         (double)pcscf_policy_backend_stats(ctx->policy, i)->sessions_now);
}

static void c_policy_outcomes(void *arg, ims_metrics_emitter_t *e)
{
    static const ims_metrics_field_t f[] = {
        IMS_METRICS_FIELD(pcscf_policy_stats_t, ok),
        IMS_METRICS_FIELD(pcscf_policy_stats_t, rejected),
        IMS_METRICS_FIELD(pcscf_policy_stats_t, timeouts),
        IMS_METRICS_FIELD(pcscf_policy_stats_t, unreachable),
        IMS_METRICS_FIELD(pcscf_policy_stats_t, late),
        IMS_METRICS_FIELD(pcscf_policy_stats_t, full),
    };
    const pcscf_ctx_t *ctx = arg;

    if (ctx->policy)
        ims_metrics_emit_fields(e, "outcome", pcscf_policy_stats(ctx->policy), f,
                                IMS_ARRAY_LEN(f));
}

static void c_policy_events(void *arg, ims_metrics_emitter_t *e)
{
    static const ims_metrics_field_t f[] = {
        IMS_METRICS_FIELD(pcscf_policy_stats_t, requests),
        IMS_METRICS_FIELD(pcscf_policy_stats_t, updates),
        IMS_METRICS_FIELD(pcscf_policy_stats_t, released),
        IMS_METRICS_FIELD(pcscf_policy_stats_t, network_released),
    };
    const pcscf_ctx_t *ctx = arg;

    if (ctx->policy)
        ims_metrics_emit_fields(e, "event", pcscf_policy_stats(ctx->policy), f,
                                IMS_ARRAY_LEN(f));
}

static int policy_metrics(ims_metrics_t *m, pcscf_ctx_t *ctx)
{
    if (ims_metrics_collector(m, "ims_policy_sessions",
                              "Policy (Rx/N5) sessions open, by kind (call legs, registrations' "
                              "signalling)", IMS_METRIC_GAUGE, c_policy_sessions, ctx) != IMS_OK ||
        ims_metrics_collector(m, "ims_policy_backend_sessions",
                              "Policy sessions open per backend (rx, n5: by the UEs' access "
                              "type)", IMS_METRIC_GAUGE, c_policy_backends, ctx) != IMS_OK ||
        ims_metrics_collector(m, "ims_policy_requests_total",
                              "Policy authorisations by outcome (full: refused, table full)",
                              IMS_METRIC_COUNTER, c_policy_outcomes, ctx) != IMS_OK ||
        ims_metrics_collector(m, "ims_policy_events_total",
                              "Policy requests (new, update) and sessions released (by us, "
                              "by the network)", IMS_METRIC_COUNTER, c_policy_events,
                              ctx) != IMS_OK)
        return IMS_ERROR;
    return IMS_OK;
}

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

/* IPsec sec-agree sets (a UE's four SAs each) by state; none without sec-agree. */
static void c_ipsec(void *arg, ims_metrics_emitter_t *e)
{
    static const char *const states[] = { "offered", "pending", "active", "retiring" };
    const pcscf_ctx_t *ctx = arg;

    for (int i = PCSCF_SEC_OFFERED; i <= PCSCF_SEC_RETIRING; i++)
        ims_metrics_emit(e, "state", states[i],
                         ctx->sec ? (double)pcscf_secagree_count(ctx->sec, i) : 0);
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
        ims_metrics_collector(m, "ims_ipsec_sets",
                              "IPsec sec-agree sets (four SAs each) by state",
                              IMS_METRIC_GAUGE, c_ipsec, ctx) != IMS_OK ||
        ims_metrics_collector(m, "ims_pcscf_events_total", "P-CSCF procedure events",
                              IMS_METRIC_COUNTER, c_events, ctx) != IMS_OK ||
        sbi_metrics(m) != IMS_OK || policy_metrics(m, ctx) != IMS_OK)
        return IMS_ERROR;
    return ims_http_probe_from_conf(ctx->loop, conf, m, NULL, NULL, &ctx->probe);
}

void pcscf_metrics_stop(pcscf_ctx_t *ctx)
{
    sbi_h2_stats_observe(NULL, NULL);
    memset(&sbi_m, 0, sizeof(sbi_m));
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
