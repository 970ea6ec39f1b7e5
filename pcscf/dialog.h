/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF's calls (TS 24.229 §5.2.6, §5.2.7, §5.2.8): one compact record per
 * INVITE dialog of a registered UE, kept so that a call can be released when
 * the UE's registration ends (and, later, for the policy session per call).
 *
 * A record is one leg through this P-CSCF: originating ("o", the caller is our
 * UE: the INVITE came from its registered address) or terminating ("t", the
 * callee is our UE: the response came from it). When both UEs of a call sit
 * behind this P-CSCF the same INVITE passes twice and makes two records, told
 * apart by the direction. The key is "dir|Call-ID|caller's tag"; a forked call
 * keeps the first early dialog and the first confirmed one.
 *
 *   1xx with a To tag to an initial INVITE   early record (timer: given up after 200 s)
 *   2xx to it                                 confirmed (remote targets, route sets)
 *   3xx-6xx to it (CANCEL gives 487)          an early record goes
 *   BYE through us                            ending (32 s timer), gone at its final response
 *
 * In-dialog requests and responses find their record by Call-ID and tags: a
 * request from a UE whose From tag is the caller's belongs to an "o" record,
 * one whose To tag is the caller's to a "t" record; from the network it is the
 * other way round.
 *
 * To release a call the P-CSCF acts as each end toward the other: toward the
 * callee a BYE From the caller's From (tag), To the callee's To, at the callee's
 * Contact along the Record-Route entries above ours (reversed); toward the
 * caller the mirror image, along the entries below ours. The UE's side is sent
 * to the address it registered from. Each BYE carries the reason
 * (Reason: SIP;cause=503;text="..."). Early dialogs are dropped without a BYE
 * (a CANCEL would need the proxy core's INVITE branch: not done).
 *
 * Records and their strings live in the store pool; ids never cross an
 * asynchronous gap (the BYEs' responses only log). A record's key also names
 * its policy session (policy.h): removing the record releases that session.
 */
#ifndef PCSCF_DIALOG_H
#define PCSCF_DIALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sip/msg.h"
#include "common/sip/proxy.h"
#include "common/sip/transport.h"
#include "pcscf/context.h"

#define PCSCF_DLG_MAX_ROUTES 8     /* Record-Route entries kept per side */
#define PCSCF_DLG_MAX_BYTES 4096   /* strings of one record at most */
#define PCSCF_DLG_EARLY_MS 200000  /* an early dialog unanswered this long is forgotten */
#define PCSCF_DLG_ENDING_MS 32000  /* a BYE without a final response (64*T1) */

typedef enum pcscf_dlg_dir { PCSCF_DLG_ORIG = 0, PCSCF_DLG_TERM = 1 } pcscf_dlg_dir_t;

typedef enum pcscf_dlg_state {
    PCSCF_DLG_EARLY = 0,
    PCSCF_DLG_CONFIRMED,
    PCSCF_DLG_ENDING            /* BYE seen, waiting for its final response */
} pcscf_dlg_state_t;

/* Side of a call: the caller (From of the INVITE) and the callee. */
enum { PCSCF_DLG_CALLER = 0, PCSCF_DLG_CALLEE = 1 };

struct pcscf_dialog {
    pcscf_ctx_t *ctx;
    pcscf_ue_t *ue;             /* our UE (the record dies before it) */
    pcscf_dialog_t *prev, *next;/* ue->dialogs */
    ims_timer_t timer;          /* early or ending give-up */
    uint64_t created_ms;
    uint32_t cseq[2];           /* highest CSeq seen from caller / callee */
    uint8_t dir, state, nroute[2];
    sip_dest_t ue_dst;          /* where the UE's side is sent */
    char *strs;                 /* NUL-separated, see dialog.c */
};

/* Create the (empty) table and hook it into ctx (idempotent; the first dialog
 * does it otherwise): from then on the stop line reports the dialog counters. */
void pcscf_dialogs_init(pcscf_ctx_t *ctx);

/*
 * A response going upstream (handler's on_response): INVITE 1xx/2xx/final and
 * BYE finals update the records. req is the request as forwarded (may be NULL:
 * a late response, then only BYE finals are used); px tells our own
 * Record-Route entries. Nothing is kept from req or resp.
 */
void pcscf_dialog_on_response(pcscf_ctx_t *ctx, sip_proxy_t *px, const sip_msg_t *req,
                              const sip_msg_t *resp);
/* An in-dialog request (To tag) going through: CSeq noted, a BYE marks the
 * record ending. from_ue: it came from a registered UE. */
void pcscf_dialog_on_request(pcscf_ctx_t *ctx, const sip_msg_t *req, bool from_ue);

/* The record of a leg: dir, Call-ID and the caller's tag; NULL when unknown. */
pcscf_dialog_t *pcscf_dialog_get(const pcscf_ctx_t *ctx, pcscf_dlg_dir_t dir,
                                 const char *call_id, const char *caller_tag);
/* Any record the Call-ID and the two tags (either order) name, or NULL. */
pcscf_dialog_t *pcscf_dialog_find(const pcscf_ctx_t *ctx, const char *call_id, const char *tag1,
                                  const char *tag2);
/* Whether req (with a To tag) belongs to a call we know. */
bool pcscf_dialog_known(const pcscf_ctx_t *ctx, const sip_msg_t *req);

typedef void (*pcscf_dialog_cb)(void *arg, pcscf_dialog_t *d);
/* Call cb for every dialog of ue (cb may remove the one it is given). Returns the count. */
size_t pcscf_dialogs_of_ue(pcscf_ctx_t *ctx, pcscf_ue_t *ue, pcscf_dialog_cb cb, void *arg);

/*
 * Release every dialog of ue: for each confirmed one a BYE to both sides with
 * Reason: SIP;cause=503;text="why" (sent when ctx->px is known), then every
 * record of ue is removed. Returns the number of BYEs sent.
 */
size_t pcscf_dialogs_release(pcscf_ctx_t *ctx, pcscf_ue_t *ue, const char *why);

/* Release d: a BYE to both sides when it is confirmed (Reason as above),
 * then the record is removed. Returns the number of BYEs sent. */
size_t pcscf_dialog_release(pcscf_dialog_t *d, const char *why);
/*
 * Send method ("ACK" or "BYE") toward side of d as the other side would: an
 * ACK (CSeq cseq, e.g. for a 2xx the policy server made us drop) statelessly,
 * a BYE (cseq 0: the next CSeq) on a client transaction, with
 * Reason: SIP;cause=cause;text="why" unless why is NULL. The record stays.
 * Whether it was sent.
 */
bool pcscf_dialog_send(pcscf_dialog_t *d, int side, const char *method, uint32_t cseq,
                       int cause, const char *why);

/* Build the BYE releasing side of d (not sent; caller owns it), or NULL. */
sip_msg_t *pcscf_dialog_bye(const pcscf_dialog_t *d, int side, const char *why);
/* Remove and free d (its policy session released through ctx->policy_hooks). */
void pcscf_dialog_remove(pcscf_dialog_t *d);
/* The record's key "o|Call-ID|caller tag" / "t|...", and the record of a key. */
const char *pcscf_dialog_key(const pcscf_dialog_t *d);
pcscf_dialog_t *pcscf_dialog_by_key(const pcscf_ctx_t *ctx, const char *key);
size_t pcscf_dialog_count(const pcscf_ctx_t *ctx);

/* The stored strings (NUL-terminated, owned by d; "" when absent). */
const char *pcscf_dialog_call_id(const pcscf_dialog_t *d);
const char *pcscf_dialog_tag(const pcscf_dialog_t *d, int side);
const char *pcscf_dialog_impu(const pcscf_dialog_t *d);
const char *pcscf_dialog_target(const pcscf_dialog_t *d, int side);
/* The i-th route toward side (nearest first), NULL beyond d->nroute[side]. */
const char *pcscf_dialog_route(const pcscf_dialog_t *d, int side, size_t i);

#endif
