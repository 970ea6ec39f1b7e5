/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RFC 3329 mechanism lists (see sec_agree.h). The parser is one left-to-right
 * pass with a cursor over {ptr, len}, like common/auth/digest_parse.c:
 *
 *   list      = mechanism *(COMMA mechanism)       (empty elements skipped)
 *   mechanism = token *(SEMI param)
 *   param     = token [EQUAL (token / host / quoted-string)]
 *
 * Names compare case-insensitively (RFC 3261 §7.3.1); values keep their case
 * as received so that a formatted list reads like the one parsed.
 */
#include "common/ipsec/sec_agree.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/core/rc.h"
#include "common/sip/msg.h"

typedef struct cursor {
    const char *s;
    size_t len;
    size_t pos;
} cursor_t;

/* A {ptr, len} piece of the input. */
typedef struct span {
    const char *p;
    size_t n;
} span_t;

static const char *const alg_names[] = {
    [SEC_AGREE_ALG_UNKNOWN] = "",
    [SEC_AGREE_ALG_HMAC_SHA1_96] = "hmac-sha-1-96",
    [SEC_AGREE_ALG_HMAC_MD5_96] = "hmac-md5-96",
};

static const char *const ealg_names[] = {
    [SEC_AGREE_EALG_UNKNOWN] = "",
    [SEC_AGREE_EALG_NULL] = "null",
    [SEC_AGREE_EALG_AES_CBC] = "aes-cbc",
    [SEC_AGREE_EALG_DES_EDE3_CBC] = "des-ede3-cbc",
};

/* Span equals the NUL-terminated word w, ignoring ASCII case. */
static bool span_ieq(span_t v, const char *w)
{
    return v.n == strlen(w) && strncasecmp(v.p, w, v.n) == 0;
}

/* Index of v in names[1..n), or 0 (the UNKNOWN entry). */
static int name_index(const char *const *names, int n, span_t v)
{
    for (int i = 1; i < n; i++) {
        if (span_ieq(v, names[i]))
            return i;
    }
    return 0;
}

sec_agree_alg_t sec_agree_alg_from(const char *s, size_t len)
{
    span_t v = { s, len };

    return s ? (sec_agree_alg_t)name_index(alg_names, (int)IMS_ARRAY_LEN(alg_names), v)
             : SEC_AGREE_ALG_UNKNOWN;
}

sec_agree_ealg_t sec_agree_ealg_from(const char *s, size_t len)
{
    span_t v = { s, len };

    return s ? (sec_agree_ealg_t)name_index(ealg_names, (int)IMS_ARRAY_LEN(ealg_names), v)
             : SEC_AGREE_EALG_UNKNOWN;
}

const char *sec_agree_alg_name(sec_agree_alg_t alg)
{
    return (unsigned)alg < IMS_ARRAY_LEN(alg_names) ? alg_names[alg] : "";
}

const char *sec_agree_ealg_name(sec_agree_ealg_t ealg)
{
    return (unsigned)ealg < IMS_ARRAY_LEN(ealg_names) ? ealg_names[ealg] : "";
}

/* --- cursor --------------------------------------------------------------- */

static int peek(const cursor_t *c)
{
    return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

/* SWS around ';' '=' ',': spaces, tabs and CRLF folding (CRLF + WSP). */
static void skip_lws(cursor_t *c)
{
    for (;;) {
        int ch = peek(c);
        if (ch == ' ' || ch == '\t') {
            c->pos++;
        } else if (ch == '\r' && c->pos + 2 < c->len && c->s[c->pos + 1] == '\n' &&
                   (c->s[c->pos + 2] == ' ' || c->s[c->pos + 2] == '\t')) {
            c->pos += 3;
        } else {
            return;
        }
    }
}

/* RFC 3261 token characters; with host set also ':' '[' ']' (gen-value = host). */
static bool is_value_char(int ch, bool host)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    if (ch > 0 && strchr("-.!%*_+`'~", ch) != NULL)
        return true;
    return host && ch > 0 && strchr(":[]", ch) != NULL;
}

