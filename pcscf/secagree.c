/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sec-agree sets of the P-CSCF: see secagree.h for the life of a set.
 *
 * Why sets are found by "UE-IP:port_uc": after the 401 every request of the
 * UE comes from its protected client port to our protected server port
 * (TS 33.203 §7.1; ims-reference §2.3), so the source address names the
 * set, and the local port proves the request came over its SA: the
 * kernel's IN policy for that pair of ports drops anything not ESP-protected
 * with the set's SPI. A re-registration that is challenged again makes a new
 * set; if the UE kept its port_uc the new set takes the key and the old one
 * hangs off it (old) until the new one has carried a REGISTER to its 2xx. A
 * UE that offers a new port_uc, as TS 33.203 §7.4 asks, gets a set under the
 * new key that keeps our port_ps (secagree-rotate.c) and links the old one,
 * which keeps its own key until then.
 *
 * Why a superseded PENDING set goes at once instead of lingering: the UE
 * answers only the newest 401, and keeps its own SPIs across a challenge
 * repeated for resynchronisation, so the old set's OUT SAs (dst UE, spi_uc /
 * spi_us) would collide with the new ones.
 */
#include "pcscf/secagree-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ipsec/ipsec_keys.h"
#include "pcscf/diagnose.h"
#include "pcscf/headers.h"

/* ---- the kernel side ---- */

static int real_sa_add(void *arg, ims_xfrm_t *x, const ims_xfrm_sa_t *sa,
                       const ims_ipsec_keys_t *keys)
{
    return ims_xfrm_sa_add(x, sa, keys);
}

static int real_sa_del(void *arg, ims_xfrm_t *x, const ims_xfrm_addr_t *dst, uint32_t spi)
{
    return ims_xfrm_sa_del(x, dst, spi);
}

/* ---- lookups ---- */

static void addr_key(const sip_addr_t *a, char *buf, size_t len)
{
    if (!sip_addr_str(a, buf, len))
        buf[0] = '\0';
}

static void req_key(const sip_proxy_req_t *pr, char *buf, size_t len)
{
    snprintf(buf, len, "r:%llu", (unsigned long long)sip_proxy_req_id(pr));
}

/* The PENDING or ACTIVE set whose protected server port rcv arrived on from
 * the set's UE-IP:port_uc (the set under that key, or one it replaces). */
static pcscf_sec_set_t *protected_set(const pcscf_secagree_t *s, const sip_rcv_t *rcv)
{
    char key[PCSCF_KEY_LEN];
    uint16_t lport = sip_addr_port(&rcv->local);
    pcscf_sec_set_t *t;

    addr_key(&rcv->remote, key, sizeof(key));
    for (t = ims_hash_find(s->sets, key); t; t = t->old)
        if ((t->state == PCSCF_SEC_PENDING || t->state == PCSCF_SEC_ACTIVE) &&
            t->port_ps == lport)
            return t;
    return NULL;
}

void pcscf_sec_client_port(const pcscf_ctx_t *ctx, sip_dest_t *dst)
{
    char key[PCSCF_KEY_LEN];
    pcscf_sec_set_t *t;

    if (!ctx->sec || (dst->proto != SIP_PROTO_UDP && dst->proto != SIP_PROTO_TCP))
        return;
    addr_key(&dst->addr, key, sizeof(key));
    if ((t = ims_hash_find(ctx->sec->by_us, key)) != NULL)
        pcscf_sec_sip_addr(&t->us, t->port_pc, &dst->local);
}

bool pcscf_sec_protected(const pcscf_ctx_t *ctx, const sip_rcv_t *rcv)
{
    return ctx->sec && protected_set(ctx->sec, rcv) != NULL;
}

/* ---- the REGISTER ---- */

/* Security-Server of t as one header value. */
static int server_text(const pcscf_sec_set_t *t, char *buf, size_t len)
{
    sec_agree_list_t *l = calloc(1, sizeof(*l));
    sec_agree_mech_t m;
    int rc = IMS_ERROR;

    if (!l)
        abort();
    if (sec_agree_mech_ipsec(&m, t->alg, t->ealg, t->spi_pc, t->spi_ps, t->port_pc, t->port_ps,
                             SEC_AGREE_Q_NONE) == IMS_OK &&
        sec_agree_list_add(l, &m) == IMS_OK)
        rc = sec_agree_format(l, buf, len, NULL);
    free(l);
    return rc;
}

