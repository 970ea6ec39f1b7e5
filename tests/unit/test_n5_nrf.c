/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PCF discovery at the NRF for the P-CSCF's N5 client (pcscf/n5-nrf.c and its
 * use in pcscf/n5-client.c).
 *
 * The SearchResult parser on bodies as open5gs's NRF sends them (nfServices
 * and nfServiceList both), with https, apiPrefix, IPv6, default ports, the
 * profile's addresses when a service has no ipEndPoints, priority then
 * capacity ordering; what it skips (other NF types and services, suspended
 * or undiscoverable ones, FQDN-only and out-of-range endpoints, bad schemes
 * and prefixes) and its bounds (the best 8 of 12, duplicates, over-long
 * strings, malformed JSON).
 *
 * Then the N5 client with nrf configured, on one loop over loopback HTTP/2:
 * an NRF and two PCFs made of sbi_h2_server routes. Checked: creates that
 * arrive before the first answer wait and share one discovery, whose query
 * carries target-nf-type=PCF, requester-nf-type=AF, service-names and
 * requester-nf-instance-id; later creates use the cache; sessions are named
 * by their resource URI at the PCF that holds them, and update/delete go
 * there; a PCF that refuses the connection makes the create go to the next
 * one, without asking the NRF again; a fresh list of dead PCFs fails the
 * create without a discovery storm; an NRF that is down, silent, empty or
 * talking nonsense fails the create as UNREACHABLE from the loop, then holds
 * off for a second (a driven clock moves time); an expired list keeps
 * serving while the refresh is asked, and the refresh's list is used after;
 * a terminate's resUri is matched as the name (the bare id when its authority
 * is not numeric); a waiting create can be cancelled, and the free fails the
 * others once. Configuration: the keys read, nrf with pcf refused, malformed
 * NRF URIs refused, the NRF's path prefix and percent-encoded query values.
 *
 * The pcscf/ sources are compiled into this program (the daemon is not a library).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/sbi/h2_server.h"
#include "diameter/sbi/h2_stats.h"
#include "pcscf/n5-client.c"
#include "pcscf/n5-nrf.c"

#define NRF_UUID "5b0c5ff2-6a55-4f11-9d39-0a7f1d8e0c01"
#define API_URI PCSCF_N5_API "/app-sessions/"

/* ---- the parser ---- */

static const char open5gs_result[] =
    "{\"validityPeriod\":3600,\"nfInstances\":[{\"nfInstanceId\":\"1c8a1a9e-4fd1\","
    "\"nfType\":\"PCF\",\"nfStatus\":\"REGISTERED\",\"ipv4Addresses\":[\"127.0.0.13\"],"
    "\"priority\":0,\"capacity\":100,\"nfServices\":[{\"serviceInstanceId\":\"1\","
    "\"serviceName\":\"npcf-am-policy-control\",\"scheme\":\"http\",\"ipEndPoints\":"
    "[{\"ipv4Address\":\"127.0.0.13\",\"port\":7777}]},{\"serviceInstanceId\":\"2\","
    "\"serviceName\":\"npcf-policyauthorization\",\"versions\":[{\"apiVersionInUri\":\"v1\"}],"
    "\"scheme\":\"http\",\"nfServiceStatus\":\"REGISTERED\",\"ipEndPoints\":[{\"ipv4Address\":"
    "\"127.0.0.13\",\"port\":7777}]}],\"nfServiceList\":{\"2\":{\"serviceInstanceId\":\"2\","
    "\"serviceName\":\"npcf-policyauthorization\",\"scheme\":\"http\",\"ipEndPoints\":"
    "[{\"ipv4Address\":\"127.0.0.99\",\"port\":7777}]}}},{\"nfInstanceId\":\"2d9b\","
    "\"nfType\":\"PCF\",\"priority\":1,\"nfServices\":[{\"serviceName\":"
    "\"npcf-policyauthorization\",\"ipEndPoints\":[{\"ipv4Address\":\"127.0.0.14\","
    "\"port\":7777}]}]}]}";

static int parse(const char *body, pcscf_n5_pcf_t *v, size_t max, uint32_t *validity)
{
    return pcscf_n5_nrf_parse(body, strlen(body), v, max, validity);
}

static void test_parse_open5gs(void **state)
{
    pcscf_n5_pcf_t v[PCSCF_N5_NRF_MAX_PCF];
    uint32_t validity;

    (void)state;
    assert_int_equal(parse(open5gs_result, v, PCSCF_N5_NRF_MAX_PCF, &validity), 2);
    assert_int_equal(validity, 3600);
    /* the nfServices array wins over nfServiceList (open5gs sends both) */
    assert_string_equal(v[0].authority, "127.0.0.13:7777");
    assert_string_equal(v[0].prefix, "");
    assert_false(v[0].tls);
    assert_int_equal(v[0].priority, 0);
    assert_int_equal(v[0].capacity, 100);
    assert_string_equal(v[0].nf_instance_id, "1c8a1a9e-4fd1");
    assert_string_equal(v[1].authority, "127.0.0.14:7777");
    assert_int_equal(v[1].priority, 1);
}

