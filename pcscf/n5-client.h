/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF as Application Function on N5: Npcf_PolicyAuthorization
 * (TS 29.514) toward the PCF, over the SBI HTTP/2 client (h2c with prior
 * knowledge, as open5gs speaks it), all asynchronous on the daemon's loop.
 *
 *   create  POST {apiRoot}/npcf-policyauthorization/v1/app-sessions
 *           AppSessionContext{ascReqData{afAppId, dnn, ueIpv4|ueIpv6, suppFeat,
 *           notifUri, gpsi?, afChargId?, evSubsc, medComponents}} -> 201 + Location
 *           .../app-sessions/{appSessionId} (303 with Location: an equivalent one)
 *   update  PATCH .../app-sessions/{id}, application/merge-patch+json,
 *           AppSessionContextUpdateDataPatch{ascReqData{medComponents}} -> 200/204
 *   delete  POST .../app-sessions/{id}/delete -> 204/200
 *
 * open5gs's PCF answers 400 when suppFeat, notifUri or medComponents is
 * missing, so all three are always sent. With an SCP configured, requests go
 * to the SCP (indirect communication, TS 29.500 §6.10) with
 * 3gpp-sbi-discovery-target-nf-type: PCF, -requester-nf-type: AF and
 * -service-names: npcf-policyauthorization, plus 3gpp-sbi-target-apiroot
 * when the PCF's address is configured too.
 *
 * With tls, requests are https (TLS 1.2+, ALPN h2, the PCF verified against
 * tls_ca); with notif_tls_cert/key the notification server is https too.
 *
 * With nrf instead of pcf, the PCF is discovered (pcscf/n5-nrf.h: NFDiscover
 * with target-nf-type PCF, cached for validityPeriod): a create waits for the
 * discovery when there is no usable list yet, goes to the first PCF listed
 * that works, and when that one refuses the connection moves on to the next
 * one (the create is sent again there: nothing reached the first). Every
 * scheme, address and apiPrefix comes from the NRF; tls_ca verifies https
 * NRFs and PCFs. Because two PCFs may hand out the same appSessionId, a
 * session created there is named by its resource URI
 * "http(s)://IP:PORT[/prefix]/npcf-policyauthorization/v1/app-sessions/{id}"
 * (the PCF's address as discovered), which update and delete take and which
 * a terminate's resUri is matched against. With pcf or scp the name stays the
 * bare appSessionId.
 *
 * The PCF's notifications come to our own HTTP/2 server (notif_listen): POST
 * {notifUri}/terminate with TerminationInfo{termCause, resUri} is answered 204
 * and handed to the terminate upcall with the app session id taken from
 * resUri; a malformed one gets 400. POST {notifUri}/notify (EventsNotification)
 * is answered 204 and logged.
 *
 * Every operation's callback runs exactly once, from the loop (never inside
 * the call that started it), unless the operation is cancelled. Callers keep
 * ids, not pointers, across that gap: cb's arg should let them look their
 * state up again.
 */
#ifndef PCSCF_N5_CLIENT_H
#define PCSCF_N5_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/core/loop.h"

#define PCSCF_N5_ID_MAX 128
#define PCSCF_N5_REF_MAX 320        /* a session's name: its id, or its resource URI */
#define PCSCF_N5_CAUSE_MAX 128
#define PCSCF_N5_API "/npcf-policyauthorization/v1"
#define PCSCF_N5_MMTEL_APP_ID "+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\""

typedef struct pcscf_n5 pcscf_n5_t;

typedef struct pcscf_n5_cfg {
    const char *pcf;            /* "IP:PORT" of the PCF; NULL only with scp */
    const char *scp;            /* "IP:PORT" of an SCP to route through; NULL: direct */
    const char *notif_listen;   /* "IP:PORT" for our notification server; NULL: none */
    const char *notif_uri;      /* advertised notifUri; NULL: http(s)://<notif_listen>/pcscf/n5 */
    const char *dnn;            /* NULL: "ims" */
    const char *af_app_id;      /* NULL: PCSCF_N5_MMTEL_APP_ID */
    const char *supp_feat;      /* NULL: "0" */
    uint32_t timeout_ms;        /* per request, connect included; 0: 2000 */
    bool tls;                   /* https (ALPN h2) toward the PCF / SCP (with nrf: each
                                 * PCF's scheme comes from the NRF, the NRF's from nrf) */
    const char *tls_ca;         /* PEM CAs to verify the PCF / SCP with; NULL: no check */
    const char *notif_tls_cert; /* with notif_tls_key: the notification server is https */
    const char *notif_tls_key;
    const char *nrf;            /* instead of pcf: the NRF's "http(s)://IP:PORT[/prefix]" */
    const char *nf_instance_id; /* requester-nf-instance-id of the discovery; NULL: none */
    uint32_t nrf_validity_s;    /* the list's life without a validityPeriod; 0: 3600 */
} pcscf_n5_cfg_t;

typedef enum pcscf_n5_status {
    PCSCF_N5_OK = 0,            /* created (id set), updated or deleted */
    PCSCF_N5_REJECTED,          /* the PCF answered with an error: http_status, cause */
    PCSCF_N5_TIMEOUT,           /* no answer within timeout_ms */
    PCSCF_N5_UNREACHABLE        /* no connection, or it was lost or reset */
} pcscf_n5_status_t;

typedef struct pcscf_n5_result {
    pcscf_n5_status_t status;
    int http_status;                        /* 0 without an answer */
    char cause[PCSCF_N5_CAUSE_MAX];         /* ProblemDetails cause, else detail; "" */
    char app_session_id[PCSCF_N5_REF_MAX];  /* the session's name (see above): create:
                                             * from Location; else the name asked */
} pcscf_n5_result_t;

