/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SIP over TLS (RFC 3261 §26.3.1, TS 33.203 annex M style access): the OpenSSL
 * half. transport_tcp.c keeps the socket, framing, queues, events and timers
 * of every stream connection; a TLS one carries a session from here, and its
 * bytes go through sip_tls_read/sip_tls_write instead of read/send.
 *
 * Choices, and why:
 * - TLS 1.2 is the floor (SSL_CTX_set_min_proto_version): a client offering
 *   only 1.0 or 1.1 gets a protocol_version alert, whatever the system's
 *   OpenSSL policy says.
 * - Renegotiation is refused (SSL_OP_NO_RENEGOTIATION): after the handshake a
 *   read then only ever waits to read and a write only to write, which keeps
 *   the event handling of transport_tcp.c plain. TLS 1.3 key updates are
 *   handled inside SSL_read; the rare write they need is reported as
 *   IMS_EV_WRITE like any other.
 * - Partial writes and a moving write buffer (SSL_MODE_ENABLE_PARTIAL_WRITE,
 *   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER): what SSL_write did not take goes to
 *   the connection's write queue, and the retry starts at the same byte from
 *   the queue, which OpenSSL then accepts.
 * - An end of stream without close_notify counts as a close, not an error
 *   (SSL_OP_IGNORE_UNEXPECTED_EOF): UEs vanish without saying goodbye.
 * - A client side with a CA verifies the server's certificate and that it
 *   names the IP address we connected to (we reach peers by address,
 *   sip.hosts). The server asks for no client certificate unless told to
 *   (client_cert): UEs have none. Between CSCFs it is asked for and checked
 *   against the same CA, and must name the address the connection comes from:
 *   a node connects from its listening address (transport_tcp.c), so a
 *   certificate stolen from one node does not let another address in.
 * - The OpenSSL error queue is per thread and sticky: it is cleared before
 *   every call so SSL_get_error reports this call's outcome.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/node.h"
#include "common/sip/transport_int.h"

#define TLS_DEF_HANDSHAKE_MS 10000

struct sip_tls {
    SSL_CTX *srv;    /* NULL without a certificate: no TLS listener */
    SSL_CTX *cli;
    bool verify;     /* a CA was given: servers are verified */
    sip_tls_client_cert_t client_cert;
    uint32_t handshake_ms;
};

static const char *const client_cert_names[] = { "none", "optional", "required" };

/* The oldest queued OpenSSL error as text (the queue is cleared), or dflt. */
static const char *ssl_reason(char *buf, size_t len, const char *dflt)
{
    unsigned long e = ERR_get_error();

    if (e == 0)
        return dflt;
    ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

static SSL_CTX *ctx_new(bool server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

    if (!ctx)
        return NULL;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_NO_COMPRESSION |
                                 (server ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

/* Certificate and key into ctx. IMS_OK or IMS_ERROR (logged). */
static int load_cert(SSL_CTX *ctx, const sip_tls_cfg_t *cfg)
{
    const char *key = cfg->key ? cfg->key : cfg->cert;
    char why[256];

    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
        IMS_ERR("sip: TLS certificate %s: %s", cfg->cert, ssl_reason(why, sizeof(why), "?"));
        return IMS_ERROR;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        IMS_ERR("sip: TLS key %s: %s", key, ssl_reason(why, sizeof(why), "?"));
        return IMS_ERROR;
    }
    return IMS_OK;
}

/* The server side asks clients for a certificate signed by ca. */
static int verify_clients(SSL_CTX *srv, const sip_tls_cfg_t *cfg)
{
    static const unsigned char sid_ctx[] = "ims-core-sip";
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca);
    char why[256];

    if (SSL_CTX_load_verify_locations(srv, cfg->ca, NULL) != 1 || !names) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        IMS_ERR("sip: TLS CA %s: %s", cfg->ca, ssl_reason(why, sizeof(why), "no certificate"));
        return IMS_ERROR;
    }
    SSL_CTX_set_client_CA_list(srv, names);  /* the hint of CertificateRequest */
    /* A resumed session must come from a context that verified its client. */
    SSL_CTX_set_session_id_context(srv, sid_ctx, sizeof(sid_ctx) - 1);
    SSL_CTX_set_verify(srv,
                       SSL_VERIFY_PEER | (cfg->client_cert == SIP_TLS_CLIENT_CERT_REQUIRED
                                              ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                              : 0),
                       NULL);
    return IMS_OK;
}

