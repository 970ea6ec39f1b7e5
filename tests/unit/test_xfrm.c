/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/ipsec/xfrm against the real kernel, in a network namespace of its
 * own (unshare(CLONE_NEWNET) before the tests: the host's SAs and policies
 * are never seen or touched; needs root).
 *
 * Policies: the four sec-agree policies (TS 33.203 §7.1: two in, two out)
 * for IPv4/UDP and IPv6/TCP and any-protocol, installed, found in the dump
 * with every field, seen the same way by iproute2, refused when added twice,
 * deleted, gone from the dump, and deleted again -> DECLINED. A dump of 300
 * policies (several netlink parts), a dump stopped early by its callback
 * followed by a working request, and a foreign subnet policy that the dump
 * skips. Bad input is refused with EINVAL before the kernel sees it.
 * SAs: the probes' verdicts must agree with what the kernel does with an
 * ESP NEWSA, for every algorithm pair: with ESP, the SA is installed, seen by
 * iproute2 with our algorithm names, keys and 96-bit truncation, dumped and
 * deleted; without it (this machine's kernel) every add fails with the
 * probe's errno and a message, and the SA dump stays empty. The restart
 * clean-up deletes only our tag's SAs in our SPI range and our policies.
 * The ESP half runs for real in the test VM:
 *   tests/vm/run.sh -b <build>/tests/test_xfrm <script running test_xfrm>
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/core/rc.h"
#include "common/ipsec/ipsec_keys.h"
#include "common/ipsec/xfrm.h"

#define OWNER 0x1a5c0de

/* --- fixtures and helpers ---------------------------------------------------- */

static int setup(void **state)
{
    ims_xfrm_t *x = ims_xfrm_open();

    if (x == NULL)
        return -1;
    assert_int_equal(ims_xfrm_errno(x), 0);
    assert_string_equal(ims_xfrm_error(x), "");
    *state = x;
    return 0;
}

static ims_xfrm_addr_t addr(const char *text)
{
    ims_xfrm_addr_t a;

    assert_int_equal(ims_xfrm_addr_parse(&a, text), IMS_OK);
    return a;
}

static ims_xfrm_sel_t sel(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                          uint8_t l4proto)
{
    ims_xfrm_sel_t s = { .src = addr(src), .dst = addr(dst), .sport = sport, .dport = dport,
                         .l4proto = l4proto, .owner = OWNER };
    return s;
}

#define MAX_SEEN 512

typedef struct seen {
    ims_xfrm_policy_t p[MAX_SEEN];
    ims_xfrm_sa_t sa[MAX_SEEN];
    size_t n;
    size_t stop_after;           /* 0: never stop */
} seen_t;

static int policy_cb(void *arg, const ims_xfrm_policy_t *p)
{
    seen_t *s = arg;

    if (s->n < MAX_SEEN)
        s->p[s->n] = *p;
    s->n++;
    return s->stop_after != 0 && s->n >= s->stop_after ? IMS_DONE : IMS_OK;
}

static int sa_cb(void *arg, const ims_xfrm_sa_t *sa)
{
    seen_t *s = arg;

    if (s->n < MAX_SEEN)
        s->sa[s->n] = *sa;
    s->n++;
    return IMS_OK;
}

/* Leave the namespace's tables empty for the next test, whatever failed:
 * delete every policy and SA the dumps report. */
static int teardown(void **state)
{
    static seen_t s;
    ims_xfrm_t *x = *state;

    memset(&s, 0, sizeof(s));
    if (ims_xfrm_policy_dump(x, policy_cb, &s) == IMS_OK) {
        for (size_t i = 0; i < s.n && i < MAX_SEEN; i++)
            (void)ims_xfrm_policy_del(x, &s.p[i]);
    }
    memset(&s, 0, sizeof(s));
    if (ims_xfrm_sa_dump(x, sa_cb, &s) == IMS_OK) {
        for (size_t i = 0; i < s.n && i < MAX_SEEN; i++)
            (void)ims_xfrm_sa_del(x, &s.sa[i].sel.dst, s.sa[i].spi);
    }
    ims_xfrm_close(x);
    return 0;
}

static int sel_equal(const ims_xfrm_sel_t *a, const ims_xfrm_sel_t *b)
{
    return ims_xfrm_addr_equal(&a->src, &b->src) && ims_xfrm_addr_equal(&a->dst, &b->dst) &&
           a->sport == b->sport && a->dport == b->dport && a->l4proto == b->l4proto &&
           a->owner == b->owner;
}

/* How many dumped policies equal p in every field. */
static size_t policy_count(ims_xfrm_t *x, const ims_xfrm_policy_t *p, size_t *total)
{
    static seen_t s;
    size_t hits = 0;

    memset(&s, 0, sizeof(s));
    assert_int_equal(ims_xfrm_policy_dump(x, policy_cb, &s), IMS_OK);
    for (size_t i = 0; i < s.n && i < MAX_SEEN; i++) {
        if (sel_equal(&s.p[i].sel, &p->sel) && s.p[i].dir == p->dir &&
            s.p[i].reqid == p->reqid && s.p[i].priority == p->priority)
            hits++;
    }
    if (total != NULL)
        *total = s.n;
    return hits;
}

/* The four policies of one registration (ims-reference.md §2.3, P-CSCF side). */
static void four_policies(ims_xfrm_policy_t p[4], const char *ue, const char *pcscf,
                          uint8_t l4proto)
{
    const uint16_t port_uc = 50920, port_us = 50921, port_pc = 5062, port_ps = 5064;
    const ims_xfrm_dir_t in = IMS_XFRM_DIR_IN, out = IMS_XFRM_DIR_OUT;

    p[0] = (ims_xfrm_policy_t){ sel(ue, port_uc, pcscf, port_ps, l4proto), in, 11, 0 };
    p[1] = (ims_xfrm_policy_t){ sel(pcscf, port_pc, ue, port_us, l4proto), out, 12, 0 };
    p[2] = (ims_xfrm_policy_t){ sel(pcscf, port_ps, ue, port_uc, l4proto), out, 13, 7 };
    p[3] = (ims_xfrm_policy_t){ sel(ue, port_us, pcscf, port_pc, l4proto), in, 14, 7 };
}

static void policy_cycle(ims_xfrm_t *x, const char *ue, const char *pcscf, uint8_t l4proto)
{
    ims_xfrm_policy_t p[4], q;
    size_t total;

    four_policies(p, ue, pcscf, l4proto);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(policy_count(x, &p[i], NULL), 0);
        if (ims_xfrm_policy_add(x, &p[i]) != IMS_OK)
            fail_msg("policy %d: %s", i, ims_xfrm_error(x));
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(policy_count(x, &p[i], &total), 1);
    assert_int_equal(total, 4);
    /* The same selector and direction again: the kernel says EEXIST. */
    assert_int_equal(ims_xfrm_policy_add(x, &p[2]), IMS_ERROR);
    assert_int_equal(ims_xfrm_errno(x), EEXIST);
    assert_true(strstr(ims_xfrm_error(x), "add policy") != NULL);
    /* Another owner's tag does not delete ours. */
    q = p[1];
    q.sel.owner = OWNER + 1;
    assert_int_equal(ims_xfrm_policy_del(x, &q), IMS_DECLINED);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ims_xfrm_policy_del(x, &p[i]), IMS_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(policy_count(x, &p[i], NULL), 0);
    assert_int_equal(policy_count(x, &p[0], &total), 0);
    assert_int_equal(total, 0);
    assert_int_equal(ims_xfrm_policy_del(x, &p[0]), IMS_DECLINED);
}

/* --- policies ---------------------------------------------------------------- */

static void test_policies_ipv4_udp(void **state)
{
    policy_cycle(*state, "10.45.0.2", "10.45.0.1", IPPROTO_UDP);
}

static void test_policies_ipv6_tcp(void **state)
{
    policy_cycle(*state, "2001:db8::2", "2001:db8::1", IPPROTO_TCP);
}

static void test_policies_any_protocol(void **state)
{
    policy_cycle(*state, "2001:db8::2", "fd00::10", 0);
    policy_cycle(*state, "192.0.2.7", "127.0.0.10", 0);
}

/* iproute2's ip (an independent reader of the kernel's tables), or NULL.
 * Not busybox's, which has no xfrm (the test VM has both). */
static const char *iproute2(void)
{
    static const char *const paths[] = { "/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip" };
    char cmd[64], out[256];

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        FILE *f;
        size_t n;

        snprintf(cmd, sizeof(cmd), "%s -V 2>&1", paths[i]);
        f = popen(cmd, "r");
        if (f == NULL)
            continue;
        n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = '\0';
        pclose(f);
        if (strstr(out, "iproute2") != NULL)
            return paths[i];
    }
    return NULL;
}

