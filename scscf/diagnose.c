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
#include <time.h>

#include "common/core/clock.h"
#include "common/core/rc.h"
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

/* The UE's address from the bottom Via of req (the UE's own: the P-CSCF's
 * and I-CSCF's come above it), its received= and rport= preferred. "" when
 * none. */
static void ue_addr(const sip_msg_t *req, char *out, size_t outlen)
{
    int n = req ? osip_list_size(&req->m->vias) : 0;
    osip_via_t *v = n > 0 ? osip_list_get(&req->m->vias, n - 1) : NULL;
    osip_generic_param_t *rcvd = NULL, *rport = NULL;
    const char *host, *port;

    out[0] = '\0';
    if (!v || !v->host)
        return;
    osip_via_param_get_byname(v, "received", &rcvd);
    osip_via_param_get_byname(v, "rport", &rport);
    host = rcvd && rcvd->gvalue && rcvd->gvalue[0] ? rcvd->gvalue : v->host;
    port = rport && rport->gvalue && rport->gvalue[0] ? rport->gvalue
                                                       : v->port ? v->port : "5060";
    snprintf(out, outlen, strchr(host, ':') && host[0] != '[' ? "[%s]:%s" : "%s:%s", host,
             port);
}

void scscf_diag(scscf_ctx_t *ctx, const char *impi, const char *impu, const sip_msg_t *req,
                scscf_diag_kind_t kind, uint32_t code, const char *fmt, ...)
{
    char addr[IMS_UELOG_ADDR_MAX], detail[IMS_UELOG_DETAIL_MAX];
    va_list ap;

    if (!ctx->uelog)
        return;
    ue_addr(req, addr, sizeof(addr));
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    ims_uelog_add(ctx->uelog, impi, impu, addr, (uint8_t)kind, code, "%s", detail);
}

void scscf_diag_hss_silent(scscf_ctx_t *ctx, const char *impi, const char *impu,
                           const sip_msg_t *req, const char *cmd)
{
    char peers[IMS_UELOG_DETAIL_MAX] = "";
    size_t len = 0;
    dia_peer_info_t pi;

    for (int i = 0; ctx->dia && dia_node_peer_info(ctx->dia, i, &pi) == IMS_OK; i++) {
        if (pi.state == DIA_PEER_OPEN) {
            scscf_diag(ctx, impi, impu, req, SCSCF_DIAG_HSS_TIMEOUT, 500,
                       "%s: no answer from %s", cmd, pi.host);
            return;
        }
        if (len < sizeof(peers) - 1)
            len += (size_t)snprintf(peers + len, sizeof(peers) - len, "%s%s %s",
                                    len ? ", " : "", pi.host, dia_state_name(pi.state));
    }
    scscf_diag(ctx, impi, impu, req, SCSCF_DIAG_HSS_DOWN, 500, "%s not sent: %s", cmd,
               peers[0] ? peers : "no Diameter peer");
}

