/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * User-Data XML (TS 29.228 Annex B, schema in Annex E). The element order
 * follows the schema's sequences: PublicIdentity {BarringIndication?,
 * Identity}, InitialFilterCriteria {Priority, TriggerPoint?,
 * ApplicationServer, ProfilePartIndicator?}, SPT {ConditionNegated?, Group,
 * one of RequestURI | Method | SIPHeader | SessionCase | SessionDescription,
 * Extension?}. Written without whitespace between elements: it goes on the
 * wire in every SAA.
 */
#include "hss/user-data.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sb {
    char *p;
    size_t len, cap, max;
    bool over;          /* longer than max: the result is discarded */
} sb_t;

static void sb_put(sb_t *b, const char *s, size_t n)
{
    if (b->over)
        return;
    if (b->len + n > b->max) {
        b->over = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 1024;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sb_t *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void sb_fmt(sb_t *b, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_put(b, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Text content with the five XML special characters escaped. */
static void sb_esc(sb_t *b, const char *s)
{
    const char *run = s;

    for (; *s; s++) {
        const char *rep;

        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default: continue;
        }
        sb_put(b, run, (size_t)(s - run));
        sb_str(b, rep);
        run = s + 1;
    }
    sb_put(b, run, (size_t)(s - run));
}

/* <tag>escaped text</tag> */
static void sb_elem(sb_t *b, const char *tag, const char *text)
{
    sb_fmt(b, "<%s>", tag);
    sb_esc(b, text);
    sb_fmt(b, "</%s>", tag);
}

static void put_spt(sb_t *b, const hss_spt_t *spt)
{
    sb_str(b, "<SPT>");
    sb_fmt(b, "<ConditionNegated>%d</ConditionNegated>", spt->negated ? 1 : 0);
    sb_fmt(b, "<Group>%d</Group>", spt->group);
    switch (spt->kind) {
    case HSS_SPT_METHOD:
        sb_elem(b, "Method", spt->what);
        break;
    case HSS_SPT_REQUEST_URI:
        sb_elem(b, "RequestURI", spt->what);
        break;
    case HSS_SPT_HEADER:
        sb_str(b, "<SIPHeader>");
        sb_elem(b, "Header", spt->what);
        if (spt->content)
            sb_elem(b, "Content", spt->content);
        sb_str(b, "</SIPHeader>");
        break;
    case HSS_SPT_SESSION_CASE:
        sb_fmt(b, "<SessionCase>%d</SessionCase>", spt->session_case);
        break;
    case HSS_SPT_SESSION_DESC:
        sb_str(b, "<SessionDescription>");
        sb_elem(b, "Line", spt->what);
        if (spt->content)
            sb_elem(b, "Content", spt->content);
        sb_str(b, "</SessionDescription>");
        break;
    case HSS_SPT_REG_TYPE:
        sb_str(b, "<Extension>");
        for (int t = 0; t < 3; t++)
            if (spt->reg_types & (1u << t))
                sb_fmt(b, "<RegistrationType>%d</RegistrationType>", t);
        sb_str(b, "</Extension>");
        break;
    }
    sb_str(b, "</SPT>");
}

static void put_ifc(sb_t *b, const hss_ifc_t *ifc)
{
    sb_str(b, "<InitialFilterCriteria>");
    sb_fmt(b, "<Priority>%d</Priority>", ifc->priority);
    if (ifc->nspts) {
        sb_str(b, "<TriggerPoint>");
        sb_fmt(b, "<ConditionTypeCNF>%d</ConditionTypeCNF>", ifc->cnf ? 1 : 0);
        for (size_t i = 0; i < ifc->nspts; i++)
            put_spt(b, &ifc->spts[i]);
        sb_str(b, "</TriggerPoint>");
    }
    sb_str(b, "<ApplicationServer>");
    sb_elem(b, "ServerName", ifc->as_name);
    sb_fmt(b, "<DefaultHandling>%d</DefaultHandling>", ifc->default_handling);
    if (ifc->service_info)
        sb_elem(b, "ServiceInfo", ifc->service_info);
    if (ifc->include_register_request || ifc->include_register_response) {
        sb_str(b, "<Extension>");
        if (ifc->include_register_request)
            sb_str(b, "<IncludeRegisterRequest/>");
        if (ifc->include_register_response)
            sb_str(b, "<IncludeRegisterResponse/>");
        sb_str(b, "</Extension>");
    }
    sb_str(b, "</ApplicationServer>");
    if (ifc->profile_part >= 0)
        sb_fmt(b, "<ProfilePartIndicator>%d</ProfilePartIndicator>", ifc->profile_part);
    sb_str(b, "</InitialFilterCriteria>");
}

char *hss_user_data_build(const hss_sub_t *sub, size_t max_len, size_t *len)
{
    sb_t b = { .max = max_len };

    sb_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><IMSSubscription>");
    sb_elem(&b, "PrivateID", sub->impi);
    sb_str(&b, "<ServiceProfile>");
    for (size_t i = 0; i < sub->nimpus; i++) {
        sb_str(&b, "<PublicIdentity>");
        if (sub->barred[i])
            sb_str(&b, "<BarringIndication>1</BarringIndication>");
        sb_elem(&b, "Identity", sub->impus[i]);
        sb_str(&b, "</PublicIdentity>");
    }
    if (sub->profile)
        for (size_t i = 0; i < sub->profile->nifcs; i++)
            put_ifc(&b, &sub->profile->ifcs[i]);
    sb_str(&b, "</ServiceProfile></IMSSubscription>");
    if (b.over) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

const char *hss_user_data(hss_sub_t *sub, size_t max_len, size_t *len)
{
    if (!sub->user_data)
        sub->user_data = hss_user_data_build(sub, max_len, &sub->user_data_len);
    if (!sub->user_data || sub->user_data_len > max_len)
        return NULL;
    *len = sub->user_data_len;
    return sub->user_data;
}
