/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SBI HTTP/2 client and server (diameter/sbi) against each other over
 * loopback TCP on one loop and the real clock: many concurrent streams on one
 * reused connection with headers and bodies checked both ways; 404/405
 * from the server; a response body over the client's bound; a stream the
 * server resets; a server that drops the connection mid-stream, then the
 * reconnect on the next request; a request
 * the server never answers (timeout, bounded in time); a refused connect
 * (reported from the loop, not from inside the request call); cancel;
 * SBI_H2_ERR_SHUTDOWN for what is pending when the client is freed; and bytes
 * that are not HTTP/2 sent to the server, which drops that connection only;
 * https with ALPN h2 (a certificate made here), refused with a CA that did
 * not sign it, and TLS / h2c mismatches either way.
 * Operations (h2_stats.h): a 201, a 400 and a timeout each counted under its
 * operation (derived from the path, or named by the caller) and class, what
 * the observer is told, the server's count by method and class, operation
 * names from paths; the process's connection listing (state, streams in
 * flight, requests sent); GOAWAY: on the client's free (a raw socket as the
 * server reads the frames), on the server's free (the client counts it and
 * drops the connection), and the client's explicit goaway (the server sees it,
 * the connection closes, the next request opens a new one).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/sbi/h2_client.h"
#include "diameter/sbi/h2_server.h"
#include "diameter/sbi/h2_stats.h"

#define NSTREAMS 200

typedef struct result {
    int calls;
    sbi_h2_err_t err;
    int status;
    char location[128];
    char ctype[64];
    char body[256];
} result_t;

typedef struct fx {
    ims_loop_t *loop;
    sbi_h2_server_t *srv;
    sbi_h2_client_t *cl;
    char auth[32];
    int served;
} fx_t;

static void on_resp(void *arg, sbi_h2_err_t err, const sbi_h2_msg_t *m)
{
    result_t *r = arg;
    const char *v;

    r->calls++;
    r->err = err;
    if (!m)
        return;
    r->status = m->status;
    v = sbi_h2_msg_header(m, "location");
    snprintf(r->location, sizeof(r->location), "%s", v ? v : "");
    v = sbi_h2_msg_header(m, "content-type");
    snprintf(r->ctype, sizeof(r->ctype), "%s", v ? v : "");
    snprintf(r->body, sizeof(r->body), "%s", m->body);
}

/* POST /echo/...: 201, Location /echo/<n>, the body back with the x-tag header in front. */
static void route_echo(void *arg, const sbi_h2_msg_t *req, sbi_h2_answer_t *ans)
{
    fx_t *f = arg;
    const char *tag = sbi_h2_msg_header(req, "x-tag");
    char loc[64], *body;

    f->served++;
    snprintf(loc, sizeof(loc), "http://%s/echo/%d", f->auth, f->served);
    if (asprintf(&body, "%s:%s:%s", tag ? tag : "-", req->path, req->body) < 0)
        abort();
    ans->status = 201;
    ans->content_type = "application/json";
    assert_int_equal(sbi_h2_answer_header(ans, "location", loc), IMS_OK);
    ans->body = body;
    ans->body_len = strlen(body);
}

static void route_act(void *arg, const sbi_h2_msg_t *req, sbi_h2_answer_t *ans)
{
    fx_t *f = arg;

    f->served++;
    if (strstr(req->path, "/drop"))
        ans->action = SBI_H2_DROP;
    else if (strstr(req->path, "/reset"))
        ans->action = SBI_H2_RESET;
    else if (strstr(req->path, "/ignore"))
        ans->action = SBI_H2_IGNORE;
    else if (strstr(req->path, "/scheme"))
        sbi_h2_answer_json(ans, 200, sbi_h2_msg_header(req, ":scheme"));
    else if (strstr(req->path, "/huge")) {
        ans->status = 200;
        ans->content_type = "text/plain";
        ans->body_len = SBI_H2_MAX_BODY + 100;
        ans->body = malloc(ans->body_len);
        memset(ans->body, 'y', ans->body_len);
    } else {
        ans->status = 204;
    }
}

