/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Redis backend of ims_kv_t (common/ops/journal.h), on hiredis: the
 * store that several instances of a daemon share (issue 8: two S-CSCFs serve
 * the same users; kill one and the other finds its registrations).
 *
 * A record {table, key, value, expiry} is the Redis string "ims:<table>:<key>"
 * holding the value bytes, with a TTL from the expiry (SET ... PX ms-left; a
 * record whose expiry has passed is deleted instead). Redis then expires what
 * nobody refreshes, and every instance sees the same records.
 *
 * Two connections, because the interface has two kinds of calls:
 *
 * - Writes (put, del) go over a hiredis async connection driven by the
 *   daemon's loop (a small adapter maps hiredis's add/del read/write hooks
 *   onto ims_loop_add_fd/mod_fd). They are fire-and-forget: the command is
 *   queued and written to the socket at once when the socket takes it (so a
 *   process killed after put returned has handed the bytes to the kernel);
 *   the reply is only counted (errors in the stats and logged). While the
 *   connection is down a write is dropped and counted (`dropped`): the
 *   connection is re-established with exponential back-off (100 ms doubling
 *   to 5 s), and the next write of that key brings Redis up to date.
 *   IMS_OK from put therefore means "sent", not "durable" (the journal's
 *   stronger contract); Redis's own persistence settings decide the rest.
 *
 * - Reads (get, foreach) are synchronous, over a blocking hiredis connection
 *   with a bounded timeout (redis_timeout_ms, default 200 ms per command):
 *   foreach is what a daemon's start runs to restore (SCAN MATCH
 *   "ims:<table>:*" then GET + PTTL pipelined per batch), and get is what
 *   restore and the S-CSCF's read-through on a lookup miss use (one GET,
 *   ~0.1 ms on a local Redis). Such a read blocks the loop at worst for the
 *   timeout; after a failure reads answer "absent" at once until the back-off
 *   allows another connection attempt, so an unreachable Redis costs one
 *   timeout per back-off period, not one per lookup.
 *
 * get's value stays valid until IMS_REDIS_GET_KEEP more gets (a small ring of
 * copies), not "until the next change of that key" as for the journal: the
 * callers read it at once (restore, read-through).
 *
 * Opening needs Redis: the first connection is made synchronously, and its
 * failure fails the open (a daemon that restored nothing from an unreachable
 * store would silently serve without its users). Later outages are ridden out
 * by the reconnection above.
 */
#ifndef IMS_OPS_STORE_REDIS_H
#define IMS_OPS_STORE_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/core/loop.h"
#include "common/ops/journal.h"

#define IMS_REDIS_GET_KEEP 8     /* gets whose values stay valid */

typedef struct ims_redis_cfg {
    char host[128];              /* an IP address (a name is resolved by hiredis with
                                  * getaddrinfo, blocking, at each (re)connection) */
    uint16_t port;               /* default 6379 */
    uint32_t timeout_ms;         /* connect and synchronous read timeout; default 200 */
    uint32_t backoff_min_ms;     /* first reconnection delay; default 100 */
    uint32_t backoff_max_ms;     /* longest; default 5000 */
} ims_redis_cfg_t;

typedef struct ims_redis_stats {
    uint64_t puts, dels;         /* commands sent */
    uint64_t errors;             /* error or missing replies to them */
    uint64_t dropped;            /* writes not sent: no connection */
    uint64_t pending;            /* sent, reply not yet read */
    uint64_t connects, disconnects;
    uint64_t reads, read_errors; /* synchronous GET/SCAN commands, failures */
} ims_redis_stats_t;

typedef struct ims_redis ims_redis_t;

/* Defaults (host 127.0.0.1, port 6379, timeouts above). */
void ims_redis_cfg_defaults(ims_redis_cfg_t *c);

/*
 * Read the Redis keys of group: { redis = "host:port" ("[v6]:port"; port
 * optional); redis_timeout_ms = N; }. IMS_OK, IMS_ERROR with "file: key: why"
 * in err (redis missing or malformed).
 */
int ims_redis_conf(ims_conf_t *conf, const char *group, ims_redis_cfg_t *c, char *err,
                   size_t errlen);

/*
 * Connect both connections of cfg; loop drives the asynchronous one and the
 * reconnection timer (it must outlive the store). NULL with the reason in err
 * when Redis cannot be reached within the timeout.
 */
ims_redis_t *ims_redis_open(ims_loop_t *loop, const ims_redis_cfg_t *cfg, char *err,
                            size_t errlen);
/* The store as the generic interface (same object; ims_kv_close closes it:
 * pending replies are dropped, what was written to the socket stays sent). */
ims_kv_t *ims_redis_kv(ims_redis_t *r);
void ims_redis_stats(const ims_redis_t *r, ims_redis_stats_t *st);
/* The asynchronous (write) connection is up. */
bool ims_redis_connected(const ims_redis_t *r);
/* "host:port", for logs. */
const char *ims_redis_addr(const ims_redis_t *r);

#endif
