/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Diameter codec: framing, parse + validation, iteration, typed getters and
 * the message builder (RFC 6733 §3, §4).
 *
 * Validation walks the whole message once, recursively into grouped AVPs the
 * dictionary knows (at most DIA_MAX_DEPTH levels, so the recursion is bounded),
 * and stops at the first error with the Result-Code RFC 6733 §7.1 gives it:
 *
 *   header: < 20 octets, Message Length != octets given  5015 INVALID_MESSAGE_LENGTH
 *           version != 1                                   5011 UNSUPPORTED_VERSION
 *           reserved flag bits, or E on a request          3008 INVALID_HDR_BITS
 *   AVP:    length < its header, or past its container;
 *           a grouped AVP its AVPs do not fill exactly;
 *           a fixed-size type with another payload size;
 *           grouped nesting deeper than DIA_MAX_DEPTH      5014 INVALID_AVP_LENGTH
 *           unknown AVP with M set                         5001 AVP_UNSUPPORTED
 *           known AVP with M set where the rule is MUSTNOT 3009 INVALID_AVP_BITS
 *   (unknown AVPs without M are skipped, their contents never looked at).
 *
 * The Failed-AVP for a length error cannot always be the AVP as received: its
 * length field is the very thing that is wrong. RFC 6733 §7.1.5 says what to
 * send instead, and err->failed describes exactly that, so dia_put_raw (which
 * re-encodes from code/flags/vendor/data/len) writes a well-formed AVP:
 *   - an AVP running past its container or shorter than its header: its header
 *     with a zero-filled payload of the minimum size of its type;
 *   - a header cut short at the end of the message: the bytes there, padded
 *     with zeros to a header, with an empty payload;
 *   - a grouped AVP not filled exactly by its AVPs, or nested too deep: the
 *     grouped AVP's header with an empty payload.
 * raw/raw_len then point at the offending bytes, clamped to the message.
 *
 * The contents of a received Failed-AVP are not validated: by definition they
 * hold an AVP the sender found wrong, possibly one we do not know with M set,
 * or one whose length is broken. Iteration stays bounded whatever the bytes.
 *
 * Padding: the last AVP of a message or group may come without its padding
 * (some stacks do not count it in the enclosing length); anything else that
 * does not form an AVP is an error.
 */
#include "diameter/base/codec.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "diameter/base/dict.h"

#define AVP_HDR 8u
#define AVP_HDR_V 12u
#define HDR_RESERVED_BITS 0x0fu

/* Zero-filled stand-in payloads for Failed-AVP (largest fixed size: IPv6 Address). */
static const uint8_t g_zeros[20];

static uint32_t rd24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    wr24(p + 1, v);
}

static size_t pad4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

/* ------------------------------------------------------------------ framing */

int dia_frame_len(const uint8_t *buf, size_t avail, uint32_t *len)
{
    uint32_t l;

    if (avail < 4)
        return IMS_AGAIN;
    l = rd24(buf + 1);
    if (buf[0] != 1 || l < DIA_HDR_LEN || l > DIA_MAX_MSG)
        return IMS_ERROR;
    *len = l;
    return IMS_OK;
}

/* ---------------------------------------------------------------- AVP decode */

typedef enum avp_dec { AVP_DEC_OK, AVP_DEC_SHORT_HDR, AVP_DEC_BAD_LEN } avp_dec_t;

/*
 * Decode the AVP at p with avail bytes left in its container. SHORT_HDR: not
 * even a header there (a left untouched). BAD_LEN: the header is there (code,
 * flags, vendor and raw set) but its length is below the header or past avail.
 */
static avp_dec_t avp_decode(const uint8_t *p, size_t avail, dia_avp_t *a)
{
    uint32_t hdr, alen;

    if (avail < AVP_HDR)
        return AVP_DEC_SHORT_HDR;
    hdr = (p[4] & DIA_AVP_V) ? AVP_HDR_V : AVP_HDR;
    if (avail < hdr)
        return AVP_DEC_SHORT_HDR;
    a->code = rd32(p);
    a->flags = p[4];
    a->vendor = hdr == AVP_HDR_V ? rd32(p + 8) : 0;
    a->raw = p;
    alen = rd24(p + 5);
    if (alen < hdr || alen > avail)
        return AVP_DEC_BAD_LEN;
    a->raw_len = alen;
    a->data = p + hdr;
    a->len = alen - hdr;
    return AVP_DEC_OK;
}

