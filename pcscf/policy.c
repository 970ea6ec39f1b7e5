/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy_client: the session table, tickets and timeouts (see policy.h).
 *
 * Several backends share the one table: tickets are numbered across them, so
 * an answer finds its session whichever backend brings it; refs (Rx
 * Session-Ids, which carry our Origin-Host, and N5 app session names) do not
 * collide in practice, and a ref is only ever looked up for a session.
 * Counters are kept for the table (what ctl and metrics showed before there
 * were several backends) and per backend.
 */
#include "pcscf/policy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/hash.h"
#include "common/core/log.h"
#include "common/core/rc.h"

#define TICKET_KEY 24
#define NAMES_MAX (PCSCF_POLICY_MAX_BACKENDS * 8)

typedef struct backend {
    const pcscf_policy_backend_t *ops;
    void *be;
    pcscf_policy_stats_t stats;
} backend_t;

/* A request kept behind a pending one (pcscf_policy_req_t with its strings). */
struct pcscf_policy_next {
    pcscf_policy_req_t r;
    char *impu, *ue_ip, *icid;
    rx_media_comp_t *media;
};

struct pcscf_policy {
    ims_loop_t *loop;
    pcscf_policy_cfg_t cfg;
    backend_t be[PCSCF_POLICY_MAX_BACKENDS];
    size_t nbe;
    char names[NAMES_MAX];
    const pcscf_policy_owner_t *owner;
    void *owner_arg;
    ims_hash_t *by_key, *by_ref, *by_ticket;
    uint64_t next_ticket;
    pcscf_policy_stats_t stats;
};

/* Count field f of the table and of s's backend. */
#define BUMP(s, f) ((s)->pc->stats.f++, (s)->pc->be[(s)->backend].stats.f++)
#define DROP(s, f) ((s)->pc->stats.f--, (s)->pc->be[(s)->backend].stats.f--)

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
    pc->by_key = ims_hash_new(1024);
    pc->by_ref = ims_hash_new(1024);
    pc->by_ticket = ims_hash_new(256);
    if (!pc->by_key || !pc->by_ref || !pc->by_ticket)
        abort();
    pcscf_policy_add_backend(pc, ops, be);
    return pc;
}

int pcscf_policy_add_backend(pcscf_policy_t *pc, const pcscf_policy_backend_t *ops, void *be)
{
    size_t used = strlen(pc->names);

    if (pc->nbe >= PCSCF_POLICY_MAX_BACKENDS)
        return IMS_ERROR;
    pc->be[pc->nbe].ops = ops;
    pc->be[pc->nbe].be = be;
    snprintf(pc->names + used, sizeof(pc->names) - used, "%s%s", used ? "+" : "", ops->name);
    if (ops->attach)
        ops->attach(be, pc);
    return (int)pc->nbe++;
}

size_t pcscf_policy_backends(const pcscf_policy_t *pc) { return pc->nbe; }
void *pcscf_policy_owner_arg(const pcscf_policy_t *pc) { return pc->owner_arg; }

const char *pcscf_policy_backend_at(const pcscf_policy_t *pc, size_t i)
{
    return i < pc->nbe ? pc->be[i].ops->name : NULL;
}

const pcscf_policy_stats_t *pcscf_policy_backend_stats(const pcscf_policy_t *pc, size_t i)
{
    return i < pc->nbe ? &pc->be[i].stats : NULL;
}

