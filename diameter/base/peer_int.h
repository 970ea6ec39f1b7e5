/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal to the Diameter peer layer: the state shared by peer.c (node,
 * configuration, lifecycle), peer_send.c (routing, correlation, timeouts,
 * failover), peer_base.c (base messages), peer_sm.c (the per-peer state
 * machine) and peer_conn.c (sockets, framing, write queues).
 *
 * Ownership in one picture: the node owns its peers (a fixed array in
 * configured order), every live connection (node->conns) and every pending
 * request. A connection belongs to at most one peer (c->peer, set once it is
 * known); the peer's active connection is p->conn, and c->peer->conn == c is
 * the test for "this connection is the one the peer state machine drives".
 * A pending request sits on the list of the connection it was sent on, in the
 * node's hash under (connection generation, hop-by-hop id), or on the node's
 * done list waiting for its callback.
 */
#ifndef DIA_PEER_INT_H
#define DIA_PEER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/core/hash.h"
#include "common/core/loop.h"
#include "diameter/base/codec.h"
#include "diameter/base/peer.h"

#define DIA_MAX_PEERS        64
#define DIA_MAX_HANDLERS     16
#define DIA_PEER_APPS_MAX    16
#define DIA_MAX_ANON_CONNS   64                 /* inbound connections before their CER */
#define DIA_WQ_MAX           (8u * 1024 * 1024) /* bytes queued per connection */
#define DIA_STOP_WAIT_MS     2000               /* DPA wait on dia_node_stop */
#define DIA_HOST_MAX         256
#define DIA_APP_RELAY        0xffffffffu

/* Disconnect-Cause values (RFC 6733 §5.4.3). */
enum { DIA_DC_REBOOTING = 0, DIA_DC_BUSY = 1, DIA_DC_DO_NOT_WANT_TO_TALK_TO_YOU = 2 };

typedef struct dia_conn dia_conn_t;
typedef struct dia_peer dia_peer_t;
typedef struct dia_pend dia_pend_t;

/* The applications a peer advertised in its CER/CEA. */
typedef struct dia_apps {
    uint32_t id[DIA_PEER_APPS_MAX];
    int n;
    bool relay;                /* it advertised the relay application */
} dia_apps_t;

struct dia_conn {
    dia_node_t *node;
    dia_peer_t *peer;          /* NULL until a CER named it (inbound) */
    dia_conn_t *prev, *next;   /* node->conns */
    uint32_t gen;              /* unique per node: the conn_gen of dia_req_ctx_t */
    int fd;
    unsigned events;           /* as registered with the loop */
    unsigned busy;             /* our callbacks running on this connection */
    bool initiator;            /* we connected (else accepted) */
    bool connecting;           /* non-blocking connect in progress */
    bool draining;             /* close once the write queue is empty */
    bool doomed;               /* a write failed: closing on the next turn */
    bool dead;                 /* closed; freed when busy drops to 0 */
    uint32_t next_hbh;
    uint8_t *rbuf;
    size_t rlen, rcap;
    uint8_t *wbuf;
    size_t woff, wlen, wcap;
    ims_timer_t timer;         /* inbound: CER wait; any: deferred close */
    dia_pend_t *pend;          /* requests sent here and not answered yet */
    char name[64];             /* remote address for logs */
};

struct dia_peer {
    dia_node_t *node;
    uint32_t id;               /* index + 1: the peer_id of dia_req_ctx_t */
    char *host, *realm, *addr;
    uint16_t port;
    bool connect;
    struct sockaddr_storage ss;
    socklen_t sslen;
    dia_peer_state_t state;
    dia_conn_t *conn;          /* the connection the state machine drives */
    ims_timer_t timer;         /* the state's timer: connect, CEA, watchdog, DPA, Tc */
    uint32_t backoff_ms;       /* next reconnect delay */
    bool dwr_pending;          /* RFC 3539 "Pending" */
    bool no_reconnect;         /* DPR with DO_NOT_WANT_TO_TALK_TO_YOU, or removed */
    bool removed;              /* dropped from the peer list (dia_node_remove_peer): its slot
                                * stays for the connections that name it, hidden, CER refused */
    bool attempted;            /* a connect was tried (reconnect counting) */
    dia_apps_t apps;
    uint64_t sent, received, timeouts, reconnects;
};

struct dia_pend {
    dia_node_t *node;
    dia_pend_t *prev, *next;   /* conn->pend or node->done */
    dia_msg_t *req;            /* kept for failover */
    dia_answer_cb cb;
    void *arg;
    dia_conn_t *conn;          /* where it waits; NULL on the done list */
    uint32_t hbh;
    ims_timer_t timer;         /* request timeout, from the first send */
    dia_msg_t *ans;            /* result, once on the done list */
    dia_send_err_t err;
};

