/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * n5-client: the P-CSCF's N5 side (pcscf/n5-client.c) driven from the command
 * line for tests, with medComponents built from SDP files by pcscf/sdp.c as
 * the P-CSCF will.
 *
 *   n5-client --pcf IP:PORT | --config FILE:GROUP  [--scp IP:PORT]
 *             [--notif-listen IP:PORT] [--ue-ip IP] [--impu URI] [--timeout-ms N]
 *             [--tls [--tls-ca PEM]] [--notif-cert PEM --notif-key PEM]
 *             [--terminating] [--wait-seconds N] [--log-level L] STEP...
 *
 * --config reads the N5 settings from GROUP of a libconfig FILE as the P-CSCF
 * does (pcscf_n5_cfg_from_conf: pcf, scp, notif_listen, ..., timeout_ms);
 * options given after it override them. --tls: https toward the PCF
 * (verified with --tls-ca); --notif-cert/--notif-key: an https notification
 * server.
 *
 * Steps, run in order:
 *   create=OFFER,ANSWER  Npcf_PolicyAuthorization_Create with the media of the
 *                        two SDP files (the UE made the offer unless --terminating)
 *   update=OFFER,ANSWER  _Update (PATCH) of the current app session
 *   delete               _Delete of the current app session
 *   raw=FILE             POST FILE's bytes as the body of a create, unchecked
 *                        (to see how the PCF treats a malformed one)
 *   id=ID                take ID as the current app session (no request)
 *   wait-terminate       wait (--wait-seconds, default 10) for a terminate notification
 * One line per step on stdout: "<step> result=ok|rejected|timeout|unreachable
 * status=N id=ID elapsed_ms=N [cause=...]"; a terminate notification (answered
 * 204, whenever it comes) prints "terminate id=ID cause=CAUSE". Exit 0 when
 * every step got an answer from the PCF (whatever its status: the test judges),
 * 1 on timeout, unreachable PCF or a bad step, 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/conf.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/sbi/h2_client.h"
#include "pcscf/n5-client.c"
#include "pcscf/n5-nrf.c"
#include "pcscf/sdp.c"
#include "tests/tools/tool_ctl.h"

#define MAX_STEPS 32
#define MAX_FILE 65536

typedef struct client {
    ims_loop_t *loop;
    pcscf_n5_t *n5;
    sbi_h2_client_t *raw;           /* for raw= steps */
    pcscf_n5_cfg_t cfg;
    ims_timer_t timer;              /* next step, or a wait's limit */
    char **steps;
    int nsteps, step;
    const char *ue_ip, *impu;
    pcscf_sdp_flow_opts_t flow;
    uint32_t wait_ms;
    uint64_t t0;
    ims_conf_t *conf;
    char id[PCSCF_N5_REF_MAX];      /* the current app session */
    bool waiting;
    int rc;
} client_t;

static void next_step(client_t *c);

static void finish(client_t *c, int rc)
{
    if (rc != IMS_OK)
        c->rc = rc;
    ims_timer_stop(c->loop, &c->timer);
    ims_loop_stop(c->loop);
}

static void step_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    client_t *c = arg;

    if (c->waiting) {
        printf("%s timeout\n", c->steps[c->step - 1]);
        fflush(stdout);
        finish(c, IMS_ERROR);
        return;
    }
    next_step(c);
}

static void schedule_next(client_t *c)
{
    c->waiting = false;
    ims_timer_start(c->loop, &c->timer, 0, step_cb, c);
}

/* ---- SDP files to medComponents ---- */

static int read_file(const char *path, char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");

    if (!f) {
        fprintf(stderr, "n5-client: cannot open %s\n", path);
        return IMS_ERROR;
    }
    *len = fread(buf, 1, cap, f);
    fclose(f);
    return IMS_OK;
}

static int read_sdp(const char *path, pcscf_sdp_t *s)
{
    static char buf[PCSCF_SDP_MAX_BODY + 1];
    const char *why = NULL;
    size_t n;

    if (read_file(path, buf, sizeof(buf), &n) != IMS_OK)
        return IMS_ERROR;
    if (pcscf_sdp_parse(buf, n, s, &why) != IMS_OK) {
        fprintf(stderr, "n5-client: %s: %s\n", path, why);
        return IMS_ERROR;
    }
    return IMS_OK;
}

/* "OFFER,ANSWER" into a medComponents map (a new reference), or NULL. */
static json_t *media_from_files(client_t *c, char *arg)
{
    static pcscf_sdp_t offer, answer;
    static rx_media_comp_t comps[RX_MAX_MEDIA];
    char *comma = strchr(arg, ',');
    int n;

    if (!comma)
        return NULL;
    *comma = '\0';
    if (read_sdp(arg, &offer) != IMS_OK || read_sdp(comma + 1, &answer) != IMS_OK)
        return NULL;
    n = pcscf_sdp_to_rx(&offer, &answer, &c->flow, comps, RX_MAX_MEDIA);
    return n < 0 ? NULL : pcscf_sdp_rx_to_n5(comps, n);
}

/* ---- results ---- */

