/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/auth: Milenage against every TS 35.208 / 35.207 set in
 * $IMS_VECTORS_DIR/milenage.json (OPc, f1, f1*, f2..f5*, AUTN); the digest and
 * AKAv1-MD5 worked examples in digest.json (RES as a binary password, the
 * hex-text "wrong" variant, the AUTS resync example); AUTS round trips and
 * corruptions; the UE-side AUTN check (MAC failure on every flipped bit, sync
 * failure when SQN is behind, too far ahead or replayed); SQN arithmetic;
 * the Digest parameter parser on good, malformed and random input; base64,
 * hex and the constant-time response check.
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

#include "common/auth/aka.h"
#include "common/auth/base64.h"
#include "common/auth/digest.h"
#include "common/auth/milenage.h"
#include "common/core/rc.h"

/* The lab subscriber (design.md): K and OP are ASCII strings. */
static const uint8_t lab_k[16] = "imscore-lab-key1";
static const uint8_t lab_op[16] = "imscore-lab-op-1";
static const uint8_t lab_amf[2] = { 0x80, 0x00 };

/* --- vector file helpers ---------------------------------------------------- */

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

/* Independent of the code under test: the vectors must not be read with it. */
static void unhex(const char *hex, uint8_t *out, size_t len)
{
    assert_int_equal(strlen(hex), 2 * len);
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void jhex(const json_t *obj, const char *key, uint8_t *out, size_t len)
{
    unhex(jstr(obj, key), out, len);
}

/* --- Milenage ------------------------------------------------------------------ */

static void check_milenage_set(const json_t *set)
{
    uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16], want[16], got[16];
    uint8_t res[8], ck[16], ik[16], ak[6], ak_star[6], mac_a[8], mac_s[8];
    ims_milenage_t m, m2;
    ims_aka_vector_t v;

    jhex(set, "k", k, 16);
    jhex(set, "rand", rand, 16);
    jhex(set, "sqn", sqn, 6);
    jhex(set, "amf", amf, 2);
    jhex(set, "opc", opc, 16);
    if (json_is_string(json_object_get(set, "op"))) {
        jhex(set, "op", op, 16);
        assert_int_equal(ims_milenage_opc(k, op, got), IMS_OK);
        assert_memory_equal(got, opc, 16);
        assert_int_equal(ims_milenage_init_op(&m2, k, op), IMS_OK);
        assert_memory_equal(m2.opc, opc, 16);
        ims_milenage_fini(&m2);
    }
    assert_int_equal(ims_milenage_init(&m, k, opc), IMS_OK);

    assert_int_equal(ims_milenage_f1(&m, rand, sqn, amf, mac_a, mac_s), IMS_OK);
    jhex(set, "f1_mac_a", want, 8);
    assert_memory_equal(mac_a, want, 8);
    jhex(set, "f1star_mac_s", want, 8);
    assert_memory_equal(mac_s, want, 8);

    assert_int_equal(ims_milenage_f2345(&m, rand, res, ck, ik, ak, ak_star), IMS_OK);
    jhex(set, "f2_res", want, 8);
    assert_memory_equal(res, want, 8);
    jhex(set, "f3_ck", want, 16);
    assert_memory_equal(ck, want, 16);
    jhex(set, "f4_ik", want, 16);
    assert_memory_equal(ik, want, 16);
    jhex(set, "f5_ak", want, 6);
    assert_memory_equal(ak, want, 6);
    jhex(set, "f5star_ak_star", want, 6);
    assert_memory_equal(ak_star, want, 6);

    /* Partial requests compute the same values. */
    memset(got, 0, sizeof(got));
    assert_int_equal(ims_milenage_f2345(&m, rand, NULL, NULL, NULL, NULL, got), IMS_OK);
    assert_memory_equal(got, ak_star, 6);
    assert_int_equal(ims_milenage_f2345(&m, rand, NULL, NULL, got, NULL, NULL), IMS_OK);
    assert_memory_equal(got, ik, 16);
    assert_int_equal(ims_milenage_f1(&m, rand, sqn, amf, NULL, got), IMS_OK);
    assert_memory_equal(got, mac_s, 8);

    /* The full vector and AUTN. */
    assert_int_equal(ims_aka_vector_make(&m, rand, ims_aka_sqn_from_bytes(sqn), amf, &v), IMS_OK);
    jhex(set, "autn_computed", want, 16);
    assert_memory_equal(v.autn, want, 16);
    assert_memory_equal(v.rand, rand, 16);
    assert_memory_equal(v.xres, res, 8);
    assert_memory_equal(v.ck, ck, 16);
    assert_memory_equal(v.ik, ik, 16);
    assert_memory_equal(v.ak, ak, 6);
    ims_milenage_fini(&m);
}

static void test_milenage_vectors(void **state)
{
    json_t *root = load_vectors("milenage.json");
    const char *groups[] = { "test_sets", "extra_sets" };
    size_t checked = 0;

    for (size_t g = 0; g < IMS_ARRAY_LEN(groups); g++) {
        json_t *arr = json_object_get(root, groups[g]), *set;
        size_t i;
        assert_true(json_is_array(arr));
        json_array_foreach(arr, i, set)
        {
            check_milenage_set(set);
            checked++;
        }
    }
    assert_true(checked >= 9); /* 8 from TS 35.208 + the 35.207 one */
    json_decref(root);
}

