/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/dialog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/core/slab.h"
#include "common/sip/txn.h"
#include "pcscf/headers.h"

/* The record's strings, in this order, then the routes toward the caller
 * (nroute[0]) and toward the callee (nroute[1]). */
enum { S_KEY, S_CID, S_TAG0, S_TAG1, S_IMPU, S_FROM, S_TO, S_TGT0, S_TGT1, S_ROUTES };

typedef struct blob {
    char buf[PCSCF_DLG_MAX_BYTES];
    size_t len;
    bool over;
} blob_t;

static void put(blob_t *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (b->over || b->len + n + 1 > sizeof(b->buf)) {
        b->over = true;
        return;
    }
    if (n)
        memcpy(b->buf + b->len, s, n);
    b->buf[b->len + n] = '\0';
    b->len += n + 1;
}

/* put() a string libosip2 printed (rc its return code), then free it. */
static void put_osip(blob_t *b, int rc, char *s)
{
    if (rc != 0 || !s)
        b->over = true;
    else
        put(b, s);
    osip_free(s);
}

static const char *dlg_str(const pcscf_dialog_t *d, size_t i)
{
    const char *s = d->strs;

    while (i--)
        s += strlen(s) + 1;
    return s;
}

const char *pcscf_dialog_call_id(const pcscf_dialog_t *d) { return dlg_str(d, S_CID); }
const char *pcscf_dialog_impu(const pcscf_dialog_t *d) { return dlg_str(d, S_IMPU); }

const char *pcscf_dialog_tag(const pcscf_dialog_t *d, int side)
{
    return dlg_str(d, side == PCSCF_DLG_CALLER ? S_TAG0 : S_TAG1);
}

const char *pcscf_dialog_target(const pcscf_dialog_t *d, int side)
{
    return dlg_str(d, side == PCSCF_DLG_CALLER ? S_TGT0 : S_TGT1);
}

const char *pcscf_dialog_route(const pcscf_dialog_t *d, int side, size_t i)
{
    if (i >= d->nroute[side != PCSCF_DLG_CALLER])
        return NULL;
    return dlg_str(d, S_ROUTES + (side == PCSCF_DLG_CALLER ? 0 : d->nroute[0]) + i);
}

size_t pcscf_dialog_count(const pcscf_ctx_t *ctx)
{
    return ctx->dialogs ? ims_hash_count(ctx->dialogs) : 0;
}

/* "dir|Call-ID|tag", or NULL when it does not fit (no snprintf: every message). */
static const char *make_key(char *buf, size_t len, int dir, const char *cid, const char *tag)
{
    size_t c = strlen(cid), t = strlen(tag);

    if (c + t + 5 > len)
        return NULL;
    buf[0] = dir == PCSCF_DLG_TERM ? 't' : 'o';
    buf[1] = '|';
    memcpy(buf + 2, cid, c);
    buf[2 + c] = '|';
    memcpy(buf + 3 + c, tag, t + 1);
    return buf;
}

pcscf_dialog_t *pcscf_dialog_get(const pcscf_ctx_t *ctx, pcscf_dlg_dir_t dir,
                                 const char *call_id, const char *caller_tag)
{
    char key[PCSCF_DLG_MAX_BYTES];

    if (!ctx->dialogs || !call_id || !caller_tag ||
        !make_key(key, sizeof(key), dir, call_id, caller_tag))
        return NULL;
    return ims_hash_find(ctx->dialogs, key);
}

pcscf_dialog_t *pcscf_dialog_find(const pcscf_ctx_t *ctx, const char *call_id, const char *tag1,
                                  const char *tag2)
{
    static const struct { int dir, first; } tries[] = { { 0, 1 }, { 1, 1 }, { 0, 0 }, { 1, 0 } };

    for (size_t i = 0; i < IMS_ARRAY_LEN(tries); i++) {
        pcscf_dialog_t *d = pcscf_dialog_get(ctx, (pcscf_dlg_dir_t)tries[i].dir, call_id,
                                             tries[i].first ? tag1 : tag2);
        const char *other = tries[i].first ? tag2 : tag1;

        /* An early record may not know the callee's tag yet. */
        if (d && (!other || !*pcscf_dialog_tag(d, PCSCF_DLG_CALLEE) ||
                  strcmp(other, pcscf_dialog_tag(d, PCSCF_DLG_CALLEE)) == 0))
            return d;
    }
    return NULL;
}

