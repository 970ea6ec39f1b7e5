/* SPDX-License-Identifier: BSD-2-Clause */
/* The P-CSCF's control-socket commands; see pcscf/ctl-cmds.h. */
#include "pcscf/ctl-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ops/ctl.h"
#include "common/ops/ctl_sip.h"
#include "pcscf/dialog.h"
#include "pcscf/secagree.h"

static const char *const sub_states[] = { "none", "pending", "active" };

static json_int_t left_s(uint64_t at_ms, uint64_t now)
{
    return at_ms > now ? (json_int_t)((at_ms - now + 999) / 1000) : 0;
}

static bool ue_matches(const void *value, const char *filter)
{
    const pcscf_ue_t *ue = value;

    if (ims_ctl_match(pcscf_ue_key(ue), filter) || ims_ctl_match(pcscf_ue_contact(ue), filter))
        return true;
    for (size_t i = 0; i < ue->nimpu; i++)
        if (ims_ctl_match(pcscf_ue_impu(ue, i), filter))
            return true;
    return false;
}

/* ---- registrations [filter] ---- */

static int by_impu(const void *a, const void *b)
{
    return strcmp(pcscf_ue_impu(*(const pcscf_ue_t *const *)a, 0),
                  pcscf_ue_impu(*(const pcscf_ue_t *const *)b, 0));
}

static json_t *ue_row(const pcscf_ue_t *ue, uint64_t now)
{
    json_t *o = json_object();

    ims_ctl_set_str(o, "impu", pcscf_ue_impu(ue, 0));
    ims_ctl_set_str(o, "impi", NULL);   /* the P-CSCF does not learn it */
    ims_ctl_set_str(o, "contact", pcscf_ue_contact(ue));
    json_object_set_new(o, "expires", json_integer(left_s(ue->expires_ms, now)));
    json_object_set_new(o, "state", json_string("registered"));
    ims_ctl_set_str(o, "address", pcscf_ue_key(ue));
    json_object_set_new(o, "reg_event", json_string(sub_states[ue->sub_state % 3]));
    return o;
}

/* A row of "registrations" (arg: the time now, ms). */
static json_t *ue_list_row(const void *value, void *arg)
{
    return ue_row(value, *(const uint64_t *)arg);
}

static int cmd_registrations(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                             size_t errlen)
{
    pcscf_ctx_t *ctx = arg;
    uint64_t now = ims_clock_now_ms();

    if (a->argc > 1) {
        snprintf(err, errlen, "usage: registrations [filter]");
        return IMS_ERROR;
    }
    *data = ims_ctl_list(ctx->by_addr, "registrations", ue_matches, a->argc ? a->argv[0] : NULL,
                         by_impu, ue_list_row, &now);
    return IMS_OK;
}

/* ---- registration <IMPU|address>, deregister <IMPU|address> ---- */

typedef struct find {
    const char *id;
    pcscf_ue_t *ue;
} find_t;

static void find_any_impu(void *arg, const char *key, void *value)
{
    find_t *f = arg;
    pcscf_ue_t *ue = value;

    (void)key;
    for (size_t i = 0; !f->ue && i < ue->nimpu; i++)
        if (strcmp(pcscf_ue_impu(ue, i), f->id) == 0)
            f->ue = ue;
}

/* By default IMPU, by address key ("u:IP:PORT"), then by any IMPU of a UE. */
static pcscf_ue_t *find_ue(pcscf_ctx_t *ctx, const ims_ctl_args_t *a, char *err, size_t errlen)
{
    find_t f = { a->argc == 1 ? a->argv[0] : NULL, NULL };

    if (a->argc != 1) {
        snprintf(err, errlen, "usage: <IMPU|address>");
        return NULL;
    }
    if (!(f.ue = pcscf_ue_find_impu(ctx, f.id)) && !(f.ue = pcscf_ue_find_addr(ctx, f.id)))
        ims_hash_foreach(ctx->by_addr, find_any_impu, &f);
    if (!f.ue)
        snprintf(err, errlen, "no registration of %.200s here (the P-CSCF knows UEs by IMPU "
                 "and address, not by IMPI)", f.id);
    return f.ue;
}

