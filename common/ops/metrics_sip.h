/* SPDX-License-Identifier: BSD-2-Clause */
/* What every SIP daemon exposes of the shared SIP node as metrics. */
#ifndef IMS_OPS_METRICS_SIP_H
#define IMS_OPS_METRICS_SIP_H

#include "common/ops/metrics.h"
#include "common/sip/node.h"

/*
 * Register collectors, read at each scrape, for node's transport, transaction
 * layer and proxy core (the proxy may come into being later: it is looked up
 * each time):
 *   ims_sip_messages_total{dir="rx|tx"}, ims_sip_parse_errors_total,
 *   ims_sip_dropped_total, ims_sip_connections, ims_tls_connections,
 *   ims_tls_handshakes_total{result="ok|failed"}, ims_sip_transactions,
 *   ims_sip_proxy_events_total{event}, ims_sip_invite_outcomes_total{class},
 *   ims_sip_other_outcomes_total{class} (final responses sent, by class)
 * node must outlive m. IMS_OK, or IMS_ERROR when they exist in m already.
 */
int ims_metrics_sip_node(ims_metrics_t *m, const sip_node_t *node);

#endif
