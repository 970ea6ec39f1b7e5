/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Requests and answers through the node: routing, hop-by-hop correlation,
 * request timeouts, failover, and the done list that runs the callbacks.
 *
 * A pending request is in exactly one place: on the list of the connection it
 * was last sent on (and in node->by_hbh under that connection's generation and
 * the hop-by-hop id it carries there), or on node->done with its result. Its
 * timeout runs from the first send, across failovers, so the caller's wait is
 * bounded by request_timeout_ms whatever happens to the peers.
 *
 * Failover (RFC 6733 §5.5.4): when the connection goes down, or its peer
 * becomes SUSPECT, each request waiting on it is re-sent to the next peer the
 * routing picks, with the T flag set, a new hop-by-hop id and the same
 * end-to-end id. With nowhere to go, a suspect peer keeps the request (the
 * answer may still come); a closed one fails it with DIA_SEND_NO_PEER.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer_int.h"

typedef struct pend_key {
    uint32_t gen, hbh;
} pend_key_t;

void dia_done_deliver(dia_node_t *n)
{
    dia_pend_t *pd;

    while ((pd = n->done)) {
        dia_msg_t *ans = pd->ans;

        n->done = pd->next;
        if (!n->done)
            n->done_tail = NULL;
        pd->ans = NULL;
        pd->cb(pd->arg, ans, pd->err);
        dia_msg_free(pd->req);
        free(pd);
    }
}

static void done_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    dia_done_deliver(arg);
}

/* Queue pd's callback with its result (ans owned by pd until delivered). */
static void complete(dia_pend_t *pd, dia_msg_t *ans, dia_send_err_t err)
{
    dia_node_t *n = pd->node;

    ims_timer_stop(n->loop, &pd->timer);
    pd->ans = ans;
    pd->err = err;
    pd->conn = NULL;
    pd->prev = n->done_tail;
    pd->next = NULL;
    if (n->done_tail)
        n->done_tail->next = pd;
    else
        n->done = pd;
    n->done_tail = pd;
    if (!ims_timer_armed(&n->done_timer))
        ims_timer_start(n->loop, &n->done_timer, 0, done_cb, n);
}

static void detach(dia_pend_t *pd)
{
    dia_conn_t *c = pd->conn;
    pend_key_t k = { c->gen, pd->hbh };

    ims_hash_remove_n(c->node->by_hbh, (const char *)&k, sizeof(k));
    if (pd->prev)
        pd->prev->next = pd->next;
    else
        c->pend = pd->next;
    if (pd->next)
        pd->next->prev = pd->prev;
    pd->prev = pd->next = NULL;
    pd->conn = NULL;
}

static bool peer_serves(const dia_peer_t *p, uint32_t app_id)
{
    if (app_id == DIA_APP_COMMON || p->apps.relay)
        return true;
    for (int i = 0; i < p->apps.n; i++)
        if (p->apps.id[i] == app_id)
            return true;
    return false;
}

static bool avp_str(const dia_msg_t *m, uint32_t code, char *buf, size_t len)
{
    dia_avp_t a;

    return dia_msg_find(m, code, 0, &a) && dia_avp_str(&a, buf, len) == IMS_OK;
}

/* The open peer for m other than skip, or NULL: Destination-Host when it names
 * an open peer, else the first open peer of Destination-Realm serving the app. */
static dia_peer_t *route(dia_node_t *n, const dia_msg_t *m, const dia_peer_t *skip)
{
    char name[DIA_HOST_MAX];

    if (avp_str(m, DIA_AVP_DESTINATION_HOST, name, sizeof(name))) {
        dia_peer_t *p = dia_peer_by_host(n, name);

        if (p && p != skip && p->state == DIA_PEER_OPEN && p->conn)
            return p;
    }
    if (!avp_str(m, DIA_AVP_DESTINATION_REALM, name, sizeof(name)))
        return NULL;
    for (int i = 0; i < n->npeers; i++) {
        dia_peer_t *p = &n->peers[i];

        if (p != skip && p->state == DIA_PEER_OPEN && p->conn &&
            strcasecmp(p->realm, name) == 0 && peer_serves(p, m->app_id))
            return p;
    }
    return NULL;
}

/* Put pd on p's connection under a fresh hop-by-hop id and write it. */
static void pend_send(dia_pend_t *pd, dia_peer_t *p, bool retransmit)
{
    dia_conn_t *c = p->conn;
    pend_key_t k = { c->gen, 0 };

    int rc;

    do {  /* a wrapped counter could meet a request still waiting */
        k.hbh = dia_conn_hbh(c);
        rc = ims_hash_insert_n(c->node->by_hbh, (const char *)&k, sizeof(k), pd);
    } while (rc == IMS_DECLINED);
    if (rc != IMS_OK)
        abort();
    pd->hbh = k.hbh;
    dia_msg_set_ids(pd->req, k.hbh, pd->req->e2e);
    if (retransmit)
        dia_msg_set_flags(pd->req, pd->req->flags | DIA_FLAG_T);
    pd->conn = c;
    pd->prev = NULL;
    pd->next = c->pend;
    if (c->pend)
        c->pend->prev = pd;
    c->pend = pd;
    /* A failed write closes c on the next turn, and that fails pd over. */
    dia_conn_send(c, pd->req);
}

