/* SPDX-License-Identifier: BSD-2-Clause */
/* S-CSCF registrations in the store, and back (reg-store.h). */
#include "scscf/reg-store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ops/store.h"
#include "scscf/regevent.h"
#include "scscf/register-handler.h"

/* 1: contacts; 2: then the reg-event subscriptions (regevent.c). */
#define REC_VERSION 2
#define REC_OLDEST 1
#define MAX_URI 1024
#define MAX_PATH 2048
#define MAX_CID 512

/* ---- save ---- */

/* The value of scscf.reg for reg; *expires gets the latest contact expiry. */
static void encode_reg(const scscf_reg_t *reg, ims_kv_buf_t *b, uint64_t *expires)
{
    uint64_t mono = ims_clock_now_ms(), wall = ims_wall_ms();

    *expires = 0;
    ims_kv_buf_u8(b, REC_VERSION);
    ims_kv_buf_u8(b, reg->registered);
    ims_kv_buf_u8(b, reg->ncontacts);
    for (int i = 0; i < reg->ncontacts; i++) {
        const scscf_contact_t *c = &reg->contacts[i];
        uint64_t at = wall + (c->expires_at > mono ? c->expires_at - mono : 0);

        ims_kv_buf_str(b, c->uri);
        ims_kv_buf_str(b, c->path);
        ims_kv_buf_str(b, scscf_contact_call_id(c));
        ims_kv_buf_u32(b, c->cseq);
        ims_kv_buf_u64(b, at);
        if (at > *expires)
            *expires = at;
    }
    scscf_regevent_encode(reg, b);
}

/* With a shared store: IMPU -> IMPI, what another instance's read-through
 * starts from; the entries expire with the registration. */
static void index_impus(const scscf_reg_t *reg, uint64_t expires)
{
    for (int i = 0; reg->profile && i < reg->profile->nimpu; i++)
        ims_kv_put(reg->ctx->store, SCSCF_STORE_IMPU, reg->profile->impu[i], reg->impi,
                   strlen(reg->impi), expires);
}

int scscf_reg_store_save(scscf_reg_t *reg, const char *user_data, size_t len)
{
    ims_kv_t *kv = reg->ctx->store;
    ims_kv_buf_t b = { NULL, 0, 0 };
    uint64_t expires;
    int rc = IMS_OK;

    if (!kv)
        return IMS_OK;
    /* the profile first: a registration is never stored without one */
    if (user_data && ims_kv_put(kv, SCSCF_STORE_UD, reg->impi, user_data, len, 0) != IMS_OK)
        rc = IMS_ERROR;
    encode_reg(reg, &b, &expires);
    if (rc == IMS_OK && ims_kv_put(kv, SCSCF_STORE_REG, reg->impi, b.p, b.len, expires) != IMS_OK)
        rc = IMS_ERROR;
    if (rc == IMS_OK && reg->ctx->store_miss)
        index_impus(reg, expires);
    ims_kv_buf_free(&b);
    if (rc != IMS_OK)
        IMS_ERR("%s: registration not stored: it will not survive a restart", reg->impi);
    return rc;
}

/* The latest contact expiry (wall ms) of a stored scscf.reg value; 0 when
 * it has none or is malformed. */
static uint64_t stored_latest(const void *val, size_t len)
{
    char s[MAX_PATH];   /* the largest of the three strings */
    uint8_t ver, registered, n;
    uint64_t at, latest = 0;
    uint32_t cseq;
    ims_kv_rd_t rd;

    ims_kv_rd_init(&rd, val, len);
    if (ims_kv_rd_u8(&rd, &ver) || ver < REC_OLDEST || ver > REC_VERSION ||
        ims_kv_rd_u8(&rd, &registered) || ims_kv_rd_u8(&rd, &n))
        return 0;
    for (int i = 0; i < n; i++) {
        if (ims_kv_rd_str(&rd, s, sizeof(s)) || ims_kv_rd_str(&rd, s, sizeof(s)) ||
            ims_kv_rd_str(&rd, s, sizeof(s)) || ims_kv_rd_u32(&rd, &cseq) ||
            ims_kv_rd_u64(&rd, &at))
            return 0;
        if (at > latest)
            latest = at;
    }
    return latest;
}

/*
 * With a shared store, a copy read from it may run out here while the user
 * refreshed through another S-CSCF: every contact of ours has expired, yet
 * the stored record has one left (beyond a second of clock rounding). The
 * stored record is then the other instance's, and stays.
 */
static bool refreshed_elsewhere(const scscf_reg_t *reg)
{
    uint64_t now = ims_clock_now_ms();
    const void *v;
    size_t len;

    if (!reg->ctx->store_miss || reg->ncontacts == 0)
        return false;
    for (int i = 0; i < reg->ncontacts; i++)
        if (reg->contacts[i].expires_at > now)
            return false;
    v = ims_kv_get(reg->ctx->store, SCSCF_STORE_REG, reg->impi, &len);
    return v && stored_latest(v, len) > ims_wall_ms() + 1000;
}