static int cmd_registration(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                            size_t errlen)
{
    pcscf_ctx_t *ctx = arg;
    const pcscf_ue_t *ue = find_ue(ctx, a, err, errlen);
    uint64_t now = ims_clock_now_ms();
    json_t *o, *impus, *routes;

    if (!ue)
        return IMS_ERROR;
    o = ue_row(ue, now);
    impus = json_array();
    routes = json_array();
    for (size_t i = 0; i < ue->nimpu; i++)
        json_array_append_new(impus, json_string(pcscf_ue_impu(ue, i)));
    for (size_t i = 0; i < ue->nroute; i++)
        json_array_append_new(routes, json_string(pcscf_ue_route(ue, i)));
    json_object_set_new(o, "impus", impus);
    json_object_set_new(o, "service_route", routes);
    json_object_set_new(o, "reg_event_expires", json_integer(left_s(ue->sub_expires_ms, now)));
    json_object_set_new(o, "calls", json_boolean(ue->dialogs != NULL));
    *data = o;
    return IMS_OK;
}

static int cmd_deregister(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                          size_t errlen)
{
    pcscf_ctx_t *ctx = arg;
    pcscf_ue_t *ue = find_ue(ctx, a, err, errlen);

    if (!ue)
        return IMS_ERROR;
    *data = json_object();
    ims_ctl_set_str(*data, "deregistered", pcscf_ue_impu(ue, 0));
    ims_ctl_set_str(*data, "address", pcscf_ue_key(ue));
    IMS_NOTICE("control socket: dropping the registration of %s (%s)", pcscf_ue_impu(ue, 0),
               pcscf_ue_key(ue));
    ctx->stats.dropped++;
    pcscf_ue_remove(ctx, ue);
    return IMS_OK;
}

/* ---- dialogs [filter] ---- */

static const char *const dlg_states[] = { "early", "confirmed", "ending" };

/* The dialogs of every UE that match a filter, at most cap of them kept. */
typedef struct dlg_collect {
    pcscf_ctx_t *ctx;
    const char *filter;
    const void **vals;
    size_t n, cap, total;
} dlg_collect_t;

static void dlg_collect_one(void *arg, pcscf_dialog_t *d)
{
    dlg_collect_t *c = arg;

    if (!ims_ctl_match(pcscf_dialog_call_id(d), c->filter) &&
        !ims_ctl_match(pcscf_dialog_impu(d), c->filter) &&
        !ims_ctl_match(pcscf_ue_key(d->ue), c->filter))
        return;
    c->total++;
    if (c->n < c->cap)
        c->vals[c->n++] = d;
}

static void dlg_collect_ue(void *arg, const char *key, void *value)
{
    dlg_collect_t *c = arg;

    (void)key;
    pcscf_dialogs_of_ue(c->ctx, value, dlg_collect_one, c);
}

/* Oldest first; the two legs of a call through us side by side. */
static int by_age(const void *a, const void *b)
{
    const pcscf_dialog_t *x = *(const pcscf_dialog_t *const *)a;
    const pcscf_dialog_t *y = *(const pcscf_dialog_t *const *)b;
    int c;

    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    c = strcmp(pcscf_dialog_call_id(x), pcscf_dialog_call_id(y));
    return c ? c : (int)x->dir - (int)y->dir;
}

static json_t *dlg_row(const void *value, void *arg)
{
    const pcscf_dialog_t *d = value;
    uint64_t now = *(const uint64_t *)arg;
    json_t *o = json_object();

    json_object_set_new(o, "dir", json_string(d->dir == PCSCF_DLG_ORIG ? "orig" : "term"));
    ims_ctl_set_str(o, "call_id", pcscf_dialog_call_id(d));
    ims_ctl_set_str(o, "impu", pcscf_dialog_impu(d));
    json_object_set_new(o, "state", json_string(dlg_states[d->state % 3]));
    json_object_set_new(o, "age", json_integer(now > d->created_ms
                                                   ? (json_int_t)((now - d->created_ms) / 1000)
                                                   : 0));
    ims_ctl_set_str(o, "ue", pcscf_ue_key(d->ue));
    return o;
}

static int cmd_dialogs(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                       size_t errlen)
{
    pcscf_ctx_t *ctx = arg;
    uint64_t now = ims_clock_now_ms();
    size_t cap = ctx->dialogs ? ims_hash_count(ctx->dialogs) : 0;
    dlg_collect_t c = { ctx, a->argc ? a->argv[0] : NULL, NULL, 0, 0, 0 };

    if (a->argc > 1) {
        snprintf(err, errlen, "usage: dialogs [filter]");
        return IMS_ERROR;
    }
    c.cap = cap < IMS_CTL_MAX_ROWS ? cap : IMS_CTL_MAX_ROWS;
    if (!(c.vals = malloc(c.cap * sizeof(void *) + 1)))   /* + 1: never malloc(0) */
        abort();
    ims_hash_foreach(ctx->by_addr, dlg_collect_ue, &c);
    *data = ims_ctl_list_of(c.vals, c.n, c.total, "dialogs", by_age, dlg_row, &now);
    free(c.vals);
    return IMS_OK;
}

