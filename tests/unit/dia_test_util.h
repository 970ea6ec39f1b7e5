/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers shared by the Diameter codec tests (test_dia_codec.c,
 * test_dia_malformed.c): hex, hand-made messages for bytes the builder would
 * never produce, parse expectations, the Failed-AVP we would answer with, and
 * two reference messages (a ~370-octet MAR; one AVP of every type).
 * Included after <cmocka.h>.
 */
#ifndef TEST_DIA_UTIL_H
#define TEST_DIA_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/core/rc.h"
#include "diameter/base/codec.h"
#include "diameter/base/dict.h"

#define V3 DIA_VENDOR_3GPP
#define M DIA_AVP_M

/* ------------------------------------------------------------- helpers */

static inline size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    unsigned v;

    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* Hand-made messages, for bytes the builder would never produce. */
typedef struct raw {
    uint8_t b[2048];
    size_t n;
} raw_t;

static inline void raw_u32(raw_t *r, uint32_t v)
{
    r->b[r->n++] = (uint8_t)(v >> 24);
    r->b[r->n++] = (uint8_t)(v >> 16);
    r->b[r->n++] = (uint8_t)(v >> 8);
    r->b[r->n++] = (uint8_t)v;
}

static inline void raw_hex(raw_t *r, const char *hex)
{
    r->n += unhex(hex, r->b + r->n);
}

/* Header of a request (flags) with code; the length is set by raw_done. */
static inline void raw_hdr(raw_t *r, uint8_t flags, uint32_t code)
{
    r->n = 0;
    raw_u32(r, 0x01000000u);
    raw_u32(r, (uint32_t)flags << 24 | code);
    raw_u32(r, 0);
    raw_u32(r, 0xaabbccdd);
    raw_u32(r, 0x11223344);
}

/* An AVP header with any length field (vendor written when V is in flags). */
static inline void raw_avp_hdr(raw_t *r, uint32_t code, uint8_t flags, uint32_t vendor, uint32_t alen)
{
    raw_u32(r, code);
    raw_u32(r, (uint32_t)flags << 24 | alen);
    if (flags & DIA_AVP_V)
        raw_u32(r, vendor);
}

static inline void raw_avp_u32(raw_t *r, uint32_t code, uint8_t flags, uint32_t vendor, uint32_t v)
{
    raw_avp_hdr(r, code, flags, vendor, (flags & DIA_AVP_V) ? 16 : 12);
    raw_u32(r, v);
}

static inline void raw_done(raw_t *r)
{
    r->b[1] = (uint8_t)(r->n >> 16);
    r->b[2] = (uint8_t)(r->n >> 8);
    r->b[3] = (uint8_t)r->n;
}

static inline dia_msg_t *parse_ok(const uint8_t *buf, size_t len)
{
    dia_msg_t *m = NULL;
    dia_err_t err;

    assert_int_equal(dia_msg_parse(buf, len, &m, &err), IMS_OK);
    assert_non_null(m);
    assert_int_equal(err.result_code, DIA_SUCCESS);
    return m;
}

/* Parse r, expect failure rc; returns the message (header readable). */
static inline dia_msg_t *parse_bad(const raw_t *r, uint32_t rc, dia_err_t *err)
{
    dia_msg_t *m = NULL;

    assert_int_equal(dia_msg_parse(r->b, r->n, &m, err), IMS_ERROR);
    assert_int_equal(err->result_code, rc);
    assert_non_null(err->what);
    assert_non_null(m);
    return m;
}

/*
 * The answer we would send for err: Failed-AVP{err->failed}. It must parse,
 * and its Failed-AVP payload must be exactly `hex`.
 */
static inline void expect_failed_avp(const dia_msg_t *req, const dia_err_t *err, const char *hex)
{
    uint8_t exp[256];
    size_t n = unhex(hex, exp);
    dia_builder_t b;
    dia_msg_t *ans, *again;
    dia_avp_t f;

    assert_non_null(err->failed.raw);
    /* raw/raw_len stay inside the message we were given. */
    assert_true(err->failed.raw >= req->buf + DIA_HDR_LEN);
    assert_true(err->failed.raw + err->failed.raw_len <= req->buf + req->len);
    dia_build_answer(&b, req);
    dia_put_u32(&b, DIA_AVP_RESULT_CODE, M, 0, err->result_code);
    dia_group_begin(&b, DIA_AVP_FAILED_AVP, M, 0);
    dia_put_raw(&b, &err->failed);
    dia_group_end(&b);
    ans = dia_build_finish(&b);
    assert_non_null(ans);
    again = parse_ok(ans->buf, ans->len);
    assert_true(dia_msg_find(again, DIA_AVP_FAILED_AVP, 0, &f));
    assert_int_equal(f.len, n);
    assert_memory_equal(f.data, exp, n);
    dia_msg_free(again);
    dia_msg_free(ans);
}

