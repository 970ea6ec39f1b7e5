/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SIP over TLS on real loopback sockets, two transports (and raw OpenSSL
 * clients) on one loop driven on the real clock with deadlines. The
 * certificates are made here, in a temporary directory: a self-signed one for
 * 127.0.0.1 that is also the client's CA, and an unrelated one.
 *   - messages of many sizes both ways over one connection, across the 16 KB
 *     TLS record size, and a burst queued during the handshake (partial writes);
 *   - a message split over three TLS records, two in one record;
 *   - TLS 1.0 and 1.1 clients refused by a protocol_version alert, 1.2 and 1.3
 *     accepted;
 *   - a handshake that stops halfway is dropped after handshake_ms;
 *   - plain SIP on the TLS port closes the connection, and the port still works;
 *   - a client with the wrong CA refuses the server; close_notify at shutdown;
 *   - the TLS connection gauge, and the connection found by the peer's address;
 *   - client certificates (CSCF to CSCF): required refuses a client without one,
 *     with an unknown one, or with a trusted one naming another address, and
 *     takes a good one; optional takes a client without one, not a bad one;
 *   - "tls:IP:PORT" endpoints; sip.tls read from a configuration file (absent,
 *     good, bad).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/core/clock.h"
#include "common/core/conf.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "common/sip/node.h"
#include "common/sip/transport.h"

#define RX_MAX  64
#define WAIT_MS 5000

typedef struct side {
    sip_transport_t *tp;
    sip_msg_t *rx[RX_MAX];
    size_t nrx;
} side_t;

typedef struct fx {
    ims_loop_t *loop;
    side_t srv, cli;
    sip_addr_t srv_addr;  /* the TLS listener */
} fx_t;

static char g_dir[64], g_cert[96], g_other[96], g_wrongip[96], g_bundle[96];

/* ---- certificates ---- */