bool pcscf_dialog_known(const pcscf_ctx_t *ctx, const sip_msg_t *req)
{
    return pcscf_dialog_find(ctx, sip_msg_call_id(req), sip_msg_from_tag(req),
                             sip_msg_to_tag(req)) != NULL;
}

/* ---- the table ---- */

static void unlink_ue(pcscf_dialog_t *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else if (d->ue)
        d->ue->dialogs = d->next;
    if (d->next)
        d->next->prev = d->prev;
    d->prev = d->next = NULL;
}

static void dialog_free(pcscf_dialog_t *d)
{
    if (d->ctx->loop)
        ims_timer_stop(d->ctx->loop, &d->timer);
    unlink_ue(d);
    ims_store_free(d->strs);
    ims_store_free(d);
}

void pcscf_dialog_remove(pcscf_dialog_t *d)
{
    pcscf_ctx_t *ctx = d->ctx;

    ims_hash_remove(ctx->dialogs, dlg_str(d, S_KEY));
    /* Its policy session goes with it (STR); d is no longer found meanwhile. */
    if (ctx->policy_hooks)
        ctx->policy_hooks->dialog_gone(ctx, dlg_str(d, S_KEY));
    dialog_free(d);
}

const char *pcscf_dialog_key(const pcscf_dialog_t *d) { return dlg_str(d, S_KEY); }

pcscf_dialog_t *pcscf_dialog_by_key(const pcscf_ctx_t *ctx, const char *key)
{
    return ctx->dialogs && key ? ims_hash_find(ctx->dialogs, key) : NULL;
}

static void ue_gone(pcscf_ctx_t *ctx, pcscf_ue_t *ue)
{
    pcscf_dialogs_release(ctx, ue, "De-registered");
}

static void free_one(void *arg, const char *key, void *value)
{
    dialog_free(value);
}

static void free_all(pcscf_ctx_t *ctx)
{
    IMS_NOTICE("P-CSCF dialogs: %zu active at stop; %llu early, %llu confirmed, %llu ended,"
               " %llu released (%llu BYEs sent), %llu requests from unregistered sources refused",
               pcscf_dialog_count(ctx), (unsigned long long)ctx->stats.dialogs_early,
               (unsigned long long)ctx->stats.dialogs_confirmed,
               (unsigned long long)ctx->stats.dialogs_ended,
               (unsigned long long)ctx->stats.dialogs_released,
               (unsigned long long)ctx->stats.byes_sent,
               (unsigned long long)ctx->stats.unregistered_refused);
    if (!ctx->dialogs)
        return;
    ims_hash_foreach(ctx->dialogs, free_one, NULL);
    ims_hash_free(ctx->dialogs);
    ctx->dialogs = NULL;
}

static ims_hash_t *table(pcscf_ctx_t *ctx)
{
    if (!ctx->dialogs) {
        if (!(ctx->dialogs = ims_hash_new(1024)))
            abort();
        ims_hash_set_store(ctx->dialogs);
        ctx->ue_gone_hook = ue_gone;
        ctx->free_hook = free_all;
    }
    return ctx->dialogs;
}

void pcscf_dialogs_init(pcscf_ctx_t *ctx)
{
    (void)table(ctx);
}

static void on_timer(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    pcscf_dialog_t *d = arg;

    IMS_INFO("dialog %s of %s given up (%s)", pcscf_dialog_call_id(d), pcscf_dialog_impu(d),
             d->state == PCSCF_DLG_EARLY ? "never answered" : "BYE unanswered");
    d->ctx->stats.dialogs_ended++;
    pcscf_dialog_remove(d);
}

static void arm(pcscf_dialog_t *d, uint64_t ms)
{
    if (d->ctx->loop)
        ims_timer_start(d->ctx->loop, &d->timer, ms, on_timer, d);
}

/* ---- records from the INVITE's responses ---- */

/* Record-Route of resp: [0, *top) lie toward the callee, [*low, n) toward the
 * caller (those the request brought); ours (one, or two when double
 * record-routing) sit between. */
static void rr_split(sip_proxy_t *px, const sip_msg_t *req, const sip_msg_t *resp, int *top,
                     int *low)
{
    const osip_list_t *rrs = sip_msg_record_routes(resp);
    int n = osip_list_size(rrs);
    int up = osip_list_size(sip_msg_record_routes(req));
    int i, k = 0;

    if (up > n)
        up = n;
    *low = n - up;
    for (i = *low - 1; k < 2 && i >= 0; i--, k++) {
        const osip_record_route_t *rr = osip_list_get(rrs, i);

        if (!rr || !rr->url || !px || !sip_proxy_uri_is_local(px, rr->url))
            break;
    }
    *top = i + 1;
}

