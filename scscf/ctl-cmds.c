/* SPDX-License-Identifier: BSD-2-Clause */
/* The S-CSCF's control-socket commands; see scscf/ctl-cmds.h. */
#include "scscf/ctl-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ops/ctl.h"
#include "common/ops/ctl_sip.h"
#include "diameter/base/peer.h"
#include "diameter/base/peer_conf.h"
#include "scscf/cx-path.h"
#include "scscf/diagnose.h"
#include "scscf/init.h"
#include "scscf/regevent.h"

static const char *reg_state(const scscf_reg_t *reg)
{
    return reg->registered ? "registered" : reg->auth ? "auth-pending" : "unregistered";
}

static const char *reg_impu(const scscf_reg_t *reg)
{
    return reg->profile && reg->profile->nimpu ? reg->profile->impu[0] : NULL;
}

static bool reg_matches(const void *value, const char *filter)
{
    const scscf_reg_t *reg = value;

    if (ims_ctl_match(reg->impi, filter))
        return true;
    for (int i = 0; reg->profile && i < reg->profile->nimpu; i++)
        if (ims_ctl_match(reg->profile->impu[i], filter))
            return true;
    for (int i = 0; i < reg->ncontacts; i++)
        if (ims_ctl_match(reg->contacts[i].uri, filter))
            return true;
    return false;
}

/* ---- registrations [filter] ---- */

static int by_impi(const void *a, const void *b)
{
    const scscf_reg_t *x = *(const scscf_reg_t *const *)a, *y = *(const scscf_reg_t *const *)b;

    return strcmp(x->impi, y->impi);
}

/* A row of "registrations" (arg: the time now, ms). */
static json_t *reg_row(const void *value, void *arg)
{
    const scscf_reg_t *reg = value;
    uint64_t now = *(const uint64_t *)arg;
    json_t *o = json_object();

    ims_ctl_set_str(o, "impu", reg_impu(reg));
    ims_ctl_set_str(o, "impi", reg->impi);
    ims_ctl_set_str(o, "contact", reg->ncontacts ? reg->contacts[0].uri : NULL);
    json_object_set_new(o, "expires", json_integer(scscf_reg_left(reg, now)));
    json_object_set_new(o, "state", json_string(reg_state(reg)));
    json_object_set_new(o, "contacts", json_integer(reg->ncontacts));
    return o;
}

static int cmd_registrations(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                             size_t errlen)
{
    scscf_ctx_t *ctx = arg;
    uint64_t now = ims_clock_now_ms();

    if (a->argc > 1) {
        snprintf(err, errlen, "usage: registrations [filter]");
        return IMS_ERROR;
    }
    *data = ims_ctl_list(ctx->by_impi, "registrations", reg_matches, a->argc ? a->argv[0] : NULL,
                         by_impi, reg_row, &now);
    return IMS_OK;
}

/* ---- registration <IMPU|IMPI> ---- */

static scscf_reg_t *find_reg(scscf_ctx_t *ctx, const ims_ctl_args_t *a, char *err, size_t errlen)
{
    scscf_reg_t *reg;

    if (a->argc != 1) {
        snprintf(err, errlen, "usage: <IMPU|IMPI>");
        return NULL;
    }
    reg = scscf_reg_find(ctx, a->argv[0]);
    if (!reg)
        reg = scscf_reg_find_impu(ctx, a->argv[0]);
    if (!reg)
        snprintf(err, errlen, "no registration of %.200s here", a->argv[0]);
    return reg;
}

static json_t *contacts_json(const scscf_reg_t *reg, uint64_t now)
{
    json_t *list = json_array();

    for (int i = 0; i < reg->ncontacts; i++) {
        const scscf_contact_t *ct = &reg->contacts[i];
        json_t *o = json_object();

        ims_ctl_set_str(o, "uri", ct->uri);
        json_object_set_new(o, "expires", json_integer(scscf_contact_left(ct, now)));
        ims_ctl_set_str(o, "path", ct->path);
        ims_ctl_set_str(o, "call_id", scscf_contact_call_id(ct));
        json_object_set_new(o, "cseq", json_integer(ct->cseq));
        json_array_append_new(list, o);
    }
    return list;
}

