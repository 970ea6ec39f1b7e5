/* SPDX-License-Identifier: BSD-2-Clause */
/* The I-CSCF toward the S-CSCFs: forwarding a REGISTER, with retries. */
#ifndef ICSCF_SCSCF_PATH_H
#define ICSCF_SCSCF_PATH_H

#include "common/sip/proxy.h"
#include "icscf/context.h"

/*
 * Forward the REGISTER of pr to reg's targets, one at a time from
 * reg->next_target, and answer pr with the outcome; reg is freed at the end.
 */
void icscf_scscf_forward(icscf_reg_t *reg, sip_proxy_req_t *pr);

#endif
