/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The S-CSCF's side of Cx: MAR and SAR through hss_client, each carried by a
 * scscf_op_t that names the waiting SIP request by id (it may be gone when the
 * HSS answers), and the inbound RTR and PPR (24.229 §5.4.1.5, 29.228 §6.5),
 * which scscf/cx-handler.c answers.
 */
#ifndef SCSCF_CX_PATH_H
#define SCSCF_CX_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "diameter/cx/cx.h"
#include "diameter/hss_client.h"
#include "scscf/context.h"

struct scscf_op {
    scscf_op_t *prev, *next;     /* ctx->ops */
    scscf_ctx_t *ctx;
    uint64_t req_id;             /* the SIP request waiting, 0: none */
    char impi[CX_STR];
    char impu[CX_STR];
    cx_sat_t sat;
    uint8_t attempts;            /* carried into the next challenge */
    bool first;                  /* SAR: the user was not registered before */
};

/* A new operation, linked into ctx->ops (freed at stop if never answered). */
scscf_op_t *scscf_op_new(scscf_ctx_t *ctx, uint64_t req_id, const char *impi, const char *impu);
void scscf_op_free(scscf_op_t *op);
/* At stop: free every op (their callbacks will never run). */
void scscf_ops_free_all(scscf_ctx_t *ctx);

/* MAR for op (scheme; resync: RAND || AUTS, 30 octets, or NULL). IMS_OK: cb
 * gets op later; IMS_ERROR: nothing sent (op untouched). */
int scscf_cx_mar(scscf_op_t *op, const char *scheme, const uint8_t *resync, hss_maa_cb cb);
/* SAR of type sat for op->impi / op->impu. cb NULL: answer only logged, op freed. */
int scscf_cx_sar(scscf_op_t *op, cx_sat_t sat, bool data_available, hss_saa_cb cb);
/* Fire-and-forget SAR (expiry, failures): no SIP request waits. */
void scscf_cx_sar_notice(scscf_ctx_t *ctx, const char *impi, const char *impu, cx_sat_t sat);

/*
 * Inbound handlers (cx-handler.c, registered by init.c); arg is the context.
 * RTR: the registration ends without a SAR, its end is noted in the per-UE
 * log (diagnose.h). PPR: the new profile is taken and stored (reg-store.h).
 */
cx_result_t scscf_on_rtr(void *arg, const cx_rtr_t *r);
cx_result_t scscf_on_ppr(void *arg, const cx_ppr_t *r);

/* Whether a Cx result is success (base 2001). */
bool scscf_cx_ok(const cx_result_t *r);

#endif
