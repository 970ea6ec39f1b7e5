/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The transaction layer (RFC 3261 §17, RFC 6026) on a driven clock, with real
 * sockets on 127.0.0.1: the layer's transport listens on UDP and TCP, and the
 * test's peer is a plain socket. Each test moves the clock to the instants a
 * timer is due (and 1 ms before) and counts what reaches the peer, so the
 * retransmission schedules of Timers A, E and G and the ends B, D, F, H, I,
 * J, K, L, M are checked to the millisecond.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "common/sip/msg.h"
#include "common/sip/transport.h"
#include "common/sip/txn.h"

#define MAXCB 64
#define BUFSZ 65536

typedef struct fx {
    ims_loop_t *loop;
    sip_transport_t *tp;
    sip_txn_layer_t *layer;
    uint16_t udp_port; /* the layer's */
    uint16_t tcp_port;
    int peer; /* the peer's UDP socket */
    uint16_t peer_port;
    sip_dest_t to_peer; /* UDP to the peer */
    /* what the layer told the TU */
    int nreq, nack, nstray, nend, ncb, nerr;
    int codes[MAXCB];
    sip_txn_err_t err;
    sip_txn_t *st;       /* the last server transaction created */
    int auto_code;       /* reply this from inside on_request (0: don't) */
    int auto_final_seen; /* final code read back inside on_request */
    /* the last message the peer read */
    char last[BUFSZ];
    char tmp[BUFSZ];
} fx_t;

/* ---- callbacks ---- */

static void on_recv(void *arg, sip_msg_t *msg)
{
    fx_t *f = arg;

    sip_txn_layer_input(f->layer, msg);
}

static void on_end(void *arg, sip_txn_t *t)
{
    ((fx_t *)arg)->nend++;
}

static void on_request(void *arg, sip_txn_t *st, const sip_msg_t *req)
{
    fx_t *f = arg;

    f->nreq++;
    f->st = st;
    sip_txn_set_on_end(st, on_end, f);
    if (f->auto_code) {
        assert_int_equal(sip_txn_server_reply_code(st, f->auto_code, NULL), IMS_OK);
        /* Even with a zero Timer J the transaction must still be alive here. */
        f->auto_final_seen = sip_txn_final_code(st);
    }
}

static void on_ack(void *arg, sip_msg_t *ack)
{
    ((fx_t *)arg)->nack++;
    sip_msg_free(ack);
}

static void on_stray(void *arg, sip_msg_t *resp)
{
    ((fx_t *)arg)->nstray++;
    sip_msg_free(resp);
}

static void client_cb(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    fx_t *f = arg;

    if (resp) {
        assert_int_equal(err, SIP_TXN_OK);
        if (f->ncb < MAXCB)
            f->codes[f->ncb] = sip_msg_status(resp);
        f->ncb++;
        sip_msg_free(resp);
    } else {
        f->nerr++;
        f->err = err;
    }
}

/* ---- fixture ---- */

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    sip_txn_user_t user = { .on_request = on_request,
                            .on_ack = on_ack,
                            .on_stray_response = on_stray };
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof(a);
    sip_addr_t local;

    assert_non_null(f);
    ims_clock_drive(true, 0);
    f->loop = ims_loop_new();
    f->tp = sip_transport_new(f->loop, NULL, on_recv, f);
    assert_non_null(f->tp);
    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_UDP, "127.0.0.1", 0), IMS_OK);
    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_TCP, "127.0.0.1", 0), IMS_OK);
    f->layer = sip_txn_layer_new(f->loop, f->tp, NULL);
    assert_non_null(f->layer);
    sip_txn_layer_set_user(f->layer, &user, f);
    assert_int_equal(sip_transport_local(f->tp, SIP_PROTO_UDP, AF_INET, &local), IMS_OK);
    f->udp_port = sip_addr_port(&local);
    assert_int_equal(sip_transport_local(f->tp, SIP_PROTO_TCP, AF_INET, &local), IMS_OK);
    f->tcp_port = sip_addr_port(&local);

    f->peer = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(f->peer >= 0);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(bind(f->peer, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(f->peer, (struct sockaddr *)&a, &alen), 0);
    f->peer_port = ntohs(a.sin_port);
    f->to_peer.proto = SIP_PROTO_UDP;
    assert_int_equal(sip_addr_from(&f->to_peer.addr, "127.0.0.1", f->peer_port), IMS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;

    sip_txn_layer_free(f->layer);
    sip_transport_free(f->tp);
    ims_loop_free(f->loop);
    close(f->peer);
    ims_clock_drive(false, 0);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* Sockets are real: give the loop a few turns to read what is waiting. */
static void pump(fx_t *f)
{
    for (int i = 0; i < 4; i++)
        ims_loop_run_once(f->loop, 0);
}

/* Move the driven clock to ms and run what is due. */
static void at(fx_t *f, uint64_t ms)
{
    uint64_t now = ims_clock_now_ms();

    assert_true(ms >= now);
    ims_clock_advance(ms - now);
    ims_loop_run_timers(f->loop);
    pump(f);
}

/* How many datagrams reached the peer since the last call; the last one is in f->last. */
static int peer_read(fx_t *f)
{
    int n = 0;
    ssize_t r;

    while ((r = recv(f->peer, f->tmp, sizeof(f->tmp) - 1, MSG_DONTWAIT)) >= 0) {
        memcpy(f->last, f->tmp, (size_t)r);
        f->last[r] = '\0';
        n++;
    }
    return n;
}

static void peer_send(fx_t *f, const char *text)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(f->udp_port) };

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(sendto(f->peer, text, strlen(text), 0, (struct sockaddr *)&a, sizeof(a)),
                     (ssize_t)strlen(text));
    pump(f);
}

