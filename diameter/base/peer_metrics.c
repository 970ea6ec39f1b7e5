/* SPDX-License-Identifier: BSD-2-Clause */
/* Diameter peers as metrics and readiness (peer_metrics.h). */
#include "diameter/base/peer_metrics.h"

#include <stdio.h>
#include <string.h>

#include "common/core/rc.h"
#include "diameter/base/peer_int.h"

typedef enum peer_field {
    PF_UP, PF_STATE, PF_SENT, PF_RECEIVED, PF_TIMEOUTS, PF_RECONNECTS
} peer_field_t;

static double field(const dia_peer_info_t *pi, peer_field_t f)
{
    switch (f) {
    case PF_UP: return pi->state == DIA_PEER_OPEN || pi->state == DIA_PEER_SUSPECT;
    case PF_STATE: return (double)pi->state;
    case PF_SENT: return (double)pi->sent;
    case PF_RECEIVED: return (double)pi->received;
    case PF_TIMEOUTS: return (double)pi->timeouts;
    case PF_RECONNECTS: return (double)pi->reconnects;
    }
    return 0;
}

/* One collector per field; its arg points into this table, which names the node. */
typedef struct peer_collector {
    const dia_node_t *node;
    peer_field_t f;
} peer_collector_t;

static void emit_peers(const dia_node_t *node, peer_field_t f, ims_metrics_emitter_t *e)
{
    dia_peer_info_t pi;

    for (int i = 0; i < dia_node_peer_count(node); i++)
        if (dia_node_peer_info(node, i, &pi) == IMS_OK)
            ims_metrics_emit(e, "peer", pi.host, field(&pi, f));
}

#define PEER_COLLECT(fn, f)                                              \
    static void fn(void *arg, ims_metrics_emitter_t *e)                  \
    {                                                                    \
        emit_peers(arg, f, e);                                           \
    }
PEER_COLLECT(c_up, PF_UP)
PEER_COLLECT(c_state, PF_STATE)
PEER_COLLECT(c_sent, PF_SENT)
PEER_COLLECT(c_received, PF_RECEIVED)
PEER_COLLECT(c_timeouts, PF_TIMEOUTS)
PEER_COLLECT(c_reconnects, PF_RECONNECTS)

int dia_node_metrics(ims_metrics_t *m, const dia_node_t *node)
{
    static const struct {
        const char *name, *help;
        ims_metric_type_t type;
        ims_metrics_collect_cb cb;
    } cs[] = {
        { "ims_diameter_peer_up", "Diameter peer open (1) or not (0)", IMS_METRIC_GAUGE, c_up },
        { "ims_diameter_peer_state",
          "Diameter peer state: 0 closed, 1 wait-conn-ack, 2 wait-i-cea, 3 open, 4 suspect, "
          "5 closing", IMS_METRIC_GAUGE, c_state },
        { "ims_diameter_peer_requests_sent_total", "Diameter requests sent to the peer",
          IMS_METRIC_COUNTER, c_sent },
        { "ims_diameter_peer_answers_received_total", "Diameter answers received from the peer",
          IMS_METRIC_COUNTER, c_received },
        { "ims_diameter_peer_timeouts_total", "Diameter requests to the peer that timed out",
          IMS_METRIC_COUNTER, c_timeouts },
        { "ims_diameter_peer_reconnects_total", "Connections to the peer made again",
          IMS_METRIC_COUNTER, c_reconnects },
    };

    for (size_t i = 0; i < IMS_ARRAY_LEN(cs); i++)
        if (ims_metrics_collector(m, cs[i].name, cs[i].help, cs[i].type, cs[i].cb,
                                  (void *)node) != IMS_OK)
            return IMS_ERROR;
    return IMS_OK;
}

bool dia_node_probe_ready(void *arg, char *why, size_t whylen)
{
    const dia_node_t *node = arg;
    dia_peer_info_t pi;
    size_t used = 0;
    int n = node ? dia_node_peer_count(node) : 0;

    for (int i = 0; i < n; i++)
        if (dia_node_peer_info(node, i, &pi) == IMS_OK && pi.state == DIA_PEER_OPEN)
            return true;
    used = (size_t)snprintf(why, whylen, "no Diameter peer open");
    for (int i = 0; i < n && used < whylen; i++)
        if (dia_node_peer_info(node, i, &pi) == IMS_OK)
            used += (size_t)snprintf(why + used, whylen - used, "%s %s %s", i ? "," : ":",
                                     pi.host, dia_state_name(pi.state));
    return false;
}

bool dia_cscf_ready(const sip_node_t *sip, const dia_node_t *dia, char *why, size_t whylen)
{
    /* SIGTERM: new requests get 503, so a load balancer must stop sending them. */
    if (sip && sip_node_draining(sip)) {
        snprintf(why, whylen, "draining: stopping");
        return false;
    }
    return dia_node_probe_ready((void *)dia, why, whylen);
}
