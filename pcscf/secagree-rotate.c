/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Re-registration over SAs: the new set keeps our protected server port
 * (TS 33.203 §7.4; Kamailio's ims_ipsec_pcscf calls it ipsec_reuse_server_port).
 *
 * Why: the UE's dialogs Record-Routed P-CSCF:port_ps, and its later requests
 * in them name that port. A new port_ps per re-registration would close the
 * old one retire_ms after the rotation, and every in-dialog request after
 * that would fail. So a re-registration's set gets new SPIs and a new
 * port_pc, and holds the same port_ps as the set it replaces; the UE, as
 * TS 33.203 §7.4 asks, keeps its port_us and offers a new port_uc.
 *
 * Why the kernel takes both sets at once: SAs are found by (destination,
 * SPI), and all four SPIs are new. The policies are found by selector; with
 * port_ps shared, SA1 (UE:port_uc -> P:port_ps, in) and SA3 (P:port_ps ->
 * UE:port_uc, out) of the two sets still differ by the new port_uc, SA2 and
 * SA4 by the new port_pc. A UE that keeps its port_uc would make SA1 and SA3
 * clash, and so would one reusing the port_uc of a set still retiring: such
 * a set gets a new port pair instead, as before (by_in finds the clash).
 *
 * The port_ps is held by each set using it (ipsec_alloc_port_hold) and its
 * listeners close when the last holder lets go; the new set takes its hold
 * before a set it supersedes can let go, so they never close in between.
 *
 * The UE's new port_uc is a new address: the P-CSCF knows a UE by where its
 * requests come from (pcscf/context.h). The set waiting for the answer to
 * the 401 links the one it replaces (old) while that one keeps its own key,
 * so that the UE is heard from both until the switch. When the REGISTER over
 * the new set gets its 2xx, the UE's record follows (pcscf_ue_moved, asked
 * through the moved_from hook), its journal entries with it, and the old set
 * retires: responses over it still go out until retire_ms.
 */
#include "pcscf/secagree-int.h"

#include <stdio.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"

pcscf_sec_set_t *pcscf_sec_moved(const pcscf_sec_set_t *t)
{
    pcscf_sec_set_t *o = t->old;

    return o && o->indexed && strcmp(o->key, t->key) != 0 ? o : NULL;
}

bool pcscf_sec_moved_from(const pcscf_ctx_t *ctx, const char *key, char *old, size_t len)
{
    const pcscf_sec_set_t *t, *o;

    if (!ctx->sec || strlen(key) < 3 || !(t = ims_hash_find(ctx->sec->sets, key + 2)) ||
        t->state != PCSCF_SEC_PENDING || !(o = pcscf_sec_moved(t)))
        return false;
    snprintf(old, len, "%.2s%s", key, o->key);
    return true;
}

/* ---- the port_ps kept ---- */

static bool in_key(const ims_xfrm_addr_t *ue, uint16_t uc, uint16_t ps, char *buf, size_t len)
{
    sip_addr_t a;
    size_t n;

    if (!pcscf_sec_sip_addr(ue, uc, &a) || !sip_addr_str(&a, buf, len))
        return false;
    n = strlen(buf);
    return (size_t)snprintf(buf + n, len - n, ">%u", ps) < len - n;
}

void pcscf_sec_index_in(pcscf_sec_set_t *t)
{
    if (t->in_indexed || !in_key(&t->ue, t->port_uc, t->port_ps, t->in_key, sizeof(t->in_key)))
        return;
    t->in_indexed = ims_hash_insert(t->s->by_in, t->in_key, t) == IMS_OK;
}

void pcscf_sec_unindex_in(pcscf_sec_set_t *t)
{
    if (t->in_indexed && ims_hash_find(t->s->by_in, t->in_key) == t)
        ims_hash_remove(t->s->by_in, t->in_key);
    t->in_indexed = false;
}

void pcscf_sec_keep_ps(pcscf_sec_set_t *t, const pcscf_sec_set_t *prev)
{
    if (!prev || !prev->ids || !ims_xfrm_addr_equal(&prev->us, &t->us) ||
        !ims_xfrm_addr_equal(&prev->ue, &t->ue) ||
        ipsec_alloc_port_hold(t->s->alloc, prev->port_ps) != IMS_OK)
        return;
    t->port_ps = prev->port_ps;
    t->ps_held = true;
}

void pcscf_sec_replace_moved(pcscf_sec_set_t *t, pcscf_sec_set_t *prev)
{
    pcscf_sec_set_t *gave_up;

    if (!prev || !prev->indexed || strcmp(prev->key, t->key) == 0 || t->old)
        return;
    if ((gave_up = prev->newer) != NULL) {
        /* the UE answers only the newest 401 */
        pcscf_sec_unlink_chain(gave_up);
        pcscf_sec_set_destroy(gave_up);
    }
    pcscf_sec_link_old(t, prev);
}

/* A live set with t's SA1 selector (its SA3's is the mirror). */
static bool clashes(const pcscf_sec_set_t *t)
{
    char k[PCSCF_KEY_LEN];

    return in_key(&t->ue, t->port_uc, t->port_ps, k, sizeof(k)) &&
           ims_hash_find(t->s->by_in, k) != NULL;
}

int pcscf_sec_alloc_ports(pcscf_sec_set_t *t)
{
    ipsec_alloc_t *a = t->s->alloc;

    if (t->ps_held && clashes(t)) {
        IMS_INFO("sec-agree: the UE kept port-c %u: new port-s instead of %u", t->port_uc,
                 t->port_ps);
        ipsec_alloc_port_release(a, t->port_ps);
        t->ps_held = false;
    }
    if (t->ps_held ? ipsec_alloc_port(a, &t->port_pc) == IMS_OK
                   : ipsec_alloc_port_pair(a, &t->port_pc, &t->port_ps) == IMS_OK) {
        t->ps_held = false;     /* from now on t->ids holds both */
        return IMS_OK;
    }
    IMS_ERR("sec-agree: no free port%s in pcscf.ipsec.port_min..port_max",
            t->ps_held ? "" : " pair");
    return IMS_ERROR;
}

/* ---- listeners ---- */

int pcscf_sec_open_ports(pcscf_sec_set_t *t)
{
    sip_transport_t *tp = t->s->tp;

    if (!tp)
        return IMS_OK;
    if (pcscf_sec_port_open(tp, &t->us, t->port_ps, true) != IMS_OK ||
        pcscf_sec_port_open(tp, &t->us, t->port_pc, false) != IMS_OK)
        return IMS_ERROR;
    return IMS_OK;
}

void pcscf_sec_release_ports(pcscf_sec_set_t *t)
{
    const uint16_t ports[2] = { t->port_ps, t->port_pc };
    int n = t->ids ? 2 : t->ps_held ? 1 : 0;

    for (int i = 0; i < n; i++) {
        ipsec_alloc_port_release(t->s->alloc, ports[i]);
        /* Whoever let go last closes: the set that opened the listener may
         * have gone before (a port_ps kept). */
        if (t->s->tp && ipsec_alloc_port_holders(t->s->alloc, ports[i]) == 0)
            pcscf_sec_port_close(t->s->tp, &t->us, ports[i]);
    }
    t->ps_held = false;
}