static void test_parse_variants(void **state)
{
    static const char body[] =
        "{\"validityPeriod\":0,\"nfInstances\":[{\"nfInstanceId\":\"p6\",\"nfType\":\"PCF\","
        "\"ipv6Addresses\":[\"::1\"],\"capacity\":7,\"nfServiceList\":{\"x\":{\"serviceName\":"
        "\"npcf-policyauthorization\",\"scheme\":\"https\",\"apiPrefix\":\"pcf/a/\","
        "\"ipEndPoints\":[{\"ipv6Address\":\"2001:db8::5\"},{\"ipv4Address\":\"10.0.0.5\","
        "\"port\":8443}]},\"y\":{\"serviceName\":\"npcf-policyauthorization\","
        "\"scheme\":\"https\",\"capacity\":9}}}]}";
    pcscf_n5_pcf_t v[PCSCF_N5_NRF_MAX_PCF];
    uint32_t validity;

    (void)state;
    assert_int_equal(parse(body, v, PCSCF_N5_NRF_MAX_PCF, &validity), 3);
    assert_int_equal(validity, 1);          /* an explicit 0: the least, a second */
    /* y has the higher capacity; without endpoints, the profile's address */
    assert_string_equal(v[0].authority, "[::1]:443");
    assert_int_equal(v[0].capacity, 9);
    assert_int_equal(v[0].priority, 65535);
    assert_true(v[0].tls);
    assert_string_equal(v[0].prefix, "");
    assert_string_equal(v[1].authority, "[2001:db8::5]:443");
    assert_string_equal(v[1].prefix, "/pcf/a");
    assert_int_equal(v[1].capacity, 7);
    assert_string_equal(v[2].authority, "10.0.0.5:8443");
    assert_string_equal(v[2].nf_instance_id, "p6");
}

static void test_parse_skips(void **state)
{
    static const char body[] =
        "{\"nfInstances\":[{\"nfType\":\"PCF\",\"ipv4Addresses\":[\"10.1.1.1\",\"10.1.1.2\"],"
        "\"nfServices\":[{\"serviceName\":\"npcf-policyauthorization\"}]},"
        "{\"nfType\":\"PCF\",\"fqdn\":\"pcf.example.org\",\"nfServices\":[{\"serviceName\":"
        "\"npcf-policyauthorization\",\"fqdn\":\"pcf.example.org\",\"ipEndPoints\":"
        "[{\"port\":7777}]}]},"
        "{\"nfType\":\"PCF\",\"nfStatus\":\"SUSPENDED\",\"ipv4Addresses\":[\"10.9.9.9\"],"
        "\"nfServices\":[{\"serviceName\":\"npcf-policyauthorization\"}]},"
        "{\"nfType\":\"SMF\",\"ipv4Addresses\":[\"10.2.2.2\"],"
        "\"nfServices\":[{\"serviceName\":\"npcf-policyauthorization\"}]},"
        "{\"nfType\":\"PCF\",\"ipv4Addresses\":[\"pcf.example.org\"],\"nfServices\":["
        "{\"serviceName\":\"npcf-policyauthorization\",\"nfServiceStatus\":\"UNDISCOVERABLE\","
        "\"ipEndPoints\":[{\"ipv4Address\":\"10.3.3.3\",\"port\":1}]},"
        "{\"serviceName\":\"npcf-policyauthorization\",\"scheme\":\"ftp\","
        "\"ipEndPoints\":[{\"ipv4Address\":\"10.4.4.4\",\"port\":1}]},"
        "{\"serviceName\":\"npcf-policyauthorization\",\"apiPrefix\":\"/bad prefix\","
        "\"ipEndPoints\":[{\"ipv4Address\":\"10.5.5.5\",\"port\":1}]},"
        "{\"serviceName\":\"npcf-policyauthorization\",\"ipEndPoints\":[{\"ipv4Address\":"
        "\"10.6.6.6\",\"port\":70000},{\"ipv4Address\":\"10.6.6.7\",\"port\":0},"
        "{\"ipv4Address\":\"10.6.6.8\",\"port\":\"80\"},{\"ipv4Address\":\"::1\",\"port\":1}]},"
        "{\"serviceName\":\"npcf-policyauthorization\"}]}]}";
    pcscf_n5_pcf_t v[PCSCF_N5_NRF_MAX_PCF];
    uint32_t validity = 9;

    (void)state;
    assert_int_equal(parse(body, v, PCSCF_N5_NRF_MAX_PCF, &validity), 2);
    assert_int_equal(validity, 0);          /* absent */
    assert_string_equal(v[0].authority, "10.1.1.1:80");
    assert_string_equal(v[1].authority, "10.1.1.2:80");
    assert_string_equal(v[1].nf_instance_id, "");
}

