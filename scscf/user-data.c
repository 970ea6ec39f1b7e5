/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * User-Data parser: a bounded XML scanner feeding a builder that knows the
 * few element paths of 29.228 Annex E the S-CSCF keeps. Strings are gathered
 * as offsets into one buffer; the result is frozen into two store blocks,
 * the profile (identities) and its iFC set, which scscf_profile_share_ifcs
 * may later swap for an equal set other profiles already use.
 */
#include "scscf/user-data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/core/slab.h"

#define NO_STR SIZE_MAX
#define NAME_MAX_LEN 64

typedef struct spt_tmp {
    scscf_spt_kind_t kind;
    bool negated;
    uint32_t groups;
    int session_case;
    unsigned reg_types;
    size_t what, content;
} spt_tmp_t;

typedef struct ifc_tmp {
    int priority;
    bool cnf;
    int profile_part, default_handling;
    size_t as_name, service_info;
    bool inc_req, inc_resp;
    int spt_first, nspts;
} ifc_tmp_t;

typedef struct ud_b {
    const char *err;
    char strs[SCSCF_UD_MAX_STRINGS];
    size_t slen;
    int nimpu;
    size_t impu[SCSCF_UD_MAX_IMPU];
    bool barred[SCSCF_UD_MAX_IMPU];
    int nifc, nspt;
    ifc_tmp_t ifcs[SCSCF_UD_MAX_IFC];
    spt_tmp_t spts[SCSCF_UD_MAX_SPT];
    /* scanner state */
    char stack[SCSCF_UD_MAX_DEPTH][NAME_MAX_LEN];
    int depth;
    bool seen_root;
    char text[SCSCF_UD_MAX_TEXT];
    size_t tlen;
    /* open objects */
    bool in_pi;
    size_t pi_identity;
    bool pi_barred;
    int cur_ifc, cur_spt;
} ud_b_t;

static int ud_fail(ud_b_t *b, const char *why)
{
    if (!b->err)
        b->err = why;
    return -1;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':';
}

/* The element's text, trimmed, into the string buffer: its offset, or NO_STR. */
static size_t keep_text(ud_b_t *b)
{
    size_t s = 0, e = b->tlen, off;

    while (s < e && is_ws(b->text[s]))
        s++;
    while (e > s && is_ws(b->text[e - 1]))
        e--;
    if (b->slen + (e - s) + 1 > sizeof(b->strs)) {
        ud_fail(b, "strings too long");
        return NO_STR;
    }
    off = b->slen;
    memcpy(b->strs + off, b->text + s, e - s);
    b->strs[off + (e - s)] = '\0';
    b->slen += e - s + 1;
    return off;
}

/* A small non-negative integer from the trimmed text; -1 when not one. */
static int text_int(ud_b_t *b)
{
    size_t s = 0, e = b->tlen;
    long v = 0;

    while (s < e && is_ws(b->text[s]))
        s++;
    while (e > s && is_ws(b->text[e - 1]))
        e--;
    if (s == e)
        return -1;
    for (; s < e; s++) {
        if (b->text[s] < '0' || b->text[s] > '9' || v > 100000000)
            return -1;
        v = v * 10 + (b->text[s] - '0');
    }
    return (int)v;
}

