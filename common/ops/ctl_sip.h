/* SPDX-License-Identifier: BSD-2-Clause */
/* What every SIP daemon's control socket shows of the shared SIP node. */
#ifndef IMS_CTL_SIP_H
#define IMS_CTL_SIP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/sip/msg.h"
#include "common/sip/node.h"

struct ims_uelog;

/* {"transport":{...},"tls":{"conns_open","handshakes","handshakes_failed"},
 * "transactions":N,"proxy":{...}} of node (a new object). */
json_t *ims_ctl_sip_counters(const sip_node_t *node);

/* For the per-UE logs (uelog.h): the UE's address ("ip:port", "[v6]:port")
 * from the bottom Via of req (the UE's own: the CSCFs' come above it), its
 * received= and rport= preferred. "" when req is NULL or has no Via. */
void ims_ctl_sip_ue_addr(const sip_msg_t *req, char *out, size_t outlen);
/* ims_uelog_add with the UE's address from req (NULL: unchanged) and the
 * detail from fmt and ap. */
void ims_ctl_sip_uelog(struct ims_uelog *log, const char *impi, const char *impu,
                       const sip_msg_t *req, uint8_t kind, uint32_t code, const char *fmt,
                       va_list ap) __attribute__((format(printf, 7, 0)));

#endif