static void test_parse_bounds(void **state)
{
    char body[8192], *p = body;
    pcscf_n5_pcf_t v[PCSCF_N5_NRF_MAX_PCF];
    uint32_t validity;
    char long_id[80];

    (void)state;
    memset(long_id, 'i', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    p += sprintf(p, "{\"nfInstances\":[");
    for (int i = 12; i >= 1; i--)   /* the worst first */
        p += sprintf(p, "{\"nfInstanceId\":\"%s\",\"priority\":%d,\"nfServices\":[{\"serviceName\":"
                     "\"npcf-policyauthorization\",\"ipEndPoints\":[{\"ipv4Address\":"
                     "\"10.0.0.%d\",\"port\":7777},{\"ipv4Address\":\"10.0.0.%d\","
                     "\"port\":7777}]}]},", i == 5 ? long_id : "x", i, i, i);
    p += sprintf(p, "{\"priority\":0,\"nfServices\":[{\"serviceName\":\"npcf-policyauthorization\","
                 "\"apiPrefix\":\"/%070d\",\"ipEndPoints\":[{\"ipv4Address\":\"10.9.0.1\"}]}]}]}",
                 0);
    assert_int_equal(parse(body, v, PCSCF_N5_NRF_MAX_PCF, &validity), PCSCF_N5_NRF_MAX_PCF);
    for (int i = 0; i < PCSCF_N5_NRF_MAX_PCF; i++) {
        char want[32];

        snprintf(want, sizeof(want), "10.0.0.%d:7777", i + 1);   /* listed twice: once */
        assert_string_equal(v[i].authority, want);
        assert_int_equal(v[i].priority, i + 1);
    }
    assert_string_equal(v[4].nf_instance_id, "");   /* too long to keep: left out */
    assert_int_equal(parse(body, v, 3, &validity), 3);
    assert_string_equal(v[2].authority, "10.0.0.3:7777");
    /* not a SearchResult */
    assert_int_equal(pcscf_n5_nrf_parse("", 0, v, 8, &validity), IMS_ERROR);
    assert_int_equal(parse("{", v, 8, &validity), IMS_ERROR);
    assert_int_equal(parse("[]", v, 8, &validity), IMS_ERROR);
    assert_int_equal(parse("{\"nfInstances\":{}}", v, 8, &validity), IMS_ERROR);
    assert_int_equal(parse("{\"nfInstances\":[1,\"x\",[],null]}", v, 8, &validity), 0);
    assert_int_equal(parse("{\"validityPeriod\":-5,\"nfInstances\":[]}", v, 8, &validity), 0);
    assert_int_equal(validity, 0);
    /* bytes past len are not read */
    assert_int_equal(pcscf_n5_nrf_parse("{\"nfInstances\":[]}xyz", 18, v, 8, &validity), 0);
}

static void test_resource_names(void **state)
{
    char ref[PCSCF_N5_REF_MAX];

    (void)state;
    assert_int_equal(pcscf_n5_parse_resource("http://127.0.0.1:7777" API_URI "12/delete", ref,
                                             sizeof(ref)), IMS_OK);
    assert_string_equal(ref, "http://127.0.0.1:7777" API_URI "12");
    assert_int_equal(pcscf_n5_parse_resource("https://[::1]:443/p/q" API_URI "a-b?x", ref,
                                             sizeof(ref)), IMS_OK);
    assert_string_equal(ref, "https://[::1]:443/p/q" API_URI "a-b");
    assert_int_equal(pcscf_n5_parse_resource("http://pcf.example:80" API_URI "1", ref,
                                             sizeof(ref)), IMS_ERROR);
    assert_int_equal(pcscf_n5_parse_resource("ftp://1.2.3.4:80" API_URI "1", ref, sizeof(ref)),
                     IMS_ERROR);
    assert_int_equal(pcscf_n5_parse_resource("http://1.2.3.4:80/a b" API_URI "1", ref,
                                             sizeof(ref)), IMS_ERROR);
    assert_int_equal(pcscf_n5_parse_resource("http://1.2.3.4:80" API_URI, ref, sizeof(ref)),
                     IMS_ERROR);
    assert_int_equal(pcscf_n5_parse_resource("http://1.2.3.4:80" API_URI "1", ref, 10),
                     IMS_ERROR);
    assert_int_equal(pcscf_n5_parse_resource(NULL, ref, sizeof(ref)), IMS_ERROR);
}

/* ---- the client with an NRF and two PCFs on loopback ---- */

typedef struct peer {
    sbi_h2_server_t *srv;
    char auth[32];
    int creates, updates, deletes, next_id;
} peer_t;

typedef struct fx {
    ims_loop_t *loop;
    sbi_h2_server_t *nrf;
    char nrf_uri[64];
    int discoveries;
    char last_query[512];
    char answer[2048];          /* the NRF's 200 body; "" with status */
    int nrf_status;             /* 0: 200 with answer; -1: never answers */
    bool https_first;           /* the first PCF named is https */
    peer_t pcf[2];
    pcscf_n5_t *n5;
    json_t *med;
    int terms;
    char term_name[PCSCF_N5_REF_MAX];
} fx_t;

typedef struct res {
    int calls;
    pcscf_n5_result_t r;
} res_t;

static void on_nrf(void *arg, const sbi_h2_msg_t *req, sbi_h2_answer_t *ans)
{
    fx_t *f = arg;

    f->discoveries++;
    snprintf(f->last_query, sizeof(f->last_query), "%s", req->path);
    if (f->nrf_status < 0) {
        ans->action = SBI_H2_IGNORE;
        return;
    }
    ans->status = f->nrf_status ? f->nrf_status : 200;
    ans->content_type = "application/json";
    ans->body = strdup(f->answer);
    ans->body_len = strlen(f->answer);
}

static void on_pcf(void *arg, const sbi_h2_msg_t *req, sbi_h2_answer_t *ans)
{
    peer_t *p = arg;
    char loc[128];

    if (strcmp(req->method, "POST") == 0 && strcmp(req->path, PCSCF_N5_API "/app-sessions") == 0) {
        p->creates++;
        snprintf(loc, sizeof(loc), "http://%s" API_URI "%d", p->auth, ++p->next_id);
        snprintf(ans->location, sizeof(ans->location), "%s", loc);
        sbi_h2_answer_json(ans, 201, "{}");
    } else if (strcmp(req->method, "PATCH") == 0) {
        p->updates++;
        sbi_h2_answer_json(ans, 200, "{}");
    } else if (strstr(req->path, "/delete")) {
        p->deletes++;
        ans->status = 204;
    } else {
        sbi_h2_answer_problem(ans, 405, NULL, req->method);
    }
}

/* The NRF names PCFs first .. first + n - 1, priority 1, 2, ... */
static void nrf_names_from(fx_t *f, int first, int n, int validity)
{
    int used = snprintf(f->answer, sizeof(f->answer), "{\"validityPeriod\":%d,\"nfInstances\":[",
                        validity);

    for (int i = first; i < first + n; i++) {
        char ip[32];
        const char *port = strrchr(f->pcf[i].auth, ':');

        snprintf(ip, sizeof(ip), "%.*s", (int)(port - f->pcf[i].auth), f->pcf[i].auth);
        used += snprintf(f->answer + used, sizeof(f->answer) - (size_t)used,
                         "%s{\"nfInstanceId\":\"pcf-%d\",\"nfType\":\"PCF\",\"priority\":%d,"
                         "\"nfServices\":[{\"serviceName\":\"npcf-policyauthorization\","
                         "\"scheme\":\"%s\",\"ipEndPoints\":[{\"ipv4Address\":\"%s\","
                         "\"port\":%s}]}]}", i > first ? "," : "", i, i - first + 1,
                         i == first && f->https_first ? "https" : "http", ip, port + 1);
    }
    snprintf(f->answer + used, sizeof(f->answer) - (size_t)used, "]}");
}

static void nrf_names(fx_t *f, int n, int validity)
{
    nrf_names_from(f, 0, n, validity);
}

static void on_term(void *arg, const char *name, const char *cause)
{
    fx_t *f = arg;

    f->terms++;
    snprintf(f->term_name, sizeof(f->term_name), "%s", name);
    (void)cause;
}

static void start_n5(fx_t *f, const char *nrf_uri)
{
    pcscf_n5_cfg_t cfg = { .nrf = nrf_uri, .notif_listen = "127.0.0.1:0",
                           .nf_instance_id = NRF_UUID, .timeout_ms = 2000 };

    f->n5 = pcscf_n5_new(f->loop, &cfg, on_term, f);
    assert_non_null(f->n5);
}

static int setup(void **state)
{
    static fx_t f;

    memset(&f, 0, sizeof(f));
    ims_log_init("test_n5_nrf", IMS_LOG_WARN, stderr);
    ims_clock_drive(true, 1000000);
    sbi_h2_stats_reset();
    f.loop = ims_loop_new();
    f.nrf = sbi_h2_server_new(f.loop, "127.0.0.1:0");
    assert_non_null(f.nrf);
    assert_int_equal(sbi_h2_server_route(f.nrf, "GET", "/nnrf-disc/v1/nf-instances", on_nrf, &f),
                     IMS_OK);
    snprintf(f.nrf_uri, sizeof(f.nrf_uri), "http://127.0.0.1:%u", sbi_h2_server_port(f.nrf));
    for (int i = 0; i < 2; i++) {
        peer_t *p = &f.pcf[i];

        p->srv = sbi_h2_server_new(f.loop, "127.0.0.1:0");
        assert_non_null(p->srv);
        snprintf(p->auth, sizeof(p->auth), "127.0.0.1:%u", sbi_h2_server_port(p->srv));
        assert_int_equal(sbi_h2_server_route(p->srv, NULL, PCSCF_N5_API, on_pcf, p), IMS_OK);
    }
    nrf_names(&f, 2, 3600);
    f.med = json_pack("{s:{s:i, s:s}}", "1", "medCompN", 1, "medType", "AUDIO");
    start_n5(&f, f.nrf_uri);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;

    pcscf_n5_free(f->n5);
    for (int i = 0; i < 2; i++)
        sbi_h2_server_free(f->pcf[i].srv);
    sbi_h2_server_free(f->nrf);
    json_decref(f->med);
    assert_int_equal(ims_loop_timer_count(f->loop), 0);
    ims_loop_free(f->loop);
    ims_clock_drive(false, 0);
    return 0;
}

static void on_res(void *arg, const pcscf_n5_result_t *r)
{
    res_t *x = arg;

    x->calls++;
    x->r = *r;
}

/* Run the loop until *calls reaches want (at most 5 s of real time). */
static bool run_until(fx_t *f, const int *calls, int want)
{
    for (int i = 0; i < 250 && *calls < want; i++)
        ims_loop_run_once(f->loop, 20);
    return *calls >= want;
}

static uint64_t create(fx_t *f, res_t *x)
{
    pcscf_n5_app_t app = { .ue_ipv4 = "10.45.0.2", .med_components = f->med };

    return pcscf_n5_create(f->n5, &app, on_res, x);
}

static void pcscf_name(const peer_t *p, int id, char *buf, size_t cap)
{
    snprintf(buf, cap, "http://%s" API_URI "%d", p->auth, id);
}

static void test_discovery_cached(void **state)
{
    fx_t *f = *state;
    res_t c[4] = { { 0 } }, u = { 0 }, d = { 0 };
    pcscf_n5_nrf_stats_t st;
    char want[PCSCF_N5_REF_MAX];

    for (int i = 0; i < 3; i++) {
        assert_true(create(f, &c[i]) > 0);
        assert_int_equal(c[i].calls, 0);    /* never from inside the call */
    }
    assert_int_equal(pcscf_n5_pending(f->n5), 3);
    assert_true(run_until(f, &c[2].calls, 1));
    assert_int_equal(f->discoveries, 1);
    assert_non_null(strstr(f->last_query, "/nnrf-disc/v1/nf-instances?target-nf-type=PCF"
                                          "&requester-nf-type=AF"
                                          "&service-names=npcf-policyauthorization"));
    assert_non_null(strstr(f->last_query, "&requester-nf-instance-id=" NRF_UUID));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c[i].r.status, PCSCF_N5_OK);
        pcscf_name(&f->pcf[0], i + 1, want, sizeof(want));
        assert_string_equal(c[i].r.app_session_id, want);
    }
    assert_int_equal(f->pcf[0].creates, 3);
    assert_true(create(f, &c[3]) > 0);
    assert_true(run_until(f, &c[3].calls, 1));
    assert_int_equal(c[3].r.status, PCSCF_N5_OK);
    assert_int_equal(f->discoveries, 1);    /* the cache */
    /* update and delete by the name, at the PCF that holds it */
    assert_true(pcscf_n5_update(f->n5, c[1].r.app_session_id, f->med, false, on_res, &u) > 0);
    assert_true(pcscf_n5_delete(f->n5, c[1].r.app_session_id, on_res, &d) > 0);
    assert_true(run_until(f, &d.calls, 1));
    assert_true(run_until(f, &u.calls, 1));
    assert_int_equal(u.r.status, PCSCF_N5_OK);
    assert_string_equal(u.r.app_session_id, c[1].r.app_session_id);
    assert_int_equal(d.r.status, PCSCF_N5_OK);
    assert_int_equal(f->pcf[0].updates, 1);
    assert_int_equal(f->pcf[0].deletes, 1);
    assert_int_equal(f->pcf[1].creates + f->pcf[1].updates + f->pcf[1].deletes, 0);
    /* a bare id is no name this client gives with an NRF */
    assert_int_equal(pcscf_n5_delete(f->n5, "2", on_res, &d), 0);
    assert_int_equal(pcscf_n5_delete(f->n5, "http://pcf.example:80" API_URI "2", on_res, &d), 0);
    pcscf_n5_nrf_get_stats(pcscf_n5_nrf_of(f->n5), &st);
    assert_int_equal(st.discoveries, 1);
    assert_int_equal(st.candidates, 2);
    assert_int_equal(st.current, 0);
    assert_int_equal(pcscf_n5_pending(f->n5), 0);
}

