/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Diameter node: configuration, routing, sending requests and answers,
 * correlating answers, request timeouts and failover.
 *
 * Identifiers (RFC 6733 §3): the hop-by-hop id is per connection, starting at
 * a random value and incrementing (peer_conn.c); the end-to-end id puts the
 * low 12 bits of the start time in its high 12 bits and a counter starting at
 * a random value in the low 20. Session-Ids are "<origin-host>;<start>;<n>".
 *
 * Every answer callback runs from the node's done timer, never from inside a
 * socket callback or an API call: dia_node_send may be called from a callback
 * of any kind, and a request that has nowhere to go still gets its callback
 * after dia_node_send has returned.
 *
 * Callbacks must not call dia_node_free, except dia_node_stop's done_cb.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer_int.h"

/* Seeds for identifiers and the watchdog's jitter, none of them secret: a
 * xorshift64* seeded once (the jitter is drawn on every message received,
 * and a getrandom per message was a system call per Diameter answer). */
uint32_t dia_rand32(void)
{
    static uint64_t s;

    if (s == 0 && getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
        s = ((uint64_t)time(NULL) << 32) ^ (uint64_t)rand();
    if (s == 0)
        s = 0x9e3779b97f4a7c15ULL;
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (uint32_t)((s * 0x2545f4914f6cdd1dULL) >> 32);
}

uint32_t dia_next_e2e(dia_node_t *n)
{
    uint32_t e2e = ((n->start_time & 0xfffu) << 20) | (n->e2e_next & 0xfffffu);

    n->e2e_next++;
    return e2e;
}

const char *dia_state_name(dia_peer_state_t s)
{
    static const char *const names[] = { "CLOSED", "WAIT_CONN_ACK", "WAIT_I_CEA", "OPEN",
                                         "SUSPECT", "CLOSING" };

    return (unsigned)s < IMS_ARRAY_LEN(names) ? names[s] : "?";
}

dia_peer_t *dia_peer_by_host(dia_node_t *n, const char *host)
{
    for (int i = 0; i < n->npeers; i++)
        if (strcasecmp(n->peers[i].host, host) == 0)
            return &n->peers[i];
    return NULL;
}

bool dia_node_has_app(const dia_node_t *n, uint32_t app_id)
{
    for (int i = 0; i < n->cfg.napps; i++)
        if (n->cfg.apps[i].app_id == app_id || n->cfg.apps[i].app_id == DIA_APP_RELAY)
            return true;
    return false;
}

const dia_handler_t *dia_handler_find(const dia_node_t *n, uint32_t app_id)
{
    for (int i = 0; i < n->nhandlers; i++)
        if (n->handlers[i].app_id == app_id)
            return &n->handlers[i];
    return NULL;
}

/* ---- node ---- */

static char *dup_or(const char *s, const char *dflt)
{
    char *d = strdup(s ? s : dflt);

    if (!d)
        abort();
    return d;
}

dia_node_t *dia_node_new(ims_loop_t *loop, const dia_node_cfg_t *cfg)
{
    dia_node_t *n;

    if (!cfg->origin_host || !cfg->origin_realm || cfg->napps < 0 || cfg->napps > DIA_MAX_APPS) {
        IMS_ERR("dia: node needs origin_host, origin_realm and at most %d apps", DIA_MAX_APPS);
        return NULL;
    }
    n = calloc(1, sizeof(*n));
    if (!n)
        abort();
    n->loop = loop;
    n->cfg = *cfg;
    n->cfg.origin_host = dup_or(cfg->origin_host, "");
    n->cfg.origin_realm = dup_or(cfg->origin_realm, "");
    n->cfg.product_name = dup_or(cfg->product_name, "ims-core");
    n->cfg.listen_addr = cfg->listen_addr ? dup_or(cfg->listen_addr, "") : NULL;
    if (!n->cfg.listen_port)
        n->cfg.listen_port = 3868;
    if (!n->cfg.tw_ms)
        n->cfg.tw_ms = 30000;
    if (!n->cfg.tc_ms)
        n->cfg.tc_ms = 30000;
    if (!n->cfg.request_timeout_ms)
        n->cfg.request_timeout_ms = 4000;
    n->listen_fd = -1;
    n->next_gen = 1;
    n->by_hbh = ims_hash_new(256);
    if (!n->by_hbh)
        abort();
    ims_timer_init(&n->done_timer);
    ims_timer_init(&n->stop_timer);
    n->start_time = (uint32_t)time(NULL);
    n->e2e_next = dia_rand32();
    /* RFC 6733 §8.8 starts the low 32 bits at zero; a random start keeps the
     * Session-Ids of two runs apart when they begin in the same second (a quick
     * restart would otherwise reuse its predecessor's live Rx/Cx sessions). */
    n->sid_lo = dia_rand32();
    return n;
}

int dia_node_add_peer(dia_node_t *n, const dia_peer_cfg_t *pc)
{
    dia_peer_t *p, *old = pc->host ? dia_peer_by_host(n, pc->host) : NULL;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;

    if (n->stopping || (!old && n->npeers >= DIA_MAX_PEERS) || !pc->host || !pc->realm ||
        (old && !old->removed)) {
        IMS_ERR("dia: cannot add peer %s", pc->host ? pc->host : "(null)");
        return IMS_ERROR;
    }
    memset(&ss, 0, sizeof(ss));
    if (pc->addr) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        uint16_t port = htons(pc->port ? pc->port : 3868);

        if (inet_pton(AF_INET, pc->addr, &s4->sin_addr) == 1) {
            s4->sin_family = AF_INET;
            s4->sin_port = port;
            sslen = sizeof(*s4);
        } else if (inet_pton(AF_INET6, pc->addr, &s6->sin6_addr) == 1) {
            s6->sin6_family = AF_INET6;
            s6->sin6_port = port;
            sslen = sizeof(*s6);
        }
    }
    if (pc->connect && sslen == 0) {
        IMS_ERR("dia: peer %s: address '%s' is not an IP literal", pc->host,
                pc->addr ? pc->addr : "");
        return IMS_ERROR;
    }
    if (old) {
        /* back in the list: its slot (and id) again, with the new settings */
        p = old;
        free(p->realm);
        free(p->addr);
        p->removed = p->no_reconnect = false;
    } else {
        p = &n->peers[n->npeers];
        memset(p, 0, sizeof(*p));
        p->node = n;
        p->id = (uint32_t)++n->npeers;
        p->host = dup_or(pc->host, "");
        p->state = DIA_PEER_CLOSED;
        ims_timer_init(&p->timer);
    }
    p->realm = dup_or(pc->realm, "");
    p->addr = pc->addr ? dup_or(pc->addr, "") : NULL;
    p->port = pc->port ? pc->port : 3868;
    p->connect = pc->connect;
    p->ss = ss;
    p->sslen = sslen;
    p->backoff_ms = n->cfg.tc_ms;
    if (n->started)
        dia_sm_start(p);    /* CLOSED: connects now; still CLOSING: after its DPA */
    return IMS_OK;
}

