/* SPDX-License-Identifier: BSD-2-Clause */
/* The Redis backend of ims_kv_t on hiredis (store_redis.h). */
#include "common/ops/store_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"

#define R_PREFIX "ims:"
#define R_KEY_MAX (sizeof(R_PREFIX) + IMS_KV_MAX_TABLE + 1 + IMS_KV_MAX_KEY + 1)
#define R_MAX_PENDING 65536u          /* queued writes beyond: dropped, not buffered */
#define R_SCAN_COUNT "512"
#define R_SCAN_MAX_ROUNDS (1u << 20)  /* SCAN ends by itself; this only bounds a bug */

struct ims_redis {
    ims_kv_t kv;                      /* first: the interface */
    ims_redis_cfg_t cfg;
    char addr[160];
    ims_loop_t *loop;
    /* the asynchronous (write) connection and its loop adapter */
    redisAsyncContext *ac;            /* NULL while down */
    int fd;
    unsigned evmask;
    bool fd_on, closing, was_up;
    ims_timer_t retry;                /* reconnection, or the connect watchdog */
    uint32_t backoff;
    /* the synchronous (read) connection */
    redisContext *sc;                 /* NULL while down */
    uint64_t sync_retry_at;           /* monotonic ms */
    uint32_t sync_backoff;
    /* get's values */
    char *keep[IMS_REDIS_GET_KEEP];
    unsigned keep_next;
    ims_redis_stats_t st;
};

static void async_connect(ims_redis_t *r);
static void on_retry(ims_loop_t *loop, ims_timer_t *t, void *arg);