/* The number of refused connects of creates so far. */
static uint64_t create_connect_errors(void)
{
    const sbi_h2_stats_t *s = sbi_h2_stats();

    for (size_t i = 0; i < s->nops; i++)
        if (strcmp(s->ops[i].op, "POST app-sessions") == 0)
            return s->ops[i].errors[SBI_H2_ERR_CONNECT];
    return 0;
}

static void test_failover(void **state)
{
    fx_t *f = *state;
    res_t a = { 0 }, b = { 0 }, c = { 0 };
    pcscf_n5_nrf_stats_t st;
    char want[PCSCF_N5_REF_MAX];

    sbi_h2_server_free(f->pcf[0].srv);      /* the first PCF is gone: connections refused */
    f->pcf[0].srv = NULL;
    assert_true(create(f, &a) > 0);
    assert_true(run_until(f, &a.calls, 1));
    assert_int_equal(a.r.status, PCSCF_N5_OK);
    pcscf_name(&f->pcf[1], 1, want, sizeof(want));
    assert_string_equal(a.r.app_session_id, want);
    assert_int_equal(create_connect_errors(), 1);
    assert_true(create(f, &b) > 0);         /* straight to the second */
    assert_true(run_until(f, &b.calls, 1));
    assert_int_equal(b.r.status, PCSCF_N5_OK);
    assert_int_equal(f->pcf[1].creates, 2);
    assert_int_equal(create_connect_errors(), 1);
    assert_int_equal(f->discoveries, 1);
    pcscf_n5_nrf_get_stats(pcscf_n5_nrf_of(f->n5), &st);
    assert_int_equal(st.failovers, 1);
    assert_int_equal(st.current, 1);
    /* both gone, the list just came: the create fails, the NRF is not asked again */
    sbi_h2_server_free(f->pcf[1].srv);
    f->pcf[1].srv = NULL;
    assert_true(create(f, &c) > 0);
    assert_true(run_until(f, &c.calls, 1));
    assert_int_equal(c.r.status, PCSCF_N5_UNREACHABLE);
    assert_int_equal(f->discoveries, 1);
    assert_int_equal(create(f, &c), 0);     /* nothing to try for a moment */
    ims_clock_advance(PCSCF_N5_NRF_RETRY_MS);
    assert_true(create(f, &c) > 0);         /* asks again */
    assert_true(run_until(f, &c.calls, 2));
    assert_int_equal(f->discoveries, 2);
    assert_int_equal(c.r.status, PCSCF_N5_UNREACHABLE);
}

