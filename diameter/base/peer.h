/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A Diameter node on the event loop: our identity, the configured peers with
 * their RFC 6733 §5.6 state machines, routing, and request/answer correlation.
 *
 * Peers: TCP (SCTP where the kernel offers it is a later addition). A peer we
 * initiate to is connected at start and reconnected after Tc with back-off
 * (doubling up to 8 x Tc). CER/CEA carry Origin-Host/Realm, Host-IP-Address,
 * Vendor-Id, Product-Name, Origin-State-Id, and our applications as
 * Auth-Application-Id / Vendor-Specific-Application-Id. Only configured peers
 * are accepted (CER from anyone else: CEA 3010 DIAMETER_UNKNOWN_PEER, close).
 * Election (§5.6.4) settles simultaneous connections. DWR after Tw of silence
 * (jittered ±2 s when Tw >= 6 s); no DWA within Tw: SUSPECT, pending requests
 * fail over; another Tw: closed and reconnected. dia_node_stop sends DPR
 * (cause REBOOTING) and closes on DPA or after a short timeout.
 *
 * Requests: routed by Destination-Host when it names an open peer, else to an
 * open peer of Destination-Realm that supports the application, the peers
 * tried in configured order (failover: a request pending on a peer that goes
 * down is re-sent with the T flag to the next one). Each request has a timeout;
 * the callback is called exactly once: with the answer, or with NULL and the
 * reason. Answers are matched by hop-by-hop id per connection.
 */
#ifndef DIA_PEER_H
#define DIA_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/core/loop.h"
#include "diameter/base/codec.h"

typedef struct dia_node dia_node_t;

#define DIA_MAX_APPS 4

typedef struct dia_app {
    uint32_t app_id;
    uint32_t vendor_id;       /* 0: Auth-Application-Id; else Vendor-Specific-Application-Id */
} dia_app_t;

typedef struct dia_node_cfg {
    const char *origin_host;  /* our DiameterIdentity, e.g. scscf.ims.mnc001.mcc001.3gppnetwork.org */
    const char *origin_realm;
    const char *product_name; /* default "ims-core" */
    const char *listen_addr;  /* NULL: do not listen (client-only) */
    uint16_t listen_port;     /* default 3868 */
    uint32_t tw_ms;           /* watchdog, default 30000 */
    uint32_t tc_ms;           /* reconnect, default 30000 */
    uint32_t request_timeout_ms;  /* default 4000 */
    dia_app_t apps[DIA_MAX_APPS];
    int napps;
} dia_node_cfg_t;

typedef struct dia_peer_cfg {
    const char *host;         /* the peer's Origin-Host as it will send it */
    const char *realm;        /* its realm, for realm routing */
    const char *addr;         /* IP literal */
    uint16_t port;            /* default 3868 */
    bool connect;             /* we initiate (else we only accept) */
} dia_peer_cfg_t;

typedef enum dia_peer_state {
    DIA_PEER_CLOSED, DIA_PEER_WAIT_CONN_ACK, DIA_PEER_WAIT_I_CEA, DIA_PEER_OPEN,
    DIA_PEER_SUSPECT, DIA_PEER_CLOSING
} dia_peer_state_t;

typedef enum dia_send_err {
    DIA_SEND_OK = 0,
    DIA_SEND_TIMEOUT = 1,     /* no answer within request_timeout_ms */
    DIA_SEND_NO_PEER = 2,     /* no open peer for the destination */
    DIA_SEND_SHUTDOWN = 3     /* the node is stopping */
} dia_send_err_t;

/* ans: owned by the callee (NULL on failure, err says why). */
typedef void (*dia_answer_cb)(void *arg, dia_msg_t *ans, dia_send_err_t err);

/* An inbound request for a registered application. Answer it (now or later)
 * with dia_node_answer, quoting ctx. req is owned by the callee. */
