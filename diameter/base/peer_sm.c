/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The per-peer state machine (RFC 6733 §5.6) with the watchdog of RFC 3539
 * folded in. One function per state, each switching on the event.
 *
 * The states we keep, and why only these:
 *
 *   CLOSED         no connection. With connect set, the Tc timer (doubling up
 *                  to 8 x Tc after failures, back to Tc after an Open) starts
 *                  the next attempt; a peer that told us
 *                  DO_NOT_WANT_TO_TALK_TO_YOU is left alone.
 *   WAIT_CONN_ACK  our TCP connect is in progress (timeout: Tw).
 *   WAIT_I_CEA     our CER is out; waiting for the CEA (timeout: Tw).
 *   OPEN           RFC 6733's I-Open and R-Open: once capabilities are agreed
 *                  nothing depends on who connected, so one state serves both.
 *                  RFC 3539's OKAY lives here: Tw of silence sends a DWR, and
 *                  Tw more without any answer moves to SUSPECT.
 *   SUSPECT        RFC 3539's SUSPECT: requests waiting on the peer fail over
 *                  to another peer (T flag); any message from the peer brings
 *                  it back to OPEN, another Tw of silence closes it.
 *   CLOSING        our DPR is out (dia_node_stop); closed on DPA or after 2 s.
 *
 * Left out: Wait-Conn-Ack/Elect and Wait-Returns. RFC 6733 waits for its own
 * connect to finish before electing, so that both connections are never lost.
 * Election only compares Origin-Hosts, which we know as soon as the CER is in,
 * so we elect at once: when a CER arrives while our own connection is still
 * in WAIT_CONN_ACK or WAIT_I_CEA, the side with the higher Origin-Host
 * (octet-wise, §5.6.4) keeps the connection it initiated. The winner answers
 * the loser's CER with 4003 ELECTION_LOST and closes that connection; the
 * loser closes its own connection and accepts the winner's CER. Should the
 * winner's connect then fail, both sides simply retry after Tc, which is what
 * the extra RFC states would have achieved more slowly. A CER for a peer that
 * is already OPEN, SUSPECT or CLOSING is refused the same way (R-Reject).
 *
 * Inbound connections have no state machine until their CER names a
 * configured peer (anon_rx): until then the only acceptable message is a CER,
 * answered 3010 for strangers and 5010 without a common application.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer_int.h"

typedef enum sm_ev_type {
    EV_START,       /* dia_node_start */
    EV_STOP,        /* dia_node_stop */
    EV_CONN_UP,     /* our connect completed */
    EV_CONN_DOWN,   /* the peer's connection closed (already dead) */
    EV_TIMEOUT,     /* the state's timer */
    EV_R_CER,       /* an acceptable CER on another (inbound) connection */
    EV_RCV          /* a message on the peer's connection */
} sm_ev_type_t;

typedef struct sm_ev {
    sm_ev_type_t type;
    dia_conn_t *conn;
    dia_msg_t *msg;           /* owned by the dispatcher; NULL it to keep it */
    bool bad;                 /* EV_RCV: failed validation, err says why */
    dia_err_t err;
    const dia_apps_t *apps;   /* EV_R_CER */
    const char *host;         /* EV_R_CER: Origin-Host as received */
} sm_ev_t;

static void sm_dispatch(dia_peer_t *p, sm_ev_t *ev);

/* ---- helpers shared by the states ---- */

static void set_state(dia_peer_t *p, dia_peer_state_t s)
{
    if (p->state == s)
        return;
    p->state = s;
    IMS_INFO("dia: peer %s %s", p->host, dia_state_name(s));
}

static void timer_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    sm_ev_t ev = { .type = EV_TIMEOUT };

    sm_dispatch(arg, &ev);
}

static void arm(dia_peer_t *p, uint32_t ms)
{
    ims_timer_start(p->node->loop, &p->timer, ms, timer_cb, p);
}

/* Tw, jittered by up to ±2 s when Tw >= 6 s (RFC 3539 §3.4.1); shorter Tw (tests) exact. */
static uint32_t watchdog_ms(const dia_node_t *n)
{
    uint32_t tw = n->cfg.tw_ms;

    if (tw < 6000)
        return tw;
    return tw - 2000 + dia_rand32() % 4001;
}

