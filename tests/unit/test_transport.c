/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SIP transport on real loopback sockets (127.0.0.1 and ::1), driven by
 * ims_loop_run_once on the real clock with deadlines: UDP receive (fields of
 * sip_rcv_t, keep-alives ignored), a 400 back for a malformed datagram, UDP
 * send; TCP framing of two messages in one write and of one message over
 * three writes, 400 on a bad message with the connection kept, 400 + close on
 * a missing Content-Length, 513 + close on an oversized header block, the
 * CRLF ping/pong, outbound connect and reuse, idle timeout, the connection
 * limit, and a refused connect.
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

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "common/sip/transport.h"

#define RX_MAX 16
#define assert_prefix(s, lit) assert_int_equal(strncmp((s), (lit), sizeof(lit) - 1), 0)
#define WAIT_MS 2000

typedef struct fx {
    ims_loop_t *loop;
    sip_transport_t *tp;
    sip_msg_t *rx[RX_MAX];
    size_t nrx;
} fx_t;

static void on_msg(void *arg, sip_msg_t *m)
{
    fx_t *f = arg;

    if (f->nrx < RX_MAX)
        f->rx[f->nrx++] = m;
    else
        sip_msg_free(m);
}

static fx_t *fx_new(const sip_transport_cfg_t *cfg)
{
    fx_t *f = calloc(1, sizeof(*f));

    ims_clock_drive(false, 0);
    f->loop = ims_loop_new();
    assert_non_null(f->loop);
    f->tp = sip_transport_new(f->loop, cfg, on_msg, f);
    assert_non_null(f->tp);
    return f;
}

static void fx_free(fx_t *f)
{
    size_t i;

    for (i = 0; i < f->nrx; i++)
        sip_msg_free(f->rx[i]);
    sip_transport_free(f->tp);
    ims_loop_free(f->loop);
    free(f);
}

static uint64_t now_ms(void)
{
    return ims_clock_real_us() / 1000;
}

/* Run the loop until f has n messages; false on timeout. */
static bool run_until_rx(fx_t *f, size_t n)
{
    uint64_t end = now_ms() + WAIT_MS;

    while (f->nrx < n && now_ms() < end)
        ims_loop_run_once(f->loop, 10);
    return f->nrx >= n;
}

/* Run the loop while reading fd (non-blocking) until want bytes, EOF or timeout.
 * Returns bytes read; *eof set when the peer closed. */
static size_t run_read(fx_t *f, int fd, char *buf, size_t want, bool *eof)
{
    uint64_t end = now_ms() + WAIT_MS;
    size_t got = 0;
    ssize_t n;

    *eof = false;
    while (got < want && now_ms() < end) {
        ims_loop_run_once(f->loop, 5);
        n = recv(fd, buf + got, want - got, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0) {
            *eof = true;
            break;
        }
    }
    buf[got] = '\0';
    return got;
}

/* Run the loop until one datagram arrives on fd; its length, 0 on timeout. */
static size_t run_recv_dgram(fx_t *f, int fd, char *buf, size_t cap)
{
    uint64_t end = now_ms() + WAIT_MS;
    ssize_t n;

    while (now_ms() < end) {
        ims_loop_run_once(f->loop, 5);
        n = recv(fd, buf, cap - 1, MSG_DONTWAIT);
        if (n > 0) {
            buf[n] = '\0';
            return (size_t)n;
        }
    }
    return 0;
}

/* Read until the text holds an empty line (one message without body). */
static size_t run_read_msg(fx_t *f, int fd, char *buf, size_t cap, bool *eof)
{
    uint64_t end = now_ms() + WAIT_MS;
    size_t got = 0;
    ssize_t n;

    *eof = false;
    buf[0] = '\0';
    while (strstr(buf, "\r\n\r\n") == NULL && now_ms() < end) {
        ims_loop_run_once(f->loop, 5);
        n = recv(fd, buf + got, cap - 1 - got, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0) {
            *eof = true;
            break;
        }
        buf[got] = '\0';
    }
    return got;
}

/* Wait for EOF on fd while running the loop. */
static bool run_until_eof(fx_t *f, int fd)
{
    char buf[4096];
    uint64_t end = now_ms() + WAIT_MS;
    ssize_t n;

    while (now_ms() < end) {
        ims_loop_run_once(f->loop, 5);
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0)
            return true;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return true;  /* reset counts as closed */
    }
    return false;
}

