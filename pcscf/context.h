/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * P-CSCF state: the configuration of the pcscf = { ... } section and the
 * registered UEs (TS 24.229 §5.2.2).
 *
 * A UE is known by where its requests come from: the transport and source
 * address of the REGISTER (rcv.remote), "u:IP:PORT" / "t:IP:PORT". Until
 * sec-agree/IPsec lands that is the only binding between a UE and the
 * identities the network registered for it. Each registration keeps, in one
 * allocation of NUL-separated strings, the address key, the contact URI the UE
 * registered, the public identities of P-Associated-URI (the first is the
 * default one, asserted in P-Asserted-Identity) and the Service-Route list.
 * Nothing per UE is an osip structure: a registration costs a few hundred bytes.
 *
 * Three indexes: by address key, by default IMPU, and by the Call-ID of the
 * P-CSCF's own reg-event subscription (how NOTIFYs find their UE). The expiry
 * timer is embedded in the UE; it removes the UE when the registration lapses.
 * The Path we insert is the same for every UE (built from cfg.name), so it is
 * not stored per UE.
 */
#ifndef PCSCF_CONTEXT_H
#define PCSCF_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/core/hash.h"
#include "common/core/loop.h"
#include "common/ops/metrics.h"
#include "common/sip/msg.h"
#include "common/sip/proxy.h"
#include "common/sip/trust.h"

#define PCSCF_MAX_IMPU 8        /* P-Associated-URI entries kept (the rest ignored) */
#define PCSCF_MAX_ROUTES 4      /* Service-Route entries kept */
#define PCSCF_MAX_URI 256       /* longer URIs / routes are ignored */
#define PCSCF_KEY_LEN 64        /* address key buffer */
#define PCSCF_CID_LEN 24        /* hex digits of our SUBSCRIBE Call-IDs */

typedef struct pcscf_cfg {
    const char *name;           /* our host name: Path, SUBSCRIBE From/Contact, PAI */
    const char *icscf;          /* I-CSCF URI for REGISTER; NULL: default routing */
    const char *visited_network;/* P-Visited-Network-ID value (quoted on the wire) */
    bool assume_integrity;      /* integrity-protected="yes" instead of "no" */
    bool require_path;          /* add Require: path to forwarded REGISTERs */
    bool reg_event;             /* send our own reg-event SUBSCRIBE */
    bool enforce_service_route; /* replace a registered UE's Route set by its Service-Route */
    uint32_t subscribe_expires; /* Expires of our SUBSCRIBE, s */
    uint32_t max_ues;           /* registrations kept at most */
    sip_trust_t trusted;        /* sip.hosts + pcscf.trusted: PAI kept (RFC 3325) */
} pcscf_cfg_t;

typedef enum pcscf_sub_state {
    PCSCF_SUB_NONE = 0,         /* no subscription (not sent, failed or ended) */
    PCSCF_SUB_PENDING,          /* SUBSCRIBE sent, no final response yet */
    PCSCF_SUB_ACTIVE            /* 2xx received */
} pcscf_sub_state_t;

typedef struct pcscf_ctx pcscf_ctx_t;
typedef struct pcscf_dialog pcscf_dialog_t;

typedef struct pcscf_ue {
    pcscf_ctx_t *ctx;
    ims_timer_t expiry;
    uint64_t expires_ms;        /* registration end, ims_clock_now_ms() scale */
    uint64_t sub_expires_ms;    /* subscription end (0: unknown) */
    char *strs;                 /* key \0 contact \0 impu... \0 route... \0 */
    uint8_t nimpu, nroute;
    uint8_t sub_state;          /* pcscf_sub_state_t */
    bool ipsec;                 /* registered over sec-agree SAs: requests only over them */
    char sub_cid[PCSCF_CID_LEN + 1]; /* our SUBSCRIBE's Call-ID, "" when none */
    pcscf_dialog_t *dialogs;    /* its calls (dialog.c), released when it goes */
    uint8_t policy_access;      /* pcscf.policy.access rule its P-Access-Network-Info
                                 * matched at registration, + 1; 0 none (policy-cfg.c) */
} pcscf_ue_t;

/* A borrowed string slice (need not be NUL-terminated). */
typedef struct pcscf_str {
    const char *p;
    size_t n;
} pcscf_str_t;

/* What a 200 OK to REGISTER tells about one UE (slices into the messages). */
typedef struct pcscf_reg_data {
    pcscf_str_t contact;
    pcscf_str_t impu[PCSCF_MAX_IMPU];
    size_t nimpu;
    pcscf_str_t route[PCSCF_MAX_ROUTES];
    size_t nroute;
} pcscf_reg_data_t;

