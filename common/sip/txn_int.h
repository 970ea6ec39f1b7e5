/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal to the transaction layer (txn.c: layer, matching, lifetime;
 * txn_server.c and txn_client.c: the state machines). Nothing outside
 * common/sip/txn*.c includes this.
 */
#ifndef SIP_TXN_INT_H
#define SIP_TXN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h> /* osip_free expands to free */

#include "common/core/hash.h"
#include "common/core/loop.h"
#include "common/sip/txn.h"

#define TXN_COOKIE     "z9hG4bK"
#define TXN_COOKIE_LEN 7
#define TXN_KEY_MAX    1024  /* longer keys (absurd branches) are not matched */
#define TXN_TIMER_D_MS 32000 /* §17.1.1.2: at least 32 s over UDP */

typedef enum txn_kind {
    TXN_ICT,
    TXN_NICT,
    TXN_IST,
    TXN_NIST,
    TXN_KINDS
} txn_kind_t;

/* States of §17's figures (RFC 6026 adds Accepted). */
typedef enum txn_state {
    TXN_CALLING,
    TXN_TRYING,
    TXN_PROCEEDING,
    TXN_COMPLETED,
    TXN_CONFIRMED,
    TXN_ACCEPTED,
    TXN_TERMINATED,
    TXN_STATES
} txn_state_t;

typedef enum txn_event {
    TXN_EV_RESPONSE,   /* client: a matching response arrived (msg) */
    TXN_EV_REQUEST,    /* server: a retransmission of the request arrived (msg) */
    TXN_EV_ACK,        /* server: an ACK matching this INVITE arrived (msg) */
    TXN_EV_REPLY,      /* server: the TU sends a response (msg) */
    TXN_EV_TIMER_RETX, /* A, E or G fired */
    TXN_EV_TIMER_END   /* B, D, F, K, M or H, I, J, L fired (and the §9.1 CANCEL guard) */
} txn_event_t;

struct sip_txn {
    sip_txn_layer_t *layer;
    txn_kind_t kind;
    txn_state_t state;
    sip_msg_t *req; /* owned; NULL for the layer's own CANCELs */
    sip_dest_t dst; /* client: where requests go; server: where responses go */
    char *out;      /* osip_malloc'd text: client request (then ACK); server last resp */
    size_t out_len;
    uint32_t retx_ms; /* the interval A/E/G was last armed with */
    ims_timer_t retx; /* A, E, G */
    ims_timer_t end;  /* B, D, F, K, M, H, I, J, L */
    int final_code;
    bool reliable;       /* stream transport: no retransmissions, zero D/I/J/K */
    bool cancel_pending; /* ICT: CANCEL asked for before any provisional */
    bool cancel_sent;
    bool trying_due;     /* IST: 100 Trying armed on retx, not yet sent */
    sip_txn_client_cb cb;
    void *cb_arg;
    sip_txn_end_cb end_cb;
    void *end_arg;
    void *data;
    sip_txn_t *next_dead; /* on the layer's list of terminated transactions */
    sip_txn_t *next_shed; /* on the layer's list of requests to shed */
    /* Client, on a connection still connecting: on the layer's unready list. */
    sip_txn_t *unready_prev, *unready_next;
    uint32_t unready_conn;  /* that connection's id; 0: not on the list */
    bool shed_queued;
    char to_tag[17];      /* server: the tag our locally built responses carry */
    size_t key_len;
    char key[]; /* hash key, NUL-terminated */
};

struct sip_txn_layer {
    ims_loop_t *loop;
    sip_transport_t *tp;
    sip_txn_timers_t tm;
    sip_txn_user_t user;
    void *user_arg;
    ims_hash_t *table;  /* key -> live (not yet terminated) transaction */
    sip_txn_t *dead;    /* terminated, waiting for on_end and free */
    sip_txn_t *shed;    /* answered server transactions whose request is to be freed */
    sip_txn_t *unready; /* client transactions whose request waits on a connect */
    ims_timer_t reaper; /* 0 ms: drains dead from the loop, outside user callbacks */
    size_t count;       /* allocated transactions, dead ones included */
    uint64_t finals[2][5]; /* final responses sent: [INVITE?][2xx..6xx] */
    uint64_t branch_seq;
    char branch_salt[9]; /* random per layer: branches stay unique across restarts */
};

static inline void txn_msg_drop(sip_msg_t *msg)
{
    if (msg)
        sip_msg_free(msg);
}

/* Text from osip_message_to_str / sip_msg_to_str (osip_free is a bare block macro). */
static inline void txn_text_free(char *p)
{
    osip_free(p);
}

/* A key under construction in a stack buffer. */
typedef struct txn_key {
    char b[TXN_KEY_MAX];
    size_t n;
    bool over;
} txn_key_t;

void txn_key_put(txn_key_t *k, const char *s);
/* "C<branch> <method>": how a client transaction is filed. */
bool txn_client_key(txn_key_t *k, const char *branch, const char *method);

/* A new transaction in state, filed under key (IMS_DECLINED: key taken). */
int txn_create(sip_txn_layer_t *l, txn_kind_t kind, const txn_key_t *key, sip_txn_t **out);
void txn_set_state(sip_txn_t *t, txn_state_t st);
/* Client: its request is queued on connection id, not yet connected (or off, 0). */
void txn_unready_set(sip_txn_t *t, uint32_t conn_id);
/* The transport's news that connection conn_id failed unready (arg: the layer):
 * each client transaction waiting on it ends with SIP_TXN_TRANSPORT. */
void txn_conn_failed(void *arg, uint32_t conn_id);
/* Stop its timers, unfile it, queue on_end + free for the reaper. Idempotent. */
void txn_terminate(sip_txn_t *t);
/* Free a transaction that was never handed to anyone (no on_end). */
void txn_discard(sip_txn_t *t);
/* After the final response: free what the rest of t's life no longer needs.
 * Client: at once (the TU had the request during its callback). Server: from
 * the reaper, since the TU may still read sip_txn_request() on this stack. */
void txn_shed_client(sip_txn_t *t);
void txn_shed_server(sip_txn_t *t);
void txn_start_retx(sip_txn_t *t, uint32_t ms);
void txn_start_end(sip_txn_t *t, uint32_t ms);

/* Run t's current state on ev; msg (if any) is consumed either way. */
int txn_dispatch(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);

/* Server side (txn_server.c). */
/* §18.2.1, RFC 3581: received= / rport= in req's top Via from the source address. */
void txn_via_mark_source(sip_msg_t *req, osip_via_t *via);
/* §18.2.2: where the responses to req go (after txn_via_mark_source). */
void txn_response_dest(const sip_msg_t *req, const osip_via_t *via, sip_dest_t *d);
int txn_ist_proceeding(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_ist_completed(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_ist_confirmed(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_ist_accepted(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_nist_trying(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_nist_proceeding(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_nist_completed(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);

/* Client side (txn_client.c). */
int txn_ict_calling(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_ict_proceeding(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_ict_completed(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_ict_accepted(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_nict_trying(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_nict_proceeding(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);
int txn_nict_completed(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);

#endif
