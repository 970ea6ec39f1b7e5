/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The per-UE event log (common/ops/uelog.c) and the S-CSCF's diagnosis on top
 * of it (scscf/diagnose.c):
 *  - the ring: at most IMS_UELOG_EVENTS per UE, the oldest overwritten, read
 *    back oldest first, details truncated;
 *  - the UE table: fixed size, the least recently recorded UE evicted, the
 *    index still right after many evictions;
 *  - lookup by IMPI, by last IMPU, by address exactly and by host alone (the
 *    most recent of several UEs behind one address), IPv6 forms;
 *  - verdicts for the event sequences the registration paths record, one
 *    attempt at a time, and the "diagnose" command's reply (verdict first, the
 *    events, another IMPU of a registered user, a UE never seen);
 *  - an RTR's de-registration (the event scscf/cx-handler.c records);
 *  - the I-CSCF's verdicts (icscf/diagnose.c): UAA refusals by result (unknown
 *    IMPI, identities, roaming, authorisation), the HSS silent with and
 *    without a Cx connection, no S-CSCF with the capabilities, the S-CSCF's
 *    answer relayed, an LIA's unknown IMPU; and its command's reply.
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

#include "common/core/clock.h"
#include "common/ops/uelog.h"
#include "icscf/diagnose.c"
#include "scscf/context.c"
#include "scscf/diagnose.c"
#include "scscf/regevent.c"
#include "scscf/user-data.c"

/* ---- the log ---- */

static void test_bounds(void **state)
{
    ims_uelog_t *log = ims_uelog_new(4);
    const ims_uelog_ue_t *ue;
    char long_detail[300];
    int n;

    (void)state;
    assert_null(ims_uelog_new(0));
    ims_uelog_add(NULL, "a@x", NULL, NULL, 1, 1, "no log: no-op");
    ims_uelog_add(log, "", NULL, NULL, 1, 1, "no IMPI: ignored");
    assert_int_equal(ims_uelog_count(log), 0);
    ims_clock_drive(true, 5000);
    for (uint32_t i = 0; i < 20; i++) {
        ims_clock_advance(10);
        ims_uelog_add(log, "a@x", NULL, NULL, (uint8_t)(i % 3), i, "event %u", i);
    }
    ue = ims_uelog_find(log, "a@x", &n);
    assert_non_null(ue);
    assert_int_equal(n, 1);
    assert_int_equal(ue->nev, IMS_UELOG_EVENTS);
    for (int i = 0; i < IMS_UELOG_EVENTS; i++) {
        const ims_uelog_event_t *e = ims_uelog_event(ue, i);
        char want[32];

        assert_int_equal(e->code, 20 - IMS_UELOG_EVENTS + i);   /* oldest first */
        assert_int_equal(e->kind, e->code % 3);
        snprintf(want, sizeof(want), "event %u", e->code);
        assert_string_equal(e->detail, want);
        assert_int_equal(e->at_ms, 5000 + 10 * (e->code + 1));
    }
    assert_null(ims_uelog_event(ue, IMS_UELOG_EVENTS));
    assert_null(ims_uelog_event(ue, -1));
    assert_int_equal(ue->last_ms, 5200);
    memset(long_detail, 'd', sizeof(long_detail) - 1);
    long_detail[sizeof(long_detail) - 1] = '\0';
    ims_uelog_add(log, "a@x", NULL, NULL, 0, 0, "%s", long_detail);
    ue = ims_uelog_find(log, "a@x", NULL);
    assert_int_equal(strlen(ims_uelog_event(ue, IMS_UELOG_EVENTS - 1)->detail),
                     IMS_UELOG_DETAIL_MAX - 1);
    assert_int_equal(ims_uelog_count(log), 1);
    ims_clock_drive(false, 0);
    ims_uelog_free(log);
    ims_uelog_free(NULL);
}

