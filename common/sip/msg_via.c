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
 * the message's generic header list as
 * "Via" entries (libosip2 never puts a Via there itself): the printer writes
 * them right after the parsed Vias, a response built from a request copies
 * them (sip_via_clone_kept), a clone copies them with the other headers.
 *
 * What needs them parsed gets them parsed: the new top one after a pop
 * when sip_msg_top_via asks for it, all of them before libosip2's own
 * printer, a loop check that finds our branch prefix in one, a look at the
 * last one (sip_msg_vias).
 *
 * A kept value must look like a Via (protocol "SIP/2.0/x", then a host): a
 * malformed one makes the message parse whole, so it is refused exactly as
 * before. Folded Via lines, more than SIP_VIA_LINES_MAX lines or KEPT_MAX
 * values are parsed whole too.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/rc.h"
#include "common/sip/msg_int.h"

/* "SIP/2.0/" transport, white space, the start of a host: a cheap look. */
static bool via_looks_right(const char *v, size_t n)
{
    size_t i = 0, t;

    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    if (n - i < 8 || strncasecmp(v + i, "SIP/2.0/", 8) != 0)
        return false;
    i += 8;
    for (t = i; i < n && sip_raw_is_token_char((unsigned char)v[i]); i++)
        ;
    if (i == t || i >= n || (v[i] != ' ' && v[i] != '\t'))
        return false;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    return i < n && (isalnum((unsigned char)v[i]) || v[i] == '[');
}

typedef struct span {
    const char *p;
    size_t n;
} span_t;

#define KEPT_MAX 32

static bool add_value(span_t *out, size_t max, size_t *cnt, const char *p, size_t n)
{
    if (*cnt >= max)
        return false;
    out[(*cnt)++] = (span_t){ p, n };
    return true;
}

/* The Via values of a line, split at commas outside quotes and comments.
 * False when there are more than max. */
static bool split_values(const char *v, size_t n, span_t *out, size_t max, size_t *cnt)
{
    size_t i, from = 0, depth = 0;
    bool quoted = false;
    const char *c;

    /* The usual line: no quotes, no comments; memchr finds the commas. */
    if (!memchr(v, '"', n) && !memchr(v, '(', n)) {
        while ((c = memchr(v + from, ',', n - from)) != NULL) {
            if (!add_value(out, max, cnt, v + from, (size_t)(c - v) - from))
                return false;
            from = (size_t)(c - v) + 1;
        }
        return add_value(out, max, cnt, v + from, n - from);
    }
    for (i = 0; i <= n; i++) {
        char ch = i < n ? v[i] : ',';

        if (quoted) {
            if (ch == '\\' && i + 1 < n)
                i++;
            else if (ch == '"')
                quoted = false;
            continue;
        }
        if (ch == '"')
            quoted = true;
        else if (ch == '(')
            depth++;
        else if (ch == ')' && depth > 0)
            depth--;
        if (ch != ',' || depth > 0)
            continue;
        if (!add_value(out, max, cnt, v + from, i - from))
            return false;
        from = i + 1;
    }
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
    *first = v[0];
    *nkept = n - 1;
    for (size_t i = 1; i < n; i++) {
        if (!via_looks_right(v[i].p, v[i].n))
            return false;
        kept[i - 1] = v[i];
    }
    return true;
}

static osip_header_t *kept_new(span_t s)
{
    const char *v = s.p;
    size_t n = s.n;
    osip_header_t *h;

    while (n > 0 && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
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

/* The message with only the first Via value, parsed; the others kept. */
static int parse_without_tail(osip_message_t *m, const char *buf, const sip_precheck_t *pc,
                              span_t first, const span_t *kept, size_t nkept)
{
    size_t from = pc->start, end = pc->start + pc->len, n = 0, stop;
    char stack[4096], *cut = pc->len + 2 <= sizeof(stack) ? stack : malloc(pc->len + 2);
    osip_header_t *h;
    int rc;

    if (!cut)
        return -1;
    for (size_t i = 0; i < pc->nvia; i++) {
        /* Line 0 up to its first value's end, then a line end; the others not at all. */
        stop = i == 0 ? (size_t)(first.p + first.n - buf) : pc->via[i].off;
        memcpy(cut + n, buf + from, stop - from);
        n += stop - from;
        if (i == 0) {
            memcpy(cut + n, "\r\n", 2);
            n += 2;
        }
        from = pc->via[i].end;
    }
    memcpy(cut + n, buf + from, end - from);
    n += end - from;
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

    if (tail_values(buf, pc, kept, &nkept, &first))
        return parse_without_tail(m, buf, pc, first, kept, nkept);
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
