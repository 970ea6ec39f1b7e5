/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sec_agree: parsing of real Security-Client/-Server/-Verify values (a VoLTE
 * handset, the TS 24.228 flows, Kamailio's Security-Server, RFC 3329 §3),
 * malformed values with their reasons, formatting and round trips, selection
 * against a preference list, and Security-Verify checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/rc.h"
#include "common/ipsec/sec_agree.h"
#include "common/sip/msg.h"

/* A VoLTE handset's first REGISTER. */
static const char *const volte_client =
    "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=3929102;spi-s=2948350;"
    "port-c=50920;port-s=50921;prot=esp;mod=trans";

/* Several alg/ealg combinations, as handsets offer them (same SPIs and ports). */
static const char *const multi_client =
    "ipsec-3gpp;alg=hmac-md5-96;ealg=null;spi-c=11111;spi-s=22222;port-c=5000;port-s=5001;"
    "prot=esp;mod=trans, "
    "ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;spi-c=11111;spi-s=22222;port-c=5000;port-s=5001;"
    "prot=esp;mod=trans,ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;spi-c=11111;spi-s=22222;"
    "port-c=5000;port-s=5001;prot=esp;mod=trans";

/* TS 24.228 flow style: spaces, q first, no ealg (null), no prot/mod. */
static const char *const ts24228_server =
    "ipsec-3gpp; q=0.1; alg=hmac-sha-1-96; spi-c=98765432; spi-s=87654321; port-c=8642; "
    "port-s=7531";

/* Kamailio ims_ipsec_pcscf add_security_server_header order. */
static const char *const kamailio_server =
    "ipsec-3gpp;prot=esp;mod=trans;spi-c=5000;spi-s=5001;port-c=6100;port-s=6101;"
    "alg=hmac-sha-1-96;ealg=aes-cbc";

static const sec_agree_pref_t prefs[] = {
    { SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_AES_CBC },
    { SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_NULL },
    { SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_AES_CBC },
    { SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_NULL },
};

static int parse1(sec_agree_list_t *l, const char *v, const char **reason)
{
    return sec_agree_parse(l, &v, 1, reason);
}

/* Format l, parse the text back and compare every mechanism. */
static void assert_round_trip(const sec_agree_list_t *l)
{
    static sec_agree_list_t again;
    char buf[SEC_AGREE_TEXT_MAX];
    size_t len = 0;

    assert_int_equal(sec_agree_format(l, buf, sizeof(buf), &len), IMS_OK);
    assert_int_equal(strlen(buf), len);
    assert_int_equal(parse1(&again, buf, NULL), IMS_OK);
    assert_int_equal(again.count, l->count);
    for (size_t i = 0; i < l->count; i++)
        assert_true(sec_agree_mech_equal(&again.mech[i], &l->mech[i]));
}

static void test_volte_client(void **state)
{
    static sec_agree_list_t l;
    const sec_agree_mech_t *m = &l.mech[0];
    char buf[SEC_AGREE_TEXT_MAX];

    assert_int_equal(parse1(&l, volte_client, NULL), IMS_OK);
    assert_int_equal(l.count, 1);
    assert_int_equal(m->kind, SEC_AGREE_IPSEC_3GPP);
    assert_string_equal(m->name, "ipsec-3gpp");
    assert_int_equal(m->alg, SEC_AGREE_ALG_HMAC_SHA1_96);
    assert_int_equal(m->ealg, SEC_AGREE_EALG_AES_CBC);
    assert_int_equal(m->spi_c, 3929102);
    assert_int_equal(m->spi_s, 2948350);
    assert_int_equal(m->port_c, 50920);
    assert_int_equal(m->port_s, 50921);
    assert_true(m->prot_esp);
    assert_true(m->mod_trans);
    assert_int_equal(m->q, SEC_AGREE_Q_NONE);
    assert_string_equal(m->ext, "");
    /* Formatting what was parsed gives the same text back. */
    assert_int_equal(sec_agree_format(&l, buf, sizeof(buf), NULL), IMS_OK);
    assert_string_equal(buf, volte_client);
}

static void test_multi_and_instances(void **state)
{
    static sec_agree_list_t l;
    const char *values[] = { multi_client, "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=300;spi-s=301;"
                                           "port-c=1;port-s=65535" };

    assert_int_equal(parse1(&l, multi_client, NULL), IMS_OK);
    assert_int_equal(l.count, 3);
    assert_int_equal(l.mech[0].alg, SEC_AGREE_ALG_HMAC_MD5_96);
    assert_int_equal(l.mech[0].ealg, SEC_AGREE_EALG_NULL);
    assert_int_equal(l.mech[1].alg, SEC_AGREE_ALG_HMAC_SHA1_96);
    assert_int_equal(l.mech[2].ealg, SEC_AGREE_EALG_AES_CBC);
    assert_round_trip(&l);

    /* Two header instances make one list, in message order. */
    assert_int_equal(sec_agree_parse(&l, values, 2, NULL), IMS_OK);
    assert_int_equal(l.count, 4);
    assert_int_equal(l.mech[3].spi_c, 300);
    assert_int_equal(l.mech[3].port_c, 1);
    assert_int_equal(l.mech[3].port_s, 65535);
    assert_int_equal(l.mech[3].ealg, SEC_AGREE_EALG_NULL); /* absent: null */
    assert_false(l.mech[3].present & SEC_AGREE_P_EALG);
    assert_round_trip(&l);
}

static void test_flows_and_kamailio(void **state)
{
    static sec_agree_list_t l;
    const sec_agree_mech_t *m = &l.mech[0];

    assert_int_equal(parse1(&l, ts24228_server, NULL), IMS_OK);
    assert_int_equal(l.count, 1);
    assert_int_equal(m->q, 100);
    assert_int_equal(m->alg, SEC_AGREE_ALG_HMAC_SHA1_96);
    assert_int_equal(m->ealg, SEC_AGREE_EALG_NULL);
    assert_true(m->prot_esp && m->mod_trans);
    assert_int_equal(m->spi_c, 98765432);
    assert_int_equal(m->port_s, 7531);
    assert_round_trip(&l);

    assert_int_equal(parse1(&l, kamailio_server, NULL), IMS_OK);
    assert_int_equal(m->spi_s, 5001);
    assert_int_equal(m->ealg, SEC_AGREE_EALG_AES_CBC);
    assert_round_trip(&l);

    /* Folded over two lines, upper-case names. */
    assert_int_equal(parse1(&l, "IPSEC-3GPP ;\r\n ALG = HMAC-MD5-96 ; SPI-C=256;spi-s=4294967295"
                                ";Port-C=2;port-s=3\t,\r\n\ttls", NULL), IMS_OK);
    assert_int_equal(l.count, 2);
    assert_int_equal(m->kind, SEC_AGREE_IPSEC_3GPP);
    assert_int_equal(m->alg, SEC_AGREE_ALG_HMAC_MD5_96);
    assert_int_equal(m->spi_c, 256);
    assert_int_equal(m->spi_s, 4294967295u);
    assert_int_equal(l.mech[1].kind, SEC_AGREE_TLS);
    assert_round_trip(&l);
}

/* RFC 3329 §3 style lists: tls, digest and ipsec-ike keep name, q and the rest as ext. */
static void test_other_mechanisms(void **state)
{
    static sec_agree_list_t l;
    static const char digest[] =
        "digest;d-alg=md5;d-qop=auth;q=0.05;d-ver=\"0123456789abcdef0123456789abcdef\"";
    const char *values[] = { "ipsec-ike;q=0.1", "tls;q=0.2", digest };

    assert_int_equal(sec_agree_parse(&l, values, 3, NULL), IMS_OK);
    assert_int_equal(l.count, 3);
    assert_int_equal(l.mech[0].kind, SEC_AGREE_OTHER);
    assert_string_equal(l.mech[0].name, "ipsec-ike");
    assert_int_equal(l.mech[0].q, 100);
    assert_int_equal(l.mech[1].kind, SEC_AGREE_TLS);
    assert_int_equal(l.mech[1].q, 200);
    assert_int_equal(l.mech[2].kind, SEC_AGREE_DIGEST);
    assert_int_equal(l.mech[2].q, 50);
    assert_string_equal(l.mech[2].ext,
                        ";d-alg=md5;d-qop=auth;d-ver=\"0123456789abcdef0123456789abcdef\"");
    assert_round_trip(&l);

    /* ipsec-3gpp parameter names mean nothing to tls: kept as they are. */
    assert_int_equal(parse1(&l, "tls;spi-c=0;alg", NULL), IMS_OK);
    assert_string_equal(l.mech[0].ext, ";spi-c=0;alg");
}

/* Values we do not implement are kept (and later skipped), not refused. */
static void test_unknown_values(void **state)
{
    static sec_agree_list_t l;
    size_t idx = 99;

    assert_int_equal(parse1(&l, "ipsec-3gpp;alg=hmac-sha-256-128;ealg=aes-gcm;spi-c=1000;"
                                "spi-s=1001;port-c=10;port-s=11;prot=ah;mod=UDP-enc-tun;"
                                "x-vendor=\"a;b,c\";flag", NULL), IMS_OK);
    assert_int_equal(l.mech[0].alg, SEC_AGREE_ALG_UNKNOWN);
    assert_string_equal(l.mech[0].alg_name, "hmac-sha-256-128");
    assert_int_equal(l.mech[0].ealg, SEC_AGREE_EALG_UNKNOWN);
    assert_false(l.mech[0].prot_esp);
    assert_false(l.mech[0].mod_trans);
    assert_string_equal(l.mech[0].mod_name, "UDP-enc-tun");
    assert_string_equal(l.mech[0].ext, ";x-vendor=\"a;b,c\";flag");
    assert_round_trip(&l);
    assert_int_equal(sec_agree_select(&l, prefs, IMS_ARRAY_LEN(prefs), &idx), IMS_DECLINED);
    assert_int_equal(idx, 99);
}

typedef struct bad_case {
    const char *value;
    const char *reason;
} bad_case_t;

#define REST ";spi-c=1000;spi-s=1001;port-c=5000;port-s=5001"

static void test_malformed(void **state)
{
    static sec_agree_list_t l;
    static char many[SEC_AGREE_MAX_MECHS * 8 + 16];
    static const bad_case_t cases[] = {
        { "", "Empty security mechanism list" },
        { " , ,", "Empty security mechanism list" },
        { ";alg=hmac-sha-1-96", "Bad security mechanism name" },
        { "ipsec-3gpp-and-a-name-over-31-chars", "Bad security mechanism name" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=0;spi-s=1001;port-c=1;port-s=2", "Bad spi-c value" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=255;spi-s=1001;port-c=1;port-s=2",
          "Bad spi-c value" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=4294967296;spi-s=1001;port-c=1;port-s=2",
          "Bad spi-c value" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1000;spi-s=12a;port-c=1;port-s=2",
          "Bad spi-s value" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1000;spi-s=-1;port-c=1;port-s=2",
          "Bad spi-s value" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1000;spi-s=1001;port-c=65536;port-s=2",
          "Bad port-c value" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1000;spi-s=1001;port-c=1;port-s=0",
          "Bad port-s value" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1000;spi-s=1001;port-c=1",
          "Missing port-s in ipsec-3gpp" },
        { "ipsec-3gpp;ealg=null" REST, "Missing alg in ipsec-3gpp" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;spi-s=1001;port-c=1;port-s=2",
          "Missing spi-c in ipsec-3gpp" },
        { "ipsec-3gpp;alg=hmac-sha-1-96" REST ";spi-c=1000", "Duplicate security parameter" },
        { "ipsec-3gpp;alg=hmac-sha-1-96" REST ";q=0.1;Q=0.2", "Duplicate security parameter" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;q=1.5" REST, "Bad q value" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;q=0.1234" REST, "Bad q value" },
        { "tls;q", "Bad q value" },
        { "tls;q=\"0.5\"", "Bad q value" },
        { "ipsec-3gpp;;alg=hmac-sha-1-96" REST, "Bad security parameter" },
        { "ipsec-3gpp;alg=" REST, "Bad security parameter" },
        { "ipsec-3gpp;alg" REST, "Bad alg value" },
        { "ipsec-3gpp;alg=\"hmac-sha-1-96\"" REST, "Bad alg value" },
        { "ipsec-3gpp;alg=hmac-sha-1-96-and-far-too-long" REST, "Bad alg value" },
        { "ipsec-3gpp;alg=hmac-sha-1-96;prot=" REST, "Bad security parameter" },
        { "ipsec-3gpp;alg=hmac-sha-1-96" REST " trailing", "Bad security mechanism list" },
        { "tls;x=\"unterminated", "Bad security parameter" },
        { "tls;x=\"ctl\x01\"", "Bad security parameter" },
        { "tls\r\nX-Injected: 1", "Bad security mechanism list" },
        { "tls;x=0123456789012345678901234567890123456789"
          ";y=0123456789012345678901234567890123456789"
          ";z=0123456789012345678901234567890123456789"
          ";w=0123456789012345678901234567890123456789",
          "Security parameters too long" },
    };
    const char *reason;

    for (size_t i = 0; i < IMS_ARRAY_LEN(cases); i++) {
        reason = NULL;
        l.count = 7;
        if (parse1(&l, cases[i].value, &reason) != IMS_ERROR)
            fail_msg("accepted: %s", cases[i].value);
        assert_non_null(reason);
        if (strcmp(reason, cases[i].reason) != 0)
            fail_msg("%s: reason \"%s\", want \"%s\"", cases[i].value, reason, cases[i].reason);
        assert_int_equal(l.count, 0);
    }
    /* One more mechanism than the list holds. */
    for (size_t i = 0; i <= SEC_AGREE_MAX_MECHS; i++)
        strcat(many, i ? ",tls" : "tls");
    assert_int_equal(parse1(&l, many, &reason), IMS_ERROR);
    assert_string_equal(reason, "Too many security mechanisms");
    many[strlen(many) - 4] = '\0';
    assert_int_equal(parse1(&l, many, &reason), IMS_OK);
    assert_int_equal(l.count, SEC_AGREE_MAX_MECHS);
}

/* Length-delimited input: nothing past len is read; a failed add keeps the list. */
static void test_length_and_append(void **state)
{
    static sec_agree_list_t l;
    const char *text = "tls;q=0.5, digest";
    char *exact = malloc(strlen(volte_client));
    const char *reason = NULL;

    assert_non_null(exact);
    memcpy(exact, volte_client, strlen(volte_client)); /* no NUL: ASan checks over-reads */
    sec_agree_list_init(&l);
    assert_int_equal(sec_agree_parse_add(&l, exact, strlen(volte_client), NULL), IMS_OK);
    assert_int_equal(l.mech[0].spi_c, 3929102);
    /* "tls;q=0.5" only: the rest of the string is beyond len. */
    assert_int_equal(sec_agree_parse_add(&l, text, 9, NULL), IMS_OK);
    assert_int_equal(l.count, 2);
    assert_int_equal(l.mech[1].q, 500);
    /* Cut after "spi-c=3929102": the rest is not seen. */
    assert_int_equal(sec_agree_parse_add(&l, exact, 55, &reason), IMS_ERROR);
    assert_string_equal(reason, "Missing spi-s in ipsec-3gpp");
    assert_int_equal(sec_agree_parse_add(&l, "tls, ipsec-3gpp;alg=x", 21, &reason), IMS_ERROR);
    assert_string_equal(reason, "Missing spi-c in ipsec-3gpp");
    assert_int_equal(l.count, 2);
    /* A NUL inside the length is not a token character. */
    assert_int_equal(sec_agree_parse_add(&l, "tls\0;q=1", 8, &reason), IMS_ERROR);
    assert_int_equal(l.count, 2);
    free(exact);
}

static void test_q_values(void **state)
{
    static const struct {
        const char *in;
        int q;
        const char *out;
    } qs[] = {
        { "0", 0, "0" },     { "0.", 0, "0" },      { "0.1", 100, "0.1" },
        { "0.05", 50, "0.05" }, { "0.005", 5, "0.005" }, { "0.120", 120, "0.12" },
        { "1", 1000, "1" },  { "1.000", 1000, "1" }, { "0.999", 999, "0.999" },
    };
    static sec_agree_list_t l;
    char in[64], want[64], buf[128];

    for (size_t i = 0; i < IMS_ARRAY_LEN(qs); i++) {
        snprintf(in, sizeof(in), "tls;q=%s", qs[i].in);
        snprintf(want, sizeof(want), "tls;q=%s", qs[i].out);
        assert_int_equal(parse1(&l, in, NULL), IMS_OK);
        assert_int_equal(l.mech[0].q, qs[i].q);
        assert_int_equal(sec_agree_format(&l, buf, sizeof(buf), NULL), IMS_OK);
        assert_string_equal(buf, want);
    }
}

static void test_format_server_and_verify(void **state)
{
    static sec_agree_list_t server, client, verify;
    sec_agree_mech_t m;
    char buf[SEC_AGREE_TEXT_MAX];
    size_t len = 0;

    assert_int_equal(sec_agree_mech_ipsec(&m, SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_AES_CBC,
                                          8001, 8002, 6100, 6101, SEC_AGREE_Q_NONE), IMS_OK);
    sec_agree_list_init(&server);
    assert_int_equal(sec_agree_list_add(&server, &m), IMS_OK);
    assert_int_equal(sec_agree_format(&server, buf, sizeof(buf), &len), IMS_OK);
    assert_string_equal(buf, "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=8001;spi-s=8002;"
                             "port-c=6100;port-s=6101;prot=esp;mod=trans");
    assert_int_equal(len, strlen(buf));
    /* Too small a buffer fails; exactly large enough works. */
    assert_int_equal(sec_agree_format(&server, buf, len, NULL), IMS_ERROR);
    assert_int_equal(sec_agree_format(&server, buf, len + 1, NULL), IMS_OK);

    /* The UE's Security-Client and Security-Verify come from the same calls. */
    assert_int_equal(sec_agree_mech_ipsec(&m, SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_NULL,
                                          3929102, 2948350, 50920, 50921, 500), IMS_OK);
    sec_agree_list_init(&client);
    assert_int_equal(sec_agree_list_add(&client, &m), IMS_OK);
    assert_int_equal(sec_agree_format(&client, buf, sizeof(buf), NULL), IMS_OK);
    assert_string_equal(buf, "ipsec-3gpp;alg=hmac-md5-96;ealg=null;spi-c=3929102;spi-s=2948350;"
                             "port-c=50920;port-s=50921;prot=esp;mod=trans;q=0.5");
    assert_int_equal(sec_agree_format(&server, buf, sizeof(buf), NULL), IMS_OK);
    assert_int_equal(parse1(&verify, buf, NULL), IMS_OK);
    assert_true(sec_agree_verify(&verify, &server));

    /* Refused arguments leave m alone. */
    assert_int_equal(sec_agree_mech_ipsec(&m, SEC_AGREE_ALG_UNKNOWN, SEC_AGREE_EALG_NULL,
                                          1000, 1001, 1, 2, 0), IMS_ERROR);
    assert_int_equal(sec_agree_mech_ipsec(&m, SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_UNKNOWN,
                                          1000, 1001, 1, 2, 0), IMS_ERROR);
    assert_int_equal(sec_agree_mech_ipsec(&m, SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_NULL,
                                          255, 1001, 1, 2, 0), IMS_ERROR);
    assert_int_equal(sec_agree_mech_ipsec(&m, SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_NULL,
                                          1000, 1001, 0, 2, 0), IMS_ERROR);
    assert_int_equal(sec_agree_mech_ipsec(&m, SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_NULL,
                                          1000, 1001, 1, 2, 1001), IMS_ERROR);
    assert_int_equal(m.spi_c, 3929102);
    sec_agree_list_init(&client);
    assert_int_equal(sec_agree_format(&client, buf, sizeof(buf), NULL), IMS_ERROR);
    for (size_t i = 0; i < SEC_AGREE_MAX_MECHS; i++)
        assert_int_equal(sec_agree_list_add(&client, &m), IMS_OK);
    assert_int_equal(sec_agree_list_add(&client, &m), IMS_ERROR);
}

/* The longest mechanism the parser keeps, sixteen times, fits SEC_AGREE_TEXT_MAX. */
static void test_format_max(void **state)
{
    static sec_agree_list_t l;
    static char value[1024], buf[SEC_AGREE_TEXT_MAX];
    char v23[SEC_AGREE_VALUE_SIZE], ext[SEC_AGREE_EXT_SIZE];

    memset(v23, 'a', sizeof(v23) - 1);
    v23[sizeof(v23) - 1] = '\0';
    ext[0] = ';';
    memset(ext + 1, 'x', sizeof(ext) - 2);
    ext[sizeof(ext) - 1] = '\0';
    snprintf(value, sizeof(value),
             "ipsec-3gpp;alg=%s;ealg=%s;spi-c=4294967295;spi-s=4294967295;port-c=65535;"
             "port-s=65535;prot=%s;mod=%s;q=0.123%s", v23, v23, v23, v23, ext);
    assert_int_equal(parse1(&l, value, NULL), IMS_OK);
    assert_int_equal(strlen(l.mech[0].ext), SEC_AGREE_EXT_SIZE - 1);
    assert_int_equal(strlen(l.mech[0].mod_name), SEC_AGREE_VALUE_SIZE - 1);
    while (l.count < SEC_AGREE_MAX_MECHS)
        l.mech[l.count++] = l.mech[0];
    assert_int_equal(sec_agree_format(&l, buf, sizeof(buf), NULL), IMS_OK);
    assert_round_trip(&l);
    /* One more byte of anything is refused. */
    strcat(value, "y");
    assert_int_equal(parse1(&l, value, NULL), IMS_ERROR);
}

static void test_select(void **state)
{
    static sec_agree_list_t l;
    size_t idx = 99;

    /* md5/null, sha1/null, md5/aes: our order picks sha1/null. */
    assert_int_equal(parse1(&l, multi_client, NULL), IMS_OK);
    assert_int_equal(sec_agree_select(&l, prefs, IMS_ARRAY_LEN(prefs), &idx), IMS_OK);
    assert_int_equal(idx, 1);
    /* Only md5 is configured: the earlier md5 pair in our list (md5/aes) wins. */
    assert_int_equal(sec_agree_select(&l, prefs + 2, 2, &idx), IMS_OK);
    assert_int_equal(idx, 2);
    /* Nothing configured, or only what is not offered: 494. */
    assert_int_equal(sec_agree_select(&l, prefs, 0, &idx), IMS_DECLINED);
    assert_int_equal(sec_agree_select(&l, prefs, 1, &idx), IMS_DECLINED);

    /* Same pair offered twice: the higher q wins; an absent q ranks below q=0. */
    assert_int_equal(parse1(&l, "ipsec-3gpp;alg=hmac-sha-1-96" REST ", "
                                "ipsec-3gpp;alg=hmac-sha-1-96;q=0" REST ", "
                                "ipsec-3gpp;alg=hmac-sha-1-96;q=0.5" REST ", "
                                "ipsec-3gpp;alg=hmac-sha-1-96;q=0.5;spi-c=7777;spi-s=7778"
                                ";port-c=1;port-s=2", NULL), IMS_OK);
    assert_int_equal(sec_agree_select(&l, prefs, IMS_ARRAY_LEN(prefs), &idx), IMS_OK);
    assert_int_equal(idx, 2);
    l.mech[2].q = SEC_AGREE_Q_NONE;
    l.mech[3].q = SEC_AGREE_Q_NONE;
    assert_int_equal(sec_agree_select(&l, prefs, IMS_ARRAY_LEN(prefs), &idx), IMS_OK);
    assert_int_equal(idx, 1);
    l.mech[1].q = SEC_AGREE_Q_NONE;
    assert_int_equal(sec_agree_select(&l, prefs, IMS_ARRAY_LEN(prefs), &idx), IMS_OK);
    assert_int_equal(idx, 0);
    /* Our preference beats the UE's q. */
    assert_int_equal(parse1(&l, "ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;q=1" REST ", "
                                "ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;q=0.001" REST, NULL),
                     IMS_OK);
    assert_int_equal(sec_agree_select(&l, prefs, IMS_ARRAY_LEN(prefs), &idx), IMS_OK);
    assert_int_equal(idx, 1);
    /* tls, digest, prot=ah, mod=UDP-enc-tun: nothing for us. */
    assert_int_equal(parse1(&l, "tls;q=1, digest, ipsec-3gpp;alg=hmac-sha-1-96;prot=ah" REST
                                ", ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun" REST, NULL),
                     IMS_OK);
    assert_int_equal(sec_agree_select(&l, prefs, IMS_ARRAY_LEN(prefs), &idx), IMS_DECLINED);
}

static bool verify_text(const char *verify, const char *server)
{
    static sec_agree_list_t v, s;

    assert_int_equal(parse1(&v, verify, NULL), IMS_OK);
    assert_int_equal(parse1(&s, server, NULL), IMS_OK);
    return sec_agree_verify(&v, &s);
}

static void test_verify(void **state)
{
    static const char *const two =
        "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc" REST ", tls;q=0.2;x=1;y=\"Q\"";

    assert_true(verify_text(kamailio_server, kamailio_server));
    /* Order of parameters and mechanisms, case of names, LWS: all the same. */
    assert_true(verify_text("IPSEC-3GPP; ALG=HMAC-SHA-1-96; Ealg=AES-CBC; PROT=ESP; MOD=TRANS;"
                            " spi-s=5001; spi-c=5000; port-s=6101; port-c=6100",
                            kamailio_server));
    assert_true(verify_text("TLS;y=\"q\";Q=0.200;X=1, ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc"
                            REST, two));
    /* Absent ealg/prot/mod equal their defaults. */
    assert_true(verify_text("ipsec-3gpp;alg=hmac-sha-1-96" REST,
                            "ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;prot=esp;mod=trans" REST));

    /* Mismatches: each value, a missing or extra mechanism or parameter. */
    assert_false(verify_text("ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc" REST, two));
    assert_false(verify_text("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc" REST, two));
    assert_false(verify_text(two, "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc" REST));
    assert_false(verify_text("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc" REST ", tls;q=0.2;x=1",
                             two));
    assert_false(verify_text("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc" REST
                             ", tls;q=0.2;x=1;y=\"Q\";z", two));
    assert_false(verify_text("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc" REST ", tls;x=1;y=\"Q\"",
                             two));
    assert_false(verify_text("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc" REST
                             ", tls;q=0.2;x=2;y=\"Q\"", two));
    assert_false(verify_text("ipsec-3gpp;alg=hmac-sha-1-96;ealg=null" REST,
                             "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc" REST));
    assert_false(verify_text("ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1000;spi-s=1002;port-c=5000;"
                             "port-s=5001", "ipsec-3gpp;alg=hmac-sha-1-96" REST));
    assert_false(verify_text("ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1000;spi-s=1001;port-c=5000;"
                             "port-s=5002", "ipsec-3gpp;alg=hmac-sha-1-96" REST));
    assert_false(verify_text("ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun" REST,
                             "ipsec-3gpp;alg=hmac-sha-1-96" REST));
    assert_false(verify_text("ipsec-3gpp;alg=hmac-sha-256-128" REST,
                             "ipsec-3gpp;alg=hmac-sha-512-256" REST));
    assert_false(verify_text("tls", "digest"));
    /* A mechanism repeated does not stand in for a missing one. */
    assert_false(verify_text("tls, tls", "tls, digest"));
    assert_true(verify_text("tls, digest, tls", "tls, tls, digest"));
}

static sip_msg_t *parse_sip(const char *text)
{
    sip_msg_t *m = NULL;
    const char *reason = NULL;

    sip_msg_global_init();
    assert_int_equal(sip_msg_parse(text, strlen(text), NULL, 65535, &m, &reason), SIP_PARSE_OK);
    return m;
}

#define REG_HEAD                                                  \
    "REGISTER sip:ims.example SIP/2.0\r\n"                        \
    "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKsec1\r\n"       \
    "Max-Forwards: 70\r\n"                                        \
    "To: <sip:alice@ims.example>\r\n"                             \
    "From: <sip:alice@ims.example>;tag=s1\r\n"                    \
    "Call-ID: sec-1\r\n"                                          \
    "CSeq: 1 REGISTER\r\n"                                        \
    "Contact: <sip:alice@10.0.0.1:5062>\r\n"

/* All instances of the header, in message order; none is not an error. */
static void test_parse_msg(void **state)
{
    static sec_agree_list_t l;
    const char *reason = NULL;
    sip_msg_t *m = parse_sip(REG_HEAD
                             "Security-Client: tls;q=0.2, digest\r\n"
                             "Require: sec-agree\r\n"
                             "security-client: ipsec-3gpp;alg=hmac-sha-1-96" REST "\r\n"
                             "Content-Length: 0\r\n\r\n");

    assert_int_equal(sec_agree_parse_msg(&l, m, "Security-Client", &reason), IMS_OK);
    assert_int_equal(l.count, 3);
    assert_int_equal(l.mech[0].kind, SEC_AGREE_TLS);
    assert_int_equal(l.mech[1].kind, SEC_AGREE_DIGEST);
    assert_int_equal(l.mech[2].spi_s, 1001);
    assert_int_equal(sec_agree_parse_msg(&l, m, "Security-Verify", &reason), IMS_DECLINED);
    assert_int_equal(l.count, 0);
    sip_msg_free(m);

    m = parse_sip(REG_HEAD "Security-Client: tls\r\n"
                  "Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1" REST "\r\n"
                  "Content-Length: 0\r\n\r\n");
    assert_int_equal(sec_agree_parse_msg(&l, m, "Security-Client", &reason), IMS_ERROR);
    assert_string_equal(reason, "Bad spi-c value");
    assert_int_equal(l.count, 0);
    sip_msg_free(m);
}

static void test_names(void **state)
{
    assert_int_equal(sec_agree_alg_from("HMAC-SHA-1-96", 13), SEC_AGREE_ALG_HMAC_SHA1_96);
    assert_int_equal(sec_agree_alg_from("hmac-md5-96x", 11), SEC_AGREE_ALG_HMAC_MD5_96);
    assert_int_equal(sec_agree_alg_from("hmac-md5-9", 10), SEC_AGREE_ALG_UNKNOWN);
    assert_int_equal(sec_agree_alg_from(NULL, 0), SEC_AGREE_ALG_UNKNOWN);
    assert_int_equal(sec_agree_ealg_from("DES-EDE3-CBC", 12), SEC_AGREE_EALG_DES_EDE3_CBC);
    assert_int_equal(sec_agree_ealg_from("null", 4), SEC_AGREE_EALG_NULL);
    assert_int_equal(sec_agree_ealg_from("", 0), SEC_AGREE_EALG_UNKNOWN);
    assert_string_equal(sec_agree_alg_name(SEC_AGREE_ALG_HMAC_SHA1_96), "hmac-sha-1-96");
    assert_string_equal(sec_agree_ealg_name(SEC_AGREE_EALG_AES_CBC), "aes-cbc");
    assert_string_equal(sec_agree_alg_name((sec_agree_alg_t)42), "");
    assert_string_equal(sec_agree_ealg_name(SEC_AGREE_EALG_UNKNOWN), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volte_client),
        cmocka_unit_test(test_multi_and_instances),
        cmocka_unit_test(test_flows_and_kamailio),
        cmocka_unit_test(test_other_mechanisms),
        cmocka_unit_test(test_unknown_values),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_length_and_append),
        cmocka_unit_test(test_q_values),
        cmocka_unit_test(test_format_server_and_verify),
        cmocka_unit_test(test_format_max),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_parse_msg),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
