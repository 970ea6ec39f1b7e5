/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The pre-check: what we verify on the raw bytes before libosip2 sees them.
 *
 * libosip2 was written for well-formed input. It copies the buffer and then
 * works on C strings, so a NUL byte silently cuts a header; it treats a lone
 * CR as a line end where we would not; it answers a duplicate Content-Length
 * with a bare syntax error; it accepts a request line of four parts. And
 * RFC 3261 sets no size limits at all. So every line is checked here, once,
 * in one pass: its length, its bytes (no NUL, no control characters, valid
 * UTF-8 above 0x7F), the start line's shape, the header count, and the one
 * Content-Length. A failure returns a reason phrase that the transport puts
 * in its 400.
 *
 * On UDP the body ends where the datagram ends; RFC 3261 §18.3 says bytes
 * past Content-Length are discarded, and a Content-Length larger than what
 * arrived makes the message unusable. Streams are framed by Content-Length
 * before they reach us, so the same rule holds for them trivially.
 */
#include <stdint.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/sip/msg_int.h"

/* Content-Length value, fed line by line (the value may be folded). */
typedef struct cl_parse {
    int phase;       /* 0: before digits, 1: in digits, 2: after digits */
    bool bad;
    size_t val;
} cl_parse_t;

const bool sip_raw_token_tab[256] = {
    ['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['0' ... '9'] = true,
    ['-'] = true, ['.'] = true, ['!'] = true, ['%'] = true, ['*'] = true,
    ['_'] = true, ['+'] = true, ['`'] = true, ['\''] = true, ['~'] = true,
};

bool sip_raw_name_is(const char *p, size_t n, const char *s)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (s[i] == '\0')
            return false;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)s[i])
            return false;
    }
    return s[n] == '\0';
}

bool sip_raw_header_name(const char *p, size_t n, size_t *name_len, size_t *value_off)
{
    const char *colon = memchr(p, ':', n);
    size_t k, e, i;

    if (colon == NULL)
        return false;
    k = (size_t)(colon - p);
    e = k;
    while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\t'))
        e--;
    if (e == 0)
        return false;
    for (i = 0; i < e; i++)
        if (!sip_raw_is_token_char((unsigned char)p[i]))
            return false;
    *name_len = e;
    *value_off = k + 1;
    return true;
}

static bool is_content_length(const char *p, size_t n)
{
    if (p[0] != 'c' && p[0] != 'C' && p[0] != 'l' && p[0] != 'L')
        return false;
    return sip_raw_name_is(p, n, "content-length") || sip_raw_name_is(p, n, "l");
}

static void cl_feed(cl_parse_t *st, const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n && !st->bad; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c == ' ' || c == '\t') {
            if (st->phase == 1)
                st->phase = 2;
        } else if (c >= '0' && c <= '9' && st->phase != 2) {
            st->phase = 1;
            /* Saturate: any value this large exceeds every buffer anyway. */
            st->val = st->val > (SIZE_MAX / 2) / 10 ? SIZE_MAX / 2 : st->val * 10 + (c - '0');
        } else {
            st->bad = true;
        }
    }
}

static bool cl_ok(const cl_parse_t *st)
{
    return !st->bad && st->phase != 0;
}

/* Length of the valid UTF-8 sequence at p[0..n) (p[0] >= 0x80), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t k, i;

    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4;
    else
        return 0;
    /* Overlong forms, UTF-16 surrogates and code points above U+10FFFF. */
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (n < k || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < k; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return k;
}

#define BYTES_01 0x0101010101010101ull
#define BYTES_80 0x8080808080808080ull

/* True when the 8 bytes at p are all printable ASCII (0x20..0x7e), tested a
 * word at a time: every message passes here byte by byte, and almost all of
 * its bytes are such. (Any byte < 0x20, or > 0x7e, sets its high bit below.) */
