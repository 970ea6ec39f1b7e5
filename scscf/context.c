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

static char *str_dup(const char *s)
{
    char *d;

    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        abort();
    return d;
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
    if (!ctx->by_impi || !ctx->by_impu || !ctx->subs)
        abort();
    return ctx;
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
    free(ctx);
}

scscf_reg_t *scscf_reg_find(scscf_ctx_t *ctx, const char *impi)
{
    return ims_hash_find(ctx->by_impi, impi);
}

scscf_reg_t *scscf_reg_find_impu(scscf_ctx_t *ctx, const char *impu)
{
    return ims_hash_find(ctx->by_impu, impu);
}

scscf_reg_t *scscf_reg_get(scscf_ctx_t *ctx, const char *impi)
{
    scscf_reg_t *reg = scscf_reg_find(ctx, impi);

    if (reg)
        return reg;
    reg = calloc(1, sizeof(*reg));
    if (!reg)
        abort();
    reg->ctx = ctx;
    reg->impi = str_dup(impi);
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

static void contact_free(scscf_contact_t *c)
{
    free(c->uri);
    free(c->path);
    free(c->call_id);
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
        contact_free(&reg->contacts[i]);
    free(reg->contacts);
    scscf_profile_free(reg->profile);
    free(reg->impi);
    free(reg);
}

void scscf_reg_set_profile(scscf_reg_t *reg, scscf_profile_t *p)
{
    if (reg->registered)
        unindex(reg);
    scscf_profile_free(reg->profile);
    reg->profile = p;
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
    contact_free(&reg->contacts[i]);
    reg->contacts[i] = reg->contacts[reg->ncontacts - 1];
    if (--reg->ncontacts == 0) {
        free(reg->contacts);
        reg->contacts = NULL;
    }
}

int scscf_reg_bind(scscf_reg_t *reg, const char *uri, const char *path, const char *call_id,
                   uint32_t cseq, uint32_t expires)
{
    int i = find_contact(reg, uri);
    scscf_contact_t *c;

    if (i >= 0 && call_id && reg->contacts[i].call_id &&
        strcmp(reg->contacts[i].call_id, call_id) == 0 && cseq <= reg->contacts[i].cseq)
        return IMS_DECLINED;
    if (expires == 0) {
        if (i >= 0)
            remove_contact(reg, i);
        return IMS_OK;
    }
    if (i < 0) {
        if (reg->ncontacts == SCSCF_MAX_CONTACTS) {
            i = 0;
            for (int k = 1; k < reg->ncontacts; k++)
                if (reg->contacts[k].expires_at < reg->contacts[i].expires_at)
                    i = k;
            remove_contact(reg, i);
        }
        reg->contacts = realloc(reg->contacts, sizeof(*c) * (size_t)(reg->ncontacts + 1));
        if (!reg->contacts)
            abort();
        i = reg->ncontacts++;
        memset(&reg->contacts[i], 0, sizeof(*c));
        reg->contacts[i].uri = str_dup(uri);
    }
    c = &reg->contacts[i];
    if (!c->path || !path || strcmp(c->path, path) != 0) {
        free(c->path);
        c->path = str_dup(path);
    }
    if (!c->call_id || !call_id || strcmp(c->call_id, call_id) != 0) {
        free(c->call_id);
        c->call_id = str_dup(call_id);
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
