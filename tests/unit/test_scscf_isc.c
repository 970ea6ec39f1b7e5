/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ISC at the S-CSCF (scscf/isc.c with scscf/session.c) in-process, on the real
 * UDP transport, transaction layer and proxy core, with plain UDP sockets as
 * the UAC, the AS and the target UAS. A registered user alice@ims.test has one
 * iFC (INVITE, SessionCase 0) to the AS; her INVITE arrives by the orig Route:
 *   - the AS gets it with Route <AS;lr>, <sip:odi-...@S-CSCF;lr>; sent back by
 *     that Route it goes on to the target, the ODI record is used up, and the
 *     AS's silence toward the first request no longer counts;
 *   - AS silent: SESSION_CONTINUED -> on to the target (Route set gone) after
 *     scscf.as_timeout_ms; SESSION_TERMINATED -> 408 to the UAC at that time;
 *   - the AS answers 403 itself: forwarded; 503: an AS failure, continued;
 *   - an unknown ODI: 500; the token format;
 *   - an unregistered user (SessionCase 2, its profile as the SAA gives it):
 *     the profile travels with the ODI; back from the AS, 480; AS silent with
 *     SESSION_TERMINATED, 408.
 * Every case ends with no ODI record left.
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

#include "scscf/context.c"
#include "scscf/cx-path.c"
#include "scscf/ifc-match.c"
#include "scscf/ifc.c"
#include "scscf/isc.c"
#include "scscf/regevent.c"
#include "scscf/session.c"
#include "scscf/user-data.c"

#define WAIT_MS 2000
#define AS_MS   300   /* scscf.as_timeout_ms here */

typedef struct peer {
    int fd;
    uint16_t port;
} peer_t;

typedef struct fx {
    ims_loop_t *loop;
    sip_transport_t *tp;
    sip_txn_layer_t *layer;
    sip_proxy_t *px;
    scscf_ctx_t *ctx;
    uint16_t port;            /* the S-CSCF's */
    peer_t uac, as, uas;
    sip_msg_t *msgs[32];      /* freed by teardown */
    size_t nmsgs;
    char raw[65536];
    size_t raw_len;
} fx_t;

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

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

static void send_to_scscf(fx_t *f, const peer_t *p, const char *buf, size_t len)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->port) };

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(p->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)len);
}

/* Run the loop until a message is waiting on p (parsed, kept) or ms pass: NULL. */
static sip_msg_t *next_msg(fx_t *f, const peer_t *p, uint32_t ms)
{
    uint64_t end = now_ms() + ms;
    const char *reason = NULL;
    sip_msg_t *m = NULL;
    ssize_t n;

    while ((n = recv(p->fd, f->raw, sizeof(f->raw) - 1, MSG_DONTWAIT)) <= 0) {
        if (now_ms() >= end)
            return NULL;
        ims_loop_run_once(f->loop, 10);
    }
    f->raw[n] = '\0';
    f->raw_len = (size_t)n;
    assert_int_equal(sip_msg_parse(f->raw, f->raw_len, NULL, sizeof(f->raw), &m, &reason),
                     SIP_PARSE_OK);
    assert_true(f->nmsgs < sizeof(f->msgs) / sizeof(f->msgs[0]));
    return f->msgs[f->nmsgs++] = m;
}

/* The next request (method) or response (code) on p; 100s skipped, and requests
 * while a response is expected (retransmissions to a silent AS). */
static sip_msg_t *expect(fx_t *f, const peer_t *p, int code, const char *method)
{
    uint64_t end = now_ms() + WAIT_MS;
    sip_msg_t *m;

    while (now_ms() < end && (m = next_msg(f, p, WAIT_MS)) != NULL) {
        if (sip_msg_is_request(m) ? code != 0 : sip_msg_status(m) == 100)
            continue;
        if (code ? (!sip_msg_is_request(m) && sip_msg_status(m) == code)
                 : (sip_msg_is_request(m) && strcmp(sip_msg_method(m), method) == 0))
            return m;
        fail_msg("port %u: expected %d %s, got:\n%s", p->port, code, method, f->raw);
    }
    fail_msg("port %u: no %d %s within %d ms", p->port, code, method, WAIT_MS);
    return NULL;
}

