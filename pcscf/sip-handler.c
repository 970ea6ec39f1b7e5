/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/sip-handler.h"

#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "pcscf/dialog.h"
#include "pcscf/identity.h"
#include "pcscf/register-handler.h"
#include "pcscf/regevent-path.h"

int pcscf_enforce_service_route(sip_msg_t *req, const pcscf_ue_t *ue)
{
    osip_route_t *rt;

    while ((rt = osip_list_get(&req->m->routes, 0)) != NULL) {
        osip_list_remove(&req->m->routes, 0);
        osip_route_free(rt);
    }
    for (size_t i = 0; i < ue->nroute; i++)
        if (osip_message_set_route(req->m, pcscf_ue_route(ue, i)) != 0)
            return IMS_ERROR;
    osip_message_force_update(req->m);
    return IMS_OK;
}

/* A UE registered over sec-agree SAs sends over them only; no sec-agree (or
 * its hooks gone with it): nothing is protected. */
static bool came_over_sa(const pcscf_ctx_t *ctx, const sip_rcv_t *rcv)
{
    return ctx->sec_hooks && ctx->sec_hooks->is_protected(ctx, rcv);
}

/*
 * From the network toward a UE (a NOTIFY of the UE's reg subscription, later a
 * terminating request by Path): once our Route entry is gone the Request-URI
 * (the UE's contact) is the target. Default routing would hand it to the
 * outbound proxy, which points at the home network.
 */
static int terminating(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req)
{
    sip_proxy_t *px = sip_proxy_req_proxy(pr);
    sip_dest_t dst;

    if (osip_list_size(&req->m->routes) != 0 || sip_proxy_uri_is_local(px, req->m->req_uri) ||
        sip_proxy_resolve(px, req->m->req_uri, &dst) != IMS_OK)
        return IMS_DECLINED;
    /* To a UE with SAs: from our protected client port, over them (TS 33.203 §7.1). */
    if (ctx->sec_hooks)
        ctx->sec_hooks->client_port(ctx, &dst);
    if (sip_proxy_add_target(pr, NULL, &dst) != IMS_OK)
        return IMS_DECLINED;
    sip_proxy_forward(pr);
    return IMS_OK;
}

/*
 * TS 24.229 §5.2.6.3.1: from a UE that has not registered only REGISTER is
 * accepted (emergency requests would be the exception: not supported). What
 * stays open: keep-alive OPTIONS for the P-CSCF itself (the proxy core answers
 * 200) and in-dialog requests of a call we know (its far end need not be a
 * node we trust, e.g. an AS or a peer network that Record-Routed).
 */
static int unregistered(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req)
{
    char key[PCSCF_KEY_LEN];

    if (pcscf_is_trusted(ctx, &req->rcv)) {
        /* A node of the network keeps what it asserted; never trust a UE. */
        pcscf_dialog_on_request(ctx, req, false);
        return terminating(ctx, pr, req);
    }
    if (sip_msg_to_tag(req) && pcscf_dialog_known(ctx, req)) {
        if (pcscf_identity_strip(req))
            ctx->stats.pai_stripped++;
        pcscf_dialog_on_request(ctx, req, false);
        return terminating(ctx, pr, req);
    }
    if (strcmp(sip_msg_method(req), "OPTIONS") == 0 && osip_list_size(&req->m->routes) == 0 &&
        sip_proxy_uri_is_local(sip_proxy_req_proxy(pr), req->m->req_uri))
        return IMS_DECLINED;
    ctx->stats.unregistered_refused++;
    IMS_NOTICE("%s from %s refused: not registered", sip_msg_method(req),
               pcscf_addr_key(&req->rcv, key, sizeof(key)));
    sip_proxy_reply(pr, 403, NULL);
    return IMS_OK;
}

/* The ACK for a 2xx passes no transaction: the same rule as for requests, so a
 * source that never registered cannot use the P-CSCF as a relay. */
int pcscf_on_ack(void *arg, sip_msg_t *ack)
{
    pcscf_ctx_t *ctx = arg;
    char key[PCSCF_KEY_LEN];
    pcscf_ue_t *ue;

    if (!ctx || !ctx->enabled || pcscf_is_trusted(ctx, &ack->rcv))
        return IMS_DECLINED;
    ue = pcscf_ue_find_addr(ctx, pcscf_addr_key(&ack->rcv, key, sizeof(key)));
    if (ue ? !ue->ipsec || came_over_sa(ctx, &ack->rcv) : pcscf_dialog_known(ctx, ack))
        return IMS_DECLINED;
    ctx->stats.unregistered_refused++;
    IMS_NOTICE("ACK from %s dropped: not registered", key);
    sip_msg_free(ack);
    return IMS_OK;
}

