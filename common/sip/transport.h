/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SIP transports on the event loop: UDP, TCP and TLS, IPv4 and IPv6.
 *
 * Inbound: datagrams and stream bytes are framed (TCP by Content-Length),
 * parsed with sip_msg_parse, and each good message is handed to the receive
 * callback, which takes ownership. Messages that fail parsing are answered
 * here with 400 (sip_msg_raw_400) when possible and counted; on a stream whose
 * framing is lost the connection is closed after the answer.
 *
 * Outbound: sip_transport_send picks the connection (the given id if still
 * open, else any open one to that address, else a new non-blocking connect)
 * and queues what the socket does not take at once.
 *
 * TLS (transport_tls.c) is TCP with OpenSSL in between: the same framing,
 * queues and connection reuse, plus a handshake bounded in time. It is off
 * until sip_transport_tls() enables it; then SIP_PROTO_TLS listens and sends.
 */
#ifndef SIP_TRANSPORT_H
#define SIP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/core/loop.h"
#include "common/sip/msg.h"

typedef struct sip_transport sip_transport_t;

typedef struct sip_transport_cfg {
    size_t max_msg_size;     /* largest accepted message, bytes (default 65535) */
    uint32_t tcp_idle_ms;    /* close idle TCP connections after this (default 300000) */
    uint32_t max_conns;      /* open TCP connections at most (default 4096) */
} sip_transport_cfg_t;

/* Where to send: protocol, address, and (streams) a preferred connection. */
typedef struct sip_dest {
    sip_proto_t proto;
    sip_addr_t addr;
    uint32_t conn_id;        /* 0: any / new */
    /* UDP: send from this local address, one we listen on (configured, or opened
     * with sip_transport_listen_at); family 0 (as zeroed), or one we no longer
     * listen on: the default one. TCP, with conn_id 0 (a request): only a
     * connection from exactly this address is used; a new one is bound to it
     * (no TCP listener may hold it) and then serves its remote address. */
    sip_addr_t local;
} sip_dest_t;

typedef void (*sip_recv_cb)(void *arg, sip_msg_t *msg);

typedef struct sip_transport_stats {
    uint64_t rx_msgs, tx_msgs, parse_errors, rx_400_sent, dropped, conns_open;
    /* TLS: handshakes completed, and failed or timed out (either side); TLS
     * connections open (handshaking ones included, also in conns_open). */
    uint64_t tls_handshakes, tls_failed, tls_conns_open;
} sip_transport_stats_t;

/* What a TLS server asks of its clients (sip_tls_cfg_t.client_cert). */
typedef enum sip_tls_client_cert {
    SIP_TLS_CLIENT_CERT_NONE = 0,  /* not asked for (UEs have none) */
    SIP_TLS_CLIENT_CERT_OPTIONAL,  /* asked for; one presented must verify */
    SIP_TLS_CLIENT_CERT_REQUIRED   /* a client without a good one is refused */
} sip_tls_client_cert_t;

/* TLS settings; files are PEM. */
typedef struct sip_tls_cfg {
    const char *cert;        /* certificate (chain) we present; NULL: client only */
    const char *key;         /* its private key (NULL: in the cert file) */
    const char *ca;          /* CAs that must have signed the servers we connect to,
                              * which must name the IP address we connect to;
                              * NULL: servers are not verified */
    /* Clients' certificates (needs ca): signed by ca and naming the IP address
     * the connection comes from, since CSCFs connect from their listening one. */
    sip_tls_client_cert_t client_cert;
    uint32_t handshake_ms;   /* a handshake not done after this is dropped (default 10000) */
} sip_tls_cfg_t;

/* cfg NULL: defaults. cb receives every parsed message (ownership passes). */
sip_transport_t *sip_transport_new(ims_loop_t *loop, const sip_transport_cfg_t *cfg,
                                   sip_recv_cb cb, void *arg);
/* Closes every socket and connection. */
void sip_transport_free(sip_transport_t *tp);

/*
 * Enable TLS (TLS 1.2 and later only, renegotiation off). Loads the files now.
 * IMS_OK; IMS_DECLINED when already enabled; IMS_ERROR (logged) on a bad file.
 * SIGPIPE must be ignored in the process (ims_loop_handle_signals does it).
 */
