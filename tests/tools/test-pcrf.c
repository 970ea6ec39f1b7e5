/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-pcrf: a PCRF for tests, an Rx server (TS 29.214) on our Diameter stack.
 *
 *   test-pcrf --origin-host H --origin-realm R --listen IP:PORT
 *             --af HOST[/REALM]@IP[:PORT] ... --record FILE
 *             [--control IP:PORT] [--reject CODE] [--run-seconds N] [--log-level L]
 *
 * Answers AAR with AAA (2001, IP-CAN-Type 3GPP-EPS, RAT-Type EUTRAN) and STR
 * with STA (2001, or 5002 for a session it does not know). An AAR that asks for
 * an UPDATE of an unknown session gets 5002 too. With --reject CODE (or the
 * control command "reject CODE") every AAR that would open a session is
 * refused with Experimental-Result CODE (vendor 10415: 5061..5066); "reject 0"
 * stops that. "mute 1" leaves every such AAR unanswered (recorded with
 * "dropped":true), for the AF's timeout; "mute 0" stops that. "delay MS" holds
 * every AAA back for MS ms ("delay 0" stops that): the AF's next request
 * overtakes the answer. A request the
 * Rx codec refuses gets 5005/5004 as rx.h builds it.
 *
 * Records every request it receives and every answer it gets, one JSON object
 * per line in FILE (flushed per line): {"cmd":"AAR","sid":..., "origin_host":...,
 * every AVP of interest as rx.h parses it, "answer":{"result":N,"experimental":B}};
 * STR with "termination_cause"; ASA / RAA as {"cmd":"ASA","sid":...,"answer":{...}}
 * or {"cmd":"ASA","sid":...,"error":"timeout"|"no peer"|"shutdown"|"parse"}.
 *
 * Control (UDP datagrams to --control, one command each, a one-line reply to
 * the sender): "asr [SID|-] [ABORT-CAUSE]" and "rar [SID|-] [SPECIFIC-ACTION]"
 * send ASR / RAR to the AF that opened the session ("-" or nothing: the
 * session last opened or updated); "reject CODE"; "mute 0|1"; "delay MS"; "stats" ->
 * "sessions=N aar=N aar_rejected=N str=N asr=N asa=N rar=N raa=N". SIGHUP sends
 * ASR on the last session too. SIGINT/SIGTERM: the stats line on stdout, DPR to
 * the peers, exit 0. Exit 2: bad arguments; 1: the node or a socket failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/clock.h"
#include "common/core/hash.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"
#include "diameter/rx/rx.h"

#define MAX_AFS 8
#define MAX_SESSIONS 65536   /* a benchmark holds thousands of calls up at once */
#define HOST_MAX 256
#define IP_CAN_3GPP_EPS 5
#define RAT_EUTRAN 1004

typedef struct session {
    bool used;
    char sid[RX_SID_MAX];
    char af_host[HOST_MAX];
} session_t;

typedef struct counters {
    unsigned aar, aar_rejected, str, asr, asa, rar, raa;
} counters_t;

typedef struct pcrf {
    ims_loop_t *loop;
    dia_node_t *node;
    ims_timer_t end_timer;
    FILE *rec;
    int ctl_fd;
    uint32_t reject;                 /* 0, or the Experimental-Result-Code for new sessions */
    uint32_t mute;                   /* 1: AARs for new sessions get no answer */
    uint32_t delay_ms;               /* AAAs wait this long before they go; 0 none */
    struct delayed *delayed;         /* those waiting */
    session_t *sessions;             /* MAX_SESSIONS slots */
    ims_hash_t *by_sid;              /* Session-Id -> slot + 1 */
    int *free_slots, nfree;          /* a stack of the unused slots */
    int last;                        /* the session last opened or updated; -1 none */
    counters_t n;
    bool finishing;
} pcrf_t;

/* An AAA held back by "delay MS" (the AF's requests overtaking each other). */
typedef struct delayed {
    pcrf_t *p;
    dia_req_ctx_t ctx;
    dia_msg_t *ans;
    ims_timer_t timer;
    struct delayed *next;
} delayed_t;

