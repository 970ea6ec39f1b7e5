/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * I-CSCF state: its configuration (the `icscf` group: S-CSCFs with their
 * capabilities, the default S-CSCF, timers), the Diameter node and HSS client,
 * and the REGISTERs in flight.
 *
 * A REGISTER in flight is an icscf_reg_t. It holds ids, not pointers, for what
 * may vanish while it waits: the proxy request (by sip_proxy_req_id). It is
 * owned by the context and freed when its REGISTER is answered or dropped;
 * the HSS client and the client transaction it waits on are told first, so a
 * late callback never finds it freed (see register-handler.c).
 */
#ifndef ICSCF_CONTEXT_H
#define ICSCF_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/core/loop.h"
#include "common/sip/node.h"
#include "diameter/base/peer_conf.h"
#include "diameter/hss_client.h"
#include "icscf/scscf-select.h"

#define ICSCF_MAX_ATTEMPTS 4

typedef struct icscf_ctx icscf_ctx_t;

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
    bool by_name;   /* the HSS named the S-CSCF (Server-Name) */
    bool requeried; /* a second UAR, REGISTRATION_AND_CAPABILITIES, was sent */
} icscf_reg_t;

typedef struct icscf_stats {
    uint64_t registers, uar_ok, uar_rejected, hss_failures, forwarded, retries, scscf_failures;
} icscf_stats_t;

struct icscf_ctx {
    /* configuration (strings owned by conf) */
    ims_conf_t *conf;
    const char *home_domain; /* IMPI derivation, default visited network */
    const char *hss_realm, *hss_host;
    const char *default_scscf; /* NULL: none */
    icscf_scscf_t scscfs[ICSCF_MAX_SCSCF];
    int nscscfs;
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
    icscf_stats_t stats;
};

/*
 * Read the `icscf` and `diameter` groups of conf into a new context.
 * IMS_OK with *out set; IMS_DECLINED when conf has no (non-empty) `icscf`
 * group (the daemon then stays a transparent proxy); IMS_ERROR with a
 * "file:line: key: message" in err.
 */
int icscf_ctx_load(ims_conf_t *conf, icscf_ctx_t **out, char *err, size_t errlen);
void icscf_ctx_free(icscf_ctx_t *ctx);

/* A new REGISTER in flight for proxy request pr_id (never NULL). */
icscf_reg_t *icscf_reg_new(icscf_ctx_t *ctx, uint64_t pr_id);
/* Unlink and free reg; its timer is stopped, its transaction detached. */
void icscf_reg_free(icscf_reg_t *reg);

#endif
