/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small-object allocator: size classes of up to IMS_SLAB_MAX bytes carved
 * from 64 KiB blocks, LIFO free lists per block, blocks returned to malloc
 * once empty (one spare per class is kept). Larger requests go to malloc.
 *
 * Why: libosip2 allocates every header, parameter and string on its own (a
 * few hundred allocations per call through a proxy). Under glibc's malloc
 * that churn, interleaved with the long-lived registration records, costs
 * a quarter of the proxy's CPU in _int_malloc/malloc_consolidate and leaves
 * the heap so fragmented that freed transactions cannot be given back. Here
 * an allocation is a pop and a free a push, and transient objects never
 * share pages with anything else.
 *
 * Single-threaded, like the daemons. Every object carries a 16-byte header
 * naming its block, so ims_slab_free needs no size; a pointer that did not
 * come from the slab (its header lacks the magic) is passed to free(), which
 * makes mixing with malloc'd strings in libosip2 structures harmless.
 */
#ifndef IMS_SLAB_H
#define IMS_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define IMS_SLAB_MAX 512

typedef struct ims_slab_stats {
    size_t blocks;      /* 64 KiB blocks held */
    size_t objects;     /* live small objects */
    size_t big;         /* live objects passed through to malloc */
} ims_slab_stats_t;

void *ims_slab_alloc(size_t n);
void *ims_slab_realloc(void *p, size_t n);
void ims_slab_free(void *p);
void ims_slab_stats(ims_slab_stats_t *st);

/*
 * The store (store.c): a second pool, for what lives as long as a
 * registration or a subscription. Kept apart from the transient pool and
 * from malloc so that the pages of a burst's transactions hold nothing
 * long-lived once they are done, and records pack densely, with no header
 * per object. Only store pointers may reach ims_store_free (anything else
 * aborts); never free() them. Sanitizer builds map these to malloc/free.
 */
void *ims_store_alloc(size_t n);
void *ims_store_calloc(size_t n, size_t size);
void *ims_store_realloc(void *p, size_t n);
char *ims_store_strdup(const char *s);
char *ims_store_strndup(const char *s, size_t n);
void ims_store_free(void *p);
void ims_store_stats(ims_slab_stats_t *st);

#endif
