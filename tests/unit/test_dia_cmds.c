/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Codec round trip of every Cx (UAR/UAA, SAR/SAA, LIR/LIA, MAR/MAA, RTR/RTA,
 * PPR/PPA) and Rx (AAR/AAA, STR/STA, RAR/RAA, ASR/ASA) request/answer shape.
 *
 * Each message is a table of AVPs (groups nested up to three deep). The
 * request is built from its table, parsed back and compared AVP by AVP:
 * code, vendor, flags, value, and that the dictionary knows the AVP with a
 * type that fits the value. The answer is built with dia_build_answer from the
 * parsed request (Session-Id must come first, ids and P kept, R cleared) and
 * checked the same way. The log dump names every AVP (none unknown).
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

#include "common/core/rc.h"
#include "diameter/base/codec.h"
#include "diameter/base/dict.h"

#define V3 DIA_VENDOR_3GPP

typedef enum kind { K_END, K_U32, K_STR, K_OCT, K_ADDR4, K_GROUP, K_GEND } kind_t;

typedef struct spec {
    kind_t k;
    uint32_t code, vendor;
    uint32_t u;               /* K_U32 value; K_ADDR4 address (host order) */
    const char *s;            /* K_STR / K_OCT bytes */
    size_t n;                 /* K_OCT length */
} spec_t;

#define U32(c, v, x) { K_U32, (c), (v), (x), NULL, 0 }
#define STR(c, v, x) { K_STR, (c), (v), 0, (x), 0 }
#define OCT(c, v, x, l) { K_OCT, (c), (v), 0, (x), (l) }
#define ADDR4(c, v, x) { K_ADDR4, (c), (v), (x), NULL, 0 }
#define GROUP(c, v) { K_GROUP, (c), (v), 0, NULL, 0 }
#define GEND { K_GEND, 0, 0, 0, NULL, 0 }
#define END { K_END, 0, 0, 0, NULL, 0 }

#define HOST_S "scscf.ims.example"
#define HOST_I "icscf.ims.example"
#define HOST_H "hss.ims.example"
#define HOST_P "pcscf.ims.example"
#define HOST_PCRF "pcrf.epc.example"
#define REALM "ims.example"
#define IMPI "alice@ims.example"
#define IMPU "sip:alice@ims.example"
#define SCSCF_URI "sip:scscf.ims.example:6060"

/* The Cx preamble after Session-Id (29.229 §6.1). */
#define CX_APP                                                                      \
    GROUP(DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, 0), U32(DIA_AVP_VENDOR_ID, 0, V3), \
        U32(DIA_AVP_AUTH_APPLICATION_ID, 0, DIA_APP_CX), GEND,                        \
        U32(DIA_AVP_AUTH_SESSION_STATE, 0, 1)
#define ORIGIN(h) STR(DIA_AVP_ORIGIN_HOST, 0, h), STR(DIA_AVP_ORIGIN_REALM, 0, REALM)
#define DEST(h) STR(DIA_AVP_DESTINATION_REALM, 0, REALM), STR(DIA_AVP_DESTINATION_HOST, 0, h)
#define RESULT(rc) U32(DIA_AVP_RESULT_CODE, 0, rc)
#define EXP_RESULT(rc)                                                              \
    GROUP(DIA_AVP_EXPERIMENTAL_RESULT, 0), U32(DIA_AVP_VENDOR_ID, 0, V3),             \
        U32(DIA_AVP_EXPERIMENTAL_RESULT_CODE, 0, rc), GEND
#define FEATURES(id, bits)                                                          \
    GROUP(628, V3), U32(DIA_AVP_VENDOR_ID, 0, V3), U32(629, V3, id), U32(630, V3, bits), GEND
#define RX_APP U32(DIA_AVP_AUTH_APPLICATION_ID, 0, DIA_APP_RX)