/* --- digest.json ------------------------------------------------------------- */

static const json_t *example(const json_t *root, size_t i)
{
    const json_t *ex = json_array_get(json_object_get(root, "examples"), i);

    assert_non_null(ex);
    return ex;
}

/* Examples 1-2: plain MD5 digest, with and without qop. */
static void test_digest_md5_examples(void **state)
{
    json_t *root = load_vectors("digest.json");
    char ha1[IMS_DIGEST_HEX_SIZE], ha2[IMS_DIGEST_HEX_SIZE], resp[IMS_DIGEST_HEX_SIZE];

    for (size_t i = 0; i < 2; i++) {
        const json_t *ex = example(root, i);
        const char *pw = jstr(ex, "password");
        const json_t *qop = json_object_get(ex, "qop");

        assert_string_equal(jstr(ex, "algorithm"), "MD5");
        assert_int_equal(ims_digest_ha1(jstr(ex, "username"), jstr(ex, "realm"),
                                        (const uint8_t *)pw, strlen(pw), ha1),
                         IMS_OK);
        assert_string_equal(ha1, jstr(ex, "ha1"));
        assert_int_equal(ims_digest_ha2(jstr(ex, "method"), jstr(ex, "uri"), ha2), IMS_OK);
        assert_string_equal(ha2, jstr(ex, "ha2"));
        if (json_is_null(qop)) {
            assert_int_equal(
                ims_digest_response(ha1, jstr(ex, "nonce"), NULL, NULL, NULL, ha2, resp), IMS_OK);
        } else {
            assert_int_equal(ims_digest_response(ha1, jstr(ex, "nonce"), jstr(ex, "nc"),
                                                 jstr(ex, "cnonce"), json_string_value(qop), ha2,
                                                 resp),
                             IMS_OK);
        }
        assert_string_equal(resp, jstr(ex, "expected_response"));
        assert_int_equal(ims_digest_check(jstr(ex, "expected_response"), resp, strlen(resp)),
                         IMS_OK);
    }
    json_decref(root);
}

static void aka_inputs(const json_t *ex3, ims_milenage_t *m, uint8_t rand[16], uint8_t sqn[6],
                       uint8_t amf[2])
{
    const json_t *in = json_object_get(ex3, "milenage_inputs");
    uint8_t k[16], opc[16];

    assert_non_null(in);
    jhex(in, "k", k, 16);
    jhex(in, "opc", opc, 16);
    jhex(in, "rand", rand, 16);
    jhex(in, "sqn", sqn, 6);
    jhex(in, "amf", amf, 2);
    assert_int_equal(ims_milenage_init(m, k, opc), IMS_OK);
}

static void aka_example_challenge(const json_t *ex, const ims_aka_vector_t *v)
{
    char nonce[IMS_AKA_NONCE_SIZE];
    uint8_t want[32], rand[16], autn[16];
    const char *www = jstr(ex, "www_authenticate_to_ue");
    ims_digest_params_t p;

    jhex(ex, "autn", want, 16);
    assert_memory_equal(v->autn, want, 16);
    jhex(ex, "res_xres", want, 8);
    assert_memory_equal(v->xres, want, 8);
    jhex(ex, "ck", want, 16);
    assert_memory_equal(v->ck, want, 16);
    jhex(ex, "ik", want, 16);
    assert_memory_equal(v->ik, want, 16);

    assert_int_equal(ims_aka_nonce_encode(v->rand, v->autn, nonce, sizeof(nonce)), IMS_OK);
    assert_string_equal(nonce, jstr(ex, "nonce"));
    jhex(ex, "nonce_bytes_hex", want, 32);
    assert_int_equal(ims_aka_nonce_decode(nonce, strlen(nonce), rand, autn), IMS_OK);
    assert_memory_equal(rand, want, 16);
    assert_memory_equal(autn, want + 16, 16);

    assert_int_equal(ims_digest_parse(www, strlen(www), &p), IMS_OK);
    assert_string_equal(p.realm, jstr(ex, "realm"));
    assert_string_equal(p.nonce, nonce);
    assert_string_equal(p.algorithm, "AKAv1-MD5");
    assert_string_equal(p.qop, "auth");
}

