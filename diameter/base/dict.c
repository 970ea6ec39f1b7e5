/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dictionary: AVP and command names, AVP types and M-bit rules, and the
 * one-line message dump for logs.
 *
 * Lookup is by (code, vendor) and O(1): the AVPs live in arrays indexed by
 * code (vendor 0 codes below 500; 3GPP codes 500..699) with designated
 * initialisers, so an entry cannot be misplaced and a duplicate is a compile
 * error (-Woverride-init). The few 3GPP AVPs outside that range are a short
 * list searched linearly.
 *
 * M-bit rules: MUSTNOT only where the RFC says so and the peers we meet
 * comply (Firmware-Revision, Error-Message, Error-Reporting-Host), because a
 * MUSTNOT turns an M bit into 3009 INVALID_AVP_BITS. Product-Name is MUSTNOT
 * in RFC 6733 too, but older stacks set M on it in CER, so it is MAY. 3GPP
 * AVPs that 29.229/29.214 define without M (the later releases' additions)
 * are MAY for the same reason: never refuse what open5gs or Kamailio send.
 */
#include "diameter/base/dict.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/core/rc.h"

#define BASE_CODES 500u
#define TGPP_FIRST 500u
#define TGPP_CODES 200u

#define B(c, n, t, r) [(c)] = { (c), 0, (n), DIA_T_##t, DIA_M_##r }
#define G(c, n, t, r) [(c) - TGPP_FIRST] = { (c), DIA_VENDOR_3GPP, (n), DIA_T_##t, DIA_M_##r }
#define X(c, v, n, t, r) { (c), (v), (n), DIA_T_##t, DIA_M_##r }

/* Vendor 0: RFC 6733 base, RFC 4006 Subscription-Id, NASREQ, RFC 4740 Digest-*. */
static const dia_dict_avp_t g_base[BASE_CODES] = {
    B(1, "User-Name", UTF8, MUST),
    B(8, "Framed-IP-Address", OCTETS, MUST),
    B(25, "Class", OCTETS, MUST),
    B(27, "Session-Timeout", U32, MUST),
    B(30, "Called-Station-Id", UTF8, MUST),
    B(33, "Proxy-State", OCTETS, MUST),
    B(50, "Acct-Multi-Session-Id", UTF8, MUST),
    B(55, "Event-Timestamp", TIME, MUST),
    B(85, "Acct-Interim-Interval", U32, MUST),
    B(97, "Framed-IPv6-Prefix", OCTETS, MUST),
    B(104, "Digest-Realm", UTF8, MAY),
    B(110, "Digest-QoP", UTF8, MAY),
    B(111, "Digest-Algorithm", UTF8, MAY),
    B(121, "Digest-HA1", OCTETS, MAY),
    B(257, "Host-IP-Address", ADDRESS, MUST),
    B(258, "Auth-Application-Id", U32, MUST),
    B(259, "Acct-Application-Id", U32, MUST),
    B(260, "Vendor-Specific-Application-Id", GROUPED, MUST),
    B(261, "Redirect-Host-Usage", ENUM, MUST),
    B(262, "Redirect-Max-Cache-Time", U32, MUST),
    B(263, "Session-Id", UTF8, MUST),
    B(264, "Origin-Host", IDENTITY, MUST),
    B(265, "Supported-Vendor-Id", U32, MUST),
    B(266, "Vendor-Id", U32, MUST),
    B(267, "Firmware-Revision", U32, MUSTNOT),
    B(268, "Result-Code", U32, MUST),
    B(269, "Product-Name", UTF8, MAY),
    B(270, "Session-Binding", U32, MUST),
    B(271, "Session-Server-Failover", ENUM, MUST),
    B(272, "Multi-Round-Time-Out", U32, MUST),
    B(273, "Disconnect-Cause", ENUM, MUST),
    B(274, "Auth-Request-Type", ENUM, MUST),
    B(276, "Auth-Grace-Period", U32, MUST),
    B(277, "Auth-Session-State", ENUM, MUST),
    B(278, "Origin-State-Id", U32, MUST),
    B(279, "Failed-AVP", GROUPED, MUST),
    B(280, "Proxy-Host", IDENTITY, MUST),
    B(281, "Error-Message", UTF8, MUSTNOT),
    B(282, "Route-Record", IDENTITY, MUST),
    B(283, "Destination-Realm", IDENTITY, MUST),
    B(284, "Proxy-Info", GROUPED, MUST),
    B(285, "Re-Auth-Request-Type", ENUM, MUST),
    B(287, "Accounting-Sub-Session-Id", U64, MUST),
    B(291, "Authorization-Lifetime", U32, MUST),
    B(292, "Redirect-Host", URI, MUST),
    B(293, "Destination-Host", IDENTITY, MUST),
    B(294, "Error-Reporting-Host", IDENTITY, MUSTNOT),
    B(295, "Termination-Cause", ENUM, MUST),
    B(296, "Origin-Realm", IDENTITY, MUST),
    B(297, "Experimental-Result", GROUPED, MUST),
    B(298, "Experimental-Result-Code", U32, MUST),
    B(299, "Inband-Security-Id", U32, MUST),
    B(443, "Subscription-Id", GROUPED, MUST),
    B(444, "Subscription-Id-Data", UTF8, MUST),
    B(450, "Subscription-Id-Type", ENUM, MUST),
    B(480, "Accounting-Record-Type", ENUM, MUST),
    B(483, "Accounting-Realtime-Required", ENUM, MUST),
    B(485, "Accounting-Record-Number", U32, MUST),
};

/* Vendor 10415, codes 500..699: Rx (TS 29.214) and Cx (TS 29.229). */
static const dia_dict_avp_t g_3gpp[TGPP_CODES] = {
    G(500, "Abort-Cause", ENUM, MUST),
    G(501, "Access-Network-Charging-Address", ADDRESS, MUST),
    G(502, "Access-Network-Charging-Identifier", GROUPED, MUST),
    G(503, "Access-Network-Charging-Identifier-Value", OCTETS, MUST),
    G(504, "AF-Application-Identifier", OCTETS, MUST),
    G(505, "AF-Charging-Identifier", OCTETS, MUST),
    G(506, "Authorization-Token", OCTETS, MUST),
    G(507, "Flow-Description", IPFILTER, MUST),
    G(508, "Flow-Grouping", GROUPED, MUST),
    G(509, "Flow-Number", U32, MUST),
    G(510, "Flows", GROUPED, MUST),
    G(511, "Flow-Status", ENUM, MUST),
    G(512, "Flow-Usage", ENUM, MUST),
    G(513, "Specific-Action", ENUM, MUST),
    G(515, "Max-Requested-Bandwidth-DL", U32, MUST),
    G(516, "Max-Requested-Bandwidth-UL", U32, MUST),
    G(517, "Media-Component-Description", GROUPED, MUST),
    G(518, "Media-Component-Number", U32, MUST),
    G(519, "Media-Sub-Component", GROUPED, MUST),
    G(520, "Media-Type", ENUM, MUST),
    G(521, "RR-Bandwidth", U32, MUST),
    G(522, "RS-Bandwidth", U32, MUST),
    G(523, "SIP-Forking-Indication", ENUM, MUST),
    G(524, "Codec-Data", OCTETS, MUST),
    G(525, "Service-URN", OCTETS, MUST),
    G(526, "Acceptable-Service-Info", GROUPED, MUST),
    G(527, "Service-Info-Status", ENUM, MUST),
    G(528, "MPS-Identifier", OCTETS, MAY),
    G(529, "AF-Signalling-Protocol", ENUM, MAY),
    G(530, "Sponsored-Connectivity-Data", GROUPED, MAY),
    G(531, "Sponsor-Identity", UTF8, MAY),
    G(532, "Application-Service-Provider-Identity", UTF8, MAY),
    G(533, "Rx-Request-Type", ENUM, MAY),
    G(534, "Min-Requested-Bandwidth-DL", U32, MAY),
    G(535, "Min-Requested-Bandwidth-UL", U32, MAY),
    G(536, "Required-Access-Info", ENUM, MAY),
    G(537, "IP-Domain-Id", OCTETS, MAY),
    G(600, "Visited-Network-Identifier", OCTETS, MUST),
    G(601, "Public-Identity", UTF8, MUST),
    G(602, "Server-Name", UTF8, MUST),
    G(603, "Server-Capabilities", GROUPED, MUST),
    G(604, "Mandatory-Capability", U32, MUST),
    G(605, "Optional-Capability", U32, MUST),
    G(606, "User-Data", OCTETS, MUST),
    G(607, "SIP-Number-Auth-Items", U32, MUST),
    G(608, "SIP-Authentication-Scheme", UTF8, MUST),
    G(609, "SIP-Authenticate", OCTETS, MUST),
    G(610, "SIP-Authorization", OCTETS, MUST),
    G(611, "SIP-Authentication-Context", OCTETS, MUST),
    G(612, "SIP-Auth-Data-Item", GROUPED, MUST),
    G(613, "SIP-Item-Number", U32, MUST),
    G(614, "Server-Assignment-Type", ENUM, MUST),
    G(615, "Deregistration-Reason", GROUPED, MUST),
    G(616, "Reason-Code", ENUM, MUST),
    G(617, "Reason-Info", UTF8, MUST),
    G(618, "Charging-Information", GROUPED, MUST),
    G(619, "Primary-Event-Charging-Function-Name", URI, MUST),
    G(620, "Secondary-Event-Charging-Function-Name", URI, MUST),
    G(621, "Primary-Charging-Collection-Function-Name", URI, MUST),
    G(622, "Secondary-Charging-Collection-Function-Name", URI, MUST),
    G(623, "User-Authorization-Type", ENUM, MUST),
    G(624, "User-Data-Already-Available", ENUM, MUST),
    G(625, "Confidentiality-Key", OCTETS, MUST),
    G(626, "Integrity-Key", OCTETS, MUST),
    G(627, "User-Data-Request-Type", ENUM, MAY),
    G(628, "Supported-Features", GROUPED, MAY),
    G(629, "Feature-List-ID", U32, MAY),
    G(630, "Feature-List", U32, MAY),
    G(631, "Supported-Applications", GROUPED, MAY),
    G(632, "Associated-Identities", GROUPED, MAY),
    G(633, "Originating-Request", ENUM, MUST),
    G(634, "Wildcarded-PSI", UTF8, MAY),
    G(635, "SIP-Digest-Authenticate", GROUPED, MAY),
    G(636, "Wildcarded-Public-Identity", UTF8, MAY),
    G(637, "UAR-Flags", U32, MAY),
    G(638, "Loose-Route-Indication", ENUM, MAY),
    G(639, "SCSCF-Restoration-Info", GROUPED, MAY),
    G(640, "Path", OCTETS, MAY),
    G(641, "Contact", OCTETS, MAY),
    G(642, "Subscription-Info", GROUPED, MAY),
    G(643, "Call-ID-SIP-Header", OCTETS, MAY),
    G(644, "From-SIP-Header", OCTETS, MAY),
    G(645, "To-SIP-Header", OCTETS, MAY),
    G(646, "Record-Route", OCTETS, MAY),
    G(647, "Associated-Registered-Identities", GROUPED, MAY),
    G(648, "Multiple-Registration-Indication", ENUM, MAY),
    G(649, "Restoration-Info", GROUPED, MAY),
    G(650, "Session-Priority", ENUM, MAY),
    G(651, "Identity-with-Emergency-Registration", GROUPED, MAY),
    G(652, "Priviledged-Sender-Indication", ENUM, MAY),
    G(653, "LIA-Flags", U32, MAY),
    G(654, "Initial-CSeq-Sequence-Number", U32, MAY),
    G(655, "SAR-Flags", U32, MAY),
};

/* 3GPP AVPs outside 500..699 that a PCRF puts in Rx answers and RARs (TS 29.061, 29.212). */
static const dia_dict_avp_t g_other[] = {
    X(18, DIA_VENDOR_3GPP, "3GPP-SGSN-MCC-MNC", UTF8, MAY),
    X(22, DIA_VENDOR_3GPP, "3GPP-User-Location-Info", OCTETS, MAY),
    X(23, DIA_VENDOR_3GPP, "3GPP-MS-TimeZone", OCTETS, MAY),
    X(1027, DIA_VENDOR_3GPP, "IP-CAN-Type", ENUM, MAY),
    X(1032, DIA_VENDOR_3GPP, "RAT-Type", ENUM, MAY),
    X(1050, DIA_VENDOR_3GPP, "AN-GW-Address", ADDRESS, MAY),
    X(1503, DIA_VENDOR_3GPP, "AN-Trusted", ENUM, MAY),
    X(2812, DIA_VENDOR_3GPP, "User-Location-Info-Time", TIME, MAY),
    X(2824, DIA_VENDOR_3GPP, "NetLoc-Access-Support", U32, MAY),
};

const dia_dict_avp_t *dia_dict_avp(uint32_t code, uint32_t vendor)
{
    const dia_dict_avp_t *d = NULL;

    if (vendor == 0 && code < BASE_CODES)
        d = &g_base[code];
    else if (vendor == DIA_VENDOR_3GPP && code - TGPP_FIRST < TGPP_CODES)
        d = &g_3gpp[code - TGPP_FIRST];
    if (d)
        return d->name ? d : NULL;
    for (size_t i = 0; i < IMS_ARRAY_LEN(g_other); i++) {
        if (g_other[i].code == code && g_other[i].vendor == vendor)
            return &g_other[i];
    }
    return NULL;
}

typedef struct dia_cmd_name {
    uint32_t code;
    const char *req, *ans;
} dia_cmd_name_t;

static const dia_cmd_name_t g_cmds[] = {
    { DIA_CMD_CER, "CER", "CEA" }, { DIA_CMD_DWR, "DWR", "DWA" }, { DIA_CMD_DPR, "DPR", "DPA" },
    { DIA_CMD_RAR, "RAR", "RAA" }, { DIA_CMD_STR, "STR", "STA" }, { DIA_CMD_ASR, "ASR", "ASA" },
    { DIA_CMD_AAR, "AAR", "AAA" }, { DIA_CMD_UAR, "UAR", "UAA" }, { DIA_CMD_SAR, "SAR", "SAA" },
    { DIA_CMD_LIR, "LIR", "LIA" }, { DIA_CMD_MAR, "MAR", "MAA" }, { DIA_CMD_RTR, "RTR", "RTA" },
    { DIA_CMD_PPR, "PPR", "PPA" },
};

const char *dia_dict_cmd_name(uint32_t code, bool request)
{
    for (size_t i = 0; i < IMS_ARRAY_LEN(g_cmds); i++) {
        if (g_cmds[i].code == code)
            return request ? g_cmds[i].req : g_cmds[i].ans;
    }
    return NULL;
}

/* ------------------------------------------------------------------- dump */

#define DUMP_STR_MAX 80u     /* characters of a string value shown */
#define DUMP_HEX_MAX 16u     /* octets of a binary value shown */

typedef struct dump_out {
    char *buf;
    size_t cap, len;
    bool full;
} dump_out_t;

static void out_fmt(dump_out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_fmt(dump_out_t *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->full)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->len = o->cap - 1;
        o->full = true;
        return;
    }
    o->len += (size_t)n;
}

