/* SPDX-License-Identifier: BSD-2-Clause */
#include "scscf/register-handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/auth/digest.h"
#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "scscf/auth.h"
#include "scscf/cx-path.h"
#include "scscf/diagnose.h"
#include "scscf/reg-store.h"
#include "scscf/regevent.h"

#define WWW_MAX 400

/* A Contact of the REGISTER: its URI text and the expiry asked for. */
typedef struct req_contact {
    char *uri;                   /* osip-allocated */
    uint32_t expires;
} req_contact_t;

typedef struct req_binds {
    req_contact_t c[SCSCF_MAX_CONTACTS];
    int n;
    bool star;                   /* Contact: * */
    bool all_zero;               /* every binding asks for removal */
} req_binds_t;

static void binds_free(req_binds_t *b)
{
    for (int i = 0; i < b->n; i++)
        osip_free(b->c[i].uri);
    b->n = 0;
}

/* The Expires header, or the default. */
static uint32_t header_expires(const scscf_ctx_t *ctx, const sip_msg_t *req, bool *has)
{
    osip_header_t *h = NULL;
    uint32_t v = ctx->cfg.default_expires;

    *has = false;
    if (osip_message_get_expires(req->m, 0, &h) >= 0 && h && h->hvalue &&
        scscf_parse_seconds(h->hvalue, &v) == IMS_OK)
        *has = true;
    else
        v = ctx->cfg.default_expires;
    return v;
}

/* Read the Contacts: IMS_OK, or IMS_ERROR for a request to refuse with 400. */
static int read_binds(const scscf_ctx_t *ctx, const sip_msg_t *req, req_binds_t *b)
{
    bool has_hdr;
    uint32_t dflt = header_expires(ctx, req, &has_hdr);
    osip_contact_t *c;

    memset(b, 0, sizeof(*b));
    b->all_zero = true;
    for (int i = 0; (c = osip_list_get(&req->m->contacts, i)) != NULL; i++) {
        osip_generic_param_t *p = NULL;
        uint32_t e = dflt;

        if (!c->url) {
            if (c->displayname && strcmp(c->displayname, "*") == 0 && i == 0 &&
                osip_list_size(&req->m->contacts) == 1 && has_hdr && dflt == 0) {
                b->star = true;
                return IMS_OK;
            }
            return IMS_ERROR;
        }
        if (b->n == SCSCF_MAX_CONTACTS)
            continue;   /* beyond what we keep: ignored */
        osip_contact_param_get_byname(c, "expires", &p);
        if (p && p->gvalue && scscf_parse_seconds(p->gvalue, &e) != IMS_OK)
            e = dflt;
        if (osip_uri_to_str(c->url, &b->c[b->n].uri) != 0) {
            binds_free(b);
            return IMS_ERROR;
        }
        b->c[b->n++].expires = e;
        if (e != 0)
            b->all_zero = false;
    }
    return IMS_OK;
}

/* All values of a header that may repeat (Path), joined with ", "; malloc'd or NULL. */
static char *joined(const sip_msg_t *req, const char *name)
{
    osip_list_iterator_t it;
    osip_header_t *h;
    size_t len = 0;
    char *out = NULL;

    for (h = osip_list_get_first(&req->m->headers, &it); h; h = osip_list_get_next(&it)) {
        size_t n;

        if (!h->hname || strcasecmp(h->hname, name) != 0 || !h->hvalue)
            continue;
        n = strlen(h->hvalue);
        if (!(out = realloc(out, len + n + 3)))
            abort();
        if (len) {
            memcpy(out + len, ", ", 2);
            len += 2;
        }
        memcpy(out + len, h->hvalue, n + 1);
        len += n;
    }
    return out;
}

