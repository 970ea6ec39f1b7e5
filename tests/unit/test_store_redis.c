/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Redis backend of the store (common/ops/store_redis.h) against a real
 * redis-server that each test starts on a private port in a temporary
 * directory (no persistence): put/get/del with the key layout and TTLs seen
 * from a second, plain hiredis client; the walk of one table; two instances
 * sharing one server; losing the server and reconnecting; the configuration
 * (common/ops/store.h); then the S-CSCF on it (scscf/reg-store.c): a user
 * registered through one context is found by IMPU through another
 * (read-through), restored at start, kept when only the reader's copy ran
 * out, and forgotten everywhere when de-registered; and the expiry of a copy
 * read through (scscf_reg_store_refreshed, asked before the timeout SAR):
 * refreshed through the other instance, the copy takes the stored contacts
 * and profile; not refreshed, or gone from the store, it expires.
 *
 * scscf_on_reg_expiry lives in scscf/register-handler.c (the whole daemon);
 * the expiry timers here are armed with a stub.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "common/core/clock.h"
#include "common/ops/store.h"
#include "common/ops/store_redis.h"
#include "scscf/context.c"
#include "scscf/reg-store.c"
#include "scscf/regevent.c"
#include "scscf/user-data.c"

void scscf_on_reg_expiry(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    (void)loop;
    (void)t;
    (void)arg;
}

typedef struct fx {
    char dir[64];
    int port;
    pid_t pid;
    ims_loop_t *loop;
    redisContext *raw;               /* a plain client, to look at the server */
} fx_t;

/* A TCP port nobody uses right now (bound to 0, then released). */
static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static redisContext *connect_raw(int port)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

    if (c && !c->err)
        return c;
    if (c)
        redisFree(c);
    return NULL;
}

/* Start redis-server on f->port and wait (5 s at most) until it answers PING. */
static void redis_start(fx_t *f)
{
    char port[16];

    snprintf(port, sizeof(port), "%d", f->port);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0) {
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--dir", f->dir, "--logfile", "redis.log",
               "--daemonize", "no", (char *)NULL);
        fprintf(stderr, "redis-server not found (scripts/install-deps.sh installs it)\n");
        _exit(127);
    }
    for (int i = 0; i < 250; i++) {
        redisContext *c = connect_raw(f->port);
        redisReply *r = c ? redisCommand(c, "PING") : NULL;
        bool up = r && r->type == REDIS_REPLY_STATUS;

        if (r)
            freeReplyObject(r);
        if (c)
            redisFree(c);
        if (up)
            return;
        assert_int_equal(waitpid(f->pid, NULL, WNOHANG), 0);   /* still running */
        usleep(20 * 1000);
    }
    fail_msg("redis-server on port %d did not answer within 5 s", f->port);
}

