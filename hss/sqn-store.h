/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-subscriber AKA sequence numbers that are never reused across restarts,
 * persisted in blocks (see the essay at the top of sqn-store.c).
 *
 * Slots are small integers handed out by hss_sqn_store_attach, one per
 * subscriber key (the IMPI). SQN values are the 48-bit numbers of
 * common/auth/aka.h (SEQ || IND, IND = 0 for our vectors).
 */
#ifndef HSS_SQN_STORE_H
#define HSS_SQN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hss_sqn_store hss_sqn_store_t;

/* A store backed by the file path (created on the first reservation). block:
 * how many SEQ values one write reserves (>= 1); do_fsync: make each write
 * durable (fdatasync + directory fsync) before an SQN from it is handed out.
 * Never NULL (allocation failure aborts). */
hss_sqn_store_t *hss_sqn_store_new(const char *path, uint32_t block, bool do_fsync);
/* Read the marks saved by an earlier run. A missing file is a first start
 * (IMS_OK); an unreadable or malformed one is IMS_ERROR with err filled, and
 * the daemon must not start (it could reuse SQNs). */
int hss_sqn_store_load(hss_sqn_store_t *s, char *err, size_t errlen);
void hss_sqn_store_free(hss_sqn_store_t *s);

/* The slot for key (copied), whose configured SQN (the last one used) is
 * cfg_sqn. The slot's current SQN becomes max(cfg_sqn, persisted mark), so
 * that the next one handed out is above anything a previous run handed out.
 * Attaching the same key twice returns the same slot. */
uint32_t hss_sqn_store_attach(hss_sqn_store_t *s, const char *key, uint64_t cfg_sqn);

/* The SQN of the last vector (or the starting value). */
uint64_t hss_sqn_store_current(const hss_sqn_store_t *s, uint32_t slot);
/* The persisted high-water mark of slot: no SQN above it was handed out. */
uint64_t hss_sqn_store_mark(const hss_sqn_store_t *s, uint32_t slot);

/* The SQN for a new vector (current advanced by one SEQ). When it passes the
 * persisted mark, a new mark is written first (with the marks of every slot
 * close to its own, to batch writes). IMS_OK with *sqn, or IMS_ERROR when the
 * mark cannot be written or the SEQ space is exhausted: hand out no vector. */
int hss_sqn_store_next(hss_sqn_store_t *s, uint32_t slot, uint64_t *sqn);

/* Set the current SQN (resynchronisation, TS 33.102 §6.3.5): the next vector
 * uses the SEQ after sqn. Persistence follows at the next hss_sqn_store_next. */
void hss_sqn_store_set(hss_sqn_store_t *s, uint32_t slot, uint64_t sqn);

/* How many times the file was written, for the control socket's stats. */
uint64_t hss_sqn_store_writes(const hss_sqn_store_t *s);

#endif