static int setup(void **state)
{
    static fx_t f;

    memset(&f, 0, sizeof(f));
    ims_log_init("test_h2", IMS_LOG_WARN, stderr);
    f.loop = ims_loop_new();
    f.srv = sbi_h2_server_new(f.loop, "127.0.0.1:0");
    assert_non_null(f.srv);
    snprintf(f.auth, sizeof(f.auth), "127.0.0.1:%u", sbi_h2_server_port(f.srv));
    assert_int_equal(sbi_h2_server_route(f.srv, "POST", "/echo", route_echo, &f), IMS_OK);
    assert_int_equal(sbi_h2_server_route(f.srv, NULL, "/act/", route_act, &f), IMS_OK);
    f.cl = sbi_h2_client_new(f.loop, NULL);
    assert_non_null(f.cl);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;

    sbi_h2_client_free(f->cl);
    sbi_h2_server_free(f->srv);
    assert_int_equal(ims_loop_timer_count(f->loop), 0);
    ims_loop_free(f->loop);
    return 0;
}

/* Run the loop until *calls reaches want or ms pass; true when reached. */
static bool run_until(fx_t *f, const int *calls, int want, uint64_t ms)
{
    uint64_t end = ims_clock_now_ms() + ms;

    while (*calls < want && ims_clock_now_ms() < end)
        ims_loop_run_once(f->loop, 20);
    return *calls >= want;
}

static uint64_t send_req(fx_t *f, const char *method, const char *path, const char *body,
                         uint32_t timeout_ms, result_t *r)
{
    sbi_h2_hdr_t tag = { "x-tag", "t1" };
    sbi_h2_request_t q = {
        .method = method, .authority = f->auth, .path = path,
        .content_type = body ? "application/json" : NULL, .body = body,
        .body_len = body ? strlen(body) : 0, .hdrs = &tag, .nhdrs = 1, .timeout_ms = timeout_ms,
    };

    return sbi_h2_client_request(f->cl, &q, on_resp, r);
}

static void test_many_streams(void **state)
{
    fx_t *f = *state;
    static result_t r[NSTREAMS];
    char body[64], path[64], want[160];
    int done = 0;

    memset(r, 0, sizeof(r));
    for (int i = 0; i < NSTREAMS; i++) {
        snprintf(body, sizeof(body), "{\"n\":%d}", i);
        snprintf(path, sizeof(path), "/echo/%d?x=1", i);
        assert_true(send_req(f, "POST", path, body, 5000, &r[i]) > 0);
        assert_int_equal(r[i].calls, 0);   /* never from inside the request call */
    }
    assert_int_equal(sbi_h2_client_pending(f->cl), NSTREAMS);
    for (uint64_t end = ims_clock_now_ms() + 10000; done < NSTREAMS && ims_clock_now_ms() < end;) {
        ims_loop_run_once(f->loop, 20);
        done = 0;
        for (int i = 0; i < NSTREAMS; i++)
            done += r[i].calls;
    }
    assert_int_equal(done, NSTREAMS);
    for (int i = 0; i < NSTREAMS; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].err, SBI_H2_OK);
        assert_int_equal(r[i].status, 201);
        assert_string_equal(r[i].ctype, "application/json");
        assert_non_null(strstr(r[i].location, "/echo/"));
        snprintf(want, sizeof(want), "t1:/echo/%d?x=1:{\"n\":%d}", i, i);
        assert_string_equal(r[i].body, want);
    }
    assert_int_equal(f->served, NSTREAMS);
    assert_int_equal(sbi_h2_client_pending(f->cl), 0);
    assert_int_equal(sbi_h2_client_conns(f->cl), 1);   /* one connection, reused */
    assert_int_equal(sbi_h2_server_conns(f->srv), 1);
}