static void redis_kill(fx_t *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    f->pid = 0;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/test_store_redis.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->port = free_port();
    redis_start(f);
    assert_non_null(f->raw = connect_raw(f->port));
    f->loop = ims_loop_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[128];

    if (f->raw)
        redisFree(f->raw);
    redis_kill(f);
    ims_loop_free(f->loop);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static ims_redis_cfg_t cfg_of(const fx_t *f)
{
    ims_redis_cfg_t c;

    ims_redis_cfg_defaults(&c);
    c.port = (uint16_t)f->port;
    c.backoff_max_ms = 400;   /* reconnect within the test's patience */
    return c;
}

static ims_redis_t *ropen(fx_t *f)
{
    ims_redis_cfg_t c = cfg_of(f);
    char err[256] = "";
    ims_redis_t *r = ims_redis_open(f->loop, &c, err, sizeof(err));

    if (!r)
        fail_msg("open: %s", err);
    return r;
}

/* Run the loop until the write connection is up (want true) or down. */
static void wait_connected(fx_t *f, ims_redis_t *r, bool want)
{
    for (int i = 0; i < 400 && ims_redis_connected(r) != want; i++)
        ims_loop_run_once(f->loop, 25);
    assert_true(ims_redis_connected(r) == want);
}

/* Run the loop until every write sent has its reply. */
static void drain(fx_t *f, ims_redis_t *r)
{
    ims_redis_stats_t st;

    for (int i = 0; i < 400; i++) {
        ims_redis_stats(r, &st);
        if (!st.pending)
            return;
        ims_loop_run_once(f->loop, 25);
    }
    fail_msg("%llu writes still without a reply after 10 s", (unsigned long long)st.pending);
}

static long long raw_int(fx_t *f, const char *cmd, const char *key)
{
    redisReply *r = redisCommand(f->raw, "%s %s", cmd, key);
    long long v;

    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    v = r->integer;
    freeReplyObject(r);
    return v;
}

static void assert_get(ims_kv_t *kv, const char *t, const char *k, const void *want, size_t n)
{
    size_t len = 0;
    const void *v = ims_kv_get(kv, t, k, &len);

    if (!want) {
        assert_null(v);
        return;
    }
    assert_non_null(v);
    assert_int_equal(len, n);
    assert_memory_equal(v, want, n);
}

/* ---- the backend ---- */

static void test_put_get_del(void **state)
{
    fx_t *f = *state;
    ims_redis_t *r = ropen(f);
    ims_kv_t *kv = ims_redis_kv(r);
    uint64_t now = ims_wall_ms();
    ims_redis_stats_t st;
    long long ttl;

    wait_connected(f, r, true);
    assert_int_equal(ims_kv_put(kv, "t1", "k1", "v\0x", 3, now + 60000), IMS_OK);
    assert_int_equal(ims_kv_put(kv, "t1", "k2", "two", 3, 0), IMS_OK);
    assert_int_equal(ims_kv_put(kv, "t1", "k3", "", 0, 0), IMS_OK);
    drain(f, r);
    ims_redis_stats(r, &st);
    assert_int_equal(st.puts, 3);
    assert_int_equal(st.errors + st.dropped, 0);
    /* the layout: ims:<table>:<key>, TTL from the expiry, none without */
    assert_int_equal(raw_int(f, "EXISTS", "ims:t1:k1"), 1);
    ttl = raw_int(f, "PTTL", "ims:t1:k1");
    assert_true(ttl > 55000 && ttl <= 60000);
    assert_int_equal(raw_int(f, "PTTL", "ims:t1:k2"), -1);
    assert_get(kv, "t1", "k1", "v\0x", 3);
    assert_get(kv, "t1", "k2", "two", 3);
    assert_get(kv, "t1", "k3", "", 0);
    assert_get(kv, "t1", "nope", NULL, 0);
    assert_get(kv, "t2", "k1", NULL, 0);
    /* a put whose expiry has passed deletes; del deletes */
    assert_int_equal(ims_kv_put(kv, "t1", "k2", "old", 3, now - 1), IMS_OK);
    assert_int_equal(ims_kv_del(kv, "t1", "k1"), IMS_OK);
    drain(f, r);
    assert_int_equal(raw_int(f, "EXISTS", "ims:t1:k1"), 0);
    assert_int_equal(raw_int(f, "EXISTS", "ims:t1:k2"), 0);
    assert_get(kv, "t1", "k1", NULL, 0);
    /* bounds: refused before anything is sent */
    assert_int_equal(ims_kv_put(kv, "", "k", "v", 1, 0), IMS_ERROR);
    assert_int_equal(ims_kv_put(kv, "t1", "k", "v", IMS_KV_MAX_VALUE + 1, 0), IMS_ERROR);
    ims_kv_close(kv);
}

typedef struct walk {
    ims_kv_t *kv;
    int n, bad, with_exp, nested;
    uint64_t now;
} walk_t;

static void walk_cb(void *arg, const char *key, const void *val, size_t len, uint64_t exp)
{
    walk_t *w = arg;
    char want[64];
    size_t n;

    snprintf(want, sizeof(want), "v-%s", key);
    if (len != strlen(want) || memcmp(val, want, len) != 0)
        w->bad++;
    if (exp) {
        w->with_exp++;
        if (exp < w->now + 50000 || exp > w->now + 61000)
            w->bad++;
    }
    /* a read from inside the walk, as the S-CSCF's restore does */
    if (strcmp(key, "k7") == 0 && ims_kv_get(w->kv, "t.ab", "k1", &n) && n == 5)
        w->nested++;
    w->n++;
}

static void test_foreach(void **state)
{
    fx_t *f = *state;
    ims_redis_t *r = ropen(f);
    ims_kv_t *kv = ims_redis_kv(r);
    walk_t w = { kv, 0, 0, 0, 0, ims_wall_ms() };
    char k[16], v[32];

    wait_connected(f, r, true);
    for (int i = 0; i < 1500; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "v-%s", k);
        assert_int_equal(ims_kv_put(kv, "t.a", k, v, strlen(v), i % 2 ? w.now + 60000 : 0),
                         IMS_OK);
    }
    for (int i = 0; i < 5; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(ims_kv_put(kv, "t.ab", k, "other", 5, 0), IMS_OK);
    }
    drain(f, r);
    /* not of the table, though close: a glob character, another prefix */
    freeReplyObject(redisCommand(f->raw, "SET ims:t.a*:x 1"));
    freeReplyObject(redisCommand(f->raw, "SET t.a:k1 1"));
    ims_kv_foreach(kv, "t.a", walk_cb, &w);
    assert_int_equal(w.n, 1500);
    assert_int_equal(w.bad, 0);
    assert_int_equal(w.with_exp, 750);
    assert_int_equal(w.nested, 1);
    memset(&w, 0, sizeof(w));
    w.kv = kv;
    ims_kv_foreach(kv, "t.a*", walk_cb, &w);   /* escaped: only its own key */
    assert_int_equal(w.n, 1);
    memset(&w, 0, sizeof(w));
    ims_kv_foreach(kv, "empty", walk_cb, &w);
    assert_int_equal(w.n, 0);
    ims_kv_close(kv);
}

