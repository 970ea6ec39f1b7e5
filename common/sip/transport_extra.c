/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening sockets opened and closed at run time (see transport.h): the
 * P-CSCF opens a protected port pair per UE as its IPsec SAs come up and closes
 * it when they go, thousands of them, so they live in a hash by address
 * rather than in the fixed array of configured listeners. Sending from one
 * (sip_dest_t.local) finds it by the same key.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/transport_int.h"

/* proto, family, address bytes, port: the identity of a listener. */
typedef struct lkey {
    char b[1 + 1 + 16 + 2];
    size_t n;
} lkey_t;

static bool key_of(lkey_t *k, sip_proto_t proto, const sip_addr_t *a)
{
    k->b[0] = (char)proto;
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)&a->ss;

        k->b[1] = 4;
        memcpy(k->b + 2, &s->sin_addr, 4);
        memcpy(k->b + 6, &s->sin_port, 2);
        k->n = 8;
        return true;
    }
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&a->ss;

        k->b[1] = 6;
        memcpy(k->b + 2, &s->sin6_addr, 16);
        memcpy(k->b + 18, &s->sin6_port, 2);
        k->n = 20;
        return true;
    }
    return false;
}

const sip_listener_t *sip_tp_listener_at(const sip_transport_t *tp, sip_proto_t proto,
                                         const sip_addr_t *local)
{
    lkey_t k;

    for (size_t i = 0; i < tp->nlst; i++)
        if (tp->lst[i].proto == proto && sip_addr_equal(&tp->lst[i].local, local))
            return &tp->lst[i];
    if (!tp->extra || !key_of(&k, proto, local))
        return NULL;
    return ims_hash_find_n(tp->extra, k.b, k.n);
}

bool sip_transport_listens(const sip_transport_t *tp, const sip_addr_t *a)
{
    return tp && a && (sip_tp_listener_at(tp, SIP_PROTO_UDP, a) ||
                       sip_tp_listener_at(tp, SIP_PROTO_TCP, a) ||
                       sip_tp_listener_at(tp, SIP_PROTO_TLS, a));
}

int sip_transport_listen_at(sip_transport_t *tp, sip_proto_t proto, const sip_addr_t *local)
{
    sip_listener_t *l;
    sip_addr_t a;
    char txt[64];
    lkey_t k;

    if (!tp || !local || (proto != SIP_PROTO_UDP && proto != SIP_PROTO_TCP) ||
        !key_of(&k, proto, local))
        return IMS_ERROR;
    if (sip_tp_listener_at(tp, proto, local))
        return IMS_DECLINED;
    if (!tp->extra && !(tp->extra = ims_hash_new(64)))
        return IMS_ERROR;
    a = *local;
    if (!(l = calloc(1, sizeof(*l))))
        return IMS_ERROR;
    l->fd = sip_tp_open_listener(proto, &a);
    if (l->fd < 0) {
        IMS_WARN("sip: listen %s %s: %s", proto == SIP_PROTO_UDP ? "UDP" : "TCP",
                 sip_addr_str(local, txt, sizeof(txt)), strerror(errno));
        free(l);
        return IMS_ERROR;
    }
    l->tp = tp;
    l->proto = proto;
    l->local = a;
    if (ims_loop_add_fd(tp->loop, l->fd, IMS_EV_READ,
                        proto == SIP_PROTO_UDP ? sip_tp_udp_read_cb : sip_tcp_accept_cb,
                        l) != IMS_OK ||
        !key_of(&k, proto, &a) || ims_hash_insert_n(tp->extra, k.b, k.n, l) != IMS_OK) {
        ims_loop_del_fd(tp->loop, l->fd);
        close(l->fd);
        free(l);
        return IMS_ERROR;
    }
    IMS_INFO("sip: listening on %s %s", proto == SIP_PROTO_UDP ? "UDP" : "TCP",
             sip_addr_str(&a, txt, sizeof(txt)));
    return IMS_OK;
}

static void close_one(sip_transport_t *tp, sip_listener_t *l)
{
    ims_loop_del_fd(tp->loop, l->fd);
    close(l->fd);
    free(l);
}

int sip_transport_unlisten(sip_transport_t *tp, sip_proto_t proto, const sip_addr_t *local)
{
    sip_listener_t *l;
    lkey_t k;

    if (!tp || !local || !key_of(&k, proto, local))
        return IMS_ERROR;
    if (!tp->extra || !(l = ims_hash_remove_n(tp->extra, k.b, k.n)))
        return IMS_DECLINED;
    close_one(tp, l);
    return IMS_OK;
}

static void free_one(void *arg, const char *key, void *value)
{
    close_one(arg, value);
}

void sip_tp_extra_fini(sip_transport_t *tp)
{
    if (!tp->extra)
        return;
    ims_hash_foreach(tp->extra, free_one, tp);
    ims_hash_free(tp->extra);
    tp->extra = NULL;
}
