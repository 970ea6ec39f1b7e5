/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The S-CSCF registration store and reg-event document (scscf/context.c,
 * scscf/regevent.c): records found by IMPI and by every IMPU of the implicit
 * set once registered, bindings added / refreshed / removed, the RFC 3261
 * §10.3 out-of-order check, the contact limit, expiry on a driven clock
 * through the loop's real timer heap, a PPR-style profile swap re-indexing the
 * IMPUs, the reginfo XML (exact text, barred identities left out, escaping,
 * terminated state), the per-subscription version counter, and who may
 * subscribe to a user's reg event (the user, or a P-CSCF on the user's Path).
 * And the memory layout: strings many records repeat (Path, the P-CSCF's
 * URIs) shared and released with their last user, a subscription's strings in
 * its one block, equal iFC sets shared between users, and (release builds,
 * where the store is a real pool) the store objects a registered user costs.
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
#include "common/core/slab.h"
#include "scscf/context.c"
#include "scscf/regevent.c"
#include "scscf/user-data.c"

typedef struct fx {
    ims_loop_t *loop;
    scscf_ctx_t *ctx;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    scscf_cfg_t c;

    ims_clock_drive(true, 1000000);
    scscf_cfg_defaults(&c);
    snprintf(c.domain, sizeof(c.domain), "ims.test");
    scscf_cfg_finish(&c);
    f->loop = ims_loop_new();
    f->ctx = scscf_ctx_new(f->loop, &c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;

    scscf_ctx_free(f->ctx);
    assert_int_equal(ims_loop_timer_count(f->loop), 0);
    ims_loop_free(f->loop);
    ims_clock_drive(false, 0);
    free(f);
    return 0;
}

static scscf_profile_t *profile(const char *impi, const char *a, const char *b, bool b_barred)
{
    char xml[1024];

    snprintf(xml, sizeof(xml),
             "<IMSSubscription><PrivateID>%s</PrivateID><ServiceProfile>"
             "<PublicIdentity><Identity>%s</Identity></PublicIdentity>"
             "<PublicIdentity>%s<Identity>%s</Identity></PublicIdentity>"
             "</ServiceProfile></IMSSubscription>", impi, a,
             b_barred ? "<BarringIndication>1</BarringIndication>" : "", b);
    return scscf_user_data_parse(xml, strlen(xml), NULL, 0);
}

static void test_config(void **state)
{
    fx_t *f = *state;

    assert_string_equal(f->ctx->cfg.uri, "sip:scscf.ims.test");
    assert_string_equal(f->ctx->cfg.service_route, "<sip:orig@scscf.ims.test;lr>");
    assert_int_equal(f->ctx->cfg.max_auth_attempts, 2);
}

static void test_store(void **state)
{
    fx_t *f = *state;
    scscf_ctx_t *ctx = f->ctx;
    scscf_reg_t *r = scscf_reg_get(ctx, "alice@ims.test");

    assert_ptr_equal(scscf_reg_get(ctx, "alice@ims.test"), r);
    assert_ptr_equal(scscf_reg_find(ctx, "alice@ims.test"), r);
    assert_null(scscf_reg_find(ctx, "bob@ims.test"));
    /* a profile alone does not make the IMPUs findable: registration does */
    scscf_reg_set_profile(r, profile("alice@ims.test", "sip:alice@ims.test", "tel:+1", false));
    assert_null(scscf_reg_find_impu(ctx, "tel:+1"));
    scscf_reg_set_registered(r);
    assert_ptr_equal(scscf_reg_find_impu(ctx, "sip:alice@ims.test"), r);
    assert_ptr_equal(scscf_reg_find_impu(ctx, "tel:+1"), r);
    /* a new profile (PPR) re-indexes */
    scscf_reg_set_profile(r, profile("alice@ims.test", "sip:alice@ims.test", "tel:+2", false));
    assert_null(scscf_reg_find_impu(ctx, "tel:+1"));
    assert_ptr_equal(scscf_reg_find_impu(ctx, "tel:+2"), r);
    scscf_reg_free(r);
    assert_null(scscf_reg_find(ctx, "alice@ims.test"));
    assert_null(scscf_reg_find_impu(ctx, "tel:+2"));
    assert_int_equal(ims_hash_count(ctx->by_impu), 0);
}

static void test_bindings(void **state)
{
    fx_t *f = *state;
    scscf_reg_t *r = scscf_reg_get(f->ctx, "alice@ims.test");
    uint64_t now = ims_clock_now_ms();

    assert_int_equal(scscf_reg_bind(r, "sip:a@1.1.1.1", "<sip:term@p;lr>", "c1", 2, 600), IMS_OK);
    assert_int_equal(r->ncontacts, 1);
    assert_int_equal(scscf_contact_left(&r->contacts[0], now), 600);
    assert_string_equal(r->contacts[0].path, "<sip:term@p;lr>");
    /* the same Call-ID must grow its CSeq (RFC 3261 §10.3 step 7) */
    assert_int_equal(scscf_reg_bind(r, "sip:a@1.1.1.1", NULL, "c1", 2, 300), IMS_DECLINED);
    assert_int_equal(scscf_reg_bind(r, "sip:a@1.1.1.1", NULL, "c1", 1, 300), IMS_DECLINED);
    assert_int_equal(scscf_contact_left(&r->contacts[0], now), 600);
    assert_int_equal(scscf_reg_bind(r, "sip:a@1.1.1.1", NULL, "c1", 3, 300), IMS_OK);
    assert_int_equal(scscf_contact_left(&r->contacts[0], now), 300);
    assert_null(r->contacts[0].path);
    /* another Call-ID (UE restarted) may use any CSeq */
    assert_int_equal(scscf_reg_bind(r, "sip:a@1.1.1.1", NULL, "c2", 1, 100), IMS_OK);
    assert_int_equal(r->ncontacts, 1);
    /* more contacts than kept: the one expiring first makes room */
    assert_int_equal(scscf_reg_bind(r, "sip:b@1.1.1.1", NULL, "c3", 1, 500), IMS_OK);
    assert_int_equal(scscf_reg_bind(r, "sip:c@1.1.1.1", NULL, "c4", 1, 500), IMS_OK);
    assert_int_equal(scscf_reg_bind(r, "sip:d@1.1.1.1", NULL, "c5", 1, 500), IMS_OK);
    assert_int_equal(r->ncontacts, SCSCF_MAX_CONTACTS);
    assert_int_equal(scscf_reg_bind(r, "sip:e@1.1.1.1", NULL, "c6", 1, 500), IMS_OK);
    assert_int_equal(r->ncontacts, SCSCF_MAX_CONTACTS);
    for (int i = 0; i < r->ncontacts; i++)
        assert_string_not_equal(r->contacts[i].uri, "sip:a@1.1.1.1");
    assert_int_equal(scscf_reg_left(r, now), 500);
    /* expires 0 removes */
    assert_int_equal(scscf_reg_bind(r, "sip:b@1.1.1.1", NULL, "c3", 2, 0), IMS_OK);
    assert_int_equal(r->ncontacts, SCSCF_MAX_CONTACTS - 1);
    assert_int_equal(scscf_reg_bind(r, "sip:zz@1.1.1.1", NULL, "c9", 2, 0), IMS_OK);
    assert_int_equal(r->ncontacts, SCSCF_MAX_CONTACTS - 1);
}

static int g_fired;

static void on_expiry(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    scscf_reg_t *r = arg;

    (void)loop;
    (void)t;
    g_fired++;
    scscf_reg_drop_expired(r, ims_clock_now_ms());
    scscf_reg_arm_expiry(r, on_expiry);
}

static void test_expiry(void **state)
{
    fx_t *f = *state;
    scscf_reg_t *r = scscf_reg_get(f->ctx, "alice@ims.test");

    g_fired = 0;
    scscf_reg_bind(r, "sip:a@1", NULL, "c1", 1, 10);
    scscf_reg_bind(r, "sip:b@1", NULL, "c2", 1, 20);
    scscf_reg_arm_expiry(r, on_expiry);
    ims_clock_advance(9999);
    ims_loop_run_timers(f->loop);
    assert_int_equal(g_fired, 0);
    ims_clock_advance(1);
    ims_loop_run_timers(f->loop);
    assert_int_equal(g_fired, 1);
    assert_int_equal(r->ncontacts, 1);
    assert_string_equal(r->contacts[0].uri, "sip:b@1");
    /* a refresh moves the timer */
    scscf_reg_bind(r, "sip:b@1", NULL, "c2", 2, 60);
    scscf_reg_arm_expiry(r, on_expiry);
    ims_clock_advance(10000);
    ims_loop_run_timers(f->loop);
    assert_int_equal(g_fired, 1);
    ims_clock_advance(50000);
    ims_loop_run_timers(f->loop);
    assert_int_equal(g_fired, 2);
    assert_int_equal(r->ncontacts, 0);
    assert_false(ims_timer_armed(&r->expiry));
}

static const char ACTIVE[] =
    "<?xml version=\"1.0\"?>\n"
    "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"0\" state=\"full\">\n"
    "  <registration aor=\"sip:alice@ims.test\" id=\"a1\" state=\"active\">\n"
    "    <contact id=\"c1\" state=\"active\" event=\"registered\" expires=\"3600\">\n"
    "      <uri>sip:alice@[2001:db8::1]:5062;a=&quot;x&amp;y&quot;</uri>\n"
    "    </contact>\n"
    "  </registration>\n"
    "  <registration aor=\"sip:alice2@ims.test\" id=\"a2\" state=\"active\">\n"
    "    <contact id=\"c1\" state=\"active\" event=\"registered\" expires=\"3600\">\n"
    "      <uri>sip:alice@[2001:db8::1]:5062;a=&quot;x&amp;y&quot;</uri>\n"
    "    </contact>\n"
    "  </registration>\n"
    "</reginfo>\n";

static const char TERMINATED[] =
    "<?xml version=\"1.0\"?>\n"
    "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"7\" state=\"full\">\n"
    "  <registration aor=\"tel:+1\" id=\"a1\" state=\"terminated\">\n"
    "    <contact id=\"c1\" state=\"terminated\" event=\"deactivated\">\n"
    "      <uri>sip:u@1.2.3.4</uri>\n"
    "    </contact>\n"
    "  </registration>\n"
    "</reginfo>\n";

static void test_reginfo(void **state)
{
    fx_t *f = *state;
    scscf_reg_t *r = scscf_reg_get(f->ctx, "alice@ims.test");
    scscf_reg_t *t = scscf_reg_get(f->ctx, "t@ims.test");
    char *x;
    size_t len;

    /* three identities, the barred tel: one left out */
    scscf_reg_set_profile(r, profile("alice@ims.test", "sip:alice@ims.test", "tel:+9", true));
    r->profile->impu[1] = "sip:alice2@ims.test";   /* both now listed, in set order */
    r->profile->barred[1] = false;
    scscf_reg_bind(r, "sip:alice@[2001:db8::1]:5062;a=\"x&y\"", NULL, "c", 1, 3600);
    x = scscf_reginfo_build(r, NULL, 0, false, "registered", ims_clock_now_ms(), &len);
    assert_string_equal(x, ACTIVE);
    assert_int_equal(len, strlen(ACTIVE));
    free(x);
    r->profile->barred[1] = true;
    x = scscf_reginfo_build(r, NULL, 0, false, "registered", ims_clock_now_ms(), &len);
    assert_null(strstr(x, "alice2"));
    free(x);
    /* no profile: the subscribed AOR alone */
    scscf_reg_bind(t, "sip:u@1.2.3.4", NULL, "c", 1, 60);
    x = scscf_reginfo_build(t, "tel:+1", 7, true, "deactivated", ims_clock_now_ms(), &len);
    assert_string_equal(x, TERMINATED);
    free(x);
    scscf_reg_free(t);
}

/* A subscription as scscf_regevent_subscribe leaves it (no SIP stack here). */
static scscf_sub_t *fake_sub(scscf_ctx_t *ctx, scscf_reg_t *r, const char *tag)
{
    sub_strs_t v = { .str = { tag, "call", "rtag", "sip:alice@ims.test", "sip:alice@ims.test" },
                     .remote_uri = "sip:pcscf.ims.test", .target = "sip:pcscf.ims.test:5060" };
    scscf_sub_t *s = sub_make(r, &v);

    assert_int_equal(ims_hash_insert(ctx->subs, s->strs, s), IMS_OK);
    s->next = r->subs;
    r->subs = s;
    arm(s, 600);
    return s;
}

static void test_subscription_versions(void **state)
{
    fx_t *f = *state;
    scscf_reg_t *r = scscf_reg_get(f->ctx, "alice@ims.test");
    scscf_sub_t *a, *b;

    scscf_reg_set_profile(r, profile("alice@ims.test", "sip:alice@ims.test", "tel:+1", false));
    scscf_reg_bind(r, "sip:a@1", NULL, "c", 1, 3600);
    scscf_reg_set_registered(r);
    a = fake_sub(f->ctx, r, "t1");
    scscf_regevent_notify_all(r, false, "registered", NULL);
    b = fake_sub(f->ctx, r, "t2");
    scscf_regevent_notify_all(r, false, "refreshed", NULL);
    assert_int_equal(a->version, 2);   /* one per NOTIFY of its own */
    assert_int_equal(b->version, 1);
    assert_int_equal(ims_hash_count(f->ctx->subs), 2);
    /* the registration ends: the subscriptions go with it */
    scscf_regevent_notify_all(r, true, "unregistered", "noresource");
    assert_null(r->subs);
    assert_int_equal(ims_hash_count(f->ctx->subs), 0);
    /* and a subscription still open when the record goes is freed with it */
    fake_sub(f->ctx, r, "t3");
    scscf_reg_free(r);
    assert_int_equal(ims_hash_count(f->ctx->subs), 0);
}

static sip_msg_t *subscribe(const char *from, const char *pai)
{
    char buf[1024];
    sip_msg_t *m;
    const char *why;
    int n;

    n = snprintf(buf, sizeof(buf),
                 "SUBSCRIBE sip:alice@ims.test SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKs1\r\n"
                 "From: <%s>;tag=f\r\nTo: <sip:alice@ims.test>\r\nCall-ID: s1\r\n"
                 "CSeq: 1 SUBSCRIBE\r\nMax-Forwards: 70\r\nEvent: reg\r\n%s%s%s"
                 "Contact: <sip:x@10.0.0.1>\r\nContent-Length: 0\r\n\r\n", from,
                 pai ? "P-Asserted-Identity: " : "", pai ? pai : "", pai ? "\r\n" : "");
    assert_int_equal(sip_msg_parse(buf, (size_t)n, NULL, 65535, &m, &why), SIP_PARSE_OK);
    assert_true(scscf_is_reg_subscribe(m));
    return m;
}

static void test_who_may_subscribe(void **state)
{
    fx_t *f = *state;
    scscf_reg_t *r = scscf_reg_get(f->ctx, "alice@ims.test");
    static const struct {
        const char *from, *pai;
        bool ok;
    } cases[] = {
        { "sip:alice@ims.test", NULL, true },                 /* the user, nothing asserted */
        { "sip:evil@ims.test", "<tel:+1>", true },            /* asserted: another IMPU of hers */
        { "sip:alice@ims.test", "<sip:evil@ims.test>", false }, /* asserted someone else */
        { "sip:pcscf.ims.test", "<sip:pcscf.ims.test>", true }, /* the P-CSCF on her Path */
        { "sip:pcscf.ims.test:5060", NULL, true },
        { "sip:ims.test", NULL, false },                      /* a suffix of the Path host */
        { "sip:other-pcscf.ims.test", NULL, false },
        { "sip:evil@ims.test", NULL, false },
    };

    scscf_reg_set_profile(r, profile("alice@ims.test", "sip:alice@ims.test", "tel:+1", false));
    scscf_reg_bind(r, "sip:a@1", "<sip:term@pcscf.ims.test;lr>", "c", 1, 3600);
    scscf_reg_set_registered(r);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sip_msg_t *m = subscribe(cases[i].from, cases[i].pai);

        if (subscriber_allowed(r, m) != cases[i].ok)
            fail_msg("case %zu (%s, %s): want %d", i, cases[i].from,
                     cases[i].pai ? cases[i].pai : "-", cases[i].ok);
        sip_msg_free(m);
    }
}

