/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Requests the HSS sends to an S-CSCF (TS 29.228 §6.5, §6.1.3-6.1.4): RTR
 * (network-initiated de-registration) and PPR (changed user profile), to the
 * S-CSCF stored for the subscriber, addressed by the Diameter identity that
 * the configuration gives for its SIP name.
 */
#ifndef HSS_CX_PATH_H
#define HSS_CX_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hss/context.h"

/* The outcome: code is the answer's Result-Code or Experimental-Result-Code
 * (experimental says which), or 0 with why set when no usable answer came. */
typedef void (*hss_path_cb)(void *arg, uint32_t code, bool experimental, const char *why);

/* Send an RTR with Deregistration-Reason reason (0..3) for the subscriber
 * impi. On a 2001 answer the subscriber is de-registered (state and stored
 * S-CSCF cleared). IMS_OK: cb will be called exactly once, later. IMS_ERROR:
 * nothing sent (unknown IMPI, no stored S-CSCF, no Diameter host for it), err
 * says why and cb is never called. */
int hss_path_rtr(hss_ctx_t *ctx, const char *impi, uint32_t reason, hss_path_cb cb, void *arg,
                 char *err, size_t errlen);

/* Send a PPR carrying the subscriber's current User-Data. Same contract. */
int hss_path_ppr(hss_ctx_t *ctx, const char *impi, hss_path_cb cb, void *arg, char *err,
                 size_t errlen);

#endif
