/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The S-CSCF's User-Data parser (scscf/user-data.c): the document ims-hss
 * really sends (built here by hss/user-data.c from a subscriber with a barred
 * tel: identity and an iFC of every SPT kind), a hand-written pretty-printed
 * one with namespace prefixes, comments, CDATA and entities, and malformed
 * input: unbalanced tags, truncation at every byte, nesting and count limits,
 * bad entities, NUL bytes, text outside the root, missing identities; and
 * iFC sets shared between the profiles whose iFCs are equal (and only those).
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

#include "hss/user-data.c"
#include "scscf/user-data.c"

static scscf_profile_t *parse(const char *xml)
{
    char err[96];

    return scscf_user_data_parse(xml, strlen(xml), err, sizeof(err));
}

/* A subscriber as ims-hss holds it, and the XML it puts into SAA/PPR. */
static char *hss_doc(size_t *len)
{
    static hss_spt_t spts[] = {
        { HSS_SPT_METHOD, false, 0, "INVITE", NULL, 0, 0 },
        { HSS_SPT_METHOD, false, 0, "MESSAGE", NULL, 0, 0 },
        { HSS_SPT_SESSION_CASE, false, 1, NULL, NULL, 0, 0 },
        { HSS_SPT_HEADER, true, 2, "Accept-Contact", ".*mmtel.*", 0, 0 },
        { HSS_SPT_REQUEST_URI, false, 3, "sip:.*@a&b", NULL, 0, 0 },
        { HSS_SPT_SESSION_DESC, false, 3, "m", "audio", 0, 0 },
        { HSS_SPT_REG_TYPE, false, 4, NULL, NULL, 0, 5 },
    };
    static hss_ifc_t ifcs[] = {
        { 0, true, spts, 7, "sip:as.ims.test:5070", 0, NULL, false, false, 0 },
        { 1, false, spts + 2, 1, "sip:vm.ims.test", 1, "info<x>", true, true, 1 },
    };
    static hss_profile_t prof = { "p", ifcs, 2, true };
    hss_sub_t sub;

    memset(&sub, 0, sizeof(sub));
    sub.impi = "alice@ims.test";
    sub.impus[0] = "sip:alice@ims.test";
    sub.impus[1] = "tel:+100";
    sub.impus[2] = "sip:alice.b@ims.test";
    sub.barred[1] = true;
    sub.nimpus = 3;
    sub.profile = &prof;
    return hss_user_data_build(&sub, 16384, len);
}

