/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The HTTP/2 client (h2_client.h). Requests are found by stream id within
 * their connection, never through pointers left in nghttp2: a request that
 * timed out or was cancelled is freed at once, its stream reset, and whatever
 * nghttp2 still says about that stream finds nothing. A connection is torn
 * down only outside nghttp2's callbacks: a failure seen inside them (or inside
 * sbi_h2_client_request, whose caller must not see its callback yet) marks it
 * dead and a zero-delay timer does the rest.
 *
 * Every client of the process is on one list, so that imsctl can show the
 * connections of clients that belong to other modules (the N5 client's), and
 * every request is counted under its operation (h2_stats.h).
 */
#include "diameter/sbi/h2_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/sbi/h2_int.h"
#include "diameter/sbi/h2_stats.h"

#define DEFAULT_MAX_PENDING 1024u
#define DEFAULT_TIMEOUT_MS 5000u
#define MAX_EXTRA_HDRS 16
#define PEER_MAX_STREAMS 100

typedef struct creq creq_t;
typedef struct cconn cconn_t;

struct cconn {
    sbi_h2_io_t io;                 /* first: the nghttp2 session's user_data */
    sbi_h2_client_t *cl;
    cconn_t *next;
    char authority[SBI_H2_AUTHORITY_MAX];
    bool dead;                      /* failing: no new requests, reap pending */
    bool busy;                      /* inside nghttp2 (on_conn_fd): no nested send */
    sbi_h2_err_t fail_err;
    ims_timer_t reap;
    creq_t *reqs;
    creq_t *last;                   /* lookup cache */
    uint64_t created_ms;
    uint64_t nrequests;             /* sent on it, for imsctl */
    size_t nreqs;                   /* in flight on it */
    bool goaway_sent;
};

struct creq {
    creq_t *prev, *next;            /* in conn->reqs */
    cconn_t *conn;
    uint64_t id;
    int32_t stream_id;
    ims_timer_t timer;
    sbi_h2_resp_cb cb;
    void *arg;
    sbi_h2_body_t body;
    bool complete;                  /* END_STREAM received */
    sbi_h2_msg_t resp;
    size_t op_slot;                 /* h2_stats.h */
    uint64_t sent_us;
};

struct sbi_h2_client {
    ims_loop_t *loop;
    unsigned max_pending;
    cconn_t *conns;
    nghttp2_session_callbacks *cbs;
    nghttp2_option *opt;
    SSL_CTX *tls;                   /* NULL: h2c */
    bool closing;                   /* in sbi_h2_client_free: no new requests */
    uint64_t next_id;
    size_t pending;
    sbi_h2_client_t *next_client;   /* on the process's list */
};

static sbi_h2_client_t *clients;

const char *sbi_h2_err_name(sbi_h2_err_t err)
{
    switch (err) {
    case SBI_H2_OK: return "ok";
    case SBI_H2_ERR_CONNECT: return "connect";
    case SBI_H2_ERR_RESET: return "reset";
    case SBI_H2_ERR_CLOSED: return "closed";
    case SBI_H2_ERR_TIMEOUT: return "timeout";
    case SBI_H2_ERR_PROTOCOL: return "protocol";
    case SBI_H2_ERR_SHUTDOWN: return "shutdown";
    }
    return "?";
}

bool sbi_h2_authority_ok(const char *s)
{
    struct sockaddr_storage ss;
    socklen_t sl;

    return s && strlen(s) < SBI_H2_AUTHORITY_MAX && sbi_h2_parse_addr(s, &ss, &sl) == IMS_OK;
}

/* ---- requests ---- */

static creq_t *req_by_stream(cconn_t *conn, int32_t stream_id)
{
    if (conn->last && conn->last->stream_id == stream_id)
        return conn->last;
    for (creq_t *r = conn->reqs; r; r = r->next) {
        if (r->stream_id == stream_id) {
            conn->last = r;
            return r;
        }
    }
    return NULL;
}

static void req_unlink(creq_t *r)
{
    cconn_t *conn = r->conn;

    if (conn->last == r)
        conn->last = NULL;
    if (r->prev)
        r->prev->next = r->next;
    else
        conn->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    conn->cl->pending--;
    conn->nreqs--;
}

static void req_free(creq_t *r)
{
    ims_timer_stop(r->conn->io.loop, &r->timer);
    free(r->body.data);
    sbi_h2_msg_clear(&r->resp);
    free(r);
}

/* Unlink r, run its callback, free it. Never touches nghttp2. */
static void req_finish(creq_t *r, sbi_h2_err_t err)
{
    req_unlink(r);
    ims_timer_stop(r->conn->io.loop, &r->timer);
    sbi_h2_stats_outcome(r->op_slot, err == SBI_H2_OK ? r->resp.status : 0, err,
                         ims_clock_real_us() - r->sent_us);
    if (r->cb)
        r->cb(r->arg, err, err == SBI_H2_OK ? &r->resp : NULL);
    req_free(r);
}

/* ---- connection teardown ---- */

static void conn_unlink(cconn_t *conn)
{
    sbi_h2_client_t *cl = conn->cl;

    for (cconn_t **pp = &cl->conns; *pp; pp = &(*pp)->next) {
        if (*pp == conn) {
            *pp = conn->next;
            return;
        }
    }
}

/* Fail every request on conn with err and free it. Not from nghttp2 callbacks. */
static void conn_fail(cconn_t *conn, sbi_h2_err_t err)
{
    conn->dead = true;
    ims_timer_stop(conn->io.loop, &conn->reap);
    sbi_h2_io_close(&conn->io);
    /* the callbacks may cancel other requests of conn: take them one at a time */
    while (conn->reqs)
        req_finish(conn->reqs, err);
    conn_unlink(conn);
    free(conn);
}

static void on_reap(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    cconn_t *conn = arg;

    conn_fail(conn, conn->fail_err);
}

/* Mark conn dead now and fail it from the loop. */
static void conn_fail_later(cconn_t *conn, sbi_h2_err_t err)
{
    if (conn->dead)
        return;
    conn->dead = true;
    conn->fail_err = err;
    if (conn->io.fd_on)
        ims_loop_del_fd(conn->io.loop, conn->io.fd);
    conn->io.fd_on = false;
    ims_timer_start(conn->io.loop, &conn->reap, 0, on_reap, conn);
}

/* ---- nghttp2 callbacks ---- */

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
                     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    creq_t *r;

    (void)ng;
    (void)flags;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    r = req_by_stream(ud, frame->hd.stream_id);
    if (r)
        sbi_h2_msg_add_header(&r->resp, name, nlen, value, vlen);
    return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data,
                   size_t len, void *ud)
{
    creq_t *r = req_by_stream(ud, stream_id);

    (void)ng;
    (void)flags;
    if (r)
        sbi_h2_msg_add_body(&r->resp, data, len);
    return 0;
}

