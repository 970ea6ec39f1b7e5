/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control socket (common/ops/ctl.c) over a real unix socket on a real
 * loop: requests split across writes and several in one write, a line over
 * the limit, many clients and one too many, bad JSON and bad requests, the
 * built-in log-level and reload (by command and by SIGHUP), and the socket
 * file rules (a live socket is not stolen, a stale one is replaced); and the
 * list replies of gathered values (ims_ctl_list_of: sorted, count of all
 * matched, truncated flag).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/log.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "common/ops/ctl.h"

typedef struct fix {
    char dir[64];
    char path[96];
    char conf[96];
    ims_loop_t *loop;
    ims_ctl_t *ctl;
    uint32_t timer;         /* what the reload callback keeps */
    int calls;              /* echo calls */
} fix_t;

/* ---- commands of the test daemon ---- */

static int cmd_echo(void *arg, const ims_ctl_args_t *a, json_t **data, char *err, size_t errlen)
{
    fix_t *f = arg;
    json_t *args = json_array();

    (void)err;
    (void)errlen;
    f->calls++;
    for (int i = 0; i < a->argc; i++)
        json_array_append_new(args, json_string(a->argv[i]));
    *data = json_pack("{s:o}", "args", args);
    return IMS_OK;
}

static int cmd_fail(void *arg, const ims_ctl_args_t *a, json_t **data, char *err, size_t errlen)
{
    (void)arg;
    (void)a;
    (void)data;
    snprintf(err, errlen, "it failed");
    return IMS_ERROR;
}

static int on_reload(void *arg, ims_conf_t *conf, json_t *changes, char *err, size_t errlen)
{
    fix_t *f = arg;

    if (ims_ctl_reload_u32(conf, "test.timer_ms", 1, 1000, &f->timer, changes) != IMS_OK) {
        snprintf(err, errlen, "%s", ims_conf_error(conf));
        return IMS_ERROR;
    }
    return IMS_OK;
}

