/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control socket on the loop. Each client has a fixed read buffer of one
 * line (a longer line cannot be a request: it is answered with an error and
 * the connection closed once that reply is out) and a growing write buffer
 * bounded by IMS_CTL_WBUF_MAX. Clients are slots named by index and a
 * generation, so that a reply never reaches a connection that reused the slot.
 */
#define _GNU_SOURCE  /* accept4 */
#include "common/ops/ctl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/rc.h"

#define CTL_MAX_CMDS 32
#define CTL_MAX_PEER_SRC 4
#define CTL_DEFAULT_DIR "/run/ims-core"

typedef struct ctl_client {
    ims_ctl_t *ctl;
    int fd;                 /* -1: free slot */
    uint32_t gen;           /* changes whenever the slot is freed */
    bool closing;           /* close once the write buffer is out */
    char rbuf[IMS_CTL_LINE_MAX];
    size_t rlen;
    char *wbuf;
    size_t wlen, wcap;
} ctl_client_t;

typedef struct ctl_cmd {
    const char *name, *usage, *summary;
    ims_ctl_fn fn;
    void *arg;
} ctl_cmd_t;

struct ims_ctl {
    ims_loop_t *loop;
    char *path;
    char *conf_path;
    int lfd;
    bool sighup;
    uint32_t next_gen;
    ctl_cmd_t cmds[CTL_MAX_CMDS];
    int ncmds;
    ims_ctl_reload_fn reload_fn;
    void *reload_arg;
    struct {
        ims_ctl_peer_fn fn;
        void *arg;
    } peers[CTL_MAX_PEER_SRC];
    int npeers;
    ctl_client_t c[IMS_CTL_MAX_CLIENTS];
};

/* ---- connections ---- */

static void client_close(ims_ctl_t *ctl, ctl_client_t *c)
{
    if (c->fd < 0)
        return;
    ims_loop_del_fd(ctl->loop, c->fd);
    close(c->fd);
    free(c->wbuf);
    *c = (ctl_client_t){ .ctl = ctl, .fd = -1, .gen = ctl->next_gen++ };
}

static void client_flush(ims_ctl_t *ctl, ctl_client_t *c)
{
    size_t off = 0;

    while (off < c->wlen) {
        ssize_t w = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w <= 0) {
            client_close(ctl, c);
            return;
        }
        off += (size_t)w;
    }
    memmove(c->wbuf, c->wbuf + off, c->wlen - off);
    c->wlen -= off;
    if (c->wlen == 0 && c->closing) {
        client_close(ctl, c);
        return;
    }
    ims_loop_mod_fd(ctl->loop, c->fd, (c->closing ? 0 : IMS_EV_READ) |
                                      (c->wlen ? IMS_EV_WRITE : 0));
}

