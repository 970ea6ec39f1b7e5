/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-pcf: a PCF for tests, an N5 Npcf_PolicyAuthorization server (TS 29.514)
 * on our HTTP/2 server (h2c with prior knowledge, like open5gs).
 *
 *   test-pcf --listen IP:PORT --record FILE [--control IP:PORT]
 *            [--tls-cert PEM --tls-key PEM] [--reject STATUS] [--run-seconds N]
 *            [--nrf-pcf http(s)://IP:PORT ... [--nrf-validity S]] [--log-level L]
 *
 * With --tls-cert/--tls-key it serves https (TLS 1.2+, ALPN h2) instead of h2c.
 *
 * With --nrf-pcf (up to 4 times) it is also an NRF for PCF discovery
 * (TS 29.510 Nnrf_NFDiscovery): GET /nnrf-disc/v1/nf-instances answers 400
 * ProblemDetails without target-nf-type or requester-nf-type in the query (as
 * open5gs's NRF), else 200 SearchResult{validityPeriod (--nrf-validity,
 * default 3600), nfInstances}: for target-nf-type=PCF one REGISTERED PCF
 * profile per --nrf-pcf, in the order given with priority 1, 2, ... (capacity
 * 100, ipv4Addresses), each with one nfService npcf-policyauthorization (the
 * scheme of the URI, ipEndPoints ipv4Address and port); for any other type
 * none. Every discovery is recorded like the N5 requests and counted:
 * "stats" then ends with " discover=N".
 *
 * Answers as open5gs's PCF does (src/pcf/npcf-handler.c):
 *   POST /npcf-policyauthorization/v1/app-sessions: 400 ProblemDetails when
 *     the body is no AppSessionContext, or ascReqData, suppFeat, notifUri or
 *     medComponents is missing; 400 for a notifUri that is not http(s)://;
 *     404 without ueIpv4/ueIpv6 (no PDU session to bind to); 500 "Not
 *     implemented" for a medType other than AUDIO, VIDEO, CONTROL; else 201
 *     with Location http(s)://LISTEN/npcf-policyauthorization/v1/app-sessions/ID
 *     and the AppSessionContext as body. With --reject STATUS (or "reject
 *     STATUS") a create that would succeed gets STATUS with ProblemDetails
 *     cause REQUESTED_SERVICE_NOT_AUTHORIZED instead; "reject 0" stops that.
 *   PATCH .../app-sessions/ID (merge-patch): 404 for an unknown ID, 400
 *     without ascReqData or its medComponents, 500 for a bad medType, else 200
 *     with the patch as body.
 *   POST .../app-sessions/ID/delete: 404 unknown, else 204 (session gone).
 *
 * Records every request, one JSON object per line in FILE (flushed per line):
 * {"method","path","headers":{...},"json":<body parsed> or "body":"<raw>",
 * "status":<answer>,"location" (of a 201),"t_ms"}; and the answer to each
 * terminate notification it sent: {"cmd":"terminate","id","status"} or {..., "error":"timeout"...}.
 *
 * Control (UDP datagrams to --control, a one-line reply to the sender):
 * "terminate [ID|-] [CAUSE]" POSTs TerminationInfo{termCause (default
 * ALL_SDF_DEACTIVATION), resUri} to {notifUri}/terminate of the session (h2c
 * or https by notifUri's scheme; an https notifUri is not verified)
 * ("-" or nothing: the last created); "reject STATUS"; "stats" ->
 * "sessions=N create=N update=N delete=N rejected=N terminate=N
 * terminate_answered=N[ discover=N]". SIGINT/SIGTERM: the stats line on
 * stdout, exit 0.
 * Exit 2: bad arguments; 1: a socket failed.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/sbi/h2_client.h"
#include "diameter/sbi/h2_server.h"
#include "tests/tools/tool_ctl.h"

#define API "/npcf-policyauthorization/v1/app-sessions"
#define MAX_SESSIONS 65536   /* a benchmark holds thousands of calls up at once */
#define ID_MAX 32
#define URI_MAX 256
#define NRF_API "/nnrf-disc/v1/nf-instances"
#define NRF_MAX_PCF 4

typedef struct session {
    bool used;
    char id[ID_MAX];
    char notif_uri[URI_MAX];
} session_t;

typedef struct counters {
    unsigned create, update, del, rejected, terminate, terminate_answered, discover;
} counters_t;

/* A PCF the NRF role names. */
typedef struct nrf_pcf {
    bool tls;
    const char *ip;
    uint16_t port;
} nrf_pcf_t;

typedef struct pcf {
    ims_loop_t *loop;
    sbi_h2_server_t *srv;
    sbi_h2_client_t *cl;            /* http notifUris */
    sbi_h2_client_t *cls;           /* https notifUris */
    const char *scheme;             /* ours: "http" or "https" */
    tool_ctl_t ctl;
    ims_timer_t end_timer;
    FILE *rec;
    const char *listen;
    uint32_t reject;
    nrf_pcf_t nrf_pcf[NRF_MAX_PCF];
    int nrf_npcf;                   /* 0: not an NRF */
    uint32_t nrf_validity;
    unsigned next_id;
    int last;                       /* the session last created; -1 none */
    int nlive;
    session_t sessions[MAX_SESSIONS];   /* session id N lives in slot N % MAX_SESSIONS */
    counters_t n;
} pcf_t;

/* A terminate notification in flight. */
typedef struct pending {
    pcf_t *p;
    char id[ID_MAX];
} pending_t;

/* ---- records ---- */

static void record(pcf_t *p, json_t *o)
{
    json_object_set_new(o, "t_ms", json_integer((json_int_t)ims_clock_now_ms()));
    json_dumpf(o, p->rec, JSON_COMPACT);
    fputc('\n', p->rec);
    fflush(p->rec);
    json_decref(o);
}

static json_t *request_json(const sbi_h2_msg_t *req, json_t *body)
{
    json_t *o = json_pack("{s:s, s:s}", "method", req->method, "path", req->path);
    json_t *h = json_object();

    for (int i = 0; i < req->nhdrs; i++)
        json_object_set_new(h, req->hdrs[i].name, json_string(req->hdrs[i].value));
    json_object_set_new(o, "headers", h);
    if (body)
        json_object_set(o, "json", body);
    else if (req->body_len)
        json_object_set_new(o, "body", json_stringn(req->body, req->body_len));
    return o;
}

/* ---- sessions ---- */

static int session_find(const pcf_t *p, const char *id)
{
    char *end;
    unsigned long n = strtoul(id, &end, 10);
    int i = (int)(n % MAX_SESSIONS);

    if (*end != '\0' || !p->sessions[i].used || strcmp(p->sessions[i].id, id) != 0)
        return -1;
    return i;
}

static int session_add(pcf_t *p, const char *notif_uri)
{
    /* ids are consecutive unless a slot is still taken: then that id is skipped */
    for (int k = 0; k < MAX_SESSIONS && p->nlive < MAX_SESSIONS; k++) {
        int i = (int)(++p->next_id % MAX_SESSIONS);
        session_t *s = &p->sessions[i];

        if (s->used)
            continue;
        s->used = true;
        p->nlive++;
        snprintf(s->id, sizeof(s->id), "%u", p->next_id);
        snprintf(s->notif_uri, sizeof(s->notif_uri), "%s", notif_uri);
        return i;
    }
    return -1;
}

/* ---- validation as open5gs does it ---- */

static bool med_type_ok(const char *t)
{
    return t && (strcmp(t, "AUDIO") == 0 || strcmp(t, "VIDEO") == 0 ||
                 strcmp(t, "CONTROL") == 0);
}

/* A medType open5gs does not implement: 500, as it answers. */
static bool check_media(json_t *comps, sbi_h2_answer_t *ans)
{
    const char *key;
    json_t *c;
    char detail[96];

    json_object_foreach(comps, key, c) {
        const char *t = json_string_value(json_object_get(c, "medType"));

        if (!med_type_ok(t)) {
            snprintf(detail, sizeof(detail), "Not implemented : [Media-Type:%s]", t ? t : "?");
            sbi_h2_answer_problem(ans, 500, NULL, detail);
            return false;
        }
    }
    return true;
}

/* The 4xx of a create, as open5gs's checks come in order; true when it passes. */
static bool check_create(json_t *body, sbi_h2_answer_t *ans)
{
    json_t *d = json_object_get(body, "ascReqData");
    const char *uri = json_string_value(json_object_get(d, "notifUri"));
    const char *why = NULL;
    int status = 400;

    if (!json_is_object(body))
        why = "No AppSessionContext";
    else if (!json_is_object(d))
        why = "No AscReqData";
    else if (!json_is_string(json_object_get(d, "suppFeat")))
        why = "No AscReqData->suppFeat";
    else if (!uri)
        why = "No AscReqData->notifUri";
    else if (!json_is_object(json_object_get(d, "medComponents")))
        why = "No AscReqData->medComponents";
    else if (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0)
        why = "Invalid URI";
    else if (!json_object_get(d, "ueIpv4") && !json_object_get(d, "ueIpv6")) {
        why = "No ueIpv4/ueIpv6: no PDU session";
        status = 404;
    }
    if (why) {
        sbi_h2_answer_problem(ans, status, status == 404 ? "PDU_SESSION_NOT_AVAILABLE" : NULL,
                              why);
        return false;
    }
    return check_media(json_object_get(d, "medComponents"), ans);
}

/* ---- the N5 resources ---- */

static void on_create(pcf_t *p, json_t *body, sbi_h2_answer_t *ans)
{
    json_t *d = json_object_get(body, "ascReqData");
    char *text;
    int i;

    p->n.create++;
    if (!check_create(body, ans))
        return;
    if (p->reject) {
        p->n.rejected++;
        sbi_h2_answer_problem(ans, (int)p->reject, "REQUESTED_SERVICE_NOT_AUTHORIZED",
                              "rejected by test-pcf");
        return;
    }
    i = session_add(p, json_string_value(json_object_get(d, "notifUri")));
    if (i < 0) {
        sbi_h2_answer_problem(ans, 500, "INSUFFICIENT_RESOURCES", "session table full");
        return;
    }
    p->last = i;
    text = json_dumps(body, JSON_COMPACT);
    sbi_h2_answer_json(ans, 201, text ? text : "{}");
    free(text);
    snprintf(ans->location, sizeof(ans->location), "%s://%s" API "/%s", p->scheme, p->listen,
             p->sessions[i].id);
}

static void on_update(pcf_t *p, int i, json_t *body, sbi_h2_answer_t *ans)
{
    json_t *d = json_object_get(body, "ascReqData");
    char *text;

    p->n.update++;
    if (!json_is_object(d)) {
        sbi_h2_answer_problem(ans, 400, NULL, "No AscUpdateData");
        return;
    }
    if (!json_is_object(json_object_get(d, "medComponents"))) {
        sbi_h2_answer_problem(ans, 400, NULL, "No AscUpdateData->MediaComponent");
        return;
    }
    if (!check_media(json_object_get(d, "medComponents"), ans))
        return;
    p->last = i;
    text = json_dumps(body, JSON_COMPACT);
    sbi_h2_answer_json(ans, 200, text ? text : "{}");
    free(text);
}

/* The session named after API "/" in rest, and what follows the id; -1 unknown. */
static int session_of(const pcf_t *p, const char *rest, const char **sub)
{
    char id[ID_MAX];
    size_t n = strcspn(rest + 1, "/?");

    *sub = rest + 1 + n;
    if (n == 0 || n >= sizeof(id))
        return -1;
    memcpy(id, rest + 1, n);
    id[n] = '\0';
    return session_find(p, id);
}

static void route_n5(pcf_t *p, const sbi_h2_msg_t *req, json_t *body, sbi_h2_answer_t *ans)
{
    const char *rest = req->path + strlen(API), *sub = "";
    bool post = strcmp(req->method, "POST") == 0;
    int i;

    if (*rest == '\0' || *rest == '?') {
        if (post)
            on_create(p, body, ans);
        else
            sbi_h2_answer_problem(ans, 405, NULL, req->method);
        return;
    }
    i = *rest == '/' ? session_of(p, rest, &sub) : -1;
    if (i < 0) {
        sbi_h2_answer_problem(ans, 404, "APPLICATION_SESSION_CONTEXT_NOT_FOUND", req->path);
    } else if ((*sub == '\0' || *sub == '?') && strcmp(req->method, "PATCH") == 0) {
        on_update(p, i, body, ans);
    } else if (strcmp(sub, "/delete") == 0 && post) {
        p->n.del++;
        p->sessions[i].used = false;
        p->nlive--;
        if (p->last == i)
            p->last = -1;
        ans->status = 204;
    } else {
        sbi_h2_answer_problem(ans, 405, NULL, req->method);
    }
}

static void on_n5(void *arg, const sbi_h2_msg_t *req, sbi_h2_answer_t *ans)
{
    pcf_t *p = arg;
    json_t *body = req->body_len ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
    json_t *o = request_json(req, body);

    route_n5(p, req, body, ans);
    json_object_set_new(o, "status", json_integer(ans->status));
    if (ans->location[0])   /* which app session a create opened */
        json_object_set_new(o, "location", json_string(ans->location));
    record(p, o);
    json_decref(body);
}

/* ---- terminate notifications ---- */

static void on_term_answer(void *arg, sbi_h2_err_t err, const sbi_h2_msg_t *m)
{
    pending_t *w = arg;
    json_t *o = json_pack("{s:s, s:s}", "cmd", "terminate", "id", w->id);

    if (m) {
        w->p->n.terminate_answered++;
        json_object_set_new(o, "status", json_integer(m->status));
    } else {
        json_object_set_new(o, "error", json_string(sbi_h2_err_name(err)));
    }
    record(w->p, o);
    free(w);
}

/* POST {notifUri}/terminate for session i. */
static int send_terminate(pcf_t *p, int i, const char *cause, char *reply, size_t cap)
{
    const session_t *s = &p->sessions[i];
    bool tls = strncmp(s->notif_uri, "https://", 8) == 0;
    const char *hp = s->notif_uri + (tls ? 8 : 7), *slash;
    char auth[SBI_H2_AUTHORITY_MAX], path[URI_MAX + 16], res[URI_MAX], *text;
    pending_t *w;
    json_t *ti;
    sbi_h2_request_t q = { .method = "POST", .authority = auth, .path = path,
                           .content_type = "application/json", .timeout_ms = 3000 };

    slash = strchr(hp, '/');
    if ((!tls && strncmp(s->notif_uri, "http://", 7) != 0) || !slash ||
        (size_t)(slash - hp) >= sizeof(auth)) {
        snprintf(reply, cap, "error: notifUri %s not http(s)://IP:PORT/path", s->notif_uri);
        return IMS_ERROR;
    }
    snprintf(auth, sizeof(auth), "%.*s", (int)(slash - hp), hp);
    snprintf(path, sizeof(path), "%s/terminate", slash);
    snprintf(res, sizeof(res), "%s://%s" API "/%s", p->scheme, p->listen, s->id);
    ti = json_pack("{s:s, s:s}", "termCause", cause, "resUri", res);
    text = json_dumps(ti, JSON_COMPACT);
    json_decref(ti);
    q.body = text;
    q.body_len = strlen(text);
    w = calloc(1, sizeof(*w));
    if (!w)
        abort();
    w->p = p;
    snprintf(w->id, sizeof(w->id), "%s", s->id);
    if (!sbi_h2_client_request(tls ? p->cls : p->cl, &q, on_term_answer, w)) {
        free(w);
        free(text);
        snprintf(reply, cap, "error: cannot send to %s", auth);
        return IMS_ERROR;
    }
    free(text);
    p->n.terminate++;
    snprintf(reply, cap, "ok terminate id=%s", s->id);
    return IMS_OK;
}

/* ---- the NRF role ---- */

/* Query parameter name of path into buf; false when absent. */
static bool query_param(const char *path, const char *name, char *buf, size_t cap)
{
    const char *q = strchr(path, '?');
    size_t n = strlen(name);

    for (q = q ? q + 1 : NULL; q && *q;) {
        size_t len = strcspn(q, "&");

        if (len > n && strncmp(q, name, n) == 0 && q[n] == '=') {
            snprintf(buf, cap, "%.*s", (int)(len - n - 1), q + n + 1);
            return true;
        }
        q += len + (q[len] == '&');
    }
    return false;
}

/* The NFProfile of the i-th --nrf-pcf. */
static json_t *nf_profile(const pcf_t *p, int i)
{
    const nrf_pcf_t *x = &p->nrf_pcf[i];
    char id[40];

    snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", i + 1);
    return json_pack("{s:s, s:s, s:s, s:[s], s:i, s:i, s:[{s:s, s:s, s:[{s:s, s:s}], s:s, s:s,"
                     " s:[{s:s, s:i}]}]}", "nfInstanceId", id, "nfType", "PCF",
                     "nfStatus", "REGISTERED", "ipv4Addresses", x->ip, "priority", i + 1,
                     "capacity", 100, "nfServices", "serviceInstanceId", "1",
                     "serviceName", "npcf-policyauthorization", "versions",
                     "apiVersionInUri", "v1", "apiFullVersion", "1.0.0",
                     "scheme", x->tls ? "https" : "http", "nfServiceStatus", "REGISTERED",
                     "ipEndPoints", "ipv4Address", x->ip, "port", (int)x->port);
}

static void on_nrf(void *arg, const sbi_h2_msg_t *req, sbi_h2_answer_t *ans)
{
    pcf_t *p = arg;
    json_t *o = request_json(req, NULL), *sr, *list;
    char target[32], requester[32], *text;

    p->n.discover++;
    if (!query_param(req->path, "target-nf-type", target, sizeof(target))) {
        sbi_h2_answer_problem(ans, 400, "MANDATORY_QUERY_PARAM_MISSING", "No target-nf-type");
    } else if (!query_param(req->path, "requester-nf-type", requester, sizeof(requester))) {
        sbi_h2_answer_problem(ans, 400, "MANDATORY_QUERY_PARAM_MISSING",
                              "No requester-nf-type");
    } else {
        list = json_array();
        for (int i = 0; i < p->nrf_npcf && strcmp(target, "PCF") == 0; i++)
            json_array_append_new(list, nf_profile(p, i));
        sr = json_pack("{s:i, s:o}", "validityPeriod", (int)p->nrf_validity,
                       "nfInstances", list);
        text = json_dumps(sr, JSON_COMPACT);
        sbi_h2_answer_json(ans, 200, text ? text : "{}");
        free(text);
        json_decref(sr);
    }
    json_object_set_new(o, "status", json_integer(ans->status));
    record(p, o);
}

/* "http(s)://IPv4:PORT" (split in place) as the next PCF the NRF names. */
static bool nrf_pcf_add(pcf_t *p, char *uri)
{
    nrf_pcf_t *x;
    char *hp;

    if (p->nrf_npcf >= NRF_MAX_PCF)
        return false;
    x = &p->nrf_pcf[p->nrf_npcf];
    x->tls = strncmp(uri, "https://", 8) == 0;
    if (!x->tls && strncmp(uri, "http://", 7) != 0)
        return false;
    hp = uri + (x->tls ? 8 : 7);
    if (strchr(hp, '/') || !tool_split_addr(hp, &x->ip, &x->port))
        return false;
    p->nrf_npcf++;
    return true;
}

/* ---- control ---- */

static void stats_line(const pcf_t *p, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "sessions=%d create=%u update=%u delete=%u rejected=%u "
                     "terminate=%u terminate_answered=%u", p->nlive, p->n.create, p->n.update,
                     p->n.del, p->n.rejected, p->n.terminate, p->n.terminate_answered);

    if (p->nrf_npcf && n > 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, " discover=%u", p->n.discover);
}

static void ctl_command(void *arg, char *cmd, char *reply, size_t cap)
{
    pcf_t *p = arg;
    char *args = strchr(cmd, ' ');

    if (args)
        *args++ = '\0';
    if (strcmp(cmd, "terminate") == 0) {
        char *id = args ? strtok(args, " ") : NULL, *cause = id ? strtok(NULL, " ") : NULL;
        int i = (!id || strcmp(id, "-") == 0) ? p->last : session_find(p, id);

        if (i < 0)
            snprintf(reply, cap, "error: no such session");
        else
            send_terminate(p, i, cause ? cause : "ALL_SDF_DEACTIVATION", reply, cap);
    } else if (strcmp(cmd, "reject") == 0 && args && tool_parse_u32(args, 599, &p->reject) &&
               (p->reject == 0 || p->reject >= 300)) {
        snprintf(reply, cap, "ok reject %u", p->reject);
    } else if (strcmp(cmd, "stats") == 0) {
        stats_line(p, reply, cap);
    } else {
        snprintf(reply, cap, "error: unknown command");
    }
}

/* ---- run ---- */

static void finish(pcf_t *p)
{
    char line[256];

    stats_line(p, line, sizeof(line));
    printf("test-pcf: %s\n", line);
    fflush(stdout);
    ims_loop_stop(p->loop);
}

static void end_cb(ims_loop_t *loop, ims_timer_t *timer, void *arg)
{
    finish(arg);
}

static void signal_cb(ims_loop_t *loop, int signo, void *arg)
{
    finish(arg);
}

typedef struct opts {
    const char *listen, *record, *ctl_ip, *tls_cert, *tls_key;
    char *ctl;
    uint16_t ctl_port;
    uint32_t reject, run_seconds;
    int log_level;
} opts_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: test-pcf --listen IP:PORT --record FILE [--control IP:PORT]\n"
               "                [--tls-cert PEM --tls-key PEM] [--reject STATUS]"
               " [--run-seconds N]\n"
               "                [--nrf-pcf http(s)://IP:PORT ... [--nrf-validity S]]"
               " [--log-level L]\n");
}

