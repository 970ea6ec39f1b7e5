/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sip_msg_t: libosip2's osip_message_t plus where the message came from.
 *
 * Parsing is two steps: a bounded pre-check of the raw bytes that libosip2 does
 * not make (NUL bytes, oversized lines, duplicate or wrong Content-Length, a
 * request line with more than three parts, ...), then osip_message_parse, then
 * semantic checks (mandatory headers, CSeq, Max-Forwards). Whatever fails gets
 * a reason phrase so the transport can answer 400 where a response is possible.
 */
#ifndef SIP_MSG_H
#define SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <osipparser2/osip_parser.h>

typedef enum sip_proto { SIP_PROTO_UDP = 0, SIP_PROTO_TCP = 1, SIP_PROTO_TLS = 2 } sip_proto_t;

/* "udp", "tcp" or "tls" (as in a transport= URI parameter). */
static inline const char *sip_proto_lname(sip_proto_t p)
{
    return p == SIP_PROTO_TCP ? "tcp" : p == SIP_PROTO_TLS ? "tls" : "udp";
}

typedef struct sip_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} sip_addr_t;

/* Receive context: filled by the transport for every inbound message. */
typedef struct sip_rcv {
    sip_proto_t proto;
    sip_addr_t local;   /* our address the message arrived on */
    sip_addr_t remote;  /* the peer's source address */
    uint32_t conn_id;   /* stream connection id; 0 for UDP */
} sip_rcv_t;

typedef struct sip_msg {
    osip_message_t *m;  /* owned */
    sip_rcv_t rcv;      /* zeroed for locally built messages */
    /* A received response relayed with only its top Via gone is sent as the
     * text received, less that line (msg_relay.c): vias_popped counts
     * sip_msg_pop_via calls, edited says something else changed. */
    uint8_t vias_popped;
    bool edited;
} sip_msg_t;

/* Limits of what the parser accepts (RFC 3261 sets none; a carrier product must). */
#define SIP_MAX_LINE      8192   /* longest single header line, bytes */
#define SIP_MAX_HEADERS   256    /* header lines in one message */

/* Result of sip_msg_parse. */
typedef enum sip_parse_rc {
    SIP_PARSE_OK = 0,   /* *out is a valid message */
    SIP_PARSE_BAD = 1,  /* unusable, but enough was read to answer 400 *reason: see sip_msg_raw_400 */
    SIP_PARSE_DROP = 2  /* unusable, no response possible (or it is a response): drop */
} sip_parse_rc_t;

/* Call once per process before any parse (initialises libosip2's parser tables). */
void sip_msg_global_init(void);

/*
 * Parse buf[0..len) (need not be NUL-terminated). On SIP_PARSE_OK *out is a new
 * message owned by the caller, rcv copied into it. Otherwise *out is NULL and
 * *reason a static phrase ("Missing Via", "Bad CSeq", "Content-Length mismatch", ...).
 * max_size: messages longer than this are refused ("Message Too Large").
 */
sip_parse_rc_t sip_msg_parse(const char *buf, size_t len, const sip_rcv_t *rcv, size_t max_size,
                             sip_msg_t **out, const char **reason);

/*
 * Build a "400 <reason>" for a request that failed parsing, from the raw bytes:
 * copies Via, From, To, Call-ID and CSeq lines as they are. Returns a malloc'd
 * NUL-terminated buffer (caller frees) and its length, or NULL when the raw bytes
 * lack what a response needs (then the request is dropped). Never reads past len.
 */
char *sip_msg_raw_400(const char *buf, size_t len, const char *reason, size_t *outlen);

void sip_msg_free(sip_msg_t *msg);

/* Serialise: malloc'd NUL-terminated text (free with osip_free), IMS_OK / IMS_ERROR.
 * Reflects changes made directly on osip lists too (forces libosip2's rebuild),
 * except on a received response whose top Via went with sip_msg_pop_via: the
 * received text is reused for it unless sip_msg_mark_edited was called. */
