/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xfrm over netlink: the socket, the request/ack exchange, SA and policy
 * add/delete, the ESP probe. Dumps are in xfrm_dump.c.
 *
 * Why the socket can be non-blocking: NETLINK_XFRM requests are handled by
 * the kernel synchronously inside our sendmsg() (xfrm_netlink_rcv runs in the
 * sender's context) and the ack is queued on our socket before sendmsg()
 * returns. For a dump the first part is queued the same way and each later
 * part is built inside the recvmsg() that takes the previous one. So every
 * answer we read is already queued; EAGAIN where an answer is due means it
 * was lost (e.g. our receive buffer overflowed) and is reported, not waited
 * for. This keeps the daemon's event loop from ever blocking here.
 */
#include "common/ipsec/xfrm_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/rc.h"

/* Request buffer: the largest request (NEWSA with both keys) is < 600 octets. */
#define XFRM_TX_SIZE 2048
/* Stale answers to drop before a request, at most (see drain()). */
#define XFRM_DRAIN_MAX 1024

static const char probe_no_esp[] =
    "kernel lacks ESP (CONFIG_INET_ESP): IPsec sec-agree unavailable";

/* --- handle and errors ------------------------------------------------------ */

ims_xfrm_t *ims_xfrm_open(void)
{
    ims_xfrm_t *x = calloc(1, sizeof(*x));
    int one = 1, saved;

    if (x == NULL)
        return NULL;
    x->nl = mnl_socket_open2(NETLINK_XFRM, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (x->nl == NULL)
        goto fail;
    /* CAP_ACK: the kernel does not echo our request (with its keys) in an
     * error ack. EXT_ACK: it adds its reason text; both are best effort. */
    (void)mnl_socket_setsockopt(x->nl, NETLINK_CAP_ACK, &one, sizeof(one));
    (void)mnl_socket_setsockopt(x->nl, NETLINK_EXT_ACK, &one, sizeof(one));
    if (mnl_socket_bind(x->nl, 0, MNL_SOCKET_AUTOPID) < 0)
        goto fail;
    x->portid = mnl_socket_get_portid(x->nl);
    return x;
fail:
    saved = errno;
    ims_xfrm_close(x);
    errno = saved;
    return NULL;
}

void ims_xfrm_close(ims_xfrm_t *x)
{
    if (x == NULL)
        return;
    if (x->nl != NULL)
        mnl_socket_close(x->nl);
    free(x);
}

int ims_xfrm_errno(const ims_xfrm_t *x)
{
    return x->err;
}

const char *ims_xfrm_error(const ims_xfrm_t *x)
{
    return x->errmsg;
}

int ims_xfrm_fail(ims_xfrm_t *x, int err, const char *fmt, ...)
{
    va_list ap;

    x->err = err;
    va_start(ap, fmt);
    vsnprintf(x->errmsg, sizeof(x->errmsg), fmt, ap);
    va_end(ap);
    return IMS_ERROR;
}

/* --- request and answer ----------------------------------------------------- */

/* What the answer callbacks learn: the kernel's errno and extended-ack text. */
typedef struct talk_ctx {
    mnl_cb_t data_cb;
    void *arg;
    int kerr;                    /* errno from an NLMSG_ERROR / NLMSG_DONE, 0: none */
    char ext[128];               /* NLMSGERR_ATTR_MSG, "" when none */
} talk_ctx_t;

static int ext_attr_cb(const struct nlattr *attr, void *data)
{
    talk_ctx_t *c = data;

    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
        mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
        snprintf(c->ext, sizeof(c->ext), "%s", mnl_attr_get_str(attr));
    return MNL_CB_OK;
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
    talk_ctx_t *c = data;
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
    size_t off = sizeof(*e);

    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
        c->kerr = EBADMSG;
        return MNL_CB_ERROR;
    }
    if (e->error == 0)
        return MNL_CB_STOP;      /* the ack of a request that succeeded */
    c->kerr = e->error < 0 ? -e->error : e->error;
    /* The TLVs follow the error header and, unless capped, our request. */
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
        off += e->msg.nlmsg_len > sizeof(e->msg) ? e->msg.nlmsg_len - sizeof(e->msg) : 0;
    if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && mnl_nlmsg_size(off) <= nlh->nlmsg_len)
        (void)mnl_attr_parse(nlh, (unsigned int)MNL_ALIGN(off), ext_attr_cb, c);
    return MNL_CB_ERROR;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
    talk_ctx_t *c = data;
    int32_t v;

    /* A dump that failed part-way ends with NLMSG_DONE carrying -errno. */
    if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(v)) {
        memcpy(&v, mnl_nlmsg_get_payload(nlh), sizeof(v));
        if (v < 0) {
            c->kerr = -v;
            return MNL_CB_ERROR;
        }
    }
    return MNL_CB_STOP;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
    talk_ctx_t *c = data;

    return c->data_cb != NULL ? c->data_cb(nlh, c->arg) : MNL_CB_OK;
}

