/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sec-agree in the P-CSCF: IMS AKA security agreement with IPsec ESP (RFC 3329;
 * TS 33.203 §7, Annex H/I; TS 24.229 §5.2.2; ims-reference §2).
 *
 * One pcscf_sec_set_t per registration attempt of a UE that offered
 * Security-Client: the mechanism chosen from its offer (the UE's spi_uc/spi_us,
 * port_uc/port_us, alg/ealg), our spi_pc/spi_ps and port_pc/port_ps, and the
 * four SAs and four policies installed through common/ipsec/xfrm.h:
 *
 *   SA1 UE:port_uc -> P:port_ps  spi_ps  in      SA2 P:port_pc -> UE:port_us  spi_us  out
 *   SA3 P:port_ps -> UE:port_uc  spi_uc  out     SA4 UE:port_us -> P:port_pc  spi_pc  in
 *
 * A set's life (TS 33.203 §7.1, §7.4):
 *   OFFERED   the first REGISTER's offer, known by the proxy request id until
 *             the S-CSCF's 401 comes back (nothing installed).
 *   PENDING   the 401 carried ck/ik: SAs and policies installed, Security-Server
 *             added to the 401; known by "UE-IP:port_uc" (where the second
 *             REGISTER comes from) for reg-await-auth (4 min).
 *   ACTIVE    a REGISTER that came over it got its 2xx. The set it replaces (a
 *             re-registration that was challenged again) retires.
 *   RETIRING  no longer used; SAs and policies are removed after retire_ms, so
 *             that the final response of a de-REGISTER (and its retransmissions,
 *             64*T1 for UDP) still goes out over them. Then ids and ports are
 *             released.
 * A set leaves ACTIVE when its UE's registration ends (de-registration,
 * expiry, reg-event: the context's UE-gone hook) or a newer set takes over.
 *
 * Re-registration (TS 33.203 §7.4; secagree-rotate.c): the new set has new
 * SPIs and a new port_pc and keeps port_ps, which the UE's dialogs
 * Record-Routed; the port is held by every set using it and closes with the
 * last. A UE that offers a new port_uc (as §7.4 asks) is found there once
 * the new set carried the REGISTER to its 2xx (pcscf_ue_moved). A UE that
 * keeps its port_uc gets a new port_ps (the SA1 selectors would clash).
 *
 * Restart (secagree-store.c): the sets of registered UEs are kept in the
 * P-CSCF's store with CK/IK, so the journal holds keys (it is 0600). A
 * restarted P-CSCF takes back the sets of the UEs the journal restored and
 * keeps their SAs in the kernel; it removes only SAs and policies tagged as
 * ours that belong to no restored UE. A set's CK/IK stay in memory while it
 * lives (the store writes them at each refresh) and are zeroed when it goes.
 */
#ifndef PCSCF_SECAGREE_H
#define PCSCF_SECAGREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/conf.h"
#include "common/core/loop.h"
#include "common/ipsec/ipsec_alloc.h"
#include "common/ipsec/sec_agree.h"
#include "common/ipsec/xfrm.h"
#include "common/sip/msg.h"
#include "common/sip/proxy.h"
#include "common/sip/transport.h"
#include "pcscf/context.h"

#define PCSCF_SEC_MAX_PREFS 8
/* Tag in the kernel selectors of everything we install (xfrm.h "owner"). */
#define PCSCF_SEC_OWNER 0x50435343u
/* An offer waits this long for its 401 (Timer F with T1 = 500 ms); at most
 * this many wait at once. */
#define PCSCF_SEC_OFFER_MS 32000u
#define PCSCF_SEC_MAX_OFFERS 65536u
/* The value of integrity-protected for a REGISTER that came over its SAs. */
#define PCSCF_SEC_INTEGRITY "\"yes\""

/* pcscf.ipsec = { ... } (config/pcscf.cfg documents each key). */
typedef struct pcscf_sec_cfg {
    bool enabled;
    bool require_esp;            /* no ESP in the kernel: refuse to start (else run without) */
    sec_agree_pref_t prefs[PCSCF_SEC_MAX_PREFS];
    size_t nprefs;
    uint32_t spi_min, spi_max;
    uint16_t port_min, port_max;
    uint32_t retire_ms;          /* old SAs stay this long after their last use */
    uint32_t await_ms;           /* reg-await-auth: a PENDING set waits this long */
} pcscf_sec_cfg_t;

