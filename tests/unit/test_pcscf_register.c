/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * P-CSCF header work on parsed messages (no sockets): the REGISTER rewrite
 * toward the I-CSCF (identities and sec-agree stripped, Path on top,
 * P-Visited-Network-ID, a fresh P-Charging-Vector, integrity-protected), the
 * reading of the 2xx (contact expiry, P-Associated-URI, Service-Route),
 * asserted identity and Service-Route enforcement for a registered UE, and
 * the list/param scanners those rest on. Each rewritten message is
 * serialised and parsed again, as the next hop would see it.
 *
 * The pcscf/ sources are compiled into this program (the daemon is not a library).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pcscf/context.c"
#include "pcscf/dialog.c"
#include "pcscf/headers.c"
#include "pcscf/identity.c"
#include "pcscf/register-handler.c"
#include "pcscf/regevent-path.c"
#include "pcscf/reginfo.c"
#include "pcscf/sip-handler.c"

#define HOME "ims.example.org"

static const char *g_register =
    "REGISTER sip:" HOME " SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK-ue1;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Route: <sip:10.9.9.9:5060;lr>\r\n"
    "From: <sip:alice@" HOME ">;tag=u1\r\n"
    "To: <sip:alice@" HOME ">\r\n"
    "Call-ID: reg-1\r\n"
    "CSeq: 1 REGISTER\r\n"
    "Contact: <sip:alice@10.0.0.1:5070>;expires=600000\r\n"
    "Expires: 600000\r\n"
    "P-Asserted-Identity: <sip:boss@" HOME ">\r\n"
    "P-Preferred-Identity: <sip:boss@" HOME ">\r\n"
    "P-Visited-Network-ID: \"forged.example\"\r\n"
    "P-Charging-Vector: icid-value=forged\r\n"
    "Security-Client: ipsec-3gpp; alg=hmac-sha-1-96; spi-c=1; spi-s=2; port-c=3; port-s=4\r\n"
    "Require: sec-agree\r\n"
    "Proxy-Require: sec-agree\r\n"
    "Supported: path, sec-agree, gruu\r\n"
    "Authorization: Digest username=\"alice@" HOME "\", realm=\"" HOME "\", uri=\"sip:" HOME
    "\", nonce=\"abc\", response=\"0123456789abcdef0123456789abcdef\","
    " integrity-protected=\"yes\"\r\n"
    "Path: <sip:edge@10.0.0.1;lr>\r\n"
    "Content-Length: 0\r\n\r\n";

static sip_msg_t *parse(const char *text, const char *local_ip)
{
    sip_rcv_t rcv;
    sip_msg_t *m = NULL;
    const char *reason = NULL;

    memset(&rcv, 0, sizeof(rcv));
    rcv.proto = SIP_PROTO_UDP;
    sip_addr_from(&rcv.remote, "10.0.0.1", 5070);
    if (local_ip)
        sip_addr_from(&rcv.local, local_ip, 5060);
    assert_int_equal(sip_msg_parse(text, strlen(text), &rcv, 65535, &m, &reason), SIP_PARSE_OK);
    return m;
}

/* Serialise and parse again, as the next hop sees the message; *text kept for strstr. */
static sip_msg_t *wire(const sip_msg_t *m, char **text)
{
    size_t len;
    sip_msg_t *out;

    assert_int_equal(sip_msg_to_str(m, text, &len), IMS_OK);
    out = parse(*text, NULL);
    return out;
}

static pcscf_ctx_t *new_ctx(void)
{
    pcscf_ctx_t *ctx = pcscf_ctx_new(NULL);

    ctx->cfg.name = "pcscf." HOME;
    ctx->cfg.visited_network = "visited.example.net";
    ctx->enabled = true;
    pcscf_ctx_configured(ctx);
    return ctx;
}

