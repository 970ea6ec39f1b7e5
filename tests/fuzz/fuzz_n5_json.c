/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for what the P-CSCF parses from a PCF or an NRF on N5
 * (pcscf/n5-client.h, pcscf/n5-nrf.h): ProblemDetails bodies of refusals,
 * TerminationInfo bodies of terminate notifications, the app session id in a
 * Location header or resUri and the resource URI made of it, and the NRF's
 * SearchResult. Every input goes through all of them, from a heap buffer of
 * its exact size (no NUL: ASan sees a read past the end); the Location and
 * resource parsers take a NUL-terminated copy, as nghttp2 hands header values.
 *
 * Invariants checked (abort() so libFuzzer records a crash): outputs are
 * NUL-terminated within their buffers; an accepted id is non-empty and made of
 * URI-safe characters only, and comes from the input; a resource URI is a
 * prefix of the input; SearchResult candidates are at most the buffer's size,
 * each with a numeric authority and an apiPrefix that is "" or starts with
 * '/', in priority order (then capacity).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcscf/n5-client.c"
#include "pcscf/n5-nrf.c"

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

static void check_search_result(const char *buf, size_t size)
{
    pcscf_n5_pcf_t v[3];
    uint32_t validity;
    int n = pcscf_n5_nrf_parse(buf, size, v, 3, &validity);

    check(n >= IMS_ERROR && n <= 3, "candidates within the buffer");
    for (int i = 0; i < n; i++) {
        check(memchr(v[i].authority, '\0', sizeof(v[i].authority)) != NULL &&
              sbi_h2_authority_ok(v[i].authority), "candidate authority numeric");
        check(memchr(v[i].prefix, '\0', sizeof(v[i].prefix)) != NULL &&
              (v[i].prefix[0] == '\0' || v[i].prefix[0] == '/'), "apiPrefix");
        check(memchr(v[i].nf_instance_id, '\0', sizeof(v[i].nf_instance_id)) != NULL,
              "nfInstanceId NUL-terminated");
        check(i == 0 || !better(&v[i], &v[i - 1]), "candidates in order");
    }
}

static void check_resource(const char *str)
{
    char ref[PCSCF_N5_REF_MAX];

    if (pcscf_n5_parse_resource(str, ref, sizeof(ref)) != IMS_OK)
        return;
    check(memchr(ref, '\0', sizeof(ref)) != NULL, "resource NUL-terminated");
    check(strncmp(str, ref, strlen(ref)) == 0, "resource URI a prefix of the input");
    check(strncmp(ref, "http://", 7) == 0 || strncmp(ref, "https://", 8) == 0, "scheme");
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
    check_resource(str);
    check_search_result(buf, size);
    free(buf);
    free(str);
    return 0;
}
