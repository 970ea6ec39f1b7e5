/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The protected ports of one sec-agree set (TS 33.203 §7.1): UDP and TCP
 * listeners at our address on port_ps (the UE's requests come there, and
 * its connections), a UDP one on port_pc (our requests leave from there; the
 * UE answers to it), open while its SAs are in the kernel. Over TCP our
 * requests go on a connection we make from port_pc to the UE's port_us
 * (pcscf_sec_client_port; transport.h, sip_dest_t.local), so no TCP listener
 * may hold port_pc: Linux binds no socket to a port a listener holds. A
 * re-registration's set keeps the port_ps of the set it replaces (TS 33.203
 * §7.4), so that listener stays open until the last set holding the port
 * goes (secagree-rotate.c).
 */
#include <netinet/in.h>
#include <string.h>

#include "common/core/rc.h"
#include "pcscf/secagree.h"

bool pcscf_sec_sip_addr(const ims_xfrm_addr_t *a, uint16_t port, sip_addr_t *out)
{
    memset(out, 0, sizeof(*out));
    if (a->family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&out->ss;

        s->sin_family = AF_INET;
        s->sin_addr = a->u.v4;
        s->sin_port = htons(port);
        out->len = sizeof(*s);
        return true;
    }
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->ss;

        s->sin6_family = AF_INET6;
        s->sin6_addr = a->u.v6;
        s->sin6_port = htons(port);
        out->len = sizeof(*s);
        return true;
    }
    return false;
}

void pcscf_sec_port_close(sip_transport_t *tp, const ims_xfrm_addr_t *us, uint16_t port)
{
    sip_addr_t a;

    if (!pcscf_sec_sip_addr(us, port, &a))
        return;
    sip_transport_unlisten(tp, SIP_PROTO_UDP, &a);
    sip_transport_unlisten(tp, SIP_PROTO_TCP, &a);
}

int pcscf_sec_port_open(sip_transport_t *tp, const ims_xfrm_addr_t *us, uint16_t port,
                        bool tcp)
{
    sip_addr_t a;
    int udp;

    if (!pcscf_sec_sip_addr(us, port, &a))
        return IMS_ERROR;
    /* IMS_DECLINED: open already (a port_ps kept across a re-registration) */
    if ((udp = sip_transport_listen_at(tp, SIP_PROTO_UDP, &a)) == IMS_ERROR)
        return IMS_ERROR;
    if (tcp && sip_transport_listen_at(tp, SIP_PROTO_TCP, &a) == IMS_ERROR) {
        if (udp == IMS_OK)
            sip_transport_unlisten(tp, SIP_PROTO_UDP, &a);
        return IMS_ERROR;
    }
    return IMS_OK;
}