static bool word_printable(const unsigned char *p)
{
    uint64_t w;

    memcpy(&w, p, sizeof(w));
    return (((w - BYTES_01 * 0x20) & ~w) | ((w + BYTES_01 * (0x7f - 0x7e)) | w)) & BYTES_80
           ? false : true;
}

/* The bytes of one line (line end removed). NULL when fine, else the reason. */
static const char *check_line_bytes(const char *line, size_t n)
{
    const unsigned char *p = (const unsigned char *)line;
    size_t i = 0;

    if (n > SIP_MAX_LINE)
        return "Header line too long";
    while (i < n) {
        unsigned char c;
        size_t k;

        if (n - i >= 8 && word_printable(p + i)) {
            i += 8;
            continue;
        }
        c = p[i];

        if ((c >= 0x20 && c < 0x7f) || c == '\t') {
            i++;
            continue;
        }
        if (c == '\0')
            return "NUL byte in message";
        if (c < 0x80)
            return c == '\r' ? "Bare CR in header" : "Control character in header";
        k = utf8_seq(p + i, n - i);
        if (k == 0)
            return "Invalid UTF-8";
        i += k;
    }
    return NULL;
}

static const char *check_request_line(const char *p, size_t n)
{
    const char *sp1 = memchr(p, ' ', n), *uri, *sp2, *ver;
    size_t i, vlen;

    if (sp1 == NULL || sp1 == p || memchr(p, '\t', n) != NULL)
        return "Bad request line";
    for (i = 0; p + i < sp1; i++)
        if (!sip_raw_is_token_char((unsigned char)p[i]))
            return "Bad method";
    uri = sp1 + 1;
    sp2 = memchr(uri, ' ', (size_t)(p + n - uri));
    if (sp2 == NULL || sp2 == uri)
        return "Bad request line";
    ver = sp2 + 1;
    vlen = (size_t)(p + n - ver);
    if (vlen == 0 || memchr(ver, ' ', vlen) != NULL)
        return "Bad request line";
    if (!sip_raw_name_is(ver, vlen, "sip/2.0"))
        return "Bad SIP version";
    return NULL;
}

static const char *check_status_line(const char *p, size_t n)
{
    if (n < 12 || !sip_raw_name_is(p, 7, "sip/2.0") || p[7] != ' ' || p[11] != ' ')
        return "Bad status line";
    if (p[8] < '1' || p[8] > '6' || p[9] < '0' || p[9] > '9' || p[10] < '0' || p[10] > '9')
        return "Bad status line";
    return NULL;
}

/* Note a Via or Record-Route line for msg_via.c in lines (*nl of max); a
 * continuation of one, or one too many, makes the set not plain. */
static void note_line(sip_via_line_t *lines, size_t *nl, size_t max, bool *plain, size_t off,
                      size_t end, size_t voff, size_t n)
{
    sip_via_line_t *v;

    if (*nl >= max) {
        *plain = false;
        return;
    }
    v = &lines[(*nl)++];
    v->off = off;
    v->end = end;
    v->voff = off + voff;
    v->vlen = n - voff;
}

/*
 * The header lines from *pos up to and including the empty line. Sets
 * *body_off, *has_cl, *cl and pc's Via lines. NULL when fine, else the reason.
 */
