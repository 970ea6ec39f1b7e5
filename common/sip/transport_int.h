/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal to the SIP transport: the state shared by transport.c (API, UDP),
 * transport_tcp.c (stream connections) and transport_tls.c (OpenSSL).
 */
#ifndef SIP_TRANSPORT_INT_H
#define SIP_TRANSPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/core/hash.h"
#include "common/core/loop.h"
#include "common/sip/transport.h"

#define SIP_TP_MAX_LISTENERS 16
#define SIP_TP_UDP_BUF       65536             /* larger than any UDP payload */
#define SIP_TP_UDP_BATCH     64                /* datagrams read per wakeup, at most */
#define SIP_TP_UDP_VLEN      8                 /* datagrams per recvmmsg */
#define SIP_TP_WQ_MAX        (4u * 1024 * 1024) /* bytes queued per connection */

typedef struct sip_listener {
    sip_transport_t *tp;
    int fd;
    sip_proto_t proto;
    sip_addr_t local;
} sip_listener_t;

typedef struct sip_conn sip_conn_t;
typedef struct sip_tls sip_tls_t;
struct ssl_st;  /* OpenSSL's SSL */

struct sip_transport {
    ims_loop_t *loop;
    sip_transport_cfg_t cfg;
    sip_recv_cb cb;
    void *arg;
    sip_listener_t lst[SIP_TP_MAX_LISTENERS];
    size_t nlst;
    ims_hash_t *extra;  /* listener key -> sip_listener_t * opened at run time */
    char *udp_buf;  /* SIP_TP_UDP_VLEN buffers of SIP_TP_UDP_BUF */
    /* Stream connections: every live one on the list; the indexes find them
     * by id and by remote address (the first one per address). */
    sip_conn_t *conns;
    ims_hash_t *by_id;
    ims_hash_t *by_addr;
    uint32_t next_id;
    sip_tls_t *tls;  /* NULL until sip_transport_tls */
    /* Connections we opened that failed unready, told to fail_cb from fail_timer. */
    sip_conn_fail_cb fail_cb;
    void *fail_arg;
    uint32_t *failed;
    size_t nfailed, failed_cap;
    ims_timer_t fail_timer;
    sip_transport_stats_t st;
};

/*
 * Parse one framed message and hand a good one to the receive callback. When
 * it failed parsing and can be answered, returns the malloc'd response for
 * the caller to send on the same path (and free), with its length in *rlen;
 * otherwise NULL. Counts and logs.
 */
char *sip_tp_deliver(sip_transport_t *tp, const char *buf, size_t len, const sip_rcv_t *rcv,
                     size_t *rlen);

/* A bound (and for TCP listening) non-blocking socket for a (its port filled in
 * when 0), or -1 with errno. */
int sip_tp_open_listener(sip_proto_t proto, sip_addr_t *a);
void sip_tp_udp_read_cb(ims_loop_t *loop, int fd, unsigned events, void *arg);
/* The listener of proto at local (configured or opened at run time), or NULL. */
const sip_listener_t *sip_tp_listener_at(const sip_transport_t *tp, sip_proto_t proto,
                                         const sip_addr_t *local);
/* Close every listener opened at run time (transport_extra.c). */
void sip_tp_extra_fini(sip_transport_t *tp);

/* The first listener of proto and family, or NULL. */
const sip_listener_t *sip_tp_listener(const sip_transport_t *tp, sip_proto_t proto, int family);

/* transport_tcp.c */
int sip_tcp_init(sip_transport_t *tp);
void sip_tcp_fini(sip_transport_t *tp);
/* The loop callback of a TCP listening socket (arg: its sip_listener_t). */
void sip_tcp_accept_cb(ims_loop_t *loop, int fd, unsigned events, void *arg);
/* TCP or TLS (dst->proto); unready as for sip_transport_send_unready. */
int sip_tcp_send(sip_transport_t *tp, const sip_dest_t *dst, const char *buf, size_t len,
                 uint32_t *unready);

/*
 * transport_tls.c: the OpenSSL half of a TLS connection; transport_tcp.c owns
 * the socket, the queues and the events. The I/O calls behave as read() and
 * send() on a non-blocking socket: > 0 bytes; 0 the peer closed; -1 with errno
 * EAGAIN (*want: the socket event to wait for, IMS_EV_READ or IMS_EV_WRITE) or
 * another errno (the session is broken: close; the reason is logged).
 */
bool sip_tls_can_listen(const sip_transport_t *tp);
void sip_tls_fini(sip_transport_t *tp);
uint32_t sip_tls_handshake_ms(const sip_transport_t *tp);
/* A session on fd (not taken over), server or client side; NULL (logged) on failure. */
struct ssl_st *sip_tls_session(sip_transport_t *tp, int fd, bool server, const sip_addr_t *peer);
/* Send close_notify when the session is sound (best effort), then free it. */
void sip_tls_close(struct ssl_st *ssl);
/* IMS_OK done, IMS_AGAIN (*want set), IMS_ERROR failed (logged and counted). */
int sip_tls_handshake(sip_transport_t *tp, struct ssl_st *ssl, uint32_t id,
                      const sip_addr_t *peer, unsigned *want);
ssize_t sip_tls_read(struct ssl_st *ssl, char *buf, size_t n, unsigned *want);
ssize_t sip_tls_write(struct ssl_st *ssl, const char *buf, size_t n, unsigned *want);
/* Decrypted bytes already read from the socket but not yet by sip_tls_read. */
bool sip_tls_pending(const struct ssl_st *ssl);

#endif
