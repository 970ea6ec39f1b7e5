/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ESP keys of an SA, derived from the IMS AKA keys CK_IM and IK_IM
 * (TS 33.203 Annex I) for the algorithms sec-agree chose (the enums of
 * common/ipsec/sec_agree.h):
 *
 *   hmac-md5-96     IK_ESP = IK_IM                      (128 bits)
 *   hmac-sha-1-96   IK_ESP = IK_IM || 32 zero bits      (160 bits)
 *   aes-cbc         CK_ESP = CK_IM                      (128 bits)
 *   des-ede3-cbc    CK_ESP = CK1 || CK2 || CK1, where CK_IM = CK1 || CK2 (192 bits;
 *                   the DES parity bits are not adjusted: Linux ignores them)
 *   null            no encryption key
 */
#ifndef IMS_IPSEC_KEYS_H
#define IMS_IPSEC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "common/ipsec/sec_agree.h"

#define IMS_IPSEC_AKA_KEY_LEN 16 /* CK_IM, IK_IM */
#define IMS_IPSEC_IK_MAX      20 /* hmac-sha-1-96 */
#define IMS_IPSEC_CK_MAX      24 /* des-ede3-cbc */

/* The keys of one SA: algorithms and key octets (lengths in octets). */
typedef struct ims_ipsec_keys {
    sec_agree_alg_t alg;
    sec_agree_ealg_t ealg;
    uint8_t ik[IMS_IPSEC_IK_MAX];
    size_t ik_len;
    uint8_t ck[IMS_IPSEC_CK_MAX];
    size_t ck_len;               /* 0 for null */
} ims_ipsec_keys_t;

/* Derive the ESP keys for (alg, ealg) from ck and ik (16 octets each, as the
 * AKA run or the 401's ck/ik parameters give them) into *out, which is
 * overwritten. IMS_OK, or IMS_ERROR for an UNKNOWN or out-of-range
 * algorithm (*out is then zeroed). */
int ims_ipsec_keys_derive(sec_agree_alg_t alg, sec_agree_ealg_t ealg, const uint8_t ck[16],
                          const uint8_t ik[16], ims_ipsec_keys_t *out);

/* Key length in octets: 16 / 20 for hmac-md5-96 / hmac-sha-1-96; 16 / 24 / 0
 * for aes-cbc / des-ede3-cbc / null. -1 for UNKNOWN or out of range. */
int ims_ipsec_alg_key_len(sec_agree_alg_t alg);
int ims_ipsec_ealg_key_len(sec_agree_ealg_t ealg);

#endif
