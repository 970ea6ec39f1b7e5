/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-hss, the parts without sockets: configuration and IMSI range expansion,
 * the User-Data XML, the SQN store across simulated restarts, AKA vectors
 * and resynchronisation checked with an independent UE-side Milenage run, the
 * zero-RES redraw option, and the UAR/SAR/LIR state machine for every
 * Server-Assignment-Type. Files are real, under a fresh /tmp directory.
 *
 * The hss/ sources are compiled into this program (the daemon is a plain
 * executable, not a library); main.c, init.c, ctl.c and cx-path.c stay out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hss/config.c"
#include "hss/context.c"
#include "hss/cx-handler.c"
#include "hss/hss-auth.c"
#include "hss/sqn-store.c"
#include "hss/user-data.c"

#define LAB_K "696d73636f72652d6c61622d6b657931"
#define LAB_OP "696d73636f72652d6c61622d6f702d31"

typedef struct fx {
    char dir[64];
    char cfg[128];
    char sqn[128];
    hss_ctx_t *ctx;
} fx_t;

static const char base_cfg[] =
    "state_dir = \"/nonexistent\";\n"
    "home_domain = \"ims.test\";\n"
    "diameter = { identity = \"hss.ims.test\"; realm = \"ims.test\"; listen = \"127.0.0.1\";\n"
    "  peers = ( { host = \"scscf.ims.test\"; } ); };\n"
    "scscfs = ( { name = \"sip:scscf.ims.test\"; diameter_host = \"scscf.ims.test\"; } );\n"
    "capabilities = { mandatory = ( 1 ); optional = ( 2, 3 ); };\n"
    "profiles = ( { name = \"as\"; ifcs = (\n"
    "  { priority = 3; profile_part = \"registered\"; cnf = false;\n"
    "    triggers = ( { group = 0; method = \"INVITE\"; },\n"
    "                 { group = 1; negated = true; header = \"Accept-Contact\";\n"
    "                   content = \"<a&b>\\\"'\"; },\n"
    "                 { group = 2; session_case = 0; },\n"
    "                 { group = 3; sdp_line = \"m\"; content = \"audio\"; },\n"
    "                 { group = 4; request_uri = \"sip:.*@x\"; },\n"
    "                 { group = 5; registration_type = ( 0, 2 ); } );\n"
    "    as = \"sip:as.ims.test;x=<y>\"; default_handling = 1; service_info = \"s&i\";\n"
    "    include_register_request = true; },\n"
    "  { priority = 9; profile_part = \"unregistered\"; as = \"sip:vm.ims.test\"; } ); } );\n"
    "subscribers = (\n"
    "  { impi = \"alice@ims.test\"; impus = ( \"sip:alice@ims.test\", \"tel:+100\" );\n"
    "    barred_impus = ( \"tel:+100\" ); k = \"" LAB_K "\"; op = \"" LAB_OP "\";\n"
    "    sqn = 64; password = \"pw\"; profile = \"as\"; },\n"
    "  { impi = \"bob@ims.test\"; impus = ( \"sip:bob@ims.test\" ); password = \"pw\"; }\n"
    ");\n"
    "ranges = ( { imsi_from = \"001010000000001\"; count = 1000; tel_prefix = \"+1555\";\n"
    "  k = \"" LAB_K "\"; op = \"" LAB_OP "\"; amf = \"8000\"; sqn = 1;\n"
    "  password = \"secret\"; } );\n";

static void write_file_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    fclose(f);
}

/* A context loaded from text, with an SQN store of block in the fixture dir. */
static hss_ctx_t *load_ctx(fx_t *f, const char *text, uint32_t block)
{
    char err[512] = "";
    hss_ctx_t *ctx = hss_ctx_new();

    write_file_text(f->cfg, text);
    if (hss_ctx_load(ctx, f->cfg, err, sizeof(err)) != IMS_OK)
        fail_msg("config: %s", err);
    ctx->sqn = hss_sqn_store_new(f->sqn, block, false);
    assert_int_equal(hss_sqn_store_load(ctx->sqn, err, sizeof(err)), IMS_OK);
    for (size_t i = 0; i < ctx->nsubs; i++)
        ctx->subs[i]->sqn_slot = hss_sqn_store_attach(ctx->sqn, ctx->subs[i]->impi,
                                                      ctx->subs[i]->sqn_start);
    return ctx;
}

