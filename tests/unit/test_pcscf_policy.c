/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The policy_client table (pcscf/policy.c) with a fake backend and a fake
 * owner, on a real loop: a session created, named by the server's answer and
 * updated on the same name; a second request while one is pending refused; a
 * refused new session gone without a release, an open one released once; a
 * late answer (session released while pending) declined, and counted; the
 * limit from timeout_ms on a silent backend (TIMEOUT from the loop, the late
 * answer then declined); a backend that cannot send reported UNREACHABLE from
 * the loop, never from inside authorize; a network release reaching the owner
 * and then the server (release after the upcall); the table's bound; a change
 * queued behind a pending request (the latest only) and sent after its answer,
 * also as a new session when the first failed; two backends in one table
 * (sessions and updates on their own, counters per backend); the release of
 * everything at stop, waiting for the backend's answers but bounded.
 *
 * The pcscf/ sources are compiled into this program (the daemon is not a library).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "pcscf/policy.c"

/* ---- the fakes ---- */

typedef struct fake {
    int authorized, released, results, net_releases;
    uint64_t last_ticket;
    bool last_update, fail_send, last_prelim;
    uint32_t last_media;                /* the first component's number, 0 none */
    char last_ref[PCSCF_POLICY_REF], released_ref[PCSCF_POLICY_REF];
    pcscf_policy_result_t last_res;
    bool last_res_update;
    bool in_authorize;      /* a result delivered inside authorize would be a bug */
    ims_loop_t *loop;
} fake_t;

static fake_t g;

static int fake_authorize(void *be, uint64_t ticket, const pcscf_policy_req_t *r)
{
    g.authorized++;
    g.last_ticket = ticket;
    g.last_update = r->update;
    g.last_prelim = r->preliminary;
    g.last_media = r->nmedia > 0 ? r->media[0].number : 0;
    snprintf(g.last_ref, sizeof(g.last_ref), "%s", r->ref ? r->ref : "");
    return g.fail_send ? IMS_ERROR : IMS_OK;
}

static void fake_release(void *be, const char *ref)
{
    g.released++;
    snprintf(g.released_ref, sizeof(g.released_ref), "%s", ref);
}

static const pcscf_policy_backend_t fake_ops = {
    .name = "fake", .authorize = fake_authorize, .release = fake_release,
};

static void on_result(void *arg, pcscf_policy_sess_t *s, bool update,
                      const pcscf_policy_result_t *res)
{
    assert_false(g.in_authorize);
    g.results++;
    g.last_res = *res;
    g.last_res_update = update;
    if (g.loop)
        ims_loop_stop(g.loop);
}

static void on_release(void *arg, pcscf_policy_sess_t *s, const char *why)
{
    g.net_releases++;
    assert_string_equal(why, "Bearer released");
    assert_int_equal(g.released, 0);   /* the upcall first, then the release */
}

static const pcscf_policy_owner_t fake_owner = { on_result, on_release };

static pcscf_policy_t *table(ims_loop_t *loop, uint32_t timeout_ms, uint32_t max)
{
    pcscf_policy_cfg_t cfg = { timeout_ms, max };
    pcscf_policy_t *pc = pcscf_policy_new(loop, &cfg, &fake_ops, NULL);

    memset(&g, 0, sizeof(g));
    g.loop = loop;
    pcscf_policy_set_owner(pc, &fake_owner, NULL);
    return pc;
}

static pcscf_policy_sess_t *ask(pcscf_policy_t *pc, const char *key)
{
    pcscf_policy_req_t q = { .impu = "sip:a@x", .ue_ip = "10.0.0.1" };
    pcscf_policy_sess_t *s;

    g.in_authorize = true;
    s = pcscf_policy_authorize(pc, key, &q);
    g.in_authorize = false;
    return s;
}

static const pcscf_policy_result_t ok_res = { PCSCF_POLICY_OK, 2001, false };

/* ---- tests ---- */