static span_t scan(cursor_t *c, bool host)
{
    span_t v = { c->s + c->pos, 0 };

    while (is_value_char(peek(c), host)) {
        c->pos++;
        v.n++;
    }
    return v;
}

/* A quoted-string, kept with its quotes and escapes: the cursor is on '"'.
 * Controls other than HTAB are refused (no folding inside a value we keep). */
static int scan_quoted(cursor_t *c, span_t *v)
{
    size_t start = c->pos;

    c->pos++;
    for (;;) {
        int ch = peek(c);
        bool escaped = ch == '\\';
        if (escaped) {
            c->pos++;
            ch = peek(c);
        }
        if (ch < 0 || (ch < 0x20 && ch != '\t') || ch == 0x7f)
            return IMS_ERROR;
        c->pos++;
        if (ch == '"' && !escaped)
            break;
    }
    v->p = c->s + start;
    v->n = c->pos - start;
    return IMS_OK;
}

/* --- values ------------------------------------------------------------- */

/* Decimal, 1..10 digits, at most max. */
static int parse_uint(span_t v, uint32_t max, uint32_t *out)
{
    uint64_t x = 0;

    if (v.n == 0 || v.n > 10)
        return IMS_ERROR;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return IMS_ERROR;
        x = x * 10 + (uint64_t)(v.p[i] - '0');
    }
    if (x > max)
        return IMS_ERROR;
    *out = (uint32_t)x;
    return IMS_OK;
}

/* qvalue = ("0" ["." 0*3DIGIT]) / ("1" ["." 0*3("0")]), in thousandths. */
static int parse_q(span_t v, int *q)
{
    int x = 0;

    if (v.n == 0 || v.n > 5 || (v.p[0] != '0' && v.p[0] != '1') ||
        (v.n > 1 && v.p[1] != '.'))
        return IMS_ERROR;
    for (size_t i = 2; i < 5; i++) {
        int d = 0;
        if (i < v.n) {
            if (v.p[i] < '0' || v.p[i] > '9')
                return IMS_ERROR;
            d = v.p[i] - '0';
        }
        x = x * 10 + d;
    }
    x += (v.p[0] - '0') * 1000;
    if (x > 1000)
        return IMS_ERROR;
    *q = x;
    return IMS_OK;
}

static int copy_value(char *dst, size_t size, span_t v)
{
    if (v.n == 0 || v.n >= size)
        return IMS_ERROR;
    memcpy(dst, v.p, v.n);
    dst[v.n] = '\0';
    return IMS_OK;
}

/* --- parameters --------------------------------------------------------- */

typedef struct known_param {
    const char *name;
    uint32_t bit;
    const char *bad;    /* reason for a malformed value */
} known_param_t;

static const known_param_t known_params[] = {
    { "alg", SEC_AGREE_P_ALG, "Bad alg value" },
    { "ealg", SEC_AGREE_P_EALG, "Bad ealg value" },
    { "spi-c", SEC_AGREE_P_SPI_C, "Bad spi-c value" },
    { "spi-s", SEC_AGREE_P_SPI_S, "Bad spi-s value" },
    { "port-c", SEC_AGREE_P_PORT_C, "Bad port-c value" },
    { "port-s", SEC_AGREE_P_PORT_S, "Bad port-s value" },
    { "prot", SEC_AGREE_P_PROT, "Bad prot value" },
    { "mod", SEC_AGREE_P_MOD, "Bad mod value" },
};

#define SPI_MIN 256u   /* RFC 4303 §2.1: 0 is never sent, 1..255 are reserved */

static int set_spi(uint32_t *dst, span_t v)
{
    uint32_t x;

    if (parse_uint(v, UINT32_MAX, &x) != IMS_OK || x < SPI_MIN)
        return IMS_ERROR;
    *dst = x;
    return IMS_OK;
}