static void schedule_reconnect(dia_peer_t *p)
{
    dia_node_t *n = p->node;
    uint32_t cap = n->cfg.tc_ms * 8;

    if (!p->connect || p->no_reconnect || n->stopping || n->freeing)
        return;
    arm(p, p->backoff_ms);
    p->backoff_ms = p->backoff_ms >= cap / 2 ? cap : p->backoff_ms * 2;
}

/* Leave the connection (closing it unless drain) and go to CLOSED. */
static void peer_closed(dia_peer_t *p, const char *why, bool drain)
{
    dia_conn_t *c = p->conn;

    p->conn = NULL;
    p->dwr_pending = false;
    ims_timer_stop(p->node->loop, &p->timer);
    if (p->state != DIA_PEER_CLOSED)
        IMS_INFO("dia: peer %s: %s", p->host, why);
    set_state(p, DIA_PEER_CLOSED);
    if (c && drain)
        dia_conn_drain(c);
    else if (c)
        dia_conn_close(c, why);
    schedule_reconnect(p);
    dia_node_check_stopped(p->node);
}

static void go_open(dia_peer_t *p, const dia_apps_t *apps)
{
    p->apps = *apps;
    p->backoff_ms = p->node->cfg.tc_ms;
    p->dwr_pending = false;
    set_state(p, DIA_PEER_OPEN);
    arm(p, watchdog_ms(p->node));
}

static void try_connect(dia_peer_t *p)
{
    dia_node_t *n = p->node;
    dia_conn_t *c;

    if (!p->connect || p->no_reconnect || n->stopping || n->freeing)
        return;
    if (p->attempted)
        p->reconnects++;
    p->attempted = true;
    c = dia_conn_connect(n, p);
    if (!c) {
        schedule_reconnect(p);
        return;
    }
    p->conn = c;
    set_state(p, DIA_PEER_WAIT_CONN_ACK);
    arm(p, n->cfg.tw_ms);
}

static void accept_cer(dia_peer_t *p, sm_ev_t *ev)
{
    dia_conn_adopt(ev->conn, p);
    p->conn = ev->conn;
    dia_base_send_cea(ev->conn, ev->msg, DIA_SUCCESS, NULL);
    go_open(p, ev->apps);
}

static void reject_cer(sm_ev_t *ev, const char *why)
{
    dia_base_send_cea(ev->conn, ev->msg, DIA_ELECTION_LOST, why);
    dia_conn_drain(ev->conn);
}

/* RFC 6733 §5.6.4 while our own connection is pending: the higher
 * Origin-Host keeps the connection it initiated. */
static void elect(dia_peer_t *p, sm_ev_t *ev)
{
    const char *ours = p->node->cfg.origin_host;
    size_t lo = strlen(ours), lt = strlen(ev->host);
    int cmp = memcmp(ours, ev->host, lo < lt ? lo : lt);
    dia_conn_t *own = p->conn;

    if (cmp == 0)
        cmp = lo > lt ? 1 : lo < lt ? -1 : 0;
    if (cmp > 0) {
        IMS_INFO("dia: peer %s: election won, keeping our connection", p->host);
        reject_cer(ev, "election lost");
        return;
    }
    IMS_INFO("dia: peer %s: election lost, taking its connection", p->host);
    p->conn = NULL;
    dia_conn_close(own, "election lost");
    accept_cer(p, ev);
}

/* The peer is gone: requests fail over, and we retry if we are the initiator. */
static void conn_lost(dia_peer_t *p, const char *why)
{
    peer_closed(p, why, false);
}

static void send_dpa_and_close(dia_peer_t *p, const dia_msg_t *dpr)
{
    dia_avp_t a;
    uint32_t cause = DIA_DC_REBOOTING;

    if (dia_msg_find(dpr, DIA_AVP_DISCONNECT_CAUSE, 0, &a))
        dia_avp_u32(&a, &cause);
    IMS_INFO("dia: peer %s sent DPR (cause %u)", p->host, cause);
    if (cause == DIA_DC_DO_NOT_WANT_TO_TALK_TO_YOU)
        p->no_reconnect = true;
    dia_base_answer(p->conn, dpr, DIA_SUCCESS, NULL);
    peer_closed(p, "disconnected by peer", true);
}

