/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One typed pass over a validated message's AVPs, shared by the application
 * codecs (Cx, Rx): a parser walks the top-level AVPs once with dia_pass_next,
 * which records which AVPs were present, takes the result of an answer (and,
 * for applications that carry it at the top level, checks Auth-Application-Id),
 * and hands every other AVP to the parser. The parser fills its struct with
 * the dia_take_* helpers; a value that does not fit, has the wrong size or
 * occurs more often than the struct holds marks the pass bad. At the end,
 * dia_pass_req_done names the first mandatory AVP missing (the application's
 * head, then the command's own, then the first missing inside a group), and
 * dia_pass_ans_done gives the answer's result.
 *
 * Nothing is allocated by the pass itself; dia_take_data mallocs a copy the
 * caller owns. Input comes from the network: every take is bounded.
 */
#ifndef DIA_AVP_PASS_H
#define DIA_AVP_PASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diameter/base/codec.h"

#define DIA_PASS_SEEN0_MAX 1024u    /* base codes tracked: 0..1023 */
#define DIA_PASS_SEEN3_MAX 128u     /* 3GPP codes tracked: v3_base..v3_base+127 */

/* What a pass needs to know of the application (a static const per codec). */
typedef struct dia_pass_app {
    uint32_t app_id;            /* the header's Application-Id */
    uint32_t v3_base;           /* first 3GPP (vendor 10415) code tracked */
    bool auth_app_id;           /* top-level Auth-Application-Id: taken, must be app_id */
    const uint32_t *head;       /* mandatory AVPs of every request, 0-ended */
} dia_pass_app_t;

typedef struct dia_pass {
    const dia_pass_app_t *app;
    dia_iter_t it;
    bool bad;                   /* a value did not fit or had the wrong size */
    bool has_result;
    bool result_experimental;   /* result_code is an Experimental-Result-Code */
    uint32_t result_code;
    uint32_t inner_missing;     /* first mandatory AVP missing inside a group */
    uint8_t seen0[DIA_PASS_SEEN0_MAX / 8];
    uint8_t seen3[DIA_PASS_SEEN3_MAX / 8];
} dia_pass_t;

static inline bool dia_avp_is(const dia_avp_t *a, uint32_t code, uint32_t vendor)
{
    return a->code == code && a->vendor == vendor;
}

/* Start a pass over any message m (not NULL), whatever its code and app. */
void dia_pass_open(dia_pass_t *p, const dia_pass_app_t *app, const dia_msg_t *m);
/* The next AVP for the parser, false at the end. Result-Code,
 * Experimental-Result (and Auth-Application-Id when app->auth_app_id) are
 * taken here and not returned. A Result-Code after an Experimental-Result is
 * ignored: the 3GPP outcome says more than the base one. */
bool dia_pass_next(dia_pass_t *p, dia_avp_t *a);
/* Room for one more of n items (max at most): true, else the pass is bad. */
bool dia_pass_room(dia_pass_t *p, int n, int max);
/* The group g must hold code/vendor: else record it as missing inside (the
 * first such record is the one dia_pass_req_done reports). */
void dia_pass_group_need(dia_pass_t *p, const dia_avp_t *g, uint32_t code, uint32_t vendor);
/* End of a request: IMS_OK, or IMS_ERROR with *missing the first missing of
 * app->head, of need (0-ended), then inside the groups; *missing 0 when the
 * pass was bad (answer 5004). Presence is tracked for base codes below 1024
 * and 3GPP ones in app's range (a code in that range is looked up as 3GPP). */
int dia_pass_req_done(const dia_pass_t *p, const uint32_t *need, uint32_t *missing);
/* End of an answer: IMS_OK with the result, IMS_ERROR when bad or none. */
int dia_pass_ans_done(const dia_pass_t *p, uint32_t *code, bool *experimental);

/* ---- whole commands ---- */

/* A command's parser: take a (one of m's top-level AVPs other than those the
 * pass takes itself) into the command's struct through ctx. */
typedef void dia_take_fn(dia_pass_t *p, const dia_avp_t *a, void *ctx);

/* Start a pass over m and hand every AVP to take (as dia_pass_next returns
 * them); false when m is NULL or not the app's code as a request / an answer. */
bool dia_pass_run(dia_pass_t *p, const dia_pass_app_t *app, const dia_msg_t *m,
                  uint32_t code, bool request, dia_take_fn *take, void *ctx);
/* A request: dia_pass_run then dia_pass_req_done; *missing 0 when m is not
 * the command. */
int dia_pass_request(const dia_pass_app_t *app, const dia_msg_t *m, uint32_t code,
                     dia_take_fn *take, void *ctx, const uint32_t *need, uint32_t *missing);
/* An answer: dia_pass_run then dia_pass_ans_done. take may be NULL. */
int dia_pass_answer(const dia_pass_app_t *app, const dia_msg_t *m, uint32_t code,
                    dia_take_fn *take, void *ctx, uint32_t *res_code, bool *experimental);

/* ---- typed takes: a failure marks the pass bad ---- */

/* A string into buf[len] (NUL-terminated; emptied on failure). */
void dia_take_str(dia_pass_t *p, const dia_avp_t *a, char *buf, size_t len);
/* One more string into the array arr of *n strings of stride bytes each. */
void dia_take_str_rep(dia_pass_t *p, const dia_avp_t *a, char *arr, size_t stride, int *n,
                      int max);
void dia_take_u32(dia_pass_t *p, const dia_avp_t *a, uint32_t *v);
/* An optional Unsigned32/Enumerated: *has set. */
void dia_take_opt_u32(dia_pass_t *p, const dia_avp_t *a, bool *has, uint32_t *v);
/* One more of a repeated Unsigned32/Enumerated into arr[*n]. */
void dia_take_u32_rep(dia_pass_t *p, const dia_avp_t *a, uint32_t *arr, int *n, int max);
/* Octets into buf[cap], their number into *len. */
void dia_take_octets(dia_pass_t *p, const dia_avp_t *a, void *buf, size_t cap, size_t *len);
/* Exactly size octets into buf; *got set when taken (got may be NULL). */
void dia_take_fixed(dia_pass_t *p, const dia_avp_t *a, void *buf, size_t size, bool *got);
/* A NUL-terminated malloc'd copy of at most max octets into *data (the
 * previous one freed: the last wins), its length into *len. Caller frees. */
void dia_take_data(dia_pass_t *p, const dia_avp_t *a, size_t max, char **data, size_t *len);

#endif
