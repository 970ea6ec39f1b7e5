/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcscf.ipsec: the configuration of sec-agree, and the start-up check of the
 * kernel. A P-CSCF on a kernel without ESP says so at once and then follows
 * require_esp: refuse to start, or run without sec-agree (UEs offering
 * Security-Client then register without IPsec) -- never fail later, per UE,
 * with an obscure error (../shared/docs/ipsec-testing.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "pcscf/secagree.h"

void pcscf_sec_cfg_defaults(pcscf_sec_cfg_t *c)
{
    static const sec_agree_pref_t prefs[] = {
        { SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_AES_CBC },
        { SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_NULL },
        { SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_AES_CBC },
        { SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_NULL },
    };

    memset(c, 0, sizeof(*c));
    c->require_esp = true;
    memcpy(c->prefs, prefs, sizeof(prefs));
    c->nprefs = IMS_ARRAY_LEN(prefs);
    c->spi_min = 0x10000;
    c->spi_max = 0x0fffffff;
    c->port_min = 10000;
    c->port_max = 29999;
    c->retire_ms = 32000;
    c->await_ms = 240000;
}

/* "alg:ealg", e.g. "hmac-sha-1-96:aes-cbc". */
static int parse_pair(const char *s, sec_agree_pref_t *p)
{
    const char *colon = strchr(s, ':');

    if (!colon)
        return IMS_ERROR;
    p->alg = sec_agree_alg_from(s, (size_t)(colon - s));
    p->ealg = sec_agree_ealg_from(colon + 1, strlen(colon + 1));
    return p->alg != SEC_AGREE_ALG_UNKNOWN && p->ealg != SEC_AGREE_EALG_UNKNOWN ? IMS_OK
                                                                               : IMS_ERROR;
}

static int load_algorithms(pcscf_sec_cfg_t *c, ims_conf_t *conf, char *err, size_t errlen)
{
    const char *v;
    size_t n;

    if (ims_conf_list_len(conf, "pcscf.ipsec.algorithms", &n) != IMS_OK) {
        snprintf(err, errlen, "%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (n == 0)
        return IMS_OK;          /* the defaults */
    if (n > PCSCF_SEC_MAX_PREFS) {
        snprintf(err, errlen, "%s: pcscf.ipsec.algorithms: at most %d pairs",
                 ims_conf_path(conf), PCSCF_SEC_MAX_PREFS);
        return IMS_ERROR;
    }
    c->nprefs = 0;
    for (size_t i = 0; i < n; i++) {
        if (ims_conf_list_str(conf, "pcscf.ipsec.algorithms", i, &v) != IMS_OK) {
            snprintf(err, errlen, "%s", ims_conf_error(conf));
            return IMS_ERROR;
        }
        if (parse_pair(v, &c->prefs[c->nprefs]) != IMS_OK) {
            snprintf(err, errlen, "%s: pcscf.ipsec.algorithms: bad pair \"%s\" (want"
                     " hmac-sha-1-96|hmac-md5-96 : aes-cbc|des-ede3-cbc|null)",
                     ims_conf_path(conf), v);
            return IMS_ERROR;
        }
        c->nprefs++;
    }
    return IMS_OK;
}

/* An integer key into *out when present. */
int pcscf_sec_load_config(pcscf_sec_cfg_t *c, ims_conf_t *conf, char *err, size_t errlen)
{
    uint32_t pmin, pmax;

    pcscf_sec_cfg_defaults(c);
    pmin = c->port_min;
    pmax = c->port_max;
    if (!conf)
        return IMS_OK;
    if (ims_conf_bool(conf, "pcscf.ipsec.enabled", false, &c->enabled) == IMS_ERROR ||
        ims_conf_bool(conf, "pcscf.ipsec.require_esp", false, &c->require_esp) == IMS_ERROR ||
        ims_conf_u32(conf, "pcscf.ipsec.spi_min", 256, 0xffffffffLL, &c->spi_min) != IMS_OK ||
        ims_conf_u32(conf, "pcscf.ipsec.spi_max", 256, 0xffffffffLL, &c->spi_max) != IMS_OK ||
        ims_conf_u32(conf, "pcscf.ipsec.port_min", 1, 65535, &pmin) != IMS_OK ||
        ims_conf_u32(conf, "pcscf.ipsec.port_max", 1, 65535, &pmax) != IMS_OK ||
        ims_conf_u32(conf, "pcscf.ipsec.retire_ms", 0, 600000, &c->retire_ms) != IMS_OK ||
        ims_conf_u32(conf, "pcscf.ipsec.reg_await_auth_ms", 1000, 3600000, &c->await_ms) !=
            IMS_OK) {
        snprintf(err, errlen, "%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    c->port_min = (uint16_t)pmin;
    c->port_max = (uint16_t)pmax;
    if (c->spi_min > c->spi_max - 1 || c->port_min >= c->port_max) {
        snprintf(err, errlen, "%s: pcscf.ipsec: spi_min..spi_max and port_min..port_max must"
                 " each hold at least two values", ims_conf_path(conf));
        return IMS_ERROR;
    }
    return load_algorithms(c, conf, err, errlen);
}

int pcscf_sec_probe(pcscf_sec_cfg_t *c, ims_xfrm_t *x)
{
    size_t kept = 0;

    if (ims_xfrm_probe_esp(x) != IMS_OK)
        return IMS_DECLINED;    /* said by the probe: no ESP, or no CAP_NET_ADMIN */
    for (size_t i = 0; i < c->nprefs; i++) {
        const sec_agree_pref_t *p = &c->prefs[i];

        if (ims_xfrm_probe_algs(x, p->alg, p->ealg) != IMS_OK) {
            IMS_WARN("pcscf.ipsec: kernel cannot do %s with %s (%s): pair not offered",
                     sec_agree_alg_name(p->alg), sec_agree_ealg_name(p->ealg),
                     ims_xfrm_error(x));
            continue;
        }
        c->prefs[kept++] = *p;
    }
    c->nprefs = kept;
    if (kept == 0) {
        IMS_ERR("pcscf.ipsec: the kernel can do none of the configured algorithm pairs");
        return IMS_DECLINED;
    }
    return IMS_OK;
}

/* IPsec cannot run: refuse, or go on without, per require_esp. */
static int unusable(const pcscf_sec_cfg_t *c, ims_xfrm_t *x)
{
    ims_xfrm_close(x);
    if (c->require_esp) {
        IMS_ERR("pcscf.ipsec: IPsec sec-agree unavailable and require_esp = true:"
                " not starting");
        return IMS_ERROR;
    }
    IMS_NOTICE("pcscf.ipsec: running WITHOUT IPsec sec-agree (require_esp = false):"
               " UEs register unprotected");
    return IMS_OK;
}

int pcscf_sec_start(pcscf_ctx_t *ctx, sip_transport_t *tp, ims_conf_t *conf)
{
    pcscf_sec_cfg_t c;
    pcscf_secagree_t *s;
    ims_xfrm_t *x;
    char err[512];

    if (pcscf_sec_load_config(&c, conf, err, sizeof(err)) != IMS_OK) {
        IMS_ERR("%s", err);
        return IMS_ERROR;
    }
    if (!c.enabled)
        return IMS_OK;
    if (!(x = ims_xfrm_open())) {
        IMS_ERR("pcscf.ipsec: cannot open netlink xfrm: %s", strerror(errno));
        return unusable(&c, NULL);
    }
    if (pcscf_sec_probe(&c, x) != IMS_OK)
        return unusable(&c, x);
    if (!(s = pcscf_secagree_new(ctx->loop, &c, x))) {
        IMS_ERR("pcscf.ipsec: bad SPI or port range");
        return IMS_ERROR;
    }
    pcscf_secagree_set_transport(s, tp);
    pcscf_sec_attach(ctx, s);
    IMS_NOTICE("pcscf.ipsec: sec-agree on: %zu algorithm pairs, SPIs %u..%u, ports %u..%u",
               c.nprefs, c.spi_min, c.spi_max, c.port_min, c.port_max);
    return IMS_OK;
}