static void test_eviction(void **state)
{
    ims_uelog_t *log = ims_uelog_new(3);
    char impi[32];

    (void)state;
    ims_uelog_add(log, "a@x", NULL, NULL, 1, 1, "a");
    ims_uelog_add(log, "b@x", NULL, NULL, 1, 1, "b");
    ims_uelog_add(log, "c@x", NULL, NULL, 1, 1, "c");
    ims_uelog_add(log, "a@x", NULL, NULL, 1, 2, "a again");   /* b is now the oldest */
    ims_uelog_add(log, "d@x", NULL, NULL, 1, 1, "d");
    assert_int_equal(ims_uelog_count(log), 3);
    assert_null(ims_uelog_find(log, "b@x", NULL));
    assert_int_equal(ims_uelog_find(log, "a@x", NULL)->nev, 2);
    assert_non_null(ims_uelog_find(log, "c@x", NULL));
    assert_non_null(ims_uelog_find(log, "d@x", NULL));
    /* an evicted UE comes back empty of its old events */
    ims_uelog_add(log, "b@x", NULL, NULL, 1, 1, "b back");   /* evicts c */
    assert_int_equal(ims_uelog_find(log, "b@x", NULL)->nev, 1);
    assert_null(ims_uelog_find(log, "c@x", NULL));
    /* many evictions: the index keeps exactly the three most recent */
    for (int i = 0; i < 1000; i++) {
        snprintf(impi, sizeof(impi), "u%d@x", i % 37);
        ims_uelog_add(log, impi, NULL, NULL, 1, (uint32_t)i, "x");
    }
    assert_int_equal(ims_uelog_count(log), 3);
    for (int i = 0; i < 37; i++) {
        bool recent = i == 999 % 37 || i == 998 % 37 || i == 997 % 37;

        snprintf(impi, sizeof(impi), "u%d@x", i);
        assert_true((ims_uelog_find(log, impi, NULL) != NULL) == recent);
    }
    ims_uelog_free(log);
}

static void test_lookup(void **state)
{
    ims_uelog_t *log = ims_uelog_new(8);
    const ims_uelog_ue_t *ue;
    char long_impi[200];
    int n;

    (void)state;
    ims_clock_drive(true, 1000);
    ims_uelog_add(log, "a@x", "sip:a@x", "127.0.0.1:5062", 1, 1, "a");
    ims_clock_advance(5);
    ims_uelog_add(log, "b@x", "sip:b@x", "127.0.0.1:5064", 1, 1, "b");
    ims_clock_advance(5);
    ims_uelog_add(log, "c@x", "tel:+1555", "[::1]:5060", 1, 1, "c");
    /* a later event without IMPU or address keeps the last seen */
    ims_uelog_add(log, "a@x", NULL, "", 1, 2, "a, no address");
    assert_string_equal(ims_uelog_find(log, "a@x", &n)->addr, "127.0.0.1:5062");
    assert_int_equal(n, 1);
    assert_string_equal(ims_uelog_find(log, "sip:b@x", &n)->impi, "b@x");
    assert_int_equal(n, 1);
    assert_string_equal(ims_uelog_find(log, "tel:+1555", NULL)->impi, "c@x");
    assert_string_equal(ims_uelog_find(log, "127.0.0.1:5064", &n)->impi, "b@x");
    assert_int_equal(n, 1);
    /* by host: the most recently active of the two (a, just now) */
    ue = ims_uelog_find(log, "127.0.0.1", &n);
    assert_string_equal(ue->impi, "a@x");
    assert_int_equal(n, 2);
    assert_null(ims_uelog_find(log, "127.0.0.1:9999", &n));
    assert_int_equal(n, 0);
    assert_null(ims_uelog_find(log, "127.0.0.", NULL));
    assert_string_equal(ims_uelog_find(log, "::1", NULL)->impi, "c@x");
    assert_string_equal(ims_uelog_find(log, "[::1]", NULL)->impi, "c@x");
    assert_string_equal(ims_uelog_find(log, "[::1]:5060", NULL)->impi, "c@x");
    assert_null(ims_uelog_find(log, "[::1]:5061", NULL));
    /* the IMPU changes with the UE's last REGISTER */
    ims_uelog_add(log, "b@x", "tel:+1666", NULL, 1, 1, "b as tel");
    assert_null(ims_uelog_find(log, "sip:b@x", NULL));
    assert_string_equal(ims_uelog_find(log, "tel:+1666", NULL)->impi, "b@x");
    assert_null(ims_uelog_find(log, "", &n));
    assert_null(ims_uelog_find(log, NULL, &n));
    assert_null(ims_uelog_find(NULL, "a@x", &n));
    /* an IMPI longer than the field is kept, and found, truncated */
    memset(long_impi, 'i', sizeof(long_impi) - 1);
    long_impi[sizeof(long_impi) - 1] = '\0';
    ims_uelog_add(log, long_impi, NULL, NULL, 1, 1, "long");
    ue = ims_uelog_find(log, long_impi, NULL);
    assert_non_null(ue);
    assert_int_equal(strlen(ue->impi), IMS_UELOG_ID_MAX - 1);
    ims_clock_drive(false, 0);
    ims_uelog_free(log);
}