/* ---- counters ---- */

static int cmd_counters(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                        size_t errlen)
{
    pcscf_ctx_t *ctx = arg;
    const pcscf_stats_t *s = &ctx->stats;
    json_t *o, *d;

    (void)a;
    (void)err;
    (void)errlen;
    o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                  "ues", (json_int_t)pcscf_ue_count(ctx),
                  "registered", (json_int_t)s->registered, "refreshed", (json_int_t)s->refreshed,
                  "deregistered", (json_int_t)s->deregistered, "expired", (json_int_t)s->expired,
                  "dropped", (json_int_t)s->dropped, "refused", (json_int_t)s->refused,
                  "pai_stripped", (json_int_t)s->pai_stripped,
                  "pai_asserted", (json_int_t)s->pai_asserted,
                  "subscribes", (json_int_t)s->subscribes,
                  "subscribe_failed", (json_int_t)s->subscribe_failed,
                  "notifies", (json_int_t)s->notifies,
                  "unregistered_refused", (json_int_t)s->unregistered_refused,
                  "routes_enforced", (json_int_t)s->routes_enforced);
    d = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
                  "active", (json_int_t)(ctx->dialogs ? ims_hash_count(ctx->dialogs) : 0),
                  "early", (json_int_t)s->dialogs_early,
                  "confirmed", (json_int_t)s->dialogs_confirmed,
                  "ended", (json_int_t)s->dialogs_ended,
                  "released", (json_int_t)s->dialogs_released,
                  "byes_sent", (json_int_t)s->byes_sent);
    *data = json_pack("{s:o,s:o}", "pcscf", o, "dialogs", d);
    if (ctx->node)
        json_object_set_new(*data, "sip", ims_ctl_sip_counters(ctx->node));
    return IMS_OK;
}

/* ---- reload: the pcscf group's numbers ---- */

static int on_reload(void *arg, ims_conf_t *conf, json_t *changes, char *err, size_t errlen)
{
    pcscf_ctx_t *ctx = arg;
    pcscf_cfg_t cfg = ctx->cfg;   /* nothing applied unless all is well */
    json_t *ch = json_object();

    if (ims_ctl_reload_u32(conf, "pcscf.subscribe_expires", 60, 4000000,
                           &cfg.subscribe_expires, ch) ||
        ims_ctl_reload_u32(conf, "pcscf.max_ues", 1, 100000000, &cfg.max_ues, ch)) {
        snprintf(err, errlen, "%s", ims_conf_error(conf));
        json_decref(ch);
        return IMS_ERROR;
    }
    ctx->cfg.subscribe_expires = cfg.subscribe_expires;
    ctx->cfg.max_ues = cfg.max_ues;
    json_object_update(changes, ch);
    json_decref(ch);
    return IMS_OK;
}

int pcscf_ctl_start(pcscf_ctx_t *ctx, sip_node_t *node, ims_conf_t *conf)
{
    ctx->node = node;
    if (ims_ctl_open(ctx->loop, conf, "pcscf", &ctx->ctl) != IMS_OK)
        return IMS_ERROR;
    if (!ctx->ctl)
        return IMS_OK;
    ims_ctl_register(ctx->ctl, "registrations", "registrations [filter]",
                     "registered UEs (IMPU, contact, expires, state, address)",
                     cmd_registrations, ctx);
    ims_ctl_register(ctx->ctl, "registration", "registration <IMPU|address>",
                     "one UE in full", cmd_registration, ctx);
    ims_ctl_register(ctx->ctl, "deregister", "deregister <IMPU|address>",
                     "drop the UE's registration here (its calls released)", cmd_deregister,
                     ctx);
    ims_ctl_register(ctx->ctl, "dialogs", "dialogs [filter]",
                     "calls of registered UEs (dir, Call-ID, IMPU, state, age)", cmd_dialogs,
                     ctx);
    pcscf_ctl_sas_register(ctx);
    pcscf_ctl_sbi_register(ctx);   /* sbi, policy, and the SBI connections in "peers" */
    ims_ctl_register(ctx->ctl, "counters", "counters", "what the P-CSCF counted", cmd_counters,
                     ctx);
    ims_ctl_on_reload(ctx->ctl, on_reload, ctx);
    return IMS_OK;
}

void pcscf_ctl_stop(pcscf_ctx_t *ctx)
{
    ims_ctl_free(ctx->ctl);
    ctx->ctl = NULL;
}
