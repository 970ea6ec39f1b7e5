/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Socket addresses as SIP writes them ("ip:port", "[ip6]:port"), and the
 * random tokens used for tags and branches.
 *
 * Tokens need to be unique, not secret (RFC 3261 §19.3 asks for global
 * uniqueness and 32 bits of randomness), and they are drawn for every
 * transaction, so they come from a fast generator seeded once from the
 * kernel rather than from getrandom() per call.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/core/rc.h"
#include "common/sip/msg.h"

static uint64_t g_rng;
static bool g_rng_seeded;

size_t sip_utoa(unsigned long v, char *buf)
{
    char tmp[24];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

void sip_tb_uint(sip_tb_t *t, unsigned long v)
{
    char d[24];

    sip_tb_put(t, d, sip_utoa(v, d));
}

void sip_tb_hex(sip_tb_t *t, uint64_t v)
{
    char d[16];
    size_t n = sizeof(d);

    do {
        d[--n] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    sip_tb_put(t, d + n, sizeof(d) - n);
}

/* inet_ntop formats IPv4 with sprintf: on every message the CSCFs format a
 * few addresses, so the dotted quad is written by hand. */
const char *sip_ip_str(int family, const void *bin, char *buf, size_t buflen)
{
    const unsigned char *b = bin;
    char *p = buf;

    if (family != AF_INET)
        return inet_ntop(family, bin, buf, (socklen_t)buflen);
    if (buflen < INET_ADDRSTRLEN)
        return NULL;
    for (int i = 0; i < 4; i++) {
        p += sip_utoa(b[i], p);
        *p++ = i < 3 ? '.' : '\0';
    }
    return buf;
}

const char *sip_addr_str(const sip_addr_t *a, char *buf, size_t buflen)
{
    char ip[INET6_ADDRSTRLEN];
    size_t n;

    if (buf == NULL || buflen == 0)
        return buf;
    if (a != NULL && a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;

        char full[INET6_ADDRSTRLEN + 8];

        sip_ip_str(AF_INET, &s4->sin_addr, full, sizeof(full));
        n = strlen(full);
        full[n++] = ':';
        n += sip_utoa(ntohs(s4->sin_port), full + n);
        n = n < buflen ? n : buflen - 1; /* truncated, like snprintf */
        memcpy(buf, full, n);
        buf[n] = '\0';
    } else if (a != NULL && a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;

        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, buflen, "[%s]:%u", ip, (unsigned)ntohs(s6->sin6_port));
    } else {
        snprintf(buf, buflen, "?");
    }
    return buf;
}

int sip_addr_from(sip_addr_t *a, const char *host, uint16_t port)
{
    struct sockaddr_in *s4;
    struct sockaddr_in6 *s6;
    char tmp[INET6_ADDRSTRLEN];
    size_t n;

    if (a == NULL || host == NULL)
        return IMS_ERROR;
    memset(a, 0, sizeof(*a));
    s4 = (struct sockaddr_in *)&a->ss;
    s6 = (struct sockaddr_in6 *)&a->ss;
    n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        /* Brackets mark IPv6 only. */
        if (n - 2 >= sizeof(tmp))
            return IMS_ERROR;
        memcpy(tmp, host + 1, n - 2);
        tmp[n - 2] = '\0';
        host = tmp;
    } else if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        a->len = sizeof(*s4);
        return IMS_OK;
    }
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
        memset(a, 0, sizeof(*a));
        return IMS_ERROR;
    }
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    a->len = sizeof(*s6);
    return IMS_OK;
}

uint16_t sip_addr_port(const sip_addr_t *a)
{
    if (a == NULL)
        return 0;
    if (a->ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    if (a->ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    return 0;
}

bool sip_addr_same_ip(const sip_addr_t *a, const sip_addr_t *b)
{
    if (a == NULL || b == NULL || a->ss.ss_family != b->ss.ss_family)
        return false;
    if (a->ss.ss_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)(const void *)&b->ss)->sin_addr.s_addr;
    if (a->ss.ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_addr,
                      &((const struct sockaddr_in6 *)(const void *)&b->ss)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return false;
}

bool sip_addr_equal(const sip_addr_t *a, const sip_addr_t *b)
{
    if (a == NULL || b == NULL || a->ss.ss_family != b->ss.ss_family)
        return false;
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)&a->ss, *y = (const void *)&b->ss;

        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)&a->ss, *y = (const void *)&b->ss;

        return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    return false;
}

/* splitmix64: fast, full period, good enough bits for unique tokens. */
static uint64_t rng_next(void)
{
    uint64_t z;

    if (!g_rng_seeded) {
        struct timespec ts;

        if (getrandom(&g_rng, sizeof(g_rng), GRND_NONBLOCK) != (ssize_t)sizeof(g_rng)) {
            clock_gettime(CLOCK_REALTIME, &ts);
            g_rng = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
                    ((uint64_t)getpid() << 16);
        }
        g_rng_seeded = true;
    }
    z = (g_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sip_random_token(char *buf, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t r = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (i % 16 == 0)
            r = rng_next();
        buf[i] = hex[r & 0xf];
        r >>= 4;
    }
    buf[n] = '\0';
}
