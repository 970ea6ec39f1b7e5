/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/ipsec/ipsec_keys: the ESP keys of TS 33.203 Annex I for every
 * (alg, ealg) pair, from the CK/IK of every TS 35.208 / 35.207 set in
 * $IMS_VECTORS_DIR/milenage.json. The expected keys are built here as hex
 * text from the vector fields (IK || "00000000", CK || first half of CK), not
 * with the code under test; set 1 is also checked against the literal values
 * printed in ims-reference.md §2.2. Unknown algorithms are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/core/rc.h"
#include "common/ipsec/ipsec_keys.h"

static json_t *load_vectors(const char *file)
{
    const char *dir = getenv("IMS_VECTORS_DIR");
    char path[1024];
    json_error_t err;
    json_t *root;

    if (dir == NULL)
        fail_msg("IMS_VECTORS_DIR is not set (run through ctest)");
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    root = json_load_file(path, 0, &err);
    if (root == NULL)
        fail_msg("%s: %s (line %d)", path, err.text, err.line);
    return root;
}

static const char *jstr(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    if (s == NULL)
        fail_msg("missing string field '%s'", key);
    return s;
}

/* hex text -> octets; returns the octet count. */
static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
    size_t n = strlen(hex) / 2;

    assert_int_equal(strlen(hex) % 2, 0);
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void assert_key(const uint8_t *got, size_t got_len, const char *want_hex)
{
    uint8_t want[64];
    size_t n = unhex(want_hex, want, sizeof(want));

    assert_int_equal(got_len, n);
    assert_memory_equal(got, want, n);
}

static const sec_agree_alg_t algs[] = { SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_ALG_HMAC_SHA1_96 };
static const sec_agree_ealg_t ealgs[] = { SEC_AGREE_EALG_NULL, SEC_AGREE_EALG_AES_CBC,
                                          SEC_AGREE_EALG_DES_EDE3_CBC };

/* The Annex I keys for one (ck, ik) hex pair, every algorithm pair. */
static void check_set(const char *ck_hex, const char *ik_hex)
{
    uint8_t ck[16], ik[16], zero[IMS_IPSEC_CK_MAX] = { 0 };
    char ik_sha1[41], ck_3des[49];
    ims_ipsec_keys_t k;

    assert_int_equal(unhex(ck_hex, ck, sizeof(ck)), 16);
    assert_int_equal(unhex(ik_hex, ik, sizeof(ik)), 16);
    snprintf(ik_sha1, sizeof(ik_sha1), "%s00000000", ik_hex);
    snprintf(ck_3des, sizeof(ck_3des), "%s%.16s", ck_hex, ck_hex);
    for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        for (size_t e = 0; e < sizeof(ealgs) / sizeof(ealgs[0]); e++) {
            assert_int_equal(ims_ipsec_keys_derive(algs[a], ealgs[e], ck, ik, &k), IMS_OK);
            assert_int_equal(k.alg, algs[a]);
            assert_int_equal(k.ealg, ealgs[e]);
            assert_key(k.ik, k.ik_len,
                       algs[a] == SEC_AGREE_ALG_HMAC_SHA1_96 ? ik_sha1 : ik_hex);
            if (ealgs[e] == SEC_AGREE_EALG_NULL) {
                assert_int_equal(k.ck_len, 0);
                assert_memory_equal(k.ck, zero, sizeof(k.ck)); /* no key material left */
            } else {
                assert_key(k.ck, k.ck_len, ealgs[e] == SEC_AGREE_EALG_AES_CBC ? ck_hex : ck_3des);
            }
        }
    }
}

