/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * application/reginfo+xml (RFC 3680 §5.3), read by a bounded scanner: only
 * the elements the P-CSCF acts on (reginfo, registration, contact, uri) and
 * their attributes are kept, as slices of the body; everything else (other
 * elements, namespaces' extensions, comments, processing instructions) is
 * skipped. Element names are compared without their namespace prefix.
 *
 * Refused as malformed: unbalanced or mismatched tags, nesting deeper than
 * PCSCF_RI_MAX_DEPTH, unterminated attributes, comments or PIs, a DOCTYPE
 * (no entity expansion, ever), a root that is not reginfo, text or tags after
 * it. Entities in values are not decoded (URIs in reginfo rarely carry any).
 * Registrations or contacts beyond the limits are skipped and counted in
 * truncated.
 */
#ifndef PCSCF_REGINFO_H
#define PCSCF_REGINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "pcscf/context.h"

#define PCSCF_RI_MAX_REGS 16
#define PCSCF_RI_MAX_CONTACTS 8
#define PCSCF_RI_MAX_DEPTH 16

typedef struct pcscf_ri_contact {
    pcscf_str_t id, state, event, uri;
    long expires;               /* -1 when absent or not a number */
} pcscf_ri_contact_t;

typedef struct pcscf_ri_reg {
    pcscf_str_t aor, id, state;
    pcscf_ri_contact_t contacts[PCSCF_RI_MAX_CONTACTS];
    size_t ncontacts;
} pcscf_ri_reg_t;

typedef struct pcscf_reginfo {
    long version;               /* -1 when absent */
    pcscf_str_t state;          /* "full" | "partial" */
    pcscf_ri_reg_t regs[PCSCF_RI_MAX_REGS];
    size_t nregs;
    size_t truncated;           /* registrations + contacts skipped for lack of room */
} pcscf_reginfo_t;

/* Parse xml[0..len) into ri (slices into xml). IMS_OK or IMS_ERROR (malformed). */
int pcscf_reginfo_parse(const char *xml, size_t len, pcscf_reginfo_t *ri);

#endif
