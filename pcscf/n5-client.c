/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * N5 Npcf_PolicyAuthorization client and notification server (n5-client.h).
 * Each operation is an op_t on a list, found again by its HTTP/2 request id
 * (the handle the caller holds); the HTTP/2 client calls back once per
 * request, and the op is unlinked before the caller's callback runs, so the
 * callback may start or cancel other operations.
 */
#include "pcscf/n5-client.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/conf.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "diameter/sbi/h2_client.h"
#include "diameter/sbi/h2_server.h"

#define DEFAULT_TIMEOUT_MS 2000u
#define ADDR_MAX 64
#define MAX_SBI_HDRS 4

typedef enum op_kind { OP_CREATE, OP_UPDATE, OP_DELETE } op_kind_t;

typedef struct op op_t;
struct op {
    op_t *prev, *next;
    pcscf_n5_t *n5;
    op_kind_t kind;
    uint64_t handle;                    /* the HTTP/2 request id */
    pcscf_n5_cb cb;
    void *arg;
    char id[PCSCF_N5_ID_MAX];           /* update/delete: the app session */
};

struct pcscf_n5 {
    ims_loop_t *loop;
    sbi_h2_client_t *h2;
    sbi_h2_server_t *notif;
    char pcf[ADDR_MAX], scp[ADDR_MAX];
    char dnn[64], af_app_id[128], supp_feat[32];
    char notif_uri[256];
    const char *notif_path;             /* in notif_uri */
    uint32_t timeout_ms;
    bool tls;
    pcscf_n5_terminate_cb term;
    void *term_arg;
    op_t *ops;
    size_t nops;
};

/* ---- parsing what the PCF sends ---- */

static bool uri_safe(int c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
}

int pcscf_n5_parse_location(const char *uri, char *id, size_t cap)
{
    static const char key[] = "/app-sessions/";
    const char *p = uri ? strstr(uri, key) : NULL;
    size_t n = 0;

    if (!p || cap == 0)
        return IMS_ERROR;
    p += sizeof(key) - 1;
    while (p[n] && p[n] != '/' && p[n] != '?' && p[n] != '#') {
        if (!uri_safe((unsigned char)p[n]) || n + 1 >= cap)
            return IMS_ERROR;
        n++;
    }
    if (n == 0)
        return IMS_ERROR;
    memcpy(id, p, n);
    id[n] = '\0';
    return IMS_OK;
}

/* A string member of o copied into buf; false when absent or not a string. */
static bool get_str(json_t *o, const char *key, char *buf, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, key));

    if (!s)
        return false;
    snprintf(buf, cap, "%s", s);
    return true;
}

void pcscf_n5_parse_problem(const char *body, size_t len, char *cause, size_t cap)
{
    json_t *o = len ? json_loadb(body, len, 0, NULL) : NULL;

    if (cap)
        cause[0] = '\0';
    if (json_is_object(o) && cap && !get_str(o, "cause", cause, cap) &&
        !get_str(o, "detail", cause, cap))
        get_str(o, "title", cause, cap);
    json_decref(o);
}

int pcscf_n5_parse_termination(const char *body, size_t len, char *id, size_t idcap,
                               char *cause, size_t ccap)
{
    json_t *o = len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *res = json_string_value(json_object_get(o, "resUri"));
    int rc = IMS_ERROR;

    if (json_is_object(o) && res && pcscf_n5_parse_location(res, id, idcap) == IMS_OK &&
        get_str(o, "termCause", cause, ccap))
        rc = IMS_OK;
    json_decref(o);
    return rc;
}

/* ---- operations ---- */

static void op_unlink(op_t *op)
{
    pcscf_n5_t *n5 = op->n5;

    if (op->prev)
        op->prev->next = op->next;
    else
        n5->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    n5->nops--;
}

static bool status_ok(op_kind_t kind, int status)
{
    if (kind == OP_CREATE)
        return status == 201 || status == 303;
    return status == 200 || status == 204;
}