static bool named(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static const char *parent(const ud_b_t *b, int up)
{
    int i = b->depth - 1 - up;

    return i >= 0 ? b->stack[i] : "";
}

static int on_start(ud_b_t *b, const char *name)
{
    if (named(name, "PublicIdentity")) {
        b->in_pi = true;
        b->pi_identity = NO_STR;
        b->pi_barred = false;
    } else if (named(name, "InitialFilterCriteria")) {
        ifc_tmp_t *f;

        if (b->nifc >= SCSCF_UD_MAX_IFC)
            return ud_fail(b, "too many iFCs");
        f = &b->ifcs[b->nifc];
        memset(f, 0, sizeof(*f));
        f->profile_part = -1;
        f->as_name = f->service_info = NO_STR;
        f->spt_first = b->nspt;
        b->cur_ifc = b->nifc++;
    } else if (named(name, "SPT") && b->cur_ifc >= 0) {
        spt_tmp_t *t;

        if (b->nspt >= SCSCF_UD_MAX_SPT)
            return ud_fail(b, "too many SPTs");
        t = &b->spts[b->nspt];
        memset(t, 0, sizeof(*t));
        t->what = t->content = NO_STR;
        b->cur_spt = b->nspt++;
        b->ifcs[b->cur_ifc].nspts++;
    } else if (b->cur_ifc >= 0 && named(name, "IncludeRegisterRequest")) {
        b->ifcs[b->cur_ifc].inc_req = true;
    } else if (b->cur_ifc >= 0 && named(name, "IncludeRegisterResponse")) {
        b->ifcs[b->cur_ifc].inc_resp = true;
    }
    return 0;
}

/* The leaf elements inside an SPT. */
static int spt_leaf(ud_b_t *b, const char *name, const char *up)
{
    spt_tmp_t *t = &b->spts[b->cur_spt];
    int v;

    if (named(up, "SPT") && named(name, "ConditionNegated")) {
        t->negated = text_int(b) == 1;
    } else if (named(up, "SPT") && named(name, "Group")) {
        if ((v = text_int(b)) < 0 || v > 31)
            return ud_fail(b, "bad Group");
        t->groups |= 1u << v;
    } else if (named(up, "SPT") && (named(name, "Method") || named(name, "RequestURI"))) {
        t->kind = named(name, "Method") ? SCSCF_SPT_METHOD : SCSCF_SPT_REQUEST_URI;
        t->what = keep_text(b);
    } else if (named(up, "SPT") && named(name, "SessionCase")) {
        if ((v = text_int(b)) < 0 || v > 4)
            return ud_fail(b, "bad SessionCase");
        t->kind = SCSCF_SPT_SESSION_CASE;
        t->session_case = v;
    } else if ((named(up, "SIPHeader") || named(up, "SessionDescription")) &&
               (named(name, "Header") || named(name, "Line") || named(name, "Content"))) {
        t->kind = named(up, "SIPHeader") ? SCSCF_SPT_HEADER : SCSCF_SPT_SESSION_DESC;
        if (named(name, "Content"))
            t->content = keep_text(b);
        else
            t->what = keep_text(b);
    } else if (named(up, "Extension") && named(name, "RegistrationType")) {
        if ((v = text_int(b)) < 0 || v > 2)
            return ud_fail(b, "bad RegistrationType");
        t->kind = SCSCF_SPT_REG_TYPE;
        t->reg_types |= 1u << v;
    }
    return b->err ? -1 : 0;
}

static int ifc_leaf(ud_b_t *b, const char *name, const char *up)
{
    ifc_tmp_t *f = &b->ifcs[b->cur_ifc];

    if (b->cur_spt >= 0)
        return spt_leaf(b, name, up);
    if (named(up, "InitialFilterCriteria") && named(name, "Priority")) {
        if ((f->priority = text_int(b)) < 0)
            return ud_fail(b, "bad Priority");
    } else if (named(up, "InitialFilterCriteria") && named(name, "ProfilePartIndicator")) {
        f->profile_part = text_int(b);
    } else if (named(up, "TriggerPoint") && named(name, "ConditionTypeCNF")) {
        f->cnf = text_int(b) == 1;
    } else if (named(up, "ApplicationServer") && named(name, "ServerName")) {
        f->as_name = keep_text(b);
    } else if (named(up, "ApplicationServer") && named(name, "DefaultHandling")) {
        f->default_handling = text_int(b) == 1 ? 1 : 0;
    } else if (named(up, "ApplicationServer") && named(name, "ServiceInfo")) {
        f->service_info = keep_text(b);
    }
    return b->err ? -1 : 0;
}

static int on_end(ud_b_t *b, const char *name)
{
    const char *up = parent(b, 1);

    if (named(name, "PublicIdentity") && b->in_pi) {
        b->in_pi = false;
        if (b->pi_identity == NO_STR || b->strs[b->pi_identity] == '\0')
            return ud_fail(b, "PublicIdentity without Identity");
        if (b->nimpu >= SCSCF_UD_MAX_IMPU)
            return ud_fail(b, "too many public identities");
        b->barred[b->nimpu] = b->pi_barred;
        b->impu[b->nimpu++] = b->pi_identity;
    } else if (named(name, "Identity") && b->in_pi && named(up, "PublicIdentity")) {
        b->pi_identity = keep_text(b);
    } else if (named(name, "BarringIndication") && b->in_pi) {
        b->pi_barred = text_int(b) == 1;
    } else if (named(name, "SPT")) {
        b->cur_spt = -1;
    } else if (named(name, "InitialFilterCriteria")) {
        b->cur_ifc = -1;
        b->cur_spt = -1;
    } else if (b->cur_ifc >= 0) {
        return ifc_leaf(b, name, up);
    }
    return b->err ? -1 : 0;
}

/* Append one decoded character (or UTF-8 sequence) to the text. */
static int text_put(ud_b_t *b, const char *s, size_t n)
{
    if (b->depth == 0) {
        for (size_t i = 0; i < n; i++)
            if (!is_ws(s[i]))
                return ud_fail(b, "text outside the root element");
        return 0;
    }
    if (b->tlen + n > sizeof(b->text))
        return ud_fail(b, "element text too long");
    memcpy(b->text + b->tlen, s, n);
    b->tlen += n;
    return 0;
}

/* &...; at x[i]; returns the bytes consumed or -1. */
static long entity(ud_b_t *b, const char *x, size_t len, size_t i)
{
    static const struct { const char *n; char c; } ents[] = {
        { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
    };
    const char *semi = memchr(x + i, ';', len - i < 12 ? len - i : 12);
    size_t n;
    unsigned long cp = 0;
    char u[4];

    if (!semi)
        return ud_fail(b, "bad entity");
    n = (size_t)(semi - (x + i)) - 1;   /* name length */
    for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++)
        if (strlen(ents[k].n) == n && memcmp(x + i + 1, ents[k].n, n) == 0)
            return text_put(b, &ents[k].c, 1) ? -1 : (long)n + 2;
    if (n < 2 || x[i + 1] != '#')
        return ud_fail(b, "unknown entity");
    for (size_t k = 2; k <= n; k++) {
        char c = x[i + k];
        bool hex = x[i + 2] == 'x';

        if (hex && k == 2)
            continue;
        if (c >= '0' && c <= '9')
            cp = cp * (hex ? 16 : 10) + (unsigned long)(c - '0');
        else if (hex && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
            cp = cp * 16 + (unsigned long)((c | 0x20) - 'a' + 10);
        else
            return ud_fail(b, "bad character reference");
    }
    if (cp == 0 || cp > 0x10FFFF)
        return ud_fail(b, "bad character reference");
    if (cp < 0x80) {
        u[0] = (char)cp;
        return text_put(b, u, 1) ? -1 : (long)n + 2;
    }
    if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        return text_put(b, u, 2) ? -1 : (long)n + 2;
    }
    if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        return text_put(b, u, 3) ? -1 : (long)n + 2;
    }
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    return text_put(b, u, 4) ? -1 : (long)n + 2;
}