/* A self-signed P-256 certificate (and key, same file) for IP address ip. */
static void make_cert(const char *path, const char *cn, const char *ip)
{
    char san[64];
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name;
    X509V3_CTX ctx;
    X509_EXTENSION *e;
    FILE *fp;

    assert_non_null(k);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    snprintf(san, sizeof(san), "IP:%s", ip);
    e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
    assert_non_null(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(PEM_write_X509(fp, x), 1);
    assert_int_equal(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(fp);
    X509_free(x);
    EVP_PKEY_free(k);
}

/* out = a then b (a CA bundle). 0, or -1. */
static int cat_files(const char *out, const char *a, const char *b)
{
    const char *in[] = { a, b };
    FILE *o = fopen(out, "w"), *f;
    char buf[4096];
    size_t n;

    for (size_t i = 0; o && i < 2; i++) {
        if (!(f = fopen(in[i], "r")))
            break;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
            fwrite(buf, 1, n, o);
        fclose(f);
    }
    return o && fclose(o) == 0 ? 0 : -1;
}

static int setup_certs(void **state)
{
    snprintf(g_dir, sizeof(g_dir), "/tmp/ims-tls-test.XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    snprintf(g_cert, sizeof(g_cert), "%s/server.pem", g_dir);
    snprintf(g_other, sizeof(g_other), "%s/other.pem", g_dir);
    snprintf(g_wrongip, sizeof(g_wrongip), "%s/wrongip.pem", g_dir);
    snprintf(g_bundle, sizeof(g_bundle), "%s/bundle.pem", g_dir);
    make_cert(g_cert, "ims-core test server", "127.0.0.1");
    make_cert(g_other, "someone else", "127.0.0.1");
    make_cert(g_wrongip, "a node elsewhere", "127.0.0.2");
    return cat_files(g_bundle, g_cert, g_wrongip);
}

static int teardown_certs(void **state)
{
    unlink(g_cert);
    unlink(g_other);
    unlink(g_wrongip);
    unlink(g_bundle);
    rmdir(g_dir);
    return 0;
}

/* ---- fixture ---- */

static void on_msg(void *arg, sip_msg_t *m)
{
    side_t *s = arg;

    if (s->nrx < RX_MAX)
        s->rx[s->nrx++] = m;
    else
        sip_msg_free(m);
}

/* A server (scfg) with a TLS listener on 127.0.0.1 and a client (ccfg). */
static fx_t *fx_new_cfg(const sip_tls_cfg_t *scfg, const sip_tls_cfg_t *ccfg)
{
    fx_t *f = calloc(1, sizeof(*f));

    ims_clock_drive(false, 0);
    f->loop = ims_loop_new();
    f->srv.tp = sip_transport_new(f->loop, NULL, on_msg, &f->srv);
    f->cli.tp = sip_transport_new(f->loop, NULL, on_msg, &f->cli);
    assert_non_null(f->srv.tp);
    assert_non_null(f->cli.tp);
    /* TLS off: no TLS listener, no TLS send */
    assert_int_equal(sip_transport_listen(f->srv.tp, SIP_PROTO_TLS, "127.0.0.1", 0), IMS_ERROR);
    assert_int_equal(sip_transport_tls(f->srv.tp, scfg), IMS_OK);
    assert_int_equal(sip_transport_tls(f->srv.tp, scfg), IMS_DECLINED);
    assert_int_equal(sip_transport_tls(f->cli.tp, ccfg), IMS_OK);
    /* a client without a certificate cannot listen */
    if (!ccfg->cert)
        assert_int_equal(sip_transport_listen(f->cli.tp, SIP_PROTO_TLS, "127.0.0.1", 0),
                         IMS_ERROR);
    assert_int_equal(sip_transport_listen(f->srv.tp, SIP_PROTO_TLS, "127.0.0.1", 0), IMS_OK);
    assert_int_equal(sip_transport_local(f->srv.tp, SIP_PROTO_TLS, AF_INET, &f->srv_addr),
                     IMS_OK);
    assert_true(sip_transport_listens(f->srv.tp, &f->srv_addr));
    return f;
}

/* The server presents g_cert; the client trusts ca (or verifies nothing when ca
 * is NULL). */
static fx_t *fx_new(uint32_t handshake_ms, const char *ca)
{
    sip_tls_cfg_t scfg = { .cert = g_cert, .handshake_ms = handshake_ms };
    sip_tls_cfg_t ccfg = { .ca = ca };

    return fx_new_cfg(&scfg, &ccfg);
}

static void side_clear(side_t *s)
{
    for (size_t i = 0; i < s->nrx; i++)
        sip_msg_free(s->rx[i]);
    s->nrx = 0;
}

static void fx_free(fx_t *f)
{
    side_clear(&f->srv);
    side_clear(&f->cli);
    sip_transport_free(f->srv.tp);
    sip_transport_free(f->cli.tp);
    ims_loop_free(f->loop);
    free(f);
}

static uint64_t now_ms(void)
{
    return ims_clock_real_us() / 1000;
}

static bool run_until_rx(fx_t *f, side_t *s, size_t n)
{
    uint64_t end = now_ms() + WAIT_MS;

    while (s->nrx < n && now_ms() < end)
        ims_loop_run_once(f->loop, 10);
    return s->nrx >= n;
}

/* Run the loop until tp's counter *v reaches want; false on timeout. */
static bool run_until_stat(fx_t *f, const uint64_t *v, uint64_t want)
{
    uint64_t end = now_ms() + WAIT_MS;

    while (*v != want && now_ms() < end)
        ims_loop_run_once(f->loop, 10);
    return *v == want;
}

/* A request with a body of blen bytes of a pattern that depends on seq. */
static char *mk_msg(int seq, size_t blen, bool response, size_t *len)
{
    size_t cap = blen + 1024;
    char *buf = malloc(cap);
    int n;

    if (response)
        n = snprintf(buf, cap, "SIP/2.0 200 OK\r\n");
    else
        n = snprintf(buf, cap, "MESSAGE sip:bob@ims.example SIP/2.0\r\n");
    n += snprintf(buf + n, cap - (size_t)n,
                  "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-%d\r\n"
                  "Max-Forwards: 70\r\n"
                  "From: <sip:alice@ims.example>;tag=a%d\r\n"
                  "To: <sip:bob@ims.example>\r\n"
                  "Call-ID: call-%d@test\r\n"
                  "CSeq: %d MESSAGE\r\n"
                  "Content-Type: text/plain\r\n"
                  "Content-Length: %zu\r\n\r\n",
                  seq, seq, seq, seq, blen);
    for (size_t i = 0; i < blen; i++)
        buf[n + (int)i] = (char)('a' + (i * 7 + (size_t)seq) % 26);
    *len = (size_t)n + blen;
    return buf;
}

/* m carries the CSeq and body that mk_msg made for seq and blen. */
static void check_msg(const sip_msg_t *m, int seq, size_t blen)
{
    osip_body_t *b = NULL;

    assert_int_equal(m->rcv.proto, SIP_PROTO_TLS);
    assert_int_not_equal(m->rcv.conn_id, 0);
    assert_int_equal(sip_msg_cseq_num(m), (uint32_t)seq);
    if (blen == 0)
        return;
    osip_message_get_body(m->m, 0, &b);
    assert_non_null(b);
    assert_int_equal(b->length, blen);
    for (size_t i = 0; i < blen; i++)
        if (b->body[i] != (char)('a' + (i * 7 + (size_t)seq) % 26))
            fail_msg("message %d: body byte %zu differs", seq, i);
}

static int send_msg(side_t *s, const sip_dest_t *d, int seq, size_t blen, bool response)
{
    size_t len;
    char *buf = mk_msg(seq, blen, response, &len);
    int rc = sip_transport_send(s->tp, d, buf, len);

    free(buf);
    return rc;
}

/* ---- raw OpenSSL clients ---- */

typedef struct raw {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
} raw_t;

static int tcp_client(const sip_addr_t *to)
{
    int fd = socket(to->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    /* the listener's backlog completes the connect without the loop */
    assert_int_equal(connect(fd, (const struct sockaddr *)&to->ss, to->len), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Step the loop while an SSL call wants the socket; the call's final result. */
static int raw_step(fx_t *f, raw_t *r, int rc, uint64_t end)
{
    int e = SSL_get_error(r->ssl, rc);

    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        return -1;
    if (now_ms() >= end)
        return -2;
    ims_loop_run_once(f->loop, 5);
    return 0;
}

/* Handshake with the server as a client of TLS versions [minv, maxv]: 1 when it
 * completed, else 0 (the OpenSSL error queue holds why). */
static int raw_connect(fx_t *f, raw_t *r, int minv, int maxv)
{
    uint64_t end = now_ms() + WAIT_MS;
    int rc;

    memset(r, 0, sizeof(*r));
    r->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(r->ctx, minv);
    SSL_CTX_set_max_proto_version(r->ctx, maxv);
    /* This system's policy would stop an old client before it says hello: lift
     * it, so that what refuses TLS 1.0 here is the server. */
    SSL_CTX_set_security_level(r->ctx, 0);
    SSL_CTX_set_cipher_list(r->ctx, "DEFAULT:@SECLEVEL=0");
    r->fd = tcp_client(&f->srv_addr);
    r->ssl = SSL_new(r->ctx);
    SSL_set_fd(r->ssl, r->fd);
    ERR_clear_error();
    while ((rc = SSL_connect(r->ssl)) != 1)
        if (raw_step(f, r, rc, end) < 0)
            return 0;
    return 1;
}

static void raw_free(raw_t *r)
{
    SSL_free(r->ssl);
    SSL_CTX_free(r->ctx);
    if (r->fd >= 0)
        close(r->fd);
}

/* One SSL_write (one or more records), completed while stepping the loop. */
static void raw_write(fx_t *f, raw_t *r, const char *buf, size_t len)
{
    uint64_t end = now_ms() + WAIT_MS;
    int rc;

    while ((rc = SSL_write(r->ssl, buf, (int)len)) <= 0)
        assert_int_equal(raw_step(f, r, rc, end), 0);
    assert_int_equal(rc, (int)len);
}

/* ---- tests ---- */

/* Sizes around the 16 KB TLS record, and beyond; each answered on the same
 * connection by its id. */
static void test_tls_sizes_both_ways(void **state)
{
    static const size_t sizes[] = { 0, 100, 15800, 16000, 16384, 16385, 17000, 33000, 60000 };
    const size_t n = sizeof(sizes) / sizeof(sizes[0]);
    fx_t *f = fx_new(0, g_cert);
    sip_dest_t d = { .proto = SIP_PROTO_TLS, .addr = f->srv_addr };
    const sip_transport_stats_t *cs = sip_transport_stats(f->cli.tp);
    const sip_transport_stats_t *ss = sip_transport_stats(f->srv.tp);

    for (size_t i = 0; i < n; i++)
        assert_int_equal(send_msg(&f->cli, &d, (int)i + 1, sizes[i], false), IMS_OK);
    assert_true(run_until_rx(f, &f->srv, n));
    for (size_t i = 0; i < n; i++) {
        sip_dest_t back = { .proto = SIP_PROTO_TLS, .addr = f->srv.rx[i]->rcv.remote,
                            .conn_id = f->srv.rx[i]->rcv.conn_id };

        check_msg(f->srv.rx[i], (int)i + 1, sizes[i]);
        assert_int_equal(send_msg(&f->srv, &back, (int)i + 1, sizes[i], true), IMS_OK);
    }
    assert_true(run_until_rx(f, &f->cli, n));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sip_msg_status(f->cli.rx[i]), 200);
        check_msg(f->cli.rx[i], (int)i + 1, sizes[i]);
    }
    /* one connection, one handshake on each side, verified against the CA */
    assert_int_equal(cs->conns_open, 1);
    assert_int_equal(ss->conns_open, 1);
    assert_int_equal(cs->tls_handshakes, 1);
    assert_int_equal(ss->tls_handshakes, 1);
    assert_int_equal(cs->tls_failed + ss->tls_failed, 0);
    fx_free(f);
}

/* 40 messages of 50 KB sent before the handshake: all queued, then written in
 * as many partial writes as the socket takes. */
static void test_tls_burst_queued(void **state)
{
    fx_t *f = fx_new(0, NULL);
    sip_dest_t d = { .proto = SIP_PROTO_TLS, .addr = f->srv_addr };
    int i;

    for (i = 0; i < 40; i++)
        assert_int_equal(send_msg(&f->cli, &d, i + 1, 50000, false), IMS_OK);
    assert_true(run_until_rx(f, &f->srv, 40));
    for (i = 0; i < 40; i++)
        check_msg(f->srv.rx[i], i + 1, 50000);
    assert_int_equal(sip_transport_stats(f->cli.tp)->conns_open, 1);
    fx_free(f);
}

/* One message over three records (cut in the header, in the blank line and in
 * the body), then two messages in one record. */
static void test_tls_split_records(void **state)
{
    fx_t *f = fx_new(0, NULL);
    size_t la, lb, lc;
    char *a = mk_msg(1, 3000, false, &la), *b = mk_msg(2, 10, false, &lb);
    char *c = mk_msg(3, 0, false, &lc), *two = malloc(lb + lc);
    size_t cut1 = 40, cut2 = (size_t)(strstr(a, "\r\n\r\n") - a) + 2;
    raw_t r;

    assert_int_equal(raw_connect(f, &r, TLS1_2_VERSION, TLS1_3_VERSION), 1);
    raw_write(f, &r, a, cut1);
    raw_write(f, &r, a + cut1, cut2 - cut1);
    ims_loop_run_once(f->loop, 20);
    assert_int_equal(f->srv.nrx, 0);
    raw_write(f, &r, a + cut2, la - cut2);
    assert_true(run_until_rx(f, &f->srv, 1));
    check_msg(f->srv.rx[0], 1, 3000);
    memcpy(two, b, lb);
    memcpy(two + lb, c, lc);
    raw_write(f, &r, two, lb + lc);
    assert_true(run_until_rx(f, &f->srv, 3));
    check_msg(f->srv.rx[1], 2, 10);
    check_msg(f->srv.rx[2], 3, 0);
    free(a);
    free(b);
    free(c);
    free(two);
    raw_free(&r);
    fx_free(f);
}

/* TLS 1.0 and 1.1 clients get a protocol_version alert; 1.2 and 1.3 connect. */
static void test_tls_old_versions_refused(void **state)
{
    static const int versions[] = { TLS1_VERSION, TLS1_1_VERSION };
    fx_t *f = fx_new(0, NULL);
    const sip_transport_stats_t *ss = sip_transport_stats(f->srv.tp);
    raw_t r;

    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(raw_connect(f, &r, versions[i], versions[i]), 0);
        assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()),
                         SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
        ERR_clear_error();
        raw_free(&r);
        assert_true(run_until_stat(f, &ss->tls_failed, i + 1));
    }
    assert_true(run_until_stat(f, &ss->conns_open, 0));
    assert_int_equal(raw_connect(f, &r, TLS1_2_VERSION, TLS1_2_VERSION), 1);
    assert_string_equal(SSL_get_version(r.ssl), "TLSv1.2");
    raw_free(&r);
    assert_int_equal(raw_connect(f, &r, TLS1_3_VERSION, TLS1_3_VERSION), 1);
    assert_string_equal(SSL_get_version(r.ssl), "TLSv1.3");
    raw_free(&r);
    assert_true(run_until_stat(f, &ss->tls_handshakes, 2));
    fx_free(f);
}

/* A TLS record header and then nothing: dropped after handshake_ms, not before. */
static void test_tls_stalled_handshake_times_out(void **state)
{
    fx_t *f = fx_new(300, NULL);
    const sip_transport_stats_t *ss = sip_transport_stats(f->srv.tp);
    int fd = tcp_client(&f->srv_addr);
    uint64_t t0 = now_ms(), end = t0 + WAIT_MS;
    char buf[16];
    ssize_t n = -1;

    assert_int_equal(send(fd, "\x16\x03\x01\x02\x00", 5, MSG_NOSIGNAL), 5);
    while (now_ms() < end) {
        ims_loop_run_once(f->loop, 10);
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN))
            break;
    }
    assert_true(n == 0 || (n < 0 && errno != EAGAIN));
    assert_true(now_ms() - t0 >= 250);
    assert_int_equal(ss->tls_failed, 1);
    assert_int_equal(ss->conns_open, 0);
    close(fd);
    fx_free(f);
}