/* The SA calls, replaceable for tests on kernels without ESP (policies always
 * go to the kernel). Default: ims_xfrm_sa_add / ims_xfrm_sa_del. */
typedef struct pcscf_sec_ops {
    int (*sa_add)(void *arg, ims_xfrm_t *x, const ims_xfrm_sa_t *sa,
                  const ims_ipsec_keys_t *keys);
    int (*sa_del)(void *arg, ims_xfrm_t *x, const ims_xfrm_addr_t *dst, uint32_t spi);
} pcscf_sec_ops_t;

typedef enum pcscf_sec_state {
    PCSCF_SEC_OFFERED = 0,
    PCSCF_SEC_PENDING,
    PCSCF_SEC_ACTIVE,
    PCSCF_SEC_RETIRING
} pcscf_sec_state_t;

typedef struct pcscf_sec_set pcscf_sec_set_t;
typedef struct pcscf_secagree pcscf_secagree_t;

typedef struct pcscf_sec_stats {
    uint64_t offers, installed, install_failed, verified, verify_failed, malformed,
        refused_494, retired;
} pcscf_sec_stats_t;

/* --- configuration (secagree-cfg.c) ------------------------------------- */

/* Defaults: disabled; require_esp; hmac-sha-1-96 with aes-cbc, then null, then
 * hmac-md5-96 with aes-cbc, then null; SPIs 0x10000..0x0fffffff; ports
 * 10000..29999; retire 32 s; reg-await-auth 240 s. */
void pcscf_sec_cfg_defaults(pcscf_sec_cfg_t *c);
/* Read pcscf.ipsec into c (defaults first). IMS_OK, or IMS_ERROR with
 * "file: key: message" in err. */
int pcscf_sec_load_config(pcscf_sec_cfg_t *c, ims_conf_t *conf, char *err, size_t errlen);
/*
 * Start-up check of the kernel (doc/ipsec-testing.md): ESP at all
 * (ims_xfrm_probe_esp, which logs the clear verdict), then each configured
 * pair (those the kernel lacks are dropped from c->prefs, with a warning).
 * IMS_OK when sec-agree can run; IMS_DECLINED when it cannot (no ESP, no
 * CAP_NET_ADMIN, no pair left): the caller refuses to start or runs without,
 * per c->require_esp.
 */
int pcscf_sec_probe(pcscf_sec_cfg_t *c, ims_xfrm_t *x);

/* init.c: read pcscf.ipsec from conf; when enabled, open xfrm, probe, and
 * attach a pcscf_secagree_t to ctx (pcscf_sec_attach). IMS_OK (attached, or
 * running without sec-agree, said in a notice), IMS_ERROR when the daemon must
 * not start (a bad pcscf.ipsec, or IPsec unusable with require_esp), logged. */
int pcscf_sec_start(pcscf_ctx_t *ctx, sip_transport_t *tp, ims_conf_t *conf);

/* --- the state ---------------------------------------------------------- */

/*
 * New sec-agree state over x (ownership of x passes; closed by free), with
 * cfg copied. NULL when the ranges are bad. Attach with pcscf_sec_attach,
 * which at the loop's first turn (at once without a loop) restores the sets
 * of the UEs the store restored and then sweeps what an earlier run left in
 * the kernel (pcscf_secagree_sweep).
 */
pcscf_secagree_t *pcscf_secagree_new(ims_loop_t *loop, const pcscf_sec_cfg_t *cfg,
                                     ims_xfrm_t *x);
/* Sets ctx->sec and the context's UE-gone hook for sec-agree. */
void pcscf_sec_attach(pcscf_ctx_t *ctx, pcscf_secagree_t *s);
/* Remove every SA and policy still installed, free all sets and s. NULL: no-op.
 * With a store (the UEs outlive us in it), ACTIVE sets stay in the kernel. */
void pcscf_secagree_free(pcscf_secagree_t *s);
/* Delete every SA (SPI or reqid in our range) and policy tagged with our owner
 * that belongs to no set of s; entries not tagged as ours stay. Logged. */