static void put_contact(blob_t *b, const sip_msg_t *m)
{
    const osip_contact_t *c = osip_list_get(&m->m->contacts, 0);
    char *s = NULL;
    int rc;

    if (!c || !c->url) {
        put(b, "");
        return;
    }
    rc = sip_uri_to_str(c->url, &s) == IMS_OK ? 0 : -1;
    put_osip(b, rc, s);
}

static void put_rr(blob_t *b, const sip_msg_t *resp, int i)
{
    osip_record_route_t *rr = osip_list_get(sip_msg_record_routes(resp), i);
    char *s = NULL;

    if (!rr) {
        b->over = true;
    } else {
        int rc = sip_name_addr_to_str(rr, &s) == IMS_OK ? 0 : -1;

        put_osip(b, rc, s);
    }
}

/* Fill b with the strings of a record for req/resp; the route counts into nroute. */
static void fill(blob_t *b, const char *key, const pcscf_ue_t *ue, sip_proxy_t *px,
                 const sip_msg_t *req, const sip_msg_t *resp, uint8_t nroute[2])
{
    int top, low, rc, n = osip_list_size(sip_msg_record_routes(resp));
    char *s = NULL;

    rr_split(px, req, resp, &top, &low);
    if (n - low > PCSCF_DLG_MAX_ROUTES || top > PCSCF_DLG_MAX_ROUTES) {
        b->over = true;
        return;
    }
    put(b, key);
    put(b, sip_msg_call_id(req));
    put(b, sip_msg_from_tag(req));
    put(b, sip_msg_to_tag(resp));
    put(b, pcscf_ue_impu(ue, 0));
    rc = sip_name_addr_to_str(req->m->from, &s) == IMS_OK ? 0 : -1;
    put_osip(b, rc, s);
    s = NULL;
    rc = sip_name_addr_to_str(resp->m->to, &s) == IMS_OK ? 0 : -1;
    put_osip(b, rc, s);
    put_contact(b, req);
    put_contact(b, resp);
    for (int i = low; i < n; i++)
        put_rr(b, resp, i);         /* toward the caller: nearest first */
    for (int i = top - 1; i >= 0; i--)
        put_rr(b, resp, i);         /* toward the callee: nearest first */
    nroute[0] = (uint8_t)(n - low);
    nroute[1] = (uint8_t)top;
}

static pcscf_dialog_t *record_new(pcscf_ctx_t *ctx, const char *key, int dir, pcscf_ue_t *ue,
                                  const sip_rcv_t *ue_rcv, const sip_msg_t *req)
{
    pcscf_dialog_t *d = ims_store_calloc(1, sizeof(*d));

    if (!d)
        abort();
    d->ctx = ctx;
    d->ue = ue;
    ims_timer_init(&d->timer);
    d->created_ms = ims_clock_now_ms();
    d->dir = (uint8_t)dir;
    d->cseq[PCSCF_DLG_CALLER] = sip_msg_cseq_num(req);
    d->ue_dst = (sip_dest_t){ .proto = ue_rcv->proto, .addr = ue_rcv->remote,
                              .conn_id = ue_rcv->conn_id };
    if (ims_hash_insert(table(ctx), key, d) != IMS_OK)
        abort();
    d->next = ue->dialogs;
    if (d->next)
        d->next->prev = d;
    ue->dialogs = d;
    ctx->stats.dialogs_early++;
    return d;
}

