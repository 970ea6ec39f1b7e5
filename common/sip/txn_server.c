/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Server transactions (RFC 3261 §17.2, Figures 7 and 8, with RFC 6026's
 * Accepted state) and where their responses go (§18.2.2, RFC 3581).
 *
 * Every response the TU sends is serialised once; the text of the last one is
 * kept while a retransmitted request may need it again (the last provisional
 * in Proceeding, the final in Completed). A 2xx to an INVITE is not kept: in
 * Accepted a retransmitted INVITE is absorbed and the TU retransmits the 2xx.
 *
 * Once the final response is out, the parsed request is freed (from the
 * reaper, outside the TU's stack): the 32 s a transaction then waits out
 * Timer H/J/L need only its key, destination and response text, and keeping
 * every parsed request of the last half-minute costs memory and cache.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/txn_int.h"

/* ---- server side: where responses go ---- */

/* Is host (a Via sent-by host, brackets allowed) the address a? */
static bool host_is_addr(const char *host, const sip_addr_t *a)
{
    char buf[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    size_t n = strlen(host);

    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        if (n - 2 >= sizeof(buf))
            return false;
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        host = buf;
    }
    if (a->ss.ss_family == AF_INET)
        return inet_pton(AF_INET, host, bin) == 1 &&
               memcmp(bin, &((const struct sockaddr_in *)&a->ss)->sin_addr, 4) == 0;
    if (a->ss.ss_family == AF_INET6)
        return inet_pton(AF_INET6, host, bin) == 1 &&
               memcmp(bin, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16) == 0;
    return false;
}

static void via_param_set(osip_via_t *via, const char *name, const char *value)
{
    osip_generic_param_t *p = NULL;

    osip_via_param_get_byname(via, (char *)name, &p);
    if (p) {
        txn_text_free(p->gvalue);
        p->gvalue = osip_strdup(value);
    } else {
        osip_via_param_add(via, osip_strdup(name), osip_strdup(value));
    }
}

/* §18.2.1 and RFC 3581: record in the top Via where the request really came from. */
void txn_via_mark_source(sip_msg_t *req, osip_via_t *via)
{
    const sip_addr_t *src = &req->rcv.remote;
    osip_generic_param_t *rport = NULL;
    char ip[INET6_ADDRSTRLEN], port[8];
    const void *bin;

    if (src->ss.ss_family == AF_INET)
        bin = &((const struct sockaddr_in *)&src->ss)->sin_addr;
    else if (src->ss.ss_family == AF_INET6)
        bin = &((const struct sockaddr_in6 *)&src->ss)->sin6_addr;
    else
        return; /* built locally: nothing to record */
    if (!via->host || !sip_ip_str(src->ss.ss_family, bin, ip, sizeof(ip)))
        return;
    osip_via_param_get_byname(via, "rport", &rport);
    /* RFC 3581 §4: with rport, received goes in even when the host matches. */
    if (rport || !host_is_addr(via->host, src))
        via_param_set(via, "received", ip);
    if (rport && (!rport->gvalue || !rport->gvalue[0])) {
        sip_utoa(sip_addr_port(src), port);
        txn_text_free(rport->gvalue);
        rport->gvalue = osip_strdup(port);
    }
}

static uint16_t port_value(const char *s)
{
    char *end;
    long v;

    if (!s || !*s)
        return 0;
    v = strtol(s, &end, 10);
    return (*end || v <= 0 || v > 65535) ? 0 : (uint16_t)v;
}

/* §18.2.2: where the responses of req go (after via_mark_source). */
void txn_response_dest(const sip_msg_t *req, const osip_via_t *via, sip_dest_t *d)
{
    osip_generic_param_t *received = NULL, *rport = NULL;
    const char *host;
    uint16_t port;

    memset(d, 0, sizeof(*d));
    d->proto = req->rcv.proto;
    /* From the socket it came in on (RFC 3581 §4; the P-CSCF's protected port). */
    d->local = req->rcv.local;
    if (d->proto != SIP_PROTO_UDP) {
        /* The connection it came on; the transport reconnects to remote if it closed. */
        d->addr = req->rcv.remote;
        d->conn_id = req->rcv.conn_id;
        return;
    }
    osip_via_param_get_byname((osip_via_t *)via, "received", &received);
    osip_via_param_get_byname((osip_via_t *)via, "rport", &rport);
    host = (received && received->gvalue) ? received->gvalue : via->host;
    port = rport ? port_value(rport->gvalue) : 0;
    if (!port)
        port = port_value(via->port);
    if (!port)
        port = 5060;
    if (host && sip_addr_from(&d->addr, host, port) == IMS_OK)
        return;
    /* A host name we cannot resolve here: answer the source address at that port. */
    d->addr = req->rcv.remote;
    if (d->addr.ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&d->addr.ss)->sin_port = htons(port);
    else if (d->addr.ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&d->addr.ss)->sin6_port = htons(port);
}

/* ---- server side: sending ---- */

/* Serialise resp (consumed) and send it; keep the text for retransmission when
 * keep, else forget any kept text. IMS_ERROR when it could not be sent. */
static int server_send(sip_txn_t *t, sip_msg_t *resp, bool keep)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = sip_msg_to_str(resp, &buf, &len);

    sip_msg_free(resp);
    if (rc != IMS_OK)
        return IMS_ERROR;
    rc = sip_transport_send(t->layer->tp, &t->dst, buf, len);
    if (rc != IMS_OK)
        IMS_WARN("txn: response could not be sent");
    txn_text_free(t->out);
    t->out = NULL;
    t->out_len = 0;
    if (keep) {
        t->out = buf;
        t->out_len = len;
    } else {
        txn_text_free(buf);
    }
    return rc == IMS_OK ? IMS_OK : IMS_ERROR;
}