/* The credentials for our realm (else the first Authorization). */
static bool read_credentials(const scscf_ctx_t *ctx, const sip_msg_t *req,
                             ims_digest_params_t *p)
{
    osip_list_iterator_t it;
    osip_header_t *h;
    bool found = false;

    for (h = osip_list_get_first(&req->m->headers, &it); h; h = osip_list_get_next(&it)) {
        if (!h->hname || strcasecmp(h->hname, "authorization") != 0 || !h->hvalue)
            continue;
        if (ims_digest_parse(h->hvalue, strlen(h->hvalue), p) != IMS_OK)
            continue;
        found = true;
        if (strcasecmp(p->realm, ctx->cfg.domain) == 0)
            return true;
    }
    if (found)   /* parse the first good one again: p holds the last */
        for (h = osip_list_get_first(&req->m->headers, &it); h; h = osip_list_get_next(&it))
            if (h->hname && strcasecmp(h->hname, "authorization") == 0 && h->hvalue &&
                ims_digest_parse(h->hvalue, strlen(h->hvalue), p) == IMS_OK)
                return true;
    return false;
}

/* IMPI from the public identity when the UE sent no Authorization
 * (24.229 §5.4.1.2.1: sip:user@host -> user@host). */
static int derive_impi(const char *impu, char *out, size_t len)
{
    const char *s = strncmp(impu, "sip:", 4) == 0 ? impu + 4 : NULL;

    if (!s || !strchr(s, '@') || strlen(s) >= len)
        return IMS_ERROR;
    memcpy(out, s, strlen(s) + 1);
    return IMS_OK;
}

/* Every final answer to a REGISTER goes through these two: counted by code
 * (ims_register_responses_total). */
static int reg_reply(scscf_ctx_t *ctx, sip_proxy_req_t *pr, int code, const char *why)
{
    ims_counter_inc(ctx->m_register, ims_sip_code_index(code));
    return sip_proxy_reply(pr, code, why);
}

static int reg_reply_msg(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *r)
{
    ims_counter_inc(ctx->m_register, ims_sip_code_index(sip_msg_status(r)));
    return sip_proxy_reply_msg(pr, r);
}

static sip_proxy_req_t *waiting(scscf_ctx_t *ctx, uint64_t id)
{
    sip_proxy_t *px = ctx->node ? sip_node_proxy(ctx->node) : NULL;

    return px ? sip_proxy_req_find(px, id) : NULL;
}

static void reply_retry(scscf_ctx_t *ctx, sip_proxy_req_t *pr, int code, const char *why)
{
    sip_msg_t *r = sip_msg_make_response(sip_proxy_req_msg(pr), code, why, NULL);
    char v[16];

    if (!r) {
        reg_reply(ctx, pr, code, why);
        return;
    }
    snprintf(v, sizeof(v), "%u", ctx->cfg.retry_after);
    if (ctx->cfg.retry_after)
        sip_msg_header_add(r, "Retry-After", v);
    reg_reply_msg(ctx, pr, r);
}

/* A Cx error as the SIP answer (29.228 / 24.229 practice). */
static void reply_cx_error(scscf_ctx_t *ctx, sip_proxy_req_t *pr, const cx_result_t *res)
{
    if (!res->experimental && (res->code == DIA_UNABLE_TO_COMPLY || res->code / 1000 == 3 ||
                               res->code == DIA_UNABLE_TO_DELIVER)) {
        reply_retry(ctx, pr, 500, "HSS Error");
        return;
    }
    reg_reply(ctx, pr, 403, NULL);
}

/* ---- challenge ---- */

static void on_auth_timeout(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    scscf_reg_t *reg = arg;

    (void)loop;
    (void)t;
    IMS_INFO("%s: no answer to the challenge (reg-await-auth)", reg->impi);
    scscf_diag(reg->ctx, reg->impi, NULL, NULL, SCSCF_DIAG_AUTH_TIMEOUT, 0, "%u s",
               reg->ctx->cfg.auth_timeout_ms / 1000);
    scscf_reg_auth_clear(reg);
    if (!reg->registered)
        scscf_reg_free(reg);
}

