/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-ue: command line and the command sequence (see ue.h).
 *
 *   ims-ue --pcscf IP:PORT --impi I --impu U --k KEY (--opc KEY | --op KEY) [options]
 *          <command>...
 *
 * Commands run in order in one process; the exit status is 0 only when every
 * one succeeded (1 when one failed, 2 for a bad command line). Each is
 * bounded by --timeout-ms (default 30000).
 *
 * Output, one line per event on stdout (what scripts match on; logs go to
 * stderr at -L LEVEL, default warn):
 *   sent REGISTER cseq=N expires=N [protected] [mac-failure]
 *   auth AKA challenge sqn=N | auth digest challenge realm=R
 *   auth MAC failure: ... | auth sync failure: sqn=N not above SQN_MS=M, sending AUTS
 *   ipsec up alg=.. ealg=.. spi-uc=.. ... | ipsec unavailable: ... | ipsec failed: ...
 *   registered expires=N | reregistered expires=N | deregistered
 *   register failed: ... (also reregister / deregister)
 *   call calling URI | call ringing code=N | call answered | call ended by-local
 *   call incoming from=URI | call ended by-remote | call cancelled by-remote
 *   call refused code=N | call no answer: sending CANCEL | call failed ...
 *   message sent to=URI | message delivered code=N | message failed ...
 *   message from=URI text=TEXT
 *   ipsec rotated alg=.. (as ipsec up) | ipsec old SAs removed spi-uc=N spi-us=N
 *   ipsec back to the SAs in use spi-uc=N spi-us=N port-uc=N
 *   call reinvite code=N (the re-INVITE of --indialog-after-ms)
 *   waited ms=N | file PATH | CMD timeout after N ms | failed CMD | done
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/auth/digest.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/node.h"
#include "tools/ims-ue/ue.h"

#define UE_DEFAULT_EXPIRES 600
#define UE_DEFAULT_TIMEOUT 30000
#define UE_DEFAULT_HOLD    1000

static const char *const cmd_names[] = {
    [UE_CMD_REGISTER] = "register",         [UE_CMD_REREGISTER] = "reregister",
    [UE_CMD_DEREGISTER] = "deregister",     [UE_CMD_CALL] = "call",
    [UE_CMD_ANSWER] = "answer",             [UE_CMD_MESSAGE] = "message",
    [UE_CMD_WAIT_MESSAGE] = "wait-message", [UE_CMD_WAIT_MS] = "wait-ms",
    [UE_CMD_WAIT_FILE] = "wait-file",
};

static void usage(void)
{
    fprintf(stderr,
            "usage: ims-ue --pcscf IP:PORT --impi IMPI --impu IMPU --k KEY "
            "(--opc KEY | --op KEY)\n"
            "              [--local IP:PORT] [--domain D] [--password P] [--sqn-ms N]\n"
            "              [--ipsec [--ipsec-alg ALG:EALG]... [--bad-verify]] [--timeout-ms N]\n"
            "              [-L LEVEL] <command>...\n"
            "  KEY: 32 hex digits or 16 characters. --ipsec-alg offers only the pairs given;\n"
            "  --bad-verify sends a Security-Verify that differs from the Security-Server\n"
            "  (a test of the P-CSCF). Commands, run in order:\n"
            "    register [--expires N] | reregister | deregister\n"
            "    call URI [--hold-ms N] [--reregister-ms N] [--indialog-after-ms N]\n"
            "      (a re-INVITE N ms after the re-registration, or the answer)\n"
            "    answer [--count N]\n"
            "    message URI TEXT | wait-message [--count N] | wait-ms N | wait-file PATH\n");
}

