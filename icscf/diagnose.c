/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-UE diagnosis at the I-CSCF; see icscf/diagnose.h.
 *
 * The I-CSCF's part in an attempt is short (one UAR, one or more forwards,
 * the answer relayed), so the verdict reads the newest event alone; the
 * events before it are in the reply for whoever wants the story.
 */
#include "icscf/diagnose.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/ops/ctl_sip.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"

void icscf_diag_start(icscf_ctx_t *ctx)
{
    if (!ctx->uelog)
        ctx->uelog = ims_uelog_new(ICSCF_DIAG_UES);
}

void icscf_diag_stop(icscf_ctx_t *ctx)
{
    ims_uelog_free(ctx->uelog);
    ctx->uelog = NULL;
}

void icscf_diag(icscf_ctx_t *ctx, const char *impi, const char *impu, const sip_msg_t *req,
                icscf_diag_kind_t kind, uint32_t code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ims_ctl_sip_uelog(ctx->uelog, impi, impu, req, (uint8_t)kind, code, fmt, ap);
    va_end(ap);
}

void icscf_diag_hss(icscf_ctx_t *ctx, const char *cmd, const char *impi, const char *impu,
                    const sip_msg_t *req, int status, const cx_result_t *res)
{
    char peers[IMS_UELOG_DETAIL_MAX];

    if (status == IMS_OK) {
        if (res->experimental ? res->code >= 3000 : res->code != DIA_SUCCESS)
            icscf_diag(ctx, impi, impu, req,
                       res->experimental ? ICSCF_DIAG_HSS_REFUSED : ICSCF_DIAG_HSS_ERROR,
                       res->code, "%s: %s", cmd, cx_result_name(res));
        return;
    }
    if (dia_node_open_peer(ctx->dia_node, peers, sizeof(peers)))
        icscf_diag(ctx, impi, impu, req, ICSCF_DIAG_HSS_TIMEOUT, 500, "%s: no answer from %s",
                   cmd, peers);
    else
        icscf_diag(ctx, impi, impu, req, ICSCF_DIAG_HSS_DOWN, 500, "%s not sent: %s", cmd,
                   peers);
}

/* "1,2" of n capabilities into out at *len (bounded). */
static void caps_str(const uint32_t *caps, int n, char *out, size_t outlen, size_t *len)
{
    for (int i = 0; i < n && *len < outlen - 1; i++)
        *len += (size_t)snprintf(out + *len, outlen - *len, "%s%u", i ? "," : "", caps[i]);
    if (n == 0 && *len < outlen - 1)
        *len += (size_t)snprintf(out + *len, outlen - *len, "none");
}

void icscf_diag_no_scscf(icscf_ctx_t *ctx, const char *impi, const char *impu,
                         const sip_msg_t *req, const cx_uaa_t *a)
{
    char d[IMS_UELOG_DETAIL_MAX];
    size_t len = 0;

    if (a->server_name[0]) {
        snprintf(d, sizeof(d), "the HSS named %.56s, which cannot be reached", a->server_name);
    } else if (a->has_caps) {
        len += (size_t)snprintf(d, sizeof(d), "mandatory ");
        caps_str(a->caps.mandatory, a->caps.nmandatory, d, sizeof(d), &len);
        if (len < sizeof(d) - 1)
            len += (size_t)snprintf(d + len, sizeof(d) - len, ", optional ");
        caps_str(a->caps.optional, a->caps.noptional, d, sizeof(d), &len);
        if (len < sizeof(d) - 1)
            snprintf(d + len, sizeof(d) - len, "; %d S-CSCF%s configured, no default",
                     ctx->nscscfs, ctx->nscscfs == 1 ? "" : "s");
    } else {
        snprintf(d, sizeof(d), "the UAA named none; %d S-CSCF%s configured, no default",
                 ctx->nscscfs, ctx->nscscfs == 1 ? "" : "s");
    }
    icscf_diag(ctx, impi, impu, req, ICSCF_DIAG_NO_SCSCF, 500, "%s", d);
}

/* ---- the verdict ---- */

static bool is_lir(const ims_uelog_event_t *e)
{
    return strncmp(e->detail, "LIR", 3) == 0;
}