/* Queue reply (consumed) as one line and try to send it. */
static void client_send(ims_ctl_t *ctl, ctl_client_t *c, json_t *reply)
{
    char *s = reply ? json_dumps(reply, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    size_t n;

    json_decref(reply);
    if (!s && !(s = strdup("{\"ok\":false,\"error\":\"reply not representable\"}")))
        abort();
    n = strlen(s);
    if (c->wlen + n + 1 > IMS_CTL_WBUF_MAX) {
        IMS_WARN("control socket: a client that does not read its replies is dropped");
        free(s);
        client_close(ctl, c);
        return;
    }
    if (c->wlen + n + 1 > c->wcap) {
        c->wcap = c->wlen + n + 1 + 4096;
        if (!(c->wbuf = realloc(c->wbuf, c->wcap)))
            abort();
    }
    memcpy(c->wbuf + c->wlen, s, n);
    c->wbuf[c->wlen + n] = '\n';
    c->wlen += n + 1;
    free(s);
    client_flush(ctl, c);
}

static json_t *error_reply(json_t *id, const char *msg)
{
    json_t *r = json_pack("{s:b}", "ok", 0);

    ims_ctl_set_str(r, "error", msg);

    if (id)
        json_object_set(r, "id", id);
    return r;
}

/* ---- requests ---- */

static const ctl_cmd_t *find_cmd(const ims_ctl_t *ctl, const char *name)
{
    for (int i = 0; i < ctl->ncmds; i++)
        if (strcmp(ctl->cmds[i].name, name) == 0)
            return &ctl->cmds[i];
    return NULL;
}

/* The request's cmd and args, or an error message in err. */
static const char *parse_request(json_t *req, ims_ctl_args_t *a, char *err, size_t errlen)
{
    json_t *cmd = json_object_get(req, "cmd"), *args = json_object_get(req, "args"), *v;
    size_t i;

    if (!json_is_string(cmd)) {
        snprintf(err, errlen, "no \"cmd\" string in the request");
        return NULL;
    }
    a->argc = 0;
    if (args && !json_is_array(args)) {
        snprintf(err, errlen, "\"args\" must be an array of strings");
        return NULL;
    }
    json_array_foreach(args, i, v) {
        if (!json_is_string(v) || a->argc == IMS_CTL_MAX_ARGS) {
            snprintf(err, errlen, "\"args\" must be an array of at most %d strings",
                     IMS_CTL_MAX_ARGS);
            return NULL;
        }
        a->argv[a->argc++] = json_string_value(v);
    }
    return json_string_value(cmd);
}

static json_t *run_request(ims_ctl_t *ctl, json_t *req)
{
    char err[512] = "";
    ims_ctl_args_t a;
    json_t *data = NULL, *id = json_object_get(req, "id"), *r;
    const char *name = parse_request(req, &a, err, sizeof(err));
    const ctl_cmd_t *cmd;

    if (!name)
        return error_reply(id, err);
    if (!(cmd = find_cmd(ctl, name))) {
        snprintf(err, sizeof(err), "unknown command \"%.64s\" (try help)", name);
        return error_reply(id, err);
    }
    IMS_INFO("control socket: %s (%d arguments)", cmd->name, a.argc);
    if (cmd->fn(cmd->arg, &a, &data, err, sizeof(err)) != IMS_OK) {
        json_decref(data);
        return error_reply(id, err[0] ? err : "failed");
    }
    r = json_pack("{s:b}", "ok", 1);
    if (id)
        json_object_set(r, "id", id);
    if (data)
        json_object_set_new(r, "data", data);
    return r;
}

static void client_line(ims_ctl_t *ctl, ctl_client_t *c, const char *line, size_t n)
{
    json_error_t jerr;
    json_t *req;
    char msg[256];
    size_t i = 0;

    while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == n)
        return;     /* blank lines are no requests */
    req = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(req)) {
        snprintf(msg, sizeof(msg), "not a JSON object: %s", req ? "other JSON value" : jerr.text);
        json_decref(req);
        client_send(ctl, c, error_reply(NULL, msg));
        return;
    }
    client_send(ctl, c, run_request(ctl, req));
    json_decref(req);
}

/* Run every complete line in the read buffer; a full buffer without one is an error. */
static void client_lines(ims_ctl_t *ctl, ctl_client_t *c)
{
    uint32_t gen = c->gen;
    size_t start = 0;
    char *nl;

    while (c->fd >= 0 && c->gen == gen && !c->closing &&
           (nl = memchr(c->rbuf + start, '\n', c->rlen - start))) {
        size_t n = (size_t)(nl - (c->rbuf + start));

        client_line(ctl, c, c->rbuf + start, n);
        start += n + 1;
    }
    if (c->fd < 0 || c->gen != gen)
        return;
    memmove(c->rbuf, c->rbuf + start, c->rlen - start);
    c->rlen -= start;
    if (c->rlen == sizeof(c->rbuf) && !c->closing) {
        char msg[80];

        snprintf(msg, sizeof(msg), "line longer than %d bytes", IMS_CTL_LINE_MAX - 1);
        client_send(ctl, c, error_reply(NULL, msg));
        if (c->fd >= 0 && c->gen == gen) {
            c->closing = true;
            client_flush(ctl, c);
        }
    }
}