static void expect_quiet(fx_t *f, const peer_t *p, uint32_t ms)
{
    sip_msg_t *m;

    while ((m = next_msg(f, p, ms)) != NULL)
        if (sip_msg_is_request(m) || sip_msg_status(m) != 100)
            fail_msg("port %u: expected nothing, got:\n%s", p->port, f->raw);
}

static void send_msg(fx_t *f, const peer_t *p, const sip_msg_t *m)
{
    char *buf = NULL;
    size_t len = 0;

    assert_int_equal(sip_msg_to_str(m, &buf, &len), IMS_OK);
    send_to_scscf(f, p, buf, len);
    osip_free(buf);
}

static void reply(fx_t *f, const peer_t *p, const sip_msg_t *req, int code)
{
    sip_msg_t *resp = sip_msg_make_response(req, code, NULL, "uastag");

    assert_non_null(resp);
    send_msg(f, p, resp);
    sip_msg_free(resp);
}

/* Alice's INVITE from the UAC to bob at the UAS (or to carol@ims.test), top
 * Route route (NULL: our orig Route; "": none). */
static void uac_invite_to(fx_t *f, const char *route, bool carol)
{
    char buf[2048], hdr[128], ruri[64];
    int n;

    if (route && !*route)
        hdr[0] = '\0';
    else if (route)
        snprintf(hdr, sizeof(hdr), "Route: %s\r\n", route);
    else
        snprintf(hdr, sizeof(hdr), "Route: <sip:orig@127.0.0.1:%u;lr>\r\n", f->port);
    if (carol)
        snprintf(ruri, sizeof(ruri), "sip:carol@ims.test");
    else
        snprintf(ruri, sizeof(ruri), "sip:bob@127.0.0.1:%u", f->uas.port);
    n = snprintf(buf, sizeof(buf),
                 "INVITE %s SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKuac1\r\n"
                 "%s"
                 "P-Asserted-Identity: <sip:alice@ims.test>\r\n"
                 "Max-Forwards: 70\r\n"
                 "From: <sip:alice@ims.test>;tag=uactag\r\n"
                 "To: <sip:bob@127.0.0.1>\r\n"
                 "Call-ID: isc-1@127.0.0.1\r\n"
                 "CSeq: 1 INVITE\r\n"
                 "Contact: <sip:alice@127.0.0.1:%u>\r\n"
                 "Content-Length: 0\r\n\r\n",
                 ruri, f->uac.port, hdr, f->uac.port);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    send_to_scscf(f, &f->uac, buf, (size_t)n);
}

static void uac_invite(fx_t *f, const char *route)
{
    uac_invite_to(f, route, false);
}

/* A proxy AS: its own Route entry off, its Via on top, back to the S-CSCF. */
static void as_forward(fx_t *f, sip_msg_t *req)
{
    osip_route_t *rt = osip_list_get(&req->m->routes, 0);
    osip_via_t *v = NULL;
    char via[96];

    assert_non_null(rt);
    osip_list_remove(&req->m->routes, 0);
    osip_route_free(rt);
    snprintf(via, sizeof(via), "SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKas1", f->as.port);
    assert_int_equal(osip_via_init(&v), 0);
    assert_int_equal(osip_via_parse(v, via), 0);
    osip_list_add(&req->m->vias, v, 0);
    osip_message_force_update(req->m);
    send_msg(f, &f->as, req);
}

static const osip_uri_t *route_uri(const sip_msg_t *m, int i)
{
    osip_route_t *rt = osip_list_get(&m->m->routes, i);

    assert_non_null(rt);
    assert_non_null(rt->url);
    return rt->url;
}

/* The INVITE at the AS: Route <AS;lr>, <sip:odi-...@us;lr>, nothing else. */
static sip_msg_t *as_gets_invite(fx_t *f)
{
    sip_msg_t *inv = expect(f, &f->as, 0, "INVITE");
    const osip_uri_t *as = route_uri(inv, 0), *odi = route_uri(inv, 1);
    osip_uri_param_t *lr = NULL;
    char port[8];

    assert_int_equal(osip_list_size(&inv->m->routes), 2);
    snprintf(port, sizeof(port), "%u", f->as.port);
    assert_string_equal(as->port, port);
    assert_int_equal(osip_uri_uparam_get_byname((osip_uri_t *)as, "lr", &lr), 0);
    assert_true(scscf_isc_is_token(odi->username));
    snprintf(port, sizeof(port), "%u", f->port);
    assert_string_equal(odi->host, "127.0.0.1");
    assert_string_equal(odi->port, port);
    assert_int_equal(osip_uri_uparam_get_byname((osip_uri_t *)odi, "lr", &lr), 0);
    assert_int_equal(scscf_isc_count(), 1);
    return inv;
}

