/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by the Diameter application tests (test_cx.c, test_rx.c,
 * test_rx_refusals.c, test_hss_client.c, test_rx_loopback.c): a node for one
 * 3GPP application, messages through the bytes, AVP edits and checks, and for
 * the two-node loopback tests loop pumping with deadlines on the real clock.
 * Include after cmocka.h's prerequisites; define _GNU_SOURCE first.
 */
#ifndef DIA_LOOPBACK_FIXTURE_H
#define DIA_LOOPBACK_FIXTURE_H

/* Each test program uses a subset of these. */
#define DFX_FN static __attribute__((unused))

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/core/loop.h"
#include "common/core/rc.h"
#include "diameter/base/codec.h"
#include "diameter/base/dict.h"
#include "diameter/base/peer.h"

/* ---------------------------------------------------------------- nodes */

/* A node for app (vendor 10415) in realm; listen NULL: client-only. */
DFX_FN dia_node_t *dfx_node(ims_loop_t *loop, const char *host, const char *realm,
                            const char *listen, uint16_t port, uint32_t app)
{
    dia_node_cfg_t cfg = {
        .origin_host = host, .origin_realm = realm, .listen_addr = listen,
        .listen_port = port, .request_timeout_ms = 2000,
        .apps = { { app, DIA_VENDOR_3GPP } }, .napps = 1,
    };
    dia_node_t *n = dia_node_new(loop, &cfg);

    assert_non_null(n);
    return n;
}

/* Free a node and then its loop. */
DFX_FN void dfx_close(ims_loop_t *loop, dia_node_t *node)
{
    dia_node_free(node);
    ims_loop_free(loop);
}

/* A loop and one node: the cmocka state of the codec tests. */
typedef struct dfx {
    ims_loop_t *loop;
    dia_node_t *node;
} dfx_t;

/* cmocka setup: a client-only node host of realm for app. */
DFX_FN int dfx_setup(void **state, const char *host, const char *realm, uint32_t app)
{
    dfx_t *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->loop = ims_loop_new();
    f->node = dfx_node(f->loop, host, realm, NULL, 0, app);
    *state = f;
    return 0;
}

DFX_FN int dfx_teardown(void **state)
{
    dfx_t *f = *state;

    dfx_close(f->loop, f->node);
    free(f);
    return 0;
}

/* ------------------------------------------------------------- messages */

/* Through the bytes: parse m's encoding (must be valid), free m. */
DFX_FN dia_msg_t *dfx_wire(dia_msg_t *m)
{
    dia_msg_t *w = NULL;
    dia_err_t err;

    assert_non_null(m);
    assert_int_equal(dia_msg_parse(m->buf, m->len, &w, &err), IMS_OK);
    dia_msg_free(m);
    return w;
}

/* A copy of m (not NULL, kept) without its top-level AVPs code/vendor. */
DFX_FN dia_msg_t *dfx_drop_avp(const dia_msg_t *m, uint32_t code, uint32_t vendor)
{
    dia_builder_t b;
    dia_iter_t it;
    dia_avp_t a;

    dia_build_init(&b, m->flags, m->code, m->app_id, m->hbh, m->e2e);
    dia_iter_msg(m, &it);
    while (dia_iter_next(&it, &a))
        if (!(a.code == code && a.vendor == vendor))
            dia_put_raw(&b, &a);
    return dia_build_finish(&b);
}

DFX_FN uint32_t dfx_find_u32(const dia_msg_t *m, uint32_t code, uint32_t vendor)
{
    dia_avp_t a;
    uint32_t v = 0xdeadbeef;

    assert_true(dia_msg_find(m, code, vendor, &a));
    assert_int_equal(dia_avp_u32(&a, &v), IMS_OK);
    return v;
}

/* V/M bits of every AVP, groups included (Failed-AVP's contents not): 3GPP
 * V+M except the codes v_only says are V only, base M. */
DFX_FN void dfx_check_bits(dia_iter_t *it, int depth, bool (*v_only)(uint32_t code))
{
    dia_avp_t a;

    while (dia_iter_next(it, &a)) {
        dia_iter_t in;
        const dia_dict_avp_t *d = dia_dict_avp(a.code, a.vendor);

        if (a.vendor == DIA_VENDOR_3GPP)
            assert_int_equal(a.flags, v_only(a.code) ? 0x80 : 0xC0);
        else
            assert_int_equal(a.flags, 0x40);
        if (d && d->type == DIA_T_GROUPED && a.code != DIA_AVP_FAILED_AVP && depth < 4) {
            dia_iter_group(&a, &in);
            dfx_check_bits(&in, depth + 1, v_only);
        }
    }
}

/* ---------------------------------------------------- loop and peers */

DFX_FN uint64_t dfx_now_ms(void)
{
    return ims_clock_real_us() / 1000;
}

/* Run the loop until *counter >= want or wait_ms pass. */
DFX_FN bool dfx_wait_count(ims_loop_t *loop, const int *counter, int want, int wait_ms)
{
    uint64_t end = dfx_now_ms() + (uint64_t)wait_ms;

    while (*counter < want) {
        if (dfx_now_ms() >= end)
            return false;
        ims_loop_run_once(loop, 20);
    }
    return true;
}

DFX_FN void dfx_run_for(ims_loop_t *loop, int ms)
{
    uint64_t end = dfx_now_ms() + (uint64_t)ms;

    while (dfx_now_ms() < end)
        ims_loop_run_once(loop, 10);
}

/* Every peer of n is open. */
DFX_FN bool dfx_all_open(const dia_node_t *n)
{
    dia_peer_info_t pi;

    for (int i = 0; i < dia_node_peer_count(n); i++)
        if (dia_node_peer_info(n, i, &pi) != IMS_OK || pi.state != DIA_PEER_OPEN)
            return false;
    return true;
}

#endif
