/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Cx requests ims-hss answers (TS 29.228 §6.1-6.3): UAR, MAR, SAR, LIR.
 *
 * Each procedure is a function from the parsed request to the answer struct
 * (hss_uar ...), with no Diameter in it, so the unit tests drive them
 * directly; hss_cx_on_request is the glue the Diameter node calls.
 */
#ifndef HSS_CX_HANDLER_H
#define HSS_CX_HANDLER_H

#include "diameter/base/peer.h"
#include "diameter/cx/cx.h"
#include "hss/context.h"

void hss_uar(hss_ctx_t *ctx, const cx_uar_t *r, cx_uaa_t *a);
void hss_mar(hss_ctx_t *ctx, const cx_mar_t *r, cx_maa_t *a);
/* a->user_data points at the subscriber's cached XML (owned by the
 * subscriber: never cx_saa_clear this answer). */
void hss_sar(hss_ctx_t *ctx, const cx_sar_t *r, cx_saa_t *a);
void hss_lir(hss_ctx_t *ctx, const cx_lir_t *r, cx_lia_t *a);

/* dia_request_cb for application Cx (arg: the hss_ctx_t). Answers every
 * request; an unknown command gets 3001 DIAMETER_COMMAND_UNSUPPORTED (E bit),
 * a missing mandatory AVP 5005 with Failed-AVP, a bad value 5004. */
void hss_cx_on_request(void *arg, dia_node_t *node, const dia_req_ctx_t *rctx,
                       dia_msg_t *req);

#endif
