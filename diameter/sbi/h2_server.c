/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The HTTP/2 server (h2_server.h). A stream's state lives as nghttp2's stream
 * user data from its first HEADERS to on_stream_close, which frees it: nghttp2
 * owns stream lifetimes here, so no id lookup is needed. A route is called
 * once the request is complete (END_STREAM) and answers synchronously. A
 * connection is closed only after nghttp2 has returned (drop is deferred).
 */
#define _GNU_SOURCE  /* accept4 */
#include "diameter/sbi/h2_server.h"

#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/sbi/h2_int.h"
#include "diameter/sbi/h2_stats.h"

typedef struct sconn sconn_t;

typedef struct sstream sstream_t;

struct sstream {
    sstream_t *prev, *next;         /* in conn->streams: nghttp2_session_del frees none */
    int32_t id;
    sbi_h2_body_t out;
    sbi_h2_msg_t req;
};

struct sconn {
    sbi_h2_io_t io;                 /* first: the nghttp2 session's user_data */
    sbi_h2_server_t *s;
    sconn_t *prev, *next;
    bool drop;                      /* a route asked to close the connection */
    bool goaway_sent;
    sstream_t *streams;
    ims_timer_t idle;               /* closes a connection that sends nothing */
};

typedef struct route {
    char method[16];                /* "" any */
    char prefix[128];
    sbi_h2_route_cb cb;
    void *arg;
} route_t;

struct sbi_h2_server {
    ims_loop_t *loop;
    int fd;
    uint16_t port;
    nghttp2_session_callbacks *cbs;
    SSL_CTX *tls;                   /* NULL: h2c */
    sconn_t *conns;
    size_t nconns;
    route_t routes[SBI_H2_SERVER_MAX_ROUTES];
    int nroutes;
};

/* ---- answers ---- */

void sbi_h2_answer_json(sbi_h2_answer_t *ans, int status, const char *json_text)
{
    ans->status = status;
    ans->content_type = "application/json";
    free(ans->body);
    ans->body = strdup(json_text);
    if (!ans->body)
        abort();
    ans->body_len = strlen(ans->body);
}

int sbi_h2_answer_header(sbi_h2_answer_t *ans, const char *name, const char *value)
{
    size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
    char *p = ans->hspace + ans->hused;

    if (ans->nhdrs >= SBI_H2_ANSWER_MAX_HDRS || nl + vl > sizeof(ans->hspace) - ans->hused)
        return IMS_ERROR;
    memcpy(p, name, nl);
    memcpy(p + nl, value, vl);
    ans->hdrs[ans->nhdrs++] = (sbi_h2_hdr_t){ p, p + nl };
    ans->hused += nl + vl;
    return IMS_OK;
}

void sbi_h2_answer_problem(sbi_h2_answer_t *ans, int status, const char *cause,
                           const char *detail)
{
    json_t *o = json_pack("{s:i}", "status", status);
    char *text;

    if (cause)
        json_object_set_new(o, "cause", json_string(cause));
    if (detail)
        json_object_set_new(o, "detail", json_string(detail));
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        abort();
    sbi_h2_answer_json(ans, status, text);
    ans->content_type = "application/problem+json";
    free(text);
}

static const route_t *route_find(const sbi_h2_server_t *s, const sbi_h2_msg_t *req,
                                 bool *other_method)
{
    const route_t *best = NULL;
    size_t best_len = 0;

    *other_method = false;
    for (int i = 0; i < s->nroutes; i++) {
        const route_t *r = &s->routes[i];
        size_t n = strlen(r->prefix);

        if (strncmp(req->path, r->prefix, n) != 0 || (best && n <= best_len))
            continue;
        if (r->method[0] && strcmp(r->method, req->method) != 0) {
            *other_method = true;
            continue;
        }
        best = r;
        best_len = n;
    }
    return best;
}

