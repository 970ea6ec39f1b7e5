/* SPDX-License-Identifier: BSD-2-Clause */
/* The control socket on the loop, and the blocking CLI client. */
#define _GNU_SOURCE  /* accept4 */
#include "hss/ctl.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "hss/cx-path.h"
#include "hss/sqn-store.h"

#define CTL_MAX_CLIENTS 16
#define CTL_LINE_MAX 1024
#define CTL_WBUF_MAX (64 * 1024)    /* a client that does not read is dropped */
#define CTL_CLIENT_WAIT_MS 15000

typedef struct ctl_client {
    struct hss_ctl *ctl;
    int fd;                 /* -1: free slot */
    uint32_t gen;           /* changes whenever the slot is reused */
    char rbuf[CTL_LINE_MAX];
    size_t rlen;
    char *wbuf;
    size_t wlen, wcap;
} ctl_client_t;

struct hss_ctl {
    hss_ctx_t *ctx;
    char *path;
    int lfd;
    ctl_client_t c[CTL_MAX_CLIENTS];
    uint32_t next_gen;
};

/* An outstanding RTR/PPR: the client by slot and generation, not by pointer. */
typedef struct ctl_op {
    hss_ctl_t *ctl;
    int slot;
    uint32_t gen;
} ctl_op_t;

static void client_close(hss_ctl_t *ctl, ctl_client_t *c)
{
    if (c->fd < 0)
        return;
    ims_loop_del_fd(ctl->ctx->loop, c->fd);
    close(c->fd);
    free(c->wbuf);
    c->fd = -1;
    c->wbuf = NULL;
    c->wlen = c->wcap = 0;
    c->rlen = 0;
    c->gen = ctl->next_gen++;
}

static void client_flush(hss_ctl_t *ctl, ctl_client_t *c)
{
    while (c->wlen > 0) {
        ssize_t w = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w <= 0) {
            client_close(ctl, c);
            return;
        }
        memmove(c->wbuf, c->wbuf + w, c->wlen - (size_t)w);
        c->wlen -= (size_t)w;
    }
    ims_loop_mod_fd(ctl->ctx->loop, c->fd, IMS_EV_READ | (c->wlen ? IMS_EV_WRITE : 0));
}

