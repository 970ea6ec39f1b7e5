/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Parser for the Digest parameter list of Authorization, Proxy-Authorization
 * and WWW-Authenticate values (RFC 3261 §25.1 / RFC 2617 §3.2):
 *
 *   "Digest" LWS param *(COMMA param)
 *   param = token EQUAL (token / quoted-string)
 *
 * The input comes from the network: every step checks the remaining length,
 * values are copied into fixed-size fields (too long = malformed), and the
 * parser never relies on a NUL terminator. It is a single left-to-right pass
 * over a {ptr, len} string with a cursor.
 */
#include "common/auth/digest.h"

#include <stddef.h>
#include <string.h>

#include "common/core/rc.h"

typedef struct cursor {
    const char *s;
    size_t len;
    size_t pos;
} cursor_t;

typedef struct param_slot {
    const char *name;
    size_t offset;
    size_t size;
} param_slot_t;

#define SLOT(id, field)                                    \
    [id] = { #field, offsetof(ims_digest_params_t, field), \
             sizeof(((ims_digest_params_t *)0)->field) }

/* Indexed by ims_digest_param_t; names equal the field names except one. */
static const param_slot_t slots[IMS_DIGEST_PARAM_COUNT] = {
    SLOT(IMS_DIGEST_USERNAME, username),
    SLOT(IMS_DIGEST_REALM, realm),
    SLOT(IMS_DIGEST_NONCE, nonce),
    SLOT(IMS_DIGEST_URI, uri),
    SLOT(IMS_DIGEST_RESPONSE, response),
    SLOT(IMS_DIGEST_ALGORITHM, algorithm),
    SLOT(IMS_DIGEST_CNONCE, cnonce),
    SLOT(IMS_DIGEST_NC, nc),
    SLOT(IMS_DIGEST_QOP, qop),
    SLOT(IMS_DIGEST_OPAQUE, opaque),
    SLOT(IMS_DIGEST_AUTS, auts),
    SLOT(IMS_DIGEST_CK, ck),
    SLOT(IMS_DIGEST_IK, ik),
    [IMS_DIGEST_INTEGRITY_PROTECTED] = { "integrity-protected",
                                         offsetof(ims_digest_params_t, integrity_protected),
                                         sizeof(((ims_digest_params_t *)0)->integrity_protected) },
    SLOT(IMS_DIGEST_STALE, stale),
};

/* RFC 3261 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
static int is_token_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("-.!%*_+`'~", c) != NULL;
}

static int peek(const cursor_t *c)
{
    return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

/* LWS = [*WSP CRLF] 1*WSP; a bare CR or LF is left for the caller to refuse. */
static void skip_lws(cursor_t *c)
{
    for (;;) {
        int ch = peek(c);
        if (ch == ' ' || ch == '\t') {
            c->pos++;
        } else if (ch == '\r' && c->pos + 2 < c->len && c->s[c->pos + 1] == '\n' &&
                   (c->s[c->pos + 2] == ' ' || c->s[c->pos + 2] == '\t')) {
            c->pos += 3;
        } else {
            return;
        }
    }
}

static size_t scan_token(cursor_t *c)
{
    size_t start = c->pos;

    while (c->pos < c->len && is_token_char((unsigned char)c->s[c->pos]))
        c->pos++;
    return c->pos - start;
}

static int ascii_ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);

    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

/* Characters allowed inside a quoted string, literally or after '\':
 * anything but controls (HTAB allowed) and DEL; octets >= 0x80 pass as UTF-8. */
static int is_quoted_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Append ch to dst (size dsize, *n used). IMS_ERROR when it would not fit
 * with the terminating NUL. dst NULL only measures (unknown parameters). */
static int put(char *dst, size_t dsize, size_t *n, char ch)
{
    if (*n + 1 >= dsize)
        return IMS_ERROR;
    if (dst != NULL)
        dst[*n] = ch;
    (*n)++;
    return IMS_OK;
}

