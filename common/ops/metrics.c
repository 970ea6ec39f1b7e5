/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The metrics registry and its text exposition (Prometheus format 0.0.4).
 * Series storage is allocated when a metric is registered and never grows:
 * updates on the hot paths (metrics.h, inline) only index and add.
 */
#include "common/ops/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"

typedef struct entry {
    struct entry *next;
    const char *name;
    const char *help;
    ims_metric_type_t type;
    const ims_label_t *l1, *l2;
    ims_metric_t *m;            /* NULL for a collector */
    ims_metrics_collect_cb cb;
    void *arg;
} entry_t;

struct ims_metrics {
    entry_t *head, *tail;
};

/* A growing output buffer; allocation failure aborts (as elsewhere in core). */
typedef struct buf {
    char *p;
    size_t len, cap;
} buf_t;

struct ims_metrics_emitter {
    buf_t *b;
    const entry_t *e;
};

static const char *const sip_codes[] = {
    "200", "202", "204", "400", "401", "403", "404", "407", "408", "420", "423", "480",
    "481", "483", "486", "487", "488", "500", "501", "503", "504", "603", "other",
};
static const int sip_code_nums[] = {
    200, 202, 204, 400, 401, 403, 404, 407, 408, 420, 423, 480,
    481, 483, 486, 487, 488, 500, 501, 503, 504, 603,
};

const ims_label_t ims_label_sip_code = { "code", sip_codes, IMS_ARRAY_LEN(sip_codes) };

const double ims_metrics_latency_buckets[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
const size_t ims_metrics_latency_nbuckets = IMS_ARRAY_LEN(ims_metrics_latency_buckets);

size_t ims_sip_code_index(int code)
{
    for (size_t i = 0; i < IMS_ARRAY_LEN(sip_code_nums); i++)
        if (sip_code_nums[i] == code)
            return i;
    return IMS_ARRAY_LEN(sip_code_nums);   /* "other" */
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p)
        abort();
    return p;
}

ims_metrics_t *ims_metrics_new(void)
{
    return xcalloc(1, sizeof(ims_metrics_t));
}

static void metric_free(ims_metric_t *m)
{
    if (!m)
        return;
    free(m->u64);
    free(m->f64);
    free(m->hcount);
    free(m);
}

void ims_metrics_free(ims_metrics_t *r)
{
    entry_t *e, *next;

    if (!r)
        return;
    for (e = r->head; e; e = next) {
        next = e->next;
        metric_free(e->m);
        free(e);
    }
    free(r);
}

/* ---- registration ---- */

static bool valid_name(const char *s, bool colon)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (colon && c == ':')))
            return false;
    }
    return true;
}

static bool valid_label(const ims_label_t *l, ims_metric_type_t type)
{
    if (!l)
        return true;
    if (!valid_name(l->name, false) || strncmp(l->name, "__", 2) == 0 || l->nvalues == 0 ||
        !l->values || (type == IMS_METRIC_HISTOGRAM && strcmp(l->name, "le") == 0))
        return false;
    for (size_t i = 0; i < l->nvalues; i++)
        if (!l->values[i])
            return false;
    return true;
}

