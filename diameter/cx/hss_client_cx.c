/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Cx backend of hss_client: requests built with cx_build_*, sent with
 * dia_node_send, answers parsed with cx_parse_*; inbound RTR/PPR taken from the
 * node's handler for application 16777216 and answered RTA/PPA.
 *
 * Each outbound request has a small record (cxc_pend_t) holding the caller's
 * callback and arg; the node calls us back exactly once per request, never
 * from inside dia_node_send, so the caller's callback is also called exactly
 * once and never from inside hss_uar() etc. The records sit on the backend's
 * list so that hss_client_free can orphan them: an orphan's answer is dropped
 * and the record freed when the node eventually reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/hss_client_int.h"

/* In the order of hss_cmd_t: the kind is the metrics' cmd label. */
typedef enum cxc_kind { CXC_UAR, CXC_MAR, CXC_SAR, CXC_LIR } cxc_kind_t;

typedef struct cxc cxc_t;

/* The caller's callback, of the type that goes with the kind of request. */
typedef union cxc_cb {
    hss_uaa_cb uaa;
    hss_maa_cb maa;
    hss_saa_cb saa;
    hss_lia_cb lia;
} cxc_cb_t;

typedef struct cxc_pend {
    struct cxc_pend *prev, *next;
    cxc_t *owner;               /* NULL once the client is freed: drop the answer */
    cxc_kind_t kind;
    cxc_cb_t cb;
    void *arg;
    uint64_t sent_us;           /* ims_clock_real_us() at sending, for the metrics */
} cxc_pend_t;

struct cxc {
    hss_client_t *client;
    dia_node_t *node;
    char *realm;
    char *host;                 /* NULL: route by realm */
    cxc_pend_t *pend;           /* requests sent and not answered yet */
};

static const char *send_err_name(dia_send_err_t err)
{
    switch (err) {
    case DIA_SEND_OK: return "ok";
    case DIA_SEND_TIMEOUT: return "timeout";
    case DIA_SEND_NO_PEER: return "no open peer";
    case DIA_SEND_SHUTDOWN: return "shutdown";
    }
    return "?";
}

/* The metrics' outcome of a request: no answer (err says why), an answer
 * that is not one, or the class of its result code. */
static hss_outcome_t outcome(const dia_msg_t *ans, dia_send_err_t err)
{
    cx_result_t res;

    if (!ans) {
        switch (err) {
        case DIA_SEND_TIMEOUT: return HSS_OUT_TIMEOUT;
        case DIA_SEND_NO_PEER: return HSS_OUT_NO_PEER;
        default: return HSS_OUT_SHUTDOWN;
        }
    }
    if (dia_msg_is_request(ans) || cx_parse_result(ans, &res) != IMS_OK)
        return HSS_OUT_INVALID_ANSWER;
    return hss_outcome_of(res.code);
}