static void test_server_errors(void **state)
{
    fx_t *f = *state;
    result_t nf = { 0 }, na = { 0 }, big = { 0 }, rst = { 0 }, ok = { 0 }, huge_ans = { 0 };
    char *huge = malloc(SBI_H2_MAX_BODY + 2);

    memset(huge, 'x', SBI_H2_MAX_BODY + 1);
    huge[SBI_H2_MAX_BODY + 1] = '\0';
    assert_true(send_req(f, "GET", "/nothing", NULL, 3000, &nf) > 0);
    assert_true(send_req(f, "GET", "/echo", NULL, 3000, &na) > 0);
    /* over the client's own bound: refused at once */
    assert_int_equal(send_req(f, "POST", "/echo", huge, 3000, &big), 0);
    huge[SBI_H2_MAX_BODY - 10] = '\0';
    assert_true(send_req(f, "POST", "/echo", huge, 3000, &big) > 0);
    assert_true(send_req(f, "POST", "/act/reset", "{}", 3000, &rst) > 0);
    assert_true(send_req(f, "DELETE", "/act/x", NULL, 3000, &ok) > 0);
    assert_true(send_req(f, "GET", "/act/huge", NULL, 3000, &huge_ans) > 0);
    assert_true(run_until(f, &huge_ans.calls, 1, 5000));
    assert_int_equal(huge_ans.err, SBI_H2_ERR_PROTOCOL);   /* over the client's bound */
    assert_true(run_until(f, &ok.calls, 1, 5000));
    assert_true(run_until(f, &rst.calls, 1, 5000));
    assert_true(run_until(f, &big.calls, 1, 5000));
    assert_true(run_until(f, &na.calls, 1, 5000));
    assert_int_equal(nf.err, SBI_H2_OK);
    assert_int_equal(nf.status, 404);
    assert_string_equal(nf.ctype, "application/problem+json");
    assert_non_null(strstr(nf.body, "\"status\":404"));
    assert_int_equal(na.status, 405);
    assert_int_equal(big.err, SBI_H2_OK);
    assert_int_equal(big.status, 201);   /* the echo is bounded in the result only */
    assert_int_equal(rst.err, SBI_H2_ERR_RESET);
    assert_int_equal(ok.status, 204);
    assert_string_equal(ok.body, "");
    assert_int_equal(sbi_h2_client_conns(f->cl), 1);
    free(huge);
}

static void test_drop_and_reconnect(void **state)
{
    fx_t *f = *state;
    result_t a = { 0 }, b = { 0 }, c = { 0 };

    assert_true(send_req(f, "GET", "/act/ignore", NULL, 5000, &a) > 0);
    assert_true(run_until(f, &f->served, 1, 3000));
    assert_true(send_req(f, "POST", "/act/drop", "{}", 5000, &b) > 0);
    assert_true(run_until(f, &b.calls, 1, 3000));
    assert_int_equal(b.err, SBI_H2_ERR_CLOSED);
    assert_int_equal(a.calls, 1);   /* the other stream on that connection fails too */
    assert_int_equal(a.err, SBI_H2_ERR_CLOSED);
    assert_int_equal(sbi_h2_client_conns(f->cl), 0);
    assert_true(send_req(f, "PATCH", "/act/ok", "{}", 5000, &c) > 0);
    assert_true(run_until(f, &c.calls, 1, 3000));
    assert_int_equal(c.err, SBI_H2_OK);
    assert_int_equal(c.status, 204);
    assert_int_equal(sbi_h2_client_conns(f->cl), 1);
}

static void test_timeout(void **state)
{
    fx_t *f = *state;
    result_t a = { 0 }, b = { 0 };
    uint64_t t0 = ims_clock_now_ms(), dt;

    assert_true(send_req(f, "GET", "/act/ignore", NULL, 300, &a) > 0);
    assert_true(run_until(f, &a.calls, 1, 5000));
    dt = ims_clock_now_ms() - t0;
    assert_int_equal(a.err, SBI_H2_ERR_TIMEOUT);
    assert_true(dt >= 300 && dt < 3000);
    /* the connection stays usable after a stream timed out */
    assert_true(send_req(f, "GET", "/act/fine", NULL, 3000, &b) > 0);
    assert_true(run_until(f, &b.calls, 1, 3000));
    assert_int_equal(b.status, 204);
    assert_int_equal(sbi_h2_client_conns(f->cl), 1);
}

