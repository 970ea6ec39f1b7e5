/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reg event package (RFC 3680; TS 24.229 §5.4.2.1): SUBSCRIBE from the UE
 * or its P-CSCF to an IMPU of a registered user, full-state NOTIFYs with
 * application/reginfo+xml on every change of the registration.
 *
 * Dialog (RFC 3261 §12.1.1, RFC 6665): we are the notifier and the UAS. The
 * route set is the SUBSCRIBE's Record-Route in order (the P-CSCF's entry
 * first), the remote target its Contact; a NOTIFY is sent to the first route's
 * address (or the target's when there is no route). The reginfo version
 * starts at 0 and grows by one with every NOTIFY of the subscription. A NOTIFY
 * that times out, or gets a final response >= 300 without Retry-After, ends
 * the subscription (RFC 6665 §4.2.2; dead subscribers must not accumulate).
 */
#ifndef SCSCF_REGEVENT_H
#define SCSCF_REGEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sip/proxy.h"
#include "scscf/context.h"

#define SCSCF_SUB_MAX_ROUTES 8
#define SCSCF_SUB_STR_MAX 1024   /* longest string of a subscription the store keeps */

/*
 * A subscription: one store block, the dialog's strings inline after the
 * struct (each NUL-terminated, in this order): our tag (the ctx->subs key),
 * the Call-ID, the subscriber's tag, the SUBSCRIBE's To URI (our From), the
 * IMPU subscribed to unless it is that same URI, then the routes. The
 * subscriber's From URI and Contact are the same for every subscription a
 * P-CSCF makes: shared strings (scscf_str_share).
 */
struct scscf_sub {
    scscf_sub_t *next;           /* in reg->subs */
    scscf_reg_t *reg;            /* reg->ctx: the context */
    const char *remote_uri;      /* its From URI (our To) */
    const char *target;          /* its Contact URI */
    ims_timer_t timer;           /* armed until the end: timer.due_ms is the end */
    uint32_t cseq, version;
    uint8_t nroutes;
    bool aor_is_local;           /* the IMPU subscribed to is the To URI */
    char strs[];
};

/* The subscriptions of reg into b (reg-store.c's record), and back: those
 * not ended by wall (ims_wall_ms) are made again, indexed and armed, with CSeq
 * and version ahead of any NOTIFY sent since the save. IMS_ERROR: malformed. */
struct ims_kv_buf;
struct ims_kv_rd;
void scscf_regevent_encode(const scscf_reg_t *reg, struct ims_kv_buf *b);
int scscf_regevent_decode(scscf_reg_t *reg, struct ims_kv_rd *rd, uint64_t wall);

/* A SUBSCRIBE with Event: reg (the event package name, any parameters). */
bool scscf_is_reg_subscribe(const sip_msg_t *req);

/* Handle it (answers now; IMS_OK). */
int scscf_regevent_subscribe(scscf_ctx_t *ctx, sip_proxy_req_t *pr, const sip_msg_t *req);

/*
 * NOTIFY every subscription of reg with the full state. terminated: the
 * registration ended (registration and contacts "terminated" with event, and
 * Subscription-State terminated;reason=<reason>); the subscriptions are then
 * freed. Otherwise the registration is active and contacts carry event.
 */
void scscf_regevent_notify_all(scscf_reg_t *reg, bool terminated, const char *event,
                               const char *reason);

/*
 * The reginfo document (malloc'd, NUL-terminated, *len set): one registration
 * per identity of reg's implicit set (barred ones left out; aor when reg has
 * no profile), each listing every contact.
 */
char *scscf_reginfo_build(const scscf_reg_t *reg, const char *aor, uint32_t version,
                          bool terminated, const char *event, uint64_t now, size_t *len);

/* Free reg's subscriptions without NOTIFY (context.c, on removal). */
void scscf_subs_free_all(scscf_reg_t *reg);
/* Drop the NOTIFY transactions still waiting (at stop). */
void scscf_regevent_stop(scscf_ctx_t *ctx);

#endif
