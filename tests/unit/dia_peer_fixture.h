/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by test_dia_peer.c and test_dia_peer_raw.c: nodes with a small
 * application side (a handler that answers 2001 or holds the request, an
 * answer callback that records), loop pumping with deadlines on the real
 * clock, and raw TCP sockets that speak exact Diameter bytes.
 * Include after cmocka.h's prerequisites; define _GNU_SOURCE first.
 */
#ifndef DIA_PEER_FIXTURE_H
#define DIA_PEER_FIXTURE_H

/* Each test program uses a subset of these. */
#define FX_FN static __attribute__((unused))

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/base/codec.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"

#define TW 300
#define TC 200
#define REQ_TIMEOUT 1000
#define WAIT_MS 3000
#define REALM "ims.test"
#define SRV "server.ims.test"
#define SRV2 "server2.ims.test"
#define CLI "client.ims.test"

static ims_loop_t *g_loop;

/* A node's application side: what its handler saw, what its callbacks got. */
typedef struct app {
    dia_node_t *node;
    bool answer;               /* handler answers 2001 at once (else holds) */
    int nreq;
    uint8_t req_flags;
    uint32_t req_e2e;
    char req_sid[256];
    dia_msg_t *held;           /* a request not answered yet */
    dia_req_ctx_t held_ctx;
    int ncb;
    dia_send_err_t err;
    uint32_t result, ans_e2e;
    bool stopped;
} app_t;

/* Port n (0..63) of this run: a base drawn per process, so that two runs at
 * once (a developer's and CI's, or two builds) never fight over fixed numbers. */
FX_FN uint16_t P(unsigned n)
{
    static uint16_t base;

    if (!base)
        base = (uint16_t)(20000 + (unsigned)(getpid() % 2400) * 64);
    return (uint16_t)(base + n);
}

FX_FN uint64_t now_ms(void)
{
    return ims_clock_real_us() / 1000;
}

FX_FN void on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *ctx, dia_msg_t *req)
{
    app_t *a = arg;

    a->nreq++;
    a->req_flags = req->flags;
    a->req_e2e = req->e2e;
    if (dia_msg_session_id(req, a->req_sid, sizeof(a->req_sid)) != IMS_OK)
        a->req_sid[0] = '\0';
    if (a->answer) {
        dia_builder_t b;
        dia_msg_t *ans;

        dia_node_answer_init(node, &b, req, DIA_SUCCESS);
        ans = dia_build_finish(&b);
        dia_node_answer(node, ctx, &ans);
        assert_null(ans);
        dia_msg_free(req);
        return;
    }
    dia_msg_free(a->held);
    a->held = req;
    a->held_ctx = *ctx;
}

FX_FN void on_answer(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    app_t *a = arg;
    bool exp;

    a->ncb++;
    a->err = err;
    a->result = 0;
    if (ans) {
        dia_msg_result(ans, &a->result, &exp);
        a->ans_e2e = ans->e2e;
    }
    dia_msg_free(ans);
}

FX_FN void on_stopped(void *arg)
{
    ((app_t *)arg)->stopped = true;
}

/* A node with Cx (3GPP vendor-specific), listening on port when non-zero. */
FX_FN void node_up(app_t *a, const char *host, uint16_t port, uint32_t app_id)
{
    dia_node_cfg_t cfg = {
        .origin_host = host, .origin_realm = REALM,
        .listen_addr = port ? "127.0.0.1" : NULL, .listen_port = port,
        .tw_ms = TW, .tc_ms = TC, .request_timeout_ms = REQ_TIMEOUT,
        .apps = { { app_id, DIA_VENDOR_3GPP } }, .napps = 1,
    };

    if (!a->node) {
        memset(a, 0, sizeof(*a));
        a->answer = true;
    }
    a->node = dia_node_new(g_loop, &cfg);
    assert_non_null(a->node);
    dia_node_on_request(a->node, app_id, on_request, a);
}

FX_FN void add_peer(app_t *a, const char *host, uint16_t port, bool connect)
{
    dia_peer_cfg_t pc = { .host = host, .realm = REALM, .addr = "127.0.0.1", .port = port,
                          .connect = connect };

    assert_int_equal(dia_node_add_peer(a->node, &pc), IMS_OK);
}

