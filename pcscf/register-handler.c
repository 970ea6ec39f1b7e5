/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/register-handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "pcscf/headers.h"
#include "pcscf/identity.h"
#include "pcscf/regevent-path.h"
#include "pcscf/secagree.h"

/* ---- toward the I-CSCF ---- */

/*
 * libosip2 parses Authorization into fixed fields and drops every other
 * auth-param (integrity-protected, auts) and empty values. To put our
 * integrity-protected on the wire, parsed credentials are re-emitted as
 * generic header text; credentials already kept as text are edited in place.
 */
static int set_integrity(sip_msg_t *req, const char *value)
{
    osip_list_iterator_t it;
    osip_header_t *h;
    osip_authorization_t *a;

    for (h = osip_list_get_first(&req->m->headers, &it); h; h = osip_list_get_next(&it)) {
        char *v;

        if (!h->hname || strcasecmp(h->hname, "authorization") != 0 || !h->hvalue)
            continue;
        if (!(v = pcscf_auth_param_set(h->hvalue, "integrity-protected", value)))
            return IMS_ERROR;
        osip_free(h->hvalue);
        h->hvalue = osip_strdup(v);
        free(v);
    }
    while ((a = osip_list_get(&req->m->authorizations, 0)) != NULL) {
        char *s = NULL, *v = NULL;
        int rc = IMS_ERROR;

        osip_list_remove(&req->m->authorizations, 0);
        if (osip_authorization_to_str(a, &s) == 0 && s &&
            (v = pcscf_auth_param_set(s, "integrity-protected", value)) != NULL)
            rc = sip_msg_header_add(req, "Authorization", v);
        osip_free(s);
        free(v);
        osip_authorization_free(a);
        if (rc != IMS_OK)
            return IMS_ERROR;
    }
    osip_message_force_update(req->m);
    return IMS_OK;
}

/* Our IP for icid-generated-at: the local address the request came in on. */
static void our_ip(const pcscf_ctx_t *ctx, const sip_msg_t *req, char *buf, size_t len)
{
    char *colon;

    if (!req->rcv.local.len || !sip_addr_str(&req->rcv.local, buf, len) ||
        !(colon = strrchr(buf, ':'))) {
        snprintf(buf, len, "%s", ctx->cfg.name);
        return;
    }
    *colon = '\0';  /* "[v6]" keeps its brackets, as a host in a header should */
}

static void drop_routes(sip_msg_t *req)
{
    osip_route_t *rt;

    while ((rt = osip_list_get(&req->m->routes, 0)) != NULL) {
        osip_list_remove(&req->m->routes, 0);
        osip_route_free(rt);
    }
}

int pcscf_register_rewrite(pcscf_ctx_t *ctx, sip_msg_t *req)
{
    char icid[33], ip[64], pcv[128], pvni[PCSCF_MAX_URI + 3];
    int n = pcscf_identity_strip(req);

    if (n)
        ctx->stats.pai_stripped++;
    sip_msg_header_remove(req, "Security-Client");
    sip_msg_header_remove(req, "Security-Verify");
    sip_msg_header_remove(req, "P-Visited-Network-ID");
    sip_msg_header_remove(req, "P-Charging-Vector");
    pcscf_hdr_remove_tag(req, "Require", "sec-agree");
    pcscf_hdr_remove_tag(req, "Proxy-Require", "sec-agree");
    pcscf_hdr_remove_tag(req, "Supported", "sec-agree");
    if (pcscf_hdr_prepend(req, "Path", ctx->path) != IMS_OK)
        return IMS_ERROR;
    if (ctx->cfg.require_path && !pcscf_hdr_has_tag(req, "Require", "path") &&
        sip_msg_header_add(req, "Require", "path") != IMS_OK)
        return IMS_ERROR;
    if (ctx->cfg.visited_network) {
        snprintf(pvni, sizeof(pvni), "\"%s\"", ctx->cfg.visited_network);
        if (sip_msg_header_add(req, "P-Visited-Network-ID", pvni) != IMS_OK)
            return IMS_ERROR;
    }
    sip_random_token(icid, 32);
    our_ip(ctx, req, ip, sizeof(ip));
    snprintf(pcv, sizeof(pcv), "icid-value=%s;icid-generated-at=%s", icid, ip);
    if (sip_msg_header_add(req, "P-Charging-Vector", pcv) != IMS_OK)
        return IMS_ERROR;
    return set_integrity(req, ctx->cfg.assume_integrity ? "\"yes\"" : "\"no\"");
}

