/* SPDX-License-Identifier: BSD-2-Clause */
/* I-CSCF bring-up and tear-down, as the SIP node's app hooks. */
#ifndef ICSCF_INIT_H
#define ICSCF_INIT_H

#include "common/core/conf.h"
#include "common/sip/node.h"

/* sip_node_app_t.start: with an `icscf` group in conf, load it, start Cx and
 * set *app to the context; without one, *app = NULL (transparent proxy). */
int icscf_start(sip_node_t *node, ims_conf_t *conf, void **app);
/* sip_node_app_t.stop (app may be NULL). */
void icscf_stop(void *app);

#endif
