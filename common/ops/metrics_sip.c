/* SPDX-License-Identifier: BSD-2-Clause */
/* The SIP node's counters as metric collectors (metrics_sip.h). */
#include "common/ops/metrics_sip.h"

#include "common/core/rc.h"
#include "common/sip/proxy.h"
#include "common/sip/transport.h"
#include "common/sip/txn.h"

static const sip_transport_stats_t *tstats(void *node)
{
    return sip_transport_stats(sip_node_transport(node));
}

static void c_messages(void *node, ims_metrics_emitter_t *e)
{
    ims_metrics_emit(e, "dir", "rx", (double)tstats(node)->rx_msgs);
    ims_metrics_emit(e, "dir", "tx", (double)tstats(node)->tx_msgs);
}

static void c_parse_errors(void *node, ims_metrics_emitter_t *e)
{
    ims_metrics_emit(e, NULL, NULL, (double)tstats(node)->parse_errors);
}

static void c_dropped(void *node, ims_metrics_emitter_t *e)
{
    ims_metrics_emit(e, NULL, NULL, (double)tstats(node)->dropped);
}

static void c_conns(void *node, ims_metrics_emitter_t *e)
{
    ims_metrics_emit(e, NULL, NULL, (double)tstats(node)->conns_open);
}

static void c_tls_conns(void *node, ims_metrics_emitter_t *e)
{
    ims_metrics_emit(e, NULL, NULL, (double)tstats(node)->tls_conns_open);
}

static void c_tls_handshakes(void *node, ims_metrics_emitter_t *e)
{
    ims_metrics_emit(e, "result", "ok", (double)tstats(node)->tls_handshakes);
    ims_metrics_emit(e, "result", "failed", (double)tstats(node)->tls_failed);
}

static void c_txns(void *node, ims_metrics_emitter_t *e)
{
    ims_metrics_emit(e, NULL, NULL, (double)sip_txn_layer_count(sip_node_layer(node)));
}

static void c_proxy(void *node, ims_metrics_emitter_t *e)
{
    const sip_proxy_t *px = sip_node_proxy(node);
    const sip_proxy_stats_t *s;

    if (!px)
        return;
    s = sip_proxy_stats(px);
    ims_metrics_emit(e, "event", "request", (double)s->requests);
    ims_metrics_emit(e, "event", "forwarded", (double)s->forwarded);
    ims_metrics_emit(e, "event", "local_reply", (double)s->local_replies);
    ims_metrics_emit(e, "event", "loop", (double)s->loops);
    ims_metrics_emit(e, "event", "too_many_hops", (double)s->too_many_hops);
    ims_metrics_emit(e, "event", "cancel", (double)s->cancels);
    ims_metrics_emit(e, "event", "stray_response", (double)s->stray_responses);
    ims_metrics_emit(e, "event", "timer_c", (double)s->timer_c);
}

static void emit_finals(const sip_node_t *node, ims_metrics_emitter_t *e, bool invite)
{
    static const char *const cls[] = { "2xx", "3xx", "4xx", "5xx", "6xx" };

    for (int i = 0; i < 5; i++)
        ims_metrics_emit(e, "class", cls[i],
                         (double)sip_txn_layer_finals(sip_node_layer(node), invite, i + 2));
}

static void c_invite_finals(void *node, ims_metrics_emitter_t *e)
{
    emit_finals(node, e, true);
}

static void c_other_finals(void *node, ims_metrics_emitter_t *e)
{
    emit_finals(node, e, false);
}

int ims_metrics_sip_node(ims_metrics_t *m, const sip_node_t *node)
{
    static const struct {
        const char *name, *help;
        ims_metric_type_t type;
        ims_metrics_collect_cb cb;
    } cs[] = {
        { "ims_sip_messages_total", "SIP messages received and sent", IMS_METRIC_COUNTER,
          c_messages },
        { "ims_sip_parse_errors_total", "SIP messages that could not be parsed",
          IMS_METRIC_COUNTER, c_parse_errors },
        { "ims_sip_dropped_total", "SIP messages dropped by the transport", IMS_METRIC_COUNTER,
          c_dropped },
        { "ims_sip_connections", "Open SIP stream connections", IMS_METRIC_GAUGE, c_conns },
        { "ims_tls_connections", "Open SIP over TLS connections (also in ims_sip_connections)",
          IMS_METRIC_GAUGE, c_tls_conns },
        { "ims_tls_handshakes_total",
          "TLS handshakes of SIP connections, either side: completed, or failed (refused "
          "certificate or version, garbage, timeout)",
          IMS_METRIC_COUNTER, c_tls_handshakes },
        { "ims_sip_transactions", "Live SIP transactions", IMS_METRIC_GAUGE, c_txns },
        { "ims_sip_proxy_events_total", "What the proxy core did with requests",
          IMS_METRIC_COUNTER, c_proxy },
        { "ims_sip_invite_outcomes_total",
          "Final responses this node sent to INVITEs (relayed or its own), by class",
          IMS_METRIC_COUNTER, c_invite_finals },
        { "ims_sip_other_outcomes_total",
          "Final responses this node sent to requests other than INVITE, by class",
          IMS_METRIC_COUNTER, c_other_finals },
    };

    for (size_t i = 0; i < IMS_ARRAY_LEN(cs); i++)
        if (ims_metrics_collector(m, cs[i].name, cs[i].help, cs[i].type, cs[i].cb,
                                  (void *)node) != IMS_OK)
            return IMS_ERROR;
    return IMS_OK;
}