void pcscf_secagree_sweep(pcscf_secagree_t *s);
void pcscf_secagree_set_ops(pcscf_secagree_t *s, const pcscf_sec_ops_t *ops, void *arg);
/* The transport the protected ports are opened on (with the SAs, closed with
 * them); NULL (the default): none are opened (unit tests that fake them). */
void pcscf_secagree_set_transport(pcscf_secagree_t *s, sip_transport_t *tp);

/* secagree-ports.c: a (our or the UE's) address with port as a sip_addr_t. */
bool pcscf_sec_sip_addr(const ims_xfrm_addr_t *a, uint16_t port, sip_addr_t *out);
/* secagree-ports.c: a UDP listener at us:port, and with tcp a TCP one; those
 * already open there (a port_ps a re-registration kept) stay as they are.
 * IMS_OK, or IMS_ERROR with what this call opened closed again. */
int pcscf_sec_port_open(sip_transport_t *tp, const ims_xfrm_addr_t *us, uint16_t port,
                        bool tcp);
void pcscf_sec_port_close(sip_transport_t *tp, const ims_xfrm_addr_t *us, uint16_t port);

const pcscf_sec_stats_t *pcscf_secagree_stats(const pcscf_secagree_t *s);
const ipsec_alloc_t *pcscf_secagree_alloc(const pcscf_secagree_t *s);
/* Sets by state (OFFERED ... RETIRING). */
size_t pcscf_secagree_count(const pcscf_secagree_t *s, pcscf_sec_state_t state);
/* What imsctl shows of a set beyond the kernel's SAs (read-only copy). */
typedef struct pcscf_sec_info {
    pcscf_sec_state_t state;
    sec_agree_alg_t alg;
    sec_agree_ealg_t ealg;
    uint64_t age_ms;
} pcscf_sec_info_t;
/* The set whose inbound SA from the UE's port-c has our SPI spi_ps (the reqid
 * of its four SAs): true with *out filled, false when we hold none (a set
 * restored from the journal counts; one being removed may not). */
bool pcscf_secagree_info(const pcscf_secagree_t *s, uint32_t spi_ps, pcscf_sec_info_t *out);

/* --- REGISTER ----------------------------------------------------------- */

/*
 * A REGISTER from a UE, before the rewrite strips sec-agree. Over a set's
 * protected port (local port == port_ps, from UE-IP:port_uc) its
 * Security-Verify must equal the Security-Server we sent and its
 * Security-Client must still hold the chosen mechanism (TS 33.203 §7.2;
 * RFC 3329 §2.3.1), else 403 and a PENDING set is dropped (registration
 * aborted). A Security-Client offer is parsed (400 with the reason when
 * malformed; 494 when nothing acceptable and the UE requires sec-agree,
 * RFC 3329 §2.3.1) and remembered for the 401.
 * IMS_OK: go on, *protect tells whether integrity-protected is PCSCF_SEC_INTEGRITY;
 * IMS_DONE: answered here (pr replied).
 */
int pcscf_sec_register(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, const sip_msg_t *req,
                       bool *protect);

/*
 * The 401 to a REGISTER whose offer we remembered, before ck/ik are
 * stripped: allocate SPIs and ports, derive the keys from ck/ik, install the
 * SAs and policies, add Security-Server. When that fails the 401 becomes a
 * 500 (WWW-Authenticate removed) and nothing stays behind. IMS_OK (installed),
 * IMS_DECLINED (no offer or no ck/ik: untouched), IMS_ERROR (turned into 500).
 */
int pcscf_sec_challenge(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, sip_msg_t *resp);

/* A 2xx to REGISTER: the set it came over becomes ACTIVE (an older one
 * retires); the offer of an unprotected one is forgotten. registered: the
 * UE's contact is kept for expires seconds (false: none kept, the set retires). */
void pcscf_sec_register_ok(pcscf_ctx_t *ctx, sip_proxy_req_t *pr, bool registered,
                           uint32_t expires);

/* Whether rcv came over the protected port of an ACTIVE or PENDING set. */
bool pcscf_sec_protected(const pcscf_ctx_t *ctx, const sip_rcv_t *rcv);
/* dst (UDP, or TCP: a connection from there) is the port-s of a UE with SAs:
 * set dst->local to our port-c, so the request goes out over them. Otherwise
 * dst is left as it is. */
void pcscf_sec_client_port(const pcscf_ctx_t *ctx, sip_dest_t *dst);

#endif