static void on_client(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    ctl_client_t *c = arg;
    ims_ctl_t *ctl = c->ctl;
    ssize_t r;

    (void)loop;
    if (events & IMS_EV_WRITE)
        client_flush(ctl, c);
    if (c->fd != fd)
        return;
    if (c->closing) {
        /* reading is over; a peer gone before taking the last reply is closed here,
         * or its hang-up would wake the loop again and again */
        if (events & IMS_EV_ERROR)
            client_close(ctl, c);
        return;
    }
    if (!(events & (IMS_EV_READ | IMS_EV_ERROR)))
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
}

static void on_listen(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    ims_ctl_t *ctl = arg;
    int cfd;

    (void)events;
    while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        ctl_client_t *c = NULL;

        for (int i = 0; i < IMS_CTL_MAX_CLIENTS && !c; i++)
            if (ctl->c[i].fd < 0)
                c = &ctl->c[i];
        if (!c || ims_loop_add_fd(loop, cfd, IMS_EV_READ, on_client, c) != IMS_OK) {
            static const char busy[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";

            (void)!send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(cfd);
            continue;
        }
        c->fd = cfd;
    }
}

/* ---- built-in commands ---- */

static int cmd_help(void *arg, const ims_ctl_args_t *a, json_t **data, char *err, size_t errlen)
{
    const ims_ctl_t *ctl = arg;
    json_t *list = json_array();

    (void)a;
    (void)err;
    (void)errlen;
    for (int i = 0; i < ctl->ncmds; i++)
        json_array_append_new(list, json_pack("{s:s,s:s}", "usage", ctl->cmds[i].usage,
                                              "summary", ctl->cmds[i].summary));
    *data = json_pack("{s:o}", "commands", list);
    return IMS_OK;
}

static int cmd_peers(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                     size_t errlen)
{
    const ims_ctl_t *ctl = arg;
    json_t *list = json_array();
    ims_ctl_peer_t p;

    (void)a;
    (void)err;
    (void)errlen;
    for (int s = 0; s < ctl->npeers; s++)
        for (int i = 0; i < 1024 && ctl->peers[s].fn(ctl->peers[s].arg, i, &p) == IMS_OK; i++) {
            json_t *o = json_object();

            ims_ctl_set_str(o, "host", p.host);
            json_object_update_new(o, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "kind", p.kind,
                                                "state", p.state, "sent", (json_int_t)p.sent,
                                                "received", (json_int_t)p.received,
                                                "timeouts", (json_int_t)p.timeouts,
                                                "reconnects", (json_int_t)p.reconnects));
            json_array_append_new(list, o);
        }
    *data = json_pack("{s:o}", "peers", list);
    return IMS_OK;
}

int ims_ctl_add_peers(ims_ctl_t *ctl, ims_ctl_peer_fn fn, void *arg)
{
    if (ctl->npeers == CTL_MAX_PEER_SRC)
        return IMS_ERROR;
    ctl->peers[ctl->npeers].fn = fn;
    ctl->peers[ctl->npeers++].arg = arg;
    return IMS_OK;
}

static const char *const level_names[] = { "err", "warn", "notice", "info", "debug" };

static int cmd_log_level(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                         size_t errlen)
{
    int lvl;

    (void)arg;
    if (a->argc > 1) {
        snprintf(err, errlen, "usage: log-level [err|warn|notice|info|debug]");
        return IMS_ERROR;
    }
    if (a->argc == 1) {
        if ((lvl = ims_log_level_parse(a->argv[0])) < 0) {
            snprintf(err, errlen, "unknown log level \"%.32s\" (err|warn|notice|info|debug)",
                     a->argv[0]);
            return IMS_ERROR;
        }
        ims_log_set_level((ims_log_level_t)lvl);
        IMS_NOTICE("control socket: log level now %s", level_names[lvl]);
    }
    *data = json_pack("{s:s}", "log_level", level_names[ims_log_get_level()]);
    return IMS_OK;
}

