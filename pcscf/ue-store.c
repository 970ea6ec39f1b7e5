/* SPDX-License-Identifier: BSD-2-Clause */
/* P-CSCF registrations in the store, and back (ue-store.h). */
#include "pcscf/ue-store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ops/store.h"

#define UE_REC_VERSION 1
#define UE_STR_MAX (PCSCF_MAX_URI + 1)

void pcscf_store_save_ue(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    uint64_t mono = ims_clock_now_ms(), at;
    ims_kv_buf_t b = { NULL, 0, 0 };

    if (!ctx->store)
        return;
    at = ims_wall_ms() + (ue->expires_ms > mono ? ue->expires_ms - mono : 0);
    ims_kv_buf_u8(&b, UE_REC_VERSION);
    ims_kv_buf_str(&b, pcscf_ue_contact(ue));
    ims_kv_buf_u8(&b, ue->nimpu);
    for (size_t i = 0; i < ue->nimpu; i++)
        ims_kv_buf_str(&b, pcscf_ue_impu(ue, i));
    ims_kv_buf_u8(&b, ue->nroute);
    for (size_t i = 0; i < ue->nroute; i++)
        ims_kv_buf_str(&b, pcscf_ue_route(ue, i));
    ims_kv_buf_u64(&b, at);
    if (ims_kv_put(ctx->store, PCSCF_STORE_UE, pcscf_ue_key(ue), b.p, b.len, at) != IMS_OK)
        IMS_ERR("registration of %s from %s not stored: it will not survive a restart",
                pcscf_ue_impu(ue, 0), pcscf_ue_key(ue));
    ims_kv_buf_free(&b);
}

void pcscf_store_forget_ue(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    if (ctx->store)
        ims_kv_del(ctx->store, PCSCF_STORE_UE, pcscf_ue_key(ue));
}

/* The strings of one stored UE, decoded. */
typedef struct ue_rec {
    char contact[UE_STR_MAX];
    char impu[PCSCF_MAX_IMPU][UE_STR_MAX];
    char route[PCSCF_MAX_ROUTES][UE_STR_MAX];
    pcscf_reg_data_t d;
    uint64_t at;
} ue_rec_t;

static pcscf_str_t ue_slice(const char *s)
{
    return (pcscf_str_t){ s, strlen(s) };
}

static int ue_decode(const void *val, size_t len, ue_rec_t *u)
{
    ims_kv_rd_t rd;
    uint8_t ver, n;

    memset(&u->d, 0, sizeof(u->d));
    ims_kv_rd_init(&rd, val, len);
    if (ims_kv_rd_u8(&rd, &ver) || ver != UE_REC_VERSION ||
        ims_kv_rd_str(&rd, u->contact, sizeof(u->contact)) || ims_kv_rd_u8(&rd, &n) ||
        n == 0 || n > PCSCF_MAX_IMPU)
        return IMS_ERROR;
    u->d.contact = ue_slice(u->contact);
    for (size_t i = 0; i < n; i++) {
        if (ims_kv_rd_str(&rd, u->impu[i], sizeof(u->impu[i])))
            return IMS_ERROR;
        u->d.impu[u->d.nimpu++] = ue_slice(u->impu[i]);
    }
    if (ims_kv_rd_u8(&rd, &n) || n > PCSCF_MAX_ROUTES)
        return IMS_ERROR;
    for (size_t i = 0; i < n; i++) {
        if (ims_kv_rd_str(&rd, u->route[i], sizeof(u->route[i])))
            return IMS_ERROR;
        u->d.route[u->d.nroute++] = ue_slice(u->route[i]);
    }
    return ims_kv_rd_u64(&rd, &u->at);
}

typedef struct ue_restore {
    pcscf_ctx_t *ctx;
    uint64_t wall;
    size_t restored, bad;
    ue_rec_t rec;
} ue_restore_t;

static void ue_restore_one(void *arg, const char *key, const void *val, size_t len,
                        uint64_t expires_ms)
{
    ue_restore_t *r = arg;
    bool is_new;

    (void)expires_ms;
    if (ue_decode(val, len, &r->rec) != IMS_OK) {
        IMS_WARN("store: UE %s not restored: malformed record", key);
        r->bad++;
        return;
    }
    if (r->rec.at <= r->wall)
        return;
    if (!pcscf_ue_store(r->ctx, key, &r->rec.d, (uint32_t)((r->rec.at - r->wall + 999) / 1000),
                        &is_new)) {
        r->bad++;
        return;
    }
    r->restored++;
}

size_t pcscf_store_restore(pcscf_ctx_t *ctx, ims_kv_t *kv)
{
    ue_restore_t *r = calloc(1, sizeof(*r));   /* the record buffers are a few KB */
    size_t n;

    if (!r)
        abort();
    r->ctx = ctx;
    r->wall = ims_wall_ms();
    ims_kv_foreach(kv, PCSCF_STORE_UE, ue_restore_one, r);
    if (r->bad)
        IMS_WARN("store: %zu UEs not restored", r->bad);
    n = r->restored;
    free(r);
    return n;
}

/* With sec-agree the journal also holds the UEs' IPsec keys (table pcscf.sec,
 * pcscf/secagree-store.c): a journal made readable by others (by hand, or by
 * an older version) is made 0600 again; new ones are created so. */
static void store_private(ims_conf_t *conf)
{
    const char *path = NULL;
    struct stat st;

    if (ims_conf_str(conf, "store.journal", false, &path) != IMS_OK || !path ||
        stat(path, &st) != 0 || (st.st_mode & 077) == 0)
        return;
    if (chmod(path, 0600) == 0)
        IMS_NOTICE("store: %s was mode %03o; now 0600 (it holds IPsec keys)", path,
                   (unsigned)(st.st_mode & 0777));
    else
        IMS_WARN("store: %s is mode %03o and cannot be made 0600: others may read its keys",
                 path, (unsigned)(st.st_mode & 0777));
}

int pcscf_store_start(pcscf_ctx_t *ctx, ims_conf_t *conf)
{
    uint64_t t0 = ims_clock_real_us();
    ims_store_t st;
    size_t n;

    store_private(conf);
    if (ims_store_start(ctx->loop, conf, "store", "pcscf", &st) != IMS_OK)
        return IMS_ERROR;
    if (!st.kv)
        return IMS_OK;
    n = pcscf_store_restore(ctx, st.kv);
    ctx->store = st.kv;
    ctx->ue_saved_hook = pcscf_store_save_ue;
    ctx->ue_removed_hook = pcscf_store_forget_ue;
    ims_store_log_restore(&st, "pcscf", n, "UEs", t0);
    return IMS_OK;
}

void pcscf_store_stop(pcscf_ctx_t *ctx)
{
    ims_kv_close(ctx->store);
    ctx->store = NULL;
    ctx->ue_saved_hook = NULL;
    ctx->ue_removed_hook = NULL;
}
