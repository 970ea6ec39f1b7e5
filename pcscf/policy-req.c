/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The policy client and the requests of a call (the context's on_request
 * hook), with what a leg must remember between messages (policy-int.h).
 *
 * Preconditions (RFC 3312; TS 24.229 §5.2.7.2, TS 29.213 §6.2). An initial
 * INVITE whose offer wants resources as a mandatory precondition that are
 * not there yet (pcscf_sdp_needs_resources) cannot wait for the answer: the
 * callee does not alert until the bearer is up. So the P-CSCF asks on the
 * offer, for the leg of its UE on this hop (the caller's when the INVITE came
 * from it, the callee's when it goes to it), with the offer's side known and
 * the other end "any" (Service-Info-Status PRELIMINARY on Rx). The INVITE is
 * not held: the bearer is set up while the call proceeds. The answer (183)
 * then updates the session with the final components (policy-sip.c); a
 * refused preliminary request fails nothing: the answer's request decides.
 * A preliminary session without a dialog record yet is ended with the
 * INVITE's final error response, or after PCSCF_DLG_EARLY_MS when none came
 * through us (the proxy core answering 408 itself, e.g.).
 *
 * Late offer (RFC 3261 §13.2.1, RFC 3262). An INVITE without SDP gets the
 * offer in a reliable 18x (answered in the PRACK) or in the 2xx (answered in
 * the ACK). policy-sip.c keeps such an offer per leg; the PRACK or ACK with
 * SDP answers it, and the session is asked for then, asynchronously: a PRACK
 * or ACK is not a response we could hold (the INVITE's responses arriving
 * meanwhile are held behind the request, policy-sip.c). A refusal then
 * releases a confirmed call with BYE to both sides, and dooms an early one:
 * its next INVITE response is held and the INVITE failed (488/503, the
 * callee CANCELled by the proxy core's hold).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "pcscf/policy-int.h"
#include "pcscf/sdp.h"

#define ICID_MAX 128
#define WHY_MAX 64

typedef struct leg {
    pcscf_psip_t *ps;
    char *key;                      /* the hash's key, copied */
    char *offer;                    /* an offer from a response, waiting for its answer */
    size_t offer_len;
    bool ue_offered;
    char icid[ICID_MAX];            /* of the INVITE that offer answered */
    int doom;                       /* the code an early call is failed with; 0 none */
    char why[WHY_MAX];
    uint64_t doom_pr;               /* the proxy request held for it, 0 none */
    bool doom_2xx;
    uint32_t doom_cseq;
    char doom_tag[64];
    ims_timer_t timer;              /* doom: 0 ms; preliminary: its dialog record's limit */
} leg_t;

/* A doomed call's held response is let go with the doom (the record went
 * first: its call ends anyway). */
static void undoom(leg_t *l)
{
    pcscf_ctx_t *ctx = l->ps->ctx;
    sip_proxy_req_t *pr = l->doom_pr && ctx->px ? sip_proxy_req_find(ctx->px, l->doom_pr) : NULL;

    l->doom_pr = 0;
    if (pr)
        sip_proxy_resume_retry(pr, l->doom, l->why, l->doom == 503 ? l->ps->retry_after_s : 0);
}

static void leg_free(leg_t *l)
{
    undoom(l);
    if (l->ps->ctx->loop)
        ims_timer_stop(l->ps->ctx->loop, &l->timer);
    ims_hash_remove(l->ps->legs, l->key);
    free(l->key);
    free(l->offer);
    free(l);
}

static leg_t *leg_get(pcscf_psip_t *ps, const char *key, bool create)
{
    leg_t *l = ims_hash_find(ps->legs, key);

    if (l || !create)
        return l;
    if (!(l = calloc(1, sizeof(*l))) || !(l->key = strdup(key)))
        abort();
    l->ps = ps;
    ims_timer_init(&l->timer);
    if (ims_hash_insert(ps->legs, key, l) != IMS_OK)
        abort();
    return l;
}

static void free_one(void *arg, const char *key, void *value)
{
    leg_t *l = value;

    undoom(l);
    if (l->ps->ctx->loop)
        ims_timer_stop(l->ps->ctx->loop, &l->timer);
    free(l->key);
    free(l->offer);
    free(l);
}

void pcscf_psip_leg_gone(pcscf_psip_t *ps, const char *key)
{
    leg_t *l;

    if (key) {
        if ((l = leg_get(ps, key, false)) != NULL)
            leg_free(l);
        return;
    }
    ims_hash_foreach(ps->legs, free_one, NULL);
    ims_hash_free(ps->legs);
    if (!(ps->legs = ims_hash_new(256)))
        abort();
}

/* "o|Call-ID|caller tag" / "t|...", the key of pcscf/dialog.c; NULL when too long. */
static const char *leg_key(char *buf, size_t len, int dir, const char *cid, const char *tag)
{
    int n = snprintf(buf, len, "%c|%s|%s", dir == PCSCF_DLG_TERM ? 't' : 'o', cid, tag);

    return n > 0 && (size_t)n < len ? buf : NULL;
}

/* ---- preliminary sessions: an offer with preconditions ---- */

/* Whether body (an offer) wants resources before its answer. */
static bool needs_resources(const char *body, size_t len)
{
    pcscf_sdp_t *sdp = malloc(sizeof(*sdp));
    bool yes;

    if (!sdp)
        abort();
    yes = pcscf_sdp_parse(body, len, sdp, NULL) == IMS_OK && pcscf_sdp_needs_resources(sdp);
    free(sdp);
    return yes;
}

/* The UE an initial request from the network goes to: the one registered
 * from the address its Request-URI (the contact) resolves to. */
static pcscf_ue_t *target_ue(const pcscf_ctx_t *ctx, const sip_msg_t *req, sip_addr_t *at)
{
    char key[PCSCF_KEY_LEN];
    sip_rcv_t rcv;
    sip_dest_t dst;

    if (!ctx->px || osip_list_size(&req->m->routes) != 0 ||
        sip_proxy_resolve(ctx->px, req->m->req_uri, &dst) != IMS_OK)
        return NULL;
    memset(&rcv, 0, sizeof(rcv));
    rcv.proto = dst.proto;
    rcv.remote = dst.addr;
    *at = dst.addr;
    return pcscf_ue_find_addr(ctx, pcscf_addr_key(&rcv, key, sizeof(key)));
}

/* A preliminary session has no dialog record to end with until a 1xx with a
 * tag or a 2xx comes: this limit ends it when none came. */
static void on_orphan(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    leg_t *l = arg;
    pcscf_psip_t *ps = l->ps;
    pcscf_policy_sess_t *s;

    if (pcscf_dialog_by_key(ps->ctx, l->key)) {
        if (!l->offer && !l->doom)
            leg_free(l);    /* the record took over */
        return;
    }
    if ((s = pcscf_policy_find(ps->pc, l->key)) != NULL) {
        IMS_NOTICE("policy %s: no dialog after %u ms: preliminary session ended", l->key,
                   PCSCF_DLG_EARLY_MS);
        pcscf_policy_release(s);
    }
    leg_free(l);
}

static void offer_time(pcscf_psip_t *ps, const sip_msg_t *req, bool from_ue)
{
    pcscf_ctx_t *ctx = ps->ctx;
    const char *body, *cid = sip_msg_call_id(req), *ftag = sip_msg_from_tag(req);
    char key[PCSCF_DLG_MAX_BYTES], ip[64], icid[ICID_MAX];
    rx_media_comp_t *comps;
    pcscf_psip_ask_t a;
    pcscf_ue_t *ue;
    sip_addr_t at;
    size_t len;
    leg_t *l;

    if (!cid || !ftag || !pcscf_psip_sdp(req, &body, &len) || !needs_resources(body, len))
        return;
    if (from_ue) {
        ue = pcscf_ue_find_addr(ctx, pcscf_addr_key(&req->rcv, key, sizeof(key)));
        at = req->rcv.remote;
    } else {
        ue = target_ue(ctx, req, &at);
    }
    if (!ue || !leg_key(key, sizeof(key), from_ue ? PCSCF_DLG_ORIG : PCSCF_DLG_TERM, cid, ftag))
        return;
    if (!(comps = malloc(sizeof(*comps) * RX_MAX_MEDIA)))
        abort();
    memset(&a, 0, sizeof(a));
    a.nmedia = pcscf_psip_components(key, body, len, NULL, 0, from_ue, comps);
    a.key = key;
    a.ue = ue;
    a.ue_ip = pcscf_psip_ip(&at, ip, sizeof(ip));
    a.icid = pcscf_psip_icid(req, icid, sizeof(icid));
    a.media = comps;
    a.preliminary = true;
    if (a.nmedia > 0 && pcscf_psip_ask(ps, &a) && !pcscf_dialog_by_key(ctx, key) && ctx->loop) {
        l = leg_get(ps, key, true);
        ims_timer_start(ctx->loop, &l->timer, PCSCF_DLG_EARLY_MS, on_orphan, l);
    }
    free(comps);
}

void pcscf_psip_invite_failed(pcscf_psip_t *ps, const sip_msg_t *req)
{
    const char *cid = sip_msg_call_id(req), *ftag = sip_msg_from_tag(req);
    char key[PCSCF_DLG_MAX_BYTES];
    pcscf_policy_sess_t *s;

    for (int dir = PCSCF_DLG_ORIG; cid && ftag && dir <= PCSCF_DLG_TERM; dir++) {
        if (!leg_key(key, sizeof(key), dir, cid, ftag) || pcscf_dialog_by_key(ps->ctx, key))
            continue;   /* a record ends its session itself */
        pcscf_psip_leg_gone(ps, key);
        if ((s = pcscf_policy_find(ps->pc, key)) != NULL && !s->pr_id)
            pcscf_policy_release(s);
    }
}

/* ---- late offers: the answer in a PRACK or ACK ---- */

void pcscf_psip_offer_seen(pcscf_psip_t *ps, const char *key, const char *body, size_t len,
                           bool ue_offered, const char *icid)
{
    leg_t *l = leg_get(ps, key, true);

    free(l->offer);
    if (!(l->offer = malloc(len)))
        abort();
    memcpy(l->offer, body, len);
    l->offer_len = len;
    l->ue_offered = ue_offered;
    snprintf(l->icid, sizeof(l->icid), "%s", icid ? icid : "");
    IMS_DEBUG("policy %s: offer in a response, kept for its answer", key);
}

/* The answer body in req for leg d, whose offer l keeps (consumed). */
static void late_answer(pcscf_psip_t *ps, pcscf_dialog_t *d, leg_t *l, const char *body,
                        size_t len)
{
    rx_media_comp_t *comps = malloc(sizeof(*comps) * RX_MAX_MEDIA);
    pcscf_psip_ask_t a;
    char ip[64];

    if (!comps)
        abort();
    memset(&a, 0, sizeof(a));
    a.key = pcscf_dialog_key(d);
    a.nmedia = pcscf_psip_components(a.key, l->offer, l->offer_len, body, len, l->ue_offered,
                                     comps);
    free(l->offer);
    l->offer = NULL;
    a.ue = d->ue;
    a.ue_ip = pcscf_psip_ip(&d->ue_dst.addr, ip, sizeof(ip));
    a.icid = l->icid;
    a.media = comps;
    if (a.nmedia >= 0)
        pcscf_psip_ask(ps, &a);
    free(comps);
}

static void answer_in_request(pcscf_psip_t *ps, const sip_msg_t *req, bool from_ue)
{
    const char *cid = sip_msg_call_id(req), *ftag = sip_msg_from_tag(req);
    const char *ttag = sip_msg_to_tag(req), *body;
    pcscf_dialog_t *d;
    size_t len;
    leg_t *l;

    if (!cid || !ftag || !ttag || !pcscf_psip_sdp(req, &body, &len))
        return;
    /* As dialog.c tells legs: from a UE the caller's tag is From's in "o". */
    for (int dir = PCSCF_DLG_ORIG; dir <= PCSCF_DLG_TERM; dir++) {
        bool orig = dir == PCSCF_DLG_ORIG;

        d = pcscf_dialog_get(ps->ctx, (pcscf_dlg_dir_t)dir, cid, orig == from_ue ? ftag : ttag);
        if (d && (l = leg_get(ps, pcscf_dialog_key(d), false)) != NULL && l->offer)
            late_answer(ps, d, l, body, len);
    }
}

void pcscf_psip_on_request(pcscf_ctx_t *ctx, const sip_msg_t *req, bool from_ue)
{
    pcscf_psip_t *ps = pcscf_psip_of(ctx);
    const char *m = sip_msg_method(req);

    if (!ps || !m)
        return;
    if (strcmp(m, "INVITE") == 0 && !sip_msg_to_tag(req))
        offer_time(ps, req, from_ue);
    else if (strcmp(m, "PRACK") == 0 || strcmp(m, "ACK") == 0)
        answer_in_request(ps, req, from_ue);
}

/* ---- doomed early calls ---- */

void pcscf_psip_doom(pcscf_psip_t *ps, const char *key, int code, const char *why)
{
    leg_t *l = leg_get(ps, key, true);

    l->doom = code;
    snprintf(l->why, sizeof(l->why), "%s", why);
    IMS_NOTICE("policy %s: refused with nothing held: the call fails at its next response (%d)",
               key, code);
}

static void on_doom(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    leg_t *l = arg;
    pcscf_psip_t *ps = l->ps;
    pcscf_dialog_t *d = pcscf_dialog_by_key(ps->ctx, l->key);
    char why[WHY_MAX], tag[64];
    uint64_t pr_id = l->doom_pr;

    if (!d) {
        leg_free(l);    /* fails what it holds */
        return;
    }
    snprintf(why, sizeof(why), "%s", l->why);
    snprintf(tag, sizeof(tag), "%s", l->doom_tag);
    l->doom_pr = 0;     /* the record's going frees l (dialog_gone) */
    pcscf_psip_fail_call(ps, d, pr_id, l->doom_2xx, l->doom_cseq, tag, l->doom, why);
}

bool pcscf_psip_doomed(pcscf_psip_t *ps, sip_proxy_req_t *pr, const sip_msg_t *req,
                       const sip_msg_t *resp, const pcscf_dialog_t *d)
{
    leg_t *l = leg_get(ps, pcscf_dialog_key(d), false);
    int code = sip_msg_status(resp);

    if (!l || !l->doom || strcmp(sip_msg_cseq_method(resp), "INVITE") != 0)
        return false;
    if (l->doom_pr) {
        l->doom_2xx |= l->doom_pr == sip_proxy_req_id(pr) && code >= 200;
        return true;
    }
    if (!ps->ctx->loop || sip_proxy_hold(pr) != IMS_OK)
        return false;
    l->doom_pr = sip_proxy_req_id(pr);
    l->doom_2xx = code >= 200;
    l->doom_cseq = sip_msg_cseq_num(req);
    snprintf(l->doom_tag, sizeof(l->doom_tag), "%s", sip_msg_from_tag(req));
    /* Not from inside on_response: the core forwards what it holds after it. */
    ims_timer_start(ps->ctx->loop, &l->timer, 0, on_doom, l);
    return true;
}
