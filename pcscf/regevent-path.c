/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/regevent-path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/transport.h"
#include "common/sip/txn.h"
#include "pcscf/headers.h"

/* ---- SUBSCRIBE ---- */

sip_msg_t *pcscf_regevent_build(pcscf_ctx_t *ctx, pcscf_ue_t *ue, uint16_t contact_port,
                                sip_proto_t proto)
{
    const char *impu = pcscf_ue_impu(ue, 0);
    char from[PCSCF_MAX_URI + 8], to[PCSCF_MAX_URI + 3], contact[PCSCF_MAX_URI + 32], n[16];
    const char *cid = pcscf_ue_new_sub(ctx, ue);
    sip_msg_t *req;

    snprintf(from, sizeof(from), "<sip:%s>", ctx->cfg.name);
    snprintf(to, sizeof(to), "<%s>", impu);
    req = sip_msg_new_request("SUBSCRIBE", impu, from, to, cid, 1);
    if (!req) {
        pcscf_ue_end_sub(ctx, ue);
        return NULL;
    }
    if (contact_port && proto != SIP_PROTO_UDP)
        snprintf(contact, sizeof(contact), "<sip:%s:%u;transport=%s>", ctx->cfg.name,
                 contact_port, sip_proto_lname(proto));
    else if (contact_port)
        snprintf(contact, sizeof(contact), "<sip:%s:%u>", ctx->cfg.name, contact_port);
    else
        snprintf(contact, sizeof(contact), "<sip:%s>", ctx->cfg.name);
    snprintf(n, sizeof(n), "%u", ctx->cfg.subscribe_expires);
    for (size_t i = 0; i < ue->nroute; i++)
        if (osip_message_set_route(req->m, pcscf_ue_route(ue, i)) != 0)
            goto bad;
    if (sip_msg_header_add(req, "Event", "reg") != IMS_OK ||
        sip_msg_header_add(req, "Accept", "application/reginfo+xml") != IMS_OK ||
        sip_msg_header_add(req, "Expires", n) != IMS_OK ||
        sip_msg_header_add(req, "P-Asserted-Identity", from) != IMS_OK ||
        osip_message_set_contact(req->m, contact) != 0)
        goto bad;
    return req;
bad:
    sip_msg_free(req);
    pcscf_ue_end_sub(ctx, ue);
    return NULL;
}

static void on_subscribe_response(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    pcscf_ctx_t *ctx = arg;
    int code = resp ? sip_msg_status(resp) : (err == SIP_TXN_TIMEOUT ? 408 : 503);
    pcscf_ue_t *ue;
    long e;

    if (code < 200) {
        sip_msg_free(resp);
        return;
    }
    /* The UE may have gone meanwhile (de-registered, expired): nothing to do. */
    ue = pcscf_ue_find_sub(ctx, sip_msg_call_id(sip_txn_request(ct)));
    if (ue && code < 300) {
        const char *ev = sip_msg_header(resp, "Expires");

        e = ev ? strtol(ev, NULL, 10) : -1;
        if (e < 0 || e > 0x7fffffffL)
            e = ctx->cfg.subscribe_expires;
        ue->sub_state = PCSCF_SUB_ACTIVE;
        ue->sub_expires_ms = ims_clock_now_ms() + (uint64_t)e * 1000;
        IMS_INFO("reg-event subscription for %s active for %lds", pcscf_ue_impu(ue, 0), e);
    } else if (ue) {
        ctx->stats.subscribe_failed++;
        IMS_NOTICE("reg-event SUBSCRIBE for %s failed: %d", pcscf_ue_impu(ue, 0), code);
        pcscf_ue_end_sub(ctx, ue);
    }
    sip_msg_free(resp);
}

int pcscf_regevent_subscribe(pcscf_ctx_t *ctx, sip_proxy_t *px, pcscf_ue_t *ue)
{
    sip_txn_layer_t *layer = sip_proxy_layer(px);
    sip_dest_t dst;
    sip_addr_t local;
    sip_msg_t *req;

    if (ue->nroute == 0) {
        IMS_NOTICE("no Service-Route for %s: no reg-event subscription", pcscf_ue_impu(ue, 0));
        return IMS_ERROR;
    }
    if (pcscf_resolve_text(px, pcscf_ue_route(ue, 0), &dst) != IMS_OK) {
        IMS_WARN("cannot resolve the Service-Route %s of %s: no reg-event subscription",
                 pcscf_ue_route(ue, 0), pcscf_ue_impu(ue, 0));
        return IMS_ERROR;
    }
    /* NOTIFYs come back to the port we send from (our listening socket). */
    if (sip_transport_local(sip_txn_layer_transport(layer), dst.proto, dst.addr.ss.ss_family,
                            &local) != IMS_OK)
        return IMS_ERROR;
    req = pcscf_regevent_build(ctx, ue, sip_addr_port(&local), dst.proto);
    if (!req)
        return IMS_ERROR;
    ctx->stats.subscribes++;
    if (!sip_txn_client_start(layer, req, &dst, NULL, on_subscribe_response, ctx)) {
        ctx->stats.subscribe_failed++;
        pcscf_ue_end_sub(ctx, ue);
        return IMS_ERROR;
    }
    return IMS_OK;
}

