/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims_hash: insert/find/remove against a plain array model through several
 * doublings, duplicate keys, keys that differ only in their tail or length,
 * length-delimited keys that are not NUL-terminated, and foreach.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/hash.h"
#include "common/core/rc.h"

#define N 20000

static void test_insert_find_remove_grow(void **state)
{
    ims_hash_t *h = ims_hash_new(0);
    static char keys[N][32];
    static int vals[N];

    assert_non_null(h);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "z9hG4bK%08x %d", i * 2654435761u, i);
        vals[i] = i;
        assert_int_equal(ims_hash_insert(h, keys[i], &vals[i]), IMS_OK);
    }
    assert_int_equal(ims_hash_count(h), N);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(ims_hash_find(h, keys[i]), &vals[i]);
    assert_null(ims_hash_find(h, "absent"));
    /* Duplicates are refused and leave the old value. */
    assert_int_equal(ims_hash_insert(h, keys[7], &vals[8]), IMS_DECLINED);
    assert_ptr_equal(ims_hash_find(h, keys[7]), &vals[7]);
    /* Remove every other key. */
    for (int i = 0; i < N; i += 2)
        assert_ptr_equal(ims_hash_remove(h, keys[i]), &vals[i]);
    assert_int_equal(ims_hash_count(h), N / 2);
    for (int i = 0; i < N; i++) {
        if (i % 2)
            assert_ptr_equal(ims_hash_find(h, keys[i]), &vals[i]);
        else
            assert_null(ims_hash_find(h, keys[i]));
    }
    assert_null(ims_hash_remove(h, keys[0]));
    ims_hash_free(h);
}

static void test_similar_keys(void **state)
{
    ims_hash_t *h = ims_hash_new(4);
    int a, b, c, d;

    assert_int_equal(ims_hash_insert(h, "abc", &a), IMS_OK);
    assert_int_equal(ims_hash_insert(h, "abcd", &b), IMS_OK);
    assert_int_equal(ims_hash_insert(h, "abd", &c), IMS_OK);
    assert_int_equal(ims_hash_insert(h, "", &d), IMS_OK);
    assert_ptr_equal(ims_hash_find(h, "abc"), &a);
    assert_ptr_equal(ims_hash_find(h, "abcd"), &b);
    assert_ptr_equal(ims_hash_find(h, "abd"), &c);
    assert_ptr_equal(ims_hash_find(h, ""), &d);
    /* Length-delimited: "abcd" cut to 3 bytes is "abc". */
    assert_ptr_equal(ims_hash_find_n(h, "abcd", 3), &a);
    assert_ptr_equal(ims_hash_remove_n(h, "abdX", 3), &c);
    assert_null(ims_hash_find(h, "abd"));
    assert_int_equal(ims_hash_insert_n(h, "xyz!!!", 3, &c), IMS_OK);
    assert_ptr_equal(ims_hash_find(h, "xyz"), &c);
    ims_hash_free(h);
}

static void count_cb(void *arg, const char *key, void *value)
{
    int *sum = arg;

    assert_int_equal(atoi(key), *(int *)value);
    *sum += *(int *)value;
}

static void test_foreach(void **state)
{
    ims_hash_t *h = ims_hash_new(0);
    int vals[100], sum = 0;
    char key[16];

    for (int i = 0; i < 100; i++) {
        vals[i] = i;
        snprintf(key, sizeof(key), "%d", i);
        assert_int_equal(ims_hash_insert(h, key, &vals[i]), IMS_OK);
    }
    ims_hash_foreach(h, count_cb, &sum);
    assert_int_equal(sum, 99 * 100 / 2);
    ims_hash_free(h);
    ims_hash_free(NULL);
}

static void remove_cb(void *arg, const char *key, void *value)
{
    assert_ptr_equal(ims_hash_remove(arg, key), value);
}

/* After a burst the buckets shrink back to the size asked for; removing
 * every entry from inside foreach is safe (no resize while iterating); a
 * store-backed table behaves the same. */
static void test_shrink_after_burst(void **state)
{
    for (int store = 0; store < 2; store++) {
        ims_hash_t *h = ims_hash_new(64);
        char key[16];
        int v = 1;

        if (store)
            ims_hash_set_store(h);
        for (int i = 0; i < 20000; i++) {
            snprintf(key, sizeof(key), "k%d", i);
            assert_int_equal(ims_hash_insert(h, key, &v), IMS_OK);
        }
        assert_true(ims_hash_buckets(h) >= 16384);
        for (int i = 0; i < 19000; i++) {
            snprintf(key, sizeof(key), "k%d", i);
            assert_ptr_equal(ims_hash_remove(h, key), &v);
        }
        assert_true(ims_hash_buckets(h) <= 8192);
        assert_ptr_equal(ims_hash_find(h, "k19999"), &v);
        ims_hash_foreach(h, remove_cb, h);
        assert_int_equal(ims_hash_count(h), 0);
        assert_true(ims_hash_buckets(h) >= 64);
        assert_int_equal(ims_hash_insert(h, "again", &v), IMS_OK);
        assert_int_equal(ims_hash_remove(h, "again") == &v, 1);
        assert_int_equal(ims_hash_buckets(h), 64);
        ims_hash_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_find_remove_grow),
        cmocka_unit_test(test_similar_keys),
        cmocka_unit_test(test_foreach),
        cmocka_unit_test(test_shrink_after_burst),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