static void test_refused_cancel_shutdown(void **state)
{
    fx_t *f = *state;
    result_t a = { 0 }, b = { 0 }, c = { 0 };
    sbi_h2_server_t *other = sbi_h2_server_new(f->loop, "127.0.0.1:0");
    char closed[32];
    sbi_h2_request_t q = { .method = "GET", .authority = closed, .path = "/x", .timeout_ms = 2000 };
    uint64_t id;

    /* a port that was just free: nobody listens once other is gone */
    snprintf(closed, sizeof(closed), "127.0.0.1:%u", sbi_h2_server_port(other));
    sbi_h2_server_free(other);
    assert_true(sbi_h2_client_request(f->cl, &q, on_resp, &a) > 0);
    assert_int_equal(a.calls, 0);
    assert_true(run_until(f, &a.calls, 1, 3000));
    assert_int_equal(a.err, SBI_H2_ERR_CONNECT);
    q.authority = "nohost:80";
    assert_int_equal(sbi_h2_client_request(f->cl, &q, on_resp, &a), 0);
    /* cancel: never called back */
    id = send_req(f, "GET", "/act/ignore", NULL, 300, &b);
    assert_true(id > 0);
    sbi_h2_client_cancel(f->cl, id);
    assert_int_equal(sbi_h2_client_pending(f->cl), 0);
    assert_true(send_req(f, "GET", "/act/ignore", NULL, 5000, &c) > 0);
    run_until(f, &b.calls, 1, 600);
    assert_int_equal(b.calls, 0);
    assert_int_equal(c.calls, 0);
    sbi_h2_client_free(f->cl);
    f->cl = sbi_h2_client_new(f->loop, NULL);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.err, SBI_H2_ERR_SHUTDOWN);
}

/* Bytes that are not HTTP/2 (an HTTP/1.1 request, then a bad preface): the
 * server drops the connection and goes on serving. */
static void test_server_garbage(void **state)
{
    fx_t *f = *state;
    static const char http1[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    /* the right preface, then a CONTINUATION frame with no HEADERS before it */
    static const char orphan[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                 "\x00\x00\x04\x09\x00\x00\x00\x00\x01zzzz";
    static const struct { const char *b; size_t n; } junk[] = {
        { http1, sizeof(http1) - 1 }, { orphan, sizeof(orphan) - 1 },
    };
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons(sbi_h2_server_port(f->srv)),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    result_t ok = { 0 };

    for (size_t i = 0; i < IMS_ARRAY_LEN(junk); i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        uint64_t end = ims_clock_now_ms() + 3000;
        ssize_t n = 1;
        char buf[256];

        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(send(fd, junk[i].b, junk[i].n, 0), (ssize_t)junk[i].n);
        /* until the server closes: whatever it sends first (SETTINGS, GOAWAY), then EOF */
        while (n != 0 && ims_clock_now_ms() < end) {
            ims_loop_run_once(f->loop, 20);
            n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        }
        assert_int_equal(n, 0);
        assert_int_equal(sbi_h2_server_conns(f->srv), 0);
        close(fd);
    }
    assert_true(send_req(f, "GET", "/act/fine", NULL, 3000, &ok) > 0);
    assert_true(run_until(f, &ok.calls, 1, 3000));
    assert_int_equal(ok.status, 204);
}

/* A self-signed certificate for IP 127.0.0.1 (subjectAltName) and its key, as PEM files. */
static void make_cert(const char *cert_path, const char *key_path)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name = X509_get_subject_name(x);
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    FILE *f;

    assert_non_null(pk);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pk);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"pcf", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
    assert_non_null(ext);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
    f = fopen(cert_path, "w");
    assert_non_null(f);
    PEM_write_X509(f, x);
    fclose(f);
    f = fopen(key_path, "w");
    assert_non_null(f);
    PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pk);
}