/* An ASR / RAR in flight: which session, for the record of its answer. */
typedef struct pending {
    pcrf_t *p;
    const char *cmd;                 /* "ASA" / "RAA" */
    char sid[RX_SID_MAX];
} pending_t;

/* ---- records ---- */

static void record(pcrf_t *p, json_t *o)
{
    json_object_set_new(o, "t_ms", json_integer((json_int_t)ims_clock_now_ms()));
    json_dumpf(o, p->rec, JSON_COMPACT);
    fputc('\n', p->rec);
    fflush(p->rec);
    json_decref(o);
}

static void set_u32(json_t *o, const char *key, bool has, uint32_t v)
{
    if (has)
        json_object_set_new(o, key, json_integer(v));
}

static void set_str(json_t *o, const char *key, const char *s)
{
    if (s[0])
        json_object_set_new(o, key, json_string(s));
}

static json_t *u32_array(const uint32_t *v, int n)
{
    json_t *a = json_array();

    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *sub_json(const rx_media_sub_t *s)
{
    json_t *o = json_object(), *fd = json_array();

    json_object_set_new(o, "flow_number", json_integer(s->flow_number));
    for (int i = 0; i < s->nflow_desc; i++)
        json_array_append_new(fd, json_string(s->flow_desc[i]));
    json_object_set_new(o, "flow_desc", fd);
    set_u32(o, "flow_usage", s->has_flow_usage, s->flow_usage);
    set_u32(o, "flow_status", s->has_flow_status, s->flow_status);
    set_u32(o, "af_signalling_protocol", s->has_af_signalling_protocol,
            s->af_signalling_protocol);
    return o;
}

static json_t *media_json(const rx_media_comp_t *m)
{
    json_t *o = json_object(), *subs = json_array(), *cd = json_array();

    json_object_set_new(o, "number", json_integer(m->number));
    set_u32(o, "media_type", m->has_media_type, m->media_type);
    set_u32(o, "flow_status", m->has_flow_status, m->flow_status);
    set_u32(o, "max_bw_ul", m->has_max_bw_ul, m->max_bw_ul);
    set_u32(o, "max_bw_dl", m->has_max_bw_dl, m->max_bw_dl);
    set_u32(o, "rr_bw", m->has_rr_bw, m->rr_bw);
    set_u32(o, "rs_bw", m->has_rs_bw, m->rs_bw);
    for (int i = 0; i < m->ncodec_data; i++)
        json_array_append_new(cd, json_string(m->codec_data[i]));
    json_object_set_new(o, "codec_data", cd);
    for (int i = 0; i < m->nsubs; i++)
        json_array_append_new(subs, sub_json(&m->subs[i]));
    json_object_set_new(o, "subs", subs);
    return o;
}

static void aar_fields(json_t *o, const rx_aar_t *r)
{
    char ip[INET6_ADDRSTRLEN + 8];
    json_t *media = json_array(), *ids = json_array();

    set_str(o, "af_app_id", r->af_app_id);
    set_str(o, "af_charging_id", r->af_charging_id);
    if (r->has_framed_ip && inet_ntop(AF_INET, &r->framed_ip, ip, sizeof(ip)))
        json_object_set_new(o, "framed_ip", json_string(ip));
    if (r->has_framed_ipv6 && inet_ntop(AF_INET6, &r->framed_ipv6_prefix, ip, INET6_ADDRSTRLEN)) {
        snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), "/%u", r->framed_ipv6_prefix_len);
        json_object_set_new(o, "framed_ipv6_prefix", json_string(ip));
    }
    set_u32(o, "rx_request_type", r->has_rx_request_type, r->rx_request_type);
    set_u32(o, "service_info_status", r->has_service_info_status, r->service_info_status);
    set_u32(o, "sip_forking", r->has_sip_forking, r->sip_forking);
    json_object_set_new(o, "specific_actions",
                        u32_array(r->specific_actions, r->nspecific_actions));
    for (int i = 0; i < r->nsub_ids; i++)
        json_array_append_new(ids, json_pack("{s:I, s:s}", "type",
                                             (json_int_t)r->sub_ids[i].type, "data",
                                             r->sub_ids[i].data));
    json_object_set_new(o, "sub_ids", ids);
    for (int i = 0; i < r->nmedia; i++)
        json_array_append_new(media, media_json(&r->media[i]));
    json_object_set_new(o, "media", media);
}

