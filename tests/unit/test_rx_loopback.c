/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Rx codec over a real TCP connection on loopback: two Diameter nodes in
 * this process on one loop and the real clock, the AF (the P-CSCF's identity,
 * connecting) and the PCRF (listening on 127.0.0.1:13960). Each side answers
 * with the Rx codec from its request handler.
 *
 * One AF session, its Session-Id made by the first AAR and kept: AAR -> AAA
 * 2001 with an Access-Network-Charging-Identifier; an update AAR on the same
 * Session-Id; from the PCRF, RAR (loss of bearer, Flows) -> RAA 2001, a RAR
 * without Specific-Action -> 5005 naming it (the AF's handler sees no RAR),
 * ASR -> ASA 2001; then STR -> STA 2001. Each request's fields are checked as
 * the other side parsed them, and every message of the session carries the
 * one Session-Id. A second session (IPv6, signalling) gets a new Session-Id
 * and AAA Experimental-Result 5065 IP-CAN_SESSION_NOT_AVAILABLE.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/base/codec.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"
#include "diameter/rx/rx.h"
#include "tests/unit/dia_loopback_fixture.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define PCRF_HOST "pcrf." REALM
#define PCSCF_HOST "pcscf." REALM
#define PCRF_PORT 13960
#define UL_RTP "permit in 17 from 10.45.0.2 49152 to 10.45.0.3 50000"
#define DL_RTP "permit out 17 from 10.45.0.3 50000 to 10.45.0.2 49152"
#define UL_RTCP "permit in 17 from 10.45.0.2 49153 to 10.45.0.3 50001"
#define DL_RTCP "permit out 17 from 10.45.0.3 50001 to 10.45.0.2 49153"
#define V3 DIA_VENDOR_3GPP
#define WAIT_MS 3000

typedef struct lb {
    ims_loop_t *loop;
    dia_node_t *pcrf, *af;
    /* the PCRF: what it parsed, and how it answers AARs */
    int pcrf_reqs;
    rx_aar_t aar;
    rx_str_t str;
    char pcrf_sid[RX_SID_MAX];
    char af_host[256];              /* Origin-Host of the AAR: where RAR/ASR go */
    rx_result_t aaa_result;
    /* the AF: what it parsed */
    int af_rars, af_asrs, af_refused;
    rx_rar_t rar;
    rx_asr_t asr;
    char af_sid[RX_SID_MAX];
    /* answers to what either side sent */
    int answers;
    dia_msg_t *ans;
    dia_send_err_t err;
} lb_t;

#define now_ms dfx_now_ms
#define wait_count(t, counter, want) dfx_wait_count((t)->loop, (counter), (want), WAIT_MS)
#define run_for(t, ms) dfx_run_for((t)->loop, (ms))
#define all_open dfx_all_open

/* ------------------------------------------------------------- the PCRF */

static void pcrf_on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *ctx,
                            dia_msg_t *req)
{
    lb_t *t = arg;
    rx_aaa_t aaa = { .result = t->aaa_result };
    rx_sta_t sta = { { DIA_SUCCESS, false } };
    dia_msg_t *ans = NULL;
    dia_avp_t oh;
    uint32_t missing;

    t->pcrf_reqs++;
    assert_int_equal(dia_msg_session_id(req, t->pcrf_sid, sizeof(t->pcrf_sid)), IMS_OK);
    if (req->code == DIA_CMD_AAR) {
        assert_int_equal(rx_parse_aar(req, &t->aar, &missing), IMS_OK);
        assert_true(dia_msg_find(req, DIA_AVP_ORIGIN_HOST, 0, &oh));
        assert_int_equal(dia_avp_str(&oh, t->af_host, sizeof(t->af_host)), IMS_OK);
        if (!aaa.result.experimental) {
            memcpy(aaa.an_charging_id, "GGSN-CID-1", 10);
            aaa.an_charging_id_len = 10;
        }
        ans = rx_build_aaa(node, req, &aaa);
    } else if (req->code == DIA_CMD_STR) {
        assert_int_equal(rx_parse_str(req, &t->str, &missing), IMS_OK);
        ans = rx_build_sta(node, req, &sta);
    } else {
        fail_msg("PCRF: unexpected request %u", req->code);
    }
    assert_non_null(ans);
    dia_node_answer(node, ctx, &ans);
    dia_msg_free(req);
}

