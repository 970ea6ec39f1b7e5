/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where the N5 client (pcscf/n5-client.h) finds its PCF when none is
 * configured: Nnrf_NFDiscovery (TS 29.510 §5.3.2.2, §6.2.3.2.3.1) at an NRF,
 *
 *   GET {nrf}/nnrf-disc/v1/nf-instances?target-nf-type=PCF&requester-nf-type=AF
 *       &service-names=npcf-policyauthorization[&dnn=..][&requester-nf-instance-id=..]
 *   -> 200 SearchResult{validityPeriod, nfInstances[NFProfile]}
 *
 * From each NFProfile (nfType PCF, nfStatus REGISTERED or absent) every
 * NFService named npcf-policyauthorization (in nfServices[] or the Rel-16+
 * nfServiceList{}) and not SUSPENDED/UNDISCOVERABLE gives one candidate per
 * ipEndPoint (ipv4Address or ipv6Address, port; without a port the scheme's
 * 80/443), or, with no ipEndPoints, per address of the profile
 * (ipv4Addresses[], ipv6Addresses[]). FQDN-only services are skipped: the
 * SBI client connects to numeric addresses only (no DNS on the loop yet).
 * Candidates are ordered by priority (lower first; the service's, else the
 * profile's, absent = 65535), then capacity (higher first, absent = 0), then
 * the NRF's order: the P-CSCF sends every new app session to the first one
 * that works, so that one PCF holds them all while it lives (an AF cannot
 * spread them by capacity without a BSF telling it which PCF holds the UE).
 *
 * The list is cached for validityPeriod (absent: cfg.validity_s; bounded to
 * 1 s .. 1 day). pcscf_n5_nrf_failed moves to the next candidate; with none
 * left, the next pick asks the NRF again (not before the list is
 * PCSCF_N5_NRF_RETRY_MS old: a fresh list of dead PCFs is not asked for
 * again at once, whatever the rate of calls), and the requests that arrive
 * meanwhile wait for that one answer (the caller queues them; ready() tells
 * it when to look again). An expired list is refreshed the same way, but it
 * keeps serving until the answer comes: calls never wait on a refresh. A
 * discovery that fails (no connection, no answer within timeout_ms, a status
 * other than 200, a body that is no SearchResult) keeps the previous list if
 * it had a usable one ("stale on error": the NRF down does not take the PCF
 * with it), and holds the NRF off for PCSCF_N5_NRF_RETRY_MS, so that a dead
 * NRF costs one connect per second, not one per call. An empty SearchResult
 * is believed: no PCF.
 *
 * Everything runs on the loop; ready() is called from the loop only, never
 * from inside pcscf_n5_nrf_pick.
 */
#ifndef PCSCF_N5_NRF_H
#define PCSCF_N5_NRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/loop.h"
#include "diameter/sbi/h2_client.h"

#define PCSCF_N5_NRF_MAX_PCF 8              /* candidates kept from one SearchResult */
#define PCSCF_N5_NRF_PREFIX_MAX 64          /* apiPrefix, NUL included */
#define PCSCF_N5_NRF_VALIDITY_S 3600        /* the cache without a validityPeriod */
#define PCSCF_N5_NRF_VALIDITY_MAX 86400
#define PCSCF_N5_NRF_RETRY_MS 1000          /* after a failed discovery */
#define PCSCF_N5_NRF_SERVICE "npcf-policyauthorization"
#define PCSCF_N5_NRF_OP "GET nf-instances"  /* the operation in the SBI statistics */

/* One place to send app sessions to. */
typedef struct pcscf_n5_pcf {
    char authority[SBI_H2_AUTHORITY_MAX];   /* "IP:PORT" or "[IPv6]:PORT" */
    char prefix[PCSCF_N5_NRF_PREFIX_MAX];   /* apiPrefix ("/a/b"; "" none), before the API */
    bool tls;                               /* scheme https */
    uint32_t priority;                      /* lower first */
    uint32_t capacity;                      /* higher first among equal priorities */
    char nf_instance_id[48];                /* for the logs; "" when absent */
} pcscf_n5_pcf_t;

/*
 * Parse a SearchResult (len bytes, not NUL-terminated) into at most max
 * candidates, in the order above. Returns how many (0: none usable), or
 * IMS_ERROR when body is not a JSON object with an nfInstances array.
 * *validity_s gets validityPeriod (an explicit 0 as 1), 0 when absent or not
 * a non-negative integer. Nothing in body can make it read or write out of bounds: over-long
 * strings and addresses that are not numeric skip their candidate.
 */
int pcscf_n5_nrf_parse(const char *body, size_t len, pcscf_n5_pcf_t *out, size_t max,
                       uint32_t *validity_s);

typedef struct pcscf_n5_nrf pcscf_n5_nrf_t;

typedef struct pcscf_n5_nrf_cfg {
    const char *nrf;            /* the NRF's apiRoot: "http(s)://IP:PORT[/prefix]" */
    const char *dnn;            /* the dnn query parameter; NULL: none */
    const char *requester_id;   /* requester-nf-instance-id (a UUID); NULL: none */
    uint32_t timeout_ms;        /* of one discovery; 0: 2000 */
    uint32_t validity_s;        /* without validityPeriod; 0: PCSCF_N5_NRF_VALIDITY_S */
    const char *tls_ca;         /* PEM CAs to verify an https NRF with; NULL: no check */
} pcscf_n5_nrf_cfg_t;

/* A discovery ended: found tells whether a pick can succeed now. */
typedef void (*pcscf_n5_nrf_ready_cb)(void *arg, bool found);

/* Whether s is an NRF apiRoot this client takes ("http(s)://IP:PORT[/path]"). */
bool pcscf_n5_nrf_uri_ok(const char *s);

/*
 * A discovery client on loop with cfg (strings copied); it asks nothing until
 * the first pick. NULL (logged) when cfg.nrf is malformed or the HTTP/2
 * client cannot be made (CA file unreadable).
 */
pcscf_n5_nrf_t *pcscf_n5_nrf_new(ims_loop_t *loop, const pcscf_n5_nrf_cfg_t *cfg,
                                 pcscf_n5_nrf_ready_cb ready, void *arg);
/* Free; a discovery in flight is cancelled (ready is not called). NULL: no-op. */
void pcscf_n5_nrf_free(pcscf_n5_nrf_t *d);

/*
 * The PCF to use now, copied into *out: IMS_OK (when the list has expired,
 * its refresh is started). IMS_AGAIN: no list yet, or none left, and a
 * discovery is in flight (started by this call when needed); ready()
 * follows. IMS_ERROR: nothing to use (the last discovery failed or found none
 * less than PCSCF_N5_NRF_RETRY_MS ago).
 */
int pcscf_n5_nrf_pick(pcscf_n5_nrf_t *d, pcscf_n5_pcf_t *out);

/* The PCF at authority failed (connection refused, reset, lost): when it is
 * the current candidate the next one is used from now on. */
void pcscf_n5_nrf_failed(pcscf_n5_nrf_t *d, const char *authority);

typedef struct pcscf_n5_nrf_stats {
    uint64_t discoveries;       /* requests sent to the NRF */
    uint64_t failures;          /* of them, without a usable SearchResult */
    uint64_t failovers;         /* moves to the next candidate */
    size_t candidates;          /* in the cache now */
    size_t current;             /* the index picked (== candidates: none left) */
} pcscf_n5_nrf_stats_t;

void pcscf_n5_nrf_get_stats(const pcscf_n5_nrf_t *d, pcscf_n5_nrf_stats_t *st);

#endif
