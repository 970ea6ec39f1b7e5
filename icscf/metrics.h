/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The I-CSCF's metrics and probes (common/ops/metrics.h, http_probe.h): the
 * SIP node's counters, the REGISTER responses the I-CSCF makes itself, the
 * HSS requests (by hss_client), the Diameter peers and the icscf_stats_t
 * events; served when the configuration has `metrics = { listen = ...; }`.
 * Ready (/readyz) when a Diameter peer (the HSS) is open.
 */
#ifndef ICSCF_METRICS_H
#define ICSCF_METRICS_H

#include "icscf/context.h"

/* After the HSS client exists. IMS_OK, or IMS_ERROR (logged) when the
 * metrics group is wrong or its port cannot be bound. */
int icscf_metrics_start(icscf_ctx_t *ctx, ims_conf_t *conf);
/* Stop serving and free the registry; the HSS client stops counting. First
 * thing at shutdown, so that no scrape sees half-freed state. */
void icscf_metrics_stop(icscf_ctx_t *ctx);

#endif
