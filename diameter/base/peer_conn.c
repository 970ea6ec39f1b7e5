/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Diameter over TCP: the listening socket, accepted and initiated connections,
 * stream framing and bounded write queues.
 *
 * Framing: the 4-byte version+length word (dia_frame_len) tells where each
 * message ends; a bad word (version, length < 20 or > DIA_MAX_MSG) means the
 * stream cannot be resynced and the connection is closed. The read buffer
 * grows to the frame being assembled and never past DIA_MAX_MSG plus a chunk.
 *
 * Lifetime: a connection may be closed from inside its own callback (the state
 * machine refuses a CER, a handler stops the node). Closing unhooks it at once
 * (loop, timer, list, fd) and tells the state machine and the pending requests;
 * the memory is freed only when no callback of ours runs on it (busy == 0).
 * A failed write never closes synchronously: it schedules the close for the
 * next loop turn, so that senders (request handlers, failover) never see a
 * connection vanish under them.
 *
 * Writes go straight to the socket; what it does not take is queued, at most
 * DIA_WQ_MAX bytes (else the peer is not reading and we close), and flushed on
 * writability. While a connect is in progress everything is queued.
 */
#define _GNU_SOURCE  /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/peer_int.h"

#define CONN_READS_PER_WAKEUP 16
#define CONN_ACCEPT_BATCH     32
#define CONN_READ_CHUNK       16384

static void conn_io_cb(ims_loop_t *loop, int fd, unsigned events, void *arg);

static void set_events(dia_conn_t *c, unsigned ev)
{
    if (c->events != ev && ims_loop_mod_fd(c->node->loop, c->fd, ev) == IMS_OK)
        c->events = ev;
}

static void addr_name(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)ss;

        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
        snprintf(buf, len, "%s:%u", ip, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)ss;

        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
        snprintf(buf, len, "[%s]:%u", ip, port);
    } else {
        snprintf(buf, len, "?");
    }
}

static void conn_free(dia_conn_t *c)
{
    free(c->rbuf);
    free(c->wbuf);
    free(c);
}

/* Take over fd (closed on failure). */
static dia_conn_t *conn_new(dia_node_t *n, int fd, bool initiator,
                            const struct sockaddr_storage *remote)
{
    dia_conn_t *c = calloc(1, sizeof(*c));
    int one = 1;

    if (!c)
        abort();
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->node = n;
    c->fd = fd;
    c->initiator = initiator;
    c->connecting = initiator;
    c->gen = n->next_gen++;
    if (n->next_gen == 0)
        n->next_gen = 1;
    c->next_hbh = dia_rand32();
    ims_timer_init(&c->timer);
    addr_name(remote, c->name, sizeof(c->name));
    c->events = IMS_EV_READ | (initiator ? IMS_EV_WRITE : 0);
    if (ims_loop_add_fd(n->loop, fd, c->events, conn_io_cb, c) != IMS_OK) {
        IMS_ERR("dia: cannot watch fd %d", fd);
        close(fd);
        free(c);
        return NULL;
    }
    c->next = n->conns;
    if (n->conns)
        n->conns->prev = c;
    n->conns = c;
    return c;
}

void dia_conn_adopt(dia_conn_t *c, dia_peer_t *p)
{
    if (!c->peer && !c->initiator)
        c->node->anon_conns--;
    c->peer = p;
    if (!c->doomed)
        ims_timer_stop(c->node->loop, &c->timer);
}

uint32_t dia_conn_hbh(dia_conn_t *c)
{
    return c->next_hbh++;
}

void dia_conn_close(dia_conn_t *c, const char *why)
{
    dia_node_t *n = c->node;

    if (c->dead)
        return;
    IMS_DEBUG("dia: connection %s (%s) closed: %s", c->name,
              c->peer ? c->peer->host : "unidentified", why);
    c->dead = true;
    ims_timer_stop(n->loop, &c->timer);
    /* Off the loop before close(): the fd number may be reused at once. */
    ims_loop_del_fd(n->loop, c->fd);
    close(c->fd);
    c->fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        n->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    if (!c->peer && !c->initiator)
        n->anon_conns--;
    /* The state machine first, so that failover does not pick this peer. */
    if (c->peer && c->peer->conn == c)
        dia_sm_conn_down(c);
    dia_pend_failover(c, true);
    if (c->busy == 0)
        conn_free(c);
    if (!n->freeing)
        dia_node_check_stopped(n);
}

