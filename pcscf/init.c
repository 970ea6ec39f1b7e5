/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/init.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
#include "common/core/rc.h"

static int conf_fail(ims_conf_t *conf, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", ims_conf_error(conf));
    return IMS_ERROR;
}

static int load_scalars(pcscf_cfg_t *cfg, ims_conf_t *conf)
{
    long long v;
    int rc;

    if (ims_conf_str(conf, "pcscf.name", false, &cfg->name) == IMS_ERROR ||
        ims_conf_str(conf, "pcscf.icscf", false, &cfg->icscf) == IMS_ERROR ||
        ims_conf_str(conf, "pcscf.visited_network", false, &cfg->visited_network) ==
            IMS_ERROR ||
        ims_conf_bool(conf, "pcscf.assume_integrity", false, &cfg->assume_integrity) ==
            IMS_ERROR ||
        ims_conf_bool(conf, "pcscf.require_path", false, &cfg->require_path) == IMS_ERROR ||
        ims_conf_bool(conf, "pcscf.reg_event", false, &cfg->reg_event) == IMS_ERROR ||
        ims_conf_bool(conf, "pcscf.enforce_service_route", false,
                      &cfg->enforce_service_route) == IMS_ERROR)
        return IMS_ERROR;
    if ((rc = ims_conf_int(conf, "pcscf.subscribe_expires", false, 60, 4000000, &v)) ==
        IMS_ERROR)
        return IMS_ERROR;
    if (rc == IMS_OK)
        cfg->subscribe_expires = (uint32_t)v;
    if ((rc = ims_conf_int(conf, "pcscf.max_ues", false, 1, 100000000, &v)) == IMS_ERROR)
        return IMS_ERROR;
    if (rc == IMS_OK)
        cfg->max_ues = (uint32_t)v;
    return IMS_OK;
}

/*
 * Our Path entry names the transport our REGISTERs take to the home network (the
 * I-CSCF's URI: transport=tcp|tls, or sips:): the S-CSCF sends terminating
 * requests back by it, so that a core on TLS stays on TLS (RFC 3327 §5.1: the
 * Path URI is how the registrar reaches us).
 */
static void path_transport(pcscf_ctx_t *ctx)
{
    osip_uri_param_t *tp = NULL;
    const char *t = NULL;

    if (!ctx->icscf_uri)
        return;
    if (ctx->icscf_uri->scheme && strcasecmp(ctx->icscf_uri->scheme, "sips") == 0)
        t = "tls";
    else if (osip_uri_uparam_get_byname(ctx->icscf_uri, "transport", &tp) == 0 && tp &&
             tp->gvalue)
        t = strcasecmp(tp->gvalue, "tls") == 0   ? "tls"
            : strcasecmp(tp->gvalue, "tcp") == 0 ? "tcp"
                                                 : NULL;
    if (t)
        snprintf(ctx->path, sizeof(ctx->path), "<sip:term@%s;transport=%s;lr>", ctx->cfg.name,
                 t);
}

int pcscf_load_config(pcscf_ctx_t *ctx, ims_conf_t *conf, char *err, size_t errlen)
{
    pcscf_cfg_t *cfg = &ctx->cfg;
    const char *s;

    /* A group read as a string is IMS_ERROR ("expected a string"), an absent
     * one IMS_DECLINED: the only presence test the conf API offers. */
    if (!conf || ims_conf_str(conf, "pcscf", false, &s) == IMS_DECLINED)
        return IMS_OK;
    if (ims_conf_list_str(conf, "sip.aliases", 0, &s) == IMS_OK)
        cfg->name = s;  /* default name: our first alias */
    if (load_scalars(cfg, conf) != IMS_OK)
        return conf_fail(conf, err, errlen);
    if (sip_trust_load(&cfg->trusted, conf, "pcscf.trusted", err, errlen) != IMS_OK)
        return IMS_ERROR;
    if (!cfg->visited_network) {
        /* pcscf.ims.mnc001.mcc001.3gppnetwork.org -> ims.mnc001.mcc001.3gppnetwork.org */
        const char *dot = strchr(cfg->name, '.');

        cfg->visited_network = dot && dot[1] ? dot + 1 : cfg->name;
    }
    if (strlen(cfg->name) > PCSCF_MAX_URI - 32 || strlen(cfg->visited_network) > PCSCF_MAX_URI) {
        snprintf(err, errlen, "%s: pcscf.name or pcscf.visited_network: too long",
                 ims_conf_path(conf));
        return IMS_ERROR;
    }
    if (cfg->icscf) {
        if (osip_uri_init(&ctx->icscf_uri) != 0 || osip_uri_parse(ctx->icscf_uri,
                                                                   cfg->icscf) != 0) {
            snprintf(err, errlen, "%s: pcscf.icscf: not a SIP URI: \"%s\"", ims_conf_path(conf),
                     cfg->icscf);
            return IMS_ERROR;
        }
    }
    pcscf_ctx_configured(ctx);
    path_transport(ctx);
    ctx->enabled = true;
    return IMS_OK;
}

int pcscf_start(sip_node_t *node, ims_conf_t *conf, void **app)
{
    pcscf_ctx_t *ctx = pcscf_ctx_new(sip_node_loop(node));
    char err[512];

    if (pcscf_load_config(ctx, conf, err, sizeof(err)) != IMS_OK) {
        IMS_ERR("%s", err);
        pcscf_ctx_free(ctx);
        *app = NULL;
        return IMS_ERROR;
    }
    *app = ctx;
    if (!ctx->enabled) {
        IMS_NOTICE("no pcscf section: transparent stateful proxy");
        return IMS_OK;
    }
    IMS_NOTICE("P-CSCF %s: REGISTER to %s, visited network \"%s\", integrity-protected=%s,"
               " reg-event %s, %d trusted node addresses",
               ctx->cfg.name, ctx->cfg.icscf ? ctx->cfg.icscf : "(default routing)",
               ctx->cfg.visited_network, ctx->cfg.assume_integrity ? "yes" : "no",
               ctx->cfg.reg_event ? "on" : "off", ctx->cfg.trusted.n);
    return IMS_OK;
}

void pcscf_stop(void *app)
{
    pcscf_ctx_t *ctx = app;
    const pcscf_stats_t *s;

    if (!ctx)
        return;
    s = &ctx->stats;
    if (ctx->enabled)
        IMS_NOTICE("P-CSCF: %zu UEs registered; %llu registrations, %llu refreshes,"
                   " %llu de-registrations, %llu expired, %llu dropped by reg-event,"
                   " %llu identities stripped, %llu asserted, %llu SUBSCRIBEs (%llu failed),"
                   " %llu NOTIFYs",
                   pcscf_ue_count(ctx), (unsigned long long)s->registered,
                   (unsigned long long)s->refreshed, (unsigned long long)s->deregistered,
                   (unsigned long long)s->expired, (unsigned long long)s->dropped,
                   (unsigned long long)s->pai_stripped, (unsigned long long)s->pai_asserted,
                   (unsigned long long)s->subscribes, (unsigned long long)s->subscribe_failed,
                   (unsigned long long)s->notifies);
    pcscf_ctx_free(ctx);
}