/* Skip to the end marker `end` from x[i]; returns the index after it or 0. */
static size_t skip_to(const char *x, size_t len, size_t i, const char *end)
{
    size_t n = strlen(end);

    for (; i + n <= len; i++)
        if (memcmp(x + i, end, n) == 0)
            return i + n;
    return 0;
}

/* The local name (prefix dropped) at x[i]; *ni just past the name. */
static int tag_name(ud_b_t *b, const char *x, size_t len, size_t i, char *out, size_t *ni)
{
    size_t s = i, colon = i, n;

    while (i < len && is_name_char(x[i])) {
        if (x[i] == ':')
            colon = i + 1;
        i++;
    }
    if (i == s)
        return ud_fail(b, "bad tag");
    n = i - colon;
    if (n == 0 || n >= NAME_MAX_LEN)
        return ud_fail(b, "tag name too long");
    memcpy(out, x + colon, n);
    out[n] = '\0';
    *ni = i;
    return 0;
}

/* </name> at x[i] (after "</"); returns the index after '>' or 0. */
static size_t end_tag(ud_b_t *b, const char *x, size_t len, size_t i)
{
    char name[NAME_MAX_LEN];

    if (tag_name(b, x, len, i, name, &i))
        return 0;
    while (i < len && is_ws(x[i]))
        i++;
    if (i >= len || x[i] != '>')
        return ud_fail(b, "bad end tag"), 0;
    if (b->depth == 0 || strcmp(b->stack[b->depth - 1], name) != 0)
        return ud_fail(b, "unbalanced tags"), 0;
    if (on_end(b, name))
        return 0;
    b->depth--;
    b->tlen = 0;
    return i + 1;
}

