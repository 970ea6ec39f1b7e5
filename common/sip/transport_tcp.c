/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SIP over TCP and TLS: connections, stream framing, write queues, idle timeout.
 *
 * Framing (RFC 3261 §18.3): a message is its header block, up to the first
 * empty line, plus Content-Length bytes of body; on a stream Content-Length
 * is mandatory. Leading CRLFs are keep-alives (RFC 5626 §3.5.1): a double
 * CRLF "ping" is answered with a single CRLF "pong", anything else is
 * skipped. A message that fails sip_msg_parse is answered with 400 and the
 * connection kept, since its length was known and the next message starts
 * right after it. When the framing itself is lost (no or bad Content-Length,
 * a header block or message over max_msg_size) the stream cannot be resynced:
 * we answer (400 or 513), stop reading, and close once the answer is out.
 *
 * Lifetime: a connection may be closed from deep inside its own callback (the
 * receive callback sends, the send fails). Closing unhooks it at once (loop,
 * timer, indexes, fd), but the memory is freed only when no callback of ours
 * is running on it (busy == 0); every loop over a connection checks dead.
 *
 * Writes go straight to the socket; what it does not take is queued (at most
 * SIP_TP_WQ_MAX bytes, else the peer is not reading and we close) and flushed
 * on writability. While a non-blocking connect is in progress everything is
 * queued.
 *
 * TLS is the same connection with a session of transport_tls.c in between:
 * conn_recv/conn_send go through it, writes are queued until its handshake is
 * done, and the handshake must finish within sip_tls_handshake_ms (the idle
 * timer, shortened meanwhile) or the connection is dropped. OpenSSL takes a
 * whole record from the socket, so decrypted bytes can wait in the session
 * while the socket has nothing more: a read turn never ends with some pending
 * (at most the rest of one record, 16 KB), or they would wait for the next
 * packet.
 */
#define _GNU_SOURCE  /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/msg_int.h"
#include "common/sip/transport_int.h"

#define CONN_READS_PER_WAKEUP 16
#define CONN_ACCEPT_BATCH     64
#define CONN_READ_CHUNK       4096
#define CONN_RBUF_MIN         16384
#define ADDR_KEY_MAX          20
#define CONN_CONNECT_MS       32000  /* 64*T1: no transaction waits longer */

struct sip_conn {
    sip_transport_t *tp;
    sip_conn_t *prev, *next;   /* tp->conns */
    uint32_t id;
    int fd;
    sip_proto_t proto;         /* TCP or TLS */
    struct ssl_st *ssl;        /* TLS: the session; NULL for TCP */
    bool handshaking;          /* TLS handshake not done yet: writes are queued */
    bool read_wants_write;     /* TLS: the last read waits for writability */
    unsigned events;           /* as registered with the loop */
    unsigned busy;             /* our callbacks running on this connection */
    bool connecting;           /* non-blocking connect in progress */
    bool outbound;             /* we opened it (conn_connect) */
    bool draining;             /* framing lost: close once the queue is written */
    bool in_addr_index;        /* the by_addr entry for remote is this one */
    bool dead;                 /* closed; freed when busy drops to 0 */
    sip_addr_t local, remote;
    char *rbuf;
    size_t rlen, rcap, scan;   /* scan: where the search for the empty line resumes */
    char *wbuf;
    size_t woff, wlen, wcap;
    ims_timer_t idle;
};

static void conn_io_cb(ims_loop_t *loop, int fd, unsigned events, void *arg);

static const char *conn_name(const sip_conn_t *c)
{
    return c->proto == SIP_PROTO_TLS ? "TLS" : "TCP";
}

static int set_int(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof(v));
}

