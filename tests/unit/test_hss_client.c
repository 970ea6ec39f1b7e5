/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hss_client with its Cx backend over a real TCP connection on loopback: two
 * Diameter nodes in this process on one loop and the real clock. The client
 * node (the S-CSCF's identity) uses hss_client_new_cx; the server node (the
 * HSS's identity) answers with the Cx codec from its request handler.
 *
 * test_hss_client_loopback: UAR -> UAA Experimental 2001 with capabilities,
 * MAR -> MAA with an AKA item, SAR -> SAA with User-Data and charging names,
 * LIR -> LIA with a Server-Name, each request's fields checked as the server
 * parsed them and each answer's as the callback saw it; callbacks never run
 * inside hss_uar() etc. and exactly once. Then from the server: RTR with two
 * IMPUs and PPR with User-Data answered through the client's handlers
 * (results 2001 and Experimental 5001 back on the wire), an RTR without
 * User-Name answered 5005 with Failed-AVP, a UAR answered 3001 with the E bit.
 *
 * test_hss_client_no_route_and_free: a request to a realm with no peer is
 * reported later with IMS_ERROR and no answer; an inbound RTR with no handler
 * set gets 5012; a client freed with a request pending never calls back, and
 * Cx requests after the free are refused with 3007.
 *
 * IMS_TEST_CX_PORT fixes the server's port (for a capture); else a free one.
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
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/base/codec.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"
#include "diameter/cx/cx.h"
#include "diameter/hss_client.h"
#include "tests/unit/dia_loopback_fixture.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"
#define HSS_HOST "hss." REALM
#define SCSCF_HOST "scscf." REALM
#define IMPI "001010000000001@" REALM
#define IMPU "sip:001010000000001@" REALM
#define TEL "tel:+15550000001"
#define SCSCF_URI "sip:scscf." REALM ":5060"
#define V3 DIA_VENDOR_3GPP
#define WAIT_MS 3000
#define XML "<?xml version=\"1.0\"?><IMSSubscription><PrivateID>" IMPI "</PrivateID>" \
            "</IMSSubscription>"

typedef struct lb {
    ims_loop_t *loop;
    dia_node_t *srv, *cli;
    hss_client_t *hc;
    /* server side: what it parsed */
    int srv_reqs;
    cx_uar_t uar;
    cx_mar_t mar;
    cx_sar_t sar;
    cx_lir_t lir;
    /* client callbacks */
    int calls, status;
    bool a_null;
    cx_uaa_t uaa;
    cx_maa_t maa;
    cx_saa_t saa;           /* user_data a copy we own */
    cx_lia_t lia;
    /* inbound handlers */
    int rtr_calls, ppr_calls;
    cx_rtr_t rtr;
    char ppr_impi[CX_STR];
    char *ppr_data;
    /* answers to what the server sent */
    int srv_answers;
    dia_msg_t *srv_ans;
    dia_send_err_t srv_err;
} lb_t;

#define now_ms dfx_now_ms
#define wait_count(t, counter, want) dfx_wait_count((t)->loop, (counter), (want), WAIT_MS)
#define run_for(t, ms) dfx_run_for((t)->loop, (ms))
#define all_open dfx_all_open

static uint16_t free_port(void)
{
    const char *env = getenv("IMS_TEST_CX_PORT");
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    int fd;

    if (env && atoi(env) > 0)
        return (uint16_t)atoi(env);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* ------------------------------------------------------------- the server */

static dia_msg_t *srv_uaa(lb_t *t, dia_node_t *node, const dia_msg_t *req)
{
    cx_uaa_t a = { .result = { CX_FIRST_REGISTRATION, true }, .has_caps = true };
    uint32_t missing;

    assert_int_equal(cx_parse_uar(req, &t->uar, &missing), IMS_OK);
    a.caps.nmandatory = 1;
    a.caps.mandatory[0] = 10;
    a.caps.noptional = 2;
    a.caps.optional[0] = 20;
    a.caps.optional[1] = 21;
    a.caps.nserver_names = 1;
    strcpy(a.caps.server_name[0], SCSCF_URI);
    return cx_build_uaa(node, req, &a);
}

static dia_msg_t *srv_maa(lb_t *t, dia_node_t *node, const dia_msg_t *req)
{
    static cx_maa_t a;
    cx_auth_item_t *it = &a.items[0];
    uint32_t missing;

    assert_int_equal(cx_parse_mar(req, &t->mar, &missing), IMS_OK);
    memset(&a, 0, sizeof(a));
    a.result = (cx_result_t){ DIA_SUCCESS, false };
    strcpy(a.impi, t->mar.impi);
    a.num_items = 1;
    a.nitems = 1;
    strcpy(it->scheme, "Digest-AKAv1-MD5");
    for (int i = 0; i < 32; i++)
        it->authenticate[i] = (uint8_t)i;
    it->authenticate_len = 32;
    memset(it->authorization, 0x5a, 8);
    it->authorization_len = 8;
    memset(it->ck, 0xc1, 16);
    memset(it->ik, 0x11, 16);
    it->has_keys = true;
    return cx_build_maa(node, req, &a);
}

static dia_msg_t *srv_saa(lb_t *t, dia_node_t *node, const dia_msg_t *req)
{
    cx_saa_t a = { .result = { DIA_SUCCESS, false } };
    uint32_t missing;

    assert_int_equal(cx_parse_sar(req, &t->sar, &missing), IMS_OK);
    strcpy(a.impi, IMPI);
    a.user_data = (char *)XML;
    a.user_data_len = strlen(XML);
    strcpy(a.ecf, "aaa://ecf." REALM);
    strcpy(a.ccf, "aaa://ccf." REALM);
    return cx_build_saa(node, req, &a);
}

static dia_msg_t *srv_lia(lb_t *t, dia_node_t *node, const dia_msg_t *req)
{
    cx_lia_t a = { .result = { DIA_SUCCESS, false } };
    uint32_t missing;

    assert_int_equal(cx_parse_lir(req, &t->lir, &missing), IMS_OK);
    strcpy(a.server_name, SCSCF_URI);
    return cx_build_lia(node, req, &a);
}

static void srv_on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *ctx,
                           dia_msg_t *req)
{
    lb_t *t = arg;
    dia_msg_t *ans;

    t->srv_reqs++;
    switch (req->code) {
    case DIA_CMD_UAR: ans = srv_uaa(t, node, req); break;
    case DIA_CMD_MAR: ans = srv_maa(t, node, req); break;
    case DIA_CMD_SAR: ans = srv_saa(t, node, req); break;
    case DIA_CMD_LIR: ans = srv_lia(t, node, req); break;
    default:
        ans = cx_build_result_answer(node, req, (cx_result_t){ DIA_COMMAND_UNSUPPORTED, 0 });
        break;
    }
    assert_non_null(ans);
    dia_node_answer(node, ctx, &ans);
    dia_msg_free(req);
}

static void srv_on_answer(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    lb_t *t = arg;

    dia_msg_free(t->srv_ans);
    t->srv_ans = ans;
    t->srv_err = err;
    t->srv_answers++;
}

/* Send m (taken) from the server and wait for its answer. */
static const dia_msg_t *srv_send(lb_t *t, dia_msg_t *m)
{
    int want = t->srv_answers + 1;

    assert_non_null(m);
    dia_node_send(t->srv, &m, srv_on_answer, t);
    assert_null(m);
    assert_true(wait_count(t, &t->srv_answers, want));
    assert_int_equal(t->srv_err, DIA_SEND_OK);
    assert_non_null(t->srv_ans);
    return t->srv_ans;
}

/* -------------------------------------------------------------- the client */

static void on_uaa(void *arg, int status, const cx_uaa_t *a)
{
    lb_t *t = arg;

    t->calls++;
    t->status = status;
    t->a_null = a == NULL;
    if (a)
        t->uaa = *a;
}

static void on_maa(void *arg, int status, const cx_maa_t *a)
{
    lb_t *t = arg;

    t->calls++;
    t->status = status;
    t->a_null = a == NULL;
    if (a)
        t->maa = *a;
}

static void on_saa(void *arg, int status, const cx_saa_t *a)
{
    lb_t *t = arg;

    t->calls++;
    t->status = status;
    t->a_null = a == NULL;
    if (a) {
        t->saa = *a;
        t->saa.user_data = a->user_data ? strdup(a->user_data) : NULL;
    }
}

static void on_lia(void *arg, int status, const cx_lia_t *a)
{
    lb_t *t = arg;

    t->calls++;
    t->status = status;
    t->a_null = a == NULL;
    if (a)
        t->lia = *a;
}

static cx_result_t on_rtr(void *arg, const cx_rtr_t *r)
{
    lb_t *t = arg;

    t->rtr_calls++;
    t->rtr = *r;
    return (cx_result_t){ DIA_SUCCESS, false };
}

static cx_result_t on_ppr(void *arg, const cx_ppr_t *r)
{
    lb_t *t = arg;

    t->ppr_calls++;
    strcpy(t->ppr_impi, r->impi);
    free(t->ppr_data);
    t->ppr_data = r->user_data ? strdup(r->user_data) : NULL;
    return (cx_result_t){ CX_ERROR_USER_UNKNOWN, true };
}

/* -------------------------------------------------------------- fixture */

static int lb_setup(void **state)
{
    lb_t *t = calloc(1, sizeof(*t));
    uint16_t port = free_port();
    dia_node_cfg_t scfg = {
        .origin_host = HSS_HOST, .origin_realm = REALM, .listen_addr = "127.0.0.1",
        .listen_port = port, .request_timeout_ms = 2000,
        .apps = { { DIA_APP_CX, V3 } }, .napps = 1,
    };
    dia_node_cfg_t ccfg = scfg;
    dia_peer_cfg_t to_hss = {
        .host = HSS_HOST, .realm = REALM, .addr = "127.0.0.1", .port = port, .connect = true
    };
    dia_peer_cfg_t from_scscf = { .host = SCSCF_HOST, .realm = REALM, .addr = "127.0.0.1" };

    ims_clock_drive(false, 0);
    t->loop = ims_loop_new();
    ccfg.origin_host = SCSCF_HOST;
    ccfg.listen_addr = NULL;
    t->srv = dia_node_new(t->loop, &scfg);
    t->cli = dia_node_new(t->loop, &ccfg);
    assert_non_null(t->srv);
    assert_non_null(t->cli);
    assert_int_equal(dia_node_add_peer(t->srv, &from_scscf), IMS_OK);
    assert_int_equal(dia_node_add_peer(t->cli, &to_hss), IMS_OK);
    dia_node_on_request(t->srv, DIA_APP_CX, srv_on_request, t);
    t->hc = hss_client_new_cx(t->cli, REALM, HSS_HOST);
    assert_non_null(t->hc);
    assert_int_equal(dia_node_start(t->srv), IMS_OK);
    assert_int_equal(dia_node_start(t->cli), IMS_OK);
    for (uint64_t end = now_ms() + WAIT_MS; !(all_open(t->srv) && all_open(t->cli));) {
        assert_true(now_ms() < end);
        ims_loop_run_once(t->loop, 20);
    }
    *state = t;
    return 0;
}

static int lb_teardown(void **state)
{
    lb_t *t = *state;

    hss_client_free(t->hc);
    dia_node_free(t->cli);
    dia_node_free(t->srv);
    ims_loop_free(t->loop);
    dia_msg_free(t->srv_ans);
    cx_saa_clear(&t->saa);
    free(t->ppr_data);
    free(t);
    return 0;
}

/* ------------------------------------------------------------------ tests */

static void client_requests(lb_t *t)
{
    cx_uar_t uar = { .auth_type = 0 };
    cx_mar_t mar = { .num_items = 1 };
    cx_sar_t sar = { .nimpu = 1, .type = CX_SAT_REGISTRATION };
    cx_lir_t lir = { .originating = false };

    strcpy(uar.impi, IMPI);
    strcpy(uar.impu, IMPU);
    strcpy(uar.visited_network, REALM);
    assert_int_equal(hss_uar(t->hc, &uar, on_uaa, t), IMS_OK);
    assert_int_equal(t->calls, 0);          /* never from inside the call */
    assert_true(wait_count(t, &t->calls, 1));
    assert_int_equal(t->status, IMS_OK);
    assert_string_equal(t->uar.impi, IMPI);
    assert_string_equal(t->uar.impu, IMPU);
    assert_string_equal(t->uar.visited_network, REALM);
    assert_int_equal(t->uaa.result.code, CX_FIRST_REGISTRATION);
    assert_true(t->uaa.result.experimental);
    assert_true(t->uaa.has_caps);
    assert_int_equal(t->uaa.caps.nmandatory, 1);
    assert_int_equal(t->uaa.caps.mandatory[0], 10);
    assert_int_equal(t->uaa.caps.noptional, 2);
    assert_int_equal(t->uaa.caps.optional[1], 21);
    assert_int_equal(t->uaa.caps.nserver_names, 1);
    assert_string_equal(t->uaa.caps.server_name[0], SCSCF_URI);

    strcpy(mar.impi, IMPI);
    strcpy(mar.impu, IMPU);
    strcpy(mar.server_name, SCSCF_URI);
    strcpy(mar.item.scheme, "Digest-AKAv1-MD5");
    assert_int_equal(hss_mar(t->hc, &mar, on_maa, t), IMS_OK);
    assert_int_equal(t->calls, 1);
    assert_true(wait_count(t, &t->calls, 2));
    assert_int_equal(t->status, IMS_OK);
    assert_string_equal(t->mar.item.scheme, "Digest-AKAv1-MD5");
    assert_string_equal(t->mar.server_name, SCSCF_URI);
    assert_int_equal(t->maa.result.code, DIA_SUCCESS);
    assert_int_equal(t->maa.nitems, 1);
    assert_int_equal(t->maa.items[0].authenticate_len, 32);
    assert_int_equal(t->maa.items[0].authenticate[31], 31);
    assert_int_equal(t->maa.items[0].authorization_len, 8);
    assert_true(t->maa.items[0].has_keys);
    assert_int_equal(t->maa.items[0].ck[15], 0xc1);
    assert_int_equal(t->maa.items[0].ik[0], 0x11);

    strcpy(sar.impi, IMPI);
    strcpy(sar.impu[0], IMPU);
    strcpy(sar.server_name, SCSCF_URI);
    assert_int_equal(hss_sar(t->hc, &sar, on_saa, t), IMS_OK);
    assert_true(wait_count(t, &t->calls, 3));
    assert_int_equal(t->status, IMS_OK);
    assert_int_equal(t->sar.type, CX_SAT_REGISTRATION);
    assert_string_equal(t->sar.impu[0], IMPU);
    assert_int_equal(t->saa.result.code, DIA_SUCCESS);
    assert_string_equal(t->saa.user_data, XML);
    assert_string_equal(t->saa.ccf, "aaa://ccf." REALM);

    strcpy(lir.impu, TEL);
    assert_int_equal(hss_lir(t->hc, &lir, on_lia, t), IMS_OK);
    assert_true(wait_count(t, &t->calls, 4));
    assert_int_equal(t->status, IMS_OK);
    assert_string_equal(t->lir.impu, TEL);
    assert_string_equal(t->lia.server_name, SCSCF_URI);
    assert_int_equal(t->srv_reqs, 4);

    /* Builder refusal: IMS_ERROR now, and no callback ever. */
    uar.impi[0] = '\0';
    assert_int_equal(hss_uar(t->hc, &uar, on_uaa, t), IMS_ERROR);
    run_for(t, 100);
    assert_int_equal(t->calls, 4);
}

/* m (taken) without its top-level base AVPs code. */
static dia_msg_t *drop_avp(dia_msg_t *m, uint32_t code)
{
    dia_msg_t *d = dfx_drop_avp(m, code, 0);

    dia_msg_free(m);
    return d;
}

static void server_requests(lb_t *t)
{
    cx_rtr_t rtr = { .nimpu = 2, .reason_code = 0 };
    cx_ppr_t ppr = { 0 };
    cx_uar_t uar = { 0 };
    const dia_msg_t *ans;
    cx_result_t res;
    dia_avp_t fa, x;

    hss_client_on_rtr(t->hc, on_rtr, t);
    hss_client_on_ppr(t->hc, on_ppr, t);
    strcpy(rtr.impi, IMPI);
    strcpy(rtr.impu[0], IMPU);
    strcpy(rtr.impu[1], TEL);
    strcpy(rtr.reason_info, "subscription ended");
    ans = srv_send(t, cx_build_rtr(t->srv, REALM, SCSCF_HOST, &rtr));
    assert_int_equal(ans->code, DIA_CMD_RTR);
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, DIA_SUCCESS);
    assert_false(res.experimental);
    assert_int_equal(t->rtr_calls, 1);
    assert_string_equal(t->rtr.impi, IMPI);
    assert_int_equal(t->rtr.nimpu, 2);
    assert_string_equal(t->rtr.impu[1], TEL);
    assert_int_equal(t->rtr.reason_code, 0);
    assert_string_equal(t->rtr.reason_info, "subscription ended");

    strcpy(ppr.impi, IMPI);
    ppr.user_data = (char *)XML;
    ppr.user_data_len = strlen(XML);
    ans = srv_send(t, cx_build_ppr(t->srv, REALM, SCSCF_HOST, &ppr));
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, CX_ERROR_USER_UNKNOWN);
    assert_true(res.experimental);
    assert_int_equal(t->ppr_calls, 1);
    assert_string_equal(t->ppr_impi, IMPI);
    assert_string_equal(t->ppr_data, XML);

    /* An RTR without User-Name: 5005 naming it, and the handler not called. */
    ans = srv_send(t, drop_avp(cx_build_rtr(t->srv, REALM, SCSCF_HOST, &rtr),
                               DIA_AVP_USER_NAME));
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, DIA_MISSING_AVP);
    assert_true(dia_msg_find(ans, DIA_AVP_FAILED_AVP, 0, &fa));
    assert_true(dia_group_find(&fa, DIA_AVP_USER_NAME, 0, &x));
    assert_int_equal(t->rtr_calls, 1);

    /* A Cx command the CSCF does not serve. */
    strcpy(uar.impi, IMPI);
    strcpy(uar.impu, IMPU);
    strcpy(uar.visited_network, REALM);
    ans = srv_send(t, cx_build_uar(t->srv, REALM, SCSCF_HOST, &uar));
    assert_int_equal(ans->flags & DIA_FLAG_E, DIA_FLAG_E);
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, DIA_COMMAND_UNSUPPORTED);
}

