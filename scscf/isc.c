/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ISC: forwarding to application servers with an ODI, its records, and
 * DefaultHandling (see isc.h).
 */
#include "scscf/isc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/hash.h"
#include "common/core/log.h"
#include "common/core/rc.h"

#define ISC_URI_MAX 320

typedef struct isc_odi {
    uint64_t req_id;               /* the proxy request sent to the AS */
    ims_loop_t *loop;
    ims_timer_t ttl;
    int default_handling;          /* of the iFC that fired */
    scscf_isc_state_t st;          /* pos: that iFC's place in the order */
    char token[SCSCF_ISC_TOKEN_LEN + 1];
} isc_odi_t;

/* Per process, like the S-CSCF (see isc.h). */
static ims_hash_t *by_token;       /* token -> isc_odi_t */
static ims_hash_t *by_req;         /* proxy request id (8 raw bytes) -> isc_odi_t */
static uint32_t as_timeout_ms = SCSCF_ISC_AS_TIMEOUT_MS;
static char odi_host[192];         /* host[:port] of our URI, for the ODI Route */

static const char *case_name(int session_case)
{
    switch (session_case) {
    case SCSCF_CASE_ORIG: return "originating";
    case SCSCF_CASE_TERM_REG: return "terminating";
    case SCSCF_CASE_TERM_UNREG: return "terminating-unregistered";
    case SCSCF_CASE_ORIG_UNREG: return "originating-unregistered";
    default: return "originating-cdiv";
    }
}

