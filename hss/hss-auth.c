/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AKA vectors and SIP Digest HA1 for MAR.
 *
 * Resynchronisation accepts an AUTS only together with a RAND this HSS issued
 * to the subscriber in one of its last HSS_RAND_RING vectors, and forgets
 * those RANDs once it has resynchronised: MAC-S authenticates AUTS with RAND
 * only, so an AUTS captured earlier could otherwise be replayed to move the
 * SQN back (aka.h). The new SQN follows TS 33.102 §6.3.5
 * (ims_aka_sqn_after_resync): keep ours if the UE would accept the next one,
 * else continue from the UE's SQN_MS.
 *
 * test_redraw_zero_res (TEST ONLY, off by default): sipp 3.6 treats RES as a
 * C string and computes a wrong response when RES holds a 0x00 octet (about 3 %
 * of vectors). With the option on, a vector whose XRES has a zero octet is
 * drawn again with a new RAND (the same SQN: the discarded vector never left
 * the HSS), and the redraws are counted. It changes nothing else, and it makes
 * RAND slightly non-uniform, which is why it must stay off outside tests.
 */
#include "hss/hss-auth.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>

#include "common/auth/aka.h"
#include "common/auth/digest.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "hss/sqn-store.h"

#define MAX_REDRAWS 64      /* P(64 redraws) is about 0.03^64: never, but bounded */

static const cx_result_t RES_OK = { DIA_SUCCESS, false };
static const cx_result_t RES_REJECTED = { 4001, false };   /* AUTHENTICATION_REJECTED */
static const cx_result_t RES_BAD_VALUE = { DIA_INVALID_AVP_VALUE, false };
static const cx_result_t RES_FAILED = { DIA_UNABLE_TO_COMPLY, false };

