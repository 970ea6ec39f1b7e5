/* SPDX-License-Identifier: BSD-2-Clause */
/* The trust domain (see trust.h). */
#include "common/sip/trust.h"

#include <stdio.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/sip/proxy.h"

int sip_trust_add(sip_trust_t *t, const char *ip, uint16_t port)
{
    if (t->n >= SIP_TRUST_MAX)
        return IMS_OK;  /* more is more than a static table is for */
    if (sip_addr_from(&t->node[t->n].addr, ip, port ? port : 5060) != IMS_OK)
        return IMS_ERROR;
    t->node[t->n].any_port = port == 0;
    t->n++;
    return IMS_OK;
}

int sip_trust_load(sip_trust_t *t, ims_conf_t *conf, const char *list_key, char *err,
                   size_t errlen)
{
    size_t n;
    const char *v;
    sip_proxy_host_t h;

    t->n = 0;
    if (ims_conf_list_len(conf, "sip.hosts", &n) != IMS_OK)
        goto conf_bad;
    for (size_t i = 0; i < n; i++)
        if (ims_conf_list_str(conf, "sip.hosts", i, &v) == IMS_OK &&
            sip_proxy_host_parse(v, &h) == IMS_OK && sip_trust_add(t, h.ip, h.port) != IMS_OK)
            goto conf_bad;
    if (ims_conf_list_len(conf, list_key, &n) != IMS_OK)
        goto conf_bad;
    for (size_t i = 0; i < n; i++) {
        char spec[160];

        if (ims_conf_list_str(conf, list_key, i, &v) != IMS_OK)
            goto conf_bad;
        /* An entry is a sip.hosts value without the name. */
        snprintf(spec, sizeof(spec), "x=%s", v);
        if (sip_proxy_host_parse(spec, &h) != IMS_OK || sip_trust_add(t, h.ip, h.port) != IMS_OK) {
            snprintf(err, errlen, "%s: %s: bad entry \"%s\" (want IP, IP:PORT or [IPv6]:PORT)",
                     ims_conf_path(conf), list_key, v);
            return IMS_ERROR;
        }
    }
    return IMS_OK;
conf_bad:
    snprintf(err, errlen, "%s", ims_conf_error(conf));
    return IMS_ERROR;
}

bool sip_trust_has(const sip_trust_t *t, const sip_rcv_t *rcv)
{
    for (int i = 0; i < t->n; i++)
        if (t->node[i].any_port || rcv->proto != SIP_PROTO_UDP
                ? sip_addr_same_ip(&t->node[i].addr, &rcv->remote)
                : sip_addr_equal(&t->node[i].addr, &rcv->remote))
            return true;
    return false;
}
