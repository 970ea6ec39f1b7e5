/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stateful proxy core (common/sip/proxy.h) in-process on the real UDP
 * transport and transaction layer, driven by plain UDP sockets playing the UAC
 * and one or two UASes: §16.3 validation (483, 482 versus a spiral, 420),
 * §16.4 route preprocessing (loose and strict routers), §16.6 forwarding (Via,
 * Record-Route, Max-Forwards), §16.7 response handling (100 absorbed,
 * provisionals and every 2xx forwarded, best response, 503 -> 500), forking
 * through a handler and an asynchronous handler, CANCEL (also before a
 * provisional and unanswered), Timer B (408) and Timer C, stateless ACK and
 * stray 2xx forwarding, RFC 5658 double Record-Route with a TCP UAS, and the
 * on_failure hook with the reply timeout (a silent AS given up, a new round).
 * Each test builds its own proxy; the real clock drives the timers.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "common/sip/msg.h"
#include "common/sip/proxy.h"
#include "common/sip/transport.h"
#include "common/sip/txn.h"

#define WAIT_MS  2000 /* the longest we wait for an expected datagram */
#define QUIET_MS 300  /* how long "nothing arrives" is watched */
#define TAG1     "uas1tag"
#define TAG2     "uas2tag"
#define BR_UAC   "z9hG4bKuac1"

typedef struct peer {
    int fd;
    uint16_t port;
} peer_t;

typedef struct opts {
    uint32_t t1_ms;      /* 0: the layer's default */
    uint32_t timer_c_ms; /* 0: the proxy's default */
    bool next_hop;       /* cfg.next_hop = UAS1 */
    bool fork;           /* handler: targets UAS1 and UAS2 */
    bool hold;           /* handler: keeps the request, id in h->held */
    const char *proxy_require_ok;
    bool tcp; /* listen on TCP as well */
    uint32_t reply_ms; /* handler: to UAS1 with this reply timeout, on_failure hook */
    bool reforward;    /* on_failure: the first time, forward anew to UAS2 */
    bool outbound;     /* cfg.outbound = UAS2 */
    bool ack_hook;     /* handler: on_ack only, drops ACKs whose From tag is "drop" */
    bool hold_resp;    /* handler: on_response only, holds the first 180 (id in h->held) */
} opts_t;

typedef struct h {
    ims_loop_t *loop;
    sip_transport_t *tp;
    sip_txn_layer_t *layer;
    sip_proxy_t *px;
    uint16_t port;     /* the proxy's */
    char self_uri[64]; /* sip:bob@127.0.0.1:<proxy port> */
    peer_t uac, uas1, uas2;
    peer_t tcp_uas;      /* listener; fd -1 unless the test opened it */
    int tcp_conn;        /* the proxy's connection to it, or -1 */
    uint64_t held;       /* the request the holding handler kept */
    sip_msg_t *msgs[64]; /* what expect_* returned: freed by teardown, */
    size_t nmsgs;        /* so a failing assertion leaks nothing */
    char raw[65536];     /* the last datagram received, NUL-terminated */
    size_t raw_len;
    uint32_t reply_ms;   /* opts_t */
    bool reforward;
    int failures;        /* on_failure calls, with the last one's arguments */
    int fail_code;
    bool fail_replied;
    int acks_dropped;    /* by the on_ack hook */
    bool resp_held;      /* the hold_resp handler held a response */
    int resp_seen;       /* responses its on_response saw */
} h_t;

/* ---- clock, sockets ---- */

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A UDP socket, or a non-blocking TCP listener, on 127.0.0.1 and a free port. */
static void peer_open(peer_t *p, int type)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->fd = socket(AF_INET, type, 0);
    assert_true(p->fd >= 0);
    assert_int_equal(bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(p->fd, (struct sockaddr *)&sa, &len), 0);
    p->port = ntohs(sa.sin_port);
    if (type == (SOCK_STREAM | SOCK_NONBLOCK))
        assert_int_equal(listen(p->fd, 4), 0);
}

static void send_raw(h_t *h, const peer_t *p, const char *buf, size_t len)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(h->port) };

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(p->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)len);
}

/* Run the proxy's loop until a datagram is waiting on p (into h->raw) or ms pass. */
static bool recv_raw(h_t *h, const peer_t *p, uint32_t ms)
{
    uint64_t end = now_ms() + ms;

    for (;;) {
        ssize_t n = recv(p->fd, h->raw, sizeof(h->raw) - 1, MSG_DONTWAIT);

        if (n > 0) {
            h->raw_len = (size_t)n;
            h->raw[n] = '\0';
            return true;
        }
        if (now_ms() >= end)
            return false;
        ims_loop_run_once(h->loop, 10);
    }
}

/* The next message on p, parsed; NULL when none came within ms. */
static sip_msg_t *next_msg(h_t *h, const peer_t *p, uint32_t ms)
{
    sip_msg_t *m = NULL;
    const char *reason = NULL;

    if (!recv_raw(h, p, ms))
        return NULL;
    if (sip_msg_parse(h->raw, h->raw_len, NULL, sizeof(h->raw), &m, &reason) != SIP_PARSE_OK)
        fail_msg("port %u got an unparsable message (%s):\n%s", p->port, reason, h->raw);
    return m;
}

static sip_msg_t *track(h_t *h, sip_msg_t *m)
{
    assert_true(h->nmsgs < sizeof(h->msgs) / sizeof(h->msgs[0]));
    h->msgs[h->nmsgs++] = m;
    return m;
}

static void first_line(const h_t *h, char *buf, size_t len)
{
    snprintf(buf, len, "%.*s", (int)strcspn(h->raw, "\r\n"), h->raw);
}

/* The next message on p must be a method request. */
static sip_msg_t *expect_req(h_t *h, const peer_t *p, const char *method)
{
    char line[128];
    sip_msg_t *m = next_msg(h, p, WAIT_MS);

    if (!m)
        fail_msg("port %u: no %s within %d ms", p->port, method, WAIT_MS);
    track(h, m);
    first_line(h, line, sizeof(line));
    if (!sip_msg_is_request(m) || strcmp(sip_msg_method(m), method) != 0)
        fail_msg("port %u: expected %s, got \"%s\"", p->port, method, line);
    return m;
}

/* Like expect_req, but earlier datagrams that are not method requests (or whose
 * Request-URI user is not user, when given) are dropped: for retransmissions. */
static sip_msg_t *wait_req(h_t *h, const peer_t *p, const char *method, const char *user)
{
    uint64_t now, end = now_ms() + WAIT_MS;
    sip_msg_t *m;

    while ((now = now_ms()) < end && (m = next_msg(h, p, (uint32_t)(end - now))) != NULL) {
        if (sip_msg_is_request(m) && strcmp(sip_msg_method(m), method) == 0 &&
            (!user || (m->m->req_uri->username && strcmp(m->m->req_uri->username, user) == 0)))
            return track(h, m);
        sip_msg_free(m);
    }
    fail_msg("port %u: no %s within %d ms", p->port, method, WAIT_MS);
    return NULL;
}

/* The next message on p must be a code response to method. */
static sip_msg_t *expect_resp(h_t *h, const peer_t *p, int code, const char *method)
{
    char line[128];
    sip_msg_t *m = next_msg(h, p, WAIT_MS);

    if (!m)
        fail_msg("port %u: no %d within %d ms", p->port, code, WAIT_MS);
    track(h, m);
    first_line(h, line, sizeof(line));
    if (sip_msg_is_request(m) || sip_msg_status(m) != code ||
        strcmp(sip_msg_cseq_method(m), method) != 0)
        fail_msg("port %u: expected %d (%s), got \"%s\" (%s)", p->port, code, method, line,
                 sip_msg_cseq_method(m));
    return m;
}

static void got_resp(h_t *h, const peer_t *p, int code, const char *method)
{
    expect_resp(h, p, code, method);
}

static void expect_quiet_ms(h_t *h, const peer_t *p, uint32_t ms)
{
    char line[128];

    if (recv_raw(h, p, ms)) {
        first_line(h, line, sizeof(line));
        fail_msg("port %u: expected nothing, got \"%s\"", p->port, line);
    }
}

static void expect_quiet(h_t *h, const peer_t *p)
{
    expect_quiet_ms(h, p, QUIET_MS);
}

