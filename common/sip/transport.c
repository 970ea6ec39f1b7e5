/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The transport API and UDP (RFC 3261 §18). Stream connections live in
 * transport_tcp.c, their TLS sessions in transport_tls.c.
 *
 * UDP listeners read in bounded batches so one busy socket cannot starve the
 * rest of the loop; the epoll registration is level-triggered, so whatever
 * is left is read on the next turn. A datagram is one message: it is parsed
 * as it arrived (sip_msg_parse discards bytes past Content-Length, §18.3),
 * and a request that fails parsing is answered with a 400 to its source
 * address from the socket it came in on.
 */
#define _GNU_SOURCE /* recvmmsg */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/msg_int.h"
#include "common/sip/transport_int.h"

#define SIP_TP_DEF_MAX_MSG   65535
#define SIP_TP_DEF_IDLE_MS   300000
#define SIP_TP_DEF_MAX_CONNS 4096
#define SIP_TP_UDP_RCVBUF    (4 * 1024 * 1024)
#define SIP_TP_TCP_BACKLOG   1024

static const char *proto_name(sip_proto_t p)
{
    return p == SIP_PROTO_UDP ? "UDP" : p == SIP_PROTO_TCP ? "TCP" : "TLS";
}

char *sip_tp_deliver(sip_transport_t *tp, const char *buf, size_t len, const sip_rcv_t *rcv,
                     size_t *rlen)
{
    const char *reason = NULL;
    sip_msg_t *msg = NULL;
    sip_parse_rc_t rc;
    char src[64];
    int code;

    rc = sip_msg_parse(buf, len, rcv, tp->cfg.max_msg_size, &msg, &reason);
    if (rc == SIP_PARSE_OK) {
        tp->st.rx_msgs++;
        tp->cb(tp->arg, msg);
        return NULL;
    }
    tp->st.parse_errors++;
    IMS_INFO("sip: %s from %s %s: %s", rc == SIP_PARSE_BAD ? "bad request" : "dropped message",
             proto_name(rcv->proto), sip_addr_str(&rcv->remote, src, sizeof(src)),
             reason != NULL ? reason : "?");
    if (rc != SIP_PARSE_BAD) {
        tp->st.dropped++;
        return NULL;
    }
    code = reason != NULL && strcmp(reason, "Message Too Large") == 0 ? 513 : 400;
    return sip_msg_raw_response(buf, len, code, reason, rlen);
}

/* Nothing but CR and LF: a keep-alive, not a message. */
static bool is_keepalive(const char *buf, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (buf[i] != '\r' && buf[i] != '\n')
            return false;
    return true;
}

static void udp_deliver(sip_listener_t *l, int fd, char *buf, size_t n, sip_rcv_t *rcv)
{
    sip_transport_t *tp = l->tp;
    size_t rlen;
    char *resp;

    if (is_keepalive(buf, n))
        return;
    resp = sip_tp_deliver(tp, buf, n, rcv, &rlen);
    if (resp == NULL)
        return;
    if (sendto(fd, resp, rlen, 0, (struct sockaddr *)&rcv->remote.ss, rcv->remote.len) ==
        (ssize_t)rlen)
        tp->st.rx_400_sent++;
    free(resp);
}

/* One recvmmsg takes what is queued: fewer than asked for means the socket is
 * drained, so no further call just to learn EAGAIN (one system call less per
 * datagram when they come one per wakeup, as they mostly do). */