static int on_frame(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    creq_t *r;

    (void)ng;
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        cconn_t *conn = ud;

        sbi_h2_stats_mut()->client_goaways_received++;
        IMS_INFO("sbi: GOAWAY from %s (last stream %d, error %u)", conn->authority,
                 frame->goaway.last_stream_id, frame->goaway.error_code);
        return 0;
    }
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    r = req_by_stream(ud, frame->hd.stream_id);
    if (r)
        r->complete = true;
    return 0;
}

static int on_close(nghttp2_session *ng, int32_t stream_id, uint32_t code, void *ud)
{
    creq_t *r = req_by_stream(ud, stream_id);
    sbi_h2_err_t err = SBI_H2_ERR_RESET;

    (void)ng;
    (void)code;
    if (!r)
        return 0;
    if (r->complete && r->resp.status >= 200)
        err = r->resp.truncated ? SBI_H2_ERR_PROTOCOL : SBI_H2_OK;
    req_finish(r, err);
    return 0;
}

static ssize_t on_body_read(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t len,
                            uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    creq_t *r = req_by_stream(ud, stream_id);

    (void)ng;
    (void)src;
    if (!r)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;   /* resets that stream */
    return sbi_h2_body_copy(&r->body, buf, len, flags);
}

/* ---- connection I/O ---- */

static int conn_tls(cconn_t *conn);

static void conn_kick(cconn_t *conn)
{
    int rc;

    if (conn->dead || conn->busy)
        return;   /* busy: on_conn_fd flushes when nghttp2 returns */
    rc = sbi_h2_io_flush(&conn->io);
    if (rc != IMS_OK)
        conn_fail_later(conn, SBI_H2_ERR_CLOSED);
}

/* The socket error of a non-blocking connect, 0 when connected. */
static int connect_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return errno;
    return err;
}