static void test_hss_document(void **state)
{
    size_t len;
    char *xml = hss_doc(&len);
    scscf_profile_t *p;
    const scscf_ifc_t *f;

    (void)state;
    assert_non_null(xml);
    p = scscf_user_data_parse(xml, len, NULL, 0);
    assert_non_null(p);
    assert_int_equal(p->nimpu, 3);
    assert_string_equal(p->impu[0], "sip:alice@ims.test");
    assert_string_equal(p->impu[1], "tel:+100");
    assert_string_equal(p->impu[2], "sip:alice.b@ims.test");
    assert_false(p->barred[0]);
    assert_true(p->barred[1]);
    assert_false(p->barred[2]);
    assert_int_equal(scscf_profile_find(p, "tel:+100"), 1);
    assert_int_equal(scscf_profile_find(p, "tel:+101"), -1);
    assert_int_equal(p->nifc, 2);
    f = &p->ifcs[0];
    assert_int_equal(f->priority, 0);
    assert_true(f->cnf);
    assert_int_equal(f->profile_part, 0);
    assert_string_equal(f->as_name, "sip:as.ims.test:5070");
    assert_int_equal(f->default_handling, 0);
    assert_null(f->service_info);
    assert_int_equal(f->nspts, 7);
    assert_int_equal(f->spts[0].kind, SCSCF_SPT_METHOD);
    assert_string_equal(f->spts[0].what, "INVITE");
    assert_int_equal(f->spts[0].groups, 1);
    assert_string_equal(f->spts[1].what, "MESSAGE");
    assert_int_equal(f->spts[2].kind, SCSCF_SPT_SESSION_CASE);
    assert_int_equal(f->spts[2].groups, 2);
    assert_int_equal(f->spts[3].kind, SCSCF_SPT_HEADER);
    assert_true(f->spts[3].negated);
    assert_string_equal(f->spts[3].what, "Accept-Contact");
    assert_string_equal(f->spts[3].content, ".*mmtel.*");
    assert_int_equal(f->spts[4].kind, SCSCF_SPT_REQUEST_URI);
    assert_string_equal(f->spts[4].what, "sip:.*@a&b");   /* &amp; decoded */
    assert_int_equal(f->spts[5].kind, SCSCF_SPT_SESSION_DESC);
    assert_string_equal(f->spts[5].what, "m");
    assert_string_equal(f->spts[5].content, "audio");
    assert_int_equal(f->spts[6].kind, SCSCF_SPT_REG_TYPE);
    assert_int_equal(f->spts[6].reg_types, 5);
    f = &p->ifcs[1];
    assert_int_equal(f->priority, 1);
    assert_false(f->cnf);
    assert_int_equal(f->profile_part, 1);
    assert_int_equal(f->default_handling, 1);
    assert_string_equal(f->service_info, "info<x>");
    assert_true(f->include_register_request);
    assert_true(f->include_register_response);
    assert_int_equal(f->nspts, 1);
    assert_int_equal(f->spts[0].kind, SCSCF_SPT_SESSION_CASE);
    scscf_profile_free(p);

    /* every proper prefix is refused, never read past */
    for (size_t n = 0; n < len; n++) {
        char *cut = malloc(n ? n : 1);

        memcpy(cut, xml, n);
        assert_null(scscf_user_data_parse(cut, n, NULL, 0));
        free(cut);
    }
    free(xml);
}

