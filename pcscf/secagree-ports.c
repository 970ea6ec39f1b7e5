/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The protected ports of one sec-agree set (TS 33.203 §7.1): UDP and TCP
 * listeners at our address on port_ps (the UE's requests come there) and
 * port_pc (our requests leave from there; the UE answers to it), open while
 * its SAs are in the kernel.
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

void pcscf_sec_ports_close(sip_transport_t *tp, const ims_xfrm_addr_t *us, uint16_t ps,
                           uint16_t pc)
{
    const uint16_t ports[2] = { ps, pc };
    sip_addr_t a;

    for (int i = 0; i < 2; i++) {
        if (!pcscf_sec_sip_addr(us, ports[i], &a))
            return;
        sip_transport_unlisten(tp, SIP_PROTO_UDP, &a);
        sip_transport_unlisten(tp, SIP_PROTO_TCP, &a);
    }
}

int pcscf_sec_ports_open(sip_transport_t *tp, const ims_xfrm_addr_t *us, uint16_t ps,
                         uint16_t pc)
{
    const uint16_t ports[2] = { ps, pc };
    sip_addr_t a;

    for (int i = 0; i < 2; i++) {
        if (!pcscf_sec_sip_addr(us, ports[i], &a) ||
            sip_transport_listen_at(tp, SIP_PROTO_UDP, &a) != IMS_OK ||
            sip_transport_listen_at(tp, SIP_PROTO_TCP, &a) != IMS_OK) {
            pcscf_sec_ports_close(tp, us, ps, pc);
            return IMS_ERROR;
        }
    }
    return IMS_OK;
}
