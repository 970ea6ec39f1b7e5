/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal to common/sip: the raw-byte helpers shared by the parser
 * (msg.c), its pre-check (msg_check.c), the raw response builder (msg_raw.c)
 * and the stream transport, which frames by Content-Length before parsing.
 *
 * Everything here works on {buf, len} and never assumes NUL termination.
 */
#ifndef SIP_MSG_INT_H
#define SIP_MSG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/sip/msg.h"

/* A Via header line in the raw bytes (offsets from the buffer's start). */
typedef struct sip_via_line {
    size_t off, end;        /* the line, its line end included */
    size_t voff, vlen;      /* the value after the colon */
} sip_via_line_t;

#define SIP_VIA_LINES_MAX 16
#define SIP_RR_LINES_MAX 16

/* What the pre-check learnt about a message that passed it. */
typedef struct sip_precheck {
    size_t start;       /* offset of the start line (leading CRLFs skipped) */
    size_t len;         /* bytes from start to hand to libosip2 (body truncated to CL) */
    bool is_response;
    /* The Via lines, in order, for msg_via.c; vias_plain false when one is
     * folded or there are more than SIP_VIA_LINES_MAX (then all are parsed). */
    bool vias_plain;
    size_t nvia;
    sip_via_line_t via[SIP_VIA_LINES_MAX];
    /* The Record-Route lines, likewise (all of them are kept when plain). */
    bool rrs_plain;
    size_t nrr;
    sip_via_line_t rr[SIP_RR_LINES_MAX];
} sip_precheck_t;

/*
 * Bounded checks on raw bytes before libosip2 sees them (see msg.h). IMS_OK and
 * *pc filled, or IMS_ERROR with *reason a static phrase and pc->is_response
 * telling whether the start line looked like a response. IMS_DECLINED: nothing
 * but CR/LF (a keep-alive), drop silently.
 */
int sip_msg_precheck(const char *buf, size_t len, size_t max_size, sip_precheck_t *pc,
                     const char **reason);

/*
 * Content-Length of the header block buf[0..len) (start line included), for
 * stream framing. IMS_OK with *cl set; IMS_DECLINED when absent; IMS_ERROR when
 * duplicated or not a number.
 */
int sip_raw_content_length(const char *buf, size_t len, size_t *cl);

/* True when buf holds a request with the Via, From, To, Call-ID and CSeq lines
 * that a raw response needs (what sip_msg_raw_response would not refuse). */
bool sip_raw_answerable(const char *buf, size_t len);

/* sip_msg_raw_400 with any final code (400, 513, ...). */
char *sip_msg_raw_response(const char *buf, size_t len, int code, const char *reason,
                           size_t *outlen);

/*
 * Next physical line of buf[0..len) from *pos: *p and *n its bytes without the
 * line end (LF, or CRLF), *lf whether an LF ended it. Advances *pos past the
 * line end. False when *pos is at the end.
 */
static inline bool sip_raw_next_line(const char *buf, size_t len, size_t *pos, const char **p,
                                     size_t *n, bool *lf)
{
    const char *s, *e;
    size_t l;

    if (*pos >= len)
        return false;
    s = buf + *pos;
    e = memchr(s, '\n', len - *pos);
    l = e != NULL ? (size_t)(e - s) : len - *pos;
    *pos += e != NULL ? l + 1 : l;
    *lf = e != NULL;
    if (e != NULL && l > 0 && s[l - 1] == '\r')
        l--;
    *p = s;
    *n = l;
    return true;
}

/*
 * Header name of the line p[0..n): the bytes before the colon, trailing blanks
 * dropped; it must be a non-empty token. Sets *name_len and *value_off (just
 * past the colon). False when there is no colon or the name is not a token.
 */
bool sip_raw_header_name(const char *p, size_t n, size_t *name_len, size_t *value_off);

/* Move a Call-ID's host into its number ("n@h", host NULL): it serialises the
 * same, and the whole value is one string. IMS_OK / IMS_ERROR (no memory). */
int sip_msg_callid_join(osip_call_id_t *cid);

/* Case-insensitive compare of the n bytes at p with the NUL-terminated lower-case s. */
bool sip_raw_name_is(const char *p, size_t n, const char *s);

/* Linear white space inside a line: a space or a tab. */
static inline bool sip_raw_is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 3261 token character (method names, header names); a table, as every
 * header name passes here. */
extern const bool sip_raw_token_tab[256];
static inline bool sip_raw_is_token_char(unsigned char c)
{
    return sip_raw_token_tab[c];
}

/* Replace libosip2's parsed Authorization / Proxy-Authorization headers of m
 * (it drops parameters it does not know, e.g. auts, integrity-protected) with
 * generic headers holding the values of buf[0..len) as received (msg_cred.c).
 * IMS_OK / IMS_ERROR (no memory). */
int sip_msg_keep_raw_credentials(osip_message_t *m, const char *buf, size_t len);
/* buf[0..len) (a response as received) without its first Via line, into a
 * new osip_malloc'd text (msg_relay.c). IMS_OK; IMS_DECLINED when that line is
 * not a single Via value on one line (print the message instead); IMS_ERROR
 * when out of memory. */
int sip_raw_drop_top_via(const char *buf, size_t len, char **out, size_t *outlen);
/* Give the generic headers' names their usual spelling back (msg_names.c). */
void sip_msg_respell_names(osip_message_t *m);

/* msg_via.c: the Via lines below the top one and the Record-Routes, kept
 * as text (see there). */
int sip_via_parse(osip_message_t *m, const char *buf, const sip_precheck_t *pc);
static inline bool sip_via_is_kept(const osip_header_t *h)
{
    return h->hname != NULL && h->hname[0] == 'V' && strcmp(h->hname, "Via") == 0;
}
/* libosip2 never files a Via or a Record-Route among its generic headers:
 * entries of these names there are ours (nothing else adds them). */
static inline bool sip_rr_is_kept(const osip_header_t *h)
{
    return h->hname != NULL && h->hname[0] == 'R' && strcmp(h->hname, "Record-Route") == 0;
}
void sip_msg_vias_refill_top(osip_message_t *m);
int sip_via_clone_kept(const osip_message_t *from, osip_message_t *to);

#endif
