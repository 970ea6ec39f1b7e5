/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What one service point trigger means (29.228 Annex B/F; see scscf/ifc.h):
 * the request's method, registration type, Request-URI, headers, session
 * case and SDP, and the cache of compiled regular expressions they use.
 *
 * The patterns come from the HSS, the subjects from the network. regexec of
 * glibc without back-references runs in time polynomial in the subject, and
 * the subjects are bounded by the parser (SIP_MAX_LINE, the message size);
 * what would make it explode (back-references, nested counted repetitions
 * that regcomp unrolls) is refused before compiling.
 */
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/hash.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "scscf/ifc.h"

/* ---- regular expressions ------------------------------------------------ */

typedef struct re_entry {
    bool ok;            /* compiled; false: refused or failed (logged when added) */
    regex_t re;
} re_entry_t;

/* Pattern text -> re_entry_t. The daemon is single-threaded (one loop), so a
 * process-wide cache needs no lock; it is emptied when it fills. */
static ims_hash_t *g_re_cache;

static void re_entry_free(void *arg, const char *key, void *value)
{
    re_entry_t *e = value;

    (void)arg;
    (void)key;
    if (e->ok)
        regfree(&e->re);
    free(e);
}

void scscf_ifc_cache_clear(void)
{
    if (!g_re_cache)
        return;
    ims_hash_foreach(g_re_cache, re_entry_free, NULL);
    ims_hash_free(g_re_cache);
    g_re_cache = NULL;
}

/* The {m}, {m,} or {m,n} at p (just after '{'): its larger bound, or -1. */
static long brace_bound(const char *p)
{
    long m = 0, n = -1;

    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++)
        m = m < 100000 ? m * 10 + (*p - '0') : m;
    if (*p == ',') {
        p++;
        for (n = 0; *p >= '0' && *p <= '9'; p++)
            n = n < 100000 ? n * 10 + (*p - '0') : n;
    }
    if (*p != '}')
        return -1;
    return n > m ? n : m;
}

/* Why pat is not compiled, or NULL when it may be. Conservative: a "\1" or
 * "{9}" inside a bracket expression is refused too. */
static const char *re_refusal(const char *pat)
{
    long product = 1;

    if (strlen(pat) > SCSCF_IFC_MAX_RE)
        return "too long";
    for (const char *p = pat; *p; p++) {
        if (p[0] == '\\' && p[1] >= '1' && p[1] <= '9')
            return "back-reference";
        if (p[0] == '\\' && p[1]) {
            p++;
            continue;
        }
        if (p[0] == '{') {
            long b = brace_bound(p + 1);

            if (b > 1)
                product *= b;
            if (b > SCSCF_IFC_MAX_REPEAT || product > SCSCF_IFC_MAX_REPEAT)
                return "repetition too large";
        }
    }
    return NULL;
}

static re_entry_t *re_compile(const char *pat)
{
    re_entry_t *e = calloc(1, sizeof(*e));
    const char *why = re_refusal(pat);
    char buf[96];
    int rc;

    if (!e)
        abort();
    if (!why) {
        rc = regcomp(&e->re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        e->ok = rc == 0;
        if (rc != 0) {
            regerror(rc, &e->re, buf, sizeof(buf));
            why = buf;
        }
    }
    if (why)
        IMS_WARN("iFC: regular expression \"%.80s\" not usable (%s): its SPT never matches",
                 pat, why);
    return e;
}

/* The compiled pat, or NULL when it is not usable. */
static const regex_t *re_get(const char *pat)
{
    re_entry_t *e;

    if (!g_re_cache && !(g_re_cache = ims_hash_new(SCSCF_IFC_RE_CACHE)))
        abort();
    e = ims_hash_find(g_re_cache, pat);
    if (!e) {
        if (ims_hash_count(g_re_cache) >= SCSCF_IFC_RE_CACHE) {
            scscf_ifc_cache_clear();
            return re_get(pat);
        }
        e = re_compile(pat);
        if (ims_hash_insert(g_re_cache, pat, e) != IMS_OK)
            abort();
    }
    return e->ok ? &e->re : NULL;
}

static bool re_search(const char *pat, const char *s)
{
    const regex_t *re = s ? re_get(pat) : NULL;

    return re && regexec(re, s, 0, NULL, 0) == 0;
}

/* The same on s[0..n) (not NUL-terminated), with glibc's REG_STARTEND. */
static bool re_search_n(const char *pat, const char *s, size_t n)
{
    const regex_t *re = re_get(pat);
    regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)n };

    return re && regexec(re, s, 1, &m, REG_STARTEND) == 0;
}