/* Example 3: AKAv1-MD5 with RES as the password; example 4: AUTS resync. */
static void test_digest_aka_examples(void **state)
{
    json_t *root = load_vectors("digest.json");
    const json_t *ex = example(root, 2), *ex4 = example(root, 3);
    uint8_t rand[16], sqn[6], amf[2], auts[14], want[30];
    char ha1[IMS_DIGEST_HEX_SIZE], ha2[IMS_DIGEST_HEX_SIZE], resp[IMS_DIGEST_HEX_SIZE];
    char res_hex[17], b64[32];
    const char *mar;
    ims_milenage_t m;
    ims_aka_vector_t v;
    uint64_t sqn_ms = 0;
    size_t n = 0;

    assert_string_equal(jstr(ex, "algorithm"), "AKAv1-MD5");
    aka_inputs(ex, &m, rand, sqn, amf);
    assert_int_equal(ims_aka_vector_make(&m, rand, ims_aka_sqn_from_bytes(sqn), amf, &v), IMS_OK);
    aka_example_challenge(ex, &v);

    /* RES as 8 raw octets. */
    assert_int_equal(ims_digest_ha1(jstr(ex, "username"), jstr(ex, "realm"), v.xres, 8, ha1),
                     IMS_OK);
    assert_string_equal(ha1, jstr(ex, "ha1"));
    assert_int_equal(ims_digest_ha2(jstr(ex, "method"), jstr(ex, "uri"), ha2), IMS_OK);
    assert_string_equal(ha2, jstr(ex, "ha2"));
    assert_int_equal(ims_digest_response(ha1, jstr(ex, "nonce"), jstr(ex, "nc"), jstr(ex, "cnonce"),
                                         jstr(ex, "qop"), ha2, resp),
                     IMS_OK);
    assert_string_equal(resp, jstr(ex, "expected_response"));

    /* The hex text of RES as password gives the documented wrong value. */
    assert_int_equal(ims_auth_hex_encode(v.xres, 8, res_hex, sizeof(res_hex)), IMS_OK);
    assert_int_equal(
        ims_digest_ha1(jstr(ex, "username"), jstr(ex, "realm"), (const uint8_t *)res_hex, 16, ha1),
        IMS_OK);
    assert_int_equal(ims_digest_response(ha1, jstr(ex, "nonce"), jstr(ex, "nc"), jstr(ex, "cnonce"),
                                         jstr(ex, "qop"), ha2, resp),
                     IMS_OK);
    assert_string_equal(resp, jstr(ex, "wrong_response_if_res_hex_text_used_as_password"));
    assert_int_equal(ims_digest_check(jstr(ex, "expected_response"), resp, 32), IMS_ERROR);

    /* Example 4: the UE's AUTS for SQN_MS, and the HSS recovering SQN_MS. */
    jhex(ex4, "sqn_ms_example", want, 6);
    assert_int_equal(ims_aka_auts_make(&m, rand, ims_aka_sqn_from_bytes(want), auts), IMS_OK);
    jhex(ex4, "auts", want, 14);
    assert_memory_equal(auts, want, 14);
    jhex(ex4, "mac_s", want, 8);
    assert_memory_equal(auts + 6, want, 8);
    assert_int_equal(ims_base64_encode(auts, 14, b64, sizeof(b64), NULL), IMS_OK);
    assert_string_equal(b64, jstr(ex4, "auts_param_base64"));
    memset(auts, 0, sizeof(auts));
    assert_int_equal(ims_base64_decode(b64, strlen(b64), auts, sizeof(auts), &n), IMS_OK);
    assert_int_equal(n, 14);
    assert_int_equal(ims_aka_resync(&m, rand, auts, &sqn_ms), IMS_OK);
    jhex(ex4, "sqn_ms_example", want, 6);
    assert_true(sqn_ms == ims_aka_sqn_from_bytes(want));
    mar = strstr(jstr(ex4, "mar_sip_authorization_avp"), "= ");
    assert_non_null(mar);
    unhex(mar + 2, want, 30);
    assert_memory_equal(want, rand, 16);
    assert_memory_equal(want + 16, auts, 14);

    /* The response that carries auts uses an empty password. */
    assert_int_equal(ims_digest_ha1(jstr(ex, "username"), jstr(ex, "realm"), NULL, 0, ha1), IMS_OK);
    assert_string_equal(ha1, jstr(ex4, "ha1"));
    assert_int_equal(ims_digest_response(ha1, jstr(ex, "nonce"), jstr(ex, "nc"), jstr(ex, "cnonce"),
                                         jstr(ex, "qop"), ha2, resp),
                     IMS_OK);
    assert_string_equal(resp, jstr(ex4, "expected_response"));
    ims_milenage_fini(&m);
    json_decref(root);
}

/* --- SQN, resync, UE side ---------------------------------------------------------- */