/* Run "<ip> args" and return its exit status. */
static int run_ip(const char *ip, const char *args)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "%s %s", ip, args);
    return system(cmd);
}

/* `ip xfrm <what>` output (what: "policy" or "state"). */
static void ip_xfrm(const char *ip, const char *what, char *out, size_t size)
{
    char cmd[64];
    FILE *f;
    size_t n;

    snprintf(cmd, sizeof(cmd), "%s xfrm %s 2>&1", ip, what);
    f = popen(cmd, "r");
    assert_non_null(f);
    n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    pclose(f);
}

static void assert_contains(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        fail_msg("'%s' not in:\n%s", needle, text);
}

static void test_policy_as_iproute2_sees_it(void **state)
{
    ims_xfrm_t *x = *state;
    ims_xfrm_policy_t p[4];
    static char text[16384];
    const char *ip = iproute2();

    if (ip == NULL)
        skip();
    four_policies(p, "10.45.0.2", "10.45.0.1", IPPROTO_UDP);
    assert_int_equal(ims_xfrm_policy_add(x, &p[0]), IMS_OK);
    ip_xfrm(ip, "policy", text, sizeof(text));
    /* "proto 17" where there is no /etc/protocols (the test VM). */
    if (strstr(text, "proto 17 ") == NULL)
        assert_contains(text, "src 10.45.0.2/32 dst 10.45.0.1/32 proto udp sport 50920 dport 5064");
    else
        assert_contains(text, "src 10.45.0.2/32 dst 10.45.0.1/32 proto 17 sport 50920 dport 5064");
    assert_contains(text, "dir in priority 0");
    assert_contains(text, "tmpl src 10.45.0.2 dst 10.45.0.1");
    assert_contains(text, "proto esp reqid 11 mode transport");
    assert_int_equal(ims_xfrm_policy_del(x, &p[0]), IMS_OK);
    ip_xfrm(ip, "policy", text, sizeof(text));
    assert_null(strstr(text, "10.45.0.2"));
}

