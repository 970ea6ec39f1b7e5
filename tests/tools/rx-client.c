/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rx-client: an Rx AF (the P-CSCF's side of TS 29.214) for tests, on our
 * Diameter stack, building its Media-Component-Descriptions from SDP files
 * with pcscf/sdp.c as the P-CSCF will.
 *
 *   rx-client --origin-host H --origin-realm R --pcrf HOST@IP:PORT
 *             [--ue-ip IP] [--impu URI] [--terminating] [--uplink-in]
 *             [--wait-seconds N] [--log-level L] STEP...
 *
 * Steps, run in order once the PCRF peer is OPEN:
 *   aar=OFFER,ANSWER     a new session: AAR INITIAL_REQUEST with the media of the
 *                        two SDP files (the UE made the offer unless --terminating),
 *                        Specific-Action 1, 2, 4, Framed-IP-Address (IPv4 --ue-ip) or
 *                        Framed-IPv6-Prefix (/64), Subscription-Id SIP_URI (--impu),
 *                        AF-Application-Identifier, AF-Charging-Identifier
 *   update=OFFER,ANSWER  AAR UPDATE_REQUEST on the current session
 *   sig=UEIP:PORT,PIP:PORT  a new session: AAR for the SIP signalling flow
 *   str                  STR (DIAMETER_LOGOUT) on the current session
 *   wait-asr, wait-rar   wait (--wait-seconds, default 10) for an ASR / RAR
 * One line per step on stdout: "<step> result=N experimental=0|1 sid=<sid>"; an
 * ASR / RAR (answered 2001, whenever it comes) prints "asr abort_cause=N sid=..." /
 * "rar actions=A,B sid=...". Exit 0 when every step got an answer (whatever its
 * result: the test judges), 1 on a failure (no peer, timeout, bad SDP), 2 on
 * bad arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"
#include "diameter/rx/rx.h"
#include "pcscf/sdp.c"

#define MAX_STEPS 32
#define POLL_MS 50
#define OPEN_WAIT_MS 10000

typedef struct client {
    ims_loop_t *loop;
    dia_node_t *node;
    ims_timer_t timer;              /* peer poll, next step, or a wait's limit */
    char **steps;
    int nsteps, step;
    const char *ue_ip, *impu, *realm;
    pcscf_sdp_flow_opts_t flow;
    uint32_t wait_ms;
    uint64_t deadline;
    unsigned icid;
    char sid[RX_SID_MAX];           /* the current session; "" none */
    int waiting;                    /* DIA_CMD_ASR / DIA_CMD_RAR, 0 none */
    int rc;
    bool finishing;
} client_t;

static void next_step(client_t *c);

static void stopped_cb(void *arg)
{
    client_t *c = arg;

    ims_loop_stop(c->loop);
}

static void finish(client_t *c, int rc)
{
    if (rc != IMS_OK)
        c->rc = rc;
    ims_timer_stop(c->loop, &c->timer);
    if (c->finishing)
        return;
    c->finishing = true;
    dia_node_stop(c->node, stopped_cb, c);
}

/* Go on with the next step from the loop, never from inside a callback. */
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
    c->waiting = 0;
    ims_timer_start(c->loop, &c->timer, 0, step_cb, c);
}

/* ---- building the AARs ---- */