/* ---- messages ---- */

typedef struct rq {
    const char *method;
    const char *ruri;
    const char *branch;
    const char *hdrs;   /* extra lines, each ending CRLF; NULL: "Max-Forwards: 70" */
    const char *to_tag; /* NULL: none */
} rq_t;

/* Send a request from p, its Via naming p; one dialog (Call-ID, tags, CSeq 1)
 * per test. */
static void send_rq(h_t *h, const peer_t *p, const rq_t *r)
{
    char buf[4096], to[64] = "";
    int n;

    if (r->to_tag)
        snprintf(to, sizeof(to), ";tag=%s", r->to_tag);
    n = snprintf(buf, sizeof(buf),
                 "%s %s SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
                 "%s"
                 "From: <sip:alice@example.com>;tag=uactag\r\n"
                 "To: <sip:bob@example.com>%s\r\n"
                 "Call-ID: proxytest-1@127.0.0.1\r\n"
                 "CSeq: 1 %s\r\n"
                 "Contact: <sip:alice@127.0.0.1:%u>\r\n"
                 "Content-Length: 0\r\n\r\n",
                 r->method, r->ruri, p->port, r->branch, r->hdrs ? r->hdrs : "Max-Forwards: 70\r\n",
                 to, r->method, p->port);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    send_raw(h, p, buf, (size_t)n);
}

/* An ACK for a 2xx from the UAC to ruri with From tag ftag (and a To tag). */
static void send_raw_ack(h_t *h, const char *ruri, const char *ftag)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf),
                     "ACK %s SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKack%s\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:alice@example.com>;tag=%s\r\n"
                     "To: <sip:bob@example.com>;tag=" TAG1 "\r\n"
                     "Call-ID: ackhook-%s@127.0.0.1\r\n"
                     "CSeq: 1 ACK\r\n"
                     "Content-Length: 0\r\n\r\n",
                     ruri, h->uac.port, ftag, ftag, ftag);

    assert_true(n > 0 && (size_t)n < sizeof(buf));
    send_raw(h, &h->uac, buf, (size_t)n);
}

/* The UAC's INVITE to sip:bob@<proxy>, and the proxy's 100 Trying for it. */
static void uac_invite(h_t *h)
{
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, BR_UAC, NULL, NULL });
    got_resp(h, &h->uac, 100, "INVITE");
}

/* Answer req (as received at p) with code, To tag tag. */
static void reply(h_t *h, const peer_t *p, const sip_msg_t *req, int code, const char *tag)
{
    sip_msg_t *resp = sip_msg_make_response(req, code, NULL, tag);
    char *buf = NULL;
    size_t len = 0;

    assert_non_null(resp);
    assert_int_equal(sip_msg_to_str(resp, &buf, &len), IMS_OK);
    sip_msg_free(resp);
    send_raw(h, p, buf, len);
    osip_free(buf);
}

static osip_via_t *via_at(const sip_msg_t *m, int i)
{
    osip_via_t *v = osip_list_get(sip_msg_vias(m), i);

    assert_non_null(v);
    return v;
}

static const char *top_branch(const sip_msg_t *m)
{
    const char *b = sip_msg_via_branch(via_at(m, 0));

    assert_non_null(b);
    return b;
}

static int max_forwards(const sip_msg_t *m)
{
    osip_header_t *mf = NULL;

    osip_message_get_max_forwards(m->m, 0, &mf);
    assert_non_null(mf);
    assert_non_null(mf->hvalue);
    return atoi(mf->hvalue);
}

/* The peer's ACK for a non-2xx final it saw on inv's transaction: same branch. */
static void expect_ack_for(h_t *h, const peer_t *p, const sip_msg_t *inv)
{
    sip_msg_t *ack = expect_req(h, p, "ACK");

    assert_string_equal(top_branch(ack), top_branch(inv));
    assert_int_equal(sip_msg_cseq_num(ack), sip_msg_cseq_num(inv));
}

/* The UAC acknowledges the non-2xx final resp (matched by the proxy's server
 * transaction; the To tag is the response's). */
static void uac_ack(h_t *h, const sip_msg_t *resp)
{
    send_rq(h, &h->uac, &(rq_t){ "ACK", h->self_uri, BR_UAC, NULL, sip_msg_to_tag(resp) });
}

/* ---- the proxy under test ---- */

static void on_message(void *arg, sip_msg_t *msg)
{
    h_t *h = arg;

    sip_txn_layer_input(h->layer, msg);
}

static int fork_on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req)
{
    h_t *h = arg;
    char uri[64];

    if (strcmp(sip_msg_method(req), "INVITE") != 0)
        return IMS_DECLINED;
    snprintf(uri, sizeof(uri), "sip:bob@127.0.0.1:%u", h->uas1.port);
    assert_int_equal(sip_proxy_add_target(pr, uri, NULL), IMS_OK);
    snprintf(uri, sizeof(uri), "sip:bob@127.0.0.1:%u", h->uas2.port);
    assert_int_equal(sip_proxy_add_target(pr, uri, NULL), IMS_OK);
    assert_int_equal(sip_proxy_forward(pr), IMS_OK);
    return IMS_OK;
}

/* An asynchronous handler (an HSS query, say): keep the request for later. */
static int hold_on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req)
{
    h_t *h = arg;

    h->held = sip_proxy_req_id(pr);
    return IMS_OK;
}

/* An S-CSCF sending a request to an AS that must answer quickly (opts reply_ms). */
static int as_on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req)
{
    h_t *h = arg;
    char uri[64];

    snprintf(uri, sizeof(uri), "sip:bob@127.0.0.1:%u", h->uas1.port);
    sip_proxy_set_reply_timeout(pr, h->reply_ms);
    assert_int_equal(sip_proxy_add_target(pr, uri, NULL), IMS_OK);
    assert_int_equal(sip_proxy_forward(pr), IMS_OK);
    return IMS_OK;
}

/* Every branch failed: note it; with reforward, the first time, go on to UAS2
 * without the reply timeout (DefaultHandling SESSION_CONTINUED, say). */
static int as_on_failure(void *arg, sip_proxy_req_t *pr, int code, bool replied)
{
    h_t *h = arg;
    char uri[64];

    h->failures++;
    h->fail_code = code;
    h->fail_replied = replied;
    if (!h->reforward || h->failures > 1)
        return IMS_DECLINED;
    snprintf(uri, sizeof(uri), "sip:bob@127.0.0.1:%u", h->uas2.port);
    sip_proxy_set_reply_timeout(pr, 0);
    assert_int_equal(sip_proxy_add_target(pr, uri, NULL), IMS_OK);
    assert_int_equal(sip_proxy_forward(pr), IMS_OK);
    return IMS_OK;
}

static int drop_ack(void *arg, sip_msg_t *ack)
{
    h_t *h = arg;

    if (strcmp(sip_msg_from_tag(ack), "drop") != 0)
        return IMS_DECLINED;
    h->acks_dropped++;
    sip_msg_free(ack);
    return IMS_OK;
}

/* on_ack_dest: an ACK whose From tag is "move" goes to UAS2 instead (a P-CSCF
 * choosing the port an ACK to a UE with SAs leaves from, say). */
static void move_ack(void *arg, const sip_msg_t *ack, sip_dest_t *dst)
{
    h_t *h = arg;

    if (strcmp(sip_msg_from_tag(ack), "move") == 0)
        assert_int_equal(sip_addr_from(&dst->addr, "127.0.0.1", h->uas2.port), IMS_OK);
}

/* A P-CSCF asking the PCRF about the SDP answer: holds the first 180. */
static void hold_on_response(void *arg, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    h_t *h = arg;

    h->resp_seen++;
    if (sip_msg_status(resp) != 180 || h->resp_held)
        return;
    assert_int_equal(sip_proxy_hold(pr), IMS_OK);
    h->resp_held = true;
    h->held = sip_proxy_req_id(pr);
}