/* ---- headers ------------------------------------------------------------ */

/* How libosip2 prints a header it parses into a field of osip_message_t. */
typedef enum hdr_print {
    P_GENERIC = 0, P_FROM, P_CONTACT, P_VIA, P_CALL_ID, P_CSEQ, P_CTYPE, P_ACCEPT,
    P_CLEN, P_CALL_INFO, P_ACCEPT_ENC, P_AUTHZ, P_WWW_AUTH, P_AUTH_INFO
} hdr_print_t;

typedef struct hdr_def {
    const char *name, *compact;
    hdr_print_t print;
    bool list;           /* field is an osip_list_t, else a pointer */
    size_t off;          /* of the field in osip_message_t */
} hdr_def_t;

#define F(field) offsetof(osip_message_t, field)
static const hdr_def_t g_hdrs[] = {
    { "via", "v", P_VIA, true, F(vias) },
    { "from", "f", P_FROM, false, F(from) },
    { "to", "t", P_FROM, false, F(to) },
    { "call-id", "i", P_CALL_ID, false, F(call_id) },
    { "cseq", NULL, P_CSEQ, false, F(cseq) },
    { "contact", "m", P_CONTACT, true, F(contacts) },
    { "content-length", "l", P_CLEN, false, F(content_length) },
    { "content-type", "c", P_CTYPE, false, F(content_type) },
    { "content-encoding", "e", P_CLEN, true, F(content_encodings) },
    { "mime-version", NULL, P_CLEN, false, F(mime_version) },
    { "route", NULL, P_FROM, true, F(routes) },
    { "record-route", NULL, P_FROM, true, F(record_routes) },
    { "accept", NULL, P_ACCEPT, true, F(accepts) },
    { "accept-encoding", NULL, P_ACCEPT_ENC, true, F(accept_encodings) },
    { "accept-language", NULL, P_ACCEPT_ENC, true, F(accept_languages) },
    { "alert-info", NULL, P_CALL_INFO, true, F(alert_infos) },
    { "call-info", NULL, P_CALL_INFO, true, F(call_infos) },
    { "error-info", NULL, P_CALL_INFO, true, F(error_infos) },
    { "allow", NULL, P_CLEN, true, F(allows) },
    { "authorization", NULL, P_AUTHZ, true, F(authorizations) },
    { "proxy-authorization", NULL, P_AUTHZ, true, F(proxy_authorizations) },
    { "www-authenticate", NULL, P_WWW_AUTH, true, F(www_authenticates) },
    { "proxy-authenticate", NULL, P_WWW_AUTH, true, F(proxy_authenticates) },
    { "authentication-info", NULL, P_AUTH_INFO, true, F(authentication_infos) },
    { "proxy-authentication-info", NULL, P_AUTH_INFO, true, F(proxy_authentication_infos) },
    /* kept in the generic list, perhaps under their compact names */
    { "subject", "s", P_GENERIC, false, 0 },
    { "supported", "k", P_GENERIC, false, 0 },
    { "event", "o", P_GENERIC, false, 0 },
    { "allow-events", "u", P_GENERIC, false, 0 },
    { "refer-to", "r", P_GENERIC, false, 0 },
    { "referred-by", "b", P_GENERIC, false, 0 },
    { "session-expires", "x", P_GENERIC, false, 0 },
    { "request-disposition", "d", P_GENERIC, false, 0 },
    { "accept-contact", "a", P_GENERIC, false, 0 },
    { "reject-contact", "j", P_GENERIC, false, 0 },
    { "identity", "y", P_GENERIC, false, 0 },
    { "identity-info", "n", P_GENERIC, false, 0 },
};
#undef F

static const hdr_def_t *hdr_find(const char *name)
{
    for (size_t i = 0; i < IMS_ARRAY_LEN(g_hdrs); i++)
        if (strcasecmp(name, g_hdrs[i].name) == 0 ||
            (g_hdrs[i].compact && strcasecmp(name, g_hdrs[i].compact) == 0))
            return &g_hdrs[i];
    return NULL;
}