int dia_node_remove_peer(dia_node_t *n, const char *host)
{
    dia_peer_t *p = dia_peer_by_host(n, host);

    if (!p || p->removed)
        return IMS_DECLINED;
    IMS_NOTICE("dia: peer %s removed from the list", p->host);
    p->removed = p->no_reconnect = true;
    if (n->started)
        dia_sm_stop(p);     /* DPR when open; closed otherwise */
    return IMS_OK;
}

static const dia_peer_cfg_t *cfg_by_host(const dia_peer_cfg_t *peers, int n, const char *host)
{
    for (int i = 0; i < n; i++)
        if (peers[i].host && strcasecmp(peers[i].host, host) == 0)
            return &peers[i];
    return NULL;
}

void dia_node_set_peers(dia_node_t *n, const dia_peer_cfg_t *peers, int np, int *added,
                        int *removed)
{
    int a = 0, r = 0;

    for (int i = 0; i < n->npeers; i++) {
        dia_peer_t *p = &n->peers[i];
        const dia_peer_cfg_t *c = cfg_by_host(peers, np, p->host);

        if (p->removed)
            continue;
        if (!c)
            r += dia_node_remove_peer(n, p->host) == IMS_OK;
        else if ((c->addr ? !p->addr || strcmp(c->addr, p->addr) != 0 : p->addr != NULL) ||
                 (c->port ? c->port : 3868) != p->port || c->connect != p->connect)
            IMS_WARN("dia: peer %s: a changed address or connect is taken at restart only",
                     p->host);
    }
    for (int i = 0; i < np; i++) {
        const dia_peer_t *p = peers[i].host ? dia_peer_by_host(n, peers[i].host) : NULL;

        if ((!p || p->removed) && dia_node_add_peer(n, &peers[i]) == IMS_OK) {
            IMS_NOTICE("dia: peer %s added to the list", peers[i].host);
            a++;
        }
    }
    if (added)
        *added = a;
    if (removed)
        *removed = r;
}

