/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy_client wired into the P-CSCF's calls and registrations (TS 24.229
 * §5.2.7, §5.2.8; see policy.h for the SIP outcome of a refusal).
 *
 * When. A 18x or 2xx to an INVITE (initial or re-INVITE), or a 2xx to an
 * UPDATE or PRACK, that carries an SDP answer to a request that carried the
 * offer, is the moment the media is known: its components (pcscf_sdp_to_rx,
 * offer from the request as forwarded, answer from the response) are sent for
 * each leg of ours the dialog belongs to (dialog.c made or confirmed the
 * record just before), and the response is HELD (sip_proxy_hold) until the
 * answer comes back: the caller never sees media the network has not
 * authorised. The same components again (a 200 repeating the 183's answer, a
 * retransmission) send nothing. The other moments are policy-req.c's: the
 * offer of an INVITE with preconditions (preliminary, before any answer), and
 * an offer in a 18x or 2xx (kept here) answered in the PRACK or ACK.
 *
 * Behind a request. While a request of a leg is out and holds nothing (the
 * preliminary one, or one from a PRACK/ACK), the leg's next INVITE response
 * is held behind it; a response carrying a new answer meanwhile has its
 * components queued (policy.h), and what is held waits for that request's
 * result too. The latest media is what counts.
 *
 * Who. The session of a leg has the leg's key (dialog.h); the UE is the leg's
 * (its registered address as Framed-IP, its default IMPU, the backend its
 * access type chose: policy-cfg.c), and it made the offer when the request
 * came from its side (its tag in From).
 *
 * End. The session ends with its dialog record: pcscf_dialog_remove calls
 * dialog_gone, whatever the reason (BYE final, error final or CANCEL to the
 * INVITE, the early give-up timer, de-registration); a preliminary session
 * whose INVITE fails before any dialog record ends with the final response. A
 * registration's signalling session starts after the 2xx of its first
 * REGISTER and ends with the UE. A network release (ASR, RAR loss/release of
 * bearer) of a call sends BYE to both sides; of the signalling session,
 * releases every call of the UE (the registration itself stays: the S-CSCF
 * owns it).
 *
 * Refusals with nothing held (a PRACK's or ACK's answer is not a response we
 * can hold): a confirmed call gets BYE on both sides (Reason cause 488/503);
 * an early one is doomed (policy-req.c): its next INVITE response is held and
 * the INVITE failed with the code, the callee CANCELled by the proxy core.
 *
 * Ids: the held request is found again by sip_proxy_req_find(pr_id); the
 * session by its key or its ticket (policy.c); a session going while it holds
 * a response lets the queue go on (resume 0), so no hold outlives its session.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "pcscf/diagnose.h"
#include "pcscf/policy-int.h"
#include "pcscf/sdp.h"

#define ICID_MAX 128

/* ---- helpers ---- */

const char *pcscf_psip_ip(const sip_addr_t *a, char *buf, size_t len)
{
    const void *p = a->ss.ss_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)&a->ss)->sin_addr;

    if (!inet_ntop(a->ss.ss_family, p, buf, (socklen_t)len))
        buf[0] = '\0';
    return buf;
}

bool pcscf_psip_sdp(const sip_msg_t *m, const char **p, size_t *n)
{
    osip_content_type_t *ct = osip_message_get_content_type(m->m);
    osip_body_t *b = NULL;

    if (!ct || !ct->type || !ct->subtype || strcasecmp(ct->type, "application") != 0 ||
        strcasecmp(ct->subtype, "sdp") != 0)
        return false;
    if (osip_message_get_body(m->m, 0, &b) < 0 || !b || !b->body || b->length == 0)
        return false;
    *p = b->body;
    *n = b->length;
    return true;
}

const char *pcscf_psip_icid(const sip_msg_t *m, char *buf, size_t len)
{
    const char *v = m ? sip_msg_header(m, "P-Charging-Vector") : NULL, *s;
    size_t n;

    buf[0] = '\0';
    if (!v || !(s = strstr(v, "icid-value=")))
        return buf;
    s += strlen("icid-value=");
    s += *s == '"';
    n = strcspn(s, "\";, \t");
    if (n < len)
        snprintf(buf, len, "%.*s", (int)n, s);
    return buf;
}

