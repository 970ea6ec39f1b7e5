/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Size-class slab allocator (see slab.h for why). A block is 64 KiB of one
 * class: a header, then objects laid out by a bump pointer and recycled
 * through the block's own free list. Blocks with room are on their class's
 * partial list; a block that empties goes back to malloc unless it is its
 * class's last, so a burst leaves nothing behind but one block per class.
 */
#include "common/core/slab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SLAB_BLOCK   (64u * 1024u)
#define SLAB_MAGIC   0x51ab0bu
#define SLAB_BIG     0xffffu
#define SLAB_NCLASS  16

typedef struct slab_block slab_block_t;

/* Before every object; 16 bytes, so payloads keep malloc's alignment. */
typedef struct slab_hdr {
    slab_block_t *block;   /* NULL for a big (malloc'd) object */
    uint32_t magic;
    uint16_t cls;
    uint16_t pad;
} slab_hdr_t;

typedef struct slab_free {
    struct slab_free *next;
} slab_free_t;

struct slab_block {
    slab_block_t *prev, *next; /* on the class's partial list */
    slab_free_t *free;         /* recycled objects (their payloads) */
    uint32_t used;             /* live objects */
    uint32_t bump;             /* offset of the next never-used slot */
    uint16_t cls;
    uint8_t pool;              /* SLAB_TRANSIENT or SLAB_STORE */
    bool partial;              /* on the partial list */
    bool carved;               /* the bump pointer has no room left */
};

typedef struct slab_class {
    slab_block_t *partial;
    size_t nblocks;
} slab_class_t;

static const uint32_t g_size[SLAB_NCLASS] = {
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
};
/* One pool today (what libosip2 parses and builds, living for a
 * transaction); the store, for what lives as long as a registration, is
 * store.c. */
enum { SLAB_TRANSIENT, SLAB_POOLS };

typedef struct slab_pool {
    slab_class_t cls[SLAB_NCLASS];
    size_t objects, big;
} slab_pool_t;

static slab_pool_t g_pool[SLAB_POOLS];

/* The class for n payload bytes (n <= IMS_SLAB_MAX). */
static unsigned class_of(size_t n)
{
    static const uint8_t by16[IMS_SLAB_MAX / 16 + 1] = {
        0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 10, 10, 11, 11,
        12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15,
    };

    return by16[(n + 15) / 16];
}

#define SLAB_FIRST ((uint32_t)((sizeof(slab_block_t) + 15) & ~(size_t)15))

static void partial_add(slab_class_t *c, slab_block_t *b)
{
    b->prev = NULL;
    b->next = c->partial;
    if (c->partial)
        c->partial->prev = b;
    c->partial = b;
    b->partial = true;
}

static void partial_del(slab_class_t *c, slab_block_t *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        c->partial = b->next;
    if (b->next)
        b->next->prev = b->prev;
    b->prev = b->next = NULL;
    b->partial = false;
}

static slab_block_t *block_new(slab_pool_t *pool, unsigned cls)
{
    slab_block_t *b = malloc(SLAB_BLOCK);

    if (!b)
        return NULL;
    memset(b, 0, sizeof(*b));
    b->cls = (uint16_t)cls;
    b->pool = (uint8_t)(pool - g_pool);
    b->bump = SLAB_FIRST;
    pool->cls[cls].nblocks++;
    partial_add(&pool->cls[cls], b);
    return b;
}

/* The slow half of alloc_small: a new block, or a slot never used before. */
static __attribute__((noinline)) void *alloc_carve(slab_pool_t *pool, unsigned cls)
{
    slab_class_t *c = &pool->cls[cls];
    uint32_t stride = (uint32_t)sizeof(slab_hdr_t) + g_size[cls];
    slab_block_t *b = c->partial ? c->partial : block_new(pool, cls);
    slab_hdr_t *h;

    if (!b)
        return NULL;
    h = (slab_hdr_t *)((char *)b + b->bump);
    b->bump += stride;
    b->carved = b->bump + stride > SLAB_BLOCK;
    h->block = b;
    h->magic = SLAB_MAGIC;
    h->cls = (uint16_t)cls;
    b->used++;
    if (b->carved)
        partial_del(c, b);
    pool->objects++;
    return h + 1;
}