static void write_conf(const fix_t *f, const char *text)
{
    FILE *fp = fopen(f->conf, "w");

    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup(void **state)
{
    fix_t *f = calloc(1, sizeof(*f));
    char err[256];

    snprintf(f->dir, sizeof(f->dir), "/tmp/test_ctl.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.ctl", f->dir);
    snprintf(f->conf, sizeof(f->conf), "%s/t.cfg", f->dir);
    write_conf(f, "log_level = \"notice\";\ntest = { timer_ms = 100; };\n");
    ims_log_init("test_ctl", IMS_LOG_NOTICE, NULL);
    f->timer = 100;
    f->loop = ims_loop_new();
    if (ims_loop_handle_signals(f->loop, NULL, NULL) != IMS_OK)
        return -1;
    f->ctl = ims_ctl_new(f->loop, f->path, f->conf, err, sizeof(err));
    if (!f->ctl) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    ims_ctl_register(f->ctl, "echo", "echo [args]", "echo the arguments", cmd_echo, f);
    ims_ctl_register(f->ctl, "fail", "fail", "always fails", cmd_fail, f);
    ims_ctl_on_reload(f->ctl, on_reload, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_t *f = *state;

    ims_ctl_free(f->ctl);
    ims_loop_free(f->loop);
    unlink(f->conf);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- a client: blocking writes, reads that run the loop meanwhile ---- */

static int client(const fix_t *f)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void put(int fd, const char *s)
{
    assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Run the loop until fd has a whole line (returned, malloc'd, without the
 * newline) or is closed (NULL); 5 s at most. Reads byte by byte so that a
 * second line stays for the next call. */
static char *get_line(fix_t *f, int fd)
{
    char buf[65536];
    size_t n = 0;

    for (int i = 0; i < 500; i++) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        ims_loop_run_once(f->loop, 10);
        while (poll(&p, 1, 0) == 1) {
            ssize_t r = recv(fd, buf + n, 1, 0);

            if (r <= 0)
                return NULL;
            if (buf[n] == '\n') {
                buf[n] = '\0';
                return strdup(buf);
            }
            if (++n == sizeof(buf) - 1)
                fail_msg("reply line too long");
        }
    }
    fail_msg("no reply within 5 s");
    return NULL;
}

/* The reply to one request line, parsed. */
static json_t *ask(fix_t *f, int fd, const char *line)
{
    char *r;
    json_t *j;

    put(fd, line);
    r = get_line(f, fd);
    assert_non_null(r);
    j = json_loads(r, 0, NULL);
    assert_non_null(j);
    free(r);
    return j;
}

static bool is_ok(const json_t *r)
{
    return json_is_true(json_object_get(r, "ok"));
}

static const char *error_of(const json_t *r)
{
    const char *e = json_string_value(json_object_get(r, "error"));

    return e ? e : "";
}

/* ---- tests ---- */

static void test_request_reply(void **state)
{
    fix_t *f = *state;
    int fd = client(f);
    json_t *r = ask(f, fd, "{\"cmd\":\"echo\",\"args\":[\"a\",\"b c\"],\"id\":42}\n");
    json_t *args = json_object_get(json_object_get(r, "data"), "args");

    assert_true(is_ok(r));
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 42);
    assert_int_equal(json_array_size(args), 2);
    assert_string_equal(json_string_value(json_array_get(args, 1)), "b c");
    json_decref(r);

    r = ask(f, fd, "{\"cmd\":\"fail\"}\n");
    assert_false(is_ok(r));
    assert_string_equal(error_of(r), "it failed");
    json_decref(r);

    r = ask(f, fd, "{\"cmd\":\"nosuch\",\"id\":\"x\"}\n");
    assert_false(is_ok(r));
    assert_non_null(strstr(error_of(r), "unknown command"));
    assert_string_equal(json_string_value(json_object_get(r, "id")), "x");
    json_decref(r);

    r = ask(f, fd, "{\"cmd\":\"help\"}\n");
    assert_true(is_ok(r));
    assert_true(json_array_size(json_object_get(json_object_get(r, "data"), "commands")) >= 5);
    json_decref(r);
    close(fd);
}

static void test_split_and_batched_lines(void **state)
{
    fix_t *f = *state;
    int fd = client(f);
    char *l1, *l2;
    json_t *r;

    /* one request in three writes, the loop running between them */
    put(fd, "{\"cmd\":");
    ims_loop_run_once(f->loop, 10);
    put(fd, "\"echo\",\"args\"");
    ims_loop_run_once(f->loop, 10);
    assert_int_equal(f->calls, 0);
    r = ask(f, fd, ":[\"split\"]}\n");
    assert_true(is_ok(r));
    assert_int_equal(f->calls, 1);
    json_decref(r);

    /* two requests and a blank line in one write: two replies, in order */
    put(fd, "{\"cmd\":\"echo\",\"id\":1}\n\r\n{\"cmd\":\"echo\",\"id\":2}\n");
    l1 = get_line(f, fd);
    l2 = get_line(f, fd);
    assert_non_null(l1);
    assert_non_null(l2);
    assert_non_null(strstr(l1, "\"id\":1"));
    assert_non_null(strstr(l2, "\"id\":2"));
    assert_int_equal(f->calls, 3);
    free(l1);
    free(l2);
    close(fd);
}

static void test_oversize_line(void **state)
{
    fix_t *f = *state;
    int fd = client(f), fd2;
    size_t n = IMS_CTL_LINE_MAX + 100;
    char *big = malloc(n + 1);
    char *line;
    json_t *r;

    memset(big, 'x', n);
    big[n] = '\0';
    put(fd, big);
    free(big);
    line = get_line(f, fd);
    assert_non_null(line);
    r = json_loads(line, 0, NULL);
    assert_false(is_ok(r));
    assert_non_null(strstr(error_of(r), "line longer"));
    json_decref(r);
    free(line);
    /* then the connection is closed, and the server still serves others */
    assert_null(get_line(f, fd));
    close(fd);
    fd2 = client(f);
    r = ask(f, fd2, "{\"cmd\":\"echo\"}\n");
    assert_true(is_ok(r));
    json_decref(r);
    close(fd2);
}

static void test_many_clients(void **state)
{
    fix_t *f = *state;
    int fds[IMS_CTL_MAX_CLIENTS], extra;
    char req[64], *line;
    json_t *r;

    for (int i = 0; i < IMS_CTL_MAX_CLIENTS; i++)
        fds[i] = client(f);
    /* every client sends before any reads: each is answered on its own connection */
    for (int i = 0; i < IMS_CTL_MAX_CLIENTS; i++) {
        snprintf(req, sizeof(req), "{\"cmd\":\"echo\",\"id\":%d}\n", i);
        put(fds[i], req);
    }
    for (int i = IMS_CTL_MAX_CLIENTS - 1; i >= 0; i--) {
        line = get_line(f, fds[i]);
        assert_non_null(line);
        r = json_loads(line, 0, NULL);
        assert_true(is_ok(r));
        assert_int_equal(json_integer_value(json_object_get(r, "id")), i);
        json_decref(r);
        free(line);
    }
    /* one more is refused with an error line */
    extra = client(f);
    line = get_line(f, extra);
    assert_non_null(line);
    assert_non_null(strstr(line, "too many clients"));
    free(line);
    assert_null(get_line(f, extra));
    close(extra);
    /* a slot freed is a slot reused */
    close(fds[0]);
    ims_loop_run_once(f->loop, 10);
    fds[0] = client(f);
    r = ask(f, fds[0], "{\"cmd\":\"echo\"}\n");
    assert_true(is_ok(r));
    json_decref(r);
    for (int i = 0; i < IMS_CTL_MAX_CLIENTS; i++)
        close(fds[i]);
}

static void test_bad_json(void **state)
{
    static const char *const bad[] = {
        "garbage\n",
        "{\"cmd\":\n",
        "[\"echo\"]\n",
        "\"echo\"\n",
        "{\"cmd\":5}\n",
        "{\"args\":[\"x\"]}\n",
        "{\"cmd\":\"echo\",\"args\":\"x\"}\n",
        "{\"cmd\":\"echo\",\"args\":[1]}\n",
        "{\"cmd\":\"echo\",\"args\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}\n",
        "{\"cmd\":\"echo\",\"cmd\":\"echo\"}\n",
        "{\"cmd\":\"\xff\xfe\"}\n",
        "\x01\x02\x03\x04\n",
    };
    static const char with_nul[] = "{\"cmd\":\"ec\0ho\"}\n";
    fix_t *f = *state;
    int fd = client(f);
    json_t *r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = ask(f, fd, bad[i]);
        assert_false(is_ok(r));
        assert_true(error_of(r)[0] != '\0');
        json_decref(r);
    }
    /* a NUL byte inside the line */
    assert_int_equal(send(fd, with_nul, sizeof(with_nul) - 1, 0), (ssize_t)sizeof(with_nul) - 1);
    {
        char *line = get_line(f, fd);

        assert_non_null(line);
        assert_non_null(strstr(line, "\"ok\":false"));
        free(line);
    }
    assert_int_equal(f->calls, 0);
    /* the same connection still works */
    r = ask(f, fd, "{\"cmd\":\"echo\"}\n");
    assert_true(is_ok(r));
    json_decref(r);
    close(fd);
}

static void test_log_level(void **state)
{
    fix_t *f = *state;
    int fd = client(f);
    json_t *r = ask(f, fd, "{\"cmd\":\"log-level\",\"args\":[\"debug\"]}\n");

    assert_true(is_ok(r));
    assert_int_equal(ims_log_get_level(), IMS_LOG_DEBUG);
    json_decref(r);
    r = ask(f, fd, "{\"cmd\":\"log-level\"}\n");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "data"),
                                                          "log_level")), "debug");
    json_decref(r);
    r = ask(f, fd, "{\"cmd\":\"log-level\",\"args\":[\"loud\"]}\n");
    assert_false(is_ok(r));
    assert_int_equal(ims_log_get_level(), IMS_LOG_DEBUG);
    json_decref(r);
    ims_log_set_level(IMS_LOG_NOTICE);
    close(fd);
}

