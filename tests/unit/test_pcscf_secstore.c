/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sec-agree sets across a P-CSCF restart (pcscf/secagree-store.c) with a real
 * journal file and real netlink xfrm policies, in a network namespace of its
 * own (unshare(CLONE_NEWNET), root; skipped otherwise). This kernel has no
 * ESP, so the SA calls go to a recorder; on the second run it answers EEXIST
 * as a kernel that kept the SAs does.
 *
 *   restart   run 1 stores UEs a (registered), b (its registration gone from
 *             the journal: expired during the outage) and c (a malformed
 *             set record), each with a set; an orphan policy with our tag
 *             and a foreign one are in the kernel. Shutdown keeps the ACTIVE
 *             sets' policies (a store is in use: checked). Run 2 restores UE a's set
 *             (ACTIVE, SPIs and ports reserved, heard only over its SAs, its
 *             4 SAs "already there", its 4 policies kept), not b's nor c's;
 *             the sweep removes b's 4 policies and the orphan, keeps the
 *             foreign one. a's de-registration forgets its stored set.
 *   journal   the journal file is 0600 (it holds the keys).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/ipsec/xfrm_int.h"
#include "pcscf/context.c"
#include "pcscf/headers.c"
#include "pcscf/secagree-cfg.c"
#include "pcscf/secagree.c"
#include "pcscf/secagree-keys.c"
#include "pcscf/secagree-store.c"
#include "pcscf/secagree-ports.c"
#include "pcscf/secagree-rotate.c"
#include "pcscf/secagree-set.c"
#include "pcscf/ue-store.c"

#define SPI_MIN 70000u
#define SPI_MAX 79999u
#define ORPHAN_REQID 79990u
#define FOREIGN_OWNER 0x1234u

/* --- the SA calls ---------------------------------------------------------- */

typedef struct rec {
    bool exists;                /* answer EEXIST, as a kernel that kept the SA */
    size_t nadded, ndeleted;
} rec_t;

static int rec_add(void *arg, ims_xfrm_t *x, const ims_xfrm_sa_t *sa,
                   const ims_ipsec_keys_t *keys)
{
    rec_t *r = arg;

    (void)sa;
    (void)keys;
    r->nadded++;
    return r->exists ? ims_xfrm_fail(x, EEXIST, "SA exists") : IMS_OK;
}

static int rec_del(void *arg, ims_xfrm_t *x, const ims_xfrm_addr_t *dst, uint32_t spi)
{
    rec_t *r = arg;

    (void)x;
    (void)dst;
    (void)spi;
    r->ndeleted++;
    return IMS_OK;
}

static const pcscf_sec_ops_t g_rec_ops = { rec_add, rec_del };

/* --- one run of the P-CSCF ----------------------------------------------------- */

typedef struct run {
    ims_loop_t *loop;
    pcscf_ctx_t *ctx;
    pcscf_secagree_t *sec;
    rec_t rec;
} run_t;

static char g_path[64];

static ims_kv_t *open_journal(ims_loop_t *loop)
{
    ims_journal_cfg_t jc;
    ims_journal_t *j;
    char err[256];

    ims_journal_cfg_defaults(&jc);
    snprintf(jc.path, sizeof(jc.path), "%s", g_path);
    j = ims_journal_open(loop, &jc, err, sizeof(err));
    assert_non_null(j);
    return ims_journal_kv(j);
}

/* A P-CSCF with a journal: its UEs restored, sec-agree attached and started
 * (the loop's first turn: sets restored, the kernel swept). */
static void run_start(run_t *r, bool exists)
{
    pcscf_sec_cfg_t c;
    ims_kv_t *kv;
    ims_xfrm_t *x;

    memset(r, 0, sizeof(*r));
    r->rec.exists = exists;
    r->loop = ims_loop_new();
    r->ctx = pcscf_ctx_new(r->loop);
    r->ctx->enabled = true;
    kv = open_journal(r->loop);
    pcscf_store_restore(r->ctx, kv);
    r->ctx->store = kv;
    r->ctx->ue_saved_hook = pcscf_store_save_ue;
    r->ctx->ue_removed_hook = pcscf_store_forget_ue;
    pcscf_sec_cfg_defaults(&c);
    c.enabled = true;
    c.spi_min = SPI_MIN;
    c.spi_max = SPI_MAX;
    c.port_min = 40000;
    c.port_max = 40099;
    c.retire_ms = 0;
    assert_non_null(x = ims_xfrm_open());
    assert_non_null(r->sec = pcscf_secagree_new(r->loop, &c, x));
    pcscf_secagree_set_ops(r->sec, &g_rec_ops, &r->rec);
    pcscf_sec_attach(r->ctx, r->sec);
    for (int i = 0; i < 5 && !r->sec->started; i++)
        ims_loop_run_once(r->loop, 10);
    assert_true(r->sec->started);
}

