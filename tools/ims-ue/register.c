/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-ue: registration with IMS AKA (RFC 3310, TS 24.229 §5.1.1) or SIP
 * Digest, and with --ipsec the UE's half of sec-agree (RFC 3329).
 *
 * The ISIM's checks come first (ims_aka_ue_check): a challenge whose AUTN
 * does not verify with our K/OPc is a MAC failure, answered as TS 24.229
 * §5.1.1.5.3 says (the challenge's nonce, an empty response, no auts) and
 * reported, and the registration fails; a SQN at or below our SQN_MS is a
 * sync failure, answered with AUTS and a digest over the empty password
 * (RFC 3310 §3.4). A good challenge gives RES (the digest password, 8 raw
 * octets) and CK/IK, from which the SAs' keys come in sec-agree.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/auth/base64.h"
#include "common/auth/digest.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "tools/ims-ue/ue.h"

#define UE_MAX_CHALLENGES 4

static void send_register(ue_t *ue);

static const char *kind_name(ue_cmd_kind_t k)
{
    return k == UE_CMD_DEREGISTER ? "deregister" : k == UE_CMD_REREGISTER ? "reregister"
                                                                          : "register";
}

/* The registration is over: the command's end, or the background one's. */
static void reg_end(ue_t *ue, bool ok)
{
    if (ue->cfg.ipsec)
        ue_ipsec_keep_offer(ue);    /* no new SAs came: offer the SPIs in use */
    if (!ue->reg.background) {
        ue_done(ue, ok);
        return;
    }
    ue->reg.background = false;
    if (!ok)
        ue->status = 1;
    ue_call_rereg_done(ue);
}

static void fail(ue_t *ue, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(ue_t *ue, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ue_event(ue, "%s failed: %s", kind_name(ue->reg.kind), line);
    reg_end(ue, false);
}

/* The first REGISTER's credentials: identity, no answer yet (TS 24.229 §5.1.1.2.1). */
static void initial_auth(ue_t *ue)
{
    snprintf(ue->reg.auth, sizeof(ue->reg.auth),
             "Digest username=\"%s\", realm=\"%s\", uri=\"sip:%s\", nonce=\"\", response=\"\"",
             ue->cfg.impi, ue->cfg.domain, ue->cfg.domain);
}

void ue_register_start(ue_t *ue, ue_cmd_kind_t kind, uint32_t expires)
{
    ue_reg_t *r = &ue->reg;

    if (kind != UE_CMD_REGISTER && r->expires == 0) {
        r->kind = kind;
        fail(ue, "not registered");
        return;
    }
    if (!r->call_id[0]) {
        sip_random_token(r->call_id, 24);
        strcat(r->call_id, "@ims-ue");
        sip_random_token(r->tag, 16);
    }
    if (kind == UE_CMD_REGISTER)
        r->expires_req = expires;
    r->kind = kind;
    r->rounds = 0;
    r->mac_failure = false;
    initial_auth(ue);
    if (ue->cfg.ipsec && !ue->sec_client[0] && ue_ipsec_client_header(ue) != IMS_OK) {
        fail(ue, "cannot build Security-Client");
        return;
    }
    /* TS 33.203 §7.4: over SAs, each REGISTER offers new SPIs for the set a
     * challenge would bring. */
    if (ue->protected_up && ue_ipsec_new_offer(ue) != IMS_OK) {
        fail(ue, "cannot build Security-Client");
        return;
    }
    send_register(ue);
}

void ue_register_background(ue_t *ue)
{
    ue->reg.background = true;
    ue_register_start(ue, UE_CMD_REREGISTER, 0);
}

bool ue_register_busy(const ue_t *ue)
{
    return ue->reg.background;
}

/* ---- the 2xx ---- */

/* The expiry granted to our contact: its expires parameter in the 2xx, else
 * Expires, else what we asked for. */
static uint32_t granted(ue_t *ue, const sip_msg_t *resp)
{
    const osip_contact_t *c;
    osip_generic_param_t *p;
    char mine[UE_URI_MAX], uri[UE_URI_MAX];
    const char *e;

    ue_contact(ue, mine, sizeof(mine));
    for (int i = 0; (c = osip_list_get(&resp->m->contacts, i)) != NULL; i++) {
        p = NULL;
        if (ue_uri_text(c->url, uri, sizeof(uri)) != IMS_OK || strcasecmp(uri, mine) != 0)
            continue;
        osip_contact_param_get_byname((osip_contact_t *)c, "expires", &p);
        if (p && p->gvalue)
            return (uint32_t)strtoul(p->gvalue, NULL, 10);
    }
    e = sip_msg_header(resp, "Expires");
    return e ? (uint32_t)strtoul(e, NULL, 10) : ue->reg.expires_req;
}

static void registered(ue_t *ue, const sip_msg_t *resp)
{
    ue_reg_t *r = &ue->reg;
    uint32_t exp = granted(ue, resp);

    if (ue->cfg.ipsec)
        ue_ipsec_retire_old(ue);    /* the 2xx came over the newest SAs */
    if (r->kind == UE_CMD_DEREGISTER) {
        r->expires = 0;
        r->nroute = 0;
        ue_event(ue, "deregistered");
        reg_end(ue, true);
        return;
    }
    if (exp == 0) {
        fail(ue, "the 2xx grants our contact no time");
        return;
    }
    r->expires = exp;
    r->nroute = ue_hdr_list(resp, "Service-Route", r->routes, UE_MAX_ROUTES);
    ue_event(ue, "%s expires=%u", r->kind == UE_CMD_REREGISTER ? "reregistered" : "registered",
             (unsigned)exp);
    reg_end(ue, true);
}

/* ---- the challenge ---- */

/* The challenge of a 401 as digest parameters (libosip2 parsed it; print it back). */
static int challenge_params(const sip_msg_t *resp, ims_digest_params_t *p)
{
    osip_www_authenticate_t *w = osip_list_get(&resp->m->www_authenticates, 0);
    char *s = NULL;
    int rc;

    if (!w || osip_www_authenticate_to_str(w, &s) != 0 || !s)
        return IMS_ERROR;
    rc = ims_digest_parse(s, strlen(s), p);
    osip_free(s);
    return rc;
}

/* Append to ue->reg.auth; false when it no longer fits. */
static bool auth_add(ue_t *ue, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool auth_add(ue_t *ue, size_t *len, const char *fmt, ...)
{
    size_t size = sizeof(ue->reg.auth);
    va_list ap;
    int n;

    if (*len >= size)
        return false;
    va_start(ap, fmt);
    n = vsnprintf(ue->reg.auth + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - *len)
        return false;
    *len += (size_t)n;
    return true;
}

/* Authorization for challenge p with password pw (pwlen raw octets); auts
 * (base64) NULL or the resynchronisation token. */
static int answer(ue_t *ue, const ims_digest_params_t *p, const uint8_t *pw, size_t pwlen,
                  const char *auts)
{
    const char *realm = ims_digest_get(p, IMS_DIGEST_REALM);
    const char *nonce = ims_digest_get(p, IMS_DIGEST_NONCE);
    const char *alg = ims_digest_get(p, IMS_DIGEST_ALGORITHM);
    bool qop = strstr(ims_digest_get(p, IMS_DIGEST_QOP), "auth") != NULL;
    char uri[UE_URI_MAX + 8], ha1[IMS_DIGEST_HEX_SIZE], ha2[IMS_DIGEST_HEX_SIZE];
    char resp[IMS_DIGEST_HEX_SIZE], cnonce[17];
    size_t len = 0;
    bool ok;

    snprintf(uri, sizeof(uri), "sip:%s", ue->cfg.domain);
    sip_random_token(cnonce, 16);
    if (ims_digest_ha1(ue->cfg.impi, realm, pw, pwlen, ha1) != IMS_OK ||
        ims_digest_ha2("REGISTER", uri, ha2) != IMS_OK ||
        ims_digest_response(ha1, nonce, qop ? "00000001" : NULL, qop ? cnonce : NULL,
                            qop ? "auth" : NULL, ha2, resp) != IMS_OK)
        return IMS_ERROR;
    ok = auth_add(ue, &len,
                  "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                  "response=\"%s\", algorithm=%s",
                  ue->cfg.impi, realm, nonce, uri, resp, alg[0] ? alg : "MD5");
    if (ok && qop)
        ok = auth_add(ue, &len, ", qop=auth, nc=00000001, cnonce=\"%s\"", cnonce);
    if (ok && ims_digest_has(p, IMS_DIGEST_OPAQUE))
        ok = auth_add(ue, &len, ", opaque=\"%s\"", ims_digest_get(p, IMS_DIGEST_OPAQUE));
    if (ok && auts)
        ok = auth_add(ue, &len, ", auts=\"%s\"", auts);
    return ok ? IMS_OK : IMS_ERROR;
}

/* TS 24.229 §5.1.1.5.3: the challenge is not genuine; say so to the network. */
static void answer_mac_failure(ue_t *ue, const ims_digest_params_t *p)
{
    snprintf(ue->reg.auth, sizeof(ue->reg.auth),
             "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"sip:%s\", "
             "response=\"\", algorithm=AKAv1-MD5",
             ue->cfg.impi, ims_digest_get(p, IMS_DIGEST_REALM),
             ims_digest_get(p, IMS_DIGEST_NONCE), ue->cfg.domain);
}

static int aka_challenge(ue_t *ue, const sip_msg_t *resp, const ims_digest_params_t *p)
{
    const char *nonce = ims_digest_get(p, IMS_DIGEST_NONCE);
    uint8_t rand[16], autn[16];
    ims_aka_ue_result_t r;
    char auts[IMS_BASE64_ENC_LEN(IMS_AKA_AUTS_LEN) + 1];
    int rc;

    if (ims_aka_nonce_decode(nonce, strlen(nonce), rand, autn) != IMS_OK) {
        fail(ue, "the AKA nonce is not base64(RAND || AUTN)");
        return IMS_ERROR;
    }
    switch (ims_aka_ue_check(&ue->mil, rand, autn, ue->cfg.sqn_ms, &r)) {
    case IMS_AKA_MAC_FAILURE:
        ue_event(ue, "auth MAC failure: AUTN does not verify with our K/OPc "
                     "(wrong keys, or the network is not genuine)");
        ue->reg.mac_failure = true;
        answer_mac_failure(ue, p);
        return IMS_OK;
    case IMS_AKA_SYNC_FAILURE:
        ue_event(ue, "auth sync failure: sqn=%llu not above SQN_MS=%llu, sending AUTS",
                 (unsigned long long)r.sqn, (unsigned long long)ue->cfg.sqn_ms);
        if (ims_base64_encode(r.auts, IMS_AKA_AUTS_LEN, auts, sizeof(auts), NULL) != IMS_OK)
            return IMS_ERROR;
        return answer(ue, p, NULL, 0, auts);
    case IMS_AKA_OK:
        break;
    default:
        return IMS_ERROR;
    }
    ue->cfg.sqn_ms = r.sqn;
    ue_event(ue, "auth AKA challenge sqn=%llu", (unsigned long long)r.sqn);
    rc = answer(ue, p, r.res, sizeof(r.res), NULL);
    /* The first challenge sets SAs up; over SAs a challenge with a new
     * Security-Server brings the next set (TS 33.203 §7.4), installed beside
     * the one in use, which goes once the answer's 2xx came over the new. */
    if (rc == IMS_OK && ue->cfg.ipsec &&
        (!ue->protected_up || sip_msg_header(resp, "Security-Server")))
        rc = ue_ipsec_on_challenge(ue, resp, r.ck, r.ik) == IMS_OK ? IMS_OK : IMS_DECLINED;
    explicit_bzero(&r, sizeof(r));
    return rc;
}

static void challenged(ue_t *ue, const sip_msg_t *resp)
{
    ims_digest_params_t p;
    const char *alg;
    int rc;

    if (ue->reg.mac_failure) {
        fail(ue, "MAC failure (challenged again after reporting it)");
        return;
    }
    if (++ue->reg.rounds > UE_MAX_CHALLENGES) {
        fail(ue, "too many challenges");
        return;
    }
    if (challenge_params(resp, &p) != IMS_OK) {
        fail(ue, "401 without a usable WWW-Authenticate");
        return;
    }
    alg = ims_digest_get(&p, IMS_DIGEST_ALGORITHM);
    if (strcasecmp(alg, "AKAv1-MD5") == 0) {
        rc = aka_challenge(ue, resp, &p);
    } else if (!ue->cfg.password) {
        fail(ue, "digest challenge (algorithm=%s) but no --password", alg[0] ? alg : "MD5");
        return;
    } else {
        ue_event(ue, "auth digest challenge realm=%s", ims_digest_get(&p, IMS_DIGEST_REALM));
        rc = answer(ue, &p, (const uint8_t *)ue->cfg.password, strlen(ue->cfg.password), NULL);
    }
    if (rc == IMS_DECLINED) {   /* sec-agree failed and said why */
        reg_end(ue, false);
        return;
    }
    if (rc != IMS_OK) {
        fail(ue, "cannot compute the answer to the challenge");
        return;
    }
    send_register(ue);
}

/* ---- sending ---- */

static void on_response(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    ue_t *ue = arg;
    int code;

    if (!resp) {
        fail(ue, "%s", err == SIP_TXN_TIMEOUT ? "no response (timeout)" : "transport error");
        return;
    }
    code = sip_msg_status(resp);
    if (code >= 200 && code < 300)
        registered(ue, resp);
    else if (code == 401)
        challenged(ue, resp);
    else if (code >= 300 && ue->reg.mac_failure)
        fail(ue, "MAC failure (the network answered %d)", code);
    else if (code >= 300)
        fail(ue, "code=%d %s", code, resp->m->reason_phrase ? resp->m->reason_phrase : "");
    sip_msg_free(resp);
}

static int add_headers(ue_t *ue, sip_msg_t *m, uint32_t expires)
{
    char uri[UE_URI_MAX], contact[UE_URI_MAX + 32], exp[16];

    ue_contact(ue, uri, sizeof(uri));
    snprintf(contact, sizeof(contact), "<%s>;expires=%u", uri, (unsigned)expires);
    snprintf(exp, sizeof(exp), "%u", (unsigned)expires);
    if (osip_message_set_contact(m->m, contact) != 0 ||
        sip_msg_header_add(m, "Expires", exp) != IMS_OK ||
        sip_msg_header_add(m, "Authorization", ue->reg.auth) != IMS_OK ||
        sip_msg_header_add(m, "Supported", ue->cfg.ipsec ? "path, sec-agree" : "path") != IMS_OK)
        return IMS_ERROR;
    if (!ue->cfg.ipsec)
        return IMS_OK;
    if (sip_msg_header_add(m, "Security-Client", ue->sec_client) != IMS_OK ||
        sip_msg_header_add(m, "Require", "sec-agree") != IMS_OK ||
        sip_msg_header_add(m, "Proxy-Require", "sec-agree") != IMS_OK)
        return IMS_ERROR;
    return IMS_OK;
}

static void send_register(ue_t *ue)
{
    ue_reg_t *r = &ue->reg;
    char ruri[UE_URI_MAX + 8], to[UE_URI_MAX + 4];
    uint32_t expires = r->kind == UE_CMD_DEREGISTER ? 0 : r->expires_req;
    sip_msg_t *m;

    snprintf(ruri, sizeof(ruri), "sip:%s", ue->cfg.domain);
    snprintf(to, sizeof(to), "<%s>", ue->cfg.impu);
    m = ue_request(ue, "REGISTER", ruri, to, r->tag, r->call_id, ++r->cseq);
    if (!m || add_headers(ue, m, expires) != IMS_OK) {
        sip_msg_free(m);
        fail(ue, "cannot build the REGISTER");
        return;
    }
    ue_event(ue, "sent REGISTER cseq=%u expires=%u%s%s", (unsigned)r->cseq, (unsigned)expires,
             ue->protected_up ? " protected" : "", r->mac_failure ? " mac-failure" : "");
    if (!ue_sip_send(ue, m, on_response, ue))
        fail(ue, "cannot send the REGISTER");
}
