/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Diameter peer layer against raw TCP sockets that play a peer byte by
 * byte (built and parsed with the codec), pumping the node's loop on the real
 * clock with deadlines.
 *
 * Checked: a peer that stops answering goes SUSPECT after Tw without a DWA,
 * its pending request fails over (T flag) to the next peer of the realm, and
 * it is closed after another Tw; protocol errors in requests answered on the
 * kept connection (5014 with Failed-AVP for an AVP running past the end; 3007
 * and 3001 with the E bit) and a bad frame closing it; election against a
 * peer whose CER crosses ours, won (4003 on its connection) and lost (ours
 * closed, its CER answered 2001); DPR from the peer answered with DPA and no
 * reconnect after DO_NOT_WANT_TO_TALK_TO_YOU but a reconnect after
 * REBOOTING; dia_node_stop finishing after 2 s when the DPR goes unanswered.
 */
#define _GNU_SOURCE
#include "tests/unit/dia_peer_fixture.h"

static bool cli_two_open(void *arg)
{
    return pstate(arg, 0) == DIA_PEER_OPEN && pstate(arg, 1) == DIA_PEER_OPEN;
}

static void test_silent_peer_suspect(void **state)
{
    app_t cli = { 0 }, s2 = { 0 };
    int lfd = raw_listen(P(16)), fd;
    bool eof = false, seen_suspect = false;
    dia_peer_state_t at_answer = DIA_PEER_CLOSED;
    uint64_t end;
    char buf[4096];

    node_up(&s2, SRV2, P(17), DIA_APP_CX);
    add_peer(&s2, CLI, 0, false);
    node_up(&cli, CLI, 0, DIA_APP_CX);
    add_peer(&cli, SRV, P(16), true);   /* the raw one, first in order */
    add_peer(&cli, SRV2, P(17), true);
    assert_int_equal(dia_node_start(s2.node), IMS_OK);
    assert_int_equal(dia_node_start(cli.node), IMS_OK);
    fd = raw_accept_open(lfd, SRV);
    assert_true(run_until(cli_two_open, &cli, WAIT_MS));
    /* Silence from here: DWR at Tw, SUSPECT at 2 Tw (the request fails over
     * to the second server), closed at 3 Tw. */
    send_uar(&cli, NULL);
    end = now_ms() + 6 * TW;
    while (!eof && now_ms() < end) {
        ssize_t k;

        ims_loop_run_once(g_loop, 10);
        seen_suspect |= pstate(&cli, 0) == DIA_PEER_SUSPECT;
        if (cli.ncb == 1 && at_answer == DIA_PEER_CLOSED)
            at_answer = pstate(&cli, 0);
        k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        eof = k == 0;
    }
    assert_true(seen_suspect);
    assert_true(eof);
    assert_int_not_equal(pstate(&cli, 0), DIA_PEER_OPEN);
    assert_int_equal(pstate(&cli, 1), DIA_PEER_OPEN);
    assert_int_equal(at_answer, DIA_PEER_SUSPECT);
    assert_int_equal(cli.ncb, 1);
    assert_int_equal(cli.err, DIA_SEND_OK);
    assert_int_equal(cli.result, DIA_SUCCESS);
    assert_int_equal(s2.nreq, 1);
    assert_int_equal(s2.req_flags & DIA_FLAG_T, DIA_FLAG_T);
    close(fd);
    close(lfd);
    app_free(&cli);
    app_free(&s2);
}

/* A request from the raw socket; returns the answer. */
static dia_msg_t *raw_request(int fd, uint32_t code, uint32_t app_id, bool corrupt)
{
    dia_builder_t b;
    dia_msg_t *m, *ans;
    bool eof;

    dia_build_init(&b, DIA_FLAG_R | DIA_FLAG_P, code, app_id, 0xabcd, 0x1111);
    dia_put_str(&b, DIA_AVP_SESSION_ID, DIA_AVP_M, 0, "raw.ims.test;1;1");
    dia_put_str(&b, DIA_AVP_ORIGIN_HOST, DIA_AVP_M, 0, CLI);
    dia_put_str(&b, DIA_AVP_ORIGIN_REALM, DIA_AVP_M, 0, REALM);
    dia_put_str(&b, DIA_AVP_DESTINATION_REALM, DIA_AVP_M, 0, REALM);
    dia_put_str(&b, DIA_AVP_USER_NAME, DIA_AVP_M, 0, "bob");  /* 8 + 3 bytes, last */
    m = dia_build_finish(&b);
    if (corrupt)
        m->buf[m->len - 12 + 7] = 40;  /* User-Name length runs past the end */
    raw_send(fd, m);
    dia_msg_free(m);
    ans = raw_read(fd, &eof);
    assert_non_null(ans);
    assert_int_equal(ans->hbh, 0xabcd);
    assert_int_equal(ans->e2e, 0x1111);
    return ans;
}

