/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cx (TS 29.228 procedures, TS 29.229 protocol): each command as a plain struct,
 * one build function and one parse function per command, so that neither the
 * CSCFs nor ims-hss ever walk AVPs themselves. Application 16777216, vendor
 * 10415; requests carry Vendor-Specific-Application-Id and
 * Auth-Session-State = NO_STATE_MAINTAINED.
 *
 * Parse functions fill the struct from a validated dia_msg_t; strings are
 * copied into fixed buffers (a longer value is a parse error: DIAMETER_
 * INVALID_AVP_VALUE). They return IMS_OK, or IMS_ERROR with *missing set to the
 * code of a missing mandatory AVP (answer 5005 DIAMETER_MISSING_AVP).
 */
#ifndef CX_H
#define CX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diameter/base/codec.h"
#include "diameter/base/peer.h"

#define CX_STR 256            /* identities, server names */
#define CX_MAX_IMPU 8         /* Public-Identity AVPs per message */
#define CX_MAX_CAPS 8
#define CX_MAX_AUTH_ITEMS 4
#define CX_USER_DATA_MAX 16384

/* AVP codes (vendor 10415 unless noted). */
enum {
    CX_AVP_VISITED_NETWORK_IDENTIFIER = 600, CX_AVP_PUBLIC_IDENTITY = 601,
    CX_AVP_SERVER_NAME = 602, CX_AVP_SERVER_CAPABILITIES = 603,
    CX_AVP_MANDATORY_CAPABILITY = 604, CX_AVP_OPTIONAL_CAPABILITY = 605, CX_AVP_USER_DATA = 606,
    CX_AVP_SIP_NUMBER_AUTH_ITEMS = 607, CX_AVP_SIP_AUTHENTICATION_SCHEME = 608,
    CX_AVP_SIP_AUTHENTICATE = 609, CX_AVP_SIP_AUTHORIZATION = 610,
    CX_AVP_SIP_AUTHENTICATION_CONTEXT = 611, CX_AVP_SIP_AUTH_DATA_ITEM = 612,
    CX_AVP_SIP_ITEM_NUMBER = 613, CX_AVP_SERVER_ASSIGNMENT_TYPE = 614,
    CX_AVP_DEREGISTRATION_REASON = 615, CX_AVP_REASON_CODE = 616, CX_AVP_REASON_INFO = 617,
    CX_AVP_CHARGING_INFORMATION = 618, CX_AVP_PRIMARY_EVENT_CHARGING_FUNCTION_NAME = 619,
    CX_AVP_PRIMARY_CHARGING_COLLECTION_FUNCTION_NAME = 621, CX_AVP_USER_AUTHORIZATION_TYPE = 623,
    CX_AVP_USER_DATA_ALREADY_AVAILABLE = 624, CX_AVP_CONFIDENTIALITY_KEY = 625,
    CX_AVP_INTEGRITY_KEY = 626, CX_AVP_SUPPORTED_FEATURES = 628,
    CX_AVP_ASSOCIATED_IDENTITIES = 632, CX_AVP_ORIGINATING_REQUEST = 633,
    CX_AVP_SIP_DIGEST_AUTHENTICATE = 635,
    CX_AVP_DIGEST_REALM = 104, CX_AVP_DIGEST_QOP = 110, CX_AVP_DIGEST_ALGORITHM = 111,
    CX_AVP_DIGEST_HA1 = 121  /* these four: vendor 0 */
};

/* Experimental-Result-Code values (vendor 10415). */
enum {
    CX_FIRST_REGISTRATION = 2001, CX_SUBSEQUENT_REGISTRATION = 2002,
    CX_UNREGISTERED_SERVICE = 2003, CX_SUCCESS_SERVER_NAME_NOT_STORED = 2004,
    CX_ERROR_USER_UNKNOWN = 5001, CX_ERROR_IDENTITIES_DONT_MATCH = 5002,
    CX_ERROR_IDENTITY_NOT_REGISTERED = 5003, CX_ERROR_ROAMING_NOT_ALLOWED = 5004,
    CX_ERROR_IDENTITY_ALREADY_REGISTERED = 5005, CX_ERROR_AUTH_SCHEME_NOT_SUPPORTED = 5006,
    CX_ERROR_IN_ASSIGNMENT_TYPE = 5007, CX_ERROR_TOO_MUCH_DATA = 5008,
    CX_ERROR_NOT_SUPPORTED_USER_DATA = 5009
};