static int cmd_reload(void *arg, const ims_ctl_args_t *a, json_t **data, char *err,
                      size_t errlen)
{
    json_t *changes = NULL;

    (void)a;
    if (ims_ctl_reload(arg, &changes, err, errlen) != IMS_OK)
        return IMS_ERROR;
    *data = json_pack("{s:o}", "changed", changes);
    return IMS_OK;
}

/* log_level of the re-read file: -1 when absent, -2 when bad (err set). */
static int reload_level(ims_conf_t *conf, char *err, size_t errlen)
{
    const char *s;
    int rc = ims_conf_str(conf, "log_level", false, &s), lvl;

    if (rc == IMS_DECLINED)
        return -1;
    if (rc != IMS_OK || (lvl = ims_log_level_parse(s)) < 0) {
        snprintf(err, errlen, "%s: log_level: %s", ims_conf_path(conf),
                 rc != IMS_OK ? ims_conf_error(conf) : "unknown level");
        return -2;
    }
    return lvl;
}

int ims_ctl_reload(ims_ctl_t *ctl, json_t **changes, char *err, size_t errlen)
{
    ims_conf_t *conf;
    int lvl;

    *changes = NULL;
    if (!ctl->conf_path) {
        snprintf(err, errlen, "started without a configuration file: nothing to reload");
        return IMS_ERROR;
    }
    if (!(conf = ims_conf_load(ctl->conf_path, err, errlen)))
        return IMS_ERROR;
    *changes = json_object();
    if ((lvl = reload_level(conf, err, errlen)) == -2 ||
        (ctl->reload_fn && ctl->reload_fn(ctl->reload_arg, conf, *changes, err, errlen) !=
                               IMS_OK)) {
        ims_conf_free(conf);
        json_decref(*changes);
        *changes = NULL;
        return IMS_ERROR;
    }
    ims_conf_free(conf);
    if (lvl >= 0 && lvl != (int)ims_log_get_level()) {
        ims_log_set_level((ims_log_level_t)lvl);
        json_object_set_new(*changes, "log_level", json_string(level_names[lvl]));
    }
    IMS_NOTICE("configuration %s reloaded (%zu settings changed)", ctl->conf_path,
               json_object_size(*changes));
    return IMS_OK;
}

static void on_signal(ims_loop_t *loop, int signo, void *arg)
{
    char err[512];
    json_t *changes;

    if (signo != SIGHUP) {
        ims_loop_stop(loop);
        return;
    }
    IMS_NOTICE("SIGHUP: reloading the configuration");
    if (ims_ctl_reload(arg, &changes, err, sizeof(err)) != IMS_OK)
        IMS_ERR("reload refused, old settings kept: %s", err);
    json_decref(changes);
}

int ims_ctl_handle_sighup(ims_ctl_t *ctl)
{
    if (ims_loop_handle_signals(ctl->loop, on_signal, ctl) != IMS_OK)
        return IMS_ERROR;
    ctl->sighup = true;
    return IMS_OK;
}

/* ---- the table ---- */

int ims_ctl_register(ims_ctl_t *ctl, const char *name, const char *usage, const char *summary,
                     ims_ctl_fn fn, void *arg)
{
    ctl_cmd_t *cmd = (ctl_cmd_t *)find_cmd(ctl, name);

    if (!cmd) {
        if (ctl->ncmds == CTL_MAX_CMDS)
            return IMS_ERROR;
        cmd = &ctl->cmds[ctl->ncmds++];
    }
    *cmd = (ctl_cmd_t){ name, usage, summary, fn, arg };
    return IMS_OK;
}

void ims_ctl_on_reload(ims_ctl_t *ctl, ims_ctl_reload_fn fn, void *arg)
{
    ctl->reload_fn = fn;
    ctl->reload_arg = arg;
}

/* ---- the socket ---- */

