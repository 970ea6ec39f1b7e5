/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Answering a request that could not be parsed.
 *
 * RFC 3261 §8.2.6 builds a response from the request's Via, From, To, Call-ID
 * and CSeq; when the request failed parsing we have no parsed headers, so we
 * find those lines in the raw bytes and copy them as they are. The scan is
 * bounded by len, never assumes NUL termination, and refuses (so the request
 * is dropped) when a line we would copy holds a NUL byte or is longer than
 * SIP_MAX_LINE: we echo nothing we would not accept ourselves. A response is
 * never answered, and a To without a tag gets one (§8.2.6.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/sip/msg_int.h"

#define RAW_TAG_LEN     16
#define RAW_REASON_MAX  127

/* A header as it appears in the raw bytes: first line to end of its last
 * continuation line, line end of the last line excluded. len 0: absent. */
typedef struct raw_hdr {
    size_t off, len;
} raw_hdr_t;

typedef struct raw_scan {
    raw_hdr_t via[SIP_MAX_HEADERS];
    size_t nvia;
    raw_hdr_t from, to, call_id, cseq;
} raw_scan_t;

/* The slot for a header of this name, NULL when we do not copy it. */
static raw_hdr_t *slot_for(raw_scan_t *sc, const char *name, size_t n)
{
    raw_hdr_t *h = NULL;

    if (sip_raw_name_is(name, n, "via") || sip_raw_name_is(name, n, "v"))
        return sc->nvia < SIP_MAX_HEADERS ? &sc->via[sc->nvia++] : NULL;
    if (sip_raw_name_is(name, n, "from") || sip_raw_name_is(name, n, "f"))
        h = &sc->from;
    else if (sip_raw_name_is(name, n, "to") || sip_raw_name_is(name, n, "t"))
        h = &sc->to;
    else if (sip_raw_name_is(name, n, "call-id") || sip_raw_name_is(name, n, "i"))
        h = &sc->call_id;
    else if (sip_raw_name_is(name, n, "cseq"))
        h = &sc->cseq;
    /* Only the first of each: a response carries one. */
    return h != NULL && h->len == 0 ? h : NULL;
}

static bool line_copyable(const char *p, size_t n)
{
    return n <= SIP_MAX_LINE && memchr(p, '\0', n) == NULL;
}

/* Find the lines to copy. False when buf is not an answerable request. */
static bool raw_scan(const char *buf, size_t len, raw_scan_t *sc)
{
    size_t pos = 0, n, name_len, voff;
    raw_hdr_t *cur = NULL;
    const char *p;
    bool lf;

    memset(sc, 0, sizeof(*sc));
    while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n'))
        pos++;
    if (len - pos >= 4 && memcmp(buf + pos, "SIP/", 4) == 0)
        return false;
    if (!sip_raw_next_line(buf, len, &pos, &p, &n, &lf) || !lf)
        return false;
    /* Only complete lines count: a cut-off last line is not copied. */
    while (sip_raw_next_line(buf, len, &pos, &p, &n, &lf) && lf && n > 0) {
        if (p[0] == ' ' || p[0] == '\t') {
            if (cur == NULL)
                continue;
            if (!line_copyable(p, n))
                return false;
            cur->len = (size_t)(p + n - (buf + cur->off));
            continue;
        }
        cur = NULL;
        if (!sip_raw_header_name(p, n, &name_len, &voff))
            continue;
        cur = slot_for(sc, p, name_len);
        if (cur == NULL)
            continue;
        if (!line_copyable(p, n))
            return false;
        cur->off = (size_t)(p - buf);
        cur->len = n;
    }
    return sc->nvia > 0 && sc->from.len > 0 && sc->to.len > 0 && sc->call_id.len > 0 &&
           sc->cseq.len > 0;
}

bool sip_raw_answerable(const char *buf, size_t len)
{
    raw_scan_t *sc = malloc(sizeof(*sc));
    bool ok;

    if (sc == NULL)
        return false;
    ok = raw_scan(buf, len, sc);
    free(sc);
    return ok;
}

static bool is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Does the To value p[0..n) carry a tag parameter (outside <> and quotes)? */
static bool has_tag(const char *p, size_t n)
{
    bool inq = false, angle = false;
    size_t i, j;

    for (i = 0; i < n; i++) {
        char c = p[i];

        if (inq) {
            if (c == '\\')
                i++;
            else if (c == '"')
                inq = false;
            continue;
        }
        if (c == '"') {
            inq = true;
        } else if (c == '<') {
            angle = true;
        } else if (c == '>') {
            angle = false;
        } else if (c == ';' && !angle) {
            for (j = i + 1; j < n && is_lws(p[j]); j++)
                ;
            if (n - j < 3 || !sip_raw_name_is(p + j, 3, "tag"))
                continue;
            for (j += 3; j < n && is_lws(p[j]); j++)
                ;
            if (j < n && p[j] == '=')
                return true;
        }
    }
    return false;
}

static char *put(char *o, const void *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

/* Copy header h line by line with CRLF line ends; tag: append to the value. */
static char *put_hdr(char *o, const char *buf, const raw_hdr_t *h, const char *tag)
{
    size_t pos = h->off, end = h->off + h->len, n;
    const char *p;
    bool lf;

    while (sip_raw_next_line(buf, end, &pos, &p, &n, &lf)) {
        if (pos >= end && tag != NULL) {
            while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
            o = put(put(put(o, p, n), ";tag=", 5), tag, strlen(tag));
        } else {
            o = put(o, p, n);
        }
        o = put(o, "\r\n", 2);
    }
    return o;
}

/* reason without control characters, bounded; "Bad Request" when empty. */
static void clean_reason(const char *reason, char *out)
{
    size_t i, k = 0;

    for (i = 0; reason != NULL && reason[i] != '\0' && k < RAW_REASON_MAX; i++) {
        unsigned char c = (unsigned char)reason[i];

        if (c >= 0x20 && c != 0x7f)
            out[k++] = (char)c;
    }
    out[k] = '\0';
    if (k == 0)
        strcpy(out, "Bad Request");
}

static char *build(const char *buf, const raw_scan_t *sc, int code, const char *reason,
                   size_t *outlen)
{
    char rs[RAW_REASON_MAX + 1], tag[RAW_TAG_LEN + 1], *out, *o;
    const raw_hdr_t *fixed[] = {&sc->from, &sc->to, &sc->call_id, &sc->cseq};
    size_t i, size, voff = 0, nlen;
    bool add_tag;

    clean_reason(reason, rs);
    sip_raw_header_name(buf + sc->to.off, sc->to.len, &nlen, &voff);
    add_tag = !has_tag(buf + sc->to.off + voff, sc->to.len - voff);
    if (add_tag)
        sip_random_token(tag, RAW_TAG_LEN);
    /* Line ends may grow from LF to CRLF: at most one byte per byte copied. */
    size = 64 + strlen(rs) + RAW_TAG_LEN;
    for (i = 0; i < sc->nvia; i++)
        size += 2 * sc->via[i].len + 2;
    for (i = 0; i < IMS_ARRAY_LEN(fixed); i++)
        size += 2 * fixed[i]->len + 2;
    out = malloc(size);
    if (out == NULL)
        return NULL;
    o = out + snprintf(out, size, "SIP/2.0 %d %s\r\n", code, rs);
    for (i = 0; i < sc->nvia; i++)
        o = put_hdr(o, buf, &sc->via[i], NULL);
    for (i = 0; i < IMS_ARRAY_LEN(fixed); i++)
        o = put_hdr(o, buf, fixed[i], fixed[i] == &sc->to && add_tag ? tag : NULL);
    o = put(o, "Content-Length: 0\r\n\r\n", 21);
    *o = '\0';
    *outlen = (size_t)(o - out);
    return out;
}

char *sip_msg_raw_response(const char *buf, size_t len, int code, const char *reason,
                           size_t *outlen)
{
    raw_scan_t *sc;
    char *out = NULL;

    if (buf == NULL || code < 300 || code > 699)
        return NULL;
    /* About 4 KiB of spans: from the heap, this runs only on the error path. */
    sc = malloc(sizeof(*sc));
    if (sc == NULL)
        return NULL;
    if (raw_scan(buf, len, sc))
        out = build(buf, sc, code, reason, outlen);
    free(sc);
    return out;
}

char *sip_msg_raw_400(const char *buf, size_t len, const char *reason, size_t *outlen)
{
    return sip_msg_raw_response(buf, len, 400, reason, outlen);
}
