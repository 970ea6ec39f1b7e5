/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF's own reg-event subscription (RFC 3680; TS 24.229 §5.2.3):
 * after a UE registers, the P-CSCF subscribes to the registration state of
 * its default public identity at the S-CSCF, so that it learns of network
 * de-registration (RTR at the HSS, administrative) and drops the UE.
 *
 *   SUBSCRIBE <default IMPU>        Route: the UE's Service-Route
 *   From: <sip:NAME>;tag=..  To: <default IMPU>  P-Asserted-Identity: <sip:NAME>
 *   Event: reg  Accept: application/reginfo+xml  Expires: cfg.subscribe_expires
 *   Contact: <sip:NAME:PORT>         (NOTIFYs come back there)
 *
 * Each subscription has its own Call-ID, the id by which NOTIFYs and the
 * SUBSCRIBE's response find their UE (it may be gone by then: a normal case).
 * A re-registration that outlives the subscription takes a new one; the old
 * dialog dies on its next NOTIFY, which gets 481 like any unknown reg NOTIFY.
 *
 * A NOTIFY drops the UE when the default identity's registration is
 * terminated, when the UE's own contact in it is terminated (whatever the
 * event: deactivated, rejected, unregistered, expired, ...), or when the
 * subscription itself ends (Subscription-State: terminated).
 */
#ifndef PCSCF_REGEVENT_PATH_H
#define PCSCF_REGEVENT_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/sip/msg.h"
#include "common/sip/proxy.h"
#include "pcscf/context.h"
#include "pcscf/reginfo.h"

/* Build our SUBSCRIBE for ue with a new Call-ID (not sent; caller owns it), or
 * NULL. Exposed for the unit tests. contact_port 0: none in the Contact; proto:
 * the transport the NOTIFYs are to take back to us (its transport= parameter). */
sip_msg_t *pcscf_regevent_build(pcscf_ctx_t *ctx, pcscf_ue_t *ue, uint16_t contact_port,
                                sip_proto_t proto);

/* Send our SUBSCRIBE for ue through px's transaction layer. IMS_OK when sent. */
int pcscf_regevent_subscribe(pcscf_ctx_t *ctx, sip_proxy_t *px, pcscf_ue_t *ue);

/* on_request for NOTIFY: IMS_OK when it belonged to one of our subscriptions
 * (or was a reg NOTIFY for us we no longer know: 481), IMS_DECLINED otherwise. */
int pcscf_regevent_notify(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req);

/*
 * Whether a NOTIFY (Subscription-State value ss, may be NULL; reginfo ri, may
 * be NULL) ends ue's registration; why gets the reg-event that did it.
 */
bool pcscf_regevent_terminates(const pcscf_ue_t *ue, const char *ss, const pcscf_reginfo_t *ri,
                               char *why, size_t len);

#endif
