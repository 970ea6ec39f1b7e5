/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-ue: one call at a time, as caller (INVITE with an SDP offer, ACK, BYE
 * after --hold-ms, CANCEL when nobody answers, with --indialog-after-ms a
 * re-INVITE first) or callee (180, 200 with the SDP answer retransmitted
 * until the ACK, 200 to a re-INVITE, BYE from the far end). RFC 3261
 * §12-§15: the dialog's route set is the Record-Route of the 2xx reversed
 * (caller) or of the INVITE as it is (callee); in-dialog requests go to the
 * remote target (the far end's Contact) along it, through the P-CSCF.
 * No media flows: the SDP only lets the network see a session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "tools/ims-ue/ue.h"

#define UE_T1_MS      500u
#define UE_T2_MS      4000u
#define UE_MEDIA_PORT 49170

static void call_reset(ue_t *ue)
{
    ue_call_t *c = &ue->call;

    ims_timer_stop(ue->loop, &c->timer);
    ims_timer_stop(ue->loop, &c->retx_end);
    ims_timer_stop(ue->loop, &c->rereg);
    ims_timer_stop(ue->loop, &c->indialog);
    c->bye_waits = false;
    c->reinvited = c->reinvite_failed = false;
    sip_msg_free(c->ok);
    if (c->invite && !sip_txn_is_server(c->invite))
        sip_txn_client_detach(c->invite);
    c->ok = NULL;
    c->invite = NULL;
    c->invite_layer = NULL;
    c->state = UE_CALL_IDLE;
    c->nroute = 0;
    c->target[0] = c->remote_tag[0] = c->call_id[0] = '\0';
}

void ue_call_init(ue_t *ue)
{
    memset(&ue->call, 0, sizeof(ue->call));
    ims_timer_init(&ue->call.timer);
    ims_timer_init(&ue->call.retx_end);
    ims_timer_init(&ue->call.rereg);
    ims_timer_init(&ue->call.indialog);
}

void ue_call_forget_layer(ue_t *ue, const sip_txn_layer_t *layer)
{
    if (ue->call.invite && ue->call.invite_layer == layer) {
        ue->call.invite = NULL;     /* freed with its layer, no on-end call */
        ue->call.invite_layer = NULL;
    }
}

void ue_call_fini(ue_t *ue)
{
    call_reset(ue);
}

static bool answering(const ue_t *ue)
{
    return ue->running && ue->cmds[ue->cur].kind == UE_CMD_ANSWER && ue->count > 0;
}

/* The caller's command, or one call of answer --count, is over. */
static void call_over(ue_t *ue, bool ok)
{
    bool caller = ue->call.caller;

    call_reset(ue);
    if (caller && ue->running && ue->cmds[ue->cur].kind == UE_CMD_CALL) {
        ue_done(ue, ok);
    } else if (!caller && answering(ue)) {
        if (!ok)
            ue_done(ue, false);
        else if (--ue->count == 0)
            ue_done(ue, true);
        else
            ue_step_bound(ue, ue->cfg.timeout_ms);
    }
}

static void on_txn_end(void *arg, sip_txn_t *t)
{
    ue_t *ue = arg;

    if (ue->call.invite == t)
        ue->call.invite = NULL;
}

/* ---- building ---- */

static int set_sdp(ue_t *ue, sip_msg_t *m)
{
    const ue_sock_t *s = ue->cfg.ipsec ? &ue->prot_s : &ue->unprot;
    bool v6 = s->local.ss.ss_family == AF_INET6;
    char ip[80], body[512];
    char *end;
    int n;

    sip_addr_str(&s->local, ip, sizeof(ip));
    end = strrchr(ip, ':');
    if (end)
        *end = '\0';
    if (v6 && ip[0] == '[') {
        memmove(ip, ip + 1, strlen(ip));
        ip[strlen(ip) - 1] = '\0';
    }
    n = snprintf(body, sizeof(body),
                 "v=0\r\no=ims-ue 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
                 "m=audio %d RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
                 "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
                 v6 ? "IP6" : "IP4", ip, v6 ? "IP6" : "IP4", ip, UE_MEDIA_PORT);
    return sip_msg_set_body(m, "application/sdp", body, (size_t)n);
}

static int set_contact(ue_t *ue, sip_msg_t *m)
{
    char uri[UE_URI_MAX], hdr[UE_URI_MAX + 2];

    ue_contact(ue, uri, sizeof(uri));
    snprintf(hdr, sizeof(hdr), "<%s>", uri);
    return osip_message_set_contact(m->m, hdr) == 0 ? IMS_OK : IMS_ERROR;
}

static int set_routes(sip_msg_t *m, char routes[][UE_URI_MAX], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (osip_message_set_route(m->m, routes[i]) != 0)
            return IMS_ERROR;
    return IMS_OK;
}

/* A request inside the dialog (ACK, BYE): to the remote target along the route set. */
static sip_msg_t *dialog_request(ue_t *ue, const char *method, uint32_t cseq)
{
    ue_call_t *c = &ue->call;
    char to[UE_URI_MAX + UE_TOKEN_MAX + 16];
    sip_msg_t *m;

    snprintf(to, sizeof(to), "<%s>;tag=%s", c->remote_uri, c->remote_tag);
    m = ue_request(ue, method, c->target[0] ? c->target : c->remote_uri, to, c->local_tag,
                   c->call_id, cseq);
    if (m && set_routes(m, c->routes, c->nroute) != IMS_OK) {
        sip_msg_free(m);
        return NULL;
    }
    return m;
}

/* Record-Route of msg into the dialog's route set, reversed for the caller. */
static void take_route_set(ue_call_t *c, const sip_msg_t *msg, bool reverse)
{
    osip_list_t *rrs = sip_msg_record_routes(msg);
    int n = osip_list_size(rrs);
    osip_record_route_t *rr;
    char *s;

    c->nroute = 0;
    for (int i = 0; i < n && c->nroute < UE_MAX_ROUTES; i++) {
        rr = osip_list_get(rrs, reverse ? n - 1 - i : i);
        s = NULL;
        if (!rr || osip_record_route_to_str(rr, &s) != 0 || !s)
            continue;
        snprintf(c->routes[c->nroute++], UE_URI_MAX, "%s", s);
        osip_free(s);
    }
}

static void take_target(ue_call_t *c, const sip_msg_t *msg)
{
    const osip_contact_t *ct = osip_list_get(&msg->m->contacts, 0);

    c->target[0] = '\0';
    if (ct)
        ue_uri_text(ct->url, c->target, sizeof(c->target));
}

/* ---- caller ---- */

/* The CSeq number of msg (0: none). */
static uint32_t cseq_of(const sip_msg_t *msg)
{
    const osip_cseq_t *c = msg->m->cseq;

    return c && c->number ? (uint32_t)strtoul(c->number, NULL, 10) : 0;
}

/* The ACK of the 2xx to our INVITE (cseq 1) or re-INVITE. */
static void send_ack(ue_t *ue, uint32_t cseq)
{
    sip_msg_t *ack = dialog_request(ue, "ACK", cseq);

    if (!ack || ue_sip_send_stateless(ue, ack) != IMS_OK)
        IMS_WARN("call: ACK not sent");
    sip_msg_free(ack);
}

static void on_bye_resp(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    ue_t *ue = arg;
    int code = resp ? sip_msg_status(resp) : 0;

    sip_msg_free(resp);
    if (code > 0 && code < 200)
        return;
    if (ue->call.state != UE_CALL_BYE)
        return;
    if (code >= 200 && code < 300)
        ue_event(ue, "call ended by-local");
    else
        ue_event(ue, "call ended by-local bye-code=%d", code);
    call_over(ue, code >= 200 && code < 300 && !ue->call.reinvite_failed);
}

static void send_bye(ue_t *ue)
{
    sip_msg_t *bye = dialog_request(ue, "BYE", ++ue->call.cseq);

    ue->call.state = UE_CALL_BYE;
    if (!bye || !ue_sip_send(ue, bye, on_bye_resp, ue)) {
        ue_event(ue, "call failed: BYE not sent");
        call_over(ue, false);
    }
}

/* A re-registration or a re-INVITE still to come or under way. */
static bool call_busy(const ue_t *ue)
{
    const ue_call_t *c = &ue->call;

    return ue_register_busy(ue) || (c->indialog_ms && !c->reinvited);
}

static void on_call_timer(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    ue_t *ue = arg;
    ue_call_t *c = &ue->call;

    if (c->state == UE_CALL_UP && call_busy(ue)) {
        c->bye_waits = true;    /* hang up once they are over (over the newest SAs) */
    } else if (c->state == UE_CALL_UP) {
        send_bye(ue);
    } else if (c->state == UE_CALL_CALLING && c->invite) {
        ue_event(ue, "call no answer: sending CANCEL");
        sip_txn_client_cancel(c->invite);
    }
}

static void on_rereg_timer(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    ue_t *ue = arg;

    if (ue->call.state == UE_CALL_UP)
        ue_register_background(ue);
}

/* The hold ended while something ran: hang up now that nothing does. */
static void bye_if_waiting(ue_t *ue)
{
    ue_call_t *c = &ue->call;

    if (c->bye_waits && c->state == UE_CALL_UP && !call_busy(ue)) {
        c->bye_waits = false;
        send_bye(ue);
    }
}

static void on_reinvite_resp(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    ue_t *ue = arg;
    ue_call_t *c = &ue->call;
    int code = resp ? sip_msg_status(resp) : 0;
    uint32_t cseq = resp ? cseq_of(resp) : 0;

    sip_msg_free(resp);
    if ((code > 0 && code < 200) || c->state != UE_CALL_UP || c->reinvited)
        return;
    c->reinvited = true;
    if (code >= 200 && code < 300)
        send_ack(ue, cseq);
    else
        c->reinvite_failed = true;
    ue_event(ue, "call reinvite code=%d", code);
    bye_if_waiting(ue);
}

/* A re-INVITE with the same session (RFC 3261 §14.1): the dialog's route set
 * still leads through the P-CSCF after a re-registration changed the SAs. */
static void on_indialog_timer(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    ue_t *ue = arg;
    ue_call_t *c = &ue->call;
    sip_msg_t *m;

    if (c->state != UE_CALL_UP || !c->caller)
        return;
    m = dialog_request(ue, "INVITE", ++c->cseq);
    if (m && (set_contact(ue, m) != IMS_OK || set_sdp(ue, m) != IMS_OK)) {
        sip_msg_free(m);
        m = NULL;
    }
    if (!m || !ue_sip_send(ue, m, on_reinvite_resp, ue)) {     /* it takes m */
        c->reinvited = c->reinvite_failed = true;
        ue_event(ue, "call reinvite code=0 (not sent)");
        bye_if_waiting(ue);
    }
}

void ue_call_rereg_done(ue_t *ue)
{
    ue_call_t *c = &ue->call;

    if (c->state == UE_CALL_UP && c->indialog_ms && !c->reinvited)
        ims_timer_start(ue->loop, &c->indialog, c->indialog_ms, on_indialog_timer, ue);
    bye_if_waiting(ue);
}

static void answered(ue_t *ue, const sip_msg_t *resp)
{
    ue_call_t *c = &ue->call;
    const char *tag = sip_msg_to_tag(resp);

    snprintf(c->remote_tag, sizeof(c->remote_tag), "%s", tag ? tag : "");
    take_target(c, resp);
    take_route_set(c, resp, true);
    c->state = UE_CALL_UP;
    send_ack(ue, 1);
    ue_event(ue, "call answered");
    ims_timer_start(ue->loop, &c->timer, c->hold_ms, on_call_timer, ue);
    if (c->rereg_ms)
        ims_timer_start(ue->loop, &c->rereg, c->rereg_ms, on_rereg_timer, ue);
    else if (c->indialog_ms)
        ims_timer_start(ue->loop, &c->indialog, c->indialog_ms, on_indialog_timer, ue);
}

static void on_invite_resp(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    ue_t *ue = arg;
    ue_call_t *c = &ue->call;
    int code;

    if (!resp) {
        ue_event(ue, "call failed: %s", err == SIP_TXN_TIMEOUT ? "timeout" : "transport error");
        call_over(ue, false);
        return;
    }
    code = sip_msg_status(resp);
    if ((code == 180 || code == 183) && c->state == UE_CALL_CALLING && !c->rang) {
        c->rang = true;
        ue_event(ue, "call ringing code=%d", code);
    } else if (code >= 200 && code < 300) {
        if (c->state == UE_CALL_CALLING)
            answered(ue, resp);
        else if (c->state == UE_CALL_UP)
            send_ack(ue, 1);    /* the 2xx again: our ACK was lost */
    } else if (code >= 300 && c->state == UE_CALL_CALLING) {
        ue_event(ue, "call failed code=%d %s", code,
                 resp->m->reason_phrase ? resp->m->reason_phrase : "");
        call_over(ue, false);
    }
    sip_msg_free(resp);
}

void ue_call_start(ue_t *ue, const char *uri, uint32_t hold_ms, uint32_t rereg_ms,
                   uint32_t indialog_ms)
{
    ue_call_t *c = &ue->call;
    char to[UE_URI_MAX + 2];
    sip_msg_t *m;

    if (c->state != UE_CALL_IDLE) {
        ue_event(ue, "call failed: another call is up");
        ue_done(ue, false);
        return;
    }
    c->caller = true;
    c->rang = false;
    c->hold_ms = hold_ms;
    c->rereg_ms = rereg_ms;
    c->indialog_ms = indialog_ms;
    c->cseq = 1;
    sip_random_token(c->call_id, 24);
    strcat(c->call_id, "@ims-ue");
    sip_random_token(c->local_tag, 16);
    snprintf(c->remote_uri, sizeof(c->remote_uri), "%s", uri);
    snprintf(to, sizeof(to), "<%s>", uri);
    m = ue_request(ue, "INVITE", uri, to, c->local_tag, c->call_id, 1);
    if (!m || set_contact(ue, m) != IMS_OK || set_sdp(ue, m) != IMS_OK ||
        set_routes(m, ue->reg.routes, ue->reg.nroute) != IMS_OK ||
        sip_msg_header_add(m, "Allow", "INVITE, ACK, CANCEL, BYE, MESSAGE, OPTIONS, NOTIFY") !=
            IMS_OK) {
        sip_msg_free(m);
        ue_event(ue, "call failed: cannot build the INVITE");
        call_over(ue, false);
        return;
    }
    c->state = UE_CALL_CALLING;
    c->invite_layer = ue->protected_up ? ue->prot_c.layer : ue->unprot.layer;
    c->invite = ue_sip_send(ue, m, on_invite_resp, ue);
    if (!c->invite) {
        ue_event(ue, "call failed: INVITE not sent");
        call_over(ue, false);
        return;
    }
    sip_txn_set_on_end(c->invite, on_txn_end, ue);
    ue_event(ue, "call calling %s", uri);
    /* Nobody answers within half the command's bound: CANCEL, then the 487 ends it. */
    ims_timer_start(ue->loop, &c->timer, ue->cfg.timeout_ms / 2, on_call_timer, ue);
}

void ue_call_on_stray(ue_t *ue, sip_msg_t *resp)
{
    const char *cid = sip_msg_call_id(resp);
    const char *m = sip_msg_cseq_method(resp);

    if (ue->call.state == UE_CALL_UP && ue->call.caller && cid && m &&
        strcmp(cid, ue->call.call_id) == 0 && strcmp(m, "INVITE") == 0 &&
        sip_msg_status(resp) / 100 == 2 && cseq_of(resp))
        send_ack(ue, cseq_of(resp));
    sip_msg_free(resp);
}

/* ---- callee ---- */

static int copy_record_routes(sip_msg_t *resp, const sip_msg_t *req)
{
    osip_list_t *rrs = sip_msg_record_routes(req);
    osip_list_iterator_t it;
    osip_record_route_t *rr;
    char *s;

    for (rr = osip_list_get_first(rrs, &it); rr; rr = osip_list_get_next(&it)) {
        s = NULL;
        if (osip_record_route_to_str(rr, &s) != 0 || !s ||
            osip_message_set_record_route(resp->m, s) != 0) {
            osip_free(s);
            return IMS_ERROR;
        }
        osip_free(s);
    }
    return IMS_OK;
}

static sip_msg_t *invite_response(ue_t *ue, const sip_msg_t *req, int code)
{
    sip_msg_t *r = sip_msg_make_response(req, code, NULL, ue->call.local_tag);

    if (r && (set_contact(ue, r) != IMS_OK || copy_record_routes(r, req) != IMS_OK ||
              (code == 200 && set_sdp(ue, r) != IMS_OK))) {
        sip_msg_free(r);
        return NULL;
    }
    return r;
}

/* §13.3.1.4: the 2xx again, T1 doubling up to T2, until the ACK. */
static void on_retx(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    ue_t *ue = arg;
    ue_call_t *c = &ue->call;
    sip_msg_t *again;

    if (c->state != UE_CALL_RINGING || !c->invite || !c->ok)
        return;
    again = sip_msg_clone(c->ok);
    if (again)
        sip_txn_server_reply(c->invite, again);
    c->retx_ms = c->retx_ms * 2 > UE_T2_MS ? UE_T2_MS : c->retx_ms * 2;
    ims_timer_start(loop, &c->timer, c->retx_ms, on_retx, ue);
}

static void on_no_ack(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    ue_t *ue = arg;

    ue_event(ue, "call failed: no ACK for our 200");
    call_over(ue, false);
}

static void incoming(ue_t *ue, sip_txn_t *st, const sip_msg_t *req)
{
    ue_call_t *c = &ue->call;
    const char *tag = sip_msg_from_tag(req);
    sip_msg_t *ring, *ok;

    c->caller = false;
    snprintf(c->call_id, sizeof(c->call_id), "%s", sip_msg_call_id(req));
    snprintf(c->remote_tag, sizeof(c->remote_tag), "%s", tag ? tag : "");
    sip_random_token(c->local_tag, 16);
    c->remote_uri[0] = '\0';
    if (req->m->from)
        ue_uri_text(req->m->from->url, c->remote_uri, sizeof(c->remote_uri));
    take_target(c, req);
    take_route_set(c, req, false);
    c->cseq = 0;
    ue_step_bound(ue, ue->cfg.timeout_ms);
    ue_event(ue, "call incoming from=%s", c->remote_uri);
    ring = invite_response(ue, req, 180);
    ok = invite_response(ue, req, 200);
    c->ok = ok ? sip_msg_clone(ok) : NULL;
    if (!ring || !ok || !c->ok) {
        sip_msg_free(ring);
        sip_msg_free(ok);
        sip_txn_server_reply_code(st, 500, NULL);
        ue_event(ue, "call failed: cannot build our responses");
        call_over(ue, false);
        return;
    }
    c->state = UE_CALL_RINGING;
    c->invite = st;
    sip_txn_set_on_end(st, on_txn_end, ue);
    sip_txn_server_reply(st, ring);
    sip_txn_server_reply(st, ok);
    c->retx_ms = UE_T1_MS;
    ims_timer_start(ue->loop, &c->timer, c->retx_ms, on_retx, ue);
    ims_timer_start(ue->loop, &c->retx_end, 64 * UE_T1_MS, on_no_ack, ue);
}

void ue_call_answer(ue_t *ue, uint32_t count)
{
    ue->count = count;
    if (count == 0)
        ue_done(ue, true);
}

void ue_call_on_ack(ue_t *ue, sip_msg_t *ack)
{
    ue_call_t *c = &ue->call;
    const char *cid = sip_msg_call_id(ack);

    if (c->state == UE_CALL_RINGING && cid && strcmp(cid, c->call_id) == 0) {
        ims_timer_stop(ue->loop, &c->timer);
        ims_timer_stop(ue->loop, &c->retx_end);
        sip_msg_free(c->ok);
        c->ok = NULL;
        c->state = UE_CALL_UP;
        ue_event(ue, "call answered");
    }
    sip_msg_free(ack);
}

static bool in_our_dialog(const ue_t *ue, const sip_msg_t *req)
{
    const char *cid = sip_msg_call_id(req);

    return ue->call.state != UE_CALL_IDLE && cid && strcmp(cid, ue->call.call_id) == 0;
}

static void on_bye(ue_t *ue, sip_txn_t *st, const sip_msg_t *req)
{
    if (!in_our_dialog(ue, req)) {
        sip_txn_server_reply_code(st, 481, NULL);
        return;
    }
    sip_txn_server_reply_code(st, 200, NULL);
    ue_event(ue, "call ended by-remote");
    call_over(ue, true);
}

/* §9.2: 200 for the CANCEL; 487 for the INVITE only while it has no final response. */
static void on_cancel(ue_t *ue, sip_txn_t *st, const sip_msg_t *req)
{
    sip_txn_t *inv = ue->call.invite;

    sip_txn_server_reply_code(st, 200, NULL);
    if (inv && sip_txn_is_server(inv) && in_our_dialog(ue, req) && sip_txn_final_code(inv) == 0) {
        sip_txn_server_reply_code(inv, 487, NULL);
        ue_event(ue, "call cancelled by-remote");
        call_over(ue, false);
    }
}

int ue_call_on_request(ue_t *ue, sip_txn_t *st, const sip_msg_t *req)
{
    const char *m = sip_msg_method(req);

    if (strcmp(m, "BYE") == 0) {
        on_bye(ue, st, req);
    } else if (strcmp(m, "CANCEL") == 0) {
        on_cancel(ue, st, req);
    } else if (strcmp(m, "INVITE") != 0) {
        return IMS_DECLINED;
    } else if (sip_msg_to_tag(req) && in_our_dialog(ue, req)) {
        /* A re-INVITE (refresh, hold): the same session again. */
        sip_msg_t *r = invite_response(ue, req, 200);

        if (r)
            sip_txn_server_reply(st, r);
        else
            sip_txn_server_reply_code(st, 500, NULL);
    } else if (ue->call.state != UE_CALL_IDLE || !answering(ue)) {
        sip_txn_server_reply_code(st, ue->call.state != UE_CALL_IDLE ? 486 : 480, NULL);
        ue_event(ue, "call refused code=%d", ue->call.state != UE_CALL_IDLE ? 486 : 480);
    } else {
        incoming(ue, st, req);
    }
    return IMS_OK;
}
