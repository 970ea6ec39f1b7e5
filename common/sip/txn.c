/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The transaction layer (RFC 3261 §17, RFC 6026): the layer object, matching
 * of inbound messages, and transaction lifetime. The state machines live in
 * txn_client.c and txn_server.c.
 *
 * Matching is one hash lookup per message. Keys are built in stack buffers:
 *   client        "C<branch> <CSeq method>"
 *   server        "S<branch> <sent-by> <method>"      (ACK looks up "INVITE")
 *   RFC 2543 peer "R<Call-ID> <CSeq num> <From tag> <sent-by> <method>"
 * A transaction leaves the table the moment it terminates, so whatever
 * arrives afterwards is new (requests) or stray (responses, ACKs).
 *
 * Lifetime: a transaction may terminate while the user is inside one of its
 * callbacks (a timer that is zero over TCP, a TU reply that completes it), so
 * termination only queues it; a 0 ms reaper timer, which runs from the loop
 * and never inside a user callback, calls on_end and frees it.
 */
#include "common/sip/txn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/txn_int.h"

typedef int (*txn_state_fn)(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg);

/* [kind][state]: NULL where the kind has no such state (and for Terminated). */
static const txn_state_fn txn_states[TXN_KINDS][TXN_STATES] = {
    [TXN_ICT] = {
        [TXN_CALLING] = txn_ict_calling, [TXN_PROCEEDING] = txn_ict_proceeding,
        [TXN_COMPLETED] = txn_ict_completed, [TXN_ACCEPTED] = txn_ict_accepted,
    },
    [TXN_NICT] = {
        [TXN_TRYING] = txn_nict_trying, [TXN_PROCEEDING] = txn_nict_proceeding,
        [TXN_COMPLETED] = txn_nict_completed,
    },
    [TXN_IST] = {
        [TXN_PROCEEDING] = txn_ist_proceeding, [TXN_COMPLETED] = txn_ist_completed,
        [TXN_CONFIRMED] = txn_ist_confirmed, [TXN_ACCEPTED] = txn_ist_accepted,
    },
    [TXN_NIST] = {
        [TXN_TRYING] = txn_nist_trying, [TXN_PROCEEDING] = txn_nist_proceeding,
        [TXN_COMPLETED] = txn_nist_completed,
    },
};

/* Run the current state's function; msg (if any) is consumed either way. */
int txn_dispatch(sip_txn_t *t, txn_event_t ev, sip_msg_t *msg)
{
    txn_state_fn fn = txn_states[t->kind][t->state];

    if (!fn) {
        txn_msg_drop(msg);
        return IMS_ERROR;
    }
    return fn(t, ev, msg);
}

/* ---- keys ---- */

void txn_key_put(txn_key_t *k, const char *s)
{
    size_t l = s ? strlen(s) : 0;

    if (k->over || l >= sizeof(k->b) - k->n) {
        k->over = true;
        return;
    }
    memcpy(k->b + k->n, s, l);
    k->n += l;
    k->b[k->n] = '\0';
}

bool txn_client_key(txn_key_t *k, const char *branch, const char *method)
{
    k->n = 0;
    k->over = false;
    txn_key_put(k, "C");
    txn_key_put(k, branch);
    txn_key_put(k, " ");
    txn_key_put(k, method);
    return !k->over;
}

/* The server key of req, filed under method (the INVITE's for an ACK or CANCEL lookup). */
static bool txn_server_key(txn_key_t *k, const sip_msg_t *req, const char *method)
{
    osip_via_t *via = sip_msg_top_via(req);
    const char *branch;
    char sent_by[512];

    if (!via || !method || !sip_msg_via_sent_by(via, sent_by, sizeof(sent_by)))
        return false;
    branch = sip_msg_via_branch(via);
    k->n = 0;
    k->over = false;
    if (branch && strncmp(branch, TXN_COOKIE, TXN_COOKIE_LEN) == 0) {
        txn_key_put(k, "S");
        txn_key_put(k, branch);
    } else {
        /* RFC 2543 peers have no unique branch (§17.2.3's fallback). */
        char num[16];

        if (!sip_msg_call_id(req))
            return false;
        snprintf(num, sizeof(num), "%" PRIu32, sip_msg_cseq_num(req));
        txn_key_put(k, "R");
        txn_key_put(k, sip_msg_call_id(req));
        txn_key_put(k, " ");
        txn_key_put(k, num);
        txn_key_put(k, " ");
        txn_key_put(k, sip_msg_from_tag(req));
    }
    txn_key_put(k, " ");
    txn_key_put(k, sent_by);
    txn_key_put(k, " ");
    txn_key_put(k, method);
    return !k->over;
}