/* RFC 3329 §2.3.1: the 494 lists what we would accept (no SPIs or ports yet:
 * nothing is set up for a UE we cannot agree with). */
static void reply_494(pcscf_secagree_t *s, sip_proxy_req_t *pr)
{
    const sip_msg_t *req = sip_proxy_req_msg(pr);
    sip_msg_t *r = sip_msg_make_response(req, 494, "Security Agreement Required", NULL);
    char text[PCSCF_SEC_MAX_PREFS * 80] = "";
    size_t n = 0;

    for (size_t i = 0; i < s->cfg.nprefs && n < sizeof(text); i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%sipsec-3gpp;alg=%s;ealg=%s;"
                              "prot=esp;mod=trans", i ? ", " : "",
                              sec_agree_alg_name(s->cfg.prefs[i].alg),
                              sec_agree_ealg_name(s->cfg.prefs[i].ealg));
    if (!r || (text[0] && sip_msg_header_add(r, "Security-Server", text) != IMS_OK) ||
        sip_proxy_reply_msg(pr, r) != IMS_OK) {
        sip_msg_free(r);
        sip_proxy_reply(pr, 494, "Security Agreement Required");
    }
}

static bool requires_sec_agree(const sip_msg_t *req)
{
    return pcscf_hdr_has_tag(req, "Require", "sec-agree") ||
           pcscf_hdr_has_tag(req, "Proxy-Require", "sec-agree");
}

/*
 * Remember the Security-Client offer of req for the 401. IMS_OK (kept, or
 * nothing to keep), IMS_DONE (answered 494, or 503 when too many offers wait:
 * each costs memory until its 401 or Timer F, and anyone can send one).
 */
static int remember_offer(pcscf_secagree_t *s, sip_proxy_req_t *pr, const sip_msg_t *req,
                          const sec_agree_list_t *offer)
{
    char key[PCSCF_KEY_LEN];
    const sec_agree_mech_t *m;
    pcscf_sec_set_t *t;
    size_t i;

    if (sec_agree_select(offer, s->cfg.prefs, s->cfg.nprefs, &i) != IMS_OK) {
        if (!requires_sec_agree(req))
            return IMS_OK;  /* it may register without IPsec (ims-reference §9.2) */
        s->stats.refused_494++;
        IMS_NOTICE("sec-agree: no acceptable mechanism offered: 494");
        reply_494(s, pr);
        return IMS_DONE;
    }
    if (s->count[PCSCF_SEC_OFFERED] >= PCSCF_SEC_MAX_OFFERS) {
        IMS_WARN("sec-agree: %u offers wait for their 401: REGISTER refused (503)",
                 PCSCF_SEC_MAX_OFFERS);
        sip_proxy_reply(pr, 503, NULL);
        return IMS_DONE;
    }
    m = &offer->mech[i];
    t = pcscf_sec_set_new(s);
    if (ims_xfrm_addr_from_sockaddr(&t->ue, (const struct sockaddr *)&req->rcv.remote.ss,
                                    NULL) != IMS_OK ||
        ims_xfrm_addr_from_sockaddr(&t->us, (const struct sockaddr *)&req->rcv.local.ss,
                                    NULL) != IMS_OK) {
        pcscf_sec_set_destroy(t);
        return IMS_OK;      /* no addresses (a message not from a socket): no IPsec */
    }
    t->alg = m->alg;
    t->ealg = m->ealg;
    t->spi_uc = m->spi_c;
    t->spi_us = m->spi_s;
    t->port_uc = m->port_c;
    t->port_us = m->port_s;
    req_key(pr, key, sizeof(key));
    pcscf_sec_set_index(t, key);
    s->stats.offers++;
    pcscf_sec_set_arm(t, PCSCF_SEC_OFFER_MS);
    return IMS_OK;
}

