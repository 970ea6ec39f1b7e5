/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF registration store on a real loop with a driven clock: add,
 * refresh, remove, expiry by timer (and a refresh postponing it), the three
 * indexes (address, default IMPU, subscription Call-ID), the max_ues bound;
 * trusted-node matching; the pcscf section of a real configuration file
 * (defaults, derived values, errors); and the reg-event SUBSCRIBE we build.
 *
 * The pcscf/ sources are compiled into this program (the daemon is not a library).
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

#include "common/core/clock.h"
#include "pcscf/context.c"
#include "pcscf/headers.c"
#include "pcscf/init.c"
#include "pcscf/regevent-path.c"
#include "pcscf/reginfo.c"

#define HOME "ims.example.org"

static pcscf_reg_data_t data(const char *contact, const char *impu0, const char *impu1)
{
    pcscf_reg_data_t d;

    memset(&d, 0, sizeof(d));
    d.contact = (pcscf_str_t){ contact, strlen(contact) };
    d.impu[0] = (pcscf_str_t){ impu0, strlen(impu0) };
    d.nimpu = 1;
    if (impu1) {
        d.impu[1] = (pcscf_str_t){ impu1, strlen(impu1) };
        d.nimpu = 2;
    }
    d.route[0] = (pcscf_str_t){ "<sip:orig@scscf." HOME ";lr>",
                                strlen("<sip:orig@scscf." HOME ";lr>") };
    d.route[1] = (pcscf_str_t){ "<sip:second." HOME ";lr>", strlen("<sip:second." HOME ";lr>") };
    d.nroute = 2;
    return d;
}

typedef struct fx {
    ims_loop_t *loop;
    pcscf_ctx_t *ctx;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));

    ims_clock_drive(true, 1000000);
    f->loop = ims_loop_new();
    f->ctx = pcscf_ctx_new(f->loop);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;

    pcscf_ctx_free(f->ctx);
    assert_int_equal(ims_loop_timer_count(f->loop), 0);
    ims_loop_free(f->loop);
    ims_clock_drive(false, 0);
    free(f);
    return 0;
}

static void advance(fx_t *f, uint64_t ms)
{
    ims_clock_advance(ms);
    ims_loop_run_timers(f->loop);
}

static void test_store(void **state)
{
    fx_t *f = *state;
    pcscf_reg_data_t d = data("sip:a@10.0.0.1:5070", "sip:alice@" HOME, "tel:+1555");
    bool is_new = false;
    pcscf_ue_t *ue = pcscf_ue_store(f->ctx, "u:10.0.0.1:5070", &d, 600, &is_new);

    assert_non_null(ue);
    assert_true(is_new);
    assert_int_equal(pcscf_ue_count(f->ctx), 1);
    assert_ptr_equal(pcscf_ue_find_addr(f->ctx, "u:10.0.0.1:5070"), ue);
    assert_null(pcscf_ue_find_addr(f->ctx, "t:10.0.0.1:5070"));
    assert_ptr_equal(pcscf_ue_find_impu(f->ctx, "sip:alice@" HOME), ue);
    assert_string_equal(pcscf_ue_key(ue), "u:10.0.0.1:5070");
    assert_string_equal(pcscf_ue_contact(ue), "sip:a@10.0.0.1:5070");
    assert_string_equal(pcscf_ue_impu(ue, 0), "sip:alice@" HOME);
    assert_string_equal(pcscf_ue_impu(ue, 1), "tel:+1555");
    assert_null(pcscf_ue_impu(ue, 2));
    assert_string_equal(pcscf_ue_route(ue, 0), "<sip:orig@scscf." HOME ";lr>");
    assert_string_equal(pcscf_ue_route(ue, 1), "<sip:second." HOME ";lr>");
    assert_null(pcscf_ue_route(ue, 2));
    assert_int_equal(ue->expires_ms, ims_clock_now_ms() + 600000);

    /* Refresh with another identity set: same UE, indexes follow. */
    d = data("sip:a@10.0.0.1:5070", "sip:alias@" HOME, NULL);
    assert_ptr_equal(pcscf_ue_store(f->ctx, "u:10.0.0.1:5070", &d, 600, &is_new), ue);
    assert_false(is_new);
    assert_int_equal(pcscf_ue_count(f->ctx), 1);
    assert_null(pcscf_ue_find_impu(f->ctx, "sip:alice@" HOME));
    assert_ptr_equal(pcscf_ue_find_impu(f->ctx, "sip:alias@" HOME), ue);
    assert_int_equal(ue->nimpu, 1);

    /* No identity: refused. */
    d.nimpu = 0;
    assert_null(pcscf_ue_store(f->ctx, "u:10.0.0.2:5070", &d, 600, &is_new));

    pcscf_ue_remove(f->ctx, ue);
    assert_int_equal(pcscf_ue_count(f->ctx), 0);
    assert_null(pcscf_ue_find_impu(f->ctx, "sip:alias@" HOME));
    assert_int_equal(ims_loop_timer_count(f->loop), 0);
}