typedef struct pcscf_stats {
    uint64_t registered, refreshed, deregistered, expired, dropped, refused;
    uint64_t pai_stripped, pai_asserted, routes_enforced;
    uint64_t subscribes, subscribe_failed, notifies, notifies_unknown;
    uint64_t unregistered_refused;  /* 403 to a source without registration */
    uint64_t dialogs_early, dialogs_confirmed, dialogs_ended, dialogs_released, byes_sent;
} pcscf_stats_t;

/* sec-agree (secagree.c) as seen from the files the unit tests compile alone:
 * set by pcscf_sec_attach when pcscf.ipsec is on (see secagree.h). */
typedef struct pcscf_sec_hooks {
    int (*on_register)(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, const sip_msg_t *req,
                       bool *protect);
    int (*on_challenge)(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *resp);
    void (*on_register_ok)(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, bool registered,
                           uint32_t expires);
    void (*ue_gone)(pcscf_ctx_t *ctx, pcscf_ue_t *ue);
    void (*free)(pcscf_ctx_t *ctx);
    /* Whether rcv came over the protected port of a live set. */
    bool (*is_protected)(const pcscf_ctx_t *ctx, const sip_rcv_t *rcv);
    /* dst is a UE's protected server port (port-s of a live set): send from our
     * protected client port (dst->local). Otherwise dst is left as it is. */
    void (*client_port)(const pcscf_ctx_t *ctx, sip_dest_t *dst);
    /* key (a REGISTER's source) is the new protected client port of a UE
     * whose SAs a re-registration replaces (TS 33.203 §7.4): true with the
     * address key it had into old (len bytes); false otherwise. */
    bool (*moved_from)(const pcscf_ctx_t *ctx, const char *key, char *old, size_t len);
} pcscf_sec_hooks_t;

/* The policy client (policy-sip.c) as seen from the files the unit tests
 * compile alone: set by pcscf_policy_start when pcscf.policy picks a backend
 * (see policy.h); NULL otherwise, and nothing changes. */
typedef struct pcscf_policy_hooks {
    /* A response going upstream (after the dialog records saw it). */
    void (*on_response)(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *resp);
    /* ue stored by a 2xx to req (new: its first registration). */
    void (*registered)(pcscf_ctx_t *ctx, pcscf_ue_t *ue, const sip_msg_t *req, bool is_new);
    void (*ue_gone)(pcscf_ctx_t *ctx, pcscf_ue_t *ue);
    /* The dialog record of key is being removed. */
    void (*dialog_gone)(pcscf_ctx_t *ctx, const char *key);
    /* A request going on toward its next hop after the P-CSCF's checks, the
     * ACK for a 2xx too (from_ue: it came from a registered UE). Never holds
     * it: an INVITE's offer with preconditions, an answer in PRACK or ACK. */
    void (*on_request)(pcscf_ctx_t *ctx, const sip_msg_t *req, bool from_ue);
} pcscf_policy_hooks_t;

/* Per-UE diagnosis (diagnose.c): what the handlers saw of a UE, so that
 * `imsctl diagnose` can say why it does not register or call. Hooks, so that
 * the unit tests that compile a handler alone still link; NULL: nothing kept.
 * kind is a pcscf_diag_kind_t (diagnose.h). */
typedef struct pcscf_diag_hooks {
    /* An event of the UE whose REGISTER req is. */
    void (*reg)(pcscf_ctx_t *ctx, const sip_msg_t *req, int kind, uint32_t code,
                const char *detail);
    /* The final response resp to the REGISTER req, as it goes to the UE. */
    void (*reg_response)(pcscf_ctx_t *ctx, const sip_msg_t *req, const sip_msg_t *resp);
    /* An event of the UE registered with IMPU impu. */
    void (*impu)(pcscf_ctx_t *ctx, const char *impu, int kind, uint32_t code,
                 const char *detail);
} pcscf_diag_hooks_t;

