/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The authentication part of MAR (TS 29.228 §6.3, TS 33.203): AKA vectors
 * from Milenage with persisted SQNs, resynchronisation from AUTS, and the
 * SIP Digest HA1. The one place that calls common/auth.
 */
#ifndef HSS_AUTH_H
#define HSS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "diameter/cx/cx.h"
#include "hss/context.h"

/* SIP-Authentication-Scheme values (29.229 §6.3.9). */
#define HSS_AKA_SCHEME "Digest-AKAv1-MD5"
#define HSS_DIGEST_SCHEME "SIP Digest"

/* n octets from the kernel's CSPRNG (getrandom, buffered). IMS_OK/IMS_ERROR. */
int hss_auth_random(uint8_t *out, size_t n);

/*
 * Fill maa->items with n (1..CX_MAX_AUTH_ITEMS) Digest-AKAv1-MD5 vectors for
 * sub: SIP-Authenticate = RAND || AUTN, SIP-Authorization = XRES, CK, IK.
 * With resync (resync_len octets, from SIP-Authorization of the MAR; 0 when
 * none), which must be RAND(16) || AUTS(14) with a RAND we issued to sub, the
 * SQN is first resynchronised (TS 33.102 §6.3.5). The result: base 2001, or
 * 4001 AUTHENTICATION_REJECTED (MAC-S wrong or RAND not ours), 5004 (resync
 * data of the wrong size), 5012 (Milenage or SQN store failure).
 */
cx_result_t hss_auth_aka(hss_ctx_t *ctx, hss_sub_t *sub, const uint8_t *resync,
                         size_t resync_len, uint32_t n, cx_maa_t *maa);

/* One SIP Digest item: SIP-Digest-Authenticate {realm, MD5, auth, HA1 =
 * MD5(impi:realm:password)}. Base 2001, or 5012 when MD5 fails. */
cx_result_t hss_auth_digest(hss_ctx_t *ctx, hss_sub_t *sub, cx_maa_t *maa);

#endif