/* Drop answers left from a request we gave up on (a failed read part-way
 * through a dump), so that they are not taken for the next one's. */
static void drain(ims_xfrm_t *x)
{
    for (int i = 0; i < XFRM_DRAIN_MAX; i++) {
        if (mnl_socket_recvfrom(x->nl, x->rx, sizeof(x->rx)) < 0)
            return;
    }
}

int ims_xfrm_talk(ims_xfrm_t *x, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg, const char *what)
{
    mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = error_cb, [NLMSG_DONE] = done_cb };
    talk_ctx_t c = { .data_cb = cb, .arg = arg };
    ssize_t n;
    int r;

    drain(x);
    if (++x->seq == 0)
        x->seq = 1;
    nlh->nlmsg_seq = x->seq;
    if (mnl_socket_sendto(x->nl, nlh, nlh->nlmsg_len) < 0)
        return ims_xfrm_fail(x, errno, "%s: netlink send: %s", what, strerror(errno));
    do {
        n = mnl_socket_recvfrom(x->nl, x->rx, sizeof(x->rx));
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return ims_xfrm_fail(x, ETIMEDOUT, "%s: no answer queued by the kernel", what);
        if (n < 0)
            return ims_xfrm_fail(x, errno, "%s: netlink receive: %s", what, strerror(errno));
        errno = 0;
        r = mnl_cb_run2(x->rx, (size_t)n, x->seq, x->portid, data_cb, &c, ctl, NLMSG_MIN_TYPE);
    } while (r == MNL_CB_OK);
    if (r == MNL_CB_STOP)
        return IMS_OK;
    if (c.kerr != 0) {
        return ims_xfrm_fail(x, c.kerr, "%s: %s%s%s", what, strerror(c.kerr),
                             c.ext[0] != '\0' ? ": " : "", c.ext);
    }
    return ims_xfrm_fail(x, errno != 0 ? errno : EPROTO, "%s: bad answer: %s", what,
                         strerror(errno != 0 ? errno : EPROTO));
}

/* --- addresses and selectors ------------------------------------------------ */

void ims_xfrm_addr_to_k(xfrm_address_t *k, const ims_xfrm_addr_t *a)
{
    memset(k, 0, sizeof(*k));
    if (a->family == AF_INET)
        memcpy(&k->a4, &a->u.v4, sizeof(a->u.v4));
    else
        memcpy(&k->in6, &a->u.v6, sizeof(a->u.v6));
}

void ims_xfrm_addr_from_k(ims_xfrm_addr_t *a, const xfrm_address_t *k, int family)
{
    memset(a, 0, sizeof(*a));
    a->family = family;
    if (family == AF_INET)
        memcpy(&a->u.v4, &k->a4, sizeof(a->u.v4));
    else
        memcpy(&a->u.v6, &k->in6, sizeof(a->u.v6));
}

