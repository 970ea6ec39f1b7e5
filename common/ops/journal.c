/* SPDX-License-Identifier: BSD-2-Clause */
/* The journal backend of ims_kv_t: in-memory tables, an append-only file (journal.h). */
#include "common/ops/journal.h"
#include "common/ops/journal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/clock.h"
#include "common/core/hash.h"
#include "common/core/log.h"
#include "common/core/rc.h"

uint64_t ims_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- CRC-32 (IEEE 802.3, reflected), table built on first use ---- */

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    static uint32_t tbl[256];
    static bool ready;
    uint32_t c = 0xffffffffu;

    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t v = i;

            for (int k = 0; k < 8; k++)
                v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
            tbl[i] = v;
        }
        ready = true;
    }
    while (n--)
        c = tbl[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

/* ---- little-endian helpers ---- */

static void le_put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le_get(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t rec_size(size_t tlen, size_t klen, size_t vlen)
{
    return J_HDR + J_FIXED + tlen + klen + vlen;
}

static uint64_t ent_size(const jent_t *e)
{
    return rec_size(e->tlen, e->klen, e->vlen);
}

/* ---- the in-memory tables ---- */

/* "table\0key" into buf; its length, or 0 when it does not fit. */
static size_t tab_key(char *buf, size_t len, const char *table, const char *key)
{
    size_t t = strlen(table), k = strlen(key);

    if (t + 1 + k > len)
        return 0;
    memcpy(buf, table, t + 1);
    memcpy(buf + t + 1, key, k);
    return t + 1 + k;
}

static void drop(ims_journal_t *j, const char *ck, size_t cklen)
{
    jent_t *e = ims_hash_remove_n(j->tab, ck, cklen);

    if (e) {
        j->st.records--;
        j->st.live_bytes -= ent_size(e);
        free(e);
    }
}

/* Apply one record to memory (the lengths are checked by the caller). */
static void apply(ims_journal_t *j, int op, const char *t, size_t tl, const char *k, size_t kl,
                  const void *v, size_t vl, uint64_t exp)
{
    char ck[IMS_KV_MAX_TABLE + 1 + IMS_KV_MAX_KEY];
    jent_t *e;

    memcpy(ck, t, tl);
    ck[tl] = '\0';
    memcpy(ck + tl + 1, k, kl);
    drop(j, ck, tl + 1 + kl);
    if (op != J_OP_PUT)
        return;
    if (!(e = malloc(sizeof(*e) + tl + 1 + kl + 1 + vl)))
        abort();
    e->expires = exp;
    e->tlen = (uint8_t)tl;
    e->klen = (uint16_t)kl;
    e->vlen = (uint32_t)vl;
    memcpy(e->data, ck, tl + 1 + kl);
    e->data[tl + 1 + kl] = '\0';
    if (vl)
        memcpy(e->data + tl + 1 + kl + 1, v, vl);
    if (ims_hash_insert_n(j->tab, ck, tl + 1 + kl, e) != IMS_OK)
        abort();
    j->st.records++;
    j->st.live_bytes += ent_size(e);
}

/* ---- records ---- */

void ims_journal_encode(ims_kv_buf_t *b, int op, const char *t, size_t tl, const char *k,
                        size_t kl, const void *v, size_t vl, uint64_t exp)
{
    size_t body = J_FIXED + tl + kl + vl, at;
    uint8_t *p;

    if (b->len + J_HDR + body > b->cap) {
        b->cap = (b->len + J_HDR + body) * 2;
        if (!(b->p = realloc(b->p, b->cap)))
            abort();
    }
    at = b->len;
    p = b->p + at + J_HDR;
    p[0] = (uint8_t)op;
    p[1] = (uint8_t)tl;
    le_put(p + 2, kl, 2);
    le_put(p + 4, vl, 4);
    le_put(p + 8, exp, 8);
    memcpy(p + J_FIXED, t, tl);
    memcpy(p + J_FIXED + tl, k, kl);
    if (vl)
        memcpy(p + J_FIXED + tl + kl, v, vl);
    le_put(b->p + at, body, 4);
    le_put(b->p + at + 4, crc32_of(p, body), 4);
    b->len += J_HDR + body;
}

/* Write all of p, or cut the file back to where it was (a half record
 * would end every later replay there). */
static int append(ims_journal_t *j, const uint8_t *p, size_t n)
{
    size_t done = 0;

    while (done < n) {
        ssize_t w = write(j->fd, p + done, n - done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            IMS_ERR("journal %s: write: %s", j->cfg.path, w < 0 ? strerror(errno) : "short");
            j->st.write_errors++;
            if (done && ftruncate(j->fd, (off_t)j->st.file_bytes) != 0)
                IMS_ERR("journal %s: truncate: %s", j->cfg.path, strerror(errno));
            return IMS_ERROR;
        }
        done += (size_t)w;
    }
    j->st.file_bytes += n;
    return IMS_OK;
}

static void do_sync(ims_journal_t *j)
{
    if (!j->dirty)
        return;
    if (fdatasync(j->fd) != 0)
        IMS_ERR("journal %s: fdatasync: %s", j->cfg.path, strerror(errno));
    j->dirty = false;
    j->st.fsyncs++;
}

static void on_sync_timer(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    (void)loop;
    (void)t;
    do_sync(arg);
}

/* After a record: the fsync policy, then compaction when it is due. */
static void written(ims_journal_t *j)
{
    j->dirty = true;
    if (j->cfg.fsync == IMS_FSYNC_ALWAYS)
        do_sync(j);
    else if (j->cfg.fsync == IMS_FSYNC_INTERVAL && j->loop && !ims_timer_armed(&j->sync_timer))
        ims_timer_start(j->loop, &j->sync_timer, j->cfg.fsync_ms, on_sync_timer, j);
    ims_journal_compact_due(j);
}

static int record(ims_journal_t *j, int op, const char *table, const char *key,
                  const void *val, size_t len, uint64_t exp)
{
    size_t tl = strlen(table), kl = strlen(key);
    ims_kv_buf_t b = { NULL, 0, 0 };
    int rc;

    if (tl == 0 || tl > IMS_KV_MAX_TABLE || kl == 0 || kl > IMS_KV_MAX_KEY ||
        len > IMS_KV_MAX_VALUE)
        return IMS_ERROR;
    ims_journal_encode(&b, op, table, tl, key, kl, val, len, exp);
    rc = append(j, b.p, b.len);
    ims_kv_buf_free(&b);
    if (rc != IMS_OK)
        return rc;
    apply(j, op, table, tl, key, kl, val, len, exp);
    written(j);
    return IMS_OK;
}

/* ---- the interface's operations ---- */

static int j_put(ims_kv_t *kv, const char *table, const char *key, const void *val, size_t len,
                 uint64_t expires_ms)
{
    return record((ims_journal_t *)kv, J_OP_PUT, table, key, val, len, expires_ms);
}

static int j_del(ims_kv_t *kv, const char *table, const char *key)
{
    ims_journal_t *j = (ims_journal_t *)kv;
    char ck[IMS_KV_MAX_TABLE + 1 + IMS_KV_MAX_KEY];
    size_t n = tab_key(ck, sizeof(ck), table, key);

    if (!n || !ims_hash_find_n(j->tab, ck, n))
        return IMS_DECLINED;
    return record(j, J_OP_DEL, table, key, NULL, 0, 0);
}

static const void *j_get(ims_kv_t *kv, const char *table, const char *key, size_t *len)
{
    ims_journal_t *j = (ims_journal_t *)kv;
    char ck[IMS_KV_MAX_TABLE + 1 + IMS_KV_MAX_KEY];
    size_t n = tab_key(ck, sizeof(ck), table, key);
    jent_t *e = n ? ims_hash_find_n(j->tab, ck, n) : NULL;

    if (!e || (e->expires && e->expires <= ims_wall_ms()))
        return NULL;
    *len = e->vlen;
    return ims_jent_val(e);
}

typedef struct walk {
    const char *table;
    uint64_t now;
    ims_kv_iter_cb cb;
    void *arg;
} walk_t;

static void walk_one(void *arg, const char *ck, void *value)
{
    walk_t *w = arg;
    jent_t *e = value;

    (void)ck;
    if (strcmp(e->data, w->table) == 0 && (!e->expires || e->expires > w->now))
        w->cb(w->arg, ims_jent_key(e), ims_jent_val(e), e->vlen, e->expires);
}

static void j_foreach(ims_kv_t *kv, const char *table, ims_kv_iter_cb cb, void *arg)
{
    ims_journal_t *j = (ims_journal_t *)kv;
    walk_t w = { table, ims_wall_ms(), cb, arg };

    ims_hash_foreach(j->tab, walk_one, &w);
}

static void free_ent(void *arg, const char *key, void *value)
{
    (void)arg;
    (void)key;
    free(value);
}

static void j_close(ims_kv_t *kv)
{
    ims_journal_t *j = (ims_journal_t *)kv;

    if (j->loop)
        ims_timer_stop(j->loop, &j->sync_timer);
    if (j->cfg.fsync != IMS_FSYNC_NONE)
        do_sync(j);
    if (j->fd >= 0)
        close(j->fd);
    ims_hash_foreach(j->tab, free_ent, NULL);
    ims_hash_free(j->tab);
    free(j);
}

static const ims_kv_ops_t g_journal_ops = { j_put, j_del, j_get, j_foreach, j_close };

ims_kv_t *ims_journal_kv(ims_journal_t *j)
{
    return &j->kv;
}

void ims_journal_stats(const ims_journal_t *j, ims_journal_stats_t *st)
{
    *st = j->st;
}

/* ---- open and replay ---- */

/* Read the whole file (bounded) into *buf; its size, or -1. */
static long long slurp(int fd, uint8_t **buf)
{
    struct stat sb;
    size_t done = 0, n;

    if (fstat(fd, &sb) != 0 || (unsigned long long)sb.st_size > J_MAX_FILE)
        return -1;
    n = (size_t)sb.st_size;
    if (!(*buf = malloc(n ? n : 1)))
        abort();
    while (done < n) {
        ssize_t r = pread(fd, *buf + done, n - done, (off_t)done);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    return (long long)done;
}

/* One record at p (avail bytes): its total size, or 0 when torn or corrupt. */
static size_t replay_one(ims_journal_t *j, const uint8_t *p, size_t avail, uint64_t now)
{
    size_t body, tl, kl, vl;
    const uint8_t *b = p + J_HDR;
    uint64_t exp;
    int op;

    if (avail < J_HDR + J_FIXED)
        return 0;
    body = (size_t)le_get(p, 4);
    if (body < J_FIXED || body > J_MAX_BODY || body > avail - J_HDR ||
        crc32_of(b, body) != (uint32_t)le_get(p + 4, 4))
        return 0;
    op = b[0];
    tl = b[1];
    kl = (size_t)le_get(b + 2, 2);
    vl = (size_t)le_get(b + 4, 4);
    exp = le_get(b + 8, 8);
    if ((op != J_OP_PUT && op != J_OP_DEL) || tl == 0 || tl > IMS_KV_MAX_TABLE || kl == 0 ||
        kl > IMS_KV_MAX_KEY || vl > IMS_KV_MAX_VALUE || J_FIXED + tl + kl + vl != body ||
        memchr(b + J_FIXED, 0, tl + kl))
        return 0;
    if (op == J_OP_PUT && exp && exp <= now) {
        op = J_OP_DEL;   /* gone by now: not restored */
        j->st.expired++;
    }
    apply(j, op, (const char *)b + J_FIXED, tl, (const char *)b + J_FIXED + tl, kl,
          b + J_FIXED + tl + kl, vl, exp);
    j->st.replayed++;
    return J_HDR + body;
}

/* Replay the file open on j->fd; cut a torn tail. IMS_OK or IMS_ERROR (err set). */
static int replay(ims_journal_t *j, char *err, size_t errlen)
{
    uint8_t *buf = NULL;
    long long size = slurp(j->fd, &buf);
    uint64_t now = ims_wall_ms();
    size_t off = J_MAGIC_LEN, n;

    if (size < 0) {
        snprintf(err, errlen, "journal %s: unreadable or larger than 1 GiB", j->cfg.path);
        free(buf);
        return IMS_ERROR;
    }
    if (size >= J_MAGIC_LEN && memcmp(buf, J_MAGIC, J_MAGIC_LEN) != 0) {
        snprintf(err, errlen, "journal %s: not a journal (bad magic): left alone", j->cfg.path);
        free(buf);
        return IMS_ERROR;
    }
    if (size < J_MAGIC_LEN)
        off = 0;   /* new (or a header torn at creation): start over */
    while (off && off < (size_t)size && (n = replay_one(j, buf + off, (size_t)size - off, now)))
        off += n;
    free(buf);
    if (off < (size_t)size || off == 0) {
        j->st.torn_bytes = (uint64_t)size - off;
        if (j->st.torn_bytes)
            IMS_WARN("journal %s: %llu bytes after offset %zu torn or corrupt: cut",
                     j->cfg.path, (unsigned long long)j->st.torn_bytes, off);
        if (ftruncate(j->fd, (off_t)off) != 0) {
            snprintf(err, errlen, "journal %s: truncate: %s", j->cfg.path, strerror(errno));
            return IMS_ERROR;
        }
    }
    j->st.file_bytes = off;
    if (off == 0 && append(j, (const uint8_t *)J_MAGIC, J_MAGIC_LEN) != IMS_OK) {
        snprintf(err, errlen, "journal %s: cannot write: %s", j->cfg.path, strerror(errno));
        return IMS_ERROR;
    }
    return IMS_OK;
}

ims_journal_t *ims_journal_open(ims_loop_t *loop, const ims_journal_cfg_t *cfg, char *err,
                                size_t errlen)
{
    ims_journal_t *j = calloc(1, sizeof(*j));

    if (!j || !(j->tab = ims_hash_new(4096)))
        abort();
    j->kv.ops = &g_journal_ops;
    j->cfg = *cfg;
    j->loop = loop;
    ims_timer_init(&j->sync_timer);
    j->fd = open(cfg->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (j->fd < 0) {
        snprintf(err, errlen, "journal %s: %s", cfg->path, strerror(errno));
        j_close(&j->kv);
        return NULL;
    }
    if (replay(j, err, errlen) != IMS_OK) {
        j_close(&j->kv);
        return NULL;
    }
    ims_journal_compact_due(j);
    return j;
}

int ims_journal_start(ims_loop_t *loop, ims_conf_t *conf, const char *group, const char *who,
                      ims_journal_t **j)
{
    ims_journal_cfg_t jc;
    char err[512];
    int rc = ims_journal_conf(conf, group, &jc, err, sizeof(err));

    *j = NULL;
    if (rc == IMS_DECLINED)
        return IMS_OK;
    if (rc == IMS_OK && !(*j = ims_journal_open(loop, &jc, err, sizeof(err))))
        rc = IMS_ERROR;
    if (rc != IMS_OK)
        IMS_ERR("%s: %s", who, err);
    return rc;
}

void ims_journal_log_restore(const ims_journal_t *j, const char *who, size_t n,
                             const char *what, uint64_t t0_us)
{
    IMS_NOTICE("%s: store %s: %zu %s restored in %llu ms (%llu records read, %llu expired, "
               "%llu torn bytes cut; %llu bytes)", who, j->cfg.path, n, what,
               (unsigned long long)((ims_clock_real_us() - t0_us) / 1000),
               (unsigned long long)j->st.replayed, (unsigned long long)j->st.expired,
               (unsigned long long)j->st.torn_bytes, (unsigned long long)j->st.file_bytes);
}

/* ---- configuration ---- */

void ims_journal_cfg_defaults(ims_journal_cfg_t *c)
{
    memset(c, 0, sizeof(*c));
    c->fsync = IMS_FSYNC_INTERVAL;
    c->fsync_ms = 100;
    c->compact_factor = 4;
    c->compact_min = 1u << 20;
}

static int conf_num(ims_conf_t *conf, const char *group, const char *name, long long min,
                    long long max, long long *out)
{
    char key[96];

    snprintf(key, sizeof(key), "%s.%s", group, name);
    return ims_conf_int(conf, key, false, min, max, out);
}

int ims_journal_conf(ims_conf_t *conf, const char *group, ims_journal_cfg_t *c, char *err,
                     size_t errlen)
{
    static const char *const names[] = { "none", "interval", "always" };
    char key[96];
    const char *s;
    long long v;
    int rc;

    ims_journal_cfg_defaults(c);
    snprintf(key, sizeof(key), "%s.journal", group);
    if (!conf || (rc = ims_conf_str(conf, key, false, &s)) == IMS_DECLINED)
        return IMS_DECLINED;
    if (rc != IMS_OK || !s[0] || strlen(s) >= sizeof(c->path))
        goto bad;
    memcpy(c->path, s, strlen(s) + 1);
    snprintf(key, sizeof(key), "%s.fsync", group);
    if ((rc = ims_conf_str(conf, key, false, &s)) == IMS_ERROR)
        goto bad;
    if (rc == IMS_OK) {
        size_t i = 0;

        while (i < IMS_ARRAY_LEN(names) && strcmp(s, names[i]) != 0)
            i++;
        if (i == IMS_ARRAY_LEN(names)) {
            snprintf(err, errlen, "%s: %s: \"%s\": want none, interval or always",
                     ims_conf_path(conf), key, s);
            return IMS_ERROR;
        }
        c->fsync = (ims_fsync_t)i;
    }
    if ((rc = conf_num(conf, group, "fsync_ms", 1, 60000, &v)) == IMS_ERROR)
        goto bad;
    if (rc == IMS_OK)
        c->fsync_ms = (uint32_t)v;
    if ((rc = conf_num(conf, group, "compact_factor", 2, 1000, &v)) == IMS_ERROR)
        goto bad;
    if (rc == IMS_OK)
        c->compact_factor = (uint32_t)v;
    if ((rc = conf_num(conf, group, "compact_min", 0, 1ll << 40, &v)) == IMS_ERROR)
        goto bad;
    if (rc == IMS_OK)
        c->compact_min = (uint64_t)v;
    return IMS_OK;
bad:
    if (rc == IMS_OK)
        snprintf(err, errlen, "%s: %s.journal: empty or longer than %zu characters",
                 ims_conf_path(conf), group, sizeof(c->path) - 1);
    else
        snprintf(err, errlen, "%s", ims_conf_error(conf));
    return IMS_ERROR;
}

/* ---- value encoding ---- */

static void buf_room(ims_kv_buf_t *b, size_t n)
{
    if (b->len + n <= b->cap)
        return;
    b->cap = (b->len + n) * 2 + 64;
    if (!(b->p = realloc(b->p, b->cap)))
        abort();
}

void ims_kv_buf_u8(ims_kv_buf_t *b, uint8_t v)
{
    buf_room(b, 1);
    b->p[b->len++] = v;
}

void ims_kv_buf_u32(ims_kv_buf_t *b, uint32_t v)
{
    buf_room(b, 4);
    le_put(b->p + b->len, v, 4);
    b->len += 4;
}

void ims_kv_buf_u64(ims_kv_buf_t *b, uint64_t v)
{
    buf_room(b, 8);
    le_put(b->p + b->len, v, 8);
    b->len += 8;
}

void ims_kv_buf_str(ims_kv_buf_t *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n > 0xffff)
        n = 0xffff;
    buf_room(b, 2 + n);
    le_put(b->p + b->len, n, 2);
    if (n)
        memcpy(b->p + b->len + 2, s, n);
    b->len += 2 + n;
}

void ims_kv_buf_free(ims_kv_buf_t *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

void ims_kv_rd_init(ims_kv_rd_t *r, const void *val, size_t len)
{
    r->p = val;
    r->len = len;
    r->off = 0;
    r->bad = false;
}

/* n more bytes at the cursor, or NULL (and the reader fails from now on). */
static const uint8_t *rd_take(ims_kv_rd_t *r, size_t n)
{
    const uint8_t *p;

    if (r->bad || n > r->len - r->off) {
        r->bad = true;
        return NULL;
    }
    p = r->p + r->off;
    r->off += n;
    return p;
}

int ims_kv_rd_u8(ims_kv_rd_t *r, uint8_t *v)
{
    const uint8_t *p = rd_take(r, 1);

    if (!p)
        return IMS_ERROR;
    *v = *p;
    return IMS_OK;
}

int ims_kv_rd_u32(ims_kv_rd_t *r, uint32_t *v)
{
    const uint8_t *p = rd_take(r, 4);

    if (!p)
        return IMS_ERROR;
    *v = (uint32_t)le_get(p, 4);
    return IMS_OK;
}

int ims_kv_rd_u64(ims_kv_rd_t *r, uint64_t *v)
{
    const uint8_t *p = rd_take(r, 8);

    if (!p)
        return IMS_ERROR;
    *v = le_get(p, 8);
    return IMS_OK;
}

int ims_kv_rd_str(ims_kv_rd_t *r, char *out, size_t outlen)
{
    const uint8_t *p = rd_take(r, 2), *s;
    size_t n;

    if (!p)
        return IMS_ERROR;
    n = (size_t)le_get(p, 2);
    if (n >= outlen || !(s = rd_take(r, n))) {
        r->bad = true;
        return IMS_ERROR;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return IMS_OK;
}
