/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which iFC a request triggers: the TriggerPoint formula over the SPTs
 * (29.228 Annex F), ProfilePartIndicator, and the priority order with a
 * cursor so evaluation resumes after the iFC whose AS the request went to.
 * What one SPT means is in scscf/ifc-match.c.
 */
#include "scscf/ifc.h"

#include <stdint.h>

/* Memo of SPT results within one TriggerPoint: each SPT is evaluated at most
 * once although it may sit in several groups. */
#define SPT_UNKNOWN (-1)

typedef struct tp_eval {
    const scscf_ifc_t *ifc;
    const sip_msg_t *req;
    const scscf_ifc_env_t *env;
    int8_t res[SCSCF_UD_MAX_SPT];
} tp_eval_t;

static uint32_t spt_groups(const scscf_spt_t *spt)
{
    return spt->groups != 0 ? spt->groups : 1u;
}

static bool spt_result(tp_eval_t *e, int i)
{
    if (e->res[i] == SPT_UNKNOWN)
        e->res[i] = scscf_spt_matches(&e->ifc->spts[i], e->req, e->env) ? 1 : 0;
    return e->res[i] == 1;
}

/*
 * One group: in CNF an OR clause of its SPTs, in DNF an AND term. A group
 * number nobody names does not reach here (only named groups are visited).
 */
static bool group_result(tp_eval_t *e, int nspts, unsigned g)
{
    bool cnf = e->ifc->cnf;

    for (int i = 0; i < nspts; i++) {
        if (!(spt_groups(&e->ifc->spts[i]) & (1u << g)))
            continue;
        if (spt_result(e, i) == cnf)
            return cnf;     /* CNF: one true SPT makes the clause; DNF: one false breaks it */
    }
    return !cnf;
}

static bool trigger_point(const scscf_ifc_t *ifc, const sip_msg_t *req,
                          const scscf_ifc_env_t *env)
{
    tp_eval_t e = { .ifc = ifc, .req = req, .env = env };
    int nspts = ifc->nspts < SCSCF_UD_MAX_SPT ? ifc->nspts : SCSCF_UD_MAX_SPT;
    uint32_t named = 0;

    if (nspts <= 0 || !ifc->spts)
        return true;
    for (int i = 0; i < nspts; i++) {
        e.res[i] = SPT_UNKNOWN;
        named |= spt_groups(&ifc->spts[i]);
    }
    /* CNF: every clause must hold; DNF: any term suffices. */
    for (unsigned g = 0; g < 32; g++) {
        if (!(named & (1u << g)))
            continue;
        if (group_result(&e, nspts, g) != ifc->cnf)
            return !ifc->cnf;
    }
    return ifc->cnf;
}

static bool profile_part_applies(const scscf_ifc_t *ifc, bool registered)
{
    if (ifc->profile_part == 0)
        return registered;
    if (ifc->profile_part == 1)
        return !registered;
    return true;
}

bool scscf_ifc_matches_env(const scscf_ifc_t *ifc, const sip_msg_t *req,
                           const scscf_ifc_env_t *env)
{
    if (!ifc || !env || !sip_msg_is_request(req))
        return false;
    return profile_part_applies(ifc, env->registered) && trigger_point(ifc, req, env);
}

bool scscf_ifc_matches(const scscf_ifc_t *ifc, const sip_msg_t *req, int session_case,
                       bool registered)
{
    scscf_ifc_env_t env = { session_case, registered, 0 };

    return scscf_ifc_matches_env(ifc, req, &env);
}

/* Lower Priority first; document order breaks ties (a stable insertion sort). */
static int priority_order(const scscf_profile_t *p, int *order)
{
    int n = p->nifc < SCSCF_UD_MAX_IFC ? p->nifc : SCSCF_UD_MAX_IFC;

    for (int i = 0; i < n; i++) {
        int k = i;

        while (k > 0 && p->ifcs[order[k - 1]].priority > p->ifcs[i].priority) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    return n;
}

const scscf_ifc_t *scscf_ifc_next_env(const scscf_profile_t *p, const sip_msg_t *req,
                                      const scscf_ifc_env_t *env, int *pos)
{
    int order[SCSCF_UD_MAX_IFC], n, k;

    if (!pos)
        return NULL;
    if (!p || !p->ifcs || !env || !sip_msg_is_request(req)) {
        *pos = p ? p->nifc : 0;
        return NULL;
    }
    n = priority_order(p, order);
    for (k = *pos < 0 ? 0 : *pos + 1; k < n; k++) {
        const scscf_ifc_t *ifc = &p->ifcs[order[k]];

        if (scscf_ifc_matches_env(ifc, req, env)) {
            *pos = k;
            return ifc;
        }
    }
    *pos = n;
    return NULL;
}

const scscf_ifc_t *scscf_ifc_next(const scscf_profile_t *p, const sip_msg_t *req,
                                  int session_case, bool registered, int *pos)
{
    scscf_ifc_env_t env = { session_case, registered, 0 };

    return scscf_ifc_next_env(p, req, &env, pos);
}