void dia_node_on_request(dia_node_t *n, uint32_t app_id, dia_request_cb cb, void *arg)
{
    dia_handler_t *h = (dia_handler_t *)dia_handler_find(n, app_id);

    if (!h) {
        if (n->nhandlers >= DIA_MAX_HANDLERS) {
            IMS_ERR("dia: too many request handlers");
            return;
        }
        h = &n->handlers[n->nhandlers++];
    }
    h->app_id = app_id;
    h->cb = cb;
    h->arg = arg;
}

int dia_node_start(dia_node_t *n)
{
    if (n->started)
        return IMS_ERROR;
    if (n->cfg.listen_addr && dia_conn_listen(n) != IMS_OK)
        return IMS_ERROR;
    n->started = true;
    for (int i = 0; i < n->npeers; i++)
        dia_sm_start(&n->peers[i]);
    return IMS_OK;
}

const char *dia_node_origin_host(const dia_node_t *n)
{
    return n->cfg.origin_host;
}

const char *dia_node_origin_realm(const dia_node_t *n)
{
    return n->cfg.origin_realm;
}

int dia_node_peer_count(const dia_node_t *n)
{
    int c = 0;

    for (int i = 0; i < n->npeers; i++)
        c += !n->peers[i].removed;
    return c;
}

int dia_node_peer_info(const dia_node_t *n, int i, dia_peer_info_t *out)
{
    const dia_peer_t *p = NULL;

    /* the i-th peer still in the list */
    for (int k = 0; i >= 0 && k < n->npeers && !p; k++)
        if (!n->peers[k].removed && i-- == 0)
            p = &n->peers[k];
    if (!p)
        return IMS_ERROR;
    out->host = p->host;
    out->state = p->state;
    out->sent = p->sent;
    out->received = p->received;
    out->timeouts = p->timeouts;
    out->reconnects = p->reconnects;
    return IMS_OK;
}

bool dia_node_open_peer(const dia_node_t *n, char *out, size_t outlen)
{
    size_t len = 0;
    dia_peer_info_t pi;

    out[0] = '\0';
    for (int i = 0; n && dia_node_peer_info(n, i, &pi) == IMS_OK; i++) {
        if (pi.state == DIA_PEER_OPEN) {
            snprintf(out, outlen, "%s", pi.host);
            return true;
        }
        if (len < outlen - 1)
            len += (size_t)snprintf(out + len, outlen - len, "%s%s %s", len ? ", " : "",
                                    pi.host, dia_state_name(pi.state));
    }
    if (!out[0])
        snprintf(out, outlen, "no Diameter peer");
    return false;
}

/* ---- stopping and freeing ---- */

/* The 2 s are up, or everything closed: whatever is left goes now. The node
 * is not touched after done_cb, which may therefore free it. */
static void stop_done_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    dia_node_t *n = arg;
    void (*cb)(void *) = n->stop_cb;

    n->stop_cb = NULL;
    while (n->conns)
        dia_conn_close(n->conns, "stopped");
    if (cb)
        cb(n->stop_arg);
}