/* Where the AVP after a (decoded, ending at or before end) starts. */
static const uint8_t *avp_next(const dia_avp_t *a, const uint8_t *end)
{
    size_t left = (size_t)(end - a->raw);
    size_t step = pad4(a->raw_len);

    return step < left ? a->raw + step : end;
}

/* ------------------------------------------------------------------ errors */

static int fail(dia_err_t *err, uint32_t rc, const char *what)
{
    err->result_code = rc;
    err->what = what;
    return IMS_ERROR;
}

static int fail_avp(dia_err_t *err, uint32_t rc, const dia_avp_t *a, const char *what)
{
    err->failed = *a;
    return fail(err, rc, what);
}

/* The smallest payload the type allows, for a zero-filled stand-in. */
static uint32_t type_min_len(uint32_t code, uint32_t vendor)
{
    const dia_dict_avp_t *d = dia_dict_avp(code, vendor);

    if (!d)
        return 0;
    switch (d->type) {
    case DIA_T_I32: case DIA_T_U32: case DIA_T_F32: case DIA_T_ENUM: case DIA_T_TIME:
        return 4;
    case DIA_T_I64: case DIA_T_U64: case DIA_T_F64:
        return 8;
    case DIA_T_ADDRESS:
        return 6;
    default:
        return 0;
    }
}

/* a's header is there but its length is impossible (RFC 6733 §7.1.5). */
static int fail_bad_len(dia_err_t *err, const dia_avp_t *a, size_t avail, const char *what)
{
    uint32_t hdr = (a->flags & DIA_AVP_V) ? AVP_HDR_V : AVP_HDR;
    uint32_t alen = rd24(a->raw + 5);

    err->failed = *a;
    err->failed.data = g_zeros;
    err->failed.len = type_min_len(a->code, a->vendor);
    err->failed.raw_len = alen > avail ? (uint32_t)avail : hdr;
    return fail(err, DIA_INVALID_AVP_LENGTH, what);
}

/* Fewer bytes than a header at the end of the message: zero-pad them to one. */
static int fail_short_hdr(dia_err_t *err, const uint8_t *p, size_t avail)
{
    uint8_t h[AVP_HDR_V] = { 0 };

    memcpy(h, p, avail < sizeof(h) ? avail : sizeof(h));
    err->failed.code = rd32(h);
    err->failed.flags = h[4];
    err->failed.vendor = (h[4] & DIA_AVP_V) ? rd32(h + 8) : 0;
    err->failed.data = g_zeros;
    err->failed.len = 0;
    err->failed.raw = p;
    err->failed.raw_len = (uint32_t)avail;
    return fail(err, DIA_INVALID_AVP_LENGTH, "AVP header cut short");
}

/* The grouped AVP itself is wrong: its header with an empty payload. */
static int fail_group(dia_err_t *err, const dia_avp_t *g, const char *what)
{
    err->failed = *g;
    err->failed.len = 0;
    return fail(err, DIA_INVALID_AVP_LENGTH, what);
}

/* -------------------------------------------------------------- validation */

static int check_list(const uint8_t *p, const uint8_t *end, int level,
                      const dia_avp_t *group, dia_err_t *err);

static bool size_ok(dia_type_t t, const dia_avp_t *a)
{
    switch (t) {
    case DIA_T_I32: case DIA_T_U32: case DIA_T_F32: case DIA_T_ENUM: case DIA_T_TIME:
        return a->len == 4;
    case DIA_T_I64: case DIA_T_U64: case DIA_T_F64:
        return a->len == 8;
    case DIA_T_ADDRESS:
        if (a->len < 2)
            return false;
        if (a->data[0] == 0 && a->data[1] == 1)
            return a->len == 6;
        if (a->data[0] == 0 && a->data[1] == 2)
            return a->len == 18;
        return true;    /* other families (RFC 6733 §4.3.1): opaque */
    default:
        return true;
    }
}

