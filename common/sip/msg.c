/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sip_msg_t over libosip2: parsing (pre-check, libosip2, semantic checks),
 * serialising, cloning, building responses (RFC 3261 §8.2.6) and accessors.
 *
 * Two libosip2 habits shape this file. It splits a Call-ID into number and
 * host; we keep it whole in number (host NULL), which serialises the same and
 * lets sip_msg_call_id return a pointer into the message. And it caches the
 * serialised text inside the message and trusts that cache even after the
 * structure was changed through its fields; so sip_msg_to_str always forces a
 * rebuild and drops the cache afterwards (it would double every stored
 * message's memory). The one exception is a received response a proxy relays
 * (sip_msg_pop_via, msg_relay.c): we put its text in that slot ourselves.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/rc.h"
#include "common/core/slab.h"
#include "common/sip/msg_int.h"

static bool g_inited;

static void osip_trace_sink(const char *fi, int li, osip_trace_level_t level, const char *chfr,
                            va_list ap)
{
}

void sip_msg_global_init(void)
{
    int l;

    if (g_inited)
        return;
    g_inited = true;
#ifndef IMS_SANITIZED
    /* libosip2's many small allocations come from our slab (see slab.h);
     * sanitizer builds keep malloc so that ASan sees every one of them. */
    osip_set_allocators(ims_slab_alloc, ims_slab_realloc, ims_slab_free);
#endif
    parser_init();
    /* Debian builds libosip2 with tracing on: it would print every parse error. */
    osip_trace_initialize_func(TRACE_LEVEL0, osip_trace_sink);
    for (l = TRACE_LEVEL0; l < END_TRACE_LEVEL; l++)
        osip_trace_disable_level((osip_trace_level_t)l);
}

/* Decimal digits only, at most maxdig of them, value <= max. */
static bool parse_uint(const char *s, size_t maxdig, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    size_t i;

    if (s == NULL || s[0] == '\0')
        return false;
    for (i = 0; s[i] != '\0'; i++) {
        if (i >= maxdig || s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

int sip_msg_callid_join(osip_call_id_t *cid)
{
    size_t a, b;
    char *s;

    if (cid == NULL || cid->host == NULL)
        return IMS_OK;
    a = cid->number != NULL ? strlen(cid->number) : 0;
    b = strlen(cid->host);
    s = osip_malloc(a + b + 2);
    if (s == NULL)
        return IMS_ERROR;
    memcpy(s, cid->number != NULL ? cid->number : "", a);
    s[a] = '@';
    memcpy(s + a + 1, cid->host, b + 1);
    osip_free(cid->number);
    osip_free(cid->host);
    cid->number = s;
    cid->host = NULL;
    return IMS_OK;
}

/* A host as RFC 3261 §25.1 allows it: hostname, IPv4, or [IPv6] (libosip2
 * keeps IPv6 without brackets, and keeps whatever an unclosed bracket left). */
static bool host_ok(const char *h)
{
    if (h == NULL || *h == '\0')
        return false;
    for (; *h; h++)
        if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.' && *h != ':' && *h != '_')
            return false;
    return true;
}

/* No white space or control characters in a user part (they must be escaped). */
static bool user_ok(const char *u)
{
    for (; u && *u; u++)
        if ((unsigned char)*u <= ' ' || *u == 0x7f)
            return false;
    return true;
}

static bool uri_ok(const osip_uri_t *u)
{
    if (u == NULL || u->scheme == NULL)
        return false;
    if (strcasecmp(u->scheme, "sip") != 0 && strcasecmp(u->scheme, "sips") != 0)
        return true;  /* tel: and others: libosip2 keeps them opaque */
    return host_ok(u->host) && user_ok(u->username);
}

static bool addr_ok(const osip_from_t *h)
{
    return h->url != NULL && uri_ok(h->url);
}

/* Headers every message needs (RFC 3261 §8.1.1). NULL or the reason. */
static const char *check_common(osip_message_t *m)
{
    const osip_via_t *v = osip_list_get(&m->vias, 0);
    unsigned long num;

    if (v == NULL)
        return "Missing Via";
    if (v->host == NULL || v->host[0] == '\0' || v->protocol == NULL || v->version == NULL)
        return "Bad Via";
    if (m->from == NULL)
        return "Missing From";
    if (!addr_ok(m->from))
        return "Bad From";
    if (m->to == NULL)
        return "Missing To";
    if (!addr_ok(m->to))
        return "Bad To";
    if (m->call_id == NULL || m->call_id->number == NULL || m->call_id->number[0] == '\0')
        return "Missing Call-ID";
    if (m->cseq == NULL)
        return "Missing CSeq";
    if (!parse_uint(m->cseq->number, 10, 0x7fffffffUL, &num) || m->cseq->method == NULL)
        return "Bad CSeq";
    return NULL;
}

static const char *check_request(osip_message_t *m)
{
    const osip_uri_t *u = m->req_uri;
    osip_list_iterator_t it;
    osip_header_t *h;
    unsigned long mf;

    if (m->sip_method == NULL || u == NULL || u->scheme == NULL)
        return "Bad Request-URI";
    if (strcasecmp(u->scheme, "sip") == 0 || strcasecmp(u->scheme, "sips") == 0) {
        if (!uri_ok(u))
            return "Bad Request-URI";
    } else if (strcasecmp(u->scheme, "tel") != 0) {
        return "Unsupported URI scheme";
    }
    /* RFC 3261 §8.1.1.7 and §9.1: ACK and CANCEL carry the method too. */
    if (strcmp(m->cseq->method, m->sip_method) != 0)
        return "CSeq method mismatch";
    for (h = osip_list_get_first(&m->headers, &it); h != NULL; h = osip_list_get_next(&it)) {
        if (h->hname != NULL && strcasecmp(h->hname, "max-forwards") == 0 &&
            !parse_uint(h->hvalue, 3, 255, &mf))
            return "Bad Max-Forwards";
    }
    return NULL;
}

/* libosip2 and the semantic checks on pre-checked bytes. NULL or the reason. */
/* A response keeps the text it was parsed from in m->message (libosip2's
 * own slot, freed with the message; its property stays "rebuild", so
 * libosip2 never takes it for its cache): a proxy relays it from there
 * (sip_msg_to_str). Without memory it is simply printed later. */
static void keep_text(osip_message_t *m, const char *buf, size_t len)
{
    char *t = osip_malloc(len + 1);

    if (!t)
        return;
    memcpy(t, buf, len);
    t[len] = '\0';
    m->message = t;
    m->message_length = len;
}

static const char *parse_checked(const char *all, const sip_precheck_t *pc,
                                 osip_message_t **out)
{
    const char *buf = all + pc->start, *r;
    size_t len = pc->len;
    osip_message_t *m;

    if (osip_message_init(&m) != 0)
        return "Out of memory";
    if (sip_via_parse(m, all, pc) != 0)
        r = "Malformed message";
    else if ((r = check_common(m)) == NULL && MSG_IS_REQUEST(m))
        r = check_request(m);
    if (r == NULL && sip_msg_callid_join(m->call_id) != IMS_OK)
        r = "Out of memory";
    if (r == NULL && sip_msg_keep_raw_credentials(m, buf, len) != IMS_OK)
        r = "Out of memory";
    if (r != NULL) {
        osip_message_free(m);
        return r;
    }
    sip_msg_respell_names(m);
    if (MSG_IS_RESPONSE(m))
        keep_text(m, buf, len);
    *out = m;
    return NULL;
}

sip_parse_rc_t sip_msg_parse(const char *buf, size_t len, const sip_rcv_t *rcv, size_t max_size,
                             sip_msg_t **out, const char **reason)
{
    osip_message_t *m = NULL;
    const char *r = NULL;
    sip_precheck_t pc;
    sip_msg_t *msg = NULL;
    int rc;

    *out = NULL;
    *reason = NULL;
    if (!g_inited)
        sip_msg_global_init();
    if (buf == NULL) {
        *reason = "Empty message";
        return SIP_PARSE_DROP;
    }
    rc = sip_msg_precheck(buf, len, max_size, &pc, &r);
    if (rc == IMS_DECLINED) {
        *reason = "Empty message";
        return SIP_PARSE_DROP;
    }
    if (rc == IMS_OK)
        r = parse_checked(buf, &pc, &m);
    if (r == NULL && (msg = calloc(1, sizeof(*msg))) == NULL) {
        osip_message_free(m);
        r = "Out of memory";
    }
    if (r != NULL) {
        *reason = r;
        /* Never answer a response; answer a request only if a 400 can be built. */
        if (pc.is_response || !sip_raw_answerable(buf, len))
            return SIP_PARSE_DROP;
        return SIP_PARSE_BAD;
    }
    msg->m = m;
    if (rcv != NULL)
        msg->rcv = *rcv;
    *out = msg;
    return SIP_PARSE_OK;
}

void sip_msg_free(sip_msg_t *msg)
{
    if (msg == NULL)
        return;
    if (msg->m != NULL)
        osip_message_free(msg->m);
    free(msg);
}

int sip_osip_to_str(osip_message_t *m, char **buf, size_t *len)
{
    char *text, *exact;

    if (sip_msg_print(m, &text, len) != IMS_OK)
        return IMS_ERROR;
    /* A transaction keeps its last response for 32 s: keep only the bytes. */
    exact = osip_realloc(text, *len + 1);
    *buf = exact ? exact : text;
    return IMS_OK;
}

void sip_msg_pop_via(sip_msg_t *msg)
{
    osip_via_t *v;

    if (msg == NULL || msg->m == NULL || (v = osip_list_get(&msg->m->vias, 0)) == NULL)
        return;
    osip_list_remove(&msg->m->vias, 0);
    osip_via_free(v);
    if (msg->vias_popped < UINT8_MAX)
        msg->vias_popped++;
}

void sip_msg_mark_edited(sip_msg_t *msg)
{
    if (msg != NULL)
        msg->edited = true;
}

int sip_msg_to_str(const sip_msg_t *msg, char **buf, size_t *len)
{
    osip_message_t *m;

    if (msg == NULL || msg->m == NULL)
        return IMS_ERROR;
    m = msg->m;
    if (msg->vias_popped == 1 && !msg->edited && m->message && MSG_IS_RESPONSE(m) &&
        sip_raw_drop_top_via(m->message, m->message_length, buf, len) == IMS_OK)
        return IMS_OK;
    osip_message_force_update(m);
    if (sip_osip_to_str(m, buf, len) != IMS_OK)
        return IMS_ERROR;
    osip_free(m->message);
    m->message = NULL;
    m->message_length = 0;
    osip_message_force_update(m);
    return IMS_OK;
}

sip_msg_t *sip_msg_clone(const sip_msg_t *msg)
{
    sip_msg_t *c;

    if (msg == NULL || msg->m == NULL)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (osip_message_clone(msg->m, &c->m) != 0) {
        free(c);
        return NULL;
    }
    c->rcv = msg->rcv;
    c->edited = true; /* a copy may be changed without a word: always print it */
    return c;
}
