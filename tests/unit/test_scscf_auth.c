/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * S-CSCF authentication (scscf/auth.c) against the worked examples of
 * shared/vectors/digest.json: the AKAv1-MD5 challenge built from an MAA item
 * (nonce = base64(RAND||AUTN), ck/ik), the UE's response verified with XRES
 * as the 8-octet binary password (and the hex-text "password" refused), stale
 * nonces, qop handling, SIP Digest with HA1 from the HSS, and the resync data
 * RAND||AUTS from example 4. Also the SIP layer's keeping of the raw
 * Authorization header (common/sip/msg_cred.c): auts= and integrity-protected=
 * survive parsing and re-serialising, which libosip2 alone would drop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/sip/msg.h"
#include "scscf/auth.c"

static json_t *g_root;

static const json_t *example(int i)
{
    const char *dir = getenv("IMS_VECTORS_DIR");
    char path[1024];
    json_error_t err;

    if (!g_root) {
        if (!dir)
            fail_msg("IMS_VECTORS_DIR is not set (run through ctest)");
        snprintf(path, sizeof(path), "%s/digest.json", dir);
        if (!(g_root = json_load_file(path, 0, &err)))
            fail_msg("%s: %s", path, err.text);
    }
    return json_array_get(json_object_get(g_root, "examples"), (size_t)i);
}

static const char *js(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    if (!s)
        fail_msg("missing %s", k);
    return s;
}