/* Plain SIP on the TLS port: the handshake fails, the connection closes, the
 * port still serves TLS. */
static void test_tls_garbage_closes(void **state)
{
    static const char junk[] = "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    fx_t *f = fx_new(0, NULL);
    const sip_transport_stats_t *ss = sip_transport_stats(f->srv.tp);
    sip_dest_t d = { .proto = SIP_PROTO_TLS, .addr = f->srv_addr };
    int fd = tcp_client(&f->srv_addr);

    assert_int_equal(send(fd, junk, sizeof(junk) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(junk) - 1);
    assert_true(run_until_stat(f, &ss->tls_failed, 1));
    assert_true(run_until_stat(f, &ss->conns_open, 0));
    assert_int_equal(f->srv.nrx, 0);
    close(fd);
    assert_int_equal(send_msg(&f->cli, &d, 7, 10, false), IMS_OK);
    assert_true(run_until_rx(f, &f->srv, 1));
    check_msg(f->srv.rx[0], 7, 10);
    fx_free(f);
}

/* A client whose CA did not sign the server's certificate never sends. */
static void test_tls_wrong_ca_refused(void **state)
{
    fx_t *f = fx_new(0, g_other);
    const sip_transport_stats_t *cs = sip_transport_stats(f->cli.tp);
    sip_dest_t d = { .proto = SIP_PROTO_TLS, .addr = f->srv_addr };

    assert_int_equal(send_msg(&f->cli, &d, 1, 10, false), IMS_OK);
    assert_true(run_until_stat(f, &cs->tls_failed, 1));
    assert_true(run_until_stat(f, &cs->conns_open, 0));
    ims_loop_run_once(f->loop, 20);
    assert_int_equal(f->srv.nrx, 0);
    assert_int_equal(cs->tls_handshakes, 0);
    fx_free(f);
}

/* The transport going away sends close_notify: the peer sees a clean end. */
static void test_tls_close_notify(void **state)
{
    fx_t *f = fx_new(0, NULL);
    uint64_t end = now_ms() + WAIT_MS;
    char buf[64];
    raw_t r;
    int rc;

    assert_int_equal(raw_connect(f, &r, TLS1_2_VERSION, TLS1_3_VERSION), 1);
    assert_true(run_until_stat(f, &sip_transport_stats(f->srv.tp)->tls_handshakes, 1));
    sip_transport_free(f->srv.tp);
    f->srv.tp = sip_transport_new(f->loop, NULL, on_msg, &f->srv);
    while ((rc = SSL_read(r.ssl, buf, sizeof(buf))) <= 0 &&
           SSL_get_error(r.ssl, rc) == SSL_ERROR_WANT_READ && now_ms() < end)
        usleep(1000);
    assert_int_equal(rc, 0);
    assert_int_equal(SSL_get_error(r.ssl, rc), SSL_ERROR_ZERO_RETURN);
    raw_free(&r);
    fx_free(f);
}

/* The TLS gauge on both sides while a connection is up; each side finds it by
 * the other's address (as TLS, or as either protocol; not as TCP); the server's
 * gauge falls back to 0 when the client goes. */
static void test_tls_gauge_and_find(void **state)
{
    fx_t *f = fx_new(0, g_cert);
    const sip_transport_stats_t *ss = sip_transport_stats(f->srv.tp);
    sip_dest_t d = { .proto = SIP_PROTO_TLS, .addr = f->srv_addr };
    sip_proto_t p = SIP_PROTO_UDP;
    sip_addr_t from, nobody;

    assert_int_equal(sip_transport_conn_find(f->cli.tp, &f->srv_addr, &p), 0);
    assert_int_equal(send_msg(&f->cli, &d, 1, 10, false), IMS_OK);
    assert_int_equal(sip_transport_stats(f->cli.tp)->tls_conns_open, 1);  /* from the connect */
    assert_true(run_until_rx(f, &f->srv, 1));
    assert_int_equal(ss->tls_conns_open, 1);
    from = f->srv.rx[0]->rcv.remote;
    assert_int_equal(sip_transport_conn_find(f->srv.tp, &from, &p), f->srv.rx[0]->rcv.conn_id);
    assert_int_equal(p, SIP_PROTO_TLS);
    p = SIP_PROTO_TCP;
    assert_int_equal(sip_transport_conn_find(f->srv.tp, &from, &p), 0);
    p = SIP_PROTO_TLS;
    assert_int_not_equal(sip_transport_conn_find(f->cli.tp, &f->srv_addr, &p), 0);
    assert_int_equal(sip_addr_from(&nobody, "127.0.0.1", 9), IMS_OK);
    p = SIP_PROTO_UDP;
    assert_int_equal(sip_transport_conn_find(f->cli.tp, &nobody, &p), 0);
    sip_transport_free(f->cli.tp);
    f->cli.tp = sip_transport_new(f->loop, NULL, on_msg, &f->cli);
    assert_true(run_until_stat(f, &ss->tls_conns_open, 0));
    assert_int_equal(ss->conns_open, 0);
    p = SIP_PROTO_UDP;
    assert_int_equal(sip_transport_conn_find(f->srv.tp, &from, &p), 0);
    fx_free(f);
}

/* A client presenting cert (NULL: none) sends one message to a server that asks
 * for client certificates (client_cert, trusting ca): whether it got through.
 * A refusal is the server's (its failed count). */
static bool client_cert_accepted(sip_tls_client_cert_t mode, const char *ca, const char *cert)
{
    sip_tls_cfg_t scfg = { .cert = g_cert, .ca = ca, .client_cert = mode };
    sip_tls_cfg_t ccfg = { .cert = cert, .ca = g_cert };
    fx_t *f = fx_new_cfg(&scfg, &ccfg);
    const sip_transport_stats_t *ss = sip_transport_stats(f->srv.tp);
    sip_dest_t d = { .proto = SIP_PROTO_TLS, .addr = f->srv_addr };
    uint64_t end = now_ms() + WAIT_MS;
    bool ok;

    assert_int_equal(send_msg(&f->cli, &d, 1, 10, false), IMS_OK);
    while (f->srv.nrx == 0 && ss->tls_failed == 0 && now_ms() < end)
        ims_loop_run_once(f->loop, 10);
    ims_loop_run_once(f->loop, 20);  /* nothing more comes either way */
    ok = f->srv.nrx == 1;
    if (ok) {
        check_msg(f->srv.rx[0], 1, 10);
        assert_int_equal(ss->tls_handshakes, 1);
    } else {
        assert_int_equal(ss->tls_failed, 1);
        assert_int_equal(ss->tls_handshakes, 0);
        assert_true(run_until_stat(f, &ss->tls_conns_open, 0));
    }
    fx_free(f);
    return ok;
}

/* client_cert "required", the server trusting g_cert and g_wrongip: no
 * certificate, an unknown one, and a trusted one naming 127.0.0.2 for a client
 * on 127.0.0.1 are refused; g_cert (127.0.0.1) is taken. */
static void test_tls_client_cert_required(void **state)
{
    const sip_tls_client_cert_t req = SIP_TLS_CLIENT_CERT_REQUIRED;

    assert_false(client_cert_accepted(req, g_bundle, NULL));
    assert_false(client_cert_accepted(req, g_bundle, g_other));
    assert_false(client_cert_accepted(req, g_bundle, g_wrongip));
    assert_true(client_cert_accepted(req, g_bundle, g_cert));
}

/* client_cert "optional" (a P-CSCF port serving UEs and CSCFs): a client
 * without a certificate is taken, one with an unknown certificate is not. */
static void test_tls_client_cert_optional(void **state)
{
    const sip_tls_client_cert_t opt = SIP_TLS_CLIENT_CERT_OPTIONAL;

    assert_true(client_cert_accepted(opt, g_cert, NULL));
    assert_false(client_cert_accepted(opt, g_cert, g_other));
    assert_true(client_cert_accepted(opt, g_cert, g_cert));
}

/* "tls:IP:PORT" names a TLS endpoint (sip.listen, -l, proxy.outbound, next_hop). */
static void test_tls_endpoint(void **state)
{
    sip_proto_t p = SIP_PROTO_UDP;
    char host[64];
    uint16_t port = 0;

    assert_int_equal(sip_node_parse_endpoint("tls:127.0.0.1:5061", &p, host, sizeof(host), &port),
                     IMS_OK);
    assert_int_equal(p, SIP_PROTO_TLS);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 5061);
    assert_int_equal(sip_node_parse_endpoint("TLS:[::1]:5062", &p, host, sizeof(host), &port),
                     IMS_OK);
    assert_int_equal(p, SIP_PROTO_TLS);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 5062);
    assert_int_equal(sip_node_parse_endpoint("sctp:127.0.0.1:5060", &p, host, sizeof(host),
                                             &port),
                     IMS_ERROR);
}

