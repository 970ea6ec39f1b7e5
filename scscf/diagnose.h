/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-UE diagnosis at the S-CSCF (imsctl diagnose <IMPI|IMPU|IP>).
 *
 * The registration and authentication paths record one event per outcome
 * (challenge sent, AUTS received, wrong response, HSS silent or refusing,
 * registered...) into a bounded per-UE log (common/ops/uelog.h), and the
 * "diagnose" command turns the UE's last attempt into one verdict in plain
 * words, followed by the events themselves.
 *
 * What the S-CSCF can tell apart (TS 24.229 §5.4.1.2, TS 33.203 §6.1):
 *  - a UE whose K/OPc differ from the HSS's finds our AUTN's MAC wrong and
 *    answers the challenge with neither a response nor AUTS (24.229
 *    §5.1.1.5.3): "MAC mismatch";
 *  - a UE whose SQN is ahead of the HSS's answers with AUTS (33.102 §6.3.5):
 *    "SQN out of range", resolved by the resync MAR;
 *  - a response that is there but wrong: "RES mismatch" (AKA) or "wrong
 *    password" (SIP Digest);
 *  - the HSS silent (with or without an open Cx connection) or refusing
 *    (DIAMETER_ERROR_USER_UNKNOWN: "unknown IMPI", and the other results);
 *  - no answer to the challenge before reg-await-auth runs out;
 *  - a registration the HSS ended with an RTR (29.228 §6.1.3): "de-registered
 *    by the HSS (RTR): <reason>".
 * A REGISTER refused before it reaches the S-CSCF (by the I-CSCF's UAR, or
 * the P-CSCF) leaves no event here, and the verdict says so; the I-CSCF's
 * own "diagnose" tells why (icscf/diagnose.h).
 */
#ifndef SCSCF_DIAGNOSE_H
#define SCSCF_DIAGNOSE_H

#include <stdint.h>

#include "common/ops/ctl.h"
#include "common/ops/uelog.h"
#include "common/sip/msg.h"
#include "diameter/cx/cx.h"
#include "scscf/context.h"

#define SCSCF_DIAG_UES 2048     /* UEs the log keeps (about 1.2 kB each) */

typedef enum scscf_diag_kind {
    SCSCF_DIAG_CHALLENGE = 1,    /* 401 sent (detail: the scheme) */
    SCSCF_DIAG_RESYNC,           /* AUTS received: resync MAR sent */
    SCSCF_DIAG_BAD_AUTS,         /* 403: AUTS not usable */
    SCSCF_DIAG_MAC_FAILURE,      /* 403: the UE refused our AUTN */
    SCSCF_DIAG_RES_MISMATCH,     /* AKA: wrong RES; code 401: challenged again, 403: final */
    SCSCF_DIAG_DIGEST_MISMATCH,  /* SIP Digest: wrong response; code as above */
    SCSCF_DIAG_AUTH_TIMEOUT,     /* reg-await-auth ran out */
    SCSCF_DIAG_HSS_TIMEOUT,      /* no answer while a Cx connection was open */
    SCSCF_DIAG_HSS_DOWN,         /* no open Cx connection */
    SCSCF_DIAG_HSS_ERROR,        /* a base Result-Code (code) */
    SCSCF_DIAG_HSS_REFUSED,      /* an Experimental-Result-Code (code) */
    SCSCF_DIAG_REFUSED,          /* another final answer (code: SIP status) */
    SCSCF_DIAG_REGISTERED,       /* 200 OK (detail: registered / refreshed) */
    SCSCF_DIAG_DEREGISTERED,     /* by the UE, expiry, imsctl */
    SCSCF_DIAG_RTR               /* by the HSS (code: Deregistration-Reason; detail: its name) */
} scscf_diag_kind_t;

/* Create ctx->uelog (SCSCF_DIAG_UES UEs) / free it. Without a log (unit tests
 * that never call start) every scscf_diag* call is a no-op. */
void scscf_diag_start(scscf_ctx_t *ctx);
void scscf_diag_stop(scscf_ctx_t *ctx);

/*
 * Record an event of impi. impu (NULL or "": unchanged) is the IMPU of the
 * request; req (NULL: unchanged) the REGISTER, whose bottom Via (the UE's,
 * with received/rport) gives the UE's address. detail is printf-style.
 */
void scscf_diag(scscf_ctx_t *ctx, const char *impi, const char *impu, const sip_msg_t *req,
                scscf_diag_kind_t kind, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* The HSS gave no usable answer to cmd ("MAR", "SAR"): HSS_TIMEOUT when a Cx
 * connection was open at the time, else HSS_DOWN with the peers' states. */
void scscf_diag_hss_silent(scscf_ctx_t *ctx, const char *impi, const char *impu,
                           const sip_msg_t *req, const char *cmd);
/* The HSS answered cmd with the failure res. */
void scscf_diag_hss_result(scscf_ctx_t *ctx, const char *impi, const char *impu,
                           const sip_msg_t *req, const char *cmd, const cx_result_t *res);

/* The verdict (one line, plain words) on ue's last attempt, into out. */
void scscf_diag_verdict(const ims_uelog_ue_t *ue, char *out, size_t outlen);

/* The control command: diagnose <IMPI|IMPU|IP>; arg is the context. */
int scscf_diag_cmd(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                   size_t errlen);

#endif
