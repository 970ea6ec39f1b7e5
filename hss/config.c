/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loading config/hss.cfg (every key is documented in that file). Errors name
 * the file, the line and the key. Strings read from the file stay owned by
 * the ims_conf_t, which the context keeps for its whole life.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/auth/aka.h"
#include "common/auth/digest.h"
#include "common/core/rc.h"
#include "diameter/base/dict.h"
#include "hss/context.h"

#define KEYLEN 256

typedef struct ld {
    hss_ctx_t *ctx;
    ims_conf_t *conf;
    char *err;
    size_t errlen;
} ld_t;

/* "base.name" (or name alone when base is empty) into buf. */
static const char *key(char *buf, const char *base, const char *name)
{
    int n = *base ? snprintf(buf, KEYLEN, "%s.%s", base, name)
                  : snprintf(buf, KEYLEN, "%s", name);

    if (n < 0 || n >= KEYLEN)
        buf[0] = '\0';   /* no key of ours is that long: an unmatchable key */
    return buf;
}

static int conf_fail(ld_t *l)
{
    snprintf(l->err, l->errlen, "%s", ims_conf_error(l->conf));
    return IMS_ERROR;
}

/*
 * A validation error about key k, located at its line. The conf layer only
 * reports a line with its own type errors, so ask for an integer in the empty
 * range [1, 0] (which fails for any setting) and keep the "file:line: "
 * prefix of that error.
 */
__attribute__((format(printf, 3, 4)))
static int bad(ld_t *l, const char *k, const char *fmt, ...)
{
    long long v;
    const char *e, *at;
    int n = 0;
    va_list ap;

    (void)ims_conf_int(l->conf, k, true, 1, 0, &v);
    e = ims_conf_error(l->conf);
    at = strstr(e, k);
    if (at)
        n = snprintf(l->err, l->errlen, "%.*s%s: ", (int)(at - e), e, k);
    else
        n = snprintf(l->err, l->errlen, "%s: %s: ", ims_conf_path(l->conf), k);
    if (n < 0 || (size_t)n >= l->errlen)
        return IMS_ERROR;
    va_start(ap, fmt);
    vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return IMS_ERROR;
}

/* Getters: IMS_OK (absent optional keys leave *out alone) or IMS_ERROR. */
static int get_str(ld_t *l, const char *base, const char *name, bool req, const char **out)
{
    char k[KEYLEN];

    if (ims_conf_str(l->conf, key(k, base, name), req, out) == IMS_ERROR)
        return conf_fail(l);
    return IMS_OK;
}

static int get_int(ld_t *l, const char *base, const char *name, bool req, long long min,
                   long long max, long long *out)
{
    char k[KEYLEN];

    if (ims_conf_int(l->conf, key(k, base, name), req, min, max, out) == IMS_ERROR)
        return conf_fail(l);
    return IMS_OK;
}

static int get_u32(ld_t *l, const char *base, const char *name, long long min, long long max,
                   uint32_t *out)
{
    long long v = *out;

    if (get_int(l, base, name, false, min, max, &v) != IMS_OK)
        return IMS_ERROR;
    *out = (uint32_t)v;
    return IMS_OK;
}

static int get_bool(ld_t *l, const char *base, const char *name, bool *out)
{
    char k[KEYLEN];

    if (ims_conf_bool(l->conf, key(k, base, name), false, out) == IMS_ERROR)
        return conf_fail(l);
    return IMS_OK;
}

static int list_len(ld_t *l, const char *base, const char *name, size_t *n)
{
    char k[KEYLEN];

    if (ims_conf_list_len(l->conf, key(k, base, name), n) != IMS_OK)
        return conf_fail(l);
    return IMS_OK;
}

/* "base.name.[i]" into buf. */
static const char *elem(char *buf, const char *base, const char *name, size_t i)
{
    char k[KEYLEN];
    int n = snprintf(buf, KEYLEN, "%s.[%zu]", key(k, base, name), i);

    if (n < 0 || n >= KEYLEN)
        buf[0] = '\0';
    return buf;
}

