/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * State that survives restarts: a small key-value interface (ims_kv_t) and
 * its embedded backend, in-memory tables with an append-only journal.
 *
 * The interface is what a daemon codes against: records {table, key, value
 * bytes, expiry} put and deleted one at a time, read back by key or by
 * walking one table (at start, to restore). A Redis backend implements the
 * same five operations (SET "table:key" value PXAT expiry, DEL, GET, SCAN
 * MATCH "table:*"), so the CSCFs do not change when several instances share
 * their state.
 *
 * The journal backend keeps every live record in memory and appends each put
 * or delete to one file, a record per change with a CRC-32 over it:
 *
 *   file   = "IMSJRNL1" record*
 *   record = u32 body_len, u32 crc32(body), body          (little-endian)
 *   body   = u8 op (1 put, 2 del), u8 table_len, u16 key_len, u32 value_len,
 *            u64 expires (wall clock, ms since the epoch; 0: never),
 *            table, key, value
 *
 * Each record is written with one write(2) before the call returns, so the
 * kernel has it when a process is killed (SIGKILL loses nothing already put);
 * the fsync policy only decides what a power loss may take: none (the kernel's
 * writeback), interval (fdatasync every fsync_ms while there is something
 * unsynced) or always (fdatasync after each record, ~ms each on a disk).
 *
 * Opening replays the file: it stops at the first record that is torn (a
 * crash in the middle of a write) or fails its CRC or its bounds, truncates
 * the file there and keeps everything before it. Records whose expiry has
 * passed are not restored.
 *
 * Compaction: when the file grows past compact_factor times the bytes its
 * live records need (and past compact_min), the live records are written to
 * "<path>.tmp", synced, and renamed over the journal: the new file is a
 * snapshot, and new records append to it (the fresh journal). A crash at any
 * point leaves either the old or the new file whole. Compaction is
 * synchronous: for thousands of records (a few MB) it takes milliseconds,
 * which the loop can afford; with millions it would need a child process.
 */
#ifndef IMS_OPS_JOURNAL_H
#define IMS_OPS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/core/loop.h"

#define IMS_KV_MAX_TABLE 64          /* bytes of a table name */
#define IMS_KV_MAX_KEY 1024          /* bytes of a key */
#define IMS_KV_MAX_VALUE (1u << 20)  /* bytes of a value */

/* ---- the interface ---- */

/* One record of a walk: key (NUL-terminated), value bytes, expiry (ms, 0: never). */
typedef void (*ims_kv_iter_cb)(void *arg, const char *key, const void *val, size_t len,
                               uint64_t expires_ms);

typedef struct ims_kv ims_kv_t;

typedef struct ims_kv_ops {
    int (*put)(ims_kv_t *kv, const char *table, const char *key, const void *val, size_t len,
               uint64_t expires_ms);
    int (*del)(ims_kv_t *kv, const char *table, const char *key);
    const void *(*get)(ims_kv_t *kv, const char *table, const char *key, size_t *len);
    void (*foreach)(ims_kv_t *kv, const char *table, ims_kv_iter_cb cb, void *arg);
    void (*close)(ims_kv_t *kv);
} ims_kv_ops_t;

/* A backend embeds this as its first member. */
struct ims_kv {
    const ims_kv_ops_t *ops;
};

/*
 * Store val (len bytes, copied) under table/key, replacing what was there;
 * expires_ms is wall-clock ms (ims_wall_ms), 0 for never. The change is
 * durable against a killed process when this returns IMS_OK; IMS_ERROR: too
 * long, or the backend could not write (logged; the old value stays).
 */
static inline int ims_kv_put(ims_kv_t *kv, const char *table, const char *key, const void *val,
                             size_t len, uint64_t expires_ms)
{
    return kv->ops->put(kv, table, key, val, len, expires_ms);
}

/* Delete table/key: IMS_OK, IMS_DECLINED when absent (nothing written), IMS_ERROR. */
static inline int ims_kv_del(ims_kv_t *kv, const char *table, const char *key)
{
    return kv->ops->del(kv, table, key);
}

/* The value of table/key (owned by the store, valid until the next change of
 * that key), or NULL. */
static inline const void *ims_kv_get(ims_kv_t *kv, const char *table, const char *key,
                                     size_t *len)
{
    return kv->ops->get(kv, table, key, len);
}

/* Call cb for every unexpired record of table; cb must not change the store. */
static inline void ims_kv_foreach(ims_kv_t *kv, const char *table, ims_kv_iter_cb cb,
                                  void *arg)
{
    kv->ops->foreach(kv, table, cb, arg);
}

/* Flush and free. NULL is a no-op. */
static inline void ims_kv_close(ims_kv_t *kv)
{
    if (kv)
        kv->ops->close(kv);
}