static void respond(sconn_t *conn, sstream_t *st, sbi_h2_answer_t *ans)
{
    nghttp2_nv nva[4 + SBI_H2_ANSWER_MAX_HDRS];
    nghttp2_data_provider prd;
    char status[8];
    size_t n = 0;
    bool body = ans->body && ans->body_len;

    if (ans->status < 200 || ans->status > 599)
        ans->status = 500;
    snprintf(status, sizeof(status), "%d", ans->status);
    nva[n++] = sbi_h2_nv(":status", status);
    if (ans->content_type && body)
        nva[n++] = sbi_h2_nv("content-type", ans->content_type);
    if (ans->location[0])
        nva[n++] = sbi_h2_nv("location", ans->location);
    for (int i = 0; i < ans->nhdrs && i < SBI_H2_ANSWER_MAX_HDRS; i++)
        nva[n++] = sbi_h2_nv(ans->hdrs[i].name, ans->hdrs[i].value);
    if (body) {
        free(st->out.data);
        st->out = (sbi_h2_body_t){ ans->body, ans->body_len, 0 };   /* taken */
        ans->body = NULL;
        prd.source.ptr = &st->out;
        prd.read_callback = sbi_h2_body_read;
    }
    nghttp2_submit_response(conn->io.ng, st->id, nva, n, body ? &prd : NULL);
    sbi_h2_stats_served(st->req.method, ans->status);
}

static void dispatch(sconn_t *conn, sstream_t *st)
{
    sbi_h2_answer_t ans = { .status = 500 };
    bool other = false;
    const route_t *r = NULL;

    if (st->req.truncated)
        sbi_h2_answer_problem(&ans, 413, "REQUEST_TOO_LARGE", "headers or body over the bounds");
    else if (!(r = route_find(conn->s, &st->req, &other)))
        sbi_h2_answer_problem(&ans, other ? 405 : 404,
                              other ? NULL : "RESOURCE_URI_STRUCTURE_NOT_FOUND", st->req.path);
    else
        r->cb(r->arg, &st->req, &ans);
    switch (ans.action) {
    case SBI_H2_ANSWER:
        respond(conn, st, &ans);
        break;
    case SBI_H2_RESET:
        nghttp2_submit_rst_stream(conn->io.ng, NGHTTP2_FLAG_NONE, st->id,
                                  NGHTTP2_INTERNAL_ERROR);
        break;
    case SBI_H2_DROP:
        conn->drop = true;
        break;
    case SBI_H2_IGNORE:
        break;
    }
    free(ans.body);
}

/* ---- nghttp2 callbacks ---- */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    sconn_t *conn = ud;
    sstream_t *st;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    st = calloc(1, sizeof(*st));
    if (!st)
        abort();
    st->id = frame->hd.stream_id;
    st->next = conn->streams;
    if (conn->streams)
        conn->streams->prev = st;
    conn->streams = st;
    sbi_h2_msg_init(&st->req);
    nghttp2_session_set_stream_user_data(ng, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
                     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    sstream_t *st;

    (void)flags;
    (void)ud;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (st)
        sbi_h2_msg_add_header(&st->req, name, nlen, value, vlen);
    return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data,
                   size_t len, void *ud)
{
    sstream_t *st = nghttp2_session_get_stream_user_data(ng, stream_id);

    (void)flags;
    (void)ud;
    if (st)
        sbi_h2_msg_add_body(&st->req, data, len);
    return 0;
}

static int on_frame(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    sstream_t *st;

    if (frame->hd.type == NGHTTP2_GOAWAY) {
        sbi_h2_stats_mut()->server_goaways_received++;
        /* NOTICE: a client going away is what a graceful shutdown shows */
        IMS_NOTICE("sbi: GOAWAY received from a client (last stream %d, error %u)",
                   frame->goaway.last_stream_id, frame->goaway.error_code);
        return 0;
    }
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (st)
        dispatch(ud, st);
    return 0;
}