/* "ims:<table>:<key>" into buf; its length, or 0 when empty or too long. */
static size_t rkey(char *buf, size_t len, const char *table, const char *key)
{
    size_t t = strlen(table), k = strlen(key);
    int n;

    if (!t || !k || t > IMS_KV_MAX_TABLE || k > IMS_KV_MAX_KEY)
        return 0;
    n = snprintf(buf, len, R_PREFIX "%s:%s", table, key);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

static bool async_up(const ims_redis_t *r)
{
    return r->ac && (r->ac->c.flags & REDIS_CONNECTED);
}

/* ---- the loop adapter: hiredis's event hooks on ims_loop ---- */

static void on_fd(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    ims_redis_t *r = arg;
    redisAsyncContext *ac = r->ac;

    (void)loop;
    (void)fd;
    if (!ac)
        return;
    if (events & (IMS_EV_READ | IMS_EV_ERROR))
        redisAsyncHandleRead(ac);
    /* the read may have ended the connection (and freed ac: ev_cleanup) */
    if (r->ac == ac && (events & (IMS_EV_WRITE | IMS_EV_ERROR)))
        redisAsyncHandleWrite(ac);
}

static void ev_set(ims_redis_t *r, unsigned mask)
{
    if (r->fd_on && mask == r->evmask)
        return;
    r->evmask = mask;
    if (r->fd_on) {
        ims_loop_mod_fd(r->loop, r->fd, mask);
    } else if (ims_loop_add_fd(r->loop, r->fd, mask, on_fd, r) == IMS_OK) {
        r->fd_on = true;
    } else {
        IMS_ERR("store: redis %s: cannot watch fd %d", r->addr, r->fd);
    }
}

static void ev_add_read(void *p)
{
    ims_redis_t *r = p;

    ev_set(r, r->evmask | IMS_EV_READ);
}

static void ev_del_read(void *p)
{
    ims_redis_t *r = p;

    ev_set(r, r->evmask & ~IMS_EV_READ);
}

static void ev_add_write(void *p)
{
    ims_redis_t *r = p;

    ev_set(r, r->evmask | IMS_EV_WRITE);
}

static void ev_del_write(void *p)
{
    ims_redis_t *r = p;

    ev_set(r, r->evmask & ~IMS_EV_WRITE);
}

/* hiredis frees the context after this (connection lost, failed, or closed). */
static void ev_cleanup(void *p)
{
    ims_redis_t *r = p;

    if (r->fd_on)
        ims_loop_del_fd(r->loop, r->fd);
    r->fd_on = false;
    r->evmask = 0;
    r->fd = -1;
    r->ac = NULL;
}

/* ---- the asynchronous connection: connect, lose, reconnect ---- */

static void schedule_retry(ims_redis_t *r)
{
    if (r->closing)
        return;
    ims_timer_start(r->loop, &r->retry, r->backoff, on_retry, r);
    r->backoff = r->backoff * 2 > r->cfg.backoff_max_ms ? r->cfg.backoff_max_ms : r->backoff * 2;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    ims_redis_t *r = ac->data;

    ims_timer_stop(r->loop, &r->retry);
    if (status != REDIS_OK) {
        if (r->was_up || !r->st.connects)
            IMS_WARN("store: redis %s: connect: %s (retrying)", r->addr,
                     ac->errstr[0] ? ac->errstr : "failed");
        r->was_up = false;
        schedule_retry(r);      /* hiredis frees ac when this returns */
        return;
    }
    r->st.connects++;
    r->was_up = true;
    r->backoff = r->cfg.backoff_min_ms;
    IMS_NOTICE("store: redis %s: connected", r->addr);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    ims_redis_t *r = ac->data;

    if (r->closing)
        return;
    r->st.disconnects++;
    IMS_WARN("store: redis %s: connection lost%s%s (reconnecting)", r->addr,
             status != REDIS_OK ? ": " : "", status != REDIS_OK ? ac->errstr : "");
    schedule_retry(r);
}

/* The retry timer: connect when down; while a connect is still under way after
 * the watchdog time, give it up and back off (an unreachable host would leave
 * the SYN pending for minutes, with writes queueing behind it). */
static void on_retry(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    ims_redis_t *r = arg;

    (void)loop;
    (void)t;
    if (!r->ac) {
        async_connect(r);
    } else if (!async_up(r)) {
        IMS_WARN("store: redis %s: no connection after %u ms (retrying)", r->addr,
                 r->cfg.timeout_ms);
        redisAsyncFree(r->ac);   /* queued writes get their (counted) NULL replies */
        schedule_retry(r);
    }
}

static void async_connect(ims_redis_t *r)
{
    redisAsyncContext *ac = redisAsyncConnect(r->cfg.host, r->cfg.port);

    if (!ac)
        abort();
    if (ac->err) {
        IMS_WARN("store: redis %s: %s (retrying)", r->addr, ac->errstr);
        redisAsyncFree(ac);
        schedule_retry(r);
        return;
    }
    ac->data = r;
    r->ac = ac;
    r->fd = ac->c.fd;
    /* the hooks first: setting the connect callback adds the write event */
    ac->ev.data = r;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    redisAsyncSetConnectCallback(ac, on_connect);
    ims_timer_start(r->loop, &r->retry, r->cfg.timeout_ms, on_retry, r);   /* watchdog */
}

/* ---- writes: fire and forget, replies counted ---- */

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    ims_redis_t *r = ac->data;
    redisReply *rep = reply;

    (void)priv;
    r->st.pending--;
    if (r->closing || (rep && rep->type != REDIS_REPLY_ERROR))
        return;
    r->st.errors++;
    /* the first, then one line per 1000: an outage must not flood the log */
    if (r->st.errors % 1000 == 1)
        IMS_ERR("store: redis %s: write failed: %s (%llu so far)", r->addr,
                rep ? rep->str : "no reply", (unsigned long long)r->st.errors);
}

static int send_cmd(ims_redis_t *r, int argc, const char **argv, const size_t *lens)
{
    if (!r->ac || r->st.pending >= R_MAX_PENDING) {
        r->st.dropped++;
        if (r->st.dropped % 1000 == 1)
            IMS_ERR("store: redis %s: %s: write dropped (%llu so far)", r->addr,
                    r->ac ? "too many pending" : "not connected",
                    (unsigned long long)r->st.dropped);
        return IMS_ERROR;
    }
    if (redisAsyncCommandArgv(r->ac, on_reply, NULL, argc, argv, lens) != REDIS_OK) {
        r->st.errors++;
        return IMS_ERROR;
    }
    r->st.pending++;
    /* hand the bytes to the kernel now rather than on the next loop turn: a
     * process killed after put returned has sent them */
    if (async_up(r))
        redisAsyncHandleWrite(r->ac);
    return IMS_OK;
}

static int r_del_key(ims_redis_t *r, const char *k, size_t kl)
{
    const char *argv[] = { "DEL", k };
    size_t lens[] = { 3, kl };

    r->st.dels++;
    return send_cmd(r, 2, argv, lens);
}