static void test_expiry(void **state)
{
    fx_t *f = *state;
    pcscf_reg_data_t d = data("sip:a@10.0.0.1:5070", "sip:alice@" HOME, NULL);
    bool is_new;

    assert_non_null(pcscf_ue_store(f->ctx, "u:10.0.0.1:5070", &d, 60, &is_new));
    advance(f, 59999);
    assert_non_null(pcscf_ue_find_addr(f->ctx, "u:10.0.0.1:5070"));
    advance(f, 1);
    assert_null(pcscf_ue_find_addr(f->ctx, "u:10.0.0.1:5070"));
    assert_null(pcscf_ue_find_impu(f->ctx, "sip:alice@" HOME));
    assert_int_equal(f->ctx->stats.expired, 1);

    /* A refresh before the end moves it. */
    assert_non_null(pcscf_ue_store(f->ctx, "u:10.0.0.1:5070", &d, 60, &is_new));
    advance(f, 50000);
    assert_non_null(pcscf_ue_store(f->ctx, "u:10.0.0.1:5070", &d, 60, &is_new));
    assert_false(is_new);
    advance(f, 50000);
    assert_non_null(pcscf_ue_find_addr(f->ctx, "u:10.0.0.1:5070"));
    advance(f, 10000);
    assert_null(pcscf_ue_find_addr(f->ctx, "u:10.0.0.1:5070"));
    assert_int_equal(f->ctx->stats.expired, 2);
    assert_int_equal(ims_loop_timer_count(f->loop), 0);
}

static void test_indexes(void **state)
{
    fx_t *f = *state;
    pcscf_reg_data_t d = data("sip:a@10.0.0.1:5070", "sip:alice@" HOME, NULL);
    pcscf_ue_t *old, *moved;
    const char *cid1, *cid2;
    char keep[PCSCF_CID_LEN + 1];
    bool is_new;

    /* The same identity from a new address: the newest is found by IMPU. */
    old = pcscf_ue_store(f->ctx, "u:10.0.0.1:5070", &d, 600, &is_new);
    moved = pcscf_ue_store(f->ctx, "t:10.0.0.1:40001", &d, 600, &is_new);
    assert_true(is_new);
    assert_ptr_equal(pcscf_ue_find_impu(f->ctx, "sip:alice@" HOME), moved);
    pcscf_ue_remove(f->ctx, old);
    assert_ptr_equal(pcscf_ue_find_impu(f->ctx, "sip:alice@" HOME), moved);

    /* Subscription ids: a new one replaces the old. */
    cid1 = pcscf_ue_new_sub(f->ctx, moved);
    assert_int_equal(strlen(cid1), PCSCF_CID_LEN);
    snprintf(keep, sizeof(keep), "%s", cid1);
    assert_ptr_equal(pcscf_ue_find_sub(f->ctx, keep), moved);
    assert_int_equal(moved->sub_state, PCSCF_SUB_PENDING);
    cid2 = pcscf_ue_new_sub(f->ctx, moved);
    assert_string_not_equal(keep, cid2);
    assert_null(pcscf_ue_find_sub(f->ctx, keep));
    snprintf(keep, sizeof(keep), "%s", cid2);
    assert_ptr_equal(pcscf_ue_find_sub(f->ctx, keep), moved);
    pcscf_ue_remove(f->ctx, moved);
    assert_null(pcscf_ue_find_sub(f->ctx, keep));
    assert_null(pcscf_ue_find_sub(f->ctx, NULL));
    assert_int_equal(pcscf_ue_count(f->ctx), 0);
}

static void test_max_ues(void **state)
{
    fx_t *f = *state;
    pcscf_reg_data_t d = data("sip:a@10.0.0.1:5070", "sip:alice@" HOME, NULL);
    bool is_new;

    f->ctx->cfg.max_ues = 2;
    assert_non_null(pcscf_ue_store(f->ctx, "u:10.0.0.1:1", &d, 600, &is_new));
    assert_non_null(pcscf_ue_store(f->ctx, "u:10.0.0.1:2", &d, 600, &is_new));
    assert_null(pcscf_ue_store(f->ctx, "u:10.0.0.1:3", &d, 600, &is_new));
    /* Refreshing a known UE is always possible. */
    assert_non_null(pcscf_ue_store(f->ctx, "u:10.0.0.1:2", &d, 600, &is_new));
    assert_int_equal(pcscf_ue_count(f->ctx), 2);
}

