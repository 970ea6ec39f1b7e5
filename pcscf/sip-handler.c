/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/sip-handler.h"

#include <stdio.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/transport.h"
#include "common/sip/txn.h"
#include "pcscf/dialog.h"
#include "pcscf/headers.h"
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

/* Whether uri is the URI text t (scheme, user, host, port); true when t is "". */
static bool target_is(const char *t, const osip_uri_t *uri)
{
    osip_uri_t *u = NULL;
    bool same;

    if (!*t)
        return true;
    if (osip_uri_init(&u) != 0)
        return false;
    same = osip_uri_parse(u, t) == 0 && pcscf_uri_same(u, uri);
    osip_uri_free(u);
    return same;
}

/* The UE registered with the To identity of req as its first IMPU, or NULL. */
static pcscf_ue_t *ue_of_to(const pcscf_ctx_t *ctx, const sip_msg_t *req)
{
    const osip_uri_t *u = req->m->to ? req->m->to->url : NULL;
    char impu[PCSCF_MAX_URI + 1];
    int n;

    if (!u || !u->scheme)
        return NULL;
    if (u->username && u->host)
        n = snprintf(impu, sizeof(impu), "%s:%s@%s", u->scheme, u->username, u->host);
    else if (u->string)
        n = snprintf(impu, sizeof(impu), "%s:%s", u->scheme, u->string);
    else
        return NULL;
    return n > 0 && (size_t)n < sizeof(impu) ? pcscf_ue_find_impu(ctx, impu) : NULL;
}

/*
 * Where the UE that req (from the network, toward a UE's contact) is for sends
 * from, when it is one of ours on TCP or TLS without IPsec: the UE of a dialog
 * we keep (the address it answered or called from), else the UE registered with
 * the To identity and the Request-URI as contact (the address it registered
 * from; proto UDP: TCP or TLS, unknown). false when there is no such UE.
 */
static bool ue_source(const pcscf_ctx_t *ctx, const sip_msg_t *req, sip_dest_t *src)
{
    const char *cid = sip_msg_call_id(req), *ftag = sip_msg_from_tag(req);
    const char *ttag = sip_msg_to_tag(req);
    const pcscf_dialog_t *d = NULL;
    const pcscf_ue_t *ue;
    sip_proxy_host_t h;
    char spec[PCSCF_KEY_LEN + 2];

    /* Toward our callee the From tag is the caller's; toward our caller the To tag. */
    if (ttag && ftag && !(d = pcscf_dialog_get(ctx, PCSCF_DLG_TERM, cid, ftag)))
        d = pcscf_dialog_get(ctx, PCSCF_DLG_ORIG, cid, ttag);
    if (d) {
        *src = d->ue_dst;
        return src->proto != SIP_PROTO_UDP && !d->ue->ipsec &&
               target_is(pcscf_dialog_target(d, d->dir == PCSCF_DLG_TERM ? PCSCF_DLG_CALLEE
                                                                         : PCSCF_DLG_CALLER),
                         req->m->req_uri);
    }
    ue = ue_of_to(ctx, req);
    if (!ue || ue->ipsec || strncmp(pcscf_ue_key(ue), "t:", 2) != 0 ||
        !target_is(pcscf_ue_contact(ue), req->m->req_uri))
        return false;
    /* The key is "t:IP:PORT" ("t:[v6]:PORT"): the host syntax of sip.hosts. */
    snprintf(spec, sizeof(spec), "x=%s", pcscf_ue_key(ue) + 2);
    memset(src, 0, sizeof(*src));
    return sip_proxy_host_parse(spec, &h) == IMS_OK &&
           sip_addr_from(&src->addr, h.ip, h.port) == IMS_OK;
}

/*
 * A UE on TCP or TLS is reached over the connection it opened (RFC 5626 §5.3;
 * TS 24.229 annex F, a UE behind a NAT): its Contact may name a private address
 * that no one can connect to. For req toward such a UE of ours, dst (the
 * Request-URI's address) becomes that connection. IMS_OK dst redirected;
 * IMS_DECLINED not such a UE, or its Contact is where it sends from, or the
 * connection is gone but the Contact names the UE's own host (it listens there:
 * dst stays, a new connection is opened as before); IMS_ERROR the connection of
 * a UE behind a NAT is gone (nothing else reaches it).
 */