static void proxy_up(h_t *h, const opts_t *o)
{
    sip_txn_timers_t tm = { .t1_ms = o->t1_ms };
    sip_proxy_handler_t handler = { .on_request = o->fork ? fork_on_request : hold_on_request };
    sip_proxy_handler_t as_handler = { .on_request = as_on_request, .on_failure = as_on_failure };
    sip_proxy_handler_t ack_handler = { .on_ack = drop_ack, .on_ack_dest = move_ack };
    sip_proxy_handler_t resp_handler = { .on_response = hold_on_response };
    sip_proxy_cfg_t cfg;
    sip_addr_t me;

    h->loop = ims_loop_new();
    assert_non_null(h->loop);
    h->tp = sip_transport_new(h->loop, NULL, on_message, h);
    assert_non_null(h->tp);
    assert_int_equal(sip_transport_listen(h->tp, SIP_PROTO_UDP, "127.0.0.1", 0), IMS_OK);
    if (o->tcp)
        assert_int_equal(sip_transport_listen(h->tp, SIP_PROTO_TCP, "127.0.0.1", 0), IMS_OK);
    assert_int_equal(sip_transport_local(h->tp, SIP_PROTO_UDP, AF_INET, &me), IMS_OK);
    h->port = sip_addr_port(&me);
    assert_true(h->port != 0);
    snprintf(h->self_uri, sizeof(h->self_uri), "sip:bob@127.0.0.1:%u", h->port);
    h->layer = sip_txn_layer_new(h->loop, h->tp, &tm);
    assert_non_null(h->layer);
    sip_proxy_cfg_defaults(&cfg);
    if (o->timer_c_ms)
        cfg.timer_c_ms = o->timer_c_ms;
    if (o->next_hop) {
        cfg.has_next_hop = true;
        cfg.next_hop.proto = SIP_PROTO_UDP;
        assert_int_equal(sip_addr_from(&cfg.next_hop.addr, "127.0.0.1", h->uas1.port), IMS_OK);
    }
    if (o->outbound) {
        cfg.has_outbound = true;
        cfg.outbound.proto = SIP_PROTO_UDP;
        assert_int_equal(sip_addr_from(&cfg.outbound.addr, "127.0.0.1", h->uas2.port), IMS_OK);
    }
    cfg.proxy_require_ok = o->proxy_require_ok;
    h->reply_ms = o->reply_ms;
    h->reforward = o->reforward;
    if (o->ack_hook)
        h->px = sip_proxy_new(h->layer, &cfg, &ack_handler, h);
    else if (o->hold_resp)
        h->px = sip_proxy_new(h->layer, &cfg, &resp_handler, h);
    else if (o->reply_ms)
        h->px = sip_proxy_new(h->layer, &cfg, &as_handler, h);
    else
        h->px = sip_proxy_new(h->layer, &cfg, o->fork || o->hold ? &handler : NULL, h);
    assert_non_null(h->px);
}

static int setup(void **state)
{
    h_t *h = calloc(1, sizeof(*h));

    if (!h)
        return -1;
    peer_open(&h->uac, SOCK_DGRAM);
    peer_open(&h->uas1, SOCK_DGRAM);
    peer_open(&h->uas2, SOCK_DGRAM);
    h->tcp_uas.fd = -1;
    h->tcp_conn = -1;
    *state = h;
    return 0;
}

/* The order of node.c's stop(): proxy, layer, transport, loop. */
static int teardown(void **state)
{
    h_t *h = *state;

    sip_proxy_free(h->px);
    if (h->layer)
        sip_txn_layer_free(h->layer);
    if (h->tp)
        sip_transport_free(h->tp);
    if (h->loop)
        ims_loop_free(h->loop);
    close(h->uac.fd);
    close(h->uas1.fd);
    close(h->uas2.fd);
    while (h->nmsgs)
        sip_msg_free(h->msgs[--h->nmsgs]);
    if (h->tcp_uas.fd >= 0)
        close(h->tcp_uas.fd);
    if (h->tcp_conn >= 0)
        close(h->tcp_conn);
    free(h);
    return 0;
}

/* ---- 1. §16.6: what the forwarded request looks like ---- */

static void test_forward_headers(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv;
    osip_via_t *v;
    osip_record_route_t *rr;
    osip_uri_param_t *lr = NULL;
    char port[8];

    proxy_up(h, &(opts_t){ .next_hop = true });
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    snprintf(port, sizeof(port), "%u", h->port);
    /* Request-URI untouched: the next hop came from the configuration. */
    assert_string_equal(inv->m->req_uri->username, "bob");
    assert_string_equal(inv->m->req_uri->host, "127.0.0.1");
    assert_string_equal(inv->m->req_uri->port, port);
    assert_int_equal(max_forwards(inv), 69);
    /* Our Via on top with a loop-detection branch, the UAC's below it. */
    assert_int_equal(osip_list_size(sip_msg_vias(inv)), 2);
    v = via_at(inv, 0);
    assert_string_equal(v->protocol, "UDP");
    assert_string_equal(v->host, "127.0.0.1");
    assert_string_equal(v->port, port);
    assert_memory_equal(top_branch(inv), "z9hG4bKL", 8);
    v = via_at(inv, 1);
    assert_string_equal(sip_msg_via_branch(v), BR_UAC);
    snprintf(port, sizeof(port), "%u", h->uac.port);
    assert_string_equal(v->port, port);
    /* One Record-Route (same interface in and out), ours, loose. */
    assert_int_equal(osip_list_size(sip_msg_record_routes(inv)), 1);
    rr = osip_list_get(sip_msg_record_routes(inv), 0);
    assert_non_null(rr->url);
    assert_null(rr->url->username);
    assert_string_equal(rr->url->host, "127.0.0.1");
    snprintf(port, sizeof(port), "%u", h->port);
    assert_string_equal(rr->url->port, port);
    osip_uri_uparam_get_byname(rr->url, "lr", &lr);
    assert_non_null(lr);
}

static void test_max_forwards_inserted(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv;

    proxy_up(h, &(opts_t){ .next_hop = true });
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, BR_UAC, "", NULL });
    got_resp(h, &h->uac, 100, "INVITE");
    inv = expect_req(h, &h->uas1, "INVITE");
    assert_int_equal(max_forwards(inv), 70);
}

/* A TCP UAS: accept the proxy's connection and read one message (no body). */
static sip_msg_t *tcp_uas_recv(h_t *h)
{
    uint64_t end = now_ms() + WAIT_MS;
    size_t n = 0;
    sip_msg_t *m = NULL;
    const char *reason;

    while (h->tcp_conn < 0 && now_ms() < end) {
        h->tcp_conn = accept(h->tcp_uas.fd, NULL, NULL);
        if (h->tcp_conn < 0)
            ims_loop_run_once(h->loop, 10);
    }
    assert_true(h->tcp_conn >= 0);
    h->raw[0] = '\0';
    while (!strstr(h->raw, "\r\n\r\n") && now_ms() < end) {
        ssize_t r = recv(h->tcp_conn, h->raw + n, sizeof(h->raw) - 1 - n, MSG_DONTWAIT);

        if (r > 0) {
            n += (size_t)r;
            h->raw[n] = '\0';
        } else {
            ims_loop_run_once(h->loop, 10);
        }
    }
    assert_int_equal(sip_msg_parse(h->raw, n, NULL, sizeof(h->raw), &m, &reason), SIP_PARSE_OK);
    return track(h, m);
}

/* RFC 5658: in on UDP, out on TCP: two Record-Route entries, the outgoing
 * interface's on top; the response comes back over the same connection. */
