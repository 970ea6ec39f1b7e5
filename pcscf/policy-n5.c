/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The N5 backend of policy_client (TS 29.514 Npcf_PolicyAuthorization; the
 * P-CSCF is the AF): pcscf/n5-client.c toward the PCF, configured in
 * pcscf.policy.n5 (pcscf_n5_cfg_from_conf: pcf, scp, nrf, nf_instance_id,
 * nrf_validity_s, notif_listen, notif_uri, dnn, af_app_id, supp_feat, tls,
 * tls_ca, notif_tls_cert, notif_tls_key, timeout_ms). With nrf the PCF is
 * discovered (pcscf/n5-nrf.h) and a session's ref is its resource URI at the
 * PCF that holds it, so that sessions at two PCFs never share a ref.
 *
 *   new session      POST app-sessions (ueIpv4/ueIpv6, gpsi from a tel IMPU,
 *                    afChargId = ICID, medComponents from the Rx components);
 *                    the appSessionId from Location is the ref
 *   change           PATCH app-sessions/{ref} (merge-patch, medComponents)
 *   end              POST app-sessions/{ref}/delete; the answer is only logged
 *   terminate        POST {notifUri}/terminate from the PCF: answered 204 by
 *                    n5-client, then the call is released (and the session
 *                    deleted, as open5gs expects of the AF)
 *
 * Outcomes for policy.h: 201/200/204 OK; 403 REJECTED (488 to the caller);
 * any other status, a timeout or no connection UNREACHABLE / TIMEOUT (503).
 * A create answered after the table gave up on its ticket is deleted at once,
 * so no app session outlives its call. For that answer to arrive at all, the
 * HTTP/2 request must outlive the table's timeout (policy timeout_ms), which
 * is what fails the call: by default n5-client waits N5_LATE_MS longer before
 * it resets the stream (pcscf.policy.n5.timeout_ms overrides).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/conf.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "pcscf/n5-client.h"
#include "pcscf/policy.h"
#include "pcscf/sdp.h"

/* How much longer than the policy's timeout an N5 request stays open: a PCF
 * that answers a create late (stalled, overloaded) has opened an app session
 * that only its answer lets us delete. */
#define N5_LATE_MS 5000u

typedef struct n5_be {
    pcscf_policy_t *pc;
    pcscf_n5_t *n5;
    bool closing;
} n5_be_t;

typedef struct n5_pending {
    n5_be_t *b;
    uint64_t ticket;
    bool initial;
} n5_pending_t;

static void on_deleted(void *arg, const pcscf_n5_result_t *r)
{
    (void)arg;
    if (r->status != PCSCF_N5_OK)
        IMS_INFO("N5 delete %s: %d %s", r->app_session_id, r->http_status, r->cause);
}

static void n5_release(void *be, const char *ref)
{
    n5_be_t *b = be;

    if (!b->closing && !pcscf_n5_delete(b->n5, ref, on_deleted, NULL))
        IMS_WARN("N5 delete %s: not sent", ref);
}

static pcscf_policy_result_t result_of(const pcscf_n5_result_t *r)
{
    pcscf_policy_result_t res = { PCSCF_POLICY_UNREACHABLE, (uint32_t)r->http_status, false };

    if (r->status == PCSCF_N5_OK)
        res.outcome = PCSCF_POLICY_OK;
    else if (r->status == PCSCF_N5_TIMEOUT)
        res.outcome = PCSCF_POLICY_TIMEOUT;
    else if (r->status == PCSCF_N5_REJECTED && r->http_status == 403)
        res.outcome = PCSCF_POLICY_REJECTED;
    return res;
}

static void on_result(void *arg, const pcscf_n5_result_t *r)
{
    n5_pending_t *p = arg;
    n5_be_t *b = p->b;
    pcscf_policy_result_t res = result_of(r);

    if (b->closing) {
        free(p);
        return;
    }
    if (res.outcome != PCSCF_POLICY_OK)
        IMS_NOTICE("N5 %s %s: %s (%d %s)", p->initial ? "create" : "update",
                   r->app_session_id, pcscf_policy_outcome_name(res.outcome), r->http_status,
                   r->cause);
    if (pcscf_policy_answered(b->pc, p->ticket, p->initial ? r->app_session_id : NULL, &res) ==
            IMS_DECLINED && p->initial && r->status == PCSCF_N5_OK)
        n5_release(b, r->app_session_id);   /* opened after we gave up: end it */
    free(p);
}