/* The i-th instance of a parsed header as text (osip_free), or NULL past the last. */
static char *parsed_nth(const osip_message_t *m, const hdr_def_t *d, int i)
{
    const char *field = (const char *)m + d->off;
    void *h = NULL;
    char *s = NULL;
    int rc = -1;

    if (d->list)
        h = osip_list_get((const osip_list_t *)field, i);
    else if (i == 0)
        memcpy(&h, field, sizeof(h));   /* the header's pointer field */
    if (!h)
        return NULL;
    switch (d->print) {
    case P_FROM: rc = osip_from_to_str(h, &s); break;
    case P_CONTACT: rc = osip_contact_to_str(h, &s); break;
    case P_VIA: rc = osip_via_to_str(h, &s); break;
    case P_CALL_ID: rc = osip_call_id_to_str(h, &s); break;
    case P_CSEQ: rc = osip_cseq_to_str(h, &s); break;
    case P_CTYPE: rc = osip_content_type_to_str(h, &s); break;
    case P_ACCEPT: rc = osip_accept_to_str(h, &s); break;
    case P_CLEN: rc = osip_content_length_to_str(h, &s); break;
    case P_CALL_INFO: rc = osip_call_info_to_str(h, &s); break;
    case P_ACCEPT_ENC: rc = osip_accept_encoding_to_str(h, &s); break;
    case P_AUTHZ: rc = osip_authorization_to_str(h, &s); break;
    case P_WWW_AUTH: rc = osip_www_authenticate_to_str(h, &s); break;
    case P_AUTH_INFO: rc = osip_authentication_info_to_str(h, &s); break;
    case P_GENERIC: break;
    }
    if (rc != 0 || !s) {
        osip_free(s);
        return osip_strdup("");     /* present but not printable: an empty value */
    }
    return s;
}

/* Content NULL: presence; else a match in any instance's value. */
static bool parsed_header(const osip_message_t *m, const hdr_def_t *d, const char *content)
{
    bool hit = false;
    char *s;

    /* Vias and Record-Routes may be kept as text: every instance counts. */
    if (d->print == P_VIA || d->off == offsetof(osip_message_t, record_routes))
        sip_msg_kept_parse_all((osip_message_t *)m);
    for (int i = 0; !hit && (s = parsed_nth(m, d, i)) != NULL; i++) {
        hit = !content || re_search(content, s);
        osip_free(s);
    }
    return hit;
}

static bool generic_header(const osip_message_t *m, const char *name, const hdr_def_t *d,
                           const char *content)
{
    osip_list_iterator_t it;
    osip_header_t *h;

    for (h = osip_list_get_first(&m->headers, &it); h; h = osip_list_get_next(&it)) {
        if (!h->hname)
            continue;
        if (strcasecmp(h->hname, name) != 0 &&
            !(d && (strcasecmp(h->hname, d->name) == 0 ||
                    (d->compact && strcasecmp(h->hname, d->compact) == 0))))
            continue;
        if (!content || re_search(content, h->hvalue ? h->hvalue : ""))
            return true;
    }
    return false;
}

/* libosip2 keeps some parsed headers generic (msg_cred.c re-adds the credentials
 * as received), so both places are looked at. */
static bool header_matches(const osip_message_t *m, const char *name, const char *content)
{
    const hdr_def_t *d;

    if (!name || !*name)
        return false;
    d = hdr_find(name);
    if (d && d->print != P_GENERIC && parsed_header(m, d, content))
        return true;
    return generic_header(m, name, d, content);
}

/* ---- SDP ---------------------------------------------------------------- */

static bool is_sdp(const osip_content_type_t *ct)
{
    return ct && ct->type && ct->subtype && strcasecmp(ct->type, "application") == 0 &&
           strcasecmp(ct->subtype, "sdp") == 0;
}

/* A line "<type>=<value>" of body[0..len) with type == line and, when content
 * is given, a match in the value. */
