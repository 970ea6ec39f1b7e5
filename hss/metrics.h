/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-hss metrics and probes (common/ops/metrics.h, http_probe.h): the Cx
 * requests served and other hss_stats_t events, subscribers by registration
 * state and the Diameter peers; served when the configuration has
 * `metrics = { listen = ...; }`. The HSS is ready (/readyz) once started.
 */
#ifndef HSS_METRICS_H
#define HSS_METRICS_H

#include "hss/context.h"

/* After the Diameter node started. IMS_OK, or IMS_ERROR (logged) when the
 * metrics group is wrong or its port cannot be bound. */
int hss_metrics_start(hss_ctx_t *ctx);
/* Stop serving and free the registry (first thing at shutdown). */
void hss_metrics_stop(hss_ctx_t *ctx);

#endif