static const char PRETTY[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!-- from another HSS -->\n"
    "<cx:IMSSubscription xmlns:cx=\"urn:x\" a='1>2'>\n"
    "  <cx:PrivateID> bob@ims.test </cx:PrivateID>\n"
    "  <cx:ServiceProfile>\n"
    "    <cx:PublicIdentity>\n"
    "      <cx:Identity>sip:bob@ims.test</cx:Identity>\n"
    "      <cx:Extension><cx:IdentityType>0</cx:IdentityType></cx:Extension>\n"
    "    </cx:PublicIdentity>\n"
    "    <cx:PublicIdentity><cx:BarringIndication>0</cx:BarringIndication>"
    "<cx:Identity>tel:&#43;1&#x32;3</cx:Identity></cx:PublicIdentity>\n"
    "    <cx:InitialFilterCriteria>\n"
    "      <cx:Priority>7</cx:Priority>\n"
    "      <cx:ApplicationServer><cx:ServerName><![CDATA[sip:as<1>]]></cx:ServerName>"
    "<cx:DefaultHandling>1</cx:DefaultHandling></cx:ApplicationServer>\n"
    "    </cx:InitialFilterCriteria>\n"
    "    <cx:CoreNetworkServicesAuthorization><cx:SubscribedMediaProfileId>0"
    "</cx:SubscribedMediaProfileId></cx:CoreNetworkServicesAuthorization>\n"
    "  </cx:ServiceProfile>\n"
    "  <cx:ServiceProfile><cx:PublicIdentity><cx:Identity>sip:bob2@ims.test</cx:Identity>"
    "</cx:PublicIdentity></cx:ServiceProfile>\n"
    "</cx:IMSSubscription>\n";

static void test_pretty_document(void **state)
{
    scscf_profile_t *p = parse(PRETTY);

    (void)state;
    assert_non_null(p);
    assert_string_equal(p->impu[0], "sip:bob@ims.test");   /* PrivateID not kept */
    assert_int_equal(p->nimpu, 3);
    assert_string_equal(p->impu[1], "tel:+123");
    assert_string_equal(p->impu[2], "sip:bob2@ims.test");
    assert_int_equal(p->nifc, 1);
    assert_int_equal(p->ifcs[0].priority, 7);
    assert_int_equal(p->ifcs[0].nspts, 0);
    assert_string_equal(p->ifcs[0].as_name, "sip:as<1>");
    assert_int_equal(p->ifcs[0].default_handling, 1);
    scscf_profile_free(p);
}

static void test_malformed(void **state)
{
    static const char *bad[] = {
        "",
        "   ",
        "<IMSSubscription>",
        "<IMSSubscription></ServiceProfile>",
        "<IMSSubscription><ServiceProfile></IMSSubscription>",
        "<IMSSubscription><ServiceProfile><PublicIdentity></PublicIdentity>"
        "</ServiceProfile></IMSSubscription>",
        "<IMSSubscription><PrivateID>x</PrivateID></IMSSubscription>",
        "junk<IMSSubscription/>",
        "<a/><b/>",
        "<IMSSubscription><PublicIdentity><Identity>sip:a@b&bogus;</Identity>"
        "</PublicIdentity></IMSSubscription>",
        "<IMSSubscription><PublicIdentity><Identity>sip:a@b&#0;</Identity>"
        "</PublicIdentity></IMSSubscription>",
        "<IMSSubscription><PublicIdentity><Identity>sip:a@b&#x110000;</Identity>"
        "</PublicIdentity></IMSSubscription>",
        "<IMSSubscription><PublicIdentity><Identity>sip:a@b</Identity></PublicIdentity>"
        "<!-- unterminated </IMSSubscription>",
        "<IMSSubscription><PublicIdentity><Identity>sip:a@b</Identity></PublicIdentity>"
        "<InitialFilterCriteria><Priority>-1</Priority></InitialFilterCriteria>"
        "</IMSSubscription>",
        "<IMSSubscription><PublicIdentity><Identity>sip:a@b</Identity></PublicIdentity>"
        "<InitialFilterCriteria><TriggerPoint><SPT><Group>99</Group></SPT></TriggerPoint>"
        "</InitialFilterCriteria></IMSSubscription>",
        "<IMSSubscription <PublicIdentity>",
        "<1x/>",
        "<IMSSubscription></IMSSubscription >x",
    };
    char buf[4096];
    int n;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[96] = "";

        assert_null(scscf_user_data_parse(bad[i], strlen(bad[i]), err, sizeof(err)));
        assert_true(err[0] != '\0');
    }
    assert_null(scscf_user_data_parse(NULL, 0, NULL, 0));

    /* NUL inside */
    memcpy(buf, "<a><PublicIdentity><Identity>s\0p</Identity></PublicIdentity></a>", 64);
    assert_null(scscf_user_data_parse(buf, 64, NULL, 0));

    /* nesting past the limit */
    n = 0;
    for (int i = 0; i < SCSCF_UD_MAX_DEPTH + 1; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "<a>");
    assert_null(scscf_user_data_parse(buf, (size_t)n, NULL, 0));

    /* more identities than a set holds */
    n = snprintf(buf, sizeof(buf), "<IMSSubscription>");
    for (int i = 0; i <= SCSCF_UD_MAX_IMPU; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                      "<PublicIdentity><Identity>sip:%d@x</Identity></PublicIdentity>", i);
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "</IMSSubscription>");
    assert_null(scscf_user_data_parse(buf, (size_t)n, NULL, 0));

    /* an element text past the limit */
    {
        size_t big = SCSCF_UD_MAX_TEXT + 100, off;
        char *x = malloc(big + 200);

        off = (size_t)sprintf(x, "<a><PublicIdentity><Identity>");
        memset(x + off, 'a', big);
        off += big;
        off += (size_t)sprintf(x + off, "</Identity></PublicIdentity></a>");
        assert_null(scscf_user_data_parse(x, off, NULL, 0));
        free(x);
    }
}

