/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Milenage (3GPP TS 35.206): the 3GPP authentication functions f1, f1*, f2,
 * f3, f4, f5 and f5* built on AES-128.
 *
 * One ims_milenage_t holds a subscriber's OPc and an AES-128 context already
 * keyed with K, so that producing several vectors for the same subscriber
 * costs only the AES blocks themselves (5 per vector) and no key schedule.
 * K itself is not kept outside the OpenSSL context.
 *
 * All byte strings are big-endian, as in the specifications. Lengths are
 * fixed (TS 35.206 / ims-reference §8): K, OP, OPc, RAND, CK, IK 16 octets;
 * SQN, AK 6; AMF 2; MAC-A, MAC-S, RES 8.
 *
 * The AES context is mutated by every call, so a context is used from one
 * thread at a time (the daemons are single-threaded).
 */
#ifndef IMS_MILENAGE_H
#define IMS_MILENAGE_H

#include <stdint.h>

#define IMS_MILENAGE_KEY_LEN  16 /* K, OP, OPc */
#define IMS_MILENAGE_RAND_LEN 16
#define IMS_MILENAGE_SQN_LEN  6
#define IMS_MILENAGE_AMF_LEN  2
#define IMS_MILENAGE_MAC_LEN  8 /* MAC-A, MAC-S */
#define IMS_MILENAGE_RES_LEN  8
#define IMS_MILENAGE_CK_LEN   16
#define IMS_MILENAGE_IK_LEN   16
#define IMS_MILENAGE_AK_LEN   6 /* AK, AK* */

struct evp_cipher_ctx_st; /* OpenSSL's EVP_CIPHER_CTX, kept out of this header */

typedef struct ims_milenage {
    uint8_t opc[IMS_MILENAGE_KEY_LEN];
    struct evp_cipher_ctx_st *aes; /* AES-128-ECB encryption keyed with K */
} ims_milenage_t;

/* OPc = OP xor E_K(OP) (TS 35.206 §4.1). IMS_OK, or IMS_ERROR when OpenSSL fails. */
int ims_milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16]);

/* Set up m for subscriber (K, OPc). m is caller storage; on IMS_OK it owns an
 * OpenSSL context that ims_milenage_fini() releases. On IMS_ERROR nothing
 * needs releasing (fini is still safe). */
int ims_milenage_init(ims_milenage_t *m, const uint8_t k[16], const uint8_t opc[16]);
/* Same, from OP instead of OPc (one extra AES block). */
int ims_milenage_init_op(ims_milenage_t *m, const uint8_t k[16], const uint8_t op[16]);
/* Release the context and wipe OPc. Safe on a zeroed or already finished m. */
void ims_milenage_fini(ims_milenage_t *m);

/* f1 and f1*: MAC-A (mac_a) and MAC-S (mac_s) from one AES block; either
 * output may be NULL. IMS_OK, or IMS_ERROR when OpenSSL fails. */
int ims_milenage_f1(ims_milenage_t *m, const uint8_t rand[16], const uint8_t sqn[6],
                    const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8]);

/* f2 (res), f3 (ck), f4 (ik), f5 (ak) and f5* (ak_star) for one RAND. Any
 * output may be NULL; only the AES blocks needed for the requested outputs
 * are computed (res and ak share one). IMS_OK, or IMS_ERROR when OpenSSL fails. */
int ims_milenage_f2345(ims_milenage_t *m, const uint8_t rand[16], uint8_t res[8], uint8_t ck[16],
                       uint8_t ik[16], uint8_t ak[6], uint8_t ak_star[6]);

#endif
