/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AKA vectors, AUTN/AUTS and the RFC 3310 nonce. The SQN scheme and the
 * resynchronisation rules are explained at the top of aka.h.
 *
 * MAC comparisons use CRYPTO_memcmp: the MAC-S in an AUTS comes from the
 * network, and a timing difference would tell an attacker how many leading
 * octets of a forged MAC were right.
 */
#include "common/auth/aka.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/auth/base64.h"
#include "common/core/rc.h"

void ims_aka_sqn_to_bytes(uint64_t sqn, uint8_t out[6])
{
    for (int i = 5; i >= 0; i--) {
        out[i] = (uint8_t)sqn;
        sqn >>= 8;
    }
}

uint64_t ims_aka_sqn_from_bytes(const uint8_t in[6])
{
    uint64_t sqn = 0;

    for (int i = 0; i < 6; i++)
        sqn = sqn << 8 | in[i];
    return sqn;
}

uint64_t ims_aka_sqn_next(uint64_t sqn)
{
    uint64_t seq = (sqn & IMS_AKA_SQN_MAX) >> IMS_AKA_IND_BITS;

    return ((seq + 1) << IMS_AKA_IND_BITS) & IMS_AKA_SQN_MAX;
}

int ims_aka_rand(uint8_t rand[16])
{
    return RAND_bytes(rand, IMS_AKA_RAND_LEN) == 1 ? IMS_OK : IMS_ERROR;
}

int ims_aka_vector_make(ims_milenage_t *m, const uint8_t rand[16], uint64_t sqn,
                        const uint8_t amf[2], ims_aka_vector_t *v)
{
    uint8_t sqn_b[IMS_AKA_SQN_LEN];

    memmove(v->rand, rand, IMS_AKA_RAND_LEN); /* rand may be v->rand */
    ims_aka_sqn_to_bytes(sqn, sqn_b);
    if (ims_milenage_f2345(m, v->rand, v->xres, v->ck, v->ik, v->ak, NULL) != IMS_OK)
        return IMS_ERROR;
    if (ims_milenage_f1(m, v->rand, sqn_b, amf, v->autn + 8, NULL) != IMS_OK)
        return IMS_ERROR;
    for (int i = 0; i < IMS_AKA_SQN_LEN; i++)
        v->autn[i] = sqn_b[i] ^ v->ak[i];
    memcpy(v->autn + 6, amf, IMS_AKA_AMF_LEN);
    return IMS_OK;
}

static const uint8_t amf_star[IMS_AKA_AMF_LEN] = { 0, 0 };

int ims_aka_auts_make(ims_milenage_t *m, const uint8_t rand[16], uint64_t sqn_ms, uint8_t auts[14])
{
    uint8_t sqn_b[IMS_AKA_SQN_LEN], ak_star[6];

    ims_aka_sqn_to_bytes(sqn_ms, sqn_b);
    if (ims_milenage_f2345(m, rand, NULL, NULL, NULL, NULL, ak_star) != IMS_OK)
        return IMS_ERROR;
    if (ims_milenage_f1(m, rand, sqn_b, amf_star, NULL, auts + 6) != IMS_OK)
        return IMS_ERROR;
    for (int i = 0; i < IMS_AKA_SQN_LEN; i++)
        auts[i] = sqn_b[i] ^ ak_star[i];
    return IMS_OK;
}

int ims_aka_resync(ims_milenage_t *m, const uint8_t rand[16], const uint8_t auts[14],
                   uint64_t *sqn_ms)
{
    uint8_t sqn_b[IMS_AKA_SQN_LEN], ak_star[6], xmac_s[8];

    if (ims_milenage_f2345(m, rand, NULL, NULL, NULL, NULL, ak_star) != IMS_OK)
        return IMS_ERROR;
    for (int i = 0; i < IMS_AKA_SQN_LEN; i++)
        sqn_b[i] = auts[i] ^ ak_star[i];
    if (ims_milenage_f1(m, rand, sqn_b, amf_star, NULL, xmac_s) != IMS_OK)
        return IMS_ERROR;
    if (CRYPTO_memcmp(xmac_s, auts + 6, sizeof(xmac_s)) != 0)
        return IMS_ERROR;
    *sqn_ms = ims_aka_sqn_from_bytes(sqn_b);
    return IMS_OK;
}