static sip_msg_t *parse(const char *text)
{
    sip_msg_t *m = NULL;
    const char *reason = NULL;
    sip_rcv_t rcv;

    memset(&rcv, 0, sizeof(rcv));
    assert_int_equal(sip_msg_parse(text, strlen(text), &rcv, BUFSZ, &m, &reason), SIP_PARSE_OK);
    return m;
}

/* The peer answers req_text (a request it read) with code. */
static void peer_reply(fx_t *f, const char *req_text, int code, const char *tag)
{
    sip_msg_t *req = parse(req_text);
    sip_msg_t *resp = sip_msg_make_response(req, code, NULL, tag);
    char *text = NULL;
    size_t len = 0;

    assert_non_null(resp);
    assert_int_equal(sip_msg_to_str(resp, &text, &len), IMS_OK);
    peer_send(f, text);
    osip_free(text);
    sip_msg_free(resp);
    sip_msg_free(req);
}

/* A request from the peer, as a UAC next to us would send it. */
static void peer_request(fx_t *f, const char *method, const char *branch, const char *to_tag)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "%s sip:svc@127.0.0.1:%u SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@example.com>;tag=f1\r\n"
             "To: <sip:svc@example.com>%s%s\r\n"
             "Call-ID: srv-1@test\r\n"
             "CSeq: 1 %s\r\n"
             "Content-Length: 0\r\n\r\n",
             method, f->udp_port, f->peer_port, branch, to_tag ? ";tag=" : "", to_tag ? to_tag : "",
             method);
    peer_send(f, text);
}

/* A request from "upstream" for the layer to send as a client transaction. */
static sip_msg_t *client_request(fx_t *f, const char *method)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "%s sip:bob@127.0.0.1:%u SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKupstream1\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@example.com>;tag=a1\r\n"
             "To: <sip:bob@example.com>\r\n"
             "Call-ID: call-1@test\r\n"
             "CSeq: 7 %s\r\n"
             "Route: <sip:127.0.0.1:%u;lr>\r\n"
             "Contact: <sip:alice@10.0.0.1>\r\n"
             "Content-Length: 0\r\n\r\n",
             method, f->peer_port, method, f->peer_port);
    return parse(text);
}

static sip_txn_t *start(fx_t *f, const char *method, const sip_dest_t *dst)
{
    sip_txn_t *ct =
        sip_txn_client_start(f->layer, client_request(f, method), dst, "H1.", client_cb, f);

    assert_non_null(ct);
    assert_false(sip_txn_is_server(ct));
    sip_txn_set_on_end(ct, on_end, f);
    return ct;
}

/* Exactly one datagram at each instant of times[], none 1 ms before. */
static void expect_schedule(fx_t *f, const uint64_t *times, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        at(f, times[i] - 1);
        if (peer_read(f) != 0)
            fail_msg("datagram before %llu ms", (unsigned long long)times[i]);
        at(f, times[i]);
        if (peer_read(f) != 1)
            fail_msg("no single datagram at %llu ms", (unsigned long long)times[i]);
    }
}

/* The transaction is still there at end_ms - 1 and gone (on_end once more) at end_ms. */
/* When a timer due at ms (on the driven clock, which starts at 0) fires: an
 * ending timer waits for the next step of the loop's coarse grid. */
static uint64_t grid(uint64_t ms)
{
    return (ms + IMS_TIMER_COARSE_MS - 1) / IMS_TIMER_COARSE_MS * IMS_TIMER_COARSE_MS;
}

