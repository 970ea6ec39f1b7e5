/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Asserted identity (RFC 3325, TS 24.229 §5.2.6.3): the P-CSCF is the edge of
 * the trust domain. Whatever P-Asserted-Identity or P-Preferred-Identity a UE
 * sends is removed; for a registered UE the P-CSCF inserts the identity the
 * network registered: the preferred one when it belongs to the UE's
 * registered set, else the default public identity (first P-Associated-URI).
 */
#ifndef PCSCF_IDENTITY_H
#define PCSCF_IDENTITY_H

#include "common/sip/msg.h"
#include "pcscf/context.h"

/* Remove every P-Asserted-Identity and P-Preferred-Identity; returns how many. */
int pcscf_identity_strip(sip_msg_t *msg);

/* The stored IMPU of ue equal to uri (case-insensitive), or NULL. */
const char *pcscf_identity_match(const pcscf_ue_t *ue, pcscf_str_t uri);

/* Strip, then insert P-Asserted-Identity: <identity> for a request from ue.
 * Returns the asserted identity (owned by ue), or NULL on failure. */
const char *pcscf_identity_assert(sip_msg_t *msg, const pcscf_ue_t *ue);

#endif
