/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-UE diagnosis at the P-CSCF (imsctl diagnose <IMPI|IMPU|IP>): what only
 * the P-CSCF sees of a UE's attempts - sec-agree (the 401 that offered SAs
 * and on which port the protected REGISTER was awaited, a Security-Verify
 * that did not match), the REGISTER's outcome, requests refused because the
 * UE is not registered or not over its SAs, and the policy server's refusals
 * and releases of its calls. The same bounded per-UE log as the I- and
 * S-CSCF (common/ops/uelog.h); a UE is named by the IMPI of its REGISTER's
 * Authorization, and later events (policy) by its registered IMPU.
 */
#ifndef PCSCF_DIAGNOSE_H
#define PCSCF_DIAGNOSE_H

#include <stdint.h>

#include "common/ops/uelog.h"
#include "common/sip/msg.h"
#include "pcscf/context.h"

#define PCSCF_DIAG_UES 4096     /* UEs the log keeps (about 1.2 kB each) */

typedef enum pcscf_diag_kind {
    PCSCF_DIAG_CHALLENGED = 1,  /* 401 relayed (detail: the SAs offered, if any) */
    PCSCF_DIAG_PROTECTED,       /* a REGISTER arrived over the UE's SAs (detail: port) */
    PCSCF_DIAG_VERIFY_MISMATCH, /* Security-Verify/Client differ from what was agreed: 403 */
    PCSCF_DIAG_REGISTERED,      /* 2xx to REGISTER relayed (code; detail: expiry) */
    PCSCF_DIAG_REG_FAILED,      /* another final to REGISTER relayed (code, reason) */
    PCSCF_DIAG_REFUSED,         /* a request refused here (code, why) */
    PCSCF_DIAG_POLICY_REFUSED,  /* the PCRF/PCF refused a call's media (code: ours) */
    PCSCF_DIAG_POLICY_FAILED,   /* the policy server did not answer (code: ours) */
    PCSCF_DIAG_POLICY_RELEASED  /* the network released a call (ASR, RAR, terminate) */
} pcscf_diag_kind_t;

/* Create ctx->uelog and set ctx->diag_hooks / undo it (NULL: no-op). */
void pcscf_diag_start(pcscf_ctx_t *ctx);
void pcscf_diag_stop(pcscf_ctx_t *ctx);

/* The hooks diagnose.c serves (context.h): set ctx->diag_hooks to this. The
 * IMPI of a REGISTER is its Authorization's username, else its To; a later
 * event by IMPU goes to the IMPI its last REGISTER gave. */
extern const pcscf_diag_hooks_t pcscf_diag_hooks;

/* The verdict (one line, plain words) on ue's events, into out. */
void pcscf_diag_verdict(const ims_uelog_ue_t *ue, char *out, size_t outlen);
/* Register "diagnose" on the control socket (after pcscf_ctl_start). */
void pcscf_diag_register(pcscf_ctx_t *ctx);

#endif