static const char g_auth[] = "0123456789abcdef0123456789abcdef";   /* RAND || AUTN */
static const char g_key[] = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\xff";
static const char g_user_data[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><IMSSubscription><PrivateID>" IMPI
    "</PrivateID><ServiceProfile><PublicIdentity><Identity>" IMPU "</Identity>"
    "</PublicIdentity><InitialFilterCriteria><Priority>0</Priority><TriggerPoint>"
    "<ConditionTypeCNF>0</ConditionTypeCNF><SPT><Method>INVITE</Method></SPT>"
    "</TriggerPoint><ApplicationServer><ServerName>sip:as.ims.example</ServerName>"
    "<DefaultHandling>0</DefaultHandling></ApplicationServer></InitialFilterCriteria>"
    "</ServiceProfile></IMSSubscription>";

/* ------------------------------------------------------------- machinery */

/* M as the dictionary rule asks: MUST -> set, MAY/MUSTNOT -> clear. */
static uint8_t flags_for(uint32_t code, uint32_t vendor)
{
    const dia_dict_avp_t *d = dia_dict_avp(code, vendor);

    assert_non_null(d);
    return (uint8_t)((d->m == DIA_M_MUST ? DIA_AVP_M : 0) | (vendor ? DIA_AVP_V : 0));
}

static void put_spec(dia_builder_t *b, const spec_t *sp)
{
    for (; sp->k != K_END; sp++) {
        uint8_t f = sp->k == K_GEND ? 0 : flags_for(sp->code, sp->vendor) & DIA_AVP_M;
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(sp->u) };

        switch (sp->k) {
        case K_U32: dia_put_u32(b, sp->code, f, sp->vendor, sp->u); break;
        case K_STR: dia_put_str(b, sp->code, f, sp->vendor, sp->s); break;
        case K_OCT: dia_put_octets(b, sp->code, f, sp->vendor, sp->s, sp->n); break;
        case K_ADDR4:
            dia_put_address(b, sp->code, f, sp->vendor, (struct sockaddr *)&sin);
            break;
        case K_GROUP: dia_group_begin(b, sp->code, f, sp->vendor); break;
        case K_GEND: dia_group_end(b); break;
        case K_END: break;
        }
    }
}

static void check_value(const spec_t *e, const dia_dict_avp_t *d, const dia_avp_t *a)
{
    struct sockaddr_storage ss;
    uint32_t u;

    switch (e->k) {
    case K_U32:
        assert_true(d->type == DIA_T_U32 || d->type == DIA_T_ENUM || d->type == DIA_T_TIME);
        assert_int_equal(dia_avp_u32(a, &u), IMS_OK);
        assert_int_equal(u, e->u);
        break;
    case K_STR:
        assert_true(d->type == DIA_T_UTF8 || d->type == DIA_T_IDENTITY || d->type == DIA_T_URI ||
                    d->type == DIA_T_IPFILTER || d->type == DIA_T_OCTETS);
        assert_int_equal(a->len, strlen(e->s));
        assert_memory_equal(a->data, e->s, a->len);
        break;
    case K_OCT:
        assert_int_equal(d->type, DIA_T_OCTETS);
        assert_int_equal(a->len, e->n);
        assert_memory_equal(a->data, e->s, e->n);
        break;
    case K_ADDR4:
        assert_int_equal(d->type, DIA_T_ADDRESS);
        assert_int_equal(dia_avp_address(a, &ss), IMS_OK);
        assert_int_equal(ss.ss_family, AF_INET);
        assert_int_equal(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr), e->u);
        break;
    default:
        fail();
    }
}

/* Compare the AVPs at it with sp from *i up to the matching GEND / END. */
static void check_list(dia_iter_t *it, const spec_t *sp, size_t *i)
{
    dia_avp_t a;
    dia_iter_t in;

    while (sp[*i].k != K_END && sp[*i].k != K_GEND) {
        const spec_t *e = &sp[(*i)++];
        const dia_dict_avp_t *d = dia_dict_avp(e->code, e->vendor);

        assert_true(dia_iter_next(it, &a));
        assert_int_equal(a.code, e->code);
        assert_int_equal(a.vendor, e->vendor);
        assert_int_equal(a.flags, flags_for(e->code, e->vendor));
        if (e->k != K_GROUP) {
            check_value(e, d, &a);
            continue;
        }
        assert_int_equal(d->type, DIA_T_GROUPED);
        dia_iter_group(&a, &in);
        check_list(&in, sp, i);
        assert_int_equal(sp[(*i)++].k, K_GEND);
    }
    assert_false(dia_iter_next(it, &a));
}