static void server_resend(sip_txn_t *t)
{
    if (t->out)
        sip_transport_send(t->layer->tp, &t->dst, t->out, t->out_len);
}

/* ---- INVITE server (Figure 7 as amended by RFC 6026) ---- */

/* The TU answered, or the wait is over: no automatic 100 any more. */
static void trying_cancel(sip_txn_t *t)
{
    if (t->trying_due) {
        t->trying_due = false;
        ims_timer_stop(t->layer->loop, &t->retx);
    }
}

static void trying_send(sip_txn_t *t)
{
    trying_cancel(t);
    sip_txn_server_reply_code(t, 100, NULL);
}

static int ist_send(sip_txn_t *t, sip_msg_t *resp)
{
    int code = sip_msg_status(resp);
    const sip_txn_timers_t *tm = &t->layer->tm;
    int rc;

    trying_cancel(t);
    if (code < 200)
        return server_send(t, resp, true);
    t->final_code = code;
    t->layer->finals[1][code / 100 - 2]++;
    txn_shed_server(t);
    if (code < 300) {
        /* The TU retransmits 2xx itself (§13.3.1.4); we only absorb and wait. */
        rc = server_send(t, resp, false);
        txn_set_state(t, TXN_ACCEPTED);
        txn_start_end(t, 64 * tm->t1_ms); /* Timer L */
        return rc;
    }
    rc = server_send(t, resp, true);
    txn_set_state(t, TXN_COMPLETED);
    if (!t->reliable)
        txn_start_retx(t, tm->t1_ms); /* Timer G */
    txn_start_end(t, 64 * tm->t1_ms); /* Timer H */
    return rc;
}

int txn_ist_proceeding(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    switch (ev) {
    case TXN_EV_REPLY:
        return ist_send(t, msg);
    case TXN_EV_REQUEST:
        if (t->trying_due)
            trying_send(t); /* the previous hop is retransmitting: stop it now */
        else
            server_resend(t); /* the last provisional, if any */
        break;
    case TXN_EV_TIMER_RETX:
        if (t->trying_due)
            trying_send(t);
        break;
    default:
        break;
    }
    txn_msg_drop(msg);
    return IMS_OK;
}

int txn_ist_completed(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    const sip_txn_timers_t *tm = &t->layer->tm;

    switch (ev) {
    case TXN_EV_REQUEST:
        server_resend(t);
        break;
    case TXN_EV_ACK:
        ims_timer_stop(t->layer->loop, &t->retx);
        txn_set_state(t, TXN_CONFIRMED);
        txn_start_end(t, t->reliable ? 0 : tm->t4_ms); /* Timer I */
        break;
    case TXN_EV_TIMER_RETX: /* Timer G */
        server_resend(t);
        txn_start_retx(t, t->retx_ms * 2 < tm->t2_ms ? t->retx_ms * 2 : tm->t2_ms);
        break;
    case TXN_EV_TIMER_END: /* Timer H: no ACK came */
        txn_terminate(t);
        break;
    case TXN_EV_REPLY:
        txn_msg_drop(msg);
        return IMS_ERROR;
    default:
        break;
    }
    txn_msg_drop(msg);
    return IMS_OK;
}