/* One well-framed AVP at nesting level (0: top): dictionary checks, then its group. */
static int check_avp(const dia_avp_t *a, int level, dia_err_t *err)
{
    const dia_dict_avp_t *d = dia_dict_avp(a->code, a->vendor);

    if (!d) {
        if (a->flags & DIA_AVP_M)
            return fail_avp(err, DIA_AVP_UNSUPPORTED, a, "unknown AVP with the M bit");
        return IMS_OK;
    }
    if ((a->flags & DIA_AVP_M) && d->m == DIA_M_MUSTNOT)
        return fail_avp(err, DIA_INVALID_AVP_BITS, a, "M bit on an AVP that must not have it");
    if (!size_ok(d->type, a))
        return fail_avp(err, DIA_INVALID_AVP_LENGTH, a, "payload size wrong for the AVP type");
    if (d->type != DIA_T_GROUPED || (a->code == DIA_AVP_FAILED_AVP && a->vendor == 0))
        return IMS_OK;
    if (level >= DIA_MAX_DEPTH)
        return fail_group(err, a, "grouped AVPs nested too deep");
    return check_list(a->data, a->data + a->len, level + 1, a, err);
}

/* The AVPs in [p, end): the message body (group NULL) or a group's payload. */
static int check_list(const uint8_t *p, const uint8_t *end, int level,
                      const dia_avp_t *group, dia_err_t *err)
{
    while (p < end) {
        size_t avail = (size_t)(end - p);
        dia_avp_t a;

        switch (avp_decode(p, avail, &a)) {
        case AVP_DEC_SHORT_HDR:
            if (group)
                return fail_group(err, group, "grouped AVP not filled exactly by its AVPs");
            return fail_short_hdr(err, p, avail);
        case AVP_DEC_BAD_LEN:
            return fail_bad_len(err, &a, avail, group ? "AVP length past its group"
                                                      : "AVP length past the message");
        case AVP_DEC_OK:
            break;
        }
        if (check_avp(&a, level, err) != IMS_OK)
            return IMS_ERROR;
        p = avp_next(&a, end);
    }
    return IMS_OK;
}

/* ------------------------------------------------------------------ parse */

static dia_msg_t *msg_from_buf(uint8_t *buf, uint32_t len)
{
    dia_msg_t *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->buf = buf;
    m->len = len;
    m->flags = buf[4];
    m->code = rd24(buf + 5);
    m->app_id = rd32(buf + 8);
    m->hbh = rd32(buf + 12);
    m->e2e = rd32(buf + 16);
    return m;
}

static dia_msg_t *msg_copy(const uint8_t *buf, size_t len)
{
    uint8_t *copy = malloc(len);
    dia_msg_t *m;

    if (!copy)
        return NULL;
    memcpy(copy, buf, len);
    m = msg_from_buf(copy, (uint32_t)len);
    if (!m)
        free(copy);
    return m;
}

static int check_header(const dia_msg_t *m, dia_err_t *err)
{
    uint8_t f = m->flags;

    if (m->buf[0] != 1)
        return fail(err, DIA_UNSUPPORTED_VERSION, "Diameter version is not 1");
    if (rd24(m->buf + 1) != m->len)
        return fail(err, DIA_INVALID_MESSAGE_LENGTH, "Message Length differs from the bytes");
    if ((f & HDR_RESERVED_BITS) || ((f & DIA_FLAG_R) && (f & DIA_FLAG_E)))
        return fail(err, DIA_INVALID_HDR_BITS, "reserved command flag, or E on a request");
    return IMS_OK;
}