/* The transaction ends no earlier than end_ms (the RFC 3261 timer) and no
 * later than the grid step after it. */
static void expect_end(fx_t *f, uint64_t end_ms, size_t live_before)
{
    int ends = f->nend;

    at(f, end_ms - 1);
    assert_int_equal(sip_txn_layer_count(f->layer), live_before);
    at(f, grid(end_ms) - 1);
    assert_int_equal(sip_txn_layer_count(f->layer), live_before);
    assert_int_equal(f->nend, ends);
    at(f, grid(end_ms));
    assert_int_equal(sip_txn_layer_count(f->layer), live_before - 1);
    assert_int_equal(f->nend, ends + 1);
}

static void copy_text(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);

    assert_true(len < n);
    memcpy(dst, src, len + 1);
}

static const char *top_branch(const sip_msg_t *m)
{
    return sip_msg_via_branch(sip_msg_top_via(m));
}

/* ---- client: INVITE ---- */

static void test_ict_timer_a_then_b(void **state)
{
    fx_t *f = *state;
    static const uint64_t a[] = { 500, 1500, 3500, 7500, 15500, 31500 };
    char via[128];

    start(f, "INVITE", &f->to_peer);
    assert_int_equal(peer_read(f), 1);
    snprintf(via, sizeof(via), "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKH1.", f->udp_port);
    assert_non_null(strstr(f->last, via));
    assert_non_null(strstr(f->last, ";rport"));
    assert_non_null(strstr(f->last, "branch=z9hG4bKupstream1")); /* still below ours */
    assert_int_equal(sip_txn_layer_count(f->layer), 1);
    expect_schedule(f, a, IMS_ARRAY_LEN(a));
    at(f, 31999);
    assert_int_equal(f->nerr, 0);
    at(f, 32000); /* Timer B */
    assert_int_equal(f->nerr, 1);
    assert_int_equal(f->err, SIP_TXN_TIMEOUT);
    assert_int_equal(f->ncb, 0);
    assert_int_equal(f->nend, 1);
    assert_int_equal(sip_txn_layer_count(f->layer), 0);
    at(f, 100000);
    assert_int_equal(peer_read(f), 0);
    assert_int_equal(f->nerr, 1);
    assert_int_equal(f->nend, 1);
}

static void test_ict_non2xx_ack(void **state)
{
    fx_t *f = *state;
    sip_txn_t *ct = start(f, "INVITE", &f->to_peer);
    char inv_text[4096];
    sip_msg_t *inv, *ack;
    char *ruri = NULL, *ack_ruri = NULL;
    osip_route_t *route;

    assert_int_equal(peer_read(f), 1);
    copy_text(inv_text, sizeof(inv_text), f->last);
    peer_reply(f, inv_text, 486, "t486");
    assert_int_equal(f->ncb, 1);
    assert_int_equal(f->codes[0], 486);
    assert_int_equal(sip_txn_final_code(ct), 486);
    assert_int_equal(peer_read(f), 1);

    /* §17.1.1.3 */
    inv = parse(inv_text);
    ack = parse(f->last);
    assert_string_equal(sip_msg_method(ack), "ACK");
    osip_uri_to_str(inv->m->req_uri, &ruri);
    osip_uri_to_str(ack->m->req_uri, &ack_ruri);
    assert_string_equal(ack_ruri, ruri);
    assert_string_equal(sip_msg_call_id(ack), "call-1@test");
    assert_string_equal(sip_msg_from_tag(ack), "a1");
    assert_string_equal(sip_msg_to_tag(ack), "t486");
    assert_int_equal(sip_msg_cseq_num(ack), 7);
    assert_string_equal(sip_msg_cseq_method(ack), "ACK");
    assert_int_equal(osip_list_size(&ack->m->vias), 1);
    assert_string_equal(top_branch(ack), top_branch(inv));
    assert_int_equal(osip_list_size(&ack->m->routes), 1);
    route = osip_list_get(&ack->m->routes, 0);
    assert_int_equal(atoi(route->url->port), f->peer_port);
    osip_free(ruri);
    osip_free(ack_ruri);
    sip_msg_free(ack);
    sip_msg_free(inv);

    /* A retransmitted 486 is absorbed and answered with the ACK again. */
    peer_reply(f, inv_text, 486, "t486");
    assert_int_equal(f->ncb, 1);
    assert_int_equal(peer_read(f), 1);
    assert_memory_equal(f->last, "ACK ", 4);
    at(f, 1500);
    assert_int_equal(peer_read(f), 0); /* A stopped */
    expect_end(f, 32000, 1);           /* Timer D */
    assert_int_equal(f->nerr, 0);
}