/* TS 33.203 §7.2: over the SA, Security-Verify must equal our Security-Server,
 * and (before the 2xx) Security-Client must still hold the chosen mechanism. */
static bool verify_ok(const pcscf_sec_set_t *t, const sip_msg_t *req,
                      const sec_agree_list_t *client, sec_agree_list_t *l)
{
    sec_agree_list_t server;
    sec_agree_mech_t m;

    if (sec_agree_parse_msg(l, req, "Security-Verify", NULL) != IMS_OK)
        return false;
    sec_agree_list_init(&server);
    if (sec_agree_mech_ipsec(&m, t->alg, t->ealg, t->spi_pc, t->spi_ps, t->port_pc, t->port_ps,
                             SEC_AGREE_Q_NONE) != IMS_OK ||
        sec_agree_list_add(&server, &m) != IMS_OK || !sec_agree_verify(l, &server))
        return false;
    if (t->state != PCSCF_SEC_PENDING || !client)
        return true;
    for (size_t i = 0; i < client->count; i++) {
        const sec_agree_mech_t *c = &client->mech[i];

        if (c->kind == SEC_AGREE_IPSEC_3GPP && c->alg == t->alg && c->ealg == t->ealg &&
            c->spi_c == t->spi_uc && c->spi_s == t->spi_us && c->port_c == t->port_uc &&
            c->port_s == t->port_us)
            return true;
    }
    return false;
}

/* For imsctl diagnose (diagnose.h): the REGISTER over t's SAs. */
static void diag(pcscf_ctx_t *ctx, const sip_msg_t *req, int kind, uint32_t code,
                 const pcscf_sec_set_t *t)
{
    char d[96];

    if (!ctx->diag_hooks)
        return;
    snprintf(d, sizeof(d), "on port %u, SAs spi-c %u spi-s %u", t->port_ps, t->spi_pc,
             t->spi_ps);
    ctx->diag_hooks->reg(ctx, req, kind, code, d);
}

int pcscf_sec_register(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, const sip_msg_t *req,
                       bool *protect)
{
    pcscf_secagree_t *s = ctx->sec;
    sec_agree_list_t *offer, *scratch;
    const char *reason = "Bad Security-Client";
    pcscf_sec_set_t *t;
    int rc, has;

    *protect = false;
    if (!s)
        return IMS_OK;
    offer = malloc(2 * sizeof(*offer));
    if (!offer)
        abort();
    scratch = offer + 1;
    has = sec_agree_parse_msg(offer, req, "Security-Client", &reason);
    if (has == IMS_ERROR) {
        s->stats.malformed++;
        IMS_NOTICE("sec-agree: REGISTER refused: %s", reason);
        sip_proxy_reply(pr, 400, reason);
        free(offer);
        return IMS_DONE;
    }
    if ((t = protected_set(s, &req->rcv)) != NULL) {
        if (!verify_ok(t, req, has == IMS_OK ? offer : NULL, scratch)) {
            s->stats.verify_failed++;
            IMS_NOTICE("sec-agree: REGISTER over SAs spi %u/%u: Security-Verify or"
                       " Security-Client differs from what was agreed: 403", t->spi_pc,
                       t->spi_ps);
            sip_proxy_reply(pr, 403, "Forbidden - Security Agreement Mismatch");
            diag(ctx, req, PCSCF_DIAG_VERIFY_MISMATCH, 403, t);
            if (t->state == PCSCF_SEC_PENDING)
                pcscf_sec_set_drop(t);  /* TS 33.203 §7.2: the registration is aborted */
            free(offer);
            return IMS_DONE;
        }
        *protect = true;
        diag(ctx, req, PCSCF_DIAG_PROTECTED, 0, t);
    }
    rc = has == IMS_OK ? remember_offer(s, pr, req, offer) : IMS_OK;
    free(offer);
    return rc;
}

/* The 401 becomes a 500 for the UE: no SAs, no challenge it could answer. */
static void fail_401(sip_msg_t *resp)
{
    osip_www_authenticate_t *w;

    osip_message_set_status_code(resp->m, 500);
    osip_free(resp->m->reason_phrase);
    resp->m->reason_phrase = osip_strdup("Server Internal Error");
    sip_msg_header_remove(resp, "WWW-Authenticate");
    while ((w = osip_list_get(&resp->m->www_authenticates, 0)) != NULL) {
        osip_list_remove(&resp->m->www_authenticates, 0);
        osip_www_authenticate_free(w);
    }
    osip_message_force_update(resp->m);
    sip_msg_mark_edited(resp);
}

