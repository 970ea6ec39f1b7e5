/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forwarding to the S-CSCFs: a REGISTER to those chosen for it, one at a
 * time; any other request to the one chosen, through the proxy core
 * (icscf_scscf_route, at the end).
 *
 * Why not the proxy core's forwarding: the core forks in parallel and reports
 * a branch's outcome only once the final response is on its way upstream, so
 * it cannot try a second S-CSCF after the first failed (TS 24.229 §5.3.1.3).
 * The I-CSCF therefore runs the client transaction itself and answers its
 * server transaction with the response (sip_proxy_reply_msg), as a proxy would
 * have: Max-Forwards decremented, our Via pushed and popped, no Record-Route
 * (REGISTER forms no dialog), the Request-URI unchanged.
 *
 * An S-CSCF has failed when it answers 408 or 503, when the transport refuses
 * the request, or when it stays silent for icscf.scscf_timeout_ms while
 * another one remains to be tried (or asked for, when the HSS had named this
 * one: register-handler.c sends a second UAR): waiting for Timer F (32 s) would
 * outlast the UE's own transaction. The abandoned transaction is detached and runs out by
 * itself. With no S-CSCF left: the last one's 408/503 (503 as 500, RFC 3261
 * §16.7) or, when it did not answer, 504 Server Time-out.
 */
#include "icscf/scscf-path.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/txn.h"
#include "icscf/diagnose.h"
#include "icscf/register-handler.h"

static void attempt(icscf_reg_t *reg, sip_proxy_req_t *pr);

static bool retryable(int code)
{
    return code == 408 || code == 503;
}

/* Whether a failure of the current target still leaves something to do: a
 * further target, or the second UAR when the HSS named this one. */
static bool more_to_try(const icscf_reg_t *reg)
{
    return reg->next_target < reg->ntargets || (reg->by_name && !reg->requeried);
}

static int decrement_max_forwards(sip_msg_t *msg)
{
    osip_header_t *h = NULL;
    char buf[16];
    long v = 70;

    osip_message_get_max_forwards(msg->m, 0, &h);
    if (h && h->hvalue)
        v = strtol(h->hvalue, NULL, 10);
    /* the core answered 483 to 0 and checked the range before we saw it */
    snprintf(buf, sizeof(buf), "%ld", v > 0 && v <= 255 ? v - 1 : 69);
    if (!h)
        return osip_message_set_max_forwards(msg->m, buf) == 0 ? IMS_OK : IMS_ERROR;
    osip_free(h->hvalue);
    h->hvalue = osip_strdup(buf);
    return IMS_OK;
}

/* Nobody left to try and the last one did not answer (a last 408/503 is
 * relayed instead): 504, and free reg. */
static void give_up(icscf_reg_t *reg, sip_proxy_req_t *pr)
{
    reg->ctx->stats.scscf_failures++;
    IMS_WARN("REGISTER: no S-CSCF answered (%d tried): 504", reg->ntargets);
    icscf_diag(reg->ctx, reg->impi, reg->impu, NULL, ICSCF_DIAG_NO_ANSWER, 504, "%d tried%s%s",
               reg->ntargets, reg->ntargets ? ", the last " : "",
               reg->ntargets ? reg->targets[reg->ntargets - 1].name : "");
    sip_proxy_reply(pr, 504, NULL);
    icscf_reg_free(reg);
}

/* The proxy request of reg; NULL, with reg freed, once it has gone (shutdown). */
static sip_proxy_req_t *still_there(icscf_reg_t *reg)
{
    sip_proxy_req_t *pr = sip_proxy_req_find(sip_node_proxy(reg->ctx->node), reg->pr_id);

    if (!pr) {
        IMS_INFO("REGISTER gone while forwarding");
        icscf_reg_free(reg);
    }
    return pr;
}

static void on_silence(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    icscf_reg_t *reg = arg;
    sip_proxy_req_t *pr;

    IMS_NOTICE("S-CSCF %s silent for %u ms, trying the next",
               reg->targets[reg->next_target - 1].name, reg->ctx->scscf_timeout_ms);
    if (reg->ct) {
        sip_txn_client_detach(reg->ct);
        reg->ct = NULL;
    }
    if (!(pr = still_there(reg)))
        return;
    if (ims_log_get_level() >= IMS_LOG_INFO)
        ims_log_ctx_set(sip_msg_call_id(sip_proxy_req_msg(pr)));
    attempt(reg, pr);
    ims_log_ctx_clear();
}

static void relay(sip_proxy_req_t *pr, sip_msg_t *resp)
{
    int code = sip_msg_status(resp);

    sip_msg_pop_via(resp);
    if (code == 503) {
        /* §16.7 item 6: not a statement about us */
        sip_msg_mark_edited(resp);
        osip_message_set_status_code(resp->m, 500);
        osip_free(resp->m->reason_phrase);
        resp->m->reason_phrase = osip_strdup("Server Internal Error");
    }
    sip_proxy_reply_msg(pr, resp);
}

