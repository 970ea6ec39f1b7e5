/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-UE diagnosis; see scscf/diagnose.h.
 *
 * An attempt is what one registration try leaves in the log: zero or more
 * non-final events (challenges, AUTS, wrong responses that were challenged
 * again) and the final outcome that ended it (registered, or a 403 / 500, or
 * reg-await-auth running out). The verdict reads the last attempt, newest
 * event first: its outcome names the cause, and what came before qualifies it
 * (a resync before a 200 is the "SQN out of range" case; the number of wrong
 * answers before the 403). An attempt still open (a challenge the UE has not
 * answered yet) is described as such.
 */
#include "scscf/diagnose.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/ops/ctl_sip.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"

void scscf_diag_start(scscf_ctx_t *ctx)
{
    if (!ctx->uelog)
        ctx->uelog = ims_uelog_new(SCSCF_DIAG_UES);
}

void scscf_diag_stop(scscf_ctx_t *ctx)
{
    ims_uelog_free(ctx->uelog);
    ctx->uelog = NULL;
}

/* ---- recording ---- */

void scscf_diag(scscf_ctx_t *ctx, const char *impi, const char *impu, const sip_msg_t *req,
                scscf_diag_kind_t kind, uint32_t code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ims_ctl_sip_uelog(ctx->uelog, impi, impu, req, (uint8_t)kind, code, fmt, ap);
    va_end(ap);
}

void scscf_diag_hss_silent(scscf_ctx_t *ctx, const char *impi, const char *impu,
                           const sip_msg_t *req, const char *cmd)
{
    char peers[IMS_UELOG_DETAIL_MAX];

    if (dia_node_open_peer(ctx->dia, peers, sizeof(peers)))
        scscf_diag(ctx, impi, impu, req, SCSCF_DIAG_HSS_TIMEOUT, 500, "%s: no answer from %s",
                   cmd, peers);
    else
        scscf_diag(ctx, impi, impu, req, SCSCF_DIAG_HSS_DOWN, 500, "%s not sent: %s", cmd,
                   peers);
}

void scscf_diag_hss_result(scscf_ctx_t *ctx, const char *impi, const char *impu,
                           const sip_msg_t *req, const char *cmd, const cx_result_t *res)
{
    scscf_diag(ctx, impi, impu, req,
               res->experimental ? SCSCF_DIAG_HSS_REFUSED : SCSCF_DIAG_HSS_ERROR, res->code,
               "%s: %s", cmd, cx_result_name(res));
}

/* ---- the verdict ---- */

static bool is_final(const ims_uelog_event_t *e)
{
    switch ((scscf_diag_kind_t)e->kind) {
    case SCSCF_DIAG_CHALLENGE:
    case SCSCF_DIAG_RESYNC:
        return false;
    case SCSCF_DIAG_RES_MISMATCH:
    case SCSCF_DIAG_DIGEST_MISMATCH:
        return e->code != 401;
    default:
        return true;
    }
}

/* What the last attempt holds besides its outcome. */
typedef struct attempt {
    const ims_uelog_event_t *last;   /* the newest event */
    int resyncs, wrong;              /* AUTS received; wrong responses */
    bool wrong_aka;                  /* the wrong responses were AKA's */
} attempt_t;

static void read_attempt(const ims_uelog_ue_t *ue, attempt_t *at)
{
    memset(at, 0, sizeof(*at));
    at->last = ims_uelog_event(ue, ue->nev - 1);
    for (int i = ue->nev - 1; i >= 0; i--) {
        const ims_uelog_event_t *e = ims_uelog_event(ue, i);

        if (i < ue->nev - 1 && is_final(e))
            break;   /* the end of the attempt before */
        if (e->kind == SCSCF_DIAG_RESYNC)
            at->resyncs++;
        if (e->kind == SCSCF_DIAG_RES_MISMATCH || e->kind == SCSCF_DIAG_DIGEST_MISMATCH) {
            at->wrong++;
            at->wrong_aka = e->kind == SCSCF_DIAG_RES_MISMATCH;
        }
    }
}

static const char *mismatch_text(bool aka)
{
    return aka ? "RES mismatch: the UE's RES differs from the XRES of the HSS's vector"
               : "wrong password (digest response mismatch)";
}

/* The verdict for an HSS refusal (Experimental-Result-Code). */
static void hss_refused(const ims_uelog_ue_t *ue, const ims_uelog_event_t *e, char *out,
                        size_t outlen)
{
    switch (e->code) {
    case CX_ERROR_USER_UNKNOWN:
        snprintf(out, outlen, "unknown IMPI: the HSS does not know %s (or not with %s)",
                 ue->impi, ue->impu[0] ? ue->impu : "its IMPU");
        break;
    case CX_ERROR_IDENTITIES_DONT_MATCH:
        snprintf(out, outlen, "identities don't match: the HSS has %s, but not as an IMPU of %s",
                 ue->impu[0] ? ue->impu : "the IMPU", ue->impi);
        break;
    case CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED:
        snprintf(out, outlen, "authentication scheme not supported: the HSS holds no "
                 "credentials of that kind for %s", ue->impi);
        break;
    default:
        snprintf(out, outlen, "refused by the HSS: %s (%u)", e->detail, e->code);
        break;
    }
}

