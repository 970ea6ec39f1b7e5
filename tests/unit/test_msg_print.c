/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sip_msg_print (common/sip/msg_print.c) against libosip2's own printer: for
 * every message libosip2 parses, both must give the same bytes, or both fail.
 * Messages: the SIP seed corpus, the malformed corpus (what parses of it),
 * crafted ones for the branches of the printer (IPv6, escaped and unusual
 * user parts, URI headers and passwords, Contact "*", every header type,
 * multipart and empty bodies), and 20 000 random mutations of all of them.
 * The fuzz target fuzz_sip_recv checks the same on whatever it finds.
 *
 * sip_msg_print_over (what a proxy forwards, printed over the received
 * request) against the same changes made on a copy and printed: for every
 * request our parser accepts, with and without a new Request-URI and
 * Record-Routes, the bytes must be the same unless it declines.
 */
#include <dirent.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/rc.h"
#include "common/sip/msg.h"

static const char *const crafted[] = {
    "INVITE sip:+4912;x=1@[::1]:5060;lr;user=phone?h=v SIP/2.0\r\n"
    "Content-Length: 4\r\nContent-Type: application/sdp\r\nMime-Version: 1.0\r\n"
    "X-Foo: bar\r\nP-Asserted-Identity: <sip:a@b>\r\n"
    "Proxy-Authentication-Info: nextnonce=\"1\"\r\nAuthentication-Info: nextnonce=\"2\"\r\n"
    "Allow: INVITE, ACK\r\nAccept-Language: en, fr\r\nAccept-Encoding: gzip\r\n"
    "Accept: application/sdp, text/plain\r\nError-Info: <sip:e@x>\r\nAlert-Info: <http://x>\r\n"
    "Content-Encoding: gzip\r\nCall-Info: <http://y>;purpose=icon\r\n"
    "Proxy-Authorization: Digest username=\"u\", realm=\"r\"\r\n"
    "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
    "Authorization: Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:b\", "
    "response=\"0123456789abcdef0123456789abcdef\"\r\n"
    "Contact: \"A b\" <sip:c@1.2.3.4:5;transport=tcp>;expires=5;+sip.instance=\"<urn:x>\"\r\n"
    "CSeq: 1 INVITE\r\nCall-ID: abc@h\r\nTo: <tel:+123;phone-context=ims.test>\r\n"
    "From: Bob <sip:b%20c@h.com>;tag=1\r\n"
    "Route: <sip:r1@1.1.1.1;lr>, <sip:r2@[2001:db8::1]:5070;lr>\r\n"
    "Record-Route: <sip:rr@2.2.2.2;lr;ftag=x>\r\n"
    "Via: SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK1;rport;received=5.6.7.8 (comment)\r\n"
    "Via: SIP/2.0/TCP [2001:db8::2];branch=z9hG4bK2\r\nMax-Forwards: 70\r\n\r\nabcd",
    "BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
    "To: sip:c@d;tag=2\r\nCall-ID: x\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\n\r\n",
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
    "To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 2 INVITE\r\nContent-Type: application/sdp\r\n"
    "Content-Length: 10\r\nContact: <sip:u@1.2.3.4>\r\nContact: *\r\n\r\nv=0\r\no=x\r\n",
    "REGISTER sip:ims.test SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKr;rport\r\n"
    "From: <sip:001010000000001@ims.test>;tag=r1\r\nTo: <sip:001010000000001@ims.test>\r\n"
    "Call-ID: reg1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nExpires: 600000\r\n"
    "Contact: <sip:001010000000001@10.0.0.1:5060>;expires=600000;+g.3gpp.icsi-ref=\"urn%3Aurn-7"
    "%3A3gpp-service.ims.icsi.mmtel\";+sip.instance=\"<urn:gsma:imei:35-000000-000000-0>\"\r\n"
    "Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=5062;port-s=5064\r\n"
    "Require: sec-agree\r\nProxy-Require: sec-agree\r\nSupported: path, gruu\r\n"
    "Path: <sip:term@pcscf.ims.test;lr>\r\nP-Access-Network-Info: 3GPP-E-UTRAN-FDD; "
    "utran-cell-id-3gpp=0010100010019B01\r\n"
    "Authorization: Digest username=\"001010000000001@ims.test\", realm=\"ims.test\", "
    "nonce=\"\", uri=\"sip:ims.test\", response=\"\"\r\nContent-Length: 0\r\n\r\n",
    "MESSAGE sip:u:pw@h;a=%41?subject=x&b=y SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
    "f: \"Quoted Name\" <sip:a@b>;tag=1\r\nt: <sip:c@d>\r\ni: x\r\nCSeq: 2 MESSAGE\r\n"
    "m: <sip:q@w>;q=0.5\r\nl: 5\r\nSubject:\r\nX-Empty: \r\nc: text/plain\r\n\r\nhello",
    "NOTIFY sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\nFrom: <sip:a@b>;tag=1\r\n"
    "To: <sip:c@d>;tag=3\r\nCall-ID: n@h\r\nCSeq: 9 NOTIFY\r\nEvent: reg\r\n"
    "Subscription-State: active;expires=600\r\n"
    "Content-Type: multipart/mixed;boundary=b1\r\n\r\n"
    "--b1\r\nContent-Type: text/plain\r\n\r\none\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
    "two\r\n--b1--\r\n",
    "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
    "To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 2 OPTIONS\r\nContent-Type: text/plain\r\n"
    "Content-Length: 0\r\n\r\n",
    "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK7\r\nFrom: <sip:a@b>;tag=1\r\n"
    "To: <sip:c@d>\r\nCall-ID: o\r\nCSeq: 3 OPTIONS\r\n"
    "Content-Type: text/plain ; charset = \"UTF-8\";x=y\r\n"
    "Accept: a/b;q=0.5;level=1, c/d\r\nAccept: */*\r\nContent-Length: 2\r\n\r\nab",
    "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bK1;received=1.2.3.4"
    ";rport=5060\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=srv\r\nCall-ID: x\r\n"
    "CSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm=\"ims.test\", nonce=\"AbCd+/==\", "
    "algorithm=AKAv1-MD5, qop=\"auth\"\r\nContent-Length: 0\r\n\r\n",
};