__attribute__((format(printf, 3, 4)))
static void reply(hss_ctl_t *ctl, ctl_client_t *c, const char *fmt, ...)
{
    char line[CTL_LINE_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (c->wlen + (size_t)n > CTL_WBUF_MAX) {
        client_close(ctl, c);
        return;
    }
    if (c->wlen + (size_t)n > c->wcap) {
        c->wcap = c->wlen + (size_t)n + 1024;
        if (!(c->wbuf = realloc(c->wbuf, c->wcap)))
            abort();
    }
    memcpy(c->wbuf + c->wlen, line, (size_t)n);
    c->wlen += (size_t)n;
    client_flush(ctl, c);
}

static void on_path_done(void *arg, uint32_t code, bool experimental, const char *why)
{
    ctl_op_t *op = arg;
    ctl_client_t *c = &op->ctl->c[op->slot];

    if (c->fd >= 0 && c->gen == op->gen) {
        if (why)
            reply(op->ctl, c, "error %s", why);
        else
            reply(op->ctl, c, "ok %" PRIu32 "%s", code, experimental ? " experimental" : "");
    }
    free(op);
}

static void cmd_stats(hss_ctl_t *ctl, ctl_client_t *c)
{
    const hss_ctx_t *x = ctl->ctx;
    const hss_stats_t *s = &x->stats;

    reply(ctl, c, "ok uar=%" PRIu64 " mar=%" PRIu64 " sar=%" PRIu64 " lir=%" PRIu64
          " vectors=%" PRIu64 " redraws=%" PRIu64 " resyncs=%" PRIu64 " rtr=%" PRIu64
          " ppr=%" PRIu64 " errors=%" PRIu64 " subscribers=%zu sqn_writes=%" PRIu64,
          s->uar, s->mar, s->sar, s->lir, s->vectors, s->redraws, s->resyncs, s->rtr, s->ppr,
          s->errors, x->nsubs, hss_sqn_store_writes(x->sqn));
}

static void cmd_show(hss_ctl_t *ctl, ctl_client_t *c, const char *impi)
{
    static const char *const states[] = { "not-registered", "registered", "unregistered" };
    const hss_sub_t *sub = hss_ctx_find_impi(ctl->ctx, impi);

    if (!sub) {
        reply(ctl, c, "error unknown IMPI %s", impi);
        return;
    }
    reply(ctl, c, "ok state=%s scscf=%s pending=%s sqn=%" PRIu64, states[sub->state],
          sub->scscf ? sub->scscf : "-", sub->pending_scscf ? sub->pending_scscf : "-",
          hss_sqn_store_current(ctl->ctx->sqn, sub->sqn_slot));
}

static void cmd_path(hss_ctl_t *ctl, ctl_client_t *c, bool rtr, const char *impi,
                     const char *reason)
{
    ctl_op_t *op;
    char err[300], *end;
    unsigned long rc = 0;
    int r;

    if (ctl->ctx->open5gs_mode) {
        /* open5gs's HSS never sends them; neither does an HSS imitating it */
        reply(ctl, c, "error open5gs_mode: this HSS sends no RTR or PPR");
        return;
    }
    op = malloc(sizeof(*op));
    if (!op)
        abort();
    *op = (ctl_op_t){ ctl, (int)(c - ctl->c), c->gen };
    if (rtr) {
        rc = strtoul(reason ? reason : "", &end, 10);
        if (!reason || *end || rc > 3) {
            free(op);
            reply(ctl, c, "error usage: rtr <impi> <reason-code 0..3>");
            return;
        }
        r = hss_path_rtr(ctl->ctx, impi, (uint32_t)rc, on_path_done, op, err, sizeof(err));
    } else {
        r = hss_path_ppr(ctl->ctx, impi, on_path_done, op, err, sizeof(err));
    }
    if (r != IMS_OK) {
        free(op);
        reply(ctl, c, "error %s", err);
    }
}

static void command(hss_ctl_t *ctl, ctl_client_t *c, char *line)
{
    char *tok[4] = { NULL }, *save = NULL;
    int n = 0;

    for (char *t = strtok_r(line, " \t\r", &save); t && n < 4; t = strtok_r(NULL, " \t\r", &save))
        tok[n++] = t;
    if (n == 0)
        return;
    if (strcmp(tok[0], "stats") == 0)
        cmd_stats(ctl, c);
    else if (strcmp(tok[0], "show") == 0 && n == 2)
        cmd_show(ctl, c, tok[1]);
    else if (strcmp(tok[0], "rtr") == 0 && n >= 2)
        cmd_path(ctl, c, true, tok[1], tok[2]);
    else if (strcmp(tok[0], "ppr") == 0 && n == 2)
        cmd_path(ctl, c, false, tok[1], NULL);
    else if (strcmp(tok[0], "help") == 0)
        reply(ctl, c, "ok commands: stats | show <impi> | rtr <impi> <reason 0..3> | "
              "ppr <impi>");
    else
        reply(ctl, c, "error unknown command (try help)");
}

/* Run every complete line in the read buffer. */
static void client_lines(hss_ctl_t *ctl, ctl_client_t *c)
{
    char *nl;
    uint32_t gen = c->gen;

    while (c->fd >= 0 && c->gen == gen && (nl = memchr(c->rbuf, '\n', c->rlen))) {
        char line[CTL_LINE_MAX];
        size_t n = (size_t)(nl - c->rbuf);

        memcpy(line, c->rbuf, n);
        line[n] = '\0';
        memmove(c->rbuf, nl + 1, c->rlen - n - 1);
        c->rlen -= n + 1;
        command(ctl, c, line);
    }
}

static void on_client(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    ctl_client_t *c = arg;
    hss_ctl_t *ctl = c->ctl;
    ssize_t r;

    (void)loop;
    if (events & IMS_EV_WRITE)
        client_flush(ctl, c);
    if (c->fd != fd || !(events & (IMS_EV_READ | IMS_EV_ERROR)))
        return;
    r = recv(fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) {
        client_close(ctl, c);
        return;
    }
    c->rlen += (size_t)r;
    client_lines(ctl, c);
    if (c->fd >= 0 && c->rlen == sizeof(c->rbuf)) {
        reply(ctl, c, "error line too long");
        client_close(ctl, c);
    }
}

static void on_listen(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    hss_ctl_t *ctl = arg;
    int cfd;

    (void)events;
    while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        ctl_client_t *c = NULL;

        for (int i = 0; i < CTL_MAX_CLIENTS && !c; i++)
            if (ctl->c[i].fd < 0)
                c = &ctl->c[i];
        if (!c || ims_loop_add_fd(loop, cfd, IMS_EV_READ, on_client, c) != IMS_OK) {
            static const char busy[] = "error busy\n";

            (void)!send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(cfd);
            continue;
        }
        c->fd = cfd;
        c->rlen = 0;
    }
}

