/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The event loop: the timer heap on a driven clock (order, cancel, re-arm, a
 * random workload checked against a plain array model, the coarse grid of
 * ending timers), fd dispatch on real pipes (including a stale event for a
 * reused fd number), ims_loop_run/stop and signals delivered through the
 * loop's signalfd.
 */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/core/loop.h"
#include "common/core/rc.h"

/* ---- fixtures ---- */

static int setup_driven(void **state)
{
    ims_clock_drive(true, 1000);
    *state = ims_loop_new();
    return *state ? 0 : -1;
}

static int setup_real(void **state)
{
    ims_clock_drive(false, 0);
    *state = ims_loop_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    ims_loop_free(*state);
    ims_clock_drive(false, 0);
    return 0;
}

/* ---- timers: a recorder shared by the simple tests ---- */

#define REC_MAX 64

typedef struct rec {
    int ids[REC_MAX];
    uint64_t at[REC_MAX]; /* clock when fired */
    size_t n;
} rec_t;

typedef struct rtimer {
    ims_timer_t t;
    int id;
    rec_t *rec;
    ims_timer_t *victim;  /* stopped by this timer's callback when set */
    struct rtimer *spawn; /* started with 0 ms by this timer's callback when set */
} rtimer_t;

static void on_record(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    rtimer_t *r = arg;

    assert_ptr_equal(t, &r->t);
    assert_false(ims_timer_armed(t));
    assert_true(r->rec->n < REC_MAX);
    r->rec->ids[r->rec->n] = r->id;
    r->rec->at[r->rec->n] = ims_clock_now_ms();
    r->rec->n++;
    if (r->victim)
        ims_timer_stop(loop, r->victim);
    if (r->spawn)
        ims_timer_start(loop, &r->spawn->t, 0, on_record, r->spawn);
}

static void rtimers_init(rtimer_t *r, size_t n, rec_t *rec)
{
    memset(rec, 0, sizeof(*rec));
    for (size_t i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        ims_timer_init(&r[i].t);
        r[i].id = (int)i;
        r[i].rec = rec;
    }
}

static void test_timers_fire_in_due_order(void **state)
{
    ims_loop_t *loop = *state;
    static const uint64_t ms[] = { 50, 10, 30, 10, 0, 100, 20, 30 };
    rtimer_t r[IMS_ARRAY_LEN(ms)];
    rec_t rec;
    uint64_t start = ims_clock_now_ms();

    rtimers_init(r, IMS_ARRAY_LEN(ms), &rec);
    for (size_t i = 0; i < IMS_ARRAY_LEN(ms); i++)
        ims_timer_start(loop, &r[i].t, ms[i], on_record, &r[i]);
    assert_int_equal(ims_loop_timer_count(loop), IMS_ARRAY_LEN(ms));

    /* Step 5 ms at a time: each timer must fire in the first pass at or after its due time. */
    for (uint64_t now = 0; now <= 120; now += 5) {
        size_t before = rec.n;
        size_t fired = ims_loop_run_timers(loop);

        assert_int_equal(fired, rec.n - before);
        ims_clock_advance(5);
    }
    assert_int_equal(rec.n, IMS_ARRAY_LEN(ms));
    assert_int_equal(ims_loop_timer_count(loop), 0);
    for (size_t k = 0; k < rec.n; k++) {
        uint64_t due = start + ms[rec.ids[k]];

        assert_int_equal(rec.at[k], due); /* all dues are multiples of the 5 ms step */
        if (k > 0)
            assert_true(ms[rec.ids[k - 1]] <= ms[rec.ids[k]]);
    }
    /* Nothing fires twice. */
    ims_clock_advance(1000);
    assert_int_equal(ims_loop_run_timers(loop), 0);
}

static void test_timer_stop_idle_and_armed(void **state)
{
    ims_loop_t *loop = *state;
    rtimer_t r[3];
    rec_t rec;

    rtimers_init(r, 3, &rec);
    ims_timer_stop(loop, &r[0].t); /* idle: no-op */
    assert_false(ims_timer_armed(&r[0].t));
    assert_int_equal(ims_loop_timer_count(loop), 0);

    for (int i = 0; i < 3; i++)
        ims_timer_start(loop, &r[i].t, 10u * (unsigned)(i + 1), on_record, &r[i]);
    ims_timer_stop(loop, &r[1].t); /* armed, in the middle of the heap */
    ims_timer_stop(loop, &r[1].t); /* twice: no-op */
    assert_false(ims_timer_armed(&r[1].t));
    assert_true(ims_timer_armed(&r[0].t));
    assert_int_equal(ims_loop_timer_count(loop), 2);

    ims_clock_advance(100);
    assert_int_equal(ims_loop_run_timers(loop), 2);
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.ids[0], 0);
    assert_int_equal(rec.ids[1], 2);
}

