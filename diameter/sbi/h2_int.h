/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internals shared by the HTTP/2 client and server: nghttp2 on our loop.
 *
 * nghttp2 does no I/O of its own. We read what the socket has and feed it to
 * nghttp2_session_mem_recv; nghttp2_session_send calls sbi_h2_send_cb, which
 * writes straight to the non-blocking socket and says WOULDBLOCK when the
 * kernel buffer is full: nghttp2 then keeps the rest of the frame itself, so
 * we never buffer output, and we watch for EV_WRITE only while nghttp2 has
 * something to send. A connection object starts with its sbi_h2_io_t, which
 * is the nghttp2 session's user_data.
 *
 * With TLS (h2_tls.c) the same I/O goes through SSL_read/SSL_write once the
 * non-blocking handshake, driven by sbi_h2_tls_handshake from the fd events,
 * has agreed on ALPN "h2"; until then nghttp2 keeps its bytes (WOULDBLOCK).
 */
#ifndef SBI_H2_INT_H
#define SBI_H2_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "common/core/loop.h"
#include "diameter/sbi/h2_msg.h"

typedef struct sbi_h2_io {
    ims_loop_t *loop;
    int fd;
    nghttp2_session *ng;
    bool fd_on;                 /* fd registered on the loop */
    bool connecting;            /* client: non-blocking connect not yet confirmed */
    bool handshaking;           /* TLS handshake not finished */
    unsigned evmask;
    SSL *ssl;                   /* NULL: h2c */
} sbi_h2_io_t;

/* A body being sent: the data provider's source. */
typedef struct sbi_h2_body {
    char *data;                 /* malloc'd, owned */
    size_t len, off;
} sbi_h2_body_t;

/* Reset m to an empty message (frees a previous body). */
void sbi_h2_msg_init(sbi_h2_msg_t *m);
/* Release m's body. */
void sbi_h2_msg_clear(sbi_h2_msg_t *m);
/* Store one header (pseudo-headers :method, :path, :status fill their fields). */
void sbi_h2_msg_add_header(sbi_h2_msg_t *m, const uint8_t *name, size_t nlen,
                           const uint8_t *value, size_t vlen);
/* Append body bytes (bounded by SBI_H2_MAX_BODY). */
void sbi_h2_msg_add_body(sbi_h2_msg_t *m, const uint8_t *data, size_t len);

/* nghttp2 send callback: user_data is the connection, starting with sbi_h2_io_t. */
ssize_t sbi_h2_send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags,
                       void *user_data);
/* Copy the next bytes of b into buf (EOF flag at the end); the bytes copied. */
ssize_t sbi_h2_body_copy(sbi_h2_body_t *b, uint8_t *buf, size_t len, uint32_t *flags);
/* Data provider read callback over an sbi_h2_body_t in source->ptr. */
ssize_t sbi_h2_body_read(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *user_data);
/* Set up *prd and *b to send body (copied); false when body_len is 0 (no body). */
bool sbi_h2_body_set(sbi_h2_body_t *b, nghttp2_data_provider *prd, const char *body,
                     size_t body_len);

/* Read until EAGAIN and feed nghttp2. IMS_OK; IMS_DONE on EOF; IMS_ERROR on a
 * socket error or a protocol error nghttp2 cannot recover from. */
int sbi_h2_io_read(sbi_h2_io_t *io);
/* Let nghttp2 write what it can and watch EV_WRITE while it has more.
 * IMS_OK; IMS_DONE when the session wants neither to read nor to write (GOAWAY
 * exchanged); IMS_ERROR on a socket or session error. */
int sbi_h2_io_flush(sbi_h2_io_t *io);
/*
 * Submit GOAWAY (NO_ERROR, the last stream the peer opened that we took).
 * closing: the caller closes the connection right after, so it is written at
 * once as far as the socket takes it (never waiting), after reading and
 * dropping what the peer sent (bounded) so that the close is a FIN and not a
 * RST that could destroy the frame at the peer. Otherwise the next
 * sbi_h2_io_flush sends it. False (nothing submitted) when the connection is
 * not up (connecting, TLS handshake) or, closing, the peer has gone already.
 */
bool sbi_h2_io_goaway(sbi_h2_io_t *io, bool closing);
/* Watch io->fd for events (adds or modifies the registration). */
void sbi_h2_io_watch(sbi_h2_io_t *io, unsigned events, ims_fd_cb cb, void *arg);
/* Stop watching and close the socket, delete the session. Idempotent. */
void sbi_h2_io_close(sbi_h2_io_t *io);

/* ---- TLS (h2_tls.c) ---- */

/* A client context: TLS 1.2+, ALPN h2; ca_file NULL: the server is not
 * verified. NULL (logged) on failure. */
SSL_CTX *sbi_h2_tls_client_ctx(const char *ca_file);
/* A server context: TLS 1.2+, cert and key (PEM files), ALPN h2 required. */
SSL_CTX *sbi_h2_tls_server_ctx(const char *cert_file, const char *key_file);
/* Start TLS on io->fd (connected): client (host: the name or IP literal to
 * verify) or server. IMS_OK / IMS_ERROR. */
int sbi_h2_tls_start(sbi_h2_io_t *io, SSL_CTX *ctx, bool client, const char *host);
/* Drive the handshake: IMS_OK done (ALPN h2 agreed), IMS_AGAIN (io->evmask
 * set to what it waits for), IMS_ERROR. */
int sbi_h2_tls_handshake(sbi_h2_io_t *io);
/* SSL_write / SSL_read in nghttp2's and our terms. */
ssize_t sbi_h2_tls_send(sbi_h2_io_t *io, const uint8_t *data, size_t len);
/* Bytes read (> 0); 0 on EOF; -1 with errno EAGAIN when nothing more; -1 on error. */
ssize_t sbi_h2_tls_recv(sbi_h2_io_t *io, uint8_t *buf, size_t len);

/* "IP:PORT" or "[IPv6]:PORT" (numeric only) into *ss. IMS_OK / IMS_ERROR. */
int sbi_h2_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sl);
/* An nghttp2 name/value pair pointing at name and value (nghttp2 copies them). */
nghttp2_nv sbi_h2_nv(const char *name, const char *value);

#endif
