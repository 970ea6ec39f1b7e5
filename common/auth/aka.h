/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UMTS/IMS AKA on top of Milenage (TS 33.102 §6.3, TS 33.203; RFC 3310).
 *
 * Network side (the HSS): ims_aka_vector_make() builds RAND, XRES, CK, IK and
 * AUTN = (SQN xor AK) || AMF || MAC-A for a SQN the HSS chose, and
 * ims_aka_resync() checks a UE's AUTS and recovers SQN_MS from it.
 * UE side (tests and the simulated handset): ims_aka_ue_check() verifies AUTN
 * as a USIM/ISIM would and answers RES/CK/IK, a MAC failure, or a sync
 * failure with the AUTS to send; ims_aka_auts_make() builds an AUTS.
 *
 * SQN, in the simple form of TS 33.102 Annex C.1.1/C.3.2 we use:
 *
 *   SQN (48 bits) = SEQ (43 bits) || IND (5 bits)
 *
 * The lab HSS keeps one SQN per subscriber, uses IND = 0 and adds 1 to SEQ for
 * every vector (ims_aka_sqn_next()); the SQN values are carried in a uint64_t
 * holding the 48-bit number. The UE side keeps one SQN_MS (the highest SQN it
 * accepted) and accepts a SQN only when SQN_MS < SQN <= SQN_MS + DELTA, with
 * DELTA = 2^28 as Annex C.2.1 suggests; it does not use the IND array of C.2.2.
 *
 * Resynchronisation (TS 33.102 §6.3.5): a UE that rejects SQN sends
 *   AUTS = (SQN_MS xor AK*) || MAC-S,  AK* = f5*(K, RAND),
 *   MAC-S = f1*(K, SQN_MS, RAND, AMF*) with AMF* = 0x0000.
 * The HSS recovers SQN_MS and checks MAC-S (ims_aka_resync()). Then, as
 * §6.3.5 says, it keeps its SQN_HE if the next vector from it would be
 * accepted by the UE, and otherwise continues from SQN_MS
 * (ims_aka_sqn_after_resync()). MAC-S binds AUTS to RAND only: the HSS must
 * accept AUTS only with a RAND it issued to that subscriber for the pending
 * challenge, or an old AUTS could be replayed to move SQN_HE back.
 *
 * Nonce (RFC 3310 §3.2): base64(RAND || AUTN [|| server data]); a receiver
 * takes the first 32 decoded octets.
 */
#ifndef IMS_AKA_H
#define IMS_AKA_H

#include <stddef.h>
#include <stdint.h>

#include "common/auth/milenage.h"

#define IMS_AKA_RAND_LEN   16
#define IMS_AKA_AUTN_LEN   16
#define IMS_AKA_AUTS_LEN   14
#define IMS_AKA_RES_LEN    8
#define IMS_AKA_KEY_LEN    16 /* CK, IK */
#define IMS_AKA_SQN_LEN    6
#define IMS_AKA_AMF_LEN    2
#define IMS_AKA_NONCE_RAW  32 /* RAND || AUTN */
/* base64 of RAND||AUTN: 44 characters + NUL. */
#define IMS_AKA_NONCE_SIZE 45

#define IMS_AKA_SQN_MAX   ((UINT64_C(1) << 48) - 1)
#define IMS_AKA_IND_BITS  5
#define IMS_AKA_SQN_DELTA (UINT64_C(1) << 28)

/* One authentication vector, all fields binary. */
typedef struct ims_aka_vector {
    uint8_t rand[IMS_AKA_RAND_LEN];
    uint8_t xres[IMS_AKA_RES_LEN];
    uint8_t ck[IMS_AKA_KEY_LEN];
    uint8_t ik[IMS_AKA_KEY_LEN];
    uint8_t ak[6];
    uint8_t autn[IMS_AKA_AUTN_LEN];
} ims_aka_vector_t;

/* --- SQN ------------------------------------------------------------------ */

/* 6 big-endian octets <-> the 48-bit number. */
void ims_aka_sqn_to_bytes(uint64_t sqn, uint8_t out[6]);
uint64_t ims_aka_sqn_from_bytes(const uint8_t in[6]);

/* The SQN for the next vector after sqn: SEQ + 1, IND = 0. SEQ wraps from
 * 2^43 - 1 to 0 (at one vector per millisecond that takes 278 years; a UE
 * would then answer sync failure, and resync would not help: re-provision). */
