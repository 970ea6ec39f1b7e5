/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the sec-agree header code (common/ipsec/sec_agree.h).
 * The input is split at '\n' into up to SEC_AGREE_MAX_MECHS header values
 * (the instances of one Security-Client), each handed over in a heap buffer
 * of its exact size, without a NUL, so ASan sees any read past its end.
 *
 * Invariants checked (abort() so libFuzzer records a crash):
 * - a refused value gives a reason and leaves the list as it was;
 * - an accepted list formats into SEC_AGREE_TEXT_MAX, the text parses again
 *   to equal mechanisms, and Security-Verify of that text against the list
 *   matches (and matches itself);
 * - formatting into a smaller buffer fails cleanly or writes a NUL-terminated
 *   prefix-sized text, never past the buffer;
 * - a selected mechanism is an acceptable ipsec-3gpp one, and the
 *   Security-Server built from it formats and parses back.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/ipsec/sec_agree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const sec_agree_pref_t prefs[] = {
    { SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_AES_CBC },
    { SEC_AGREE_ALG_HMAC_SHA1_96, SEC_AGREE_EALG_NULL },
    { SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_DES_EDE3_CBC },
    { SEC_AGREE_ALG_HMAC_MD5_96, SEC_AGREE_EALG_NULL },
};

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_sec_agree: invariant failed: %s\n", what);
        abort();
    }
}

/* Parse one value from an exact-size copy. */
static int add_value(sec_agree_list_t *l, const uint8_t *p, size_t n)
{
    size_t before = l->count;
    const char *reason = NULL;
    char *copy = malloc(n ? n : 1);
    int rc;

    check(copy != NULL, "malloc");
    if (n)
        memcpy(copy, p, n);
    rc = sec_agree_parse_add(l, copy, n, &reason);
    free(copy);
    if (rc != IMS_OK) {
        check(rc == IMS_ERROR && reason != NULL && reason[0] != '\0', "refusal has a reason");
        check(l->count == before, "refusal leaves the list");
    } else {
        check(l->count > before && l->count <= SEC_AGREE_MAX_MECHS, "accepted count");
    }
    return rc;
}

static void round_trip(const sec_agree_list_t *l)
{
    static sec_agree_list_t again;
    static char buf[SEC_AGREE_TEXT_MAX];
    char small[64];
    size_t len = 0;
    const char *text = buf;

    check(sec_agree_format(l, buf, sizeof(buf), &len) == IMS_OK, "accepted list formats");
    check(strlen(buf) == len, "formatted length");
    check(sec_agree_parse(&again, &text, 1, NULL) == IMS_OK, "formatted text parses");
    check(again.count == l->count, "same count");
    for (size_t i = 0; i < l->count; i++)
        check(sec_agree_mech_equal(&again.mech[i], &l->mech[i]), "same mechanism");
    check(sec_agree_verify(&again, l) && sec_agree_verify(l, l), "verify matches");
    for (size_t n = 1; n <= sizeof(small); n += 7) {
        size_t slen = 0;
        if (sec_agree_format(l, small, n, &slen) == IMS_OK)
            check(slen < n && strlen(small) == slen && slen == len, "small buffer");
    }
}

static void select_and_answer(const sec_agree_list_t *l)
{
    static sec_agree_list_t server, parsed;
    static char buf[SEC_AGREE_TEXT_MAX];
    const sec_agree_mech_t *m;
    sec_agree_mech_t answer;
    const char *text = buf;
    size_t idx = SIZE_MAX;

    if (sec_agree_select(l, prefs, sizeof(prefs) / sizeof(prefs[0]), &idx) != IMS_OK)
        return;
    check(idx < l->count, "selected index");
    m = &l->mech[idx];
    check(m->kind == SEC_AGREE_IPSEC_3GPP && m->prot_esp && m->mod_trans, "acceptable kind");
    check(m->alg != SEC_AGREE_ALG_UNKNOWN && m->ealg != SEC_AGREE_EALG_UNKNOWN, "known algs");
    check(sec_agree_mech_ipsec(&answer, m->alg, m->ealg, m->spi_s, m->spi_c, m->port_s,
                               m->port_c, m->q) == IMS_OK,
          "answer from the selection");
    sec_agree_list_init(&server);
    check(sec_agree_list_add(&server, &answer) == IMS_OK, "list add");
    check(sec_agree_format(&server, buf, sizeof(buf), NULL) == IMS_OK, "server formats");
    check(sec_agree_parse(&parsed, &text, 1, NULL) == IMS_OK, "server parses");
    check(sec_agree_verify(&parsed, &server), "server verifies");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sec_agree_list_t l;
    size_t start = 0, values = 0;
    bool ok = true;

    sec_agree_list_init(&l);
    while (start <= size && values < SEC_AGREE_MAX_MECHS) {
        const uint8_t *nl = size > start ? memchr(data + start, '\n', size - start) : NULL;
        size_t end = nl ? (size_t)(nl - data) : size;
        if (add_value(&l, data + start, end - start) != IMS_OK)
            ok = false;
        values++;
        start = end + 1;
    }
    if (ok && l.count > 0) {
        round_trip(&l);
        select_and_answer(&l);
    }
    return 0;
}