void ims_xfrm_sel_to_k(struct xfrm_selector *k, const ims_xfrm_sel_t *sel)
{
    uint8_t plen = sel->src.family == AF_INET ? 32 : 128;

    memset(k, 0, sizeof(*k));
    ims_xfrm_addr_to_k(&k->daddr, &sel->dst);
    ims_xfrm_addr_to_k(&k->saddr, &sel->src);
    k->dport = htons(sel->dport);
    k->dport_mask = sel->dport != 0 ? 0xffff : 0;
    k->sport = htons(sel->sport);
    k->sport_mask = sel->sport != 0 ? 0xffff : 0;
    k->family = (uint16_t)sel->src.family;
    k->prefixlen_d = plen;
    k->prefixlen_s = plen;
    k->proto = sel->l4proto;
    k->user = sel->owner;
}

int ims_xfrm_sel_from_k(ims_xfrm_sel_t *sel, const struct xfrm_selector *k)
{
    uint8_t plen = k->family == AF_INET ? 32 : 128;

    memset(sel, 0, sizeof(*sel));
    if (k->family != AF_INET && k->family != AF_INET6)
        return IMS_DECLINED;
    ims_xfrm_addr_from_k(&sel->dst, &k->daddr, k->family);
    ims_xfrm_addr_from_k(&sel->src, &k->saddr, k->family);
    sel->dport = k->dport_mask == 0xffff ? ntohs(k->dport) : 0;
    sel->sport = k->sport_mask == 0xffff ? ntohs(k->sport) : 0;
    sel->l4proto = k->proto;
    sel->owner = k->user;
    if (k->prefixlen_d != plen || k->prefixlen_s != plen)
        return IMS_DECLINED;
    if ((k->dport_mask != 0 && k->dport_mask != 0xffff) ||
        (k->sport_mask != 0 && k->sport_mask != 0xffff))
        return IMS_DECLINED;
    return IMS_OK;
}

static int sel_check(ims_xfrm_t *x, const ims_xfrm_sel_t *sel, const char *what)
{
    int fam = sel->src.family;

    if ((fam != AF_INET && fam != AF_INET6) || sel->dst.family != fam)
        return ims_xfrm_fail(x, EINVAL, "%s: addresses must both be IPv4 or both IPv6", what);
    if (sel->l4proto != 0 && sel->l4proto != IPPROTO_UDP && sel->l4proto != IPPROTO_TCP)
        return ims_xfrm_fail(x, EINVAL, "%s: protocol %u is not any, UDP or TCP", what,
                             sel->l4proto);
    return IMS_OK;
}

int ims_xfrm_addr_parse(ims_xfrm_addr_t *a, const char *text)
{
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, text, &a->u.v4) == 1) {
        a->family = AF_INET;
        return IMS_OK;
    }
    if (inet_pton(AF_INET6, text, &a->u.v6) == 1) {
        a->family = AF_INET6;
        return IMS_OK;
    }
    return IMS_ERROR;
}

int ims_xfrm_addr_from_sockaddr(ims_xfrm_addr_t *a, const struct sockaddr *sa, uint16_t *port)
{
    memset(a, 0, sizeof(*a));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

        a->family = AF_INET;
        a->u.v4 = s4->sin_addr;
        if (port != NULL)
            *port = ntohs(s4->sin_port);
        return IMS_OK;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

        a->family = AF_INET6;
        a->u.v6 = s6->sin6_addr;
        if (port != NULL)
            *port = ntohs(s6->sin6_port);
        return IMS_OK;
    }
    return IMS_ERROR;
}

int ims_xfrm_addr_equal(const ims_xfrm_addr_t *a, const ims_xfrm_addr_t *b)
{
    if (a->family != b->family)
        return 0;
    if (a->family == AF_INET)
        return a->u.v4.s_addr == b->u.v4.s_addr;
    return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
}

/* --- SAs -------------------------------------------------------------------- */

