/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which backend of ims_kv_t (common/ops/journal.h) a daemon's `store` group
 * selects, opened by one call:
 *
 *   store = { journal = "/var/lib/ims-core/scscf.journal"; ... };     the embedded
 *             journal (backend = "journal" is the default; journal.h's keys)
 *   store = { backend = "redis"; redis = "127.0.0.1:6379";
 *             redis_timeout_ms = 200; };                               Redis, shared
 *             by several instances (store_redis.h)
 *
 * No group (or a journal group without its journal key): nothing is kept.
 */
#ifndef IMS_OPS_STORE_H
#define IMS_OPS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/core/loop.h"
#include "common/ops/journal.h"
#include "common/ops/store_redis.h"

/* An opened store: kv is the interface; exactly one of journal and redis is
 * set with it (the same object), or all three are NULL. */
typedef struct ims_store {
    ims_kv_t *kv;
    ims_journal_t *journal;
    ims_redis_t *redis;
} ims_store_t;

/*
 * Read group of conf and open its backend on loop. IMS_OK with *st (st->kv
 * NULL when nothing is configured), or IMS_ERROR, logged with who ("scscf")
 * in front: a wrong key, an unusable journal, an unreachable Redis.
 * ims_kv_close(st->kv) closes it.
 */
int ims_store_start(ims_loop_t *loop, ims_conf_t *conf, const char *group, const char *who,
                    ims_store_t *st);

/* Whether several instances may share the store (they see each other's
 * writes), so that a miss may be read through. */
static inline bool ims_store_shared(const ims_store_t *st)
{
    return st->redis != NULL;
}

/* Log, once the daemon restored its records, how many (n of what) and how
 * long since t0_us (ims_clock_real_us), with what the backend adds. */
void ims_store_log_restore(const ims_store_t *st, const char *who, size_t n, const char *what,
                           uint64_t t0_us);

#endif
