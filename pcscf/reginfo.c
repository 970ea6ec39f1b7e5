/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcscf/reginfo.h"

#include <string.h>

#include "common/core/rc.h"

#define RI_MAX_NAME 128

typedef enum ri_kind { RI_OTHER, RI_ROOT, RI_REG, RI_CONTACT, RI_URI } ri_kind_t;

typedef struct scan {
    const char *p, *end;
    pcscf_str_t stack[PCSCF_RI_MAX_DEPTH];  /* open element names, as written */
    ri_kind_t kinds[PCSCF_RI_MAX_DEPTH];
    int depth;
    bool root_seen, root_done;
    pcscf_reginfo_t *ri;
    pcscf_ri_reg_t *reg;        /* registration being read, NULL when skipped */
    pcscf_ri_contact_t *ct;     /* contact being read, NULL when skipped */
} scan_t;

static bool ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_ws(scan_t *s)
{
    while (s->p < s->end && ws(*s->p))
        s->p++;
}

static bool starts(const scan_t *s, const char *lit)
{
    size_t n = strlen(lit);

    return (size_t)(s->end - s->p) >= n && memcmp(s->p, lit, n) == 0;
}

/* Move past the next occurrence of lit; false when there is none. */
static bool skip_past(scan_t *s, const char *lit)
{
    size_t n = strlen(lit);

    for (const char *q = s->p; (size_t)(s->end - q) >= n; q++)
        if (memcmp(q, lit, n) == 0) {
            s->p = q + n;
            return true;
        }
    return false;
}

static bool name_char(char c)
{
    return !ws(c) && c != '>' && c != '/' && c != '=' && c != '<' && c != '"' && c != '\'';
}

static bool read_name(scan_t *s, pcscf_str_t *name)
{
    name->p = s->p;
    while (s->p < s->end && name_char(*s->p))
        s->p++;
    name->n = (size_t)(s->p - name->p);
    return name->n > 0 && name->n <= RI_MAX_NAME;
}

/* The name without its namespace prefix. */
static pcscf_str_t local(pcscf_str_t n)
{
    const char *c = memchr(n.p, ':', n.n);

    if (c) {
        n.n -= (size_t)(c + 1 - n.p);
        n.p = c + 1;
    }
    return n;
}

static bool is(pcscf_str_t a, const char *lit)
{
    return a.n == strlen(lit) && memcmp(a.p, lit, a.n) == 0;
}

static long to_long(pcscf_str_t v)
{
    long x = 0;

    if (v.n == 0 || v.n > 10)
        return -1;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        x = x * 10 + (v.p[i] - '0');
    }
    return x;
}

/* What an element opened at the current depth means to us. */
static ri_kind_t kind_of(scan_t *s, pcscf_str_t name)
{
    pcscf_str_t l = local(name);
    ri_kind_t parent = s->depth ? s->kinds[s->depth - 1] : RI_OTHER;

    if (s->depth == 0)
        return is(l, "reginfo") ? RI_ROOT : RI_OTHER;
    if (parent == RI_ROOT && is(l, "registration"))
        return RI_REG;
    if (parent == RI_REG && is(l, "contact"))
        return RI_CONTACT;
    if (parent == RI_CONTACT && is(l, "uri"))
        return RI_URI;
    return RI_OTHER;
}

static void start_element(scan_t *s, ri_kind_t k)
{
    pcscf_reginfo_t *ri = s->ri;

    if (k == RI_REG) {
        s->reg = NULL;
        if (ri->nregs < PCSCF_RI_MAX_REGS)
            s->reg = &ri->regs[ri->nregs++];
        else
            ri->truncated++;
    } else if (k == RI_CONTACT) {
        s->ct = NULL;
        if (s->reg && s->reg->ncontacts < PCSCF_RI_MAX_CONTACTS) {
            s->ct = &s->reg->contacts[s->reg->ncontacts++];
            s->ct->expires = -1;
        } else if (s->reg) {
            ri->truncated++;
        }
    }
}

static void attribute(scan_t *s, ri_kind_t k, pcscf_str_t name, pcscf_str_t v)
{
    pcscf_str_t l = local(name);

    if (k == RI_ROOT) {
        if (is(l, "version"))
            s->ri->version = to_long(v);
        else if (is(l, "state"))
            s->ri->state = v;
    } else if (k == RI_REG && s->reg) {
        if (is(l, "aor"))
            s->reg->aor = v;
        else if (is(l, "id"))
            s->reg->id = v;
        else if (is(l, "state"))
            s->reg->state = v;
    } else if (k == RI_CONTACT && s->ct) {
        if (is(l, "id"))
            s->ct->id = v;
        else if (is(l, "state"))
            s->ct->state = v;
        else if (is(l, "event"))
            s->ct->event = v;
        else if (is(l, "expires"))
            s->ct->expires = to_long(v);
    }
}