static void test_shared(void **state)
{
    fx_t *f = *state;
    ims_redis_t *a = ropen(f), *b = ropen(f);

    wait_connected(f, a, true);
    assert_int_equal(ims_kv_put(ims_redis_kv(a), "t", "user", "from-a", 6, 0), IMS_OK);
    drain(f, a);
    assert_get(ims_redis_kv(b), "t", "user", "from-a", 6);
    assert_int_equal(ims_kv_del(ims_redis_kv(a), "t", "user"), IMS_OK);
    drain(f, a);
    assert_get(ims_redis_kv(b), "t", "user", NULL, 0);
    ims_kv_close(ims_redis_kv(a));
    ims_kv_close(ims_redis_kv(b));
}

static void test_reconnect(void **state)
{
    fx_t *f = *state;
    ims_redis_t *r = ropen(f);
    ims_kv_t *kv = ims_redis_kv(r);
    ims_redis_stats_t st;
    uint64_t t0;
    bool back = false;

    wait_connected(f, r, true);
    redis_kill(f);
    wait_connected(f, r, false);
    /* down: writes fail (dropped, or sent into a connect that fails), counted */
    ims_kv_put(kv, "t", "lost", "x", 1, 0);
    drain(f, r);
    ims_redis_stats(r, &st);
    assert_true(st.dropped + st.errors >= 1);
    assert_true(st.disconnects >= 1);
    /* reads fail, and after the first failure at once (no timeout per read) */
    assert_null(ims_kv_get(kv, "t", "lost", &(size_t){ 0 }));
    t0 = ims_clock_real_us();
    for (int i = 0; i < 100; i++)
        assert_null(ims_kv_get(kv, "t", "lost", &(size_t){ 0 }));
    assert_true(ims_clock_real_us() - t0 < 50 * 1000);
    /* the server comes back on the same port: the store reconnects by itself */
    redis_start(f);
    redisFree(f->raw);
    assert_non_null(f->raw = connect_raw(f->port));
    wait_connected(f, r, true);
    assert_int_equal(ims_kv_put(kv, "t", "back", "y", 1, 0), IMS_OK);
    drain(f, r);
    assert_int_equal(raw_int(f, "EXISTS", "ims:t:back"), 1);
    for (int i = 0; i < 100 && !back; i++) {
        size_t n;

        back = ims_kv_get(kv, "t", "back", &n) != NULL;
        if (!back)
            ims_loop_run_once(f->loop, 20);
    }
    assert_true(back);
    ims_redis_stats(r, &st);
    assert_true(st.connects >= 2);
    ims_kv_close(kv);
}

