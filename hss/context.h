/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-hss state: the configuration, the subscriber database (explicit entries
 * and IMSI ranges from the libconfig file, indexed by IMPI and by IMPU), the
 * per-subscriber registration state of TS 29.228 (not registered, registered,
 * unregistered with an S-CSCF assigned for terminating services) and counters.
 *
 * Every string that comes from the configuration is copied into the context's
 * string pool and lives until hss_ctx_free; the registration state strings
 * (stored and pending S-CSCF name) and the cached User-Data belong to their
 * subscriber.
 */
#ifndef HSS_CONTEXT_H
#define HSS_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/auth/milenage.h"
#include "common/core/conf.h"
#include "common/core/hash.h"
#include "common/core/loop.h"
#include "common/ops/metrics.h"
#include "diameter/base/peer.h"

#define HSS_MAX_IMPU 8          /* Public identities per subscriber (CX_MAX_IMPU) */
#define HSS_MAX_PEERS 16
#define HSS_MAX_SCSCF 8
#define HSS_MAX_CAPS 8
#define HSS_RAND_RING 8         /* RANDs remembered per subscriber for resync */

typedef struct hss_sqn_store hss_sqn_store_t;
typedef struct hss_ctl hss_ctl_t;

/* Service Point Trigger kinds (TS 29.228 Annex B.2.2). */
typedef enum hss_spt_kind {
    HSS_SPT_METHOD, HSS_SPT_REQUEST_URI, HSS_SPT_HEADER, HSS_SPT_SESSION_CASE,
    HSS_SPT_SESSION_DESC, HSS_SPT_REG_TYPE
} hss_spt_kind_t;

typedef struct hss_spt {
    hss_spt_kind_t kind;
    bool negated;
    int group;
    const char *what;           /* method, Request-URI regex, header name, SDP line */
    const char *content;        /* header / SDP content regex, NULL when absent */
    int session_case;           /* HSS_SPT_SESSION_CASE: 0..4 */
    uint8_t reg_types;          /* HSS_SPT_REG_TYPE: bit n = RegistrationType n (0..2) */
} hss_spt_t;

typedef struct hss_ifc {
    int priority;
    bool cnf;                   /* ConditionTypeCNF */
    hss_spt_t *spts;
    size_t nspts;
    const char *as_name;        /* ApplicationServer/ServerName */
    int default_handling;       /* 0 SESSION_CONTINUED, 1 SESSION_TERMINATED */
    const char *service_info;   /* NULL when absent */
    bool include_register_request, include_register_response;
    int profile_part;           /* -1 absent, 0 REGISTERED, 1 UNREGISTERED */
} hss_ifc_t;

/* A service profile (set of iFCs), shared by the subscribers that name it. */
typedef struct hss_profile {
    const char *name;
    hss_ifc_t *ifcs;
    size_t nifcs;
    bool unreg_services;        /* some iFC applies in the unregistered state */
} hss_profile_t;

typedef enum hss_scheme { HSS_SCHEME_AKA, HSS_SCHEME_DIGEST } hss_scheme_t;

typedef enum hss_reg_state {
    HSS_NOT_REGISTERED,         /* an S-CSCF name may still be stored (*_STORE_SERVER_NAME) */
    HSS_REGISTERED,
    HSS_UNREGISTERED            /* S-CSCF assigned for unregistered (terminating) services */
} hss_reg_state_t;

typedef struct hss_sub {
    const char *impi;
    const char *impus[HSS_MAX_IMPU];    /* implicit registration set; [0] is the default */
    bool barred[HSS_MAX_IMPU];
    size_t nimpus;
    const char *realm;          /* SIP Digest realm */
    const char *password;       /* NULL: no SIP Digest */
    bool has_k;
    bool op_is_opc;
    uint8_t k[16], op[16];      /* op holds OPc when op_is_opc */
    uint8_t amf[2];
    uint64_t sqn_start;         /* configured SQN (the last one used) */
    hss_scheme_t scheme;        /* for MAR scheme "Unknown" */
    const hss_profile_t *profile;   /* NULL: no iFCs */

    /* registration state (TS 29.228 §6.1) */
    hss_reg_state_t state;
    char *scscf;                /* stored S-CSCF SIP name, malloc'd, NULL when none */
    char *pending_scscf;        /* from MAR, until SAR confirms it */

    uint32_t sqn_slot;          /* in the SQN store */
    uint8_t rands[HSS_RAND_RING][16];   /* RANDs of the last vectors, for AUTS checks */
    uint8_t nrands, rand_pos;
    ims_milenage_t mil;         /* keyed lazily on first use */
    bool mil_ready;
    char *user_data;            /* cached User-Data XML (malloc'd), NULL until built */
    size_t user_data_len;
} hss_sub_t;