static int g_compared, g_osip_broken, g_pieces;

/* Whether libosip2's text is broken: it does not parse, or prints otherwise.
 * It prints some headers it cannot serialise as "Content-Type: " with no line
 * end (the next header follows on the same line); we refuse those instead. */
static bool osip_text_broken(const char *text, size_t len)
{
    osip_message_t *m;
    char *again = NULL;
    size_t alen = 0;
    bool broken;

    if (osip_message_init(&m) != 0)
        return false;
    broken = osip_message_parse(m, text, len) != 0;
    if (!broken) {
        osip_message_force_update(m);
        broken = osip_message_to_str(m, &again, &alen) != 0 || alen != len ||
                 memcmp(again, text, len) != 0;
    }
    osip_free(again);
    osip_message_free(m);
    return broken;
}

/* Whether libosip2 fails on a Content-Type or Accept of m: its message
 * printer then writes "Content-Type: " with no line end and goes on, which
 * can still read back as a message. */
static bool osip_ctype_fails(osip_message_t *m)
{
    osip_list_iterator_t it;
    osip_content_type_t *ct;
    char *s = NULL;
    bool fails = false;

    if (m->content_type && osip_content_type_to_str(m->content_type, &s) != 0)
        fails = true;
    osip_free(s);
    for (ct = osip_list_get_first(&m->accepts, &it); ct && !fails; ct = osip_list_get_next(&it)) {
        s = NULL;
        fails = osip_content_type_to_str(ct, &s) != 0;
        osip_free(s);
    }
    return fails;
}

/* Our text where libosip2 failed or printed broken text: it must at least be
 * a message libosip2 reads back. */
static void check_readable(const char *b, size_t blen)
{
    osip_message_t *m;

    if (osip_message_init(&m) != 0)
        fail_msg("osip_message_init");
    if (osip_message_parse(m, b, blen) != 0)
        fail_msg("our text where libosip2's is broken does not parse:\n%.*s", (int)blen, b);
    osip_message_free(m);
}

/* The piece printers agree with libosip2's wherever it prints the piece. */
static void compare_name_addr(const osip_from_t *f)
{
    char *a = NULL, *b = NULL;

    if (!f || osip_from_to_str(f, &a) != 0 || !a) {
        osip_free(a);
        return;
    }
    if (sip_name_addr_to_str(f, &b) != IMS_OK || strcmp(a, b) != 0)
        fail_msg("name-addr printers differ: libosip2 [%s] ours [%s]", a, b ? b : "(failed)");
    osip_free(a);
    osip_free(b);
    if (f->url && osip_uri_to_str(f->url, &a) == 0 && a) {
        if (sip_uri_to_str(f->url, &b) != IMS_OK || strcmp(a, b) != 0)
            fail_msg("URI printers differ: libosip2 [%s] ours [%s]", a, b ? b : "(failed)");
        osip_free(b);
    }
    osip_free(a);
    g_pieces++;
}

static void compare_pieces(const osip_message_t *m)
{
    const osip_list_t *lists[] = { &m->record_routes, &m->routes, &m->contacts };
    osip_list_iterator_t it;
    osip_from_t *f;

    compare_name_addr(m->from);
    compare_name_addr(m->to);
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        for (f = osip_list_get_first((osip_list_t *)lists[i], &it); f; f = osip_list_get_next(&it))
            compare_name_addr(f);
}

