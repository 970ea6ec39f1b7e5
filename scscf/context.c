/* SPDX-License-Identifier: BSD-2-Clause */
/* The registration store: records by IMPI and IMPU, bindings, timers. */
#include "scscf/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/core/slab.h"
#include "scscf/regevent.h"

void scscf_cfg_defaults(scscf_cfg_t *c)
{
    memset(c, 0, sizeof(*c));
    c->default_expires = 3600;
    c->max_expires = 3600;
    c->min_expires = 0;
    c->max_sub_expires = 3600;
    c->max_auth_attempts = 2;
    c->auth_timeout_ms = 240000;
    c->retry_after = 30;
    c->trust_integrity = true;
    snprintf(c->md5_scheme, sizeof(c->md5_scheme), "Unknown");
}

void scscf_cfg_finish(scscf_cfg_t *c)
{
    const char *host;

    if (!c->uri[0])
        snprintf(c->uri, sizeof(c->uri), "sip:scscf.%s", c->domain);
    if (!c->service_route[0]) {
        host = strncmp(c->uri, "sip:", 4) == 0 ? c->uri + 4 : c->uri;
        snprintf(c->service_route, sizeof(c->service_route), "<sip:orig@%s;lr>", host);
    }
}

scscf_ctx_t *scscf_ctx_new(ims_loop_t *loop, const scscf_cfg_t *cfg)
{
    scscf_ctx_t *ctx = calloc(1, sizeof(*ctx));

    if (!ctx)
        abort();
    ctx->cfg = *cfg;
    ctx->loop = loop;
    ctx->by_impi = ims_hash_new(1024);
    ctx->by_impu = ims_hash_new(2048);
    ctx->subs = ims_hash_new(256);
    ctx->shared = ims_hash_new(16);
    if (!ctx->by_impi || !ctx->by_impu || !ctx->subs || !ctx->shared)
        abort();
    /* entries as long-lived as the records they index */
    ims_hash_set_store(ctx->by_impi);
    ims_hash_set_store(ctx->by_impu);
    ims_hash_set_store(ctx->subs);
    ims_hash_set_store(ctx->shared);
    ctx->ifc_sets = scscf_ifc_sets_new();
    return ctx;
}

/* A shared string: its references and the text (the table key is a copy). */
typedef struct shared_str {
    uint32_t refs;
    char s[];
} shared_str_t;

const char *scscf_str_share(scscf_ctx_t *ctx, const char *s)
{
    shared_str_t *r;
    size_t n;

    if (!s)
        return NULL;
    if ((r = ims_hash_find(ctx->shared, s)) != NULL) {
        r->refs++;
        return r->s;
    }
    n = strlen(s) + 1;
    if (!(r = ims_store_alloc(sizeof(*r) + n)))
        abort();
    r->refs = 1;
    memcpy(r->s, s, n);
    if (ims_hash_insert(ctx->shared, r->s, r) != IMS_OK)
        abort();
    return r->s;
}

void scscf_str_unshare(scscf_ctx_t *ctx, const char *s)
{
    shared_str_t *r;

    if (!s || !(r = ims_hash_find(ctx->shared, s)) || r->s != s)
        return;   /* not ours: left alone */
    if (--r->refs == 0) {
        ims_hash_remove(ctx->shared, s);
        ims_store_free(r);
    }
}

static void free_shared(void *arg, const char *key, void *value)
{
    (void)arg;
    (void)key;
    ims_store_free(value);
}

typedef struct reg_list {
    scscf_reg_t **v;
    size_t n;
} reg_list_t;

static void collect(void *arg, const char *key, void *value)
{
    reg_list_t *l = arg;

    (void)key;
    l->v[l->n++] = value;
}

void scscf_ctx_free(scscf_ctx_t *ctx)
{
    reg_list_t l = { NULL, 0 };

    if (!ctx)
        return;
    /* the table may not change while it is walked: collect, then free */
    l.v = calloc(ims_hash_count(ctx->by_impi) + 1, sizeof(*l.v));
    if (!l.v)
        abort();
    ims_hash_foreach(ctx->by_impi, collect, &l);
    for (size_t i = 0; i < l.n; i++)
        scscf_reg_free(l.v[i]);
    free(l.v);
    ims_hash_free(ctx->by_impi);
    ims_hash_free(ctx->by_impu);
    ims_hash_free(ctx->subs);
    ims_hash_foreach(ctx->shared, free_shared, NULL);   /* none left unless a leak */
    ims_hash_free(ctx->shared);
    scscf_ifc_sets_free(ctx->ifc_sets);
    free(ctx);
}

scscf_reg_t *scscf_reg_find(scscf_ctx_t *ctx, const char *impi)
{
    return ims_hash_find(ctx->by_impi, impi);
}

scscf_reg_t *scscf_reg_find_impu(scscf_ctx_t *ctx, const char *impu)
{
    scscf_reg_t *reg = ims_hash_find(ctx->by_impu, impu);

    return reg || !ctx->store_miss ? reg : ctx->store_miss(ctx, impu);
}

