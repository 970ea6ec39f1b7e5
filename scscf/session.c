/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Originating and terminating session cases (see session.h for how the case
 * is told and what is not done yet), with the iFCs of each through
 * scscf/isc.h.
 */
#include "scscf/session.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "scscf/cx-path.h"
#include "scscf/isc.h"

#define SESS_URI_MAX 256

/* The I-CSCF for targets of the home network that are registered elsewhere.
 * Per process (one S-CSCF per daemon): scscf_cfg_t is the registrar's. */
static char icscf_uri[SESS_URI_MAX];
/* scscf.local_terminating: a callee registered here is served at once instead of
 * through the I-CSCF (TS 24.229's path, which finds its S-CSCF by LIR). */
static bool local_terminating;

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
    if (rc != IMS_OK) {
        IMS_ERR("scscf.icscf: not a usable SIP URI: %s", icscf_uri);
        return rc;
    }
    local_terminating = false;
    if (conf && ims_conf_bool(conf, "scscf.local_terminating", false, &local_terminating) ==
                    IMS_ERROR) {
        IMS_ERR("%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    return scscf_isc_conf_load(conf, c);
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
 * Terminating routing for a user registered here: fork to its live contacts.
 * The Route set is the request's (one for every branch), so only the contacts
 * behind the same Path as the latest-expiring one are forked to (in practice
 * a UE's contacts share its P-CSCF); the others are logged.
 */
static int term_route(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req,
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

static int terminating(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req,
                       const char *impu);

/* Originating routing once the iFCs are done: resolve the target. */
static int orig_route(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req,
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
    reg = local_terminating ? scscf_reg_find_impu(ctx, target) : NULL;
    if (reg && reg->registered)
        return terminating(ctx, pr, req, target);
    if (home_target(ctx, ru))
        return to_icscf(pr, req, target);
    return IMS_DECLINED;
}

/* ---- iFCs and ISC (scscf/isc.h) ---- */

/* After the iFCs of st: the normal routing of its session case. A terminating
 * AS may have retargeted the request: its Request-URI names the user. */
static int route_case(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req,
                      scscf_isc_state_t *st)
{
    char target[SESS_URI_MAX];

    scscf_profile_free(st->unreg);  /* unregistered: nobody to deliver to (480) */
    st->unreg = NULL;
    if (st->session_case == SCSCF_CASE_ORIG)
        return orig_route(ctx, pr, req, st->impu);
    if (scscf_session_impu(req->m->req_uri, target, sizeof(target)) != IMS_OK)
        snprintf(target, sizeof(target), "%s", st->impu);
    return term_route(ctx, pr, req, target);
}

/* The next iFC after st's cursor sends req to its AS; none left: route it. */
static int isc_then_route(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req,
                          scscf_isc_state_t *st)
{
    if (scscf_isc_run(ctx, pr, req, st) == IMS_OK)
        return IMS_OK;
    return route_case(ctx, pr, req, st);
}

static int start_case(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req, int session_case,
                      const char *impu)
{
    scscf_isc_state_t st = { .session_case = session_case, .pos = SCSCF_IFC_START };

    snprintf(st.impu, sizeof(st.impu), "%s", impu);
    return isc_then_route(ctx, pr, req, &st);
}

/* The SAA of an unregistered user's terminating request: its iFCs of
 * SessionCase 2 with the profile from User-Data; none (or no profile): 480. */
static void on_unreg_saa(void *arg, int status, const cx_saa_t *a)
{
    scscf_op_t *op = arg;
    scscf_ctx_t *ctx = op->ctx;
    sip_proxy_req_t *pr = ctx->node ? sip_proxy_req_find(sip_node_proxy(ctx->node), op->req_id)
                                    : NULL;
    scscf_isc_state_t st = { .session_case = SCSCF_CASE_TERM_UNREG, .pos = SCSCF_IFC_START };
    char err[96] = "no User-Data";

    if (!pr) {
        scscf_op_free(op);
        return;
    }
    ims_log_ctx_set(sip_msg_call_id(sip_proxy_req_msg(pr)));
    snprintf(st.impu, sizeof(st.impu), "%s", op->impu);
    if (status == IMS_OK && scscf_cx_ok(&a->result) && a->user_data)
        st.unreg = scscf_user_data_parse(a->user_data, a->user_data_len, err, sizeof(err));
    if (!st.unreg) {
        IMS_INFO("%s for %s: not registered, SAR UNREGISTERED_USER %s: 480",
                 sip_msg_method(sip_proxy_req_msg(pr)), op->impu,
                 status != IMS_OK ? "unanswered" : !scscf_cx_ok(&a->result) ? "refused" : err);
        sip_proxy_reply(pr, 480, NULL);
    } else {
        IMS_INFO("%s terminating for %s: not registered, profile by SAR UNREGISTERED_USER",
                 sip_msg_method(sip_proxy_req_msg(pr)), op->impu);
        if (isc_then_route(ctx, pr, (sip_msg_t *)sip_proxy_req_msg(pr), &st) == IMS_DECLINED)
            sip_proxy_forward(pr);
    }
    ims_log_ctx_clear();
    scscf_op_free(op);
}

/* Terminating case for a user registered here: its iFCs, then its contacts.
 * For one that is not (24.229 §5.4.3.3), the HSS is asked for the profile of
 * the unregistered user (SAR UNREGISTERED_USER, assigning us), whose iFCs may
 * send the request to an AS (voicemail, SMS store); else 480. The request
 * waits for the SAA (the core's id names it). */
static int terminating(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req,
                       const char *impu)
{
    scscf_reg_t *reg = scscf_reg_find_impu(ctx, impu);
    scscf_op_t *op;

    if ((reg && reg->registered) || !ctx->hss || !ctx->node)
        return start_case(ctx, pr, req, SCSCF_CASE_TERM_REG, impu);
    op = scscf_op_new(ctx, sip_proxy_req_id(pr), "", impu);
    if (scscf_cx_sar(op, CX_SAT_UNREGISTERED_USER, false, on_unreg_saa) != IMS_OK) {
        scscf_op_free(op);
        return term_route(ctx, pr, req, impu);
    }
    return IMS_OK;
}

/* A request back from an AS by its ODI Route: evaluation goes on after the iFC
 * that sent it there, in the same session case. */
static int from_as(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req, const char *token)
{
    scscf_isc_state_t st;

    if (scscf_isc_resume(pr, token, &st) != IMS_OK) {
        IMS_INFO("%s back from an AS with unknown ODI %s: 500", sip_msg_method(req), token);
        sip_proxy_reply(pr, 500, "Unknown ODI");
        return IMS_OK;
    }
    IMS_INFO("%s back from the AS, ODI %s: %s for %s continues", sip_msg_method(req), token,
             st.session_case == SCSCF_CASE_ORIG ? "originating" : "terminating", st.impu);
    return isc_then_route(ctx, pr, req, &st);
}

int scscf_session_on_failure(void *arg, sip_proxy_req_t *pr, int code, bool replied)
{
    scscf_ctx_t *ctx = arg;
    scscf_isc_state_t st;
    sip_msg_t *req;
    int rc;

    (void)replied;  /* a record still there says the request never came back */
    if (!ctx || !ctx->enabled)
        return IMS_DECLINED;
    rc = scscf_isc_failed(pr, code, &st);
    if (rc != IMS_OK)
        return IMS_DECLINED;
    /* SESSION_CONTINUED: as if the AS had returned the request. */
    req = (sip_msg_t *)sip_proxy_req_msg(pr);
    if (isc_then_route(ctx, pr, req, &st) == IMS_DECLINED)
        sip_proxy_forward(pr);
    return IMS_OK;
}

void scscf_session_on_response(void *arg, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    scscf_ctx_t *ctx = arg;

    if (ctx && sip_msg_status(resp) >= 200)
        scscf_isc_settled(pr);
}

void scscf_session_stop(void)
{
    scscf_isc_free_all();
}

/* From outside the trust domain (RFC 3325 §5): the asserted identities go,
 * and without them nobody can be served as originating user (IMS_OK: 403
 * sent). IMS_DECLINED: go on with the request. */
static int untrusted(sip_proxy_req_t *pr, sip_msg_t *req)
{
    char src[64];

    sip_addr_str(&req->rcv.remote, src, sizeof(src));
    if (sip_proxy_req_route_orig(pr)) {
        IMS_NOTICE("%s originating from %s, outside the trust domain: 403", sip_msg_method(req),
                   src);
        sip_proxy_reply(pr, 403, "Forbidden - Outside Trust Domain");
        return IMS_OK;
    }
    if (sip_msg_header_remove(req, "P-Asserted-Identity") > 0)
        IMS_INFO("%s from %s, outside the trust domain: P-Asserted-Identity removed",
                 sip_msg_method(req), src);
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
    /* Back from an AS by the ODI we gave it (the token is the proof). */
    if (scscf_isc_is_token(sip_proxy_req_route_user(pr)))
        return from_as(ctx, pr, req, sip_proxy_req_route_user(pr));
    if (ctx->cfg.trust_domain && !sip_trust_has(&ctx->cfg.trusted, &req->rcv) &&
        untrusted(pr, req) == IMS_OK)
        return IMS_OK;
    /* The Service-Route we gave the UE's P-CSCF marks the originating case
     * (orig); its asserted identity names the served user. */
    if (sip_proxy_req_route_orig(pr)) {
        if (!served_user(ctx, req, served, sizeof(served))) {
            IMS_INFO("%s originating: no asserted identity registered here: 403",
                     sip_msg_method(req));
            sip_proxy_reply(pr, 403, "Forbidden - Not Registered");
            return IMS_OK;
        }
        return start_case(ctx, pr, req, SCSCF_CASE_ORIG, served);
    }
    if (!home_target(ctx, ru) || scscf_session_impu(ru, target, sizeof(target)) != IMS_OK)
        return IMS_DECLINED;
    return terminating(ctx, pr, req, target);
}
