/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PCF discovery at the NRF for the N5 client (pcscf/n5-nrf.h): the
 * SearchResult parser, then the cache and the one discovery in flight.
 */
#include "pcscf/n5-nrf.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"

#define NRF_TIMEOUT_MS 2000u
#define NRF_PRIORITY_ABSENT 65535u
#define NRF_PATH_MAX 512
#define NRF_PARAM_MAX 128                       /* dnn, requester id */

/* ---- parsing the SearchResult ---- */

typedef struct cands {
    pcscf_n5_pcf_t *v;
    size_t n, max;
} cands_t;

/* What a service's candidates share. */
typedef struct svc {
    const char *inst_id;
    uint32_t priority, capacity;
    bool tls;
    char prefix[PCSCF_N5_NRF_PREFIX_MAX];
} svc_t;

/* An integer member in 0..max, else dflt. */
static uint32_t uint_member(json_t *o, const char *key, uint32_t dflt, uint32_t max)
{
    json_t *v = json_object_get(o, key);
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;

    return n < 0 ? dflt : n > (json_int_t)max ? max : (uint32_t)n;
}

static bool path_char(int c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '%' || c == '/';
}

/* apiPrefix normalised to "" or "/seg[/seg]" without a trailing '/'; false when unusable. */
static bool prefix_of(const char *p, char *out, size_t cap)
{
    size_t n = p ? strlen(p) : 0, used = 0;

    out[0] = '\0';
    if (!p)
        return true;
    while (n && p[n - 1] == '/')
        n--;
    if (n && p[0] != '/')
        out[used++] = '/';
    if (used + n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!path_char((unsigned char)p[i]))
            return false;
    memcpy(out + used, p, n);
    out[used + n] = '\0';
    return true;
}

/* Whether a comes before b: priority, then capacity. */
static bool better(const pcscf_n5_pcf_t *a, const pcscf_n5_pcf_t *b)
{
    return a->priority < b->priority || (a->priority == b->priority && a->capacity > b->capacity);
}

/* Insert in order (after its equals: the NRF's order), keeping the best max. */
static void cand_insert(cands_t *c, const pcscf_n5_pcf_t *x)
{
    size_t at = c->n;

    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].authority, x->authority) == 0 &&
            strcmp(c->v[i].prefix, x->prefix) == 0 && c->v[i].tls == x->tls)
            return;                         /* listed twice */
        if (at == c->n && better(x, &c->v[i]))
            at = i;
    }
    if (at >= c->max)
        return;
    if (c->n == c->max)
        c->n--;                             /* the worst one goes */
    memmove(&c->v[at + 1], &c->v[at], (c->n - at) * sizeof(*x));
    c->v[at] = *x;
    c->n++;
}

/* One address of service s; port < 0: the scheme's default. */
static void cand_add(cands_t *c, const svc_t *s, const char *ip, bool v6, json_int_t port)
{
    pcscf_n5_pcf_t x = { .tls = s->tls, .priority = s->priority, .capacity = s->capacity };
    int len;

    if (!ip || !*ip)
        return;
    if (port < 0)
        port = s->tls ? 443 : 80;
    if (port == 0 || port > 65535)
        return;
    len = snprintf(x.authority, sizeof(x.authority), v6 ? "[%s]:%d" : "%s:%d", ip, (int)port);
    if (len < 0 || (size_t)len >= sizeof(x.authority) || !sbi_h2_authority_ok(x.authority))
        return;                             /* not numeric (an FQDN), or too long */
    snprintf(x.prefix, sizeof(x.prefix), "%s", s->prefix);
    if (s->inst_id && strlen(s->inst_id) < sizeof(x.nf_instance_id))
        snprintf(x.nf_instance_id, sizeof(x.nf_instance_id), "%s", s->inst_id);
    cand_insert(c, &x);
}

/* Every element of the string array o[key] as an address of s. */
static void addrs_add(cands_t *c, const svc_t *s, json_t *o, const char *key, bool v6)
{
    size_t i;
    json_t *a;

    json_array_foreach(json_object_get(o, key), i, a)
        cand_add(c, s, json_string_value(a), v6, -1);
}

static void endpoints_add(cands_t *c, const svc_t *s, json_t *eps)
{
    size_t i;
    json_t *ep;

    json_array_foreach(eps, i, ep) {
        json_t *pv = json_object_get(ep, "port");
        json_int_t port = -1;

        if (pv) {
            if (!json_is_integer(pv))
                continue;
            port = json_integer_value(pv);
            if (port < 1)
                continue;
        }
        cand_add(c, s, json_string_value(json_object_get(ep, "ipv4Address")), false, port);
        cand_add(c, s, json_string_value(json_object_get(ep, "ipv6Address")), true, port);
    }
}