/* One GET to auth with client cl; the result after the loop ran. */
static result_t tls_get(fx_t *f, sbi_h2_client_t *cl, const char *auth)
{
    result_t r = { 0 };
    sbi_h2_request_t q = { .method = "GET", .authority = auth, .path = "/act/scheme",
                           .timeout_ms = 3000 };

    assert_true(sbi_h2_client_request(cl, &q, on_resp, &r) > 0);
    assert_true(run_until(f, &r.calls, 1, 5000));
    return r;
}

/* https with ALPN h2 both ways; refused: a wrong CA, TLS to h2c, h2c to TLS. */
static void test_tls(void **state)
{
    fx_t *f = *state;
    char dir[] = "/tmp/test_h2.XXXXXX", cert[64], key[64], cert2[64], key2[64], auth[32];
    sbi_h2_server_t *ts;
    sbi_h2_client_cfg_t cc = { .tls = true, .tls_ca = cert };
    sbi_h2_client_t *tc, *bad, *blind;
    result_t r;

    assert_non_null(mkdtemp(dir));
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(cert2, sizeof(cert2), "%s/cert2.pem", dir);
    snprintf(key2, sizeof(key2), "%s/key2.pem", dir);
    make_cert(cert, key);
    make_cert(cert2, key2);
    ts = sbi_h2_server_new_tls(f->loop, "127.0.0.1:0", cert, key);
    assert_non_null(ts);
    assert_int_equal(sbi_h2_server_route(ts, NULL, "/act/", route_act, f), IMS_OK);
    snprintf(auth, sizeof(auth), "127.0.0.1:%u", sbi_h2_server_port(ts));
    tc = sbi_h2_client_new(f->loop, &cc);
    assert_non_null(tc);
    r = tls_get(f, tc, auth);
    assert_int_equal(r.err, SBI_H2_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "https");
    r = tls_get(f, tc, auth);   /* the same connection again */
    assert_int_equal(r.status, 200);
    assert_int_equal(sbi_h2_client_conns(tc), 1);
    cc.tls_ca = cert2;          /* a CA that did not sign the server's certificate */
    bad = sbi_h2_client_new(f->loop, &cc);
    assert_int_equal(tls_get(f, bad, auth).err, SBI_H2_ERR_CONNECT);
    cc.tls_ca = NULL;           /* no verification: works */
    blind = sbi_h2_client_new(f->loop, &cc);
    assert_int_equal(tls_get(f, blind, auth).err, SBI_H2_OK);
    assert_int_equal(tls_get(f, tc, f->auth).err, SBI_H2_ERR_CONNECT);   /* TLS to h2c */
    r = tls_get(f, f->cl, auth);                                         /* h2c to TLS */
    assert_true(r.err == SBI_H2_ERR_CLOSED || r.err == SBI_H2_ERR_PROTOCOL);
    cc.tls_ca = "/nonexistent.pem";
    assert_null(sbi_h2_client_new(f->loop, &cc));
    assert_null(sbi_h2_server_new_tls(f->loop, "127.0.0.1:0", cert, key2));   /* key mismatch */
    sbi_h2_client_free(tc);
    sbi_h2_client_free(bad);
    sbi_h2_client_free(blind);
    sbi_h2_server_free(ts);
    unlink(cert);
    unlink(key);
    unlink(cert2);
    unlink(key2);
    rmdir(dir);
}

/* ---- operations: statistics, connection listing, GOAWAY ---- */

#define N5 "/npcf-policyauthorization/v1/app-sessions"