static int setup(sip_tls_t *t, const sip_tls_cfg_t *cfg)
{
    char why[256];

    if ((unsigned)cfg->client_cert > SIP_TLS_CLIENT_CERT_REQUIRED ||
        (cfg->client_cert != SIP_TLS_CLIENT_CERT_NONE && (!cfg->ca || !cfg->cert))) {
        IMS_ERR("sip: TLS client certificates need a CA and a certificate of our own");
        return IMS_ERROR;
    }
    t->cli = ctx_new(false);
    if (!t->cli)
        return IMS_ERROR;
    if (cfg->ca) {
        if (SSL_CTX_load_verify_locations(t->cli, cfg->ca, NULL) != 1) {
            IMS_ERR("sip: TLS CA %s: %s", cfg->ca, ssl_reason(why, sizeof(why), "?"));
            return IMS_ERROR;
        }
        SSL_CTX_set_verify(t->cli, SSL_VERIFY_PEER, NULL);
        t->verify = true;
    }
    if (!cfg->cert)
        return IMS_OK;
    /* Presented as a client certificate too, for peers that ask (CSCF to CSCF). */
    if (load_cert(t->cli, cfg) != IMS_OK)
        return IMS_ERROR;
    t->srv = ctx_new(true);
    if (!t->srv || load_cert(t->srv, cfg) != IMS_OK)
        return IMS_ERROR;
    t->client_cert = cfg->client_cert;
    return t->client_cert != SIP_TLS_CLIENT_CERT_NONE ? verify_clients(t->srv, cfg) : IMS_OK;
}

static void tls_free(sip_tls_t *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->srv);
    SSL_CTX_free(t->cli);
    free(t);
}

int sip_transport_tls(sip_transport_t *tp, const sip_tls_cfg_t *cfg)
{
    sip_tls_t *t;
    struct sigaction sa;

    if (!tp || !cfg)
        return IMS_ERROR;
    if (tp->tls)
        return IMS_DECLINED;
    t = calloc(1, sizeof(*t));
    if (!t)
        return IMS_ERROR;
    t->handshake_ms = cfg->handshake_ms ? cfg->handshake_ms : TLS_DEF_HANDSHAKE_MS;
    ERR_clear_error();
    if (setup(t, cfg) != IMS_OK) {
        tls_free(t);
        return IMS_ERROR;
    }
    /* SSL_write writes to the socket without MSG_NOSIGNAL: a peer gone must be an
     * EPIPE, never a signal that ends the process. */
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    tp->tls = t;
    IMS_NOTICE("sip: TLS on (%s, servers %sverified, client certificates: %s), TLS 1.2 minimum",
               cfg->cert ? cfg->cert : "no certificate: client only", t->verify ? "" : "not ",
               client_cert_names[t->client_cert]);
    return IMS_OK;
}

bool sip_tls_can_listen(const sip_transport_t *tp)
{
    return tp->tls && tp->tls->srv;
}

uint32_t sip_tls_handshake_ms(const sip_transport_t *tp)
{
    return tp->tls ? tp->tls->handshake_ms : TLS_DEF_HANDSHAKE_MS;
}

void sip_tls_fini(sip_transport_t *tp)
{
    tls_free(tp->tls);
    tp->tls = NULL;
}

/* The certificate of peer must name its address: the one a client dialled, the
 * one a server's client comes from. */
static int expect_ip(SSL *ssl, const sip_addr_t *peer)
{
    X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
    const unsigned char *ip;
    size_t n;

    if (peer->ss.ss_family == AF_INET) {
        ip = (const unsigned char *)&((const struct sockaddr_in *)&peer->ss)->sin_addr;
        n = 4;
    } else if (peer->ss.ss_family == AF_INET6) {
        ip = (const unsigned char *)&((const struct sockaddr_in6 *)&peer->ss)->sin6_addr;
        n = 16;
    } else {
        return IMS_ERROR;
    }
    return X509_VERIFY_PARAM_set1_ip(vp, ip, n) == 1 ? IMS_OK : IMS_ERROR;
}

