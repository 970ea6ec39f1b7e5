/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bring-up and tear-down of the P-CSCF logic on the SIP node: the pcscf = { }
 * section is read into a context; without that section the daemon stays a
 * transparent stateful proxy (the handler declines everything).
 */
#ifndef PCSCF_INIT_H
#define PCSCF_INIT_H

#include <stddef.h>

#include "common/core/conf.h"
#include "common/sip/node.h"
#include "pcscf/context.h"

/*
 * Read the pcscf section of conf into ctx->cfg (keys: config/pcscf.cfg) and
 * set ctx->enabled when the section is there. IMS_OK, or IMS_ERROR with a
 * "file:line: key: message" in err.
 */
int pcscf_load_config(pcscf_ctx_t *ctx, ims_conf_t *conf, char *err, size_t errlen);

/* sip_node_app_t start/stop. */
int pcscf_start(sip_node_t *node, ims_conf_t *conf, void **app);
void pcscf_stop(void *app);

#endif
