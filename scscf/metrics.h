/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The S-CSCF's metrics and probes (common/ops/metrics.h, http_probe.h): the
 * SIP node's counters, REGISTER responses by code, the HSS requests (by
 * hss_client), the Diameter peers, registrations and the scscf_stats_t
 * events; served when the configuration has `metrics = { listen = ...; }`.
 * Ready (/readyz) when a Diameter peer (the HSS) is open.
 */
#ifndef SCSCF_METRICS_H
#define SCSCF_METRICS_H

#include "scscf/context.h"

/* After the HSS client exists. IMS_OK, or IMS_ERROR (logged) when the
 * metrics group is wrong or its port cannot be bound. */
int scscf_metrics_start(scscf_ctx_t *ctx, sip_node_t *node, ims_conf_t *conf);
/* Stop serving and free the registry; the HSS client stops counting. First
 * thing at shutdown, so that no scrape sees half-freed state. */
void scscf_metrics_stop(scscf_ctx_t *ctx);

#endif