/* Protocol and family, port and address bytes: the by_addr key. */
static size_t addr_key(const sip_addr_t *a, sip_proto_t proto, char *k)
{
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)&a->ss;

        k[0] = (char)(4 | proto << 4);
        memcpy(k + 1, &s->sin_port, 2);
        memcpy(k + 3, &s->sin_addr, 4);
        return 7;
    }
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)&a->ss;

        k[0] = (char)(6 | proto << 4);
        memcpy(k + 1, &s->sin6_port, 2);
        memcpy(k + 3, &s->sin6_addr, 16);
        return 19;
    }
    return 0;
}

static socklen_t addr_len(const sip_addr_t *a)
{
    return a->ss.ss_family == AF_INET    ? sizeof(struct sockaddr_in)
           : a->ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : 0;
}

static void set_events(sip_conn_t *c, unsigned ev)
{
    if (c->events != ev && ims_loop_mod_fd(c->tp->loop, c->fd, ev) == IMS_OK)
        c->events = ev;
}

static void addr_unindex(sip_conn_t *c)
{
    char key[ADDR_KEY_MAX];

    if (c->in_addr_index)
        ims_hash_remove_n(c->tp->by_addr, key, addr_key(&c->remote, c->proto, key));
    c->in_addr_index = false;
}

static void conn_free(sip_conn_t *c)
{
    free(c->rbuf);
    free(c->wbuf);
    free(c);
}

static void fail_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    sip_transport_t *tp = arg;

    (void)loop;
    (void)t;
    /* Ids queued while we tell (the watcher starts others that fail) are told too. */
    while (tp->nfailed > 0) {
        uint32_t id = tp->failed[--tp->nfailed];

        if (tp->fail_cb)
            tp->fail_cb(tp->fail_arg, id);
    }
}

/* A connection we opened closes before it was ready: queue the news for the
 * loop (we may be deep in a send). Out of memory, the sender's timer tells. */
static void note_failed(sip_conn_t *c)
{
    sip_transport_t *tp = c->tp;

    if (!tp->fail_cb || !c->outbound || !(c->connecting || c->handshaking))
        return;
    if (tp->nfailed == tp->failed_cap) {
        size_t cap = tp->failed_cap ? 2 * tp->failed_cap : 8;
        uint32_t *n = realloc(tp->failed, cap * sizeof(*n));

        if (n == NULL)
            return;
        tp->failed = n;
        tp->failed_cap = cap;
    }
    tp->failed[tp->nfailed++] = c->id;
    ims_timer_start(tp->loop, &tp->fail_timer, 0, fail_cb, tp);
}

static void conn_close(sip_conn_t *c, const char *why)
{
    sip_transport_t *tp = c->tp;
    char txt[64];

    if (c->dead)
        return;
    note_failed(c);
    IMS_DEBUG("sip: %s connection %u %s closed: %s", conn_name(c), c->id,
              sip_addr_str(&c->remote, txt, sizeof(txt)), why);
    c->dead = true;
    addr_unindex(c);
    ims_hash_remove_n(tp->by_id, (const char *)&c->id, sizeof(c->id));
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        tp->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    ims_timer_stop(tp->loop, &c->idle);
    /* Off the loop before close(): the fd number may be reused at once. */
    ims_loop_del_fd(tp->loop, c->fd);
    sip_tls_close(c->ssl);  /* close_notify needs the socket: before close() */
    c->ssl = NULL;
    close(c->fd);
    c->fd = -1;
    tp->st.conns_open--;
    if (c->proto == SIP_PROTO_TLS)
        tp->st.tls_conns_open--;
    if (c->busy == 0)
        conn_free(c);
}

static void idle_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    sip_conn_t *c = arg;
    char txt[64];

    if (c->handshaking && !c->connecting) {
        c->tp->st.tls_failed++;
        IMS_INFO("sip: TLS handshake %u with %s: timed out", c->id,
                 sip_addr_str(&c->remote, txt, sizeof(txt)));
    }
    conn_close(c, c->connecting           ? "connect timeout"
                  : c->handshaking ? "TLS handshake timeout"
                                   : "idle");
}

