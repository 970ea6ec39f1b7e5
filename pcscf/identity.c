/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/identity.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/core/rc.h"
#include "pcscf/headers.h"

int pcscf_identity_strip(sip_msg_t *msg)
{
    return sip_msg_header_remove(msg, "P-Asserted-Identity") +
           sip_msg_header_remove(msg, "P-Preferred-Identity");
}

const char *pcscf_identity_match(const pcscf_ue_t *ue, pcscf_str_t uri)
{
    for (size_t i = 0; i < ue->nimpu; i++) {
        const char *impu = pcscf_ue_impu(ue, i);

        if (pcscf_str_eq(uri, impu))
            return impu;
    }
    return NULL;
}

const char *pcscf_identity_assert(sip_msg_t *msg, const pcscf_ue_t *ue)
{
    pcscf_str_t pref[PCSCF_MAX_IMPU];
    size_t n = pcscf_hdr_list(msg, "P-Preferred-Identity", true, pref, PCSCF_MAX_IMPU);
    const char *id = NULL;
    char val[PCSCF_MAX_URI + 3];

    /* Slices point into the headers about to be removed: decide first. */
    for (size_t i = 0; i < n && !id; i++)
        id = pcscf_identity_match(ue, pref[i]);
    if (!id)
        id = pcscf_ue_impu(ue, 0);
    pcscf_identity_strip(msg);
    if (!id)
        return NULL;
    snprintf(val, sizeof(val), "<%s>", id);
    return sip_msg_header_add(msg, "P-Asserted-Identity", val) == IMS_OK ? id : NULL;
}
