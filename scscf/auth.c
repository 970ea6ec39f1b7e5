/* SPDX-License-Identifier: BSD-2-Clause */
#include "scscf/auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "common/auth/aka.h"
#include "common/auth/base64.h"
#include "common/core/rc.h"

const char *scscf_auth_mar_scheme(const scscf_cfg_t *cfg, const char *algorithm)
{
    if (algorithm && strcasecmp(algorithm, "AKAv1-MD5") == 0)
        return SCSCF_SCHEME_AKA;
    return cfg->md5_scheme[0] ? cfg->md5_scheme : "Unknown";
}

static int random_bytes(uint8_t *out, size_t n)
{
    while (n > 0) {
        ssize_t r = getrandom(out, n, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return IMS_ERROR;
        out += r;
        n -= (size_t)r;
    }
    return IMS_OK;
}

static int from_aka(scscf_auth_t *a, const cx_auth_item_t *it, const char *domain, char *www,
                    size_t wwwlen)
{
    char ck[33] = "", ik[33] = "";
    int n;

    if (it->authenticate_len < IMS_AKA_NONCE_RAW || it->authorization_len < 4 ||
        it->authorization_len > sizeof(a->xres))
        return IMS_ERROR;
    /* the whole SIP-Authenticate: RAND || AUTN [|| server data] (RFC 3310 §3.2) */
    if (ims_base64_encode(it->authenticate, it->authenticate_len, a->nonce, sizeof(a->nonce),
                          NULL) != IMS_OK)
        return IMS_ERROR;
    a->scheme = SCSCF_AUTH_AKA;
    memcpy(a->rand, it->authenticate, IMS_AKA_RAND_LEN);
    memcpy(a->xres, it->authorization, it->authorization_len);
    a->xres_len = (uint8_t)it->authorization_len;
    snprintf(a->realm, sizeof(a->realm), "%s", domain);
    if (it->has_keys) {
        ims_auth_hex_encode(it->ck, sizeof(it->ck), ck, sizeof(ck));
        ims_auth_hex_encode(it->ik, sizeof(it->ik), ik, sizeof(ik));
        n = snprintf(www, wwwlen, "Digest realm=\"%s\", nonce=\"%s\", algorithm=AKAv1-MD5, "
                     "qop=\"auth\", ck=\"%s\", ik=\"%s\"", a->realm, a->nonce, ck, ik);
    } else {
        n = snprintf(www, wwwlen, "Digest realm=\"%s\", nonce=\"%s\", algorithm=AKAv1-MD5, "
                     "qop=\"auth\"", a->realm, a->nonce);
    }
    return n > 0 && (size_t)n < wwwlen ? IMS_OK : IMS_ERROR;
}

static int from_digest(scscf_auth_t *a, const cx_auth_item_t *it, const char *domain, char *www,
                       size_t wwwlen)
{
    uint8_t r[16];
    int n;

    if (!it->has_digest || strlen(it->digest_ha1) != IMS_DIGEST_HEX_LEN)
        return IMS_ERROR;
    if (random_bytes(r, sizeof(r)) != IMS_OK ||
        ims_auth_hex_encode(r, sizeof(r), a->nonce, sizeof(a->nonce)) != IMS_OK)
        return IMS_ERROR;
    a->scheme = SCSCF_AUTH_MD5;
    for (int i = 0; i < IMS_DIGEST_HEX_LEN; i++) {
        char c = it->digest_ha1[i];

        a->ha1[i] = (char)(c >= 'A' && c <= 'F' ? c + 32 : c);
    }
    a->ha1[IMS_DIGEST_HEX_LEN] = '\0';
    snprintf(a->realm, sizeof(a->realm), "%s", it->digest_realm[0] ? it->digest_realm : domain);
    n = snprintf(www, wwwlen, "Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"",
                 a->realm, a->nonce);
    return n > 0 && (size_t)n < wwwlen ? IMS_OK : IMS_ERROR;
}

int scscf_auth_from_maa(scscf_auth_t *a, const cx_auth_item_t *it, const char *domain, char *www,
                        size_t wwwlen)
{
    if (strcmp(it->scheme, SCSCF_SCHEME_AKA) == 0)
        return from_aka(a, it, domain, www, wwwlen);
    if (it->has_digest || strcmp(it->scheme, SCSCF_SCHEME_DIGEST) == 0)
        return from_digest(a, it, domain, www, wwwlen);
    return IMS_ERROR;
}

scscf_verify_t scscf_auth_verify(const scscf_auth_t *a, const ims_digest_params_t *p,
                                 const char *method)
{
    char ha1[IMS_DIGEST_HEX_SIZE], ha2[IMS_DIGEST_HEX_SIZE], want[IMS_DIGEST_HEX_SIZE];
    const char *qop = NULL;

    if (!ims_digest_has(p, IMS_DIGEST_NONCE) || strcmp(p->nonce, a->nonce) != 0)
        return SCSCF_VERIFY_STALE;
    if (strcmp(p->realm, a->realm) != 0 || !p->response[0] || !p->uri[0])
        return SCSCF_VERIFY_FAIL;
    if (ims_digest_has(p, IMS_DIGEST_QOP)) {
        if (strcasecmp(p->qop, "auth") != 0 || !p->nc[0] || !p->cnonce[0])
            return SCSCF_VERIFY_FAIL;
        qop = "auth";
    }
    if (a->scheme == SCSCF_AUTH_AKA) {
        if (ims_digest_ha1(p->username, a->realm, a->xres, a->xres_len, ha1) != IMS_OK)
            return SCSCF_VERIFY_FAIL;
    } else {
        memcpy(ha1, a->ha1, sizeof(ha1));
    }
    if (ims_digest_ha2(method, p->uri, ha2) != IMS_OK ||
        ims_digest_response(ha1, a->nonce, qop ? p->nc : NULL, qop ? p->cnonce : NULL, qop, ha2,
                            want) != IMS_OK)
        return SCSCF_VERIFY_FAIL;
    return ims_digest_check(want, p->response, strlen(p->response)) == IMS_OK
               ? SCSCF_VERIFY_OK : SCSCF_VERIFY_FAIL;
}

int scscf_auth_resync_data(const scscf_auth_t *a, const char *auts, uint8_t out[30])
{
    uint8_t buf[IMS_BASE64_DEC_MAX(64)];
    size_t n;

    if (a->scheme != SCSCF_AUTH_AKA || strlen(auts) > 64 ||
        ims_base64_decode(auts, strlen(auts), buf, sizeof(buf), &n) != IMS_OK ||
        n != IMS_AKA_AUTS_LEN)
        return IMS_ERROR;
    memcpy(out, a->rand, IMS_AKA_RAND_LEN);
    memcpy(out + IMS_AKA_RAND_LEN, buf, IMS_AKA_AUTS_LEN);
    return IMS_OK;
}