static void test_shared_strings(void **state)
{
    fx_t *f = *state;
    scscf_ctx_t *ctx = f->ctx;
    scscf_reg_t *a = scscf_reg_get(ctx, "a@ims.test"), *b = scscf_reg_get(ctx, "b@ims.test");
    char path[64];
    const char *shared;

    snprintf(path, sizeof(path), "<sip:term@pcscf.ims.test;lr>");
    assert_int_equal(scscf_reg_bind(a, "sip:a@1", path, "c1", 1, 60), IMS_OK);
    assert_int_equal(scscf_reg_bind(b, "sip:b@1", path, "c2", 1, 60), IMS_OK);
    assert_int_equal(scscf_reg_bind(b, "sip:b@2", path, NULL, 1, 60), IMS_OK);
    shared = a->contacts[0].path;
    assert_ptr_not_equal(shared, path);                 /* a copy ... */
    assert_ptr_equal(b->contacts[0].path, shared);      /* ... that all three hold */
    assert_ptr_equal(b->contacts[1].path, shared);
    assert_int_equal(ims_hash_count(ctx->shared), 1);
    assert_string_equal(scscf_contact_call_id(&a->contacts[0]), "c1");
    assert_null(scscf_contact_call_id(&b->contacts[1]));
    /* the Call-ID changes, the URI stays */
    assert_int_equal(scscf_reg_bind(a, "sip:a@1", path, "c9", 1, 60), IMS_OK);
    assert_string_equal(a->contacts[0].uri, "sip:a@1");
    assert_string_equal(scscf_contact_call_id(&a->contacts[0]), "c9");
    assert_int_equal(scscf_reg_bind(a, "sip:a@1", path, "c9", 1, 60), IMS_DECLINED);
    /* a user that goes releases its references; the last one frees the copy */
    scscf_reg_free(a);
    assert_string_equal(b->contacts[0].path, path);
    assert_int_equal(scscf_reg_bind(b, "sip:b@1", "<sip:term@other;lr>", "c2", 2, 60), IMS_OK);
    assert_int_equal(ims_hash_count(ctx->shared), 2);
    assert_int_equal(scscf_reg_bind(b, "sip:b@2", NULL, NULL, 2, 0), IMS_OK);
    assert_int_equal(ims_hash_count(ctx->shared), 1);
    assert_string_equal(b->contacts[0].path, "<sip:term@other;lr>");
    scscf_reg_free(b);
    assert_int_equal(ims_hash_count(ctx->shared), 0);
    /* NULL in, NULL out; a string that is not a shared copy is left alone */
    assert_null(scscf_str_share(ctx, NULL));
    scscf_str_unshare(ctx, NULL);
    shared = scscf_str_share(ctx, "x");
    scscf_str_unshare(ctx, "x");                       /* not the shared pointer */
    assert_int_equal(ims_hash_count(ctx->shared), 1);
    scscf_str_unshare(ctx, shared);
    assert_int_equal(ims_hash_count(ctx->shared), 0);
}