/* 300 policies do not fit one netlink part: the dump must read them all. */
static void test_policy_dump_many(void **state)
{
    ims_xfrm_t *x = *state;
    static seen_t s;
    ims_xfrm_policy_t p = { .dir = IMS_XFRM_DIR_IN, .reqid = 5 };
    const unsigned n = 300;
    size_t found = 0;

    p.sel = sel("2001:db8::2", 0, "2001:db8::1", 0, IPPROTO_UDP);
    for (unsigned i = 0; i < n; i++) {
        p.sel.sport = (uint16_t)(10000 + i);
        assert_int_equal(ims_xfrm_policy_add(x, &p), IMS_OK);
    }
    memset(&s, 0, sizeof(s));
    assert_int_equal(ims_xfrm_policy_dump(x, policy_cb, &s), IMS_OK);
    assert_int_equal(s.n, n);
    for (size_t i = 0; i < s.n; i++)
        found += s.p[i].sel.sport >= 10000 && s.p[i].sel.sport < 10000 + n && s.p[i].reqid == 5;
    assert_int_equal(found, n);
    /* Stop early: one entry reported, the rest read, the socket still in step. */
    memset(&s, 0, sizeof(s));
    s.stop_after = 1;
    assert_int_equal(ims_xfrm_policy_dump(x, policy_cb, &s), IMS_OK);
    assert_int_equal(s.n, 1);
    for (unsigned i = 0; i < n; i++) {
        p.sel.sport = (uint16_t)(10000 + i);
        assert_int_equal(ims_xfrm_policy_del(x, &p), IMS_OK);
    }
    assert_int_equal(policy_count(x, &p, &found), 0);
    assert_int_equal(found, 0);
}