static sip_rcv_t rcv_from(sip_proto_t proto, const char *ip, uint16_t port)
{
    sip_rcv_t r;

    memset(&r, 0, sizeof(r));
    r.proto = proto;
    sip_addr_from(&r.remote, ip, port);
    return r;
}

static void test_addr_key_and_trusted(void **state)
{
    fx_t *f = *state;
    sip_rcv_t r = rcv_from(SIP_PROTO_UDP, "10.0.0.1", 5070);
    char key[PCSCF_KEY_LEN];

    assert_string_equal(pcscf_addr_key(&r, key, sizeof(key)), "u:10.0.0.1:5070");
    r = rcv_from(SIP_PROTO_TCP, "2001:db8::1", 40000);
    assert_string_equal(pcscf_addr_key(&r, key, sizeof(key)), "t:[2001:db8::1]:40000");

    assert_int_equal(sip_trust_add(&f->ctx->cfg.trusted, "127.0.0.30", 0), IMS_OK);
    assert_int_equal(sip_trust_add(&f->ctx->cfg.trusted, "127.0.0.1", 17201), IMS_OK);
    r = rcv_from(SIP_PROTO_UDP, "127.0.0.30", 5999);
    assert_true(pcscf_is_trusted(f->ctx, &r));
    r = rcv_from(SIP_PROTO_UDP, "127.0.0.1", 17201);
    assert_true(pcscf_is_trusted(f->ctx, &r));
    r = rcv_from(SIP_PROTO_UDP, "127.0.0.1", 17202);   /* a UE on the same host */
    assert_false(pcscf_is_trusted(f->ctx, &r));
    r = rcv_from(SIP_PROTO_TCP, "127.0.0.1", 45000);   /* streams: the IP decides */
    assert_true(pcscf_is_trusted(f->ctx, &r));
    r = rcv_from(SIP_PROTO_UDP, "127.0.0.31", 5060);
    assert_false(pcscf_is_trusted(f->ctx, &r));
    r = rcv_from(SIP_PROTO_UDP, "::1", 17201);
    assert_false(pcscf_is_trusted(f->ctx, &r));
}

static int load_text(pcscf_ctx_t *ctx, const char *text, char *err, size_t errlen)
{
    char path[] = "/tmp/test_pcscf_cfg.XXXXXX";
    int fd = mkstemp(path);
    ims_conf_t *conf;
    int rc;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    conf = ims_conf_load(path, err, errlen);
    assert_non_null(conf);
    rc = pcscf_load_config(ctx, conf, err, errlen);
    /* Strings stay owned by conf: copy what the assertions need before freeing. */
    if (rc == IMS_OK && ctx->enabled) {
        static char name[128], vn[128], icscf[128];

        snprintf(name, sizeof(name), "%s", ctx->cfg.name);
        snprintf(vn, sizeof(vn), "%s", ctx->cfg.visited_network);
        snprintf(icscf, sizeof(icscf), "%s", ctx->cfg.icscf ? ctx->cfg.icscf : "");
        ctx->cfg.name = name;
        ctx->cfg.visited_network = vn;
        ctx->cfg.icscf = icscf;
    }
    ims_conf_free(conf);
    unlink(path);
    return rc;
}