/* Cursor on the opening '"'. Copies the unescaped contents into dst. */
static int parse_quoted(cursor_t *c, char *dst, size_t dsize)
{
    size_t n = 0;

    c->pos++;
    for (;;) {
        int ch = peek(c);
        if (ch < 0)
            return IMS_ERROR; /* unterminated */
        if (ch == '"') {
            c->pos++;
            break;
        }
        if (ch == '\r') {
            size_t before = c->pos;
            skip_lws(c); /* folding inside quotes counts as LWS: keep one SP */
            if (c->pos == before || put(dst, dsize, &n, ' ') != IMS_OK)
                return IMS_ERROR;
            continue;
        }
        if (ch == '\\') {
            c->pos++;
            ch = peek(c);
            if (ch < 0)
                return IMS_ERROR;
        }
        if (!is_quoted_char((unsigned char)ch) || put(dst, dsize, &n, (char)ch) != IMS_OK)
            return IMS_ERROR;
        c->pos++;
    }
    if (dst != NULL)
        dst[n] = '\0';
    return IMS_OK;
}

static int parse_token_value(cursor_t *c, char *dst, size_t dsize)
{
    size_t start = c->pos, n = scan_token(c);

    if (n == 0 || n + 1 > dsize)
        return IMS_ERROR;
    if (dst != NULL) {
        memcpy(dst, c->s + start, n);
        dst[n] = '\0';
    }
    return IMS_OK;
}

/* The slot for a parameter name, or -1 for one we do not keep. */
static int find_slot(const char *name, size_t len)
{
    for (int i = 0; i < IMS_DIGEST_PARAM_COUNT; i++) {
        if (ascii_ieq(name, len, slots[i].name))
            return i;
    }
    return -1;
}

/* One name=value; the cursor is on the first character of the name. */
static int parse_param(cursor_t *c, ims_digest_params_t *p)
{
    size_t name_at = c->pos, name_len = scan_token(c);
    char *dst = NULL;
    size_t dsize = sizeof(p->uri); /* the bound for unknown parameters */
    int id;

    if (name_len == 0)
        return IMS_ERROR;
    id = find_slot(c->s + name_at, name_len);
    if (id >= 0) {
        if (ims_digest_has(p, (ims_digest_param_t)id))
            return IMS_ERROR; /* RFC 2617: each directive at most once */
        dst = (char *)p + slots[id].offset;
        dsize = slots[id].size;
    }
    skip_lws(c);
    if (peek(c) != '=')
        return IMS_ERROR;
    c->pos++;
    skip_lws(c);
    if (peek(c) == '"') {
        if (parse_quoted(c, dst, dsize) != IMS_OK)
            return IMS_ERROR;
    } else if (parse_token_value(c, dst, dsize) != IMS_OK) {
        return IMS_ERROR;
    }
    if (id >= 0)
        p->present |= 1u << id;
    return IMS_OK;
}

static int parse_scheme(cursor_t *c)
{
    size_t at, n, before;

    skip_lws(c);
    at = c->pos;
    n = scan_token(c);
    if (!ascii_ieq(c->s + at, n, "Digest"))
        return IMS_ERROR;
    before = c->pos;
    skip_lws(c);
    return c->pos > before ? IMS_OK : IMS_ERROR; /* "Digest" LWS params */
}

static int parse_list(cursor_t *c, ims_digest_params_t *p)
{
    int count = 0;

    if (parse_scheme(c) != IMS_OK)
        return IMS_ERROR;
    for (;;) {
        skip_lws(c);
        if (peek(c) < 0)
            break;
        if (peek(c) == ',') { /* empty list element (RFC 7230 §7) */
            c->pos++;
            continue;
        }
        if (++count > IMS_DIGEST_MAX_PARAMS || parse_param(c, p) != IMS_OK)
            return IMS_ERROR;
        skip_lws(c);
        if (peek(c) < 0)
            break;
        if (peek(c) != ',')
            return IMS_ERROR;
        c->pos++;
    }
    return count > 0 ? IMS_OK : IMS_ERROR;
}

int ims_digest_parse(const char *s, size_t len, ims_digest_params_t *p)
{
    cursor_t c = { s, len, 0 };

    memset(p, 0, sizeof(*p));
    if (s == NULL || parse_list(&c, p) != IMS_OK) {
        memset(p, 0, sizeof(*p));
        return IMS_ERROR;
    }
    return IMS_OK;
}

const char *ims_digest_get(const ims_digest_params_t *p, ims_digest_param_t id)
{
    if ((unsigned)id >= IMS_DIGEST_PARAM_COUNT)
        return "";
    return (const char *)p + slots[id].offset;
}
