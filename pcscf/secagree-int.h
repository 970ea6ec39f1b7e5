/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The insides of the P-CSCF's sec-agree state, shared by secagree.c (the
 * sets' life), secagree-rotate.c (re-registration: the port_ps kept, the UE's
 * new port_uc), secagree-store.c (sets that survive a restart) and
 * secagree-keys.c (CK/IK from the 401). Not for other files: they use
 * secagree.h.
 */
#ifndef PCSCF_SECAGREE_INT_H
#define PCSCF_SECAGREE_INT_H

#include "pcscf/secagree.h"

/* The journal table of the sets of registered UEs, keyed by the UE's address
 * key ("u:IP:port_uc", as pcscf.ue). */
#define PCSCF_STORE_SEC "pcscf.sec"

struct pcscf_sec_set {
    pcscf_secagree_t *s;
    pcscf_sec_state_t state;
    ims_timer_t timer;
    char key[PCSCF_KEY_LEN];    /* "r:<request id>" (OFFERED) or "IP:port_uc" */
    bool indexed;
    bool ids;                   /* our SPIs and ports allocated */
    bool ps_held;               /* port_ps held (kept from the set replaced) before ids */
    uint8_t sas, pols;          /* bit i: SA i+1 / its policy installed */
    bool in_indexed;            /* in by_in under in_key */
    char in_key[PCSCF_KEY_LEN]; /* "UE-IP:port_uc>port_ps": the selector of SA1 */
    bool us_indexed;            /* in by_us under us_key (the UE's port-s) */
    bool have_keys;             /* ck/ik below hold the AKA keys of the SAs */
    char us_key[PCSCF_KEY_LEN];
    ims_xfrm_addr_t ue, us;     /* the UE's address and ours */
    sec_agree_alg_t alg;
    sec_agree_ealg_t ealg;
    uint32_t spi_uc, spi_us, spi_pc, spi_ps;
    uint16_t port_uc, port_us, port_pc, port_ps;
    uint8_t ck[16], ik[16];     /* for the journal (secagree-store.c); zeroed when freed */
    uint64_t created_ms;        /* ims_clock_now_ms() when made (imsctl sas shows the age) */
    pcscf_sec_set_t *old;       /* the set this one replaces (retired once this is used) */
    pcscf_sec_set_t *newer;     /* the set whose old this one is */
    pcscf_sec_set_t *next, *prev;   /* every set, for free */
};

struct pcscf_secagree {
    pcscf_sec_cfg_t cfg;
    ims_loop_t *loop;
    ims_xfrm_t *x;
    ipsec_alloc_t *alloc;
    ims_hash_t *sets;
    pcscf_sec_set_t *all;
    size_t count[PCSCF_SEC_RETIRING + 1];
    pcscf_sec_ops_t ops;
    void *ops_arg;
    sip_transport_t *tp;
    ims_hash_t *by_us;          /* "UE-IP:port_us" -> the newest set with SAs to it */
    ims_hash_t *by_in;          /* in_key -> the installed set with that SA1 selector */
    pcscf_sec_stats_t stats;
    pcscf_ctx_t *ctx;           /* set by pcscf_sec_attach */
    ims_timer_t start_timer;    /* restore and sweep, at the loop's first turn */
    bool started;               /* restore and sweep done */
    bool persist;               /* a store keeps the UEs: their SAs outlive us */
};

/* --- secagree-set.c ------------------------------------------------------ */

/* A new OFFERED set (counted, in s->all, no timer). Aborts when out of memory. */
pcscf_sec_set_t *pcscf_sec_set_new(pcscf_secagree_t *s);
/* Index t under key (which must be free). */
void pcscf_sec_set_index(pcscf_sec_set_t *t, const char *key);
/* t is no longer found by its key (which it keeps). */
void pcscf_sec_set_unindex(pcscf_sec_set_t *t);
/* Arm t's timer for ms (its state's end). */
void pcscf_sec_set_arm(pcscf_sec_set_t *t, uint64_t ms);
/* Move t to state st with its timer armed for ms. */
void pcscf_sec_set_state(pcscf_sec_set_t *t, pcscf_sec_state_t st, uint64_t ms);
/* Remove t from the kernel (unless kept), give back ids and ports, free it
 * (the sets it replaces too). */