static void test_https_pcf(void **state)
{
    fx_t *f = *state;
    res_t a = { 0 };
    char want[PCSCF_N5_REF_MAX];

    /* the first PCF said https, but speaks h2c: the handshake fails, the next one serves */
    f->https_first = true;
    nrf_names(f, 2, 60);
    assert_true(create(f, &a) > 0);
    assert_true(run_until(f, &a.calls, 1));
    assert_int_equal(a.r.status, PCSCF_N5_OK);
    pcscf_name(&f->pcf[1], 1, want, sizeof(want));
    assert_string_equal(a.r.app_session_id, want);
    assert_int_equal(f->pcf[0].creates, 0);
    assert_int_equal(create_connect_errors(), 1);
}

static void test_nrf_down(void **state)
{
    fx_t *f = *state;
    sbi_h2_server_t *gone = sbi_h2_server_new(f->loop, "127.0.0.1:0");
    char uri[64];
    res_t a = { 0 }, b = { 0 };
    uint64_t t0 = ims_clock_real_us();
    pcscf_n5_nrf_stats_t st;

    snprintf(uri, sizeof(uri), "http://127.0.0.1:%u", sbi_h2_server_port(gone));
    sbi_h2_server_free(gone);
    pcscf_n5_free(f->n5);
    start_n5(f, uri);
    assert_true(create(f, &a) > 0);
    assert_int_equal(a.calls, 0);
    assert_true(run_until(f, &a.calls, 1));
    assert_int_equal(a.r.status, PCSCF_N5_UNREACHABLE);
    assert_string_equal(a.r.cause, "no PCF from the NRF");
    assert_true(ims_clock_real_us() - t0 < 1000000);
    assert_int_equal(create(f, &b), 0);     /* held off: refused at once */
    pcscf_n5_nrf_get_stats(pcscf_n5_nrf_of(f->n5), &st);
    assert_int_equal(st.discoveries, 1);
    assert_int_equal(st.failures, 1);
    assert_int_equal(pcscf_n5_pending(f->n5), 0);
}

