/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Diameter codec and dictionary: the byte examples of ims-reference.md §4.1/§4.2;
 * a build -> parse round trip of every type with vendor AVPs and groups three
 * deep; builder limits; answers and ids; getters and results; dictionary
 * lookups; the log dump; and the parse time of a ~370-octet MAR. Malformed
 * input is in test_dia_malformed.c, every Cx/Rx command in test_dia_cmds.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>

#include "tests/unit/dia_test_util.h"

/* ------------------------------------------------------ reference bytes */

static void test_dwr_header_bytes(void **state)
{
    dia_builder_t b;
    dia_msg_t *m;
    uint8_t exp[20];

    dia_build_init(&b, DIA_FLAG_R, DIA_CMD_DWR, 0, 0x11223344, 0x55667788);
    /* 39 + 8 -> 48 padded, 33 + 8 -> 44 padded: 20 + 92 = 112 (0x70) octets. */
    dia_put_str(&b, DIA_AVP_ORIGIN_HOST, M, 0, "scscf.ims.mnc001.mcc001.3gppnetwork.org");
    dia_put_str(&b, DIA_AVP_ORIGIN_REALM, M, 0, "ims.mnc001.mcc001.3gppnetwork.org");
    m = dia_build_finish(&b);
    assert_non_null(m);
    assert_int_equal(m->len, 112);
    unhex("01 000070 80 000118 00000000 11223344 55667788", exp);
    assert_memory_equal(m->buf, exp, 20);
    assert_true(dia_msg_is_request(m));
    assert_int_equal(m->code, DIA_CMD_DWR);
    dia_msg_free(m);
}

static void test_avp_bytes(void **state)
{
    dia_builder_t b;
    dia_msg_t *m;
    uint8_t exp[64];
    size_t n;

    dia_build_init(&b, DIA_FLAG_R | DIA_FLAG_P, DIA_CMD_RAR, DIA_APP_RX, 1, 2);
    dia_put_u32(&b, 513, M, V3, 6);
    dia_put_str(&b, 601, M, V3, "sip:alice@ims.example");
    m = dia_build_finish(&b);
    assert_non_null(m);
    n = unhex("00000201 c0 000010 000028af 00000006"
              "00000259 c0 000021 000028af 7369703a616c69636540696d732e6578616d706c65 000000",
              exp);
    assert_int_equal(m->len, 20 + n);
    assert_memory_equal(m->buf + 20, exp, n);
    dia_msg_free(m);
}

static void next_avp(dia_iter_t *it, dia_avp_t *a, uint32_t code, uint32_t vendor, uint8_t flags)
{
    assert_true(dia_iter_next(it, a));
    assert_int_equal(a->code, code);
    assert_int_equal(a->vendor, vendor);
    assert_int_equal(a->flags, flags);
    assert_int_equal(a->raw_len, a->len + ((flags & DIA_AVP_V) ? 12 : 8));
    assert_ptr_equal(a->data, a->raw + ((flags & DIA_AVP_V) ? 12 : 8));
}

static void check_all_types_groups(const dia_avp_t *asi)
{
    dia_iter_t it, it2, it3;
    dia_avp_t a, mcd, msc;
    uint32_t u;
    char s[128];

    dia_iter_group(asi, &it);
    next_avp(&it, &mcd, 517, V3, 0xc0);
    assert_false(dia_iter_next(&it, &a));
    dia_iter_group(&mcd, &it2);
    next_avp(&it2, &a, 518, V3, 0xc0);
    assert_int_equal(dia_avp_u32(&a, &u), IMS_OK);
    assert_int_equal(u, 1);
    next_avp(&it2, &msc, 519, V3, 0xc0);
    next_avp(&it2, &a, 520, V3, 0xc0);
    assert_false(dia_iter_next(&it2, &a));
    dia_iter_group(&msc, &it3);
    next_avp(&it3, &a, 509, V3, 0xc0);
    assert_int_equal(dia_avp_u32(&a, &u), IMS_OK);
    assert_int_equal(u, 2);
    next_avp(&it3, &a, 507, V3, 0xc0);
    assert_int_equal(dia_avp_str(&a, s, sizeof(s)), IMS_OK);
    assert_string_equal(s, "permit out 17 from 192.0.2.1 49000 to 192.0.2.7 50000");
    assert_false(dia_iter_next(&it3, &a));
    assert_true(dia_group_find(&msc, 507, V3, &a));
    assert_false(dia_group_find(&msc, 507, 0, &a));
}

