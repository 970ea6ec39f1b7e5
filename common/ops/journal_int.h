/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The insides of the journal backend (journal.h), shared by journal.c (the
 * tables, records, replay) and journal_compact.c (rewriting the file with
 * only the live records). Not for other files.
 *
 * The file: J_MAGIC, then records of a header (u32 body length, u32 CRC-32
 * of the body, little endian) and a body (op, table length, u16 key length,
 * u32 value length, u64 expiry in wall ms, then table, key and value).
 */
#ifndef IMS_JOURNAL_INT_H
#define IMS_JOURNAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/hash.h"
#include "common/core/loop.h"
#include "common/ops/journal.h"

#define J_MAGIC "IMSJRNL1"
#define J_MAGIC_LEN 8
#define J_HDR 8                       /* u32 body length, u32 CRC */
#define J_FIXED 16                    /* op, tlen, klen, vlen, expires */
#define J_MAX_BODY (J_FIXED + IMS_KV_MAX_TABLE + IMS_KV_MAX_KEY + IMS_KV_MAX_VALUE)
#define J_MAX_FILE (1ull << 30)       /* replay reads the file whole: bounded */
#define J_OP_PUT 1
#define J_OP_DEL 2

/* A live record: table \0 key \0 value, in one allocation. */
typedef struct jent {
    uint64_t expires;
    uint32_t vlen;
    uint16_t klen;
    uint8_t tlen;
    char data[];
} jent_t;

struct ims_journal {
    ims_kv_t kv;                      /* first: the interface */
    ims_journal_cfg_t cfg;
    ims_loop_t *loop;
    ims_timer_t sync_timer;
    int fd;
    bool dirty;                       /* written since the last fdatasync */
    ims_hash_t *tab;                  /* "table\0key" -> jent_t */
    ims_journal_stats_t st;
};

static inline const char *ims_jent_key(const jent_t *e)
{
    return e->data + e->tlen + 1;
}

static inline const void *ims_jent_val(const jent_t *e)
{
    return e->data + e->tlen + 1 + e->klen + 1;
}

/* journal.c: encode one record (op J_OP_PUT/J_OP_DEL, table t and key k of
 * tl/kl bytes, value v of vl bytes, expiry exp) at the end of b. */
void ims_journal_encode(ims_kv_buf_t *b, int op, const char *t, size_t tl, const char *k,
                        size_t kl, const void *v, size_t vl, uint64_t exp);

/* journal_compact.c: compact j when the file has grown past compact_min and
 * compact_factor times its live size (after a write, and at open). */
void ims_journal_compact_due(ims_journal_t *j);

#endif