typedef enum cx_sat {
    CX_SAT_NO_ASSIGNMENT = 0, CX_SAT_REGISTRATION = 1, CX_SAT_RE_REGISTRATION = 2,
    CX_SAT_UNREGISTERED_USER = 3, CX_SAT_TIMEOUT_DEREGISTRATION = 4,
    CX_SAT_USER_DEREGISTRATION = 5, CX_SAT_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME = 6,
    CX_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME = 7, CX_SAT_ADMINISTRATIVE_DEREGISTRATION = 8,
    CX_SAT_AUTHENTICATION_FAILURE = 9, CX_SAT_AUTHENTICATION_TIMEOUT = 10,
    CX_SAT_DEREGISTRATION_TOO_MUCH_DATA = 11
} cx_sat_t;

/* The outcome of an answer: base Result-Code or 3GPP Experimental-Result-Code. */
typedef struct cx_result {
    uint32_t code;
    bool experimental;
} cx_result_t;

typedef struct cx_caps {
    uint32_t mandatory[CX_MAX_CAPS];
    int nmandatory;
    uint32_t optional[CX_MAX_CAPS];
    int noptional;
    char server_name[CX_MAX_CAPS][CX_STR];
    int nserver_names;
} cx_caps_t;

/* UAR / UAA (code 300) */
typedef struct cx_uar {
    char impi[CX_STR];                 /* User-Name */
    char impu[CX_STR];                 /* Public-Identity */
    char visited_network[CX_STR];      /* Visited-Network-Identifier */
    uint32_t auth_type;                /* User-Authorization-Type: 0 REG, 1 DE_REG, 2 REG_AND_CAPS */
} cx_uar_t;
typedef struct cx_uaa {
    cx_result_t result;
    char server_name[CX_STR];          /* empty when absent */
    bool has_caps;
    cx_caps_t caps;
} cx_uaa_t;

/* MAR / MAA (code 303) */
typedef struct cx_auth_item {
    char scheme[64];                   /* "Digest-AKAv1-MD5", "SIP Digest", ... */
    uint8_t authenticate[64];          /* SIP-Authenticate: RAND||AUTN */
    size_t authenticate_len;
    uint8_t authorization[64];         /* SIP-Authorization: XRES (MAA) or RAND||AUTS (MAR resync) */
    size_t authorization_len;
    uint8_t ck[16], ik[16];
    bool has_keys;
    char digest_realm[CX_STR];         /* SIP-Digest-Authenticate (SIP Digest) */
    char digest_algorithm[32];
    char digest_qop[32];
    char digest_ha1[64];               /* hex */
    bool has_digest;
} cx_auth_item_t;
typedef struct cx_mar {
    char impi[CX_STR];
    char impu[CX_STR];
    char server_name[CX_STR];
    uint32_t num_items;
    cx_auth_item_t item;               /* scheme, and authorization for resync */
} cx_mar_t;
typedef struct cx_maa {
    cx_result_t result;
    char impi[CX_STR];
    uint32_t num_items;
    cx_auth_item_t items[CX_MAX_AUTH_ITEMS];
    int nitems;
} cx_maa_t;

/* SAR / SAA (code 301) */
typedef struct cx_sar {
    char impi[CX_STR];                 /* empty when absent */
    char impu[CX_MAX_IMPU][CX_STR];
    int nimpu;
    char server_name[CX_STR];
    cx_sat_t type;
    uint32_t user_data_already_available;
} cx_sar_t;
typedef struct cx_saa {
    cx_result_t result;
    char impi[CX_STR];
    char *user_data;                   /* malloc'd XML (NUL-terminated) or NULL; cx_saa_clear frees */
    size_t user_data_len;
    char ecf[CX_STR];                  /* Primary-Event-Charging-Function-Name, if any */
    char ccf[CX_STR];                  /* Primary-Charging-Collection-Function-Name, if any */
} cx_saa_t;
void cx_saa_clear(cx_saa_t *saa);