void pcscf_sec_set_destroy(pcscf_sec_set_t *t);
/* t, never to be used, goes at once; the set it would have replaced takes
 * its place back (t's key unless it kept its own; the UE's port-s). */
void pcscf_sec_set_drop(pcscf_sec_set_t *t);
/* Out of use (with the sets it replaces): removed after retire_ms, so that
 * the last responses still go out over it. */
void pcscf_sec_set_retire(pcscf_sec_set_t *t);
/* SAs, policies, ports and the port-s index of t, keys from t->ck/ik. With
 * restoring, entries the kernel already holds (EEXIST: they survived our
 * restart) count as installed. IMS_OK or IMS_ERROR (what got in is marked). */
int pcscf_sec_set_install(pcscf_sec_set_t *t, bool restoring);
/* t no longer hangs off a newer set, nor holds an older one; returns the older. */
pcscf_sec_set_t *pcscf_sec_unlink_chain(pcscf_sec_set_t *t);
/* t replaces old (retired once t carried a REGISTER to its 2xx). */
void pcscf_sec_link_old(pcscf_sec_set_t *t, pcscf_sec_set_t *old);

/* --- secagree-rotate.c --------------------------------------------------- */

/* Whether t (PENDING) replaces a set of its UE indexed under another port_uc
 * (TS 33.203 §7.4: the UE's new protected client port): that set, or NULL. */
pcscf_sec_set_t *pcscf_sec_moved(const pcscf_sec_set_t *t);
/* t, a new set for a REGISTER that came over prev (NULL: not over SAs), keeps
 * prev's port_ps: one more holder of it (t->ps_held), before a set that t
 * supersedes lets go of it. */
void pcscf_sec_keep_ps(pcscf_sec_set_t *t, const pcscf_sec_set_t *prev);
/* t (no set under its key) replaces prev, the set of its UE under its old
 * port_uc; a newer attempt of prev's that the UE gave up goes. */
void pcscf_sec_replace_moved(pcscf_sec_set_t *t, pcscf_sec_set_t *prev);
/* t's ports: port_pc alone when it keeps port_ps (unless its SA1 selector
 * would clash with a live set's: the UE kept its port_uc), else a pair.
 * IMS_OK, or IMS_ERROR (logged; nothing new taken). */
int pcscf_sec_alloc_ports(pcscf_sec_set_t *t);
/* Open the listeners of t's ports (one already open: kept). IMS_OK/IMS_ERROR. */
int pcscf_sec_open_ports(pcscf_sec_set_t *t);
/* Give back t's ports (its held port_ps too, before it had ids); the
 * listeners of a port nobody holds any more close. */
void pcscf_sec_release_ports(pcscf_sec_set_t *t);
/* by_in, the installed sets by SA1 selector. */
void pcscf_sec_index_in(pcscf_sec_set_t *t);
void pcscf_sec_unindex_in(pcscf_sec_set_t *t);
/* The context's moved_from hook (context.h). */
bool pcscf_sec_moved_from(const pcscf_ctx_t *ctx, const char *key, char *old, size_t len);

/* --- secagree-keys.c ----------------------------------------------------- */

/* ck and ik (16 octets each) from the WWW-Authenticate of the S-CSCF's 401,
 * parsed or (libosip2 drops them) raw. IMS_OK or IMS_DECLINED. */
int pcscf_sec_challenge_keys(const sip_msg_t *resp, uint8_t ck[16], uint8_t ik[16]);

/* --- secagree-store.c ---------------------------------------------------- */

/* t (PENDING or ACTIVE) is the set of the UE at ue_key, registered for
 * expires s: kept in ctx->store (when there is one) until then. */
void pcscf_sec_store_save(pcscf_ctx_t *ctx, const pcscf_sec_set_t *t, const char *ue_key,
                          uint32_t expires);
/* The UE at ue_key is gone: its set is forgotten by the store. */
void pcscf_sec_store_forget(pcscf_ctx_t *ctx, const char *ue_key);
/* Start-up, once the UEs are restored: the sets of restored UEs come back
 * (their SAs kept in the kernel, re-installed from the keys when missing,
 * ports re-opened), then every SA and policy of ours in the kernel that
 * belongs to no set is removed (pcscf_secagree_sweep). */
void pcscf_sec_store_restore(pcscf_secagree_t *s);

#endif
