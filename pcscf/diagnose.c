/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-UE diagnosis at the P-CSCF; see pcscf/diagnose.h.
 *
 * The verdict reads the newest event, and for a 401 that offered SAs it says
 * what is missing: the protected REGISTER on our port-s, which never came
 * (the UE did not set up its SAs, or its ESP packets do not reach us).
 */
#include "pcscf/diagnose.h"

#include <stdio.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/ops/ctl.h"

static void on_reg(pcscf_ctx_t *ctx, const sip_msg_t *req, int kind, uint32_t code,
                   const char *detail);
static void on_impu(pcscf_ctx_t *ctx, const char *impu, int kind, uint32_t code,
                    const char *detail);
static void on_reg_response(pcscf_ctx_t *ctx, const sip_msg_t *req, const sip_msg_t *resp);

const pcscf_diag_hooks_t pcscf_diag_hooks = { on_reg, on_reg_response, on_impu };

void pcscf_diag_start(pcscf_ctx_t *ctx)
{
    if (!ctx->uelog)
        ctx->uelog = ims_uelog_new(PCSCF_DIAG_UES);
    ctx->diag_hooks = &pcscf_diag_hooks;
}

void pcscf_diag_stop(pcscf_ctx_t *ctx)
{
    if (!ctx)
        return;
    ctx->diag_hooks = NULL;
    ims_uelog_free(ctx->uelog);
    ctx->uelog = NULL;
}

/* "user@host" of a URI into out ("" when none). */
static void uri_id(const osip_uri_t *u, bool scheme, char *out, size_t len)
{
    out[0] = '\0';
    if (!u || !u->host)
        return;
    snprintf(out, len, "%s%s%s%s%s", scheme ? (u->scheme ? u->scheme : "sip") : "",
             scheme ? ":" : "", u->username ? u->username : "", u->username ? "@" : "", u->host);
}

/* The IMPI of a REGISTER: its Authorization's username (quotes off), else
 * the user@host of its To (TS 33.203: the IMPI is derived from the IMPU). */
static void reg_impi(const sip_msg_t *req, char *out, size_t len)
{
    osip_authorization_t *a = osip_list_get(&req->m->authorizations, 0);
    const char *u = a ? a->username : NULL;
    size_t n;

    if (u && (n = strlen(u)) >= 2 && u[0] == '"' && u[n - 1] == '"') {
        snprintf(out, len, "%.*s", (int)(n - 2), u + 1);
        if (out[0])
            return;
    } else if (u && u[0]) {
        snprintf(out, len, "%s", u);
        return;
    }
    uri_id(req->m->to ? req->m->to->url : NULL, false, out, len);
}

static void on_reg(pcscf_ctx_t *ctx, const sip_msg_t *req, int kind, uint32_t code,
                   const char *detail)
{
    char impi[IMS_UELOG_ID_MAX], impu[IMS_UELOG_ID_MAX], addr[IMS_UELOG_ADDR_MAX];

    if (!ctx->uelog || !req || !req->m)
        return;
    reg_impi(req, impi, sizeof(impi));
    uri_id(req->m->to ? req->m->to->url : NULL, true, impu, sizeof(impu));
    sip_addr_str(&req->rcv.remote, addr, sizeof(addr));
    ims_uelog_add(ctx->uelog, impi, impu, addr, (uint8_t)kind, code, "%s", detail);
}

static void on_impu(pcscf_ctx_t *ctx, const char *impu, int kind, uint32_t code,
                    const char *detail)
{
    const ims_uelog_ue_t *ue;
    char impi[IMS_UELOG_ID_MAX];

    if (!ctx->uelog || !impu || !impu[0])
        return;
    ue = ims_uelog_find(ctx->uelog, impu, NULL);
    snprintf(impi, sizeof(impi), "%s", ue ? ue->impi : impu);
    ims_uelog_add(ctx->uelog, impi, impu, NULL, (uint8_t)kind, code, "%s", detail);
}

/* A REGISTER that ends the registration: Expires 0, or expires=0 on its Contact. */
static bool dereg(const sip_msg_t *req)
{
    osip_header_t *h = NULL;
    osip_contact_t *c = osip_list_get(&req->m->contacts, 0);
    osip_generic_param_t *p = NULL;

    if (c)
        osip_contact_param_get_byname(c, "expires", &p);
    if (p && p->gvalue)
        return strcmp(p->gvalue, "0") == 0;
    osip_message_get_expires(req->m, 0, &h);
    return h && h->hvalue && strcmp(h->hvalue, "0") == 0;
}

static void on_reg_response(pcscf_ctx_t *ctx, const sip_msg_t *req, const sip_msg_t *resp)
{
    int code = sip_msg_status(resp);
    osip_header_t *h = NULL;
    char d[IMS_UELOG_DETAIL_MAX];

    if (!ctx->uelog || !req || code < 200)
        return;
    if (code == 401) {
        osip_message_header_get_byname(resp->m, "security-server", 0, &h);
        snprintf(d, sizeof(d), h && h->hvalue ? "SAs offered: %.80s" : "no sec-agree%.0s",
                 h && h->hvalue ? h->hvalue : "");
        on_reg(ctx, req, PCSCF_DIAG_CHALLENGED, 401, d);
        return;
    }
    snprintf(d, sizeof(d), "%s%d %.80s", code < 300 && dereg(req) ? "de-registered: " : "",
             code, resp->m->reason_phrase ? resp->m->reason_phrase : "");
    on_reg(ctx, req, code < 300 ? PCSCF_DIAG_REGISTERED : PCSCF_DIAG_REG_FAILED,
           (uint32_t)code, d);
}

