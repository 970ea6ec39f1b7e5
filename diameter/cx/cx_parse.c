/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cx parsers: one pass over a validated message's AVPs filling a plain struct.
 *
 * Each parser walks the top-level AVPs once (cx_pass_next), which also records
 * which AVPs were present and takes the result of an answer, then checks the
 * mandatory AVPs of the command ABNF (29.229 §6.1, `{}`) in ABNF order, so the
 * first one missing is the one named in *missing. For requests that includes
 * the common head: Session-Id, Vendor-Specific-Application-Id,
 * Auth-Session-State, Origin-Host, Origin-Realm, Destination-Realm. (RTR/PPR's
 * {Destination-Host} is not enforced: routing already brought them here.)
 *
 * Values that do not fit their buffer, have the wrong size (keys are exactly
 * 16 octets), occur more often than the struct holds, or are out of range make
 * the parse fail with *missing = 0 (the caller answers 5004). Unknown AVPs are
 * skipped: their M bits were checked against the dictionary by dia_msg_parse.
 */
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "diameter/cx/cx.h"

#define V3 DIA_VENDOR_3GPP
#define SEEN0_MAX 1024u     /* base codes we track */
#define SEEN3_BASE 600u     /* 3GPP Cx codes 600..727 */
#define SEEN3_MAX 128u
#define SAT_MAX 14u         /* RESTORATION, the last Server-Assignment-Type */

typedef struct cx_pass {
    dia_iter_t it;
    bool bad;                       /* a value did not fit or had the wrong size */
    bool has_result;
    cx_result_t result;
    uint8_t seen0[SEEN0_MAX / 8];   /* vendor 0 codes present */
    uint8_t seen3[SEEN3_MAX / 8];   /* vendor 10415 codes present, from 600 */
} cx_pass_t;

static bool is_avp(const dia_avp_t *a, uint32_t code, uint32_t vendor)
{
    return a->code == code && a->vendor == vendor;
}

static void mark(cx_pass_t *p, const dia_avp_t *a)
{
    if (a->vendor == 0 && a->code < SEEN0_MAX)
        p->seen0[a->code / 8] |= (uint8_t)(1u << (a->code % 8));
    else if (a->vendor == V3 && a->code >= SEEN3_BASE && a->code - SEEN3_BASE < SEEN3_MAX)
        p->seen3[(a->code - SEEN3_BASE) / 8] |= (uint8_t)(1u << ((a->code - SEEN3_BASE) % 8));
}

static bool seen(const cx_pass_t *p, uint32_t code)
{
    if (code >= SEEN3_BASE && code - SEEN3_BASE < SEEN3_MAX)
        return (p->seen3[(code - SEEN3_BASE) / 8] >> ((code - SEEN3_BASE) % 8)) & 1u;
    return code < SEEN0_MAX && ((p->seen0[code / 8] >> (code % 8)) & 1u);
}

/* ---- typed takes: a failure marks the pass bad ---- */

static void take_str(cx_pass_t *p, const dia_avp_t *a, char *buf, size_t len)
{
    if (dia_avp_str(a, buf, len) != IMS_OK) {
        buf[0] = '\0';
        p->bad = true;
    }
}

static void take_u32(cx_pass_t *p, const dia_avp_t *a, uint32_t *v)
{
    if (dia_avp_u32(a, v) != IMS_OK)
        p->bad = true;
}

static void take_bytes(cx_pass_t *p, const dia_avp_t *a, uint8_t *buf, size_t cap,
                       size_t *len)
{
    if (a->len > cap) {
        p->bad = true;
        return;
    }
    memcpy(buf, a->data, a->len);
    *len = a->len;
}

static void take_key(cx_pass_t *p, const dia_avp_t *a, uint8_t key[16], bool *got)
{
    if (a->len != 16) {
        p->bad = true;
        return;
    }
    memcpy(key, a->data, 16);
    *got = true;
}

/* User-Data: a NUL-terminated malloc'd copy (the last one wins). */
static void take_user_data(cx_pass_t *p, const dia_avp_t *a, char **data, size_t *len)
{
    char *d;

    if (a->len > CX_USER_DATA_MAX || !(d = malloc((size_t)a->len + 1))) {
        p->bad = true;
        return;
    }
    memcpy(d, a->data, a->len);
    d[a->len] = '\0';
    free(*data);
    *data = d;
    *len = a->len;
}

