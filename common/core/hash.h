/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A string-keyed hash table: key -> void *, separate chaining, doubling when
 * the load factor passes 1. Keys are copied into the table; values belong to
 * the caller and are never freed here.
 *
 * Keys often come from the network (Via branches, Call-IDs), so the hash is
 * SipHash-1-3 with a random per-table key: an attacker cannot precompute keys
 * that all land in one chain.
 */
#ifndef IMS_HASH_H
#define IMS_HASH_H

#include <stddef.h>

typedef struct ims_hash ims_hash_t;

/* size_hint: expected entries (0: a small default). NULL on allocation failure. */
ims_hash_t *ims_hash_new(size_t size_hint);
/* Frees the table and its keys; values are left to the caller. NULL is a no-op. */
void ims_hash_free(ims_hash_t *h);
/* Entries of h (still empty) come from the store pool (common/core/slab.h):
 * for tables that live as long as their registrations do. */
void ims_hash_set_store(ims_hash_t *h);

/* Add key (len bytes, need not be NUL-terminated; copied) -> value.
 * IMS_OK; IMS_DECLINED when the key is already present (table unchanged);
 * IMS_ERROR on allocation failure. */
int ims_hash_insert_n(ims_hash_t *h, const char *key, size_t len, void *value);
int ims_hash_insert(ims_hash_t *h, const char *key, void *value);

/* The value stored under key, or NULL. */
void *ims_hash_find_n(const ims_hash_t *h, const char *key, size_t len);
void *ims_hash_find(const ims_hash_t *h, const char *key);

/* Remove key; returns its value, or NULL when absent. */
void *ims_hash_remove_n(ims_hash_t *h, const char *key, size_t len);
void *ims_hash_remove(ims_hash_t *h, const char *key);

size_t ims_hash_count(const ims_hash_t *h);
/* Size of the bucket array: doubles as entries come, halves (not below the
 * size asked for) when they drop under an eighth of it. */
size_t ims_hash_buckets(const ims_hash_t *h);

/* Call cb for every entry, in no particular order. cb must not insert into or
 * remove from h (it may free the value). */
typedef void (*ims_hash_iter_cb)(void *arg, const char *key, void *value);
void ims_hash_foreach(const ims_hash_t *h, ims_hash_iter_cb cb, void *arg);

#endif