static const char *check_headers(const char *buf, size_t len, size_t *pos, size_t *body_off,
                                 bool *has_cl, size_t *cl, sip_precheck_t *pc)
{
    cl_parse_t st = {0, false, 0};
    bool in_cl = false, in_via = false, in_rr = false, lf;
    size_t count = 0, name_len, voff, off;
    const char *p, *r;
    size_t n;

    pc->vias_plain = pc->rrs_plain = true;
    for (;;) {
        off = *pos;
        if (!sip_raw_next_line(buf, len, pos, &p, &n, &lf))
            return "Missing end of headers";
        if (n == 0 && lf)
            break;
        if (++count > SIP_MAX_HEADERS)
            return "Too many headers";
        if ((r = check_line_bytes(p, n)) != NULL)
            return r;
        if (!lf)
            return "Missing end of headers";
        if (p[0] == ' ' || p[0] == '\t') {
            /* A folded continuation of the previous header (RFC 3261 §7.3.1). */
            if (count == 1)
                return "Bad header line";
            if (in_cl)
                cl_feed(&st, p, n);
            if (in_via)
                pc->vias_plain = false;
            if (in_rr)
                pc->rrs_plain = false;
            continue;
        }
        if (in_cl && !cl_ok(&st))
            return "Bad Content-Length";
        in_cl = false;
        if (!sip_raw_header_name(p, n, &name_len, &voff))
            return "Bad header line";
        in_via = (p[0] | 0x20) == 'v' && (name_len == 1 || sip_raw_name_is(p, name_len, "via"));
        if (in_via)
            note_line(pc->via, &pc->nvia, SIP_VIA_LINES_MAX, &pc->vias_plain, off, *pos, voff, n);
        in_rr = (p[0] | 0x20) == 'r' && name_len == 12 &&
                sip_raw_name_is(p, name_len, "record-route");
        if (in_rr)
            note_line(pc->rr, &pc->nrr, SIP_RR_LINES_MAX, &pc->rrs_plain, off, *pos, voff, n);
        if (is_content_length(p, name_len)) {
            if (*has_cl)
                return "Duplicate Content-Length";
            *has_cl = in_cl = true;
            cl_feed(&st, p + voff, n - voff);
        }
    }
    if (in_cl && !cl_ok(&st))
        return "Bad Content-Length";
    *body_off = *pos;
    *cl = st.val;
    return NULL;
}

int sip_msg_precheck(const char *buf, size_t len, size_t max_size, sip_precheck_t *pc,
                     const char **reason)
{
    size_t pos = 0, body_off = 0, cl = 0, n = 0;
    bool has_cl = false, lf = false;
    const char *p = buf, *r;

    memset(pc, 0, sizeof(*pc));
    while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n'))
        pos++;
    if (pos == len)
        return IMS_DECLINED;
    pc->start = pos;
    pc->is_response = len - pos >= 4 && memcmp(buf + pos, "SIP/", 4) == 0;
    if (len > max_size) {
        *reason = "Message Too Large";
        return IMS_ERROR;
    }
    sip_raw_next_line(buf, len, &pos, &p, &n, &lf);
    r = check_line_bytes(p, n);
    if (r == NULL)
        r = pc->is_response ? check_status_line(p, n) : check_request_line(p, n);
    if (r == NULL && !lf)
        r = "Missing end of headers";
    if (r == NULL)
        r = check_headers(buf, len, &pos, &body_off, &has_cl, &cl, pc);
    if (r == NULL && has_cl && cl > len - body_off)
        r = "Content-Length larger than body";
    if (r != NULL) {
        *reason = r;
        return IMS_ERROR;
    }
    pc->len = (has_cl ? body_off + cl : len) - pc->start;
    return IMS_OK;
}

int sip_raw_content_length(const char *buf, size_t len, size_t *cl)
{
    cl_parse_t st = {0, false, 0};
    size_t pos = 0, n, name_len, voff;
    bool found = false, in_cl = false, lf, first = true;
    const char *p;

    while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n'))
        pos++;
    while (sip_raw_next_line(buf, len, &pos, &p, &n, &lf) && n > 0) {
        if (first) {
            first = false;
            continue;
        }
        if (p[0] == ' ' || p[0] == '\t') {
            if (in_cl)
                cl_feed(&st, p, n);
            continue;
        }
        if (in_cl && !cl_ok(&st))
            return IMS_ERROR;
        in_cl = false;
        if (!sip_raw_header_name(p, n, &name_len, &voff) || !is_content_length(p, name_len))
            continue;
        if (found)
            return IMS_ERROR;
        found = in_cl = true;
        cl_feed(&st, p + voff, n - voff);
    }
    if (!found)
        return IMS_DECLINED;
    if (!cl_ok(&st))
        return IMS_ERROR;
    *cl = st.val;
    return IMS_OK;
}
