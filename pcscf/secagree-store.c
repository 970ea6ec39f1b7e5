/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sec-agree sets that survive a restart of the P-CSCF (issue 6): a UE the
 * journal restores (pcscf/ue-store.c) keeps calling over the SAs it has, so
 * its set must come back with it, and the kernel must still hold its SAs.
 *
 * Table pcscf.sec of ctx->store, keyed like pcscf.ue by the UE's address key,
 * holds the set of each registered UE: both addresses, the algorithms, the
 * four SPIs and ports, and CK/IK. It is written when a REGISTER's 2xx makes
 * the set ACTIVE (first registration, refresh, rotation) with the
 * registration's expiry, and deleted when the UE goes.
 *
 * Why the keys are stored: when the kernel lost the SAs (an `ip xfrm state
 * flush`, a new network namespace) they are installed again from them. The
 * journal therefore holds keys, and is created 0600 (common/ops/journal.c);
 * ue-store.c tightens an existing one. After a SIGKILL the kernel still has
 * the SAs, with their sequence numbers and replay windows: an add answered
 * EEXIST keeps them as they are.
 *
 * At start (the loop's first turn, after the journal's UEs are back):
 * every record whose UE was restored becomes an ACTIVE set (its SPIs and
 * ports reserved, its protected ports opened, the UE heard over the SAs
 * only); records of UEs whose registration expired during the outage are
 * ignored (they expire from the journal). Then the sweep removes every SA
 * tagged with our owner and in our SPI range (ours: spi_pc/spi_ps; or with a
 * reqid in it: the SAs toward the UE carry the UE's SPIs but our reqid) and
 * every policy with our tag that belongs to no set. Entries without our tag
 * (other tools, other daemons) are never touched.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/auth/digest.h"
#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ops/journal.h"
#include "pcscf/secagree-int.h"

#define SEC_REC_VERSION 1
#define SEC_ADDR_MAX 64

/* ---- the record ---- */

static void addr_text(const ims_xfrm_addr_t *a, char *buf, size_t len)
{
    if (!inet_ntop(a->family, &a->u, buf, (socklen_t)len))
        buf[0] = '\0';
}

void pcscf_sec_store_save(pcscf_ctx_t *ctx, const pcscf_sec_set_t *t, const char *ue_key,
                          uint32_t expires)
{
    char ue[SEC_ADDR_MAX], us[SEC_ADDR_MAX], ck[33], ik[33];
    ims_kv_buf_t b = { NULL, 0, 0 };
    const uint32_t v[8] = { t->spi_uc, t->spi_us, t->spi_pc, t->spi_ps,
                            t->port_uc, t->port_us, t->port_pc, t->port_ps };
    uint64_t at = ims_wall_ms() + (uint64_t)expires * 1000;

    if (!ctx->store || !t->have_keys)
        return;
    addr_text(&t->ue, ue, sizeof(ue));
    addr_text(&t->us, us, sizeof(us));
    if (ims_auth_hex_encode(t->ck, 16, ck, sizeof(ck)) != IMS_OK ||
        ims_auth_hex_encode(t->ik, 16, ik, sizeof(ik)) != IMS_OK)
        return;
    ims_kv_buf_u8(&b, SEC_REC_VERSION);
    ims_kv_buf_str(&b, ue);
    ims_kv_buf_str(&b, us);
    ims_kv_buf_u8(&b, (uint8_t)t->alg);
    ims_kv_buf_u8(&b, (uint8_t)t->ealg);
    for (size_t i = 0; i < IMS_ARRAY_LEN(v); i++)
        ims_kv_buf_u32(&b, v[i]);
    ims_kv_buf_str(&b, ck);
    ims_kv_buf_str(&b, ik);
    if (ims_kv_put(ctx->store, PCSCF_STORE_SEC, ue_key, b.p, b.len, at) != IMS_OK)
        IMS_ERR("sec-agree: SAs spi %u/%u of %s not stored: lost at a restart", t->spi_pc,
                t->spi_ps, ue_key);
    explicit_bzero(ck, sizeof(ck));
    explicit_bzero(ik, sizeof(ik));
    explicit_bzero(b.p, b.len);
    ims_kv_buf_free(&b);
}

void pcscf_sec_store_forget(pcscf_ctx_t *ctx, const char *ue_key)
{
    if (ctx->store)
        ims_kv_del(ctx->store, PCSCF_STORE_SEC, ue_key);
}

/* Decode val into t's parameters and keys. IMS_OK or IMS_ERROR. */
static int sec_decode(const void *val, size_t len, pcscf_sec_set_t *t)
{
    char ue[SEC_ADDR_MAX], us[SEC_ADDR_MAX], ck[40], ik[40];
    uint32_t v[8];
    uint8_t ver, alg, ealg;
    size_t n1 = 0, n2 = 0;
    ims_kv_rd_t rd;
    int rc = IMS_ERROR;

    ims_kv_rd_init(&rd, val, len);
    if (ims_kv_rd_u8(&rd, &ver) || ver != SEC_REC_VERSION ||
        ims_kv_rd_str(&rd, ue, sizeof(ue)) || ims_kv_rd_str(&rd, us, sizeof(us)) ||
        ims_kv_rd_u8(&rd, &alg) || ims_kv_rd_u8(&rd, &ealg))
        return IMS_ERROR;
    for (size_t i = 0; i < IMS_ARRAY_LEN(v); i++)
        if (ims_kv_rd_u32(&rd, &v[i]) || (i >= 4 && (v[i] == 0 || v[i] > 65535)))
            return IMS_ERROR;
    if (ims_kv_rd_str(&rd, ck, sizeof(ck)) == IMS_OK &&
        ims_kv_rd_str(&rd, ik, sizeof(ik)) == IMS_OK &&
        ims_xfrm_addr_parse(&t->ue, ue) == IMS_OK && ims_xfrm_addr_parse(&t->us, us) == IMS_OK &&
        t->ue.family == t->us.family &&
        ims_auth_hex_decode(ck, strlen(ck), t->ck, 16, &n1) == IMS_OK && n1 == 16 &&
        ims_auth_hex_decode(ik, strlen(ik), t->ik, 16, &n2) == IMS_OK && n2 == 16 &&
        ims_ipsec_alg_key_len((sec_agree_alg_t)alg) > 0 &&
        ims_ipsec_ealg_key_len((sec_agree_ealg_t)ealg) >= 0)
        rc = IMS_OK;
    explicit_bzero(ck, sizeof(ck));
    explicit_bzero(ik, sizeof(ik));
    if (rc != IMS_OK)
        return IMS_ERROR;
    t->alg = (sec_agree_alg_t)alg;
    t->ealg = (sec_agree_ealg_t)ealg;
    t->spi_uc = v[0], t->spi_us = v[1], t->spi_pc = v[2], t->spi_ps = v[3];
    t->port_uc = (uint16_t)v[4], t->port_us = (uint16_t)v[5];
    t->port_pc = (uint16_t)v[6], t->port_ps = (uint16_t)v[7];
    t->have_keys = true;
    return IMS_OK;
}

/* ---- restore ---- */

typedef struct sec_restore {
    pcscf_secagree_t *s;
    size_t restored, gone, bad;
} sec_restore_t;

/* t (decoded, in s->all) becomes the ACTIVE set of ue again. IMS_OK, or
 * IMS_ERROR (logged; the caller destroys t). */
static int sec_revive(pcscf_sec_set_t *t, pcscf_ue_t *ue, const char *key)
{
    pcscf_secagree_t *s = t->s;
    uint64_t now = ims_clock_now_ms();

    if (ipsec_alloc_reserve_spi_pair(s->alloc, t->spi_pc, t->spi_ps) != IMS_OK) {
        IMS_WARN("sec-agree: %s: SPIs %u/%u out of pcscf.ipsec's range or taken", key,
                 t->spi_pc, t->spi_ps);
        return IMS_ERROR;
    }
    if (ipsec_alloc_reserve_port_pair(s->alloc, t->port_pc, t->port_ps) != IMS_OK) {
        ipsec_alloc_release_spi_pair(s->alloc, t->spi_pc, t->spi_ps);
        IMS_WARN("sec-agree: %s: ports %u/%u out of pcscf.ipsec's range or taken", key,
                 t->port_pc, t->port_ps);
        return IMS_ERROR;
    }
    t->ids = true;
    pcscf_sec_set_index(t, key + 2);
    if (pcscf_sec_set_install(t, true) != IMS_OK) {
        IMS_WARN("sec-agree: %s: SAs spi %u/%u not restored: %s", key, t->spi_pc, t->spi_ps,
                 ims_xfrm_error(s->x));
        return IMS_ERROR;
    }
    pcscf_sec_set_state(t, PCSCF_SEC_ACTIVE,
                        (ue->expires_ms > now ? ue->expires_ms - now : 0) + s->cfg.await_ms);
    ue->ipsec = true;
    return IMS_OK;
}

static void sec_restore_one(void *arg, const char *key, const void *val, size_t len,
                            uint64_t expires_ms)
{
    sec_restore_t *r = arg;
    pcscf_ue_t *ue = pcscf_ue_find_addr(r->s->ctx, key);
    pcscf_sec_set_t *t;

    (void)expires_ms;
    if (!ue || strlen(key) < 3 || ims_hash_find(r->s->sets, key + 2)) {
        r->gone++;              /* expired during the outage: its SAs are swept */
        return;
    }
    t = pcscf_sec_set_new(r->s);
    if (sec_decode(val, len, t) != IMS_OK) {
        IMS_WARN("sec-agree: the stored SAs of %s are malformed: not restored", key);
        r->bad++;
        pcscf_sec_set_destroy(t);
        return;
    }
    if (sec_revive(t, ue, key) != IMS_OK) {
        r->bad++;
        pcscf_sec_set_destroy(t);
        return;
    }
    r->restored++;
}

void pcscf_sec_store_restore(pcscf_secagree_t *s)
{
    sec_restore_t r = { .s = s };
    pcscf_ctx_t *ctx = s->ctx;

    if (s->started)
        return;
    s->started = true;
    if (ctx && ctx->store) {
        s->persist = true;
        ims_kv_foreach(ctx->store, PCSCF_STORE_SEC, sec_restore_one, &r);
        IMS_NOTICE("sec-agree: %zu UEs' SAs restored (%zu of UEs no longer registered, %zu"
                   " unusable)", r.restored, r.gone, r.bad);
    }
    pcscf_secagree_sweep(s);
}

/* ---- the sweep ---- */

/* What the dumps found that is ours and belongs to no set: deleted after the
 * dump (the socket is busy during it). */
typedef struct sweep {
    pcscf_secagree_t *s;
    ims_hash_t *live;           /* "%u" reqid (= spi_ps) of every set */
    ims_xfrm_sa_t *sa;
    ims_xfrm_policy_t *pol;
    size_t nsa, npol, capsa, cappol;
} sweep_t;

static bool sweep_live(const sweep_t *w, uint32_t reqid)
{
    char k[16];

    snprintf(k, sizeof(k), "%u", reqid);
    return ims_hash_find(w->live, k) != NULL;
}

static void *sweep_grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : 32;
    if (!(v = realloc(v, *cap * size)))
        abort();
    return v;
}

