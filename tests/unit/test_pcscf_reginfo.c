/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF's reginfo scanner (RFC 3680) and the decision a NOTIFY leads to:
 * a full-state active document (RFC 3680 §6 style, namespaces and all), a
 * network de-registration (terminated/deactivated, as the S-CSCF sends after
 * an RTR), malformed documents of every kind refused, limits honoured, and
 * every truncation and a few thousand random mutations of a valid document
 * parsed without reading outside the buffer (ASan builds check that).
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

#include <cmocka.h>

#include "pcscf/context.c"
#include "pcscf/headers.c"
#include "pcscf/regevent-path.c"
#include "pcscf/reginfo.c"

#define AOR "sip:alice@ims.example.org"
#define UE_CONTACT "sip:alice@10.0.0.1:5070"

static const char *g_active =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!-- full state after registration -->\n"
    "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\"\n"
    "         xmlns:gr=\"urn:ietf:params:xml:ns:gruuinfo\" version=\"0\" state=\"full\">\n"
    "  <registration aor=\"" AOR "\" id=\"a1\" state=\"active\">\n"
    "    <contact id=\"c1\" state=\"active\" event=\"registered\" expires='3600'>\n"
    "      <uri> " UE_CONTACT " </uri>\n"
    "      <display-name>Alice</display-name>\n"
    "      <unknown-param name=\"+sip.instance\">x</unknown-param>\n"
    "      <gr:pub-gruu uri=\"sip:alice@ims.example.org;gr=urn:uuid:1\"/>\n"
    "    </contact>\n"
    "  </registration>\n"
    "  <registration aor=\"tel:+15551234\" id=\"a2\" state=\"active\">\n"
    "    <contact id=\"c2\" state=\"active\" event=\"created\" expires=\"3600\">\n"
    "      <uri><![CDATA[" UE_CONTACT "]]></uri>\n"
    "    </contact>\n"
    "  </registration>\n"
    "</reginfo>\n";

static const char *g_deactivated =
    "<?xml version=\"1.0\"?>"
    "<ri:reginfo xmlns:ri=\"urn:ietf:params:xml:ns:reginfo\" version=\"3\" state=\"full\">"
    "<ri:registration aor=\"" AOR "\" id=\"a1\" state=\"terminated\">"
    "<ri:contact id=\"c1\" state=\"terminated\" event=\"deactivated\" expires=\"0\">"
    "<ri:uri>" UE_CONTACT "</ri:uri></ri:contact></ri:registration></ri:reginfo>";