scscf_reg_t *scscf_reg_get(scscf_ctx_t *ctx, const char *impi)
{
    scscf_reg_t *reg = scscf_reg_find(ctx, impi);
    size_t n = strlen(impi) + 1;

    if (reg)
        return reg;
    reg = ims_store_calloc(1, offsetof(scscf_reg_t, impi) + n);   /* not sizeof: padding */
    if (!reg)
        abort();
    reg->ctx = ctx;
    memcpy(reg->impi, impi, n);
    ims_timer_init(&reg->expiry);
    if (ims_hash_insert(ctx->by_impi, reg->impi, reg) != IMS_OK)
        abort();
    return reg;
}

/* Drop the IMPU index entries that point at reg. */
static void unindex(scscf_reg_t *reg)
{
    if (!reg->profile || !reg->ctx)
        return;
    for (int i = 0; i < reg->profile->nimpu; i++)
        if (ims_hash_find(reg->ctx->by_impu, reg->profile->impu[i]) == reg)
            ims_hash_remove(reg->ctx->by_impu, reg->profile->impu[i]);
}

/* Index every IMPU of the set (a shared IMPU moves to the latest user). */
static void reindex(scscf_reg_t *reg)
{
    ims_hash_t *h = reg->ctx->by_impu;

    for (int i = 0; reg->profile && i < reg->profile->nimpu; i++) {
        const char *impu = reg->profile->impu[i];

        if (ims_hash_find(h, impu) != reg) {
            ims_hash_remove(h, impu);
            if (ims_hash_insert(h, impu, reg) != IMS_OK)
                abort();
        }
    }
}

static void contact_free(scscf_ctx_t *ctx, scscf_contact_t *c)
{
    ims_store_free(c->uri);
    scscf_str_unshare(ctx, c->path);
    memset(c, 0, sizeof(*c));
}

void scscf_reg_free(scscf_reg_t *reg)
{
    scscf_ctx_t *ctx = reg->ctx;

    if (ctx) {
        unindex(reg);
        if (ims_hash_find(ctx->by_impi, reg->impi) == reg)
            ims_hash_remove(ctx->by_impi, reg->impi);
        ims_timer_stop(ctx->loop, &reg->expiry);
    }
    scscf_reg_auth_clear(reg);
    scscf_subs_free_all(reg);
    for (int i = 0; i < reg->ncontacts; i++)
        contact_free(ctx, &reg->contacts[i]);
    ims_store_free(reg->contacts);
    scscf_profile_free(reg->profile);
    ims_store_free(reg);
}

void scscf_reg_set_profile(scscf_reg_t *reg, scscf_profile_t *p)
{
    if (reg->registered)
        unindex(reg);
    scscf_profile_free(reg->profile);
    reg->profile = p;
    scscf_profile_share_ifcs(p, reg->ctx->ifc_sets);
    if (reg->registered)
        reindex(reg);
}

void scscf_reg_set_registered(scscf_reg_t *reg)
{
    reg->registered = true;
    reindex(reg);
}

static int find_contact(const scscf_reg_t *reg, const char *uri)
{
    for (int i = 0; i < reg->ncontacts; i++)
        if (strcmp(reg->contacts[i].uri, uri) == 0)
            return i;
    return -1;
}

static void remove_contact(scscf_reg_t *reg, int i)
{
    contact_free(reg->ctx, &reg->contacts[i]);
    reg->contacts[i] = reg->contacts[reg->ncontacts - 1];
    if (--reg->ncontacts == 0) {
        ims_store_free(reg->contacts);
        reg->contacts = NULL;
    }
}

const char *scscf_contact_call_id(const scscf_contact_t *c)
{
    return c->call_id_off ? c->uri + c->call_id_off : NULL;
}

/* (Re)write the binding's block: uri, then call_id (may be NULL). */
static void contact_strings(scscf_contact_t *c, const char *uri, const char *call_id)
{
    size_t ul = strlen(uri) + 1, cl = call_id ? strlen(call_id) + 1 : 0;
    char *b = ul <= UINT32_MAX ? ims_store_alloc(ul + cl) : NULL;

    if (!b)
        abort();
    memcpy(b, uri, ul);
    if (call_id)
        memcpy(b + ul, call_id, cl);
    ims_store_free(c->uri);
    c->uri = b;
    c->call_id_off = call_id ? (uint32_t)ul : 0;
}

/* The index of a new, empty binding (the one expiring first makes room). */
static int add_contact(scscf_reg_t *reg)
{
    scscf_contact_t *v;
    int i;

    if (reg->ncontacts == SCSCF_MAX_CONTACTS) {
        i = 0;
        for (int k = 1; k < reg->ncontacts; k++)
            if (reg->contacts[k].expires_at < reg->contacts[i].expires_at)
                i = k;
        remove_contact(reg, i);
    }
    v = ims_store_realloc(reg->contacts, sizeof(*v) * (size_t)(reg->ncontacts + 1));
    if (!v)
        abort();
    reg->contacts = v;
    i = reg->ncontacts++;
    memset(&v[i], 0, sizeof(v[i]));
    return i;
}