static void timeout_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    dia_pend_t *pd = arg;

    if (pd->conn) {
        if (pd->conn->peer)
            pd->conn->peer->timeouts++;
        IMS_INFO("dia: request %u e2e %08x to %s timed out", pd->req->code, pd->req->e2e,
                 pd->conn->peer ? pd->conn->peer->host : pd->conn->name);
        detach(pd);
    }
    complete(pd, NULL, DIA_SEND_TIMEOUT);
}

void dia_node_send(dia_node_t *n, dia_msg_t **req, dia_answer_cb cb, void *arg)
{
    dia_pend_t *pd = calloc(1, sizeof(*pd));
    dia_peer_t *p;

    if (!pd)
        abort();
    pd->node = n;
    pd->req = *req;
    *req = NULL;
    pd->cb = cb;
    pd->arg = arg;
    ims_timer_init(&pd->timer);
    if (!pd->req || n->stopping || n->freeing) {
        complete(pd, NULL, pd->req ? DIA_SEND_SHUTDOWN : DIA_SEND_NO_PEER);
        return;
    }
    if (pd->req->e2e == 0)
        dia_msg_set_ids(pd->req, 0, dia_next_e2e(n));
    p = route(n, pd->req, NULL);
    if (!p) {
        IMS_INFO("dia: no peer for request %u app %u", pd->req->code, pd->req->app_id);
        complete(pd, NULL, DIA_SEND_NO_PEER);
        return;
    }
    ims_timer_start(n->loop, &pd->timer, n->cfg.request_timeout_ms, timeout_cb, pd);
    pend_send(pd, p, false);
}

void dia_pend_answer(dia_conn_t *c, dia_msg_t *m)
{
    pend_key_t k = { c->gen, m->hbh };
    dia_pend_t *pd = ims_hash_find_n(c->node->by_hbh, (const char *)&k, sizeof(k));

    if (!pd) {
        IMS_NOTICE("dia: %s: answer %u with unknown hop-by-hop id %08x dropped",
                   c->peer ? c->peer->host : c->name, m->code, m->hbh);
        dia_msg_free(m);
        return;
    }
    detach(pd);
    complete(pd, m, DIA_SEND_OK);
}

void dia_pend_failover(dia_conn_t *c, bool gone)
{
    dia_node_t *n = c->node;
    dia_pend_t *pd, *prev;

    /* c->pend is newest first: re-send the oldest (nearest its timeout) first. */
    for (pd = c->pend; pd && pd->next; pd = pd->next)
        ;
    for (; pd; pd = prev) {
        dia_peer_t *p = NULL;

        prev = pd->prev;
        if (!n->stopping && !n->freeing)
            p = route(n, pd->req, c->peer);
        if (!p && !gone)
            continue;
        detach(pd);
        if (!p) {
            complete(pd, NULL, n->stopping || n->freeing ? DIA_SEND_SHUTDOWN : DIA_SEND_NO_PEER);
            continue;
        }
        IMS_INFO("dia: request %u e2e %08x fails over from %s to %s", pd->req->code,
                 pd->req->e2e, c->peer ? c->peer->host : c->name, p->host);
        pend_send(pd, p, true);
    }
}

void dia_node_answer(dia_node_t *n, const dia_req_ctx_t *ctx, dia_msg_t **ans)
{
    dia_msg_t *m = *ans;
    dia_peer_t *p = NULL;
    uint32_t rc = 0;
    bool exp = false;

    *ans = NULL;
    if (!m)
        return;
    if (ctx->peer_id >= 1 && ctx->peer_id <= (uint32_t)n->npeers)
        p = &n->peers[ctx->peer_id - 1];
    if (!p || !p->conn || p->conn->gen != ctx->conn_gen || p->conn->dead ||
        (p->state != DIA_PEER_OPEN && p->state != DIA_PEER_SUSPECT &&
         p->state != DIA_PEER_CLOSING)) {
        IMS_NOTICE("dia: answer %u e2e %08x dropped: its connection is gone", m->code, m->e2e);
        dia_msg_free(m);
        return;
    }
    /* Protocol errors (3xxx) travel with the E bit (RFC 6733 §7.1.3). */
    if (dia_msg_result(m, &rc, &exp) == IMS_OK && !exp && rc >= 3000 && rc < 4000)
        dia_msg_set_flags(m, m->flags | DIA_FLAG_E);
    dia_conn_send(p->conn, m);
    dia_msg_free(m);
}