/* ---------------------------------------------------------------- the AF */

static void af_on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *ctx,
                          dia_msg_t *req)
{
    lb_t *t = arg;
    rx_raa_t raa = { { DIA_SUCCESS, false } };
    rx_asa_t asa = { { DIA_SUCCESS, false } };
    rx_rar_t rar;
    dia_msg_t *ans = NULL;
    uint32_t missing = 0;
    int rc = IMS_ERROR;

    assert_int_equal(dia_msg_session_id(req, t->af_sid, sizeof(t->af_sid)), IMS_OK);
    if (req->code == DIA_CMD_RAR) {
        rc = rx_parse_rar(req, &rar, &missing);
        if (rc == IMS_OK) {
            t->rar = rar;
            t->af_rars++;
            ans = rx_build_raa(node, req, &raa);
        }
    } else if (req->code == DIA_CMD_ASR) {
        rc = rx_parse_asr(req, &t->asr, &missing);
        if (rc == IMS_OK) {
            t->af_asrs++;
            ans = rx_build_asa(node, req, &asa);
        }
    }
    if (rc != IMS_OK) {
        t->af_refused++;
        ans = rx_build_parse_error_answer(node, req, missing);
    }
    assert_non_null(ans);
    dia_node_answer(node, ctx, &ans);
    dia_msg_free(req);
}

static void on_answer(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    lb_t *t = arg;

    dia_msg_free(t->ans);
    t->ans = ans;
    t->err = err;
    t->answers++;
}

/* Send m (taken) from node and wait for its answer. */
static const dia_msg_t *send_wait(lb_t *t, dia_node_t *node, dia_msg_t *m)
{
    int want = t->answers + 1;

    assert_non_null(m);
    dia_node_send(node, &m, on_answer, t);
    assert_null(m);
    assert_true(wait_count(t, &t->answers, want));
    assert_int_equal(t->err, DIA_SEND_OK);
    assert_non_null(t->ans);
    return t->ans;
}

/* ------------------------------------------------------------- fixture */

static int lb_setup(void **state)
{
    lb_t *t = calloc(1, sizeof(*t));
    dia_node_cfg_t pcfg = {
        .origin_host = PCRF_HOST, .origin_realm = REALM, .listen_addr = "127.0.0.1",
        .listen_port = PCRF_PORT, .request_timeout_ms = 2000,
        .apps = { { DIA_APP_RX, V3 } }, .napps = 1,
    };
    dia_node_cfg_t acfg = pcfg;
    dia_peer_cfg_t to_pcrf = {
        .host = PCRF_HOST, .realm = REALM, .addr = "127.0.0.1", .port = PCRF_PORT,
        .connect = true
    };
    dia_peer_cfg_t from_af = { .host = PCSCF_HOST, .realm = REALM, .addr = "127.0.0.1" };

    ims_clock_drive(false, 0);
    t->loop = ims_loop_new();
    acfg.origin_host = PCSCF_HOST;
    acfg.listen_addr = NULL;
    t->pcrf = dia_node_new(t->loop, &pcfg);
    t->af = dia_node_new(t->loop, &acfg);
    assert_non_null(t->pcrf);
    assert_non_null(t->af);
    assert_int_equal(dia_node_add_peer(t->pcrf, &from_af), IMS_OK);
    assert_int_equal(dia_node_add_peer(t->af, &to_pcrf), IMS_OK);
    dia_node_on_request(t->pcrf, DIA_APP_RX, pcrf_on_request, t);
    dia_node_on_request(t->af, DIA_APP_RX, af_on_request, t);
    t->aaa_result = (rx_result_t){ DIA_SUCCESS, false };
    assert_int_equal(dia_node_start(t->pcrf), IMS_OK);
    assert_int_equal(dia_node_start(t->af), IMS_OK);
    for (uint64_t end = now_ms() + WAIT_MS; !(all_open(t->pcrf) && all_open(t->af));) {
        assert_true(now_ms() < end);
        ims_loop_run_once(t->loop, 20);
    }
    *state = t;
    return 0;
}

