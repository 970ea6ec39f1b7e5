/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The store pool (slab.h): what lives as long as a registration. Same idea
 * as the transient slab, minus the per-object header: blocks are 64 KiB
 * aligned, so an object's block is its address rounded down, and nothing
 * but the store's own pointers ever reaches ims_store_free (unlike the
 * transient pool, which libosip2 may hand a malloc'd string). A registered
 * user is a handful of small records; 16 bytes of header on each was a
 * tenth of its memory.
 *
 * Objects up to STORE_MAX bytes share blocks of their size class; a larger
 * one gets a block (of as many 64 KiB units as it needs) to itself.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/slab.h"

#define STORE_BLOCK  (64u * 1024u)
#define STORE_MAGIC  0x5702eb0cu
#define STORE_NCLASS 21
#define STORE_BIG    0xffffu
#define STORE_MAX    2048u

#ifndef IMS_SANITIZED
typedef struct store_block store_block_t;

typedef struct store_free {
    struct store_free *next;
} store_free_t;

struct store_block {
    uint32_t magic;
    uint16_t cls;              /* STORE_BIG: one object, size bytes */
    bool partial;
    store_block_t *prev, *next; /* on the class's partial list */
    store_free_t *free;
    uint32_t used, bump;
    size_t size;               /* big: the object's size */
};

#define STORE_FIRST ((uint32_t)((sizeof(store_block_t) + 15) & ~(size_t)15))

static const uint32_t g_size[STORE_NCLASS] = {
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
    640, 768, 1024, 1536, 2048,
};

static struct {
    store_block_t *partial[STORE_NCLASS];
    size_t nblocks[STORE_NCLASS];
    size_t objects, big;
} g_store;

static unsigned class_of(size_t n)
{
    unsigned c = 0;

    while (g_size[c] < n)
        c++;
    return c;
}

static store_block_t *block_of(const void *p)
{
    store_block_t *b = (store_block_t *)((uintptr_t)p & ~(uintptr_t)(STORE_BLOCK - 1));

    if (b->magic != STORE_MAGIC)
        abort(); /* not a store pointer: a bug, and freeing it would corrupt memory */
    return b;
}

static void partial_add(unsigned cls, store_block_t *b)
{
    b->prev = NULL;
    b->next = g_store.partial[cls];
    if (b->next)
        b->next->prev = b;
    g_store.partial[cls] = b;
    b->partial = true;
}

static void partial_del(unsigned cls, store_block_t *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        g_store.partial[cls] = b->next;
    if (b->next)
        b->next->prev = b->prev;
    b->prev = b->next = NULL;
    b->partial = false;
}

static store_block_t *block_new(size_t bytes, uint16_t cls)
{
    store_block_t *b = aligned_alloc(STORE_BLOCK, bytes);

    if (!b)
        return NULL;
    memset(b, 0, sizeof(*b));
    b->magic = STORE_MAGIC;
    b->cls = cls;
    b->bump = STORE_FIRST;
    return b;
}

static void *alloc_big(size_t n)
{
    size_t bytes;
    store_block_t *b;

    if (n > SIZE_MAX - STORE_FIRST - STORE_BLOCK)
        return NULL;
    bytes = (STORE_FIRST + n + STORE_BLOCK - 1) & ~(size_t)(STORE_BLOCK - 1);
    if (!(b = block_new(bytes, STORE_BIG)))
        return NULL;
    b->size = n;
    g_store.big++;
    return (char *)b + STORE_FIRST;
}

static void *alloc_small(unsigned cls)
{
    store_block_t *b = g_store.partial[cls];
    void *p;

    if (!b) {
        if (!(b = block_new(STORE_BLOCK, (uint16_t)cls)))
            return NULL;
        g_store.nblocks[cls]++;
        partial_add(cls, b);
    }
    if (b->free) {
        p = b->free;
        b->free = b->free->next;
    } else {
        p = (char *)b + b->bump;
        b->bump += g_size[cls];
    }
    b->used++;
    if (!b->free && b->bump + g_size[cls] > STORE_BLOCK)
        partial_del(cls, b);
    g_store.objects++;
    return p;
}

void *ims_store_alloc(size_t n)
{
    if (n == 0)
        n = 1;
    return n <= STORE_MAX ? alloc_small(class_of(n)) : alloc_big(n);
}

void ims_store_free(void *p)
{
    store_block_t *b;

    if (!p)
        return;
    b = block_of(p);
    if (b->cls == STORE_BIG) {
        g_store.big--;
        b->magic = 0;
        free(b);
        return;
    }
    ((store_free_t *)p)->next = b->free;
    b->free = p;
    b->used--;
    g_store.objects--;
    if (b->used == 0 && g_store.nblocks[b->cls] > 1) {
        if (b->partial)
            partial_del(b->cls, b);
        g_store.nblocks[b->cls]--;
        b->magic = 0;
        free(b);
    } else if (!b->partial) {
        partial_add(b->cls, b);
    }
}

void *ims_store_realloc(void *p, size_t n)
{
    store_block_t *b;
    size_t have;
    void *q;

    if (!p)
        return ims_store_alloc(n);
    b = block_of(p);
    have = b->cls == STORE_BIG ? b->size : g_size[b->cls];
    if (n <= have && (b->cls != STORE_BIG || n > STORE_MAX))
        return p;
    if (!(q = ims_store_alloc(n)))
        return NULL;
    memcpy(q, p, have < n ? have : n);
    ims_store_free(p);
    return q;
}

void ims_store_stats(ims_slab_stats_t *st)
{
    st->blocks = 0;
    for (unsigned i = 0; i < STORE_NCLASS; i++)
        st->blocks += g_store.nblocks[i];
    st->blocks += g_store.big;
    st->objects = g_store.objects;
    st->big = g_store.big;
}
#else
/* ASan and valgrind must see every record: plain malloc. */
void *ims_store_alloc(size_t n)
{
    return malloc(n);
}

void *ims_store_realloc(void *p, size_t n)
{
    return realloc(p, n);
}

void ims_store_free(void *p)
{
    free(p);
}

void ims_store_stats(ims_slab_stats_t *st)
{
    memset(st, 0, sizeof(*st));
}
#endif

void *ims_store_calloc(size_t n, size_t size)
{
    void *p;

    if (size && n > SIZE_MAX / size)
        return NULL;
    if ((p = ims_store_alloc(n * size)) != NULL)
        memset(p, 0, n * size);
    return p;
}

char *ims_store_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = ims_store_alloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

char *ims_store_strndup(const char *s, size_t n)
{
    char *d = ims_store_alloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}