/* Shutdown as main.c does it: the store first, so the UEs stay in it. */
static void run_stop(run_t *r)
{
    pcscf_store_stop(r->ctx);
    pcscf_ctx_free(r->ctx);
    ims_loop_free(r->loop);
}

static const char *ue_key(uint16_t port, char *buf, size_t len)
{
    snprintf(buf, len, "u:127.0.0.1:%u", port);
    return buf;
}

/* UE at 127.0.0.1:port_uc registered for 600 s with an ACTIVE set, stored. */
static pcscf_sec_set_t *add_ue(run_t *r, uint16_t port_uc, const char *impu)
{
    pcscf_reg_data_t d = { .nimpu = 1 };
    char key[PCSCF_KEY_LEN];
    pcscf_sec_set_t *t = pcscf_sec_set_new(r->sec);
    bool is_new;

    d.contact = (pcscf_str_t){ impu, strlen(impu) };
    d.impu[0] = d.contact;
    ue_key(port_uc, key, sizeof(key));
    assert_non_null(pcscf_ue_store(r->ctx, key, &d, 600, &is_new));
    assert_int_equal(ims_xfrm_addr_parse(&t->ue, "127.0.0.1"), IMS_OK);
    t->us = t->ue;
    t->alg = SEC_AGREE_ALG_HMAC_SHA1_96;
    t->ealg = SEC_AGREE_EALG_AES_CBC;
    t->spi_uc = 100000u + port_uc;
    t->spi_us = 200000u + port_uc;
    t->port_uc = port_uc;
    t->port_us = (uint16_t)(port_uc + 1);
    memset(t->ck, 0x11, sizeof(t->ck));
    memset(t->ik, 0x22, sizeof(t->ik));
    t->have_keys = true;
    assert_int_equal(ipsec_alloc_spi_pair(r->sec->alloc, &t->spi_pc, &t->spi_ps), IMS_OK);
    assert_int_equal(ipsec_alloc_port_pair(r->sec->alloc, &t->port_pc, &t->port_ps), IMS_OK);
    t->ids = true;
    pcscf_sec_set_index(t, key + 2);
    assert_int_equal(pcscf_sec_set_install(t, false), IMS_OK);
    pcscf_sec_set_state(t, PCSCF_SEC_ACTIVE, 600000);
    pcscf_sec_store_save(r->ctx, t, key, 600);
    return t;
}

/* --- the kernel's policies -------------------------------------------------------- */

typedef struct pols {
    uint32_t reqid;
    size_t with_reqid, ours, foreign;
} pols_t;

static int count_pol(void *arg, const ims_xfrm_policy_t *p)
{
    pols_t *c = arg;

    if (p->sel.owner == PCSCF_SEC_OWNER)
        c->ours++;
    if (p->sel.owner == FOREIGN_OWNER)
        c->foreign++;
    if (p->reqid == c->reqid)
        c->with_reqid++;
    return IMS_OK;
}

static pols_t policies(ims_xfrm_t *x, uint32_t reqid)
{
    pols_t c = { .reqid = reqid };

    assert_int_equal(ims_xfrm_policy_dump(x, count_pol, &c), IMS_OK);
    return c;
}

/* Policies in the kernel with reqid, seen through a socket of our own. */
static size_t kernel_policies(uint32_t reqid)
{
    ims_xfrm_t *x = ims_xfrm_open();
    size_t n;

    assert_non_null(x);
    n = policies(x, reqid).with_reqid;
    ims_xfrm_close(x);
    return n;
}

/* A policy tagged owner with reqid from 127.0.0.9:sport. */
static void add_policy(ims_xfrm_t *x, uint32_t owner, uint32_t reqid, uint16_t sport)
{
    ims_xfrm_policy_t p;

    memset(&p, 0, sizeof(p));
    assert_int_equal(ims_xfrm_addr_parse(&p.sel.src, "127.0.0.9"), IMS_OK);
    assert_int_equal(ims_xfrm_addr_parse(&p.sel.dst, "127.0.0.1"), IMS_OK);
    p.sel.sport = sport;
    p.sel.dport = 9;
    p.sel.owner = owner;
    p.dir = IMS_XFRM_DIR_IN;
    p.reqid = reqid;
    assert_int_equal(ims_xfrm_policy_add(x, &p), IMS_OK);
}

/* --- tests ---------------------------------------------------------------------- */