hss_ctl_t *hss_ctl_new(hss_ctx_t *ctx, const char *path)
{
    hss_ctl_t *ctl;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        IMS_ERR("control socket path %s is too long", path);
        return NULL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    unlink(path);   /* a stale socket of an earlier run */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0600) != 0 ||
        listen(fd, 16) != 0) {
        IMS_ERR("control socket %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!(ctl = calloc(1, sizeof(*ctl))) || !(ctl->path = strdup(path)))
        abort();
    ctl->ctx = ctx;
    ctl->lfd = fd;
    ctl->next_gen = 1;
    for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
        ctl->c[i].ctl = ctl;
        ctl->c[i].fd = -1;
        ctl->c[i].gen = ctl->next_gen++;
    }
    if (ims_loop_add_fd(ctx->loop, fd, IMS_EV_READ, on_listen, ctl) != IMS_OK) {
        hss_ctl_free(ctl);
        return NULL;
    }
    IMS_NOTICE("control socket %s", path);
    return ctl;
}

void hss_ctl_free(hss_ctl_t *ctl)
{
    if (!ctl)
        return;
    for (int i = 0; i < CTL_MAX_CLIENTS; i++)
        client_close(ctl, &ctl->c[i]);
    ims_loop_del_fd(ctl->ctx->loop, ctl->lfd);
    close(ctl->lfd);
    unlink(ctl->path);
    free(ctl->path);
    free(ctl);
}

/* ---- CLI client (blocking) ---- */

static int wait_fd(int fd, short what)
{
    struct pollfd p = { .fd = fd, .events = what };
    int r;

    while ((r = poll(&p, 1, CTL_CLIENT_WAIT_MS)) < 0 && errno == EINTR)
        ;
    return r > 0 ? IMS_OK : IMS_ERROR;
}

int hss_ctl_client(const char *path, const char *command_line)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char buf[CTL_LINE_MAX + 1];
    size_t len = 0;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path) || strchr(command_line, '\n')) {
        fprintf(stderr, "ims-hss: bad control socket path or command\n");
        return 1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        dprintf(fd, "%s\n", command_line) < 0) {
        fprintf(stderr, "ims-hss: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    while (len < CTL_LINE_MAX && !memchr(buf, '\n', len)) {
        ssize_t r;

        if (wait_fd(fd, POLLIN) != IMS_OK)
            break;
        r = recv(fd, buf + len, CTL_LINE_MAX - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    if (!memchr(buf, '\n', len)) {
        fprintf(stderr, "ims-hss: no reply from %s\n", path);
        return 1;
    }
    fputs(buf, stdout);
    return strncmp(buf, "ok", 2) == 0 ? 0 : 1;
}