static void test_timer_stop_from_other_callback(void **state)
{
    ims_loop_t *loop = *state;
    rtimer_t r[3];
    rec_t rec;

    rtimers_init(r, 3, &rec);
    /* r0 and r1 are due in the same pass; r0 fires first (earlier) and cancels r1,
     * and r2 (due later) too. */
    r[0].victim = &r[1].t;
    ims_timer_start(loop, &r[0].t, 10, on_record, &r[0]);
    ims_timer_start(loop, &r[1].t, 11, on_record, &r[1]);
    ims_timer_start(loop, &r[2].t, 50, on_record, &r[2]);
    ims_clock_advance(20);
    assert_int_equal(ims_loop_run_timers(loop), 1);
    assert_int_equal(rec.n, 1);
    assert_false(ims_timer_armed(&r[1].t));
    assert_int_equal(ims_loop_timer_count(loop), 1);

    /* Now cancel a timer still waiting for a later pass from a callback. */
    r[0].victim = &r[2].t;
    ims_timer_start(loop, &r[0].t, 5, on_record, &r[0]);
    ims_clock_advance(5);
    assert_int_equal(ims_loop_run_timers(loop), 1);
    ims_clock_advance(100);
    assert_int_equal(ims_loop_run_timers(loop), 0);
    assert_int_equal(rec.n, 2);
    assert_int_equal(ims_loop_timer_count(loop), 0);
}

/* Stops itself (already disarmed: no-op), re-arms itself, stops again. */
static int g_self_fired;

static void on_self_stop(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    g_self_fired++;
    ims_timer_stop(loop, t);
    ims_timer_start(loop, t, 10, on_self_stop, arg);
    assert_true(ims_timer_armed(t));
    ims_timer_stop(loop, t);
    assert_false(ims_timer_armed(t));
}

static void test_timer_stop_from_own_callback(void **state)
{
    ims_loop_t *loop = *state;
    ims_timer_t t, other;
    int dummy = 0;

    ims_timer_init(&t);
    ims_timer_init(&other);
    g_self_fired = 0;
    ims_timer_start(loop, &other, 1000, on_self_stop, &dummy);
    ims_timer_start(loop, &t, 10, on_self_stop, &dummy);
    ims_clock_advance(10);
    assert_int_equal(ims_loop_run_timers(loop), 1);
    assert_int_equal(g_self_fired, 1);
    assert_false(ims_timer_armed(&t));
    assert_true(ims_timer_armed(&other));
    assert_int_equal(ims_loop_timer_count(loop), 1);
    ims_clock_advance(50);
    assert_int_equal(ims_loop_run_timers(loop), 0);
    ims_timer_stop(loop, &other);
}

static void test_timer_rearm_moves(void **state)
{
    ims_loop_t *loop = *state;
    rtimer_t r[2];
    rec_t rec;

    rtimers_init(r, 2, &rec);
    ims_timer_start(loop, &r[1].t, 50, on_record, &r[1]);
    /* Earlier: a late timer moved forward fires at the new time, once. */
    ims_timer_start(loop, &r[0].t, 100, on_record, &r[0]);
    ims_timer_start(loop, &r[0].t, 10, on_record, &r[0]);
    assert_int_equal(ims_loop_timer_count(loop), 2);
    ims_clock_advance(10);
    assert_int_equal(ims_loop_run_timers(loop), 1);
    assert_int_equal(rec.ids[0], 0);

    /* Later: an early timer pushed back does not fire at its old time. */
    ims_timer_start(loop, &r[0].t, 10, on_record, &r[0]);
    ims_timer_start(loop, &r[0].t, 200, on_record, &r[0]);
    assert_int_equal(ims_loop_timer_count(loop), 2);
    ims_clock_advance(40); /* t = 50: only r1 */
    assert_int_equal(ims_loop_run_timers(loop), 1);
    assert_int_equal(rec.ids[1], 1);
    ims_clock_advance(150); /* t = 200: nothing; r0 is due at 210 */
    assert_int_equal(ims_loop_run_timers(loop), 0);
    ims_clock_advance(10);
    assert_int_equal(ims_loop_run_timers(loop), 1);
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.ids[2], 0);
}

