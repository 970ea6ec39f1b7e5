/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * I-CSCF state: its configuration (the `icscf` group: S-CSCFs with their
 * capabilities, the default S-CSCF, timers), the Diameter node and HSS client,
 * and the requests in flight (REGISTERs on their UAA, others on their LIA).
 *
 * A REGISTER in flight is an icscf_reg_t. It holds ids, not pointers, for what
 * may vanish while it waits: the proxy request (by sip_proxy_req_id). It is
 * owned by the context and freed when its REGISTER is answered or dropped;
 * the HSS client and the client transaction it waits on are told first, so a
 * late callback never finds it freed (see register-handler.c).
 *
 * An initial request other than REGISTER waiting on its LIA is an icscf_lir_t,
 * held the same way: by the proxy request id, owned by the context, freed when
 * the LIA (or its absence) has been acted on (see term-handler.c).
 */
#ifndef ICSCF_CONTEXT_H
#define ICSCF_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/core/loop.h"
#include "common/ops/metrics.h"
#include "common/sip/node.h"
#include "common/sip/proxy.h"
#include "diameter/base/peer_conf.h"
#include "diameter/hss_client.h"
#include "icscf/scscf-select.h"

#define ICSCF_MAX_ATTEMPTS 4

typedef struct icscf_ctx icscf_ctx_t;

/* The S-CSCFs of a configuration: icscf.scscfs and icscf.default_scscf. */
typedef struct icscf_scscf_list {
    icscf_scscf_t scscfs[ICSCF_MAX_SCSCF];
    int nscscfs;
    const char *default_scscf;   /* NULL: none */
} icscf_scscf_list_t;

/* One S-CSCF to try: where it is and what it is called (for logs). */
typedef struct icscf_target {
    sip_dest_t dst;
    char name[CX_STR];
} icscf_target_t;

typedef struct icscf_reg {
    icscf_ctx_t *ctx;
    struct icscf_reg *prev, *next; /* the context's list of REGISTERs in flight */
    uint64_t pr_id;                /* the proxy request (sip_proxy_req_find) */
    bool uar_pending;              /* hss_uar callback still to come */
    sip_txn_t *ct;                 /* the forward in flight, NULL when none */
    ims_timer_t attempt_timer;     /* scscf_timeout_ms per S-CSCF tried */
    icscf_target_t targets[ICSCF_MAX_ATTEMPTS];
    int ntargets, next_target;
    char impi[CX_STR], impu[CX_STR]; /* of the UAR, for the per-UE log (diagnose.h) */
    bool by_name;   /* the HSS named the S-CSCF (Server-Name) */
    bool requeried; /* a second UAR, REGISTRATION_AND_CAPABILITIES, was sent */
} icscf_reg_t;

/* A terminating request (TS 24.229 §5.3.2) waiting on its LIA. */
typedef struct icscf_lir {
    icscf_ctx_t *ctx;
    struct icscf_lir *prev, *next; /* the context's list of LIRs in flight */
    uint64_t pr_id;                /* the proxy request (sip_proxy_req_find) */
    char impu[CX_STR];             /* the identity asked for, for the logs */
} icscf_lir_t;

typedef struct icscf_stats {
    uint64_t registers, uar_ok, uar_rejected, hss_failures, forwarded, retries, scscf_failures;
    /* terminating requests: LIRs sent, LIAs leading to an S-CSCF, LIAs answered
     * here (404/480/500), no LIA (500 + Retry-After), request gone meanwhile */
    uint64_t lir, lir_forwarded, lir_rejected, lir_hss_failures, lir_gone;
} icscf_stats_t;

struct icscf_ctx {
    /* configuration (strings owned by conf) */
    ims_conf_t *conf;
    const char *home_domain; /* IMPI derivation, default visited network */
    const char *hss_realm, *hss_host;
    const char *default_scscf; /* NULL: none; owned, with the URIs, by scscf_strs */
    icscf_scscf_t scscfs[ICSCF_MAX_SCSCF];
    int nscscfs;
    char *scscf_strs;          /* the S-CSCF strings (icscf_scscfs_apply) */
    uint32_t retry_after_s;    /* Retry-After of a 500 when the HSS fails */
    uint32_t scscf_timeout_ms; /* give up on a silent S-CSCF after this */
    uint32_t scscf_attempts;   /* S-CSCFs tried per REGISTER, 1..ICSCF_MAX_ATTEMPTS */
    dia_conf_t dia;

    /* running parts */
    sip_node_t *node;
    ims_loop_t *loop;
    dia_node_t *dia_node;
    bool dia_started;
    hss_client_t *hss; /* NULL once stopping */
    icscf_reg_t *regs; /* in flight, newest first */
    uint64_t nregs;
    icscf_lir_t *lirs; /* LIRs in flight, newest first */
    uint64_t nlirs;
    icscf_stats_t stats;
    struct ims_ctl *ctl; /* control socket (ctl-cmds.c), or NULL */
    struct ims_uelog *uelog;       /* recent events per UE (icscf/diagnose.h), or NULL */
    ims_metrics_t *metrics;        /* icscf/metrics.c; NULL in unit tests */
    struct ims_http_probe *probe;  /* /metrics /healthz /readyz, or NULL */
    ims_metric_t *m_register;      /* REGISTER responses made here, by code */
};

/*
 * Read the `icscf` and `diameter` groups of conf into a new context.
 * IMS_OK with *out set; IMS_DECLINED when conf has no (non-empty) `icscf`
 * group (the daemon then stays a transparent proxy); IMS_ERROR with a
 * "file:line: key: message" in err.
 */
int icscf_ctx_load(ims_conf_t *conf, icscf_ctx_t **out, char *err, size_t errlen);
void icscf_ctx_free(icscf_ctx_t *ctx);

/* Read the S-CSCF list of conf into out (strings borrowed from conf; nothing
 * applied). IMS_OK, or IMS_ERROR with "file:line: key: message" in err. */
int icscf_scscfs_load(ims_conf_t *conf, icscf_scscf_list_t *out, char *err, size_t errlen);
/* Make l the context's S-CSCF list (strings copied: conf may go after). Used
 * at start and by a reload. Returns whether it differs from the one before.
 * The REGISTERs in flight keep the targets they resolved already. */
bool icscf_scscfs_apply(icscf_ctx_t *ctx, const icscf_scscf_list_t *l);

/* A new REGISTER in flight for proxy request pr_id (never NULL). */
icscf_reg_t *icscf_reg_new(icscf_ctx_t *ctx, uint64_t pr_id);
/* Unlink and free reg; its timer is stopped, its transaction detached. */
void icscf_reg_free(icscf_reg_t *reg);

/* The proxy request pr_id of a request waiting on the HSS, or NULL once it has
 * been answered meanwhile (a CANCEL, shutdown) and let go of. When found, the
 * log context is its Call-ID, as for SIP input (node.c); the caller clears it
 * (ims_log_ctx_clear) when done. */
sip_proxy_req_t *icscf_req_resume(icscf_ctx_t *ctx, uint64_t pr_id);

/* A new LIR in flight for proxy request pr_id (never NULL); freed by icscf_lir_free,
 * or by icscf_ctx_free when still in flight at shutdown. */
icscf_lir_t *icscf_lir_new(icscf_ctx_t *ctx, uint64_t pr_id);
void icscf_lir_free(icscf_lir_t *lir);

#endif
