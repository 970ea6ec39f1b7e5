/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The drain of a SIP node (common/sip/drain.h) in front of the real proxy core,
 * transaction layer and UDP transport, driven by plain UDP sockets as UAC and UAS:
 * before sip_drain_begin everything reaches the application's handler; after it
 * an out-of-dialog INVITE and OPTIONS get 503 with Retry-After and never reach the
 * UAS or the handler, while the in-dialog BYE and the pending INVITE's 200 pass.
 * The wait: not over while a transaction or the busy count remains, over (done
 * called once, not timed out) once both are gone; over at drain_ms with what is
 * left; over at once when nothing is left or drain_ms is 0; sip_drain_end cuts it
 * short without done. Which requests count as new (sip_drain_refuses), and that
 * the drain's handler has only the hooks the application's has.
 */
#include <arpa/inet.h>
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
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "common/sip/drain.h"
#include "common/sip/msg.h"
#include "common/sip/proxy.h"
#include "common/sip/transport.h"
#include "common/sip/txn.h"

#define WAIT_MS  2000 /* the longest we wait for an expected datagram or event */
#define QUIET_MS 300  /* how long "nothing arrives" is watched */
#define T1_MS    10   /* short timers: Timer J = 64*T1 = 640 ms, */
#define T4_MS    50   /* Timer I and K = T4 */

typedef struct peer {
    int fd;
    uint16_t port;
} peer_t;

typedef struct h {
    ims_loop_t *loop;
    sip_transport_t *tp;
    sip_txn_layer_t *layer;
    sip_proxy_t *px;
    sip_drain_t *drain;
    uint16_t port;
    char self_uri[64];
    peer_t uac, uas;
    char raw[65536];
    size_t raw_len;
    int app_requests; /* the application's on_request calls */
    size_t busy;      /* what the busy callback reports */
    int done_calls;
    sip_drain_stats_t done_stats;
} h_t;

/* ---- sockets ---- */

static void peer_open(peer_t *p)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(p->fd >= 0);
    assert_int_equal(bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(p->fd, (struct sockaddr *)&sa, &len), 0);
    p->port = ntohs(sa.sin_port);
}

static void send_text(h_t *h, const peer_t *p, const char *buf, size_t len)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(h->port) };

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(p->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)len);
}

/* Run the loop until a datagram waits on p (parsed; NULL when none within ms). */
static sip_msg_t *next_msg(h_t *h, const peer_t *p, uint32_t ms)
{
    uint64_t end = ims_clock_now_ms() + ms;
    sip_msg_t *m = NULL;
    const char *reason = NULL;
    ssize_t n;

    while ((n = recv(p->fd, h->raw, sizeof(h->raw) - 1, MSG_DONTWAIT)) <= 0) {
        if (ims_clock_now_ms() >= end)
            return NULL;
        ims_loop_run_once(h->loop, 10);
    }
    h->raw[n] = '\0';
    h->raw_len = (size_t)n;
    if (sip_msg_parse(h->raw, h->raw_len, NULL, sizeof(h->raw), &m, &reason) != SIP_PARSE_OK)
        fail_msg("port %u got an unparsable message (%s):\n%s", p->port, reason, h->raw);
    return m;
}

static bool matches(const sip_msg_t *m, int code, const char *method)
{
    if (code == 0)
        return sip_msg_is_request(m) && strcmp(sip_msg_method(m), method) == 0;
    return !sip_msg_is_request(m) && sip_msg_status(m) == code &&
           strcmp(sip_msg_cseq_method(m), method) == 0;
}

/* The next message on p that is a code response to method, or a method request
 * (code 0); others before it (100s, retransmissions: T1 is short here) are dropped.
 * Returned to the caller, who frees it. */
static sip_msg_t *expect(h_t *h, const peer_t *p, int code, const char *method)
{
    uint64_t now, end = ims_clock_now_ms() + WAIT_MS;
    sip_msg_t *m;

    while ((now = ims_clock_now_ms()) < end && (m = next_msg(h, p, (uint32_t)(end - now)))) {
        if (matches(m, code, method))
            return m;
        sip_msg_free(m);
    }
    fail_msg("port %u: no %d %s within %d ms", p->port, code, method, WAIT_MS);
    return NULL;
}