static void test_subscription_block(void **state)
{
    fx_t *f = *state;
    scscf_reg_t *r = scscf_reg_get(f->ctx, "alice@ims.test");
    sub_strs_t v = { .str = { "tag1", "cid", "rtag", "sip:alice@ims.test;x=y", "tel:+1" },
                     .remote_uri = "sip:pcscf.ims.test", .target = "sip:pcscf.ims.test:5060",
                     .routes = { "<sip:p1;lr>", "<sip:p2;lr>" }, .nroutes = 2 };
    scscf_sub_t *a = sub_make(r, &v), *b;

    assert_string_equal(a->strs, "tag1");               /* the key comes first */
    assert_string_equal(sub_str(a, SUB_CALL_ID), "cid");
    assert_string_equal(sub_str(a, SUB_REMOTE_TAG), "rtag");
    assert_string_equal(sub_str(a, SUB_LOCAL_URI), "sip:alice@ims.test;x=y");
    assert_string_equal(sub_str(a, SUB_AOR), "tel:+1");
    assert_false(a->aor_is_local);
    assert_int_equal(a->nroutes, 2);
    assert_string_equal(sub_route(a, 0), "<sip:p1;lr>");
    assert_string_equal(sub_route(a, 1), "<sip:p2;lr>");
    /* the AOR equal to the To URI is kept once; the P-CSCF's URIs are shared */
    v.str[SUB_LOCAL_TAG] = "tag2";
    v.str[SUB_AOR] = v.str[SUB_LOCAL_URI];
    v.nroutes = 1;
    b = sub_make(r, &v);
    assert_true(b->aor_is_local);
    assert_string_equal(sub_str(b, SUB_AOR), "sip:alice@ims.test;x=y");
    assert_string_equal(sub_route(b, 0), "<sip:p1;lr>");
    assert_ptr_equal(a->remote_uri, b->remote_uri);
    assert_ptr_equal(a->target, b->target);
    assert_string_equal(b->target, "sip:pcscf.ims.test:5060");
    assert_int_equal(ims_hash_count(f->ctx->shared), 2);
    a->next = b;
    r->subs = a;
    scscf_reg_free(r);
    assert_int_equal(ims_hash_count(f->ctx->shared), 0);
}