static int sock(int family, int type, const sip_addr_t *bind_to)
{
    int fd = socket(family, type | SOCK_CLOEXEC, 0), one = 1;

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind_to != NULL)
        assert_int_equal(bind(fd, (const struct sockaddr *)&bind_to->ss, bind_to->len), 0);
    return fd;
}

static void local_of(int fd, sip_addr_t *a)
{
    a->len = sizeof(a->ss);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a->ss, &a->len), 0);
}

static int tcp_client(const sip_addr_t *to)
{
    int fd = sock(to->ss.ss_family, SOCK_STREAM, NULL);

    assert_int_equal(connect(fd, (const struct sockaddr *)&to->ss, to->len), 0);
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

static char *mk_req(char *buf, size_t cap, const char *method, int cseq, const char *body)
{
    snprintf(buf, cap,
             "%s sip:bob@ims.example SIP/2.0\r\n"
             "Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-%d\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@ims.example>;tag=a%d\r\n"
             "To: <sip:bob@ims.example>\r\n"
             "Call-ID: call-%d@test\r\n"
             "CSeq: %d %s\r\n"
             "%s"
             "Content-Length: %zu\r\n\r\n%s",
             method, cseq, cseq, cseq, cseq, method,
             body[0] ? "Content-Type: text/plain\r\n" : "", strlen(body), body);
    return buf;
}

/* ---- UDP ---- */

static void udp_receive(const char *host, int family)
{
    fx_t *f = fx_new(NULL);
    sip_addr_t tpa, lo, cla;
    char req[1024];
    int fd;

    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_UDP, host, 0), IMS_OK);
    assert_int_equal(sip_transport_local(f->tp, SIP_PROTO_UDP, family, &tpa), IMS_OK);
    assert_int_not_equal(sip_addr_port(&tpa), 0);
    assert_int_equal(sip_transport_local(f->tp, SIP_PROTO_TCP, family, &lo), IMS_DECLINED);
    assert_int_equal(sip_addr_from(&lo, host, 0), IMS_OK);
    fd = sock(family, SOCK_DGRAM, &lo);
    local_of(fd, &cla);
    /* a keep-alive first: ignored */
    assert_int_equal(sendto(fd, "\r\n\r\n", 4, 0, (struct sockaddr *)&tpa.ss, tpa.len), 4);
    mk_req(req, sizeof(req), "OPTIONS", 1, "");
    assert_int_equal(sendto(fd, req, strlen(req), 0, (struct sockaddr *)&tpa.ss, tpa.len),
                     (ssize_t)strlen(req));
    assert_true(run_until_rx(f, 1));
    assert_int_equal(f->nrx, 1);
    assert_string_equal(sip_msg_method(f->rx[0]), "OPTIONS");
    assert_int_equal(f->rx[0]->rcv.proto, SIP_PROTO_UDP);
    assert_int_equal(f->rx[0]->rcv.conn_id, 0);
    assert_true(sip_addr_equal(&f->rx[0]->rcv.remote, &cla));
    assert_true(sip_addr_equal(&f->rx[0]->rcv.local, &tpa));
    assert_int_equal(sip_transport_stats(f->tp)->rx_msgs, 1);
    assert_int_equal(sip_transport_stats(f->tp)->parse_errors, 0);
    close(fd);
    fx_free(f);
}

static void test_udp_receive_v4(void **state)
{
    udp_receive("127.0.0.1", AF_INET);
}

static void test_udp_receive_v6(void **state)
{
    udp_receive("::1", AF_INET6);
}

