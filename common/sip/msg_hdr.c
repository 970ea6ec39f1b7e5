/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading and changing headers of a sip_msg_t, and building a response to a
 * request (RFC 3261 §8.2.6).
 *
 * libosip2 keeps the headers it does not parse in one generic list, under the
 * name as received (lower-cased). A sender may use a compact form (RFC 3261
 * §7.3.3 and later RFCs: "k" for Supported, "o" for Event, ...), so lookups
 * and removals by name also match the other form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/rc.h"
#include "common/sip/msg_int.h"

#define SIP_TAG_LEN 16

/* Compact forms of headers libosip2 does not parse (it handles v f t i m l c e). */
static const struct {
    const char *name, *compact;
} g_compact[] = {
    {"subject", "s"},         {"supported", "k"},       {"event", "o"},
    {"allow-events", "u"},    {"refer-to", "r"},        {"referred-by", "b"},
    {"session-expires", "x"}, {"request-disposition", "d"},
    {"accept-contact", "a"},  {"reject-contact", "j"},  {"identity", "y"},
    {"identity-info", "n"},
};

static const struct {
    int code;
    const char *phrase;
} g_reasons[] = {
    {100, "Trying"}, {180, "Ringing"}, {181, "Call Is Being Forwarded"}, {182, "Queued"},
    {183, "Session Progress"}, {200, "OK"}, {202, "Accepted"}, {400, "Bad Request"},
    {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
    {405, "Method Not Allowed"}, {407, "Proxy Authentication Required"},
    {408, "Request Timeout"}, {420, "Bad Extension"}, {421, "Extension Required"},
    {423, "Interval Too Brief"}, {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"}, {482, "Loop Detected"},
    {483, "Too Many Hops"}, {486, "Busy Here"}, {487, "Request Terminated"},
    {488, "Not Acceptable Here"}, {491, "Request Pending"},
    {494, "Security Agreement Required"}, {500, "Server Internal Error"},
    {501, "Not Implemented"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
    {504, "Server Time-out"}, {505, "Version Not Supported"},
    {513, "Message Too Large"}, {603, "Decline"},
};

static const char *std_reason(int code)
{
    static const char *by_class[] = {"Unknown", "Trying", "OK", "Redirect", "Bad Request",
                                     "Server Internal Error", "Decline"};
    size_t i;

    for (i = 0; i < IMS_ARRAY_LEN(g_reasons); i++)
        if (g_reasons[i].code == code)
            return g_reasons[i].phrase;
    return code >= 100 && code <= 699 ? by_class[code / 100] : by_class[0];
}

bool sip_msg_is_request(const sip_msg_t *msg)
{
    return msg != NULL && msg->m != NULL && MSG_IS_REQUEST(msg->m) &&
           msg->m->sip_method != NULL;
}

const char *sip_msg_method(const sip_msg_t *msg)
{
    return sip_msg_is_request(msg) ? msg->m->sip_method : NULL;
}

int sip_msg_status(const sip_msg_t *msg)
{
    return msg != NULL && msg->m != NULL ? msg->m->status_code : 0;
}

/*
 * Messages from sip_msg_parse and sip_msg_make_response already hold the whole
 * Call-ID in number; one built elsewhere through libosip2 is joined here on
 * first use (the message is changed, its text stays the same).
 */
const char *sip_msg_call_id(const sip_msg_t *msg)
{
    osip_call_id_t *cid;

    if (msg == NULL || msg->m == NULL || (cid = msg->m->call_id) == NULL)
        return NULL;
    if (sip_msg_callid_join(cid) != IMS_OK)
        return NULL;
    return cid->number;
}

const char *sip_msg_cseq_method(const sip_msg_t *msg)
{
    return msg != NULL && msg->m != NULL && msg->m->cseq != NULL ? msg->m->cseq->method : NULL;
}

uint32_t sip_msg_cseq_num(const sip_msg_t *msg)
{
    const char *s;
    uint64_t v = 0;

    if (msg == NULL || msg->m == NULL || msg->m->cseq == NULL || msg->m->cseq->number == NULL)
        return 0;
    for (s = msg->m->cseq->number; *s >= '0' && *s <= '9' && v <= UINT32_MAX; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    return v <= UINT32_MAX ? (uint32_t)v : 0;
}

osip_via_t *sip_msg_top_via(const sip_msg_t *msg)
{
    if (msg == NULL || msg->m == NULL)
        return NULL;
    /* After a pop the next one may still be kept as text (msg_via.c): a
     * relayed response is sent by its transaction, so it is parsed only when
     * asked for here. */
    sip_msg_vias_refill_top(msg->m);
    return osip_list_get(&msg->m->vias, 0);
}

const char *sip_msg_via_branch(const osip_via_t *via)
{
    osip_generic_param_t *p = NULL;

    if (via == NULL)
        return NULL;
    osip_via_param_get_byname((osip_via_t *)via, "branch", &p);
    return p != NULL ? p->gvalue : NULL;
}

const char *sip_msg_via_sent_by(const osip_via_t *via, char *buf, size_t buflen)
{
    unsigned long port = 5060;
    const char *s;
    size_t hlen;
    int n;

    if (via == NULL || via->host == NULL || buf == NULL)
        return NULL;
    if (via->port != NULL) {
        port = 0;
        for (s = via->port; *s != '\0'; s++) {
            if (*s < '0' || *s > '9' || port > 65535)
                return NULL;
            port = port * 10 + (unsigned long)(*s - '0');
        }
        if (s == via->port || port > 65535)
            return NULL;
    }
    if (strchr(via->host, ':') != NULL && via->host[0] != '[') {
        n = snprintf(buf, buflen, "[%s]:%lu", via->host, port);
        return n > 0 && (size_t)n < buflen ? buf : NULL;
    }
    /* The common case without snprintf: this runs on every message. */
    hlen = strlen(via->host);
    if (hlen + 7 > buflen)
        return NULL;
    memcpy(buf, via->host, hlen);
    buf[hlen] = ':';
    sip_utoa(port, buf + hlen + 1);
    return buf;
}

static const char *tag_of(osip_from_t *h)
{
    osip_generic_param_t *p = NULL;

    if (h == NULL)
        return NULL;
    osip_from_get_tag(h, &p);
    return p != NULL ? p->gvalue : NULL;
}

const char *sip_msg_to_tag(const sip_msg_t *msg)
{
    return msg != NULL && msg->m != NULL ? tag_of(msg->m->to) : NULL;
}

const char *sip_msg_from_tag(const sip_msg_t *msg)
{
    return msg != NULL && msg->m != NULL ? tag_of(msg->m->from) : NULL;
}

/* The other form of name (compact <-> full), or NULL. */
static const char *alt_name(const char *name)
{
    size_t i;

    for (i = 0; i < IMS_ARRAY_LEN(g_compact); i++) {
        if (strcasecmp(name, g_compact[i].name) == 0)
            return g_compact[i].compact;
        if (strcasecmp(name, g_compact[i].compact) == 0)
            return g_compact[i].name;
    }
    return NULL;
}

static bool name_match(const osip_header_t *h, const char *name, const char *alt)
{
    return h->hname != NULL &&
           (strcasecmp(h->hname, name) == 0 || (alt != NULL && strcasecmp(h->hname, alt) == 0));
}

const char *sip_msg_header(const sip_msg_t *msg, const char *name)
{
    osip_list_iterator_t it;
    osip_header_t *h;
    const char *alt;

    if (msg == NULL || msg->m == NULL || name == NULL)
        return NULL;
    alt = alt_name(name);
    for (h = osip_list_get_first(&msg->m->headers, &it); h != NULL; h = osip_list_get_next(&it))
        if (name_match(h, name, alt))
            return h->hvalue != NULL ? h->hvalue : "";
    return NULL;
}

int sip_msg_header_remove(sip_msg_t *msg, const char *name)
{
    osip_list_iterator_t it;
    osip_header_t *h;
    const char *alt;
    int n = 0;

    if (msg == NULL || msg->m == NULL || name == NULL)
        return 0;
    alt = alt_name(name);
    h = osip_list_get_first(&msg->m->headers, &it);
    while (h != NULL) {
        if (name_match(h, name, alt)) {
            osip_header_free(h);
            h = osip_list_iterator_remove(&it);
            n++;
        } else {
            h = osip_list_get_next(&it);
        }
    }
    if (n > 0) {
        osip_message_force_update(msg->m);
        msg->edited = true;
    }
    return n;
}

int sip_msg_header_add(sip_msg_t *msg, const char *name, const char *value)
{
    if (msg == NULL || msg->m == NULL || name == NULL || value == NULL)
        return IMS_ERROR;
    msg->edited = true;
    return osip_message_set_header(msg->m, name, value) == 0 ? IMS_OK : IMS_ERROR;
}

static int via_clone(void *src, void **dst)
{
    return osip_via_clone(src, (osip_via_t **)dst);
}

/* Copy what §8.2.6.2 asks for from q into r. */
static int copy_dialog_headers(const osip_message_t *q, osip_message_t *r)
{
    if (osip_list_clone(&q->vias, &r->vias, via_clone) != 0 || sip_via_clone_kept(q, r))
        return IMS_ERROR;
    if (osip_from_clone(q->from, &r->from) != 0 || osip_to_clone(q->to, &r->to) != 0)
        return IMS_ERROR;
    if (osip_call_id_clone(q->call_id, &r->call_id) != 0 || osip_cseq_clone(q->cseq, &r->cseq))
        return IMS_ERROR;
    return IMS_OK;
}

sip_msg_t *sip_msg_make_response(const sip_msg_t *req, int code, const char *reason,
                                 const char *to_tag)
{
    char tag[SIP_TAG_LEN + 1];
    const osip_message_t *q;
    osip_message_t *r;
    sip_msg_t *out;

    if (req == NULL || (q = req->m) == NULL || !MSG_IS_REQUEST(q) || code < 100 || code > 699)
        return NULL;
    if (q->from == NULL || q->to == NULL || q->call_id == NULL || q->cseq == NULL ||
        osip_list_size(&q->vias) < 1)
        return NULL;
    if (osip_message_init(&r) != 0)
        return NULL;
    osip_message_set_version(r, osip_strdup("SIP/2.0"));
    osip_message_set_status_code(r, code);
    osip_message_set_reason_phrase(r, osip_strdup(reason != NULL ? reason : std_reason(code)));
    if (copy_dialog_headers(q, r) != IMS_OK || osip_message_set_content_length(r, "0") != 0)
        goto fail;
    if (code > 100 && tag_of(r->to) == NULL) {
        if (to_tag == NULL) {
            sip_random_token(tag, SIP_TAG_LEN);
            to_tag = tag;
        }
        if (osip_to_set_tag(r->to, osip_strdup(to_tag)) != 0)
            goto fail;
    }
    if (sip_msg_callid_join(r->call_id) != IMS_OK)
        goto fail;
    out = calloc(1, sizeof(*out));
    if (out == NULL)
        goto fail;
    out->m = r;
    return out;
fail:
    osip_message_free(r);
    return NULL;
}