static void test_create_update_release(void **state)
{
    pcscf_policy_t *pc = table(NULL, 0, 0);
    pcscf_policy_sess_t *s = ask(pc, "o|c1|t1");
    uint64_t t1;

    assert_non_null(s);
    assert_int_equal(g.authorized, 1);
    assert_false(g.last_update);
    assert_string_equal(g.last_ref, "");
    t1 = g.last_ticket;
    assert_null(ask(pc, "o|c1|t1"));           /* pending: the change waits */
    assert_int_equal(g.authorized, 1);
    assert_int_equal(pcscf_policy_answered(pc, t1, "sid-1", &ok_res), IMS_OK);
    assert_int_equal(g.results, 1);
    assert_false(g.last_res_update);
    assert_ptr_equal(pcscf_policy_by_ref(pc, "sid-1"), s);
    assert_true(s->open);
    /* An update goes on the server's name, with a new ticket. */
    assert_ptr_equal(ask(pc, "o|c1|t1"), s);
    assert_true(g.last_update);
    assert_string_equal(g.last_ref, "sid-1");
    assert_true(g.last_ticket != t1);
    assert_int_equal(pcscf_policy_answered(pc, t1, NULL, &ok_res), IMS_DECLINED);
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, NULL, &ok_res), IMS_OK);
    assert_true(g.last_res_update);
    assert_int_equal(pcscf_policy_count(pc), 1);
    pcscf_policy_release(s);
    assert_int_equal(g.released, 1);
    assert_string_equal(g.released_ref, "sid-1");
    assert_int_equal(pcscf_policy_count(pc), 0);
    assert_null(pcscf_policy_by_ref(pc, "sid-1"));
    assert_int_equal(pcscf_policy_stats(pc)->requests, 1);
    assert_int_equal(pcscf_policy_stats(pc)->updates, 1);
    assert_int_equal(pcscf_policy_stats(pc)->late, 1);
    pcscf_policy_free(pc);
}

/* A server that restarted numbers afresh: the name goes to the newer session,
 * and ending the older one must not end the newer one at the server. */
static void test_ref_reused(void **state)
{
    pcscf_policy_t *pc = table(NULL, 0, 0);
    pcscf_policy_sess_t *a = ask(pc, "o|c1|t1"), *b;

    (void)state;
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, "sid-1", &ok_res), IMS_OK);
    b = ask(pc, "o|c2|t2");
    assert_non_null(b);
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, "sid-1", &ok_res), IMS_OK);
    assert_ptr_equal(pcscf_policy_by_ref(pc, "sid-1"), b);
    assert_string_equal(a->ref, "");
    pcscf_policy_release(a);
    assert_int_equal(g.released, 0);
    assert_ptr_equal(pcscf_policy_by_ref(pc, "sid-1"), b);
    pcscf_policy_release(b);
    assert_int_equal(g.released, 1);
    assert_string_equal(g.released_ref, "sid-1");
    assert_int_equal(pcscf_policy_count(pc), 0);
    pcscf_policy_free(pc);
}

static void test_refused_new_session(void **state)
{
    pcscf_policy_t *pc = table(NULL, 0, 0);
    pcscf_policy_result_t no = { PCSCF_POLICY_REJECTED, 5063, true };

    assert_non_null(ask(pc, "t|c2|t2"));
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, "sid-2", &no), IMS_OK);
    assert_int_equal(g.last_res.outcome, PCSCF_POLICY_REJECTED);
    assert_int_equal(g.last_res.cause, 5063);
    assert_int_equal(pcscf_policy_count(pc), 0);   /* the server has none: no release */
    assert_int_equal(g.released, 0);
    assert_null(pcscf_policy_by_ref(pc, "sid-2"));
    assert_int_equal(pcscf_policy_stats(pc)->rejected, 1);
    pcscf_policy_free(pc);
}

static void test_late_answer(void **state)
{
    pcscf_policy_t *pc = table(NULL, 0, 0);
    pcscf_policy_sess_t *s = ask(pc, "o|c3|t3");
    uint64_t t = g.last_ticket;

    pcscf_policy_release(s);                    /* e.g. CANCEL while the AAR is out */
    assert_int_equal(g.released, 0);            /* never opened: nothing to end */
    assert_int_equal(pcscf_policy_answered(pc, t, "sid-3", &ok_res), IMS_DECLINED);
    assert_int_equal(g.results, 0);
    assert_int_equal(pcscf_policy_stats(pc)->late, 1);
    pcscf_policy_free(pc);
}