static void test_ict_2xx_accepted(void **state)
{
    fx_t *f = *state;
    char inv_text[4096];

    start(f, "INVITE", &f->to_peer);
    assert_int_equal(peer_read(f), 1);
    copy_text(inv_text, sizeof(inv_text), f->last);
    peer_reply(f, inv_text, 180, "r1");
    peer_reply(f, inv_text, 200, "r1");
    assert_int_equal(f->ncb, 2);
    assert_int_equal(f->codes[1], 200);
    assert_int_equal(peer_read(f), 0);  /* the TU ACKs a 2xx */
    peer_reply(f, inv_text, 200, "r1"); /* retransmission */
    peer_reply(f, inv_text, 200, "r2"); /* another fork */
    peer_reply(f, inv_text, 486, "r3"); /* absorbed */
    assert_int_equal(f->ncb, 4);
    assert_int_equal(f->codes[3], 200);
    expect_end(f, 64 * 500, 1); /* Timer M */
    peer_reply(f, inv_text, 200, "r1");
    assert_int_equal(f->nstray, 1);
    assert_int_equal(f->ncb, 4);
    assert_int_equal(peer_read(f), 0);
}

/* ---- client: CANCEL ---- */

static void test_cancel_waits_for_provisional(void **state)
{
    fx_t *f = *state;
    sip_txn_t *ct = start(f, "INVITE", &f->to_peer);
    char inv_text[4096], cancel_text[4096];
    sip_msg_t *inv, *cancel;

    assert_int_equal(peer_read(f), 1);
    copy_text(inv_text, sizeof(inv_text), f->last);
    sip_txn_client_cancel(ct);
    assert_int_equal(peer_read(f), 0); /* §9.1: not yet */
    at(f, 500);
    assert_int_equal(peer_read(f), 1);
    assert_memory_equal(f->last, "INVITE ", 7);
    peer_reply(f, inv_text, 180, "r1");
    assert_int_equal(f->ncb, 1);
    assert_int_equal(peer_read(f), 1);
    copy_text(cancel_text, sizeof(cancel_text), f->last);

    inv = parse(inv_text);
    cancel = parse(cancel_text);
    assert_string_equal(sip_msg_method(cancel), "CANCEL");
    assert_string_equal(sip_msg_cseq_method(cancel), "CANCEL");
    assert_int_equal(sip_msg_cseq_num(cancel), 7);
    assert_null(sip_msg_to_tag(cancel));
    assert_string_equal(sip_msg_from_tag(cancel), "a1");
    assert_string_equal(sip_msg_call_id(cancel), "call-1@test");
    assert_int_equal(osip_list_size(&cancel->m->vias), 1);
    assert_string_equal(top_branch(cancel), top_branch(inv));
    assert_int_equal(osip_list_size(&cancel->m->routes), 1);
    sip_msg_free(cancel);
    sip_msg_free(inv);

    assert_int_equal(sip_txn_layer_count(f->layer), 2); /* INVITE + CANCEL */
    peer_reply(f, cancel_text, 200, "c1");
    assert_int_equal(f->ncb, 1); /* absorbed */
    peer_reply(f, inv_text, 487, "r1");
    assert_int_equal(f->ncb, 2);
    assert_int_equal(f->codes[1], 487);
    assert_int_equal(peer_read(f), 1);
    assert_memory_equal(f->last, "ACK ", 4);
    sip_txn_client_cancel(ct); /* too late: nothing */
    at(f, 40000);
    assert_int_equal(peer_read(f), 0);
    assert_int_equal(sip_txn_layer_count(f->layer), 0);
    assert_int_equal(f->nend, 1);
    assert_int_equal(f->nerr, 0);
}

static void test_cancel_after_provisional_then_silence(void **state)
{
    fx_t *f = *state;
    sip_txn_t *ct = start(f, "INVITE", &f->to_peer);

    assert_int_equal(peer_read(f), 1);
    peer_reply(f, f->last, 183, "r1");
    at(f, 100);
    sip_txn_client_cancel(ct);
    assert_int_equal(peer_read(f), 1);
    assert_memory_equal(f->last, "CANCEL ", 7);
    sip_txn_client_cancel(ct); /* once only */
    assert_int_equal(peer_read(f), 0);
    at(f, 600);
    assert_int_equal(peer_read(f), 1); /* the CANCEL's Timer E */
    assert_memory_equal(f->last, "CANCEL ", 7);
    /* §9.1: no final response 64*T1 after the CANCEL: the INVITE gives up. */
    at(f, grid(100 + 32000) - 1);
    assert_int_equal(f->nerr, 0);
    at(f, grid(100 + 32000));
    assert_int_equal(f->nerr, 1);
    assert_int_equal(f->err, SIP_TXN_TIMEOUT);
    assert_int_equal(f->ncb, 1);
    assert_int_equal(sip_txn_layer_count(f->layer), 0);
    assert_int_equal(f->nend, 1);
}

