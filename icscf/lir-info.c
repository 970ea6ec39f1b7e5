/* SPDX-License-Identifier: BSD-2-Clause */
#include "icscf/lir-info.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/core/rc.h"
#include "icscf/reg-info.h"

static bool is_sip(const osip_uri_t *u)
{
    return strcasecmp(u->scheme, "sip") == 0 || strcasecmp(u->scheme, "sips") == 0;
}

/* Methods that never start a terminating procedure here: REGISTER has its own
 * (UAR), ACK and CANCEL belong to a transaction the proxy core handles. */
static bool excluded_method(const char *m)
{
    return !m || strcmp(m, "REGISTER") == 0 || strcmp(m, "ACK") == 0 || strcmp(m, "CANCEL") == 0;
}

int icscf_lir_fields(const sip_msg_t *req, const char *home_domain, cx_lir_t *r)
{
    const osip_uri_t *u = req->m->req_uri;
    int n;

    memset(r, 0, sizeof(*r));
    if (excluded_method(sip_msg_method(req)) || sip_msg_to_tag(req) ||
        osip_list_size(&req->m->routes) > 0 || !u || !u->scheme)
        return IMS_DECLINED;
    if (strcasecmp(u->scheme, "tel") == 0)
        return icscf_impu_from_uri(u, r->impu, sizeof(r->impu));
    if (!is_sip(u) || !u->username || !*u->username || !u->host || !home_domain ||
        strcasecmp(u->host, home_domain) != 0)
        return IMS_DECLINED;
    n = snprintf(r->impu, sizeof(r->impu), "sip:%s@", u->username);
    if (n < 0 || (size_t)n + strlen(u->host) >= sizeof(r->impu))
        return IMS_ERROR;
    /* a host name is case-insensitive (RFC 3261 §19.1.4); identities are stored in lower case */
    for (const char *h = u->host; *h; h++)
        r->impu[n++] = (char)tolower((unsigned char)*h);
    r->impu[n] = '\0';
    return IMS_OK;
}