static void test_roundtrip_all_types(void **state)
{
    dia_builder_t b;
    dia_msg_t *built, *m;
    dia_iter_t it;
    dia_avp_t a;
    uint64_t u64;
    int32_t i32;
    uint32_t u;
    char s[64];
    struct sockaddr_storage ss;
    char txt[INET6_ADDRSTRLEN];

    build_all_types(&b);
    built = dia_build_finish(&b);
    assert_non_null(built);
    assert_int_equal(built->len % 4, 0);
    m = parse_ok(built->buf, built->len);
    assert_int_equal(m->flags, DIA_FLAG_R | DIA_FLAG_P);
    assert_int_equal(m->code, DIA_CMD_AAR);
    assert_int_equal(m->app_id, DIA_APP_RX);
    assert_int_equal(m->hbh, 7);
    assert_int_equal(m->e2e, 8);
    dia_iter_msg(m, &it);
    next_avp(&it, &a, 263, 0, 0x40);
    assert_int_equal(dia_avp_str(&a, s, sizeof(s)), IMS_OK);
    assert_string_equal(s, "pcscf;1;2");
    next_avp(&it, &a, 287, 0, 0x40);
    assert_int_equal(dia_avp_u64(&a, &u64), IMS_OK);
    assert_true(u64 == 0x0102030405060708ull);
    next_avp(&it, &a, 7001, 0, 0);
    assert_int_equal(dia_avp_i32(&a, &i32), IMS_OK);
    assert_int_equal(i32, -2);
    next_avp(&it, &a, 55, 0, 0x40);
    assert_int_equal(dia_avp_u32(&a, &u), IMS_OK);
    assert_int_equal(u, 3900000000u);
    next_avp(&it, &a, 609, V3, 0xc0);
    assert_int_equal(a.len, 32);
    assert_memory_equal(a.data, g_rand_autn, 32);
    next_avp(&it, &a, 8, 0, 0x40);
    assert_int_equal(a.len, 4);
    assert_memory_equal(a.data, "\xc0\x00\x02\x07", 4);
    next_avp(&it, &a, 524, V3, 0xc0);
    assert_int_equal(a.len, 0);
    next_avp(&it, &a, 257, 0, 0x40);
    assert_int_equal(dia_avp_address(&a, &ss), IMS_OK);
    assert_int_equal(ss.ss_family, AF_INET);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, txt, sizeof(txt));
    assert_string_equal(txt, "192.0.2.7");
    next_avp(&it, &a, 501, V3, 0xc0);
    assert_int_equal(a.len, 18);
    assert_int_equal(dia_avp_address(&a, &ss), IMS_OK);
    assert_int_equal(ss.ss_family, AF_INET6);
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, txt, sizeof(txt));
    assert_string_equal(txt, "2001:db8::1:2");
    next_avp(&it, &a, 526, V3, 0xc0);
    check_all_types_groups(&a);
    next_avp(&it, &a, 1, 0, 0x40);
    assert_int_equal(a.len, 1);
    assert_ptr_equal(a.raw + 12, m->buf + m->len);    /* padding counted in the message */
    assert_false(dia_iter_next(&it, &a));
    dia_msg_free(m);
    dia_msg_free(built);
}

/* ------------------------------------------------------------- builder */

