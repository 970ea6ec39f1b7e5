/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Rx backend of policy_client (TS 29.214; the P-CSCF is the AF): our own
 * Diameter node toward the PCRF, configured in pcscf.policy.rx.
 *
 *   new session      AAR INITIAL_REQUEST (a new Session-Id, kept as the ref);
 *                    from an offer with preconditions Service-Info-Status
 *                    PRELIMINARY_SERVICE_INFORMATION, FINAL at the answer
 *   change           AAR UPDATE_REQUEST on the same Session-Id
 *   end              STR (DIAMETER_LOGOUT); the STA is only logged
 *   ASR              ASA 2001 (5002 for a session we do not know), then the
 *                    call is released and the session ended with STR (§4.4.6)
 *   RAR              RAA 2001; with INDICATION_OF_LOSS_OF_BEARER or
 *                    INDICATION_OF_RELEASE_OF_BEARER the call is released
 *                    likewise (TS 24.229 §5.2.8.x); other actions only logged
 *
 * Every AAR carries Subscription-Id (SIP_URI, the IMPU), Framed-IP-Address
 * (or the UE's /64 as Framed-IPv6-Prefix), AF-Application-Identifier and, for
 * calls, Service-Info-Status FINAL and the ICID as AF-Charging-Identifier. The
 * Specific-Actions subscribed to: loss and release of bearer for both kinds,
 * plus charging correlation for calls; the signalling AAR (24.229 §5.2.7.x,
 * 29.214 §4.4.5a) has the one AF_SIGNALLING component.
 *
 * A request's callback arg is a small heap record (the ticket, whether it
 * opened the session); answers after the table gave up on the ticket end a
 * session the PCRF opened (STR), so no Rx session outlives its call.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/conf.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer_conf.h"
#include "pcscf/policy.h"

#define RX_AF_APP_ID "IMS Services"

typedef struct rx_be {
    pcscf_policy_t *pc;
    ims_loop_t *loop;
    dia_node_t *node;
    char realm[128], host[128];
    bool closing;
    size_t inflight;        /* AARs and STRs without their answer yet */
} rx_be_t;

typedef struct rx_str_arg {
    rx_be_t *rx;
    char sid[RX_SID_MAX];
} rx_str_arg_t;

typedef struct rx_pending {
    rx_be_t *rx;
    uint64_t ticket;
    bool initial;
    char sid[RX_SID_MAX];
} rx_pending_t;

/* ---- requests ---- */

static void on_sta(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    rx_str_arg_t *a = arg;
    rx_sta_t sta = { { 0, false } };

    a->rx->inflight--;
    if (!ans)
        IMS_INFO("Rx STR %s: no answer (%d)", a->sid, (int)err);
    else if (rx_parse_sta(ans, &sta) != IMS_OK || sta.result.code != DIA_SUCCESS)
        IMS_INFO("Rx STR %s: result %u", a->sid, sta.result.code);
    dia_msg_free(ans);
    free(a);
}

static void rx_release(void *be, const char *ref)
{
    rx_be_t *rx = be;
    rx_str_t r = { RX_TERMINATION_LOGOUT };
    rx_str_arg_t *a;
    dia_msg_t *m;

    if (rx->closing)
        return;
    m = rx_build_str(rx->node, rx->realm, rx->host[0] ? rx->host : NULL, ref, &r, NULL);
    if (!m) {
        IMS_WARN("Rx STR %s: not built", ref);
        return;
    }
    if (!(a = calloc(1, sizeof(*a))))
        abort();
    a->rx = rx;
    snprintf(a->sid, sizeof(a->sid), "%s", ref);
    rx->inflight++;
    dia_node_send(rx->node, &m, on_sta, a);
}

static pcscf_policy_result_t aaa_result(const dia_msg_t *ans, dia_send_err_t err)
{
    pcscf_policy_result_t res = { PCSCF_POLICY_UNREACHABLE, 0, false };
    rx_aaa_t a;

    if (!ans) {
        if (err == DIA_SEND_TIMEOUT)
            res.outcome = PCSCF_POLICY_TIMEOUT;
        return res;
    }
    if (rx_parse_aaa(ans, &a) != IMS_OK)
        return res;
    res.cause = a.result.code;
    res.experimental = a.result.experimental;
    if (!a.result.experimental && a.result.code / 1000 == 2)
        res.outcome = PCSCF_POLICY_OK;
    else if (a.result.experimental || a.result.code / 1000 == 5)
        res.outcome = PCSCF_POLICY_REJECTED;   /* 5002 UNKNOWN_SESSION_ID too */
    return res;
}

