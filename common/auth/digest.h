/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/SIP Digest (RFC 2617, RFC 3261 §22.4) with MD5, as used by SIP Digest
 * and by Digest AKAv1-MD5 (RFC 3310), plus a parser for the parameter list of
 * an Authorization / Proxy-Authorization / WWW-Authenticate header value.
 *
 *   HA1 = MD5(username ":" realm ":" password)
 *   HA2 = MD5(method ":" uri)
 *   response = MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)   (qop=auth)
 *   response = MD5(HA1 ":" nonce ":" HA2)                             (no qop)
 *
 * HA1, HA2 and the response are 32 lowercase hex characters. The password is
 * raw octets with a length: for AKAv1-MD5 it is RES itself (8 binary octets
 * for Milenage, RFC 3310 §3.3), not its hex text, and it is empty in the
 * response that carries auts (RFC 3310 §3.4). Only algorithm MD5 / AKAv1-MD5
 * and qop "auth" or none are covered: no MD5-sess, no auth-int.
 */
#ifndef IMS_DIGEST_H
#define IMS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define IMS_DIGEST_HEX_LEN  32
#define IMS_DIGEST_HEX_SIZE 33 /* with the NUL */

/* HA1 from user and realm (NUL-terminated) and password_len raw octets.
 * ha1 receives 32 lowercase hex + NUL. IMS_OK, or IMS_ERROR if MD5 fails. */
int ims_digest_ha1(const char *user, const char *realm, const uint8_t *password,
                   size_t password_len, char ha1[IMS_DIGEST_HEX_SIZE]);

/* HA2 for qop=auth or no qop. IMS_OK or IMS_ERROR. */
int ims_digest_ha2(const char *method, const char *uri, char ha2[IMS_DIGEST_HEX_SIZE]);

/* The request-digest. qop NULL selects the RFC 2069 form without nc and
 * cnonce (both may then be NULL); otherwise nc and cnonce are required.
 * All inputs NUL-terminated. IMS_OK or IMS_ERROR. */
int ims_digest_response(const char *ha1, const char *nonce, const char *nc, const char *cnonce,
                        const char *qop, const char *ha2, char response[IMS_DIGEST_HEX_SIZE]);

/* Compare a received response (got, got_len characters, from the network)
 * with the expected lowercase hex value. Hex letters compare case-
 * insensitively; the time taken does not depend on where the values differ.
 * IMS_OK when they match, IMS_ERROR otherwise (including any length or
 * non-hex character in got). */
int ims_digest_check(const char *expected, const char *got, size_t got_len);

/* Lowercase hex of len octets into out (out_size >= 2 * len + 1), NUL-
 * terminated. IMS_OK, or IMS_ERROR when out is too small. */
int ims_auth_hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size);
/* Exactly len hex characters (either case) -> len / 2 octets in out.
 * IMS_ERROR on an odd length, a non-hex character or out_size too small;
 * *out_len (may be NULL) receives the octet count. */
int ims_auth_hex_decode(const char *in, size_t len, uint8_t *out, size_t out_size, size_t *out_len);

/* --- parameter parser --------------------------------------------------- */

typedef enum ims_digest_param {
    IMS_DIGEST_USERNAME = 0,
    IMS_DIGEST_REALM,
    IMS_DIGEST_NONCE,
    IMS_DIGEST_URI,
    IMS_DIGEST_RESPONSE,
    IMS_DIGEST_ALGORITHM,
    IMS_DIGEST_CNONCE,
    IMS_DIGEST_NC,
    IMS_DIGEST_QOP,
    IMS_DIGEST_OPAQUE,
    IMS_DIGEST_AUTS,
    IMS_DIGEST_CK,
    IMS_DIGEST_IK,
    IMS_DIGEST_INTEGRITY_PROTECTED,
    IMS_DIGEST_STALE,
    IMS_DIGEST_PARAM_COUNT
} ims_digest_param_t;

/* Most parameters in real traffic; beyond this many the input is refused. */
#define IMS_DIGEST_MAX_PARAMS 32

/* Values after unquoting and unescaping, NUL-terminated. A parameter that
 * was absent is "" with its bit clear in present; nonce="" is "" with the
 * bit set (a first REGISTER sends nonce="" and response=""). The array sizes
 * are the limits: a longer value makes the whole input malformed. */
typedef struct ims_digest_params {
    uint32_t present; /* bit (1u << ims_digest_param_t) */
    char username[256];
    char realm[256];
    char nonce[256];
    char uri[512];
    char response[65];
    char algorithm[32];
    char cnonce[128];
    char nc[16];
    char qop[64];
    char opaque[256];
    char auts[64];
    char ck[65];
    char ik[65];
    char integrity_protected[32];
    char stale[16];
} ims_digest_params_t;

static inline int ims_digest_has(const ims_digest_params_t *p, ims_digest_param_t id)
{
    return (p->present >> id) & 1u;
}

/* Parse a header value such as
 *   Digest username="alice", realm="ims.example", nonce="...", algorithm=AKAv1-MD5
 * (len octets, not necessarily NUL-terminated; from the network). The scheme
 * must be "Digest" (any case) followed by a comma-separated list of
 * name=token or name="quoted string" (RFC 3261 §25.1: \-escapes, LWS around
 * '=' and ','; empty list elements are skipped). Names compare
 * case-insensitively; unknown parameters are checked for syntax and skipped;
 * a known one given twice is an error. Control characters (other than HTAB
 * and line folding) and NUL are refused anywhere.
 * IMS_OK with p filled, or IMS_ERROR for malformed or over-long input (p is
 * then reset to empty). Never reads outside [s, s + len). */
int ims_digest_parse(const char *s, size_t len, ims_digest_params_t *p);

/* The value of parameter id in p (never NULL; "" when absent). */
const char *ims_digest_get(const ims_digest_params_t *p, ims_digest_param_t id);

#endif
