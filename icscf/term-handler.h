/* SPDX-License-Identifier: BSD-2-Clause */
/* Terminating requests at the I-CSCF (TS 24.229 §5.3.2.1): LIR, then the S-CSCF. */
#ifndef ICSCF_TERM_HANDLER_H
#define ICSCF_TERM_HANDLER_H

#include "common/sip/proxy.h"
#include "icscf/context.h"

/*
 * An initial request other than REGISTER (from icscf_on_request). IMS_DECLINED
 * when it is not for the HSS to locate (lir-info.h: in-dialog, routed, another
 * domain): default routing. IMS_OK otherwise: the LIR is on its way and the
 * request waits for icscf_term_on_lia, or it has been answered already.
 */
int icscf_term_request(icscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req);

/* The LIA for lir (from cx-path.c; status as hss_client.h describes). Forwards
 * or answers the request when it is still there; frees lir in any case. */
void icscf_term_on_lia(icscf_lir_t *lir, int status, const cx_lia_t *a);

#endif