/* A policy we could not have made (subnet selector) is not reported. */
static void test_policy_dump_skips_foreign(void **state)
{
    ims_xfrm_t *x = *state;
    ims_xfrm_policy_t p[4];
    size_t total;
    const char *ip = iproute2();

    if (ip == NULL)
        skip();
    assert_int_equal(run_ip(ip, "xfrm policy add src 10.9.0.0/16 dst 10.8.0.0/16 dir out "
                                "tmpl proto esp mode transport"), 0);
    four_policies(p, "10.45.0.2", "10.45.0.1", IPPROTO_UDP);
    assert_int_equal(ims_xfrm_policy_add(x, &p[1]), IMS_OK);
    assert_int_equal(policy_count(x, &p[1], &total), 1);
    assert_int_equal(total, 1);
    assert_int_equal(ims_xfrm_policy_del(x, &p[1]), IMS_OK);
    assert_int_equal(run_ip(ip, "xfrm policy flush"), 0);
}

static void test_bad_input(void **state)
{
    ims_xfrm_t *x = *state;
    ims_xfrm_policy_t p[4], bad;
    ims_xfrm_sa_t sa = { .spi = 4096, .reqid = 1 };
    ims_ipsec_keys_t keys;
    uint8_t ck[16] = { 1 }, ik[16] = { 2 };
    size_t total;

    four_policies(p, "10.45.0.2", "10.45.0.1", IPPROTO_UDP);
    bad = p[0];
    bad.sel.dst = addr("2001:db8::1"); /* mixed families */
    assert_int_equal(ims_xfrm_policy_add(x, &bad), IMS_ERROR);
    assert_int_equal(ims_xfrm_errno(x), EINVAL);
    assert_non_null(strstr(ims_xfrm_error(x), "IPv4"));
    bad = p[0];
    bad.sel.l4proto = 1; /* ICMP */
    assert_int_equal(ims_xfrm_policy_add(x, &bad), IMS_ERROR);
    assert_int_equal(ims_xfrm_errno(x), EINVAL);
    bad = p[0];
    bad.dir = (ims_xfrm_dir_t)2; /* forward */
    assert_int_equal(ims_xfrm_policy_add(x, &bad), IMS_ERROR);
    assert_int_equal(ims_xfrm_policy_del(x, &bad), IMS_ERROR);
    memset(&bad, 0, sizeof(bad)); /* family 0 */
    assert_int_equal(ims_xfrm_policy_add(x, &bad), IMS_ERROR);
    assert_int_equal(policy_count(x, &p[0], &total), 0);
    assert_int_equal(total, 0); /* nothing reached the kernel */

    sa.sel = p[0].sel;
    assert_int_equal(ims_ipsec_keys_derive(SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_AES_CBC, ck,
                                           ik, &keys), IMS_OK);
    sa.spi = 255; /* reserved */
    assert_int_equal(ims_xfrm_sa_add(x, &sa, &keys), IMS_ERROR);
    assert_int_equal(ims_xfrm_errno(x), EINVAL);
    assert_non_null(strstr(ims_xfrm_error(x), "reserved"));
    sa.spi = 4096;
    keys.ik_len = 16; /* sha1 wants 20 */
    assert_int_equal(ims_xfrm_sa_add(x, &sa, &keys), IMS_ERROR);
    assert_int_equal(ims_xfrm_errno(x), EINVAL);
    keys.ik_len = 20;
    keys.ealg = SEC_AGREE_EALG_UNKNOWN;
    assert_int_equal(ims_xfrm_sa_add(x, &sa, &keys), IMS_ERROR);
    assert_int_equal(ims_xfrm_errno(x), EINVAL);
    keys.ealg = SEC_AGREE_EALG_AES_CBC;
    sa.sel.src.family = AF_UNIX;
    assert_int_equal(ims_xfrm_sa_add(x, &sa, &keys), IMS_ERROR);
    assert_int_equal(ims_xfrm_errno(x), EINVAL);
    assert_int_equal(ims_xfrm_sa_del(x, &sa.sel.src, 4096), IMS_ERROR);
    assert_int_equal(ims_xfrm_errno(x), EINVAL);
}

