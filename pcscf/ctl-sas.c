/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF's "sas" control command: the IPsec SAs of sec-agree, one row per
 * set (a UE's four SAs), as the kernel holds them.
 *
 * Why the kernel and not the sec-agree state: secagree.h keeps its sets
 * opaque and offers only counts; what an operator asks "are this phone's SAs
 * there?" is answered best by the kernel anyway. Our SAs carry our owner tag
 * (PCSCF_SEC_OWNER) and the four SAs of one set share the reqid spi_ps, so a
 * dump groups into sets without knowing more (secagree.h, the SA table):
 *
 *   SA1 UE:port_uc -> P:port_ps  spi_ps (== reqid)   SA2 P:port_pc -> UE:port_us  spi_us
 *   SA3 P:port_ps -> UE:port_uc  spi_uc              SA4 UE:port_us -> P:port_pc  spi_pc
 *
 * The algorithms, the state and the age are not in the dump (xfrm.h keeps
 * only selectors and SPIs): they come from sec-agree's own record of the set
 * (pcscf_secagree_info, by spi_ps). Read-only; one netlink dump per command,
 * answered while we read it (xfrm.h: the loop never waits).
 */
#include "pcscf/ctl-cmds.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/ipsec/xfrm.h"
#include "common/ops/ctl.h"
#include "pcscf/secagree.h"

/* Our SAs of the dump, grouped afterwards by reqid. */
typedef struct sa_dump {
    ims_xfrm_sa_t *sa;
    size_t n, cap;
} sa_dump_t;

static int dump_one(void *arg, const ims_xfrm_sa_t *sa)
{
    sa_dump_t *d = arg;

    if (sa->sel.owner != PCSCF_SEC_OWNER)
        return IMS_OK;
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        if (!(d->sa = realloc(d->sa, d->cap * sizeof(*d->sa))))
            abort();
    }
    d->sa[d->n++] = *sa;
    return IMS_OK;
}

static int by_reqid(const void *a, const void *b)
{
    const ims_xfrm_sa_t *x = a, *y = b;

    return x->reqid < y->reqid ? -1 : x->reqid > y->reqid;
}

static bool addr_eq(const ims_xfrm_addr_t *a, const ims_xfrm_addr_t *b)
{
    if (a->family != b->family)
        return false;
    return a->family == AF_INET ? a->u.v4.s_addr == b->u.v4.s_addr
                                : memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
}

/* "ip:port" of a, as the P-CSCF's address keys write it. */
static const char *addr_str(const ims_xfrm_addr_t *a, uint16_t port, char *buf, size_t len)
{
    sip_addr_t sa;

    if (!pcscf_sec_sip_addr(a, port, &sa))
        return "?";
    return sip_addr_str(&sa, buf, len);
}

/* state, alg, ealg and age_s from sec-agree's record; null when it has none
 * (an SA of ours the P-CSCF no longer knows: a leftover the sweep removes). */
static void info_fields(const pcscf_ctx_t *ctx, uint32_t spi_ps, json_t *o)
{
    static const char *const states[] = { "offered", "pending", "active", "retiring" };
    pcscf_sec_info_t in;

    if (!ctx->sec || !pcscf_secagree_info(ctx->sec, spi_ps, &in)) {
        json_object_set_new(o, "state", json_null());
        json_object_set_new(o, "alg", json_null());
        json_object_set_new(o, "ealg", json_null());
        json_object_set_new(o, "age_s", json_null());
        return;
    }
    ims_ctl_set_str(o, "state", (unsigned)in.state <= PCSCF_SEC_RETIRING ? states[in.state] : "?");
    ims_ctl_set_str(o, "alg", sec_agree_alg_name(in.alg));
    ims_ctl_set_str(o, "ealg", sec_agree_ealg_name(in.ealg));
    json_object_set_new(o, "age_s", json_integer((json_int_t)(in.age_ms / 1000)));
}

/* The row of one set: sa[0..n) share a reqid. NULL when SA1 is missing (it
 * names the UE), e.g. a set being removed during the dump. */
