/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ESP transport-mode SAs and policies in the Linux kernel over netlink xfrm
 * (libmnl), for the P-CSCF's sec-agree (TS 33.203 §7).
 *
 * One ims_xfrm_t holds one NETLINK_XFRM socket. Every call sends one request
 * and reads the kernel's answer before returning. The socket is
 * non-blocking: the kernel handles an xfrm request inside our sendmsg() and
 * queues its ack (or the first part of a dump; the next parts are made as we
 * read) before sendmsg() returns, so the answer is always there to read and
 * the event loop never waits. An empty socket where an answer is due is
 * reported as an error, never waited for.
 *
 * Errors: calls return IMS_OK, IMS_ERROR, or (deletes) IMS_DECLINED when
 * there was nothing to delete. After IMS_ERROR, ims_xfrm_errno() gives the
 * errno (from the kernel's ack when it answered) and ims_xfrm_error() a line
 * saying what failed, with the kernel's own extended-ack text if it gave one.
 * Nothing here aborts or logs, except ims_xfrm_probe_esp(), which logs its
 * verdict. Needs CAP_NET_ADMIN in the network namespace.
 *
 * Ownership tag: sel.owner goes into the kernel selector's "user" field,
 * which the kernel stores and dumps but never matches packets on (Kamailio
 * marks its SAs the same way). A restarted P-CSCF removes those with its tag
 * and SPI range, and nothing else (ims_xfrm_flush_owned, or the dumps).
 */
#ifndef IMS_XFRM_H
#define IMS_XFRM_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/ipsec/ipsec_keys.h"

typedef struct ims_xfrm ims_xfrm_t;

/* An IPv4 or IPv6 host address. */
typedef struct ims_xfrm_addr {
    int family;                  /* AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } u;
} ims_xfrm_addr_t;

/* The traffic an SA or policy covers: one host to one host (prefix /32 or
 * /128), ports in host order (0: any port), l4proto 0 (any), IPPROTO_UDP or
 * IPPROTO_TCP. src and dst must have the same family. */
typedef struct ims_xfrm_sel {
    ims_xfrm_addr_t src, dst;
    uint16_t sport, dport;
    uint8_t l4proto;
    uint32_t owner;              /* tag kept in the kernel selector (see above) */
} ims_xfrm_sel_t;

/* An ESP transport-mode SA. sel.src/sel.dst are also the SA's addresses. */
typedef struct ims_xfrm_sa {
    ims_xfrm_sel_t sel;
    uint32_t spi;                /* host order, chosen by the receiver (sel.dst); >= 256 */
    uint32_t reqid;              /* ties the SA to the policies' templates */
} ims_xfrm_sa_t;

typedef enum ims_xfrm_dir { IMS_XFRM_DIR_IN = 0, IMS_XFRM_DIR_OUT = 1 } ims_xfrm_dir_t;

/* A policy requiring ESP transport with reqid for the traffic of sel. */
typedef struct ims_xfrm_policy {
    ims_xfrm_sel_t sel;
    ims_xfrm_dir_t dir;
    uint32_t reqid;              /* the template's reqid; 0 in a dump: no template */
    uint32_t priority;           /* lower wins; 0 is fine when selectors do not overlap */
} ims_xfrm_policy_t;

/* Open and bind a NETLINK_XFRM socket. NULL on failure (errno set; nothing
 * logged). Free with ims_xfrm_close(). */
ims_xfrm_t *ims_xfrm_open(void);
/* Close the socket and free x (NULL is fine). SAs and policies stay installed. */
void ims_xfrm_close(ims_xfrm_t *x);

/* The last failure's errno and description; 0 and "" when none yet. The
 * string lives in x until the next call on x. */
int ims_xfrm_errno(const ims_xfrm_t *x);
const char *ims_xfrm_error(const ims_xfrm_t *x);

/* Install sa with keys (XFRM_MSG_NEWSA: ESP, transport mode, replay window 32,
 * no lifetime limit; integrity through XFRMA_ALG_AUTH_TRUNC with 96-bit
 * truncation; encryption cbc(aes), cbc(des3_ede) or ecb(cipher_null)).
 * Fails with EEXIST when an SA with that dst and SPI exists, EPROTONOSUPPORT
 * (ENOENT on older kernels) without ESP in the kernel, ENOSYS when the kernel
 * lacks an algorithm (see the probes below); EINVAL, without asking the
 * kernel, for mixed families, SPI < 256, unknown algorithms, key lengths that
 * do not match the algorithms, or l4proto other than 0/UDP/TCP. */
int ims_xfrm_sa_add(ims_xfrm_t *x, const ims_xfrm_sa_t *sa, const ims_ipsec_keys_t *keys);

/* Delete the ESP SA (dst, spi) (XFRM_MSG_DELSA). IMS_DECLINED when none. */
int ims_xfrm_sa_del(ims_xfrm_t *x, const ims_xfrm_addr_t *dst, uint32_t spi);

/* Install policy p (XFRM_MSG_NEWPOLICY, action allow, one template: ESP
 * transport, reqid, any SPI, addresses of p->sel). EEXIST when a policy with
 * the same selector and direction exists. EINVAL as for ims_xfrm_sa_add. */
int ims_xfrm_policy_add(ims_xfrm_t *x, const ims_xfrm_policy_t *p);

/* Delete the policy with p->sel and p->dir (XFRM_MSG_DELPOLICY; reqid and
 * priority are not compared, sel.owner is). IMS_DECLINED when none. */
int ims_xfrm_policy_del(ims_xfrm_t *x, const ims_xfrm_policy_t *p);

/* Dump callbacks: called once per entry during the dump, with a pointer
 * valid for the call only. Return IMS_OK to go on, anything else to stop the
 * dump early (the call then still reads the rest of it and returns IMS_OK).
 * The callback must not call ims_xfrm_* on the same x (its socket is in the
 * middle of the dump): collect, then delete after the dump returns. */
typedef int (*ims_xfrm_sa_cb)(void *arg, const ims_xfrm_sa_t *sa);
typedef int (*ims_xfrm_policy_cb)(void *arg, const ims_xfrm_policy_t *p);

/* Dump the ESP transport-mode SAs (others are skipped), or the main-type
 * in/out policies whose selectors are single hosts (others are skipped).
 * Dumped entries can be given back to ims_xfrm_sa_del / ims_xfrm_policy_del.
 * IMS_OK when the whole dump was read, IMS_ERROR otherwise. */
int ims_xfrm_sa_dump(ims_xfrm_t *x, ims_xfrm_sa_cb cb, void *arg);
int ims_xfrm_policy_dump(ims_xfrm_t *x, ims_xfrm_policy_cb cb, void *arg);

/* Restart clean-up: delete every ESP SA tagged owner with an SPI in
 * [spi_min, spi_max], then every policy tagged owner; nothing else is
 * touched. *sas and *policies (either may be NULL) get the numbers deleted.
 * IMS_OK, or IMS_ERROR at the first failure (what was deleted stays
 * deleted); EINVAL for owner 0, the tag of entries made by other tools. */
int ims_xfrm_flush_owned(ims_xfrm_t *x, uint32_t owner, uint32_t spi_min, uint32_t spi_max,
                         unsigned *sas, unsigned *policies);

/* Start-up check that the kernel accepts ESP states: add and delete an SA
 * with the reserved SPI IMS_XFRM_PROBE_SPI on 127.0.0.1 -> 127.0.0.1
 * (hmac-sha-1-96 + aes-cbc, the mandatory pair). IMS_OK when it does;
 * IMS_DECLINED when the kernel has no ESP, with the error "kernel lacks ESP
 * (CONFIG_INET_ESP): IPsec sec-agree unavailable", or lacks one of those
 * algorithms (said so in the error); IMS_ERROR for anything else (e.g. no
 * CAP_NET_ADMIN: EPERM), with the reason. Logs its verdict. An SA with the
 * probe SPI that already exists (another process probing) counts as IMS_OK. */
#define IMS_XFRM_PROBE_SPI 0xffu
int ims_xfrm_probe_esp(ims_xfrm_t *x);

/* The same check for one (alg, ealg) pair, without logging: IMS_OK when an
 * ESP SA with them can be installed, IMS_DECLINED when not (no ESP, or the
 * kernel lacks an algorithm: e.g. kernels without CONFIG_CRYPTO_DES), and
 * IMS_ERROR otherwise. For dropping configured pairs the kernel cannot do at
 * start-up rather than failing per UE later. */
int ims_xfrm_probe_algs(ims_xfrm_t *x, sec_agree_alg_t alg, sec_agree_ealg_t ealg);

/* Helpers: text (IPv4/IPv6 literal, no brackets) or a sockaddr (sockaddr_in
 * or sockaddr_in6; *port gets its port in host order when port is not NULL)
 * to an address. IMS_OK or IMS_ERROR. */
int ims_xfrm_addr_parse(ims_xfrm_addr_t *a, const char *text);
int ims_xfrm_addr_from_sockaddr(ims_xfrm_addr_t *a, const struct sockaddr *sa, uint16_t *port);
/* true when a and b are the same family and address. */
int ims_xfrm_addr_equal(const ims_xfrm_addr_t *a, const ims_xfrm_addr_t *b);

#endif
