/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ipsec_alloc: numbers unique while live, exhaustion and reuse order, range
 * edges (1, UINT32_MAX, wrap-around), journal reservations, SPI and port
 * pairs taken and released all-or-nothing, a port_ps shared by the sets of a
 * re-registration (held twice, free only when the last holder lets go), a
 * range of millions, and a long random run with holds checked against a plain
 * counting model (exercises the live set's growth, shrinking and
 * backward-shift removal, which must carry the holder counts along).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/rc.h"
#include "common/ipsec/ipsec_alloc.h"

static void test_exhaust_and_reuse(void **state)
{
    ipsec_idpool_t *p = ipsec_idpool_new(256, 265);
    uint32_t id = 0;

    assert_non_null(p);
    assert_int_equal(ipsec_idpool_size(p), 10);
    for (uint32_t want = 256; want <= 265; want++) {
        assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
        assert_int_equal(id, want);
        assert_true(ipsec_idpool_is_live(p, id));
    }
    assert_int_equal(ipsec_idpool_live(p), 10);
    id = 0;
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_DECLINED);
    assert_int_equal(id, 0);
    /* The only free number comes back. */
    assert_int_equal(ipsec_idpool_release(p, 260), IMS_OK);
    assert_false(ipsec_idpool_is_live(p, 260));
    assert_int_equal(ipsec_idpool_release(p, 260), IMS_DECLINED);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(id, 260);
    /* Releasing what is not live, or outside the range, changes nothing. */
    assert_int_equal(ipsec_idpool_release(p, 0), IMS_DECLINED);
    assert_int_equal(ipsec_idpool_release(p, 266), IMS_DECLINED);
    assert_int_equal(ipsec_idpool_live(p), 10);
    ipsec_idpool_free(p);
    ipsec_idpool_free(NULL);
}

/* A released number waits until the cursor has gone round the range. */
static void test_release_order(void **state)
{
    ipsec_idpool_t *p = ipsec_idpool_new(1000, 1999);
    uint32_t id;

    assert_non_null(p);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(ipsec_idpool_release(p, 1000), IMS_OK);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(id, 1003);
    for (uint32_t want = 1004; want <= 1999; want++) {
        assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
        assert_int_equal(id, want);
    }
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(id, 1000);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_DECLINED);
    ipsec_idpool_free(p);
}

static void test_range_edges(void **state)
{
    ipsec_idpool_t *p = ipsec_idpool_new(UINT32_MAX - 2, UINT32_MAX);
    uint32_t id, seen = 0;

    assert_non_null(p);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
        assert_true(id >= UINT32_MAX - 2);
        seen |= 1u << (UINT32_MAX - id);
    }
    assert_int_equal(seen, 7);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_DECLINED);
    assert_int_equal(ipsec_idpool_release(p, UINT32_MAX), IMS_OK);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(id, UINT32_MAX);
    /* Wrap-around: after UINT32_MAX the cursor goes back to min. */
    assert_int_equal(ipsec_idpool_release(p, UINT32_MAX - 2), IMS_OK);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(id, UINT32_MAX - 2);
    ipsec_idpool_free(p);

    p = ipsec_idpool_new(1, 1);
    assert_non_null(p);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(id, 1);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_DECLINED);
    assert_int_equal(ipsec_idpool_reserve(p, 1), IMS_DECLINED);
    assert_int_equal(ipsec_idpool_reserve(p, 2), IMS_ERROR);
    ipsec_idpool_free(p);

    assert_null(ipsec_idpool_new(0, 10));
    assert_null(ipsec_idpool_new(11, 10));
}

/* The whole 32-bit space costs memory for the live numbers only. */
static void test_full_space(void **state)
{
    ipsec_idpool_t *p = ipsec_idpool_new(256, UINT32_MAX);
    uint32_t id;

    assert_non_null(p);
    assert_int_equal(ipsec_idpool_size(p), (uint64_t)UINT32_MAX - 255);
    assert_int_equal(ipsec_idpool_reserve(p, UINT32_MAX), IMS_OK);
    assert_int_equal(ipsec_idpool_reserve(p, 4000000000u), IMS_OK);
    for (uint32_t want = 256; want < 256 + 100000; want++) {
        assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
        assert_int_equal(id, want);
    }
    assert_int_equal(ipsec_idpool_live(p), 100002);
    assert_true(ipsec_idpool_is_live(p, 4000000000u));
    assert_false(ipsec_idpool_is_live(p, 4000000001u));
    assert_int_equal(ipsec_idpool_reserve(p, 255), IMS_ERROR);
    ipsec_idpool_free(p);
}

