/* SPDX-License-Identifier: BSD-2-Clause */
/* ESP key derivation from CK_IM and IK_IM (TS 33.203 Annex I). */
#include "common/ipsec/ipsec_keys.h"

#include <string.h>

#include "common/core/rc.h"

int ims_ipsec_alg_key_len(sec_agree_alg_t alg)
{
    switch (alg) {
    case SEC_AGREE_ALG_HMAC_MD5_96:
        return 16;
    case SEC_AGREE_ALG_HMAC_SHA1_96:
        return 20;
    default:
        return -1;
    }
}

int ims_ipsec_ealg_key_len(sec_agree_ealg_t ealg)
{
    switch (ealg) {
    case SEC_AGREE_EALG_NULL:
        return 0;
    case SEC_AGREE_EALG_AES_CBC:
        return 16;
    case SEC_AGREE_EALG_DES_EDE3_CBC:
        return 24;
    default:
        return -1;
    }
}

int ims_ipsec_keys_derive(sec_agree_alg_t alg, sec_agree_ealg_t ealg, const uint8_t ck[16],
                          const uint8_t ik[16], ims_ipsec_keys_t *out)
{
    int ik_len = ims_ipsec_alg_key_len(alg), ck_len = ims_ipsec_ealg_key_len(ealg);

    memset(out, 0, sizeof(*out));
    if (ik_len < 0 || ck_len < 0)
        return IMS_ERROR;
    out->alg = alg;
    out->ealg = ealg;
    /* Integrity: IK_IM as is; for SHA-1 the 32 bits after it stay zero. */
    memcpy(out->ik, ik, IMS_IPSEC_AKA_KEY_LEN);
    out->ik_len = (size_t)ik_len;
    /* Encryption: CK_IM as is; for 3DES then CK1 (its first 64 bits) again. */
    if (ck_len > 0)
        memcpy(out->ck, ck, IMS_IPSEC_AKA_KEY_LEN);
    if (ealg == SEC_AGREE_EALG_DES_EDE3_CBC)
        memcpy(out->ck + IMS_IPSEC_AKA_KEY_LEN, ck, IMS_IPSEC_AKA_KEY_LEN / 2);
    out->ck_len = (size_t)ck_len;
    return IMS_OK;
}