static dia_msg_t *reparse(dia_msg_t *built)
{
    dia_msg_t *m = NULL;
    dia_err_t err;
    char dump[4096];

    assert_non_null(built);
    assert_int_equal(dia_msg_parse(built->buf, built->len, &m, &err), IMS_OK);
    dia_msg_free(built);
    dia_msg_dump(m, dump, sizeof(dump));
    assert_null(strstr(dump, " AVP"));    /* every AVP has a name */
    assert_non_null(strchr(dump, '='));
    return m;
}

/* Build req from its table, parse and check it; answer it from the parsed copy. */
static void roundtrip(uint32_t code, uint32_t app, const spec_t *req_sp, const spec_t *ans_sp)
{
    dia_builder_t b;
    dia_msg_t *req, *ans;
    dia_iter_t it;
    dia_avp_t sid, a;
    size_t i = 0;

    dia_build_init(&b, DIA_FLAG_R | DIA_FLAG_P, code, app, 0x0a0b0c0d, 0x01020304);
    put_spec(&b, req_sp);
    req = reparse(dia_build_finish(&b));
    assert_string_equal(dia_dict_cmd_name(req->code, true), dia_dict_cmd_name(code, true));
    dia_iter_msg(req, &it);
    check_list(&it, req_sp, &i);
    assert_int_equal(req_sp[i].k, K_END);

    dia_build_answer(&b, req);
    put_spec(&b, ans_sp);
    ans = reparse(dia_build_finish(&b));
    assert_int_equal(ans->flags, DIA_FLAG_P);
    assert_int_equal(ans->code, code);
    assert_int_equal(ans->app_id, app);
    assert_int_equal(ans->hbh, 0x0a0b0c0d);
    assert_int_equal(ans->e2e, 0x01020304);
    assert_true(dia_msg_find(req, DIA_AVP_SESSION_ID, 0, &sid));
    dia_iter_msg(ans, &it);
    assert_true(dia_iter_next(&it, &a));
    assert_int_equal(a.code, DIA_AVP_SESSION_ID);
    assert_int_equal(a.len, sid.len);
    assert_memory_equal(a.data, sid.data, sid.len);
    i = 0;
    check_list(&it, ans_sp, &i);
    assert_int_equal(ans_sp[i].k, K_END);
    dia_msg_free(ans);
    dia_msg_free(req);
}

/* -------------------------------------------------------------------- Cx */

static void test_cx_uar_uaa(void **state)
{
    static const spec_t uar[] = {
        STR(DIA_AVP_SESSION_ID, 0, HOST_I ";1712345678;1"), CX_APP, ORIGIN(HOST_I),
        STR(DIA_AVP_DESTINATION_REALM, 0, REALM), FEATURES(1, 1),
        STR(DIA_AVP_USER_NAME, 0, IMPI), STR(601, V3, IMPU), OCT(600, V3, REALM, 11),
        U32(623, V3, 0), U32(637, V3, 0), END,
    };
    static const spec_t uaa[] = {
        CX_APP, ORIGIN(HOST_H), EXP_RESULT(2001), FEATURES(1, 1),
        GROUP(603, V3), U32(604, V3, 1), U32(605, V3, 2), STR(602, V3, SCSCF_URI), GEND,
        STR(602, V3, SCSCF_URI), END,
    };

    roundtrip(DIA_CMD_UAR, DIA_APP_CX, uar, uaa);
}

