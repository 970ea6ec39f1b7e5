/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Why SQNs are persisted in blocks, and why that is safe.
 *
 * A USIM/ISIM accepts an AKA challenge only when its SQN is above the highest
 * SQN it has accepted so far (TS 33.102 §6.3.3, Annex C). An HSS that forgets
 * its counters on restart and starts again from the configured value hands
 * out SQNs the card has already seen: every challenge then ends in a sync
 * failure, and worse, a vector reissued with the same SQN and a captured RAND
 * would let an attacker replay an old challenge. So an SQN must never be
 * handed out twice, across restarts and crashes.
 *
 * The obvious way, writing the new SQN to disk and fsync-ing it before each
 * MAA, costs a synchronous disk write per vector: a few hundred per second at
 * best, where the lab HSS must sustain 20 000 MAR/s on one core. But the HSS
 * does not need to remember the exact last SQN. It only needs an upper bound
 * on every SQN it has handed out, and then to start above that bound. SQNs
 * need not be contiguous: a USIM accepts any SQN above its own as long as the
 * gap is below DELTA (2^28 SEQ values, aka.h), so skipping a few thousand
 * after a restart costs nothing.
 *
 * So each subscriber has a persisted high-water mark (the "mark") next to its
 * current SQN, with the invariant
 *
 *      every SQN handed out  <=  the mark on disk.
 *
 * Handing out the next SQN is a memory increment while it stays at or below
 * the mark. When it would pass the mark, the store first reserves a block:
 * the mark becomes next + (block - 1) SEQ steps, the file is rewritten (temp
 * file, fdatasync, rename, fsync of the directory: the file on disk is always
 * either the old complete set of marks or the new one), and only then is the
 * SQN returned. If the write fails, nothing is handed out (the MAR fails) and
 * the marks in memory keep their old values. At start the marks are read back
 * and every subscriber continues from max(configured SQN, mark); the next SQN
 * is therefore above everything a previous run could have handed out, however
 * that run ended. A missing file means a first start; a malformed one stops
 * the daemon rather than guess.
 *
 * One write per `block` vectors per subscriber: with block = 1000, a subscriber
 * that authenticates every minute causes a write every 16 hours. To batch
 * writes when many subscribers advance together (a benchmark cycling through
 * all of them, or a mass re-registration), a reservation also extends every
 * other subscriber that has used three quarters of its block, so one write
 * usually serves the whole population. The file holds one line per IMPI,
 * "<impi> <mark>", and keeps lines for IMPIs no longer configured: removing a
 * subscriber and adding it back must not reuse its SQNs either.
 *
 * Resynchronisation (hss_sqn_store_set) may move the current SQN down to the
 * UE's SQN_MS, as TS 33.102 §6.3.5 requires; the mark stays, so the invariant
 * holds and a restart continues above the mark, which the UE accepts because
 * the distance is at most one block, far below DELTA.
 *
 * All of this runs on the event loop: one rewrite is a few kilobytes and one
 * fdatasync, done once per thousands of vectors.
 */
#include "hss/sqn-store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/auth/aka.h"
#include "common/core/hash.h"
#include "common/core/log.h"
#include "common/core/rc.h"

#define SEQ_STEP (UINT64_C(1) << IMS_AKA_IND_BITS)
#define LINE_MAX_LEN 600

typedef struct sqn_entry {
    char *key;
    uint64_t cur;       /* last SQN handed out (or the starting value) */
    uint64_t mark;      /* persisted: no SQN above it was handed out */
    uint64_t pending;   /* new mark being written, 0 when none */
    bool attached;      /* configured in this run (else only kept in the file) */
} sqn_entry_t;

struct hss_sqn_store {
    char *path;
    char *tmp_path;
    char *dir;
    uint32_t block;
    bool do_fsync;
    sqn_entry_t *e;
    size_t n, cap;
    ims_hash_t *index;  /* key -> slot + 1 */
    uint64_t writes;
};

hss_sqn_store_t *hss_sqn_store_new(const char *path, uint32_t block, bool do_fsync)
{
    hss_sqn_store_t *s = calloc(1, sizeof(*s));
    size_t n = strlen(path) + sizeof(".tmp");
    char *d;

    if (!s || !(s->path = strdup(path)) || !(d = strdup(path)) || !(s->tmp_path = malloc(n)))
        abort();
    snprintf(s->tmp_path, n, "%s.tmp", path);
    s->dir = strdup(dirname(d));
    free(d);
    s->index = ims_hash_new(1024);
    if (!s->dir || !s->index)
        abort();
    s->block = block ? block : 1;
    s->do_fsync = do_fsync;
    return s;
}

