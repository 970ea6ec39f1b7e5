/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF's "sbi" and "policy" control commands, and its SBI connections
 * in "peers".
 *
 *   sbi     the live HTTP/2 client connections of the process (authority,
 *           state, TLS, streams in flight, requests sent, age), the client's
 *           counters per operation (answers by class, errors by kind, mean
 *           and max latency), the notification server's requests by method
 *           and class, and the GOAWAYs each way (diameter/sbi/h2_stats.h);
 *   policy  the policy client's backend, its sessions (call legs and
 *           registrations' signalling) and its counters (pcscf/policy.h).
 *
 * Read-only, answered from the counters at once.
 */
#include "pcscf/ctl-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/ops/ctl.h"
#include "diameter/sbi/h2_stats.h"
#include "pcscf/policy.h"

#define MAX_CONNS 256   /* listed; "count" says how many there are */

/* ---- sbi ---- */

static json_t *conn_rows(json_t *o)
{
    static sbi_h2_conn_info_t ci[MAX_CONNS];
    size_t n = sbi_h2_client_conn_list(ci, MAX_CONNS);
    json_t *rows = json_array();

    for (size_t i = 0; i < n && i < MAX_CONNS; i++)
        json_array_append_new(rows, json_pack("{s:s,s:s,s:b,s:I,s:I,s:I}",
                                              "authority", ci[i].authority,
                                              "state", ci[i].state, "tls", ci[i].tls,
                                              "streams", (json_int_t)ci[i].streams,
                                              "requests", (json_int_t)ci[i].requests,
                                              "age_s", (json_int_t)(ci[i].age_ms / 1000)));
    json_object_set_new(o, "count", json_integer((json_int_t)n));
    return rows;
}

static json_t *op_row(const sbi_h2_op_stats_t *s)
{
    json_t *o = json_object();

    ims_ctl_set_str(o, "op", s->op);
    json_object_set_new(o, "requests", json_integer((json_int_t)s->requests));
    for (size_t c = 1; c < SBI_H2_NCLASSES; c++)   /* 1xx is never final */
        json_object_set_new(o, sbi_h2_class_name(c), json_integer((json_int_t)s->answers[c]));
    for (int e = SBI_H2_ERR_CONNECT; e < SBI_H2_NERRS; e++)
        json_object_set_new(o, sbi_h2_err_name((sbi_h2_err_t)e),
                            json_integer((json_int_t)s->errors[e]));
    json_object_set_new(o, "avg_ms", json_real(s->latency_count ? 1000.0 * s->latency_sum_s /
                                               (double)s->latency_count : 0.0));
    json_object_set_new(o, "max_ms", json_real(1000.0 * s->latency_max_s));
    return o;
}

static json_t *server_rows(const sbi_h2_stats_t *st)
{
    json_t *rows = json_array();

    for (size_t m = 0; m < SBI_H2_NMETHODS; m++) {
        json_t *o;
        uint64_t any = 0;

        for (size_t c = 0; c < SBI_H2_NCLASSES; c++)
            any += st->server_requests[m][c];
        if (!any)
            continue;
        o = json_object();
        ims_ctl_set_str(o, "method", sbi_h2_method_name(m));
        for (size_t c = 1; c < SBI_H2_NCLASSES; c++)
            json_object_set_new(o, sbi_h2_class_name(c),
                                json_integer((json_int_t)st->server_requests[m][c]));
        json_array_append_new(rows, o);
    }
    return rows;
}

static int cmd_sbi(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                   size_t errlen)
{
    const sbi_h2_stats_t *st = sbi_h2_stats();
    json_t *o = json_object(), *ops = json_array();

    (void)arg;
    if (a->argc) {
        snprintf(err, errlen, "usage: sbi");
        json_decref(o);
        json_decref(ops);
        return IMS_ERROR;
    }
    json_object_set_new(o, "connections", conn_rows(o));
    for (size_t i = 0; i < st->nops; i++)
        json_array_append_new(ops, op_row(&st->ops[i]));
    json_object_set_new(o, "operations", ops);
    json_object_set_new(o, "server_requests", server_rows(st));
    json_object_set_new(o, "goaway", json_pack("{s:I,s:I,s:I,s:I}",
                                               "client_sent", (json_int_t)st->client_goaways_sent,
                                               "client_received",
                                               (json_int_t)st->client_goaways_received,
                                               "server_sent", (json_int_t)st->server_goaways_sent,
                                               "server_received",
                                               (json_int_t)st->server_goaways_received));
    *data = o;
    return IMS_OK;
}

