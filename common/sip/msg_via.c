/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Via lines below the top one, kept as text.
 *
 * A proxy reads the top Via of what it receives and nothing under it: a
 * request is matched and answered by its top Via, and gets ours pushed on
 * top; a response loses ours and goes where the next one says. The others
 * only have to reach the wire again in order. A request at the terminating
 * P-CSCF carries five Vias and its responses six, and libosip2's parse, copy
 * and free of each took about 12 % of a CSCF's instructions per call. So
 * every Via value but the first (the other values of the first line, where
 * a UA echoes them comma-separated, and the lines the pre-check found under
 * it) is cut out of what libosip2 parses and kept, one entry per value, in
 * the message's generic header list under the name "Via" (libosip2 never
 * puts a Via there itself): the printer writes them right after the parsed
 * Vias, a response built from a request copies them (sip_via_clone_kept), a
 * clone copies them with the other headers.
 *
 * What needs them parsed gets them parsed: the new top one after a pop
 * when sip_msg_top_via asks for it, all of them before libosip2's own
 * printer, a loop check that finds our branch prefix in one, a look at the
 * last one (sip_msg_vias).
 *
 * Only values of a plain shape are cut (via_value_ok: no comment, no quote,
 * no inner white space, a host, a port, simple parameters), and only when
 * every Via value of the message has it, the first included. Anything else
 * (a malformed Via, a folded Via line, more than SIP_VIA_LINES_MAX lines or
 * KEPT_MAX values) and libosip2 parses the whole message as before, so what
 * it refused is still refused with 400.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/rc.h"
#include "common/sip/msg_int.h"

/* Character classes of a plain Via value besides tokens (a table: every
 * byte of every Via of every message passes here). A parameter value is a
 * token or an IPv6 reference. */
enum { C_HOST = 1, C_IPV6 = 2, C_PVAL = 4 };

#define C_ALNUM (C_HOST | C_PVAL)
static const uint8_t g_cls[256] = {
    ['a' ... 'f'] = C_ALNUM | C_IPV6, ['g' ... 'z'] = C_ALNUM,
    ['A' ... 'F'] = C_ALNUM | C_IPV6, ['G' ... 'Z'] = C_ALNUM,
    ['0' ... '9'] = C_ALNUM | C_IPV6,
    ['.'] = C_HOST | C_IPV6 | C_PVAL, ['-'] = C_HOST | C_PVAL, ['_'] = C_HOST | C_PVAL,
    [':'] = C_IPV6 | C_PVAL, ['['] = C_PVAL, [']'] = C_PVAL,
    ['!'] = C_PVAL, ['%'] = C_PVAL, ['*'] = C_PVAL, ['+'] = C_PVAL, ['`'] = C_PVAL,
    ['\''] = C_PVAL, ['~'] = C_PVAL,
};

/* Skip characters of class c from v[*i]; false when there was none. */
static inline bool run_of(const char *v, size_t n, size_t *i, uint8_t c)
{
    size_t t = *i;

    while (*i < n && (g_cls[(unsigned char)v[*i]] & c))
        (*i)++;
    return *i > t;
}

/* The same for token characters (sip_raw_is_token_char). */
static inline bool run_token(const char *v, size_t n, size_t *i)
{
    size_t t = *i;

    while (*i < n && sip_raw_is_token_char((unsigned char)v[*i]))
        (*i)++;
    return *i > t;
}

/* A Via value libosip2 surely parses the same, whole or alone: "SIP/2.0/"
 * transport, white space, a host ([IPv6], or name and IPv4 characters), an
 * optional ":port", then ";name[=value]" parameters and nothing else: no
 * comment, no quote, no white space inside. Anything else is left to
 * libosip2, which then parses the whole message as it always did. */