int sip_transport_tls(sip_transport_t *tp, const sip_tls_cfg_t *cfg);

/*
 * The sip.tls group of a configuration: listen ("IP:PORT", "[v6]:PORT"), cert,
 * key, ca, client_cert ("none", "optional", "required"), handshake_ms. Enables
 * TLS and listens. IMS_OK; IMS_DECLINED when there is no sip.tls or TLS is
 * already on; IMS_ERROR with err filled in.
 */
int sip_transport_tls_conf(sip_transport_t *tp, ims_conf_t *conf, char *err, size_t errlen);

/* Listen on host (IPv4/IPv6 literal) and port (0: ephemeral) for proto UDP, TCP or
 * (once sip_transport_tls enabled it with a certificate) TLS. */
int sip_transport_listen(sip_transport_t *tp, sip_proto_t proto, const char *host, uint16_t port);

/* Our listening address for proto and family (AF_INET/AF_INET6): for Via and
 * Record-Route. IMS_OK with *addr set, IMS_DECLINED when there is none. */
int sip_transport_local(const sip_transport_t *tp, sip_proto_t proto, int family, sip_addr_t *addr);

/*
 * Listening sockets opened and closed at run time, as many as needed (the
 * P-CSCF's protected ports: a pair per UE, TS 33.203 §7). Messages received on
 * one carry it in rcv.local, and responses to them leave from it. A sip_dest_t
 * naming it as local sends from it. IMS_OK; IMS_DECLINED when proto/local is
 * already open (listen) or not open (unlisten); IMS_ERROR otherwise (logged).
 * Stream connections accepted on a closed one stay up until they end.
 */
int sip_transport_listen_at(sip_transport_t *tp, sip_proto_t proto, const sip_addr_t *local);
int sip_transport_unlisten(sip_transport_t *tp, sip_proto_t proto, const sip_addr_t *local);
/* Whether we listen at exactly a (UDP, TCP or TLS; configured or opened at run time). */
bool sip_transport_listens(const sip_transport_t *tp, const sip_addr_t *a);

/* Send buf (not retained). IMS_OK when written or queued, IMS_ERROR otherwise
 * (no listener of that family for UDP, connection limit, connect failure, TLS
 * not enabled). TLS: written once the handshake is done. */
int sip_transport_send(sip_transport_t *tp, const sip_dest_t *dst, const char *buf, size_t len);
/* The same, telling in *unready where a request is left waiting: the id of the
 * connection we opened that buf is queued on while it still connects or does
 * its TLS handshake (see sip_transport_on_conn_fail), else 0. */
int sip_transport_send_unready(sip_transport_t *tp, const sip_dest_t *dst, const char *buf,
                               size_t len, uint32_t *unready);

/* Serialise and send msg (msg stays with the caller). */
int sip_transport_send_msg(sip_transport_t *tp, const sip_dest_t *dst, const sip_msg_t *msg);

const sip_transport_stats_t *sip_transport_stats(const sip_transport_t *tp);

/*
 * The open stream connection with remote (accepted from it or made to it), for
 * a peer reachable only over the connection it opened (a UE behind a NAT, RFC
 * 5626 §5.3): its id, with *proto set to its protocol; 0 when there is none.
 * *proto on entry: SIP_PROTO_TCP or SIP_PROTO_TLS for that one only,
 * SIP_PROTO_UDP for either (TLS first). A connection closing for lost framing
 * is not one.
 */
uint32_t sip_transport_conn_find(const sip_transport_t *tp, const sip_addr_t *remote,
                                 sip_proto_t *proto);

/*
 * A stream connection we opened failed before it carried anything: the connect
 * was refused or timed out, or the TLS handshake failed. What was queued on it
 * is lost, and whoever sent it should know now, not when its own timer runs out
 * (RFC 3261 §17.1.4: a transport failure is a 503). Told from the loop, never
 * from inside a send. One watcher per transport.
 */
typedef void (*sip_conn_fail_cb)(void *arg, uint32_t conn_id);
void sip_transport_on_conn_fail(sip_transport_t *tp, sip_conn_fail_cb cb, void *arg);
/* Stop telling arg, if it is the watcher (a later one stays). */
void sip_transport_off_conn_fail(sip_transport_t *tp, void *arg);

#endif
