/* SPDX-License-Identifier: BSD-2-Clause */
/* hss_client: dispatch to the backend, and the inbound handlers shared by all. */
#include <stdlib.h>

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