/* <name attr="..."...> or <name .../> at x[i] (after '<'); index after '>' or 0. */
static size_t start_tag(ud_b_t *b, const char *x, size_t len, size_t i)
{
    char name[NAME_MAX_LEN], q = 0;
    bool empty = false;

    if (tag_name(b, x, len, i, name, &i))
        return 0;
    for (; i < len; i++) {
        if (q) {
            if (x[i] == q)
                q = 0;
        } else if (x[i] == '"' || x[i] == '\'') {
            q = x[i];
        } else if (x[i] == '<') {
            return ud_fail(b, "bad start tag"), 0;
        } else if (x[i] == '>') {
            empty = i > 0 && x[i - 1] == '/';
            break;
        }
    }
    if (i >= len)
        return ud_fail(b, "unterminated tag"), 0;
    if (b->depth == 0 && b->seen_root)
        return ud_fail(b, "second root element"), 0;
    if (b->depth >= SCSCF_UD_MAX_DEPTH)
        return ud_fail(b, "nesting too deep"), 0;
    b->seen_root = true;
    snprintf(b->stack[b->depth++], NAME_MAX_LEN, "%s", name);
    b->tlen = 0;
    if (on_start(b, name))
        return 0;
    if (empty) {
        if (on_end(b, name))
            return 0;
        b->depth--;
    }
    return i + 1;
}

/* One markup construct at x[i] == '<'; the index after it or 0. */
static size_t markup(ud_b_t *b, const char *x, size_t len, size_t i)
{
    size_t e;

    if (i + 1 >= len)
        return ud_fail(b, "truncated"), 0;
    if (x[i + 1] == '?')
        e = skip_to(x, len, i + 2, "?>");
    else if (len - i >= 4 && memcmp(x + i, "<!--", 4) == 0)
        e = skip_to(x, len, i + 4, "-->");
    else if (len - i >= 9 && memcmp(x + i, "<![CDATA[", 9) == 0) {
        e = skip_to(x, len, i + 9, "]]>");
        if (e && text_put(b, x + i + 9, e - 3 - (i + 9)))
            return 0;
    } else if (x[i + 1] == '!')
        e = skip_to(x, len, i + 2, ">");
    else if (x[i + 1] == '/')
        return end_tag(b, x, len, i + 2);
    else
        return start_tag(b, x, len, i + 1);
    if (!e)
        ud_fail(b, "unterminated markup");
    return e;
}

static int scan(ud_b_t *b, const char *x, size_t len)
{
    size_t i = 0;

    while (i < len && !b->err) {
        if (x[i] == '<') {
            i = markup(b, x, len, i);
        } else if (x[i] == '&') {
            long n = entity(b, x, len, i);

            if (n < 0)
                break;
            i += (size_t)n;
        } else if (x[i] == '\0') {
            ud_fail(b, "NUL in document");
        } else {
            size_t s = i;

            while (i < len && x[i] != '<' && x[i] != '&' && x[i] != '\0')
                i++;
            text_put(b, x + s, i - s);
        }
    }
    if (b->err)
        return -1;
    if (b->depth != 0 || !b->seen_root)
        return ud_fail(b, "unterminated document");
    if (b->nimpu == 0)
        return ud_fail(b, "no public identity");
    return 0;
}

/* ---- the frozen profile and its iFC set ---- */

/*
 * An iFC set: a profile's iFCs with their SPTs and strings, in one block.
 * Private to its profile after parsing; once entered into a sharing table
 * (table set) any profile with equal iFCs may hold a reference.
 */
typedef struct ifc_set {
    ims_hash_t *table;         /* the sharing table it is in, or NULL */
    uint64_t hv;               /* content hash: its key there */
    uint32_t refs;
    int nifc;
    scscf_ifc_t ifcs[];
} ifc_set_t;

static ifc_set_t *set_of(const scscf_profile_t *p)
{
    return p->ifcs ? (ifc_set_t *)((const char *)p->ifcs - offsetof(ifc_set_t, ifcs)) : NULL;
}

