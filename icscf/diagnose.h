/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-UE diagnosis at the I-CSCF (imsctl diagnose <IMPI|IMPU|IP>), with the
 * same bounded per-UE log as the S-CSCF (common/ops/uelog.h).
 *
 * A REGISTER the HSS refuses never reaches an S-CSCF, so only the I-CSCF can
 * say why (TS 29.228 §6.1.1, TS 24.229 §5.3.1.2):
 *  - the UAR unanswered: "HSS timeout" while a Cx connection was open, else
 *    "HSS unreachable" with the peers' states;
 *  - the UAA refusing: DIAMETER_ERROR_USER_UNKNOWN "unknown IMPI",
 *    IDENTITIES_DONT_MATCH, ROAMING_NOT_ALLOWED "roaming not allowed",
 *    DIAMETER_AUTHORIZATION_REJECTED, and the other results;
 *  - the UAA accepting, but no S-CSCF with the capabilities it asks for (and
 *    no default S-CSCF): "no S-CSCF with the needed capabilities";
 *  - no S-CSCF answering the REGISTER (504);
 *  - otherwise the S-CSCF's answer, relayed: its own log says the rest.
 * Terminating requests are logged by their IMPU (the I-CSCF learns no IMPI
 * for them), their failures only (a routed request is the S-CSCF's story):
 * an LIA with USER_UNKNOWN is "unknown IMPU".
 */
#ifndef ICSCF_DIAGNOSE_H
#define ICSCF_DIAGNOSE_H

#include <stdint.h>

#include "common/ops/ctl.h"
#include "common/ops/uelog.h"
#include "common/sip/msg.h"
#include "diameter/cx/cx.h"
#include "icscf/context.h"

#define ICSCF_DIAG_UES 2048     /* UEs the log keeps (about 1.2 kB each) */

typedef enum icscf_diag_kind {
    ICSCF_DIAG_FORWARDED = 1,    /* REGISTER sent to an S-CSCF (detail: which) */
    ICSCF_DIAG_ANSWERED,         /* the S-CSCF's final response relayed (code) */
    ICSCF_DIAG_NO_ANSWER,        /* no S-CSCF answered the REGISTER: 504 */
    ICSCF_DIAG_NO_SCSCF,         /* UAA success, no S-CSCF to send to (detail: asked for) */
    ICSCF_DIAG_HSS_TIMEOUT,      /* UAR/LIR unanswered while a Cx connection was open */
    ICSCF_DIAG_HSS_DOWN,         /* UAR/LIR not sent: no open Cx connection */
    ICSCF_DIAG_HSS_REFUSED,      /* an Experimental-Result-Code (code) */
    ICSCF_DIAG_HSS_ERROR         /* a base Result-Code other than success (code) */
} icscf_diag_kind_t;

/* Create ctx->uelog / free it. Without a log every icscf_diag* is a no-op. */
void icscf_diag_start(icscf_ctx_t *ctx);
void icscf_diag_stop(icscf_ctx_t *ctx);   /* also done by icscf_ctx_free */

/*
 * Record an event of the UE impi (a terminating request: its IMPU). impu
 * (NULL or "": unchanged) is the request's IMPU; req (NULL: unchanged) gives
 * the UE's address by its bottom Via. detail is printf-style.
 */
void icscf_diag(icscf_ctx_t *ctx, const char *impi, const char *impu, const sip_msg_t *req,
                icscf_diag_kind_t kind, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/*
 * The outcome of cmd ("UAR", "LIR") as the HSS client gave it: status not
 * IMS_OK (no answer: timeout or no open peer, told apart by the peers'
 * states now), or res when it is a failure. A success records nothing.
 */
void icscf_diag_hss(icscf_ctx_t *ctx, const char *cmd, const char *impi, const char *impu,
                    const sip_msg_t *req, int status, const cx_result_t *res);

/* A UAA (a) that succeeded, yet no S-CSCF to send the REGISTER to: the
 * capabilities it asked for and how many S-CSCFs were configured. */
void icscf_diag_no_scscf(icscf_ctx_t *ctx, const char *impi, const char *impu,
                         const sip_msg_t *req, const cx_uaa_t *a);

/* The verdict (one line, plain words) on ue's last event, into out. */
void icscf_diag_verdict(const ims_uelog_ue_t *ue, char *out, size_t outlen);

/* The control command: diagnose <IMPI|IMPU|IP>; arg is the context. */
int icscf_diag_cmd(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                   size_t errlen);

#endif