void hss_sqn_store_free(hss_sqn_store_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->e[i].key);
    free(s->e);
    ims_hash_free(s->index);
    free(s->path);
    free(s->tmp_path);
    free(s->dir);
    free(s);
}

static uint32_t add_entry(hss_sqn_store_t *s, const char *key, uint64_t v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->e = realloc(s->e, s->cap * sizeof(*s->e));
        if (!s->e)
            abort();
    }
    s->e[s->n] = (sqn_entry_t){ .key = strdup(key), .cur = v, .mark = v };
    if (!s->e[s->n].key || ims_hash_insert(s->index, key, (void *)(uintptr_t)(s->n + 1)) !=
                               IMS_OK)
        abort();
    return (uint32_t)s->n++;
}

/* One "<key> <mark>" line; IMS_ERROR when it is not exactly that. */
static int parse_line(char *line, char **key, uint64_t *mark)
{
    char *sp, *end;
    unsigned long long v;

    line[strcspn(line, "\r\n")] = '\0';
    sp = strchr(line, ' ');
    if (!sp || sp == line || sp[1] < '0' || sp[1] > '9')
        return IMS_ERROR;
    *sp = '\0';
    if (strpbrk(line, " \t"))
        return IMS_ERROR;
    errno = 0;
    v = strtoull(sp + 1, &end, 10);
    if (errno || *end || v > IMS_AKA_SQN_MAX)
        return IMS_ERROR;
    *key = line;
    *mark = v;
    return IMS_OK;
}

int hss_sqn_store_load(hss_sqn_store_t *s, char *err, size_t errlen)
{
    FILE *f = fopen(s->path, "r");
    char line[LINE_MAX_LEN], *key;
    uint64_t mark;
    unsigned lineno = 0;
    uintptr_t slot;

    if (!f) {
        if (errno == ENOENT) {
            IMS_NOTICE("SQN store %s does not exist yet: first start", s->path);
            return IMS_OK;
        }
        snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
        return IMS_ERROR;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%u: line too long", s->path, lineno);
            goto fail;
        }
        if (parse_line(line, &key, &mark) != IMS_OK) {
            snprintf(err, errlen, "%s:%u: expected \"<impi> <sqn>\"", s->path, lineno);
            goto fail;
        }
        slot = (uintptr_t)ims_hash_find(s->index, key);
        if (slot && s->e[slot - 1].mark < mark)
            s->e[slot - 1].mark = s->e[slot - 1].cur = mark;
        else if (!slot)
            add_entry(s, key, mark);
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", s->path);
        goto fail;
    }
    fclose(f);
    IMS_NOTICE("SQN store %s: %zu high-water marks loaded", s->path, s->n);
    return IMS_OK;
fail:
    fclose(f);
    return IMS_ERROR;
}

uint32_t hss_sqn_store_attach(hss_sqn_store_t *s, const char *key, uint64_t cfg_sqn)
{
    uintptr_t slot = (uintptr_t)ims_hash_find(s->index, key);
    sqn_entry_t *e;

    cfg_sqn &= IMS_AKA_SQN_MAX;
    if (!slot)
        slot = add_entry(s, key, cfg_sqn) + 1;
    e = &s->e[slot - 1];
    e->attached = true;
    if (e->cur < cfg_sqn)
        e->cur = cfg_sqn;
    if (e->mark < e->cur)
        e->mark = e->cur;   /* the configured value needs no persisting: it is configured */
    return (uint32_t)(slot - 1);
}

uint64_t hss_sqn_store_current(const hss_sqn_store_t *s, uint32_t slot)
{
    return slot < s->n ? s->e[slot].cur : 0;
}

uint64_t hss_sqn_store_mark(const hss_sqn_store_t *s, uint32_t slot)
{
    return slot < s->n ? s->e[slot].mark : 0;
}

uint64_t hss_sqn_store_writes(const hss_sqn_store_t *s)
{
    return s->writes;
}

/* from + steps SEQ values, capped at the top of the SQN space. */
static uint64_t sqn_add(uint64_t from, uint64_t steps)
{
    uint64_t room = (IMS_AKA_SQN_MAX - from) / SEQ_STEP;

    return from + (steps < room ? steps : room) * SEQ_STEP;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return IMS_ERROR;
        p += w;
        n -= (size_t)w;
    }
    return IMS_OK;
}