static void test_open_fails(void **state)
{
    fx_t *f = *state;
    ims_redis_cfg_t c = cfg_of(f);
    char err[256] = "";

    c.port = (uint16_t)free_port();
    assert_null(ims_redis_open(f->loop, &c, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot connect"));
    assert_int_equal(ims_loop_timer_count(f->loop), 0);
}

/* ---- configuration ---- */

static int start_with(fx_t *f, const char *body, ims_store_t *st)
{
    char p[128];
    ims_conf_t *conf;
    char err[256];
    FILE *fp;
    int rc;

    snprintf(p, sizeof(p), "%s/cfg", f->dir);
    fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(body, fp);
    fclose(fp);
    conf = ims_conf_load(p, err, sizeof(err));
    assert_non_null(conf);
    rc = ims_store_start(f->loop, conf, "store", "test", st);
    ims_conf_free(conf);
    return rc;
}

static void test_conf(void **state)
{
    fx_t *f = *state;
    ims_store_t st;
    char body[256];

    snprintf(body, sizeof(body), "store = { backend = \"redis\"; redis = \"127.0.0.1:%d\";\n"
             "  redis_timeout_ms = 300; };\n", f->port);
    assert_int_equal(start_with(f, body, &st), IMS_OK);
    assert_non_null(st.redis);
    assert_null(st.journal);
    assert_ptr_equal(st.kv, ims_redis_kv(st.redis));
    assert_true(ims_store_shared(&st));
    ims_store_log_restore(&st, "test", 0, "things", ims_clock_real_us());
    ims_kv_close(st.kv);
    snprintf(body, sizeof(body), "store = { journal = \"%s/j\"; };\n", f->dir);
    assert_int_equal(start_with(f, body, &st), IMS_OK);
    assert_non_null(st.journal);
    assert_false(ims_store_shared(&st));
    ims_kv_close(st.kv);
    assert_int_equal(start_with(f, "other = 1;\n", &st), IMS_OK);
    assert_null(st.kv);
    assert_int_equal(start_with(f, "store = { backend = \"redis\"; };\n", &st), IMS_ERROR);
    assert_int_equal(start_with(f, "store = { backend = \"memcached\"; };\n", &st), IMS_ERROR);
    assert_int_equal(start_with(f, "store = { backend = \"redis\"; redis = \"h:0\"; };\n", &st),
                     IMS_ERROR);
    /* nothing listens there: the daemon does not start */
    snprintf(body, sizeof(body), "store = { backend = \"redis\"; redis = \"127.0.0.1:%d\"; };\n",
             free_port());
    assert_int_equal(start_with(f, body, &st), IMS_ERROR);
}

/* The Redis keys alone (ims_redis_conf): the address forms. */
static void test_addr_forms(void **state)
{
    static const struct {
        const char *in, *host;
        int port;
    } cases[] = {
        { "10.0.0.1:7000", "10.0.0.1", 7000 }, { "redis.local", "redis.local", 6379 },
        { "[::1]:7001", "::1", 7001 }, { "[fd00::2]", "fd00::2", 6379 },
        { "h:", NULL, 0 }, { ":1", NULL, 0 }, { "h:70000", NULL, 0 }, { "[::1", NULL, 0 },
        { "h:12x", NULL, 0 }, { "", NULL, 0 },
    };
    fx_t *f = *state;
    char p[128], err[256];

    snprintf(p, sizeof(p), "%s/cfg", f->dir);
    for (size_t i = 0; i < IMS_ARRAY_LEN(cases); i++) {
        FILE *fp = fopen(p, "w");
        ims_redis_cfg_t c;
        ims_conf_t *conf;
        int rc;

        assert_non_null(fp);
        fprintf(fp, "store = { redis = \"%s\"; redis_timeout_ms = 50; };\n", cases[i].in);
        fclose(fp);
        assert_non_null(conf = ims_conf_load(p, err, sizeof(err)));
        rc = ims_redis_conf(conf, "store", &c, err, sizeof(err));
        ims_conf_free(conf);
        if (!cases[i].host) {
            assert_int_equal(rc, IMS_ERROR);
            assert_non_null(strstr(err, "store.redis"));
            continue;
        }
        assert_int_equal(rc, IMS_OK);
        assert_string_equal(c.host, cases[i].host);
        assert_int_equal(c.port, cases[i].port);
        assert_int_equal(c.timeout_ms, 50);
    }
}

/* ---- the S-CSCF on a shared store ---- */

static const char *user_data(const char *impi, char *xml, size_t len)
{
    snprintf(xml, len,
             "<IMSSubscription><PrivateID>%s</PrivateID><ServiceProfile>"
             "<PublicIdentity><Identity>sip:%s</Identity></PublicIdentity>"
             "<PublicIdentity><Identity>tel:+1555%zu</Identity></PublicIdentity>"
             "</ServiceProfile></IMSSubscription>", impi, impi, strlen(impi));
    return xml;
}

/* An S-CSCF context on its own connection to the shared server. */
static scscf_ctx_t *scscf_on(fx_t *f)
{
    scscf_cfg_t c;
    scscf_ctx_t *ctx;

    scscf_cfg_defaults(&c);
    snprintf(c.domain, sizeof(c.domain), "ims.test");
    scscf_cfg_finish(&c);
    ctx = scscf_ctx_new(f->loop, &c);
    ctx->store = ims_redis_kv(ropen(f));
    ctx->store_gone = scscf_reg_store_forget;
    ctx->store_miss = scscf_reg_store_read_through;
    return ctx;
}

static void scscf_off(scscf_ctx_t *ctx)
{
    scscf_reg_store_stop(ctx);
    scscf_ctx_free(ctx);
}

/* A registration as the SAA handler leaves it, stored; the writes drained. */
static scscf_reg_t *registered(fx_t *f, scscf_ctx_t *ctx, const char *impi, const char *contact)
{
    scscf_reg_t *reg = scscf_reg_get(ctx, impi);
    char xml[1024];

    user_data(impi, xml, sizeof(xml));
    scscf_reg_set_profile(reg, scscf_user_data_parse(xml, strlen(xml), NULL, 0));
    assert_int_equal(scscf_reg_bind(reg, contact, "<sip:term@pcscf.ims.test;lr>", "cid-1", 7,
                                    600), IMS_OK);
    scscf_reg_set_registered(reg);
    scscf_reg_arm_expiry(reg, scscf_on_reg_expiry);
    assert_int_equal(scscf_reg_store_save(reg, xml, strlen(xml)), IMS_OK);
    drain(f, (ims_redis_t *)ctx->store);
    return reg;
}

static void test_scscf_read_through(void **state)
{
    fx_t *f = *state;
    scscf_ctx_t *a = scscf_on(f), *b = scscf_on(f), *c;
    scscf_reg_t *ra, *rb;

    ra = registered(f, a, "alice@ims.test", "sip:alice@127.0.0.1:5070");
    assert_int_equal(raw_int(f, "EXISTS", "ims:scscf.impu:sip:alice@ims.test"), 1);
    /* b has never seen alice: the lookup by IMPU reads her through */
    assert_null(scscf_reg_find(b, "alice@ims.test"));
    rb = scscf_reg_find_impu(b, "sip:alice@ims.test");
    assert_non_null(rb);
    assert_ptr_not_equal(rb, ra);
    assert_true(rb->registered);
    assert_string_equal(rb->impi, "alice@ims.test");
    assert_int_equal(rb->ncontacts, 1);
    assert_string_equal(rb->contacts[0].uri, "sip:alice@127.0.0.1:5070");
    assert_string_equal(rb->contacts[0].path, "<sip:term@pcscf.ims.test;lr>");
    assert_true(scscf_contact_left(&rb->contacts[0], ims_clock_now_ms()) >= 590);
    assert_ptr_equal(scscf_reg_find_impu(b, "tel:+155514"), rb);
    assert_true(ims_timer_armed(&rb->expiry));
    assert_null(scscf_reg_find_impu(b, "sip:nobody@ims.test"));
    /* bob registers through a after b started; a third instance restores both */
    registered(f, a, "bob@ims.test", "sip:bob@127.0.0.1:5072");
    c = scscf_on(f);
    assert_int_equal(scscf_reg_store_restore(c, c->store), 2);
    assert_non_null(scscf_reg_find(c, "bob@ims.test"));
    scscf_off(c);
    /* b's copy runs out while a's record lives on (a refreshed): it stays */
    rb->contacts[0].expires_at = ims_clock_now_ms() - 1;
    scscf_regevent_notify_all(rb, true, "expired", NULL);
    scscf_reg_free(rb);
    drain(f, (ims_redis_t *)b->store);
    assert_int_equal(raw_int(f, "EXISTS", "ims:scscf.reg:alice@ims.test"), 1);
    assert_non_null(scscf_reg_find_impu(b, "sip:alice@ims.test"));
    /* alice de-registers through a: gone from the store, with her IMPUs */
    scscf_regevent_notify_all(ra, true, "unregistered", NULL);
    scscf_reg_free(ra);
    drain(f, (ims_redis_t *)a->store);
    assert_int_equal(raw_int(f, "EXISTS", "ims:scscf.reg:alice@ims.test"), 0);
    assert_int_equal(raw_int(f, "EXISTS", "ims:scscf.ud:alice@ims.test"), 0);
    assert_int_equal(raw_int(f, "EXISTS", "ims:scscf.impu:sip:alice@ims.test"), 0);
    assert_int_equal(raw_int(f, "EXISTS", "ims:scscf.impu:tel:+155514"), 0);
    assert_int_equal(raw_int(f, "EXISTS", "ims:scscf.reg:bob@ims.test"), 1);
    scscf_off(a);
    scscf_off(b);
}

static void test_scscf_expiry_refreshed(void **state)
{
    fx_t *f = *state;
    scscf_ctx_t *a = scscf_on(f), *b = scscf_on(f);
    scscf_reg_t *ra, *rb;
    char xml[1024];
    uint64_t now;

    ra = registered(f, a, "alice@ims.test", "sip:alice@127.0.0.1:5070");
    rb = scscf_reg_find_impu(b, "sip:alice@ims.test");
    assert_non_null(rb);
    /* b's copy runs out, a has not refreshed: nothing newer stored, it expires */
    rb->contacts[0].expires_at = ims_clock_now_ms() - 1;
    ra->contacts[0].expires_at = ims_clock_now_ms() - 1;
    assert_int_equal(scscf_reg_store_save(ra, NULL, 0), IMS_OK);
    drain(f, (ims_redis_t *)a->store);
    assert_false(scscf_reg_store_refreshed(rb));
    assert_int_equal(rb->ncontacts, 1);    /* left as it was */
    /* alice refreshes through a (another contact, 1200 s, a new profile) */
    assert_int_equal(scscf_reg_bind(ra, "sip:alice@127.0.0.1:5071", NULL, "cid-2", 1, 1200),
                     IMS_OK);
    user_data("alice@ims.test", xml, sizeof(xml));
    *strstr(xml, "tel:+1555") = '\0';
    strcat(xml, "tel:+15559</Identity></PublicIdentity></ServiceProfile></IMSSubscription>");
    scscf_reg_set_profile(ra, scscf_user_data_parse(xml, strlen(xml), NULL, 0));
    assert_int_equal(scscf_reg_store_save(ra, xml, strlen(xml)), IMS_OK);
    drain(f, (ims_redis_t *)a->store);
    assert_true(scscf_reg_store_refreshed(rb));
    now = ims_clock_now_ms();
    assert_int_equal(rb->ncontacts, 1);
    assert_string_equal(rb->contacts[0].uri, "sip:alice@127.0.0.1:5071");
    assert_true(scscf_contact_left(&rb->contacts[0], now) >= 1190);
    assert_true(rb->registered);
    assert_ptr_equal(scscf_reg_find_impu(b, "tel:+15559"), rb);
    assert_null(ims_hash_find(b->by_impu, "tel:+155514"));
    /* not expired here: nothing to ask */
    assert_false(scscf_reg_store_refreshed(rb));
    /* gone from the store (de-registered through a): b's copy expires */
    scscf_regevent_notify_all(ra, true, "unregistered", NULL);
    scscf_reg_free(ra);
    drain(f, (ims_redis_t *)a->store);
    rb->contacts[0].expires_at = now - 1;
    assert_false(scscf_reg_store_refreshed(rb));
    scscf_off(a);
    scscf_off(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_addr_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scscf_read_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scscf_expiry_refreshed, setup, teardown),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