static const char *cx_result_name(const cx_result_t *r)
{
    static const char *const exp[] = {
        "USER_UNKNOWN", "IDENTITIES_DONT_MATCH", "IDENTITY_NOT_REGISTERED",
        "ROAMING_NOT_ALLOWED", "IDENTITY_ALREADY_REGISTERED", "AUTH_SCHEME_NOT_SUPPORTED",
        "IN_ASSIGNMENT_TYPE", "TOO_MUCH_DATA", "NOT_SUPPORTED_USER_DATA",
    };

    if (r->experimental && r->code >= CX_ERROR_USER_UNKNOWN &&
        r->code <= CX_ERROR_NOT_SUPPORTED_USER_DATA)
        return exp[r->code - CX_ERROR_USER_UNKNOWN];
    if (r->experimental)
        return "experimental result";
    switch (r->code) {
    case DIA_UNABLE_TO_DELIVER: return "UNABLE_TO_DELIVER";
    case DIA_REALM_NOT_SERVED: return "REALM_NOT_SERVED";
    case DIA_TOO_BUSY: return "TOO_BUSY";
    case DIA_UNABLE_TO_COMPLY: return "UNABLE_TO_COMPLY";
    case DIA_MISSING_AVP: return "MISSING_AVP";
    case DIA_INVALID_AVP_VALUE: return "INVALID_AVP_VALUE";
    default: return "error";
    }
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

static const char *kind_name(uint8_t kind)
{
    static const char *const names[] = {
        [SCSCF_DIAG_CHALLENGE] = "challenge", [SCSCF_DIAG_RESYNC] = "resync",
        [SCSCF_DIAG_BAD_AUTS] = "bad-auts", [SCSCF_DIAG_MAC_FAILURE] = "mac-failure",
        [SCSCF_DIAG_RES_MISMATCH] = "res-mismatch",
        [SCSCF_DIAG_DIGEST_MISMATCH] = "digest-mismatch",
        [SCSCF_DIAG_AUTH_TIMEOUT] = "auth-timeout", [SCSCF_DIAG_HSS_TIMEOUT] = "hss-timeout",
        [SCSCF_DIAG_HSS_DOWN] = "hss-down", [SCSCF_DIAG_HSS_ERROR] = "hss-error",
        [SCSCF_DIAG_HSS_REFUSED] = "hss-refused", [SCSCF_DIAG_REFUSED] = "refused",
        [SCSCF_DIAG_REGISTERED] = "registered", [SCSCF_DIAG_DEREGISTERED] = "deregistered",
    };

    return kind < sizeof(names) / sizeof(names[0]) && names[kind] ? names[kind] : "?";
}

/* An event as a row; its time as wall-clock UTC (the log keeps the loop's clock). */
static json_t *event_row(const ims_uelog_event_t *e, uint64_t now_ms)
{
    struct timespec ts;
    struct tm tm;
    uint64_t ago = now_ms > e->at_ms ? now_ms - e->at_ms : 0, wall_ms;
    time_t secs;
    char when[32];
    json_t *o;

    clock_gettime(CLOCK_REALTIME, &ts);
    wall_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 - ago;
    secs = (time_t)(wall_ms / 1000);
    gmtime_r(&secs, &tm);
    snprintf(when, sizeof(when), "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(wall_ms % 1000));
    o = json_pack("{s:s,s:I,s:s,s:I}", "time", when, "ago_ms", (json_int_t)ago, "event",
                  kind_name(e->kind), "code", (json_int_t)e->code);
    ims_ctl_set_str(o, "detail", e->detail);
    return o;
}

int scscf_diag_cmd(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                   size_t errlen)
{
    scscf_ctx_t *ctx = arg;
    const ims_uelog_ue_t *ue;
    const scscf_reg_t *reg;
    char verdict[320];
    uint64_t now = ims_clock_now_ms();
    json_t *o, *events = json_array();
    int n = 0;

    if (a->argc != 1 || !a->argv[0][0]) {
        json_decref(events);
        snprintf(err, errlen, "usage: diagnose <IMPI|IMPU|IP>");
        return IMS_ERROR;
    }
    ue = ims_uelog_find(ctx->uelog, a->argv[0], &n);
    /* another IMPU of a registered user's implicit set */
    if (!ue && (reg = scscf_reg_find_impu(ctx, a->argv[0])) != NULL)
        ue = ims_uelog_find(ctx->uelog, reg->impi, &n);
    if (ue) {
        scscf_diag_verdict(ue, verdict, sizeof(verdict));
        for (int i = 0; i < ue->nev; i++)
            json_array_append_new(events, event_row(ims_uelog_event(ue, i), now));
    } else {
        snprintf(verdict, sizeof(verdict), "nothing seen: no REGISTER of %.200s reached this "
                 "S-CSCF lately (refused before it? look at the I-CSCF and P-CSCF)", a->argv[0]);
    }
    o = json_object();
    ims_ctl_set_str(o, "verdict", verdict);
    ims_ctl_set_str(o, "impi", ue ? ue->impi : NULL);
    ims_ctl_set_str(o, "impu", ue && ue->impu[0] ? ue->impu : NULL);
    ims_ctl_set_str(o, "address", ue && ue->addr[0] ? ue->addr : NULL);
    if (n > 1)
        json_object_set_new(o, "ues_matching", json_integer(n));
    json_object_set_new(o, "events", events);
    *data = o;
    return IMS_OK;
}
