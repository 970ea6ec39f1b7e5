/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Diameter peer layer between real nodes on loopback: two or three nodes
 * in one process on one loop, pumped with ims_loop_run_once on the real clock
 * with deadlines (Tw 300 ms, Tc 200 ms). test_dia_peer_raw.c covers what
 * needs exact bytes or a misbehaving peer.
 *
 * Checked: CER/CEA to OPEN on both sides; a request answered 2001 with the
 * same end-to-end id and our Session-Id, routed by realm and by
 * Destination-Host; a node the server does not know (CEA 3010, never OPEN,
 * retried) and one without a common application (5010; the relay application
 * is common with all); DWR/DWA across four idle Tw, none under traffic; a
 * server that goes away (pending request failed within its timeout,
 * reconnect with back-off when a new server comes up on the port); failover
 * to a second server with the T flag and the same end-to-end id; request
 * timeout exactly once with the late answer dropped; no peer reported after
 * dia_node_send returns; DPR/DPA on stop, then no reconnect and sends refused;
 * two nodes configured to connect to each other settling on one connection.
 */
#define _GNU_SOURCE
#include "tests/unit/dia_peer_fixture.h"

static void test_open_and_request(void **state)
{
    app_t srv = { 0 }, cli = { 0 };
    time_t t0 = time(NULL);
    char prefix[64];

    pair_up(&srv, &cli, 13868);
    assert_string_equal(info(&srv, 0).host, CLI);
    send_uar(&cli, NULL);
    assert_int_equal(cli.ncb, 0);
    assert_true(run_until(got_cb, &cli, WAIT_MS));
    assert_int_equal(cli.err, DIA_SEND_OK);
    assert_int_equal(cli.result, DIA_SUCCESS);
    assert_int_equal(srv.nreq, 1);
    assert_int_equal(cli.ans_e2e, srv.req_e2e);
    /* e2e: low 12 bits of the start time on top (RFC 6733 §3). */
    assert_true((srv.req_e2e >> 20) == ((uint32_t)t0 & 0xfff) ||
                (srv.req_e2e >> 20) == (((uint32_t)t0 - 1) & 0xfff));
    assert_int_equal(srv.req_flags, DIA_FLAG_R | DIA_FLAG_P);
    snprintf(prefix, sizeof(prefix), "%s;", CLI);
    assert_int_equal(strncmp(srv.req_sid, prefix, strlen(prefix)), 0);
    assert_non_null(strchr(srv.req_sid + strlen(prefix), ';'));
    assert_true(info(&cli, 0).sent >= 2 && info(&cli, 0).received >= 2);
    /* Destination-Host routing to the same open peer. */
    srv.nreq = cli.ncb = 0;
    send_uar(&cli, SRV);
    assert_true(run_until(got_req, &srv, WAIT_MS));
    assert_true(run_until(got_cb, &cli, WAIT_MS));
    assert_int_equal(cli.result, DIA_SUCCESS);
    app_free(&cli);
    app_free(&srv);
}

static void test_unknown_peer(void **state)
{
    app_t srv = { 0 }, cli = { 0 };
    bool closed = false;
    int fd;
    uint64_t end;

    node_up(&srv, SRV, 13869, DIA_APP_CX);
    add_peer(&srv, CLI, 0, false);
    assert_int_equal(dia_node_start(srv.node), IMS_OK);
    /* A node the server does not know never gets to OPEN. */
    node_up(&cli, "stranger.ims.test", 0, DIA_APP_CX);
    add_peer(&cli, SRV, 13869, true);
    assert_int_equal(dia_node_start(cli.node), IMS_OK);
    end = now_ms() + 4 * TW;
    while (now_ms() < end) {
        ims_loop_run_once(g_loop, 10);
        assert_int_not_equal(pstate(&cli, 0), DIA_PEER_OPEN);
    }
    assert_int_equal(pstate(&srv, 0), DIA_PEER_CLOSED);
    assert_true(info(&cli, 0).reconnects >= 1);
    /* The bytes: CEA 3010, then the server closes. */
    fd = raw_connect(13869);
    assert_int_equal(raw_handshake(fd, "stranger.ims.test", DIA_APP_CX, &closed),
                     DIA_UNKNOWN_PEER);
    assert_true(closed);
    close(fd);
    app_free(&cli);
    app_free(&srv);
}

