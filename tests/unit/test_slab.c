/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The slab allocator: every size class round-trips its bytes, objects are
 * reused LIFO, empty blocks go back to malloc (one spare per class), realloc
 * keeps contents across classes and into malloc territory, and foreign
 * malloc'd pointers are passed to free().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/slab.h"

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static int check(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            return 0;
    return 1;
}

/* Every size up to past the largest class: distinct, aligned, bytes kept. */
static void test_sizes_round_trip(void **state)
{
    enum { N = IMS_SLAB_MAX + 64 };
    unsigned char *p[N + 1];
    ims_slab_stats_t st;

    for (size_t n = 1; n <= N; n++) {
        p[n] = ims_slab_alloc(n);
        assert_non_null(p[n]);
        assert_int_equal((uintptr_t)p[n] % 16, 0);
        fill(p[n], n, (unsigned)n);
    }
    ims_slab_stats(&st);
    assert_true(st.objects >= IMS_SLAB_MAX);
    assert_true(st.big >= 64);
    for (size_t n = 1; n <= N; n++) {
        assert_true(check(p[n], n, (unsigned)n));
        ims_slab_free(p[n]);
    }
    ims_slab_stats(&st);
    assert_int_equal(st.objects, 0);
    assert_int_equal(st.big, 0);
}

/* A freed object is the next one handed out in its class. */
static void test_lifo_reuse(void **state)
{
    void *a = ims_slab_alloc(40), *b = ims_slab_alloc(40);

    ims_slab_free(a);
    assert_ptr_equal(ims_slab_alloc(33), a); /* 33..48 share a class */
    ims_slab_free(b);
    ims_slab_free(a);
}

/* A burst of many blocks shrinks back to one block per class used. */
static void test_blocks_released(void **state)
{
    enum { N = 20000 };
    void **p = calloc(N, sizeof(*p));
    ims_slab_stats_t st, base;

    ims_slab_stats(&base);
    for (int i = 0; i < N; i++)
        p[i] = ims_slab_alloc(100);
    ims_slab_stats(&st);
    assert_true(st.blocks >= base.blocks + (N * 128) / (64 * 1024));
    /* Free every other one first: blocks stay (half full), then the rest. */
    for (int i = 0; i < N; i += 2)
        ims_slab_free(p[i]);
    ims_slab_stats(&st);
    assert_true(st.blocks >= base.blocks + (N * 128) / (64 * 1024) - 1);
    for (int i = 1; i < N; i += 2)
        ims_slab_free(p[i]);
    ims_slab_stats(&st);
    assert_true(st.blocks <= base.blocks + 1);
    assert_int_equal(st.objects, base.objects);
    free(p);
}

/* realloc keeps the bytes: within a class, to a bigger class, to malloc and back. */
static void test_realloc_keeps_bytes(void **state)
{
    unsigned char *p = ims_slab_realloc(NULL, 10);

    fill(p, 10, 3);
    assert_ptr_equal(ims_slab_realloc(p, 16), p);
    p = ims_slab_realloc(p, 200);
    assert_true(check(p, 10, 3));
    fill(p, 200, 5);
    p = ims_slab_realloc(p, 5000);
    assert_true(check(p, 200, 5));
    fill(p, 5000, 9);
    p = ims_slab_realloc(p, 9000);
    assert_true(check(p, 5000, 9));
    ims_slab_free(p);
}

/* A string malloc'd elsewhere and handed to libosip2 is freed with free(). */
#ifdef IMS_SANITIZED
/* The magic check reads before a malloc'd block, in ASan's redzone. Sanitizer
 * builds never install the slab for libosip2, so they never do this. */
static void test_foreign_pointer(void **state)
{
    skip();
}
#else
static void test_foreign_pointer(void **state)
{
    char *s = strdup("not from the slab");
    char *r = malloc(8);
    ims_slab_stats_t st, base;

    ims_slab_stats(&base);
    ims_slab_free(s);
    memcpy(r, "abcdefg", 8);
    r = ims_slab_realloc(r, 100);
    assert_string_equal(r, "abcdefg");
    ims_slab_free(r);
    ims_slab_free(NULL);
    ims_slab_stats(&st);
    assert_int_equal(st.objects, base.objects);
}
#endif

/* The store is its own pool: its objects are counted apart from the
 * transient pool's, and its string helpers copy exactly. */
static void test_store_pool(void **state)
{
    ims_slab_stats_t t0, t1, s0, s1;
    char *a, *b;
    int *z;

    ims_slab_stats(&t0);
    ims_store_stats(&s0);
    a = ims_store_strdup("sip:alice@ims.example");
    b = ims_store_strndup("sip:bob@ims.example;x", 19);
    z = ims_store_calloc(16, sizeof(*z));
    assert_string_equal(a, "sip:alice@ims.example");
    assert_string_equal(b, "sip:bob@ims.example");
    for (int i = 0; i < 16; i++)
        assert_int_equal(z[i], 0);
    ims_slab_stats(&t1);
    ims_store_stats(&s1);
    assert_int_equal(t1.objects, t0.objects);
#ifndef IMS_SANITIZED
    assert_int_equal(s1.objects, s0.objects + 3);
#endif
    assert_null(ims_store_calloc(SIZE_MAX / 2, 4));
    ims_store_free(a);
    ims_store_free(b);
    ims_store_free(z);
    ims_store_stats(&s1);
    assert_int_equal(s1.objects, s0.objects);
}

/* Store objects of every size keep their bytes through realloc, across
 * classes and into (and out of) a block of their own; emptied blocks go. */
static void test_store_sizes(void **state)
{
    ims_slab_stats_t s0, s1;
    unsigned char *p[3000];
    unsigned char *q;

    ims_store_stats(&s0);
    for (size_t n = 1; n < 3000; n++) {
        p[n] = ims_store_alloc(n);
        assert_non_null(p[n]);
        assert_int_equal((uintptr_t)p[n] % 8, 0);
        fill(p[n], n, (unsigned)n);
    }
    for (size_t n = 1; n < 3000; n++) {
        assert_true(check(p[n], n, (unsigned)n));
        ims_store_free(p[n]);
    }
    q = ims_store_realloc(NULL, 40);
    fill(q, 40, 1);
    q = ims_store_realloc(q, 5000);
    assert_true(check(q, 40, 1));
    fill(q, 5000, 2);
    q = ims_store_realloc(q, 100000);
    assert_true(check(q, 5000, 2));
    q = ims_store_realloc(q, 30);
    assert_true(check(q, 30, 2));
    ims_store_free(q);
    ims_store_free(NULL);
    ims_store_stats(&s1);
    assert_int_equal(s1.objects, s0.objects);
    assert_int_equal(s1.big, s0.big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_round_trip),
        cmocka_unit_test(test_lifo_reuse),
        cmocka_unit_test(test_blocks_released),
        cmocka_unit_test(test_realloc_keeps_bytes),
        cmocka_unit_test(test_foreign_pointer),
        cmocka_unit_test(test_store_pool),
        cmocka_unit_test(test_store_sizes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