static json_t *result_json(rx_result_t r)
{
    return json_pack("{s:I, s:b}", "result", (json_int_t)r.code, "experimental", r.experimental);
}

/* ---- sessions ---- */

static int session_find(const pcrf_t *p, const char *sid)
{
    intptr_t v = (intptr_t)ims_hash_find(p->by_sid, sid);

    return v ? (int)v - 1 : -1;
}

static int session_add(pcrf_t *p, const char *sid, const char *af_host)
{
    session_t *s;
    int i;

    if (p->nfree == 0)
        return -1;
    i = p->free_slots[--p->nfree];
    s = &p->sessions[i];
    s->used = true;
    snprintf(s->sid, sizeof(s->sid), "%s", sid);
    snprintf(s->af_host, sizeof(s->af_host), "%s", af_host);
    if (ims_hash_insert(p->by_sid, s->sid, (void *)(intptr_t)(i + 1)) != IMS_OK) {
        s->used = false;
        p->free_slots[p->nfree++] = i;
        return -1;
    }
    return i;
}

static void session_remove(pcrf_t *p, int i)
{
    ims_hash_remove(p->by_sid, p->sessions[i].sid);
    p->sessions[i].used = false;
    p->free_slots[p->nfree++] = i;
}

static int session_count(const pcrf_t *p)
{
    return MAX_SESSIONS - p->nfree;
}

/* ---- requests from the AF ---- */

/* The outcome for a parsed AAR: a new or known session, or the configured refusal. */
static rx_result_t aar_decide(pcrf_t *p, const rx_aar_t *r, const char *sid, const char *host)
{
    int i = session_find(p, sid);

    if (i < 0 && r->has_rx_request_type && r->rx_request_type == RX_REQUEST_UPDATE)
        return (rx_result_t){ DIA_UNKNOWN_SESSION_ID, false };
    if (i < 0 && p->reject) {
        p->n.aar_rejected++;
        return (rx_result_t){ p->reject, true };
    }
    if (i < 0)
        i = session_add(p, sid, host);
    if (i < 0)
        return (rx_result_t){ DIA_UNABLE_TO_COMPLY, false };
    p->last = i;
    return (rx_result_t){ DIA_SUCCESS, false };
}

static dia_msg_t *on_aar(pcrf_t *p, const dia_msg_t *req, json_t *o, const char *sid,
                         const char *host)
{
    static rx_aar_t r;
    rx_aaa_t aaa;
    uint32_t missing = 0;

    p->n.aar++;
    if (rx_parse_aar(req, &r, &missing) != IMS_OK) {
        json_object_set_new(o, "error", json_string("parse"));
        json_object_set_new(o, "missing", json_integer(missing));
        return rx_build_parse_error_answer(p->node, req, missing);
    }
    aar_fields(o, &r);
    if (p->mute && session_find(p, sid) < 0) {
        json_object_set_new(o, "dropped", json_true());
        return NULL;
    }
    memset(&aaa, 0, sizeof(aaa));
    aaa.result = aar_decide(p, &r, sid, host);
    if (aaa.result.code == DIA_SUCCESS) {
        aaa.has_ip_can_type = aaa.has_rat_type = true;
        aaa.ip_can_type = IP_CAN_3GPP_EPS;
        aaa.rat_type = RAT_EUTRAN;
    }
    json_object_set_new(o, "answer", result_json(aaa.result));
    return rx_build_aaa(p->node, req, &aaa);
}

static dia_msg_t *on_str(pcrf_t *p, const dia_msg_t *req, json_t *o, const char *sid)
{
    rx_str_t r;
    rx_sta_t sta = { { DIA_SUCCESS, false } };
    uint32_t missing = 0;
    int i;

    p->n.str++;
    if (rx_parse_str(req, &r, &missing) != IMS_OK) {
        json_object_set_new(o, "error", json_string("parse"));
        json_object_set_new(o, "missing", json_integer(missing));
        return rx_build_parse_error_answer(p->node, req, missing);
    }
    json_object_set_new(o, "termination_cause", json_integer(r.termination_cause));
    i = session_find(p, sid);
    if (i < 0) {
        sta.result.code = DIA_UNKNOWN_SESSION_ID;
    } else {
        session_remove(p, i);
        if (p->last == i)
            p->last = -1;
    }
    json_object_set_new(o, "answer", result_json(sta.result));
    return rx_build_sta(p->node, req, &sta);
}