static void test_udp_malformed_gets_400(void **state)
{
    static const char bad[] =
        "OPTIONS sip:bob@ims.example SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-x\r\n"
        "From: <sip:alice@ims.example>;tag=1\r\nTo: <sip:bob@ims.example>\r\n"
        "Call-ID: bad-1\r\nCSeq: one OPTIONS\r\nContent-Length: 0\r\n\r\n";
    static const char bad_resp[] = "SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n";
    fx_t *f = fx_new(NULL);
    sip_addr_t tpa, lo;
    char buf[2048];
    int fd;

    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_UDP, "127.0.0.1", 0), IMS_OK);
    sip_transport_local(f->tp, SIP_PROTO_UDP, AF_INET, &tpa);
    sip_addr_from(&lo, "127.0.0.1", 0);
    fd = sock(AF_INET, SOCK_DGRAM, &lo);
    sendto(fd, bad, sizeof(bad) - 1, 0, (struct sockaddr *)&tpa.ss, tpa.len);
    assert_true(run_recv_dgram(f, fd, buf, sizeof(buf)) > 0);
    assert_prefix(buf, "SIP/2.0 400 Bad CSeq\r\n");
    assert_non_null(strstr(buf, "\r\nCall-ID: bad-1\r\n"));
    assert_non_null(strstr(buf, "\r\nCSeq: one OPTIONS\r\n"));
    assert_int_equal(f->nrx, 0);
    /* a broken response is dropped, never answered */
    sendto(fd, bad_resp, sizeof(bad_resp) - 1, 0, (struct sockaddr *)&tpa.ss, tpa.len);
    for (int i = 0; i < 20; i++)
        ims_loop_run_once(f->loop, 5);
    assert_true(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0);
    assert_int_equal(sip_transport_stats(f->tp)->parse_errors, 2);
    assert_int_equal(sip_transport_stats(f->tp)->rx_400_sent, 1);
    assert_int_equal(sip_transport_stats(f->tp)->dropped, 1);
    assert_int_equal(f->nrx, 0);
    close(fd);
    fx_free(f);
}

static void test_udp_send(void **state)
{
    fx_t *f = fx_new(NULL);
    sip_dest_t d;
    sip_addr_t lo, tpa, from;
    char req[1024], buf[2048];
    const char *reason;
    sip_msg_t *m;
    socklen_t fl = sizeof(from.ss);
    ssize_t n;
    int fd;

    memset(&d, 0, sizeof(d));
    sip_addr_from(&d.addr, "127.0.0.1", 9);
    d.proto = SIP_PROTO_UDP;
    assert_int_equal(sip_transport_send(f->tp, &d, "x", 1), IMS_ERROR);  /* no listener */
    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_UDP, "127.0.0.1", 0), IMS_OK);
    sip_transport_local(f->tp, SIP_PROTO_UDP, AF_INET, &tpa);
    sip_addr_from(&lo, "127.0.0.1", 0);
    fd = sock(AF_INET, SOCK_DGRAM, &lo);
    local_of(fd, &d.addr);
    mk_req(req, sizeof(req), "MESSAGE", 5, "hello");
    assert_int_equal(sip_msg_parse(req, strlen(req), NULL, 65535, &m, &reason), SIP_PARSE_OK);
    assert_int_equal(sip_transport_send_msg(f->tp, &d, m), IMS_OK);
    n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from.ss, &fl);
    assert_true(n > 0);
    buf[n] = '\0';
    from.len = fl;
    assert_true(sip_addr_equal(&from, &tpa));  /* sent from the listening socket */
    assert_prefix(buf, "MESSAGE sip:bob@ims.example SIP/2.0\r\n");
    assert_non_null(strstr(buf, "\r\n\r\nhello"));
    assert_int_equal(sip_transport_stats(f->tp)->tx_msgs, 1);
    d.addr.ss.ss_family = AF_INET6;  /* no IPv6 listener */
    assert_int_equal(sip_transport_send_msg(f->tp, &d, m), IMS_ERROR);
    sip_msg_free(m);
    close(fd);
    fx_free(f);
}

/* A free port on 127.0.0.1 (for the protected ports a P-CSCF picks itself). */
static void free_port(sip_addr_t *a)
{
    sip_addr_t lo;
    int fd;

    sip_addr_from(&lo, "127.0.0.1", 0);
    fd = sock(AF_INET, SOCK_DGRAM, &lo);
    local_of(fd, a);
    close(fd);
}

/* Ports opened and closed at run time: received on, answered from, sent from;
 * once closed, nothing arrives there and sends fall back to the default. */