/* Attributes up to '>' or '/>'; *empty for the latter. */
static int attributes(scan_t *s, ri_kind_t k, bool *empty)
{
    for (;;) {
        pcscf_str_t name, v;
        char q;

        skip_ws(s);
        if (s->p >= s->end)
            return IMS_ERROR;
        if (*s->p == '>' || starts(s, "/>")) {
            *empty = *s->p == '/';
            s->p += *empty ? 2 : 1;
            return IMS_OK;
        }
        if (!read_name(s, &name))
            return IMS_ERROR;
        skip_ws(s);
        if (s->p >= s->end || *s->p != '=')
            return IMS_ERROR;
        s->p++;
        skip_ws(s);
        if (s->p >= s->end || (*s->p != '"' && *s->p != '\''))
            return IMS_ERROR;
        q = *s->p++;
        v.p = s->p;
        while (s->p < s->end && *s->p != q && *s->p != '<')
            s->p++;
        if (s->p >= s->end || *s->p != q)
            return IMS_ERROR;
        v.n = (size_t)(s->p - v.p);
        s->p++;
        attribute(s, k, name, v);
    }
}

static void end_element(scan_t *s, ri_kind_t k)
{
    if (k == RI_CONTACT)
        s->ct = NULL;
    else if (k == RI_REG)
        s->reg = NULL;
    if (s->depth == 0)
        s->root_done = true;
}

static int open_tag(scan_t *s)
{
    pcscf_str_t name;
    ri_kind_t k;
    bool empty = false;

    s->p++;  /* '<' */
    if (s->root_done || !read_name(s, &name))
        return IMS_ERROR;
    k = kind_of(s, name);
    if (s->depth == 0) {
        if (k != RI_ROOT)
            return IMS_ERROR;
        s->root_seen = true;
    }
    start_element(s, k);
    if (attributes(s, k, &empty) != IMS_OK)
        return IMS_ERROR;
    if (empty) {
        end_element(s, k);
        return IMS_OK;
    }
    if (s->depth >= PCSCF_RI_MAX_DEPTH)
        return IMS_ERROR;
    s->stack[s->depth] = name;
    s->kinds[s->depth++] = k;
    return IMS_OK;
}

static int close_tag(scan_t *s)
{
    pcscf_str_t name;

    s->p += 2;  /* "</" */
    if (!read_name(s, &name))
        return IMS_ERROR;
    skip_ws(s);
    if (s->p >= s->end || *s->p != '>' || s->depth == 0)
        return IMS_ERROR;
    s->p++;
    s->depth--;
    if (name.n != s->stack[s->depth].n || memcmp(name.p, s->stack[s->depth].p, name.n) != 0)
        return IMS_ERROR;
    end_element(s, s->kinds[s->depth]);
    return IMS_OK;
}

/* Character data: only a contact's <uri> keeps it; outside the root only
 * whitespace may appear. */
static int text(scan_t *s, const char *b, const char *e)
{
    pcscf_str_t t;
    bool blank = true;

    for (const char *q = b; q < e && blank; q++)
        blank = ws(*q);
    if (blank)
        return IMS_OK;
    if (s->depth == 0)
        return IMS_ERROR;
    if (s->kinds[s->depth - 1] == RI_URI && s->ct && s->ct->uri.n == 0) {
        while (b < e && ws(*b))
            b++;
        while (e > b && ws(e[-1]))
            e--;
        t.p = b;
        t.n = (size_t)(e - b);
        s->ct->uri = t;
    }
    return IMS_OK;
}

static int markup(scan_t *s)
{
    if (starts(s, "<?"))
        return skip_past(s, "?>") ? IMS_OK : IMS_ERROR;
    if (starts(s, "<!--"))
        return skip_past(s, "-->") ? IMS_OK : IMS_ERROR;
    if (starts(s, "<![CDATA[")) {
        const char *b = s->p + 9;

        s->p = b;
        if (!skip_past(s, "]]>"))
            return IMS_ERROR;
        return text(s, b, s->p - 3);
    }
    if (starts(s, "<!"))
        return IMS_ERROR;  /* DOCTYPE and friends: never */
    if (starts(s, "</"))
        return close_tag(s);
    return open_tag(s);
}

int pcscf_reginfo_parse(const char *xml, size_t len, pcscf_reginfo_t *ri)
{
    scan_t s;

    memset(ri, 0, sizeof(*ri));
    ri->version = -1;
    if (!xml)
        return IMS_ERROR;
    memset(&s, 0, sizeof(s));
    s.p = xml;
    s.end = xml + len;
    s.ri = ri;
    if (len >= 3 && memcmp(xml, "\xef\xbb\xbf", 3) == 0)
        s.p += 3;  /* UTF-8 byte order mark */
    while (s.p < s.end) {
        if (*s.p == '<') {
            if (markup(&s) != IMS_OK)
                return IMS_ERROR;
        } else {
            const char *b = s.p, *lt = memchr(s.p, '<', (size_t)(s.end - s.p));

            s.p = lt ? lt : s.end;
            if (text(&s, b, s.p) != IMS_OK)
                return IMS_ERROR;
        }
    }
    return s.root_seen && s.root_done && s.depth == 0 ? IMS_OK : IMS_ERROR;
}