static void on_maa(void *arg, int status, const cx_maa_t *a)
{
    scscf_op_t *op = arg;
    scscf_ctx_t *ctx = op->ctx;
    sip_proxy_req_t *pr = waiting(ctx, op->req_id);
    char www[WWW_MAX];
    scscf_auth_t *au;
    scscf_reg_t *reg;
    sip_msg_t *r;

    if (!pr) {
        IMS_DEBUG("MAA for %s: the REGISTER has gone", op->impi);
    } else if (status != IMS_OK) {
        ctx->stats.hss_errors++;
        IMS_NOTICE("MAR for %s: no answer from the HSS", op->impi);
        scscf_diag_hss_silent(ctx, op->impi, op->impu, sip_proxy_req_msg(pr), "MAR");
        reply_retry(ctx, pr, 500, "HSS Unavailable");
    } else if (!scscf_cx_ok(&a->result) || a->nitems < 1) {
        IMS_INFO("MAR for %s: result %u%s", op->impi, a->result.code,
                 a->result.experimental ? " (exp)" : "");
        scscf_diag_hss_result(ctx, op->impi, op->impu, sip_proxy_req_msg(pr), "MAR", &a->result);
        reply_cx_error(ctx, pr, &a->result);
    } else {
        reg = scscf_reg_get(ctx, op->impi);
        au = scscf_reg_auth_new(reg);
        au->attempts = op->attempts;
        if (scscf_auth_from_maa(au, &a->items[0], ctx->cfg.domain, www, sizeof(www)) != IMS_OK) {
            IMS_NOTICE("MAA for %s: unusable vector (scheme '%s')", op->impi, a->items[0].scheme);
            scscf_diag(ctx, op->impi, op->impu, sip_proxy_req_msg(pr), SCSCF_DIAG_REFUSED, 403,
                       "unusable vector from the HSS (scheme '%s')", a->items[0].scheme);
            scscf_reg_auth_clear(reg);
            if (!reg->registered)
                scscf_reg_free(reg);
            reg_reply(ctx, pr, 403, "Authentication Scheme Not Supported");
        } else {
            ims_timer_start(ctx->loop, &au->timer, ctx->cfg.auth_timeout_ms,
                            on_auth_timeout, reg);
            if (!(r = sip_msg_make_response(sip_proxy_req_msg(pr), 401, NULL, NULL))) {
                reg_reply(ctx, pr, 500, NULL);
            } else {
                sip_msg_header_add(r, "WWW-Authenticate", www);
                ctx->stats.challenges++;
                scscf_diag(ctx, op->impi, op->impu, sip_proxy_req_msg(pr), SCSCF_DIAG_CHALLENGE,
                           401, "%s", au->scheme == SCSCF_AUTH_AKA ? "AKA" : "SIP Digest");
                reg_reply_msg(ctx, pr, r);
            }
        }
    }
    scscf_op_free(op);
}

static int challenge(scscf_ctx_t *ctx, sip_proxy_req_t *pr, const char *impi, const char *impu,
                     const char *algorithm, const uint8_t *resync, uint8_t attempts)
{
    scscf_op_t *op = scscf_op_new(ctx, sip_proxy_req_id(pr), impi, impu);

    op->attempts = attempts;
    if (scscf_cx_mar(op, scscf_auth_mar_scheme(&ctx->cfg, algorithm), resync, on_maa) != IMS_OK) {
        scscf_op_free(op);
        scscf_diag_hss_silent(ctx, impi, impu, sip_proxy_req_msg(pr), "MAR");
        reply_retry(ctx, pr, 500, "HSS Unavailable");
    }
    return IMS_OK;
}

/* ---- 200 OK ---- */

static void add_assoc_uris(sip_msg_t *r, const scscf_profile_t *p)
{
    char buf[2048];
    size_t len = 0;

    for (int i = 0; i < p->nimpu; i++) {
        int n;

        if (p->barred[i])
            continue;
        n = snprintf(buf + len, sizeof(buf) - len, "%s<%s>", len ? ", " : "", p->impu[i]);
        if (n < 0 || (size_t)n >= sizeof(buf) - len)
            break;
        len += (size_t)n;
    }
    if (len)
        sip_msg_header_add(r, "P-Associated-URI", buf);
}

