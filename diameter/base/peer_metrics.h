/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A Diameter node's peers as metrics (common/ops/metrics.h) and as the
 * readiness of a daemon that needs one of them open (common/ops/http_probe.h).
 */
#ifndef DIA_PEER_METRICS_H
#define DIA_PEER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/ops/metrics.h"
#include "common/sip/node.h"
#include "diameter/base/peer.h"

/*
 * Register collectors for node's peers in m, read at each scrape:
 *   ims_diameter_peer_up{peer}                  1 when OPEN (or SUSPECT), else 0
 *   ims_diameter_peer_state{peer}               dia_peer_state_t (0 CLOSED .. 5 CLOSING)
 *   ims_diameter_peer_requests_sent_total{peer}, _answers_received_total{peer},
 *   ims_diameter_peer_timeouts_total{peer}, ims_diameter_peer_reconnects_total{peer}
 * node must outlive m (or the collectors, see ims_metrics_remove).
 * IMS_OK, or IMS_ERROR when they exist in m already.
 */
int dia_node_metrics(ims_metrics_t *m, const dia_node_t *node);

/*
 * An ims_probe_ready_cb with arg a dia_node_t (NULL: not ready): true when at
 * least one peer is OPEN; otherwise why names the peers and their states.
 */
bool dia_node_probe_ready(void *node, char *why, size_t whylen);
/* A CSCF's readiness: not draining (sip may be NULL), and dia_node_probe_ready. */
bool dia_cscf_ready(const sip_node_t *sip, const dia_node_t *dia, char *why, size_t whylen);

#endif
