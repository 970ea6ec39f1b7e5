/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF's SDP reader and the policy data built from an offer/answer
 * pair (pcscf/sdp.h), on SDP as VoLTE/VoNR handsets send it:
 * - AMR-WB + telephone-event with preconditions (a=curr/a=des), originating:
 *   every field of the parse, then the Rx components field by field (flow
 *   rules both ways for RTP and RTCP at port+1, bandwidth UL from the remote's
 *   b=AS and DL from the UE's, Codec-Data "uplink\noffer" / "downlink\nanswer");
 * - the same call seen by the terminating P-CSCF (rules swap ends);
 * - EVS with a=rtcp and no b= (per-codec default), IPv6 addresses;
 * - audio + video, the video rejected with port 0 (REMOVED, no flows);
 * - hold and resume: a=sendonly/recvonly, a=inactive, session-level
 *   direction, c= 0.0.0.0; rtcp-mux on both sides (one flow), TIAS, the
 *   Kamailio-style "permit in" uplink, a preliminary offer-only description;
 * - the N5 medComponents JSON built from the same components;
 * - preconditions (RFC 3312): which offers want resources before the answer;
 * - malformed bodies refused with a reason, mismatched m= lines refused, and
 *   every truncation and some thousands of mutations of a valid body read
 *   from an exact-size heap copy without reading past it (ASan builds check).
 *
 * The pcscf/ sources are compiled into this program (the daemon is not a library).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pcscf/sdp.c"

#define CRLF "\r\n"

/* Originating UE (10.45.0.2) offers AMR-WB + telephone-event with preconditions. */
static const char *g_offer_amrwb =
    "v=0" CRLF
    "o=- 1 1 IN IP4 10.45.0.2" CRLF
    "s=-" CRLF
    "c=IN IP4 10.45.0.2" CRLF
    "b=AS:49" CRLF
    "t=0 0" CRLF
    "m=audio 49152 RTP/AVP 116 111 100" CRLF
    "b=AS:49" CRLF
    "b=RS:0" CRLF
    "b=RR:2500" CRLF
    "a=rtpmap:116 AMR-WB/16000/1" CRLF
    "a=fmtp:116 mode-change-capability=2;max-red=0" CRLF
    "a=rtpmap:111 telephone-event/16000" CRLF
    "a=fmtp:111 0-15" CRLF
    "a=rtpmap:100 AMR/8000/1" CRLF
    "a=curr:qos local none" CRLF
    "a=curr:qos remote none" CRLF
    "a=des:qos mandatory local sendrecv" CRLF
    "a=des:qos optional remote sendrecv" CRLF
    "a=sendrecv" CRLF
    "a=ptime:20" CRLF
    "a=maxptime:240" CRLF;

/* The answer from the far end (10.45.0.3), AMR-WB only, b=AS:41, LF line ends. */
static const char *g_answer_amrwb =
    "v=0\n"
    "o=- 7 7 IN IP4 10.45.0.3\n"
    "s=-\n"
    "t=0 0\n"
    "m=audio 50000 RTP/AVP 116 111\n"
    "c=IN IP4 10.45.0.3\n"
    "b=AS:41\n"
    "a=rtpmap:116 AMR-WB/16000/1\n"
    "a=rtpmap:111 telephone-event/16000\n"
    "a=curr:qos local none\n"
    "a=curr:qos remote none\n"
    "a=des:qos mandatory local sendrecv\n"
    "a=des:qos mandatory remote sendrecv\n"
    "a=conf:qos remote sendrecv\n";

/* EVS over IPv6 with a=rtcp and no bandwidth line. */
static const char *g_offer_evs6 =
    "v=0" CRLF
    "o=- 3 1 IN IP6 2001:db8::2" CRLF
    "s=-" CRLF
    "c=IN IP6 2001:db8::2" CRLF
    "t=0 0" CRLF
    "m=audio 31000 RTP/AVP 127 96" CRLF
    "a=rtpmap:127 EVS/16000" CRLF
    "a=fmtp:127 br=5.9-24.4;bw=nb-swb" CRLF
    "a=rtpmap:96 telephone-event/16000" CRLF
    "a=rtcp:31005 IN IP6 2001:db8::2" CRLF;
static const char *g_answer_evs6 =
    "v=0" CRLF
    "o=- 4 1 IN IP6 2001:db8::3" CRLF
    "s=-" CRLF
    "t=0 0" CRLF
    "m=audio 42000 RTP/AVP 127" CRLF
    "c=IN IP6 2001:db8::3" CRLF
    "a=rtpmap:127 EVS/16000" CRLF;

/* Audio and video offered; the answer rejects the video (port 0). */
static const char *g_offer_av =
    "v=0" CRLF "o=- 5 1 IN IP4 10.45.0.2" CRLF "s=-" CRLF "c=IN IP4 10.45.0.2" CRLF
    "t=0 0" CRLF
    "m=audio 49152 RTP/AVP 116" CRLF "b=AS:49" CRLF "a=rtpmap:116 AMR-WB/16000" CRLF
    "m=video 49154 RTP/AVPF 97" CRLF "b=AS:960" CRLF "a=rtpmap:97 H264/90000" CRLF
    "a=fmtp:97 profile-level-id=42C00C;packetization-mode=1" CRLF "a=rtcp-fb:* nack" CRLF;
static const char *g_answer_av_novideo =
    "v=0" CRLF "o=- 6 1 IN IP4 10.45.0.3" CRLF "s=-" CRLF "c=IN IP4 10.45.0.3" CRLF
    "t=0 0" CRLF
    "m=audio 50000 RTP/AVP 116" CRLF "b=AS:49" CRLF "a=rtpmap:116 AMR-WB/16000" CRLF
    "m=video 0 RTP/AVPF 97" CRLF;

#define HOLD_OFFER(dir)                                                                    \
    "v=0" CRLF "o=- 1 2 IN IP4 10.45.0.2" CRLF "s=-" CRLF "c=IN IP4 10.45.0.2" CRLF      \
    "t=0 0" CRLF "m=audio 49152 RTP/AVP 116" CRLF "b=AS:49" CRLF                          \
    "a=rtpmap:116 AMR-WB/16000" CRLF dir
#define HOLD_ANSWER(dir)                                                                   \
    "v=0" CRLF "o=- 7 8 IN IP4 10.45.0.3" CRLF "s=-" CRLF "c=IN IP4 10.45.0.3" CRLF      \
    "t=0 0" CRLF "m=audio 50000 RTP/AVP 116" CRLF "b=AS:41" CRLF                          \
    "a=rtpmap:116 AMR-WB/16000" CRLF dir

static bool starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void parse_ok(const char *body, pcscf_sdp_t *s)
{
    const char *why = "unset";

    if (pcscf_sdp_parse(body, strlen(body), s, &why) != IMS_OK)
        fail_msg("refused: %s\n%s", why ? why : "(no reason)", body);
    assert_null(why);
}

/* Parse both and build the components; returns their number. */
static int to_rx(const char *offer, const char *answer, bool ue_offered, rx_media_comp_t *c,
                 int max)
{
    static pcscf_sdp_t o, a;
    pcscf_sdp_flow_opts_t opts = { .ue_offered = ue_offered };

    parse_ok(offer, &o);
    if (answer)
        parse_ok(answer, &a);
    return pcscf_sdp_to_rx(&o, answer ? &a : NULL, &opts, c, max);
}

static void test_parse_amrwb(void **state)
{
    static pcscf_sdp_t s;
    const pcscf_sdp_media_t *m = &s.media[0];

    parse_ok(g_offer_amrwb, &s);
    assert_int_equal(s.nmedia, 1);
    assert_string_equal(m->media, "audio");
    assert_int_equal(m->media_type, RX_MEDIA_AUDIO);
    assert_string_equal(m->proto, "RTP/AVP");
    assert_int_equal(m->ip_proto, 17);
    assert_int_equal(m->port, 49152);
    assert_int_equal(m->rtcp_port, 49153);
    assert_false(m->rtcp_mux);
    assert_string_equal(m->addr, "10.45.0.2");
    assert_int_equal(m->family, AF_INET);
    assert_false(m->hold);
    assert_int_equal(m->dir, PCSCF_SDP_SENDRECV);
    assert_true(m->has_as);
    assert_int_equal(m->as_kbps, 49);
    assert_true(m->has_rr && m->has_rs);
    assert_int_equal(m->rr_bps, 2500);
    assert_int_equal(m->rs_bps, 0);
    assert_false(m->has_tias);
    assert_true(m->precondition);
    assert_int_equal(m->ncodecs, 3);
    assert_int_equal(m->codecs[0].pt, 116);
    assert_string_equal(m->codecs[0].name, "AMR-WB");
    assert_int_equal(m->codecs[0].clock, 16000);
    assert_string_equal(m->codecs[1].name, "telephone-event");
    assert_string_equal(m->codecs[2].name, "AMR");
    assert_int_equal(m->codecs[2].clock, 8000);
    assert_non_null(strstr(m->lines, "m=audio 49152 RTP/AVP 116 111 100\n"
                                     "a=rtpmap:116 AMR-WB/16000/1\n"));
    assert_non_null(strstr(m->lines, "a=des:qos optional remote sendrecv\n"));
    assert_null(strstr(m->lines, "b=AS"));   /* m= and a= lines only */
    assert_null(strstr(m->lines, "\r"));
    assert_false(m->lines_truncated);
    assert_int_equal(pcscf_sdp_media_bw(m), 49000);
}

static void test_rx_originating(void **state)
{
    static rx_media_comp_t c[RX_MAX_MEDIA];
    const rx_media_sub_t *rtp = &c[0].subs[0], *rtcp = &c[0].subs[1];

    assert_int_equal(to_rx(g_offer_amrwb, g_answer_amrwb, true, c, RX_MAX_MEDIA), 1);
    assert_int_equal(c[0].number, 1);
    assert_true(c[0].has_media_type);
    assert_int_equal(c[0].media_type, RX_MEDIA_AUDIO);
    assert_true(c[0].has_flow_status);
    assert_int_equal(c[0].flow_status, RX_FLOW_ENABLED);
    assert_true(c[0].has_max_bw_ul && c[0].has_max_bw_dl);
    assert_int_equal(c[0].max_bw_ul, 41000);   /* what the far end receives */
    assert_int_equal(c[0].max_bw_dl, 49000);   /* what the UE receives */
    assert_true(c[0].has_rr_bw && c[0].has_rs_bw);   /* only the offer had them */
    assert_int_equal(c[0].rr_bw, 2500);
    assert_int_equal(c[0].rs_bw, 0);
    assert_int_equal(c[0].nsubs, 2);
    assert_int_equal(rtp->flow_number, 1);
    assert_false(rtp->has_flow_usage);
    assert_int_equal(rtp->nflow_desc, 2);
    assert_string_equal(rtp->flow_desc[0], "permit out 17 from 10.45.0.2 49152 to 10.45.0.3 50000");
    assert_string_equal(rtp->flow_desc[1], "permit out 17 from 10.45.0.3 50000 to 10.45.0.2 49152");
    assert_int_equal(rtcp->flow_number, 2);
    assert_true(rtcp->has_flow_usage);
    assert_int_equal(rtcp->flow_usage, RX_USAGE_RTCP);
    assert_string_equal(rtcp->flow_desc[0],
                        "permit out 17 from 10.45.0.2 49153 to 10.45.0.3 50001");
    assert_string_equal(rtcp->flow_desc[1],
                        "permit out 17 from 10.45.0.3 50001 to 10.45.0.2 49153");
    assert_int_equal(c[0].ncodec_data, 2);
    assert_true(starts(c[0].codec_data[0], "uplink\noffer\nm=audio 49152 RTP/AVP 116 111 100\n"
                                          "a=rtpmap:116 AMR-WB/16000/1\n"));
    assert_true(starts(c[0].codec_data[1], "downlink\nanswer\nm=audio 50000 RTP/AVP 116 111\n"
                                          "a=rtpmap:116 AMR-WB/16000/1\n"));
}

static void test_rx_terminating(void **state)
{
    static rx_media_comp_t c[RX_MAX_MEDIA];

    /* The same offer arriving from the network at the callee's P-CSCF: UE = 10.45.0.3. */
    assert_int_equal(to_rx(g_offer_amrwb, g_answer_amrwb, false, c, RX_MAX_MEDIA), 1);
    assert_string_equal(c[0].subs[0].flow_desc[0],
                        "permit out 17 from 10.45.0.3 50000 to 10.45.0.2 49152");
    assert_string_equal(c[0].subs[0].flow_desc[1],
                        "permit out 17 from 10.45.0.2 49152 to 10.45.0.3 50000");
    assert_string_equal(c[0].subs[1].flow_desc[0],
                        "permit out 17 from 10.45.0.3 50001 to 10.45.0.2 49153");
    assert_int_equal(c[0].max_bw_ul, 49000);
    assert_int_equal(c[0].max_bw_dl, 41000);
    assert_true(starts(c[0].codec_data[0], "downlink\noffer\n"));
    assert_true(starts(c[0].codec_data[1], "uplink\nanswer\n"));
}

static void test_evs_ipv6(void **state)
{
    static pcscf_sdp_t s;
    static rx_media_comp_t c[RX_MAX_MEDIA];

    parse_ok(g_offer_evs6, &s);
    assert_int_equal(s.media[0].family, AF_INET6);
    assert_string_equal(s.media[0].addr, "2001:db8::2");
    assert_int_equal(s.media[0].rtcp_port, 31005);
    assert_false(s.media[0].has_as);
    assert_int_equal(pcscf_sdp_media_bw(&s.media[0]), 49000);   /* EVS default */
    assert_int_equal(to_rx(g_offer_evs6, g_answer_evs6, true, c, RX_MAX_MEDIA), 1);
    assert_string_equal(c[0].subs[0].flow_desc[0],
                        "permit out 17 from 2001:db8::2 31000 to 2001:db8::3 42000");
    assert_string_equal(c[0].subs[1].flow_desc[0],
                        "permit out 17 from 2001:db8::2 31005 to 2001:db8::3 42001");
    assert_string_equal(c[0].subs[1].flow_desc[1],
                        "permit out 17 from 2001:db8::3 42001 to 2001:db8::2 31005");
    assert_int_equal(c[0].max_bw_ul, 49000);
    assert_int_equal(c[0].max_bw_dl, 49000);
}

static void test_audio_video_rejected(void **state)
{
    static pcscf_sdp_t s;
    static rx_media_comp_t c[RX_MAX_MEDIA];

    parse_ok(g_answer_av_novideo, &s);
    assert_int_equal(s.nmedia, 2);
    assert_int_equal(s.media[1].port, 0);
    assert_int_equal(s.media[1].rtcp_port, 0);
    parse_ok(g_offer_av, &s);
    assert_int_equal(s.media[1].media_type, RX_MEDIA_VIDEO);
    assert_int_equal(s.media[1].codecs[0].pt, 97);
    assert_string_equal(s.media[1].codecs[0].name, "H264");
    assert_int_equal(to_rx(g_offer_av, g_answer_av_novideo, true, c, RX_MAX_MEDIA), 2);
    assert_int_equal(c[0].flow_status, RX_FLOW_ENABLED);
    assert_int_equal(c[0].nsubs, 2);
    assert_int_equal(c[1].number, 2);
    assert_int_equal(c[1].media_type, RX_MEDIA_VIDEO);
    assert_int_equal(c[1].flow_status, RX_FLOW_REMOVED);
    assert_int_equal(c[1].nsubs, 0);
    assert_false(c[1].has_max_bw_ul);
    /* The output array too small for the m= lines: refused, not truncated. */
    assert_int_equal(to_rx(g_offer_av, g_answer_av_novideo, true, c, 1), IMS_ERROR);
}

static uint32_t status_of(const char *offer, const char *answer, bool ue_offered)
{
    static rx_media_comp_t c[RX_MAX_MEDIA];

    assert_int_equal(to_rx(offer, answer, ue_offered, c, RX_MAX_MEDIA), 1);
    return c[0].flow_status;
}

static void test_hold(void **state)
{
    static pcscf_sdp_t s;

    /* The UE holds: it only sends (music, or nothing), the far end only receives. */
    assert_int_equal(status_of(HOLD_OFFER("a=sendonly" CRLF), HOLD_ANSWER("a=recvonly" CRLF),
                               true), RX_FLOW_ENABLED_UPLINK);
    /* The far end holds the UE (terminating view of the same re-INVITE). */
    assert_int_equal(status_of(HOLD_OFFER("a=sendonly" CRLF), HOLD_ANSWER("a=recvonly" CRLF),
                               false), RX_FLOW_ENABLED_DOWNLINK);
    assert_int_equal(status_of(HOLD_OFFER("a=inactive" CRLF), HOLD_ANSWER("a=inactive" CRLF),
                               true), RX_FLOW_DISABLED);
    /* Resume. */
    assert_int_equal(status_of(HOLD_OFFER("a=sendrecv" CRLF), HOLD_ANSWER(""), true),
                     RX_FLOW_ENABLED);
    /* Direction at session level, overridden per m= line. */
    parse_ok("v=0\nc=IN IP4 10.0.0.1\na=sendonly\nm=audio 4000 RTP/AVP 0\n"
             "m=audio 4002 RTP/AVP 8\na=recvonly\n", &s);
    assert_int_equal(s.media[0].dir, PCSCF_SDP_SENDONLY);
    assert_int_equal(s.media[1].dir, PCSCF_SDP_RECVONLY);
    assert_string_equal(s.media[0].codecs[0].name, "PCMU");   /* static payload type */
    assert_int_equal(pcscf_sdp_media_bw(&s.media[1]), 88000);
    /* RFC 2543 hold: c= 0.0.0.0, the address unknown, the UE receives nothing. */
    parse_ok("v=0\nm=audio 4000 RTP/AVP 0\nc=IN IP4 0.0.0.0\n", &s);
    assert_true(s.media[0].hold);
    assert_string_equal(s.media[0].addr, "");
    assert_int_equal(status_of("v=0\nm=audio 4000 RTP/AVP 0\nc=IN IP4 0.0.0.0\n",
                               "v=0\nm=audio 5000 RTP/AVP 0\nc=IN IP4 10.0.0.9\n", true),
                     RX_FLOW_ENABLED_UPLINK);
}

static void test_variants(void **state)
{
    static pcscf_sdp_t o, a;
    static rx_media_comp_t c[RX_MAX_MEDIA];
    pcscf_sdp_flow_opts_t legacy = { .ue_offered = true, .uplink_in = true };

    /* rtcp-mux on both sides: one flow; TIAS when there is no AS. */
    parse_ok("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVPF 96\nb=TIAS:64000\n"
             "a=rtpmap:96 opus/48000/2\na=rtcp-mux\n", &o);
    parse_ok("v=0\nc=IN IP4 10.0.0.2\nm=audio 6000 RTP/AVPF 96\na=rtcp-mux\n", &a);
    assert_int_equal(pcscf_sdp_to_rx(&o, &a, &legacy, c, RX_MAX_MEDIA), 1);
    assert_int_equal(c[0].nsubs, 1);
    assert_int_equal(c[0].max_bw_dl, 64000);
    assert_false(c[0].has_max_bw_ul);   /* opus: no default, no b= */
    assert_string_equal(c[0].subs[0].flow_desc[0],
                        "permit in 17 from 10.0.0.1 4000 to 10.0.0.2 6000");
    assert_string_equal(c[0].subs[0].flow_desc[1],
                        "permit out 17 from 10.0.0.2 6000 to 10.0.0.1 4000");
    /* Preliminary, from the offer alone: the far end is "any". */
    legacy.uplink_in = false;
    assert_int_equal(pcscf_sdp_to_rx(&o, NULL, &legacy, c, RX_MAX_MEDIA), 1);
    assert_int_equal(c[0].nsubs, 2);
    assert_string_equal(c[0].subs[0].flow_desc[0], "permit out 17 from 10.0.0.1 4000 to any");
    assert_string_equal(c[0].subs[1].flow_desc[1], "permit out 17 from any to 10.0.0.1 4001");
    assert_int_equal(c[0].ncodec_data, 1);
    /* Terminating, offer only: the UE's end is unknown. */
    legacy.ue_offered = false;
    assert_int_equal(pcscf_sdp_to_rx(&o, NULL, &legacy, c, RX_MAX_MEDIA), 1);
    assert_string_equal(c[0].subs[0].flow_desc[0], "permit out 17 from any to 10.0.0.1 4000");
    /* MSRP over TCP: protocol 6, no RTCP flow; "message" counts as CONTROL. */
    parse_ok("v=0\nc=IN IP4 10.0.0.1\nm=message 2855 TCP/MSRP *\n", &o);
    parse_ok("v=0\nc=IN IP4 10.0.0.2\nm=message 2856 TCP/MSRP *\n", &a);
    assert_int_equal(o.media[0].ncodecs, 0);
    assert_int_equal(pcscf_sdp_to_rx(&o, &a, &legacy, c, RX_MAX_MEDIA), 1);
    assert_int_equal(c[0].media_type, RX_MEDIA_CONTROL);
    assert_int_equal(c[0].nsubs, 1);
    assert_string_equal(c[0].subs[0].flow_desc[0],
                        "permit out 6 from 10.0.0.2 2856 to 10.0.0.1 2855");
    assert_string_equal(c[0].subs[0].flow_desc[1],
                        "permit out 6 from 10.0.0.1 2855 to 10.0.0.2 2856");
    /* An answer with a different number of m= lines (RFC 3264 §6). */
    parse_ok(g_offer_av, &o);
    parse_ok(g_answer_amrwb, &a);
    assert_int_equal(pcscf_sdp_to_rx(&o, &a, &legacy, c, RX_MAX_MEDIA), IMS_ERROR);
}

static void test_n5(void **state)
{
    static rx_media_comp_t c[RX_MAX_MEDIA];
    json_t *j, *m1, *m2, *sub;
    int n = to_rx(g_offer_av, g_answer_av_novideo, true, c, RX_MAX_MEDIA);

    assert_int_equal(n, 2);
    j = pcscf_sdp_rx_to_n5(c, n);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 2);
    m1 = json_object_get(j, "1");
    m2 = json_object_get(j, "2");
    assert_non_null(m1);
    assert_non_null(m2);
    assert_int_equal(json_integer_value(json_object_get(m1, "medCompN")), 1);
    assert_string_equal(json_string_value(json_object_get(m1, "medType")), "AUDIO");
    assert_string_equal(json_string_value(json_object_get(m1, "fStatus")), "ENABLED");
    assert_string_equal(json_string_value(json_object_get(m1, "marBwUl")), "49 Kbps");
    assert_string_equal(json_string_value(json_object_get(m1, "marBwDl")), "49 Kbps");
    assert_int_equal(json_array_size(json_object_get(m1, "codecs")), 2);
    assert_true(starts(json_string_value(json_array_get(json_object_get(m1, "codecs"), 0)),
                       "uplink\noffer\nm=audio 49152 RTP/AVP 116\n"));
    sub = json_object_get(json_object_get(m1, "medSubComps"), "2");
    assert_int_equal(json_integer_value(json_object_get(sub, "fNum")), 2);
    assert_string_equal(json_string_value(json_object_get(sub, "flowUsage")), "RTCP");
    assert_string_equal(json_string_value(json_array_get(json_object_get(sub, "fDescs"), 0)),
                        "permit out 17 from 10.45.0.2 49153 to 10.45.0.3 50001");
    sub = json_object_get(json_object_get(m1, "medSubComps"), "1");
    assert_string_equal(json_string_value(json_object_get(sub, "flowUsage")), "NO_INFO");
    assert_string_equal(json_string_value(json_object_get(m2, "medType")), "VIDEO");
    assert_string_equal(json_string_value(json_object_get(m2, "fStatus")), "REMOVED");
    assert_null(json_object_get(m2, "medSubComps"));
    json_decref(j);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "v=1\n",
        "o=- 1 1 IN IP4 1.2.3.4\nv=0\n",
        "v=0\nv=0\n",
        "v=0\nthis is not sdp\n",
        "v=0\nX=upper\n",
        "v=0\n=\n",
        "v=0\nc=IN IP4 10.0.0.1\nm=audio 65536 RTP/AVP 0\n",
        "v=0\nc=IN IP4 10.0.0.1\nm=audio -1 RTP/AVP 0\n",
        "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP\n",
        "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000\n",
        "v=0\nc=IN IP4 10.0.0.1\nm=audio\n",
        "v=0\nm=audio 4000 RTP/AVP 0\n",                     /* no c= anywhere */
        "v=0\nc=IN IP4 300.0.0.1\nm=audio 4000 RTP/AVP 0\n",
        "v=0\nc=IN IP4 example.com\nm=audio 4000 RTP/AVP 0\n",
        "v=0\nc=IN IP7 10.0.0.1\nm=audio 4000 RTP/AVP 0\n",
        "v=0\nc=ATM NSAP 10.0.0.1\nm=audio 4000 RTP/AVP 0\n",
        "v=0\nc=IN IP6 10.0.0.1\nm=audio 4000 RTP/AVP 0\n",
        "v=0\nc=IN\nm=audio 4000 RTP/AVP 0\n",
        "v=0\nc=IN IP4 10.0.0.1\nb=AS:4294968\nm=audio 4000 RTP/AVP 0\n",
        "v=0\nc=IN IP4 10.0.0.1\nb=AS\nm=audio 4000 RTP/AVP 0\n",
        "v=0\nc=IN IP4 10.0.0.1\nb=AS:12x\nm=audio 4000 RTP/AVP 0\n",
        "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=rtcp:0\n",
        "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=rtcp:70000\n",
        "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=rtcp:\n",
        ("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\nm=audio 4000 RTP/AVP 0\n"
         "m=audio 4000 RTP/AVP 0\nm=audio 4000 RTP/AVP 0\nm=audio 4000 RTP/AVP 0\n"
         "m=audio 4000 RTP/AVP 0\nm=audio 4000 RTP/AVP 0\nm=audio 4000 RTP/AVP 0\n"
         "m=audio 4000 RTP/AVP 0\n"),
        ("v=0\nm=audio 4000 RTP/AVP 0\nc=IN IP4 1111111111111111111111111111111111111111111"
         "11111111111111111111111111\n"),
        "v=0\nm=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 4000 RTP/AVP 0\n",
    };
    static pcscf_sdp_t s;
    static char big[PCSCF_SDP_MAX_BODY + 2];
    const char *why;
    char nul[] = "v=0\nc=IN IP4 10.0.0.1\0\nm=audio 4000 RTP/AVP 0\n";

    for (size_t i = 0; i < IMS_ARRAY_LEN(bad); i++) {
        why = NULL;
        if (pcscf_sdp_parse(bad[i], strlen(bad[i]), &s, &why) != IMS_ERROR)
            fail_msg("accepted bad SDP #%zu: %s", i, bad[i]);
        assert_non_null(why);
    }
    assert_int_equal(pcscf_sdp_parse(nul, sizeof(nul) - 1, &s, &why), IMS_ERROR);
    assert_int_equal(pcscf_sdp_parse(NULL, 0, &s, &why), IMS_ERROR);
    memset(big, 'a', sizeof(big));
    memcpy(big, "v=0\ni=", 6);
    assert_int_equal(pcscf_sdp_parse(big, sizeof(big), &s, &why), IMS_ERROR);
    /* Accepted oddities: empty lines, a lone \r line end, unknown lines, a TTL. */
    parse_ok("v=0\r\n\r\nz=whatever\nc=IN IP4 224.2.1.1/127/3\nm=audio 4000/2 RTP/AVP 0 200 x\n"
             "a=rtpmap:zz bad\na=rtpmap:0\na=unknown\n\n", &s);
    assert_int_equal(s.media[0].ncodecs, 1);   /* 200 and x are no RTP payload types */
    assert_string_equal(s.media[0].addr, "224.2.1.1");
}

