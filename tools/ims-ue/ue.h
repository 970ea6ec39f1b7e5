/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ims-ue: a simulated IMS handset on the project's own SIP stack (issue 6).
 *
 * One process is one UE: one event loop, the SIP transports and transaction
 * layers of common/sip, Milenage/AKA/digest of common/auth and, with --ipsec,
 * sec-agree and the UE's own SAs (common/ipsec). Commands given on the command
 * line run one after the other (main.c); each reports its end with ue_done().
 * Every event a test may want to see is one line on stdout (ue_event()); logs
 * go to stderr.
 *
 * Sockets. Without --ipsec one UDP socket (--local) carries everything. With
 * --ipsec the first REGISTER goes from that unprotected socket; the protected
 * client port (port_uc) sends every later request and the protected server
 * port (port_us) takes the P-CSCF's requests (TS 33.203 §7.1; ims-reference
 * §2.3). Each socket is its own transport with its own transaction layer,
 * because a transport sends UDP from its first listener: requests then leave
 * from port_uc and responses to the P-CSCF's requests from port_us, where the
 * SA selectors expect them. A response that arrives on port_us (the P-CSCF
 * answers UDP requests from port_pc to port_us) is handed to the client layer.
 *
 * A re-registration over SAs keeps port_us and offers a new port_uc, as
 * TS 33.203 §7.4 asks (the P-CSCF keeps its port_ps): a new client socket
 * (next_c) is offered; when the 401 brings the new SAs it becomes prot_c, the
 * one it replaces waits in prev_c until the 2xx confirms the new SAs (a
 * failure goes back to it), then in retired[] until its transactions are
 * over (a call's INVITE may be one of them).
 *
 * Everything here runs on the loop's thread; nothing blocks.
 */
#ifndef IMS_UE_H
#define IMS_UE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/auth/aka.h"
#include "common/auth/milenage.h"
#include "common/core/loop.h"
#include "common/ipsec/sec_agree.h"
#include "common/sip/msg.h"
#include "common/sip/transport.h"
#include "common/sip/txn.h"

#define UE_URI_MAX    256
#define UE_TOKEN_MAX  48
#define UE_MAX_ROUTES 8
#define UE_MAX_CMDS   64
#define UE_MAX_ALGS   8
#define UE_RETIRED    4          /* replaced port_uc sockets kept while busy */

/* One socket of the UE and the transaction layer on it. */
typedef struct ue_sock {
    sip_transport_t *tp;
    sip_txn_layer_t *layer;
    sip_addr_t local;
} ue_sock_t;

typedef enum ue_cmd_kind {
    UE_CMD_REGISTER,
    UE_CMD_REREGISTER,
    UE_CMD_DEREGISTER,
    UE_CMD_CALL,
    UE_CMD_ANSWER,
    UE_CMD_MESSAGE,
    UE_CMD_WAIT_MESSAGE,
    UE_CMD_WAIT_MS,
    UE_CMD_WAIT_FILE
} ue_cmd_kind_t;

typedef struct ue_cmd {
    ue_cmd_kind_t kind;
    const char *uri;     /* call, message: the target (argv storage) */
    const char *text;    /* message: the body; wait-file: the path (argv storage) */
    uint32_t n;          /* expires, hold-ms, count or ms */
    uint32_t rereg_ms;   /* call: re-register this long after the answer (0: not) */
    uint32_t indialog_ms; /* call: re-INVITE this long after the re-registration (0: not) */
} ue_cmd_t;

typedef struct ue_cfg {
    sip_addr_t pcscf;
    char local_host[64];
    uint16_t local_port;
    const char *impi, *impu, *password;
    char domain[UE_URI_MAX];
    uint8_t k[16], opc[16], op[16];
    bool have_k, have_op;
    bool op_not_opc;             /* --op given: OPc is computed from K and OP */
    uint64_t sqn_ms;             /* the ISIM's highest accepted SQN */
    bool ipsec;
    bool bad_verify;             /* --bad-verify: Security-Verify off by one SPI (tests) */
    sec_agree_pref_t algs[UE_MAX_ALGS];
    size_t nalgs;
    uint32_t timeout_ms;         /* bound on every wait */
} ue_cfg_t;

/* The one dialog of a call (RFC 3261 §12). */
typedef enum ue_call_state {
    UE_CALL_IDLE = 0,
    UE_CALL_CALLING,     /* our INVITE is out */
    UE_CALL_RINGING,     /* an INVITE came in, 200 sent, waiting for the ACK */
    UE_CALL_UP,          /* confirmed */
    UE_CALL_BYE          /* our BYE is out */
} ue_call_state_t;

typedef struct ue_call {
    ue_call_state_t state;
    bool caller;                 /* we sent the INVITE */
    bool rang;                   /* a 180/183 was reported */
    char call_id[UE_TOKEN_MAX * 2];
    char local_tag[UE_TOKEN_MAX], remote_tag[UE_TOKEN_MAX];
    char local_uri[UE_URI_MAX], remote_uri[UE_URI_MAX];
    char target[UE_URI_MAX];     /* the remote Contact */
    char routes[UE_MAX_ROUTES][UE_URI_MAX];
    size_t nroute;
    uint32_t cseq;
    uint32_t hold_ms;
    uint32_t rereg_ms;           /* re-register this long after the answer (0: not) */
    uint32_t indialog_ms;        /* re-INVITE this long after that (or the answer) */
    bool reinvited;              /* the re-INVITE got its final response */
    bool reinvite_failed;        /* ... and it was not a 2xx */
    bool bye_waits;              /* the hold ended while the above ran */
    sip_txn_t *invite;           /* client or server INVITE transaction, while it lives */
    sip_txn_layer_t *invite_layer; /* the layer of a client one */
    sip_msg_t *ok;               /* our 2xx, retransmitted until the ACK (UAS) */
    uint32_t retx_ms;
    ims_timer_t timer;           /* hold (UAC), 2xx retransmission (UAS) */
    ims_timer_t retx_end;
    ims_timer_t rereg;           /* starts the re-registration during the call */
    ims_timer_t indialog;        /* starts the re-INVITE */
} ue_call_t;

typedef struct ue_reg {
    char call_id[UE_TOKEN_MAX * 2];
    char tag[UE_TOKEN_MAX];
    uint32_t cseq;
    uint32_t expires_req;        /* asked for */
    uint32_t expires;            /* granted, 0 when not registered */
    ue_cmd_kind_t kind;          /* the command running it */
    unsigned rounds;             /* REGISTERs sent for the command */
    char auth[1024];             /* Authorization for the next REGISTER */
    bool mac_failure;            /* the last challenge failed the MAC check */
    bool background;             /* run by a call (--reregister-ms), not a command */
    char routes[UE_MAX_ROUTES][UE_URI_MAX];  /* Service-Route */
    size_t nroute;
} ue_reg_t;

typedef struct ue_ipsec ue_ipsec_t;

typedef struct ue {
    ue_cfg_t cfg;
    ims_loop_t *loop;
    ims_milenage_t mil;
    ue_sock_t unprot;            /* --local; everything without --ipsec */
    ue_sock_t prot_c, prot_s;    /* port_uc and port_us (--ipsec) */
    ue_sock_t next_c;            /* the new port_uc a re-registration offers */
    ue_sock_t prev_c;            /* the port_uc of SAs being replaced, until the 2xx */
    ue_sock_t retired[UE_RETIRED];   /* replaced, closed once idle (oldest first) */
    ims_timer_t reap_timer;
    bool protected_up;           /* SAs installed: requests go port_uc -> port_ps */
    sip_addr_t pcscf_ps;         /* the P-CSCF's protected server port */
    ue_ipsec_t *ipsec;
    uint32_t spi_uc, spi_us;     /* offered (and used by the newest SAs) */
    uint32_t prev_spi_uc, prev_spi_us;   /* of the SAs in use while a new offer runs */
    char sec_client[SEC_AGREE_TEXT_MAX];
    char sec_verify[SEC_AGREE_TEXT_MAX];
    ue_reg_t reg;
    ue_call_t call;
    /* commands */
    ue_cmd_t cmds[UE_MAX_CMDS];
    size_t ncmds, cur;
    bool running;                /* cmds[cur] is under way */
    int status;                  /* exit status */
    uint32_t count;              /* answer / wait-message: events still awaited */
    uint32_t messages;           /* MESSAGEs received, not yet consumed by wait-message */
    ims_timer_t step_timer;      /* bounds the current command; wait-ms */
    ims_timer_t next_timer;      /* starts the next command from the loop */
    ims_timer_t file_timer;      /* wait-file's poll */
} ue_t;

/* --- main.c --------------------------------------------------------------- */

/* One event line on stdout: "<text>\n", flushed (tests read it as it comes). */
void ue_event(ue_t *ue, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The running command ended (ok or not); the next one starts from the loop,
 * or the loop stops after the last one or a failure. Ignored when no
 * command is running. */
void ue_done(ue_t *ue, bool ok);
/* (Re)arm the current command's bound: ue_done(false) with a "timeout" line
 * after ms. */
void ue_step_bound(ue_t *ue, uint32_t ms);

/* --- ue-sip.c: sockets, requests, dispatch ---------------------------------- */

/* The unprotected socket (--local), and with --ipsec port_uc and port_us
 * (ephemeral ports). IMS_OK or IMS_ERROR (logged); ue_sip_close frees either way. */
int ue_sip_open(ue_t *ue);
void ue_sip_close(ue_t *ue);
/* A new port_uc socket into next_c (a re-registration's offer). IMS_OK/IMS_ERROR. */
int ue_sip_open_next(ue_t *ue);
/* Close next_c, never used (the re-registration brought no new SAs). */
void ue_sip_drop_next(ue_t *ue);
/* New SAs use next_c: it becomes prot_c, prot_c waits in prev_c. */
void ue_sip_switch_client(ue_t *ue);
/* The new SAs are confirmed: prev_c is retired (closed once idle). */
void ue_sip_confirm_client(ue_t *ue);
/* They failed: prev_c is prot_c again, the new one is retired. */
void ue_sip_revert_client(ue_t *ue);
/* Our Contact URI text: the unprotected socket, or port_us with --ipsec. */
void ue_contact(const ue_t *ue, char *buf, size_t len);
/* A request from us (From: our IMPU with tag), ready for ue_sip_send; NULL on failure. */
sip_msg_t *ue_request(ue_t *ue, const char *method, const char *ruri, const char *to,
                      const char *tag, const char *call_id, uint32_t cseq);
/* Add sec-agree headers when protected, then start a client transaction toward
 * the P-CSCF (its protected server port once the SAs are up). Ownership of req
 * passes. NULL when it could not be sent. */
sip_txn_t *ue_sip_send(ue_t *ue, sip_msg_t *req, sip_txn_client_cb cb, void *arg);
/* Send an ACK (or anything that is no transaction) toward the P-CSCF with a new
 * Via; msg stays with the caller. IMS_OK / IMS_ERROR. */
int ue_sip_send_stateless(ue_t *ue, sip_msg_t *msg);
/* Every value of a header name (each instance, split at commas outside <> and
 * quotes) into out[max][UE_URI_MAX]; returns how many. */
size_t ue_hdr_list(const sip_msg_t *msg, const char *name, char out[][UE_URI_MAX], size_t max);
/* The URI text of a From / To / Contact, without display name and parameters. */
int ue_uri_text(const osip_uri_t *u, char *buf, size_t len);

/* --- register.c ------------------------------------------------------------- */

/* Start REGISTER (kind REGISTER / REREGISTER / DEREGISTER) with expires. */
void ue_register_start(ue_t *ue, ue_cmd_kind_t kind, uint32_t expires);
/* A re-registration that is not a command (a call runs it, --reregister-ms):
 * its end is reported with event lines and ue_call_rereg_done(), and a
 * failure fails the process (status 1), not the running command. */
void ue_register_background(ue_t *ue);
bool ue_register_busy(const ue_t *ue);

/* --- call.c ----------------------------------------------------------------- */

void ue_call_init(ue_t *ue);
/* Call uri, hang up hold_ms after the answer; rereg_ms > 0: re-register that
 * long after the answer; indialog_ms > 0: send a re-INVITE that long after
 * the re-registration ended (or after the answer without one); hang up only
 * once those are over. */
void ue_call_start(ue_t *ue, const char *uri, uint32_t hold_ms, uint32_t rereg_ms,
                   uint32_t indialog_ms);
/* The socket of layer is being closed: a client INVITE in it is forgotten. */
void ue_call_forget_layer(ue_t *ue, const sip_txn_layer_t *layer);
/* The background re-registration is over (register.c). */
void ue_call_rereg_done(ue_t *ue);
/* answer --count N: take the next N calls. */
void ue_call_answer(ue_t *ue, uint32_t count);
/* INVITE, BYE, CANCEL (server transaction st; req owned by st). IMS_DECLINED: not ours. */
int ue_call_on_request(ue_t *ue, sip_txn_t *st, const sip_msg_t *req);
/* An ACK outside any transaction (ownership passes). */
void ue_call_on_ack(ue_t *ue, sip_msg_t *ack);
/* A 2xx that matched no transaction (ownership passes): ACK it again if ours. */
void ue_call_on_stray(ue_t *ue, sip_msg_t *resp);
void ue_call_fini(ue_t *ue);

/* --- message.c -------------------------------------------------------------- */

void ue_message_send(ue_t *ue, const char *uri, const char *text);
/* An incoming MESSAGE: print it, answer 200. */
void ue_message_on_request(ue_t *ue, sip_txn_t *st, const sip_msg_t *req);

/* --- ue-ipsec.c ------------------------------------------------------------- */

/* Open xfrm and check that the kernel takes ESP SAs; choose our SPIs. On
 * failure a clear "ipsec unavailable: ..." event line. IMS_OK / IMS_ERROR. */
int ue_ipsec_open(ue_t *ue);
/* The Security-Client value for our offer (ue->sec_client). IMS_OK / IMS_ERROR. */
int ue_ipsec_client_header(ue_t *ue);
/* A 401 in sec-agree: take the Security-Server, derive the keys from ck/ik,
 * install the four SAs and policies, set ue->pcscf_ps and ue->sec_verify.
 * IMS_OK, or IMS_ERROR after an event line saying why. */
int ue_ipsec_on_challenge(ue_t *ue, const sip_msg_t *resp, const uint8_t ck[16],
                          const uint8_t ik[16]);
/* A re-registration over SAs starts: new SPIs for its offer (TS 33.203 §7.4),
 * Security-Client rebuilt. IMS_OK / IMS_ERROR. */
int ue_ipsec_new_offer(ue_t *ue);
/* It ended without new SAs (not challenged, or failed): the offer goes back to
 * the SPIs of the SAs in use. */
void ue_ipsec_keep_offer(ue_t *ue);
/* A REGISTER got its 2xx: the newest SAs are confirmed and the ones they
 * replace, if any, removed (event line). */
void ue_ipsec_retire_old(ue_t *ue);
/* Remove what we installed and close xfrm (NULL ipsec is fine). */
void ue_ipsec_close(ue_t *ue);

#endif
