/* SPDX-License-Identifier: BSD-2-Clause */
/* The head of an HTTP/1.x request to the operations port (see http_req.h). */
#include "common/ops/http_req.h"

#include <string.h>
#include <strings.h>

size_t ims_http_head_len(const char *buf, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < n && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* The line starting at s (before end) without its CR LF; *next after it. */
static size_t line_len(const char *s, const char *end, const char **next)
{
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t n;

    if (!nl)
        nl = end;
    *next = nl < end ? nl + 1 : end;
    n = (size_t)(nl - s);
    return n > 0 && s[n - 1] == '\r' ? n - 1 : n;
}

static bool token_is(const char *s, size_t n, const char *tok)
{
    return strlen(tok) == n && strncasecmp(s, tok, n) == 0;
}

/* "METHOD SP TARGET SP HTTP/1.x" */
static void parse_request_line(const char *s, size_t n, ims_http_req_t *r)
{
    const char *sp1 = memchr(s, ' ', n), *sp2, *t, *q;
    size_t mlen, tlen, vlen;

    if (!sp1 || !(sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s)))) {
        r->status = 400;
        return;
    }
    mlen = (size_t)(sp1 - s);
    t = sp1 + 1;
    tlen = (size_t)(sp2 - t);
    vlen = n - (size_t)(sp2 + 1 - s);
    if (vlen != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
        (sp2[8] != '0' && sp2[8] != '1') || tlen == 0 || t[0] != '/') {
        r->status = 400;
        return;
    }
    r->keep = sp2[8] == '1';
    if ((q = memchr(t, '?', tlen)) != NULL)
        tlen = (size_t)(q - t);   /* a query string changes nothing here */
    if (tlen >= sizeof(r->path))
        tlen = sizeof(r->path) - 1;   /* too long for any path we know: 404 */
    memcpy(r->path, t, tlen);
    r->path[tlen] = '\0';
    if (token_is(s, mlen, "HEAD"))
        r->head_only = true;
    else if (!token_is(s, mlen, "GET"))
        r->status = 405;
}

/* The headers that matter: Connection, and any sign of a body. */
static void parse_header(const char *s, size_t n, ims_http_req_t *r)
{
    const char *colon = memchr(s, ':', n), *v;
    size_t nlen, vlen;

    if (!colon || colon == s) {
        r->status = 400;
        return;
    }
    nlen = (size_t)(colon - s);
    v = colon + 1;
    vlen = n - nlen - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    if (token_is(s, nlen, "Connection")) {
        if (token_is(v, vlen, "close"))
            r->keep = false;
        else if (token_is(v, vlen, "keep-alive"))
            r->keep = true;
    } else if (token_is(s, nlen, "Transfer-Encoding") ||
               (token_is(s, nlen, "Content-Length") && !token_is(v, vlen, "0"))) {
        r->status = 413;   /* no request here has a body: do not read one */
    }
}

void ims_http_parse_head(const char *buf, size_t n, ims_http_req_t *r)
{
    const char *end = buf + n, *s = buf, *next;
    size_t len;

    memset(r, 0, sizeof(*r));
    len = line_len(s, end, &next);
    parse_request_line(s, len, r);
    for (s = next; r->status == 0 && s < end; s = next) {
        len = line_len(s, end, &next);
        if (len == 0)
            break;   /* the blank line */
        parse_header(s, len, r);
    }
}