static void reply_ok(scscf_ctx_t *ctx, sip_proxy_req_t *pr, const scscf_reg_t *reg)
{
    const sip_msg_t *req = sip_proxy_req_msg(pr);
    sip_msg_t *r = sip_msg_make_response(req, 200, NULL, NULL);
    uint64_t now = ims_clock_now_ms();
    char *path, buf[600];

    if (!r) {
        reg_reply(ctx, pr, 500, NULL);
        return;
    }
    for (int i = 0; reg && i < reg->ncontacts; i++) {
        snprintf(buf, sizeof(buf), "<%s>;expires=%u", reg->contacts[i].uri,
                 scscf_contact_left(&reg->contacts[i], now));
        sip_msg_header_add(r, "Contact", buf);
    }
    if ((path = joined(req, "path")) != NULL) {
        sip_msg_header_add(r, "Path", path);
        free(path);
    }
    if (reg && reg->registered) {
        sip_msg_header_add(r, "Service-Route", ctx->cfg.service_route);
        if (reg->profile)
            add_assoc_uris(r, reg->profile);
    }
    reg_reply_msg(ctx, pr, r);
}

/* ---- SAR and its answer ---- */

static void deregistered(scscf_ctx_t *ctx, sip_proxy_req_t *pr, scscf_reg_t *reg)
{
    ctx->stats.deregistrations++;
    IMS_INFO("%s de-registered", reg->impi);
    scscf_diag(ctx, reg->impi, NULL, sip_proxy_req_msg(pr), SCSCF_DIAG_DEREGISTERED, 200,
               "de-registered by the UE");
    scscf_regevent_notify_all(reg, true, "unregistered", "noresource");
    scscf_reg_free(reg);
    reply_ok(ctx, pr, NULL);
}

/* Apply the request's bindings; IMS_DECLINED: out of order (500). */
static int apply_binds(scscf_ctx_t *ctx, scscf_reg_t *reg, const sip_msg_t *req,
                       const req_binds_t *b)
{
    char *path = joined(req, "path");
    int rc = IMS_OK;

    if (b->star) {
        while (reg->ncontacts > 0)
            scscf_reg_bind(reg, reg->contacts[0].uri, NULL, NULL, 0, 0);
    }
    for (int i = 0; i < b->n && rc == IMS_OK; i++) {
        uint32_t e = b->c[i].expires;

        if (e > ctx->cfg.max_expires)
            e = ctx->cfg.max_expires;
        rc = scscf_reg_bind(reg, b->c[i].uri, path, sip_msg_call_id(req), sip_msg_cseq_num(req),
                            e);
    }
    free(path);
    return rc;
}

static scscf_profile_t *saa_profile(const scscf_op_t *op, const cx_saa_t *a, bool *bad)
{
    char err[96];
    scscf_profile_t *p;

    *bad = false;
    if (!a->user_data)
        return NULL;
    if (!(p = scscf_user_data_parse(a->user_data, a->user_data_len, err, sizeof(err)))) {
        IMS_NOTICE("SAA for %s: User-Data refused: %s", op->impi, err);
        *bad = true;
    }
    return p;
}