static void test_listen_at_runtime(void **state)
{
    fx_t *f = fx_new(NULL);
    sip_addr_t tpa, prot, lo, from;
    socklen_t fl = sizeof(from.ss);
    char req[1024], buf[2048];
    sip_dest_t d;
    int fd, tfd;

    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_UDP, "127.0.0.1", 0), IMS_OK);
    sip_transport_local(f->tp, SIP_PROTO_UDP, AF_INET, &tpa);
    free_port(&prot);
    assert_int_equal(sip_transport_listen_at(f->tp, SIP_PROTO_UDP, &prot), IMS_OK);
    assert_int_equal(sip_transport_listen_at(f->tp, SIP_PROTO_UDP, &prot), IMS_DECLINED);
    assert_int_equal(sip_transport_listen_at(f->tp, SIP_PROTO_TCP, &prot), IMS_OK);
    assert_true(sip_transport_listens(f->tp, &prot));
    assert_true(sip_transport_listens(f->tp, &tpa));
    sip_addr_from(&lo, "127.0.0.1", 0);
    fd = sock(AF_INET, SOCK_DGRAM, &lo);
    mk_req(req, sizeof(req), "OPTIONS", 1, "");
    assert_int_equal(sendto(fd, req, strlen(req), 0, (struct sockaddr *)&prot.ss, prot.len),
                     (ssize_t)strlen(req));
    assert_true(run_until_rx(f, 1));
    assert_true(sip_addr_equal(&f->rx[0]->rcv.local, &prot));
    /* Sent from the port named as local. */
    memset(&d, 0, sizeof(d));
    d.proto = SIP_PROTO_UDP;
    local_of(fd, &d.addr);
    d.local = prot;
    assert_int_equal(sip_transport_send(f->tp, &d, "x", 1), IMS_OK);
    assert_int_equal(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from.ss, &fl), 1);
    from.len = fl;
    assert_true(sip_addr_equal(&from, &prot));
    /* TCP on the protected port accepts and delivers. */
    tfd = tcp_client(&prot);
    mk_req(req, sizeof(req), "OPTIONS", 2, "");
    send_all(tfd, req, strlen(req));
    assert_true(run_until_rx(f, 2));
    assert_int_equal(f->rx[1]->rcv.proto, SIP_PROTO_TCP);
    close(tfd);
    /* Closed: sends leave from the default port, datagrams find no socket. */
    assert_int_equal(sip_transport_unlisten(f->tp, SIP_PROTO_UDP, &prot), IMS_OK);
    assert_int_equal(sip_transport_unlisten(f->tp, SIP_PROTO_UDP, &prot), IMS_DECLINED);
    assert_true(sip_transport_listens(f->tp, &prot));   /* TCP still */
    assert_int_equal(sip_transport_unlisten(f->tp, SIP_PROTO_TCP, &prot), IMS_OK);
    assert_false(sip_transport_listens(f->tp, &prot));
    assert_int_equal(sip_transport_send(f->tp, &d, "y", 1), IMS_OK);
    fl = sizeof(from.ss);
    assert_int_equal(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from.ss, &fl), 1);
    from.len = fl;
    assert_true(sip_addr_equal(&from, &tpa));
    mk_req(req, sizeof(req), "OPTIONS", 3, "");
    sendto(fd, req, strlen(req), 0, (struct sockaddr *)&prot.ss, prot.len);
    assert_false(run_until_rx(f, 3));
    close(fd);
    fx_free(f); /* the TCP one is closed with the transport */
}

/* ---- TCP inbound ---- */

static fx_t *tcp_fx(const sip_transport_cfg_t *cfg, const char *host, int family, sip_addr_t *tpa)
{
    fx_t *f = fx_new(cfg);

    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_TCP, host, 0), IMS_OK);
    assert_int_equal(sip_transport_local(f->tp, SIP_PROTO_TCP, family, tpa), IMS_OK);
    return f;
}

static void test_tcp_two_in_one_write(void **state)
{
    sip_addr_t tpa, cla;
    fx_t *f = tcp_fx(NULL, "127.0.0.1", AF_INET, &tpa);
    char a[1024], b[1024], both[2048];
    int fd = tcp_client(&tpa);

    local_of(fd, &cla);
    mk_req(a, sizeof(a), "OPTIONS", 1, "");
    mk_req(b, sizeof(b), "MESSAGE", 2, "body text");
    snprintf(both, sizeof(both), "%s%s", a, b);
    send_all(fd, both, strlen(both));
    assert_true(run_until_rx(f, 2));
    assert_string_equal(sip_msg_method(f->rx[0]), "OPTIONS");
    assert_string_equal(sip_msg_method(f->rx[1]), "MESSAGE");
    assert_int_equal(f->rx[0]->rcv.proto, SIP_PROTO_TCP);
    assert_int_not_equal(f->rx[0]->rcv.conn_id, 0);
    assert_int_equal(f->rx[0]->rcv.conn_id, f->rx[1]->rcv.conn_id);
    assert_true(sip_addr_equal(&f->rx[0]->rcv.remote, &cla));
    assert_true(sip_addr_equal(&f->rx[0]->rcv.local, &tpa));
    assert_int_equal(((osip_body_t *)osip_list_get(&f->rx[1]->m->bodies, 0))->length, 9);
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 1);
    close(fd);
    fx_free(f);
}

