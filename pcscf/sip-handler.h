/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF's proxy handler: what the proxy core asks about each request
 * and each response going upstream.
 *
 *   REGISTER                  register-handler.c (rewrite, toward the I-CSCF)
 *   NOTIFY of our reg-event   regevent-path.c (answered here)
 *   from a registered UE      identity asserted (TS 24.229 §5.2.6.3), and for
 *                             requests outside a dialog the route set replaced
 *                             by the UE's Service-Route (RFC 3608): the UE
 *                             cannot bypass its S-CSCF. Then default routing.
 *   from an unregistered UE   403 (TS 24.229 §5.2.6.3.1), except keep-alive
 *                             OPTIONS for us and in-dialog requests of a call
 *                             we know (identities stripped).
 *   from a trusted node       identities untouched (sip.hosts and pcscf.trusted);
 *                             toward a UE (no Route left, Request-URI not ours)
 *                             sent to the Request-URI, not the outbound proxy.
 *   INVITE dialogs            of registered UEs, both directions: dialog.c
 *                             (responses and in-dialog requests feed it);
 *                             with a policy backend, SDP answers are
 *                             authorised before they go on (policy-sip.c).
 *
 * Without a pcscf section the handler declines everything: a transparent proxy.
 */
#ifndef PCSCF_SIP_HANDLER_H
#define PCSCF_SIP_HANDLER_H

#include "common/sip/msg.h"
#include "common/sip/proxy.h"
#include "pcscf/context.h"

/* sip_proxy_handler_t callbacks; arg is the pcscf_ctx_t. */
int pcscf_on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req);
void pcscf_on_response(void *arg, sip_proxy_req_t *pr, sip_msg_t *resp);
/* The proxy core's on_ack hook: drops an ACK from a source with no registration
 * (not trusted, no known dialog); IMS_DECLINED lets the core forward it. */
int pcscf_on_ack(void *arg, sip_msg_t *ack);
/* The proxy's on_ack_dest: a 2xx ACK to a UE with SAs goes from our port-c. */
void pcscf_on_ack_dest(void *arg, const sip_msg_t *ack, sip_dest_t *dst);

/* Replace the route set of req by ue's Service-Route. IMS_OK / IMS_ERROR. */
int pcscf_enforce_service_route(sip_msg_t *req, const pcscf_ue_t *ue);

#endif