/* Our SPIs and ports, the keys, the kernel. IMS_OK or IMS_ERROR (logged). */
static int set_up(pcscf_sec_set_t *t, const uint8_t ck[16], const uint8_t ik[16])
{
    pcscf_secagree_t *s = t->s;
    int rc;

    if (ipsec_alloc_spi_pair(s->alloc, &t->spi_pc, &t->spi_ps) != IMS_OK) {
        IMS_ERR("sec-agree: no free SPI pair in pcscf.ipsec.spi_min..spi_max");
        return IMS_ERROR;
    }
    if (pcscf_sec_alloc_ports(t) != IMS_OK) {
        ipsec_alloc_release_spi_pair(s->alloc, t->spi_pc, t->spi_ps);
        return IMS_ERROR;
    }
    t->ids = true;
    memcpy(t->ck, ck, sizeof(t->ck));
    memcpy(t->ik, ik, sizeof(t->ik));
    t->have_keys = true;
    rc = pcscf_sec_set_install(t, false);
    if (rc != IMS_OK)
        IMS_ERR("sec-agree: installing SAs spi %u/%u failed: %s", t->spi_pc, t->spi_ps,
                ims_xfrm_error(s->x));
    return rc;
}

/* Where the second REGISTER will come from: "UE-IP:port_uc". */
static void protected_key(const sip_proxy_req_t *pr, const pcscf_sec_set_t *t, char *buf,
                          size_t len)
{
    sip_addr_t a = sip_proxy_req_msg(pr)->rcv.remote;

    if (a.ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a.ss)->sin6_port = htons(t->port_uc);
    else
        ((struct sockaddr_in *)&a.ss)->sin_port = htons(t->port_uc);
    addr_key(&a, buf, len);
}

/*
 * Which set t (to be indexed under key) replaces. The REGISTER came over prev
 * (NULL: unprotected): t keeps its port_ps (secagree-rotate.c). A PENDING set
 * under key is superseded at once (see the top of this file), what it
 * replaced stays; an ACTIVE one there is returned, replaced once t is up;
 * with none there, prev under its own key (a new port_uc) is linked now.
 */
static pcscf_sec_set_t *replaces(pcscf_sec_set_t *t, pcscf_sec_set_t *prev, const char *key)
{
    pcscf_sec_set_t *cur = ims_hash_find(t->s->sets, key);

    snprintf(t->key, sizeof(t->key), "%s", key);    /* not indexed yet */
    pcscf_sec_keep_ps(t, prev);     /* held before cur can let go of it */
    if (cur && cur->state == PCSCF_SEC_PENDING) {
        pcscf_sec_link_old(t, pcscf_sec_unlink_chain(cur));
        pcscf_sec_set_destroy(cur);
        return NULL;
    }
    if (!cur)
        pcscf_sec_replace_moved(t, prev);
    return cur;
}

