/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Client transactions (RFC 3261 §17.1, Figures 5 and 6, with RFC 6026's
 * Accepted state), and the two requests the layer builds on its own: the ACK
 * for a non-2xx final response (§17.1.1.3) and CANCEL (§9.1).
 *
 * The request is serialised once, when it is sent; retransmissions resend
 * that text. In INVITE Completed the text is replaced by the ACK, which is
 * what a retransmitted final response is answered with. After the final
 * response has been delivered the request (parsed and text) is freed.
 *
 * RFC 3261 gives an INVITE in Proceeding no timeout (the proxy's Timer C or a
 * UA's CANCEL ends it). Once we send a CANCEL, §9.1's "no final response in
 * 64*T1" guard runs on the INVITE's end timer so it cannot hang forever.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/txn_int.h"

#define TXN_BRANCH_MAX 160

/* ---- building ---- */

static const char *proto_name(sip_proto_t p)
{
    return p == SIP_PROTO_TCP ? "TCP" : p == SIP_PROTO_TLS ? "TLS" : "UDP";
}

/* Our address for dst's protocol and family, as Via host text and port. */
static int local_host(sip_txn_layer_t *l, const sip_dest_t *dst, char *host, size_t hlen,
                      uint16_t *port)
{
    sip_addr_t local;
    const void *bin;
    int family = dst->addr.ss.ss_family;

    if (sip_transport_local(l->tp, dst->proto, family, &local) != IMS_OK)
        return IMS_ERROR;
    if (local.ss.ss_family == AF_INET)
        bin = &((const struct sockaddr_in *)&local.ss)->sin_addr;
    else if (local.ss.ss_family == AF_INET6)
        bin = &((const struct sockaddr_in6 *)&local.ss)->sin6_addr;
    else
        return IMS_ERROR;
    if (!sip_ip_str(local.ss.ss_family, bin, host, hlen))
        return IMS_ERROR;
    *port = sip_addr_port(&local);
    return IMS_OK;
}

/* A new branch (§8.1.1.7): the cookie, the hint, the layer's salt and count. */
static bool new_branch(sip_txn_layer_t *l, const char *hint, char *branch, size_t blen)
{
    sip_tb_t t = sip_tb(branch, blen);

    sip_tb_str(&t, TXN_COOKIE);
    sip_tb_str(&t, hint ? hint : "");
    sip_tb_str(&t, l->branch_salt);
    sip_tb_hex(&t, ++l->branch_seq);
    return t.ok;
}

/* Push our Via with a new branch (written to branch) onto req (§8.1.1.7, §18.1.1).
 * libosip2 prints an IPv6 host in brackets. */
static int push_via(sip_txn_layer_t *l, sip_msg_t *req, const sip_dest_t *dst, const char *hint,
                    char *branch, size_t blen)
{
    char host[INET6_ADDRSTRLEN], port[8];
    uint16_t pnum;
    osip_via_t *via = NULL;

    if (local_host(l, dst, host, sizeof(host), &pnum) != IMS_OK)
        return IMS_ERROR;
    sip_utoa(pnum, port);
    if (!new_branch(l, hint, branch, blen) || osip_via_init(&via) != 0)
        return IMS_ERROR;
    via_set_version(via, osip_strdup("2.0"));
    via_set_protocol(via, osip_strdup(proto_name(dst->proto)));
    via_set_host(via, osip_strdup(host));
    via_set_port(via, osip_strdup(port));
    osip_via_set_branch(via, osip_strdup(branch));
    if (dst->proto == SIP_PROTO_UDP)
        osip_via_param_add(via, osip_strdup("rport"), NULL); /* RFC 3581 */
    if (osip_list_add(&req->m->vias, via, 0) < 0) {
        osip_via_free(via);
        return IMS_ERROR;
    }
    return IMS_OK;
}

static int clone_routes(const osip_message_t *o, osip_message_t *m)
{
    for (int i = 0; i < osip_list_size(&o->routes); i++) {
        osip_route_t *r = osip_list_get(&o->routes, i), *c = NULL;

        if (osip_route_clone(r, &c) != 0)
            return IMS_ERROR;
        if (osip_list_add(&m->routes, c, -1) < 0) {
            osip_route_free(c);
            return IMS_ERROR;
        }
    }
    return IMS_OK;
}

static int copy_headers(const osip_message_t *o, osip_message_t *m, const osip_to_t *to)
{
    osip_via_t *top = osip_list_get(&o->vias, 0), *via = NULL;

    if (!o->req_uri || !o->call_id || !o->from || !to || !o->cseq || !o->cseq->number || !top)
        return IMS_ERROR;
    if (osip_uri_clone(o->req_uri, &m->req_uri) != 0 ||
        osip_call_id_clone(o->call_id, &m->call_id) != 0 ||
        osip_from_clone(o->from, &m->from) != 0 || osip_to_clone(to, &m->to) != 0 ||
        osip_via_clone(top, &via) != 0)
        return IMS_ERROR;
    if (osip_list_add(&m->vias, via, -1) < 0) {
        osip_via_free(via);
        return IMS_ERROR;
    }
    return clone_routes(o, m);
}

/*
 * The ACK of §17.1.1.3 and the CANCEL of §9.1 share their shape: the original's
 * Request-URI, Call-ID, From, CSeq number, top Via (same branch) and Route set,
 * the method in the request line and CSeq, and the To given. Serialised into
 * *text (osip_free). IMS_OK / IMS_ERROR.
 */
static int build_sibling(const sip_msg_t *req, const char *method, const osip_to_t *to, char **text,
                         size_t *len)
{
    osip_message_t *m = NULL;
    int rc = IMS_ERROR;

    if (osip_message_init(&m) != 0)
        return IMS_ERROR;
    osip_message_set_method(m, osip_strdup(method));
    osip_message_set_version(m, osip_strdup("SIP/2.0"));
    if (copy_headers(req->m, m, to) == IMS_OK && osip_cseq_init(&m->cseq) == 0) {
        osip_cseq_set_number(m->cseq, osip_strdup(req->m->cseq->number));
        osip_cseq_set_method(m->cseq, osip_strdup(method));
        if (osip_message_set_max_forwards(m, "70") == 0 &&
            osip_message_set_content_length(m, "0") == 0 && sip_osip_to_str(m, text, len) == IMS_OK)
            rc = IMS_OK;
    }
    osip_message_free(m);
    return rc;
}

/* ---- sending and reporting ---- */

/* unready (or NULL): see sip_transport_send_unready. */
static int client_send(sip_txn_t *t, uint32_t *unready)
{
    return sip_transport_send_unready(t->layer->tp, &t->dst, t->out, t->out_len, unready);
}

static void client_deliver(sip_txn_t *t, sip_msg_t *resp)
{
    if (t->cb)
        t->cb(t->cb_arg, t, resp, SIP_TXN_OK);
    else
        sip_msg_free(resp);
}

/* End t and tell its TU why. Terminated first, so the TU sees it ended. */
static void client_fail(sip_txn_t *t, sip_txn_err_t err)
{
    txn_terminate(t);
    if (t->cb)
        t->cb(t->cb_arg, t, NULL, err);
}

void txn_conn_failed(void *arg, uint32_t conn_id)
{
    sip_txn_layer_t *l = arg;
    sip_txn_t *t, *next, *lost = NULL;

    /* Take them all off first: a TU told of one may start others (new connections,
     * at the head) or end some of these (CANCEL of sibling branches). One ended
     * meanwhile is only skipped: the reaper frees from the loop, not from here.
     * Off the list (unready_conn 0), unready_next is free to chain the lost ones. */
    for (t = l->unready; t != NULL; t = next) {
        next = t->unready_next;
        if (t->unready_conn != conn_id)
            continue;
        txn_unready_set(t, 0);
        t->unready_next = lost;
        lost = t;
    }
    for (t = lost; t != NULL; t = next) {
        next = t->unready_next;
        t->unready_next = NULL;
        if (t->state == TXN_TERMINATED)
            continue;
        IMS_INFO("txn %s: connection %u failed before it was ready", t->key, conn_id);
        client_fail(t, SIP_TXN_TRANSPORT);
    }
}

/* Timer A / E: resend; a transport error ends the transaction (§17.1.1.2, §17.1.2.2). */
static bool client_retransmit(sip_txn_t *t)
{
    if (client_send(t, NULL) == IMS_OK)
        return true;
    client_fail(t, SIP_TXN_TRANSPORT);
    return false;
}

/* File, send and time a client transaction. text (the serialised request) and
 * req (NULL for our own CANCEL) are consumed either way. */
static sip_txn_t *client_begin(sip_txn_layer_t *l, sip_msg_t *req, char *text, size_t len,
                               const char *branch, const char *method, const sip_dest_t *dst,
                               sip_txn_client_cb cb, void *arg)
{
    bool invite = strcmp(method, "INVITE") == 0;
    uint32_t unready;
    txn_key_t k;
    sip_txn_t *t;

    if (!txn_client_key(&k, branch, method) ||
        txn_create(l, invite ? TXN_ICT : TXN_NICT, &k, &t) != IMS_OK) {
        txn_text_free(text);
        txn_msg_drop(req);
        return NULL;
    }
    t->req = req;
    t->out = text;
    t->out_len = len;
    t->dst = *dst;
    t->reliable = dst->proto != SIP_PROTO_UDP;
    t->cb = cb;
    t->cb_arg = arg;
    if (client_send(t, &unready) != IMS_OK) {
        txn_discard(t);
        return NULL;
    }
    if (!t->reliable)
        txn_start_retx(t, l->tm.t1_ms); /* Timer A / E */
    txn_unready_set(t, unready);
    txn_start_end(t, 64 * l->tm.t1_ms); /* Timer B / F */
    return t;
}

sip_txn_t *sip_txn_client_start(sip_txn_layer_t *l, sip_msg_t *req, const sip_dest_t *dst,
                                const char *branch_hint, sip_txn_client_cb cb, void *arg)
{
    const char *method = req ? sip_msg_method(req) : NULL;
    const char *cseq = req ? sip_msg_cseq_method(req) : NULL;
    char branch[TXN_BRANCH_MAX];
    char *text = NULL;
    size_t len = 0;

    /* An ACK is never a transaction; CSeq must name the method (responses match on it). */
    if (!dst || !method || !cseq || !sip_msg_is_request(req) || strcmp(method, "ACK") == 0 ||
        strcmp(method, cseq) != 0 ||
        push_via(l, req, dst, branch_hint, branch, sizeof(branch)) != IMS_OK ||
        sip_msg_to_str(req, &text, &len) != IMS_OK) {
        IMS_WARN("txn: %s not sent: no local address or unusable request",
                 method ? method : "request");
        txn_msg_drop(req);
        return NULL;
    }
    return client_begin(l, req, text, len, branch, method, dst, cb, arg);
}

/* The line push_via's Via prints as, with a new branch (written to branch). */
static int via_line(sip_txn_layer_t *l, const sip_dest_t *dst, const char *hint, char *branch,
                    size_t blen, char *line, size_t llen, size_t *n)
{
    char host[INET6_ADDRSTRLEN];
    uint16_t port;
    bool v6;
    sip_tb_t t = sip_tb(line, llen);

    if (local_host(l, dst, host, sizeof(host), &port) != IMS_OK ||
        !new_branch(l, hint, branch, blen))
        return IMS_ERROR;
    v6 = strchr(host, ':') != NULL;
    sip_tb_str(&t, "Via: SIP/2.0/");
    sip_tb_str(&t, proto_name(dst->proto));
    sip_tb_str(&t, v6 ? " [" : " ");
    sip_tb_str(&t, host);
    sip_tb_str(&t, v6 ? "]:" : ":");
    sip_tb_uint(&t, port);
    sip_tb_str(&t, ";branch=");
    sip_tb_str(&t, branch);
    sip_tb_str(&t, dst->proto == SIP_PROTO_UDP ? ";rport\r\n" : "\r\n");
    *n = (size_t)(t.p - line);
    return t.ok ? IMS_OK : IMS_ERROR;
}

/* What the CANCEL or the ACK of a forwarded INVITE is built from
 * (build_sibling): its Request-URI (uri), Call-ID, From, To, CSeq and Route
 * set, and our Via (the value in via[0..n)); not the rest of the request. */
static sip_msg_t *sibling_base(const osip_message_t *o, const osip_uri_t *uri, char *via, size_t n)
{
    sip_msg_t *s = calloc(1, sizeof(*s));
    osip_message_t *m = NULL;
    char end = via[n];
    int rc;

    if (!s || osip_message_init(&m) != 0) {
        free(s);
        return NULL;
    }
    s->m = m;
    via[n] = '\0';
    rc = o->call_id && o->from && o->to && o->cseq && osip_uri_clone(uri, &m->req_uri) == 0 &&
         osip_call_id_clone(o->call_id, &m->call_id) == 0 &&
         osip_from_clone(o->from, &m->from) == 0 && osip_to_clone(o->to, &m->to) == 0 &&
         osip_cseq_clone(o->cseq, &m->cseq) == 0 && osip_message_set_via(m, via) == 0 &&
         clone_routes(o, m) == IMS_OK;
    via[n] = end;
    if (!rc) {
        sip_msg_free(s);
        return NULL;
    }
    return s;
}

int sip_txn_client_forward(sip_txn_layer_t *l, const sip_msg_t *req, sip_print_over_t *over,
                           const sip_dest_t *dst, const char *branch_hint,
                           sip_txn_client_cb cb, void *arg, sip_txn_t **out)
{
    const char *method = req ? sip_msg_method(req) : NULL;
    const char *cseq = req ? sip_msg_cseq_method(req) : NULL;
    char branch[TXN_BRANCH_MAX], via[TXN_BRANCH_MAX + INET6_ADDRSTRLEN + 64];
    char *text = NULL, *exact;
    sip_msg_t *base = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (!dst || !method || !cseq || !sip_msg_is_request(req) || strcmp(method, "ACK") == 0 ||
        strcmp(method, cseq) != 0)
        return IMS_DECLINED;
    if (via_line(l, dst, branch_hint, branch, sizeof(branch), via, sizeof(via),
                 &over->via_len) != IMS_OK)
        return IMS_DECLINED;
    over->via = via;
    rc = sip_msg_print_over(req->m, over, &text, &len);
    over->via = NULL;
    /* "Via: " value CRLF */
    if (rc == IMS_OK && strcmp(method, "INVITE") == 0 &&
        !(base = sibling_base(req->m, over->req_uri ? over->req_uri : req->m->req_uri, via + 5,
                              over->via_len - 7))) {
        osip_free(text);
        rc = IMS_DECLINED;
    }
    over->via_len = 0;
    if (rc == IMS_DECLINED)
        l->branch_seq--; /* unused: the copying path numbers its branch as before */
    if (rc != IMS_OK)
        return rc;
    /* Kept until the transaction ends: only the bytes. */
    exact = osip_realloc(text, len + 1);
    *out = client_begin(l, base, exact ? exact : text, len, branch, method, dst, cb, arg);
    return *out ? IMS_OK : IMS_ERROR;
}

/* ---- CANCEL (§9.1) and ACK (§17.1.1.3) ---- */

static void send_cancel(sip_txn_t *t)
{
    osip_via_t *via = t->req ? sip_msg_top_via(t->req) : NULL;
    const char *branch = via ? sip_msg_via_branch(via) : NULL;
    char *text = NULL;
    size_t len = 0;

    t->cancel_pending = false;
    t->cancel_sent = true;
    /* To as in the request (no tag); its responses are absorbed (cb NULL). */
    if (!branch || build_sibling(t->req, "CANCEL", t->req->m->to, &text, &len) != IMS_OK ||
        !client_begin(t->layer, NULL, text, len, branch, "CANCEL", &t->dst, NULL, NULL))
        IMS_WARN("txn: CANCEL could not be sent");
    txn_start_end(t, 64 * t->layer->tm.t1_ms); /* the §9.1 guard */
}

void sip_txn_client_cancel(sip_txn_t *ct)
{
    if (!ct || ct->kind != TXN_ICT || !ct->req || ct->cancel_sent)
        return;
    if (ct->state == TXN_CALLING)
        ct->cancel_pending = true; /* §9.1: not before a provisional response */
    else if (ct->state == TXN_PROCEEDING)
        send_cancel(ct);
}

void sip_txn_client_detach(sip_txn_t *ct)
{
    if (!ct || sip_txn_is_server(ct))
        return;
    ct->cb = NULL;
    ct->cb_arg = NULL;
    ct->end_cb = NULL;
    ct->end_arg = NULL;
}

/* From now on the ACK is what Completed resends (the request is done with). */
static void send_ack(sip_txn_t *t, const sip_msg_t *resp)
{
    txn_text_free(t->out);
    t->out = NULL;
    t->out_len = 0;
    if (!t->req || !resp->m->to ||
        build_sibling(t->req, "ACK", resp->m->to, &t->out, &t->out_len) != IMS_OK) {
        IMS_WARN("txn: ACK could not be built");
        t->out = NULL;
        return;
    }
    client_send(t, NULL);
}

/* ---- INVITE client (Figure 5 as amended by RFC 6026) ---- */

static int ict_final(sip_txn_t *t, sip_msg_t *resp)
{
    int code = sip_msg_status(resp);

    ims_timer_stop(t->layer->loop, &t->retx);
    t->cancel_pending = false;
    t->final_code = code;
    if (code < 300) {
        txn_set_state(t, TXN_ACCEPTED);
        txn_start_end(t, 64 * t->layer->tm.t1_ms); /* Timer M */
    } else {
        txn_set_state(t, TXN_COMPLETED);
        send_ack(t, resp);
        txn_start_end(t, t->reliable ? 0 : TXN_TIMER_D_MS); /* Timer D */
    }
    client_deliver(t, resp);
    txn_shed_client(t);
    return IMS_OK;
}

int txn_ict_calling(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    switch (ev) {
    case TXN_EV_TIMER_RETX: /* Timer A */
        if (client_retransmit(t))
            txn_start_retx(t, t->retx_ms * 2);
        return IMS_OK;
    case TXN_EV_TIMER_END: /* Timer B */
        client_fail(t, SIP_TXN_TIMEOUT);
        return IMS_OK;
    case TXN_EV_RESPONSE:
        if (sip_msg_status(msg) >= 200)
            return ict_final(t, msg);
        ims_timer_stop(t->layer->loop, &t->retx);
        ims_timer_stop(t->layer->loop, &t->end);
        txn_set_state(t, TXN_PROCEEDING);
        if (t->cancel_pending)
            send_cancel(t);
        client_deliver(t, msg);
        return IMS_OK;
    default:
        txn_msg_drop(msg);
        return IMS_OK;
    }
}

int txn_ict_proceeding(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    switch (ev) {
    case TXN_EV_RESPONSE:
        if (sip_msg_status(msg) >= 200)
            return ict_final(t, msg);
        client_deliver(t, msg);
        return IMS_OK;
    case TXN_EV_TIMER_END: /* CANCELled, and still no final response */
        client_fail(t, SIP_TXN_TIMEOUT);
        return IMS_OK;
    default:
        txn_msg_drop(msg);
        return IMS_OK;
    }
}

int txn_ict_completed(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    if (ev == TXN_EV_RESPONSE && sip_msg_status(msg) >= 300 && t->out)
        client_send(t, NULL);        /* the ACK, again */
    else if (ev == TXN_EV_TIMER_END) /* Timer D */
        txn_terminate(t);
    txn_msg_drop(msg);
    return IMS_OK;
}

int txn_ict_accepted(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    if (ev == TXN_EV_RESPONSE) {
        int code = sip_msg_status(msg);

        /* Every 2xx (retransmissions, other forks) is the TU's to ACK; once
         * the TU has detached, it gets them as it gets any stray response. */
        if (code >= 200 && code < 300) {
            if (t->cb)
                client_deliver(t, msg);
            else if (t->layer->user.on_stray_response)
                t->layer->user.on_stray_response(t->layer->user_arg, msg);
            else
                txn_msg_drop(msg);
            return IMS_OK;
        }
    } else if (ev == TXN_EV_TIMER_END) { /* Timer M */
        txn_terminate(t);
    }
    txn_msg_drop(msg);
    return IMS_OK;
}

/* ---- non-INVITE client (Figure 6) ---- */

static int nict_response(sip_txn_t *t, sip_msg_t *resp)
{
    int code = sip_msg_status(resp);

    if (code < 200) {
        txn_set_state(t, TXN_PROCEEDING);
    } else {
        ims_timer_stop(t->layer->loop, &t->retx);
        t->final_code = code;
        txn_set_state(t, TXN_COMPLETED);
        txn_start_end(t, t->reliable ? 0 : t->layer->tm.t4_ms); /* Timer K */
    }
    client_deliver(t, resp);
    if (code >= 200)
        txn_shed_client(t);
    return IMS_OK;
}

int txn_nict_trying(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    const sip_txn_timers_t *tm = &t->layer->tm;

    switch (ev) {
    case TXN_EV_TIMER_RETX: /* Timer E */
        if (client_retransmit(t))
            txn_start_retx(t, t->retx_ms * 2 < tm->t2_ms ? t->retx_ms * 2 : tm->t2_ms);
        return IMS_OK;
    case TXN_EV_TIMER_END: /* Timer F */
        client_fail(t, SIP_TXN_TIMEOUT);
        return IMS_OK;
    case TXN_EV_RESPONSE:
        return nict_response(t, msg);
    default:
        txn_msg_drop(msg);
        return IMS_OK;
    }
}

int txn_nict_proceeding(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    switch (ev) {
    case TXN_EV_TIMER_RETX: /* Timer E, now T2 */
        if (client_retransmit(t))
            txn_start_retx(t, t->layer->tm.t2_ms);
        return IMS_OK;
    case TXN_EV_TIMER_END: /* Timer F */
        client_fail(t, SIP_TXN_TIMEOUT);
        return IMS_OK;
    case TXN_EV_RESPONSE:
        return nict_response(t, msg);
    default:
        txn_msg_drop(msg);
        return IMS_OK;
    }
}

int txn_nict_completed(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    if (ev == TXN_EV_TIMER_END) /* Timer K */
        txn_terminate(t);
    txn_msg_drop(msg); /* retransmitted finals are absorbed */
    return IMS_OK;
}
