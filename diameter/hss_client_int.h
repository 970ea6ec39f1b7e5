/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal to hss_client and its backends (diameter/cx/hss_client_cx.c, later
 * the Nhss_ims one): the object and the operations a backend supplies. The
 * generic part (hss_client.c) keeps the inbound handlers, so every backend
 * delivers RTR/PPR the same way through hss_client_deliver_rtr/ppr.
 */
#ifndef HSS_CLIENT_INT_H
#define HSS_CLIENT_INT_H

#include "diameter/hss_client.h"

typedef struct hss_client_ops {
    const char *name;   /* "cx", "nhss" for logs */
    int (*uar)(hss_client_t *c, const cx_uar_t *r, hss_uaa_cb cb, void *arg);
    int (*mar)(hss_client_t *c, const cx_mar_t *r, hss_maa_cb cb, void *arg);
    int (*sar)(hss_client_t *c, const cx_sar_t *r, hss_saa_cb cb, void *arg);
    int (*lir)(hss_client_t *c, const cx_lir_t *r, hss_lia_cb cb, void *arg);
    /* Release the backend's state (c->backend); hss_client_free frees c. */
    void (*destroy)(hss_client_t *c);
} hss_client_ops_t;

struct hss_client {
    const hss_client_ops_t *ops;
    void *backend;
    hss_rtr_cb rtr_cb;
    void *rtr_arg;
    hss_ppr_cb ppr_cb;
    void *ppr_arg;
    ims_metric_t *m_requests;   /* hss_client_set_metrics, NULL when off */
    ims_metric_t *m_latency;
};

/* The label values of the request metrics (hss_client_set_metrics). */
typedef enum hss_cmd { HSS_CMD_UAR, HSS_CMD_MAR, HSS_CMD_SAR, HSS_CMD_LIR } hss_cmd_t;
typedef enum hss_outcome {
    HSS_OUT_SUCCESS, HSS_OUT_PROTOCOL_ERROR, HSS_OUT_TRANSIENT, HSS_OUT_PERMANENT,
    HSS_OUT_INVALID_ANSWER, HSS_OUT_TIMEOUT, HSS_OUT_NO_PEER, HSS_OUT_SHUTDOWN, HSS_OUT_NOT_SENT
} hss_outcome_t;

/* The outcome of an answer with Result-Code / Experimental-Result-Code code. */
hss_outcome_t hss_outcome_of(uint32_t code);
/* Count one request of cmd with its outcome; sent_us (ims_clock_real_us() when
 * it was sent; 0: never answered) gives the latency of answered ones. */
void hss_client_count(hss_client_t *c, hss_cmd_t cmd, hss_outcome_t out, uint64_t sent_us);

/* A new client with ops and backend state (NULL when out of memory). */
hss_client_t *hss_client_alloc(const hss_client_ops_t *ops, void *backend);

/* Hand an inbound request to the handler; 5012 UNABLE_TO_COMPLY without one. */
cx_result_t hss_client_deliver_rtr(hss_client_t *c, const cx_rtr_t *r);
cx_result_t hss_client_deliver_ppr(hss_client_t *c, const cx_ppr_t *r);

#endif
