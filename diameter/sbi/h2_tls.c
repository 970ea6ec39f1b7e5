/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/2 over TLS for the SBI client and server (h2_int.h): TLS 1.2 or later
 * and ALPN "h2" (TS 33.501 §13.1 asks for TLS on the SBI; RFC 9113 §3.2 for
 * ALPN), non-blocking: the handshake runs from the fd events, and SSL_read /
 * SSL_write report WANT_READ / WANT_WRITE as "try again".
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/sbi/h2_int.h"

static const unsigned char ALPN_H2[] = { 2, 'h', '2' };

static void log_ssl(const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();

    ERR_error_string_n(e, buf, sizeof(buf));
    IMS_INFO("sbi: TLS %s: %s", what, e ? buf : "failed");
    ERR_clear_error();
}

SSL_CTX *sbi_h2_tls_client_ctx(const char *ca_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_set_alpn_protos(ctx, ALPN_H2, sizeof(ALPN_H2)) != 0 ||
        (ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)) {
        log_ssl(ca_file ? ca_file : "client context");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (ca_file)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    else
        IMS_WARN("sbi: TLS without a CA: servers are not verified");
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

/* The server accepts only clients that offer h2 (RFC 9113 §3.2, no HTTP/1.1 here). */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    if (nghttp2_select_next_protocol((unsigned char **)out, outlen, in, inlen) != 1)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *sbi_h2_tls_server_ctx(const char *cert_file, const char *key_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_ssl(cert_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

int sbi_h2_tls_start(sbi_h2_io_t *io, SSL_CTX *ctx, bool client, const char *host)
{
    io->ssl = SSL_new(ctx);
    if (!io->ssl || SSL_set_fd(io->ssl, io->fd) != 1) {
        log_ssl("start");
        return IMS_ERROR;
    }
    if (client) {
        X509_VERIFY_PARAM *param = SSL_get0_param(io->ssl);

        /* an IP literal is checked against the IP SANs, a name against the DNS ones */
        if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1 &&
            (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1 ||
             SSL_set_tlsext_host_name(io->ssl, host) != 1)) {
            log_ssl("peer name");
            return IMS_ERROR;
        }
        SSL_set_connect_state(io->ssl);
    } else {
        SSL_set_accept_state(io->ssl);
    }
    io->handshaking = true;
    return IMS_OK;
}

static void watch_only(sbi_h2_io_t *io, unsigned ev)
{
    if (io->fd_on && ev != io->evmask) {
        ims_loop_mod_fd(io->loop, io->fd, ev);
        io->evmask = ev;
    }
}

int sbi_h2_tls_handshake(sbi_h2_io_t *io)
{
    int rc = SSL_do_handshake(io->ssl), err;
    const unsigned char *alpn = NULL;
    unsigned alen = 0;

    if (rc != 1) {
        err = SSL_get_error(io->ssl, rc);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            watch_only(io, err == SSL_ERROR_WANT_READ ? IMS_EV_READ : IMS_EV_WRITE);
            return IMS_AGAIN;
        }
        log_ssl("handshake");
        return IMS_ERROR;
    }
    SSL_get0_alpn_selected(io->ssl, &alpn, &alen);
    if (alen != 2 || memcmp(alpn, "h2", 2) != 0) {
        IMS_INFO("sbi: TLS peer did not agree on ALPN h2");
        return IMS_ERROR;
    }
    io->handshaking = false;
    return IMS_OK;
}

ssize_t sbi_h2_tls_send(sbi_h2_io_t *io, const uint8_t *data, size_t len)
{
    int n, err;

    ERR_clear_error();
    n = SSL_write(io->ssl, data, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    err = SSL_get_error(io->ssl, n);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
        return NGHTTP2_ERR_WOULDBLOCK;
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

ssize_t sbi_h2_tls_recv(sbi_h2_io_t *io, uint8_t *buf, size_t len)
{
    int n, err;

    ERR_clear_error();
    n = SSL_read(io->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    err = SSL_get_error(io->ssl, n);
    if (err == SSL_ERROR_ZERO_RETURN)
        return 0;
    errno = (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) ? EAGAIN : EPROTO;
    return -1;
}