static void test_restart(void **state)
{
    char ka[PCSCF_KEY_LEN], kb[PCSCF_KEY_LEN], kc[PCSCF_KEY_LEN];
    uint32_t spi_a, spi_b;
    pcscf_ue_t *ue;
    struct stat st;
    sip_rcv_t rcv;
    size_t len;
    run_t r;

    (void)state;
    /* run 1: a, b and c registered with sets; an orphan and a foreign policy */
    run_start(&r, false);
    spi_a = add_ue(&r, 5070, "sip:a@ims.example.org")->spi_ps;
    spi_b = add_ue(&r, 5080, "sip:b@ims.example.org")->spi_ps;
    add_ue(&r, 5090, "sip:c@ims.example.org");
    assert_int_equal(r.rec.nadded, 12);
    add_policy(r.sec->x, PCSCF_SEC_OWNER, ORPHAN_REQID, 1);
    add_policy(r.sec->x, FOREIGN_OWNER, ORPHAN_REQID, 2);
    ue_key(5080, kb, sizeof(kb));
    ue_key(5090, kc, sizeof(kc));
    /* b's registration expires while we are down; c's set record is garbage */
    assert_int_equal(ims_kv_del(r.ctx->store, PCSCF_STORE_UE, kb), IMS_OK);
    assert_int_equal(ims_kv_put(r.ctx->store, PCSCF_STORE_SEC, kc, "\001junk", 5,
                                ims_wall_ms() + 600000), IMS_OK);
    assert_int_equal(stat(g_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    run_stop(&r);               /* the ACTIVE sets stay in the kernel */
    assert_int_equal(kernel_policies(spi_a), 4);
    assert_int_equal(kernel_policies(spi_b), 4);

    /* run 2 */
    run_start(&r, true);
    assert_int_equal(pcscf_ue_count(r.ctx), 2);     /* a and c */
    assert_int_equal(pcscf_secagree_count(r.sec, PCSCF_SEC_ACTIVE), 1);
    assert_int_equal(ipsec_alloc_spis_live(pcscf_secagree_alloc(r.sec)), 2);
    assert_int_equal(ipsec_alloc_ports_live(pcscf_secagree_alloc(r.sec)), 2);
    assert_int_equal(r.rec.nadded, 4);      /* a's four, each "already there" */
    assert_int_equal(r.rec.ndeleted, 0);
    assert_non_null(ue = pcscf_ue_find_addr(r.ctx, ue_key(5070, ka, sizeof(ka))));
    assert_true(ue->ipsec);
    assert_false(pcscf_ue_find_addr(r.ctx, kc)->ipsec);
    assert_int_equal(policies(r.sec->x, spi_a).with_reqid, 4);
    assert_int_equal(policies(r.sec->x, spi_b).with_reqid, 0);
    assert_int_equal(policies(r.sec->x, ORPHAN_REQID).ours, 4);     /* a's only */
    assert_int_equal(policies(r.sec->x, ORPHAN_REQID).foreign, 1);
    /* a is heard over its SAs: from its port-c to our port-s */
    memset(&rcv, 0, sizeof(rcv));
    assert_int_equal(sip_addr_from(&rcv.remote, "127.0.0.1", 5070), IMS_OK);
    assert_int_equal(sip_addr_from(&rcv.local, "127.0.0.1",
                                   ((pcscf_sec_set_t *)ims_hash_find(r.sec->sets,
                                                                     ka + 2))->port_ps),
                     IMS_OK);
    assert_true(pcscf_sec_protected(r.ctx, &rcv));
    /* a goes: its stored set with it */
    assert_non_null(ims_kv_get(r.ctx->store, PCSCF_STORE_SEC, ka, &len));
    pcscf_ue_remove(r.ctx, ue);
    assert_null(ims_kv_get(r.ctx->store, PCSCF_STORE_SEC, ka, &len));
    assert_int_equal(pcscf_secagree_count(r.sec, PCSCF_SEC_RETIRING), 1);
    run_stop(&r);               /* not ACTIVE: removed */
    assert_int_equal(kernel_policies(spi_a), 0);
}

static int setup(void **state)
{
    (void)state;
    if (unshare(CLONE_NEWNET) != 0) {
        fprintf(stderr, "test_pcscf_secstore: no network namespace (%s): skipped\n",
                strerror(errno));
        return -1;
    }
    snprintf(g_path, sizeof(g_path), "/tmp/test_secstore.%ld.journal", (long)getpid());
    unlink(g_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart),
    };

    ims_log_init("test", IMS_LOG_NOTICE, stderr);
    return cmocka_run_group_tests(tests, setup, teardown);
}