/* The shared store's IMPU entries of reg, those still naming it. */
static void unindex_impus(const scscf_reg_t *reg)
{
    for (int i = 0; reg->profile && i < reg->profile->nimpu; i++) {
        size_t len;
        const char *v = ims_kv_get(reg->ctx->store, SCSCF_STORE_IMPU, reg->profile->impu[i],
                                   &len);

        if (v && len == strlen(reg->impi) && memcmp(v, reg->impi, len) == 0)
            ims_kv_del(reg->ctx->store, SCSCF_STORE_IMPU, reg->profile->impu[i]);
    }
}

void scscf_reg_store_forget(scscf_reg_t *reg)
{
    ims_kv_t *kv = reg->ctx->store;

    if (!kv)
        return;
    if (refreshed_elsewhere(reg)) {
        IMS_INFO("%s: expired here, refreshed through another S-CSCF: stored record kept",
                 reg->impi);
        return;
    }
    ims_kv_del(kv, SCSCF_STORE_REG, reg->impi);
    ims_kv_del(kv, SCSCF_STORE_UD, reg->impi);
    if (reg->ctx->store_miss)
        unindex_impus(reg);
}

/* ---- restore ---- */

/* Keys to delete once the walk is over (the store may not change during it). */
typedef struct restore {
    scscf_ctx_t *ctx;
    ims_kv_t *kv;
    uint64_t wall;
    size_t restored;
    char **gone;
    size_t ngone, capgone;
} restore_t;

static void gone_add(restore_t *r, const char *key)
{
    if (r->ngone == r->capgone) {
        r->capgone = r->capgone ? r->capgone * 2 : 64;
        if (!(r->gone = realloc(r->gone, r->capgone * sizeof(*r->gone))))
            abort();
    }
    if (!(r->gone[r->ngone++] = strdup(key)))
        abort();
}

/* Bind the stored contacts still valid; IMS_ERROR when the value is malformed. */
static int restore_contacts(restore_t *r, scscf_reg_t *reg, ims_kv_rd_t *rd, uint8_t *version)
{
    char uri[MAX_URI], path[MAX_PATH], cid[MAX_CID];
    uint8_t ver, registered, n;
    uint32_t cseq;
    uint64_t at;

    if (ims_kv_rd_u8(rd, &ver) || ver < REC_OLDEST || ver > REC_VERSION ||
        ims_kv_rd_u8(rd, &registered) || ims_kv_rd_u8(rd, &n) || n > SCSCF_MAX_CONTACTS)
        return IMS_ERROR;
    for (int i = 0; i < n; i++) {
        if (ims_kv_rd_str(rd, uri, sizeof(uri)) || ims_kv_rd_str(rd, path, sizeof(path)) ||
            ims_kv_rd_str(rd, cid, sizeof(cid)) || ims_kv_rd_u32(rd, &cseq) ||
            ims_kv_rd_u64(rd, &at) || !uri[0])
            return IMS_ERROR;
        if (at <= r->wall)
            continue;   /* expired while we were down */
        scscf_reg_bind(reg, uri, path[0] ? path : NULL, cid[0] ? cid : NULL, cseq,
                       (uint32_t)((at - r->wall + 999) / 1000));
    }
    *version = ver;
    return registered ? IMS_OK : IMS_ERROR;
}

bool scscf_reg_store_refreshed(scscf_reg_t *reg)
{
    restore_t r = { reg->ctx, reg->ctx->store, ims_wall_ms(), 0, NULL, 0, 0 };
    scscf_profile_t *p;
    const void *v, *ud;
    size_t len, udlen;
    ims_kv_rd_t rd;
    uint8_t ver;

    if (!refreshed_elsewhere(reg) || !(v = ims_kv_get(r.kv, SCSCF_STORE_REG, reg->impi, &len)))
        return false;
    /* the other instance's profile too: its SAA may have brought a new one */
    if ((ud = ims_kv_get(r.kv, SCSCF_STORE_UD, reg->impi, &udlen)) &&
        (p = scscf_user_data_parse(ud, udlen, NULL, 0)))
        scscf_reg_set_profile(reg, p);
    scscf_reg_drop_expired(reg, ims_clock_now_ms());
    ims_kv_rd_init(&rd, v, len);
    if (restore_contacts(&r, reg, &rd, &ver) != IMS_OK || reg->ncontacts == 0)
        return false;
    IMS_INFO("%s: expired here, refreshed through another S-CSCF: %d contact%s read from the "
             "store, no SAR", reg->impi, reg->ncontacts, reg->ncontacts == 1 ? "" : "s");
    return true;
}