/* Kernel names of our algorithm ids (the long crypto-API forms). */
static const char *alg_kname(sec_agree_alg_t a)
{
    return a == SEC_AGREE_ALG_HMAC_MD5_96 ? "hmac(md5)" : "hmac(sha1)";
}

static const char *ealg_kname(sec_agree_ealg_t e)
{
    if (e == SEC_AGREE_EALG_AES_CBC)
        return "cbc(aes)";
    return e == SEC_AGREE_EALG_DES_EDE3_CBC ? "cbc(des3_ede)" : "ecb(cipher_null)";
}

static int keys_check(ims_xfrm_t *x, const ims_ipsec_keys_t *k)
{
    int ik_len = ims_ipsec_alg_key_len(k->alg), ck_len = ims_ipsec_ealg_key_len(k->ealg);

    if (ik_len < 0 || ck_len < 0)
        return ims_xfrm_fail(x, EINVAL, "add SA: unknown algorithm id");
    if (k->ik_len != (size_t)ik_len || k->ck_len != (size_t)ck_len)
        return ims_xfrm_fail(x, EINVAL, "add SA: key lengths %zu/%zu do not suit %s/%s",
                             k->ik_len, k->ck_len, sec_agree_alg_name(k->alg),
                             sec_agree_ealg_name(k->ealg));
    return IMS_OK;
}

/* Append the integrity and encryption attributes; false when out of room. */
static int put_algs(struct nlmsghdr *nlh, const ims_ipsec_keys_t *k)
{
    union {
        struct xfrm_algo_auth a;
        char raw[sizeof(struct xfrm_algo_auth) + IMS_IPSEC_IK_MAX];
    } auth;
    union {
        struct xfrm_algo c;
        char raw[sizeof(struct xfrm_algo) + IMS_IPSEC_CK_MAX];
    } enc;
    int ok;

    memset(&auth, 0, sizeof(auth));
    memset(&enc, 0, sizeof(enc));
    snprintf(auth.a.alg_name, sizeof(auth.a.alg_name), "%s", alg_kname(k->alg));
    auth.a.alg_key_len = (unsigned int)(k->ik_len * 8); /* bits */
    auth.a.alg_trunc_len = 96;
    memcpy(auth.a.alg_key, k->ik, k->ik_len);
    snprintf(enc.c.alg_name, sizeof(enc.c.alg_name), "%s", ealg_kname(k->ealg));
    enc.c.alg_key_len = (unsigned int)(k->ck_len * 8);
    memcpy(enc.c.alg_key, k->ck, k->ck_len);
    ok = mnl_attr_put_check(nlh, XFRM_TX_SIZE, XFRMA_ALG_AUTH_TRUNC,
                            sizeof(auth.a) + k->ik_len, &auth) &&
         mnl_attr_put_check(nlh, XFRM_TX_SIZE, XFRMA_ALG_CRYPT, sizeof(enc.c) + k->ck_len, &enc);
    explicit_bzero(&auth, sizeof(auth));
    explicit_bzero(&enc, sizeof(enc));
    return ok;
}

/* NEWSA without the SPI range check (the probe uses a reserved SPI). */
static int sa_add(ims_xfrm_t *x, const ims_xfrm_sa_t *sa, const ims_ipsec_keys_t *keys)
{
    char buf[XFRM_TX_SIZE] __attribute__((aligned(8)));
    struct nlmsghdr *nlh;
    struct xfrm_usersa_info *info;
    int rc;

    if (sel_check(x, &sa->sel, "add SA") != IMS_OK || keys_check(x, keys) != IMS_OK)
        return IMS_ERROR;
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = XFRM_MSG_NEWSA;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
    info = mnl_nlmsg_put_extra_header(nlh, sizeof(*info));
    ims_xfrm_sel_to_k(&info->sel, &sa->sel);
    ims_xfrm_addr_to_k(&info->id.daddr, &sa->sel.dst);
    info->id.spi = htonl(sa->spi);
    info->id.proto = IPPROTO_ESP;
    ims_xfrm_addr_to_k(&info->saddr, &sa->sel.src);
    info->family = (uint16_t)sa->sel.src.family;
    info->mode = XFRM_MODE_TRANSPORT;
    info->replay_window = 32;
    info->reqid = sa->reqid;
    info->lft.soft_byte_limit = info->lft.hard_byte_limit = XFRM_INF;
    info->lft.soft_packet_limit = info->lft.hard_packet_limit = XFRM_INF;
    if (!put_algs(nlh, keys))
        rc = ims_xfrm_fail(x, EMSGSIZE, "add SA: request too large");
    else
        rc = ims_xfrm_talk(x, nlh, NULL, NULL, "add SA");
    explicit_bzero(buf, sizeof(buf)); /* the keys */
    return rc;
}

