/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/context.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/core/slab.h"

pcscf_ctx_t *pcscf_ctx_new(ims_loop_t *loop)
{
    pcscf_ctx_t *ctx = calloc(1, sizeof(*ctx));

    if (!ctx)
        abort();
    ctx->loop = loop;
    ctx->cfg.name = "pcscf";
    ctx->cfg.reg_event = true;
    ctx->cfg.enforce_service_route = true;
    ctx->cfg.subscribe_expires = 600000;
    ctx->cfg.max_ues = 1000000;
    ctx->by_addr = ims_hash_new(1024);
    ctx->by_impu = ims_hash_new(1024);
    ctx->by_sub = ims_hash_new(1024);
    if (!ctx->by_addr || !ctx->by_impu || !ctx->by_sub)
        abort();
    /* UEs and their index entries live for a registration: the store pool. */
    ims_hash_set_store(ctx->by_addr);
    ims_hash_set_store(ctx->by_impu);
    ims_hash_set_store(ctx->by_sub);
    pcscf_ctx_configured(ctx);
    return ctx;
}

void pcscf_ctx_configured(pcscf_ctx_t *ctx)
{
    snprintf(ctx->path, sizeof(ctx->path), "<sip:term@%s;lr>", ctx->cfg.name);
}

static void free_ue(void *arg, const char *key, void *value)
{
    pcscf_ctx_t *ctx = arg;
    pcscf_ue_t *ue = value;

    if (ctx->loop)
        ims_timer_stop(ctx->loop, &ue->expiry);
    ims_store_free(ue->strs);
    ims_store_free(ue);
}

void pcscf_ctx_free(pcscf_ctx_t *ctx)
{
    if (!ctx)
        return;
    if (ctx->free_hook)
        ctx->free_hook(ctx);  /* dialogs point at UEs: they go first */
    if (ctx->sec_hooks)
        ctx->sec_hooks->free(ctx);
    ims_hash_foreach(ctx->by_addr, free_ue, ctx);
    ims_hash_free(ctx->by_addr);
    ims_hash_free(ctx->by_impu);
    ims_hash_free(ctx->by_sub);
    if (ctx->icscf_uri)
        osip_uri_free(ctx->icscf_uri);
    free(ctx);
}

/* On every message from a UE: no snprintf (see common/sip/msg_print.c). */
const char *pcscf_addr_key(const sip_rcv_t *rcv, char *buf, size_t len)
{
    if (len < 3)
        return len ? (buf[0] = '\0', buf) : buf;
    buf[0] = rcv->proto == SIP_PROTO_UDP ? 'u' : 't';
    buf[1] = ':';
    sip_addr_str(&rcv->remote, buf + 2, len - 2);
    return buf;
}

pcscf_ue_t *pcscf_ue_find_addr(const pcscf_ctx_t *ctx, const char *key)
{
    return ims_hash_find(ctx->by_addr, key);
}

pcscf_ue_t *pcscf_ue_find_impu(const pcscf_ctx_t *ctx, const char *impu)
{
    return ims_hash_find(ctx->by_impu, impu);
}

pcscf_ue_t *pcscf_ue_find_sub(const pcscf_ctx_t *ctx, const char *call_id)
{
    return call_id ? ims_hash_find(ctx->by_sub, call_id) : NULL;
}

size_t pcscf_ue_count(const pcscf_ctx_t *ctx)
{
    return ims_hash_count(ctx->by_addr);
}

/* The i-th NUL-terminated string of the blob (0: key, 1: contact, then IMPUs, routes). */
static const char *blob_str(const pcscf_ue_t *ue, size_t i)
{
    const char *s = ue->strs;

    while (i--)
        s += strlen(s) + 1;
    return s;
}

const char *pcscf_ue_key(const pcscf_ue_t *ue)
{
    return ue->strs;
}

const char *pcscf_ue_contact(const pcscf_ue_t *ue)
{
    return blob_str(ue, 1);
}