void ue_event(ue_t *ue, const char *fmt, ...)
{
    va_list ap;

    (void)ue;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* ---- the command sequence ---- */

/* wait-file: polled every 100 ms (a test's go signal), within --timeout-ms. */
static void on_file_timer(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    ue_t *ue = arg;
    const ue_cmd_t *c = &ue->cmds[ue->cur];

    if (!ue->running || c->kind != UE_CMD_WAIT_FILE)
        return;
    if (access(c->text, F_OK) == 0) {
        ue_event(ue, "file %s", c->text);
        ue_done(ue, true);
        return;
    }
    ims_timer_start(loop, &ue->file_timer, 100, on_file_timer, ue);
}

static void wait_file(ue_t *ue)
{
    on_file_timer(ue->loop, &ue->file_timer, ue);
}

static void run_current(ue_t *ue)
{
    const ue_cmd_t *c = &ue->cmds[ue->cur];

    ue->running = true;
    ue_step_bound(ue, ue->cfg.timeout_ms);
    switch (c->kind) {
    case UE_CMD_REGISTER:
    case UE_CMD_REREGISTER:
    case UE_CMD_DEREGISTER:
        ue_register_start(ue, c->kind, c->n);
        break;
    case UE_CMD_CALL:
        ue_call_start(ue, c->uri, c->n, c->rereg_ms, c->indialog_ms);
        break;
    case UE_CMD_ANSWER:
        ue_call_answer(ue, c->n);
        break;
    case UE_CMD_MESSAGE:
        ue_message_send(ue, c->uri, c->text);
        break;
    case UE_CMD_WAIT_MESSAGE:
        ue->count = c->n;
        if (ue->messages >= ue->count) {
            ue->messages -= ue->count;
            ue_done(ue, true);
        }
        break;
    case UE_CMD_WAIT_MS:
        ue_step_bound(ue, c->n);
        break;
    case UE_CMD_WAIT_FILE:
        wait_file(ue);
        break;
    }
}

static void on_next(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    ue_t *ue = arg;

    if (ue->status != 0 || ue->cur >= ue->ncmds) {
        if (ue->status == 0)
            ue_event(ue, "done");
        ims_loop_stop(loop);
        return;
    }
    run_current(ue);
}

void ue_done(ue_t *ue, bool ok)
{
    if (!ue->running)
        return;
    ue->running = false;
    ims_timer_stop(ue->loop, &ue->step_timer);
    if (ok) {
        ue->cur++;
    } else {
        ue->status = 1;
        ue_event(ue, "failed %s", cmd_names[ue->cmds[ue->cur].kind]);
    }
    /* From the loop: the caller is often deep in a transaction callback. */
    ims_timer_start(ue->loop, &ue->next_timer, 0, on_next, ue);
}

static void on_step_timer(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    ue_t *ue = arg;
    const ue_cmd_t *c = &ue->cmds[ue->cur];

    if (c->kind == UE_CMD_WAIT_MS) {
        ue_event(ue, "waited ms=%u", (unsigned)c->n);
        ue_done(ue, true);
        return;
    }
    ue_event(ue, "%s timeout after %u ms", cmd_names[c->kind], (unsigned)ue->cfg.timeout_ms);
    ue_done(ue, false);
}

void ue_step_bound(ue_t *ue, uint32_t ms)
{
    ims_timer_start(ue->loop, &ue->step_timer, ms, on_step_timer, ue);
}

/* ---- command line ---- */

/* 32 hex digits, or 16 characters taken as they are (sipp style, as aka_ue.py). */
static int parse_key(const char *s, uint8_t out[16])
{
    size_t n = strlen(s);

    if (n == 32)
        return ims_auth_hex_decode(s, n, out, 16, NULL);
    if (n != 16)
        return IMS_ERROR;
    memcpy(out, s, 16);
    return IMS_OK;
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (!s || !*s)
        return IMS_ERROR;
    v = strtoul(s, &end, 10);
    if (*end || v > UINT32_MAX)
        return IMS_ERROR;
    *out = (uint32_t)v;
    return IMS_OK;
}

/* IP:PORT or [IPv6]:PORT, through the nodes' endpoint parser. */
static int parse_hostport(const char *s, char *host, size_t hlen, uint16_t *port)
{
    char ep[128];
    sip_proto_t proto;

    if (snprintf(ep, sizeof(ep), "udp:%s", s) >= (int)sizeof(ep))
        return IMS_ERROR;
    return sip_node_parse_endpoint(ep, &proto, host, hlen, port);
}

static int parse_alg(ue_cfg_t *c, const char *s)
{
    const char *colon = strchr(s, ':');
    sec_agree_pref_t p;

    if (!colon || c->nalgs >= UE_MAX_ALGS)
        return IMS_ERROR;
    p.alg = sec_agree_alg_from(s, (size_t)(colon - s));
    p.ealg = sec_agree_ealg_from(colon + 1, strlen(colon + 1));
    if (p.alg == SEC_AGREE_ALG_UNKNOWN || p.ealg == SEC_AGREE_EALG_UNKNOWN)
        return IMS_ERROR;
    c->algs[c->nalgs++] = p;
    return IMS_OK;
}

/* One option o with its argument a (NULL for flags). IMS_OK / IMS_ERROR. */
static int take_option(ue_cfg_t *c, int o, const char *a)
{
    char host[64];
    uint16_t port;
    uint32_t u;
    int lvl;

    switch (o) {
    case 'P':
        return parse_hostport(a, host, sizeof(host), &port) == IMS_OK && port != 0
                   ? sip_addr_from(&c->pcscf, host, port)
                   : IMS_ERROR;
    case 'i': c->impi = a; return IMS_OK;
    case 'u': c->impu = a; return IMS_OK;
    case 'w': c->password = a; return IMS_OK;
    case 's': c->ipsec = true; return IMS_OK;
    case 'V': c->bad_verify = true; return IMS_OK;
    case 'd': snprintf(c->domain, sizeof(c->domain), "%s", a); return IMS_OK;
    case 'k': c->have_k = true; return parse_key(a, c->k);
    case 'c': c->have_op = true; return parse_key(a, c->opc);
    case 'o': c->have_op = c->op_not_opc = true; return parse_key(a, c->op);
    case 'l': return parse_hostport(a, c->local_host, sizeof(c->local_host), &c->local_port);
    case 'a': return parse_alg(c, a);
    case 'q':
        if (parse_u32(a, &u) != IMS_OK)
            return IMS_ERROR;
        c->sqn_ms = u;
        return IMS_OK;
    case 't':
        return parse_u32(a, &c->timeout_ms) == IMS_OK && c->timeout_ms ? IMS_OK : IMS_ERROR;
    case 'L':
        if ((lvl = ims_log_level_parse(a)) < 0)
            return IMS_ERROR;
        ims_log_set_level((ims_log_level_t)lvl);
        return IMS_OK;
    default:
        return IMS_ERROR;
    }
}

/* Options before the commands. IMS_OK, or IMS_ERROR after a message. */
static int parse_options(ue_cfg_t *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "pcscf", required_argument, NULL, 'P' },  { "impi", required_argument, NULL, 'i' },
        { "impu", required_argument, NULL, 'u' },   { "k", required_argument, NULL, 'k' },
        { "opc", required_argument, NULL, 'c' },    { "op", required_argument, NULL, 'o' },
        { "ipsec", no_argument, NULL, 's' },        { "local", required_argument, NULL, 'l' },
        { "domain", required_argument, NULL, 'd' }, { "password", required_argument, NULL, 'w' },
        { "sqn-ms", required_argument, NULL, 'q' }, { "ipsec-alg", required_argument, NULL, 'a' },
        { "timeout-ms", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
        { "bad-verify", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    int o;

    while ((o = getopt_long(argc, argv, "+L:h", opts, NULL)) != -1) {
        if (o == 'h' || o == '?')
            return IMS_ERROR;
        if (take_option(c, o, optarg) != IMS_OK) {
            fprintf(stderr, "ims-ue: bad option value '%s'\n", optarg ? optarg : "");
            return IMS_ERROR;
        }
    }
    return IMS_OK;
}

/* "--name N" at argv[*i + 1..]: consumed when present. */
static int cmd_opt(int argc, char **argv, int *i, const char *name, uint32_t *val)
{
    if (*i + 1 < argc && strcmp(argv[*i + 1], name) == 0) {
        if (*i + 2 >= argc || parse_u32(argv[*i + 2], val) != IMS_OK)
            return IMS_ERROR;
        *i += 2;
    }
    return IMS_OK;
}

static int parse_commands(ue_t *ue, int argc, char **argv)
{
    for (int i = optind; i < argc; i++) {
        ue_cmd_t *c = &ue->cmds[ue->ncmds];
        const char *w = argv[i];
        int rc = IMS_OK;

        if (ue->ncmds >= UE_MAX_CMDS)
            return IMS_ERROR;
        memset(c, 0, sizeof(*c));
        if (strcmp(w, "register") == 0) {
            c->kind = UE_CMD_REGISTER;
            c->n = UE_DEFAULT_EXPIRES;
            rc = cmd_opt(argc, argv, &i, "--expires", &c->n);
        } else if (strcmp(w, "reregister") == 0) {
            c->kind = UE_CMD_REREGISTER;
        } else if (strcmp(w, "deregister") == 0) {
            c->kind = UE_CMD_DEREGISTER;
        } else if (strcmp(w, "call") == 0 && i + 1 < argc) {
            c->kind = UE_CMD_CALL;
            c->uri = argv[++i];
            c->n = UE_DEFAULT_HOLD;
            rc = cmd_opt(argc, argv, &i, "--hold-ms", &c->n);
            if (rc == IMS_OK)
                rc = cmd_opt(argc, argv, &i, "--reregister-ms", &c->rereg_ms);
            if (rc == IMS_OK)
                rc = cmd_opt(argc, argv, &i, "--indialog-after-ms", &c->indialog_ms);
        } else if (strcmp(w, "answer") == 0 || strcmp(w, "wait-message") == 0) {
            c->kind = w[0] == 'a' ? UE_CMD_ANSWER : UE_CMD_WAIT_MESSAGE;
            c->n = 1;
            rc = cmd_opt(argc, argv, &i, "--count", &c->n);
        } else if (strcmp(w, "message") == 0 && i + 2 < argc) {
            c->kind = UE_CMD_MESSAGE;
            c->uri = argv[++i];
            c->text = argv[++i];
        } else if (strcmp(w, "wait-ms") == 0 && i + 1 < argc) {
            c->kind = UE_CMD_WAIT_MS;
            rc = parse_u32(argv[++i], &c->n);
        } else if (strcmp(w, "wait-file") == 0 && i + 1 < argc) {
            c->kind = UE_CMD_WAIT_FILE;
            c->text = argv[++i];
        } else {
            fprintf(stderr, "ims-ue: unknown command or missing argument at '%s'\n", w);
            return IMS_ERROR;
        }
        if (rc != IMS_OK) {
            fprintf(stderr, "ims-ue: bad option of command '%s'\n", w);
            return IMS_ERROR;
        }
        ue->ncmds++;
    }
    return ue->ncmds ? IMS_OK : IMS_ERROR;
}

/* The home domain: --domain, else the IMPI's part after '@'. */
static int check_cfg(ue_cfg_t *c)
{
    const char *at;

    if (!c->pcscf.len || !c->impi || !c->impu || !c->have_k || !c->have_op) {
        fprintf(stderr, "ims-ue: --pcscf, --impi, --impu, --k and --opc/--op are required\n");
        return IMS_ERROR;
    }
    if (c->op_not_opc && ims_milenage_opc(c->k, c->op, c->opc) != IMS_OK)
        return IMS_ERROR;
    if (!c->domain[0]) {
        at = strchr(c->impi, '@');
        if (!at || !at[1]) {
            fprintf(stderr, "ims-ue: no --domain and no '@' in the IMPI\n");
            return IMS_ERROR;
        }
        snprintf(c->domain, sizeof(c->domain), "%s", at + 1);
    }
    if (!c->local_host[0])
        snprintf(c->local_host, sizeof(c->local_host), "%s",
                 c->pcscf.ss.ss_family == AF_INET6 ? "::1" : "127.0.0.1");
    if (c->nalgs == 0) {
        static const sec_agree_pref_t def[] = {
            { SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_AES_CBC },
            { SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_NULL },
            { SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_AES_CBC },
            { SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_NULL },
        };
        memcpy(c->algs, def, sizeof(def));
        c->nalgs = IMS_ARRAY_LEN(def);
    }
    return IMS_OK;
}

static int setup(ue_t *ue)
{
    if (ims_milenage_init(&ue->mil, ue->cfg.k, ue->cfg.opc) != IMS_OK)
        return IMS_ERROR;
    ue->loop = ims_loop_new();
    if (!ue->loop || ims_loop_handle_signals(ue->loop, NULL, NULL) != IMS_OK)
        return IMS_ERROR;
    ims_timer_init(&ue->step_timer);
    ims_timer_init(&ue->next_timer);
    ims_timer_init(&ue->file_timer);
    ims_timer_init(&ue->reap_timer);
    ue_call_init(ue);
    if (ue->cfg.ipsec && ue_ipsec_open(ue) != IMS_OK)
        return IMS_ERROR;
    if (ue_sip_open(ue) != IMS_OK) {
        ue_event(ue, "failed to open the SIP sockets (see the log)");
        return IMS_ERROR;
    }
    return IMS_OK;
}

static void teardown(ue_t *ue)
{
    if (ue->loop) {
        ims_timer_stop(ue->loop, &ue->step_timer);
        ims_timer_stop(ue->loop, &ue->next_timer);
        ims_timer_stop(ue->loop, &ue->file_timer);
        ue_call_fini(ue);
    }
    ue_sip_close(ue);
    ue_ipsec_close(ue);
    ims_milenage_fini(&ue->mil);
    if (ue->loop)
        ims_loop_free(ue->loop);
}

int main(int argc, char **argv)
{
    static ue_t ue;   /* large (sec-agree texts): not on the stack */
    int rc;

    ims_log_init("ims-ue", IMS_LOG_WARN, stderr);
    ue.cfg.timeout_ms = UE_DEFAULT_TIMEOUT;
    if (parse_options(&ue.cfg, argc, argv) != IMS_OK || check_cfg(&ue.cfg) != IMS_OK ||
        parse_commands(&ue, argc, argv) != IMS_OK) {
        usage();
        return 2;
    }
    if (setup(&ue) != IMS_OK) {
        teardown(&ue);
        return 1;
    }
    ims_timer_start(ue.loop, &ue.next_timer, 0, on_next, &ue);
    rc = ims_loop_run(ue.loop);
    if (rc != IMS_OK || ue.cur < ue.ncmds)
        ue.status = 1;   /* a signal, or the loop failed */
    teardown(&ue);
    return ue.status;
}
