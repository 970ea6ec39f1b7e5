/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the I-CSCF reads from an initial request other than REGISTER for the
 * LIR (TS 24.229 §5.3.2.1, TS 29.228 §6.2.1): whether the request is the
 * I-CSCF's business at all, and the public identity to locate. A pure
 * function over a parsed message; bounded, never trusting the input.
 */
#ifndef ICSCF_LIR_INFO_H
#define ICSCF_LIR_INFO_H

#include "common/sip/msg.h"
#include "diameter/cx/cx.h"

/*
 * Whether req (after the proxy removed our own Route entries) is a terminating
 * request for the HSS to locate, and if so its LIR in r.
 *   IMS_DECLINED  not ours, default routing: REGISTER, ACK, CANCEL; a request
 *                 with a To tag (in-dialog); a Route left (a path set by the
 *                 sender); a Request-URI that is neither a tel: URI nor a
 *                 sip:/sips: URI with a user part at home_domain (compared
 *                 case-insensitively), e.g. one addressed to this node.
 *   IMS_OK        r->impu is the Request-URI as a public identity: a tel: URI
 *                 as written up to its parameters; "sip:user@host" for a
 *                 sip:/sips: URI, host in lower case, without port, parameters
 *                 or headers (a sips: one is looked up by its sip: form, as
 *                 IMPUs are stored);
 *                 originating false, auth_type REGISTRATION (0).
 *   IMS_ERROR     ours, but no usable identity (too long for Cx, an empty
 *                 number): the request is answered 404 without an LIR.
 */
int icscf_lir_fields(const sip_msg_t *req, const char *home_domain, cx_lir_t *r);

#endif
