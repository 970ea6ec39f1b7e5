/* SPDX-License-Identifier: BSD-2-Clause */
/* Process-wide SBI HTTP/2 statistics (h2_stats.h). */
#include "diameter/sbi/h2_stats.h"

#include <stdio.h>
#include <string.h>

#include "common/core/rc.h"

static sbi_h2_stats_t stats;
static sbi_h2_observer_cb observer;
static void *observer_arg;

static const char *const class_names[SBI_H2_NCLASSES] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
static const char *const method_names[SBI_H2_NMETHODS] = {
    "GET", "POST", "PUT", "PATCH", "DELETE", "other"
};

const sbi_h2_stats_t *sbi_h2_stats(void) { return &stats; }
sbi_h2_stats_t *sbi_h2_stats_mut(void) { return &stats; }

void sbi_h2_stats_reset(void)
{
    memset(&stats, 0, sizeof(stats));
}

const char *sbi_h2_class_name(size_t i)
{
    return i < SBI_H2_NCLASSES ? class_names[i] : "?";
}

const char *sbi_h2_method_name(size_t i)
{
    return i < SBI_H2_NMETHODS ? method_names[i] : "?";
}

size_t sbi_h2_class_of(int status)
{
    return status >= 100 && status <= 599 ? (size_t)(status / 100 - 1) : SBI_H2_NCLASSES;
}

size_t sbi_h2_method_index(const char *method)
{
    for (size_t i = 0; method && i + 1 < SBI_H2_NMETHODS; i++)
        if (strcmp(method, method_names[i]) == 0)
            return i;
    return SBI_H2_NMETHODS - 1;
}

/* A resource name (kept in the template) or a variable (an id, a SUPI...). */
static bool plain_segment(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
            return false;
    return true;
}

/* Whether s (n bytes) is an apiVersion segment: v and digits. */
static bool version_segment(const char *s, size_t n)
{
    if (n < 2 || s[0] != 'v')
        return false;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

void sbi_h2_op_name(const char *method, const char *path, char *out, size_t outlen)
{
    size_t used, plen;
    const char *p, *seg2;

    if (!outlen)
        return;
    used = (size_t)snprintf(out, outlen, "%s", method && *method ? method : "?");
    if (!path || used >= outlen)
        return;
    plen = strcspn(path, "?#");
    p = path;
    /* "/apiName/vN/rest": the resource part starts after the version */
    seg2 = memchr(p + (plen > 0), '/', plen - (plen > 0));
    if (plen && path[0] == '/' && seg2) {
        const char *v = seg2 + 1, *ve = memchr(v, '/', plen - (size_t)(v - path));
        size_t vn = ve ? (size_t)(ve - v) : plen - (size_t)(v - path);

        if (version_segment(v, vn))
            p = ve ? ve : path + plen;
    }
    for (char sep = ' '; p < path + plen && used < outlen;) {
        size_t n;

        while (p < path + plen && *p == '/')
            p++;
        if (p >= path + plen)
            break;
        n = strcspn(p, "/?#");
        used += (size_t)snprintf(out + used, outlen - used, "%c%.*s", sep,
                                 plain_segment(p, n) ? (int)n : 4,
                                 plain_segment(p, n) ? p : "{id}");
        sep = '/';
        p += n;
    }
}

size_t sbi_h2_stats_request(const char *op)
{
    size_t i;

    for (i = 0; i < stats.nops; i++)
        if (strcmp(stats.ops[i].op, op) == 0)
            break;
    if (i == stats.nops) {
        if (stats.nops + 1 >= SBI_H2_STATS_MAX_OPS) {
            /* the last slot is "other" */
            i = SBI_H2_STATS_MAX_OPS - 1;
            snprintf(stats.ops[i].op, sizeof(stats.ops[i].op), "other");
            stats.nops = SBI_H2_STATS_MAX_OPS;
        } else {
            snprintf(stats.ops[i].op, sizeof(stats.ops[i].op), "%s", op);
            stats.nops++;
        }
    }
    stats.ops[i].requests++;
    return i;
}

void sbi_h2_stats_outcome(size_t i, int status, sbi_h2_err_t err, uint64_t elapsed_us)
{
    sbi_h2_op_stats_t *o;
    double s = (double)elapsed_us / 1e6;

    if (i >= stats.nops)
        return;
    o = &stats.ops[i];
    if (err == SBI_H2_OK && sbi_h2_class_of(status) < SBI_H2_NCLASSES) {
        o->answers[sbi_h2_class_of(status)]++;
        o->latency_count++;
        o->latency_sum_s += s;
        if (s > o->latency_max_s)
            o->latency_max_s = s;
    } else if ((size_t)err < SBI_H2_NERRS) {
        o->errors[err]++;
    }
    if (observer)
        observer(observer_arg, o->op, err == SBI_H2_OK ? status : 0, err, elapsed_us);
}

void sbi_h2_stats_served(const char *method, int status)
{
    size_t c = sbi_h2_class_of(status);

    if (c < SBI_H2_NCLASSES)
        stats.server_requests[sbi_h2_method_index(method)][c]++;
}

void sbi_h2_stats_observe(sbi_h2_observer_cb cb, void *arg)
{
    observer = cb;
    observer_arg = cb ? arg : NULL;
}