/* The test PCF's part: POST app-sessions 201, PATCH with "bad" 400, delete ignored. */
static void route_n5(void *arg, const sbi_h2_msg_t *req, sbi_h2_answer_t *ans)
{
    (void)arg;
    if (strcmp(req->method, "POST") == 0 && strcmp(req->path, N5) == 0)
        sbi_h2_answer_json(ans, 201, "{}");
    else if (strcmp(req->method, "PATCH") == 0 && strstr(req->body, "bad"))
        sbi_h2_answer_problem(ans, 400, NULL, "bad");
    else if (strstr(req->path, "/delete"))
        ans->action = SBI_H2_IGNORE;
    else
        ans->status = 204;
}

typedef struct seen {
    int n;
    char op[4][SBI_H2_OP_MAX];
    int status[4];
    sbi_h2_err_t err[4];
} seen_t;

static void observer(void *arg, const char *op, int status, sbi_h2_err_t err, uint64_t us)
{
    seen_t *s = arg;

    (void)us;
    if (s->n >= 4)
        return;
    snprintf(s->op[s->n], sizeof(s->op[0]), "%s", op);
    s->status[s->n] = status;
    s->err[s->n++] = err;
}

static const sbi_h2_op_stats_t *op_stats(const char *op)
{
    const sbi_h2_stats_t *st = sbi_h2_stats();

    for (size_t i = 0; i < st->nops; i++)
        if (strcmp(st->ops[i].op, op) == 0)
            return &st->ops[i];
    return NULL;
}

static void test_op_names(void **state)
{
    char op[SBI_H2_OP_MAX];

    (void)state;
    sbi_h2_op_name("POST", N5, op, sizeof(op));
    assert_string_equal(op, "POST app-sessions");
    sbi_h2_op_name("PATCH", N5 "/17", op, sizeof(op));
    assert_string_equal(op, "PATCH app-sessions/{id}");
    sbi_h2_op_name("POST", N5 "/ab_1/delete?x=1", op, sizeof(op));
    assert_string_equal(op, "POST app-sessions/{id}/delete");
    sbi_h2_op_name("GET", "/echo/3", op, sizeof(op));   /* no apiName/version: all kept */
    assert_string_equal(op, "GET echo/{id}");
    sbi_h2_op_name("GET", "/", op, sizeof(op));
    assert_string_equal(op, "GET");
    sbi_h2_op_name("DELETE", "/nx/v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/b", op, 16);
    assert_int_equal(strlen(op), 15);
}

static void test_stats(void **state)
{
    fx_t *f = *state;
    result_t a = { 0 }, b = { 0 }, c = { 0 };
    seen_t seen = { 0 };
    sbi_h2_request_t q = { .method = "POST", .authority = f->auth, .path = N5 "/5/delete",
                           .timeout_ms = 300, .op = "delete it" };
    const sbi_h2_op_stats_t *o;
    const sbi_h2_stats_t *st = sbi_h2_stats();

    assert_int_equal(sbi_h2_server_route(f->srv, NULL, N5, route_n5, f), IMS_OK);
    sbi_h2_stats_reset();
    sbi_h2_stats_observe(observer, &seen);
    assert_true(send_req(f, "POST", N5, "{}", 3000, &a) > 0);
    assert_true(run_until(f, &a.calls, 1, 3000));
    assert_true(send_req(f, "PATCH", N5 "/1", "{\"bad\":1}", 3000, &b) > 0);
    assert_true(run_until(f, &b.calls, 1, 3000));
    assert_true(sbi_h2_client_request(f->cl, &q, on_resp, &c) > 0);
    assert_true(run_until(f, &c.calls, 1, 3000));
    sbi_h2_stats_observe(NULL, NULL);
    assert_int_equal(a.status, 201);
    assert_int_equal(b.status, 400);
    assert_int_equal(c.err, SBI_H2_ERR_TIMEOUT);

    assert_int_equal(st->nops, 3);
    assert_non_null(o = op_stats("POST app-sessions"));
    assert_int_equal(o->requests, 1);
    assert_int_equal(o->answers[1], 1);
    assert_int_equal(o->answers[3] + o->errors[SBI_H2_ERR_TIMEOUT], 0);
    assert_int_equal(o->latency_count, 1);
    assert_true(o->latency_sum_s > 0 && o->latency_sum_s < 3);
    assert_non_null(o = op_stats("PATCH app-sessions/{id}"));
    assert_int_equal(o->answers[3], 1);
    assert_int_equal(o->answers[1], 0);
    assert_non_null(o = op_stats("delete it"));
    assert_int_equal(o->requests, 1);
    assert_int_equal(o->errors[SBI_H2_ERR_TIMEOUT], 1);
    assert_int_equal(o->latency_count, 0);
    assert_int_equal(st->server_requests[sbi_h2_method_index("POST")][1], 1);
    assert_int_equal(st->server_requests[sbi_h2_method_index("PATCH")][3], 1);

    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.op[0], "POST app-sessions");
    assert_int_equal(seen.status[0], 201);
    assert_int_equal(seen.err[0], SBI_H2_OK);
    assert_int_equal(seen.status[1], 400);
    assert_string_equal(seen.op[2], "delete it");
    assert_int_equal(seen.status[2], 0);
    assert_int_equal(seen.err[2], SBI_H2_ERR_TIMEOUT);
    assert_string_equal(sbi_h2_class_name(sbi_h2_class_of(404)), "4xx");
    assert_int_equal(sbi_h2_class_of(600), SBI_H2_NCLASSES);
}

