/* SPDX-License-Identifier: BSD-2-Clause */
#include "scscf/init.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/peer_conf.h"
#include "scscf/ctl-cmds.h"
#include "scscf/cx-path.h"
#include "scscf/diagnose.h"
#include "scscf/metrics.h"
#include "scscf/reg-store.h"
#include "scscf/regevent.h"
#include "scscf/register-handler.h"
#include "scscf/session.h"

#define CX_APP_ID 16777216u
#define VENDOR_3GPP 10415u

static int str_key(ims_conf_t *conf, const char *key, char *out, size_t len)
{
    const char *s;
    int rc = ims_conf_str(conf, key, false, &s);

    if (rc == IMS_ERROR)
        return IMS_ERROR;
    if (rc == IMS_OK) {
        if (strlen(s) >= len) {
            IMS_ERR("%s: %s: longer than %zu characters", ims_conf_path(conf), key, len - 1);
            return IMS_ERROR;
        }
        memcpy(out, s, strlen(s) + 1);
    }
    return IMS_OK;
}

int scscf_conf_load(ims_conf_t *conf, scscf_cfg_t *c)
{
    size_t n = 0;
    char err[256];

    scscf_cfg_defaults(c);
    if (!conf || ims_conf_list_len(conf, "scscf", &n) != IMS_OK || n == 0)
        return IMS_DECLINED;
    if (str_key(conf, "scscf.domain", c->domain, sizeof(c->domain)) != IMS_OK ||
        str_key(conf, "scscf.uri", c->uri, sizeof(c->uri)) != IMS_OK ||
        str_key(conf, "scscf.service_route", c->service_route, sizeof(c->service_route)) !=
            IMS_OK ||
        str_key(conf, "scscf.md5_scheme", c->md5_scheme, sizeof(c->md5_scheme)) != IMS_OK ||
        ims_conf_u32(conf, "scscf.default_expires", 1, 0x7fffffff, &c->default_expires) ||
        ims_conf_u32(conf, "scscf.max_expires", 1, 0x7fffffff, &c->max_expires) ||
        ims_conf_u32(conf, "scscf.min_expires", 0, 0x7fffffff, &c->min_expires) ||
        ims_conf_u32(conf, "scscf.max_sub_expires", 1, 0x7fffffff, &c->max_sub_expires) ||
        ims_conf_u32(conf, "scscf.max_auth_attempts", 1, 100, &c->max_auth_attempts) ||
        ims_conf_u32(conf, "scscf.auth_timeout_ms", 1000, 3600000, &c->auth_timeout_ms) ||
        ims_conf_u32(conf, "scscf.retry_after", 0, 86400, &c->retry_after) ||
        ims_conf_bool(conf, "scscf.trust_integrity", false, &c->trust_integrity) == IMS_ERROR ||
        ims_conf_bool(conf, "scscf.trust_domain", false, &c->trust_domain) == IMS_ERROR) {
        IMS_ERR("%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (sip_trust_load(&c->trusted, conf, "scscf.trusted", err, sizeof(err)) != IMS_OK) {
        IMS_ERR("%s", err);
        return IMS_ERROR;
    }
    if (!c->domain[0]) {
        IMS_ERR("%s: scscf.domain: missing required setting", ims_conf_path(conf));
        return IMS_ERROR;
    }
    scscf_cfg_finish(c);
    return IMS_OK;
}

static int start_hss(scscf_ctx_t *ctx, ims_conf_t *conf)
{
    char err[512], realm[128], host[128] = "";
    dia_conf_t dc;
    int rc;

    memset(&dc, 0, sizeof(dc));
    rc = dia_conf_load(conf, "diameter", &dc, err, sizeof(err));
    if (rc != IMS_OK) {
        IMS_ERR("%s", rc == IMS_DECLINED ? "scscf: a diameter group is required" : err);
        return IMS_ERROR;
    }
    snprintf(realm, sizeof(realm), "%s", ctx->cfg.domain);
    if (str_key(conf, "scscf.hss_realm", realm, sizeof(realm)) != IMS_OK ||
        str_key(conf, "scscf.hss_host", host, sizeof(host)) != IMS_OK)
        return IMS_ERROR;
    dc.node.apps[0] = (dia_app_t){ CX_APP_ID, VENDOR_3GPP };
    dc.node.napps = 1;
    dc.node.product_name = "ims-core scscf";
    if (!(ctx->dia = dia_conf_node(ctx->loop, &dc)) || dia_node_start(ctx->dia) != IMS_OK) {
        IMS_ERR("scscf: Diameter node did not start");
        return IMS_ERROR;
    }
    ctx->hss = hss_client_new_cx(ctx->dia, realm, host[0] ? host : NULL);
    if (!ctx->hss)
        return IMS_ERROR;
    hss_client_on_rtr(ctx->hss, scscf_on_rtr, ctx);
    hss_client_on_ppr(ctx->hss, scscf_on_ppr, ctx);
    IMS_NOTICE("scscf: %s, Diameter %s, HSS realm %s%s%s", ctx->cfg.uri, dc.node.origin_host,
               realm, host[0] ? ", host " : "", host);
    return IMS_OK;
}

int scscf_start(sip_node_t *node, ims_conf_t *conf, void **app)
{
    scscf_cfg_t cfg;
    scscf_ctx_t *ctx;
    int rc = scscf_conf_load(conf, &cfg);

    if (rc == IMS_ERROR || (rc == IMS_OK && scscf_session_conf_load(conf, &cfg) != IMS_OK))
        return IMS_ERROR;
    ctx = scscf_ctx_new(sip_node_loop(node), &cfg);
    ctx->node = node;
    *app = ctx;
    if (rc == IMS_DECLINED)
        return IMS_OK;   /* no scscf group: transparent proxy */
    ctx->enabled = true;
    scscf_diag_start(ctx);
    if (scscf_reg_store_start(ctx, conf) != IMS_OK || start_hss(ctx, conf) != IMS_OK ||
        scscf_ctl_start(ctx, conf) != IMS_OK ||
        scscf_metrics_start(ctx, node, conf) != IMS_OK) {
        /* the node will not call stop: undo here */
        scscf_metrics_stop(ctx);
        scscf_ctl_stop(ctx);
        scscf_reg_store_stop(ctx);
        hss_client_free(ctx->hss);
        if (ctx->dia)
            dia_node_free(ctx->dia);
        scscf_diag_stop(ctx);
        scscf_ctx_free(ctx);
        *app = NULL;
        return IMS_ERROR;
    }
    return IMS_OK;
}

static void on_dia_stopped(void *arg)
{
    ims_loop_stop(arg);
}

void scscf_stop(void *app)
{
    scscf_ctx_t *ctx = app;
    const scscf_stats_t *s;

    if (!ctx)
        return;
    s = &ctx->stats;
    if (ctx->enabled)
        IMS_NOTICE("scscf: %llu REGISTERs, %llu challenges, %llu registrations, "
                   "%llu de-registrations, %llu expiries, %llu RTR, %llu PPR, %llu NOTIFYs",
                   (unsigned long long)s->registers, (unsigned long long)s->challenges,
                   (unsigned long long)s->registrations, (unsigned long long)s->deregistrations,
                   (unsigned long long)s->expiries, (unsigned long long)s->rtr,
                   (unsigned long long)s->ppr, (unsigned long long)s->notifies);
    scscf_ctl_stop(ctx);
    scscf_metrics_stop(ctx);
    scscf_reg_store_stop(ctx);   /* first: freeing the registrations must not forget them */
    ctx->enabled = false;   /* what still arrives while Diameter closes: default routing */
    scscf_regevent_stop(ctx);
    hss_client_free(ctx->hss);   /* pending callbacks dropped: free their ops next */
    ctx->hss = NULL;
    scscf_ops_free_all(ctx);
    scscf_session_stop();
    if (ctx->dia) {
        dia_node_stop(ctx->dia, on_dia_stopped, ctx->loop);
        ims_loop_run(ctx->loop);
        dia_node_free(ctx->dia);
    }
    scscf_diag_stop(ctx);
    scscf_ctx_free(ctx);
}

static bool for_us(scscf_ctx_t *ctx, sip_proxy_req_t *pr, const sip_msg_t *req)
{
    const osip_uri_t *u = req->m->req_uri;

    return (u->host && strcasecmp(u->host, ctx->cfg.domain) == 0) ||
           sip_proxy_uri_is_local(sip_proxy_req_proxy(pr), u);
}

static int on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req)
{
    scscf_ctx_t *ctx = arg;
    const char *m = sip_msg_method(req);

    if (!ctx || !ctx->enabled || osip_list_size(&req->m->routes) != 0)
        return IMS_DECLINED;
    if (strcmp(m, "REGISTER") == 0 && for_us(ctx, pr, req))
        return scscf_register(ctx, pr, req);
    if (scscf_is_reg_subscribe(req))
        return scscf_regevent_subscribe(ctx, pr, req);
    return scscf_session_request(ctx, pr, req);
}

const sip_proxy_handler_t scscf_handler = {
    .on_request = on_request,
    .on_response = scscf_session_on_response,
    .on_failure = scscf_session_on_failure,
};
