/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals shared by proxy.c (requests) and proxy_resp.c (responses, CANCEL). */
#ifndef SIP_PROXY_INT_H
#define SIP_PROXY_INT_H

#include "common/core/hash.h"
#include "common/core/loop.h"
#include "common/sip/proxy.h"

#define PROXY_MAX_LOCAL 8

typedef struct proxy_route_note {
    bool seen;
    bool orig;               /* "orig" user part or parameter (TS 24.229 §5.4.3.2) */
    char user[48];           /* its user part, "" when none (or too long) */
} proxy_route_note_t;

typedef struct proxy_branch {
    sip_proxy_req_t *pr;
    sip_txn_t *ct;           /* NULL once the client transaction ended */
    char *target;            /* Request-URI for this branch, NULL: unchanged */
    bool has_dst;
    sip_dest_t dst;
    int final_code;          /* the branch's outcome (response or local), 0 while pending */
    bool done;               /* final outcome recorded and counted */
    bool got_provisional;
    bool replied;            /* any response received */
    bool reply_wait;         /* timer_c runs the reply timeout (no response yet) */
    ims_timer_t timer_c;
} proxy_branch_t;

struct sip_proxy_req {
    sip_proxy_t *px;
    uint64_t id;
    sip_txn_t *st;           /* NULL once the server transaction ended */
    sip_proxy_req_t *next_retired; /* on px->retired */
    bool retired;            /* answered and settled: freed by the proxy's reaper */
    proxy_route_note_t route; /* our Route entry as the request arrived */
    bool is_invite;
    bool forwarded;          /* sip_proxy_forward ran */
    bool final_sent;
    bool cancelled;          /* CANCEL received */
    uint32_t loop_hash;
    int nbranches;
    int round;               /* first branch of the current round (on_failure) */
    uint32_t reply_timeout_ms; /* sip_proxy_set_reply_timeout, 0: none */
    int pending;             /* branches without a final response */
    proxy_branch_t *br[SIP_PROXY_MAX_BRANCHES]; /* nbranches allocated */
    sip_msg_t *best;         /* best non-2xx final so far (owned), or NULL */
    int best_code;           /* also set for local outcomes (408, 503) */
    /* Responses the handler holds back (sip_proxy_hold), oldest first, owned. */
    bool in_on_response;     /* the handler's on_response runs for this request */
    int holds;               /* sip_proxy_hold calls not yet resumed */
    int hold_code;           /* the first failing sip_proxy_resume's code, 0: none */
    uint32_t hold_retry_after; /* its Retry-After, seconds, 0: none */
    char hold_reason[64];
    int nheld;
    sip_msg_t *held[SIP_PROXY_MAX_HELD];
};

struct sip_proxy {
    sip_txn_layer_t *layer;
    sip_transport_t *tp;
    ims_loop_t *loop;
    sip_proxy_cfg_t cfg;
    sip_proxy_handler_t handler;
    void *arg;
    sip_addr_t local[PROXY_MAX_LOCAL];   /* our listening addresses */
    sip_proto_t local_proto[PROXY_MAX_LOCAL];
    int nlocal;
    uint64_t next_id;
    ims_hash_t *reqs;        /* live requests by id (8 raw bytes) */
    sip_proxy_req_t *retired; /* settled requests waiting for the reaper */
    ims_timer_t reaper;
    sip_proxy_stats_t stats;
};

/* The preprocessed request: the server transaction's own, which it frees once
 * the final response is out (NULL then). */
static inline sip_msg_t *proxy_req(const sip_proxy_req_t *pr)
{
    return pr->st ? (sip_msg_t *)sip_txn_request(pr->st) : NULL;
}

/* proxy.c */
bool proxy_addr_is_local(const sip_proxy_t *px, const char *host, const char *port, bool sips);
void proxy_req_maybe_free(sip_proxy_req_t *pr);
/* Final response sent and every branch settled: nothing more is ours to do, so
 * the request is let go of (from a 0 ms timer, outside the caller's stack). Its
 * transactions run out their timers alone; late 2xx go on statelessly. */
void proxy_req_settle(sip_proxy_req_t *pr);

/* proxy_resp.c */
void proxy_branch_response(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err);
void proxy_branch_end(void *arg, sip_txn_t *ct);
void proxy_timer_c(ims_loop_t *loop, ims_timer_t *t, void *arg);
void proxy_reply_timeout(ims_loop_t *loop, ims_timer_t *t, void *arg);
void proxy_branch_failed(proxy_branch_t *b, int code);
void proxy_handle_cancel(sip_proxy_t *px, sip_txn_t *st, const sip_msg_t *cancel);
void proxy_on_ack(void *arg, sip_msg_t *ack);
void proxy_on_stray_response(void *arg, sip_msg_t *resp);
void proxy_cancel_branches(sip_proxy_req_t *pr);
int proxy_next_hop(sip_proxy_t *px, const sip_msg_t *req, sip_dest_t *dst);
/* §16.4: drop our own Route entries (strict-router fix-up first); note (may be
 * NULL) gets what the first of them carried besides our address. */
void proxy_preprocess_routes(sip_proxy_t *px, sip_msg_t *req, proxy_route_note_t *note);

#endif