int dia_msg_parse(const uint8_t *buf, size_t len, dia_msg_t **out, dia_err_t *err)
{
    dia_err_t scratch;
    dia_msg_t *m;

    if (!err)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    *out = NULL;
    if (!buf || len < DIA_HDR_LEN || len > DIA_MAX_MSG)
        return fail(err, DIA_INVALID_MESSAGE_LENGTH, "message shorter than a header or too big");
    m = msg_copy(buf, len);
    if (!m)
        return fail(err, DIA_UNABLE_TO_COMPLY, "out of memory");
    *out = m;
    if (check_header(m, err) != IMS_OK)
        return IMS_ERROR;
    /* Validate the copy, so that err->failed points into *out. */
    if (check_list(m->buf + DIA_HDR_LEN, m->buf + m->len, 0, NULL, err) != IMS_OK)
        return IMS_ERROR;
    err->result_code = DIA_SUCCESS;
    return IMS_OK;
}

void dia_msg_free(dia_msg_t *m)
{
    if (!m)
        return;
    free(m->buf);
    free(m);
}

/* ---------------------------------------------------------------- reading */

void dia_iter_msg(const dia_msg_t *m, dia_iter_t *it)
{
    if (!m || !m->buf || m->len < DIA_HDR_LEN) {
        it->p = it->end = NULL;
        return;
    }
    it->p = m->buf + DIA_HDR_LEN;
    it->end = m->buf + m->len;
}

void dia_iter_group(const dia_avp_t *grouped, dia_iter_t *it)
{
    it->p = grouped->data;
    it->end = grouped->data ? grouped->data + grouped->len : NULL;
}

bool dia_iter_next(dia_iter_t *it, dia_avp_t *avp)
{
    if (!it->p || it->p >= it->end)
        return false;
    if (avp_decode(it->p, (size_t)(it->end - it->p), avp) != AVP_DEC_OK) {
        it->p = it->end;
        return false;
    }
    it->p = avp_next(avp, it->end);
    return true;
}

static bool iter_find(dia_iter_t *it, uint32_t code, uint32_t vendor, dia_avp_t *out)
{
    dia_avp_t a;

    while (dia_iter_next(it, &a)) {
        if (a.code == code && a.vendor == vendor) {
            *out = a;
            return true;
        }
    }
    return false;
}

bool dia_msg_find(const dia_msg_t *m, uint32_t code, uint32_t vendor, dia_avp_t *out)
{
    dia_iter_t it;

    dia_iter_msg(m, &it);
    return iter_find(&it, code, vendor, out);
}

bool dia_group_find(const dia_avp_t *g, uint32_t code, uint32_t vendor, dia_avp_t *out)
{
    dia_iter_t it;

    dia_iter_group(g, &it);
    return iter_find(&it, code, vendor, out);
}

int dia_avp_u32(const dia_avp_t *a, uint32_t *v)
{
    if (a->len != 4)
        return IMS_ERROR;
    *v = rd32(a->data);
    return IMS_OK;
}

int dia_avp_u64(const dia_avp_t *a, uint64_t *v)
{
    if (a->len != 8)
        return IMS_ERROR;
    *v = (uint64_t)rd32(a->data) << 32 | rd32(a->data + 4);
    return IMS_OK;
}

int dia_avp_i32(const dia_avp_t *a, int32_t *v)
{
    if (a->len != 4)
        return IMS_ERROR;
    *v = (int32_t)rd32(a->data);
    return IMS_OK;
}

int dia_avp_str(const dia_avp_t *a, char *buf, size_t buflen)
{
    if (buflen == 0 || a->len >= buflen)
        return IMS_ERROR;
    if (a->len && memchr(a->data, '\0', a->len))
        return IMS_ERROR;
    if (a->len)
        memcpy(buf, a->data, a->len);
    buf[a->len] = '\0';
    return IMS_OK;
}

int dia_avp_address(const dia_avp_t *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->len == 6 && a->data[0] == 0 && a->data[1] == 1) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;

        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, a->data + 2, 4);
        return IMS_OK;
    }
    if (a->len == 18 && a->data[0] == 0 && a->data[1] == 2) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, a->data + 2, 16);
        return IMS_OK;
    }
    return IMS_ERROR;
}