static void test_tcp_split_over_three_writes(void **state)
{
    sip_addr_t tpa;
    fx_t *f = tcp_fx(NULL, "::1", AF_INET6, &tpa);
    char a[1024];
    size_t len, cut1, cut2;
    osip_body_t *b;
    int fd = tcp_client(&tpa);

    mk_req(a, sizeof(a), "MESSAGE", 3, "0123456789");
    len = strlen(a);
    cut1 = 40;                 /* inside the request line's Via */
    cut2 = len - 4;            /* inside the body */
    /* a CRLF keep-alive before the message is skipped */
    send_all(fd, "\r\n", 2);
    send_all(fd, a, cut1);
    for (int i = 0; i < 5; i++)
        ims_loop_run_once(f->loop, 5);
    send_all(fd, a + cut1, cut2 - cut1);
    for (int i = 0; i < 5; i++)
        ims_loop_run_once(f->loop, 5);
    assert_int_equal(f->nrx, 0);
    send_all(fd, a + cut2, len - cut2);
    assert_true(run_until_rx(f, 1));
    b = osip_list_get(&f->rx[0]->m->bodies, 0);
    assert_non_null(b);
    assert_memory_equal(b->body, "0123456789", 10);
    assert_int_equal(sip_msg_cseq_num(f->rx[0]), 3);
    close(fd);
    fx_free(f);
}

static void test_tcp_bad_message_keeps_connection(void **state)
{
    sip_addr_t tpa;
    fx_t *f = tcp_fx(NULL, "127.0.0.1", AF_INET, &tpa);
    char a[1024], b[1024], buf[4096];
    bool eof;
    int fd = tcp_client(&tpa);

    mk_req(a, sizeof(a), "OPTIONS", 1, "");
    /* make the CSeq method disagree: framing intact, parse fails */
    memcpy(strstr(a, "CSeq: 1 OPTIONS"), "CSeq: 1 OPTIONZ", 15);
    mk_req(b, sizeof(b), "OPTIONS", 2, "");
    send_all(fd, a, strlen(a));
    send_all(fd, b, strlen(b));
    run_read_msg(f, fd, buf, sizeof(buf), &eof);
    assert_false(eof);
    assert_prefix(buf, "SIP/2.0 400 CSeq method mismatch\r\n");
    assert_true(run_until_rx(f, 1));
    assert_int_equal(sip_msg_cseq_num(f->rx[0]), 2);
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 1);
    close(fd);
    fx_free(f);
}

static void test_tcp_missing_content_length(void **state)
{
    static const char req[] =
        "OPTIONS sip:bob@ims.example SIP/2.0\r\n"
        "Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-m\r\n"
        "From: <sip:alice@ims.example>;tag=1\r\nTo: <sip:bob@ims.example>\r\n"
        "Call-ID: nocl\r\nCSeq: 1 OPTIONS\r\n\r\n";
    sip_addr_t tpa;
    fx_t *f = tcp_fx(NULL, "127.0.0.1", AF_INET, &tpa);
    char buf[4096];
    bool eof;
    int fd = tcp_client(&tpa);

    send_all(fd, req, sizeof(req) - 1);
    run_read_msg(f, fd, buf, sizeof(buf), &eof);
    assert_prefix(buf, "SIP/2.0 400 Missing Content-Length\r\n");
    assert_non_null(strstr(buf, "\r\nTo: <sip:bob@ims.example>;tag="));
    assert_true(run_until_eof(f, fd));
    assert_int_equal(f->nrx, 0);
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 0);
    close(fd);
    fx_free(f);
}