static void pend_unlink(cxc_t *x, cxc_pend_t *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        x->pend = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

/* Parse ans as the answer of kind and call the caller's callback once. */
static void pend_deliver(const cxc_pend_t *p, const dia_msg_t *ans)
{
    union {
        cx_uaa_t uaa;
        cx_maa_t maa;
        cx_saa_t saa;
        cx_lia_t lia;
    } a;
    int st = IMS_ERROR;

    switch (p->kind) {
    case CXC_UAR:
        st = ans ? cx_parse_uaa(ans, &a.uaa) : IMS_ERROR;
        p->cb.uaa(p->arg, st, st == IMS_OK ? &a.uaa : NULL);
        break;
    case CXC_MAR:
        st = ans ? cx_parse_maa(ans, &a.maa) : IMS_ERROR;
        p->cb.maa(p->arg, st, st == IMS_OK ? &a.maa : NULL);
        break;
    case CXC_SAR:
        st = ans ? cx_parse_saa(ans, &a.saa) : IMS_ERROR;
        p->cb.saa(p->arg, st, st == IMS_OK ? &a.saa : NULL);
        if (st == IMS_OK)
            cx_saa_clear(&a.saa);
        break;
    case CXC_LIR:
        st = ans ? cx_parse_lia(ans, &a.lia) : IMS_ERROR;
        p->cb.lia(p->arg, st, st == IMS_OK ? &a.lia : NULL);
        break;
    }
}

static void on_answer(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    cxc_pend_t *p = arg;
    cxc_t *x = p->owner;

    if (x) {
        hss_outcome_t out = outcome(ans, err);

        hss_client_count(x->client, (hss_cmd_t)p->kind, out, ans ? p->sent_us : 0);
        pend_unlink(x, p);
        if (!ans)
            IMS_WARN("hss_client cx: no answer from the HSS (%s)", send_err_name(err));
        else if (dia_msg_is_request(ans))
            IMS_WARN("hss_client cx: a request where an answer was expected");
        pend_deliver(p, ans && !dia_msg_is_request(ans) ? ans : NULL);
    }
    if (ans)
        dia_msg_free(ans);
    free(p);
}

/* Send m (taken), the request of kind whose answer goes to cb(arg) exactly
 * once; IMS_ERROR (cb never called) when m is NULL or out of memory. */
static int cxc_send(hss_client_t *c, cxc_kind_t kind, cxc_cb_t cb, void *arg, dia_msg_t *m)
{
    cxc_t *x = c->backend;
    cxc_pend_t *p;

    if (!m) {
        IMS_WARN("hss_client cx: cannot build the request (empty or oversized field)");
        hss_client_count(c, (hss_cmd_t)kind, HSS_OUT_NOT_SENT, 0);
        return IMS_ERROR;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        dia_msg_free(m);
        return IMS_ERROR;
    }
    p->kind = kind;
    p->cb = cb;
    p->arg = arg;
    p->owner = x;
    p->sent_us = ims_clock_real_us();
    p->next = x->pend;
    if (x->pend)
        x->pend->prev = p;
    x->pend = p;
    dia_node_send(x->node, &m, on_answer, p);
    return IMS_OK;
}

static int cxc_uar(hss_client_t *c, const cx_uar_t *r, hss_uaa_cb cb, void *arg)
{
    cxc_t *x = c->backend;

    return cxc_send(c, CXC_UAR, (cxc_cb_t){ .uaa = cb }, arg,
                    cx_build_uar(x->node, x->realm, x->host, r));
}

static int cxc_mar(hss_client_t *c, const cx_mar_t *r, hss_maa_cb cb, void *arg)
{
    cxc_t *x = c->backend;

    return cxc_send(c, CXC_MAR, (cxc_cb_t){ .maa = cb }, arg,
                    cx_build_mar(x->node, x->realm, x->host, r));
}

static int cxc_sar(hss_client_t *c, const cx_sar_t *r, hss_saa_cb cb, void *arg)
{
    cxc_t *x = c->backend;

    return cxc_send(c, CXC_SAR, (cxc_cb_t){ .saa = cb }, arg,
                    cx_build_sar(x->node, x->realm, x->host, r));
}

static int cxc_lir(hss_client_t *c, const cx_lir_t *r, hss_lia_cb cb, void *arg)
{
    cxc_t *x = c->backend;

    return cxc_send(c, CXC_LIR, (cxc_cb_t){ .lia = cb }, arg,
                    cx_build_lir(x->node, x->realm, x->host, r));
}

/* ---- inbound: RTR, PPR ---- */

static dia_msg_t *answer_rtr(hss_client_t *c, dia_node_t *node, const dia_msg_t *req)
{
    cx_rtr_t r;
    uint32_t missing;

    if (cx_parse_rtr(req, &r, &missing) != IMS_OK) {
        IMS_WARN("hss_client cx: bad RTR (missing AVP %u)", missing);
        return cx_build_parse_error_answer(node, req, missing);
    }
    return cx_build_result_answer(node, req, hss_client_deliver_rtr(c, &r));
}

static dia_msg_t *answer_ppr(hss_client_t *c, dia_node_t *node, const dia_msg_t *req)
{
    cx_ppr_t r;
    uint32_t missing;
    cx_result_t res;

    if (cx_parse_ppr(req, &r, &missing) != IMS_OK) {
        IMS_WARN("hss_client cx: bad PPR (missing AVP %u)", missing);
        return cx_build_parse_error_answer(node, req, missing);
    }
    res = hss_client_deliver_ppr(c, &r);
    cx_ppr_clear(&r);
    return cx_build_result_answer(node, req, res);
}

static void on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *ctx, dia_msg_t *req)
{
    cxc_t *x = arg;
    cx_result_t unsupported = { DIA_COMMAND_UNSUPPORTED, false };
    dia_msg_t *ans;

    switch (req->code) {
    case DIA_CMD_RTR:
        ans = answer_rtr(x->client, node, req);
        break;
    case DIA_CMD_PPR:
        ans = answer_ppr(x->client, node, req);
        break;
    default:
        IMS_NOTICE("hss_client cx: Cx command %u not served here", req->code);
        ans = cx_build_result_answer(node, req, unsupported);
        break;
    }
    if (ans)
        dia_node_answer(node, ctx, &ans);
    else
        IMS_ERR("hss_client cx: cannot build the answer to command %u", req->code);
    dia_msg_free(req);
}

/* Once the client is gone, the node still routes Cx requests to a handler
 * (the peer layer has no way to unregister): refuse them, as a node without
 * the application would, with 3007 DIAMETER_APPLICATION_UNSUPPORTED. */
static void on_request_gone(void *arg, dia_node_t *node, const dia_req_ctx_t *ctx,
                            dia_msg_t *req)
{
    cx_result_t res = { DIA_APPLICATION_UNSUPPORTED, false };
    dia_msg_t *ans = cx_build_result_answer(node, req, res);

    if (ans)
        dia_node_answer(node, ctx, &ans);
    dia_msg_free(req);
}

static void cxc_destroy(hss_client_t *c)
{
    cxc_t *x = c->backend;
    cxc_pend_t *p;

    dia_node_on_request(x->node, DIA_APP_CX, on_request_gone, NULL);
    while ((p = x->pend) != NULL) {
        pend_unlink(x, p);
        p->owner = NULL;        /* freed by on_answer when the node reports it */
    }
    free(x->realm);
    free(x->host);
    free(x);
}

static const hss_client_ops_t cxc_ops = {
    .name = "cx",
    .uar = cxc_uar,
    .mar = cxc_mar,
    .sar = cxc_sar,
    .lir = cxc_lir,
    .destroy = cxc_destroy,
};

hss_client_t *hss_client_new_cx(dia_node_t *node, const char *hss_realm, const char *hss_host)
{
    cxc_t *x;
    hss_client_t *c;

    if (!node || !hss_realm || hss_realm[0] == '\0')
        return NULL;
    x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->node = node;
    x->realm = strdup(hss_realm);
    x->host = (hss_host && hss_host[0] != '\0') ? strdup(hss_host) : NULL;
    c = hss_client_alloc(&cxc_ops, x);
    if (!x->realm || (hss_host && hss_host[0] != '\0' && !x->host) || !c) {
        free(x->realm);
        free(x->host);
        free(x);
        free(c);
        return NULL;
    }
    x->client = c;
    dia_node_on_request(node, DIA_APP_CX, on_request, x);
    return c;
}