/* Journal restore: reserved numbers are skipped by allocation. */
static void test_reserve(void **state)
{
    ipsec_idpool_t *p = ipsec_idpool_new(500, 509);
    uint32_t id;

    assert_non_null(p);
    assert_int_equal(ipsec_idpool_reserve(p, 500), IMS_OK);
    assert_int_equal(ipsec_idpool_reserve(p, 501), IMS_OK);
    assert_int_equal(ipsec_idpool_reserve(p, 503), IMS_OK);
    assert_int_equal(ipsec_idpool_reserve(p, 509), IMS_OK);
    assert_int_equal(ipsec_idpool_reserve(p, 503), IMS_DECLINED);
    assert_int_equal(ipsec_idpool_reserve(p, 499), IMS_ERROR);
    assert_int_equal(ipsec_idpool_reserve(p, 510), IMS_ERROR);
    assert_int_equal(ipsec_idpool_live(p), 4);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(id, 502);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(id, 504);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(id, 508);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_DECLINED);
    assert_int_equal(ipsec_idpool_release(p, 509), IMS_OK);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
    assert_int_equal(id, 509);
    ipsec_idpool_free(p);
}

static void test_pairs(void **state)
{
    ipsec_alloc_t *a = ipsec_alloc_new(256, 259, 5100, 5102);
    uint32_t c, s, c2, s2;
    uint16_t pc, ps;

    assert_non_null(a);
    assert_int_equal(ipsec_alloc_spi_pair(a, &c, &s), IMS_OK);
    assert_int_equal(ipsec_alloc_spi_pair(a, &c2, &s2), IMS_OK);
    assert_true(c != s && c2 != s2 && c != c2 && c != s2 && s != c2 && s != s2);
    assert_int_equal(ipsec_alloc_spi_pair(a, &c2, &s2), IMS_DECLINED);
    assert_int_equal(ipsec_alloc_spis_live(a), 4);
    assert_int_equal(ipsec_alloc_release_spi_pair(a, c, s), IMS_OK);
    assert_int_equal(ipsec_alloc_release_spi_pair(a, c, s), IMS_DECLINED);
    assert_int_equal(ipsec_alloc_spis_live(a), 2);

    /* Three ports: one pair, then the last port alone is not taken. */
    assert_int_equal(ipsec_alloc_port_pair(a, &pc, &ps), IMS_OK);
    assert_int_equal(pc, 5100);
    assert_int_equal(ps, 5101);
    assert_int_equal(ipsec_alloc_port_pair(a, &pc, &ps), IMS_DECLINED);
    assert_int_equal(ipsec_alloc_ports_live(a), 2);
    assert_int_equal(ipsec_alloc_release_port_pair(a, 5100, 5101), IMS_OK);
    assert_int_equal(ipsec_alloc_ports_live(a), 0);
    /* A half-live pair: the live half is released, and that is reported. */
    assert_int_equal(ipsec_alloc_reserve_port_pair(a, 5102, 5100), IMS_OK);
    assert_int_equal(ipsec_alloc_release_port_pair(a, 5100, 5101), IMS_DECLINED);
    assert_int_equal(ipsec_alloc_ports_live(a), 1);
    ipsec_alloc_free(a);
    ipsec_alloc_free(NULL);
}

