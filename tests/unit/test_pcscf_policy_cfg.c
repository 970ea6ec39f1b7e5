/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The policy client's configuration (pcscf/policy-cfg.c) from real files:
 * a single backend as before (and "none": no table, no hooks); backends per
 * access type (pcscf.policy.access) started once each into one table, the
 * rule a P-Access-Network-Info value matches (TS 24.229 §7.2A.4 access-types,
 * prefix up to a '-', any case, parameters ignored) and the backend a UE gets
 * from it, "none" per access type and as the default; configurations refused
 * with the key named (an unknown backend, a rule without its backend, an
 * access-type with a blank); a backend that cannot start failing the whole
 * start; and the stop ending the sessions still open at their servers.
 * Backends are fakes named "rx" and "n5" (policy-rx.c and policy-n5.c need
 * their servers: the integration tests run them).
 *
 * The pcscf/ sources are compiled into this program (the daemon is not a library).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcscf/policy-cfg.c"
#include "pcscf/policy.c"

/* ---- fakes: backends, and what policy-sip.c / policy-req.c provide ---- */

static struct {
    int started, freed, released;
} g;
static bool g_fail_n5;

static int fake_authorize(void *be, uint64_t ticket, const pcscf_policy_req_t *r)
{
    return IMS_OK;
}

static void fake_release(void *be, const char *ref)
{
    g.released++;
}

static void fake_free(void *be)
{
    g.freed++;
}

static const pcscf_policy_backend_t rx_fake = {
    .name = "rx", .authorize = fake_authorize, .release = fake_release, .free = fake_free,
};
static const pcscf_policy_backend_t n5_fake = {
    .name = "n5", .authorize = fake_authorize, .release = fake_release, .free = fake_free,
};

int pcscf_policy_rx_new(struct ims_conf *conf, const char *section, ims_loop_t *loop,
                        uint32_t timeout_ms, const pcscf_policy_backend_t **ops, void **be,
                        char *err, size_t errlen)
{
    assert_string_equal(section, "pcscf.policy.rx");
    g.started++;
    *ops = &rx_fake;
    *be = NULL;
    return IMS_OK;
}

int pcscf_policy_n5_new(struct ims_conf *conf, const char *section, ims_loop_t *loop,
                        uint32_t timeout_ms, const pcscf_policy_backend_t **ops, void **be,
                        char *err, size_t errlen)
{
    assert_string_equal(section, "pcscf.policy.n5");
    if (g_fail_n5) {
        snprintf(err, errlen, "n5: no PCF");
        return IMS_ERROR;
    }
    g.started++;
    *ops = &n5_fake;
    *be = NULL;
    return IMS_OK;
}

static void no_result(void *arg, pcscf_policy_sess_t *s, bool update,
                      const pcscf_policy_result_t *res)
{
}

static void no_release(void *arg, pcscf_policy_sess_t *s, const char *why)
{
}

const pcscf_policy_hooks_t pcscf_psip_hooks = { .on_response = NULL };
const pcscf_policy_owner_t pcscf_psip_owner = { no_result, no_release };

void pcscf_psip_leg_gone(pcscf_psip_t *ps, const char *key)
{
}

/* ---- helpers ---- */

static pcscf_ctx_t g_ctx;
static ims_conf_t *g_conf;
static char g_path[64];