static void test_addr_helpers(void **state)
{
    struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(5064) };
    struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(5060) };
    struct sockaddr un = { .sa_family = AF_UNIX };
    ims_xfrm_addr_t a;
    uint16_t port = 0;

    (void)state;
    assert_int_equal(ims_xfrm_addr_parse(&a, "[::1]"), IMS_ERROR);
    assert_int_equal(ims_xfrm_addr_parse(&a, "10.0.0.256"), IMS_ERROR);
    assert_int_equal(ims_xfrm_addr_parse(&a, ""), IMS_ERROR);
    s6.sin6_addr.s6_addr[15] = 1;
    assert_int_equal(ims_xfrm_addr_from_sockaddr(&a, (struct sockaddr *)&s6, &port), IMS_OK);
    assert_int_equal(port, 5064);
    ims_xfrm_addr_t loop6 = addr("::1");
    assert_true(ims_xfrm_addr_equal(&a, &loop6));
    s4.sin_addr.s_addr = htonl(0x7f00000a);
    assert_int_equal(ims_xfrm_addr_from_sockaddr(&a, (struct sockaddr *)&s4, NULL), IMS_OK);
    ims_xfrm_addr_t p4 = addr("127.0.0.10");
    assert_true(ims_xfrm_addr_equal(&a, &p4));
    assert_false(ims_xfrm_addr_equal(&a, &loop6));
    assert_int_equal(ims_xfrm_addr_from_sockaddr(&a, &un, &port), IMS_ERROR);
}

/* --- SAs and the ESP probe ------------------------------------------------- */

static const char lacks_esp[] = "kernel lacks ESP (CONFIG_INET_ESP): IPsec sec-agree unavailable";

/* The SA as iproute2 shows it: algorithm names, keys, truncation, SPI,
 * reqid, mode and selector, i.e. the layout of our NEWSA as the kernel read it. */
static void sa_as_iproute2_sees_it(const ims_xfrm_sa_t *sa, const ims_ipsec_keys_t *k)
{
    static char text[16384];
    char want[160], *p;
    const char *ip = iproute2();

    if (ip == NULL)
        return;
    ip_xfrm(ip, "state", text, sizeof(text));
    snprintf(want, sizeof(want), "proto esp spi 0x%08x reqid %u mode transport", sa->spi,
             sa->reqid);
    assert_contains(text, want);
    p = want + snprintf(want, sizeof(want), "auth-trunc %s 0x",
                        k->alg == SEC_AGREE_ALG_HMAC_MD5_96 ? "hmac(md5)" : "hmac(sha1)");
    for (size_t i = 0; i < k->ik_len; i++)
        p += sprintf(p, "%02x", k->ik[i]);
    strcpy(p, " 96");
    assert_contains(text, want);
    p = want + snprintf(want, sizeof(want), "enc %s",
                        k->ealg == SEC_AGREE_EALG_AES_CBC ? "cbc(aes) 0x" :
                        k->ealg == SEC_AGREE_EALG_DES_EDE3_CBC ? "cbc(des3_ede) 0x" :
                        "ecb(cipher_null)");
    for (size_t i = 0; i < k->ck_len; i++)
        p += sprintf(p, "%02x", k->ck[i]);
    assert_contains(text, want);
    snprintf(want, sizeof(want), "sel src 10.45.0.2/32 dst 10.45.0.1/32 sport %u dport %u",
             sa->sel.sport, sa->sel.dport);
    if (sa->sel.src.family == AF_INET)
        assert_contains(text, want);
}

