/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Header helpers of the P-CSCF on top of libosip2's generic header list:
 * comma-separated lists of name-addrs (P-Associated-URI, Service-Route, Path,
 * P-Preferred-Identity), option-tag lists (Require, Proxy-Require, Supported)
 * and auth-param lists (Authorization). All scanners are bounded by the
 * slice they are given and never assume NUL termination inside it.
 *
 * libosip2 already splits most comma lists into one header entry per element
 * (it respects quotes and angle brackets); these helpers handle both forms.
 */
#ifndef PCSCF_HEADERS_H
#define PCSCF_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/sip/msg.h"
#include "common/sip/proxy.h"
#include "pcscf/context.h"

/* Next element of a comma list in [*p, end): trimmed into *item, *p advanced.
 * Commas inside "..." or <...> do not split. false when nothing is left. */
bool pcscf_list_next(const char **p, const char *end, pcscf_str_t *item);

/* The URI of a name-addr ("Bob" <sip:b@h>;p=1 -> sip:b@h) or addr-spec
 * (sip:b@h;p=1 -> sip:b@h, header params dropped). n is 0 when there is none. */
pcscf_str_t pcscf_nameaddr_uri(pcscf_str_t item);
/* Where a name-addr or URI text (a Route entry, a remote target) resolves to
 * (sip.hosts, aliases, literal addresses): IMS_OK with *dst, else IMS_ERROR. */
int pcscf_resolve_text(sip_proxy_t *px, const char *text, sip_dest_t *dst);

/*
 * Collect the elements of every header called name, in order, into out (at
 * most max; entries longer than PCSCF_MAX_URI are skipped). uri_only: keep just
 * the URI of each element, else the whole element (e.g. "<sip:x;lr>"). The
 * slices point into msg. Returns the count.
 */
size_t pcscf_hdr_list(const sip_msg_t *msg, const char *name, bool uri_only, pcscf_str_t *out,
                      size_t max);

/* Remove option tag from every header called name (compact form too); a header
 * left empty goes. Returns how many tags were removed. */
int pcscf_hdr_remove_tag(sip_msg_t *msg, const char *name, const char *tag);
/* Whether a header called name lists option tag. */
bool pcscf_hdr_has_tag(const sip_msg_t *msg, const char *name, const char *tag);

/* Insert a generic header above every other one (for Path: ours goes on top). */
int pcscf_hdr_prepend(sip_msg_t *msg, const char *name, const char *value);

/*
 * An auth header value ("Digest a=1, b="x"") with every parameter called name
 * removed and name=value (value used as given, quotes included) appended;
 * value NULL: removed only. Returns a malloc'd string (caller frees), or NULL
 * when in is not a scheme followed by parameters.
 */
char *pcscf_auth_param_set(const char *in, const char *name, const char *value);

/* The same binding (RFC 3261 §19.1.4 reduced to scheme, user, host and port,
 * the port defaulted). false when either is NULL. */
bool pcscf_uri_same(const osip_uri_t *a, const osip_uri_t *b);
/* The same, for URI text a (a slice, parsed here) and b. */
bool pcscf_uri_text_same(pcscf_str_t a, const char *b);

/* Case-insensitive equality of a slice and a NUL-terminated string. */
bool pcscf_str_eq(pcscf_str_t a, const char *s);

#endif