/* Start the policy client from "pcscf = { policy = { <policy> }; };". */
static int start(const char *policy)
{
    char err[256], text[2048];
    FILE *f;
    int fd, rc;

    memset(&g, 0, sizeof(g));
    memset(&g_ctx, 0, sizeof(g_ctx));
    snprintf(g_path, sizeof(g_path), "/tmp/ims-test-policy-cfg-XXXXXX");
    fd = mkstemp(g_path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    snprintf(text, sizeof(text), "pcscf = { policy = { %s }; };\n", policy);
    fputs(text, f);
    fclose(f);
    g_conf = ims_conf_load(g_path, err, sizeof(err));
    assert_non_null(g_conf);
    rc = pcscf_policy_start(&g_ctx, g_conf);
    return rc;
}

static void finish(void)
{
    pcscf_policy_stop(&g_ctx);
    assert_null(g_ctx.policy);
    assert_null(g_ctx.policy_hooks);
    ims_conf_free(g_conf);
    unlink(g_path);
}

/* The backend index a UE registered with PANI pani gets. */
static int backend_for(const char *pani)
{
    pcscf_psip_t *ps = pcscf_psip_of(&g_ctx);
    pcscf_ue_t ue;

    memset(&ue, 0, sizeof(ue));
    ue.policy_access = pcscf_psip_access_of(ps, pani);
    return pcscf_psip_backend_of(ps, &ue);
}

/* ---- tests ---- */

static void test_single(void **state)
{
    assert_int_equal(start("backend = \"rx\"; timeout_ms = 300; release_ms = 0;"), IMS_OK);
    assert_non_null(g_ctx.policy);
    assert_ptr_equal(g_ctx.policy_hooks, &pcscf_psip_hooks);
    assert_int_equal(g.started, 1);
    assert_string_equal(pcscf_policy_backend_name(g_ctx.policy), "rx");
    assert_int_equal(pcscf_policy_cfg(g_ctx.policy)->timeout_ms, 300);
    assert_int_equal(backend_for("3GPP-NR-FDD"), 0);   /* one backend serves all */
    assert_int_equal(backend_for(NULL), 0);
    assert_int_equal(pcscf_psip_of(&g_ctx)->retry_after_s, PCSCF_POLICY_RETRY_AFTER_S);
    finish();
    assert_int_equal(g.freed, 1);
}

static void test_none(void **state)
{
    assert_int_equal(start("timeout_ms = 300;"), IMS_OK);
    assert_null(g_ctx.policy);
    assert_null(g_ctx.policy_hooks);
    assert_int_equal(g.started, 0);
    finish();
    assert_int_equal(start("backend = \"none\"; access = ( { pani = \"3GPP-NR\";"
                           " backend = \"none\"; } );"), IMS_OK);
    assert_null(g_ctx.policy);
    finish();
}

static void test_access(void **state)
{
    assert_int_equal(start("backend = \"rx\"; access = ("
                           " { pani = \"3GPP-NR\"; backend = \"n5\"; },"
                           " { pani = \"3GPP-E-UTRAN\"; backend = \"rx\"; },"
                           " { pani = \"IEEE-802.11\"; backend = \"none\"; } );"), IMS_OK);
    assert_int_equal(g.started, 2);     /* rx once, whatever the rules say */
    assert_string_equal(pcscf_policy_backend_name(g_ctx.policy), "rx+n5");
    assert_int_equal(pcscf_psip_access_of(pcscf_psip_of(&g_ctx), "3GPP-NR-FDD; nrcgi=1"), 1);
    assert_int_equal(backend_for("3GPP-NR-FDD; nrcgi=001010000000001"), 1);
    assert_int_equal(backend_for("3GPP-NR-TDD"), 1);
    assert_int_equal(backend_for("3GPP-NR"), 1);
    assert_int_equal(backend_for("3gpp-nr-fdd;nrcgi=1"), 1);        /* tokens: any case */
    assert_int_equal(backend_for("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=0010100010019B"), 0);
    assert_int_equal(pcscf_psip_access_of(pcscf_psip_of(&g_ctx), " 3GPP-E-UTRAN-TDD"), 2);
    assert_int_equal(backend_for("3GPP-NRX-FDD"), 0);      /* not 3GPP-NR: the default */
    assert_int_equal(backend_for("3GPP-N"), 0);
    assert_int_equal(backend_for("3GPP-UTRAN-FDD; utran-cell-id-3gpp=1"), 0);
    assert_int_equal(backend_for("IEEE-802.11; i-wlan-node-id=ffeeddccbbaa"), -1);
    assert_int_equal(backend_for(""), 0);
    assert_int_equal(backend_for(NULL), 0);
    finish();
    assert_int_equal(g.freed, 2);
    /* No default: only the access types named get policy. */
    assert_int_equal(start("access = ( { pani = \"3GPP-NR\"; backend = \"n5\"; } );"), IMS_OK);
    assert_string_equal(pcscf_policy_backend_name(g_ctx.policy), "n5");
    assert_int_equal(backend_for("3GPP-NR-FDD"), 0);
    assert_int_equal(backend_for("3GPP-E-UTRAN-FDD"), -1);
    finish();
}

static void test_refused(void **state)
{
    static const char *const bad[] = {
        "backend = \"diameter\";",
        "backend = 5;",
        "timeout_ms = 10; backend = \"rx\";",
        "backend = \"rx\"; access = ( { pani = \"3GPP-NR\"; } );",
        "backend = \"rx\"; access = ( { backend = \"n5\"; } );",
        "backend = \"rx\"; access = ( { pani = \"3GPP NR\"; backend = \"n5\"; } );",
        "backend = \"rx\"; access = ( { pani = \"\"; backend = \"n5\"; } );",
        "backend = \"rx\"; access = ( { pani = \"3GPP-NR\"; backend = \"pcf\"; } );",
    };

    for (size_t i = 0; i < IMS_ARRAY_LEN(bad); i++) {
        assert_int_equal(start(bad[i]), IMS_ERROR);
        assert_null(g_ctx.policy);
        assert_int_equal(g.freed, g.started);   /* what started is gone again */
        finish();
    }
}

/* The second backend does not start: the first does not stay either. */
static void test_backend_fails(void **state)
{
    g_fail_n5 = true;
    assert_int_equal(start("backend = \"rx\"; access = ( { pani = \"3GPP-NR\";"
                           " backend = \"n5\"; } );"), IMS_ERROR);
    g_fail_n5 = false;
    assert_null(g_ctx.policy);
    assert_int_equal(g.started, 1);
    assert_int_equal(g.freed, 1);       /* rx, started first, freed again */
    finish();
}

static void test_stop_releases(void **state)
{
    pcscf_policy_req_t q = { .impu = "sip:a@x", .ue_ip = "10.0.0.1", .backend = 1 };
    pcscf_policy_result_t ok = { PCSCF_POLICY_OK, 201, false };
    pcscf_policy_sess_t *s;

    assert_int_equal(start("backend = \"rx\"; access = ( { pani = \"3GPP-NR\";"
                           " backend = \"n5\"; } );"), IMS_OK);
    s = pcscf_policy_authorize(g_ctx.policy, "o|c|1", &q);
    assert_non_null(s);
    assert_int_equal(pcscf_policy_answered(g_ctx.policy, s->ticket, "app-1", &ok), IMS_OK);
    q.backend = 0;
    s = pcscf_policy_authorize(g_ctx.policy, "r|u:10.0.0.1:5060", &q);
    assert_int_equal(pcscf_policy_answered(g_ctx.policy, s->ticket, "sid-1", &ok), IMS_OK);
    assert_non_null(pcscf_policy_authorize(g_ctx.policy, "o|c|2", &q));   /* pending */
    finish();
    assert_int_equal(g.released, 2);    /* the open ones, each at its server */
    assert_int_equal(g.freed, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_access),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_backend_fails),
        cmocka_unit_test(test_stop_releases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