static void test_cancel_dropped_when_final_first(void **state)
{
    fx_t *f = *state;
    sip_txn_t *ct = start(f, "INVITE", &f->to_peer);

    assert_int_equal(peer_read(f), 1);
    sip_txn_client_cancel(ct);
    peer_reply(f, f->last, 486, "r1");
    assert_int_equal(f->ncb, 1);
    assert_int_equal(peer_read(f), 1);
    assert_memory_equal(f->last, "ACK ", 4);
    at(f, 1000);
    assert_int_equal(peer_read(f), 0);
    assert_int_equal(sip_txn_layer_count(f->layer), 1);
}

/* ---- client: non-INVITE ---- */

static void test_nict_timer_e_then_f(void **state)
{
    fx_t *f = *state;
    static const uint64_t e[] = { 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500 };

    start(f, "OPTIONS", &f->to_peer);
    assert_int_equal(peer_read(f), 1);
    expect_schedule(f, e, IMS_ARRAY_LEN(e));
    at(f, 31999);
    assert_int_equal(f->nerr, 0);
    at(f, 32000); /* Timer F */
    assert_int_equal(f->nerr, 1);
    assert_int_equal(f->err, SIP_TXN_TIMEOUT);
    assert_int_equal(sip_txn_layer_count(f->layer), 0);
    assert_int_equal(f->nend, 1);
    at(f, 40000);
    assert_int_equal(peer_read(f), 0);
    assert_int_equal(f->nerr, 1);
}

static void test_nict_provisional_switches_to_t2(void **state)
{
    fx_t *f = *state;
    static const uint64_t e[] = { 500, 4500, 8500 };
    char req_text[4096];
    sip_txn_t *ct;

    ct = start(f, "MESSAGE", &f->to_peer);
    assert_int_equal(peer_read(f), 1);
    copy_text(req_text, sizeof(req_text), f->last);
    at(f, 100);
    peer_reply(f, req_text, 100, NULL);
    assert_int_equal(f->ncb, 1);
    assert_int_equal(f->codes[0], 100);
    expect_schedule(f, e, IMS_ARRAY_LEN(e));
    at(f, 9000);
    peer_reply(f, req_text, 200, "m1");
    assert_int_equal(f->ncb, 2);
    assert_int_equal(f->codes[1], 200);
    assert_int_equal(sip_txn_final_code(ct), 200);
    peer_reply(f, req_text, 200, "m1"); /* absorbed */
    assert_int_equal(f->ncb, 2);
    at(f, 12500);
    assert_int_equal(peer_read(f), 0);
    expect_end(f, 9000 + 5000, 1); /* Timer K = T4 */
    assert_int_equal(f->nerr, 0);
}

static void test_client_unsendable(void **state)
{
    fx_t *f = *state;
    sip_dest_t d = { .proto = SIP_PROTO_UDP };
    sip_msg_t *ack;

    /* No IPv6 listener: no Via address, nothing sent, no callback. */
    assert_int_equal(sip_addr_from(&d.addr, "::1", 5060), IMS_OK);
    assert_null(
        sip_txn_client_start(f->layer, client_request(f, "OPTIONS"), &d, NULL, client_cb, f));
    /* An ACK is not a transaction. */
    ack = client_request(f, "ACK");
    assert_null(sip_txn_client_start(f->layer, ack, &f->to_peer, NULL, client_cb, f));
    pump(f);
    at(f, 40000);
    assert_int_equal(sip_txn_layer_count(f->layer), 0);
    assert_int_equal(f->ncb + f->nerr + f->nend, 0);
    assert_int_equal(peer_read(f), 0);
}

/* ---- server: INVITE ---- */

