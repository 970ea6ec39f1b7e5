/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Relaying a response as it was received.
 *
 * A proxy sends most responses on unchanged but for its own Via on top
 * (RFC 3261 §16.7 item 3). Printing them back from libosip2's structures costs
 * as much as parsing them did; the text libosip2 kept from the parse, less the
 * line of that Via, is the same message. This is used only when the message
 * says it is safe (sip_msg_pop_via once, nothing marked edited) and only when
 * the Via line is simple: one value on one line. Anything else (a Via line
 * holding several values, a folded line) takes the ordinary printer.
 */
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"
#include "common/sip/msg_int.h"

static bool is_via_name(const char *p, size_t n)
{
    return sip_raw_name_is(p, n, "via") || sip_raw_name_is(p, n, "v");
}

/* Offsets of the first Via line of buf[0..len): [*off, *end) with its line end. */
static bool find_top_via(const char *buf, size_t len, size_t *off, size_t *end)
{
    size_t pos = 0, start, name_len, voff, n;
    const char *p;
    bool lf;

    if (!sip_raw_next_line(buf, len, &pos, &p, &n, &lf)) /* the status line */
        return false;
    for (;;) {
        start = pos;
        if (!sip_raw_next_line(buf, len, &pos, &p, &n, &lf) || n == 0 || !lf)
            return false;
        if (p[0] == ' ' || p[0] == '\t' || !sip_raw_header_name(p, n, &name_len, &voff))
            continue;
        if (is_via_name(p, name_len))
            break;
    }
    /* One value, not continued on the next line: the whole line is that Via. */
    if (memchr(p + voff, ',', n - voff) || pos >= len || buf[pos] == ' ' || buf[pos] == '\t')
        return false;
    *off = start;
    *end = pos;
    return true;
}

int sip_raw_drop_top_via(const char *buf, size_t len, char **out, size_t *outlen)
{
    size_t off, end;
    char *o;

    if (!buf || !find_top_via(buf, len, &off, &end))
        return IMS_DECLINED;
    o = osip_malloc(len - (end - off) + 1);
    if (!o)
        return IMS_ERROR;
    memcpy(o, buf, off);
    memcpy(o + off, buf + end, len - end);
    *outlen = len - (end - off);
    o[*outlen] = '\0';
    *out = o;
    return IMS_OK;
}