struct pcscf_ctx {
    pcscf_cfg_t cfg;
    bool enabled;               /* the pcscf section is present */
    ims_loop_t *loop;
    sip_proxy_t *px;            /* learnt at the first request (created after start) */
    osip_uri_t *icscf_uri;      /* parsed cfg.icscf, or NULL */
    bool icscf_resolved;
    sip_dest_t icscf_dst;
    char path[PCSCF_MAX_URI + 16];  /* "<sip:term@NAME;lr>" */
    ims_hash_t *by_addr, *by_impu, *by_sub;
    uint64_t icid_seq;
    pcscf_stats_t stats;
    /* The dialog table (dialog.c) comes into being with the first dialog; these
     * hooks keep this file free of it (the unit tests compile it alone). */
    ims_hash_t *dialogs;
    void (*ue_gone_hook)(pcscf_ctx_t *ctx, pcscf_ue_t *ue);  /* release ue's dialogs */
    void (*free_hook)(pcscf_ctx_t *ctx);                    /* free every dialog */
    struct ims_ctl *ctl;        /* control socket (ctl-cmds.c), or NULL */
    struct sip_node *node;      /* for the control socket's counters; NULL in tests */
    ims_metrics_t *metrics;     /* pcscf/metrics.c; NULL in unit tests */
    struct ims_http_probe *probe;   /* /metrics /healthz /readyz, or NULL */
    ims_metric_t *m_register;   /* final responses to REGISTER relayed, by code */
    /* Registrations that survive a restart (pcscf/ue-store.h), or NULL: the
     * hooks run when a UE is stored or refreshed, and when it goes. */
    struct ims_kv *store;
    void (*ue_saved_hook)(pcscf_ctx_t *ctx, pcscf_ue_t *ue);
    void (*ue_removed_hook)(pcscf_ctx_t *ctx, pcscf_ue_t *ue);
    struct pcscf_secagree *sec; /* IPsec sec-agree, or NULL (pcscf.ipsec off) */
    const pcscf_sec_hooks_t *sec_hooks;
    struct pcscf_policy *policy;    /* policy client (policy.h), or NULL (backend "none") */
    const pcscf_policy_hooks_t *policy_hooks;
    struct ims_uelog *uelog;        /* per-UE events (diagnose.c), or NULL */
    const pcscf_diag_hooks_t *diag_hooks;
};

/* The state with default configuration (disabled until init.c loads a section).
 * loop may be NULL in tests that never arm a timer. Aborts on allocation failure. */
pcscf_ctx_t *pcscf_ctx_new(ims_loop_t *loop);
/* Frees every UE (timers stopped) and the context. NULL is a no-op. */
void pcscf_ctx_free(pcscf_ctx_t *ctx);
/* Set cfg.name-derived values (Path); call after cfg changes. */
void pcscf_ctx_configured(pcscf_ctx_t *ctx);

/* "u:IP:PORT" / "t:IP:PORT" of a receive context into buf; returns buf. */
const char *pcscf_addr_key(const sip_rcv_t *rcv, char *buf, size_t len);

pcscf_ue_t *pcscf_ue_find_addr(const pcscf_ctx_t *ctx, const char *key);
pcscf_ue_t *pcscf_ue_find_impu(const pcscf_ctx_t *ctx, const char *impu);
pcscf_ue_t *pcscf_ue_find_sub(const pcscf_ctx_t *ctx, const char *call_id);

/*
 * Store or refresh the registration of the UE at key with d (copied) for
 * expires seconds (> 0). A UE that moved to key (pcscf_ue_moved) is
 * refreshed. *is_new tells whether it was unknown. Returns the UE, or NULL
 * when d has no identity or the store is full (cfg.max_ues).
 */
pcscf_ue_t *pcscf_ue_store(pcscf_ctx_t *ctx, const char *key, const pcscf_reg_data_t *d,
                           uint32_t expires, bool *is_new);
/*
 * The UE whose registration continues at key: one whose sec-agree SAs a
 * re-registration from key replaces (sec hook moved_from; TS 33.203 §7.4: a
 * new protected client port). It is found by key from now on, its dialogs and
 * subscription kept; its journal entry (ue_removed_hook) and signalling-path
 * policy session (which named the old address) are dropped: the caller
 * stores it again (pcscf_ue_store, which calls this) or removes it. NULL when
 * there is no such UE, or one is at key already.
 */
pcscf_ue_t *pcscf_ue_moved(pcscf_ctx_t *ctx, const char *key);
/* Remove and free ue (its timer stopped, its indexes dropped, its calls
 * released through ctx->ue_gone_hook). */
void pcscf_ue_remove(pcscf_ctx_t *ctx, pcscf_ue_t *ue);
/* Give ue a new subscription Call-ID (indexed); the old one is forgotten. */
const char *pcscf_ue_new_sub(pcscf_ctx_t *ctx, pcscf_ue_t *ue);
/* Forget ue's subscription (state NONE). */
void pcscf_ue_end_sub(pcscf_ctx_t *ctx, pcscf_ue_t *ue);

/* The stored strings (NUL-terminated, owned by ue; i beyond the count: NULL). */
const char *pcscf_ue_key(const pcscf_ue_t *ue);
const char *pcscf_ue_contact(const pcscf_ue_t *ue);
const char *pcscf_ue_impu(const pcscf_ue_t *ue, size_t i);
const char *pcscf_ue_route(const pcscf_ue_t *ue, size_t i);
size_t pcscf_ue_count(const pcscf_ctx_t *ctx);

/* Whether a request from rcv comes from a trusted network node. */
bool pcscf_is_trusted(const pcscf_ctx_t *ctx, const sip_rcv_t *rcv);

#endif