static void on_conn_fd(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    cconn_t *conn = arg;
    int rc;

    if (conn->dead)
        return;
    if (conn->io.connecting) {
        int err = connect_error(fd);

        if (err) {
            IMS_INFO("sbi: connect to %s: %s", conn->authority, strerror(err));
            conn_fail(conn, SBI_H2_ERR_CONNECT);
            return;
        }
        conn->io.connecting = false;
        if (conn->cl->tls && conn_tls(conn) != IMS_OK) {
            conn_fail(conn, SBI_H2_ERR_CONNECT);
            return;
        }
    }
    if (conn->io.handshaking) {
        int hs = sbi_h2_tls_handshake(&conn->io);

        if (hs == IMS_AGAIN)
            return;
        if (hs != IMS_OK) {
            conn_fail(conn, SBI_H2_ERR_CONNECT);
            return;
        }
        events |= IMS_EV_READ;   /* data may have come with the last flight */
    }
    conn->busy = true;
    rc = events & (IMS_EV_READ | IMS_EV_ERROR) ? sbi_h2_io_read(&conn->io) : IMS_OK;
    if (rc == IMS_ERROR)
        sbi_h2_io_flush(&conn->io);   /* let a GOAWAY out if nghttp2 queued one */
    else if (rc == IMS_OK && !conn->dead && sbi_h2_io_flush(&conn->io) != IMS_OK)
        rc = IMS_DONE;
    conn->busy = false;
    if (rc != IMS_OK)
        conn_fail(conn, rc == IMS_DONE ? SBI_H2_ERR_CLOSED : SBI_H2_ERR_PROTOCOL);
}

/* Start TLS on the connected socket, verifying the authority's host. */
static int conn_tls(cconn_t *conn)
{
    char host[SBI_H2_AUTHORITY_MAX];
    const char *a = conn->authority;
    size_t n;

    if (*a == '[') {
        a++;
        n = strcspn(a, "]");
    } else {
        n = strrchr(a, ':') ? (size_t)(strrchr(a, ':') - a) : strlen(a);
    }
    snprintf(host, sizeof(host), "%.*s", (int)n, a);
    return sbi_h2_tls_start(&conn->io, conn->cl->tls, true, host);
}

static int open_socket(cconn_t *conn)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int one = 1;

    if (sbi_h2_parse_addr(conn->authority, &ss, &sl) != IMS_OK)
        return IMS_ERROR;
    conn->io.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (conn->io.fd < 0)
        return IMS_ERROR;
    setsockopt(conn->io.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(conn->io.fd, (struct sockaddr *)&ss, sl) == 0)
        return conn->cl->tls ? conn_tls(conn) : IMS_OK;
    if (errno != EINPROGRESS) {
        IMS_INFO("sbi: connect to %s: %s", conn->authority, strerror(errno));
        return IMS_ERROR;
    }
    conn->io.connecting = true;
    return IMS_OK;
}

/* A new connection to authority; when the socket fails it is already dead
 * (its requests fail from the loop). */
static cconn_t *conn_new(sbi_h2_client_t *cl, const char *authority)
{
    cconn_t *conn = calloc(1, sizeof(*conn));
    nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 } };

    if (!conn)
        abort();
    conn->cl = cl;
    conn->io.loop = cl->loop;
    conn->io.fd = -1;
    ims_timer_init(&conn->reap);
    conn->created_ms = ims_clock_now_ms();
    snprintf(conn->authority, sizeof(conn->authority), "%s", authority);
    if (nghttp2_session_client_new2(&conn->io.ng, cl->cbs, conn, cl->opt) != 0)
        abort();
    nghttp2_submit_settings(conn->io.ng, NGHTTP2_FLAG_NONE, iv, IMS_ARRAY_LEN(iv));
    conn->next = cl->conns;
    cl->conns = conn;
    if (open_socket(conn) != IMS_OK) {
        conn_fail_later(conn, SBI_H2_ERR_CONNECT);
        return conn;
    }
    sbi_h2_io_watch(&conn->io, conn->io.connecting || conn->io.handshaking ? IMS_EV_WRITE :
                    IMS_EV_READ | IMS_EV_WRITE, on_conn_fd, conn);
    return conn;
}

/*
 * GOAWAY on an open connection (sbi_h2_io_goaway). closing: it is closed
 * right after; otherwise it stays and closes once its streams are done
 * (sbi_h2_io_flush says IMS_DONE).
 */
static void conn_goaway(cconn_t *conn, bool closing)
{
    if (conn->dead || conn->goaway_sent || !sbi_h2_io_goaway(&conn->io, closing))
        return;
    conn->goaway_sent = true;
    sbi_h2_stats_mut()->client_goaways_sent++;
    if (!closing)
        conn_kick(conn);
}

