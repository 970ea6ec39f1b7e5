/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A bounded log of recent events per UE, for diagnosis ("why does this phone
 * not register?"): the daemon records what happened to each UE at its
 * decision points, and a control command reads one UE's last events back.
 *
 * Memory is fixed when the log is made: max_ues slots of IMS_UELOG_EVENTS
 * events each, and an index of twice that many buckets. A UE is named by its
 * IMPI; each slot also keeps the UE's last IMPU and source address, so it can
 * be found by any of the three. When every slot is taken, the UE that was
 * quiet the longest is evicted (LRU); within a slot the oldest event is
 * overwritten (a ring). Strings longer than their field are kept truncated.
 *
 * The log knows nothing of what the events mean: kind and code are the
 * daemon's (e.g. an enum of its outcomes and a SIP or Diameter code).
 * Single-threaded: the daemon's loop only.
 */
#ifndef IMS_UELOG_H
#define IMS_UELOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define IMS_UELOG_EVENTS 8          /* events kept per UE */
#define IMS_UELOG_ID_MAX 128        /* IMPI, IMPU (with the NUL) */
#define IMS_UELOG_ADDR_MAX 64       /* "ip:port", "[v6]:port" */
#define IMS_UELOG_DETAIL_MAX 96

typedef struct ims_uelog ims_uelog_t;

typedef struct ims_uelog_event {
    uint64_t at_ms;                 /* ims_clock_now_ms() when recorded */
    uint32_t code;                  /* the caller's: SIP status, Diameter result... */
    uint8_t kind;                   /* the caller's enum */
    char detail[IMS_UELOG_DETAIL_MAX];
} ims_uelog_event_t;

/* One UE as the log holds it (read-only for callers). */
typedef struct ims_uelog_ue {
    char impi[IMS_UELOG_ID_MAX];
    char impu[IMS_UELOG_ID_MAX];    /* last seen; "" when none yet */
    char addr[IMS_UELOG_ADDR_MAX];  /* last seen; "" when none yet */
    uint64_t last_ms;               /* time of the newest event */
    ims_uelog_event_t ev[IMS_UELOG_EVENTS];   /* a ring: see ims_uelog_event */
    uint8_t nev, head;              /* events held; slot of the oldest */
    int32_t lru_prev, lru_next, hnext;        /* internal: indices, -1 none */
} ims_uelog_ue_t;

/* A log of at most max_ues UEs (>= 1); NULL when max_ues is 0. Aborts when
 * memory runs out. */
ims_uelog_t *ims_uelog_new(size_t max_ues);
/* NULL is a no-op. */
void ims_uelog_free(ims_uelog_t *log);

/*
 * Record an event of the UE impi (must be non-empty; log NULL: no-op). impu
 * and addr, when non-NULL and non-empty, become the UE's last-seen IMPU and
 * address; otherwise the ones recorded before stay. detail is printf-style
 * (truncated to IMS_UELOG_DETAIL_MAX - 1). A new UE may evict the least
 * recently recorded one. Every pointer returned earlier by ims_uelog_find may
 * now name another UE: look it up again.
 */
void ims_uelog_add(ims_uelog_t *log, const char *impi, const char *impu, const char *addr,
                   uint8_t kind, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/*
 * The UE that what names: its IMPI exactly, else its last IMPU exactly, else
 * its address, either exactly ("ip:port") or by host alone ("10.0.0.7",
 * "::1" or "[::1]"). When several UEs match the same way (one address behind
 * which several UEs sit), the most recently active one. *nmatch (may be
 * NULL) is set to how many matched. NULL when none. The pointer is valid
 * until the next ims_uelog_add.
 */
const ims_uelog_ue_t *ims_uelog_find(const ims_uelog_t *log, const char *what, int *nmatch);

/* Event i of ue, 0 being the oldest held (i < ue->nev), or NULL. */
const ims_uelog_event_t *ims_uelog_event(const ims_uelog_ue_t *ue, int i);

/* How many UEs the log holds now. */
size_t ims_uelog_count(const ims_uelog_t *log);

/* ---- uelog_reply.c: a daemon's "diagnose" control command ---- */

struct ims_ctl_args;

/* What a daemon's diagnosis is made of (static). */
typedef struct ims_uelog_diag {
    const char *const *kinds;    /* the names of its event kinds, by value ("?": none) */
    size_t nkinds;
    /* The verdict (one line, plain words) on ue's events, into out. */
    void (*verdict)(const ims_uelog_ue_t *ue, char *out, size_t outlen);
    /* When nothing in the log matches what: another IMPI to look up (e.g. the
     * user of another IMPU of an implicit set), or NULL. May be NULL. */
    const char *(*alias)(void *arg, const char *what);
    /* The verdict when nothing is found: "nothing seen: no <seen> of <what>
     * reached this <who> lately<hint>". */
    const char *seen, *who, *hint;
} ims_uelog_diag_t;

/*
 * "diagnose <IMPI|IMPU|IP>" (a ctl command's body; arg goes to d->alias):
 * the UE found in log (ims_uelog_find), and as data {"verdict", "impi",
 * "impu", "address", "ues_matching" (when several matched), "events":
 * [{"time" (UTC), "ago_ms", "event", "code", "detail"}, oldest first]}.
 * IMS_OK, or IMS_ERROR with the usage in err.
 */
int ims_uelog_diag_cmd(const ims_uelog_t *log, const ims_uelog_diag_t *d, void *arg,
                       const struct ims_ctl_args *a, json_t **data, char *err, size_t errlen);

#endif
