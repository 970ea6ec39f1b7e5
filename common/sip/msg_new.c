/* SPDX-License-Identifier: BSD-2-Clause */
/* Requests built from scratch, for the daemons' own UAC roles (SUBSCRIBE,
 * NOTIFY, third-party REGISTER, keep-alive OPTIONS). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/sip/msg.h"

static int set_addr(osip_message_t *m, bool from, const char *value)
{
    return (from ? osip_message_set_from(m, value) : osip_message_set_to(m, value)) == 0
               ? IMS_OK : IMS_ERROR;
}

sip_msg_t *sip_msg_new_request(const char *method, const char *ruri, const char *from,
                               const char *to, const char *call_id, uint32_t cseq)
{
    osip_message_t *m = NULL;
    osip_uri_t *u = NULL;
    sip_msg_t *msg;
    char num[16], cid[64];

    if (!method || !ruri || !from || !to || osip_message_init(&m) != 0)
        return NULL;
    if (!call_id) {
        sip_random_token(cid, 32);
        call_id = cid;
    }
    snprintf(num, sizeof(num), "%u", cseq);
    osip_message_set_method(m, osip_strdup(method));
    osip_message_set_version(m, osip_strdup("SIP/2.0"));
    if (osip_uri_init(&u) != 0 || osip_uri_parse(u, ruri) != 0) {
        osip_uri_free(u);
        osip_message_free(m);
        return NULL;
    }
    osip_message_set_uri(m, u);
    if (set_addr(m, true, from) != IMS_OK || set_addr(m, false, to) != IMS_OK ||
        osip_message_set_call_id(m, call_id) != 0 || osip_message_set_max_forwards(m, "70") != 0) {
        osip_message_free(m);
        return NULL;
    }
    {
        char cs[48];

        snprintf(cs, sizeof(cs), "%s %s", num, method);
        if (osip_message_set_cseq(m, cs) != 0) {
            osip_message_free(m);
            return NULL;
        }
    }
    {
        osip_generic_param_t *tag = NULL;
        char t[17];

        osip_from_get_tag(m->from, &tag);
        if (!tag) {
            sip_random_token(t, 16);
            osip_from_set_tag(m->from, osip_strdup(t));
        }
    }
    msg = calloc(1, sizeof(*msg));
    if (!msg)
        abort();
    msg->m = m;
    osip_message_set_content_length(m, "0");
    return msg;
}

int sip_msg_set_body(sip_msg_t *msg, const char *content_type, const char *body, size_t len)
{
    osip_body_t *b;
    char cl[24];

    msg->edited = true;
    while ((b = osip_list_get(&msg->m->bodies, 0)) != NULL) {
        osip_list_remove(&msg->m->bodies, 0);
        osip_body_free(b);
    }
    osip_content_type_free(msg->m->content_type);
    msg->m->content_type = NULL;
    osip_content_length_free(msg->m->content_length);
    msg->m->content_length = NULL;
    snprintf(cl, sizeof(cl), "%zu", body ? len : 0);
    if (body && len) {
        if (osip_message_set_content_type(msg->m, content_type) != 0 ||
            osip_message_set_body(msg->m, body, len) != 0)
            return IMS_ERROR;
    }
    return osip_message_set_content_length(msg->m, cl) == 0 ? IMS_OK : IMS_ERROR;
}
