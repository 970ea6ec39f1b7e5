/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The store (common/ops/journal.h) on real files in a temporary directory:
 * put/get/del and replay, a torn or corrupt tail cut at replay, expired
 * records not restored, compaction, configuration; then the two users of it,
 * the S-CSCF's registrations (scscf/reg-store.c) and the P-CSCF's UEs
 * (pcscf/ue-store.c), stored, "killed" (the journal closed without any
 * shutdown of the context) and restored into fresh contexts; and what the
 * HSS's requests do to the stored registration (scscf/cx-handler.c): a PPR's
 * profile is stored at once (a restart brings it back, not the SAA's), an
 * RTR forgets the registration and leaves its reason in the per-UE log.
 *
 * scscf_on_reg_expiry lives in scscf/register-handler.c, which needs the whole
 * daemon; the expiry timer of a restored registration is armed with the
 * version below, which only counts, so the test can fire it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/ops/journal.h"
#include "pcscf/context.c"
#include "pcscf/ue-store.c"
#include "scscf/context.c"
#include "scscf/cx-handler.c"
#include "scscf/diagnose.c"
#include "scscf/reg-store.c"
#include "scscf/regevent.c"
#include "scscf/user-data.c"

static int g_expiries;

void scscf_on_reg_expiry(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    (void)loop;
    (void)t;
    (void)arg;
    g_expiries++;
}

typedef struct fx {
    char dir[64];
    ims_journal_cfg_t cfg;
    ims_loop_t *loop;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/test_journal.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    ims_journal_cfg_defaults(&f->cfg);
    snprintf(f->cfg.path, sizeof(f->cfg.path), "%s/j", f->dir);
    f->cfg.fsync = IMS_FSYNC_NONE;
    f->loop = ims_loop_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char p[128];

    assert_int_equal(ims_loop_timer_count(f->loop), 0);
    ims_loop_free(f->loop);
    snprintf(p, sizeof(p), "%s/j", f->dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/j.tmp", f->dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/cfg", f->dir);
    unlink(p);
    rmdir(f->dir);
    ims_clock_drive(false, 0);
    free(f);
    return 0;
}

static ims_journal_t *jopen(fx_t *f)
{
    char err[256] = "";
    ims_journal_t *j = ims_journal_open(f->loop, &f->cfg, err, sizeof(err));

    if (!j)
        fail_msg("open: %s", err);
    return j;
}

static long fsize(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void assert_val(ims_kv_t *kv, const char *t, const char *k, const char *want)
{
    size_t len = 0;
    const char *v = ims_kv_get(kv, t, k, &len);

    if (!want) {
        assert_null(v);
        return;
    }
    assert_non_null(v);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
}

/* ---- the journal ---- */

static void count_cb(void *arg, const char *key, const void *val, size_t len, uint64_t exp)
{
    (void)key;
    (void)val;
    (void)len;
    (void)exp;
    (*(int *)arg)++;
}

static void test_put_del_replay(void **state)
{
    fx_t *f = *state;
    ims_journal_t *j = jopen(f);
    ims_kv_t *kv = ims_journal_kv(j);
    ims_journal_stats_t st;
    int n = 0;

    assert_int_equal(ims_kv_put(kv, "t1", "a", "one", 3, 0), IMS_OK);
    assert_int_equal(ims_kv_put(kv, "t1", "b", "two", 3, 0), IMS_OK);
    assert_int_equal(ims_kv_put(kv, "t2", "a", "other table", 11, 0), IMS_OK);
    assert_int_equal(ims_kv_put(kv, "t1", "a", "uno", 3, 0), IMS_OK);   /* replaced */
    assert_int_equal(ims_kv_put(kv, "t1", "empty", "", 0, 0), IMS_OK);
    assert_int_equal(ims_kv_del(kv, "t1", "b"), IMS_OK);
    assert_int_equal(ims_kv_del(kv, "t1", "b"), IMS_DECLINED);
    assert_int_equal(ims_kv_put(kv, "", "a", "x", 1, 0), IMS_ERROR);
    assert_int_equal(ims_kv_put(kv, "t1", "", "x", 1, 0), IMS_ERROR);
    assert_val(kv, "t1", "a", "uno");
    assert_val(kv, "t1", "b", NULL);
    ims_kv_foreach(kv, "t1", count_cb, &n);
    assert_int_equal(n, 2);
    ims_kv_close(kv);

    /* the file alone gives the same state back */
    j = jopen(f);
    kv = ims_journal_kv(j);
    ims_journal_stats(j, &st);
    assert_int_equal(st.replayed, 6);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.torn_bytes, 0);
    assert_val(kv, "t1", "a", "uno");
    assert_val(kv, "t1", "b", NULL);
    assert_val(kv, "t1", "empty", "");
    assert_val(kv, "t2", "a", "other table");
    assert_int_equal(st.file_bytes, fsize(f->cfg.path));
    ims_kv_close(kv);
}

/* n records k0..k(n-1) = "value-i", then closed; returns the file size after each. */
static void write_n(fx_t *f, int n, long *sizes)
{
    ims_kv_t *kv = ims_journal_kv(jopen(f));
    char k[16], v[32];

    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "value-%d", i);
        assert_int_equal(ims_kv_put(kv, "t", k, v, strlen(v), 0), IMS_OK);
        sizes[i] = fsize(f->cfg.path);
    }
    ims_kv_close(kv);
}