static int cmd_registration(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                            size_t errlen)
{
    scscf_ctx_t *ctx = arg;
    const scscf_reg_t *reg = find_reg(ctx, a, err, errlen);
    json_t *o, *impus = json_array();
    int nsubs = 0;

    if (!reg) {
        json_decref(impus);
        return IMS_ERROR;
    }
    for (int i = 0; reg->profile && i < reg->profile->nimpu; i++) {
        json_t *u = json_object();

        ims_ctl_set_str(u, "impu", reg->profile->impu[i]);
        json_object_set_new(u, "barred", json_boolean(reg->profile->barred[i]));
        json_array_append_new(impus, u);
    }
    for (const scscf_sub_t *s = reg->subs; s; s = s->next)
        nsubs++;
    o = json_object();
    ims_ctl_set_str(o, "impi", reg->impi);
    json_object_set_new(o, "state", json_string(reg_state(reg)));
    json_object_set_new(o, "expires", json_integer(scscf_reg_left(reg, ims_clock_now_ms())));
    json_object_set_new(o, "ifcs", json_integer(reg->profile ? reg->profile->nifc : 0));
    json_object_set_new(o, "reg_event_subscriptions", json_integer(nsubs));
    if (reg->auth)
        json_object_set_new(o, "auth",
                            json_pack("{s:s,s:i}", "scheme",
                                      reg->auth->scheme == SCSCF_AUTH_AKA ? "AKA" : "MD5",
                                      "attempts", reg->auth->attempts));
    json_object_set_new(o, "impus", impus);
    json_object_set_new(o, "contacts", contacts_json(reg, ims_clock_now_ms()));
    *data = o;
    return IMS_OK;
}

/* ---- deregister <IMPU|IMPI> ---- */

/* Network-initiated de-registration (TS 24.229 §5.4.1.5): the subscribers are
 * told (contacts "deactivated": the UE may register again), the HSS gets a SAR
 * ADMINISTRATIVE_DEREGISTRATION, the registration goes. */
static int cmd_deregister(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                          size_t errlen)
{
    scscf_ctx_t *ctx = arg;
    scscf_reg_t *reg = find_reg(ctx, a, err, errlen);
    char impi[CX_STR], impu[CX_STR];

    if (!reg)
        return IMS_ERROR;
    if (!reg->registered) {
        snprintf(err, errlen, "%.200s is not registered (%s)", reg->impi, reg_state(reg));
        return IMS_ERROR;
    }
    snprintf(impi, sizeof(impi), "%s", reg->impi);
    snprintf(impu, sizeof(impu), "%s", reg_impu(reg) ? reg_impu(reg) : "");
    IMS_NOTICE("control socket: de-registering %s (%s)", impi, impu);
    ctx->stats.deregistrations++;
    scscf_regevent_notify_all(reg, true, "deactivated", "noresource");
    scscf_cx_sar_notice(ctx, impi, impu, CX_SAT_ADMINISTRATIVE_DEREGISTRATION);
    scscf_diag(ctx, impi, NULL, NULL, SCSCF_DIAG_DEREGISTERED, 0, "by imsctl deregister");
    scscf_reg_free(reg);
    *data = json_pack("{s:s,s:s}", "deregistered", impi, "impu", impu);
    if (!*data)
        *data = json_pack("{s:b}", "deregistered", 1);
    return IMS_OK;
}

/* ---- peers, counters ---- */

static int dia_peer(void *arg, int i, ims_ctl_peer_t *out)
{
    const scscf_ctx_t *ctx = arg;
    dia_peer_info_t pi;

    if (!ctx->dia || dia_node_peer_info(ctx->dia, i, &pi) != IMS_OK)
        return IMS_ERROR;
    *out = (ims_ctl_peer_t){ pi.host, "diameter", dia_state_name(pi.state), pi.sent,
                             pi.received, pi.timeouts, pi.reconnects };
    return IMS_OK;
}

