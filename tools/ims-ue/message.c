/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-ue: SIP MESSAGE in pager mode (RFC 3428; SMS over IP, TS 24.341) with
 * a text/plain body, both ways. A received one is printed on one line (its
 * body bounded, control characters shown as '.') and answered 200.
 */
#include <stdio.h>
#include <string.h>

#include "common/core/rc.h"
#include "tools/ims-ue/ue.h"

#define UE_TEXT_SHOWN 200

static void on_resp(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    ue_t *ue = arg;
    int code = resp ? sip_msg_status(resp) : 0;

    if (code > 0 && code < 200) {
        sip_msg_free(resp);
        return;
    }
    if (!resp)
        ue_event(ue, "message failed: %s", err == SIP_TXN_TIMEOUT ? "timeout" : "transport error");
    else if (code < 300)
        ue_event(ue, "message delivered code=%d", code);
    else
        ue_event(ue, "message failed code=%d %s", code,
                 resp->m->reason_phrase ? resp->m->reason_phrase : "");
    sip_msg_free(resp);
    ue_done(ue, code >= 200 && code < 300);
}

void ue_message_send(ue_t *ue, const char *uri, const char *text)
{
    char to[UE_URI_MAX + 2], call_id[64], tag[17];
    sip_msg_t *m;

    snprintf(to, sizeof(to), "<%s>", uri);
    sip_random_token(call_id, 24);
    strcat(call_id, "@ims-ue");
    sip_random_token(tag, 16);
    m = ue_request(ue, "MESSAGE", uri, to, tag, call_id, 1);
    for (size_t i = 0; m && i < ue->reg.nroute; i++)
        if (osip_message_set_route(m->m, ue->reg.routes[i]) != 0)
            break;
    if (!m || sip_msg_set_body(m, "text/plain", text, strlen(text)) != IMS_OK) {
        sip_msg_free(m);
        ue_event(ue, "message failed: cannot build the MESSAGE");
        ue_done(ue, false);
        return;
    }
    if (!ue_sip_send(ue, m, on_resp, ue)) {
        ue_event(ue, "message failed: not sent");
        ue_done(ue, false);
        return;
    }
    ue_event(ue, "message sent to=%s", uri);
}

void ue_message_on_request(ue_t *ue, sip_txn_t *st, const sip_msg_t *req)
{
    osip_body_t *b = osip_list_get(&req->m->bodies, 0);
    char from[UE_URI_MAX] = "?", text[UE_TEXT_SHOWN + 1];
    size_t n = 0;

    if (req->m->from)
        ue_uri_text(req->m->from->url, from, sizeof(from));
    if (b && b->body)
        for (; n < b->length && n < UE_TEXT_SHOWN; n++)
            text[n] = (b->body[n] < 0x20 || b->body[n] == 0x7f) ? '.' : b->body[n];
    text[n] = '\0';
    sip_txn_server_reply_code(st, 200, NULL);
    ue_event(ue, "message from=%s text=%s", from, text);
    ue->messages++;
    if (ue->running && ue->cmds[ue->cur].kind == UE_CMD_WAIT_MESSAGE &&
        ue->messages >= ue->count) {
        ue->messages -= ue->count;
        ue_done(ue, true);
    }
}
