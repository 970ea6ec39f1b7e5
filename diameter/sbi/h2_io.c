/* SPDX-License-Identifier: BSD-2-Clause */
/* nghttp2 sessions on non-blocking sockets and our loop (h2_int.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/sbi/h2_int.h"

#define READ_CHUNK 16384
#define READ_ROUNDS 64      /* per readiness event, so one peer cannot hold the loop */

ssize_t sbi_h2_send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags,
                       void *user_data)
{
    sbi_h2_io_t *io = user_data;
    ssize_t n;

    (void)ng;
    (void)flags;
    if (io->connecting || io->handshaking)
        return NGHTTP2_ERR_WOULDBLOCK;   /* bytes wait in nghttp2 until connected */
    if (io->ssl)
        return sbi_h2_tls_send(io, data, len);
    do {
        n = send(io->fd, data, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return NGHTTP2_ERR_WOULDBLOCK;
    if (n < 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return n;
}

ssize_t sbi_h2_body_read(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *user_data)
{
    (void)ng;
    (void)stream_id;
    (void)user_data;
    return sbi_h2_body_copy(src->ptr, buf, len, flags);
}

ssize_t sbi_h2_body_copy(sbi_h2_body_t *b, uint8_t *buf, size_t len, uint32_t *flags)
{
    size_t n = b->len - b->off;

    if (n > len)
        n = len;
    memcpy(buf, b->data + b->off, n);
    b->off += n;
    if (b->off == b->len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

bool sbi_h2_body_set(sbi_h2_body_t *b, nghttp2_data_provider *prd, const char *body,
                     size_t body_len)
{
    free(b->data);
    b->data = NULL;
    b->len = b->off = 0;
    if (!body || !body_len)
        return false;
    b->data = malloc(body_len);
    if (!b->data)
        abort();
    memcpy(b->data, body, body_len);
    b->len = body_len;
    prd->source.ptr = b;
    prd->read_callback = sbi_h2_body_read;
    return true;
}

int sbi_h2_io_read(sbi_h2_io_t *io)
{
    uint8_t buf[READ_CHUNK];

    for (int round = 0; round < READ_ROUNDS; round++) {
        ssize_t n = io->ssl ? sbi_h2_tls_recv(io, buf, sizeof(buf))
                            : recv(io->fd, buf, sizeof(buf), 0), used;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return IMS_OK;
        if (n < 0)
            return IMS_ERROR;
        if (n == 0)
            return IMS_DONE;
        used = nghttp2_session_mem_recv(io->ng, buf, (size_t)n);
        if (used < 0) {
            IMS_INFO("sbi: HTTP/2 receive error: %s", nghttp2_strerror((int)used));
            return IMS_ERROR;
        }
    }
    return IMS_OK;
}

int sbi_h2_io_flush(sbi_h2_io_t *io)
{
    int rv;
    unsigned ev = 0;

    if (io->handshaking)
        return IMS_OK;   /* sbi_h2_tls_handshake watches what it needs */
    rv = io->connecting ? 0 : nghttp2_session_send(io->ng);
    if (rv != 0) {
        IMS_INFO("sbi: HTTP/2 send error: %s", nghttp2_strerror(rv));
        return IMS_ERROR;
    }
    if (!io->connecting && !nghttp2_session_want_read(io->ng) &&
        !nghttp2_session_want_write(io->ng))
        return IMS_DONE;
    if (io->connecting || nghttp2_session_want_write(io->ng))
        ev |= IMS_EV_WRITE;
    if (!io->connecting)
        ev |= IMS_EV_READ;
    if (io->fd_on && ev != io->evmask) {
        ims_loop_mod_fd(io->loop, io->fd, ev);
        io->evmask = ev;
    }
    return IMS_OK;
}

/* Read and drop what the peer sent (bounded); false on EOF or an error. */
static bool io_drain(sbi_h2_io_t *io)
{
    char buf[4096];

    for (int i = 0; i < 16; i++) {
        ssize_t r = recv(io->fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return false;
        if (r < 0)
            return true;
    }
    return true;
}

bool sbi_h2_io_goaway(sbi_h2_io_t *io, bool closing)
{
    nghttp2_session *ng = io->ng;

    if (!ng || io->fd < 0 || io->connecting || io->handshaking)
        return false;
    /* a peer that has gone already would answer with a RST (or SIGPIPE under TLS) */
    if (closing && !io_drain(io))
        return false;
    if (nghttp2_submit_goaway(ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(ng),
                              NGHTTP2_NO_ERROR, NULL, 0) != 0)
        return false;
    if (closing)
        nghttp2_session_send(ng);   /* WOULDBLOCK: the rest goes with the socket */
    return true;
}

void sbi_h2_io_watch(sbi_h2_io_t *io, unsigned events, ims_fd_cb cb, void *arg)
{
    if (io->fd_on) {
        ims_loop_mod_fd(io->loop, io->fd, events);
    } else if (ims_loop_add_fd(io->loop, io->fd, events, cb, arg) == IMS_OK) {
        io->fd_on = true;
    } else {
        IMS_ERR("sbi: cannot watch fd %d", io->fd);
        return;
    }
    io->evmask = events;
}

void sbi_h2_io_close(sbi_h2_io_t *io)
{
    if (io->fd_on)
        ims_loop_del_fd(io->loop, io->fd);
    io->fd_on = false;
    if (io->ssl) {
        if (!io->handshaking && !io->connecting)
            SSL_shutdown(io->ssl);   /* close_notify, best effort: we do not wait */
        SSL_free(io->ssl);
        io->ssl = NULL;
    }
    if (io->fd >= 0)
        close(io->fd);
    io->fd = -1;
    nghttp2_session_del(io->ng);
    io->ng = NULL;
}

int sbi_h2_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *colon, *hb = s, *he;
    char *end;
    unsigned long port;

    memset(ss, 0, sizeof(*ss));
    if (!s)
        return IMS_ERROR;
    if (*s == '[') {
        hb = s + 1;
        he = strchr(hb, ']');
        if (!he || he[1] != ':')
            return IMS_ERROR;
        colon = he + 1;
    } else {
        colon = strrchr(s, ':');
        he = colon;
    }
    if (!colon || he <= hb || (size_t)(he - hb) >= sizeof(host))
        return IMS_ERROR;
    memcpy(host, hb, (size_t)(he - hb));
    host[he - hb] = '\0';
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port > 65535)
        return IMS_ERROR;
    if (*s != '[') {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;

        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        *sl = sizeof(*a);
        return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? IMS_OK : IMS_ERROR;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        *sl = sizeof(*a);
        return inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? IMS_OK : IMS_ERROR;
    }
}

nghttp2_nv sbi_h2_nv(const char *name, const char *value)
{
    return (nghttp2_nv){ (uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value, strlen(name),
                         strlen(value), NGHTTP2_NV_FLAG_NONE };
}
