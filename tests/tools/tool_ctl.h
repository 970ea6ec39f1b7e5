/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Small helpers shared by the test peers in tests/tools (header-only: each
 * .c file there is a program of its own): numbers and "IP:PORT" arguments, and the UDP
 * control socket (one command per datagram, a one-line reply to the sender).
 */
#ifndef TESTS_TOOLS_TOOL_CTL_H
#define TESTS_TOOLS_TOOL_CTL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/loop.h"
#include "common/core/rc.h"

/* Handle one command (NUL-terminated, no line end; may be modified) and
 * write a one-line reply into reply (cap bytes). */
typedef void (*tool_ctl_fn)(void *arg, char *cmd, char *reply, size_t cap);

typedef struct tool_ctl {
    ims_loop_t *loop;
    int fd;
    tool_ctl_fn fn;
    void *arg;
} tool_ctl_t;

/* A decimal number <= max into *out; false when s is not one. */
static inline bool tool_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end != '\0' || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "IP:PORT" (port 1..65535), split in place. */
static inline bool tool_split_addr(char *s, const char **ip, uint16_t *port)
{
    char *colon = strrchr(s, ':');
    uint32_t v;

    if (!colon || !tool_parse_u32(colon + 1, 65535, &v) || v == 0)
        return false;
    *colon = '\0';
    *ip = s;
    *port = (uint16_t)v;
    return *s != '\0';
}

static inline void tool_ctl_on_fd(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    tool_ctl_t *c = arg;
    char buf[512], reply[512];
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n;

    (void)loop;
    (void)events;
    while ((n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &flen)) >= 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        reply[0] = '\0';
        c->fn(c->arg, buf, reply, sizeof(reply));
        sendto(fd, reply, strlen(reply), 0, (struct sockaddr *)&from, flen);
        flen = sizeof(from);
    }
}

/* Bind the UDP control socket on ip:port (IPv4) and serve it with fn. */
static inline int tool_ctl_open(tool_ctl_t *c, ims_loop_t *loop, const char *ip, uint16_t port,
                                tool_ctl_fn fn, void *arg)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

    c->loop = loop;
    c->fn = fn;
    c->arg = arg;
    c->fd = -1;
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return IMS_ERROR;
    c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd >= 0 && bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        ims_loop_add_fd(loop, c->fd, IMS_EV_READ, tool_ctl_on_fd, c) == IMS_OK)
        return IMS_OK;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    return IMS_ERROR;
}

static inline void tool_ctl_close(tool_ctl_t *c)
{
    if (c->fd < 0)
        return;
    ims_loop_del_fd(c->loop, c->fd);
    close(c->fd);
    c->fd = -1;
}

#endif