static int lb_teardown(void **state)
{
    lb_t *t = *state;

    dia_node_free(t->af);
    dia_node_free(t->pcrf);
    ims_loop_free(t->loop);
    dia_msg_free(t->ans);
    free(t);
    return 0;
}

/* ----------------------------------------------------------------- tests */

static void call_aar(rx_aar_t *r)
{
    rx_media_comp_t *c = &r->media[0];

    memset(r, 0, sizeof(*r));
    r->nmedia = 1;
    c->number = 1;
    c->nsubs = 2;
    c->has_media_type = true;
    c->media_type = RX_MEDIA_AUDIO;
    c->subs[0].flow_number = 1;
    strcpy(c->subs[0].flow_desc[0], UL_RTP);
    strcpy(c->subs[0].flow_desc[1], DL_RTP);
    c->subs[0].nflow_desc = 2;
    c->subs[1].flow_number = 2;
    strcpy(c->subs[1].flow_desc[0], UL_RTCP);
    strcpy(c->subs[1].flow_desc[1], DL_RTCP);
    c->subs[1].nflow_desc = 2;
    c->subs[1].has_flow_usage = true;
    c->subs[1].flow_usage = RX_USAGE_RTCP;
    r->specific_actions[0] = RX_ACTION_LOSS_OF_BEARER;
    r->specific_actions[1] = RX_ACTION_RELEASE_OF_BEARER;
    r->nspecific_actions = 2;
    r->has_framed_ip = true;
    inet_pton(AF_INET, "10.45.0.2", &r->framed_ip);
}

/* AAR (new session) and an update AAR on it; sid receives the Session-Id. */
static void af_aars(lb_t *t, rx_aar_t *r, char *sid)
{
    const dia_msg_t *ans;
    rx_aaa_t aaa;
    char got[RX_SID_MAX];

    call_aar(r);
    ans = send_wait(t, t->af, rx_build_aar(t->af, REALM, NULL, NULL, r, sid));
    assert_int_equal(t->pcrf_reqs, 1);
    assert_string_equal(t->pcrf_sid, sid);
    assert_string_equal(t->af_host, PCSCF_HOST);
    assert_int_equal(t->aar.nmedia, 1);
    assert_int_equal(t->aar.media[0].nsubs, 2);
    assert_string_equal(t->aar.media[0].subs[0].flow_desc[0], UL_RTP);
    assert_string_equal(t->aar.media[0].subs[1].flow_desc[1], DL_RTCP);
    assert_int_equal(t->aar.media[0].subs[1].flow_usage, RX_USAGE_RTCP);
    assert_int_equal(t->aar.nspecific_actions, 2);
    assert_true(t->aar.has_framed_ip);
    assert_memory_equal(&t->aar.framed_ip, &r->framed_ip, 4);
    assert_int_equal(dia_msg_session_id(ans, got, sizeof(got)), IMS_OK);
    assert_string_equal(got, sid);
    assert_int_equal(rx_parse_aaa(ans, &aaa), IMS_OK);
    assert_int_equal(aaa.result.code, DIA_SUCCESS);
    assert_false(aaa.result.experimental);
    assert_int_equal(aaa.an_charging_id_len, 10);
    assert_memory_equal(aaa.an_charging_id, "GGSN-CID-1", 10);

    /* The same AF session, modified. */
    r->has_rx_request_type = true;
    r->rx_request_type = RX_REQUEST_UPDATE;
    r->media[0].has_flow_status = true;
    r->media[0].flow_status = RX_FLOW_ENABLED;
    ans = send_wait(t, t->af, rx_build_aar(t->af, REALM, PCRF_HOST, sid, r, got));
    assert_string_equal(got, sid);
    assert_int_equal(t->pcrf_reqs, 2);
    assert_string_equal(t->pcrf_sid, sid);
    assert_true(t->aar.has_rx_request_type);
    assert_int_equal(t->aar.rx_request_type, RX_REQUEST_UPDATE);
    assert_int_equal(t->aar.media[0].flow_status, RX_FLOW_ENABLED);
    assert_int_equal(rx_parse_aaa(ans, &aaa), IMS_OK);
    assert_int_equal(aaa.result.code, DIA_SUCCESS);
}

