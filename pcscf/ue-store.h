/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * P-CSCF registrations that survive a restart (issue 8), kept in an ims_kv_t
 * (common/ops/journal.h: the embedded journal now, Redis later).
 *
 * Table pcscf.ue, keyed by the UE's address key ("u:IP:PORT": where its
 * requests come from, how the P-CSCF knows it), holds what the 200 OK to its
 * REGISTER told: the contact, the P-Associated-URI identities, the
 * Service-Route list, and the expiry (wall clock). The Path we insert is our
 * configuration. Our own reg-event subscription is not kept: after a restart
 * the UE's next re-registration subscribes again.
 *
 * A UE is stored when pcscf_ue_store keeps it (before the 200 OK is relayed)
 * and forgotten when pcscf_ue_remove drops it, through the context's hooks.
 * At start every unexpired record is stored again with the time it has left:
 * the UE calls and is called as before, without re-registering. Its sec-agree
 * set (SAs) is kept beside it, in table pcscf.sec (pcscf/secagree-store.c).
 */
#ifndef PCSCF_UE_STORE_H
#define PCSCF_UE_STORE_H

#include <stddef.h>

#include "common/core/conf.h"
#include "common/ops/journal.h"
#include "pcscf/context.h"

#define PCSCF_STORE_UE "pcscf.ue"

/* Open the store of the `store` group of conf (absent: IMS_OK, nothing kept),
 * restore the UEs and install the hooks. IMS_ERROR on a bad group or journal. */
int pcscf_store_start(pcscf_ctx_t *ctx, ims_conf_t *conf);
/* Close the store (first at shutdown, so that freeing forgets nothing). */
void pcscf_store_stop(pcscf_ctx_t *ctx);

/* The hooks: store ue as it is now / forget it. */
void pcscf_store_save_ue(pcscf_ctx_t *ctx, pcscf_ue_t *ue);
void pcscf_store_forget_ue(pcscf_ctx_t *ctx, pcscf_ue_t *ue);

/* Restore every unexpired UE of kv into ctx (hooks not yet installed);
 * returns how many. Exposed for the tests. */
size_t pcscf_store_restore(pcscf_ctx_t *ctx, ims_kv_t *kv);

#endif
