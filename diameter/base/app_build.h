/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Builder helpers shared by the application codecs (Cx, Rx).
 *
 * The node writes Session-Id, Origin-* and Destination-* itself
 * (dia_node_request_init / answer_init) in its own order, so an application
 * lets it write a small head message and copies that head's AVPs around its
 * own: Session-Id first (the only fixed position), then the application's
 * header AVPs (dia_app_head_t), [the result on answers], then the rest of the
 * node's head, then the command's own AVPs. That keeps one Session-Id
 * generator per node. E-bit answers (3xxx) follow the generic answer-message
 * of RFC 6733 §7.2 and carry no application header AVPs.
 *
 * Invalid input from our own callers (a mandatory string empty, a string not
 * terminated within its buffer, a count out of range) sets the builder's
 * failed flag, so dia_build_finish returns NULL.
 */
#ifndef DIA_APP_BUILD_H
#define DIA_APP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diameter/base/codec.h"
#include "diameter/base/peer.h"

/* How an application starts its messages (a static const per codec). */
typedef struct dia_app_head {
    uint32_t app_id;
    /* Its header AVPs before / after the result (NULL: none). */
    void (*put_before_result)(dia_builder_t *b);
    void (*put_after_result)(dia_builder_t *b);
} dia_app_head_t;

/* ---- whole commands ---- */

/* A command's builder: put its own AVPs from ctx (the command's struct). */
typedef void dia_put_fn(dia_builder_t *b, const void *ctx);

/*
 * A request of app for code: the node's head with a new Session-Id when sid
 * is NULL, else with sid (shorter than sid_max, not empty), then put(ctx).
 * The Session-Id used is copied to sid_out (sid_max bytes) when not NULL.
 * dest_realm must not be empty; an empty dest_host means none. NULL (sid_out
 * emptied) when ctx is NULL, on bad arguments or when the build fails.
 */
dia_msg_t *dia_app_request(const dia_app_head_t *app, dia_node_t *n, uint32_t code,
                           const char *dest_realm, const char *dest_host, const char *sid,
                           char *sid_out, size_t sid_max, dia_put_fn *put, const void *ctx);
/*
 * The answer of app to the request req with the given result (E set for a
 * 3xxx protocol error), then put(ctx) (put may be NULL). app_avps false
 * leaves the application's header AVPs out (answers whose ABNF has none).
 * NULL when n or req is NULL, req is not a request or the build fails.
 */
dia_msg_t *dia_app_answer(const dia_app_head_t *app, dia_node_t *n, const dia_msg_t *req,
                          uint32_t code, bool experimental, bool app_avps, dia_put_fn *put,
                          const void *ctx);

/*
 * The answer to a request that failed to parse: 5005 MISSING_AVP with a
 * Failed-AVP holding a zero-filled example of missing (code/vendor, AVP flags
 * flags; RFC 6733 §7.5), or 5004 INVALID_AVP_VALUE when missing is 0.
 * NULL on failure.
 */
dia_msg_t *dia_app_parse_error_answer(const dia_app_head_t *app, dia_node_t *n,
                                      const dia_msg_t *req, bool app_avps, uint32_t missing,
                                      uint32_t vendor, uint8_t flags);
/* The M flag the dictionary gives code/vendor: 0 when it must not be set. */
uint8_t dia_dict_m_flag(uint32_t code, uint32_t vendor);

/* ---- small puts ---- */

/* A string from a fixed buffer of cap bytes (no NUL within cap: fails b). */
void dia_put_bounded_str(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                         const char *s, size_t cap);
/* A mandatory ({} in the ABNF) string: empty fails b. */
void dia_put_req_str(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                     const char *s, size_t cap);
/* An optional string: left out when empty. */
void dia_put_opt_str(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                     const char *s, size_t cap);
/* 0 <= n <= max, else b fails: false. */
bool dia_build_count_ok(dia_builder_t *b, int n, int max);

#endif