/* One create against the NRF as it is set now, after the hold-off: its status. */
static pcscf_n5_status_t create_once(fx_t *f)
{
    res_t x = { 0 };

    ims_clock_advance(PCSCF_N5_NRF_RETRY_MS);
    assert_true(create(f, &x) > 0);
    assert_true(run_until(f, &x.calls, 1));
    return x.r.status;
}

static void test_nrf_useless(void **state)
{
    fx_t *f = *state;

    snprintf(f->answer, sizeof(f->answer), "{\"validityPeriod\":60,\"nfInstances\":[]}");
    assert_int_equal(create_once(f), PCSCF_N5_UNREACHABLE);
    snprintf(f->answer, sizeof(f->answer), "{\"nfInstances\":[{\"nfType\":\"PCF\","
             "\"nfServices\":[{\"serviceName\":\"npcf-policyauthorization\","
             "\"fqdn\":\"pcf.example.org\"}]}]}");
    assert_int_equal(create_once(f), PCSCF_N5_UNREACHABLE);
    snprintf(f->answer, sizeof(f->answer), "not json at all");
    assert_int_equal(create_once(f), PCSCF_N5_UNREACHABLE);
    f->nrf_status = 503;
    snprintf(f->answer, sizeof(f->answer), "{\"status\":503}");
    assert_int_equal(create_once(f), PCSCF_N5_UNREACHABLE);
    f->nrf_status = 0;
    nrf_names(f, 1, 60);
    assert_int_equal(create_once(f), PCSCF_N5_OK);
    assert_int_equal(f->discoveries, 5);
    assert_int_equal(f->pcf[0].creates, 1);
}