/* The listing entry of authority auth, or NULL. */
static const sbi_h2_conn_info_t *conn_of(sbi_h2_conn_info_t *ci, size_t n, const char *auth)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ci[i].authority, auth) == 0)
            return &ci[i];
    return NULL;
}

static void test_conn_list_and_goaway(void **state)
{
    fx_t *f = *state;
    sbi_h2_conn_info_t ci[4];
    const sbi_h2_conn_info_t *c;
    result_t a = { 0 }, b = { 0 }, d = { 0 };
    uint64_t srv_goaways = sbi_h2_stats()->server_goaways_received;

    assert_int_equal(sbi_h2_client_conn_list(ci, 4), 0);
    assert_true(send_req(f, "GET", "/act/fine", NULL, 3000, &a) > 0);
    assert_int_equal(sbi_h2_client_conn_list(ci, 4), 1);
    assert_true(run_until(f, &a.calls, 1, 3000));
    assert_true(send_req(f, "GET", "/act/ignore", NULL, 400, &b) > 0);
    assert_true(run_until(f, &f->served, 2, 3000));
    assert_int_equal(sbi_h2_client_conn_list(ci, 4), 1);
    assert_non_null(c = conn_of(ci, 1, f->auth));
    assert_string_equal(c->state, "open");
    assert_int_equal(c->streams, 1);
    assert_int_equal(c->requests, 2);
    assert_false(c->tls);
    assert_true(c->age_ms < 5000);
    assert_int_equal(sbi_h2_client_conn_list(ci, 0), 1);   /* counted, none written */
    assert_true(run_until(f, &b.calls, 1, 3000));

    /* explicit GOAWAY: the server sees it, the connection goes, a new one follows */
    sbi_h2_client_goaway(f->cl);
    assert_int_equal(sbi_h2_client_conn_list(ci, 4), 1);
    assert_true(strcmp(ci[0].state, "goaway") == 0 || strcmp(ci[0].state, "closing") == 0);
    for (uint64_t end = ims_clock_now_ms() + 3000;
         (sbi_h2_client_conns(f->cl) || sbi_h2_server_conns(f->srv)) &&
         ims_clock_now_ms() < end;)
        ims_loop_run_once(f->loop, 20);
    assert_int_equal(sbi_h2_client_conns(f->cl), 0);
    assert_int_equal(sbi_h2_server_conns(f->srv), 0);
    assert_int_equal(sbi_h2_stats()->server_goaways_received, srv_goaways + 1);
    assert_true(send_req(f, "GET", "/act/fine", NULL, 3000, &d) > 0);
    assert_true(run_until(f, &d.calls, 1, 3000));
    assert_int_equal(d.status, 204);
    assert_int_equal(sbi_h2_client_conn_list(ci, 4), 1);
    assert_int_equal(ci[0].requests, 1);   /* a new connection */
}