static void test_limits(void **state)
{
    static pcscf_sdp_t s;
    static char body[PCSCF_SDP_MAX_BODY];
    size_t n;

    n = (size_t)snprintf(body, sizeof(body), "v=0\nc=IN IP4 10.0.0.1\nm=audio 65535 RTP/AVP");

    for (int pt = 0; pt < 40; pt++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, " %d", pt + 60);
    n += (size_t)snprintf(body + n, sizeof(body) - n, "\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "a=rtpmap:%d AMR/8000 ...\n", i + 60);
    assert_int_equal(pcscf_sdp_parse(body, n, &s, NULL), IMS_OK);
    assert_int_equal(s.media[0].ncodecs, PCSCF_SDP_MAX_CODECS);
    assert_int_equal(s.media[0].rtcp_port, 0);   /* no port + 1 past 65535 */
    assert_true(s.media[0].lines_truncated);
    assert_true(strlen(s.media[0].lines) < sizeof(s.media[0].lines));
    assert_int_equal(s.media[0].lines[strlen(s.media[0].lines) - 1], '\n');
}

/* Parse from an exact-size heap copy, so that ASan sees any read past the end. */
static void parse_copy(const char *p, size_t n)
{
    static pcscf_sdp_t s, a;
    static rx_media_comp_t c[PCSCF_SDP_MAX_MEDIA];
    pcscf_sdp_flow_opts_t opts = { .ue_offered = true };
    char *copy = malloc(n ? n : 1);
    json_t *j;
    int k;

    assert_non_null(copy);
    memcpy(copy, p, n);
    if (pcscf_sdp_parse(copy, n, &s, NULL) == IMS_OK) {
        parse_ok(g_answer_amrwb, &a);
        k = pcscf_sdp_to_rx(&s, s.nmedia == 1 ? &a : NULL, &opts, c, PCSCF_SDP_MAX_MEDIA);
        assert_true(k == s.nmedia);
        j = pcscf_sdp_rx_to_n5(c, k);
        assert_non_null(j);
        json_decref(j);
    }
    free(copy);
}

/* A minimal audio offer with the qos lines given (each ending in CRLF), port port. */
static bool needs(const char *qos, unsigned port)
{
    static pcscf_sdp_t s;
    char body[1024];

    snprintf(body, sizeof(body),
             "v=0" CRLF "o=- 1 1 IN IP4 10.0.0.1" CRLF "s=-" CRLF "c=IN IP4 10.0.0.1" CRLF
             "t=0 0" CRLF "m=audio %u RTP/AVP 0" CRLF "%s", port, qos);
    parse_ok(body, &s);
    return pcscf_sdp_needs_resources(&s);
}

static void test_preconditions(void **state)
{
    static pcscf_sdp_t s;
    const pcscf_sdp_media_t *m = &s.media[0];

    /* RFC 3312 §5 on the handset's offer: local sendrecv mandatory, nothing yet. */
    parse_ok(g_offer_amrwb, &s);
    assert_int_equal(m->qos_mandatory[1], 3);
    assert_int_equal(m->qos_mandatory[2], 0);      /* optional: not wanted before */
    assert_int_equal(m->qos_current[1], 0);
    assert_true(pcscf_sdp_needs_resources(&s));
    /* The UPDATE after the bearer came up: the wish is met. */
    assert_false(needs("a=curr:qos local sendrecv" CRLF "a=curr:qos remote none" CRLF
                       "a=des:qos mandatory local sendrecv" CRLF, 4000));
    /* Half met: send is there, recv is not. */
    assert_true(needs("a=curr:qos local send" CRLF "a=des:qos mandatory local sendrecv" CRLF,
                      4000));
    /* Remote and end-to-end status types count too. */
    assert_true(needs("a=curr:qos remote none" CRLF "a=des:qos mandatory remote recv" CRLF,
                      4000));
    assert_true(needs("a=curr:qos e2e send" CRLF "a=des:qos mandatory e2e sendrecv" CRLF, 4000));
    /* Optional only, none at all, a rejected stream: nothing to wait for. */
    assert_false(needs("a=curr:qos local none" CRLF "a=des:qos optional local sendrecv" CRLF,
                       4000));
    assert_false(needs("a=sendrecv" CRLF, 4000));
    assert_false(needs("a=curr:qos local none" CRLF "a=des:qos mandatory local sendrecv" CRLF,
                       0));
    /* Other precondition types and lines we cannot read are noted, not acted on. */
    assert_false(needs("a=des:sec mandatory local sendrecv" CRLF, 4000));
    assert_false(needs("a=des:qos mandatory sideways sendrecv" CRLF, 4000));
    assert_false(needs("a=des:qos mandatory local" CRLF, 4000));
    assert_false(needs("a=des:qos" CRLF, 4000));
    assert_false(needs("a=conf:qos remote sendrecv" CRLF, 4000));
    parse_ok("v=0" CRLF "c=IN IP4 10.0.0.1" CRLF "m=audio 4000 RTP/AVP 0" CRLF
             "a=des:qos mandatory sideways sendrecv" CRLF, &s);
    assert_true(m->precondition);
}

static void test_robust(void **state)
{
    size_t len = strlen(g_offer_amrwb);
    char buf[2048];
    uint32_t seed = 12345;

    for (size_t n = 0; n <= len; n++)
        parse_copy(g_offer_amrwb, n);
    assert_true(len < sizeof(buf));
    for (int round = 0; round < 5000; round++) {
        memcpy(buf, g_offer_amrwb, len);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[(seed >> 8) % len] = (char)(seed >> 24);
        }
        parse_copy(buf, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_amrwb),
        cmocka_unit_test(test_rx_originating),
        cmocka_unit_test(test_rx_terminating),
        cmocka_unit_test(test_evs_ipv6),
        cmocka_unit_test(test_audio_video_rejected),
        cmocka_unit_test(test_hold),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_n5),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_robust),
        cmocka_unit_test(test_preconditions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
