/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the P-CSCF's SDP reader (pcscf/sdp.h). The input is an
 * offer, optionally followed by a form feed (0x0c) and an answer; each is
 * handed over in a heap buffer of its exact size, without a NUL, so ASan sees
 * any read past its end.
 *
 * Invariants checked (abort() so libFuzzer records a crash):
 * - a refused body gives a reason; an accepted one has at most
 *   PCSCF_SDP_MAX_MEDIA m= lines, NUL-terminated strings within their buffers,
 *   a port-0 stream with no RTCP port, and an address for every enabled stream
 *   that is not on hold;
 * - when both parse (or the offer alone), the Rx components number the m=
 *   lines from 1, each rule starts "permit " and fits its buffer, a rejected
 *   stream has no flows; the N5 JSON builds and serialises.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "pcscf/sdp.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_sdp: invariant failed: %s\n", what);
        abort();
    }
}

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void check_sdp(const pcscf_sdp_t *s)
{
    check(s->nmedia >= 0 && s->nmedia <= PCSCF_SDP_MAX_MEDIA, "media count");
    for (int i = 0; i < s->nmedia; i++) {
        const pcscf_sdp_media_t *m = &s->media[i];

        check(terminated(m->media, sizeof(m->media)) && terminated(m->proto, sizeof(m->proto)) &&
              terminated(m->addr, sizeof(m->addr)) && terminated(m->lines, sizeof(m->lines)),
              "strings terminated");
        check(m->ncodecs >= 0 && m->ncodecs <= PCSCF_SDP_MAX_CODECS, "codec count");
        check(m->port != 0 || m->rtcp_port == 0, "rejected stream without RTCP port");
        check(m->port == 0 || m->hold || m->family != 0, "enabled stream has an address");
        check((m->family == 0) == (m->addr[0] == '\0'), "family matches address");
    }
}

/* Parse n bytes from an exact-size copy. */
static int parse(const uint8_t *p, size_t n, pcscf_sdp_t *s)
{
    char *copy = malloc(n ? n : 1);
    const char *why = NULL;
    int rc;

    if (!copy)
        abort();
    memcpy(copy, p, n);
    rc = pcscf_sdp_parse(copy, n, s, &why);
    free(copy);
    check(rc == IMS_OK || (rc == IMS_ERROR && why != NULL), "refusal has a reason");
    if (rc == IMS_OK)
        check_sdp(s);
    return rc;
}

static void check_comps(const rx_media_comp_t *c, int n)
{
    json_t *j;
    char *text;

    for (int i = 0; i < n; i++) {
        check(c[i].number == (uint32_t)i + 1, "component numbers");
        check(c[i].flow_status != RX_FLOW_REMOVED || c[i].nsubs == 0, "removed: no flows");
        for (int k = 0; k < c[i].nsubs; k++)
            for (int f = 0; f < c[i].subs[k].nflow_desc; f++)
                check(terminated(c[i].subs[k].flow_desc[f], RX_STR) &&
                      strncmp(c[i].subs[k].flow_desc[f], "permit ", 7) == 0, "rule form");
        for (int k = 0; k < c[i].ncodec_data; k++)
            check(terminated(c[i].codec_data[k], RX_CODEC_DATA), "codec data terminated");
    }
    j = pcscf_sdp_rx_to_n5(c, n);
    check(j != NULL, "N5 JSON built");
    text = json_dumps(j, JSON_COMPACT);
    check(text != NULL, "N5 JSON serialised");
    free(text);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pcscf_sdp_t offer, answer;
    static rx_media_comp_t comps[PCSCF_SDP_MAX_MEDIA];
    const uint8_t *ff = memchr(data, '\f', size);
    size_t offer_len = ff ? (size_t)(ff - data) : size;
    pcscf_sdp_flow_opts_t opts = { .ue_offered = (size & 1) != 0, .uplink_in = (size & 2) != 0 };
    bool have_answer;
    int n;

    if (parse(data, offer_len, &offer) != IMS_OK)
        return 0;
    have_answer = ff && parse(ff + 1, size - offer_len - 1, &answer) == IMS_OK;
    n = pcscf_sdp_to_rx(&offer, have_answer ? &answer : NULL, &opts, comps,
                        PCSCF_SDP_MAX_MEDIA);
    if (have_answer && answer.nmedia != offer.nmedia) {
        check(n == IMS_ERROR, "mismatched m= lines refused");
        return 0;
    }
    check(n == offer.nmedia, "one component per m= line");
    check_comps(comps, n);
    return 0;
}