/* Keys and expected responses stay out of logs; their size is enough. */
static bool avp_is_secret(const dia_avp_t *a)
{
    if (a->vendor == DIA_VENDOR_3GPP)
        return a->code == 610 || a->code == 625 || a->code == 626;
    return a->vendor == 0 && a->code == 121;
}

static void dump_hex(dump_out_t *o, const dia_avp_t *a)
{
    uint32_t n = a->len < DUMP_HEX_MAX ? a->len : DUMP_HEX_MAX;

    out_fmt(o, "0x");
    for (uint32_t i = 0; i < n; i++)
        out_fmt(o, "%02x", a->data[i]);
    if (n < a->len)
        out_fmt(o, "..(%" PRIu32 " bytes)", a->len);
}

static void dump_str(dump_out_t *o, const dia_avp_t *a)
{
    uint32_t n = a->len < DUMP_STR_MAX ? a->len : DUMP_STR_MAX;

    out_fmt(o, "\"");
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = a->data[i];

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out_fmt(o, "%c", c);
        else
            out_fmt(o, "\\x%02x", c);
    }
    if (n < a->len)
        out_fmt(o, "\"..(%" PRIu32 " bytes)", a->len);
    else
        out_fmt(o, "\"");
}

static bool all_printable(const dia_avp_t *a)
{
    for (uint32_t i = 0; i < a->len; i++) {
        if ((a->data[i] < 0x20 && a->data[i] != '\n' && a->data[i] != '\r' &&
             a->data[i] != '\t') || a->data[i] >= 0x7f)
            return false;
    }
    return a->len > 0;
}