/* Coarse timers: none fires before its time, each fires at the first step of
 * the grid at or after it, timers started apart that end in the same step fire
 * in one pass, 0 ms is not rounded, and a plain timer keeps its millisecond. */
static void test_timer_coarse_grid(void **state)
{
    ims_loop_t *loop = *state;
    const uint64_t g = IMS_TIMER_COARSE_MS;
    rtimer_t r[7];
    rec_t rec;

    assert_int_equal(ims_clock_now_ms(), 1000);
    rtimers_init(r, 7, &rec);
    ims_timer_start_coarse(loop, &r[0].t, 5000, on_record, &r[0]); /* 6000 */
    ims_clock_advance(7);
    ims_timer_start_coarse(loop, &r[1].t, 4990, on_record, &r[1]); /* 5997 */
    ims_clock_advance(23);
    ims_timer_start_coarse(loop, &r[2].t, 4950, on_record, &r[2]);  /* 5980 */
    ims_timer_start_coarse(loop, &r[3].t, 1, on_record, &r[3]);     /* 1031 */
    ims_timer_start_coarse(loop, &r[4].t, 17 * g - 1030, on_record, &r[4]); /* on the grid */
    ims_timer_start_coarse(loop, &r[5].t, 0, on_record, &r[5]);
    ims_timer_start(loop, &r[6].t, 5000, on_record, &r[6]); /* 6030 */

    assert_int_equal(ims_loop_run_timers(loop), 1); /* r5, at 1030 */
    ims_clock_advance(17 * g - 1 - 1030);
    assert_int_equal(ims_loop_run_timers(loop), 0);
    ims_clock_advance(1);
    assert_int_equal(ims_loop_run_timers(loop), 2); /* r3 and r4 at 1088 */
    ims_clock_advance(94 * g - 1 - 17 * g);
    assert_int_equal(ims_loop_run_timers(loop), 0);
    ims_clock_advance(1);
    assert_int_equal(ims_loop_run_timers(loop), 3); /* r0, r1, r2 at 6016, in one pass */
    ims_clock_advance(6030 - 1 - 94 * g);
    assert_int_equal(ims_loop_run_timers(loop), 0);
    ims_clock_advance(1);
    assert_int_equal(ims_loop_run_timers(loop), 1); /* r6 at 6030 */
    assert_int_equal(rec.n, 7);
    assert_int_equal(rec.ids[0], 5);
    assert_int_equal(rec.at[0], 1030);
    for (size_t k = 1; k < 3; k++)
        assert_int_equal(rec.at[k], 17 * g);
    for (size_t k = 3; k < 6; k++)
        assert_int_equal(rec.at[k], 94 * g);
    assert_int_equal(rec.ids[6], 6);
    assert_int_equal(rec.at[6], 6030);
}

/* Random starts and durations: never early, never a whole step late, always on the grid. */
static void test_timer_coarse_random(void **state)
{
    ims_loop_t *loop = *state;
    rtimer_t r[1];
    rec_t rec;

    srand(7);
    for (int i = 0; i < 2000; i++) {
        uint64_t ms = 1 + (uint64_t)(rand() % 40000);
        uint64_t due;

        rtimers_init(r, 1, &rec);
        ims_clock_advance((uint64_t)(rand() % 100));
        due = ims_clock_now_ms() + ms;
        ims_timer_start_coarse(loop, &r[0].t, ms, on_record, &r[0]);
        ims_clock_advance(ms - 1);
        assert_int_equal(ims_loop_run_timers(loop), 0);
        while (rec.n == 0) {
            ims_clock_advance(1);
            ims_loop_run_timers(loop);
        }
        assert_true(rec.at[0] >= due);
        assert_true(rec.at[0] < due + IMS_TIMER_COARSE_MS);
        assert_int_equal(rec.at[0] % IMS_TIMER_COARSE_MS, 0);
    }
}