static void free_ctx(hss_ctx_t *ctx)
{
    hss_sqn_store_free(ctx->sqn);
    hss_ctx_free(ctx);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/ims-test-hss-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->cfg, sizeof(f->cfg), "%s/hss.cfg", f->dir);
    snprintf(f->sqn, sizeof(f->sqn), "%s/sqn.db", f->dir);
    f->ctx = load_ctx(f, base_cfg, 1000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[128];

    free_ctx(f->ctx);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* ---- configuration and ranges ---- */

static void test_range_expansion(void **state)
{
    fx_t *f = *state;
    hss_ctx_t *ctx = f->ctx;
    hss_sub_t *s1, *s1000;

    assert_int_equal(ctx->nsubs, 1002);
    s1 = hss_ctx_find_impi(ctx, "001010000000001@ims.test");
    s1000 = hss_ctx_find_impi(ctx, "001010000001000@ims.test");
    assert_non_null(s1);
    assert_non_null(s1000);
    assert_null(hss_ctx_find_impi(ctx, "001010000001001@ims.test"));
    assert_int_equal(s1000->nimpus, 2);
    assert_string_equal(s1000->impus[0], "sip:001010000001000@ims.test");
    assert_string_equal(s1000->impus[1], "tel:+15550001000");
    assert_ptr_equal(hss_ctx_find_impu(ctx, "tel:+15550000001"), s1);
    assert_ptr_equal(hss_ctx_find_impu(ctx, "sip:001010000001000@ims.test"), s1000);
    /* keys, AMF, SQN, password and realm come from the range */
    assert_true(s1->has_k && !s1->op_is_opc);
    assert_memory_equal(s1->k, "imscore-lab-key1", 16);
    assert_memory_equal(s1->op, "imscore-lab-op-1", 16);
    assert_int_equal(s1->amf[0], 0x80);
    assert_int_equal(s1->amf[1], 0x00);
    assert_int_equal(s1->sqn_start, 1);
    assert_string_equal(s1->password, "secret");
    assert_string_equal(s1->realm, "ims.test");
    assert_int_equal(s1->scheme, HSS_SCHEME_AKA);
    /* explicit subscribers */
    assert_non_null(hss_ctx_find_impi(ctx, "alice@ims.test"));
    assert_true(hss_ctx_find_impi(ctx, "alice@ims.test")->barred[1]);
    assert_int_equal(hss_ctx_find_impi(ctx, "bob@ims.test")->scheme, HSS_SCHEME_DIGEST);
}

static void test_range_direct(void **state)
{
    fx_t *f = *state;
    hss_sub_t tmpl;
    char err[256];

    memset(&tmpl, 0, sizeof(tmpl));
    tmpl.realm = "r.test";
    /* the last 7 digits of a 15-digit IMSI across a carry, and a 6-digit one */
    assert_int_equal(hss_ctx_add_range(f->ctx, "999990009999998", 3, "r.test", "+49", &tmpl,
                                       err, sizeof(err)), IMS_OK);
    assert_non_null(hss_ctx_find_impi(f->ctx, "999990010000000@r.test"));
    assert_non_null(hss_ctx_find_impu(f->ctx, "tel:+490000000"));
    assert_non_null(hss_ctx_find_impu(f->ctx, "tel:+499999999"));
    /* overlapping ranges and ranges past the last IMSI are refused */
    assert_int_equal(hss_ctx_add_range(f->ctx, "999990010000000", 1, "r.test", NULL, &tmpl,
                                       err, sizeof(err)), IMS_ERROR);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(hss_ctx_add_range(f->ctx, "999999999999999", 2, "r.test", NULL, &tmpl,
                                       err, sizeof(err)), IMS_ERROR);
    assert_int_equal(hss_ctx_add_range(f->ctx, "12a45", 1, "r.test", NULL, &tmpl, err,
                                       sizeof(err)), IMS_ERROR);
}

/* A bad value is reported with file, line and key. */
static void test_config_errors(void **state)
{
    fx_t *f = *state;
    char err[512], text[sizeof(base_cfg) + 64], *p;
    hss_ctx_t *ctx;
    static const struct { const char *from, *to, *want; } cases[] = {
        { "sqn = 64;", "sqn = 64; opc = \"00\";", ":22: subscribers.[0].opc: expected 32 hex" },
        { "amf = \"8000\";", "amf = \"80\";", ":26: ranges.[0].amf: expected 4 hex digits" },
        { "profile = \"as\";", "profile = \"nope\";", ":22: subscribers.[0].profile: no " },
        { "method = \"INVITE\";", "method = \"INVITE\"; session_case = 1;",
          ":9: profiles.[0].ifcs.[0].triggers.[0]: a trigger needs exactly one" },
        { "\"sip:bob@ims.test\"", "\"sip:alice@ims.test\"", "IMPU sip:alice@ims.test is "
          "configured twice" },
    };

    for (size_t i = 0; i < IMS_ARRAY_LEN(cases); i++) {
        p = strstr(base_cfg, cases[i].from);
        assert_non_null(p);
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - base_cfg), base_cfg, cases[i].to,
                 p + strlen(cases[i].from));
        write_file_text(f->cfg, text);
        ctx = hss_ctx_new();
        err[0] = '\0';
        assert_int_equal(hss_ctx_load(ctx, f->cfg, err, sizeof(err)), IMS_ERROR);
        if (!strstr(err, cases[i].want) || !strstr(err, f->cfg))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, cases[i].want);
        hss_ctx_free(ctx);
    }
}