static int set_port(uint16_t *dst, span_t v)
{
    uint32_t x;

    if (parse_uint(v, UINT16_MAX, &x) != IMS_OK || x == 0)
        return IMS_ERROR;
    *dst = (uint16_t)x;
    return IMS_OK;
}

/* Store the value of the known ipsec-3gpp parameter kp into m. */
static int set_known(sec_agree_mech_t *m, const known_param_t *kp, span_t v)
{
    switch (kp->bit) {
    case SEC_AGREE_P_ALG:
        m->alg = sec_agree_alg_from(v.p, v.n);
        return copy_value(m->alg_name, sizeof(m->alg_name), v);
    case SEC_AGREE_P_EALG:
        m->ealg = sec_agree_ealg_from(v.p, v.n);
        return copy_value(m->ealg_name, sizeof(m->ealg_name), v);
    case SEC_AGREE_P_SPI_C:
        return set_spi(&m->spi_c, v);
    case SEC_AGREE_P_SPI_S:
        return set_spi(&m->spi_s, v);
    case SEC_AGREE_P_PORT_C:
        return set_port(&m->port_c, v);
    case SEC_AGREE_P_PORT_S:
        return set_port(&m->port_s, v);
    case SEC_AGREE_P_PROT:
        m->prot_esp = span_ieq(v, "esp");
        return copy_value(m->prot_name, sizeof(m->prot_name), v);
    case SEC_AGREE_P_MOD:
        m->mod_trans = span_ieq(v, "trans");
        return copy_value(m->mod_name, sizeof(m->mod_name), v);
    default:
        return IMS_ERROR;
    }
}

/* Keep a parameter we do not interpret as ";name[=value]" in m->ext. */
static int keep_ext(sec_agree_mech_t *m, span_t name, const span_t *value)
{
    size_t used = strlen(m->ext);
    size_t need = 1 + name.n + (value ? 1 + value->n : 0);

    if (used + need >= sizeof(m->ext))
        return IMS_ERROR;
    m->ext[used++] = ';';
    memcpy(m->ext + used, name.p, name.n);
    used += name.n;
    if (value) {
        m->ext[used++] = '=';
        memcpy(m->ext + used, value->p, value->n);
        used += value->n;
    }
    m->ext[used] = '\0';
    return IMS_OK;
}

static const known_param_t *find_known(const sec_agree_mech_t *m, span_t name)
{
    if (m->kind != SEC_AGREE_IPSEC_3GPP)
        return NULL;
    for (size_t i = 0; i < IMS_ARRAY_LEN(known_params); i++) {
        if (span_ieq(name, known_params[i].name))
            return &known_params[i];
    }
    return NULL;
}

/* Apply name[=value] to m: q, an ipsec-3gpp parameter, or an extension. */
static int apply_param(sec_agree_mech_t *m, span_t name, const span_t *value, bool quoted,
                       const char **reason)
{
    const known_param_t *kp;

    if (span_ieq(name, "q")) {
        if (m->q != SEC_AGREE_Q_NONE) {
            *reason = "Duplicate security parameter";
            return IMS_ERROR;
        }
        *reason = "Bad q value";
        return value && !quoted ? parse_q(*value, &m->q) : IMS_ERROR;
    }
    kp = find_known(m, name);
    if (kp == NULL) {
        *reason = "Security parameters too long";
        return keep_ext(m, name, value);
    }
    if (m->present & kp->bit) {
        *reason = "Duplicate security parameter";
        return IMS_ERROR;
    }
    *reason = kp->bad;
    if (!value || quoted || set_known(m, kp, *value) != IMS_OK)
        return IMS_ERROR;
    m->present |= kp->bit;
    return IMS_OK;
}