/* The candidates of NFService o of profile p (whose priority and capacity are in base). */
static void service_add(cands_t *c, const svc_t *base, json_t *p, json_t *o)
{
    const char *name = json_string_value(json_object_get(o, "serviceName"));
    const char *st = json_string_value(json_object_get(o, "nfServiceStatus"));
    const char *scheme = json_string_value(json_object_get(o, "scheme"));
    json_t *eps = json_object_get(o, "ipEndPoints");
    svc_t s = *base;

    if (!name || strcmp(name, PCSCF_N5_NRF_SERVICE) != 0 || (st && strcmp(st, "REGISTERED") != 0))
        return;
    if (scheme && strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
        return;
    s.tls = scheme && strcmp(scheme, "https") == 0;
    if (!prefix_of(json_string_value(json_object_get(o, "apiPrefix")), s.prefix,
                   sizeof(s.prefix)))
        return;
    s.priority = uint_member(o, "priority", base->priority, NRF_PRIORITY_ABSENT);
    s.capacity = uint_member(o, "capacity", base->capacity, 65535);
    if (json_array_size(eps) > 0) {
        endpoints_add(c, &s, eps);
    } else {
        addrs_add(c, &s, p, "ipv4Addresses", false);
        addrs_add(c, &s, p, "ipv6Addresses", true);
    }
}

static void profile_add(cands_t *c, json_t *p)
{
    const char *type = json_string_value(json_object_get(p, "nfType"));
    const char *st = json_string_value(json_object_get(p, "nfStatus"));
    json_t *svcs = json_object_get(p, "nfServices"), *o;
    svc_t base = { .inst_id = json_string_value(json_object_get(p, "nfInstanceId")) };
    const char *key;
    size_t i;

    if (!json_is_object(p) || (type && strcmp(type, "PCF") != 0) ||
        (st && strcmp(st, "REGISTERED") != 0))
        return;
    base.priority = uint_member(p, "priority", NRF_PRIORITY_ABSENT, NRF_PRIORITY_ABSENT);
    base.capacity = uint_member(p, "capacity", 0, 65535);
    /* Rel-15 lists services in an array, Rel-16+ in a map by serviceInstanceId
     * (open5gs sends both): the array when there is one */
    if (json_is_array(svcs)) {
        json_array_foreach(svcs, i, o)
            service_add(c, &base, p, o);
    } else {
        json_object_foreach(json_object_get(p, "nfServiceList"), key, o)
            service_add(c, &base, p, o);
    }
}

int pcscf_n5_nrf_parse(const char *body, size_t len, pcscf_n5_pcf_t *out, size_t max,
                       uint32_t *validity_s)
{
    json_t *o = len ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *insts = json_object_get(o, "nfInstances"), *p, *vp;
    cands_t c = { out, 0, max };
    size_t i;

    *validity_s = 0;
    if (!json_is_object(o) || !json_is_array(insts)) {
        json_decref(o);
        return IMS_ERROR;
    }
    *validity_s = uint_member(o, "validityPeriod", 0, UINT32_MAX);
    vp = json_object_get(o, "validityPeriod");
    if (json_is_integer(vp) && json_integer_value(vp) == 0)
        *validity_s = 1;                    /* 0: "do not keep it"; a second is the least */
    json_array_foreach(insts, i, p)
        profile_add(&c, p);
    json_decref(o);
    return (int)c.n;
}

/* ---- discovery ---- */

struct pcscf_n5_nrf {
    ims_loop_t *loop;
    sbi_h2_client_t *h2;
    char authority[SBI_H2_AUTHORITY_MAX];
    char path[NRF_PATH_MAX];            /* the discovery's :path, query included */
    uint32_t timeout_ms, validity_s;
    pcscf_n5_nrf_ready_cb ready;
    void *arg;
    uint64_t inflight;                  /* the HTTP/2 request; 0 none */
    pcscf_n5_pcf_t pcf[PCSCF_N5_NRF_MAX_PCF];
    size_t n, cur;
    uint64_t installed_ms, expires_ms;  /* of the list */
    uint64_t retry_ms;                  /* no discovery before */
    pcscf_n5_nrf_stats_t st;
};

/* "http(s)://IP:PORT[/prefix]": tls, the authority and the prefix (no trailing '/'). */
static bool nrf_uri_split(const char *s, bool *tls, char *auth, char *prefix, size_t pcap)
{
    const char *a, *slash;
    size_t n;

    if (!s)
        return false;
    *tls = strncmp(s, "https://", 8) == 0;
    if (!*tls && strncmp(s, "http://", 7) != 0)
        return false;
    a = s + (*tls ? 8 : 7);
    slash = strchr(a, '/');
    n = slash ? (size_t)(slash - a) : strlen(a);
    if (n == 0 || n >= SBI_H2_AUTHORITY_MAX)
        return false;
    memcpy(auth, a, n);
    auth[n] = '\0';
    return sbi_h2_authority_ok(auth) && prefix_of(slash, prefix, pcap);
}

bool pcscf_n5_nrf_uri_ok(const char *s)
{
    char auth[SBI_H2_AUTHORITY_MAX], prefix[PCSCF_N5_NRF_PREFIX_MAX];
    bool tls;

    return nrf_uri_split(s, &tls, auth, prefix, sizeof(prefix));
}

/* Append "&name=value" to the path, value percent-encoded. */
static bool add_param(char *path, size_t cap, const char *name, const char *value)
{
    size_t used = strlen(path);
    int n = snprintf(path + used, cap - used, "&%s=", name);

    if (n < 0 || (size_t)n >= cap - used || strlen(value) >= NRF_PARAM_MAX)
        return false;
    used += (size_t)n;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        bool plain = isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~';

        if (used + (plain ? 1 : 3) >= cap)
            return false;
        used += (size_t)snprintf(path + used, cap - used, plain ? "%c" : "%%%02X", *p);
    }
    return true;
}

