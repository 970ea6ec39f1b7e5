/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The stateful proxy core, RFC 3261 §16, on our transaction layer.
 *
 * For each request that creates a server transaction the core:
 *   §16.3  validates: Max-Forwards (483), loop detection (482), Proxy-Require (420);
 *   §16.2  answers 100 Trying at once for INVITE;
 *   §16.4  preprocesses routes: a Request-URI we put in a Record-Route is replaced
 *          (strict-router peers) and our own top Route entries are removed;
 *   then asks the handler (the CSCF logic) for targets, or routes by default:
 *          a remaining Route; else the configured next hop when the Request-URI is
 *          the proxy itself; else, outside a dialog (no To tag), the outbound
 *          proxy if one is configured; else the Request-URI;
 *   §16.6  forwards to every target in parallel: Max-Forwards decremented,
 *          Record-Route added (two entries when the request changes interface,
 *          RFC 5658), Via pushed with a branch carrying the loop-detection hash,
 *          next hop from the top Route or the target URI; Timer C per INVITE branch;
 *   §16.7  forwards provisionals (not 100) and every 2xx at once, cancels the other
 *          branches on a 2xx to INVITE or a 6xx, keeps the best of the rest and
 *          sends it when every branch has finished (503 becomes 500, timeouts 408,
 *          transport errors count as 503 per §16.9) - unless the handler's
 *          on_failure answers itself or forwards anew (§16.7 item 6 allows new
 *          branches; sip_proxy_set_reply_timeout gives up early on silent ones);
 *   §16.10 answers CANCEL and cancels the pending branches.
 * ACKs for 2xx and stray responses are forwarded statelessly (§16.11).
 *
 * A request the handler keeps waiting (e.g. on the HSS) is identified by an id
 * across that gap: sip_proxy_req_find(id) returns NULL once it has gone.
 */
#ifndef SIP_PROXY_H
#define SIP_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/sip/txn.h"

typedef struct sip_proxy sip_proxy_t;
typedef struct sip_proxy_req sip_proxy_req_t;

#define SIP_PROXY_MAX_BRANCHES 16
#define SIP_PROXY_MAX_HELD 8       /* responses queued behind a hold (sip_proxy_hold) */

#define SIP_PROXY_MAX_HOSTS 32
#define SIP_PROXY_MAX_ALIASES 8

/* A static name -> address entry (until DNS per RFC 3263 lands). port 0: from the URI. */
typedef struct sip_proxy_host {
    char name[128];
    char ip[64];
    uint16_t port;
} sip_proxy_host_t;

typedef struct sip_proxy_cfg {
    uint32_t timer_c_ms;     /* > 3 min per §16.6 item 11; default 180000 */
    bool record_route;       /* default true */
    bool has_next_hop;       /* next_hop is set */
    sip_dest_t next_hop;     /* for requests addressed to the proxy itself */
    bool has_outbound;       /* outbound is set */
    sip_dest_t outbound;     /* for other out-of-dialog requests without a Route */
    /* Option tags accepted in Proxy-Require (comma-separated), NULL: none. */
    const char *proxy_require_ok;
    /* Host names that mean this node (e.g. scscf.ims.mnc001.mcc001.3gppnetwork.org),
     * besides its listening addresses; a URI naming one with our port (or none) is ours. */
    char aliases[SIP_PROXY_MAX_ALIASES][128];
    int naliases;
    /* Static resolution of host names in Route and Request-URI. */
    sip_proxy_host_t hosts[SIP_PROXY_MAX_HOSTS];
    int nhosts;
} sip_proxy_cfg_t;

typedef struct sip_proxy_handler {
    /*
     * A request that passed §16.3/§16.4. Return IMS_DECLINED for default routing;
     * IMS_OK when the handler will call sip_proxy_forward/sip_proxy_reply (now or
     * later, using sip_proxy_req_id across the wait).
     */
    int (*on_request)(void *arg, sip_proxy_req_t *pr, sip_msg_t *req);
    /* A response about to be forwarded upstream (top Via already removed); the
     * handler may edit it. May be NULL. */
    void (*on_response)(void *arg, sip_proxy_req_t *pr, sip_msg_t *resp);
    /*
     * Every branch of the current round has failed (no 2xx; not after a CANCEL) and the
     * best response (code: a response's, or 408 timeout / 503 transport error) is about
     * to go upstream; replied tells whether any of those branches got a response at all
     * (even 100). Return IMS_DECLINED to let the core send it, or IMS_OK when the handler
     * answered (sip_proxy_reply) or forwarded anew: sip_proxy_add_target and
     * sip_proxy_forward now start a new round of branches (the old best is dropped).
     * E.g. an S-CSCF applying an iFC's DefaultHandling when the AS does not answer.
     * May be NULL.
     */
    int (*on_failure)(void *arg, sip_proxy_req_t *pr, int code, bool replied);
    /*
     * An ACK that no server transaction absorbed (the ACK for a 2xx), after our own
     * Route entries were removed, before it is forwarded statelessly. Return
     * IMS_DECLINED to let the core forward it, IMS_OK when the handler took it
     * (ownership of ack passes then: the handler forwards or frees it). E.g. a
     * P-CSCF dropping ACKs from sources that never registered. May be NULL.
     */
    int (*on_ack)(void *arg, sip_msg_t *ack);
    /*
     * The next hop of an ACK forwarded statelessly, before it is sent: the handler may
     * change dst (e.g. a P-CSCF sending to a UE with SAs from its protected client port,
     * dst->local). May be NULL.
     */
    void (*on_ack_dest)(void *arg, const sip_msg_t *ack, sip_dest_t *dst);
} sip_proxy_handler_t;