static void test_torn_tail(void **state)
{
    fx_t *f = *state;
    long sizes[5];
    ims_journal_stats_t st;
    ims_journal_t *j;
    ims_kv_t *kv;

    write_n(f, 5, sizes);
    /* a crash in the middle of the last write: 3 of its bytes are missing */
    assert_int_equal(truncate(f->cfg.path, sizes[4] - 3), 0);
    j = jopen(f);
    kv = ims_journal_kv(j);
    ims_journal_stats(j, &st);
    assert_int_equal(st.replayed, 4);
    assert_int_equal(st.torn_bytes, sizes[4] - 3 - sizes[3]);
    assert_int_equal(fsize(f->cfg.path), sizes[3]);   /* cut where the good part ends */
    assert_val(kv, "t", "k3", "value-3");
    assert_val(kv, "t", "k4", NULL);
    /* what comes after the cut replays too */
    assert_int_equal(ims_kv_put(kv, "t", "k5", "after", 5, 0), IMS_OK);
    ims_kv_close(kv);
    j = jopen(f);
    kv = ims_journal_kv(j);
    ims_journal_stats(j, &st);
    assert_int_equal(st.torn_bytes, 0);
    assert_int_equal(st.records, 5);
    assert_val(kv, "t", "k5", "after");
    ims_kv_close(kv);
}

static void test_corrupt_record(void **state)
{
    fx_t *f = *state;
    long sizes[4];
    ims_journal_stats_t st;
    ims_journal_t *j;
    FILE *fp;
    int c;

    write_n(f, 4, sizes);
    /* flip one byte of the third record's value: its CRC fails; replay stops there */
    fp = fopen(f->cfg.path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, sizes[2] - 1, SEEK_SET), 0);
    c = fgetc(fp);
    assert_int_equal(fseek(fp, sizes[2] - 1, SEEK_SET), 0);
    fputc(c ^ 0x20, fp);
    fclose(fp);
    j = jopen(f);
    ims_journal_stats(j, &st);
    assert_int_equal(st.replayed, 2);
    assert_int_equal(st.torn_bytes, sizes[3] - sizes[1]);
    assert_val(ims_journal_kv(j), "t", "k1", "value-1");
    assert_val(ims_journal_kv(j), "t", "k2", NULL);
    ims_kv_close(ims_journal_kv(j));

    /* a record whose length runs past the end is torn as well (garbage appended) */
    fp = fopen(f->cfg.path, "ab");
    assert_non_null(fp);
    fwrite("\xff\xff\xff\x7f garbage", 1, 12, fp);
    fclose(fp);
    j = jopen(f);
    ims_journal_stats(j, &st);
    assert_int_equal(st.replayed, 2);
    assert_int_equal(st.torn_bytes, 12);
    ims_kv_close(ims_journal_kv(j));
}

static void test_not_a_journal(void **state)
{
    fx_t *f = *state;
    char err[256] = "";
    FILE *fp = fopen(f->cfg.path, "wb");

    assert_non_null(fp);
    fputs("some other file, not ours\n", fp);
    fclose(fp);
    assert_null(ims_journal_open(f->loop, &f->cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "not a journal"));
    assert_int_equal(fsize(f->cfg.path), 26);   /* left alone */
}