static uint64_t fnv64(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;

    while (n--)
        h = (h ^ *b++) * 1099511628211ull;
    return h ? h : 1;
}

/* Let what s holds go (code 0) or fail it (code >= 300, Retry-After on 503). */
static void resume(pcscf_psip_t *ps, pcscf_policy_sess_t *s, int code, const char *reason)
{
    pcscf_ctx_t *ctx = ps->ctx;
    sip_proxy_req_t *pr = s->pr_id && ctx->px ? sip_proxy_req_find(ctx->px, s->pr_id) : NULL;

    s->pr_id = 0;
    s->held_2xx = false;
    if (pr && sip_proxy_resume_retry(pr, code, reason, code == 503 ? ps->retry_after_s : 0) !=
                  IMS_OK)
        IMS_WARN("policy %s: nothing held to resume", s->key);
}

/* ---- asking ---- */

typedef struct work {
    pcscf_sdp_t offer, answer;
} work_t;

int pcscf_psip_components(const char *key, const char *offer, size_t no, const char *answer,
                          size_t na, bool ue_offered, rx_media_comp_t *comps)
{
    pcscf_sdp_flow_opts_t opts = { ue_offered, false };
    work_t *w = malloc(sizeof(*w));
    const char *why = NULL;
    int n = -1;

    if (!w)
        abort();
    if (pcscf_sdp_parse(offer, no, &w->offer, &why) != IMS_OK ||
        (answer && pcscf_sdp_parse(answer, na, &w->answer, &why) != IMS_OK)) {
        IMS_NOTICE("policy %s: SDP not understood (%s): not authorised", key, why ? why : "?");
        free(w);
        return -1;
    }
    memset(comps, 0, sizeof(*comps) * RX_MAX_MEDIA);
    n = pcscf_sdp_to_rx(&w->offer, answer ? &w->answer : NULL, &opts, comps, RX_MAX_MEDIA);
    if (n < 0)
        IMS_NOTICE("policy %s: offer and answer do not match (or more than %d media)", key,
                   RX_MAX_MEDIA);
    free(w);
    return n;
}

pcscf_policy_sess_t *pcscf_psip_ask(pcscf_psip_t *ps, const pcscf_psip_ask_t *a)
{
    int backend = pcscf_psip_backend_of(ps, a->ue);
    pcscf_policy_sess_t *s = pcscf_policy_find(ps->pc, a->key);
    uint64_t hash = fnv64(a->media, sizeof(a->media[0]) * (size_t)a->nmedia);
    bool now = !s || !s->ticket;
    pcscf_policy_req_t q;

    if (!s && backend < 0) {
        IMS_DEBUG("policy %s: no policy for the access type of %s", a->key,
                  pcscf_ue_impu(a->ue, 0));
        return NULL;
    }
    if (s && s->media_hash == hash)
        return NULL;    /* authorised (or asked) as it is */
    memset(&q, 0, sizeof(q));
    q.impu = pcscf_ue_impu(a->ue, 0);
    q.ue_ip = a->ue_ip;
    q.icid = a->icid ? a->icid : "";
    q.media = a->media;
    q.nmedia = a->nmedia;
    q.preliminary = a->preliminary;
    q.backend = backend;
    q.queue = true;
    if (!(s = pcscf_policy_authorize(ps->pc, a->key, &q)))
        return NULL;    /* table full: logged; the call goes on */
    s->media_hash = hash;
    if (now)
        s->prelim = a->preliminary;
    IMS_INFO("policy %s: %s for %s over %s (%d media)", a->key,
             !now ? "queued" : q.update ? "update" : a->preliminary ? "preliminary" : "authorise",
             q.impu, pcscf_policy_sess_backend(s), a->nmedia);
    return s;
}

/* ---- answers in responses ---- */

