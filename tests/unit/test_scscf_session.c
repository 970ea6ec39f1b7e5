/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The S-CSCF session helpers (scscf/session.c) that decide on identities:
 * the store key of a Request-URI or asserted identity (tel: and user=phone
 * normalised to tel:, visual separators dropped, parameters dropped), and the
 * P-Asserted-Identity values of a request (several headers, comma-separated
 * values, name-addr and addr-spec, malformed and oversized ones refused).
 * The routing itself runs in tests/integration/scscf_session.sh.
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

#include "scscf/context.c"
#include "scscf/cx-path.c"
#include "scscf/ifc-match.c"
#include "scscf/ifc.c"
#include "scscf/isc.c"
#include "scscf/regevent.c"
#include "scscf/session.c"
#include "scscf/user-data.c"

/* The store key of uri text, or "ERR". */
static const char *impu_of(const char *text, char *out, size_t len)
{
    osip_uri_t *u = NULL;
    int rc;

    assert_int_equal(osip_uri_init(&u), 0);
    rc = osip_uri_parse(u, text) == 0 ? scscf_session_impu(u, out, len) : IMS_ERROR;
    osip_uri_free(u);
    if (rc != IMS_OK)
        snprintf(out, len, "ERR");
    return out;
}

static void test_impu(void **state)
{
    char b[64];

    (void)state;
    assert_string_equal(impu_of("sip:alice@ims.example.org;transport=udp", b, sizeof(b)),
                        "sip:alice@ims.example.org");
    assert_string_equal(impu_of("sip:alice@ims.example.org:5070", b, sizeof(b)),
                        "sip:alice@ims.example.org:5070");
    assert_string_equal(impu_of("tel:+1555000-0002", b, sizeof(b)), "tel:+15550000002");
    assert_string_equal(impu_of("tel:+1(555)000.0002;phone-context=x", b, sizeof(b)),
                        "tel:+15550000002");
    assert_string_equal(impu_of("sip:+15550000002@ims.example.org;user=phone", b, sizeof(b)),
                        "tel:+15550000002");
    assert_string_equal(impu_of("sip:+15550000002@ims.example.org;user=PHONE", b, sizeof(b)),
                        "tel:+15550000002");
    /* without user=phone a number is a SIP user like any other */
    assert_string_equal(impu_of("sip:+15550000002@ims.example.org", b, sizeof(b)),
                        "sip:+15550000002@ims.example.org");
    /* only separators, or too long for the buffer */
    assert_string_equal(impu_of("tel:--", b, sizeof(b)), "ERR");
    assert_string_equal(impu_of("tel:+155500000020000", b, 12), "ERR");
    assert_string_equal(impu_of("sip:averyveryverylongname@ims.example.org", b, 16), "ERR");
}

static sip_msg_t *request(const char *extra)
{
    char buf[2048];
    sip_msg_t *m = NULL;
    const char *reason = NULL;
    int n = snprintf(buf, sizeof(buf),
                     "INVITE sip:bob@ims.example.org SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n"
                     "From: <sip:alice@ims.example.org>;tag=1\r\n"
                     "To: <sip:bob@ims.example.org>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n"
                     "Max-Forwards: 70\r\n%sContent-Length: 0\r\n\r\n",
                     extra);

    assert_int_equal(sip_msg_parse(buf, (size_t)n, NULL, 65535, &m, &reason), SIP_PARSE_OK);
    return m;
}

static void test_pai(void **state)
{
    char b[64];
    sip_msg_t *m = request("P-Asserted-Identity: \"Alice, A.\" <sip:alice@ims.example.org>, "
                           "tel:+15550000001;x=y\r\n"
                           "P-Asserted-Identity: <sip:third@ims.example.org>\r\n");

    (void)state;
    assert_int_equal(scscf_session_pai(m, 0, b, sizeof(b)), IMS_OK);
    assert_string_equal(b, "sip:alice@ims.example.org");
    assert_int_equal(scscf_session_pai(m, 1, b, sizeof(b)), IMS_OK);
    assert_string_equal(b, "tel:+15550000001");
    assert_int_equal(scscf_session_pai(m, 2, b, sizeof(b)), IMS_OK);
    assert_string_equal(b, "sip:third@ims.example.org");
    assert_int_equal(scscf_session_pai(m, 3, b, sizeof(b)), IMS_DECLINED);
    assert_int_equal(scscf_session_pai(m, 0, b, 8), IMS_ERROR);
    sip_msg_free(m);

    m = request("P-Asserted-Identity: <sip:broken@ims.example.org\r\n");
    assert_int_equal(scscf_session_pai(m, 0, b, sizeof(b)), IMS_ERROR);
    sip_msg_free(m);
    m = request("P-Asserted-Identity: <>, ,\r\n");
    assert_int_equal(scscf_session_pai(m, 0, b, sizeof(b)), IMS_ERROR);
    assert_int_equal(scscf_session_pai(m, 1, b, sizeof(b)), IMS_DECLINED);
    sip_msg_free(m);
    m = request("");
    assert_int_equal(scscf_session_pai(m, 0, b, sizeof(b)), IMS_DECLINED);
    sip_msg_free(m);
}

/* A Path of two values becomes two Route entries, in order. */
static void test_routes(void **state)
{
    sip_msg_t *m = request("");
    osip_route_t *rt;

    (void)state;
    assert_int_equal(add_routes(m, "<sip:term@pcscf.ims.example.org;lr>, <sip:b@x.example;lr>"),
                     IMS_OK);
    assert_int_equal(osip_list_size(&m->m->routes), 2);
    rt = osip_list_get(&m->m->routes, 0);
    assert_string_equal(rt->url->host, "pcscf.ims.example.org");
    assert_string_equal(rt->url->username, "term");
    rt = osip_list_get(&m->m->routes, 1);
    assert_string_equal(rt->url->host, "x.example");
    assert_true(same_path(NULL, NULL));
    assert_false(same_path("<sip:a;lr>", NULL));
    assert_true(same_path("<sip:a;lr>", "<sip:a;lr>"));
    sip_msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_impu),
        cmocka_unit_test(test_pai),
        cmocka_unit_test(test_routes),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