/* ---- lifetime ---- */

static void txn_retx_fired(ims_loop_t *loop, ims_timer_t *tm, void *arg)
{
    txn_dispatch(arg, TXN_EV_TIMER_RETX, NULL);
}

static void txn_end_fired(ims_loop_t *loop, ims_timer_t *tm, void *arg)
{
    txn_dispatch(arg, TXN_EV_TIMER_END, NULL);
}

void txn_start_retx(sip_txn_t *t, uint32_t ms)
{
    t->retx_ms = ms;
    ims_timer_start(t->layer->loop, &t->retx, ms, txn_retx_fired, t);
}

/* Timers B, D, F, H, I, J, K, L, M: each ends the transaction, and none is
 * hurt by firing up to IMS_TIMER_COARSE_MS late, so they share the coarse grid. */
void txn_start_end(sip_txn_t *t, uint32_t ms)
{
    ims_timer_start_coarse(t->layer->loop, &t->end, ms, txn_end_fired, t);
}

int txn_create(sip_txn_layer_t *l, txn_kind_t kind, const txn_key_t *key, sip_txn_t **out)
{
    sip_txn_t *t = calloc(1, sizeof(*t) + key->n + 1);
    int rc;

    *out = NULL;
    if (!t)
        return IMS_ERROR;
    t->layer = l;
    t->kind = kind;
    t->state = (kind == TXN_ICT) ? TXN_CALLING : (kind == TXN_IST) ? TXN_PROCEEDING : TXN_TRYING;
    ims_timer_init(&t->retx);
    ims_timer_init(&t->end);
    t->key_len = key->n;
    memcpy(t->key, key->b, key->n);
    t->key[key->n] = '\0';
    rc = ims_hash_insert_n(l->table, t->key, t->key_len, t);
    if (rc != IMS_OK) {
        free(t);
        return rc;
    }
    l->count++;
    *out = t;
    return IMS_OK;
}

/* A client transaction leaves the unready list on its first response or its
 * end, whichever comes first: both change its state. */
void txn_set_state(sip_txn_t *t, txn_state_t st)
{
    t->state = st;
    if (t->unready_conn)
        txn_unready_set(t, 0);
}

void txn_unready_set(sip_txn_t *t, uint32_t conn_id)
{
    sip_txn_layer_t *l = t->layer;

    if (t->unready_conn) {
        if (t->unready_prev)
            t->unready_prev->unready_next = t->unready_next;
        else
            l->unready = t->unready_next;
        if (t->unready_next)
            t->unready_next->unready_prev = t->unready_prev;
        t->unready_prev = t->unready_next = NULL;
    }
    t->unready_conn = conn_id;
    if (conn_id) {
        t->unready_next = l->unready;
        if (l->unready)
            l->unready->unready_prev = t;
        l->unready = t;
    }
}

static void txn_free(sip_txn_t *t)
{
    sip_txn_layer_t *l = t->layer;

    txn_unready_set(t, 0);
    ims_timer_stop(l->loop, &t->retx);
    ims_timer_stop(l->loop, &t->end);
    txn_msg_drop(t->req);
    txn_text_free(t->out);
    l->count--;
    free(t);
}

void txn_discard(sip_txn_t *t)
{
    ims_hash_remove_n(t->layer->table, t->key, t->key_len);
    txn_free(t);
}

static void txn_reap(ims_loop_t *loop, ims_timer_t *tm, void *arg)
{
    sip_txn_layer_t *l = arg;
    sip_txn_t *t;

    /* on_end may answer or terminate others: they join the lists and are handled
     * here too. Sheds go first: a queued shed may belong to a dead transaction. */
    while (l->shed || l->dead) {
        while ((t = l->shed) != NULL) {
            l->shed = t->next_shed;
            t->shed_queued = false;
            txn_msg_drop(t->req);
            t->req = NULL;
        }
        if ((t = l->dead) != NULL) {
            l->dead = t->next_dead;
            if (t->end_cb)
                t->end_cb(t->end_arg, t);
            txn_free(t);
        }
    }
}

