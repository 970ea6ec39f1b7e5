/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Diameter parsing of malformed input: every header and AVP error with its
 * Result-Code and the exact Failed-AVP we would send back; received
 * Failed-AVPs left unvalidated; the nesting limit; framing; truncated
 * prefixes of a valid message; and a seeded 100k random-mutation loop (run it
 * under ASan) in which every refused request still gets a valid error answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "tests/unit/dia_test_util.h"

/* --------------------------------------------------------- header errors */

static void test_header_errors(void **state)
{
    raw_t r;
    dia_msg_t *m = (dia_msg_t *)&r;
    dia_err_t err;

    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_done(&r);
    dia_msg_free(parse_ok(r.b, r.n));
    /* Shorter than a header: nothing to answer. */
    assert_int_equal(dia_msg_parse(r.b, 19, &m, &err), IMS_ERROR);
    assert_null(m);
    assert_int_equal(err.result_code, DIA_INVALID_MESSAGE_LENGTH);
    assert_int_equal(dia_msg_parse(NULL, 0, &m, NULL), IMS_ERROR);
    assert_null(m);
    /* Version 2. */
    r.b[0] = 2;
    check_bad(&r, DIA_UNSUPPORTED_VERSION, NULL);
    r.b[0] = 1;
    /* Length field larger / smaller than the bytes. */
    r.b[3] = 24;
    check_bad(&r, DIA_INVALID_MESSAGE_LENGTH, NULL);
    raw_avp_u32(&r, DIA_AVP_ORIGIN_STATE_ID, M, 0, 1);
    r.b[3] = 20;
    m = parse_bad(&r, DIA_INVALID_MESSAGE_LENGTH, &err);
    /* The header was readable: enough to answer. */
    assert_int_equal(m->hbh, 0xaabbccdd);
    assert_int_equal(m->e2e, 0x11223344);
    dia_msg_free(m);
    raw_done(&r);
    dia_msg_free(parse_ok(r.b, r.n));
    /* Reserved flag bits; E on a request; E on an answer is fine. */
    for (uint8_t bit = 1; bit <= 8; bit <<= 1) {
        r.b[4] = DIA_FLAG_R | bit;
        check_bad(&r, DIA_INVALID_HDR_BITS, NULL);
    }
    r.b[4] = DIA_FLAG_R | DIA_FLAG_E;
    check_bad(&r, DIA_INVALID_HDR_BITS, NULL);
    r.b[4] = DIA_FLAG_E | DIA_FLAG_P;
    m = parse_ok(r.b, r.n);
    assert_false(dia_msg_is_request(m));
    dia_msg_free(m);
}

/* ----------------------------------------------------------- AVP lengths */

static void test_avp_length_errors(void **state)
{
    raw_t r;

    /* Length 7, below the 8-octet header: header + zero Unsigned32. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_hdr(&r, DIA_AVP_RESULT_CODE, M, 0, 7);
    raw_u32(&r, 2001);
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "0000010c 40 00000c 00000000");
    /* V set, length 10 < 12. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_hdr(&r, 601, 0xc0, V3, 10);
    raw_u32(&r, 0x73697000);
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "00000259 c0 00000c 000028af");
    /* Running past the end of the message: UTF8String and Unsigned32. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_hdr(&r, DIA_AVP_SESSION_ID, M, 0, 100);
    raw_hex(&r, "61626364 65666768 696a6b6c");
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "00000107 40 000008");
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_u32(&r, DIA_AVP_ORIGIN_STATE_ID, M, 0, 5);
    raw_avp_hdr(&r, DIA_AVP_ORIGIN_STATE_ID, M, 0, 16);
    raw_u32(&r, 6);
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "00000116 40 00000c 00000000");
    /* Five stray octets after the last AVP: the header they start, zero-filled. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_u32(&r, DIA_AVP_ORIGIN_STATE_ID, M, 0, 5);
    raw_hex(&r, "0000010c 40");
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "0000010c 40 000008");
    /* A missing final padding is tolerated. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_hdr(&r, DIA_AVP_ORIGIN_HOST, M, 0, 9);
    raw_hex(&r, "61");
    raw_done(&r);
    dia_msg_free(parse_ok(r.b, r.n));
}

static void test_group_length_errors(void **state)
{
    raw_t r;
    dia_err_t err;
    dia_msg_t *m;

    /* Experimental-Result of 24: Vendor-Id (12) and 4 octets that are no AVP. */
    raw_hdr(&r, 0, DIA_CMD_DWR);
    raw_avp_hdr(&r, DIA_AVP_EXPERIMENTAL_RESULT, M, 0, 24);
    raw_avp_u32(&r, DIA_AVP_VENDOR_ID, M, 0, V3);
    raw_u32(&r, 0);
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "00000129 40 000008");
    /* An inner AVP running past its group (but not past the message). */
    raw_hdr(&r, 0, DIA_CMD_DWR);
    raw_avp_hdr(&r, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, M, 0, 20);
    raw_avp_hdr(&r, DIA_AVP_VENDOR_ID, M, 0, 16);
    raw_u32(&r, V3);
    raw_avp_u32(&r, DIA_AVP_RESULT_CODE, M, 0, 2001);
    raw_done(&r);
    m = parse_bad(&r, DIA_INVALID_AVP_LENGTH, &err);
    assert_int_equal(err.failed.code, DIA_AVP_VENDOR_ID);
    assert_ptr_equal(err.failed.raw, m->buf + 28);
    assert_int_equal(err.failed.raw_len, 12);
    expect_failed_avp(m, &err, "0000010a 40 00000c 00000000");
    dia_msg_free(m);
    /* A grouped AVP whose length field is below its header. */
    raw_hdr(&r, 0, DIA_CMD_DWR);
    raw_avp_hdr(&r, 517, 0xc0, V3, 4);
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "00000205 c0 00000c 000028af");
}