static void test_builder_limits(void **state)
{
    dia_builder_t b;
    uint8_t *big = calloc(1, DIA_MAX_MSG);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    size_t len;

    assert_non_null(big);
    /* Exactly DIA_MAX_MSG is fine; one AVP more is not. */
    dia_build_init(&b, 0, DIA_CMD_DWR, 0, 0, 0);
    dia_put_octets(&b, 9999, 0, 0, big, DIA_MAX_MSG - DIA_HDR_LEN - 8);
    assert_false(b.failed);
    len = b.len;
    assert_int_equal(len, DIA_MAX_MSG);
    dia_put_u32(&b, DIA_AVP_RESULT_CODE, M, 0, 1);
    assert_true(b.failed);
    /* Puts on a failed builder are no-ops, and finish gives nothing. */
    dia_put_str(&b, DIA_AVP_ORIGIN_HOST, M, 0, "h");
    dia_group_begin(&b, DIA_AVP_EXPERIMENTAL_RESULT, M, 0);
    dia_group_end(&b);
    assert_int_equal(b.len, len);
    assert_null(dia_build_finish(&b));
    assert_null(b.buf);
    free(big);
    /* Too many open groups; an end without a begin; a group left open. */
    dia_build_init(&b, 0, DIA_CMD_DWR, 0, 0, 0);
    for (int i = 0; i <= DIA_MAX_DEPTH; i++)
        dia_group_begin(&b, DIA_AVP_EXPERIMENTAL_RESULT, M, 0);
    assert_true(b.failed);
    dia_build_discard(&b);
    dia_build_init(&b, 0, DIA_CMD_DWR, 0, 0, 0);
    dia_group_end(&b);
    assert_null(dia_build_finish(&b));
    dia_build_init(&b, 0, DIA_CMD_DWR, 0, 0, 0);
    dia_group_begin(&b, DIA_AVP_EXPERIMENTAL_RESULT, M, 0);
    assert_null(dia_build_finish(&b));
    /* Not an IP address; no string. */
    dia_build_init(&b, 0, DIA_CMD_DWR, 0, 0, 0);
    dia_put_address(&b, DIA_AVP_HOST_IP_ADDRESS, M, 0, (struct sockaddr *)&sun);
    assert_null(dia_build_finish(&b));
    dia_build_init(&b, 0, DIA_CMD_DWR, 0, 0, 0);
    dia_put_str(&b, DIA_AVP_ORIGIN_HOST, M, 0, NULL);
    assert_null(dia_build_finish(&b));
    /* After finish or discard the builder is inert. */
    dia_put_u32(&b, DIA_AVP_RESULT_CODE, M, 0, 1);
    dia_build_discard(&b);
    assert_null(dia_build_finish(&b));
}

static void test_answer_and_ids(void **state)
{
    dia_builder_t b;
    dia_msg_t *req, *ans, *m;
    dia_iter_t it;
    dia_avp_t a;
    char sid[64];

    dia_build_init(&b, DIA_FLAG_R | DIA_FLAG_P | DIA_FLAG_T, DIA_CMD_UAR, DIA_APP_CX, 11, 22);
    dia_put_str(&b, DIA_AVP_ORIGIN_HOST, M, 0, "icscf.ims");
    dia_put_str(&b, DIA_AVP_SESSION_ID, M, 0, "icscf.ims;1;99");
    req = dia_build_finish(&b);
    assert_non_null(req);
    dia_build_answer(&b, req);
    dia_put_u32(&b, DIA_AVP_RESULT_CODE, M, 0, DIA_SUCCESS);
    ans = dia_build_finish(&b);
    assert_non_null(ans);
    m = parse_ok(ans->buf, ans->len);
    assert_int_equal(m->flags, DIA_FLAG_P);
    assert_int_equal(m->code, DIA_CMD_UAR);
    assert_int_equal(m->app_id, DIA_APP_CX);
    assert_int_equal(m->hbh, 11);
    assert_int_equal(m->e2e, 22);
    dia_iter_msg(m, &it);
    next_avp(&it, &a, DIA_AVP_SESSION_ID, 0, M);    /* first (RFC 6733 §8.8) */
    assert_int_equal(dia_msg_session_id(m, sid, sizeof(sid)), IMS_OK);
    assert_string_equal(sid, "icscf.ims;1;99");
    assert_int_equal(dia_msg_session_id(m, sid, 14), IMS_ERROR);
    assert_int_equal(dia_msg_session_id(m, sid, 15), IMS_OK);
    assert_int_equal(dia_msg_session_id(req, sid, sizeof(sid)), IMS_OK);
    dia_msg_free(m);
    /* Ids and flags set in an encoded message reach the bytes. */
    dia_msg_set_ids(ans, 0x01020304, 0x05060708);
    dia_msg_set_flags(ans, DIA_FLAG_P | DIA_FLAG_E);
    m = parse_ok(ans->buf, ans->len);
    assert_int_equal(m->hbh, 0x01020304);
    assert_int_equal(m->e2e, 0x05060708);
    assert_int_equal(m->flags, DIA_FLAG_P | DIA_FLAG_E);
    assert_int_equal(ans->hbh, 0x01020304);
    dia_msg_free(m);
    dia_msg_free(ans);
    dia_msg_free(req);
    /* No Session-Id in the request: none in the answer. */
    dia_build_init(&b, DIA_FLAG_R, DIA_CMD_DWR, 0, 1, 2);
    req = dia_build_finish(&b);
    dia_build_answer(&b, req);
    ans = dia_build_finish(&b);
    assert_int_equal(ans->len, DIA_HDR_LEN);
    assert_int_equal(dia_msg_session_id(ans, sid, sizeof(sid)), IMS_DECLINED);
    dia_msg_free(ans);
    dia_msg_free(req);
}

