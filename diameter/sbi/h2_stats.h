/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Process-wide statistics of the SBI's HTTP/2 client and server, for imsctl
 * and /metrics (the Diameter side keeps its own per command: hss_client.c).
 *
 * The client counts per operation: a short name of what a request does, the
 * method and a path template, e.g. "POST app-sessions", "PATCH
 * app-sessions/{id}", "POST app-sessions/{id}/delete". The caller may name it
 * (sbi_h2_request_t.op); otherwise sbi_h2_op_name derives it from the path as
 * TS 29.501 §4.4 structures it: the apiName and apiVersion segments dropped,
 * every segment that is not a plain resource name (letters and '-') replaced
 * by "{id}". Per operation: requests sent, answers by status class, errors by
 * kind (sbi_h2_err_t) and the latency of the answered ones. The table is
 * bounded (SBI_H2_STATS_MAX_OPS); what does not fit is counted under "other".
 * The server counts requests by method and the status class of its answer.
 *
 * One thread per daemon, so plain counters. An observer (one per process: the
 * daemon's metrics) sees each client outcome as it happens, to feed its
 * histograms without this file knowing the metrics registry.
 */
#ifndef SBI_H2_STATS_H
#define SBI_H2_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "diameter/sbi/h2_client.h"

#define SBI_H2_OP_MAX 64                /* an operation's name, NUL included */
#define SBI_H2_STATS_MAX_OPS 32         /* the last one is "other" */
#define SBI_H2_NCLASSES 5               /* 1xx .. 5xx */
#define SBI_H2_NERRS (SBI_H2_ERR_SHUTDOWN + 1)

/* The methods the server counts apart; anything else is "other" (the last). */
#define SBI_H2_NMETHODS 6

typedef struct sbi_h2_op_stats {
    char op[SBI_H2_OP_MAX];
    uint64_t requests;                  /* accepted by sbi_h2_client_request */
    uint64_t answers[SBI_H2_NCLASSES];  /* complete responses by status class */
    uint64_t errors[SBI_H2_NERRS];      /* by sbi_h2_err_t ([SBI_H2_OK] stays 0) */
    uint64_t latency_count;             /* answered ones */
    double latency_sum_s;
    double latency_max_s;
} sbi_h2_op_stats_t;

typedef struct sbi_h2_stats {
    sbi_h2_op_stats_t ops[SBI_H2_STATS_MAX_OPS];
    size_t nops;
    uint64_t client_goaways_received;   /* GOAWAY frames from servers */
    uint64_t client_goaways_sent;
    uint64_t server_requests[SBI_H2_NMETHODS][SBI_H2_NCLASSES];   /* answered */
    uint64_t server_goaways_received;   /* GOAWAY frames from clients */
    uint64_t server_goaways_sent;
} sbi_h2_stats_t;

/* The statistics so far (valid until the next request or reset). */
const sbi_h2_stats_t *sbi_h2_stats(void);
/* Start from zero (tests). */
void sbi_h2_stats_reset(void);

/* "1xx".."5xx" for class index 0..4; "GET" ... "other" for method index. */
const char *sbi_h2_class_name(size_t i);
const char *sbi_h2_method_name(size_t i);
/* The class index of a status (0..4), SBI_H2_NCLASSES when out of 100..599. */
size_t sbi_h2_class_of(int status);
/* The method index (the last, "other", for an unknown one). */
size_t sbi_h2_method_index(const char *method);

/* Write into out (SBI_H2_OP_MAX) the operation of method and path: "POST
 * app-sessions/{id}/delete" for "/npcf-policyauthorization/v1/app-sessions/
 * 5/delete" (query dropped). Always NUL-terminated, truncated if need be. */
void sbi_h2_op_name(const char *method, const char *path, char *out, size_t outlen);

/*
 * The outcome of one client request: op, status (0 without a response), err,
 * and the time from the request to its outcome. The observer (NULL: none) is
 * called after the counters were updated; set it again to replace it.
 */
typedef void (*sbi_h2_observer_cb)(void *arg, const char *op, int status, sbi_h2_err_t err,
                                   uint64_t elapsed_us);
void sbi_h2_stats_observe(sbi_h2_observer_cb cb, void *arg);

/* ---- for h2_client.c and h2_server.c ---- */

/* The slot of op, counting one request (created; "other" when the table is
 * full): an index that stays valid until sbi_h2_stats_reset. */
size_t sbi_h2_stats_request(const char *op);
/* Count the outcome of a request of slot i and tell the observer (a slot
 * gone with a reset is ignored). */
void sbi_h2_stats_outcome(size_t i, int status, sbi_h2_err_t err, uint64_t elapsed_us);
/* The server answered a request of method with status. */
void sbi_h2_stats_served(const char *method, int status);
/* For the GOAWAY counters. */
sbi_h2_stats_t *sbi_h2_stats_mut(void);

#endif