/*
 * The legs of ours (at most one per direction) a request with these tags is
 * in, whose UE is on this hop (sent req or resp): when both UEs of a call sit
 * behind this P-CSCF, the answer passes twice, and each pass authorises its
 * own UE's leg.
 */
static size_t find_legs(const pcscf_ctx_t *ctx, const sip_msg_t *req, const sip_msg_t *resp,
                        const char *t1, const char *t2, pcscf_dialog_t *out[2])
{
    const char *cid = sip_msg_call_id(req);
    size_t n = 0;

    for (int dir = PCSCF_DLG_ORIG; dir <= PCSCF_DLG_TERM; dir++) {
        for (int k = 0; k < 2; k++) {
            const char *tag = k ? t2 : t1, *other = k ? t1 : t2;
            pcscf_dialog_t *d = pcscf_dialog_get(ctx, (pcscf_dlg_dir_t)dir, cid, tag);
            const char *callee;

            if (!d || (!sip_addr_equal(&d->ue_dst.addr, &req->rcv.remote) &&
                       !sip_addr_equal(&d->ue_dst.addr, &resp->rcv.remote)))
                continue;
            callee = pcscf_dialog_tag(d, PCSCF_DLG_CALLEE);
            if (!*callee || (other && strcmp(callee, other) == 0)) {
                out[n++] = d;
                break;
            }
        }
    }
    return n;
}

/* Whether d's UE sent req (its tag in From). */
static bool ue_sent(const pcscf_dialog_t *d, const sip_msg_t *req)
{
    int ue_side = d->dir == PCSCF_DLG_ORIG ? PCSCF_DLG_CALLER : PCSCF_DLG_CALLEE;
    const char *ftag = sip_msg_from_tag(req);

    return ftag && strcmp(ftag, pcscf_dialog_tag(d, ue_side)) == 0;
}

/* Hold resp (of pr, to req) for s's pending request, unless s holds already. */
static void take_hold(pcscf_policy_sess_t *s, sip_proxy_req_t *pr, const sip_msg_t *req,
                      int code)
{
    if (s->pr_id == sip_proxy_req_id(pr)) {
        s->held_2xx |= code >= 200;     /* queued behind our hold: its fate is the answer's */
        return;
    }
    if (s->pr_id || sip_proxy_hold(pr) != IMS_OK)
        return;
    s->pr_id = sip_proxy_req_id(pr);
    s->held_2xx = code >= 200;
    s->cseq = sip_msg_cseq_num(req);
    snprintf(s->req_tag, sizeof(s->req_tag), "%s", sip_msg_from_tag(req));
}

static void leg_answer(pcscf_psip_t *ps, sip_proxy_req_t *pr, const sip_msg_t *req,
                       const sip_msg_t *resp, pcscf_dialog_t *d, rx_media_comp_t *comps)
{
    const char *key = pcscf_dialog_key(d), *po = NULL, *pa = NULL;
    bool invite = strcmp(sip_msg_cseq_method(resp), "INVITE") == 0;
    bool offer, answer;
    pcscf_policy_sess_t *s = pcscf_policy_find(ps->pc, key);
    int code = sip_msg_status(resp);
    size_t no = 0, na = 0;
    char ip[64], icid[ICID_MAX];
    pcscf_psip_ask_t a;

    if (pcscf_psip_doomed(ps, pr, req, resp, d))
        return;
    offer = pcscf_psip_sdp(req, &po, &no);
    answer = pcscf_psip_sdp(resp, &pa, &na);
    if (invite && answer && !offer)     /* the offer is the response's: answered in PRACK/ACK */
        pcscf_psip_offer_seen(ps, key, pa, na, !ue_sent(d, req),
                              pcscf_psip_icid(req, icid, sizeof(icid)));
    if (s && s->ticket && (invite || (offer && answer)))
        take_hold(s, pr, req, code);    /* behind a request of ours */
    if (!offer || !answer)
        return;
    if ((a.nmedia = pcscf_psip_components(key, po, no, pa, na, ue_sent(d, req), comps)) < 0)
        return;
    a.key = key;
    a.ue = d->ue;
    a.ue_ip = pcscf_psip_ip(&d->ue_dst.addr, ip, sizeof(ip));
    a.icid = pcscf_psip_icid(req, icid, sizeof(icid));
    a.media = comps;
    a.preliminary = false;
    if ((s = pcscf_psip_ask(ps, &a)) != NULL)
        take_hold(s, pr, req, code);
}