/* Create or update the record of one leg on a 1xx (tag) or 2xx to the INVITE. */
static void upsert(pcscf_ctx_t *ctx, sip_proxy_t *px, int dir, pcscf_ue_t *ue,
                   const sip_rcv_t *ue_rcv, const sip_msg_t *req, const sip_msg_t *resp)
{
    bool confirm = sip_msg_status(resp) >= 200;
    pcscf_dialog_t *d = pcscf_dialog_get(ctx, dir, sip_msg_call_id(req), sip_msg_from_tag(req));
    char key[PCSCF_DLG_MAX_BYTES];
    uint8_t nroute[2] = { 0, 0 };
    blob_t *b;

    if (d && (d->state != PCSCF_DLG_EARLY || !confirm))
        return;  /* known already (forked: the first dialog of each kind is kept) */
    if (!make_key(key, sizeof(key), dir, sip_msg_call_id(req), sip_msg_from_tag(req)))
        return;
    if (!(b = calloc(1, sizeof(*b))))
        abort();
    fill(b, key, ue, px, req, resp, nroute);
    if (b->over) {
        IMS_WARN("dialog %s of %s not kept: too many routes or too long", sip_msg_call_id(req),
                 pcscf_ue_impu(ue, 0));
        free(b);
        return;
    }
    if (!d)
        d = record_new(ctx, key, dir, ue, ue_rcv, req);
    ims_store_free(d->strs);
    if (!(d->strs = ims_store_alloc(b->len)))
        abort();
    memcpy(d->strs, b->buf, b->len);
    free(b);
    d->nroute[0] = nroute[0];
    d->nroute[1] = nroute[1];
    d->state = confirm ? PCSCF_DLG_CONFIRMED : PCSCF_DLG_EARLY;
    if (confirm) {
        if (ctx->loop)
            ims_timer_stop(ctx->loop, &d->timer);
        ctx->stats.dialogs_confirmed++;
    } else {
        arm(d, PCSCF_DLG_EARLY_MS);
    }
    IMS_INFO("dialog %s (%s, %s) %s (%zu dialogs)", pcscf_dialog_call_id(d),
             dir == PCSCF_DLG_TERM ? "terminating" : "originating", pcscf_dialog_impu(d),
             confirm ? "confirmed" : "early", pcscf_dialog_count(ctx));
}

/* The registered UE a message came from, or NULL. */
static pcscf_ue_t *ue_at(const pcscf_ctx_t *ctx, const sip_rcv_t *rcv)
{
    char key[PCSCF_KEY_LEN];

    return pcscf_ue_find_addr(ctx, pcscf_addr_key(rcv, key, sizeof(key)));
}

static void ended(pcscf_dialog_t *d, const char *why)
{
    pcscf_ctx_t *ctx = d->ctx;

    ctx->stats.dialogs_ended++;
    IMS_INFO("dialog %s (%s, %s) ended: %s (%zu dialogs)", pcscf_dialog_call_id(d),
             d->dir == PCSCF_DLG_TERM ? "terminating" : "originating", pcscf_dialog_impu(d), why,
             pcscf_dialog_count(ctx) - 1);
    pcscf_dialog_remove(d);
}

/*
 * The legs an in-dialog message with these tags belongs to (at most one per
 * direction): a request from a UE is the caller's when its From tag is the
 * caller's ("o"), the callee's otherwise ("t"); from the network the reverse.
 */
static size_t legs(const pcscf_ctx_t *ctx, const char *cid, const char *ftag, const char *ttag,
                   bool from_ue, pcscf_dialog_t *out[2])
{
    size_t n = 0;

    if ((out[n] = pcscf_dialog_get(ctx, PCSCF_DLG_ORIG, cid, from_ue ? ftag : ttag)) != NULL)
        n++;
    if ((out[n] = pcscf_dialog_get(ctx, PCSCF_DLG_TERM, cid, from_ue ? ttag : ftag)) != NULL)
        n++;
    return n;
}

static void invite_response(pcscf_ctx_t *ctx, sip_proxy_t *px, const sip_msg_t *req,
                            const sip_msg_t *resp, int code)
{
    pcscf_ue_t *ue;

    if (!req || sip_msg_to_tag(req) || !sip_msg_from_tag(req) || code <= 100)
        return;  /* re-INVITEs change no record */
    if (code < 300) {
        if (code < 200 && !sip_msg_to_tag(resp))
            return;
        if ((ue = ue_at(ctx, &req->rcv)) != NULL)
            upsert(ctx, px, PCSCF_DLG_ORIG, ue, &req->rcv, req, resp);
        if ((ue = ue_at(ctx, &resp->rcv)) != NULL)
            upsert(ctx, px, PCSCF_DLG_TERM, ue, &resp->rcv, req, resp);
        return;
    }
    for (int dir = PCSCF_DLG_ORIG; dir <= PCSCF_DLG_TERM; dir++) {
        pcscf_dialog_t *d = pcscf_dialog_get(ctx, (pcscf_dlg_dir_t)dir, sip_msg_call_id(req),
                                             sip_msg_from_tag(req));

        if (d && d->state == PCSCF_DLG_EARLY)
            ended(d, "INVITE failed");
    }
}