/* ---- User-Data ---- */

/* Tags nest properly: every </x> closes the innermost open <x>. */
static void assert_well_formed(const char *xml)
{
    char stack[32][40];
    int depth = 0;
    const char *p = strstr(xml, "?>");

    assert_non_null(p);
    for (p += 2; (p = strchr(p, '<')); p++) {
        const char *end = strchr(p, '>');
        size_t n;

        assert_non_null(end);
        if (end[-1] == '/')
            continue;   /* <Empty/> */
        if (p[1] == '/') {
            n = (size_t)(end - p - 2);
            assert_true(depth > 0);
            depth--;
            assert_int_equal(strlen(stack[depth]), n);
            assert_memory_equal(stack[depth], p + 2, n);
        } else {
            n = (size_t)(end - p - 1);
            assert_true(depth < 32 && n < sizeof(stack[0]));
            memcpy(stack[depth], p + 1, n);
            stack[depth++][n] = '\0';
        }
    }
    assert_int_equal(depth, 0);
}

static void test_user_data(void **state)
{
    fx_t *f = *state;
    hss_sub_t *alice = hss_ctx_find_impi(f->ctx, "alice@ims.test");
    size_t len, len2;
    char *xml = hss_user_data_build(alice, CX_USER_DATA_MAX, &len);
    const char *ifc1;

    assert_non_null(xml);
    assert_int_equal(strlen(xml), len);
    assert_well_formed(xml);
    assert_non_null(strstr(xml, "<IMSSubscription><PrivateID>alice@ims.test</PrivateID>"
                                "<ServiceProfile><PublicIdentity><Identity>sip:alice@ims.test"
                                "</Identity></PublicIdentity><PublicIdentity>"
                                "<BarringIndication>1</BarringIndication>"
                                "<Identity>tel:+100</Identity></PublicIdentity>"));
    ifc1 = strstr(xml, "<InitialFilterCriteria><Priority>3</Priority><TriggerPoint>"
                       "<ConditionTypeCNF>0</ConditionTypeCNF>");
    assert_non_null(ifc1);
    assert_non_null(strstr(ifc1, "<SPT><ConditionNegated>0</ConditionNegated><Group>0</Group>"
                                 "<Method>INVITE</Method></SPT>"));
    /* every special character escaped, in element content */
    assert_non_null(strstr(ifc1, "<SPT><ConditionNegated>1</ConditionNegated><Group>1</Group>"
                                 "<SIPHeader><Header>Accept-Contact</Header><Content>"
                                 "&lt;a&amp;b&gt;&quot;&apos;</Content></SIPHeader></SPT>"));
    assert_non_null(strstr(ifc1, "<Group>2</Group><SessionCase>0</SessionCase>"));
    assert_non_null(strstr(ifc1, "<SessionDescription><Line>m</Line><Content>audio</Content>"
                                 "</SessionDescription>"));
    assert_non_null(strstr(ifc1, "<RequestURI>sip:.*@x</RequestURI>"));
    assert_non_null(strstr(ifc1, "<Extension><RegistrationType>0</RegistrationType>"
                                 "<RegistrationType>2</RegistrationType></Extension>"));
    assert_non_null(strstr(ifc1, "<ApplicationServer><ServerName>sip:as.ims.test;x=&lt;y&gt;"
                                 "</ServerName><DefaultHandling>1</DefaultHandling>"
                                 "<ServiceInfo>s&amp;i</ServiceInfo><Extension>"
                                 "<IncludeRegisterRequest/></Extension></ApplicationServer>"
                                 "<ProfilePartIndicator>0</ProfilePartIndicator>"
                                 "</InitialFilterCriteria>"));
    /* no trigger point: always matches; unregistered part */
    assert_non_null(strstr(xml, "<InitialFilterCriteria><Priority>9</Priority>"
                                "<ApplicationServer><ServerName>sip:vm.ims.test</ServerName>"));
    assert_non_null(strstr(xml, "<ProfilePartIndicator>1</ProfilePartIndicator>"));
    assert_string_equal(xml + len - strlen("</ServiceProfile></IMSSubscription>"),
                        "</ServiceProfile></IMSSubscription>");
    /* bounded: too small a limit gives nothing; the cache returns the same text */
    assert_null(hss_user_data_build(alice, len - 1, &len2));
    assert_string_equal(hss_user_data(alice, CX_USER_DATA_MAX, &len2), xml);
    assert_int_equal(len2, len);
    free(xml);
}

/* ---- SQN store ---- */

