/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The requests the HSS sends the S-CSCF (TS 29.228 §6.1.3, §6.1.4): RTR and
 * PPR; see scscf/cx-path.h. Apart from cx-path.c, which only sends, so that
 * the unit tests of the session paths need neither the store nor diagnose.c.
 */
#include "scscf/cx-path.h"

#include <stdio.h>
#include <string.h>

#include "common/core/log.h"
#include "diameter/base/dict.h"
#include "scscf/diagnose.h"
#include "scscf/reg-store.h"
#include "scscf/regevent.h"
#include "scscf/user-data.h"

/* Deregistration-Reason's Reason-Code (29.228 §6.3.17). */
static const char *rtr_reason(uint32_t code)
{
    static const char *const names[] = { "PERMANENT_TERMINATION", "NEW_SERVER_ASSIGNED",
                                         "SERVER_CHANGE", "REMOVE_S-CSCF" };

    return code < sizeof(names) / sizeof(names[0]) ? names[code] : "reason unknown";
}

cx_result_t scscf_on_rtr(void *arg, const cx_rtr_t *r)
{
    scscf_ctx_t *ctx = arg;
    scscf_reg_t *reg = r->impi[0] ? scscf_reg_find(ctx, r->impi) : NULL;
    bool permanent = r->reason_code == 0;

    for (int i = 0; !reg && i < r->nimpu; i++)
        reg = scscf_reg_find_impu(ctx, r->impu[i]);
    ctx->stats.rtr++;
    if (!reg || !reg->registered) {
        IMS_NOTICE("RTR for %s: not registered here", r->impi);
        return (cx_result_t){ DIA_UNABLE_TO_COMPLY, false };
    }
    IMS_NOTICE("RTR: %s de-registered by the HSS (reason %u%s%s)", reg->impi, r->reason_code,
               r->reason_info[0] ? ", " : "", r->reason_info);
    scscf_diag(ctx, reg->impi, NULL, NULL, SCSCF_DIAG_RTR, r->reason_code, "%s%s%.60s",
               rtr_reason(r->reason_code), r->reason_info[0] ? ", " : "", r->reason_info);
    /* no SAR after an RTR (24.229 §5.4.1.5) */
    scscf_regevent_notify_all(reg, true, permanent ? "rejected" : "deactivated",
                              permanent ? "rejected" : "noresource");
    scscf_reg_free(reg);
    return (cx_result_t){ DIA_SUCCESS, false };
}

static bool same_set(const scscf_profile_t *a, const scscf_profile_t *b)
{
    if (!a || !b || a->nimpu != b->nimpu)
        return false;
    for (int i = 0; i < a->nimpu; i++)
        if (strcmp(a->impu[i], b->impu[i]) != 0 || a->barred[i] != b->barred[i])
            return false;
    return true;
}

cx_result_t scscf_on_ppr(void *arg, const cx_ppr_t *r)
{
    scscf_ctx_t *ctx = arg;
    scscf_reg_t *reg = scscf_reg_find(ctx, r->impi);
    scscf_profile_t *p;
    char err[96];
    bool changed;

    ctx->stats.ppr++;
    if (!reg || !reg->profile) {
        IMS_NOTICE("PPR for %s: unknown here", r->impi);
        return (cx_result_t){ CX_ERROR_USER_UNKNOWN, true };
    }
    if (!r->user_data) {
        IMS_NOTICE("PPR: %s: no User-Data (charging information only)", r->impi);
        return (cx_result_t){ DIA_SUCCESS, false };
    }
    if (!(p = scscf_user_data_parse(r->user_data, r->user_data_len, err, sizeof(err)))) {
        IMS_NOTICE("PPR for %s: User-Data refused: %s", r->impi, err);
        return (cx_result_t){ CX_ERROR_NOT_SUPPORTED_USER_DATA, true };
    }
    changed = !same_set(reg->profile, p);
    scscf_reg_set_profile(reg, p);
    IMS_NOTICE("PPR: %s: %d iFCs, %d identities", r->impi, p->nifc, p->nimpu);
    /* a restart must come back with this profile, not the one of the last SAA */
    if (reg->registered)
        scscf_reg_store_save(reg, r->user_data, r->user_data_len);
    if (changed && reg->registered)
        scscf_regevent_notify_all(reg, false, "registered", NULL);
    return (cx_result_t){ DIA_SUCCESS, false };
}
