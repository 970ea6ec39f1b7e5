/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy_client wired into the P-CSCF's calls and registrations (TS 24.229
 * §5.2.7, §5.2.8; see policy.h for the SIP outcome of a refusal).
 *
 * When. A 18x or 2xx to an INVITE (initial or re-INVITE) or a 2xx to an UPDATE
 * that carries an SDP answer, to a request that carried the offer, is the
 * moment the media is known: its components (pcscf_sdp_to_rx, offer from the
 * request as forwarded, answer from the response) are sent for each leg of
 * ours the dialog belongs to (dialog.c made or confirmed the record just
 * before), and the response is HELD (sip_proxy_hold) until the answer comes
 * back: the caller never sees media the network has not authorised. The same
 * components again (a 200 repeating the 183's answer, a retransmission) send
 * nothing. An offer in a 2xx with its answer in the ACK, and SDP in PRACK,
 * are not authorised yet (logged at debug).
 *
 * Who. The session of a leg has the leg's key (dialog.h); the UE is the leg's
 * (its registered address as Framed-IP, its default IMPU), and it made the
 * offer when the request came from its side (its tag in From).
 *
 * End. The session ends with its dialog record: pcscf_dialog_remove calls
 * dialog_gone, whatever the reason (BYE final, error final or CANCEL to the
 * INVITE, the early give-up timer, de-registration). A registration's
 * signalling session starts after the 2xx of its first REGISTER and ends with
 * the UE. A network release (ASR, RAR loss/release of bearer) of a call sends
 * BYE to both sides; of the signalling session, releases every call of the UE
 * (the registration itself stays: the S-CSCF owns it).
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

#include "common/core/conf.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "pcscf/context.h"
#include "pcscf/diagnose.h"
#include "pcscf/dialog.h"
#include "pcscf/policy.h"
#include "pcscf/sdp.h"

#define PCSCF_POLICY_RETRY_AFTER_S 5u

#define ICID_MAX 128

/* ---- helpers ---- */

static const char *addr_ip(const sip_addr_t *a, char *buf, size_t len)
{
    const void *p = a->ss.ss_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)&a->ss)->sin_addr;

    if (!inet_ntop(a->ss.ss_family, p, buf, (socklen_t)len))
        buf[0] = '\0';
    return buf;
}

/* The SDP body of m, if it has one (Content-Type application/sdp). */
static bool sdp_body(const sip_msg_t *m, const char **p, size_t *n)
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