/* The server's free: GOAWAY reaches the client, which drops the connection. */
static void test_goaway_server_free(void **state)
{
    fx_t *f = *state;
    result_t a = { 0 };
    uint64_t before = sbi_h2_stats()->client_goaways_received;

    assert_true(send_req(f, "GET", "/act/fine", NULL, 3000, &a) > 0);
    assert_true(run_until(f, &a.calls, 1, 3000));
    sbi_h2_server_free(f->srv);
    f->srv = NULL;
    for (uint64_t end = ims_clock_now_ms() + 3000;
         sbi_h2_client_conns(f->cl) && ims_clock_now_ms() < end;)
        ims_loop_run_once(f->loop, 20);
    assert_int_equal(sbi_h2_stats()->client_goaways_received, before + 1);
    assert_int_equal(sbi_h2_client_conns(f->cl), 0);
}

/* Read fd (non-blocking) into buf until EOF or ms pass; the bytes read. */
static size_t read_until_eof(fx_t *f, int fd, uint8_t *buf, size_t cap, uint64_t ms)
{
    size_t len = 0;

    for (uint64_t end = ims_clock_now_ms() + ms; len < cap && ims_clock_now_ms() < end;) {
        ssize_t n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);

        if (n == 0)
            break;
        if (n > 0)
            len += (size_t)n;
        else
            ims_loop_run_once(f->loop, 20);
    }
    return len;
}

/* The client's free: a raw socket as the server reads the preface, the
 * SETTINGS and HEADERS, then a GOAWAY (NO_ERROR), then EOF. */
static void test_goaway_client_free(void **state)
{
    fx_t *f = *state;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), fd = -1;
    char auth[32];
    result_t a = { 0 };
    static uint8_t buf[65536];
    size_t len, off = 24;
    bool goaway = false, headers = false;
    sbi_h2_request_t q = { .method = "POST", .authority = auth, .path = N5, .body = "{}",
                           .body_len = 2, .content_type = "application/json" };

    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(auth, sizeof(auth), "127.0.0.1:%u", ntohs(sa.sin_port));
    assert_true(sbi_h2_client_request(f->cl, &q, on_resp, &a) > 0);
    for (uint64_t end = ims_clock_now_ms() + 3000; fd < 0 && ims_clock_now_ms() < end;) {
        ims_loop_run_once(f->loop, 20);
        fd = accept(lfd, NULL, NULL);
    }
    assert_true(fd >= 0);
    for (int i = 0; i < 10; i++)   /* let the client write its first flight */
        ims_loop_run_once(f->loop, 10);
    sbi_h2_client_free(f->cl);
    f->cl = NULL;
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.err, SBI_H2_ERR_SHUTDOWN);
    len = read_until_eof(f, fd, buf, sizeof(buf), 3000);
    assert_true(len > 24);
    assert_memory_equal(buf, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    while (off + 9 <= len) {
        size_t flen = (size_t)buf[off] << 16 | (size_t)buf[off + 1] << 8 | buf[off + 2];
        uint8_t type = buf[off + 3];

        assert_true(off + 9 + flen <= len);
        if (type == 1)
            headers = true;
        if (type == 7) {   /* GOAWAY: last stream id (0: the server opened none), code 0 */
            assert_true(flen >= 8);
            assert_memory_equal(buf + off + 9, "\0\0\0\0\0\0\0\0", 8);
            goaway = true;
        }
        off += 9 + flen;
    }
    assert_int_equal(off, len);
    assert_true(headers);
    assert_true(goaway);
    close(fd);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_many_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_and_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_cancel_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
        cmocka_unit_test(test_op_names),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conn_list_and_goaway, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goaway_server_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goaway_client_free, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
