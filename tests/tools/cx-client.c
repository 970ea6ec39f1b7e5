/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cx-client: a Cx client (I-CSCF / S-CSCF role) on our Diameter node, for the
 * ims-hss integration test and benchmark.
 *
 *   cx-client --hss IP:PORT --realm R --origin-host H [--hss-host HOST]
 *             [--timeout MS] [--log-level LEVEL] COMMAND [options]
 *
 * --hss and --hss-host may be repeated (up to 4 HSSs, the Nth --hss-host names
 * the Nth --hss; with several HSSs each needs one): all are peers of the realm,
 * tried in that order. The single-request commands send Destination-Host =
 * the first --hss-host.
 *
 *   uar   --impi I --impu U [--type 0|1|2] [--visited V]
 *   mar   --impi I --impu U [--scheme S] [--n N] [--server-name S]
 *         [--k HEX --op HEX [--resync SQN_MS [--bad-auts]]]
 *   sar   --impu U [--impi I] --type T --server-name S [--udaa 0|1]
 *   lir   --impu U [--orig] [--type N]
 *   serve [--count N]      answer N RTR/PPR with 2001, printing each (S-CSCF role)
 *   bench --n N [--window W] [--imsi-from IMSI --users C --domain D] [--server-name S]
 *   pace  --impi I --impu U [--every MS] [--duration MS] [--wait MS] [--k HEX --op HEX]
 *
 * Each answer is printed as key=value lines: result=<code> experimental=0|1
 * and the command's fields (server_name, cap_server_name, authenticate, xres,
 * ck, ik, user_data ...). With --k/--op, each AKA vector is checked as a USIM
 * would: sqn= (AUTN xor AK), mac_ok=, xres_ok=, ck_ok=, ik_ok= (1 when our
 * Milenage agrees). --resync first asks for a vector, then answers it with an
 * AUTS for SQN_MS (MAC-S spoiled with --bad-auts) and prints the second answer
 * (first_sqn= is the first vector's SQN). bench runs N MAR+SAR pairs over the
 * users, W in flight, and prints the rates and the client's CPU per request.
 *
 * pace (fault tests): waits up to --wait ms (default 10000) until every HSS is
 * OPEN, then sends one MAR (1 AKA vector) every --every ms (default 100) for
 * --duration ms (default 5000), whatever the peers' state, with no
 * Destination-Host (realm routing, so that failover may pick any HSS), and
 * waits for the last outcome (at most --timeout ms, the request timeout). One
 * line per event; t is the wall clock in ms since the epoch (to compare with
 * `date +%s%3N`), ms durations are monotonic:
 *   t=T seq=N sent
 *   t=T seq=N answer peer=<Origin-Host> result=<code> rtt_ms=MS [sqn=SQN]
 *   t=T seq=N fail err=timeout|no_peer|shutdown after_ms=MS
 *   t=T peer=<host> state=<CLOSED|WAIT_CONN_ACK|WAIT_I_CEA|OPEN|SUSPECT|CLOSING>
 * (state changes seen by a 5 ms poll), then one summary line:
 *   sent=N answered=N failed=N timeouts=N no_peer=N shutdown=N
 * sqn= (with --k/--op) is the vector's SQN, as a USIM would read it.
 *
 * Exit status: 0 when an answer arrived (bench: every pair succeeded; pace:
 * the run ended, whatever its outcomes), 1 on a Diameter failure (no
 * connection, timeout), 2 on bad arguments.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/auth/aka.h"
#include "common/auth/digest.h"
#include "common/auth/milenage.h"
#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"
#include "diameter/cx/cx.h"

#define POLL_MS 5
#define MAX_WINDOW 4096
#define MAX_HSS 4

typedef struct cli cli_t;

typedef struct slot {
    cli_t *c;
    uint64_t idx;               /* bench: the pair this slot is running */
} slot_t;

typedef struct pace_req {       /* pace: one MAR in flight */
    cli_t *c;
    uint64_t seq, t_us;
} pace_req_t;

struct cli {
    /* options */
    const char *hss_host[MAX_HSS], *realm, *origin_host, *cmd;
    char hss_addr[MAX_HSS][64];
    uint16_t hss_port[MAX_HSS];
    int nhss, nhss_host;
    const char *impi, *impu, *server_name, *scheme, *visited;
    long type;
    uint32_t n, udaa, count, window, users, timeout_ms;
    bool orig, has_k, has_op, resync, bad_auts;
    uint8_t k[16], op[16];
    uint64_t resync_sqn, bench_n;
    const char *imsi_from, *domain;

    /* running */
    ims_loop_t *loop;
    dia_node_t *node;
    ims_timer_t poll, deadline;
    int exit_code;
    bool started, finishing;
    uint8_t first_rand[16];
    uint32_t served;

    /* bench */
    slot_t *slots;
    uint64_t next_pair, pairs_done, errors, inflight, t0_us;
    uint64_t first_imsi;
    int imsi_digits;
    struct rusage ru0;

    /* pace */
    uint32_t every_ms, duration_ms, wait_ms;
    ims_timer_t tick;
    bool pacing;
    uint64_t pace_t0_us, seq, pace_inflight, answered, failed, fails[4];
    dia_peer_state_t last_state[MAX_HSS];
};

static void usage(void)
{
    fprintf(stderr,
            "usage: cx-client --hss IP:PORT --realm R --origin-host H [--hss-host HOST]\n"
            "                 [--timeout MS] [--log-level L] uar|mar|sar|lir|serve|bench|pace "
            "[options]\n(see the top of tests/tools/cx-client.c)\n");
}

static void print_hex(const char *key, const uint8_t *p, size_t n)
{
    printf("%s=", key);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

static void print_result(cx_result_t r)
{
    printf("result=%" PRIu32 "\nexperimental=%d\n", r.code, r.experimental ? 1 : 0);
}

static void print_caps(const cx_caps_t *caps)
{
    printf("caps=1\n");
    for (int i = 0; i < caps->nmandatory; i++)
        printf("cap_mandatory=%" PRIu32 "\n", caps->mandatory[i]);
    for (int i = 0; i < caps->noptional; i++)
        printf("cap_optional=%" PRIu32 "\n", caps->optional[i]);
    for (int i = 0; i < caps->nserver_names; i++)
        printf("cap_server_name=%s\n", caps->server_name[i]);
}

/* ---- finishing ---- */

static void on_stopped(void *arg)
{
    ims_loop_stop(arg);
}

static void finish(cli_t *c, int code)
{
    if (c->finishing)
        return;
    c->finishing = true;
    c->exit_code = code;
    fflush(stdout);
    ims_timer_stop(c->loop, &c->poll);
    ims_timer_stop(c->loop, &c->deadline);
    ims_timer_stop(c->loop, &c->tick);
    dia_node_stop(c->node, on_stopped, c->loop);
}

static void on_deadline(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    cli_t *c = arg;

    (void)loop;
    (void)t;
    fprintf(stderr, "cx-client: no %s within %" PRIu32 " ms\n",
            c->started ? "answer" : "connection to the HSS",
            strcmp(c->cmd, "pace") == 0 ? c->wait_ms : c->timeout_ms);
    finish(c, 1);
}

/* The answer callbacks' common start: NULL answers fail the run. */
static bool answered(cli_t *c, const dia_msg_t *ans, dia_send_err_t err)
{
    if (ans)
        return true;
    fprintf(stderr, "cx-client: request failed (error %d)\n", (int)err);
    finish(c, 1);
    return false;
}

/* ---- AKA checks (the USIM's view) ---- */

static void check_aka(cli_t *c, const cx_auth_item_t *it)
{
    ims_milenage_t m = { 0 };
    uint8_t res[8], ck[16], ik[16], ak[6], sqn_b[6], mac[8];
    const uint8_t *rand = it->authenticate, *autn = it->authenticate + 16;
    uint64_t sqn;

    if (!c->has_k || it->authenticate_len != 32)
        return;
    if (ims_milenage_init_op(&m, c->k, c->op) != IMS_OK ||
        ims_milenage_f2345(&m, rand, res, ck, ik, ak, NULL) != IMS_OK)
        goto out;
    for (int i = 0; i < 6; i++)
        sqn_b[i] = autn[i] ^ ak[i];
    sqn = ims_aka_sqn_from_bytes(sqn_b);
    if (ims_milenage_f1(&m, rand, sqn_b, autn + 6, mac, NULL) != IMS_OK)
        goto out;
    printf("sqn=%" PRIu64 "\n", sqn);
    printf("mac_ok=%d\n", memcmp(mac, autn + 8, 8) == 0);
    printf("xres_ok=%d\n", it->authorization_len == 8 && memcmp(res, it->authorization, 8) == 0);
    printf("ck_ok=%d\n", it->has_keys && memcmp(ck, it->ck, 16) == 0);
    printf("ik_ok=%d\n", it->has_keys && memcmp(ik, it->ik, 16) == 0);
out:
    ims_milenage_fini(&m);
}

static void print_maa(cli_t *c, const cx_maa_t *a)
{
    print_result(a->result);
    if (a->impi[0])
        printf("user_name=%s\n", a->impi);
    printf("items=%d\n", a->nitems);
    for (int i = 0; i < a->nitems; i++) {
        const cx_auth_item_t *it = &a->items[i];

        printf("scheme=%s\n", it->scheme);
        if (it->authenticate_len) {
            printf("authenticate_len=%zu\n", it->authenticate_len);
            print_hex("authenticate", it->authenticate, it->authenticate_len);
        }
        if (it->authorization_len) {
            printf("xres_len=%zu\n", it->authorization_len);
            print_hex("xres", it->authorization, it->authorization_len);
        }
        if (it->has_keys) {
            print_hex("ck", it->ck, 16);
            print_hex("ik", it->ik, 16);
        }
        if (it->has_digest)
            printf("digest_realm=%s\ndigest_algorithm=%s\ndigest_qop=%s\ndigest_ha1=%s\n",
                   it->digest_realm, it->digest_algorithm, it->digest_qop, it->digest_ha1);
        check_aka(c, it);
    }
}

/* ---- single requests ---- */

static void send_mar(cli_t *c, const uint8_t *auth, size_t auth_len);

static void on_uaa(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    cli_t *c = arg;
    cx_uaa_t a;

    if (!answered(c, ans, err))
        return;
    if (cx_parse_uaa(ans, &a) != IMS_OK) {
        printf("parse_error=1\n");
    } else {
        print_result(a.result);
        if (a.server_name[0])
            printf("server_name=%s\n", a.server_name);
        if (a.has_caps)
            print_caps(&a.caps);
    }
    dia_msg_free(ans);
    finish(c, 0);
}

static void on_maa(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    cli_t *c = arg;
    cx_maa_t a;
    uint8_t auth[30];
    ims_milenage_t m = { 0 };

    if (!answered(c, ans, err))
        return;
    if (cx_parse_maa(ans, &a) != IMS_OK) {
        printf("parse_error=1\n");
        dia_msg_free(ans);
        finish(c, 0);
        return;
    }
    dia_msg_free(ans);
    if (!c->resync || a.nitems < 1 || a.items[0].authenticate_len != 32) {
        print_maa(c, &a);
        finish(c, 0);
        return;
    }
    /* first leg of a resync: answer this vector's RAND with an AUTS */
    c->resync = false;
    memcpy(auth, a.items[0].authenticate, 16);
    printf("first_result=%" PRIu32 "\n", a.result.code);
    if (c->has_k) {
        uint8_t ak[6], sqn_b[6];

        if (ims_milenage_init_op(&m, c->k, c->op) == IMS_OK &&
            ims_milenage_f2345(&m, auth, NULL, NULL, NULL, ak, NULL) == IMS_OK) {
            for (int i = 0; i < 6; i++)
                sqn_b[i] = a.items[0].authenticate[16 + i] ^ ak[i];
            printf("first_sqn=%" PRIu64 "\n", ims_aka_sqn_from_bytes(sqn_b));
        }
    }
    if (ims_aka_auts_make(&m, auth, c->resync_sqn, auth + 16) != IMS_OK) {
        ims_milenage_fini(&m);
        fprintf(stderr, "cx-client: cannot make AUTS\n");
        finish(c, 1);
        return;
    }
    ims_milenage_fini(&m);
    if (c->bad_auts)
        auth[29] ^= 0x01;   /* the last octet of MAC-S */
    send_mar(c, auth, sizeof(auth));
}

static void on_saa(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    cli_t *c = arg;
    cx_saa_t a;

    if (!answered(c, ans, err))
        return;
    if (cx_parse_saa(ans, &a) != IMS_OK) {
        printf("parse_error=1\n");
    } else {
        print_result(a.result);
        if (a.impi[0])
            printf("user_name=%s\n", a.impi);
        if (a.user_data) {
            for (char *p = a.user_data; *p; p++)
                if (*p == '\n' || *p == '\r')
                    *p = ' ';
            printf("user_data_len=%zu\nuser_data=%s\n", a.user_data_len, a.user_data);
        }
        cx_saa_clear(&a);
    }
    dia_msg_free(ans);
    finish(c, 0);
}

static void on_lia(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    cli_t *c = arg;
    cx_lia_t a;

    if (!answered(c, ans, err))
        return;
    if (cx_parse_lia(ans, &a) != IMS_OK) {
        printf("parse_error=1\n");
    } else {
        print_result(a.result);
        if (a.server_name[0])
            printf("server_name=%s\n", a.server_name);
        if (a.has_caps)
            print_caps(&a.caps);
    }
    dia_msg_free(ans);
    finish(c, 0);
}

static void send_or_fail(cli_t *c, dia_msg_t *req, dia_answer_cb cb)
{
    if (!req) {
        fprintf(stderr, "cx-client: could not build the request (missing option?)\n");
        finish(c, 2);
        return;
    }
    dia_node_send(c->node, &req, cb, c);
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void send_uar(cli_t *c)
{
    cx_uar_t r;

    memset(&r, 0, sizeof(r));
    copy(r.impi, sizeof(r.impi), c->impi);
    copy(r.impu, sizeof(r.impu), c->impu);
    copy(r.visited_network, sizeof(r.visited_network), c->visited ? c->visited : c->realm);
    r.auth_type = c->type >= 0 ? (uint32_t)c->type : 0;
    send_or_fail(c, cx_build_uar(c->node, c->realm, c->hss_host[0], &r), on_uaa);
}

static void send_mar(cli_t *c, const uint8_t *auth, size_t auth_len)
{
    cx_mar_t r;

    memset(&r, 0, sizeof(r));
    copy(r.impi, sizeof(r.impi), c->impi);
    copy(r.impu, sizeof(r.impu), c->impu);
    copy(r.server_name, sizeof(r.server_name), c->server_name);
    copy(r.item.scheme, sizeof(r.item.scheme), c->scheme ? c->scheme : "Digest-AKAv1-MD5");
    if (auth) {
        memcpy(r.item.authorization, auth, auth_len);
        r.item.authorization_len = auth_len;
    }
    r.num_items = c->n;
    send_or_fail(c, cx_build_mar(c->node, c->realm, c->hss_host[0], &r), on_maa);
}

static void send_sar(cli_t *c)
{
    cx_sar_t r;

    memset(&r, 0, sizeof(r));
    copy(r.impi, sizeof(r.impi), c->impi);
    if (c->impu)
        copy(r.impu[r.nimpu++], CX_STR, c->impu);
    copy(r.server_name, sizeof(r.server_name), c->server_name);
    r.type = (cx_sat_t)(c->type >= 0 ? c->type : 1);
    r.user_data_already_available = c->udaa;
    send_or_fail(c, cx_build_sar(c->node, c->realm, c->hss_host[0], &r), on_saa);
}

static void send_lir(cli_t *c)
{
    cx_lir_t r;

    memset(&r, 0, sizeof(r));
    copy(r.impu, sizeof(r.impu), c->impu);
    r.originating = c->orig;
    r.auth_type = c->type >= 0 ? (uint32_t)c->type : 0;
    send_or_fail(c, cx_build_lir(c->node, c->realm, c->hss_host[0], &r), on_lia);
}

/* ---- serve: the S-CSCF side of RTR / PPR ---- */

static void on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *rctx, dia_msg_t *req)
{
    cli_t *c = arg;
    cx_result_t ok = { DIA_SUCCESS, false };
    dia_msg_t *ans;
    uint32_t missing;

    if (req->code == DIA_CMD_RTR) {
        cx_rtr_t r;

        if (cx_parse_rtr(req, &r, &missing) == IMS_OK) {
            printf("request=RTR\nuser_name=%s\nreason=%" PRIu32 "\n", r.impi, r.reason_code);
            for (int i = 0; i < r.nimpu; i++)
                printf("public_identity=%s\n", r.impu[i]);
        } else {
            printf("request=RTR\nparse_error=1\n");
        }
    } else if (req->code == DIA_CMD_PPR) {
        cx_ppr_t r;

        if (cx_parse_ppr(req, &r, &missing) == IMS_OK) {
            printf("request=PPR\nuser_name=%s\nuser_data_len=%zu\n", r.impi, r.user_data_len);
            cx_ppr_clear(&r);
        } else {
            printf("request=PPR\nparse_error=1\n");
        }
    } else {
        printf("request=%u\n", req->code);
        ok.code = DIA_COMMAND_UNSUPPORTED;
    }
    fflush(stdout);
    ans = cx_build_result_answer(node, req, ok);
    if (ans)
        dia_node_answer(node, rctx, &ans);
    dia_msg_free(req);
    if (++c->served >= c->count)
        finish(c, 0);
}

/* ---- bench: MAR + SAR pairs, window in flight ---- */

static void bench_user(cli_t *c, uint64_t pair, char *impi, char *impu)
{
    char imsi[24];

    snprintf(imsi, sizeof(imsi), "%0*" PRIu64, c->imsi_digits,
             c->first_imsi + pair % c->users);
    snprintf(impi, CX_STR, "%s@%s", imsi, c->domain);
    snprintf(impu, CX_STR, "sip:%s@%s", imsi, c->domain);
}

static void bench_sar_done(void *arg, dia_msg_t *ans, dia_send_err_t err);

static void bench_report(cli_t *c)
{
    struct rusage ru;
    double el = (double)(ims_clock_real_us() - c->t0_us) / 1e6;
    double cpu_us;
    uint64_t reqs = 2 * c->pairs_done;

    getrusage(RUSAGE_SELF, &ru);
    cpu_us = (double)(ru.ru_utime.tv_sec - c->ru0.ru_utime.tv_sec) * 1e6 +
             (double)(ru.ru_utime.tv_usec - c->ru0.ru_utime.tv_usec) +
             (double)(ru.ru_stime.tv_sec - c->ru0.ru_stime.tv_sec) * 1e6 +
             (double)(ru.ru_stime.tv_usec - c->ru0.ru_stime.tv_usec);
    printf("pairs=%" PRIu64 "\nrequests=%" PRIu64 "\nerrors=%" PRIu64 "\nwindow=%" PRIu32
           "\nelapsed_s=%.3f\nround_trips_per_s=%.0f\nmar_per_s=%.0f\n"
           "client_cpu_us_per_request=%.2f\n",
           c->pairs_done, reqs, c->errors, c->window, el, el > 0 ? (double)reqs / el : 0,
           el > 0 ? (double)c->pairs_done / el : 0, reqs ? cpu_us / (double)reqs : 0);
}

static void bench_next(cli_t *c, slot_t *s);

static void bench_mar_done(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    slot_t *s = arg;
    cli_t *c = s->c;
    cx_result_t res;
    cx_sar_t r;
    dia_msg_t *req;

    if (!ans || cx_parse_result(ans, &res) != IMS_OK || res.code != DIA_SUCCESS ||
        res.experimental)
        c->errors++;
    (void)err;
    dia_msg_free(ans);
    memset(&r, 0, sizeof(r));
    bench_user(c, s->idx, r.impi, r.impu[0]);
    r.nimpu = 1;
    copy(r.server_name, sizeof(r.server_name), c->server_name);
    r.type = CX_SAT_REGISTRATION;
    req = cx_build_sar(c->node, c->realm, c->hss_host[0], &r);
    if (!req) {
        c->errors++;
        bench_sar_done(s, NULL, DIA_SEND_OK);
        return;
    }
    dia_node_send(c->node, &req, bench_sar_done, s);
}

static void bench_sar_done(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    slot_t *s = arg;
    cli_t *c = s->c;
    cx_result_t res;

    (void)err;
    if (!ans || cx_parse_result(ans, &res) != IMS_OK || res.code != DIA_SUCCESS ||
        res.experimental)
        c->errors++;
    dia_msg_free(ans);
    c->pairs_done++;
    bench_next(c, s);
}

static void bench_next(cli_t *c, slot_t *s)
{
    cx_mar_t r;
    dia_msg_t *req;

    if (c->next_pair >= c->bench_n || c->finishing) {
        if (--c->inflight == 0) {
            bench_report(c);
            finish(c, c->errors ? 1 : 0);
        }
        return;
    }
    s->idx = c->next_pair++;
    memset(&r, 0, sizeof(r));
    bench_user(c, s->idx, r.impi, r.impu);
    copy(r.server_name, sizeof(r.server_name), c->server_name);
    copy(r.item.scheme, sizeof(r.item.scheme), "Digest-AKAv1-MD5");
    r.num_items = 1;
    req = cx_build_mar(c->node, c->realm, c->hss_host[0], &r);
    if (!req) {
        c->errors++;
        c->pairs_done++;
        bench_next(c, s);
        return;
    }
    dia_node_send(c->node, &req, bench_mar_done, s);
}

static void bench_start(cli_t *c)
{
    size_t n = strlen(c->imsi_from);

    c->first_imsi = strtoull(c->imsi_from, NULL, 10);
    c->imsi_digits = (int)n;
    c->slots = calloc(c->window, sizeof(*c->slots));
    if (!c->slots)
        abort();
    getrusage(RUSAGE_SELF, &c->ru0);
    c->t0_us = ims_clock_real_us();
    c->inflight = c->window;
    for (uint32_t i = 0; i < c->window; i++) {
        c->slots[i].c = c;
        bench_next(c, &c->slots[i]);
    }
}

/* ---- pace: one MAR every N ms, for the fault tests ---- */

static uint64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *state_name(dia_peer_state_t s)
{
    static const char *const names[] = { "CLOSED", "WAIT_CONN_ACK", "WAIT_I_CEA", "OPEN",
                                         "SUSPECT", "CLOSING" };

    return (unsigned)s < IMS_ARRAY_LEN(names) ? names[s] : "?";
}

/* Print the peers whose state changed since the last look. */
static void pace_states(cli_t *c)
{
    dia_peer_info_t pi;

    for (int i = 0; i < c->nhss; i++) {
        if (dia_node_peer_info(c->node, i, &pi) != IMS_OK || pi.state == c->last_state[i])
            continue;
        c->last_state[i] = pi.state;
        printf("t=%" PRIu64 " peer=%s state=%s\n", wall_ms(), pi.host, state_name(pi.state));
    }
    fflush(stdout);
}

static void pace_done(cli_t *c)
{
    printf("sent=%" PRIu64 " answered=%" PRIu64 " failed=%" PRIu64 " timeouts=%" PRIu64
           " no_peer=%" PRIu64 " shutdown=%" PRIu64 "\n", c->seq, c->answered, c->failed,
           c->fails[DIA_SEND_TIMEOUT], c->fails[DIA_SEND_NO_PEER], c->fails[DIA_SEND_SHUTDOWN]);
    finish(c, 0);
}

/* The SQN a USIM reads from the vector's AUTN (false without --k/--op). */
static bool vector_sqn(cli_t *c, const cx_auth_item_t *it, uint64_t *sqn)
{
    ims_milenage_t m = { 0 };
    uint8_t ak[6], sqn_b[6];
    bool ok = false;

    if (c->has_k && it->authenticate_len == 32 &&
        ims_milenage_init_op(&m, c->k, c->op) == IMS_OK &&
        ims_milenage_f2345(&m, it->authenticate, NULL, NULL, NULL, ak, NULL) == IMS_OK) {
        for (int i = 0; i < 6; i++)
            sqn_b[i] = it->authenticate[16 + i] ^ ak[i];
        *sqn = ims_aka_sqn_from_bytes(sqn_b);
        ok = true;
    }
    ims_milenage_fini(&m);
    return ok;
}

static void pace_print(cli_t *c, const pace_req_t *r, const dia_msg_t *ans, dia_send_err_t err,
                       uint64_t ms)
{
    static const char *const errs[] = { "ok", "timeout", "no_peer", "shutdown" };
    char host[256] = "?";
    dia_avp_t a;
    cx_maa_t maa;
    uint64_t sqn;

    if (!ans) {
        printf("t=%" PRIu64 " seq=%" PRIu64 " fail err=%s after_ms=%" PRIu64 "\n", wall_ms(),
               r->seq, errs[err], ms);
        return;
    }
    if (!dia_msg_find(ans, DIA_AVP_ORIGIN_HOST, 0, &a) ||
        dia_avp_str(&a, host, sizeof(host)) != IMS_OK)
        snprintf(host, sizeof(host), "?");
    if (cx_parse_maa(ans, &maa) != IMS_OK) {
        printf("t=%" PRIu64 " seq=%" PRIu64 " answer peer=%s parse_error=1 rtt_ms=%" PRIu64
               "\n", wall_ms(), r->seq, host, ms);
        return;
    }
    printf("t=%" PRIu64 " seq=%" PRIu64 " answer peer=%s result=%" PRIu32 " rtt_ms=%" PRIu64,
           wall_ms(), r->seq, host, maa.result.code, ms);
    if (maa.nitems > 0 && vector_sqn(c, &maa.items[0], &sqn))
        printf(" sqn=%" PRIu64, sqn);
    printf("\n");
}

static void pace_answer(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    pace_req_t *r = arg;
    cli_t *c = r->c;

    if ((unsigned)err > DIA_SEND_SHUTDOWN || (!ans && err == DIA_SEND_OK))
        err = DIA_SEND_SHUTDOWN;    /* not expected; counted somewhere all the same */
    if (ans) {
        c->answered++;
    } else {
        c->failed++;
        c->fails[err]++;
    }
    pace_print(c, r, ans, err, (ims_clock_real_us() - r->t_us) / 1000);
    fflush(stdout);
    dia_msg_free(ans);
    free(r);
    if (--c->pace_inflight == 0 && !c->pacing && !c->finishing)
        pace_done(c);
}

static void pace_tick(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    cli_t *c = arg;
    pace_req_t *r;
    cx_mar_t m;
    dia_msg_t *req;

    if (ims_clock_real_us() - c->pace_t0_us >= (uint64_t)c->duration_ms * 1000) {
        c->pacing = false;
        if (c->pace_inflight == 0)
            pace_done(c);
        return;
    }
    ims_timer_start(loop, t, c->every_ms, pace_tick, c);
    memset(&m, 0, sizeof(m));
    copy(m.impi, sizeof(m.impi), c->impi);
    copy(m.impu, sizeof(m.impu), c->impu);
    copy(m.server_name, sizeof(m.server_name), c->server_name);
    copy(m.item.scheme, sizeof(m.item.scheme), "Digest-AKAv1-MD5");
    m.num_items = 1;
    if (!(req = cx_build_mar(c->node, c->realm, NULL, &m)) || !(r = calloc(1, sizeof(*r)))) {
        fprintf(stderr, "cx-client: cannot build a MAR\n");
        dia_msg_free(req);
        finish(c, 1);
        return;
    }
    r->c = c;
    r->seq = ++c->seq;
    r->t_us = ims_clock_real_us();
    c->pace_inflight++;
    printf("t=%" PRIu64 " seq=%" PRIu64 " sent\n", wall_ms(), r->seq);
    fflush(stdout);
    dia_node_send(c->node, &req, pace_answer, r);
}

static void pace_start(cli_t *c)
{
    c->pacing = true;
    c->pace_t0_us = ims_clock_real_us();
    pace_tick(c->loop, &c->tick, c);
}

/* ---- start: wait for the HSS connection, then run the command ---- */

static void run_command(cli_t *c)
{
    c->started = true;
    if (strcmp(c->cmd, "uar") == 0)
        send_uar(c);
    else if (strcmp(c->cmd, "mar") == 0)
        send_mar(c, NULL, 0);
    else if (strcmp(c->cmd, "sar") == 0)
        send_sar(c);
    else if (strcmp(c->cmd, "lir") == 0)
        send_lir(c);
    else if (strcmp(c->cmd, "bench") == 0)
        bench_start(c);
    else if (strcmp(c->cmd, "pace") == 0)
        pace_start(c);
    else {   /* serve: the deadline now bounds the wait for requests */
        printf("ready=1\n");
        fflush(stdout);
    }
}

/* The first HSS is OPEN; for pace, every HSS. */
static bool peers_ready(cli_t *c, bool pace)
{
    dia_peer_info_t pi;

    for (int i = 0; i < (pace ? c->nhss : 1); i++)
        if (dia_node_peer_info(c->node, i, &pi) != IMS_OK || pi.state != DIA_PEER_OPEN)
            return false;
    return true;
}

static void on_poll(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    cli_t *c = arg;
    bool pace = strcmp(c->cmd, "pace") == 0;

    if (pace)
        pace_states(c);
    if (!c->started && peers_ready(c, pace)) {
        if (pace || strcmp(c->cmd, "bench") == 0)
            ims_timer_stop(loop, &c->deadline);   /* these may take longer */
        run_command(c);
        if (!pace)
            return;
    }
    if (!c->finishing)
        ims_timer_start(loop, t, POLL_MS, on_poll, c);
}

/* ---- arguments ---- */

static int parse_hex16(const char *s, uint8_t out[16])
{
    return strlen(s) == 32 && ims_auth_hex_decode(s, 32, out, 16, NULL) == IMS_OK ? IMS_OK
                                                                                   : IMS_ERROR;
}

static int parse_hostport(cli_t *c, const char *s)
{
    const char *colon = strrchr(s, ':');
    char *host;
    long p;

    if (c->nhss >= MAX_HSS || !colon || (size_t)(colon - s) >= sizeof(c->hss_addr[0]))
        return IMS_ERROR;
    host = c->hss_addr[c->nhss];
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    p = strtol(colon + 1, NULL, 10);
    if (p <= 0 || p > 65535)
        return IMS_ERROR;
    c->hss_port[c->nhss++] = (uint16_t)p;
    return IMS_OK;
}

enum {
    O_HSS = 256, O_HSS_HOST, O_REALM, O_ORIGIN, O_TIMEOUT, O_LOG, O_IMPI, O_IMPU, O_TYPE,
    O_VISITED, O_SCHEME, O_N, O_SERVER, O_K, O_OP, O_RESYNC, O_BAD_AUTS, O_UDAA, O_ORIG,
    O_COUNT, O_WINDOW, O_IMSI_FROM, O_USERS, O_DOMAIN, O_EVERY, O_DURATION, O_WAIT
};

static int parse_opt(cli_t *c, int o, const char *v)
{
    switch (o) {
    case O_HSS: return parse_hostport(c, v);
    case O_HSS_HOST:
        if (c->nhss_host >= MAX_HSS)
            return IMS_ERROR;
        c->hss_host[c->nhss_host++] = v;
        break;
    case O_REALM: c->realm = v; break;
    case O_ORIGIN: c->origin_host = v; break;
    case O_TIMEOUT: c->timeout_ms = (uint32_t)strtoul(v, NULL, 10); break;
    case O_LOG:
        if (ims_log_level_parse(v) < 0)
            return IMS_ERROR;
        ims_log_set_level((ims_log_level_t)ims_log_level_parse(v));
        break;
    case O_IMPI: c->impi = v; break;
    case O_IMPU: c->impu = v; break;
    case O_TYPE: c->type = strtol(v, NULL, 10); break;
    case O_VISITED: c->visited = v; break;
    case O_SCHEME: c->scheme = v; break;
    case O_N:   /* vectors per MAR; for bench, the number of pairs */
        c->bench_n = strtoull(v, NULL, 10);
        c->n = (uint32_t)c->bench_n;
        break;
    case O_SERVER: c->server_name = v; break;
    case O_K: c->has_k = parse_hex16(v, c->k) == IMS_OK; return c->has_k ? IMS_OK : IMS_ERROR;
    case O_OP: c->has_op = parse_hex16(v, c->op) == IMS_OK; return c->has_op ? IMS_OK : IMS_ERROR;
    case O_RESYNC: c->resync = true; c->resync_sqn = strtoull(v, NULL, 10); break;
    case O_BAD_AUTS: c->bad_auts = true; break;
    case O_UDAA: c->udaa = (uint32_t)strtoul(v, NULL, 10); break;
    case O_ORIG: c->orig = true; break;
    case O_COUNT: c->count = (uint32_t)strtoul(v, NULL, 10); break;
    case O_WINDOW: c->window = (uint32_t)strtoul(v, NULL, 10); break;
    case O_IMSI_FROM: c->imsi_from = v; break;
    case O_USERS: c->users = (uint32_t)strtoul(v, NULL, 10); break;
    case O_DOMAIN: c->domain = v; break;
    case O_EVERY: c->every_ms = (uint32_t)strtoul(v, NULL, 10); break;
    case O_DURATION: c->duration_ms = (uint32_t)strtoul(v, NULL, 10); break;
    case O_WAIT: c->wait_ms = (uint32_t)strtoul(v, NULL, 10); break;
    default: return IMS_ERROR;
    }
    return IMS_OK;
}

static int parse_args(cli_t *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "hss", 1, NULL, O_HSS }, { "hss-host", 1, NULL, O_HSS_HOST },
        { "realm", 1, NULL, O_REALM }, { "origin-host", 1, NULL, O_ORIGIN },
        { "timeout", 1, NULL, O_TIMEOUT }, { "log-level", 1, NULL, O_LOG },
        { "impi", 1, NULL, O_IMPI }, { "impu", 1, NULL, O_IMPU }, { "type", 1, NULL, O_TYPE },
        { "visited", 1, NULL, O_VISITED }, { "scheme", 1, NULL, O_SCHEME },
        { "n", 1, NULL, O_N }, { "server-name", 1, NULL, O_SERVER }, { "k", 1, NULL, O_K },
        { "op", 1, NULL, O_OP }, { "resync", 1, NULL, O_RESYNC },
        { "bad-auts", 0, NULL, O_BAD_AUTS }, { "udaa", 1, NULL, O_UDAA },
        { "orig", 0, NULL, O_ORIG }, { "count", 1, NULL, O_COUNT },
        { "window", 1, NULL, O_WINDOW }, { "imsi-from", 1, NULL, O_IMSI_FROM },
        { "users", 1, NULL, O_USERS }, { "domain", 1, NULL, O_DOMAIN },
        { "every", 1, NULL, O_EVERY }, { "duration", 1, NULL, O_DURATION },
        { "wait", 1, NULL, O_WAIT }, { NULL, 0, NULL, 0 },
    };
    static const char *const cmds[] = { "uar", "mar", "sar", "lir", "serve", "bench", "pace" };
    int o;

    /* options may come before and after the command word */
    while (optind < argc) {
        if (argv[optind][0] != '-') {
            if (c->cmd)
                return IMS_ERROR;
            c->cmd = argv[optind++];
            continue;
        }
        if ((o = getopt_long(argc, argv, "", longopts, NULL)) == -1)
            break;
        if (parse_opt(c, o, optarg) != IMS_OK)
            return IMS_ERROR;
    }
    if (!c->cmd || c->nhss < 1 || !c->realm || !c->origin_host || c->has_k != c->has_op ||
        (c->resync && !c->has_k) || c->window < 1 || c->window > MAX_WINDOW || c->users < 1 ||
        (c->nhss > 1 && c->nhss_host != c->nhss) || c->nhss_host > c->nhss ||
        c->every_ms < 1 || c->wait_ms < 1)
        return IMS_ERROR;
    for (size_t i = 0; i < IMS_ARRAY_LEN(cmds); i++)
        if (strcmp(c->cmd, cmds[i]) == 0)
            return IMS_OK;
    return IMS_ERROR;
}