/* "peers": the SBI connections (the P-CSCF has no Diameter node of its own). */
static int sbi_peer(void *arg, int i, ims_ctl_peer_t *out)
{
    static sbi_h2_conn_info_t ci[MAX_CONNS];
    size_t n = sbi_h2_client_conn_list(ci, MAX_CONNS);

    (void)arg;
    if (i < 0 || (size_t)i >= n || i >= MAX_CONNS)
        return IMS_ERROR;
    *out = (ims_ctl_peer_t){ .host = ci[i].authority, .kind = "sbi", .state = ci[i].state,
                             .sent = ci[i].requests };
    return IMS_OK;
}

/* ---- policy ---- */

/* Per backend when there are several (by access type): sessions and outcomes. */
static json_t *policy_backends(const pcscf_policy_t *pc)
{
    json_t *o = json_object();

    for (size_t i = 0; o && i < pcscf_policy_backends(pc); i++) {
        const pcscf_policy_stats_t *s = pcscf_policy_backend_stats(pc, i);

        json_object_set_new(o, pcscf_policy_backend_at(pc, i),
                            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                                      "sessions", (json_int_t)s->sessions_now,
                                      "signalling", (json_int_t)s->signalling_now,
                                      "requests", (json_int_t)(s->requests + s->updates),
                                      "ok", (json_int_t)s->ok,
                                      "rejected", (json_int_t)s->rejected,
                                      "timeouts", (json_int_t)s->timeouts,
                                      "unreachable", (json_int_t)s->unreachable));
    }
    return o;
}

static int cmd_policy(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                      size_t errlen)
{
    const pcscf_ctx_t *ctx = arg;
    const pcscf_policy_stats_t *s;
    size_t all, sig;

    if (a->argc) {
        snprintf(err, errlen, "usage: policy");
        return IMS_ERROR;
    }
    if (!ctx->policy) {
        *data = json_pack("{s:s}", "backend", "none");
        return IMS_OK;
    }
    s = pcscf_policy_stats(ctx->policy);
    all = pcscf_policy_count(ctx->policy);
    sig = (size_t)s->signalling_now;
    *data = json_pack("{s:s,s:{s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I}}",
                      "backend", pcscf_policy_backend_name(ctx->policy),
                      "sessions", "total", (json_int_t)all,
                      "call", (json_int_t)(all > sig ? all - sig : 0),
                      "signalling", (json_int_t)sig,
                      "outcomes", "ok", (json_int_t)s->ok, "rejected", (json_int_t)s->rejected,
                      "timeouts", (json_int_t)s->timeouts,
                      "unreachable", (json_int_t)s->unreachable, "late", (json_int_t)s->late,
                      "full", (json_int_t)s->full,
                      "requests", "new", (json_int_t)s->requests,
                      "updates", (json_int_t)s->updates, "released", (json_int_t)s->released,
                      "network_released", (json_int_t)s->network_released);
    if (*data && pcscf_policy_backends(ctx->policy) > 1)
        json_object_set_new(*data, "backends", policy_backends(ctx->policy));
    return IMS_OK;
}

void pcscf_ctl_sbi_register(pcscf_ctx_t *ctx)
{
    ims_ctl_register(ctx->ctl, "sbi", "sbi",
                     "HTTP/2 (N5) connections, requests per operation, GOAWAYs", cmd_sbi, ctx);
    ims_ctl_register(ctx->ctl, "policy", "policy",
                     "policy client: backend, sessions, outcomes", cmd_policy, ctx);
    ims_ctl_add_peers(ctx->ctl, sbi_peer, NULL);
}