static void test_register_rewrite(void **state)
{
    pcscf_ctx_t *ctx = new_ctx();
    sip_msg_t *m = parse(g_register, "192.0.2.10"), *w;
    char *text = NULL;
    pcscf_str_t paths[4];
    const char *pcv;

    assert_int_equal(pcscf_register_rewrite(ctx, m), IMS_OK);
    w = wire(m, &text);
    /* What a UE must not assert is gone. */
    assert_null(sip_msg_header(w, "P-Asserted-Identity"));
    assert_null(sip_msg_header(w, "P-Preferred-Identity"));
    assert_null(strcasestr(text, "boss@"));
    assert_null(strcasestr(text, "forged"));
    assert_null(sip_msg_header(w, "Security-Client"));
    assert_null(strcasestr(text, "sec-agree"));
    assert_false(pcscf_hdr_has_tag(w, "Supported", "sec-agree"));
    assert_true(pcscf_hdr_has_tag(w, "Supported", "path"));
    assert_true(pcscf_hdr_has_tag(w, "Supported", "gruu"));
    assert_null(sip_msg_header(w, "Require"));
    assert_null(sip_msg_header(w, "Proxy-Require"));
    /* Our Path on top of the UE's. */
    assert_int_equal(pcscf_hdr_list(w, "Path", false, paths, 4), 2);
    assert_true(pcscf_str_eq(paths[0], "<sip:term@pcscf." HOME ";lr>"));
    assert_true(pcscf_str_eq(paths[1], "<sip:edge@10.0.0.1;lr>"));
    assert_string_equal(sip_msg_header(w, "P-Visited-Network-ID"), "\"visited.example.net\"");
    pcv = sip_msg_header(w, "P-Charging-Vector");
    assert_non_null(pcv);
    assert_int_equal(strncmp(pcv, "icid-value=", 11), 0);
    assert_int_equal(strspn(pcv + 11, "0123456789abcdef"), 32);
    assert_string_equal(pcv + 43, ";icid-generated-at=192.0.2.10");
    /* integrity-protected: ours only, the UE's "yes" replaced; credentials intact. */
    assert_non_null(strstr(text, "integrity-protected=\"no\""));
    assert_null(strstr(text, "integrity-protected=\"yes\""));
    assert_non_null(strstr(text, "response=\"0123456789abcdef0123456789abcdef\""));
    assert_non_null(strstr(text, "username=\"alice@" HOME "\""));
    /* One Authorization on the wire, whatever the parser keeps it as. */
    assert_non_null(strcasestr(text, "authorization:"));
    assert_null(strcasestr(strcasestr(text, "authorization:") + 1, "authorization:"));
    osip_free(text);
    sip_msg_free(w);
    sip_msg_free(m);
    pcscf_ctx_free(ctx);
}

static void test_register_rewrite_options(void **state)
{
    pcscf_ctx_t *ctx = new_ctx();
    sip_msg_t *m = parse(g_register, NULL), *w;
    char *text = NULL, *text2 = NULL;
    char icid1[33], icid2[33];

    ctx->cfg.assume_integrity = true;
    ctx->cfg.require_path = true;
    assert_int_equal(pcscf_register_rewrite(ctx, m), IMS_OK);
    w = wire(m, &text);
    assert_non_null(strstr(text, "integrity-protected=\"yes\""));
    assert_null(strstr(text, "integrity-protected=\"no\""));
    assert_true(pcscf_hdr_has_tag(w, "Require", "path"));
    /* No local address known: icid-generated-at falls back to our name. */
    assert_non_null(strstr(sip_msg_header(w, "P-Charging-Vector"), "generated-at=pcscf." HOME));
    snprintf(icid1, sizeof(icid1), "%.32s", sip_msg_header(w, "P-Charging-Vector") + 11);
    sip_msg_free(w);
    sip_msg_free(m);
    /* Each REGISTER gets its own icid. */
    m = parse(g_register, NULL);
    assert_int_equal(pcscf_register_rewrite(ctx, m), IMS_OK);
    w = wire(m, &text2);
    snprintf(icid2, sizeof(icid2), "%.32s", sip_msg_header(w, "P-Charging-Vector") + 11);
    assert_string_not_equal(icid1, icid2);
    osip_free(text);
    osip_free(text2);
    sip_msg_free(w);
    sip_msg_free(m);
    pcscf_ctx_free(ctx);
}