static const char *status_name(pcscf_n5_status_t s)
{
    switch (s) {
    case PCSCF_N5_OK: return "ok";
    case PCSCF_N5_REJECTED: return "rejected";
    case PCSCF_N5_TIMEOUT: return "timeout";
    case PCSCF_N5_UNREACHABLE: return "unreachable";
    }
    return "?";
}

static void on_result(void *arg, const pcscf_n5_result_t *r)
{
    client_t *c = arg;
    const char *step = c->steps[c->step - 1];

    printf("%.*s result=%s status=%d id=%s elapsed_ms=%llu", (int)strcspn(step, "="), step,
           status_name(r->status), r->http_status, r->app_session_id,
           (unsigned long long)(ims_clock_now_ms() - c->t0));
    if (r->cause[0])
        printf(" cause=%s", r->cause);
    printf("\n");
    fflush(stdout);
    if (r->status == PCSCF_N5_OK && strncmp(step, "create", 6) == 0)
        snprintf(c->id, sizeof(c->id), "%s", r->app_session_id);
    if (r->status == PCSCF_N5_TIMEOUT || r->status == PCSCF_N5_UNREACHABLE) {
        finish(c, IMS_ERROR);
        return;
    }
    schedule_next(c);
}

static void on_raw(void *arg, sbi_h2_err_t err, const sbi_h2_msg_t *m)
{
    client_t *c = arg;
    pcscf_n5_result_t r = { .status = PCSCF_N5_UNREACHABLE };

    if (err == SBI_H2_ERR_TIMEOUT)
        r.status = PCSCF_N5_TIMEOUT;
    if (m) {
        r.status = m->status == 201 ? PCSCF_N5_OK : PCSCF_N5_REJECTED;
        r.http_status = m->status;
        pcscf_n5_parse_problem(m->body, m->body_len, r.cause, sizeof(r.cause));
        pcscf_n5_parse_location(sbi_h2_msg_header(m, "location"), r.app_session_id,
                                sizeof(r.app_session_id));
    }
    on_result(c, &r);
}

static void on_terminate(void *arg, const char *id, const char *cause)
{
    client_t *c = arg;

    printf("terminate id=%s cause=%s\n", id, cause);
    fflush(stdout);
    if (c->waiting) {
        ims_timer_stop(c->loop, &c->timer);
        schedule_next(c);
    }
}

/* ---- steps ---- */

static uint64_t raw_step(client_t *c, const char *path)
{
    static char body[MAX_FILE];
    size_t n;
    const char *auth = c->cfg.scp ? c->cfg.scp : c->cfg.pcf;
    sbi_h2_request_t q = { .method = "POST", .authority = auth,
                           .path = PCSCF_N5_API "/app-sessions",
                           .content_type = "application/json", .body = body,
                           .timeout_ms = c->cfg.timeout_ms };

    if (read_file(path, body, sizeof(body), &n) != IMS_OK)
        return 0;
    q.body_len = n;
    return sbi_h2_client_request(c->raw, &q, on_raw, c);
}

static uint64_t media_step(client_t *c, const char *kind, const char *arg)
{
    static char copy[1024];
    json_t *med;
    uint64_t h = 0;

    snprintf(copy, sizeof(copy), "%s", arg);
    med = media_from_files(c, copy);
    if (!med)
        return 0;
    if (strcmp(kind, "create") == 0) {
        bool v6 = c->ue_ip && strchr(c->ue_ip, ':');
        pcscf_n5_app_t app = { .ue_ipv4 = v6 ? NULL : c->ue_ip, .ue_ipv6 = v6 ? c->ue_ip : NULL,
                               .impu = c->impu, .af_charg_id = "icid-n5-client",
                               .med_components = med };

        h = pcscf_n5_create(c->n5, &app, on_result, c);
    } else if (strcmp(kind, "update") == 0) {
        h = pcscf_n5_update(c->n5, c->id, med, false, on_result, c);
    }
    json_decref(med);
    return h;
}

static void next_step(client_t *c)
{
    char *step, *arg;
    uint64_t h = 0;

    if (c->step >= c->nsteps) {
        finish(c, IMS_OK);
        return;
    }
    step = c->steps[c->step++];
    arg = strchr(step, '=');
    c->t0 = ims_clock_now_ms();
    if (strcmp(step, "wait-terminate") == 0) {
        c->waiting = true;
        ims_timer_start(c->loop, &c->timer, c->wait_ms, step_cb, c);
        return;
    }
    if (strcmp(step, "delete") == 0) {
        h = pcscf_n5_delete(c->n5, c->id, on_result, c);
    } else if (strncmp(step, "id=", 3) == 0) {
        snprintf(c->id, sizeof(c->id), "%s", step + 3);
        schedule_next(c);
        return;
    } else if (arg) {
        char kind[16];

        snprintf(kind, sizeof(kind), "%.*s", (int)(arg - step), step);
        h = strcmp(kind, "raw") == 0 ? raw_step(c, arg + 1) : media_step(c, kind, arg + 1);
    }
    if (!h) {
        printf("%s error=bad step\n", step);
        fflush(stdout);
        finish(c, IMS_ERROR);
    }
}