/* ---- verdicts ---- */

typedef struct fx {
    ims_loop_t *loop;
    scscf_ctx_t *ctx;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    scscf_cfg_t c;

    scscf_cfg_defaults(&c);
    snprintf(c.domain, sizeof(c.domain), "ims.test");
    scscf_cfg_finish(&c);
    f->loop = ims_loop_new();
    f->ctx = scscf_ctx_new(f->loop, &c);
    scscf_diag_start(f->ctx);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;

    scscf_diag_stop(f->ctx);
    scscf_ctx_free(f->ctx);
    ims_loop_free(f->loop);
    free(f);
    return 0;
}

static void ev(fx_t *f, const char *impi, scscf_diag_kind_t kind, uint32_t code,
               const char *detail)
{
    scscf_diag(f->ctx, impi, "sip:ue@ims.test", NULL, kind, code, "%s", detail);
}

/* The verdict of impi, checked to start with want. */
static void verdict_is(fx_t *f, const char *impi, const char *want)
{
    char out[320];

    scscf_diag_verdict(ims_uelog_find(f->ctx->uelog, impi, NULL), out, sizeof(out));
    if (strncmp(out, want, strlen(want)) != 0)
        fail_msg("verdict \"%s\", want it to start with \"%s\"", out, want);
}

static void test_verdicts(void **state)
{
    fx_t *f = *state;
    const cx_result_t unknown = { CX_ERROR_USER_UNKNOWN, true };

    ev(f, "ok@x", SCSCF_DIAG_CHALLENGE, 401, "AKA");
    ev(f, "ok@x", SCSCF_DIAG_REGISTERED, 200, "registered");
    verdict_is(f, "ok@x", "registered");

    ev(f, "sqn@x", SCSCF_DIAG_CHALLENGE, 401, "AKA");
    ev(f, "sqn@x", SCSCF_DIAG_RESYNC, 0, "AUTS");
    verdict_is(f, "sqn@x", "SQN out of range: the UE sent AUTS");
    ev(f, "sqn@x", SCSCF_DIAG_CHALLENGE, 401, "AKA");
    verdict_is(f, "sqn@x", "SQN out of range: resynchronised with AUTS; waiting");
    ev(f, "sqn@x", SCSCF_DIAG_REGISTERED, 200, "registered");
    verdict_is(f, "sqn@x", "SQN out of range: resynchronised with AUTS, then registered");
    /* the next attempt is judged alone: the resync belongs to the one before */
    ev(f, "sqn@x", SCSCF_DIAG_REGISTERED, 200, "registered (refreshed)");
    verdict_is(f, "sqn@x", "registered (refreshed)");

    ev(f, "mac@x", SCSCF_DIAG_CHALLENGE, 401, "AKA");
    ev(f, "mac@x", SCSCF_DIAG_MAC_FAILURE, 403, "no response");
    verdict_is(f, "mac@x", "MAC mismatch: the UE's K/OPc differ from the HSS's");

    ev(f, "md5@x", SCSCF_DIAG_CHALLENGE, 401, "SIP Digest");
    verdict_is(f, "md5@x", "challenged (SIP Digest); waiting for the UE's answer");
    ev(f, "md5@x", SCSCF_DIAG_DIGEST_MISMATCH, 401, "attempt 1 of 2");
    ev(f, "md5@x", SCSCF_DIAG_CHALLENGE, 401, "SIP Digest");
    verdict_is(f, "md5@x", "wrong password (digest response mismatch) (1 so far)");
    ev(f, "md5@x", SCSCF_DIAG_DIGEST_MISMATCH, 403, "attempt 2 of 2");
    verdict_is(f, "md5@x", "wrong password (digest response mismatch) (2 wrong answers: 403)");

    ev(f, "res@x", SCSCF_DIAG_CHALLENGE, 401, "AKA");
    ev(f, "res@x", SCSCF_DIAG_RES_MISMATCH, 403, "attempt 1 of 1");
    verdict_is(f, "res@x", "RES mismatch");

    /* no Diameter node at all: down, not a timeout */
    scscf_diag_hss_silent(f->ctx, "down@x", NULL, NULL, "MAR");
    verdict_is(f, "down@x", "HSS unreachable: no open Cx connection (MAR not sent: no Diameter");
    ev(f, "tmo@x", SCSCF_DIAG_HSS_TIMEOUT, 500, "MAR: no answer from hss.x");
    verdict_is(f, "tmo@x", "HSS timeout: MAR: no answer from hss.x");

    scscf_diag_hss_result(f->ctx, "nobody@x", NULL, NULL, "MAR", &unknown);
    verdict_is(f, "nobody@x", "unknown IMPI: the HSS does not know nobody@x");

    ev(f, "gone@x", SCSCF_DIAG_CHALLENGE, 401, "AKA");
    ev(f, "gone@x", SCSCF_DIAG_AUTH_TIMEOUT, 0, "240 s");
    verdict_is(f, "gone@x", "no REGISTER answered the challenge within 240 s");

    /* a resync before a failure qualifies it */
    ev(f, "both@x", SCSCF_DIAG_RESYNC, 0, "AUTS");
    ev(f, "both@x", SCSCF_DIAG_HSS_TIMEOUT, 500, "MAR: no answer");
    verdict_is(f, "both@x", "HSS timeout: MAR: no answer (after an SQN resynchronisation");

    /* more events than the ring holds: the newest attempt still decides */
    for (int i = 0; i < 3 * IMS_UELOG_EVENTS; i++)
        ev(f, "busy@x", SCSCF_DIAG_REGISTERED, 200, "registered (refreshed)");
    ev(f, "busy@x", SCSCF_DIAG_CHALLENGE, 401, "AKA");
    ev(f, "busy@x", SCSCF_DIAG_MAC_FAILURE, 403, "no response");
    verdict_is(f, "busy@x", "MAC mismatch");

    /* an RTR ends the registration: its reason is the verdict, not "registered" */
    ev(f, "rtr@x", SCSCF_DIAG_CHALLENGE, 401, "AKA");
    ev(f, "rtr@x", SCSCF_DIAG_REGISTERED, 200, "registered");
    ev(f, "rtr@x", SCSCF_DIAG_RTR, 0, "PERMANENT_TERMINATION");
    verdict_is(f, "rtr@x", "de-registered by the HSS (RTR): PERMANENT_TERMINATION");
}