static void test_timer_zero_in_callback_same_pass(void **state)
{
    ims_loop_t *loop = *state;
    rtimer_t r[2];
    rec_t rec;

    rtimers_init(r, 2, &rec);
    r[0].spawn = &r[1];
    ims_timer_start(loop, &r[0].t, 10, on_record, &r[0]);
    ims_clock_advance(10);
    assert_int_equal(ims_loop_run_timers(loop), 2);
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.ids[1], 1);
    assert_int_equal(rec.at[1], rec.at[0]);
    assert_int_equal(ims_loop_timer_count(loop), 0);
}

/* ---- timers: random workload against a reference model ---- */

#define MODEL_N 257

typedef struct model {
    ims_loop_t *loop;
    ims_timer_t t[MODEL_N];
    bool armed[MODEL_N];
    uint64_t due[MODEL_N];
    size_t n_armed;
    uint64_t last_fired_due;
    size_t fired_pass;
    size_t fired_total;
    unsigned seed;
} model_t;

static unsigned model_rand(model_t *m)
{
    return (unsigned)rand_r(&m->seed);
}

static void on_model(ims_loop_t *loop, ims_timer_t *t, void *arg);

static void model_start(model_t *m, size_t i, uint64_t ms)
{
    if (!m->armed[i])
        m->n_armed++;
    m->armed[i] = true;
    m->due[i] = ims_clock_now_ms() + ms;
    ims_timer_start(m->loop, &m->t[i], ms, on_model, m);
}

static void model_stop(model_t *m, size_t i)
{
    if (m->armed[i])
        m->n_armed--;
    m->armed[i] = false;
    ims_timer_stop(m->loop, &m->t[i]);
}

static void on_model(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    model_t *m = arg;
    size_t i = (size_t)(t - m->t);

    assert_true(i < MODEL_N);
    assert_true(m->armed[i]);
    assert_int_equal(t->due_ms, m->due[i]);
    assert_true(m->due[i] <= ims_clock_now_ms());
    /* Global order: the clock only moves forward, so dues never go back. */
    assert_true(m->due[i] >= m->last_fired_due);
    m->last_fired_due = m->due[i];
    m->armed[i] = false;
    m->n_armed--;
    m->fired_pass++;
    m->fired_total++;
    /* Callbacks mutate the heap too: stop someone, or (re)start someone, maybe at 0 ms. */
    switch (model_rand(m) % 8) {
    case 0:
        model_stop(m, model_rand(m) % MODEL_N);
        break;
    case 1:
        model_start(m, model_rand(m) % MODEL_N, model_rand(m) % 3);
        break;
    case 2:
        model_start(m, model_rand(m) % MODEL_N, model_rand(m) % 200);
        break;
    default:
        break;
    }
}

static void model_check(model_t *m)
{
    assert_int_equal(ims_loop_timer_count(m->loop), m->n_armed);
    for (size_t i = 0; i < MODEL_N; i++) {
        assert_int_equal(ims_timer_armed(&m->t[i]), m->armed[i]);
        if (m->armed[i])
            assert_int_equal(m->t[i].due_ms, m->due[i]);
    }
}

static void test_timer_random_against_model(void **state)
{
    static model_t m; /* large: keep off the stack */
    size_t passes = 0;

    memset(&m, 0, sizeof(m));
    m.loop = *state;
    m.seed = 20240611u; /* fixed: a failure reproduces */
    for (size_t i = 0; i < MODEL_N; i++)
        ims_timer_init(&m.t[i]);

    for (int op = 0; op < 10000; op++) {
        unsigned r = model_rand(&m) % 10;
        size_t i = model_rand(&m) % MODEL_N;

        if (r < 5) {
            model_start(&m, i, model_rand(&m) % 500);
        } else if (r < 7) {
            model_stop(&m, i);
        } else {
            size_t fired;
            uint64_t now;

            ims_clock_advance(model_rand(&m) % 40);
            now = ims_clock_now_ms();
            m.fired_pass = 0;
            fired = ims_loop_run_timers(m.loop);
            passes++;
            assert_int_equal(fired, m.fired_pass);
            /* Everything due was fired in this pass, including 0 ms starts from callbacks. */
            for (size_t k = 0; k < MODEL_N; k++)
                if (m.armed[k])
                    assert_true(m.due[k] > now);
        }
        model_check(&m);
    }
    /* Drain: all remaining fire, in order (callbacks may still start a few). */
    for (int k = 0; k < 100 && m.n_armed > 0; k++) {
        size_t fired;

        ims_clock_advance(1000);
        m.fired_pass = 0;
        fired = ims_loop_run_timers(m.loop);
        assert_int_equal(fired, m.fired_pass);
        model_check(&m);
    }
    assert_int_equal(m.n_armed, 0);
    assert_int_equal(ims_loop_timer_count(m.loop), 0);
    assert_true(passes > 1000);
    assert_true(m.fired_total > 1000); /* the workload really exercised firing */
}