/* A final response to BYE: the leg is gone whatever the code (RFC 3261 §15.1.2). */
static void bye_response(pcscf_ctx_t *ctx, const sip_msg_t *req, const sip_msg_t *resp)
{
    const char *cid = sip_msg_call_id(resp), *ftag = sip_msg_from_tag(resp);
    const char *ttag = sip_msg_to_tag(resp);
    pcscf_dialog_t *d[2];
    size_t n;

    if (req) {
        n = legs(ctx, cid, sip_msg_from_tag(req), sip_msg_to_tag(req),
                 ue_at(ctx, &req->rcv) != NULL, d);
        for (size_t i = 0; i < n; i++)
            ended(d[i], "BYE");
        return;
    }
    /* A late response (its request gone): whichever leg its BYE put in ENDING. */
    for (int i = 0; i < 4; i++) {
        pcscf_dialog_t *x = pcscf_dialog_get(ctx, (pcscf_dlg_dir_t)(i & 1), cid,
                                             i < 2 ? ftag : ttag);

        if (x && x->state == PCSCF_DLG_ENDING)
            ended(x, "BYE");
    }
}

void pcscf_dialog_on_response(pcscf_ctx_t *ctx, sip_proxy_t *px, const sip_msg_t *req,
                              const sip_msg_t *resp)
{
    const char *m = sip_msg_cseq_method(resp);
    int code = sip_msg_status(resp);

    if (!m)
        return;
    if (strcmp(m, "INVITE") == 0)
        invite_response(ctx, px, req, resp, code);
    else if (strcmp(m, "BYE") == 0 && code >= 200 && ctx->dialogs)
        bye_response(ctx, req, resp);
}

void pcscf_dialog_on_request(pcscf_ctx_t *ctx, const sip_msg_t *req, bool from_ue)
{
    const char *cid = sip_msg_call_id(req), *ftag = sip_msg_from_tag(req);
    const char *ttag = sip_msg_to_tag(req);
    bool bye = strcmp(sip_msg_method(req), "BYE") == 0;
    pcscf_dialog_t *d[2];
    size_t n;

    if (!ctx->dialogs || !ttag || !ftag)
        return;
    n = legs(ctx, cid, ftag, ttag, from_ue, d);
    for (size_t i = 0; i < n; i++) {
        int side = strcmp(ftag, pcscf_dialog_tag(d[i], PCSCF_DLG_CALLER)) == 0
                       ? PCSCF_DLG_CALLER : PCSCF_DLG_CALLEE;
        uint32_t cseq = sip_msg_cseq_num(req);

        if (cseq > d[i]->cseq[side])
            d[i]->cseq[side] = cseq;
        if (bye && d[i]->state != PCSCF_DLG_ENDING) {
            d[i]->state = PCSCF_DLG_ENDING;
            arm(d[i], PCSCF_DLG_ENDING_MS);
        }
    }
}

/* ---- release ---- */

size_t pcscf_dialogs_of_ue(pcscf_ctx_t *ctx, pcscf_ue_t *ue, pcscf_dialog_cb cb, void *arg)
{
    size_t n = 0;

    for (pcscf_dialog_t *d = ue->dialogs, *next; d; d = next, n++) {
        next = d->next;
        cb(arg, d);
    }
    return n;
}

/* A request of method toward side of d, speaking as the other side: its
 * identity and CSeq (cseq 0: its next one); with a Reason header unless why
 * is NULL. */
static sip_msg_t *dialog_req(const pcscf_dialog_t *d, int side, const char *method,
                             uint32_t cseq, int cause, const char *why)
{
    bool to_callee = side == PCSCF_DLG_CALLEE;
    const char *target = pcscf_dialog_target(d, side), *route;
    char reason[160];
    sip_msg_t *req;

    if (!*target || d->state == PCSCF_DLG_EARLY)
        return NULL;
    if (!cseq)
        cseq = d->cseq[to_callee ? PCSCF_DLG_CALLER : PCSCF_DLG_CALLEE] + 1;
    req = sip_msg_new_request(method, target, dlg_str(d, to_callee ? S_FROM : S_TO),
                              dlg_str(d, to_callee ? S_TO : S_FROM), pcscf_dialog_call_id(d),
                              cseq);
    if (!req)
        return NULL;
    for (size_t i = 0; (route = pcscf_dialog_route(d, side, i)) != NULL; i++)
        if (osip_message_set_route(req->m, route) != 0)
            goto bad;
    if (why) {
        snprintf(reason, sizeof(reason), "SIP;cause=%d;text=\"%s\"", cause, why);
        if (sip_msg_header_add(req, "Reason", reason) != IMS_OK)
            goto bad;
    }
    return req;
bad:
    sip_msg_free(req);
    return NULL;
}

