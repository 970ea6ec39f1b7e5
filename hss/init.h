/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bring-up and tear-down of ims-hss, in order and in reverse: state
 * directory, SQN store (loaded, every subscriber attached), loop and signals,
 * Diameter node (peers, the Cx handler, listen), control socket.
 */
#ifndef HSS_INIT_H
#define HSS_INIT_H

#include "hss/context.h"

/* Start everything for a loaded context. IMS_OK, or IMS_ERROR (logged); call
 * hss_stop either way. */
int hss_start(hss_ctx_t *ctx);
/* Tear down what hss_start built: DPR to the peers (running the loop until
 * they are closed, at most ~2 s), then free in reverse order. */
void hss_stop(hss_ctx_t *ctx);

#endif