/* Whether path may be (re)bound: absent, or a socket nobody answers on. */
static int path_free(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
    struct stat st;
    int fd, rc;

    if (lstat(path, &st) != 0)
        return IMS_OK;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "control socket %s: a file that is not a socket is in the way",
                 path);
        return IMS_ERROR;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "control socket: %s", strerror(errno));
        return IMS_ERROR;
    }
    rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    if (rc == 0 || errno == EAGAIN) {
        close(fd);
        snprintf(err, errlen, "control socket %s: in use by a running process", path);
        return IMS_ERROR;
    }
    close(fd);
    unlink(path);   /* a stale socket of an earlier run */
    return IMS_OK;
}

static int listen_on(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path) || !path[0]) {
        snprintf(err, errlen, "control socket path \"%s\": empty or too long", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (path_free(path, &sa, err, errlen) != IMS_OK)
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0600) != 0 ||
        listen(fd, 16) != 0) {
        snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

ims_ctl_t *ims_ctl_new(ims_loop_t *loop, const char *path, const char *conf_path, char *err,
                       size_t errlen)
{
    ims_ctl_t *ctl;
    int fd = listen_on(path, err, errlen);

    if (fd < 0)
        return NULL;
    if (!(ctl = calloc(1, sizeof(*ctl))) || !(ctl->path = strdup(path)) ||
        (conf_path && !(ctl->conf_path = strdup(conf_path))))
        abort();
    ctl->loop = loop;
    ctl->lfd = fd;
    ctl->next_gen = 1;
    for (int i = 0; i < IMS_CTL_MAX_CLIENTS; i++)
        ctl->c[i] = (ctl_client_t){ .ctl = ctl, .fd = -1, .gen = ctl->next_gen++ };
    if (ims_loop_add_fd(loop, fd, IMS_EV_READ, on_listen, ctl) != IMS_OK) {
        snprintf(err, errlen, "control socket %s: cannot watch it on the loop", path);
        ims_ctl_free(ctl);
        return NULL;
    }
    ims_ctl_register(ctl, "help", "help", "this list", cmd_help, ctl);
    ims_ctl_register(ctl, "peers", "peers", "Diameter and SBI peers and their state", cmd_peers,
                     ctl);
    ims_ctl_register(ctl, "log-level", "log-level [err|warn|notice|info|debug]",
                     "show or set the log level", cmd_log_level, ctl);
    ims_ctl_register(ctl, "reload", "reload",
                     "re-read the reloadable settings of the configuration (also on SIGHUP)",
                     cmd_reload, ctl);
    IMS_NOTICE("control socket %s", path);
    return ctl;
}

void ims_ctl_free(ims_ctl_t *ctl)
{
    if (!ctl)
        return;
    if (ctl->sighup)
        ims_loop_handle_signals(ctl->loop, NULL, NULL);
    for (int i = 0; i < IMS_CTL_MAX_CLIENTS; i++)
        client_close(ctl, &ctl->c[i]);
    ims_loop_del_fd(ctl->loop, ctl->lfd);
    close(ctl->lfd);
    unlink(ctl->path);
    free(ctl->path);
    free(ctl->conf_path);
    free(ctl);
}

int ims_ctl_conf_path(ims_conf_t *conf, const char *name, char *out, size_t outlen,
                      bool *explicit_path)
{
    const char *s = NULL;
    int rc = conf ? ims_conf_str(conf, "ctl.socket", false, &s) : IMS_DECLINED;

    *explicit_path = rc == IMS_OK;
    if (rc == IMS_ERROR) {
        IMS_ERR("%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    if (rc == IMS_OK && !s[0])
        return IMS_DECLINED;
    if (rc == IMS_DECLINED) {
        if (mkdir(CTL_DEFAULT_DIR, 0755) != 0 && errno != EEXIST)
            IMS_WARN("cannot create %s: %s", CTL_DEFAULT_DIR, strerror(errno));
        rc = snprintf(out, outlen, "%s/%s.ctl", CTL_DEFAULT_DIR, name);
    } else {
        rc = snprintf(out, outlen, "%s", s);
    }
    if (rc < 0 || (size_t)rc >= outlen) {
        IMS_ERR("ctl.socket: path too long");
        return IMS_ERROR;
    }
    return IMS_OK;
}

/* ---- helpers ---- */

int ims_ctl_reload_u32(ims_conf_t *conf, const char *key, long long min, long long max,
                       uint32_t *field, json_t *changes)
{
    long long v;
    int rc = ims_conf_int(conf, key, false, min, max, &v);

    if (rc == IMS_OK && (uint32_t)v != *field) {
        *field = (uint32_t)v;
        json_object_set_new(changes, key, json_integer(v));
    }
    return rc == IMS_ERROR ? IMS_ERROR : IMS_OK;
}

bool ims_ctl_match(const char *s, const char *filter)
{
    return !filter || !filter[0] || (s && strstr(s, filter));
}

void ims_ctl_set_str(json_t *obj, const char *key, const char *s)
{
    json_t *v = s ? json_string(s) : json_null();

    if (!v) {
        /* not UTF-8 (it may come from the network): bytes above 0x7f shown as '?' */
        char *copy = strdup(s);

        if (!copy)
            abort();
        for (char *p = copy; *p; p++)
            if ((unsigned char)*p > 0x7f)
                *p = '?';
        v = json_string(copy);
        free(copy);
    }
    json_object_set_new(obj, key, v);
}

typedef struct collect {
    ims_ctl_match_fn match;
    const char *filter;
    const void **vals;
    size_t n, total;
} collect_t;

static void collect_one(void *arg, const char *key, void *value)
{
    collect_t *c = arg;

    (void)key;
    if (!c->match(value, c->filter))
        return;
    c->total++;
    if (c->n < IMS_CTL_MAX_ROWS)
        c->vals[c->n++] = value;
}

json_t *ims_ctl_list_of(const void **vals, size_t n, size_t total, const char *key,
                        int (*cmp)(const void *, const void *), ims_ctl_row_fn row, void *arg)
{
    json_t *rows = json_array(), *o;

    if (cmp && n > 1)
        qsort(vals, n, sizeof(void *), cmp);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, row(vals[i], arg));
    o = json_pack("{s:I,s:b}", "count", (json_int_t)total, "truncated", total > n);
    json_object_set_new(o, key, rows);
    return o;
}

json_t *ims_ctl_list(const ims_hash_t *h, const char *key, ims_ctl_match_fn match,
                     const char *filter, int (*cmp)(const void *, const void *),
                     ims_ctl_row_fn row, void *arg)
{
    size_t cap = ims_hash_count(h);
    collect_t c = { match, filter, NULL, 0, 0 };
    json_t *o;

    /* + 1: never malloc(0) */
    c.vals = malloc((cap < IMS_CTL_MAX_ROWS ? cap : IMS_CTL_MAX_ROWS) * sizeof(void *) + 1);
    if (!c.vals)
        abort();
    ims_hash_foreach(h, collect_one, &c);
    o = ims_ctl_list_of(c.vals, c.n, c.total, key, cmp, row, arg);
    free(c.vals);
    return o;
}

int ims_ctl_open(ims_loop_t *loop, ims_conf_t *conf, const char *name, ims_ctl_t **out)
{
    char path[256], err[512];
    bool explicit_path;
    int rc = ims_ctl_conf_path(conf, name, path, sizeof(path), &explicit_path);

    *out = NULL;
    if (rc != IMS_OK)
        return rc == IMS_DECLINED ? IMS_OK : IMS_ERROR;
    *out = ims_ctl_new(loop, path, conf ? ims_conf_path(conf) : NULL, err, sizeof(err));
    if (!*out) {
        if (explicit_path)
            IMS_ERR("%s", err);
        else
            IMS_WARN("%s (running without a control socket)", err);
        return explicit_path ? IMS_ERROR : IMS_OK;
    }
    if (ims_ctl_handle_sighup(*out) != IMS_OK) {
        IMS_ERR("control socket: cannot handle SIGHUP");
        ims_ctl_free(*out);
        *out = NULL;
        return IMS_ERROR;
    }
    return IMS_OK;
}