static scscf_profile_t *profile_ifc(const char *impi, const char *method)
{
    char xml[1024];

    snprintf(xml, sizeof(xml),
             "<IMSSubscription><PrivateID>%s</PrivateID><ServiceProfile><PublicIdentity>"
             "<Identity>sip:%s</Identity></PublicIdentity><InitialFilterCriteria>"
             "<Priority>0</Priority><TriggerPoint><ConditionTypeCNF>0</ConditionTypeCNF>"
             "<SPT><Group>0</Group><Method>%s</Method></SPT></TriggerPoint>"
             "<ApplicationServer><ServerName>sip:as.ims.test</ServerName></ApplicationServer>"
             "</InitialFilterCriteria></ServiceProfile></IMSSubscription>", impi, impi, method);
    return scscf_user_data_parse(xml, strlen(xml), NULL, 0);
}

static void test_shared_ifcs(void **state)
{
    fx_t *f = *state;
    scscf_reg_t *a = scscf_reg_get(f->ctx, "a@ims.test"), *b = scscf_reg_get(f->ctx, "b@ims.test");

    scscf_reg_set_profile(a, profile_ifc("a@ims.test", "INVITE"));
    scscf_reg_set_profile(b, profile_ifc("b@ims.test", "INVITE"));
    assert_ptr_equal(a->profile->ifcs, b->profile->ifcs);
    assert_int_equal(ims_hash_count(f->ctx->ifc_sets), 1);
    /* a PPR gives b other iFCs: its own set, a keeps the old one */
    scscf_reg_set_profile(b, profile_ifc("b@ims.test", "MESSAGE"));
    assert_ptr_not_equal(a->profile->ifcs, b->profile->ifcs);
    assert_string_equal(a->profile->ifcs[0].spts[0].what, "INVITE");
    assert_string_equal(b->profile->ifcs[0].spts[0].what, "MESSAGE");
    assert_int_equal(ims_hash_count(f->ctx->ifc_sets), 2);
    scscf_reg_free(a);
    assert_int_equal(ims_hash_count(f->ctx->ifc_sets), 1);
    scscf_reg_free(b);
    assert_int_equal(ims_hash_count(f->ctx->ifc_sets), 0);
}

