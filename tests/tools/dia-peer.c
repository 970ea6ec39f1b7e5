/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dia-peer: a Diameter node on our peer layer, for interop tests against other
 * Diameter stacks (tests/integration/dia_freediameter.sh).
 *
 *   dia-peer --origin-host H --origin-realm R [--listen IP:PORT]
 *            [--peer HOST[/REALM]@IP:PORT[:connect]]... [--app ID[:VENDOR]]...
 *            [--tw MS] [--tc MS] --run-seconds N [--log-level LEVEL]
 *
 * Runs a dia_node_t on the event loop for N seconds (or until SIGINT/SIGTERM).
 * Every peer state change is printed as "peer <host> <STATE> t=<seconds>",
 * found by polling dia_node_peer_info every 100 ms (the API has no state
 * callback, and a poll sees what imsctl would see; a state that lasts less
 * than 100 ms, such as WAIT_CONN_ACK on loopback, may go unseen). At the end
 * one line per peer: "peer=<host> state=<STATE> sent=<n> received=<n>
 * timeouts=<n> reconnects=<n>", with the peer layer's own counters (CER/CEA,
 * DWR/DWA included; a CER that arrives before the connection is known to be
 * the peer's is not counted); then dia_node_stop (DPR to the open peers), a
 * "stopped:" line per peer once the node has closed, and exit 0. Exit 2: bad
 * arguments; 1: the node could not start. Without REALM a peer's realm is its
 * host name minus the first label.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/base/peer.h"

#define MAX_PEERS 16
#define POLL_MS   100

typedef struct tool {
    ims_loop_t *loop;
    dia_node_t *node;
    ims_timer_t poll_timer;
    ims_timer_t end_timer;
    uint64_t t0_ms;
    dia_peer_state_t last[MAX_PEERS];
    bool finishing;
} tool_t;