static void test_fixed_size_errors(void **state)
{
    raw_t r;
    dia_err_t err;
    dia_msg_t *m;

    /* Result-Code with 5 octets: sent back as received (with its padding). */
    raw_hdr(&r, 0, DIA_CMD_DWR);
    raw_avp_hdr(&r, DIA_AVP_RESULT_CODE, M, 0, 13);
    raw_hex(&r, "000007d1 00 000000");
    raw_done(&r);
    m = parse_bad(&r, DIA_INVALID_AVP_LENGTH, &err);
    assert_ptr_equal(err.failed.raw, m->buf + 20);
    assert_int_equal(err.failed.raw_len, 13);
    assert_int_equal(err.failed.len, 5);
    expect_failed_avp(m, &err, "0000010c 40 00000d 000007d1 00000000");
    dia_msg_free(m);
    /* Time with 3 octets, Unsigned64 with 4. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_hdr(&r, 55, M, 0, 11);
    raw_hex(&r, "01020300");
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "00000037 40 00000b 01020300");
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_u32(&r, 287, M, 0, 1);
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "0000011f 40 00000c 00000001");
    /* Address: family 1 needs 4 octets, family 2 needs 16, at least the family. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_CER);
    raw_avp_hdr(&r, DIA_AVP_HOST_IP_ADDRESS, M, 0, 26);
    raw_hex(&r, "0001 7f000001 00000000 00000000 00000000 0000");
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH,
              "00000101 40 00001a 0001 7f000001 00000000 00000000 00000000 0000");
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_CER);
    raw_avp_hdr(&r, 501, 0xc0, V3, 18);
    raw_hex(&r, "0002 7f000001 0000");
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "000001f5 c0 000012 000028af 0002 7f000001 0000");
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_CER);
    raw_avp_hdr(&r, DIA_AVP_HOST_IP_ADDRESS, M, 0, 9);
    raw_hex(&r, "00000000");
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_LENGTH, "00000101 40 000009 00000000");
    /* Another family (8, E.164) is opaque, any length. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_CER);
    raw_avp_hdr(&r, DIA_AVP_HOST_IP_ADDRESS, M, 0, 13);
    raw_hex(&r, "0008 313233 000000");
    raw_done(&r);
    dia_msg_free(parse_ok(r.b, r.n));
}

/* ---------------------------------------------------------------- M bits */

static void test_m_bit_errors(void **state)
{
    raw_t r;
    dia_err_t err;
    dia_msg_t *m;

    /* Unknown with M: 5001 with the AVP. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_u32(&r, DIA_AVP_ORIGIN_STATE_ID, M, 0, 1);
    raw_avp_u32(&r, 9999, M, 0, 7);
    raw_done(&r);
    m = parse_bad(&r, DIA_AVP_UNSUPPORTED, &err);
    assert_ptr_equal(err.failed.raw, m->buf + 32);
    expect_failed_avp(m, &err, "0000270f 40 00000c 00000007");
    dia_msg_free(m);
    /* The key is (code, vendor): Public-Identity without V is unknown. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_u32(&r, 601, M, 0, 7);
    raw_done(&r);
    check_bad(&r, DIA_AVP_UNSUPPORTED, "00000259 40 00000c 00000007");
    /* Unknown vendor AVP with M, inside a group: the inner AVP. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_hdr(&r, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, M, 0, 8 + 12 + 16);
    raw_avp_u32(&r, DIA_AVP_VENDOR_ID, M, 0, V3);
    raw_avp_u32(&r, 699, 0xc0, V3, 3);
    raw_done(&r);
    check_bad(&r, DIA_AVP_UNSUPPORTED, "000002bb c0 000010 000028af 00000003");
    /* Unknown without M: ignored, even when its payload would hold errors. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_DWR);
    raw_avp_hdr(&r, 9999, 0, 0, 8 + 12);
    raw_avp_u32(&r, 9998, M, 0, 1);
    raw_avp_u32(&r, 699, 0x80, V3, 3);
    raw_done(&r);
    dia_msg_free(parse_ok(r.b, r.n));
    /* Known, M set, rule MUSTNOT: 3009. Without M: fine. */
    raw_hdr(&r, DIA_FLAG_R, DIA_CMD_CER);
    raw_avp_u32(&r, DIA_AVP_FIRMWARE_REVISION, M, 0, 1);
    raw_done(&r);
    check_bad(&r, DIA_INVALID_AVP_BITS, "0000010b 40 00000c 00000001");
    r.b[24] = 0;
    dia_msg_free(parse_ok(r.b, r.n));
}

/* A received Failed-AVP holds what the sender found wrong: not validated. */
static void test_failed_avp_opaque(void **state)
{
    raw_t r;
    dia_msg_t *m;
    uint32_t rc;
    bool exp;

    raw_hdr(&r, DIA_FLAG_E, DIA_CMD_DWR);
    raw_avp_u32(&r, DIA_AVP_RESULT_CODE, M, 0, DIA_INVALID_AVP_LENGTH);
    raw_avp_hdr(&r, DIA_AVP_FAILED_AVP, M, 0, 8 + 12 + 8);
    raw_avp_u32(&r, 9999, M, 0, 1);
    raw_avp_hdr(&r, DIA_AVP_RESULT_CODE, M, 0, 3);
    raw_done(&r);
    m = parse_ok(r.b, r.n);
    assert_int_equal(dia_msg_result(m, &rc, &exp), IMS_OK);
    assert_int_equal(rc, DIA_INVALID_AVP_LENGTH);
    assert_false(exp);
    dia_msg_free(m);
}

/* Experimental-Result nested `levels` deep around a Result-Code. */
static void raw_nested(raw_t *r, int levels)
{
    raw_hdr(r, 0, DIA_CMD_DWR);
    for (int i = 0; i < levels; i++)
        raw_avp_hdr(r, DIA_AVP_EXPERIMENTAL_RESULT, M, 0, (uint32_t)(8 * (levels - i) + 12));
    raw_avp_u32(r, DIA_AVP_RESULT_CODE, M, 0, 2001);
    raw_done(r);
}

static void test_nesting_depth(void **state)
{
    raw_t r;
    dia_err_t err;
    dia_msg_t *m;
    dia_builder_t b;

    raw_nested(&r, DIA_MAX_DEPTH);
    m = parse_ok(r.b, r.n);
    /* The builder makes the same bytes with DIA_MAX_DEPTH open groups. */
    dia_build_init(&b, 0, DIA_CMD_DWR, 0, 0xaabbccdd, 0x11223344);
    for (int i = 0; i < DIA_MAX_DEPTH; i++)
        dia_group_begin(&b, DIA_AVP_EXPERIMENTAL_RESULT, M, 0);
    dia_put_u32(&b, DIA_AVP_RESULT_CODE, M, 0, 2001);
    for (int i = 0; i < DIA_MAX_DEPTH; i++)
        dia_group_end(&b);
    dia_msg_t *built = dia_build_finish(&b);
    assert_non_null(built);
    assert_int_equal(built->len, m->len);
    assert_memory_equal(built->buf, m->buf, m->len);
    dia_msg_free(built);
    dia_msg_free(m);
    /* One more level: the innermost grouped AVP, header only. */
    raw_nested(&r, DIA_MAX_DEPTH + 1);
    m = parse_bad(&r, DIA_INVALID_AVP_LENGTH, &err);
    assert_ptr_equal(err.failed.raw, m->buf + 20 + 8 * DIA_MAX_DEPTH);
    expect_failed_avp(m, &err, "00000129 40 000008");
    dia_msg_free(m);
    /* Far deeper than the stack would like: still refused, nothing blows up. */
    raw_hdr(&r, 0, DIA_CMD_DWR);
    for (int i = 0; i < 200; i++)
        raw_avp_hdr(&r, DIA_AVP_EXPERIMENTAL_RESULT, M, 0, (uint32_t)(8 * (200 - i)));
    raw_done(&r);
    m = parse_bad(&r, DIA_INVALID_AVP_LENGTH, &err);
    dia_msg_free(m);
}

/* --------------------------------------------------------------- framing */

static void test_frame_len(void **state)
{
    uint8_t b[8] = { 1, 0, 0, 20, 0x80, 0, 1, 0x18 };
    uint32_t len = 0;

    for (size_t i = 0; i < 4; i++)
        assert_int_equal(dia_frame_len(b, i, &len), IMS_AGAIN);
    assert_int_equal(dia_frame_len(b, 4, &len), IMS_OK);
    assert_int_equal(len, 20);
    b[1] = 0x10;    /* 0x100014 = DIA_MAX_MSG + 20 */
    assert_int_equal(dia_frame_len(b, 8, &len), IMS_ERROR);
    b[1] = 0x10;
    b[3] = 0;       /* exactly DIA_MAX_MSG */
    assert_int_equal(dia_frame_len(b, 8, &len), IMS_OK);
    assert_int_equal(len, DIA_MAX_MSG);
    b[1] = 0;
    b[3] = 19;
    assert_int_equal(dia_frame_len(b, 8, &len), IMS_ERROR);
    b[3] = 20;
    b[0] = 2;
    assert_int_equal(dia_frame_len(b, 8, &len), IMS_ERROR);
    b[0] = 0x01;
    b[2] = 0x01;    /* 276 */
    assert_int_equal(dia_frame_len(b, 4, &len), IMS_OK);
    assert_int_equal(len, 276);
}

/* --------------------------------------------------------- prefixes */

static void test_truncated_prefixes(void **state)
{
    dia_msg_t *mar = build_mar(), *m;
    uint8_t cut[1024];
    bool boundary[1024] = { false };
    dia_iter_t it;
    dia_avp_t a;
    dia_err_t err;

    assert_non_null(mar);
    assert_true(mar->len < sizeof(cut));
    /* Where a top-level AVP ends (with or without its padding): a prefix with
     * its length patched is a whole message there. */
    boundary[DIA_HDR_LEN] = true;
    dia_iter_msg(mar, &it);
    while (dia_iter_next(&it, &a)) {
        for (const uint8_t *p = a.raw + a.raw_len; p <= it.p; p++)
            boundary[p - mar->buf] = true;
    }
    for (uint32_t n = 0; n < mar->len; n++) {
        memcpy(cut, mar->buf, n);
        m = (dia_msg_t *)cut;
        assert_int_equal(dia_msg_parse(cut, n, &m, &err), IMS_ERROR);
        assert_int_equal(err.result_code, DIA_INVALID_MESSAGE_LENGTH);
        if (n < DIA_HDR_LEN) {
            assert_null(m);
            continue;
        }
        dia_msg_free(m);
        cut[1] = (uint8_t)(n >> 16);
        cut[2] = (uint8_t)(n >> 8);
        cut[3] = (uint8_t)n;
        assert_int_equal(dia_msg_parse(cut, n, &m, &err) == IMS_OK, boundary[n]);
        if (!boundary[n])
            assert_int_equal(err.result_code, DIA_INVALID_AVP_LENGTH);
        dia_msg_free(m);
    }
    dia_msg_free(mar);
}

/* ------------------------------------------------------ random mutation */

static uint64_t g_rng;

static uint32_t rnd(uint32_t n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng % n);
}

