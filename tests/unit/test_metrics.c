/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Metrics and probes: the text exposition byte for byte (counters, gauges,
 * histograms, labels, escaping, collectors), registration refusals, and the
 * HTTP server over a real loopback socket on a real loop (a request split
 * across writes, pipelining, keep-alive and close, an oversize head, unknown
 * paths and methods, a body, garbage, /readyz following its callback) and the
 * daemons' `metrics` configuration group.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/core/conf.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "common/ops/http_probe.h"
#include "common/ops/metrics.h"

static const char *const cmds[] = { "UAR", "MAR" };
static const char *const results[] = { "ok", "timeout" };
static const ims_label_t l_cmd = { "cmd", cmds, 2 };
static const ims_label_t l_result = { "result", results, 2 };

static void expect_render(ims_metrics_t *r, const char *want)
{
    size_t len;
    char *got = ims_metrics_render(r, &len);

    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
}

/* ---- exposition ---- */

static void test_counter_gauge_labels(void **state)
{
    ims_metrics_t *r = ims_metrics_new();
    ims_metric_t *c = ims_metrics_counter(r, "ims_req_total", "Requests.", &l_cmd, &l_result);
    ims_metric_t *g = ims_metrics_gauge(r, "ims_temp", "A gauge.", NULL, NULL);
    ims_metric_t *one = ims_metrics_counter(r, "ims_one_total", "One label.", &l_cmd, NULL);

    assert_non_null(c);
    ims_counter_inc(c, ims_metric_series(c, 1, 0));
    ims_counter_add(c, ims_metric_series(c, 1, 0), 2);
    ims_counter_inc(c, ims_metric_series(c, 0, 1));
    ims_counter_inc(c, 99);             /* out of range: ignored */
    ims_counter_inc(c, ims_metric_series(c, 0, 2));     /* second label out of range */
    ims_gauge_set(g, 0, 2.5);
    ims_gauge_add(g, 0, -1);
    ims_counter_inc(one, 1);
    ims_counter_inc(NULL, 0);           /* metrics off: no-op */
    ims_gauge_set(c, 0, 7);             /* wrong type: ignored */
    expect_render(r,
                  "# HELP ims_req_total Requests.\n"
                  "# TYPE ims_req_total counter\n"
                  "ims_req_total{cmd=\"UAR\",result=\"ok\"} 0\n"
                  "ims_req_total{cmd=\"UAR\",result=\"timeout\"} 1\n"
                  "ims_req_total{cmd=\"MAR\",result=\"ok\"} 3\n"
                  "ims_req_total{cmd=\"MAR\",result=\"timeout\"} 0\n"
                  "# HELP ims_temp A gauge.\n"
                  "# TYPE ims_temp gauge\n"
                  "ims_temp 1.5\n"
                  "# HELP ims_one_total One label.\n"
                  "# TYPE ims_one_total counter\n"
                  "ims_one_total{cmd=\"UAR\"} 0\n"
                  "ims_one_total{cmd=\"MAR\"} 1\n");
    ims_metrics_free(r);
}

static void test_histogram(void **state)
{
    static const double b[] = { 0.005, 0.1, 1 };
    ims_metrics_t *r = ims_metrics_new();
    ims_metric_t *h = ims_metrics_histogram(r, "ims_lat_seconds", "Latency.", &l_cmd, NULL,
                                            b, 3);

    ims_histogram_observe(h, 0, 0.005);     /* on a bound: in that bucket (le) */
    ims_histogram_observe(h, 0, 0.05);
    ims_histogram_observe_us(h, 0, 2500000);
    ims_histogram_observe(h, 1, 0.001);
    expect_render(r,
                  "# HELP ims_lat_seconds Latency.\n"
                  "# TYPE ims_lat_seconds histogram\n"
                  "ims_lat_seconds_bucket{cmd=\"UAR\",le=\"0.005\"} 1\n"
                  "ims_lat_seconds_bucket{cmd=\"UAR\",le=\"0.1\"} 2\n"
                  "ims_lat_seconds_bucket{cmd=\"UAR\",le=\"1\"} 2\n"
                  "ims_lat_seconds_bucket{cmd=\"UAR\",le=\"+Inf\"} 3\n"
                  "ims_lat_seconds_sum{cmd=\"UAR\"} 2.555\n"
                  "ims_lat_seconds_count{cmd=\"UAR\"} 3\n"
                  "ims_lat_seconds_bucket{cmd=\"MAR\",le=\"0.005\"} 1\n"
                  "ims_lat_seconds_bucket{cmd=\"MAR\",le=\"0.1\"} 1\n"
                  "ims_lat_seconds_bucket{cmd=\"MAR\",le=\"1\"} 1\n"
                  "ims_lat_seconds_bucket{cmd=\"MAR\",le=\"+Inf\"} 1\n"
                  "ims_lat_seconds_sum{cmd=\"MAR\"} 0.001\n"
                  "ims_lat_seconds_count{cmd=\"MAR\"} 1\n");
    ims_metrics_free(r);
}

