/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Builder helpers shared by the application codecs (see app_build.h).
 */
#include <string.h>

#include "common/core/rc.h"
#include "diameter/base/app_build.h"
#include "diameter/base/dict.h"

static bool is_protocol_error(uint32_t code, bool experimental)
{
    return !experimental && code >= 3000 && code < 4000;
}

/* Result-Code, or Experimental-Result (Vendor-Id 10415) when experimental. */
static void put_result(dia_builder_t *b, uint32_t code, bool experimental)
{
    if (!experimental) {
        dia_put_u32(b, DIA_AVP_RESULT_CODE, DIA_AVP_M, 0, code);
        return;
    }
    dia_group_begin(b, DIA_AVP_EXPERIMENTAL_RESULT, DIA_AVP_M, 0);
    dia_put_u32(b, DIA_AVP_VENDOR_ID, DIA_AVP_M, 0, DIA_VENDOR_3GPP);
    dia_put_u32(b, DIA_AVP_EXPERIMENTAL_RESULT_CODE, DIA_AVP_M, 0, code);
    dia_group_end(b);
}

/* ---- message head ---- */

/*
 * Open b as a copy of head (the node's start of the message): sid (NULL: the
 * head's own Session-Id) first, then the app's header AVPs around the result
 * of an answer (res_code/res_exp, when answer).
 */
static void app_begin(dia_builder_t *b, const dia_app_head_t *app, const dia_msg_t *head,
                      uint8_t flags, const char *sid, bool app_avps, bool answer,
                      uint32_t res_code, bool res_exp)
{
    dia_iter_t it;
    dia_avp_t a;
    bool put_app = app_avps && !(answer && is_protocol_error(res_code, res_exp));

    dia_build_init(b, flags, head->code, head->app_id, head->hbh, head->e2e);
    if (sid)
        dia_put_str(b, DIA_AVP_SESSION_ID, DIA_AVP_M, 0, sid);
    else if (dia_msg_find(head, DIA_AVP_SESSION_ID, 0, &a))
        dia_put_raw(b, &a);
    if (put_app && app->put_before_result)
        app->put_before_result(b);
    if (answer)
        put_result(b, res_code, res_exp);
    if (put_app && app->put_after_result)
        app->put_after_result(b);
    dia_iter_msg(head, &it);
    while (dia_iter_next(&it, &a)) {
        if (a.code == DIA_AVP_SESSION_ID && a.vendor == 0)
            continue;
        dia_put_raw(b, &a);
    }
}

/* The node's head for a request; sid and sid_out as for dia_app_request. */
static dia_msg_t *request_head(const dia_app_head_t *app, dia_node_t *n, uint32_t code,
                               const char *dest_realm, const char *dest_host,
                               const char *sid, char *sid_out, size_t sid_max)
{
    dia_builder_t hb;
    dia_msg_t *head;
    size_t sid_len = sid ? strnlen(sid, sid_max) : 0;

    if (!n || !dest_realm || dest_realm[0] == '\0')
        return NULL;
    if (sid && (sid_len == 0 || sid_len == sid_max))
        return NULL;
    if (dest_host && dest_host[0] == '\0')
        dest_host = NULL;
    dia_node_request_init(n, &hb, code, app->app_id, sid == NULL, dest_realm, dest_host);
    head = dia_build_finish(&hb);
    if (!head || !sid_out)
        return head;
    if (sid) {
        memcpy(sid_out, sid, sid_len + 1);
    } else if (dia_msg_session_id(head, sid_out, sid_max) != IMS_OK) {
        sid_out[0] = '\0';
        dia_msg_free(head);
        return NULL;
    }
    return head;
}

/* Open b as an answer (b untouched on failure). */
static bool answer_begin(const dia_app_head_t *app, dia_node_t *n, dia_builder_t *b,
                         const dia_msg_t *req, uint32_t code, bool experimental,
                         bool app_avps)
{
    dia_builder_t hb;
    dia_msg_t *head;
    uint8_t flags;

    if (!n || !req || !dia_msg_is_request(req))
        return false;
    dia_node_answer_init(n, &hb, req, 0);
    head = dia_build_finish(&hb);
    if (!head)
        return false;
    flags = (uint8_t)(req->flags & DIA_FLAG_P);
    if (is_protocol_error(code, experimental))
        flags |= DIA_FLAG_E;
    app_begin(b, app, head, flags, NULL, app_avps, true, code, experimental);
    dia_msg_free(head);
    return true;
}