/* Restart the idle timer; a connect or TLS handshake in progress gets the
 * shorter of the two. */
static void touch(sip_conn_t *c)
{
    uint64_t ms = c->tp->cfg.tcp_idle_ms;

    if (c->connecting && ms > CONN_CONNECT_MS)
        ms = CONN_CONNECT_MS;
    if (c->handshaking && ms > sip_tls_handshake_ms(c->tp))
        ms = sip_tls_handshake_ms(c->tp);
    ims_timer_start(c->tp->loop, &c->idle, ms, idle_cb, c);
}

static uint32_t next_id(sip_transport_t *tp)
{
    uint32_t id;

    do {
        id = tp->next_id++;
        if (tp->next_id == 0)
            tp->next_id = 1;
    } while (id == 0 || ims_hash_find_n(tp->by_id, (const char *)&id, sizeof(id)) != NULL);
    return id;
}

/* Take over fd (closed on failure). TLS: a session for the side we are on. */
static sip_conn_t *conn_new(sip_transport_t *tp, int fd, bool connecting, const sip_addr_t *remote,
                            sip_proto_t proto)
{
    sip_conn_t *c = calloc(1, sizeof(*c));
    char key[ADDR_KEY_MAX];

    if (c != NULL && proto == SIP_PROTO_TLS &&
        (c->ssl = sip_tls_session(tp, fd, !connecting, remote)) == NULL) {
        free(c);
        c = NULL;
    }
    if (c == NULL) {
        close(fd);
        return NULL;
    }
    c->tp = tp;
    c->fd = fd;
    c->proto = proto;
    c->handshaking = c->ssl != NULL;
    c->connecting = connecting;
    c->remote = *remote;
    c->local.len = sizeof(c->local.ss);
    if (getsockname(fd, (struct sockaddr *)&c->local.ss, &c->local.len) < 0)
        c->local.len = 0;
    c->id = next_id(tp);
    c->events = IMS_EV_READ | (connecting ? IMS_EV_WRITE : 0);
    if (ims_hash_insert_n(tp->by_id, (const char *)&c->id, sizeof(c->id), c) != IMS_OK ||
        ims_loop_add_fd(tp->loop, fd, c->events, conn_io_cb, c) != IMS_OK) {
        ims_hash_remove_n(tp->by_id, (const char *)&c->id, sizeof(c->id));
        sip_tls_close(c->ssl);
        close(fd);
        free(c);
        return NULL;
    }
    /* One index entry per address; a second connection to it is found by id. */
    c->in_addr_index =
        ims_hash_insert_n(tp->by_addr, key, addr_key(remote, proto, key), c) == IMS_OK;
    ims_timer_init(&c->idle);
    touch(c);
    c->next = tp->conns;
    if (tp->conns != NULL)
        tp->conns->prev = c;
    tp->conns = c;
    tp->st.conns_open++;
    if (proto == SIP_PROTO_TLS)
        tp->st.tls_conns_open++;
    return c;
}

/* Append to the write queue. IMS_OK, or IMS_ERROR with c closed. */
static int conn_queue(sip_conn_t *c, const char *buf, size_t len)
{
    size_t cap;
    char *p;

    if (c->wlen + len > SIP_TP_WQ_MAX) {
        IMS_WARN("sip: %s connection %u: peer not reading, write queue full", conn_name(c),
                 c->id);
        conn_close(c, "write queue full");
        return IMS_ERROR;
    }
    if (c->woff + c->wlen + len > c->wcap && c->woff > 0) {
        memmove(c->wbuf, c->wbuf + c->woff, c->wlen);
        c->woff = 0;
    }
    if (c->wlen + len > c->wcap) {
        for (cap = c->wcap ? c->wcap : CONN_READ_CHUNK; cap < c->wlen + len; cap *= 2)
            ;
        p = realloc(c->wbuf, cap);
        if (p == NULL) {
            conn_close(c, "out of memory");
            return IMS_ERROR;
        }
        c->wbuf = p;
        c->wcap = cap;
    }
    memcpy(c->wbuf + c->woff + c->wlen, buf, len);
    c->wlen += len;
    set_events(c, (c->draining ? 0 : IMS_EV_READ) | IMS_EV_WRITE);
    return IMS_OK;
}