/* m (taken, not NULL) without its top-level AVPs code/vendor. */
static dia_msg_t *drop_avp(dia_msg_t *m, uint32_t code, uint32_t vendor)
{
    dia_msg_t *d;

    assert_non_null(m);
    d = dfx_drop_avp(m, code, vendor);
    dia_msg_free(m);
    return d;
}

/* RAR, a RAR the AF refuses, and ASR, from the PCRF on the AF's session. */
static void pcrf_requests(lb_t *t, const char *sid)
{
    rx_rar_t rar = { .nspecific_actions = 1, .specific_actions = { RX_ACTION_LOSS_OF_BEARER },
                     .nflows = 1 };
    rx_asr_t asr = { RX_ABORT_BEARER_RELEASED };
    const dia_msg_t *ans;
    rx_raa_t raa;
    rx_asa_t asa;
    dia_avp_t fa, x;
    char got[RX_SID_MAX];

    rar.flows[0] = (rx_flows_t){ .media_number = 1, .nflow_numbers = 1, .flow_numbers = { 1 } };
    ans = send_wait(t, t->pcrf, rx_build_rar(t->pcrf, REALM, t->af_host, sid, &rar, got));
    assert_string_equal(got, sid);
    assert_int_equal(t->af_rars, 1);
    assert_string_equal(t->af_sid, sid);
    assert_int_equal(t->rar.nspecific_actions, 1);
    assert_int_equal(t->rar.specific_actions[0], RX_ACTION_LOSS_OF_BEARER);
    assert_int_equal(t->rar.nflows, 1);
    assert_int_equal(t->rar.flows[0].media_number, 1);
    assert_int_equal(t->rar.flows[0].flow_numbers[0], 1);
    assert_int_equal(rx_parse_raa(ans, &raa), IMS_OK);
    assert_int_equal(raa.result.code, DIA_SUCCESS);
    assert_int_equal(dia_msg_session_id(ans, got, sizeof(got)), IMS_OK);
    assert_string_equal(got, sid);

    /* Without Specific-Action: 5005 naming it, and no RAR for the AF logic. */
    ans = send_wait(t, t->pcrf,
                    drop_avp(rx_build_rar(t->pcrf, REALM, t->af_host, sid, &rar, NULL),
                             RX_AVP_SPECIFIC_ACTION, V3));
    assert_int_equal(rx_parse_raa(ans, &raa), IMS_OK);
    assert_int_equal(raa.result.code, DIA_MISSING_AVP);
    assert_true(dia_msg_find(ans, DIA_AVP_FAILED_AVP, 0, &fa));
    assert_true(dia_group_find(&fa, RX_AVP_SPECIFIC_ACTION, V3, &x));
    assert_int_equal(t->af_rars, 1);
    assert_int_equal(t->af_refused, 1);

    ans = send_wait(t, t->pcrf, rx_build_asr(t->pcrf, REALM, t->af_host, sid, &asr, NULL));
    assert_int_equal(t->af_asrs, 1);
    assert_string_equal(t->af_sid, sid);
    assert_int_equal(t->asr.abort_cause, RX_ABORT_BEARER_RELEASED);
    assert_int_equal(rx_parse_asa(ans, &asa), IMS_OK);
    assert_int_equal(asa.result.code, DIA_SUCCESS);
}