static void test_ist_timer_g_then_h(void **state)
{
    fx_t *f = *state;
    static const uint64_t g[] = { 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500 };

    peer_request(f, "INVITE", "z9hG4bKg1", NULL);
    assert_int_equal(f->nreq, 1);
    assert_true(sip_txn_is_server(f->st));
    assert_true(sip_txn_is_invite(f->st));
    assert_int_equal(sip_txn_server_reply_code(f->st, 486, NULL), IMS_OK);
    assert_int_equal(sip_txn_final_code(f->st), 486);
    assert_int_equal(peer_read(f), 1);
    assert_memory_equal(f->last, "SIP/2.0 486 ", 12);
    assert_null(strstr(f->last, "received=")); /* sent-by is the source */
    assert_int_equal(sip_txn_server_reply_code(f->st, 500, NULL), IMS_ERROR);
    /* Counted once, as an INVITE 4xx (the refused 500 is not). */
    assert_int_equal(sip_txn_layer_finals(f->layer, true, 4), 1);
    assert_int_equal(sip_txn_layer_finals(f->layer, true, 5), 0);
    assert_int_equal(sip_txn_layer_finals(f->layer, false, 4), 0);
    expect_schedule(f, g, IMS_ARRAY_LEN(g));
    expect_end(f, 32000, 1); /* Timer H */
    assert_int_equal(peer_read(f), 0);
    assert_int_equal(f->nack, 0);
}

static void test_ist_ack_confirms_timer_i(void **state)
{
    fx_t *f = *state;
    sip_msg_t *resp;
    char tag[64];

    peer_request(f, "INVITE", "z9hG4bKi1", NULL);
    assert_int_equal(sip_txn_server_reply_code(f->st, 486, NULL), IMS_OK);
    assert_int_equal(peer_read(f), 1);
    resp = parse(f->last);
    snprintf(tag, sizeof(tag), "%s", sip_msg_to_tag(resp));
    sip_msg_free(resp);
    at(f, 500);
    assert_int_equal(peer_read(f), 1); /* Timer G */
    at(f, 600);
    peer_request(f, "ACK", "z9hG4bKi1", tag);
    assert_int_equal(f->nack, 0);             /* absorbed */
    peer_request(f, "ACK", "z9hG4bKi1", tag); /* again, absorbed */
    assert_int_equal(f->nack, 0);
    at(f, 1500);
    assert_int_equal(peer_read(f), 0); /* G stopped */
    expect_end(f, 600 + 5000, 1);      /* Timer I = T4 */
    assert_int_equal(f->nreq, 1);
}

static void test_ist_retransmission_gets_provisional(void **state)
{
    fx_t *f = *state;

    peer_request(f, "INVITE", "z9hG4bKp1", NULL);
    peer_request(f, "INVITE", "z9hG4bKp1", NULL);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(peer_read(f), 0); /* nothing sent yet */
    assert_int_equal(sip_txn_server_reply_code(f->st, 180, NULL), IMS_OK);
    assert_int_equal(peer_read(f), 1);
    assert_memory_equal(f->last, "SIP/2.0 180 ", 12);
    peer_request(f, "INVITE", "z9hG4bKp1", NULL);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(peer_read(f), 1);
    assert_memory_equal(f->last, "SIP/2.0 180 ", 12);
    at(f, 5000);
    assert_int_equal(peer_read(f), 0); /* no G for provisionals */
    assert_int_equal(sip_txn_layer_count(f->layer), 1);
}

static void test_ist_2xx_accepted_timer_l(void **state)
{
    fx_t *f = *state;
    sip_txn_t *st;
    sip_msg_t *again, *busy;

    peer_request(f, "INVITE", "z9hG4bKa1", NULL);
    st = f->st;
    /* A UA keeps its own 2xx to retransmit (§13.3.1.4): the transaction frees
     * the request once the final response is out. */
    again = sip_msg_make_response(sip_txn_request(st), 200, NULL, "t2");
    busy = sip_msg_make_response(sip_txn_request(st), 486, NULL, "t2");
    assert_int_equal(sip_txn_server_reply_code(st, 200, NULL), IMS_OK);
    assert_non_null(sip_txn_request(st)); /* still ours on this stack */
    assert_int_equal(peer_read(f), 1);
    assert_memory_equal(f->last, "SIP/2.0 200 ", 12);
    peer_request(f, "INVITE", "z9hG4bKa1", NULL); /* absorbed */
    assert_int_equal(f->nreq, 1);
    assert_int_equal(peer_read(f), 0);
    assert_null(sip_txn_request(st)); /* shed from the loop */
    peer_request(f, "ACK", "z9hG4bKa1-ack", "x"); /* a 2xx ACK: new branch */
    assert_int_equal(f->nack, 1);
    /* RFC 6026: more 2xx may go out while Accepted; nothing else may. */
    assert_int_equal(sip_txn_server_reply(st, again), IMS_OK);
    assert_int_equal(peer_read(f), 1);
    assert_int_equal(sip_txn_server_reply(st, busy), IMS_ERROR);
    assert_int_equal(peer_read(f), 0);
    at(f, 10000);
    assert_int_equal(peer_read(f), 0); /* no G for 2xx */
    expect_end(f, 64 * 500, 1);        /* Timer L */
}

