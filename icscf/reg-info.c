/* SPDX-License-Identifier: BSD-2-Clause */
#include "icscf/reg-info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/auth/digest.h"
#include "common/core/rc.h"

/* Copy s[0..n) into out (NUL-terminated); IMS_ERROR when it does not fit. */
static int put(char *out, size_t len, const char *s, size_t n)
{
    if (n >= len)
        return IMS_ERROR;
    memcpy(out, s, n);
    out[n] = '\0';
    return IMS_OK;
}

/* s without surrounding blanks and one pair of double quotes, as (p, n). */
static void unquote(const char *s, const char **p, size_t *n)
{
    size_t l;

    while (*s == ' ' || *s == '\t')
        s++;
    l = strlen(s);
    while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
        l--;
    if (l >= 2 && s[0] == '"' && s[l - 1] == '"') {
        s++;
        l -= 2;
    }
    *p = s;
    *n = l;
}

int icscf_impu_from_uri(const osip_uri_t *u, char *out, size_t len)
{
    int n;

    if (!u || !u->scheme)
        return IMS_ERROR;
    if (strcasecmp(u->scheme, "sip") == 0 || strcasecmp(u->scheme, "sips") == 0) {
        if (!u->host || !*u->host)
            return IMS_ERROR;
        n = snprintf(out, len, "%s:%s%s%s%s%s", u->scheme, u->username ? u->username : "",
                     u->username ? "@" : "", u->host, u->port ? ":" : "", u->port ? u->port : "");
        return n < 0 || (size_t)n >= len ? IMS_ERROR : IMS_OK;
    }
    /* tel: and the rest: libosip2 keeps what follows the scheme in string */
    if (!u->string || !*u->string)
        return IMS_ERROR;
    n = snprintf(out, len, "%s:%.*s", u->scheme, (int)strcspn(u->string, ";?"), u->string);
    return n < 0 || (size_t)n >= len || (size_t)n == strlen(u->scheme) + 1 ? IMS_ERROR : IMS_OK;
}

int icscf_impi_from_impu(const char *impu, const char *domain, char *out, size_t len)
{
    const char *colon = strchr(impu, ':');
    const char *id = colon ? colon + 1 : impu;
    size_t n = strcspn(id, ";?");
    const char *at;
    int w;

    if (n == 0)
        return IMS_ERROR;
    if ((at = memchr(id, '@', n))) {
        /* no port in an NAI: "sip:a@b:5060" -> "a@b" */
        const char *pc = memchr(at, ':', n - (size_t)(at - id));

        if (pc && pc[1] && strspn(pc + 1, "0123456789") == n - (size_t)(pc + 1 - id))
            n = (size_t)(pc - id);
        return put(out, len, id, n);
    }
    w = snprintf(out, len, "%.*s@%s", (int)n, id, domain ? domain : "");
    return w < 0 || (size_t)w >= len ? IMS_ERROR : IMS_OK;
}

/* The Authorization username (TS 24.229 §5.3.1.2: the IMPI): of the
 * credentials for our realm when there are several, else of the first. The
 * node keeps these headers raw (common/sip/msg_cred.c); unparsable ones are
 * skipped. out receives it; false when there is none or it does not fit. */
static bool auth_username(const sip_msg_t *req, const char *domain, char *out, size_t len)
{
    osip_header_t *h = NULL;
    ims_digest_params_t dp;
    bool found = false;

    for (int pos = 0; (pos = osip_message_header_get_byname(req->m, "authorization", pos, &h)) >= 0;
         pos++) {
        const char *user;

        if (!h || !h->hvalue || ims_digest_parse(h->hvalue, strlen(h->hvalue), &dp) != IMS_OK)
            continue;
        user = ims_digest_get(&dp, IMS_DIGEST_USERNAME);
        if (!*user || (found && !(domain && strcasecmp(dp.realm, domain) == 0)))
            continue;
        if (put(out, len, user, strlen(user)) != IMS_OK)
            return false;
        found = true;
        if (domain && strcasecmp(dp.realm, domain) == 0)
            break;
    }
    return found;
}

/* The first P-Visited-Network-ID value, unquoted and without parameters. */
static bool visited_network(const sip_msg_t *req, char *out, size_t len)
{
    const char *v = sip_msg_header(req, "P-Visited-Network-ID");
    const char *p;
    size_t n;
    char first[CX_STR];

    if (!v || put(first, sizeof(first), v, strcspn(v, ",")) != IMS_OK)
        return false;
    if (first[strspn(first, " \t")] != '"')
        first[strcspn(first, ";")] = '\0';
    unquote(first, &p, &n);
    return n > 0 && put(out, len, p, n) == IMS_OK;
}

static long expires_value(const char *s, long dflt)
{
    char *end;
    long v;

    if (!s)
        return dflt;
    v = strtol(s, &end, 10);
    return end == s || v < 0 ? dflt : v;
}

bool icscf_reg_is_deregistration(const sip_msg_t *req)
{
    osip_contact_t *c = NULL;
    long hdr = expires_value(sip_msg_header(req, "Expires"), 3600);
    int pos;

    for (pos = 0; osip_message_get_contact(req->m, pos, &c) >= 0 && c; pos++) {
        osip_generic_param_t *e = NULL;

        if (!c->url) { /* "*": removes every binding; only valid with Expires: 0 */
            if (hdr != 0)
                return false;
            continue;
        }
        osip_contact_param_get_byname(c, "expires", &e);
        if (expires_value(e ? e->gvalue : NULL, hdr) != 0)
            return false;
    }
    return pos > 0;
}

int icscf_reg_uar_fields(const sip_msg_t *req, const char *domain, cx_uar_t *r, const char **why)
{
    memset(r, 0, sizeof(*r));
    if (!req->m->to || icscf_impu_from_uri(req->m->to->url, r->impu, sizeof(r->impu)) != IMS_OK) {
        *why = "Bad Request - Unusable To URI";
        return IMS_ERROR;
    }
    if (auth_username(req, domain, r->impi, sizeof(r->impi))) {
        /* the UE named its IMPI */
    } else if (sip_msg_header(req, "Authorization")) {
        *why = "Bad Request - Unusable Authorization";
        return IMS_ERROR;
    } else if (icscf_impi_from_impu(r->impu, domain, r->impi, sizeof(r->impi)) != IMS_OK) {
        *why = "Bad Request - No Private Identity";
        return IMS_ERROR;
    }
    if (!visited_network(req, r->visited_network, sizeof(r->visited_network)))
        snprintf(r->visited_network, sizeof(r->visited_network), "%s", domain ? domain : "");
    r->auth_type =
        icscf_reg_is_deregistration(req) ? ICSCF_UAT_DE_REGISTRATION : ICSCF_UAT_REGISTRATION;
    return IMS_OK;
}