static int sweep_sa(void *arg, const ims_xfrm_sa_t *sa)
{
    sweep_t *w = arg;
    const pcscf_sec_cfg_t *c = &w->s->cfg;
    bool in_range = (sa->spi >= c->spi_min && sa->spi <= c->spi_max) ||
                    (sa->reqid >= c->spi_min && sa->reqid <= c->spi_max);

    if (sa->sel.owner != PCSCF_SEC_OWNER || !in_range || sweep_live(w, sa->reqid))
        return IMS_OK;
    w->sa = sweep_grow(w->sa, &w->capsa, w->nsa, sizeof(*w->sa));
    w->sa[w->nsa++] = *sa;
    return IMS_OK;
}

static int sweep_policy(void *arg, const ims_xfrm_policy_t *p)
{
    sweep_t *w = arg;

    if (p->sel.owner != PCSCF_SEC_OWNER || sweep_live(w, p->reqid))
        return IMS_OK;
    w->pol = sweep_grow(w->pol, &w->cappol, w->npol, sizeof(*w->pol));
    w->pol[w->npol++] = *p;
    return IMS_OK;
}

/* Delete what the dumps collected; returns how many went. */
static unsigned sweep_delete(sweep_t *w, unsigned *pols)
{
    pcscf_secagree_t *s = w->s;
    unsigned sas = 0;

    *pols = 0;
    for (size_t i = 0; i < w->npol; i++)
        if (ims_xfrm_policy_del(s->x, &w->pol[i]) == IMS_OK)
            (*pols)++;
    for (size_t i = 0; i < w->nsa; i++)
        if (s->ops.sa_del(s->ops_arg, s->x, &w->sa[i].sel.dst, w->sa[i].spi) == IMS_OK)
            sas++;
    return sas;
}

void pcscf_secagree_sweep(pcscf_secagree_t *s)
{
    sweep_t w = { .s = s, .live = ims_hash_new(64) };
    unsigned sas, pols;
    char k[16];

    if (!w.live)
        abort();
    for (pcscf_sec_set_t *t = s->all; t; t = t->next) {
        snprintf(k, sizeof(k), "%u", t->spi_ps);
        if (t->ids && !ims_hash_find(w.live, k) && ims_hash_insert(w.live, k, t) != IMS_OK)
            abort();
    }
    if (ims_xfrm_sa_dump(s->x, sweep_sa, &w) != IMS_OK ||
        ims_xfrm_policy_dump(s->x, sweep_policy, &w) != IMS_OK) {
        IMS_WARN("sec-agree: removing what an earlier run left: %s", ims_xfrm_error(s->x));
    } else {
        sas = sweep_delete(&w, &pols);
        if (sas || pols)
            IMS_NOTICE("sec-agree: removed %u SAs and %u policies an earlier run left (ours,"
                       " of no registered UE)", sas, pols);
    }
    free(w.sa);
    free(w.pol);
    ims_hash_free(w.live);
}
