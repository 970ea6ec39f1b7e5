/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF's control-socket commands (common/ops/ctl.h): registrations
 * (the UEs it holds, by source address), registration, deregister (the UE's
 * registration dropped here, its calls released), dialogs (the calls of its
 * UEs), sas (the IPsec SAs of sec-agree, ctl-sas.c), sbi and policy (the
 * HTTP/2 connections and the policy client, ctl-sbi.c), peers, counters, and the
 * reloadable part of the pcscf group for reload and SIGHUP.
 */
#ifndef PCSCF_CTL_CMDS_H
#define PCSCF_CTL_CMDS_H

#include "common/core/conf.h"
#include "common/sip/node.h"
#include "pcscf/context.h"

/* Open the control socket (ctl.socket of conf, default /run/ims-core/pcscf.ctl)
 * into ctx->ctl. IMS_OK (also when the default socket could not be opened:
 * logged), IMS_ERROR when a configured one could not be opened. */
int pcscf_ctl_start(pcscf_ctx_t *ctx, sip_node_t *node, ims_conf_t *conf);
/* Close it (NULL ctx->ctl: no-op). */
void pcscf_ctl_stop(pcscf_ctx_t *ctx);
/* ctl-sas.c: add "sas [filter]" to ctx->ctl (open). */
void pcscf_ctl_sas_register(pcscf_ctx_t *ctx);
/* ctl-sbi.c: add "sbi" and "policy" to ctx->ctl (open), and the SBI client
 * connections to "peers". */
void pcscf_ctl_sbi_register(pcscf_ctx_t *ctx);

#endif
