/* SPDX-License-Identifier: BSD-2-Clause */
/* The I-CSCF's control-socket commands; see icscf/ctl-cmds.h. */
#include "icscf/ctl-cmds.h"

#include <stdio.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ops/ctl.h"
#include "common/ops/ctl_sip.h"
#include "diameter/base/peer.h"
#include "diameter/base/peer_conf.h"
#include "icscf/diagnose.h"

static int dia_peer(void *arg, int i, ims_ctl_peer_t *out)
{
    const icscf_ctx_t *ctx = arg;
    dia_peer_info_t pi;

    if (!ctx->dia_node || dia_node_peer_info(ctx->dia_node, i, &pi) != IMS_OK)
        return IMS_ERROR;
    *out = (ims_ctl_peer_t){ pi.host, "diameter", dia_state_name(pi.state), pi.sent,
                             pi.received, pi.timeouts, pi.reconnects };
    return IMS_OK;
}

static int cmd_counters(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                        size_t errlen)
{
    icscf_ctx_t *ctx = arg;
    const icscf_stats_t *s = &ctx->stats;
    json_t *o;

    (void)a;
    (void)err;
    (void)errlen;
    o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                  "registers", (json_int_t)s->registers, "uar_ok", (json_int_t)s->uar_ok,
                  "uar_rejected", (json_int_t)s->uar_rejected,
                  "hss_failures", (json_int_t)s->hss_failures,
                  "forwarded", (json_int_t)s->forwarded, "retries", (json_int_t)s->retries,
                  "scscf_failures", (json_int_t)s->scscf_failures, "lir", (json_int_t)s->lir,
                  "lir_forwarded", (json_int_t)s->lir_forwarded,
                  "lir_rejected", (json_int_t)s->lir_rejected,
                  "lir_hss_failures", (json_int_t)s->lir_hss_failures,
                  "lir_gone", (json_int_t)s->lir_gone,
                  "registers_in_flight", (json_int_t)ctx->nregs,
                  "lirs_in_flight", (json_int_t)ctx->nlirs);
    *data = json_pack("{s:o}", "icscf", o);
    if (ctx->node)
        json_object_set_new(*data, "sip", ims_ctl_sip_counters(ctx->node));
    return IMS_OK;
}

/* ---- scscfs ---- */

static json_t *scscf_list(const icscf_ctx_t *ctx)
{
    json_t *rows = json_array();

    for (int i = 0; i < ctx->nscscfs; i++) {
        json_t *caps = json_array();

        for (int k = 0; k < ctx->scscfs[i].ncaps; k++)
            json_array_append_new(caps, json_integer(ctx->scscfs[i].caps[k]));
        json_array_append_new(rows, json_pack("{s:s,s:o}", "uri", ctx->scscfs[i].uri,
                                              "capabilities", caps));
    }
    return rows;
}

static int cmd_scscfs(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                      size_t errlen)
{
    icscf_ctx_t *ctx = arg;

    (void)a;
    (void)err;
    (void)errlen;
    *data = json_object();
    ims_ctl_set_str(*data, "default", ctx->default_scscf);
    json_object_set_new(*data, "count", json_integer(ctx->nscscfs));
    json_object_set_new(*data, "scscfs", scscf_list(ctx));
    return IMS_OK;
}

/* ---- reload: the icscf group's timers and S-CSCFs, the Diameter peers ---- */

static int on_reload(void *arg, ims_conf_t *conf, json_t *changes, char *err, size_t errlen)
{
    icscf_ctx_t *ctx = arg;
    uint32_t retry = ctx->retry_after_s, tmo = ctx->scscf_timeout_ms;
    uint32_t attempts = ctx->scscf_attempts;
    icscf_scscf_list_t list;
    int added = 0, removed = 0;
    json_t *ch = json_object();

    /* the bounds of icscf/context.c */
    if (ims_ctl_reload_u32(conf, "icscf.retry_after", 0, 86400, &retry, ch) ||
        ims_ctl_reload_u32(conf, "icscf.scscf_timeout_ms", 100, 600000, &tmo, ch) ||
        ims_ctl_reload_u32(conf, "icscf.scscf_attempts", 1, ICSCF_MAX_ATTEMPTS, &attempts,
                           ch)) {
        snprintf(err, errlen, "%s", ims_conf_error(conf));
        json_decref(ch);
        return IMS_ERROR;
    }
    /* the peers last of what may fail: they cannot be undone */
    if (icscf_scscfs_load(conf, &list, err, errlen) != IMS_OK ||
        (ctx->dia_node && dia_conf_reload_peers(ctx->dia_node, conf, "diameter", &added,
                                                &removed, err, errlen) != IMS_OK)) {
        json_decref(ch);
        return IMS_ERROR;
    }
    if (added || removed)
        json_object_set_new(ch, "diameter.peers",
                            json_pack("{s:i,s:i}", "added", added, "removed", removed));
    if (icscf_scscfs_apply(ctx, &list)) {
        IMS_NOTICE("reload: %d S-CSCFs configured, default %s", ctx->nscscfs,
                   ctx->default_scscf ? ctx->default_scscf : "-");
        json_object_set_new(ch, "icscf.scscfs", scscf_list(ctx));
        ims_ctl_set_str(ch, "icscf.default_scscf", ctx->default_scscf);
    }
    ctx->retry_after_s = retry;
    ctx->scscf_timeout_ms = tmo;
    ctx->scscf_attempts = attempts;
    json_object_update(changes, ch);
    json_decref(ch);
    return IMS_OK;
}

int icscf_ctl_start(icscf_ctx_t *ctx, ims_conf_t *conf)
{
    if (ims_ctl_open(ctx->loop, conf, "icscf", &ctx->ctl) != IMS_OK)
        return IMS_ERROR;
    if (!ctx->ctl)
        return IMS_OK;
    ims_ctl_add_peers(ctx->ctl, dia_peer, ctx);
    ims_ctl_register(ctx->ctl, "counters", "counters", "what the I-CSCF counted", cmd_counters,
                     ctx);
    ims_ctl_register(ctx->ctl, "scscfs", "scscfs",
                     "the S-CSCFs to choose from (URI, capabilities) and the default",
                     cmd_scscfs, ctx);
    ims_ctl_register(ctx->ctl, "diagnose", "diagnose <IMPI|IMPU|IP>",
                     "why a UE's last REGISTER (or a terminating request for an IMPU) failed "
                     "here: one verdict, then the events", icscf_diag_cmd, ctx);
    ims_ctl_on_reload(ctx->ctl, on_reload, ctx);
    return IMS_OK;
}

void icscf_ctl_stop(icscf_ctx_t *ctx)
{
    ims_ctl_free(ctx->ctl);
    ctx->ctl = NULL;
}
