/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for what the P-CSCF parses from a PCF on N5
 * (pcscf/n5-client.h): ProblemDetails bodies of refusals, TerminationInfo
 * bodies of terminate notifications, and the app session id in a Location
 * header or resUri. Every input goes through all three, from a heap buffer of
 * its exact size (no NUL: ASan sees a read past the end); the Location parser
 * takes a NUL-terminated copy, as nghttp2 hands header values.
 *
 * Invariants checked (abort() so libFuzzer records a crash): outputs are
 * NUL-terminated within their buffers; an accepted id is non-empty and made of
 * URI-safe characters only, and comes from the input.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcscf/n5-client.c"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_n5_json: invariant failed: %s\n", what);
        abort();
    }
}

static void check_id(const char *id, size_t cap)
{
    size_t n;

    check(memchr(id, '\0', cap) != NULL, "id NUL-terminated");
    n = strlen(id);
    check(n > 0, "an accepted id is not empty");
    for (size_t i = 0; i < n; i++)
        check(uri_safe((unsigned char)id[i]), "id characters URI-safe");
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *buf = malloc(size ? size : 1), *str = malloc(size + 1);
    char id[PCSCF_N5_ID_MAX], cause[PCSCF_N5_CAUSE_MAX];

    if (!buf || !str)
        abort();
    memcpy(buf, data, size);
    pcscf_n5_parse_problem(buf, size, cause, sizeof(cause));
    check(memchr(cause, '\0', sizeof(cause)) != NULL, "problem cause NUL-terminated");
    if (pcscf_n5_parse_termination(buf, size, id, sizeof(id), cause, sizeof(cause)) == IMS_OK) {
        check_id(id, sizeof(id));
        check(memchr(cause, '\0', sizeof(cause)) != NULL, "termCause NUL-terminated");
    }
    memcpy(str, data, size);
    str[size] = '\0';
    if (pcscf_n5_parse_location(str, id, sizeof(id)) == IMS_OK) {
        check_id(id, sizeof(id));
        check(strstr(str, id) != NULL, "the id comes from the input");
    }
    free(buf);
    free(str);
    return 0;
}