static bool sdp_matches(const char *body, size_t len, const char *line, const char *content)
{
    size_t tlen = strlen(line), pos = 0;

    while (pos < len) {
        const char *s = body + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;

        pos += nl ? n + 1 : n;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (n <= tlen || s[tlen] != '=' || memcmp(s, line, tlen) != 0)
            continue;
        if (!content || re_search_n(content, s + tlen + 1, n - tlen - 1))
            return true;
    }
    return false;
}

static bool session_desc_matches(const osip_message_t *m, const char *line, const char *content)
{
    osip_list_iterator_t it;
    osip_body_t *b;

    if (!line || !*line)
        return false;
    for (b = osip_list_get_first(&m->bodies, &it); b; b = osip_list_get_next(&it)) {
        const osip_content_type_t *ct = b->content_type ? b->content_type : m->content_type;

        if (is_sdp(ct) && b->body && sdp_matches(b->body, b->length, line, content))
            return true;
    }
    return false;
}

/* ---- method, registration type, Request-URI -------------------------------- */

/* Decimal seconds; false when s is not all digits. Large values saturate. */
static bool seconds(const char *s, unsigned long *out)
{
    unsigned long v = 0;

    if (!s || !*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v < 100000000UL ? v * 10 + (unsigned long)(*s - '0') : v;
    }
    *out = v;
    return true;
}

unsigned scscf_ifc_reg_type(const sip_msg_t *req)
{
    const char *method = sip_msg_method(req);
    osip_header_t *h = NULL;
    osip_contact_t *c;
    unsigned long dflt = 1, e;

    if (!method || strcmp(method, "REGISTER") != 0 || osip_list_size(&req->m->contacts) <= 0)
        return 0;
    if (osip_message_get_expires(req->m, 0, &h) >= 0 && h)
        seconds(h->hvalue, &dflt);
    for (int i = 0; (c = osip_list_get(&req->m->contacts, i)) != NULL; i++) {
        osip_generic_param_t *p = NULL;

        if (!c->url)
            return SCSCF_REG_DE;   /* Contact: * */
        osip_contact_param_get_byname(c, "expires", &p);
        e = dflt;
        if (p)
            seconds(p->gvalue, &e);
        if (e != 0)
            return SCSCF_REG_INITIAL | SCSCF_REG_RE;
    }
    return SCSCF_REG_DE;
}

static bool reg_type_matches(const scscf_spt_t *spt, const sip_msg_t *req,
                             const scscf_ifc_env_t *env)
{
    const char *method = sip_msg_method(req);
    unsigned t;

    if (strcmp(method, "REGISTER") != 0 || (spt->what && strcmp(spt->what, method) != 0))
        return false;
    t = env->reg_type ? env->reg_type : scscf_ifc_reg_type(req);
    return (t & spt->reg_types) != 0;
}

static bool ruri_matches(const sip_msg_t *req, const char *pat)
{
    char *s = NULL;
    bool hit;

    if (!pat || !req->m->req_uri || osip_uri_to_str(req->m->req_uri, &s) != 0)
        return false;
    hit = re_search(pat, s);
    osip_free(s);
    return hit;
}

static bool spt_raw(const scscf_spt_t *spt, const sip_msg_t *req, const scscf_ifc_env_t *env)
{
    switch (spt->kind) {
    case SCSCF_SPT_METHOD:
        /* RegistrationType before Method in the document leaves kind METHOD */
        if (spt->reg_types)
            return reg_type_matches(spt, req, env);
        return spt->what && strcmp(spt->what, sip_msg_method(req)) == 0;
    case SCSCF_SPT_REG_TYPE:
        return reg_type_matches(spt, req, env);
    case SCSCF_SPT_REQUEST_URI:
        return ruri_matches(req, spt->what);
    case SCSCF_SPT_HEADER:
        return header_matches(req->m, spt->what, spt->content);
    case SCSCF_SPT_SESSION_CASE:
        return spt->session_case == env->session_case;
    case SCSCF_SPT_SESSION_DESC:
        return session_desc_matches(req->m, spt->what, spt->content);
    case SCSCF_SPT_NONE:
        break;
    }
    return false;   /* an SPT of no kind we know names no condition that holds */
}

bool scscf_spt_matches(const scscf_spt_t *spt, const sip_msg_t *req, const scscf_ifc_env_t *env)
{
    if (!spt || !env || !sip_msg_is_request(req))
        return false;
    return spt_raw(spt, req, env) != spt->negated;
}