int pcscf_sec_challenge(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    pcscf_secagree_t *s = ctx->sec;
    char key[PCSCF_KEY_LEN], text[SEC_AGREE_TEXT_MAX / SEC_AGREE_MAX_MECHS];
    uint8_t ck[16], ik[16];
    pcscf_sec_set_t *t, *cur;
    int rc;

    req_key(pr, key, sizeof(key));
    if (!s || !(t = ims_hash_find(s->sets, key)))
        return IMS_DECLINED;
    pcscf_sec_set_unindex(t);
    if (pcscf_sec_challenge_keys(resp, ck, ik) != IMS_OK) {
        IMS_NOTICE("sec-agree: 401 without ck/ik: no SAs for this UE");
        pcscf_sec_set_destroy(t);
        return IMS_DECLINED;
    }
    protected_key(pr, t, key, sizeof(key));
    cur = replaces(t, protected_set(s, &sip_proxy_req_msg(pr)->rcv), key);
    rc = set_up(t, ck, ik);
    explicit_bzero(ck, sizeof(ck));
    explicit_bzero(ik, sizeof(ik));
    if (rc == IMS_OK)
        rc = server_text(t, text, sizeof(text));
    if (rc == IMS_OK && sip_msg_header_add(resp, "Security-Server", text) != IMS_OK)
        rc = IMS_ERROR;
    if (rc != IMS_OK) {
        s->stats.install_failed++;
        pcscf_sec_set_drop(t);     /* the registration it had goes on */
        fail_401(resp);
        return IMS_ERROR;
    }
    if (cur) {
        pcscf_sec_set_unindex(cur);     /* in use until t carries a REGISTER */
        pcscf_sec_link_old(t, cur);
    }
    pcscf_sec_set_index(t, key);
    s->stats.installed++;
    pcscf_sec_set_state(t, PCSCF_SEC_PENDING, s->cfg.await_ms);
    IMS_INFO("sec-agree: SAs for %s installed: %s", key, text);
    return IMS_OK;
}

/* The journal's entry of the set old, of the UE that moves to ue_key. */
static void forget_moved(pcscf_ctx_t *ctx, const char *ue_key, const pcscf_sec_set_t *old)
{
    char k[PCSCF_KEY_LEN + 2];

    snprintf(k, sizeof(k), "%.2s%s", ue_key, old->key);
    pcscf_sec_store_forget(ctx, k);
}

void pcscf_sec_register_ok(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, bool registered,
                           uint32_t expires)
{
    pcscf_secagree_t *s = ctx->sec;
    const sip_msg_t *req = sip_proxy_req_msg(pr);
    char key[PCSCF_KEY_LEN];
    pcscf_sec_set_t *t, *old;
    pcscf_ue_t *ue;

    if (!s || !req)
        return;
    req_key(pr, key, sizeof(key));
    if ((t = ims_hash_find(s->sets, key)) != NULL)
        pcscf_sec_set_destroy(t);         /* not challenged: the offer goes unused (§9.10) */
    if (!(t = protected_set(s, &req->rcv)))
        return;
    pcscf_addr_key(&req->rcv, key, sizeof(key));
    if ((old = pcscf_sec_moved(t)) != NULL) {
        /* a new port_uc: the UE's record moves to it (in pcscf_ue_store, or
         * here for a de-registration, which looks for it there) */
        forget_moved(ctx, key, old);
        if (!registered)
            pcscf_ue_moved(ctx, key);
    }
    if (!registered) {
        pcscf_sec_set_retire(t);
        return;
    }
    if (t->state == PCSCF_SEC_PENDING) {
        s->stats.verified++;
        IMS_INFO("sec-agree: SAs spi %u/%u in use", t->spi_pc, t->spi_ps);
    }
    if (t->old)
        pcscf_sec_set_retire(t->old);     /* the new set carried a REGISTER (TS 33.203 §7.4) */
    if ((ue = pcscf_ue_find_addr(ctx, key)) != NULL) {
        ue->ipsec = true;       /* from now on its requests come over the SAs only */
        pcscf_sec_store_save(ctx, t, key, expires);
    }
    /* Its UE's end removes it (context UE-gone hook); this is the safety net. */
    pcscf_sec_set_state(t, PCSCF_SEC_ACTIVE, (uint64_t)expires * 1000 + s->cfg.await_ms);
}

/* The context's UE-gone hook: a registration ended (de-registration after its
 * 2xx was handed to the transaction, expiry, reg-event): its sets retire. */
static void sec_ue_gone(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    const char *key = pcscf_ue_key(ue);
    pcscf_sec_set_t *t;

    if (!ctx->sec || strlen(key) < 3)
        return;
    pcscf_sec_store_forget(ctx, key);
    if ((t = ims_hash_find(ctx->sec->sets, key + 2)) != NULL)
        pcscf_sec_set_retire(t);
}

static void sec_free_hook(pcscf_ctx_t *ctx)
{
    pcscf_secagree_free(ctx->sec);
    ctx->sec = NULL;
    ctx->sec_hooks = NULL;
}