static bool via_value_ok(const char *v, size_t n)
{
    size_t i = 0, t;

    while (n > 0 && sip_raw_is_ws(v[n - 1]))
        n--;
    while (i < n && sip_raw_is_ws(v[i]))
        i++;
    if (n - i < 8 || strncasecmp(v + i, "SIP/2.0/", 8) != 0)
        return false;
    i += 8;
    /* Spaces only: libosip2 splits protocol and host at a space, not a tab. */
    if (!run_token(v, n, &i) || i >= n || v[i] != ' ')
        return false;
    while (i < n && v[i] == ' ')
        i++;
    if (i < n && v[i] == '[') {
        i++;
        if (!run_of(v, n, &i, C_IPV6) || i >= n || v[i++] != ']')
            return false;
    } else if (!run_of(v, n, &i, C_HOST)) {
        return false;
    }
    if (i < n && v[i] == ':') {
        t = ++i;
        while (i < n && i - t < 5 && isdigit((unsigned char)v[i]))
            i++;
        if (i == t)
            return false;
    }
    while (i < n) {
        i++;    /* past the ';' the test below insists on */
        if (v[i - 1] != ';' || !run_token(v, n, &i))
            return false;
        if (i < n && v[i] == '=' && (++i, !run_of(v, n, &i, C_PVAL)))
            return false;
    }
    return true;
}

typedef struct span {
    const char *p;
    size_t n;
} span_t;

#define KEPT_MAX 32

/* The Via values of a line, split at its commas: at least one, maybe empty.
 * False when there are more than max, or when a quote or a comment could
 * hold a comma (those lines are left to libosip2). */
static bool split_values(const char *v, size_t n, span_t *out, size_t max, size_t *cnt)
{
    size_t from = 0;
    const char *c;

    if (memchr(v, '"', n) || memchr(v, '(', n))
        return false;
    while ((c = memchr(v + from, ',', n - from)) != NULL) {
        if (*cnt >= max)
            return false;
        out[(*cnt)++] = (span_t){ v + from, (size_t)(c - v) - from };
        from = (size_t)(c - v) + 1;
    }
    if (*cnt >= max)
        return false;
    out[(*cnt)++] = (span_t){ v + from, n - from };
    return true;
}

/* The values to keep as text: all but the first of the first line, all of
 * the others. False when they cannot all be kept (parse the whole message). */
static bool tail_values(const char *buf, const sip_precheck_t *pc, span_t *kept, size_t *nkept,
                        span_t *first)
{
    span_t v[KEPT_MAX + 1];
    size_t n = 0;

    if (!pc->vias_plain || pc->nvia == 0)
        return false;
    for (size_t i = 0; i < pc->nvia; i++)
        if (!split_values(buf + pc->via[i].voff, pc->via[i].vlen, v, KEPT_MAX + 1, &n))
            return false;
    if (n < 2)
        return false;
    /* Every line gave at least one value, so v[0] is the first line's. */
    for (size_t i = 0; i < n; i++)
        if (!via_value_ok(v[i].p, v[i].n))
            return false;
    *first = v[0];
    *nkept = n - 1;
    memcpy(kept, v + 1, (n - 1) * sizeof(*kept));
    return true;
}

static osip_header_t *kept_new(span_t s)
{
    const char *v = s.p;
    size_t n = s.n;
    osip_header_t *h;

    while (n > 0 && sip_raw_is_ws(*v))
        v++, n--;
    while (n > 0 && sip_raw_is_ws(v[n - 1]))
        n--;
    if (osip_header_init(&h) != 0)
        return NULL;
    h->hname = osip_strdup("Via");
    h->hvalue = osip_malloc(n + 1);
    if (!h->hname || !h->hvalue) {
        osip_header_free(h);
        return NULL;
    }
    memcpy(h->hvalue, v, n);
    h->hvalue[n] = '\0';
    return h;
}

/* Append buf[from, to) to out (capacity cap); false if it would not fit. */
static bool cut_put(char *out, size_t cap, size_t *n, const char *buf, size_t from, size_t to)
{
    if (to < from || to - from > cap - *n)
        return false;
    memcpy(out + *n, buf + from, to - from);
    *n += to - from;
    return true;
}

/* The message without the Vias to keep: the first line up to the end of its
 * first value, then a line end; no other Via line. False if it went wrong. */