/* Every AVP, every getter, every group, bounded like the parser. */
static size_t walk(dia_iter_t *it, int depth)
{
    dia_avp_t a;
    size_t n = 0;
    char s[64];
    uint32_t u;
    uint64_t u64;
    int32_t i;
    struct sockaddr_storage ss;
    dia_iter_t in;

    while (dia_iter_next(it, &a)) {
        n++;
        n += dia_avp_u32(&a, &u) == IMS_OK;
        n += dia_avp_u64(&a, &u64) == IMS_OK;
        n += dia_avp_i32(&a, &i) == IMS_OK;
        n += dia_avp_str(&a, s, sizeof(s)) == IMS_OK;
        n += dia_avp_address(&a, &ss) == IMS_OK;
        if (depth < DIA_MAX_DEPTH + 2) {
            dia_iter_group(&a, &in);
            n += walk(&in, depth + 1);
        }
    }
    return n;
}

/* Whatever was refused, the error answer we make from it is valid Diameter. */
static void answer_error(const dia_msg_t *req, const dia_err_t *err)
{
    dia_builder_t b;
    dia_msg_t *ans, *again;

    dia_build_answer(&b, req);
    dia_put_u32(&b, DIA_AVP_RESULT_CODE, M, 0, err->result_code);
    if (err->failed.raw) {
        dia_group_begin(&b, DIA_AVP_FAILED_AVP, M, 0);
        dia_put_raw(&b, &err->failed);
        dia_group_end(&b);
    }
    ans = dia_build_finish(&b);
    assert_non_null(ans);
    again = parse_ok(ans->buf, ans->len);
    dia_msg_free(again);
    dia_msg_free(ans);
}