static void test_timeout(void **state)
{
    ims_loop_t *loop = ims_loop_new();
    pcscf_policy_t *pc = table(loop, 50, 0);
    uint64_t t;

    assert_non_null(ask(pc, "o|c4|t4"));
    t = g.last_ticket;
    assert_int_equal(ims_loop_run(loop), IMS_OK);
    assert_int_equal(g.results, 1);
    assert_int_equal(g.last_res.outcome, PCSCF_POLICY_TIMEOUT);
    assert_int_equal(pcscf_policy_count(pc), 0);
    assert_int_equal(pcscf_policy_answered(pc, t, "sid-4", &ok_res), IMS_DECLINED);
    assert_int_equal(pcscf_policy_stats(pc)->timeouts, 1);
    pcscf_policy_free(pc);
    ims_loop_free(loop);
}

static void test_not_sent(void **state)
{
    ims_loop_t *loop = ims_loop_new();
    pcscf_policy_t *pc = table(loop, 5000, 0);

    g.fail_send = true;
    assert_non_null(ask(pc, "o|c5|t5"));
    assert_int_equal(g.results, 0);             /* not from inside authorize */
    assert_int_equal(ims_loop_run(loop), IMS_OK);
    assert_int_equal(g.results, 1);
    assert_int_equal(g.last_res.outcome, PCSCF_POLICY_UNREACHABLE);
    assert_int_equal(pcscf_policy_count(pc), 0);
    pcscf_policy_free(pc);
    ims_loop_free(loop);
}

static void test_network_release(void **state)
{
    pcscf_policy_t *pc = table(NULL, 0, 0);

    assert_non_null(ask(pc, "o|c6|t6"));
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, "sid-6", &ok_res), IMS_OK);
    assert_int_equal(pcscf_policy_network_release(pc, "nope", "Bearer released"),
                     IMS_DECLINED);
    assert_int_equal(pcscf_policy_network_release(pc, "sid-6", "Bearer released"), IMS_OK);
    assert_int_equal(g.net_releases, 1);
    assert_int_equal(g.released, 1);            /* STR after the owner's release */
    assert_string_equal(g.released_ref, "sid-6");
    assert_int_equal(pcscf_policy_count(pc), 0);
    pcscf_policy_free(pc);
}

/* A change while a request is out waits (queue), the latest one only, and goes
 * once the pending one is answered, on the same session. */
static void test_queue(void **state)
{
    pcscf_policy_t *pc = table(NULL, 0, 0);
    rx_media_comp_t m1 = { .number = 1 }, m2 = { .number = 2 };
    pcscf_policy_req_t q = { .impu = "sip:a@x", .ue_ip = "10.0.0.1", .preliminary = true };
    pcscf_policy_sess_t *s;
    uint64_t t1;

    s = pcscf_policy_authorize(pc, "o|q|1", &q);
    assert_non_null(s);
    t1 = g.last_ticket;
    q.preliminary = false;
    q.queue = true;
    q.media = &m1;
    q.nmedia = 1;
    assert_ptr_equal(pcscf_policy_authorize(pc, "o|q|1", &q), s);
    q.media = &m2;      /* a newer change replaces the one queued */
    assert_ptr_equal(pcscf_policy_authorize(pc, "o|q|1", &q), s);
    assert_true(pcscf_policy_queued(s));
    assert_int_equal(g.authorized, 1);
    assert_int_equal(pcscf_policy_answered(pc, t1, "sid-q", &ok_res), IMS_OK);
    assert_int_equal(g.results, 1);
    assert_int_equal(g.authorized, 2);          /* the queued one, right after */
    assert_false(pcscf_policy_queued(s));
    assert_true(g.last_update);
    assert_string_equal(g.last_ref, "sid-q");
    assert_int_equal(g.last_media, 2);
    assert_false(g.last_prelim);
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, NULL, &ok_res), IMS_OK);
    assert_int_equal(pcscf_policy_stats(pc)->updates, 1);
    pcscf_policy_release(s);
    assert_int_equal(g.released, 1);
    pcscf_policy_free(pc);
}

