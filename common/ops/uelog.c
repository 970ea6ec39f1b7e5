/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The per-UE event log: one array of slots, a chained index by IMPI (bucket
 * heads and chain links are slot indices, so nothing is allocated after
 * ims_uelog_new) and a doubly linked LRU list through the slots, most recent
 * first. Recording is O(1) on average; finding by IMPU or address scans the
 * slots, which is for the control socket only.
 */
#include "common/ops/uelog.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"

struct ims_uelog {
    ims_uelog_ue_t *ue;
    size_t max, used;
    int32_t *bucket;        /* nbuckets heads, -1: empty */
    size_t nbuckets;        /* a power of two */
    int32_t lru_head, lru_tail;
};

static size_t bucket_of(const ims_uelog_t *log, const char *impi)
{
    uint32_t h = 2166136261u;   /* FNV-1a */

    for (const unsigned char *p = (const unsigned char *)impi; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h & (log->nbuckets - 1);
}

ims_uelog_t *ims_uelog_new(size_t max_ues)
{
    ims_uelog_t *log;

    if (max_ues == 0 || max_ues > INT32_MAX / 4)
        return NULL;
    if (!(log = calloc(1, sizeof(*log))) || !(log->ue = calloc(max_ues, sizeof(*log->ue))))
        abort();
    log->max = max_ues;
    for (log->nbuckets = 16; log->nbuckets < 2 * max_ues; log->nbuckets *= 2)
        ;
    if (!(log->bucket = malloc(log->nbuckets * sizeof(*log->bucket))))
        abort();
    for (size_t i = 0; i < log->nbuckets; i++)
        log->bucket[i] = -1;
    log->lru_head = log->lru_tail = -1;
    return log;
}

void ims_uelog_free(ims_uelog_t *log)
{
    if (!log)
        return;
    free(log->bucket);
    free(log->ue);
    free(log);
}

size_t ims_uelog_count(const ims_uelog_t *log)
{
    return log ? log->used : 0;
}

/* ---- the LRU list ---- */

static void lru_unlink(ims_uelog_t *log, int32_t i)
{
    ims_uelog_ue_t *u = &log->ue[i];

    if (u->lru_prev >= 0)
        log->ue[u->lru_prev].lru_next = u->lru_next;
    else
        log->lru_head = u->lru_next;
    if (u->lru_next >= 0)
        log->ue[u->lru_next].lru_prev = u->lru_prev;
    else
        log->lru_tail = u->lru_prev;
    u->lru_prev = u->lru_next = -1;
}

static void lru_push_front(ims_uelog_t *log, int32_t i)
{
    ims_uelog_ue_t *u = &log->ue[i];

    u->lru_prev = -1;
    u->lru_next = log->lru_head;
    if (log->lru_head >= 0)
        log->ue[log->lru_head].lru_prev = i;
    log->lru_head = i;
    if (log->lru_tail < 0)
        log->lru_tail = i;
}

/* ---- the index by IMPI ---- */

static int32_t index_find(const ims_uelog_t *log, const char *impi)
{
    for (int32_t i = log->bucket[bucket_of(log, impi)]; i >= 0; i = log->ue[i].hnext)
        if (strcmp(log->ue[i].impi, impi) == 0)
            return i;
    return -1;
}

static void index_remove(ims_uelog_t *log, int32_t i)
{
    int32_t *link = &log->bucket[bucket_of(log, log->ue[i].impi)];

    while (*link >= 0 && *link != i)
        link = &log->ue[*link].hnext;
    if (*link == i)
        *link = log->ue[i].hnext;
    log->ue[i].hnext = -1;
}

/* A slot for a UE not in the log: a never used one, else the LRU one emptied. */
static int32_t take_slot(ims_uelog_t *log, const char *impi)
{
    int32_t i;
    size_t b;

    if (log->used < log->max) {
        i = (int32_t)log->used++;
    } else {
        i = log->lru_tail;
        index_remove(log, i);
        lru_unlink(log, i);
    }
    memset(&log->ue[i], 0, sizeof(log->ue[i]));
    snprintf(log->ue[i].impi, sizeof(log->ue[i].impi), "%s", impi);
    b = bucket_of(log, log->ue[i].impi);
    log->ue[i].hnext = log->bucket[b];
    log->bucket[b] = i;
    log->ue[i].lru_prev = log->ue[i].lru_next = -1;
    return i;
}

void ims_uelog_add(ims_uelog_t *log, const char *impi, const char *impu, const char *addr,
                   uint8_t kind, uint32_t code, const char *fmt, ...)
{
    char key[IMS_UELOG_ID_MAX];
    ims_uelog_event_t *ev;
    ims_uelog_ue_t *u;
    va_list ap;
    int32_t i;

    if (!log || !impi || !impi[0])
        return;
    snprintf(key, sizeof(key), "%s", impi);   /* the key as the slot keeps it */
    if ((i = index_find(log, key)) < 0)
        i = take_slot(log, key);
    else
        lru_unlink(log, i);
    lru_push_front(log, i);
    u = &log->ue[i];
    if (impu && impu[0])
        snprintf(u->impu, sizeof(u->impu), "%s", impu);
    if (addr && addr[0])
        snprintf(u->addr, sizeof(u->addr), "%s", addr);
    if (u->nev < IMS_UELOG_EVENTS) {
        ev = &u->ev[(u->head + u->nev++) % IMS_UELOG_EVENTS];
    } else {
        ev = &u->ev[u->head];
        u->head = (uint8_t)((u->head + 1) % IMS_UELOG_EVENTS);
    }
    ev->at_ms = u->last_ms = ims_clock_now_ms();
    ev->kind = kind;
    ev->code = code;
    va_start(ap, fmt);
    vsnprintf(ev->detail, sizeof(ev->detail), fmt, ap);
    va_end(ap);
}

const ims_uelog_event_t *ims_uelog_event(const ims_uelog_ue_t *ue, int i)
{
    if (!ue || i < 0 || i >= ue->nev)
        return NULL;
    return &ue->ev[(ue->head + i) % IMS_UELOG_EVENTS];
}

/* ---- finding ---- */

/* The host of an address "ip:port", "[v6]:port", "ip" or "[v6]" into out. */
static void addr_host(const char *addr, char *out, size_t outlen)
{
    const char *end;
    size_t n;

    if (addr[0] == '[') {
        end = strchr(addr, ']');
        n = end ? (size_t)(end - addr - 1) : strlen(addr + 1);
        addr++;
    } else {
        end = strchr(addr, ':');
        /* a second ':' means a bare IPv6 address: no port to strip */
        n = end && !strchr(end + 1, ':') ? (size_t)(end - addr) : strlen(addr);
    }
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, addr, n);
    out[n] = '\0';
}