static size_t str_size(const ud_b_t *b, size_t off)
{
    return off == NO_STR ? 0 : strlen(b->strs + off) + 1;
}

/* The builder's string at off copied to *w (advanced), or NULL for NO_STR. */
static const char *put_str(const ud_b_t *b, size_t off, char **w)
{
    char *s = *w;
    size_t n = str_size(b, off);

    if (!n)
        return NULL;
    memcpy(s, b->strs + off, n);
    *w += n;
    return s;
}

/* FNV-1a over the content (a hash, not the identity: equality is checked). */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t fnv_int(uint64_t h, long v)
{
    return fnv(h, &v, sizeof(v));
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return s ? fnv(h, s, strlen(s) + 1) : fnv_int(h, -1);
}

static uint64_t set_hash(const ifc_set_t *s)
{
    uint64_t h = fnv_int(0xcbf29ce484222325ULL, s->nifc);

    for (int i = 0; i < s->nifc; i++) {
        const scscf_ifc_t *f = &s->ifcs[i];

        h = fnv_int(h, f->priority * 8 + f->cnf * 4 + f->include_register_request * 2 +
                           f->include_register_response);
        h = fnv_int(h, f->profile_part * 4 + f->default_handling);
        h = fnv_str(fnv_str(h, f->as_name), f->service_info);
        h = fnv_int(h, f->nspts);
        for (int k = 0; k < f->nspts; k++) {
            const scscf_spt_t *t = &f->spts[k];

            h = fnv_int(h, (long)t->kind * 2 + t->negated);
            h = fnv_int(h, ((long)t->groups << 16) + t->session_case * 8 + (long)t->reg_types);
            h = fnv_str(fnv_str(h, t->what), t->content);
        }
    }
    return h;
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool spt_eq(const scscf_spt_t *a, const scscf_spt_t *b)
{
    return a->kind == b->kind && a->negated == b->negated && a->groups == b->groups &&
           a->session_case == b->session_case && a->reg_types == b->reg_types &&
           str_eq(a->what, b->what) && str_eq(a->content, b->content);
}

static bool ifc_eq(const scscf_ifc_t *a, const scscf_ifc_t *b)
{
    if (a->priority != b->priority || a->cnf != b->cnf || a->profile_part != b->profile_part ||
        a->default_handling != b->default_handling || a->nspts != b->nspts ||
        a->include_register_request != b->include_register_request ||
        a->include_register_response != b->include_register_response ||
        !str_eq(a->as_name, b->as_name) || !str_eq(a->service_info, b->service_info))
        return false;
    for (int k = 0; k < a->nspts; k++)
        if (!spt_eq(&a->spts[k], &b->spts[k]))
            return false;
    return true;
}

static bool set_eq(const ifc_set_t *a, const ifc_set_t *b)
{
    if (a->nifc != b->nifc)
        return false;
    for (int i = 0; i < a->nifc; i++)
        if (!ifc_eq(&a->ifcs[i], &b->ifcs[i]))
            return false;
    return true;
}

/* One store block: the header, iFC and SPT arrays, their strings. */
static ifc_set_t *freeze_set(const ud_b_t *b)
{
    size_t sz = sizeof(ifc_set_t) + (size_t)b->nifc * sizeof(scscf_ifc_t) +
                (size_t)b->nspt * sizeof(scscf_spt_t);
    ifc_set_t *s;
    scscf_spt_t *spts;
    char *w;

    for (int i = 0; i < b->nifc; i++)
        sz += str_size(b, b->ifcs[i].as_name) + str_size(b, b->ifcs[i].service_info);
    for (int i = 0; i < b->nspt; i++)
        sz += str_size(b, b->spts[i].what) + str_size(b, b->spts[i].content);
    if (!(s = ims_store_alloc(sz)))
        abort();
    s->table = NULL;
    s->refs = 1;
    s->nifc = b->nifc;
    spts = (scscf_spt_t *)&s->ifcs[b->nifc];
    w = (char *)&spts[b->nspt];
    for (int i = 0; i < b->nifc; i++) {
        const ifc_tmp_t *f = &b->ifcs[i];
        const char *as = put_str(b, f->as_name, &w);

        s->ifcs[i] = (scscf_ifc_t){ f->priority, f->cnf, f->profile_part, as ? as : "",
                                    f->default_handling, put_str(b, f->service_info, &w),
                                    f->inc_req, f->inc_resp, spts + f->spt_first, f->nspts };
    }
    for (int i = 0; i < b->nspt; i++) {
        const spt_tmp_t *t = &b->spts[i];
        const char *what = put_str(b, t->what, &w);

        spts[i] = (scscf_spt_t){ t->kind, t->negated, t->groups, t->session_case,
                                 t->reg_types, what, put_str(b, t->content, &w) };
    }
    s->hv = set_hash(s);
    return s;
}

/* One store block: struct, identities, their strings; and the iFC set. */
static scscf_profile_t *freeze(const ud_b_t *b)
{
    size_t sz = sizeof(scscf_profile_t) + (size_t)b->nimpu * sizeof(const char *);
    scscf_profile_t *p;
    char *w;

    for (int i = 0; i < b->nimpu; i++)
        sz += str_size(b, b->impu[i]);
    if (!(p = ims_store_calloc(1, sz)))
        abort();
    w = (char *)&p->impu[b->nimpu];
    p->nimpu = b->nimpu;
    for (int i = 0; i < b->nimpu; i++) {
        p->impu[i] = put_str(b, b->impu[i], &w);
        p->barred[i] = b->barred[i];
    }
    p->nifc = b->nifc;
    p->ifcs = b->nifc ? freeze_set(b)->ifcs : NULL;
    return p;
}

scscf_profile_t *scscf_user_data_parse(const char *xml, size_t len, char *err, size_t errlen)
{
    ud_b_t *b;
    scscf_profile_t *p = NULL;

    if (!xml) {
        if (err)
            snprintf(err, errlen, "no User-Data");
        return NULL;
    }
    b = malloc(sizeof(*b));
    if (!b)
        abort();
    b->err = NULL;
    b->slen = 0;
    b->nimpu = b->nifc = b->nspt = 0;
    b->depth = 0;
    b->seen_root = false;
    b->tlen = 0;
    b->in_pi = false;
    b->cur_ifc = b->cur_spt = -1;
    if (scan(b, xml, len) == 0)
        p = freeze(b);
    else if (err)
        snprintf(err, errlen, "%s", b->err);
    free(b);
    return p;
}

static void set_key(uint64_t hv, char key[17])
{
    snprintf(key, 17, "%016llx", (unsigned long long)hv);
}

static void set_unref(ifc_set_t *s)
{
    char key[17];

    if (--s->refs > 0)
        return;
    set_key(s->hv, key);
    if (s->table && ims_hash_find(s->table, key) == s)
        ims_hash_remove(s->table, key);
    ims_store_free(s);
}

void scscf_profile_free(scscf_profile_t *p)
{
    if (!p)
        return;
    if (p->ifcs)
        set_unref(set_of(p));
    ims_store_free(p);
}

ims_hash_t *scscf_ifc_sets_new(void)
{
    ims_hash_t *h = ims_hash_new(16);

    if (!h)
        abort();
    ims_hash_set_store(h);
    return h;
}

static void set_orphan(void *arg, const char *key, void *value)
{
    ifc_set_t *s = value;

    (void)arg;
    (void)key;
    s->table = NULL;
}

void scscf_ifc_sets_free(ims_hash_t *sets)
{
    if (!sets)
        return;
    ims_hash_foreach(sets, set_orphan, NULL);
    ims_hash_free(sets);
}

void scscf_profile_share_ifcs(scscf_profile_t *p, ims_hash_t *sets)
{
    ifc_set_t *own = p ? set_of(p) : NULL, *other;
    char key[17];

    if (!own || own->table || !sets)
        return;   /* no iFCs, or shared already */
    set_key(own->hv, key);
    other = ims_hash_find(sets, key);
    if (other && set_eq(own, other)) {
        other->refs++;
        p->ifcs = other->ifcs;
        set_unref(own);
    } else if (!other && ims_hash_insert(sets, key, own) == IMS_OK) {
        own->table = sets;
    }   /* else another set has this hash: this one stays private */
}

int scscf_profile_find(const scscf_profile_t *p, const char *impu)
{
    for (int i = 0; p && i < p->nimpu; i++)
        if (strcmp(p->impu[i], impu) == 0)
            return i;
    return -1;
}
