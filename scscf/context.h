/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The S-CSCF's state: its configuration, the registration store and the
 * reg-event subscriptions.
 *
 * A registration (scscf_reg_t) exists per private identity from the first
 * challenge on: while only an authentication is pending it is "unregistered"
 * and the reg-await-auth timer (24.229 table 7.8.1: 4 min) removes it. Once
 * the SAR succeeded it holds the profile from User-Data (implicit set,
 * barring, iFCs) and its contacts, is found by IMPI and by every IMPU of the
 * set, and its expiry timer runs at the earliest contact expiry.
 *
 * Memory per registered user is kept small, and what lives as long as the
 * registration comes from the store pool (common/core/slab.h: freed with
 * ims_store_free, never free()): the record holds its IMPI inline, a binding
 * keeps its URI and Call-ID in one block, the profile is one block whose
 * iFC set is shared with the users that have the same iFCs, and strings that
 * thousands of records repeat (the Path of a P-CSCF, its URIs in reg-event
 * subscriptions) are kept once (scscf_str_share). The pending vector exists
 * only during a challenge (malloc'd: transient), and no SIP message is kept.
 *
 * Across asynchronous gaps (HSS answers, NOTIFY responses) registrations are
 * named by IMPI and subscriptions by our tag, and re-resolved.
 */
#ifndef SCSCF_CONTEXT_H
#define SCSCF_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/hash.h"
#include "common/core/loop.h"
#include "common/ops/metrics.h"
#include "common/sip/node.h"
#include "common/sip/trust.h"
#include "diameter/hss_client.h"
#include "scscf/user-data.h"

#define SCSCF_MAX_CONTACTS 4     /* bindings per user; a fifth replaces the oldest */
#define SCSCF_AKA_NONCE_MAX 64

typedef struct scscf_cfg {
    char domain[128];            /* home domain, Digest realm */
    char uri[160];               /* our SIP URI (Server-Name), sip:scscf.<domain> */
    char service_route[224];     /* Service-Route value: <sip:orig@host;lr> */
    uint32_t default_expires;    /* when the REGISTER names none, s */
    uint32_t max_expires;        /* granted expiry at most, s */
    uint32_t min_expires;        /* below: 423 Interval Too Brief (0: off) */
    uint32_t max_sub_expires;    /* reg-event subscription at most, s */
    uint32_t max_auth_attempts;  /* wrong responses before 403 */
    uint32_t auth_timeout_ms;    /* reg-await-auth */
    uint32_t retry_after;        /* s, with 500 when the HSS does not answer */
    bool trust_integrity;        /* integrity-protected=yes refresh: no challenge */
    /* RFC 3325 trust domain (scscf.trust_domain): only sip.hosts and
     * scscf.trusted may claim the originating case or assert an identity. */
    bool trust_domain;
    sip_trust_t trusted;
    char md5_scheme[32];         /* MAR scheme for algorithm MD5 / none */
} scscf_cfg_t;

typedef enum scscf_auth_scheme { SCSCF_AUTH_AKA = 0, SCSCF_AUTH_MD5 = 1 } scscf_auth_scheme_t;

/* A challenge we sent and the vector to check the answer against. */
typedef struct scscf_auth {
    scscf_auth_scheme_t scheme;
    uint8_t attempts;            /* wrong responses so far */
    uint8_t xres_len;
    uint8_t xres[16];            /* AKA: XRES, the digest password */
    uint8_t rand[16];            /* AKA: for resync (RAND || AUTS) */
    char ha1[33];                /* MD5: HA1 from the HSS */
    char nonce[SCSCF_AKA_NONCE_MAX];
    char realm[256];
    ims_timer_t timer;           /* reg-await-auth */
} scscf_auth_t;

typedef struct scscf_contact {
    char *uri;                   /* binding, e.g. sip:ue@1.2.3.4:5060; one store block
                                  * holding the URI, then the Call-ID */
    const char *path;            /* Path header values (shared), or NULL */
    uint64_t expires_at;         /* ims_clock_now_ms() time */
    uint32_t cseq;
    uint32_t call_id_off;        /* Call-ID at uri + call_id_off; 0: none */
} scscf_contact_t;

typedef struct scscf_ctx scscf_ctx_t;
typedef struct scscf_sub scscf_sub_t;

/* One store block with the IMPI inline; fields ordered to pack. */
typedef struct scscf_reg {
    scscf_ctx_t *ctx;
    scscf_profile_t *profile;    /* NULL until the first SAA with User-Data */
    scscf_contact_t *contacts;   /* ncontacts entries, allocated to size */
    scscf_auth_t *auth;          /* pending challenge, or NULL */
    scscf_sub_t *subs;           /* reg-event subscriptions to this user */
    ims_timer_t expiry;
    bool registered;
    uint8_t ncontacts;           /* <= SCSCF_MAX_CONTACTS */
    char impi[];
} scscf_reg_t;

typedef struct scscf_stats {
    uint64_t registers, challenges, auth_ok, auth_failed, registrations, deregistrations,
        expiries, rtr, ppr, subscribes, notifies, notify_failures, hss_errors;
} scscf_stats_t;

typedef struct scscf_op scscf_op_t;
typedef struct scscf_notify scscf_notify_t;

struct scscf_ctx {
    scscf_cfg_t cfg;
    bool enabled;
    sip_node_t *node;            /* NULL in unit tests */
    ims_loop_t *loop;
    dia_node_t *dia;
    hss_client_t *hss;
    ims_hash_t *by_impi;         /* impi -> scscf_reg_t */
    ims_hash_t *by_impu;         /* impu -> scscf_reg_t (registered ones) */
    ims_hash_t *subs;            /* our (local) tag -> scscf_sub_t */
    ims_hash_t *shared;          /* string -> its shared copy (scscf_str_share) */
    ims_hash_t *ifc_sets;        /* the profiles' shared iFC sets (scscf/user-data.h) */
    scscf_op_t *ops;             /* HSS requests in flight (freed at stop) */
    scscf_notify_t *notifies;    /* NOTIFY transactions in flight */
    scscf_stats_t stats;
    struct ims_ctl *ctl;         /* control socket (scscf/ctl-cmds.c), or NULL */
    struct ims_uelog *uelog;     /* recent events per UE (scscf/diagnose.h), or NULL */
    ims_metrics_t *metrics;      /* scscf/metrics.c; NULL in unit tests */
    struct ims_http_probe *probe;    /* /metrics /healthz /readyz, or NULL */
    ims_metric_t *m_register;    /* final responses to REGISTER by code */
    /* Registrations that survive a restart (scscf/reg-store.h), or NULL. The
     * hook runs when a registration ends (regevent.c, with the terminating
     * reg-event NOTIFY), so that every way out forgets the stored copy. */
    struct ims_kv *store;
    void (*store_gone)(scscf_reg_t *reg);
    /* A reg-event subscription of reg changed: save reg (reg-store.c), or NULL. */
    void (*store_subs)(scscf_reg_t *reg);
    /* With a store shared by several S-CSCFs (Redis): a lookup by IMPU that
     * finds nothing here asks it, so that users registered through another
     * instance are served (scscf/reg-store.h); NULL otherwise. */
    scscf_reg_t *(*store_miss)(scscf_ctx_t *ctx, const char *impu);
};

/* Defaults for every key (domain and uri empty). */
void scscf_cfg_defaults(scscf_cfg_t *c);
/* Derive uri and service_route from domain where they are empty. */
void scscf_cfg_finish(scscf_cfg_t *c);

/* A context on loop (tables created); node may be NULL (tests). */
scscf_ctx_t *scscf_ctx_new(ims_loop_t *loop, const scscf_cfg_t *cfg);
/* Frees every registration and subscription (no NOTIFY, no SAR). */
void scscf_ctx_free(scscf_ctx_t *ctx);

scscf_reg_t *scscf_reg_find(scscf_ctx_t *ctx, const char *impi);
/* By IMPU; on a miss, ctx->store_miss when set (it may restore the user). */
scscf_reg_t *scscf_reg_find_impu(scscf_ctx_t *ctx, const char *impu);
/* Find or create the (unregistered) record of impi. */
scscf_reg_t *scscf_reg_get(scscf_ctx_t *ctx, const char *impi);
/* Remove and free (subscriptions freed without NOTIFY: notify first). */
void scscf_reg_free(scscf_reg_t *reg);

/*
 * A copy of s that every caller asking for the same string shares: for the
 * strings that many records repeat. Each scscf_str_share (NULL gives NULL)
 * is matched by one scscf_str_unshare of the pointer it returned (NULL is a
 * no-op); the copy goes with the last. Aborts on allocation failure.
 */
const char *scscf_str_share(scscf_ctx_t *ctx, const char *s);
void scscf_str_unshare(scscf_ctx_t *ctx, const char *s);

/* Replace the profile (ownership of p passes; its iFC set is shared with the
 * equal ones of other users) and re-index the IMPUs when registered. */
void scscf_reg_set_profile(scscf_reg_t *reg, scscf_profile_t *p);
/* Mark registered and index the IMPUs of the profile. */
void scscf_reg_set_registered(scscf_reg_t *reg);

/*
 * Add or refresh the binding uri (expires s from now; 0 removes it). A full
 * table replaces the binding that expires first. Strings are copied.
 * Returns IMS_OK, or IMS_DECLINED when call_id matches the binding's and cseq
 * is not above its own (RFC 3261 §10.3 step 7: out of order).
 */
int scscf_reg_bind(scscf_reg_t *reg, const char *uri, const char *path, const char *call_id,
                   uint32_t cseq, uint32_t expires);
/* Drop the contacts that have expired by now; returns how many. */
int scscf_reg_drop_expired(scscf_reg_t *reg, uint64_t now);
/* The Call-ID of a binding's last REGISTER, or NULL. */
const char *scscf_contact_call_id(const scscf_contact_t *c);
/* Seconds left for contact i (0 when expired). */
uint32_t scscf_contact_left(const scscf_contact_t *c, uint64_t now);
/* Longest time left over all contacts, s. */
uint32_t scscf_reg_left(const scscf_reg_t *reg, uint64_t now);
/* (Re)arm the expiry timer at the earliest contact expiry; cb fires then. */
void scscf_reg_arm_expiry(scscf_reg_t *reg, ims_timer_cb cb);

/* Pending challenge: set (replacing any; attempts kept, timer stopped) / clear. */
scscf_auth_t *scscf_reg_auth_new(scscf_reg_t *reg);
void scscf_reg_auth_clear(scscf_reg_t *reg);

/* A delta-seconds value (digits, blanks around), capped at UINT32_MAX.
 * IMS_OK with *out, or IMS_ERROR. */
int scscf_parse_seconds(const char *s, uint32_t *out);

/* "sip:user@host[:port]" or "tel:number" of a URI (parameters and headers
 * dropped) into out. IMS_OK or IMS_ERROR (unusable or too long). */
int scscf_uri_aor(const osip_uri_t *u, char *out, size_t outlen);

#endif
