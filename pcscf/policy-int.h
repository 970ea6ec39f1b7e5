/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the policy client's SIP side, shared by policy-cfg.c (configuration,
 * start and stop), policy-sip.c (responses, results, network releases,
 * registrations) and policy-req.c (requests: the offer with preconditions,
 * the answer in a PRACK or ACK). Not for other files: they see policy.h and
 * the context's hooks.
 *
 * The owner's state (pcscf_psip_t) is the table's owner arg, found again from
 * the context by pcscf_psip_of. Per leg of a call it keeps, beside the policy
 * session, what SIP needs across messages (pcscf_psip_leg_t, policy-req.c): an
 * offer seen in a response whose answer comes in the PRACK or ACK, and a call
 * doomed by a refusal that found nothing to hold. A leg state lives no longer
 * than its dialog record (dialog_gone), or PCSCF_DLG_EARLY_MS when none came.
 */
#ifndef PCSCF_POLICY_INT_H
#define PCSCF_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/hash.h"
#include "common/sip/msg.h"
#include "pcscf/context.h"
#include "pcscf/dialog.h"
#include "pcscf/policy.h"

#define PCSCF_POLICY_MAX_ACCESS 8
#define PCSCF_POLICY_ACCESS_LEN 32
#define PCSCF_POLICY_RETRY_AFTER_S 5u
#define PCSCF_POLICY_RELEASE_MS 250u   /* with a DPR's 2 s, within the stop's 2.3 s */

/* One pcscf.policy.access rule: UEs whose P-Access-Network-Info access-type
 * is pani, or starts with pani and '-', use backend. */
typedef struct pcscf_policy_access {
    char pani[PCSCF_POLICY_ACCESS_LEN];
    int backend;                    /* the table's index; -1: no policy */
} pcscf_policy_access_t;

typedef struct pcscf_psip {
    pcscf_ctx_t *ctx;
    pcscf_policy_t *pc;
    int default_backend;            /* for UEs no rule matched; -1: no policy */
    pcscf_policy_access_t access[PCSCF_POLICY_MAX_ACCESS];
    int naccess;
    uint32_t retry_after_s;         /* Retry-After on our 503s; 0 none */
    uint32_t release_ms;            /* how long the release at stop waits */
    ims_hash_t *legs;               /* leg key -> leg state (policy-req.c) */
} pcscf_psip_t;

/* The state behind ctx->policy (NULL without one). */
pcscf_psip_t *pcscf_psip_of(const pcscf_ctx_t *ctx);

/* ---- policy-cfg.c ---- */

/* The rule (index + 1) the access-type of a P-Access-Network-Info value pani
 * (may be NULL) matches, 0 none; rules as in ps. */
uint8_t pcscf_psip_access_of(const pcscf_psip_t *ps, const char *pani);
/* The backend of ue's sessions (by the rule its registration matched), -1 none. */
int pcscf_psip_backend_of(const pcscf_psip_t *ps, const pcscf_ue_t *ue);

/* ---- policy-sip.c: SIP helpers and the asking ---- */

extern const pcscf_policy_hooks_t pcscf_psip_hooks;
extern const pcscf_policy_owner_t pcscf_psip_owner;

/* m's SDP body (Content-Type application/sdp), if it has one. */
bool pcscf_psip_sdp(const sip_msg_t *m, const char **p, size_t *n);
/* The IP literal of a into buf ("" when not an address). */
const char *pcscf_psip_ip(const sip_addr_t *a, char *buf, size_t len);
/* icid-value of m's P-Charging-Vector (RFC 7315 §5.6) into buf, "" when absent. */
const char *pcscf_psip_icid(const sip_msg_t *m, char *buf, size_t len);

/* One request for a leg: its key and UE (the backend and IMPU come from it). */
typedef struct pcscf_psip_ask {
    const char *key;
    const pcscf_ue_t *ue;
    const char *ue_ip;
    const char *icid;               /* P-Charging-Vector's, "" none */
    const rx_media_comp_t *media;
    int nmedia;
    bool preliminary;               /* from the offer alone */
} pcscf_psip_ask_t;

/* Ask (or queue behind the request pending) unless the UE has no backend or
 * these components are what was asked last. The session, or NULL. */
pcscf_policy_sess_t *pcscf_psip_ask(pcscf_psip_t *ps, const pcscf_psip_ask_t *a);

/*
 * Components for a leg whose UE is on side ue_side of the call, from an offer
 * and answer body (answer NULL: from the offer alone), the UE having made the
 * offer or not. The count, or -1 (logged with key) when an SDP is not
 * understood or they do not match. comps has RX_MAX_MEDIA entries.
 */
int pcscf_psip_components(const char *key, const char *offer, size_t no, const char *answer,
                          size_t na, bool ue_offered, rx_media_comp_t *comps);

/*
 * Fail the call of leg d (may be NULL) with code and why: what pr_id holds is
 * dropped and its INVITE answered code (CANCEL downstream by the proxy core);
 * a held 2xx (of the request with CSeq cseq and From tag req_tag) is
 * acknowledged and its sender gets a BYE with Reason; the record goes.
 */
void pcscf_psip_fail_call(pcscf_psip_t *ps, pcscf_dialog_t *d, uint64_t pr_id, bool held_2xx,
                          uint32_t cseq, const char *req_tag, int code, const char *why);

/* ---- policy-req.c ---- */

/* The context's on_request hook. */
void pcscf_psip_on_request(pcscf_ctx_t *ctx, const sip_msg_t *req, bool from_ue);
/* An offer in resp (to a request without SDP, whose ICID is icid) for leg
 * key; the UE made it or not. Kept (copied) until its answer comes in the
 * PRACK or ACK. */
void pcscf_psip_offer_seen(pcscf_psip_t *ps, const char *key, const char *body, size_t len,
                           bool ue_offered, const char *icid);
/* Doom the early call of leg key: its next INVITE response is held and the
 * INVITE failed with code (why) from the loop. */
void pcscf_psip_doom(pcscf_psip_t *ps, const char *key, int code, const char *why);
/* For on_response: when leg d is doomed, hold resp (of pr) and fail the call;
 * true then (resp is taken care of). */
bool pcscf_psip_doomed(pcscf_psip_t *ps, sip_proxy_req_t *pr, const sip_msg_t *req,
                       const sip_msg_t *resp, const pcscf_dialog_t *d);
/* An INVITE (initial) failed finally: preliminary sessions of its legs that
 * never got a dialog record go. */
void pcscf_psip_invite_failed(pcscf_psip_t *ps, const sip_msg_t *req);
/* Leg key is gone (its dialog record), or everything at stop (key NULL). */
void pcscf_psip_leg_gone(pcscf_psip_t *ps, const char *key);

#endif