static void test_expired(void **state)
{
    fx_t *f = *state;
    uint64_t now = ims_wall_ms();
    ims_journal_stats_t st;
    ims_journal_t *j = jopen(f);
    ims_kv_t *kv = ims_journal_kv(j);
    int n = 0;

    assert_int_equal(ims_kv_put(kv, "t", "old", "x", 1, now - 1000), IMS_OK);
    assert_int_equal(ims_kv_put(kv, "t", "live", "y", 1, now + 3600000), IMS_OK);
    assert_int_equal(ims_kv_put(kv, "t", "forever", "z", 1, 0), IMS_OK);
    assert_val(kv, "t", "old", NULL);   /* expired: not served */
    ims_kv_foreach(kv, "t", count_cb, &n);
    assert_int_equal(n, 2);
    ims_kv_close(kv);
    j = jopen(f);
    ims_journal_stats(j, &st);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.records, 2);
    assert_val(ims_journal_kv(j), "t", "live", "y");
    ims_kv_close(ims_journal_kv(j));
}

static void test_compaction(void **state)
{
    fx_t *f = *state;
    char v[64];
    ims_journal_stats_t st;
    ims_journal_t *j;
    ims_kv_t *kv;

    f->cfg.compact_min = 4096;
    f->cfg.compact_factor = 3;
    j = jopen(f);
    kv = ims_journal_kv(j);
    /* one live key rewritten 1000 times: the file stays near k times its size */
    for (int i = 0; i < 1000; i++) {
        snprintf(v, sizeof(v), "refresh %d", i);
        assert_int_equal(ims_kv_put(kv, "reg", "alice", v, strlen(v), 0), IMS_OK);
        assert_int_equal(ims_kv_put(kv, "reg", "tmp", "t", 1, 0), IMS_OK);
        assert_int_equal(ims_kv_del(kv, "reg", "tmp"), IMS_OK);
    }
    ims_journal_stats(j, &st);
    assert_true(st.compactions > 10);
    assert_true(fsize(f->cfg.path) <= 4096 + 128);
    assert_int_equal(st.file_bytes, fsize(f->cfg.path));
    ims_kv_close(kv);
    j = jopen(f);
    ims_journal_stats(j, &st);
    assert_int_equal(st.records, 1);
    assert_val(ims_journal_kv(j), "reg", "alice", "refresh 999");
    /* an explicit compaction leaves exactly the live record */
    assert_int_equal(ims_journal_compact(j), IMS_OK);
    ims_journal_stats(j, &st);
    assert_int_equal(fsize(f->cfg.path), 8 + 8 + 16 + 3 + 5 + strlen("refresh 999"));
    ims_kv_close(ims_journal_kv(j));
}

static void test_fsync_policies(void **state)
{
    fx_t *f = *state;
    ims_journal_stats_t st;
    ims_journal_t *j;

    f->cfg.fsync = IMS_FSYNC_ALWAYS;
    j = jopen(f);
    ims_kv_put(ims_journal_kv(j), "t", "a", "1", 1, 0);
    ims_kv_put(ims_journal_kv(j), "t", "b", "2", 1, 0);
    ims_journal_stats(j, &st);
    assert_int_equal(st.fsyncs, 2);
    ims_kv_close(ims_journal_kv(j));

    /* interval: one fdatasync per period, by the loop's timer */
    f->cfg.fsync = IMS_FSYNC_INTERVAL;
    f->cfg.fsync_ms = 50;
    ims_clock_drive(true, 1000);
    j = jopen(f);
    ims_kv_put(ims_journal_kv(j), "t", "a", "3", 1, 0);
    ims_kv_put(ims_journal_kv(j), "t", "b", "4", 1, 0);
    assert_int_equal(ims_loop_timer_count(f->loop), 1);
    ims_clock_advance(50);
    ims_loop_run_timers(f->loop);
    ims_journal_stats(j, &st);
    assert_int_equal(st.fsyncs, 1);
    assert_int_equal(ims_loop_timer_count(f->loop), 0);   /* idle: no timer */
    ims_kv_close(ims_journal_kv(j));
}

