/* SPDX-License-Identifier: BSD-2-Clause */
/* The subscriber database: pool, indexes, IMSI range expansion, state setters. */
#include "hss/context.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/rc.h"

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);

    if (!q)
        abort();
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);

    if (!d)
        abort();
    return d;
}

hss_ctx_t *hss_ctx_new(void)
{
    hss_ctx_t *ctx = calloc(1, sizeof(*ctx));

    if (!ctx)
        abort();
    ctx->sqn_block = 1000;
    ctx->sqn_fsync = true;
    ctx->caps_with_names = true;
    ctx->by_impi = ims_hash_new(1024);
    ctx->by_impu = ims_hash_new(2048);
    if (!ctx->by_impi || !ctx->by_impu)
        abort();
    return ctx;
}

static void sub_free(hss_sub_t *sub)
{
    ims_milenage_fini(&sub->mil);
    free(sub->scscf);
    free(sub->pending_scscf);
    free(sub->user_data);
    /* keys are secrets: do not leave them in freed memory */
    memset(sub->k, 0, sizeof(sub->k));
    memset(sub->op, 0, sizeof(sub->op));
    free(sub);
}

void hss_ctx_free(hss_ctx_t *ctx)
{
    if (!ctx)
        return;
    for (size_t i = 0; i < ctx->nsubs; i++)
        sub_free(ctx->subs[i]);
    free(ctx->subs);
    for (size_t i = 0; i < ctx->nprofiles; i++) {
        hss_profile_t *p = ctx->profiles[i];

        for (size_t j = 0; j < p->nifcs; j++)
            free(p->ifcs[j].spts);
        free(p->ifcs);
        free(p);
    }
    free(ctx->profiles);
    for (size_t i = 0; i < ctx->nstrs; i++)
        free(ctx->strs[i]);
    free(ctx->strs);
    ims_hash_free(ctx->by_impi);
    ims_hash_free(ctx->by_impu);
    ims_conf_free(ctx->conf);
    free(ctx);
}

const char *hss_ctx_strdup(hss_ctx_t *ctx, const char *s)
{
    if (ctx->nstrs == ctx->cap_strs) {
        ctx->cap_strs = ctx->cap_strs ? ctx->cap_strs * 2 : 256;
        ctx->strs = xrealloc(ctx->strs, ctx->cap_strs * sizeof(*ctx->strs));
    }
    ctx->strs[ctx->nstrs] = xstrdup(s);
    return ctx->strs[ctx->nstrs++];
}

int hss_ctx_add_sub(hss_ctx_t *ctx, hss_sub_t *sub, char *err, size_t errlen)
{
    size_t i;

    if (ims_hash_find(ctx->by_impi, sub->impi)) {
        snprintf(err, errlen, "IMPI %s is configured twice", sub->impi);
        return IMS_ERROR;
    }
    for (i = 0; i < sub->nimpus; i++) {
        if (ims_hash_find(ctx->by_impu, sub->impus[i]) ||
            hss_sub_impu_index(sub, sub->impus[i]) != (int)i) {
            snprintf(err, errlen, "IMPU %s is configured twice", sub->impus[i]);
            return IMS_ERROR;
        }
    }
    if (ims_hash_insert(ctx->by_impi, sub->impi, sub) != IMS_OK)
        abort();
    for (i = 0; i < sub->nimpus; i++)
        if (ims_hash_insert(ctx->by_impu, sub->impus[i], sub) != IMS_OK)
            abort();
    if (ctx->nsubs == ctx->cap_subs) {
        ctx->cap_subs = ctx->cap_subs ? ctx->cap_subs * 2 : 64;
        ctx->subs = xrealloc(ctx->subs, ctx->cap_subs * sizeof(*ctx->subs));
    }
    ctx->subs[ctx->nsubs++] = sub;
    return IMS_OK;
}

/* An IMSI is 5..15 digits (TS 23.003 §2.2). */
static int parse_imsi(const char *s, uint64_t *v, int *ndigits)
{
    size_t n = strlen(s);
    uint64_t x = 0;

    if (n < 5 || n > 15)
        return IMS_ERROR;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return IMS_ERROR;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    *ndigits = (int)n;
    return IMS_OK;
}