/* ---- fd dispatch on real pipes ---- */

typedef struct fdrec {
    int calls;
    int fd;
    unsigned events;
    bool del_self;
} fdrec_t;

static void on_fd(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    fdrec_t *r = arg;

    r->calls++;
    r->fd = fd;
    r->events = events;
    if (r->del_self)
        ims_loop_del_fd(loop, fd);
}

static void make_pipe(int p[2])
{
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

static void test_fd_read_fires(void **state)
{
    ims_loop_t *loop = *state;
    fdrec_t r = { 0 };
    int p[2];
    char c;

    make_pipe(p);
    assert_int_equal(ims_loop_add_fd(loop, p[0], IMS_EV_READ, on_fd, &r), IMS_OK);
    assert_int_equal(ims_loop_add_fd(loop, p[0], IMS_EV_READ, on_fd, &r), IMS_ERROR);
    assert_int_equal(ims_loop_add_fd(loop, -1, IMS_EV_READ, on_fd, &r), IMS_ERROR);

    assert_int_equal(ims_loop_run_once(loop, 0), IMS_OK);
    assert_int_equal(r.calls, 0); /* nothing to read yet */
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(ims_loop_run_once(loop, 1000), IMS_OK);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.fd, p[0]);
    assert_int_equal(r.events, IMS_EV_READ);
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(ims_loop_run_once(loop, 0), IMS_OK);
    assert_int_equal(r.calls, 1); /* drained: no more events */

    /* Peer gone: hang-up reports an error plus READ (so the owner reads the EOF). */
    close(p[1]);
    assert_int_equal(ims_loop_run_once(loop, 1000), IMS_OK);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.events, IMS_EV_READ | IMS_EV_ERROR);
    ims_loop_del_fd(loop, p[0]);
    close(p[0]);
}

static void test_fd_high_number(void **state)
{
    ims_loop_t *loop = *state;
    fdrec_t r = { 0 };
    int p[2];
    int hi;

    /* Beyond the initial slot table: the table grows. */
    make_pipe(p);
    hi = fcntl(p[0], F_DUPFD_CLOEXEC, 300);
    assert_true(hi >= 300);
    assert_int_equal(ims_loop_add_fd(loop, hi, IMS_EV_READ, on_fd, &r), IMS_OK);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(ims_loop_run_once(loop, 1000), IMS_OK);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.fd, hi);
    ims_loop_del_fd(loop, hi);
    close(hi);
    close(p[0]);
    close(p[1]);
}

static void test_fd_mod_to_write(void **state)
{
    ims_loop_t *loop = *state;
    fdrec_t r = { 0 };
    int p[2];

    make_pipe(p);
    assert_int_equal(ims_loop_mod_fd(loop, p[1], IMS_EV_WRITE), IMS_ERROR); /* unregistered */
    assert_int_equal(ims_loop_add_fd(loop, p[1], IMS_EV_READ, on_fd, &r), IMS_OK);
    assert_int_equal(ims_loop_run_once(loop, 0), IMS_OK);
    assert_int_equal(r.calls, 0); /* a write end never becomes readable */
    assert_int_equal(ims_loop_mod_fd(loop, p[1], IMS_EV_WRITE), IMS_OK);
    assert_int_equal(ims_loop_run_once(loop, 1000), IMS_OK);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.fd, p[1]);
    assert_int_equal(r.events, IMS_EV_WRITE);
    assert_int_equal(ims_loop_mod_fd(loop, p[1], IMS_EV_READ), IMS_OK);
    assert_int_equal(ims_loop_run_once(loop, 0), IMS_OK);
    assert_int_equal(r.calls, 1);
    ims_loop_del_fd(loop, p[1]);
    ims_loop_del_fd(loop, p[1]); /* twice: no-op */
    close(p[0]);
    close(p[1]);
}