static void write_cfg(fx_t *f, const char *body)
{
    char p[128];
    FILE *fp;

    snprintf(p, sizeof(p), "%s/cfg", f->dir);
    fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(body, fp);
    fclose(fp);
}

static int load_cfg(fx_t *f, ims_journal_cfg_t *c, char *err, size_t errlen)
{
    char p[128];
    ims_conf_t *conf;
    int rc;

    snprintf(p, sizeof(p), "%s/cfg", f->dir);
    conf = ims_conf_load(p, err, errlen);
    assert_non_null(conf);
    rc = ims_journal_conf(conf, "store", c, err, errlen);
    ims_conf_free(conf);
    return rc;
}

static void test_conf(void **state)
{
    fx_t *f = *state;
    ims_journal_cfg_t c;
    char err[256];

    write_cfg(f, "store = { journal = \"/var/lib/x.journal\"; fsync = \"always\";\n"
                 "  fsync_ms = 20; compact_factor = 8; compact_min = 0; };\n");
    assert_int_equal(load_cfg(f, &c, err, sizeof(err)), IMS_OK);
    assert_string_equal(c.path, "/var/lib/x.journal");
    assert_int_equal(c.fsync, IMS_FSYNC_ALWAYS);
    assert_int_equal(c.fsync_ms, 20);
    assert_int_equal(c.compact_factor, 8);
    assert_int_equal(c.compact_min, 0);
    write_cfg(f, "other = 1;\n");
    assert_int_equal(load_cfg(f, &c, err, sizeof(err)), IMS_DECLINED);
    write_cfg(f, "store = {\n journal = \"/x\";\n fsync = \"sometimes\"; };\n");
    assert_int_equal(load_cfg(f, &c, err, sizeof(err)), IMS_ERROR);
    assert_non_null(strstr(err, "store.fsync"));
    write_cfg(f, "store = { journal = \"/x\"; compact_factor = 1; };\n");
    assert_int_equal(load_cfg(f, &c, err, sizeof(err)), IMS_ERROR);
    assert_non_null(strstr(err, "compact_factor"));
}

static void test_codec_bounds(void **state)
{
    ims_kv_buf_t b = { NULL, 0, 0 };
    ims_kv_rd_t r;
    char s[8];
    uint32_t v32;
    uint64_t v64;
    uint8_t v8;

    (void)state;
    ims_kv_buf_u8(&b, 7);
    ims_kv_buf_str(&b, "hello");
    ims_kv_buf_u32(&b, 0xdeadbeef);
    ims_kv_buf_u64(&b, 1ull << 40);
    ims_kv_rd_init(&r, b.p, b.len);
    assert_int_equal(ims_kv_rd_u8(&r, &v8), IMS_OK);
    assert_int_equal(v8, 7);
    assert_int_equal(ims_kv_rd_str(&r, s, sizeof(s)), IMS_OK);
    assert_string_equal(s, "hello");
    assert_int_equal(ims_kv_rd_u32(&r, &v32), IMS_OK);
    assert_int_equal(v32, 0xdeadbeef);
    assert_int_equal(ims_kv_rd_u64(&r, &v64), IMS_OK);
    assert_int_equal(v64, 1ull << 40);
    assert_int_equal(ims_kv_rd_u8(&r, &v8), IMS_ERROR);   /* exhausted */
    /* a string longer than the buffer, and a value cut short, fail */
    ims_kv_rd_init(&r, b.p + 1, b.len - 1);
    assert_int_equal(ims_kv_rd_str(&r, s, 5), IMS_ERROR);
    assert_int_equal(ims_kv_rd_u8(&r, &v8), IMS_ERROR);   /* stays failed */
    ims_kv_rd_init(&r, b.p + 1, 4);
    assert_int_equal(ims_kv_rd_str(&r, s, sizeof(s)), IMS_ERROR);
    ims_kv_buf_free(&b);
}

/* ---- S-CSCF registrations ---- */