/* Credentials libosip2 parsed into its own fields (a stack that does not keep
 * them raw) are re-emitted as text with our parameter. */
static void test_integrity_parsed_credentials(void **state)
{
    sip_msg_t msg = { 0 };
    char *text = NULL;
    size_t len;
    const char *a;

    assert_int_equal(osip_message_init(&msg.m), 0);
    assert_int_equal(osip_message_parse(msg.m, g_register, strlen(g_register)), 0);
    assert_int_equal(osip_list_size(&msg.m->authorizations), 1);
    assert_int_equal(set_integrity(&msg, "\"no\""), IMS_OK);
    assert_int_equal(osip_list_size(&msg.m->authorizations), 0);
    assert_int_equal(sip_msg_to_str(&msg, &text, &len), IMS_OK);
    a = strcasestr(text, "authorization: digest ");
    assert_non_null(a);
    assert_null(strcasestr(a + 1, "authorization:"));
    assert_non_null(strstr(a, "username=\"alice@" HOME "\""));
    assert_non_null(strstr(a, "integrity-protected=\"no\"\r\n"));
    osip_free(text);
    osip_message_free(msg.m);
}

static char *ok_text(const char *contact, const char *extra)
{
    char *s = NULL;

    assert_true(asprintf(&s,
                         "SIP/2.0 200 OK\r\n"
                         "Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK-ue1;rport\r\n"
                         "From: <sip:alice@" HOME ">;tag=u1\r\n"
                         "To: <sip:alice@" HOME ">;tag=s1\r\n"
                         "Call-ID: reg-1\r\n"
                         "CSeq: 1 REGISTER\r\n"
                         "%s"
                         "%s"
                         "Content-Length: 0\r\n\r\n",
                         contact, extra) > 0);
    return s;
}

static void test_parse_ok(void **state)
{
    sip_msg_t *req = parse(g_register, NULL), *resp;
    char *t = ok_text("Contact: <sip:bob@10.0.0.2:5060>;expires=100, "
                      "<sip:alice@10.0.0.1:5070;transport=udp>;expires=3600\r\n",
                      "P-Associated-URI: <sip:alice@" HOME ">, \"A, B\" <tel:+15551234>\r\n"
                      "Service-Route: <sip:orig@scscf." HOME ";lr>\r\n"
                      "Service-Route: <sip:as@as." HOME ";lr>\r\n");
    pcscf_reg_data_t d;
    pcscf_reg_bufs_t bufs;
    uint32_t exp;

    resp = parse(t, NULL);
    assert_int_equal(pcscf_register_parse_ok(req, resp, &d, &exp, &bufs), IMS_OK);
    assert_int_equal(exp, 3600);  /* the UE's own contact, not bob's */
    assert_true(pcscf_str_eq(d.contact, "sip:alice@10.0.0.1:5070"));
    assert_int_equal(d.nimpu, 2);
    assert_true(pcscf_str_eq(d.impu[0], "sip:alice@" HOME));
    assert_true(pcscf_str_eq(d.impu[1], "tel:+15551234"));
    assert_int_equal(d.nroute, 2);
    assert_true(pcscf_str_eq(d.route[0], "<sip:orig@scscf." HOME ";lr>"));
    assert_true(pcscf_str_eq(d.route[1], "<sip:as@as." HOME ";lr>"));
    sip_msg_free(resp);
    free(t);

    /* Expiry from the 2xx's Expires when the contact has none; no P-Associated-URI: To. */
    t = ok_text("Contact: <sip:alice@10.0.0.1:5070>\r\n", "Expires: 1200\r\n");
    resp = parse(t, NULL);
    assert_int_equal(pcscf_register_parse_ok(req, resp, &d, &exp, &bufs), IMS_OK);
    assert_int_equal(exp, 1200);
    assert_int_equal(d.nimpu, 1);
    assert_true(pcscf_str_eq(d.impu[0], "sip:alice@" HOME));
    assert_int_equal(d.nroute, 0);
    sip_msg_free(resp);
    free(t);

    /* The UE's contact no longer listed (or expires=0): de-registered. */
    t = ok_text("Contact: <sip:bob@10.0.0.2:5060>;expires=100\r\n", "");
    resp = parse(t, NULL);
    assert_int_equal(pcscf_register_parse_ok(req, resp, &d, &exp, &bufs), IMS_OK);
    assert_int_equal(exp, 0);
    sip_msg_free(resp);
    free(t);
    t = ok_text("Contact: <sip:alice@10.0.0.1:5070>;expires=0\r\n", "");
    resp = parse(t, NULL);
    assert_int_equal(pcscf_register_parse_ok(req, resp, &d, &exp, &bufs), IMS_OK);
    assert_int_equal(exp, 0);
    sip_msg_free(resp);
    free(t);
    /* Garbage expires is ignored in favour of the headers, bounded. */
    t = ok_text("Contact: <sip:alice@10.0.0.1:5070>;expires=99999999999999999999\r\n", "");
    resp = parse(t, NULL);
    assert_int_equal(pcscf_register_parse_ok(req, resp, &d, &exp, &bufs), IMS_OK);
    assert_int_equal(exp, 600000);  /* the REGISTER's Expires */
    sip_msg_free(resp);
    free(t);
    sip_msg_free(req);
}

