/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen_dia_seeds <dir>: write the Diameter fuzz seeds (tests/corpus/seed-dia)
 * with the codec itself: CER, CEA, DWR, UAR, MAA (AKA vector), SAA with
 * User-Data, AAR with a media component, and a malformed DWR (an AVP whose
 * length runs past the message). Regenerate with
 *   gen_dia_seeds tests/corpus/seed-dia
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "diameter/base/codec.h"
#include "diameter/base/dict.h"

#define M DIA_AVP_M
#define V3 DIA_VENDOR_3GPP

static const char *g_dir;
static int g_failed;

static void save(const char *name, const uint8_t *buf, size_t len)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", g_dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len) {
        perror(path);
        g_failed = 1;
    }
    if (f && fclose(f) != 0)
        g_failed = 1;
}

static void save_msg(const char *name, dia_msg_t *m)
{
    if (!m) {
        fprintf(stderr, "gen_dia_seeds: building %s failed\n", name);
        g_failed = 1;
        return;
    }
    save(name, m->buf, m->len);
    dia_msg_free(m);
}

static void put_origin(dia_builder_t *b, const char *host)
{
    dia_put_str(b, DIA_AVP_ORIGIN_HOST, M, 0, host);
    dia_put_str(b, DIA_AVP_ORIGIN_REALM, M, 0, "ims.mnc001.mcc001.3gppnetwork.org");
}

static void put_cx_app(dia_builder_t *b, const char *sid)
{
    dia_put_str(b, DIA_AVP_SESSION_ID, M, 0, sid);
    dia_group_begin(b, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, M, 0);
    dia_put_u32(b, DIA_AVP_VENDOR_ID, M, 0, V3);
    dia_put_u32(b, DIA_AVP_AUTH_APPLICATION_ID, M, 0, DIA_APP_CX);
    dia_group_end(b);
    dia_put_u32(b, DIA_AVP_AUTH_SESSION_STATE, M, 0, 1);
}

static void put_ce_body(dia_builder_t *b, const char *host)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000028) };

    put_origin(b, host);
    dia_put_address(b, DIA_AVP_HOST_IP_ADDRESS, M, 0, (struct sockaddr *)&sin);
    dia_put_u32(b, DIA_AVP_VENDOR_ID, M, 0, 0);
    dia_put_str(b, DIA_AVP_PRODUCT_NAME, 0, 0, "ims-core");
    dia_put_u32(b, DIA_AVP_ORIGIN_STATE_ID, M, 0, 1712345678);
    dia_put_u32(b, DIA_AVP_SUPPORTED_VENDOR_ID, M, 0, V3);
    dia_group_begin(b, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, M, 0);
    dia_put_u32(b, DIA_AVP_VENDOR_ID, M, 0, V3);
    dia_put_u32(b, DIA_AVP_AUTH_APPLICATION_ID, M, 0, DIA_APP_CX);
    dia_group_end(b);
    dia_put_u32(b, DIA_AVP_FIRMWARE_REVISION, 0, 0, 1);
}

static void gen_base(void)
{
    dia_builder_t b;
    dia_msg_t *cer, *dwr;

    dia_build_init(&b, DIA_FLAG_R, DIA_CMD_CER, 0, 1, 1);
    put_ce_body(&b, "scscf.ims.mnc001.mcc001.3gppnetwork.org");
    cer = dia_build_finish(&b);
    if (cer) {
        dia_build_answer(&b, cer);
        dia_put_u32(&b, DIA_AVP_RESULT_CODE, M, 0, DIA_SUCCESS);
        put_ce_body(&b, "hss.ims.mnc001.mcc001.3gppnetwork.org");
        save_msg("cea.bin", dia_build_finish(&b));
    }
    save_msg("cer.bin", cer);
    dia_build_init(&b, DIA_FLAG_R, DIA_CMD_DWR, 0, 2, 2);
    put_origin(&b, "scscf.ims.mnc001.mcc001.3gppnetwork.org");
    dia_put_u32(&b, DIA_AVP_ORIGIN_STATE_ID, M, 0, 1712345678);
    dwr = dia_build_finish(&b);
    if (dwr) {
        /* Malformed: the last AVP claims 16 octets more than there are. */
        uint8_t bad[512];

        memcpy(bad, dwr->buf, dwr->len);
        bad[dwr->len - 5] = (uint8_t)(bad[dwr->len - 5] + 16);
        save("malformed-avp-len.bin", bad, dwr->len);
    }
    save_msg("dwr.bin", dwr);
}