/* One parameter; the cursor is just after its ';'. */
static int parse_param(cursor_t *c, sec_agree_mech_t *m, const char **reason)
{
    span_t name, value;
    bool has_value = false, quoted = false;

    skip_lws(c);
    name = scan(c, false);
    *reason = "Bad security parameter";
    if (name.n == 0)
        return IMS_ERROR;
    skip_lws(c);
    if (peek(c) == '=') {
        c->pos++;
        skip_lws(c);
        has_value = true;
        if (peek(c) == '"') {
            quoted = true;
            if (scan_quoted(c, &value) != IMS_OK)
                return IMS_ERROR;
        } else {
            value = scan(c, true);
            if (value.n == 0)
                return IMS_ERROR;
        }
    }
    return apply_param(m, name, has_value ? &value : NULL, quoted, reason);
}

static sec_agree_kind_t kind_of(span_t name)
{
    if (span_ieq(name, "ipsec-3gpp"))
        return SEC_AGREE_IPSEC_3GPP;
    if (span_ieq(name, "tls"))
        return SEC_AGREE_TLS;
    if (span_ieq(name, "digest"))
        return SEC_AGREE_DIGEST;
    return SEC_AGREE_OTHER;
}

/* TS 33.203 Annex H: what an ipsec-3gpp mechanism cannot do without. */
static const char *missing_param(const sec_agree_mech_t *m)
{
    static const struct {
        uint32_t bit;
        const char *reason;
    } required[] = {
        { SEC_AGREE_P_ALG, "Missing alg in ipsec-3gpp" },
        { SEC_AGREE_P_SPI_C, "Missing spi-c in ipsec-3gpp" },
        { SEC_AGREE_P_SPI_S, "Missing spi-s in ipsec-3gpp" },
        { SEC_AGREE_P_PORT_C, "Missing port-c in ipsec-3gpp" },
        { SEC_AGREE_P_PORT_S, "Missing port-s in ipsec-3gpp" },
    };

    if (m->kind != SEC_AGREE_IPSEC_3GPP)
        return NULL;
    for (size_t i = 0; i < IMS_ARRAY_LEN(required); i++) {
        if (!(m->present & required[i].bit))
            return required[i].reason;
    }
    return NULL;
}

static void mech_defaults(sec_agree_mech_t *m)
{
    memset(m, 0, sizeof(*m));
    m->q = SEC_AGREE_Q_NONE;
    m->ealg = SEC_AGREE_EALG_NULL;
    m->prot_esp = true;
    m->mod_trans = true;
}

/* One mechanism; the cursor is on its name. */
static int parse_mech(cursor_t *c, sec_agree_mech_t *m, const char **reason)
{
    span_t name = scan(c, false);

    mech_defaults(m);
    *reason = "Bad security mechanism name";
    if (name.n == 0 || copy_value(m->name, sizeof(m->name), name) != IMS_OK)
        return IMS_ERROR;
    m->kind = kind_of(name);
    for (;;) {
        skip_lws(c);
        if (peek(c) != ';')
            break;
        c->pos++;
        if (parse_param(c, m, reason) != IMS_OK)
            return IMS_ERROR;
    }
    *reason = missing_param(m);
    return *reason ? IMS_ERROR : IMS_OK;
}

static int parse_list(cursor_t *c, sec_agree_list_t *l, const char **reason)
{
    size_t added = 0;

    for (;;) {
        skip_lws(c);
        if (peek(c) < 0)
            break;
        if (peek(c) == ',') {
            c->pos++;
            continue;
        }
        *reason = "Too many security mechanisms";
        if (l->count >= SEC_AGREE_MAX_MECHS)
            return IMS_ERROR;
        if (parse_mech(c, &l->mech[l->count], reason) != IMS_OK)
            return IMS_ERROR;
        l->count++;
        added++;
        skip_lws(c);
        *reason = "Bad security mechanism list";
        if (peek(c) >= 0 && peek(c) != ',')
            return IMS_ERROR;
    }
    *reason = "Empty security mechanism list";
    return added > 0 ? IMS_OK : IMS_ERROR;
}