/* Exactly n octets as 2n hex digits; *present false when absent. */
static int get_hex(ld_t *l, const char *base, const char *name, uint8_t *out, size_t n,
                   bool *present)
{
    const char *s = NULL;
    char k[KEYLEN];

    *present = false;
    if (get_str(l, base, name, false, &s) != IMS_OK)
        return IMS_ERROR;
    if (!s)
        return IMS_OK;
    if (strlen(s) != 2 * n || ims_auth_hex_decode(s, 2 * n, out, n, NULL) != IMS_OK)
        return bad(l, key(k, base, name), "expected %zu hex digits", 2 * n);
    *present = true;
    return IMS_OK;
}

/* ---- iFCs -------------------------------------------------------------- */

static int load_reg_types(ld_t *l, const char *base, hss_spt_t *spt)
{
    size_t n;
    char k[KEYLEN];
    long long v;

    if (list_len(l, base, "registration_type", &n) != IMS_OK)
        return IMS_ERROR;
    if (n == 0)
        return bad(l, key(k, base, "registration_type"), "expected a list of 0, 1 or 2");
    for (size_t i = 0; i < n; i++) {
        if (get_int(l, elem(k, base, "registration_type", i), "", true, 0, 2, &v) != IMS_OK)
            return IMS_ERROR;
        spt->reg_types |= (uint8_t)(1u << v);
    }
    spt->kind = HSS_SPT_REG_TYPE;
    return IMS_OK;
}

static int load_spt(ld_t *l, const char *base, hss_spt_t *spt)
{
    const char *s;
    long long v = 0, sc = -1;
    size_t nkinds = 0, nrt;
    static const struct { const char *name; hss_spt_kind_t kind; } strs[] = {
        { "method", HSS_SPT_METHOD }, { "request_uri", HSS_SPT_REQUEST_URI },
        { "header", HSS_SPT_HEADER }, { "sdp_line", HSS_SPT_SESSION_DESC },
    };

    if (get_int(l, base, "group", false, 0, INT_MAX, &v) != IMS_OK ||
        get_bool(l, base, "negated", &spt->negated) != IMS_OK ||
        get_str(l, base, "content", false, &spt->content) != IMS_OK ||
        get_int(l, base, "session_case", false, 0, 4, &sc) != IMS_OK ||
        list_len(l, base, "registration_type", &nrt) != IMS_OK)
        return IMS_ERROR;
    spt->group = (int)v;
    for (size_t i = 0; i < IMS_ARRAY_LEN(strs); i++) {
        s = NULL;
        if (get_str(l, base, strs[i].name, false, &s) != IMS_OK)
            return IMS_ERROR;
        if (s) {
            spt->kind = strs[i].kind;
            spt->what = s;
            nkinds++;
        }
    }
    if (sc >= 0) {
        spt->kind = HSS_SPT_SESSION_CASE;
        spt->session_case = (int)sc;
        nkinds++;
    }
    if (nrt > 0) {
        if (load_reg_types(l, base, spt) != IMS_OK)
            return IMS_ERROR;
        nkinds++;
    }
    if (nkinds != 1)
        return bad(l, base, "a trigger needs exactly one of method, request_uri, header, "
                   "session_case, sdp_line, registration_type");
    if (spt->content && spt->kind != HSS_SPT_HEADER && spt->kind != HSS_SPT_SESSION_DESC)
        return bad(l, base, "content goes with header or sdp_line only");
    return IMS_OK;
}

