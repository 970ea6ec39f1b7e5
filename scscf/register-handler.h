/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * REGISTER at the S-CSCF (24.229 §5.4.1; RFC 3261 §10.3): challenge (MAR,
 * 401), verification, SAR, bindings, 200 OK with Service-Route,
 * P-Associated-URI and Path; de-registration and expiry.
 *
 * The walk of one REGISTER:
 *   no usable credentials, or a response to no pending challenge
 *        -> MAR -> 401 (vector kept per IMPI, reg-await-auth timer);
 *   auts= for our pending AKA challenge -> MAR with RAND||AUTS -> new 401;
 *   a wrong response -> 401 with a fresh vector, or 403 after
 *        max_auth_attempts wrong ones;
 *   a good response, or integrity-protected=yes from a registered user
 *        (trust_integrity) -> SAR -> 200 OK (or the de-registration).
 * The SIP request waits by id while the HSS works; HSS silence gives 500
 * with Retry-After.
 */
#ifndef SCSCF_REGISTER_HANDLER_H
#define SCSCF_REGISTER_HANDLER_H

#include "common/sip/proxy.h"
#include "scscf/context.h"

/* Handle a REGISTER addressed to us (IMS_OK: answered now or later). */
int scscf_register(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req);

/* The registration expiry timer callback (arg: the scscf_reg_t). */
void scscf_on_reg_expiry(ims_loop_t *loop, ims_timer_t *t, void *arg);

#endif