static void test_record_route_two_interfaces(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv, *r, *ok;
    osip_record_route_t *rr;
    osip_uri_param_t *tp = NULL;
    sip_addr_t tcp;
    char ruri[64], port[8], *text = NULL;
    size_t len = 0;

    proxy_up(h, &(opts_t){ .tcp = true });
    assert_int_equal(sip_transport_local(h->tp, SIP_PROTO_TCP, AF_INET, &tcp), IMS_OK);
    peer_open(&h->tcp_uas, SOCK_STREAM | SOCK_NONBLOCK);
    snprintf(ruri, sizeof(ruri), "sip:bob@127.0.0.1:%u;transport=tcp", h->tcp_uas.port);
    send_rq(h, &h->uac, &(rq_t){ "INVITE", ruri, BR_UAC, NULL, NULL });
    got_resp(h, &h->uac, 100, "INVITE");
    inv = tcp_uas_recv(h);
    assert_string_equal(via_at(inv, 0)->protocol, "TCP");
    assert_int_equal(osip_list_size(sip_msg_record_routes(inv)), 2);
    rr = osip_list_get(sip_msg_record_routes(inv), 0);
    snprintf(port, sizeof(port), "%u", sip_addr_port(&tcp));
    assert_string_equal(rr->url->port, port);
    osip_uri_uparam_get_byname(rr->url, "transport", &tp);
    assert_non_null(tp);
    assert_string_equal(tp->gvalue, "tcp");
    rr = osip_list_get(sip_msg_record_routes(inv), 1);
    snprintf(port, sizeof(port), "%u", h->port);
    assert_string_equal(rr->url->port, port);
    tp = NULL;
    osip_uri_uparam_get_byname(rr->url, "transport", &tp);
    assert_null(tp);
    ok = sip_msg_make_response(inv, 200, NULL, TAG1);
    assert_int_equal(sip_msg_to_str(ok, &text, &len), IMS_OK);
    sip_msg_free(ok);
    assert_int_equal(send(h->tcp_conn, text, len, 0), (ssize_t)len);
    osip_free(text);
    r = expect_resp(h, &h->uac, 200, "INVITE");
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 1);
}

/* ---- 2, 3. §16.4 route preprocessing ---- */

static void test_loose_route(void **state)
{
    h_t *h = *state;
    char hdrs[256];
    sip_msg_t *inv;
    osip_route_t *rt;
    char port[8];

    proxy_up(h, &(opts_t){ 0 });
    snprintf(hdrs, sizeof(hdrs),
             "Max-Forwards: 70\r\nRoute: <sip:127.0.0.1:%u;lr>, <sip:127.0.0.1:%u;lr>\r\n", h->port,
             h->uas1.port);
    send_rq(h, &h->uac, &(rq_t){ "INVITE", "sip:bob@example.com", BR_UAC, hdrs, NULL });
    got_resp(h, &h->uac, 100, "INVITE");
    inv = expect_req(h, &h->uas1, "INVITE");
    assert_string_equal(inv->m->req_uri->username, "bob");
    assert_string_equal(inv->m->req_uri->host, "example.com");
    assert_null(inv->m->req_uri->port);
    assert_int_equal(osip_list_size(&inv->m->routes), 1);
    rt = osip_list_get(&inv->m->routes, 0);
    snprintf(port, sizeof(port), "%u", h->uas1.port);
    assert_string_equal(rt->url->host, "127.0.0.1");
    assert_string_equal(rt->url->port, port);
}

static void test_strict_router_request_uri(void **state)
{
    h_t *h = *state;
    char hdrs[256], ruri[64], port[8];
    sip_msg_t *inv;

    proxy_up(h, &(opts_t){ 0 });
    snprintf(ruri, sizeof(ruri), "sip:127.0.0.1:%u", h->port);
    snprintf(hdrs, sizeof(hdrs), "Max-Forwards: 70\r\nRoute: <sip:bob@127.0.0.1:%u>\r\n",
             h->uas1.port);
    send_rq(h, &h->uac, &(rq_t){ "INVITE", ruri, BR_UAC, hdrs, NULL });
    got_resp(h, &h->uac, 100, "INVITE");
    inv = expect_req(h, &h->uas1, "INVITE");
    snprintf(port, sizeof(port), "%u", h->uas1.port);
    assert_string_equal(inv->m->req_uri->username, "bob");
    assert_string_equal(inv->m->req_uri->host, "127.0.0.1");
    assert_string_equal(inv->m->req_uri->port, port);
    assert_int_equal(osip_list_size(&inv->m->routes), 0);
}

/* ---- 4, 5, 6. §16.3 validation ---- */

/* §17.2.1: no 100 when the 180 comes within trying_ms; a 100 after that delay
 * when nothing comes; at once when the UAC retransmits before it. */
static void test_trying_delayed(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv;
    uint64_t t0;

    proxy_up(h, &(opts_t){ .next_hop = true });
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, BR_UAC, NULL, NULL });
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 180, TAG1);
    got_resp(h, &h->uac, 180, "INVITE"); /* the first response the UAC sees */

    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, "z9hG4bKuacslow", NULL, NULL });
    t0 = now_ms();
    expect_req(h, &h->uas1, "INVITE");
    got_resp(h, &h->uac, 100, "INVITE");
    assert_true(now_ms() - t0 >= 80);
    assert_true(now_ms() - t0 <= 400);

    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, "z9hG4bKuacretx", NULL, NULL });
    expect_req(h, &h->uas1, "INVITE");
    t0 = now_ms();
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, "z9hG4bKuacretx", NULL, NULL });
    got_resp(h, &h->uac, 100, "INVITE");
    assert_true(now_ms() - t0 < 80);
    expect_quiet(h, &h->uac); /* and only one */
}

static void test_max_forwards_zero(void **state)
{
    h_t *h = *state;
    sip_msg_t *r;

    proxy_up(h, &(opts_t){ .next_hop = true });
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, BR_UAC, "Max-Forwards: 0\r\n", NULL });
    r = expect_resp(h, &h->uac, 483, "INVITE"); /* answered at once: no 100 first */
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 1);
    expect_quiet(h, &h->uas1);
}

/* Send inv (as UAS1 got it, our Via on top) back to the proxy from the UAC, as
 * a downstream element would: a new top Via and, when ruri is given, another
 * Request-URI. */
static void send_back(h_t *h, const sip_msg_t *inv, const char *ruri)
{
    char buf[8192], line[128], *text = NULL;
    const char *rest;
    size_t tlen = 0;
    int len;

    assert_int_equal(sip_msg_to_str(inv, &text, &tlen), IMS_OK);
    rest = strstr(text, "\r\n");
    assert_non_null(rest);
    if (ruri)
        snprintf(line, sizeof(line), "INVITE %s SIP/2.0", ruri);
    else
        snprintf(line, sizeof(line), "%.*s", (int)(rest - text), text);
    len = snprintf(buf, sizeof(buf), "%s\r\nVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKuac2%s",
                   line, h->uac.port, rest);
    osip_free(text);
    assert_true(len > 0 && (size_t)len < sizeof(buf));
    send_raw(h, &h->uac, buf, (size_t)len);
}

/* The first INVITE goes through to UAS1, which rings (no retransmissions). */
static sip_msg_t *loop_first_leg(h_t *h)
{
    sip_msg_t *inv;

    proxy_up(h, &(opts_t){ .next_hop = true });
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 180, TAG1);
    got_resp(h, &h->uac, 180, "INVITE");
    return inv;
}

static void test_loop_detected(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv = loop_first_leg(h), *r;

    send_back(h, inv, NULL);
    r = expect_resp(h, &h->uac, 482, "INVITE");
    assert_string_equal(top_branch(r), "z9hG4bKuac2");
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 3);
    expect_quiet(h, &h->uas1);
    assert_int_equal(sip_proxy_stats(h->px)->loops, 1);
}

static void test_spiral_forwarded(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv = loop_first_leg(h), *sp;
    char ruri[64];

    snprintf(ruri, sizeof(ruri), "sip:carol@127.0.0.1:%u", h->port);
    send_back(h, inv, ruri);
    got_resp(h, &h->uac, 100, "INVITE");
    sp = wait_req(h, &h->uas1, "INVITE", "carol");
    assert_int_equal(osip_list_size(sip_msg_vias(sp)), 4);
    assert_memory_equal(top_branch(sp), "z9hG4bKL", 8);
    /* The Request-URI changed, so did the loop hash carried in the branch. */
    assert_memory_not_equal(top_branch(sp), top_branch(inv), 16);
    expect_quiet(h, &h->uac);
    assert_int_equal(sip_proxy_stats(h->px)->loops, 0);
}