typedef struct hss_scscf {
    const char *name;           /* SIP URI as the S-CSCF sends it in Server-Name */
    const char *diameter_host;  /* its Origin-Host, for RTR/PPR */
    const char *realm;
} hss_scscf_t;

typedef struct hss_stats {
    uint64_t uar, mar, sar, lir, vectors, redraws, resyncs, rtr, ppr, errors;
} hss_stats_t;

typedef struct hss_ctx {
    /* configuration */
    ims_conf_t *conf;
    const char *state_dir;
    const char *home_domain;
    bool test_redraw_zero_res;  /* TEST ONLY: see config/hss.cfg */
    uint32_t sqn_block;
    bool sqn_fsync;
    dia_node_cfg_t dia;
    dia_peer_cfg_t peers[HSS_MAX_PEERS];
    int npeers;
    hss_scscf_t scscfs[HSS_MAX_SCSCF];
    int nscscfs;
    uint32_t cap_mandatory[HSS_MAX_CAPS], cap_optional[HSS_MAX_CAPS];
    int ncap_mandatory, ncap_optional;
    bool caps_with_names;       /* Server-Capabilities lists the S-CSCF names */
    bool uaa_server_name;       /* FIRST_REGISTRATION answers name the first S-CSCF */
    bool open5gs_mode;          /* answer like open5gs's HSS: see config/hss.cfg */
    const char *charging_ecf, *charging_ccf;

    /* the database */
    hss_profile_t **profiles;
    size_t nprofiles;
    hss_sub_t **subs;
    size_t nsubs, cap_subs;
    ims_hash_t *by_impi, *by_impu;
    char **strs;                /* string pool */
    size_t nstrs, cap_strs;

    /* running parts */
    hss_sqn_store_t *sqn;
    ims_loop_t *loop;
    dia_node_t *node;
    hss_ctl_t *ctl;
    ims_metrics_t *metrics;     /* hss/metrics.c */
    struct ims_http_probe *probe;   /* /metrics /healthz /readyz, or NULL */
    hss_stats_t stats;
} hss_ctx_t;

/* A new empty context (defaults set), never NULL (allocation failure aborts). */
hss_ctx_t *hss_ctx_new(void);
/* Free the database, the string pool and conf; not the running parts (init.c). */
void hss_ctx_free(hss_ctx_t *ctx);

/* Load path into ctx: globals, Diameter, S-CSCFs, profiles, subscribers and
 * ranges. IMS_OK, or IMS_ERROR with a "file:line: key: message" line in err. */
int hss_ctx_load(hss_ctx_t *ctx, const char *path, char *err, size_t errlen);

/* Add a subscriber (its strings must be in the pool or static). IMS_OK, or
 * IMS_ERROR when its IMPI or one of its IMPUs is already known (err filled). */
int hss_ctx_add_sub(hss_ctx_t *ctx, hss_sub_t *sub, char *err, size_t errlen);

/* Expand an IMSI range into count subscribers: IMPI <imsi>@domain, IMPUs
 * sip:<imsi>@domain and, with tel_prefix, tel:<tel_prefix><last 7 digits>.
 * tmpl supplies keys, AMF, SQN, password, scheme and profile. */
int hss_ctx_add_range(hss_ctx_t *ctx, const char *imsi_from, uint32_t count,
                      const char *domain, const char *tel_prefix, const hss_sub_t *tmpl,
                      char *err, size_t errlen);

/* Copy s into the pool; the copy lives as long as ctx. */
const char *hss_ctx_strdup(hss_ctx_t *ctx, const char *s);

hss_sub_t *hss_ctx_find_impi(const hss_ctx_t *ctx, const char *impi);
hss_sub_t *hss_ctx_find_impu(const hss_ctx_t *ctx, const char *impu);
/* Index of impu in sub->impus, or -1. */
int hss_sub_impu_index(const hss_sub_t *sub, const char *impu);
/* The configured S-CSCF with SIP name name, or NULL. */
const hss_scscf_t *hss_ctx_scscf_by_name(const hss_ctx_t *ctx, const char *name);

/* Registration state changes; name may be NULL (clears). */
void hss_sub_set_scscf(hss_sub_t *sub, const char *name);
void hss_sub_set_pending(hss_sub_t *sub, const char *name);

#endif