static const char *user_data(const char *impi, char *xml, size_t len)
{
    snprintf(xml, len,
             "<IMSSubscription><PrivateID>%s</PrivateID><ServiceProfile>"
             "<PublicIdentity><Identity>sip:%s</Identity></PublicIdentity>"
             "<PublicIdentity><Identity>tel:+1555%zu</Identity></PublicIdentity>"
             "<InitialFilterCriteria><Priority>0</Priority><TriggerPoint>"
             "<ConditionTypeCNF>0</ConditionTypeCNF><SPT><Group>0</Group>"
             "<Method>INVITE</Method></SPT></TriggerPoint><ApplicationServer>"
             "<ServerName>sip:as.ims.test</ServerName><DefaultHandling>0</DefaultHandling>"
             "</ApplicationServer></InitialFilterCriteria>"
             "</ServiceProfile></IMSSubscription>", impi, impi, strlen(impi));
    return xml;
}

static scscf_ctx_t *scscf_new(fx_t *f)
{
    scscf_cfg_t c;

    scscf_cfg_defaults(&c);
    snprintf(c.domain, sizeof(c.domain), "ims.test");
    scscf_cfg_finish(&c);
    return scscf_ctx_new(f->loop, &c);
}

/* A registration as the SAA handler leaves it, then stored. */
static scscf_reg_t *scscf_registered(scscf_ctx_t *ctx, const char *impi, uint32_t expires)
{
    scscf_reg_t *reg = scscf_reg_get(ctx, impi);
    char xml[1024];

    user_data(impi, xml, sizeof(xml));
    scscf_reg_set_profile(reg, scscf_user_data_parse(xml, strlen(xml), NULL, 0));
    assert_int_equal(scscf_reg_bind(reg, "sip:ue@127.0.0.1:5070", "<sip:term@pcscf.ims.test;lr>",
                                    "cid-1", 7, expires), IMS_OK);
    scscf_reg_set_registered(reg);
    scscf_reg_arm_expiry(reg, scscf_on_reg_expiry);
    assert_int_equal(scscf_reg_store_save(reg, xml, strlen(xml)), IMS_OK);
    return reg;
}

/* user_data() with the iFC's AS named as */
static void user_data_as(const char *impi, const char *as, char *xml, size_t len)
{
    char def[900], *p;

    user_data(impi, def, sizeof(def));
    p = strstr(def, "sip:as.ims.test");
    assert_non_null(p);
    *p = '\0';
    snprintf(xml, len, "%s%s%s", def, as, p + strlen("sip:as.ims.test"));
}

static void test_scscf_ppr_rtr(void **state)
{
    fx_t *f = *state;
    ims_journal_t *j = jopen(f);
    scscf_ctx_t *ctx = scscf_new(f);
    char xml[1100];
    cx_ppr_t ppr = { "alice@ims.test", xml, 0 };
    cx_rtr_t rtr = { .impi = "bob@ims.test", .reason_code = 1 };
    const ims_uelog_ue_t *ue;
    char verdict[320];
    scscf_reg_t *r;

    ims_clock_drive(true, 5000000);
    scscf_diag_start(ctx);
    ctx->store = ims_journal_kv(j);
    ctx->store_gone = scscf_reg_store_forget;
    scscf_registered(ctx, "alice@ims.test", 600);
    scscf_registered(ctx, "bob@ims.test", 600);
    user_data_as("alice@ims.test", "sip:as2.ims.test", xml, sizeof(xml));
    ppr.user_data_len = strlen(xml);
    assert_int_equal(scscf_on_ppr(ctx, &ppr).code, DIA_SUCCESS);
    assert_string_equal(scscf_reg_find(ctx, "alice@ims.test")->profile->ifcs[0].as_name,
                        "sip:as2.ims.test");
    assert_int_equal(scscf_on_rtr(ctx, &rtr).code, DIA_SUCCESS);
    assert_null(scscf_reg_find(ctx, "bob@ims.test"));
    ue = ims_uelog_find(ctx->uelog, "bob@ims.test", NULL);
    scscf_diag_verdict(ue, verdict, sizeof(verdict));
    assert_string_equal(verdict, "de-registered by the HSS (RTR): NEW_SERVER_ASSIGNED");
    /* not registered (any more): refused, nothing stored */
    assert_int_equal(scscf_on_rtr(ctx, &rtr).code, DIA_UNABLE_TO_COMPLY);
    snprintf(ppr.impi, sizeof(ppr.impi), "bob@ims.test");
    assert_int_equal(scscf_on_ppr(ctx, &ppr).code, CX_ERROR_USER_UNKNOWN);
    /* kill -9 */
    ims_kv_close(ctx->store);
    ctx->store = NULL;
    scscf_diag_stop(ctx);
    scscf_ctx_free(ctx);

    j = jopen(f);
    ctx = scscf_new(f);
    assert_int_equal(scscf_reg_store_restore(ctx, ims_journal_kv(j)), 1);
    assert_null(scscf_reg_find(ctx, "bob@ims.test"));
    r = scscf_reg_find(ctx, "alice@ims.test");
    assert_non_null(r);
    assert_int_equal(r->profile->nifc, 1);
    assert_string_equal(r->profile->ifcs[0].as_name, "sip:as2.ims.test");
    ims_kv_close(ims_journal_kv(j));
    scscf_ctx_free(ctx);
}