/* The SAR succeeded: store what the REGISTER asked and answer it. */
static void saa_ok(scscf_op_t *op, sip_proxy_req_t *pr, const cx_saa_t *a)
{
    scscf_ctx_t *ctx = op->ctx;
    const sip_msg_t *req = sip_proxy_req_msg(pr);
    scscf_reg_t *reg = scscf_reg_find(ctx, op->impi);
    scscf_profile_t *p;
    req_binds_t b;
    bool bad, first;
    int idx;

    if (read_binds(ctx, req, &b) != IMS_OK) {
        scscf_diag(ctx, op->impi, op->impu, req, SCSCF_DIAG_REFUSED, 400, "bad Contact");
        reg_reply(ctx, pr, 400, "Bad Contact");
        return;
    }
    if (op->sat == CX_SAT_USER_DEREGISTRATION) {
        if (reg)
            deregistered(ctx, pr, reg);
        else
            reply_ok(ctx, pr, NULL);
        binds_free(&b);
        return;
    }
    p = saa_profile(op, a, &bad);
    if (bad || (!p && (!reg || !reg->profile))) {
        scscf_profile_free(p);
        binds_free(&b);
        scscf_diag(ctx, op->impi, op->impu, req, SCSCF_DIAG_REFUSED, 500,
                   "SAA without usable User-Data");
        reg_reply(ctx, pr, 500, "No User-Data");
        return;
    }
    reg = scscf_reg_get(ctx, op->impi);
    if (p)
        scscf_reg_set_profile(reg, p);
    idx = scscf_profile_find(reg->profile, op->impu);
    if (idx < 0 || reg->profile->barred[idx]) {
        IMS_NOTICE("%s: %s is %s: 403", op->impi, op->impu,
                   idx < 0 ? "not in the implicit set" : "barred");
        binds_free(&b);
        if (!reg->registered) {
            scscf_cx_sar_notice(ctx, op->impi, op->impu, CX_SAT_USER_DEREGISTRATION);
            scscf_reg_free(reg);
        }
        scscf_diag(ctx, op->impi, op->impu, req, SCSCF_DIAG_REFUSED, 403, "%s %s", op->impu,
                   idx < 0 ? "is not in the implicit set" : "is barred");
        reg_reply(ctx, pr, 403, idx < 0 ? "Identity Not In Set" : "Barred");
        return;
    }
    if (apply_binds(ctx, reg, req, &b) != IMS_OK) {
        binds_free(&b);
        scscf_diag(ctx, op->impi, op->impu, req, SCSCF_DIAG_REFUSED, 500,
                   "out of order (Call-ID/CSeq)");
        reg_reply(ctx, pr, 500, "Out Of Order Request");
        return;
    }
    binds_free(&b);
    if (reg->ncontacts == 0) {
        deregistered(ctx, pr, reg);
        return;
    }
    first = !reg->registered;
    scscf_reg_set_registered(reg);
    scscf_reg_arm_expiry(reg, scscf_on_reg_expiry);
    if (first) {
        ctx->stats.registrations++;
        IMS_INFO("%s registered as %s (%d identities, %d iFCs)", reg->impi, op->impu,
                 reg->profile->nimpu, reg->profile->nifc);
    }
    /* stored before the 200 OK leaves: a restart keeps what was answered */
    scscf_reg_store_save(reg, p ? a->user_data : NULL, p ? a->user_data_len : 0);
    scscf_diag(ctx, op->impi, op->impu, req, SCSCF_DIAG_REGISTERED, 200, "%s",
               first ? "registered" : "registered (refreshed)");
    reply_ok(ctx, pr, reg);
    scscf_regevent_notify_all(reg, false, first ? "registered" : "refreshed", NULL);
}

static void on_saa(void *arg, int status, const cx_saa_t *a)
{
    scscf_op_t *op = arg;
    scscf_ctx_t *ctx = op->ctx;
    sip_proxy_req_t *pr = waiting(ctx, op->req_id);

    if (!pr) {
        IMS_DEBUG("SAA for %s: the REGISTER has gone", op->impi);
    } else if (status != IMS_OK) {
        ctx->stats.hss_errors++;
        IMS_NOTICE("SAR for %s: no answer from the HSS", op->impi);
        scscf_diag_hss_silent(ctx, op->impi, op->impu, sip_proxy_req_msg(pr), "SAR");
        reply_retry(ctx, pr, 500, "HSS Unavailable");
    } else if (!scscf_cx_ok(&a->result)) {
        IMS_INFO("SAR type %d for %s: result %u%s", (int)op->sat, op->impi, a->result.code,
                 a->result.experimental ? " (exp)" : "");
        scscf_diag_hss_result(ctx, op->impi, op->impu, sip_proxy_req_msg(pr), "SAR", &a->result);
        reply_cx_error(ctx, pr, &a->result);
    } else {
        saa_ok(op, pr, a);
    }
    scscf_op_free(op);
}

