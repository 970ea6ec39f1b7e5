/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Proxy core, response side: RFC 3261 §16.7 response processing and best
 * response selection, Timer C, §16.10 CANCEL, and the stateless forwarding of
 * ACKs for 2xx and of stray responses (§16.11).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/proxy_int.h"

/* §16.7 item 6: lower is better. 6xx end the search; among 4xx, responses the
 * client can act on (credentials, extensions, address) win; a 503 loses to
 * everything, since it is turned into 500 and says least. */
static int rank(int code)
{
    if (code >= 600)
        return 0;
    if (code >= 300 && code < 400)
        return 1;
    if (code == 401 || code == 407 || code == 415 || code == 420 || code == 484)
        return 2;
    if (code >= 400 && code < 500)
        return 3;
    if (code == 503)
        return 5;
    return 4;
}

static void forward_stateless(sip_proxy_t *px, sip_msg_t *resp);

/* Send resp (ownership passes) upstream on the server transaction. A 2xx that
 * the server transaction can no longer carry (it already sent a non-2xx, or it
 * ended) still goes up, statelessly: only the UAC can ACK it (§16.7 item 10). */
static void send_upstream(sip_proxy_req_t *pr, sip_msg_t *resp)
{
    sip_proxy_t *px = pr->px;
    int code = sip_msg_status(resp);

    IMS_INFO("%d %s (%s) forwarded upstream", code,
             resp->m->reason_phrase ? resp->m->reason_phrase : "", sip_msg_cseq_method(resp));
    if (pr->st && (code < 200 || code >= 300 || sip_txn_final_code(pr->st) == 0 ||
                   (sip_txn_final_code(pr->st) >= 200 && sip_txn_final_code(pr->st) < 300))) {
        sip_txn_server_reply(pr->st, resp);
        return;
    }
    if (code >= 200 && code < 300)
        forward_stateless(px, resp);
    sip_msg_free(resp);
}

/* Queue resp behind a hold; the last two slots are kept for finals. */
static void queue_held(sip_proxy_req_t *pr, sip_msg_t *resp)
{
    int code = sip_msg_status(resp);
    int room = code < 200 ? SIP_PROXY_MAX_HELD - 2 : SIP_PROXY_MAX_HELD;

    if (pr->nheld >= room) {
        IMS_WARN("%d (%s) dropped: %d responses held already", code,
                 sip_msg_cseq_method(resp), pr->nheld);
        sip_msg_free(resp);
        return;
    }
    pr->held[pr->nheld++] = resp;
}

/* The handler sees resp, then it goes upstream, or behind the hold. */
static void forward_upstream(sip_proxy_req_t *pr, sip_msg_t *resp)
{
    sip_proxy_t *px = pr->px;

    if (px->handler.on_response) {
        pr->in_on_response = true;
        px->handler.on_response(px->arg, pr, resp);
        pr->in_on_response = false;
    }
    if (pr->holds > 0)
        queue_held(pr, resp);
    else
        send_upstream(pr, resp);
}

int sip_proxy_hold(sip_proxy_req_t *pr)
{
    if (!pr->in_on_response || pr->nheld >= SIP_PROXY_MAX_HELD - 2)
        return IMS_ERROR;
    pr->holds++;
    return IMS_OK;
}

bool sip_proxy_held(const sip_proxy_req_t *pr)
{
    return pr->holds > 0;
}

/* The hold failed: the queue goes, code goes up instead (§16.7 lets a proxy
 * answer while no final has been forwarded). */
static void hold_failed(sip_proxy_req_t *pr)
{
    while (pr->nheld > 0)
        sip_msg_free(pr->held[--pr->nheld]);
    if (pr->is_invite)
        proxy_cancel_branches(pr);
    if (pr->st && sip_txn_final_code(pr->st) == 0) {
        const char *reason = pr->hold_reason[0] ? pr->hold_reason : NULL;
        sip_msg_t *r = NULL;
        char v[16];

        pr->final_sent = true;
        pr->px->stats.local_replies++;
        if (pr->hold_retry_after && proxy_req(pr) &&
            (r = sip_msg_make_response(proxy_req(pr), pr->hold_code, reason, NULL)) != NULL) {
            snprintf(v, sizeof(v), "%u", pr->hold_retry_after);
            sip_msg_header_add(r, "Retry-After", v);
            sip_txn_server_reply(pr->st, r);
        } else {
            sip_txn_server_reply_code(pr->st, pr->hold_code, reason);
        }
    }
}