uint64_t ims_aka_sqn_next(uint64_t sqn);

/* --- network side ------------------------------------------------------- */

/* Fill v for RAND rand (16 octets, copied into v), SQN sqn and AMF amf with
 * the subscriber context m. IMS_OK, or IMS_ERROR when OpenSSL fails. */
int ims_aka_vector_make(ims_milenage_t *m, const uint8_t rand[16], uint64_t sqn,
                        const uint8_t amf[2], ims_aka_vector_t *v);

/* 16 random octets for RAND from OpenSSL's CSPRNG. IMS_OK or IMS_ERROR. */
int ims_aka_rand(uint8_t rand[16]);

/* Check AUTS (14 octets, from the network) against RAND and recover SQN_MS
 * into *sqn_ms. IMS_OK when MAC-S matches; IMS_ERROR on a MAC-S mismatch or an
 * OpenSSL failure (*sqn_ms is then untouched). */
int ims_aka_resync(ims_milenage_t *m, const uint8_t rand[16], const uint8_t auts[14],
                   uint64_t *sqn_ms);

/* The SQN_HE to store after a successful resync (TS 33.102 §6.3.5): sqn_he
 * itself when ims_aka_sqn_next(sqn_he) is acceptable to a UE at sqn_ms, else
 * sqn_ms. The next vector then uses ims_aka_sqn_next() of the result. */
uint64_t ims_aka_sqn_after_resync(uint64_t sqn_he, uint64_t sqn_ms);

/* --- UE side ---------------------------------------------------------------- */

/* AUTS = (SQN_MS xor AK*) || f1*(K, SQN_MS, RAND, 0x0000). IMS_OK or IMS_ERROR. */
int ims_aka_auts_make(ims_milenage_t *m, const uint8_t rand[16], uint64_t sqn_ms, uint8_t auts[14]);

typedef enum ims_aka_verdict {
    IMS_AKA_ERROR = -1,      /* OpenSSL failed; nothing in the result is valid */
    IMS_AKA_OK = 0,          /* res, ck, ik, sqn valid; store sqn as the new SQN_MS */
    IMS_AKA_MAC_FAILURE = 1, /* AUTN not made with our K: the network is not genuine */
    IMS_AKA_SYNC_FAILURE = 2 /* MAC good, SQN out of range: send auts (and sqn is set) */
} ims_aka_verdict_t;

typedef struct ims_aka_ue_result {
    uint8_t res[IMS_AKA_RES_LEN];
    uint8_t ck[IMS_AKA_KEY_LEN];
    uint8_t ik[IMS_AKA_KEY_LEN];
    uint8_t auts[IMS_AKA_AUTS_LEN];
    uint64_t sqn;                 /* the SQN carried in AUTN */
    uint8_t amf[IMS_AKA_AMF_LEN]; /* the AMF carried in AUTN */
} ims_aka_ue_result_t;

/* Run the USIM checks on (rand, autn) for a UE whose highest accepted SQN is
 * sqn_ms: MAC-A first, then SQN_MS < SQN <= SQN_MS + IMS_AKA_SQN_DELTA.
 * The result is zeroed, then filled as the verdict says. */
ims_aka_verdict_t ims_aka_ue_check(ims_milenage_t *m, const uint8_t rand[16],
                                   const uint8_t autn[16], uint64_t sqn_ms, ims_aka_ue_result_t *r);

/* --- nonce (RFC 3310 §3.2) ------------------------------------------------ */

/* out = base64(RAND || AUTN), NUL-terminated; out_size >= IMS_AKA_NONCE_SIZE.
 * IMS_OK, or IMS_ERROR when out is too small. */
int ims_aka_nonce_encode(const uint8_t rand[16], const uint8_t autn[16], char *out,
                         size_t out_size);

/* Decode nonce (len characters, not necessarily NUL-terminated) and take RAND
 * and AUTN from its first 32 octets; any server data after them is ignored.
 * IMS_ERROR when the text is not valid base64, decodes to fewer than 32
 * octets, or to more than IMS_AKA_NONCE_MAX octets. */
#define IMS_AKA_NONCE_MAX 192
int ims_aka_nonce_decode(const char *nonce, size_t len, uint8_t rand[16], uint8_t autn[16]);

#endif
