/* SPDX-License-Identifier: BSD-2-Clause */
/* I-CSCF configuration and the requests in flight; keys: config/icscf.cfg. */
#include "icscf/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ops/uelog.h"
#include "common/sip/txn.h"

typedef struct ld {
    ims_conf_t *conf;
    char *err;
    size_t errlen;
} ld_t;

static int failed(ld_t *l)
{
    snprintf(l->err, l->errlen, "%s", ims_conf_error(l->conf));
    return IMS_ERROR;
}

static int str(ld_t *l, const char *key, bool req, const char **out)
{
    return ims_conf_str(l->conf, key, req, out) == IMS_ERROR ? failed(l) : IMS_OK;
}

static int u32(ld_t *l, const char *key, long long min, long long max, uint32_t *out)
{
    long long v;
    int rc = ims_conf_int(l->conf, key, false, min, max, &v);

    if (rc == IMS_ERROR)
        return failed(l);
    if (rc == IMS_OK)
        *out = (uint32_t)v;
    return IMS_OK;
}

/* icscf.scscfs = ( { uri = "sip:..."; capabilities = [ 1, 2 ]; }, ... ) and
 * icscf.default_scscf, into out (strings borrowed from conf). */
static int load_scscfs(ld_t *l, icscf_scscf_list_t *out)
{
    char key[96];
    size_t n, nc;

    memset(out, 0, sizeof(*out));
    if (str(l, "icscf.default_scscf", false, &out->default_scscf) != IMS_OK)
        return IMS_ERROR;
    if (ims_conf_list_len(l->conf, "icscf.scscfs", &n) != IMS_OK)
        return failed(l);
    if (n > ICSCF_MAX_SCSCF) {
        snprintf(l->err, l->errlen, "%s: icscf.scscfs: at most %d S-CSCFs", ims_conf_path(l->conf),
                 ICSCF_MAX_SCSCF);
        return IMS_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        icscf_scscf_t *s = &out->scscfs[out->nscscfs++];

        s->ncaps = 0;
        snprintf(key, sizeof(key), "icscf.scscfs.[%zu].uri", i);
        if (str(l, key, true, &s->uri) != IMS_OK)
            return IMS_ERROR;
        snprintf(key, sizeof(key), "icscf.scscfs.[%zu].capabilities", i);
        if (ims_conf_list_len(l->conf, key, &nc) != IMS_OK)
            return failed(l);
        if (nc > CX_MAX_CAPS) {
            snprintf(l->err, l->errlen, "%s: %s: at most %d capabilities", ims_conf_path(l->conf),
                     key, CX_MAX_CAPS);
            return IMS_ERROR;
        }
        for (size_t j = 0; j < nc; j++) {
            char ck[160];

            snprintf(ck, sizeof(ck), "%s.[%zu]", key, j);
            if (u32(l, ck, 0, UINT32_MAX, &s->caps[s->ncaps++]) != IMS_OK)
                return IMS_ERROR;
        }
    }
    if (!out->default_scscf && out->nscscfs == 0) {
        snprintf(l->err, l->errlen, "%s: icscf: neither default_scscf nor scscfs is set",
                 ims_conf_path(l->conf));
        return IMS_ERROR;
    }
    return IMS_OK;
}

int icscf_scscfs_load(ims_conf_t *conf, icscf_scscf_list_t *out, char *err, size_t errlen)
{
    ld_t l = { conf, err, errlen };

    return load_scscfs(&l, out);
}

static bool same_scscf(const icscf_scscf_t *a, const icscf_scscf_t *b)
{
    return strcmp(a->uri, b->uri) == 0 && a->ncaps == b->ncaps &&
           memcmp(a->caps, b->caps, (size_t)a->ncaps * sizeof(a->caps[0])) == 0;
}

static bool same_list(const icscf_ctx_t *ctx, const icscf_scscf_list_t *l)
{
    if (ctx->nscscfs != l->nscscfs || !ctx->default_scscf != !l->default_scscf ||
        (l->default_scscf && strcmp(ctx->default_scscf, l->default_scscf) != 0))
        return false;
    for (int i = 0; i < l->nscscfs; i++)
        if (!same_scscf(&ctx->scscfs[i], &l->scscfs[i]))
            return false;
    return true;
}

bool icscf_scscfs_apply(icscf_ctx_t *ctx, const icscf_scscf_list_t *l)
{
    size_t len = l->default_scscf ? strlen(l->default_scscf) + 1 : 0;
    char *strs, *p;

    if (ctx->scscf_strs && same_list(ctx, l))
        return false;
    for (int i = 0; i < l->nscscfs; i++)
        len += strlen(l->scscfs[i].uri) + 1;
    if (!(strs = p = malloc(len + 1)))
        abort();
    /* the old strings stay until here: l may be the context's own list */
    for (int i = 0; i < l->nscscfs; i++) {
        ctx->scscfs[i] = l->scscfs[i];
        ctx->scscfs[i].uri = memcpy(p, l->scscfs[i].uri, strlen(l->scscfs[i].uri) + 1);
        p += strlen(p) + 1;
    }
    ctx->nscscfs = l->nscscfs;
    ctx->default_scscf = l->default_scscf ? memcpy(p, l->default_scscf,
                                                    strlen(l->default_scscf) + 1) : NULL;
    free(ctx->scscf_strs);
    ctx->scscf_strs = strs;
    return true;
}