/* SQN_MS < sqn <= SQN_MS + DELTA, in the 48-bit space without wrapping. */
static int sqn_in_range(uint64_t sqn, uint64_t sqn_ms)
{
    return sqn > sqn_ms && sqn - sqn_ms <= IMS_AKA_SQN_DELTA;
}

uint64_t ims_aka_sqn_after_resync(uint64_t sqn_he, uint64_t sqn_ms)
{
    return sqn_in_range(ims_aka_sqn_next(sqn_he), sqn_ms) ? sqn_he : sqn_ms;
}

ims_aka_verdict_t ims_aka_ue_check(ims_milenage_t *m, const uint8_t rand[16],
                                   const uint8_t autn[16], uint64_t sqn_ms, ims_aka_ue_result_t *r)
{
    uint8_t ak[6], sqn_b[IMS_AKA_SQN_LEN], xmac[8];

    memset(r, 0, sizeof(*r));
    if (ims_milenage_f2345(m, rand, r->res, r->ck, r->ik, ak, NULL) != IMS_OK)
        goto error;
    for (int i = 0; i < IMS_AKA_SQN_LEN; i++)
        sqn_b[i] = autn[i] ^ ak[i];
    memcpy(r->amf, autn + 6, IMS_AKA_AMF_LEN);
    if (ims_milenage_f1(m, rand, sqn_b, r->amf, xmac, NULL) != IMS_OK)
        goto error;
    if (CRYPTO_memcmp(xmac, autn + 8, sizeof(xmac)) != 0) {
        /* A USIM reveals nothing about a network it cannot authenticate. */
        memset(r, 0, sizeof(*r));
        return IMS_AKA_MAC_FAILURE;
    }
    r->sqn = ims_aka_sqn_from_bytes(sqn_b);
    if (sqn_in_range(r->sqn, sqn_ms))
        return IMS_AKA_OK;
    /* No RES/CK/IK on sync failure: the UE must not use these keys. */
    OPENSSL_cleanse(r->res, sizeof(r->res));
    OPENSSL_cleanse(r->ck, sizeof(r->ck));
    OPENSSL_cleanse(r->ik, sizeof(r->ik));
    if (ims_aka_auts_make(m, rand, sqn_ms, r->auts) != IMS_OK)
        goto error;
    return IMS_AKA_SYNC_FAILURE;
error:
    OPENSSL_cleanse(r, sizeof(*r));
    return IMS_AKA_ERROR;
}

int ims_aka_nonce_encode(const uint8_t rand[16], const uint8_t autn[16], char *out, size_t out_size)
{
    uint8_t raw[IMS_AKA_NONCE_RAW];

    memcpy(raw, rand, IMS_AKA_RAND_LEN);
    memcpy(raw + IMS_AKA_RAND_LEN, autn, IMS_AKA_AUTN_LEN);
    return ims_base64_encode(raw, sizeof(raw), out, out_size, NULL);
}

int ims_aka_nonce_decode(const char *nonce, size_t len, uint8_t rand[16], uint8_t autn[16])
{
    uint8_t raw[IMS_AKA_NONCE_MAX];
    size_t n = 0;

    if (ims_base64_decode(nonce, len, raw, sizeof(raw), &n) != IMS_OK)
        return IMS_ERROR;
    if (n < IMS_AKA_NONCE_RAW)
        return IMS_ERROR;
    memcpy(rand, raw, IMS_AKA_RAND_LEN);
    memcpy(autn, raw + IMS_AKA_RAND_LEN, IMS_AKA_AUTN_LEN);
    return IMS_OK;
}