/* The document with its first occurrence of from replaced by to. */
static char *doc_with(const char *from, const char *to, size_t *len)
{
    char *xml = hss_doc(len), *at = strstr(xml, from), *out;

    assert_non_null(at);
    out = malloc(*len + strlen(to) + 1);
    memcpy(out, xml, (size_t)(at - xml));
    sprintf(out + (at - xml), "%s%s", to, at + strlen(from));
    *len = strlen(out);
    free(xml);
    return out;
}

static void test_shared_ifc_sets(void **state)
{
    ims_hash_t *sets = scscf_ifc_sets_new();
    size_t len, len2, len3;
    char *xml = hss_doc(&len);
    char *other_user = doc_with("sip:alice@ims.test", "sip:carol@ims.test", &len2);
    char *negated = doc_with("<ConditionNegated>0", "<ConditionNegated>1", &len3);
    scscf_profile_t *a = scscf_user_data_parse(xml, len, NULL, 0);
    scscf_profile_t *b = scscf_user_data_parse(other_user, len2, NULL, 0);
    scscf_profile_t *c = scscf_user_data_parse(negated, len3, NULL, 0);
    scscf_profile_t *d = parse(PRETTY);
    const scscf_ifc_t *own_b = b->ifcs;

    (void)state;
    assert_ptr_not_equal(a->ifcs, b->ifcs);   /* each its own after parsing */
    scscf_profile_share_ifcs(a, sets);
    scscf_profile_share_ifcs(a, sets);        /* twice: no change */
    scscf_profile_share_ifcs(b, sets);
    scscf_profile_share_ifcs(c, sets);
    scscf_profile_share_ifcs(d, sets);
    assert_ptr_equal(a->ifcs, b->ifcs);       /* same iFCs: one set */
    assert_ptr_not_equal(b->ifcs, own_b);
    assert_string_equal(b->impu[0], "sip:carol@ims.test");
    assert_ptr_not_equal(c->ifcs, a->ifcs);   /* one SPT negated: another set */
    assert_true(c->ifcs[0].spts[0].negated);
    assert_false(a->ifcs[0].spts[0].negated);
    assert_ptr_not_equal(d->ifcs, a->ifcs);
    assert_int_equal(ims_hash_count(sets), 3);
    /* the set outlives the first of its users */
    scscf_profile_free(a);
    assert_int_equal(ims_hash_count(sets), 3);
    assert_string_equal(b->ifcs[0].spts[0].what, "INVITE");
    assert_string_equal(b->ifcs[1].service_info, "info<x>");
    scscf_profile_free(b);
    assert_int_equal(ims_hash_count(sets), 2);
    scscf_profile_free(c);
    /* a table freed before its last user: the set stays with the profile */
    scscf_ifc_sets_free(sets);
    assert_string_equal(d->ifcs[0].as_name, "sip:as<1>");
    scscf_profile_free(d);
    /* no iFCs: nothing to share */
    sets = scscf_ifc_sets_new();
    d = parse("<IMSSubscription><PublicIdentity><Identity>sip:x@y</Identity>"
              "</PublicIdentity></IMSSubscription>");
    assert_null(d->ifcs);
    assert_int_equal(d->nifc, 0);
    scscf_profile_share_ifcs(d, sets);
    assert_int_equal(ims_hash_count(sets), 0);
    scscf_profile_free(d);
    scscf_ifc_sets_free(sets);
    free(xml);
    free(other_user);
    free(negated);
}

/* Random mutations of a good document never crash (ASan build checks reads). */
static void test_mutations(void **state)
{
    size_t len;
    char *xml = hss_doc(&len);
    uint32_t seed = 12345;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        char *m = malloc(len);

        memcpy(m, xml, len);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            m[(seed >> 8) % len] = (char)(seed >> 24);
        }
        scscf_profile_free(scscf_user_data_parse(m, len, NULL, 0));
        free(m);
    }
    free(xml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hss_document),
        cmocka_unit_test(test_pretty_document),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_shared_ifc_sets),
        cmocka_unit_test(test_mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