static void test_parse_ok_star_and_query(void **state)
{
    char *star = NULL, *query = NULL;
    sip_msg_t *req, *resp;
    pcscf_reg_data_t d;
    pcscf_reg_bufs_t bufs;
    uint32_t exp = 99;
    char *t = ok_text("", "");
    const char *c = strstr(g_register, "Contact:");
    const char *e = strstr(c, "\r\n") + 2;

    /* Contact: * -> every binding removed; no Contact at all -> a query, nothing changes. */
    assert_true(asprintf(&star, "%.*sContact: *\r\n%s", (int)(c - g_register), g_register, e) > 0);
    assert_true(asprintf(&query, "%.*s%s", (int)(c - g_register), g_register, e) > 0);
    resp = parse(t, NULL);
    req = parse(star, NULL);
    assert_int_equal(pcscf_register_parse_ok(req, resp, &d, &exp, &bufs), IMS_OK);
    assert_int_equal(exp, 0);
    sip_msg_free(req);
    req = parse(query, NULL);
    assert_int_equal(pcscf_register_parse_ok(req, resp, &d, &exp, &bufs), IMS_DECLINED);
    sip_msg_free(req);
    sip_msg_free(resp);
    free(star);
    free(query);
    free(t);
}

static pcscf_ue_t *store_alice(pcscf_ctx_t *ctx)
{
    pcscf_reg_data_t d;
    bool is_new;

    memset(&d, 0, sizeof(d));
    d.contact = (pcscf_str_t){ "sip:alice@10.0.0.1:5070", 23 };
    d.impu[0] = (pcscf_str_t){ "sip:alice@" HOME, strlen("sip:alice@" HOME) };
    d.impu[1] = (pcscf_str_t){ "tel:+15551234", 13 };
    d.nimpu = 2;
    d.route[0] = (pcscf_str_t){ "<sip:orig@scscf." HOME ";lr>",
                                strlen("<sip:orig@scscf." HOME ";lr>") };
    d.nroute = 1;
    return pcscf_ue_store(ctx, "u:10.0.0.1:5070", &d, 3600, &is_new);
}

#define MESSAGE_FMT \
    "MESSAGE sip:bob@" HOME " SIP/2.0\r\n" \
    "Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK-m1\r\n" \
    "Max-Forwards: 70\r\n" \
    "Route: <sip:elsewhere.example;lr>\r\n" \
    "From: <sip:alice@" HOME ">;tag=m1\r\n" \
    "To: <sip:bob@" HOME ">\r\n" \
    "Call-ID: msg-1\r\n" \
    "CSeq: 1 MESSAGE\r\n" \
    "P-Asserted-Identity: <sip:boss@" HOME ">\r\n" \
    "%s" \
    "Content-Length: 0\r\n\r\n"