/* read() and send() of the stream, through the TLS session when there is one. */
static ssize_t conn_recv(sip_conn_t *c, char *buf, size_t n)
{
    unsigned want = 0;
    ssize_t r;

    if (c->ssl == NULL)
        return read(c->fd, buf, n);
    r = sip_tls_read(c->ssl, buf, n, &want);
    c->read_wants_write = r < 0 && errno == EAGAIN && want == IMS_EV_WRITE;
    if (c->read_wants_write)
        set_events(c, c->events | IMS_EV_WRITE);
    return r;
}

static ssize_t conn_send(sip_conn_t *c, const char *buf, size_t n)
{
    unsigned want = 0;

    if (c->ssl == NULL)
        return send(c->fd, buf, n, MSG_NOSIGNAL);
    /* A write waiting for readability (no renegotiation: hardly ever) is retried
     * on any event while the queue is not empty (conn_io_cb). */
    return sip_tls_write(c->ssl, buf, n, &want);
}

/* Write or queue. IMS_OK, or IMS_ERROR with c closed. */
static int conn_write(sip_conn_t *c, const char *buf, size_t len)
{
    ssize_t n = 0;

    if (c->dead)
        return IMS_ERROR;
    if (!c->connecting && !c->handshaking && c->wlen == 0) {
        do {
            n = conn_send(c, buf, len);
        } while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            conn_close(c, strerror(errno));
            return IMS_ERROR;
        }
        if (n < 0)
            n = 0;
        touch(c);
        if ((size_t)n == len)
            return IMS_OK;
    }
    return conn_queue(c, buf + n, len - (size_t)n);
}

static void conn_flush(sip_conn_t *c)
{
    ssize_t n;

    while (c->wlen > 0) {
        n = conn_send(c, c->wbuf + c->woff, c->wlen);
        if (n > 0) {
            c->woff += (size_t)n;
            c->wlen -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            conn_close(c, n < 0 ? strerror(errno) : "send returned 0");
            return;
        }
    }
    c->woff = 0;
    touch(c);
    if (c->draining)
        conn_close(c, "framing lost, answered");
    else
        set_events(c, IMS_EV_READ);
}

/* Stop reading; close when what is queued has been written. */
static void conn_drain(sip_conn_t *c)
{
    if (c->dead)
        return;
    c->draining = true;
    addr_unindex(c);
    if (c->wlen == 0)
        conn_close(c, "framing lost");
    else
        set_events(c, IMS_EV_WRITE);
}

/* Answer what we could not frame, then drain. */
static void conn_refuse(sip_conn_t *c, const char *buf, size_t len, int code, const char *reason)
{
    sip_transport_t *tp = c->tp;
    size_t rlen;
    char txt[64], *r;

    tp->st.parse_errors++;
    IMS_INFO("sip: bad stream from %s %s: %s", conn_name(c),
             sip_addr_str(&c->remote, txt, sizeof(txt)), reason);
    r = sip_msg_raw_response(buf, len, code, reason, &rlen);
    if (r != NULL) {
        if (conn_write(c, r, rlen) == IMS_OK)
            tp->st.rx_400_sent++;
        free(r);
    } else {
        tp->st.dropped++;
    }
    conn_drain(c);
}

/*
 * Length of the header block at p[0..n) (through the empty line), or 0 when
 * it is not complete yet. *scan: where to resume; kept across calls so a
 * slowly arriving header block is searched once.
 */