static void test_config(void **state)
{
    pcscf_ctx_t *ctx = pcscf_ctx_new(NULL);
    char err[512];

    /* No section: a transparent proxy. */
    assert_int_equal(load_text(ctx, "sip = { listen = (\"udp:127.0.0.1:5060\"); };\n", err,
                               sizeof(err)), IMS_OK);
    assert_false(ctx->enabled);
    /* An empty section enables, with the name taken from sip.aliases. */
    assert_int_equal(load_text(ctx,
                               "sip = { aliases = (\"pcscf." HOME "\");\n"
                               "        hosts = (\"icscf." HOME "=127.0.0.20\",\n"
                               "                 \"scscf." HOME "=127.0.0.30:5070\"); };\n"
                               "pcscf = { };\n", err, sizeof(err)), IMS_OK);
    assert_true(ctx->enabled);
    assert_string_equal(ctx->cfg.name, "pcscf." HOME);
    assert_string_equal(ctx->cfg.visited_network, HOME);
    assert_string_equal(ctx->path, "<sip:term@pcscf." HOME ";lr>");
    assert_true(ctx->cfg.reg_event);
    assert_true(ctx->cfg.enforce_service_route);
    assert_false(ctx->cfg.assume_integrity);
    assert_int_equal(ctx->cfg.subscribe_expires, 600000);
    assert_int_equal(ctx->cfg.trusted.n, 2);
    assert_true(ctx->cfg.trusted.node[0].any_port);
    assert_false(ctx->cfg.trusted.node[1].any_port);
    assert_null(ctx->icscf_uri);
    pcscf_ctx_free(ctx);

    ctx = pcscf_ctx_new(NULL);
    assert_int_equal(load_text(ctx,
                               "pcscf = { name = \"edge.visited.net\"; icscf = \"sip:icscf." HOME
                               ";lr\";\n  visited_network = \"v.net\"; assume_integrity = true;\n"
                               "  reg_event = false; subscribe_expires = 3600; max_ues = 10;\n"
                               "  trusted = ( \"10.1.1.1\", \"[::1]:5060\" ); };\n",
                               err, sizeof(err)), IMS_OK);
    assert_string_equal(ctx->cfg.name, "edge.visited.net");
    assert_string_equal(ctx->cfg.visited_network, "v.net");
    assert_true(ctx->cfg.assume_integrity);
    assert_false(ctx->cfg.reg_event);
    assert_int_equal(ctx->cfg.subscribe_expires, 3600);
    assert_int_equal(ctx->cfg.max_ues, 10);
    assert_int_equal(ctx->cfg.trusted.n, 2);
    assert_non_null(ctx->icscf_uri);
    assert_string_equal(ctx->icscf_uri->host, "icscf." HOME);
    pcscf_ctx_free(ctx);

    /* Errors name the key. */
    ctx = pcscf_ctx_new(NULL);
    assert_int_equal(load_text(ctx, "pcscf = { trusted = ( \"nonsense\" ); };\n", err,
                               sizeof(err)), IMS_ERROR);
    assert_non_null(strstr(err, "pcscf.trusted"));
    assert_int_equal(load_text(ctx, "pcscf = { reg_event = 3; };\n", err, sizeof(err)),
                     IMS_ERROR);
    assert_non_null(strstr(err, "reg_event"));
    assert_int_equal(load_text(ctx, "pcscf = { subscribe_expires = 5; };\n", err, sizeof(err)),
                     IMS_ERROR);
    assert_non_null(strstr(err, "subscribe_expires"));
    assert_int_equal(load_text(ctx, "pcscf = { icscf = \"::nope\"; };\n", err, sizeof(err)),
                     IMS_ERROR);
    assert_non_null(strstr(err, "pcscf.icscf"));
    pcscf_ctx_free(ctx);
}

static void test_subscribe_build(void **state)
{
    fx_t *f = *state;
    pcscf_reg_data_t d = data("sip:a@10.0.0.1:5070", "sip:alice@" HOME, "tel:+1555");
    pcscf_ue_t *ue;
    sip_msg_t *req;
    char *text = NULL;
    size_t len;
    bool is_new;

    f->ctx->cfg.name = "pcscf." HOME;
    ue = pcscf_ue_store(f->ctx, "u:10.0.0.1:5070", &d, 600, &is_new);
    req = pcscf_regevent_build(f->ctx, ue, 5060, false);
    assert_non_null(req);
    assert_ptr_equal(pcscf_ue_find_sub(f->ctx, sip_msg_call_id(req)), ue);
    assert_string_equal(sip_msg_method(req), "SUBSCRIBE");
    assert_int_equal(sip_msg_to_str(req, &text, &len), IMS_OK);
    assert_non_null(strstr(text, "SUBSCRIBE sip:alice@" HOME " SIP/2.0\r\n"));
    assert_non_null(strstr(text, "\r\nRoute: <sip:orig@scscf." HOME ";lr>\r\n"
                                 "Route: <sip:second." HOME ";lr>\r\n"));
    assert_non_null(strstr(text, "\r\nFrom: <sip:pcscf." HOME ">;tag="));
    assert_non_null(strstr(text, "\r\nTo: <sip:alice@" HOME ">\r\n"));
    assert_non_null(strstr(text, "\r\nContact: <sip:pcscf." HOME ":5060>\r\n"));
    assert_non_null(strstr(text, "\r\nEvent: reg\r\n"));
    assert_non_null(strstr(text, "\r\nAccept: application/reginfo+xml\r\n"));
    assert_non_null(strstr(text, "\r\nExpires: 600000\r\n"));
    assert_non_null(strstr(text, "\r\nP-Asserted-Identity: <sip:pcscf." HOME ">\r\n"));
    osip_free(text);
    sip_msg_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_ues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_addr_key_and_trusted, setup, teardown),
        cmocka_unit_test(test_config),
        cmocka_unit_test_setup_teardown(test_subscribe_build, setup, teardown),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