static void test_sqn_restart(void **state)
{
    fx_t *f = *state;
    char path[160], err[256];
    hss_sqn_store_t *s;
    uint64_t sqn, max = 0, start = 32 * 5;
    uint32_t slot, other;

    snprintf(path, sizeof(path), "%s/restart.db", f->dir);
    for (int run = 0; run < 4; run++) {
        s = hss_sqn_store_new(path, 10, true);
        assert_int_equal(hss_sqn_store_load(s, err, sizeof(err)), IMS_OK);
        slot = hss_sqn_store_attach(s, "a@x", start);
        other = hss_sqn_store_attach(s, "b@x", 0);
        assert_int_not_equal(slot, other);
        /* a varying number of vectors per run, crossing blocks; no clean shutdown */
        for (int i = 0; i < 7 + run * 9; i++) {
            assert_int_equal(hss_sqn_store_next(s, slot, &sqn), IMS_OK);
            assert_true(sqn > max);               /* never handed out before */
            assert_int_equal(sqn % 32, 0);        /* IND 0 */
            assert_true(sqn <= hss_sqn_store_mark(s, slot));
            max = sqn;
        }
        hss_sqn_store_free(s);   /* a crash looks the same: nothing is written at exit */
    }
    /* a store whose file cannot be written hands out nothing beyond its mark */
    snprintf(path, sizeof(path), "%s/no-such-dir/sqn.db", f->dir);
    s = hss_sqn_store_new(path, 10, true);
    assert_int_equal(hss_sqn_store_load(s, err, sizeof(err)), IMS_OK);
    slot = hss_sqn_store_attach(s, "a@x", 32);
    assert_int_equal(hss_sqn_store_next(s, slot, &sqn), IMS_ERROR);
    assert_int_equal(hss_sqn_store_current(s, slot), 32);
    hss_sqn_store_free(s);
}

static void test_sqn_batching_and_file(void **state)
{
    fx_t *f = *state;
    char path[160], err[256], key[32];
    hss_sqn_store_t *s;
    uint64_t sqn;
    uint32_t slots[100];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/batch.db", f->dir);
    s = hss_sqn_store_new(path, 100, false);
    assert_int_equal(hss_sqn_store_load(s, err, sizeof(err)), IMS_OK);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "user%d@x", i);
        slots[i] = hss_sqn_store_attach(s, key, 0);
    }
    /* 100 subscribers advancing together, 250 vectors each: each reservation extends
     * all of them, so the file is written 3 times, not 300 */
    for (int round = 0; round < 250; round++)
        for (int i = 0; i < 100; i++)
            assert_int_equal(hss_sqn_store_next(s, slots[i], &sqn), IMS_OK);
    assert_int_equal(sqn, 250 * 32);
    assert_true(hss_sqn_store_writes(s) <= 4);
    hss_sqn_store_free(s);

    /* a line for an IMPI not configured any more is kept */
    fp = fopen(path, "a");
    assert_non_null(fp);
    fputs("gone@x 999968\n", fp);
    fclose(fp);
    s = hss_sqn_store_new(path, 100, false);
    assert_int_equal(hss_sqn_store_load(s, err, sizeof(err)), IMS_OK);
    slots[0] = hss_sqn_store_attach(s, "user0@x", 0);
    assert_true(hss_sqn_store_current(s, slots[0]) >= 250 * 32);
    assert_int_equal(hss_sqn_store_next(s, slots[0], &sqn), IMS_OK);
    hss_sqn_store_free(s);
    s = hss_sqn_store_new(path, 100, false);
    assert_int_equal(hss_sqn_store_load(s, err, sizeof(err)), IMS_OK);
    assert_int_equal(hss_sqn_store_current(s, hss_sqn_store_attach(s, "gone@x", 0)), 999968);
    hss_sqn_store_free(s);

    /* a malformed file stops the start */
    write_file_text(path, "user0@x 12\nuser1@x twelve\n");
    s = hss_sqn_store_new(path, 100, false);
    assert_int_equal(hss_sqn_store_load(s, err, sizeof(err)), IMS_ERROR);
    assert_non_null(strstr(err, ":2:"));
    hss_sqn_store_free(s);
}

/* ---- AKA: vectors, resync, redraw ---- */

/* What a USIM at sqn_ms makes of item: IMS_AKA_OK etc.; RES/CK/IK must match. */
static ims_aka_verdict_t ue_check(const cx_auth_item_t *it, uint64_t sqn_ms,
                                  ims_aka_ue_result_t *r)
{
    ims_milenage_t m = { 0 };
    uint8_t k[16], op[16];
    ims_aka_verdict_t v;

    memcpy(k, "imscore-lab-key1", 16);
    memcpy(op, "imscore-lab-op-1", 16);
    assert_int_equal(ims_milenage_init_op(&m, k, op), IMS_OK);
    assert_int_equal(it->authenticate_len, 32);
    v = ims_aka_ue_check(&m, it->authenticate, it->authenticate + 16, sqn_ms, r);
    if (v == IMS_AKA_OK) {
        assert_int_equal(it->authorization_len, 8);
        assert_memory_equal(r->res, it->authorization, 8);
        assert_memory_equal(r->ck, it->ck, 16);
        assert_memory_equal(r->ik, it->ik, 16);
    }
    ims_milenage_fini(&m);
    return v;
}