static int parse_opts(int argc, char **argv, opts_t *o, pcf_t *p)
{
    static const struct option longopts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "record", required_argument, NULL, 'r' },
        { "control", required_argument, NULL, 'c' },
        { "tls-cert", required_argument, NULL, 'C' },
        { "tls-key", required_argument, NULL, 'K' },
        { "reject", required_argument, NULL, 'j' },
        { "run-seconds", required_argument, NULL, 's' },
        { "log-level", required_argument, NULL, 'L' },
        { "nrf-pcf", required_argument, NULL, 'N' },
        { "nrf-validity", required_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    bool ok = true;

    while (ok && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': o->listen = optarg; break;
        case 'r': o->record = optarg; break;
        case 'C': o->tls_cert = optarg; break;
        case 'K': o->tls_key = optarg; break;
        case 'c': ok = tool_split_addr(optarg, &o->ctl_ip, &o->ctl_port); break;
        case 'j': ok = tool_parse_u32(optarg, 599, &o->reject); break;
        case 's': ok = tool_parse_u32(optarg, 86400, &o->run_seconds); break;
        case 'N': ok = nrf_pcf_add(p, optarg); break;
        case 'V': ok = tool_parse_u32(optarg, 86400, &p->nrf_validity); break;
        case 'L':
            o->log_level = ims_log_level_parse(optarg);
            ok = o->log_level >= 0;
            break;
        default: ok = false;
        }
    }
    ok = ok && optind == argc && o->listen && o->record && !o->tls_cert == !o->tls_key;
    return ok ? IMS_OK : IMS_ERROR;
}