void dia_node_check_stopped(dia_node_t *n)
{
    if (!n->stopping || n->freeing || !n->stop_cb || n->conns)
        return;
    for (int i = 0; i < n->npeers; i++)
        if (n->peers[i].state != DIA_PEER_CLOSED)
            return;
    ims_timer_start(n->loop, &n->stop_timer, 0, stop_done_cb, n);
}

void dia_node_stop(dia_node_t *n, void (*done_cb)(void *arg), void *arg)
{
    dia_conn_t *c, *next;

    n->stop_cb = done_cb;
    n->stop_arg = arg;
    if (n->stopping) {
        dia_node_check_stopped(n);
        return;
    }
    n->stopping = true;
    IMS_INFO("dia: %s stopping", n->cfg.origin_host);
    ims_timer_start(n->loop, &n->stop_timer, DIA_STOP_WAIT_MS + 100, stop_done_cb, n);
    dia_conn_unlisten(n);
    for (c = n->conns; c; c = next) {
        next = c->next;
        if (!c->peer)
            dia_conn_close(c, "stopping");
    }
    for (int i = 0; i < n->npeers; i++)
        dia_sm_stop(&n->peers[i]);
    dia_node_check_stopped(n);
}

void dia_node_free(dia_node_t *n)
{
    if (!n)
        return;
    n->freeing = true;
    /* Every pending request hears about it first, while the node still stands. */
    for (dia_conn_t *c = n->conns; c; c = c->next)
        dia_pend_failover(c, true);
    dia_done_deliver(n);
    while (n->conns)
        dia_conn_close(n->conns, "node freed");
    dia_done_deliver(n);
    dia_conn_unlisten(n);
    for (int i = 0; i < n->npeers; i++) {
        dia_peer_t *p = &n->peers[i];

        ims_timer_stop(n->loop, &p->timer);
        free(p->host);
        free(p->realm);
        free(p->addr);
    }
    ims_timer_stop(n->loop, &n->done_timer);
    ims_timer_stop(n->loop, &n->stop_timer);
    ims_hash_free(n->by_hbh);
    free((char *)n->cfg.origin_host);
    free((char *)n->cfg.origin_realm);
    free((char *)n->cfg.product_name);
    free((char *)n->cfg.listen_addr);
    free(n);
}

/* ---- building ---- */

void dia_node_request_init(dia_node_t *n, dia_builder_t *b, uint32_t code, uint32_t app_id,
                           bool session, const char *dest_realm, const char *dest_host)
{
    /* Application requests are proxiable (Cx/Rx: 0xC0); the base ones are not. */
    dia_build_init(b, DIA_FLAG_R | (app_id != DIA_APP_COMMON ? DIA_FLAG_P : 0), code, app_id,
                   0, 0);
    if (session) {
        char sid[DIA_HOST_MAX + 32];

        snprintf(sid, sizeof(sid), "%s;%u;%u", n->cfg.origin_host, n->start_time, ++n->sid_lo);
        dia_put_str(b, DIA_AVP_SESSION_ID, DIA_AVP_M, 0, sid);
    }
    dia_put_str(b, DIA_AVP_ORIGIN_HOST, DIA_AVP_M, 0, n->cfg.origin_host);
    dia_put_str(b, DIA_AVP_ORIGIN_REALM, DIA_AVP_M, 0, n->cfg.origin_realm);
    if (dest_realm)
        dia_put_str(b, DIA_AVP_DESTINATION_REALM, DIA_AVP_M, 0, dest_realm);
    if (dest_host)
        dia_put_str(b, DIA_AVP_DESTINATION_HOST, DIA_AVP_M, 0, dest_host);
}

void dia_node_answer_init(dia_node_t *n, dia_builder_t *b, const dia_msg_t *req, uint32_t result)
{
    dia_build_answer(b, req);
    if (result)
        dia_put_u32(b, DIA_AVP_RESULT_CODE, DIA_AVP_M, 0, result);
    dia_put_str(b, DIA_AVP_ORIGIN_HOST, DIA_AVP_M, 0, n->cfg.origin_host);
    dia_put_str(b, DIA_AVP_ORIGIN_REALM, DIA_AVP_M, 0, n->cfg.origin_realm);
}
