/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Milenage per TS 35.206 §4.1:
 *
 *   TEMP = E_K(RAND xor OPc)
 *   OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc,  IN1 = SQN||AMF||SQN||AMF
 *   OUTi = E_K(rot(TEMP xor OPc, ri) xor ci) xor OPc,          i = 2..5
 *
 * with r1..r5 = 64, 0, 32, 64, 96 bits and c1..c5 = 0, 1, 2, 4, 8 (in the last
 * octet). f1 = OUT1[0..7], f1* = OUT1[8..15], f5 = OUT2[0..5], f2 = OUT2[8..15],
 * f3 = OUT3, f4 = OUT4, f5* = OUT5[0..5]. All rotations are whole octets.
 *
 * AES is OpenSSL's AES-128-ECB without padding, one block per EVP_EncryptUpdate
 * on a context keyed once per subscriber: an update on a full block emits it
 * at once, so no EVP_EncryptFinal is ever needed and the context stays usable.
 */
#include "common/auth/milenage.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/core/rc.h"

#define BLK 16

static int aes_block(ims_milenage_t *m, const uint8_t in[BLK], uint8_t out[BLK])
{
    int outl = 0;

    if (m->aes == NULL)
        return IMS_ERROR;
    if (EVP_EncryptUpdate(m->aes, out, &outl, in, BLK) != 1 || outl != BLK)
        return IMS_ERROR;
    return IMS_OK;
}

static int aes_ctx_new(const uint8_t k[16], EVP_CIPHER_CTX **out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

    if (ctx == NULL)
        return IMS_ERROR;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return IMS_ERROR;
    }
    *out = ctx;
    return IMS_OK;
}

int ims_milenage_init(ims_milenage_t *m, const uint8_t k[16], const uint8_t opc[16])
{
    memset(m, 0, sizeof(*m));
    if (aes_ctx_new(k, &m->aes) != IMS_OK)
        return IMS_ERROR;
    memcpy(m->opc, opc, sizeof(m->opc));
    return IMS_OK;
}

/* OPc needs E_K(OP), i.e. an AES context keyed with K: compute it with the
 * context that m keeps anyway. */
int ims_milenage_init_op(ims_milenage_t *m, const uint8_t k[16], const uint8_t op[16])
{
    uint8_t enc[BLK];

    memset(m, 0, sizeof(*m));
    if (aes_ctx_new(k, &m->aes) != IMS_OK)
        return IMS_ERROR;
    if (aes_block(m, op, enc) != IMS_OK) {
        ims_milenage_fini(m);
        return IMS_ERROR;
    }
    for (int i = 0; i < BLK; i++)
        m->opc[i] = op[i] ^ enc[i];
    OPENSSL_cleanse(enc, sizeof(enc));
    return IMS_OK;
}

void ims_milenage_fini(ims_milenage_t *m)
{
    EVP_CIPHER_CTX_free(m->aes); /* clears the key schedule */
    m->aes = NULL;
    OPENSSL_cleanse(m->opc, sizeof(m->opc));
}

int ims_milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16])
{
    ims_milenage_t m;

    if (ims_milenage_init_op(&m, k, op) != IMS_OK)
        return IMS_ERROR;
    memcpy(opc, m.opc, sizeof(m.opc));
    ims_milenage_fini(&m);
    return IMS_OK;
}

/* TEMP = E_K(RAND xor OPc), shared by every function. */
static int milenage_temp(ims_milenage_t *m, const uint8_t rand[16], uint8_t temp[BLK])
{
    uint8_t in[BLK];

    for (int i = 0; i < BLK; i++)
        in[i] = rand[i] ^ m->opc[i];
    return aes_block(m, in, temp);
}

int ims_milenage_f1(ims_milenage_t *m, const uint8_t rand[16], const uint8_t sqn[6],
                    const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8])
{
    uint8_t temp[BLK], in1[BLK], x[BLK], out[BLK];

    if (milenage_temp(m, rand, temp) != IMS_OK)
        return IMS_ERROR;
    memcpy(in1, sqn, 6);
    memcpy(in1 + 6, amf, 2);
    memcpy(in1 + 8, in1, 8);
    /* x = TEMP xor rot(IN1 xor OPc, 64) xor c1 (c1 = 0): rotating by 8 octets
     * sends octet (i + 8) mod 16 to position i. */
    for (int i = 0; i < BLK; i++)
        x[i] = temp[i] ^ in1[(i + 8) % BLK] ^ m->opc[(i + 8) % BLK];
    if (aes_block(m, x, out) != IMS_OK)
        return IMS_ERROR;
    for (int i = 0; i < BLK; i++)
        out[i] ^= m->opc[i];
    if (mac_a != NULL)
        memcpy(mac_a, out, 8);
    if (mac_s != NULL)
        memcpy(mac_s, out + 8, 8);
    return IMS_OK;
}

/* OUTi = E_K(rot(TEMP xor OPc, r_octets) xor c) xor OPc, c in the last octet. */
static int milenage_out(ims_milenage_t *m, const uint8_t temp[BLK], int r_octets, uint8_t c,
                        uint8_t out[BLK])
{
    uint8_t x[BLK];

    for (int i = 0; i < BLK; i++) {
        int j = (i + r_octets) % BLK;
        x[i] = temp[j] ^ m->opc[j];
    }
    x[BLK - 1] ^= c;
    if (aes_block(m, x, out) != IMS_OK)
        return IMS_ERROR;
    for (int i = 0; i < BLK; i++)
        out[i] ^= m->opc[i];
    return IMS_OK;
}

int ims_milenage_f2345(ims_milenage_t *m, const uint8_t rand[16], uint8_t res[8], uint8_t ck[16],
                       uint8_t ik[16], uint8_t ak[6], uint8_t ak_star[6])
{
    uint8_t temp[BLK], out[BLK];

    if (milenage_temp(m, rand, temp) != IMS_OK)
        return IMS_ERROR;
    if (res != NULL || ak != NULL) {
        if (milenage_out(m, temp, 0, 1, out) != IMS_OK)
            return IMS_ERROR;
        if (ak != NULL)
            memcpy(ak, out, 6);
        if (res != NULL)
            memcpy(res, out + 8, 8);
    }
    if (ck != NULL && milenage_out(m, temp, 4, 2, ck) != IMS_OK)
        return IMS_ERROR;
    if (ik != NULL && milenage_out(m, temp, 8, 4, ik) != IMS_OK)
        return IMS_ERROR;
    if (ak_star != NULL) {
        if (milenage_out(m, temp, 12, 8, out) != IMS_OK)
            return IMS_ERROR;
        memcpy(ak_star, out, 6);
    }
    return IMS_OK;
}