/* Drop whatever waits on p. */
static void flush(h_t *h, const peer_t *p)
{
    while (recv(p->fd, h->raw, sizeof(h->raw), MSG_DONTWAIT) > 0)
        ;
}

static void expect_quiet(h_t *h, const peer_t *p)
{
    sip_msg_t *m = next_msg(h, p, QUIET_MS);

    if (m) {
        sip_msg_free(m);
        fail_msg("port %u: expected nothing, got \"%.*s\"", p->port, (int)strcspn(h->raw, "\r\n"),
                 h->raw);
    }
}

/* A request from the UAC to the proxy (next hop: the UAS), call call_id, with
 * the To tag to_tag (NULL: out of dialog). */
static void uac_send(h_t *h, const char *method, const char *branch, const char *call_id,
                     const char *to_tag, unsigned cseq)
{
    char buf[2048];
    int n = snprintf(buf, sizeof(buf),
                     "%s %s SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:alice@example.com>;tag=uactag\r\n"
                     "To: <sip:bob@example.com>%s%s\r\n"
                     "Call-ID: %s\r\n"
                     "CSeq: %u %s\r\n"
                     "Contact: <sip:alice@127.0.0.1:%u>\r\n"
                     "Content-Length: 0\r\n\r\n",
                     method, h->self_uri, h->uac.port, branch, to_tag ? ";tag=" : "",
                     to_tag ? to_tag : "", call_id, cseq, method, h->uac.port);

    assert_true(n > 0 && (size_t)n < sizeof(buf));
    send_text(h, &h->uac, buf, (size_t)n);
}

/* The UAS answers req with code (To tag "uastag"). */
static void uas_reply(h_t *h, const sip_msg_t *req, int code)
{
    sip_msg_t *resp = sip_msg_make_response(req, code, NULL, "uastag");
    char *buf = NULL;
    size_t len = 0;

    assert_non_null(resp);
    assert_int_equal(sip_msg_to_str(resp, &buf, &len), IMS_OK);
    sip_msg_free(resp);
    send_text(h, &h->uas, buf, len);
    osip_free(buf);
}

/* ---- the node under test ---- */

static void on_message(void *arg, sip_msg_t *msg)
{
    h_t *h = arg;

    sip_txn_layer_input(h->layer, msg);
}

static int app_on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req)
{
    h_t *h = arg;

    (void)pr;
    (void)req;
    h->app_requests++;
    return IMS_DECLINED;
}

static int app_on_ack(void *arg, sip_msg_t *ack)
{
    (void)arg;
    (void)ack;
    return IMS_DECLINED;
}

static size_t busy(void *arg)
{
    return ((h_t *)arg)->busy;
}

static void on_done(void *arg, const sip_drain_stats_t *stats)
{
    h_t *h = arg;

    h->done_calls++;
    h->done_stats = *stats;
}

static const sip_proxy_handler_t app_handler = { .on_request = app_on_request };

/* Transport, layer, a drain in front of app_handler, the proxy (next hop: UAS). */
static void node_up(h_t *h, uint32_t drain_ms)
{
    sip_txn_timers_t tm = { .t1_ms = T1_MS, .t4_ms = T4_MS };
    sip_drain_cfg_t dc = { .drain_ms = drain_ms, .retry_after_s = 7 };
    sip_proxy_cfg_t cfg;
    sip_addr_t me;

    h->loop = ims_loop_new();
    assert_non_null(h->loop);
    h->tp = sip_transport_new(h->loop, NULL, on_message, h);
    assert_non_null(h->tp);
    assert_int_equal(sip_transport_listen(h->tp, SIP_PROTO_UDP, "127.0.0.1", 0), IMS_OK);
    assert_int_equal(sip_transport_local(h->tp, SIP_PROTO_UDP, AF_INET, &me), IMS_OK);
    h->port = sip_addr_port(&me);
    snprintf(h->self_uri, sizeof(h->self_uri), "sip:bob@127.0.0.1:%u", h->port);
    h->layer = sip_txn_layer_new(h->loop, h->tp, &tm);
    h->drain = sip_drain_new(h->layer, &dc, &app_handler, h);
    sip_drain_set_busy(h->drain, busy, h);
    sip_proxy_cfg_defaults(&cfg);
    cfg.has_next_hop = true;
    cfg.next_hop.proto = SIP_PROTO_UDP;
    assert_int_equal(sip_addr_from(&cfg.next_hop.addr, "127.0.0.1", h->uas.port), IMS_OK);
    h->px = sip_proxy_new(h->layer, &cfg, sip_drain_handler(h->drain), h->drain);
}

