/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The libconfig wrapper: load errors name file and line; getters return OK /
 * DECLINED / ERROR as documented and every error names file, line and key.
 * Each test writes a real file under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/core/conf.h"
#include "common/core/rc.h"

/* Line numbers below are relied on by the wrong-type tests: keep them in sync. */
static const char good_cfg[] =
    "# test configuration\n"                                       /* 1 */
    "name = \"pcscf-1\";\n"                                        /* 2 */
    "sip: {\n"                                                     /* 3 */
    "    listen = \"127.0.0.1\";\n"                                /* 4 */
    "    port = 5060;\n"                                           /* 5 */
    "    tcp = true;\n"                                            /* 6 */
    "    big = 10000000000L;\n"                                    /* 7 */
    "    ratio = 1.5;\n"                                           /* 8 */
    "    peers = [\"a.example\", \"b.example\", \"c.example\"];\n" /* 9 */
    "    mixed = (\"x\", 7);\n"                                    /* 10 */
    "    empty = [];\n"                                            /* 11 */
    "};\n";                                                        /* 12 */

typedef struct fixture {
    char path[64];
    ims_conf_t *conf;
} fixture_t;

/* Write text to a new file under /tmp; path receives its name. */
static void write_tmp(char *path, size_t pathlen, const char *text)
{
    int fd;
    size_t len = strlen(text);

    snprintf(path, pathlen, "/tmp/ims-test-conf-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    char err[256] = "";

    if (!f)
        return -1;
    write_tmp(f->path, sizeof(f->path), good_cfg);
    f->conf = ims_conf_load(f->path, err, sizeof(err));
    if (!f->conf) {
        fprintf(stderr, "load failed: %s\n", err);
        unlink(f->path);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    ims_conf_free(f->conf);
    unlink(f->path);
    free(f);
    return 0;
}

/* "path:line: key" must appear in the last error. */
static void assert_error_at(ims_conf_t *conf, const char *path, int line, const char *key)
{
    char want[256];

    snprintf(want, sizeof(want), "%s:%d: %s: ", path, line, key);
    if (!strstr(ims_conf_error(conf), want))
        fail_msg("error \"%s\" lacks \"%s\"", ims_conf_error(conf), want);
}

/* ---- load ---- */

static void test_load_syntax_error(void **state)
{
    char path[64], err[256] = "";
    char want[80];

    write_tmp(path, sizeof(path), "a = 1;\nb = \"x\";\nc = ;\nd = 2;\n");
    assert_null(ims_conf_load(path, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s:3: ", path);
    if (!strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    unlink(path);
}

static void test_load_missing_file(void **state)
{
    char err[256] = "";
    const char *path = "/tmp/ims-test-conf-does-not-exist/x.cfg";

    assert_null(ims_conf_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
}

static void test_load_small_err_buffer(void **state)
{
    char path[64], err[8];

    /* The message is truncated, not overflowed. */
    memset(err, 'z', sizeof(err));
    write_tmp(path, sizeof(path), "a = ;\n");
    assert_null(ims_conf_load(path, err, sizeof(err)));
    assert_int_equal(strlen(err), sizeof(err) - 1);
    unlink(path);
}

/* ---- getters: present ---- */

static void test_get_present(void **state)
{
    fixture_t *f = *state;
    const char *s = NULL;
    long long v = 0;
    bool b = false;

    assert_string_equal(ims_conf_path(f->conf), f->path);
    assert_int_equal(ims_conf_str(f->conf, "name", true, &s), IMS_OK);
    assert_string_equal(s, "pcscf-1");
    assert_int_equal(ims_conf_str(f->conf, "sip.listen", true, &s), IMS_OK);
    assert_string_equal(s, "127.0.0.1");
    assert_int_equal(ims_conf_int(f->conf, "sip.port", true, 1, 65535, &v), IMS_OK);
    assert_int_equal(v, 5060);
    assert_int_equal(ims_conf_int(f->conf, "sip.big", true, 0, 100000000000LL, &v), IMS_OK);
    assert_true(v == 10000000000LL);
    assert_int_equal(ims_conf_bool(f->conf, "sip.tcp", true, &b), IMS_OK);
    assert_true(b);
    /* Bounds are inclusive. */
    assert_int_equal(ims_conf_int(f->conf, "sip.port", true, 5060, 5060, &v), IMS_OK);
}

/* ---- getters: absent ---- */

static void test_get_absent_optional(void **state)
{
    fixture_t *f = *state;
    const char *s = "default";
    long long v = 42;
    bool b = true;

    assert_int_equal(ims_conf_str(f->conf, "sip.nothere", false, &s), IMS_DECLINED);
    assert_string_equal(s, "default");
    assert_int_equal(ims_conf_int(f->conf, "sip.nothere", false, 0, 10, &v), IMS_DECLINED);
    assert_int_equal(v, 42);
    assert_int_equal(ims_conf_bool(f->conf, "nogroup.x", false, &b), IMS_DECLINED);
    assert_true(b);
}

static void test_get_absent_required(void **state)
{
    fixture_t *f = *state;
    const char *s = "default";
    long long v = 42;
    bool b = true;
    char want[128];

    snprintf(want, sizeof(want), "%s: ", f->path);
    assert_int_equal(ims_conf_str(f->conf, "sip.nothere", true, &s), IMS_ERROR);
    assert_string_equal(s, "default");
    assert_non_null(strstr(ims_conf_error(f->conf), want));
    assert_non_null(strstr(ims_conf_error(f->conf), "sip.nothere"));

    assert_int_equal(ims_conf_int(f->conf, "sip.port2", true, 0, 10, &v), IMS_ERROR);
    assert_int_equal(v, 42);
    assert_non_null(strstr(ims_conf_error(f->conf), "sip.port2"));

    assert_int_equal(ims_conf_bool(f->conf, "tls.enabled", true, &b), IMS_ERROR);
    assert_true(b);
    assert_non_null(strstr(ims_conf_error(f->conf), want));
    assert_non_null(strstr(ims_conf_error(f->conf), "tls.enabled"));
}

/* ---- getters: wrong type, out of range ---- */

static void test_get_wrong_type(void **state)
{
    fixture_t *f = *state;
    const char *s = "default";
    long long v = 42;
    bool b = false;

    assert_int_equal(ims_conf_str(f->conf, "sip.port", true, &s), IMS_ERROR);
    assert_string_equal(s, "default");
    assert_error_at(f->conf, f->path, 5, "sip.port");

    assert_int_equal(ims_conf_int(f->conf, "sip.listen", true, 0, 10, &v), IMS_ERROR);
    assert_int_equal(v, 42);
    assert_error_at(f->conf, f->path, 4, "sip.listen");

    assert_int_equal(ims_conf_int(f->conf, "sip.ratio", false, 0, 10, &v), IMS_ERROR);
    assert_error_at(f->conf, f->path, 8, "sip.ratio");

    assert_int_equal(ims_conf_bool(f->conf, "sip.port", true, &b), IMS_ERROR);
    assert_false(b);
    assert_error_at(f->conf, f->path, 5, "sip.port");

    /* A group where a scalar is wanted, found on its opening line. */
    assert_int_equal(ims_conf_str(f->conf, "sip", false, &s), IMS_ERROR);
    assert_error_at(f->conf, f->path, 3, "sip");
}

static void test_get_int_out_of_range(void **state)
{
    fixture_t *f = *state;
    long long v = 42;

    assert_int_equal(ims_conf_int(f->conf, "sip.port", true, 1, 1024, &v), IMS_ERROR);
    assert_int_equal(v, 42);
    assert_error_at(f->conf, f->path, 5, "sip.port");
    assert_non_null(strstr(ims_conf_error(f->conf), "5060"));

    assert_int_equal(ims_conf_int(f->conf, "sip.port", true, 6000, 7000, &v), IMS_ERROR);
    assert_int_equal(ims_conf_int(f->conf, "sip.big", true, 0, 65535, &v), IMS_ERROR);
    assert_int_equal(v, 42);
    assert_error_at(f->conf, f->path, 7, "sip.big");
}

/* ---- lists ---- */

static void test_lists(void **state)
{
    fixture_t *f = *state;
    size_t n = 99;
    const char *s = NULL;
    static const char *const want[] = { "a.example", "b.example", "c.example" };

    assert_int_equal(ims_conf_list_len(f->conf, "sip.peers", &n), IMS_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ims_conf_list_str(f->conf, "sip.peers", i, &s), IMS_OK);
        assert_string_equal(s, want[i]);
    }
    s = "untouched";
    assert_int_equal(ims_conf_list_str(f->conf, "sip.peers", 3, &s), IMS_ERROR);
    assert_string_equal(s, "untouched");
    assert_non_null(strstr(ims_conf_error(f->conf), "sip.peers"));

    /* Absent: zero elements, not an error; asking for one is. */
    n = 99;
    assert_int_equal(ims_conf_list_len(f->conf, "sip.nolist", &n), IMS_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ims_conf_list_str(f->conf, "sip.nolist", 0, &s), IMS_ERROR);
    assert_non_null(strstr(ims_conf_error(f->conf), f->path));
    assert_non_null(strstr(ims_conf_error(f->conf), "sip.nolist"));

    n = 99;
    assert_int_equal(ims_conf_list_len(f->conf, "sip.empty", &n), IMS_OK);
    assert_int_equal(n, 0);

    /* A list (parentheses) with a non-string element. */
    assert_int_equal(ims_conf_list_len(f->conf, "sip.mixed", &n), IMS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ims_conf_list_str(f->conf, "sip.mixed", 0, &s), IMS_OK);
    assert_string_equal(s, "x");
    assert_int_equal(ims_conf_list_str(f->conf, "sip.mixed", 1, &s), IMS_ERROR);
    assert_error_at(f->conf, f->path, 10, "sip.mixed");

    /* A scalar is not a list. */
    assert_int_equal(ims_conf_list_len(f->conf, "sip.port", &n), IMS_ERROR);
    assert_error_at(f->conf, f->path, 5, "sip.port");
    assert_int_equal(ims_conf_list_str(f->conf, "sip.port", 0, &s), IMS_ERROR);
}

/* ims_conf_u32: absent keeps the default, set and in range writes, a wrong
 * type or a value out of range is an error naming the key. */
static void test_u32(void **state)
{
    fixture_t *f = *state;
    uint32_t v = 7;

    assert_int_equal(ims_conf_u32(f->conf, "sip.nothing", 0, 10, &v), IMS_OK);
    assert_int_equal(v, 7);
    assert_int_equal(ims_conf_u32(f->conf, "sip.port", 1, 65535, &v), IMS_OK);
    assert_int_equal(v, 5060);
    assert_int_equal(ims_conf_u32(f->conf, "sip.port", 1, 1000, &v), IMS_ERROR);
    assert_error_at(f->conf, f->path, 5, "sip.port");
    assert_int_equal(v, 5060);
    assert_int_equal(ims_conf_u32(f->conf, "sip.tcp", 0, 10, &v), IMS_ERROR);
    assert_int_equal(v, 5060);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_syntax_error),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_load_small_err_buffer),
        cmocka_unit_test_setup_teardown(test_get_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_absent_optional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_absent_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_wrong_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_int_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_u32, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