int scscf_reg_bind(scscf_reg_t *reg, const char *uri, const char *path, const char *call_id,
                   uint32_t cseq, uint32_t expires)
{
    int i = find_contact(reg, uri);
    const char *old_cid;
    scscf_contact_t *c;

    old_cid = i >= 0 ? scscf_contact_call_id(&reg->contacts[i]) : NULL;
    if (old_cid && call_id && strcmp(old_cid, call_id) == 0 && cseq <= reg->contacts[i].cseq)
        return IMS_DECLINED;
    if (expires == 0) {
        if (i >= 0)
            remove_contact(reg, i);
        return IMS_OK;
    }
    if (i < 0) {
        i = add_contact(reg);
        contact_strings(&reg->contacts[i], uri, call_id);
    } else if (!old_cid || !call_id || strcmp(old_cid, call_id) != 0) {
        contact_strings(&reg->contacts[i], uri, call_id);
    }
    c = &reg->contacts[i];
    if (!c->path || !path || strcmp(c->path, path) != 0) {
        scscf_str_unshare(reg->ctx, c->path);
        c->path = scscf_str_share(reg->ctx, path);
    }
    c->cseq = cseq;
    c->expires_at = ims_clock_now_ms() + (uint64_t)expires * 1000;
    return IMS_OK;
}

int scscf_reg_drop_expired(scscf_reg_t *reg, uint64_t now)
{
    int n = 0;

    for (int i = reg->ncontacts - 1; i >= 0; i--)
        if (reg->contacts[i].expires_at <= now) {
            remove_contact(reg, i);
            n++;
        }
    return n;
}

uint32_t scscf_contact_left(const scscf_contact_t *c, uint64_t now)
{
    return c->expires_at > now ? (uint32_t)((c->expires_at - now + 999) / 1000) : 0;
}

uint32_t scscf_reg_left(const scscf_reg_t *reg, uint64_t now)
{
    uint32_t m = 0;

    for (int i = 0; i < reg->ncontacts; i++)
        if (scscf_contact_left(&reg->contacts[i], now) > m)
            m = scscf_contact_left(&reg->contacts[i], now);
    return m;
}

void scscf_reg_arm_expiry(scscf_reg_t *reg, ims_timer_cb cb)
{
    uint64_t first = UINT64_MAX, now = ims_clock_now_ms();

    for (int i = 0; i < reg->ncontacts; i++)
        if (reg->contacts[i].expires_at < first)
            first = reg->contacts[i].expires_at;
    if (first == UINT64_MAX) {
        ims_timer_stop(reg->ctx->loop, &reg->expiry);
        return;
    }
    ims_timer_start(reg->ctx->loop, &reg->expiry, first > now ? first - now : 0, cb, reg);
}

scscf_auth_t *scscf_reg_auth_new(scscf_reg_t *reg)
{
    uint8_t attempts = reg->auth ? reg->auth->attempts : 0;

    if (reg->auth)
        ims_timer_stop(reg->ctx->loop, &reg->auth->timer);
    else if (!(reg->auth = malloc(sizeof(*reg->auth))))
        abort();
    memset(reg->auth, 0, sizeof(*reg->auth));
    ims_timer_init(&reg->auth->timer);
    reg->auth->attempts = attempts;
    return reg->auth;
}

void scscf_reg_auth_clear(scscf_reg_t *reg)
{
    if (!reg->auth)
        return;
    if (reg->ctx)
        ims_timer_stop(reg->ctx->loop, &reg->auth->timer);
    free(reg->auth);
    reg->auth = NULL;
}

int scscf_uri_aor(const osip_uri_t *u, char *out, size_t outlen)
{
    int n;

    if (!u || !u->scheme)
        return IMS_ERROR;
    if (strcasecmp(u->scheme, "tel") == 0) {
        const char *s = u->string;
        size_t len;

        if (!s)
            return IMS_ERROR;
        len = strcspn(s, ";?");
        if (len == 0 || len + 5 > outlen)
            return IMS_ERROR;
        memcpy(out, "tel:", 4);
        memcpy(out + 4, s, len);
        out[4 + len] = '\0';
        return IMS_OK;
    }
    if (!u->host || !u->host[0])
        return IMS_ERROR;
    if (u->username && u->username[0])
        n = snprintf(out, outlen, "%s:%s@%s%s%s", strcasecmp(u->scheme, "sips") ? "sip" : "sips",
                     u->username, u->host, u->port ? ":" : "", u->port ? u->port : "");
    else
        n = snprintf(out, outlen, "%s:%s%s%s", strcasecmp(u->scheme, "sips") ? "sip" : "sips",
                     u->host, u->port ? ":" : "", u->port ? u->port : "");
    return n > 0 && (size_t)n < outlen ? IMS_OK : IMS_ERROR;
}

int scscf_parse_seconds(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    bool any = false;

    while (*s == ' ' || *s == '\t')
        s++;
    for (; *s >= '0' && *s <= '9'; s++) {
        any = true;
        if (v < UINT32_MAX)
            v = v * 10 + (uint64_t)(*s - '0');
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (!any || *s)
        return IMS_ERROR;
    *out = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return IMS_OK;
}