/* ---- server: non-INVITE ---- */

static void test_nist_timer_j(void **state)
{
    fx_t *f = *state;
    sip_txn_t *st;

    peer_request(f, "MESSAGE", "z9hG4bKj1", NULL);
    st = f->st;
    assert_false(sip_txn_is_invite(st));
    peer_request(f, "MESSAGE", "z9hG4bKj1", NULL);
    assert_int_equal(peer_read(f), 0); /* Trying: silent */
    assert_int_equal(sip_txn_server_reply_code(st, 200, NULL), IMS_OK);
    assert_int_equal(peer_read(f), 1);
    peer_request(f, "MESSAGE", "z9hG4bKj1", NULL);
    assert_int_equal(peer_read(f), 1); /* the 200 again */
    assert_memory_equal(f->last, "SIP/2.0 200 ", 12);
    assert_int_equal(sip_txn_server_reply_code(st, 500, NULL), IMS_ERROR);
    assert_int_equal(sip_txn_layer_finals(f->layer, false, 2), 1);
    assert_int_equal(sip_txn_layer_finals(f->layer, true, 2), 0);
    assert_int_equal(f->nreq, 1);
    at(f, 20000);
    assert_int_equal(peer_read(f), 0);             /* no retransmission */
    expect_end(f, 64 * 500, 1);                    /* Timer J */
    peer_request(f, "MESSAGE", "z9hG4bKj1", NULL); /* new after the end */
    assert_int_equal(f->nreq, 2);
}

static void test_cancel_is_its_own_server_txn(void **state)
{
    fx_t *f = *state;
    sip_txn_t *inv;

    peer_request(f, "INVITE", "z9hG4bKc1", NULL);
    inv = f->st;
    peer_request(f, "CANCEL", "z9hG4bKc1", NULL);
    assert_int_equal(f->nreq, 2);
    assert_ptr_not_equal(f->st, inv);
    assert_false(sip_txn_is_invite(f->st));
    assert_ptr_equal(sip_txn_server_find_invite(f->layer, sip_txn_request(f->st)), inv);
    assert_int_equal(sip_txn_layer_count(f->layer), 2);
}

static void test_stray_and_rport(void **state)
{
    fx_t *f = *state;
    char text[2048], want[64];
    osip_generic_param_t *p = NULL;

    snprintf(text, sizeof(text),
             "SIP/2.0 200 OK\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKnobody\r\n"
             "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
             "Call-ID: stray@test\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
             f->udp_port);
    peer_send(f, text);
    assert_int_equal(f->nstray, 1);
    peer_request(f, "ACK", "z9hG4bKnobody", "2");
    assert_int_equal(f->nack, 1);
    assert_int_equal(sip_txn_layer_count(f->layer), 0);

    /* RFC 3581: a sent-by that is not the source, and rport without a value. */
    snprintf(text, sizeof(text),
             "OPTIONS sip:svc@127.0.0.1:%u SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 192.0.2.1:5999;rport;branch=z9hG4bKrp1\r\n"
             "Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\n"
             "To: <sip:svc@example.com>\r\nCall-ID: rport@test\r\nCSeq: 1 OPTIONS\r\n"
             "Content-Length: 0\r\n\r\n",
             f->udp_port);
    peer_send(f, text);
    assert_int_equal(f->nreq, 1);
    osip_via_param_get_byname(sip_msg_top_via(sip_txn_request(f->st)), "received", &p);
    assert_non_null(p);
    assert_string_equal(p->gvalue, "127.0.0.1");
    assert_int_equal(sip_addr_port(&sip_txn_dest(f->st)->addr), f->peer_port);
    assert_int_equal(sip_txn_server_reply_code(f->st, 200, NULL), IMS_OK);
    assert_int_equal(peer_read(f), 1); /* came back to us */
    assert_non_null(strstr(f->last, "received=127.0.0.1"));
    snprintf(want, sizeof(want), "rport=%u", f->peer_port);
    assert_non_null(strstr(f->last, want));
}

/* ---- TCP ---- */

static int tcp_listener(uint16_t *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    assert_true(s >= 0);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s, 4), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return s;
}

/* Read what is waiting on a stream (pumping the loop so queued bytes go out). */
static size_t tcp_read(fx_t *f, int fd)
{
    size_t n = 0;
    ssize_t r;

    for (int i = 0; i < 20; i++) {
        pump(f);
        while ((r = recv(fd, f->tmp, sizeof(f->tmp) - 1, MSG_DONTWAIT)) > 0) {
            memcpy(f->last, f->tmp, (size_t)r);
            f->last[r] = '\0';
            n += (size_t)r;
        }
    }
    return n;
}