static void take_result(cx_pass_t *p, const dia_avp_t *a)
{
    dia_avp_t x;

    if (a->code == DIA_AVP_RESULT_CODE) {
        if (p->has_result && p->result.experimental)
            return;     /* a 3GPP outcome says more than a base one */
        take_u32(p, a, &p->result.code);
        p->result.experimental = false;
    } else if (dia_group_find(a, DIA_AVP_EXPERIMENTAL_RESULT_CODE, 0, &x)) {
        take_u32(p, &x, &p->result.code);
        p->result.experimental = true;
    } else {
        p->bad = true;
    }
    p->has_result = true;
}

/* ---- the pass ---- */

static bool pass_start(cx_pass_t *p, const dia_msg_t *m, uint32_t code, bool request)
{
    memset(p, 0, sizeof(*p));
    if (!m || m->code != code || m->app_id != DIA_APP_CX || dia_msg_is_request(m) != request)
        return false;
    dia_iter_msg(m, &p->it);
    return true;
}

/* The next AVP for the command's parser; results are taken here. */
static bool pass_next(cx_pass_t *p, dia_avp_t *a)
{
    while (dia_iter_next(&p->it, a)) {
        mark(p, a);
        if (is_avp(a, DIA_AVP_RESULT_CODE, 0) || is_avp(a, DIA_AVP_EXPERIMENTAL_RESULT, 0)) {
            take_result(p, a);
            continue;
        }
        return true;
    }
    return false;
}

/* End of a request: the first missing of the head and then of need (0-ended). */
static int req_done(const cx_pass_t *p, uint32_t *missing, const uint32_t *need)
{
    static const uint32_t head[] = {
        DIA_AVP_SESSION_ID, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, DIA_AVP_AUTH_SESSION_STATE,
        DIA_AVP_ORIGIN_HOST, DIA_AVP_ORIGIN_REALM, DIA_AVP_DESTINATION_REALM, 0
    };
    size_t i;

    *missing = 0;
    if (p->bad)
        return IMS_ERROR;
    for (i = 0; head[i] != 0; i++) {
        if (!seen(p, head[i])) {
            *missing = head[i];
            return IMS_ERROR;
        }
    }
    for (i = 0; need[i] != 0; i++) {
        if (!seen(p, need[i])) {
            *missing = need[i];
            return IMS_ERROR;
        }
    }
    return IMS_OK;
}

static int ans_done(const cx_pass_t *p, cx_result_t *res)
{
    if (p->bad || !p->has_result)
        return IMS_ERROR;
    *res = p->result;
    return IMS_OK;
}

/* ---- grouped parts ---- */

static void take_caps(cx_pass_t *p, const dia_avp_t *g, cx_caps_t *c)
{
    dia_iter_t it;
    dia_avp_t a;

    dia_iter_group(g, &it);
    while (dia_iter_next(&it, &a)) {
        if (is_avp(&a, CX_AVP_MANDATORY_CAPABILITY, V3)) {
            if (c->nmandatory >= CX_MAX_CAPS)
                p->bad = true;
            else
                take_u32(p, &a, &c->mandatory[c->nmandatory++]);
        } else if (is_avp(&a, CX_AVP_OPTIONAL_CAPABILITY, V3)) {
            if (c->noptional >= CX_MAX_CAPS)
                p->bad = true;
            else
                take_u32(p, &a, &c->optional[c->noptional++]);
        } else if (is_avp(&a, CX_AVP_SERVER_NAME, V3)) {
            if (c->nserver_names >= CX_MAX_CAPS)
                p->bad = true;
            else
                take_str(p, &a, c->server_name[c->nserver_names++], CX_STR);
        }
    }
}

static void take_digest(cx_pass_t *p, const dia_avp_t *g, cx_auth_item_t *it)
{
    dia_iter_t gi;
    dia_avp_t a;

    dia_iter_group(g, &gi);
    while (dia_iter_next(&gi, &a)) {
        if (is_avp(&a, CX_AVP_DIGEST_REALM, 0))
            take_str(p, &a, it->digest_realm, sizeof(it->digest_realm));
        else if (is_avp(&a, CX_AVP_DIGEST_ALGORITHM, 0))
            take_str(p, &a, it->digest_algorithm, sizeof(it->digest_algorithm));
        else if (is_avp(&a, CX_AVP_DIGEST_QOP, 0))
            take_str(p, &a, it->digest_qop, sizeof(it->digest_qop));
        else if (is_avp(&a, CX_AVP_DIGEST_HA1, 0))
            take_str(p, &a, it->digest_ha1, sizeof(it->digest_ha1));
    }
    it->has_digest = true;
}