static const pcscf_sec_hooks_t g_sec_hooks = {
    .on_register = pcscf_sec_register,
    .on_challenge = pcscf_sec_challenge,
    .on_register_ok = pcscf_sec_register_ok,
    .ue_gone = sec_ue_gone,
    .free = sec_free_hook,
    .is_protected = pcscf_sec_protected,
    .client_port = pcscf_sec_client_port,
    .moved_from = pcscf_sec_moved_from,
};

/* ---- the object ---- */

pcscf_secagree_t *pcscf_secagree_new(ims_loop_t *loop, const pcscf_sec_cfg_t *cfg,
                                     ims_xfrm_t *x)
{
    pcscf_secagree_t *s = calloc(1, sizeof(*s));

    if (!s)
        abort();
    s->cfg = *cfg;
    s->loop = loop;
    s->x = x;
    s->ops.sa_add = real_sa_add;
    s->ops.sa_del = real_sa_del;
    s->alloc = ipsec_alloc_new(cfg->spi_min, cfg->spi_max, cfg->port_min, cfg->port_max);
    s->sets = ims_hash_new(1024);
    s->by_us = ims_hash_new(1024);
    s->by_in = ims_hash_new(1024);
    if (!s->alloc || !s->sets || !s->by_us || !s->by_in) {
        pcscf_secagree_free(s);
        return NULL;
    }
    ims_timer_init(&s->start_timer);
    return s;
}

static void sec_on_start(ims_loop_t *loop, ims_timer_t *tm, void *arg)
{
    pcscf_sec_store_restore(arg);
}

void pcscf_sec_attach(pcscf_ctx_t *ctx, pcscf_secagree_t *s)
{
    ctx->sec = s;
    ctx->sec_hooks = &g_sec_hooks;
    s->ctx = ctx;
    /* The journal's UEs are restored after us (pcscf_store_start): their sets
     * come back, and what is left of ours is swept, at the loop's first turn. */
    if (s->loop)
        ims_timer_start(s->loop, &s->start_timer, 0, sec_on_start, s);
    else
        pcscf_sec_store_restore(s);
}

void pcscf_secagree_free(pcscf_secagree_t *s)
{
    if (!s)
        return;
    if (s->loop)
        ims_timer_stop(s->loop, &s->start_timer);
    /* The store keeps the registered UEs for our next start: their SAs stay in
     * the kernel with them (only the ports close, with us). */
    for (pcscf_sec_set_t *t = s->all; s->persist && t; t = t->next)
        if (t->state == PCSCF_SEC_ACTIVE)
            t->sas = t->pols = 0;
    while (s->all)
        pcscf_sec_set_destroy(s->all);
    ims_hash_free(s->sets);
    ims_hash_free(s->by_us);
    ims_hash_free(s->by_in);
    ipsec_alloc_free(s->alloc);
    ims_xfrm_close(s->x);
    free(s);
}

void pcscf_secagree_set_transport(pcscf_secagree_t *s, sip_transport_t *tp)
{
    s->tp = tp;
}

void pcscf_secagree_set_ops(pcscf_secagree_t *s, const pcscf_sec_ops_t *ops, void *arg)
{
    s->ops = *ops;
    s->ops_arg = arg;
}

const pcscf_sec_stats_t *pcscf_secagree_stats(const pcscf_secagree_t *s)
{
    return &s->stats;
}

const ipsec_alloc_t *pcscf_secagree_alloc(const pcscf_secagree_t *s)
{
    return s->alloc;
}

size_t pcscf_secagree_count(const pcscf_secagree_t *s, pcscf_sec_state_t state)
{
    return (unsigned)state <= PCSCF_SEC_RETIRING ? s->count[state] : 0;
}

bool pcscf_secagree_info(const pcscf_secagree_t *s, uint32_t spi_ps, pcscf_sec_info_t *out)
{
    for (const pcscf_sec_set_t *t = s->all; t; t = t->next) {
        if (!t->ids || t->spi_ps != spi_ps)
            continue;
        out->state = t->state;
        out->alg = t->alg;
        out->ealg = t->ealg;
        out->age_ms = ims_clock_now_ms() - t->created_ms;
        return true;
    }
    return false;
}
