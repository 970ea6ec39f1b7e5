/* SPDX-License-Identifier: BSD-2-Clause */
/* policy_client: the session table, tickets and timeouts (see policy.h). */
#include "pcscf/policy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/hash.h"
#include "common/core/log.h"
#include "common/core/rc.h"

#define TICKET_KEY 24

struct pcscf_policy {
    ims_loop_t *loop;
    pcscf_policy_cfg_t cfg;
    const pcscf_policy_backend_t *ops;
    void *be;
    const pcscf_policy_owner_t *owner;
    void *owner_arg;
    ims_hash_t *by_key, *by_ref, *by_ticket;
    uint64_t next_ticket;
    pcscf_policy_stats_t stats;
};

const char *pcscf_policy_outcome_name(pcscf_policy_outcome_t o)
{
    switch (o) {
    case PCSCF_POLICY_OK: return "authorised";
    case PCSCF_POLICY_REJECTED: return "rejected";
    case PCSCF_POLICY_TIMEOUT: return "timeout";
    case PCSCF_POLICY_UNREACHABLE: return "unreachable";
    }
    return "?";
}

static const char *ticket_key(uint64_t t, char buf[TICKET_KEY])
{
    snprintf(buf, TICKET_KEY, "%" PRIx64, t);
    return buf;
}

pcscf_policy_t *pcscf_policy_new(ims_loop_t *loop, const pcscf_policy_cfg_t *cfg,
                                 const pcscf_policy_backend_t *ops, void *be)
{
    pcscf_policy_t *pc = calloc(1, sizeof(*pc));

    if (!pc)
        abort();
    pc->loop = loop;
    pc->cfg = *cfg;
    if (!pc->cfg.timeout_ms)
        pc->cfg.timeout_ms = PCSCF_POLICY_TIMEOUT_MS;
    if (!pc->cfg.max_sessions)
        pc->cfg.max_sessions = PCSCF_POLICY_MAX_SESSIONS;
    pc->ops = ops;
    pc->be = be;
    pc->by_key = ims_hash_new(1024);
    pc->by_ref = ims_hash_new(1024);
    pc->by_ticket = ims_hash_new(256);
    if (!pc->by_key || !pc->by_ref || !pc->by_ticket)
        abort();
    if (ops->attach)
        ops->attach(be, pc);
    return pc;
}

void pcscf_policy_set_owner(pcscf_policy_t *pc, const pcscf_policy_owner_t *owner, void *arg)
{
    pc->owner = owner;
    pc->owner_arg = arg;
}

static void forget_ticket(pcscf_policy_sess_t *s)
{
    char tk[TICKET_KEY];

    if (!s->ticket)
        return;
    ims_hash_remove(s->pc->by_ticket, ticket_key(s->ticket, tk));
    s->ticket = 0;
    if (s->pc->loop)
        ims_timer_stop(s->pc->loop, &s->timer);
}

static void sess_free(pcscf_policy_sess_t *s)
{
    if (s->signalling)
        s->pc->stats.signalling_now--;
    forget_ticket(s);
    if (s->ref[0])
        ims_hash_remove(s->pc->by_ref, s->ref);
    ims_hash_remove(s->pc->by_key, s->key);
    free(s->key);
    free(s);
}

static void free_one(void *arg, const char *key, void *value)
{
    pcscf_policy_sess_t *s = value;

    if (s->pc->loop)
        ims_timer_stop(s->pc->loop, &s->timer);
    free(s->key);
    free(s);
}

void pcscf_policy_free(pcscf_policy_t *pc)
{
    if (!pc)
        return;
    /* What times out or fails while the backend goes (its stop may run the
     * loop) reaches no one: the owner is going too. */
    pc->owner = NULL;
    if (pc->ops->stop)
        pc->ops->stop(pc->be);
    if (pc->ops->free)
        pc->ops->free(pc->be);
    ims_hash_foreach(pc->by_key, free_one, NULL);
    ims_hash_free(pc->by_key);
    ims_hash_free(pc->by_ref);
    ims_hash_free(pc->by_ticket);
    free(pc);
}

pcscf_policy_sess_t *pcscf_policy_find(const pcscf_policy_t *pc, const char *key)
{
    return key ? ims_hash_find(pc->by_key, key) : NULL;
}

pcscf_policy_sess_t *pcscf_policy_by_ref(const pcscf_policy_t *pc, const char *ref)
{
    return ref && *ref ? ims_hash_find(pc->by_ref, ref) : NULL;
}

size_t pcscf_policy_count(const pcscf_policy_t *pc) { return ims_hash_count(pc->by_key); }
const pcscf_policy_stats_t *pcscf_policy_stats(const pcscf_policy_t *pc) { return &pc->stats; }
const char *pcscf_policy_backend_name(const pcscf_policy_t *pc) { return pc->ops->name; }
ims_loop_t *pcscf_policy_loop(const pcscf_policy_t *pc) { return pc->loop; }
const pcscf_policy_cfg_t *pcscf_policy_cfg(const pcscf_policy_t *pc) { return &pc->cfg; }

/* ---- results ---- */

static void count(pcscf_policy_t *pc, pcscf_policy_outcome_t o)
{
    switch (o) {
    case PCSCF_POLICY_OK: pc->stats.ok++; break;
    case PCSCF_POLICY_REJECTED: pc->stats.rejected++; break;
    case PCSCF_POLICY_TIMEOUT: pc->stats.timeouts++; break;
    case PCSCF_POLICY_UNREACHABLE: pc->stats.unreachable++; break;
    }
}