static void dump_address(dump_out_t *o, const dia_avp_t *a)
{
    struct sockaddr_storage ss;
    char txt[INET6_ADDRSTRLEN];
    const void *addr;

    if (dia_avp_address(a, &ss) != IMS_OK) {
        dump_hex(o, a);
        return;
    }
    if (ss.ss_family == AF_INET)
        addr = &((const struct sockaddr_in *)&ss)->sin_addr;
    else
        addr = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
    if (inet_ntop(ss.ss_family, addr, txt, sizeof(txt)))
        out_fmt(o, "%s", txt);
}

/* A number of the type's size, or false (then shown as hex). */
static bool dump_number(dump_out_t *o, dia_type_t t, const dia_avp_t *a)
{
    uint64_t u64;
    uint32_t u32;
    float f;
    double d;

    if ((t == DIA_T_I64 || t == DIA_T_U64 || t == DIA_T_F64) && dia_avp_u64(a, &u64) == IMS_OK) {
        if (t == DIA_T_F64) {
            memcpy(&d, &u64, sizeof(d));
            out_fmt(o, "%g", d);
        } else if (t == DIA_T_I64) {
            out_fmt(o, "%" PRId64, (int64_t)u64);
        } else {
            out_fmt(o, "%" PRIu64, u64);
        }
        return true;
    }
    if (dia_avp_u32(a, &u32) != IMS_OK)
        return false;
    if (t == DIA_T_F32) {
        memcpy(&f, &u32, sizeof(f));
        out_fmt(o, "%g", (double)f);
    } else if (t == DIA_T_I32 || t == DIA_T_ENUM) {
        out_fmt(o, "%" PRId32, (int32_t)u32);
    } else {
        out_fmt(o, "%" PRIu32, u32);
    }
    return true;
}

