/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CK and IK from the S-CSCF's 401 (TS 33.203 §7.1; ims-reference §2.2): the
 * P-CSCF takes them out of the challenge before it goes to the UE and makes
 * the SAs' keys from them (secagree.c).
 *
 * Why the raw text: libosip2 parses WWW-Authenticate and drops parameters it
 * does not know, ck and ik among them, so when the parsed header has none
 * the value is read again from the text the response was parsed from.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/auth/digest.h"
#include "common/core/rc.h"
#include "pcscf/secagree-int.h"

#define RAW_CHALLENGE_MAX 2048

/*
 * The first WWW-Authenticate value in the text the response was parsed from
 * (libosip2 keeps it; its parsed challenge has no ck/ik), continuation lines
 * joined, into buf. false when there is none or it does not fit.
 */
static bool raw_challenge(const osip_message_t *m, char *buf, size_t size)
{
    static const char name[] = "www-authenticate";
    const char *p = m->message, *end = p ? p + m->message_length : NULL;
    size_t n = 0;
    bool in = false;

    for (; p && p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *v = p, *ve;

        ve = eol ? eol : end;
        if (ve > p && ve[-1] == '\r')
            ve--;
        if (ve == p)
            break;              /* the end of the headers */
        if (in && (*p == ' ' || *p == '\t')) {
            if (n + 1 + (size_t)(ve - p) >= size)
                return false;
            buf[n++] = ' ';
            memcpy(buf + n, p, (size_t)(ve - p));
            n += (size_t)(ve - p);
        } else if (in) {
            break;
        } else if ((size_t)(ve - p) > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
            for (v = p + sizeof(name) - 1; v < ve && (*v == ' ' || *v == '\t'); v++)
                ;
            if (v < ve && *v == ':') {
                for (v++; v < ve && (*v == ' ' || *v == '\t'); v++)
                    ;
                if ((size_t)(ve - v) >= size)
                    return false;
                memcpy(buf, v, (size_t)(ve - v));
                n = (size_t)(ve - v);
                in = true;
            }
        }
        p = eol ? eol + 1 : end;
    }
    buf[n] = '\0';
    return in;
}

int pcscf_sec_challenge_keys(const sip_msg_t *resp, uint8_t ck[16], uint8_t ik[16])
{
    const char *h = sip_msg_header(resp, "WWW-Authenticate");
    char raw[RAW_CHALLENGE_MAX];
    ims_digest_params_t *p;
    size_t n1 = 0, n2 = 0;
    int rc = IMS_DECLINED;

    if (!h && raw_challenge(resp->m, raw, sizeof(raw)))
        h = raw;
    if (!h)
        return IMS_DECLINED;
    if (!(p = malloc(sizeof(*p))))
        abort();
    if (ims_digest_parse(h, strlen(h), p) == IMS_OK && ims_digest_has(p, IMS_DIGEST_CK) &&
        ims_digest_has(p, IMS_DIGEST_IK) &&
        ims_auth_hex_decode(p->ck, strlen(p->ck), ck, 16, &n1) == IMS_OK && n1 == 16 &&
        ims_auth_hex_decode(p->ik, strlen(p->ik), ik, 16, &n2) == IMS_OK && n2 == 16)
        rc = IMS_OK;
    explicit_bzero(p, sizeof(*p));
    explicit_bzero(raw, sizeof(raw));
    free(p);
    return rc;
}
