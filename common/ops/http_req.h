/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The head of an HTTP/1.x request to the operations port (http_probe.c): the
 * little that matters there (method GET or HEAD, path, keep-alive, any sign of
 * a body). Input from the network, never assumed NUL-terminated; the fuzz
 * target tests/fuzz/fuzz_http_req.c drives it.
 */
#ifndef IMS_OPS_HTTP_REQ_H
#define IMS_OPS_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>

/* What the head of one request says. */
typedef struct ims_http_req {
    int status;                 /* 0: fine so far; else the error reply */
    bool head_only;             /* HEAD */
    bool keep;                  /* keep the connection after the reply */
    char path[64];              /* NUL-terminated; query string dropped */
} ims_http_req_t;

/* Length of the head (through its blank line) in buf[0..n), 0 when the blank
 * line has not arrived yet. */
size_t ims_http_head_len(const char *buf, size_t n);
/* Parse the head buf[0..n) (as measured by ims_http_head_len) into r. */
void ims_http_parse_head(const char *buf, size_t n, ims_http_req_t *r);

#endif