static int ue_flow(const pcscf_ctx_t *ctx, const sip_msg_t *req, sip_dest_t *dst)
{
    sip_transport_t *tp = ctx->px ? sip_txn_layer_transport(sip_proxy_layer(ctx->px)) : NULL;
    sip_dest_t src;
    uint32_t id;

    if (!tp || !ue_source(ctx, req, &src) || sip_addr_equal(&src.addr, &dst->addr))
        return IMS_DECLINED;
    if ((id = sip_transport_conn_find(tp, &src.addr, &src.proto)) == 0)
        return sip_addr_same_ip(&src.addr, &dst->addr) ? IMS_DECLINED : IMS_ERROR;
    dst->proto = src.proto;
    dst->addr = src.addr;
    dst->conn_id = id;
    return IMS_OK;
}

/*
 * From the network toward a UE (a NOTIFY of the UE's reg subscription, later a
 * terminating request by Path): once our Route entry is gone the Request-URI
 * (the UE's contact) is the target, reached over the UE's own connection when
 * it has one (ue_flow). Default routing would hand it to the outbound proxy,
 * which points at the home network.
 */
static int terminating(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req)
{
    sip_proxy_t *px = sip_proxy_req_proxy(pr);
    char to[64];
    sip_dest_t dst;

    if (osip_list_size(&req->m->routes) != 0 || sip_proxy_uri_is_local(px, req->m->req_uri) ||
        sip_proxy_resolve(px, req->m->req_uri, &dst) != IMS_OK)
        return IMS_DECLINED;
    if (ue_flow(ctx, req, &dst) == IMS_ERROR) {
        /* RFC 5626 §5.3.2: the flow is gone; the UE must register again. */
        IMS_NOTICE("%s to %s: the UE's connection is gone: 430", sip_msg_method(req),
                   sip_addr_str(&dst.addr, to, sizeof(to)));
        sip_proxy_reply(pr, 430, "Flow Failed");
        return IMS_OK;
    }
    /* To a UE with SAs: from our protected client port, over them (TS 33.203 §7.1). */
    if (ctx->sec_hooks)
        ctx->sec_hooks->client_port(ctx, &dst);
    if (sip_proxy_add_target(pr, NULL, &dst) != IMS_OK)
        return IMS_DECLINED;
    sip_proxy_forward(pr);
    return IMS_OK;
}

/* The request goes on: the policy client may want its SDP (policy.h). */
static void policy_request(pcscf_ctx_t *ctx, const sip_msg_t *req, bool from_ue)
{
    if (ctx->policy_hooks)
        ctx->policy_hooks->on_request(ctx, req, from_ue);
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
        policy_request(ctx, req, false);
        return terminating(ctx, pr, req);
    }
    if (sip_msg_to_tag(req) && pcscf_dialog_known(ctx, req)) {
        if (pcscf_identity_strip(req))
            ctx->stats.pai_stripped++;
        pcscf_dialog_on_request(ctx, req, false);
        policy_request(ctx, req, false);
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

    if (!ctx || !ctx->enabled)
        return IMS_DECLINED;
    if (pcscf_is_trusted(ctx, &ack->rcv)) {
        policy_request(ctx, ack, false);
        return IMS_DECLINED;
    }
    ue = pcscf_ue_find_addr(ctx, pcscf_addr_key(&ack->rcv, key, sizeof(key)));
    if (ue ? !ue->ipsec || came_over_sa(ctx, &ack->rcv) : pcscf_dialog_known(ctx, ack)) {
        policy_request(ctx, ack, ue != NULL);
        return IMS_DECLINED;
    }
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

    if (!ctx || !ctx->enabled)
        return;
    /* No Route left: to the Request-URI, maybe one of our UEs on TCP or TLS. A gone
     * connection leaves dst alone: an ACK is not answered, nor retransmitted here. */
    if (osip_list_size(&ack->m->routes) == 0)
        ue_flow(ctx, ack, dst);
    if (ctx->sec_hooks)
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
        policy_request(ctx, req, true);
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
    policy_request(ctx, req, true);
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
