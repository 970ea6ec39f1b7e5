/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small HTTP/2 server for the SBI on nghttp2 and our event loop: h2c with
 * prior knowledge (the client starts with the connection preface; HTTP/1.1
 * and Upgrade are not spoken, as in open5gs), or https with ALPN h2. Requests are routed by method
 * and path prefix to a callback that answers at once (status, headers, body).
 * The P-CSCF's N5 notification server (notifUri) and the test PCF use it.
 *
 * Bounded: at most SBI_H2_SERVER_MAX_CONNS connections (more are closed at
 * accept), each closed (GOAWAY) after SBI_H2_SERVER_IDLE_MS without receiving
 * anything; SBI_H2_SERVER_MAX_STREAMS concurrent streams per connection
 * (SETTINGS_MAX_CONCURRENT_STREAMS; nghttp2 refuses more), request headers and
 * body as h2_msg.h says: a request over them is answered 413 without routing.
 * No route: 404; a route for the path with another method: 405. Error answers
 * carry ProblemDetails (application/problem+json, TS 29.500 §5.2.7.2).
 * Answers are counted by method and status class (h2_stats.h); a GOAWAY from
 * a client is counted and logged (NOTICE); the server's free and
 * sbi_h2_server_goaway send one.
 */
#ifndef SBI_H2_SERVER_H
#define SBI_H2_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/loop.h"
#include "diameter/sbi/h2_msg.h"

#define SBI_H2_SERVER_MAX_CONNS 64
#define SBI_H2_SERVER_MAX_STREAMS 128
#define SBI_H2_SERVER_IDLE_MS 120000
#define SBI_H2_SERVER_MAX_ROUTES 16
#define SBI_H2_ANSWER_MAX_HDRS 4

typedef struct sbi_h2_server sbi_h2_server_t;

typedef enum sbi_h2_action {
    SBI_H2_ANSWER = 0,      /* send status, headers, body (the default) */
    SBI_H2_RESET,           /* reset the stream (RST_STREAM INTERNAL_ERROR), no answer */
    SBI_H2_DROP,            /* close the whole connection without answering */
    SBI_H2_IGNORE           /* never answer (the client's timeout will run: for tests) */
} sbi_h2_action_t;

typedef struct sbi_h2_answer {
    sbi_h2_action_t action;
    int status;                     /* preset to 500: a route must set it */
    const char *content_type;       /* NULL: none (and no body expected) */
    char location[256];             /* "": none */
    sbi_h2_hdr_t hdrs[SBI_H2_ANSWER_MAX_HDRS];  /* more headers: add with sbi_h2_answer_header */
    int nhdrs;
    size_t hused;
    char hspace[512];
    char *body;                     /* malloc'd; the server takes it; NULL: no body */
    size_t body_len;
} sbi_h2_answer_t;

/* Answer req (valid during the call only) by filling ans. Must not free the server. */
typedef void (*sbi_h2_route_cb)(void *arg, const sbi_h2_msg_t *req, sbi_h2_answer_t *ans);

/*
 * Listen on "IP:PORT" or "[IPv6]:PORT" (port 0 picks one). NULL (logged) when
 * listen is malformed or cannot be bound. loop must outlive the server.
 */
sbi_h2_server_t *sbi_h2_server_new(ims_loop_t *loop, const char *listen);
/* The same with TLS (1.2 or later, ALPN "h2" required of clients): cert_file
 * (PEM chain) and key_file (PEM). NULL (logged) when they cannot be used. */
sbi_h2_server_t *sbi_h2_server_new_tls(ims_loop_t *loop, const char *listen,
                                       const char *cert_file, const char *key_file);
/* Close the listener and every connection (streams unanswered are dropped),
 * each after a GOAWAY (NO_ERROR) written as far as the socket takes it at
 * once. NULL: no-op. */
void sbi_h2_server_free(sbi_h2_server_t *s);
/* GOAWAY (NO_ERROR, the last stream taken) on every connection now: the
 * requests in progress are answered, no new stream is accepted on them, and
 * each closes when it has none left. New connections are still accepted.
 * Not from a route callback. */
void sbi_h2_server_goaway(sbi_h2_server_t *s);
uint16_t sbi_h2_server_port(const sbi_h2_server_t *s);
size_t sbi_h2_server_conns(const sbi_h2_server_t *s);

/*
 * Route requests whose :path starts with prefix (copied) and whose method is
 * method (NULL: any) to cb. The longest matching prefix wins. IMS_OK, or
 * IMS_ERROR when the table (SBI_H2_SERVER_MAX_ROUTES) is full.
 */
int sbi_h2_server_route(sbi_h2_server_t *s, const char *method, const char *prefix,
                        sbi_h2_route_cb cb, void *arg);

/* Add a header to ans (name and value copied into ans). IMS_ERROR when full. */
int sbi_h2_answer_header(sbi_h2_answer_t *ans, const char *name, const char *value);
/* A ProblemDetails answer: status, cause (may be NULL), detail (may be NULL). */
void sbi_h2_answer_problem(sbi_h2_answer_t *ans, int status, const char *cause,
                           const char *detail);
/* A JSON answer: the body is the compact dump of the text given (copied). */
void sbi_h2_answer_json(sbi_h2_answer_t *ans, int status, const char *json_text);

#endif