struct ssl_st *sip_tls_session(sip_transport_t *tp, int fd, bool server, const sip_addr_t *peer)
{
    sip_tls_t *t = tp->tls;
    SSL *ssl;
    char why[256];

    if (!t || (server && !t->srv))
        return NULL;
    ERR_clear_error();
    ssl = SSL_new(server ? t->srv : t->cli);
    if (!ssl || SSL_set_fd(ssl, fd) != 1 ||
        ((server ? t->client_cert != SIP_TLS_CLIENT_CERT_NONE : t->verify) &&
         expect_ip(ssl, peer) != IMS_OK)) {
        IMS_WARN("sip: TLS session: %s", ssl_reason(why, sizeof(why), "out of memory"));
        SSL_free(ssl);
        return NULL;
    }
    if (server)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    return ssl;
}

void sip_tls_close(struct ssl_st *ssl)
{
    if (!ssl)
        return;
    /* One non-blocking try: close_notify goes out if the socket takes it; the
     * peer's answer is not waited for (RFC 5246 §7.2.1 allows that). */
    ERR_clear_error();
    if (SSL_is_init_finished(ssl))
        SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}

/*
 * The outcome of an SSL call that returned rc <= 0: -1 with errno EAGAIN and
 * *want, 0 for the end of the stream, or -1 with another errno (session broken:
 * no close_notify will be sent; why says what happened).
 */
static ssize_t io_result(SSL *ssl, int rc, unsigned *want, char *why, size_t wlen)
{
    int e = SSL_get_error(ssl, rc), sys = errno;

    switch (e) {
    case SSL_ERROR_WANT_READ:
        *want = IMS_EV_READ;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        *want = IMS_EV_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        snprintf(why, wlen, "%s", sys ? strerror(sys) : "connection closed");
        errno = sys ? sys : ECONNRESET;
        break;
    default:
        ssl_reason(why, wlen, "TLS protocol error");
        errno = EPROTO;
        break;
    }
    SSL_set_quiet_shutdown(ssl, 1);
    ERR_clear_error();
    return -1;
}

int sip_tls_handshake(sip_transport_t *tp, struct ssl_st *ssl, uint32_t id,
                      const sip_addr_t *peer, unsigned *want)
{
    char why[256], txt[64];
    int rc;

    ERR_clear_error();
    errno = 0;
    rc = SSL_do_handshake(ssl);
    if (rc == 1) {
        tp->st.tls_handshakes++;
        IMS_INFO("sip: TLS connection %u %s up: %s %s", id, sip_addr_str(peer, txt, sizeof(txt)),
                 SSL_get_version(ssl), SSL_get_cipher_name(ssl));
        return IMS_OK;
    }
    snprintf(why, sizeof(why), "closed by peer");
    if (io_result(ssl, rc, want, why, sizeof(why)) < 0 && errno == EAGAIN)
        return IMS_AGAIN;
    tp->st.tls_failed++;
    IMS_INFO("sip: TLS handshake %u with %s failed: %s", id,
             sip_addr_str(peer, txt, sizeof(txt)), why);
    return IMS_ERROR;
}

/* SSL_read or SSL_write as read() or send() (see transport_int.h). */
static ssize_t tls_io(SSL *ssl, bool wr, void *buf, size_t n, unsigned *want)
{
    int len = n > INT_MAX ? INT_MAX : (int)n, rc;
    char why[256];
    ssize_t r;

    ERR_clear_error();
    errno = 0;
    rc = wr ? SSL_write(ssl, buf, len) : SSL_read(ssl, buf, len);
    if (rc > 0)
        return rc;
    r = io_result(ssl, rc, want, why, sizeof(why));
    if (r == 0 && wr) {
        errno = EPIPE;  /* a close_notify while we write: the stream is over */
        r = -1;
    } else if (r < 0 && errno != EAGAIN) {
        IMS_DEBUG("sip: TLS %s: %s", wr ? "write" : "read", why);
    }
    return r;
}