/* The result of s's pending request, which has just been forgotten. */
static void deliver(pcscf_policy_sess_t *s, const pcscf_policy_result_t *res)
{
    pcscf_policy_t *pc = s->pc;
    bool update = s->open, ok = res->outcome == PCSCF_POLICY_OK;
    char *key;

    count(pc, res->outcome);
    if (ok)
        s->open = true;
    else if (!update)
        s->media_hash = 0;
    if (!pc->owner) {
        if (!ok && !update)
            sess_free(s);
        return;
    }
    /* The owner may release s in its callback: find it again by key after. */
    if (!(key = strdup(s->key)))
        abort();
    pc->owner->on_result(pc->owner_arg, s, update, res);
    s = pcscf_policy_find(pc, key);
    free(key);
    if (s && !s->open && !s->ticket)
        sess_free(s);   /* a new session that failed: the server has none */
}

static void on_timeout(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    pcscf_policy_sess_t *s = arg;
    pcscf_policy_result_t res = { PCSCF_POLICY_TIMEOUT, 0, false };

    IMS_NOTICE("policy %s: no answer from the %s server within %u ms", s->key,
               s->pc->ops->name, s->pc->cfg.timeout_ms);
    forget_ticket(s);
    deliver(s, &res);
}

/* A backend that could not send: UNREACHABLE, from the loop as promised. */
static void on_not_sent(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    pcscf_policy_sess_t *s = arg;
    pcscf_policy_result_t res = { PCSCF_POLICY_UNREACHABLE, 0, false };

    forget_ticket(s);
    deliver(s, &res);
}

static void set_ref(pcscf_policy_sess_t *s, const char *ref)
{
    if (!ref || !*ref || strcmp(ref, s->ref) == 0)
        return;
    if (s->ref[0])
        ims_hash_remove(s->pc->by_ref, s->ref);
    snprintf(s->ref, sizeof(s->ref), "%s", ref);
    if (ims_hash_insert(s->pc->by_ref, s->ref, s) == IMS_ERROR)
        abort();
}

int pcscf_policy_answered(pcscf_policy_t *pc, uint64_t ticket, const char *ref,
                          const pcscf_policy_result_t *res)
{
    char tk[TICKET_KEY];
    pcscf_policy_sess_t *s = ims_hash_find(pc->by_ticket, ticket_key(ticket, tk));

    if (!s) {
        pc->stats.late++;
        IMS_INFO("policy: late %s answer (%s, ticket %s): its session is gone", pc->ops->name,
                 pcscf_policy_outcome_name(res->outcome), tk);
        return IMS_DECLINED;
    }
    forget_ticket(s);
    if (res->outcome == PCSCF_POLICY_OK)
        set_ref(s, ref);
    deliver(s, res);
    return IMS_OK;
}

/* ---- requests ---- */

static pcscf_policy_sess_t *sess_new(pcscf_policy_t *pc, const char *key, bool signalling)
{
    pcscf_policy_sess_t *s;

    if (ims_hash_count(pc->by_key) >= pc->cfg.max_sessions) {
        pc->stats.full++;
        IMS_WARN("policy %s: table full (%u sessions): not authorised", key,
                 pc->cfg.max_sessions);
        return NULL;
    }
    if (!(s = calloc(1, sizeof(*s))) || !(s->key = strdup(key)))
        abort();
    s->pc = pc;
    s->signalling = signalling;
    if (signalling)
        pc->stats.signalling_now++;
    ims_timer_init(&s->timer);
    if (ims_hash_insert(pc->by_key, key, s) != IMS_OK)
        abort();
    return s;
}

pcscf_policy_sess_t *pcscf_policy_authorize(pcscf_policy_t *pc, const char *key,
                                            pcscf_policy_req_t *r)
{
    pcscf_policy_sess_t *s = pcscf_policy_find(pc, key);
    char tk[TICKET_KEY];

    if (s && s->ticket) {
        IMS_INFO("policy %s: a request is pending already: this change waits", key);
        return NULL;
    }
    if (!s && !(s = sess_new(pc, key, r->signalling)))
        return NULL;
    r->update = s->open;
    r->ref = s->ref;
    s->ticket = ++pc->next_ticket;
    if (ims_hash_insert(pc->by_ticket, ticket_key(s->ticket, tk), s) != IMS_OK)
        abort();
    if (r->update)
        pc->stats.updates++;
    else
        pc->stats.requests++;
    if (pc->ops->authorize(pc->be, s->ticket, r) != IMS_OK) {
        IMS_WARN("policy %s: the %s request could not be sent", key, pc->ops->name);
        if (pc->loop)
            ims_timer_start(pc->loop, &s->timer, 0, on_not_sent, s);
        return s;
    }
    if (pc->loop)
        ims_timer_start(pc->loop, &s->timer, pc->cfg.timeout_ms, on_timeout, s);
    return s;
}

void pcscf_policy_release(pcscf_policy_sess_t *s)
{
    pcscf_policy_t *pc = s->pc;

    if (s->open && s->ref[0]) {
        pc->stats.released++;
        pc->ops->release(pc->be, s->ref);
    }
    sess_free(s);
}

int pcscf_policy_network_release(pcscf_policy_t *pc, const char *ref, const char *why)
{
    pcscf_policy_sess_t *s = pcscf_policy_by_ref(pc, ref);
    char *key;

    if (!s)
        return IMS_DECLINED;
    pc->stats.network_released++;
    IMS_NOTICE("policy %s: released by the network (%s)", s->key, why);
    if (!(key = strdup(s->key)))
        abort();
    if (pc->owner)
        pc->owner->on_release(pc->owner_arg, s, why);
    if ((s = pcscf_policy_find(pc, key)) != NULL)
        pcscf_policy_release(s);
    free(key);
    return IMS_OK;
}
