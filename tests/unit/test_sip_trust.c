/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The trust domain (common/sip/trust.h): loaded from sip.hosts and a list key
 * of a real configuration file; matched by address and port over UDP, by
 * address alone over streams and for "IP" entries; malformed entries refused.
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

#include "common/core/rc.h"
#include "common/sip/trust.h"

static ims_conf_t *load_text(const char *text)
{
    char path[] = "/tmp/test_sip_trust.XXXXXX", err[256];
    int fd = mkstemp(path);
    ims_conf_t *conf;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    conf = ims_conf_load(path, err, sizeof(err));
    unlink(path);
    assert_non_null(conf);
    return conf;
}

static sip_rcv_t from(const char *ip, uint16_t port, sip_proto_t proto)
{
    sip_rcv_t r;

    memset(&r, 0, sizeof(r));
    assert_int_equal(sip_addr_from(&r.remote, ip, port), IMS_OK);
    r.proto = proto;
    return r;
}

static void test_hosts_and_list(void **state)
{
    ims_conf_t *conf = load_text(
        "sip = { hosts = ( \"pcscf.x=127.0.1.10:5060\", \"icscf.x=127.0.1.20:5070\" ); };\n"
        "scscf = { trusted = ( \"10.0.0.5\", \"10.0.0.6:5080\", \"[::1]\" ); };\n");
    sip_trust_t t;
    char err[256];
    sip_rcv_t r;

    (void)state;
    assert_int_equal(sip_trust_load(&t, conf, "scscf.trusted", err, sizeof(err)), IMS_OK);
    assert_int_equal(t.n, 5);
    r = from("127.0.1.10", 5060, SIP_PROTO_UDP);
    assert_true(sip_trust_has(&t, &r));
    r = from("127.0.1.10", 5061, SIP_PROTO_UDP);      /* a host's port is part of it */
    assert_false(sip_trust_has(&t, &r));
    r = from("127.0.1.10", 40000, SIP_PROTO_TCP);     /* streams: ephemeral port */
    assert_true(sip_trust_has(&t, &r));
    r = from("127.0.1.20", 5070, SIP_PROTO_UDP);
    assert_true(sip_trust_has(&t, &r));
    r = from("10.0.0.5", 1234, SIP_PROTO_UDP);        /* "IP": any port */
    assert_true(sip_trust_has(&t, &r));
    r = from("10.0.0.6", 5060, SIP_PROTO_UDP);
    assert_false(sip_trust_has(&t, &r));
    r = from("10.0.0.6", 5080, SIP_PROTO_UDP);
    assert_true(sip_trust_has(&t, &r));
    r = from("::1", 5060, SIP_PROTO_UDP);
    assert_true(sip_trust_has(&t, &r));
    r = from("10.0.0.7", 5060, SIP_PROTO_UDP);
    assert_false(sip_trust_has(&t, &r));
    ims_conf_free(conf);
}

static void test_bad_entry(void **state)
{
    ims_conf_t *conf = load_text("scscf = { trusted = ( \"10.0.0.5\", \"not an address\" ); };\n");
    sip_trust_t t;
    char err[256] = "";

    (void)state;
    assert_int_equal(sip_trust_load(&t, conf, "scscf.trusted", err, sizeof(err)), IMS_ERROR);
    assert_non_null(strstr(err, "scscf.trusted: bad entry \"not an address\""));
    ims_conf_free(conf);
}

static void test_absent_and_full(void **state)
{
    ims_conf_t *conf = load_text("log_level = \"info\";\n");
    sip_trust_t t;
    char err[256], ip[32];
    sip_rcv_t r;

    (void)state;
    assert_int_equal(sip_trust_load(&t, conf, "scscf.trusted", err, sizeof(err)), IMS_OK);
    assert_int_equal(t.n, 0);
    r = from("127.0.0.1", 5060, SIP_PROTO_UDP);
    assert_false(sip_trust_has(&t, &r));           /* an empty domain trusts nobody */
    for (int i = 0; i < SIP_TRUST_MAX + 5; i++) {
        snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 200, i % 200 + 1);
        assert_int_equal(sip_trust_add(&t, ip, 0), IMS_OK);
    }
    assert_int_equal(t.n, SIP_TRUST_MAX);          /* bounded, the rest ignored */
    ims_conf_free(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hosts_and_list),
        cmocka_unit_test(test_bad_entry),
        cmocka_unit_test(test_absent_and_full),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