static entry_t *find(const ims_metrics_t *r, const char *name)
{
    for (entry_t *e = r->head; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static entry_t *add_entry(ims_metrics_t *r, const char *name, const char *help,
                          ims_metric_type_t type, const ims_label_t *l1, const ims_label_t *l2)
{
    entry_t *e;

    if (!valid_name(name, true) || !valid_label(l1, type) || !valid_label(l2, type) ||
        (l2 && !l1) || (l1 && l2 && strcmp(l1->name, l2->name) == 0)) {
        IMS_ERR("metrics: %s: invalid metric or label name", name ? name : "(null)");
        return NULL;
    }
    if (find(r, name)) {
        IMS_ERR("metrics: %s: registered twice", name);
        return NULL;
    }
    e = xcalloc(1, sizeof(*e));
    e->name = name;
    e->help = help ? help : "";
    e->type = type;
    e->l1 = l1;
    e->l2 = l2;
    if (r->tail)
        r->tail->next = e;
    else
        r->head = e;
    r->tail = e;
    return e;
}

/* A metric with its series storage: counters u64, gauges f64, histograms
 * nbounds+1 buckets (u64), a sum (f64) and a count per series. */
static ims_metric_t *add_metric(ims_metrics_t *r, const char *name, const char *help,
                                ims_metric_type_t type, const ims_label_t *l1,
                                const ims_label_t *l2, size_t nbounds)
{
    entry_t *e;
    ims_metric_t *m;

    if (!r || !(e = add_entry(r, name, help, type, l1, l2)))
        return NULL;
    m = e->m = xcalloc(1, sizeof(*m));
    m->type = type;
    m->n2 = l2 ? l2->nvalues : 1;
    m->nseries = (l1 ? l1->nvalues : 1) * m->n2;
    m->nbounds = nbounds;
    if (type != IMS_METRIC_GAUGE)
        m->u64 = xcalloc(m->nseries * (type == IMS_METRIC_HISTOGRAM ? nbounds + 1 : 1),
                         sizeof(*m->u64));
    if (type != IMS_METRIC_COUNTER)
        m->f64 = xcalloc(m->nseries, sizeof(*m->f64));
    if (type == IMS_METRIC_HISTOGRAM)
        m->hcount = xcalloc(m->nseries, sizeof(*m->hcount));
    return m;
}

ims_metric_t *ims_metrics_counter(ims_metrics_t *r, const char *name, const char *help,
                                  const ims_label_t *l1, const ims_label_t *l2)
{
    return add_metric(r, name, help, IMS_METRIC_COUNTER, l1, l2, 0);
}

ims_metric_t *ims_metrics_gauge(ims_metrics_t *r, const char *name, const char *help,
                                const ims_label_t *l1, const ims_label_t *l2)
{
    return add_metric(r, name, help, IMS_METRIC_GAUGE, l1, l2, 0);
}

static bool valid_bounds(const double *b, size_t n)
{
    if (n == 0 || n > IMS_METRICS_MAX_BUCKETS)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(b[i]) || (i > 0 && b[i] <= b[i - 1]))
            return false;
    return true;
}

ims_metric_t *ims_metrics_histogram(ims_metrics_t *r, const char *name, const char *help,
                                    const ims_label_t *l1, const ims_label_t *l2,
                                    const double *bounds, size_t nbounds)
{
    ims_metric_t *m;

    if (!bounds) {
        bounds = ims_metrics_latency_buckets;
        nbounds = ims_metrics_latency_nbuckets;
    }
    if (!valid_bounds(bounds, nbounds)) {
        IMS_ERR("metrics: %s: bucket bounds must be finite and ascending (at most %d)",
                name ? name : "(null)", IMS_METRICS_MAX_BUCKETS);
        return NULL;
    }
    if ((m = add_metric(r, name, help, IMS_METRIC_HISTOGRAM, l1, l2, nbounds)) != NULL)
        memcpy(m->bounds, bounds, nbounds * sizeof(*bounds));
    return m;
}

int ims_metrics_collector(ims_metrics_t *r, const char *name, const char *help,
                          ims_metric_type_t type, ims_metrics_collect_cb cb, void *arg)
{
    entry_t *e;

    if (!r || !cb || type == IMS_METRIC_HISTOGRAM ||
        !(e = add_entry(r, name, help, type, NULL, NULL)))
        return IMS_ERROR;
    e->cb = cb;
    e->arg = arg;
    return IMS_OK;
}

int ims_metrics_remove(ims_metrics_t *r, const char *name)
{
    entry_t *e, *prev = NULL;

    for (e = r ? r->head : NULL; e; prev = e, e = e->next) {
        if (strcmp(e->name, name) != 0)
            continue;
        if (prev)
            prev->next = e->next;
        else
            r->head = e->next;
        if (r->tail == e)
            r->tail = prev;
        metric_free(e->m);
        free(e);
        return IMS_OK;
    }
    return IMS_DECLINED;
}

void ims_histogram_observe(ims_metric_t *m, size_t series, double v)
{
    size_t i;

    if (!m || m->type != IMS_METRIC_HISTOGRAM || series >= m->nseries || isnan(v))
        return;
    /* Per-bucket (non-cumulative) counts: one increment here; the exposition
     * accumulates. A dozen bounds: a scan beats a search. */
    for (i = 0; i < m->nbounds && v > m->bounds[i]; i++)
        ;
    m->u64[series * (m->nbounds + 1) + i]++;
    m->f64[series] += v;
    m->hcount[series]++;
}

void ims_histogram_observe_us(ims_metric_t *m, size_t series, uint64_t us)
{
    ims_histogram_observe(m, series, (double)us / 1e6);
}

/* ---- exposition ---- */

static void buf_grow(buf_t *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 4096;

    while (cap - b->len < more + 1)
        cap *= 2;
    if (cap != b->cap) {
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
}

static void buf_add(buf_t *b, const char *s, size_t n)
{
    buf_grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(buf_t *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) buf_fmt(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    buf_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* HELP text escapes \ and newline; label values also escape ". */
static void buf_escaped(buf_t *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_str(b, "\\\\");
        else if (*s == '\n')
            buf_str(b, "\\n");
        else if (quote && *s == '"')
            buf_str(b, "\\\"");
        else
            buf_add(b, s, 1);
    }
}

/* The shortest form that reads back as v: 0.005, not 0.0050000000000000001. */
static void buf_double(buf_t *b, double v)
{
    char s[40];

    if (isnan(v)) {
        buf_str(b, "NaN");
        return;
    }
    if (isinf(v)) {
        buf_str(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof(s), "%.*g", prec, v);
        if (strtod(s, NULL) == v)
            break;
    }
    buf_str(b, s);
}

static void header(buf_t *b, const entry_t *e)
{
    static const char *const types[] = { "counter", "gauge", "histogram" };

    buf_fmt(b, "# HELP %s ", e->name);
    buf_escaped(b, e->help, false);
    buf_fmt(b, "\n# TYPE %s %s\n", e->name, types[e->type]);
}

/* name{l1="..",l2="..",le=".."} for series s; suffix and le may be NULL. */
static void series_name(buf_t *b, const entry_t *e, size_t s, const char *suffix,
                        const char *le)
{
    const ims_label_t *ls[2] = { e->l1, e->l2 };
    size_t idx[2] = { e->m ? s / e->m->n2 : 0, e->m ? s % e->m->n2 : 0 };
    bool any = false;

    buf_str(b, e->name);
    if (suffix)
        buf_str(b, suffix);
    for (int i = 0; i < 2; i++) {
        if (!ls[i])
            continue;
        buf_fmt(b, "%s%s=\"", any ? "," : "{", ls[i]->name);
        buf_escaped(b, ls[i]->values[idx[i]], true);
        buf_str(b, "\"");
        any = true;
    }
    if (le) {
        buf_fmt(b, "%sle=\"%s\"", any ? "," : "{", le);
        any = true;
    }
    if (any)
        buf_str(b, "}");
}

static void render_histogram(buf_t *b, const entry_t *e, size_t s)
{
    const ims_metric_t *m = e->m;
    const uint64_t *bk = m->u64 + s * (m->nbounds + 1);
    uint64_t cum = 0;
    char le[40];
    buf_t tmp = { 0 };

    for (size_t i = 0; i <= m->nbounds; i++) {
        cum += bk[i];
        if (i < m->nbounds) {
            tmp.len = 0;
            buf_double(&tmp, m->bounds[i]);
            snprintf(le, sizeof(le), "%s", tmp.p);
        } else {
            snprintf(le, sizeof(le), "+Inf");
        }
        series_name(b, e, s, "_bucket", le);
        buf_fmt(b, " %llu\n", (unsigned long long)cum);
    }
    free(tmp.p);
    series_name(b, e, s, "_sum", NULL);
    buf_str(b, " ");
    buf_double(b, m->f64[s]);
    buf_str(b, "\n");
    series_name(b, e, s, "_count", NULL);
    buf_fmt(b, " %llu\n", (unsigned long long)m->hcount[s]);
}

static void render_entry(buf_t *b, const entry_t *e)
{
    const ims_metric_t *m = e->m;

    header(b, e);
    if (!m) {
        ims_metrics_emitter_t em = { b, e };

        e->cb(e->arg, &em);
        return;
    }
    for (size_t s = 0; s < m->nseries; s++) {
        if (m->type == IMS_METRIC_HISTOGRAM) {
            render_histogram(b, e, s);
            continue;
        }
        series_name(b, e, s, NULL, NULL);
        if (m->type == IMS_METRIC_COUNTER) {
            buf_fmt(b, " %llu\n", (unsigned long long)m->u64[s]);
        } else {
            buf_str(b, " ");
            buf_double(b, m->f64[s]);
            buf_str(b, "\n");
        }
    }
}

void ims_metrics_emit(ims_metrics_emitter_t *em, const char *label, const char *value, double v)
{
    buf_t *b = em->b;

    buf_str(b, em->e->name);
    if (label && valid_name(label, false)) {
        buf_fmt(b, "{%s=\"", label);
        buf_escaped(b, value ? value : "", true);
        buf_str(b, "\"}");
    }
    buf_str(b, " ");
    buf_double(b, v);
    buf_str(b, "\n");
}

void ims_metrics_emit_fields(ims_metrics_emitter_t *e, const char *label, const void *base,
                             const ims_metrics_field_t *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v;

        memcpy(&v, (const char *)base + fields[i].off, sizeof(v));
        ims_metrics_emit(e, label, fields[i].name, (double)v);
    }
}

char *ims_metrics_render(ims_metrics_t *r, size_t *len)
{
    buf_t b = { 0 };

    buf_grow(&b, 0);
    b.p[0] = '\0';
    for (const entry_t *e = r ? r->head : NULL; e; e = e->next)
        render_entry(&b, e);
    if (len)
        *len = b.len;
    return b.p;
}