static void restore_one(void *arg, const char *impi, const void *val, size_t len,
                        uint64_t expires_ms)
{
    restore_t *r = arg;
    const void *ud;
    scscf_profile_t *p;
    scscf_reg_t *reg;
    ims_kv_rd_t rd;
    size_t udlen;
    uint8_t ver;
    char err[96] = "no User-Data stored";

    (void)expires_ms;
    ud = ims_kv_get(r->kv, SCSCF_STORE_UD, impi, &udlen);
    if (!ud || !(p = scscf_user_data_parse(ud, udlen, err, sizeof(err)))) {
        IMS_WARN("store: %s not restored: %s", impi, err);
        gone_add(r, impi);
        return;
    }
    if (scscf_reg_find(r->ctx, impi)) {
        scscf_profile_free(p);
        return;
    }
    reg = scscf_reg_get(r->ctx, impi);
    scscf_reg_set_profile(reg, p);
    ims_kv_rd_init(&rd, val, len);
    if (restore_contacts(r, reg, &rd, &ver) != IMS_OK || reg->ncontacts == 0) {
        IMS_INFO("store: %s not restored (%s)", impi, reg->ncontacts ? "malformed" : "expired");
        scscf_reg_free(reg);
        gone_add(r, impi);
        return;
    }
    /* The subscriptions (record version 2): a malformed list costs them, not the user. */
    if (ver >= 2 && scscf_regevent_decode(reg, &rd, r->wall) != IMS_OK)
        IMS_WARN("store: %s: reg-event subscriptions not restored (malformed)", impi);
    scscf_reg_set_registered(reg);
    scscf_reg_arm_expiry(reg, scscf_on_reg_expiry);
    r->restored++;
}

/* A User-Data whose registration is gone (expired while we were down). */
static void orphan_ud(void *arg, const char *impi, const void *val, size_t len,
                      uint64_t expires_ms)
{
    restore_t *r = arg;
    size_t n;

    (void)val;
    (void)len;
    (void)expires_ms;
    if (!ims_kv_get(r->kv, SCSCF_STORE_REG, impi, &n))
        gone_add(r, impi);
}

size_t scscf_reg_store_restore(scscf_ctx_t *ctx, ims_kv_t *kv)
{
    restore_t r = { ctx, kv, ims_wall_ms(), 0, NULL, 0, 0 };

    ims_kv_foreach(kv, SCSCF_STORE_REG, restore_one, &r);
    /* Shared, a User-Data without its registration may be one that another
     * instance is writing right now (User-Data first): left alone. */
    if (!ctx->store_miss)
        ims_kv_foreach(kv, SCSCF_STORE_UD, orphan_ud, &r);
    for (size_t i = 0; i < r.ngone; i++) {
        ims_kv_del(kv, SCSCF_STORE_REG, r.gone[i]);
        ims_kv_del(kv, SCSCF_STORE_UD, r.gone[i]);
        free(r.gone[i]);
    }
    free(r.gone);
    return r.restored;
}

/* ---- read-through (shared store) ---- */

scscf_reg_t *scscf_reg_store_read_through(scscf_ctx_t *ctx, const char *impu)
{
    restore_t r = { ctx, ctx->store, ims_wall_ms(), 0, NULL, 0, 0 };
    char impi[MAX_URI];
    const void *v;
    size_t len;

    if (!ctx->store || !(v = ims_kv_get(ctx->store, SCSCF_STORE_IMPU, impu, &len)) || !len ||
        len >= sizeof(impi) || memchr(v, 0, len))
        return NULL;
    memcpy(impi, v, len);
    impi[len] = '\0';
    /* known here (registered, or in the middle of a challenge): ours rules */
    if (scscf_reg_find(ctx, impi))
        return NULL;
    if ((v = ims_kv_get(ctx->store, SCSCF_STORE_REG, impi, &len)))
        restore_one(&r, impi, v, len, 0);
    for (size_t i = 0; i < r.ngone; i++)   /* not ours to delete: only not used */
        free(r.gone[i]);
    free(r.gone);
    if (!r.restored)
        return NULL;
    IMS_INFO("%s: registered through another S-CSCF: read from the shared store for %s", impi,
             impu);
    return ims_hash_find(ctx->by_impu, impu);
}

/* ---- start / stop ---- */

/* A reg-event subscription changed (regevent.c): the record carries them. */
static void save_subs(scscf_reg_t *reg)
{
    if (reg->registered)
        scscf_reg_store_save(reg, NULL, 0);
}

int scscf_reg_store_start(scscf_ctx_t *ctx, ims_conf_t *conf)
{
    uint64_t t0 = ims_clock_real_us();
    ims_store_t st;
    size_t n;

    if (ims_store_start(ctx->loop, conf, "store", "scscf", &st) != IMS_OK)
        return IMS_ERROR;
    if (!st.kv)
        return IMS_OK;
    /* set before the restore, which leaves a shared store's orphans alone */
    ctx->store_miss = ims_store_shared(&st) ? scscf_reg_store_read_through : NULL;
    n = scscf_reg_store_restore(ctx, st.kv);
    ctx->store = st.kv;
    ctx->store_gone = scscf_reg_store_forget;
    ctx->store_subs = save_subs;
    ims_store_log_restore(&st, "scscf", n, "registrations", t0);
    return IMS_OK;
}

void scscf_reg_store_stop(scscf_ctx_t *ctx)
{
    ims_kv_close(ctx->store);
    ctx->store = NULL;
    ctx->store_gone = NULL;
    ctx->store_miss = NULL;
    ctx->store_subs = NULL;
}
