/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-hss open5gs_mode, the HSS the I-CSCF's default S-CSCF exists for:
 * the same subscribers answered with and without the mode. With it, a first
 * registration's UAA is Experimental 2001 with neither Server-Name nor
 * Server-Capabilities (a subsequent one still names the S-CSCF), and MAR serves
 * Digest-AKAv1-MD5 only: "SIP Digest" -> 5006, "Unknown" means AKA (so a
 * digest-only subscriber gets 5006), AKA itself succeeds. Without the mode the
 * same requests get capabilities and digest vectors, so each check can fail.
 *
 * The hss/ sources are compiled into this program, as in test_hss.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hss/config.c"
#include "hss/context.c"
#include "hss/cx-handler.c"
#include "hss/hss-auth.c"
#include "hss/sqn-store.c"
#include "hss/user-data.c"

#define LAB_K  "696d73636f72652d6c61622d6b657931"
#define LAB_OP "696d73636f72652d6c61622d6f702d31"

typedef struct fx {
    char dir[64], cfg[128], sqn[128];
    hss_ctx_t *ctx;
} fx_t;

static hss_ctx_t *load(fx_t *f, bool open5gs)
{
    char err[512] = "";
    hss_ctx_t *ctx = hss_ctx_new();
    FILE *fp = fopen(f->cfg, "w");

    assert_non_null(fp);
    fprintf(fp,
            "state_dir = \"%s\";\nhome_domain = \"ims.test\";\nopen5gs_mode = %s;\n"
            "diameter = { identity = \"hss.ims.test\"; realm = \"ims.test\";\n"
            "  listen = \"127.0.0.1\"; peers = ( { host = \"icscf.ims.test\"; } ); };\n"
            "scscfs = ( { name = \"sip:scscf.ims.test\"; diameter_host = \"scscf.ims.test\"; } );\n"
            "capabilities = { mandatory = ( 1 ); optional = ( ); server_names = true; };\n"
            "subscribers = (\n"
            "  { impi = \"alice@ims.test\"; impus = ( \"sip:alice@ims.test\" );\n"
            "    k = \"" LAB_K "\"; op = \"" LAB_OP "\"; sqn = 1; password = \"pw\"; },\n"
            "  { impi = \"bob@ims.test\"; impus = ( \"sip:bob@ims.test\" ); password = \"pw\";\n"
            "    auth_scheme = \"digest\"; } );\n",
            f->dir, open5gs ? "true" : "false");
    fclose(fp);
    if (hss_ctx_load(ctx, f->cfg, err, sizeof(err)) != IMS_OK)
        fail_msg("config: %s", err);
    assert_int_equal(ctx->open5gs_mode, open5gs);
    ctx->sqn = hss_sqn_store_new(f->sqn, 100, false);
    assert_int_equal(hss_sqn_store_load(ctx->sqn, err, sizeof(err)), IMS_OK);
    for (size_t i = 0; i < ctx->nsubs; i++)
        ctx->subs[i]->sqn_slot =
            hss_sqn_store_attach(ctx->sqn, ctx->subs[i]->impi, ctx->subs[i]->sqn_start);
    return ctx;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/ims-test-o5gs-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->cfg, sizeof(f->cfg), "%s/hss.cfg", f->dir);
    snprintf(f->sqn, sizeof(f->sqn), "%s/sqn.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[128];

    if (f->ctx) {
        hss_sqn_store_free(f->ctx->sqn);
        hss_ctx_free(f->ctx);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void uar(hss_ctx_t *ctx, const char *impi, const char *impu, cx_uaa_t *a)
{
    cx_uar_t r = { .auth_type = 0 };

    snprintf(r.impi, sizeof(r.impi), "%s", impi);
    snprintf(r.impu, sizeof(r.impu), "%s", impu);
    snprintf(r.visited_network, sizeof(r.visited_network), "ims.test");
    hss_uar(ctx, &r, a);
}

static cx_result_t mar(hss_ctx_t *ctx, const char *impi, const char *scheme)
{
    cx_mar_t r = { .num_items = 1 };
    cx_maa_t a;

    snprintf(r.impi, sizeof(r.impi), "%s", impi);
    snprintf(r.impu, sizeof(r.impu), "sip:%s", impi);
    snprintf(r.server_name, sizeof(r.server_name), "sip:scscf.ims.test");
    snprintf(r.item.scheme, sizeof(r.item.scheme), "%s", scheme);
    hss_mar(ctx, &r, &a);
    if (a.result.code == DIA_SUCCESS) {
        bool explicit = *scheme && strcmp(scheme, "Unknown") != 0;

        assert_int_equal(a.nitems, 1);
        if (explicit)
            assert_string_equal(a.items[0].scheme, scheme);
        else if (ctx->open5gs_mode)
            assert_string_equal(a.items[0].scheme, HSS_AKA_SCHEME);
    }
    return a.result;
}

static void result_is(cx_result_t r, uint32_t code, bool exp)
{
    if (r.code != code || r.experimental != exp)
        fail_msg("result %u%s, want %u%s", r.code, r.experimental ? " (exp)" : "", code,
                 exp ? " (exp)" : "");
}

static void test_uaa_first_registration(void **state)
{
    fx_t *f = *state;
    cx_uaa_t a;

    f->ctx = load(f, false);
    uar(f->ctx, "alice@ims.test", "sip:alice@ims.test", &a);
    result_is(a.result, CX_FIRST_REGISTRATION, true);
    assert_true(a.has_caps);
    assert_int_equal(a.caps.nmandatory, 1);
    hss_sqn_store_free(f->ctx->sqn);
    hss_ctx_free(f->ctx);

    f->ctx = load(f, true);
    uar(f->ctx, "alice@ims.test", "sip:alice@ims.test", &a);
    result_is(a.result, CX_FIRST_REGISTRATION, true);
    assert_false(a.has_caps);
    assert_string_equal(a.server_name, "");
    /* errors are unchanged */
    uar(f->ctx, "nobody@ims.test", "sip:nobody@ims.test", &a);
    result_is(a.result, CX_ERROR_USER_UNKNOWN, true);
    /* once assigned, the HSS names the S-CSCF as open5gs does (2002 + Server-Name) */
    hss_sub_set_scscf(hss_ctx_find_impi(f->ctx, "alice@ims.test"), "sip:scscf.ims.test");
    uar(f->ctx, "alice@ims.test", "sip:alice@ims.test", &a);
    result_is(a.result, CX_SUBSEQUENT_REGISTRATION, true);
    assert_string_equal(a.server_name, "sip:scscf.ims.test");
}

static void test_mar_schemes(void **state)
{
    fx_t *f = *state;

    f->ctx = load(f, false);
    result_is(mar(f->ctx, "alice@ims.test", HSS_DIGEST_SCHEME), DIA_SUCCESS, false);
    result_is(mar(f->ctx, "bob@ims.test", "Unknown"), DIA_SUCCESS, false);
    hss_sqn_store_free(f->ctx->sqn);
    hss_ctx_free(f->ctx);

    f->ctx = load(f, true);
    result_is(mar(f->ctx, "alice@ims.test", HSS_DIGEST_SCHEME), CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED,
              true);
    result_is(mar(f->ctx, "bob@ims.test", "Unknown"), CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED, true);
    result_is(mar(f->ctx, "alice@ims.test", HSS_AKA_SCHEME), DIA_SUCCESS, false);
    result_is(mar(f->ctx, "alice@ims.test", "Unknown"), DIA_SUCCESS, false);
    result_is(mar(f->ctx, "alice@ims.test", ""), DIA_SUCCESS, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_uaa_first_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mar_schemes, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