static void test_reload(void **state)
{
    fix_t *f = *state;
    int fd = client(f);
    json_t *r, *changed;

    write_conf(f, "log_level = \"warn\";\ntest = { timer_ms = 250; };\n");
    r = ask(f, fd, "{\"cmd\":\"reload\"}\n");
    assert_true(is_ok(r));
    changed = json_object_get(json_object_get(r, "data"), "changed");
    assert_int_equal(json_integer_value(json_object_get(changed, "test.timer_ms")), 250);
    assert_string_equal(json_string_value(json_object_get(changed, "log_level")), "warn");
    assert_int_equal(f->timer, 250);
    assert_int_equal(ims_log_get_level(), IMS_LOG_WARN);
    json_decref(r);

    /* a bad file changes nothing */
    write_conf(f, "log_level = \"info\";\ntest = { timer_ms = 5000; };\n");
    r = ask(f, fd, "{\"cmd\":\"reload\"}\n");
    assert_false(is_ok(r));
    assert_int_equal(f->timer, 250);
    assert_int_equal(ims_log_get_level(), IMS_LOG_WARN);
    json_decref(r);

    /* SIGHUP does the same */
    write_conf(f, "log_level = \"notice\";\ntest = { timer_ms = 300; };\n");
    assert_int_equal(ims_ctl_handle_sighup(f->ctl), IMS_OK);
    raise(SIGHUP);
    for (int i = 0; i < 100 && f->timer != 300; i++)
        ims_loop_run_once(f->loop, 10);
    assert_int_equal(f->timer, 300);
    assert_int_equal(ims_log_get_level(), IMS_LOG_NOTICE);
    close(fd);
}