static void test_default_buckets(void **state)
{
    ims_metrics_t *r = ims_metrics_new();
    ims_metric_t *h = ims_metrics_histogram(r, "h", "", NULL, NULL, NULL, 0);
    char *out;

    ims_histogram_observe(h, 0, 20);
    out = ims_metrics_render(r, NULL);
    assert_non_null(strstr(out, "h_bucket{le=\"0.001\"} 0\n"));
    assert_non_null(strstr(out, "h_bucket{le=\"0.0025\"} 0\n"));
    assert_non_null(strstr(out, "h_bucket{le=\"10\"} 0\n"));
    assert_non_null(strstr(out, "h_bucket{le=\"+Inf\"} 1\nh_sum 20\nh_count 1\n"));
    free(out);
    ims_metrics_free(r);
}

static void collect(void *arg, ims_metrics_emitter_t *e)
{
    ims_metrics_emit(e, "peer", "a\"b\\c\nd", 3);
    ims_metrics_emit(e, NULL, NULL, *(double *)arg);
}

static void test_escaping_and_collectors(void **state)
{
    static const char *const odd[] = { "x\"y", "back\\slash" };
    static const ims_label_t l_odd = { "v", odd, 2 };
    ims_metrics_t *r = ims_metrics_new();
    double val = 0.25;

    assert_non_null(ims_metrics_gauge(r, "g", "Line one\nback\\slash \"quoted\"", &l_odd, NULL));
    assert_int_equal(ims_metrics_collector(r, "ims_peer_up", "Peers.", IMS_METRIC_GAUGE,
                                           collect, &val), IMS_OK);
    expect_render(r,
                  "# HELP g Line one\\nback\\\\slash \"quoted\"\n"
                  "# TYPE g gauge\n"
                  "g{v=\"x\\\"y\"} 0\n"
                  "g{v=\"back\\\\slash\"} 0\n"
                  "# HELP ims_peer_up Peers.\n"
                  "# TYPE ims_peer_up gauge\n"
                  "ims_peer_up{peer=\"a\\\"b\\\\c\\nd\"} 3\n"
                  "ims_peer_up 0.25\n");
    assert_int_equal(ims_metrics_remove(r, "g"), IMS_OK);
    assert_int_equal(ims_metrics_remove(r, "g"), IMS_DECLINED);
    val = 1e-7;
    expect_render(r, "# HELP ims_peer_up Peers.\n# TYPE ims_peer_up gauge\n"
                     "ims_peer_up{peer=\"a\\\"b\\\\c\\nd\"} 3\nims_peer_up 1e-07\n");
    ims_metrics_free(r);
}