int hss_auth_random(uint8_t *out, size_t n)
{
    while (n > 0) {
        ssize_t r = getrandom(out, n, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return IMS_ERROR;
        out += r;
        n -= (size_t)r;
    }
    return IMS_OK;
}

/* The subscriber's Milenage context, keyed on first use. */
static ims_milenage_t *sub_milenage(hss_sub_t *sub)
{
    int rc;

    if (sub->mil_ready)
        return &sub->mil;
    if (!sub->has_k)
        return NULL;
    rc = sub->op_is_opc ? ims_milenage_init(&sub->mil, sub->k, sub->op)
                        : ims_milenage_init_op(&sub->mil, sub->k, sub->op);
    if (rc != IMS_OK) {
        IMS_ERR("Milenage setup failed for %s", sub->impi);
        return NULL;
    }
    sub->mil_ready = true;
    return &sub->mil;
}

static void remember_rand(hss_sub_t *sub, const uint8_t rand[16])
{
    memcpy(sub->rands[sub->rand_pos], rand, 16);
    sub->rand_pos = (uint8_t)((sub->rand_pos + 1) % HSS_RAND_RING);
    if (sub->nrands < HSS_RAND_RING)
        sub->nrands++;
}

static bool rand_issued(const hss_sub_t *sub, const uint8_t rand[16])
{
    for (unsigned i = 0; i < sub->nrands; i++)
        if (memcmp(sub->rands[i], rand, 16) == 0)
            return true;
    return false;
}

static cx_result_t resync(hss_ctx_t *ctx, hss_sub_t *sub, ims_milenage_t *m,
                          const uint8_t *data, size_t len)
{
    uint64_t sqn_ms, sqn_he, now;

    if (len != IMS_AKA_RAND_LEN + IMS_AKA_AUTS_LEN) {
        IMS_INFO("MAR for %s: resync data of %zu octets (want RAND||AUTS, 30)", sub->impi,
                 len);
        return RES_BAD_VALUE;
    }
    if (!rand_issued(sub, data)) {
        IMS_NOTICE("MAR for %s: AUTS with a RAND we did not issue: rejected", sub->impi);
        return RES_REJECTED;
    }
    if (ims_aka_resync(m, data, data + IMS_AKA_RAND_LEN, &sqn_ms) != IMS_OK) {
        IMS_NOTICE("MAR for %s: AUTS MAC-S check failed: rejected", sub->impi);
        return RES_REJECTED;
    }
    sqn_he = hss_sqn_store_current(ctx->sqn, sub->sqn_slot);
    now = ims_aka_sqn_after_resync(sqn_he, sqn_ms);
    hss_sqn_store_set(ctx->sqn, sub->sqn_slot, now);
    sub->nrands = 0;    /* no second resync with the same AUTS */
    sub->rand_pos = 0;
    ctx->stats.resyncs++;
    IMS_INFO("MAR for %s: resync, SQN_MS %" PRIu64 ", SQN_HE %" PRIu64 " -> %" PRIu64,
             sub->impi, sqn_ms, sqn_he, now);
    return RES_OK;
}

/* One vector for sqn, with the zero-RES redraw when the test option is on. */
static int make_vector(hss_ctx_t *ctx, hss_sub_t *sub, ims_milenage_t *m, uint64_t sqn,
                       ims_aka_vector_t *v)
{
    uint8_t rand[IMS_AKA_RAND_LEN];

    for (int tries = 0;; tries++) {
        if (hss_auth_random(rand, sizeof(rand)) != IMS_OK ||
            ims_aka_vector_make(m, rand, sqn, sub->amf, v) != IMS_OK)
            return IMS_ERROR;
        if (!ctx->test_redraw_zero_res || !memchr(v->xres, 0, sizeof(v->xres)) ||
            tries >= MAX_REDRAWS)
            return IMS_OK;
        ctx->stats.redraws++;
        IMS_INFO("test_redraw_zero_res: XRES for %s had a zero octet, RAND redrawn "
                 "(%" PRIu64 " redraws so far)", sub->impi, ctx->stats.redraws);
    }
}

cx_result_t hss_auth_aka(hss_ctx_t *ctx, hss_sub_t *sub, const uint8_t *resync_data,
                         size_t resync_len, uint32_t n, cx_maa_t *maa)
{
    ims_milenage_t *m = sub_milenage(sub);
    ims_aka_vector_t v;
    uint64_t sqn;
    cx_result_t r;

    if (!m)
        return RES_FAILED;
    if (resync_len > 0 && (r = resync(ctx, sub, m, resync_data, resync_len)).code != DIA_SUCCESS)
        return r;
    if (n < 1)
        n = 1;
    if (n > CX_MAX_AUTH_ITEMS)
        n = CX_MAX_AUTH_ITEMS;
    for (uint32_t i = 0; i < n; i++) {
        cx_auth_item_t *it = &maa->items[i];

        if (hss_sqn_store_next(ctx->sqn, sub->sqn_slot, &sqn) != IMS_OK ||
            make_vector(ctx, sub, m, sqn, &v) != IMS_OK)
            return RES_FAILED;
        memset(it, 0, sizeof(*it));
        snprintf(it->scheme, sizeof(it->scheme), "%s", HSS_AKA_SCHEME);
        memcpy(it->authenticate, v.rand, IMS_AKA_RAND_LEN);
        memcpy(it->authenticate + IMS_AKA_RAND_LEN, v.autn, IMS_AKA_AUTN_LEN);
        it->authenticate_len = IMS_AKA_RAND_LEN + IMS_AKA_AUTN_LEN;
        memcpy(it->authorization, v.xres, IMS_AKA_RES_LEN);
        it->authorization_len = IMS_AKA_RES_LEN;
        memcpy(it->ck, v.ck, sizeof(it->ck));
        memcpy(it->ik, v.ik, sizeof(it->ik));
        it->has_keys = true;
        remember_rand(sub, v.rand);
        ctx->stats.vectors++;
    }
    maa->nitems = (int)n;
    maa->num_items = n;
    return RES_OK;
}

cx_result_t hss_auth_digest(hss_ctx_t *ctx, hss_sub_t *sub, cx_maa_t *maa)
{
    cx_auth_item_t *it = &maa->items[0];

    (void)ctx;
    memset(it, 0, sizeof(*it));
    if (!sub->password ||
        ims_digest_ha1(sub->impi, sub->realm, (const uint8_t *)sub->password,
                       strlen(sub->password), it->digest_ha1) != IMS_OK)
        return RES_FAILED;
    snprintf(it->scheme, sizeof(it->scheme), "%s", HSS_DIGEST_SCHEME);
    snprintf(it->digest_realm, sizeof(it->digest_realm), "%s", sub->realm);
    snprintf(it->digest_algorithm, sizeof(it->digest_algorithm), "MD5");
    snprintf(it->digest_qop, sizeof(it->digest_qop), "auth");
    it->has_digest = true;
    maa->nitems = 1;
    maa->num_items = 1;
    return RES_OK;
}
