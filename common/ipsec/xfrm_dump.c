/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xfrm dumps: every ESP transport SA and every host-to-host in/out policy,
 * turned into the plain structs of xfrm.h for a callback. Entries we could
 * not have installed (tunnel mode, AH, subnet selectors, sub policies) are
 * skipped, so that everything reported can be deleted as reported.
 */
#include "common/ipsec/xfrm_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"

typedef struct dump_ctx {
    ims_xfrm_sa_cb sa_cb;
    ims_xfrm_policy_cb policy_cb;
    void *arg;
    int stopped;                 /* the callback asked to stop: read the rest silently */
} dump_ctx_t;

static int sa_msg_cb(const struct nlmsghdr *nlh, void *data)
{
    dump_ctx_t *d = data;
    struct xfrm_usersa_info in;
    const struct xfrm_usersa_info *info = &in;
    ims_xfrm_sa_t sa;

    if (d->stopped || nlh->nlmsg_type != XFRM_MSG_NEWSA ||
        mnl_nlmsg_get_payload_len(nlh) < sizeof(in))
        return MNL_CB_OK;
    /* Netlink aligns payloads to 4 octets; the struct has 64-bit fields. */
    memcpy(&in, mnl_nlmsg_get_payload(nlh), sizeof(in));
    if (info->id.proto != IPPROTO_ESP || info->mode != XFRM_MODE_TRANSPORT ||
        (info->family != AF_INET && info->family != AF_INET6))
        return MNL_CB_OK;
    /* The SA's own addresses, whatever its selector's prefixes: they and
     * the SPI are what XFRM_MSG_DELSA needs. */
    (void)ims_xfrm_sel_from_k(&sa.sel, &info->sel);
    ims_xfrm_addr_from_k(&sa.sel.src, &info->saddr, info->family);
    ims_xfrm_addr_from_k(&sa.sel.dst, &info->id.daddr, info->family);
    sa.spi = ntohl(info->id.spi);
    sa.reqid = info->reqid;
    if (d->sa_cb(d->arg, &sa) != IMS_OK)
        d->stopped = 1;
    return MNL_CB_OK;
}

/* The policy's first template's reqid and whether it is of the main type. */
typedef struct policy_attrs {
    uint32_t reqid;
    int main_type;
} policy_attrs_t;

static int policy_attr_cb(const struct nlattr *attr, void *data)
{
    policy_attrs_t *pa = data;
    struct xfrm_user_tmpl t;
    struct xfrm_userpolicy_type type;

    switch (mnl_attr_get_type(attr)) {
    case XFRMA_TMPL:
        if (mnl_attr_get_payload_len(attr) >= sizeof(t)) {
            memcpy(&t, mnl_attr_get_payload(attr), sizeof(t));
            pa->reqid = t.reqid;
        }
        break;
    case XFRMA_POLICY_TYPE:
        if (mnl_attr_get_payload_len(attr) >= sizeof(type)) {
            memcpy(&type, mnl_attr_get_payload(attr), sizeof(type));
            pa->main_type = type.type == XFRM_POLICY_TYPE_MAIN;
        }
        break;
    default:
        break;
    }
    return MNL_CB_OK;
}

static int policy_msg_cb(const struct nlmsghdr *nlh, void *data)
{
    dump_ctx_t *d = data;
    struct xfrm_userpolicy_info in;
    const struct xfrm_userpolicy_info *info = &in;
    policy_attrs_t pa = { .reqid = 0, .main_type = 1 };
    ims_xfrm_policy_t p;

    if (d->stopped || nlh->nlmsg_type != XFRM_MSG_NEWPOLICY ||
        mnl_nlmsg_get_payload_len(nlh) < sizeof(in))
        return MNL_CB_OK;
    memcpy(&in, mnl_nlmsg_get_payload(nlh), sizeof(in)); /* 4-aligned, see above */
    if (info->dir != XFRM_POLICY_IN && info->dir != XFRM_POLICY_OUT)
        return MNL_CB_OK;
    if (ims_xfrm_sel_from_k(&p.sel, &info->sel) != IMS_OK)
        return MNL_CB_OK;
    (void)mnl_attr_parse(nlh, sizeof(*info), policy_attr_cb, &pa);
    if (!pa.main_type)
        return MNL_CB_OK;
    p.dir = info->dir == XFRM_POLICY_IN ? IMS_XFRM_DIR_IN : IMS_XFRM_DIR_OUT;
    p.reqid = pa.reqid;
    p.priority = info->priority;
    if (d->policy_cb(d->arg, &p) != IMS_OK)
        d->stopped = 1;
    return MNL_CB_OK;
}

