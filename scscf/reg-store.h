/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * S-CSCF registrations that survive a restart (issue 8), kept in an ims_kv_t
 * (common/ops/journal.h), the embedded journal or Redis (common/ops/store.h).
 *
 * Two tables, both keyed by IMPI:
 *   scscf.reg  the bindings: per contact its URI, Path, Call-ID, CSeq and
 *              expiry (wall clock); the record expires with the last contact;
 *   scscf.ud   the User-Data XML of the last SAA that carried one: the
 *              implicit IMPU set, barring and iFCs are parsed from it again
 *              at restore (the profile in memory is a parsed, shared form).
 * The Service-Route is our configuration (the same for every user), and a
 * pending challenge is not kept: a UE that was half-way through one answers
 * the restarted S-CSCF's fresh 401.
 *
 * Only what was answered 200 OK is stored, and it is stored before the 200 OK
 * is sent (scscf_reg_store_save from the SAA handler). A registration that
 * ends (de-registration, expiry, RTR, imsctl) is forgotten through
 * ctx->store_gone. At start the records are read back: each registration gets
 * its profile and its unexpired contacts with the time they have left, its
 * expiry timer is armed, and the IMPUs are indexed: the user is registered as
 * before, without a new REGISTER. Records with no unexpired contact or no
 * usable User-Data are dropped.
 *
 * Shared by several S-CSCFs (Redis), a third table indexes the users:
 *   scscf.impu  IMPU -> IMPI, for every IMPU of the profile, with the
 *               registration's expiry;
 * and a lookup by IMPU that misses (scscf_reg_find_impu: a terminating
 * request for a user who registered through another instance, since killed)
 * reads the user through: IMPU -> IMPI -> scscf.reg + scscf.ud, restored as
 * at start, then served here without a new REGISTER. That is how an instance
 * learns of registrations made after its own start. A copy read so stays as
 * it was read (the HSS assigns a user one S-CSCF at a time, so the second
 * instance reads a user once the first is gone); when it runs out here while
 * the stored record was refreshed meanwhile, the stored record is kept
 * (scscf_reg_store_forget).
 */
#ifndef SCSCF_REG_STORE_H
#define SCSCF_REG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/ops/journal.h"
#include "scscf/context.h"

#define SCSCF_STORE_REG "scscf.reg"
#define SCSCF_STORE_UD "scscf.ud"
#define SCSCF_STORE_IMPU "scscf.impu"

/*
 * Open the store of the `store` group of conf (none: IMS_OK, nothing kept),
 * restore its registrations into ctx and install the hooks. IMS_ERROR when
 * the group is wrong or the journal cannot be opened.
 */
int scscf_reg_store_start(scscf_ctx_t *ctx, ims_conf_t *conf);
/* Close the store first at shutdown: freeing the registrations then forgets
 * nothing. NULL store is a no-op. */
void scscf_reg_store_stop(scscf_ctx_t *ctx);

/*
 * Store the registered reg (its contacts, and user_data, len bytes, when the
 * SAA brought a new one; NULL keeps the stored one). No store: IMS_OK.
 * IMS_ERROR when the store could not write (logged; the caller answers anyway).
 */
int scscf_reg_store_save(scscf_reg_t *reg, const char *user_data, size_t len);
/* Forget reg (the store_gone hook). */
void scscf_reg_store_forget(scscf_reg_t *reg);
/*
 * Every contact of reg ran out here: with a shared store, whether the user
 * refreshed through another S-CSCF meanwhile. Then reg takes the stored
 * record (its unexpired contacts, and the stored profile) and true is
 * returned: the caller re-arms the expiry and sends no SAR (the HSS has the
 * other instance as the user's S-CSCF). false: no shared store, not stored,
 * or the stored record ran out too (reg is left as it was). One or two
 * synchronous reads of the store.
 */
bool scscf_reg_store_refreshed(scscf_reg_t *reg);
/* The store_miss hook of a shared store: the registration of impu read from
 * the store into ctx, or NULL (not there, known here already, unusable).
 * Synchronous: one to three reads of the store (store_redis.h bounds them). */
scscf_reg_t *scscf_reg_store_read_through(scscf_ctx_t *ctx, const char *impu);

/* Restore every registration of kv into ctx (ctx->store is not written
 * meanwhile); returns how many. Exposed for the tests. */
size_t scscf_reg_store_restore(scscf_ctx_t *ctx, ims_kv_t *kv);

#endif