/* A MESSAGE from the UE with extra header lines. */
static char *message_with(const char *extra)
{
    char *s = NULL;

    assert_true(asprintf(&s, MESSAGE_FMT, extra) > 0);
    return s;
}

static void assert_pai(const char *ppi, const char *want)
{
    pcscf_ctx_t *ctx = new_ctx();
    pcscf_ue_t *ue = store_alice(ctx);
    char *text = NULL, *out = NULL;
    sip_msg_t *m, *w;
    pcscf_str_t pai[4];

    text = message_with(ppi);
    m = parse(text, NULL);
    assert_non_null(pcscf_identity_assert(m, ue));
    w = wire(m, &out);
    assert_int_equal(pcscf_hdr_list(w, "P-Asserted-Identity", true, pai, 4), 1);
    assert_true(pcscf_str_eq(pai[0], want));
    assert_null(sip_msg_header(w, "P-Preferred-Identity"));
    assert_null(strstr(out, "boss@"));
    free(text);
    osip_free(out);
    sip_msg_free(w);
    sip_msg_free(m);
    pcscf_ctx_free(ctx);
}

static void test_identity(void **state)
{
    /* No preference: the default IMPU. A registered preference: that one. */
    assert_pai("", "sip:alice@" HOME);
    assert_pai("P-Preferred-Identity: <tel:+15551234>\r\n", "tel:+15551234");
    assert_pai("P-Preferred-Identity: \"Alice\" <SIP:Alice@IMS.Example.Org>\r\n",
               "sip:alice@" HOME);
    /* An identity outside the registered set is not granted. */
    assert_pai("P-Preferred-Identity: <sip:boss@" HOME ">\r\n", "sip:alice@" HOME);
    assert_pai("P-Preferred-Identity: <sip:boss@" HOME ">, <tel:+15551234>\r\n",
               "tel:+15551234");
}

static void test_strip_unregistered(void **state)
{
    char *text = NULL;
    sip_msg_t *m;

    text = message_with("P-Preferred-Identity: <sip:x@y>\r\n");
    m = parse(text, NULL);
    assert_int_equal(pcscf_identity_strip(m), 2);
    assert_null(sip_msg_header(m, "P-Asserted-Identity"));
    assert_null(sip_msg_header(m, "P-Preferred-Identity"));
    assert_int_equal(pcscf_identity_strip(m), 0);
    free(text);
    sip_msg_free(m);
}

static void test_service_route(void **state)
{
    pcscf_ctx_t *ctx = new_ctx();
    pcscf_ue_t *ue = store_alice(ctx);
    char *text = NULL, *out = NULL;
    sip_msg_t *m, *w;
    osip_route_t *rt = NULL;

    text = message_with("");
    m = parse(text, NULL);
    assert_int_equal(pcscf_enforce_service_route(m, ue), IMS_OK);
    w = wire(m, &out);
    assert_int_equal(osip_list_size(&w->m->routes), 1);
    osip_message_get_route(w->m, 0, &rt);
    assert_string_equal(rt->url->username, "orig");
    assert_string_equal(rt->url->host, "scscf." HOME);
    assert_null(strstr(out, "elsewhere"));
    free(text);
    osip_free(out);
    sip_msg_free(w);
    sip_msg_free(m);
    pcscf_ctx_free(ctx);
}

static void test_list_scanner(void **state)
{
    const char *v = " <sip:a@b;x=\",\">;p=1 , \"Doe, J\" <tel:+1>,,sip:c@d;q=2 ,";
    const char *p = v, *end = v + strlen(v);
    pcscf_str_t it, u;
    const char *want[] = { "<sip:a@b;x=\",\">;p=1", "\"Doe, J\" <tel:+1>", "sip:c@d;q=2" };
    const char *uris[] = { "sip:a@b;x=\",\"", "tel:+1", "sip:c@d" };
    size_t n = 0;

    while (pcscf_list_next(&p, end, &it)) {
        assert_true(n < 3);
        assert_true(pcscf_str_eq(it, want[n]));
        u = pcscf_nameaddr_uri(it);
        assert_true(pcscf_str_eq(u, uris[n]));
        n++;
    }
    assert_int_equal(n, 3);
    /* Unterminated quote or bracket: no URI, never a read past the slice. */
    u = pcscf_nameaddr_uri((pcscf_str_t){ "\"abc <sip:x>", 12 });
    assert_int_equal(u.n, 0);
    u = pcscf_nameaddr_uri((pcscf_str_t){ "<sip:x", 6 });
    assert_int_equal(u.n, 0);
}