int sip_proxy_resume(sip_proxy_req_t *pr, int code, const char *reason)
{
    return sip_proxy_resume_retry(pr, code, reason, 0);
}

int sip_proxy_resume_retry(sip_proxy_req_t *pr, int code, const char *reason,
                           uint32_t retry_after)
{
    if (pr->holds <= 0)
        return IMS_ERROR;
    if (code >= 300 && !pr->hold_code) {
        pr->hold_code = code;
        pr->hold_retry_after = retry_after;
        snprintf(pr->hold_reason, sizeof(pr->hold_reason), "%s", reason ? reason : "");
    }
    if (--pr->holds > 0)
        return IMS_OK;
    if (pr->hold_code) {
        hold_failed(pr);
        pr->hold_code = 0;
    } else {
        /* In order; a response sent may not start a new hold (not in on_response). */
        for (int i = 0; i < pr->nheld; i++)
            send_upstream(pr, pr->held[i]);
        pr->nheld = 0;
    }
    proxy_req_settle(pr);
    return IMS_OK;
}

static void send_best(sip_proxy_req_t *pr)
{
    sip_msg_t *best = pr->best;
    int code = pr->best_code ? pr->best_code : 500;

    pr->best = NULL;
    if (pr->final_sent || !pr->st) {
        sip_msg_free(best);
        return;
    }
    pr->final_sent = true;
    if (!best) {
        sip_txn_server_reply_code(pr->st, code == 503 ? 500 : code, NULL);
        return;
    }
    if (code == 503) {
        /* §16.7 item 6: a downstream 503 must not make the client think we are
         * overloaded. */
        osip_message_set_status_code(best->m, 500);
        osip_free(best->m->reason_phrase);
        best->m->reason_phrase = osip_strdup("Server Internal Error");
        sip_msg_mark_edited(best);
    }
    forward_upstream(pr, best);
}

/* Every branch of the round failed: the handler's on_failure may answer or
 * start a new round. true when it did (nothing more to send here). */
static bool failure_hook(sip_proxy_req_t *pr)
{
    sip_proxy_t *px = pr->px;
    int first = pr->round;
    bool replied = false;

    if (!px->handler.on_failure || pr->final_sent || !pr->st || pr->cancelled)
        return false;
    for (int i = first; i < pr->nbranches; i++)
        replied = replied || pr->br[i]->replied;
    pr->forwarded = false;  /* sip_proxy_add_target / sip_proxy_forward allowed again */
    pr->round = pr->nbranches;
    if (px->handler.on_failure(px->arg, pr, pr->best_code, replied) == IMS_OK &&
        (pr->forwarded || pr->final_sent))
        return true;
    /* Declined: targets it added without forwarding are dropped. */
    while (pr->nbranches > pr->round) {
        proxy_branch_t *b = pr->br[--pr->nbranches];

        free(b->target);
        free(b);
    }
    pr->forwarded = true;
    return pr->final_sent;
}

/* Record a final outcome for b; resp (may be NULL for local outcomes) is kept
 * if it is the best so far, freed otherwise. Sends the best when all are in. */
static void branch_final(proxy_branch_t *b, int code, sip_msg_t *resp)
{
    sip_proxy_req_t *pr = b->pr;

    if (b->done) {
        sip_msg_free(resp);
        return;
    }
    b->done = true;
    b->final_code = code;
    pr->pending--;
    ims_timer_stop(pr->px->loop, &b->timer_c);
    if (!pr->best_code || rank(code) < rank(pr->best_code)) {
        sip_msg_free(pr->best);
        pr->best = resp;
        pr->best_code = code;
    } else {
        sip_msg_free(resp);
    }
    if (code >= 600 && pr->is_invite)
        proxy_cancel_branches(pr);
    if (pr->pending == 0 && !failure_hook(pr))
        send_best(pr);
    proxy_req_settle(pr);
}

void proxy_branch_failed(proxy_branch_t *b, int code)
{
    branch_final(b, code, NULL);
}

void proxy_cancel_branches(sip_proxy_req_t *pr)
{
    for (int i = 0; i < pr->nbranches; i++)
        if (pr->br[i]->ct && !pr->br[i]->done)
            sip_txn_client_cancel(pr->br[i]->ct);
}

static void branch_2xx(proxy_branch_t *b, sip_msg_t *resp)
{
    sip_proxy_req_t *pr = b->pr;

    if (!b->done) {
        b->done = true;
        b->final_code = sip_msg_status(resp);
        pr->pending--;
        ims_timer_stop(pr->px->loop, &b->timer_c);
    }
    /* Every 2xx goes up, retransmissions and other forks' included: only the
     * UAC can ACK them (§16.7 item 5). */
    pr->final_sent = true;
    forward_upstream(pr, resp);
    if (pr->is_invite)
        proxy_cancel_branches(pr);
    proxy_req_settle(pr);
}

