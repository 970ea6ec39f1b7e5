/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Header names as they are written. libosip2 lowercases the name of every
 * header it has no parser of its own for, and prints it with only the first
 * letter raised: a Service-Route we relay would leave as "Service-route",
 * P-Associated-URI as "P-associated-uri". Names are case-insensitive (RFC
 * 3261 §7.3.1), but handsets and the people reading traces are not always
 * so forgiving. After parsing, each such name gets its usual spelling back:
 * the exceptions below, else a capital at the start and after each hyphen.
 * Same length, so the rewrite is in place.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/sip/msg_int.h"

static const char *const spelled[] = {
    "P-Associated-URI", "P-Visited-Network-ID", "P-Called-Party-ID", "P-Debug-ID",
    "P-Refused-URI-List", "RSeq", "RAck", "Min-SE", "MIME-Version", "SIP-ETag",
    "SIP-If-Match", "Session-ID", "Content-ID", "WWW-Authenticate",
};

static void respell(char *name)
{
    size_t n = strlen(name);
    bool up = true;

    /* Every message passes here once per header: compare lengths first. */
    for (size_t i = 0; i < sizeof(spelled) / sizeof(spelled[0]); i++) {
        if (strlen(spelled[i]) == n && strcasecmp(name, spelled[i]) == 0) {
            memcpy(name, spelled[i], n);
            return;
        }
    }
    for (char *p = name; *p; p++) {
        *p = (char)(up ? toupper((unsigned char)*p) : *p);
        up = *p == '-';
    }
}

void sip_msg_respell_names(osip_message_t *m)
{
    osip_list_iterator_t it;
    osip_header_t *h = osip_list_get_first(&m->headers, &it);

    for (; h; h = osip_list_get_next(&it))
        if (h->hname && h->hname[0])
            respell(h->hname);
}