static void gen_cx(void)
{
    static const uint8_t vec[32] = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01 };
    dia_builder_t b;

    dia_build_init(&b, DIA_FLAG_R | DIA_FLAG_P, DIA_CMD_UAR, DIA_APP_CX, 3, 3);
    put_cx_app(&b, "icscf.ims.mnc001.mcc001.3gppnetwork.org;1712345678;1");
    put_origin(&b, "icscf.ims.mnc001.mcc001.3gppnetwork.org");
    dia_put_str(&b, DIA_AVP_DESTINATION_REALM, M, 0, "ims.mnc001.mcc001.3gppnetwork.org");
    dia_put_str(&b, DIA_AVP_USER_NAME, M, 0, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
    dia_put_str(&b, 601, M, V3, "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
    dia_put_octets(&b, 600, M, V3, "ims.mnc001.mcc001.3gppnetwork.org", 33);
    dia_put_u32(&b, 623, M, V3, 0);
    save_msg("uar.bin", dia_build_finish(&b));

    dia_build_init(&b, DIA_FLAG_P, DIA_CMD_MAR, DIA_APP_CX, 4, 4);
    put_cx_app(&b, "scscf.ims.mnc001.mcc001.3gppnetwork.org;1712345678;2");
    put_origin(&b, "hss.ims.mnc001.mcc001.3gppnetwork.org");
    dia_put_u32(&b, DIA_AVP_RESULT_CODE, M, 0, DIA_SUCCESS);
    dia_put_str(&b, DIA_AVP_USER_NAME, M, 0, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
    dia_put_u32(&b, 607, M, V3, 1);
    dia_group_begin(&b, 612, M, V3);
    dia_put_u32(&b, 613, M, V3, 1);
    dia_put_str(&b, 608, M, V3, "Digest-AKAv1-MD5");
    dia_put_octets(&b, 609, M, V3, vec, 32);
    dia_put_octets(&b, 610, M, V3, vec, 8);
    dia_put_octets(&b, 625, M, V3, vec, 16);
    dia_put_octets(&b, 626, M, V3, vec + 16, 16);
    dia_group_end(&b);
    save_msg("maa.bin", dia_build_finish(&b));

    dia_build_init(&b, DIA_FLAG_P, DIA_CMD_SAR, DIA_APP_CX, 5, 5);
    put_cx_app(&b, "scscf.ims.mnc001.mcc001.3gppnetwork.org;1712345678;3");
    put_origin(&b, "hss.ims.mnc001.mcc001.3gppnetwork.org");
    dia_put_u32(&b, DIA_AVP_RESULT_CODE, M, 0, DIA_SUCCESS);
    dia_put_str(&b, 606, M, V3,
                "<?xml version=\"1.0\"?><IMSSubscription><PrivateID>001010000000001@ims"
                "</PrivateID><ServiceProfile><PublicIdentity><Identity>sip:alice@ims"
                "</Identity></PublicIdentity></ServiceProfile></IMSSubscription>");
    dia_group_begin(&b, 618, M, V3);
    dia_put_str(&b, 619, M, V3, "aaa://ecf.ims.mnc001.mcc001.3gppnetwork.org");
    dia_group_end(&b);
    save_msg("saa.bin", dia_build_finish(&b));
}

static void gen_rx(void)
{
    dia_builder_t b;

    dia_build_init(&b, DIA_FLAG_R | DIA_FLAG_P, DIA_CMD_AAR, DIA_APP_RX, 6, 6);
    dia_put_str(&b, DIA_AVP_SESSION_ID, M, 0, "pcscf.ims.mnc001.mcc001.3gppnetwork.org;1;7");
    dia_put_u32(&b, DIA_AVP_AUTH_APPLICATION_ID, M, 0, DIA_APP_RX);
    put_origin(&b, "pcscf.ims.mnc001.mcc001.3gppnetwork.org");
    dia_put_str(&b, DIA_AVP_DESTINATION_REALM, M, 0, "epc.mnc001.mcc001.3gppnetwork.org");
    dia_group_begin(&b, 517, M, V3);
    dia_put_u32(&b, 518, M, V3, 1);
    dia_group_begin(&b, 519, M, V3);
    dia_put_u32(&b, 509, M, V3, 1);
    dia_put_str(&b, 507, M, V3, "permit in 17 from 10.45.0.2 49000 to 10.0.0.9 50000");
    dia_put_str(&b, 507, M, V3, "permit out 17 from 10.0.0.9 50000 to 10.45.0.2 49000");
    dia_group_end(&b);
    dia_put_u32(&b, 520, M, V3, 0);
    dia_put_u32(&b, 515, M, V3, 64000);
    dia_put_u32(&b, 516, M, V3, 64000);
    dia_group_end(&b);
    dia_put_u32(&b, 513, M, V3, 2);
    dia_group_begin(&b, 443, M, 0);
    dia_put_u32(&b, 450, M, 0, 2);
    dia_put_str(&b, 444, M, 0, "sip:alice@ims.mnc001.mcc001.3gppnetwork.org");
    dia_group_end(&b);
    dia_put_octets(&b, 8, M, 0, "\x0a\x2d\x00\x02", 4);
    save_msg("aar.bin", dia_build_finish(&b));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <dir>\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    gen_base();
    gen_cx();
    gen_rx();
    return g_failed ? 1 : 0;
}