ssize_t sip_tls_read(struct ssl_st *ssl, char *buf, size_t n, unsigned *want)
{
    return tls_io(ssl, false, buf, n, want);
}

ssize_t sip_tls_write(struct ssl_st *ssl, const char *buf, size_t n, unsigned *want)
{
    return tls_io(ssl, true, (void *)buf, n, want);
}

bool sip_tls_pending(const struct ssl_st *ssl)
{
    return SSL_pending(ssl) > 0;
}

/* ---- configuration ---- */

static int conf_strs(ims_conf_t *conf, sip_tls_cfg_t *c, const char **listen,
                     const char **client_cert)
{
    return ims_conf_str(conf, "sip.tls.listen", false, listen) == IMS_ERROR ||
                   ims_conf_str(conf, "sip.tls.cert", false, &c->cert) == IMS_ERROR ||
                   ims_conf_str(conf, "sip.tls.key", false, &c->key) == IMS_ERROR ||
                   ims_conf_str(conf, "sip.tls.ca", false, &c->ca) == IMS_ERROR ||
                   ims_conf_str(conf, "sip.tls.client_cert", false, client_cert) == IMS_ERROR
               ? IMS_ERROR
               : IMS_OK;
}

/* client_cert by name into c; IMS_ERROR for an unknown name or one without ca/cert. */
static int conf_client_cert(const char *name, sip_tls_cfg_t *c)
{
    for (size_t i = 0; name && i < IMS_ARRAY_LEN(client_cert_names); i++) {
        if (strcmp(name, client_cert_names[i]) == 0) {
            c->client_cert = (sip_tls_client_cert_t)i;
            return c->client_cert == SIP_TLS_CLIENT_CERT_NONE || (c->ca && c->cert) ? IMS_OK
                                                                                   : IMS_ERROR;
        }
    }
    return name ? IMS_ERROR : IMS_OK;
}

int sip_transport_tls_conf(sip_transport_t *tp, ims_conf_t *conf, char *err, size_t errlen)
{
    sip_tls_cfg_t c = { 0 };
    const char *listen = NULL, *client_cert = NULL;
    char spec[96], host[64];
    sip_proto_t proto;
    uint16_t port;
    long long ms = TLS_DEF_HANDSHAKE_MS;

    if (!tp || !conf || tp->tls)
        return IMS_DECLINED;
    if (conf_strs(conf, &c, &listen, &client_cert) != IMS_OK ||
        ims_conf_int(conf, "sip.tls.handshake_ms", false, 100, 600000, &ms) == IMS_ERROR) {
        snprintf(err, errlen, "%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (!listen && !c.cert && !c.ca)
        return IMS_DECLINED;
    if (conf_client_cert(client_cert, &c) != IMS_OK) {
        snprintf(err, errlen, "%s: sip.tls.client_cert: want \"none\", \"optional\" or "
                 "\"required\" (the last two with ca and cert)", ims_conf_path(conf));
        return IMS_ERROR;
    }
    c.handshake_ms = (uint32_t)ms;
    /* The endpoint syntax of sip.listen, with the protocol implied. */
    snprintf(spec, sizeof(spec), "tcp:%s", listen ? listen : "");
    if (listen && (!c.cert || sip_node_parse_endpoint(spec, &proto, host, sizeof(host),
                                                      &port) != IMS_OK)) {
        snprintf(err, errlen, "%s: sip.tls: %s", ims_conf_path(conf),
                 c.cert ? "listen: want IP:PORT or [IPv6]:PORT" : "listen needs cert");
        return IMS_ERROR;
    }
    if (sip_transport_tls(tp, &c) != IMS_OK ||
        (listen && sip_transport_listen(tp, SIP_PROTO_TLS, host, port) != IMS_OK)) {
        snprintf(err, errlen, "%s: sip.tls: cannot set up TLS (see the log)",
                 ims_conf_path(conf));
        return IMS_ERROR;
    }
    return IMS_OK;
}
