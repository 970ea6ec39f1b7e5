/* SPDX-License-Identifier: BSD-2-Clause */
#include "common/sip/node.h"

#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/core/conf.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "common/sip/drain.h"
#include "common/sip/proxy.h"
#include "common/sip/transport.h"
#include "common/sip/txn.h"

#define NODE_MAX_LISTEN 8

struct sip_node {
    const char *name;
    const sip_node_app_t *app;
    void *app_state;
    const char *listen[NODE_MAX_LISTEN];
    int nlisten;
    const char *next_hop;
    const char *outbound;
    const char *pidfile;
    ims_log_level_t level;
    sip_transport_cfg_t tcfg;
    sip_txn_timers_t timers;
    sip_proxy_cfg_t pcfg;
    sip_drain_cfg_t dcfg;
    ims_conf_t *conf;
    ims_loop_t *loop;
    sip_transport_t *tp;
    sip_txn_layer_t *layer;
    sip_proxy_t *px;
    sip_drain_t *drain; /* NULL unless sip.drain_ms is set */
};

typedef struct sip_node node_t;

int sip_node_parse_endpoint(const char *s, sip_proto_t *proto, char *host, size_t hostlen,
                            uint16_t *port)
{
    const char *h, *colon, *end;
    char *e;
    long p;
    size_t n;

    if (strncasecmp(s, "udp:", 4) == 0)
        *proto = SIP_PROTO_UDP;
    else if (strncasecmp(s, "tcp:", 4) == 0)
        *proto = SIP_PROTO_TCP;
    else if (strncasecmp(s, "tls:", 4) == 0)
        *proto = SIP_PROTO_TLS;  /* once sip.tls enabled TLS (start) */
    else
        return IMS_ERROR;
    h = s + 4;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end || end[1] != ':')
            return IMS_ERROR;
        colon = end + 1;
        h++;
        n = (size_t)(end - h);
    } else {
        colon = strrchr(h, ':');
        if (!colon)
            return IMS_ERROR;
        n = (size_t)(colon - h);
    }
    if (n == 0 || n >= hostlen)
        return IMS_ERROR;
    memcpy(host, h, n);
    host[n] = '\0';
    p = strtol(colon + 1, &e, 10);
    if (*e || p < 0 || p > 65535)
        return IMS_ERROR;
    *port = (uint16_t)p;
    return IMS_OK;
}

static void usage(const char *name)
{
    fprintf(stderr,
            "usage: %s [-c FILE] [-l PROTO:HOST:PORT]... [-n PROTO:HOST:PORT]\n"
            "          [-o PROTO:HOST:PORT] [-L LEVEL]\n"
            "          [-p PIDFILE] [--no-record-route]\n", name);
}

static int conf_uint(node_t *nd, const char *key, long long max, uint32_t *out)
{
    long long v;
    int rc = ims_conf_int(nd->conf, key, false, 0, max, &v);

    if (rc == IMS_OK)
        *out = (uint32_t)v;
    return rc == IMS_ERROR ? IMS_ERROR : IMS_OK;
}

/* sip.aliases: names of this node; sip.hosts: "name=ip[:port]" static resolution. */
static int load_names(node_t *nd)
{
    size_t n;
    const char *v;
    sip_proxy_cfg_t *pc = &nd->pcfg;

    if (ims_conf_list_len(nd->conf, "sip.aliases", &n) != IMS_OK)
        return IMS_ERROR;
    for (size_t i = 0; i < n && pc->naliases < SIP_PROXY_MAX_ALIASES; i++) {
        if (ims_conf_list_str(nd->conf, "sip.aliases", i, &v) != IMS_OK)
            return IMS_ERROR;
        snprintf(pc->aliases[pc->naliases++], sizeof(pc->aliases[0]), "%s", v);
    }
    if (ims_conf_list_len(nd->conf, "sip.hosts", &n) != IMS_OK)
        return IMS_ERROR;
    for (size_t i = 0; i < n && pc->nhosts < SIP_PROXY_MAX_HOSTS; i++) {
        if (ims_conf_list_str(nd->conf, "sip.hosts", i, &v) != IMS_OK)
            return IMS_ERROR;
        if (sip_proxy_host_parse(v, &pc->hosts[pc->nhosts++]) != IMS_OK) {
            fprintf(stderr, "%s: %s: sip.hosts: bad entry \"%s\" (want name=ip[:port])\n",
                    nd->name, ims_conf_path(nd->conf), v);
            return IMS_ERROR;
        }
    }
    return IMS_OK;
}

