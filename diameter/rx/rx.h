/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rx (TS 29.214; the P-CSCF is the AF, the PCRF the policy server): each
 * command as a plain struct, one build function and one parse function per
 * command, as for Cx (diameter/cx/cx.h). Application 16777236, vendor 10415.
 *
 * Rx sessions are stateful, unlike Cx: one Session-Id lives as long as the AF
 * session (a call, or the registration's signalling path) and every AAR, STR,
 * RAR and ASR of that session carries it. So the request builders take the
 * Session-Id from the caller; NULL makes a new one (the node's generator) and
 * the id used is always written to sid_out, which the caller keeps. Requests
 * carry {Auth-Application-Id} 16777236, not Vendor-Specific-Application-Id
 * (29.214 §5.6), and no Auth-Session-State (STATE_MAINTAINED is implied).
 * The answers carry Auth-Application-Id where their ABNF has it (AAA only).
 *
 * Parse functions fill the struct from a validated dia_msg_t; strings are
 * copied into fixed buffers (a longer value, or more repetitions than the
 * struct holds, is a parse error: DIAMETER_INVALID_AVP_VALUE). Request parsers
 * return IMS_OK, or IMS_ERROR with *missing set to the code of a missing
 * mandatory AVP (answer 5005 DIAMETER_MISSING_AVP), 0 for another fault.
 * The Session-Id of a parsed message: dia_msg_session_id().
 */
#ifndef RX_H
#define RX_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "diameter/base/codec.h"
#include "diameter/base/peer.h"

#define RX_SID_MAX 320         /* a Session-Id with its NUL */
#define RX_STR 256             /* identifiers, Flow-Descriptions */
#define RX_CODEC_DATA 1024     /* one Codec-Data: direction, offer/answer, m= and a= lines */
#define RX_MAX_MEDIA 4         /* Media-Component-Description per AAR */
#define RX_MAX_SUBS 4          /* Media-Sub-Component per media component */
#define RX_MAX_FLOW_DESC 2     /* Flow-Description per sub-component (uplink, downlink) */
#define RX_MAX_CODEC_DATA 2
#define RX_MAX_ACTIONS 8       /* Specific-Action per message */
#define RX_MAX_SUB_IDS 2       /* Subscription-Id per AAR */
#define RX_MAX_FLOWS 4         /* Flows per RAR, Flow-Number per Flows */

/* AVP codes (vendor 10415), 29.214 §5.3; IP-CAN-Type and RAT-Type from 29.212. */
enum {
    RX_AVP_ABORT_CAUSE = 500, RX_AVP_ACCESS_NETWORK_CHARGING_ADDRESS = 501,
    RX_AVP_ACCESS_NETWORK_CHARGING_IDENTIFIER = 502,
    RX_AVP_ACCESS_NETWORK_CHARGING_IDENTIFIER_VALUE = 503,
    RX_AVP_AF_APPLICATION_IDENTIFIER = 504, RX_AVP_AF_CHARGING_IDENTIFIER = 505,
    RX_AVP_FLOW_DESCRIPTION = 507, RX_AVP_FLOW_NUMBER = 509, RX_AVP_FLOWS = 510,
    RX_AVP_FLOW_STATUS = 511, RX_AVP_FLOW_USAGE = 512, RX_AVP_SPECIFIC_ACTION = 513,
    RX_AVP_MAX_REQUESTED_BANDWIDTH_DL = 515, RX_AVP_MAX_REQUESTED_BANDWIDTH_UL = 516,
    RX_AVP_MEDIA_COMPONENT_DESCRIPTION = 517, RX_AVP_MEDIA_COMPONENT_NUMBER = 518,
    RX_AVP_MEDIA_SUB_COMPONENT = 519, RX_AVP_MEDIA_TYPE = 520, RX_AVP_RR_BANDWIDTH = 521,
    RX_AVP_RS_BANDWIDTH = 522, RX_AVP_SIP_FORKING_INDICATION = 523, RX_AVP_CODEC_DATA = 524,
    RX_AVP_SERVICE_INFO_STATUS = 527, RX_AVP_AF_SIGNALLING_PROTOCOL = 529,
    RX_AVP_RX_REQUEST_TYPE = 533,
    RX_AVP_IP_CAN_TYPE = 1027, RX_AVP_RAT_TYPE = 1032
};

/* Base / NASREQ / RFC 4006 AVPs Rx uses (vendor 0). */
enum {
    RX_AVP_FRAMED_IP_ADDRESS = 8, RX_AVP_FRAMED_IPV6_PREFIX = 97,
    RX_AVP_TERMINATION_CAUSE = 295, RX_AVP_SUBSCRIPTION_ID = 443,
    RX_AVP_SUBSCRIPTION_ID_DATA = 444, RX_AVP_SUBSCRIPTION_ID_TYPE = 450
};

/* Experimental-Result-Code values (vendor 10415), 29.214 §5.5. */
enum {
    RX_INVALID_SERVICE_INFORMATION = 5061, RX_FILTER_RESTRICTIONS = 5062,
    RX_REQUESTED_SERVICE_NOT_AUTHORIZED = 5063, RX_DUPLICATED_AF_SESSION = 5064,
    RX_IP_CAN_SESSION_NOT_AVAILABLE = 5065, RX_UNAUTHORIZED_NON_EMERGENCY_SESSION = 5066
};

/* Enumerated values used by the P-CSCF (29.214 §5.3, RFC 6733 §8.15). */
enum { RX_MEDIA_AUDIO = 0, RX_MEDIA_VIDEO = 1, RX_MEDIA_CONTROL = 4, RX_MEDIA_TEXT = 5 };
enum {
    RX_FLOW_ENABLED_UPLINK = 0, RX_FLOW_ENABLED_DOWNLINK = 1, RX_FLOW_ENABLED = 2,
    RX_FLOW_DISABLED = 3, RX_FLOW_REMOVED = 4
};
enum { RX_USAGE_NO_INFORMATION = 0, RX_USAGE_RTCP = 1, RX_USAGE_AF_SIGNALLING = 2 };
enum {
    RX_ACTION_CHARGING_CORRELATION_EXCHANGE = 1, RX_ACTION_LOSS_OF_BEARER = 2,
    RX_ACTION_RECOVERY_OF_BEARER = 3, RX_ACTION_RELEASE_OF_BEARER = 4,
    RX_ACTION_IP_CAN_CHANGE = 6, RX_ACTION_SUCCESSFUL_RESOURCES_ALLOCATION = 8,
    RX_ACTION_FAILED_RESOURCES_ALLOCATION = 9
};
enum {
    RX_ABORT_BEARER_RELEASED = 0, RX_ABORT_INSUFFICIENT_SERVER_RESOURCES = 1,
    RX_ABORT_INSUFFICIENT_BEARER_RESOURCES = 2
};
enum { RX_SIGNALLING_NO_INFORMATION = 0, RX_SIGNALLING_SIP = 1 };
enum { RX_REQUEST_INITIAL = 0, RX_REQUEST_UPDATE = 1, RX_REQUEST_PCSCF_RESTORATION = 2 };
enum { RX_SUB_ID_E164 = 0, RX_SUB_ID_IMSI = 1, RX_SUB_ID_SIP_URI = 2, RX_SUB_ID_NAI = 3 };
enum { RX_TERMINATION_LOGOUT = 1 };     /* DIAMETER_LOGOUT */

/* The outcome of an answer: base Result-Code or 3GPP Experimental-Result-Code. */
typedef struct rx_result {
    uint32_t code;
    bool experimental;
} rx_result_t;

/* Media-Sub-Component: one port pair (RTP, or RTCP, or a SIP signalling flow). */
typedef struct rx_media_sub {
    uint32_t flow_number;                          /* {Flow-Number} */
    char flow_desc[RX_MAX_FLOW_DESC][RX_STR];      /* "permit in 17 from ..." / "permit out ..." */
    int nflow_desc;
    bool has_flow_usage;
    uint32_t flow_usage;                           /* RX_USAGE_* */
    bool has_flow_status;
    uint32_t flow_status;                          /* RX_FLOW_* */
    bool has_af_signalling_protocol;
    uint32_t af_signalling_protocol;               /* RX_SIGNALLING_* */
} rx_media_sub_t;

/* Media-Component-Description: one m= line. */
typedef struct rx_media_comp {
    uint32_t number;                               /* {Media-Component-Number}, from 1 */
    rx_media_sub_t subs[RX_MAX_SUBS];
    int nsubs;
    bool has_media_type;
    uint32_t media_type;                           /* RX_MEDIA_* */
    bool has_max_bw_ul, has_max_bw_dl;
    uint32_t max_bw_ul, max_bw_dl;                 /* bit/s */
    bool has_rr_bw, has_rs_bw;
    uint32_t rr_bw, rs_bw;                         /* b=RR, b=RS */
    bool has_flow_status;
    uint32_t flow_status;
    char codec_data[RX_MAX_CODEC_DATA][RX_CODEC_DATA];  /* "uplink\noffer\nm=audio ..." */
    int ncodec_data;
} rx_media_comp_t;

typedef struct rx_sub_id {
    uint32_t type;                                 /* RX_SUB_ID_* */
    char data[RX_STR];
} rx_sub_id_t;

/* Flows: which flows of a media component an event concerns (RAR). */
typedef struct rx_flows {
    uint32_t media_number;
    uint32_t flow_numbers[RX_MAX_FLOWS];
    int nflow_numbers;                             /* 0: all flows of the component */
} rx_flows_t;

/* AAR / AAA (code 265), AF -> PCRF. An rx_aar_t is about 18 KB. */
typedef struct rx_aar {
    char af_app_id[RX_STR];                        /* AF-Application-Identifier; "" absent */
    rx_media_comp_t media[RX_MAX_MEDIA];
    int nmedia;
    uint32_t specific_actions[RX_MAX_ACTIONS];
    int nspecific_actions;
    rx_sub_id_t sub_ids[RX_MAX_SUB_IDS];
    int nsub_ids;
    bool has_framed_ip;
    struct in_addr framed_ip;                      /* Framed-IP-Address */
    bool has_framed_ipv6;
    struct in6_addr framed_ipv6_prefix;            /* bits past the length: zero on the wire */
    uint8_t framed_ipv6_prefix_len;                /* 0..128 */
    char af_charging_id[RX_STR];                   /* AF-Charging-Identifier (ICID); "" absent */
    bool has_service_info_status;
    uint32_t service_info_status;                  /* 0 FINAL, 1 PRELIMINARY */
    bool has_rx_request_type;
    uint32_t rx_request_type;                      /* RX_REQUEST_* */
    bool has_sip_forking;
    uint32_t sip_forking;                          /* 0 SINGLE_DIALOGUE, 1 SEVERAL_DIALOGUES */
} rx_aar_t;
typedef struct rx_aaa {
    rx_result_t result;
    uint8_t an_charging_id[RX_STR];                /* the first Access-Network-Charging-
                                                    * Identifier-Value; len 0: absent */
    size_t an_charging_id_len;
    bool has_an_charging_addr;
    struct sockaddr_storage an_charging_addr;      /* Access-Network-Charging-Address */
    bool has_ip_can_type;
    uint32_t ip_can_type;
    bool has_rat_type;
    uint32_t rat_type;
} rx_aaa_t;

/* STR / STA (code 275), AF -> PCRF */
typedef struct rx_str {
    uint32_t termination_cause;                    /* RX_TERMINATION_LOGOUT */
} rx_str_t;
typedef struct rx_sta {
    rx_result_t result;
} rx_sta_t;

/* RAR / RAA (code 258), PCRF -> AF */
typedef struct rx_rar {
    uint32_t specific_actions[RX_MAX_ACTIONS];     /* at least one */
    int nspecific_actions;
    rx_flows_t flows[RX_MAX_FLOWS];
    int nflows;
    bool has_abort_cause;
    uint32_t abort_cause;                          /* RX_ABORT_* */
    bool has_ip_can_type;
    uint32_t ip_can_type;
    bool has_rat_type;
    uint32_t rat_type;
} rx_rar_t;
typedef struct rx_raa {
    rx_result_t result;
} rx_raa_t;

/* ASR / ASA (code 274), PCRF -> AF */
typedef struct rx_asr {
    uint32_t abort_cause;                          /* RX_ABORT_* */
} rx_asr_t;
typedef struct rx_asa {
    rx_result_t result;
} rx_asa_t;

/*
 * Request builders. dest_realm required; dest_host optional (NULL or "") for
 * AAR and STR, required for RAR and ASR ({Destination-Host}: the PCRF answers
 * the AF that opened the session, the Origin-Host of its AAR). session_id: the
 * AF session's Session-Id, or NULL for a new one. sid_out, if not NULL,
 * receives the Session-Id used (RX_SID_MAX bytes). A message ready for
 * dia_node_send, or NULL on invalid input (empty mandatory field, counts out
 * of range, a string not terminated within its buffer); sid_out is then "".
 */
dia_msg_t *rx_build_aar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_aar_t *r, char *sid_out);
dia_msg_t *rx_build_str(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_str_t *r, char *sid_out);
dia_msg_t *rx_build_rar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_rar_t *r, char *sid_out);
dia_msg_t *rx_build_asr(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const char *session_id, const rx_asr_t *r, char *sid_out);

