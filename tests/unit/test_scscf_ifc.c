/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The S-CSCF's iFC evaluation (scscf/ifc.c, scscf/ifc-match.c) on real input:
 * User-Data XML parsed by scscf_user_data_parse (and the document ims-hss
 * builds), requests parsed from text by sip_msg_parse. TriggerPoint formulas
 * are checked against their truth tables over every combination of SPT
 * results (three header-presence SPTs toggled by the message), then each SPT
 * kind, ProfilePartIndicator, priority order with resumption after an AS,
 * and the patterns an HSS may get wrong.
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

#include "common/core/log.h"
#include "hss/user-data.c"
#include "scscf/ifc-match.c"
#include "scscf/ifc.c"
#include "scscf/user-data.c"

/* ---- User-Data ---------------------------------------------------------- */

#define IFC_AS(prio, cnf, spts, as)                                                   \
    "<InitialFilterCriteria><Priority>" #prio "</Priority><TriggerPoint>"             \
    "<ConditionTypeCNF>" #cnf "</ConditionTypeCNF>" spts "</TriggerPoint>"           \
    "<ApplicationServer><ServerName>" as "</ServerName>"                              \
    "<DefaultHandling>0</DefaultHandling></ApplicationServer></InitialFilterCriteria>"
#define IFC(cnf, spts) IFC_AS(0, cnf, spts, "sip:as.ims.test")
#define SPT(neg, groups, cond) \
    "<SPT><ConditionNegated>" #neg "</ConditionNegated>" groups cond "</SPT>"
#define G(n) "<Group>" #n "</Group>"
#define HDR(name) "<SIPHeader><Header>" name "</Header></SIPHeader>"
#define HDRC(name, c) "<SIPHeader><Header>" name "</Header><Content>" c "</Content></SIPHeader>"
#define METHOD(m) "<Method>" m "</Method>"
#define RURI(r) "<RequestURI>" r "</RequestURI>"
#define SCASE(n) "<SessionCase>" #n "</SessionCase>"
#define SDPL(l) "<SessionDescription><Line>" l "</Line></SessionDescription>"
#define SDPC(l, c) \
    "<SessionDescription><Line>" l "</Line><Content>" c "</Content></SessionDescription>"
#define REGT(t) "<Extension><RegistrationType>" #t "</RegistrationType></Extension>"

