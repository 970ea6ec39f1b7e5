/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The trust domain of RFC 3325 §2.3 as a CSCF applies it: the network nodes
 * whose requests may assert an identity (P-Asserted-Identity) or claim the
 * originating case. Every host of sip.hosts is one; a daemon's own list
 * ("pcscf.trusted", "scscf.trusted": "IP" for any port, "IP:PORT") adds more.
 * A fixed table: a trust domain is a handful of nodes, not a subscriber list.
 */
#ifndef SIP_TRUST_H
#define SIP_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/core/conf.h"
#include "common/sip/msg.h"

#define SIP_TRUST_MAX 48            /* sip.hosts (32) + a daemon's own list */

typedef struct sip_trust {
    struct {
        sip_addr_t addr;
        bool any_port;              /* no port configured: the IP decides */
    } node[SIP_TRUST_MAX];
    int n;
} sip_trust_t;

/* Fill t from conf: the hosts of sip.hosts, then the entries of list_key (may
 * be absent). IMS_ERROR with err set on a malformed entry; entries past
 * SIP_TRUST_MAX are ignored. */
int sip_trust_load(sip_trust_t *t, ims_conf_t *conf, const char *list_key, char *err,
                   size_t errlen);
/* Add one node; port 0: any port. IMS_ERROR: ip is not an address. */
int sip_trust_add(sip_trust_t *t, const char *ip, uint16_t port);
/* Whether a message received as rcv comes from the trust domain. Over a
 * stream (TCP, TLS) the peer's port is ephemeral: there the IP decides. */
bool sip_trust_has(const sip_trust_t *t, const sip_rcv_t *rcv);

#endif