/* ---- the verdict ---- */

/* The value of "name=" in a Security-Server text, or "?". */
static void sec_param(const char *s, const char *name, char *out, size_t len)
{
    const char *p = strstr(s, name);
    size_t n = 0;

    if (!p) {
        snprintf(out, len, "?");
        return;
    }
    p += strlen(name);
    while (p[n] && p[n] != ';' && p[n] != ',' && n + 1 < len)
        n++;
    snprintf(out, len, "%.*s", (int)n, p);
}

void pcscf_diag_verdict(const ims_uelog_ue_t *ue, char *out, size_t outlen)
{
    const ims_uelog_event_t *e = ims_uelog_event(ue, ue->nev - 1);
    char port[16];

    if (!e) {
        snprintf(out, outlen, "nothing seen");
        return;
    }
    switch ((pcscf_diag_kind_t)e->kind) {
    case PCSCF_DIAG_CHALLENGED:
        if (strncmp(e->detail, "SAs offered", 11) == 0) {
            sec_param(e->detail, "port-s=", port, sizeof(port));
            snprintf(out, outlen, "no protected REGISTER after 401: sec-agree not completed on "
                     "port %s (the UE did not set up its SAs, or its ESP does not reach us)",
                     port);
        } else {
            snprintf(out, outlen, "challenged (401), no second REGISTER yet: the UE could "
                     "not answer (wrong K/OPc or password? see the S-CSCF's diagnose)");
        }
        return;
    case PCSCF_DIAG_PROTECTED:
        snprintf(out, outlen, "protected REGISTER received (%s): waiting for the network",
                 e->detail);
        return;
    case PCSCF_DIAG_VERIFY_MISMATCH:
        snprintf(out, outlen, "Security-Verify mismatch: the protected REGISTER did not repeat "
                 "our Security-Server (%s); registration aborted, SAs removed", e->detail);
        return;
    case PCSCF_DIAG_REGISTERED:
        if (strncmp(e->detail, "de-registered", 13) == 0)
            snprintf(out, outlen, "de-registered (the network answered %u)", e->code);
        else
            snprintf(out, outlen, "registered (the network answered %u)", e->code);
        return;
    case PCSCF_DIAG_REG_FAILED:
        snprintf(out, outlen, "REGISTER failed: %s (see the I-/S-CSCF's diagnose for why)",
                 e->detail);
        return;
    case PCSCF_DIAG_REFUSED:
        snprintf(out, outlen, "request refused here (%u): %s", e->code, e->detail);
        return;
    case PCSCF_DIAG_POLICY_REFUSED:
        snprintf(out, outlen, "QoS refused by the policy server: %s (call failed %u)",
                 e->detail, e->code);
        return;
    case PCSCF_DIAG_POLICY_FAILED:
        snprintf(out, outlen, "policy server unavailable: %s (call failed %u)", e->detail,
                 e->code);
        return;
    case PCSCF_DIAG_POLICY_RELEASED:
        snprintf(out, outlen, "call released by the network: %s", e->detail);
        return;
    }
    snprintf(out, outlen, "unknown event %u", e->kind);
}

static int diag_cmd(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                    size_t errlen)
{
    static const char *const kinds[] = {
        [PCSCF_DIAG_CHALLENGED] = "challenged", [PCSCF_DIAG_PROTECTED] = "protected",
        [PCSCF_DIAG_VERIFY_MISMATCH] = "verify-mismatch",
        [PCSCF_DIAG_REGISTERED] = "registered", [PCSCF_DIAG_REG_FAILED] = "reg-failed",
        [PCSCF_DIAG_REFUSED] = "refused", [PCSCF_DIAG_POLICY_REFUSED] = "policy-refused",
        [PCSCF_DIAG_POLICY_FAILED] = "policy-failed",
        [PCSCF_DIAG_POLICY_RELEASED] = "policy-released",
    };
    static const ims_uelog_diag_t d = {
        kinds, sizeof(kinds) / sizeof(kinds[0]), pcscf_diag_verdict, NULL,
        "REGISTER or call", "P-CSCF", NULL,
    };

    return ims_uelog_diag_cmd(((pcscf_ctx_t *)arg)->uelog, &d, arg, a, data, err, errlen);
}

void pcscf_diag_register(pcscf_ctx_t *ctx)
{
    if (ctx->ctl && ctx->uelog)
        ims_ctl_register(ctx->ctl, "diagnose", "diagnose <IMPI|IMPU|IP>",
                         "one verdict on a UE's last attempts (sec-agree, REGISTER, QoS)",
                         diag_cmd, ctx);
}