static void af_str(lb_t *t, const char *sid)
{
    rx_str_t str = { RX_TERMINATION_LOGOUT };
    const dia_msg_t *ans;
    rx_sta_t sta;
    int before = t->pcrf_reqs;

    ans = send_wait(t, t->af, rx_build_str(t->af, REALM, PCRF_HOST, sid, &str, NULL));
    assert_int_equal(t->pcrf_reqs, before + 1);
    assert_string_equal(t->pcrf_sid, sid);
    assert_int_equal(t->str.termination_cause, RX_TERMINATION_LOGOUT);
    assert_int_equal(rx_parse_sta(ans, &sta), IMS_OK);
    assert_int_equal(sta.result.code, DIA_SUCCESS);
}

/* A second session: registration signalling over IPv6, no IP-CAN session. */
static void af_second_session(lb_t *t, rx_aar_t *r, const char *first_sid)
{
    rx_media_sub_t *s = &r->media[0].subs[0];
    char sid[RX_SID_MAX];
    const dia_msg_t *ans;
    rx_aaa_t aaa;

    memset(r, 0, sizeof(*r));
    r->nmedia = 1;
    r->media[0].number = 0;
    r->media[0].nsubs = 1;
    s->flow_number = 1;
    strcpy(s->flow_desc[0], "permit in 17 from 2001:db8:45:1::2 5064 to 2001:db8::10 5062");
    s->nflow_desc = 1;
    s->has_flow_usage = s->has_af_signalling_protocol = true;
    s->flow_usage = RX_USAGE_AF_SIGNALLING;
    s->af_signalling_protocol = RX_SIGNALLING_SIP;
    r->has_framed_ipv6 = true;
    inet_pton(AF_INET6, "2001:db8:45:1::", &r->framed_ipv6_prefix);
    r->framed_ipv6_prefix_len = 64;
    t->aaa_result = (rx_result_t){ RX_IP_CAN_SESSION_NOT_AVAILABLE, true };
    ans = send_wait(t, t->af, rx_build_aar(t->af, REALM, NULL, NULL, r, sid));
    assert_string_not_equal(sid, first_sid);
    assert_string_equal(t->pcrf_sid, sid);
    assert_true(t->aar.has_framed_ipv6);
    assert_int_equal(t->aar.framed_ipv6_prefix_len, 64);
    assert_memory_equal(&t->aar.framed_ipv6_prefix, &r->framed_ipv6_prefix, 16);
    assert_int_equal(t->aar.media[0].subs[0].af_signalling_protocol, RX_SIGNALLING_SIP);
    assert_int_equal(rx_parse_aaa(ans, &aaa), IMS_OK);
    assert_int_equal(aaa.result.code, 5065);
    assert_true(aaa.result.experimental);
    assert_int_equal(aaa.an_charging_id_len, 0);
}

static void test_rx_loopback(void **state)
{
    lb_t *t = *state;
    rx_aar_t *r = calloc(1, sizeof(*r));
    char sid[RX_SID_MAX];

    af_aars(t, r, sid);
    assert_int_equal(strncmp(sid, PCSCF_HOST ";", strlen(PCSCF_HOST) + 1), 0);
    pcrf_requests(t, sid);
    af_str(t, sid);
    af_second_session(t, r, sid);
    run_for(t, 200);                        /* nothing more arrives */
    assert_int_equal(t->pcrf_reqs, 4);
    assert_int_equal(t->answers, 7);      /* each request answered once */
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rx_loopback, lb_setup, lb_teardown),
    };

    ims_log_init("test_rx_loopback", IMS_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
