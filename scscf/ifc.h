/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Initial filter criteria evaluation (TS 29.228 Annex B and F, TS 24.229
 * §5.4.3.2/3): which iFC of a profile (scscf/user-data.h) an initial request
 * triggers, in priority order, and where to continue when the request comes
 * back from the application server.
 *
 * A TriggerPoint is a formula over its service point triggers (SPTs). Each
 * SPT names one or more Group numbers. ConditionTypeCNF=1: SPTs sharing a
 * group are ORed and the groups ANDed; CNF=0 (DNF): SPTs sharing a group are
 * ANDed and the groups ORed. ConditionNegated inverts one SPT. An SPT that
 * names no group counts as group 0. An iFC without TriggerPoint (or with no
 * SPT in it) always matches. ProfilePartIndicator 0 limits an iFC to a
 * registered served user, 1 to an unregistered one; absent (or any other
 * value): both.
 *
 * SPT kinds (scscf/ifc-match.c):
 * - Method: the method name, compared case-sensitively.
 * - RegistrationType (with Method REGISTER or alone, as ims-hss writes it):
 *   the request is a REGISTER of one of the listed types; see
 *   scscf_ifc_env_t.reg_type and scscf_ifc_reg_type for what the type is.
 * - RequestURI: POSIX extended regular expression searched (unanchored) in
 *   the Request-URI as text.
 * - SIPHeader: without Content, the header is present; with it, the regular
 *   expression is found in the value of any instance. Header names compare
 *   case-insensitively and compact forms (RFC 3261 §7.3.3 and later: v f t i
 *   m l c e s k o u r b x d a j y n) are the same header as their long form.
 *   Headers libosip2 parses (From, Via, Contact, Route, ...) are matched
 *   against their value as libosip2 prints it.
 * - SessionCase: equality with the session case of the evaluation.
 * - SessionDescription: a line of an application/sdp body (the body itself,
 *   or an application/sdp part of a multipart body) whose type ("m", "a",
 *   ...) equals Line and, when Content is given, whose value (after '=')
 *   contains a match of the regular expression.
 *
 * Regular expressions are compiled case-insensitively (REG_EXTENDED |
 * REG_ICASE, as Kamailio's ims_isc does, so iFCs written for it behave the
 * same) into a bounded per-process cache. Patterns are data from the HSS:
 * one that does not compile, is longer than SCSCF_IFC_MAX_RE, uses a back-
 * reference or nests counted repetitions past SCSCF_IFC_MAX_REPEAT makes its
 * SPT not match (before negation), and is logged once.
 */
#ifndef SCSCF_IFC_H
#define SCSCF_IFC_H

#include <stdbool.h>

#include "common/sip/msg.h"
#include "scscf/user-data.h"

/* SessionCase values of 29.228 Annex B (tSessionCase). */
typedef enum scscf_session_case {
    SCSCF_CASE_ORIG = 0,            /* ORIGINATING_SESSION */
    SCSCF_CASE_TERM_REG = 1,        /* TERMINATING_REGISTERED */
    SCSCF_CASE_TERM_UNREG = 2,      /* TERMINATING_UNREGISTERED */
    SCSCF_CASE_ORIG_UNREG = 3,      /* ORIGINATING_UNREGISTERED */
    SCSCF_CASE_ORIG_CDIV = 4        /* ORIGINATING_CDIV */
} scscf_session_case_t;

/* RegistrationType bits, as in scscf_spt_t.reg_types (29.228 Annex B). */
#define SCSCF_REG_INITIAL (1u << 0)
#define SCSCF_REG_RE      (1u << 1)
#define SCSCF_REG_DE      (1u << 2)

#define SCSCF_IFC_MAX_RE 512       /* longest pattern compiled */
#define SCSCF_IFC_MAX_REPEAT 1000  /* product of the {m,n} bounds in one pattern */
#define SCSCF_IFC_RE_CACHE 128     /* compiled patterns kept; full -> emptied */

/* The cursor value that starts an evaluation with scscf_ifc_next. */
#define SCSCF_IFC_START (-1)

/* What the S-CSCF knows about a request beyond its text. */
typedef struct scscf_ifc_env {
    int session_case;       /* scscf_session_case_t */
    bool registered;        /* the served user is registered (ProfilePartIndicator) */
    unsigned reg_type;      /* REGISTER: SCSCF_REG_* bits of this request; 0: derived
                             * from the request by scscf_ifc_reg_type */
} scscf_ifc_env_t;

/*
 * Whether req (a parsed request; a response or NULL never matches) triggers
 * ifc for the given session case and registration state of the served user.
 * REGISTER types are derived from the request (scscf_ifc_reg_type). Pure but
 * for the regular expression cache; req is not changed.
 */
bool scscf_ifc_matches(const scscf_ifc_t *ifc, const sip_msg_t *req, int session_case,
                       bool registered);

/*
 * The next iFC of p that req triggers, in priority order (lowest Priority
 * first, equal priorities in document order), strictly after the cursor *pos
 * (SCSCF_IFC_START to begin). On a match *pos becomes that iFC's place in the
 * order, to be kept (e.g. with the ODI) and passed back when the request
 * returns from its AS; with no match left NULL is returned and *pos set past
 * the end. The cursor is only meaningful for the same profile p. The result
 * points into p.
 */
const scscf_ifc_t *scscf_ifc_next(const scscf_profile_t *p, const sip_msg_t *req,
                                  int session_case, bool registered, int *pos);

/* The same two with an explicit environment (e.g. a known registration type
 * for third-party REGISTER, 24.229 §5.4.1.7). */
bool scscf_ifc_matches_env(const scscf_ifc_t *ifc, const sip_msg_t *req,
                           const scscf_ifc_env_t *env);
const scscf_ifc_t *scscf_ifc_next_env(const scscf_profile_t *p, const sip_msg_t *req,
                                      const scscf_ifc_env_t *env, int *pos);

/* One SPT, ConditionNegated applied. */
bool scscf_spt_matches(const scscf_spt_t *spt, const sip_msg_t *req, const scscf_ifc_env_t *env);

/*
 * The registration type a REGISTER request shows by itself: SCSCF_REG_DE when
 * it removes its bindings (Contact: *, or every Contact expiring with 0 from
 * its expires parameter or the Expires header); SCSCF_REG_INITIAL |
 * SCSCF_REG_RE when it adds or refreshes any (whether the user already had a
 * registration is not in the request: pass reg_type in the environment to
 * tell them apart); 0 for a REGISTER without Contact (a query) or another
 * method.
 */
unsigned scscf_ifc_reg_type(const sip_msg_t *req);

/* Free the compiled regular expressions (at shutdown; they are rebuilt on
 * demand if evaluation continues). */
void scscf_ifc_cache_clear(void);

#endif