/* ---- the I-CSCF ---- */

/* The I-CSCF verdict of what, checked to start with want. */
static void icscf_verdict_is(const icscf_ctx_t *ctx, const char *what, const char *want)
{
    char out[320];

    icscf_diag_verdict(ims_uelog_find(ctx->uelog, what, NULL), out, sizeof(out));
    if (strncmp(out, want, strlen(want)) != 0)
        fail_msg("I-CSCF verdict \"%s\", want it to start with \"%s\"", out, want);
}

static void test_icscf(void **state)
{
    icscf_ctx_t ctx = { .nscscfs = 2 };
    const char *ipu = "sip:ue@ims.test";
    cx_result_t r;
    cx_uaa_t uaa;
    json_t *d;
    ims_ctl_args_t a = { 1, { "sip:gone@ims.test" } };
    char err[64];

    (void)state;
    icscf_diag_start(&ctx);
    r = (cx_result_t){ CX_ERROR_USER_UNKNOWN, true };
    icscf_diag_hss(&ctx, "UAR", "nobody@x", ipu, NULL, IMS_OK, &r);
    icscf_verdict_is(&ctx, "nobody@x", "unknown IMPI: the HSS does not know nobody@x (or not "
                     "with sip:ue@ims.test; UAR: USER_UNKNOWN)");
    r.code = CX_ERROR_IDENTITIES_DONT_MATCH;
    icscf_diag_hss(&ctx, "UAR", "mix@x", ipu, NULL, IMS_OK, &r);
    icscf_verdict_is(&ctx, "mix@x", "identities don't match: the HSS has sip:ue@ims.test");
    r.code = CX_ERROR_ROAMING_NOT_ALLOWED;
    icscf_diag_hss(&ctx, "UAR", "away@x", ipu, NULL, IMS_OK, &r);
    icscf_verdict_is(&ctx, "away@x", "roaming not allowed: the HSS does not let away@x");
    r = (cx_result_t){ DIA_AUTHORIZATION_REJECTED, false };
    icscf_diag_hss(&ctx, "UAR", "barred@x", ipu, NULL, IMS_OK, &r);
    icscf_verdict_is(&ctx, "barred@x", "registration not authorised by the HSS "
                     "(UAR: AUTHORIZATION_REJECTED)");
    r = (cx_result_t){ DIA_UNABLE_TO_COMPLY, false };
    icscf_diag_hss(&ctx, "UAR", "err@x", ipu, NULL, IMS_OK, &r);
    icscf_verdict_is(&ctx, "err@x", "HSS error: UAR: UNABLE_TO_COMPLY (Result-Code 5012)");
    /* success (base or experimental 2001) records nothing */
    r = (cx_result_t){ CX_FIRST_REGISTRATION, true };
    icscf_diag_hss(&ctx, "UAR", "fine@x", ipu, NULL, IMS_OK, &r);
    r = (cx_result_t){ DIA_SUCCESS, false };
    icscf_diag_hss(&ctx, "UAR", "fine@x", ipu, NULL, IMS_OK, &r);
    assert_null(ims_uelog_find(ctx.uelog, "fine@x", NULL));
    /* no Diameter node: down, not a timeout */
    icscf_diag_hss(&ctx, "UAR", "down@x", ipu, NULL, IMS_ERROR, NULL);
    icscf_verdict_is(&ctx, "down@x", "HSS unreachable: no open Cx connection (UAR not sent: "
                     "no Diameter peer)");

    memset(&uaa, 0, sizeof(uaa));
    uaa.has_caps = true;
    uaa.caps.mandatory[0] = 7;
    uaa.caps.mandatory[1] = 9;
    uaa.caps.nmandatory = 2;
    icscf_diag_no_scscf(&ctx, "caps@x", ipu, NULL, &uaa);
    icscf_verdict_is(&ctx, "caps@x", "no S-CSCF with the needed capabilities: mandatory 7,9, "
                     "optional none; 2 S-CSCFs configured, no default");

    icscf_diag(&ctx, "ok@x", ipu, NULL, ICSCF_DIAG_FORWARDED, 0, "sip:s1");
    icscf_verdict_is(&ctx, "ok@x", "forwarded to sip:s1; no final answer yet");
    icscf_diag(&ctx, "ok@x", ipu, NULL, ICSCF_DIAG_ANSWERED, 401, "sip:s1");
    icscf_verdict_is(&ctx, "ok@x", "challenged by the S-CSCF sip:s1 (401)");
    icscf_diag(&ctx, "ok@x", ipu, NULL, ICSCF_DIAG_ANSWERED, 403, "sip:s1");
    icscf_verdict_is(&ctx, "ok@x", "the S-CSCF sip:s1 answered 403: why is in its own log");
    icscf_diag(&ctx, "ok@x", ipu, NULL, ICSCF_DIAG_ANSWERED, 200, "sip:s1");
    icscf_verdict_is(&ctx, "ok@x", "registered: the S-CSCF sip:s1 answered 200");
    icscf_diag(&ctx, "ok@x", ipu, NULL, ICSCF_DIAG_NO_ANSWER, 504, "2 tried");
    icscf_verdict_is(&ctx, "ok@x", "no S-CSCF answered the REGISTER (2 tried): 504");

    /* terminating requests are logged by IMPU */
    r = (cx_result_t){ CX_ERROR_USER_UNKNOWN, true };
    icscf_diag_hss(&ctx, "LIR", "sip:gone@ims.test", "sip:gone@ims.test", NULL, IMS_OK, &r);
    icscf_verdict_is(&ctx, "sip:gone@ims.test", "unknown IMPU: the HSS does not know "
                     "sip:gone@ims.test (LIR: USER_UNKNOWN)");
    assert_int_equal(icscf_diag_cmd(&ctx, &a, &d, err, sizeof(err)), IMS_OK);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(d, "events"), 0), "event")), "hss-refused");
    json_decref(d);
    a.argv[0] = "sip:never@ims.test";
    assert_int_equal(icscf_diag_cmd(&ctx, &a, &d, err, sizeof(err)), IMS_OK);
    assert_true(strncmp(json_string_value(json_object_get(d, "verdict")), "nothing seen", 12)
                == 0);
    assert_int_equal(json_array_size(json_object_get(d, "events")), 0);
    json_decref(d);
    a.argc = 0;
    assert_int_equal(icscf_diag_cmd(&ctx, &a, &d, err, sizeof(err)), IMS_ERROR);
    icscf_diag_stop(&ctx);
    /* without a log: no-ops */
    icscf_diag(&ctx, "x@x", NULL, NULL, ICSCF_DIAG_FORWARDED, 0, "-");
}