static void on_response(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    pcscf_psip_t *ps = pcscf_psip_of(ctx);
    const sip_msg_t *req = sip_proxy_req_msg(pr);
    const char *m = sip_msg_cseq_method(resp), *ttag;
    int code = sip_msg_status(resp);
    bool invite = m && strcmp(m, "INVITE") == 0;
    rx_media_comp_t *comps;
    pcscf_dialog_t *legs[2];
    size_t n;

    if (!ps || !req || !m || !sip_msg_from_tag(req))
        return;
    if (invite && code >= 300 && !sip_msg_to_tag(req))
        pcscf_psip_invite_failed(ps, req);
    if (code < 180 || code >= 300 ||
        (!invite && (code < 200 || (strcmp(m, "UPDATE") != 0 && strcmp(m, "PRACK") != 0))))
        return;
    ttag = sip_msg_to_tag(req) ? sip_msg_to_tag(req) : sip_msg_to_tag(resp);
    if (!ttag || !(n = find_legs(ctx, req, resp, sip_msg_from_tag(req), ttag, legs)))
        return;
    if (!(comps = malloc(sizeof(*comps) * RX_MAX_MEDIA)))
        abort();
    for (size_t i = 0; i < n; i++)
        leg_answer(ps, pr, req, resp, legs[i], comps);
    free(comps);
}

/* ---- results and releases ---- */

/* For imsctl diagnose (diagnose.h): the call d (may be NULL) failed (code). */
static void diag_call(pcscf_ctx_t *ctx, const pcscf_policy_sess_t *s, const pcscf_dialog_t *d,
                      int kind, uint32_t code, const pcscf_policy_result_t *res)
{
    char detail[96];

    if (!ctx->diag_hooks || !d)
        return;
    snprintf(detail, sizeof(detail), "%s %s, cause %u (call %.40s)",
             pcscf_policy_sess_backend(s), pcscf_policy_outcome_name(res->outcome),
             res->cause, pcscf_dialog_call_id(d));
    ctx->diag_hooks->impu(ctx, pcscf_dialog_impu(d), kind, code, detail);
}

void pcscf_psip_fail_call(pcscf_psip_t *ps, pcscf_dialog_t *d, uint64_t pr_id, bool held_2xx,
                          uint32_t cseq, const char *req_tag, int code, const char *why)
{
    pcscf_ctx_t *ctx = ps->ctx;
    sip_proxy_req_t *pr = pr_id && ctx->px ? sip_proxy_req_find(ctx->px, pr_id) : NULL;
    int responder = PCSCF_DLG_CALLER;

    if (pr && sip_proxy_resume_retry(pr, code, why, code == 503 ? ps->retry_after_s : 0) !=
                  IMS_OK)
        IMS_WARN("policy: call %s: nothing held to fail", d ? pcscf_dialog_call_id(d) : "?");
    if (!d)
        return;
    if (strcmp(req_tag, pcscf_dialog_tag(d, PCSCF_DLG_CALLER)) == 0)
        responder = PCSCF_DLG_CALLEE;
    if (held_2xx) {     /* the dropped 2xx left a confirmed dialog at the responder */
        pcscf_dialog_send(d, responder, "ACK", cseq, 0, NULL);
        pcscf_dialog_send(d, responder, "BYE", 0, code, why);
    }
    ctx->stats.dialogs_ended++;
    IMS_INFO("dialog %s (%s) failed %d: %s (%zu dialogs)", pcscf_dialog_call_id(d),
             pcscf_dialog_impu(d), code, why, pcscf_dialog_count(ctx) - 1);
    pcscf_dialog_remove(d);
}