static void test_sqn(void **state)
{
    uint8_t b[6];

    assert_true(ims_aka_sqn_next(1) == 32); /* SEQ 0 IND 1 -> SEQ 1 IND 0 */
    assert_true(ims_aka_sqn_next(32) == 64);
    assert_true(ims_aka_sqn_next(0x3f) == 64); /* IND cleared */
    assert_true(ims_aka_sqn_next(IMS_AKA_SQN_MAX) == 0);
    assert_true(ims_aka_sqn_next(IMS_AKA_SQN_MAX - 31) == 0);
    assert_true(ims_aka_sqn_next(IMS_AKA_SQN_MAX - 32) == IMS_AKA_SQN_MAX - 31);
    /* After resync the HSS keeps SQN_HE when its next SQN is acceptable. */
    assert_true(ims_aka_sqn_after_resync(32 * 10, 32 * 5) == 32 * 10);
    assert_true(ims_aka_sqn_after_resync(32 * 5, 32 * 5) == 32 * 5);
    assert_true(ims_aka_sqn_after_resync(32 * 4, 32 * 5) == 32 * 5); /* behind */
    assert_true(ims_aka_sqn_after_resync(32 * 5 + IMS_AKA_SQN_DELTA, 32 * 5) ==
                32 * 5); /* too far ahead */
    assert_true(ims_aka_sqn_after_resync(32 * 4 + IMS_AKA_SQN_DELTA, 32 * 5) ==
                32 * 4 + IMS_AKA_SQN_DELTA);
    ims_aka_sqn_to_bytes(UINT64_C(0xff9bb4d0b607), b);
    assert_memory_equal(b, "\xff\x9b\xb4\xd0\xb6\x07", 6);
    assert_true(ims_aka_sqn_from_bytes(b) == UINT64_C(0xff9bb4d0b607));
}

static void test_resync_roundtrip(void **state)
{
    ims_milenage_t m;
    uint8_t rand[16], auts[14], bad[14];
    const uint64_t sqns[] = { 0, 1, 32, UINT64_C(0x123456789ab), IMS_AKA_SQN_MAX };

    assert_int_equal(ims_milenage_init_op(&m, lab_k, lab_op), IMS_OK);
    for (size_t s = 0; s < IMS_ARRAY_LEN(sqns); s++) {
        uint64_t got = ~UINT64_C(0);
        assert_int_equal(ims_aka_rand(rand), IMS_OK);
        assert_int_equal(ims_aka_auts_make(&m, rand, sqns[s], auts), IMS_OK);
        assert_int_equal(ims_aka_resync(&m, rand, auts, &got), IMS_OK);
        assert_true(got == sqns[s]);
        /* Any flipped bit of AUTS is caught (by MAC-S, also for SQN bits). */
        for (int bit = 0; bit < 14 * 8; bit++) {
            memcpy(bad, auts, 14);
            bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            got = 7;
            assert_int_equal(ims_aka_resync(&m, rand, bad, &got), IMS_ERROR);
            assert_true(got == 7); /* untouched on failure */
        }
        /* The AUTS belongs to its RAND. */
        rand[3] ^= 0x40;
        assert_int_equal(ims_aka_resync(&m, rand, auts, &got), IMS_ERROR);
    }
    ims_milenage_fini(&m);
}

