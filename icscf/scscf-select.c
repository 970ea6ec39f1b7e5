/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UAA and LIA result mapping and S-CSCF selection. The UAA mapping follows
 * TS 29.228 §6.1.1 and what deployed I-CSCFs answer (Kamailio ims_icscf: 403
 * for the identity errors, 500 for the rest); the LIA mapping TS 24.229
 * §5.3.2.1 (404 for an unknown user, 480 for one not registered). The order
 * follows the Server-Capabilities rules of TS 29.228 Annex A: mandatory
 * capabilities must all be offered, the optional ones rank the candidates.
 */
#include "icscf/scscf-select.h"

#include <strings.h>

#define DIA_SUCCESS_CODE           2001u /* base Result-Code DIAMETER_SUCCESS */
#define DIA_UNABLE_TO_COMPLY       5012u

static icscf_verdict_t reply(int code, const char *reason)
{
    return (icscf_verdict_t){ false, code, reason };
}

static icscf_verdict_t exp_verdict(uint32_t code)
{
    switch (code) {
    case CX_FIRST_REGISTRATION:
    case CX_SUBSEQUENT_REGISTRATION:
        return (icscf_verdict_t){ true, 0, NULL };
    case CX_ERROR_USER_UNKNOWN:
        return reply(403, "Forbidden - User Unknown");
    case CX_ERROR_IDENTITIES_DONT_MATCH:
        return reply(403, "Forbidden - Identities Don't Match");
    case CX_ERROR_ROAMING_NOT_ALLOWED:
        return reply(403, "Forbidden - Roaming Not Allowed");
    case CX_ERROR_IDENTITY_NOT_REGISTERED:
        return reply(403, "Forbidden - Identity Not Registered");
    default:
        return reply(500, "Server Internal Error - Unexpected HSS Answer");
    }
}

icscf_verdict_t icscf_uaa_verdict(cx_result_t r)
{
    if (r.experimental)
        return exp_verdict(r.code);
    if (r.code == DIA_SUCCESS_CODE)
        return (icscf_verdict_t){ true, 0, NULL };
    if (r.code == DIA_AUTHORIZATION_REJECTED)
        return reply(403, "Forbidden - Authorization Rejected");
    if (r.code == DIA_UNABLE_TO_COMPLY)
        return reply(500, "Server Internal Error - HSS Unable To Comply");
    if (r.code >= 3000 && r.code < 5000)
        /* protocol errors (no route, busy) and transient failures: try later */
        return reply(480, "Temporarily Unavailable");
    return reply(500, "Server Internal Error - HSS Error");
}

icscf_verdict_t icscf_lia_verdict(cx_result_t r)
{
    if (r.experimental) {
        switch (r.code) {
        case CX_UNREGISTERED_SERVICE:
            return (icscf_verdict_t){ true, 0, NULL };
        case CX_ERROR_USER_UNKNOWN:
            return reply(404, "Not Found");
        case CX_ERROR_IDENTITY_NOT_REGISTERED:
            return reply(480, "Temporarily Unavailable");
        default:
            return reply(500, "Server Internal Error - Unexpected HSS Answer");
        }
    }
    if (r.code == DIA_SUCCESS_CODE)
        return (icscf_verdict_t){ true, 0, NULL };
    if (r.code == DIA_UNABLE_TO_COMPLY)
        return reply(500, "Server Internal Error - HSS Unable To Comply");
    if (r.code >= 3000 && r.code < 5000)
        /* protocol errors (no route, busy) and transient failures: try later */
        return reply(480, "Temporarily Unavailable");
    return reply(500, "Server Internal Error - HSS Error");
}

static bool has_cap(const icscf_scscf_t *s, uint32_t c)
{
    for (int i = 0; i < s->ncaps; i++)
        if (s->caps[i] == c)
            return true;
    return false;
}

int icscf_caps_score(const icscf_scscf_t *s, const cx_caps_t *caps)
{
    int score = 0;

    for (int i = 0; i < caps->nmandatory && i < CX_MAX_CAPS; i++)
        if (!has_cap(s, caps->mandatory[i]))
            return -1;
    for (int i = 0; i < caps->noptional && i < CX_MAX_CAPS; i++)
        score += has_cap(s, caps->optional[i]);
    return score;
}

/* Append name unless empty, already there, or out is full. */
static int add(const char **out, int n, int max, const char *name)
{
    if (!name || !*name || n >= max)
        return n;
    for (int i = 0; i < n; i++)
        if (strcasecmp(out[i], name) == 0)
            return n;
    out[n] = name;
    return n + 1;
}

/* Configured S-CSCFs qualifying for caps, by descending score (stable). */
static int add_by_caps(const cx_caps_t *caps, const icscf_scscf_t *list, int n, const char **out,
                       int k, int max)
{
    int score[ICSCF_MAX_SCSCF], best = -1;

    if (n > ICSCF_MAX_SCSCF)
        n = ICSCF_MAX_SCSCF;
    for (int i = 0; i < n; i++) {
        score[i] = icscf_caps_score(&list[i], caps);
        if (score[i] > best)
            best = score[i];
    }
    for (int s = best; s >= 0; s--)
        for (int i = 0; i < n; i++)
            if (score[i] == s)
                k = add(out, k, max, list[i].uri);
    return k;
}

int icscf_select(const cx_uaa_t *a, const icscf_scscf_t *list, int n, const char *def,
                 const char **out, int max)
{
    return icscf_select_by(a->server_name, a->has_caps ? &a->caps : NULL, list, n, def, out, max);
}

int icscf_select_by(const char *server_name, const cx_caps_t *caps, const icscf_scscf_t *list,
                    int n, const char *def, const char **out, int max)
{
    int k = 0;

    if (max > ICSCF_MAX_CANDIDATES)
        max = ICSCF_MAX_CANDIDATES;
    if (server_name && server_name[0])
        return add(out, 0, max, server_name);
    if (caps) {
        for (int i = 0; i < caps->nserver_names && i < CX_MAX_CAPS; i++)
            k = add(out, k, max, caps->server_name[i]);
        k = add_by_caps(caps, list, n, out, k, max);
        return k ? k : add(out, 0, max, def);
    }
    k = add(out, k, max, def);
    for (int i = 0; i < n && i < ICSCF_MAX_SCSCF; i++)
        k = add(out, k, max, list[i].uri);
    return k;
}