static void unhex(const char *hex, uint8_t *out, size_t len)
{
    assert_int_equal(strlen(hex), 2 * len);
    for (size_t i = 0; i < len; i++) {
        unsigned v;

        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* The MAA item ims-hss would send for example 3. */
static void aka_item(const json_t *ex, cx_auth_item_t *it)
{
    const json_t *mi = json_object_get(ex, "milenage_inputs");

    memset(it, 0, sizeof(*it));
    snprintf(it->scheme, sizeof(it->scheme), "Digest-AKAv1-MD5");
    unhex(js(mi, "rand"), it->authenticate, 16);
    unhex(js(ex, "autn"), it->authenticate + 16, 16);
    it->authenticate_len = 32;
    unhex(js(ex, "res_xres"), it->authorization, 8);
    it->authorization_len = 8;
    unhex(js(ex, "ck"), it->ck, 16);
    unhex(js(ex, "ik"), it->ik, 16);
    it->has_keys = true;
}

/* Credentials as a UE sends them, through the real parameter parser. */
static void creds(ims_digest_params_t *p, const json_t *ex, const char *nonce,
                  const char *response)
{
    char hdr[1024];

    snprintf(hdr, sizeof(hdr),
             "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
             "response=\"%s\", algorithm=AKAv1-MD5, qop=auth, nc=%s, cnonce=\"%s\"",
             js(ex, "username"), js(ex, "realm"), nonce, js(ex, "uri"), response, js(ex, "nc"),
             js(ex, "cnonce"));
    assert_int_equal(ims_digest_parse(hdr, strlen(hdr), p), IMS_OK);
}

static void test_aka_challenge_and_verify(void **state)
{
    const json_t *ex = example(2);
    cx_auth_item_t it;
    scscf_auth_t a;
    ims_digest_params_t p;
    char www[400], want[400], upper[40];

    (void)state;
    aka_item(ex, &it);
    memset(&a, 0, sizeof(a));
    assert_int_equal(scscf_auth_from_maa(&a, &it, js(ex, "realm"), www, sizeof(www)), IMS_OK);
    assert_int_equal(a.scheme, SCSCF_AUTH_AKA);
    assert_string_equal(a.nonce, js(ex, "nonce"));
    snprintf(want, sizeof(want), "%s, ck=\"%s\", ik=\"%s\"", js(ex, "www_authenticate_to_ue"),
             js(ex, "ck"), js(ex, "ik"));
    assert_string_equal(www, want);

    creds(&p, ex, js(ex, "nonce"), js(ex, "expected_response"));
    assert_int_equal(scscf_auth_verify(&a, &p, "REGISTER"), SCSCF_VERIFY_OK);
    /* hex digits in either case */
    snprintf(upper, sizeof(upper), "%s", js(ex, "expected_response"));
    for (char *c = upper; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 32);
    creds(&p, ex, js(ex, "nonce"), upper);
    assert_int_equal(scscf_auth_verify(&a, &p, "REGISTER"), SCSCF_VERIFY_OK);
    /* RES as hex text is the classic interop bug: refused */
    creds(&p, ex, js(ex, "nonce"), js(ex, "wrong_response_if_res_hex_text_used_as_password"));
    assert_int_equal(scscf_auth_verify(&a, &p, "REGISTER"), SCSCF_VERIFY_FAIL);
    /* the right response for another method */
    creds(&p, ex, js(ex, "nonce"), js(ex, "expected_response"));
    assert_int_equal(scscf_auth_verify(&a, &p, "INVITE"), SCSCF_VERIFY_FAIL);
    /* an answer to another challenge is stale, not wrong */
    creds(&p, ex, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", js(ex, "expected_response"));
    assert_int_equal(scscf_auth_verify(&a, &p, "REGISTER"), SCSCF_VERIFY_STALE);
    /* no nonce at all: stale too (a fresh challenge follows) */
    memset(&p, 0, sizeof(p));
    assert_int_equal(scscf_auth_verify(&a, &p, "REGISTER"), SCSCF_VERIFY_STALE);
    /* a wrong XRES in the vector */
    a.xres[0] ^= 1;
    creds(&p, ex, js(ex, "nonce"), js(ex, "expected_response"));
    assert_int_equal(scscf_auth_verify(&a, &p, "REGISTER"), SCSCF_VERIFY_FAIL);
}

static void test_aka_bad_items(void **state)
{
    const json_t *ex = example(2);
    cx_auth_item_t it;
    scscf_auth_t a;
    char www[400];

    (void)state;
    aka_item(ex, &it);
    it.authenticate_len = 31;
    assert_int_equal(scscf_auth_from_maa(&a, &it, "r", www, sizeof(www)), IMS_ERROR);
    aka_item(ex, &it);
    it.authorization_len = 17;
    assert_int_equal(scscf_auth_from_maa(&a, &it, "r", www, sizeof(www)), IMS_ERROR);
    aka_item(ex, &it);
    assert_int_equal(scscf_auth_from_maa(&a, &it, "r", www, 20), IMS_ERROR);
    snprintf(it.scheme, sizeof(it.scheme), "NASS-Bundled");
    assert_int_equal(scscf_auth_from_maa(&a, &it, "r", www, sizeof(www)), IMS_ERROR);
    /* no keys: no ck/ik in the challenge */
    aka_item(ex, &it);
    it.has_keys = false;
    assert_int_equal(scscf_auth_from_maa(&a, &it, "r", www, sizeof(www)), IMS_OK);
    assert_null(strstr(www, "ck="));
}

static void test_md5(void **state)
{
    const json_t *ex = example(0);
    cx_auth_item_t it;
    scscf_auth_t a;
    ims_digest_params_t p;
    char www[400], ha2[33], resp[33], hdr[600], nonce2[64];

    (void)state;
    memset(&it, 0, sizeof(it));
    snprintf(it.scheme, sizeof(it.scheme), "SIP Digest");
    snprintf(it.digest_realm, sizeof(it.digest_realm), "%s", js(ex, "realm"));
    snprintf(it.digest_ha1, sizeof(it.digest_ha1), "%s", js(ex, "ha1"));
    it.has_digest = true;
    memset(&a, 0, sizeof(a));
    assert_int_equal(scscf_auth_from_maa(&a, &it, "other", www, sizeof(www)), IMS_OK);
    assert_int_equal(a.scheme, SCSCF_AUTH_MD5);
    assert_int_equal(strlen(a.nonce), 32);
    assert_non_null(strstr(www, "algorithm=MD5"));
    assert_non_null(strstr(www, "realm=\"testrealm@host.com\""));
    /* the client side, from the example's own HA1 */
    assert_int_equal(ims_digest_ha2(js(ex, "method"), js(ex, "uri"), ha2), IMS_OK);
    assert_string_equal(ha2, js(ex, "ha2"));
    assert_int_equal(ims_digest_response(js(ex, "ha1"), a.nonce, "00000001", "0a4f113b", "auth",
                                         ha2, resp), IMS_OK);
    snprintf(hdr, sizeof(hdr), "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
             "response=\"%s\", qop=auth, nc=00000001, cnonce=\"0a4f113b\"", js(ex, "username"),
             js(ex, "realm"), a.nonce, js(ex, "uri"), resp);
    assert_int_equal(ims_digest_parse(hdr, strlen(hdr), &p), IMS_OK);
    assert_int_equal(scscf_auth_verify(&a, &p, "GET"), SCSCF_VERIFY_OK);
    /* the example's published response holds for its own nonce */
    snprintf(a.nonce, sizeof(a.nonce), "%s", js(ex, "nonce"));
    snprintf(hdr, sizeof(hdr), "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
             "response=\"%s\", qop=auth, nc=%s, cnonce=\"%s\"", js(ex, "username"),
             js(ex, "realm"), a.nonce, js(ex, "uri"), js(ex, "expected_response"), js(ex, "nc"),
             js(ex, "cnonce"));
    assert_int_equal(ims_digest_parse(hdr, strlen(hdr), &p), IMS_OK);
    assert_int_equal(scscf_auth_verify(&a, &p, "GET"), SCSCF_VERIFY_OK);
    /* qop other than auth, or missing cnonce: refused */
    p.qop[0] = 'x';
    assert_int_equal(scscf_auth_verify(&a, &p, "GET"), SCSCF_VERIFY_FAIL);
    /* a second challenge gets a different nonce */
    snprintf(nonce2, sizeof(nonce2), "%s", a.nonce);
    assert_int_equal(scscf_auth_from_maa(&a, &it, "other", www, sizeof(www)), IMS_OK);
    assert_string_not_equal(a.nonce, nonce2);
    /* no HA1: unusable */
    it.digest_ha1[0] = '\0';
    assert_int_equal(scscf_auth_from_maa(&a, &it, "other", www, sizeof(www)), IMS_ERROR);
}

static void test_resync(void **state)
{
    const json_t *ex3 = example(2), *ex4 = example(3);
    cx_auth_item_t it;
    scscf_auth_t a;
    char www[400];
    uint8_t out[30], want[30];

    (void)state;
    aka_item(ex3, &it);
    memset(&a, 0, sizeof(a));
    assert_int_equal(scscf_auth_from_maa(&a, &it, "r", www, sizeof(www)), IMS_OK);
    assert_int_equal(scscf_auth_resync_data(&a, js(ex4, "auts_param_base64"), out), IMS_OK);
    unhex("23553cbe9637a89d218ae64dae47bf35ba853f3c12c43fc1d6d437b171f1", want, 30);
    assert_memory_equal(out, want, 30);
    assert_int_equal(scscf_auth_resync_data(&a, "uoU/PBLE", out), IMS_ERROR);
    assert_int_equal(scscf_auth_resync_data(&a, "not base64!", out), IMS_ERROR);
    a.scheme = SCSCF_AUTH_MD5;
    assert_int_equal(scscf_auth_resync_data(&a, js(ex4, "auts_param_base64"), out), IMS_ERROR);
}

static void test_mar_scheme(void **state)
{
    scscf_cfg_t c;

    (void)state;
    memset(&c, 0, sizeof(c));
    snprintf(c.md5_scheme, sizeof(c.md5_scheme), "Unknown");
    assert_string_equal(scscf_auth_mar_scheme(&c, "AKAv1-MD5"), "Digest-AKAv1-MD5");
    assert_string_equal(scscf_auth_mar_scheme(&c, "akav1-md5"), "Digest-AKAv1-MD5");
    assert_string_equal(scscf_auth_mar_scheme(&c, "MD5"), "Unknown");
    assert_string_equal(scscf_auth_mar_scheme(&c, ""), "Unknown");
    snprintf(c.md5_scheme, sizeof(c.md5_scheme), "SIP Digest");
    assert_string_equal(scscf_auth_mar_scheme(&c, "MD5"), "SIP Digest");
}

static const char REG[] =
    "REGISTER sip:ims.test SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx1\r\n"
    "From: <sip:alice@ims.test>;tag=1\r\nTo: <sip:alice@ims.test>\r\n"
    "Call-ID: c1\r\nCSeq: 2 REGISTER\r\nMax-Forwards: 70\r\n"
    "Authorization: Digest username=\"alice@ims.test\", realm=\"ims.test\", nonce=\"\",\r\n"
    "   uri=\"sip:ims.test\", response=\"\", auts=\"uoU/PBLEP8HW1DexcfE=\",\r\n"
    "\tintegrity-protected=\"yes\"\r\n"
    "proxy-authorization: Digest username=\"x\", realm=\"other\", nonce=\"n\", foo=\"bar\"\r\n"
    "Contact: <sip:alice@10.0.0.1:5060>\r\nContent-Length: 0\r\n\r\n";

static void test_raw_credentials(void **state)
{
    sip_msg_t *m, *c, *again;
    const char *why, *h;
    ims_digest_params_t p;
    char *out;
    size_t len;

    (void)state;
    assert_int_equal(sip_msg_parse(REG, strlen(REG), NULL, 65535, &m, &why), SIP_PARSE_OK);
    h = sip_msg_header(m, "Authorization");
    assert_non_null(h);
    assert_int_equal(ims_digest_parse(h, strlen(h), &p), IMS_OK);
    assert_string_equal(p.auts, "uoU/PBLEP8HW1DexcfE=");
    assert_string_equal(p.integrity_protected, "yes");
    assert_true(ims_digest_has(&p, IMS_DIGEST_NONCE));
    assert_string_equal(p.nonce, "");
    assert_non_null(strstr(sip_msg_header(m, "Proxy-Authorization"), "foo=\"bar\""));
    /* a proxy's copy serialises them again, byte for byte, once each */
    c = sip_msg_clone(m);
    assert_int_equal(sip_msg_to_str(c, &out, &len), IMS_OK);
    assert_non_null(strstr(out, "auts=\"uoU/PBLEP8HW1DexcfE=\", integrity-protected=\"yes\""));
    assert_non_null(strstr(out, "foo=\"bar\""));
    assert_null(strstr(strstr(out, "Authorization:") + 1, "\r\nAuthorization:"));
    assert_int_equal(sip_msg_parse(out, len, NULL, 65535, &again, &why), SIP_PARSE_OK);
    assert_string_equal(sip_msg_header(again, "Authorization"), h);
    osip_free(out);
    sip_msg_free(again);
    sip_msg_free(c);
    sip_msg_free(m);
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_root);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aka_challenge_and_verify),
        cmocka_unit_test(test_aka_bad_items),
        cmocka_unit_test(test_md5),
        cmocka_unit_test(test_resync),
        cmocka_unit_test(test_mar_scheme),
        cmocka_unit_test(test_raw_credentials),
    };

    return cmocka_run_group_tests(tests, NULL, teardown);
}