static int setup(void **state)
{
    h_t *h = calloc(1, sizeof(*h));

    if (!h)
        return -1;
    peer_open(&h->uac);
    peer_open(&h->uas);
    *state = h;
    return 0;
}

/* node.c's order: proxy, drain, layer, transport, loop. */
static int teardown(void **state)
{
    h_t *h = *state;

    sip_proxy_free(h->px);
    sip_drain_free(h->drain);
    if (h->layer)
        sip_txn_layer_free(h->layer);
    if (h->tp)
        sip_transport_free(h->tp);
    if (h->loop)
        ims_loop_free(h->loop);
    close(h->uac.fd);
    close(h->uas.fd);
    free(h);
    return 0;
}

/* Run the loop until done was called or ms passed. */
static void run_until_done(h_t *h, uint32_t ms)
{
    uint64_t end = ims_clock_now_ms() + ms;

    while (!h->done_calls && ims_clock_now_ms() < end)
        ims_loop_run_once(h->loop, 10);
}

/* Run the loop for ms (timers and the reaper included). */
static void run_for(h_t *h, uint32_t ms)
{
    uint64_t end = ims_clock_now_ms() + ms;

    while (ims_clock_now_ms() < end)
        ims_loop_run_once(h->loop, 10);
}

/* ---- what is refused, what passes ---- */

/* An INVITE before the drain: forwarded to the UAS, which rings and holds it. */
static sip_msg_t *invite_through(h_t *h)
{
    sip_msg_t *inv;

    uac_send(h, "INVITE", "z9hG4bKinv1", "call-1", NULL, 1);
    inv = expect(h, &h->uas, 0, "INVITE");
    /* ringing: the proxy stops retransmitting the INVITE (Timer A) */
    uas_reply(h, inv, 180);
    sip_msg_free(expect(h, &h->uac, 180, "INVITE"));
    flush(h, &h->uas); /* the retransmissions sent before the 180 */
    return inv;
}

static void test_new_refused_dialog_served(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv, *m;

    node_up(h, 5000);
    inv = invite_through(h);
    assert_int_equal(h->app_requests, 1);
    assert_int_equal(sip_drain_begin(h->drain, on_done, h), IMS_AGAIN);
    assert_int_equal(sip_drain_state(h->drain), SIP_DRAIN_DRAINING);

    /* a new call: 503 with Retry-After, nothing to the UAS or the application */
    uac_send(h, "INVITE", "z9hG4bKinv2", "call-2", NULL, 1);
    m = expect(h, &h->uac, 503, "INVITE");
    assert_non_null(sip_msg_header(m, "Retry-After"));
    assert_string_equal(sip_msg_header(m, "Retry-After"), "7");
    uac_send(h, "ACK", "z9hG4bKinv2", "call-2", sip_msg_to_tag(m), 1);
    sip_msg_free(m);
    uac_send(h, "OPTIONS", "z9hG4bKopt1", "call-3", NULL, 1);
    m = expect(h, &h->uac, 503, "OPTIONS");
    assert_non_null(sip_msg_header(m, "Retry-After"));
    sip_msg_free(m);
    expect_quiet(h, &h->uas);
    assert_int_equal(h->app_requests, 1);

    /* the call in progress: its 200 goes up, its BYE goes down and is answered */
    uas_reply(h, inv, 200);
    m = expect(h, &h->uac, 200, "INVITE");
    sip_msg_free(m);
    uac_send(h, "BYE", "z9hG4bKbye1", "call-1", "uastag", 2);
    m = expect(h, &h->uas, 0, "BYE");
    assert_int_equal(h->app_requests, 2);
    uas_reply(h, m, 200);
    sip_msg_free(m);
    m = expect(h, &h->uac, 200, "BYE");
    sip_msg_free(m);
    sip_msg_free(inv);
    assert_int_equal(sip_drain_stats(h->drain)->refused, 2);
    assert_int_equal(h->done_calls, 0);
}