static json_t *set_row(const pcscf_ctx_t *ctx, const ims_xfrm_sa_t *sa, size_t n)
{
    const ims_xfrm_sa_t *s[4] = { NULL };
    char ue[80], key[96];
    const pcscf_ue_t *u;
    json_t *o;

    for (size_t i = 0; i < n; i++)
        if (sa[i].spi == sa[i].reqid)
            s[0] = &sa[i];
    if (!s[0])
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (&sa[i] == s[0])
            continue;
        if (addr_eq(&sa[i].sel.src, &s[0]->sel.src))
            s[3] = &sa[i];                            /* in from the UE's port-s */
        else if (sa[i].sel.dport == s[0]->sel.sport)
            s[2] = &sa[i];                            /* out to its port-c */
        else
            s[1] = &sa[i];                            /* out to its port-s */
    }
    addr_str(&s[0]->sel.src, s[0]->sel.sport, ue, sizeof(ue));
    snprintf(key, sizeof(key), "%c:%s", s[0]->sel.l4proto == IPPROTO_TCP ? 't' : 'u', ue);
    if (!(u = pcscf_ue_find_addr(ctx, key)) && s[0]->sel.l4proto == 0) {
        key[0] = 't';   /* a selector for any protocol covers both */
        u = pcscf_ue_find_addr(ctx, key);
    }
    o = json_object();
    ims_ctl_set_str(o, "ue", ue);
    ims_ctl_set_str(o, "impu", u ? pcscf_ue_impu(u, 0) : NULL);
    json_object_set_new(o, "spi_uc", s[2] ? json_integer(s[2]->spi) : json_null());
    json_object_set_new(o, "spi_us", s[1] ? json_integer(s[1]->spi) : json_null());
    json_object_set_new(o, "spi_pc", s[3] ? json_integer(s[3]->spi) : json_null());
    json_object_set_new(o, "spi_ps", json_integer(s[0]->spi));
    json_object_set_new(o, "port_uc", json_integer(s[0]->sel.sport));
    json_object_set_new(o, "port_us", s[1] ? json_integer(s[1]->sel.dport) : json_null());
    json_object_set_new(o, "port_pc", s[1] ? json_integer(s[1]->sel.sport) : json_null());
    json_object_set_new(o, "port_ps", json_integer(s[0]->sel.dport));
    json_object_set_new(o, "sas", json_integer((json_int_t)n));
    info_fields(ctx, s[0]->spi, o);
    return o;
}

/* Rows of the kernel's SAs into rows; *total gets the sets found. IMS_ERROR
 * with err when the kernel could not be asked. */
static int kernel_sets(const pcscf_ctx_t *ctx, const char *filter, json_t *rows, size_t *total,
                       char *err, size_t errlen)
{
    ims_xfrm_t *x = ims_xfrm_open();
    sa_dump_t d = { NULL, 0, 0 };
    int rc;

    if (!x) {
        snprintf(err, errlen, "cannot open netlink xfrm: %s", strerror(errno));
        return IMS_ERROR;
    }
    if ((rc = ims_xfrm_sa_dump(x, dump_one, &d)) != IMS_OK)
        snprintf(err, errlen, "%s", ims_xfrm_error(x));
    ims_xfrm_close(x);
    if (d.n > 1)
        qsort(d.sa, d.n, sizeof(*d.sa), by_reqid);
    for (size_t i = 0, j; rc == IMS_OK && i < d.n; i = j) {
        json_t *o;

        for (j = i + 1; j < d.n && d.sa[j].reqid == d.sa[i].reqid; j++)
            ;
        if (!(o = set_row(ctx, d.sa + i, j - i)))
            continue;
        if (!ims_ctl_match(json_string_value(json_object_get(o, "ue")), filter) &&
            !ims_ctl_match(json_string_value(json_object_get(o, "impu")), filter)) {
            json_decref(o);
            continue;
        }
        if (++*total <= IMS_CTL_MAX_ROWS)
            json_array_append_new(rows, o);
        else
            json_decref(o);
    }
    free(d.sa);
    return rc;
}

static int cmd_sas(void *arg, const ims_ctl_args_t *a, json_t **data, char *err, size_t errlen)
{
    pcscf_ctx_t *ctx = arg;
    const pcscf_secagree_t *s = ctx->sec;
    static const char *const states[] = { "offered", "pending", "active", "retiring" };
    json_t *rows = json_array(), *sets = json_object();
    size_t total = 0;

    if (a->argc > 1) {
        json_decref(rows);
        json_decref(sets);
        snprintf(err, errlen, "usage: sas [filter]");
        return IMS_ERROR;
    }
    for (int i = PCSCF_SEC_OFFERED; i <= PCSCF_SEC_RETIRING; i++)
        json_object_set_new(sets, states[i],
                            json_integer(s ? (json_int_t)pcscf_secagree_count(s, i) : 0));
    if (s && kernel_sets(ctx, a->argc ? a->argv[0] : NULL, rows, &total, err, errlen) != IMS_OK) {
        json_decref(rows);
        json_decref(sets);
        return IMS_ERROR;
    }
    *data = json_pack("{s:b,s:o,s:I,s:b,s:o}", "enabled", s != NULL, "sets", sets, "count",
                      (json_int_t)total, "truncated", total > IMS_CTL_MAX_ROWS, "sas", rows);
    return IMS_OK;
}

void pcscf_ctl_sas_register(pcscf_ctx_t *ctx)
{
    ims_ctl_register(ctx->ctl, "sas", "sas [filter]",
                     "IPsec SAs of sec-agree per UE (SPIs, ports from the kernel; state, "
                     "algorithms, age)", cmd_sas, ctx);
}