/* ---- NOTIFY ---- */

/* The first token of a header value ("reg;id=1" -> reg, "active;expires=5" -> active). */
static pcscf_str_t token(const char *v)
{
    pcscf_str_t t = { v, 0 };

    if (!v)
        return t;
    while (*v == ' ' || *v == '\t')
        v++;
    t.p = v;
    while (v[t.n] && v[t.n] != ';' && v[t.n] != ' ' && v[t.n] != '\t')
        t.n++;
    return t;
}

/* Value of ;name= in a header value into buf ("" when absent). */
static const char *param(const char *v, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);

    buf[0] = '\0';
    for (const char *p = v ? strchr(v, ';') : NULL; p; p = strchr(p + 1, ';')) {
        const char *s = p + 1;
        size_t m;

        while (*s == ' ')
            s++;
        if (strncasecmp(s, name, n) != 0 || s[n] != '=')
            continue;
        s += n + 1;
        m = strcspn(s, "; \t");
        if (m >= len)
            m = len - 1;
        memcpy(buf, s, m);
        buf[m] = '\0';
        break;
    }
    return buf;
}

static void set_why(char *why, size_t len, pcscf_str_t ev)
{
    if (ev.n)
        snprintf(why, len, "%.*s", (int)ev.n, ev.p);
    else
        snprintf(why, len, "terminated");
}

bool pcscf_regevent_terminates(const pcscf_ue_t *ue, const char *ss, const pcscf_reginfo_t *ri,
                               char *why, size_t len)
{
    const char *impu = pcscf_ue_impu(ue, 0);
    char reason[64];

    for (size_t i = 0; ri && i < ri->nregs; i++) {
        const pcscf_ri_reg_t *r = &ri->regs[i];

        if (!pcscf_str_eq(r->aor, impu))
            continue;
        for (size_t j = 0; j < r->ncontacts; j++) {
            const pcscf_ri_contact_t *c = &r->contacts[j];

            if (pcscf_str_eq(c->state, "terminated") &&
                (pcscf_str_eq(r->state, "terminated") ||
                 pcscf_uri_text_same(c->uri, pcscf_ue_contact(ue)))) {
                set_why(why, len, c->event);
                return true;
            }
        }
        if (pcscf_str_eq(r->state, "terminated")) {
            set_why(why, len, (pcscf_str_t){ NULL, 0 });
            return true;
        }
    }
    if (pcscf_str_eq(token(ss), "terminated")) {
        param(ss, "reason", reason, sizeof(reason));
        snprintf(why, len, "subscription terminated%s%s", reason[0] ? ": " : "", reason);
        return true;
    }
    return false;
}

/* Addressed to us with no Route left: a NOTIFY of a subscription we forgot. */
static int unknown_notify(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req)
{
    sip_proxy_t *px = sip_proxy_req_proxy(pr);

    if (!pcscf_str_eq(token(sip_msg_header(req, "Event")), "reg") ||
        osip_list_size(&req->m->routes) != 0 || !sip_proxy_uri_is_local(px, req->m->req_uri))
        return IMS_DECLINED;
    ctx->stats.notifies_unknown++;
    sip_proxy_reply(pr, 481, NULL);
    return IMS_OK;
}

int pcscf_regevent_notify(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req)
{
    pcscf_ue_t *ue = pcscf_ue_find_sub(ctx, sip_msg_call_id(req));
    const char *ss = sip_msg_header(req, "Subscription-State");
    pcscf_reginfo_t *ri = NULL;
    osip_body_t *body = NULL;
    char why[96], exp[16];
    long e;

    if (!ue)
        return unknown_notify(ctx, pr, req);
    ctx->stats.notifies++;
    sip_proxy_reply(pr, 200, NULL);
    osip_message_get_body(req->m, 0, &body);
    if (body && body->body && body->length) {
        if (!(ri = malloc(sizeof(*ri))))
            abort();
        if (pcscf_reginfo_parse(body->body, body->length, ri) != IMS_OK) {
            IMS_WARN("reg-event NOTIFY for %s: malformed reginfo ignored", pcscf_ue_impu(ue, 0));
            free(ri);
            ri = NULL;
        }
    }
    if (pcscf_regevent_terminates(ue, ss, ri, why, sizeof(why))) {
        IMS_INFO("dropped %s from %s: reg-event %s", pcscf_ue_impu(ue, 0), pcscf_ue_key(ue), why);
        ctx->stats.dropped++;
        pcscf_ue_remove(ctx, ue);
    } else if (pcscf_str_eq(token(ss), "active") &&
               (e = strtol(param(ss, "expires", exp, sizeof(exp)), NULL, 10)) > 0) {
        ue->sub_state = PCSCF_SUB_ACTIVE;
        ue->sub_expires_ms = ims_clock_now_ms() + (uint64_t)e * 1000;
    }
    free(ri);
    return IMS_OK;
}