/* The fast path, a pop from the first partial block's free list, is what
 * nearly every allocation takes: it is kept free of anything else. */
static inline void *alloc_small(slab_pool_t *pool, unsigned cls)
{
    slab_class_t *c = &pool->cls[cls];
    slab_block_t *b = c->partial;
    slab_free_t *f;

    if (__builtin_expect(b == NULL || (f = b->free) == NULL, 0))
        return alloc_carve(pool, cls);
    b->free = f->next;
    b->used++;
    pool->objects++;
    if (__builtin_expect(b->free == NULL && b->carved, 0))
        partial_del(c, b);
    return f;
}

static void *pool_alloc(slab_pool_t *pool, size_t n)
{
    slab_hdr_t *h;

    if (n <= IMS_SLAB_MAX)
        return alloc_small(pool, class_of(n));
    if (n > SIZE_MAX - sizeof(*h) || !(h = malloc(sizeof(*h) + n)))
        return NULL;
    h->block = NULL;
    h->magic = SLAB_MAGIC;
    h->cls = SLAB_BIG;
    h->pad = (uint16_t)(pool - g_pool);
    pool->big++;
    return h + 1;
}

void *ims_slab_alloc(size_t n)
{
    return pool_alloc(&g_pool[SLAB_TRANSIENT], n);
}

static slab_hdr_t *hdr_of(void *p)
{
    slab_hdr_t *h = (slab_hdr_t *)p - 1;

    return h->magic == SLAB_MAGIC ? h : NULL;
}

/* The slow half of ims_slab_free: not a slab object, or its block changes
 * lists (it was full, or it is now empty). */
static __attribute__((noinline)) void free_other(void *p)
{
    slab_hdr_t *h = hdr_of(p);

    if (!h) {
        free(p); /* not ours: a malloc'd string handed to libosip2 */
        return;
    }
    h->magic = 0;
    g_pool[h->pad].big--;
    free(h);
}

static __attribute__((noinline)) void block_relist(slab_block_t *b)
{
    slab_class_t *c = &g_pool[b->pool].cls[b->cls];

    if (b->used == 0 && c->nblocks > 1) {
        if (b->partial)
            partial_del(c, b);
        c->nblocks--;
        free(b);
        return;
    }
    if (!b->partial)
        partial_add(c, b);
}

void ims_slab_free(void *p)
{
    slab_hdr_t *h;
    slab_block_t *b;

    if (!p)
        return;
    h = (slab_hdr_t *)p - 1;
    if (__builtin_expect(h->magic != SLAB_MAGIC || (b = h->block) == NULL, 0)) {
        free_other(p);
        return;
    }
    ((slab_free_t *)p)->next = b->free;
    b->free = p;
    b->used--;
    g_pool[b->pool].objects--;
    if (__builtin_expect(b->used == 0 || !b->partial, 0))
        block_relist(b);
}

static void *pool_realloc(slab_pool_t *pool, void *p, size_t n)
{
    slab_hdr_t *h;
    size_t have;
    void *q;

    if (!p)
        return pool_alloc(pool, n);
    if (!(h = hdr_of(p)))
        return realloc(p, n);
    if (h->block) {
        have = g_size[h->cls];
        if (n <= have)
            return p;
        pool = &g_pool[h->block->pool];
    } else {
        if (n > SIZE_MAX - sizeof(*h) || !(q = realloc(h, sizeof(*h) + n)))
            return NULL;
        return (slab_hdr_t *)q + 1;
    }
    if (!(q = pool_alloc(pool, n)))
        return NULL;
    memcpy(q, p, have);
    ims_slab_free(p);
    return q;
}

void *ims_slab_realloc(void *p, size_t n)
{
    return pool_realloc(&g_pool[SLAB_TRANSIENT], p, n);
}

static void pool_stats(const slab_pool_t *pool, ims_slab_stats_t *st)
{
    st->blocks = 0;
    for (unsigned i = 0; i < SLAB_NCLASS; i++)
        st->blocks += pool->cls[i].nblocks;
    st->objects = pool->objects;
    st->big = pool->big;
}

void ims_slab_stats(ims_slab_stats_t *st)
{
    pool_stats(&g_pool[SLAB_TRANSIENT], st);
}