static void txn_reaper_arm(sip_txn_layer_t *l)
{
    if (!ims_timer_armed(&l->reaper))
        ims_timer_start(l->loop, &l->reaper, 0, txn_reap, l);
}

void txn_shed_server(sip_txn_t *t)
{
    sip_txn_layer_t *l = t->layer;

    if (t->shed_queued || !t->req || t->state == TXN_TERMINATED)
        return;
    t->shed_queued = true;
    t->next_shed = l->shed;
    l->shed = t;
    txn_reaper_arm(l);
}

void txn_shed_client(sip_txn_t *t)
{
    /* Retransmitted finals are answered from out (the ACK) or absorbed. */
    txn_msg_drop(t->req);
    t->req = NULL;
    if (t->kind == TXN_NICT || t->state == TXN_ACCEPTED) {
        txn_text_free(t->out);
        t->out = NULL;
        t->out_len = 0;
    }
}

void txn_terminate(sip_txn_t *t)
{
    sip_txn_layer_t *l = t->layer;

    if (t->state == TXN_TERMINATED)
        return;
    txn_set_state(t, TXN_TERMINATED);
    ims_timer_stop(l->loop, &t->retx);
    ims_timer_stop(l->loop, &t->end);
    ims_hash_remove_n(l->table, t->key, t->key_len);
    t->next_dead = l->dead;
    l->dead = t;
    txn_reaper_arm(l);
}

/* ---- the layer ---- */

sip_txn_layer_t *sip_txn_layer_new(ims_loop_t *loop, sip_transport_t *tp,
                                   const sip_txn_timers_t *timers)
{
    sip_txn_layer_t *l = calloc(1, sizeof(*l));

    if (!l)
        return NULL;
    l->table = ims_hash_new(1024);
    if (!l->table) {
        free(l);
        return NULL;
    }
    l->loop = loop;
    l->tp = tp;
    l->tm = (sip_txn_timers_t){ .t1_ms = 500, .t2_ms = 4000, .t4_ms = 5000, .trying_ms = 100 };
    if (timers) {
        if (timers->t1_ms)
            l->tm.t1_ms = timers->t1_ms;
        if (timers->t2_ms)
            l->tm.t2_ms = timers->t2_ms;
        if (timers->t4_ms)
            l->tm.t4_ms = timers->t4_ms;
        if (timers->trying_ms)
            l->tm.trying_ms = timers->trying_ms > 200 ? 200 : timers->trying_ms;
    }
    ims_timer_init(&l->reaper);
    sip_random_token(l->branch_salt, 8);
    sip_transport_on_conn_fail(tp, txn_conn_failed, l);
    return l;
}

static void free_one(void *arg, const char *key, void *value)
{
    txn_free(value);
}

void sip_txn_layer_free(sip_txn_layer_t *l)
{
    sip_txn_t *t;

    if (!l)
        return;
    sip_transport_off_conn_fail(l->tp, l);
    l->shed = NULL; /* every transaction is freed below, queued or not */
    ims_hash_foreach(l->table, free_one, NULL);
    while ((t = l->dead) != NULL) {
        l->dead = t->next_dead;
        txn_free(t);
    }
    ims_timer_stop(l->loop, &l->reaper);
    ims_hash_free(l->table);
    free(l);
}

void sip_txn_layer_set_user(sip_txn_layer_t *l, const sip_txn_user_t *user, void *arg)
{
    if (user)
        l->user = *user;
    else
        memset(&l->user, 0, sizeof(l->user));
    l->user_arg = arg;
}

sip_transport_t *sip_txn_layer_transport(sip_txn_layer_t *l)
{
    return l->tp;
}

ims_loop_t *sip_txn_layer_loop(sip_txn_layer_t *l)
{
    return l->loop;
}

uint64_t sip_txn_layer_finals(const sip_txn_layer_t *l, bool invite, int cls)
{
    return (l && cls >= 2 && cls <= 6) ? l->finals[invite][cls - 2] : 0;
}

const sip_txn_timers_t *sip_txn_layer_timers(const sip_txn_layer_t *l)
{
    return &l->tm;
}

size_t sip_txn_layer_count(const sip_txn_layer_t *l)
{
    return l->count;
}