/* The first request of a session fails with one queued behind it: the queued
 * one opens the session anew instead of the session going. */
static void test_queue_after_failure(void **state)
{
    pcscf_policy_t *pc = table(NULL, 0, 0);
    pcscf_policy_result_t no = { PCSCF_POLICY_REJECTED, 5063, true };
    pcscf_policy_req_t q = { .impu = "sip:a@x", .ue_ip = "10.0.0.1", .queue = true };
    pcscf_policy_sess_t *s = ask(pc, "t|q|2");
    uint64_t t1 = g.last_ticket;

    assert_ptr_equal(pcscf_policy_authorize(pc, "t|q|2", &q), s);
    assert_int_equal(pcscf_policy_answered(pc, t1, "sid-x", &no), IMS_OK);
    assert_int_equal(g.authorized, 2);
    assert_false(g.last_update);                /* a new session again */
    assert_string_equal(g.last_ref, "");
    assert_int_equal(pcscf_policy_count(pc), 1);
    /* It fails too: nothing queued any more, the session goes. */
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, NULL, &no), IMS_OK);
    assert_int_equal(pcscf_policy_count(pc), 0);
    assert_int_equal(g.released, 0);
    /* Released while a request is out with one queued: both forgotten. */
    s = ask(pc, "t|q|3");
    t1 = g.last_ticket;
    assert_ptr_equal(pcscf_policy_authorize(pc, "t|q|3", &q), s);
    pcscf_policy_release(s);
    assert_int_equal(pcscf_policy_answered(pc, t1, "sid-y", &ok_res), IMS_DECLINED);
    assert_int_equal(g.authorized, 3);
    pcscf_policy_free(pc);      /* ASan: the queued copy freed */
}

/* Two backends in one table: each session on its own, counted per backend. */
static int fake2_authorized, fake2_released;

static int fake2_authorize(void *be, uint64_t ticket, const pcscf_policy_req_t *r)
{
    fake2_authorized++;
    g.last_ticket = ticket;
    return IMS_OK;
}

static void fake2_release(void *be, const char *ref)
{
    fake2_released++;
}

static const pcscf_policy_backend_t fake2_ops = {
    .name = "fake2", .authorize = fake2_authorize, .release = fake2_release,
};

static void test_backends(void **state)
{
    pcscf_policy_t *pc = table(NULL, 0, 0);
    pcscf_policy_req_t q = { .impu = "sip:b@x", .ue_ip = "10.0.0.2", .backend = 1 };
    pcscf_policy_sess_t *a, *b;

    assert_int_equal(pcscf_policy_add_backend(pc, &fake2_ops, NULL), 1);
    assert_int_equal(pcscf_policy_backends(pc), 2);
    assert_string_equal(pcscf_policy_backend_name(pc), "fake+fake2");
    assert_string_equal(pcscf_policy_backend_at(pc, 1), "fake2");
    assert_null(pcscf_policy_backend_at(pc, 2));
    assert_int_equal(pcscf_policy_backend_index(pc, "fake2"), 1);
    assert_int_equal(pcscf_policy_backend_index(pc, "rx"), -1);
    a = ask(pc, "o|b|1");
    assert_non_null(a);
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, "ref-a", &ok_res), IMS_OK);
    b = pcscf_policy_authorize(pc, "t|b|1", &q);
    assert_non_null(b);
    assert_int_equal(fake2_authorized, 1);
    assert_string_equal(pcscf_policy_sess_backend(b), "fake2");
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, "ref-b", &ok_res), IMS_OK);
    /* The update goes where the session is, whatever the request says. */
    q.backend = 0;
    assert_ptr_equal(pcscf_policy_authorize(pc, "t|b|1", &q), b);
    assert_int_equal(fake2_authorized, 2);
    assert_int_equal(g.authorized, 1);
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, NULL, &ok_res), IMS_OK);
    assert_int_equal(pcscf_policy_backend_stats(pc, 0)->sessions_now, 1);
    assert_int_equal(pcscf_policy_backend_stats(pc, 1)->sessions_now, 1);
    assert_int_equal(pcscf_policy_backend_stats(pc, 1)->ok, 2);
    assert_int_equal(pcscf_policy_backend_stats(pc, 1)->updates, 1);
    assert_int_equal(pcscf_policy_stats(pc)->ok, 3);
    assert_int_equal(pcscf_policy_stats(pc)->sessions_now, 2);
    pcscf_policy_release(b);
    assert_int_equal(fake2_released, 1);
    assert_int_equal(g.released, 0);
    assert_int_equal(pcscf_policy_backend_stats(pc, 1)->sessions_now, 0);
    /* No such backend: nothing made. */
    q.backend = 5;
    assert_null(pcscf_policy_authorize(pc, "t|b|2", &q));
    assert_int_equal(pcscf_policy_count(pc), 1);
    pcscf_policy_free(pc);
}