static void test_no_common_app(void **state)
{
    app_t srv = { 0 }, cli = { 0 };
    bool closed = false;
    int fd;
    uint64_t end;

    node_up(&srv, SRV, P(0), DIA_APP_CX);
    add_peer(&srv, CLI, 0, false);
    assert_int_equal(dia_node_start(srv.node), IMS_OK);
    fd = raw_connect(P(0));
    assert_int_equal(raw_handshake(fd, CLI, DIA_APP_RX, &closed), DIA_NO_COMMON_APPLICATION);
    assert_true(closed);
    close(fd);
    /* The relay application is common with everything. */
    fd = raw_connect(P(0));
    assert_int_equal(raw_handshake(fd, CLI, 0xffffffffu, NULL), DIA_SUCCESS);
    close(fd);
    run_for(50);
    /* A node with only Rx stays out. */
    node_up(&cli, CLI, 0, DIA_APP_RX);
    add_peer(&cli, SRV, P(0), true);
    assert_int_equal(dia_node_start(cli.node), IMS_OK);
    end = now_ms() + 3 * TW;
    while (now_ms() < end) {
        ims_loop_run_once(g_loop, 10);
        assert_int_not_equal(pstate(&cli, 0), DIA_PEER_OPEN);
    }
    app_free(&cli);
    app_free(&srv);
}

static uint64_t received_both(const app_t *a, const app_t *b)
{
    return info(a, 0).received + info(b, 0).received;
}

static void test_watchdog_keeps_open(void **state)
{
    app_t srv = { 0 }, cli = { 0 };
    uint64_t end, next, before, dwr;
    int nreq = 0;

    pair_up(&srv, &cli, P(1));
    /* Idle: DWR/DWA every Tw keep both sides OPEN. Each DWR is received by
     * one side and its DWA by the other. (Both sides often send in the same
     * interval: each restarts its Tw on the other's message, and on loopback
     * the two restarts fall in the same millisecond.) */
    before = received_both(&cli, &srv);
    end = now_ms() + 4 * TW + TW / 2;
    while (now_ms() < end) {
        ims_loop_run_once(g_loop, 10);
        assert_int_equal(pstate(&cli, 0), DIA_PEER_OPEN);
        assert_int_equal(pstate(&srv, 0), DIA_PEER_OPEN);
    }
    dwr = (received_both(&cli, &srv) - before) / 2;
    assert_true(dwr >= 3 && dwr <= 10);
    /* Traffic every Tw/3: no watchdog is needed, so (but for one interval at
     * the start) none is sent. */
    before = received_both(&cli, &srv);
    end = now_ms() + 4 * TW;
    next = 0;
    while (now_ms() < end) {
        if (now_ms() >= next) {
            send_uar(&cli, NULL);
            nreq++;
            next = now_ms() + TW / 3;
        }
        ims_loop_run_once(g_loop, 10);
    }
    run_for(50);
    assert_int_equal(cli.ncb, nreq);
    dwr = (received_both(&cli, &srv) - before - 2 * (uint64_t)nreq) / 2;
    assert_true(dwr <= 2);
    app_free(&cli);
    app_free(&srv);
}

static void test_server_gone_and_back(void **state)
{
    app_t srv = { 0 }, cli = { 0 };
    uint64_t t0;

    pair_up(&srv, &cli, P(3));
    srv.answer = false;
    send_uar(&cli, NULL);
    assert_true(run_until(got_req, &srv, WAIT_MS));
    t0 = now_ms();
    app_free(&srv);
    assert_true(run_until(got_cb, &cli, REQ_TIMEOUT));
    assert_true(now_ms() - t0 < REQ_TIMEOUT);
    assert_int_equal(cli.err, DIA_SEND_NO_PEER);
    assert_int_not_equal(pstate(&cli, 0), DIA_PEER_OPEN);
    /* Some failed attempts, then a new server on the same port. */
    run_for(3 * TC);
    node_up(&srv, SRV, P(3), DIA_APP_CX);
    add_peer(&srv, CLI, 0, false);
    assert_int_equal(dia_node_start(srv.node), IMS_OK);
    assert_true(run_until(first_open, &cli, 8 * TC + WAIT_MS));
    assert_true(info(&cli, 0).reconnects >= 2);
    cli.ncb = 0;
    send_uar(&cli, NULL);
    assert_true(run_until(got_cb, &cli, WAIT_MS));
    assert_int_equal(cli.result, DIA_SUCCESS);
    app_free(&cli);
    app_free(&srv);
}