static void on_aaa(void *arg, dia_msg_t *ans, dia_send_err_t err)
{
    rx_pending_t *p = arg;
    rx_be_t *rx = p->rx;
    pcscf_policy_result_t res = aaa_result(ans, err);

    rx->inflight--;
    dia_msg_free(ans);
    if (rx->closing) {
        free(p);
        return;
    }
    if (res.outcome != PCSCF_POLICY_OK)
        IMS_NOTICE("Rx AAR %s: %s (%u%s)", p->sid, pcscf_policy_outcome_name(res.outcome),
                   res.cause, res.experimental ? ", experimental" : "");
    if (pcscf_policy_answered(rx->pc, p->ticket, p->sid, &res) == IMS_DECLINED && p->initial &&
        res.outcome == PCSCF_POLICY_OK)
        rx_release(rx, p->sid);   /* opened after we gave up: end it */
    free(p);
}

/* Framed-IP-Address, or the /64 an IPv6 UE address is in. */
static void put_ue_ip(rx_aar_t *r, const char *ip)
{
    struct in6_addr a6;

    if (inet_pton(AF_INET, ip, &r->framed_ip) == 1) {
        r->has_framed_ip = true;
    } else if (inet_pton(AF_INET6, ip, &a6) == 1) {
        r->has_framed_ipv6 = true;
        memcpy(&r->framed_ipv6_prefix, &a6, 8);
        r->framed_ipv6_prefix_len = 64;
    }
}

static void fill_aar(rx_aar_t *r, const pcscf_policy_req_t *q)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->af_app_id, sizeof(r->af_app_id), "%s", RX_AF_APP_ID);
    memcpy(r->media, q->media, sizeof(r->media[0]) * (size_t)q->nmedia);
    r->nmedia = q->nmedia;
    r->specific_actions[r->nspecific_actions++] = RX_ACTION_LOSS_OF_BEARER;
    r->specific_actions[r->nspecific_actions++] = RX_ACTION_RELEASE_OF_BEARER;
    if (!q->signalling) {
        r->specific_actions[r->nspecific_actions++] = RX_ACTION_CHARGING_CORRELATION_EXCHANGE;
        r->has_service_info_status = true;
        /* PRELIMINARY_SERVICE_INFORMATION (1) from an offer, else FINAL (0) */
        r->service_info_status = q->preliminary ? 1 : 0;
        snprintf(r->af_charging_id, sizeof(r->af_charging_id), "%s", q->icid ? q->icid : "");
    }
    if (q->impu && *q->impu) {
        r->sub_ids[0].type = RX_SUB_ID_SIP_URI;
        snprintf(r->sub_ids[0].data, sizeof(r->sub_ids[0].data), "%s", q->impu);
        r->nsub_ids = 1;
    }
    if (q->ue_ip)
        put_ue_ip(r, q->ue_ip);
    r->has_rx_request_type = true;
    r->rx_request_type = q->update ? RX_REQUEST_UPDATE : RX_REQUEST_INITIAL;
}

static int rx_authorize(void *be, uint64_t ticket, const pcscf_policy_req_t *q)
{
    rx_be_t *rx = be;
    rx_aar_t *r;
    rx_pending_t *p;
    dia_msg_t *m;

    if (rx->closing || q->nmedia < 0 || q->nmedia > RX_MAX_MEDIA)
        return IMS_ERROR;
    if (!(r = malloc(sizeof(*r))) || !(p = calloc(1, sizeof(*p))))
        abort();
    fill_aar(r, q);
    m = rx_build_aar(rx->node, rx->realm, rx->host[0] ? rx->host : NULL,
                     q->update ? q->ref : NULL, r, p->sid);
    free(r);
    if (!m) {
        free(p);
        return IMS_ERROR;
    }
    p->rx = rx;
    p->ticket = ticket;
    p->initial = !q->update;
    rx->inflight++;
    dia_node_send(rx->node, &m, on_aaa, p);
    return IMS_OK;
}

/* ---- requests from the PCRF ---- */

static bool bearer_gone(const rx_rar_t *r)
{
    for (int i = 0; i < r->nspecific_actions; i++)
        if (r->specific_actions[i] == RX_ACTION_LOSS_OF_BEARER ||
            r->specific_actions[i] == RX_ACTION_RELEASE_OF_BEARER)
            return true;
    return false;
}

