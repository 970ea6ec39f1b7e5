/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Originating and terminating session cases (see session.h for how the case
 * is told and what is not done yet).
 */
#include "scscf/session.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"

#define SESS_URI_MAX 256

/* The I-CSCF for targets of the home network that are registered elsewhere.
 * Per process (one S-CSCF per daemon): scscf_cfg_t is the registrar's. */
static char icscf_uri[SESS_URI_MAX];

int scscf_session_conf_load(ims_conf_t *conf, const scscf_cfg_t *c)
{
    const char *s = NULL;
    osip_uri_t *u = NULL;
    int rc = conf ? ims_conf_str(conf, "scscf.icscf", false, &s) : IMS_DECLINED;

    if (rc == IMS_ERROR) {
        IMS_ERR("%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (rc == IMS_OK)
        rc = (size_t)snprintf(icscf_uri, sizeof(icscf_uri), "%s", s) < sizeof(icscf_uri)
                 ? IMS_OK : IMS_ERROR;
    else
        rc = (size_t)snprintf(icscf_uri, sizeof(icscf_uri), "sip:icscf.%s", c->domain) <
                     sizeof(icscf_uri) ? IMS_OK : IMS_ERROR;
    if (rc == IMS_OK && (osip_uri_init(&u) != 0 || osip_uri_parse(u, icscf_uri) != 0))
        rc = IMS_ERROR;
    osip_uri_free(u);
    if (rc != IMS_OK)
        IMS_ERR("scscf.icscf: not a usable SIP URI: %s", icscf_uri);
    return rc;
}

/* ---- identities ---- */

/* Copy the number of a tel: URI or user=phone user part (up to its first
 * parameter) as "tel:<number>" without visual separators. */
static int tel_impu(const char *num, char *out, size_t len)
{
    size_t o = 4;

    if (!num || !*num || len < 6)
        return IMS_ERROR;
    memcpy(out, "tel:", 4);
    for (; *num && *num != ';' && *num != '?'; num++) {
        if (strchr("-.()", *num))
            continue;
        if (o + 1 >= len)
            return IMS_ERROR;
        out[o++] = *num;
    }
    out[o] = '\0';
    return o > 4 ? IMS_OK : IMS_ERROR;
}

static bool is_user_phone(const osip_uri_t *u)
{
    osip_uri_param_t *p = NULL;

    osip_uri_uparam_get_byname((osip_uri_t *)u, "user", &p);
    return p && p->gvalue && strcasecmp(p->gvalue, "phone") == 0;
}

int scscf_session_impu(const osip_uri_t *u, char *out, size_t len)
{
    if (!u || !u->scheme)
        return IMS_ERROR;
    if (strcasecmp(u->scheme, "tel") == 0)
        return tel_impu(u->string, out, len);
    if ((strcasecmp(u->scheme, "sip") == 0 || strcasecmp(u->scheme, "sips") == 0) &&
        u->username && is_user_phone(u))
        return tel_impu(u->username, out, len);
    return scscf_uri_aor(u, out, len);
}

/* The next comma-separated value of a header (commas in <> or quotes do not
 * count), blanks trimmed: *start and *n; advances *p. false at the end. */
static bool next_value(const char **p, const char **start, size_t *n)
{
    const char *s = *p;
    bool quoted = false, angle = false;

    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (!*s)
        return false;
    *start = s;
    for (; *s && (quoted || angle || *s != ','); s++) {
        if (*s == '"')
            quoted = !quoted;
        else if (!quoted && *s == '<')
            angle = true;
        else if (!quoted && *s == '>')
            angle = false;
    }
    *n = (size_t)(s - *start);
    while (*n && ((*start)[*n - 1] == ' ' || (*start)[*n - 1] == '\t'))
        (*n)--;
    *p = s;
    return true;
}

/* The URI of a name-addr or addr-spec value into out. */
static int value_uri(const char *v, size_t n, char *out, size_t len)
{
    const char *lt = memchr(v, '<', n);

    if (lt) {
        const char *gt = memchr(lt, '>', n - (size_t)(lt - v));

        if (!gt)
            return IMS_ERROR;
        v = lt + 1;
        n = (size_t)(gt - v);
    } else {
        n = strcspn(v, ";") < n ? strcspn(v, ";") : n;
    }
    if (n == 0 || n >= len)
        return IMS_ERROR;
    memcpy(out, v, n);
    out[n] = '\0';
    return IMS_OK;
}

int scscf_session_pai(const sip_msg_t *req, int i, char *out, size_t len)
{
    osip_list_iterator_t it;
    osip_header_t *h;
    int k = 0;

    for (h = osip_list_get_first(&req->m->headers, &it); h; h = osip_list_get_next(&it)) {
        const char *p, *v;
        size_t n;

        if (!h->hname || !h->hvalue || strcasecmp(h->hname, "P-Asserted-Identity") != 0)
            continue;
        p = h->hvalue;
        while (next_value(&p, &v, &n))
            if (k++ == i)
                return value_uri(v, n, out, len);
    }
    return IMS_DECLINED;
}

/* The registration store's key for a URI in text form. */
static int text_impu(const char *text, char *out, size_t len)
{
    osip_uri_t *u = NULL;
    int rc = IMS_ERROR;

    if (osip_uri_init(&u) == 0 && osip_uri_parse(u, text) == 0)
        rc = scscf_session_impu(u, out, len);
    osip_uri_free(u);
    return rc;
}

/* The served user of an originating request: the first asserted identity
 * registered here (its store key in impu), or NULL. */
static scscf_reg_t *served_user(scscf_ctx_t *ctx, const sip_msg_t *req, char *impu, size_t len)
{
    char pai[SESS_URI_MAX];

    for (int i = 0; i < SCSCF_SESSION_MAX_PAI; i++) {
        int rc = scscf_session_pai(req, i, pai, sizeof(pai));
        scscf_reg_t *reg;

        if (rc == IMS_DECLINED)
            break;
        if (rc != IMS_OK || text_impu(pai, impu, len) != IMS_OK)
            continue;
        reg = scscf_reg_find_impu(ctx, impu);
        if (reg && reg->registered)
            return reg;
    }
    return NULL;
}

/* An identity of the home network: tel:, user=phone, or our domain. */
static bool home_target(const scscf_ctx_t *ctx, const osip_uri_t *u)
{
    if (!u->scheme)
        return false;
    if (strcasecmp(u->scheme, "tel") == 0 || is_user_phone(u))
        return true;
    return u->host && strcasecmp(u->host, ctx->cfg.domain) == 0;
}

/* ---- routing ---- */

/* Append each value of a Path (or one Route value) to the Route set of req. */
static int add_routes(sip_msg_t *req, const char *values)
{
    char one[SESS_URI_MAX + 2];
    const char *p = values, *v;
    size_t n;

    while (next_value(&p, &v, &n)) {
        if (n >= sizeof(one))
            return IMS_ERROR;
        memcpy(one, v, n);
        one[n] = '\0';
        if (osip_message_set_route(req->m, one) != 0)
            return IMS_ERROR;
    }
    osip_message_force_update(req->m);
    return IMS_OK;
}

static bool same_path(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/*
 * Terminating case for a user registered here: fork to its live contacts.
 * The Route set is the request's (one for every branch), so only the contacts
 * behind the same Path as the latest-expiring one are forked to (in practice
 * a UE's contacts share its P-CSCF); the others are logged.
 */
static int terminating(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req,
                       const char *impu)
{
    scscf_reg_t *reg = scscf_reg_find_impu(ctx, impu);
    const scscf_contact_t *best = NULL;
    uint64_t now = ims_clock_now_ms();
    int n = 0, skipped = 0;

    for (int i = 0; reg && reg->registered && i < reg->ncontacts; i++)
        if (scscf_contact_left(&reg->contacts[i], now) > 0 &&
            (!best || reg->contacts[i].expires_at > best->expires_at))
            best = &reg->contacts[i];
    if (!best) {
        IMS_INFO("%s for %s: not registered here: 480", sip_msg_method(req), impu);
        sip_proxy_reply(pr, 480, NULL);
        return IMS_OK;
    }
    if (best->path && add_routes(req, best->path) != IMS_OK) {
        IMS_WARN("%s for %s: unusable Path %s", sip_msg_method(req), impu, best->path);
        sip_proxy_reply(pr, 500, NULL);
        return IMS_OK;
    }
    for (int i = 0; i < reg->ncontacts; i++) {
        const scscf_contact_t *c = &reg->contacts[i];

        if (scscf_contact_left(c, now) == 0)
            continue;
        if (!same_path(c->path, best->path)) {
            skipped++;
            continue;
        }
        if (sip_proxy_add_target(pr, c->uri, NULL) == IMS_OK)
            n++;
    }
    IMS_INFO("%s terminating for %s: %d contact%s%s%s", sip_msg_method(req), impu, n,
             n == 1 ? "" : "s (fork)", best->path ? " via " : "", best->path ? best->path : "");
    if (skipped)
        IMS_NOTICE("%s for %s: %d contacts behind another Path not tried", sip_msg_method(req),
                   impu, skipped);
    sip_proxy_forward(pr);
    return IMS_OK;
}

/* Originating toward a home-network identity registered elsewhere: to the
 * I-CSCF with a Route to it (its LIR finds the S-CSCF, or answers 404/480). */
static int to_icscf(sip_proxy_req_t *pr, sip_msg_t *req, const char *target)
{
    char route[SESS_URI_MAX + 8];
    osip_uri_t *u = NULL;
    sip_dest_t dst;
    int rc = IMS_ERROR;

    if (osip_uri_init(&u) == 0 && osip_uri_parse(u, icscf_uri) == 0)
        rc = sip_proxy_resolve(sip_proxy_req_proxy(pr), u, &dst);
    osip_uri_free(u);
    if (rc != IMS_OK) {
        IMS_WARN("%s to %s: I-CSCF %s does not resolve (sip.hosts?): 404", sip_msg_method(req),
                 target, icscf_uri);
        sip_proxy_reply(pr, 404, NULL);
        return IMS_OK;
    }
    snprintf(route, sizeof(route), "<%s;lr>", icscf_uri);
    /* The Route set is empty here (scscf_session_request): ours is the top. */
    if (add_routes(req, route) != IMS_OK || sip_proxy_add_target(pr, NULL, &dst) != IMS_OK) {
        sip_proxy_reply(pr, 500, NULL);
        return IMS_OK;
    }
    IMS_INFO("%s to %s: via the I-CSCF %s", sip_msg_method(req), target, icscf_uri);
    sip_proxy_forward(pr);
    return IMS_OK;
}

/* TODO(issue 5): originating iFCs (scscf_ifc_next, SessionCase 0) and ISC with
 * an ODI Route back to us, before the target is resolved. */
static int originating(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req,
                       const char *served)
{
    const osip_uri_t *ru = req->m->req_uri;
    char target[SESS_URI_MAX];
    scscf_reg_t *reg;

    if (scscf_session_impu(ru, target, sizeof(target)) != IMS_OK) {
        IMS_INFO("%s originating for %s: other target, default routing", sip_msg_method(req),
                 served);
        return IMS_DECLINED;
    }
    IMS_INFO("%s originating for %s to %s", sip_msg_method(req), served, target);
    reg = scscf_reg_find_impu(ctx, target);
    if (reg && reg->registered)
        return terminating(ctx, pr, req, target);
    if (home_target(ctx, ru))
        return to_icscf(pr, req, target);
    return IMS_DECLINED;
}

int scscf_session_request(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req)
{
    const osip_uri_t *ru = req->m->req_uri;
    char served[SESS_URI_MAX], target[SESS_URI_MAX];

    /* In a dialog the route set rules; the S-CSCF itself (keep-alive
     * OPTIONS) is the core's. */
    if (sip_msg_to_tag(req) || osip_list_size(&req->m->routes) != 0 ||
        strcmp(sip_msg_method(req), "ACK") == 0 ||
        sip_proxy_uri_is_local(sip_proxy_req_proxy(pr), ru))
        return IMS_DECLINED;
    /* The Service-Route we gave the UE's P-CSCF marks the originating case
     * (orig); its asserted identity names the served user. */
    if (sip_proxy_req_route_orig(pr)) {
        if (!served_user(ctx, req, served, sizeof(served))) {
            IMS_INFO("%s originating: no asserted identity registered here: 403",
                     sip_msg_method(req));
            sip_proxy_reply(pr, 403, "Forbidden - Not Registered");
            return IMS_OK;
        }
        return originating(ctx, pr, req, served);
    }
    /* TODO(issue 5): terminating iFCs; unregistered user: SAR UNREGISTERED_USER. */
    if (!home_target(ctx, ru) || scscf_session_impu(ru, target, sizeof(target)) != IMS_OK)
        return IMS_DECLINED;
    return terminating(ctx, pr, req, target);
}