static bool is_base_cmd(uint32_t code)
{
    return code == DIA_CMD_CER || code == DIA_CMD_DWR || code == DIA_CMD_DPR;
}

static void rx_request(dia_peer_t *p, sm_ev_t *ev)
{
    dia_node_t *n = p->node;
    dia_msg_t *m = ev->msg;
    const dia_handler_t *h;
    dia_req_ctx_t ctx = { .peer_id = p->id, .conn_gen = ev->conn->gen };

    if (m->app_id == DIA_APP_COMMON && is_base_cmd(m->code)) {
        if (m->code == DIA_CMD_DWR)
            dia_base_answer(ev->conn, m, DIA_SUCCESS, NULL);
        else if (m->code == DIA_CMD_DPR)
            send_dpa_and_close(p, m);
        else
            IMS_NOTICE("dia: peer %s: CER on an open connection ignored", p->host);
        return;
    }
    h = dia_handler_find(n, m->app_id);
    if (h && !h->cb)
        h = NULL;  /* unregistered with dia_node_on_request(node, app, NULL, NULL) */
    if (m->app_id == DIA_APP_COMMON || !h) {
        uint32_t rc = m->app_id == DIA_APP_COMMON ? DIA_COMMAND_UNSUPPORTED
                                                  : DIA_APPLICATION_UNSUPPORTED;

        IMS_NOTICE("dia: peer %s: request %u for application %u refused with %u", p->host,
                   m->code, m->app_id, rc);
        dia_base_answer(ev->conn, m, rc, NULL);
        return;
    }
    ev->msg = NULL;
    h->cb(h->arg, n, &ctx, m);
}

/* Messages on an established connection (OPEN, SUSPECT, CLOSING). */
static void rx_common(dia_peer_t *p, sm_ev_t *ev)
{
    dia_msg_t *m = ev->msg;

    if (ev->bad) {
        IMS_NOTICE("dia: peer %s: invalid %s %u: %s (%u)", p->host,
                   dia_msg_is_request(m) ? "request" : "answer", m->code,
                   ev->err.what ? ev->err.what : "?", ev->err.result_code);
        if (dia_msg_is_request(m))
            dia_base_answer(ev->conn, m, ev->err.result_code, &ev->err);
        return;
    }
    if (dia_msg_is_request(m)) {
        rx_request(p, ev);
        return;
    }
    if (m->app_id == DIA_APP_COMMON && is_base_cmd(m->code))
        return;  /* DWA, DPA, CEA: their states saw them already */
    ev->msg = NULL;
    dia_pend_answer(ev->conn, m);
}

static bool is_answer(const sm_ev_t *ev, uint32_t code)
{
    return !ev->bad && !dia_msg_is_request(ev->msg) && ev->msg->code == code;
}

/* ---- the states ---- */

static void st_closed(dia_peer_t *p, sm_ev_t *ev)
{
    switch (ev->type) {
    case EV_START:
    case EV_TIMEOUT:
        try_connect(p);
        break;
    case EV_R_CER:
        accept_cer(p, ev);
        break;
    case EV_STOP:
        ims_timer_stop(p->node->loop, &p->timer);
        break;
    default:
        break;
    }
}

static void st_wait_conn_ack(dia_peer_t *p, sm_ev_t *ev)
{
    switch (ev->type) {
    case EV_CONN_UP:
        dia_base_send_cer(p->conn);
        set_state(p, DIA_PEER_WAIT_I_CEA);
        arm(p, p->node->cfg.tw_ms);
        break;
    case EV_CONN_DOWN:
        conn_lost(p, "connect failed");
        break;
    case EV_TIMEOUT:
        conn_lost(p, "connect timed out");
        break;
    case EV_R_CER:
        elect(p, ev);
        break;
    case EV_STOP:
        peer_closed(p, "stopping", false);
        break;
    default:
        break;
    }
}