static int g_over, g_over_declined;

/* Push the name-addr or Via value v on top of list l (a proxy's change). */
static void push_via(osip_list_t *l, const char *v)
{
    osip_via_t *via = NULL;

    assert_int_equal(osip_via_init(&via), 0);
    assert_int_equal(osip_via_parse(via, v), 0);
    assert_true(osip_list_add(l, via, 0) >= 0);
}

static void push_rr(osip_list_t *l, const char *v)
{
    osip_record_route_t *rr = NULL;

    assert_int_equal(osip_record_route_init(&rr), 0);
    assert_int_equal(osip_record_route_parse(rr, v), 0);
    assert_true(osip_list_add(l, rr, 0) >= 0);
}

/* The changes of over made on a copy of msg, printed. */
static int print_copy(const sip_msg_t *msg, const char *uri, bool rr, const char *mf,
                      char **out, size_t *len)
{
    int rc;
    sip_msg_t *c = sip_msg_clone(msg);
    osip_header_t *h = NULL;

    assert_non_null(c);
    push_via(&c->m->vias, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKover.1;rport");
    if (rr) {
        push_rr(&c->m->record_routes, "<sip:[2001:db8::1]:5061;transport=tls;lr>");
        push_rr(&c->m->record_routes, "<sip:192.0.2.1:5060;lr>");
    }
    if (uri) {
        osip_uri_free(c->m->req_uri);
        c->m->req_uri = NULL;
        assert_int_equal(osip_uri_init(&c->m->req_uri), 0);
        assert_int_equal(osip_uri_parse(c->m->req_uri, uri), 0);
    }
    if (mf && osip_message_get_max_forwards(c->m, 0, &h) >= 0 && h) {
        osip_free(h->hvalue);
        h->hvalue = osip_strdup(mf);
    }
    rc = sip_msg_to_str(c, out, len);
    sip_msg_free(c);
    return rc;
}

static void compare_over_case(const sip_msg_t *msg, const char *uri, bool rr)
{
    static const char via[] = "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKover.1;rport\r\n";
    static const char rrs[] = "Record-Route: <sip:192.0.2.1:5060;lr>\r\n"
                              "Record-Route: <sip:[2001:db8::1]:5061;transport=tls;lr>\r\n";
    sip_print_over_t o = { .via = via, .via_len = sizeof(via) - 1 };
    osip_uri_t *u = NULL;
    char *a = NULL, *b = NULL, *before = NULL, *after = NULL;
    size_t alen = 0, blen = 0, nb = 0, na = 0;
    int rc;

    if (rr) {
        o.rr = rrs;
        o.rr_len = sizeof(rrs) - 1;
    }
    if (uri) {
        assert_int_equal(osip_uri_init(&u), 0);
        assert_int_equal(osip_uri_parse(u, uri), 0);
        o.req_uri = u;
    }
    osip_message_get_max_forwards(msg->m, 0, (osip_header_t **)&o.mf);
    o.mf_value = o.mf ? "41" : NULL;
    /* The request itself is left as it was (a fork prints it once per branch). */
    if (sip_msg_print(msg->m, &before, &nb) == IMS_OK) {
        rc = sip_msg_print_over(msg->m, &o, &a, &alen);
        assert_int_equal(sip_msg_print(msg->m, &after, &na), IMS_OK);
        assert_true(nb == na && memcmp(before, after, nb) == 0);
        osip_free(before);
        osip_free(after);
    } else {
        rc = sip_msg_print_over(msg->m, &o, &a, &alen);
    }
    osip_uri_free(u);
    if (rc == IMS_DECLINED) {
        g_over_declined++;
        return;
    }
    /* Where it fails, so does the copy's print (the proxy answers 503 either way). */
    assert_int_equal(print_copy(msg, uri, rr, o.mf_value, &b, &blen), rc);
    if (rc != IMS_OK)
        return;
    assert_int_equal(a[alen], '\0');
    if (alen != blen || memcmp(a, b, alen) != 0)
        fail_msg("print_over differs\n--- copy (%zu)\n%.*s\n--- over (%zu)\n%.*s", blen,
                 (int)blen, b, alen, (int)alen, a);
    osip_free(a);
    osip_free(b);
    g_over++;
}

/* What our parser accepts of text, if a request, forwarded both ways. */
static void compare_over(const char *text, size_t len)
{
    sip_msg_t *msg = NULL;
    const char *why;

    if (sip_msg_parse(text, len, NULL, 65536, &msg, &why) != SIP_PARSE_OK)
        return;
    if (sip_msg_is_request(msg)) {
        compare_over_case(msg, NULL, false);
        compare_over_case(msg, NULL, true);
        compare_over_case(msg, "sip:+15551234@ims.example.net;user=phone", true);
    }
    sip_msg_free(msg);
}

/* Parse text with libosip2; when it parses, both printers must agree, unless
 * libosip2 fails or prints a broken message (then ours must fail, give the same
 * bytes, or print a message libosip2 reads back). */
static void compare(const char *text, size_t len)
{
    osip_message_t *m;
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    int ra, rb;

    if (osip_message_init(&m) != 0)
        fail_msg("osip_message_init");
    if (osip_message_parse(m, text, len) != 0) {
        osip_message_free(m);
        return;
    }
    osip_message_force_update(m);
    compare_pieces(m);
    rb = sip_msg_print(m, &b, &blen);
    ra = osip_message_to_str(m, &a, &alen);
    if (ra != 0 || osip_text_broken(a, alen) || osip_ctype_fails(m)) {
        /* The same broken bytes as libosip2 are no regression either. */
        if (rb == IMS_OK && (ra != 0 || alen != blen || memcmp(a, b, alen) != 0))
            check_readable(b, blen);
        g_osip_broken++;
    } else {
        if (rb != IMS_OK)
            fail_msg("sip_msg_print failed where libosip2 printed:\n%.*s", (int)alen, a);
        if (alen != blen || memcmp(a, b, alen) != 0)
            fail_msg("printers differ\n--- libosip2 (%zu)\n%.*s\n--- ours (%zu)\n%.*s", alen,
                     (int)alen, a, blen, (int)blen, b);
        assert_int_equal(b[blen], '\0');
        g_compared++;
    }
    osip_free(a);
    osip_free(b);
    osip_message_free(m);
    compare_over(text, len);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        fail_msg("cannot open %s", path);
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

/* Every file of corpus dir sub (the malformed one holds an EXPECT manifest). */
static void each_file(const char *sub, void (*fn)(const char *, size_t))
{
    const char *src = getenv("IMS_SOURCE_DIR");
    char dir[512], path[1024];
    static char buf[65536];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(dir, sizeof(dir), "%s/tests/corpus/%s", src ? src : ".", sub);
    if (!(d = opendir(dir)))
        fail_msg("cannot open %s (IMS_SOURCE_DIR)", dir);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "EXPECT") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        fn(buf, read_file(path, buf, sizeof(buf)));
        n++;
    }
    closedir(d);
    assert_true(n > 5);
}

