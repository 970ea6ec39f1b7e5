/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bring-up and tear-down of the S-CSCF on a SIP node: configuration (the
 * `scscf` group; without it the daemon stays a transparent proxy), the
 * Diameter node and the Cx client toward the HSS, and the proxy handler.
 */
#ifndef SCSCF_INIT_H
#define SCSCF_INIT_H

#include "common/core/conf.h"
#include "common/sip/node.h"
#include "scscf/context.h"

/* sip_node_app_t hooks. */
int scscf_start(sip_node_t *node, ims_conf_t *conf, void **app);
void scscf_stop(void *app);
extern const sip_proxy_handler_t scscf_handler;

/* Read the `scscf` group into cfg. IMS_OK, IMS_DECLINED (no group: the logic
 * stays off) or IMS_ERROR (message logged). */
int scscf_conf_load(ims_conf_t *conf, scscf_cfg_t *cfg);

#endif
