/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Metrics: a registry of counters, gauges and histograms, rendered in the
 * Prometheus text exposition format 0.0.4 (served on /metrics by
 * common/ops/http_probe.h).
 *
 * Labels are fixed when a metric is registered: at most two label
 * dimensions, each with a closed list of values (e.g. cmd = UAR|MAR|SAR|LIR).
 * Every combination is one series, allocated up front and exposed from the
 * start (at 0), so the hot path is an index and an add: no allocation, no
 * lookup by string, no lock (one thread per daemon). Series index for values
 * i1 (first label) and i2 (second): ims_metric_series(m, i1, i2); with one
 * label it is simply i1, with none 0.
 *
 * Values only known elsewhere (hash sizes, the transaction count, peer states)
 * are collectors: a callback run at scrape time that emits its series, and may
 * use labels with values known only then (a peer's host name).
 *
 * Every metric handle may be NULL (metrics off, or a unit test without a
 * registry): the update functions are then no-ops. So, in one line each:
 *
 *   m = ims_metrics_counter(reg, "ims_invite_total", "INVITEs by final code",
 *                           &ims_label_sip_code, NULL);              (at start)
 *   ims_counter_inc(m, ims_sip_code_index(code));                    (hot path)
 *
 *   h = ims_metrics_histogram(reg, "ims_invite_setup_seconds", "INVITE to 200",
 *                             NULL, NULL, NULL, 0);                  (at start)
 *   ims_histogram_observe_us(h, 0, ims_clock_real_us() - t0_us);     (hot path)
 *
 * The registry owns its metrics; handles are valid until ims_metrics_free.
 */
#ifndef IMS_OPS_METRICS_H
#define IMS_OPS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define IMS_METRICS_MAX_BUCKETS 16

typedef struct ims_metrics ims_metrics_t;

typedef enum ims_metric_type {
    IMS_METRIC_COUNTER,
    IMS_METRIC_GAUGE,
    IMS_METRIC_HISTOGRAM
} ims_metric_type_t;

/* One label dimension: its name and its closed list of values (static). */
typedef struct ims_label {
    const char *name;
    const char *const *values;
    size_t nvalues;
} ims_label_t;

/* A registered metric. The fields are the registry's; use the functions below. */
typedef struct ims_metric {
    ims_metric_type_t type;
    size_t nseries;       /* product of the label dimensions' sizes (1 without labels) */
    size_t n2;            /* size of the second dimension (1 without) */
    size_t nbounds;       /* histograms: finite bucket bounds */
    uint64_t *u64;        /* counters: per series; histograms: per series nbounds+1 */
    double *f64;          /* gauges: per series; histograms: per series sum */
    uint64_t *hcount;     /* histograms: observations per series */
    double bounds[IMS_METRICS_MAX_BUCKETS];
} ims_metric_t;

/* SIP final-response codes as a label "code" (the common ones, then "other"),
 * and the index of a code in it. */
extern const ims_label_t ims_label_sip_code;
size_t ims_sip_code_index(int code);

/* The default latency buckets, seconds (1 ms .. 10 s). */
extern const double ims_metrics_latency_buckets[];
extern const size_t ims_metrics_latency_nbuckets;

/* An empty registry; aborts on allocation failure. */
ims_metrics_t *ims_metrics_new(void);
/* Frees the registry and every metric in it (handles become invalid). NULL: no-op. */
void ims_metrics_free(ims_metrics_t *r);

/*
 * Register a metric (r NULL: returns NULL, so the caller's updates are no-ops).
 * name: [a-zA-Z_:][a-zA-Z0-9_:]*, unique in r; help: one line (escaped on output);
 * l1, l2: label dimensions or NULL (l2 needs l1). Strings and label tables are
 * not copied: they must outlive r (string literals, static tables).
 * Returns NULL (logged) on an invalid or duplicate name or label.
 * Histograms: bounds ascending and finite, nbounds <= IMS_METRICS_MAX_BUCKETS;
 * bounds NULL: ims_metrics_latency_buckets. The +Inf bucket is implicit.
 */
ims_metric_t *ims_metrics_counter(ims_metrics_t *r, const char *name, const char *help,
                                  const ims_label_t *l1, const ims_label_t *l2);
ims_metric_t *ims_metrics_gauge(ims_metrics_t *r, const char *name, const char *help,
                                const ims_label_t *l1, const ims_label_t *l2);
ims_metric_t *ims_metrics_histogram(ims_metrics_t *r, const char *name, const char *help,
                                    const ims_label_t *l1, const ims_label_t *l2,
                                    const double *bounds, size_t nbounds);

/*
 * A collector: cb runs while the registry is rendered and calls ims_metrics_emit
 * once per series (any number, also none). type is COUNTER or GAUGE. arg must
 * stay valid until r is freed (or the collector removed with
 * ims_metrics_remove). Returns IMS_OK or IMS_ERROR (bad or duplicate name).
 */
typedef struct ims_metrics_emitter ims_metrics_emitter_t;
typedef void (*ims_metrics_collect_cb)(void *arg, ims_metrics_emitter_t *e);
int ims_metrics_collector(ims_metrics_t *r, const char *name, const char *help,
                          ims_metric_type_t type, ims_metrics_collect_cb cb, void *arg);
/* One series of a collector: label NULL for none, else label="value" (value
 * copied into the output, escaped). */
void ims_metrics_emit(ims_metrics_emitter_t *e, const char *label, const char *value, double v);

/* A uint64_t field of a stats struct, for collectors that expose such a struct
 * as one series per field: IMS_METRICS_FIELD(scscf_stats_t, registers). */
typedef struct ims_metrics_field {
    const char *name;
    size_t off;
} ims_metrics_field_t;
#define IMS_METRICS_FIELD(type, f) { #f, offsetof(type, f) }
/* One series per field, label="<field name>", value the field in the struct at base. */
void ims_metrics_emit_fields(ims_metrics_emitter_t *e, const char *label, const void *base,
                             const ims_metrics_field_t *fields, size_t n);

/* Remove the metric or collector called name (its handle becomes invalid).
 * IMS_OK or IMS_DECLINED when unknown. For parts that stop before the registry. */
int ims_metrics_remove(ims_metrics_t *r, const char *name);

/*
 * The text exposition (format 0.0.4) of every metric in registration order:
 * # HELP, # TYPE, then the series; histograms as _bucket{le=...} (cumulative,
 * le="+Inf" last), _sum and _count. Returns a NUL-terminated malloc'd string
 * the caller frees, *len its length. Aborts on allocation failure.
 */
char *ims_metrics_render(ims_metrics_t *r, size_t *len);

/* ---- hot path: an index and an add; out-of-range series and NULL m ignored ---- */

/* SIZE_MAX (ignored by the updates) when i2 is out of range. */
static inline size_t ims_metric_series(const ims_metric_t *m, size_t i1, size_t i2)
{
    return m && i2 < m->n2 ? i1 * m->n2 + i2 : SIZE_MAX;
}

static inline void ims_counter_add(ims_metric_t *m, size_t series, uint64_t n)
{
    if (m && m->type == IMS_METRIC_COUNTER && series < m->nseries)
        m->u64[series] += n;
}

static inline void ims_counter_inc(ims_metric_t *m, size_t series)
{
    ims_counter_add(m, series, 1);
}

static inline void ims_gauge_set(ims_metric_t *m, size_t series, double v)
{
    if (m && m->type == IMS_METRIC_GAUGE && series < m->nseries)
        m->f64[series] = v;
}

static inline void ims_gauge_add(ims_metric_t *m, size_t series, double d)
{
    if (m && m->type == IMS_METRIC_GAUGE && series < m->nseries)
        m->f64[series] += d;
}

/* Record one observation of v (seconds, for latencies) in series. */
void ims_histogram_observe(ims_metric_t *m, size_t series, double v);
/* The same for a duration in microseconds (e.g. from ims_clock_real_us()). */
void ims_histogram_observe_us(ims_metric_t *m, size_t series, uint64_t us);

#endif
