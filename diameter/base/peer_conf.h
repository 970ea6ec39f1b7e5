/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A Diameter node's settings from a libconfig group, the same keys in every
 * daemon (documented in config/scscf.cfg):
 *   diameter = {
 *     identity = "scscf.ims.mnc001.mcc001.3gppnetwork.org";  realm = "...";
 *     listen = "127.0.0.30"; port = 3868;      # optional: accept connections
 *     tw_ms = 30000; tc_ms = 30000; request_timeout_ms = 4000;
 *     peers = ( { host = "hss..."; realm = "..."; addr = "127.0.0.40"; port = 3868;
 *                 connect = true; } );
 *   };
 */
#ifndef DIA_PEER_CONF_H
#define DIA_PEER_CONF_H

#include "common/core/conf.h"
#include "diameter/base/peer.h"

#define DIA_CONF_MAX_PEERS 16

typedef struct dia_conf {
    dia_node_cfg_t node;      /* apps and product_name: set by the caller before or after */
    dia_peer_cfg_t peers[DIA_CONF_MAX_PEERS];
    int npeers;
} dia_conf_t;

/* Read group `section` of conf into out (strings stay owned by conf). IMS_OK;
 * IMS_DECLINED when the group is absent; IMS_ERROR with a "file:line: key:
 * message" in err. */
int dia_conf_load(ims_conf_t *conf, const char *section, dia_conf_t *out, char *err,
                  size_t errlen);

/* Create the node and add its peers (not started). NULL on failure. */
dia_node_t *dia_conf_node(ims_loop_t *loop, const dia_conf_t *c);

/* A reload: the peers of group `section` of conf made node's peer list
 * (dia_node_set_peers; the other keys are not reloaded). IMS_OK with *added
 * and *removed set, IMS_ERROR (nothing changed) with the message in err. */
int dia_conf_reload_peers(dia_node_t *node, ims_conf_t *conf, const char *section, int *added,
                          int *removed, char *err, size_t errlen);

#endif