int scscf_isc_conf_load(ims_conf_t *conf, const scscf_cfg_t *c)
{
    osip_uri_t *u = NULL;
    long long v;
    int rc = conf ? ims_conf_int(conf, "scscf.as_timeout_ms", false, 100, 180000, &v)
                  : IMS_DECLINED;

    if (rc == IMS_ERROR) {
        IMS_ERR("%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    as_timeout_ms = rc == IMS_OK ? (uint32_t)v : SCSCF_ISC_AS_TIMEOUT_MS;
    rc = IMS_ERROR;
    if (osip_uri_init(&u) == 0 && osip_uri_parse(u, c->uri) == 0 && u->host && *u->host)
        rc = (size_t)snprintf(odi_host, sizeof(odi_host), "%s%s%s", u->host,
                              u->port && *u->port ? ":" : "", u->port ? u->port : "") <
                     sizeof(odi_host) ? IMS_OK : IMS_ERROR;
    osip_uri_free(u);
    if (rc != IMS_OK)
        IMS_ERR("scscf.uri: no usable host for the ODI Route: %s", c->uri);
    return rc;
}

/* ---- records ---- */

static void odi_free(isc_odi_t *o)
{
    scscf_profile_free(o->st.unreg);
    ims_hash_remove(by_token, o->token);
    if (ims_hash_find_n(by_req, (const char *)&o->req_id, sizeof(o->req_id)) == o)
        ims_hash_remove_n(by_req, (const char *)&o->req_id, sizeof(o->req_id));
    ims_timer_stop(o->loop, &o->ttl);
    free(o);
}

static void odi_expired(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    isc_odi_t *o = arg;

    IMS_INFO("ODI %s for %s expired", o->token, o->st.impu);
    odi_free(o);
}

static bool tables(void)
{
    if (!by_token)
        by_token = ims_hash_new(64);
    if (!by_req)
        by_req = ims_hash_new(64);
    return by_token && by_req;
}

/* A new record under a fresh token, indexed by the request; it owns st->unreg.
 * NULL on failure (st->unreg still the caller's). */
static isc_odi_t *odi_new(ims_loop_t *loop, uint64_t req_id, const scscf_isc_state_t *st,
                          int default_handling)
{
    isc_odi_t *o, *old;
    const size_t plen = strlen(SCSCF_ISC_TOKEN_PREFIX);

    if (!tables() || !(o = calloc(1, sizeof(*o))))
        return NULL;
    o->req_id = req_id;
    o->loop = loop;
    o->default_handling = default_handling;
    o->st = *st;
    ims_timer_init(&o->ttl);
    memcpy(o->token, SCSCF_ISC_TOKEN_PREFIX, plen);
    for (int i = 0;; i++) {
        sip_random_token(o->token + plen, SCSCF_ISC_TOKEN_LEN - plen);
        if (ims_hash_insert(by_token, o->token, o) == IMS_OK)
            break;
        if (i == 3) {
            free(o);
            return NULL;
        }
    }
    /* One AS at a time per request: an older record of it is stale. */
    old = ims_hash_find_n(by_req, (const char *)&req_id, sizeof(req_id));
    if (old)
        odi_free(old);
    if (ims_hash_insert_n(by_req, (const char *)&req_id, sizeof(req_id), o) != IMS_OK) {
        o->st.unreg = NULL;   /* still the caller's */
        odi_free(o);
        return NULL;
    }
    ims_timer_start(loop, &o->ttl, SCSCF_ISC_ODI_TTL_MS, odi_expired, o);
    return o;
}

bool scscf_isc_is_token(const char *user)
{
    const size_t plen = strlen(SCSCF_ISC_TOKEN_PREFIX);

    if (!user || strlen(user) != SCSCF_ISC_TOKEN_LEN ||
        strncmp(user, SCSCF_ISC_TOKEN_PREFIX, plen) != 0)
        return false;
    for (const char *p = user + plen; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

size_t scscf_isc_count(void)
{
    return by_token ? ims_hash_count(by_token) : 0;
}

static void free_one(void *arg, const char *key, void *value)
{
    isc_odi_t *o = value;

    ims_timer_stop(o->loop, &o->ttl);
    scscf_profile_free(o->st.unreg);
    free(o);
}

void scscf_isc_free_all(void)
{
    if (by_token)
        ims_hash_foreach(by_token, free_one, NULL);
    ims_hash_free(by_token);
    ims_hash_free(by_req);
    by_token = by_req = NULL;
}

/* ---- to the AS ---- */

/* "<AS-uri;lr>" of an iFC's ServerName (a sip:/sips: URI). */
static int as_route(const char *as, char *out, size_t len)
{
    osip_uri_param_t *lr = NULL;
    osip_uri_t *u = NULL;
    char *s = NULL;
    int rc = IMS_ERROR;

    if (as && osip_uri_init(&u) == 0 && osip_uri_parse(u, as) == 0 && u->scheme && u->host &&
        (strcasecmp(u->scheme, "sip") == 0 || strcasecmp(u->scheme, "sips") == 0)) {
        if (osip_uri_uparam_get_byname(u, "lr", &lr) != 0)
            osip_uri_uparam_add(u, osip_strdup("lr"), NULL);
        if (osip_uri_to_str(u, &s) == 0 && (size_t)snprintf(out, len, "<%s>", s) < len)
            rc = IMS_OK;
        osip_free(s);
    }
    osip_uri_free(u);
    return rc;
}

/* Push the two Route entries and forward. IMS_OK, or IMS_ERROR (nothing sent
 * yet: the record is the caller's to free). */
static int send_to_as(sip_proxy_req_t *pr, sip_msg_t *req, const char *as, const char *token)
{
    char odi[ISC_URI_MAX];

    if ((size_t)snprintf(odi, sizeof(odi), "<sip:%s@%s;lr>", token, odi_host) >= sizeof(odi) ||
        osip_message_set_route(req->m, as) != 0 || osip_message_set_route(req->m, odi) != 0)
        return IMS_ERROR;
    osip_message_force_update(req->m);
    sip_proxy_set_reply_timeout(pr, as_timeout_ms);
    if (sip_proxy_add_target(pr, NULL, NULL) != IMS_OK)
        return IMS_ERROR;
    /* A failure to send shows up in on_failure (scscf_isc_failed), record in place. */
    sip_proxy_forward(pr);
    return IMS_OK;
}

/* The profile iFCs are evaluated against, and whether the user is registered. */
static const scscf_profile_t *served_profile(scscf_ctx_t *ctx, const scscf_isc_state_t *st,
                                             bool *registered)
{
    scscf_reg_t *reg;

    *registered = !st->unreg;
    if (st->unreg)
        return st->unreg;
    reg = scscf_reg_find_impu(ctx, st->impu);
    return reg && reg->registered ? reg->profile : NULL;
}

int scscf_isc_run(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req,
                  scscf_isc_state_t *st)
{
    scscf_isc_state_t next = *st;
    const scscf_profile_t *p;
    const scscf_ifc_t *ifc;
    char as[ISC_URI_MAX];
    isc_odi_t *o;
    bool registered;

    if (!(p = served_profile(ctx, st, &registered)))
        return IMS_DECLINED;
    for (;;) {
        ifc = scscf_ifc_next(p, req, st->session_case, registered, &next.pos);
        if (!ifc)
            return IMS_DECLINED;
        if (as_route(ifc->as_name, as, sizeof(as)) == IMS_OK)
            break;
        IMS_WARN("%s %s for %s: iFC priority %d: unusable AS %s: %s", sip_msg_method(req),
                 case_name(st->session_case), st->impu, ifc->priority,
                 ifc->as_name ? ifc->as_name : "(none)",
                 ifc->default_handling ? "session terminated: 500" : "skipped");
        if (ifc->default_handling) {
            scscf_profile_free(st->unreg);
            st->unreg = NULL;
            sip_proxy_reply(pr, 500, NULL);
            return IMS_OK;
        }
    }
    /* The record holds the unregistered user's profile (that ifc points into)
     * from here on. */
    st->unreg = NULL;
    o = odi_new(ctx->loop, sip_proxy_req_id(pr), &next, ifc->default_handling);
    if (!o) {
        scscf_profile_free(next.unreg);
        sip_proxy_reply(pr, 500, NULL);
        return IMS_OK;
    }
    IMS_INFO("%s %s for %s: iFC priority %d to AS %s, ODI %s", sip_msg_method(req),
             case_name(st->session_case), st->impu, ifc->priority, ifc->as_name, o->token);
    if (send_to_as(pr, req, as, o->token) != IMS_OK) {
        odi_free(o);
        sip_proxy_reply(pr, 500, NULL);
    }
    return IMS_OK;
}

/* ---- back from the AS, or not ---- */

int scscf_isc_resume(sip_proxy_req_t *pr, const char *token, scscf_isc_state_t *st)
{
    isc_odi_t *o = by_token ? ims_hash_find(by_token, token) : NULL;
    sip_proxy_req_t *first;

    if (!o)
        return IMS_DECLINED;
    *st = o->st;
    o->st.unreg = NULL;   /* the caller's now */
    /* The AS is alive: its branch waits as long as any other now. */
    first = sip_proxy_req_find(sip_proxy_req_proxy(pr), o->req_id);
    if (first)
        sip_proxy_set_reply_timeout(first, 0);
    odi_free(o);
    return IMS_OK;
}

static void clear_routes(sip_msg_t *req)
{
    osip_route_t *rt;

    while ((rt = osip_list_get(&req->m->routes, 0)) != NULL) {
        osip_list_remove(&req->m->routes, 0);
        osip_route_free(rt);
    }
    osip_message_force_update(req->m);
}

int scscf_isc_failed(sip_proxy_req_t *pr, int code, scscf_isc_state_t *st)
{
    uint64_t id = sip_proxy_req_id(pr);
    isc_odi_t *o = by_req ? ims_hash_find_n(by_req, (const char *)&id, sizeof(id)) : NULL;
    /* The core's own request, still open (no final response yet): its Route
     * set is rewritten in place, as the core does in preprocessing. */
    sip_msg_t *req = (sip_msg_t *)sip_proxy_req_msg(pr);
    bool as_failed = code == 408 || (code >= 500 && code < 600);
    int dh;

    if (!o)
        return IMS_DECLINED;
    *st = o->st;
    o->st.unreg = NULL;   /* the caller's, or freed below */
    dh = o->default_handling;
    IMS_INFO("ODI %s: AS of %s %s failed: %d%s", o->token, case_name(st->session_case),
             st->impu, code, !as_failed ? " (its answer: forwarded)"
                             : dh ? ", SESSION_TERMINATED" : ", SESSION_CONTINUED");
    odi_free(o);
    if (!as_failed || dh || !req) {
        scscf_profile_free(st->unreg);
        st->unreg = NULL;
        return as_failed ? IMS_DONE : IMS_DECLINED;
    }
    clear_routes(req);
    sip_proxy_set_reply_timeout(pr, 0);
    return IMS_OK;
}

void scscf_isc_settled(const sip_proxy_req_t *pr)
{
    uint64_t id = sip_proxy_req_id(pr);
    isc_odi_t *o;

    if (!by_req || ims_hash_count(by_req) == 0)
        return;
    o = ims_hash_find_n(by_req, (const char *)&id, sizeof(id));
    if (o)
        odi_free(o);
}