static void test_proxy_require(void **state)
{
    h_t *h = *state;
    sip_msg_t *r;
    const char *u;

    proxy_up(h, &(opts_t){ .next_hop = true, .proxy_require_ok = "sec-agree" });
    send_rq(h, &h->uac,
            &(rq_t){ "OPTIONS", h->self_uri, BR_UAC, "Max-Forwards: 70\r\nProxy-Require: foo\r\n",
                     NULL });
    r = expect_resp(h, &h->uac, 420, "OPTIONS");
    u = sip_msg_header(r, "Unsupported");
    assert_non_null(u);
    assert_string_equal(u, "foo");
    expect_quiet(h, &h->uas1);
    /* An accepted option tag passes. */
    send_rq(h, &h->uac,
            &(rq_t){ "OPTIONS", h->self_uri, "z9hG4bKuac3",
                     "Max-Forwards: 70\r\nProxy-Require: sec-agree\r\n", NULL });
    r = expect_req(h, &h->uas1, "OPTIONS");
    assert_int_equal(osip_list_size(sip_msg_record_routes(r)), 0); /* no dialog */
    reply(h, &h->uas1, r, 200, TAG1);
    r = expect_resp(h, &h->uac, 200, "OPTIONS");
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 1);
}

/* ---- 7. §16.7 responses, §16.11 stateless ACK ---- */

static void test_responses(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv, *r, *ack;
    char hdrs[128], ruri[64];

    proxy_up(h, &(opts_t){ .next_hop = true });
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 100, NULL); /* absorbed: the UAC had ours */
    reply(h, &h->uas1, inv, 180, TAG1);
    r = expect_resp(h, &h->uac, 180, "INVITE");
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 1);
    assert_string_equal(top_branch(r), BR_UAC);
    assert_string_equal(sip_msg_to_tag(r), TAG1);
    reply(h, &h->uas1, inv, 200, TAG1);
    r = expect_resp(h, &h->uac, 200, "INVITE");
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 1);
    assert_string_equal(top_branch(r), BR_UAC);
    reply(h, &h->uas1, inv, 200, TAG1); /* the UAS retransmits its 2xx */
    r = expect_resp(h, &h->uac, 200, "INVITE");
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 1);
    /* The ACK for the 2xx, loose-routed through us, is forwarded statelessly. */
    snprintf(ruri, sizeof(ruri), "sip:bob@127.0.0.1:%u", h->uas1.port);
    snprintf(hdrs, sizeof(hdrs), "Max-Forwards: 70\r\nRoute: <sip:127.0.0.1:%u;lr>\r\n", h->port);
    send_rq(h, &h->uac, &(rq_t){ "ACK", ruri, "z9hG4bKuacack", hdrs, TAG1 });
    ack = expect_req(h, &h->uas1, "ACK");
    assert_int_equal(osip_list_size(sip_msg_vias(ack)), 2);
    assert_memory_equal(top_branch(ack), "z9hG4bKA", 8);
    assert_int_equal(max_forwards(ack), 69);
    assert_int_equal(osip_list_size(&ack->m->routes), 0);
    expect_quiet(h, &h->uac);
}

/* The UAC's retransmitted INVITE is absorbed by the server transaction, which
 * repeats the last provisional (§17.2.1); it never reaches the UAS again. */
static void test_invite_retransmission(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv;

    proxy_up(h, &(opts_t){ .next_hop = true, .t1_ms = 1000 }); /* no retransmission here */
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, BR_UAC, NULL, NULL });
    got_resp(h, &h->uac, 100, "INVITE");
    reply(h, &h->uas1, inv, 180, TAG1);
    got_resp(h, &h->uac, 180, "INVITE");
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, BR_UAC, NULL, NULL });
    got_resp(h, &h->uac, 180, "INVITE");
    expect_quiet(h, &h->uas1);
}

/* A 2xx retransmitted after both transactions ended goes up statelessly (§16.7
 * item 10 via the stray-response path). */
static void test_stray_2xx(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv, *r;

    proxy_up(h, &(opts_t){ .next_hop = true, .t1_ms = 10 }); /* Timers L, M: 640 ms */
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 200, TAG1);
    got_resp(h, &h->uac, 200, "INVITE");
    expect_quiet_ms(h, &h->uac, 1000);
    assert_int_equal(sip_txn_layer_count(h->layer), 0);
    reply(h, &h->uas1, inv, 200, TAG1);
    r = expect_resp(h, &h->uac, 200, "INVITE");
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 1);
    assert_string_equal(top_branch(r), BR_UAC);
    assert_int_equal(sip_proxy_stats(h->px)->stray_responses, 1);
}

/* ---- the handler answers later ---- */

static void test_async_handler(void **state)
{
    h_t *h = *state;
    sip_proxy_req_t *pr;
    sip_msg_t *inv;

    proxy_up(h, &(opts_t){ .next_hop = true, .hold = true });
    uac_invite(h);
    expect_quiet(h, &h->uas1);
    pr = sip_proxy_req_find(h->px, h->held);
    assert_non_null(pr);
    assert_string_equal(sip_msg_method(sip_proxy_req_msg(pr)), "INVITE");
    assert_int_equal(sip_proxy_forward(pr), IMS_OK);
    inv = expect_req(h, &h->uas1, "INVITE");
    assert_int_equal(max_forwards(inv), 69);
    reply(h, &h->uas1, inv, 200, TAG1);
    got_resp(h, &h->uac, 200, "INVITE");
    assert_null(sip_proxy_req_find(h->px, h->held + 1));
}

/* Held responses (sip_proxy_hold): the 180 and the 200 behind it wait, then go
 * up in order; the request stays findable after its 2xx while held. */
static void test_hold_response(void **state)
{
    h_t *h = *state;
    sip_proxy_req_t *pr;
    sip_msg_t *inv, *r;

    proxy_up(h, &(opts_t){ .next_hop = true, .hold_resp = true });
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 180, TAG1);
    expect_quiet(h, &h->uac);
    assert_true(h->resp_held);
    reply(h, &h->uas1, inv, 200, TAG1);
    expect_quiet(h, &h->uac);
    assert_int_equal(h->resp_seen, 2);
    pr = sip_proxy_req_find(h->px, h->held);
    assert_non_null(pr);
    assert_true(sip_proxy_held(pr));
    assert_int_equal(sip_proxy_hold(pr), IMS_ERROR); /* not inside on_response */
    assert_int_equal(sip_proxy_resume(pr, 0, NULL), IMS_OK);
    got_resp(h, &h->uac, 180, "INVITE");
    r = expect_resp(h, &h->uac, 200, "INVITE");
    assert_string_equal(top_branch(r), BR_UAC);
    expect_quiet(h, &h->uac);
    assert_null(sip_proxy_req_find(h->px, h->held)); /* answered and let go of */
}

/* A hold that fails: what was held (a 2xx too) is dropped, the code goes up
 * instead, and a second resume finds nothing held. */
static void test_hold_fails(void **state)
{
    h_t *h = *state;
    sip_proxy_req_t *pr;
    sip_msg_t *inv, *r;

    proxy_up(h, &(opts_t){ .next_hop = true, .hold_resp = true });
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 180, TAG1);
    reply(h, &h->uas1, inv, 200, TAG1);
    expect_quiet(h, &h->uac);
    pr = sip_proxy_req_find(h->px, h->held);
    assert_non_null(pr);
    assert_int_equal(sip_proxy_resume_retry(pr, 503, "Policy refused", 10), IMS_OK);
    r = expect_resp(h, &h->uac, 503, "INVITE");
    assert_string_equal(r->m->reason_phrase, "Policy refused");
    assert_non_null(strstr(h->raw, "\r\nRetry-After: 10\r\n"));
    uac_ack(h, r);
    expect_quiet(h, &h->uac);
    assert_null(sip_proxy_req_find(h->px, h->held));
    assert_int_equal(sip_proxy_stats(h->px)->local_replies, 1);
}

/* While a provisional is held, a final from downstream waits behind it: the
 * branch's 486 goes up after the 180 when the hold ends. */
static void test_hold_then_final(void **state)
{
    h_t *h = *state;
    sip_proxy_req_t *pr;
    sip_msg_t *inv, *r;

    proxy_up(h, &(opts_t){ .next_hop = true, .hold_resp = true });
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 180, TAG1);
    reply(h, &h->uas1, inv, 486, TAG1);
    expect_ack_for(h, &h->uas1, inv);
    expect_quiet(h, &h->uac);
    pr = sip_proxy_req_find(h->px, h->held);
    assert_non_null(pr);
    assert_int_equal(sip_proxy_resume(pr, 0, NULL), IMS_OK);
    assert_int_equal(sip_proxy_resume(pr, 0, NULL), IMS_ERROR);
    got_resp(h, &h->uac, 180, "INVITE");
    r = expect_resp(h, &h->uac, 486, "INVITE");
    uac_ack(h, r);
}