/*
 * A registered user with one binding and one subscription holds 9 store
 * objects: record (IMPI inline), its by_impi entry, the profile, two by_impu
 * entries, the bindings array, the binding's block, the subscription and its
 * ctx->subs entry. Shared strings cost per distinct value, not per user.
 */
static void test_store_objects(void **state)
{
    fx_t *f = *state;
    ims_slab_stats_t st0, st1;
    enum { N = 50 };

#ifdef IMS_SANITIZED
    (void)f;
    (void)st0;
    (void)st1;
    skip();   /* the store is plain malloc here: nothing to count */
#else
    ims_store_stats(&st0);
    for (int i = 0; i < N; i++) {
        char impi[32], impu[40], tag[16], uri[40];
        scscf_reg_t *r;
        scscf_sub_t *s;
        sub_strs_t v = { .str = { tag, "cid", "rtag", impu, impu },
                         .remote_uri = "sip:pcscf.ims.test", .target = "sip:pcscf.ims.test:5060" };

        snprintf(impi, sizeof(impi), "u%d@ims.test", i);
        snprintf(impu, sizeof(impu), "sip:u%d@ims.test", i);
        snprintf(uri, sizeof(uri), "tel:+%d", i);
        snprintf(tag, sizeof(tag), "t%d", i);
        r = scscf_reg_get(f->ctx, impi);
        scscf_reg_set_profile(r, profile(impi, impu, uri, false));
        scscf_reg_bind(r, "sip:ue@10.0.0.1:5060", "<sip:term@pcscf.ims.test;lr>", "c", 1, 600);
        scscf_reg_set_registered(r);
        s = sub_make(r, &v);
        assert_int_equal(ims_hash_insert(f->ctx->subs, s->strs, s), IMS_OK);
        r->subs = s;
    }
    ims_store_stats(&st1);
    /* 3 shared strings, each its copy and its table entry */
    assert_int_equal(st1.objects - st0.objects, 9 * N + 3 * 2);
    assert_int_equal(st1.big, st0.big);
#endif
}