const char *pcscf_ue_impu(const pcscf_ue_t *ue, size_t i)
{
    return i < ue->nimpu ? blob_str(ue, 2 + i) : NULL;
}

const char *pcscf_ue_route(const pcscf_ue_t *ue, size_t i)
{
    return i < ue->nroute ? blob_str(ue, 2 + ue->nimpu + i) : NULL;
}

/* One allocation holding key, contact, IMPUs and routes, NUL-separated. */
static char *make_blob(const char *key, const pcscf_reg_data_t *d)
{
    size_t klen = strlen(key), len = klen + 1 + d->contact.n + 1;
    char *b, *p;

    for (size_t i = 0; i < d->nimpu; i++)
        len += d->impu[i].n + 1;
    for (size_t i = 0; i < d->nroute; i++)
        len += d->route[i].n + 1;
    if (!(b = ims_store_alloc(len)))
        abort();
    p = b;
    memcpy(p, key, klen + 1);
    p += klen + 1;
#define PUT(s)                                                                                 \
    do {                                                                                       \
        memcpy(p, (s).p, (s).n);                                                               \
        p[(s).n] = '\0';                                                                       \
        p += (s).n + 1;                                                                        \
    } while (0)
    PUT(d->contact);
    for (size_t i = 0; i < d->nimpu; i++)
        PUT(d->impu[i]);
    for (size_t i = 0; i < d->nroute; i++)
        PUT(d->route[i]);
#undef PUT
    return b;
}

static void index_impu(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    const char *impu = pcscf_ue_impu(ue, 0);

    /* The newest registration of an identity wins (a UE that moved). */
    if (ims_hash_find(ctx->by_impu, impu) != ue) {
        ims_hash_remove(ctx->by_impu, impu);
        if (ims_hash_insert(ctx->by_impu, impu, ue) == IMS_ERROR)
            abort();
    }
}

static void unindex_impu(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    const char *impu = pcscf_ue_impu(ue, 0);

    if (impu && ims_hash_find(ctx->by_impu, impu) == ue)
        ims_hash_remove(ctx->by_impu, impu);
}

/* ue's blob with key in place of its address key; re-indexed under key. */
static void rename_ue(pcscf_ctx_t *ctx, pcscf_ue_t *ue, const char *key)
{
    const char *rest = blob_str(ue, 1), *end = blob_str(ue, 2 + (size_t)ue->nimpu + ue->nroute);
    size_t klen = strlen(key), n = (size_t)(end - rest);
    char *b = ims_store_alloc(klen + 1 + n);

    if (!b)
        abort();
    memcpy(b, key, klen + 1);
    memcpy(b + klen + 1, rest, n);
    ims_hash_remove(ctx->by_addr, pcscf_ue_key(ue));
    ims_store_free(ue->strs);
    ue->strs = b;
    if (ims_hash_insert(ctx->by_addr, key, ue) != IMS_OK)
        abort();
}

pcscf_ue_t *pcscf_ue_moved(pcscf_ctx_t *ctx, const char *key)
{
    char old[PCSCF_KEY_LEN];
    pcscf_ue_t *ue;

    if (!ctx->sec_hooks || !ctx->sec_hooks->moved_from || ims_hash_find(ctx->by_addr, key) ||
        !ctx->sec_hooks->moved_from(ctx, key, old, sizeof(old)))
        return NULL;
    if (!(ue = ims_hash_find(ctx->by_addr, old))) {
        old[0] = old[0] == 'u' ? 't' : 'u';     /* it registered over the other transport */
        if (!(ue = ims_hash_find(ctx->by_addr, old)))
            return NULL;
    }
    IMS_INFO("registration of %s moves from %s to %s (new SAs)", pcscf_ue_impu(ue, 0), old,
             key);
    if (ctx->policy_hooks)
        ctx->policy_hooks->ue_gone(ctx, ue);    /* authorised again for the new address */
    if (ctx->ue_removed_hook)
        ctx->ue_removed_hook(ctx, ue);
    rename_ue(ctx, ue, key);
    return ue;
}