static void test_tcp_client_no_retransmissions(void **state)
{
    fx_t *f = *state;
    uint16_t port;
    int lsn = tcp_listener(&port), conn = -1;
    sip_dest_t d = { .proto = SIP_PROTO_TCP };

    assert_int_equal(sip_addr_from(&d.addr, "127.0.0.1", port), IMS_OK);
    start(f, "OPTIONS", &d);
    for (int i = 0; i < 50 && conn < 0; i++) {
        pump(f);
        conn = accept(lsn, NULL, NULL);
    }
    assert_true(conn >= 0);
    assert_true(tcp_read(f, conn) > 0);
    assert_memory_equal(f->last, "OPTIONS ", 8);
    assert_non_null(strstr(f->last, "Via: SIP/2.0/TCP 127.0.0.1:"));
    assert_null(strstr(f->last, "rport"));
    for (uint64_t t = 500; t < 32000; t += 500) {
        at(f, t);
        assert_int_equal(tcp_read(f, conn), 0);
    }
    assert_int_equal(f->nerr, 0);
    at(f, 32000); /* Timer F still runs */
    assert_int_equal(f->nerr, 1);
    assert_int_equal(f->err, SIP_TXN_TIMEOUT);
    assert_int_equal(sip_txn_layer_count(f->layer), 0);
    close(conn);
    close(lsn);
}

static void tcp_send_request(fx_t *f, int fd, const char *method, const char *branch)
{
    char text[2048];
    int n = snprintf(text, sizeof(text),
                     "%s sip:svc@127.0.0.1:%u SIP/2.0\r\n"
                     "Via: SIP/2.0/TCP 127.0.0.1:40000;branch=%s\r\n"
                     "Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\n"
                     "To: <sip:svc@example.com>%s\r\nCall-ID: tcp@test\r\nCSeq: 1 %s\r\n"
                     "Content-Length: 0\r\n\r\n",
                     method, f->tcp_port, branch, strcmp(method, "ACK") ? "" : ";tag=x", method);

    assert_int_equal(send(fd, text, (size_t)n, 0), n);
    for (int i = 0; i < 5; i++)
        pump(f);
}

static void test_tcp_server_zero_timers(void **state)
{
    fx_t *f = *state;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(f->tcp_port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    int one = 1;

    /* No Nagle: the test never waits in real time for a delayed ACK. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    tcp_send_request(f, fd, "INVITE", "z9hG4bKt1");
    assert_int_equal(f->nreq, 1);
    assert_int_equal(sip_txn_server_reply_code(f->st, 486, NULL), IMS_OK);
    assert_true(tcp_read(f, fd) > 0);
    assert_memory_equal(f->last, "SIP/2.0 486 ", 12);
    at(f, 500);
    at(f, 1500);
    assert_int_equal(tcp_read(f, fd), 0); /* no Timer G */
    tcp_send_request(f, fd, "ACK", "z9hG4bKt1");
    assert_int_equal(f->nack, 0);
    at(f, 1500); /* Timer I is zero */
    assert_int_equal(sip_txn_layer_count(f->layer), 0);
    assert_int_equal(f->nend, 1);

    /* A final reply from inside on_request with a zero Timer J: ended from the loop. */
    f->auto_code = 200;
    tcp_send_request(f, fd, "MESSAGE", "z9hG4bKt2");
    assert_int_equal(f->nreq, 2);
    assert_int_equal(f->auto_final_seen, 200);
    assert_true(tcp_read(f, fd) > 0);
    assert_memory_equal(f->last, "SIP/2.0 200 ", 12);
    at(f, 1500);
    assert_int_equal(sip_txn_layer_count(f->layer), 0);
    assert_int_equal(f->nend, 2);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ict_timer_a_then_b, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ict_non2xx_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ict_2xx_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_waits_for_provisional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_after_provisional_then_silence, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cancel_dropped_when_final_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nict_timer_e_then_f, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nict_provisional_switches_to_t2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_unsendable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ist_timer_g_then_h, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ist_ack_confirms_timer_i, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ist_retransmission_gets_provisional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ist_2xx_accepted_timer_l, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nist_timer_j, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_is_its_own_server_txn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stray_and_rport, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_client_no_retransmissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_server_zero_timers, setup, teardown),
    };

    sip_msg_global_init();
    ims_log_init("test_txn", getenv("TXN_DEBUG") ? IMS_LOG_DEBUG : IMS_LOG_WARN, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
