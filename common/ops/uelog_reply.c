/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A daemon's "diagnose" command on its per-UE log (uelog.h): the UE looked
 * up, the verdict the daemon makes of its events, who the UE is, and the
 * events with their wall-clock time (the log keeps the loop's clock).
 */
#include "common/ops/uelog.h"

#include <stdio.h>
#include <time.h>

#include "common/core/clock.h"
#include "common/core/rc.h"
#include "common/ops/ctl.h"

/* An event as a row; its time as wall-clock UTC, now_ms being the loop's now. */
static json_t *event_row(const ims_uelog_event_t *e, uint64_t now_ms, const ims_uelog_diag_t *d)
{
    struct timespec ts;
    struct tm tm;
    uint64_t ago = now_ms > e->at_ms ? now_ms - e->at_ms : 0, wall_ms;
    time_t secs;
    char when[32];
    json_t *o;

    clock_gettime(CLOCK_REALTIME, &ts);
    wall_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 - ago;
    secs = (time_t)(wall_ms / 1000);
    gmtime_r(&secs, &tm);
    snprintf(when, sizeof(when), "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(wall_ms % 1000));
    o = json_pack("{s:s,s:I,s:s,s:I}", "time", when, "ago_ms", (json_int_t)ago, "event",
                  e->kind < d->nkinds && d->kinds[e->kind] ? d->kinds[e->kind] : "?", "code",
                  (json_int_t)e->code);
    ims_ctl_set_str(o, "detail", e->detail);
    return o;
}

int ims_uelog_diag_cmd(const ims_uelog_t *log, const ims_uelog_diag_t *d, void *arg,
                       const ims_ctl_args_t *a, json_t **data, char *err, size_t errlen)
{
    uint64_t now = ims_clock_now_ms();
    const ims_uelog_ue_t *ue;
    const char *impi;
    char verdict[320];
    json_t *o, *events;
    int n = 0;

    if (a->argc != 1 || !a->argv[0][0]) {
        snprintf(err, errlen, "usage: diagnose <IMPI|IMPU|IP>");
        return IMS_ERROR;
    }
    ue = ims_uelog_find(log, a->argv[0], &n);
    if (!ue && d->alias && (impi = d->alias(arg, a->argv[0])) != NULL)
        ue = ims_uelog_find(log, impi, &n);
    if (ue)
        d->verdict(ue, verdict, sizeof(verdict));
    else
        snprintf(verdict, sizeof(verdict), "nothing seen: no %s of %.200s reached this %s "
                 "lately%s", d->seen, a->argv[0], d->who, d->hint ? d->hint : "");
    events = json_array();
    for (int i = 0; ue && i < ue->nev; i++)
        json_array_append_new(events, event_row(ims_uelog_event(ue, i), now, d));
    o = json_object();
    ims_ctl_set_str(o, "verdict", verdict);
    ims_ctl_set_str(o, "impi", ue ? ue->impi : NULL);
    ims_ctl_set_str(o, "impu", ue && ue->impu[0] ? ue->impu : NULL);
    ims_ctl_set_str(o, "address", ue && ue->addr[0] ? ue->addr : NULL);
    if (n > 1)
        json_object_set_new(o, "ues_matching", json_integer(n));
    json_object_set_new(o, "events", events);
    *data = o;
    return IMS_OK;
}