static void on_response(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    icscf_reg_t *reg = arg;
    sip_proxy_req_t *pr;
    int code = resp ? sip_msg_status(resp) : 0;

    if (code > 0 && code < 200) {
        /* alive: Timer F bounds it from now on */
        ims_timer_stop(reg->ctx->loop, &reg->attempt_timer);
        if (code > 100 && (pr = sip_proxy_req_find(sip_node_proxy(reg->ctx->node), reg->pr_id))) {
            sip_msg_pop_via(resp);
            sip_proxy_reply_msg(pr, resp);
        } else {
            sip_msg_free(resp);
        }
        return;
    }
    ims_timer_stop(reg->ctx->loop, &reg->attempt_timer);
    if (resp)
        sip_txn_client_detach(ct); /* it lingers in Completed; nothing more for us */
    reg->ct = NULL;
    if (!(pr = still_there(reg))) {
        sip_msg_free(resp);
        return;
    }
    if (!resp || (retryable(code) && more_to_try(reg))) {
        IMS_NOTICE("S-CSCF %s: %s", reg->targets[reg->next_target - 1].name,
                   resp                     ? "refused (408/503)"
                   : err == SIP_TXN_TIMEOUT ? "timeout"
                                            : "unreachable");
        sip_msg_free(resp);
        attempt(reg, pr);
        return;
    }
    icscf_diag(reg->ctx, reg->impi, reg->impu, NULL, ICSCF_DIAG_ANSWERED, (uint32_t)code, "%s",
               reg->targets[reg->next_target - 1].name);
    relay(pr, resp);
    icscf_reg_free(reg);
}

/* Send to the next target; on to the following one when it cannot be sent. */
static void attempt(icscf_reg_t *reg, sip_proxy_req_t *pr)
{
    icscf_ctx_t *ctx = reg->ctx;

    while (reg->next_target < reg->ntargets) {
        icscf_target_t *t = &reg->targets[reg->next_target++];
        sip_msg_t *msg = sip_msg_clone(sip_proxy_req_msg(pr));

        if (!msg || decrement_max_forwards(msg) != IMS_OK) {
            sip_msg_free(msg);
            sip_proxy_reply(pr, 500, NULL);
            icscf_reg_free(reg);
            return;
        }
        if (ims_log_get_level() >= IMS_LOG_INFO) {
            char to[64];

            IMS_INFO("REGISTER forwarded to %s (%s:%s)%s", t->name, sip_proto_lname(t->dst.proto),
                     sip_addr_str(&t->dst.addr, to, sizeof(to)),
                     reg->next_target > 1 ? ", a retry" : "");
        }
        reg->ct =
            sip_txn_client_start(sip_node_layer(ctx->node), msg, &t->dst, NULL, on_response, reg);
        if (reg->ct) {
            icscf_diag(ctx, reg->impi, reg->impu, sip_proxy_req_msg(pr), ICSCF_DIAG_FORWARDED, 0,
                       "%s%s", t->name, reg->next_target > 1 ? " (a retry)" : "");
            ctx->stats.forwarded++;
            if (reg->next_target > 1)
                ctx->stats.retries++;
            if (more_to_try(reg))
                ims_timer_start(ctx->loop, &reg->attempt_timer, ctx->scscf_timeout_ms, on_silence,
                                reg);
            return;
        }
        IMS_NOTICE("S-CSCF %s: could not send", t->name);
    }
    if (icscf_reg_requery(reg, pr) != IMS_OK)
        give_up(reg, pr);
}

void icscf_scscf_forward(icscf_reg_t *reg, sip_proxy_req_t *pr)
{
    attempt(reg, pr);
}

int icscf_scscf_resolve(const sip_proxy_t *px, const char *name, sip_dest_t *dst)
{
    osip_uri_t *u = NULL;
    int rc;

    if (osip_uri_init(&u) != 0)
        return IMS_ERROR;
    rc = osip_uri_parse(u, name) == 0 ? sip_proxy_resolve(px, u, dst) : IMS_ERROR;
    osip_uri_free(u);
    if (rc != IMS_OK)
        IMS_WARN("S-CSCF %s: cannot resolve (sip.hosts?), skipped", name);
    return rc;
}

/*
 * Sessions and other initial requests: the proxy core forwards them, so that
 * a CANCEL reaches the S-CSCF, Timer C runs and the best response is chosen
 * as for any proxied request. It forks in parallel and answers upstream by
 * itself, so only one S-CSCF is given to it and none is tried after it.
 */

/* Push <name;lr> as the top Route of msg. */
static int push_route(sip_msg_t *msg, const char *name)
{
    osip_route_t *rt = NULL;
    osip_uri_param_t *lr = NULL;

    if (osip_route_init(&rt) != 0)
        return IMS_ERROR;
    if (osip_uri_init(&rt->url) != 0 || osip_uri_parse(rt->url, name) != 0) {
        osip_route_free(rt);
        return IMS_ERROR;
    }
    if (osip_uri_uparam_get_byname(rt->url, "lr", &lr) != 0)
        osip_uri_uparam_add(rt->url, osip_strdup("lr"), NULL);
    osip_list_add(&msg->m->routes, rt, 0);
    return IMS_OK;
}

int icscf_scscf_route(sip_proxy_req_t *pr, const char *name, const sip_dest_t *dst)
{
    /* The core forwards copies of the request its server transaction keeps,
     * and rewrites that request's Route set itself (§16.4): the transaction
     * only matches retransmissions (Via, CSeq) and builds responses with it,
     * and a Route changes neither. */
    sip_msg_t *req = (sip_msg_t *)sip_proxy_req_msg(pr);

    if (!req || push_route(req, name) != IMS_OK || sip_proxy_add_target(pr, NULL, dst) != IMS_OK) {
        IMS_WARN("%s: cannot route to S-CSCF %s", req ? sip_msg_method(req) : "request", name);
        sip_proxy_reply(pr, 500, NULL);
        return IMS_ERROR;
    }
    return sip_proxy_forward(pr);
}