static void stream_free(sconn_t *conn, sstream_t *st)
{
    if (st->prev)
        st->prev->next = st->next;
    else
        conn->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    sbi_h2_msg_clear(&st->req);
    free(st->out.data);
    free(st);
}

static int on_close(nghttp2_session *ng, int32_t stream_id, uint32_t code, void *ud)
{
    sstream_t *st = nghttp2_session_get_stream_user_data(ng, stream_id);

    (void)code;
    if (st)
        stream_free(ud, st);
    return 0;
}

/* ---- connections ---- */

static void conn_close(sconn_t *conn)
{
    sbi_h2_server_t *s = conn->s;

    ims_timer_stop(s->loop, &conn->idle);
    sbi_h2_io_close(&conn->io);
    while (conn->streams)
        stream_free(conn, conn->streams);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        s->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    s->nconns--;
    free(conn);
}

/* GOAWAY (sbi_h2_io_goaway). closing: the connection is closed right after;
 * otherwise the streams in progress finish and then it closes. */
static void conn_goaway(sconn_t *conn, bool closing)
{
    if (conn->goaway_sent || !sbi_h2_io_goaway(&conn->io, closing))
        return;
    conn->goaway_sent = true;
    sbi_h2_stats_mut()->server_goaways_sent++;
}

/* Idle for SBI_H2_SERVER_IDLE_MS: GOAWAY if it can go, and close. */
static void on_idle(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    sconn_t *conn = arg;

    nghttp2_session_terminate_session(conn->io.ng, NGHTTP2_NO_ERROR);
    sbi_h2_io_flush(&conn->io);
    conn_close(conn);
}

static void on_conn_fd(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    sconn_t *conn = arg;
    int rc = IMS_OK;

    if (events & (IMS_EV_READ | IMS_EV_ERROR))
        ims_timer_start(loop, &conn->idle, SBI_H2_SERVER_IDLE_MS, on_idle, conn);
    if (conn->io.handshaking) {
        rc = sbi_h2_tls_handshake(&conn->io);
        if (rc == IMS_AGAIN)
            return;
        if (rc != IMS_OK) {
            conn_close(conn);
            return;
        }
        events |= IMS_EV_READ;   /* data may have come with the last flight */
    }
    if (events & (IMS_EV_READ | IMS_EV_ERROR))
        rc = sbi_h2_io_read(&conn->io);
    if (rc == IMS_OK && !conn->drop)
        rc = sbi_h2_io_flush(&conn->io);
    else if (rc == IMS_ERROR)
        sbi_h2_io_flush(&conn->io);   /* the GOAWAY nghttp2 queued, if it can go */
    if (rc != IMS_OK || conn->drop)
        conn_close(conn);
}

static void accept_one(sbi_h2_server_t *s, int fd)
{
    nghttp2_settings_entry iv[] = {
        { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, SBI_H2_SERVER_MAX_STREAMS },
    };
    sconn_t *conn;
    int one = 1;

    if (s->nconns >= SBI_H2_SERVER_MAX_CONNS) {
        IMS_WARN("sbi: %zu connections: refusing one", s->nconns);
        close(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    conn = calloc(1, sizeof(*conn));
    if (!conn)
        abort();
    conn->s = s;
    conn->io.loop = s->loop;
    conn->io.fd = fd;
    ims_timer_init(&conn->idle);
    ims_timer_start(s->loop, &conn->idle, SBI_H2_SERVER_IDLE_MS, on_idle, conn);
    if (nghttp2_session_server_new(&conn->io.ng, s->cbs, conn) != 0)
        abort();
    nghttp2_submit_settings(conn->io.ng, NGHTTP2_FLAG_NONE, iv, IMS_ARRAY_LEN(iv));
    conn->next = s->conns;
    if (s->conns)
        s->conns->prev = conn;
    s->conns = conn;
    s->nconns++;
    if (s->tls && sbi_h2_tls_start(&conn->io, s->tls, false, NULL) != IMS_OK) {
        conn_close(conn);
        return;
    }
    sbi_h2_io_watch(&conn->io, IMS_EV_READ | IMS_EV_WRITE, on_conn_fd, conn);
    if (!conn->io.fd_on)
        conn_close(conn);
}

static void on_listen_fd(ims_loop_t *loop, int lfd, unsigned events, void *arg)
{
    sbi_h2_server_t *s = arg;

    for (int i = 0; i < 16; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0)
            return;
        accept_one(s, fd);
    }
}

static int open_listener(sbi_h2_server_t *s, const char *listen_on)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int one = 1;

    if (sbi_h2_parse_addr(listen_on, &ss, &sl) != IMS_OK) {
        IMS_ERR("sbi: bad listen address \"%s\" (want IP:PORT or [IPv6]:PORT)",
                listen_on ? listen_on : "");
        return IMS_ERROR;
    }
    s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(s->fd, (struct sockaddr *)&ss, sl) != 0 || listen(s->fd, 64) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&ss, &sl) != 0) {
        IMS_ERR("sbi: cannot listen on %s: %s", listen_on, strerror(errno));
        return IMS_ERROR;
    }
    s->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return ims_loop_add_fd(s->loop, s->fd, IMS_EV_READ, on_listen_fd, s);
}

