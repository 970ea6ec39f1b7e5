/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The operations HTTP server (see http_probe.h). Each connection has a fixed
 * input buffer for one request head and at most one reply being written: while
 * a reply is pending the connection is not read (pipelined requests wait in
 * the input buffer), so a client that never reads cannot make us buffer more
 * than one /metrics page. Requests are parsed only once the blank line that
 * ends their head is in the buffer; nothing is assumed NUL-terminated.
 */
#define _GNU_SOURCE  /* accept4 */
#include "common/ops/http_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ops/http_req.h"

typedef struct conn conn_t;

struct ims_http_probe {
    ims_loop_t *loop;
    int fd;
    uint16_t port;
    ims_metrics_t *metrics;
    ims_probe_ready_cb ready;
    void *arg;
    conn_t *conns;
    int nconns;
};

struct conn {
    conn_t *prev, *next;
    ims_http_probe_t *p;
    int fd;
    ims_timer_t idle;
    bool close_after;           /* close once out is written */
    char *out;                  /* the reply being written, or NULL */
    size_t outlen, outoff;
    size_t inlen;
    char in[IMS_HTTP_PROBE_MAX_REQ];
};

static void conn_close(conn_t *c)
{
    ims_http_probe_t *p = c->p;

    ims_timer_stop(p->loop, &c->idle);
    ims_loop_del_fd(p->loop, c->fd);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    p->nconns--;
    free(c->out);
    free(c);
}

static void on_idle(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    conn_close(arg);
}

/* ---- replies ---- */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    }
    return "Error";
}

/* Queue the reply (body taken: malloc'd or NULL with blen 0). */
static void set_reply(conn_t *c, int status, const char *ctype, char *body, size_t blen,
                      bool head_only)
{
    char hdr[256];
    int h;

    if (status != 200 && status != 404 && status != 503)
        c->close_after = true;   /* after an error the stream is not to be trusted */
    h = snprintf(hdr, sizeof(hdr),
                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                 "Connection: %s\r\n\r\n",
                 status, reason(status), ctype, blen,
                 status == 405 ? "Allow: GET, HEAD\r\n" : "",
                 c->close_after ? "close" : "keep-alive");
    if (head_only)
        blen = 0;
    c->out = malloc((size_t)h + blen);
    if (!c->out)
        abort();
    memcpy(c->out, hdr, (size_t)h);
    if (blen)
        memcpy(c->out + h, body, blen);
    c->outlen = (size_t)h + blen;
    c->outoff = 0;
    free(body);
}

static void reply_text(conn_t *c, int status, const char *text, bool head_only)
{
    char *body = strdup(text);

    if (!body)
        abort();
    set_reply(c, status, "text/plain; charset=utf-8", body, strlen(body), head_only);
}

static void answer(conn_t *c, const ims_http_req_t *r)
{
    ims_http_probe_t *p = c->p;
    char why[200] = "not ready", line[220];
    size_t len;
    char *body;

    c->close_after = !r->keep;
    if (r->status) {
        reply_text(c, r->status, reason(r->status), r->head_only);
    } else if (strcmp(r->path, "/metrics") == 0) {
        body = ims_metrics_render(p->metrics, &len);
        set_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, len, r->head_only);
    } else if (strcmp(r->path, "/healthz") == 0) {
        reply_text(c, 200, "ok\n", r->head_only);
    } else if (strcmp(r->path, "/readyz") == 0) {
        if (!p->ready || p->ready(p->arg, why, sizeof(why))) {
            reply_text(c, 200, "ready\n", r->head_only);
        } else {
            snprintf(line, sizeof(line), "%s\n", why);
            reply_text(c, 503, line, r->head_only);
        }
    } else {
        reply_text(c, 404, "not found\n", r->head_only);
    }
}

/* ---- the connection ---- */

static void want(conn_t *c, unsigned events)
{
    ims_loop_mod_fd(c->p->loop, c->fd, events);
}

/* Write what is pending; IMS_OK when all is written, IMS_AGAIN, or IMS_ERROR
 * (c closed). */
static int flush(conn_t *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return IMS_AGAIN;
        if (n <= 0) {
            conn_close(c);
            return IMS_ERROR;
        }
        c->outoff += (size_t)n;
    }
    free(c->out);
    c->out = NULL;
    c->outlen = c->outoff = 0;
    if (c->close_after) {
        conn_close(c);
        return IMS_ERROR;
    }
    return IMS_OK;
}

/* Answer the complete requests in the buffer, one reply at a time. IMS_OK when
 * c still lives and has nothing to write; IMS_AGAIN (waiting to write) or
 * IMS_ERROR (closed) otherwise. */
static int serve(conn_t *c)
{
    size_t hl;
    ims_http_req_t r;
    int rc;

    while ((hl = ims_http_head_len(c->in, c->inlen)) > 0) {
        ims_http_parse_head(c->in, hl, &r);
        memmove(c->in, c->in + hl, c->inlen - hl);
        c->inlen -= hl;
        answer(c, &r);
        ims_timer_start(c->p->loop, &c->idle, IMS_HTTP_PROBE_IDLE_MS, on_idle, c);
        if ((rc = flush(c)) != IMS_OK)
            return rc;
    }
    if (c->inlen == sizeof(c->in)) {
        c->close_after = true;
        reply_text(c, 431, "request head too large\n", false);
        return flush(c);
    }
    return IMS_OK;
}