static int load_ifc(ld_t *l, const char *base, hss_ifc_t *ifc)
{
    const char *part = NULL;
    long long prio = 0, dh = 0;
    char k[KEYLEN];

    ifc->cnf = true;
    ifc->profile_part = -1;
    if (get_int(l, base, "priority", false, 0, INT_MAX, &prio) != IMS_OK ||
        get_bool(l, base, "cnf", &ifc->cnf) != IMS_OK ||
        get_str(l, base, "as", true, &ifc->as_name) != IMS_OK ||
        get_int(l, base, "default_handling", false, 0, 1, &dh) != IMS_OK ||
        get_str(l, base, "service_info", false, &ifc->service_info) != IMS_OK ||
        get_bool(l, base, "include_register_request", &ifc->include_register_request) !=
            IMS_OK ||
        get_bool(l, base, "include_register_response", &ifc->include_register_response) !=
            IMS_OK ||
        get_str(l, base, "profile_part", false, &part) != IMS_OK ||
        list_len(l, base, "triggers", &ifc->nspts) != IMS_OK)
        return IMS_ERROR;
    ifc->priority = (int)prio;
    ifc->default_handling = (int)dh;
    if (part && strcmp(part, "registered") == 0)
        ifc->profile_part = 0;
    else if (part && strcmp(part, "unregistered") == 0)
        ifc->profile_part = 1;
    else if (part)
        return bad(l, key(k, base, "profile_part"), "expected \"registered\" or "
                   "\"unregistered\"");
    ifc->spts = calloc(ifc->nspts ? ifc->nspts : 1, sizeof(*ifc->spts));
    if (!ifc->spts)
        abort();
    for (size_t i = 0; i < ifc->nspts; i++)
        if (load_spt(l, elem(k, base, "triggers", i), &ifc->spts[i]) != IMS_OK)
            return IMS_ERROR;
    return IMS_OK;
}

/* A profile from base.ifcs, registered in the context (freed with it). */
static int load_profile(ld_t *l, const char *base, const char *name, hss_profile_t **out)
{
    hss_ctx_t *ctx = l->ctx;
    hss_profile_t *p = calloc(1, sizeof(*p));
    char k[KEYLEN];

    if (!p)
        abort();
    ctx->profiles = realloc(ctx->profiles, (ctx->nprofiles + 1) * sizeof(*ctx->profiles));
    if (!ctx->profiles)
        abort();
    ctx->profiles[ctx->nprofiles++] = p;
    p->name = name;
    if (list_len(l, base, "ifcs", &p->nifcs) != IMS_OK)
        return IMS_ERROR;
    p->ifcs = calloc(p->nifcs ? p->nifcs : 1, sizeof(*p->ifcs));
    if (!p->ifcs)
        abort();
    for (size_t i = 0; i < p->nifcs; i++) {
        if (load_ifc(l, elem(k, base, "ifcs", i), &p->ifcs[i]) != IMS_OK)
            return IMS_ERROR;
        if (p->ifcs[i].profile_part != 0)
            p->unreg_services = true;
    }
    *out = p;
    return IMS_OK;
}

static const hss_profile_t *find_profile(const hss_ctx_t *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->nprofiles; i++)
        if (ctx->profiles[i]->name && strcmp(ctx->profiles[i]->name, name) == 0)
            return ctx->profiles[i];
    return NULL;
}

static int load_profiles(ld_t *l)
{
    size_t n;
    char base[KEYLEN], k[KEYLEN];
    const char *name;
    hss_profile_t *p;

    if (list_len(l, "", "profiles", &n) != IMS_OK)
        return IMS_ERROR;
    for (size_t i = 0; i < n; i++) {
        elem(base, "", "profiles", i);
        if (get_str(l, base, "name", true, &name) != IMS_OK)
            return IMS_ERROR;
        if (find_profile(l->ctx, name))
            return bad(l, key(k, base, "name"), "profile \"%s\" is defined twice", name);
        if (load_profile(l, base, name, &p) != IMS_OK)
            return IMS_ERROR;
    }
    return IMS_OK;
}

/* ---- subscribers ------------------------------------------------------- */

