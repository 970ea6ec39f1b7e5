/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Serialising a parsed message: the text libosip2's osip_message_to_str
 * gives, byte for byte, without its cost. libosip2 prints every Via, URI and
 * name-addr with sprintf, one call per piece (a glibc stream set up each
 * time), and that was 15 % of a CSCF's instructions per call. Here the common
 * pieces are copied with memcpy:
 *
 *   start line, Via, Record-Route, Route, From, To, Call-ID, CSeq, Contact,
 *   headers libosip2 keeps by name ("Name: value"), Content-Length, one body.
 *
 * Anything this file is not sure to print exactly as libosip2 does goes to
 * libosip2's own printer: a URI with a password, URI headers, an opaque
 * (non-SIP) form, or a character in the user part or a parameter that
 * libosip2 would %-escape; "Contact: *"; the rarer header types (Accept,
 * Authorization, ...); and, for the whole message, several bodies or a body
 * with headers of its own (multipart). The unit test test_msg_print compares
 * both printers over the malformed corpus, the sipp scenarios' shapes and
 * crafted messages, so a difference shows up as a failing test.
 *
 * The header order is libosip2's: start line, Via, Record-Route, Route, From,
 * To, Call-ID, CSeq, Contact, Authorization, WWW-Authenticate,
 * Proxy-Authenticate, Proxy-Authorization, Call-Info, Content-Type,
 * Mime-Version, Allow, Content-Encoding, Alert-Info, Error-Info, Accept,
 * Accept-Encoding, Accept-Language, Authentication-Info,
 * Proxy-Authentication-Info, the other headers in their order, Content-Length
 * (computed; right-aligned in five columns when there is a body, as libosip2
 * leaves room to patch it), an empty line, the body.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/rc.h"
#include "common/sip/msg_int.h"

typedef struct pbuf {
    char *p;
    size_t len, cap;
    bool err;
} pbuf_t;

static void pb_grow(pbuf_t *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 1024;
    char *q;

    while (cap < b->len + need + 1)
        cap *= 2;
    if (!(q = osip_realloc(b->p, cap))) {
        b->err = true;
        return;
    }
    b->p = q;
    b->cap = cap;
}

