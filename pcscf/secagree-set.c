/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sets of the P-CSCF's sec-agree (secagree.h tells their life; secagree.c
 * the procedures that drive it): their four SAs and policies in the kernel,
 * their protected ports and indexes, their states and timers, and the chain
 * of a set and the one it replaces. A set goes in three ways: destroyed at
 * once (never used: removed from the kernel, ids and ports given back),
 * dropped (the same, the set it would have replaced taking its place back),
 * or retired (removed after retire_ms, when its last responses have gone).
 */
#include "pcscf/secagree-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ipsec/ipsec_keys.h"

/* SA i+1 of the set and its policy (ims-reference §2.3, the P-CSCF side). */
static void sa_def(const pcscf_sec_set_t *t, int i, ims_xfrm_sa_t *sa, ims_xfrm_policy_t *p)
{
    bool in = i == 0 || i == 3;     /* SA1 and SA4 come from the UE */
    ims_xfrm_sel_t *sel = &sa->sel;

    memset(sa, 0, sizeof(*sa));
    if (in) {
        sel->src = t->ue;
        sel->dst = t->us;
    } else {
        sel->src = t->us;
        sel->dst = t->ue;
    }
    switch (i) {
    case 0: sel->sport = t->port_uc; sel->dport = t->port_ps; sa->spi = t->spi_ps; break;
    case 1: sel->sport = t->port_pc; sel->dport = t->port_us; sa->spi = t->spi_us; break;
    case 2: sel->sport = t->port_ps; sel->dport = t->port_uc; sa->spi = t->spi_uc; break;
    default: sel->sport = t->port_us; sel->dport = t->port_pc; sa->spi = t->spi_pc; break;
    }
    sel->l4proto = 0;           /* one SA for UDP and TCP */
    sel->owner = PCSCF_SEC_OWNER;
    sa->reqid = t->spi_ps;      /* ours, unique while the set lives */
    memset(p, 0, sizeof(*p));
    p->sel = *sel;
    p->dir = in ? IMS_XFRM_DIR_IN : IMS_XFRM_DIR_OUT;
    p->reqid = sa->reqid;
}

/* Requests to the UE's port-s leave from our port-c (pcscf_sec_client_port);
 * a newer set to the same port takes the entry over. */
static void index_us(pcscf_sec_set_t *t)
{
    sip_addr_t a;

    if (!pcscf_sec_sip_addr(&t->ue, t->port_us, &a) || !sip_addr_str(&a, t->us_key,
                                                                     sizeof(t->us_key)))
        return;
    ims_hash_remove(t->s->by_us, t->us_key);
    if (ims_hash_insert(t->s->by_us, t->us_key, t) == IMS_OK)
        t->us_indexed = true;
}

/* An add that failed because the entry is there already: when restoring, the
 * SA or policy of the previous run, which we keep (its sequence numbers and
 * replay window go on). */
static bool survived(const pcscf_secagree_t *s, bool restoring)
{
    return restoring && ims_xfrm_errno(s->x) == EEXIST;
}

/* SAs first, then the policies that need them. */
static int install_kernel(pcscf_sec_set_t *t, const ims_ipsec_keys_t *keys, bool restoring)
{
    pcscf_secagree_t *s = t->s;
    ims_xfrm_policy_t p[4];
    ims_xfrm_sa_t sa;

    for (int i = 0; i < 4; i++) {
        sa_def(t, i, &sa, &p[i]);
        if (s->ops.sa_add(s->ops_arg, s->x, &sa, keys) != IMS_OK && !survived(s, restoring))
            return IMS_ERROR;
        t->sas |= (uint8_t)(1u << i);
    }
    for (int i = 0; i < 4; i++) {
        if (ims_xfrm_policy_add(s->x, &p[i]) != IMS_OK && !survived(s, restoring))
            return IMS_ERROR;
        t->pols |= (uint8_t)(1u << i);
    }
    return IMS_OK;
}

int pcscf_sec_set_install(pcscf_sec_set_t *t, bool restoring)
{
    ims_ipsec_keys_t keys;
    int rc;

    if (ims_ipsec_keys_derive(t->alg, t->ealg, t->ck, t->ik, &keys) != IMS_OK)
        return IMS_ERROR;
    pcscf_sec_index_in(t);
    rc = install_kernel(t, &keys, restoring);
    explicit_bzero(&keys, sizeof(keys));
    if (rc != IMS_OK || pcscf_sec_open_ports(t) != IMS_OK)
        return IMS_ERROR;
    index_us(t);
    return IMS_OK;
}

static void uninstall(pcscf_sec_set_t *t)
{
    pcscf_secagree_t *s = t->s;
    ims_xfrm_policy_t p;
    ims_xfrm_sa_t sa;

    for (int i = 0; i < 4; i++) {
        sa_def(t, i, &sa, &p);
        if ((t->pols & (1u << i)) && ims_xfrm_policy_del(s->x, &p) == IMS_ERROR)
            IMS_WARN("sec-agree: %s", ims_xfrm_error(s->x));
        if ((t->sas & (1u << i)) &&
            s->ops.sa_del(s->ops_arg, s->x, &sa.sel.dst, sa.spi) == IMS_ERROR)
            IMS_WARN("sec-agree: %s", ims_xfrm_error(s->x));
    }
    t->sas = t->pols = 0;
    if (t->us_indexed && ims_hash_find(s->by_us, t->us_key) == t)
        ims_hash_remove(s->by_us, t->us_key);
    t->us_indexed = false;
    pcscf_sec_unindex_in(t);
}