/* ---- when it is over ---- */

static void test_over_when_idle(void **state)
{
    h_t *h = *state;
    sip_msg_t *m;

    node_up(h, 10000);
    h->busy = 1;
    uac_send(h, "OPTIONS", "z9hG4bKopt1", "call-1", NULL, 1);
    m = expect(h, &h->uas, 0, "OPTIONS");
    assert_int_equal(sip_drain_begin(h->drain, on_done, h), IMS_AGAIN);
    uas_reply(h, m, 200);
    sip_msg_free(m);
    sip_msg_free(expect(h, &h->uac, 200, "OPTIONS"));
    /* both transactions end (Timer J = 64*T1, K = T4); the busy count stays */
    run_for(h, 64 * T1_MS + 3 * SIP_DRAIN_POLL_MS);
    assert_int_equal(sip_txn_layer_count(h->layer), 0);
    assert_int_equal(h->done_calls, 0);
    assert_int_equal(sip_drain_state(h->drain), SIP_DRAIN_DRAINING);
    h->busy = 0;
    run_until_done(h, WAIT_MS);
    assert_int_equal(h->done_calls, 1);
    assert_false(h->done_stats.timed_out);
    assert_int_equal(h->done_stats.txns_left, 0);
    assert_int_equal(h->done_stats.busy_left, 0);
    assert_true(h->done_stats.elapsed_ms < 10000);
    assert_int_equal(sip_drain_state(h->drain), SIP_DRAIN_OVER);
    run_for(h, 2 * SIP_DRAIN_POLL_MS);
    assert_int_equal(h->done_calls, 1);
}

static void test_deadline(void **state)
{
    h_t *h = *state;
    uint64_t t0;

    node_up(h, 300);
    h->busy = 2;
    t0 = ims_clock_now_ms();
    assert_int_equal(sip_drain_begin(h->drain, on_done, h), IMS_AGAIN);
    run_until_done(h, WAIT_MS);
    assert_int_equal(h->done_calls, 1);
    assert_true(ims_clock_now_ms() - t0 >= 300);
    assert_true(h->done_stats.timed_out);
    assert_int_equal(h->done_stats.busy_left, 2);
    assert_true(h->done_stats.elapsed_ms >= 300 && h->done_stats.elapsed_ms < WAIT_MS);
    /* still refusing after the end, until the node is gone */
    uac_send(h, "REGISTER", "z9hG4bKreg1", "call-4", NULL, 1);
    sip_msg_free(expect(h, &h->uac, 503, "REGISTER"));
}

static void test_nothing_to_wait_for(void **state)
{
    h_t *h = *state;

    node_up(h, 5000);
    assert_int_equal(sip_drain_begin(h->drain, on_done, h), IMS_DONE);
    assert_int_equal(sip_drain_state(h->drain), SIP_DRAIN_OVER);
    assert_int_equal(sip_drain_begin(h->drain, on_done, h), IMS_ERROR);
    run_for(h, 2 * SIP_DRAIN_POLL_MS);
    assert_int_equal(h->done_calls, 0);
}

static void test_zero_drain_ms(void **state)
{
    h_t *h = *state;

    node_up(h, 0);
    h->busy = 5;
    assert_int_equal(sip_drain_begin(h->drain, on_done, h), IMS_DONE);
    assert_int_equal(sip_drain_state(h->drain), SIP_DRAIN_OVER);
    assert_int_equal(sip_drain_stats(h->drain)->busy_left, 5);
}