static int read_sdp(const char *path, pcscf_sdp_t *s)
{
    static char buf[PCSCF_SDP_MAX_BODY + 1];
    FILE *f = fopen(path, "rb");
    const char *why = NULL;
    size_t n;

    if (!f) {
        fprintf(stderr, "rx-client: cannot open %s\n", path);
        return IMS_ERROR;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (pcscf_sdp_parse(buf, n, s, &why) != IMS_OK) {
        fprintf(stderr, "rx-client: %s: %s\n", path, why);
        return IMS_ERROR;
    }
    return IMS_OK;
}

static void fill_ue(client_t *c, rx_aar_t *r)
{
    struct in6_addr a6;

    if (c->ue_ip && inet_pton(AF_INET, c->ue_ip, &r->framed_ip) == 1) {
        r->has_framed_ip = true;
    } else if (c->ue_ip && inet_pton(AF_INET6, c->ue_ip, &a6) == 1) {
        r->has_framed_ipv6 = true;
        memcpy(&r->framed_ipv6_prefix, &a6, 8);   /* the /64 the UE's address is in */
        r->framed_ipv6_prefix_len = 64;
    }
    if (c->impu) {
        r->sub_ids[0].type = RX_SUB_ID_SIP_URI;
        snprintf(r->sub_ids[0].data, sizeof(r->sub_ids[0].data), "%s", c->impu);
        r->nsub_ids = 1;
    }
    snprintf(r->af_app_id, sizeof(r->af_app_id), "IMS Services");
    snprintf(r->af_charging_id, sizeof(r->af_charging_id), "icid-rx-client-%u", ++c->icid);
}

/* "OFFER,ANSWER" into media components. */
static int media_from_files(client_t *c, char *arg, rx_aar_t *r)
{
    static pcscf_sdp_t offer, answer;
    char *comma = strchr(arg, ',');
    int n;

    if (!comma)
        return IMS_ERROR;
    *comma = '\0';
    if (read_sdp(arg, &offer) != IMS_OK || read_sdp(comma + 1, &answer) != IMS_OK)
        return IMS_ERROR;
    n = pcscf_sdp_to_rx(&offer, &answer, &c->flow, r->media, RX_MAX_MEDIA);
    if (n < 0)
        return IMS_ERROR;
    r->nmedia = n;
    return IMS_OK;
}

/* "UEIP:PORT,PIP:PORT" into the signalling component. */
static int media_signalling(char *arg, rx_aar_t *r)
{
    char *comma = strchr(arg, ','), *c1, *c2;

    if (!comma)
        return IMS_ERROR;
    *comma = '\0';
    c1 = strrchr(arg, ':');
    c2 = strrchr(comma + 1, ':');
    if (!c1 || !c2)
        return IMS_ERROR;
    *c1 = *c2 = '\0';
    r->nmedia = 1;
    return pcscf_sdp_signalling_comp(arg, (uint16_t)atoi(c1 + 1), comma + 1,
                                     (uint16_t)atoi(c2 + 1), 17, &r->media[0]);
}

static dia_msg_t *build_aar(client_t *c, const char *kind, char *arg)
{
    static rx_aar_t r;
    bool update = strcmp(kind, "update") == 0, sig = strcmp(kind, "sig") == 0;
    char sid[RX_SID_MAX];
    dia_msg_t *m;
    int rc;

    memset(&r, 0, sizeof(r));
    fill_ue(c, &r);
    rc = sig ? media_signalling(arg, &r) : media_from_files(c, arg, &r);
    if (rc != IMS_OK)
        return NULL;
    r.has_rx_request_type = true;
    r.rx_request_type = update ? RX_REQUEST_UPDATE : RX_REQUEST_INITIAL;
    r.specific_actions[r.nspecific_actions++] = RX_ACTION_LOSS_OF_BEARER;
    r.specific_actions[r.nspecific_actions++] = RX_ACTION_RELEASE_OF_BEARER;
    if (!sig) {
        r.specific_actions[r.nspecific_actions++] = RX_ACTION_CHARGING_CORRELATION_EXCHANGE;
        r.has_service_info_status = true;
        r.service_info_status = 0;   /* FINAL_SERVICE_INFORMATION */
    }
    if (update && !c->sid[0])   /* an UPDATE without a session: one the PCRF cannot know */
        snprintf(c->sid, sizeof(c->sid), "%s;0;0", dia_node_origin_host(c->node));
    m = rx_build_aar(c->node, c->realm, NULL, update ? c->sid : NULL, &r, sid);
    if (m)
        memcpy(c->sid, sid, sizeof(sid));   /* sid_out must not be the sid passed in */
    return m;
}

/* ---- answers and requests ---- */

static void on_answer(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    client_t *c = arg;
    const char *step = c->steps[c->step - 1];
    uint32_t code;
    bool exp;

    if (!ans || dia_msg_result(ans, &code, &exp) != IMS_OK) {
        printf("%s error=%s\n", step, ans ? "no result" : "no answer");
        fflush(stdout);
        dia_msg_free(ans);
        finish(c, IMS_ERROR);
        return;
    }
    printf("%.*s result=%u experimental=%d sid=%s\n", (int)strcspn(step, "="), step, code,
           exp, c->sid);
    fflush(stdout);
    dia_msg_free(ans);
    schedule_next(c);
}

static void print_rar(const rx_rar_t *r, const char *sid)
{
    printf("rar actions=");
    for (int i = 0; i < r->nspecific_actions; i++)
        printf("%s%u", i ? "," : "", r->specific_actions[i]);
    printf(" sid=%s\n", sid);
}

static void on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *ctx, dia_msg_t *req)
{
    client_t *c = arg;
    char sid[RX_SID_MAX] = "";
    rx_result_t ok = { DIA_SUCCESS, false };
    uint32_t missing = 0;
    dia_msg_t *ans = NULL;
    rx_asr_t asr;
    rx_rar_t rar;

    dia_msg_session_id(req, sid, sizeof(sid));
    if (req->code == DIA_CMD_ASR && rx_parse_asr(req, &asr, &missing) == IMS_OK) {
        rx_asa_t a = { ok };

        printf("asr abort_cause=%u sid=%s\n", asr.abort_cause, sid);
        ans = rx_build_asa(node, req, &a);
    } else if (req->code == DIA_CMD_RAR && rx_parse_rar(req, &rar, &missing) == IMS_OK) {
        rx_raa_t a = { ok };

        print_rar(&rar, sid);
        ans = rx_build_raa(node, req, &a);
    } else {
        printf("refused request %u missing=%u sid=%s\n", req->code, missing, sid);
        ans = rx_build_parse_error_answer(node, req, missing);
    }
    fflush(stdout);
    if (ans)
        dia_node_answer(node, ctx, &ans);
    if (c->waiting && (uint32_t)c->waiting == req->code && !c->finishing) {
        ims_timer_stop(c->loop, &c->timer);
        schedule_next(c);
    }
    dia_msg_free(req);
}

