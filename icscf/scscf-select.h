/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The I-CSCF's decisions on a UAA or LIA, as pure functions (no I/O, no
 * state): which SIP response a Cx result means (TS 29.228 §6.1.1 and §6.2.1,
 * TS 24.229 §5.3.1.2 and §5.3.2.1) and in which order to try the S-CSCFs
 * (TS 29.228 §6.7, Annex A).
 */
#ifndef ICSCF_SCSCF_SELECT_H
#define ICSCF_SCSCF_SELECT_H

#include <stdbool.h>
#include <stdint.h>

#include "diameter/cx/cx.h"

#define DIA_AUTHORIZATION_REJECTED 5003u /* base Result-Code, not the Cx 5003 */

#define ICSCF_MAX_SCSCF      8  /* configured S-CSCFs */
#define ICSCF_MAX_CANDIDATES 16 /* names one selection may return */

/* A configured S-CSCF: its SIP URI and the capabilities it offers. */
typedef struct icscf_scscf {
    const char *uri;
    uint32_t caps[CX_MAX_CAPS];
    int ncaps;
} icscf_scscf_t;

/* What a UAA means for the REGISTER waiting on it. */
typedef struct icscf_verdict {
    bool forward;       /* success: select an S-CSCF and forward */
    int code;           /* otherwise the SIP response code ... */
    const char *reason; /* ... and its reason phrase (static) */
} icscf_verdict_t;

/*
 * Map a UAA result to the fate of the REGISTER: Experimental 2001/2002 (and
 * base 2001 DIAMETER_SUCCESS, which some HSSs send) forward; 5001 USER_UNKNOWN,
 * 5002 IDENTITIES_DONT_MATCH, 5004 ROAMING_NOT_ALLOWED, 5003
 * IDENTITY_NOT_REGISTERED and the base 5003 AUTHORIZATION_REJECTED (barred)
 * are 403; base 3xxx (routing, busy peers) are 480 (try later); everything
 * else, 5012 UNABLE_TO_COMPLY included, is 500.
 */
icscf_verdict_t icscf_uaa_verdict(cx_result_t r);

/*
 * Map an LIA result to the fate of the terminating request waiting on it
 * (TS 29.228 §6.2.1, TS 24.229 §5.3.2.1): base 2001 DIAMETER_SUCCESS and
 * Experimental 2003 UNREGISTERED_SERVICE forward (to the Server-Name, else by
 * Server-Capabilities); 5001 USER_UNKNOWN is 404 Not Found; 5003
 * IDENTITY_NOT_REGISTERED (known, not registered, no services for the
 * unregistered state) is 480 Temporarily Unavailable; base 3xxx and 4xxx
 * (routing, busy peers, transient failures) are 480 too; everything else,
 * 5012 UNABLE_TO_COMPLY included, is 500.
 */
icscf_verdict_t icscf_lia_verdict(cx_result_t r);

/*
 * The S-CSCFs to try, best first, into out[0..max) (pointers into a, list or
 * def; valid while those are). Returns how many (0: nothing to try).
 *   Server-Name in the UAA: that one alone (the HSS decided; no retries).
 *   Server-Capabilities: the names the HSS lists there, in its order, then each
 *     configured S-CSCF offering every mandatory capability, those offering
 *     more of the optional ones first (configuration order among equals);
 *     when none qualifies, the default.
 *   Neither (open5gs's HSS on a first registration): the default, then the
 *     configured S-CSCFs in order (no capability was asked for).
 * Duplicate names (case-insensitive) appear once.
 */
int icscf_select(const cx_uaa_t *a, const icscf_scscf_t *list, int n, const char *def,
                 const char **out, int max);
/* The same from the answer's parts, for an LIA as for a UAA: server_name ""
 * when absent, caps NULL when the answer had no Server-Capabilities. */
int icscf_select_by(const char *server_name, const cx_caps_t *caps, const icscf_scscf_t *list,
                    int n, const char *def, const char **out, int max);

/* Capability score of s for caps: -1 when a mandatory one is missing, else the
 * number of optional ones it offers. */
int icscf_caps_score(const icscf_scscf_t *s, const cx_caps_t *caps);

#endif
