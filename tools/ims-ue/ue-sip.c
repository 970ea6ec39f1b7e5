/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-ue: the UE's sockets on common/sip, the requests it builds, and where
 * what it receives goes (see ue.h for why one transport per socket).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "tools/ims-ue/ue.h"

#define UE_USER_AGENT "ims-ue/0.1"

/* ---- receiving ---- */

static void rx_unprot(void *arg, sip_msg_t *msg)
{
    ue_t *ue = arg;

    sip_txn_layer_input(ue->unprot.layer, msg);
}

/* The port_uc socket (current, offered, replaced) that local is, or NULL. */
static ue_sock_t *client_at(ue_t *ue, const sip_addr_t *local)
{
    uint16_t port = sip_addr_port(local);

    if (port == sip_addr_port(&ue->prot_c.local))
        return &ue->prot_c;
    if (ue->next_c.tp && port == sip_addr_port(&ue->next_c.local))
        return &ue->next_c;
    if (ue->prev_c.tp && port == sip_addr_port(&ue->prev_c.local))
        return &ue->prev_c;
    for (size_t i = 0; i < UE_RETIRED; i++)
        if (ue->retired[i].tp && port == sip_addr_port(&ue->retired[i].local))
            return &ue->retired[i];
    return NULL;
}

/* A port_uc socket: responses to what was sent from it go to its own layer. */
static void rx_client(void *arg, sip_msg_t *msg)
{
    ue_t *ue = arg;
    ue_sock_t *s = client_at(ue, &msg->rcv.local);

    sip_txn_layer_input(s ? s->layer : ue->prot_c.layer, msg);
}

/* port_us: the P-CSCF's requests, and (UDP, TS 33.203 §7.1) the responses to
 * ours, which belong to the client layer on port_uc. */
static void rx_server(void *arg, sip_msg_t *msg)
{
    ue_t *ue = arg;

    sip_txn_layer_input(sip_msg_is_request(msg) ? ue->prot_s.layer : ue->prot_c.layer, msg);
}

static void on_request(void *arg, sip_txn_t *st, const sip_msg_t *req)
{
    ue_t *ue = arg;
    const char *m = sip_msg_method(req);

    if (strcmp(m, "MESSAGE") == 0) {
        ue_message_on_request(ue, st, req);
        return;
    }
    if (ue_call_on_request(ue, st, req) != IMS_DECLINED)
        return;
    /* reg-event NOTIFYs and keep-alive OPTIONS: acknowledged, nothing more. */
    if (strcmp(m, "NOTIFY") == 0 || strcmp(m, "OPTIONS") == 0)
        sip_txn_server_reply_code(st, 200, NULL);
    else
        sip_txn_server_reply_code(st, 501, NULL);
}

static void on_ack(void *arg, sip_msg_t *ack)
{
    ue_call_on_ack(arg, ack);
}

static void on_stray(void *arg, sip_msg_t *resp)
{
    ue_call_on_stray(arg, resp);
}

static const sip_txn_user_t ue_user = { on_request, on_ack, on_stray };

/* ---- sockets ---- */

static int sock_open(ue_t *ue, ue_sock_t *s, uint16_t port, sip_recv_cb cb)
{
    char txt[80];

    s->tp = sip_transport_new(ue->loop, NULL, cb, ue);
    if (!s->tp ||
        sip_transport_listen(s->tp, SIP_PROTO_UDP, ue->cfg.local_host, port) != IMS_OK ||
        sip_transport_local(s->tp, SIP_PROTO_UDP, ue->cfg.pcscf.ss.ss_family, &s->local) !=
            IMS_OK)
        return IMS_ERROR;
    s->layer = sip_txn_layer_new(ue->loop, s->tp, NULL);
    if (!s->layer)
        return IMS_ERROR;
    sip_txn_layer_set_user(s->layer, &ue_user, ue);
    IMS_INFO("socket %s", sip_addr_str(&s->local, txt, sizeof(txt)));
    return IMS_OK;
}

static void sock_close(ue_sock_t *s)
{
    if (s->layer)
        sip_txn_layer_free(s->layer);
    if (s->tp)
        sip_transport_free(s->tp);
    memset(s, 0, sizeof(*s));
}

int ue_sip_open(ue_t *ue)
{
    if (sock_open(ue, &ue->unprot, ue->cfg.local_port, rx_unprot) != IMS_OK)
        return IMS_ERROR;
    if (!ue->cfg.ipsec)
        return IMS_OK;
    if (sock_open(ue, &ue->prot_c, 0, rx_client) != IMS_OK ||
        sock_open(ue, &ue->prot_s, 0, rx_server) != IMS_OK)
        return IMS_ERROR;
    return IMS_OK;
}

