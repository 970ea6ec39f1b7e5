/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A tiny HTTP/1.1 server on the daemon's event loop for operations:
 *
 *   GET /metrics   200, the registry in Prometheus text format 0.0.4
 *   GET /healthz   200 "ok": answered at all means the loop runs
 *   GET /readyz    200 "ready", or 503 with the reason the ready callback gave
 *
 * HEAD is answered like GET without the body; other methods get 405 (with
 * Allow), other paths 404, a malformed request 400, a request head over
 * IMS_HTTP_PROBE_MAX_REQ bytes 431, a request with a body 413; each of these
 * closes the connection. Otherwise HTTP/1.1 keeps the connection (pipelined
 * requests are answered in order) unless "Connection: close"; HTTP/1.0 closes
 * unless "Connection: keep-alive". Everything is non-blocking and bounded:
 * at most IMS_HTTP_PROBE_MAX_CONNS connections (more are closed at accept),
 * each closed after IMS_HTTP_PROBE_IDLE_MS without a complete request or
 * while its reply cannot be written.
 */
#ifndef IMS_OPS_HTTP_PROBE_H
#define IMS_OPS_HTTP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/core/loop.h"
#include "common/ops/metrics.h"

#define IMS_HTTP_PROBE_MAX_REQ 4096
#define IMS_HTTP_PROBE_MAX_CONNS 32
#define IMS_HTTP_PROBE_IDLE_MS 10000

typedef struct ims_http_probe ims_http_probe_t;

/* Readiness: true when ready; otherwise write a one-line reason into why
 * (NUL-terminated, at most whylen bytes) for the 503 body. */
typedef bool (*ims_probe_ready_cb)(void *arg, char *why, size_t whylen);

/*
 * Listen on "HOST:PORT" ("[v6]:PORT" for IPv6; port 0 picks one) on loop.
 * metrics may be NULL (then /metrics is an empty exposition); ready NULL means
 * always ready. metrics, ready's arg and loop must outlive the server.
 * NULL (logged) when listen is malformed or the socket cannot be bound.
 */
ims_http_probe_t *ims_http_probe_new(ims_loop_t *loop, const char *listen,
                                     ims_metrics_t *metrics, ims_probe_ready_cb ready,
                                     void *arg);
/* Close the listener and every connection. NULL is a no-op. */
void ims_http_probe_free(ims_http_probe_t *p);
/* The bound port (useful after asking for port 0). */
uint16_t ims_http_probe_port(const ims_http_probe_t *p);

/*
 * The daemons' `metrics = { listen = "127.0.0.1:9101"; };` group: IMS_OK with
 * *out the running server, or NULL when conf is NULL or has no metrics.listen
 * (no server); IMS_ERROR (logged with file, line and key) on a bad value or
 * when the port cannot be bound.
 */
int ims_http_probe_from_conf(ims_loop_t *loop, ims_conf_t *conf, ims_metrics_t *metrics,
                             ims_probe_ready_cb ready, void *arg, ims_http_probe_t **out);

#endif