void proxy_branch_response(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    proxy_branch_t *b = arg;
    sip_proxy_req_t *pr = b->pr;
    int code;

    if (!resp) {
        branch_final(b, err == SIP_TXN_TIMEOUT ? 408 : 503, NULL);
        return;
    }
    code = sip_msg_status(resp);
    sip_msg_pop_via(resp);
    b->replied = true;
    if (b->reply_wait) {
        /* Alive: the reply timeout is over, Timer C rules (INVITE). */
        b->reply_wait = false;
        ims_timer_stop(pr->px->loop, &b->timer_c);
        if (pr->is_invite && code < 200 && !b->done)
            ims_timer_start(pr->px->loop, &b->timer_c, pr->px->cfg.timer_c_ms, proxy_timer_c, b);
    }
    if (code < 200) {
        b->got_provisional = true;
        if (code > 100 && pr->is_invite && !b->done)
            ims_timer_start(pr->px->loop, &b->timer_c, pr->px->cfg.timer_c_ms, proxy_timer_c, b);
        if (code > 100 && !pr->final_sent)
            forward_upstream(pr, resp);
        else
            sip_msg_free(resp);
        return;
    }
    if (code < 300) {
        branch_2xx(b, resp);
        return;
    }
    branch_final(b, code, resp);
}

void proxy_branch_end(void *arg, sip_txn_t *ct)
{
    proxy_branch_t *b = arg;
    sip_proxy_req_t *pr = b->pr;

    b->ct = NULL;
    if (!b->done)
        branch_final(b, 408, NULL);
    proxy_req_maybe_free(pr);
}

/* §16.6 item 11 / §16.8: no final answer in Timer C: CANCEL a ringing branch,
 * give up on a silent one. */
void proxy_timer_c(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    proxy_branch_t *b = arg;

    b->pr->px->stats.timer_c++;
    if (!b->ct || b->done)
        return;
    /* A silent branch may still ring later: its CANCEL waits for that (§9.1). */
    sip_txn_client_cancel(b->ct);
    if (!b->got_provisional)
        branch_final(b, 408, NULL);
}

/* sip_proxy_set_reply_timeout: no response at all in time: give the branch up
 * (an INVITE's CANCEL waits for a provisional, §9.1). */
void proxy_reply_timeout(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    proxy_branch_t *b = arg;
    sip_msg_t *req = proxy_req(b->pr);

    b->reply_wait = false;
    if (!b->ct || b->done)
        return;
    /* Outside any message: what follows (on_failure) is logged under the call. */
    if (req)
        ims_log_ctx_set(sip_msg_call_id(req));
    IMS_INFO("%s branch: no response in %u ms: 408", b->pr->is_invite ? "INVITE" : "request",
             b->pr->reply_timeout_ms);
    if (b->pr->is_invite)
        sip_txn_client_cancel(b->ct);
    branch_final(b, 408, NULL);
    ims_log_ctx_clear();
}

/* ---- §16.10 CANCEL ---- */

void proxy_handle_cancel(sip_proxy_t *px, sip_txn_t *st, const sip_msg_t *cancel)
{
    sip_txn_t *inv = sip_txn_server_find_invite(px->layer, cancel);
    sip_proxy_req_t *pr = inv ? sip_txn_get_data(inv) : NULL;

    px->stats.cancels++;
    if (!pr) {
        /* §9.2: 481 when nothing matches; an INVITE already answered and let go
         * of still matches, and there is nothing left to cancel. */
        sip_txn_server_reply_code(st, inv ? 200 : 481, NULL);
        return;
    }
    sip_txn_server_reply_code(st, 200, NULL);
    pr->cancelled = true;
    if (!pr->forwarded)
        sip_proxy_reply(pr, 487, NULL);  /* the handler still deciding: answer for it */
    else
        proxy_cancel_branches(pr);
}

/* ---- stateless forwarding ---- */

