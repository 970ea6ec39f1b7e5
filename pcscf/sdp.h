/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SDP (RFC 4566, offer/answer RFC 3264) as the P-CSCF needs it for policy:
 * what media each m= line carries, where each end receives RTP and RTCP, in
 * which direction media may flow, at what bandwidth, with which codecs. From
 * an offer and its answer, the Rx Media-Component-Descriptions (TS 29.214
 * §5.3, Annex B) and the same data as N5 medComponents (TS 29.514).
 *
 * The parser is a bounded line scanner over {ptr,len}: no NUL is assumed, no
 * line is trusted, everything it keeps is copied into fixed buffers, so a
 * parsed pcscf_sdp_t does not point into the body. Refused as malformed: a
 * body longer than PCSCF_SDP_MAX_BODY, a first line other than v=0, a line
 * that is not "<letter>=", an m= line with a bad port or no format, more than
 * PCSCF_SDP_MAX_MEDIA m= lines, a c= that is not "IN IP4|IP6 <address>"
 * (RFC 4566 §5.7; a TTL or count suffix is accepted), an enabled stream
 * (port != 0) with no connection address at either level, a bad rtcp port.
 * Unknown lines and attributes are skipped: SDP is extensible.
 *
 * Directions follow RFC 3264 §5.1 / §6.1: the attribute at media level, else
 * at session level, else sendrecv. The old hold form (c= 0.0.0.0, RFC 2543)
 * sets hold, and the address then counts as unknown.
 */
#ifndef PCSCF_SDP_H
#define PCSCF_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "diameter/rx/rx.h"

#define PCSCF_SDP_MAX_BODY 16384   /* larger bodies are refused */
#define PCSCF_SDP_MAX_MEDIA 8      /* m= lines */
#define PCSCF_SDP_MAX_CODECS 16    /* payload types kept per m= line (more: skipped) */
#define PCSCF_SDP_ADDR 48          /* an IPv6 literal with its NUL */
#define PCSCF_SDP_NAME 32          /* media, proto, encoding names */
#define PCSCF_SDP_LINES 896        /* m= and a= lines kept per m= line, for Codec-Data */

typedef enum pcscf_sdp_dir {
    PCSCF_SDP_SENDRECV, PCSCF_SDP_SENDONLY, PCSCF_SDP_RECVONLY, PCSCF_SDP_INACTIVE
} pcscf_sdp_dir_t;

typedef struct pcscf_sdp_codec {
    uint8_t pt;                         /* payload type from the m= line */
    char name[PCSCF_SDP_NAME];          /* a=rtpmap encoding name, or the static one; "" unknown */
    uint32_t clock;                     /* clock rate; 0 unknown */
} pcscf_sdp_codec_t;

typedef struct pcscf_sdp_media {
    char media[PCSCF_SDP_NAME];         /* "audio", "video", "text", ... as on the m= line */
    uint32_t media_type;                /* RX_MEDIA_AUDIO, _VIDEO, or _CONTROL for any other */
    char proto[PCSCF_SDP_NAME];         /* "RTP/AVP", "RTP/AVPF", "TCP/MSRP", ... */
    uint8_t ip_proto;                   /* 17 (UDP), or 6 for a TCP-based proto */
    uint16_t port;                      /* 0: stream rejected or removed */
    uint16_t rtcp_port;                 /* a=rtcp, else port + 1 (0 when port is 0) */
    bool rtcp_mux;                      /* a=rtcp-mux (RFC 5761) */
    char addr[PCSCF_SDP_ADDR];          /* effective c= (media, else session); "" unknown */
    int family;                         /* AF_INET / AF_INET6; 0 when addr is "" */
    bool hold;                          /* c= 0.0.0.0 (RFC 2543 hold) */
    pcscf_sdp_dir_t dir;                /* effective direction */
    bool has_as, has_tias, has_rr, has_rs;
    uint32_t as_kbps;                   /* b=AS (media, else session), kbit/s */
    uint32_t tias_bps;                  /* b=TIAS, bit/s */
    uint32_t rr_bps, rs_bps;            /* b=RR, b=RS (RFC 3556), bit/s */
    bool precondition;                  /* a=curr:qos / a=des:qos / a=conf:qos present */
    /* RFC 3312 §5 qos status, per status type ([0] e2e, [1] local, [2] remote) as
     * direction bits (1 send, 2 recv): what a=des:qos asks as mandatory, and what
     * a=curr:qos says is there. */
    uint8_t qos_mandatory[3], qos_current[3];
    pcscf_sdp_codec_t codecs[PCSCF_SDP_MAX_CODECS];
    int ncodecs;
    char lines[PCSCF_SDP_LINES];        /* the m= line and its a= lines, '\n' after each
                                         * (whole lines only; lines_truncated when some
                                         * did not fit) */
    bool lines_truncated;
} pcscf_sdp_media_t;