static void delayed_free(delayed_t *d)
{
    delayed_t **at = &d->p->delayed;

    while (*at != d)
        at = &(*at)->next;
    *at = d->next;
    ims_timer_stop(d->p->loop, &d->timer);
    dia_msg_free(d->ans);
    free(d);
}

static void on_delayed(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    delayed_t *d = arg;

    dia_node_answer(d->p->node, &d->ctx, &d->ans);
    delayed_free(d);
}

static void delay_answer(pcrf_t *p, const dia_req_ctx_t *ctx, dia_msg_t *ans)
{
    delayed_t *d = calloc(1, sizeof(*d));

    if (!d) {
        dia_msg_free(ans);
        return;
    }
    d->p = p;
    d->ctx = *ctx;
    d->ans = ans;
    d->next = p->delayed;
    p->delayed = d;
    ims_timer_init(&d->timer);
    ims_timer_start(p->loop, &d->timer, p->delay_ms, on_delayed, d);
}

static void on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *ctx, dia_msg_t *req)
{
    pcrf_t *p = arg;
    char sid[RX_SID_MAX] = "", host[HOST_MAX] = "";
    json_t *o = json_object();
    dia_msg_t *ans;
    dia_avp_t oh;

    if (dia_msg_session_id(req, sid, sizeof(sid)) != IMS_OK)
        sid[0] = '\0';
    if (!dia_msg_find(req, DIA_AVP_ORIGIN_HOST, 0, &oh) ||
        dia_avp_str(&oh, host, sizeof(host)) != IMS_OK)
        host[0] = '\0';
    json_object_set_new(o, "sid", json_string(sid));
    json_object_set_new(o, "origin_host", json_string(host));
    if (req->code == DIA_CMD_AAR) {
        json_object_set_new(o, "cmd", json_string("AAR"));
        ans = on_aar(p, req, o, sid, host);
    } else if (req->code == DIA_CMD_STR) {
        json_object_set_new(o, "cmd", json_string("STR"));
        ans = on_str(p, req, o, sid);
    } else {
        /* RAR/ASR go the other way: a request we do not serve. */
        dia_builder_t b;

        json_object_set_new(o, "cmd", json_integer(req->code));
        dia_node_answer_init(node, &b, req, DIA_COMMAND_UNSUPPORTED);
        ans = dia_build_finish(&b);
    }
    record(p, o);
    if (ans && req->code == DIA_CMD_AAR && p->delay_ms)
        delay_answer(p, ctx, ans);
    else if (ans)
        dia_node_answer(node, ctx, &ans);
    dia_msg_free(req);
}

/* ---- requests to the AF ---- */

static const char *send_err_name(dia_send_err_t err)
{
    switch (err) {
    case DIA_SEND_TIMEOUT: return "timeout";
    case DIA_SEND_NO_PEER: return "no peer";
    case DIA_SEND_SHUTDOWN: return "shutdown";
    default: return "ok";
    }
}

static void on_af_answer(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    pending_t *w = arg;
    pcrf_t *p = w->p;
    json_t *o = json_pack("{s:s, s:s}", "cmd", w->cmd, "sid", w->sid);
    rx_result_t r = { 0, false };
    int rc = IMS_ERROR;

    if (ans && w->cmd[0] == 'A') {
        rx_asa_t a = { { 0, false } };

        rc = rx_parse_asa(ans, &a);
        r = a.result;
    } else if (ans) {
        rx_raa_t a = { { 0, false } };

        rc = rx_parse_raa(ans, &a);
        r = a.result;
    }
    if (!ans)
        json_object_set_new(o, "error", json_string(send_err_name(err)));
    else if (rc != IMS_OK)
        json_object_set_new(o, "error", json_string("parse"));
    else
        json_object_set_new(o, "answer", result_json(r));
    if (ans && w->cmd[0] == 'A')
        p->n.asa++;
    else if (ans)
        p->n.raa++;
    record(p, o);
    dia_msg_free(ans);
    free(w);
}