static bool cli_two_open(void *arg)
{
    return pstate(arg, 0) == DIA_PEER_OPEN && pstate(arg, 1) == DIA_PEER_OPEN;
}

static void test_failover(void **state)
{
    app_t s1 = { 0 }, s2 = { 0 }, cli = { 0 };

    node_up(&s1, SRV, P(4), DIA_APP_CX);
    add_peer(&s1, CLI, 0, false);
    node_up(&s2, SRV2, P(5), DIA_APP_CX);
    add_peer(&s2, CLI, 0, false);
    node_up(&cli, CLI, 0, DIA_APP_CX);
    add_peer(&cli, SRV, P(4), true);
    add_peer(&cli, SRV2, P(5), true);
    assert_int_equal(dia_node_start(s1.node), IMS_OK);
    assert_int_equal(dia_node_start(s2.node), IMS_OK);
    assert_int_equal(dia_node_start(cli.node), IMS_OK);
    assert_true(run_until(cli_two_open, &cli, WAIT_MS));
    s1.answer = false;
    send_uar(&cli, NULL);
    assert_true(run_until(got_req, &s1, WAIT_MS));  /* the first configured peer */
    assert_int_equal(s1.req_flags & DIA_FLAG_T, 0);
    app_free(&s1);
    assert_true(run_until(got_cb, &cli, REQ_TIMEOUT));
    assert_int_equal(cli.err, DIA_SEND_OK);
    assert_int_equal(cli.result, DIA_SUCCESS);
    assert_int_equal(s2.nreq, 1);
    assert_int_equal(s2.req_flags & DIA_FLAG_T, DIA_FLAG_T);
    assert_int_equal(s2.req_e2e, s1.req_e2e);
    assert_int_equal(cli.ans_e2e, s1.req_e2e);
    app_free(&cli);
    app_free(&s2);
}

static void test_request_timeout(void **state)
{
    app_t srv = { 0 }, cli = { 0 };
    dia_builder_t b;
    dia_msg_t *late;
    uint64_t t0;

    pair_up(&srv, &cli, P(6));
    srv.answer = false;
    t0 = now_ms();
    send_uar(&cli, NULL);
    assert_true(run_until(got_cb, &cli, REQ_TIMEOUT + 500));
    assert_true(now_ms() - t0 >= REQ_TIMEOUT - 20);
    assert_int_equal(cli.err, DIA_SEND_TIMEOUT);
    assert_int_equal(info(&cli, 0).timeouts, 1);
    /* The late answer is dropped: still exactly one callback. */
    assert_non_null(srv.held);
    dia_node_answer_init(srv.node, &b, srv.held, DIA_SUCCESS);
    late = dia_build_finish(&b);
    dia_node_answer(srv.node, &srv.held_ctx, &late);
    run_for(200);
    assert_int_equal(cli.ncb, 1);
    assert_int_equal(pstate(&cli, 0), DIA_PEER_OPEN);
    app_free(&cli);
    app_free(&srv);
}

static void test_no_peer(void **state)
{
    app_t cli = { 0 };

    node_up(&cli, CLI, 0, DIA_APP_CX);
    add_peer(&cli, SRV, P(7), true);  /* nobody listens there */
    assert_int_equal(dia_node_start(cli.node), IMS_OK);
    send_uar(&cli, NULL);
    assert_int_equal(cli.ncb, 0);      /* never from inside dia_node_send */
    ims_loop_run_once(g_loop, 10);
    assert_int_equal(cli.ncb, 1);
    assert_int_equal(cli.err, DIA_SEND_NO_PEER);
    app_free(&cli);
}