static void test_tcp_header_too_large(void **state)
{
    sip_transport_cfg_t cfg = {.max_msg_size = 1024};
    sip_addr_t tpa;
    fx_t *f = tcp_fx(&cfg, "127.0.0.1", AF_INET, &tpa);
    char req[4096], buf[4096];
    bool eof;
    int fd = tcp_client(&tpa);
    size_t n;

    mk_req(req, sizeof(req), "OPTIONS", 1, "");
    n = strlen(req) - 4;  /* drop the empty line, then pad the header block past 1024 */
    n += (size_t)sprintf(req + n, "\r\nX-Pad: %01500d\r\n", 0);
    send_all(fd, req, n);
    run_read_msg(f, fd, buf, sizeof(buf), &eof);
    assert_prefix(buf, "SIP/2.0 513 Message Too Large\r\n");
    assert_true(run_until_eof(f, fd));
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 0);
    close(fd);
    fx_free(f);
}

static void test_tcp_ping_pong(void **state)
{
    sip_addr_t tpa;
    fx_t *f = tcp_fx(NULL, "127.0.0.1", AF_INET, &tpa);
    char buf[16];
    bool eof;
    int fd = tcp_client(&tpa);

    send_all(fd, "\r\n\r\n", 4);
    assert_int_equal(run_read(f, fd, buf, 2, &eof), 2);
    assert_memory_equal(buf, "\r\n", 2);
    for (int i = 0; i < 5; i++)
        ims_loop_run_once(f->loop, 5);
    assert_true(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0);  /* one pong only */
    assert_int_equal(f->nrx, 0);
    close(fd);
    fx_free(f);
}

/* ---- TCP outbound ---- */

static int accept_wait(fx_t *f, int lfd)
{
    uint64_t end = now_ms() + WAIT_MS;
    int c;

    while (now_ms() < end) {
        ims_loop_run_once(f->loop, 5);
        c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0)
            return c;
    }
    return -1;
}

static void test_tcp_send_connects_and_reuses(void **state)
{
    sip_addr_t tpa, lo;
    fx_t *f = tcp_fx(NULL, "127.0.0.1", AF_INET, &tpa);
    char a[1024], b[1024], buf[4096], resp[1024];
    sip_dest_t d;
    bool eof;
    int lfd, c, c2;
    uint32_t id;

    sip_addr_from(&lo, "127.0.0.1", 0);
    lfd = sock(AF_INET, SOCK_STREAM, &lo);
    assert_int_equal(listen(lfd, 8), 0);
    fcntl(lfd, F_SETFL, O_NONBLOCK);
    memset(&d, 0, sizeof(d));
    d.proto = SIP_PROTO_TCP;
    local_of(lfd, &d.addr);
    mk_req(a, sizeof(a), "OPTIONS", 1, "");
    mk_req(b, sizeof(b), "OPTIONS", 2, "");
    /* queued while the connect is in progress */
    assert_int_equal(sip_transport_send(f->tp, &d, a, strlen(a)), IMS_OK);
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 1);
    c = accept_wait(f, lfd);
    assert_true(c >= 0);
    assert_int_equal(run_read(f, c, buf, strlen(a), &eof), strlen(a));
    assert_memory_equal(buf, a, strlen(a));
    {
        sip_addr_t peer;
        socklen_t pl = sizeof(peer.ss);

        /* the source address is our listening IP */
        getpeername(c, (struct sockaddr *)&peer.ss, &pl);
        assert_int_equal(((struct sockaddr_in *)&peer.ss)->sin_addr.s_addr,
                         ((struct sockaddr_in *)&tpa.ss)->sin_addr.s_addr);
    }
    /* the second send reuses the connection */
    assert_int_equal(sip_transport_send(f->tp, &d, b, strlen(b)), IMS_OK);
    assert_int_equal(run_read(f, c, buf, strlen(b), &eof), strlen(b));
    assert_memory_equal(buf, b, strlen(b));
    c2 = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    assert_true(c2 < 0);
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 1);
    /* the peer answers on it: the response arrives with the connection id */
    snprintf(resp, sizeof(resp),
             "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-2\r\n"
             "From: <sip:alice@ims.example>;tag=a2\r\nTo: <sip:bob@ims.example>;tag=b\r\n"
             "Call-ID: call-2@test\r\nCSeq: 2 OPTIONS\r\nContent-Length: 0\r\n\r\n");
    send_all(c, resp, strlen(resp));
    assert_true(run_until_rx(f, 1));
    assert_int_equal(sip_msg_status(f->rx[0]), 200);
    id = f->rx[0]->rcv.conn_id;
    assert_int_not_equal(id, 0);
    /* sending by connection id, with an address that has no listener */
    sip_addr_from(&d.addr, "127.0.0.1", 9);
    d.conn_id = id;
    assert_int_equal(sip_transport_send(f->tp, &d, a, strlen(a)), IMS_OK);
    assert_int_equal(run_read(f, c, buf, strlen(a), &eof), strlen(a));
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 1);
    close(c);
    /* the peer closed: the connection goes away */
    {
        uint64_t end = now_ms() + WAIT_MS;

        while (sip_transport_stats(f->tp)->conns_open > 0 && now_ms() < end)
            ims_loop_run_once(f->loop, 5);
    }
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 0);
    close(lfd);
    fx_free(f);
}