/* ASR (asr true) or RAR on session i with value v (Abort-Cause / Specific-Action). */
static int send_to_af(pcrf_t *p, int i, bool asr, uint32_t v)
{
    const session_t *s = &p->sessions[i];
    const char *realm = dia_node_origin_realm(p->node);
    pending_t *w = calloc(1, sizeof(*w));
    dia_msg_t *m;

    if (!w)
        return IMS_ERROR;
    if (asr) {
        rx_asr_t r = { .abort_cause = v };

        m = rx_build_asr(p->node, realm, s->af_host, s->sid, &r, NULL);
        p->n.asr++;
    } else {
        rx_rar_t r = { .specific_actions = { v }, .nspecific_actions = 1 };

        m = rx_build_rar(p->node, realm, s->af_host, s->sid, &r, NULL);
        p->n.rar++;
    }
    if (!m) {
        free(w);
        return IMS_ERROR;
    }
    w->p = p;
    w->cmd = asr ? "ASA" : "RAA";
    snprintf(w->sid, sizeof(w->sid), "%s", s->sid);
    dia_node_send(p->node, &m, on_af_answer, w);
    return IMS_OK;
}

/* ---- control ---- */

static void stats_line(const pcrf_t *p, char *buf, size_t cap)
{
    snprintf(buf, cap, "sessions=%d aar=%u aar_rejected=%u str=%u asr=%u asa=%u rar=%u raa=%u",
             session_count(p), p->n.aar, p->n.aar_rejected, p->n.str, p->n.asr, p->n.asa,
             p->n.rar, p->n.raa);
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end != '\0' || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "asr|rar [SID|-] [N]": to the session named, or the last one. */
static void ctl_send(pcrf_t *p, bool asr, char *args, char *reply, size_t cap)
{
    char *sid = strtok(args, " "), *num = strtok(NULL, " ");
    uint32_t v = asr ? RX_ABORT_BEARER_RELEASED : RX_ACTION_LOSS_OF_BEARER;
    int i = (!sid || strcmp(sid, "-") == 0) ? p->last : session_find(p, sid);

    if (num && !parse_u32(num, UINT32_MAX, &v))
        snprintf(reply, cap, "error: bad number %s", num);
    else if (i < 0)
        snprintf(reply, cap, "error: no such session");
    else if (send_to_af(p, i, asr, v) != IMS_OK)
        snprintf(reply, cap, "error: could not build the request");
    else
        snprintf(reply, cap, "ok %s sid=%s", asr ? "asr" : "rar", p->sessions[i].sid);
}

static void ctl_command(pcrf_t *p, char *cmd, char *reply, size_t cap)
{
    char *args = strchr(cmd, ' ');

    if (args)
        *args++ = '\0';
    if (strcmp(cmd, "asr") == 0 || strcmp(cmd, "rar") == 0) {
        ctl_send(p, cmd[0] == 'a', args ? args : cmd + strlen(cmd), reply, cap);
    } else if (strcmp(cmd, "reject") == 0 && args && parse_u32(args, UINT32_MAX, &p->reject)) {
        snprintf(reply, cap, "ok reject %u", p->reject);
    } else if (strcmp(cmd, "mute") == 0 && args && parse_u32(args, 1, &p->mute)) {
        snprintf(reply, cap, "ok mute %u", p->mute);
    } else if (strcmp(cmd, "delay") == 0 && args && parse_u32(args, 60000, &p->delay_ms)) {
        snprintf(reply, cap, "ok delay %u", p->delay_ms);
    } else if (strcmp(cmd, "stats") == 0) {
        stats_line(p, reply, cap);
    } else {
        snprintf(reply, cap, "error: unknown command");
    }
}

static void ctl_cb(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    pcrf_t *p = arg;
    char buf[512], reply[512];
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n;

    while ((n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &flen)) >= 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        ctl_command(p, buf, reply, sizeof(reply));
        sendto(fd, reply, strlen(reply), 0, (struct sockaddr *)&from, flen);
        flen = sizeof(from);
    }
}