int hss_ctx_add_range(hss_ctx_t *ctx, const char *imsi_from, uint32_t count,
                      const char *domain, const char *tel_prefix, const hss_sub_t *tmpl,
                      char *err, size_t errlen)
{
    uint64_t first, limit = 1;
    int nd;
    char imsi[24], buf[512];

    if (parse_imsi(imsi_from, &first, &nd) != IMS_OK) {
        snprintf(err, errlen, "imsi_from \"%s\": expected 5 to 15 digits", imsi_from);
        return IMS_ERROR;
    }
    for (int i = 0; i < nd; i++)
        limit *= 10;
    if (count == 0 || first + count > limit) {
        snprintf(err, errlen, "range %s + %" PRIu32 " does not fit in %d digits", imsi_from,
                 count, nd);
        return IMS_ERROR;
    }
    for (uint32_t i = 0; i < count; i++) {
        hss_sub_t *sub = malloc(sizeof(*sub));

        if (!sub)
            abort();
        *sub = *tmpl;
        sub->nimpus = 0;
        snprintf(imsi, sizeof(imsi), "%0*" PRIu64, nd, first + i);
        snprintf(buf, sizeof(buf), "%s@%s", imsi, domain);
        sub->impi = hss_ctx_strdup(ctx, buf);
        snprintf(buf, sizeof(buf), "sip:%s@%s", imsi, domain);
        sub->impus[sub->nimpus] = hss_ctx_strdup(ctx, buf);
        sub->barred[sub->nimpus++] = false;
        if (tel_prefix && *tel_prefix) {
            /* the last 7 digits of the IMSI make the MSISDN's subscriber part */
            snprintf(buf, sizeof(buf), "tel:%s%s", tel_prefix, imsi + (nd > 7 ? nd - 7 : 0));
            sub->impus[sub->nimpus] = hss_ctx_strdup(ctx, buf);
            sub->barred[sub->nimpus++] = false;
        }
        if (hss_ctx_add_sub(ctx, sub, err, errlen) != IMS_OK) {
            free(sub);
            return IMS_ERROR;
        }
    }
    return IMS_OK;
}

hss_sub_t *hss_ctx_find_impi(const hss_ctx_t *ctx, const char *impi)
{
    return ims_hash_find(ctx->by_impi, impi);
}

hss_sub_t *hss_ctx_find_impu(const hss_ctx_t *ctx, const char *impu)
{
    return ims_hash_find(ctx->by_impu, impu);
}

int hss_sub_impu_index(const hss_sub_t *sub, const char *impu)
{
    for (size_t i = 0; i < sub->nimpus; i++)
        if (strcmp(sub->impus[i], impu) == 0)
            return (int)i;
    return -1;
}

/* The length of a SIP URI without ";parameters" and without a ":5060" port. */
static size_t uri_core_len(const char *u)
{
    size_t n = strcspn(u, ";");

    if (n >= 5 && strncmp(u + n - 5, ":5060", 5) == 0)
        n -= 5;
    return n;
}

const hss_scscf_t *hss_ctx_scscf_by_name(const hss_ctx_t *ctx, const char *name)
{
    size_t n = uri_core_len(name);

    for (int i = 0; i < ctx->nscscfs; i++)
        if (strcmp(ctx->scscfs[i].name, name) == 0)
            return &ctx->scscfs[i];
    for (int i = 0; i < ctx->nscscfs; i++) {
        const char *s = ctx->scscfs[i].name;

        if (uri_core_len(s) == n && strncasecmp(s, name, n) == 0)
            return &ctx->scscfs[i];
    }
    return NULL;
}

static void set_name(char **slot, const char *name)
{
    if (*slot && name && strcmp(*slot, name) == 0)
        return;
    free(*slot);
    *slot = name && *name ? xstrdup(name) : NULL;
}

void hss_sub_set_scscf(hss_sub_t *sub, const char *name)
{
    set_name(&sub->scscf, name);
}

void hss_sub_set_pending(hss_sub_t *sub, const char *name)
{
    set_name(&sub->pending_scscf, name);
}
