/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The S-CSCF's control-socket commands (common/ops/ctl.h): registrations,
 * registration, peers, counters, deregister, and the reloadable part of the
 * scscf group (expiry bounds and timers) for reload and SIGHUP.
 */
#ifndef SCSCF_CTL_CMDS_H
#define SCSCF_CTL_CMDS_H

#include "common/core/conf.h"
#include "scscf/context.h"

/* Open the control socket (ctl.socket of conf, default /run/ims-core/scscf.ctl)
 * into ctx->ctl with the commands. IMS_OK (also when the default socket could
 * not be opened: logged, the daemon runs without), IMS_ERROR when a
 * configured socket could not be opened. */
int scscf_ctl_start(scscf_ctx_t *ctx, ims_conf_t *conf);
/* Close it (NULL ctx->ctl: no-op). */
void scscf_ctl_stop(scscf_ctx_t *ctx);

#endif