/* The fields an explicit subscriber and a range share. */
static int load_sub_common(ld_t *l, const char *base, hss_sub_t *s)
{
    const char *scheme = NULL, *prof = NULL, *amf = "8000";
    bool has_op, has_opc;
    uint8_t opc[16];
    long long sqn = 0;
    size_t nifcs;
    hss_profile_t *p;
    char k[KEYLEN];

    if (get_hex(l, base, "k", s->k, 16, &s->has_k) != IMS_OK ||
        get_hex(l, base, "op", s->op, 16, &has_op) != IMS_OK ||
        get_hex(l, base, "opc", opc, 16, &has_opc) != IMS_OK ||
        get_str(l, base, "amf", false, &amf) != IMS_OK ||
        get_int(l, base, "sqn", false, 0, (long long)IMS_AKA_SQN_MAX, &sqn) != IMS_OK ||
        get_str(l, base, "password", false, &s->password) != IMS_OK ||
        get_str(l, base, "auth_scheme", false, &scheme) != IMS_OK ||
        get_str(l, base, "profile", false, &prof) != IMS_OK ||
        list_len(l, base, "ifcs", &nifcs) != IMS_OK)
        return IMS_ERROR;
    if (has_op && has_opc)
        return bad(l, key(k, base, "opc"), "give op or opc, not both");
    if (has_opc)
        memcpy(s->op, opc, sizeof(opc));
    s->op_is_opc = has_opc;
    if (s->has_k && !has_op && !has_opc)
        return bad(l, key(k, base, "k"), "k needs op or opc");
    if (strlen(amf) != 4 || ims_auth_hex_decode(amf, 4, s->amf, 2, NULL) != IMS_OK)
        return bad(l, key(k, base, "amf"), "expected 4 hex digits");
    s->sqn_start = (uint64_t)sqn;
    s->scheme = s->has_k ? HSS_SCHEME_AKA : HSS_SCHEME_DIGEST;
    if (scheme && strcmp(scheme, "aka") == 0)
        s->scheme = HSS_SCHEME_AKA;
    else if (scheme && strcmp(scheme, "digest") == 0)
        s->scheme = HSS_SCHEME_DIGEST;
    else if (scheme)
        return bad(l, key(k, base, "auth_scheme"), "expected \"aka\" or \"digest\"");
    if (s->scheme == HSS_SCHEME_AKA && !s->has_k)
        return bad(l, base, "AKA needs k and op (or opc)");
    if (s->scheme == HSS_SCHEME_DIGEST && !s->password)
        return bad(l, base, "SIP Digest needs a password");
    if (prof && nifcs)
        return bad(l, key(k, base, "ifcs"), "give profile or ifcs, not both");
    if (prof && !(s->profile = find_profile(l->ctx, prof)))
        return bad(l, key(k, base, "profile"), "no profile named \"%s\"", prof);
    if (nifcs) {
        if (load_profile(l, base, NULL, &p) != IMS_OK)
            return IMS_ERROR;
        s->profile = p;
    }
    return IMS_OK;
}

static int load_impus(ld_t *l, const char *base, hss_sub_t *s)
{
    size_t n, nb;
    char k[KEYLEN];
    const char *v;
    int idx;

    if (list_len(l, base, "impus", &n) != IMS_OK ||
        list_len(l, base, "barred_impus", &nb) != IMS_OK)
        return IMS_ERROR;
    if (n == 0 || n > HSS_MAX_IMPU)
        return bad(l, key(k, base, "impus"), "expected 1 to %d identities", HSS_MAX_IMPU);
    for (size_t i = 0; i < n; i++)
        if (ims_conf_list_str(l->conf, key(k, base, "impus"), i, &s->impus[i]) != IMS_OK)
            return conf_fail(l);
    s->nimpus = n;
    for (size_t i = 0; i < nb; i++) {
        if (ims_conf_list_str(l->conf, key(k, base, "barred_impus"), i, &v) != IMS_OK)
            return conf_fail(l);
        if ((idx = hss_sub_impu_index(s, v)) < 0)
            return bad(l, key(k, base, "barred_impus"), "%s is not one of impus", v);
        s->barred[idx] = true;
    }
    return IMS_OK;
}

static int load_subscriber(ld_t *l, const char *base)
{
    hss_sub_t *s = calloc(1, sizeof(*s));
    const char *at, *domain = NULL;
    char e[256];

    if (!s)
        abort();
    if (get_str(l, base, "impi", true, &s->impi) != IMS_OK ||
        get_str(l, base, "domain", false, &domain) != IMS_OK ||
        load_impus(l, base, s) != IMS_OK || load_sub_common(l, base, s) != IMS_OK)
        goto fail;
    at = strchr(s->impi, '@');
    s->realm = domain ? domain : at && at[1] ? at + 1 : l->ctx->home_domain;
    if (hss_ctx_add_sub(l->ctx, s, e, sizeof(e)) != IMS_OK) {
        bad(l, base, "%s", e);
        goto fail;
    }
    return IMS_OK;
fail:
    free(s);
    return IMS_ERROR;
}