static void test_crafted(void **state)
{
    (void)state;
    g_compared = 0;
    for (size_t i = 0; i < sizeof(crafted) / sizeof(crafted[0]); i++)
        compare(crafted[i], strlen(crafted[i]));
    assert_int_equal(g_compared + g_osip_broken, (int)(sizeof(crafted) / sizeof(crafted[0])));
    assert_true(g_compared >= 7);
}

static void test_corpus(void **state)
{
    (void)state;
    g_compared = g_pieces = 0;
    each_file("seed-sip", compare);
    assert_true(g_compared >= 8);
    assert_true(g_pieces >= 16);    /* From and To of each at least */
    each_file("malformed", compare);
    print_message("compared %d messages of the corpus, %d name-addrs in them\n", g_compared,
                  g_pieces);
}

/* Random byte edits, insertions of characters the printer treats specially,
 * and truncations of one message: whatever still parses must print alike. */
static void mutate(const char *text, size_t len, unsigned *seed)
{
    static const char special[] = "%:;@<>[]?&=+\"*() \t,/\\'$~!";
    char buf[8192];

    if (len >= sizeof(buf))
        return;
    for (int round = 0; round < 5000; round++) {
        size_t n = len;
        int edits = 1 + (int)(rand_r(seed) % 4);

        memcpy(buf, text, len);
        for (int k = 0; k < edits && n > 0; k++) {
            size_t at = (size_t)rand_r(seed) % n;

            if (rand_r(seed) % 2)
                buf[at] = special[(size_t)rand_r(seed) % (sizeof(special) - 1)];
            else
                buf[at] = (char)(rand_r(seed) % 256);
        }
        compare(buf, n);
    }
}

static void test_mutations(void **state)
{
    unsigned seed = 20261124;

    (void)state;
    g_compared = 0;
    for (size_t i = 0; i < sizeof(crafted) / sizeof(crafted[0]); i++)
        mutate(crafted[i], strlen(crafted[i]), &seed);
    print_message("%d mutated messages parsed and printed alike; %d that libosip2 cannot "
                  "print whole (we refuse them or print them readably)\n", g_compared,
                  g_osip_broken);
    assert_true(g_compared > 1000);
    print_message("%d forwards printed over the request as on a copy, %d declined\n", g_over,
                  g_over_declined);
    assert_true(g_over > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crafted),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_mutations),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