/* The verdict on the outcome e (final, or the newest of an open attempt). */
static void outcome(const ims_uelog_ue_t *ue, const attempt_t *at, char *out, size_t outlen)
{
    const ims_uelog_event_t *e = at->last;

    switch ((scscf_diag_kind_t)e->kind) {
    case SCSCF_DIAG_REGISTERED:
        if (at->resyncs)
            snprintf(out, outlen, "SQN out of range: resynchronised with AUTS, then %s",
                     e->detail);
        else if (at->wrong)
            snprintf(out, outlen, "%s after %d wrong answer%s (%s)", e->detail, at->wrong,
                     at->wrong == 1 ? "" : "s", mismatch_text(at->wrong_aka));
        else
            snprintf(out, outlen, "%s", e->detail);
        return;
    case SCSCF_DIAG_CHALLENGE:
        if (at->resyncs)
            snprintf(out, outlen, "SQN out of range: resynchronised with AUTS; waiting for the "
                     "UE's answer to the new challenge");
        else if (at->wrong)
            snprintf(out, outlen, "%s (%d so far); challenged again", mismatch_text(at->wrong_aka),
                     at->wrong);
        else
            snprintf(out, outlen, "challenged (%s); waiting for the UE's answer", e->detail);
        return;
    case SCSCF_DIAG_RESYNC:
        snprintf(out, outlen, "SQN out of range: the UE sent AUTS; resynchronising with the HSS");
        return;
    case SCSCF_DIAG_BAD_AUTS:
        snprintf(out, outlen, "SQN out of range, but the UE's AUTS is unusable (%s)", e->detail);
        return;
    case SCSCF_DIAG_MAC_FAILURE:
        snprintf(out, outlen, "MAC mismatch: the UE's K/OPc differ from the HSS's (the UE "
                 "rejected the network's AUTN)");
        return;
    case SCSCF_DIAG_RES_MISMATCH:
    case SCSCF_DIAG_DIGEST_MISMATCH:
        snprintf(out, outlen, "%s (%d wrong answer%s%s)", mismatch_text(at->wrong_aka),
                 at->wrong, at->wrong == 1 ? "" : "s",
                 e->code == 401 ? "; challenged again" : ": 403");
        return;
    case SCSCF_DIAG_AUTH_TIMEOUT:
        snprintf(out, outlen, "no REGISTER answered the challenge within %s: the UE gave up "
                 "(AKA refused on the UE, or sec-agree/IPsec not completed with the P-CSCF)",
                 e->detail);
        return;
    case SCSCF_DIAG_HSS_TIMEOUT:
        snprintf(out, outlen, "HSS timeout: %s", e->detail);
        return;
    case SCSCF_DIAG_HSS_DOWN:
        snprintf(out, outlen, "HSS unreachable: no open Cx connection (%s)", e->detail);
        return;
    case SCSCF_DIAG_HSS_REFUSED:
        hss_refused(ue, e, out, outlen);
        return;
    case SCSCF_DIAG_HSS_ERROR:
        snprintf(out, outlen, "HSS error: %s (Result-Code %u)", e->detail, e->code);
        return;
    case SCSCF_DIAG_REFUSED:
        snprintf(out, outlen, "refused with %u: %s", e->code, e->detail);
        return;
    case SCSCF_DIAG_DEREGISTERED:
        snprintf(out, outlen, "not registered: %s", e->detail);
        return;
    case SCSCF_DIAG_RTR:
        snprintf(out, outlen, "de-registered by the HSS (RTR): %s", e->detail);
        return;
    }
    snprintf(out, outlen, "unknown event %u", e->kind);
}

void scscf_diag_verdict(const ims_uelog_ue_t *ue, char *out, size_t outlen)
{
    attempt_t at;
    size_t n;

    if (!ue || ue->nev == 0) {
        snprintf(out, outlen, "nothing seen");
        return;
    }
    read_attempt(ue, &at);
    outcome(ue, &at, out, outlen);
    n = strlen(out);
    if (at.resyncs && at.last->kind != SCSCF_DIAG_REGISTERED &&
        at.last->kind != SCSCF_DIAG_CHALLENGE && at.last->kind != SCSCF_DIAG_RESYNC &&
        at.last->kind != SCSCF_DIAG_BAD_AUTS && n < outlen)
        snprintf(out + n, outlen - n, " (after an SQN resynchronisation with AUTS)");
}

/* ---- the command ---- */

/* Another IMPU of a registered user's implicit set: the user's IMPI. */
static const char *reg_impi(void *arg, const char *impu)
{
    const scscf_reg_t *reg = scscf_reg_find_impu(arg, impu);

    return reg ? reg->impi : NULL;
}

int scscf_diag_cmd(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                   size_t errlen)
{
    static const char *const kinds[] = {
        [SCSCF_DIAG_CHALLENGE] = "challenge", [SCSCF_DIAG_RESYNC] = "resync",
        [SCSCF_DIAG_BAD_AUTS] = "bad-auts", [SCSCF_DIAG_MAC_FAILURE] = "mac-failure",
        [SCSCF_DIAG_RES_MISMATCH] = "res-mismatch",
        [SCSCF_DIAG_DIGEST_MISMATCH] = "digest-mismatch",
        [SCSCF_DIAG_AUTH_TIMEOUT] = "auth-timeout", [SCSCF_DIAG_HSS_TIMEOUT] = "hss-timeout",
        [SCSCF_DIAG_HSS_DOWN] = "hss-down", [SCSCF_DIAG_HSS_ERROR] = "hss-error",
        [SCSCF_DIAG_HSS_REFUSED] = "hss-refused", [SCSCF_DIAG_REFUSED] = "refused",
        [SCSCF_DIAG_REGISTERED] = "registered", [SCSCF_DIAG_DEREGISTERED] = "deregistered",
        [SCSCF_DIAG_RTR] = "rtr",
    };
    static const ims_uelog_diag_t d = {
        kinds, sizeof(kinds) / sizeof(kinds[0]), scscf_diag_verdict, reg_impi, "REGISTER",
        "S-CSCF", " (refused before it? look at the I-CSCF and P-CSCF)",
    };

    return ims_uelog_diag_cmd(((scscf_ctx_t *)arg)->uelog, &d, arg, a, data, err, errlen);
}