int sip_msg_to_str(const sip_msg_t *msg, char **buf, size_t *len);
/* osip_message_to_str, into a buffer of the text's size (osip_free it). */
/* Print m as libosip2's osip_message_to_str would, byte for byte, mostly
 * without sprintf (msg_print.c); *buf is osip_malloc'd, NUL-terminated. */
int sip_msg_print(const osip_message_t *m, char **buf, size_t *len);
/*
 * What a proxy changes in a request it forwards, printed over the received
 * request instead of on a copy of it (a copy is three times the print's
 * cost): header lines of our own above its Vias and above its
 * Record-Routes, another Request-URI, another Max-Forwards value.
 */
typedef struct sip_print_over {
    const char *via;             /* "Via: ...\r\n" lines, printed first */
    size_t via_len;
    const char *rr;              /* "Record-Route: ...\r\n" lines above the message's */
    size_t rr_len;
    const osip_uri_t *req_uri;   /* instead of the message's, or NULL */
    const osip_header_t *mf;     /* the message's Max-Forwards header ... */
    const char *mf_value;        /* ... printed with this value (or NULL) */
} sip_print_over_t;
/* The request m as sip_msg_print would print it after o's changes were made
 * on it. IMS_DECLINED when that would take libosip2's own printer, or when
 * mf_value is given without mf (nothing printed: change a copy instead). */
int sip_msg_print_over(const osip_message_t *m, const sip_print_over_t *o, char **buf,
                       size_t *len);
/* One name-addr (From, To, Route, Record-Route, Contact) or URI as
 * osip_from_to_str / osip_uri_to_str print it, without their sprintf. */
int sip_name_addr_to_str(const osip_from_t *f, char **out);
int sip_uri_to_str(const osip_uri_t *u, char **out);
int sip_osip_to_str(osip_message_t *m, char **buf, size_t *len);

/* Remove the top Via (a proxy relaying a response, §16.7 item 3). */
void sip_msg_pop_via(sip_msg_t *msg);
/* Whoever changes a parsed message through msg->m directly (not with the
 * sip_msg_* setters, which do it themselves) calls this, so sip_msg_to_str
 * prints the message rather than relaying the text received. */
void sip_msg_mark_edited(sip_msg_t *msg);

/* Deep copy (rcv copied too). NULL on failure. */
sip_msg_t *sip_msg_clone(const sip_msg_t *msg);

/*
 * A response to req per RFC 3261 §8.2.6: Via(s), From, To, Call-ID, CSeq copied;
 * a To tag added when code > 100 and the request had none (to_tag NULL: random).
 * reason NULL: the standard phrase. Content-Length 0. rcv left zeroed.
 */
sip_msg_t *sip_msg_make_response(const sip_msg_t *req, int code, const char *reason,
                                 const char *to_tag);

/*
 * A new request for a UAC role: method, Request-URI, From and To (name-addr
 * text; a From tag is added when missing), Call-ID (NULL: random), CSeq,
 * Max-Forwards 70, Content-Length 0, no Via (the transaction layer adds it).
 * NULL when a value does not parse.
 */
sip_msg_t *sip_msg_new_request(const char *method, const char *ruri, const char *from,
                               const char *to, const char *call_id, uint32_t cseq);
/* Replace the body (body NULL or len 0: none) and set Content-Type/-Length. */
int sip_msg_set_body(sip_msg_t *msg, const char *content_type, const char *body, size_t len);

/* Accessors; NULL / 0 when absent. Strings point into the message. */
bool sip_msg_is_request(const sip_msg_t *msg);
const char *sip_msg_method(const sip_msg_t *msg);       /* request method */
int sip_msg_status(const sip_msg_t *msg);               /* response code */
const char *sip_msg_call_id(const sip_msg_t *msg);      /* "number@host" or "number" */
const char *sip_msg_cseq_method(const sip_msg_t *msg);
uint32_t sip_msg_cseq_num(const sip_msg_t *msg);
osip_via_t *sip_msg_top_via(const sip_msg_t *msg);
/* Vias under the top one may be kept as text ("Via" entries in m->headers,
 * msg_via.c): m->vias then holds only the upper ones, and sip_msg_top_via
 * parses the next one when a pop emptied it. Parse them all into m->vias
 * (IMS_ERROR if one does not parse: it and those under it stay kept). */