static void test_ue_check(void **state)
{
    ims_milenage_t hss, ue;
    ims_aka_vector_t v;
    ims_aka_ue_result_t r;
    uint8_t rand[16], autn[16];
    uint64_t sqn_he = 1, sqn_ms = 1, sqn_got = 0;

    assert_int_equal(ims_milenage_init_op(&hss, lab_k, lab_op), IMS_OK);
    assert_int_equal(ims_milenage_init_op(&ue, lab_k, lab_op), IMS_OK);

    /* In sequence: accepted, RES/CK/IK equal the network's. */
    for (int i = 0; i < 3; i++) {
        sqn_he = ims_aka_sqn_next(sqn_he);
        assert_int_equal(ims_aka_rand(rand), IMS_OK);
        assert_int_equal(ims_aka_vector_make(&hss, rand, sqn_he, lab_amf, &v), IMS_OK);
        assert_int_equal(ims_aka_ue_check(&ue, v.rand, v.autn, sqn_ms, &r), IMS_AKA_OK);
        assert_memory_equal(r.res, v.xres, 8);
        assert_memory_equal(r.ck, v.ck, 16);
        assert_memory_equal(r.ik, v.ik, 16);
        assert_memory_equal(r.amf, lab_amf, 2);
        assert_true(r.sqn == sqn_he);
        sqn_ms = r.sqn;
    }
    /* Replay of the last vector: SQN not above SQN_MS -> sync failure. */
    assert_int_equal(ims_aka_ue_check(&ue, v.rand, v.autn, sqn_ms, &r), IMS_AKA_SYNC_FAILURE);

    /* Every flipped bit of AUTN or RAND is a MAC failure. */
    for (int bit = 0; bit < 128; bit++) {
        memcpy(autn, v.autn, 16);
        autn[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(ims_aka_ue_check(&ue, v.rand, autn, 0, &r), IMS_AKA_MAC_FAILURE);
        memcpy(rand, v.rand, 16);
        rand[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(ims_aka_ue_check(&ue, rand, v.autn, 0, &r), IMS_AKA_MAC_FAILURE);
    }
    /* A network with another K fails the MAC too. */
    ims_milenage_fini(&ue);
    assert_int_equal(ims_milenage_init_op(&ue, lab_op, lab_op), IMS_OK);
    assert_int_equal(ims_aka_ue_check(&ue, v.rand, v.autn, 0, &r), IMS_AKA_MAC_FAILURE);
    ims_milenage_fini(&ue);
    assert_int_equal(ims_milenage_init_op(&ue, lab_k, lab_op), IMS_OK);

    /* HSS behind the UE (e.g. restored from a backup): sync failure, AUTS, resync. */
    sqn_ms = UINT64_C(5000) << IMS_AKA_IND_BITS;
    sqn_he = ims_aka_sqn_next(1);
    assert_int_equal(ims_aka_vector_make(&hss, rand, sqn_he, lab_amf, &v), IMS_OK);
    assert_int_equal(ims_aka_ue_check(&ue, v.rand, v.autn, sqn_ms, &r), IMS_AKA_SYNC_FAILURE);
    assert_true(r.sqn == sqn_he);
    assert_memory_equal(r.res, "\0\0\0\0\0\0\0\0", 8); /* no keys on failure */
    assert_int_equal(ims_aka_resync(&hss, v.rand, r.auts, &sqn_got), IMS_OK);
    assert_true(sqn_got == sqn_ms);
    sqn_he = ims_aka_sqn_next(ims_aka_sqn_after_resync(sqn_he, sqn_got));
    assert_true(sqn_he == ims_aka_sqn_next(sqn_ms));
    assert_int_equal(ims_aka_rand(rand), IMS_OK);
    assert_int_equal(ims_aka_vector_make(&hss, rand, sqn_he, lab_amf, &v), IMS_OK);
    assert_int_equal(ims_aka_ue_check(&ue, v.rand, v.autn, sqn_ms, &r), IMS_AKA_OK);

    /* Too far ahead (beyond DELTA) is a sync failure as well; at DELTA it is fine. */
    assert_int_equal(ims_aka_vector_make(&hss, rand, sqn_ms + IMS_AKA_SQN_DELTA + 1, lab_amf, &v),
                     IMS_OK);
    assert_int_equal(ims_aka_ue_check(&ue, v.rand, v.autn, sqn_ms, &r), IMS_AKA_SYNC_FAILURE);
    assert_int_equal(ims_aka_vector_make(&hss, rand, sqn_ms + IMS_AKA_SQN_DELTA, lab_amf, &v),
                     IMS_OK);
    assert_int_equal(ims_aka_ue_check(&ue, v.rand, v.autn, sqn_ms, &r), IMS_AKA_OK);
    ims_milenage_fini(&ue);
    ims_milenage_fini(&hss);
}

static void test_nonce(void **state)
{
    uint8_t rand[16], autn[16], r2[16], a2[16], raw[40];
    char nonce[IMS_AKA_NONCE_SIZE], big[64];

    for (int i = 0; i < 16; i++) {
        rand[i] = (uint8_t)(i * 17 + 1);
        autn[i] = (uint8_t)(0xff - i);
    }
    assert_int_equal(ims_aka_nonce_encode(rand, autn, nonce, sizeof(nonce)), IMS_OK);
    assert_int_equal(strlen(nonce), 44);
    assert_int_equal(ims_aka_nonce_encode(rand, autn, nonce, sizeof(nonce) - 1), IMS_ERROR);
    assert_int_equal(ims_aka_nonce_encode(rand, autn, nonce, sizeof(nonce)), IMS_OK);
    assert_int_equal(ims_aka_nonce_decode(nonce, strlen(nonce), r2, a2), IMS_OK);
    assert_memory_equal(r2, rand, 16);
    assert_memory_equal(a2, autn, 16);
    /* Server data after RAND||AUTN is ignored (RFC 3310 §3.2). */
    memcpy(raw, rand, 16);
    memcpy(raw + 16, autn, 16);
    memcpy(raw + 32, "srvdata!", 8);
    assert_int_equal(ims_base64_encode(raw, 40, big, sizeof(big), NULL), IMS_OK);
    memset(r2, 0, 16);
    assert_int_equal(ims_aka_nonce_decode(big, strlen(big), r2, a2), IMS_OK);
    assert_memory_equal(r2, rand, 16);
    assert_memory_equal(a2, autn, 16);
    /* Too short, not base64, empty. */
    assert_int_equal(ims_base64_encode(raw, 31, big, sizeof(big), NULL), IMS_OK);
    assert_int_equal(ims_aka_nonce_decode(big, strlen(big), r2, a2), IMS_ERROR);
    assert_int_equal(ims_aka_nonce_decode("not base64!", 11, r2, a2), IMS_ERROR);
    assert_int_equal(ims_aka_nonce_decode("", 0, r2, a2), IMS_ERROR);
    /* Only len characters are read: a truncated nonce is too short. */
    assert_int_equal(ims_aka_nonce_decode(nonce, 40, r2, a2), IMS_ERROR);
}

/* --- base64, hex ------------------------------------------------------------------------ */

static void test_base64(void **state)
{
    static const char *const rfc[][2] = { { "", "" },
                                          { "f", "Zg==" },
                                          { "fo", "Zm8=" },
                                          { "foo", "Zm9v" },
                                          { "foob", "Zm9vYg==" },
                                          { "fooba", "Zm9vYmE=" },
                                          { "foobar", "Zm9vYmFy" } };
    static const char *const bad[] = { "Z",     "Zg=",    "Zg===", "Zm9v=", "Zm=9", "=Zg=",
                                       "Zm 9v", "Zm9v\n", "Zh==",  "Zm9=",  "====", "Zm9vY",
                                       "Zm-v",  "Zm_v",   "Z===",  "Zg=a" };
    uint8_t in[64], out[64];
    char enc[96];
    size_t n;

    for (size_t i = 0; i < IMS_ARRAY_LEN(rfc); i++) {
        size_t l = strlen(rfc[i][0]);
        assert_int_equal(ims_base64_encode((const uint8_t *)rfc[i][0], l, enc, sizeof(enc), &n),
                         IMS_OK);
        assert_string_equal(enc, rfc[i][1]);
        assert_int_equal(n, strlen(rfc[i][1]));
        assert_int_equal(ims_base64_decode(enc, n, out, sizeof(out), &n), IMS_OK);
        assert_int_equal(n, l);
        assert_memory_equal(out, rfc[i][0], l);
    }
    /* Round trip over every length and all byte values. */
    for (size_t l = 0; l <= sizeof(in); l++) {
        for (size_t i = 0; i < l; i++)
            in[i] = (uint8_t)(i * 37 + l * 101);
        assert_int_equal(ims_base64_encode(in, l, enc, sizeof(enc), &n), IMS_OK);
        assert_int_equal(n, IMS_BASE64_ENC_LEN(l));
        assert_int_equal(ims_base64_decode(enc, n, out, sizeof(out), &n), IMS_OK);
        assert_int_equal(n, l);
        assert_memory_equal(out, in, l);
        /* Without padding, too. */
        n = strlen(enc);
        while (n > 0 && enc[n - 1] == '=')
            n--;
        assert_int_equal(ims_base64_decode(enc, n, out, sizeof(out), &n), IMS_OK);
        assert_int_equal(n, l);
    }
    for (size_t i = 0; i < IMS_ARRAY_LEN(bad); i++) {
        if (ims_base64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n) != IMS_ERROR)
            fail_msg("accepted bad base64 '%s'", bad[i]);
    }
    assert_int_equal(ims_base64_decode("Zm9v\0Zm9v", 9, out, sizeof(out), &n), IMS_ERROR);
    /* Bounded output on both sides. */
    assert_int_equal(ims_base64_decode("Zm9vYmFy", 8, out, 5, &n), IMS_ERROR);
    assert_int_equal(ims_base64_decode("Zm9vYmFy", 8, out, 6, &n), IMS_OK);
    assert_int_equal(ims_base64_encode((const uint8_t *)"foo", 3, enc, 4, &n), IMS_ERROR);
    assert_string_equal(enc, "");
    assert_int_equal(ims_base64_encode((const uint8_t *)"foo", 3, enc, 5, &n), IMS_OK);
}

static void test_hex(void **state)
{
    uint8_t out[8];
    char s[17];
    size_t n = 0;

    assert_int_equal(ims_auth_hex_decode("00fFa5", 6, out, sizeof(out), &n), IMS_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\x00\xff\xa5", 3);
    assert_int_equal(ims_auth_hex_encode(out, 3, s, sizeof(s)), IMS_OK);
    assert_string_equal(s, "00ffa5");
    assert_int_equal(ims_auth_hex_encode(out, 3, s, 6), IMS_ERROR);
    assert_int_equal(ims_auth_hex_decode("abc", 3, out, sizeof(out), &n), IMS_ERROR);
    assert_int_equal(ims_auth_hex_decode("zz", 2, out, sizeof(out), &n), IMS_ERROR);
    assert_int_equal(ims_auth_hex_decode("0011223344556677aa", 18, out, sizeof(out), &n),
                     IMS_ERROR);
}

static void test_digest_check(void **state)
{
    const char *want = "6629fae49393a05397450978507c4ef1";
    char got[40];

    assert_int_equal(ims_digest_check(want, want, 32), IMS_OK);
    assert_int_equal(ims_digest_check(want, "6629FAE49393A05397450978507C4EF1", 32), IMS_OK);
    assert_int_equal(ims_digest_check(want, want, 31), IMS_ERROR);
    assert_int_equal(ims_digest_check(want, "", 0), IMS_ERROR);
    for (int i = 0; i < 32; i++) {
        memcpy(got, want, 33);
        got[i] = got[i] == '0' ? '1' : '0';
        assert_int_equal(ims_digest_check(want, got, 32), IMS_ERROR);
        got[i] = '\x16'; /* | 0x20 would turn it into '6' */
        assert_int_equal(ims_digest_check(want, got, 32), IMS_ERROR);
    }
    memcpy(got, want, 33);
    memcpy(got + 32, "00", 3);
    assert_int_equal(ims_digest_check(want, got, 34), IMS_ERROR);
}

/* --- Digest parameter parser ----------------------------------------------------------- */

static void parse_ok(const char *s, ims_digest_params_t *p)
{
    if (ims_digest_parse(s, strlen(s), p) != IMS_OK)
        fail_msg("refused good input: %s", s);
}

static void test_digest_parse_good(void **state)
{
    ims_digest_params_t p;
    char buf[600];

    parse_ok("Digest username=\"alice@ims.example\", realm=\"ims.example\", nonce=\"\", "
             "uri=\"sip:ims.example\", response=\"\"",
             &p);
    assert_string_equal(p.username, "alice@ims.example");
    assert_string_equal(p.uri, "sip:ims.example");
    assert_true(ims_digest_has(&p, IMS_DIGEST_NONCE) && p.nonce[0] == '\0');
    assert_true(ims_digest_has(&p, IMS_DIGEST_RESPONSE));
    assert_false(ims_digest_has(&p, IMS_DIGEST_QOP));
    assert_false(ims_digest_has(&p, IMS_DIGEST_AUTS));

    /* RFC 2617 §3.5 Authorization, with line folding. */
    parse_ok("Digest username=\"Mufasa\",\r\n realm=\"testrealm@host.com\",\r\n\t"
             "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
             "qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
             "response=\"6629fae49393a05397450978507c4ef1\", "
             "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
             &p);
    assert_string_equal(p.nc, "00000001");
    assert_string_equal(p.qop, "auth");
    assert_string_equal(p.cnonce, "0a4f113b");
    assert_string_equal(p.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
    assert_string_equal(ims_digest_get(&p, IMS_DIGEST_RESPONSE),
                        "6629fae49393a05397450978507c4ef1");

    /* S-CSCF 401 towards the P-CSCF, with ck/ik. */
    parse_ok("Digest realm=\"ims.example\", nonce=\"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tf"
             "r7M=\", algorithm=AKAv1-MD5, qop=\"auth,auth-int\", "
             "ck=\"b40ba9a3c58b2a05bbf0d987b21bf8cb\", ik=\"f769bcd751044604127672711c6d3441\"",
             &p);
    assert_string_equal(p.qop, "auth,auth-int");
    assert_string_equal(p.ck, "b40ba9a3c58b2a05bbf0d987b21bf8cb");
    assert_string_equal(p.ik, "f769bcd751044604127672711c6d3441");
    assert_string_equal(p.nonce, "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");

    /* Case-insensitive scheme and names, LWS around '=' and ','. */
    parse_ok("  dIgEsT   USERNAME = \"bob\" ,Realm=\"r\"  ,  AUTS = \"uoU/PBLEP8HW1DexcfE=\"  ",
             &p);
    assert_string_equal(p.username, "bob");
    assert_string_equal(p.realm, "r");
    assert_string_equal(p.auts, "uoU/PBLEP8HW1DexcfE=");

    /* Escapes inside quoted strings. */
    parse_ok("Digest username=\"a\\\"b\\\\c\\d\", realm=\"x,y=z\"", &p);
    assert_string_equal(p.username, "a\"b\\cd");
    assert_string_equal(p.realm, "x,y=z");

    /* P-CSCF marking, unknown parameters skipped, empty elements. */
    parse_ok("Digest username=\"u\", integrity-protected=\"yes\", foo=bar, baz=\"q\\\"x\",,", &p);
    assert_string_equal(p.integrity_protected, "yes");
    assert_int_equal(p.present,
                     (1u << IMS_DIGEST_USERNAME) | (1u << IMS_DIGEST_INTEGRITY_PROTECTED));

    parse_ok("Digest realm=\"r\", nonce=\"n\", stale=TRUE, algorithm=MD5", &p);
    assert_string_equal(p.stale, "TRUE");
    assert_string_equal(p.algorithm, "MD5");

    /* UTF-8 and tabs inside a quoted string, tab after the scheme. */
    parse_ok("Digest\tusername=\"J\xc3\xb6rg\tX\"", &p);
    assert_string_equal(p.username, "J\xc3\xb6rg\tX");

    /* Exactly at the limits: 255-character realm, 511-character uri. */
    memset(buf, 0, sizeof(buf));
    strcpy(buf, "Digest realm=\"");
    memset(buf + strlen(buf), 'r', 255);
    strcat(buf, "\"");
    parse_ok(buf, &p);
    assert_int_equal(strlen(p.realm), 255);
    strcpy(buf, "Digest uri=\"");
    memset(buf + strlen(buf), 'u', 511);
    strcat(buf, "\"");
    parse_ok(buf, &p);
    assert_int_equal(strlen(p.uri), 511);

    /* Only len octets are read: whatever follows is not seen. */
    assert_int_equal(ims_digest_parse("Digest nc=00000001GARBAGE\"", 18, &p), IMS_OK);
    assert_string_equal(p.nc, "00000001");

    /* Token values with the full token alphabet. */
    parse_ok("Digest algorithm=a-b.c!d%e*f_g+h`i'j~k", &p);
    assert_string_equal(p.algorithm, "a-b.c!d%e*f_g+h`i'j~k");
}

static void test_digest_parse_bad(void **state)
{
    static const char *const bad[] = {
        "",
        "Digest",
        "Digest ",
        "Basic realm=\"r\"",
        "Digestusername=\"u\"",
        "Digest username",
        "Digest username=",
        "Digest username=\"unterminated",
        "Digest username=\"u\" realm=\"r\"", /* missing comma */
        "Digest =\"u\"",
        "Digest username=\"u\", username=\"v\"", /* duplicate */
        "Digest username=\"u\", USERNAME=\"v\"", /* duplicate, other case */
        "Digest username=u@host",                /* '@' not a token char */
        "Digest username=\"a\rb\"",              /* bare CR */
        "Digest username=\"a\nb\"",
        "Digest username=\"a\x01"
        "b\"",
        "Digest username=\"a\\\x01"
        "b\"", /* escaped control */
        "Digest username=\"trailing backslash\\",
        "Digest nc=00000001;x",
        "Digest realm=\"r\" junk",
        "Digest realm=\"r\",\r\nrealm2=x", /* CRLF without WSP */
        "Digest username=\"u\"\x7f",
        "Digest r\xc3\xa9"
        "alm=\"x\"", /* non-token name */
        "Digest response=\"0123456789012345678901234567890123456789"
        "012345678901234567890123456789\"", /* 70 > 64 */
        "Digest nc=00000000000000001",      /* 17 > 15 */
    };
    ims_digest_params_t p;
    char buf[2048];
    size_t n;

    for (size_t i = 0; i < IMS_ARRAY_LEN(bad); i++) {
        memset(&p, 0x55, sizeof(p));
        if (ims_digest_parse(bad[i], strlen(bad[i]), &p) != IMS_ERROR)
            fail_msg("accepted malformed input #%zu: %s", i, bad[i]);
        assert_int_equal(p.present, 0);
        assert_string_equal(p.username, "");
    }
    /* NUL inside a value, inside the length. */
    assert_int_equal(ims_digest_parse("Digest username=\"a\0b\"", 22, &p), IMS_ERROR);
    /* A quote cut off by len. */
    assert_int_equal(ims_digest_parse("Digest username=\"abc\"", 20, &p), IMS_ERROR);
    assert_int_equal(ims_digest_parse(NULL, 0, &p), IMS_ERROR);

    /* One over the limits. */
    strcpy(buf, "Digest realm=\"");
    n = strlen(buf);
    memset(buf + n, 'r', 256);
    strcpy(buf + n + 256, "\"");
    assert_int_equal(ims_digest_parse(buf, strlen(buf), &p), IMS_ERROR);
    strcpy(buf, "Digest x-unknown=\"");
    n = strlen(buf);
    memset(buf + n, 'x', 512);
    strcpy(buf + n + 512, "\"");
    assert_int_equal(ims_digest_parse(buf, strlen(buf), &p), IMS_ERROR);

    /* Too many parameters. */
    strcpy(buf, "Digest a=1");
    for (int i = 1; i < IMS_DIGEST_MAX_PARAMS; i++)
        strcat(buf, ",a=1");
    assert_int_equal(ims_digest_parse(buf, strlen(buf), &p), IMS_OK);
    strcat(buf, ",a=1");
    assert_int_equal(ims_digest_parse(buf, strlen(buf), &p), IMS_ERROR);
}

/* Random and mutated input: the parsers must return, never crash or read out
 * of bounds (each input sits in an exact-size heap block for ASan). */
static void test_parsers_random(void **state)
{
    static const char seed[] =
        "Digest username=\"001010000000001@ims.example\", realm=\"ims.example\", "
        "nonce=\"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=\", uri=\"sip:ims.example\", "
        "response=\"402ab8df9f3a4d63a9f47c2f90e02938\", algorithm=AKAv1-MD5, qop=auth, "
        "nc=00000001, cnonce=\"0a4f113b\", auts=\"uoU/PBLEP8HW1DexcfE=\"";
    static const char alphabet[] = "Digest =,\"\\\r\n\t abAZ09+/-@\x01\x80\xff";
    uint32_t x = 12345;
    ims_digest_params_t p;
    uint8_t out[256];
    size_t n, ok = 0;

    for (int iter = 0; iter < 40000; iter++) {
        size_t len = sizeof(seed) - 1;
        char *buf = malloc(len);
        assert_non_null(buf);
        memcpy(buf, seed, len);
        for (int k = 0; k < 1 + iter % 6; k++) {
            x = x * 1103515245u + 12345u;
            buf[(x >> 8) % len] = alphabet[(x >> 20) % (sizeof(alphabet) - 1)];
        }
        x = x * 1103515245u + 12345u;
        len = iter % 3 == 0 ? (x >> 8) % (len + 1) : len;
        if (ims_digest_parse(buf, len, &p) == IMS_OK)
            ok++;
        (void)ims_base64_decode(buf + 7, len > 7 ? len - 7 : 0, out, sizeof(out), &n);
        free(buf);
    }
    assert_true(ok > 0); /* some mutations stay valid: the loop exercised success too */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_milenage_vectors),
        cmocka_unit_test(test_digest_md5_examples),
        cmocka_unit_test(test_digest_aka_examples),
        cmocka_unit_test(test_sqn),
        cmocka_unit_test(test_resync_roundtrip),
        cmocka_unit_test(test_ue_check),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_digest_check),
        cmocka_unit_test(test_digest_parse_good),
        cmocka_unit_test(test_digest_parse_bad),
        cmocka_unit_test(test_parsers_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
