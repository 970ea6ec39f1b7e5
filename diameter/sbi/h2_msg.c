/* SPDX-License-Identifier: BSD-2-Clause */
/* Bounded storage of one HTTP/2 message's headers and body (h2_msg.h). */
#include "diameter/sbi/h2_msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diameter/sbi/h2_int.h"

void sbi_h2_msg_init(sbi_h2_msg_t *m)
{
    free(m->buf);
    m->buf = NULL;
    m->method = m->path = m->body = "";
    m->status = 0;
    m->nhdrs = 0;
    m->body_len = 0;
    m->truncated = false;
    m->used = 0;
}

void sbi_h2_msg_clear(sbi_h2_msg_t *m)
{
    free(m->buf);
    m->buf = NULL;
    m->body = "";
    m->body_len = 0;
}

/* A NUL-terminated copy of s in m->space, or NULL when it does not fit. */
static const char *keep(sbi_h2_msg_t *m, const uint8_t *s, size_t len)
{
    char *p;

    if (len >= sizeof(m->space) - m->used)
        return NULL;
    p = m->space + m->used;
    memcpy(p, s, len);
    p[len] = '\0';
    m->used += len + 1;
    return p;
}

static int status_of(const uint8_t *v, size_t len)
{
    int s = 0;

    if (len != 3)
        return 0;
    for (size_t i = 0; i < 3; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        s = s * 10 + (v[i] - '0');
    }
    return s >= 100 ? s : 0;
}

void sbi_h2_msg_add_header(sbi_h2_msg_t *m, const uint8_t *name, size_t nlen,
                           const uint8_t *value, size_t vlen)
{
    const char *n, *v;

    if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
        m->status = status_of(value, vlen);
        return;
    }
    if (m->nhdrs >= SBI_H2_MAX_HDRS) {
        m->truncated = true;
        return;
    }
    n = keep(m, name, nlen);
    v = n ? keep(m, value, vlen) : NULL;
    if (!v) {
        m->truncated = true;
        return;
    }
    if (strcmp(n, ":method") == 0)
        m->method = v;
    else if (strcmp(n, ":path") == 0)
        m->path = v;
    else
        m->hdrs[m->nhdrs++] = (sbi_h2_hdr_t){ n, v };
}

void sbi_h2_msg_add_body(sbi_h2_msg_t *m, const uint8_t *data, size_t len)
{
    char *nb;

    if (len > SBI_H2_MAX_BODY - m->body_len) {
        m->truncated = true;
        len = SBI_H2_MAX_BODY - m->body_len;
    }
    if (!len)
        return;
    nb = realloc(m->buf, m->body_len + len + 1);
    if (!nb)
        abort();
    memcpy(nb + m->body_len, data, len);
    m->body_len += len;
    nb[m->body_len] = '\0';
    m->buf = nb;
    m->body = nb;
}

const char *sbi_h2_msg_header(const sbi_h2_msg_t *m, const char *name)
{
    for (int i = 0; i < m->nhdrs; i++)
        if (strcasecmp(m->hdrs[i].name, name) == 0)
            return m->hdrs[i].value;
    return NULL;
}
