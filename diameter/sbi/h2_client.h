/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An asynchronous HTTP/2 client for the SBI (TS 29.500) on nghttp2 and our
 * event loop: h2c with prior knowledge, as open5gs's NFs speak it (the client
 * sends the connection preface and SETTINGS at once, no Upgrade).
 *
 * One connection per authority ("IP:PORT"), opened on the first request to it
 * and reused by every later one, many streams at a time. A connection that
 * fails (connect refused or timed out, reset, closed, GOAWAY) fails the
 * requests on it and is dropped; the next request to that authority opens a
 * new one. Nothing blocks: connect is non-blocking and authorities are numeric
 * (no DNS). At most max_pending requests are in flight over all connections.
 *
 * With cfg.tls every connection is https: TLS 1.2 or later with ALPN "h2"
 * (h2_tls.c), the server verified against cfg.tls_ca (its certificate must
 * carry the authority's IP in a subjectAltName) or, without a CA, not at all.
 * A handshake that fails or does not agree on h2 is SBI_H2_ERR_CONNECT.
 *
 * Operations: every request is counted under its operation (h2_stats.h), the
 * connections of all clients are listed by sbi_h2_client_conn_list, and a
 * client going (free, or sbi_h2_client_goaway first) says GOAWAY.
 */
#ifndef SBI_H2_CLIENT_H
#define SBI_H2_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/loop.h"
#include "diameter/sbi/h2_msg.h"

#define SBI_H2_AUTHORITY_MAX 64

typedef struct sbi_h2_client sbi_h2_client_t;

typedef enum sbi_h2_err {
    SBI_H2_OK = 0,          /* a complete response arrived (whatever its status) */
    SBI_H2_ERR_CONNECT,     /* the connection could not be opened */
    SBI_H2_ERR_RESET,       /* the peer reset or refused the stream */
    SBI_H2_ERR_CLOSED,      /* the connection was lost before the response was complete */
    SBI_H2_ERR_TIMEOUT,     /* no complete response within the request's timeout */
    SBI_H2_ERR_PROTOCOL,    /* the peer broke HTTP/2, or the response was over the bounds */
    SBI_H2_ERR_SHUTDOWN     /* the client was freed */
} sbi_h2_err_t;

typedef struct sbi_h2_client_cfg {
    unsigned max_pending;   /* requests in flight; 0: 1024 */
    bool tls;               /* https: TLS with ALPN h2 on every connection */
    const char *tls_ca;     /* PEM file of the CAs to verify servers with; NULL: no check */
} sbi_h2_client_cfg_t;

typedef struct sbi_h2_request {
    const char *method;         /* "GET", "POST", "PATCH", ... */
    const char *authority;      /* "IP:PORT" or "[IPv6]:PORT": where to connect, and :authority */
    const char *path;           /* ":path", from '/' (query included) */
    const char *content_type;   /* of the body; NULL with no body */
    const char *body;           /* copied; NULL or body_len 0: no body */
    size_t body_len;
    const sbi_h2_hdr_t *hdrs;   /* extra headers (lower-case names), copied */
    int nhdrs;
    uint32_t timeout_ms;        /* for the whole exchange, connect included; 0: 5000 */
    const char *op;             /* the operation, for the statistics (h2_stats.h), e.g.
                                 * "POST app-sessions"; NULL: derived from method and path */
} sbi_h2_request_t;

/*
 * The outcome of a request: err SBI_H2_OK with resp the response (valid during
 * the call only), or an error with resp NULL. Called exactly once per accepted
 * request, always from the loop (never from inside sbi_h2_client_request).
 * It may issue or cancel requests; it must not free the client.
 */
typedef void (*sbi_h2_resp_cb)(void *arg, sbi_h2_err_t err, const sbi_h2_msg_t *resp);

/* A client on loop (which must outlive it). cfg may be NULL. NULL (logged)
 * when the TLS context cannot be made (CA file unreadable). */
sbi_h2_client_t *sbi_h2_client_new(ims_loop_t *loop, const sbi_h2_client_cfg_t *cfg);

/*
 * Free the client: every pending request's callback runs with
 * SBI_H2_ERR_SHUTDOWN first, then each open connection sends GOAWAY
 * (NO_ERROR; what the kernel takes at once, never waiting) and closes. NULL is
 * a no-op.
 */
void sbi_h2_client_free(sbi_h2_client_t *c);

/*
 * Graceful end: every open connection sends GOAWAY (NO_ERROR) now and takes
 * no new request; the requests in flight on it finish, then it closes. A
 * later request opens a new connection. For a drain before the free.
 */
void sbi_h2_client_goaway(sbi_h2_client_t *c);

/*
 * Send r (everything in it is copied). Returns the request's id (> 0), or 0
 * when it is refused at once (malformed authority or path, too many pending,
 * the client being freed): then cb is never called.
 */
uint64_t sbi_h2_client_request(sbi_h2_client_t *c, const sbi_h2_request_t *r,
                               sbi_h2_resp_cb cb, void *arg);

/* Forget request id: its callback will not run and its stream is reset.
 * Unknown or finished ids are ignored. */
void sbi_h2_client_cancel(sbi_h2_client_t *c, uint64_t id);

/* Requests in flight, and open connections (for tests and leak checks). */
size_t sbi_h2_client_pending(const sbi_h2_client_t *c);
size_t sbi_h2_client_conns(const sbi_h2_client_t *c);

/* One connection, for imsctl (sbi_h2_client_conn_list). */
typedef struct sbi_h2_conn_info {
    char authority[SBI_H2_AUTHORITY_MAX];
    const char *state;          /* "connecting", "tls-handshake", "open", "goaway", "closing" */
    bool tls;
    size_t streams;             /* requests in flight on it */
    uint64_t requests;          /* requests sent on it */
    uint64_t age_ms;
} sbi_h2_conn_info_t;

/*
 * The connections of every client of the process (at most max written to
 * out, newest client first): the number there are in all, which may be more
 * than max.
 */
size_t sbi_h2_client_conn_list(sbi_h2_conn_info_t *out, size_t max);

const char *sbi_h2_err_name(sbi_h2_err_t err);
/* Whether s is an authority requests accept ("IP:PORT" or "[IPv6]:PORT", numeric). */
bool sbi_h2_authority_ok(const char *s);

#endif
