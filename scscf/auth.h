/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Authentication at the S-CSCF (24.229 §5.4.1.2; 33.203 §6.1; RFC 3310; RFC
 * 2617): the challenge built from the MAA vector, and the check of the
 * response in the next REGISTER.
 *
 * IMS AKA: nonce = base64(RAND || AUTN) as the HSS gave it; the UE's password
 * is RES, 8 raw octets, so the expected response uses XRES as the password
 * (never its hex text). The 401 carries ck= and ik= for the P-CSCF, which
 * removes them before the UE sees the challenge.
 * SIP Digest: a fresh random nonce of ours and HA1 from the HSS; the
 * password never reaches the S-CSCF.
 * Both compare the response in constant time (ims_digest_check) and only for
 * the nonce we issued: an answer to another nonce is stale, not wrong.
 */
#ifndef SCSCF_AUTH_H
#define SCSCF_AUTH_H

#include <stddef.h>

#include "common/auth/digest.h"
#include "diameter/cx/cx.h"
#include "scscf/context.h"

#define SCSCF_SCHEME_AKA "Digest-AKAv1-MD5"
#define SCSCF_SCHEME_DIGEST "SIP Digest"

typedef enum scscf_verify {
    SCSCF_VERIFY_OK = 0,
    SCSCF_VERIFY_FAIL = 1,       /* wrong response (counts as an attempt) */
    SCSCF_VERIFY_STALE = 2       /* not an answer to our pending challenge */
} scscf_verify_t;

/* The SIP-Authentication-Scheme for a MAR from the request's algorithm
 * parameter ("" when absent): AKAv1-MD5 -> Digest-AKAv1-MD5, anything else
 * -> cfg->md5_scheme (default "Unknown": the HSS decides). */
const char *scscf_auth_mar_scheme(const scscf_cfg_t *cfg, const char *algorithm);

/*
 * Take the first usable item of an MAA into a (scheme, XRES or HA1, nonce,
 * realm; attempts left as they are) and write the WWW-Authenticate value into
 * www. domain: the realm for AKA (and for SIP Digest when the HSS gave none).
 * IMS_OK, or IMS_ERROR when the item is not usable (unknown scheme, short
 * SIP-Authenticate, no HA1) or www is too small.
 */
int scscf_auth_from_maa(scscf_auth_t *a, const cx_auth_item_t *it, const char *domain, char *www,
                        size_t wwwlen);

/* Check the credentials p of a request with method against a. */
scscf_verify_t scscf_auth_verify(const scscf_auth_t *a, const ims_digest_params_t *p,
                                 const char *method);

/* RAND || AUTS (30 octets) for a resync MAR from the auts parameter and the
 * pending AKA challenge. IMS_OK or IMS_ERROR (bad base64, wrong length). */
int scscf_auth_resync_data(const scscf_auth_t *a, const char *auts, uint8_t out[30]);

#endif