static scscf_profile_t *profile(const char *ifcs)
{
    static const char fmt[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><IMSSubscription>"
        "<PrivateID>alice@ims.test</PrivateID><ServiceProfile><PublicIdentity>"
        "<Identity>sip:alice@ims.test</Identity></PublicIdentity>%s</ServiceProfile>"
        "</IMSSubscription>";
    char xml[16384], err[96] = "";
    scscf_profile_t *p;
    int n = snprintf(xml, sizeof(xml), fmt, ifcs);

    assert_true(n > 0 && (size_t)n < sizeof(xml));
    p = scscf_user_data_parse(xml, (size_t)n, err, sizeof(err));
    if (!p)
        fail_msg("User-Data refused: %s", err);
    return p;
}

/* ---- requests ----------------------------------------------------------- */

static sip_msg_t *parse(const char *text)
{
    sip_msg_t *m = NULL;
    const char *why = NULL;

    if (sip_msg_parse(text, strlen(text), NULL, 65535, &m, &why) != SIP_PARSE_OK)
        fail_msg("request refused: %s", why ? why : "?");
    return m;
}

/* A request with extra header lines (each ending in CRLF) and an optional body. */
static sip_msg_t *request(const char *method, const char *ruri, const char *hdrs,
                          const char *ctype, const char *body)
{
    char buf[8192];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(buf, sizeof(buf),
                     "%s %s SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKifc1\r\n"
                     "From: \"Alice\" <sip:alice@ims.test>;tag=a1\r\n"
                     "To: <sip:bob@ims.test>\r\n"
                     "Call-ID: ifc-1@10.0.0.1\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n"
                     "%s%s%s%sContent-Length: %zu\r\n\r\n%s",
                     method, ruri, method, hdrs ? hdrs : "", ctype ? "Content-Type: " : "",
                     ctype ? ctype : "", ctype ? "\r\n" : "", blen, body ? body : "");

    assert_true(n > 0 && (size_t)n < sizeof(buf));
    return parse(buf);
}

static sip_msg_t *invite(const char *hdrs)
{
    return request("INVITE", "sip:bob@ims.test", hdrs, NULL, NULL);
}

/* Free the messages given, up to a NULL. */
static void free_msgs(sip_msg_t *m, ...)
{
    va_list ap;

    va_start(ap, m);
    for (; m; m = va_arg(ap, sip_msg_t *))
        sip_msg_free(m);
    va_end(ap);
}

/* An INVITE carrying X-A, X-B, X-C as bits 0, 1, 2 of abc say. */
static sip_msg_t *abc_request(unsigned abc)
{
    char hdrs[64];

    snprintf(hdrs, sizeof(hdrs), "%s%s%s", abc & 1 ? "X-A: 1\r\n" : "",
             abc & 2 ? "X-B: 1\r\n" : "", abc & 4 ? "X-C: 1\r\n" : "");
    return invite(hdrs);
}

/* The first iFC of ifcs_xml against each of the 8 messages, compared with want(a, b, c). */
static void truth_table(const char *ifcs_xml, bool (*want)(bool, bool, bool))
{
    scscf_profile_t *p = profile(ifcs_xml);

    for (unsigned abc = 0; abc < 8; abc++) {
        sip_msg_t *m = abc_request(abc);
        bool got = scscf_ifc_matches(&p->ifcs[0], m, SCSCF_CASE_ORIG, true);
        bool exp = want(abc & 1, abc & 2, abc & 4);

        if (got != exp)
            fail_msg("A=%u B=%u C=%u: got %d, want %d", abc & 1, !!(abc & 2), !!(abc & 4),
                     got, exp);
        sip_msg_free(m);
    }
    scscf_profile_free(p);
}

static bool f_cnf(bool a, bool b, bool c) { return (a || b) && c; }
static bool f_dnf(bool a, bool b, bool c) { return (a && b) || c; }
static bool f_cnf_neg(bool a, bool b, bool c) { return (a || !b) && !c; }
static bool f_dnf_neg(bool a, bool b, bool c) { return (!a && b) || !c; }
static bool f_cnf_multi(bool a, bool b, bool c) { return (a || b) && (a || c); }
static bool f_dnf_multi(bool a, bool b, bool c) { return (a && b) || (a && c); }
static bool f_and3(bool a, bool b, bool c) { return a && b && c; }
static bool f_or3(bool a, bool b, bool c) { return a || b || c; }

/* CNF: SPTs of a group are ORed, the groups ANDed: (A | B) & C. */
static void test_cnf_truth_table(void **state)
{
    (void)state;
    truth_table(IFC(1, SPT(0, G(0), HDR("X-A")) SPT(0, G(0), HDR("X-B"))
                       SPT(0, G(1), HDR("X-C"))), f_cnf);
}

/* DNF: the same XML shape means (A & B) | C. */
static void test_dnf_truth_table(void **state)
{
    (void)state;
    truth_table(IFC(0, SPT(0, G(0), HDR("X-A")) SPT(0, G(0), HDR("X-B"))
                       SPT(0, G(1), HDR("X-C"))), f_dnf);
}

static void test_negation_truth_table(void **state)
{
    (void)state;
    truth_table(IFC(1, SPT(0, G(0), HDR("X-A")) SPT(1, G(0), HDR("X-B"))
                       SPT(1, G(1), HDR("X-C"))), f_cnf_neg);
    truth_table(IFC(0, SPT(1, G(0), HDR("X-A")) SPT(0, G(0), HDR("X-B"))
                       SPT(1, G(1), HDR("X-C"))), f_dnf_neg);
}

/* A in groups 0 and 1: CNF (A | B) & (A | C), DNF (A & B) | (A & C). Group
 * numbers need not be contiguous nor start at 0. */
static void test_multi_group_spt(void **state)
{
    (void)state;
    truth_table(IFC(1, SPT(0, G(3) G(7), HDR("X-A")) SPT(0, G(3), HDR("X-B"))
                       SPT(0, G(7), HDR("X-C"))), f_cnf_multi);
    truth_table(IFC(0, SPT(0, G(3) G(7), HDR("X-A")) SPT(0, G(3), HDR("X-B"))
                       SPT(0, G(7), HDR("X-C"))), f_dnf_multi);
}

/* One group: CNF is an OR, DNF an AND; separate groups: the reverse. An SPT
 * without Group counts as group 0. */
static void test_single_and_missing_group(void **state)
{
    (void)state;
    truth_table(IFC(1, SPT(0, G(0), HDR("X-A")) SPT(0, G(0), HDR("X-B"))
                       SPT(0, G(0), HDR("X-C"))), f_or3);
    truth_table(IFC(0, SPT(0, G(0), HDR("X-A")) SPT(0, G(0), HDR("X-B"))
                       SPT(0, G(0), HDR("X-C"))), f_and3);
    truth_table(IFC(1, SPT(0, G(0), HDR("X-A")) SPT(0, G(1), HDR("X-B"))
                       SPT(0, G(2), HDR("X-C"))), f_and3);
    truth_table(IFC(0, SPT(0, "", HDR("X-A")) SPT(0, G(0), HDR("X-B"))
                       SPT(0, G(1), HDR("X-C"))), f_dnf);
}

/* No TriggerPoint (or an empty one): every request, any session case. */
static void test_no_trigger_point(void **state)
{
    scscf_profile_t *p = profile(
        "<InitialFilterCriteria><Priority>0</Priority><ApplicationServer>"
        "<ServerName>sip:all.ims.test</ServerName></ApplicationServer></InitialFilterCriteria>"
        "<InitialFilterCriteria><Priority>1</Priority><TriggerPoint><ConditionTypeCNF>1"
        "</ConditionTypeCNF></TriggerPoint><ApplicationServer><ServerName>sip:e.ims.test"
        "</ServerName></ApplicationServer></InitialFilterCriteria>");
    const char *methods[] = { "INVITE", "MESSAGE", "REGISTER", "OPTIONS", "SUBSCRIBE" };
    sip_msg_t *r;

    (void)state;
    assert_int_equal(p->ifcs[0].nspts, 0);
    for (size_t i = 0; i < IMS_ARRAY_LEN(methods); i++) {
        sip_msg_t *m = request(methods[i], "sip:bob@ims.test", NULL, NULL, NULL);

        for (int sc = 0; sc <= 4; sc++) {
            assert_true(scscf_ifc_matches(&p->ifcs[0], m, sc, sc != 2));
            assert_true(scscf_ifc_matches(&p->ifcs[1], m, sc, false));
        }
        sip_msg_free(m);
    }
    /* but never a response, nor no request */
    r = parse("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKr\r\n"
              "From: <sip:a@ims.test>;tag=1\r\nTo: <sip:b@ims.test>;tag=2\r\n"
              "Call-ID: r1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
    assert_false(scscf_ifc_matches(&p->ifcs[0], r, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[0], NULL, 0, true));
    assert_false(scscf_ifc_matches(NULL, r, 0, true));
    sip_msg_free(r);
    scscf_profile_free(p);
}

static void test_method(void **state)
{
    scscf_profile_t *p = profile(IFC(1, SPT(0, G(0), METHOD("INVITE")))
                                 IFC(1, SPT(0, G(0), METHOD("invite")))
                                 IFC(1, SPT(0, G(0), METHOD("MESSAGE")))
                                 IFC(1, SPT(1, G(0), METHOD("INVITE")))
                                 IFC(1, SPT(0, G(0), METHOD(""))));
    sip_msg_t *inv = invite(NULL);
    sip_msg_t *msg = request("MESSAGE", "sip:bob@ims.test", NULL, "text/plain", "hi");
    sip_msg_t *ext = request("PUBLISH", "sip:bob@ims.test", "Event: presence\r\n", NULL, NULL);

    (void)state;
    assert_true(scscf_ifc_matches(&p->ifcs[0], inv, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[1], inv, 0, true));   /* case-sensitive */
    assert_false(scscf_ifc_matches(&p->ifcs[2], inv, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[2], msg, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[3], inv, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[3], msg, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[3], ext, 0, true));
    for (int i = 0; i < 5; i++)
        if (i != 3)
            assert_false(scscf_ifc_matches(&p->ifcs[i], ext, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[4], inv, 0, true));
    free_msgs(inv, msg, ext, NULL);
    scscf_profile_free(p);
}

static void test_request_uri(void **state)
{
    scscf_profile_t *p = profile(IFC(1, SPT(0, G(0), RURI("^sip:bob@ims\\.test$")))
                                 IFC(1, SPT(0, G(0), RURI("^tel:\\+1555")))
                                 IFC(1, SPT(0, G(0), RURI("user=phone")))
                                 IFC(1, SPT(0, G(0), RURI("@ims\\.test"))));
    sip_msg_t *bob = invite(NULL);
    sip_msg_t *upper = request("INVITE", "sip:bob@IMS.TEST", NULL, NULL, NULL);
    sip_msg_t *tel = request("INVITE", "tel:+15551234;phone-context=ims.test", NULL, NULL, NULL);
    sip_msg_t *phone = request("INVITE", "sip:+15551234@ims.test;user=phone", NULL, NULL, NULL);
    sip_msg_t *other = request("INVITE", "sip:bob@other.test", NULL, NULL, NULL);

    (void)state;
    assert_true(scscf_ifc_matches(&p->ifcs[0], bob, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[0], upper, 0, true));   /* REG_ICASE */
    assert_false(scscf_ifc_matches(&p->ifcs[0], phone, 0, true));  /* anchored by the pattern */
    assert_true(scscf_ifc_matches(&p->ifcs[1], tel, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[1], phone, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[2], phone, 0, true));   /* parameters are in it */
    assert_false(scscf_ifc_matches(&p->ifcs[2], bob, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[3], phone, 0, true));   /* unanchored search */
    assert_false(scscf_ifc_matches(&p->ifcs[3], other, 0, true));
    free_msgs(bob, upper, tel, phone, other, NULL);
    scscf_profile_free(p);
}

/* Presence, content in any instance, names in any case, negation of absence. */
static void test_sip_header(void **state)
{
    scscf_profile_t *p = profile(
        IFC(1, SPT(0, G(0), HDRC("Accept-Contact", "\\+g\\.3gpp\\.icsi-ref=\"[^\"]*mmtel")))
        IFC(1, SPT(0, G(0), HDR("accept-CONTACT")))
        IFC(1, SPT(1, G(0), HDR("P-Asserted-Service")))
        IFC(1, SPT(0, G(0), HDRC("P-Asserted-Identity", "^&lt;tel:\\+1")))
        IFC(1, SPT(0, G(0), HDR(""))));
    sip_msg_t *mmtel = invite(
        "Accept-Contact: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"\r\n"
        "P-Asserted-Identity: <sip:alice@ims.test>\r\n"
        "P-Asserted-Identity: <tel:+15550001>\r\n");
    sip_msg_t *other = invite("Accept-Contact: *;+g.oma.sip-im\r\n"
                              "P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel\r\n"
                              "P-Asserted-Identity: <sip:alice@ims.test>\r\n");
    sip_msg_t *none = invite(NULL);

    (void)state;
    assert_true(scscf_ifc_matches(&p->ifcs[0], mmtel, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[0], other, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[0], none, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[1], other, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[1], none, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[2], none, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[2], mmtel, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[2], other, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[3], mmtel, 0, true));  /* the second instance */
    assert_false(scscf_ifc_matches(&p->ifcs[3], other, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[4], mmtel, 0, true));
    free_msgs(mmtel, other, none, NULL);
    scscf_profile_free(p);
}

/* Headers libosip2 parses into fields are matched on their printed values. */
static void test_parsed_headers(void **state)
{
    scscf_profile_t *p = profile(
        IFC(1, SPT(0, G(0), HDRC("From", "sip:alice@ims\\.test")))
        IFC(1, SPT(0, G(0), HDRC("To", "&lt;sip:bob@")))
        IFC(1, SPT(0, G(0), HDRC("Via", "10\\.0\\.0\\.2")))
        IFC(1, SPT(0, G(0), HDRC("Contact", "\\+sip\\.instance")))
        IFC(1, SPT(0, G(0), HDRC("Route", "orig@scscf")))
        IFC(1, SPT(0, G(0), HDRC("Call-ID", "^ifc-1@")))
        IFC(1, SPT(0, G(0), HDRC("CSeq", "INVITE")))
        IFC(1, SPT(0, G(0), HDRC("Content-Type", "application/sdp")))
        IFC(1, SPT(0, G(0), HDRC("Allow", "PRACK")))
        IFC(1, SPT(0, G(0), HDR("Record-Route"))));
    sip_msg_t *m = request("INVITE", "sip:bob@ims.test",
                           "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKifc2\r\n"
                           "Contact: <sip:alice@10.0.0.1>;+sip.instance=\"<urn:uuid:1>\"\r\n"
                           "Route: <sip:pcscf.ims.test;lr>, <sip:orig@scscf.ims.test;lr>\r\n"
                           "Allow: INVITE, ACK, PRACK\r\n",
                           "application/sdp", "v=0\r\n");
    size_t n = (size_t)p->nifc;

    (void)state;
    for (size_t i = 0; i + 1 < n; i++)
        if (!scscf_ifc_matches(&p->ifcs[i], m, 0, true))
            fail_msg("parsed header SPT %zu (%s) did not match", i, p->ifcs[i].spts[0].what);
    assert_false(scscf_ifc_matches(&p->ifcs[n - 1], m, 0, true));   /* no Record-Route */
    sip_msg_free(m);
    scscf_profile_free(p);
}

/* The sender's compact forms and the HSS's long names (and the reverse) meet. */
static void test_compact_forms(void **state)
{
    scscf_profile_t *p = profile(
        IFC(1, SPT(0, G(0), HDRC("From", "alice")))
        IFC(1, SPT(0, G(0), HDRC("To", "bob")))
        IFC(1, SPT(0, G(0), HDRC("Via", "z9hG4bKc")))
        IFC(1, SPT(0, G(0), HDRC("Contact", "10\\.9\\.9\\.9")))
        IFC(1, SPT(0, G(0), HDRC("Call-ID", "compact-1")))
        IFC(1, SPT(0, G(0), HDRC("Subject", "lunch")))
        IFC(1, SPT(0, G(0), HDRC("Supported", "100rel")))
        IFC(1, SPT(0, G(0), HDRC("Content-Type", "sdp")))
        IFC(1, SPT(0, G(0), HDRC("Accept-Contact", "mmtel")))
        IFC(1, SPT(0, G(0), HDRC("Event", "presence")))
        IFC(1, SPT(0, G(0), HDR("Content-Length")))
        IFC(1, SPT(0, G(0), HDRC("k", "timer")))
        IFC(1, SPT(0, G(0), HDRC("s", "dinner"))));
    sip_msg_t *c = parse("INVITE sip:bob@ims.test SIP/2.0\r\n"
                         "v: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bKc\r\n"
                         "f: <sip:alice@ims.test>;tag=1\r\nt: <sip:bob@ims.test>\r\n"
                         "i: compact-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
                         "m: <sip:alice@10.9.9.9>\r\ns: lunch\r\nk: 100rel\r\n"
                         "a: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"\r\n"
                         "o: presence\r\nc: application/sdp\r\nl: 5\r\n\r\nv=0\r\n");
    sip_msg_t *l = invite("Supported: timer\r\nSubject: lunch\r\n");

    (void)state;
    for (int i = 0; i < 11; i++)
        if (!scscf_ifc_matches(&p->ifcs[i], c, 0, true))
            fail_msg("compact header for SPT %d (%s) not found", i, p->ifcs[i].spts[0].what);
    assert_false(scscf_ifc_matches(&p->ifcs[11], c, 0, true));   /* k: 100rel only */
    assert_true(scscf_ifc_matches(&p->ifcs[11], l, 0, true));    /* "k" finds Supported: */
    assert_false(scscf_ifc_matches(&p->ifcs[12], l, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[5], l, 0, true));
    free_msgs(c, l, NULL);
    scscf_profile_free(p);
}

static void test_session_case(void **state)
{
    scscf_profile_t *p = profile(IFC(1, SPT(0, G(0), SCASE(0))) IFC(1, SPT(0, G(0), SCASE(1)))
                                 IFC(1, SPT(0, G(0), SCASE(2))) IFC(1, SPT(0, G(0), SCASE(3)))
                                 IFC(1, SPT(0, G(0), SCASE(4))) IFC(1, SPT(1, G(0), SCASE(0))));
    sip_msg_t *m = invite(NULL);

    (void)state;
    assert_int_equal(SCSCF_CASE_ORIG, 0);
    assert_int_equal(SCSCF_CASE_TERM_REG, 1);
    assert_int_equal(SCSCF_CASE_TERM_UNREG, 2);
    assert_int_equal(SCSCF_CASE_ORIG_UNREG, 3);
    assert_int_equal(SCSCF_CASE_ORIG_CDIV, 4);
    for (int sc = 0; sc <= 4; sc++) {
        for (int i = 0; i <= 4; i++)
            assert_int_equal(scscf_ifc_matches(&p->ifcs[i], m, sc, true), i == sc);
        assert_int_equal(scscf_ifc_matches(&p->ifcs[5], m, sc, true), sc != 0);
    }
    sip_msg_free(m);
    scscf_profile_free(p);
}

static const char SDP_AUDIO[] =
    "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 96 8\r\na=rtpmap:96 AMR-WB/16000\r\n";

static void test_session_description(void **state)
{
    scscf_profile_t *p = profile(IFC(1, SPT(0, G(0), SDPC("m", "^audio ")))
                                 IFC(1, SPT(0, G(0), SDPC("m", "video")))
                                 IFC(1, SPT(0, G(0), SDPC("a", "AMR-WB")))
                                 IFC(1, SPT(0, G(0), SDPL("c")))
                                 IFC(1, SPT(1, G(0), SDPC("m", "audio")))
                                 IFC(1, SPT(0, G(0), SDPC("c", "^IN IP4 10\\.0\\.0\\.1$"))));
    sip_msg_t *audio = request("INVITE", "sip:bob@ims.test", NULL, "application/sdp", SDP_AUDIO);
    sip_msg_t *lf = request("INVITE", "sip:bob@ims.test", NULL, "Application/SDP",
                            "v=0\nc=IN IP4 10.0.0.1\nm=video 5000 RTP/AVP 97\n");
    sip_msg_t *text = request("MESSAGE", "sip:bob@ims.test", NULL, "text/plain",
                              "m=audio 1 RTP/AVP 0\r\n");
    sip_msg_t *none = invite(NULL);

    (void)state;
    assert_true(scscf_ifc_matches(&p->ifcs[0], audio, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[1], audio, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[2], audio, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[3], audio, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[4], audio, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[5], audio, 0, true));   /* CR not in the value */
    /* LF-only lines, type/subtype in any case */
    assert_false(scscf_ifc_matches(&p->ifcs[0], lf, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[1], lf, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[5], lf, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[4], lf, 0, true));
    /* not SDP, no body */
    for (int i = 0; i < 4; i++) {
        assert_false(scscf_ifc_matches(&p->ifcs[i], text, 0, true));
        assert_false(scscf_ifc_matches(&p->ifcs[i], none, 0, true));
    }
    assert_true(scscf_ifc_matches(&p->ifcs[4], text, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[4], none, 0, true));
    free_msgs(audio, lf, text, none, NULL);
    scscf_profile_free(p);
}

/* An application/sdp part of a multipart body (e.g. SDP next to a PIDF-LO). */
static void test_session_description_multipart(void **state)
{
    static const char body[] =
        "--b1\r\nContent-Type: application/pidf+xml\r\n\r\n<presence>m=video</presence>\r\n"
        "--b1\r\nContent-Type: application/sdp\r\n\r\n"
        "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n"
        "--b1--\r\n";
    scscf_profile_t *p = profile(IFC(1, SPT(0, G(0), SDPC("m", "audio")))
                                 IFC(1, SPT(0, G(0), SDPC("m", "video"))));
    sip_msg_t *m = request("INVITE", "sip:bob@ims.test", NULL, "multipart/mixed;boundary=b1",
                           body);

    (void)state;
    assert_true(scscf_ifc_matches(&p->ifcs[0], m, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[1], m, 0, true));
    sip_msg_free(m);
    scscf_profile_free(p);
}

static sip_msg_t *reg(const char *hdrs)
{
    return request("REGISTER", "sip:ims.test", hdrs, NULL, NULL);
}

/* RegistrationType alone (as ims-hss writes it) or as the Method REGISTER extension. */
static void test_registration_type(void **state)
{
    scscf_profile_t *p = profile(
        IFC(1, SPT(0, G(0), REGT(0)))
        IFC(1, SPT(0, G(0), REGT(1)))
        IFC(1, SPT(0, G(0), REGT(2)))
        IFC(1, SPT(0, G(0), METHOD("REGISTER") REGT(0) REGT(2)))
        IFC(1, SPT(0, G(0), METHOD("REGISTER"))));
    sip_msg_t *add = reg("Contact: <sip:alice@10.0.0.1>\r\nExpires: 600\r\n");
    sip_msg_t *param0 = reg("Contact: <sip:alice@10.0.0.1>;expires=0\r\nExpires: 600\r\n");
    sip_msg_t *hdr0 = reg("Contact: <sip:alice@10.0.0.1>, <sip:alice@10.0.0.2>\r\n"
                          "Expires: 0\r\n");
    sip_msg_t *one = reg("Contact: <sip:a@10.0.0.1>;expires=0, <sip:a@10.0.0.2>;expires=60\r\n"
                         "Expires: 0\r\n");
    sip_msg_t *star = reg("Contact: *\r\nExpires: 0\r\n");
    sip_msg_t *query = reg(NULL);
    sip_msg_t *inv = invite("Contact: <sip:alice@10.0.0.1>\r\nExpires: 600\r\n");
    scscf_ifc_env_t env = { SCSCF_CASE_ORIG, true, SCSCF_REG_RE };

    (void)state;
    assert_int_equal(scscf_ifc_reg_type(add), SCSCF_REG_INITIAL | SCSCF_REG_RE);
    assert_int_equal(scscf_ifc_reg_type(param0), SCSCF_REG_DE);
    assert_int_equal(scscf_ifc_reg_type(hdr0), SCSCF_REG_DE);
    assert_int_equal(scscf_ifc_reg_type(one), SCSCF_REG_INITIAL | SCSCF_REG_RE);
    assert_int_equal(scscf_ifc_reg_type(star), SCSCF_REG_DE);
    assert_int_equal(scscf_ifc_reg_type(query), 0);
    assert_int_equal(scscf_ifc_reg_type(inv), 0);
    /* derived from the request */
    assert_true(scscf_ifc_matches(&p->ifcs[0], add, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[1], add, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[2], add, 0, true));
    assert_false(scscf_ifc_matches(&p->ifcs[0], star, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[2], star, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[2], param0, 0, true));
    assert_true(scscf_ifc_matches(&p->ifcs[3], hdr0, 0, true));
    for (int i = 0; i < 4; i++) {
        assert_false(scscf_ifc_matches(&p->ifcs[i], inv, 0, true));
        assert_false(scscf_ifc_matches(&p->ifcs[i], query, 0, true));
    }
    assert_true(scscf_ifc_matches(&p->ifcs[4], query, 0, true));   /* plain Method */
    /* told by the S-CSCF: a re-registration */
    assert_false(scscf_ifc_matches_env(&p->ifcs[0], add, &env));
    assert_true(scscf_ifc_matches_env(&p->ifcs[1], add, &env));
    assert_false(scscf_ifc_matches_env(&p->ifcs[3], add, &env));
    env.reg_type = SCSCF_REG_INITIAL;
    assert_true(scscf_ifc_matches_env(&p->ifcs[3], add, &env));
    assert_false(scscf_ifc_matches_env(&p->ifcs[3], inv, &env));
    free_msgs(add, param0, hdr0, one, star, query, inv, NULL);
    scscf_profile_free(p);
}

static void test_profile_part(void **state)
{
    scscf_profile_t *p = profile(
        "<InitialFilterCriteria><Priority>1</Priority><ApplicationServer><ServerName>sip:r"
        "</ServerName></ApplicationServer><ProfilePartIndicator>0</ProfilePartIndicator>"
        "</InitialFilterCriteria>"
        "<InitialFilterCriteria><Priority>2</Priority><ApplicationServer><ServerName>sip:u"
        "</ServerName></ApplicationServer><ProfilePartIndicator>1</ProfilePartIndicator>"
        "</InitialFilterCriteria>"
        "<InitialFilterCriteria><Priority>3</Priority><ApplicationServer><ServerName>sip:b"
        "</ServerName></ApplicationServer></InitialFilterCriteria>");
    sip_msg_t *m = invite(NULL);
    const scscf_ifc_t *f;
    int pos = SCSCF_IFC_START;

    (void)state;
    assert_true(scscf_ifc_matches(&p->ifcs[0], m, SCSCF_CASE_TERM_REG, true));
    assert_false(scscf_ifc_matches(&p->ifcs[0], m, SCSCF_CASE_TERM_UNREG, false));
    assert_false(scscf_ifc_matches(&p->ifcs[1], m, SCSCF_CASE_TERM_REG, true));
    assert_true(scscf_ifc_matches(&p->ifcs[1], m, SCSCF_CASE_TERM_UNREG, false));
    assert_true(scscf_ifc_matches(&p->ifcs[2], m, SCSCF_CASE_TERM_REG, true));
    assert_true(scscf_ifc_matches(&p->ifcs[2], m, SCSCF_CASE_TERM_UNREG, false));
    /* the walk for an unregistered user skips the registered part */
    f = scscf_ifc_next(p, m, SCSCF_CASE_TERM_UNREG, false, &pos);
    assert_non_null(f);
    assert_string_equal(f->as_name, "sip:u");
    f = scscf_ifc_next(p, m, SCSCF_CASE_TERM_UNREG, false, &pos);
    assert_non_null(f);
    assert_string_equal(f->as_name, "sip:b");
    assert_null(scscf_ifc_next(p, m, SCSCF_CASE_TERM_UNREG, false, &pos));
    sip_msg_free(m);
    scscf_profile_free(p);
}

/* The AS names the walk returns for req, from the start, joined with ',' */
static void walk(const scscf_profile_t *p, const sip_msg_t *req, int sc, char *out, size_t n)
{
    const scscf_ifc_t *f;
    int pos = SCSCF_IFC_START, guard = 0;

    out[0] = '\0';
    while ((f = scscf_ifc_next(p, req, sc, true, &pos)) != NULL && guard++ < 64) {
        size_t l = strlen(out);

        snprintf(out + l, n - l, "%s%s", l ? "," : "", f->as_name);
    }
    assert_int_equal(pos, p->nifc);
}

/* Lowest Priority first, ties in document order, non-matching ones skipped. */
static void test_priority_order(void **state)
{
    scscf_profile_t *p = profile(
        IFC_AS(50, 1, SPT(0, G(0), METHOD("INVITE")), "sip:e")
        IFC_AS(10, 1, SPT(0, G(0), METHOD("INVITE")), "sip:b")
        IFC_AS(30, 1, SPT(0, G(0), METHOD("MESSAGE")), "sip:m")
        IFC_AS(10, 1, SPT(0, G(0), SCASE(0)), "sip:c")
        IFC_AS(0, 1, SPT(0, G(0), SCASE(1)), "sip:t")
        IFC_AS(20, 0, SPT(0, G(0), METHOD("INVITE")) SPT(0, G(0), SCASE(0)), "sip:d"));
    sip_msg_t *inv = invite(NULL);
    sip_msg_t *msg = request("MESSAGE", "sip:bob@ims.test", NULL, NULL, NULL);
    char got[256];

    (void)state;
    walk(p, inv, SCSCF_CASE_ORIG, got, sizeof(got));
    assert_string_equal(got, "sip:b,sip:c,sip:d,sip:e");
    walk(p, inv, SCSCF_CASE_TERM_REG, got, sizeof(got));
    assert_string_equal(got, "sip:t,sip:b,sip:e");
    walk(p, msg, SCSCF_CASE_ORIG, got, sizeof(got));
    assert_string_equal(got, "sip:c,sip:m");
    free_msgs(inv, msg, NULL);
    scscf_profile_free(p);
}

/* The ODI keeps the cursor; the request returns from the AS, perhaps changed
 * by it, and evaluation goes on after that iFC, never before it. */
static void test_continue_after_as(void **state)
{
    scscf_profile_t *p = profile(
        IFC_AS(3, 1, SPT(0, G(0), HDR("X-Mark")), "sip:late")
        IFC_AS(1, 1, SPT(0, G(0), METHOD("INVITE")), "sip:first")
        IFC_AS(2, 1, SPT(1, G(0), HDR("X-Mark")), "sip:unmarked")
        IFC_AS(1, 1, SPT(0, G(0), METHOD("INVITE")), "sip:second"));
    sip_msg_t *out = invite(NULL), *back = invite("X-Mark: as\r\n");
    const scscf_ifc_t *f;
    int pos = SCSCF_IFC_START, odi;

    (void)state;
    f = scscf_ifc_next(p, out, SCSCF_CASE_ORIG, true, &pos);
    assert_string_equal(f->as_name, "sip:first");
    odi = pos;
    /* resumed with a returned request that the first AS marked */
    pos = odi;
    f = scscf_ifc_next(p, back, SCSCF_CASE_ORIG, true, &pos);
    assert_string_equal(f->as_name, "sip:second");
    f = scscf_ifc_next(p, back, SCSCF_CASE_ORIG, true, &pos);
    assert_string_equal(f->as_name, "sip:late");    /* "unmarked" no longer matches */
    assert_null(scscf_ifc_next(p, back, SCSCF_CASE_ORIG, true, &pos));
    assert_null(scscf_ifc_next(p, back, SCSCF_CASE_ORIG, true, &pos));   /* stays done */
    /* the same cursor resumes the same way every time */
    pos = odi;
    f = scscf_ifc_next(p, out, SCSCF_CASE_ORIG, true, &pos);
    assert_string_equal(f->as_name, "sip:second");
    f = scscf_ifc_next(p, out, SCSCF_CASE_ORIG, true, &pos);
    assert_string_equal(f->as_name, "sip:unmarked");
    /* a cursor past the end, and bad arguments */
    pos = 99;
    assert_null(scscf_ifc_next(p, out, SCSCF_CASE_ORIG, true, &pos));
    assert_null(scscf_ifc_next(p, out, SCSCF_CASE_ORIG, true, NULL));
    pos = SCSCF_IFC_START;
    assert_null(scscf_ifc_next(NULL, out, SCSCF_CASE_ORIG, true, &pos));
    free_msgs(out, back, NULL);
    scscf_profile_free(p);
}

/* Collects log lines to count warnings. */
static char *g_log;
static size_t g_log_len;

static int log_lines(const char *needle)
{
    int n = 0;

    fflush(NULL);
    for (const char *s = g_log; s && (s = strstr(s, needle)) != NULL; s++)
        n++;
    return n;
}

/* Patterns that do not compile or are refused: the SPT is false (so true when
 * negated), nothing crashes, and each is logged once. */
static void test_bad_regex(void **state)
{
    FILE *out = open_memstream(&g_log, &g_log_len);
    scscf_profile_t *p = profile(
        IFC(1, SPT(0, G(0), RURI("(")))
        IFC(1, SPT(1, G(0), RURI("(")))
        IFC(1, SPT(0, G(0), HDRC("Subject", "[z-a]")))
        IFC(1, SPT(0, G(0), HDRC("Subject", "(x)\\1")))
        IFC(1, SPT(0, G(0), HDRC("Subject", "((x{0,100}){100}){100}")))
        IFC(1, SPT(0, G(0), SDPC("m", "a{1,1001}")))
        IFC(1, SPT(0, G(0), HDRC("Subject", "x{2,5}y{3}"))));
    sip_msg_t *m = request("INVITE", "sip:(@ims.test", "Subject: xx xxyyy\r\n",
                           "application/sdp", "m=audio 1 RTP/AVP 0\r\n");
    char longpat[SCSCF_IFC_MAX_RE + 2];
    scscf_spt_t spt = { .kind = SCSCF_SPT_REQUEST_URI, .what = longpat };
    scscf_ifc_env_t env = { 0, true, 0 };

    (void)state;
    assert_non_null(out);
    ims_log_init("test", IMS_LOG_WARN, out);
    for (int round = 0; round < 3; round++) {
        assert_false(scscf_ifc_matches(&p->ifcs[0], m, 0, true));
        assert_true(scscf_ifc_matches(&p->ifcs[1], m, 0, true));
        for (int i = 2; i < 6; i++)
            assert_false(scscf_ifc_matches(&p->ifcs[i], m, 0, true));
        assert_true(scscf_ifc_matches(&p->ifcs[6], m, 0, true));   /* tame braces are fine */
    }
    assert_int_equal(log_lines("never matches"), 5);
    assert_int_equal(log_lines("\"(\""), 1);
    assert_int_equal(log_lines("back-reference"), 1);
    assert_int_equal(log_lines("repetition too large"), 2);
    /* a pattern past the length limit, though it would match */
    memset(longpat, '.', sizeof(longpat) - 1);
    longpat[sizeof(longpat) - 1] = '\0';
    longpat[0] = 's';
    assert_false(scscf_spt_matches(&spt, m, &env));
    assert_int_equal(log_lines("too long"), 1);
    ims_log_init("test", IMS_LOG_ERR, NULL);
    fclose(out);
    free(g_log);
    g_log = NULL;
    sip_msg_free(m);
    scscf_profile_free(p);
}

/* More distinct patterns than the cache holds: it is emptied and refilled,
 * results stay right, and it never grows past its bound. */
static void test_regex_cache_bounded(void **state)
{
    sip_msg_t *m = invite("Subject: n=77\r\n");
    char pat[32];
    scscf_spt_t spt = { .kind = SCSCF_SPT_HEADER, .what = "Subject", .content = pat };
    scscf_ifc_env_t env = { 0, true, 0 };

    (void)state;
    scscf_ifc_cache_clear();
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3 * SCSCF_IFC_RE_CACHE; i++) {
            snprintf(pat, sizeof(pat), "^n=%d$", i);
            assert_int_equal(scscf_spt_matches(&spt, m, &env), i == 77);
            assert_true(ims_hash_count(g_re_cache) <= SCSCF_IFC_RE_CACHE);
        }
    }
    scscf_ifc_cache_clear();
    assert_null(g_re_cache);
    assert_true(scscf_spt_matches(&spt, m, &env) == false);   /* rebuilt on demand */
    sip_msg_free(m);
}