void sec_agree_list_init(sec_agree_list_t *l)
{
    l->count = 0;
}

int sec_agree_parse_add(sec_agree_list_t *l, const char *s, size_t len, const char **reason)
{
    cursor_t c = { s, len, 0 };
    size_t before = l->count;
    const char *why = "Empty security mechanism list";

    if (s != NULL && parse_list(&c, l, &why) == IMS_OK)
        return IMS_OK;
    l->count = before;
    if (reason)
        *reason = why;
    return IMS_ERROR;
}

int sec_agree_parse(sec_agree_list_t *l, const char *const *values, size_t n,
                    const char **reason)
{
    sec_agree_list_init(l);
    for (size_t i = 0; i < n; i++) {
        const char *v = values[i] ? values[i] : "";
        if (sec_agree_parse_add(l, v, strlen(v), reason) != IMS_OK) {
            sec_agree_list_init(l);
            return IMS_ERROR;
        }
    }
    if (l->count == 0) {
        if (reason)
            *reason = "Empty security mechanism list";
        return IMS_ERROR;
    }
    return IMS_OK;
}

int sec_agree_parse_msg(sec_agree_list_t *l, const struct sip_msg *msg, const char *name,
                        const char **reason)
{
    osip_header_t *h = NULL;
    bool found = false;

    sec_agree_list_init(l);
    for (int pos = 0; (pos = osip_message_header_get_byname(msg->m, name, pos, &h)) >= 0;
         pos++) {
        const char *v = h && h->hvalue ? h->hvalue : "";
        found = true;
        if (sec_agree_parse_add(l, v, strlen(v), reason) != IMS_OK) {
            sec_agree_list_init(l);
            return IMS_ERROR;
        }
    }
    return found ? IMS_OK : IMS_DECLINED;
}

/* --- build and format --------------------------------------------------- */

int sec_agree_mech_ipsec(sec_agree_mech_t *m, sec_agree_alg_t alg, sec_agree_ealg_t ealg,
                         uint32_t spi_c, uint32_t spi_s, uint16_t port_c, uint16_t port_s,
                         int q)
{
    if (alg == SEC_AGREE_ALG_UNKNOWN || (unsigned)alg >= IMS_ARRAY_LEN(alg_names) ||
        ealg == SEC_AGREE_EALG_UNKNOWN || (unsigned)ealg >= IMS_ARRAY_LEN(ealg_names) ||
        (q != SEC_AGREE_Q_NONE && (q < 0 || q > 1000)) || spi_c < SPI_MIN ||
        spi_s < SPI_MIN || port_c == 0 || port_s == 0)
        return IMS_ERROR;
    mech_defaults(m);
    m->kind = SEC_AGREE_IPSEC_3GPP;
    strcpy(m->name, "ipsec-3gpp");
    m->q = q;
    m->present = SEC_AGREE_P_ALG | SEC_AGREE_P_EALG | SEC_AGREE_P_SPI_C | SEC_AGREE_P_SPI_S |
                 SEC_AGREE_P_PORT_C | SEC_AGREE_P_PORT_S | SEC_AGREE_P_PROT | SEC_AGREE_P_MOD;
    m->alg = alg;
    m->ealg = ealg;
    strcpy(m->alg_name, alg_names[alg]);
    strcpy(m->ealg_name, ealg_names[ealg]);
    strcpy(m->prot_name, "esp");
    strcpy(m->mod_name, "trans");
    m->spi_c = spi_c;
    m->spi_s = spi_s;
    m->port_c = port_c;
    m->port_s = port_s;
    return IMS_OK;
}

int sec_agree_list_add(sec_agree_list_t *l, const sec_agree_mech_t *m)
{
    if (l->count >= SEC_AGREE_MAX_MECHS)
        return IMS_ERROR;
    l->mech[l->count++] = *m;
    return IMS_OK;
}

typedef struct out {
    char *buf;
    size_t size;
    size_t used;
    bool full;
} out_t;