static void test_refusals(void **state)
{
    static const double bad[] = { 1, 0.5 };
    static const char *const v[] = { "1" };
    static const ims_label_t l_le = { "le", v, 1 };
    static const ims_label_t l_bad = { "9x", v, 1 };
    ims_metrics_t *r = ims_metrics_new();

    assert_non_null(ims_metrics_counter(r, "a_total", "", NULL, NULL));
    assert_null(ims_metrics_counter(r, "a_total", "", NULL, NULL));    /* twice */
    assert_null(ims_metrics_counter(r, "0abc", "", NULL, NULL));
    assert_null(ims_metrics_counter(r, "a-b", "", NULL, NULL));
    assert_null(ims_metrics_gauge(r, "g", "", &l_bad, NULL));
    assert_null(ims_metrics_gauge(r, "g", "", NULL, &l_cmd));          /* l2 without l1 */
    assert_null(ims_metrics_gauge(r, "g", "", &l_cmd, &l_cmd));        /* same name twice */
    assert_null(ims_metrics_histogram(r, "h", "", &l_le, NULL, NULL, 0));
    assert_null(ims_metrics_histogram(r, "h", "", NULL, NULL, bad, 2));
    assert_null(ims_metrics_counter(NULL, "x", "", NULL, NULL));
    assert_int_equal(ims_metrics_collector(r, "a_total", "", IMS_METRIC_GAUGE, collect, NULL),
                     IMS_ERROR);
    ims_histogram_observe(NULL, 0, 1);
    assert_int_equal(ims_sip_code_index(200), 0);
    assert_string_equal(ims_label_sip_code.values[ims_sip_code_index(401)], "401");
    assert_string_equal(ims_label_sip_code.values[ims_sip_code_index(299)], "other");
    ims_metrics_free(r);
}

/* ---- the HTTP server over loopback ---- */

typedef struct fix {
    ims_loop_t *loop;
    ims_metrics_t *metrics;
    ims_http_probe_t *probe;
    bool ready;
} fix_t;

static bool ready_cb(void *arg, char *why, size_t len)
{
    fix_t *f = arg;

    snprintf(why, len, "no HSS peer open");
    return f->ready;
}

static int setup_http(void **state)
{
    fix_t *f = calloc(1, sizeof(*f));
    ims_metric_t *c;

    ims_clock_drive(false, 0);
    f->loop = ims_loop_new();
    f->metrics = ims_metrics_new();
    c = ims_metrics_counter(f->metrics, "ims_test_total", "Test.", NULL, NULL);
    ims_counter_add(c, 0, 42);
    f->probe = ims_http_probe_new(f->loop, "127.0.0.1:0", f->metrics, ready_cb, f);
    *state = f;
    return f->probe ? 0 : -1;
}

static int teardown_http(void **state)
{
    fix_t *f = *state;

    ims_http_probe_free(f->probe);
    ims_metrics_free(f->metrics);
    ims_loop_free(f->loop);
    free(f);
    return 0;
}

static int client(const fix_t *f)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_port = htons(ims_http_probe_port(f->probe));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void pump(fix_t *f, int n)
{
    for (int i = 0; i < n; i++)
        ims_loop_run_once(f->loop, 5);
}

static void send_all(fix_t *f, int fd, const char *s, size_t n)
{
    assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
    pump(f, 3);
}

static void send_str(fix_t *f, int fd, const char *s)
{
    send_all(f, fd, s, strlen(s));
}

/* Read until want replies (by Content-Length) are complete or the peer
 * closes; returns the bytes read, *closed whether it closed. */
static size_t read_replies(fix_t *f, int fd, char *buf, size_t cap, int want, bool *closed)
{
    size_t len = 0;

    *closed = false;
    for (int i = 0; i < 400; i++) {
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        int done = 0;
        const char *p = buf;

        if (n == 0) {
            *closed = true;
            break;
        }
        if (n > 0)
            len += (size_t)n;
        buf[len] = '\0';
        while ((p = strstr(p, "Content-Length: ")) != NULL) {
            const char *body = strstr(p, "\r\n\r\n");

            if (!body || (size_t)(body + 4 - buf) + strtoul(p + 16, NULL, 10) > len)
                break;
            done++;
            p = body + 4;
        }
        if (want > 0 && done >= want)
            break;
        pump(f, 1);
    }
    buf[len] = '\0';
    return len;
}

static void request(fix_t *f, const char *req, char *buf, size_t cap, bool *closed)
{
    int fd = client(f);

    send_str(f, fd, req);
    read_replies(f, fd, buf, cap, 1, closed);
    if (!*closed) {
        /* look once more whether the server closes after this reply */
        char extra[16];

        pump(f, 3);
        *closed = recv(fd, extra, sizeof(extra), 0) == 0;
    }
    close(fd);
}

