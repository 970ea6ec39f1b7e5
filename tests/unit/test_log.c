/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging: lines go to the configured stream, the level filters (without
 * evaluating the arguments of filtered calls), the context appears in brackets
 * until cleared, and level names parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/log.h"

typedef struct fixture {
    FILE *out;
    char buf[8192];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    f->out = tmpfile();
    if (!f->out) {
        free(f);
        return -1;
    }
    ims_log_init("tlog", IMS_LOG_INFO, f->out);
    ims_log_ctx_clear();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    /* Back to stderr before the stream goes away. */
    ims_log_init(NULL, IMS_LOG_NOTICE, NULL);
    ims_log_ctx_clear();
    fclose(f->out);
    free(f);
    return 0;
}

/* Everything written so far, NUL-terminated; the stream is emptied. */
static const char *drain(fixture_t *f)
{
    size_t n;

    fflush(f->out);
    rewind(f->out);
    n = fread(f->buf, 1, sizeof(f->buf) - 1, f->out);
    f->buf[n] = '\0';
    rewind(f->out);
    assert_int_equal(ftruncate(fileno(f->out), 0), 0);
    return f->buf;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_line_format(void **state)
{
    fixture_t *f = *state;
    const char *out;

    IMS_NOTICE("hello %s %d", "world", 42);
    out = drain(f);
    assert_int_equal(count_lines(out), 1);
    /* "HH:MM:SS.uuuuuu name level file:line message\n" */
    assert_true(strlen(out) > 16);
    assert_true(out[2] == ':' && out[5] == ':' && out[8] == '.' && out[15] == ' ');
    assert_non_null(strstr(out, " tlog notice test_log.c:"));
    assert_null(strstr(out, "/test_log.c")); /* basename only */
    assert_non_null(strstr(out, " hello world 42\n"));
    assert_null(strchr(out, '[')); /* no context set */
}

static int g_evaluated;

static int side_effect(void)
{
    return ++g_evaluated;
}

static void test_level_filter(void **state)
{
    fixture_t *f = *state;
    const char *out;

    assert_int_equal(ims_log_get_level(), IMS_LOG_INFO);
    g_evaluated = 0;
    IMS_ERR("e%d", 1);
    IMS_WARN("w%d", 2);
    IMS_NOTICE("n%d", 3);
    IMS_INFO("i%d", 4);
    IMS_DEBUG("d%d", side_effect());
    out = drain(f);
    assert_int_equal(count_lines(out), 4);
    assert_non_null(strstr(out, " err test_log.c:"));
    assert_non_null(strstr(out, " warn test_log.c:"));
    assert_non_null(strstr(out, " info test_log.c:"));
    assert_non_null(strstr(out, " i4\n"));
    assert_null(strstr(out, " debug "));
    assert_int_equal(g_evaluated, 0); /* filtered: arguments not evaluated */

    ims_log_set_level(IMS_LOG_ERR);
    assert_int_equal(ims_log_get_level(), IMS_LOG_ERR);
    IMS_WARN("hidden");
    IMS_ERR("shown");
    out = drain(f);
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, " shown\n"));

    ims_log_set_level(IMS_LOG_DEBUG);
    IMS_DEBUG("d%d", side_effect());
    out = drain(f);
    assert_int_equal(g_evaluated, 1);
    assert_non_null(strstr(out, " debug test_log.c:"));
    assert_non_null(strstr(out, " d1\n"));

    /* A level out of the enum is written as debug, not read past the name table. */
    ims_log_write((ims_log_level_t)17, "x/y/z.c", 7, "odd");
    out = drain(f);
    assert_non_null(strstr(out, " debug z.c:7 odd\n"));
}

static void test_context(void **state)
{
    fixture_t *f = *state;
    const char *out;
    char ctx[200];
    char want[160];

    ims_log_ctx_set("abc123@10.0.0.1");
    IMS_NOTICE("with ctx");
    out = drain(f);
    assert_non_null(strstr(out, " [abc123@10.0.0.1] with ctx\n"));

    /* Copied, not referenced. */
    snprintf(ctx, sizeof(ctx), "call-1");
    ims_log_ctx_set(ctx);
    ctx[0] = 'X';
    IMS_NOTICE("m");
    out = drain(f);
    assert_non_null(strstr(out, " [call-1] m\n"));

    ims_log_ctx_clear();
    IMS_NOTICE("no ctx");
    out = drain(f);
    assert_null(strchr(out, '['));
    assert_non_null(strstr(out, " no ctx\n"));

    ims_log_ctx_set("again");
    ims_log_ctx_set(NULL); /* NULL clears too */
    IMS_NOTICE("none");
    out = drain(f);
    assert_null(strchr(out, '['));

    /* An over-long context is truncated, not overflowed. */
    memset(ctx, 'c', sizeof(ctx) - 1);
    ctx[sizeof(ctx) - 1] = '\0';
    ims_log_ctx_set(ctx);
    IMS_NOTICE("long");
    out = drain(f);
    want[0] = '[';
    memset(want + 1, 'c', 127); /* the context keeps 127 bytes + NUL */
    snprintf(want + 128, sizeof(want) - 128, "] long\n");
    assert_non_null(strstr(out, want));
    ims_log_ctx_clear();
}

static void test_level_parse(void **state)
{
    assert_int_equal(ims_log_level_parse("err"), IMS_LOG_ERR);
    assert_int_equal(ims_log_level_parse("warn"), IMS_LOG_WARN);
    assert_int_equal(ims_log_level_parse("notice"), IMS_LOG_NOTICE);
    assert_int_equal(ims_log_level_parse("info"), IMS_LOG_INFO);
    assert_int_equal(ims_log_level_parse("debug"), IMS_LOG_DEBUG);
    assert_int_equal(ims_log_level_parse("DEBUG"), IMS_LOG_DEBUG);
    assert_int_equal(ims_log_level_parse("Warn"), IMS_LOG_WARN);
    assert_int_equal(ims_log_level_parse("error"), -1);
    assert_int_equal(ims_log_level_parse("deb"), -1);
    assert_int_equal(ims_log_level_parse(""), -1);
    assert_int_equal(ims_log_level_parse(NULL), -1);
}

static void test_name(void **state)
{
    fixture_t *f = *state;
    const char *out;

    /* Names longer than the field are truncated; NULL means the default. */
    ims_log_init("a-very-long-daemon-name-that-does-not-fit-anywhere", IMS_LOG_INFO, f->out);
    IMS_INFO("x");
    out = drain(f);
    assert_non_null(strstr(out, " a-very-long-daemon-name-that-do info "));
    ims_log_init(NULL, IMS_LOG_INFO, f->out);
    IMS_INFO("x");
    out = drain(f);
    assert_non_null(strstr(out, " ims info "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context, setup, teardown),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test_setup_teardown(test_name, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
