/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control socket: a unix stream socket (state_dir/hss.ctl) on the event
 * loop with a line protocol, one reply line per command line:
 *
 *   stats                  ok uar=N mar=N sar=N lir=N vectors=N redraws=N ...
 *   show <impi>            ok state=registered scscf=<name> pending=<name> sqn=N
 *   rtr <impi> <reason>    RTR (reason 0..3) to the stored S-CSCF; replies when
 *                          the RTA arrives: ok <code> (or error ...)
 *   ppr <impi>             PPR with the current User-Data; ok <code>
 *   help
 *
 * Replies start with "ok" or "error". Commands on one connection may be
 * answered out of order when an RTR/PPR is outstanding; clients send one at a
 * time (as `ims-hss --ctl` does).
 */
#ifndef HSS_CTL_H
#define HSS_CTL_H

#include "hss/context.h"

/* Listen on path (an old socket file there is replaced). NULL on failure
 * (logged). The context must outlive the control socket. */
hss_ctl_t *hss_ctl_new(hss_ctx_t *ctx, const char *path);
/* Close every connection and remove the socket file. NULL is a no-op.
 * Outstanding RTR/PPR callbacks must have run (free the Diameter node first). */
void hss_ctl_free(hss_ctl_t *ctl);

/* CLI mode (`ims-hss --ctl PATH COMMAND`): connect, send COMMAND, print the
 * reply line on stdout. Blocking; never used by the daemon. Returns the exit
 * status: 0 for an "ok" reply, 1 otherwise. */
int hss_ctl_client(const char *path, const char *command);

#endif