/* The outcome of one operation; res is valid during the call only. */
typedef void (*pcscf_n5_cb)(void *arg, const pcscf_n5_result_t *res);

/* The PCF ended app session app_session_id, named as create named it (with the
 * NRF: the resUri cut after the id; the bare id when resUri's authority is not
 * numeric), for term_cause (TerminationInfo.termCause,
 * e.g. "ALL_SDF_DEACTIVATION", "PDU_SESSION_TERMINATION"). Already answered 204;
 * the P-CSCF releases the call and then deletes the app session (as open5gs
 * expects of an AF). It may start operations; it must not free the client. */
typedef void (*pcscf_n5_terminate_cb)(void *arg, const char *app_session_id,
                                      const char *term_cause);

/* What create needs of the call and the UE. */
typedef struct pcscf_n5_app {
    const char *ue_ipv4;        /* the UE's registered address: one of the two */
    const char *ue_ipv6;
    const char *impu;           /* a tel: or user=phone IMPU becomes gpsi "msisdn-..."; NULL */
    const char *af_charg_id;    /* afChargId (the ICID); NULL */
    json_t *med_components;     /* pcscf_sdp_rx_to_n5's map; borrowed */
    bool preliminary;           /* servInfStatus PRELIMINARY: an offer with preconditions */
} pcscf_n5_app_t;

/*
 * Read cfg from group section of conf (e.g. "pcscf.policy.n5"): pcf, scp, nrf,
 * nf_instance_id, notif_listen, notif_uri, dnn, af_app_id, supp_feat, tls_ca,
 * notif_tls_cert, notif_tls_key (strings, owned by conf), tls (bool),
 * timeout_ms (1..600000) and nrf_validity_s (1..86400); absent keys leave
 * *cfg's values. IMS_OK, or IMS_ERROR (ims_conf_error says which key) on a
 * wrong type or range, or when none of pcf, scp, nrf is set. (nrf with pcf or
 * scp is refused by pcscf_n5_new.)
 */
struct ims_conf;
int pcscf_n5_cfg_from_conf(struct ims_conf *conf, const char *section, pcscf_n5_cfg_t *cfg);

/*
 * A client on loop with cfg (strings copied). term (may be NULL) gets the
 * terminate notifications. NULL when cfg names no PCF, SCP nor NRF, names an
 * NRF with a PCF or SCP, an address is malformed, or notif_listen cannot be
 * bound (logged).
 */
pcscf_n5_t *pcscf_n5_new(ims_loop_t *loop, const pcscf_n5_cfg_t *cfg,
                         pcscf_n5_terminate_cb term, void *arg);
/* Free: pending operations' callbacks run with PCSCF_N5_UNREACHABLE first. */
void pcscf_n5_free(pcscf_n5_t *n5);

/*
 * Start an operation. Returns its handle (> 0), or 0 when it cannot start
 * (bad arguments, too many pending; create: no notifUri configured, no UE
 * address, med_components not an object, no PCF from the NRF a moment ago):
 * then cb is never called. update and delete take the name create gave.
 */
uint64_t pcscf_n5_create(pcscf_n5_t *n5, const pcscf_n5_app_t *app, pcscf_n5_cb cb,
                         void *arg);
/* preliminary: servInfStatus of the change (TS 29.514 §5.6.2.6): PRELIMINARY
 * for an offer, else FINAL, which a session created preliminary needs said. */
uint64_t pcscf_n5_update(pcscf_n5_t *n5, const char *app_session_id,
                         json_t *med_components, bool preliminary, pcscf_n5_cb cb, void *arg);
uint64_t pcscf_n5_delete(pcscf_n5_t *n5, const char *app_session_id, pcscf_n5_cb cb,
                         void *arg);
/* Forget an operation: its callback will not run. Unknown handles are ignored. */
void pcscf_n5_cancel(pcscf_n5_t *n5, uint64_t handle);

/* The notifUri sent to the PCF ("" without a notification server). */
const char *pcscf_n5_notif_uri(const pcscf_n5_t *n5);
/* Operations in flight (waiting for the NRF included). */
size_t pcscf_n5_pending(const pcscf_n5_t *n5);

/* ---- parsing what the PCF sends (exported for tests and the fuzz target) ---- */

/* The app session id in a Location or resUri ".../app-sessions/{id}[/...]":
 * IMS_OK, or IMS_ERROR when absent, empty, too long or not URI-safe. */
int pcscf_n5_parse_location(const char *uri, char *id, size_t cap);
/* ProblemDetails' cause (else detail, else title) into cause; "" when none. */
void pcscf_n5_parse_problem(const char *body, size_t len, char *cause, size_t cap);
/* TerminationInfo: IMS_OK with the id from resUri and termCause; IMS_ERROR when malformed. */
int pcscf_n5_parse_termination(const char *body, size_t len, char *id, size_t idcap,
                               char *cause, size_t ccap);

/* An app session's resource URI "http(s)://IP:PORT/.../app-sessions/{id}[/...]"
 * (numeric authority) cut after the id, into ref: IMS_OK, or IMS_ERROR when
 * uri is no such URI or ref is too small. */
int pcscf_n5_parse_resource(const char *uri, char *ref, size_t cap);

/* The NRF discovery client with cfg.nrf (NULL without), for tests. */
struct pcscf_n5_nrf;
struct pcscf_n5_nrf *pcscf_n5_nrf_of(const pcscf_n5_t *n5);

#endif