static void make_auts(const uint8_t rand[16], uint64_t sqn_ms, uint8_t out[30])
{
    ims_milenage_t m = { 0 };

    assert_int_equal(ims_milenage_init_op(&m, (const uint8_t *)"imscore-lab-key1",
                                          (const uint8_t *)"imscore-lab-op-1"), IMS_OK);
    memcpy(out, rand, 16);
    assert_int_equal(ims_aka_auts_make(&m, rand, sqn_ms, out + 16), IMS_OK);
    ims_milenage_fini(&m);
}

static void test_aka_vectors(void **state)
{
    fx_t *f = *state;
    hss_sub_t *sub = hss_ctx_find_impi(f->ctx, "001010000000007@ims.test");
    cx_maa_t a;
    ims_aka_ue_result_t r;
    cx_result_t res;

    res = hss_auth_aka(f->ctx, sub, NULL, 0, 3, &a);
    assert_int_equal(res.code, DIA_SUCCESS);
    assert_int_equal(a.nitems, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(a.items[i].scheme, "Digest-AKAv1-MD5");
        assert_int_equal(ue_check(&a.items[i], 1, &r), IMS_AKA_OK);
        assert_int_equal(r.sqn, 32u * (unsigned)(i + 1));     /* configured SQN 1: SEQ 1.. */
        assert_int_equal(r.amf[0], 0x80);
    }
    /* more than CX_MAX_AUTH_ITEMS asked: capped */
    assert_int_equal(hss_auth_aka(f->ctx, sub, NULL, 0, 99, &a).code, DIA_SUCCESS);
    assert_int_equal(a.nitems, CX_MAX_AUTH_ITEMS);
}

static void test_aka_resync(void **state)
{
    fx_t *f = *state;
    hss_sub_t *sub = hss_ctx_find_impi(f->ctx, "001010000000009@ims.test");
    cx_maa_t a;
    ims_aka_ue_result_t r;
    uint8_t auth[30], rand1[16];
    uint64_t sqn_ms = 32 * 5000;   /* the UE is far ahead (e.g. HSS state lost) */

    assert_int_equal(hss_auth_aka(f->ctx, sub, NULL, 0, 1, &a).code, DIA_SUCCESS);
    assert_int_equal(ue_check(&a.items[0], sqn_ms, &r), IMS_AKA_SYNC_FAILURE);
    memcpy(rand1, a.items[0].authenticate, 16);
    memcpy(auth, rand1, 16);
    memcpy(auth + 16, r.auts, 14);

    /* MAC-S spoiled: rejected, SQN unchanged */
    auth[29] ^= 1;
    assert_int_equal(hss_auth_aka(f->ctx, sub, auth, 30, 1, &a).code, 4001);
    auth[29] ^= 1;
    /* wrong length: 5004 */
    assert_int_equal(hss_auth_aka(f->ctx, sub, auth, 29, 1, &a).code, DIA_INVALID_AVP_VALUE);
    /* a good AUTS: the next vector is acceptable to the UE again */
    assert_int_equal(hss_auth_aka(f->ctx, sub, auth, 30, 1, &a).code, DIA_SUCCESS);
    assert_int_equal(ue_check(&a.items[0], sqn_ms, &r), IMS_AKA_OK);
    assert_int_equal(r.sqn, ims_aka_sqn_next(sqn_ms));
    assert_int_equal(f->ctx->stats.resyncs, 1);
    /* the same AUTS again (a replay): its RAND is forgotten, rejected */
    assert_int_equal(hss_auth_aka(f->ctx, sub, auth, 30, 1, &a).code, 4001);
    /* an AUTS made for a RAND the HSS never issued */
    memset(rand1, 0x5a, 16);
    make_auts(rand1, sqn_ms, auth);
    assert_int_equal(hss_auth_aka(f->ctx, sub, auth, 30, 1, &a).code, 4001);

    /* a UE slightly behind the HSS: the HSS keeps its own SQN (33.102 §6.3.5) */
    assert_int_equal(hss_auth_aka(f->ctx, sub, NULL, 0, 1, &a).code, DIA_SUCCESS);
    assert_int_equal(ue_check(&a.items[0], 0, &r), IMS_AKA_OK);
    make_auts(a.items[0].authenticate, r.sqn - 64, auth);
    assert_int_equal(hss_auth_aka(f->ctx, sub, auth, 30, 1, &a).code, DIA_SUCCESS);
    assert_int_equal(ue_check(&a.items[0], 0, &r), IMS_AKA_OK);
    assert_int_equal(r.sqn, ims_aka_sqn_next(sqn_ms) + 64);
}

