/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The single typed pass over a message's AVPs shared by the application
 * codecs (see avp_pass.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "diameter/base/avp_pass.h"
#include "diameter/base/dict.h"

static void mark(dia_pass_t *p, const dia_avp_t *a)
{
    uint32_t base = p->app->v3_base;

    if (a->vendor == 0 && a->code < DIA_PASS_SEEN0_MAX)
        p->seen0[a->code / 8] |= (uint8_t)(1u << (a->code % 8));
    else if (a->vendor == DIA_VENDOR_3GPP && a->code >= base &&
             a->code - base < DIA_PASS_SEEN3_MAX)
        p->seen3[(a->code - base) / 8] |= (uint8_t)(1u << ((a->code - base) % 8));
}

/* Was code present at the top level (see dia_pass_req_done). */
static bool seen(const dia_pass_t *p, uint32_t code)
{
    uint32_t base = p->app->v3_base;

    if (code >= base && code - base < DIA_PASS_SEEN3_MAX)
        return (p->seen3[(code - base) / 8] >> ((code - base) % 8)) & 1u;
    return code < DIA_PASS_SEEN0_MAX && ((p->seen0[code / 8] >> (code % 8)) & 1u);
}

bool dia_pass_room(dia_pass_t *p, int n, int max)
{
    if (n < max)
        return true;
    p->bad = true;
    return false;
}

static void inner_missing(dia_pass_t *p, uint32_t code)
{
    if (p->inner_missing == 0)
        p->inner_missing = code;
}

void dia_pass_group_need(dia_pass_t *p, const dia_avp_t *g, uint32_t code, uint32_t vendor)
{
    dia_avp_t x;

    if (!dia_group_find(g, code, vendor, &x))
        inner_missing(p, code);
}

static void take_result(dia_pass_t *p, const dia_avp_t *a)
{
    dia_avp_t x;

    if (a->code == DIA_AVP_RESULT_CODE) {
        if (p->has_result && p->result_experimental)
            return;     /* a 3GPP outcome says more than a base one */
        dia_take_u32(p, a, &p->result_code);
        p->result_experimental = false;
    } else if (dia_group_find(a, DIA_AVP_EXPERIMENTAL_RESULT_CODE, 0, &x)) {
        dia_take_u32(p, &x, &p->result_code);
        p->result_experimental = true;
    } else {
        p->bad = true;
    }
    p->has_result = true;
}

/* ---- the pass ---- */

void dia_pass_open(dia_pass_t *p, const dia_pass_app_t *app, const dia_msg_t *m)
{
    memset(p, 0, sizeof(*p));
    p->app = app;
    dia_iter_msg(m, &p->it);
}

/* dia_pass_open when m is code of app as a request / an answer. */
static bool start(dia_pass_t *p, const dia_pass_app_t *app, const dia_msg_t *m,
                  uint32_t code, bool request)
{
    memset(p, 0, sizeof(*p));
    p->app = app;
    if (!m || m->code != code || m->app_id != app->app_id || dia_msg_is_request(m) != request)
        return false;
    dia_iter_msg(m, &p->it);
    return true;
}

bool dia_pass_next(dia_pass_t *p, dia_avp_t *a)
{
    uint32_t app;

    while (dia_iter_next(&p->it, a)) {
        mark(p, a);
        if (dia_avp_is(a, DIA_AVP_RESULT_CODE, 0) ||
            dia_avp_is(a, DIA_AVP_EXPERIMENTAL_RESULT, 0)) {
            take_result(p, a);
            continue;
        }
        if (p->app->auth_app_id && dia_avp_is(a, DIA_AVP_AUTH_APPLICATION_ID, 0)) {
            if (dia_avp_u32(a, &app) != IMS_OK || app != p->app->app_id)
                p->bad = true;
            continue;
        }
        return true;
    }
    return false;
}

/* The first code of list (0-ended) not seen, or 0. */
static uint32_t first_unseen(const dia_pass_t *p, const uint32_t *list)
{
    for (size_t i = 0; list && list[i] != 0; i++) {
        if (!seen(p, list[i]))
            return list[i];
    }
    return 0;
}

int dia_pass_req_done(const dia_pass_t *p, const uint32_t *need, uint32_t *missing)
{
    *missing = 0;
    if (p->bad)
        return IMS_ERROR;
    if ((*missing = first_unseen(p, p->app->head)) != 0)
        return IMS_ERROR;
    if ((*missing = first_unseen(p, need)) != 0)
        return IMS_ERROR;
    *missing = p->inner_missing;
    return *missing ? IMS_ERROR : IMS_OK;
}

int dia_pass_ans_done(const dia_pass_t *p, uint32_t *code, bool *experimental)
{
    if (p->bad || !p->has_result)
        return IMS_ERROR;
    *code = p->result_code;
    *experimental = p->result_experimental;
    return IMS_OK;
}

/* ---- whole commands ---- */

bool dia_pass_run(dia_pass_t *p, const dia_pass_app_t *app, const dia_msg_t *m,
                  uint32_t code, bool request, dia_take_fn *take, void *ctx)
{
    dia_avp_t a;

    if (!start(p, app, m, code, request))
        return false;
    while (dia_pass_next(p, &a)) {
        if (take)
            take(p, &a, ctx);
    }
    return true;
}

int dia_pass_request(const dia_pass_app_t *app, const dia_msg_t *m, uint32_t code,
                     dia_take_fn *take, void *ctx, const uint32_t *need, uint32_t *missing)
{
    dia_pass_t p;

    *missing = 0;
    if (!dia_pass_run(&p, app, m, code, true, take, ctx))
        return IMS_ERROR;
    return dia_pass_req_done(&p, need, missing);
}

int dia_pass_answer(const dia_pass_app_t *app, const dia_msg_t *m, uint32_t code,
                    dia_take_fn *take, void *ctx, uint32_t *res_code, bool *experimental)
{
    dia_pass_t p;

    if (!dia_pass_run(&p, app, m, code, false, take, ctx))
        return IMS_ERROR;
    return dia_pass_ans_done(&p, res_code, experimental);
}

/* ---- typed takes ---- */

void dia_take_str(dia_pass_t *p, const dia_avp_t *a, char *buf, size_t len)
{
    if (dia_avp_str(a, buf, len) != IMS_OK) {
        buf[0] = '\0';
        p->bad = true;
    }
}

void dia_take_str_rep(dia_pass_t *p, const dia_avp_t *a, char *arr, size_t stride, int *n,
                      int max)
{
    if (dia_pass_room(p, *n, max))
        dia_take_str(p, a, arr + (size_t)(*n)++ * stride, stride);
}

void dia_take_u32(dia_pass_t *p, const dia_avp_t *a, uint32_t *v)
{
    if (dia_avp_u32(a, v) != IMS_OK)
        p->bad = true;
}

void dia_take_opt_u32(dia_pass_t *p, const dia_avp_t *a, bool *has, uint32_t *v)
{
    dia_take_u32(p, a, v);
    *has = true;
}

void dia_take_u32_rep(dia_pass_t *p, const dia_avp_t *a, uint32_t *arr, int *n, int max)
{
    if (dia_pass_room(p, *n, max))
        dia_take_u32(p, a, &arr[(*n)++]);
}

void dia_take_octets(dia_pass_t *p, const dia_avp_t *a, void *buf, size_t cap, size_t *len)
{
    if (a->len > cap) {
        p->bad = true;
        return;
    }
    memcpy(buf, a->data, a->len);
    *len = a->len;
}

void dia_take_fixed(dia_pass_t *p, const dia_avp_t *a, void *buf, size_t size, bool *got)
{
    if (a->len != size) {
        p->bad = true;
        return;
    }
    memcpy(buf, a->data, size);
    if (got)
        *got = true;
}

void dia_take_data(dia_pass_t *p, const dia_avp_t *a, size_t max, char **data, size_t *len)
{
    char *d;

    if (a->len > max || !(d = malloc((size_t)a->len + 1))) {
        p->bad = true;
        return;
    }
    memcpy(d, a->data, a->len);
    d[a->len] = '\0';
    free(*data);
    *data = d;
    *len = a->len;
}
