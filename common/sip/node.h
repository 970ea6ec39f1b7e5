/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A SIP node: one loop, the transports, the transaction layer and the proxy
 * core, configured from a libconfig file and the command line. Until a daemon
 * has its own logic (the CSCF issues), it runs as a transparent stateful proxy.
 *
 * Command line (every daemon):
 *   -c FILE            configuration file (keys: see config/lab/pcscf.cfg)
 *   -l PROTO:HOST:PORT listen (repeatable; overrides sip.listen), e.g. udp:[::1]:5060
 *   -n PROTO:HOST:PORT next hop for requests addressed to the node itself
 *   -o PROTO:HOST:PORT outbound proxy for every other request without a Route
 *   -L LEVEL           log level: err|warn|notice|info|debug
 *   -p FILE            write the pid to FILE
 *   --no-record-route  do not Record-Route
 *
 * SIGTERM or SIGINT stops the node. With sip.drain_ms set it drains first
 * (common/sip/drain.h): new requests get 503 with Retry-After (sip.drain_retry_after
 * seconds), calls in progress are served until every transaction has ended and the
 * application has no dialog left, or drain_ms has passed; a second signal cuts the
 * drain short. Then the application stops (the CSCFs send DPR to their Diameter
 * peers) and the process exits 0.
 */
#ifndef SIP_NODE_H
#define SIP_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sip/msg.h"

#include "common/core/conf.h"
#include "common/core/loop.h"
#include "common/sip/proxy.h"

typedef struct sip_node sip_node_t;

/*
 * A daemon's own logic on top of the node. start runs once the loop, transport
 * and transaction layer exist and the configuration is loaded (conf is NULL when
 * no -c was given); it sets *app to its state. The proxy core is created right
 * after, with handler and *app as its argument (handler NULL: transparent proxy).
 * stop runs first at shutdown, while the stack is still up.
 */
typedef struct sip_node_app {
    const char *name;
    int (*start)(sip_node_t *node, ims_conf_t *conf, void **app);
    void (*stop)(void *app);
    const sip_proxy_handler_t *handler;
    /* Dialogs the application still serves, that a drain waits for (the P-CSCF's
     * call records); NULL: none tracked. Called with *app from the loop. */
    size_t (*dialogs)(void *app);
} sip_node_app_t;

/* Run the node until SIGTERM/SIGINT; returns the process exit status. */
int sip_node_run(int argc, char **argv, const sip_node_app_t *app);
/* The same with no logic of its own: a transparent stateful proxy. */
int sip_node_main(int argc, char **argv, const char *name);

/* The parts, for the daemon's logic (valid between its start and stop). */
ims_loop_t *sip_node_loop(const sip_node_t *node);
sip_transport_t *sip_node_transport(const sip_node_t *node);
sip_txn_layer_t *sip_node_layer(const sip_node_t *node);
sip_proxy_t *sip_node_proxy(const sip_node_t *node);
/* Whether the node has begun draining (for readiness probes: then it is not ready). */
bool sip_node_draining(const sip_node_t *node);

/* Parse "udp:HOST:PORT" / "tcp:[v6]:PORT" / "tls:HOST:PORT" into proto, host
 * (brackets removed) and port. IMS_OK or IMS_ERROR. (tls: works once sip.tls is on.) */
int sip_node_parse_endpoint(const char *s, sip_proto_t *proto, char *host, size_t hostlen,
                            uint16_t *port);

#endif