static void test_end_cuts_short(void **state)
{
    h_t *h = *state;
    size_t timers;

    node_up(h, 5000);
    h->busy = 1;
    timers = ims_loop_timer_count(h->loop);
    assert_int_equal(sip_drain_begin(h->drain, on_done, h), IMS_AGAIN);
    assert_int_equal(ims_loop_timer_count(h->loop), timers + 2);
    sip_drain_end(h->drain);
    assert_int_equal(sip_drain_state(h->drain), SIP_DRAIN_OVER);
    h->busy = 0;
    run_for(h, 3 * SIP_DRAIN_POLL_MS);
    assert_int_equal(h->done_calls, 0);
    assert_int_equal(ims_loop_timer_count(h->loop), timers);
}

/* ---- the rule and the hooks ---- */

static bool refuses(const char *method, const char *to_tag)
{
    char buf[1024];
    sip_msg_t *m = NULL;
    const char *reason;
    bool r;
    int n = snprintf(buf, sizeof(buf),
                     "%s sip:bob@127.0.0.1 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKx\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:alice@example.com>;tag=a\r\n"
                     "To: <sip:bob@example.com>%s%s\r\n"
                     "Call-ID: rule@127.0.0.1\r\n"
                     "CSeq: 1 %s\r\n"
                     "Content-Length: 0\r\n\r\n",
                     method, to_tag ? ";tag=" : "", to_tag ? to_tag : "", method);

    assert_true(n > 0 && (size_t)n < sizeof(buf));
    assert_int_equal(sip_msg_parse(buf, (size_t)n, NULL, sizeof(buf), &m, &reason), SIP_PARSE_OK);
    r = sip_drain_refuses(m);
    sip_msg_free(m);
    return r;
}

static void test_refusal_rule(void **state)
{
    static const char *const fresh[] = { "INVITE",  "REGISTER", "SUBSCRIBE",
                                         "MESSAGE", "OPTIONS",  "PUBLISH" };
    static const char *const in_dialog[] = { "INVITE", "BYE",    "UPDATE",    "PRACK",
                                             "INFO",   "NOTIFY", "SUBSCRIBE", "ACK" };

    (void)state;
    for (size_t i = 0; i < IMS_ARRAY_LEN(fresh); i++)
        assert_true(refuses(fresh[i], NULL));
    for (size_t i = 0; i < IMS_ARRAY_LEN(in_dialog); i++)
        assert_false(refuses(in_dialog[i], "t1"));
    assert_false(refuses("ACK", NULL));
}

static void test_handler_hooks(void **state)
{
    h_t *h = *state;
    const sip_drain_cfg_t dc = { .drain_ms = 1000 };
    const sip_proxy_handler_t with_ack = { .on_ack = app_on_ack };
    const sip_proxy_handler_t *w;
    sip_drain_t *d;

    node_up(h, 1000);
    d = sip_drain_new(h->layer, &dc, &app_handler, h);
    w = sip_drain_handler(d);
    assert_non_null(w->on_request);
    assert_null(w->on_response);
    assert_null(w->on_failure);
    assert_null(w->on_ack);
    sip_drain_free(d);
    d = sip_drain_new(h->layer, &dc, &with_ack, h);
    w = sip_drain_handler(d);
    assert_non_null(w->on_request);
    assert_non_null(w->on_ack);
    assert_int_equal(w->on_ack(d, NULL), IMS_DECLINED);
    sip_drain_free(d);
    d = sip_drain_new(h->layer, &dc, NULL, NULL);
    w = sip_drain_handler(d);
    assert_non_null(w->on_request);
    assert_null(w->on_ack);
    sip_drain_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_refused_dialog_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_over_when_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_to_wait_for, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_drain_ms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_cuts_short, setup, teardown),
        cmocka_unit_test(test_refusal_rule),
        cmocka_unit_test_setup_teardown(test_handler_hooks, setup, teardown),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