static void result_of(const op_t *op, sbi_h2_err_t err, const sbi_h2_msg_t *m,
                      pcscf_n5_result_t *res)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->app_session_id, sizeof(res->app_session_id), "%s", op->id);
    if (err != SBI_H2_OK) {
        res->status = err == SBI_H2_ERR_TIMEOUT ? PCSCF_N5_TIMEOUT : PCSCF_N5_UNREACHABLE;
        snprintf(res->cause, sizeof(res->cause), "%s", sbi_h2_err_name(err));
        return;
    }
    res->http_status = m->status;
    if (!status_ok(op->kind, m->status)) {
        res->status = PCSCF_N5_REJECTED;
        pcscf_n5_parse_problem(m->body, m->body_len, res->cause, sizeof(res->cause));
        return;
    }
    if (op->kind == OP_CREATE &&
        pcscf_n5_parse_location(sbi_h2_msg_header(m, "location"), res->app_session_id,
                                sizeof(res->app_session_id)) != IMS_OK) {
        res->status = PCSCF_N5_REJECTED;
        snprintf(res->cause, sizeof(res->cause), "no app session id in Location");
        return;
    }
    res->status = PCSCF_N5_OK;
}

static void on_h2_resp(void *arg, sbi_h2_err_t err, const sbi_h2_msg_t *m)
{
    op_t *op = arg;
    pcscf_n5_result_t res;

    op_unlink(op);
    result_of(op, err, m, &res);
    if (res.status != PCSCF_N5_OK)
        IMS_INFO("n5: %s %s: %s %d %s", op->kind == OP_CREATE ? "create" :
                 op->kind == OP_UPDATE ? "update" : "delete", op->id,
                 res.status == PCSCF_N5_REJECTED ? "rejected" : "failed", res.http_status,
                 res.cause);
    op->cb(op->arg, &res);
    free(op);
}

/* Send one request for op; the op is linked when it went out. */
static uint64_t op_send(pcscf_n5_t *n5, op_t *op, const char *method, const char *path,
                        const char *ctype, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    char apiroot[ADDR_MAX + 9];
    sbi_h2_hdr_t hdrs[MAX_SBI_HDRS];
    int nh = 0;
    sbi_h2_request_t q = {
        .method = method, .authority = n5->scp[0] ? n5->scp : n5->pcf, .path = path,
        .content_type = ctype, .body = text, .body_len = text ? strlen(text) : 0,
        .hdrs = hdrs, .timeout_ms = n5->timeout_ms,
    };

    if (n5->scp[0] && n5->pcf[0]) {
        snprintf(apiroot, sizeof(apiroot), "%s://%s", n5->tls ? "https" : "http", n5->pcf);
        hdrs[nh++] = (sbi_h2_hdr_t){ "3gpp-sbi-target-apiroot", apiroot };
    }
    if (n5->scp[0]) {
        hdrs[nh++] = (sbi_h2_hdr_t){ "3gpp-sbi-discovery-target-nf-type", "PCF" };
        hdrs[nh++] = (sbi_h2_hdr_t){ "3gpp-sbi-discovery-requester-nf-type", "AF" };
        hdrs[nh++] = (sbi_h2_hdr_t){ "3gpp-sbi-discovery-service-names",
                                     "npcf-policyauthorization" };
    }
    q.nhdrs = nh;
    op->n5 = n5;
    op->handle = (body && !text) ? 0 : sbi_h2_client_request(n5->h2, &q, on_h2_resp, op);
    free(text);
    if (!op->handle) {
        free(op);
        return 0;
    }
    op->next = n5->ops;
    if (n5->ops)
        n5->ops->prev = op;
    n5->ops = op;
    n5->nops++;
    return op->handle;
}

static op_t *op_new(op_kind_t kind, const char *id, pcscf_n5_cb cb, void *arg)
{
    op_t *op = calloc(1, sizeof(*op));

    if (!op)
        abort();
    op->kind = kind;
    op->cb = cb;
    op->arg = arg;
    snprintf(op->id, sizeof(op->id), "%s", id ? id : "");
    return op;
}