static void on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *ctx, dia_msg_t *req)
{
    rx_be_t *rx = arg;
    char sid[RX_SID_MAX] = "";
    rx_result_t res = { DIA_SUCCESS, false };
    const char *why = NULL;
    uint32_t missing = 0;
    dia_msg_t *ans = NULL;
    rx_asr_t asr;
    rx_rar_t rar;

    dia_msg_session_id(req, sid, sizeof(sid));
    if (!pcscf_policy_by_ref(rx->pc, sid))
        res.code = DIA_UNKNOWN_SESSION_ID;
    if (req->code == DIA_CMD_ASR && rx_parse_asr(req, &asr, &missing) == IMS_OK) {
        rx_asa_t a = { res };

        ans = rx_build_asa(node, req, &a);
        why = asr.abort_cause == RX_ABORT_BEARER_RELEASED ? "Bearer released"
                                                          : "Insufficient resources";
    } else if (req->code == DIA_CMD_RAR && rx_parse_rar(req, &rar, &missing) == IMS_OK) {
        rx_raa_t a = { res };

        ans = rx_build_raa(node, req, &a);
        if (bearer_gone(&rar))
            why = "Loss of bearer";
        else
            IMS_INFO("Rx RAR %s: %d actions, nothing to release", sid, rar.nspecific_actions);
    } else {
        ans = rx_build_parse_error_answer(node, req, missing);
    }
    if (ans)
        dia_node_answer(node, ctx, &ans);
    dia_msg_free(req);
    /* After the answer: the release may send STR on the same connection. */
    if (why && res.code == DIA_SUCCESS && !rx->closing)
        pcscf_policy_network_release(rx->pc, sid, why);
}

/* ---- life ---- */

static void rx_attach(void *be, pcscf_policy_t *pc)
{
    ((rx_be_t *)be)->pc = pc;
}

static size_t rx_busy(void *be)
{
    return ((rx_be_t *)be)->inflight;
}

static void on_stopped(void *arg)
{
    ims_loop_stop(arg);
}

static void rx_stop(void *be)
{
    rx_be_t *rx = be;

    rx->closing = true;
    if (rx->loop) {
        dia_node_stop(rx->node, on_stopped, rx->loop);
        ims_loop_run(rx->loop);
    }
}

static void rx_free(void *be)
{
    rx_be_t *rx = be;

    rx->closing = true;
    dia_node_free(rx->node);   /* pending callbacks fail now, and see closing */
    free(rx);
}

static const pcscf_policy_backend_t rx_ops = {
    .name = "rx",
    .attach = rx_attach,
    .authorize = rx_authorize,
    .release = rx_release,
    .busy = rx_busy,
    .stop = rx_stop,
    .free = rx_free,
};

static int rx_str_key(ims_conf_t *conf, const char *section, const char *key, char *buf,
                      size_t len, char *err, size_t errlen)
{
    char k[160];
    const char *v = NULL;

    snprintf(k, sizeof(k), "%s.%s", section, key);
    if (ims_conf_str(conf, k, false, &v) == IMS_ERROR) {
        snprintf(err, errlen, "%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (v && strlen(v) >= len) {
        snprintf(err, errlen, "%s: %s: too long", ims_conf_path(conf), k);
        return IMS_ERROR;
    }
    snprintf(buf, len, "%s", v ? v : "");
    return IMS_OK;
}

int pcscf_policy_rx_new(ims_conf_t *conf, const char *section, ims_loop_t *loop,
                        uint32_t timeout_ms, const pcscf_policy_backend_t **ops, void **be,
                        char *err, size_t errlen)
{
    rx_be_t *rx = calloc(1, sizeof(*rx));
    dia_conf_t dc;
    int rc;

    if (!rx)
        abort();
    memset(&dc, 0, sizeof(dc));
    rc = dia_conf_load(conf, section, &dc, err, errlen);
    if (rc == IMS_DECLINED)
        snprintf(err, errlen, "%s: %s: the Rx backend needs this group", ims_conf_path(conf),
                 section);
    if (rc != IMS_OK || rx_str_key(conf, section, "dest_realm", rx->realm, sizeof(rx->realm),
                                   err, errlen) != IMS_OK ||
        rx_str_key(conf, section, "dest_host", rx->host, sizeof(rx->host), err, errlen) !=
            IMS_OK)
        goto fail;
    if (!rx->realm[0])
        snprintf(rx->realm, sizeof(rx->realm), "%s", dc.node.origin_realm);
    dc.node.apps[0] = (dia_app_t){ DIA_APP_RX, DIA_VENDOR_3GPP };
    dc.node.napps = 1;
    dc.node.product_name = "ims-core pcscf";
    if (!dc.node.request_timeout_ms)
        dc.node.request_timeout_ms = timeout_ms;   /* the table's limit, not 4 s */
    if (!(rx->node = dia_conf_node(loop, &dc)) || dia_node_start(rx->node) != IMS_OK) {
        snprintf(err, errlen, "%s: the Rx Diameter node did not start", section);
        goto fail;
    }
    dia_node_on_request(rx->node, DIA_APP_RX, on_request, rx);
    rx->loop = loop;
    IMS_NOTICE("P-CSCF policy: Rx as %s toward realm %s%s%s, %d peers", dc.node.origin_host,
               rx->realm, rx->host[0] ? ", host " : "", rx->host, dc.npeers);
    *ops = &rx_ops;
    *be = rx;
    return IMS_OK;
fail:
    if (rx->node)
        dia_node_free(rx->node);
    free(rx);
    return IMS_ERROR;
}