/* The resync survives a restart: the store continues above the resynced SQN. */
static void test_aka_resync_restart(void **state)
{
    fx_t *f = *state;
    hss_sub_t *sub = hss_ctx_find_impi(f->ctx, "001010000000011@ims.test");
    cx_maa_t a;
    ims_aka_ue_result_t r;
    uint8_t auth[30];
    uint64_t sqn_ms = 32 * 100000, last;

    assert_int_equal(hss_auth_aka(f->ctx, sub, NULL, 0, 1, &a).code, DIA_SUCCESS);
    make_auts(a.items[0].authenticate, sqn_ms, auth);
    assert_int_equal(hss_auth_aka(f->ctx, sub, auth, 30, 1, &a).code, DIA_SUCCESS);
    assert_int_equal(ue_check(&a.items[0], sqn_ms, &r), IMS_AKA_OK);
    last = r.sqn;
    free_ctx(f->ctx);
    f->ctx = load_ctx(f, base_cfg, 1000);
    sub = hss_ctx_find_impi(f->ctx, "001010000000011@ims.test");
    assert_int_equal(hss_auth_aka(f->ctx, sub, NULL, 0, 1, &a).code, DIA_SUCCESS);
    assert_int_equal(ue_check(&a.items[0], last, &r), IMS_AKA_OK);
    assert_true(r.sqn > last);
}

static void test_redraw_zero_res(void **state)
{
    fx_t *f = *state;
    hss_sub_t *sub = hss_ctx_find_impi(f->ctx, "001010000000002@ims.test");
    cx_maa_t a;

    f->ctx->test_redraw_zero_res = true;
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(hss_auth_aka(f->ctx, sub, NULL, 0, 1, &a).code, DIA_SUCCESS);
        assert_null(memchr(a.items[0].authorization, 0, 8));
    }
    /* about 3 % of XRES hold a zero octet: P(no redraw in 2000) ~ 1e-27 */
    assert_true(f->ctx->stats.redraws > 0);
    assert_int_equal(f->ctx->stats.vectors, 2000);
}

