/* SPDX-License-Identifier: BSD-2-Clause */
/* hss_client: dispatch to the backend, and the inbound handlers shared by all. */
#include <stdlib.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/hss_client_int.h"

hss_client_t *hss_client_alloc(const hss_client_ops_t *ops, void *backend)
{
    hss_client_t *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->ops = ops;
    c->backend = backend;
    return c;
}

void hss_client_free(hss_client_t *c)
{
    if (!c)
        return;
    c->ops->destroy(c);
    free(c);
}

int hss_uar(hss_client_t *c, const cx_uar_t *r, hss_uaa_cb cb, void *arg)
{
    if (!c || !r || !cb)
        return IMS_ERROR;
    return c->ops->uar(c, r, cb, arg);
}

int hss_mar(hss_client_t *c, const cx_mar_t *r, hss_maa_cb cb, void *arg)
{
    if (!c || !r || !cb)
        return IMS_ERROR;
    return c->ops->mar(c, r, cb, arg);
}

int hss_sar(hss_client_t *c, const cx_sar_t *r, hss_saa_cb cb, void *arg)
{
    if (!c || !r || !cb)
        return IMS_ERROR;
    return c->ops->sar(c, r, cb, arg);
}

int hss_lir(hss_client_t *c, const cx_lir_t *r, hss_lia_cb cb, void *arg)
{
    if (!c || !r || !cb)
        return IMS_ERROR;
    return c->ops->lir(c, r, cb, arg);
}

static const char *const cmd_names[] = { "UAR", "MAR", "SAR", "LIR" };
static const char *const outcome_names[] = {
    "success", "protocol_error", "transient_failure", "permanent_failure", "invalid_answer",
    "timeout", "no_peer", "shutdown", "not_sent",
};
static const ims_label_t l_cmd = { "cmd", cmd_names, IMS_ARRAY_LEN(cmd_names) };
static const ims_label_t l_result = { "result", outcome_names, IMS_ARRAY_LEN(outcome_names) };

void hss_client_set_metrics(hss_client_t *c, ims_metrics_t *m)
{
    if (!c)
        return;
    c->m_requests = ims_metrics_counter(m, "ims_hss_requests_total",
                                        "Requests to the HSS by command and result", &l_cmd,
                                        &l_result);
    c->m_latency = ims_metrics_histogram(m, "ims_hss_request_duration_seconds",
                                         "Time from a request to the HSS to its answer",
                                         &l_cmd, NULL, NULL, 0);
}

hss_outcome_t hss_outcome_of(uint32_t code)
{
    switch (code / 1000) {
    case 2: return HSS_OUT_SUCCESS;
    case 3: return HSS_OUT_PROTOCOL_ERROR;
    case 4: return HSS_OUT_TRANSIENT;
    case 5: return HSS_OUT_PERMANENT;
    }
    return HSS_OUT_INVALID_ANSWER;
}

void hss_client_count(hss_client_t *c, hss_cmd_t cmd, hss_outcome_t out, uint64_t sent_us)
{
    ims_counter_inc(c->m_requests, ims_metric_series(c->m_requests, cmd, out));
    if (sent_us)
        ims_histogram_observe_us(c->m_latency, cmd, ims_clock_real_us() - sent_us);
}

void hss_client_on_rtr(hss_client_t *c, hss_rtr_cb cb, void *arg)
{
    c->rtr_cb = cb;
    c->rtr_arg = cb ? arg : NULL;
}

void hss_client_on_ppr(hss_client_t *c, hss_ppr_cb cb, void *arg)
{
    c->ppr_cb = cb;
    c->ppr_arg = cb ? arg : NULL;
}

cx_result_t hss_client_deliver_rtr(hss_client_t *c, const cx_rtr_t *r)
{
    cx_result_t none = { DIA_UNABLE_TO_COMPLY, false };

    if (!c->rtr_cb) {
        IMS_WARN("hss_client: RTR for %s and no handler: %u", r->impi, none.code);
        return none;
    }
    return c->rtr_cb(c->rtr_arg, r);
}

cx_result_t hss_client_deliver_ppr(hss_client_t *c, const cx_ppr_t *r)
{
    cx_result_t none = { DIA_UNABLE_TO_COMPLY, false };

    if (!c->ppr_cb) {
        IMS_WARN("hss_client: PPR for %s and no handler: %u", r->impi, none.code);
        return none;
    }
    return c->ppr_cb(c->ppr_arg, r);
}