static void test_getters_and_result(void **state)
{
    raw_t r;
    dia_msg_t *m;
    dia_avp_t a;
    uint32_t u;
    uint64_t u64;
    int32_t i;
    char s[8];
    bool exp;
    struct sockaddr_storage ss;

    raw_hdr(&r, 0, DIA_CMD_UAR);
    raw_avp_hdr(&r, 7001, 0, 0, 13);            /* unknown: any size allowed */
    raw_hex(&r, "0102030405 000000");
    raw_avp_hdr(&r, DIA_AVP_USER_NAME, M, 0, 11);
    raw_hex(&r, "610062 00");                   /* "a\0b" */
    raw_avp_hdr(&r, DIA_AVP_EXPERIMENTAL_RESULT, M, 0, 8 + 12 + 12);
    raw_avp_u32(&r, DIA_AVP_VENDOR_ID, M, 0, V3);
    raw_avp_u32(&r, DIA_AVP_EXPERIMENTAL_RESULT_CODE, M, 0, 2001);
    raw_done(&r);
    m = parse_ok(r.b, r.n);
    assert_true(dia_msg_find(m, 7001, 0, &a));
    assert_int_equal(dia_avp_u32(&a, &u), IMS_ERROR);
    assert_int_equal(dia_avp_u64(&a, &u64), IMS_ERROR);
    assert_int_equal(dia_avp_i32(&a, &i), IMS_ERROR);
    assert_int_equal(dia_avp_address(&a, &ss), IMS_ERROR);
    assert_int_equal(dia_avp_str(&a, s, sizeof(s)), IMS_OK);
    assert_int_equal(dia_avp_str(&a, s, 5), IMS_ERROR);
    assert_int_equal(dia_avp_str(&a, s, 6), IMS_OK);
    assert_true(dia_msg_find(m, DIA_AVP_USER_NAME, 0, &a));
    assert_int_equal(dia_avp_str(&a, s, sizeof(s)), IMS_ERROR);    /* NUL inside */
    assert_false(dia_msg_find(m, DIA_AVP_USER_NAME, V3, &a));
    /* 3GPP results come as Experimental-Result: 2001 there is FIRST_REGISTRATION. */
    assert_int_equal(dia_msg_result(m, &u, &exp), IMS_OK);
    assert_int_equal(u, 2001);
    assert_true(exp);
    dia_msg_free(m);
    raw_hdr(&r, 0, DIA_CMD_UAR);
    raw_avp_u32(&r, DIA_AVP_VENDOR_ID, M, 0, V3);
    raw_done(&r);
    m = parse_ok(r.b, r.n);
    assert_int_equal(dia_msg_result(m, &u, &exp), IMS_ERROR);
    assert_int_equal(dia_msg_session_id(m, s, sizeof(s)), IMS_DECLINED);
    dia_msg_free(m);
}

/* ---------------------------------------------------------- dictionary */

static void expect_avp(uint32_t code, uint32_t vendor, const char *name, dia_type_t t,
                       dia_mrule_t rule)
{
    const dia_dict_avp_t *d = dia_dict_avp(code, vendor);

    assert_non_null(d);
    assert_string_equal(d->name, name);
    assert_int_equal(d->code, code);
    assert_int_equal(d->vendor, vendor);
    assert_int_equal(d->type, t);
    assert_int_equal(d->m, rule);
}