static void test_reserve_pairs(void **state)
{
    ipsec_alloc_t *a = ipsec_alloc_new(1000, 1999, 6000, 6999);
    uint32_t c, s;

    assert_non_null(a);
    assert_int_equal(ipsec_alloc_reserve_spi_pair(a, 1000, 1001), IMS_OK);
    assert_int_equal(ipsec_alloc_reserve_spi_pair(a, 1002, 1002), IMS_DECLINED);
    /* One half already live: neither is taken. */
    assert_int_equal(ipsec_alloc_reserve_spi_pair(a, 1005, 1001), IMS_DECLINED);
    assert_int_equal(ipsec_alloc_reserve_spi_pair(a, 1999, 2000), IMS_ERROR);
    assert_int_equal(ipsec_alloc_reserve_spi_pair(a, 999, 1500), IMS_ERROR);
    assert_int_equal(ipsec_alloc_spis_live(a), 2);
    assert_int_equal(ipsec_alloc_spi_pair(a, &c, &s), IMS_OK);
    assert_int_equal(c, 1002);
    assert_int_equal(s, 1003);
    assert_int_equal(ipsec_alloc_reserve_port_pair(a, 6998, 6999), IMS_OK);
    assert_int_equal(ipsec_alloc_reserve_port_pair(a, 6999, 6000), IMS_DECLINED);
    assert_int_equal(ipsec_alloc_reserve_port_pair(a, 5999, 6000), IMS_ERROR);
    assert_int_equal(ipsec_alloc_ports_live(a), 2);
    ipsec_alloc_free(a);

    /* Bad ranges. */
    assert_null(ipsec_alloc_new(255, 1000, 6000, 6001));
    assert_null(ipsec_alloc_new(2000, 1000, 6000, 6001));
    assert_null(ipsec_alloc_new(256, 1000, 0, 6001));
    assert_null(ipsec_alloc_new(256, 1000, 6001, 6001));
    assert_null(ipsec_alloc_new(256, 1000, 6002, 6001));
}

/* Two million SPIs: a million registrations' worth, churned. */
static void test_millions(void **state)
{
    enum { RANGE = 2000000, MIN = 0x10000 };
    ipsec_idpool_t *p = ipsec_idpool_new(MIN, MIN + RANGE - 1);
    uint8_t *seen = calloc(RANGE, 1);
    uint32_t id;

    assert_non_null(p);
    assert_non_null(seen);
    for (int i = 0; i < RANGE / 2; i++) {
        assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
        assert_true(id >= MIN && id - MIN < RANGE && !seen[id - MIN]);
        seen[id - MIN] = 1;
    }
    for (uint32_t i = 0; i < RANGE; i += 2) {
        assert_int_equal(ipsec_idpool_release(p, MIN + i) == IMS_OK, seen[i] == 1);
        seen[i] = 0;
    }
    for (int i = 0; i < RANGE * 3 / 4; i++) {
        assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_OK);
        assert_false(seen[id - MIN]);
        seen[id - MIN] = 1;
    }
    assert_int_equal(ipsec_idpool_live(p), RANGE / 4 + RANGE * 3 / 4);
    assert_int_equal(ipsec_idpool_alloc(p, &id), IMS_DECLINED);
    free(seen);
    ipsec_idpool_free(p);
}

/* TS 33.203 §7.4: a re-registration's set keeps port_ps and takes a new
 * port_pc; port_ps is free only once both sets have gone, in either order. */