/* ---- the S-CSCF under test ---- */

static void on_message(void *arg, sip_msg_t *msg)
{
    fx_t *f = arg;

    sip_txn_layer_input(f->layer, msg);
}

/* The profile of an unregistered user (carol) as SAR UNREGISTERED_USER gives
 * it: one iFC for SessionCase 2 to the AS. */
static scscf_profile_t *unreg_profile(uint16_t as_port, int default_handling)
{
    char xml[2048];
    int n = snprintf(xml, sizeof(xml),
        "<IMSSubscription><PrivateID>carol@ims.test</PrivateID><ServiceProfile>"
        "<PublicIdentity><Identity>sip:carol@ims.test</Identity></PublicIdentity>"
        "<InitialFilterCriteria><Priority>1</Priority><TriggerPoint>"
        "<ConditionTypeCNF>1</ConditionTypeCNF>"
        "<SPT><ConditionNegated>0</ConditionNegated><Group>0</Group><SessionCase>2</SessionCase>"
        "</SPT></TriggerPoint><ApplicationServer><ServerName>sip:127.0.0.1:%u</ServerName>"
        "<DefaultHandling>%d</DefaultHandling></ApplicationServer>"
        "<ProfilePartIndicator>1</ProfilePartIndicator></InitialFilterCriteria>"
        "</ServiceProfile></IMSSubscription>", as_port, default_handling);

    assert_true(n > 0 && (size_t)n < sizeof(xml));
    return scscf_user_data_parse(xml, (size_t)n, NULL, 0);
}

static int carol_dh = -1;        /* >= 0: carol's requests take the unregistered case */
static uint16_t carol_as_port;

/* scscf/init.c's on_request for a non-REGISTER (arg: the context); a first
 * request for carol goes where session.c's on_unreg_saa sends it. */
static int on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req)
{
    const char *user = req->m->req_uri->username;

    if (osip_list_size(&req->m->routes) != 0)
        return IMS_DECLINED;
    if (carol_dh >= 0 && user && strcmp(user, "carol") == 0 &&
        !scscf_isc_is_token(sip_proxy_req_route_user(pr))) {
        scscf_isc_state_t st = { .session_case = SCSCF_CASE_TERM_UNREG,
                                 .pos = SCSCF_IFC_START, .impu = "sip:carol@ims.test" };

        st.unreg = unreg_profile(carol_as_port, carol_dh);
        assert_non_null(st.unreg);
        if (isc_then_route(arg, pr, req, &st) == IMS_DECLINED)
            sip_proxy_forward(pr);
        return IMS_OK;
    }
    return scscf_session_request(arg, pr, req);
}

static void alice(fx_t *f, int default_handling)
{
    scscf_reg_t *reg = scscf_reg_get(f->ctx, "alice@ims.test");
    scscf_profile_t *p;
    char xml[2048];
    int n = snprintf(xml, sizeof(xml),
        "<IMSSubscription><PrivateID>alice@ims.test</PrivateID><ServiceProfile>"
        "<PublicIdentity><Identity>sip:alice@ims.test</Identity></PublicIdentity>"
        "<InitialFilterCriteria><Priority>0</Priority><TriggerPoint>"
        "<ConditionTypeCNF>1</ConditionTypeCNF>"
        "<SPT><ConditionNegated>0</ConditionNegated><Group>0</Group><Method>INVITE</Method></SPT>"
        "<SPT><ConditionNegated>0</ConditionNegated><Group>1</Group><SessionCase>0</SessionCase>"
        "</SPT></TriggerPoint><ApplicationServer><ServerName>sip:127.0.0.1:%u</ServerName>"
        "<DefaultHandling>%d</DefaultHandling></ApplicationServer></InitialFilterCriteria>"
        "</ServiceProfile></IMSSubscription>", f->as.port, default_handling);

    assert_true(n > 0 && (size_t)n < sizeof(xml));
    p = scscf_user_data_parse(xml, (size_t)n, NULL, 0);
    assert_non_null(reg);
    assert_non_null(p);
    scscf_reg_set_profile(reg, p);
    scscf_reg_set_registered(reg);
}

