/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/rc.h"

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static pcscf_str_t trim(const char *b, const char *e)
{
    pcscf_str_t s;

    while (b < e && is_ws(*b))
        b++;
    while (e > b && is_ws(e[-1]))
        e--;
    s.p = b;
    s.n = (size_t)(e - b);
    return s;
}

bool pcscf_list_next(const char **p, const char *end, pcscf_str_t *item)
{
    const char *s = *p;

    while (s < end) {
        const char *b = s;
        bool quoted = false, angle = false;

        for (; s < end; s++) {
            if (quoted) {
                if (*s == '\\' && s + 1 < end)
                    s++;
                else if (*s == '"')
                    quoted = false;
            } else if (*s == '"') {
                quoted = true;
            } else if (*s == '<') {
                angle = true;
            } else if (*s == '>') {
                angle = false;
            } else if (*s == ',' && !angle) {
                break;
            }
        }
        *item = trim(b, s);
        if (s < end)
            s++;  /* the comma */
        *p = s;
        if (item->n)
            return true;
    }
    *p = end;
    return false;
}

pcscf_str_t pcscf_nameaddr_uri(pcscf_str_t item)
{
    const char *b = item.p, *e = item.p + item.n, *s;
    bool quoted = false;
    pcscf_str_t none = { item.p, 0 };

    for (s = b; s < e; s++) {
        if (quoted) {
            if (*s == '\\' && s + 1 < e)
                s++;
            else if (*s == '"')
                quoted = false;
        } else if (*s == '"') {
            quoted = true;
        } else if (*s == '<') {
            const char *c = memchr(s + 1, '>', (size_t)(e - s - 1));

            return c ? trim(s + 1, c) : none;
        }
    }
    if (quoted)
        return none;
    /* addr-spec: parameters after ';' belong to the header, not the URI. */
    s = memchr(b, ';', item.n);
    return trim(b, s ? s : e);
}

/* libosip2 keeps generic names as received; compare with the compact form too. */
static bool name_is(const osip_header_t *h, const char *name)
{
    if (!h->hname)
        return false;
    if (strcasecmp(h->hname, name) == 0)
        return true;
    return strcasecmp(name, "supported") == 0 && strcasecmp(h->hname, "k") == 0;
}

size_t pcscf_hdr_list(const sip_msg_t *msg, const char *name, bool uri_only, pcscf_str_t *out,
                      size_t max)
{
    osip_list_iterator_t it;
    osip_header_t *h;
    size_t n = 0;

    for (h = osip_list_get_first(&msg->m->headers, &it); h && n < max;
         h = osip_list_get_next(&it)) {
        const char *p;
        pcscf_str_t item;

        if (!name_is(h, name) || !h->hvalue)
            continue;
        p = h->hvalue;
        while (n < max && pcscf_list_next(&p, h->hvalue + strlen(h->hvalue), &item)) {
            if (uri_only)
                item = pcscf_nameaddr_uri(item);
            if (item.n && item.n <= PCSCF_MAX_URI)
                out[n++] = item;
        }
    }
    return n;
}

/* value without the option tag, into a new string; NULL when nothing is left. */
static char *without_tag(const char *value, const char *tag, int *removed)
{
    size_t len = strlen(value);
    char *out = malloc(len + 1);
    const char *p = value;
    pcscf_str_t item;
    size_t o = 0;

    if (!out)
        abort();
    while (pcscf_list_next(&p, value + len, &item)) {
        if (pcscf_str_eq(item, tag)) {
            (*removed)++;
            continue;
        }
        if (o)
            out[o++] = ',', out[o++] = ' ';
        memcpy(out + o, item.p, item.n);
        o += item.n;
    }
    out[o] = '\0';
    if (!o) {
        free(out);
        return NULL;
    }
    return out;
}

int pcscf_hdr_remove_tag(sip_msg_t *msg, const char *name, const char *tag)
{
    osip_list_iterator_t it;
    osip_header_t *h;
    int removed = 0;

    h = osip_list_get_first(&msg->m->headers, &it);
    while (h) {
        int before = removed;
        char *v;

        if (!name_is(h, name) || !h->hvalue) {
            h = osip_list_get_next(&it);
            continue;
        }
        v = without_tag(h->hvalue, tag, &removed);
        if (removed == before) {
            free(v);
            h = osip_list_get_next(&it);
        } else if (v) {
            osip_free(h->hvalue);
            h->hvalue = osip_strdup(v);
            free(v);
            h = osip_list_get_next(&it);
        } else {
            osip_header_free(h);
            h = osip_list_iterator_remove(&it);
        }
    }
    if (removed)
        osip_message_force_update(msg->m);
    return removed;
}