static void dump_avps(dump_out_t *o, dia_iter_t *it, int depth);

static void dump_value(dump_out_t *o, const dia_dict_avp_t *d, const dia_avp_t *a, int depth)
{
    dia_iter_t it;

    if (avp_is_secret(a)) {
        out_fmt(o, "<%" PRIu32 " bytes>", a->len);
        return;
    }
    switch (d ? d->type : DIA_T_OCTETS) {
    case DIA_T_GROUPED:
        out_fmt(o, "{");
        if (depth < DIA_MAX_DEPTH) {
            dia_iter_group(a, &it);
            dump_avps(o, &it, depth + 1);
        } else {
            out_fmt(o, "...");
        }
        out_fmt(o, "}");
        return;
    case DIA_T_UTF8: case DIA_T_IDENTITY: case DIA_T_URI: case DIA_T_IPFILTER:
        dump_str(o, a);
        return;
    case DIA_T_ADDRESS:
        dump_address(o, a);
        return;
    case DIA_T_OCTETS:
        if (all_printable(a))
            dump_str(o, a);
        else
            dump_hex(o, a);
        return;
    default:
        if (!dump_number(o, d->type, a))
            dump_hex(o, a);
        return;
    }
}

static void dump_avps(dump_out_t *o, dia_iter_t *it, int depth)
{
    dia_avp_t a;
    bool first = true;

    while (!o->full && dia_iter_next(it, &a)) {
        const dia_dict_avp_t *d = dia_dict_avp(a.code, a.vendor);

        if (!first)
            out_fmt(o, " ");
        first = false;
        if (d)
            out_fmt(o, "%s=", d->name);
        else if (a.vendor)
            out_fmt(o, "AVP%" PRIu32 "/%" PRIu32 "=", a.code, a.vendor);
        else
            out_fmt(o, "AVP%" PRIu32 "=", a.code);
        dump_value(o, d, &a, depth);
    }
}

void dia_msg_dump(const dia_msg_t *m, char *buf, size_t buflen)
{
    dump_out_t o = { buf, buflen, 0, false };
    const char *name;
    dia_iter_t it;

    if (!buf || buflen == 0)
        return;
    buf[0] = '\0';
    if (!m) {
        out_fmt(&o, "(no message)");
        return;
    }
    name = dia_dict_cmd_name(m->code, dia_msg_is_request(m));
    if (name)
        out_fmt(&o, "%s", name);
    else
        out_fmt(&o, "cmd%" PRIu32 "%s", m->code, dia_msg_is_request(m) ? "-R" : "-A");
    out_fmt(&o, "%s hbh=0x%08" PRIx32 " e2e=0x%08" PRIx32, (m->flags & DIA_FLAG_E) ? "(E)" : "",
            m->hbh, m->e2e);
    if (m->app_id)
        out_fmt(&o, " app=%" PRIu32, m->app_id);
    dia_iter_msg(m, &it);
    if (it.p < it.end)
        out_fmt(&o, " ");
    dump_avps(&o, &it, 0);
    /* Show that the line was cut. */
    if (o.full && buflen >= 4)
        memcpy(buf + buflen - 4, "...", 4);
}