static void test_scscf_restore(void **state)
{
    fx_t *f = *state;
    ims_journal_t *j = jopen(f);
    scscf_ctx_t *ctx = scscf_new(f);
    uint64_t now;
    scscf_reg_t *r;

    ims_clock_drive(true, 5000000);
    ctx->store = ims_journal_kv(j);
    ctx->store_gone = scscf_reg_store_forget;
    r = scscf_registered(ctx, "alice@ims.test", 600);
    /* a second contact, refreshed later: saved again without User-Data */
    assert_int_equal(scscf_reg_bind(r, "sip:ue2@127.0.0.1:5072", NULL, "cid-2", 1, 300), IMS_OK);
    /* and a third that will have expired at the restart (the record itself has not) */
    assert_int_equal(scscf_reg_bind(r, "sip:ue3@127.0.0.1:5073", NULL, "cid-3", 1, 1), IMS_OK);
    assert_int_equal(scscf_reg_store_save(r, NULL, 0), IMS_OK);
    scscf_registered(ctx, "bob@ims.test", 600);
    scscf_registered(ctx, "carol@ims.test", 1);
    /* bob de-registers: the terminating reg-event NOTIFY forgets him */
    scscf_regevent_notify_all(scscf_reg_find(ctx, "bob@ims.test"), true, "unregistered", NULL);
    scscf_reg_free(scscf_reg_find(ctx, "bob@ims.test"));
    /* carol's and ue3's one second passes (on both clocks: wall time is real) */
    ims_clock_advance(1500);
    usleep(1100 * 1000);
    /* kill -9: nothing of the context is shut down, the journal is only closed */
    ims_kv_close(ctx->store);
    ctx->store = NULL;
    scscf_ctx_free(ctx);

    j = jopen(f);
    ctx = scscf_new(f);
    assert_int_equal(scscf_reg_store_restore(ctx, ims_journal_kv(j)), 1);
    now = ims_clock_now_ms();
    r = scscf_reg_find(ctx, "alice@ims.test");
    assert_non_null(r);
    assert_true(r->registered);
    assert_ptr_equal(scscf_reg_find_impu(ctx, "sip:alice@ims.test"), r);
    assert_ptr_equal(scscf_reg_find_impu(ctx, "tel:+155514"), r);
    assert_int_equal(r->profile->nifc, 1);
    assert_string_equal(r->profile->ifcs[0].as_name, "sip:as.ims.test");
    assert_int_equal(r->ncontacts, 2);
    for (int i = 0; i < 2; i++) {
        const scscf_contact_t *c = &r->contacts[i];
        bool first = strcmp(c->uri, "sip:ue@127.0.0.1:5070") == 0;
        uint32_t left = scscf_contact_left(c, now);

        assert_true(first || strcmp(c->uri, "sip:ue2@127.0.0.1:5072") == 0);
        assert_string_equal(scscf_contact_call_id(c), first ? "cid-1" : "cid-2");
        assert_int_equal(c->cseq, first ? 7 : 1);
        assert_true(left <= (first ? 600u : 300u) && left >= (first ? 590u : 290u));
        if (first)
            assert_string_equal(c->path, "<sip:term@pcscf.ims.test;lr>");
        else
            assert_null(c->path);
    }
    assert_true(ims_timer_armed(&r->expiry));
    assert_null(scscf_reg_find(ctx, "bob@ims.test"));
    assert_null(scscf_reg_find(ctx, "carol@ims.test"));
    /* carol's expired records went from the store too */
    assert_val(ims_journal_kv(j), SCSCF_STORE_UD, "carol@ims.test", NULL);
    assert_val(ims_journal_kv(j), SCSCF_STORE_UD, "bob@ims.test", NULL);
    /* the restored expiry timer fires when the bindings run out */
    g_expiries = 0;
    ims_clock_advance(301 * 1000);
    ims_loop_run_timers(f->loop);
    assert_int_equal(g_expiries, 1);
    ims_kv_close(ims_journal_kv(j));
    scscf_ctx_free(ctx);
}