static bool build_path(pcscf_n5_nrf_t *d, const char *prefix, const pcscf_n5_nrf_cfg_t *cfg)
{
    int n = snprintf(d->path, sizeof(d->path), "%s/nnrf-disc/v1/nf-instances?target-nf-type=PCF"
                     "&requester-nf-type=AF&service-names=" PCSCF_N5_NRF_SERVICE, prefix);

    return n > 0 && (size_t)n < sizeof(d->path) &&
           (!cfg->dnn || add_param(d->path, sizeof(d->path), "dnn", cfg->dnn)) &&
           (!cfg->requester_id ||
            add_param(d->path, sizeof(d->path), "requester-nf-instance-id", cfg->requester_id));
}

static bool usable(const pcscf_n5_nrf_t *d)
{
    return d->cur < d->n;
}

static void install(pcscf_n5_nrf_t *d, const pcscf_n5_pcf_t *v, int n, uint32_t validity)
{
    if (validity == 0)
        validity = d->validity_s;
    if (validity > PCSCF_N5_NRF_VALIDITY_MAX)
        validity = PCSCF_N5_NRF_VALIDITY_MAX;
    memcpy(d->pcf, v, (size_t)n * sizeof(*v));
    d->n = (size_t)n;
    d->cur = 0;
    d->installed_ms = ims_clock_now_ms();
    d->expires_ms = d->installed_ms + (uint64_t)validity * 1000;
    IMS_NOTICE("n5: the NRF names %d PCF(s) for %u s; first %s://%s%s (priority %u)", n,
               validity, v[0].tls ? "https" : "http", v[0].authority, v[0].prefix,
               v[0].priority);
}

/* The answer's list, or -1 (logged) when the discovery failed. */
static int answer_list(const pcscf_n5_nrf_t *d, sbi_h2_err_t err, const sbi_h2_msg_t *m,
                       pcscf_n5_pcf_t *v, uint32_t *validity)
{
    int n;

    if (err != SBI_H2_OK) {
        IMS_WARN("n5: NRF %s: discovery failed: %s", d->authority, sbi_h2_err_name(err));
        return -1;
    }
    if (m->status != 200) {
        IMS_WARN("n5: NRF %s: discovery answered %d: %.*s", d->authority, m->status,
                 (int)(m->body_len > 200 ? 200 : m->body_len), m->body);
        return -1;
    }
    n = pcscf_n5_nrf_parse(m->body, m->body_len, v, PCSCF_N5_NRF_MAX_PCF, validity);
    if (n < 0)
        IMS_WARN("n5: NRF %s: the discovery's answer is no SearchResult", d->authority);
    else if (n == 0)
        IMS_WARN("n5: NRF %s knows no PCF with " PCSCF_N5_NRF_SERVICE " at a numeric address",
                 d->authority);
    return n;
}

static void on_answer(void *arg, sbi_h2_err_t err, const sbi_h2_msg_t *m)
{
    pcscf_n5_nrf_t *d = arg;
    pcscf_n5_pcf_t v[PCSCF_N5_NRF_MAX_PCF];
    uint32_t validity = 0;
    int n = answer_list(d, err, m, v, &validity);

    d->inflight = 0;
    if (n > 0) {
        install(d, v, n, validity);
        d->retry_ms = 0;
    } else {
        if (n == 0)
            d->n = d->cur = 0;              /* believed: there is none */
        d->st.failures++;
        d->retry_ms = ims_clock_now_ms() + PCSCF_N5_NRF_RETRY_MS;
    }
    d->ready(d->arg, usable(d));
}