static void mutate(uint8_t *buf, size_t *len, size_t cap)
{
    int k = 1 + (int)rnd(6);

    while (k--) {
        size_t at = rnd((uint32_t)*len);

        switch (rnd(6)) {
        case 0: buf[at] = (uint8_t)rnd(256); break;
        case 1: buf[at] ^= (uint8_t)(1u << rnd(8)); break;
        case 2: buf[at] = (uint8_t)(rnd(2) ? 0 : 0xff); break;
        case 3: buf[at] = (uint8_t)(buf[at] + rnd(9) - 4); break;
        case 4: *len = at > DIA_HDR_LEN ? at : *len; break;
        default:
            if (*len + 4 <= cap) {
                memset(buf + *len, (int)rnd(256), 4);
                *len += 4;
            }
        }
    }
    /* Usually keep the length field honest, so the AVPs get looked at. */
    if (rnd(8) && *len >= 4) {
        buf[1] = (uint8_t)(*len >> 16);
        buf[2] = (uint8_t)(*len >> 8);
        buf[3] = (uint8_t)*len;
    }
}

static void test_random_mutation(void **state)
{
    dia_builder_t b;
    dia_msg_t *seeds[2], *m;
    uint8_t buf[1200];
    char dump[512];
    dia_err_t err;
    dia_iter_t it;
    int ok = 0;

    build_all_types(&b);
    seeds[0] = dia_build_finish(&b);
    seeds[1] = build_mar();
    g_rng = 0x9e3779b97f4a7c15ull;
    for (int iter = 0; iter < 100000; iter++) {
        const dia_msg_t *seed = seeds[rnd(2)];
        size_t len = seed->len;

        memcpy(buf, seed->buf, len);
        mutate(buf, &len, sizeof(buf));
        if (dia_msg_parse(buf, len, &m, &err) == IMS_OK) {
            ok++;
        } else if (m) {
            answer_error(m, &err);
        }
        if (!m)
            continue;
        dia_iter_msg(m, &it);
        walk(&it, 0);
        dia_msg_dump(m, dump, sizeof(dump));
        assert_true(strlen(dump) < sizeof(dump));
        dia_msg_free(m);
    }
    /* The loop is worth something only if both outcomes were common. */
    assert_true(ok > 1000 && ok < 99000);
    dia_msg_free(seeds[0]);
    dia_msg_free(seeds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_avp_length_errors),
        cmocka_unit_test(test_group_length_errors),
        cmocka_unit_test(test_fixed_size_errors),
        cmocka_unit_test(test_m_bit_errors),
        cmocka_unit_test(test_failed_avp_opaque),
        cmocka_unit_test(test_nesting_depth),
        cmocka_unit_test(test_frame_len),
        cmocka_unit_test(test_truncated_prefixes),
        cmocka_unit_test(test_random_mutation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
