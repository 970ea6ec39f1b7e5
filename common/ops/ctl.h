/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemons' control socket (what imsctl talks to): a unix stream socket on
 * the event loop, one JSON object per line each way.
 *
 *   in:  {"cmd":"registrations","args":["0010100"],"id":7}
 *   out: {"ok":true,"id":7,"data":{...}}
 *        {"ok":false,"id":7,"error":"unknown command \"x\" (try help)"}
 *
 * "args" (strings) and "id" (any JSON value, echoed) are optional. Every
 * request line gets exactly one reply line, in order: handlers run to the
 * end on the loop (nothing here waits on the network). A line longer than
 * IMS_CTL_LINE_MAX gets an error reply and the connection is closed; a client
 * that does not read its replies is dropped once IMS_CTL_WBUF_MAX is queued.
 * At most IMS_CTL_MAX_CLIENTS connections; more are refused with an error line.
 *
 * The daemon registers its commands in a table (ims_ctl_register). Built in:
 * "help" (the table), "peers" (ims_ctl_add_peers), "log-level [level]" and
 * "reload" (re-reads log_level
 * from the configuration file, then calls the daemon's reload callback);
 * SIGHUP does the same reload once ims_ctl_handle_sighup was called.
 */
#ifndef IMS_CTL_H
#define IMS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/core/conf.h"
#include "common/core/hash.h"
#include "common/core/loop.h"

#define IMS_CTL_LINE_MAX 4096           /* request line, newline included */
#define IMS_CTL_WBUF_MAX (16u << 20)     /* replies queued per client */
#define IMS_CTL_MAX_CLIENTS 16
#define IMS_CTL_MAX_ARGS 8
#define IMS_CTL_MAX_ROWS 20000           /* list commands stop there ("truncated") */

typedef struct ims_ctl ims_ctl_t;

/* One request's arguments (borrowed for the duration of the call). */
typedef struct ims_ctl_args {
    int argc;
    const char *argv[IMS_CTL_MAX_ARGS];
} ims_ctl_args_t;

/*
 * A command. Returns IMS_OK with *data set to the reply's "data" (ownership
 * passes; NULL: none), or IMS_ERROR with a message in err.
 */
typedef int (*ims_ctl_fn)(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                          size_t errlen);

/*
 * The daemon's part of "reload" and SIGHUP: conf is the configuration file
 * re-read (borrowed, freed after the call: copy what is kept, never keep its
 * strings). Add what changed to changes ("key": new value). IMS_OK, or
 * IMS_ERROR with err (the old values stay in force).
 */
typedef int (*ims_ctl_reload_fn)(void *arg, ims_conf_t *conf, json_t *changes, char *err,
                                 size_t errlen);

/*
 * Listen on path (mode 0600; a stale socket file is replaced, but neither a
 * file that is no socket nor a socket a live process still answers on).
 * conf_path is the configuration file "reload" re-reads (copied; NULL: reload
 * fails). The loop must outlive the control socket. NULL on failure, with the
 * reason in err.
 */
ims_ctl_t *ims_ctl_new(ims_loop_t *loop, const char *path, const char *conf_path, char *err,
                       size_t errlen);
/* Close every connection, stop handling SIGHUP, remove the socket file. NULL: no-op. */
void ims_ctl_free(ims_ctl_t *ctl);

/* Add a command (name, usage and summary are static strings). A name added
 * twice replaces the first. IMS_OK, IMS_ERROR when the table is full. */
int ims_ctl_register(ims_ctl_t *ctl, const char *name, const char *usage, const char *summary,
                     ims_ctl_fn fn, void *arg);
void ims_ctl_on_reload(ims_ctl_t *ctl, ims_ctl_reload_fn fn, void *arg);

/* One peer of the daemon (Diameter, SBI), for the built-in "peers" command. */
typedef struct ims_ctl_peer {
    const char *host, *kind, *state;
    uint64_t sent, received, timeouts, reconnects;
} ims_ctl_peer_t;
/* Fill *out with peer i and return IMS_OK, or IMS_ERROR past the last one. */
typedef int (*ims_ctl_peer_fn)(void *arg, int i, ims_ctl_peer_t *out);
/* Where "peers" gets its list (calls again add sources; without any: empty). */
int ims_ctl_add_peers(ims_ctl_t *ctl, ims_ctl_peer_fn fn, void *arg);

/* Reload on SIGHUP; SIGINT/SIGTERM keep stopping the loop. IMS_OK / IMS_ERROR. */
int ims_ctl_handle_sighup(ims_ctl_t *ctl);

/* What "reload" does (for SIGHUP and tests): IMS_OK with *changes (owned by the
 * caller), or IMS_ERROR with err. */
int ims_ctl_reload(ims_ctl_t *ctl, json_t **changes, char *err, size_t errlen);

/*
 * The configured socket path: ctl.socket of conf; default
 * /run/ims-core/<name>.ctl (the directory is created). "" in the file turns
 * the socket off (IMS_DECLINED). IMS_OK with out filled, IMS_ERROR (a bad
 * key, logged). *explicit tells whether the file named it (a daemon refuses
 * to start without the socket it was told to open, and only warns otherwise).
 */
int ims_ctl_conf_path(ims_conf_t *conf, const char *name, char *out, size_t outlen,
                      bool *explicit_path);

/* For reload callbacks: read key (absent: unchanged) within [min, max] into
 * *field, and note a change in changes. IMS_OK, or IMS_ERROR (ims_conf_error). */
int ims_ctl_reload_u32(ims_conf_t *conf, const char *key, long long min, long long max,
                       uint32_t *field, json_t *changes);
/*
 * A daemon's bring-up in one call: the socket of ims_ctl_conf_path (conf may be
 * NULL) opened, with SIGHUP handled. IMS_OK with *out set (NULL when the socket
 * is off, or when the default path failed: logged, the daemon runs without),
 * IMS_ERROR when a configured path failed (logged).
 */
int ims_ctl_open(ims_loop_t *loop, ims_conf_t *conf, const char *name, ims_ctl_t **out);

/* Helpers for handlers. */
/*
 * A list reply {"count":N,"truncated":bool,"<key>":[rows]} of the values of h
 * that match(value, filter) accepts, sorted with cmp (it gets pointers to the
 * values' pointers; NULL: unsorted), each made into a row by row(value, arg).
 * At most IMS_CTL_MAX_ROWS rows; count says how many matched in all.
 */
typedef bool (*ims_ctl_match_fn)(const void *value, const char *filter);
typedef json_t *(*ims_ctl_row_fn)(const void *value, void *arg);
json_t *ims_ctl_list(const ims_hash_t *h, const char *key, ims_ctl_match_fn match,
                     const char *filter, int (*cmp)(const void *, const void *),
                     ims_ctl_row_fn row, void *arg);

/* The same reply for values the caller gathered: vals[0..n) (sorted here in
 * place with cmp, NULL: as they are), total of them matched in all (>= n; the
 * caller stops gathering at IMS_CTL_MAX_ROWS). vals stays the caller's. */
json_t *ims_ctl_list_of(const void **vals, size_t n, size_t total, const char *key,
                        int (*cmp)(const void *, const void *), ims_ctl_row_fn row, void *arg);

/* Whether s contains filter (NULL or empty filter: true). */
bool ims_ctl_match(const char *s, const char *filter);
/* Set obj[key] to the string s, or to null when s is NULL. */
void ims_ctl_set_str(json_t *obj, const char *key, const char *s);

#endif