static void refused_text(const ims_uelog_ue_t *ue, const ims_uelog_event_t *e, char *out,
                         size_t outlen)
{
    const char *impu = ue->impu[0] ? ue->impu : "its IMPU";

    switch (e->code) {
    case CX_ERROR_USER_UNKNOWN:
        if (is_lir(e))
            snprintf(out, outlen, "unknown IMPU: the HSS does not know %s (%s)", ue->impi,
                     e->detail);
        else
            snprintf(out, outlen, "unknown IMPI: the HSS does not know %s (or not with %s; %s)",
                     ue->impi, impu, e->detail);
        return;
    case CX_ERROR_IDENTITIES_DONT_MATCH:
        snprintf(out, outlen, "identities don't match: the HSS has %s, but not as an IMPU of %s",
                 impu, ue->impi);
        return;
    case CX_ERROR_ROAMING_NOT_ALLOWED:
        snprintf(out, outlen, "roaming not allowed: the HSS does not let %s register through "
                 "this visited network (P-Visited-Network-ID)", ue->impi);
        return;
    case CX_ERROR_IDENTITY_NOT_REGISTERED:
        snprintf(out, outlen, "not registered: the HSS knows %s, but no S-CSCF serves it now "
                 "(%s)", ue->impi, e->detail);
        return;
    default:
        snprintf(out, outlen, "refused by the HSS: %s (%u)", e->detail, e->code);
        return;
    }
}

static void answered(const ims_uelog_event_t *e, char *out, size_t outlen)
{
    if (e->code >= 200 && e->code < 300)
        snprintf(out, outlen, "registered: the S-CSCF %s answered %u", e->detail, e->code);
    else if (e->code == 401)
        snprintf(out, outlen, "challenged by the S-CSCF %s (401): how the UE answers is the "
                 "S-CSCF's to judge (imsctl diagnose there)", e->detail);
    else
        snprintf(out, outlen, "the S-CSCF %s answered %u: why is in its own log (imsctl "
                 "diagnose there)", e->detail, e->code);
}

void icscf_diag_verdict(const ims_uelog_ue_t *ue, char *out, size_t outlen)
{
    const ims_uelog_event_t *e = ue ? ims_uelog_event(ue, ue->nev - 1) : NULL;

    if (!e) {
        snprintf(out, outlen, "nothing seen");
        return;
    }
    switch ((icscf_diag_kind_t)e->kind) {
    case ICSCF_DIAG_FORWARDED:
        snprintf(out, outlen, "forwarded to %s; no final answer yet", e->detail);
        return;
    case ICSCF_DIAG_ANSWERED:
        answered(e, out, outlen);
        return;
    case ICSCF_DIAG_NO_ANSWER:
        snprintf(out, outlen, "no S-CSCF answered the REGISTER (%s): 504", e->detail);
        return;
    case ICSCF_DIAG_NO_SCSCF:
        snprintf(out, outlen, "no S-CSCF with the needed capabilities: %s", e->detail);
        return;
    case ICSCF_DIAG_HSS_TIMEOUT:
        snprintf(out, outlen, "HSS timeout: %s", e->detail);
        return;
    case ICSCF_DIAG_HSS_DOWN:
        snprintf(out, outlen, "HSS unreachable: no open Cx connection (%s)", e->detail);
        return;
    case ICSCF_DIAG_HSS_REFUSED:
        refused_text(ue, e, out, outlen);
        return;
    case ICSCF_DIAG_HSS_ERROR:
        if (e->code == DIA_AUTHORIZATION_REJECTED)
            snprintf(out, outlen, "registration not authorised by the HSS (%s)", e->detail);
        else
            snprintf(out, outlen, "HSS error: %s (Result-Code %u)", e->detail, e->code);
        return;
    }
    snprintf(out, outlen, "unknown event %u", e->kind);
}

/* ---- the command ---- */

int icscf_diag_cmd(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                   size_t errlen)
{
    static const char *const kinds[] = {
        [ICSCF_DIAG_FORWARDED] = "forwarded", [ICSCF_DIAG_ANSWERED] = "answered",
        [ICSCF_DIAG_NO_ANSWER] = "no-answer", [ICSCF_DIAG_NO_SCSCF] = "no-scscf",
        [ICSCF_DIAG_HSS_TIMEOUT] = "hss-timeout", [ICSCF_DIAG_HSS_DOWN] = "hss-down",
        [ICSCF_DIAG_HSS_REFUSED] = "hss-refused", [ICSCF_DIAG_HSS_ERROR] = "hss-error",
    };
    static const ims_uelog_diag_t d = {
        kinds, sizeof(kinds) / sizeof(kinds[0]), icscf_diag_verdict, NULL,
        "REGISTER or terminating request", "I-CSCF", NULL,
    };

    return ims_uelog_diag_cmd(((icscf_ctx_t *)arg)->uelog, &d, arg, a, data, err, errlen);
}