/* LIR / LIA (code 302) */
typedef struct cx_lir {
    char impu[CX_STR];
    bool originating;                  /* Originating-Request present */
    uint32_t auth_type;
} cx_lir_t;
typedef struct cx_lia {
    cx_result_t result;
    char server_name[CX_STR];
    bool has_caps;
    cx_caps_t caps;
} cx_lia_t;

/* RTR / RTA (code 304), HSS -> S-CSCF */
typedef struct cx_rtr {
    char impi[CX_STR];
    char impu[CX_MAX_IMPU][CX_STR];
    int nimpu;
    uint32_t reason_code;              /* 0 PERMANENT_TERMINATION .. 3 REMOVE_S-CSCF */
    char reason_info[CX_STR];
} cx_rtr_t;

/* PPR / PPA (code 305), HSS -> S-CSCF */
typedef struct cx_ppr {
    char impi[CX_STR];
    char *user_data;                   /* malloc'd or NULL; cx_ppr_clear frees */
    size_t user_data_len;
} cx_ppr_t;
void cx_ppr_clear(cx_ppr_t *ppr);

/*
 * Builders. Requests: dest_realm required, dest_host optional (NULL). They use
 * dia_node_request_init (fresh Session-Id, Origin-*, Destination-*) and add the
 * Cx header AVPs. Return a message ready for dia_node_send, or NULL.
 * Answers: built on the request (dia_node_answer_init); result.experimental
 * chooses Experimental-Result{Vendor-Id 10415, code} over Result-Code.
 */
dia_msg_t *cx_build_uar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_uar_t *r);
dia_msg_t *cx_build_mar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_mar_t *r);
dia_msg_t *cx_build_sar(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_sar_t *r);
dia_msg_t *cx_build_lir(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_lir_t *r);
dia_msg_t *cx_build_rtr(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_rtr_t *r);
dia_msg_t *cx_build_ppr(dia_node_t *n, const char *dest_realm, const char *dest_host,
                        const cx_ppr_t *r);
dia_msg_t *cx_build_uaa(dia_node_t *n, const dia_msg_t *req, const cx_uaa_t *a);
dia_msg_t *cx_build_maa(dia_node_t *n, const dia_msg_t *req, const cx_maa_t *a);
dia_msg_t *cx_build_saa(dia_node_t *n, const dia_msg_t *req, const cx_saa_t *a);
dia_msg_t *cx_build_lia(dia_node_t *n, const dia_msg_t *req, const cx_lia_t *a);
/* RTA/PPA and error answers: only a result. */
dia_msg_t *cx_build_result_answer(dia_node_t *n, const dia_msg_t *req, cx_result_t result);
/* The answer to a request a cx_parse_* refused: missing != 0 gives 5005
 * DIAMETER_MISSING_AVP with Failed-AVP{a zero-filled example of that AVP}
 * (RFC 6733 §7.5); missing == 0 gives 5004 DIAMETER_INVALID_AVP_VALUE. */
dia_msg_t *cx_build_parse_error_answer(dia_node_t *n, const dia_msg_t *req, uint32_t missing);

int cx_parse_uar(const dia_msg_t *m, cx_uar_t *r, uint32_t *missing);
int cx_parse_mar(const dia_msg_t *m, cx_mar_t *r, uint32_t *missing);
int cx_parse_sar(const dia_msg_t *m, cx_sar_t *r, uint32_t *missing);
int cx_parse_lir(const dia_msg_t *m, cx_lir_t *r, uint32_t *missing);
int cx_parse_rtr(const dia_msg_t *m, cx_rtr_t *r, uint32_t *missing);
int cx_parse_ppr(const dia_msg_t *m, cx_ppr_t *r, uint32_t *missing);
int cx_parse_uaa(const dia_msg_t *m, cx_uaa_t *a);
int cx_parse_maa(const dia_msg_t *m, cx_maa_t *a);
int cx_parse_saa(const dia_msg_t *m, cx_saa_t *a);
int cx_parse_lia(const dia_msg_t *m, cx_lia_t *a);
int cx_parse_result(const dia_msg_t *m, cx_result_t *res);
/* A failure's name for logs and diagnosis, without the DIAMETER_(ERROR_)
 * prefix: "USER_UNKNOWN", "UNABLE_TO_COMPLY"...; "error" / "experimental
 * result" for codes not named here. */
const char *cx_result_name(const cx_result_t *r);

#endif
