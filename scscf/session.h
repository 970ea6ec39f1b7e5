/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Initial requests other than REGISTER at the S-CSCF (TS 24.229 §5.4.3):
 * the originating and the terminating session case.
 *
 * Which case: the Route entry the request reached us by (the proxy core
 * removes it, RFC 3261 §16.4, and keeps what it said: sip_proxy_req_route_orig).
 *   originating - it carried "orig" (the Service-Route we gave the P-CSCF);
 *                 the served user is the P-Asserted-Identity, which must be
 *                 registered here (else 403);
 *   terminating - otherwise, when the Request-URI is an identity of the
 *                 home domain (sip: with our domain, tel:, user=phone).
 * A request with neither is routed by default. See scscf_session_request.
 *
 * Originating: the target registered here -> on to the terminating case at
 * once (no spiral through the I-CSCF: the core's loop detection would see the
 * same request come back); a home-domain or tel: target registered elsewhere
 * -> the I-CSCF (scscf.icscf, a Route to it; its LIR answers 404 / 480 or
 * finds the S-CSCF); anything else -> default routing.
 * Terminating: the Request-URI is retargeted to each live contact of the
 * registration (parallel fork), with the contact's Path as Route (via its
 * P-CSCF). An identity not registered here: the HSS assigns us as its
 * S-CSCF and gives its profile (SAR UNREGISTERED_USER); its iFCs for the
 * unregistered state (SessionCase 2) may send the request to an AS (voicemail,
 * SMS store), else (or without an HSS) 480.
 *
 * iFCs (scscf/isc.h): before its routing, each case runs the served user's
 * iFCs (originating: SessionCase 0 for the asserted user; terminating:
 * SessionCase 1 for the registered target, also right after an originating
 * case that reached a user registered here). A request that triggers one goes
 * to the AS with an ODI Route; back from it (Route user part = the ODI) the
 * evaluation continues after that iFC; with none left the case routes as
 * above. An AS that does not answer is handled per the iFC's DefaultHandling
 * (scscf_session_on_failure).
 *
 * Not done yet (issue 5): the originating case of an unregistered user
 * (SessionCase 3), ENUM / number mapping.
 */
#ifndef SCSCF_SESSION_H
#define SCSCF_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "common/core/conf.h"
#include "common/sip/proxy.h"
#include "scscf/context.h"

#define SCSCF_SESSION_MAX_PAI 4      /* P-Asserted-Identity values looked at */

/*
 * Read scscf.icscf (optional; default "sip:icscf.<domain>") and
 * scscf.as_timeout_ms (scscf_isc_conf_load) for the sessions of this process.
 * conf may be NULL. IMS_OK, or IMS_ERROR (logged) for a value that is too long
 * or does not parse.
 */
int scscf_session_conf_load(ims_conf_t *conf, const scscf_cfg_t *c);

/*
 * sip_proxy_handler_t hooks (arg: the scscf_ctx_t). on_failure applies the
 * DefaultHandling of an iFC whose AS did not answer (IMS_OK: the request was
 * routed on; else IMS_DECLINED); on_response lets go of the ODI record of a
 * request once its final response goes upstream.
 */
int scscf_session_on_failure(void *arg, sip_proxy_req_t *pr, int code, bool replied);
void scscf_session_on_response(void *arg, sip_proxy_req_t *pr, sip_msg_t *resp);
/* Free what the sessions keep (the ODI records), at shutdown. */
void scscf_session_stop(void);

/*
 * An initial request (no To tag, no Route left) that is neither a REGISTER nor
 * a reg-event SUBSCRIBE. Returns IMS_DECLINED for default routing, else IMS_OK
 * (forwarded or answered through pr).
 */
int scscf_session_request(scscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req);

/*
 * The identity of u for lookups in the registration store: tel: URIs and
 * sip:/sips: URIs with user=phone as "tel:<number>" (visual separators
 * - . ( ) removed, URI parameters dropped), other sip: URIs as
 * scscf_uri_aor does. IMS_OK, or IMS_ERROR (unusable, or longer than len).
 */
int scscf_session_impu(const osip_uri_t *u, char *out, size_t len);

/*
 * The i-th P-Asserted-Identity URI of req (over every header instance and the
 * comma-separated values in one; the name-addr's URI) into out. IMS_OK, or
 * IMS_DECLINED when there is no i-th value, IMS_ERROR when it is too long.
 */
int scscf_session_pai(const sip_msg_t *req, int i, char *out, size_t len);

#endif
