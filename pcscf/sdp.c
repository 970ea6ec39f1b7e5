/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SDP for policy (pcscf/sdp.h): a bounded line scanner, then the offer/answer
 * pair turned into Rx Media-Component-Descriptions and N5 medComponents.
 *
 * Why the rules look as they do (TS 29.214 §5.3.8, Annex B): a Flow-Description
 * names one direction of one port pair. The UE receives where its own SDP
 * says and, RTP being symmetric in practice, sends from there too; the remote
 * end likewise with its SDP. So uplink is "from <UE> to <remote>" and downlink
 * "from <remote> to <UE>", both with direction "out" since Rel-8 (the
 * direction is given by source and destination). Bandwidth in an SDP is what
 * its author wants to receive (RFC 4566 §5.8), hence UL from the remote's SDP
 * and DL from the UE's. Codec-Data's first line says which way the SDP went:
 * "uplink" for the one the UE sent, "downlink" for the one it received.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/core/rc.h"
#include "pcscf/sdp.h"

/* A slice of the body: never NUL-terminated. */
typedef struct slice {
    const char *p;
    size_t n;
} slice_t;

typedef struct sdp_ctx {
    pcscf_sdp_t *out;
    pcscf_sdp_media_t *cur;         /* NULL at session level */
    /* session-level values, the default for every m= section */
    char addr[PCSCF_SDP_ADDR];
    int family;
    bool hold, has_dir, has_as;
    pcscf_sdp_dir_t dir;
    uint32_t as_kbps;
    /* what the current m= section set itself */
    bool m_has_c, m_has_dir, m_has_as, m_has_rtcp;
    const char *why;
} sdp_ctx_t;

/* ---- slices ---- */