static uint64_t send_create(n5_be_t *b, const pcscf_policy_req_t *q, json_t *med,
                            n5_pending_t *p)
{
    bool v6 = q->ue_ip && strchr(q->ue_ip, ':');
    pcscf_n5_app_t app = {
        .ue_ipv4 = v6 ? NULL : q->ue_ip, .ue_ipv6 = v6 ? q->ue_ip : NULL, .impu = q->impu,
        .af_charg_id = q->signalling ? NULL : q->icid, .med_components = med,
        .preliminary = q->preliminary,
    };

    return pcscf_n5_create(b->n5, &app, on_result, p);
}

static int n5_authorize(void *be, uint64_t ticket, const pcscf_policy_req_t *q)
{
    n5_be_t *b = be;
    json_t *med;
    n5_pending_t *p;
    uint64_t h;

    if (b->closing || q->nmedia < 0 || q->nmedia > RX_MAX_MEDIA)
        return IMS_ERROR;
    med = pcscf_sdp_rx_to_n5(q->media, q->nmedia);
    if (!med)
        return IMS_ERROR;
    p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    p->b = b;
    p->ticket = ticket;
    p->initial = !q->update;
    h = q->update ? pcscf_n5_update(b->n5, q->ref, med, q->preliminary, on_result, p)
                  : send_create(b, q, med, p);
    json_decref(med);
    if (!h) {
        free(p);
        return IMS_ERROR;
    }
    return IMS_OK;
}

static void on_terminate(void *arg, const char *id, const char *term_cause)
{
    n5_be_t *b = arg;
    char why[160];

    if (b->closing)
        return;
    snprintf(why, sizeof(why), "PCF terminated (%s)", term_cause);
    if (pcscf_policy_network_release(b->pc, id, why) == IMS_DECLINED)
        IMS_INFO("N5 terminate for app session %s: no such session", id);
}

static void n5_attach(void *be, pcscf_policy_t *pc)
{
    ((n5_be_t *)be)->pc = pc;
}

static size_t n5_busy(void *be)
{
    return pcscf_n5_pending(((n5_be_t *)be)->n5);
}

static void n5_stop(void *be)
{
    ((n5_be_t *)be)->closing = true;   /* HTTP/2 has no goodbye to wait for */
}

static void n5_free(void *be)
{
    n5_be_t *b = be;

    b->closing = true;
    pcscf_n5_free(b->n5);   /* pending callbacks run now, and see closing */
    free(b);
}

static const pcscf_policy_backend_t n5_ops = {
    .name = "n5",
    .attach = n5_attach,
    .authorize = n5_authorize,
    .release = n5_release,
    .busy = n5_busy,
    .stop = n5_stop,
    .free = n5_free,
};

int pcscf_policy_n5_new(ims_conf_t *conf, const char *section, ims_loop_t *loop,
                        uint32_t timeout_ms, const pcscf_policy_backend_t **ops, void **be,
                        char *err, size_t errlen)
{
    pcscf_n5_cfg_t cfg = { .timeout_ms = 0 };
    n5_be_t *b;

    if (pcscf_n5_cfg_from_conf(conf, section, &cfg) != IMS_OK) {
        snprintf(err, errlen, "%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (cfg.timeout_ms == 0)
        cfg.timeout_ms = timeout_ms + N5_LATE_MS;
    if (cfg.nrf && (cfg.pcf || cfg.scp)) {
        snprintf(err, errlen, "%s: %s.nrf: PCF discovery excludes pcf and scp",
                 ims_conf_path(conf), section);
        return IMS_ERROR;
    }
    if (!cfg.notif_listen && !cfg.notif_uri) {
        snprintf(err, errlen, "%s: %s.notif_listen: the N5 backend needs the notifUri server",
                 ims_conf_path(conf), section);
        return IMS_ERROR;
    }
    b = calloc(1, sizeof(*b));
    if (!b)
        abort();
    b->n5 = pcscf_n5_new(loop, &cfg, on_terminate, b);
    if (!b->n5) {
        snprintf(err, errlen, "%s: %s: the N5 client did not start (see the log)",
                 ims_conf_path(conf), section);
        free(b);
        return IMS_ERROR;
    }
    if (cfg.nrf)
        IMS_NOTICE("P-CSCF policy: N5 toward the PCFs the NRF %s names, notifUri %s", cfg.nrf,
                   pcscf_n5_notif_uri(b->n5));
    else
        IMS_NOTICE("P-CSCF policy: N5 toward %s%s%s, notifUri %s",
                   cfg.pcf ? cfg.pcf : "(via SCP)", cfg.scp ? " through SCP " : "",
                   cfg.scp ? cfg.scp : "", pcscf_n5_notif_uri(b->n5));
    *ops = &n5_ops;
    *be = b;
    return IMS_OK;
}
