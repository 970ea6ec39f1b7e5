/* SPDX-License-Identifier: BSD-2-Clause */
/* The I-CSCF toward the S-CSCFs: a REGISTER with retries, other requests
 * through the proxy core. */
#ifndef ICSCF_SCSCF_PATH_H
#define ICSCF_SCSCF_PATH_H

#include "common/sip/proxy.h"
#include "icscf/context.h"

/*
 * Forward the REGISTER of pr to reg's targets, one at a time from
 * reg->next_target, and answer pr with the outcome; reg is freed at the end.
 */
void icscf_scscf_forward(icscf_reg_t *reg, sip_proxy_req_t *pr);

/* Where the S-CSCF called name (a SIP URI, from the HSS or the configuration)
 * is: its host resolved through sip.hosts. IMS_OK, or IMS_ERROR (logged). */
int icscf_scscf_resolve(const sip_proxy_t *px, const char *name, sip_dest_t *dst);

/*
 * Forward the (non-REGISTER) request of pr to the S-CSCF name at dst through
 * the proxy core (TS 24.229 §5.3.2.1): `<name;lr>` pushed as its top Route,
 * the Request-URI unchanged; CANCEL, Timer C and the choice of the response
 * are the core's. IMS_OK, or IMS_ERROR when it could not be sent (the core or
 * this function has then answered pr).
 */
int icscf_scscf_route(sip_proxy_req_t *pr, const char *name, const sip_dest_t *dst);

#endif