static void test_hss_client_loopback(void **state)
{
    lb_t *t = *state;

    client_requests(t);
    server_requests(t);
    run_for(t, 200);                        /* exactly once: nothing more arrives */
    assert_int_equal(t->calls, 4);
    assert_int_equal(t->rtr_calls, 1);
    assert_int_equal(t->ppr_calls, 1);
}

static void test_hss_client_no_route_and_free(void **state)
{
    lb_t *t = *state;
    hss_client_t *other = hss_client_new_cx(t->cli, "nowhere.example", NULL);
    cx_rtr_t rtr = { .nimpu = 0, .reason_code = 3 };
    cx_uar_t uar = { 0 };
    cx_result_t res;
    const dia_msg_t *ans;

    /* No peer serves the realm: IMS_ERROR later, not inside the call. */
    assert_non_null(other);
    strcpy(uar.impi, IMPI);
    strcpy(uar.impu, IMPU);
    strcpy(uar.visited_network, REALM);
    assert_int_equal(hss_uar(other, &uar, on_uaa, t), IMS_OK);
    assert_int_equal(t->calls, 0);
    assert_true(wait_count(t, &t->calls, 1));
    assert_int_equal(t->status, IMS_ERROR);
    assert_true(t->a_null);
    hss_client_free(other);                 /* leaves the node refusing Cx */

    /* A fresh client and no handler: RTR answered 5012. */
    hss_client_free(t->hc);
    t->hc = hss_client_new_cx(t->cli, REALM, NULL);
    strcpy(rtr.impi, IMPI);
    ans = srv_send(t, cx_build_rtr(t->srv, REALM, SCSCF_HOST, &rtr));
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, DIA_UNABLE_TO_COMPLY);

    /* Freed with a request on the wire: the answer comes, the callback never. */
    assert_int_equal(hss_uar(t->hc, &uar, on_uaa, t), IMS_OK);
    hss_client_free(t->hc);
    t->hc = NULL;
    assert_true(wait_count(t, &t->srv_reqs, 1));
    run_for(t, 200);
    assert_int_equal(t->calls, 1);

    /* Cx requests to a node whose client is gone: 3007, E bit. */
    ans = srv_send(t, cx_build_rtr(t->srv, REALM, SCSCF_HOST, &rtr));
    assert_int_equal(ans->flags & DIA_FLAG_E, DIA_FLAG_E);
    assert_int_equal(cx_parse_result(ans, &res), IMS_OK);
    assert_int_equal(res.code, DIA_APPLICATION_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hss_client_loopback, lb_setup, lb_teardown),
        cmocka_unit_test_setup_teardown(test_hss_client_no_route_and_free, lb_setup,
                                        lb_teardown),
    };

    ims_log_init("test_hss_client", IMS_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
