/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hss_client: how the CSCFs talk to the HSS, independent of SIP and of the
 * protocol underneath. Outbound: asynchronous UAR/MAR/SAR/LIR (TS 29.228
 * procedures) taking and giving the plain cx.h structs. Inbound, network
 * initiated: RTR and PPR handed to handlers the S-CSCF sets.
 *
 * Backends: Cx over Diameter (hss_client_new_cx) and, later, Nhss_ims over
 * HTTP/2 (hss_client_new_nhss); configuration picks one. Both report outcomes
 * in Cx terms (cx_result_t), so the CSCFs have one mapping to SIP responses.
 *
 * Callbacks. Each hss_uar/mar/sar/lir that returns IMS_OK calls its callback
 * exactly once, always later from the event loop, never from inside the call:
 *   status IMS_OK    a is the parsed answer; look at a->result (base
 *                    Result-Code, e.g. 3002 from a relay, or a 3GPP
 *                    Experimental-Result-Code; see cx_result_t.experimental);
 *   status IMS_ERROR no usable answer (timeout, no open peer, shutdown, or an
 *                    answer that could not be parsed); a is NULL. The CSCF
 *                    answers 500/480 with Retry-After.
 * a and everything it points to (cx_saa_t.user_data) live only during the
 * callback; copy what you keep. The only exception to "exactly once" is
 * hss_client_free: callbacks still pending then are never called. (Freeing
 * the node first fails what is pending: IMS_ERROR, from inside dia_node_free.)
 * The callback's arg crosses an asynchronous gap: pass an id (or a pointer to
 * something that is sure to outlive the request) and re-resolve it on arrival;
 * "already gone" is a normal case for the caller to handle.
 */
#ifndef HSS_CLIENT_H
#define HSS_CLIENT_H

#include "common/ops/metrics.h"
#include "diameter/base/peer.h"
#include "diameter/cx/cx.h"

typedef struct hss_client hss_client_t;

typedef void (*hss_uaa_cb)(void *arg, int status, const cx_uaa_t *a);
typedef void (*hss_maa_cb)(void *arg, int status, const cx_maa_t *a);
typedef void (*hss_saa_cb)(void *arg, int status, const cx_saa_t *a);
typedef void (*hss_lia_cb)(void *arg, int status, const cx_lia_t *a);

/* Inbound handlers: the request is valid only during the call; the returned
 * result is what the answer (RTA/PPA) carries, e.g. {2001 DIAMETER_SUCCESS,
 * false}, or {5001 DIAMETER_ERROR_USER_UNKNOWN, true}. */
typedef cx_result_t (*hss_rtr_cb)(void *arg, const cx_rtr_t *r);
typedef cx_result_t (*hss_ppr_cb)(void *arg, const cx_ppr_t *r);

/*
 * Send a request (r is copied as needed; the caller keeps it). IMS_OK: cb will
 * be called exactly once, later. IMS_ERROR: the request could not even be
 * built (a mandatory field empty, a value too long); cb is never called.
 */
int hss_uar(hss_client_t *c, const cx_uar_t *r, hss_uaa_cb cb, void *arg);
int hss_mar(hss_client_t *c, const cx_mar_t *r, hss_maa_cb cb, void *arg);
int hss_sar(hss_client_t *c, const cx_sar_t *r, hss_saa_cb cb, void *arg);
int hss_lir(hss_client_t *c, const cx_lir_t *r, hss_lia_cb cb, void *arg);

/* Set (or with cb NULL clear) the handler of inbound RTR / PPR. Without one the
 * request is answered 5012 DIAMETER_UNABLE_TO_COMPLY. */
void hss_client_on_rtr(hss_client_t *c, hss_rtr_cb cb, void *arg);
void hss_client_on_ppr(hss_client_t *c, hss_ppr_cb cb, void *arg);

/*
 * The Cx backend on node (which the caller keeps and frees after the client).
 * Requests go to hss_realm, and to hss_host when not NULL (else the node's
 * realm routing picks the peer). The node must advertise Cx (app 16777216,
 * vendor 10415) in its dia_node_cfg_t.apps and have the HSS as a peer; the
 * client registers itself as the node's handler for Cx requests (RTR/PPR;
 * any other Cx command is answered 3001 DIAMETER_COMMAND_UNSUPPORTED).
 * NULL on bad arguments.
 */
hss_client_t *hss_client_new_cx(dia_node_t *node, const char *hss_realm, const char *hss_host);

/*
 * Count the requests in m (NULL: off; m must outlive the client): by command
 * and result, ims_hss_requests_total{cmd="UAR|MAR|SAR|LIR",result=...} with
 * result success (2xxx), protocol_error (3xxx), transient_failure (4xxx),
 * permanent_failure (5xxx), invalid_answer, timeout, no_peer, shutdown or
 * not_sent; and the time to each answer, ims_hss_request_duration_seconds{cmd}.
 * Call before the first request; call again with m NULL to stop counting
 * (before m is freed while the client still runs). c NULL is a no-op.
 */
void hss_client_set_metrics(hss_client_t *c, ims_metrics_t *m);

/* Free the client (NULL is a no-op). Pending callbacks are dropped (never
 * called); the inbound handlers are unregistered from the backend. */
void hss_client_free(hss_client_t *c);

#endif