static bool slice_eq(slice_t s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool slice_ieq(slice_t s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/* The next space-separated token of *s (consumed); false at the end. */
static bool slice_token(slice_t *s, slice_t *tok)
{
    while (s->n && (*s->p == ' ' || *s->p == '\t')) {
        s->p++;
        s->n--;
    }
    tok->p = s->p;
    while (s->n && *s->p != ' ' && *s->p != '\t') {
        s->p++;
        s->n--;
    }
    tok->n = (size_t)(s->p - tok->p);
    return tok->n > 0;
}

/* Split s at the first c: *head before it, *s after it; false (s unchanged) without c. */
static bool slice_split(slice_t *s, char c, slice_t *head)
{
    const char *at = memchr(s->p, c, s->n);

    if (!at)
        return false;
    head->p = s->p;
    head->n = (size_t)(at - s->p);
    s->n -= head->n + 1;
    s->p = at + 1;
    return true;
}

/* Decimal digits only, at most max. */
static bool slice_u32(slice_t s, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;

    if (s.n == 0 || s.n > 10)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool slice_copy(slice_t s, char *dst, size_t cap)
{
    if (s.n >= cap)
        return false;
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
    return true;
}

static bool refuse(sdp_ctx_t *c, const char *why)
{
    c->why = why;
    return false;
}

/* ---- line kinds ---- */

/* "IN IP4 <addr>[/ttl[/n]]" or "IN IP6 <addr>[/n]", into addr/family/hold. */
static bool parse_conn(sdp_ctx_t *c, slice_t v, char *addr, int *family, bool *hold)
{
    slice_t net, type, a, head;
    unsigned char bin[sizeof(struct in6_addr)];
    static const unsigned char zero[sizeof(struct in6_addr)];

    if (!slice_token(&v, &net) || !slice_token(&v, &type) || !slice_token(&v, &a) ||
        !slice_ieq(net, "IN"))
        return refuse(c, "c=: not IN IP4|IP6 <address>");
    if (slice_split(&a, '/', &head))
        a = head;
    if (slice_eq(type, "IP4"))
        *family = AF_INET;
    else if (slice_eq(type, "IP6"))
        *family = AF_INET6;
    else
        return refuse(c, "c=: address type not IP4 or IP6");
    if (!slice_copy(a, addr, PCSCF_SDP_ADDR) || inet_pton(*family, addr, bin) != 1)
        return refuse(c, "c=: not an IP address literal");
    *hold = memcmp(bin, zero, *family == AF_INET ? 4 : 16) == 0;
    if (*hold) {
        addr[0] = '\0';
        *family = 0;
    }
    return true;
}

/* "<bwtype>:<value>"; unknown types are skipped (RFC 4566 §5.8). */
static bool parse_bw(sdp_ctx_t *c, slice_t v)
{
    pcscf_sdp_media_t *m = c->cur;
    slice_t type;
    uint32_t val;

    if (!slice_split(&v, ':', &type) || !slice_u32(v, UINT32_MAX, &val))
        return refuse(c, "b=: not <type>:<number>");
    if (slice_eq(type, "AS")) {
        if (val > UINT32_MAX / 1000)
            return refuse(c, "b=AS: too large");
        if (m) {
            m->has_as = c->m_has_as = true;
            m->as_kbps = val;
        } else {
            c->has_as = true;
            c->as_kbps = val;
        }
    } else if (m && slice_eq(type, "TIAS")) {
        m->has_tias = true;
        m->tias_bps = val;
    } else if (m && slice_eq(type, "RR")) {
        m->has_rr = true;
        m->rr_bps = val;
    } else if (m && slice_eq(type, "RS")) {
        m->has_rs = true;
        m->rs_bps = val;
    }
    return true;
}

static const char *static_pt_name(uint8_t pt, uint32_t *clock)
{
    *clock = 8000;
    switch (pt) {
    case 0: return "PCMU";
    case 3: return "GSM";
    case 8: return "PCMA";
    case 9: return "G722";
    case 18: return "G729";
    default: *clock = 0; return "";
    }
}

/* "<media> <port>[/<n>] <proto> <fmt> ..." opens a new section. */
static bool parse_m(sdp_ctx_t *c, slice_t v)
{
    pcscf_sdp_media_t *m;
    slice_t media, port, proto, fmt, head;
    uint32_t u;
    bool rtp;

    if (c->out->nmedia >= PCSCF_SDP_MAX_MEDIA)
        return refuse(c, "too many m= lines");
    m = &c->out->media[c->out->nmedia++];
    c->cur = m;
    c->m_has_c = c->m_has_dir = c->m_has_as = c->m_has_rtcp = false;
    if (!slice_token(&v, &media) || !slice_token(&v, &port) || !slice_token(&v, &proto))
        return refuse(c, "m=: too few fields");
    if (slice_split(&port, '/', &head))
        port = head;
    if (!slice_u32(port, 65535, &u))
        return refuse(c, "m=: bad port");
    m->port = (uint16_t)u;
    if (!slice_copy(media, m->media, sizeof(m->media)) ||
        !slice_copy(proto, m->proto, sizeof(m->proto)))
        return refuse(c, "m=: media or proto too long");
    m->media_type = slice_eq(media, "audio") ? RX_MEDIA_AUDIO :
                    slice_eq(media, "video") ? RX_MEDIA_VIDEO : RX_MEDIA_CONTROL;
    m->ip_proto = strncasecmp(m->proto, "TCP", 3) == 0 ? 6 : 17;
    rtp = strncasecmp(m->proto, "RTP/", 4) == 0 || strstr(m->proto, "/RTP/") != NULL;
    if (!slice_token(&v, &fmt))
        return refuse(c, "m=: no format");
    do {
        if (rtp && slice_u32(fmt, 127, &u) && m->ncodecs < PCSCF_SDP_MAX_CODECS) {
            pcscf_sdp_codec_t *k = &m->codecs[m->ncodecs++];

            k->pt = (uint8_t)u;
            snprintf(k->name, sizeof(k->name), "%s", static_pt_name(k->pt, &k->clock));
        }
    } while (slice_token(&v, &fmt));
    return true;
}

/* "<pt> <encoding>/<clock>[/<channels>]": fills the codec the m= line listed. */
static void parse_rtpmap(pcscf_sdp_media_t *m, slice_t v)
{
    slice_t pt, enc, name, rest;
    uint32_t u, clock = 0;

    if (!slice_token(&v, &pt) || !slice_u32(pt, 127, &u) || !slice_token(&v, &enc))
        return;
    rest = enc;
    if (!slice_split(&rest, '/', &name))
        return;
    if (slice_split(&rest, '/', &enc))
        rest = enc;
    if (!slice_u32(rest, UINT32_MAX, &clock))
        return;
    for (int i = 0; i < m->ncodecs; i++) {
        if (m->codecs[i].pt != u)
            continue;
        if (slice_copy(name, m->codecs[i].name, sizeof(m->codecs[i].name)))
            m->codecs[i].clock = clock;
        return;
    }
}

static bool set_dir(sdp_ctx_t *c, pcscf_sdp_dir_t d)
{
    if (c->cur) {
        c->cur->dir = d;
        c->m_has_dir = true;
    } else {
        c->dir = d;
        c->has_dir = true;
    }
    return true;
}

/* "send" / "recv" / "sendrecv" as bits 1 / 2 / 3; "none" 0; -1 otherwise. */
static int qos_dir(slice_t d)
{
    return slice_eq(d, "none") ? 0 : slice_eq(d, "send") ? 1 : slice_eq(d, "recv") ? 2 :
           slice_eq(d, "sendrecv") ? 3 : -1;
}

static int qos_type(slice_t t)
{
    return slice_eq(t, "e2e") ? 0 : slice_eq(t, "local") ? 1 : slice_eq(t, "remote") ? 2 : -1;
}

/* RFC 3312 §5: "curr:qos <status-type> <direction>" and "des:qos <strength>
 * <status-type> <direction>"; other precondition types and malformed lines are
 * only noted (the status is the UEs' business; ours is when to ask). */
static void parse_qos(pcscf_sdp_media_t *m, slice_t name, slice_t v)
{
    slice_t kind, strength = { "mandatory", 9 }, type, dir;
    int t, d;

    m->precondition = true;
    if (!slice_token(&v, &kind) || !slice_eq(kind, "qos") || slice_eq(name, "conf") ||
        (slice_eq(name, "des") && !slice_token(&v, &strength)) || !slice_token(&v, &type) ||
        !slice_token(&v, &dir) || (t = qos_type(type)) < 0 || (d = qos_dir(dir)) < 0)
        return;
    if (slice_eq(name, "curr"))
        m->qos_current[t] = (uint8_t)d;
    else if (slice_eq(strength, "mandatory"))
        m->qos_mandatory[t] |= (uint8_t)d;
}

static bool parse_a(sdp_ctx_t *c, slice_t v)
{
    pcscf_sdp_media_t *m = c->cur;
    slice_t name = v, port;
    uint32_t u;

    if (!slice_split(&v, ':', &name))
        v.n = 0;
    if (slice_eq(name, "sendrecv"))
        return set_dir(c, PCSCF_SDP_SENDRECV);
    if (slice_eq(name, "sendonly"))
        return set_dir(c, PCSCF_SDP_SENDONLY);
    if (slice_eq(name, "recvonly"))
        return set_dir(c, PCSCF_SDP_RECVONLY);
    if (slice_eq(name, "inactive"))
        return set_dir(c, PCSCF_SDP_INACTIVE);
    if (!m)
        return true;
    if (slice_eq(name, "rtpmap")) {
        parse_rtpmap(m, v);
    } else if (slice_eq(name, "rtcp")) {
        /* RFC 3605: "<port> [IN IP4|IP6 <addr>]"; the address is rarely other than c=. */
        if (!slice_token(&v, &port) || !slice_u32(port, 65535, &u) || u == 0)
            return refuse(c, "a=rtcp: bad port");
        m->rtcp_port = (uint16_t)u;
        c->m_has_rtcp = true;
    } else if (slice_eq(name, "rtcp-mux")) {
        m->rtcp_mux = true;
    } else if (slice_eq(name, "curr") || slice_eq(name, "des") || slice_eq(name, "conf")) {
        parse_qos(m, name, v);
    }
    return true;
}

/* Keep the m= and a= lines of a section for Codec-Data, whole printable lines only. */
static void keep_line(pcscf_sdp_media_t *m, slice_t line)
{
    size_t used = strlen(m->lines);

    for (size_t i = 0; i < line.n; i++) {
        if ((unsigned char)line.p[i] < 0x20 || (unsigned char)line.p[i] > 0x7e) {
            m->lines_truncated = true;   /* Codec-Data and N5 JSON want plain text */
            return;
        }
    }
    if (used + line.n + 2 > sizeof(m->lines)) {
        m->lines_truncated = true;
        return;
    }
    memcpy(m->lines + used, line.p, line.n);
    m->lines[used + line.n] = '\n';
    m->lines[used + line.n + 1] = '\0';
}

/* Close the current m= section: session defaults, then the checks that need both. */
static bool finish_media(sdp_ctx_t *c)
{
    pcscf_sdp_media_t *m = c->cur;

    if (!m)
        return true;
    if (!c->m_has_c) {
        memcpy(m->addr, c->addr, sizeof(m->addr));
        m->family = c->family;
        m->hold = c->hold;
    }
    if (!c->m_has_dir)
        m->dir = c->has_dir ? c->dir : PCSCF_SDP_SENDRECV;
    if (!c->m_has_as && c->has_as) {
        m->has_as = true;
        m->as_kbps = c->as_kbps;
    }
    if (m->port == 0) {
        m->rtcp_port = 0;
        return true;
    }
    if (!m->family && !m->hold)
        return refuse(c, "m=: enabled stream without a connection address");
    if (!c->m_has_rtcp)
        m->rtcp_port = m->port < 65535 ? (uint16_t)(m->port + 1) : 0;
    return true;
}

static bool parse_line(sdp_ctx_t *c, slice_t line)
{
    slice_t v = { line.p + 2, line.n - 2 };

    switch (line.p[0]) {
    case 'v':
        return refuse(c, "v= after the first line");
    case 'm':
        if (!finish_media(c) || !parse_m(c, v))
            return false;
        keep_line(c->cur, line);
        return true;
    case 'c':
        if (!c->cur)
            return parse_conn(c, v, c->addr, &c->family, &c->hold);
        c->m_has_c = true;
        return parse_conn(c, v, c->cur->addr, &c->cur->family, &c->cur->hold);
    case 'b':
        return parse_bw(c, v);
    case 'a':
        if (c->cur)
            keep_line(c->cur, line);
        return parse_a(c, v);
    default:
        return true;
    }
}

int pcscf_sdp_parse(const char *body, size_t len, pcscf_sdp_t *out, const char **why)
{
    static sdp_ctx_t zero_ctx;
    sdp_ctx_t c = zero_ctx;
    const char *p = body, *end = body ? body + len : body;   /* no NULL + 0 */
    bool first = true, ok = true;

    memset(out, 0, sizeof(*out));
    c.out = out;
    if (!body || len == 0 || len > PCSCF_SDP_MAX_BODY)
        ok = refuse(&c, len ? "body too large" : "empty body");
    while (ok && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
        slice_t line = { p, (size_t)(e - p) };

        p = nl ? nl + 1 : end;
        if (line.n && line.p[line.n - 1] == '\r')
            line.n--;
        if (line.n == 0)
            continue;   /* a stray empty line (trailing CRLF) harms nobody */
        if (memchr(line.p, '\0', line.n))
            ok = refuse(&c, "NUL byte in a line");
        else if (line.n < 2 || line.p[0] < 'a' || line.p[0] > 'z' || line.p[1] != '=')
            ok = refuse(&c, "line is not <letter>=<value>");
        else if (first)
            ok = slice_eq(line, "v=0") || refuse(&c, "first line is not v=0");
        else
            ok = parse_line(&c, line);
        first = false;
    }
    if (ok && first)
        ok = refuse(&c, "no lines");
    if (ok)
        ok = finish_media(&c);
    if (why)
        *why = ok ? NULL : c.why;
    return ok ? IMS_OK : IMS_ERROR;
}

bool pcscf_sdp_needs_resources(const pcscf_sdp_t *sdp)
{
    for (int i = 0; i < sdp->nmedia; i++) {
        const pcscf_sdp_media_t *m = &sdp->media[i];

        for (int t = 0; m->port && t < 3; t++)
            if (m->qos_mandatory[t] & ~m->qos_current[t])
                return true;
    }
    return false;
}

/* ---- bandwidth ---- */

/* Per-codec defaults in kbit/s with RTP/UDP/IPv6 headers at 50 packets/s, for an
 * SDP without b=: AMR 12.2 (32 + 60 bytes), AMR-WB 23.85 and EVS 24.4 (61 + 60),
 * RFC 4733 events (4 + 60), G.711 and G.722 (160 + 60). */
static const struct { const char *name; uint32_t kbps; } codec_bw[] = {
    { "AMR", 38 }, { "AMR-WB", 49 }, { "EVS", 49 }, { "telephone-event", 26 },
    { "PCMU", 88 }, { "PCMA", 88 }, { "G722", 88 },
};

uint32_t pcscf_sdp_media_bw(const pcscf_sdp_media_t *m)
{
    uint32_t best = 0;

    if (m->has_as)
        return m->as_kbps * 1000;
    if (m->has_tias)
        return m->tias_bps;
    for (int i = 0; i < m->ncodecs; i++)
        for (size_t k = 0; k < IMS_ARRAY_LEN(codec_bw); k++)
            if (strcasecmp(m->codecs[i].name, codec_bw[k].name) == 0 &&
                codec_bw[k].kbps * 1000 > best)
                best = codec_bw[k].kbps * 1000;
    return best;
}

const char *pcscf_sdp_dir_name(pcscf_sdp_dir_t d)
{
    static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

    return (unsigned)d < IMS_ARRAY_LEN(names) ? names[d] : "?";
}

/* ---- offer/answer -> Rx ---- */

/* Whether the author of the SDP (m, NULL: unknown, so allowed) sends / receives. */
static bool sdp_sends(const pcscf_sdp_media_t *m)
{
    return !m || m->dir == PCSCF_SDP_SENDRECV || m->dir == PCSCF_SDP_SENDONLY;
}

static bool sdp_receives(const pcscf_sdp_media_t *m)
{
    return !m || (!m->hold && (m->dir == PCSCF_SDP_SENDRECV || m->dir == PCSCF_SDP_RECVONLY));
}

static uint32_t flow_status(const pcscf_sdp_media_t *ue, const pcscf_sdp_media_t *remote)
{
    bool up = sdp_sends(ue) && sdp_receives(remote);
    bool down = sdp_receives(ue) && sdp_sends(remote);

    if (up && down)
        return RX_FLOW_ENABLED;
    if (up)
        return RX_FLOW_ENABLED_UPLINK;
    return down ? RX_FLOW_ENABLED_DOWNLINK : RX_FLOW_DISABLED;
}

/* "<ip> <port>", "any <port>" (hold), or "any" (no SDP from that end yet). */
static void endpoint(char *buf, size_t cap, const pcscf_sdp_media_t *m, bool rtcp)
{
    unsigned port = m ? (rtcp ? m->rtcp_port : m->port) : 0;

    if (!m)
        snprintf(buf, cap, "any");
    else
        snprintf(buf, cap, "%s %u", m->addr[0] ? m->addr : "any", port);
}

static void put_rules(rx_media_sub_t *s, const pcscf_sdp_media_t *ue,
                      const pcscf_sdp_media_t *remote, uint8_t proto, bool rtcp,
                      const pcscf_sdp_flow_opts_t *opts)
{
    char u[PCSCF_SDP_ADDR + 32], r[PCSCF_SDP_ADDR + 32];

    endpoint(u, sizeof(u), ue, rtcp);
    endpoint(r, sizeof(r), remote, rtcp);
    snprintf(s->flow_desc[0], RX_STR, "permit %s %u from %s to %s",
             opts->uplink_in ? "in" : "out", proto, u, r);
    snprintf(s->flow_desc[1], RX_STR, "permit out %u from %s to %s", proto, r, u);
    s->nflow_desc = 2;
}

static void put_codec_data(rx_media_comp_t *c, const pcscf_sdp_media_t *m, bool from_ue,
                           bool is_offer)
{
    if (!m || !m->lines[0] || c->ncodec_data >= RX_MAX_CODEC_DATA)
        return;
    snprintf(c->codec_data[c->ncodec_data++], RX_CODEC_DATA, "%s\n%s\n%s",
             from_ue ? "uplink" : "downlink", is_offer ? "offer" : "answer", m->lines);
}

static void build_comp(const pcscf_sdp_media_t *off, const pcscf_sdp_media_t *ans,
                       const pcscf_sdp_flow_opts_t *opts, uint32_t number, rx_media_comp_t *c)
{
    const pcscf_sdp_media_t *ue = opts->ue_offered ? off : ans;
    const pcscf_sdp_media_t *remote = opts->ue_offered ? ans : off;
    uint32_t ul = remote ? pcscf_sdp_media_bw(remote) : 0, dl = ue ? pcscf_sdp_media_bw(ue) : 0;
    const pcscf_sdp_media_t *bw_src = ans && (ans->has_rr || ans->has_rs) ? ans : off;
    bool mux = ans && off->rtcp_mux && ans->rtcp_mux;

    memset(c, 0, sizeof(*c));
    c->number = number;
    c->has_media_type = true;
    c->media_type = off->media_type;
    c->has_flow_status = true;
    if (off->port == 0 || (ans && ans->port == 0)) {
        c->flow_status = RX_FLOW_REMOVED;
        return;
    }
    c->flow_status = flow_status(ue, remote);
    c->has_max_bw_ul = ul != 0;
    c->max_bw_ul = ul;
    c->has_max_bw_dl = dl != 0;
    c->max_bw_dl = dl;
    c->has_rr_bw = bw_src->has_rr;
    c->rr_bw = bw_src->rr_bps;
    c->has_rs_bw = bw_src->has_rs;
    c->rs_bw = bw_src->rs_bps;
    put_codec_data(c, off, opts->ue_offered, true);
    put_codec_data(c, ans, !opts->ue_offered, false);
    c->subs[0].flow_number = 1;
    put_rules(&c->subs[0], ue, remote, off->ip_proto, false, opts);
    c->nsubs = 1;
    if (mux || off->ip_proto != 17)
        return;   /* RTCP shares the RTP port (RFC 5761), or the media is not RTP over UDP */
    c->subs[1].flow_number = 2;
    c->subs[1].has_flow_usage = true;
    c->subs[1].flow_usage = RX_USAGE_RTCP;
    put_rules(&c->subs[1], ue, remote, off->ip_proto, true, opts);
    c->nsubs = 2;
}

int pcscf_sdp_to_rx(const pcscf_sdp_t *offer, const pcscf_sdp_t *answer,
                    const pcscf_sdp_flow_opts_t *opts, rx_media_comp_t *out, int max)
{
    if (!offer || !opts || !out || offer->nmedia > max ||
        (answer && answer->nmedia != offer->nmedia))
        return IMS_ERROR;
    for (int i = 0; i < offer->nmedia; i++)
        build_comp(&offer->media[i], answer ? &answer->media[i] : NULL, opts,
                   (uint32_t)i + 1, &out[i]);
    return offer->nmedia;
}

int pcscf_sdp_signalling_comp(const char *ue_ip, uint16_t ue_port, const char *pcscf_ip,
                              uint16_t pcscf_port, uint8_t proto, rx_media_comp_t *out)
{
    pcscf_sdp_media_t ue = { .port = ue_port }, pcscf = { .port = pcscf_port };
    pcscf_sdp_flow_opts_t opts = { .ue_offered = true };
    rx_media_sub_t *s = &out->subs[0];

    memset(out, 0, sizeof(*out));
    if (!ue_ip || !pcscf_ip || !ue_ip[0] || !pcscf_ip[0] || !ue_port || !pcscf_port ||
        strlen(ue_ip) >= sizeof(ue.addr) || strlen(pcscf_ip) >= sizeof(pcscf.addr))
        return IMS_ERROR;
    memcpy(ue.addr, ue_ip, strlen(ue_ip) + 1);
    memcpy(pcscf.addr, pcscf_ip, strlen(pcscf_ip) + 1);
    out->number = 0;
    out->nsubs = 1;
    s->flow_number = 1;
    s->has_flow_usage = true;
    s->flow_usage = RX_USAGE_AF_SIGNALLING;
    s->has_af_signalling_protocol = true;
    s->af_signalling_protocol = RX_SIGNALLING_SIP;
    put_rules(s, &ue, &pcscf, proto, false, &opts);
    return IMS_OK;
}

/* ---- Rx -> N5 (TS 29.514 MediaComponent) ---- */

static json_t *bitrate(uint32_t bps)
{
    char buf[32];

    if (bps % 1000 == 0)
        snprintf(buf, sizeof(buf), "%u Kbps", bps / 1000);
    else
        snprintf(buf, sizeof(buf), "%u bps", bps);
    return json_string(buf);
}

static const char *n5_med_type(uint32_t t)
{
    switch (t) {
    case RX_MEDIA_AUDIO: return "AUDIO";
    case RX_MEDIA_VIDEO: return "VIDEO";
    default: return "CONTROL";   /* the open5gs PCF knows AUDIO, VIDEO and CONTROL only */
    }
}

static const char *n5_flow_status(uint32_t s)
{
    static const char *const names[] = { "ENABLED-UPLINK", "ENABLED-DOWNLINK", "ENABLED",
                                         "DISABLED", "REMOVED" };

    return s < IMS_ARRAY_LEN(names) ? names[s] : "ENABLED";
}

static const char *n5_flow_usage(const rx_media_sub_t *s)
{
    if (!s->has_flow_usage)
        return "NO_INFO";
    return s->flow_usage == RX_USAGE_RTCP ? "RTCP" :
           s->flow_usage == RX_USAGE_AF_SIGNALLING ? "AF_SIGNALLING" : "NO_INFO";
}

static json_t *n5_sub(const rx_media_sub_t *s)
{
    json_t *descs = json_array();

    for (int i = 0; i < s->nflow_desc; i++)
        json_array_append_new(descs, json_string(s->flow_desc[i]));
    return json_pack("{s:I, s:o, s:s}", "fNum", (json_int_t)s->flow_number, "fDescs", descs,
                     "flowUsage", n5_flow_usage(s));
}

static json_t *n5_comp(const rx_media_comp_t *c)
{
    json_t *o = json_pack("{s:I, s:s}", "medCompN", (json_int_t)c->number, "medType",
                          n5_med_type(c->media_type));
    char key[16];

    if (!o)
        return NULL;
    if (c->has_flow_status)
        json_object_set_new(o, "fStatus", json_string(n5_flow_status(c->flow_status)));
    if (c->has_max_bw_ul)
        json_object_set_new(o, "marBwUl", bitrate(c->max_bw_ul));
    if (c->has_max_bw_dl)
        json_object_set_new(o, "marBwDl", bitrate(c->max_bw_dl));
    if (c->has_rr_bw)
        json_object_set_new(o, "rrBw", bitrate(c->rr_bw));
    if (c->has_rs_bw)
        json_object_set_new(o, "rsBw", bitrate(c->rs_bw));
    if (c->ncodec_data) {
        json_t *codecs = json_array();

        for (int i = 0; i < c->ncodec_data; i++)
            json_array_append_new(codecs, json_string(c->codec_data[i]));
        json_object_set_new(o, "codecs", codecs);
    }
    if (c->nsubs) {
        json_t *subs = json_object();

        for (int i = 0; i < c->nsubs; i++) {
            snprintf(key, sizeof(key), "%u", c->subs[i].flow_number);
            json_object_set_new(subs, key, n5_sub(&c->subs[i]));
        }
        json_object_set_new(o, "medSubComps", subs);
    }
    return o;
}

json_t *pcscf_sdp_rx_to_n5(const rx_media_comp_t *comps, int n)
{
    json_t *map = json_object();
    char key[16];

    for (int i = 0; map && i < n; i++) {
        json_t *c = n5_comp(&comps[i]);

        snprintf(key, sizeof(key), "%u", comps[i].number);
        if (!c || json_object_set_new(map, key, c) != 0) {
            json_decref(map);
            return NULL;
        }
    }
    return map;
}