static void test_expiry(void **state)
{
    fx_t *f = *state;
    res_t a = { 0 }, b = { 0 }, c = { 0 };

    nrf_names(f, 2, 1);
    assert_true(create(f, &a) > 0);
    assert_true(run_until(f, &a.calls, 1));
    assert_int_equal(f->discoveries, 1);
    /* the NRF now knows only the second; the first list has expired */
    nrf_names_from(f, 1, 1, 60);
    ims_clock_advance(1500);
    assert_true(create(f, &b) > 0);         /* served from the old list meanwhile */
    assert_true(run_until(f, &b.calls, 1));
    assert_int_equal(b.r.status, PCSCF_N5_OK);
    assert_int_equal(f->pcf[0].creates, 2);
    for (int i = 0; i < 50 && f->discoveries < 2; i++)
        ims_loop_run_once(f->loop, 20);
    assert_int_equal(f->discoveries, 2);
    for (int i = 0; i < 10; i++)
        ims_loop_run_once(f->loop, 10);     /* its answer */
    assert_true(create(f, &c) > 0);
    assert_true(run_until(f, &c.calls, 1));
    assert_int_equal(c.r.status, PCSCF_N5_OK);
    assert_int_equal(f->pcf[1].creates, 1);
    assert_int_equal(f->discoveries, 2);
}

static void on_post(void *arg, sbi_h2_err_t err, const sbi_h2_msg_t *m)
{
    int *status = arg;

    *status = err == SBI_H2_OK ? m->status : -1;
}

/* POST a TerminationInfo naming resuri to the client's notification server; the status. */
static int terminate(fx_t *f, sbi_h2_client_t *cl, const char *resuri)
{
    const char *uri = pcscf_n5_notif_uri(f->n5), *hp = uri + 7, *path = strchr(hp, '/');
    char auth[64], body[512], p[128];
    int status = 0;
    sbi_h2_request_t q = { .method = "POST", .authority = auth, .path = p,
                           .content_type = "application/json", .body = body };

    snprintf(auth, sizeof(auth), "%.*s", (int)(path - hp), hp);
    snprintf(p, sizeof(p), "%s/terminate", path);
    snprintf(body, sizeof(body), "{\"resUri\":\"%s\",\"termCause\":\"ALL_SDF_DEACTIVATION\"}",
             resuri);
    q.body_len = strlen(body);
    assert_true(sbi_h2_client_request(cl, &q, on_post, &status) > 0);
    for (int i = 0; i < 250 && status == 0; i++)
        ims_loop_run_once(f->loop, 20);
    return status;
}

static void test_terminate_name(void **state)
{
    fx_t *f = *state;
    sbi_h2_client_t *cl = sbi_h2_client_new(f->loop, NULL);
    res_t a = { 0 };
    char with_tail[PCSCF_N5_REF_MAX + 16];

    assert_true(create(f, &a) > 0);
    assert_true(run_until(f, &a.calls, 1));
    snprintf(with_tail, sizeof(with_tail), "%s/x", a.r.app_session_id);
    assert_int_equal(terminate(f, cl, with_tail), 204);
    assert_int_equal(f->terms, 1);
    assert_string_equal(f->term_name, a.r.app_session_id);
    assert_int_equal(terminate(f, cl, "http://pcf.example.org:7777" API_URI "9"), 204);
    assert_string_equal(f->term_name, "9");
    assert_int_equal(terminate(f, cl, "http://127.0.0.1:1/nothing"), 400);
    assert_int_equal(f->terms, 2);
    sbi_h2_client_free(cl);
}