static int push_via(sip_proxy_t *px, sip_msg_t *msg, const sip_dest_t *dst, const char *seed)
{
    static const char *const names[] = { "UDP", "TCP", "TLS" };
    sip_addr_t me;
    char addr[64], val[160], tok[9];
    osip_via_t *v = NULL;
    uint32_t h = 2166136261u;

    if (sip_transport_local(px->tp, dst->proto, dst->addr.ss.ss_family, &me) != IMS_OK)
        return IMS_ERROR;
    /* Stateless: the same ACK retransmitted must get the same branch. */
    for (const char *s = seed ? seed : ""; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    snprintf(tok, sizeof(tok), "%08x", h);
    snprintf(val, sizeof(val), "SIP/2.0/%s %s;branch=z9hG4bKA%s", names[dst->proto],
             sip_addr_str(&me, addr, sizeof(addr)), tok);
    if (osip_via_init(&v) != 0)
        return IMS_ERROR;
    if (osip_via_parse(v, val) != 0) {
        osip_via_free(v);
        return IMS_ERROR;
    }
    osip_list_add(&msg->m->vias, v, 0);
    return IMS_OK;
}

void proxy_on_ack(void *arg, sip_msg_t *ack)
{
    sip_proxy_t *px = arg;
    osip_header_t *h = NULL;
    osip_via_t *top = sip_msg_top_via(ack);
    sip_dest_t dst;
    char mf[24];
    long v = 70;

    px->stats.stateless_acks++;
    proxy_preprocess_routes(px, ack, NULL);
    if (px->handler.on_ack && px->handler.on_ack(px->arg, ack) != IMS_DECLINED)
        return;
    osip_message_get_max_forwards(ack->m, 0, &h);
    if (h && h->hvalue)
        v = strtol(h->hvalue, NULL, 10);
    if (v <= 0 || proxy_next_hop(px, ack, &dst) != IMS_OK) {
        sip_msg_free(ack);
        return;
    }
    if (px->handler.on_ack_dest)
        px->handler.on_ack_dest(px->arg, ack, &dst);
    if (push_via(px, ack, &dst, top ? sip_msg_via_branch(top) : NULL) != IMS_OK) {
        sip_msg_free(ack);
        return;
    }
    snprintf(mf, sizeof(mf), "%ld", v > 255 ? 69 : v - 1);
    if (h) {
        osip_free(h->hvalue);
        h->hvalue = osip_strdup(mf);
    } else {
        osip_message_set_max_forwards(ack->m, mf);
    }
    if (ims_log_get_level() >= IMS_LOG_INFO) {
        char to[64];

        IMS_INFO("ACK forwarded statelessly to %s:%s", sip_proto_lname(dst.proto),
                 sip_addr_str(&dst.addr, to, sizeof(to)));
    }
    sip_transport_send_msg(px->tp, &dst, ack);
    sip_msg_free(ack);
}

/* Where a response goes from the Via that addresses it (§18.2.2, RFC 3581). */
static int via_dest(const osip_via_t *via, sip_dest_t *dst)
{
    osip_generic_param_t *p = NULL;
    const char *host = via->host;
    long port = 5060;

    memset(dst, 0, sizeof(*dst));
    if (!via->protocol || !host)
        return IMS_ERROR;
    if (strcasecmp(via->protocol, "TCP") == 0)
        dst->proto = SIP_PROTO_TCP;
    else if (strcasecmp(via->protocol, "TLS") == 0)
        dst->proto = SIP_PROTO_TLS;
    else if (strcasecmp(via->protocol, "UDP") != 0)
        return IMS_ERROR;
    if (via->port)
        port = strtol(via->port, NULL, 10);
    osip_via_param_get_byname((osip_via_t *)via, "received", &p);
    if (p && p->gvalue)
        host = p->gvalue;
    p = NULL;
    osip_via_param_get_byname((osip_via_t *)via, "rport", &p);
    if (p && p->gvalue)
        port = strtol(p->gvalue, NULL, 10);
    if (port <= 0 || port > 65535)
        return IMS_ERROR;
    return sip_addr_from(&dst->addr, host, (uint16_t)port);
}

/* Send a response (our Via already removed) to where its top Via says. */
static void forward_stateless(sip_proxy_t *px, sip_msg_t *resp)
{
    osip_via_t *next = sip_msg_top_via(resp);
    sip_dest_t dst;

    if (next && via_dest(next, &dst) == IMS_OK)
        sip_transport_send_msg(px->tp, &dst, resp);
}

void proxy_on_stray_response(void *arg, sip_msg_t *resp)
{
    sip_proxy_t *px = arg;
    osip_via_t *top = sip_msg_top_via(resp);

    px->stats.stray_responses++;
    if (top && proxy_addr_is_local(px, top->host, top->port, false)) {
        sip_msg_pop_via(resp);
        forward_stateless(px, resp);
    }
    sip_msg_free(resp);
}