/* "msisdn-<digits>" from tel:+<digits> or sip:+<digits>@...;user=phone; false otherwise. */
static bool gpsi_of(const char *impu, char *out, size_t cap)
{
    const char *p;
    size_t n = 0;

    if (!impu)
        return false;
    if (strncmp(impu, "tel:", 4) == 0)
        p = impu + 4;
    else if (strncmp(impu, "sip:", 4) == 0 && strstr(impu, "user=phone"))
        p = impu + 4;
    else
        return false;
    if (*p == '+')
        p++;
    while (isdigit((unsigned char)p[n]))
        n++;
    if (n == 0 || n + 8 > cap)
        return false;
    snprintf(out, cap, "msisdn-%.*s", (int)n, p);
    return true;
}

static json_t *asc_req_data(const pcscf_n5_t *n5, const pcscf_n5_app_t *app)
{
    json_t *d = json_object(), *ev;
    char gpsi[40];

    json_object_set_new(d, "afAppId", json_string(n5->af_app_id));
    json_object_set_new(d, "dnn", json_string(n5->dnn));
    if (app->ue_ipv4 && app->ue_ipv4[0])
        json_object_set_new(d, "ueIpv4", json_string(app->ue_ipv4));
    if (app->ue_ipv6 && app->ue_ipv6[0])
        json_object_set_new(d, "ueIpv6", json_string(app->ue_ipv6));
    if (gpsi_of(app->impu, gpsi, sizeof(gpsi)))
        json_object_set_new(d, "gpsi", json_string(gpsi));
    if (app->af_charg_id && app->af_charg_id[0])
        json_object_set_new(d, "afChargId", json_string(app->af_charg_id));
    json_object_set_new(d, "suppFeat", json_string(n5->supp_feat));
    json_object_set_new(d, "notifUri", json_string(n5->notif_uri));
    ev = json_pack("{s:[{s:s},{s:s}], s:s}", "events", "event", "FAILED_RESOURCES_ALLOCATION",
                   "event", "SUCCESSFUL_RESOURCES_ALLOCATION", "notifUri", n5->notif_uri);
    json_object_set_new(d, "evSubsc", ev);
    json_object_set(d, "medComponents", app->med_components);
    return d;
}

uint64_t pcscf_n5_create(pcscf_n5_t *n5, const pcscf_n5_app_t *app, pcscf_n5_cb cb, void *arg)
{
    json_t *body;
    uint64_t h;

    if (!cb || !json_is_object(app->med_components) ||
        !((app->ue_ipv4 && app->ue_ipv4[0]) || (app->ue_ipv6 && app->ue_ipv6[0])))
        return 0;
    if (!n5->notif_uri[0]) {
        IMS_WARN("n5: no notifUri (notif_listen or notif_uri): the PCF would refuse the create");
        return 0;
    }
    body = json_pack("{s:o}", "ascReqData", asc_req_data(n5, app));
    h = op_send(n5, op_new(OP_CREATE, NULL, cb, arg), "POST", PCSCF_N5_API "/app-sessions",
                "application/json", body);
    json_decref(body);
    return h;
}

static bool id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n >= PCSCF_N5_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!uri_safe((unsigned char)id[i]))
            return false;
    return true;
}

uint64_t pcscf_n5_update(pcscf_n5_t *n5, const char *id, json_t *med_components,
                         pcscf_n5_cb cb, void *arg)
{
    char path[64 + PCSCF_N5_ID_MAX];
    json_t *body;
    uint64_t h;

    if (!cb || !id_ok(id) || !json_is_object(med_components))
        return 0;
    snprintf(path, sizeof(path), PCSCF_N5_API "/app-sessions/%s", id);
    body = json_pack("{s:{s:O}}", "ascReqData", "medComponents", med_components);
    h = op_send(n5, op_new(OP_UPDATE, id, cb, arg), "PATCH", path,
                "application/merge-patch+json", body);
    json_decref(body);
    return h;
}