FX_FN void app_free(app_t *a)
{
    dia_node_free(a->node);
    a->node = NULL;
    dia_msg_free(a->held);
    a->held = NULL;
}

FX_FN dia_peer_state_t pstate(const app_t *a, int i)
{
    dia_peer_info_t info;

    assert_int_equal(dia_node_peer_info(a->node, i, &info), IMS_OK);
    return info.state;
}

FX_FN dia_peer_info_t info(const app_t *a, int i)
{
    dia_peer_info_t pi;

    assert_int_equal(dia_node_peer_info(a->node, i, &pi), IMS_OK);
    return pi;
}

typedef bool (*pred_fn)(void *arg);

FX_FN bool run_until(pred_fn pred, void *arg, uint64_t ms)
{
    uint64_t end = now_ms() + ms;

    while (!pred(arg) && now_ms() < end)
        ims_loop_run_once(g_loop, 10);
    return pred(arg);
}

FX_FN void run_for(uint64_t ms)
{
    uint64_t end = now_ms() + ms;

    while (now_ms() < end)
        ims_loop_run_once(g_loop, 10);
}

typedef struct open2 {
    app_t *a, *b;
} open2_t;

FX_FN bool both_open(void *arg)
{
    open2_t *o = arg;

    return pstate(o->a, 0) == DIA_PEER_OPEN && pstate(o->b, 0) == DIA_PEER_OPEN;
}

FX_FN bool first_open(void *arg)
{
    return pstate(arg, 0) == DIA_PEER_OPEN;
}

FX_FN bool got_cb(void *arg)
{
    return ((app_t *)arg)->ncb > 0;
}

FX_FN bool got_req(void *arg)
{
    return ((app_t *)arg)->nreq > 0;
}

FX_FN bool stopped(void *arg)
{
    return ((app_t *)arg)->stopped;
}

/* A server on port knowing CLI, and a client connecting to it; both OPEN. */
FX_FN void pair_up(app_t *srv, app_t *cli, uint16_t port)
{
    open2_t o = { srv, cli };

    node_up(srv, SRV, port, DIA_APP_CX);
    add_peer(srv, CLI, 0, false);
    node_up(cli, CLI, 0, DIA_APP_CX);
    add_peer(cli, SRV, port, true);
    assert_int_equal(dia_node_start(srv->node), IMS_OK);
    assert_int_equal(dia_node_start(cli->node), IMS_OK);
    assert_true(run_until(both_open, &o, WAIT_MS));
}

FX_FN void send_uar(app_t *cli, const char *dest_host)
{
    dia_builder_t b;
    dia_msg_t *m;

    dia_node_request_init(cli->node, &b, DIA_CMD_UAR, DIA_APP_CX, true, REALM, dest_host);
    dia_put_u32(&b, DIA_AVP_AUTH_SESSION_STATE, DIA_AVP_M, 0, 1);
    dia_put_str(&b, DIA_AVP_USER_NAME, DIA_AVP_M, 0, "alice@ims.test");
    m = dia_build_finish(&b);
    assert_non_null(m);
    dia_node_send(cli->node, &m, on_answer, cli);
    assert_null(m);
}

/* ---- raw sockets ---- */

FX_FN int raw_connect(uint16_t port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

FX_FN int raw_listen(uint16_t port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);  /* accept polls */

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    return fd;
}

FX_FN void raw_send(int fd, const dia_msg_t *m)
{
    assert_int_equal(send(fd, m->buf, m->len, MSG_NOSIGNAL), (ssize_t)m->len);
}

/* Pump the loop while reading fd until one whole message; NULL on EOF/timeout
 * (*eof tells which). */
FX_FN dia_msg_t *raw_read(int fd, bool *eof)
{
    static uint8_t buf[65536];
    size_t got = 0;
    uint32_t len = 0;
    uint64_t end = now_ms() + WAIT_MS;
    dia_msg_t *m = NULL;
    dia_err_t err;

    *eof = false;
    while (now_ms() < end) {
        ssize_t k;

        ims_loop_run_once(g_loop, 5);
        k = recv(fd, buf + got, len ? len - got : 4 - got, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN)) {
            *eof = true;
            return NULL;
        }
        if (k < 0)
            continue;
        got += (size_t)k;
        if (!len && got == 4) {
            assert_int_equal(dia_frame_len(buf, got, &len), IMS_OK);
            assert_true(len <= sizeof(buf));
        }
        if (len && got == len)
            break;
    }
    if (!len || got != len)
        return NULL;
    assert_int_equal(dia_msg_parse(buf, len, &m, &err), IMS_OK);
    return m;
}