static void test_fd_del_inside_callback(void **state)
{
    ims_loop_t *loop = *state;
    fdrec_t r = { .del_self = true };
    int p[2];

    make_pipe(p);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(ims_loop_add_fd(loop, p[0], IMS_EV_READ, on_fd, &r), IMS_OK);
    /* Level-triggered and never read: only the deregistration stops the events. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(ims_loop_run_once(loop, i == 0 ? 1000 : 0), IMS_OK);
    assert_int_equal(r.calls, 1);
    /* The slot is free again. */
    r.del_self = false;
    assert_int_equal(ims_loop_add_fd(loop, p[0], IMS_EV_READ, on_fd, &r), IMS_OK);
    assert_int_equal(ims_loop_run_once(loop, 1000), IMS_OK);
    assert_int_equal(r.calls, 2);
    ims_loop_del_fd(loop, p[0]);
    close(p[0]);
    close(p[1]);
}

/*
 * Two pipes are ready in the same epoll turn. Whichever callback runs first
 * closes the other's read fd and puts a different (readable) file on that
 * number with a different callback. The event epoll already returned for the
 * old file must not be delivered to the new registration.
 */
typedef struct reuse {
    int a, b;  /* the two read ends being watched */
    int spare; /* readable fd to dup2 onto the victim's number */
    int old_calls;
    int new_calls;
    int victim;
} reuse_t;

static void on_reuse_new(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    reuse_t *u = arg;

    u->new_calls++;
}

static void on_reuse_old(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    reuse_t *u = arg;

    u->old_calls++;
    if (u->victim >= 0)
        return;
    u->victim = fd == u->a ? u->b : u->a;
    ims_loop_del_fd(loop, u->victim);
    close(u->victim);
    assert_int_equal(dup2(u->spare, u->victim), u->victim);
    assert_int_equal(ims_loop_add_fd(loop, u->victim, IMS_EV_READ, on_reuse_new, u), IMS_OK);
}

static void test_fd_reuse_no_stale_event(void **state)
{
    ims_loop_t *loop = *state;
    int p1[2], p2[2], p3[2];
    reuse_t u = { .victim = -1 };

    make_pipe(p1);
    make_pipe(p2);
    make_pipe(p3);
    u.a = p1[0];
    u.b = p2[0];
    u.spare = p3[0];
    assert_int_equal(write(p1[1], "x", 1), 1);
    assert_int_equal(write(p2[1], "x", 1), 1);
    assert_int_equal(write(p3[1], "x", 1), 1);
    assert_int_equal(ims_loop_add_fd(loop, u.a, IMS_EV_READ, on_reuse_old, &u), IMS_OK);
    assert_int_equal(ims_loop_add_fd(loop, u.b, IMS_EV_READ, on_reuse_old, &u), IMS_OK);

    assert_int_equal(ims_loop_run_once(loop, 1000), IMS_OK);
    assert_int_equal(u.old_calls, 1);
    assert_int_equal(u.new_calls, 0); /* the stale event was skipped */

    /* The new registration is live: its own (real) event arrives next turn. */
    assert_int_equal(ims_loop_run_once(loop, 1000), IMS_OK);
    assert_int_equal(u.new_calls, 1);
    assert_int_equal(u.old_calls, 2); /* the survivor is still readable */

    ims_loop_del_fd(loop, u.a);
    ims_loop_del_fd(loop, u.b);
    close(p1[0]);
    close(p1[1]);
    close(p2[0]);
    close(p2[1]);
    close(p3[0]);
    close(p3[1]);
}

/* ---- ims_loop_run / stop ---- */

typedef struct guard {
    ims_timer_t t;
    bool fired;
} guard_t;

static void on_stop(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    bool *fired = arg;

    if (fired)
        *fired = true;
    ims_loop_stop(loop);
}

/* A test must fail rather than hang when the loop does not stop by itself. */
static void guard_start(ims_loop_t *loop, guard_t *g)
{
    ims_timer_init(&g->t);
    g->fired = false;
    ims_timer_start(loop, &g->t, 5000, on_stop, &g->fired);
}

static void test_run_stop_from_timer(void **state)
{
    ims_loop_t *loop = *state;
    ims_timer_t t;
    bool fired = false;
    uint64_t t0 = ims_clock_real_us();

    ims_timer_init(&t);
    ims_timer_start(loop, &t, 20, on_stop, &fired);
    assert_int_equal(ims_loop_run(loop), IMS_OK);
    assert_true(fired);
    /* Real waiting, not a busy pass; the ms clock may truncate up to 1 ms. */
    assert_true(ims_clock_real_us() - t0 >= 19000);
    assert_true(ims_clock_real_us() - t0 < 2000000);
    assert_int_equal(ims_loop_timer_count(loop), 0);

    /* Stopped once does not mean stopped forever: run again. */
    fired = false;
    ims_timer_start(loop, &t, 1, on_stop, &fired);
    assert_int_equal(ims_loop_run(loop), IMS_OK);
    assert_true(fired);
}