static void on_expiry(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    pcscf_ue_t *ue = arg;
    pcscf_ctx_t *ctx = ue->ctx;

    IMS_INFO("registration of %s from %s expired", pcscf_ue_impu(ue, 0), pcscf_ue_key(ue));
    ctx->stats.expired++;
    pcscf_ue_remove(ctx, ue);
}

pcscf_ue_t *pcscf_ue_store(pcscf_ctx_t *ctx, const char *key, const pcscf_reg_data_t *d,
                           uint32_t expires, bool *is_new)
{
    pcscf_ue_t *ue;

    if (d->nimpu == 0 || d->nimpu > PCSCF_MAX_IMPU || d->nroute > PCSCF_MAX_ROUTES) {
        *is_new = ims_hash_find(ctx->by_addr, key) == NULL;
        return NULL;
    }
    if (!(ue = ims_hash_find(ctx->by_addr, key)))
        ue = pcscf_ue_moved(ctx, key);
    *is_new = ue == NULL;
    if (!ue) {
        if (ims_hash_count(ctx->by_addr) >= ctx->cfg.max_ues)
            return NULL;
        if (!(ue = ims_store_calloc(1, sizeof(*ue))))
            abort();
        ue->ctx = ctx;
        ims_timer_init(&ue->expiry);
        if (ims_hash_insert(ctx->by_addr, key, ue) != IMS_OK)
            abort();
    } else {
        unindex_impu(ctx, ue);
        ims_store_free(ue->strs);
    }
    ue->strs = make_blob(key, d);
    ue->nimpu = (uint8_t)d->nimpu;
    ue->nroute = (uint8_t)d->nroute;
    index_impu(ctx, ue);
    ue->expires_ms = ims_clock_now_ms() + (uint64_t)expires * 1000;
    if (ctx->loop)
        ims_timer_start(ctx->loop, &ue->expiry, (uint64_t)expires * 1000, on_expiry, ue);
    if (ctx->ue_saved_hook)
        ctx->ue_saved_hook(ctx, ue);
    return ue;
}

const char *pcscf_ue_new_sub(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    pcscf_ue_end_sub(ctx, ue);
    do
        sip_random_token(ue->sub_cid, PCSCF_CID_LEN);
    while (ims_hash_insert(ctx->by_sub, ue->sub_cid, ue) == IMS_DECLINED);
    ue->sub_state = PCSCF_SUB_PENDING;
    ue->sub_expires_ms = 0;
    return ue->sub_cid;
}

void pcscf_ue_end_sub(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    if (ue->sub_cid[0] && ims_hash_find(ctx->by_sub, ue->sub_cid) == ue)
        ims_hash_remove(ctx->by_sub, ue->sub_cid);
    ue->sub_cid[0] = '\0';
    ue->sub_state = PCSCF_SUB_NONE;
    ue->sub_expires_ms = 0;
}

void pcscf_ue_remove(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    /* A registration that ends takes its calls with it (TS 24.229 §5.2.8.1.2). */
    if (ue->dialogs && ctx->ue_gone_hook)
        ctx->ue_gone_hook(ctx, ue);
    /* Its SAs retire; they carry the final response being sent (secagree.h). */
    if (ctx->sec_hooks)
        ctx->sec_hooks->ue_gone(ctx, ue);
    if (ctx->policy_hooks)
        ctx->policy_hooks->ue_gone(ctx, ue);
    if (ctx->ue_removed_hook)
        ctx->ue_removed_hook(ctx, ue);
    if (ctx->loop)
        ims_timer_stop(ctx->loop, &ue->expiry);
    pcscf_ue_end_sub(ctx, ue);
    unindex_impu(ctx, ue);
    ims_hash_remove(ctx->by_addr, pcscf_ue_key(ue));
    ims_store_free(ue->strs);
    ims_store_free(ue);
}

bool pcscf_is_trusted(const pcscf_ctx_t *ctx, const sip_rcv_t *rcv)
{
    return sip_trust_has(&ctx->cfg.trusted, rcv);
}