static bool cut_tail(const char *buf, const sip_precheck_t *pc, span_t first, char *out,
                     size_t cap, size_t *n)
{
    size_t from = pc->start, stop;

    *n = 0;
    for (size_t i = 0; i < pc->nvia; i++) {
        stop = i == 0 ? (size_t)(first.p + first.n - buf) : pc->via[i].off;
        if (!cut_put(out, cap, n, buf, from, stop) ||
            (i == 0 && !cut_put(out, cap, n, "\r\n", 0, 2)))
            return false;
        from = pc->via[i].end;
    }
    return cut_put(out, cap, n, buf, from, pc->start + pc->len);
}

/* The message with only the first Via value, parsed; the others kept.
 * 1 when it could not be cut (parse it whole), else libosip2's result. */
static int parse_without_tail(osip_message_t *m, const char *buf, const sip_precheck_t *pc,
                              span_t first, const span_t *kept, size_t nkept)
{
    char stack[4096], *cut = pc->len + 2 <= sizeof(stack) ? stack : malloc(pc->len + 2);
    osip_header_t *h;
    size_t n;
    int rc = 1;

    if (!cut)
        return -1;
    if (cut_tail(buf, pc, first, cut, pc->len + 2, &n))
        rc = osip_message_parse(m, cut, n);
    if (cut != stack)
        free(cut);
    for (size_t i = 0; rc == 0 && i < nkept; i++) {
        if (!(h = kept_new(kept[i])) || osip_list_add(&m->headers, h, -1) < 0) {
            osip_header_free(h);
            rc = -1;
        }
    }
    return rc;
}

int sip_via_parse(osip_message_t *m, const char *buf, const sip_precheck_t *pc)
{
    span_t kept[KEPT_MAX], first;
    size_t nkept = 0;
    int rc;

    if (tail_values(buf, pc, kept, &nkept, &first) &&
        (rc = parse_without_tail(m, buf, pc, first, kept, nkept)) != 1)
        return rc;
    return osip_message_parse(m, buf + pc->start, pc->len);
}

/* Parse the first kept value (limit 1) or all of them (limit 0) into
 * m->vias, in order, below the parsed ones. One that does not parse stops
 * it there (it and those after it stay kept, so the order holds). */
static int parse_kept(osip_message_t *m, int limit)
{
    osip_header_t *h;
    int pos = 0, done = 0;

    while ((h = osip_list_get(&m->headers, pos)) != NULL && (limit == 0 || done < limit)) {
        if (!sip_via_is_kept(h)) {
            pos++;
            continue;
        }
        if (osip_message_set_via(m, h->hvalue) != 0)
            return IMS_ERROR;
        osip_list_remove(&m->headers, pos);
        osip_header_free(h);
        done++;
    }
    return IMS_OK;
}

int sip_msg_vias_parse_all(osip_message_t *m)
{
    return m != NULL ? parse_kept(m, 0) : IMS_ERROR;
}

osip_list_t *sip_msg_vias(const sip_msg_t *msg)
{
    sip_msg_vias_parse_all(msg->m);
    return &msg->m->vias;
}

void sip_msg_vias_refill_top(osip_message_t *m)
{
    if (m != NULL && osip_list_size(&m->vias) == 0)
        parse_kept(m, 1);
}

bool sip_msg_vias_kept_contain(const osip_message_t *m, const char *s)
{
    osip_list_iterator_t it;
    osip_header_t *h;

    for (h = osip_list_get_first((osip_list_t *)&m->headers, &it); h; h = osip_list_get_next(&it))
        if (sip_via_is_kept(h) && h->hvalue && strstr(h->hvalue, s))
            return true;
    return false;
}

int sip_via_clone_kept(const osip_message_t *from, osip_message_t *to)
{
    osip_list_iterator_t it;
    osip_header_t *h, *c;

    for (h = osip_list_get_first((osip_list_t *)&from->headers, &it); h;
         h = osip_list_get_next(&it)) {
        if (!sip_via_is_kept(h))
            continue;
        if (osip_header_clone(h, &c) != 0)
            return IMS_ERROR;
        if (osip_list_add(&to->headers, c, -1) < 0) {
            osip_header_free(c);
            return IMS_ERROR;
        }
    }
    return IMS_OK;
}