static void test_protocol_errors(void **state)
{
    app_t srv = { 0 };
    dia_msg_t *ans;
    dia_avp_t a;
    char sid[64];
    bool eof;
    int fd;
    static const uint8_t bad_frame[8] = { 2, 0, 0, 8, 0, 0, 0, 0 };

    node_up(&srv, SRV, P(18), DIA_APP_CX);
    add_peer(&srv, CLI, 0, false);
    assert_int_equal(dia_node_start(srv.node), IMS_OK);
    fd = raw_connect(P(18));
    assert_int_equal(raw_handshake(fd, CLI, DIA_APP_CX, NULL), DIA_SUCCESS);
    assert_int_equal(pstate(&srv, 0), DIA_PEER_OPEN);
    /* An AVP length past the end: 5014, Failed-AVP, no E bit, still open. */
    ans = raw_request(fd, DIA_CMD_UAR, DIA_APP_CX, true);
    assert_int_equal(result_of(ans), DIA_INVALID_AVP_LENGTH);
    assert_int_equal(ans->flags & (DIA_FLAG_E | DIA_FLAG_R), 0);
    assert_true(dia_msg_find(ans, DIA_AVP_FAILED_AVP, 0, &a));
    assert_true(dia_msg_find(ans, DIA_AVP_ORIGIN_HOST, 0, &a));
    assert_int_equal(dia_msg_session_id(ans, sid, sizeof(sid)), IMS_OK);
    assert_string_equal(sid, "raw.ims.test;1;1");
    dia_msg_free(ans);
    assert_int_equal(pstate(&srv, 0), DIA_PEER_OPEN);
    /* A well-formed one is handled on the same connection. */
    ans = raw_request(fd, DIA_CMD_UAR, DIA_APP_CX, false);
    assert_int_equal(result_of(ans), DIA_SUCCESS);
    dia_msg_free(ans);
    assert_int_equal(srv.nreq, 1);
    /* No handler for Rx: 3007 with E; an unknown base command: 3001 with E. */
    ans = raw_request(fd, DIA_CMD_AAR, DIA_APP_RX, false);
    assert_int_equal(result_of(ans), DIA_APPLICATION_UNSUPPORTED);
    assert_int_equal(ans->flags & DIA_FLAG_E, DIA_FLAG_E);
    dia_msg_free(ans);
    ans = raw_request(fd, 999, DIA_APP_COMMON, false);
    assert_int_equal(result_of(ans), DIA_COMMAND_UNSUPPORTED);
    assert_int_equal(ans->flags & DIA_FLAG_E, DIA_FLAG_E);
    dia_msg_free(ans);
    /* A frame that cannot be resynced closes the connection. */
    assert_int_equal(send(fd, bad_frame, sizeof(bad_frame), MSG_NOSIGNAL), 8);
    assert_null(raw_read(fd, &eof));
    assert_true(eof);
    run_for(20);
    assert_int_equal(pstate(&srv, 0), DIA_PEER_CLOSED);
    close(fd);
    app_free(&srv);
}

/* Node a.ims.test connects to a raw peer named host, which connects back and
 * sends its CER while a's CER is still unanswered. */
static void elect_against(const char *host, uint16_t aport, uint16_t rport, bool a_wins)
{
    app_t a = { 0 };
    int lfd = raw_listen(rport), afd = -1, rfd;
    dia_msg_t *cer, *m;
    bool eof;
    uint64_t end;

    node_up(&a, "a.ims.test", aport, DIA_APP_CX);
    add_peer(&a, host, rport, true);
    assert_int_equal(dia_node_start(a.node), IMS_OK);
    end = now_ms() + WAIT_MS;
    while (afd < 0 && now_ms() < end) {
        ims_loop_run_once(g_loop, 10);
        afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    }
    assert_true(afd >= 0);
    cer = raw_read(afd, &eof);                 /* a's CER on a's connection */
    assert_non_null(cer);
    assert_int_equal(pstate(&a, 0), DIA_PEER_WAIT_I_CEA);
    rfd = raw_connect(aport);                  /* ours, crossing it */
    if (a_wins) {
        /* a keeps its own connection: ours gets 4003 and is closed. */
        assert_int_equal(raw_handshake(rfd, host, DIA_APP_CX, &eof), DIA_ELECTION_LOST);
        assert_true(eof);
        assert_int_equal(pstate(&a, 0), DIA_PEER_WAIT_I_CEA);
        m = raw_cer(host, DIA_APP_CX, false);
        dia_msg_set_ids(m, cer->hbh, cer->e2e);
        raw_send(afd, m);
        dia_msg_free(m);
    } else {
        /* a gives up its own connection and takes ours. */
        assert_int_equal(raw_handshake(rfd, host, DIA_APP_CX, NULL), DIA_SUCCESS);
        assert_null(raw_read(afd, &eof));
        assert_true(eof);
    }
    assert_true(run_until(first_open, &a, WAIT_MS));
    dia_msg_free(cer);
    close(rfd);
    close(afd);
    close(lfd);
    app_free(&a);
}