/* Configuration file first; the command line overrides it afterwards. */
static int load_config(node_t *nd, const char *path)
{
    char err[512];
    const char *s;
    size_t n;
    uint32_t max_msg = (uint32_t)nd->tcfg.max_msg_size;

    nd->conf = ims_conf_load(path, err, sizeof(err));
    if (!nd->conf) {
        fprintf(stderr, "%s: %s\n", nd->name, err);
        return IMS_ERROR;
    }
    if (ims_conf_str(nd->conf, "log_level", false, &s) == IMS_OK) {
        if (ims_log_level_parse(s) < 0) {
            fprintf(stderr, "%s: %s: log_level: unknown level \"%s\"\n", nd->name, path, s);
            return IMS_ERROR;
        }
        nd->level = (ims_log_level_t)ims_log_level_parse(s);
    }
    if (ims_conf_list_len(nd->conf, "sip.listen", &n) != IMS_OK)
        goto bad;
    for (size_t i = 0; i < n && nd->nlisten < NODE_MAX_LISTEN; i++)
        if (ims_conf_list_str(nd->conf, "sip.listen", i, &nd->listen[nd->nlisten++]) != IMS_OK)
            goto bad;
    if (conf_uint(nd, "sip.max_msg_size", 1 << 20, &max_msg) != IMS_OK ||
        conf_uint(nd, "sip.tcp_idle_ms", 86400000, &nd->tcfg.tcp_idle_ms) != IMS_OK ||
        conf_uint(nd, "sip.max_conns", 1000000, &nd->tcfg.max_conns) != IMS_OK ||
        conf_uint(nd, "sip.t1_ms", 60000, &nd->timers.t1_ms) != IMS_OK ||
        conf_uint(nd, "sip.t2_ms", 600000, &nd->timers.t2_ms) != IMS_OK ||
        conf_uint(nd, "sip.t4_ms", 600000, &nd->timers.t4_ms) != IMS_OK ||
        conf_uint(nd, "sip.trying_ms", 200, &nd->timers.trying_ms) != IMS_OK ||
        conf_uint(nd, "sip.drain_ms", 3600000, &nd->dcfg.drain_ms) != IMS_OK ||
        conf_uint(nd, "sip.drain_retry_after", 86400, &nd->dcfg.retry_after_s) != IMS_OK ||
        conf_uint(nd, "proxy.timer_c_ms", 3600000, &nd->pcfg.timer_c_ms) != IMS_OK ||
        ims_conf_bool(nd->conf, "proxy.record_route", false, &nd->pcfg.record_route) ==
            IMS_ERROR ||
        ims_conf_str(nd->conf, "proxy.next_hop", false, &nd->next_hop) == IMS_ERROR ||
        ims_conf_str(nd->conf, "proxy.outbound", false, &nd->outbound) == IMS_ERROR ||
        ims_conf_str(nd->conf, "proxy.proxy_require_ok", false, &nd->pcfg.proxy_require_ok) ==
            IMS_ERROR)
        goto bad;
    nd->tcfg.max_msg_size = max_msg;
    if (load_names(nd) != IMS_OK)
        goto bad;
    return IMS_OK;
bad:
    fprintf(stderr, "%s: %s\n", nd->name, ims_conf_error(nd->conf));
    return IMS_ERROR;
}