sip_txn_t *sip_txn_server_find_invite(sip_txn_layer_t *l, const sip_msg_t *cancel)
{
    txn_key_t k;
    sip_txn_t *t;

    if (!cancel || !txn_server_key(&k, cancel, "INVITE"))
        return NULL;
    t = ims_hash_find_n(l->table, k.b, k.n);
    return (t && t->kind == TXN_IST) ? t : NULL;
}

/* ---- input ---- */

static void deliver_ack(sip_txn_layer_t *l, sip_msg_t *ack)
{
    if (l->user.on_ack)
        l->user.on_ack(l->user_arg, ack);
    else
        sip_msg_free(ack);
}

/* A request no transaction knows: a new server transaction for the TU. */
static void server_begin(sip_txn_layer_t *l, sip_msg_t *req, const osip_via_t *via,
                         const txn_key_t *k, bool invite)
{
    sip_txn_t *t;

    if (!l->user.on_request || txn_create(l, invite ? TXN_IST : TXN_NIST, k, &t) != IMS_OK) {
        sip_msg_free(req);
        return;
    }
    t->req = req;
    txn_response_dest(req, via, &t->dst);
    t->reliable = t->dst.proto != SIP_PROTO_UDP;
    l->user.on_request(l->user_arg, t, req);
}

static void input_request(sip_txn_layer_t *l, sip_msg_t *req)
{
    osip_via_t *via = sip_msg_top_via(req);
    const char *method = sip_msg_method(req);
    bool ack, invite;
    txn_key_t k;
    sip_txn_t *t;

    if (!via || !method) {
        sip_msg_free(req);
        return;
    }
    ack = strcmp(method, "ACK") == 0;
    invite = strcmp(method, "INVITE") == 0;
    txn_via_mark_source(req, via);
    if (!txn_server_key(&k, req, (ack || invite) ? "INVITE" : method)) {
        IMS_DEBUG("txn: request without a usable key dropped");
        sip_msg_free(req);
        return;
    }
    t = ims_hash_find_n(l->table, k.b, k.n);
    if (ack) {
        if (t && t->kind == TXN_IST)
            txn_dispatch(t, TXN_EV_ACK, req);
        else
            deliver_ack(l, req);
    } else if (t) {
        txn_dispatch(t, TXN_EV_REQUEST, req);
    } else {
        server_begin(l, req, via, &k, invite);
    }
}

static void input_response(sip_txn_layer_t *l, sip_msg_t *resp)
{
    osip_via_t *via = sip_msg_top_via(resp);
    const char *branch = via ? sip_msg_via_branch(via) : NULL;
    const char *method = sip_msg_cseq_method(resp);
    int code = sip_msg_status(resp);
    sip_txn_t *t = NULL;
    txn_key_t k;

    if (code < 100 || code > 699) {
        sip_msg_free(resp);
        return;
    }
    if (branch && method && txn_client_key(&k, branch, method))
        t = ims_hash_find_n(l->table, k.b, k.n);
    if (t) {
        txn_dispatch(t, TXN_EV_RESPONSE, resp);
    } else if (l->user.on_stray_response) {
        l->user.on_stray_response(l->user_arg, resp);
    } else {
        sip_msg_free(resp);
    }
}

void sip_txn_layer_input(sip_txn_layer_t *l, sip_msg_t *msg)
{
    if (!msg)
        return;
    if (sip_msg_is_request(msg))
        input_request(l, msg);
    else
        input_response(l, msg);
}

/* ---- accessors ---- */

void sip_txn_set_on_end(sip_txn_t *t, sip_txn_end_cb cb, void *arg)
{
    t->end_cb = cb;
    t->end_arg = arg;
}

const sip_msg_t *sip_txn_request(const sip_txn_t *t)
{
    return t->req;
}

bool sip_txn_is_server(const sip_txn_t *t)
{
    return t->kind == TXN_IST || t->kind == TXN_NIST;
}

bool sip_txn_is_invite(const sip_txn_t *t)
{
    return t->kind == TXN_ICT || t->kind == TXN_IST;
}

int sip_txn_final_code(const sip_txn_t *t)
{
    return t->final_code;
}

void sip_txn_set_data(sip_txn_t *t, void *data)
{
    t->data = data;
}

void *sip_txn_get_data(const sip_txn_t *t)
{
    return t->data;
}

const sip_dest_t *sip_txn_dest(const sip_txn_t *t)
{
    return &t->dst;
}