static void test_election_raw(void **state)
{
    elect_against("z.ims.test", P(19), P(20), false);   /* "z..." > "a...": a loses */
    elect_against("0.ims.test", P(21), P(22), true);    /* "0..." < "a...": a wins */
}


/* Send a DPR with cause as the raw peer; the DPA's Result-Code. */
static uint32_t raw_dpr(int fd, uint32_t cause)
{
    dia_builder_t b;
    dia_msg_t *m;
    uint32_t rc;
    bool eof;

    dia_build_init(&b, DIA_FLAG_R, DIA_CMD_DPR, 0, 0x77, 0x88);
    dia_put_str(&b, DIA_AVP_ORIGIN_HOST, DIA_AVP_M, 0, SRV);
    dia_put_str(&b, DIA_AVP_ORIGIN_REALM, DIA_AVP_M, 0, REALM);
    dia_put_u32(&b, DIA_AVP_DISCONNECT_CAUSE, DIA_AVP_M, 0, cause);
    m = dia_build_finish(&b);
    raw_send(fd, m);
    dia_msg_free(m);
    m = raw_read(fd, &eof);
    assert_non_null(m);
    assert_int_equal(m->code, DIA_CMD_DPR);
    assert_int_equal(m->flags & DIA_FLAG_R, 0);
    assert_int_equal(m->hbh, 0x77);
    rc = result_of(m);
    dia_msg_free(m);
    assert_null(raw_read(fd, &eof));    /* and the node closes */
    assert_true(eof);
    return rc;
}

static void test_dpr_from_peer(void **state)
{
    app_t cli = { 0 };
    int lfd = raw_listen(P(23)), fd;
    uint64_t end;

    node_up(&cli, CLI, 0, DIA_APP_CX);
    add_peer(&cli, SRV, P(23), true);
    assert_int_equal(dia_node_start(cli.node), IMS_OK);
    fd = raw_accept_open(lfd, SRV);
    assert_true(run_until(first_open, &cli, WAIT_MS));
    /* REBOOTING: DPA, closed, back after Tc. */
    assert_int_equal(raw_dpr(fd, 0), DIA_SUCCESS);
    assert_int_not_equal(pstate(&cli, 0), DIA_PEER_OPEN);
    close(fd);
    fd = raw_accept_open(lfd, SRV);
    assert_true(run_until(first_open, &cli, WAIT_MS));
    /* DO_NOT_WANT_TO_TALK_TO_YOU: DPA, closed, and left alone. */
    assert_int_equal(raw_dpr(fd, 2), DIA_SUCCESS);
    close(fd);
    end = now_ms() + 6 * TC;
    while (now_ms() < end) {
        ims_loop_run_once(g_loop, 10);
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
        assert_true(fd < 0);
    }
    assert_int_equal(pstate(&cli, 0), DIA_PEER_CLOSED);
    close(lfd);
    app_free(&cli);
}

static void test_stop_without_dpa(void **state)
{
    app_t cli = { 0 };
    int lfd = raw_listen(P(24)), fd;
    dia_msg_t *dpr;
    dia_avp_t a;
    uint32_t cause = 99;
    uint64_t t0;
    bool eof;

    node_up(&cli, CLI, 0, DIA_APP_CX);
    add_peer(&cli, SRV, P(24), true);
    assert_int_equal(dia_node_start(cli.node), IMS_OK);
    fd = raw_accept_open(lfd, SRV);
    assert_true(run_until(first_open, &cli, WAIT_MS));
    t0 = now_ms();
    dia_node_stop(cli.node, on_stopped, &cli);
    dpr = raw_read(fd, &eof);                /* never answered */
    assert_non_null(dpr);
    assert_int_equal(dpr->code, DIA_CMD_DPR);
    assert_true(dia_msg_find(dpr, DIA_AVP_DISCONNECT_CAUSE, 0, &a));
    assert_int_equal(dia_avp_u32(&a, &cause), IMS_OK);
    assert_int_equal(cause, 0);                /* REBOOTING */
    dia_msg_free(dpr);
    assert_true(run_until(stopped, &cli, WAIT_MS));
    assert_true(now_ms() - t0 >= 1900 && now_ms() - t0 < 2600);
    assert_int_equal(pstate(&cli, 0), DIA_PEER_CLOSED);
    assert_null(raw_read(fd, &eof));
    assert_true(eof);
    close(fd);
    close(lfd);
    app_free(&cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_silent_peer_suspect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_election_raw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dpr_from_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_without_dpa, setup, teardown),
    };

    ims_log_init("test_dia_peer_raw", getenv("IMS_LOG_DEBUG") ? IMS_LOG_DEBUG : IMS_LOG_WARN,
                 NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