static void take_auth_item(cx_pass_t *p, const dia_avp_t *g, cx_auth_item_t *it)
{
    dia_iter_t gi;
    dia_avp_t a;
    bool ck = false, ik = false;

    dia_iter_group(g, &gi);
    while (dia_iter_next(&gi, &a)) {
        if (is_avp(&a, CX_AVP_SIP_AUTHENTICATION_SCHEME, V3))
            take_str(p, &a, it->scheme, sizeof(it->scheme));
        else if (is_avp(&a, CX_AVP_SIP_AUTHENTICATE, V3))
            take_bytes(p, &a, it->authenticate, sizeof(it->authenticate),
                       &it->authenticate_len);
        else if (is_avp(&a, CX_AVP_SIP_AUTHORIZATION, V3))
            take_bytes(p, &a, it->authorization, sizeof(it->authorization),
                       &it->authorization_len);
        else if (is_avp(&a, CX_AVP_CONFIDENTIALITY_KEY, V3))
            take_key(p, &a, it->ck, &ck);
        else if (is_avp(&a, CX_AVP_INTEGRITY_KEY, V3))
            take_key(p, &a, it->ik, &ik);
        else if (is_avp(&a, CX_AVP_SIP_DIGEST_AUTHENTICATE, V3))
            take_digest(p, &a, it);
    }
    it->has_keys = ck && ik;
}

static void take_impu(cx_pass_t *p, const dia_avp_t *a, char (*impu)[CX_STR], int *n)
{
    if (*n >= CX_MAX_IMPU)
        p->bad = true;
    else
        take_str(p, a, impu[(*n)++], CX_STR);
}

/* ---- requests ---- */

int cx_parse_uar(const dia_msg_t *m, cx_uar_t *r, uint32_t *missing)
{
    static const uint32_t need[] = {
        DIA_AVP_USER_NAME, CX_AVP_PUBLIC_IDENTITY, CX_AVP_VISITED_NETWORK_IDENTIFIER, 0
    };
    cx_pass_t p;
    dia_avp_t a;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!pass_start(&p, m, DIA_CMD_UAR, true))
        return IMS_ERROR;
    while (pass_next(&p, &a)) {
        if (is_avp(&a, DIA_AVP_USER_NAME, 0))
            take_str(&p, &a, r->impi, sizeof(r->impi));
        else if (is_avp(&a, CX_AVP_PUBLIC_IDENTITY, V3))
            take_str(&p, &a, r->impu, sizeof(r->impu));
        else if (is_avp(&a, CX_AVP_VISITED_NETWORK_IDENTIFIER, V3))
            take_str(&p, &a, r->visited_network, sizeof(r->visited_network));
        else if (is_avp(&a, CX_AVP_USER_AUTHORIZATION_TYPE, V3))
            take_u32(&p, &a, &r->auth_type);
    }
    return req_done(&p, missing, need);
}

int cx_parse_mar(const dia_msg_t *m, cx_mar_t *r, uint32_t *missing)
{
    static const uint32_t need[] = {
        DIA_AVP_USER_NAME, CX_AVP_PUBLIC_IDENTITY, CX_AVP_SIP_AUTH_DATA_ITEM,
        CX_AVP_SIP_NUMBER_AUTH_ITEMS, CX_AVP_SERVER_NAME, 0
    };
    cx_pass_t p;
    dia_avp_t a;
    bool item = false;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!pass_start(&p, m, DIA_CMD_MAR, true))
        return IMS_ERROR;
    while (pass_next(&p, &a)) {
        if (is_avp(&a, DIA_AVP_USER_NAME, 0))
            take_str(&p, &a, r->impi, sizeof(r->impi));
        else if (is_avp(&a, CX_AVP_PUBLIC_IDENTITY, V3))
            take_str(&p, &a, r->impu, sizeof(r->impu));
        else if (is_avp(&a, CX_AVP_SERVER_NAME, V3))
            take_str(&p, &a, r->server_name, sizeof(r->server_name));
        else if (is_avp(&a, CX_AVP_SIP_NUMBER_AUTH_ITEMS, V3))
            take_u32(&p, &a, &r->num_items);
        else if (is_avp(&a, CX_AVP_SIP_AUTH_DATA_ITEM, V3) && !item) {
            take_auth_item(&p, &a, &r->item);   /* the ABNF allows one */
            item = true;
        }
    }
    return req_done(&p, missing, need);
}