static int r_put(ims_kv_t *kv, const char *table, const char *key, const void *val, size_t len,
                 uint64_t expires_ms)
{
    ims_redis_t *r = (ims_redis_t *)kv;
    char k[R_KEY_MAX], ms[24];
    size_t kl = rkey(k, sizeof(k), table, key);
    uint64_t now = ims_wall_ms();
    const char *argv[] = { "SET", k, val ? val : "", "PX", ms };
    size_t lens[] = { 3, kl, len, 2, 0 };

    if (!kl || len > IMS_KV_MAX_VALUE)
        return IMS_ERROR;
    if (expires_ms && expires_ms <= now)
        return r_del_key(r, k, kl);   /* gone already: what the journal would not restore */
    lens[4] = (size_t)snprintf(ms, sizeof(ms), "%llu",
                               (unsigned long long)(expires_ms ? expires_ms - now : 0));
    r->st.puts++;
    return send_cmd(r, expires_ms ? 5 : 3, argv, lens);
}

/* IMS_OK once sent: whether the key existed is not known here (asynchronous). */
static int r_del(ims_kv_t *kv, const char *table, const char *key)
{
    ims_redis_t *r = (ims_redis_t *)kv;
    char k[R_KEY_MAX];
    size_t kl = rkey(k, sizeof(k), table, key);

    return kl ? r_del_key(r, k, kl) : IMS_DECLINED;
}

/* ---- reads: synchronous, bounded ---- */

static struct timeval ms_tv(uint32_t ms)
{
    return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
}

static void sync_fail(ims_redis_t *r, const char *what)
{
    r->st.read_errors++;
    IMS_WARN("store: redis %s: %s: %s (reads answer \"absent\" for %u ms)", r->addr, what,
             r->sc && r->sc->errstr[0] ? r->sc->errstr : "failed", r->sync_backoff);
    if (r->sc)
        redisFree(r->sc);
    r->sc = NULL;
    r->sync_retry_at = ims_clock_now_ms() + r->sync_backoff;
    r->sync_backoff = r->sync_backoff * 2 > r->cfg.backoff_max_ms ? r->cfg.backoff_max_ms
                                                                  : r->sync_backoff * 2;
}

/* The read connection, (re)connected when the back-off allows; NULL while down. */
static redisContext *sync_ctx(ims_redis_t *r)
{
    if (r->sc)
        return r->sc;
    if (ims_clock_now_ms() < r->sync_retry_at)
        return NULL;
    r->sc = redisConnectWithTimeout(r->cfg.host, r->cfg.port, ms_tv(r->cfg.timeout_ms));
    if (!r->sc)
        abort();
    if (r->sc->err || redisSetTimeout(r->sc, ms_tv(r->cfg.timeout_ms)) != REDIS_OK) {
        sync_fail(r, "connect");
        return NULL;
    }
    r->sync_backoff = r->cfg.backoff_min_ms;
    return r->sc;
}

/* One command on the read connection: its reply (free it), or NULL (an error
 * reply is logged and NULL too). */