static inline void check_bad(const raw_t *r, uint32_t rc, const char *failed_hex)
{
    dia_err_t err;
    dia_msg_t *m = parse_bad(r, rc, &err);

    if (failed_hex)
        expect_failed_avp(m, &err, failed_hex);
    else
        assert_null(err.failed.raw);
    dia_msg_free(m);
}

/* ------------------------------------------------- reference messages */

static const uint8_t g_rand_autn[32] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x05, 0x00, 0x06, 0x00, 0x07, 0x00, 0x08, 0x00,
};

/* A MAR as the S-CSCF sends it for an AKA resync (RAND || AUTS): 368 octets. */
static inline dia_msg_t *build_mar(void)
{
    dia_builder_t b;

    dia_build_init(&b, DIA_FLAG_R | DIA_FLAG_P, DIA_CMD_MAR, DIA_APP_CX, 0x1234, 0x5678);
    dia_put_str(&b, DIA_AVP_SESSION_ID, M, 0, "scscf.ims.example;17123;42");
    dia_group_begin(&b, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, M, 0);
    dia_put_u32(&b, DIA_AVP_VENDOR_ID, M, 0, V3);
    dia_put_u32(&b, DIA_AVP_AUTH_APPLICATION_ID, M, 0, DIA_APP_CX);
    dia_group_end(&b);
    dia_put_u32(&b, DIA_AVP_AUTH_SESSION_STATE, M, 0, 1);
    dia_put_str(&b, DIA_AVP_ORIGIN_HOST, M, 0, "scscf.ims.example");
    dia_put_str(&b, DIA_AVP_ORIGIN_REALM, M, 0, "ims.example");
    dia_put_str(&b, DIA_AVP_DESTINATION_REALM, M, 0, "ims.example");
    dia_put_str(&b, DIA_AVP_USER_NAME, M, 0, "alice@ims.example");
    dia_put_str(&b, 601, M, V3, "sip:alice@ims.example");
    dia_put_u32(&b, 607, M, V3, 1);
    dia_group_begin(&b, 612, M, V3);
    dia_put_str(&b, 608, M, V3, "Digest-AKAv1-MD5");
    dia_put_octets(&b, 610, M, V3, g_rand_autn, 30);
    dia_group_end(&b);
    dia_put_str(&b, 602, M, V3, "sip:scscf.ims.example");
    return dia_build_finish(&b);
}

/* One AVP of each type (vendor and base), groups three deep, odd padding last. */
static inline void build_all_types(dia_builder_t *b)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

    inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
    inet_pton(AF_INET6, "2001:db8::1:2", &sin6.sin6_addr);
    dia_build_init(b, DIA_FLAG_R | DIA_FLAG_P, DIA_CMD_AAR, DIA_APP_RX, 7, 8);
    dia_put_str(b, DIA_AVP_SESSION_ID, M, 0, "pcscf;1;2");
    dia_put_u64(b, 287, M, 0, 0x0102030405060708ull);
    dia_put_i32(b, 7001, 0, 0, -2);                       /* unknown, no M: kept */
    dia_put_u32(b, 55, M, 0, 3900000000u);                /* Event-Timestamp */
    dia_put_octets(b, 609, M, V3, g_rand_autn, sizeof(g_rand_autn));
    dia_put_octets(b, 8, M, 0, "\xc0\x00\x02\x07", 4);    /* Framed-IP-Address */
    dia_put_octets(b, 524, M, V3, NULL, 0);               /* empty payload */
    dia_put_address(b, DIA_AVP_HOST_IP_ADDRESS, M, 0, (struct sockaddr *)&sin);
    dia_put_address(b, 501, M, V3, (struct sockaddr *)&sin6);
    dia_group_begin(b, 526, M, V3);                       /* Acceptable-Service-Info */
    dia_group_begin(b, 517, M, V3);                       /* Media-Component-Description */
    dia_put_u32(b, 518, M, V3, 1);
    dia_group_begin(b, 519, M, V3);                       /* Media-Sub-Component */
    dia_put_u32(b, 509, M, V3, 2);
    dia_put_str(b, 507, M, V3, "permit out 17 from 192.0.2.1 49000 to 192.0.2.7 50000");
    dia_group_end(b);
    dia_put_u32(b, 520, M, V3, 0);
    dia_group_end(b);
    dia_group_end(b);
    dia_put_str(b, 1, M, 0, "x");                         /* 1 octet + 3 padding, last */
}

#endif