bool pcscf_hdr_has_tag(const sip_msg_t *msg, const char *name, const char *tag)
{
    osip_list_iterator_t it;
    osip_header_t *h;

    for (h = osip_list_get_first(&msg->m->headers, &it); h; h = osip_list_get_next(&it)) {
        const char *p;
        pcscf_str_t item;

        if (!name_is(h, name) || !h->hvalue)
            continue;
        p = h->hvalue;
        while (pcscf_list_next(&p, h->hvalue + strlen(h->hvalue), &item))
            if (pcscf_str_eq(item, tag))
                return true;
    }
    return false;
}

int pcscf_hdr_prepend(sip_msg_t *msg, const char *name, const char *value)
{
    osip_header_t *h = NULL;

    if (osip_header_init(&h) != 0)
        return IMS_ERROR;
    h->hname = osip_strdup(name);
    h->hvalue = osip_strdup(value);
    if (!h->hname || !h->hvalue || osip_list_add(&msg->m->headers, h, 0) < 0) {
        osip_header_free(h);
        return IMS_ERROR;
    }
    osip_message_force_update(msg->m);
    return IMS_OK;
}

char *pcscf_auth_param_set(const char *in, const char *name, const char *value)
{
    size_t len = strlen(in), nlen = strlen(name), o;
    const char *p = in, *end = in + len;
    pcscf_str_t item;
    char *out;

    while (p < end && is_ws(*p))
        p++;
    while (p < end && !is_ws(*p) && *p != ',')
        p++;  /* the scheme */
    if (p == in || (p < end && *p == ','))
        return NULL;
    /* Each kept parameter may gain ", ": at most len/2 of them. */
    out = malloc(2 * len + nlen + (value ? strlen(value) : 0) + 8);
    if (!out)
        abort();
    o = (size_t)(p - in);
    memcpy(out, in, o);
    out[o++] = ' ';
    while (pcscf_list_next(&p, end, &item)) {
        const char *eq = memchr(item.p, '=', item.n);
        pcscf_str_t pname = trim(item.p, eq ? eq : item.p + item.n);

        if (pcscf_str_eq(pname, name))
            continue;
        memcpy(out + o, item.p, item.n);
        o += item.n;
        out[o++] = ',';
        out[o++] = ' ';
    }
    if (value)
        o += (size_t)sprintf(out + o, "%s=%s", name, value);
    else
        while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == ','))
            o--;  /* removal only: no separator after the last parameter */
    out[o] = '\0';
    return out;
}

bool pcscf_str_eq(pcscf_str_t a, const char *s)
{
    return strlen(s) == a.n && strncasecmp(a.p, s, a.n) == 0;
}

static bool str_eq_null(const char *a, const char *b, bool nocase)
{
    if (!a || !b)
        return !a && !b;
    return nocase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

static long uri_port(const osip_uri_t *u)
{
    bool sips = u->scheme && strcasecmp(u->scheme, "sips") == 0;

    return u->port && *u->port ? strtol(u->port, NULL, 10) : (sips ? 5061 : 5060);
}

bool pcscf_uri_same(const osip_uri_t *a, const osip_uri_t *b)
{
    return a && b && str_eq_null(a->scheme, b->scheme, true) &&
           str_eq_null(a->username, b->username, false) &&
           str_eq_null(a->host, b->host, true) && uri_port(a) == uri_port(b);
}

bool pcscf_uri_text_same(pcscf_str_t a, const char *b)
{
    char buf[PCSCF_MAX_URI + 1];
    osip_uri_t *ua = NULL, *ub = NULL;
    bool same = false;

    if (a.n == 0 || a.n > PCSCF_MAX_URI || !b)
        return false;
    memcpy(buf, a.p, a.n);
    buf[a.n] = '\0';
    if (osip_uri_init(&ua) == 0 && osip_uri_parse(ua, buf) == 0 && osip_uri_init(&ub) == 0 &&
        osip_uri_parse(ub, b) == 0)
        same = pcscf_uri_same(ua, ub);
    osip_uri_free(ua);
    osip_uri_free(ub);
    return same;
}

/* Next hop of a name-addr or URI text (a Route entry, a remote target). */
int pcscf_resolve_text(sip_proxy_t *px, const char *text, sip_dest_t *dst)
{
    pcscf_str_t r = pcscf_nameaddr_uri((pcscf_str_t){ text, strlen(text) });
    char buf[PCSCF_MAX_URI + 1];
    osip_uri_t *u = NULL;
    int rc = IMS_ERROR;

    if (r.n == 0 || r.n > PCSCF_MAX_URI || osip_uri_init(&u) != 0)
        return IMS_ERROR;
    memcpy(buf, r.p, r.n);
    buf[r.n] = '\0';
    if (osip_uri_parse(u, buf) == 0)
        rc = sip_proxy_resolve(px, u, dst);
    osip_uri_free(u);
    return rc;
}