static cconn_t *conn_for(sbi_h2_client_t *cl, const char *authority)
{
    for (cconn_t *c = cl->conns; c; c = c->next)
        if (!c->dead && strcmp(c->authority, authority) == 0 &&
            nghttp2_session_check_request_allowed(c->io.ng))
            return c;
    return conn_new(cl, authority);
}

/* ---- the API ---- */

static void on_req_timeout(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    creq_t *r = arg;
    cconn_t *conn = r->conn;

    if (!conn->dead && (conn->io.connecting || conn->io.handshaking)) {
        /* not even connected within a request's time: the peer is not there */
        conn_fail(conn, SBI_H2_ERR_TIMEOUT);
        return;
    }
    if (!conn->dead)
        nghttp2_submit_rst_stream(conn->io.ng, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_CANCEL);
    req_finish(r, SBI_H2_ERR_TIMEOUT);
    conn_kick(conn);
}

static bool request_ok(const sbi_h2_client_t *cl, const sbi_h2_request_t *r)
{
    if (cl->closing || !r->method || !*r->method || !r->path || r->path[0] != '/' ||
        !sbi_h2_authority_ok(r->authority) || r->nhdrs < 0 || r->nhdrs > MAX_EXTRA_HDRS ||
        (r->nhdrs && !r->hdrs) || r->body_len > SBI_H2_MAX_BODY)
        return false;
    if (cl->pending >= cl->max_pending) {
        IMS_WARN("sbi: %zu requests pending: refusing one to %s", cl->pending, r->authority);
        return false;
    }
    return true;
}

static int32_t submit(cconn_t *conn, creq_t *q, const sbi_h2_request_t *r)
{
    nghttp2_nv nva[5 + MAX_EXTRA_HDRS];
    nghttp2_data_provider prd;
    size_t n = 0;
    bool body;

    nva[n++] = sbi_h2_nv(":method", r->method);
    nva[n++] = sbi_h2_nv(":scheme", conn->cl->tls ? "https" : "http");
    nva[n++] = sbi_h2_nv(":authority", r->authority);
    nva[n++] = sbi_h2_nv(":path", r->path);
    body = sbi_h2_body_set(&q->body, &prd, r->body, r->body_len);
    if (body && r->content_type)
        nva[n++] = sbi_h2_nv("content-type", r->content_type);
    for (int i = 0; i < r->nhdrs; i++)
        nva[n++] = sbi_h2_nv(r->hdrs[i].name, r->hdrs[i].value);
    prd.read_callback = on_body_read;
    return nghttp2_submit_request(conn->io.ng, NULL, nva, n, body ? &prd : NULL, NULL);
}

uint64_t sbi_h2_client_request(sbi_h2_client_t *cl, const sbi_h2_request_t *r,
                               sbi_h2_resp_cb cb, void *arg)
{
    cconn_t *conn;
    creq_t *q;

    if (!request_ok(cl, r))
        return 0;
    conn = conn_for(cl, r->authority);
    q = calloc(1, sizeof(*q));
    if (!q)
        abort();
    q->conn = conn;
    q->cb = cb;
    q->arg = arg;
    ims_timer_init(&q->timer);
    sbi_h2_msg_init(&q->resp);
    q->stream_id = submit(conn, q, r);
    if (q->stream_id < 0) {
        IMS_WARN("sbi: request to %s: %s", r->authority, nghttp2_strerror(q->stream_id));
        free(q->body.data);
        free(q);
        return 0;
    }
    q->id = ++cl->next_id;
    q->next = conn->reqs;
    if (conn->reqs)
        conn->reqs->prev = q;
    conn->reqs = q;
    cl->pending++;
    conn->nreqs++;
    conn->nrequests++;
    q->sent_us = ims_clock_real_us();
    if (r->op && *r->op) {
        q->op_slot = sbi_h2_stats_request(r->op);
    } else {
        char op[SBI_H2_OP_MAX];

        sbi_h2_op_name(r->method, r->path, op, sizeof(op));
        q->op_slot = sbi_h2_stats_request(op);
    }
    ims_timer_start(cl->loop, &q->timer, r->timeout_ms ? r->timeout_ms : DEFAULT_TIMEOUT_MS,
                    on_req_timeout, q);
    conn_kick(conn);
    return q->id;
}

