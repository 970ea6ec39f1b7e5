/* SPDX-License-Identifier: BSD-2-Clause */
#include "scscf/cx-path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"

scscf_op_t *scscf_op_new(scscf_ctx_t *ctx, uint64_t req_id, const char *impi, const char *impu)
{
    scscf_op_t *op = calloc(1, sizeof(*op));

    if (!op)
        abort();
    op->ctx = ctx;
    op->req_id = req_id;
    snprintf(op->impi, sizeof(op->impi), "%s", impi);
    snprintf(op->impu, sizeof(op->impu), "%s", impu ? impu : "");
    op->next = ctx->ops;
    if (op->next)
        op->next->prev = op;
    ctx->ops = op;
    return op;
}

void scscf_op_free(scscf_op_t *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        op->ctx->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    free(op);
}

void scscf_ops_free_all(scscf_ctx_t *ctx)
{
    while (ctx->ops)
        scscf_op_free(ctx->ops);
}

bool scscf_cx_ok(const cx_result_t *r)
{
    return !r->experimental && r->code == DIA_SUCCESS;
}

int scscf_cx_mar(scscf_op_t *op, const char *scheme, const uint8_t *resync, hss_maa_cb cb)
{
    cx_mar_t r;

    if (!op->ctx->hss)
        return IMS_ERROR;
    memset(&r, 0, sizeof(r));
    snprintf(r.impi, sizeof(r.impi), "%s", op->impi);
    snprintf(r.impu, sizeof(r.impu), "%s", op->impu);
    snprintf(r.server_name, sizeof(r.server_name), "%s", op->ctx->cfg.uri);
    r.num_items = 1;
    snprintf(r.item.scheme, sizeof(r.item.scheme), "%s", scheme);
    if (resync) {
        memcpy(r.item.authorization, resync, 30);
        r.item.authorization_len = 30;
    }
    return hss_mar(op->ctx->hss, &r, cb, op);
}

static void on_saa_logged(void *arg, int status, const cx_saa_t *a)
{
    scscf_op_t *op = arg;

    if (status != IMS_OK)
        IMS_NOTICE("SAR type %d for %s: no answer from the HSS", (int)op->sat, op->impi);
    else if (!scscf_cx_ok(&a->result))
        IMS_NOTICE("SAR type %d for %s: result %u%s", (int)op->sat, op->impi, a->result.code,
                   a->result.experimental ? " (exp)" : "");
    scscf_op_free(op);
}

int scscf_cx_sar(scscf_op_t *op, cx_sat_t sat, bool data_available, hss_saa_cb cb)
{
    cx_sar_t r;

    if (!op->ctx->hss)
        return IMS_ERROR;
    op->sat = sat;
    memset(&r, 0, sizeof(r));
    snprintf(r.impi, sizeof(r.impi), "%s", op->impi);
    if (op->impu[0]) {
        snprintf(r.impu[0], sizeof(r.impu[0]), "%s", op->impu);
        r.nimpu = 1;
    }
    snprintf(r.server_name, sizeof(r.server_name), "%s", op->ctx->cfg.uri);
    r.type = sat;
    r.user_data_already_available = data_available ? 1 : 0;
    return hss_sar(op->ctx->hss, &r, cb ? cb : on_saa_logged, op);
}

void scscf_cx_sar_notice(scscf_ctx_t *ctx, const char *impi, const char *impu, cx_sat_t sat)
{
    scscf_op_t *op = scscf_op_new(ctx, 0, impi, impu);

    if (scscf_cx_sar(op, sat, true, NULL) != IMS_OK)
        scscf_op_free(op);
}