static int parse_args(node_t *nd, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "no-record-route", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cli_listen[NODE_MAX_LISTEN];
    int ncli = 0, c, lvl;
    bool no_rr = false;
    const char *cli_next = NULL, *cli_out = NULL, *cli_level = NULL;

    while ((c = getopt_long(argc, argv, "c:l:n:o:L:p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (load_config(nd, optarg) != IMS_OK)
                return IMS_ERROR;
            break;
        case 'l':
            if (ncli < NODE_MAX_LISTEN)
                cli_listen[ncli++] = optarg;
            break;
        case 'n': cli_next = optarg; break;
        case 'o': cli_out = optarg; break;
        case 'L': cli_level = optarg; break;
        case 'p': nd->pidfile = optarg; break;
        case 'R': no_rr = true; break;
        default: usage(nd->name); return IMS_ERROR;
        }
    }
    if (ncli) {
        memcpy(nd->listen, cli_listen, sizeof(cli_listen[0]) * (size_t)ncli);
        nd->nlisten = ncli;
    }
    if (cli_next)
        nd->next_hop = cli_next;
    if (cli_out)
        nd->outbound = cli_out;
    if (no_rr)
        nd->pcfg.record_route = false;
    if (cli_level) {
        if ((lvl = ims_log_level_parse(cli_level)) < 0) {
            fprintf(stderr, "%s: unknown log level \"%s\"\n", nd->name, cli_level);
            return IMS_ERROR;
        }
        nd->level = (ims_log_level_t)lvl;
    }
    if (nd->nlisten == 0) {
        fprintf(stderr, "%s: nothing to listen on (-l or sip.listen)\n", nd->name);
        return IMS_ERROR;
    }
    return IMS_OK;
}

static void on_message(void *arg, sip_msg_t *msg)
{
    node_t *nd = arg;

    if (ims_log_get_level() >= IMS_LOG_INFO)
        ims_log_ctx_set(sip_msg_call_id(msg));
    sip_txn_layer_input(nd->layer, msg);
    ims_log_ctx_clear();
}

static int set_dest(const char *spec, const char *what, bool tls, sip_dest_t *dst, bool *has)
{
    char host[64];
    uint16_t port;

    if (!spec)
        return IMS_OK;
    if (sip_node_parse_endpoint(spec, &dst->proto, host, sizeof(host), &port) != IMS_OK ||
        sip_addr_from(&dst->addr, host, port) != IMS_OK) {
        IMS_ERR("bad %s %s (want udp:IP:PORT, tcp:IP:PORT or tls:IP:PORT)", what, spec);
        return IMS_ERROR;
    }
    if (dst->proto == SIP_PROTO_TLS && !tls) {
        IMS_ERR("%s %s: TLS needs sip.tls (at least its ca, to verify the server)", what, spec);
        return IMS_ERROR;
    }
    *has = true;
    IMS_NOTICE("%s %s", what, spec);
    return IMS_OK;
}

static size_t app_dialogs(void *arg)
{
    node_t *nd = arg;

    return nd->app->dialogs(nd->app_state);
}

#define NODE_STOP_RESERVE_MS 2300u   /* the app's stop: DPR + DPA wait (2 s) and the rest */

/* The proxy core, behind a drain when one is configured. */
static void start_proxy(node_t *nd)
{
    const sip_proxy_handler_t *handler = nd->app ? nd->app->handler : NULL;
    void *arg = nd->app_state;

    if (nd->dcfg.drain_ms) {
        sip_drain_cfg_t dc = nd->dcfg;

        /* sip.drain_ms bounds the whole exit: the application's stop after the
         * drain (a Diameter DPR waits up to DIA_STOP_WAIT_MS for its DPA) gets
         * its share, so serving ends that much earlier. */
        dc.drain_ms = dc.drain_ms > 2 * NODE_STOP_RESERVE_MS ? dc.drain_ms - NODE_STOP_RESERVE_MS
                                                             : dc.drain_ms / 2;
        nd->drain = sip_drain_new(nd->layer, &dc, handler, arg);
        if (nd->app && nd->app->dialogs)
            sip_drain_set_busy(nd->drain, app_dialogs, nd);
        handler = sip_drain_handler(nd->drain);
        arg = nd->drain;
    }
    nd->px = sip_proxy_new(nd->layer, &nd->pcfg, handler, arg);
}

static int start(node_t *nd)
{
    char host[64], err[512];
    sip_proto_t proto;
    uint16_t port;
    int tls = IMS_DECLINED;

    nd->loop = ims_loop_new();
    if (!nd->loop || ims_loop_handle_signals(nd->loop, NULL, NULL) != IMS_OK)
        return IMS_ERROR;
    nd->tp = sip_transport_new(nd->loop, &nd->tcfg, on_message, nd);
    /* sip.tls (optional): SIP over TLS for every node, UEs or other CSCFs. First, so
     * that sip.listen and -l may name more TLS listeners ("tls:IP:PORT"). */
    if (nd->conf && (tls = sip_transport_tls_conf(nd->tp, nd->conf, err, sizeof(err))) ==
                        IMS_ERROR) {
        IMS_ERR("%s", err);
        return IMS_ERROR;
    }
    for (int i = 0; i < nd->nlisten; i++) {
        if (sip_node_parse_endpoint(nd->listen[i], &proto, host, sizeof(host), &port) != IMS_OK ||
            sip_transport_listen(nd->tp, proto, host, port) != IMS_OK) {
            IMS_ERR("cannot listen on %s", nd->listen[i]);
            return IMS_ERROR;
        }
        IMS_NOTICE("listening on %s", nd->listen[i]);
    }
    if (set_dest(nd->next_hop, "next hop", tls == IMS_OK, &nd->pcfg.next_hop,
                 &nd->pcfg.has_next_hop) != IMS_OK ||
        set_dest(nd->outbound, "outbound proxy", tls == IMS_OK, &nd->pcfg.outbound,
                 &nd->pcfg.has_outbound) != IMS_OK)
        return IMS_ERROR;
    nd->layer = sip_txn_layer_new(nd->loop, nd->tp, &nd->timers);
    if (nd->app && nd->app->start && nd->app->start(nd, nd->conf, &nd->app_state) != IMS_OK) {
        IMS_ERR("%s: start failed", nd->name);
        nd->app = NULL;  /* nothing to stop */
        return IMS_ERROR;
    }
    start_proxy(nd);
    return IMS_OK;
}

static void stop(node_t *nd)
{
    if (nd->px) {
        const sip_proxy_stats_t *ps = sip_proxy_stats(nd->px);
        const sip_transport_stats_t *ts = sip_transport_stats(nd->tp);

        IMS_NOTICE("stopping: %llu requests, %llu forwarded, %llu parse errors",
                   (unsigned long long)ps->requests, (unsigned long long)ps->forwarded,
                   (unsigned long long)ts->parse_errors);
    }
    if (nd->app && nd->app->stop)
        nd->app->stop(nd->app_state);
    sip_proxy_free(nd->px);
    sip_drain_free(nd->drain);
    if (nd->layer)
        sip_txn_layer_free(nd->layer);
    if (nd->tp)
        sip_transport_free(nd->tp);
    ims_loop_free(nd->loop);
    ims_conf_free(nd->conf);
}

ims_loop_t *sip_node_loop(const sip_node_t *node)
{
    return node->loop;
}

sip_transport_t *sip_node_transport(const sip_node_t *node)
{
    return node->tp;
}

sip_txn_layer_t *sip_node_layer(const sip_node_t *node)
{
    return node->layer;
}

sip_proxy_t *sip_node_proxy(const sip_node_t *node)
{
    return node->px;
}

bool sip_node_draining(const sip_node_t *node)
{
    return node->drain && sip_drain_state(node->drain) != SIP_DRAIN_ACCEPTING;
}

static void on_drained(void *arg, const sip_drain_stats_t *stats)
{
    (void)stats;
    ims_loop_stop(arg);
}

/*
 * The loop stopped on SIGTERM/SIGINT (the only way ims_loop_run returns IMS_OK to
 * us; the control socket's signal hook stops it the same way): with a drain, keep
 * serving what is in progress until it is over. A second signal stops the loop
 * again and cuts the drain short. The process exit status.
 */
static int drain(node_t *nd)
{
    int rc = IMS_OK;

    if (sip_drain_begin(nd->drain, on_drained, nd->loop) == IMS_AGAIN) {
        rc = ims_loop_run(nd->loop);
        /* Still DRAINING means a second signal stopped the loop: end the drain, so
         * that its timers cannot stop the loop the application's stop runs (DPR). */
        sip_drain_end(nd->drain);
    }
    return rc == IMS_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}

int sip_node_main(int argc, char **argv, const char *name)
{
    sip_node_app_t app = { .name = name };

    return sip_node_run(argc, argv, &app);
}

int sip_node_run(int argc, char **argv, const sip_node_app_t *app)
{
    node_t nd;
    int rc = EXIT_FAILURE;
    const char *name = app->name;

    memset(&nd, 0, sizeof(nd));
    nd.name = name;
    nd.app = app;
    nd.level = IMS_LOG_NOTICE;
    nd.tcfg.max_msg_size = 65535;
    nd.tcfg.tcp_idle_ms = 300000;
    nd.tcfg.max_conns = 4096;
    nd.timers.t1_ms = 500;
    nd.timers.t2_ms = 4000;
    nd.timers.t4_ms = 5000;
    nd.timers.trying_ms = 100;
    nd.dcfg.retry_after_s = 30;
    sip_proxy_cfg_defaults(&nd.pcfg);
    sip_msg_global_init();
    /* libosip2 allocates per header; keep freed memory in the process instead of
     * returning it to the kernel and faulting it back in at the next burst. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (parse_args(&nd, argc, argv) != IMS_OK)
        goto out;
    ims_log_init(name, nd.level, NULL);
    if (start(&nd) != IMS_OK)
        goto out;
    if (nd.pidfile) {
        FILE *f = fopen(nd.pidfile, "w");

        if (f) {
            fprintf(f, "%ld\n", (long)getpid());
            fclose(f);
        }
    }
    IMS_NOTICE("%s running%s", name, app->handler ? "" : " (transparent stateful proxy)");
    rc = ims_loop_run(nd.loop) == IMS_OK ? EXIT_SUCCESS : EXIT_FAILURE;
    if (rc == EXIT_SUCCESS && nd.drain)
        rc = drain(&nd);
out:
    stop(&nd);
    if (nd.pidfile)
        unlink(nd.pidfile);
    return rc;
}