int cx_parse_sar(const dia_msg_t *m, cx_sar_t *r, uint32_t *missing)
{
    static const uint32_t need[] = {
        CX_AVP_SERVER_NAME, CX_AVP_SERVER_ASSIGNMENT_TYPE, CX_AVP_USER_DATA_ALREADY_AVAILABLE, 0
    };
    cx_pass_t p;
    dia_avp_t a;
    uint32_t type = 0;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!pass_start(&p, m, DIA_CMD_SAR, true))
        return IMS_ERROR;
    while (pass_next(&p, &a)) {
        if (is_avp(&a, DIA_AVP_USER_NAME, 0))
            take_str(&p, &a, r->impi, sizeof(r->impi));
        else if (is_avp(&a, CX_AVP_PUBLIC_IDENTITY, V3))
            take_impu(&p, &a, r->impu, &r->nimpu);
        else if (is_avp(&a, CX_AVP_SERVER_NAME, V3))
            take_str(&p, &a, r->server_name, sizeof(r->server_name));
        else if (is_avp(&a, CX_AVP_SERVER_ASSIGNMENT_TYPE, V3))
            take_u32(&p, &a, &type);
        else if (is_avp(&a, CX_AVP_USER_DATA_ALREADY_AVAILABLE, V3))
            take_u32(&p, &a, &r->user_data_already_available);
    }
    if (type > SAT_MAX)
        p.bad = true;
    r->type = (cx_sat_t)type;
    return req_done(&p, missing, need);
}

int cx_parse_lir(const dia_msg_t *m, cx_lir_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { CX_AVP_PUBLIC_IDENTITY, 0 };
    cx_pass_t p;
    dia_avp_t a;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!pass_start(&p, m, DIA_CMD_LIR, true))
        return IMS_ERROR;
    while (pass_next(&p, &a)) {
        if (is_avp(&a, CX_AVP_PUBLIC_IDENTITY, V3))
            take_str(&p, &a, r->impu, sizeof(r->impu));
        else if (is_avp(&a, CX_AVP_ORIGINATING_REQUEST, V3))
            r->originating = true;
        else if (is_avp(&a, CX_AVP_USER_AUTHORIZATION_TYPE, V3))
            take_u32(&p, &a, &r->auth_type);
    }
    return req_done(&p, missing, need);
}

int cx_parse_rtr(const dia_msg_t *m, cx_rtr_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { DIA_AVP_USER_NAME, CX_AVP_DEREGISTRATION_REASON, 0 };
    cx_pass_t p;
    dia_avp_t a, x;
    bool no_code = false;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!pass_start(&p, m, DIA_CMD_RTR, true))
        return IMS_ERROR;
    while (pass_next(&p, &a)) {
        if (is_avp(&a, DIA_AVP_USER_NAME, 0)) {
            take_str(&p, &a, r->impi, sizeof(r->impi));
        } else if (is_avp(&a, CX_AVP_PUBLIC_IDENTITY, V3)) {
            take_impu(&p, &a, r->impu, &r->nimpu);
        } else if (is_avp(&a, CX_AVP_DEREGISTRATION_REASON, V3)) {
            no_code = !dia_group_find(&a, CX_AVP_REASON_CODE, V3, &x);
            if (!no_code)
                take_u32(&p, &x, &r->reason_code);
            if (dia_group_find(&a, CX_AVP_REASON_INFO, V3, &x))
                take_str(&p, &x, r->reason_info, sizeof(r->reason_info));
        }
    }
    if (req_done(&p, missing, need) != IMS_OK)
        return IMS_ERROR;
    if (no_code) {
        *missing = CX_AVP_REASON_CODE;  /* {Reason-Code} inside Deregistration-Reason */
        return IMS_ERROR;
    }
    return IMS_OK;
}

int cx_parse_ppr(const dia_msg_t *m, cx_ppr_t *r, uint32_t *missing)
{
    static const uint32_t need[] = { DIA_AVP_USER_NAME, 0 };
    cx_pass_t p;
    dia_avp_t a;

    memset(r, 0, sizeof(*r));
    *missing = 0;
    if (!pass_start(&p, m, DIA_CMD_PPR, true))
        return IMS_ERROR;
    while (pass_next(&p, &a)) {
        if (is_avp(&a, DIA_AVP_USER_NAME, 0))
            take_str(&p, &a, r->impi, sizeof(r->impi));
        else if (is_avp(&a, CX_AVP_USER_DATA, V3))
            take_user_data(&p, &a, &r->user_data, &r->user_data_len);
    }
    if (req_done(&p, missing, need) != IMS_OK) {
        cx_ppr_clear(r);
        return IMS_ERROR;
    }
    return IMS_OK;
}

/* ---- answers ---- */