int ims_xfrm_sa_add(ims_xfrm_t *x, const ims_xfrm_sa_t *sa, const ims_ipsec_keys_t *keys)
{
    /* SPIs 1..255 are reserved by IANA (RFC 4303 §2.1), 0 is never sent. */
    if (sa->spi < 256)
        return ims_xfrm_fail(x, EINVAL, "add SA: SPI %u is reserved (< 256)", sa->spi);
    return sa_add(x, sa, keys);
}

/* IMS_DECLINED for "no such entry" (ESRCH from DELSA, ENOENT from DELPOLICY). */
static int del_result(ims_xfrm_t *x, int rc)
{
    if (rc == IMS_ERROR && (x->err == ESRCH || x->err == ENOENT))
        return IMS_DECLINED;
    return rc;
}

int ims_xfrm_sa_del(ims_xfrm_t *x, const ims_xfrm_addr_t *dst, uint32_t spi)
{
    char buf[XFRM_TX_SIZE] __attribute__((aligned(8)));
    struct nlmsghdr *nlh;
    struct xfrm_usersa_id *id;

    if (dst->family != AF_INET && dst->family != AF_INET6)
        return ims_xfrm_fail(x, EINVAL, "delete SA: address family %d", dst->family);
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = XFRM_MSG_DELSA;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
    ims_xfrm_addr_to_k(&id->daddr, dst);
    id->spi = htonl(spi);
    id->family = (uint16_t)dst->family;
    id->proto = IPPROTO_ESP;
    return del_result(x, ims_xfrm_talk(x, nlh, NULL, NULL, "delete SA"));
}

/* --- policies --------------------------------------------------------------- */

static int policy_check(ims_xfrm_t *x, const ims_xfrm_policy_t *p, const char *what)
{
    if (sel_check(x, &p->sel, what) != IMS_OK)
        return IMS_ERROR;
    if (p->dir != IMS_XFRM_DIR_IN && p->dir != IMS_XFRM_DIR_OUT)
        return ims_xfrm_fail(x, EINVAL, "%s: direction %d is not in or out", what, (int)p->dir);
    return IMS_OK;
}

int ims_xfrm_policy_add(ims_xfrm_t *x, const ims_xfrm_policy_t *p)
{
    char buf[XFRM_TX_SIZE] __attribute__((aligned(8)));
    struct nlmsghdr *nlh;
    struct xfrm_userpolicy_info *info;
    struct xfrm_user_tmpl t;

    if (policy_check(x, p, "add policy") != IMS_OK)
        return IMS_ERROR;
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = XFRM_MSG_NEWPOLICY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
    info = mnl_nlmsg_put_extra_header(nlh, sizeof(*info));
    ims_xfrm_sel_to_k(&info->sel, &p->sel);
    info->lft.soft_byte_limit = info->lft.hard_byte_limit = XFRM_INF;
    info->lft.soft_packet_limit = info->lft.hard_packet_limit = XFRM_INF;
    info->priority = p->priority;
    info->dir = (uint8_t)p->dir;
    info->action = XFRM_POLICY_ALLOW;
    info->share = XFRM_SHARE_ANY;
    /* Transport mode: the kernel takes the addresses from the packet; the
     * template's are set to the selector's as iproute2 shows them. */
    memset(&t, 0, sizeof(t));
    ims_xfrm_addr_to_k(&t.id.daddr, &p->sel.dst);
    ims_xfrm_addr_to_k(&t.saddr, &p->sel.src);
    t.id.proto = IPPROTO_ESP;
    t.family = (uint16_t)p->sel.src.family;
    t.reqid = p->reqid;
    t.mode = XFRM_MODE_TRANSPORT;
    t.share = XFRM_SHARE_ANY;
    t.aalgos = t.ealgos = t.calgos = ~0u;
    mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
    return ims_xfrm_talk(x, nlh, NULL, NULL, "add policy");
}