int txn_ist_confirmed(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    if (ev == TXN_EV_TIMER_END) /* Timer I */
        txn_terminate(t);
    txn_msg_drop(msg);
    return ev == TXN_EV_REPLY ? IMS_ERROR : IMS_OK;
}

int txn_ist_accepted(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    sip_txn_layer_t *l = t->layer;

    switch (ev) {
    case TXN_EV_REPLY:
        /* RFC 6026 §7.1: further 2xx (forks, TU retransmissions) go out; nothing else. */
        if (sip_msg_status(msg) >= 200 && sip_msg_status(msg) < 300)
            return server_send(t, msg, false);
        txn_msg_drop(msg);
        return IMS_ERROR;
    case TXN_EV_ACK:
        /* An ACK for the 2xx (an RFC 2543 peer reuses the INVITE's key): the TU's. */
        if (l->user.on_ack)
            l->user.on_ack(l->user_arg, msg);
        else
            txn_msg_drop(msg);
        return IMS_OK;
    case TXN_EV_TIMER_END: /* Timer L */
        txn_terminate(t);
        break;
    default:
        break; /* a retransmitted INVITE: absorbed (RFC 6026 §7.1) */
    }
    txn_msg_drop(msg);
    return IMS_OK;
}

/* ---- non-INVITE server (Figure 8) ---- */

static int nist_send(sip_txn_t *t, sip_msg_t *resp)
{
    int code = sip_msg_status(resp);
    int rc = server_send(t, resp, true);

    if (code < 200) {
        txn_set_state(t, TXN_PROCEEDING);
        return rc;
    }
    t->final_code = code;
    t->layer->finals[0][code / 100 - 2]++;
    txn_shed_server(t);
    txn_set_state(t, TXN_COMPLETED);
    txn_start_end(t, t->reliable ? 0 : 64 * t->layer->tm.t1_ms); /* Timer J */
    return rc;
}

int txn_nist_trying(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    if (ev == TXN_EV_REPLY)
        return nist_send(t, msg);
    txn_msg_drop(msg); /* a retransmission before any response: nothing to resend */
    return IMS_OK;
}

int txn_nist_proceeding(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    if (ev == TXN_EV_REPLY)
        return nist_send(t, msg);
    if (ev == TXN_EV_REQUEST)
        server_resend(t);
    txn_msg_drop(msg);
    return IMS_OK;
}

int txn_nist_completed(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    if (ev == TXN_EV_REQUEST)
        server_resend(t);
    else if (ev == TXN_EV_TIMER_END) /* Timer J */
        txn_terminate(t);
    txn_msg_drop(msg);
    return ev == TXN_EV_REPLY ? IMS_ERROR : IMS_OK;
}

/* ---- server side: API ---- */

int sip_txn_server_reply(sip_txn_t *st, sip_msg_t *resp)
{
    int code;

    if (!resp)
        return IMS_ERROR;
    code = sip_msg_status(resp);
    if (!st || !sip_txn_is_server(st) || code < 100 || code > 699) {
        sip_msg_free(resp);
        return IMS_ERROR;
    }
    return txn_dispatch(st, TXN_EV_REPLY, resp);
}

void sip_txn_server_trying(sip_txn_t *st)
{
    if (!st || st->kind != TXN_IST || st->state != TXN_PROCEEDING || st->out || st->trying_due)
        return;
    st->trying_due = true;
    txn_start_retx(st, st->layer->tm.trying_ms);
}

int sip_txn_server_reply_code(sip_txn_t *st, int code, const char *reason)
{
    sip_msg_t *resp;

    if (!st || !st->req || !sip_txn_is_server(st))
        return IMS_ERROR;
    /* One tag for every response we build on this transaction (§8.2.6.2). */
    if (code > 100 && !st->to_tag[0])
        sip_random_token(st->to_tag, sizeof(st->to_tag) - 1);
    resp = sip_msg_make_response(st->req, code, reason, st->to_tag[0] ? st->to_tag : NULL);
    if (!resp)
        return IMS_ERROR;
    return sip_txn_server_reply(st, resp);
}