static void test_dict(void **state)
{
    static const uint32_t grouped_3gpp[] = {
        603, 612, 615, 618, 628, 631, 632, 635, 639, 642, 647, 649, 502, 510, 517, 519,
    };
    static const uint32_t grouped_base[] = { 260, 279, 284, 297, 443 };
    int found = 0;

    expect_avp(601, V3, "Public-Identity", DIA_T_UTF8, DIA_M_MUST);
    expect_avp(612, V3, "SIP-Auth-Data-Item", DIA_T_GROUPED, DIA_M_MUST);
    expect_avp(614, V3, "Server-Assignment-Type", DIA_T_ENUM, DIA_M_MUST);
    expect_avp(625, V3, "Confidentiality-Key", DIA_T_OCTETS, DIA_M_MUST);
    expect_avp(513, V3, "Specific-Action", DIA_T_ENUM, DIA_M_MUST);
    expect_avp(507, V3, "Flow-Description", DIA_T_IPFILTER, DIA_M_MUST);
    expect_avp(501, V3, "Access-Network-Charging-Address", DIA_T_ADDRESS, DIA_M_MUST);
    expect_avp(263, 0, "Session-Id", DIA_T_UTF8, DIA_M_MUST);
    expect_avp(264, 0, "Origin-Host", DIA_T_IDENTITY, DIA_M_MUST);
    expect_avp(257, 0, "Host-IP-Address", DIA_T_ADDRESS, DIA_M_MUST);
    expect_avp(267, 0, "Firmware-Revision", DIA_T_U32, DIA_M_MUSTNOT);
    expect_avp(294, 0, "Error-Reporting-Host", DIA_T_IDENTITY, DIA_M_MUSTNOT);
    expect_avp(55, 0, "Event-Timestamp", DIA_T_TIME, DIA_M_MUST);
    expect_avp(287, 0, "Accounting-Sub-Session-Id", DIA_T_U64, DIA_M_MUST);
    expect_avp(104, 0, "Digest-Realm", DIA_T_UTF8, DIA_M_MAY);
    expect_avp(450, 0, "Subscription-Id-Type", DIA_T_ENUM, DIA_M_MUST);
    expect_avp(1027, V3, "IP-CAN-Type", DIA_T_ENUM, DIA_M_MAY);
    for (size_t i = 0; i < IMS_ARRAY_LEN(grouped_3gpp); i++)
        assert_int_equal(dia_dict_avp(grouped_3gpp[i], V3)->type, DIA_T_GROUPED);
    for (size_t i = 0; i < IMS_ARRAY_LEN(grouped_base); i++)
        assert_int_equal(dia_dict_avp(grouped_base[i], 0)->type, DIA_T_GROUPED);
    assert_null(dia_dict_avp(601, 0));
    assert_null(dia_dict_avp(263, V3));
    assert_null(dia_dict_avp(699, V3));
    assert_null(dia_dict_avp(9999, 0));
    assert_null(dia_dict_avp(0, 0));
    assert_null(dia_dict_avp(0xffffffffu, V3));
    assert_null(dia_dict_avp(601, 10416));
    /* Every entry sits where its code says. */
    for (uint32_t code = 0; code < 4000; code++) {
        for (int v = 0; v < 2; v++) {
            const dia_dict_avp_t *d = dia_dict_avp(code, v ? V3 : 0);

            if (!d)
                continue;
            found++;
            assert_int_equal(d->code, code);
            assert_int_equal(d->vendor, v ? V3 : 0);
            assert_true(strlen(d->name) > 0);
        }
    }
    assert_true(found > 150);
    assert_string_equal(dia_dict_cmd_name(DIA_CMD_CER, true), "CER");
    assert_string_equal(dia_dict_cmd_name(DIA_CMD_CER, false), "CEA");
    assert_string_equal(dia_dict_cmd_name(DIA_CMD_MAR, false), "MAA");
    assert_string_equal(dia_dict_cmd_name(DIA_CMD_AAR, true), "AAR");
    assert_string_equal(dia_dict_cmd_name(DIA_CMD_PPR, false), "PPA");
    assert_null(dia_dict_cmd_name(999, true));
}

/* ---------------------------------------------------------------- dump */