void sip_tp_udp_read_cb(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    sip_listener_t *l = arg;
    struct mmsghdr mm[SIP_TP_UDP_VLEN];
    struct iovec iov[SIP_TP_UDP_VLEN];
    sip_rcv_t rcv[SIP_TP_UDP_VLEN];
    int n;

    for (size_t round = 0; round < SIP_TP_UDP_BATCH / SIP_TP_UDP_VLEN; round++) {
        memset(mm, 0, sizeof(mm));
        for (int i = 0; i < SIP_TP_UDP_VLEN; i++) {
            memset(&rcv[i], 0, sizeof(rcv[i]));
            iov[i].iov_base = l->tp->udp_buf + (size_t)i * SIP_TP_UDP_BUF;
            iov[i].iov_len = SIP_TP_UDP_BUF;
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
            mm[i].msg_hdr.msg_name = &rcv[i].remote.ss;
            mm[i].msg_hdr.msg_namelen = sizeof(rcv[i].remote.ss);
        }
        n = recvmmsg(fd, mm, SIP_TP_UDP_VLEN, MSG_DONTWAIT, NULL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* EAGAIN, or an error the next turn will see again */
        for (int i = 0; i < n; i++) {
            rcv[i].proto = SIP_PROTO_UDP;
            rcv[i].local = l->local;
            rcv[i].remote.len = mm[i].msg_hdr.msg_namelen;
            udp_deliver(l, fd, iov[i].iov_base, mm[i].msg_len, &rcv[i]);
        }
        if (n < SIP_TP_UDP_VLEN)
            return;
    }
}

sip_transport_t *sip_transport_new(ims_loop_t *loop, const sip_transport_cfg_t *cfg,
                                   sip_recv_cb cb, void *arg)
{
    sip_transport_t *tp;

    if (loop == NULL || cb == NULL)
        return NULL;
    tp = calloc(1, sizeof(*tp));
    if (tp == NULL)
        return NULL;
    tp->loop = loop;
    tp->cb = cb;
    tp->arg = arg;
    ims_timer_init(&tp->fail_timer);  /* before any failure: sip_transport_free stops it */
    if (cfg != NULL)
        tp->cfg = *cfg;
    if (tp->cfg.max_msg_size == 0)
        tp->cfg.max_msg_size = SIP_TP_DEF_MAX_MSG;
    if (tp->cfg.tcp_idle_ms == 0)
        tp->cfg.tcp_idle_ms = SIP_TP_DEF_IDLE_MS;
    if (tp->cfg.max_conns == 0)
        tp->cfg.max_conns = SIP_TP_DEF_MAX_CONNS;
    tp->udp_buf = malloc((size_t)SIP_TP_UDP_VLEN * SIP_TP_UDP_BUF);
    if (tp->udp_buf == NULL || sip_tcp_init(tp) != IMS_OK) {
        sip_transport_free(tp);
        return NULL;
    }
    sip_msg_global_init();
    return tp;
}

void sip_transport_free(sip_transport_t *tp)
{
    size_t i;

    if (tp == NULL)
        return;
    sip_tcp_fini(tp);
    sip_tls_fini(tp);
    sip_tp_extra_fini(tp);
    for (i = 0; i < tp->nlst; i++) {
        ims_loop_del_fd(tp->loop, tp->lst[i].fd);
        close(tp->lst[i].fd);
    }
    free(tp->udp_buf);
    free(tp);
}

static int set_int(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof(v));
}

