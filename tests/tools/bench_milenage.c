/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_milenage [count]: AKA vector generation speed on one core.
 *
 * The HSS must produce >= 20 000 vectors/s. Printed, for count vectors
 * (default 200 000) for the lab subscriber:
 *   1. one ims_milenage_t, RAND from a counter       (Milenage + AUTN only)
 *   2. one ims_milenage_t, RAND from RAND_bytes + nonce (what the HSS does)
 *   3. a new ims_milenage_t from OPc per vector       (per-subscriber setup)
 *   4. a new ims_milenage_t from OP per vector        (OPc not provisioned)
 *   5. S-CSCF side: HA1(XRES) + HA2 + response + check per REGISTER
 * A figure, not a pass/fail test: the exit status is 0 unless a call fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/auth/aka.h"
#include "common/auth/digest.h"
#include "common/auth/milenage.h"
#include "common/core/rc.h"

#define TARGET_PER_SEC 20000.0

static const uint8_t lab_k[16] = "imscore-lab-key1";
static const uint8_t lab_op[16] = "imscore-lab-op-1";
static const uint8_t lab_amf[2] = { 0x80, 0x00 };

static double now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, long n, double secs)
{
    double rate = (double)n / secs;

    printf("%-48s %8ld in %7.3f s = %10.0f /s  %6.2f us each%s\n", what, n, secs, rate,
           secs / (double)n * 1e6, rate >= TARGET_PER_SEC ? "" : "  (BELOW 20000/s)");
}

static void counter_rand(uint8_t rand[16], long i)
{
    memset(rand, 0xa5, 16);
    memcpy(rand, &i, sizeof(i));
}

/* Modes 1-4 above; returns an XOR of all XRES octets so nothing is optimised out. */
static int run_vectors(int mode, long n, const uint8_t opc[16], uint8_t *sink)
{
    ims_milenage_t m;
    ims_aka_vector_t v;
    uint64_t sqn = 1;
    char nonce[IMS_AKA_NONCE_SIZE];

    if (mode <= 2 && ims_milenage_init(&m, lab_k, opc) != IMS_OK)
        return IMS_ERROR;
    for (long i = 0; i < n; i++) {
        uint8_t rand[16];
        int rc = IMS_OK;

        if (mode == 2)
            rc = ims_aka_rand(rand);
        else
            counter_rand(rand, i);
        if (mode == 3)
            rc |= ims_milenage_init(&m, lab_k, opc);
        else if (mode == 4)
            rc |= ims_milenage_init_op(&m, lab_k, lab_op);
        sqn = ims_aka_sqn_next(sqn);
        rc |= ims_aka_vector_make(&m, rand, sqn, lab_amf, &v);
        if (mode == 2)
            rc |= ims_aka_nonce_encode(v.rand, v.autn, nonce, sizeof(nonce));
        if (mode >= 3)
            ims_milenage_fini(&m);
        if (rc != IMS_OK)
            return IMS_ERROR;
        *sink ^= v.xres[i % 8];
    }
    if (mode <= 2)
        ims_milenage_fini(&m);
    return IMS_OK;
}

static int run_digest(long n, uint8_t *sink)
{
    static const char user[] = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
    static const char realm[] = "ims.mnc001.mcc001.3gppnetwork.org";
    static const char nonce[] = "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=";
    char ha1[IMS_DIGEST_HEX_SIZE], ha2[IMS_DIGEST_HEX_SIZE], resp[IMS_DIGEST_HEX_SIZE];
    uint8_t xres[8] = { 0xa5, 0x42, 0x11, 0xd5, 0xe3, 0xba, 0x50, 0xbf };

    for (long i = 0; i < n; i++) {
        xres[0] = (uint8_t)i;
        if (ims_digest_ha1(user, realm, xres, sizeof(xres), ha1) != IMS_OK ||
            ims_digest_ha2("REGISTER", "sip:ims.mnc001.mcc001.3gppnetwork.org", ha2) != IMS_OK ||
            ims_digest_response(ha1, nonce, "00000001", "0a4f113b", "auth", ha2, resp) != IMS_OK)
            return IMS_ERROR;
        *sink ^= (uint8_t)(ims_digest_check(ha1, resp, 32) == IMS_OK);
    }
    return IMS_OK;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {
        "",
        "vectors, one context, counter RAND",
        "vectors, one context, RAND_bytes + nonce",
        "vectors, new context from OPc per vector",
        "vectors, new context from OP per vector",
    };
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    uint8_t opc[16], sink = 0;
    double t0;

    if (n <= 0 || ims_milenage_opc(lab_k, lab_op, opc) != IMS_OK) {
        fprintf(stderr, "usage: bench_milenage [count > 0]\n");
        return 2;
    }
    for (int mode = 1; mode <= 4; mode++) {
        t0 = now_sec();
        if (run_vectors(mode, n, opc, &sink) != IMS_OK) {
            fprintf(stderr, "mode %d failed\n", mode);
            return 1;
        }
        report(names[mode], n, now_sec() - t0);
    }
    t0 = now_sec();
    if (run_digest(n, &sink) != IMS_OK) {
        fprintf(stderr, "digest failed\n");
        return 1;
    }
    report("AKAv1-MD5 HA1+HA2+response+check", n, now_sec() - t0);
    printf("(sink %02x)\n", sink);
    return 0;
}
