/* SPDX-License-Identifier: BSD-2-Clause */
/* The I-CSCF toward the HSS (Cx through hss_client). */
#ifndef ICSCF_CX_PATH_H
#define ICSCF_CX_PATH_H

#include "icscf/context.h"

/*
 * Send the UAR for reg. icscf_reg_on_uaa (register-handler.h) is called
 * exactly once, later, as hss_client.h describes (status IMS_ERROR: no
 * answer); reg stays alive until then (reg->uar_pending). IMS_ERROR when the
 * UAR could not even be built: no callback.
 */
int icscf_cx_send_uar(icscf_reg_t *reg, const cx_uar_t *uar);

/* Send the LIR for lir; icscf_term_on_lia (term-handler.h) is called exactly
 * once, later, in the same way; lir stays alive until then. IMS_ERROR when
 * the LIR could not be built: no callback. */
int icscf_cx_send_lir(icscf_lir_t *lir, const cx_lir_t *r);

/* Start the Diameter node and HSS client of ctx (ctx->loop set). IMS_OK / IMS_ERROR. */
int icscf_cx_open(icscf_ctx_t *ctx);
/* Stop them: pending UAR callbacks are dropped; DPR sent to the HSS. */
void icscf_cx_close(icscf_ctx_t *ctx);

#endif