/* Whether the request leaves the user without contacts. */
static bool removes_all(const scscf_reg_t *reg, const req_binds_t *b)
{
    if (b->star)
        return true;
    if (!b->all_zero || b->n == 0)
        return false;
    for (int i = 0; reg && i < reg->ncontacts; i++) {
        bool listed = false;

        for (int k = 0; k < b->n && !listed; k++)
            listed = strcmp(reg->contacts[i].uri, b->c[k].uri) == 0;
        if (!listed)
            return false;
    }
    return true;
}

static bool too_brief(const scscf_ctx_t *ctx, const req_binds_t *b)
{
    for (int i = 0; ctx->cfg.min_expires && i < b->n; i++)
        if (b->c[i].expires && b->c[i].expires < ctx->cfg.min_expires)
            return true;
    return false;
}

/* Authenticated (or trusted): SAR, or answer at once when nothing changes. */
static int authorized(scscf_ctx_t *ctx, sip_proxy_req_t *pr, const char *impi, const char *impu)
{
    const sip_msg_t *req = sip_proxy_req_msg(pr);
    scscf_reg_t *reg = scscf_reg_find(ctx, impi);
    bool registered = reg && reg->registered;
    req_binds_t b;
    scscf_op_t *op;
    cx_sat_t sat;

    ctx->stats.auth_ok++;
    if (read_binds(ctx, req, &b) != IMS_OK) {
        scscf_diag(ctx, impi, impu, req, SCSCF_DIAG_REFUSED, 400, "bad Contact");
        return reg_reply(ctx, pr, 400, "Bad Contact"), IMS_OK;
    }
    if (too_brief(ctx, &b)) {
        sip_msg_t *r = sip_msg_make_response(req, 423, NULL, NULL);
        char v[16];

        binds_free(&b);
        snprintf(v, sizeof(v), "%u", ctx->cfg.min_expires);
        scscf_diag(ctx, impi, impu, req, SCSCF_DIAG_REFUSED, 423, "expiry below %s s", v);
        if (r)
            sip_msg_header_add(r, "Min-Expires", v);
        return r ? reg_reply_msg(ctx, pr, r) : reg_reply(ctx, pr, 423, NULL), IMS_OK;
    }
    if (b.n == 0 && !b.star) {   /* a query: the bindings as they are */
        binds_free(&b);
        scscf_diag(ctx, impi, impu, req,
                   registered ? SCSCF_DIAG_REGISTERED : SCSCF_DIAG_DEREGISTERED, 200, "%s",
                   registered ? "registered (bindings queried)" : "not registered (queried)");
        reply_ok(ctx, pr, registered ? reg : NULL);
        return IMS_OK;
    }
    if (removes_all(reg, &b))
        sat = CX_SAT_USER_DEREGISTRATION;
    else
        sat = registered ? CX_SAT_RE_REGISTRATION : CX_SAT_REGISTRATION;
    binds_free(&b);
    if (sat == CX_SAT_USER_DEREGISTRATION && !registered) {
        scscf_diag(ctx, impi, impu, req, SCSCF_DIAG_DEREGISTERED, 200,
                   "de-registered by the UE (was not registered)");
        reply_ok(ctx, pr, NULL);
        return IMS_OK;
    }
    op = scscf_op_new(ctx, sip_proxy_req_id(pr), impi, impu);
    op->first = !registered;
    if (scscf_cx_sar(op, sat, sat == CX_SAT_RE_REGISTRATION && reg->profile, on_saa) != IMS_OK) {
        scscf_op_free(op);
        scscf_diag_hss_silent(ctx, impi, impu, req, "SAR");
        reply_retry(ctx, pr, 500, "HSS Unavailable");
    }
    return IMS_OK;
}

/* ---- entry ---- */

