/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The base protocol's own messages (RFC 6733 §5.3-5.5): CER/CEA, DWR/DWA,
 * DPR/DPA, protocol-error answers, and reading what a CER/CEA advertises.
 *
 * M bits follow RFC 6733 §4.5: Product-Name, Firmware-Revision and
 * Error-Message must not carry it; everything else we send here must.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer_int.h"

static void put_identity(dia_builder_t *b, const dia_node_t *n)
{
    dia_put_str(b, DIA_AVP_ORIGIN_HOST, DIA_AVP_M, 0, n->cfg.origin_host);
    dia_put_str(b, DIA_AVP_ORIGIN_REALM, DIA_AVP_M, 0, n->cfg.origin_realm);
}

static bool vendor_seen(const dia_node_t *n, int upto, uint32_t vendor)
{
    for (int i = 0; i < upto; i++)
        if (n->cfg.apps[i].vendor_id == vendor)
            return true;
    return false;
}

/* The capabilities part of CER and CEA (§5.3.1/§5.3.2), after the identity. */
static void put_caps(dia_builder_t *b, const dia_conn_t *c)
{
    const dia_node_t *n = c->node;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    put_identity(b, n);
    memset(&ss, 0, sizeof(ss));
    if (getsockname(c->fd, (struct sockaddr *)&ss, &len) < 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        ss.ss_family = AF_INET;  /* 0.0.0.0: the AVP is mandatory */
    dia_put_address(b, DIA_AVP_HOST_IP_ADDRESS, DIA_AVP_M, 0, (struct sockaddr *)&ss);
    dia_put_u32(b, DIA_AVP_VENDOR_ID, DIA_AVP_M, 0, 0);
    dia_put_str(b, DIA_AVP_PRODUCT_NAME, 0, 0, n->cfg.product_name);
    dia_put_u32(b, DIA_AVP_ORIGIN_STATE_ID, DIA_AVP_M, 0, n->start_time);
    for (int i = 0; i < n->cfg.napps; i++) {
        uint32_t v = n->cfg.apps[i].vendor_id;

        if (v != 0 && !vendor_seen(n, i, v))
            dia_put_u32(b, DIA_AVP_SUPPORTED_VENDOR_ID, DIA_AVP_M, 0, v);
    }
    for (int i = 0; i < n->cfg.napps; i++) {
        const dia_app_t *a = &n->cfg.apps[i];

        if (a->vendor_id == 0) {
            dia_put_u32(b, DIA_AVP_AUTH_APPLICATION_ID, DIA_AVP_M, 0, a->app_id);
            continue;
        }
        dia_group_begin(b, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, DIA_AVP_M, 0);
        dia_put_u32(b, DIA_AVP_VENDOR_ID, DIA_AVP_M, 0, a->vendor_id);
        dia_put_u32(b, DIA_AVP_AUTH_APPLICATION_ID, DIA_AVP_M, 0, a->app_id);
        dia_group_end(b);
    }
}

/* Finish b, set the E bit for a protocol error, send on c. */
static void finish_send(dia_conn_t *c, dia_builder_t *b, uint32_t result)
{
    dia_msg_t *m = dia_build_finish(b);

    if (!m) {
        IMS_ERR("dia: %s: cannot build a base message", c->name);
        return;
    }
    if (result >= 3000 && result < 4000)
        dia_msg_set_flags(m, m->flags | DIA_FLAG_E);
    dia_conn_send(c, m);
    dia_msg_free(m);
}

void dia_base_send_cer(dia_conn_t *c)
{
    dia_builder_t b;

    dia_build_init(&b, DIA_FLAG_R, DIA_CMD_CER, DIA_APP_COMMON, dia_conn_hbh(c),
                   dia_next_e2e(c->node));
    put_caps(&b, c);
    finish_send(c, &b, 0);
}

void dia_base_send_cea(dia_conn_t *c, const dia_msg_t *cer, uint32_t result, const char *errmsg)
{
    dia_builder_t b;

    dia_build_answer(&b, cer);
    dia_put_u32(&b, DIA_AVP_RESULT_CODE, DIA_AVP_M, 0, result);
    put_caps(&b, c);
    if (errmsg)
        dia_put_str(&b, DIA_AVP_ERROR_MESSAGE, 0, 0, errmsg);
    finish_send(c, &b, result);
}

void dia_base_send_dwr(dia_conn_t *c)
{
    dia_builder_t b;

    dia_build_init(&b, DIA_FLAG_R, DIA_CMD_DWR, DIA_APP_COMMON, dia_conn_hbh(c),
                   dia_next_e2e(c->node));
    put_identity(&b, c->node);
    dia_put_u32(&b, DIA_AVP_ORIGIN_STATE_ID, DIA_AVP_M, 0, c->node->start_time);
    finish_send(c, &b, 0);
}

void dia_base_send_dpr(dia_conn_t *c, uint32_t cause)
{
    dia_builder_t b;

    dia_build_init(&b, DIA_FLAG_R, DIA_CMD_DPR, DIA_APP_COMMON, dia_conn_hbh(c),
                   dia_next_e2e(c->node));
    put_identity(&b, c->node);
    dia_put_u32(&b, DIA_AVP_DISCONNECT_CAUSE, DIA_AVP_M, 0, cause);
    finish_send(c, &b, 0);
}

void dia_base_answer(dia_conn_t *c, const dia_msg_t *req, uint32_t result, const dia_err_t *err)
{
    dia_builder_t b;

    dia_build_answer(&b, req);
    if (result)
        dia_put_u32(&b, DIA_AVP_RESULT_CODE, DIA_AVP_M, 0, result);
    put_identity(&b, c->node);
    if (err && err->what)
        dia_put_str(&b, DIA_AVP_ERROR_MESSAGE, 0, 0, err->what);
    if (err && err->failed.raw) {
        dia_group_begin(&b, DIA_AVP_FAILED_AVP, DIA_AVP_M, 0);
        dia_put_raw(&b, &err->failed);
        dia_group_end(&b);
    }
    finish_send(c, &b, result);
}

static void apps_add(dia_apps_t *out, uint32_t id)
{
    if (id == DIA_APP_RELAY)
        out->relay = true;
    for (int i = 0; i < out->n; i++)
        if (out->id[i] == id)
            return;
    if (out->n < DIA_PEER_APPS_MAX)
        out->id[out->n++] = id;
}

static void apps_add_avp(dia_apps_t *out, const dia_avp_t *a)
{
    uint32_t id;

    if (dia_avp_u32(a, &id) == IMS_OK)
        apps_add(out, id);
}

bool dia_base_read_apps(const dia_node_t *n, const dia_msg_t *m, dia_apps_t *out)
{
    dia_iter_t it;
    dia_avp_t a;

    memset(out, 0, sizeof(*out));
    dia_iter_msg(m, &it);
    while (dia_iter_next(&it, &a)) {
        if (a.vendor != 0)
            continue;
        if (a.code == DIA_AVP_AUTH_APPLICATION_ID || a.code == DIA_AVP_ACCT_APPLICATION_ID) {
            apps_add_avp(out, &a);
        } else if (a.code == DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID) {
            dia_avp_t in;

            if (dia_group_find(&a, DIA_AVP_AUTH_APPLICATION_ID, 0, &in))
                apps_add_avp(out, &in);
            if (dia_group_find(&a, DIA_AVP_ACCT_APPLICATION_ID, 0, &in))
                apps_add_avp(out, &in);
        }
    }
    if (out->relay)
        return true;
    for (int i = 0; i < out->n; i++)
        if (dia_node_has_app(n, out->id[i]))
            return true;
    return false;
}

bool dia_base_origin_host(const dia_msg_t *m, char *buf, size_t len)
{
    dia_avp_t a;

    buf[0] = '\0';
    if (!dia_msg_find(m, DIA_AVP_ORIGIN_HOST, 0, &a) || dia_avp_str(&a, buf, len) != IMS_OK) {
        buf[0] = '\0';
        return false;
    }
    return buf[0] != '\0';
}

void dia_base_log_msg(const char *dir, const dia_conn_t *c, const dia_msg_t *m)
{
    char txt[2048];

    if (ims_log_get_level() < IMS_LOG_DEBUG)
        return;
    dia_msg_dump(m, txt, sizeof(txt));
    IMS_DEBUG("dia: %s %s %s: %s", dir, dir[0] == 's' ? "to" : "from",
              c->peer ? c->peer->host : c->name, txt);
}