static json_t *diagnose(fx_t *f, const char *what)
{
    ims_ctl_args_t a = { 1, { what } };
    json_t *data = NULL;
    char err[128];

    assert_int_equal(scscf_diag_cmd(f->ctx, &a, &data, err, sizeof(err)), IMS_OK);
    assert_non_null(data);
    return data;
}

static void test_command(void **state)
{
    fx_t *f = *state;
    ims_ctl_args_t none = { 0, { NULL } };
    json_t *d, *events, *data = NULL;
    scscf_reg_t *reg;
    char err[128], xml[512];
    const char *first_key;
    void *it;

    assert_int_equal(scscf_diag_cmd(f->ctx, &none, &data, err, sizeof(err)), IMS_ERROR);
    assert_null(data);
    ev(f, "alice@ims.test", SCSCF_DIAG_CHALLENGE, 401, "AKA");
    ev(f, "alice@ims.test", SCSCF_DIAG_REGISTERED, 200, "registered");
    d = diagnose(f, "alice@ims.test");
    it = json_object_iter(d);
    first_key = json_object_iter_key(it);
    assert_string_equal(first_key, "verdict");    /* imsctl prints it first */
    assert_string_equal(json_string_value(json_object_get(d, "verdict")), "registered");
    events = json_object_get(d, "events");
    assert_int_equal(json_array_size(events), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "event")),
                        "challenge");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(events, 1), "code")),
                     200);
    json_decref(d);

    /* another IMPU of the registered user's implicit set finds the UE */
    reg = scscf_reg_get(f->ctx, "alice@ims.test");
    snprintf(xml, sizeof(xml),
             "<IMSSubscription><PrivateID>alice@ims.test</PrivateID><ServiceProfile>"
             "<PublicIdentity><Identity>sip:ue@ims.test</Identity></PublicIdentity>"
             "<PublicIdentity><Identity>tel:+15550001</Identity></PublicIdentity>"
             "</ServiceProfile></IMSSubscription>");
    scscf_reg_set_profile(reg, scscf_user_data_parse(xml, strlen(xml), NULL, 0));
    scscf_reg_set_registered(reg);
    d = diagnose(f, "tel:+15550001");
    assert_string_equal(json_string_value(json_object_get(d, "impi")), "alice@ims.test");
    json_decref(d);

    d = diagnose(f, "bob@ims.test");
    assert_non_null(strstr(json_string_value(json_object_get(d, "verdict")), "nothing seen"));
    assert_int_equal(json_array_size(json_object_get(d, "events")), 0);
    assert_true(json_is_null(json_object_get(d, "impi")));
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command, setup, teardown),
        cmocka_unit_test(test_icscf),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