/* A confirmed call whose answer could not be held (ACK): BYE to both sides. */
static void bye_both(pcscf_psip_t *ps, pcscf_dialog_t *d, int code, const char *why)
{
    pcscf_ctx_t *ctx = ps->ctx;
    int n = pcscf_dialog_send(d, PCSCF_DLG_CALLER, "BYE", 0, code, why) +
            pcscf_dialog_send(d, PCSCF_DLG_CALLEE, "BYE", 0, code, why);

    ctx->stats.dialogs_released++;
    IMS_INFO("dialog %s (%s) released: %s, %d BYEs sent (%zu dialogs)", pcscf_dialog_call_id(d),
             pcscf_dialog_impu(d), why, n, pcscf_dialog_count(ctx) - 1);
    pcscf_dialog_remove(d);
}

static void refused(pcscf_psip_t *ps, pcscf_policy_sess_t *s, bool update,
                    const pcscf_policy_result_t *res)
{
    bool reject = res->outcome == PCSCF_POLICY_REJECTED, held_2xx = s->held_2xx;
    int code = reject ? 488 : 503;
    const char *why = reject ? "Not Acceptable Here - Policy" : "Service Unavailable - Policy";
    pcscf_dialog_t *d = pcscf_dialog_by_key(ps->ctx, s->key);
    uint64_t pr_id = s->pr_id;

    diag_call(ps->ctx, s, d, reject ? PCSCF_DIAG_POLICY_REFUSED : PCSCF_DIAG_POLICY_FAILED,
              (uint32_t)code, res);
    if (update) {
        resume(ps, s, code, why);
        if (d && held_2xx)
            pcscf_dialog_send(d, strcmp(s->req_tag, pcscf_dialog_tag(d, PCSCF_DLG_CALLER)) == 0
                                     ? PCSCF_DLG_CALLEE : PCSCF_DLG_CALLER,
                              "ACK", s->cseq, 0, NULL);
        if (d)
            pcscf_dialog_release(d, why);   /* BYE to both, STR */
        return;
    }
    s->pr_id = 0;
    s->held_2xx = false;
    if (!pr_id && d && d->state == PCSCF_DLG_CONFIRMED)
        bye_both(ps, d, code, why);     /* the answer came in the ACK: nothing to hold */
    else if (!pr_id && d)
        pcscf_psip_doom(ps, s->key, code, why);
    else
        pcscf_psip_fail_call(ps, d, pr_id, held_2xx, s->cseq, s->req_tag, code, why);
}

static void on_result(void *arg, pcscf_policy_sess_t *s, bool update,
                      const pcscf_policy_result_t *res)
{
    pcscf_psip_t *ps = arg;
    bool prelim = s->prelim, answered = s->authorised;

    s->prelim = false;
    if (res->outcome == PCSCF_POLICY_OK) {
        s->authorised |= !prelim;
        IMS_INFO("policy %s: %s%s", s->key, prelim ? "preliminary " : "",
                 update ? "update authorised" : "authorised");
        if (!pcscf_policy_queued(s))
            resume(ps, s, 0, NULL);
        return;
    }
    IMS_NOTICE("policy %s: %s%s %s (cause %u)", s->key, prelim ? "preliminary " : "",
               update ? "update" : "authorisation", pcscf_policy_outcome_name(res->outcome),
               res->cause);
    if (pcscf_policy_queued(s) || s->signalling)
        return;     /* the change queued decides; a registration stays (policy.c) */
    if (prelim || (answered && res->outcome != PCSCF_POLICY_REJECTED)) {
        resume(ps, s, 0, NULL);     /* the answer decides; the call keeps what it had */
        return;
    }
    refused(ps, s, answered, res);
}