int sip_tp_open_listener(sip_proto_t proto, sip_addr_t *a)
{
    int fd = socket(a->ss.ss_family,
                    (proto == SIP_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
                        SOCK_CLOEXEC,
                    0);

    if (fd < 0)
        return -1;
    set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    /* [::] and 0.0.0.0 are separate listeners here. */
    if (a->ss.ss_family == AF_INET6)
        set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    if (proto == SIP_PROTO_UDP)
        set_int(fd, SOL_SOCKET, SO_RCVBUF, SIP_TP_UDP_RCVBUF);  /* best effort */
    if (bind(fd, (struct sockaddr *)&a->ss, a->len) < 0 ||
        (proto != SIP_PROTO_UDP && listen(fd, SIP_TP_TCP_BACKLOG) < 0)) {
        close(fd);
        return -1;
    }
    a->len = sizeof(a->ss);
    if (getsockname(fd, (struct sockaddr *)&a->ss, &a->len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int sip_transport_listen(sip_transport_t *tp, sip_proto_t proto, const char *host, uint16_t port)
{
    sip_listener_t *l;
    sip_addr_t a;
    char txt[64];
    int fd;

    if (tp == NULL || tp->nlst >= SIP_TP_MAX_LISTENERS ||
        (proto != SIP_PROTO_UDP && proto != SIP_PROTO_TCP && proto != SIP_PROTO_TLS))
        return IMS_ERROR;
    if (proto == SIP_PROTO_TLS && !sip_tls_can_listen(tp)) {
        IMS_ERR("sip: listen TLS: TLS not enabled with a certificate");
        return IMS_ERROR;
    }
    if (sip_addr_from(&a, host, port) != IMS_OK) {
        IMS_ERR("sip: listen: '%s' is not an IP address", host != NULL ? host : "");
        return IMS_ERROR;
    }
    fd = sip_tp_open_listener(proto, &a);
    if (fd < 0) {
        IMS_ERR("sip: listen %s %s: %s", proto_name(proto), sip_addr_str(&a, txt, sizeof(txt)),
                strerror(errno));
        return IMS_ERROR;
    }
    l = &tp->lst[tp->nlst];
    l->tp = tp;
    l->fd = fd;
    l->proto = proto;
    l->local = a;
    if (ims_loop_add_fd(tp->loop, fd, IMS_EV_READ,
                        proto == SIP_PROTO_UDP ? sip_tp_udp_read_cb : sip_tcp_accept_cb,
                        l) != IMS_OK) {
        close(fd);
        return IMS_ERROR;
    }
    tp->nlst++;
    IMS_NOTICE("sip: listening on %s %s", proto_name(proto), sip_addr_str(&a, txt, sizeof(txt)));
    return IMS_OK;
}

const sip_listener_t *sip_tp_listener(const sip_transport_t *tp, sip_proto_t proto, int family)
{
    size_t i;

    for (i = 0; i < tp->nlst; i++)
        if (tp->lst[i].proto == proto && tp->lst[i].local.ss.ss_family == family)
            return &tp->lst[i];
    return NULL;
}

int sip_transport_local(const sip_transport_t *tp, sip_proto_t proto, int family, sip_addr_t *addr)
{
    const sip_listener_t *l = tp != NULL ? sip_tp_listener(tp, proto, family) : NULL;

    if (l == NULL)
        return IMS_DECLINED;
    *addr = l->local;
    return IMS_OK;
}

static socklen_t addr_len(const sip_addr_t *a)
{
    if (a->ss.ss_family == AF_INET)
        return sizeof(struct sockaddr_in);
    if (a->ss.ss_family == AF_INET6)
        return sizeof(struct sockaddr_in6);
    return 0;
}

static int udp_send(sip_transport_t *tp, const sip_dest_t *dst, const char *buf, size_t len)
{
    const sip_listener_t *l = NULL;
    socklen_t alen = addr_len(&dst->addr);
    char txt[64];
    ssize_t n;

    /* From the local address asked for while we listen there, else the default. */
    if (dst->local.ss.ss_family == dst->addr.ss.ss_family)
        l = sip_tp_listener_at(tp, SIP_PROTO_UDP, &dst->local);
    if (l == NULL)
        l = sip_tp_listener(tp, SIP_PROTO_UDP, dst->addr.ss.ss_family);
    if (l == NULL || alen == 0)
        return IMS_ERROR;
    do {
        n = sendto(l->fd, buf, len, 0, (const struct sockaddr *)&dst->addr.ss, alen);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) {
        /* A full socket buffer loses the datagram: the transaction layer retransmits. */
        IMS_DEBUG("sip: UDP send to %s: %s", sip_addr_str(&dst->addr, txt, sizeof(txt)),
                  n < 0 ? strerror(errno) : "short write");
        tp->st.dropped++;
        return IMS_ERROR;
    }
    return IMS_OK;
}

int sip_transport_send(sip_transport_t *tp, const sip_dest_t *dst, const char *buf, size_t len)
{
    return sip_transport_send_unready(tp, dst, buf, len, NULL);
}

int sip_transport_send_unready(sip_transport_t *tp, const sip_dest_t *dst, const char *buf,
                               size_t len, uint32_t *unready)
{
    int rc;

    if (unready)
        *unready = 0;
    if (tp == NULL || dst == NULL || buf == NULL || len == 0)
        return IMS_ERROR;
    if (dst->proto == SIP_PROTO_UDP)
        rc = udp_send(tp, dst, buf, len);
    else if (dst->proto == SIP_PROTO_TCP || (dst->proto == SIP_PROTO_TLS && tp->tls != NULL))
        rc = sip_tcp_send(tp, dst, buf, len, unready);
    else
        rc = IMS_ERROR;
    if (rc == IMS_OK)
        tp->st.tx_msgs++;
    return rc;
}

int sip_transport_send_msg(sip_transport_t *tp, const sip_dest_t *dst, const sip_msg_t *msg)
{
    char *buf;
    size_t len;
    int rc;

    if (sip_msg_to_str(msg, &buf, &len) != IMS_OK)
        return IMS_ERROR;
    rc = sip_transport_send(tp, dst, buf, len);
    osip_free(buf);
    return rc;
}

const sip_transport_stats_t *sip_transport_stats(const sip_transport_t *tp)
{
    return &tp->st;
}