static const char *state_name(dia_peer_state_t s)
{
    static const char *const names[] = { "CLOSED", "WAIT_CONN_ACK", "WAIT_I_CEA", "OPEN",
                                         "SUSPECT", "CLOSING" };

    return (unsigned)s < IMS_ARRAY_LEN(names) ? names[s] : "?";
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dia-peer --origin-host H --origin-realm R [--listen IP:PORT]\n"
               "                [--peer HOST[/REALM]@IP:PORT[:connect]]... "
               "[--app ID[:VENDOR]]...\n"
               "                [--tw MS] [--tc MS] --run-seconds N [--log-level LEVEL]\n");
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (!s || !*s || *s == '-')
        return false;
    v = strtoul(s, &end, 10);
    if (*end != '\0' || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "IP:PORT" or "[IPv6]:PORT", modified in place: *ip and *port point into s. */
static bool split_addr(char *s, char **ip, uint16_t *port)
{
    char *colon = strrchr(s, ':');
    uint32_t p;

    if (!colon || !parse_u32(colon + 1, 65535, &p) || p == 0)
        return false;
    *colon = '\0';
    if (s[0] == '[') {
        size_t n = strlen(s);

        if (n < 3 || s[n - 1] != ']')
            return false;
        s[n - 1] = '\0';
        s++;
    }
    *ip = s;
    *port = (uint16_t)p;
    return *s != '\0';
}

/* HOST[/REALM]@IP:PORT[:connect], modified in place (the strings point into s). */
static bool parse_peer(char *s, dia_peer_cfg_t *pc)
{
    char *at = strchr(s, '@'), *slash, *addr;
    size_t n;

    memset(pc, 0, sizeof(*pc));
    if (!at || at == s)
        return false;
    *at = '\0';
    addr = at + 1;
    n = strlen(addr);
    if (n > 8 && strcmp(addr + n - 8, ":connect") == 0) {
        addr[n - 8] = '\0';
        pc->connect = true;
    }
    if (!split_addr(addr, (char **)&pc->addr, &pc->port))
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
    return *pc->host && *pc->realm;
}

static bool parse_app(const char *s, dia_app_t *app)
{
    char buf[32];
    char *colon;

    if (strlen(s) >= sizeof(buf))
        return false;
    strcpy(buf, s);
    app->vendor_id = 0;
    colon = strchr(buf, ':');
    if (colon) {
        *colon = '\0';
        if (!parse_u32(colon + 1, UINT32_MAX, &app->vendor_id))
            return false;
    }
    return parse_u32(buf, UINT32_MAX, &app->app_id);
}

static double elapsed(const tool_t *t)
{
    return (double)(ims_clock_now_ms() - t->t0_ms) / 1000.0;
}

static void print_peers(const tool_t *t, const char *prefix)
{
    dia_peer_info_t pi;

    for (int i = 0; i < dia_node_peer_count(t->node); i++) {
        if (dia_node_peer_info(t->node, i, &pi) != IMS_OK)
            continue;
        printf("%speer=%s state=%s sent=%llu received=%llu timeouts=%llu reconnects=%llu\n",
               prefix, pi.host, state_name(pi.state), (unsigned long long)pi.sent,
               (unsigned long long)pi.received, (unsigned long long)pi.timeouts,
               (unsigned long long)pi.reconnects);
    }
    fflush(stdout);
}

/* Print the peers whose state differs from the last poll. */
static void report_changes(tool_t *t)
{
    dia_peer_info_t pi;

    for (int i = 0; i < dia_node_peer_count(t->node) && i < MAX_PEERS; i++) {
        if (dia_node_peer_info(t->node, i, &pi) != IMS_OK || pi.state == t->last[i])
            continue;
        t->last[i] = pi.state;
        printf("peer %s %s t=%.1f\n", pi.host, state_name(pi.state), elapsed(t));
        fflush(stdout);
    }
}

static void poll_cb(ims_loop_t *loop, ims_timer_t *timer, void *arg)
{
    tool_t *t = arg;

    report_changes(t);
    ims_timer_start(loop, timer, POLL_MS, poll_cb, t);
}

static void stopped_cb(void *arg)
{
    tool_t *t = arg;

    report_changes(t);
    print_peers(t, "stopped: ");
    ims_loop_stop(t->loop);
}

/* Time is up (or a signal came): summary while the peers are as they were, then DPR. */
static void finish(tool_t *t)
{
    if (t->finishing)
        return;
    t->finishing = true;
    ims_timer_stop(t->loop, &t->end_timer);
    report_changes(t);
    printf("summary t=%.1f\n", elapsed(t));
    print_peers(t, "");
    dia_node_stop(t->node, stopped_cb, t);
}

static void end_cb(ims_loop_t *loop, ims_timer_t *timer, void *arg)
{
    finish(arg);
}

static void signal_cb(ims_loop_t *loop, int signo, void *arg)
{
    tool_t *t = arg;

    if (t->finishing)
        ims_loop_stop(loop);  /* a second signal: do not wait for DPA */
    else
        finish(t);
}

typedef struct opts {
    dia_node_cfg_t cfg;
    dia_peer_cfg_t peers[MAX_PEERS];
    int npeers;
    uint32_t run_seconds;
    int log_level;
    char *listen;
} opts_t;

static int parse_opts(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {
        { "origin-host", required_argument, NULL, 'H' },
        { "origin-realm", required_argument, NULL, 'R' },
        { "listen", required_argument, NULL, 'l' },
        { "peer", required_argument, NULL, 'p' },
        { "app", required_argument, NULL, 'a' },
        { "tw", required_argument, NULL, 'w' },
        { "tc", required_argument, NULL, 'c' },
        { "run-seconds", required_argument, NULL, 's' },
        { "log-level", required_argument, NULL, 'L' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "H:R:l:p:a:w:c:s:L:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H':
            o->cfg.origin_host = optarg;
            break;
        case 'R':
            o->cfg.origin_realm = optarg;
            break;
        case 'l':
            o->listen = optarg;
            break;
        case 'p':
            if (o->npeers >= MAX_PEERS || !parse_peer(optarg, &o->peers[o->npeers++])) {
                fprintf(stderr, "dia-peer: bad or too many --peer\n");
                return IMS_ERROR;
            }
            break;
        case 'a':
            if (o->cfg.napps >= DIA_MAX_APPS || !parse_app(optarg, &o->cfg.apps[o->cfg.napps++])) {
                fprintf(stderr, "dia-peer: bad or too many --app\n");
                return IMS_ERROR;
            }
            break;
        case 'w':
        case 'c':
            if (!parse_u32(optarg, 3600000, c == 'w' ? &o->cfg.tw_ms : &o->cfg.tc_ms)) {
                fprintf(stderr, "dia-peer: bad --%s\n", c == 'w' ? "tw" : "tc");
                return IMS_ERROR;
            }
            break;
        case 's':
            if (!parse_u32(optarg, 86400, &o->run_seconds)) {
                fprintf(stderr, "dia-peer: bad --run-seconds\n");
                return IMS_ERROR;
            }
            break;
        case 'L':
            o->log_level = ims_log_level_parse(optarg);
            if (o->log_level < 0) {
                fprintf(stderr, "dia-peer: bad --log-level\n");
                return IMS_ERROR;
            }
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return IMS_ERROR;
        }
    }
    if (optind != argc || !o->cfg.origin_host || !o->cfg.origin_realm || !o->run_seconds)
        return IMS_ERROR;
    if (o->listen) {
        char *ip;

        if (!split_addr(o->listen, &ip, &o->cfg.listen_port)) {
            fprintf(stderr, "dia-peer: bad --listen\n");
            return IMS_ERROR;
        }
        o->cfg.listen_addr = ip;
    }
    return IMS_OK;
}

/* Node, peers, timers and signals; IMS_ERROR when something refused. */
static int setup(tool_t *t, const opts_t *o)
{
    t->node = dia_node_new(t->loop, &o->cfg);
    if (!t->node)
        return IMS_ERROR;
    for (int i = 0; i < o->npeers; i++)
        if (dia_node_add_peer(t->node, &o->peers[i]) != IMS_OK)
            return IMS_ERROR;
    if (ims_loop_handle_signals(t->loop, signal_cb, t) != IMS_OK)
        return IMS_ERROR;
    if (dia_node_start(t->node) != IMS_OK)
        return IMS_ERROR;
    t->t0_ms = ims_clock_now_ms();
    for (int i = 0; i < MAX_PEERS; i++)
        t->last[i] = DIA_PEER_CLOSED;
    ims_timer_start(t->loop, &t->poll_timer, 0, poll_cb, t);
    ims_timer_start(t->loop, &t->end_timer, (uint64_t)o->run_seconds * 1000, end_cb, t);
    printf("dia-peer %s started: %d peer(s)%s%s\n", o->cfg.origin_host, o->npeers,
           o->cfg.listen_addr ? ", listening on " : "",
           o->cfg.listen_addr ? o->cfg.listen_addr : "");
    fflush(stdout);
    return IMS_OK;
}

int main(int argc, char **argv)
{
    static opts_t o;
    static tool_t t;
    int rc;

    o.log_level = IMS_LOG_NOTICE;
    if (parse_opts(argc, argv, &o) != IMS_OK) {
        usage(stderr);
        return 2;
    }
    ims_log_init("dia-peer", (ims_log_level_t)o.log_level, stderr);
    t.loop = ims_loop_new();
    if (!t.loop)
        return 1;
    ims_timer_init(&t.poll_timer);
    ims_timer_init(&t.end_timer);
    rc = setup(&t, &o);
    if (rc == IMS_OK)
        rc = ims_loop_run(t.loop);
    ims_timer_stop(t.loop, &t.poll_timer);
    ims_timer_stop(t.loop, &t.end_timer);
    dia_node_free(t.node);
    ims_loop_free(t.loop);
    return rc == IMS_OK ? 0 : 1;
}
