/* SPDX-License-Identifier: BSD-2-Clause */
#include "scscf/regevent.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/core/slab.h"
#include "common/ops/journal.h"
#include "common/sip/txn.h"

#define DEFAULT_SUB_EXPIRES 600000u

/* A NOTIFY transaction in flight; the subscription is named by its key. */
struct scscf_notify {
    scscf_notify_t *prev, *next;
    scscf_ctx_t *ctx;
    sip_txn_t *ct;
    char *key;                   /* our tag */
    bool final;                  /* the subscription is over anyway */
};

/* ---- reginfo ---- */

typedef struct sb {
    char *p;
    size_t len, cap;
} sb_t;

static void sb_put(sb_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 512;
        if (!(b->p = realloc(b->p, b->cap)))
            abort();
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sb_fmt(sb_t *b, const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_put(b, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Text or attribute value with the XML special characters escaped. */
static void sb_esc(sb_t *b, const char *s)
{
    for (const char *run = s;; s++) {
        const char *rep = NULL;

        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        case '\0': sb_put(b, run, (size_t)(s - run)); return;
        default: continue;
        }
        sb_put(b, run, (size_t)(s - run));
        sb_put(b, rep, strlen(rep));
        run = s + 1;
    }
}

static void put_registration(sb_t *b, const scscf_reg_t *reg, const char *aor, int id,
                             bool terminated, const char *event, uint64_t now)
{
    const char *st = terminated ? "terminated" : "active";

    sb_put(b, "  <registration aor=\"", 21);
    sb_esc(b, aor);
    sb_fmt(b, "\" id=\"a%d\" state=\"%s\">\n", id, st);
    for (int j = 0; j < reg->ncontacts; j++) {
        const scscf_contact_t *c = &reg->contacts[j];

        sb_fmt(b, "    <contact id=\"c%d\" state=\"%s\" event=\"%s\"", j + 1, st, event);
        if (!terminated)
            sb_fmt(b, " expires=\"%u\"", scscf_contact_left(c, now));
        sb_put(b, ">\n      <uri>", 13);
        sb_esc(b, c->uri);
        sb_put(b, "</uri>\n    </contact>\n", 22);
    }
    sb_put(b, "  </registration>\n", 18);
}

char *scscf_reginfo_build(const scscf_reg_t *reg, const char *aor, uint32_t version,
                          bool terminated, const char *event, uint64_t now, size_t *len)
{
    sb_t b = { NULL, 0, 0 };
    int id = 0;

    sb_fmt(&b, "<?xml version=\"1.0\"?>\n<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
               "version=\"%u\" state=\"full\">\n", version);
    if (reg->profile) {
        for (int i = 0; i < reg->profile->nimpu; i++)
            if (!reg->profile->barred[i])
                put_registration(&b, reg, reg->profile->impu[i], ++id, terminated, event, now);
    } else if (aor) {
        put_registration(&b, reg, aor, ++id, terminated, event, now);
    }
    sb_put(&b, "</reginfo>\n", 11);
    *len = b.len;
    return b.p;
}

/* ---- subscriptions ---- */

/* The strings of a subscription's block (scscf/regevent.h), by position. */
enum { SUB_LOCAL_TAG, SUB_CALL_ID, SUB_REMOTE_TAG, SUB_LOCAL_URI, SUB_AOR };

/* What a subscription is made of (borrowed strings). */
typedef struct sub_strs {
    const char *str[SUB_AOR + 1];  /* by position; aor may equal local_uri */
    const char *remote_uri, *target;
    const char *routes[SCSCF_SUB_MAX_ROUTES];
    int nroutes;
} sub_strs_t;

static const char *sub_nth(const scscf_sub_t *s, int i)
{
    const char *p = s->strs;

    while (i-- > 0)
        p += strlen(p) + 1;
    return p;
}

static const char *sub_str(const scscf_sub_t *s, int which)
{
    if (which == SUB_AOR && s->aor_is_local)
        which = SUB_LOCAL_URI;
    return sub_nth(s, which);
}

/* Route i: after the AOR, or after the To URI when the AOR is that. */
static const char *sub_route(const scscf_sub_t *s, int i)
{
    return sub_nth(s, (s->aor_is_local ? SUB_AOR : SUB_AOR + 1) + i);
}

/* A subscription of reg with copies of v's strings (not yet indexed or armed). */
static scscf_sub_t *sub_make(scscf_reg_t *reg, const sub_strs_t *v)
{
    bool aor_is_local = strcmp(v->str[SUB_AOR], v->str[SUB_LOCAL_URI]) == 0;
    int nstr = aor_is_local ? SUB_AOR : SUB_AOR + 1;
    size_t len[SUB_AOR + 1 + SCSCF_SUB_MAX_ROUTES], sz = 0;
    scscf_sub_t *s;
    char *w;

    for (int i = 0; i < nstr; i++)
        sz += len[i] = strlen(v->str[i]) + 1;
    for (int i = 0; i < v->nroutes; i++)
        sz += len[nstr + i] = strlen(v->routes[i]) + 1;
    if (!(s = ims_store_calloc(1, offsetof(scscf_sub_t, strs) + sz)))
        abort();
    s->reg = reg;
    s->aor_is_local = aor_is_local;
    s->nroutes = (uint8_t)v->nroutes;
    ims_timer_init(&s->timer);
    w = s->strs;
    for (int i = 0; i < nstr + v->nroutes; i++) {
        memcpy(w, i < nstr ? v->str[i] : v->routes[i - nstr], len[i]);
        w += len[i];
    }
    s->remote_uri = scscf_str_share(reg->ctx, v->remote_uri);
    s->target = scscf_str_share(reg->ctx, v->target);
    return s;
}

static void sub_free(scscf_sub_t *s)
{
    scscf_ctx_t *ctx = s->reg->ctx;
    scscf_sub_t **pp;

    for (pp = &s->reg->subs; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    if (ims_hash_find(ctx->subs, s->strs) == s)
        ims_hash_remove(ctx->subs, s->strs);
    ims_timer_stop(ctx->loop, &s->timer);
    scscf_str_unshare(ctx, s->remote_uri);
    scscf_str_unshare(ctx, s->target);
    ims_store_free(s);
}

void scscf_subs_free_all(scscf_reg_t *reg)
{
    while (reg->subs)
        sub_free(reg->subs);
}

bool scscf_is_reg_subscribe(const sip_msg_t *req)
{
    const char *ev = sip_msg_header(req, "Event");
    size_t n;

    if (!ev || strcmp(sip_msg_method(req), "SUBSCRIBE") != 0)
        return false;
    while (*ev == ' ' || *ev == '\t')
        ev++;
    n = strcspn(ev, "; \t");
    return n == 3 && strncasecmp(ev, "reg", 3) == 0;
}

static void on_notify_answer(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    scscf_notify_t *n = arg;
    scscf_ctx_t *ctx = n->ctx;
    int code = resp ? sip_msg_status(resp) : 0;
    scscf_sub_t *s;

    (void)ct;
    if (resp && code < 200) {
        sip_msg_free(resp);
        return;
    }
    if (n->prev)
        n->prev->next = n->next;
    else
        ctx->notifies = n->next;
    if (n->next)
        n->next->prev = n->prev;
    if ((err != SIP_TXN_OK || code >= 300) && !(resp && sip_msg_header(resp, "Retry-After"))) {
        ctx->stats.notify_failures++;
        if (!n->final && (s = ims_hash_find(ctx->subs, n->key)) != NULL) {
            IMS_INFO("reg-event: NOTIFY to %s failed (%d): subscription dropped", s->target,
                     code);
            sub_free(s);
        }
    }
    sip_msg_free(resp);
    free(n->key);
    free(n);
}

/* Where the NOTIFY goes: the first route's address, else the target's. */
static int notify_dest(scscf_ctx_t *ctx, sip_msg_t *req, sip_dest_t *dst)
{
    sip_proxy_t *px = sip_node_proxy(ctx->node);
    osip_route_t *rt = NULL;

    if (!px)
        return IMS_ERROR;
    if (osip_message_get_route(req->m, 0, &rt) >= 0 && rt && rt->url)
        return sip_proxy_resolve(px, rt->url, dst);
    return sip_proxy_resolve(px, req->m->req_uri, dst);
}

static sip_msg_t *build_notify(scscf_sub_t *s, const char *state, bool terminated,
                               const char *event)
{
    char from[512], to[512], contact[200];
    size_t len;
    char *body;
    sip_msg_t *req;

    snprintf(from, sizeof(from), "<%s>;tag=%s", sub_str(s, SUB_LOCAL_URI), s->strs);
    snprintf(to, sizeof(to), "<%s>;tag=%s", s->remote_uri, sub_str(s, SUB_REMOTE_TAG));
    req = sip_msg_new_request("NOTIFY", s->target, from, to, sub_str(s, SUB_CALL_ID),
                              ++s->cseq);
    if (!req)
        return NULL;
    for (int i = 0; i < s->nroutes; i++)
        osip_message_set_route(req->m, sub_route(s, i));
    snprintf(contact, sizeof(contact), "<%s>", s->reg->ctx->cfg.uri);
    body = scscf_reginfo_build(s->reg, sub_str(s, SUB_AOR), s->version++, terminated, event,
                               ims_clock_now_ms(), &len);
    if (sip_msg_header_add(req, "Event", "reg") != IMS_OK ||
        sip_msg_header_add(req, "Subscription-State", state) != IMS_OK ||
        sip_msg_header_add(req, "Contact", contact) != IMS_OK ||
        sip_msg_set_body(req, "application/reginfo+xml", body, len) != IMS_OK) {
        sip_msg_free(req);
        req = NULL;
    }
    free(body);
    return req;
}

/* Send one NOTIFY. final: the subscription ends with it (freed by the caller). */
static void send_notify(scscf_sub_t *s, bool terminated, const char *event, const char *reason,
                        bool final)
{
    scscf_ctx_t *ctx = s->reg->ctx;
    char state[64];
    sip_msg_t *req;
    sip_dest_t dst;
    scscf_notify_t *n;

    if (final)
        snprintf(state, sizeof(state), "terminated;reason=%s", reason ? reason : "noresource");
    else
        snprintf(state, sizeof(state), "active;expires=%u",
                 scscf_contact_left(&(scscf_contact_t){ .expires_at = s->timer.due_ms },
                                    ims_clock_now_ms()));
    if (!ctx->node) {
        s->version++;   /* unit tests: no stack, the version still moves */
        return;
    }
    if (!(req = build_notify(s, state, terminated, event)))
        return;
    memset(&dst, 0, sizeof(dst));
    if (notify_dest(ctx, req, &dst) != IMS_OK) {
        IMS_NOTICE("reg-event: no address for NOTIFY to %s", s->target);
        sip_msg_free(req);
        return;
    }
    if (!(n = calloc(1, sizeof(*n))))
        abort();
    n->ctx = ctx;
    if (!(n->key = strdup(s->strs)))
        abort();
    n->final = final;
    n->ct = sip_txn_client_start(sip_node_layer(ctx->node), req, &dst, NULL, on_notify_answer, n);
    if (!n->ct) {
        free(n->key);
        free(n);
        return;
    }
    n->next = ctx->notifies;
    if (n->next)
        n->next->prev = n;
    ctx->notifies = n;
    ctx->stats.notifies++;
}

void scscf_regevent_notify_all(scscf_reg_t *reg, bool terminated, const char *event,
                               const char *reason)
{
    if (terminated && reg->ctx && reg->ctx->store_gone)
        reg->ctx->store_gone(reg);
    for (scscf_sub_t *s = reg->subs, *next; s; s = next) {
        next = s->next;
        send_notify(s, terminated, event, reason, terminated);
        if (terminated)
            sub_free(s);
    }
}

static void on_sub_expiry(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    scscf_sub_t *s = arg;

    (void)loop;
    (void)t;
    send_notify(s, false, "registered", "timeout", true);
    sub_free(s);
}

void scscf_regevent_stop(scscf_ctx_t *ctx)
{
    while (ctx->notifies) {
        scscf_notify_t *n = ctx->notifies;

        ctx->notifies = n->next;
        sip_txn_client_detach(n->ct);
        free(n->key);
        free(n);
    }
}

/* ---- SUBSCRIBE ---- */

/* The URI as text (osip_free it), or NULL. */
static char *uri_str(const osip_uri_t *u)
{
    char *s = NULL;

    if (!u || osip_uri_to_str(u, &s) != 0)
        return NULL;
    return s;
}

static uint32_t requested_expires(const sip_msg_t *req)
{
    osip_header_t *h = NULL;
    uint32_t v = DEFAULT_SUB_EXPIRES;

    if (osip_message_get_expires(req->m, 0, &h) >= 0 && h && h->hvalue &&
        scscf_parse_seconds(h->hvalue, &v) != IMS_OK)
        v = DEFAULT_SUB_EXPIRES;
    return v;
}

static uint32_t grant(scscf_ctx_t *ctx, const scscf_reg_t *reg, uint32_t want)
{
    uint32_t left = scscf_reg_left(reg, ims_clock_now_ms());

    if (want > ctx->cfg.max_sub_expires)
        want = ctx->cfg.max_sub_expires;
    return want < left ? want : left;
}

/* 200 OK: our tag, Expires, Contact, and the Record-Route copied (§12.1.1). */
static void sub_reply_ok(scscf_ctx_t *ctx, sip_proxy_req_t *pr, const sip_msg_t *req,
                     const char *tag, uint32_t expires)
{
    sip_msg_t *r = sip_msg_make_response(req, 200, NULL, tag);
    osip_list_iterator_t it;
    osip_list_t *rrs;
    osip_record_route_t *rr;
    char buf[200];
    char *s;

    if (!r) {
        sip_proxy_reply(pr, 500, NULL);
        return;
    }
    rrs = sip_msg_record_routes(req);
    for (rr = osip_list_get_first(rrs, &it); rr; rr = osip_list_get_next(&it))
        if (osip_record_route_to_str(rr, &s) == 0) {
            osip_message_set_record_route(r->m, s);
            osip_free(s);
        }
    snprintf(buf, sizeof(buf), "%u", expires);
    sip_msg_header_add(r, "Expires", buf);
    snprintf(buf, sizeof(buf), "<%s>", ctx->cfg.uri);
    sip_msg_header_add(r, "Contact", buf);
    sip_proxy_reply_msg(pr, r);
}

/* The timer's due time is the subscription's end (NOTIFY reads it back). */
/* The subscriptions of reg changed: into the store with the registration. */
static void saved(scscf_reg_t *reg)
{
    if (reg->ctx->store_subs)
        reg->ctx->store_subs(reg);
}

static void arm(scscf_sub_t *s, uint32_t expires)
{
    ims_timer_start(s->reg->ctx->loop, &s->timer, (uint64_t)expires * 1000, on_sub_expiry, s);
}

static int refresh(scscf_ctx_t *ctx, sip_proxy_req_t *pr, const sip_msg_t *req)
{
    const char *cid = sip_msg_call_id(req);
    scscf_sub_t *s = ims_hash_find(ctx->subs, sip_msg_to_tag(req));
    uint32_t exp;

    /* the dialog is the tag and the Call-ID (the tag alone is the key) */
    if (!s || !cid || strcmp(sub_str(s, SUB_CALL_ID), cid) != 0)
        return sip_proxy_reply(pr, 481, NULL), IMS_OK;
    exp = grant(ctx, s->reg, requested_expires(req));
    sub_reply_ok(ctx, pr, req, NULL, exp);
    if (exp == 0) {
        scscf_reg_t *reg = s->reg;

        send_notify(s, false, "registered", "timeout", true);
        sub_free(s);
        saved(reg);
        return IMS_OK;
    }
    arm(s, exp);
    send_notify(s, false, "registered", NULL, false);
    saved(s->reg);
    return IMS_OK;
}

/* The AOR of the first URI in a name-addr header value (P-Asserted-Identity). */
static int header_aor(const char *v, char *out, size_t len)
{
    osip_from_t *f = NULL;
    int rc = IMS_ERROR;

    if (!v || osip_from_init(&f) != 0)
        return IMS_ERROR;
    if (osip_from_parse(f, v) == 0)
        rc = scscf_uri_aor(f->url, out, len);
    osip_from_free(f);
    return rc;
}

static bool host_in_path(const scscf_reg_t *reg, const char *host)
{
    size_t n = strlen(host);

    for (int i = 0; n && i < reg->ncontacts; i++) {
        const char *start = reg->contacts[i].path, *p = start;

        for (; p && (p = strstr(p, host)) != NULL; p += n)
            if (p > start && (p[-1] == '@' || p[-1] == ':') && p[n] && strchr(";>:", p[n]))
                return true;
    }
    return false;
}

/*
 * Who may subscribe (24.229 §5.4.2.1.1): the user (an identity of the implicit
 * set asserted by the P-CSCF, or From when nothing is asserted) or a P-CSCF on
 * the user's Path.
 */
static bool subscriber_allowed(const scscf_reg_t *reg, const sip_msg_t *req)
{
    const char *pai = sip_msg_header(req, "P-Asserted-Identity");
    char aor[256];

    if (pai) {
        if (header_aor(pai, aor, sizeof(aor)) == IMS_OK &&
            scscf_profile_find(reg->profile, aor) >= 0)
            return true;
    } else if (req->m->from->url && scscf_uri_aor(req->m->from->url, aor, sizeof(aor)) == IMS_OK &&
               scscf_profile_find(reg->profile, aor) >= 0) {
        return true;
    }
    return req->m->from->url && req->m->from->url->host &&
           host_in_path(reg, req->m->from->url->host);
}

/* The dialog state of a new subscription; NULL when the request lacks it. */
static scscf_sub_t *sub_new(scscf_reg_t *reg, const sip_msg_t *req, const char *aor)
{
    osip_contact_t *c = NULL;
    osip_list_iterator_t it;
    osip_list_t *rrs;
    osip_record_route_t *rr;
    char tag[17], *local = NULL, *remote = NULL, *target = NULL;
    char *routes[SCSCF_SUB_MAX_ROUTES];
    sub_strs_t v = { .nroutes = 0 };
    scscf_sub_t *s = NULL;

    if (osip_message_get_contact(req->m, 0, &c) < 0 || !c || !c->url || !sip_msg_from_tag(req))
        return NULL;
    sip_random_token(tag, 16);
    rrs = sip_msg_record_routes(req);
    for (rr = osip_list_get_first(rrs, &it); rr && v.nroutes < SCSCF_SUB_MAX_ROUTES;
         rr = osip_list_get_next(&it))
        if (osip_record_route_to_str(rr, &routes[v.nroutes]) == 0 && routes[v.nroutes]) {
            v.routes[v.nroutes] = routes[v.nroutes];
            v.nroutes++;
        }
    local = uri_str(req->m->to->url);
    remote = uri_str(req->m->from->url);
    target = uri_str(c->url);
    if (local && remote && target) {
        v.str[SUB_LOCAL_TAG] = tag;
        v.str[SUB_CALL_ID] = sip_msg_call_id(req) ? sip_msg_call_id(req) : "";
        v.str[SUB_REMOTE_TAG] = sip_msg_from_tag(req);
        v.str[SUB_LOCAL_URI] = local;
        v.str[SUB_AOR] = aor;
        v.remote_uri = remote;
        v.target = target;
        s = sub_make(reg, &v);
    }
    for (int i = 0; i < v.nroutes; i++)
        osip_free(routes[i]);
    osip_free(local);
    osip_free(remote);
    osip_free(target);
    return s;
}

/* ---- in the store (reg-store.c): subscriptions survive a restart ---- */

/* NOTIFYs sent after the last save are not in the store: a restored
 * subscription's CSeq and version jump this far ahead, so the subscriber
 * never sees them go backwards. */
#define SUB_RESTORE_AHEAD 100

/* Whether every string of t fits the store's reader (SCSCF_SUB_STR_MAX). */
static bool storable(const scscf_sub_t *t)
{
    for (int i = SUB_LOCAL_TAG; i <= SUB_AOR; i++)
        if (strlen(sub_str(t, i)) >= SCSCF_SUB_STR_MAX)
            return false;
    for (int i = 0; i < t->nroutes; i++)
        if (strlen(sub_route(t, i)) >= SCSCF_SUB_STR_MAX)
            return false;
    return strlen(t->remote_uri) < SCSCF_SUB_STR_MAX && strlen(t->target) < SCSCF_SUB_STR_MAX;
}

void scscf_regevent_encode(const scscf_reg_t *reg, ims_kv_buf_t *b)
{
    uint64_t mono = ims_clock_now_ms(), wall = ims_wall_ms();
    uint8_t n = 0;

    for (const scscf_sub_t *t = reg->subs; t && n < UINT8_MAX; t = t->next)
        n += storable(t);
    ims_kv_buf_u8(b, n);
    for (const scscf_sub_t *t = reg->subs; t && n > 0; t = t->next) {
        if (!storable(t))
            continue;   /* not kept: it ends with a restart */
        n--;
        for (int i = SUB_LOCAL_TAG; i <= SUB_AOR; i++)
            ims_kv_buf_str(b, sub_str(t, i));
        ims_kv_buf_str(b, t->remote_uri);
        ims_kv_buf_str(b, t->target);
        ims_kv_buf_u8(b, t->nroutes);
        for (int i = 0; i < t->nroutes; i++)
            ims_kv_buf_str(b, sub_route(t, i));
        ims_kv_buf_u32(b, t->cseq);
        ims_kv_buf_u32(b, t->version);
        ims_kv_buf_u64(b, wall + (t->timer.due_ms > mono ? t->timer.due_ms - mono : 0));
    }
}

/* One subscription back from rd; false when the value is malformed. */
static bool decode_one(scscf_reg_t *reg, ims_kv_rd_t *rd, uint64_t wall)
{
    char str[SUB_AOR + 1][SCSCF_SUB_STR_MAX], remote[SCSCF_SUB_STR_MAX], target[SCSCF_SUB_STR_MAX];
    char routes[SCSCF_SUB_MAX_ROUTES][SCSCF_SUB_STR_MAX];
    sub_strs_t v = { .nroutes = 0 };
    uint32_t cseq, version;
    uint64_t end;
    uint8_t nr;
    scscf_sub_t *s;

    for (int i = SUB_LOCAL_TAG; i <= SUB_AOR; i++)
        if (ims_kv_rd_str(rd, str[i], sizeof(str[i])))
            return false;
    if (ims_kv_rd_str(rd, remote, sizeof(remote)) || ims_kv_rd_str(rd, target, sizeof(target)) ||
        ims_kv_rd_u8(rd, &nr) || nr > SCSCF_SUB_MAX_ROUTES)
        return false;
    for (int i = 0; i < nr; i++)
        if (ims_kv_rd_str(rd, routes[i], sizeof(routes[i])))
            return false;
    if (ims_kv_rd_u32(rd, &cseq) || ims_kv_rd_u32(rd, &version) || ims_kv_rd_u64(rd, &end) ||
        !str[SUB_LOCAL_TAG][0] || !target[0])
        return false;
    if (end <= wall + 1000 || ims_hash_find(reg->ctx->subs, str[SUB_LOCAL_TAG]))
        return true;    /* ended while we were down, or known already */
    for (int i = SUB_LOCAL_TAG; i <= SUB_AOR; i++)
        v.str[i] = str[i];
    for (int i = 0; i < nr; i++)
        v.routes[v.nroutes++] = routes[i];
    v.remote_uri = remote;
    v.target = target;
    s = sub_make(reg, &v);
    if (ims_hash_insert(reg->ctx->subs, s->strs, s) != IMS_OK) {
        sub_free(s);
        return true;
    }
    s->cseq = cseq + SUB_RESTORE_AHEAD;
    s->version = version + SUB_RESTORE_AHEAD;
    s->next = reg->subs;
    reg->subs = s;
    arm(s, (uint32_t)((end - wall + 999) / 1000));
    return true;
}

int scscf_regevent_decode(scscf_reg_t *reg, ims_kv_rd_t *rd, uint64_t wall)
{
    uint8_t n;

    if (ims_kv_rd_u8(rd, &n))
        return IMS_ERROR;
    for (int i = 0; i < n; i++)
        if (!decode_one(reg, rd, wall))
            return IMS_ERROR;
    return IMS_OK;
}

int scscf_regevent_subscribe(scscf_ctx_t *ctx, sip_proxy_req_t *pr, const sip_msg_t *req)
{
    char aor[256];
    scscf_reg_t *reg;
    scscf_sub_t *s;
    uint32_t exp;

    ctx->stats.subscribes++;
    if (sip_msg_to_tag(req))
        return refresh(ctx, pr, req);
    if (scscf_uri_aor(req->m->req_uri, aor, sizeof(aor)) != IMS_OK)
        return sip_proxy_reply(pr, 400, "Bad Request-URI"), IMS_OK;
    reg = scscf_reg_find_impu(ctx, aor);
    if (!reg || !reg->registered || reg->ncontacts == 0)
        return sip_proxy_reply(pr, 403, "Not Registered"), IMS_OK;
    if (!subscriber_allowed(reg, req)) {
        IMS_NOTICE("reg-event: SUBSCRIBE to %s from a stranger: 403", aor);
        return sip_proxy_reply(pr, 403, NULL), IMS_OK;
    }
    if (!(s = sub_new(reg, req, aor)))
        return sip_proxy_reply(pr, 400, "Missing Contact or From tag"), IMS_OK;
    exp = grant(ctx, reg, requested_expires(req));
    sub_reply_ok(ctx, pr, req, s->strs, exp);
    if (exp == 0) {   /* a fetch: one NOTIFY and done */
        send_notify(s, false, "registered", "timeout", true);
        sub_free(s);
        return IMS_OK;
    }
    if (ims_hash_insert(ctx->subs, s->strs, s) != IMS_OK) {
        sub_free(s);
        return IMS_OK;
    }
    s->next = reg->subs;
    reg->subs = s;
    arm(s, exp);
    IMS_INFO("reg-event: %s subscribed to %s for %us", s->remote_uri, aor, exp);
    send_notify(s, false, "registered", NULL, false);
    saved(reg);
    return IMS_OK;
}