static void test_socket_file(void **state)
{
    fix_t *f = *state;
    char err[256], other[160];
    ims_ctl_t *c2;
    int fd;

    /* the live socket is not taken over */
    c2 = ims_ctl_new(f->loop, f->path, NULL, err, sizeof(err));
    assert_null(c2);
    assert_non_null(strstr(err, "in use"));
    /* a file that is no socket is left alone */
    snprintf(other, sizeof(other), "%s/plain", f->dir);
    fd = open(other, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_null(ims_ctl_new(f->loop, other, NULL, err, sizeof(err)));
    unlink(other);
    /* a stale socket (its server gone) is replaced; freeing removes the file */
    ims_ctl_free(f->ctl);
    f->ctl = NULL;
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    }
    close(fd);      /* bound, never listened: connect is refused */
    f->ctl = ims_ctl_new(f->loop, f->path, NULL, err, sizeof(err));
    assert_non_null(f->ctl);
    /* reload without a configuration file is an error, not a crash */
    fd = client(f);
    {
        json_t *r = ask(f, fd, "{\"cmd\":\"reload\"}\n");

        assert_false(is_ok(r));
        json_decref(r);
    }
    close(fd);
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *str_row(const void *value, void *arg)
{
    (void)arg;
    return json_string(value);
}

static void test_list_of(void **state)
{
    const void *vals[] = { "c", "a", "b" }, *more[] = { "z", "y" };
    json_t *o;

    (void)state;
    o = ims_ctl_list_of(vals, 3, 3, "rows", by_str, str_row, NULL);
    assert_int_equal(json_integer_value(json_object_get(o, "count")), 3);
    assert_false(json_boolean_value(json_object_get(o, "truncated")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "rows"), 0)), "a");
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "rows"), 2)), "c");
    json_decref(o);
    assert_string_equal(vals[0], "a");   /* sorted in place */
    /* fewer gathered than matched: the count says all, the flag says cut; no cmp: as given */
    o = ims_ctl_list_of(more, 2, 5, "rows", NULL, str_row, NULL);
    assert_int_equal(json_integer_value(json_object_get(o, "count")), 5);
    assert_true(json_boolean_value(json_object_get(o, "truncated")));
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "rows"), 0)), "z");
    json_decref(o);
    o = ims_ctl_list_of(NULL, 0, 0, "rows", by_str, str_row, NULL);
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 0);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_and_batched_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
        cmocka_unit_test(test_list_of),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
