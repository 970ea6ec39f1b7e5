/* SPDX-License-Identifier: BSD-2-Clause */
/* The store backend of a daemon's configuration (store.h). */
#include "common/ops/store.h"

#include <stdio.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"

/* The Redis backend of group: IMS_OK with st filled, or IMS_ERROR (logged). */
static int start_redis(ims_loop_t *loop, ims_conf_t *conf, const char *group, const char *who,
                       ims_store_t *st)
{
    ims_redis_cfg_t rc;
    char err[512];

    if (ims_redis_conf(conf, group, &rc, err, sizeof(err)) != IMS_OK ||
        !(st->redis = ims_redis_open(loop, &rc, err, sizeof(err)))) {
        IMS_ERR("%s: store: %s", who, err);
        return IMS_ERROR;
    }
    st->kv = ims_redis_kv(st->redis);
    return IMS_OK;
}

int ims_store_start(ims_loop_t *loop, ims_conf_t *conf, const char *group, const char *who,
                    ims_store_t *st)
{
    char key[96];
    const char *backend = "journal";
    int rc;

    memset(st, 0, sizeof(*st));
    if (!conf)
        return IMS_OK;
    snprintf(key, sizeof(key), "%s.backend", group);
    if ((rc = ims_conf_str(conf, key, false, &backend)) == IMS_ERROR) {
        IMS_ERR("%s: %s", who, ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (strcmp(backend, "redis") == 0)
        return start_redis(loop, conf, group, who, st);
    if (strcmp(backend, "journal") != 0) {
        IMS_ERR("%s: %s: %s: \"%s\": want journal or redis", who, ims_conf_path(conf), key,
                backend);
        return IMS_ERROR;
    }
    if (ims_journal_start(loop, conf, group, who, &st->journal) != IMS_OK)
        return IMS_ERROR;
    st->kv = st->journal ? ims_journal_kv(st->journal) : NULL;
    return IMS_OK;
}

void ims_store_log_restore(const ims_store_t *st, const char *who, size_t n, const char *what,
                           uint64_t t0_us)
{
    if (st->journal) {
        ims_journal_log_restore(st->journal, who, n, what, t0_us);
    } else if (st->redis) {
        ims_redis_stats_t rs;

        ims_redis_stats(st->redis, &rs);
        IMS_NOTICE("%s: store redis %s: %zu %s restored in %llu ms (%llu reads)", who,
                   ims_redis_addr(st->redis), n, what,
                   (unsigned long long)((ims_clock_real_us() - t0_us) / 1000),
                   (unsigned long long)rs.reads);
    }
}