/* ---- the port_uc of a re-registration (TS 33.203 §7.4; see ue.h) ---- */

int ue_sip_open_next(ue_t *ue)
{
    if (ue->next_c.tp)
        return IMS_OK;
    if (sock_open(ue, &ue->next_c, 0, rx_client) == IMS_OK)
        return IMS_OK;
    sock_close(&ue->next_c);
    return IMS_ERROR;
}

void ue_sip_drop_next(ue_t *ue)
{
    sock_close(&ue->next_c);
}

void ue_sip_switch_client(ue_t *ue)
{
    if (!ue->next_c.tp)
        return;
    if (ue->prev_c.tp) {
        /* an earlier switch never confirmed: prot_c was its new socket */
        ue_sock_t keep = ue->prev_c;

        ue->prev_c = ue->prot_c;
        ue_sip_confirm_client(ue);
        ue->prev_c = keep;
    } else {
        ue->prev_c = ue->prot_c;
    }
    ue->prot_c = ue->next_c;
    memset(&ue->next_c, 0, sizeof(ue->next_c));
}

/* Close the idle retired sockets; again in a second while some are busy. */
static void on_reap(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    ue_t *ue = arg;
    size_t n = 0;

    for (size_t i = 0; i < UE_RETIRED; i++) {
        ue_sock_t *s = &ue->retired[i];

        if (s->tp && sip_txn_layer_count(s->layer) == 0)
            sock_close(s);
        if (s->tp)
            ue->retired[n++] = *s;
    }
    for (size_t i = n; i < UE_RETIRED; i++)
        memset(&ue->retired[i], 0, sizeof(ue->retired[i]));
    if (n)
        ims_timer_start(loop, &ue->reap_timer, 1000, on_reap, ue);
}

/* prev_c into retired[] (the oldest closed when it is full). */
void ue_sip_confirm_client(ue_t *ue)
{
    size_t i = 0;

    if (!ue->prev_c.tp)
        return;
    while (i < UE_RETIRED && ue->retired[i].tp)
        i++;
    if (i == UE_RETIRED) {
        ue_call_forget_layer(ue, ue->retired[0].layer);
        sock_close(&ue->retired[0]);
        memmove(&ue->retired[0], &ue->retired[1], (UE_RETIRED - 1) * sizeof(ue->retired[0]));
        i = UE_RETIRED - 1;
    }
    ue->retired[i] = ue->prev_c;
    memset(&ue->prev_c, 0, sizeof(ue->prev_c));
    ims_timer_start(ue->loop, &ue->reap_timer, 1000, on_reap, ue);
}

void ue_sip_revert_client(ue_t *ue)
{
    ue_sock_t failed = ue->prot_c;

    if (!ue->prev_c.tp)
        return;
    /* Not closed here: we may be in a callback of its layer. */
    ue->prot_c = ue->prev_c;
    ue->prev_c = failed;
    ue_sip_confirm_client(ue);
}

void ue_sip_close(ue_t *ue)
{
    if (ue->loop)
        ims_timer_stop(ue->loop, &ue->reap_timer);
    sock_close(&ue->next_c);
    sock_close(&ue->prev_c);
    for (size_t i = 0; i < UE_RETIRED; i++)
        sock_close(&ue->retired[i]);
    sock_close(&ue->prot_c);
    sock_close(&ue->prot_s);
    sock_close(&ue->unprot);
}

/* ---- building and sending ---- */

void ue_contact(const ue_t *ue, char *buf, size_t len)
{
    const ue_sock_t *s = ue->cfg.ipsec ? &ue->prot_s : &ue->unprot;
    char hp[80];

    snprintf(buf, len, "sip:ue@%s", sip_addr_str(&s->local, hp, sizeof(hp)));
}

sip_msg_t *ue_request(ue_t *ue, const char *method, const char *ruri, const char *to,
                      const char *tag, const char *call_id, uint32_t cseq)
{
    char from[UE_URI_MAX + UE_TOKEN_MAX + 16];
    sip_msg_t *m;

    snprintf(from, sizeof(from), "<%s>;tag=%s", ue->cfg.impu, tag);
    m = sip_msg_new_request(method, ruri, from, to, call_id, cseq);
    if (m && sip_msg_header_add(m, "User-Agent", UE_USER_AGENT) != IMS_OK) {
        sip_msg_free(m);
        return NULL;
    }
    return m;
}