static size_t find_hdr_end(const char *p, size_t n, size_t *scan)
{
    const char *s = p + (*scan < n ? *scan : n), *e = p + n;

    while ((s = memchr(s, '\n', (size_t)(e - s))) != NULL) {
        if (e - s >= 2 && s[1] == '\n') {
            *scan = (size_t)(s - p);
            return (size_t)(s + 2 - p);
        }
        if (e - s >= 3 && s[1] == '\r' && s[2] == '\n') {
            *scan = (size_t)(s - p);
            return (size_t)(s + 3 - p);
        }
        if (e - s < 3)
            break;
        s++;
    }
    *scan = n >= 2 ? n - 2 : 0;
    return 0;
}

/* Skip keep-alives at p; returns bytes consumed, 0 when waiting for more. */
static size_t skip_keepalive(sip_conn_t *c, const char *p, size_t avail)
{
    if (avail < 4 && memcmp(p, "\r\n\r\n", avail) == 0)
        return 0;  /* maybe the start of a ping */
    if (avail >= 4 && memcmp(p, "\r\n\r\n", 4) == 0) {
        conn_write(c, "\r\n", 2);
        return 4;
    }
    return 1;
}

static void deliver(sip_conn_t *c, const char *p, size_t len)
{
    sip_rcv_t rcv;
    size_t rlen;
    char *resp;

    memset(&rcv, 0, sizeof(rcv));
    rcv.proto = c->proto;
    rcv.local = c->local;
    rcv.remote = c->remote;
    rcv.conn_id = c->id;
    resp = sip_tp_deliver(c->tp, p, len, &rcv, &rlen);
    if (resp != NULL) {
        if (conn_write(c, resp, rlen) == IMS_OK)
            c->tp->st.rx_400_sent++;
        free(resp);
    }
}

/* Take every complete message out of the read buffer. */
static void conn_frame(sip_conn_t *c)
{
    size_t off = 0, max = c->tp->cfg.max_msg_size, avail, hdr, cl = 0, k;
    const char *p;
    int rc;

    while (!c->dead && !c->draining && off < c->rlen) {
        p = c->rbuf + off;
        avail = c->rlen - off;
        if (p[0] == '\r' || p[0] == '\n') {
            if ((k = skip_keepalive(c, p, avail)) == 0)
                break;
            off += k;
            c->scan = 0;
            continue;
        }
        hdr = find_hdr_end(p, avail, &c->scan);
        if (hdr == 0) {
            if (avail > max)
                conn_refuse(c, p, avail, 513, "Message Too Large");
            break;
        }
        if (hdr > max) {
            conn_refuse(c, p, hdr, 513, "Message Too Large");
            break;
        }
        rc = sip_raw_content_length(p, hdr, &cl);
        if (rc != IMS_OK) {
            conn_refuse(c, p, hdr, 400,
                        rc == IMS_DECLINED ? "Missing Content-Length" : "Bad Content-Length");
            break;
        }
        if (cl > max - hdr) {
            conn_refuse(c, p, hdr, 513, "Message Too Large");
            break;
        }
        if (avail - hdr < cl)
            break;
        deliver(c, p, hdr + cl);
        off += hdr + cl;
        c->scan = 0;
    }
    if (!c->dead && off > 0) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
}

/* Room for at least one more read; the framing keeps rlen <= max_msg_size. */
static bool rbuf_reserve(sip_conn_t *c)
{
    size_t limit = c->tp->cfg.max_msg_size + 2 * CONN_READ_CHUNK, cap;
    char *p;

    if (c->rcap - c->rlen >= CONN_READ_CHUNK || c->rcap == limit)
        return c->rcap > c->rlen;
    cap = c->rcap ? c->rcap * 2 : CONN_RBUF_MIN;
    while (cap - c->rlen < CONN_READ_CHUNK)
        cap *= 2;
    if (cap > limit)
        cap = limit;
    p = realloc(c->rbuf, cap);
    if (p == NULL)
        return false;
    c->rbuf = p;
    c->rcap = cap;
    return c->rcap > c->rlen;
}