static int ctl_open(pcrf_t *p, const char *ip, uint16_t port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return IMS_ERROR;
    p->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->ctl_fd < 0 || bind(p->ctl_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return IMS_ERROR;
    return ims_loop_add_fd(p->loop, p->ctl_fd, IMS_EV_READ, ctl_cb, p);
}

/* ---- run ---- */

static void stopped_cb(void *arg)
{
    pcrf_t *p = arg;

    ims_loop_stop(p->loop);
}

static void finish(pcrf_t *p)
{
    char line[256];

    if (p->finishing)
        return;
    p->finishing = true;
    ims_timer_stop(p->loop, &p->end_timer);
    stats_line(p, line, sizeof(line));
    printf("test-pcrf: %s\n", line);
    fflush(stdout);
    dia_node_stop(p->node, stopped_cb, p);
}

static void end_cb(ims_loop_t *loop, ims_timer_t *timer, void *arg)
{
    finish(arg);
}

static void signal_cb(ims_loop_t *loop, int signo, void *arg)
{
    pcrf_t *p = arg;

    if (signo == SIGHUP) {
        if (p->last < 0 || send_to_af(p, p->last, true, RX_ABORT_BEARER_RELEASED) != IMS_OK)
            fprintf(stderr, "test-pcrf: SIGHUP: no session for an ASR\n");
        return;
    }
    if (p->finishing)
        ims_loop_stop(loop);   /* a second signal: do not wait for DPA */
    else
        finish(p);
}

typedef struct opts {
    dia_node_cfg_t cfg;
    dia_peer_cfg_t afs[MAX_AFS];
    int nafs;
    const char *record, *ctl_ip;
    uint16_t ctl_port;
    uint32_t reject, run_seconds;
    int log_level;
} opts_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: test-pcrf --origin-host H --origin-realm R --listen IP:PORT\n"
               "                 --af HOST[/REALM]@IP[:PORT]... --record FILE\n"
               "                 [--control IP:PORT] [--reject CODE] [--run-seconds N]"
               " [--log-level L]\n");
}

/* "IP:PORT", modified in place. */
static bool split_addr(char *s, const char **ip, uint16_t *port)
{
    char *colon = strrchr(s, ':');
    uint32_t v;

    if (!colon || !parse_u32(colon + 1, 65535, &v) || v == 0)
        return false;
    *colon = '\0';
    *ip = s;
    *port = (uint16_t)v;
    return *s != '\0';
}

/* HOST[/REALM]@IP[:PORT]: an AF that connects to us. */
static bool parse_af(char *s, dia_peer_cfg_t *pc)
{
    char *at = strchr(s, '@'), *slash;

    memset(pc, 0, sizeof(*pc));
    if (!at || at == s)
        return false;
    *at = '\0';
    pc->addr = at + 1;
    if (strchr(pc->addr, ':') && !split_addr(at + 1, &pc->addr, &pc->port))
        return false;
    pc->host = s;
    slash = strchr(s, '/');
    if (slash) {
        *slash = '\0';
        pc->realm = slash + 1;
    } else {
        const char *dot = strchr(s, '.');

        pc->realm = dot && dot[1] ? dot + 1 : s;
    }
    return *pc->host && *pc->realm && *pc->addr;
}

static int parse_opt(opts_t *o, int c, char *arg)
{
    switch (c) {
    case 'H': o->cfg.origin_host = arg; return IMS_OK;
    case 'R': o->cfg.origin_realm = arg; return IMS_OK;
    case 'r': o->record = arg; return IMS_OK;
    case 'l':
        return split_addr(arg, &o->cfg.listen_addr, &o->cfg.listen_port) ? IMS_OK : IMS_ERROR;
    case 'c': return split_addr(arg, &o->ctl_ip, &o->ctl_port) ? IMS_OK : IMS_ERROR;
    case 'a':
        return o->nafs < MAX_AFS && parse_af(arg, &o->afs[o->nafs++]) ? IMS_OK : IMS_ERROR;
    case 'j': return parse_u32(arg, UINT32_MAX, &o->reject) ? IMS_OK : IMS_ERROR;
    case 's': return parse_u32(arg, 86400, &o->run_seconds) ? IMS_OK : IMS_ERROR;
    case 'L':
        o->log_level = ims_log_level_parse(arg);
        return o->log_level < 0 ? IMS_ERROR : IMS_OK;
    default: return IMS_ERROR;
    }
}