int pcscf_register_request(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req)
{
    bool protect = false;

    /* sec-agree reads what the rewrite strips; over its SAs the REGISTER is
     * integrity-protected (ims-reference §1.3). */
    if (ctx->sec_hooks && ctx->sec_hooks->on_register(ctx, pr, req, &protect) == IMS_DONE)
        return IMS_OK;
    if (pcscf_register_rewrite(ctx, req) != IMS_OK ||
        (protect && set_integrity(req, PCSCF_SEC_INTEGRITY) != IMS_OK)) {
        sip_proxy_reply(pr, 500, NULL);
        return IMS_OK;
    }
    if (!ctx->icscf_uri)
        return IMS_DECLINED;
    if (!ctx->icscf_resolved) {
        if (sip_proxy_resolve(sip_proxy_req_proxy(pr), ctx->icscf_uri, &ctx->icscf_dst) !=
            IMS_OK) {
            IMS_ERR("cannot resolve the I-CSCF %s (add it to sip.hosts)", ctx->cfg.icscf);
            sip_proxy_reply(pr, 503, NULL);
            return IMS_OK;
        }
        ctx->icscf_resolved = true;
    }
    /* The UE has no say in where its REGISTER goes after us. */
    drop_routes(req);
    if (sip_proxy_add_target(pr, NULL, &ctx->icscf_dst) != IMS_OK) {
        sip_proxy_reply(pr, 500, NULL);
        return IMS_OK;
    }
    sip_proxy_forward(pr);
    return IMS_OK;
}

/* ---- the responses coming back ---- */

void pcscf_register_challenge(sip_msg_t *resp)
{
    static const char *const keys[] = { "ck", "ik" };
    osip_list_iterator_t it;
    osip_header_t *h;
    bool changed = false;

    for (h = osip_list_get_first(&resp->m->headers, &it); h; h = osip_list_get_next(&it)) {
        if (!h->hname || strcasecmp(h->hname, "www-authenticate") != 0 || !h->hvalue)
            continue;
        for (size_t i = 0; i < IMS_ARRAY_LEN(keys); i++) {
            char *v = pcscf_auth_param_set(h->hvalue, keys[i], NULL);

            if (!v)
                break;
            osip_free(h->hvalue);
            h->hvalue = osip_strdup(v);
            free(v);
            changed = true;
        }
    }
    /* A parsed challenge lost ck/ik in libosip2's fields, but the text received
     * (which a relayed response is sent as, less our Via) still holds them: the
     * 401 must be printed from the fields. */
    if (osip_list_size(&resp->m->www_authenticates) > 0)
        changed = true;
    if (changed) {
        osip_message_force_update(resp->m);
        sip_msg_mark_edited(resp);
    }
}

void pcscf_register_on_401(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    if (ctx->sec_hooks)
        ctx->sec_hooks->on_challenge(ctx, pr, resp);
    pcscf_register_challenge(resp);
}

/* A decimal number of seconds (bounded), or -1. */
static long parse_secs(const char *s)
{
    long v = 0;
    int n = 0;

    if (!s)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    for (; *s >= '0' && *s <= '9'; s++, n++)
        if (n >= 10 || (v = v * 10 + (*s - '0')) > 0x7fffffffL)
            return -1;
    return n ? v : -1;
}

static long contact_expires(const osip_contact_t *c)
{
    osip_generic_param_t *p = NULL;

    osip_contact_param_get_byname((osip_contact_t *)c, "expires", &p);
    return p ? parse_secs(p->gvalue) : -1;
}

/* Expiry the 2xx grants the UE's contact uc: 0 when it is not listed. */
static uint32_t granted(const sip_msg_t *req, const sip_msg_t *resp, const osip_uri_t *uc)
{
    const osip_contact_t *c;
    long e;

    for (int i = 0; (c = osip_list_get(&resp->m->contacts, i)) != NULL; i++) {
        if (!c->url || !pcscf_uri_same(c->url, uc))
            continue;
        if ((e = contact_expires(c)) < 0)
            e = parse_secs(sip_msg_header(resp, "Expires"));
        if (e < 0)
            e = parse_secs(sip_msg_header(req, "Expires"));
        return e < 0 ? PCSCF_DEFAULT_EXPIRES : (uint32_t)e;
    }
    return 0;
}

