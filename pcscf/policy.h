/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy_client: the P-CSCF as Application Function (TS 23.203, TS 24.229
 * §5.2.7, §5.2.8) asking the policy server for the media bearers of its calls
 * and for the signalling path of its registrations, independent of the
 * protocol underneath. Backends: Rx toward a PCRF (policy-rx.c, TS 29.214)
 * and N5 Npcf_PolicyAuthorization toward a PCF (policy-n5.c). One table may
 * drive several backends at once (one P-CSCF serving 4G and 5G UEs): each
 * session belongs to the backend it was created on (req.backend), and its
 * updates and release go there. The configuration picks them per access type
 * (policy-cfg.c: pcscf.policy.backend, the default, and pcscf.policy.access;
 * "none" everywhere, the default, keeps the P-CSCF exactly as it was: no
 * table, no hooks).
 *
 * This file is the table and the asynchronous glue, with no SIP in it: one
 * AF session per dialog leg ("o|Call-ID|caller tag" / "t|...", the key of
 * pcscf/dialog.c) and one per registered UE for the signalling path
 * ("r|<UE address key>"). Bounded (max_sessions). Each request to the backend
 * gets a fresh ticket (uint64): the only thing that crosses the asynchronous
 * gap. The answer, the timeout (timeout_ms, armed here whatever the backend
 * does) or a network release re-resolve it; a ticket no longer pending is the
 * normal "already gone" case: the backend is told (IMS_DECLINED) so that it can
 * end a session the server opened after we gave up. A change asked while a
 * request of the session is pending is refused, or, with req.queue, kept (the
 * latest one only) and sent once the pending one is answered: an answer that
 * arrives while the offer's preliminary request is out is not lost.
 *
 * policy-sip.c is the owner: it turns SIP events into requests and results
 * into SIP (hold/resume of the answer, BYEs). Its upcalls:
 *   on_result   once per request, from the loop (never inside authorize);
 *   on_release  the network ended the session (Rx ASR, RAR loss/release of
 *               bearer; N5 terminate notification).
 * After on_result of a failed new session (nothing queued), and after
 * on_release, the session is removed (released toward the server when it has
 * one) unless the owner did that itself. A queued request is sent after
 * on_result returns (a new session if the failed one never opened).
 *
 * SIP outcome of a failed authorisation (TS 24.229 §5.2.7.2/§5.2.7.3, and
 * what Kamailio's ims_qos does): the held answer is dropped and the INVITE is
 * answered
 *   REJECTED (the server refused: Rx Experimental-Result 5061..5066 or a
 *             permanent 5xxx; N5 403)              488 Not Acceptable Here
 *   TIMEOUT, UNREACHABLE (no peer, no answer,
 *             3xxx/4xxx, an answer we cannot read) 503 Service Unavailable
 * (with Retry-After: pcscf.policy.retry_after, default 5 s, through
 * sip_proxy_resume_retry). A held 2xx is acknowledged and the callee
 * sent a BYE (Reason: SIP;cause=<code>). For an update (re-INVITE, UPDATE)
 * only a refusal ends the call (ACK and BYE to both sides); a timeout leaves
 * the call on its previous authorisation and lets the answer through.
 */
#ifndef PCSCF_POLICY_H
#define PCSCF_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/loop.h"
#include "diameter/rx/rx.h"

#define PCSCF_POLICY_REF 320        /* the server's name of a session (Rx Session-Id, N5 URI) */
#define PCSCF_POLICY_MAX_SESSIONS 100000
#define PCSCF_POLICY_TIMEOUT_MS 2000
#define PCSCF_POLICY_MAX_BACKENDS 4

typedef struct pcscf_policy pcscf_policy_t;
typedef struct pcscf_policy_sess pcscf_policy_sess_t;

typedef enum pcscf_policy_outcome {
    PCSCF_POLICY_OK = 0,            /* authorised */
    PCSCF_POLICY_REJECTED,          /* refused by the policy server */
    PCSCF_POLICY_TIMEOUT,           /* no answer within timeout_ms */
    PCSCF_POLICY_UNREACHABLE        /* no peer, shutdown, an unusable answer */
} pcscf_policy_outcome_t;

typedef struct pcscf_policy_result {
    pcscf_policy_outcome_t outcome;
    uint32_t cause;                 /* the backend's code (Rx result, N5 HTTP status); 0 none */
    bool experimental;              /* Rx: cause is an Experimental-Result-Code */
} pcscf_policy_result_t;

/* What one request asks for. Strings are read during the call only. */
typedef struct pcscf_policy_req {
    bool signalling;                /* the registration's SIP signalling flow */
    bool update;                    /* the session exists at the server (ref set) */
    const char *ref;                /* the server's name for it; "" for a new one */
    const char *impu;               /* the UE's public identity */
    const char *ue_ip;              /* the UE's address, IPv4 or IPv6 literal */
    const char *icid;               /* IMS charging id (P-Charging-Vector), "" none */
    /* The components in Rx form (pcscf/sdp.h); N5 converts with pcscf_sdp_rx_to_n5. */
    const rx_media_comp_t *media;
    int nmedia;
    /* From the offer alone, before the answer (TS 29.214 Service-Info-Status
     * PRELIMINARY_SERVICE_INFORMATION; TS 29.213 §6.2): preconditions want the
     * bearer before the answer. */
    bool preliminary;
    int backend;                    /* a new session's backend (pcscf_policy_add_backend) */
    bool queue;                     /* a request is pending: keep this one for after it */
} pcscf_policy_req_t;

/* A backend. Tickets and refs cross its asynchronous gaps, never sessions. */
typedef struct pcscf_policy_backend {
    const char *name;               /* "rx", "n5" */
    /* The table be answers to (called once, by pcscf_policy_new). */
    void (*attach)(void *be, pcscf_policy_t *pc);
    /* Send the request. IMS_OK: exactly one pcscf_policy_answered(ticket) will
     * follow, later (or the core's timeout comes first). IMS_ERROR: nothing
     * was sent; the core reports UNREACHABLE from the loop. */
    int (*authorize)(void *be, uint64_t ticket, const pcscf_policy_req_t *r);
    /* End the server's session ref (Rx STR, N5 DELETE); fire and forget. */
    void (*release)(void *be, const char *ref);
    /* Requests in flight (sent, not answered): how long a release at stop
     * waits. NULL: never any. */
    size_t (*busy)(void *be);
    /* Close toward the server (DPR...): may run the loop until done. */
    void (*stop)(void *be);
    void (*free)(void *be);
} pcscf_policy_backend_t;

/* The owner's upcalls (policy-sip.c; a test's fakes). */
typedef struct pcscf_policy_owner {
    void (*on_result)(void *arg, pcscf_policy_sess_t *s, bool update,
                      const pcscf_policy_result_t *res);
    void (*on_release)(void *arg, pcscf_policy_sess_t *s, const char *why);
} pcscf_policy_owner_t;

typedef struct pcscf_policy_cfg {
    uint32_t timeout_ms;            /* default PCSCF_POLICY_TIMEOUT_MS */
    uint32_t max_sessions;          /* default PCSCF_POLICY_MAX_SESSIONS */
} pcscf_policy_cfg_t;

typedef struct pcscf_policy_stats {
    uint64_t requests, updates, ok, rejected, timeouts, unreachable, late;
    uint64_t released, network_released, full;
    uint64_t signalling_now;        /* sessions of registrations in the table (not a count) */
    uint64_t sessions_now;          /* sessions in the table (not a count) */
} pcscf_policy_stats_t;

struct pcscf_policy_next;           /* a queued request (policy.c) */

/* The state of one session, for the owner. */
struct pcscf_policy_sess {
    pcscf_policy_t *pc;
    char *key;                      /* dialog key or "r|<UE key>" (owned) */
    char ref[PCSCF_POLICY_REF];     /* "" until the server named it */
    bool open;                      /* the server has it (a request succeeded once) */
    bool signalling;
    uint8_t backend;                /* index of its backend */
    uint64_t ticket;                /* the request pending, 0 none */
    struct pcscf_policy_next *next; /* the request queued behind it, or NULL */
    uint64_t media_hash;            /* of the components last authorised or asked */
    ims_timer_t timer;              /* the pending request's limit */
    /* The owner's: the proxy request held for the answer (0 none), whether a
     * 2xx is among what it holds, and the CSeq of the request it answers;
     * whether the request pending is the offer's preliminary one, and whether
     * an answer's media was authorised once (a later refusal is an update's). */
    uint64_t pr_id;
    bool held_2xx;
    uint32_t cseq;
    char req_tag[64];               /* From tag of the request answered */
    bool prelim, authorised;
};

/* A table on loop (may be NULL in tests that never time out) driving backend
 * ops/be (owned from now on: freed by pcscf_policy_free). Aborts on allocation
 * failure. */
pcscf_policy_t *pcscf_policy_new(ims_loop_t *loop, const pcscf_policy_cfg_t *cfg,
                                 const pcscf_policy_backend_t *ops, void *be);
void pcscf_policy_set_owner(pcscf_policy_t *pc, const pcscf_policy_owner_t *owner, void *arg);
/* Stop the backends (ops->stop), then free every session (no release sent:
 * see pcscf_policy_release_all) and the backends. NULL: no-op. */
void pcscf_policy_free(pcscf_policy_t *pc);
/* One more backend ops/be (owned from now on), for sessions created with
 * req.backend = the index returned; IMS_ERROR (nothing taken) when
 * PCSCF_POLICY_MAX_BACKENDS are there. The one of pcscf_policy_new is 0. */
int pcscf_policy_add_backend(pcscf_policy_t *pc, const pcscf_policy_backend_t *ops, void *be);
size_t pcscf_policy_backends(const pcscf_policy_t *pc);
/* Backend i's name and counters (i < pcscf_policy_backends), or NULL. */
const char *pcscf_policy_backend_at(const pcscf_policy_t *pc, size_t i);
const pcscf_policy_stats_t *pcscf_policy_backend_stats(const pcscf_policy_t *pc, size_t i);
/* The index of the backend named name, or -1. */
int pcscf_policy_backend_index(const pcscf_policy_t *pc, const char *name);
/* The owner's arg (pcscf_policy_set_owner). */
void *pcscf_policy_owner_arg(const pcscf_policy_t *pc);
/*
 * At shutdown: forget the owner, end every session at its server (Rx STR, N5
 * delete; pending requests forgotten, their late answers declined) and run
 * the loop until no backend has a request in flight or wait_ms has passed,
 * so that the servers keep no session of ours. Returns how many were ended.
 */
size_t pcscf_policy_release_all(pcscf_policy_t *pc, uint32_t wait_ms);

/*
 * Ask for (r->update false: create, key new, on backend r->backend) or change
 * the session of key. Returns the session with a ticket pending, or NULL when
 * the table is full, r->backend is not one, or a request of key is already
 * pending (nothing sent; counted). With r->queue a request pending makes this
 * one wait instead (copied; it replaces one queued before): the session is
 * returned with pcscf_policy_queued true.
 */
pcscf_policy_sess_t *pcscf_policy_authorize(pcscf_policy_t *pc, const char *key,
                                            pcscf_policy_req_t *r);
/* End s: release at the server if it has it, then free. A pending ticket is
 * forgotten (its late answer is declined). */
void pcscf_policy_release(pcscf_policy_sess_t *s);
pcscf_policy_sess_t *pcscf_policy_find(const pcscf_policy_t *pc, const char *key);
pcscf_policy_sess_t *pcscf_policy_by_ref(const pcscf_policy_t *pc, const char *ref);
size_t pcscf_policy_count(const pcscf_policy_t *pc);
const pcscf_policy_stats_t *pcscf_policy_stats(const pcscf_policy_t *pc);
/* "rx", "n5", or the names joined by '+' ("rx+n5") when there are several. */
const char *pcscf_policy_backend_name(const pcscf_policy_t *pc);
/* The name of s's backend. */
const char *pcscf_policy_sess_backend(const pcscf_policy_sess_t *s);
/* Whether a request waits behind s's pending one. */
bool pcscf_policy_queued(const pcscf_policy_sess_t *s);
/* The loop and the configuration, for backends. */
ims_loop_t *pcscf_policy_loop(const pcscf_policy_t *pc);
const pcscf_policy_cfg_t *pcscf_policy_cfg(const pcscf_policy_t *pc);

/* ---- for backends ---- */

/*
 * The answer to ticket: ref (NULL: unchanged) names the session at the
 * server from now on. IMS_OK; IMS_DECLINED when the ticket is not pending any
 * more (timed out, session released): a backend that just opened a session
 * then ends it at the server itself.
 */
int pcscf_policy_answered(pcscf_policy_t *pc, uint64_t ticket, const char *ref,
                          const pcscf_policy_result_t *res);
/* The server ended (or lost the bearer of) session ref. IMS_OK, or
 * IMS_DECLINED when no session has that ref. */
int pcscf_policy_network_release(pcscf_policy_t *pc, const char *ref, const char *why);

const char *pcscf_policy_outcome_name(pcscf_policy_outcome_t o);

/*
 * policy-rx.c: the Rx backend, configured from group `section` (the keys of
 * diameter/base/peer_conf.h plus dest_realm, dest_host). IMS_OK with *ops and
 * *be set; IMS_ERROR with a "file:line: key: message" in err.
 */
struct ims_conf;
int pcscf_policy_rx_new(struct ims_conf *conf, const char *section, ims_loop_t *loop,
                        uint32_t timeout_ms, const pcscf_policy_backend_t **ops, void **be,
                        char *err, size_t errlen);
/* policy-n5.c: the N5 backend toward a PCF (pcscf/n5-client.h keys), the same
 * contract. */
int pcscf_policy_n5_new(struct ims_conf *conf, const char *section, ims_loop_t *loop,
                        uint32_t timeout_ms, const pcscf_policy_backend_t **ops, void **be,
                        char *err, size_t errlen);

/*
 * policy-cfg.c: read pcscf.policy of conf and, unless every backend is
 * "none", start them and hook the P-CSCF's calls and registrations into them
 * (ctx->policy, ctx->policy_hooks). IMS_OK / IMS_ERROR (logged).
 * pcscf_policy_stop undoes it (before the dialogs and UEs are freed), ending
 * the sessions still open at their servers first (pcscf.policy.release_ms).
 */
struct pcscf_ctx;
int pcscf_policy_start(struct pcscf_ctx *ctx, struct ims_conf *conf);
void pcscf_policy_stop(struct pcscf_ctx *ctx);

#endif