int ims_xfrm_policy_del(ims_xfrm_t *x, const ims_xfrm_policy_t *p)
{
    char buf[XFRM_TX_SIZE] __attribute__((aligned(8)));
    struct nlmsghdr *nlh;
    struct xfrm_userpolicy_id *id;

    if (policy_check(x, p, "delete policy") != IMS_OK)
        return IMS_ERROR;
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = XFRM_MSG_DELPOLICY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
    ims_xfrm_sel_to_k(&id->sel, &p->sel);
    id->dir = (uint8_t)p->dir;
    return del_result(x, ims_xfrm_talk(x, nlh, NULL, NULL, "delete policy"));
}

/* --- probes ---------------------------------------------------------------- */

/* Add and delete an SA with the reserved probe SPI on 127.0.0.1 for (alg,
 * ealg). IMS_OK, IMS_DECLINED (no ESP, or no such algorithm) or IMS_ERROR. */
static int probe_pair(ims_xfrm_t *x, sec_agree_alg_t alg, sec_agree_ealg_t ealg)
{
    static const uint8_t zero[IMS_IPSEC_AKA_KEY_LEN];
    ims_xfrm_sa_t sa = { .spi = IMS_XFRM_PROBE_SPI };
    ims_ipsec_keys_t keys;
    int rc;

    if (ims_ipsec_keys_derive(alg, ealg, zero, zero, &keys) != IMS_OK)
        return ims_xfrm_fail(x, EINVAL, "probe: unknown algorithm id");
    (void)ims_xfrm_addr_parse(&sa.sel.src, "127.0.0.1");
    sa.sel.dst = sa.sel.src;
    rc = sa_add(x, &sa, &keys);
    if (rc == IMS_OK)
        return ims_xfrm_sa_del(x, &sa.sel.dst, sa.spi) == IMS_ERROR ? IMS_ERROR : IMS_OK;
    /* The kernel checks the algorithms before it looks for an existing SA:
     * EEXIST (another process's probe SA) means it took them. */
    if (x->err == EEXIST)
        return IMS_OK;
    if (x->err == ENOENT || x->err == EPROTONOSUPPORT) {
        /* No xfrm type for ESP ("Requested type not found"; ENOENT before 6.x). */
        ims_xfrm_fail(x, x->err, "%s (%s)", probe_no_esp, strerror(x->err));
        return IMS_DECLINED;
    }
    if (x->err == ENOSYS) {
        ims_xfrm_fail(x, x->err, "kernel lacks %s or %s for ESP: %s %s unavailable",
                      alg_kname(alg), ealg_kname(ealg), sec_agree_alg_name(alg),
                      sec_agree_ealg_name(ealg));
        return IMS_DECLINED;
    }
    return IMS_ERROR;
}

int ims_xfrm_probe_esp(ims_xfrm_t *x)
{
    int rc = probe_pair(x, SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_AES_CBC);

    if (rc == IMS_OK)
        IMS_NOTICE("xfrm: the kernel accepts ESP SAs");
    else
        IMS_ERR("xfrm: ESP probe: %s", x->errmsg);
    return rc;
}

int ims_xfrm_probe_algs(ims_xfrm_t *x, sec_agree_alg_t alg, sec_agree_ealg_t ealg)
{
    return probe_pair(x, alg, ealg);
}