static void test_cancel_and_free_waiting(void **state)
{
    fx_t *f = *state;
    res_t a = { 0 }, b = { 0 };
    uint64_t ha;

    f->nrf_status = -1;                     /* the NRF takes the request, never answers */
    ha = create(f, &a);
    assert_true(ha > 0);
    assert_true(create(f, &b) > 0);
    for (int i = 0; i < 50 && f->discoveries < 1; i++)
        ims_loop_run_once(f->loop, 20);
    assert_int_equal(f->discoveries, 1);
    assert_int_equal(pcscf_n5_pending(f->n5), 2);
    pcscf_n5_cancel(f->n5, ha);
    assert_int_equal(pcscf_n5_pending(f->n5), 1);
    pcscf_n5_free(f->n5);
    f->n5 = NULL;
    assert_int_equal(a.calls, 0);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.r.status, PCSCF_N5_UNREACHABLE);
}

static void on_ready_noop(void *arg, bool found)
{
    (void)arg;
    (void)found;
}

static void test_config(void **state)
{
    fx_t *f = *state;
    char path[] = "/tmp/test_n5_nrf.XXXXXX", err[256];
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    pcscf_n5_cfg_t cfg = { .timeout_ms = 0 };
    ims_conf_t *conf;

    assert_non_null(fp);
    fprintf(fp, "n5 = { nrf = \"http://127.0.0.1:7777/nrf\"; nf_instance_id = \"%s\";\n"
                "       nrf_validity_s = 60; notif_listen = \"127.0.0.1:0\"; };\n"
                "bad = { nrf = \"http://127.0.0.1:7777\"; nrf_validity_s = 0; };\n", NRF_UUID);
    fclose(fp);
    conf = ims_conf_load(path, err, sizeof(err));
    unlink(path);
    assert_non_null(conf);
    assert_int_equal(pcscf_n5_cfg_from_conf(conf, "n5", &cfg), IMS_OK);
    assert_string_equal(cfg.nrf, "http://127.0.0.1:7777/nrf");
    assert_string_equal(cfg.nf_instance_id, NRF_UUID);
    assert_int_equal(cfg.nrf_validity_s, 60);
    assert_null(cfg.pcf);
    assert_int_equal(pcscf_n5_cfg_from_conf(conf, "bad", &cfg), IMS_ERROR);
    assert_non_null(strstr(ims_conf_error(conf), "nrf_validity_s"));
    ims_conf_free(conf);
    /* nrf with pcf or scp, and NRF URIs this client cannot use */
    cfg = (pcscf_n5_cfg_t){ .nrf = f->nrf_uri, .pcf = "127.0.0.1:7777",
                            .notif_listen = "127.0.0.1:0" };
    assert_null(pcscf_n5_new(f->loop, &cfg, NULL, NULL));
    cfg.pcf = NULL;
    cfg.scp = "127.0.0.1:7777";
    assert_null(pcscf_n5_new(f->loop, &cfg, NULL, NULL));
    cfg.scp = NULL;
    cfg.nrf = "ftp://127.0.0.1:7777";
    assert_null(pcscf_n5_new(f->loop, &cfg, NULL, NULL));
    cfg.nrf = "http://nrf.example.org:7777";
    assert_null(pcscf_n5_new(f->loop, &cfg, NULL, NULL));
    cfg.nrf = "http://127.0.0.1:7777/a b";
    assert_null(pcscf_n5_new(f->loop, &cfg, NULL, NULL));
    assert_true(pcscf_n5_nrf_uri_ok("https://[::1]:443/x/"));
    assert_false(pcscf_n5_nrf_uri_ok("http://"));
    /* the NRF's prefix, and query values percent-encoded */
    {
        pcscf_n5_nrf_cfg_t nc = { .nrf = "http://127.0.0.1:7777/base/", .dnn = "ims mnc&1",
                                  .requester_id = NRF_UUID };
        pcscf_n5_nrf_t *d = pcscf_n5_nrf_new(f->loop, &nc, on_ready_noop, NULL);

        assert_non_null(d);
        assert_string_equal(d->path, "/base/nnrf-disc/v1/nf-instances?target-nf-type=PCF"
                            "&requester-nf-type=AF&service-names=npcf-policyauthorization"
                            "&dnn=ims%20mnc%261&requester-nf-instance-id=" NRF_UUID);
        pcscf_n5_nrf_free(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_open5gs),
        cmocka_unit_test(test_parse_variants),
        cmocka_unit_test(test_parse_skips),
        cmocka_unit_test(test_parse_bounds),
        cmocka_unit_test(test_resource_names),
        cmocka_unit_test_setup_teardown(test_discovery_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_pcf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nrf_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nrf_useless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminate_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_free_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