static int load_range(ld_t *l, const char *base)
{
    hss_sub_t tmpl;
    const char *from, *domain = l->ctx->home_domain, *tel = NULL;
    long long count;
    char e[256];

    memset(&tmpl, 0, sizeof(tmpl));
    if (get_str(l, base, "imsi_from", true, &from) != IMS_OK ||
        get_int(l, base, "count", true, 1, 10000000, &count) != IMS_OK ||
        get_str(l, base, "domain", false, &domain) != IMS_OK ||
        get_str(l, base, "tel_prefix", false, &tel) != IMS_OK ||
        load_sub_common(l, base, &tmpl) != IMS_OK)
        return IMS_ERROR;
    tmpl.realm = domain;
    if (hss_ctx_add_range(l->ctx, from, (uint32_t)count, domain, tel, &tmpl, e,
                          sizeof(e)) != IMS_OK)
        return bad(l, base, "%s", e);
    return IMS_OK;
}

static int load_subscribers(ld_t *l)
{
    size_t n;
    char base[KEYLEN];

    if (list_len(l, "", "subscribers", &n) != IMS_OK)
        return IMS_ERROR;
    for (size_t i = 0; i < n; i++)
        if (load_subscriber(l, elem(base, "", "subscribers", i)) != IMS_OK)
            return IMS_ERROR;
    if (list_len(l, "", "ranges", &n) != IMS_OK)
        return IMS_ERROR;
    for (size_t i = 0; i < n; i++)
        if (load_range(l, elem(base, "", "ranges", i)) != IMS_OK)
            return IMS_ERROR;
    return IMS_OK;
}

/* ---- globals, Diameter, S-CSCFs ----------------------------------------- */

static int load_peers(ld_t *l)
{
    hss_ctx_t *ctx = l->ctx;
    size_t n;
    char base[KEYLEN];
    long long port;

    if (list_len(l, "diameter", "peers", &n) != IMS_OK)
        return IMS_ERROR;
    if (n > HSS_MAX_PEERS)
        return bad(l, "diameter.peers", "at most %d peers", HSS_MAX_PEERS);
    for (size_t i = 0; i < n; i++) {
        dia_peer_cfg_t *p = &ctx->peers[ctx->npeers++];

        elem(base, "diameter", "peers", i);
        p->realm = ctx->dia.origin_realm;
        port = 3868;
        if (get_str(l, base, "host", true, &p->host) != IMS_OK ||
            get_str(l, base, "realm", false, &p->realm) != IMS_OK ||
            get_str(l, base, "addr", false, &p->addr) != IMS_OK ||
            get_int(l, base, "port", false, 1, 65535, &port) != IMS_OK ||
            get_bool(l, base, "connect", &p->connect) != IMS_OK)
            return IMS_ERROR;
        p->port = (uint16_t)port;
        if (p->connect && !p->addr)
            return bad(l, base, "a peer we connect to needs addr");
    }
    return IMS_OK;
}

static int load_diameter(ld_t *l)
{
    dia_node_cfg_t *d = &l->ctx->dia;
    long long port = 3868;

    d->product_name = "ims-hss";
    d->tw_ms = 30000;
    d->tc_ms = 30000;
    d->request_timeout_ms = 4000;
    d->apps[0].app_id = DIA_APP_CX;
    d->apps[0].vendor_id = DIA_VENDOR_3GPP;
    d->napps = 1;
    if (get_str(l, "diameter", "identity", true, &d->origin_host) != IMS_OK ||
        get_str(l, "diameter", "realm", true, &d->origin_realm) != IMS_OK ||
        get_str(l, "diameter", "listen", true, &d->listen_addr) != IMS_OK ||
        get_int(l, "diameter", "port", false, 1, 65535, &port) != IMS_OK ||
        get_u32(l, "diameter", "tw_ms", 6000, 3600000, &d->tw_ms) != IMS_OK ||
        get_u32(l, "diameter", "tc_ms", 1000, 3600000, &d->tc_ms) != IMS_OK ||
        get_u32(l, "diameter", "request_timeout_ms", 100, 600000, &d->request_timeout_ms) !=
            IMS_OK)
        return IMS_ERROR;
    d->listen_port = (uint16_t)port;
    return load_peers(l);
}