static void rx_cea(dia_peer_t *p, sm_ev_t *ev)
{
    char host[DIA_HOST_MAX];
    uint32_t rc = 0;
    bool exp = false;
    dia_apps_t apps;

    if (!is_answer(ev, DIA_CMD_CER)) {
        conn_lost(p, ev->bad ? "invalid CEA" : "message before CEA");
        return;
    }
    if (dia_msg_result(ev->msg, &rc, &exp) != IMS_OK || exp || rc != DIA_SUCCESS) {
        IMS_NOTICE("dia: peer %s refused our CER with %u", p->host, rc);
        conn_lost(p, "CER refused");
        return;
    }
    if (!dia_base_origin_host(ev->msg, host, sizeof(host)) || strcasecmp(host, p->host) != 0) {
        IMS_WARN("dia: peer %s answered CER as '%s'", p->host, host);
        conn_lost(p, "CEA from another host");
        return;
    }
    if (!dia_base_read_apps(p->node, ev->msg, &apps)) {
        conn_lost(p, "no common application");
        return;
    }
    go_open(p, &apps);
}

static void st_wait_i_cea(dia_peer_t *p, sm_ev_t *ev)
{
    switch (ev->type) {
    case EV_RCV:
        rx_cea(p, ev);
        break;
    case EV_CONN_DOWN:
        conn_lost(p, "connection lost");
        break;
    case EV_TIMEOUT:
        conn_lost(p, "no CEA");
        break;
    case EV_R_CER:
        elect(p, ev);
        break;
    case EV_STOP:
        peer_closed(p, "stopping", false);
        break;
    default:
        break;
    }
}

static void stop_open(dia_peer_t *p)
{
    dia_base_send_dpr(p->conn, DIA_DC_REBOOTING);
    set_state(p, DIA_PEER_CLOSING);
    arm(p, DIA_STOP_WAIT_MS);
}

static void st_open(dia_peer_t *p, sm_ev_t *ev)
{
    switch (ev->type) {
    case EV_RCV:
        if (is_answer(ev, DIA_CMD_DWR))
            p->dwr_pending = false;
        arm(p, watchdog_ms(p->node));
        rx_common(p, ev);
        break;
    case EV_TIMEOUT:
        if (p->dwr_pending) {
            IMS_NOTICE("dia: peer %s: no DWA within Tw", p->host);
            set_state(p, DIA_PEER_SUSPECT);
            arm(p, watchdog_ms(p->node));
            dia_pend_failover(p->conn, false);
        } else {
            dia_base_send_dwr(p->conn);
            p->dwr_pending = true;
            arm(p, watchdog_ms(p->node));
        }
        break;
    case EV_CONN_DOWN:
        conn_lost(p, "connection lost");
        break;
    case EV_R_CER:
        reject_cer(ev, "already connected");
        break;
    case EV_STOP:
        stop_open(p);
        break;
    default:
        break;
    }
}

static void st_suspect(dia_peer_t *p, sm_ev_t *ev)
{
    switch (ev->type) {
    case EV_RCV:
        /* Any message shows the peer is alive (RFC 3539 failback). */
        p->dwr_pending = false;
        set_state(p, DIA_PEER_OPEN);
        arm(p, watchdog_ms(p->node));
        rx_common(p, ev);
        break;
    case EV_TIMEOUT:
        conn_lost(p, "watchdog expired");
        break;
    case EV_CONN_DOWN:
        conn_lost(p, "connection lost");
        break;
    case EV_R_CER:
        reject_cer(ev, "already connected");
        break;
    case EV_STOP:
        stop_open(p);
        break;
    default:
        break;
    }
}

static void st_closing(dia_peer_t *p, sm_ev_t *ev)
{
    switch (ev->type) {
    case EV_RCV:
        if (is_answer(ev, DIA_CMD_DPR))
            peer_closed(p, "DPA received", false);
        else
            rx_common(p, ev);
        break;
    case EV_TIMEOUT:
        peer_closed(p, "no DPA", false);
        break;
    case EV_CONN_DOWN:
        conn_lost(p, "connection closed");
        break;
    case EV_R_CER:
        reject_cer(ev, "closing");
        break;
    default:
        break;
    }
}