/* icid-value of P-Charging-Vector (RFC 7315 §5.6), "" when absent. */
static const char *icid_of(const sip_msg_t *m, char *buf, size_t len)
{
    const char *v = sip_msg_header(m, "P-Charging-Vector"), *s;
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

/* Retry-After on our 503s (pcscf.policy.retry_after, seconds; 0: none): the
 * policy server is down or slow, so the UE should not retry at once. */
static uint32_t g_retry_after_s = PCSCF_POLICY_RETRY_AFTER_S;

static void resume(pcscf_ctx_t *ctx, pcscf_policy_sess_t *s, int code, const char *reason)
{
    sip_proxy_req_t *pr = s->pr_id && ctx->px ? sip_proxy_req_find(ctx->px, s->pr_id) : NULL;

    s->pr_id = 0;
    if (pr && sip_proxy_resume_retry(pr, code, reason, code == 503 ? g_retry_after_s : 0) !=
                  IMS_OK)
        IMS_WARN("policy %s: nothing held to resume", s->key);
}

/* ---- answers to INVITE / UPDATE ---- */

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

typedef struct work {
    pcscf_sdp_t offer, answer;
    rx_media_comp_t comps[RX_MAX_MEDIA];
} work_t;

/* Components for leg d from req's offer and resp's answer: the count, or -1. */
static int components(const pcscf_dialog_t *d, const sip_msg_t *req, const sip_msg_t *resp,
                      work_t *w)
{
    int ue_side = d->dir == PCSCF_DLG_ORIG ? PCSCF_DLG_CALLER : PCSCF_DLG_CALLEE;
    const char *ftag = sip_msg_from_tag(req), *po, *pa, *why = NULL;
    pcscf_sdp_flow_opts_t opts = { false, false };
    size_t no, na;
    int n;

    if (!sdp_body(resp, &pa, &na))
        return -1;
    if (!sdp_body(req, &po, &no)) {
        IMS_DEBUG("policy %s: SDP answer without an offer in the request: not authorised",
                  pcscf_dialog_key(d));
        return -1;
    }
    if (pcscf_sdp_parse(po, no, &w->offer, &why) != IMS_OK ||
        pcscf_sdp_parse(pa, na, &w->answer, &why) != IMS_OK) {
        IMS_NOTICE("policy %s: SDP not understood (%s): not authorised", pcscf_dialog_key(d),
                   why ? why : "?");
        return -1;
    }
    opts.ue_offered = ftag && strcmp(ftag, pcscf_dialog_tag(d, ue_side)) == 0;
    memset(w->comps, 0, sizeof(w->comps));
    n = pcscf_sdp_to_rx(&w->offer, &w->answer, &opts, w->comps, RX_MAX_MEDIA);
    if (n < 0)
        IMS_NOTICE("policy %s: offer and answer do not match (or more than %d media)",
                   pcscf_dialog_key(d), RX_MAX_MEDIA);
    return n;
}

static void leg_answer(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, const sip_msg_t *req,
                       const sip_msg_t *resp, pcscf_dialog_t *d, work_t *w)
{
    const char *key = pcscf_dialog_key(d);
    pcscf_policy_sess_t *s = pcscf_policy_find(ctx->policy, key);
    int code = sip_msg_status(resp), n;
    char ip[64], icid[ICID_MAX];
    pcscf_policy_req_t q;
    uint64_t hash;

    if (s && s->ticket) {
        /* Behind a hold of ours: the core queues it; its fate is the answer's. */
        if (s->pr_id == sip_proxy_req_id(pr) && code >= 200)
            s->held_2xx = true;
        return;
    }
    if ((n = components(d, req, resp, w)) < 0)
        return;
    hash = fnv64(w->comps, sizeof(w->comps[0]) * (size_t)n);
    if (s && s->media_hash == hash)
        return;     /* authorised as it is */
    memset(&q, 0, sizeof(q));
    q.impu = pcscf_dialog_impu(d);
    q.ue_ip = addr_ip(&d->ue_dst.addr, ip, sizeof(ip));
    q.icid = icid_of(req, icid, sizeof(icid));
    q.media = w->comps;
    q.nmedia = n;
    if (!(s = pcscf_policy_authorize(ctx->policy, key, &q)))
        return;     /* table full or busy: logged; the response goes on */
    s->media_hash = hash;
    s->cseq = sip_msg_cseq_num(req);
    snprintf(s->req_tag, sizeof(s->req_tag), "%s", sip_msg_from_tag(req));
    s->held_2xx = code >= 200;
    s->pr_id = sip_proxy_hold(pr) == IMS_OK ? sip_proxy_req_id(pr) : 0;
    IMS_INFO("policy %s: %s for %s (%d media)%s", key, q.update ? "update" : "authorise",
             q.impu, n, s->pr_id ? ", response held" : "");
}

static void on_response(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    const sip_msg_t *req = sip_proxy_req_msg(pr);
    const char *m = sip_msg_cseq_method(resp), *ttag;
    int code = sip_msg_status(resp);
    pcscf_dialog_t *legs[2];
    size_t n;
    work_t *w;

    if (!req || !m || code < 180 || code >= 300 || !sip_msg_from_tag(req) ||
        (strcmp(m, "INVITE") != 0 && (strcmp(m, "UPDATE") != 0 || code < 200)))
        return;
    ttag = sip_msg_to_tag(req) ? sip_msg_to_tag(req) : sip_msg_to_tag(resp);
    if (!ttag || !(n = find_legs(ctx, req, resp, sip_msg_from_tag(req), ttag, legs)))
        return;
    if (!(w = malloc(sizeof(*w))))
        abort();
    for (size_t i = 0; i < n; i++)
        leg_answer(ctx, pr, req, resp, legs[i], w);
    free(w);
}

/* ---- results and releases ---- */

/* For imsctl diagnose (diagnose.h): the call d (may be NULL) failed (code). */
static void diag_call(pcscf_ctx_t *ctx, const pcscf_dialog_t *d, int kind, uint32_t code,
                      const pcscf_policy_result_t *res)
{
    char detail[96];

    if (!ctx->diag_hooks || !d)
        return;
    snprintf(detail, sizeof(detail), "%s %s, cause %u (call %.40s)",
             pcscf_policy_backend_name(ctx->policy), pcscf_policy_outcome_name(res->outcome),
             res->cause, pcscf_dialog_call_id(d));
    ctx->diag_hooks->impu(ctx, pcscf_dialog_impu(d), kind, code, detail);
}

static void refused(pcscf_ctx_t *ctx, pcscf_policy_sess_t *s, bool update, bool held_2xx,
                    const pcscf_policy_result_t *res)
{
    bool reject = res->outcome == PCSCF_POLICY_REJECTED;
    int code = reject ? 488 : 503;
    const char *why = reject ? "Not Acceptable Here - Policy" : "Service Unavailable - Policy";
    pcscf_dialog_t *d = pcscf_dialog_by_key(ctx, s->key);
    int responder = PCSCF_DLG_CALLER;

    resume(ctx, s, code, why);
    diag_call(ctx, d, reject ? PCSCF_DIAG_POLICY_REFUSED : PCSCF_DIAG_POLICY_FAILED,
              (uint32_t)code, res);
    if (!d)
        return;
    if (strcmp(s->req_tag, pcscf_dialog_tag(d, PCSCF_DLG_CALLER)) == 0)
        responder = PCSCF_DLG_CALLEE;
    if (held_2xx)   /* the dropped 2xx left a confirmed dialog at the responder */
        pcscf_dialog_send(d, responder, "ACK", s->cseq, 0, NULL);
    if (update) {
        pcscf_dialog_release(d, why);       /* BYE to both, STR */
        return;
    }
    if (held_2xx)
        pcscf_dialog_send(d, responder, "BYE", 0, code, why);
    ctx->stats.dialogs_ended++;
    IMS_INFO("dialog %s (%s) failed %d: %s (%zu dialogs)", pcscf_dialog_call_id(d),
             pcscf_dialog_impu(d), code, why, pcscf_dialog_count(ctx) - 1);
    pcscf_dialog_remove(d);
}

static void on_result(void *arg, pcscf_policy_sess_t *s, bool update,
                      const pcscf_policy_result_t *res)
{
    pcscf_ctx_t *ctx = arg;
    bool held_2xx = s->held_2xx;

    s->held_2xx = false;
    if (res->outcome == PCSCF_POLICY_OK) {
        IMS_INFO("policy %s: %s", s->key, update ? "update authorised" : "authorised");
        resume(ctx, s, 0, NULL);
        return;
    }
    IMS_NOTICE("policy %s: %s %s (cause %u)", s->key, update ? "update" : "authorisation",
               pcscf_policy_outcome_name(res->outcome), res->cause);
    if (s->signalling)
        return;     /* the registration stays; the session goes (policy.c) */
    if (update && res->outcome != PCSCF_POLICY_REJECTED) {
        resume(ctx, s, 0, NULL);    /* the call keeps its previous authorisation */
        return;
    }
    refused(ctx, s, update, held_2xx, res);
}

static void on_release(void *arg, pcscf_policy_sess_t *s, const char *why)
{
    pcscf_ctx_t *ctx = arg;
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
    pcscf_policy_sess_t *s = pcscf_policy_find(ctx->policy, key);

    if (!s)
        return;
    resume(ctx, s, 0, NULL);    /* a hold never outlives its session */
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
    char key[PCSCF_KEY_LEN + 4], uip[64], pip[64];
    rx_media_comp_t comp;
    pcscf_policy_req_t q;

    if (pcscf_policy_find(ctx->policy, sig_key(ue, key, sizeof(key))))
        return;     /* a refresh: the signalling path is authorised already */
    memset(&comp, 0, sizeof(comp));
    if (pcscf_sdp_signalling_comp(addr_ip(&req->rcv.remote, uip, sizeof(uip)),
                                  sip_addr_port(&req->rcv.remote),
                                  addr_ip(&req->rcv.local, pip, sizeof(pip)),
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
    if (pcscf_policy_authorize(ctx->policy, key, &q))
        IMS_INFO("policy %s: signalling path of %s%s", key, q.impu,
                 is_new ? "" : " (registered before the policy session)");
}

static void ue_gone(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    char key[PCSCF_KEY_LEN + 4];
    pcscf_policy_sess_t *s = pcscf_policy_find(ctx->policy, sig_key(ue, key, sizeof(key)));

    if (s)
        pcscf_policy_release(s);
}

static const pcscf_policy_hooks_t g_hooks = {
    .on_response = on_response,
    .registered = registered,
    .ue_gone = ue_gone,
    .dialog_gone = dialog_gone,
};

static const pcscf_policy_owner_t g_owner = {
    .on_result = on_result,
    .on_release = on_release,
};

/* ---- configuration ---- */

static int load_cfg(ims_conf_t *conf, pcscf_policy_cfg_t *cfg, const char **backend)
{
    long long v;
    int rc;

    if (ims_conf_str(conf, "pcscf.policy.backend", false, backend) == IMS_ERROR)
        return IMS_ERROR;
    if ((rc = ims_conf_int(conf, "pcscf.policy.timeout_ms", false, 50, 60000, &v)) ==
        IMS_ERROR)
        return IMS_ERROR;
    if (rc == IMS_OK)
        cfg->timeout_ms = (uint32_t)v;
    if ((rc = ims_conf_int(conf, "pcscf.policy.max_sessions", false, 1, 10000000, &v)) ==
        IMS_ERROR)
        return IMS_ERROR;
    if (rc == IMS_OK)
        cfg->max_sessions = (uint32_t)v;
    if ((rc = ims_conf_int(conf, "pcscf.policy.retry_after", false, 0, 3600, &v)) == IMS_ERROR)
        return IMS_ERROR;
    g_retry_after_s = rc == IMS_OK ? (uint32_t)v : PCSCF_POLICY_RETRY_AFTER_S;
    return IMS_OK;
}

int pcscf_policy_start(pcscf_ctx_t *ctx, ims_conf_t *conf)
{
    pcscf_policy_cfg_t cfg = { PCSCF_POLICY_TIMEOUT_MS, PCSCF_POLICY_MAX_SESSIONS };
    const pcscf_policy_backend_t *ops = NULL;
    const char *backend = "none";
    char err[512];
    void *be = NULL;

    if (load_cfg(conf, &cfg, &backend) != IMS_OK) {
        IMS_ERR("%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    /* One backend for every UE. Per access type (pcscf.policy.access: Rx for
     * 4G, N5 for 5G, told apart by the UE's address pool or P-Access-Network-
     * Info) is the next step: a table per backend, chosen here per request. */
    if (strcmp(backend, "none") == 0)
        return IMS_OK;
    if (strcmp(backend, "rx") != 0 && strcmp(backend, "n5") != 0) {
        IMS_ERR("%s: pcscf.policy.backend: \"%s\" (want \"rx\", \"n5\" or \"none\")",
                ims_conf_path(conf), backend);
        return IMS_ERROR;
    }
    if ((strcmp(backend, "rx") == 0
             ? pcscf_policy_rx_new(conf, "pcscf.policy.rx", ctx->loop, cfg.timeout_ms, &ops, &be,
                                   err, sizeof(err))
             : pcscf_policy_n5_new(conf, "pcscf.policy.n5", ctx->loop, cfg.timeout_ms, &ops, &be,
                                   err, sizeof(err))) != IMS_OK) {
        IMS_ERR("%s", err);
        return IMS_ERROR;
    }
    ctx->policy = pcscf_policy_new(ctx->loop, &cfg, ops, be);
    pcscf_policy_set_owner(ctx->policy, &g_owner, ctx);
    ctx->policy_hooks = &g_hooks;
    IMS_NOTICE("P-CSCF policy: backend %s, timeout %u ms, at most %u sessions", backend,
               cfg.timeout_ms, cfg.max_sessions);
    return IMS_OK;
}

void pcscf_policy_stop(pcscf_ctx_t *ctx)
{
    const pcscf_policy_stats_t *st;

    if (!ctx || !ctx->policy)
        return;
    st = pcscf_policy_stats(ctx->policy);
    IMS_NOTICE("P-CSCF policy: %zu sessions at stop; %llu requests, %llu updates, %llu"
               " authorised, %llu rejected, %llu timeouts, %llu unreachable, %llu late,"
               " %llu released, %llu released by the network, %llu refused (table full)",
               pcscf_policy_count(ctx->policy), (unsigned long long)st->requests,
               (unsigned long long)st->updates, (unsigned long long)st->ok,
               (unsigned long long)st->rejected, (unsigned long long)st->timeouts,
               (unsigned long long)st->unreachable, (unsigned long long)st->late,
               (unsigned long long)st->released, (unsigned long long)st->network_released,
               (unsigned long long)st->full);
    ctx->policy_hooks = NULL;   /* the dialogs freed after this send nothing */
    pcscf_policy_free(ctx->policy);
    ctx->policy = NULL;
}