static int setup(pcf_t *p, const opts_t *o)
{
    p->rec = fopen(o->record, "a");
    if (!p->rec) {
        fprintf(stderr, "test-pcf: %s: %s\n", o->record, strerror(errno));
        return IMS_ERROR;
    }
    p->srv = o->tls_cert ? sbi_h2_server_new_tls(p->loop, o->listen, o->tls_cert, o->tls_key)
                         : sbi_h2_server_new(p->loop, o->listen);
    p->scheme = o->tls_cert ? "https" : "http";
    p->cl = sbi_h2_client_new(p->loop, NULL);
    p->cls = sbi_h2_client_new(p->loop, &(sbi_h2_client_cfg_t){ .tls = true });
    if (!p->srv || !p->cl || !p->cls ||
        sbi_h2_server_route(p->srv, NULL, API, on_n5, p) != IMS_OK ||
        (p->nrf_npcf && sbi_h2_server_route(p->srv, "GET", NRF_API, on_nrf, p) != IMS_OK))
        return IMS_ERROR;
    if (ims_loop_handle_signals(p->loop, signal_cb, p) != IMS_OK ||
        (o->ctl_ip && tool_ctl_open(&p->ctl, p->loop, o->ctl_ip, o->ctl_port, ctl_command,
                                    p) != IMS_OK)) {
        fprintf(stderr, "test-pcf: control socket or signals: %s\n", strerror(errno));
        return IMS_ERROR;
    }
    if (o->run_seconds)
        ims_timer_start(p->loop, &p->end_timer, (uint64_t)o->run_seconds * 1000, end_cb, p);
    printf("test-pcf listening on %s://%s%s\n", p->scheme, o->listen,
           p->nrf_npcf ? " (PCF and NRF)" : "");
    fflush(stdout);
    return IMS_OK;
}

int main(int argc, char **argv)
{
    static opts_t o;
    static pcf_t p;
    int rc;

    o.log_level = IMS_LOG_NOTICE;
    p.nrf_validity = 3600;
    if (parse_opts(argc, argv, &o, &p) != IMS_OK) {
        usage(stderr);
        return 2;
    }
    ims_log_init("test-pcf", (ims_log_level_t)o.log_level, stderr);
    p.loop = ims_loop_new();
    if (!p.loop)
        return 1;
    p.ctl.fd = -1;
    p.last = -1;
    p.reject = o.reject;
    p.listen = o.listen;
    ims_timer_init(&p.end_timer);
    rc = setup(&p, &o);
    if (rc == IMS_OK)
        rc = ims_loop_run(p.loop);
    ims_timer_stop(p.loop, &p.end_timer);
    tool_ctl_close(&p.ctl);
    sbi_h2_client_free(p.cl);
    sbi_h2_client_free(p.cls);
    sbi_h2_server_free(p.srv);
    ims_loop_free(p.loop);
    if (p.rec)
        fclose(p.rec);
    return rc == IMS_OK ? 0 : 1;
}