/* The example of ims-reference.md §3.3 and the document ims-hss really sends. */
static void test_real_documents(void **state)
{
    static const char ref[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<IMSSubscription>\n"
        " <PrivateID>001010000000001@ims.mnc001.mcc001.3gppnetwork.org</PrivateID>\n"
        " <ServiceProfile>\n  <PublicIdentity><BarringIndication>0</BarringIndication>\n"
        "   <Identity>sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org</Identity>\n"
        "  </PublicIdentity>\n  <InitialFilterCriteria>\n   <Priority>0</Priority>\n"
        "   <TriggerPoint>\n    <ConditionTypeCNF>1</ConditionTypeCNF>\n"
        "    <SPT><ConditionNegated>0</ConditionNegated><Group>0</Group>"
        "<Method>INVITE</Method></SPT>\n"
        "    <SPT><ConditionNegated>0</ConditionNegated><Group>0</Group>"
        "<Method>MESSAGE</Method></SPT>\n"
        "    <SPT><ConditionNegated>0</ConditionNegated><Group>1</Group>"
        "<SessionCase>0</SessionCase></SPT>\n"
        "   </TriggerPoint>\n   <ApplicationServer>\n"
        "    <ServerName>sip:tas.ims.example.org:5060</ServerName>\n"
        "    <DefaultHandling>0</DefaultHandling>\n   </ApplicationServer>\n"
        "  </InitialFilterCriteria>\n </ServiceProfile>\n</IMSSubscription>\n";
    static hss_spt_t spts[] = {
        { HSS_SPT_METHOD, false, 0, "REGISTER", NULL, 0, 0 },
        { HSS_SPT_REG_TYPE, false, 0, NULL, NULL, 0, 1 },           /* initial */
        { HSS_SPT_HEADER, false, 0, "Accept-Contact", "mmtel", 0, 0 },
        { HSS_SPT_SESSION_CASE, false, 0, NULL, NULL, 1, 0 },
    };
    static hss_ifc_t ifcs[] = {
        { 5, false, spts, 2, "sip:reg-as.ims.test", 0, NULL, true, false, -1 },
        { 1, true, spts + 2, 1, "sip:mmtel.ims.test", 1, NULL, false, false, 0 },
        { 1, true, spts + 3, 1, "sip:term.ims.test", 0, NULL, false, false, -1 },
    };
    static hss_profile_t prof = { "p", ifcs, 3, false };
    scscf_profile_t *p = scscf_user_data_parse(ref, strlen(ref), NULL, 0), *h;
    sip_msg_t *inv = invite("Accept-Contact: *;+g.3gpp.icsi-ref=\"mmtel\"\r\n");
    sip_msg_t *msg = request("MESSAGE", "sip:bob@ims.test", NULL, "text/plain", "x");
    sip_msg_t *regm = reg("Contact: <sip:alice@10.0.0.1>\r\nExpires: 600\r\n");
    scscf_ifc_env_t env = { SCSCF_CASE_ORIG, true, SCSCF_REG_RE };
    hss_sub_t sub;
    size_t len;
    char *xml, got[256];
    int pos = SCSCF_IFC_START;

    (void)state;
    assert_non_null(p);
    assert_true(scscf_ifc_matches(&p->ifcs[0], inv, SCSCF_CASE_ORIG, true));
    assert_true(scscf_ifc_matches(&p->ifcs[0], msg, SCSCF_CASE_ORIG, true));
    assert_false(scscf_ifc_matches(&p->ifcs[0], inv, SCSCF_CASE_TERM_REG, true));
    assert_false(scscf_ifc_matches(&p->ifcs[0], regm, SCSCF_CASE_ORIG, true));
    scscf_profile_free(p);

    memset(&sub, 0, sizeof(sub));
    sub.impi = "alice@ims.test";
    sub.impus[0] = "sip:alice@ims.test";
    sub.nimpus = 1;
    sub.profile = &prof;
    xml = hss_user_data_build(&sub, 16384, &len);
    assert_non_null(xml);
    h = scscf_user_data_parse(xml, len, NULL, 0);
    assert_non_null(h);
    walk(h, inv, SCSCF_CASE_ORIG, got, sizeof(got));
    assert_string_equal(got, "sip:mmtel.ims.test");
    walk(h, inv, SCSCF_CASE_TERM_REG, got, sizeof(got));
    assert_string_equal(got, "sip:mmtel.ims.test,sip:term.ims.test");
    walk(h, regm, SCSCF_CASE_ORIG, got, sizeof(got));   /* DNF: REGISTER & initial */
    assert_string_equal(got, "sip:reg-as.ims.test");
    assert_null(scscf_ifc_next_env(h, regm, &env, &pos));   /* a re-registration */
    free(xml);
    scscf_profile_free(h);
    free_msgs(inv, msg, regm, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cnf_truth_table),
        cmocka_unit_test(test_dnf_truth_table),
        cmocka_unit_test(test_negation_truth_table),
        cmocka_unit_test(test_multi_group_spt),
        cmocka_unit_test(test_single_and_missing_group),
        cmocka_unit_test(test_no_trigger_point),
        cmocka_unit_test(test_method),
        cmocka_unit_test(test_request_uri),
        cmocka_unit_test(test_sip_header),
        cmocka_unit_test(test_parsed_headers),
        cmocka_unit_test(test_compact_forms),
        cmocka_unit_test(test_session_case),
        cmocka_unit_test(test_session_description),
        cmocka_unit_test(test_session_description_multipart),
        cmocka_unit_test(test_registration_type),
        cmocka_unit_test(test_profile_part),
        cmocka_unit_test(test_priority_order),
        cmocka_unit_test(test_continue_after_as),
        cmocka_unit_test(test_bad_regex),
        cmocka_unit_test(test_regex_cache_bounded),
        cmocka_unit_test(test_real_documents),
    };
    int rc;

    sip_msg_global_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    scscf_ifc_cache_clear();
    return rc;
}
