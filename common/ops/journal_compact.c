/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Compaction of the journal (journal.h): the live records, expired ones left
 * out, written to "<path>.tmp", synced, renamed over the journal and the
 * directory synced, so that a crash at any point leaves either the old file
 * or the new one whole. The tables in memory do not change.
 */
#include "common/ops/journal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"

typedef struct snap {
    ims_kv_buf_t b;
    uint64_t now;
} snap_t;

static void snap_one(void *arg, const char *ck, void *value)
{
    snap_t *s = arg;
    const jent_t *e = value;

    (void)ck;
    if (!e->expires || e->expires > s->now)
        ims_journal_encode(&s->b, J_OP_PUT, e->data, e->tlen, ims_jent_key(e), e->klen,
                           ims_jent_val(e), e->vlen, e->expires);
}

/* fsync the directory holding path, so that a rename in it is durable. */
static void sync_dir(const char *path)
{
    char d[sizeof(((ims_journal_cfg_t *)0)->path)];
    int fd;

    snprintf(d, sizeof(d), "%s", path);
    if ((fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Write b to a new file at tmp, synced: IMS_OK or IMS_ERROR (tmp removed). */
static int write_file(const char *tmp, const ims_kv_buf_t *b)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t done = 0;

    if (fd < 0)
        return IMS_ERROR;
    while (done < b->len) {
        ssize_t w = write(fd, b->p + done, b->len - done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    if (done != b->len || fdatasync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return IMS_ERROR;
    }
    close(fd);
    return IMS_OK;
}

int ims_journal_compact(ims_journal_t *j)
{
    char tmp[sizeof(j->cfg.path) + 8];
    snap_t s = { { NULL, 0, 0 }, ims_wall_ms() };
    int fd, rc = IMS_ERROR;

    snprintf(tmp, sizeof(tmp), "%s.tmp", j->cfg.path);
    for (size_t i = 0; i < J_MAGIC_LEN; i++)
        ims_kv_buf_u8(&s.b, (uint8_t)J_MAGIC[i]);
    ims_hash_foreach(j->tab, snap_one, &s);
    if (write_file(tmp, &s.b) == IMS_OK && rename(tmp, j->cfg.path) == 0) {
        sync_dir(j->cfg.path);
        if ((fd = open(j->cfg.path, O_RDWR | O_APPEND | O_CLOEXEC)) >= 0) {
            close(j->fd);
            j->fd = fd;
            j->st.file_bytes = s.b.len;
            j->st.compactions++;
            j->dirty = false;
            rc = IMS_OK;
        }
    }
    if (rc != IMS_OK) {
        IMS_ERR("journal %s: compaction failed: %s", j->cfg.path, strerror(errno));
        unlink(tmp);
    } else {
        IMS_INFO("journal %s: compacted to %zu bytes, %llu records", j->cfg.path, s.b.len,
                 (unsigned long long)j->st.records);
    }
    ims_kv_buf_free(&s.b);
    return rc;
}

void ims_journal_compact_due(ims_journal_t *j)
{
    if (j->st.file_bytes > j->cfg.compact_min &&
        j->st.file_bytes > (uint64_t)j->cfg.compact_factor * (j->st.live_bytes + J_MAGIC_LEN))
        ims_journal_compact(j);
}
