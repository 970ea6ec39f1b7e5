/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the I-CSCF reads from a REGISTER for the UAR (TS 24.229 §5.3.1.2,
 * TS 29.228 §6.1.1): the private identity (Authorization username, or derived
 * from the public one as TS 23.003 §13.3 does when the UE sent none), the
 * public identity (the To URI), the visited network (P-Visited-Network-ID) and
 * whether this is a de-registration. Pure functions over a parsed message;
 * bounded, never trusting the input.
 */
#ifndef ICSCF_REG_INFO_H
#define ICSCF_REG_INFO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/sip/msg.h"
#include "diameter/cx/cx.h"

/* User-Authorization-Type (TS 29.229 §6.3.24) */
enum {
    ICSCF_UAT_REGISTRATION = 0,
    ICSCF_UAT_DE_REGISTRATION = 1,
    ICSCF_UAT_REGISTRATION_AND_CAPABILITIES = 2
};

/*
 * Fill r from req: impi, impu, visited_network (domain when the header is
 * absent) and auth_type (DE_REGISTRATION when every Contact expires now).
 * domain: the home domain, for an IMPI derived from a tel: IMPU. IMS_OK, or
 * IMS_ERROR with *why set to a reason phrase for a 400 (no usable To URI, an
 * identity longer than Cx allows).
 */
int icscf_reg_uar_fields(const sip_msg_t *req, const char *domain, cx_uar_t *r, const char **why);

/* Whether req removes every binding it names: each Contact's expires (the
 * parameter, else the Expires header) is 0, or Contact is "*". No Contact
 * (a query) is not a de-registration. */
bool icscf_reg_is_deregistration(const sip_msg_t *req);

/* The public identity of a URI: "sip:user@host[:port]" without parameters or
 * headers; a tel: (or other) URI as written, up to its first ';'. IMS_OK, or
 * IMS_ERROR when it does not fit len or has no host. */
int icscf_impu_from_uri(const osip_uri_t *u, char *out, size_t len);

/* The IMPI derived from an IMPU (TS 23.003 §13.3 in reverse, as CSCFs do for a
 * UE without Authorization): the scheme stripped ("sip:a@b" -> "a@b"); a
 * tel:/user-only form gets "@domain". IMS_OK / IMS_ERROR (too long, empty). */
int icscf_impi_from_impu(const char *impu, const char *domain, char *out, size_t len);

#endif