__attribute__((format(printf, 2, 3)))
static void out_fmt(out_t *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->full)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->used, o->size - o->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->size - o->used) {
        o->full = true;
        return;
    }
    o->used += (size_t)n;
}

static void format_q(out_t *o, int q)
{
    if (q == SEC_AGREE_Q_NONE)
        return;
    if (q >= 1000)
        out_fmt(o, ";q=1");
    else if (q == 0)
        out_fmt(o, ";q=0");
    else if (q % 100 == 0)
        out_fmt(o, ";q=0.%d", q / 100);
    else if (q % 10 == 0)
        out_fmt(o, ";q=0.%02d", q / 10);
    else
        out_fmt(o, ";q=0.%03d", q);
}

static void format_ipsec(out_t *o, const sec_agree_mech_t *m)
{
    if (m->present & SEC_AGREE_P_ALG)
        out_fmt(o, ";alg=%s", m->alg_name);
    if (m->present & SEC_AGREE_P_EALG)
        out_fmt(o, ";ealg=%s", m->ealg_name);
    if (m->present & SEC_AGREE_P_SPI_C)
        out_fmt(o, ";spi-c=%u", (unsigned)m->spi_c);
    if (m->present & SEC_AGREE_P_SPI_S)
        out_fmt(o, ";spi-s=%u", (unsigned)m->spi_s);
    if (m->present & SEC_AGREE_P_PORT_C)
        out_fmt(o, ";port-c=%u", (unsigned)m->port_c);
    if (m->present & SEC_AGREE_P_PORT_S)
        out_fmt(o, ";port-s=%u", (unsigned)m->port_s);
    if (m->present & SEC_AGREE_P_PROT)
        out_fmt(o, ";prot=%s", m->prot_name);
    if (m->present & SEC_AGREE_P_MOD)
        out_fmt(o, ";mod=%s", m->mod_name);
}

int sec_agree_format(const sec_agree_list_t *l, char *buf, size_t size, size_t *len)
{
    out_t o = { buf, size, 0, size == 0 };

    if (l->count == 0 || buf == NULL || size == 0)
        return IMS_ERROR;
    buf[0] = '\0';
    for (size_t i = 0; i < l->count && i < SEC_AGREE_MAX_MECHS; i++) {
        const sec_agree_mech_t *m = &l->mech[i];
        out_fmt(&o, "%s%s", i ? ", " : "", m->name);
        if (m->kind == SEC_AGREE_IPSEC_3GPP)
            format_ipsec(&o, m);
        format_q(&o, m->q);
        out_fmt(&o, "%s", m->ext);
    }
    if (o.full)
        return IMS_ERROR;
    if (len)
        *len = o.used;
    return IMS_OK;
}

/* --- select and verify -------------------------------------------------- */

/* Rank of m's (alg, ealg) in prefs, or nprefs when m is not acceptable. */
static size_t pref_rank(const sec_agree_mech_t *m, const sec_agree_pref_t *prefs, size_t nprefs)
{
    if (m->kind != SEC_AGREE_IPSEC_3GPP || !m->prot_esp || !m->mod_trans ||
        m->alg == SEC_AGREE_ALG_UNKNOWN || m->ealg == SEC_AGREE_EALG_UNKNOWN)
        return nprefs;
    for (size_t i = 0; i < nprefs; i++) {
        if (prefs[i].alg == m->alg && prefs[i].ealg == m->ealg)
            return i;
    }
    return nprefs;
}

int sec_agree_select(const sec_agree_list_t *offer, const sec_agree_pref_t *prefs,
                     size_t nprefs, size_t *index)
{
    size_t best = SIZE_MAX, best_rank = nprefs;

    for (size_t i = 0; i < offer->count && i < SEC_AGREE_MAX_MECHS; i++) {
        const sec_agree_mech_t *m = &offer->mech[i];
        size_t rank = pref_rank(m, prefs, nprefs);
        /* Absent q is SEC_AGREE_Q_NONE (-1): below every explicit q. */
        if (rank < best_rank || (rank == best_rank && rank < nprefs &&
                                 m->q > offer->mech[best].q)) {
            best = i;
            best_rank = rank;
        }
    }
    if (best == SIZE_MAX)
        return IMS_DECLINED;
    *index = best;
    return IMS_OK;
}