/* Read turn i is allowed: within the fair share, or bytes wait in the TLS session. */
static bool read_more(const sip_conn_t *c, int i)
{
    if (c->dead || c->draining)
        return false;
    return i < CONN_READS_PER_WAKEUP || (c->ssl != NULL && sip_tls_pending(c->ssl));
}

static void conn_read(sip_conn_t *c)
{
    ssize_t n;
    int i;

    for (i = 0; read_more(c, i); i++) {
        if (!rbuf_reserve(c)) {
            conn_close(c, "read buffer");
            return;
        }
        n = conn_recv(c, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (n > 0) {
            c->rlen += (size_t)n;
            touch(c);
            conn_frame(c);
        } else if (n == 0) {
            conn_close(c, "closed by peer");
        } else if (errno != EINTR) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_close(c, strerror(errno));
            return;
        }
    }
}

/* The connect finished (or failed). */
static void conn_connected(sip_conn_t *c)
{
    socklen_t len = sizeof(int);
    char txt[64];
    int err = 0;

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0) {
        IMS_INFO("sip: %s connect to %s: %s", conn_name(c),
                 sip_addr_str(&c->remote, txt, sizeof(txt)), strerror(err));
        conn_close(c, "connect failed");
        return;
    }
    c->connecting = false;
    c->local.len = sizeof(c->local.ss);
    if (getsockname(c->fd, (struct sockaddr *)&c->local.ss, &c->local.len) < 0)
        c->local.len = 0;
    touch(c);
}

/* One step of the TLS handshake; true when it just completed. */
static bool conn_handshake(sip_conn_t *c)
{
    unsigned want = IMS_EV_READ;
    int rc = sip_tls_handshake(c->tp, c->ssl, c->id, &c->remote, &want);

    if (rc == IMS_ERROR) {
        conn_close(c, "TLS handshake failed");
        return false;
    }
    if (rc == IMS_AGAIN) {
        set_events(c, want);
        return false;
    }
    c->handshaking = false;
    touch(c);
    set_events(c, IMS_EV_READ | (c->wlen > 0 ? IMS_EV_WRITE : 0));
    return true;
}

static void conn_io_cb(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    sip_conn_t *c = arg;
    bool up = false;

    c->busy++;
    if (c->connecting)
        conn_connected(c);
    if (!c->dead && !c->connecting && c->handshaking)
        up = conn_handshake(c);
    /* A TLS write may wait on either event; after the handshake the session may
     * already hold the peer's first bytes. */
    if (!c->dead && !c->handshaking &&
        ((events & IMS_EV_WRITE) || (c->ssl != NULL && c->wlen > 0)))
        conn_flush(c);
    if (!c->dead && !c->handshaking && !c->draining &&
        ((events & IMS_EV_READ) || c->read_wants_write || up))
        conn_read(c);
    if (--c->busy == 0 && c->dead)
        conn_free(c);
}

void sip_tcp_accept_cb(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    sip_listener_t *l = arg;
    sip_transport_t *tp = l->tp;
    const char *name = l->proto == SIP_PROTO_TLS ? "TLS" : "TCP";
    sip_addr_t remote;
    char txt[64];
    int i, cfd;

    for (i = 0; i < CONN_ACCEPT_BATCH; i++) {
        remote.len = sizeof(remote.ss);
        cfd = accept4(fd, (struct sockaddr *)&remote.ss, &remote.len,
                      SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                IMS_WARN("sip: %s accept: %s", name, strerror(errno));
            return;
        }
        if (tp->st.conns_open >= tp->cfg.max_conns) {
            IMS_INFO("sip: %s connection from %s refused: %u connections open", name,
                     sip_addr_str(&remote, txt, sizeof(txt)), tp->cfg.max_conns);
            close(cfd);
            tp->st.dropped++;
            continue;
        }
        set_int(cfd, IPPROTO_TCP, TCP_NODELAY, 1);
        conn_new(tp, cfd, false, &remote, l->proto);
    }
}

