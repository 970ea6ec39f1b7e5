/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Cx User-Data (TS 29.228 Annex B/E, IMSSubscription XML) as the S-CSCF
 * keeps it: the private identity, the implicit registration set with its
 * barring flags, and the initial filter criteria for the sessions issue.
 *
 * The parser is a small bounded XML scanner (no libxml): elements, text,
 * the five predefined entities and numeric character references, comments,
 * processing instructions and CDATA; namespace prefixes are ignored. What
 * 29.228 does not define is skipped; anything malformed (unbalanced tags,
 * nesting past SCSCF_UD_MAX_DEPTH, a text too long, too many identities or
 * iFCs) fails the whole document. Several ServiceProfile elements are merged
 * into one profile (their identities and iFCs together).
 *
 * The result is compact, for it lives as long as the registration: one
 * block from the store (common/core/slab.h) holds the struct, the identities
 * and their strings, and the iFCs sit in a second block, an iFC set, that
 * profiles with the same iFCs share once scscf_profile_share_ifcs has found
 * them equal (most users of a network have one of a handful of service
 * profiles: the "shared iFC sets" idea of TS 29.228, done locally).
 * The PrivateID of the document is not kept (the registration has it).
 */
#ifndef SCSCF_USER_DATA_H
#define SCSCF_USER_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/core/hash.h"

#define SCSCF_UD_MAX_IMPU 8        /* identities in the implicit set (CX_MAX_IMPU) */
#define SCSCF_UD_MAX_IFC 32
#define SCSCF_UD_MAX_SPT 256       /* service point triggers over all iFCs */
#define SCSCF_UD_MAX_DEPTH 16
#define SCSCF_UD_MAX_TEXT 1024     /* one element's text */
#define SCSCF_UD_MAX_STRINGS 16384 /* all kept strings together */

typedef enum scscf_spt_kind {
    SCSCF_SPT_NONE = 0,
    SCSCF_SPT_REQUEST_URI,
    SCSCF_SPT_METHOD,
    SCSCF_SPT_HEADER,          /* what = header name, content = regex or NULL */
    SCSCF_SPT_SESSION_CASE,
    SCSCF_SPT_SESSION_DESC,    /* what = line, content = regex or NULL */
    SCSCF_SPT_REG_TYPE         /* reg_types: bit 0 initial, 1 re-, 2 de-registration */
} scscf_spt_kind_t;

typedef struct scscf_spt {
    scscf_spt_kind_t kind;
    bool negated;
    uint32_t groups;           /* bit g set for each <Group>g</Group> (g < 32) */
    int session_case;
    unsigned reg_types;
    const char *what;
    const char *content;
} scscf_spt_t;

typedef struct scscf_ifc {
    int priority;
    bool cnf;                  /* ConditionTypeCNF: 1 conjunctive, 0 disjunctive */
    int profile_part;          /* -1 absent, 0 registered, 1 unregistered */
    const char *as_name;       /* ApplicationServer/ServerName */
    int default_handling;      /* 0 SESSION_CONTINUED, 1 SESSION_TERMINATED */
    const char *service_info;  /* or NULL */
    bool include_register_request, include_register_response;
    scscf_spt_t *spts;         /* nspts entries */
    int nspts;
} scscf_ifc_t;

typedef struct scscf_profile {
    const scscf_ifc_t *ifcs;   /* nifc, in document order, NULL when none; read-only:
                                * the set may be shared with other profiles */
    int nifc;
    int nimpu;
    bool barred[SCSCF_UD_MAX_IMPU];
    const char *impu[];        /* nimpu entries */
} scscf_profile_t;

/*
 * Parse len octets of User-Data (from the network; need not be NUL-
 * terminated). Returns a new profile (free with scscf_profile_free), or NULL
 * when the document is malformed, exceeds a limit, or names no identity;
 * err (may be NULL) then gets a short reason. The profile's iFC set is its
 * own until scscf_profile_share_ifcs.
 */
scscf_profile_t *scscf_user_data_parse(const char *xml, size_t len, char *err, size_t errlen);
/* Frees p and drops its reference to its iFC set. NULL is a no-op. */
void scscf_profile_free(scscf_profile_t *p);

/*
 * The iFC sets in use, for sharing: a table from scscf_ifc_sets_new (a
 * context keeps one), indexed by a hash of the sets' content. A shared set
 * lives until the last profile using it is freed; freeing the table first
 * leaves the sets still in use to their profiles, unshared.
 */
ims_hash_t *scscf_ifc_sets_new(void);
void scscf_ifc_sets_free(ims_hash_t *sets);
/* Replace p's own iFC set by an equal one of sets (or enter it there). */
void scscf_profile_share_ifcs(scscf_profile_t *p, ims_hash_t *sets);

/* Index of impu in the set, or -1. */
int scscf_profile_find(const scscf_profile_t *p, const char *impu);

#endif