typedef struct sip_proxy_stats {
    uint64_t requests, forwarded, local_replies, loops, too_many_hops, cancels,
        stateless_acks, stray_responses, timer_c;
} sip_proxy_stats_t;

/* cfg NULL: defaults; handler NULL: default routing for everything. Registers
 * itself as the layer's transaction user. */
sip_proxy_t *sip_proxy_new(sip_txn_layer_t *layer, const sip_proxy_cfg_t *cfg,
                           const sip_proxy_handler_t *handler, void *arg);
void sip_proxy_free(sip_proxy_t *px);
void sip_proxy_cfg_defaults(sip_proxy_cfg_t *cfg);

/* Add a target Request-URI (copied) for the next sip_proxy_forward; dst NULL:
 * next hop from the top Route, else from the URI. IMS_ERROR past the branch limit. */
int sip_proxy_add_target(sip_proxy_req_t *pr, const char *uri, const sip_dest_t *dst);
/* Forward to the targets added (none added: the default route). IMS_OK, or
 * IMS_ERROR when nothing could be sent (a final response was then sent). */
int sip_proxy_forward(sip_proxy_req_t *pr);
/*
 * Branches of pr forwarded from now on that have had no response at all (not even
 * 100) after ms are given up as 408 (an INVITE branch is CANCELled once it rings);
 * on_failure then sees it. For an application server that must answer quickly, far
 * below Timer C. Branches already forwarded and still waiting get ms from now; 0
 * turns the limit off for them and later ones (Timer C again for INVITE).
 */
void sip_proxy_set_reply_timeout(sip_proxy_req_t *pr, uint32_t ms);
/*
 * From the handler's on_response only: do not forward this response now (e.g. a
 * P-CSCF asking the PCRF to authorise the SDP answer it carries). The core keeps
 * it, and every later response of pr behind it, in order; on_response still
 * sees each as it arrives. Holds count: each needs its own sip_proxy_resume.
 * While held, pr stays findable by id (even after a 2xx) and is not let go of.
 * IMS_OK, or IMS_ERROR outside on_response or with the queue full: the
 * response then goes on now. The queue keeps SIP_PROXY_MAX_HELD responses, the
 * last two slots for finals; past that a response is dropped (a UAS repeats its
 * 2xx, and a lost provisional is harmless unless reliable: the handler should
 * not hold for long).
 */
int sip_proxy_hold(sip_proxy_req_t *pr);
/*
 * End one hold of pr. When none is left: if every resume said code 0, the queued
 * responses go upstream in order; if one said code >= 300, they are all dropped
 * (a queued 2xx too: ending that dialog downstream, with ACK and BYE, is the
 * handler's job) and that code and reason (NULL: the default) are answered
 * upstream instead - unless a final response already went - and the branches
 * still pending are cancelled. IMS_OK, or IMS_ERROR when pr holds nothing.
 */
int sip_proxy_resume(sip_proxy_req_t *pr, int code, const char *reason);
/* The same, with Retry-After: retry_after (seconds, 0: none) on the answer, as
 * RFC 3261 §21.5.4 asks of a 503 for a passing overload or outage. */
int sip_proxy_resume_retry(sip_proxy_req_t *pr, int code, const char *reason,
                           uint32_t retry_after);
/* Whether pr holds responses back now. */
bool sip_proxy_held(const sip_proxy_req_t *pr);
/* Answer the request locally with a final response. */
int sip_proxy_reply(sip_proxy_req_t *pr, int code, const char *reason);
/* Answer with a response the handler built (sip_msg_make_response on
 * sip_proxy_req_msg, plus its own headers); ownership of resp passes. A
 * provisional leaves the request open. IMS_ERROR when already answered. */
int sip_proxy_reply_msg(sip_proxy_req_t *pr, sip_msg_t *resp);
/* The node's proxy (for handlers that start their own requests). */
sip_txn_layer_t *sip_proxy_layer(const sip_proxy_t *px);
sip_proxy_t *sip_proxy_req_proxy(const sip_proxy_req_t *pr);

uint64_t sip_proxy_req_id(const sip_proxy_req_t *pr);
sip_proxy_req_t *sip_proxy_req_find(sip_proxy_t *px, uint64_t id);
/* The request as received (after route preprocessing). Owned by the core. */
const sip_msg_t *sip_proxy_req_msg(const sip_proxy_req_t *pr);
/* The Route entry of ours the request arrived with, which the core removed
 * before the handler runs: its user part ("" when none; e.g. "orig" from a
 * Service-Route, or the ODI token an AS sends back), and whether it marked
 * the originating case ("orig" as user part or URI parameter). */
const char *sip_proxy_req_route_user(const sip_proxy_req_t *pr);
bool sip_proxy_req_route_orig(const sip_proxy_req_t *pr);
/* Whether the request arrived with a Route entry of ours at all. */
bool sip_proxy_req_route_ours(const sip_proxy_req_t *pr);

/* Next hop for a URI per RFC 3263 without DNS (IP literals; transport param;
 * default port 5060, 5061 for sips). IMS_OK or IMS_ERROR (not an IP literal). */
int sip_proxy_uri_dest(const osip_uri_t *uri, sip_dest_t *dst);
/* The same, resolving host names through the static table of px's configuration. */
int sip_proxy_resolve(const sip_proxy_t *px, const osip_uri_t *uri, sip_dest_t *dst);
/* Whether uri names this node (a listening address, or an alias with our port). */
bool sip_proxy_uri_is_local(const sip_proxy_t *px, const osip_uri_t *uri);
/* Parse "name=ip" or "name=ip:port" (IPv6 in brackets) into h. IMS_OK / IMS_ERROR. */
int sip_proxy_host_parse(const char *s, sip_proxy_host_t *h);

const sip_proxy_stats_t *sip_proxy_stats(const sip_proxy_t *px);

#endif