/* ---- whole commands ---- */

dia_msg_t *dia_app_request(const dia_app_head_t *app, dia_node_t *n, uint32_t code,
                           const char *dest_realm, const char *dest_host, const char *sid,
                           char *sid_out, size_t sid_max, dia_put_fn *put, const void *ctx)
{
    dia_builder_t b;
    dia_msg_t *head, *m;

    if (sid_out)
        sid_out[0] = '\0';
    if (!ctx)
        return NULL;
    head = request_head(app, n, code, dest_realm, dest_host, sid, sid_out, sid_max);
    if (!head)
        return NULL;
    app_begin(&b, app, head, DIA_FLAG_R | DIA_FLAG_P, sid, true, false, 0, false);
    dia_msg_free(head);
    put(&b, ctx);
    m = dia_build_finish(&b);
    if (!m && sid_out)
        sid_out[0] = '\0';
    return m;
}

dia_msg_t *dia_app_answer(const dia_app_head_t *app, dia_node_t *n, const dia_msg_t *req,
                          uint32_t code, bool experimental, bool app_avps, dia_put_fn *put,
                          const void *ctx)
{
    dia_builder_t b;

    if (!answer_begin(app, n, &b, req, code, experimental, app_avps))
        return NULL;
    if (put)
        put(&b, ctx);
    return dia_build_finish(&b);
}

/* ---- parse-error answers ---- */

uint8_t dia_dict_m_flag(uint32_t code, uint32_t vendor)
{
    const dia_dict_avp_t *d = dia_dict_avp(code, vendor);

    return (d && d->m == DIA_M_MUSTNOT) ? 0 : DIA_AVP_M;
}

/* A zero-filled example of an AVP, for Failed-AVP (RFC 6733 §7.5): the
 * payload as long as the type's fixed size. */
static void put_example(dia_builder_t *b, uint32_t code, uint32_t vendor, uint8_t flags)
{
    static const uint8_t zeros[8];
    const dia_dict_avp_t *d = dia_dict_avp(code, vendor);
    size_t len = 0;

    switch (d ? d->type : DIA_T_OCTETS) {
    case DIA_T_I32: case DIA_T_U32: case DIA_T_F32: case DIA_T_TIME: case DIA_T_ENUM:
        len = 4;
        break;
    case DIA_T_I64: case DIA_T_U64: case DIA_T_F64:
        len = 8;
        break;
    default:
        break;
    }
    dia_put_octets(b, code, flags, vendor, zeros, len);
}

dia_msg_t *dia_app_parse_error_answer(const dia_app_head_t *app, dia_node_t *n,
                                      const dia_msg_t *req, bool app_avps, uint32_t missing,
                                      uint32_t vendor, uint8_t flags)
{
    uint32_t code = missing ? DIA_MISSING_AVP : DIA_INVALID_AVP_VALUE;
    dia_builder_t b;

    if (!answer_begin(app, n, &b, req, code, false, app_avps))
        return NULL;
    if (missing) {
        dia_group_begin(&b, DIA_AVP_FAILED_AVP, DIA_AVP_M, 0);
        put_example(&b, missing, vendor, flags);
        dia_group_end(&b);
    }
    return dia_build_finish(&b);
}

/* ---- small puts ---- */

void dia_put_bounded_str(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                         const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    if (n == cap) {
        b->failed = true;
        return;
    }
    dia_put_octets(b, code, flags, vendor, s, n);
}

void dia_put_req_str(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                     const char *s, size_t cap)
{
    if (s[0] == '\0')
        b->failed = true;
    else
        dia_put_bounded_str(b, code, flags, vendor, s, cap);
}

void dia_put_opt_str(dia_builder_t *b, uint32_t code, uint8_t flags, uint32_t vendor,
                     const char *s, size_t cap)
{
    if (s[0] != '\0')
        dia_put_bounded_str(b, code, flags, vendor, s, cap);
}

bool dia_build_count_ok(dia_builder_t *b, int n, int max)
{
    if (n >= 0 && n <= max)
        return true;
    b->failed = true;
    return false;
}