static void test_auth_param_set(void **state)
{
    char *s;

    s = pcscf_auth_param_set("Digest a=1,integrity-protected=\"yes\",b=\"x,y\"",
                             "integrity-protected", "\"no\"");
    assert_string_equal(s, "Digest a=1, b=\"x,y\", integrity-protected=\"no\"");
    free(s);
    s = pcscf_auth_param_set("Digest", "integrity-protected", "\"no\"");
    assert_string_equal(s, "Digest integrity-protected=\"no\"");
    free(s);
    s = pcscf_auth_param_set("Digest a=1, ck=\"00\",b=2", "ck", NULL);
    assert_string_equal(s, "Digest a=1, b=2");
    free(s);
    s = pcscf_auth_param_set("Digest ik=\"00\"", "ik", NULL);
    assert_string_equal(s, "Digest");
    free(s);
    assert_null(pcscf_auth_param_set("", "x", "1"));
    assert_null(pcscf_auth_param_set(",a=1", "x", "1"));
}

/* The 401 toward the UE keeps realm, nonce, algorithm and qop, never ck/ik. */
static void test_challenge_lean(void **state)
{
    static const char *t = "SIP/2.0 401 Unauthorized\r\n"
                           "Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK-ue1;rport\r\n"
                           "From: <sip:alice@" HOME ">;tag=u1\r\n"
                           "To: <sip:alice@" HOME ">;tag=s1\r\n"
                           "Call-ID: reg-1\r\n"
                           "CSeq: 1 REGISTER\r\n"
                           "Content-Length: 0\r\n\r\n";
    sip_msg_t *resp = parse(t, NULL);
    char *out = NULL;
    size_t len;

    /* As a stack that keeps challenges as text would hold it. */
    assert_int_equal(sip_msg_header_add(resp, "WWW-Authenticate",
                                        "Digest realm=\"" HOME "\", nonce=\"bm9uY2U=\", "
                                        "algorithm=AKAv1-MD5, qop=\"auth\", ik=\"00112233\", "
                                        "ck=\"44556677\""),
                     IMS_OK);
    pcscf_register_challenge(resp);
    assert_int_equal(sip_msg_to_str(resp, &out, &len), IMS_OK);
    assert_non_null(strstr(out, "WWW-Authenticate: Digest realm=\"" HOME "\", "
                                "nonce=\"bm9uY2U=\", algorithm=AKAv1-MD5, qop=\"auth\"\r\n"));
    assert_null(strstr(out, "ck="));
    assert_null(strstr(out, "ik="));
    osip_free(out);
    sip_msg_free(resp);
}

static void test_remove_tag(void **state)
{
    sip_msg_t *m = parse(g_register, NULL);

    assert_int_equal(pcscf_hdr_remove_tag(m, "Supported", "sec-agree"), 1);
    assert_int_equal(pcscf_hdr_remove_tag(m, "Supported", "sec-agree"), 0);
    assert_int_equal(pcscf_hdr_remove_tag(m, "Require", "SEC-AGREE"), 1);
    assert_null(sip_msg_header(m, "Require"));
    sip_msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_rewrite),
        cmocka_unit_test(test_register_rewrite_options),
        cmocka_unit_test(test_integrity_parsed_credentials),
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_ok_star_and_query),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_strip_unregistered),
        cmocka_unit_test(test_service_route),
        cmocka_unit_test(test_list_scanner),
        cmocka_unit_test(test_auth_param_set),
        cmocka_unit_test(test_challenge_lean),
        cmocka_unit_test(test_remove_tag),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