void sbi_h2_client_cancel(sbi_h2_client_t *cl, uint64_t id)
{
    for (cconn_t *conn = cl->conns; conn; conn = conn->next) {
        for (creq_t *r = conn->reqs; r; r = r->next) {
            if (r->id != id)
                continue;
            if (!conn->dead)
                nghttp2_submit_rst_stream(conn->io.ng, NGHTTP2_FLAG_NONE, r->stream_id,
                                          NGHTTP2_CANCEL);
            req_unlink(r);
            req_free(r);
            conn_kick(conn);
            return;
        }
    }
}

sbi_h2_client_t *sbi_h2_client_new(ims_loop_t *loop, const sbi_h2_client_cfg_t *cfg)
{
    sbi_h2_client_t *cl;

    cl = calloc(1, sizeof(*cl));
    if (!cl || nghttp2_session_callbacks_new(&cl->cbs) != 0 || nghttp2_option_new(&cl->opt) != 0)
        abort();
    /* until the server's SETTINGS arrive, queue streams beyond a common limit
     * in nghttp2 instead of having them refused */
    nghttp2_option_set_peer_max_concurrent_streams(cl->opt, PEER_MAX_STREAMS);
    cl->loop = loop;
    if (cfg && cfg->tls && !(cl->tls = sbi_h2_tls_client_ctx(cfg->tls_ca))) {
        sbi_h2_client_free(cl);
        return NULL;
    }
    cl->max_pending = cfg && cfg->max_pending ? cfg->max_pending : DEFAULT_MAX_PENDING;
    nghttp2_session_callbacks_set_send_callback(cl->cbs, sbi_h2_send_cb);
    nghttp2_session_callbacks_set_on_header_callback(cl->cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cl->cbs, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cl->cbs, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cl->cbs, on_close);
    cl->next_client = clients;
    clients = cl;
    return cl;
}

void sbi_h2_client_free(sbi_h2_client_t *cl)
{
    if (!cl)
        return;
    cl->closing = true;
    for (sbi_h2_client_t **pp = &clients; *pp; pp = &(*pp)->next_client) {
        if (*pp == cl) {
            *pp = cl->next_client;
            break;
        }
    }
    /* the callbacks first (they may cancel: nothing more goes out then), then
     * each connection says GOAWAY and closes */
    for (cconn_t *conn = cl->conns; conn; conn = conn->next) {
        while (conn->reqs)
            req_finish(conn->reqs, SBI_H2_ERR_SHUTDOWN);
    }
    while (cl->conns) {
        conn_goaway(cl->conns, true);
        conn_fail(cl->conns, SBI_H2_ERR_SHUTDOWN);
    }
    nghttp2_session_callbacks_del(cl->cbs);
    nghttp2_option_del(cl->opt);
    SSL_CTX_free(cl->tls);
    free(cl);
}

void sbi_h2_client_goaway(sbi_h2_client_t *cl)
{
    cconn_t *next;

    /* conn_kick may fail a connection later (from the loop), never now */
    for (cconn_t *conn = cl ? cl->conns : NULL; conn; conn = next) {
        next = conn->next;
        conn_goaway(conn, false);
    }
}

static const char *conn_state(const cconn_t *c)
{
    if (c->dead)
        return "closing";
    if (c->io.connecting)
        return "connecting";
    if (c->io.handshaking)
        return "tls-handshake";
    if (c->goaway_sent || !nghttp2_session_check_request_allowed(c->io.ng))
        return "goaway";
    return "open";
}

size_t sbi_h2_client_conn_list(sbi_h2_conn_info_t *out, size_t max)
{
    uint64_t now = ims_clock_now_ms();
    size_t n = 0;

    for (const sbi_h2_client_t *cl = clients; cl; cl = cl->next_client) {
        for (const cconn_t *c = cl->conns; c; c = c->next, n++) {
            if (n >= max)
                continue;
            out[n] = (sbi_h2_conn_info_t){ .state = conn_state(c), .tls = cl->tls != NULL,
                                           .streams = c->nreqs, .requests = c->nrequests,
                                           .age_ms = now > c->created_ms ? now - c->created_ms
                                                                         : 0 };
            snprintf(out[n].authority, sizeof(out[n].authority), "%s", c->authority);
        }
    }
    return n;
}

size_t sbi_h2_client_pending(const sbi_h2_client_t *cl)
{
    return cl->pending;
}

size_t sbi_h2_client_conns(const sbi_h2_client_t *cl)
{
    size_t n = 0;

    for (const cconn_t *c = cl->conns; c; c = c->next)
        n++;
    return n;
}