sip_msg_t *pcscf_dialog_bye(const pcscf_dialog_t *d, int side, const char *why)
{
    return dialog_req(d, side, "BYE", 0, 503, why ? why : "Released");
}

static void on_bye_response(void *arg, sip_txn_t *ct, sip_msg_t *resp, sip_txn_err_t err)
{
    int code = resp ? sip_msg_status(resp) : (err == SIP_TXN_TIMEOUT ? 408 : 503);

    if (code >= 200)
        IMS_INFO("released call %s: %d to our BYE", resp ? sip_msg_call_id(resp) : "?", code);
    sip_msg_free(resp);
}

/* An ACK for a 2xx is a transaction of its own that nobody answers (RFC 3261
 * §13.2.2.4): sent once, statelessly, with a Via of ours. */
static bool send_ack(pcscf_ctx_t *ctx, sip_msg_t *ack, const sip_dest_t *dst)
{
    static const char *const proto[] = { "UDP", "TCP", "TLS" };
    sip_transport_t *tp = sip_txn_layer_transport(sip_proxy_layer(ctx->px));
    char hp[80], branch[25], via[160];
    sip_addr_t a = dst->local;
    bool ok;

    if (a.ss.ss_family == 0 &&
        sip_transport_local(tp, dst->proto, dst->addr.ss.ss_family, &a) != IMS_OK) {
        sip_msg_free(ack);
        return false;
    }
    sip_random_token(branch, 24);
    snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=z9hG4bK%s", proto[dst->proto % 3],
             sip_addr_str(&a, hp, sizeof(hp)), branch);
    ok = osip_message_set_via(ack->m, via) == 0 &&
         sip_transport_send_msg(tp, dst, ack) == IMS_OK;
    sip_msg_free(ack);
    return ok;
}

/* Send method toward side of d (see dialog_req); a BYE on a client transaction. */
static bool send_req(pcscf_dialog_t *d, int side, const char *method, uint32_t cseq,
                     int cause, const char *why)
{
    pcscf_ctx_t *ctx = d->ctx;
    int ue_side = d->dir == PCSCF_DLG_ORIG ? PCSCF_DLG_CALLER : PCSCF_DLG_CALLEE;
    const char *route = pcscf_dialog_route(d, side, 0);
    sip_dest_t dst = d->ue_dst;
    sip_msg_t *req;

    if (!ctx->px)
        return false;
    if (side != ue_side &&
        pcscf_resolve_text(ctx->px, route ? route : pcscf_dialog_target(d, side), &dst) != IMS_OK) {
        IMS_WARN("dialog %s: cannot resolve %s: no %s", pcscf_dialog_call_id(d),
                 route ? route : pcscf_dialog_target(d, side), method);
        return false;
    }
    if (!(req = dialog_req(d, side, method, cseq, cause, why)))
        return false;
    if (strcmp(method, "ACK") == 0)
        return send_ack(ctx, req, &dst);
    if (!sip_txn_client_start(sip_proxy_layer(ctx->px), req, &dst, NULL, on_bye_response, ctx))
        return false;
    ctx->stats.byes_sent++;
    return true;
}

static bool send_bye(pcscf_dialog_t *d, int side, const char *why)
{
    return send_req(d, side, "BYE", 0, 503, why ? why : "Released");
}

bool pcscf_dialog_send(pcscf_dialog_t *d, int side, const char *method, uint32_t cseq,
                       int cause, const char *why)
{
    return send_req(d, side, method, cseq, cause, why);
}

size_t pcscf_dialog_release(pcscf_dialog_t *d, const char *why)
{
    pcscf_ctx_t *ctx = d->ctx;
    int n = 0;

    if (d->state == PCSCF_DLG_CONFIRMED) {
        n += send_bye(d, PCSCF_DLG_CALLER, why);
        n += send_bye(d, PCSCF_DLG_CALLEE, why);
    }
    ctx->stats.dialogs_released++;
    IMS_INFO("dialog %s (%s) released: %s, %d BYEs sent (%zu dialogs)",
             pcscf_dialog_call_id(d), pcscf_dialog_impu(d), why, n,
             pcscf_dialog_count(ctx) - 1);
    pcscf_dialog_remove(d);
    return (size_t)n;
}

size_t pcscf_dialogs_release(pcscf_ctx_t *ctx, pcscf_ue_t *ue, const char *why)
{
    size_t sent = 0;

    while (ue->dialogs)
        sent += pcscf_dialog_release(ue->dialogs, why);
    return sent;
}