static void close_later_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    dia_conn_close(arg, "write failed");
}

static void close_later(dia_conn_t *c)
{
    c->doomed = true;
    ims_timer_start(c->node->loop, &c->timer, 0, close_later_cb, c);
}

/* Write from the queue; IMS_ERROR on a socket error. */
static int flush(dia_conn_t *c)
{
    while (c->woff < c->wlen) {
        ssize_t k = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (k <= 0)
            return IMS_ERROR;
        c->woff += (size_t)k;
    }
    if (c->woff == c->wlen) {
        c->woff = c->wlen = 0;
        if (!c->connecting)
            set_events(c, c->draining ? 0 : IMS_EV_READ);
    } else {
        set_events(c, (c->draining ? 0 : IMS_EV_READ) | IMS_EV_WRITE);
    }
    return IMS_OK;
}

static int enqueue(dia_conn_t *c, const uint8_t *p, size_t len)
{
    size_t queued = c->wlen - c->woff;

    if (queued + len > DIA_WQ_MAX)
        return IMS_ERROR;
    if (c->woff > 0 && c->wlen + len > c->wcap) {
        memmove(c->wbuf, c->wbuf + c->woff, queued);
        c->woff = 0;
        c->wlen = queued;
    }
    if (c->wlen + len > c->wcap) {
        size_t cap = c->wcap ? c->wcap : 4096;

        while (cap < c->wlen + len)
            cap *= 2;
        c->wbuf = realloc(c->wbuf, cap);
        if (!c->wbuf)
            abort();
        c->wcap = cap;
    }
    memcpy(c->wbuf + c->wlen, p, len);
    c->wlen += len;
    return IMS_OK;
}

int dia_conn_send(dia_conn_t *c, const dia_msg_t *m)
{
    if (c->dead || c->draining || c->doomed)
        return IMS_ERROR;
    dia_base_log_msg("send", c, m);
    if (c->peer && c->peer->conn == c)
        c->peer->sent++;
    if (enqueue(c, m->buf, m->len) != IMS_OK) {
        IMS_WARN("dia: %s: write queue full, closing", c->name);
        close_later(c);
        return IMS_ERROR;
    }
    if (c->connecting)
        return IMS_OK;
    if (flush(c) != IMS_OK) {
        IMS_INFO("dia: %s: send: %s", c->name, strerror(errno));
        close_later(c);
        return IMS_ERROR;
    }
    return IMS_OK;
}

void dia_conn_drain(dia_conn_t *c)
{
    if (c->dead)
        return;
    c->draining = true;
    if (c->woff == c->wlen)
        dia_conn_close(c, "done");
    else
        set_events(c, IMS_EV_WRITE);
}

/* Deliver every complete frame in the read buffer; false when c closed. */
static bool deliver(dia_conn_t *c)
{
    size_t off = 0;

    while (!c->dead && !c->draining) {
        uint32_t len;
        int rc = dia_frame_len(c->rbuf + off, c->rlen - off, &len);

        if (rc == IMS_AGAIN)
            break;
        if (rc != IMS_OK) {
            IMS_WARN("dia: %s: bad frame, closing", c->name);
            dia_conn_close(c, "bad frame");
            return false;
        }
        if (c->rlen - off < len) {
            if (len > c->rcap - off) {  /* make room for the whole frame */
                memmove(c->rbuf, c->rbuf + off, c->rlen - off);
                c->rlen -= off;
                off = 0;
                c->rbuf = realloc(c->rbuf, len + CONN_READ_CHUNK);
                if (!c->rbuf)
                    abort();
                c->rcap = len + CONN_READ_CHUNK;
            }
            break;
        }
        dia_sm_rx(c, c->rbuf + off, len);
        off += len;
    }
    if (c->dead || c->draining)
        return false;
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    return true;
}