/* The whole file, with pending marks, into a malloc'd buffer. */
static char *render(const hss_sqn_store_t *s, size_t *len)
{
    size_t cap = 160 + s->n * 48, used = 0;
    char *buf = malloc(cap);
    int n;

    if (!buf)
        abort();
    used = (size_t)snprintf(buf, cap, "# ims-hss SQN store: <impi> <highest SQN that may have "
                            "been handed out>\n# ims-hss starts above these; never lower "
                            "a value.\n");
    for (size_t i = 0; i < s->n; i++) {
        const sqn_entry_t *e = &s->e[i];

        for (;;) {
            n = snprintf(buf + used, cap - used, "%s %" PRIu64 "\n", e->key,
                         e->pending ? e->pending : e->mark);
            if (n >= 0 && (size_t)n < cap - used)
                break;
            cap *= 2;
            if (!(buf = realloc(buf, cap)))
                abort();
        }
        used += (size_t)n;
    }
    *len = used;
    return buf;
}

/* Write the file atomically: temp file, (fdatasync), rename, (fsync directory). */
static int write_file(hss_sqn_store_t *s)
{
    size_t len;
    char *buf = render(s, &len);
    int fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = IMS_ERROR;

    if (fd < 0) {
        IMS_ERR("SQN store: cannot create %s: %s", s->tmp_path, strerror(errno));
        goto out;
    }
    if (write_all(fd, buf, len) != IMS_OK || (s->do_fsync && fdatasync(fd) != 0)) {
        IMS_ERR("SQN store: cannot write %s: %s", s->tmp_path, strerror(errno));
        close(fd);
        unlink(s->tmp_path);
        goto out;
    }
    close(fd);
    if (rename(s->tmp_path, s->path) != 0) {
        IMS_ERR("SQN store: cannot rename to %s: %s", s->path, strerror(errno));
        unlink(s->tmp_path);
        goto out;
    }
    if (s->do_fsync) {
        int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0 || fsync(dfd) != 0) {
            IMS_ERR("SQN store: cannot sync directory %s: %s", s->dir, strerror(errno));
            if (dfd >= 0)
                close(dfd);
            goto out;
        }
        close(dfd);
    }
    s->writes++;
    rc = IMS_OK;
out:
    free(buf);
    return rc;
}

/* Reserve a block for slot (whose next SQN is next), extend the slots that
 * are near their own mark, write, and commit the new marks only on success. */
static int reserve(hss_sqn_store_t *s, uint32_t slot, uint64_t next)
{
    uint64_t low = s->block / 4 > 0 ? s->block / 4 : 1;
    size_t extended = 0;
    int rc;

    for (size_t i = 0; i < s->n; i++) {
        sqn_entry_t *e = &s->e[i];

        if (i == slot)
            e->pending = sqn_add(next, s->block - 1);
        else if (e->attached && e->mark < sqn_add(e->cur, low))
            e->pending = sqn_add(e->cur, s->block);
        else
            continue;
        extended++;
    }
    rc = write_file(s);
    for (size_t i = 0; i < s->n; i++) {
        if (s->e[i].pending && rc == IMS_OK)
            s->e[i].mark = s->e[i].pending;
        s->e[i].pending = 0;
    }
    if (rc == IMS_OK)
        IMS_DEBUG("SQN store: reserved %" PRIu32 " values for %zu subscribers", s->block,
                  extended);
    return rc;
}

int hss_sqn_store_next(hss_sqn_store_t *s, uint32_t slot, uint64_t *sqn)
{
    sqn_entry_t *e;
    uint64_t next;

    if (slot >= s->n)
        return IMS_ERROR;
    e = &s->e[slot];
    next = ims_aka_sqn_next(e->cur);
    if (next <= e->cur) {
        IMS_ERR("SQN space of %s exhausted: re-provision the subscriber", e->key);
        return IMS_ERROR;
    }
    if (next > e->mark && reserve(s, slot, next) != IMS_OK)
        return IMS_ERROR;
    e->cur = next;
    *sqn = next;
    return IMS_OK;
}

void hss_sqn_store_set(hss_sqn_store_t *s, uint32_t slot, uint64_t sqn)
{
    if (slot < s->n)
        s->e[slot].cur = sqn & IMS_AKA_SQN_MAX;
}