static int dump(ims_xfrm_t *x, uint16_t type, mnl_cb_t cb, dump_ctx_t *d, const char *what)
{
    char buf[MNL_NLMSG_HDRLEN] __attribute__((aligned(8)));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

    /* A dump request needs no body: the kernel reads only optional filter
     * attributes from it. */
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    return ims_xfrm_talk(x, nlh, cb, d, what);
}

int ims_xfrm_sa_dump(ims_xfrm_t *x, ims_xfrm_sa_cb cb, void *arg)
{
    dump_ctx_t d = { .sa_cb = cb, .arg = arg };

    return dump(x, XFRM_MSG_GETSA, sa_msg_cb, &d, "dump SAs");
}

int ims_xfrm_policy_dump(ims_xfrm_t *x, ims_xfrm_policy_cb cb, void *arg)
{
    dump_ctx_t d = { .policy_cb = cb, .arg = arg };

    return dump(x, XFRM_MSG_GETPOLICY, policy_msg_cb, &d, "dump policies");
}

/* --- restart clean-up ---------------------------------------------------- */

/* The owned entries a dump found (SAs or policies, size octets each), to
 * delete after it, not during: the socket is busy with the dump. */
typedef struct owned {
    uint32_t owner, spi_min, spi_max;
    void *items;
    size_t size, n, cap;
    int oom;
} owned_t;

/* Append a copy of item; IMS_ERROR (and o->oom) when memory runs out. */
static int owned_add(owned_t *o, const void *item)
{
    if (o->n == o->cap) {
        size_t cap = o->cap != 0 ? 2 * o->cap : 64;
        void *grown = realloc(o->items, cap * o->size);

        if (grown == NULL) {
            o->oom = 1;
            return IMS_ERROR;
        }
        o->items = grown;
        o->cap = cap;
    }
    memcpy((char *)o->items + o->n++ * o->size, item, o->size);
    return IMS_OK;
}

static int owned_sa_cb(void *arg, const ims_xfrm_sa_t *sa)
{
    owned_t *o = arg;

    if (sa->sel.owner != o->owner || sa->spi < o->spi_min || sa->spi > o->spi_max)
        return IMS_OK;
    return owned_add(o, sa);
}

static int owned_policy_cb(void *arg, const ims_xfrm_policy_t *p)
{
    owned_t *o = arg;

    return p->sel.owner == o->owner ? owned_add(o, p) : IMS_OK;
}

/* Dump (SAs when sa, else policies), then delete what is ours. A delete
 * answered IMS_DECLINED (gone meanwhile) is not counted and not an error. */
static int flush_one(ims_xfrm_t *x, owned_t *o, int sa, unsigned *count)
{
    int rc = sa ? ims_xfrm_sa_dump(x, owned_sa_cb, o) : ims_xfrm_policy_dump(x, owned_policy_cb, o);

    if (rc == IMS_OK && o->oom)
        rc = ims_xfrm_fail(x, ENOMEM, "flush: out of memory");
    for (size_t i = 0; rc != IMS_ERROR && i < o->n; i++) {
        if (sa) {
            const ims_xfrm_sa_t *e = (const ims_xfrm_sa_t *)o->items + i;

            rc = ims_xfrm_sa_del(x, &e->sel.dst, e->spi);
        } else {
            rc = ims_xfrm_policy_del(x, (const ims_xfrm_policy_t *)o->items + i);
        }
        if (rc == IMS_OK && count != NULL)
            (*count)++;
    }
    free(o->items);
    return rc == IMS_ERROR ? IMS_ERROR : IMS_OK;
}

int ims_xfrm_flush_owned(ims_xfrm_t *x, uint32_t owner, uint32_t spi_min, uint32_t spi_max,
                         unsigned *sas, unsigned *policies)
{
    owned_t o_sa = { owner, spi_min, spi_max, NULL, sizeof(ims_xfrm_sa_t), 0, 0, 0 };
    owned_t o_pol = { owner, 0, 0, NULL, sizeof(ims_xfrm_policy_t), 0, 0, 0 };

    if (sas != NULL)
        *sas = 0;
    if (policies != NULL)
        *policies = 0;
    if (owner == 0)
        return ims_xfrm_fail(x, EINVAL, "flush: owner 0 would match entries not ours");
    if (flush_one(x, &o_sa, 1, sas) != IMS_OK)
        return IMS_ERROR;
    return flush_one(x, &o_pol, 0, policies);
}
