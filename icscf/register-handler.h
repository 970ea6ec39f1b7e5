/* SPDX-License-Identifier: BSD-2-Clause */
/* REGISTER at the I-CSCF (TS 24.229 §5.3.1): UAR, S-CSCF selection, forward. */
#ifndef ICSCF_REGISTER_HANDLER_H
#define ICSCF_REGISTER_HANDLER_H

#include "common/sip/proxy.h"
#include "icscf/context.h"

/* The proxy handler's on_request (arg: the icscf_ctx_t, NULL when the I-CSCF
 * logic is off): REGISTER is ours; other initial requests go to the
 * terminating procedure (term-handler.h), which declines what is not its. */
int icscf_on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req);

/* The UAA for reg (from cx-path.c). Answers or forwards the REGISTER, or
 * frees reg when the REGISTER has gone. */
void icscf_reg_on_uaa(icscf_reg_t *reg, int status, const cx_uaa_t *a);

/* The S-CSCF the HSS named (Server-Name) failed: send the UAR again with
 * User-Authorization-Type REGISTRATION_AND_CAPABILITIES (TS 24.229 §5.3.1.3),
 * once per REGISTER; icscf_reg_on_uaa continues. IMS_ERROR when that does not
 * apply or the UAR cannot be sent (nothing happened). */
int icscf_reg_requery(icscf_reg_t *reg, sip_proxy_req_t *pr);

/* Answer the request of pr with code/reason and, when retry_after_s > 0, a
 * Retry-After header. */
void icscf_reply(sip_proxy_req_t *pr, int code, const char *reason, uint32_t retry_after_s);

#endif