static void test_annex_i_all_sets(void **state)
{
    json_t *root = load_vectors("milenage.json");
    const char *groups[] = { "test_sets", "extra_sets" };
    size_t checked = 0;

    (void)state;
    for (size_t g = 0; g < 2; g++) {
        json_t *arr = json_object_get(root, groups[g]), *set;
        size_t i;

        assert_true(json_is_array(arr));
        json_array_foreach(arr, i, set) {
            check_set(jstr(set, "f3_ck"), jstr(set, "f4_ik"));
            checked++;
        }
    }
    assert_true(checked >= 9); /* 8 sets of TS 35.208 and one of TS 35.207 */
    json_decref(root);
}

/* ims-reference.md §2.2 prints the set 1 results. */
static void test_set1_reference_values(void **state)
{
    uint8_t ck[16], ik[16];
    ims_ipsec_keys_t k;

    (void)state;
    unhex("b40ba9a3c58b2a05bbf0d987b21bf8cb", ck, sizeof(ck));
    unhex("f769bcd751044604127672711c6d3441", ik, sizeof(ik));
    assert_int_equal(ims_ipsec_keys_derive(SEC_AGREE_ALG_HMAC_SHA1_96,
                                           SEC_AGREE_EALG_DES_EDE3_CBC, ck, ik, &k), IMS_OK);
    assert_key(k.ik, k.ik_len, "f769bcd751044604127672711c6d344100000000");
    assert_key(k.ck, k.ck_len, "b40ba9a3c58b2a05bbf0d987b21bf8cbb40ba9a3c58b2a05");
    assert_int_equal(k.ik_len * 8, 160);
    assert_int_equal(k.ck_len * 8, 192);
}

static void test_key_lengths(void **state)
{
    (void)state;
    assert_int_equal(ims_ipsec_alg_key_len(SEC_AGREE_ALG_HMAC_MD5_96), 16);
    assert_int_equal(ims_ipsec_alg_key_len(SEC_AGREE_ALG_HMAC_SHA1_96), 20);
    assert_int_equal(ims_ipsec_alg_key_len(SEC_AGREE_ALG_UNKNOWN), -1);
    assert_int_equal(ims_ipsec_alg_key_len((sec_agree_alg_t)99), -1);
    assert_int_equal(ims_ipsec_ealg_key_len(SEC_AGREE_EALG_NULL), 0);
    assert_int_equal(ims_ipsec_ealg_key_len(SEC_AGREE_EALG_AES_CBC), 16);
    assert_int_equal(ims_ipsec_ealg_key_len(SEC_AGREE_EALG_DES_EDE3_CBC), 24);
    assert_int_equal(ims_ipsec_ealg_key_len(SEC_AGREE_EALG_UNKNOWN), -1);
    assert_int_equal(ims_ipsec_ealg_key_len((sec_agree_ealg_t)-5), -1);
}

static void test_unknown_algorithms_refused(void **state)
{
    uint8_t ck[16], ik[16], zero[sizeof(ims_ipsec_keys_t)] = { 0 };
    ims_ipsec_keys_t k;

    (void)state;
    memset(ck, 0xa5, sizeof(ck));
    memset(ik, 0x5a, sizeof(ik));
    memset(&k, 0xff, sizeof(k));
    assert_int_equal(ims_ipsec_keys_derive(SEC_AGREE_ALG_UNKNOWN, SEC_AGREE_EALG_AES_CBC, ck, ik,
                                           &k), IMS_ERROR);
    assert_memory_equal(&k, zero, sizeof(k));
    memset(&k, 0xff, sizeof(k));
    assert_int_equal(ims_ipsec_keys_derive(SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_UNKNOWN, ck,
                                           ik, &k), IMS_ERROR);
    assert_memory_equal(&k, zero, sizeof(k));
    assert_int_equal(ims_ipsec_keys_derive((sec_agree_alg_t)42, SEC_AGREE_EALG_NULL, ck, ik, &k),
                     IMS_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_annex_i_all_sets),
        cmocka_unit_test(test_set1_reference_values),
        cmocka_unit_test(test_key_lengths),
        cmocka_unit_test(test_unknown_algorithms_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
