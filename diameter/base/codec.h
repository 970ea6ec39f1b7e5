/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Diameter message codec (RFC 6733 §3, §4): parse with bounds and validation,
 * iterate AVPs without copying, and build messages into one growing buffer.
 *
 * A parsed message owns one copy of its bytes; dia_avp_t values point into it
 * and stay valid while the message lives. Parsing validates the whole message
 * first (header, every AVP length, grouped AVPs filling exactly, fixed-size
 * types, M-bits against the dictionary), so iteration afterwards needs no checks.
 * (The contents of a received Failed-AVP are not validated: they are what the
 * sender found wrong. Iteration is bounds-checked whatever the bytes.)
 */
#ifndef DIA_CODEC_H
#define DIA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DIA_HDR_LEN 20u
#define DIA_MAX_MSG (1u << 20)    /* largest message we accept or build */
#define DIA_MAX_DEPTH 8           /* grouped AVP nesting */

/* Command flags */
#define DIA_FLAG_R 0x80u
#define DIA_FLAG_P 0x40u
#define DIA_FLAG_E 0x20u
#define DIA_FLAG_T 0x10u
/* AVP flags */
#define DIA_AVP_V 0x80u
#define DIA_AVP_M 0x40u

#define DIA_VENDOR_3GPP 10415u

typedef struct dia_avp {
    uint32_t code;
    uint32_t vendor;          /* 0 when the V bit is clear */
    uint8_t flags;
    const uint8_t *data;      /* payload, unpadded */
    uint32_t len;             /* payload length */
    const uint8_t *raw;       /* the whole AVP (header + payload), for Failed-AVP */
    uint32_t raw_len;         /* AVP Length field (header + payload, no padding) */
} dia_avp_t;

typedef struct dia_msg {
    uint8_t flags;
    uint32_t code;
    uint32_t app_id;
    uint32_t hbh;             /* Hop-by-Hop Identifier */
    uint32_t e2e;             /* End-to-End Identifier */
    uint8_t *buf;             /* the whole message, owned */
    uint32_t len;
} dia_msg_t;

/* Why a message was refused: the Result-Code to answer with (RFC 6733 §7.1),
 * and the offending AVP for Failed-AVP when there is one: send it with
 * dia_put_raw inside a Failed-AVP group. For a length error its data/len are
 * the stand-in RFC 6733 §7.1.5 asks for (zero-filled minimum payload; empty for
 * a grouped AVP), while raw/raw_len point at the bytes received, clamped to the
 * message. It points into the message dia_msg_parse returned. */
typedef struct dia_err {
    uint32_t result_code;     /* e.g. 5014 DIAMETER_INVALID_AVP_LENGTH */
    dia_avp_t failed;         /* failed.raw NULL when none */
    const char *what;         /* static text for logs */
} dia_err_t;

/*
 * Framing on a stream: with avail bytes at buf, IMS_AGAIN until the 4-byte
 * version+length is there; then IMS_OK with *len = the message length, or
 * IMS_ERROR (bad version, length < 20 or > DIA_MAX_MSG): the stream is unusable.
 */
int dia_frame_len(const uint8_t *buf, size_t avail, uint32_t *len);

/*
 * Parse and validate one complete message (buf is copied). IMS_OK with *out, or
 * IMS_ERROR with err filled; *out is then still set when the header was readable
 * (so the caller can answer a request with err->result_code), NULL otherwise.
 */
int dia_msg_parse(const uint8_t *buf, size_t len, dia_msg_t **out, dia_err_t *err);
void dia_msg_free(dia_msg_t *m);
static inline bool dia_msg_is_request(const dia_msg_t *m) { return (m->flags & DIA_FLAG_R) != 0; }

/* ---- reading ---- */
typedef struct dia_iter {
    const uint8_t *p, *end;
} dia_iter_t;

void dia_iter_msg(const dia_msg_t *m, dia_iter_t *it);
void dia_iter_group(const dia_avp_t *grouped, dia_iter_t *it);
/* Next AVP, false at the end (or on bytes that do not form an AVP). */
bool dia_iter_next(dia_iter_t *it, dia_avp_t *avp);

/* First AVP with code/vendor at the top level / inside a grouped AVP. */
bool dia_msg_find(const dia_msg_t *m, uint32_t code, uint32_t vendor, dia_avp_t *out);
bool dia_group_find(const dia_avp_t *g, uint32_t code, uint32_t vendor, dia_avp_t *out);

/* Typed getters: IMS_OK, or IMS_ERROR when the payload has the wrong size. */
int dia_avp_u32(const dia_avp_t *a, uint32_t *v);
int dia_avp_u64(const dia_avp_t *a, uint64_t *v);
int dia_avp_i32(const dia_avp_t *a, int32_t *v);
/* Copy a UTF8String/OctetString into buf as a C string; IMS_ERROR if it does not
 * fit or contains a NUL. */
int dia_avp_str(const dia_avp_t *a, char *buf, size_t buflen);
/* Address type (family 1 IPv4, 2 IPv6) into a sockaddr (port 0). */
int dia_avp_address(const dia_avp_t *a, struct sockaddr_storage *ss);

/* Result-Code, or Experimental-Result-Code (*experimental true). IMS_ERROR if neither. */
int dia_msg_result(const dia_msg_t *m, uint32_t *code, bool *experimental);
/* Session-Id into buf; IMS_DECLINED when absent. */
int dia_msg_session_id(const dia_msg_t *m, char *buf, size_t buflen);

/* ---- building ---- */
typedef struct dia_builder {
    uint8_t *buf;
    size_t len, cap;
    size_t groups[DIA_MAX_DEPTH];  /* offsets of open grouped AVPs */
    int depth;
    bool failed;                   /* a put failed (size limit); finish returns NULL */
} dia_builder_t;

/* Start a message. hbh/e2e may be 0 and set by the peer layer at send. */
void dia_build_init(dia_builder_t *b, uint8_t flags, uint32_t code, uint32_t app_id,
                    uint32_t hbh, uint32_t e2e);
/* Start the answer to req: same code, app, hbh, e2e; R cleared, P kept; the
 * request's Session-Id copied first when present. */
void dia_build_answer(dia_builder_t *b, const dia_msg_t *req);
/* flags: DIA_AVP_M or 0; the V bit is set when vendor != 0. */
void dia_put_u32(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor, uint32_t v);
void dia_put_u64(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor, uint64_t v);
void dia_put_i32(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor, int32_t v);
void dia_put_str(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor, const char *s);
void dia_put_octets(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                    const void *data, size_t len);
void dia_put_address(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                     const struct sockaddr *sa);
/* Append an already-encoded AVP (e.g. a received one for Failed-AVP). It is
 * re-encoded from code/flags/vendor/data/len: for a parsed AVP the same bytes. */
void dia_put_raw(dia_builder_t *b, const dia_avp_t *avp);
void dia_group_begin(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor);
void dia_group_end(dia_builder_t *b);
/* Close the message: a new dia_msg_t owning the bytes, or NULL (builder freed
 * either way). */
dia_msg_t *dia_build_finish(dia_builder_t *b);
void dia_build_discard(dia_builder_t *b);

/* Set hop-by-hop / end-to-end ids (and flags) in an encoded message. */
void dia_msg_set_ids(dia_msg_t *m, uint32_t hbh, uint32_t e2e);
void dia_msg_set_flags(dia_msg_t *m, uint8_t flags);

#endif