static int discover(pcscf_n5_nrf_t *d)
{
    static const sbi_h2_hdr_t accept = { "accept",
                                         "application/json, application/problem+json" };
    sbi_h2_request_t q = {
        .method = "GET", .authority = d->authority, .path = d->path, .hdrs = &accept,
        .nhdrs = 1, .timeout_ms = d->timeout_ms, .op = PCSCF_N5_NRF_OP,
    };

    d->inflight = sbi_h2_client_request(d->h2, &q, on_answer, d);
    if (!d->inflight) {
        d->st.failures++;
        d->retry_ms = ims_clock_now_ms() + PCSCF_N5_NRF_RETRY_MS;
        IMS_WARN("n5: NRF %s: discovery not sent", d->authority);
        return IMS_ERROR;
    }
    d->st.discoveries++;
    IMS_INFO("n5: asking the NRF %s for a PCF", d->authority);
    return IMS_OK;
}

int pcscf_n5_nrf_pick(pcscf_n5_nrf_t *d, pcscf_n5_pcf_t *out)
{
    uint64_t now = ims_clock_now_ms();
    bool may_ask = !d->inflight && now >= d->retry_ms;

    if (usable(d)) {
        /* an expired list serves until the new one comes: calls never wait on a refresh */
        if (now >= d->expires_ms && may_ask)
            discover(d);
        *out = d->pcf[d->cur];
        return IMS_OK;
    }
    if (d->inflight)
        return IMS_AGAIN;
    if (!may_ask)
        return IMS_ERROR;
    return discover(d) == IMS_OK ? IMS_AGAIN : IMS_ERROR;
}

void pcscf_n5_nrf_failed(pcscf_n5_nrf_t *d, const char *authority)
{
    if (!usable(d) || strcmp(d->pcf[d->cur].authority, authority) != 0)
        return;                             /* not the one in use (any more) */
    d->cur++;
    d->st.failovers++;
    if (usable(d)) {
        IMS_NOTICE("n5: PCF %s failed; next: %s", authority, d->pcf[d->cur].authority);
        return;
    }
    /* a list that just came and is all dead: the NRF would say the same at once */
    if (d->retry_ms < d->installed_ms + PCSCF_N5_NRF_RETRY_MS)
        d->retry_ms = d->installed_ms + PCSCF_N5_NRF_RETRY_MS;
    IMS_NOTICE("n5: PCF %s failed, the last the NRF named: asking it again%s", authority,
               ims_clock_now_ms() < d->retry_ms ? " in a moment" : "");
}

void pcscf_n5_nrf_get_stats(const pcscf_n5_nrf_t *d, pcscf_n5_nrf_stats_t *st)
{
    *st = d->st;
    st->candidates = d->n;
    st->current = d->cur;
}

pcscf_n5_nrf_t *pcscf_n5_nrf_new(ims_loop_t *loop, const pcscf_n5_nrf_cfg_t *cfg,
                                 pcscf_n5_nrf_ready_cb ready, void *arg)
{
    char prefix[PCSCF_N5_NRF_PREFIX_MAX];
    pcscf_n5_nrf_t *d = calloc(1, sizeof(*d));
    bool tls;

    if (!d)
        abort();
    if (!nrf_uri_split(cfg->nrf, &tls, d->authority, prefix, sizeof(prefix)) ||
        !build_path(d, prefix, cfg)) {
        IMS_ERR("n5: nrf must be http(s)://IP:PORT[/prefix] (numeric), with a short dnn and "
                "nf_instance_id");
        free(d);
        return NULL;
    }
    d->loop = loop;
    d->ready = ready;
    d->arg = arg;
    d->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : NRF_TIMEOUT_MS;
    d->validity_s = cfg->validity_s ? cfg->validity_s : PCSCF_N5_NRF_VALIDITY_S;
    d->h2 = sbi_h2_client_new(loop, &(sbi_h2_client_cfg_t){ .tls = tls, .tls_ca = cfg->tls_ca });
    if (!d->h2) {
        free(d);
        return NULL;
    }
    return d;
}

void pcscf_n5_nrf_free(pcscf_n5_nrf_t *d)
{
    if (!d)
        return;
    if (d->inflight)
        sbi_h2_client_cancel(d->h2, d->inflight);
    sbi_h2_client_free(d->h2);
    free(d);
}