typedef struct dia_handler {
    uint32_t app_id;
    dia_request_cb cb;
    void *arg;
} dia_handler_t;

struct dia_node {
    ims_loop_t *loop;
    dia_node_cfg_t cfg;        /* strings owned copies */
    int listen_fd;
    dia_peer_t peers[DIA_MAX_PEERS];
    int npeers;
    dia_handler_t handlers[DIA_MAX_HANDLERS];
    int nhandlers;
    dia_conn_t *conns;
    int anon_conns;
    uint32_t next_gen;
    ims_hash_t *by_hbh;        /* (gen, hbh) -> dia_pend_t */
    dia_pend_t *done, *done_tail;
    ims_timer_t done_timer;    /* delivers the done list from a clean stack */
    uint32_t start_time;       /* seconds since the epoch at creation */
    uint32_t e2e_next;
    uint32_t sid_lo;
    bool started, stopping, freeing;
    void (*stop_cb)(void *arg);
    void *stop_arg;
    ims_timer_t stop_timer;
};

/* ---- peer_send.c ---- */
/* Run the callbacks of the finished requests (node->done). */
void dia_done_deliver(dia_node_t *n);
/* An answer arrived on c: hand it to its pending request, or drop it. Takes m. */
void dia_pend_answer(dia_conn_t *c, dia_msg_t *m);
/* c is closing (gone true) or its peer is suspect (gone false): re-send the
 * requests waiting on it elsewhere; when gone, fail those with nowhere to go. */
void dia_pend_failover(dia_conn_t *c, bool gone);

/* ---- peer.c ---- */
uint32_t dia_rand32(void);
uint32_t dia_next_e2e(dia_node_t *n);
const char *dia_state_name(dia_peer_state_t s);
dia_peer_t *dia_peer_by_host(dia_node_t *n, const char *host);
bool dia_node_has_app(const dia_node_t *n, uint32_t app_id);
const dia_handler_t *dia_handler_find(const dia_node_t *n, uint32_t app_id);
/* The node may have finished stopping: call done_cb (on a clean stack). */
void dia_node_check_stopped(dia_node_t *n);

/* ---- peer_base.c: base protocol messages ---- */
/* Send CER (request) / CEA (answer to cer with result) on c. */
void dia_base_send_cer(dia_conn_t *c);
void dia_base_send_cea(dia_conn_t *c, const dia_msg_t *cer, uint32_t result, const char *errmsg);
void dia_base_send_dwr(dia_conn_t *c);
void dia_base_send_dpr(dia_conn_t *c, uint32_t cause);
/* Answer req with result (0: none) and the node's identity; E bit for 3xxx. */
void dia_base_answer(dia_conn_t *c, const dia_msg_t *req, uint32_t result, const dia_err_t *err);
/* The applications a CER/CEA advertises. true when one is ours (or relay). */
bool dia_base_read_apps(const dia_node_t *n, const dia_msg_t *m, dia_apps_t *out);
/* Origin-Host of m into buf; false when absent or unusable. */
bool dia_base_origin_host(const dia_msg_t *m, char *buf, size_t len);
void dia_base_log_msg(const char *dir, const dia_conn_t *c, const dia_msg_t *m);

/* ---- peer_sm.c ---- */
void dia_sm_start(dia_peer_t *p);
void dia_sm_stop(dia_peer_t *p);
void dia_sm_conn_up(dia_conn_t *c);
void dia_sm_conn_down(dia_conn_t *c);
/* One framed message arrived on c (len bytes at buf). */
void dia_sm_rx(dia_conn_t *c, const uint8_t *buf, uint32_t len);

/* ---- peer_conn.c ---- */
int dia_conn_listen(dia_node_t *n);
void dia_conn_unlisten(dia_node_t *n);
/* Start a non-blocking connect to p's address; NULL when it failed at once. */
dia_conn_t *dia_conn_connect(dia_node_t *n, dia_peer_t *p);
/* Queue m's bytes. On a write error or a full queue, the connection is closed
 * from the next loop turn (never from inside this call): IMS_ERROR. */
int dia_conn_send(dia_conn_t *c, const dia_msg_t *m);
/* Unhook and close now; the state machine and pending requests are told. */
void dia_conn_close(dia_conn_t *c, const char *why);
/* Stop reading; close once what is queued has been written. */
void dia_conn_drain(dia_conn_t *c);
/* An inbound connection whose CER named p becomes p's. */
void dia_conn_adopt(dia_conn_t *c, dia_peer_t *p);
/* The next hop-by-hop id on c. */
uint32_t dia_conn_hbh(dia_conn_t *c);

#endif