static void test_cx_mar_maa(void **state)
{
    static const spec_t mar[] = {
        STR(DIA_AVP_SESSION_ID, 0, HOST_S ";1712345678;2"), CX_APP, ORIGIN(HOST_S),
        DEST(HOST_H), STR(DIA_AVP_USER_NAME, 0, IMPI), STR(601, V3, IMPU), U32(607, V3, 1),
        GROUP(612, V3), STR(608, V3, "Digest-AKAv1-MD5"), OCT(610, V3, g_auth, 30), GEND,
        STR(602, V3, SCSCF_URI), END,
    };
    /* One AKA vector, and one SIP Digest item: groups three deep. */
    static const spec_t maa[] = {
        CX_APP, ORIGIN(HOST_H), RESULT(DIA_SUCCESS), STR(DIA_AVP_USER_NAME, 0, IMPI),
        STR(601, V3, IMPU), U32(607, V3, 2),
        GROUP(612, V3), U32(613, V3, 1), STR(608, V3, "Digest-AKAv1-MD5"),
        OCT(609, V3, g_auth, 32), OCT(610, V3, g_key, 8), OCT(625, V3, g_key, 16),
        OCT(626, V3, g_key, 16), GEND,
        GROUP(612, V3), U32(613, V3, 2), STR(608, V3, "SIP Digest"),
        GROUP(635, V3), STR(104, 0, REALM), STR(111, 0, "MD5"), STR(110, 0, "auth"),
        OCT(121, 0, "0123456789abcdef0123456789abcdef", 32), GEND, GEND,
        END,
    };

    roundtrip(DIA_CMD_MAR, DIA_APP_CX, mar, maa);
}

static void test_cx_sar_saa(void **state)
{
    static const spec_t sar[] = {
        STR(DIA_AVP_SESSION_ID, 0, HOST_S ";1712345678;3"), CX_APP, ORIGIN(HOST_S),
        DEST(HOST_H), STR(DIA_AVP_USER_NAME, 0, IMPI), STR(601, V3, IMPU),
        STR(602, V3, SCSCF_URI), U32(614, V3, 1), U32(624, V3, 0), U32(648, V3, 0),
        GROUP(639, V3), STR(DIA_AVP_USER_NAME, 0, IMPI),
        GROUP(649, V3), OCT(640, V3, "<sip:term@pcscf.ims.example;lr>", 31),
        OCT(641, V3, "<sip:alice@192.0.2.7:5060>", 26), GEND,
        STR(608, V3, "Digest-AKAv1-MD5"), GEND, END,
    };
    static const spec_t saa[] = {
        CX_APP, ORIGIN(HOST_H), RESULT(DIA_SUCCESS), STR(DIA_AVP_USER_NAME, 0, IMPI),
        OCT(606, V3, g_user_data, sizeof(g_user_data) - 1),
        GROUP(618, V3), STR(619, V3, "aaa://ecf.ims.example:3868"),
        STR(621, V3, "aaa://ccf.ims.example:3868"), GEND,
        GROUP(632, V3), STR(DIA_AVP_USER_NAME, 0, "bob@ims.example"), GEND,
        U32(638, V3, 1), END,
    };

    roundtrip(DIA_CMD_SAR, DIA_APP_CX, sar, saa);
}

static void test_cx_lir_lia(void **state)
{
    static const spec_t lir[] = {
        STR(DIA_AVP_SESSION_ID, 0, HOST_I ";1712345678;4"), CX_APP, ORIGIN(HOST_I),
        STR(DIA_AVP_DESTINATION_REALM, 0, REALM), FEATURES(1, 1), U32(633, V3, 0),
        STR(601, V3, "sip:bob@ims.example"), U32(623, V3, 0), END,
    };
    static const spec_t lia[] = {
        CX_APP, ORIGIN(HOST_H), RESULT(DIA_SUCCESS), FEATURES(1, 1), STR(602, V3, SCSCF_URI),
        STR(636, V3, "sip:conf!.*!@ims.example"), END,
    };

    roundtrip(DIA_CMD_LIR, DIA_APP_CX, lir, lia);
}