static void scscf_up(fx_t *f, int default_handling)
{
    sip_proxy_handler_t h = { .on_request = on_request,
                              .on_response = scscf_session_on_response,
                              .on_failure = scscf_session_on_failure };
    scscf_cfg_t cfg;
    sip_addr_t me;

    f->loop = ims_loop_new();
    assert_non_null(f->loop);
    f->tp = sip_transport_new(f->loop, NULL, on_message, f);
    assert_non_null(f->tp);
    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_UDP, "127.0.0.1", 0), IMS_OK);
    assert_int_equal(sip_transport_local(f->tp, SIP_PROTO_UDP, AF_INET, &me), IMS_OK);
    f->port = sip_addr_port(&me);
    f->layer = sip_txn_layer_new(f->loop, f->tp, NULL);
    assert_non_null(f->layer);
    scscf_cfg_defaults(&cfg);
    snprintf(cfg.domain, sizeof(cfg.domain), "ims.test");
    snprintf(cfg.uri, sizeof(cfg.uri), "sip:127.0.0.1:%u", f->port);
    scscf_cfg_finish(&cfg);
    f->ctx = scscf_ctx_new(f->loop, &cfg);
    f->ctx->enabled = true;
    assert_int_equal(scscf_session_conf_load(NULL, &cfg), IMS_OK);
    as_timeout_ms = AS_MS;
    f->px = sip_proxy_new(f->layer, NULL, &h, f->ctx);
    alice(f, default_handling);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    peer_open(&f->uac);
    peer_open(&f->as);
    peer_open(&f->uas);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;

    scscf_session_stop();
    sip_proxy_free(f->px);
    if (f->ctx)
        scscf_ctx_free(f->ctx);
    if (f->layer)
        sip_txn_layer_free(f->layer);
    if (f->tp)
        sip_transport_free(f->tp);
    if (f->loop)
        ims_loop_free(f->loop);
    close(f->uac.fd);
    close(f->as.fd);
    close(f->uas.fd);
    while (f->nmsgs)
        sip_msg_free(f->msgs[--f->nmsgs]);
    free(f);
    return 0;
}

/* ---- tests ---- */

/* To the AS with the ODI and back: on to the target, the record used up. */
static void test_as_and_back(void **state)
{
    fx_t *f = *state;
    sip_msg_t *inv, *out;

    scscf_up(f, 0);
    uac_invite(f, NULL);
    inv = as_gets_invite(f);
    as_forward(f, inv);
    out = expect(f, &f->uas, 0, "INVITE");
    assert_int_equal(osip_list_size(&out->m->routes), 0);
    assert_string_equal(out->m->req_uri->username, "bob");
    assert_int_equal(scscf_isc_count(), 0);
    /* The AS never answered the first request: that is no failure now. */
    expect_quiet(f, &f->uac, AS_MS + 200);
    reply(f, &f->uas, out, 486);
    /* the 486 goes to the AS (the returned request's upstream) */
    expect(f, &f->as, 486, NULL);
}

/* AS silent, SESSION_CONTINUED: on to the target after as_timeout_ms. */
static void test_continued(void **state)
{
    fx_t *f = *state;
    sip_msg_t *out;
    uint64_t t0 = now_ms(), dt;

    scscf_up(f, 0);
    uac_invite(f, NULL);
    as_gets_invite(f);
    out = expect(f, &f->uas, 0, "INVITE");
    dt = now_ms() - t0;
    assert_true(dt >= AS_MS - 50 && dt < AS_MS + 400);
    assert_int_equal(osip_list_size(&out->m->routes), 0);
    assert_int_equal(scscf_isc_count(), 0);
    reply(f, &f->uas, out, 200);
    expect(f, &f->uac, 200, NULL);
}

/* AS silent, SESSION_TERMINATED: 408 to the UAC at as_timeout_ms. */
static void test_terminated(void **state)
{
    fx_t *f = *state;
    uint64_t t0 = now_ms(), dt;

    scscf_up(f, 1);
    uac_invite(f, NULL);
    as_gets_invite(f);
    expect(f, &f->uac, 408, NULL);
    dt = now_ms() - t0;
    assert_true(dt >= AS_MS - 50 && dt < AS_MS + 400);
    assert_int_equal(scscf_isc_count(), 0);
    expect_quiet(f, &f->uas, 200);
}