sbi_h2_server_t *sbi_h2_server_new_tls(ims_loop_t *loop, const char *listen_on,
                                       const char *cert_file, const char *key_file)
{
    SSL_CTX *ctx = sbi_h2_tls_server_ctx(cert_file, key_file);
    sbi_h2_server_t *s;

    if (!ctx)
        return NULL;
    s = sbi_h2_server_new(loop, listen_on);
    if (!s) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    s->tls = ctx;
    return s;
}

sbi_h2_server_t *sbi_h2_server_new(ims_loop_t *loop, const char *listen_on)
{
    sbi_h2_server_t *s = calloc(1, sizeof(*s));

    if (!s || nghttp2_session_callbacks_new(&s->cbs) != 0)
        abort();
    s->loop = loop;
    s->fd = -1;
    nghttp2_session_callbacks_set_send_callback(s->cbs, sbi_h2_send_cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(s->cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(s->cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(s->cbs, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(s->cbs, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(s->cbs, on_close);
    if (open_listener(s, listen_on) != IMS_OK) {
        sbi_h2_server_free(s);
        return NULL;
    }
    return s;
}

void sbi_h2_server_free(sbi_h2_server_t *s)
{
    if (!s)
        return;
    while (s->conns) {
        conn_goaway(s->conns, true);
        conn_close(s->conns);
    }
    if (s->fd >= 0) {
        ims_loop_del_fd(s->loop, s->fd);
        close(s->fd);
    }
    nghttp2_session_callbacks_del(s->cbs);
    SSL_CTX_free(s->tls);
    free(s);
}

void sbi_h2_server_goaway(sbi_h2_server_t *s)
{
    sconn_t *next;

    for (sconn_t *conn = s ? s->conns : NULL; conn; conn = next) {
        next = conn->next;
        conn_goaway(conn, false);
        if (sbi_h2_io_flush(&conn->io) != IMS_OK)
            conn_close(conn);   /* nothing in progress: done */
    }
}

uint16_t sbi_h2_server_port(const sbi_h2_server_t *s)
{
    return s->port;
}

size_t sbi_h2_server_conns(const sbi_h2_server_t *s)
{
    return s->nconns;
}

int sbi_h2_server_route(sbi_h2_server_t *s, const char *method, const char *prefix,
                        sbi_h2_route_cb cb, void *arg)
{
    route_t *r;

    if (s->nroutes >= SBI_H2_SERVER_MAX_ROUTES || !prefix)
        return IMS_ERROR;
    r = &s->routes[s->nroutes++];
    snprintf(r->method, sizeof(r->method), "%s", method ? method : "");
    snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
    r->cb = cb;
    r->arg = arg;
    return IMS_OK;
}