/* With ESP: the SA is in the dump with its fields, deleted, gone. */
static void sa_roundtrip(ims_xfrm_t *x, const ims_xfrm_sa_t *sa)
{
    static seen_t s;
    size_t hits = 0;

    memset(&s, 0, sizeof(s));
    assert_int_equal(ims_xfrm_sa_dump(x, sa_cb, &s), IMS_OK);
    for (size_t i = 0; i < s.n; i++)
        hits += sel_equal(&s.sa[i].sel, &sa->sel) && s.sa[i].spi == sa->spi &&
                s.sa[i].reqid == sa->reqid;
    assert_int_equal(hits, 1);
    assert_int_equal(ims_xfrm_sa_del(x, &sa->sel.dst, sa->spi), IMS_OK);
    memset(&s, 0, sizeof(s));
    assert_int_equal(ims_xfrm_sa_dump(x, sa_cb, &s), IMS_OK);
    assert_int_equal(s.n, 0);
}

/* Each pair: ims_xfrm_probe_algs and a real NEWSA must agree. */
static void pair_agrees(ims_xfrm_t *x, ims_xfrm_sa_t *sa, sec_agree_alg_t alg,
                        sec_agree_ealg_t ealg, int esp)
{
    uint8_t ck[16] = { 0xb4, 0x0b, 0xa9 }, ik[16] = { 0xf7, 0x69, 0xbc };
    ims_ipsec_keys_t keys;
    int probe, probe_errno, rc;

    probe = ims_xfrm_probe_algs(x, alg, ealg);
    probe_errno = ims_xfrm_errno(x);
    assert_true(probe == IMS_OK || probe == IMS_DECLINED);
    assert_int_equal(ims_ipsec_keys_derive(alg, ealg, ck, ik, &keys), IMS_OK);
    rc = ims_xfrm_sa_add(x, sa, &keys);
    print_message("%s/%s: probe %s, NEWSA %s%s\n", sec_agree_alg_name(alg),
                  sec_agree_ealg_name(ealg), probe == IMS_OK ? "yes" : "no",
                  rc == IMS_OK ? "ok" : "refused: ", rc == IMS_OK ? "" : ims_xfrm_error(x));
    if (probe == IMS_OK) {
        assert_true(esp);
        if (rc != IMS_OK)
            fail_msg("probe says yes, NEWSA says: %s", ims_xfrm_error(x));
        sa_as_iproute2_sees_it(sa, &keys);
        sa_roundtrip(x, sa);
    } else {
        assert_int_equal(rc, IMS_ERROR);
        assert_int_equal(ims_xfrm_errno(x), probe_errno);
        assert_non_null(strstr(ims_xfrm_error(x), "add SA: "));
    }
    sa->spi++;
}