int dia_msg_result(const dia_msg_t *m, uint32_t *code, bool *experimental)
{
    dia_avp_t a, rc;

    if (dia_msg_find(m, DIA_AVP_RESULT_CODE, 0, &a) && dia_avp_u32(&a, code) == IMS_OK) {
        *experimental = false;
        return IMS_OK;
    }
    if (dia_msg_find(m, DIA_AVP_EXPERIMENTAL_RESULT, 0, &a) &&
        dia_group_find(&a, DIA_AVP_EXPERIMENTAL_RESULT_CODE, 0, &rc) &&
        dia_avp_u32(&rc, code) == IMS_OK) {
        *experimental = true;
        return IMS_OK;
    }
    return IMS_ERROR;
}

int dia_msg_session_id(const dia_msg_t *m, char *buf, size_t buflen)
{
    dia_avp_t a;

    if (!dia_msg_find(m, DIA_AVP_SESSION_ID, 0, &a))
        return IMS_DECLINED;
    return dia_avp_str(&a, buf, buflen);
}

/* --------------------------------------------------------------- building */

#define BUILD_INITIAL_CAP 512u

/* Room for n more bytes, or the builder fails (size limit, memory). */
static bool b_reserve(dia_builder_t *b, size_t n)
{
    size_t cap;
    uint8_t *nb;

    if (b->failed || !b->buf)
        return false;
    if (n > DIA_MAX_MSG - b->len) {
        b->failed = true;
        return false;
    }
    if (b->len + n <= b->cap)
        return true;
    for (cap = b->cap ? b->cap : BUILD_INITIAL_CAP; cap < b->len + n; cap *= 2)
        ;
    nb = realloc(b->buf, cap);
    if (!nb) {
        b->failed = true;
        return false;
    }
    b->buf = nb;
    b->cap = cap;
    return true;
}

/* Header and payload, padded. The V bit in flags says whether a Vendor-ID follows. */
static void avp_put(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                    const void *data, size_t len)
{
    size_t hdr = (flags & DIA_AVP_V) ? AVP_HDR_V : AVP_HDR;
    size_t total;
    uint8_t *p;

    if (len > DIA_MAX_MSG) {
        b->failed = true;
        return;
    }
    total = pad4(hdr + len);
    if (!b_reserve(b, total))
        return;
    p = b->buf + b->len;
    wr32(p, code);
    p[4] = flags;
    wr24(p + 5, (uint32_t)(hdr + len));
    if (hdr == AVP_HDR_V)
        wr32(p + 8, vendor);
    if (len)
        memcpy(p + hdr, data, len);
    memset(p + hdr + len, 0, total - hdr - len);
    b->len += total;
}

static uint8_t avp_flags(uint8_t flags, uint32_t vendor)
{
    return (uint8_t)((flags & ~DIA_AVP_V) | (vendor ? DIA_AVP_V : 0));
}

static void put_header(uint8_t *p, uint8_t flags, uint32_t code, uint32_t app_id,
                       uint32_t hbh, uint32_t e2e)
{
    p[0] = 1;
    wr24(p + 1, DIA_HDR_LEN);
    p[4] = flags;
    wr24(p + 5, code);
    wr32(p + 8, app_id);
    wr32(p + 12, hbh);
    wr32(p + 16, e2e);
}

void dia_build_init(dia_builder_t *b, uint8_t flags, uint32_t code, uint32_t app_id,
                    uint32_t hbh, uint32_t e2e)
{
    memset(b, 0, sizeof(*b));
    b->buf = malloc(BUILD_INITIAL_CAP);
    if (!b->buf) {
        b->failed = true;
        return;
    }
    b->cap = BUILD_INITIAL_CAP;
    b->len = DIA_HDR_LEN;
    put_header(b->buf, flags, code, app_id, hbh, e2e);
}

void dia_build_answer(dia_builder_t *b, const dia_msg_t *req)
{
    dia_avp_t sid;

    dia_build_init(b, req->flags & DIA_FLAG_P, req->code, req->app_id, req->hbh, req->e2e);
    if (dia_msg_find(req, DIA_AVP_SESSION_ID, 0, &sid))
        dia_put_raw(b, &sid);
}

