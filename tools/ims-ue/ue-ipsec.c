/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-ue: the UE's half of sec-agree with IPsec (RFC 3329; TS 33.203 §7.1,
 * Annex H/I; ims-reference §2), in the UE's own network namespace.
 *
 * We offer our spi_uc/spi_us and port_uc/port_us with every (alg, ealg) pair
 * we take, in Security-Client. The P-CSCF's 401 brings Security-Server (its
 * spi_pc/spi_ps, port_pc/port_ps and the one pair it chose); the keys come
 * from the AKA run's CK/IK (ims_ipsec_keys_derive), and the four SAs are, from
 * the UE's side (the mirror of pcscf/secagree.h):
 *
 *   SA1 UE:port_uc -> P:port_ps  spi_ps  out     SA2 P:port_pc -> UE:port_us  spi_us  in
 *   SA3 P:port_ps -> UE:port_uc  spi_uc  in      SA4 UE:port_us -> P:port_pc  spi_pc  out
 *
 * each with a policy of its direction, tagged with our owner value so that
 * `ip xfrm` shows whose they are. SAs go in before the policies that need
 * them, and come out after them.
 *
 * Re-registration (TS 33.203 §7.4): every REGISTER sent over SAs offers new
 * SPIs and a new port_uc (a new socket; port_us stays, and the P-CSCF keeps
 * its port_ps); when the network challenges it, the 401's Security-Server
 * brings a new set, installed beside the one in use. The answer goes over the
 * new set, and its 2xx retires the old one: calls keep going through the
 * switch, their route sets (the P-CSCF's port_ps) still good. Not challenged,
 * the offer falls back to the SPIs and port in use; a registration that
 * fails after the switch goes back to the set in use.
 *
 * Why the kernel is probed at start: on a kernel without ESP (this project's
 * CI) no SA can be installed, and the registration would stop half-way with
 * the network holding a pending challenge; we say so before sending anything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/ipsec/ipsec_keys.h"
#include "common/ipsec/xfrm.h"
#include "tools/ims-ue/ue.h"

#define UE_XFRM_OWNER 0x494d5545u   /* "IMUE" */
/* Our SPIs: above the P-CSCF's default range, should both ever share a kernel. */
#define UE_SPI_MIN    0x10000000u
#define UE_SPI_SPAN   0x6fffffffu

/* The four SAs and policies of one agreement. */
typedef struct ue_saset {
    ims_xfrm_sa_t sa[4];
    ims_xfrm_policy_t pol[4];
    uint8_t sas, pols;          /* bit i: SA i+1 / its policy installed */
} ue_saset_t;

struct ue_ipsec {
    ims_xfrm_t *x;
    ue_saset_t cur;             /* the newest set: requests go over it */
    ue_saset_t old;             /* the one it replaces, until the new carried a 2xx */
    bool cur_ok;                /* cur carried a REGISTER to its 2xx */
    sip_addr_t old_ps;          /* the P-CSCF's port_ps of old */
};

/* Our port_uc: the new one a re-registration offers, else the one in use. */
static uint16_t offered_uc(const ue_t *ue)
{
    return sip_addr_port(ue->next_c.tp ? &ue->next_c.local : &ue->prot_c.local);
}

static uint32_t random_spi(void)
{
    uint8_t r[16];
    uint32_t v;

    if (ims_aka_rand(r) != IMS_OK)
        abort();
    memcpy(&v, r, sizeof(v));
    return UE_SPI_MIN + v % UE_SPI_SPAN;
}

/* Two new SPIs for our offer, distinct from each other and from those in use. */
static void new_spis(ue_t *ue)
{
    uint32_t uc, us;

    do
        uc = random_spi();
    while (uc == ue->spi_uc || uc == ue->spi_us);
    do
        us = random_spi();
    while (us == uc || us == ue->spi_uc || us == ue->spi_us);
    ue->spi_uc = uc;
    ue->spi_us = us;
}

/* Keep the pairs of our offer that the kernel can do. */
static void probe_pairs(ue_t *ue)
{
    size_t n = 0;

    for (size_t i = 0; i < ue->cfg.nalgs; i++) {
        const sec_agree_pref_t *p = &ue->cfg.algs[i];

        if (ims_xfrm_probe_algs(ue->ipsec->x, p->alg, p->ealg) == IMS_OK)
            ue->cfg.algs[n++] = *p;
        else
            IMS_WARN("ipsec: the kernel cannot do %s + %s: not offered",
                     sec_agree_alg_name(p->alg), sec_agree_ealg_name(p->ealg));
    }
    ue->cfg.nalgs = n;
}

int ue_ipsec_open(ue_t *ue)
{
    ue_ipsec_t *s = calloc(1, sizeof(*s));

    if (!s)
        abort();
    ue->ipsec = s;
    s->x = ims_xfrm_open();
    if (!s->x) {
        ue_event(ue, "ipsec unavailable: cannot open NETLINK_XFRM: %s", strerror(errno));
        return IMS_ERROR;
    }
    if (ims_xfrm_probe_esp(s->x) != IMS_OK) {
        ue_event(ue, "ipsec unavailable: %s", ims_xfrm_error(s->x));
        return IMS_ERROR;
    }
    probe_pairs(ue);
    if (ue->cfg.nalgs == 0) {
        ue_event(ue, "ipsec unavailable: the kernel has none of the algorithms offered");
        return IMS_ERROR;
    }
    new_spis(ue);
    return IMS_OK;
}

int ue_ipsec_client_header(ue_t *ue)
{
    static sec_agree_list_t l;   /* ~7 KB */
    sec_agree_mech_t m;

    sec_agree_list_init(&l);
    for (size_t i = 0; i < ue->cfg.nalgs; i++)
        if (sec_agree_mech_ipsec(&m, ue->cfg.algs[i].alg, ue->cfg.algs[i].ealg, ue->spi_uc,
                                 ue->spi_us, offered_uc(ue), sip_addr_port(&ue->prot_s.local),
                                 SEC_AGREE_Q_NONE) != IMS_OK ||
            sec_agree_list_add(&l, &m) != IMS_OK)
            return IMS_ERROR;
    return sec_agree_format(&l, ue->sec_client, sizeof(ue->sec_client), NULL);
}

/* The first mechanism of the server's list that we offered. */
static const sec_agree_mech_t *choose(const ue_t *ue, const sec_agree_list_t *srv)
{
    for (size_t i = 0; i < srv->count; i++) {
        const sec_agree_mech_t *m = &srv->mech[i];

        if (m->kind != SEC_AGREE_IPSEC_3GPP || !m->prot_esp || !m->mod_trans)
            continue;
        for (size_t j = 0; j < ue->cfg.nalgs; j++)
            if (ue->cfg.algs[j].alg == m->alg && ue->cfg.algs[j].ealg == m->ealg)
                return m;
    }
    return NULL;
}

/* The four SAs and policies, UE side (see the top of the file), for the
 * port_uc offered. */
static void define(ue_t *ue, ue_saset_t *s, const sec_agree_mech_t *m,
                   const ims_xfrm_addr_t *me, const ims_xfrm_addr_t *pc)
{
    const uint16_t uc = offered_uc(ue), us = sip_addr_port(&ue->prot_s.local);
    const struct {
        bool out;
        uint16_t sport, dport;
        uint32_t spi;
    } d[4] = {
        { true, uc, m->port_s, m->spi_s },
        { false, m->port_c, us, ue->spi_us },
        { false, m->port_s, uc, ue->spi_uc },
        { true, us, m->port_c, m->spi_c },
    };

    for (int i = 0; i < 4; i++) {
        ims_xfrm_sa_t *sa = &s->sa[i];

        memset(sa, 0, sizeof(*sa));
        sa->sel.src = d[i].out ? *me : *pc;
        sa->sel.dst = d[i].out ? *pc : *me;
        sa->sel.sport = d[i].sport;
        sa->sel.dport = d[i].dport;
        sa->sel.owner = UE_XFRM_OWNER;
        sa->spi = d[i].spi;
        sa->reqid = ue->spi_uc;
        memset(&s->pol[i], 0, sizeof(s->pol[i]));
        s->pol[i].sel = sa->sel;
        s->pol[i].dir = d[i].out ? IMS_XFRM_DIR_OUT : IMS_XFRM_DIR_IN;
        s->pol[i].reqid = sa->reqid;
    }
}

static void uninstall(ims_xfrm_t *x, ue_saset_t *s)
{
    for (int i = 0; i < 4; i++) {
        if ((s->pols & (1u << i)) && ims_xfrm_policy_del(x, &s->pol[i]) == IMS_ERROR)
            IMS_WARN("ipsec: %s", ims_xfrm_error(x));
        if ((s->sas & (1u << i)) &&
            ims_xfrm_sa_del(x, &s->sa[i].sel.dst, s->sa[i].spi) == IMS_ERROR)
            IMS_WARN("ipsec: %s", ims_xfrm_error(x));
    }
    memset(s, 0, sizeof(*s));
}

static int install(ue_t *ue, ue_saset_t *s, const ims_ipsec_keys_t *keys)
{
    ims_xfrm_t *x = ue->ipsec->x;

    for (int i = 0; i < 4; i++) {
        if (ims_xfrm_sa_add(x, &s->sa[i], keys) != IMS_OK) {
            ue_event(ue, "ipsec failed: SA%d (spi %u) not installed: %s", i + 1,
                     (unsigned)s->sa[i].spi, ims_xfrm_error(x));
            return IMS_ERROR;
        }
        s->sas |= (uint8_t)(1u << i);
    }
    for (int i = 0; i < 4; i++) {
        if (ims_xfrm_policy_add(x, &s->pol[i]) != IMS_OK) {
            ue_event(ue, "ipsec failed: policy of SA%d not installed: %s", i + 1,
                     ims_xfrm_error(x));
            return IMS_ERROR;
        }
        s->pols |= (uint8_t)(1u << i);
    }
    return IMS_OK;
}

/* Our address toward the P-CSCF and its own, for the selectors. */
static int addresses(ue_t *ue, ims_xfrm_addr_t *me, ims_xfrm_addr_t *pc)
{
    if (ims_xfrm_addr_from_sockaddr(me, (const struct sockaddr *)&ue->prot_c.local.ss, NULL) !=
            IMS_OK ||
        ims_xfrm_addr_from_sockaddr(pc, (const struct sockaddr *)&ue->cfg.pcscf.ss, NULL) !=
            IMS_OK)
        return IMS_ERROR;
    return IMS_OK;
}

/* The new set in cur (the one in use, if any, kept in old). IMS_OK, or
 * IMS_ERROR with the set in use back in cur. */
static int install_new(ue_t *ue, const sec_agree_mech_t *m, const ims_ipsec_keys_t *keys)
{
    ue_ipsec_t *s = ue->ipsec;
    ims_xfrm_addr_t me, pc;

    if (addresses(ue, &me, &pc) != IMS_OK)
        return IMS_ERROR;
    if (s->cur_ok) {
        uninstall(s->x, &s->old);
        s->old = s->cur;
        memset(&s->cur, 0, sizeof(s->cur));
    } else {
        /* never confirmed (a challenge repeated, e.g. for resynchronisation):
         * the P-CSCF dropped that set, and the offer's SPIs are the same */
        uninstall(s->x, &s->cur);
    }
    s->cur_ok = false;
    define(ue, &s->cur, m, &me, &pc);
    if (install(ue, &s->cur, keys) == IMS_OK)
        return IMS_OK;
    uninstall(s->x, &s->cur);
    if (s->old.sas) {
        s->cur = s->old;
        s->cur_ok = true;
        memset(&s->old, 0, sizeof(s->old));
    }
    return IMS_ERROR;
}

/* Security-Verify: the whole Security-Server list; --bad-verify spoils one SPI. */
static int make_verify(ue_t *ue, sec_agree_list_t *srv)
{
    if (ue->cfg.bad_verify)
        srv->mech[0].spi_s ^= 1u;
    return sec_agree_format(srv, ue->sec_verify, sizeof(ue->sec_verify), NULL);
}

static int take_server(ue_t *ue, const sip_msg_t *resp, const uint8_t ck[16],
                       const uint8_t ik[16], sec_agree_list_t *srv)
{
    const char *reason = NULL;
    const sec_agree_mech_t *m;
    ims_ipsec_keys_t keys;
    sec_agree_mech_t chosen;
    bool rotated = ue->protected_up;
    bool replaces = rotated && ue->ipsec->cur_ok;   /* cur becomes old */
    int rc;

    rc = sec_agree_parse_msg(srv, resp, "Security-Server", &reason);
    if (rc != IMS_OK) {
        ue_event(ue, "ipsec failed: %s", rc == IMS_DECLINED
                     ? "the 401 has no Security-Server (no sec-agree at the P-CSCF)"
                     : reason ? reason : "malformed Security-Server");
        return IMS_ERROR;
    }
    m = choose(ue, srv);
    if (!m) {
        ue_event(ue, "ipsec failed: no mechanism of the Security-Server was offered");
        return IMS_ERROR;
    }
    chosen = *m;
    if (ims_ipsec_keys_derive(m->alg, m->ealg, ck, ik, &keys) != IMS_OK) {
        ue_event(ue, "ipsec failed: cannot take the Security-Server");
        return IMS_ERROR;
    }
    rc = install_new(ue, m, &keys);
    explicit_bzero(&keys, sizeof(keys));
    if (rc != IMS_OK || make_verify(ue, srv) != IMS_OK)
        return IMS_ERROR;
    ue_sip_switch_client(ue);   /* requests leave from the new port_uc */
    if (replaces)
        ue->ipsec->old_ps = ue->pcscf_ps;
    ue->pcscf_ps = ue->cfg.pcscf;
    if (ue->pcscf_ps.ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ue->pcscf_ps.ss)->sin_port = htons(chosen.port_s);
    else
        ((struct sockaddr_in6 *)&ue->pcscf_ps.ss)->sin6_port = htons(chosen.port_s);
    ue->protected_up = true;
    ue->prev_spi_uc = ue->spi_uc;
    ue->prev_spi_us = ue->spi_us;
    ue_event(ue, "ipsec %s alg=%s ealg=%s spi-uc=%u spi-us=%u port-uc=%u port-us=%u "
                 "spi-pc=%u spi-ps=%u port-pc=%u port-ps=%u", rotated ? "rotated" : "up",
             sec_agree_alg_name(chosen.alg), sec_agree_ealg_name(chosen.ealg),
             (unsigned)ue->spi_uc, (unsigned)ue->spi_us,
             (unsigned)sip_addr_port(&ue->prot_c.local),
             (unsigned)sip_addr_port(&ue->prot_s.local), (unsigned)chosen.spi_c,
             (unsigned)chosen.spi_s, (unsigned)chosen.port_c, (unsigned)chosen.port_s);
    return IMS_OK;
}

int ue_ipsec_on_challenge(ue_t *ue, const sip_msg_t *resp, const uint8_t ck[16],
                          const uint8_t ik[16])
{
    sec_agree_list_t *srv = malloc(sizeof(*srv));
    int rc;

    if (!srv)
        abort();
    rc = take_server(ue, resp, ck, ik, srv);
    free(srv);
    return rc;
}

int ue_ipsec_new_offer(ue_t *ue)
{
    if (ue_sip_open_next(ue) != IMS_OK)
        return IMS_ERROR;
    ue->prev_spi_uc = ue->spi_uc;
    ue->prev_spi_us = ue->spi_us;
    new_spis(ue);
    return ue_ipsec_client_header(ue);
}

/* The new set never carried a 2xx: back to the one in use (the P-CSCF keeps
 * it while the new one is dropped or waits in vain). */
static void revert(ue_t *ue)
{
    ue_ipsec_t *s = ue->ipsec;

    uninstall(s->x, &s->cur);
    s->cur = s->old;
    s->cur_ok = true;
    memset(&s->old, 0, sizeof(s->old));
    ue->pcscf_ps = s->old_ps;
    ue->spi_uc = ue->prev_spi_uc = s->cur.sa[2].spi;
    ue->spi_us = ue->prev_spi_us = s->cur.sa[1].spi;
    ue_sip_revert_client(ue);
    ue_event(ue, "ipsec back to the SAs in use spi-uc=%u spi-us=%u port-uc=%u",
             (unsigned)ue->spi_uc, (unsigned)ue->spi_us,
             (unsigned)sip_addr_port(&ue->prot_c.local));
}

void ue_ipsec_keep_offer(ue_t *ue)
{
    ue_ipsec_t *s = ue->ipsec;
    bool next = ue->next_c.tp != NULL;

    ue_sip_drop_next(ue);
    if (s && !s->cur_ok && s->old.sas) {
        revert(ue);
    } else if (ue->spi_uc != ue->prev_spi_uc || ue->spi_us != ue->prev_spi_us || next) {
        ue->spi_uc = ue->prev_spi_uc;
        ue->spi_us = ue->prev_spi_us;
    } else {
        return;
    }
    if (ue_ipsec_client_header(ue) != IMS_OK)
        IMS_WARN("ipsec: cannot rebuild Security-Client");
}

void ue_ipsec_retire_old(ue_t *ue)
{
    ue_ipsec_t *s = ue->ipsec;

    if (!s || !ue->protected_up)
        return;
    s->cur_ok = true;
    ue_sip_confirm_client(ue);
    if (!s->old.sas)
        return;
    ue_event(ue, "ipsec old SAs removed spi-uc=%u spi-us=%u", (unsigned)s->old.sa[2].spi,
             (unsigned)s->old.sa[1].spi);
    uninstall(s->x, &s->old);
}

void ue_ipsec_close(ue_t *ue)
{
    ue_ipsec_t *s = ue->ipsec;

    if (!s)
        return;
    if (s->x) {
        uninstall(s->x, &s->old);
        uninstall(s->x, &s->cur);
        ims_xfrm_close(s->x);
    }
    free(s);
    ue->ipsec = NULL;
}