static void on_release(void *arg, pcscf_policy_sess_t *s, const char *why)
{
    pcscf_ctx_t *ctx = ((pcscf_psip_t *)arg)->ctx;
    pcscf_dialog_t *d;
    pcscf_ue_t *ue;

    if (s->signalling) {
        if ((ue = pcscf_ue_find_addr(ctx, s->key + 2)) != NULL)
            pcscf_dialogs_release(ctx, ue, why);
        return;
    }
    if ((d = pcscf_dialog_by_key(ctx, s->key)) != NULL) {
        if (ctx->diag_hooks)
            ctx->diag_hooks->impu(ctx, pcscf_dialog_impu(d), PCSCF_DIAG_POLICY_RELEASED, 0,
                                  why);
        pcscf_dialog_release(d, why);
    }
}

static void dialog_gone(pcscf_ctx_t *ctx, const char *key)
{
    pcscf_psip_t *ps = pcscf_psip_of(ctx);
    pcscf_policy_sess_t *s = ps ? pcscf_policy_find(ps->pc, key) : NULL;

    if (!ps)
        return;
    pcscf_psip_leg_gone(ps, key);
    if (!s)
        return;
    resume(ps, s, 0, NULL);    /* a hold never outlives its session */
    pcscf_policy_release(s);
}

/* ---- registrations ---- */

static const char *sig_key(const pcscf_ue_t *ue, char *buf, size_t len)
{
    snprintf(buf, len, "r|%s", pcscf_ue_key(ue));
    return buf;
}

static void registered(pcscf_ctx_t *ctx, pcscf_ue_t *ue, const sip_msg_t *req, bool is_new)
{
    pcscf_psip_t *ps = pcscf_psip_of(ctx);
    char key[PCSCF_KEY_LEN + 4], uip[64], pip[64];
    rx_media_comp_t comp;
    pcscf_policy_req_t q;

    if (!ps)
        return;
    /* TS 24.229 §7.2A.4: the access-type the UE is on picks its backend. */
    ue->policy_access = pcscf_psip_access_of(ps, sip_msg_header(req, "P-Access-Network-Info"));
    if (pcscf_policy_find(ps->pc, sig_key(ue, key, sizeof(key))) ||
        pcscf_psip_backend_of(ps, ue) < 0)
        return;     /* a refresh: the signalling path is authorised already */
    memset(&comp, 0, sizeof(comp));
    if (pcscf_sdp_signalling_comp(pcscf_psip_ip(&req->rcv.remote, uip, sizeof(uip)),
                                  sip_addr_port(&req->rcv.remote),
                                  pcscf_psip_ip(&req->rcv.local, pip, sizeof(pip)),
                                  sip_addr_port(&req->rcv.local),
                                  req->rcv.proto == SIP_PROTO_UDP ? 17 : 6, &comp) != IMS_OK) {
        IMS_NOTICE("policy %s: no signalling flow to describe", key);
        return;
    }
    memset(&q, 0, sizeof(q));
    q.signalling = true;
    q.impu = pcscf_ue_impu(ue, 0);
    q.ue_ip = uip;
    q.media = &comp;
    q.nmedia = 1;
    q.backend = pcscf_psip_backend_of(ps, ue);
    if (pcscf_policy_authorize(ps->pc, key, &q))
        IMS_INFO("policy %s: signalling path of %s over %s%s", key, q.impu,
                 pcscf_policy_backend_at(ps->pc, (size_t)q.backend),
                 is_new ? "" : " (registered before the policy session)");
}

static void ue_gone(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    pcscf_psip_t *ps = pcscf_psip_of(ctx);
    char key[PCSCF_KEY_LEN + 4];
    pcscf_policy_sess_t *s = ps ? pcscf_policy_find(ps->pc, sig_key(ue, key, sizeof(key)))
                                : NULL;

    if (s)
        pcscf_policy_release(s);
}

const pcscf_policy_hooks_t pcscf_psip_hooks = {
    .on_response = on_response,
    .registered = registered,
    .ue_gone = ue_gone,
    .dialog_gone = dialog_gone,
    .on_request = pcscf_psip_on_request,
};

const pcscf_policy_owner_t pcscf_psip_owner = {
    .on_result = on_result,
    .on_release = on_release,
};