void dia_put_u32(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor, uint32_t v)
{
    uint8_t d[4];

    wr32(d, v);
    avp_put(b, code, avp_flags(flags, vendor), vendor, d, sizeof(d));
}

void dia_put_u64(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor, uint64_t v)
{
    uint8_t d[8];

    wr32(d, (uint32_t)(v >> 32));
    wr32(d + 4, (uint32_t)v);
    avp_put(b, code, avp_flags(flags, vendor), vendor, d, sizeof(d));
}

void dia_put_i32(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor, int32_t v)
{
    dia_put_u32(b, code, flags, vendor, (uint32_t)v);
}

void dia_put_str(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor, const char *s)
{
    if (!s) {
        b->failed = true;
        return;
    }
    avp_put(b, code, avp_flags(flags, vendor), vendor, s, strlen(s));
}

void dia_put_octets(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                    const void *data, size_t len)
{
    if (!data && len) {
        b->failed = true;
        return;
    }
    avp_put(b, code, avp_flags(flags, vendor), vendor, data, len);
}

void dia_put_address(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                     const struct sockaddr *sa)
{
    uint8_t d[18] = { 0 };

    if (sa && sa->sa_family == AF_INET) {
        d[1] = 1;
        memcpy(d + 2, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        avp_put(b, code, avp_flags(flags, vendor), vendor, d, 6);
    } else if (sa && sa->sa_family == AF_INET6) {
        d[1] = 2;
        memcpy(d + 2, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        avp_put(b, code, avp_flags(flags, vendor), vendor, d, 18);
    } else {
        b->failed = true;
    }
}

/* Re-encoded from the fields rather than copied from raw: for a parsed AVP the
 * bytes are the same (plus padding), and a Failed-AVP stand-in for a length
 * error (see the top of this file) comes out well-formed. */
void dia_put_raw(dia_builder_t *b, const dia_avp_t *avp)
{
    uint8_t flags = avp->flags;

    if (avp->vendor)
        flags |= DIA_AVP_V;
    if (!avp->data && avp->len) {
        b->failed = true;
        return;
    }
    avp_put(b, avp->code, flags, avp->vendor, avp->data, avp->len);
}

void dia_group_begin(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor)
{
    if (b->failed)
        return;
    if (b->depth >= DIA_MAX_DEPTH) {
        b->failed = true;
        return;
    }
    b->groups[b->depth] = b->len;
    avp_put(b, code, avp_flags(flags, vendor), vendor, NULL, 0);
    if (!b->failed)
        b->depth++;
}

void dia_group_end(dia_builder_t *b)
{
    size_t off;

    if (b->failed)
        return;
    if (b->depth <= 0) {
        b->failed = true;
        return;
    }
    off = b->groups[--b->depth];
    /* Inner AVPs are padded, so the group ends on a 4-octet boundary itself. */
    wr24(b->buf + off + 5, (uint32_t)(b->len - off));
}

dia_msg_t *dia_build_finish(dia_builder_t *b)
{
    dia_msg_t *m;

    if (b->failed || !b->buf || b->depth != 0) {
        dia_build_discard(b);
        return NULL;
    }
    wr24(b->buf + 1, (uint32_t)b->len);
    m = msg_from_buf(b->buf, (uint32_t)b->len);
    if (!m) {
        dia_build_discard(b);
        return NULL;
    }
    b->buf = NULL;
    b->len = b->cap = 0;
    b->failed = true;
    return m;
}

void dia_build_discard(dia_builder_t *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
    b->depth = 0;
    b->failed = true;
}

void dia_msg_set_ids(dia_msg_t *m, uint32_t hbh, uint32_t e2e)
{
    m->hbh = hbh;
    m->e2e = e2e;
    if (m->buf && m->len >= DIA_HDR_LEN) {
        wr32(m->buf + 12, hbh);
        wr32(m->buf + 16, e2e);
    }
}

void dia_msg_set_flags(dia_msg_t *m, uint8_t flags)
{
    m->flags = flags;
    if (m->buf && m->len >= DIA_HDR_LEN)
        m->buf[4] = flags;
}
