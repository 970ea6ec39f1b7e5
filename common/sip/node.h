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
 */
#ifndef SIP_NODE_H
#define SIP_NODE_H

#include <stdint.h>

#include "common/sip/msg.h"

/* Run the node until SIGTERM/SIGINT; returns the process exit status. */
int sip_node_main(int argc, char **argv, const char *name);

/* Parse "udp:HOST:PORT" / "tcp:[v6]:PORT" into proto, host (brackets removed) and
 * port. IMS_OK or IMS_ERROR. */
int sip_node_parse_endpoint(const char *s, sip_proto_t *proto, char *host, size_t hostlen,
                            uint16_t *port);

#endif