typedef struct dia_req_ctx {
    uint32_t peer_id;         /* which connection it came on: ids, not pointers */
    uint32_t conn_gen;
} dia_req_ctx_t;
typedef void (*dia_request_cb)(void *arg, dia_node_t *node, const dia_req_ctx_t *ctx,
                               dia_msg_t *req);

dia_node_t *dia_node_new(ims_loop_t *loop, const dia_node_cfg_t *cfg);
/* Add a peer (strings copied). After start it connects at once (when it
 * initiates); a host removed before comes back with the new settings.
 * IMS_OK / IMS_ERROR (a host already there, the table full, stopping). */
int dia_node_add_peer(dia_node_t *node, const dia_peer_cfg_t *peer);
/* Drop the peer host from the list (a reload): DPR when it is open, then
 * closed for good, never reconnected; its CERs are refused and it no longer
 * shows in dia_node_peer_count/_info. IMS_OK, IMS_DECLINED when not there. */
int dia_node_remove_peer(dia_node_t *node, const char *host);
/* Make the peer list peers[0..n) (a reload): new hosts added, hosts absent
 * from it removed, the others left as they are (a changed address of a
 * known host is not taken: logged). *added and *removed (may be NULL) count. */
void dia_node_set_peers(dia_node_t *node, const dia_peer_cfg_t *peers, int n, int *added,
                        int *removed);
/* Handler for requests of app_id (any command). */
void dia_node_on_request(dia_node_t *node, uint32_t app_id, dia_request_cb cb, void *arg);
/* Listen (if configured) and connect to the initiating peers. */
int dia_node_start(dia_node_t *node);
/* DPR to the open peers; done_cb when all are closed (or after 2 s). */
void dia_node_stop(dia_node_t *node, void (*done_cb)(void *arg), void *arg);
/* Frees everything; pending requests are failed with DIA_SEND_SHUTDOWN first. */
void dia_node_free(dia_node_t *node);

const char *dia_node_origin_host(const dia_node_t *node);
const char *dia_node_origin_realm(const dia_node_t *node);

/*
 * Start a request: fills the header and Session-Id (when session is true, a new
 * one "<origin-host>;<hi>;<lo>"), Origin-Host, Origin-Realm, Destination-Realm
 * and (if dest_host) Destination-Host. The caller adds the rest and sends.
 */
void dia_node_request_init(dia_node_t *node, dia_builder_t *b, uint32_t code, uint32_t app_id,
                           bool session, const char *dest_realm, const char *dest_host);
/* Start an answer to req with Result-Code result (0: none, the caller adds
 * Experimental-Result), Origin-Host and Origin-Realm. */
void dia_node_answer_init(dia_node_t *node, dia_builder_t *b, const dia_msg_t *req,
                          uint32_t result);

/* Send a request (ownership of *req passes; *req set to NULL). cb is called
 * exactly once, never before this returns. */
void dia_node_send(dia_node_t *node, dia_msg_t **req, dia_answer_cb cb, void *arg);
/* Send an answer on the connection a request came from (dropped, and logged, if
 * that connection is gone). Ownership of *ans passes. */
void dia_node_answer(dia_node_t *node, const dia_req_ctx_t *ctx, dia_msg_t **ans);

/* Introspection for tests, imsctl and metrics. */
typedef struct dia_peer_info {
    const char *host;
    dia_peer_state_t state;
    uint64_t sent, received, timeouts, reconnects;
} dia_peer_info_t;
int dia_node_peer_count(const dia_node_t *node);
int dia_node_peer_info(const dia_node_t *node, int i, dia_peer_info_t *out);
/* Whether a peer is OPEN: out gets the first open one's host; otherwise the
 * peers with their states ("hss.x CLOSED, ...", "no Diameter peer"),
 * truncated to outlen. For saying why a request got no answer. */
bool dia_node_open_peer(const dia_node_t *node, char *out, size_t outlen);
/* "CLOSED", "OPEN", ... (RFC 6733 §5.6 names), for logs and imsctl. */
const char *dia_state_name(dia_peer_state_t s);

#endif
