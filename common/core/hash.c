/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * String-keyed hash table with separate chaining. Each entry is one
 * allocation holding the key inline and its full 64-bit hash, so a lookup
 * compares hashes before bytes and growing never rehashes a key.
 */
#include "common/core/hash.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/core/rc.h"
#include "common/core/slab.h"

#define HASH_MIN_BUCKETS 16u

typedef struct hash_entry {
    struct hash_entry *next;
    uint64_t hv;
    size_t len;
    void *value;
    char key[]; /* len bytes + NUL */
} hash_entry_t;

struct ims_hash {
    hash_entry_t **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    uint64_t k0, k1; /* SipHash key */
    bool store;      /* entries from the store pool (long-lived tables) */
    unsigned iterating; /* inside ims_hash_foreach: no resizing */
    size_t min_buckets; /* the size asked for at creation: never below it */
};

static void entry_free(const ims_hash_t *h, hash_entry_t *e)
{
    if (h->store)
        ims_store_free(e);
    else
        free(e);
}

/* ---- SipHash-1-3 (Aumasson, Bernstein) ---- */

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND             \
    do {                     \
        v0 += v1;            \
        v1 = ROTL64(v1, 13); \
        v1 ^= v0;            \
        v0 = ROTL64(v0, 32); \
        v2 += v3;            \
        v3 = ROTL64(v3, 16); \
        v3 ^= v2;            \
        v0 += v3;            \
        v3 = ROTL64(v3, 21); \
        v3 ^= v0;            \
        v2 += v1;            \
        v1 = ROTL64(v1, 17); \
        v1 ^= v2;            \
        v2 = ROTL64(v2, 32); \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t siphash13(const char *data, size_t len, uint64_t k0, uint64_t k1)
{
    const unsigned char *in = (const unsigned char *)data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)len << 56;
    size_t full = len & ~(size_t)7;

    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(in + i);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)in[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static void hash_seed(ims_hash_t *h)
{
    uint64_t k[2];

    if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
        /* No entropy yet (early boot): a weaker, still per-table key. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        k[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)h;
        k[1] = (uint64_t)ts.tv_sec ^ ROTL64(k[0], 29);
    }
    h->k0 = k[0];
    h->k1 = k[1];
}

ims_hash_t *ims_hash_new(size_t size_hint)
{
    ims_hash_t *h = calloc(1, sizeof(*h));
    size_t n = HASH_MIN_BUCKETS;

    if (!h)
        return NULL;
    while (n < size_hint && n < ((size_t)1 << 30))
        n <<= 1;
    h->buckets = calloc(n, sizeof(*h->buckets));
    if (!h->buckets) {
        free(h);
        return NULL;
    }
    h->nbuckets = n;
    h->min_buckets = n;
    hash_seed(h);
    return h;
}

void ims_hash_set_store(ims_hash_t *h)
{
    if (h && h->count == 0)
        h->store = true;
}

void ims_hash_free(ims_hash_t *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nbuckets; i++) {
        hash_entry_t *e = h->buckets[i];
        while (e) {
            hash_entry_t *next = e->next;
            entry_free(h, e);
            e = next;
        }
    }
    free(h->buckets);
    free(h);
}

/* The link pointing at the entry for key (or the chain's terminating NULL). */
static hash_entry_t **hash_slot(const ims_hash_t *h, const char *key, size_t len, uint64_t hv)
{
    hash_entry_t **pp = &h->buckets[hv & (h->nbuckets - 1)];

    for (; *pp; pp = &(*pp)->next) {
        const hash_entry_t *e = *pp;
        if (e->hv == hv && e->len == len && memcmp(e->key, key, len) == 0)
            break;
    }
    return pp;
}

/* Rehash into n buckets; on allocation failure keep the old array (the chains
 * are longer or the memory stays, nothing else). */
static void hash_resize(ims_hash_t *h, size_t n)
{
    hash_entry_t **nb = calloc(n, sizeof(*nb));

    if (!nb)
        return;
    for (size_t i = 0; i < h->nbuckets; i++) {
        hash_entry_t *e = h->buckets[i];
        while (e) {
            hash_entry_t *next = e->next;
            hash_entry_t **slot = &nb[e->hv & (n - 1)];
            e->next = *slot;
            *slot = e;
            e = next;
        }
    }
    free(h->buckets);
    h->buckets = nb;
    h->nbuckets = n;
}

/* A burst's entries are gone: give their buckets back (to twice the count,
 * not below the size asked for at creation). */
static void hash_maybe_shrink(ims_hash_t *h)
{
    size_t n = h->min_buckets;

    if (h->iterating || h->count >= h->nbuckets / 8 || h->nbuckets <= h->min_buckets)
        return;
    while (n < h->count * 2)
        n <<= 1;
    hash_resize(h, n);
}

int ims_hash_insert_n(ims_hash_t *h, const char *key, size_t len, void *value)
{
    uint64_t hv = siphash13(key, len, h->k0, h->k1);
    hash_entry_t **pp = hash_slot(h, key, len, hv);
    hash_entry_t *e;

    if (*pp)
        return IMS_DECLINED;
    e = h->store ? ims_store_alloc(sizeof(*e) + len + 1) : malloc(sizeof(*e) + len + 1);
    if (!e)
        return IMS_ERROR;
    e->next = NULL;
    e->hv = hv;
    e->len = len;
    e->value = value;
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    *pp = e;
    if (++h->count > h->nbuckets && !h->iterating)
        hash_resize(h, h->nbuckets * 2);
    return IMS_OK;
}

int ims_hash_insert(ims_hash_t *h, const char *key, void *value)
{
    return ims_hash_insert_n(h, key, strlen(key), value);
}

void *ims_hash_find_n(const ims_hash_t *h, const char *key, size_t len)
{
    uint64_t hv = siphash13(key, len, h->k0, h->k1);
    hash_entry_t **pp = hash_slot(h, key, len, hv);

    return *pp ? (*pp)->value : NULL;
}

void *ims_hash_find(const ims_hash_t *h, const char *key)
{
    return ims_hash_find_n(h, key, strlen(key));
}

void *ims_hash_remove_n(ims_hash_t *h, const char *key, size_t len)
{
    uint64_t hv = siphash13(key, len, h->k0, h->k1);
    hash_entry_t **pp = hash_slot(h, key, len, hv);
    hash_entry_t *e = *pp;
    void *value;

    if (!e)
        return NULL;
    *pp = e->next;
    value = e->value;
    entry_free(h, e);
    h->count--;
    hash_maybe_shrink(h);
    return value;
}

void *ims_hash_remove(ims_hash_t *h, const char *key)
{
    return ims_hash_remove_n(h, key, strlen(key));
}

size_t ims_hash_count(const ims_hash_t *h)
{
    return h->count;
}

size_t ims_hash_buckets(const ims_hash_t *h)
{
    return h->nbuckets;
}

void ims_hash_foreach(const ims_hash_t *ch, ims_hash_iter_cb cb, void *arg)
{
    /* cb may remove entries: the array must hold still meanwhile. */
    ims_hash_t *h = (ims_hash_t *)ch;

    h->iterating++;
    for (size_t i = 0; i < h->nbuckets; i++) {
        hash_entry_t *e = h->buckets[i];
        while (e) {
            hash_entry_t *next = e->next;
            cb(arg, e->key, e->value);
            e = next;
        }
    }
    h->iterating--;
    hash_maybe_shrink(h);
}