/* The handler learns what our Route entry carried ("orig", an ODI token); the
 * request coming back through us from an AS (our Via inside it) by another
 * entry of ours is no loop, while the very same request again is (482). */
static void test_route_note(void **state)
{
    h_t *h = *state;
    sip_proxy_req_t *pr;
    sip_msg_t *inv;
    char hdrs[600], *via = NULL;

    proxy_up(h, &(opts_t){ .next_hop = true, .hold = true });
    snprintf(hdrs, sizeof(hdrs), "Route: <sip:orig@127.0.0.1:%u;lr>\r\nMax-Forwards: 70\r\n",
             h->port);
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, BR_UAC, hdrs, NULL });
    got_resp(h, &h->uac, 100, "INVITE");
    pr = sip_proxy_req_find(h->px, h->held);
    assert_non_null(pr);
    assert_string_equal(sip_proxy_req_route_user(pr), "orig");
    assert_true(sip_proxy_req_route_orig(pr));
    assert_int_equal(osip_list_size(&sip_proxy_req_msg(pr)->m->routes), 0);
    assert_int_equal(sip_proxy_forward(pr), IMS_OK);
    inv = expect_req(h, &h->uas1, "INVITE");
    assert_int_equal(osip_via_to_str(sip_msg_top_via(inv), &via), 0);
    /* Back from the AS by its ODI: our Via inside, a new branch on top. */
    snprintf(hdrs, sizeof(hdrs), "Via: %s\r\nRoute: <sip:odi-7f3a@127.0.0.1:%u;lr>\r\n"
             "Max-Forwards: 69\r\n", via, h->port);
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, "z9hG4bKfromas1", hdrs, NULL });
    got_resp(h, &h->uac, 100, "INVITE");
    pr = sip_proxy_req_find(h->px, h->held);
    assert_non_null(pr); /* held by the handler, not answered 482 */
    assert_string_equal(sip_proxy_req_route_user(pr), "odi-7f3a");
    assert_false(sip_proxy_req_route_orig(pr));
    /* The same request by the same entry as the first time: a loop. */
    snprintf(hdrs, sizeof(hdrs), "Via: %s\r\nRoute: <sip:orig@127.0.0.1:%u;lr>\r\n"
             "Max-Forwards: 69\r\n", via, h->port);
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, "z9hG4bKfromas2", hdrs, NULL });
    got_resp(h, &h->uac, 482, "INVITE");
    osip_free(via);
}

/* The outbound proxy takes requests outside a dialog; within one (To tag, no
 * Route left) the Request-URI, the remote target, is the next hop. */
static void test_outbound_outside_dialogs_only(void **state)
{
    h_t *h = *state;
    char ruri[64];
    sip_msg_t *r;

    proxy_up(h, &(opts_t){ .outbound = true });
    snprintf(ruri, sizeof(ruri), "sip:bob@127.0.0.1:%u", h->uas1.port);
    send_rq(h, &h->uac, &(rq_t){ "MESSAGE", ruri, BR_UAC, NULL, NULL });
    r = expect_req(h, &h->uas2, "MESSAGE");
    assert_string_equal(r->m->req_uri->port, ruri + strlen("sip:bob@127.0.0.1:"));
    reply(h, &h->uas2, r, 200, TAG2);
    got_resp(h, &h->uac, 200, "MESSAGE");
    expect_quiet(h, &h->uas1);
    send_rq(h, &h->uac, &(rq_t){ "BYE", ruri, "z9hG4bKindialog", NULL, TAG1 });
    r = expect_req(h, &h->uas1, "BYE");
    reply(h, &h->uas1, r, 200, NULL);
    got_resp(h, &h->uac, 200, "BYE");
    expect_quiet(h, &h->uas2);
}

/* The handler's on_ack sees the ACK for a 2xx before it is forwarded: it may take
 * it (a P-CSCF drops those of unregistered sources) or let the core forward it;
 * on_ack_dest may then change where it goes. */
static void test_ack_hook(void **state)
{
    h_t *h = *state;
    char ruri[64];

    proxy_up(h, &(opts_t){ .ack_hook = true });
    snprintf(ruri, sizeof(ruri), "sip:bob@127.0.0.1:%u", h->uas1.port);
    send_raw_ack(h, ruri, "drop");
    expect_quiet(h, &h->uas1);
    assert_int_equal(h->acks_dropped, 1);
    send_raw_ack(h, ruri, "keep");
    expect_req(h, &h->uas1, "ACK");
    assert_int_equal(h->acks_dropped, 1);
    send_raw_ack(h, ruri, "move");
    expect_req(h, &h->uas2, "ACK");
    expect_quiet(h, &h->uas1);
    assert_int_equal(sip_proxy_stats(h->px)->stateless_acks, 3);
}

/* A CANCEL while the handler still decides is answered for it: 487. */
static void test_cancel_while_held(void **state)
{
    h_t *h = *state;
    sip_proxy_req_t *pr;
    sip_msg_t *r;

    proxy_up(h, &(opts_t){ .next_hop = true, .hold = true });
    uac_invite(h);
    send_rq(h, &h->uac, &(rq_t){ "CANCEL", h->self_uri, BR_UAC, NULL, NULL });
    got_resp(h, &h->uac, 200, "CANCEL");
    r = expect_resp(h, &h->uac, 487, "INVITE");
    uac_ack(h, r);
    /* Answered: the proxy let go of it (its transaction waits out Timer I
     * alone), so the handler's late lookup finds nothing to forward. */
    pr = sip_proxy_req_find(h->px, h->held);
    assert_null(pr);
    expect_quiet(h, &h->uas1);
    expect_quiet(h, &h->uac);
}

/* ---- 8. §16.10 CANCEL ---- */

static void test_cancel(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv, *r, *can;

    proxy_up(h, &(opts_t){ .next_hop = true });
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 180, TAG1);
    got_resp(h, &h->uac, 180, "INVITE");
    send_rq(h, &h->uac, &(rq_t){ "CANCEL", h->self_uri, BR_UAC, NULL, NULL });
    got_resp(h, &h->uac, 200, "CANCEL");
    can = expect_req(h, &h->uas1, "CANCEL");
    assert_string_equal(top_branch(can), top_branch(inv));
    assert_int_equal(sip_msg_cseq_num(can), sip_msg_cseq_num(inv));
    reply(h, &h->uas1, can, 200, TAG1);
    reply(h, &h->uas1, inv, 487, TAG1);
    r = expect_resp(h, &h->uac, 487, "INVITE");
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 1);
    expect_ack_for(h, &h->uas1, inv);
    uac_ack(h, r);
    expect_quiet(h, &h->uac);
    expect_quiet(h, &h->uas1);
}

/* A forwarded INVITE our own parser refuses (the UAC's 256 header lines and
 * our Via), answered with the raw 400 a CSCF would send: the ACK is still
 * built, as the proxy keeps what an ACK or a CANCEL needs when it forwards
 * instead of reading back the text it sent. */
static void test_ack_for_unparsable_forward(void **state)
{
    h_t *h = *state;
    char hdrs[3000], branch[128], *r400;
    const char *b, *why;
    sip_msg_t *m = NULL;
    size_t n = 0, rl = 0;

    proxy_up(h, &(opts_t){ .next_hop = true });
    n += (size_t)snprintf(hdrs + n, sizeof(hdrs) - n, "Max-Forwards: 70\r\n");
    for (int i = 0; i < 248; i++)
        n += (size_t)snprintf(hdrs + n, sizeof(hdrs) - n, "X-A%d: v\r\n", i);
    assert_true(n < sizeof(hdrs));
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, BR_UAC, hdrs, NULL });
    assert_true(recv_raw(h, &h->uas1, WAIT_MS));
    assert_memory_equal(h->raw, "INVITE ", 7);
    assert_int_equal(sip_msg_parse(h->raw, h->raw_len, NULL, sizeof(h->raw), &m, &why),
                     SIP_PARSE_BAD);
    assert_non_null(b = strstr(h->raw, "branch="));
    snprintf(branch, sizeof(branch), "%.*s", (int)strcspn(b, ";\r\n"), b);
    r400 = sip_msg_raw_400(h->raw, h->raw_len, why, &rl);
    assert_non_null(r400);
    send_raw(h, &h->uas1, r400, rl);
    free(r400);
    assert_true(recv_raw(h, &h->uas1, WAIT_MS));
    assert_memory_equal(h->raw, "ACK ", 4);
    assert_non_null(strstr(h->raw, branch));
}