/* conf PATH TEXT: write a configuration file and load it. */
static ims_conf_t *conf_of(const char *path, const char *text)
{
    char err[256];
    FILE *fp = fopen(path, "w");
    ims_conf_t *c;

    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    c = ims_conf_load(path, err, sizeof(err));
    assert_non_null(c);
    return c;
}

/* sip.tls from a configuration file: absent, good, and five bad ones. */
static void test_tls_conf(void **state)
{
    char path[128], bad[5][512], text[512], err[256];
    ims_loop_t *loop = ims_loop_new();
    side_t s = { 0 };
    sip_addr_t a;
    ims_conf_t *c;

    snprintf(path, sizeof(path), "%s/t.cfg", g_dir);
    /* no cert; no port; a cert file that is not there */
    snprintf(bad[0], sizeof(bad[0]), "sip = { tls = { listen = \"127.0.0.1:0\"; }; };");
    snprintf(bad[1], sizeof(bad[1]), "sip = { tls = { listen = \"localhost\"; cert = \"%s\"; }; };",
             g_cert);
    snprintf(bad[2], sizeof(bad[2]),
             "sip = { tls = { listen = \"127.0.0.1:0\"; cert = \"%s.none\"; }; };", g_cert);
    /* client certificates without a CA to check them; a mode that does not exist */
    snprintf(bad[3], sizeof(bad[3]),
             "sip = { tls = { cert = \"%s\"; client_cert = \"required\"; }; };", g_cert);
    snprintf(bad[4], sizeof(bad[4]),
             "sip = { tls = { cert = \"%s\"; ca = \"%s\"; client_cert = \"sometimes\"; }; };",
             g_cert, g_cert);
    s.tp = sip_transport_new(loop, NULL, on_msg, &s);
    c = conf_of(path, "sip = { listen = ( \"udp:127.0.0.1:0\" ); };");
    assert_int_equal(sip_transport_tls_conf(s.tp, c, err, sizeof(err)), IMS_DECLINED);
    ims_conf_free(c);
    for (size_t i = 0; i < IMS_ARRAY_LEN(bad); i++) {
        c = conf_of(path, bad[i]);
        err[0] = '\0';
        assert_int_equal(sip_transport_tls_conf(s.tp, c, err, sizeof(err)), IMS_ERROR);
        assert_non_null(strstr(err, "sip.tls"));
        ims_conf_free(c);
        sip_transport_free(s.tp);
        s.tp = sip_transport_new(loop, NULL, on_msg, &s);
    }
    snprintf(text, sizeof(text),
             "sip = { tls = { listen = \"127.0.0.1:0\"; cert = \"%s\"; ca = \"%s\";"
             " client_cert = \"optional\"; handshake_ms = 500; }; };", g_cert, g_cert);
    c = conf_of(path, text);
    assert_int_equal(sip_transport_tls_conf(s.tp, c, err, sizeof(err)), IMS_OK);
    assert_int_equal(sip_transport_local(s.tp, SIP_PROTO_TLS, AF_INET, &a), IMS_OK);
    /* once on, a second call changes nothing */
    assert_int_equal(sip_transport_tls_conf(s.tp, c, err, sizeof(err)), IMS_DECLINED);
    ims_conf_free(c);
    unlink(path);
    sip_transport_free(s.tp);
    ims_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_sizes_both_ways),
        cmocka_unit_test(test_tls_burst_queued),
        cmocka_unit_test(test_tls_split_records),
        cmocka_unit_test(test_tls_old_versions_refused),
        cmocka_unit_test(test_tls_stalled_handshake_times_out),
        cmocka_unit_test(test_tls_garbage_closes),
        cmocka_unit_test(test_tls_wrong_ca_refused),
        cmocka_unit_test(test_tls_close_notify),
        cmocka_unit_test(test_tls_gauge_and_find),
        cmocka_unit_test(test_tls_client_cert_required),
        cmocka_unit_test(test_tls_client_cert_optional),
        cmocka_unit_test(test_tls_endpoint),
        cmocka_unit_test(test_tls_conf),
    };

    return cmocka_run_group_tests(tests, setup_certs, teardown_certs);
}