/* Wall-clock milliseconds since the epoch (expiry survives a restart; the
 * monotonic clock does not survive a reboot). */
uint64_t ims_wall_ms(void);

/* ---- the journal backend ---- */

typedef enum ims_fsync {
    IMS_FSYNC_NONE = 0,
    IMS_FSYNC_INTERVAL,
    IMS_FSYNC_ALWAYS
} ims_fsync_t;

typedef struct ims_journal_cfg {
    char path[256];
    ims_fsync_t fsync;
    uint32_t fsync_ms;           /* interval policy; default 100 */
    uint32_t compact_factor;     /* k; default 4 */
    uint64_t compact_min;        /* bytes below which no compaction; default 1 MiB */
} ims_journal_cfg_t;

typedef struct ims_journal_stats {
    uint64_t records;            /* live records */
    uint64_t live_bytes;         /* what a compacted file of them takes */
    uint64_t file_bytes;
    uint64_t replayed;           /* records read at open */
    uint64_t expired;            /* records at open whose expiry had passed */
    uint64_t torn_bytes;         /* bytes cut off the tail at open */
    uint64_t compactions, fsyncs, write_errors;
} ims_journal_stats_t;

typedef struct ims_journal ims_journal_t;

/* Defaults (path empty, fsync interval 100 ms, k = 4, 1 MiB). */
void ims_journal_cfg_defaults(ims_journal_cfg_t *c);

/*
 * Read the group `group` of conf: { journal = "path"; fsync = "none" |
 * "interval" | "always"; fsync_ms = N; compact_factor = k; compact_min = bytes; }.
 * IMS_OK; IMS_DECLINED when the group (or its journal key) is absent;
 * IMS_ERROR with "file:line: key: why" in err.
 */
int ims_journal_conf(ims_conf_t *conf, const char *group, ims_journal_cfg_t *c, char *err,
                     size_t errlen);

/*
 * Open (creating it) and replay the journal of cfg. loop drives the interval
 * fsync (NULL: no timer, the interval policy syncs at close only). NULL on
 * failure with the reason in err: unreadable file, not a journal, no room.
 */
ims_journal_t *ims_journal_open(ims_loop_t *loop, const ims_journal_cfg_t *cfg, char *err,
                                size_t errlen);
/*
 * What a daemon's start does: read group of conf (ims_journal_conf) and open
 * it. IMS_OK with *j (NULL when the group is absent: nothing to keep), or
 * IMS_ERROR, logged with who ("scscf") in front.
 */
int ims_journal_start(ims_loop_t *loop, ims_conf_t *conf, const char *group, const char *who,
                      ims_journal_t **j);
/* Log, once the daemon restored its records, how many (n of what), how long
 * since t0_us (ims_clock_real_us) and what the replay found. */
void ims_journal_log_restore(const ims_journal_t *j, const char *who, size_t n,
                             const char *what, uint64_t t0_us);
/* The journal as the generic interface (same object; ims_kv_close closes it). */
ims_kv_t *ims_journal_kv(ims_journal_t *j);
/* Write the live records into a fresh file now. IMS_OK or IMS_ERROR (the old
 * file is kept). */
int ims_journal_compact(ims_journal_t *j);
void ims_journal_stats(const ims_journal_t *j, ims_journal_stats_t *st);

/* ---- value encoding helpers for the users of the interface ---- */

/* A growable buffer (malloc'd; aborts on allocation failure). */
typedef struct ims_kv_buf {
    uint8_t *p;
    size_t len, cap;
} ims_kv_buf_t;

void ims_kv_buf_u8(ims_kv_buf_t *b, uint8_t v);
void ims_kv_buf_u32(ims_kv_buf_t *b, uint32_t v);
void ims_kv_buf_u64(ims_kv_buf_t *b, uint64_t v);
/* u16 length then the bytes; NULL is stored as the empty string; longer than
 * 65535 bytes is cut (callers keep their strings far shorter). */
void ims_kv_buf_str(ims_kv_buf_t *b, const char *s);
void ims_kv_buf_free(ims_kv_buf_t *b);

/* A bounded reader over a stored value; every getter fails (IMS_ERROR) once
 * the value is exhausted or malformed, and stays failed. */
typedef struct ims_kv_rd {
    const uint8_t *p;
    size_t len, off;
    bool bad;
} ims_kv_rd_t;

void ims_kv_rd_init(ims_kv_rd_t *r, const void *val, size_t len);
int ims_kv_rd_u8(ims_kv_rd_t *r, uint8_t *v);
int ims_kv_rd_u32(ims_kv_rd_t *r, uint32_t *v);
int ims_kv_rd_u64(ims_kv_rd_t *r, uint64_t *v);
/* A string into out (NUL-terminated); IMS_ERROR when it does not fit. */
int ims_kv_rd_str(ims_kv_rd_t *r, char *out, size_t outlen);

#endif