static bool integrity_trusted(const scscf_ctx_t *ctx, const ims_digest_params_t *p)
{
    const char *ip = p->integrity_protected;

    return ctx->cfg.trust_integrity && ims_digest_has(p, IMS_DIGEST_INTEGRITY_PROTECTED) &&
           (strcasecmp(ip, "yes") == 0 || strcasecmp(ip, "tls-yes") == 0 ||
            strcasecmp(ip, "tls-connected") == 0 || strcasecmp(ip, "ip-assoc-yes") == 0);
}

/* The authentication failed for good: 403, and the HSS told (SAR
 * AUTHENTICATION_FAILURE) unless the user stays registered. */
static int auth_failed(scscf_ctx_t *ctx, sip_proxy_req_t *pr, scscf_reg_t *reg,
                       const char *impu)
{
    scscf_reg_auth_clear(reg);
    if (!reg->registered) {
        scscf_cx_sar_notice(ctx, reg->impi, impu, CX_SAT_AUTHENTICATION_FAILURE);
        scscf_reg_free(reg);
    }
    return reg_reply(ctx, pr, 403, "Authentication Failed"), IMS_OK;
}

/*
 * An answer to our AKA challenge with neither a response nor AUTS: the UE
 * found the MAC of our AUTN wrong (24.229 §5.1.1.5.3), i.e. it and the HSS
 * do not share K/OPc. 403, not a new challenge (§5.4.1.2.3): every vector
 * would fail the same way.
 */
static int mac_failure(scscf_ctx_t *ctx, sip_proxy_req_t *pr, scscf_reg_t *reg,
                       const char *impu)
{
    ctx->stats.auth_failed++;
    IMS_NOTICE("%s: the UE rejected our AUTN (MAC failure): 403", reg->impi);
    scscf_diag(ctx, reg->impi, impu, sip_proxy_req_msg(pr), SCSCF_DIAG_MAC_FAILURE, 403,
               "no response and no AUTS: the UE found the MAC wrong");
    return auth_failed(ctx, pr, reg, impu);
}

/* A response for the pending challenge of reg: verify it. */
static int answer(scscf_ctx_t *ctx, sip_proxy_req_t *pr, scscf_reg_t *reg, const char *impu,
                  const ims_digest_params_t *p)
{
    scscf_auth_t *au = reg->auth;
    const sip_msg_t *req = sip_proxy_req_msg(pr);
    uint8_t resync[30];
    bool final;

    if (ims_digest_has(p, IMS_DIGEST_AUTS) && p->auts[0] && strcmp(p->nonce, au->nonce) == 0) {
        if (scscf_auth_resync_data(au, p->auts, resync) != IMS_OK) {
            scscf_diag(ctx, reg->impi, impu, req, SCSCF_DIAG_BAD_AUTS, 403,
                       "not base64 of 14 octets");
            return reg_reply(ctx, pr, 403, "Bad AUTS"), IMS_OK;
        }
        IMS_INFO("%s: synchronisation failure, resync with the HSS", reg->impi);
        scscf_diag(ctx, reg->impi, impu, req, SCSCF_DIAG_RESYNC, 0, "AUTS: MAR with RAND||AUTS");
        return challenge(ctx, pr, reg->impi, impu, p->algorithm, resync, au->attempts);
    }
    switch (scscf_auth_verify(au, p, sip_msg_method(req))) {
    case SCSCF_VERIFY_OK:
        scscf_reg_auth_clear(reg);
        return authorized(ctx, pr, reg->impi, impu);
    case SCSCF_VERIFY_STALE:
        return challenge(ctx, pr, reg->impi, impu, p->algorithm, NULL, au->attempts);
    case SCSCF_VERIFY_FAIL:
        break;
    }
    ctx->stats.auth_failed++;
    final = ++au->attempts >= ctx->cfg.max_auth_attempts;
    scscf_diag(ctx, reg->impi, impu, req,
               au->scheme == SCSCF_AUTH_AKA ? SCSCF_DIAG_RES_MISMATCH : SCSCF_DIAG_DIGEST_MISMATCH,
               final ? 403 : 401, "attempt %u of %u", (unsigned)au->attempts,
               ctx->cfg.max_auth_attempts);
    if (final) {
        IMS_NOTICE("%s: wrong response %u times: 403", reg->impi, (unsigned)au->attempts);
        return auth_failed(ctx, pr, reg, impu);
    }
    IMS_INFO("%s: wrong response (%u), challenging again", reg->impi, (unsigned)au->attempts);
    return challenge(ctx, pr, reg->impi, impu, p->algorithm, NULL, au->attempts);
}