static redisReply *sync_cmd(ims_redis_t *r, int argc, const char **argv, const size_t *lens)
{
    redisContext *c = sync_ctx(r);
    redisReply *rep;

    if (!c)
        return NULL;
    r->st.reads++;
    if (!(rep = redisCommandArgv(c, argc, argv, lens))) {
        sync_fail(r, argv[0]);
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        r->st.read_errors++;
        IMS_ERR("store: redis %s: %s: %s", r->addr, argv[0], rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

static const void *r_get(ims_kv_t *kv, const char *table, const char *key, size_t *len)
{
    ims_redis_t *r = (ims_redis_t *)kv;
    char k[R_KEY_MAX], **slot;
    size_t kl = rkey(k, sizeof(k), table, key);
    const char *argv[] = { "GET", k };
    size_t lens[] = { 3, kl };
    redisReply *rep = kl ? sync_cmd(r, 2, argv, lens) : NULL;

    if (!rep || rep->type != REDIS_REPLY_STRING || rep->len > IMS_KV_MAX_VALUE) {
        if (rep)
            freeReplyObject(rep);
        return NULL;
    }
    slot = &r->keep[r->keep_next++ % IMS_REDIS_GET_KEEP];
    free(*slot);
    if (!(*slot = malloc(rep->len + 1)))
        abort();
    memcpy(*slot, rep->str, rep->len);
    (*slot)[rep->len] = '\0';   /* handy for string values */
    *len = rep->len;
    freeReplyObject(rep);
    return *slot;
}

/* The SCAN pattern of table: its glob characters escaped. */
static void scan_pattern(char *out, size_t outlen, const char *table)
{
    size_t o = 0;

    o += (size_t)snprintf(out, outlen, R_PREFIX);
    for (const char *p = table; *p && o + 4 < outlen; p++) {
        if (strchr("*?[]\\", *p))
            out[o++] = '\\';
        out[o++] = *p;
    }
    snprintf(out + o, outlen - o, ":*");
}

/* GET and PTTL of each key of one SCAN batch, pipelined; then the callbacks
 * (all replies read first: the read connection is free for their gets). */
static int scan_batch(ims_redis_t *r, const redisReply *keys, size_t plen, ims_kv_iter_cb cb,
                      void *arg)
{
    size_t n = keys->elements;
    redisReply **rep = calloc(2 * n + 1, sizeof(*rep));
    uint64_t now = ims_wall_ms();
    int rc = IMS_OK;

    if (!rep)
        abort();
    for (size_t i = 0; i < n; i++) {
        const redisReply *k = keys->element[i];
        const char *ga[] = { "GET", k->str }, *pa[] = { "PTTL", k->str };
        size_t gl[] = { 3, k->len }, pl[] = { 4, k->len };

        redisAppendCommandArgv(r->sc, 2, ga, gl);
        redisAppendCommandArgv(r->sc, 2, pa, pl);
    }
    for (size_t i = 0; i < 2 * n && rc == IMS_OK; i++)
        if (redisGetReply(r->sc, (void **)&rep[i]) != REDIS_OK) {
            sync_fail(r, "GET");
            rc = IMS_ERROR;
        }
    for (size_t i = 0; i < n && rc == IMS_OK; i++) {
        const redisReply *k = keys->element[i], *v = rep[2 * i], *t = rep[2 * i + 1];
        uint64_t exp = t && t->type == REDIS_REPLY_INTEGER && t->integer > 0
                           ? now + (uint64_t)t->integer : 0;

        /* gone meanwhile (NIL), or not one of ours */
        if (v && v->type == REDIS_REPLY_STRING && v->len <= IMS_KV_MAX_VALUE &&
            k->len > plen && k->len - plen <= IMS_KV_MAX_KEY && !memchr(k->str, 0, k->len))
            cb(arg, k->str + plen, v->str, v->len, exp);
    }
    for (size_t i = 0; i < 2 * n; i++)
        if (rep[i])
            freeReplyObject(rep[i]);
    free(rep);
    return rc;
}

/* Only string keys, so that the batch may use them as C strings. */
static bool keys_ok(const redisReply *keys)
{
    if (keys->type != REDIS_REPLY_ARRAY)
        return false;
    for (size_t i = 0; i < keys->elements; i++)
        if (keys->element[i]->type != REDIS_REPLY_STRING)
            return false;
    return true;
}

static void r_foreach(ims_kv_t *kv, const char *table, ims_kv_iter_cb cb, void *arg)
{
    ims_redis_t *r = (ims_redis_t *)kv;
    char pat[2 * IMS_KV_MAX_TABLE + 8], cursor[32] = "0";
    size_t plen = strlen(R_PREFIX) + strlen(table) + 1;
    unsigned rounds = 0;

    scan_pattern(pat, sizeof(pat), table);
    do {
        const char *argv[] = { "SCAN", cursor, "MATCH", pat, "COUNT", R_SCAN_COUNT };
        size_t lens[] = { 4, strlen(cursor), 5, strlen(pat), 5, strlen(R_SCAN_COUNT) };
        redisReply *rep = sync_cmd(r, 6, argv, lens);
        int rc = IMS_ERROR;

        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
            rep->element[0]->type == REDIS_REPLY_STRING &&
            rep->element[0]->len < sizeof(cursor) && keys_ok(rep->element[1])) {
            memcpy(cursor, rep->element[0]->str, rep->element[0]->len + 1);
            rc = scan_batch(r, rep->element[1], plen, cb, arg);
        } else if (rep) {
            IMS_ERR("store: redis %s: SCAN: unexpected reply", r->addr);
        }
        if (rep)
            freeReplyObject(rep);
        if (rc != IMS_OK) {
            IMS_ERR("store: redis %s: walk of %s cut short", r->addr, table);
            return;
        }
    } while (strcmp(cursor, "0") != 0 && ++rounds < R_SCAN_MAX_ROUNDS);
}

/* ---- open, close ---- */

static void r_close(ims_kv_t *kv)
{
    ims_redis_t *r = (ims_redis_t *)kv;

    r->closing = true;
    ims_timer_stop(r->loop, &r->retry);
    if (r->ac)
        redisAsyncFree(r->ac);   /* replies pending are dropped; ev_cleanup runs */
    if (r->sc)
        redisFree(r->sc);
    for (unsigned i = 0; i < IMS_REDIS_GET_KEEP; i++)
        free(r->keep[i]);
    free(r);
}

static const ims_kv_ops_t g_redis_ops = { r_put, r_del, r_get, r_foreach, r_close };

ims_redis_t *ims_redis_open(ims_loop_t *loop, const ims_redis_cfg_t *cfg, char *err,
                            size_t errlen)
{
    ims_redis_t *r = calloc(1, sizeof(*r));

    if (!r)
        abort();
    r->kv.ops = &g_redis_ops;
    r->cfg = *cfg;
    r->loop = loop;
    r->fd = -1;
    r->backoff = r->sync_backoff = cfg->backoff_min_ms;
    snprintf(r->addr, sizeof(r->addr), "%s:%u", cfg->host, cfg->port);
    ims_timer_init(&r->retry);
    if (!sync_ctx(r)) {
        snprintf(err, errlen, "redis %s: cannot connect within %u ms", r->addr,
                 cfg->timeout_ms);
        r_close(&r->kv);
        return NULL;
    }
    async_connect(r);
    return r;
}

ims_kv_t *ims_redis_kv(ims_redis_t *r)
{
    return &r->kv;
}

void ims_redis_stats(const ims_redis_t *r, ims_redis_stats_t *st)
{
    *st = r->st;
}

bool ims_redis_connected(const ims_redis_t *r)
{
    return async_up(r);
}

const char *ims_redis_addr(const ims_redis_t *r)
{
    return r->addr;
}

/* ---- configuration ---- */

void ims_redis_cfg_defaults(ims_redis_cfg_t *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->host, sizeof(c->host), "127.0.0.1");
    c->port = 6379;
    c->timeout_ms = 200;
    c->backoff_min_ms = 100;
    c->backoff_max_ms = 5000;
}

/* "host", "host:port", "[v6]" or "[v6]:port" into c; IMS_OK or IMS_ERROR. */
static int parse_addr(const char *s, ims_redis_cfg_t *c)
{
    const char *colon = strrchr(s, ':'), *h = s, *he;
    char *end;
    unsigned long port = c->port;

    if (s[0] == '[') {
        h = s + 1;
        if (!(he = strchr(h, ']')) || (he[1] && he[1] != ':'))
            return IMS_ERROR;
        colon = he[1] ? he + 1 : NULL;
    } else {
        he = colon ? colon : s + strlen(s);
    }
    if (colon) {
        port = strtoul(colon + 1, &end, 10);
        if (!colon[1] || *end || port == 0 || port > 65535)
            return IMS_ERROR;
    }
    if (he == h || (size_t)(he - h) >= sizeof(c->host))
        return IMS_ERROR;
    memcpy(c->host, h, (size_t)(he - h));
    c->host[he - h] = '\0';
    c->port = (uint16_t)port;
    return IMS_OK;
}

int ims_redis_conf(ims_conf_t *conf, const char *group, ims_redis_cfg_t *c, char *err,
                   size_t errlen)
{
    char key[96];
    const char *s;
    long long v;
    int rc;

    ims_redis_cfg_defaults(c);
    snprintf(key, sizeof(key), "%s.redis", group);
    if (ims_conf_str(conf, key, true, &s) != IMS_OK) {
        snprintf(err, errlen, "%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (parse_addr(s, c) != IMS_OK) {
        snprintf(err, errlen, "%s: %s: \"%s\": want host:port", ims_conf_path(conf), key, s);
        return IMS_ERROR;
    }
    snprintf(key, sizeof(key), "%s.redis_timeout_ms", group);
    if ((rc = ims_conf_int(conf, key, false, 1, 10000, &v)) == IMS_ERROR) {
        snprintf(err, errlen, "%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (rc == IMS_OK)
        c->timeout_ms = (uint32_t)v;
    return IMS_OK;
}