/* ---- sets ---- */

static void set_on_timer(ims_loop_t *loop, ims_timer_t *tm, void *arg);

pcscf_sec_set_t *pcscf_sec_set_new(pcscf_secagree_t *s)
{
    pcscf_sec_set_t *t = calloc(1, sizeof(*t));

    if (!t)
        abort();
    t->s = s;
    t->state = PCSCF_SEC_OFFERED;
    t->created_ms = ims_clock_now_ms();
    ims_timer_init(&t->timer);
    t->next = s->all;
    if (s->all)
        s->all->prev = t;
    s->all = t;
    s->count[t->state]++;
    return t;
}

void pcscf_sec_set_arm(pcscf_sec_set_t *t, uint64_t ms)
{
    if (t->s->loop)
        ims_timer_start(t->s->loop, &t->timer, ms, set_on_timer, t);
}

void pcscf_sec_set_state(pcscf_sec_set_t *t, pcscf_sec_state_t st, uint64_t ms)
{
    t->s->count[t->state]--;
    t->state = st;
    t->s->count[st]++;
    pcscf_sec_set_arm(t, ms);
}

void pcscf_sec_set_unindex(pcscf_sec_set_t *t)
{
    if (t->indexed && ims_hash_find(t->s->sets, t->key) == t)
        ims_hash_remove(t->s->sets, t->key);
    t->indexed = false;
}

/* Callers make sure key is free (an abort otherwise, as for allocation failure). */
void pcscf_sec_set_index(pcscf_sec_set_t *t, const char *key)
{
    pcscf_sec_set_unindex(t);
    snprintf(t->key, sizeof(t->key), "%s", key);
    if (ims_hash_insert(t->s->sets, t->key, t) != IMS_OK)
        abort();
    t->indexed = true;
}

void pcscf_sec_link_old(pcscf_sec_set_t *t, pcscf_sec_set_t *old)
{
    t->old = old;
    if (old)
        old->newer = t;
}

pcscf_sec_set_t *pcscf_sec_unlink_chain(pcscf_sec_set_t *t)
{
    pcscf_sec_set_t *old = t->old;

    if (t->newer)
        t->newer->old = NULL;
    t->newer = NULL;
    if (old)
        old->newer = NULL;
    t->old = NULL;
    return old;
}

/* Remove from the kernel, give back ids and ports, free (its older sets too). */
void pcscf_sec_set_destroy(pcscf_sec_set_t *t)
{
    pcscf_secagree_t *s = t->s;
    pcscf_sec_set_t *old = pcscf_sec_unlink_chain(t);

    if (old)
        pcscf_sec_set_destroy(old);
    pcscf_sec_set_unindex(t);
    uninstall(t);
    if (t->ids)
        ipsec_alloc_release_spi_pair(s->alloc, t->spi_pc, t->spi_ps);
    pcscf_sec_release_ports(t);
    if (s->loop)
        ims_timer_stop(s->loop, &t->timer);
    if (t->prev)
        t->prev->next = t->next;
    else
        s->all = t->next;
    if (t->next)
        t->next->prev = t->prev;
    s->count[t->state]--;
    explicit_bzero(t, sizeof(*t));
    free(t);
}

/* Out of use: removed after retire_ms (the last responses still go over it). */
void pcscf_sec_set_retire(pcscf_sec_set_t *t)
{
    pcscf_sec_set_t *old = pcscf_sec_unlink_chain(t);

    if (old)
        pcscf_sec_set_retire(old);
    pcscf_sec_set_unindex(t);
    if (t->state == PCSCF_SEC_OFFERED) {
        pcscf_sec_set_destroy(t);
        return;
    }
    if (t->state != PCSCF_SEC_RETIRING) {
        t->s->stats.retired++;
        IMS_INFO("sec-agree: SAs spi %u/%u retire in %u ms", t->spi_pc, t->spi_ps,
                 t->s->cfg.retire_ms);
        pcscf_sec_set_state(t, PCSCF_SEC_RETIRING, t->s->cfg.retire_ms);
    }
}

/* t, a set that will not be used, goes at once; the one it would have
 * replaced (a registration going on) takes t's key back unless it kept its
 * own (a new port_uc), and requests to the UE's port-s go over it again. */
void pcscf_sec_set_drop(pcscf_sec_set_t *t)
{
    char key[PCSCF_KEY_LEN];
    pcscf_sec_set_t *old = pcscf_sec_unlink_chain(t);

    snprintf(key, sizeof(key), "%s", t->key);
    pcscf_sec_set_destroy(t);
    if (!old)
        return;
    if (!old->indexed)
        pcscf_sec_set_index(old, key);
    if (old->sas)
        index_us(old);
}

static void set_on_timer(ims_loop_t *loop, ims_timer_t *tm, void *arg)
{
    pcscf_sec_set_t *t = arg;

    switch (t->state) {
    case PCSCF_SEC_PENDING:
        IMS_NOTICE("sec-agree: no REGISTER over SAs spi %u/%u (reg-await-auth): removed",
                   t->spi_pc, t->spi_ps);
        pcscf_sec_set_drop(t);
        break;
    case PCSCF_SEC_ACTIVE:
        pcscf_sec_set_retire(t);  /* its UE never got stored, or outlived: safety net */
        break;
    default:
        pcscf_sec_set_destroy(t);
        break;
    }
}