int sip_msg_vias_parse_all(osip_message_t *m);
/* All the Vias, parsed (the kept ones parsed first; the message stays the same). */
osip_list_t *sip_msg_vias(const sip_msg_t *msg);
/* Record-Routes may be kept as text too ("Record-Route" entries in
 * m->headers): m->record_routes then holds only those a proxy pushed. All of
 * them, parsed (the kept ones appended below; the message stays the same). */
osip_list_t *sip_msg_record_routes(const sip_msg_t *msg);
/* Every kept header parsed: Vias, then Record-Routes. IMS_OK / IMS_ERROR. */
int sip_msg_kept_parse_all(osip_message_t *m);
/* Whether a Via kept as text holds s (the loop check's branch prefix). */
bool sip_msg_vias_kept_contain(const osip_message_t *m, const char *s);
const char *sip_msg_via_branch(const osip_via_t *via);  /* "branch" param value */
/* sent-by "host:port" of a Via (port defaulted to 5060), into buf. Returns buf or NULL. */
const char *sip_msg_via_sent_by(const osip_via_t *via, char *buf, size_t buflen);
const char *sip_msg_to_tag(const sip_msg_t *msg);
const char *sip_msg_from_tag(const sip_msg_t *msg);

/* Generic header (not one of those libosip2 parses into fields): first value or NULL. */
const char *sip_msg_header(const sip_msg_t *msg, const char *name);
/* Remove every instance of a generic header; returns how many. */
int sip_msg_header_remove(sip_msg_t *msg, const char *name);
/* Append a generic header (copied). IMS_OK / IMS_ERROR. */
int sip_msg_header_add(sip_msg_t *msg, const char *name, const char *value);

/* Addresses: "ip:port" / "[ip6]:port" text, and back. */
const char *sip_addr_str(const sip_addr_t *a, char *buf, size_t buflen);
/* The address (struct in_addr / in6_addr at bin) as text, like inet_ntop
 * (IPv4 without sprintf); NULL when buf is too small. */
const char *sip_ip_str(int family, const void *bin, char *buf, size_t buflen);
/* v in decimal at buf (room for 21 bytes), NUL-terminated; returns the digits. */
size_t sip_utoa(unsigned long v, char *buf);
/* Text built piece by piece into a fixed buffer, without sprintf (the
 * forwarding path builds a Via, Record-Routes and a branch per request).
 * Once a piece does not fit, ok stays false and nothing more is written. */
typedef struct sip_tb {
    char *p, *end;  /* next byte, end of the buffer (one byte kept for the NUL) */
    bool ok;
} sip_tb_t;
static inline sip_tb_t sip_tb(char *buf, size_t cap)
{
    return (sip_tb_t){ buf, buf + cap, cap > 0 };
}
static inline void sip_tb_put(sip_tb_t *t, const char *s, size_t n)
{
    if (!t->ok || n >= (size_t)(t->end - t->p)) {
        t->ok = false;
        return;
    }
    memcpy(t->p, s, n);
    t->p += n;
    *t->p = '\0';
}
static inline void sip_tb_str(sip_tb_t *t, const char *s)
{
    sip_tb_put(t, s, strlen(s));
}
/* v in decimal, or in lower-case hexadecimal. */
void sip_tb_uint(sip_tb_t *t, unsigned long v);
void sip_tb_hex(sip_tb_t *t, uint64_t v);
/* host is an IPv4 or IPv6 literal (brackets allowed). IMS_OK / IMS_ERROR. */
int sip_addr_from(sip_addr_t *a, const char *host, uint16_t port);
uint16_t sip_addr_port(const sip_addr_t *a);
bool sip_addr_equal(const sip_addr_t *a, const sip_addr_t *b);
/* The same IP address (family and bytes), whatever the ports. */
bool sip_addr_same_ip(const sip_addr_t *a, const sip_addr_t *b);

/* Random token of n hex digits + NUL into buf (buflen >= n+1), for tags and branches. */
void sip_random_token(char *buf, size_t n);

#endif
