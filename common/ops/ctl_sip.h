/* SPDX-License-Identifier: BSD-2-Clause */
/* What every SIP daemon's "counters" command shows of the shared SIP node. */
#ifndef IMS_CTL_SIP_H
#define IMS_CTL_SIP_H

#include <jansson.h>

#include "common/sip/node.h"

/* {"transport":{...},"transactions":N,"proxy":{...}} of node (a new object). */
json_t *ims_ctl_sip_counters(const sip_node_t *node);

#endif