/* §9.1: a CANCEL waits at the proxy until the branch has had a provisional. */
static void test_cancel_before_provisional(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv, *can, *r;

    proxy_up(h, &(opts_t){ .next_hop = true, .t1_ms = 1000 }); /* no retransmission here */
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    send_rq(h, &h->uac, &(rq_t){ "CANCEL", h->self_uri, BR_UAC, NULL, NULL });
    got_resp(h, &h->uac, 200, "CANCEL");
    expect_quiet(h, &h->uas1);
    reply(h, &h->uas1, inv, 180, TAG1);
    can = expect_req(h, &h->uas1, "CANCEL");
    assert_string_equal(top_branch(can), top_branch(inv));
    reply(h, &h->uas1, can, 200, TAG1);
    reply(h, &h->uas1, inv, 487, TAG1);
    expect_ack_for(h, &h->uas1, inv);
    got_resp(h, &h->uac, 180, "INVITE");
    r = expect_resp(h, &h->uac, 487, "INVITE");
    uac_ack(h, r);
    assert_int_equal(sip_proxy_stats(h->px)->cancels, 1);
}

/* A UAS that ignores the CANCEL: §9.1's 64*T1 guard ends the branch, and the
 * UAC still gets a final response (the timeout's 408). */
static void test_cancel_ignored(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv, *r;

    proxy_up(h, &(opts_t){ .next_hop = true, .t1_ms = 10 }); /* the guard: 640 ms */
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 180, TAG1);
    got_resp(h, &h->uac, 180, "INVITE");
    send_rq(h, &h->uac, &(rq_t){ "CANCEL", h->self_uri, BR_UAC, NULL, NULL });
    got_resp(h, &h->uac, 200, "CANCEL");
    r = expect_resp(h, &h->uac, 408, "INVITE");
    uac_ack(h, r);
    wait_req(h, &h->uas1, "CANCEL", NULL);
}

static void test_cancel_unknown(void **state)
{
    h_t *h = *state;

    proxy_up(h, &(opts_t){ .next_hop = true });
    send_rq(h, &h->uac, &(rq_t){ "CANCEL", h->self_uri, BR_UAC, NULL, NULL });
    got_resp(h, &h->uac, 481, "CANCEL");
    expect_quiet(h, &h->uas1);
}

/* ---- 9. forking through a handler ---- */

static void fork_start(h_t *h, sip_msg_t **inv1, sip_msg_t **inv2)
{
    proxy_up(h, &(opts_t){ .fork = true });
    uac_invite(h);
    *inv1 = expect_req(h, &h->uas1, "INVITE");
    *inv2 = expect_req(h, &h->uas2, "INVITE");
    assert_string_not_equal(top_branch(*inv1), top_branch(*inv2));
    assert_int_equal(max_forwards(*inv1), 69);
    assert_int_equal(max_forwards(*inv2), 69);
}

/* UAS2 rings, so a CANCEL can reach it at once. */
static void fork_ring2(h_t *h, const sip_msg_t *inv2)
{
    sip_msg_t *r;

    reply(h, &h->uas2, inv2, 180, TAG2);
    r = expect_resp(h, &h->uac, 180, "INVITE");
    assert_string_equal(sip_msg_to_tag(r), TAG2);
}

/* UAS2 is cancelled: it answers the CANCEL and 487, and the proxy ACKs the 487. */
static void fork_cancelled2(h_t *h, const sip_msg_t *inv2)
{
    sip_msg_t *can = expect_req(h, &h->uas2, "CANCEL");

    assert_string_equal(top_branch(can), top_branch(inv2));
    /* Nothing new upstream meanwhile: a 6xx waits for the other branches
     * (§16.7 item 5), and the UAC already has the 2xx. */
    assert_false(recv_raw(h, &h->uac, 0));
    reply(h, &h->uas2, can, 200, TAG2);
    reply(h, &h->uas2, inv2, 487, TAG2);
    expect_ack_for(h, &h->uas2, inv2);
}

static void test_fork_two_4xx(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv1, *inv2, *r;
    int code;

    fork_start(h, &inv1, &inv2);
    reply(h, &h->uas1, inv1, 486, TAG1);
    expect_ack_for(h, &h->uas1, inv1);
    reply(h, &h->uas2, inv2, 404, TAG2);
    expect_ack_for(h, &h->uas2, inv2);
    r = next_msg(h, &h->uac, WAIT_MS);
    assert_non_null(r);
    track(h, r);
    code = sip_msg_status(r);
    assert_true(code == 486 || code == 404);
    assert_string_equal(sip_msg_cseq_method(r), "INVITE");
    assert_int_equal(osip_list_size(sip_msg_vias(r)), 1);
    uac_ack(h, r);
    expect_quiet(h, &h->uac); /* exactly one final */
}

static void test_fork_6xx_cancels(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv1, *inv2, *r;

    fork_start(h, &inv1, &inv2);
    fork_ring2(h, inv2);
    reply(h, &h->uas1, inv1, 603, TAG1);
    expect_ack_for(h, &h->uas1, inv1);
    fork_cancelled2(h, inv2);
    r = expect_resp(h, &h->uac, 603, "INVITE");
    assert_string_equal(sip_msg_to_tag(r), TAG1);
    uac_ack(h, r);
    expect_quiet(h, &h->uac);
}

static void test_fork_2xx_cancels(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv1, *inv2, *r;

    fork_start(h, &inv1, &inv2);
    fork_ring2(h, inv2);
    reply(h, &h->uas1, inv1, 200, TAG1);
    r = expect_resp(h, &h->uac, 200, "INVITE");
    assert_string_equal(sip_msg_to_tag(r), TAG1);
    fork_cancelled2(h, inv2);
    expect_quiet(h, &h->uac); /* the 487 stays at the proxy */
}

/* Both forks answer 2xx before the CANCEL can act: both go up (§16.7 item 5). */
static void test_fork_two_2xx(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv1, *inv2, *r;

    fork_start(h, &inv1, &inv2);
    reply(h, &h->uas1, inv1, 200, TAG1);
    r = expect_resp(h, &h->uac, 200, "INVITE");
    assert_string_equal(sip_msg_to_tag(r), TAG1);
    reply(h, &h->uas2, inv2, 200, TAG2); /* no provisional: no CANCEL was sent */
    r = expect_resp(h, &h->uac, 200, "INVITE");
    assert_string_equal(sip_msg_to_tag(r), TAG2);
    expect_quiet(h, &h->uas2);
}

static void test_503_becomes_500(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv, *r;

    proxy_up(h, &(opts_t){ .next_hop = true });
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 503, TAG1);
    expect_ack_for(h, &h->uas1, inv);
    r = expect_resp(h, &h->uac, 500, "INVITE");
    uac_ack(h, r);
    expect_quiet(h, &h->uac);
}

/* ---- 10, 11. Timer B and Timer C ---- */

static void test_timeout_408(void **state)
{
    h_t *h = *state;
    sip_msg_t *r;
    uint64_t t0;

    proxy_up(h, &(opts_t){ .next_hop = true, .t1_ms = 10 });
    t0 = now_ms();
    uac_invite(h);
    expect_req(h, &h->uas1, "INVITE"); /* then retransmissions, unanswered */
    r = expect_resp(h, &h->uac, 408, "INVITE");
    /* Timer B is 64*T1 = 640 ms. */
    assert_true(now_ms() - t0 >= 600);
    uac_ack(h, r);
}

static void test_timer_c(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv, *r, *can;
    uint64_t t0;

    proxy_up(h, &(opts_t){ .next_hop = true, .timer_c_ms = 300 });
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv, 180, TAG1);
    t0 = now_ms();
    got_resp(h, &h->uac, 180, "INVITE");
    can = expect_req(h, &h->uas1, "CANCEL");
    assert_true(now_ms() - t0 >= 250); /* Timer C, restarted by the 180 */
    assert_string_equal(top_branch(can), top_branch(inv));
    assert_int_equal(sip_proxy_stats(h->px)->timer_c, 1);
    reply(h, &h->uas1, can, 200, TAG1);
    reply(h, &h->uas1, inv, 487, TAG1);
    expect_ack_for(h, &h->uas1, inv);
    r = expect_resp(h, &h->uac, 487, "INVITE");
    uac_ack(h, r);
}