/* ---- options ---- */

/* "FILE:GROUP" into c->cfg. */
static int load_conf(client_t *c, char *arg)
{
    char *colon = strrchr(arg, ':'), err[256];

    if (!colon || c->conf)
        return IMS_ERROR;
    *colon = '\0';
    c->conf = ims_conf_load(arg, err, sizeof(err));
    if (!c->conf) {
        fprintf(stderr, "n5-client: %s\n", err);
        return IMS_ERROR;
    }
    if (pcscf_n5_cfg_from_conf(c->conf, colon + 1, &c->cfg) != IMS_OK) {
        fprintf(stderr, "n5-client: %s\n", ims_conf_error(c->conf));
        return IMS_ERROR;
    }
    return IMS_OK;
}

static int parse_opts(int argc, char **argv, client_t *c, int *log_level)
{
    static const struct option longopts[] = {
        { "pcf", required_argument, NULL, 'p' },
        { "config", required_argument, NULL, 'c' },
        { "tls", no_argument, NULL, 'S' },
        { "tls-ca", required_argument, NULL, 'A' },
        { "notif-cert", required_argument, NULL, 'C' },
        { "notif-key", required_argument, NULL, 'K' },
        { "scp", required_argument, NULL, 's' },
        { "notif-listen", required_argument, NULL, 'n' },
        { "ue-ip", required_argument, NULL, 'u' },
        { "impu", required_argument, NULL, 'i' },
        { "timeout-ms", required_argument, NULL, 'T' },
        { "terminating", no_argument, NULL, 't' },
        { "wait-seconds", required_argument, NULL, 'w' },
        { "log-level", required_argument, NULL, 'L' },
        { NULL, 0, NULL, 0 },
    };
    uint32_t v;
    int ch;
    bool ok = true;

    while (ok && (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p': c->cfg.pcf = optarg; break;
        case 'c': ok = load_conf(c, optarg) == IMS_OK; break;
        case 'S': c->cfg.tls = true; break;
        case 'A': c->cfg.tls_ca = optarg; break;
        case 'C': c->cfg.notif_tls_cert = optarg; break;
        case 'K': c->cfg.notif_tls_key = optarg; break;
        case 's': c->cfg.scp = optarg; break;
        case 'n': c->cfg.notif_listen = optarg; break;
        case 'u': c->ue_ip = optarg; break;
        case 'i': c->impu = optarg; break;
        case 'T': ok = tool_parse_u32(optarg, 600000, &c->cfg.timeout_ms); break;
        case 't': c->flow.ue_offered = false; break;
        case 'w':
            ok = tool_parse_u32(optarg, 3600, &v) && v > 0;
            c->wait_ms = v * 1000u;
            break;
        case 'L': *log_level = ims_log_level_parse(optarg); ok = *log_level >= 0; break;
        default: ok = false;
        }
    }
    c->steps = argv + optind;
    c->nsteps = argc - optind;
    ok = ok && (c->cfg.pcf || c->cfg.scp) && c->nsteps >= 1 && c->nsteps <= MAX_STEPS;
    return ok ? IMS_OK : IMS_ERROR;
}

int main(int argc, char **argv)
{
    static client_t c;
    int log_level = IMS_LOG_NOTICE;

    c.flow.ue_offered = true;
    c.wait_ms = 10000;
    if (parse_opts(argc, argv, &c, &log_level) != IMS_OK) {
        fprintf(stderr, "usage: n5-client --pcf IP:PORT | --config FILE:GROUP [--scp IP:PORT]\n"
                        "  [--notif-listen IP:PORT] [--ue-ip IP] [--impu URI] [--timeout-ms N]\n"
                        "  [--tls [--tls-ca PEM]] [--notif-cert PEM --notif-key PEM]\n"
                        "  [--terminating] [--wait-seconds N] STEP...\n");
        return 2;
    }
    ims_log_init("n5-client", (ims_log_level_t)log_level, stderr);
    c.loop = ims_loop_new();
    c.n5 = c.loop ? pcscf_n5_new(c.loop, &c.cfg, on_terminate, &c) : NULL;
    c.raw = c.loop ? sbi_h2_client_new(c.loop, &(sbi_h2_client_cfg_t){
                                           .tls = c.cfg.tls, .tls_ca = c.cfg.tls_ca }) : NULL;
    if (!c.n5 || !c.raw || ims_loop_handle_signals(c.loop, NULL, NULL) != IMS_OK)
        return 1;
    if (c.cfg.notif_listen) {
        printf("notif_uri=%s\n", pcscf_n5_notif_uri(c.n5));
        fflush(stdout);
    }
    ims_timer_init(&c.timer);
    ims_timer_start(c.loop, &c.timer, 0, step_cb, &c);
    ims_loop_run(c.loop);
    ims_timer_stop(c.loop, &c.timer);
    pcscf_n5_free(c.n5);
    sbi_h2_client_free(c.raw);
    ims_loop_free(c.loop);
    ims_conf_free(c.conf);
    return c.rc == IMS_OK ? 0 : 1;
}
