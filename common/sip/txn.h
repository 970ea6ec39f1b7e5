/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Our own transaction layer, RFC 3261 §17 with the RFC 6026 corrections.
 *
 * State machines (a state is a function in txn.c, named after §17's figures):
 *   INVITE client      Calling -> Proceeding -> Accepted (2xx, Timer M) | Completed (Timer D) -> Terminated
 *   non-INVITE client  Trying -> Proceeding -> Completed (Timer K) -> Terminated
 *   INVITE server      Proceeding -> Accepted (2xx, Timer L) | Completed (Timer G/H) -> Confirmed (Timer I) -> Terminated
 *   non-INVITE server  Trying -> Proceeding -> Completed (Timer J) -> Terminated
 *
 * Matching (§17.1.3, §17.2.3): client transactions by top-Via branch + CSeq
 * method; server transactions by branch + sent-by + method (ACK matches its
 * INVITE). Requests whose branch lacks the magic cookie are matched by a key
 * of Call-ID, CSeq number, From tag and sent-by (RFC 2543 fallback).
 *
 * Timers run on the loop's timer heap; over reliable transports the
 * retransmission timers (A, E, G) are not started and D, I, J, K are zero.
 *
 * Lifetime: the layer owns every transaction and frees it after it terminates,
 * calling its on_end hook first; nobody may use the pointer after that.
 */
#ifndef SIP_TXN_H
#define SIP_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/core/loop.h"
#include "common/sip/msg.h"
#include "common/sip/transport.h"

typedef struct sip_txn sip_txn_t;
typedef struct sip_txn_layer sip_txn_layer_t;

typedef struct sip_txn_timers {
    uint32_t t1_ms;   /* RTT estimate, default 500 */
    uint32_t t2_ms;   /* max non-INVITE retransmit interval, default 4000 */
    uint32_t t4_ms;   /* max message lifetime in the network, default 5000 */
    /* How long an INVITE server transaction waits for the TU's own response
     * before it sends 100 Trying (sip_txn_server_trying), default 100. §17.2.1
     * lets a 100 be skipped when a response follows within 200 ms: on a fast
     * path the 180 comes first and each hop saves a message both ways. */
    uint32_t trying_ms;
} sip_txn_timers_t;

/* What the transaction user (the proxy, a UA, a test) is told. */
typedef struct sip_txn_user {
    /* A request that created a new server transaction (any method but ACK).
     * req stays owned by st (sip_txn_request(st)); do not free it. */
    void (*on_request)(void *arg, sip_txn_t *st, const sip_msg_t *req);
    /* An ACK that matched no INVITE server transaction in Completed state
     * (i.e. an ACK for a 2xx, or stray). Ownership of ack passes to the callee. */
    void (*on_ack)(void *arg, sip_msg_t *ack);
    /* A response that matched no client transaction (e.g. a 2xx retransmission
     * after the transaction ended). Ownership passes to the callee. */
    void (*on_stray_response)(void *arg, sip_msg_t *resp);
} sip_txn_user_t;

typedef enum sip_txn_err {
    SIP_TXN_OK = 0,
    SIP_TXN_TIMEOUT = 1,       /* Timer B or F fired: no final response */
    SIP_TXN_TRANSPORT = 2      /* the request could not be sent */
} sip_txn_err_t;

/* Client callback: a response (ownership passes to the callee; provisional,
 * final, and for INVITE every 2xx while Accepted), or resp NULL with err set. */
typedef void (*sip_txn_client_cb)(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err);

/* Called once just before the layer frees t. */
typedef void (*sip_txn_end_cb)(void *arg, sip_txn_t *t);

/* Create the layer on a transport. timers NULL: defaults. The caller must route
 * the transport's receive callback to sip_txn_layer_input. */
sip_txn_layer_t *sip_txn_layer_new(ims_loop_t *loop, sip_transport_t *tp,
                                   const sip_txn_timers_t *timers);
/* Frees every transaction (on_end hooks are not called). */
void sip_txn_layer_free(sip_txn_layer_t *layer);
void sip_txn_layer_set_user(sip_txn_layer_t *layer, const sip_txn_user_t *user, void *arg);
sip_transport_t *sip_txn_layer_transport(sip_txn_layer_t *layer);
ims_loop_t *sip_txn_layer_loop(sip_txn_layer_t *layer);
const sip_txn_timers_t *sip_txn_layer_timers(const sip_txn_layer_t *layer);
/* Live transactions (tests, metrics). */
size_t sip_txn_layer_count(const sip_txn_layer_t *layer);
/* Final responses our server transactions sent (first final of each, metrics),
 * to INVITE or to other requests, of class cls (2..6); 0 for any other cls. */
uint64_t sip_txn_layer_finals(const sip_txn_layer_t *layer, bool invite, int cls);

/* Feed one received message (ownership passes). Retransmissions are absorbed
 * or answered here; new requests reach user->on_request, responses their client. */
void sip_txn_layer_input(sip_txn_layer_t *layer, sip_msg_t *msg);

/* ---- server side ---- */

/* Send a response on a server transaction; ownership of resp passes. The
 * response goes where §18.2.2 says (the connection it came on, else Via
 * received/rport/sent-by). Final responses move the state machine.
 * IMS_OK, or IMS_ERROR if st already sent a final response (resp freed) —
 * except that an INVITE server transaction in Accepted (RFC 6026) sends every
 * further 2xx it is given: a forking proxy forwards each 2xx upstream.
 * IMS_ERROR too when the transport refused it (the state still moves). */
int sip_txn_server_reply(sip_txn_t *st, sip_msg_t *resp);
/* Shortcut: build with sip_msg_make_response and send. */
int sip_txn_server_reply_code(sip_txn_t *st, int code, const char *reason);
/* INVITE server transaction: 100 Trying unless the TU responds within
 * timers.trying_ms; a retransmitted INVITE before then gets it at once.
 * Other transactions: no-op. */
void sip_txn_server_trying(sip_txn_t *st);
/* The INVITE server transaction a CANCEL refers to (§9.2), or NULL. */
sip_txn_t *sip_txn_server_find_invite(sip_txn_layer_t *layer, const sip_msg_t *cancel);

/* ---- client side ---- */

/*
 * Start a client transaction: pushes a Via with our address for dst's protocol
 * and family and a new branch (branch_hint, if given, is placed after the magic
 * cookie and before a unique suffix: the proxy puts its loop-detection hash there),
 * sends req to dst and runs the timers. Ownership of req passes to the layer.
 * Returns the transaction, or NULL when req could not be sent at all (freed;
 * cb is not called).
 */
sip_txn_t *sip_txn_client_start(sip_txn_layer_t *layer, sip_msg_t *req, const sip_dest_t *dst,
                                const char *branch_hint, sip_txn_client_cb cb, void *arg);

/*
 * sip_txn_client_start for a proxy: req is not changed, copied or taken; the
 * text sent is req printed over (sip_msg_print_over) with our Via added to
 * over's changes. For an INVITE the transaction keeps only what a CANCEL or
 * an ACK is built from (sip_txn_request gives that; NULL for other methods).
 * IMS_OK with *out the transaction;
 * IMS_DECLINED when req needs the copying path (nothing done); IMS_ERROR
 * when it could not be sent (as sip_txn_client_start's NULL).
 */
int sip_txn_client_forward(sip_txn_layer_t *layer, const sip_msg_t *req, sip_print_over_t *over,
                           const sip_dest_t *dst, const char *branch_hint,
                           sip_txn_client_cb cb, void *arg, sip_txn_t **out);

/*
 * CANCEL an INVITE client transaction (§9.1): builds the CANCEL from its request
 * and sends it on a new client transaction once a provisional response has
 * arrived (at once if one has; otherwise when the first one does, and not at all
 * if a final response comes first). The CANCEL's own response is absorbed.
 */
void sip_txn_client_cancel(sip_txn_t *ct);
/* Stop delivering callbacks for ct, on_end included (its owner is going away);
 * it still runs to its end. 2xx it receives in Accepted then go to on_stray_response. */
void sip_txn_client_detach(sip_txn_t *ct);

/* ---- both ---- */
void sip_txn_set_on_end(sip_txn_t *t, sip_txn_end_cb cb, void *arg);
/* The original request, until the final response: a client transaction frees
 * it once its callback has had the final response, a server transaction once
 * the TU's final response is out and control is back in the loop. NULL after. */
const sip_msg_t *sip_txn_request(const sip_txn_t *t);
bool sip_txn_is_server(const sip_txn_t *t);
bool sip_txn_is_invite(const sip_txn_t *t);
/* The last final response code sent (server) or received (client); 0 if none. */
int sip_txn_final_code(const sip_txn_t *t);
/* Opaque slot for the transaction user. */
void sip_txn_set_data(sip_txn_t *t, void *data);
void *sip_txn_get_data(const sip_txn_t *t);
/* Where a client transaction sends (valid for its life). */
const sip_dest_t *sip_txn_dest(const sip_txn_t *t);

#endif
