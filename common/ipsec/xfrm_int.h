/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside common/ipsec/xfrm*.c: the handle, the request/answer exchange and
 * the selector/address conversions shared by the request builders (xfrm.c)
 * and the dump parsers (xfrm_dump.c). Not for other callers.
 */
#ifndef IMS_XFRM_INT_H
#define IMS_XFRM_INT_H

#include <linux/xfrm.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#include "common/ipsec/xfrm.h"

/* Receive buffer: large enough that the kernel never truncates a dump part
 * (it sizes them to the largest buffer we read with, at most 32 KiB). */
#define IMS_XFRM_RX_SIZE 32768

struct ims_xfrm {
    struct mnl_socket *nl;
    unsigned int portid;
    uint32_t seq;
    int err;                     /* errno of the last failure */
    char errmsg[256];
    char rx[IMS_XFRM_RX_SIZE];
};

/* Record a failure (err is an errno value) and return IMS_ERROR. */
int ims_xfrm_fail(ims_xfrm_t *x, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Send the request nlh (its seq is set here) and read the answer until the
 * ack, NLMSG_DONE or an error; data_cb (may be NULL) sees each data message.
 * what names the request in error messages. IMS_OK, or IMS_ERROR with the
 * kernel's errno and extended-ack text recorded in x. */
int ims_xfrm_talk(ims_xfrm_t *x, struct nlmsghdr *nlh, mnl_cb_t data_cb, void *arg,
                  const char *what);

/* Kernel address <-> ours (family AF_INET/AF_INET6, checked by the caller). */
void ims_xfrm_addr_to_k(xfrm_address_t *k, const ims_xfrm_addr_t *a);
void ims_xfrm_addr_from_k(ims_xfrm_addr_t *a, const xfrm_address_t *k, int family);

/* Fill a kernel selector from sel (host prefixes, exact ports when not 0). */
void ims_xfrm_sel_to_k(struct xfrm_selector *k, const ims_xfrm_sel_t *sel);
/* Our selector from a kernel one; IMS_DECLINED unless it is host-to-host. */
int ims_xfrm_sel_from_k(ims_xfrm_sel_t *sel, const struct xfrm_selector *k);

#endif