static bool is_wildcard(const sip_addr_t *a)
{
    if (a->ss.ss_family == AF_INET)
        return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
}

/* Send from our listening address (TLS: the TLS one, else the TCP one), so peers
 * see the address we announce. */
static void bind_source(sip_transport_t *tp, int fd, int family, sip_proto_t proto)
{
    const sip_listener_t *l = sip_tp_listener(tp, proto, family);
    sip_addr_t src;

    if (l == NULL)
        l = sip_tp_listener(tp, SIP_PROTO_TCP, family);
    if (l == NULL || is_wildcard(&l->local))
        return;
    src = l->local;
    if (family == AF_INET)
        ((struct sockaddr_in *)&src.ss)->sin_port = 0;
    else
        ((struct sockaddr_in6 *)&src.ss)->sin6_port = 0;
    set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
    if (bind(fd, (struct sockaddr *)&src.ss, src.len) < 0)
        IMS_DEBUG("sip: TCP bind source: %s", strerror(errno));
}

/* A new connection from exactly from (the P-CSCF's protected client port,
 * TS 33.203 §7.1: the SA selectors name it). IMS_OK or IMS_ERROR (logged):
 * not sent from another port, where it would miss the SAs. SO_REUSEADDR: an
 * earlier connection from it may linger in TIME_WAIT. */
static int bind_from(int fd, const sip_addr_t *from)
{
    char txt[64];

    set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (bind(fd, (const struct sockaddr *)&from->ss, addr_len(from)) == 0)
        return IMS_OK;
    IMS_WARN("sip: TCP connect from %s: %s", sip_addr_str(from, txt, sizeof(txt)),
             strerror(errno));
    return IMS_ERROR;
}

/* c, made from a chosen local address, is the one for its remote address from
 * now on (the newest SAs' client port): it takes the index over. */
static void take_addr_index(sip_conn_t *c)
{
    char key[ADDR_KEY_MAX];
    size_t n = addr_key(&c->remote, c->proto, key);
    sip_conn_t *other;

    if (c->in_addr_index || n == 0)
        return;
    if ((other = ims_hash_remove_n(c->tp->by_addr, key, n)) != NULL)
        other->in_addr_index = false;
    c->in_addr_index = ims_hash_insert_n(c->tp->by_addr, key, n, c) == IMS_OK;
}

