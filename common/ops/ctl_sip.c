/* SPDX-License-Identifier: BSD-2-Clause */
#include "common/ops/ctl_sip.h"

#include <stdio.h>
#include <string.h>

#include "common/ops/uelog.h"
#include "common/sip/proxy.h"
#include "common/sip/transport.h"
#include "common/sip/txn.h"

json_t *ims_ctl_sip_counters(const sip_node_t *node)
{
    const sip_transport_stats_t *t = sip_transport_stats(sip_node_transport(node));
    const sip_proxy_t *px = sip_node_proxy(node);
    json_t *o = json_object();

    json_object_set_new(o, "transport",
                        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "rx_msgs", (json_int_t)t->rx_msgs,
                                  "tx_msgs", (json_int_t)t->tx_msgs, "parse_errors",
                                  (json_int_t)t->parse_errors, "rx_400_sent",
                                  (json_int_t)t->rx_400_sent, "dropped", (json_int_t)t->dropped,
                                  "conns_open", (json_int_t)t->conns_open));
    json_object_set_new(o, "tls",
                        json_pack("{s:I,s:I,s:I}", "conns_open", (json_int_t)t->tls_conns_open,
                                  "handshakes", (json_int_t)t->tls_handshakes,
                                  "handshakes_failed", (json_int_t)t->tls_failed));
    json_object_set_new(o, "transactions",
                        json_integer((json_int_t)sip_txn_layer_count(sip_node_layer(node))));
    if (px) {
        const sip_proxy_stats_t *p = sip_proxy_stats(px);

        json_object_set_new(o, "proxy",
                            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                                      "requests", (json_int_t)p->requests,
                                      "forwarded", (json_int_t)p->forwarded,
                                      "local_replies", (json_int_t)p->local_replies,
                                      "loops", (json_int_t)p->loops,
                                      "too_many_hops", (json_int_t)p->too_many_hops,
                                      "cancels", (json_int_t)p->cancels,
                                      "stateless_acks", (json_int_t)p->stateless_acks,
                                      "stray_responses", (json_int_t)p->stray_responses,
                                      "timer_c", (json_int_t)p->timer_c));
    }
    return o;
}

void ims_ctl_sip_ue_addr(const sip_msg_t *req, char *out, size_t outlen)
{
    osip_list_t *vias = req ? sip_msg_vias(req) : NULL;
    int n = vias ? osip_list_size(vias) : 0;
    osip_via_t *v = n > 0 ? osip_list_get(vias, n - 1) : NULL;
    osip_generic_param_t *rcvd = NULL, *rport = NULL;
    const char *host, *port;

    out[0] = '\0';
    if (!v || !v->host)
        return;
    osip_via_param_get_byname(v, "received", &rcvd);
    osip_via_param_get_byname(v, "rport", &rport);
    host = rcvd && rcvd->gvalue && rcvd->gvalue[0] ? rcvd->gvalue : v->host;
    port = rport && rport->gvalue && rport->gvalue[0] ? rport->gvalue
                                                       : v->port ? v->port : "5060";
    snprintf(out, outlen, strchr(host, ':') && host[0] != '[' ? "[%s]:%s" : "%s:%s", host,
             port);
}

void ims_ctl_sip_uelog(struct ims_uelog *log, const char *impi, const char *impu,
                       const sip_msg_t *req, uint8_t kind, uint32_t code, const char *fmt,
                       va_list ap)
{
    char addr[IMS_UELOG_ADDR_MAX], detail[IMS_UELOG_DETAIL_MAX];

    if (!log || !impi || !impi[0])
        return;
    ims_ctl_sip_ue_addr(req, addr, sizeof(addr));
    vsnprintf(detail, sizeof(detail), fmt, ap);
    ims_uelog_add(log, impi, impu, addr, kind, code, "%s", detail);
}