/* An ACK for a 2xx toward a UE with SAs leaves from our protected client port,
 * like every request to it (TS 33.203 §7.1): never in cleartext from 5060. */
void pcscf_on_ack_dest(void *arg, const sip_msg_t *ack, sip_dest_t *dst)
{
    pcscf_ctx_t *ctx = arg;

    if (ctx && ctx->enabled && ctx->sec_hooks)
        ctx->sec_hooks->client_port(ctx, dst);
}

static int originating(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req)
{
    char key[PCSCF_KEY_LEN];
    pcscf_ue_t *ue = pcscf_ue_find_addr(ctx, pcscf_addr_key(&req->rcv, key, sizeof(key)));

    if (!ue)
        return unregistered(ctx, pr, req);
    if (ue->ipsec && !came_over_sa(ctx, &req->rcv)) {
        /* TS 33.203 §7.1: after sec-agree a UE's requests come over its SAs only. */
        ctx->stats.unregistered_refused++;
        IMS_NOTICE("%s from %s refused: not over its security associations",
                   sip_msg_method(req), key);
        sip_proxy_reply(pr, 403, "Forbidden - Not Over The Security Association");
        return IMS_OK;
    }
    /* The sec-agree headers end at the P-CSCF (TS 24.229 §5.2.4). */
    sip_msg_header_remove(req, "Security-Verify");
    if (!pcscf_identity_assert(req, ue)) {
        sip_proxy_reply(pr, 500, NULL);
        return IMS_OK;
    }
    ctx->stats.pai_asserted++;
    if (sip_msg_to_tag(req)) {
        /* We Record-Route every dialog we are in, so the UE's requests in it come
         * by a Route entry of ours; one without is no dialog of ours and must not
         * go from UE to UE past the S-CSCF. */
        if (!sip_proxy_req_route_ours(pr) && !pcscf_dialog_known(ctx, req)) {
            ctx->stats.unregistered_refused++;
            IMS_NOTICE("%s from %s refused: in no dialog through us", sip_msg_method(req), key);
            sip_proxy_reply(pr, 403, "Forbidden - Not In A Dialog Here");
            return IMS_OK;
        }
        pcscf_dialog_on_request(ctx, req, true);
        return IMS_DECLINED;  /* in a dialog the route set is the dialog's */
    }
    /* Service-Route binds initial and standalone requests. Requests for the
     * P-CSCF itself stay here. */
    if (ctx->cfg.enforce_service_route && ue->nroute &&
        !sip_proxy_uri_is_local(sip_proxy_req_proxy(pr), req->m->req_uri)) {
        if (pcscf_enforce_service_route(req, ue) != IMS_OK) {
            sip_proxy_reply(pr, 500, NULL);
            return IMS_OK;
        }
        ctx->stats.routes_enforced++;
    }
    return IMS_DECLINED;
}

int pcscf_on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req)
{
    pcscf_ctx_t *ctx = arg;
    const char *method = sip_msg_method(req);

    if (!ctx || !ctx->enabled)
        return IMS_DECLINED;
    ctx->px = sip_proxy_req_proxy(pr);
    if (!ctx->dialogs)
        pcscf_dialogs_init(ctx);
    if (strcmp(method, "REGISTER") == 0)
        return pcscf_register_request(ctx, pr, req);
    if (strcmp(method, "NOTIFY") == 0 && pcscf_regevent_notify(ctx, pr, req) == IMS_OK)
        return IMS_OK;
    return originating(ctx, pr, req);
}

void pcscf_on_response(void *arg, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    pcscf_ctx_t *ctx = arg;
    int code = sip_msg_status(resp);
    const char *m = sip_msg_cseq_method(resp);

    if (!ctx || !ctx->enabled || !m)
        return;
    if (strcmp(m, "REGISTER") != 0) {
        pcscf_dialog_on_response(ctx, sip_proxy_req_proxy(pr), sip_proxy_req_msg(pr), resp);
        if (ctx->policy_hooks)
            ctx->policy_hooks->on_response(ctx, pr, resp);  /* may hold resp (policy.h) */
        return;
    }
    if (code == 401)
        pcscf_register_on_401(ctx, pr, resp);
    else if (code >= 200 && code < 300)
        pcscf_register_response(ctx, pr, resp);
    if (ctx->diag_hooks)
        ctx->diag_hooks->reg_response(ctx, sip_proxy_req_msg(pr), resp);
}
