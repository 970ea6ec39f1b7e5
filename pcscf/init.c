/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/init.h"

#include <stdio.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"

static int conf_fail(ims_conf_t *conf, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", ims_conf_error(conf));
    return IMS_ERROR;
}

/* A "name=ip[:port]" of sip.hosts or an "ip[:port]" of pcscf.trusted. */
static int add_trusted(pcscf_cfg_t *cfg, const char *ip, uint16_t port)
{
    pcscf_trusted_t *t;

    if (cfg->ntrusted >= PCSCF_MAX_TRUSTED)
        return IMS_OK;  /* more is more than a static table is for */
    t = &cfg->trusted[cfg->ntrusted];
    if (sip_addr_from(&t->addr, ip, port ? port : 5060) != IMS_OK)
        return IMS_ERROR;
    t->any_port = port == 0;
    cfg->ntrusted++;
    return IMS_OK;
}

/* Every name in sip.hosts is a node of the network; pcscf.trusted adds more. */
static int load_trusted(pcscf_cfg_t *cfg, ims_conf_t *conf, char *err, size_t errlen)
{
    size_t n;
    const char *v;
    sip_proxy_host_t h;

    if (ims_conf_list_len(conf, "sip.hosts", &n) != IMS_OK)
        return conf_fail(conf, err, errlen);
    for (size_t i = 0; i < n; i++)
        if (ims_conf_list_str(conf, "sip.hosts", i, &v) == IMS_OK &&
            sip_proxy_host_parse(v, &h) == IMS_OK && add_trusted(cfg, h.ip, h.port) != IMS_OK)
            return conf_fail(conf, err, errlen);
    if (ims_conf_list_len(conf, "pcscf.trusted", &n) != IMS_OK)
        return conf_fail(conf, err, errlen);
    for (size_t i = 0; i < n; i++) {
        char spec[160];

        if (ims_conf_list_str(conf, "pcscf.trusted", i, &v) != IMS_OK)
            return conf_fail(conf, err, errlen);
        snprintf(spec, sizeof(spec), "x=%s", v);
        if (sip_proxy_host_parse(spec, &h) != IMS_OK || add_trusted(cfg, h.ip, h.port) != IMS_OK) {
            snprintf(err, errlen, "%s: pcscf.trusted: bad entry \"%s\" (want IP or IP:PORT)",
                     ims_conf_path(conf), v);
            return IMS_ERROR;
        }
    }
    return IMS_OK;
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
    if (load_trusted(cfg, conf, err, errlen) != IMS_OK)
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
               ctx->cfg.reg_event ? "on" : "off", ctx->cfg.ntrusted);
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
