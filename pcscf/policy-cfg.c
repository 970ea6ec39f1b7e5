/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The policy client's configuration, start and stop (pcscf.policy; see
 * config/pcscf.cfg and policy.h).
 *
 * Backends per access type. One P-CSCF serves 4G UEs (policy over Rx to a
 * PCRF) and 5G UEs (over N5 to a PCF) at once. Which one a UE's sessions use
 * is decided at its registration from the access-type of the
 * P-Access-Network-Info the UE sent (TS 24.229 §7.2A.4: 3GPP-E-UTRAN-FDD/-TDD
 * on LTE, 3GPP-NR-FDD/-TDD on NR, IEEE-802.11 on Wi-Fi, ...), by the first
 * rule of pcscf.policy.access whose pani is that access-type or a prefix of
 * it ending before a '-' ("3GPP-NR" covers 3GPP-NR-FDD and 3GPP-NR-TDD);
 * pcscf.policy.backend is the default for the rest, and the only setting a
 * single-backend configuration needs. The rule is kept with the UE
 * (ue->policy_access) and read when a session of the UE is created; a session
 * stays on its backend. A UE restored from the store after a restart uses the
 * default until it registers again.
 *
 * Stop. The sessions still open (calls not ended by the drain, the
 * registrations' signalling) are ended at their servers, STR or delete,
 * waiting at most release_ms for the answers, before the backends close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/conf.h"
#include "common/core/log.h"
#include "common/core/rc.h"
#include "pcscf/policy-int.h"

#define KEY_MAX 96

pcscf_psip_t *pcscf_psip_of(const pcscf_ctx_t *ctx)
{
    return ctx && ctx->policy ? pcscf_policy_owner_arg(ctx->policy) : NULL;
}

/* ---- access types ---- */

uint8_t pcscf_psip_access_of(const pcscf_psip_t *ps, const char *pani)
{
    size_t n;

    if (!pani)
        return 0;
    pani += strspn(pani, " \t");
    n = strcspn(pani, " \t;,");
    for (int i = 0; i < ps->naccess; i++) {
        size_t k = strlen(ps->access[i].pani);

        if (k <= n && strncasecmp(pani, ps->access[i].pani, k) == 0 &&
            (k == n || pani[k] == '-'))
            return (uint8_t)(i + 1);
    }
    return 0;
}

int pcscf_psip_backend_of(const pcscf_psip_t *ps, const pcscf_ue_t *ue)
{
    int rule = ue ? ue->policy_access : 0;

    return rule > 0 && rule <= ps->naccess ? ps->access[rule - 1].backend : ps->default_backend;
}

/* ---- configuration ---- */

typedef struct cfg {
    pcscf_policy_cfg_t table;
    const char *backend;                        /* the default's name */
    const char *rule_backend[PCSCF_POLICY_MAX_ACCESS];
    const char *names[PCSCF_POLICY_MAX_BACKENDS];   /* to start, in order */
    int nnames;
} cfg_t;

/* Note backend name (from key) as one to start; "none" is none. */
static int want(ims_conf_t *conf, cfg_t *c, const char *key, const char *name)
{
    if (strcmp(name, "none") == 0)
        return IMS_OK;
    if (strcmp(name, "rx") != 0 && strcmp(name, "n5") != 0) {
        IMS_ERR("%s: %s: \"%s\" (want \"rx\", \"n5\" or \"none\")", ims_conf_path(conf), key,
                name);
        return IMS_ERROR;
    }
    for (int i = 0; i < c->nnames; i++)
        if (strcmp(c->names[i], name) == 0)
            return IMS_OK;
    c->names[c->nnames++] = name;   /* two names at most: rx and n5 */
    return IMS_OK;
}

static int load_access(ims_conf_t *conf, cfg_t *c, pcscf_psip_t *ps)
{
    char kp[KEY_MAX], kb[KEY_MAX];
    const char *pani;
    size_t n;

    if (ims_conf_list_len(conf, "pcscf.policy.access", &n) != IMS_OK)
        return IMS_ERROR;
    if (n > PCSCF_POLICY_MAX_ACCESS) {
        IMS_ERR("%s: pcscf.policy.access: %zu rules (at most %d)", ims_conf_path(conf), n,
                PCSCF_POLICY_MAX_ACCESS);
        return IMS_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(kp, sizeof(kp), "pcscf.policy.access.[%zu].pani", i);
        snprintf(kb, sizeof(kb), "pcscf.policy.access.[%zu].backend", i);
        if (ims_conf_str(conf, kp, true, &pani) != IMS_OK ||
            ims_conf_str(conf, kb, true, &c->rule_backend[i]) != IMS_OK) {
            IMS_ERR("%s", ims_conf_error(conf));
            return IMS_ERROR;
        }
        if (!*pani || strlen(pani) >= PCSCF_POLICY_ACCESS_LEN || strpbrk(pani, " \t;,")) {
            IMS_ERR("%s: %s: \"%s\" is no access-type (e.g. \"3GPP-NR\")", ims_conf_path(conf),
                    kp, pani);
            return IMS_ERROR;
        }
        snprintf(ps->access[i].pani, sizeof(ps->access[i].pani), "%s", pani);
        if (want(conf, c, kb, c->rule_backend[i]) != IMS_OK)
            return IMS_ERROR;
    }
    ps->naccess = (int)n;
    return IMS_OK;
}

static int load_cfg(ims_conf_t *conf, cfg_t *c, pcscf_psip_t *ps)
{
    if (ims_conf_str(conf, "pcscf.policy.backend", false, &c->backend) == IMS_ERROR ||
        ims_conf_u32(conf, "pcscf.policy.timeout_ms", 50, 60000, &c->table.timeout_ms) != IMS_OK ||
        ims_conf_u32(conf, "pcscf.policy.max_sessions", 1, 10000000, &c->table.max_sessions) !=
            IMS_OK ||
        ims_conf_u32(conf, "pcscf.policy.retry_after", 0, 3600, &ps->retry_after_s) != IMS_OK ||
        ims_conf_u32(conf, "pcscf.policy.release_ms", 0, 60000, &ps->release_ms) != IMS_OK) {
        IMS_ERR("%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (want(conf, c, "pcscf.policy.backend", c->backend) != IMS_OK)
        return IMS_ERROR;
    return load_access(conf, c, ps);
}

/* ---- start and stop ---- */

static int backend_new(ims_conf_t *conf, const char *name, pcscf_ctx_t *ctx, uint32_t timeout,
                       const pcscf_policy_backend_t **ops, void **be)
{
    char err[512];
    int rc = strcmp(name, "rx") == 0
                 ? pcscf_policy_rx_new(conf, "pcscf.policy.rx", ctx->loop, timeout, ops, be,
                                       err, sizeof(err))
                 : pcscf_policy_n5_new(conf, "pcscf.policy.n5", ctx->loop, timeout, ops, be,
                                       err, sizeof(err));

    if (rc != IMS_OK)
        IMS_ERR("%s", err);
    return rc;
}

/* Start the backends c names into one table (ps->pc). */
static int start_backends(ims_conf_t *conf, cfg_t *c, pcscf_psip_t *ps)
{
    const pcscf_policy_backend_t *ops;
    void *be;

    for (int i = 0; i < c->nnames; i++) {
        if (backend_new(conf, c->names[i], ps->ctx, c->table.timeout_ms, &ops, &be) != IMS_OK)
            return IMS_ERROR;
        if (!ps->pc)
            ps->pc = pcscf_policy_new(ps->ctx->loop, &c->table, ops, be);
        else
            pcscf_policy_add_backend(ps->pc, ops, be);   /* two at most: room for four */
    }
    ps->default_backend = pcscf_policy_backend_index(ps->pc, c->backend);
    for (int i = 0; i < ps->naccess; i++)
        ps->access[i].backend = pcscf_policy_backend_index(ps->pc, c->rule_backend[i]);
    return IMS_OK;
}

static void log_start(const pcscf_psip_t *ps, const cfg_t *c)
{
    char rules[256] = "";
    size_t used = 0;

    for (int i = 0; i < ps->naccess && used < sizeof(rules); i++)
        used += (size_t)snprintf(rules + used, sizeof(rules) - used, ", %s -> %s",
                                 ps->access[i].pani, c->rule_backend[i]);
    IMS_NOTICE("P-CSCF policy: backend %s, timeout %u ms, at most %u sessions",
               pcscf_policy_backend_name(ps->pc), c->table.timeout_ms, c->table.max_sessions);
    if (ps->naccess)
        IMS_NOTICE("P-CSCF policy: by access type: default %s%s", c->backend, rules);
}

static void psip_free(pcscf_psip_t *ps)
{
    pcscf_policy_free(ps->pc);
    ims_hash_free(ps->legs);
    free(ps);
}

int pcscf_policy_start(pcscf_ctx_t *ctx, ims_conf_t *conf)
{
    cfg_t c = { .table = { PCSCF_POLICY_TIMEOUT_MS, PCSCF_POLICY_MAX_SESSIONS },
                .backend = "none" };
    pcscf_psip_t *ps = calloc(1, sizeof(*ps));

    if (!ps || !(ps->legs = ims_hash_new(256)))
        abort();
    ps->ctx = ctx;
    ps->retry_after_s = PCSCF_POLICY_RETRY_AFTER_S;
    ps->release_ms = PCSCF_POLICY_RELEASE_MS;
    if (load_cfg(conf, &c, ps) != IMS_OK || (c.nnames && start_backends(conf, &c, ps) !=
                                                              IMS_OK)) {
        psip_free(ps);
        return IMS_ERROR;
    }
    if (!ps->pc) {
        psip_free(ps);      /* "none" everywhere: the P-CSCF as it was */
        return IMS_OK;
    }
    pcscf_policy_set_owner(ps->pc, &pcscf_psip_owner, ps);
    ctx->policy = ps->pc;
    ctx->policy_hooks = &pcscf_psip_hooks;
    log_start(ps, &c);
    return IMS_OK;
}

static void log_stop(const pcscf_policy_t *pc)
{
    const pcscf_policy_stats_t *st = pcscf_policy_stats(pc);

    IMS_NOTICE("P-CSCF policy: %zu sessions at stop; %llu requests, %llu updates, %llu"
               " authorised, %llu rejected, %llu timeouts, %llu unreachable, %llu late,"
               " %llu released, %llu released by the network, %llu refused (table full)",
               pcscf_policy_count(pc), (unsigned long long)st->requests,
               (unsigned long long)st->updates, (unsigned long long)st->ok,
               (unsigned long long)st->rejected, (unsigned long long)st->timeouts,
               (unsigned long long)st->unreachable, (unsigned long long)st->late,
               (unsigned long long)st->released, (unsigned long long)st->network_released,
               (unsigned long long)st->full);
}

void pcscf_policy_stop(pcscf_ctx_t *ctx)
{
    pcscf_psip_t *ps = pcscf_psip_of(ctx);
    size_t ended;

    if (!ps)
        return;
    log_stop(ps->pc);
    ctx->policy_hooks = NULL;   /* the dialogs freed after this send nothing */
    pcscf_psip_leg_gone(ps, NULL);
    if ((ended = pcscf_policy_release_all(ps->pc, ps->release_ms)) != 0)
        IMS_NOTICE("P-CSCF policy: %zu sessions ended at their servers at stop", ended);
    ctx->policy = NULL;
    psip_free(ps);
}