int pcscf_policy_backend_index(const pcscf_policy_t *pc, const char *name)
{
    for (size_t i = 0; name && i < pc->nbe; i++)
        if (strcmp(pc->be[i].ops->name, name) == 0)
            return (int)i;
    return -1;
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

static void next_free(struct pcscf_policy_next *n)
{
    if (!n)
        return;
    free(n->impu);
    free(n->ue_ip);
    free(n->icid);
    free(n->media);
    free(n);
}

static char *dup_or_null(const char *v)
{
    char *d = v ? strdup(v) : NULL;

    if (v && !d)
        abort();
    return d;
}

/* A copy of r that outlives the call. */
static struct pcscf_policy_next *next_new(const pcscf_policy_req_t *r)
{
    struct pcscf_policy_next *n = calloc(1, sizeof(*n));
    size_t len = sizeof(rx_media_comp_t) * (size_t)(r->nmedia > 0 ? r->nmedia : 0);

    if (!n || (len && !(n->media = malloc(len))))
        abort();
    n->r = *r;
    n->r.impu = n->impu = dup_or_null(r->impu);
    n->r.ue_ip = n->ue_ip = dup_or_null(r->ue_ip);
    n->r.icid = n->icid = dup_or_null(r->icid);
    if (len)
        memcpy(n->media, r->media, len);
    n->r.media = n->media;
    n->r.queue = false;
    return n;
}

static void sess_free(pcscf_policy_sess_t *s)
{
    if (s->signalling)
        DROP(s, signalling_now);
    DROP(s, sessions_now);
    next_free(s->next);
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
    next_free(s->next);
    free(s->key);
    free(s);
}

void pcscf_policy_free(pcscf_policy_t *pc)
{
    if (!pc)
        return;
    /* What times out or fails while the backends go (a stop may run the loop)
     * reaches no one: the owner is going too. */
    pc->owner = NULL;
    for (size_t i = 0; i < pc->nbe; i++)
        if (pc->be[i].ops->stop)
            pc->be[i].ops->stop(pc->be[i].be);
    for (size_t i = 0; i < pc->nbe; i++)
        if (pc->be[i].ops->free)
            pc->be[i].ops->free(pc->be[i].be);
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
const char *pcscf_policy_backend_name(const pcscf_policy_t *pc) { return pc->names; }
bool pcscf_policy_queued(const pcscf_policy_sess_t *s) { return s->next != NULL; }

const char *pcscf_policy_sess_backend(const pcscf_policy_sess_t *s)
{
    return s->pc->be[s->backend].ops->name;
}
ims_loop_t *pcscf_policy_loop(const pcscf_policy_t *pc) { return pc->loop; }
const pcscf_policy_cfg_t *pcscf_policy_cfg(const pcscf_policy_t *pc) { return &pc->cfg; }

/* ---- results ---- */

static void count(pcscf_policy_sess_t *s, pcscf_policy_outcome_t o)
{
    switch (o) {
    case PCSCF_POLICY_OK: BUMP(s, ok); break;
    case PCSCF_POLICY_REJECTED: BUMP(s, rejected); break;
    case PCSCF_POLICY_TIMEOUT: BUMP(s, timeouts); break;
    case PCSCF_POLICY_UNREACHABLE: BUMP(s, unreachable); break;
    }
}

static void send_request(pcscf_policy_sess_t *s, pcscf_policy_req_t *r);

/* The result of s's pending request, which has just been forgotten; then the
 * request queued behind it, if any. */
static void deliver(pcscf_policy_sess_t *s, const pcscf_policy_result_t *res)
{
    pcscf_policy_t *pc = s->pc;
    bool update = s->open, ok = res->outcome == PCSCF_POLICY_OK;
    struct pcscf_policy_next *next;
    char *key;

    count(s, res->outcome);
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
    if (!s || s->ticket)
        return;
    if ((next = s->next) != NULL) {
        s->next = NULL;
        send_request(s, &next->r);
        next_free(next);
    } else if (!s->open) {
        sess_free(s);   /* a new session that failed: the server has none */
    }
}

static void on_timeout(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    pcscf_policy_sess_t *s = arg;
    pcscf_policy_result_t res = { PCSCF_POLICY_TIMEOUT, 0, false };

    IMS_NOTICE("policy %s: no answer from the %s server within %u ms", s->key,
               pcscf_policy_sess_backend(s), s->pc->cfg.timeout_ms);
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
    /* A name we still hold for another session: the server restarted and
     * numbers afresh, so the older one is forgotten there and the newer is
     * what its notifications now mean. */
    if (ims_hash_find(s->pc->by_ref, s->ref)) {
        pcscf_policy_sess_t *old = ims_hash_remove(s->pc->by_ref, s->ref);

        IMS_NOTICE("policy: %s reused by the server for %s; %s no longer has it", s->ref,
                   s->key, old->key);
        old->ref[0] = '\0';
    }
    if (ims_hash_insert(s->pc->by_ref, s->ref, s) == IMS_ERROR)
        abort();    /* out of memory */
}

int pcscf_policy_answered(pcscf_policy_t *pc, uint64_t ticket, const char *ref,
                          const pcscf_policy_result_t *res)
{
    char tk[TICKET_KEY];
    pcscf_policy_sess_t *s = ims_hash_find(pc->by_ticket, ticket_key(ticket, tk));

    if (!s) {
        pc->stats.late++;   /* whose backend's: unknown by now */
        IMS_INFO("policy: late %s answer (%s, ticket %s): its session is gone", pc->names,
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

static pcscf_policy_sess_t *sess_new(pcscf_policy_t *pc, const char *key, bool signalling,
                                     int backend)
{
    pcscf_policy_sess_t *s;

    if (backend < 0 || (size_t)backend >= pc->nbe) {
        IMS_WARN("policy %s: no backend %d", key, backend);
        return NULL;
    }
    if (ims_hash_count(pc->by_key) >= pc->cfg.max_sessions) {
        pc->stats.full++;
        pc->be[backend].stats.full++;
        IMS_WARN("policy %s: table full (%u sessions): not authorised", key,
                 pc->cfg.max_sessions);
        return NULL;
    }
    if (!(s = calloc(1, sizeof(*s))) || !(s->key = strdup(key)))
        abort();
    s->pc = pc;
    s->signalling = signalling;
    s->backend = (uint8_t)backend;
    if (signalling)
        BUMP(s, signalling_now);
    BUMP(s, sessions_now);
    ims_timer_init(&s->timer);
    if (ims_hash_insert(pc->by_key, key, s) != IMS_OK)
        abort();
    return s;
}

/* Send r for s (no request pending): a fresh ticket, the limit armed. */
static void send_request(pcscf_policy_sess_t *s, pcscf_policy_req_t *r)
{
    pcscf_policy_t *pc = s->pc;
    const backend_t *b = &pc->be[s->backend];
    char tk[TICKET_KEY];

    r->update = s->open;
    r->ref = s->ref;
    s->ticket = ++pc->next_ticket;
    if (ims_hash_insert(pc->by_ticket, ticket_key(s->ticket, tk), s) != IMS_OK)
        abort();
    if (r->update)
        BUMP(s, updates);
    else
        BUMP(s, requests);
    if (b->ops->authorize(b->be, s->ticket, r) != IMS_OK) {
        IMS_WARN("policy %s: the %s request could not be sent", s->key, b->ops->name);
        if (pc->loop)
            ims_timer_start(pc->loop, &s->timer, 0, on_not_sent, s);
        return;
    }
    if (pc->loop)
        ims_timer_start(pc->loop, &s->timer, pc->cfg.timeout_ms, on_timeout, s);
}

pcscf_policy_sess_t *pcscf_policy_authorize(pcscf_policy_t *pc, const char *key,
                                            pcscf_policy_req_t *r)
{
    pcscf_policy_sess_t *s = pcscf_policy_find(pc, key);

    if (s && s->ticket) {
        if (!r->queue) {
            IMS_INFO("policy %s: a request is pending already: this change waits", key);
            return NULL;
        }
        next_free(s->next);     /* the latest change is the one that counts */
        s->next = next_new(r);
        IMS_DEBUG("policy %s: queued behind the request pending", key);
        return s;
    }
    if (!s && !(s = sess_new(pc, key, r->signalling, r->backend)))
        return NULL;
    send_request(s, r);
    return s;
}

void pcscf_policy_release(pcscf_policy_sess_t *s)
{
    const backend_t *b = &s->pc->be[s->backend];

    if (s->open && s->ref[0]) {
        BUMP(s, released);
        b->ops->release(b->be, s->ref);
    }
    sess_free(s);
}

static void collect_key(void *arg, const char *key, void *value)
{
    char ***at = arg;

    if (!(**at = strdup(key)))
        abort();
    (*at)++;
}

static size_t busy(const pcscf_policy_t *pc)
{
    size_t n = 0;

    for (size_t i = 0; i < pc->nbe; i++)
        if (pc->be[i].ops->busy)
            n += pc->be[i].ops->busy(pc->be[i].be);
    return n;
}

size_t pcscf_policy_release_all(pcscf_policy_t *pc, uint32_t wait_ms)
{
    size_t n = ims_hash_count(pc->by_key), ended = 0;
    char **keys = calloc(n + 1, sizeof(*keys)), **at = keys;
    uint64_t end = ims_clock_now_ms() + wait_ms, now;
    pcscf_policy_sess_t *s;

    if (!keys)
        abort();
    pc->owner = NULL;   /* the owner is going: results reach no one */
    ims_hash_foreach(pc->by_key, collect_key, &at);
    for (size_t i = 0; i < n; i++) {
        if ((s = pcscf_policy_find(pc, keys[i])) != NULL) {
            ended += s->open && s->ref[0];
            pcscf_policy_release(s);
        }
        free(keys[i]);
    }
    free(keys);
    /* Bounded: a server that does not answer keeps nothing of ours waiting. */
    while (pc->loop && busy(pc) && (now = ims_clock_now_ms()) < end)
        ims_loop_run_once(pc->loop, (int)(end - now));
    if (busy(pc))
        IMS_NOTICE("policy: %zu requests still unanswered after %u ms at stop", busy(pc),
                   wait_ms);
    return ended;
}

int pcscf_policy_network_release(pcscf_policy_t *pc, const char *ref, const char *why)
{
    pcscf_policy_sess_t *s = pcscf_policy_by_ref(pc, ref);
    char *key;

    if (!s)
        return IMS_DECLINED;
    BUMP(s, network_released);
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