static void sm_dispatch(dia_peer_t *p, sm_ev_t *ev)
{
    static void (*const states[])(dia_peer_t *, sm_ev_t *) = {
        [DIA_PEER_CLOSED] = st_closed,
        [DIA_PEER_WAIT_CONN_ACK] = st_wait_conn_ack,
        [DIA_PEER_WAIT_I_CEA] = st_wait_i_cea,
        [DIA_PEER_OPEN] = st_open,
        [DIA_PEER_SUSPECT] = st_suspect,
        [DIA_PEER_CLOSING] = st_closing,
    };

    states[p->state](p, ev);
}

/* ---- entry points ---- */

void dia_sm_start(dia_peer_t *p)
{
    sm_ev_t ev = { .type = EV_START };

    sm_dispatch(p, &ev);
}

void dia_sm_stop(dia_peer_t *p)
{
    sm_ev_t ev = { .type = EV_STOP };

    sm_dispatch(p, &ev);
}

void dia_sm_conn_up(dia_conn_t *c)
{
    sm_ev_t ev = { .type = EV_CONN_UP, .conn = c };

    if (c->peer && c->peer->conn == c)
        sm_dispatch(c->peer, &ev);
}

void dia_sm_conn_down(dia_conn_t *c)
{
    sm_ev_t ev = { .type = EV_CONN_DOWN, .conn = c };

    sm_dispatch(c->peer, &ev);
}

/* Answer a CER we refuse on a connection no peer owns, then close. */
static void refuse(dia_conn_t *c, const dia_msg_t *cer, uint32_t rc, const char *why)
{
    IMS_NOTICE("dia: CER from %s refused with %u: %s", c->name, rc, why);
    dia_base_send_cea(c, cer, rc, why);
    dia_conn_drain(c);
}

/* The first message on an inbound connection. */
static void anon_rx(dia_conn_t *c, dia_msg_t *m, bool bad, const dia_err_t *err)
{
    char host[DIA_HOST_MAX];
    dia_apps_t apps;
    dia_peer_t *p;
    sm_ev_t ev = { .type = EV_R_CER, .conn = c, .msg = m, .apps = &apps, .host = host };

    if (!dia_msg_is_request(m) || m->code != DIA_CMD_CER || m->app_id != DIA_APP_COMMON) {
        IMS_NOTICE("dia: %s: first message is not a CER", c->name);
        dia_conn_close(c, "no CER");
    } else if (bad) {
        refuse(c, m, err->result_code, err->what ? err->what : "invalid CER");
    } else if (!dia_base_origin_host(m, host, sizeof(host))) {
        refuse(c, m, DIA_MISSING_AVP, "no Origin-Host");
    } else if (!(p = dia_peer_by_host(c->node, host)) || p->removed) {
        refuse(c, m, DIA_UNKNOWN_PEER, host);
    } else if (!dia_base_read_apps(c->node, m, &apps)) {
        refuse(c, m, DIA_NO_COMMON_APPLICATION, host);
    } else if (c->node->stopping) {
        refuse(c, m, DIA_UNABLE_TO_COMPLY, "stopping");
    } else {
        sm_dispatch(p, &ev);
    }
}

void dia_sm_rx(dia_conn_t *c, const uint8_t *buf, uint32_t len)
{
    sm_ev_t ev = { .type = EV_RCV, .conn = c };
    int rc = dia_msg_parse(buf, len, &ev.msg, &ev.err);
    dia_peer_t *p = c->peer;

    if (!ev.msg) {
        IMS_WARN("dia: %s: unreadable message: %s", c->name, ev.err.what ? ev.err.what : "?");
        dia_conn_close(c, "unreadable message");
        return;
    }
    ev.bad = rc != IMS_OK;
    if (!ev.bad)
        dia_base_log_msg("recv", c, ev.msg);
    if (!p)
        anon_rx(c, ev.msg, ev.bad, &ev.err);
    else if (p->conn == c) {
        p->received++;
        sm_dispatch(p, &ev);
    }
    dia_msg_free(ev.msg);
}