static int load(ld_t *l, icscf_ctx_t *ctx)
{
    int rc;

    icscf_scscf_list_t list;

    if (str(l, "icscf.home_domain", true, &ctx->home_domain) != IMS_OK ||
        str(l, "icscf.hss_realm", false, &ctx->hss_realm) != IMS_OK ||
        str(l, "icscf.hss_host", false, &ctx->hss_host) != IMS_OK ||
        u32(l, "icscf.retry_after", 0, 86400, &ctx->retry_after_s) != IMS_OK ||
        u32(l, "icscf.scscf_timeout_ms", 100, 600000, &ctx->scscf_timeout_ms) != IMS_OK ||
        u32(l, "icscf.scscf_attempts", 1, ICSCF_MAX_ATTEMPTS, &ctx->scscf_attempts) != IMS_OK ||
        load_scscfs(l, &list) != IMS_OK)
        return IMS_ERROR;
    icscf_scscfs_apply(ctx, &list);
    rc = dia_conf_load(l->conf, "diameter", &ctx->dia, l->err, l->errlen);
    if (rc == IMS_DECLINED)
        snprintf(l->err, l->errlen, "%s: the I-CSCF needs a diameter group (the HSS peer)",
                 ims_conf_path(l->conf));
    if (rc != IMS_OK)
        return IMS_ERROR;
    if (!ctx->hss_realm)
        ctx->hss_realm = ctx->dia.node.origin_realm;
    return IMS_OK;
}

int icscf_ctx_load(ims_conf_t *conf, icscf_ctx_t **out, char *err, size_t errlen)
{
    ld_t l = { conf, err, errlen };
    icscf_ctx_t *ctx;
    size_t n = 0;

    *out = NULL;
    if (!conf)
        return IMS_DECLINED;
    if (ims_conf_list_len(conf, "icscf", &n) != IMS_OK)
        return failed(&l);
    if (n == 0)
        return IMS_DECLINED;
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        abort();
    ctx->conf = conf;
    ctx->retry_after_s = 30;
    ctx->scscf_timeout_ms = 10000;
    ctx->scscf_attempts = 2;
    if (load(&l, ctx) != IMS_OK) {
        free(ctx);
        return IMS_ERROR;
    }
    *out = ctx;
    return IMS_OK;
}

void icscf_ctx_free(icscf_ctx_t *ctx)
{
    if (!ctx)
        return;
    while (ctx->regs)
        icscf_reg_free(ctx->regs);
    while (ctx->lirs)
        icscf_lir_free(ctx->lirs);
    ims_uelog_free(ctx->uelog);
    free(ctx->scscf_strs);
    free(ctx);
}

icscf_reg_t *icscf_reg_new(icscf_ctx_t *ctx, uint64_t pr_id)
{
    icscf_reg_t *reg = calloc(1, sizeof(*reg));

    if (!reg)
        abort();
    reg->ctx = ctx;
    reg->pr_id = pr_id;
    ims_timer_init(&reg->attempt_timer);
    reg->next = ctx->regs;
    if (ctx->regs)
        ctx->regs->prev = reg;
    ctx->regs = reg;
    ctx->nregs++;
    return reg;
}

void icscf_reg_free(icscf_reg_t *reg)
{
    icscf_ctx_t *ctx = reg->ctx;

    if (ctx->loop)
        ims_timer_stop(ctx->loop, &reg->attempt_timer);
    if (reg->ct)
        sip_txn_client_detach(reg->ct);
    if (reg->prev)
        reg->prev->next = reg->next;
    else
        ctx->regs = reg->next;
    if (reg->next)
        reg->next->prev = reg->prev;
    ctx->nregs--;
    free(reg);
}

icscf_lir_t *icscf_lir_new(icscf_ctx_t *ctx, uint64_t pr_id)
{
    icscf_lir_t *lir = calloc(1, sizeof(*lir));

    if (!lir)
        abort();
    lir->ctx = ctx;
    lir->pr_id = pr_id;
    lir->next = ctx->lirs;
    if (ctx->lirs)
        ctx->lirs->prev = lir;
    ctx->lirs = lir;
    ctx->nlirs++;
    return lir;
}

void icscf_lir_free(icscf_lir_t *lir)
{
    icscf_ctx_t *ctx = lir->ctx;

    if (lir->prev)
        lir->prev->next = lir->next;
    else
        ctx->lirs = lir->next;
    if (lir->next)
        lir->next->prev = lir->prev;
    ctx->nlirs--;
    free(lir);
}

sip_proxy_req_t *icscf_req_resume(icscf_ctx_t *ctx, uint64_t pr_id)
{
    sip_proxy_req_t *pr = sip_proxy_req_find(sip_node_proxy(ctx->node), pr_id);
    const sip_msg_t *req = pr ? sip_proxy_req_msg(pr) : NULL;

    if (!req)
        return NULL;
    if (ims_log_get_level() >= IMS_LOG_INFO)
        ims_log_ctx_set(sip_msg_call_id(req));
    return pr;
}
