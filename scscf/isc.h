/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ISC: initial requests through application servers (TS 24.229 §5.4.3.2/3,
 * ims-reference §3.2 "ODI").
 *
 * When an iFC of the served user fires (scscf_ifc_next, priority order), the
 * request goes to its AS with the Route set
 *   <AS-uri;lr>, <sip:ODI@scscf-host[:port];lr>
 * where ODI is a random token naming a record of this process: the served
 * user (its store key), the session case, the iFC cursor, the iFC's
 * DefaultHandling and the proxy request that went to the AS. A proxy AS sends
 * the request back by that Route; the proxy core hands its user part to the
 * S-CSCF (sip_proxy_req_route_user), scscf_isc_resume finds the record and
 * evaluation continues after the cursor. The ODI Route names the host (and
 * port) of scscf.uri, which must therefore be ours (one of sip.aliases).
 *
 * The AS must answer at all within scscf.as_timeout_ms (default 2000 ms;
 * sip_proxy_set_reply_timeout), far below Timer C. When the request has not
 * come back and the AS branch fails (no response in time, transport error,
 * 408 or 5xx from the AS itself; scscf_isc_failed) the iFC's DefaultHandling
 * applies: SESSION_CONTINUED goes on as if the AS had returned the request,
 * SESSION_TERMINATED lets the failure (408 / 500) go to the caller. Any
 * other answer of the AS (e.g. 403, 2xx: it acted as a UAS) is forwarded.
 *
 * Records are malloc'd (transient), indexed by token and by proxy request id,
 * and freed when the request comes back, when the AS branch fails, when the
 * request gets its final response (scscf_isc_settled), after
 * SCSCF_ISC_ODI_TTL_MS at the latest, or by scscf_isc_free_all.
 * Per process, as the S-CSCF is one per daemon.
 */
#ifndef SCSCF_ISC_H
#define SCSCF_ISC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/sip/proxy.h"
#include "scscf/context.h"
#include "scscf/ifc.h"

#define SCSCF_ISC_ODI_TTL_MS 180000u      /* a record lives at most this (Timer C) */
#define SCSCF_ISC_AS_TIMEOUT_MS 2000u     /* scscf.as_timeout_ms default */
#define SCSCF_ISC_TOKEN_PREFIX "odi-"
#define SCSCF_ISC_TOKEN_LEN 24            /* prefix + 20 hex digits */
#define SCSCF_ISC_IMPU_MAX 256

/*
 * Where evaluation stands for a request: saved with the ODI, restored on return.
 * A served user registered here is found again by impu (its registration's
 * profile); an unregistered one (SessionCase 2) has its profile from the SAA
 * in unreg, owned by whoever holds the state (see scscf_isc_run/resume).
 */
typedef struct scscf_isc_state {
    int session_case;                 /* scscf_session_case_t */
    int pos;                          /* scscf_ifc_next cursor (SCSCF_IFC_START: none yet) */
    char impu[SCSCF_ISC_IMPU_MAX];    /* served user, registration store key */
    scscf_profile_t *unreg;           /* unregistered served user's profile, or NULL */
} scscf_isc_state_t;

/*
 * Read scscf.as_timeout_ms (100..180000) and take the host and port of c->uri
 * for the ODI Route (conf may be NULL: defaults). IMS_OK, or IMS_ERROR (logged).
 */
int scscf_isc_conf_load(ims_conf_t *conf, const scscf_cfg_t *c);

/*
 * The next iFC of st's served user (st->unreg, else the registration of
 * st->impu with its profile) that req triggers after st->pos: forward req
 * through pr to its AS with the ODI Route (req's Route set must be empty; it
 * gets the two entries) and return IMS_OK (forwarded, or answered with 500
 * when the AS URI is unusable); st->unreg then belongs to the ODI record (or
 * is freed) and is set NULL. IMS_DECLINED when no iFC (is left to) match:
 * route the request normally (st->unreg still the caller's).
 */
int scscf_isc_run(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req,
                  scscf_isc_state_t *st);

/* Whether a Route user part is an ODI of ours by its form (prefix, length). */
bool scscf_isc_is_token(const char *user);

/*
 * A request back from an AS by the ODI token (pr is the new request): the
 * state into *st (st->unreg now the caller's) and the record freed; the AS
 * branch of the original request no longer has the reply timeout. IMS_OK, or
 * IMS_DECLINED when token names no record (expired, already used).
 */
int scscf_isc_resume(sip_proxy_req_t *pr, const char *token, scscf_isc_state_t *st);

/*
 * on_failure of a request (code, as sip_proxy_handler_t says): IMS_DECLINED
 * unless pr is at an AS that did not return the request. Then the record is
 * freed and, for an AS failure (code 408 or 5xx), DefaultHandling decides:
 * SESSION_CONTINUED -> IMS_OK with *st (st->unreg the caller's; the Route
 * entries to the AS removed from the request, the reply timeout off: continue
 * routing with the same pr);
 * SESSION_TERMINATED -> IMS_DONE (let the core send its response). Other codes
 * (the AS answered) -> IMS_DECLINED.
 */
int scscf_isc_failed(sip_proxy_req_t *pr, int code, scscf_isc_state_t *st);

/* The final response of pr went upstream: its record (if any) is freed. */
void scscf_isc_settled(const sip_proxy_req_t *pr);

/* Records alive (tests, statistics). */
size_t scscf_isc_count(void);

/* Free every record and stop their timers (at shutdown). */
void scscf_isc_free_all(void);

#endif
