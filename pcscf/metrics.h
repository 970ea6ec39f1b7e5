/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF's metrics and probes (common/ops/metrics.h, http_probe.h): the
 * SIP node's counters, the final responses to REGISTER it relays to UEs, the
 * registered UEs, the dialogs and the pcscf_stats_t events, the SBI's
 * requests, errors and latency per operation and its connections
 * (diameter/sbi/h2_stats.h), the policy sessions by kind and the policy
 * requests by outcome (pcscf/policy.h); served when the
 * configuration has `metrics = { listen = ...; }`. The P-CSCF speaks to no
 * HSS: it is ready (/readyz) once started, i.e. with its configuration loaded.
 */
#ifndef PCSCF_METRICS_H
#define PCSCF_METRICS_H

#include "common/sip/node.h"
#include "pcscf/context.h"

/* IMS_OK, or IMS_ERROR (logged) when the metrics group is wrong or its port
 * cannot be bound. */
int pcscf_metrics_start(pcscf_ctx_t *ctx, sip_node_t *node, ims_conf_t *conf);
/* Stop serving and free the registry (first thing at shutdown). */
void pcscf_metrics_stop(pcscf_ctx_t *ctx);

/* The proxy handler's on_response: counts a final response to REGISTER by
 * code, then hands every response to pcscf_on_response. */
void pcscf_metrics_on_response(void *arg, sip_proxy_req_t *pr, sip_msg_t *resp);

#endif