static void test_cx_rtr_rta(void **state)
{
    static const spec_t rtr[] = {
        STR(DIA_AVP_SESSION_ID, 0, HOST_H ";1712345678;5"), CX_APP, ORIGIN(HOST_H),
        DEST(HOST_S), STR(DIA_AVP_USER_NAME, 0, IMPI),
        GROUP(632, V3), STR(DIA_AVP_USER_NAME, 0, IMPI),
        STR(DIA_AVP_USER_NAME, 0, "alice2@ims.example"), GEND,
        STR(601, V3, IMPU), STR(601, V3, "tel:+15550100"),
        GROUP(615, V3), U32(616, V3, 0), STR(617, V3, "administrative"), GEND, END,
    };
    static const spec_t rta[] = {
        CX_APP, ORIGIN(HOST_S), RESULT(DIA_SUCCESS),
        GROUP(632, V3), STR(DIA_AVP_USER_NAME, 0, IMPI), GEND, END,
    };

    roundtrip(DIA_CMD_RTR, DIA_APP_CX, rtr, rta);
}

static void test_cx_ppr_ppa(void **state)
{
    static const spec_t ppr[] = {
        STR(DIA_AVP_SESSION_ID, 0, HOST_H ";1712345678;6"), CX_APP, ORIGIN(HOST_H),
        DEST(HOST_S), STR(DIA_AVP_USER_NAME, 0, IMPI),
        OCT(606, V3, g_user_data, sizeof(g_user_data) - 1),
        GROUP(618, V3), STR(619, V3, "aaa://ecf1.ims.example"),
        STR(620, V3, "aaa://ecf2.ims.example"), STR(621, V3, "aaa://ccf1.ims.example"),
        STR(622, V3, "aaa://ccf2.ims.example"), GEND,
        GROUP(612, V3), U32(613, V3, 1), STR(608, V3, "SIP Digest"),
        GROUP(635, V3), STR(104, 0, REALM), STR(111, 0, "MD5"),
        OCT(121, 0, "fedcba9876543210fedcba9876543210", 32), GEND, GEND, END,
    };
    static const spec_t ppa[] = { CX_APP, ORIGIN(HOST_S), RESULT(DIA_SUCCESS), END };

    roundtrip(DIA_CMD_PPR, DIA_APP_CX, ppr, ppa);
}

/* -------------------------------------------------------------------- Rx */

#define UPLINK "permit in 17 from 192.0.2.7 49000 to 198.51.100.9 50000"
#define DOWNLINK "permit out 17 from 198.51.100.9 50000 to 192.0.2.7 49000"
#define UPLINK_RTCP "permit in 17 from 192.0.2.7 49001 to 198.51.100.9 50001"
#define DOWNLINK_RTCP "permit out 17 from 198.51.100.9 50001 to 192.0.2.7 49001"
#define CODEC_UL "uplink\noffer\nm=audio 49000 RTP/AVP 96\na=rtpmap:96 AMR-WB/16000\n"
#define CODEC_DL "downlink\nanswer\nm=audio 50000 RTP/AVP 96\na=rtpmap:96 AMR-WB/16000\n"