static int parse_opts(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {
        { "origin-host", required_argument, NULL, 'H' },
        { "origin-realm", required_argument, NULL, 'R' },
        { "listen", required_argument, NULL, 'l' },
        { "af", required_argument, NULL, 'a' },
        { "record", required_argument, NULL, 'r' },
        { "control", required_argument, NULL, 'c' },
        { "reject", required_argument, NULL, 'j' },
        { "run-seconds", required_argument, NULL, 's' },
        { "log-level", required_argument, NULL, 'L' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (parse_opt(o, c, optarg) != IMS_OK) {
            fprintf(stderr, "test-pcrf: bad option -%c %s\n", c, optarg ? optarg : "");
            return IMS_ERROR;
        }
    }
    if (optind != argc || !o->cfg.origin_host || !o->cfg.origin_realm ||
        !o->cfg.listen_addr || !o->nafs || !o->record)
        return IMS_ERROR;
    o->cfg.apps[0] = (dia_app_t){ DIA_APP_RX, DIA_VENDOR_3GPP };
    o->cfg.napps = 1;
    return IMS_OK;
}

static int setup(pcrf_t *p, const opts_t *o)
{
    p->rec = fopen(o->record, "a");
    if (!p->rec) {
        fprintf(stderr, "test-pcrf: %s: %s\n", o->record, strerror(errno));
        return IMS_ERROR;
    }
    p->node = dia_node_new(p->loop, &o->cfg);
    if (!p->node)
        return IMS_ERROR;
    for (int i = 0; i < o->nafs; i++)
        if (dia_node_add_peer(p->node, &o->afs[i]) != IMS_OK)
            return IMS_ERROR;
    dia_node_on_request(p->node, DIA_APP_RX, on_request, p);
    if (ims_loop_handle_signals(p->loop, signal_cb, p) != IMS_OK ||
        (o->ctl_ip && ctl_open(p, o->ctl_ip, o->ctl_port) != IMS_OK)) {
        fprintf(stderr, "test-pcrf: control socket or signals: %s\n", strerror(errno));
        return IMS_ERROR;
    }
    if (dia_node_start(p->node) != IMS_OK)
        return IMS_ERROR;
    if (o->run_seconds)
        ims_timer_start(p->loop, &p->end_timer, (uint64_t)o->run_seconds * 1000, end_cb, p);
    printf("test-pcrf %s listening on %s:%u\n", o->cfg.origin_host, o->cfg.listen_addr,
           o->cfg.listen_port);
    fflush(stdout);
    return IMS_OK;
}

int main(int argc, char **argv)
{
    static opts_t o;
    static pcrf_t p;
    int rc;

    o.log_level = IMS_LOG_NOTICE;
    if (parse_opts(argc, argv, &o) != IMS_OK) {
        usage(stderr);
        return 2;
    }
    ims_log_init("test-pcrf", (ims_log_level_t)o.log_level, stderr);
    p.loop = ims_loop_new();
    if (!p.loop)
        return 1;
    p.ctl_fd = -1;
    p.last = -1;
    p.sessions = calloc(MAX_SESSIONS, sizeof(*p.sessions));
    p.free_slots = calloc(MAX_SESSIONS, sizeof(*p.free_slots));
    p.by_sid = ims_hash_new(1024);
    if (!p.sessions || !p.free_slots || !p.by_sid)
        return 1;
    for (int i = MAX_SESSIONS - 1; i >= 0; i--)
        p.free_slots[p.nfree++] = i;
    p.reject = o.reject;
    ims_timer_init(&p.end_timer);
    rc = setup(&p, &o);
    if (rc == IMS_OK)
        rc = ims_loop_run(p.loop);
    ims_timer_stop(p.loop, &p.end_timer);
    while (p.delayed)
        delayed_free(p.delayed);
    if (p.ctl_fd >= 0) {
        ims_loop_del_fd(p.loop, p.ctl_fd);
        close(p.ctl_fd);
    }
    dia_node_free(p.node);
    ims_hash_free(p.by_sid);
    free(p.free_slots);
    free(p.sessions);
    ims_loop_free(p.loop);
    if (p.rec)
        fclose(p.rec);
    return rc == IMS_OK ? 0 : 1;
}
