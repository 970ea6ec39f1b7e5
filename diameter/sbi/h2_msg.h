/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One HTTP/2 message as the SBI client and server (h2_client.h, h2_server.h)
 * hand it to their callers: a request (method, path) or a response (status),
 * its headers and its body. Everything is bounded: at most SBI_H2_MAX_HDRS
 * regular headers in SBI_H2_HDR_SPACE bytes and SBI_H2_MAX_BODY body bytes;
 * what does not fit is dropped and `truncated` says so (the server answers such
 * a request 413/431, the client reports SBI_H2_ERR_PROTOCOL).
 */
#ifndef SBI_H2_MSG_H
#define SBI_H2_MSG_H

#include <stdbool.h>
#include <stddef.h>

#define SBI_H2_MAX_HDRS 32
#define SBI_H2_HDR_SPACE 8192
#define SBI_H2_MAX_BODY (64 * 1024)

typedef struct sbi_h2_hdr {
    const char *name;           /* lower case, as HTTP/2 requires */
    const char *value;
} sbi_h2_hdr_t;

typedef struct sbi_h2_msg {
    const char *method;         /* requests: ":method"; "" in responses */
    const char *path;           /* requests: ":path"; "" in responses */
    int status;                 /* responses: ":status"; 0 in requests */
    sbi_h2_hdr_t hdrs[SBI_H2_MAX_HDRS];  /* the other headers, in arrival order (":authority"
                                          * and ":scheme" included in requests) */
    int nhdrs;
    const char *body;           /* NUL-terminated (the NUL is not counted); "" when none */
    size_t body_len;
    bool truncated;             /* a header or body byte over the bounds was dropped */
    /* private to diameter/sbi */
    char *buf;
    size_t used;
    char space[SBI_H2_HDR_SPACE];
} sbi_h2_msg_t;

/* The value of the first header called name (case-insensitive), or NULL. */
const char *sbi_h2_msg_header(const sbi_h2_msg_t *m, const char *name);

#endif