static void test_rx_aar_aaa(void **state)
{
    static const spec_t aar[] = {
        STR(DIA_AVP_SESSION_ID, 0, HOST_P ";1712345678;7"), RX_APP, ORIGIN(HOST_P),
        STR(DIA_AVP_DESTINATION_REALM, 0, "epc.example"),
        OCT(504, V3, "IMS Services", 12),
        GROUP(517, V3), U32(518, V3, 1),
        GROUP(519, V3), U32(509, V3, 1), STR(507, V3, UPLINK), STR(507, V3, DOWNLINK),
        U32(512, V3, 0), GEND,
        GROUP(519, V3), U32(509, V3, 2), STR(507, V3, UPLINK_RTCP),
        STR(507, V3, DOWNLINK_RTCP), U32(512, V3, 1), GEND,
        OCT(504, V3, "IMS Services", 12), U32(520, V3, 0), U32(516, V3, 64000),
        U32(515, V3, 64000), U32(511, V3, 2), U32(521, V3, 800), U32(522, V3, 2400),
        OCT(524, V3, CODEC_UL, sizeof(CODEC_UL) - 1),
        OCT(524, V3, CODEC_DL, sizeof(CODEC_DL) - 1), GEND,
        U32(527, V3, 0), OCT(505, V3, "icid-0123456789", 15), U32(523, V3, 0),
        U32(513, V3, 1), U32(513, V3, 2), U32(513, V3, 4),
        GROUP(443, 0), U32(450, 0, 2), STR(444, 0, IMPU), GEND,
        FEATURES(1, 3), OCT(8, 0, "\xc0\x00\x02\x07", 4),
        OCT(97, 0, "\x00\x40\x20\x01\x0d\xb8\x00\x00\x00\x01", 10),
        STR(30, 0, "ims"), U32(533, V3, 0), U32(529, V3, 1), END,
    };
    static const spec_t aaa[] = {
        RX_APP, ORIGIN(HOST_PCRF), RESULT(DIA_SUCCESS),
        GROUP(502, V3), OCT(503, V3, "\x00\x00\x00\x2a", 4),
        GROUP(510, V3), U32(518, V3, 1), U32(509, V3, 1), U32(509, V3, 2), GEND, GEND,
        ADDR4(501, V3, 0xc6336401), U32(1027, V3, 5), U32(1032, V3, 1004),
        GROUP(526, V3), GROUP(517, V3), U32(518, V3, 1), U32(515, V3, 41000), GEND, GEND,
        STR(18, V3, "00101"), END,
    };

    roundtrip(DIA_CMD_AAR, DIA_APP_RX, aar, aaa);
}

static void test_rx_str_sta(void **state)
{
    static const spec_t str[] = {
        STR(DIA_AVP_SESSION_ID, 0, HOST_P ";1712345678;8"), ORIGIN(HOST_P),
        STR(DIA_AVP_DESTINATION_REALM, 0, "epc.example"), RX_APP, U32(295, 0, 1), END,
    };
    static const spec_t sta[] = { ORIGIN(HOST_PCRF), RESULT(DIA_SUCCESS), END };

    roundtrip(DIA_CMD_STR, DIA_APP_RX, str, sta);
}

static void test_rx_rar_raa(void **state)
{
    static const spec_t rar[] = {
        STR(DIA_AVP_SESSION_ID, 0, HOST_P ";1712345678;7"), ORIGIN(HOST_PCRF),
        DEST(HOST_P), RX_APP, U32(285, 0, 0), U32(513, V3, 2),
        GROUP(510, V3), U32(518, V3, 1), U32(509, V3, 1), GEND, U32(500, V3, 0),
        U32(55, 0, 3920000000u), END,
    };
    static const spec_t raa[] = { ORIGIN(HOST_P), RESULT(DIA_SUCCESS), END };

    roundtrip(DIA_CMD_RAR, DIA_APP_RX, rar, raa);
}

static void test_rx_asr_asa(void **state)
{
    static const spec_t asr[] = {
        STR(DIA_AVP_SESSION_ID, 0, HOST_P ";1712345678;7"), ORIGIN(HOST_PCRF),
        DEST(HOST_P), RX_APP, U32(500, V3, 0), END,
    };
    static const spec_t asa[] = { ORIGIN(HOST_P), RESULT(DIA_SUCCESS), END };

    roundtrip(DIA_CMD_ASR, DIA_APP_RX, asr, asa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cx_uar_uaa), cmocka_unit_test(test_cx_mar_maa),
        cmocka_unit_test(test_cx_sar_saa), cmocka_unit_test(test_cx_lir_lia),
        cmocka_unit_test(test_cx_rtr_rta), cmocka_unit_test(test_cx_ppr_ppa),
        cmocka_unit_test(test_rx_aar_aaa), cmocka_unit_test(test_rx_str_sta),
        cmocka_unit_test(test_rx_rar_raa), cmocka_unit_test(test_rx_asr_asa),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
