/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the operations port's request-head parser
 * (common/ops/http_req.h), which reads whatever any client on the network
 * sends to /metrics, /healthz and /readyz. The input is given in a heap buffer
 * of its exact size, without a NUL, so ASan sees any read past its end.
 *
 * Invariants checked (abort() so libFuzzer records a crash): the head length is
 * 0 or within the input and ends in a blank line; the parse gives a status of
 * 0 or one of the error replies; the path is NUL-terminated within its buffer
 * and, when the request is accepted, starts with '/'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ops/http_req.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_http_req: invariant failed: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    ims_http_req_t r;
    size_t hl;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    hl = ims_http_head_len(buf, size);
    check(hl <= size, "head length within the input");
    if (hl > 0)
        check(buf[hl - 1] == '\n' && (buf[hl - 2] == '\n' || buf[hl - 2] == '\r'),
              "head ends in a blank line");
    ims_http_parse_head(buf, hl ? hl : size, &r);
    check(r.status == 0 || r.status == 400 || r.status == 405 || r.status == 413,
          "a known status");
    check(memchr(r.path, '\0', sizeof(r.path)) != NULL, "path NUL-terminated");
    if (r.status == 0)
        check(r.path[0] == '/', "an accepted path starts with /");
    free(buf);
    return 0;
}