/* ---- steps ---- */

static void next_step(client_t *c)
{
    char *step, *arg;
    dia_msg_t *m = NULL;

    if (c->step >= c->nsteps) {
        finish(c, IMS_OK);
        return;
    }
    step = c->steps[c->step++];
    arg = strchr(step, '=');
    if (strcmp(step, "wait-asr") == 0 || strcmp(step, "wait-rar") == 0) {
        c->waiting = step[5] == 'a' ? DIA_CMD_ASR : DIA_CMD_RAR;
        ims_timer_start(c->loop, &c->timer, c->wait_ms, step_cb, c);
        return;
    }
    if (strcmp(step, "str") == 0 && c->sid[0]) {
        rx_str_t r = { RX_TERMINATION_LOGOUT };

        m = rx_build_str(c->node, c->realm, NULL, c->sid, &r, NULL);
    } else if (arg) {
        static char kind[16], copy[1024];

        snprintf(kind, sizeof(kind), "%.*s", (int)(arg - step), step);
        snprintf(copy, sizeof(copy), "%s", arg + 1);
        if (strcmp(kind, "aar") == 0 || strcmp(kind, "update") == 0 || strcmp(kind, "sig") == 0)
            m = build_aar(c, kind, copy);
    }
    if (!m) {
        printf("%s error=bad step\n", step);
        finish(c, IMS_ERROR);
        return;
    }
    dia_node_send(c->node, &m, on_answer, c);
}

/* Wait for the PCRF peer to open, then start. */
static void poll_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    client_t *c = arg;
    dia_peer_info_t pi;

    if (dia_node_peer_info(c->node, 0, &pi) == IMS_OK && pi.state == DIA_PEER_OPEN) {
        next_step(c);
        return;
    }
    if (ims_clock_now_ms() > c->deadline) {
        printf("error=PCRF peer not open after %d ms\n", OPEN_WAIT_MS);
        finish(c, IMS_ERROR);
        return;
    }
    ims_timer_start(loop, t, POLL_MS, poll_cb, c);
}

/* ---- options ---- */

typedef struct opts {
    dia_node_cfg_t cfg;
    dia_peer_cfg_t pcrf;
    int log_level;
} opts_t;