/* ---- signals through the loop ---- */

static void on_kill_int(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    assert_int_equal(kill(getpid(), SIGINT), 0);
}

static void test_signal_default_stops(void **state)
{
    ims_loop_t *loop = *state;
    guard_t g;
    ims_timer_t t;

    assert_int_equal(ims_loop_handle_signals(loop, NULL, NULL), IMS_OK);

    /* Pending before the loop runs. */
    guard_start(loop, &g);
    assert_int_equal(raise(SIGTERM), 0);
    assert_int_equal(ims_loop_run(loop), IMS_OK);
    assert_false(g.fired);

    /* Arriving while the loop waits. */
    ims_timer_init(&t);
    ims_timer_start(loop, &t, 10, on_kill_int, NULL);
    assert_int_equal(ims_loop_run(loop), IMS_OK);
    assert_false(g.fired);
    ims_timer_stop(loop, &g.t);

    /* SIGPIPE is ignored: writing to a pipe without reader returns EPIPE, no death. */
    {
        int p[2];

        make_pipe(p);
        close(p[0]);
        assert_int_equal(write(p[1], "x", 1), -1);
        close(p[1]);
    }
}

typedef struct sigrec {
    int signos[8];
    int n;
} sigrec_t;

static void on_sig(ims_loop_t *loop, int signo, void *arg)
{
    sigrec_t *s = arg;

    if (s->n < (int)IMS_ARRAY_LEN(s->signos))
        s->signos[s->n++] = signo;
    if (signo == SIGHUP)
        ims_loop_stop(loop);
}

static void test_signal_custom_cb(void **state)
{
    ims_loop_t *loop = *state;
    sigrec_t s = { .n = 0 };
    guard_t g;

    assert_int_equal(ims_loop_handle_signals(loop, on_sig, &s), IMS_OK);
    guard_start(loop, &g);
    assert_int_equal(raise(SIGHUP), 0);
    assert_int_equal(ims_loop_run(loop), IMS_OK);
    assert_false(g.fired);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.signos[0], SIGHUP);

    /* With a callback, SIGTERM goes to it too (the daemon decides how to stop). */
    assert_int_equal(kill(getpid(), SIGTERM), 0);
    assert_int_equal(ims_loop_run_once(loop, 1000), IMS_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.signos[1], SIGTERM);
    ims_timer_stop(loop, &g.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_timers_fire_in_due_order, setup_driven, teardown),
        cmocka_unit_test_setup_teardown(test_timer_stop_idle_and_armed, setup_driven, teardown),
        cmocka_unit_test_setup_teardown(test_timer_stop_from_other_callback, setup_driven,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_timer_stop_from_own_callback, setup_driven, teardown),
        cmocka_unit_test_setup_teardown(test_timer_rearm_moves, setup_driven, teardown),
        cmocka_unit_test_setup_teardown(test_timer_zero_in_callback_same_pass, setup_driven,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_timer_random_against_model, setup_driven, teardown),
        cmocka_unit_test_setup_teardown(test_timer_coarse_grid, setup_driven, teardown),
        cmocka_unit_test_setup_teardown(test_timer_coarse_random, setup_driven, teardown),
        cmocka_unit_test_setup_teardown(test_fd_read_fires, setup_real, teardown),
        cmocka_unit_test_setup_teardown(test_fd_high_number, setup_real, teardown),
        cmocka_unit_test_setup_teardown(test_fd_mod_to_write, setup_real, teardown),
        cmocka_unit_test_setup_teardown(test_fd_del_inside_callback, setup_real, teardown),
        cmocka_unit_test_setup_teardown(test_fd_reuse_no_stale_event, setup_real, teardown),
        cmocka_unit_test_setup_teardown(test_run_stop_from_timer, setup_real, teardown),
        cmocka_unit_test_setup_teardown(test_signal_default_stops, setup_real, teardown),
        cmocka_unit_test_setup_teardown(test_signal_custom_cb, setup_real, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