/* Over the SAs every request carries Security-Verify (RFC 3329 §2.3.1; the
 * TS 24.228 flows show it on SUBSCRIBE and INVITE too), which the P-CSCF
 * removes. The sec-agree option tags go on REGISTER only: the P-CSCF takes
 * them out of REGISTERs, and on other requests the next proxy would refuse an
 * unknown Proxy-Require with 420 (seen with our P-CSCF in the ESP VM). */
static int add_sec_agree(ue_t *ue, sip_msg_t *req)
{
    if (sip_msg_header(req, "Security-Verify"))
        return IMS_OK;
    if (sip_msg_header_add(req, "Security-Verify", ue->sec_verify) != IMS_OK)
        return IMS_ERROR;
    if (strcmp(sip_msg_method(req), "REGISTER") != 0)
        return IMS_OK;
    if (!sip_msg_header(req, "Require") &&
        sip_msg_header_add(req, "Require", "sec-agree") != IMS_OK)
        return IMS_ERROR;
    if (!sip_msg_header(req, "Proxy-Require") &&
        sip_msg_header_add(req, "Proxy-Require", "sec-agree") != IMS_OK)
        return IMS_ERROR;
    return IMS_OK;
}

static void dest_of(const ue_t *ue, sip_dest_t *dst)
{
    memset(dst, 0, sizeof(*dst));
    dst->proto = SIP_PROTO_UDP;
    dst->addr = ue->protected_up ? ue->pcscf_ps : ue->cfg.pcscf;
}

sip_txn_t *ue_sip_send(ue_t *ue, sip_msg_t *req, sip_txn_client_cb cb, void *arg)
{
    ue_sock_t *s = ue->protected_up ? &ue->prot_c : &ue->unprot;
    sip_dest_t dst;

    if (ue->protected_up && add_sec_agree(ue, req) != IMS_OK) {
        sip_msg_free(req);
        return NULL;
    }
    dest_of(ue, &dst);
    return sip_txn_client_start(s->layer, req, &dst, NULL, cb, arg);
}

int ue_sip_send_stateless(ue_t *ue, sip_msg_t *msg)
{
    ue_sock_t *s = ue->protected_up ? &ue->prot_c : &ue->unprot;
    char hp[80], tok[17], via[160];
    sip_dest_t dst;

    if (ue->protected_up && add_sec_agree(ue, msg) != IMS_OK)
        return IMS_ERROR;
    sip_random_token(tok, 16);
    snprintf(via, sizeof(via), "SIP/2.0/UDP %s;branch=z9hG4bK%s;rport",
             sip_addr_str(&s->local, hp, sizeof(hp)), tok);
    if (osip_message_set_via(msg->m, via) != 0)
        return IMS_ERROR;
    dest_of(ue, &dst);
    return sip_transport_send_msg(s->tp, &dst, msg);
}

/* ---- reading headers ---- */

/* Split v at commas outside <...> and "..." into out; returns the new count. */
static size_t split_list(const char *v, char out[][UE_URI_MAX], size_t n, size_t max)
{
    const char *start = v;
    bool angle = false, quote = false;

    for (const char *p = v;; p++) {
        if (*p == '"')
            quote = !quote;
        else if (!quote && *p == '<')
            angle = true;
        else if (!quote && *p == '>')
            angle = false;
        if (*p && (*p != ',' || angle || quote))
            continue;
        while (start < p && (*start == ' ' || *start == '\t'))
            start++;
        size_t l = (size_t)(p - start);
        while (l > 0 && (start[l - 1] == ' ' || start[l - 1] == '\t'))
            l--;
        if (l > 0 && l < UE_URI_MAX && n < max) {
            memcpy(out[n], start, l);
            out[n++][l] = '\0';
        }
        if (!*p)
            return n;
        start = p + 1;
    }
}

size_t ue_hdr_list(const sip_msg_t *msg, const char *name, char out[][UE_URI_MAX], size_t max)
{
    osip_list_iterator_t it;
    osip_header_t *h;
    size_t n = 0;

    for (h = osip_list_get_first(&msg->m->headers, &it); h; h = osip_list_get_next(&it))
        if (h->hname && h->hvalue && strcasecmp(h->hname, name) == 0)
            n = split_list(h->hvalue, out, n, max);
    return n;
}

int ue_uri_text(const osip_uri_t *u, char *buf, size_t len)
{
    char *s = NULL;
    int n;

    if (!u || osip_uri_to_str(u, &s) != 0 || !s)
        return IMS_ERROR;
    n = snprintf(buf, len, "%s", s);
    osip_free(s);
    return n >= 0 && (size_t)n < len ? IMS_OK : IMS_ERROR;
}