/* Next ";name[=value]" of an ext text, from *pos; false at the end. */
static bool ext_next(const char *ext, size_t *pos, span_t *param)
{
    const char *p = ext + *pos, *end;

    if (*p != ';')
        return false;
    end = p + 1;
    /* Quoted values may hold ';': skip over them. */
    while (*end && *end != ';') {
        if (*end == '"') {
            for (end++; *end && *end != '"'; end++) {
                if (*end == '\\' && end[1])
                    end++;
            }
        }
        if (*end)
            end++;
    }
    param->p = p;
    param->n = (size_t)(end - p);
    *pos += param->n;
    return true;
}

static size_t ext_count_matches(const char *ext, span_t param)
{
    size_t pos = 0, n = 0;
    span_t q;

    while (ext_next(ext, &pos, &q)) {
        if (q.n == param.n && strncasecmp(q.p, param.p, q.n) == 0)
            n++;
    }
    return n;
}

/* The same extension parameters, as multisets, ignoring case. */
static bool ext_equal(const char *a, const char *b)
{
    size_t pos = 0, na = 0, nb = 0;
    span_t p;

    while (ext_next(a, &pos, &p)) {
        na++;
        if (ext_count_matches(a, p) != ext_count_matches(b, p))
            return false;
    }
    pos = 0;
    while (ext_next(b, &pos, &p))
        nb++;
    return na == nb;
}

static bool value_ieq(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

static bool ipsec_equal(const sec_agree_mech_t *a, const sec_agree_mech_t *b)
{
    /* Unknown algorithms compare by name; known ones by meaning (absent ealg is null). */
    if (a->alg != b->alg || a->ealg != b->ealg || a->prot_esp != b->prot_esp ||
        a->mod_trans != b->mod_trans)
        return false;
    if (a->alg == SEC_AGREE_ALG_UNKNOWN && !value_ieq(a->alg_name, b->alg_name))
        return false;
    if (a->ealg == SEC_AGREE_EALG_UNKNOWN && !value_ieq(a->ealg_name, b->ealg_name))
        return false;
    if (!a->prot_esp && !value_ieq(a->prot_name, b->prot_name))
        return false;
    if (!a->mod_trans && !value_ieq(a->mod_name, b->mod_name))
        return false;
    return a->spi_c == b->spi_c && a->spi_s == b->spi_s && a->port_c == b->port_c &&
           a->port_s == b->port_s;
}

bool sec_agree_mech_equal(const sec_agree_mech_t *a, const sec_agree_mech_t *b)
{
    if (a->kind != b->kind || !value_ieq(a->name, b->name) || a->q != b->q)
        return false;
    if (a->kind == SEC_AGREE_IPSEC_3GPP && !ipsec_equal(a, b))
        return false;
    return ext_equal(a->ext, b->ext);
}

bool sec_agree_verify(const sec_agree_list_t *verify, const sec_agree_list_t *server)
{
    bool used[SEC_AGREE_MAX_MECHS] = { false };

    if (verify->count != server->count || verify->count > SEC_AGREE_MAX_MECHS ||
        verify->count == 0)
        return false;
    /* Equality is an equivalence, so first-fit matching finds a pairing when one exists. */
    for (size_t i = 0; i < verify->count; i++) {
        size_t j;
        for (j = 0; j < server->count; j++) {
            if (!used[j] && sec_agree_mech_equal(&verify->mech[i], &server->mech[j]))
                break;
        }
        if (j == server->count)
            return false;
        used[j] = true;
    }
    return true;
}