FX_FN uint32_t result_of(const dia_msg_t *m)
{
    uint32_t rc = 0;
    bool exp;

    assert_int_equal(dia_msg_result(m, &rc, &exp), IMS_OK);
    return rc;
}

FX_FN dia_msg_t *raw_cer(const char *host, uint32_t app_id, bool request)
{
    dia_builder_t b;
    struct sockaddr_in sa = { .sin_family = AF_INET };

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    dia_build_init(&b, request ? DIA_FLAG_R : 0, DIA_CMD_CER, 0, 0x1234, 0x5678);
    if (!request)
        dia_put_u32(&b, DIA_AVP_RESULT_CODE, DIA_AVP_M, 0, DIA_SUCCESS);
    dia_put_str(&b, DIA_AVP_ORIGIN_HOST, DIA_AVP_M, 0, host);
    dia_put_str(&b, DIA_AVP_ORIGIN_REALM, DIA_AVP_M, 0, REALM);
    dia_put_address(&b, DIA_AVP_HOST_IP_ADDRESS, DIA_AVP_M, 0, (struct sockaddr *)&sa);
    dia_put_u32(&b, DIA_AVP_VENDOR_ID, DIA_AVP_M, 0, 0);
    dia_put_str(&b, DIA_AVP_PRODUCT_NAME, 0, 0, "raw");
    dia_group_begin(&b, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, DIA_AVP_M, 0);
    dia_put_u32(&b, DIA_AVP_VENDOR_ID, DIA_AVP_M, 0, DIA_VENDOR_3GPP);
    dia_put_u32(&b, DIA_AVP_AUTH_APPLICATION_ID, DIA_AVP_M, 0, app_id);
    dia_group_end(&b);
    return dia_build_finish(&b);
}

/* Send a CER as host with app_id; the CEA's Result-Code; *eof whether the
 * server then closed. */
FX_FN uint32_t raw_handshake(int fd, const char *host, uint32_t app_id, bool *closed)
{
    dia_msg_t *cer = raw_cer(host, app_id, true), *cea;
    uint32_t rc;
    bool eof;

    raw_send(fd, cer);
    dia_msg_free(cer);
    cea = raw_read(fd, &eof);
    assert_non_null(cea);
    assert_int_equal(cea->code, DIA_CMD_CER);
    assert_int_equal(cea->hbh, 0x1234);
    rc = result_of(cea);
    dia_msg_free(cea);
    if (closed) {
        dia_msg_t *more = raw_read(fd, &eof);

        assert_null(more);
        *closed = eof;
    }
    return rc;
}

/* Accept the node's connection on lfd, read its CER, answer 2001 as host. */
FX_FN int raw_accept_open(int lfd, const char *host)
{
    uint64_t end = now_ms() + WAIT_MS;
    dia_msg_t *cer, *cea;
    bool eof;
    int fd = -1;

    while (fd < 0 && now_ms() < end) {
        ims_loop_run_once(g_loop, 10);
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    }
    assert_true(fd >= 0);
    cer = raw_read(fd, &eof);
    assert_non_null(cer);
    assert_int_equal(cer->code, DIA_CMD_CER);
    cea = raw_cer(host, DIA_APP_CX, false);
    dia_msg_set_ids(cea, cer->hbh, cer->e2e);
    raw_send(fd, cea);
    dia_msg_free(cea);
    dia_msg_free(cer);
    return fd;
}

/* ---- per test ---- */

FX_FN int setup(void **state)
{
    ims_clock_drive(false, 0);
    g_loop = ims_loop_new();
    assert_non_null(g_loop);
    return 0;
}

FX_FN int teardown(void **state)
{
    /* Everything the nodes armed must be gone with them. */
    assert_int_equal(ims_loop_timer_count(g_loop), 0);
    ims_loop_free(g_loop);
    return 0;
}

#endif
