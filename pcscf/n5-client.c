/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * N5 Npcf_PolicyAuthorization client and notification server (n5-client.h).
 * Each operation is an op_t holding its whole request (target, path, body),
 * on one of two lists: sent (an HTTP/2 request in flight) or waiting (for the
 * NRF's answer, FIFO). The caller holds our handle, not the HTTP/2 request
 * id, because a create may wait first and may be sent again (to the next PCF
 * the NRF named) when a PCF refuses the connection. The op is unlinked before
 * the caller's callback runs, so the callback may start or cancel others.
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
#include "pcscf/n5-nrf.h"

#define DEFAULT_TIMEOUT_MS 2000u
#define ADDR_MAX 64
#define MAX_SBI_HDRS 4
#define PATH_MAX_LEN (PCSCF_N5_REF_MAX + 8)     /* a name's path, "/delete" */
#define RES_URI_MAX 1024
/* A create refused by every PCF listed, then by the first after a new discovery. */
#define MAX_ATTEMPTS (PCSCF_N5_NRF_MAX_PCF + 1)
#define API_SESSIONS PCSCF_N5_API "/app-sessions"

/* The longest name made with the NRF fits what the caller keeps. */
_Static_assert(sizeof("https://") + SBI_H2_AUTHORITY_MAX + PCSCF_N5_NRF_PREFIX_MAX +
               sizeof(API_SESSIONS "/") + PCSCF_N5_ID_MAX <= PCSCF_N5_REF_MAX,
               "PCSCF_N5_REF_MAX too small for a resource URI");

typedef enum op_kind { OP_CREATE, OP_UPDATE, OP_DELETE } op_kind_t;

static const struct {
    const char *name, *method, *ctype, *op;     /* op: for the SBI statistics */
} kinds[] = {
    [OP_CREATE] = { "create", "POST", "application/json", "POST app-sessions" },
    [OP_UPDATE] = { "update", "PATCH", "application/merge-patch+json",
                    "PATCH app-sessions/{id}" },
    [OP_DELETE] = { "delete", "POST", NULL, "POST app-sessions/{id}/delete" },
};

typedef struct op op_t;
struct op {
    op_t *prev, *next;
    pcscf_n5_t *n5;
    op_kind_t kind;
    uint64_t handle;                    /* ours: what the caller holds */
    uint64_t h2id;                      /* the HTTP/2 request in flight; 0 while waiting */
    uint64_t gen;                       /* waiting: for the discovery answer number gen */
    unsigned attempts;
    bool tls;                           /* which of the two HTTP/2 clients carries it */
    bool nrf;                           /* its PCF came from the NRF */
    pcscf_n5_cb cb;
    void *arg;
    char authority[SBI_H2_AUTHORITY_MAX];
    char path[PATH_MAX_LEN];
    char *body;                         /* NUL-terminated; NULL: none */
    char id[PCSCF_N5_REF_MAX];          /* update/delete: the session's name */
};

typedef struct op_list {
    op_t *head, *tail;
    size_t n;
} op_list_t;

struct pcscf_n5 {
    ims_loop_t *loop;
    sbi_h2_client_t *h2[2];             /* [tls]: http, https */
    sbi_h2_server_t *notif;
    pcscf_n5_nrf_t *nrf;                /* NULL: pcf / scp configured */
    char pcf[ADDR_MAX], scp[ADDR_MAX];
    char dnn[64], af_app_id[128], supp_feat[32];
    char notif_uri[256];
    const char *notif_path;             /* in notif_uri */
    uint32_t timeout_ms;
    bool tls;
    bool closing;
    pcscf_n5_terminate_cb term;
    void *term_arg;
    op_list_t sent, waiting;
    uint64_t next_handle;
    uint64_t gen;                       /* discovery answers seen */
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

int pcscf_n5_parse_resource(const char *uri, char *ref, size_t cap)
{
    static const char key[] = "/app-sessions/";
    char auth[SBI_H2_AUTHORITY_MAX], id[PCSCF_N5_ID_MAX];
    const char *a, *path, *end;
    size_t n;

    if (!uri || (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0))
        return IMS_ERROR;
    a = uri + (uri[4] == 's' ? 8 : 7);
    path = strchr(a, '/');
    n = path ? (size_t)(path - a) : 0;
    if (n == 0 || n >= sizeof(auth))
        return IMS_ERROR;
    memcpy(auth, a, n);
    auth[n] = '\0';
    if (!sbi_h2_authority_ok(auth) || pcscf_n5_parse_location(path, id, sizeof(id)) != IMS_OK)
        return IMS_ERROR;
    end = strstr(path, key) + sizeof(key) - 1 + strlen(id);
    for (const char *p = path; p < end; p++)
        if (*p != '/' && !uri_safe((unsigned char)*p))
            return IMS_ERROR;
    n = (size_t)(end - uri);
    if (n >= cap)
        return IMS_ERROR;
    memcpy(ref, uri, n);
    ref[n] = '\0';
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

/* TerminationInfo's resUri (whole, or IMS_ERROR) and termCause. */
static int termination_of(const char *body, size_t len, char *res, size_t rcap, char *cause,
                          size_t ccap)
{
    json_t *o = len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *r = json_string_value(json_object_get(o, "resUri"));
    int rc = IMS_ERROR;

    if (json_is_object(o) && r && strlen(r) < rcap && get_str(o, "termCause", cause, ccap)) {
        memcpy(res, r, strlen(r) + 1);
        rc = IMS_OK;
    }
    json_decref(o);
    return rc;
}

int pcscf_n5_parse_termination(const char *body, size_t len, char *id, size_t idcap,
                               char *cause, size_t ccap)
{
    char res[RES_URI_MAX];

    if (termination_of(body, len, res, sizeof(res), cause, ccap) != IMS_OK)
        return IMS_ERROR;
    return pcscf_n5_parse_location(res, id, idcap);
}

/* ---- operations ---- */

static void list_push(op_list_t *l, op_t *op)
{
    op->next = NULL;
    op->prev = l->tail;
    if (l->tail)
        l->tail->next = op;
    else
        l->head = op;
    l->tail = op;
    l->n++;
}

static void list_unlink(op_list_t *l, op_t *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        l->head = op->next;
    if (op->next)
        op->next->prev = op->prev;
    else
        l->tail = op->prev;
    op->prev = op->next = NULL;
    l->n--;
}

static bool status_ok(op_kind_t kind, int status)
{
    if (kind == OP_CREATE)
        return status == 201 || status == 303;
    return status == 200 || status == 204;
}

/* A created session's name: its id, or with the NRF its resource URI at the PCF we used. */
static int created_name(const op_t *op, const sbi_h2_msg_t *m, char *name, size_t cap)
{
    char id[PCSCF_N5_ID_MAX];
    int n;

    if (pcscf_n5_parse_location(sbi_h2_msg_header(m, "location"), id, sizeof(id)) != IMS_OK)
        return IMS_ERROR;
    n = op->nrf ? snprintf(name, cap, "%s://%s%s/%s", op->tls ? "https" : "http", op->authority,
                           op->path, id)
                : snprintf(name, cap, "%s", id);
    return n > 0 && (size_t)n < cap ? IMS_OK : IMS_ERROR;   /* fits: the _Static_assert */
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
        created_name(op, m, res->app_session_id, sizeof(res->app_session_id)) != IMS_OK) {
        res->status = PCSCF_N5_REJECTED;
        snprintf(res->cause, sizeof(res->cause), "no app session id in Location");
        return;
    }
    res->status = PCSCF_N5_OK;
}

/* Tell the caller (op already unlinked) and free op. */
static void op_done(op_t *op, const pcscf_n5_result_t *res)
{
    if (res->status != PCSCF_N5_OK)
        IMS_INFO("n5: %s%s%s%s%s: %s %d %s", kinds[op->kind].name, op->id[0] ? " " : "",
                 op->id, op->authority[0] ? " at " : "", op->authority,
                 res->status == PCSCF_N5_REJECTED ? "rejected" : "failed", res->http_status,
                 res->cause);
    op->cb(op->arg, res);
    free(op->body);
    free(op);
}

static void op_fail(op_t *op, const char *cause)
{
    pcscf_n5_result_t res = { .status = PCSCF_N5_UNREACHABLE };

    snprintf(res.app_session_id, sizeof(res.app_session_id), "%s", op->id);
    snprintf(res.cause, sizeof(res.cause), "%s", cause);
    op_done(op, &res);
}

static bool create_dispatch(pcscf_n5_t *n5, op_t *op);

static bool lost_pcf(sbi_h2_err_t err)
{
    return err == SBI_H2_ERR_CONNECT || err == SBI_H2_ERR_RESET || err == SBI_H2_ERR_CLOSED;
}

static void on_h2_resp(void *arg, sbi_h2_err_t err, const sbi_h2_msg_t *m)
{
    op_t *op = arg;
    pcscf_n5_t *n5 = op->n5;
    pcscf_n5_result_t res;

    list_unlink(&n5->sent, op);
    op->h2id = 0;
    if (op->nrf && n5->nrf && lost_pcf(err)) {
        pcscf_n5_nrf_failed(n5->nrf, op->authority);
        /* a refused connection carried nothing: the create may go to the next PCF */
        if (err == SBI_H2_ERR_CONNECT && op->kind == OP_CREATE && !n5->closing &&
            ++op->attempts < MAX_ATTEMPTS && create_dispatch(n5, op))
            return;
    }
    result_of(op, err, m, &res);
    op_done(op, &res);
}

/* Send op's request; false (op untouched, not linked) when the client refuses it. */
static bool op_send(pcscf_n5_t *n5, op_t *op)
{
    char apiroot[ADDR_MAX + 9];
    sbi_h2_hdr_t hdrs[MAX_SBI_HDRS];
    int nh = 0;
    sbi_h2_request_t q = {
        .method = kinds[op->kind].method, .authority = op->authority, .path = op->path,
        .content_type = op->body ? kinds[op->kind].ctype : NULL, .body = op->body,
        .body_len = op->body ? strlen(op->body) : 0, .hdrs = hdrs,
        .timeout_ms = n5->timeout_ms, .op = kinds[op->kind].op,
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
    if (!n5->h2[op->tls] && op->nrf)
        n5->h2[op->tls] = sbi_h2_client_new(n5->loop, &(sbi_h2_client_cfg_t){ .tls = op->tls });
    op->h2id = n5->h2[op->tls] ? sbi_h2_client_request(n5->h2[op->tls], &q, on_h2_resp, op) : 0;
    if (!op->h2id)
        return false;
    list_push(&n5->sent, op);
    return true;
}

/* A create to the configured PCF (or SCP), or to the NRF's pick, waiting for
 * the NRF when it is being asked. false: it cannot go (op not linked). */
static bool create_dispatch(pcscf_n5_t *n5, op_t *op)
{
    pcscf_n5_pcf_t pcf;
    int rc;

    if (!n5->nrf)
        return op_send(n5, op);
    rc = pcscf_n5_nrf_pick(n5->nrf, &pcf);
    if (rc == IMS_AGAIN) {
        op->gen = n5->gen;
        list_push(&n5->waiting, op);
        return true;
    }
    if (rc != IMS_OK)
        return false;
    op->nrf = true;
    op->tls = pcf.tls;
    snprintf(op->authority, sizeof(op->authority), "%s", pcf.authority);
    snprintf(op->path, sizeof(op->path), "%s" API_SESSIONS, pcf.prefix);
    return op_send(n5, op);
}

/* The NRF answered (or failed): the creates that waited for it go now, or fail.
 * Those queued from here on (again AGAIN) wait for the next answer. */
static void on_nrf_ready(void *arg, bool found)
{
    pcscf_n5_t *n5 = arg;
    uint64_t gen = n5->gen++;
    op_t *op;

    (void)found;
    while ((op = n5->waiting.head) && op->gen <= gen) {
        list_unlink(&n5->waiting, op);
        if (n5->closing || !create_dispatch(n5, op))
            op_fail(op, "no PCF from the NRF");
    }
}

static op_t *op_new(pcscf_n5_t *n5, op_kind_t kind, const char *id, pcscf_n5_cb cb, void *arg)
{
    op_t *op = calloc(1, sizeof(*op));

    if (!op)
        abort();
    op->n5 = n5;
    op->kind = kind;
    op->cb = cb;
    op->arg = arg;
    op->handle = ++n5->next_handle;
    op->tls = n5->tls;
    snprintf(op->authority, sizeof(op->authority), "%s", n5->scp[0] ? n5->scp : n5->pcf);
    snprintf(op->id, sizeof(op->id), "%s", id ? id : "");
    return op;
}

/* Start op (body: its JSON, dumped; NULL none): its handle, or 0 (op freed). */
static uint64_t op_start(pcscf_n5_t *n5, op_t *op, json_t *body)
{
    op->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if ((!body || op->body) && (op->kind == OP_CREATE ? create_dispatch(n5, op)
                                                      : op_send(n5, op)))
        return op->handle;
    free(op->body);
    free(op);
    return 0;
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
    if (app->preliminary)   /* FINAL, the default, goes unsaid (TS 29.514 §5.6.2.3) */
        json_object_set_new(d, "servInfStatus", json_string("PRELIMINARY"));
    return d;
}

uint64_t pcscf_n5_create(pcscf_n5_t *n5, const pcscf_n5_app_t *app, pcscf_n5_cb cb, void *arg)
{
    json_t *body;
    op_t *op;
    uint64_t h;

    if (!cb || n5->closing || !json_is_object(app->med_components) ||
        !((app->ue_ipv4 && app->ue_ipv4[0]) || (app->ue_ipv6 && app->ue_ipv6[0])))
        return 0;
    if (!n5->notif_uri[0]) {
        IMS_WARN("n5: no notifUri (notif_listen or notif_uri): the PCF would refuse the create");
        return 0;
    }
    op = op_new(n5, OP_CREATE, NULL, cb, arg);
    snprintf(op->path, sizeof(op->path), API_SESSIONS);
    body = json_pack("{s:o}", "ascReqData", asc_req_data(n5, app));
    h = op_start(n5, op, body);
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

/* Where an update or delete of the session called name goes: the configured
 * PCF, or the one its resource URI names. false for a name create never gives. */
static bool op_target(pcscf_n5_t *n5, op_t *op, const char *name, const char *suffix)
{
    char ref[PCSCF_N5_REF_MAX];
    const char *a, *path;

    if (!n5->nrf) {
        if (!id_ok(name))
            return false;
        snprintf(op->path, sizeof(op->path), API_SESSIONS "/%s%s", name, suffix);
        return true;
    }
    if (!name || pcscf_n5_parse_resource(name, ref, sizeof(ref)) != IMS_OK ||
        strcmp(ref, name) != 0)
        return false;
    op->nrf = true;
    op->tls = name[4] == 's';
    a = name + (op->tls ? 8 : 7);
    path = strchr(a, '/');
    snprintf(op->authority, sizeof(op->authority), "%.*s", (int)(path - a), a);
    snprintf(op->path, sizeof(op->path), "%s%s", path, suffix);
    return true;
}

uint64_t pcscf_n5_update(pcscf_n5_t *n5, const char *id, json_t *med_components,
                         bool preliminary, pcscf_n5_cb cb, void *arg)
{
    json_t *body;
    op_t *op;
    uint64_t h;

    if (!cb || n5->closing || !json_is_object(med_components))
        return 0;
    op = op_new(n5, OP_UPDATE, id, cb, arg);
    if (!op_target(n5, op, id, "")) {
        free(op);
        return 0;
    }
    body = json_pack("{s:{s:O,s:s}}", "ascReqData", "medComponents", med_components,
                     "servInfStatus", preliminary ? "PRELIMINARY" : "FINAL");
    h = op_start(n5, op, body);
    json_decref(body);
    return h;
}

uint64_t pcscf_n5_delete(pcscf_n5_t *n5, const char *id, pcscf_n5_cb cb, void *arg)
{
    op_t *op;

    if (!cb || n5->closing)
        return 0;
    op = op_new(n5, OP_DELETE, id, cb, arg);
    if (!op_target(n5, op, id, "/delete")) {
        free(op);
        return 0;
    }
    return op_start(n5, op, NULL);
}

void pcscf_n5_cancel(pcscf_n5_t *n5, uint64_t handle)
{
    op_list_t *lists[] = { &n5->sent, &n5->waiting };

    for (size_t i = 0; i < IMS_ARRAY_LEN(lists); i++) {
        for (op_t *op = lists[i]->head; op; op = op->next) {
            if (op->handle != handle)
                continue;
            if (op->h2id)
                sbi_h2_client_cancel(n5->h2[op->tls], op->h2id);
            list_unlink(lists[i], op);
            free(op->body);
            free(op);
            return;
        }
    }
}

/* ---- notifications from the PCF ---- */

/* The terminated session's name, as create gave it, from the resUri. */
static int terminated_name(const pcscf_n5_t *n5, const char *res, char *name, size_t cap)
{
    if (pcscf_n5_parse_location(res, name, cap) != IMS_OK)
        return IMS_ERROR;
    if (n5->nrf && pcscf_n5_parse_resource(res, name, cap) != IMS_OK)
        IMS_NOTICE("n5: resUri %s is not at a numeric address: matched by its id only", res);
    return IMS_OK;
}

static void on_notif(void *arg, const sbi_h2_msg_t *req, sbi_h2_answer_t *ans)
{
    pcscf_n5_t *n5 = arg;
    const char *what = req->path + strlen(n5->notif_path);
    char res[RES_URI_MAX], name[PCSCF_N5_REF_MAX], cause[PCSCF_N5_CAUSE_MAX];

    if (strcmp(what, "/terminate") == 0) {
        if (termination_of(req->body, req->body_len, res, sizeof(res), cause,
                           sizeof(cause)) != IMS_OK ||
            terminated_name(n5, res, name, sizeof(name)) != IMS_OK) {
            sbi_h2_answer_problem(ans, 400, "INVALID_MSG_FORMAT", "TerminationInfo");
            return;
        }
        ans->status = 204;
        IMS_NOTICE("n5: PCF terminated app session %s (%s)", name, cause);
        if (n5->term)
            n5->term(n5->term_arg, name, cause);
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
    static const char *const names[] = { "pcf", "scp", "nrf", "nf_instance_id", "notif_listen",
                                         "notif_uri", "dnn", "af_app_id", "supp_feat", "tls_ca",
                                         "notif_tls_cert", "notif_tls_key" };
    const char **fields[] = { &cfg->pcf, &cfg->scp, &cfg->nrf, &cfg->nf_instance_id,
                              &cfg->notif_listen, &cfg->notif_uri, &cfg->dnn, &cfg->af_app_id,
                              &cfg->supp_feat, &cfg->tls_ca, &cfg->notif_tls_cert,
                              &cfg->notif_tls_key };
    char key[128];
    long long v = cfg->timeout_ms, validity = cfg->nrf_validity_s;

    for (size_t i = 0; i < IMS_ARRAY_LEN(names); i++) {
        snprintf(key, sizeof(key), "%s.%s", section, names[i]);
        if (ims_conf_str(conf, key, false, fields[i]) == IMS_ERROR)
            return IMS_ERROR;
    }
    snprintf(key, sizeof(key), "%s.timeout_ms", section);
    if (ims_conf_int(conf, key, false, 1, 600000, &v) == IMS_ERROR)
        return IMS_ERROR;
    snprintf(key, sizeof(key), "%s.nrf_validity_s", section);
    if (ims_conf_int(conf, key, false, 1, PCSCF_N5_NRF_VALIDITY_MAX, &validity) == IMS_ERROR)
        return IMS_ERROR;
    snprintf(key, sizeof(key), "%s.tls", section);
    if (ims_conf_bool(conf, key, false, &cfg->tls) == IMS_ERROR)
        return IMS_ERROR;
    cfg->timeout_ms = (uint32_t)v;
    cfg->nrf_validity_s = (uint32_t)validity;
    if (!cfg->pcf && !cfg->scp && !cfg->nrf) {
        snprintf(key, sizeof(key), "%s.pcf", section);
        return ims_conf_str(conf, key, true, &cfg->pcf);   /* the error names the key */
    }
    return IMS_OK;
}

/* Where requests go, checked: one of pcf / scp (numeric), or nrf alone. */
static bool targets_ok(const pcscf_n5_cfg_t *cfg)
{
    if (cfg->nrf && (cfg->pcf || cfg->scp)) {
        IMS_ERR("n5: nrf (discovery) and pcf / scp exclude each other");
        return false;
    }
    if (cfg->nrf)
        return true;                        /* pcscf_n5_nrf_new checks it */
    if (!cfg->pcf && !cfg->scp) {
        IMS_ERR("n5: no PCF address (nor SCP, nor NRF) configured");
        return false;
    }
    if ((cfg->pcf && !sbi_h2_authority_ok(cfg->pcf)) ||
        (cfg->scp && !sbi_h2_authority_ok(cfg->scp))) {
        IMS_ERR("n5: PCF / SCP address must be IP:PORT or [IPv6]:PORT");
        return false;
    }
    return true;
}

/* The HTTP/2 clients: the configured scheme's; with the NRF (each PCF's
 * scheme comes from its profile) http's, and https's now when a CA is set
 * (its file is checked at start), else when an https PCF turns up
 * (client_of); then the NRF's discovery client. */
static int clients_setup(pcscf_n5_t *n5, const pcscf_n5_cfg_t *cfg)
{
    for (int tls = 0; tls < 2; tls++) {
        if (cfg->nrf ? tls && !cfg->tls_ca : (bool)tls != cfg->tls)
            continue;
        n5->h2[tls] = sbi_h2_client_new(n5->loop, &(sbi_h2_client_cfg_t){
                                                     .tls = tls, .tls_ca = cfg->tls_ca });
        if (!n5->h2[tls])
            return IMS_ERROR;
    }
    if (!cfg->nrf)
        return IMS_OK;
    n5->nrf = pcscf_n5_nrf_new(n5->loop, &(pcscf_n5_nrf_cfg_t){
                                   .nrf = cfg->nrf, .requester_id = cfg->nf_instance_id,
                                   .timeout_ms = n5->timeout_ms,
                                   .validity_s = cfg->nrf_validity_s, .tls_ca = cfg->tls_ca },
                               on_nrf_ready, n5);
    return n5->nrf ? IMS_OK : IMS_ERROR;
}

pcscf_n5_t *pcscf_n5_new(ims_loop_t *loop, const pcscf_n5_cfg_t *cfg,
                         pcscf_n5_terminate_cb term, void *arg)
{
    pcscf_n5_t *n5;

    if (!targets_ok(cfg))
        return NULL;
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
    n5->tls = cfg->tls && !cfg->nrf;
    if (clients_setup(n5, cfg) != IMS_OK || notif_setup(n5, cfg) != IMS_OK) {
        pcscf_n5_free(n5);
        return NULL;
    }
    return n5;
}

void pcscf_n5_free(pcscf_n5_t *n5)
{
    op_t *op;

    if (!n5)
        return;
    n5->closing = true;             /* the callbacks below start nothing new */
    for (int tls = 0; tls < 2; tls++)
        sbi_h2_client_free(n5->h2[tls]);   /* runs the pending callbacks (UNREACHABLE) */
    while ((op = n5->waiting.head)) {
        list_unlink(&n5->waiting, op);
        op_fail(op, sbi_h2_err_name(SBI_H2_ERR_SHUTDOWN));
    }
    pcscf_n5_nrf_free(n5->nrf);
    sbi_h2_server_free(n5->notif);
    free(n5);
}

const char *pcscf_n5_notif_uri(const pcscf_n5_t *n5)
{
    return n5->notif_uri;
}

size_t pcscf_n5_pending(const pcscf_n5_t *n5)
{
    return n5->sent.n + n5->waiting.n;
}

struct pcscf_n5_nrf *pcscf_n5_nrf_of(const pcscf_n5_t *n5)
{
    return n5->nrf;
}