/*
 * Answer builders, on the request (dia_node_answer_init: its Session-Id, ids,
 * Origin-*). result.experimental chooses Experimental-Result{Vendor-Id 10415,
 * code} over Result-Code; a 3xxx Result-Code gives the E-bit generic answer.
 */
dia_msg_t *rx_build_aaa(dia_node_t *n, const dia_msg_t *req, const rx_aaa_t *a);
dia_msg_t *rx_build_sta(dia_node_t *n, const dia_msg_t *req, const rx_sta_t *a);
dia_msg_t *rx_build_raa(dia_node_t *n, const dia_msg_t *req, const rx_raa_t *a);
dia_msg_t *rx_build_asa(dia_node_t *n, const dia_msg_t *req, const rx_asa_t *a);
/* The answer to a request an rx_parse_* refused: missing != 0 gives 5005
 * DIAMETER_MISSING_AVP with Failed-AVP{a zero-filled example of that AVP}
 * (RFC 6733 §7.5); missing == 0 gives 5004 DIAMETER_INVALID_AVP_VALUE. */
dia_msg_t *rx_build_parse_error_answer(dia_node_t *n, const dia_msg_t *req, uint32_t missing);

int rx_parse_aar(const dia_msg_t *m, rx_aar_t *r, uint32_t *missing);
int rx_parse_str(const dia_msg_t *m, rx_str_t *r, uint32_t *missing);
int rx_parse_rar(const dia_msg_t *m, rx_rar_t *r, uint32_t *missing);
int rx_parse_asr(const dia_msg_t *m, rx_asr_t *r, uint32_t *missing);
/* Answers: IMS_ERROR when the command does not match, a value is bad, or
 * neither Result-Code nor Experimental-Result is there. */
int rx_parse_aaa(const dia_msg_t *m, rx_aaa_t *a);
int rx_parse_sta(const dia_msg_t *m, rx_sta_t *a);
int rx_parse_raa(const dia_msg_t *m, rx_raa_t *a);
int rx_parse_asa(const dia_msg_t *m, rx_asa_t *a);

#endif