/* Timer C on a branch that never answered: a 408, as §16.8 says. */
static void test_timer_c_silent(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv, *r;
    uint64_t t0;

    proxy_up(h, &(opts_t){ .next_hop = true, .timer_c_ms = 300 });
    t0 = now_ms();
    uac_invite(h);
    inv = expect_req(h, &h->uas1, "INVITE");
    r = expect_resp(h, &h->uac, 408, "INVITE");
    assert_true(now_ms() - t0 >= 250);
    assert_int_equal(sip_proxy_stats(h->px)->timer_c, 1);
    uac_ack(h, r);
    /* The UAS wakes up and rings: nobody is upstream any more, so the branch
     * must be CANCELled (§16.7 item 10: a final went up, cancel what is pending). */
    reply(h, &h->uas1, inv, 180, TAG1);
    wait_req(h, &h->uas1, "CANCEL", NULL);
    expect_quiet(h, &h->uac);
}

/* ---- 12. nowhere to go ---- */

static void test_unresolvable_target(void **state)
{
    h_t *h = *state;
    sip_msg_t *r;

    proxy_up(h, &(opts_t){ 0 });
    send_rq(h, &h->uac, &(rq_t){ "INVITE", "sip:bob@not-an-ip.example", BR_UAC, NULL, NULL });
    r = expect_resp(h, &h->uac, 500, "INVITE"); /* §16.9: 503, sent as 500 */
    uac_ack(h, r);
    /* Still alive. */
    send_rq(h, &h->uac, &(rq_t){ "OPTIONS", h->self_uri, "z9hG4bKuac3", NULL, NULL });
    got_resp(h, &h->uac, 200, "OPTIONS");
}

static void test_addressed_to_proxy(void **state)
{
    h_t *h = *state;
    sip_msg_t *r;

    proxy_up(h, &(opts_t){ 0 });
    send_rq(h, &h->uac, &(rq_t){ "OPTIONS", h->self_uri, "z9hG4bKuac3", NULL, NULL });
    got_resp(h, &h->uac, 200, "OPTIONS");
    send_rq(h, &h->uac, &(rq_t){ "INVITE", h->self_uri, BR_UAC, NULL, NULL });
    r = expect_resp(h, &h->uac, 404, "INVITE");
    uac_ack(h, r);
    expect_quiet(h, &h->uas1);
}

/* ---- 13. on_failure and the reply timeout (an S-CSCF's AS and DefaultHandling) ---- */

/* The AS (UAS1) is silent: given up after the reply timeout, far before Timer B;
 * the handler goes on to UAS2, whose answer the UAC gets; the late AS is cancelled. */
static void test_reply_timeout_reforward(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv1, *inv2;
    uint64_t t0, dt;

    proxy_up(h, &(opts_t){ .reply_ms = 200, .reforward = true });
    t0 = now_ms();
    uac_invite(h);
    inv1 = expect_req(h, &h->uas1, "INVITE");
    inv2 = expect_req(h, &h->uas2, "INVITE");
    dt = now_ms() - t0;
    assert_true(dt >= 150 && dt < 450); /* before UAS1's first retransmission (T1) */
    assert_int_equal(h->failures, 1);
    assert_int_equal(h->fail_code, 408);
    assert_false(h->fail_replied);
    reply(h, &h->uas2, inv2, 180, TAG2);
    got_resp(h, &h->uac, 180, "INVITE");
    expect_quiet(h, &h->uac);   /* UAS2 got no reply timeout: it may ring for long */
    reply(h, &h->uas2, inv2, 200, TAG2);
    got_resp(h, &h->uac, 200, "INVITE");
    reply(h, &h->uas1, inv1, 180, TAG1);
    wait_req(h, &h->uas1, "CANCEL", NULL);
    expect_quiet(h, &h->uac);
    assert_int_equal(h->failures, 1);
}

/* The handler declines: the UAC gets the 408 at once. */
static void test_reply_timeout_declined(void **state)
{
    h_t *h = *state;
    sip_msg_t *r;
    uint64_t t0, dt;

    proxy_up(h, &(opts_t){ .reply_ms = 200 });
    t0 = now_ms();
    uac_invite(h);
    expect_req(h, &h->uas1, "INVITE");
    r = expect_resp(h, &h->uac, 408, "INVITE");
    dt = now_ms() - t0;
    assert_true(dt >= 150 && dt < 1000);
    assert_int_equal(h->failures, 1);
    assert_false(h->fail_replied);
    uac_ack(h, r);
    expect_quiet(h, &h->uas2);
}

/* A 100 ends the reply timeout; the AS's own failure reaches on_failure (replied),
 * and the new round's best response is its own: UAS2's 486, not UAS1's 603. */
static void test_failure_new_round(void **state)
{
    h_t *h = *state;
    sip_msg_t *inv1, *inv2, *r;

    proxy_up(h, &(opts_t){ .reply_ms = 200, .reforward = true });
    uac_invite(h);
    inv1 = expect_req(h, &h->uas1, "INVITE");
    reply(h, &h->uas1, inv1, 100, NULL);
    expect_quiet_ms(h, &h->uas2, 400);
    assert_int_equal(h->failures, 0);
    reply(h, &h->uas1, inv1, 603, TAG1);
    expect_ack_for(h, &h->uas1, inv1);
    inv2 = expect_req(h, &h->uas2, "INVITE");
    assert_int_equal(h->failures, 1);
    assert_int_equal(h->fail_code, 603);
    assert_true(h->fail_replied);
    expect_quiet(h, &h->uac);
    reply(h, &h->uas2, inv2, 486, TAG2);
    expect_ack_for(h, &h->uas2, inv2);
    r = expect_resp(h, &h->uac, 486, "INVITE");
    assert_int_equal(h->failures, 2);
    uac_ack(h, r);
}

/* RFC 3263 §4.2: the default port follows the transport (5061 for TLS). */
static void test_uri_dest_ports(void **state)
{
    static const struct { const char *uri; int rc; sip_proto_t proto; uint16_t port; } c[] = {
        { "sip:a@127.0.0.1", IMS_OK, SIP_PROTO_UDP, 5060 },
        { "sip:a@127.0.0.1;transport=tcp", IMS_OK, SIP_PROTO_TCP, 5060 },
        { "sip:a@127.0.0.1;transport=tls", IMS_OK, SIP_PROTO_TLS, 5061 },
        { "sip:a@127.0.0.1:5070;transport=TLS", IMS_OK, SIP_PROTO_TLS, 5070 },
        { "sips:a@127.0.0.1", IMS_OK, SIP_PROTO_TLS, 5061 },
        { "sip:a@127.0.0.1;transport=sctp", IMS_ERROR, SIP_PROTO_UDP, 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        osip_uri_t *u = NULL;
        sip_dest_t d;

        assert_int_equal(osip_uri_init(&u), 0);
        assert_int_equal(osip_uri_parse(u, c[i].uri), 0);
        assert_int_equal(sip_proxy_uri_dest(u, &d), c[i].rc);
        if (c[i].rc == IMS_OK) {
            assert_int_equal(d.proto, c[i].proto);
            assert_int_equal(sip_addr_port(&d.addr), c[i].port);
        }
        osip_uri_free(u);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_dest_ports),
        cmocka_unit_test_setup_teardown(test_forward_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_forwards_inserted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_route_two_interfaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loose_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strict_router_request_uri, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_forwards_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spiral_forwarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proxy_require, setup, teardown),
        cmocka_unit_test_setup_teardown(test_responses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invite_retransmission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stray_2xx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_while_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_then_final, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_note, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbound_outside_dialogs_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_before_provisional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_for_unparsable_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_two_4xx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_6xx_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_2xx_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_two_2xx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_503_becomes_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_408, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_c_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unresolvable_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_addressed_to_proxy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_timeout_reforward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_timeout_declined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_new_round, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trying_delayed, setup, teardown),
    };

    sip_msg_global_init();
    ims_log_init("test_proxy", IMS_LOG_WARN, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
