/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dictionary: base (RFC 6733, RFC 4006 Subscription-Id, NASREQ framed
 * addresses), Cx (TS 29.229) and Rx (TS 29.214) AVPs and commands, for log
 * output and for validating what arrives (types, fixed sizes, M-bit rules).
 */
#ifndef DIA_DICT_H
#define DIA_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diameter/base/codec.h"

typedef enum dia_type {
    DIA_T_OCTETS, DIA_T_I32, DIA_T_I64, DIA_T_U32, DIA_T_U64, DIA_T_F32, DIA_T_F64,
    DIA_T_GROUPED, DIA_T_ADDRESS, DIA_T_TIME, DIA_T_UTF8, DIA_T_IDENTITY, DIA_T_URI,
    DIA_T_ENUM, DIA_T_IPFILTER
} dia_type_t;

typedef enum dia_mrule { DIA_M_MUST, DIA_M_MAY, DIA_M_MUSTNOT } dia_mrule_t;

typedef struct dia_dict_avp {
    uint32_t code;
    uint32_t vendor;
    const char *name;
    dia_type_t type;
    dia_mrule_t m;
} dia_dict_avp_t;

/* The entry for code/vendor, or NULL when unknown. */
const dia_dict_avp_t *dia_dict_avp(uint32_t code, uint32_t vendor);
/* "CER", "CEA", "UAR", ...; app_id tells Rx AAR (265) etc.; NULL when unknown. */
const char *dia_dict_cmd_name(uint32_t code, bool request);
/* One line for logs: command, ids and the top-level AVPs with values. */
void dia_msg_dump(const dia_msg_t *m, char *buf, size_t buflen);

/* Codes used across the code base. */
enum {
    DIA_AVP_USER_NAME = 1, DIA_AVP_HOST_IP_ADDRESS = 257, DIA_AVP_AUTH_APPLICATION_ID = 258,
    DIA_AVP_ACCT_APPLICATION_ID = 259, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID = 260,
    DIA_AVP_SESSION_ID = 263, DIA_AVP_ORIGIN_HOST = 264, DIA_AVP_SUPPORTED_VENDOR_ID = 265,
    DIA_AVP_VENDOR_ID = 266, DIA_AVP_FIRMWARE_REVISION = 267, DIA_AVP_RESULT_CODE = 268,
    DIA_AVP_PRODUCT_NAME = 269, DIA_AVP_DISCONNECT_CAUSE = 273, DIA_AVP_AUTH_SESSION_STATE = 277,
    DIA_AVP_ORIGIN_STATE_ID = 278, DIA_AVP_FAILED_AVP = 279, DIA_AVP_ERROR_MESSAGE = 281,
    DIA_AVP_ROUTE_RECORD = 282, DIA_AVP_DESTINATION_REALM = 283, DIA_AVP_DESTINATION_HOST = 293,
    DIA_AVP_ORIGIN_REALM = 296, DIA_AVP_EXPERIMENTAL_RESULT = 297,
    DIA_AVP_EXPERIMENTAL_RESULT_CODE = 298, DIA_AVP_INBAND_SECURITY_ID = 299
};

enum {
    DIA_CMD_CER = 257, DIA_CMD_DWR = 280, DIA_CMD_DPR = 282,
    DIA_CMD_AAR = 265, DIA_CMD_RAR = 258, DIA_CMD_STR = 275, DIA_CMD_ASR = 274,
    DIA_CMD_UAR = 300, DIA_CMD_SAR = 301, DIA_CMD_LIR = 302, DIA_CMD_MAR = 303,
    DIA_CMD_RTR = 304, DIA_CMD_PPR = 305
};

enum {
    DIA_APP_COMMON = 0, DIA_APP_CX = 16777216, DIA_APP_RX = 16777236
};

enum {
    DIA_SUCCESS = 2001, DIA_COMMAND_UNSUPPORTED = 3001, DIA_UNABLE_TO_DELIVER = 3002,
    DIA_REALM_NOT_SERVED = 3003, DIA_TOO_BUSY = 3004, DIA_APPLICATION_UNSUPPORTED = 3007,
    DIA_INVALID_HDR_BITS = 3008, DIA_INVALID_AVP_BITS = 3009, DIA_UNKNOWN_PEER = 3010,
    DIA_ELECTION_LOST = 4003, DIA_AVP_UNSUPPORTED = 5001, DIA_UNKNOWN_SESSION_ID = 5002,
    DIA_INVALID_AVP_VALUE = 5004, DIA_MISSING_AVP = 5005, DIA_NO_COMMON_APPLICATION = 5010,
    DIA_UNSUPPORTED_VERSION = 5011, DIA_UNABLE_TO_COMPLY = 5012,
    DIA_INVALID_BIT_IN_HEADER = 5013, DIA_INVALID_AVP_LENGTH = 5014,
    DIA_INVALID_MESSAGE_LENGTH = 5015
};

#endif