static void test_parse_helpers(void **state)
{
    uint32_t v = 7;
    osip_uri_t *u;
    char out[64];

    (void)state;
    assert_int_equal(scscf_parse_seconds(" 600000 ", &v), IMS_OK);
    assert_int_equal(v, 600000);
    assert_int_equal(scscf_parse_seconds("99999999999999", &v), IMS_OK);
    assert_int_equal(v, UINT32_MAX);
    assert_int_equal(scscf_parse_seconds("", &v), IMS_ERROR);
    assert_int_equal(scscf_parse_seconds("12x", &v), IMS_ERROR);
    assert_int_equal(scscf_parse_seconds("-1", &v), IMS_ERROR);
    osip_uri_init(&u);
    assert_int_equal(osip_uri_parse(u, "sip:alice@ims.test:5060;transport=tcp?x=y"), 0);
    assert_int_equal(scscf_uri_aor(u, out, sizeof(out)), IMS_OK);
    assert_string_equal(out, "sip:alice@ims.test:5060");
    osip_uri_free(u);
    osip_uri_init(&u);
    assert_int_equal(osip_uri_parse(u, "tel:+15551234;phone-context=x"), 0);
    assert_int_equal(scscf_uri_aor(u, out, sizeof(out)), IMS_OK);
    assert_string_equal(out, "tel:+15551234");
    assert_int_equal(scscf_uri_aor(u, out, 8), IMS_ERROR);
    osip_uri_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bindings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reginfo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_who_may_subscribe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_ifcs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_objects, setup, teardown),
        cmocka_unit_test(test_parse_helpers),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
