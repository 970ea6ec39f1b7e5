/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Graceful shutdown of a SIP node: what SIGTERM starts when sip.drain_ms is set.
 *
 *   ACCEPTING --sip_drain_begin--> DRAINING --idle, or drain_ms over--> OVER
 *
 * A node that is going away must not take on work it cannot finish, and must not
 * abandon the work it took on. So while DRAINING (and OVER, until the node is gone):
 *
 *  - a request that would start something new here - any request without a To tag
 *    except ACK (INVITE, REGISTER, SUBSCRIBE, MESSAGE, OPTIONS, PUBLISH ... out of
 *    dialog) - is answered 503 Service Unavailable with Retry-After (RFC 3261
 *    §21.5.4): the UE or the peer tries another node (RFC 3263 §4.3) at once instead
 *    of timing out on one that will not be there to finish the call;
 *  - in-dialog requests (a To tag: ACK, BYE, re-INVITE, UPDATE, PRACK, INFO, NOTIFY,
 *    refreshing SUBSCRIBE), CANCEL and every response are served as before, so each
 *    call set up before the signal can still be released through us: a dialog that
 *    Record-Routed this node cannot go around it;
 *  - the drain is over when the transaction layer is empty (every transaction has
 *    had its final response and its retransmission-absorbing wait) and the
 *    application's busy count is 0 (the P-CSCF: its dialog records), checked every
 *    SIP_DRAIN_POLL_MS; or when drain_ms has passed, whatever is left.
 *
 * A proxy core that keeps no dialog state (the S-CSCF, the I-CSCF) cannot know when
 * the last call through it ends: over UDP it stays for drain_ms, since its BYE and
 * INVITE transactions linger 64*T1 after their final responses anyway. Choose
 * drain_ms longer than the calls that must survive a restart are expected to last
 * after it, and shorter than the grace period of whatever sends the signal.
 *
 * The drain sits between the proxy core and the application's handler: the node
 * gives the proxy sip_drain_handler() with the drain as its argument, and the drain
 * passes everything it does not refuse on to the application's own handler.
 * Everything runs on the node's loop.
 */
#ifndef SIP_DRAIN_H
#define SIP_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sip/proxy.h"
#include "common/sip/txn.h"

#define SIP_DRAIN_POLL_MS 100 /* how often a drain looks whether it is over */

typedef struct sip_drain sip_drain_t;

typedef struct sip_drain_cfg {
    uint32_t drain_ms;      /* longest drain; 0: none (sip_drain_begin is over at once) */
    uint32_t retry_after_s; /* Retry-After of the 503s; 0: no Retry-After header */
} sip_drain_cfg_t;

typedef enum sip_drain_state {
    SIP_DRAIN_ACCEPTING = 0, /* before sip_drain_begin: everything passes */
    SIP_DRAIN_DRAINING,      /* new requests refused, waiting for the rest to end */
    SIP_DRAIN_OVER           /* new requests still refused; nothing waited for any more */
} sip_drain_state_t;

typedef struct sip_drain_stats {
    uint64_t refused;    /* requests answered 503 */
    uint64_t elapsed_ms; /* from sip_drain_begin to OVER (0 before) */
    size_t txns_left;    /* live transactions when it was over */
    size_t busy_left;    /* the busy count when it was over */
    bool timed_out;      /* over because drain_ms passed */
} sip_drain_stats_t;

/* How many things the application still holds that the drain waits for (0: none). */
typedef size_t (*sip_drain_busy_cb)(void *arg);
/* The drain is over (called once, from a timer on the loop; never from begin). */
typedef void (*sip_drain_done_cb)(void *arg, const sip_drain_stats_t *stats);

/*
 * A drain for the node whose transactions live in layer, in front of the handler
 * inner (copied; NULL: the proxy core's default routing) with inner_arg as its
 * argument. cfg is copied. Never NULL (allocation failure aborts).
 */
sip_drain_t *sip_drain_new(sip_txn_layer_t *layer, const sip_drain_cfg_t *cfg,
                           const sip_proxy_handler_t *inner, void *inner_arg);
/* Stops its timers; no callback is called. NULL: no-op. The proxy that was given
 * sip_drain_handler(d) must be freed first. */
void sip_drain_free(sip_drain_t *d);

/* The handler to give sip_proxy_new, with d as its argument: it refuses new
 * requests while draining and hands the rest to inner. Valid as long as d; the
 * proxy copies it. Only the hooks inner has are set, so a proxy behaves as with
 * inner itself. */
const sip_proxy_handler_t *sip_drain_handler(const sip_drain_t *d);

/* What the drain waits for besides the transactions (cb NULL: nothing). */
void sip_drain_set_busy(sip_drain_t *d, sip_drain_busy_cb cb, void *arg);

/*
 * Start draining. IMS_DONE when it is over at once (drain_ms 0, or nothing to wait
 * for): done is not called. IMS_AGAIN when it waits: done(arg, stats) comes from the
 * loop when it is over. IMS_ERROR when it had begun already.
 */
int sip_drain_begin(sip_drain_t *d, sip_drain_done_cb done, void *arg);
/* Stop waiting now (e.g. a second signal): OVER, timers stopped, done not called.
 * New requests stay refused. No-op unless DRAINING. */
void sip_drain_end(sip_drain_t *d);

sip_drain_state_t sip_drain_state(const sip_drain_t *d);
/* Counters so far (txns_left, busy_left: as of the end, 0 before). */
const sip_drain_stats_t *sip_drain_stats(const sip_drain_t *d);

/* Whether req is one a draining node refuses: a request without a To tag, other
 * than ACK (CANCEL never reaches a proxy handler). */
bool sip_drain_refuses(const sip_msg_t *req);

#endif