static bool parse_pcrf(char *s, dia_peer_cfg_t *pc)
{
    char *at = strchr(s, '@'), *colon;
    const char *dot;

    if (!at || at == s)
        return false;
    *at = '\0';
    colon = strrchr(at + 1, ':');
    if (!colon)
        return false;
    *colon = '\0';
    pc->host = s;
    pc->addr = at + 1;
    pc->port = (uint16_t)atoi(colon + 1);
    pc->connect = true;
    dot = strchr(s, '.');
    pc->realm = dot && dot[1] ? dot + 1 : s;
    return pc->port != 0 && *pc->addr;
}

static int parse_opts(int argc, char **argv, opts_t *o, client_t *c)
{
    static const struct option longopts[] = {
        { "origin-host", required_argument, NULL, 'H' },
        { "origin-realm", required_argument, NULL, 'R' },
        { "pcrf", required_argument, NULL, 'p' },
        { "ue-ip", required_argument, NULL, 'u' },
        { "impu", required_argument, NULL, 'i' },
        { "terminating", no_argument, NULL, 't' },
        { "uplink-in", no_argument, NULL, 'n' },
        { "wait-seconds", required_argument, NULL, 'w' },
        { "log-level", required_argument, NULL, 'L' },
        { NULL, 0, NULL, 0 },
    };
    int ch;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'H': o->cfg.origin_host = optarg; break;
        case 'R': o->cfg.origin_realm = optarg; break;
        case 'p': if (!parse_pcrf(optarg, &o->pcrf)) return IMS_ERROR; break;
        case 'u': c->ue_ip = optarg; break;
        case 'i': c->impu = optarg; break;
        case 't': c->flow.ue_offered = false; break;
        case 'n': c->flow.uplink_in = true; break;
        case 'w': c->wait_ms = (uint32_t)atoi(optarg) * 1000u; break;
        case 'L': o->log_level = ims_log_level_parse(optarg); break;
        default: return IMS_ERROR;
        }
    }
    c->steps = argv + optind;
    c->nsteps = argc - optind;
    c->realm = o->pcrf.realm;
    if (!o->cfg.origin_host || !o->cfg.origin_realm || !o->pcrf.host || o->log_level < 0 ||
        c->nsteps < 1 || c->nsteps > MAX_STEPS || c->wait_ms == 0)
        return IMS_ERROR;
    o->cfg.apps[0] = (dia_app_t){ DIA_APP_RX, DIA_VENDOR_3GPP };
    o->cfg.napps = 1;
    return IMS_OK;
}

int main(int argc, char **argv)
{
    static opts_t o;
    static client_t c;

    o.log_level = IMS_LOG_NOTICE;
    c.flow.ue_offered = true;
    c.wait_ms = 10000;
    if (parse_opts(argc, argv, &o, &c) != IMS_OK) {
        fprintf(stderr, "usage: rx-client --origin-host H --origin-realm R --pcrf HOST@IP:PORT\n"
                        "  [--ue-ip IP] [--impu URI] [--terminating] [--uplink-in]"
                        " [--wait-seconds N] STEP...\n");
        return 2;
    }
    ims_log_init("rx-client", (ims_log_level_t)o.log_level, stderr);
    c.loop = ims_loop_new();
    c.node = c.loop ? dia_node_new(c.loop, &o.cfg) : NULL;
    if (!c.node || dia_node_add_peer(c.node, &o.pcrf) != IMS_OK)
        return 1;
    dia_node_on_request(c.node, DIA_APP_RX, on_request, &c);
    ims_timer_init(&c.timer);
    if (ims_loop_handle_signals(c.loop, NULL, NULL) != IMS_OK || dia_node_start(c.node) != IMS_OK)
        return 1;
    c.deadline = ims_clock_now_ms() + OPEN_WAIT_MS;
    ims_timer_start(c.loop, &c.timer, 0, poll_cb, &c);
    ims_loop_run(c.loop);
    ims_timer_stop(c.loop, &c.timer);
    dia_node_free(c.node);
    ims_loop_free(c.loop);
    return c.rc == IMS_OK ? 0 : 1;
}
