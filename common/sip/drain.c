/* SPDX-License-Identifier: BSD-2-Clause */
/* Graceful shutdown of a SIP node (drain.h). */
#include "common/sip/drain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"

struct sip_drain {
    sip_txn_layer_t *layer;
    ims_loop_t *loop;
    sip_drain_cfg_t cfg;
    sip_proxy_handler_t handler; /* ours, given to the proxy */
    sip_proxy_handler_t inner;   /* the application's */
    void *inner_arg;
    sip_drain_busy_cb busy;
    void *busy_arg;
    sip_drain_done_cb done;
    void *done_arg;
    sip_drain_state_t state;
    uint64_t started_ms;
    sip_drain_stats_t stats;
    ims_timer_t poll;     /* every SIP_DRAIN_POLL_MS: over yet? */
    ims_timer_t deadline; /* drain_ms */
};

bool sip_drain_refuses(const sip_msg_t *req)
{
    const char *tag = sip_msg_to_tag(req);
    const char *method = sip_msg_method(req);

    return (!tag || !tag[0]) && method && strcmp(method, "ACK") != 0;
}

/* 503 with Retry-After; the proxy's plain 503 when the response cannot be built. */
static void refuse(sip_drain_t *d, sip_proxy_req_t *pr, const sip_msg_t *req)
{
    sip_msg_t *r = sip_msg_make_response(req, 503, NULL, NULL);
    char v[16];

    d->stats.refused++;
    IMS_INFO("drain: %s refused with 503", sip_msg_method(req));
    if (!r) {
        sip_proxy_reply(pr, 503, NULL);
        return;
    }
    if (d->cfg.retry_after_s) {
        snprintf(v, sizeof(v), "%u", d->cfg.retry_after_s);
        sip_msg_header_add(r, "Retry-After", v);
    }
    sip_proxy_reply_msg(pr, r);
}

/* ---- the handler the proxy calls ---- */

static int on_request(void *arg, sip_proxy_req_t *pr, sip_msg_t *req)
{
    sip_drain_t *d = arg;

    if (d->state != SIP_DRAIN_ACCEPTING && sip_drain_refuses(req)) {
        refuse(d, pr, req);
        return IMS_OK;
    }
    return d->inner.on_request ? d->inner.on_request(d->inner_arg, pr, req) : IMS_DECLINED;
}

static void on_response(void *arg, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    sip_drain_t *d = arg;

    d->inner.on_response(d->inner_arg, pr, resp);
}

static int on_failure(void *arg, sip_proxy_req_t *pr, int code, bool replied)
{
    sip_drain_t *d = arg;

    return d->inner.on_failure(d->inner_arg, pr, code, replied);
}

static int on_ack(void *arg, sip_msg_t *ack)
{
    sip_drain_t *d = arg;

    return d->inner.on_ack(d->inner_arg, ack);
}

sip_drain_t *sip_drain_new(sip_txn_layer_t *layer, const sip_drain_cfg_t *cfg,
                           const sip_proxy_handler_t *inner, void *inner_arg)
{
    sip_drain_t *d = calloc(1, sizeof(*d));

    if (!d)
        abort();
    d->layer = layer;
    d->loop = sip_txn_layer_loop(layer);
    d->cfg = *cfg;
    if (inner)
        d->inner = *inner;
    d->inner_arg = inner_arg;
    /* Only the hooks the application has: the proxy core treats a missing hook
     * differently from one that declines (on_failure). */
    d->handler.on_request = on_request;
    d->handler.on_response = d->inner.on_response ? on_response : NULL;
    d->handler.on_failure = d->inner.on_failure ? on_failure : NULL;
    d->handler.on_ack = d->inner.on_ack ? on_ack : NULL;
    ims_timer_init(&d->poll);
    ims_timer_init(&d->deadline);
    return d;
}

void sip_drain_free(sip_drain_t *d)
{
    if (!d)
        return;
    ims_timer_stop(d->loop, &d->poll);
    ims_timer_stop(d->loop, &d->deadline);
    free(d);
}

const sip_proxy_handler_t *sip_drain_handler(const sip_drain_t *d)
{
    return &d->handler;
}

void sip_drain_set_busy(sip_drain_t *d, sip_drain_busy_cb cb, void *arg)
{
    d->busy = cb;
    d->busy_arg = arg;
}

/* ---- the wait ---- */

static size_t busy_count(const sip_drain_t *d)
{
    return d->busy ? d->busy(d->busy_arg) : 0;
}

static bool idle(const sip_drain_t *d)
{
    return sip_txn_layer_count(d->layer) == 0 && busy_count(d) == 0;
}

/* DRAINING -> OVER: timers stopped, what is left noted and logged (why: "" when
 * nothing was left to wait for). */
static void finish(sip_drain_t *d, const char *why)
{
    sip_drain_stats_t *s = &d->stats;

    ims_timer_stop(d->loop, &d->poll);
    ims_timer_stop(d->loop, &d->deadline);
    d->state = SIP_DRAIN_OVER;
    s->elapsed_ms = ims_clock_now_ms() - d->started_ms;
    s->txns_left = sip_txn_layer_count(d->layer);
    s->busy_left = busy_count(d);
    IMS_NOTICE("drain: over after %llu ms%s: %llu new requests refused with 503, "
               "%zu transactions and %zu dialogs left",
               (unsigned long long)s->elapsed_ms, why, (unsigned long long)s->refused, s->txns_left,
               s->busy_left);
}

static void over(sip_drain_t *d, bool timed_out)
{
    d->stats.timed_out = timed_out;
    finish(d, timed_out ? " (drain_ms reached)" : "");
    if (d->done)
        d->done(d->done_arg, &d->stats);
}

static void on_poll(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    sip_drain_t *d = arg;

    if (idle(d)) {
        over(d, false);
        return;
    }
    ims_timer_start(loop, t, SIP_DRAIN_POLL_MS, on_poll, d);
}

static void on_deadline(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    (void)loop;
    (void)t;
    over(arg, true);
}

int sip_drain_begin(sip_drain_t *d, sip_drain_done_cb done, void *arg)
{
    if (d->state != SIP_DRAIN_ACCEPTING)
        return IMS_ERROR;
    d->state = SIP_DRAIN_DRAINING;
    d->started_ms = ims_clock_now_ms();
    d->done = done;
    d->done_arg = arg;
    IMS_NOTICE("drain: refusing new requests with 503 (Retry-After %u s); waiting at most "
               "%u ms for %zu transactions and %zu dialogs",
               d->cfg.retry_after_s, d->cfg.drain_ms, sip_txn_layer_count(d->layer), busy_count(d));
    if (d->cfg.drain_ms == 0 || idle(d)) {
        finish(d, "");
        return IMS_DONE;
    }
    ims_timer_start(d->loop, &d->poll, SIP_DRAIN_POLL_MS, on_poll, d);
    ims_timer_start(d->loop, &d->deadline, d->cfg.drain_ms, on_deadline, d);
    return IMS_AGAIN;
}

void sip_drain_end(sip_drain_t *d)
{
    if (d->state == SIP_DRAIN_DRAINING)
        finish(d, " (cut short)");
}

sip_drain_state_t sip_drain_state(const sip_drain_t *d)
{
    return d->state;
}

const sip_drain_stats_t *sip_drain_stats(const sip_drain_t *d)
{
    return &d->stats;
}