static void pb_put(pbuf_t *b, const char *s, size_t n)
{
    if (b->err)
        return;
    if (b->len + n + 1 > b->cap) {
        pb_grow(b, n);
        if (b->err)
            return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void pb_str(pbuf_t *b, const char *s)
{
    pb_put(b, s, strlen(s));
}

static void pb_uint(pbuf_t *b, unsigned long v, int width)
{
    char tmp[24];
    int i = (int)sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    while ((int)sizeof(tmp) - i < width && i > 0)
        tmp[--i] = ' ';
    pb_put(b, tmp + i, sizeof(tmp) - (size_t)i);
}

/* Take the text one of libosip2's to_str functions made (rc, s: call it
 * first; an argument list would not order the call before reading s). */
static void pb_osip(pbuf_t *b, int rc, char *s)
{
    if (rc != 0 || !s) {
        b->err = true;
        osip_free(s);
        return;
    }
    pb_str(b, s);
    osip_free(s);
}

/* ---- URI ---- */

/* Characters libosip2 never escapes in a user part / URI parameter: RFC 3986
 * unreserved plus the sets RFC 3261 allows there unescaped. A URI with any
 * other character is printed by libosip2. One table lookup per character
 * (this runs on every URI of every message printed). */
enum { SAFE_USER = 1, SAFE_PARAM = 2 };

static const uint8_t *safe_table(void)
{
    static uint8_t t[256];
    static bool built;

    if (!built) {
        for (int c = 1; c < 256; c++) {
            bool base = isalnum(c) || strchr("-_.!~*'()", c);

            t[c] = (uint8_t)((base || strchr("&=+$,;?/", c) ? SAFE_USER : 0) |
                             (base || strchr("[]/:&+$", c) ? SAFE_PARAM : 0));
        }
        built = true;
    }
    return t;
}

static bool safe_chars(const char *s, uint8_t cls)
{
    const uint8_t *t = safe_table();

    for (; *s; s++)
        if (!(t[(unsigned char)*s] & cls))
            return false;
    return true;
}

static bool uri_simple(const osip_uri_t *u)
{
    osip_list_iterator_t it;
    osip_uri_param_t *p;

    if (u->string || !u->host || u->password || !osip_list_eol(&u->url_headers, 0))
        return false;
    if (u->username && !safe_chars(u->username, SAFE_USER))
        return false;
    for (p = osip_list_get_first((osip_list_t *)&u->url_params, &it); p;
         p = osip_list_get_next(&it)) {
        if (!p->gname || !safe_chars(p->gname, SAFE_PARAM) ||
            (p->gvalue && !safe_chars(p->gvalue, SAFE_PARAM)) ||
            !strcasecmp(p->gname, "x-obr") || !strcasecmp(p->gname, "x-obp"))
            return false;
    }
    return true;
}

static void pb_params(pbuf_t *b, const osip_list_t *params)
{
    osip_list_iterator_t it;
    osip_generic_param_t *p;

    for (p = osip_list_get_first((osip_list_t *)params, &it); p; p = osip_list_get_next(&it)) {
        pb_put(b, ";", 1);
        pb_str(b, p->gname ? p->gname : "");
        if (p->gvalue) {
            pb_put(b, "=", 1);
            pb_str(b, p->gvalue);
        }
    }
}

static void pb_uri(pbuf_t *b, const osip_uri_t *u)
{
    char *s = NULL;

    if (!u) {
        b->err = true;
        return;
    }
    if (!uri_simple(u)) {
        int rc = osip_uri_to_str(u, &s);

        pb_osip(b, rc, s);
        return;
    }
    pb_str(b, u->scheme ? u->scheme : "sip");
    pb_put(b, ":", 1);
    if (u->username) {
        pb_str(b, u->username);
        pb_put(b, "@", 1);
    }
    if (strchr(u->host, ':')) {
        pb_put(b, "[", 1);
        pb_str(b, u->host);
        pb_put(b, "]", 1);
    } else {
        pb_str(b, u->host);
    }
    if (u->port) {
        pb_put(b, ":", 1);
        pb_str(b, u->port);
    }
    pb_params(b, &u->url_params);
}

/* ---- headers ---- */

/* From, To, Route, Record-Route and Contact share osip_from_t. */
static void pb_name_addr(pbuf_t *b, const osip_from_t *f)
{
    if (!f->url) {
        b->err = true;
        return;
    }
    if (f->displayname) {
        pb_str(b, f->displayname);
        pb_put(b, " ", 1);
    }
    pb_put(b, "<", 1);
    pb_uri(b, f->url);
    pb_put(b, ">", 1);
    pb_params(b, &f->gen_params);
}

static void pb_via(pbuf_t *b, const osip_via_t *v)
{
    if (!v->host || !v->version || !v->protocol) {
        b->err = true;
        return;
    }
    pb_put(b, "SIP/", 4);
    pb_str(b, v->version);
    pb_put(b, "/", 1);
    pb_str(b, v->protocol);
    pb_put(b, " ", 1);
    if (strchr(v->host, ':')) {
        pb_put(b, "[", 1);
        pb_str(b, v->host);
        pb_put(b, "]", 1);
    } else {
        pb_str(b, v->host);
    }
    if (v->port) {
        pb_put(b, ":", 1);
        pb_str(b, v->port);
    }
    pb_params(b, &v->via_params);
    if (v->comment) {
        pb_put(b, " (", 2);
        pb_str(b, v->comment);
        pb_put(b, ")", 1);
    }
}

typedef void (*pb_elem_fn)(pbuf_t *b, const void *elem);

static void el_via(pbuf_t *b, const void *e) { pb_via(b, e); }
static void el_name_addr(pbuf_t *b, const void *e) { pb_name_addr(b, e); }

static void el_contact(pbuf_t *b, const void *e)
{
    const osip_contact_t *c = e;
    char *s = NULL;

    if (c->displayname && c->displayname[0] == '*') {
        int rc = osip_contact_to_str(c, &s);

        pb_osip(b, rc, s);
    } else {
        pb_name_addr(b, c);
    }
}

/* The other header types, printed by libosip2 (wrappers: some of its to_str
 * are macros, and a function pointer needs the exact type). */
#define OSIP_EL(name, type, fn)                  \
    static void name(pbuf_t *b, const void *e)  \
    {                                            \
        char *s = NULL;                          \
        int rc = fn((const type *)e, &s);        \
                                                 \
        pb_osip(b, rc, s);                       \
    }

OSIP_EL(el_authorization, osip_authorization_t, osip_authorization_to_str)
OSIP_EL(el_www_auth, osip_www_authenticate_t, osip_www_authenticate_to_str)
OSIP_EL(el_call_info, osip_call_info_t, osip_call_info_to_str)
OSIP_EL(el_clen, osip_content_length_t, osip_content_length_to_str)
OSIP_EL(el_accept_enc, osip_accept_encoding_t, osip_accept_encoding_to_str)
OSIP_EL(el_auth_info, osip_authentication_info_t, osip_authentication_info_to_str)
OSIP_EL(el_ctype_osip, osip_content_type_t, osip_content_type_to_str)

/* Content-Type and Accept: "type/subtype; name=value; ...". A parameter
 * without a value (legal in Accept: "a/b;q") makes libosip2's printer fail,
 * or print the header broken with no line end; we print it as ";name". */
static void el_ctype(pbuf_t *b, const void *e)
{
    const osip_content_type_t *ct = e;
    osip_list_iterator_t it;
    osip_generic_param_t *p;

    if (!ct->type || !ct->subtype) {
        el_ctype_osip(b, e);
        return;
    }
    pb_str(b, ct->type);
    pb_put(b, "/", 1);
    pb_str(b, ct->subtype);
    for (p = osip_list_get_first((osip_list_t *)&ct->gen_params, &it); p;
         p = osip_list_get_next(&it)) {
        pb_put(b, "; ", 2);
        pb_str(b, p->gname ? p->gname : "");
        if (p->gvalue) {
            pb_put(b, "=", 1);
            pb_str(b, p->gvalue);
        }
    }
}

/* A generic header with value (h's own when NULL). */
static void pb_header(pbuf_t *b, const osip_header_t *h, const char *value)
{
    char *s = NULL;

    if (!value)
        value = h->hvalue;
    if (!h->hname || !h->hname[0] || !value) {
        int rc = osip_header_to_str(h, &s);

        pb_osip(b, rc, s);
        return;
    }
    /* Stored in lower case; libosip2 prints the first letter in upper case. */
    pb_put(b, &(char){ (char)toupper((unsigned char)h->hname[0]) }, 1);
    pb_str(b, h->hname + 1);
    pb_put(b, ": ", 2);
    pb_str(b, value);
}

static void pb_line(pbuf_t *b, const char *name, pb_elem_fn fn, const void *elem)
{
    if (!elem)
        return;
    pb_str(b, name);
    fn(b, elem);
    pb_put(b, "\r\n", 2);
}

static void pb_lines(pbuf_t *b, const char *name, pb_elem_fn fn, const osip_list_t *l)
{
    osip_list_iterator_t it;
    void *e;

    for (e = osip_list_get_first((osip_list_t *)l, &it); e; e = osip_list_get_next(&it))
        pb_line(b, name, fn, e);
}

/* Which of the generic headers pb_generic prints. */
typedef enum { G_OTHERS, G_KEPT_VIAS, G_KEPT_RRS } gen_kind_t;

static gen_kind_t gen_kind(const osip_header_t *h)
{
    return sip_via_is_kept(h) ? G_KEPT_VIAS : sip_rr_is_kept(h) ? G_KEPT_RRS : G_OTHERS;
}

/* The generic headers of one kind: the Vias or Record-Routes kept as text
 * (msg_via.c), or all the others; o->mf with the value o->mf_value. */
static void pb_generic(pbuf_t *b, const osip_list_t *l, gen_kind_t kind,
                       const sip_print_over_t *o)
{
    osip_list_iterator_t it;
    osip_header_t *h;

    for (h = osip_list_get_first((osip_list_t *)l, &it); h; h = osip_list_get_next(&it)) {
        if (gen_kind(h) != kind)
            continue;
        pb_header(b, h, o && h == o->mf ? o->mf_value : NULL);
        pb_put(b, "\r\n", 2);
    }
}

/* ---- message ---- */

static bool start_line(pbuf_t *b, const osip_message_t *m, const osip_uri_t *req_uri)
{
    if (MSG_IS_REQUEST(m)) {
        if (!m->sip_method || !m->sip_version || !req_uri)
            return false;
        pb_str(b, m->sip_method);
        pb_put(b, " ", 1);
        pb_uri(b, req_uri);
        pb_put(b, " ", 1);
        pb_str(b, m->sip_version);
    } else {
        if (!m->sip_version || !m->reason_phrase || m->status_code < 100 ||
            m->status_code > 699)
            return false;
        pb_str(b, m->sip_version);
        pb_put(b, " ", 1);
        pb_uint(b, (unsigned long)m->status_code, 0);
        pb_put(b, " ", 1);
        pb_str(b, m->reason_phrase);
    }
    pb_put(b, "\r\n", 2);
    return true;
}

static void headers(pbuf_t *b, const osip_message_t *m, const sip_print_over_t *o)
{
    if (o && o->via_len)
        pb_put(b, o->via, o->via_len);
    pb_lines(b, "Via: ", el_via, &m->vias);
    pb_generic(b, &m->headers, G_KEPT_VIAS, o);
    if (o && o->rr_len)
        pb_put(b, o->rr, o->rr_len);
    pb_lines(b, "Record-Route: ", el_name_addr, &m->record_routes);
    pb_generic(b, &m->headers, G_KEPT_RRS, o);
    pb_lines(b, "Route: ", el_name_addr, &m->routes);
    pb_line(b, "From: ", el_name_addr, m->from);
    pb_line(b, "To: ", el_name_addr, m->to);
    if (m->call_id) {
        pb_str(b, "Call-ID: ");
        pb_str(b, m->call_id->number ? m->call_id->number : "");
        if (m->call_id->host) {
            pb_put(b, "@", 1);
            pb_str(b, m->call_id->host);
        }
        pb_put(b, "\r\n", 2);
    }
    if (m->cseq) {
        pb_str(b, "CSeq: ");
        pb_str(b, m->cseq->number ? m->cseq->number : "");
        pb_put(b, " ", 1);
        pb_str(b, m->cseq->method ? m->cseq->method : "");
        pb_put(b, "\r\n", 2);
    }
    pb_lines(b, "Contact: ", el_contact, &m->contacts);
    pb_lines(b, "Authorization: ", el_authorization, &m->authorizations);
    pb_lines(b, "WWW-Authenticate: ", el_www_auth, &m->www_authenticates);
    pb_lines(b, "Proxy-Authenticate: ", el_www_auth, &m->proxy_authenticates);
    pb_lines(b, "Proxy-Authorization: ", el_authorization, &m->proxy_authorizations);
    pb_lines(b, "Call-Info: ", el_call_info, &m->call_infos);
    pb_line(b, "Content-Type: ", el_ctype, m->content_type);
    pb_line(b, "Mime-Version: ", el_clen, m->mime_version);
    pb_lines(b, "Allow: ", el_clen, &m->allows);
    pb_lines(b, "Content-Encoding: ", el_clen, &m->content_encodings);
    pb_lines(b, "Alert-Info: ", el_call_info, &m->alert_infos);
    pb_lines(b, "Error-Info: ", el_call_info, &m->error_infos);
    pb_lines(b, "Accept: ", el_ctype, &m->accepts);
    pb_lines(b, "Accept-Encoding: ", el_accept_enc, &m->accept_encodings);
    pb_lines(b, "Accept-Language: ", el_accept_enc, &m->accept_languages);
    pb_lines(b, "Authentication-Info: ", el_auth_info, &m->authentication_infos);
    pb_lines(b, "Proxy-Authentication-Info: ", el_auth_info, &m->proxy_authentication_infos);
    pb_generic(b, &m->headers, G_OTHERS, o);
}

/* The one body we print ourselves: raw bytes, no headers of its own. NULL
 * with *ok false when libosip2 must print the message. */
static const osip_body_t *simple_body(const osip_message_t *m, bool *ok)
{
    int n = osip_list_size(&m->bodies);
    const osip_body_t *body;

    *ok = true;
    if (n <= 0)
        return NULL;
    body = osip_list_get(&m->bodies, 0);
    if (n > 1 || !body || !body->body || body->content_type ||
        !osip_list_eol(body->headers, 0))
        *ok = false;
    return *ok ? body : NULL;
}

/* One piece, as libosip2's own to_str prints it (the unit test compares). */
static int piece_str(pbuf_t *b, char **out)
{
    if (b->err || !b->p) {
        osip_free(b->p);
        return IMS_ERROR;
    }
    b->p[b->len] = '\0';
    *out = b->p;
    return IMS_OK;
}

int sip_name_addr_to_str(const osip_from_t *f, char **out)
{
    pbuf_t b = { 0 };

    *out = NULL;
    if (!f)
        return IMS_ERROR;
    pb_name_addr(&b, f);
    if (piece_str(&b, out) == IMS_OK)
        return IMS_OK;
    return osip_from_to_str(f, out) == 0 ? IMS_OK : IMS_ERROR;
}

int sip_uri_to_str(const osip_uri_t *u, char **out)
{
    pbuf_t b = { 0 };

    *out = NULL;
    if (!u)
        return IMS_ERROR;
    pb_uri(&b, u);
    if (piece_str(&b, out) == IMS_OK)
        return IMS_OK;
    return osip_uri_to_str(u, out) == 0 ? IMS_OK : IMS_ERROR;
}

/* m, with o's changes when o is given. IMS_DECLINED: only libosip2 could
 * print it (nothing was). */
static int print_msg(const osip_message_t *m, const sip_print_over_t *o, char **buf,
                     size_t *len)
{
    pbuf_t b = { 0 };
    const osip_body_t *body;
    bool ok;

    body = simple_body(m, &ok);
    if (!ok || !start_line(&b, m, o && o->req_uri ? o->req_uri : m->req_uri)) {
        osip_free(b.p);
        return IMS_DECLINED;
    }
    headers(&b, m, o);
    pb_str(&b, "Content-Length: ");
    pb_uint(&b, body ? (unsigned long)body->length : 0, body ? 5 : 0);
    pb_put(&b, "\r\n\r\n", 4);
    if (body)
        pb_put(&b, body->body, body->length);
    /* A piece only libosip2 prints (pb_osip) is fine; one it could not is not. */
    if (b.err) {
        osip_free(b.p);
        return IMS_ERROR;
    }
    b.p[b.len] = '\0';
    *buf = b.p;
    *len = b.len;
    return IMS_OK;
}

int sip_msg_print(const osip_message_t *m, char **buf, size_t *len)
{
    int rc = print_msg(m, NULL, buf, len);

    if (rc != IMS_DECLINED)
        return rc;
    /* libosip2 would print kept Vias and Record-Routes among the other
     * headers: parse them (the same message, held differently). */
    sip_msg_kept_parse_all((osip_message_t *)m);
    return osip_message_to_str((osip_message_t *)m, buf, len) == 0 ? IMS_OK : IMS_ERROR;
}

int sip_msg_print_over(const osip_message_t *m, const sip_print_over_t *o, char **buf,
                       size_t *len)
{
    if (!m || !o || !MSG_IS_REQUEST(m) || (o->mf_value && !o->mf))
        return IMS_DECLINED;
    return print_msg(m, o, buf, len);
}
