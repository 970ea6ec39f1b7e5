/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * imsctl: one command to a daemon's control socket (common/ops/ctl.h), its
 * reply as human-readable tables, or raw with --json (for scripts).
 *
 *   imsctl [-s SOCKET | -n NAME] [--json] [-t SECONDS] COMMAND [ARGS...]
 *
 * -n NAME is short for -s /run/ims-core/NAME.ctl (the daemons' default).
 * Exit status: 0 when the daemon answered ok, 1 when it answered an error,
 * 2 for usage errors and when there is no (complete) answer.
 *
 * The tables need no knowledge of the commands: a reply's "data" object is
 * shown member by member; scalars as "key: value", an array of objects as a
 * table whose columns are the objects' keys, a nested object indented.
 * A CLI may block: it waits (poll, bounded by -t) for the one reply line.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#define REPLY_MAX (64u << 20)
#define COL_MAX 64
#define MAX_COLS 16

static void usage(void)
{
    fprintf(stderr,
            "usage: imsctl [-s SOCKET | -n NAME] [--json] [-t SECONDS] COMMAND [ARGS...]\n"
            "  -s SOCKET   the daemon's control socket (its ctl.socket)\n"
            "  -n NAME     the default socket of daemon NAME: /run/ims-core/NAME.ctl\n"
            "  --json      print the daemon's JSON reply as it came\n"
            "  -t SECONDS  wait at most this long for the reply (default 10)\n"
            "COMMAND: help lists what the daemon offers.\n");
}

/* ---- the exchange ---- */

static int connect_to(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "imsctl: socket path too long: %s\n", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "imsctl: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* The reply line (malloc'd, without its newline), or NULL. */
static char *read_line(int fd, int timeout_ms)
{
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap), *nl = NULL;

    while (buf && !nl) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t r;
        int pr = poll(&p, 1, timeout_ms);

        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            break;
        if (len == cap) {
            if (cap >= REPLY_MAX)
                break;
            cap *= 2;
            if (!(buf = realloc(buf, cap)))
                break;
        }
        r = recv(fd, buf + len, cap - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        nl = memchr(buf + len, '\n', (size_t)r);
        len += (size_t)r;
    }
    if (!nl) {
        free(buf);
        return NULL;
    }
    *nl = '\0';
    return buf;
}

static char *request_line(char **argv, int argc)
{
    json_t *args = json_array(), *req;
    char *s;

    for (int i = 1; i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    req = json_pack("{s:s,s:o}", "cmd", argv[0], "args", args);
    s = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    return s;
}

/* ---- human-readable output ---- */

/* A cell's text: scalars as such, arrays of scalars joined with ",", else JSON. */
static void cell(const json_t *v, char *out, size_t outlen)
{
    size_t i;
    const json_t *e;
    size_t n = 0;

    out[0] = '\0';
    if (json_is_string(v)) {
        snprintf(out, outlen, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(out, outlen, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        snprintf(out, outlen, "%s", json_is_true(v) ? "yes" : "no");
    } else if (json_is_null(v) || !v) {
        snprintf(out, outlen, "-");
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            char sub[512];

            cell(e, sub, sizeof(sub));
            n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s", i ? "," : "",
                                  sub);
            if (n >= outlen)
                break;
        }
    } else {
        char *s = json_dumps(v, JSON_COMPACT);

        snprintf(out, outlen, "%s", s ? s : "?");
        free(s);
    }
}

static bool is_table(const json_t *v)
{
    return json_is_array(v) && json_array_size(v) > 0 && json_is_object(json_array_get(v, 0));
}

static void print_table(const json_t *rows, int indent)
{
    const char *cols[MAX_COLS];
    size_t ncols = 0, width[MAX_COLS], i;
    const json_t *row, *v;
    const char *key;
    char buf[4096];

    json_array_foreach(rows, i, row) {
        json_object_foreach((json_t *)row, key, v) {
            size_t c = 0;

            while (c < ncols && strcmp(cols[c], key) != 0)
                c++;
            if (c == ncols && ncols < MAX_COLS) {
                cols[ncols] = key;
                width[ncols++] = strlen(key);
            }
        }
    }
    json_array_foreach(rows, i, row)
        for (size_t c = 0; c < ncols; c++) {
            cell(json_object_get(row, cols[c]), buf, sizeof(buf));
            if (strlen(buf) > width[c])
                width[c] = strlen(buf) > COL_MAX ? COL_MAX : strlen(buf);
        }
    printf("%*s", indent, "");
    for (size_t c = 0; c < ncols; c++) {
        for (const char *p = cols[c]; *p; p++)
            putchar(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : (*p == '_' ? ' ' : *p));
        printf("%*s", c + 1 < ncols ? (int)(width[c] - strlen(cols[c]) + 2) : 0, "");
    }
    putchar('\n');
    json_array_foreach(rows, i, row) {
        printf("%*s", indent, "");
        for (size_t c = 0; c < ncols; c++) {
            cell(json_object_get(row, cols[c]), buf, sizeof(buf));
            if (strlen(buf) > COL_MAX)
                memcpy(buf + COL_MAX - 3, "...", 4);
            printf("%-*s%s", c + 1 < ncols ? (int)width[c] : 0, buf, c + 1 < ncols ? "  " : "");
        }
        putchar('\n');
    }
}

static void print_object(const json_t *obj, int indent)
{
    const char *key;
    const json_t *v;
    char buf[4096];
    int kw = 0;

    json_object_foreach((json_t *)obj, key, v)
        if (!json_is_object(v) && !is_table(v) && (int)strlen(key) > kw)
            kw = (int)strlen(key);
    json_object_foreach((json_t *)obj, key, v) {
        if (json_is_object(v) || is_table(v))
            continue;
        cell(v, buf, sizeof(buf));
        printf("%*s%s:%*s %s\n", indent, "", key, kw - (int)strlen(key), "",
               json_is_array(v) && json_array_size(v) == 0 ? "(none)" : buf);
    }
    json_object_foreach((json_t *)obj, key, v) {
        if (json_is_object(v)) {
            printf("%*s%s:\n", indent, "", key);
            print_object(v, indent + 2);
        } else if (is_table(v)) {
            printf("%*s%s (%zu):\n", indent, "", key, json_array_size(v));
            print_table(v, indent + 2);
        }
    }
}

static int show(const char *line, bool raw)
{
    json_error_t jerr;
    json_t *r = json_loads(line, 0, &jerr), *data;
    int rc;

    if (!json_is_object(r) || !json_is_boolean(json_object_get(r, "ok"))) {
        fprintf(stderr, "imsctl: the reply is not a control-socket answer: %s\n", line);
        json_decref(r);
        return 2;
    }
    rc = json_is_true(json_object_get(r, "ok")) ? 0 : 1;
    if (raw)
        printf("%s\n", line);
    else if (rc)
        fprintf(stderr, "error: %s\n", json_string_value(json_object_get(r, "error")) ?
                json_string_value(json_object_get(r, "error")) : "(no reason given)");
    else if (json_is_object(data = json_object_get(r, "data")))
        print_object(data, 0);
    else
        printf("ok\n");
    json_decref(r);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char path[256] = "", *req, *line;
    bool raw = false;
    int c, fd, rc, timeout_s = 10;

    while ((c = getopt_long(argc, argv, "+s:n:t:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 's': snprintf(path, sizeof(path), "%s", optarg); break;
        case 'n': snprintf(path, sizeof(path), "/run/ims-core/%s.ctl", optarg); break;
        case 't': timeout_s = atoi(optarg); break;
        case 'j': raw = true; break;
        default: usage(); return c == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc || !path[0] || timeout_s <= 0) {
        usage();
        return 2;
    }
    if (!(req = request_line(argv + optind, argc - optind))) {
        fprintf(stderr, "imsctl: arguments must be UTF-8 text\n");
        return 2;
    }
    if ((fd = connect_to(path)) < 0) {
        free(req);
        return 2;
    }
    rc = send_all(fd, req, strlen(req)) == 0 && send_all(fd, "\n", 1) == 0 ? 0 : 2;
    free(req);
    line = rc == 0 ? read_line(fd, timeout_s * 1000) : NULL;
    close(fd);
    if (!line) {
        fprintf(stderr, "imsctl: no reply from %s\n", path);
        return 2;
    }
    rc = show(line, raw);
    free(line);
    return rc;
}