static int uri_text(const osip_uri_t *u, char *buf, size_t len, pcscf_str_t *out)
{
    char *s = NULL;
    size_t n;

    if (!u || osip_uri_to_str(u, &s) != 0 || !s)
        return IMS_ERROR;
    n = strlen(s);
    if (n >= len) {
        osip_free(s);
        return IMS_ERROR;
    }
    memcpy(buf, s, n + 1);
    osip_free(s);
    out->p = buf;
    out->n = n;
    return IMS_OK;
}

int pcscf_register_parse_ok(const sip_msg_t *req, const sip_msg_t *resp, pcscf_reg_data_t *d,
                            uint32_t *expires, pcscf_reg_bufs_t *bufs)
{
    const osip_contact_t *uc = osip_list_get(&req->m->contacts, 0);

    memset(d, 0, sizeof(*d));
    *expires = 0;
    if (!uc)
        return IMS_DECLINED;  /* a query: the bindings are only listed */
    if (!uc->url)
        return IMS_OK;        /* "Contact: *" (with Expires: 0) removes every binding */
    if (uri_text(uc->url, bufs->contact, sizeof(bufs->contact), &d->contact) != IMS_OK)
        return IMS_ERROR;
    *expires = granted(req, resp, uc->url);
    d->nimpu = pcscf_hdr_list(resp, "P-Associated-URI", true, d->impu, PCSCF_MAX_IMPU);
    if (d->nimpu == 0) {
        /* A registrar without RFC 7315: the registered identity is the To URI. */
        if (uri_text(req->m->to ? req->m->to->url : NULL, bufs->to, sizeof(bufs->to),
                     &d->impu[0]) != IMS_OK)
            return IMS_ERROR;
        d->nimpu = 1;
    }
    d->nroute = pcscf_hdr_list(resp, "Service-Route", false, d->route, PCSCF_MAX_ROUTES);
    return IMS_OK;
}

static void deregistered(pcscf_ctx_t *ctx, const char *key)
{
    pcscf_ue_t *ue = pcscf_ue_find_addr(ctx, key);

    if (!ue)
        return;
    IMS_INFO("deregistered %s from %s", pcscf_ue_impu(ue, 0), key);
    ctx->stats.deregistered++;
    pcscf_ue_remove(ctx, ue);
}

void pcscf_register_response(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    const sip_msg_t *req = sip_proxy_req_msg(pr);
    char key[PCSCF_KEY_LEN];
    pcscf_reg_bufs_t bufs;
    pcscf_reg_data_t d;
    uint32_t expires;
    pcscf_ue_t *ue;
    bool is_new;
    int rc;

    if (!req)
        return;
    pcscf_addr_key(&req->rcv, key, sizeof(key));
    rc = pcscf_register_parse_ok(req, resp, &d, &expires, &bufs);
    if (rc == IMS_DECLINED)
        return;
    if (rc != IMS_OK) {
        IMS_WARN("2xx to REGISTER from %s not understood: registration not kept", key);
        return;
    }
    ue = expires ? pcscf_ue_store(ctx, key, &d, expires, &is_new) : NULL;
    if (ctx->sec_hooks)
        ctx->sec_hooks->on_register_ok(ctx, pr, ue != NULL, expires);
    if (expires == 0) {
        deregistered(ctx, key);
        return;
    }
    if (!ue) {
        ctx->stats.refused++;
        IMS_WARN("registration from %s not kept (%zu UEs: max_ues reached)", key,
                 pcscf_ue_count(ctx));
        return;
    }
    if (is_new)
        ctx->stats.registered++;
    else
        ctx->stats.refreshed++;
    IMS_INFO("registered %s from %s until +%us", pcscf_ue_impu(ue, 0), key, expires);
    if (ctx->policy_hooks)
        ctx->policy_hooks->registered(ctx, ue, req, is_new);   /* signalling AAR */
    /* Our subscription must outlive the registration; otherwise take a new one. */
    if (ctx->cfg.reg_event &&
        (ue->sub_state == PCSCF_SUB_NONE ||
         (ue->sub_state == PCSCF_SUB_ACTIVE && ue->sub_expires_ms < ue->expires_ms)))
        pcscf_regevent_subscribe(ctx, sip_proxy_req_proxy(pr), ue);
}