static int start_node(cli_t *c)
{
    dia_node_cfg_t nc = {
        .origin_host = c->origin_host, .origin_realm = c->realm, .product_name = "cx-client",
        .request_timeout_ms = c->timeout_ms, .tw_ms = 30000, .tc_ms = 1000,
        .apps = { { DIA_APP_CX, DIA_VENDOR_3GPP } }, .napps = 1,
    };

    c->node = dia_node_new(c->loop, &nc);
    if (!c->node)
        return IMS_ERROR;
    for (int i = 0; i < c->nhss; i++) {
        dia_peer_cfg_t pc = {
            .host = c->hss_host[i], .realm = c->realm, .addr = c->hss_addr[i],
            .port = c->hss_port[i], .connect = true,
        };

        c->last_state[i] = DIA_PEER_CLOSED;
        if (dia_node_add_peer(c->node, &pc) != IMS_OK)
            return IMS_ERROR;
    }
    if (strcmp(c->cmd, "serve") == 0)
        dia_node_on_request(c->node, DIA_APP_CX, on_request, c);
    return dia_node_start(c->node);
}

int main(int argc, char **argv)
{
    cli_t c = {
        .hss_host = { "hss.ims.mnc001.mcc001.3gppnetwork.org" }, .type = -1, .n = 1,
        .server_name = "sip:scscf.ims.mnc001.mcc001.3gppnetwork.org", .count = 1,
        .window = 256, .users = 1000, .bench_n = 0, .timeout_ms = 5000,
        .imsi_from = "001010000000001", .domain = "ims.mnc001.mcc001.3gppnetwork.org",
        .every_ms = 100, .duration_ms = 5000, .wait_ms = 10000,
    };

    ims_log_init("cx-client", IMS_LOG_WARN, stderr);
    if (parse_args(&c, argc, argv) != IMS_OK) {
        usage();
        return 2;
    }
    c.loop = ims_loop_new();
    if (!c.loop || ims_loop_handle_signals(c.loop, NULL, NULL) != IMS_OK ||
        start_node(&c) != IMS_OK) {
        fprintf(stderr, "cx-client: cannot start the Diameter node\n");
        return 1;
    }
    c.exit_code = 1;
    ims_timer_init(&c.poll);
    ims_timer_init(&c.deadline);
    ims_timer_init(&c.tick);
    ims_timer_start(c.loop, &c.poll, 0, on_poll, &c);
    ims_timer_start(c.loop, &c.deadline,
                    strcmp(c.cmd, "pace") == 0 ? c.wait_ms : c.timeout_ms, on_deadline, &c);
    ims_loop_run(c.loop);
    if (!c.finishing) {     /* a signal: still say goodbye to the HSS */
        c.finishing = true;
        ims_timer_stop(c.loop, &c.poll);
        ims_timer_stop(c.loop, &c.tick);
        dia_node_stop(c.node, on_stopped, c.loop);
        ims_loop_run(c.loop);
    }
    dia_node_free(c.node);
    ims_loop_free(c.loop);
    free(c.slots);
    fflush(stdout);
    return c.exit_code;
}