static bool eq(pcscf_str_t s, const char *want)
{
    return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

static void test_full_active(void **state)
{
    pcscf_reginfo_t ri;

    assert_int_equal(pcscf_reginfo_parse(g_active, strlen(g_active), &ri), IMS_OK);
    assert_int_equal(ri.version, 0);
    assert_true(eq(ri.state, "full"));
    assert_int_equal(ri.nregs, 2);
    assert_true(eq(ri.regs[0].aor, AOR));
    assert_true(eq(ri.regs[0].id, "a1"));
    assert_true(eq(ri.regs[0].state, "active"));
    assert_int_equal(ri.regs[0].ncontacts, 1);
    assert_true(eq(ri.regs[0].contacts[0].id, "c1"));
    assert_true(eq(ri.regs[0].contacts[0].state, "active"));
    assert_true(eq(ri.regs[0].contacts[0].event, "registered"));
    assert_int_equal(ri.regs[0].contacts[0].expires, 3600);
    assert_true(eq(ri.regs[0].contacts[0].uri, UE_CONTACT));
    assert_true(eq(ri.regs[1].aor, "tel:+15551234"));
    assert_true(eq(ri.regs[1].contacts[0].uri, UE_CONTACT));  /* from CDATA */
    assert_int_equal(ri.truncated, 0);
}

static void test_terminated(void **state)
{
    pcscf_reginfo_t ri;

    assert_int_equal(pcscf_reginfo_parse(g_deactivated, strlen(g_deactivated), &ri), IMS_OK);
    assert_int_equal(ri.version, 3);
    assert_int_equal(ri.nregs, 1);
    assert_true(eq(ri.regs[0].state, "terminated"));
    assert_true(eq(ri.regs[0].contacts[0].state, "terminated"));
    assert_true(eq(ri.regs[0].contacts[0].event, "deactivated"));
    assert_int_equal(ri.regs[0].contacts[0].expires, 0);
    assert_true(eq(ri.regs[0].contacts[0].uri, UE_CONTACT));
}

static void test_malformed(void **state)
{
    static const char *bad[] = {
        "",
        "   ",
        "<reginfo>",
        "<reginfo></registration>",
        "<reginfo><registration></reginfo></registration>",
        "<registration aor=\"x\"/>",                       /* wrong root */
        "<reginfo/><reginfo/>",                            /* two roots */
        "<reginfo/>junk",
        "junk<reginfo/>",
        "<reginfo version=\"1></reginfo>",                 /* unterminated value */
        "<reginfo version=1></reginfo>",                   /* unquoted */
        "<reginfo version></reginfo>",
        "<reginfo a=\"<\"></reginfo>",
        "<!DOCTYPE r [<!ENTITY x \"y\">]><reginfo/>",      /* never entities */
        "<reginfo><!-- open comment </reginfo>",
        "<?xml version=\"1.0\"",
        "<reginfo><![CDATA[x</reginfo>",
        "<reginfo></ reginfo>",
        "<>",
        "</reginfo>",
        ("<reginfo><a><b><c><d><e><f><g><h><i><j><k><l><m><n><o><p><q></q></p></o></n></m>"
         "</l></k></j></i></h></g></f></e></d></c></b></a></reginfo>"),  /* too deep */
    };
    pcscf_reginfo_t ri;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (pcscf_reginfo_parse(bad[i], strlen(bad[i]), &ri) != IMS_ERROR)
            fail_msg("accepted malformed #%zu: %s", i, bad[i]);
    }
    assert_int_equal(pcscf_reginfo_parse(NULL, 0, &ri), IMS_ERROR);
    /* A NUL inside is just a character; bounds are the length given. */
    assert_int_equal(pcscf_reginfo_parse("<reginfo/>\0<x>", 14, &ri), IMS_ERROR);
    assert_int_equal(pcscf_reginfo_parse("<reginfo/>\0<x>", 10, &ri), IMS_OK);
}

static void test_limits(void **state)
{
    char *doc = malloc(64 * 1024);
    size_t o = 0;
    pcscf_reginfo_t ri;

    o += (size_t)sprintf(doc + o, "<reginfo version=\"99999999999\" state=\"partial\">");
    for (int r = 0; r < PCSCF_RI_MAX_REGS + 3; r++) {
        o += (size_t)sprintf(doc + o,
                             "<registration aor=\"sip:u%d@h\" id=\"r%d\" state=\"active\">", r, r);
        for (int c = 0; c < PCSCF_RI_MAX_CONTACTS + 2; c++)
            o += (size_t)sprintf(doc + o, "<contact id=\"c%d\" state=\"active\" event=\"created\""
                                          " expires=\"-5\"><uri>sip:u@h:%d</uri></contact>",
                                 c, 1000 + c);
        o += (size_t)sprintf(doc + o, "</registration>");
    }
    o += (size_t)sprintf(doc + o, "</reginfo>");
    assert_int_equal(pcscf_reginfo_parse(doc, o, &ri), IMS_OK);
    assert_int_equal(ri.version, -1);  /* out of range: unknown */
    assert_int_equal(ri.nregs, PCSCF_RI_MAX_REGS);
    assert_int_equal(ri.regs[0].ncontacts, PCSCF_RI_MAX_CONTACTS);
    assert_int_equal(ri.regs[0].contacts[0].expires, -1);
    assert_int_equal(ri.truncated, 3 + PCSCF_RI_MAX_REGS * 2);
    free(doc);
}

/* Every prefix, and random byte mutations: never a crash or an out-of-bounds read. */
static void test_robust(void **state)
{
    size_t n = strlen(g_active);
    char *buf = malloc(n);
    pcscf_reginfo_t ri;
    unsigned seed = 12345;
    static const char alphabet[] = "<>/=\"'!?-[]: xa";

    for (size_t i = 0; i < n; i++) {
        memcpy(buf, g_active, i);
        /* a truncated document is never complete, except after the root closed */
        if (pcscf_reginfo_parse(buf, i, &ri) == IMS_OK)
            assert_true(i >= (size_t)(strstr(g_active, "</reginfo>") - g_active) + 10);
    }
    for (int round = 0; round < 5000; round++) {
        memcpy(buf, g_active, n);
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[(seed >> 8) % n] = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
        }
        pcscf_reginfo_parse(buf, n, &ri);
    }
    free(buf);
}