/* from: NULL (our listening address, any port) or the local address to use. */
static sip_conn_t *conn_connect(sip_transport_t *tp, const sip_addr_t *to, sip_proto_t proto,
                                const sip_addr_t *from)
{
    socklen_t alen = addr_len(to);
    sip_conn_t *c;
    char txt[64];
    int fd, rc;

    if (alen == 0)
        return NULL;
    if (tp->st.conns_open >= tp->cfg.max_conns) {
        IMS_WARN("sip: %s connect to %s: %u connections open",
                 proto == SIP_PROTO_TLS ? "TLS" : "TCP", sip_addr_str(to, txt, sizeof(txt)),
                 tp->cfg.max_conns);
        return NULL;
    }
    fd = socket(to->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    if (!from) {
        bind_source(tp, fd, to->ss.ss_family, proto);
    } else if (bind_from(fd, from) != IMS_OK) {
        close(fd);
        return NULL;
    }
    rc = connect(fd, (const struct sockaddr *)&to->ss, alen);
    if (rc < 0 && errno != EINPROGRESS) {
        IMS_INFO("sip: %s connect to %s: %s", proto == SIP_PROTO_TLS ? "TLS" : "TCP",
                 sip_addr_str(to, txt, sizeof(txt)), strerror(errno));
        close(fd);
        return NULL;
    }
    /* A TLS session needs the connect done first: it starts on writability. */
    c = conn_new(tp, fd, rc < 0 || proto == SIP_PROTO_TLS, to, proto);
    if (c)
        c->outbound = true;
    if (c && from)
        take_addr_index(c);
    return c;
}

/* The local address a request (no connection named) must leave from, or NULL
 * (any: responses keep the connection their request came on, or reconnect as
 * before). */
static const sip_addr_t *dst_from(const sip_dest_t *dst)
{
    return dst->conn_id == 0 && dst->local.ss.ss_family != 0 ? &dst->local : NULL;
}

static sip_conn_t *find_conn(sip_transport_t *tp, const sip_dest_t *dst)
{
    const sip_addr_t *from = dst_from(dst);
    char key[ADDR_KEY_MAX];
    sip_conn_t *c = NULL;

    if (dst->conn_id != 0)
        c = ims_hash_find_n(tp->by_id, (const char *)&dst->conn_id, sizeof(dst->conn_id));
    if (c == NULL || c->draining || c->proto != dst->proto)
        c = ims_hash_find_n(tp->by_addr, key, addr_key(&dst->addr, dst->proto, key));
    if (c != NULL && from && !sip_addr_equal(&c->local, from))
        return NULL;    /* from elsewhere: not over the SAs dst->local is for */
    return c != NULL && !c->draining ? c : NULL;
}

uint32_t sip_transport_conn_find(const sip_transport_t *tp, const sip_addr_t *remote,
                                 sip_proto_t *proto)
{
    static const sip_proto_t order[] = { SIP_PROTO_TLS, SIP_PROTO_TCP };
    char key[ADDR_KEY_MAX];
    const sip_conn_t *c;
    size_t n;

    for (size_t i = 0; tp && i < IMS_ARRAY_LEN(order); i++) {
        if (*proto != SIP_PROTO_UDP && *proto != order[i])
            continue;
        if ((n = addr_key(remote, order[i], key)) == 0)
            return 0;
        c = ims_hash_find_n(tp->by_addr, key, n);
        if (c != NULL && !c->draining && !c->dead) {
            *proto = order[i];
            return c->id;
        }
    }
    return 0;
}

int sip_tcp_send(sip_transport_t *tp, const sip_dest_t *dst, const char *buf, size_t len,
                 uint32_t *unready)
{
    sip_conn_t *c = find_conn(tp, dst);

    if (c == NULL)
        c = conn_connect(tp, &dst->addr, dst->proto, dst_from(dst));
    if (c == NULL || conn_write(c, buf, len) != IMS_OK)
        return IMS_ERROR;
    if (unready && c->outbound && !c->dead && (c->connecting || c->handshaking))
        *unready = c->id;
    return IMS_OK;
}

void sip_transport_on_conn_fail(sip_transport_t *tp, sip_conn_fail_cb cb, void *arg)
{
    if (tp == NULL)
        return;
    tp->fail_cb = cb;
    tp->fail_arg = arg;
}

void sip_transport_off_conn_fail(sip_transport_t *tp, void *arg)
{
    if (tp != NULL && tp->fail_arg == arg) {
        tp->fail_cb = NULL;
        tp->fail_arg = NULL;
    }
}

int sip_tcp_init(sip_transport_t *tp)
{
    tp->next_id = 1;
    tp->by_id = ims_hash_new(64);
    tp->by_addr = ims_hash_new(64);
    return tp->by_id != NULL && tp->by_addr != NULL ? IMS_OK : IMS_ERROR;
}

void sip_tcp_fini(sip_transport_t *tp)
{
    tp->fail_cb = NULL;  /* shutting down: nobody left to tell */
    while (tp->conns != NULL)
        conn_close(tp->conns, "shutdown");
    ims_timer_stop(tp->loop, &tp->fail_timer);
    free(tp->failed);
    tp->failed = NULL;
    tp->nfailed = tp->failed_cap = 0;
    ims_hash_free(tp->by_id);
    ims_hash_free(tp->by_addr);
    tp->by_id = tp->by_addr = NULL;
}