/* ---- P-CSCF UEs ---- */

static pcscf_ue_t *pcscf_registered(pcscf_ctx_t *ctx, const char *key, const char *impu,
                                    uint32_t expires)
{
    pcscf_reg_data_t d;
    bool is_new;

    memset(&d, 0, sizeof(d));
    d.contact = (pcscf_str_t){ "sip:ue@127.0.0.1:5070", 21 };
    d.impu[0] = (pcscf_str_t){ impu, strlen(impu) };
    d.impu[1] = (pcscf_str_t){ "tel:+15550001", 13 };
    d.nimpu = 2;
    d.route[0] = (pcscf_str_t){ "<sip:orig@scscf.ims.test;lr>", 28 };
    d.nroute = 1;
    return pcscf_ue_store(ctx, key, &d, expires, &is_new);
}

static void test_pcscf_restore(void **state)
{
    fx_t *f = *state;
    ims_journal_t *j = jopen(f);
    pcscf_ctx_t *ctx = pcscf_ctx_new(f->loop);
    pcscf_ue_t *ue;

    ims_clock_drive(true, 5000000);
    ctx->store = ims_journal_kv(j);
    ctx->ue_saved_hook = pcscf_store_save_ue;
    ctx->ue_removed_hook = pcscf_store_forget_ue;
    assert_non_null(pcscf_registered(ctx, "u:127.0.0.1:5070", "sip:a@ims.test", 600));
    assert_non_null(pcscf_registered(ctx, "u:127.0.0.1:5070", "sip:a@ims.test", 900));
    ue = pcscf_registered(ctx, "u:127.0.0.1:5071", "sip:b@ims.test", 600);
    pcscf_ue_remove(ctx, ue);   /* de-registered: forgotten */
    assert_non_null(pcscf_registered(ctx, "t:127.0.0.1:40000", "sip:c@ims.test", 1));
    ims_clock_advance(1500);
    usleep(1100 * 1000);
    ims_kv_close(ctx->store);
    ctx->store = NULL;
    ctx->ue_removed_hook = NULL;
    pcscf_ctx_free(ctx);

    j = jopen(f);
    ctx = pcscf_ctx_new(f->loop);
    assert_int_equal(pcscf_store_restore(ctx, ims_journal_kv(j)), 1);
    ue = pcscf_ue_find_addr(ctx, "u:127.0.0.1:5070");
    assert_non_null(ue);
    assert_ptr_equal(pcscf_ue_find_impu(ctx, "sip:a@ims.test"), ue);
    assert_string_equal(pcscf_ue_contact(ue), "sip:ue@127.0.0.1:5070");
    assert_string_equal(pcscf_ue_impu(ue, 1), "tel:+15550001");
    assert_string_equal(pcscf_ue_route(ue, 0), "<sip:orig@scscf.ims.test;lr>");
    assert_true(ue->expires_ms > ims_clock_now_ms() + 890 * 1000);
    assert_true(ue->expires_ms <= ims_clock_now_ms() + 900 * 1000);
    assert_null(pcscf_ue_find_addr(ctx, "u:127.0.0.1:5071"));
    assert_null(pcscf_ue_find_addr(ctx, "t:127.0.0.1:40000"));
    ims_kv_close(ims_journal_kv(j));
    pcscf_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_del_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conf, setup, teardown),
        cmocka_unit_test(test_codec_bounds),
        cmocka_unit_test_setup_teardown(test_scscf_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scscf_ppr_rtr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcscf_restore, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