static void test_dpr_on_stop(void **state)
{
    app_t srv = { 0 }, cli = { 0 };
    uint64_t t0;

    pair_up(&srv, &cli, P(9));
    t0 = now_ms();
    dia_node_stop(cli.node, on_stopped, &cli);
    assert_false(cli.stopped);
    assert_int_equal(pstate(&cli, 0), DIA_PEER_CLOSING);
    assert_true(run_until(stopped, &cli, WAIT_MS));
    assert_true(now_ms() - t0 < 1000);  /* by DPA, not the 2 s timeout */
    assert_int_equal(pstate(&cli, 0), DIA_PEER_CLOSED);
    run_for(20);
    assert_int_equal(pstate(&srv, 0), DIA_PEER_CLOSED);
    /* A stopped node neither reconnects nor sends. */
    run_for(2 * TC);
    assert_int_equal(pstate(&cli, 0), DIA_PEER_CLOSED);
    send_uar(&cli, NULL);
    assert_true(run_until(got_cb, &cli, WAIT_MS));
    assert_int_equal(cli.err, DIA_SEND_SHUTDOWN);
    app_free(&cli);
    app_free(&srv);
}

/* Two nodes configured to connect to each other end up on one connection. */
static void test_election(void **state)
{
    app_t a = { 0 }, b = { 0 };
    open2_t o = { &a, &b };
    uint64_t end;

    node_up(&a, "a.ims.test", P(10), DIA_APP_CX);
    add_peer(&a, "b.ims.test", P(11), true);
    node_up(&b, "b.ims.test", P(11), DIA_APP_CX);
    add_peer(&b, "a.ims.test", P(10), true);
    assert_int_equal(dia_node_start(a.node), IMS_OK);
    assert_int_equal(dia_node_start(b.node), IMS_OK);
    assert_true(run_until(both_open, &o, WAIT_MS));
    /* One connection survives and stays up. */
    end = now_ms() + 3 * TW;
    while (now_ms() < end) {
        ims_loop_run_once(g_loop, 10);
        assert_true(both_open(&o));
    }
    send_uar(&a, NULL);
    assert_true(run_until(got_cb, &a, WAIT_MS));
    assert_int_equal(a.result, DIA_SUCCESS);
    send_uar(&b, NULL);
    assert_true(run_until(got_cb, &b, WAIT_MS));
    assert_int_equal(b.result, DIA_SUCCESS);
    app_free(&a);
    app_free(&b);
}

/* The Session-Ids of two nodes started in the same second differ (a quick
 * restart must not reuse live sessions), and a node's own never repeat. */
static void test_session_ids_unique(void **state)
{
    dia_node_cfg_t cfg = { .origin_host = "sid.example", .origin_realm = REALM };
    dia_node_t *x = dia_node_new(g_loop, &cfg), *y = dia_node_new(g_loop, &cfg);
    char a[128], b[128], c[128];
    dia_builder_t bld;
    dia_msg_t *m;

    (void)state;
    assert_non_null(x);
    assert_non_null(y);
    dia_node_request_init(x, &bld, 300, 16777216, true, REALM, NULL);
    assert_non_null(m = dia_build_finish(&bld));
    assert_int_equal(dia_msg_session_id(m, a, sizeof(a)), IMS_OK);
    dia_msg_free(m);
    dia_node_request_init(x, &bld, 300, 16777216, true, REALM, NULL);
    assert_non_null(m = dia_build_finish(&bld));
    assert_int_equal(dia_msg_session_id(m, c, sizeof(c)), IMS_OK);
    dia_msg_free(m);
    dia_node_request_init(y, &bld, 300, 16777216, true, REALM, NULL);
    assert_non_null(m = dia_build_finish(&bld));
    assert_int_equal(dia_msg_session_id(m, b, sizeof(b)), IMS_OK);
    dia_msg_free(m);
    assert_memory_equal(a, "sid.example;", 12);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, b);
    dia_node_free(x);
    dia_node_free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_and_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_ids_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_common_app, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watchdog_keeps_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_gone_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dpr_on_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_election, setup, teardown),
    };

    ims_log_init("test_dia_peer", getenv("IMS_LOG_DEBUG") ? IMS_LOG_DEBUG : IMS_LOG_WARN, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