static void test_tcp_connect_refused(void **state)
{
    sip_addr_t tpa, lo;
    fx_t *f = tcp_fx(NULL, "127.0.0.1", AF_INET, &tpa);
    uint64_t end = now_ms() + WAIT_MS;
    sip_dest_t d;
    int fd;

    /* a port nobody listens on */
    sip_addr_from(&lo, "127.0.0.1", 0);
    fd = sock(AF_INET, SOCK_STREAM, &lo);
    memset(&d, 0, sizeof(d));
    d.proto = SIP_PROTO_TCP;
    local_of(fd, &d.addr);
    close(fd);
    if (sip_transport_send(f->tp, &d, "x\r\n", 3) == IMS_OK)
        while (sip_transport_stats(f->tp)->conns_open > 0 && now_ms() < end)
            ims_loop_run_once(f->loop, 5);
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 0);
    fx_free(f);
}

static void test_tcp_idle_timeout(void **state)
{
    sip_transport_cfg_t cfg = {.tcp_idle_ms = 50};
    sip_addr_t tpa;
    fx_t *f = tcp_fx(&cfg, "127.0.0.1", AF_INET, &tpa);
    char a[1024];
    uint64_t t0;
    int fd = tcp_client(&tpa);

    mk_req(a, sizeof(a), "OPTIONS", 1, "");
    send_all(fd, a, strlen(a));
    assert_true(run_until_rx(f, 1));
    t0 = now_ms();
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 1);
    assert_true(run_until_eof(f, fd));
    assert_true(now_ms() - t0 >= 30);  /* not before the idle time */
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 0);
    assert_int_equal(ims_loop_timer_count(f->loop), 0);
    close(fd);
    fx_free(f);
}

static void test_tcp_max_conns(void **state)
{
    sip_transport_cfg_t cfg = {.max_conns = 1};
    sip_addr_t tpa;
    fx_t *f = tcp_fx(&cfg, "127.0.0.1", AF_INET, &tpa);
    char a[1024];
    sip_dest_t d;
    int fd1 = tcp_client(&tpa), fd2;

    mk_req(a, sizeof(a), "OPTIONS", 1, "");
    send_all(fd1, a, strlen(a));
    assert_true(run_until_rx(f, 1));
    fd2 = tcp_client(&tpa);  /* the kernel accepts; the transport closes it */
    assert_true(run_until_eof(f, fd2));
    assert_int_equal(sip_transport_stats(f->tp)->conns_open, 1);
    /* no outbound connection beyond the limit either */
    memset(&d, 0, sizeof(d));
    d.proto = SIP_PROTO_TCP;
    sip_addr_from(&d.addr, "127.0.0.1", 9);
    assert_int_equal(sip_transport_send(f->tp, &d, "x", 1), IMS_ERROR);
    close(fd1);
    close(fd2);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_receive_v4),
        cmocka_unit_test(test_udp_receive_v6),
        cmocka_unit_test(test_udp_malformed_gets_400),
        cmocka_unit_test(test_udp_send),
        cmocka_unit_test(test_listen_at_runtime),
        cmocka_unit_test(test_tcp_two_in_one_write),
        cmocka_unit_test(test_tcp_split_over_three_writes),
        cmocka_unit_test(test_tcp_bad_message_keeps_connection),
        cmocka_unit_test(test_tcp_missing_content_length),
        cmocka_unit_test(test_tcp_header_too_large),
        cmocka_unit_test(test_tcp_ping_pong),
        cmocka_unit_test(test_tcp_send_connects_and_reuses),
        cmocka_unit_test(test_tcp_connect_refused),
        cmocka_unit_test(test_tcp_idle_timeout),
        cmocka_unit_test(test_tcp_max_conns),
    };

    ims_log_init("test_transport", IMS_LOG_WARN, NULL);
    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