#define ONE_CONTACT_FMT                                                                    \
    "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"1\" state=\"partial\">"    \
    "<registration aor=\"" AOR "\" id=\"a1\" state=\"active\">"                              \
    "<contact id=\"c1\" state=\"terminated\" event=\"expired\"><uri>%s</uri></contact>"       \
    "<contact id=\"c2\" state=\"active\" event=\"registered\"><uri>sip:x@h</uri></contact>"    \
    "</registration></reginfo>"

static pcscf_ue_t *alice(pcscf_ctx_t *ctx)
{
    pcscf_reg_data_t d;
    bool is_new;

    memset(&d, 0, sizeof(d));
    d.contact = (pcscf_str_t){ UE_CONTACT, strlen(UE_CONTACT) };
    d.impu[0] = (pcscf_str_t){ AOR, strlen(AOR) };
    d.impu[1] = (pcscf_str_t){ "tel:+15551234", 13 };
    d.nimpu = 2;
    return pcscf_ue_store(ctx, "u:10.0.0.1:5070", &d, 3600, &is_new);
}

static void test_decision(void **state)
{
    pcscf_ctx_t *ctx = pcscf_ctx_new(NULL);
    pcscf_ue_t *ue = alice(ctx);
    pcscf_reginfo_t ri;
    char why[96];
    char doc[1024];

    /* Active: nothing happens. */
    assert_int_equal(pcscf_reginfo_parse(g_active, strlen(g_active), &ri), IMS_OK);
    assert_false(pcscf_regevent_terminates(ue, "active;expires=3600", &ri, why, sizeof(why)));
    /* RTR: terminated/deactivated, and the subscription ends too. */
    assert_int_equal(pcscf_reginfo_parse(g_deactivated, strlen(g_deactivated), &ri), IMS_OK);
    assert_true(pcscf_regevent_terminates(ue, "terminated;reason=deactivated", &ri, why,
                                          sizeof(why)));
    assert_string_equal(why, "deactivated");
    /* Without a body, Subscription-State alone decides. */
    assert_true(pcscf_regevent_terminates(ue, "terminated;reason=noresource", NULL, why,
                                          sizeof(why)));
    assert_string_equal(why, "subscription terminated: noresource");
    assert_false(pcscf_regevent_terminates(ue, "active;expires=10", NULL, why, sizeof(why)));
    assert_false(pcscf_regevent_terminates(ue, NULL, NULL, why, sizeof(why)));
    /* Our contact expiring under an active registration: dropped; another contact of
     * the same identity going away is not ours. */
    snprintf(doc, sizeof(doc), ONE_CONTACT_FMT, UE_CONTACT);
    assert_int_equal(pcscf_reginfo_parse(doc, strlen(doc), &ri), IMS_OK);
    assert_true(pcscf_regevent_terminates(ue, "active", &ri, why, sizeof(why)));
    assert_string_equal(why, "expired");
    snprintf(doc, sizeof(doc), ONE_CONTACT_FMT, "sip:alice@10.0.0.9:5070");
    assert_int_equal(pcscf_reginfo_parse(doc, strlen(doc), &ri), IMS_OK);
    assert_false(pcscf_regevent_terminates(ue, "active", &ri, why, sizeof(why)));
    /* Same binding written differently (default port, case of the host). */
    snprintf(doc, sizeof(doc), ONE_CONTACT_FMT, "sip:alice@10.0.0.1:5070;transport=udp");
    assert_int_equal(pcscf_reginfo_parse(doc, strlen(doc), &ri), IMS_OK);
    assert_true(pcscf_regevent_terminates(ue, "active", &ri, why, sizeof(why)));
    /* A registration of another identity ending does not drop the UE. */
    snprintf(doc, sizeof(doc), "%s", g_deactivated);
    memcpy(strstr(doc, "sip:alice"), "sip:bobby", 9);
    assert_int_equal(pcscf_reginfo_parse(doc, strlen(doc), &ri), IMS_OK);
    assert_false(pcscf_regevent_terminates(ue, "active", &ri, why, sizeof(why)));
    pcscf_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_active),
        cmocka_unit_test(test_terminated),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_robust),
        cmocka_unit_test(test_decision),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