static int cmd_counters(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                        size_t errlen)
{
    scscf_ctx_t *ctx = arg;
    const scscf_stats_t *s = &ctx->stats;
    json_t *o;

    (void)a;
    (void)err;
    (void)errlen;
    o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                  "registers", (json_int_t)s->registers, "challenges", (json_int_t)s->challenges,
                  "auth_ok", (json_int_t)s->auth_ok, "auth_failed", (json_int_t)s->auth_failed,
                  "registrations", (json_int_t)s->registrations,
                  "deregistrations", (json_int_t)s->deregistrations,
                  "expiries", (json_int_t)s->expiries, "rtr", (json_int_t)s->rtr,
                  "ppr", (json_int_t)s->ppr, "subscribes", (json_int_t)s->subscribes,
                  "notifies", (json_int_t)s->notifies,
                  "notify_failures", (json_int_t)s->notify_failures,
                  "hss_errors", (json_int_t)s->hss_errors);
    json_object_set_new(o, "records", json_integer((json_int_t)ims_hash_count(ctx->by_impi)));
    json_object_set_new(o, "registered_impus",
                        json_integer((json_int_t)ims_hash_count(ctx->by_impu)));
    *data = json_pack("{s:o}", "scscf", o);
    if (ctx->node)
        json_object_set_new(*data, "sip", ims_ctl_sip_counters(ctx->node));
    return IMS_OK;
}

/* ---- reload: expiry bounds and timers of the scscf group, the Diameter peers ---- */

#define RELOAD_U32(field)                                                           \
    do {                                                                            \
        if (ctx->cfg.field != cfg.field) {                                          \
            json_object_set_new(changes, "scscf." #field, json_integer(cfg.field)); \
            ctx->cfg.field = cfg.field;                                             \
        }                                                                           \
    } while (0)

static int on_reload(void *arg, ims_conf_t *conf, json_t *changes, char *err, size_t errlen)
{
    scscf_ctx_t *ctx = arg;
    scscf_cfg_t cfg;
    int added, removed;

    if (scscf_conf_load(conf, &cfg) != IMS_OK) {
        snprintf(err, errlen, "%s: the scscf group is missing or wrong (see the log)",
                 ims_conf_path(conf));
        return IMS_ERROR;
    }
    /* the peers first: the numbers below cannot fail */
    if (ctx->dia && dia_conf_reload_peers(ctx->dia, conf, "diameter", &added, &removed, err,
                                          errlen) != IMS_OK)
        return IMS_ERROR;
    if (ctx->dia && (added || removed))
        json_object_set_new(changes, "diameter.peers",
                            json_pack("{s:i,s:i}", "added", added, "removed", removed));
    RELOAD_U32(default_expires);
    RELOAD_U32(max_expires);
    RELOAD_U32(min_expires);
    RELOAD_U32(max_sub_expires);
    RELOAD_U32(max_auth_attempts);
    RELOAD_U32(auth_timeout_ms);
    RELOAD_U32(retry_after);
    return IMS_OK;
}

int scscf_ctl_start(scscf_ctx_t *ctx, ims_conf_t *conf)
{
    if (ims_ctl_open(ctx->loop, conf, "scscf", &ctx->ctl) != IMS_OK)
        return IMS_ERROR;
    if (!ctx->ctl)
        return IMS_OK;
    ims_ctl_register(ctx->ctl, "registrations", "registrations [filter]",
                     "registrations (IMPU, IMPI, contact, expires, state)", cmd_registrations,
                     ctx);
    ims_ctl_register(ctx->ctl, "registration", "registration <IMPU|IMPI>",
                     "one registration in full", cmd_registration, ctx);
    ims_ctl_register(ctx->ctl, "deregister", "deregister <IMPU|IMPI>",
                     "network-initiated de-registration (NOTIFY, SAR)", cmd_deregister, ctx);
    ims_ctl_register(ctx->ctl, "diagnose", "diagnose <IMPI|IMPU|IP>",
                     "why a UE does (not) register: a verdict and its recent events",
                     scscf_diag_cmd, ctx);
    ims_ctl_add_peers(ctx->ctl, dia_peer, ctx);
    ims_ctl_register(ctx->ctl, "counters", "counters", "what the S-CSCF counted", cmd_counters,
                     ctx);
    ims_ctl_on_reload(ctx->ctl, on_reload, ctx);
    return IMS_OK;
}

void scscf_ctl_stop(scscf_ctx_t *ctx)
{
    ims_ctl_free(ctx->ctl);
    ctx->ctl = NULL;
}