static bool addr_matches(const char *addr, const char *what)
{
    char a[IMS_UELOG_ADDR_MAX], w[IMS_UELOG_ADDR_MAX];
    size_t n = strlen(what);

    if (!addr[0])
        return false;
    if (strcmp(addr, what) == 0)
        return true;
    addr_host(what, w, sizeof(w));
    /* only a bare host matches by host: "ip:port" must match exactly */
    if (strcmp(w, what) != 0 && !(what[0] == '[' && n > 1 && what[n - 1] == ']'))
        return false;
    addr_host(addr, a, sizeof(a));
    return strcmp(a, w) == 0;
}

/* The most recent UE whose field (0 IMPU, 1 address) matches what; *n counts them. */
static const ims_uelog_ue_t *scan(const ims_uelog_t *log, int field, const char *what, int *n)
{
    const ims_uelog_ue_t *best = NULL;

    *n = 0;
    for (int32_t i = log->lru_head; i >= 0; i = log->ue[i].lru_next) {
        const ims_uelog_ue_t *u = &log->ue[i];
        bool hit = field == 0 ? strcmp(u->impu, what) == 0 : addr_matches(u->addr, what);

        if (hit && (*n)++ == 0)
            best = u;   /* the list runs most recent first */
    }
    return best;
}

const ims_uelog_ue_t *ims_uelog_find(const ims_uelog_t *log, const char *what, int *nmatch)
{
    const ims_uelog_ue_t *u = NULL;
    int n = 0;
    int32_t i;

    if (log && what && what[0]) {
        char key[IMS_UELOG_ID_MAX];

        snprintf(key, sizeof(key), "%s", what);   /* as ims_uelog_add keeps IMPIs */
        if ((i = index_find(log, key)) >= 0) {
            u = &log->ue[i];
            n = 1;
        } else if (!(u = scan(log, 0, what, &n))) {
            u = scan(log, 1, what, &n);
        }
    }
    if (nmatch)
        *nmatch = n;
    return u;
}