static void test_probe_agrees_with_newsa(void **state)
{
    ims_xfrm_t *x = *state;
    static const sec_agree_alg_t algs[] = { SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_ALG_HMAC_MD5_96 };
    static const sec_agree_ealg_t ealgs[] = { SEC_AGREE_EALG_AES_CBC, SEC_AGREE_EALG_DES_EDE3_CBC,
                                              SEC_AGREE_EALG_NULL };
    ims_xfrm_sa_t sa = { .spi = 0x10000, .reqid = 21 };
    static seen_t s;
    int esp;

    esp = ims_xfrm_probe_esp(x);
    print_message("ESP probe: %s (%s)\n", esp == IMS_OK ? "ESP available" : "no ESP",
                  ims_xfrm_error(x));
    assert_true(esp == IMS_OK || esp == IMS_DECLINED);
    /* Declined: no ESP (the message the P-CSCF logs), or no SHA-1/AES. */
    if (esp == IMS_DECLINED && ims_xfrm_errno(x) != ENOSYS)
        assert_non_null(strstr(ims_xfrm_error(x), lacks_esp));
    if (esp == IMS_DECLINED)
        assert_non_null(strstr(ims_xfrm_error(x), "kernel lacks "));
    sa.sel = sel("10.45.0.2", 50920, "10.45.0.1", 5064, 0);
    for (size_t a = 0; a < 2; a++) {
        for (size_t e = 0; e < 3; e++)
            pair_agrees(x, &sa, algs[a], ealgs[e], esp == IMS_OK);
    }
    /* The mandatory pair goes the way the ESP probe said (same SA as the probe's). */
    sa.sel = sel("2001:db8::2", 50921, "2001:db8::1", 5062, IPPROTO_TCP);
    pair_agrees(x, &sa, SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_AES_CBC, esp == IMS_OK);
    /* Nothing left behind, the probes' SAs included; deleting none is DECLINED. */
    memset(&s, 0, sizeof(s));
    assert_int_equal(ims_xfrm_sa_dump(x, sa_cb, &s), IMS_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(ims_xfrm_sa_del(x, &sa.sel.dst, sa.spi), IMS_DECLINED);
    ims_xfrm_addr_t v4 = addr("10.45.0.1");
    assert_int_equal(ims_xfrm_sa_del(x, &v4, 0x12345678), IMS_DECLINED);
}

/* Restart clean-up removes our tag's SAs in our SPI range and our tag's
 * policies, and nothing else (SAs only where the kernel has ESP). */
static void test_flush_owned(void **state)
{
    ims_xfrm_t *x = *state;
    uint8_t ck[16] = { 3 }, ik[16] = { 4 };
    const uint32_t spis[] = { 5000, 5999, 6000, 4999 }; /* range [5000, 5999] */
    ims_xfrm_policy_t p[4], other;
    ims_xfrm_sa_t sa = { .reqid = 9 };
    ims_ipsec_keys_t keys;
    unsigned n_sa = 99, n_pol = 99, sa_ok = 0;
    static seen_t s;
    size_t total;

    four_policies(p, "10.45.0.2", "10.45.0.1", IPPROTO_UDP);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ims_xfrm_policy_add(x, &p[i]), IMS_OK);
    other = p[0];
    other.sel.owner = OWNER + 1;     /* another P-CSCF's */
    other.sel.sport = 1;
    assert_int_equal(ims_xfrm_policy_add(x, &other), IMS_OK);
    assert_int_equal(ims_ipsec_keys_derive(SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_NULL, ck, ik,
                                           &keys), IMS_OK);
    sa.sel = p[0].sel;
    for (size_t i = 0; i < 4; i++) {
        sa.spi = spis[i];
        sa_ok += ims_xfrm_sa_add(x, &sa, &keys) == IMS_OK;
    }
    sa.spi = 5500;
    sa.sel.owner = OWNER + 1;
    sa_ok += ims_xfrm_sa_add(x, &sa, &keys) == IMS_OK;
    assert_true(sa_ok == 0 || sa_ok == 5); /* no ESP, or ESP */

    assert_int_equal(ims_xfrm_flush_owned(x, 0, 0, UINT32_MAX, &n_sa, &n_pol), IMS_ERROR);
    assert_int_equal(ims_xfrm_errno(x), EINVAL);
    assert_int_equal(ims_xfrm_flush_owned(x, OWNER, 5000, 5999, &n_sa, &n_pol), IMS_OK);
    assert_int_equal(n_pol, 4);
    assert_int_equal(n_sa, sa_ok != 0 ? 2 : 0);
    assert_int_equal(policy_count(x, &other, &total), 1);
    assert_int_equal(total, 1);
    memset(&s, 0, sizeof(s));
    assert_int_equal(ims_xfrm_sa_dump(x, sa_cb, &s), IMS_OK);
    assert_int_equal(s.n, sa_ok != 0 ? 3 : 0);
    for (size_t i = 0; i < s.n; i++)
        assert_true(s.sa[i].spi == 6000 || s.sa[i].spi == 4999 || s.sa[i].sel.owner != OWNER);
    assert_int_equal(ims_xfrm_flush_owned(x, OWNER, 5000, 5999, NULL, NULL), IMS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_policies_ipv4_udp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policies_ipv6_tcp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policies_any_protocol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_as_iproute2_sees_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_dump_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_dump_skips_foreign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test(test_addr_helpers),
        cmocka_unit_test_setup_teardown(test_probe_agrees_with_newsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_owned, setup, teardown),
    };

    /* Our own network namespace: the host's xfrm tables stay untouched. */
    if (unshare(CLONE_NEWNET) != 0) {
        fprintf(stderr, "test_xfrm: unshare(CLONE_NEWNET): %s (needs root)\n", strerror(errno));
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