static void test_http_metrics_and_split(void **state)
{
    fix_t *f = *state;
    char buf[8192];
    bool closed;
    int fd = client(f);
    static const char *parts[] = { "GE", "T /metr", "ics?x=1 HTTP/1.1\r\nHost: x\r", "\n\r", "\n" };

    for (size_t i = 0; i < 5; i++)
        send_str(f, fd, parts[i]);
    read_replies(f, fd, buf, sizeof(buf), 1, &closed);
    assert_false(closed);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(buf, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert_non_null(strstr(buf, "Connection: keep-alive\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\n# HELP ims_test_total Test.\n"
                                "# TYPE ims_test_total counter\nims_test_total 42\n"));
    /* the same connection again, two pipelined requests in one write */
    send_str(f, fd, "GET /healthz HTTP/1.1\r\n\r\nGET /readyz HTTP/1.1\r\n\r\n");
    read_replies(f, fd, buf, sizeof(buf), 2, &closed);
    assert_string_equal(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n"
                             "HTTP/1.1 503 Service Unavailable\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 17\r\nConnection: keep-alive\r\n\r\n"
                             "no HSS peer open\n");
    /* HEAD: the headers of GET, no body (the close ends the read) */
    send_str(f, fd, "HEAD /metrics HTTP/1.1\r\nConnection: close\r\n\r\n");
    read_replies(f, fd, buf, sizeof(buf), 0, &closed);
    assert_true(closed);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_true(strlen(buf) > 4 && strcmp(buf + strlen(buf) - 4, "\r\n\r\n") == 0);
    close(fd);
}

static void test_http_errors(void **state)
{
    fix_t *f = *state;
    char buf[8192], big[6000];
    bool closed;
    int fd;

    request(f, "GET /nope HTTP/1.1\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 404 Not Found\r\n"));
    assert_false(closed);
    request(f, "POST /metrics HTTP/1.1\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 405 Method Not Allowed\r\n"));
    assert_non_null(strstr(buf, "Allow: GET, HEAD\r\n"));
    assert_true(closed);
    request(f, "GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", buf, sizeof(buf),
            &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 413 "));
    assert_true(closed);
    request(f, "\x01\x02 garbage\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
    assert_true(closed);
    request(f, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "200 OK\r\n"));
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    assert_true(closed);
    request(f, "GET /healthz HTTP/1.0\r\n\r\n", buf, sizeof(buf), &closed);
    assert_true(closed);

    /* a head that never ends: 431 once the buffer is full, then closed */
    fd = client(f);
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    /* exactly the buffer's size: nothing left unread, so the close is no reset */
    send_all(f, fd, big, IMS_HTTP_PROBE_MAX_REQ / 2);
    send_all(f, fd, big + IMS_HTTP_PROBE_MAX_REQ / 2, IMS_HTTP_PROBE_MAX_REQ / 2);
    read_replies(f, fd, buf, sizeof(buf), 1, &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 431 "));
    close(fd);
    /* still serving */
    request(f, "GET /healthz HTTP/1.1\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "\r\n\r\nok\n"));
}

static void test_http_readyz(void **state)
{
    fix_t *f = *state;
    char buf[4096];
    bool closed;

    f->ready = false;
    request(f, "GET /readyz HTTP/1.1\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 503 Service Unavailable\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\nno HSS peer open\n"));
    f->ready = true;
    request(f, "GET /readyz HTTP/1.1\r\n\r\n", buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\nready\n"));
}

/* A page far larger than the socket buffers: written in pieces as the client
 * reads (the write side waits on the loop), then the connection serves again. */
static void test_http_large_reply(void **state)
{
    enum { NV = 600 };
    fix_t *f = *state;
    static char names[NV][8];
    static const char *vals[NV];
    static const ims_label_t la = { "a", vals, NV }, lb = { "b", vals, NV };
    size_t want, got = 0, cap = 64u << 20, hdr_end = 0;
    char *buf = malloc(cap), *page;
    bool closed = false;
    int fd;

    for (int i = 0; i < NV; i++) {
        snprintf(names[i], sizeof(names[i]), "v%d", i);
        vals[i] = names[i];
    }
    assert_non_null(ims_metrics_gauge(f->metrics, "big", "Big.", &la, &lb));
    page = ims_metrics_render(f->metrics, &want);
    assert_true(want > (8u << 20));
    fd = client(f);
    send_str(f, fd, "GET /metrics HTTP/1.1\r\n\r\n");
    for (int i = 0; i < 20000 && !closed; i++) {
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);

        if (n == 0)
            closed = true;
        if (n > 0)
            got += (size_t)n;
        buf[got] = '\0';
        if (!hdr_end && strstr(buf, "\r\n\r\n"))
            hdr_end = (size_t)(strstr(buf, "\r\n\r\n") - buf) + 4;
        if (hdr_end && got >= hdr_end + want)
            break;
        pump(f, 1);
    }
    assert_false(closed);
    assert_true(hdr_end > 0);
    assert_int_equal(got, hdr_end + want);
    assert_memory_equal(buf + hdr_end, page, want);
    send_str(f, fd, "GET /healthz HTTP/1.1\r\n\r\n");
    read_replies(f, fd, buf, 4096, 1, &closed);
    assert_non_null(strstr(buf, "\r\n\r\nok\n"));
    close(fd);
    free(page);
    free(buf);
}

static void test_http_bad_listen(void **state)
{
    ims_loop_t *loop = ims_loop_new();

    assert_null(ims_http_probe_new(loop, "127.0.0.1", NULL, NULL, NULL));
    assert_null(ims_http_probe_new(loop, "localhost:80", NULL, NULL, NULL));
    assert_null(ims_http_probe_new(loop, "127.0.0.1:99999", NULL, NULL, NULL));
    assert_null(ims_http_probe_new(loop, "[::1:80", NULL, NULL, NULL));
    ims_loop_free(loop);
}

static ims_conf_t *conf_from(const char *text)
{
    char path[] = "/tmp/test_metrics_XXXXXX", err[256];
    int fd = mkstemp(path);
    ims_conf_t *c;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    c = ims_conf_load(path, err, sizeof(err));
    unlink(path);
    assert_non_null(c);
    return c;
}

/* The daemons' metrics group: absent (no server), bad, and a real one. */
static void test_http_from_conf(void **state)
{
    ims_loop_t *loop = ims_loop_new();
    ims_http_probe_t *p = (ims_http_probe_t *)1;
    ims_conf_t *c;

    assert_int_equal(ims_http_probe_from_conf(loop, NULL, NULL, NULL, NULL, &p), IMS_OK);
    assert_null(p);
    c = conf_from("log_level = \"info\";\n");
    assert_int_equal(ims_http_probe_from_conf(loop, c, NULL, NULL, NULL, &p), IMS_OK);
    assert_null(p);
    ims_conf_free(c);
    c = conf_from("metrics = { listen = 9101; };\n");
    assert_int_equal(ims_http_probe_from_conf(loop, c, NULL, NULL, NULL, &p), IMS_ERROR);
    ims_conf_free(c);
    c = conf_from("metrics = { listen = \"127.0.0.1\"; };\n");
    assert_int_equal(ims_http_probe_from_conf(loop, c, NULL, NULL, NULL, &p), IMS_ERROR);
    assert_null(p);
    ims_conf_free(c);
    c = conf_from("metrics = { listen = \"127.0.0.1:0\"; };\n");
    assert_int_equal(ims_http_probe_from_conf(loop, c, NULL, NULL, NULL, &p), IMS_OK);
    assert_non_null(p);
    assert_true(ims_http_probe_port(p) > 0);
    ims_http_probe_free(p);
    ims_conf_free(c);
    ims_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge_labels),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_default_buckets),
        cmocka_unit_test(test_escaping_and_collectors),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test_setup_teardown(test_http_metrics_and_split, setup_http, teardown_http),
        cmocka_unit_test_setup_teardown(test_http_errors, setup_http, teardown_http),
        cmocka_unit_test_setup_teardown(test_http_readyz, setup_http, teardown_http),
        cmocka_unit_test_setup_teardown(test_http_large_reply, setup_http, teardown_http),
        cmocka_unit_test(test_http_bad_listen),
        cmocka_unit_test(test_http_from_conf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