uint64_t pcscf_n5_delete(pcscf_n5_t *n5, const char *id, pcscf_n5_cb cb, void *arg)
{
    char path[64 + PCSCF_N5_ID_MAX];

    if (!cb || !id_ok(id))
        return 0;
    snprintf(path, sizeof(path), PCSCF_N5_API "/app-sessions/%s/delete", id);
    return op_send(n5, op_new(OP_DELETE, id, cb, arg), "POST", path, NULL, NULL);
}

void pcscf_n5_cancel(pcscf_n5_t *n5, uint64_t handle)
{
    for (op_t *op = n5->ops; op; op = op->next) {
        if (op->handle == handle) {
            sbi_h2_client_cancel(n5->h2, handle);
            op_unlink(op);
            free(op);
            return;
        }
    }
}

/* ---- notifications from the PCF ---- */

static void on_notif(void *arg, const sbi_h2_msg_t *req, sbi_h2_answer_t *ans)
{
    pcscf_n5_t *n5 = arg;
    const char *what = req->path + strlen(n5->notif_path);
    char id[PCSCF_N5_ID_MAX], cause[PCSCF_N5_CAUSE_MAX];

    if (strcmp(what, "/terminate") == 0) {
        if (pcscf_n5_parse_termination(req->body, req->body_len, id, sizeof(id), cause,
                                       sizeof(cause)) != IMS_OK) {
            sbi_h2_answer_problem(ans, 400, "INVALID_MSG_FORMAT", "TerminationInfo");
            return;
        }
        ans->status = 204;
        IMS_NOTICE("n5: PCF terminated app session %s (%s)", id, cause);
        if (n5->term)
            n5->term(n5->term_arg, id, cause);
    } else if (strcmp(what, "/notify") == 0) {
        ans->status = 204;
        IMS_INFO("n5: event notification: %.*s", (int)(req->body_len > 200 ? 200 :
                 req->body_len), req->body);
    } else {
        sbi_h2_answer_problem(ans, 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND", req->path);
    }
}

/* notif_uri from the config or the server's address; notif_path points into it. */
static int notif_setup(pcscf_n5_t *n5, const pcscf_n5_cfg_t *cfg)
{
    bool tls = cfg->notif_tls_cert && cfg->notif_tls_key;
    const char *p;

    if (cfg->notif_listen) {
        n5->notif = tls ? sbi_h2_server_new_tls(n5->loop, cfg->notif_listen, cfg->notif_tls_cert,
                                                cfg->notif_tls_key)
                        : sbi_h2_server_new(n5->loop, cfg->notif_listen);
        if (!n5->notif)
            return IMS_ERROR;
    }
    if (cfg->notif_uri) {
        snprintf(n5->notif_uri, sizeof(n5->notif_uri), "%s", cfg->notif_uri);
    } else if (cfg->notif_listen) {
        char host[ADDR_MAX];
        char *colon;

        snprintf(host, sizeof(host), "%s", cfg->notif_listen);
        colon = strrchr(host, ':');
        if (colon)
            *colon = '\0';
        snprintf(n5->notif_uri, sizeof(n5->notif_uri), "%s://%s:%u/pcscf/n5",
                 tls ? "https" : "http", host, sbi_h2_server_port(n5->notif));
    }
    p = strstr(n5->notif_uri, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    n5->notif_path = p ? p : "";
    if (n5->notif && sbi_h2_server_route(n5->notif, "POST", n5->notif_path[0] ?
                                         n5->notif_path : "/", on_notif, n5) != IMS_OK)
        return IMS_ERROR;
    return IMS_OK;
}

int pcscf_n5_cfg_from_conf(struct ims_conf *conf, const char *section, pcscf_n5_cfg_t *cfg)
{
    static const char *const names[] = { "pcf", "scp", "notif_listen", "notif_uri", "dnn",
                                         "af_app_id", "supp_feat", "tls_ca", "notif_tls_cert",
                                         "notif_tls_key" };
    const char **fields[] = { &cfg->pcf, &cfg->scp, &cfg->notif_listen, &cfg->notif_uri,
                              &cfg->dnn, &cfg->af_app_id, &cfg->supp_feat, &cfg->tls_ca,
                              &cfg->notif_tls_cert, &cfg->notif_tls_key };
    char key[128];
    long long v = cfg->timeout_ms;

    for (size_t i = 0; i < IMS_ARRAY_LEN(names); i++) {
        snprintf(key, sizeof(key), "%s.%s", section, names[i]);
        if (ims_conf_str(conf, key, false, fields[i]) == IMS_ERROR)
            return IMS_ERROR;
    }
    snprintf(key, sizeof(key), "%s.timeout_ms", section);
    if (ims_conf_int(conf, key, false, 1, 600000, &v) == IMS_ERROR)
        return IMS_ERROR;
    snprintf(key, sizeof(key), "%s.tls", section);
    if (ims_conf_bool(conf, key, false, &cfg->tls) == IMS_ERROR)
        return IMS_ERROR;
    cfg->timeout_ms = (uint32_t)v;
    if (!cfg->pcf && !cfg->scp) {
        snprintf(key, sizeof(key), "%s.pcf", section);
        return ims_conf_str(conf, key, true, &cfg->pcf);   /* the error names the key */
    }
    return IMS_OK;
}

pcscf_n5_t *pcscf_n5_new(ims_loop_t *loop, const pcscf_n5_cfg_t *cfg,
                         pcscf_n5_terminate_cb term, void *arg)
{
    pcscf_n5_t *n5;

    if (!cfg->pcf && !cfg->scp) {
        IMS_ERR("n5: no PCF address (nor SCP) configured");
        return NULL;
    }
    if ((cfg->pcf && !sbi_h2_authority_ok(cfg->pcf)) ||
        (cfg->scp && !sbi_h2_authority_ok(cfg->scp))) {
        IMS_ERR("n5: PCF / SCP address must be IP:PORT or [IPv6]:PORT");
        return NULL;
    }
    n5 = calloc(1, sizeof(*n5));
    if (!n5)
        abort();
    n5->loop = loop;
    n5->term = term;
    n5->term_arg = arg;
    snprintf(n5->pcf, sizeof(n5->pcf), "%s", cfg->pcf ? cfg->pcf : "");
    snprintf(n5->scp, sizeof(n5->scp), "%s", cfg->scp ? cfg->scp : "");
    snprintf(n5->dnn, sizeof(n5->dnn), "%s", cfg->dnn ? cfg->dnn : "ims");
    snprintf(n5->af_app_id, sizeof(n5->af_app_id), "%s",
             cfg->af_app_id ? cfg->af_app_id : PCSCF_N5_MMTEL_APP_ID);
    snprintf(n5->supp_feat, sizeof(n5->supp_feat), "%s", cfg->supp_feat ? cfg->supp_feat : "0");
    n5->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    n5->tls = cfg->tls;
    n5->h2 = sbi_h2_client_new(loop, &(sbi_h2_client_cfg_t){ .tls = cfg->tls,
                                                             .tls_ca = cfg->tls_ca });
    if (!n5->h2 || notif_setup(n5, cfg) != IMS_OK) {
        pcscf_n5_free(n5);
        return NULL;
    }
    return n5;
}

void pcscf_n5_free(pcscf_n5_t *n5)
{
    if (!n5)
        return;
    sbi_h2_client_free(n5->h2);   /* runs the pending callbacks (UNREACHABLE) */
    sbi_h2_server_free(n5->notif);
    free(n5);
}

const char *pcscf_n5_notif_uri(const pcscf_n5_t *n5)
{
    return n5->notif_uri;
}

size_t pcscf_n5_pending(const pcscf_n5_t *n5)
{
    return n5->nops;
}
