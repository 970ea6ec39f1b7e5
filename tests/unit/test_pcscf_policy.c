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
 * and then the server (release after the upcall); the table's bound.
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

#include "common/core/loop.h"
#include "common/core/rc.h"
#include "pcscf/policy.c"

/* ---- the fakes ---- */

typedef struct fake {
    int authorized, released, results, net_releases;
    uint64_t last_ticket;
    bool last_update, fail_send;
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
        cmocka_unit_test(test_late_answer),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_not_sent),
        cmocka_unit_test(test_network_release),
        cmocka_unit_test(test_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
