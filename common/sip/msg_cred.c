/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Authorization and Proxy-Authorization kept as received.
 *
 * libosip2 parses these headers into osip_authorization_t, which knows only
 * the RFC 2617 parameters: it drops every other one (integrity-protected of
 * TS 24.229, auts of RFC 3310, ...) and turns nonce="" / response="" into
 * absent fields, and its serialiser writes only what it kept. A proxy that
 * re-serialises a REGISTER would then strip what the S-CSCF needs. So after
 * parsing, the raw header values replace libosip2's parsed ones in the generic
 * header list: they are forwarded byte for byte, read with
 * sip_msg_header(msg, "Authorization") and parsed with ims_digest_parse.
 */
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/sip/msg_int.h"

/* One logical header line (folding joined with a space), for the two names. */
static int add_raw(osip_message_t *m, const char *name, const char *v, size_t n,
                   const char *buf, size_t len, size_t pos)
{
    char *val;
    size_t cap = n + 1, used;
    const char *p;
    size_t pn;
    bool lf;
    int rc;

    /* the continuation lines that follow are part of this header */
    for (size_t q = pos; sip_raw_next_line(buf, len, &q, &p, &pn, &lf) && pn > 0 &&
                         (p[0] == ' ' || p[0] == '\t');)
        cap += pn + 1;
    val = malloc(cap);
    if (!val)
        return IMS_ERROR;
    memcpy(val, v, n);
    used = n;
    while (sip_raw_next_line(buf, len, &pos, &p, &pn, &lf) && pn > 0 &&
           (p[0] == ' ' || p[0] == '\t')) {
        while (pn > 0 && (p[0] == ' ' || p[0] == '\t')) {
            p++;
            pn--;
        }
        val[used++] = ' ';
        memcpy(val + used, p, pn);
        used += pn;
    }
    while (used > 0 && (val[used - 1] == ' ' || val[used - 1] == '\t'))
        used--;
    val[used] = '\0';
    rc = osip_message_set_header(m, name, val) == 0 ? IMS_OK : IMS_ERROR;
    free(val);
    return rc;
}

static void free_auth(void *a)
{
    osip_authorization_free(a);
}

static void free_proxy_auth(void *a)
{
    osip_proxy_authorization_free(a);
}

int sip_msg_keep_raw_credentials(osip_message_t *m, const char *buf, size_t len)
{
    size_t pos = 0, nl, voff;
    const char *p, *name;
    size_t n;
    bool lf, first = true;

    if (osip_list_size(&m->authorizations) == 0 && osip_list_size(&m->proxy_authorizations) == 0)
        return IMS_OK;
    osip_list_special_free(&m->authorizations, free_auth);
    osip_list_special_free(&m->proxy_authorizations, free_proxy_auth);
    while (sip_raw_next_line(buf, len, &pos, &p, &n, &lf)) {
        if (first) {   /* the start line */
            first = false;
            continue;
        }
        if (n == 0)
            break;     /* end of the header section */
        if (p[0] == ' ' || p[0] == '\t' || !sip_raw_header_name(p, n, &nl, &voff))
            continue;
        if (sip_raw_name_is(p, nl, "authorization"))
            name = "Authorization";
        else if (sip_raw_name_is(p, nl, "proxy-authorization"))
            name = "Proxy-Authorization";
        else
            continue;
        while (voff < n && (p[voff] == ' ' || p[voff] == '\t'))
            voff++;
        if (add_raw(m, name, p + voff, n - voff, buf, len, pos) != IMS_OK)
            return IMS_ERROR;
    }
    osip_message_force_update(m);
    return IMS_OK;
}
