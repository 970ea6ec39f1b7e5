/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Base64 (RFC 4648 §4, standard alphabet) for AKA nonces (RFC 3310 §3.2) and
 * the auts parameter. Both directions are bounded by the caller's buffer and
 * never rely on NUL termination of their input.
 */
#ifndef IMS_BASE64_H
#define IMS_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n octets, without the terminating NUL. */
#define IMS_BASE64_ENC_LEN(n)   ((((n) + 2) / 3) * 4)
/* Upper bound on the octets that len base64 characters decode to. */
#define IMS_BASE64_DEC_MAX(len) (((len) + 3) / 4 * 3)

/* Encode len octets of in, with '=' padding, into out and NUL-terminate it.
 * out_size must be at least IMS_BASE64_ENC_LEN(len) + 1. *out_len (may be
 * NULL) receives the number of characters written without the NUL.
 * IMS_OK, or IMS_ERROR when out is too small (out is then an empty string
 * if out_size > 0). */
int ims_base64_encode(const uint8_t *in, size_t len, char *out, size_t out_size, size_t *out_len);

/* Decode len characters of in into out (out_size octets) and set *out_len.
 * Accepts the standard alphabet with correct '=' padding, or the same text
 * with the padding left off (some clients drop it). Rejects anything else:
 * other characters (whitespace and NUL included), '=' anywhere but the end,
 * a dangling single character, non-zero bits in the last character's unused
 * part, or output that would not fit. IMS_OK or IMS_ERROR; on error the
 * contents of out are unspecified. */
int ims_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_size, size_t *out_len);

#endif