static void conn_read(conn_t *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            conn_close(c);   /* peer closed (half-close ends it too) or error */
            return;
        }
        c->inlen += (size_t)n;
        switch (serve(c)) {
        case IMS_OK: break;
        case IMS_AGAIN: want(c, IMS_EV_WRITE); return;
        default: return;   /* closed */
        }
    }
}

static void on_conn(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    conn_t *c = arg;

    if (c->out) {
        if (!(events & (IMS_EV_WRITE | IMS_EV_ERROR)))
            return;
        if (flush(c) != IMS_OK)
            return;   /* still waiting, or closed */
        /* pipelined requests that waited while we wrote; then read again */
        if (serve(c) == IMS_OK)
            want(c, IMS_EV_READ);
        return;
    }
    conn_read(c);
}

static void on_accept(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    ims_http_probe_t *p = arg;
    int cfd;

    while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        conn_t *c;

        if (p->nconns >= IMS_HTTP_PROBE_MAX_CONNS) {
            close(cfd);
            continue;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
            abort();
        c->p = p;
        c->fd = cfd;
        ims_timer_init(&c->idle);
        if (ims_loop_add_fd(loop, cfd, IMS_EV_READ, on_conn, c) != IMS_OK) {
            close(cfd);
            free(c);
            continue;
        }
        c->next = p->conns;
        if (p->conns)
            p->conns->prev = c;
        p->conns = c;
        p->nconns++;
        ims_timer_start(loop, &c->idle, IMS_HTTP_PROBE_IDLE_MS, on_idle, c);
    }
}

/* ---- the listener ---- */

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
    char host[64];
    const char *colon, *h = s;
    size_t n;
    char *e;
    long port;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

    if (*h == '[') {
        const char *rb = strchr(h, ']');

        if (!rb || rb[1] != ':')
            return IMS_ERROR;
        h++;
        n = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        if (!(colon = strrchr(h, ':')))
            return IMS_ERROR;
        n = (size_t)(colon - h);
    }
    if (n == 0 || n >= sizeof(host))
        return IMS_ERROR;
    memcpy(host, h, n);
    host[n] = '\0';
    errno = 0;
    port = strtol(colon + 1, &e, 10);
    if (colon[1] == '\0' || *e || errno || port < 0 || port > 65535)
        return IMS_ERROR;
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *sl = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sl = sizeof(*a6);
    } else {
        return IMS_ERROR;
    }
    return IMS_OK;
}

static int open_listener(ims_http_probe_t *p, const char *listen_on)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int one = 1;

    if (parse_listen(listen_on, &ss, &sl) != IMS_OK) {
        IMS_ERR("metrics: bad listen address \"%s\" (want IP:PORT or [IPv6]:PORT)", listen_on);
        return IMS_ERROR;
    }
    p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0 || setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(p->fd, (struct sockaddr *)&ss, sl) != 0 || listen(p->fd, 16) != 0 ||
        getsockname(p->fd, (struct sockaddr *)&ss, &sl) != 0) {
        IMS_ERR("metrics: cannot listen on %s: %s", listen_on, strerror(errno));
        return IMS_ERROR;
    }
    p->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return ims_loop_add_fd(p->loop, p->fd, IMS_EV_READ, on_accept, p);
}

ims_http_probe_t *ims_http_probe_new(ims_loop_t *loop, const char *listen_on,
                                     ims_metrics_t *metrics, ims_probe_ready_cb ready,
                                     void *arg)
{
    ims_http_probe_t *p = calloc(1, sizeof(*p));

    if (!p)
        abort();
    p->loop = loop;
    p->fd = -1;
    p->metrics = metrics;
    p->ready = ready;
    p->arg = arg;
    if (!listen_on || open_listener(p, listen_on) != IMS_OK) {
        if (p->fd >= 0)
            close(p->fd);
        free(p);
        return NULL;
    }
    IMS_NOTICE("metrics and probes on http://%s (/metrics /healthz /readyz)", listen_on);
    return p;
}

void ims_http_probe_free(ims_http_probe_t *p)
{
    if (!p)
        return;
    while (p->conns)
        conn_close(p->conns);
    ims_loop_del_fd(p->loop, p->fd);
    close(p->fd);
    free(p);
}

uint16_t ims_http_probe_port(const ims_http_probe_t *p)
{
    return p->port;
}

int ims_http_probe_from_conf(ims_loop_t *loop, ims_conf_t *conf, ims_metrics_t *metrics,
                             ims_probe_ready_cb ready, void *arg, ims_http_probe_t **out)
{
    const char *listen_on;
    int rc;

    *out = NULL;
    if (!conf)
        return IMS_OK;
    rc = ims_conf_str(conf, "metrics.listen", false, &listen_on);
    if (rc == IMS_ERROR) {
        IMS_ERR("%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (rc == IMS_DECLINED)
        return IMS_OK;   /* no metrics group: no server */
    if (!(*out = ims_http_probe_new(loop, listen_on, metrics, ready, arg))) {
        IMS_ERR("%s: metrics.listen: cannot serve on \"%s\"", ims_conf_path(conf), listen_on);
        return IMS_ERROR;
    }
    return IMS_OK;
}