static void test_shared_port(void **state)
{
    ipsec_alloc_t *a = ipsec_alloc_new(256, 1000, 7000, 7003);
    uint16_t pc1, ps, pc2, pc3, x;

    assert_non_null(a);
    assert_int_equal(ipsec_alloc_port_pair(a, &pc1, &ps), IMS_OK);
    assert_int_equal(ipsec_alloc_port_holders(a, ps), 1);
    /* the rotated set: one more holder of port_ps, a port_pc of its own */
    assert_int_equal(ipsec_alloc_port_hold(a, ps), IMS_OK);
    assert_int_equal(ipsec_alloc_port(a, &pc2), IMS_OK);
    assert_true(pc2 != pc1 && pc2 != ps);
    assert_int_equal(ipsec_alloc_port_holders(a, ps), 2);
    assert_int_equal(ipsec_alloc_ports_live(a), 3);
    /* the old set goes (its pair): port_ps stays live, its port_pc is free */
    assert_int_equal(ipsec_alloc_release_port_pair(a, pc1, ps), IMS_OK);
    assert_int_equal(ipsec_alloc_port_holders(a, ps), 1);
    assert_int_equal(ipsec_alloc_port_holders(a, pc1), 0);
    assert_int_equal(ipsec_alloc_ports_live(a), 2);
    /* and again: a third set while the second is still there */
    assert_int_equal(ipsec_alloc_port_hold(a, ps), IMS_OK);
    assert_int_equal(ipsec_alloc_port(a, &pc3), IMS_OK);
    assert_int_equal(ipsec_alloc_port(a, &x), IMS_OK);     /* the last free port */
    assert_int_equal(ipsec_alloc_port(a, &x), IMS_DECLINED);
    assert_int_equal(ipsec_alloc_port_release(a, x), IMS_OK);
    /* the newest goes first this time; the second last: then port_ps is free */
    assert_int_equal(ipsec_alloc_release_port_pair(a, pc3, ps), IMS_OK);
    assert_true(ipsec_alloc_port_holders(a, ps) == 1);
    assert_int_equal(ipsec_alloc_release_port_pair(a, pc2, ps), IMS_OK);
    assert_int_equal(ipsec_alloc_port_holders(a, ps), 0);
    assert_int_equal(ipsec_alloc_ports_live(a), 0);
    assert_int_equal(ipsec_alloc_port_release(a, ps), IMS_DECLINED);
    /* only a live port can be held; a journal reservation is one holder */
    assert_int_equal(ipsec_alloc_port_hold(a, ps), IMS_DECLINED);
    assert_int_equal(ipsec_alloc_reserve_port_pair(a, 7000, 7001), IMS_OK);
    assert_int_equal(ipsec_alloc_port_holders(a, 7001), 1);
    assert_int_equal(ipsec_alloc_reserve_port_pair(a, 7002, 7001), IMS_DECLINED);
    ipsec_alloc_free(a);
}

/* Random alloc/reserve/hold/release against a counting model. */
static void test_random_model(void **state)
{
    enum { MIN = 300, RANGE = 512 };
    ipsec_idpool_t *p = ipsec_idpool_new(MIN, MIN + RANGE - 1);
    uint32_t model[RANGE] = { 0 };  /* holders */
    size_t live = 0;
    uint32_t rnd = 12345, id;

    assert_non_null(p);
    for (int step = 0; step < 200000; step++) {
        uint32_t op, x;
        rnd = rnd * 1103515245u + 12345u;
        op = (rnd >> 16) % 8;
        x = (rnd >> 4) % (RANGE + 4);
        /* Phases: fill up, then drain, so the table grows and shrinks. */
        if ((step / 20000) % 2)
            op = op < 6 ? 7 : op;
        if (op < 4) {
            int rc = ipsec_idpool_alloc(p, &id);
            assert_int_equal(rc, live == RANGE ? IMS_DECLINED : IMS_OK);
            if (rc == IMS_OK) {
                assert_int_equal(model[id - MIN], 0);
                model[id - MIN] = 1;
                live++;
            }
        } else if (op == 4) {
            int rc = ipsec_idpool_reserve(p, MIN + x);
            if (x >= RANGE) {
                assert_int_equal(rc, IMS_ERROR);
            } else {
                assert_int_equal(rc, model[x] ? IMS_DECLINED : IMS_OK);
                live += !model[x];
                model[x] += !model[x];
            }
        } else if (op == 5) {
            int rc = ipsec_idpool_hold(p, MIN + x);
            assert_int_equal(rc, x < RANGE && model[x] ? IMS_OK : IMS_DECLINED);
            if (rc == IMS_OK)
                model[x]++;
        } else {
            int rc = ipsec_idpool_release(p, MIN + x);
            assert_int_equal(rc, x < RANGE && model[x] ? IMS_OK : IMS_DECLINED);
            if (x < RANGE && model[x] && --model[x] == 0)
                live--;
        }
        assert_int_equal(ipsec_idpool_live(p), live);
        if (step % 997 == 0) {
            for (uint32_t i = 0; i < RANGE; i++) {
                assert_int_equal(ipsec_idpool_is_live(p, MIN + i), model[i] != 0);
                assert_int_equal(ipsec_idpool_holders(p, MIN + i), model[i]);
            }
        }
    }
    ipsec_idpool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exhaust_and_reuse),
        cmocka_unit_test(test_release_order),
        cmocka_unit_test(test_range_edges),
        cmocka_unit_test(test_full_space),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_reserve_pairs),
        cmocka_unit_test(test_shared_port),
        cmocka_unit_test(test_millions),
        cmocka_unit_test(test_random_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
