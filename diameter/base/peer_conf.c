/* SPDX-License-Identifier: BSD-2-Clause */
#include "diameter/base/peer_conf.h"

#include <stdio.h>
#include <string.h>

#include "common/core/rc.h"

typedef struct rd {
    ims_conf_t *conf;
    const char *section;
    char *err;
    size_t errlen;
} rd_t;

static const char *path(char *buf, size_t len, const char *base, const char *key)
{
    int n = snprintf(buf, len, "%s.%s", base, key);

    if (n < 0 || (size_t)n >= len)
        buf[0] = '\0';  /* no key of ours is that long: one that matches nothing */
    return buf;
}

static int failed(rd_t *r)
{
    snprintf(r->err, r->errlen, "%s", ims_conf_error(r->conf));
    return IMS_ERROR;
}

static int str(rd_t *r, const char *base, const char *key, bool req, const char **out)
{
    char k[128];

    return ims_conf_str(r->conf, path(k, sizeof(k), base, key), req, out) == IMS_ERROR
               ? failed(r) : IMS_OK;
}

static int num(rd_t *r, const char *base, const char *key, long long min, long long max,
               uint32_t *out)
{
    char k[128];
    long long v;
    int rc = ims_conf_int(r->conf, path(k, sizeof(k), base, key), false, min, max, &v);

    if (rc == IMS_ERROR)
        return failed(r);
    if (rc == IMS_OK)
        *out = (uint32_t)v;
    return IMS_OK;
}

static int load_peer(rd_t *r, const char *base, dia_peer_cfg_t *p, const char *realm)
{
    char k[128];
    uint32_t port = 3868;
    int rc;

    p->realm = realm;
    p->connect = true;
    if (str(r, base, "host", true, &p->host) != IMS_OK ||
        str(r, base, "realm", false, &p->realm) != IMS_OK ||
        str(r, base, "addr", false, &p->addr) != IMS_OK ||
        num(r, base, "port", 1, 65535, &port) != IMS_OK)
        return IMS_ERROR;
    rc = ims_conf_bool(r->conf, path(k, sizeof(k), base, "connect"), false, &p->connect);
    if (rc == IMS_ERROR)
        return failed(r);
    if (p->connect && !p->addr) {
        snprintf(r->err, r->errlen, "%s: %s: a peer we connect to needs addr",
                 ims_conf_path(r->conf), base);
        return IMS_ERROR;
    }
    p->port = (uint16_t)port;
    return IMS_OK;
}

int dia_conf_load(ims_conf_t *conf, const char *section, dia_conf_t *out, char *err,
                  size_t errlen)
{
    rd_t r = { conf, section, err, errlen };
    dia_node_cfg_t *n = &out->node;
    const char *probe;
    char k[128], base[128];
    uint32_t port = 3868;
    size_t np;

    if (ims_conf_str(conf, path(k, sizeof(k), section, "identity"), false, &probe) ==
        IMS_DECLINED)
        return IMS_DECLINED;
    if (!n->tw_ms)
        n->tw_ms = 30000;
    if (!n->tc_ms)
        n->tc_ms = 30000;
    if (!n->request_timeout_ms)
        n->request_timeout_ms = 4000;
    if (str(&r, section, "identity", true, &n->origin_host) != IMS_OK ||
        str(&r, section, "realm", true, &n->origin_realm) != IMS_OK ||
        str(&r, section, "listen", false, &n->listen_addr) != IMS_OK ||
        num(&r, section, "port", 1, 65535, &port) != IMS_OK ||
        num(&r, section, "tw_ms", 100, 3600000, &n->tw_ms) != IMS_OK ||
        num(&r, section, "tc_ms", 100, 3600000, &n->tc_ms) != IMS_OK ||
        num(&r, section, "request_timeout_ms", 10, 600000, &n->request_timeout_ms) != IMS_OK)
        return IMS_ERROR;
    n->listen_port = (uint16_t)port;
    if (ims_conf_list_len(conf, path(k, sizeof(k), section, "peers"), &np) != IMS_OK)
        return failed(&r);
    if (np > DIA_CONF_MAX_PEERS) {
        snprintf(err, errlen, "%s: %s.peers: at most %d peers", ims_conf_path(conf), section,
                 DIA_CONF_MAX_PEERS);
        return IMS_ERROR;
    }
    out->npeers = 0;
    for (size_t i = 0; i < np; i++) {
        snprintf(base, sizeof(base), "%s.peers.[%zu]", section, i);
        if (load_peer(&r, base, &out->peers[out->npeers++], n->origin_realm) != IMS_OK)
            return IMS_ERROR;
    }
    return IMS_OK;
}

dia_node_t *dia_conf_node(ims_loop_t *loop, const dia_conf_t *c)
{
    dia_node_t *node = dia_node_new(loop, &c->node);

    if (!node)
        return NULL;
    for (int i = 0; i < c->npeers; i++)
        if (dia_node_add_peer(node, &c->peers[i]) != IMS_OK) {
            dia_node_free(node);
            return NULL;
        }
    return node;
}

int dia_conf_reload_peers(dia_node_t *node, ims_conf_t *conf, const char *section, int *added,
                          int *removed, char *err, size_t errlen)
{
    dia_conf_t c;
    int rc = dia_conf_load(conf, section, &c, err, errlen);

    *added = *removed = 0;
    if (rc == IMS_DECLINED)
        snprintf(err, errlen, "%s: no %s group", ims_conf_path(conf), section);
    if (rc != IMS_OK)
        return IMS_ERROR;
    dia_node_set_peers(node, c.peers, c.npeers, added, removed);
    return IMS_OK;
}