/* At stop every open session is ended at its server, and the loop runs until
 * the backend has nothing in flight (bounded by wait_ms). */
static size_t g_busy;

static size_t fake_busy(void *be) { return g_busy; }

static void answer_releases(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    g_busy = 0;     /* the STAs came */
}

static void test_release_all(void **state)
{
    static const pcscf_policy_backend_t busy_ops = {
        .name = "fake", .authorize = fake_authorize, .release = fake_release, .busy = fake_busy,
    };
    ims_loop_t *loop = ims_loop_new();
    pcscf_policy_cfg_t cfg = { 5000, 0 };
    pcscf_policy_t *pc = pcscf_policy_new(loop, &cfg, &busy_ops, NULL);
    ims_timer_t t;
    uint64_t t0;

    memset(&g, 0, sizeof(g));
    pcscf_policy_set_owner(pc, &fake_owner, NULL);
    assert_non_null(ask(pc, "o|r|1"));
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, "ref-1", &ok_res), IMS_OK);
    assert_non_null(ask(pc, "r|u:10.0.0.1:5060"));
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, "ref-2", &ok_res), IMS_OK);
    assert_non_null(ask(pc, "o|r|2"));          /* pending: forgotten, nothing to end */
    g.results = 0;
    g_busy = 2;
    ims_timer_init(&t);
    ims_timer_start(loop, &t, 30, answer_releases, NULL);
    t0 = ims_clock_now_ms();
    assert_int_equal(pcscf_policy_release_all(pc, 2000), 2);
    assert_true(ims_clock_now_ms() - t0 < 1000);    /* back when nothing was in flight */
    assert_int_equal(g.released, 2);
    assert_int_equal(g.results, 0);                  /* the owner hears nothing */
    assert_int_equal(pcscf_policy_count(pc), 0);
    /* A server that never answers: bounded. */
    assert_non_null(ask(pc, "o|r|3"));
    assert_int_equal(pcscf_policy_answered(pc, g.last_ticket, "ref-3", &ok_res), IMS_OK);
    g_busy = 1;
    t0 = ims_clock_now_ms();
    assert_int_equal(pcscf_policy_release_all(pc, 100), 1);
    assert_true(ims_clock_now_ms() - t0 >= 100);
    pcscf_policy_free(pc);
    ims_loop_free(loop);
}

static void test_bound(void **state)
{
    pcscf_policy_t *pc = table(NULL, 0, 2);

    assert_non_null(ask(pc, "o|a|1"));
    assert_non_null(ask(pc, "o|b|1"));
    assert_null(ask(pc, "o|c|1"));
    assert_int_equal(g.authorized, 2);
    assert_int_equal(pcscf_policy_stats(pc)->full, 1);
    assert_int_equal(pcscf_policy_count(pc), 2);
    pcscf_policy_free(pc);      /* pending ones go too (ASan checks) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_update_release),
        cmocka_unit_test(test_refused_new_session),
        cmocka_unit_test(test_ref_reused),
        cmocka_unit_test(test_late_answer),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_not_sent),
        cmocka_unit_test(test_network_release),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_queue),
        cmocka_unit_test(test_queue_after_failure),
        cmocka_unit_test(test_backends),
        cmocka_unit_test(test_release_all),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