static int load_int_list(ld_t *l, const char *base, const char *name, uint32_t *out,
                         int *nout)
{
    size_t n;
    long long v;
    char k[KEYLEN];

    if (list_len(l, base, name, &n) != IMS_OK)
        return IMS_ERROR;
    if (n > HSS_MAX_CAPS)
        return bad(l, key(k, base, name), "at most %d values", HSS_MAX_CAPS);
    for (size_t i = 0; i < n; i++) {
        if (get_int(l, elem(k, base, name, i), "", true, 0, UINT32_MAX, &v) != IMS_OK)
            return IMS_ERROR;
        out[i] = (uint32_t)v;
    }
    *nout = (int)n;
    return IMS_OK;
}

static int load_scscfs(ld_t *l)
{
    hss_ctx_t *ctx = l->ctx;
    size_t n;
    char base[KEYLEN];

    if (list_len(l, "", "scscfs", &n) != IMS_OK)
        return IMS_ERROR;
    if (n > HSS_MAX_SCSCF)
        return bad(l, "scscfs", "at most %d S-CSCFs", HSS_MAX_SCSCF);
    for (size_t i = 0; i < n; i++) {
        hss_scscf_t *s = &ctx->scscfs[ctx->nscscfs++];

        elem(base, "", "scscfs", i);
        s->realm = ctx->dia.origin_realm;
        if (get_str(l, base, "name", true, &s->name) != IMS_OK ||
            get_str(l, base, "diameter_host", true, &s->diameter_host) != IMS_OK ||
            get_str(l, base, "realm", false, &s->realm) != IMS_OK)
            return IMS_ERROR;
    }
    return load_int_list(l, "capabilities", "mandatory", ctx->cap_mandatory,
                         &ctx->ncap_mandatory) != IMS_OK ||
           load_int_list(l, "capabilities", "optional", ctx->cap_optional,
                         &ctx->ncap_optional) != IMS_OK ||
           get_bool(l, "capabilities", "server_names", &ctx->caps_with_names) != IMS_OK ||
           get_bool(l, "", "uaa_server_name", &ctx->uaa_server_name) != IMS_OK ||
           get_bool(l, "", "open5gs_mode", &ctx->open5gs_mode) != IMS_OK
        ? IMS_ERROR : IMS_OK;
}

static int load_globals(ld_t *l)
{
    hss_ctx_t *ctx = l->ctx;

    return get_str(l, "", "state_dir", true, &ctx->state_dir) != IMS_OK ||
           get_str(l, "", "home_domain", true, &ctx->home_domain) != IMS_OK ||
           get_bool(l, "", "test_redraw_zero_res", &ctx->test_redraw_zero_res) != IMS_OK ||
           get_u32(l, "sqn", "block", 1, 1000000, &ctx->sqn_block) != IMS_OK ||
           get_bool(l, "sqn", "fsync", &ctx->sqn_fsync) != IMS_OK ||
           get_str(l, "charging", "ecf", false, &ctx->charging_ecf) != IMS_OK ||
           get_str(l, "charging", "ccf", false, &ctx->charging_ccf) != IMS_OK
        ? IMS_ERROR : IMS_OK;
}

int hss_ctx_load(hss_ctx_t *ctx, const char *path, char *err, size_t errlen)
{
    ld_t l = { .ctx = ctx, .err = err, .errlen = errlen };

    ctx->conf = ims_conf_load(path, err, errlen);
    if (!ctx->conf)
        return IMS_ERROR;
    l.conf = ctx->conf;
    if (load_globals(&l) != IMS_OK || load_diameter(&l) != IMS_OK ||
        load_scscfs(&l) != IMS_OK || load_profiles(&l) != IMS_OK ||
        load_subscribers(&l) != IMS_OK)
        return IMS_ERROR;
    if (ctx->nsubs == 0) {
        snprintf(err, errlen, "%s: no subscribers (subscribers or ranges)", path);
        return IMS_ERROR;
    }
    return IMS_OK;
}
