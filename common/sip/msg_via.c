/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Via lines below the top one, and the Record-Routes, kept as text.
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
 *
 * Record-Routes likewise, all of them: a proxy pushes its own and reads the
 * others only to record a dialog (the P-CSCF, on an INVITE's 2xx) or for a
 * UA's route set; at the other hops they are 5 to 9 % of the instructions.
 * They are kept as "Record-Route" entries when every value is a plain
 * name-addr (rr_value_ok), printed right after the parsed ones, and parsed
 * by sip_msg_record_routes. The two are decided apart: a message whose
 * Vias go to libosip2 whole may still have its Record-Routes kept. Kept
 * values reach the wire as received (libosip2 would decode a %XX in a user
 * part, for one: RFC 3261 §16.6 wants them unchanged anyway).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
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

/* v[*i, *n) without the blanks around it. */
static void trim(const char *v, size_t *i, size_t *n)
{
    while (*n > *i && sip_raw_is_ws(v[*n - 1]))
        (*n)--;
    while (*i < *n && sip_raw_is_ws(v[*i]))
        (*i)++;
}

/* A host ([IPv6], or at least min_len name and IPv4 characters) and an
 * optional ":port" of up to five digits, from v[*i]. */
static bool host_port(const char *v, size_t n, size_t *i, size_t min_len)
{
    size_t t = *i;

    if (*i < n && v[*i] == '[') {
        (*i)++;
        if (!run_of(v, n, i, C_IPV6) || *i >= n || v[(*i)++] != ']')
            return false;
    } else if (!run_of(v, n, i, C_HOST) || *i - t < min_len) {
        return false;
    }
    if (*i < n && v[*i] == ':') {
        t = ++*i;
        while (*i < n && *i - t < 5 && isdigit((unsigned char)v[*i]))
            (*i)++;
        if (*i == t)
            return false;
    }
    return true;
}

/* A Via value libosip2 surely parses the same, whole or alone: "SIP/2.0/"
 * transport, white space, a host ([IPv6], or name and IPv4 characters), an
 * optional ":port", then ";name[=value]" parameters and nothing else: no
 * comment, no quote, no white space inside. Anything else is left to
 * libosip2, which then parses the whole message as it always did. */
static bool via_value_ok(const char *v, size_t n)
{
    size_t i = 0;

    trim(v, &i, &n);
    if (n - i < 8 || strncasecmp(v + i, "SIP/2.0/", 8) != 0)
        return false;
    i += 8;
    /* Spaces only: libosip2 splits protocol and host at a space, not a tab. */
    if (!run_token(v, n, &i) || i >= n || v[i] != ' ')
        return false;
    while (i < n && v[i] == ' ')
        i++;
    if (!host_port(v, n, &i, 1))
        return false;
    while (i < n) {
        i++;    /* past the ';' the test below insists on */
        if (v[i - 1] != ';' || !run_token(v, n, &i))
            return false;
        if (i < n && v[i] == '=' && (++i, !run_of(v, n, &i, C_PVAL)))
            return false;
    }
    return true;
}

/* ";name[=value]" parameters of tokens from v[*i], as many as start there;
 * false on a malformed one. */
static bool token_params(const char *v, size_t n, size_t *i)
{
    while (*i < n && v[*i] == ';') {
        (*i)++;
        if (!run_token(v, n, i))
            return false;
        if (*i < n && v[*i] == '=' && (++*i, !run_token(v, n, i)))
            return false;
    }
    return true;
}

/* A Record-Route value libosip2 surely parses the same, whole or alone:
 * "<sip:" or "<sips:", an optional user part of token characters and "@",
 * a host (two characters at least: libosip2 refuses a one-character host
 * in brackets) or [IPv6], an optional ":port", ";name[=value]" URI
 * parameters, ">", then ";name[=value]" header parameters: tokens only, no
 * white space inside, no display name. */
static bool rr_value_ok(const char *v, size_t n)
{
    size_t i = 0, t;

    trim(v, &i, &n);
    if (n - i >= 6 && memcmp(v + i, "<sips:", 6) == 0)
        i += 6;
    else if (n - i >= 5 && memcmp(v + i, "<sip:", 5) == 0)
        i += 5;
    else
        return false;
    t = i;
    if (run_token(v, n, &i) && i < n && v[i] == '@')
        i++;
    else
        i = t;
    if (!host_port(v, n, &i, 2) || !token_params(v, n, &i) || i >= n || v[i++] != '>' || !token_params(v, n, &i))
        return false;
    return i == n;
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

/* The Record-Route values, all to be kept. False when one is not plain (or
 * there are none): libosip2 parses them. */
static bool rr_values(const char *buf, const sip_precheck_t *pc, span_t *kept, size_t *nkept)
{
    *nkept = 0;
    if (!pc->rrs_plain || pc->nrr == 0)
        return false;
    for (size_t i = 0; i < pc->nrr; i++)
        if (!split_values(buf + pc->rr[i].voff, pc->rr[i].vlen, kept, KEPT_MAX, nkept))
            return false;
    for (size_t i = 0; i < *nkept; i++)
        if (!rr_value_ok(kept[i].p, kept[i].n))
            return false;
    return true;
}

static osip_header_t *kept_new(const char *name, span_t s)
{
    size_t i = 0, n = s.n;
    const char *v;
    osip_header_t *h;

    trim(s.p, &i, &n);
    v = s.p + i;
    n -= i;
    if (osip_header_init(&h) != 0)
        return NULL;
    h->hname = osip_strdup(name);
    h->hvalue = osip_malloc(n + 1);
    if (!h->hname || !h->hvalue) {
        osip_header_free(h);
        return NULL;
    }
    memcpy(h->hvalue, v, n);
    h->hvalue[n] = '\0';
    return h;
}

/* A piece of the received text left out of what libosip2 parses: buf[from,
 * to), replaced by a line end when crlf (the rest of the first Via line). */
typedef struct cut {
    size_t from, to;
    bool crlf;
} cut_t;

#define CUTS_MAX (SIP_VIA_LINES_MAX + SIP_RR_LINES_MAX)

/* The cuts, in the order of the text: the first Via line after its first
 * value and every later Via line (first non-NULL), every Record-Route line
 * (rrs). */
static size_t cuts_of(const char *buf, const sip_precheck_t *pc, const span_t *first, bool rrs,
                      cut_t *c)
{
    size_t n = 0, j;

    for (size_t i = 0; first && i < pc->nvia; i++)
        c[n++] = i == 0 ? (cut_t){ (size_t)(first->p + first->n - buf), pc->via[0].end, true }
                        : (cut_t){ pc->via[i].off, pc->via[i].end, false };
    for (size_t i = 0; rrs && i < pc->nrr; i++) {
        /* Insertion by offset: Via and Record-Route lines interleave. */
        for (j = n++; j > 0 && c[j - 1].from > pc->rr[i].off; j--)
            c[j] = c[j - 1];
        c[j] = (cut_t){ pc->rr[i].off, pc->rr[i].end, false };
    }
    return n;
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

/* The message without the cuts. False if it went wrong. */
static bool cut_text(const char *buf, const sip_precheck_t *pc, const cut_t *c, size_t nc,
                     char *out, size_t cap, size_t *n)
{
    size_t from = pc->start;

    *n = 0;
    for (size_t i = 0; i < nc; i++) {
        if (!cut_put(out, cap, n, buf, from, c[i].from) ||
            (c[i].crlf && !cut_put(out, cap, n, "\r\n", 0, 2)))
            return false;
        from = c[i].to;
    }
    return cut_put(out, cap, n, buf, from, pc->start + pc->len);
}

/* Add the kept values to m's generic headers under name. */
static int keep(osip_message_t *m, const char *name, const span_t *kept, size_t nkept)
{
    osip_header_t *h;

    for (size_t i = 0; i < nkept; i++) {
        if (!(h = kept_new(name, kept[i])) || osip_list_add(&m->headers, h, -1) < 0) {
            osip_header_free(h);
            return -1;
        }
    }
    return 0;
}

int sip_via_parse(osip_message_t *m, const char *buf, const sip_precheck_t *pc)
{
    span_t vias[KEPT_MAX], first, rrs[KEPT_MAX];
    size_t nv = 0, nr = 0, nc, n;
    bool has_vias = tail_values(buf, pc, vias, &nv, &first);
    bool has_rrs = rr_values(buf, pc, rrs, &nr);
    char stack[4096], *cut;
    cut_t c[CUTS_MAX];
    int rc = 1;

    if (!has_vias && !has_rrs)
        return osip_message_parse(m, buf + pc->start, pc->len);
    cut = pc->len + 2 <= sizeof(stack) ? stack : malloc(pc->len + 2);
    if (!cut)
        return -1;
    nc = cuts_of(buf, pc, has_vias ? &first : NULL, has_rrs, c);
    if (cut_text(buf, pc, c, nc, cut, pc->len + 2, &n))
        rc = osip_message_parse(m, cut, n);
    if (cut != stack)
        free(cut);
    if (rc == 0)
        rc = keep(m, "Via", vias, has_vias ? nv : 0) == 0 &&
             keep(m, "Record-Route", rrs, has_rrs ? nr : 0) == 0 ? 0 : -1;
    /* 1: the cut went wrong (it should not): parse the whole text instead. */
    return rc != 1 ? rc : osip_message_parse(m, buf + pc->start, pc->len);
}

/* Parse the first kept Via value (limit 1) or all of them (limit 0) into
 * m->vias, in order, below the parsed ones; with rr, the Record-Routes into
 * m->record_routes. One that does not parse stops it there (it and those
 * after it stay kept, so the order holds). */
static int parse_kept(osip_message_t *m, int limit, bool rr)
{
    osip_list_iterator_t it;
    osip_header_t *h = osip_list_get_first(&m->headers, &it);
    int done = 0;

    /* One walk (osip_list_get by position would make it quadratic). */
    while (h != NULL && (limit == 0 || done < limit)) {
        if (!(rr ? sip_rr_is_kept(h) : sip_via_is_kept(h))) {
            h = osip_list_get_next(&it);
            continue;
        }
        if ((rr ? osip_message_set_record_route(m, h->hvalue)
                : osip_message_set_via(m, h->hvalue)) != 0)
            return IMS_ERROR;
        osip_header_free(h);
        h = osip_list_iterator_remove(&it);
        done++;
    }
    return IMS_OK;
}

int sip_msg_vias_parse_all(osip_message_t *m)
{
    return m != NULL ? parse_kept(m, 0, false) : IMS_ERROR;
}

int sip_msg_kept_parse_all(osip_message_t *m)
{
    int v, r;

    if (m == NULL)
        return IMS_ERROR;
    v = parse_kept(m, 0, false);
    r = parse_kept(m, 0, true);
    return v == IMS_OK && r == IMS_OK ? IMS_OK : IMS_ERROR;
}

osip_list_t *sip_msg_record_routes(const sip_msg_t *msg)
{
    /* A kept value always parses (rr_value_ok); only memory can fail here,
     * and then the list holds those above the first that did not parse. */
    if (parse_kept(msg->m, 0, true) != IMS_OK)
        IMS_WARN("sip: Record-Route kept as text could not be parsed");
    return &msg->m->record_routes;
}

osip_list_t *sip_msg_vias(const sip_msg_t *msg)
{
    sip_msg_vias_parse_all(msg->m);
    return &msg->m->vias;
}

void sip_msg_vias_refill_top(osip_message_t *m)
{
    if (m != NULL && osip_list_size(&m->vias) == 0)
        parse_kept(m, 1, false);
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