static void on_readable(dia_conn_t *c)
{
    for (int i = 0; i < CONN_READS_PER_WAKEUP && !c->dead && !c->draining; i++) {
        size_t space;
        ssize_t k;

        if (c->rcap - c->rlen < CONN_READ_CHUNK / 4) {
            c->rcap = c->rcap ? c->rcap * 2 : CONN_READ_CHUNK;
            c->rbuf = realloc(c->rbuf, c->rcap);
            if (!c->rbuf)
                abort();
        }
        space = c->rcap - c->rlen;
        k = recv(c->fd, c->rbuf + c->rlen, space, MSG_DONTWAIT);
        if (k == 0) {
            dia_conn_close(c, "closed by peer");
            return;
        }
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                dia_conn_close(c, strerror(errno));
            return;
        }
        c->rlen += (size_t)k;
        if (!deliver(c))
            return;
        /* A short read took all there was: the (level-triggered) loop calls
         * again when more arrives, so no read just to hear EAGAIN. */
        if ((size_t)k < space)
            return;
    }
}

static void on_connected(dia_conn_t *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0) {
        dia_conn_close(c, strerror(err));
        return;
    }
    c->connecting = false;
    set_events(c, IMS_EV_READ | (c->wlen > c->woff ? IMS_EV_WRITE : 0));
    dia_sm_conn_up(c);
}

static void conn_io_cb(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    dia_conn_t *c = arg;

    c->busy++;
    if (c->connecting)
        on_connected(c);
    else {
        if ((events & IMS_EV_WRITE) && !c->dead && flush(c) != IMS_OK)
            dia_conn_close(c, "write failed");
        if (!c->dead && c->draining && c->woff == c->wlen)
            dia_conn_close(c, "done");
        if ((events & IMS_EV_READ) && !c->dead && !c->draining)
            on_readable(c);
    }
    if (--c->busy == 0 && c->dead)
        conn_free(c);
}

/* ---- initiating ---- */

dia_conn_t *dia_conn_connect(dia_node_t *n, dia_peer_t *p)
{
    int fd = socket(p->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    dia_conn_t *c;

    if (fd < 0) {
        IMS_WARN("dia: peer %s: socket: %s", p->host, strerror(errno));
        return NULL;
    }
    if (connect(fd, (const struct sockaddr *)&p->ss, p->sslen) < 0 && errno != EINPROGRESS) {
        IMS_INFO("dia: peer %s: connect: %s", p->host, strerror(errno));
        close(fd);
        return NULL;
    }
    /* Even a connect that completed at once is reported through writability,
     * so that the state machine sees the events in their usual order. */
    c = conn_new(n, fd, true, &p->ss);
    if (c)
        c->peer = p;
    return c;
}

/* ---- accepting ---- */

static void cer_wait_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    dia_conn_close(arg, "no CER");
}

static void listen_cb(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    dia_node_t *n = arg;

    for (int i = 0; i < CONN_ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int cfd = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        dia_conn_t *c;

        if (cfd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                IMS_WARN("dia: accept: %s", strerror(errno));
            return;
        }
        if (n->anon_conns >= DIA_MAX_ANON_CONNS || n->stopping) {
            close(cfd);
            continue;
        }
        c = conn_new(n, cfd, false, &ss);
        if (!c)
            continue;
        n->anon_conns++;
        IMS_DEBUG("dia: connection from %s", c->name);
        /* The first message must be a CER; nobody holds a slot for long. */
        ims_timer_start(n->loop, &c->timer, n->cfg.tw_ms, cer_wait_cb, c);
    }
}

int dia_conn_listen(dia_node_t *n)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1, fd;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, n->cfg.listen_addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons(n->cfg.listen_port);
        len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, n->cfg.listen_addr,
                         &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(n->cfg.listen_port);
        len = sizeof(struct sockaddr_in6);
    } else {
        IMS_ERR("dia: listen address '%s' is not an IP literal", n->cfg.listen_addr);
        return IMS_ERROR;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return IMS_ERROR;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0 ||
        ims_loop_add_fd(n->loop, fd, IMS_EV_READ, listen_cb, n) != IMS_OK) {
        IMS_ERR("dia: listen on %s port %u: %s", n->cfg.listen_addr,
                (unsigned)n->cfg.listen_port, strerror(errno));
        close(fd);
        return IMS_ERROR;
    }
    n->listen_fd = fd;
    IMS_INFO("dia: %s listening on %s port %u", n->cfg.origin_host, n->cfg.listen_addr,
             (unsigned)n->cfg.listen_port);
    return IMS_OK;
}

void dia_conn_unlisten(dia_node_t *n)
{
    if (n->listen_fd < 0)
        return;
    ims_loop_del_fd(n->loop, n->listen_fd);
    close(n->listen_fd);
    n->listen_fd = -1;
}