int cx_parse_uaa(const dia_msg_t *m, cx_uaa_t *a)
{
    cx_pass_t p;
    dia_avp_t x;

    memset(a, 0, sizeof(*a));
    if (!pass_start(&p, m, DIA_CMD_UAR, false))
        return IMS_ERROR;
    while (pass_next(&p, &x)) {
        if (is_avp(&x, CX_AVP_SERVER_NAME, V3)) {
            take_str(&p, &x, a->server_name, sizeof(a->server_name));
        } else if (is_avp(&x, CX_AVP_SERVER_CAPABILITIES, V3)) {
            memset(&a->caps, 0, sizeof(a->caps));
            take_caps(&p, &x, &a->caps);
            a->has_caps = true;
        }
    }
    return ans_done(&p, &a->result);
}

int cx_parse_maa(const dia_msg_t *m, cx_maa_t *a)
{
    cx_pass_t p;
    dia_avp_t x;

    memset(a, 0, sizeof(*a));
    if (!pass_start(&p, m, DIA_CMD_MAR, false))
        return IMS_ERROR;
    while (pass_next(&p, &x)) {
        if (is_avp(&x, DIA_AVP_USER_NAME, 0)) {
            take_str(&p, &x, a->impi, sizeof(a->impi));
        } else if (is_avp(&x, CX_AVP_SIP_NUMBER_AUTH_ITEMS, V3)) {
            take_u32(&p, &x, &a->num_items);
        } else if (is_avp(&x, CX_AVP_SIP_AUTH_DATA_ITEM, V3)) {
            if (a->nitems >= CX_MAX_AUTH_ITEMS)
                p.bad = true;
            else
                take_auth_item(&p, &x, &a->items[a->nitems++]);
        }
    }
    return ans_done(&p, &a->result);
}

static void take_charging(cx_pass_t *p, const dia_avp_t *g, cx_saa_t *a)
{
    dia_avp_t x;

    if (dia_group_find(g, CX_AVP_PRIMARY_EVENT_CHARGING_FUNCTION_NAME, V3, &x))
        take_str(p, &x, a->ecf, sizeof(a->ecf));
    if (dia_group_find(g, CX_AVP_PRIMARY_CHARGING_COLLECTION_FUNCTION_NAME, V3, &x))
        take_str(p, &x, a->ccf, sizeof(a->ccf));
}

int cx_parse_saa(const dia_msg_t *m, cx_saa_t *a)
{
    cx_pass_t p;
    dia_avp_t x;

    memset(a, 0, sizeof(*a));
    if (!pass_start(&p, m, DIA_CMD_SAR, false))
        return IMS_ERROR;
    while (pass_next(&p, &x)) {
        if (is_avp(&x, DIA_AVP_USER_NAME, 0))
            take_str(&p, &x, a->impi, sizeof(a->impi));
        else if (is_avp(&x, CX_AVP_USER_DATA, V3))
            take_user_data(&p, &x, &a->user_data, &a->user_data_len);
        else if (is_avp(&x, CX_AVP_CHARGING_INFORMATION, V3))
            take_charging(&p, &x, a);
    }
    if (ans_done(&p, &a->result) != IMS_OK) {
        cx_saa_clear(a);
        return IMS_ERROR;
    }
    return IMS_OK;
}

int cx_parse_lia(const dia_msg_t *m, cx_lia_t *a)
{
    cx_pass_t p;
    dia_avp_t x;

    memset(a, 0, sizeof(*a));
    if (!pass_start(&p, m, DIA_CMD_LIR, false))
        return IMS_ERROR;
    while (pass_next(&p, &x)) {
        if (is_avp(&x, CX_AVP_SERVER_NAME, V3)) {
            take_str(&p, &x, a->server_name, sizeof(a->server_name));
        } else if (is_avp(&x, CX_AVP_SERVER_CAPABILITIES, V3)) {
            memset(&a->caps, 0, sizeof(a->caps));
            take_caps(&p, &x, &a->caps);
            a->has_caps = true;
        }
    }
    return ans_done(&p, &a->result);
}

int cx_parse_result(const dia_msg_t *m, cx_result_t *res)
{
    cx_pass_t p;
    dia_avp_t x;

    memset(res, 0, sizeof(*res));
    if (!m || dia_msg_is_request(m))
        return IMS_ERROR;
    memset(&p, 0, sizeof(p));
    dia_iter_msg(m, &p.it);
    while (pass_next(&p, &x))
        ;
    return ans_done(&p, res);
}

void cx_saa_clear(cx_saa_t *saa)
{
    free(saa->user_data);
    saa->user_data = NULL;
    saa->user_data_len = 0;
}

void cx_ppr_clear(cx_ppr_t *ppr)
{
    free(ppr->user_data);
    ppr->user_data = NULL;
    ppr->user_data_len = 0;
}