static void test_digest(void **state)
{
    fx_t *f = *state;
    cx_mar_t r;
    cx_maa_t a;

    memset(&r, 0, sizeof(r));
    snprintf(r.impi, sizeof(r.impi), "alice@ims.test");
    snprintf(r.impu, sizeof(r.impu), "sip:alice@ims.test");
    snprintf(r.item.scheme, sizeof(r.item.scheme), "SIP Digest");
    snprintf(r.server_name, sizeof(r.server_name), "sip:scscf.ims.test");
    r.num_items = 1;
    hss_mar(f->ctx, &r, &a);
    assert_int_equal(a.result.code, DIA_SUCCESS);
    assert_true(a.items[0].has_digest);
    /* MD5("alice@ims.test:ims.test:pw"), computed independently */
    assert_string_equal(a.items[0].digest_ha1, "74b8a01939801e40dfaf7d676415b8b6");
    assert_string_equal(a.items[0].digest_realm, "ims.test");
    assert_string_equal(a.items[0].digest_algorithm, "MD5");
    assert_string_equal(a.items[0].digest_qop, "auth");
    assert_string_equal(hss_ctx_find_impi(f->ctx, "alice@ims.test")->pending_scscf,
                        "sip:scscf.ims.test");
    /* "Unknown" gets the subscriber's default; bob has no AKA keys */
    snprintf(r.item.scheme, sizeof(r.item.scheme), "Unknown");
    snprintf(r.impi, sizeof(r.impi), "bob@ims.test");
    snprintf(r.impu, sizeof(r.impu), "sip:bob@ims.test");
    hss_mar(f->ctx, &r, &a);
    assert_int_equal(a.result.code, DIA_SUCCESS);
    assert_string_equal(a.items[0].scheme, "SIP Digest");
    snprintf(r.item.scheme, sizeof(r.item.scheme), "Digest-AKAv1-MD5");
    hss_mar(f->ctx, &r, &a);
    assert_true(a.result.experimental);
    assert_int_equal(a.result.code, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
    snprintf(r.item.scheme, sizeof(r.item.scheme), "NASS-Bundled");
    hss_mar(f->ctx, &r, &a);
    assert_int_equal(a.result.code, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
}

/* ---- UAR / SAR / LIR ---- */

static cx_result_t uar(hss_ctx_t *ctx, const char *impi, const char *impu, uint32_t type,
                       cx_uaa_t *a)
{
    cx_uar_t r;

    memset(&r, 0, sizeof(r));
    snprintf(r.impi, sizeof(r.impi), "%s", impi);
    snprintf(r.impu, sizeof(r.impu), "%s", impu);
    r.auth_type = type;
    hss_uar(ctx, &r, a);
    return a->result;
}

static cx_result_t sar(hss_ctx_t *ctx, const char *impi, cx_sat_t type, const char *server,
                       cx_saa_t *a)
{
    cx_sar_t r;

    memset(&r, 0, sizeof(r));
    snprintf(r.impi, sizeof(r.impi), "%s", impi);
    snprintf(r.server_name, sizeof(r.server_name), "%s", server);
    r.type = type;
    hss_sar(ctx, &r, a);
    return a->result;
}

static cx_result_t lir(hss_ctx_t *ctx, const char *impu, cx_lia_t *a)
{
    cx_lir_t r;

    memset(&r, 0, sizeof(r));
    snprintf(r.impu, sizeof(r.impu), "%s", impu);
    hss_lir(ctx, &r, a);
    return a->result;
}

#define ASSERT_RES(r, c, e)                          \
    do {                                             \
        cx_result_t r_ = (r);                        \
        assert_int_equal(r_.code, (c));              \
        assert_int_equal(r_.experimental, (e));      \
    } while (0)

static void test_uar(void **state)
{
    hss_ctx_t *ctx = ((fx_t *)*state)->ctx;
    cx_uaa_t a;
    cx_saa_t s;
    const char *u1 = "001010000000001@ims.test", *p1 = "sip:001010000000001@ims.test";

    ASSERT_RES(uar(ctx, "nobody@ims.test", p1, 0, &a), CX_ERROR_USER_UNKNOWN, true);
    ASSERT_RES(uar(ctx, u1, "sip:nobody@ims.test", 0, &a), CX_ERROR_USER_UNKNOWN, true);
    ASSERT_RES(uar(ctx, u1, "sip:alice@ims.test", 0, &a), CX_ERROR_IDENTITIES_DONT_MATCH, true);
    ASSERT_RES(uar(ctx, "alice@ims.test", "tel:+100", 0, &a), 5003, false);   /* barred */
    ASSERT_RES(uar(ctx, u1, p1, 1, &a), CX_ERROR_IDENTITY_NOT_REGISTERED, true);
    ASSERT_RES(uar(ctx, u1, p1, 0, &a), CX_FIRST_REGISTRATION, true);
    assert_true(a.has_caps);
    assert_int_equal(a.caps.nmandatory, 1);
    assert_int_equal(a.caps.noptional, 2);
    assert_int_equal(a.caps.nserver_names, 1);
    assert_string_equal(a.caps.server_name[0], "sip:scscf.ims.test");
    assert_string_equal(a.server_name, "");
    ASSERT_RES(uar(ctx, u1, p1, 7, &a), DIA_INVALID_AVP_VALUE, false);
    ASSERT_RES(sar(ctx, u1, CX_SAT_REGISTRATION, "sip:s1", &s), DIA_SUCCESS, false);
    ASSERT_RES(uar(ctx, u1, "tel:+15550000001", 0, &a), CX_SUBSEQUENT_REGISTRATION, true);
    assert_string_equal(a.server_name, "sip:s1");
    ASSERT_RES(uar(ctx, u1, p1, 2, &a), CX_FIRST_REGISTRATION, true);   /* REG_AND_CAPS */
    assert_true(a.has_caps);
    ASSERT_RES(uar(ctx, u1, p1, 1, &a), DIA_SUCCESS, false);
    assert_string_equal(a.server_name, "sip:s1");
}

/* Every Server-Assignment-Type, from a registered user: state after, data or not. */
static void test_sar_all_types(void **state)
{
    hss_ctx_t *ctx = ((fx_t *)*state)->ctx;
    const char *u = "alice@ims.test";
    hss_sub_t *sub = hss_ctx_find_impi(ctx, u);
    static const struct {
        cx_sat_t type;
        hss_reg_state_t state;
        bool keeps_name, data;
    } cases[] = {
        { CX_SAT_NO_ASSIGNMENT, HSS_REGISTERED, true, true },
        { CX_SAT_REGISTRATION, HSS_REGISTERED, true, true },
        { CX_SAT_RE_REGISTRATION, HSS_REGISTERED, true, true },
        { CX_SAT_UNREGISTERED_USER, HSS_UNREGISTERED, true, true },
        { CX_SAT_TIMEOUT_DEREGISTRATION, HSS_NOT_REGISTERED, false, false },
        { CX_SAT_USER_DEREGISTRATION, HSS_NOT_REGISTERED, false, false },
        { CX_SAT_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME, HSS_NOT_REGISTERED, true, false },
        { CX_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME, HSS_NOT_REGISTERED, true, false },
        { CX_SAT_ADMINISTRATIVE_DEREGISTRATION, HSS_NOT_REGISTERED, false, false },
        { CX_SAT_AUTHENTICATION_FAILURE, HSS_NOT_REGISTERED, false, false },
        { CX_SAT_AUTHENTICATION_TIMEOUT, HSS_NOT_REGISTERED, false, false },
        { CX_SAT_DEREGISTRATION_TOO_MUCH_DATA, HSS_NOT_REGISTERED, false, false },
    };
    cx_saa_t a;

    for (size_t i = 0; i < IMS_ARRAY_LEN(cases); i++) {
        ASSERT_RES(sar(ctx, u, CX_SAT_REGISTRATION, "sip:s1", &a), DIA_SUCCESS, false);
        hss_sub_set_pending(sub, "sip:s2");
        ASSERT_RES(sar(ctx, u, cases[i].type, "sip:s1", &a), DIA_SUCCESS, false);
        assert_int_equal(sub->state, cases[i].state);
        assert_int_equal(sub->scscf != NULL, cases[i].keeps_name);
        assert_int_equal(a.user_data != NULL, cases[i].data);
        if (cases[i].data)
            assert_non_null(strstr(a.user_data, "<Identity>sip:alice@ims.test</Identity>"));
        assert_string_equal(a.impi, u);
        if (cases[i].type != CX_SAT_NO_ASSIGNMENT)
            assert_null(sub->pending_scscf);
    }
    /* 12..14 are not Cx types */
    ASSERT_RES(sar(ctx, u, (cx_sat_t)12, "sip:s1", &a), CX_ERROR_IN_ASSIGNMENT_TYPE, true);
    ASSERT_RES(sar(ctx, "nobody@x", CX_SAT_REGISTRATION, "sip:s1", &a),
               CX_ERROR_USER_UNKNOWN, true);
    /* User-Data-Already-Available: no data, state still changes */
    {
        cx_sar_t r;

        memset(&r, 0, sizeof(r));
        snprintf(r.impu[r.nimpu++], CX_STR, "sip:alice@ims.test");
        snprintf(r.server_name, sizeof(r.server_name), "sip:s3");
        r.type = CX_SAT_RE_REGISTRATION;
        r.user_data_already_available = 1;
        hss_sar(ctx, &r, &a);
        ASSERT_RES(a.result, DIA_SUCCESS, false);
        assert_null(a.user_data);
        assert_string_equal(sub->scscf, "sip:s3");
        snprintf(r.impu[r.nimpu++], CX_STR, "sip:bob@ims.test");
        hss_sar(ctx, &r, &a);
        ASSERT_RES(a.result, CX_ERROR_IDENTITIES_DONT_MATCH, true);
    }
}

static void test_lir(void **state)
{
    hss_ctx_t *ctx = ((fx_t *)*state)->ctx;
    cx_lia_t a;
    cx_saa_t s;

    ASSERT_RES(lir(ctx, "sip:nobody@ims.test", &a), CX_ERROR_USER_UNKNOWN, true);
    /* not registered, no unregistered services */
    ASSERT_RES(lir(ctx, "tel:+15550000003", &a), CX_ERROR_IDENTITY_NOT_REGISTERED, true);
    /* not registered, with an iFC for the unregistered state: capabilities */
    ASSERT_RES(lir(ctx, "sip:alice@ims.test", &a), CX_UNREGISTERED_SERVICE, true);
    assert_true(a.has_caps);
    /* ... or the S-CSCF name kept by a *_STORE_SERVER_NAME de-registration */
    sar(ctx, "alice@ims.test", CX_SAT_REGISTRATION, "sip:s1", &s);
    sar(ctx, "alice@ims.test", CX_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME, "sip:s1", &s);
    ASSERT_RES(lir(ctx, "tel:+100", &a), CX_UNREGISTERED_SERVICE, true);
    assert_string_equal(a.server_name, "sip:s1");
    assert_false(a.has_caps);
    /* registered (and unregistered-assigned): the server name */
    sar(ctx, "001010000000003@ims.test", CX_SAT_REGISTRATION, "sip:s9", &s);
    ASSERT_RES(lir(ctx, "tel:+15550000003", &a), DIA_SUCCESS, false);
    assert_string_equal(a.server_name, "sip:s9");
    sar(ctx, "001010000000003@ims.test", CX_SAT_USER_DEREGISTRATION, "sip:s9", &s);
    ASSERT_RES(lir(ctx, "tel:+15550000003", &a), CX_ERROR_IDENTITY_NOT_REGISTERED, true);
    sar(ctx, "001010000000003@ims.test", CX_SAT_UNREGISTERED_USER, "sip:s9", &s);
    ASSERT_RES(lir(ctx, "tel:+15550000003", &a), DIA_SUCCESS, false);
}

static void test_scscf_names(void **state)
{
    hss_ctx_t *ctx = ((fx_t *)*state)->ctx;

    assert_non_null(hss_ctx_scscf_by_name(ctx, "sip:scscf.ims.test"));
    assert_non_null(hss_ctx_scscf_by_name(ctx, "sip:scscf.ims.test:5060"));
    assert_non_null(hss_ctx_scscf_by_name(ctx, "sip:scscf.ims.test;transport=tcp"));
    assert_null(hss_ctx_scscf_by_name(ctx, "sip:scscf.ims.test:5070"));
    assert_null(hss_ctx_scscf_by_name(ctx, "sip:scscf2.ims.test"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_range_expansion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqn_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqn_batching_and_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aka_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aka_resync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aka_resync_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redraw_zero_res, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sar_all_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scscf_names, setup, teardown),
    };

    ims_log_init("test_hss", IMS_LOG_WARN, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