/* The AS answers itself: a 403 is its answer, a 503 its failure. */
static void test_as_answers(void **state)
{
    fx_t *f = *state;
    sip_msg_t *inv;

    scscf_up(f, 0);
    uac_invite(f, NULL);
    inv = as_gets_invite(f);
    reply(f, &f->as, inv, 403);
    expect(f, &f->uac, 403, NULL);
    assert_int_equal(scscf_isc_count(), 0);
    expect_quiet(f, &f->uas, 200);
}

static void test_as_503(void **state)
{
    fx_t *f = *state;
    sip_msg_t *inv;

    scscf_up(f, 0);
    uac_invite(f, NULL);
    inv = as_gets_invite(f);
    reply(f, &f->as, inv, 503);
    expect(f, &f->uas, 0, "INVITE");
    assert_int_equal(scscf_isc_count(), 0);
}

/* A request by an ODI Route that names no record. */
static void test_unknown_odi(void **state)
{
    fx_t *f = *state;
    char route[96];

    scscf_up(f, 0);
    snprintf(route, sizeof(route), "<sip:odi-00000000000000000000@127.0.0.1:%u;lr>", f->port);
    uac_invite(f, route);
    expect(f, &f->uac, 500, NULL);
    expect_quiet(f, &f->as, 100);
    expect_quiet(f, &f->uas, 100);
}

/* Unregistered user: its profile goes with the ODI and comes back; with no iFC
 * left and nobody registered, 480 (to the AS, the returned request's upstream). */
static void test_unregistered_back(void **state)
{
    fx_t *f = *state;
    sip_msg_t *inv;

    scscf_up(f, 0);
    carol_dh = 0;
    carol_as_port = f->as.port;
    uac_invite_to(f, "", true);
    inv = expect(f, &f->as, 0, "INVITE");
    assert_true(scscf_isc_is_token(route_uri(inv, 1)->username));
    assert_int_equal(scscf_isc_count(), 1);
    as_forward(f, inv);
    expect(f, &f->as, 480, NULL);
    assert_int_equal(scscf_isc_count(), 0);
    carol_dh = -1;
}

/* Unregistered user, AS silent, SESSION_TERMINATED: 408; the profile freed
 * with the record (LeakSanitizer would see it otherwise). */
static void test_unregistered_terminated(void **state)
{
    fx_t *f = *state;

    scscf_up(f, 0);
    carol_dh = 1;
    carol_as_port = f->as.port;
    uac_invite_to(f, "", true);
    expect(f, &f->as, 0, "INVITE");
    expect(f, &f->uac, 408, NULL);
    assert_int_equal(scscf_isc_count(), 0);
    carol_dh = -1;
}

/* Unregistered user, the AS answers itself (a voicemail's 200): the record
 * and the profile go with the final response (scscf_isc_settled). */
static void test_unregistered_as_answers(void **state)
{
    fx_t *f = *state;
    sip_msg_t *inv;

    scscf_up(f, 0);
    carol_dh = 0;
    carol_as_port = f->as.port;
    uac_invite_to(f, "", true);
    inv = expect(f, &f->as, 0, "INVITE");
    reply(f, &f->as, inv, 200);
    expect(f, &f->uac, 200, NULL);
    assert_int_equal(scscf_isc_count(), 0);
    carol_dh = -1;
}

static void test_token(void **state)
{
    (void)state;
    assert_true(scscf_isc_is_token("odi-0123456789abcdef0123"));
    assert_false(scscf_isc_is_token("odi-0123456789abcdef012"));     /* short */
    assert_false(scscf_isc_is_token("odi-0123456789abcdef01234"));   /* long */
    assert_false(scscf_isc_is_token("odi-0123456789ABCDEF0123"));    /* not ours */
    assert_false(scscf_isc_is_token("odx-0123456789abcdef0123"));
    assert_false(scscf_isc_is_token("odi-0123456789abcdef012g"));
    assert_false(scscf_isc_is_token("orig"));
    assert_false(scscf_isc_is_token(""));
    assert_false(scscf_isc_is_token(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_as_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_as_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_as_503, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_odi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unregistered_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unregistered_terminated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unregistered_as_answers, setup, teardown),
        cmocka_unit_test(test_token),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