static void test_dump(void **state)
{
    static const char expect[] =
        "UAR hbh=0x00000001 e2e=0x00000002 app=16777216 Session-Id=\"icscf;1;2\" "
        "Vendor-Specific-Application-Id={Vendor-Id=10415 Auth-Application-Id=16777216} "
        "Auth-Session-State=1 User-Name=\"alice@ims\" Public-Identity=\"sip:alice@ims\" "
        "Visited-Network-Identifier=\"ims\" User-Authorization-Type=0 "
        "SIP-Authenticate=0x01020304 Integrity-Key=<16 bytes> AVP7777=0x00000005 "
        "AVP7778/10415=0x0102030405060708090a0b0c0d0e0f10..(17 bytes) "
        "Host-IP-Address=127.0.0.1 Error-Message=\"a\\x22b\"";
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
    uint8_t seq[17] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 };
    dia_builder_t b;
    dia_msg_t *m;
    char out[600];

    dia_build_init(&b, DIA_FLAG_R | DIA_FLAG_P, DIA_CMD_UAR, DIA_APP_CX, 1, 2);
    dia_put_str(&b, DIA_AVP_SESSION_ID, M, 0, "icscf;1;2");
    dia_group_begin(&b, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, M, 0);
    dia_put_u32(&b, DIA_AVP_VENDOR_ID, M, 0, V3);
    dia_put_u32(&b, DIA_AVP_AUTH_APPLICATION_ID, M, 0, DIA_APP_CX);
    dia_group_end(&b);
    dia_put_u32(&b, DIA_AVP_AUTH_SESSION_STATE, M, 0, 1);
    dia_put_str(&b, DIA_AVP_USER_NAME, M, 0, "alice@ims");
    dia_put_str(&b, 601, M, V3, "sip:alice@ims");
    dia_put_str(&b, 600, M, V3, "ims");
    dia_put_u32(&b, 623, M, V3, 0);
    dia_put_octets(&b, 609, M, V3, "\x01\x02\x03\x04", 4);
    dia_put_octets(&b, 626, M, V3, seq, 16);
    dia_put_u32(&b, 7777, 0, 0, 5);
    dia_put_octets(&b, 7778, 0, V3, seq, 17);
    dia_put_address(&b, DIA_AVP_HOST_IP_ADDRESS, M, 0, (struct sockaddr *)&sin);
    dia_put_str(&b, DIA_AVP_ERROR_MESSAGE, 0, 0, "a\"b");
    m = dia_build_finish(&b);
    assert_non_null(m);
    dia_msg_dump(m, out, sizeof(out));
    assert_string_equal(out, expect);
    /* Bounded: cut lines end in "...", tiny buffers stay terminated. */
    memset(out, 'x', sizeof(out));
    dia_msg_dump(m, out, 40);
    assert_int_equal(strlen(out), 39);
    assert_memory_equal(out, expect, 36);
    assert_string_equal(out + 36, "...");
    assert_int_equal(out[40], 'x');
    dia_msg_dump(m, out, 1);
    assert_string_equal(out, "");
    out[0] = 'x';
    dia_msg_dump(m, out, 0);
    assert_int_equal(out[0], 'x');
    dia_msg_set_flags(m, DIA_FLAG_E);
    dia_msg_dump(m, out, 20);
    assert_string_equal(out, "UAA(E) hbh=0x000...");
    dia_msg_free(m);
}

/* --------------------------------------------------------- performance */

static void test_parse_speed(void **state)
{
    dia_msg_t *mar = build_mar(), *m;
    struct timespec t0, t1;
    const int n = 200000;
    dia_err_t err;
    double ns;

    assert_non_null(mar);
    assert_in_range(mar->len, 280, 400);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(dia_msg_parse(mar->buf, mar->len, &m, &err), IMS_OK);
        dia_msg_free(m);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n;
    printf("dia_msg_parse + free of a %u-octet MAR: %.0f ns\n", (unsigned)mar->len, ns);
    /* Loose enough for ASan and a busy machine; the target is well under 2 us plain. */
    assert_true(ns < 20000.0);
    dia_msg_free(mar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dwr_header_bytes),
        cmocka_unit_test(test_avp_bytes),
        cmocka_unit_test(test_roundtrip_all_types),
        cmocka_unit_test(test_builder_limits),
        cmocka_unit_test(test_answer_and_ids),
        cmocka_unit_test(test_getters_and_result),
        cmocka_unit_test(test_dict),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_parse_speed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