typedef struct pcscf_sdp {
    pcscf_sdp_media_t media[PCSCF_SDP_MAX_MEDIA];
    int nmedia;
} pcscf_sdp_t;

/*
 * Parse body (len bytes, no NUL needed) into *out (fully overwritten).
 * IMS_OK, or IMS_ERROR with *why (if not NULL) set to a static reason.
 */
int pcscf_sdp_parse(const char *body, size_t len, pcscf_sdp_t *out, const char **why);

/* Whether sdp (an offer) has preconditions that need resources before the
 * answer (RFC 3312; TS 24.229 §5.2.7.2): an enabled stream whose a=des:qos
 * mandatory directions a=curr:qos does not show met yet. */
bool pcscf_sdp_needs_resources(const pcscf_sdp_t *sdp);

/* The bandwidth the author of the SDP asks to receive on m, bit/s: b=AS,
 * else b=TIAS, else the largest per-codec default (AMR, AMR-WB, EVS,
 * telephone-event, G.711, G.722); 0 when none applies. */
uint32_t pcscf_sdp_media_bw(const pcscf_sdp_media_t *m);

/* Which side made which SDP, and how to write the rules. */
typedef struct pcscf_sdp_flow_opts {
    bool ue_offered;        /* the UE sent the offer (originating P-CSCF, or a UE re-INVITE) */
    bool uplink_in;         /* write uplink rules "permit in ..." (Kamailio, pre-Rel-8 PCRFs)
                             * instead of "permit out ..." with source = UE (29.214 §5.3.8) */
} pcscf_sdp_flow_opts_t;

/*
 * Media-Component-Descriptions for an offer and its answer (answer NULL: a
 * preliminary description from the offer alone, the other end "any"). One
 * component per m= line, numbered from 1; a rejected stream (port 0 on either
 * side) gives Flow-Status REMOVED and no sub-components. Each enabled stream
 * has sub-component 1 for RTP and, without rtcp-mux on both sides, 2 for RTCP
 * (Flow-Usage RTCP), each with Flow-Description [0] uplink (UE -> remote) and
 * [1] downlink (remote -> UE): "permit out <proto> from <ip> <port> to <ip>
 * <port>", "any" and no port for an unknown end. Max-Requested-Bandwidth-UL
 * is what the remote SDP asks to receive, -DL what the UE's asks for;
 * Flow-Status from both directions (RFC 3264 §6.1); Codec-Data "uplink" for
 * the UE's SDP, "downlink" for the remote's, "offer"/"answer" as they were.
 * Returns the number of components written (<= max), or IMS_ERROR when the
 * answer's m= lines do not match the offer's (RFC 3264 §6) or out is too small.
 */
int pcscf_sdp_to_rx(const pcscf_sdp_t *offer, const pcscf_sdp_t *answer,
                    const pcscf_sdp_flow_opts_t *opts, rx_media_comp_t *out, int max);

/*
 * The same components as an N5 medComponents map (TS 29.514 MediaComponent:
 * medCompN, medType, fStatus, marBwUl/marBwDl as BitRate strings, codecs,
 * medSubComps{fNum, fDescs, flowUsage}), keyed by the number as a string. A
 * new reference the caller owns, or NULL on allocation failure.
 */
json_t *pcscf_sdp_rx_to_n5(const rx_media_comp_t *comps, int n);

/*
 * The AF signalling flow of a registration (29.214 §4.4.5a; 24.229 §5.2.7):
 * Media-Component-Number 0, one sub-component with Flow-Usage AF_SIGNALLING,
 * AF-Signalling-Protocol SIP and the two rules between the UE's and the
 * P-CSCF's SIP ports (proto 17 UDP, 6 TCP). IMS_ERROR if an address is empty
 * or a port 0.
 */
int pcscf_sdp_signalling_comp(const char *ue_ip, uint16_t ue_port, const char *pcscf_ip,
                              uint16_t pcscf_port, uint8_t proto, rx_media_comp_t *out);

const char *pcscf_sdp_dir_name(pcscf_sdp_dir_t d);

#endif
