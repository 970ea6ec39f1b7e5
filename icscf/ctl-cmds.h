/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The I-CSCF's control-socket commands (common/ops/ctl.h): peers, counters
 * (with the REGISTERs and LIRs in flight), and the reloadable part of the
 * icscf group for reload and SIGHUP. The I-CSCF keeps no registrations.
 */
#ifndef ICSCF_CTL_CMDS_H
#define ICSCF_CTL_CMDS_H

#include "common/core/conf.h"
#include "icscf/context.h"

/* Open the control socket (ctl.socket of conf, default /run/ims-core/icscf.ctl)
 * into ctx->ctl. IMS_OK (also when the default socket could not be opened:
 * logged), IMS_ERROR when a configured one could not be opened. */
int icscf_ctl_start(icscf_ctx_t *ctx, ims_conf_t *conf);
/* Close it (NULL ctx->ctl: no-op). */
void icscf_ctl_stop(icscf_ctx_t *ctx);

#endif
