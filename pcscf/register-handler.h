/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * REGISTER through the P-CSCF (TS 24.229 §5.2.2; ims-reference §1.3, §1.7).
 *
 * Toward the home network the P-CSCF removes what a UE must not assert
 * (P-Asserted-Identity, P-Preferred-Identity, P-Visited-Network-ID,
 * P-Charging-Vector) and what is hop-by-hop between UE and P-CSCF
 * (Security-Client, Security-Verify, the sec-agree option tag), and adds its
 * Path, P-Visited-Network-ID, a fresh P-Charging-Vector icid and the
 * integrity-protected auth-param. The request goes to the configured I-CSCF.
 *
 * integrity-protected is "yes" for a REGISTER that came over the UE's IPsec
 * SAs (pcscf.ipsec, secagree.h), else "no": the S-CSCF then challenges every
 * REGISTER. assume_integrity = true makes it "yes", for labs that trust their
 * loopback UEs.
 *
 * The 2xx coming back stores the UE's registration: contact, P-Associated-URI,
 * Service-Route and the expiry granted to the UE's own contact; a 2xx that no
 * longer lists that contact (or lists it with expires=0) removes it.
 */
#ifndef PCSCF_REGISTER_HANDLER_H
#define PCSCF_REGISTER_HANDLER_H

#include <stdint.h>

#include "common/sip/msg.h"
#include "common/sip/proxy.h"
#include "pcscf/context.h"

/* The default expiry when neither the 2xx nor the REGISTER says (seconds). */
#define PCSCF_DEFAULT_EXPIRES 3600

/* Room for the strings pcscf_register_parse_ok cannot point into the messages for. */
typedef struct pcscf_reg_bufs {
    char contact[PCSCF_MAX_URI + 1];
    char to[PCSCF_MAX_URI + 1];
} pcscf_reg_bufs_t;

/* Edit a REGISTER from a UE for forwarding (see above). IMS_OK or IMS_ERROR. */
int pcscf_register_rewrite(pcscf_ctx_t *ctx, sip_msg_t *req);

/*
 * What a 2xx to req says about the UE that sent req: d (slices into req, resp
 * and bufs) and *expires for its contact (0: no longer registered). IMS_OK;
 * IMS_DECLINED for a query (REGISTER without Contact: nothing changes);
 * IMS_ERROR when it cannot be understood.
 */
int pcscf_register_parse_ok(const sip_msg_t *req, const sip_msg_t *resp, pcscf_reg_data_t *d,
                            uint32_t *expires, pcscf_reg_bufs_t *bufs);

/* on_request for REGISTER: rewrite and forward. IMS_OK (handled) or
 * IMS_DECLINED (default routing: no I-CSCF configured). */
int pcscf_register_request(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *req);

/*
 * on_response for a 401 to REGISTER: ck= and ik= leave WWW-Authenticate (they
 * are for the P-CSCF's SAs only; handsets give up on a 401 carrying them,
 * ims-reference §9.1). Challenges libosip2 parsed into its own fields never
 * hold them (it drops unknown parameters); text ones are edited.
 */
void pcscf_register_challenge(sip_msg_t *resp);

/*
 * on_response for a 401 to REGISTER with the context: sec-agree sets up the
 * UE's SAs from ck/ik and adds Security-Server (or turns the 401 into a 500
 * when it cannot), then pcscf_register_challenge strips ck/ik.
 */
void pcscf_register_on_401(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *resp);

/* on_response for a 2xx to REGISTER: store, refresh or remove the UE. */
void pcscf_register_response(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *resp);

#endif