int scscf_register(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req)
{
    char impu[CX_STR], impi[CX_STR];
    ims_digest_params_t p;
    bool has_cred, pending;
    scscf_reg_t *reg;

    ctx->stats.registers++;
    if (!req->m->to || scscf_uri_aor(req->m->to->url, impu, sizeof(impu)) != IMS_OK)
        return reg_reply(ctx, pr, 400, "Bad To"), IMS_OK;
    has_cred = read_credentials(ctx, req, &p);
    if (has_cred && p.username[0])
        snprintf(impi, sizeof(impi), "%s", p.username);
    else if (derive_impi(impu, impi, sizeof(impi)) != IMS_OK)
        return reg_reply(ctx, pr, 403, "No Private Identity"), IMS_OK;
    if (!has_cred)
        memset(&p, 0, sizeof(p));
    reg = scscf_reg_find(ctx, impi);
    if (reg && reg->auth && reg->auth->scheme == SCSCF_AUTH_AKA && has_cred && !p.response[0] &&
        !p.auts[0] && strcmp(p.nonce, reg->auth->nonce) == 0)
        return mac_failure(ctx, pr, reg, impu);
    pending = reg && reg->auth && (p.response[0] || p.auts[0]);
    /* an answer to our pending challenge is checked even over a protected link */
    if (pending && strcmp(p.nonce, reg->auth->nonce) == 0)
        return answer(ctx, pr, reg, impu, &p);
    /* a protected re-/de-REGISTER (UEs repeat their last, stale credentials in it) */
    if (reg && reg->registered && integrity_trusted(ctx, &p) &&
        scscf_profile_find(reg->profile, impu) >= 0)
        return authorized(ctx, pr, impi, impu);
    if (pending)
        return answer(ctx, pr, reg, impu, &p);   /* stale: a fresh challenge */
    return challenge(ctx, pr, impi, impu, p.algorithm, NULL, 0);
}

/* ---- expiry ---- */

void scscf_on_reg_expiry(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    scscf_reg_t *reg = arg;
    scscf_ctx_t *ctx = reg->ctx;
    uint64_t now = ims_clock_now_ms();
    bool all = true;

    (void)loop;
    (void)t;
    for (int i = 0; i < reg->ncontacts; i++)
        if (reg->contacts[i].expires_at > now)
            all = false;
    if (all && scscf_reg_store_refreshed(reg)) {
        /* refreshed through another S-CSCF (shared store): still registered, no SAR */
        scscf_reg_arm_expiry(reg, scscf_on_reg_expiry);
        return;
    }
    if (all) {
        ctx->stats.expiries++;
        IMS_INFO("%s: registration expired", reg->impi);
        scscf_diag(ctx, reg->impi, NULL, NULL, SCSCF_DIAG_DEREGISTERED, 0, "registration expired");
        scscf_regevent_notify_all(reg, true, "expired", "noresource");
        scscf_cx_sar_notice(ctx, reg->impi,
                            reg->profile && reg->profile->nimpu ? reg->profile->impu[0] : "",
                            CX_SAT_TIMEOUT_DEREGISTRATION);
        scscf_reg_free(reg);
        return;
    }
    scscf_reg_drop_expired(reg, now);
    scscf_reg_arm_expiry(reg, scscf_on_reg_expiry);
    scscf_reg_store_save(reg, NULL, 0);
    scscf_regevent_notify_all(reg, false, "registered", NULL);
}
