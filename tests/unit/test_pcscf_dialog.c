/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The P-CSCF dialog table (pcscf/dialog.c) fed with real parsed SIP messages,
 * as the proxy handler feeds it: an originating call (180 early, 200
 * confirmed, route sets split around our Record-Route, BYE ending then gone),
 * a failed INVITE (486 after 180), a terminating call (the 200 from the UE),
 * a call between two UEs of this P-CSCF (two legs, each BYE pass ends its own),
 * the early give-up timer, and the release when a registration ends: BYEs with
 * a Reason header, caught on real UDP sockets standing for the UE and the
 * S-CSCF, each checked header by header.
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/sip/transport.h"
#include "pcscf/context.c"
#include "pcscf/dialog.c"
#include "pcscf/headers.c"

#define HOME "ims.example.org"
#define CID "call-1@ue"

typedef struct fx {
    ims_loop_t *loop;
    sip_transport_t *tp;
    sip_txn_layer_t *layer;
    sip_proxy_t *px;
    pcscf_ctx_t *ctx;
    uint16_t port;              /* the P-CSCF's */
    int ue_fd, s_fd, ue2_fd;    /* the UE, the S-CSCF, a second UE */
    uint16_t ue_port, s_port, ue2_port;
    pcscf_ue_t *ue, *ue2;
} fx_t;

static int udp_open(uint16_t *port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void on_message(void *arg, sip_msg_t *msg)
{
    fx_t *f = arg;

    sip_txn_layer_input(f->layer, msg);
}

static pcscf_ue_t *register_ue(fx_t *f, uint16_t port, const char *user)
{
    char key[64], contact[96], impu[96];
    pcscf_reg_data_t d;
    bool is_new;

    snprintf(key, sizeof(key), "u:127.0.0.1:%u", port);
    snprintf(contact, sizeof(contact), "sip:%s@127.0.0.1:%u", user, port);
    snprintf(impu, sizeof(impu), "sip:%s@" HOME, user);
    memset(&d, 0, sizeof(d));
    d.contact = (pcscf_str_t){ contact, strlen(contact) };
    d.impu[0] = (pcscf_str_t){ impu, strlen(impu) };
    d.nimpu = 1;
    return pcscf_ue_store(f->ctx, key, &d, 600, &is_new);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    sip_addr_t me;

    ims_clock_drive(true, 1000000);
    f->loop = ims_loop_new();
    f->tp = sip_transport_new(f->loop, NULL, on_message, f);
    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_UDP, "127.0.0.1", 0), IMS_OK);
    assert_int_equal(sip_transport_local(f->tp, SIP_PROTO_UDP, AF_INET, &me), IMS_OK);
    f->port = sip_addr_port(&me);
    f->layer = sip_txn_layer_new(f->loop, f->tp, NULL);
    f->px = sip_proxy_new(f->layer, NULL, NULL, NULL);
    f->ctx = pcscf_ctx_new(f->loop);
    f->ctx->enabled = true;
    f->ctx->px = f->px;
    f->ue_fd = udp_open(&f->ue_port);
    f->s_fd = udp_open(&f->s_port);
    f->ue2_fd = udp_open(&f->ue2_port);
    f->ue = register_ue(f, f->ue_port, "alice");
    f->ue2 = register_ue(f, f->ue2_port, "bob");
    assert_non_null(f->ue);
    assert_non_null(f->ue2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;

    pcscf_ctx_free(f->ctx);
    sip_proxy_free(f->px);
    sip_txn_layer_free(f->layer);
    sip_transport_free(f->tp);
    ims_loop_free(f->loop);
    close(f->ue_fd);
    close(f->s_fd);
    close(f->ue2_fd);
    ims_clock_drive(false, 0);
    free(f);
    return 0;
}

/* Parse text as received from 127.0.0.1:from on the P-CSCF's socket. */
static sip_msg_t *rx(const fx_t *f, uint16_t from, const char *text)
{
    sip_rcv_t rcv;
    sip_msg_t *m = NULL;
    const char *reason = NULL;

    memset(&rcv, 0, sizeof(rcv));
    rcv.proto = SIP_PROTO_UDP;
    sip_addr_from(&rcv.remote, "127.0.0.1", from);
    sip_addr_from(&rcv.local, "127.0.0.1", f->port);
    assert_int_equal(sip_msg_parse(text, strlen(text), &rcv, 65535, &m, &reason), SIP_PARSE_OK);
    return m;
}

/* The INVITE from caller (port) with rr Record-Route entries already on it. */
static sip_msg_t *invite(const fx_t *f, uint16_t from, const char *caller, const char *rr)
{
    char buf[2048];

    snprintf(buf, sizeof(buf),
             "INVITE sip:bob@" HOME " SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-i1\r\n"
             "Max-Forwards: 70\r\n%s%s%s"
             "From: \"Alice\" <sip:alice@" HOME ">;tag=a1\r\n"
             "To: <sip:bob@" HOME ">\r\n"
             "Call-ID: " CID "\r\nCSeq: 7 INVITE\r\n"
             "Contact: <sip:%s@127.0.0.1:%u>\r\n"
             "Content-Length: 0\r\n\r\n",
             from, rr ? "Record-Route: " : "", rr ? rr : "", rr ? "\r\n" : "", caller, from);
    return rx(f, from, buf);
}

/* A response to INVITE/BYE sent from port, with To tag (NULL: none), RR and Contact. */
static sip_msg_t *resp(const fx_t *f, uint16_t from, int code, const char *method,
                       uint32_t cseq, const char *totag, const char *rr, const char *contact)
{
    char buf[2048], tt[32] = "";

    if (totag)
        snprintf(tt, sizeof(tt), ";tag=%s", totag);
    snprintf(buf, sizeof(buf),
             "SIP/2.0 %d X\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-i1\r\n"
             "From: \"Alice\" <sip:alice@" HOME ">;tag=a1\r\n"
             "To: <sip:bob@" HOME ">%s\r\n"
             "Call-ID: " CID "\r\nCSeq: %u %s\r\n%s%s%s%s%s%s"
             "Content-Length: 0\r\n\r\n",
             code, tt, cseq, method, rr ? "Record-Route: " : "", rr ? rr : "", rr ? "\r\n" : "",
             contact ? "Contact: <" : "", contact ? contact : "", contact ? ">\r\n" : "");
    return rx(f, from, buf);
}

/* An in-dialog request; from_caller: the caller's tags (From a1, To b1), else mirrored. */
static sip_msg_t *indialog(const fx_t *f, uint16_t from, const char *method, uint32_t cseq,
                           bool from_caller)
{
    char buf[1024];
    const char *a = "<sip:alice@" HOME ">;tag=a1", *b = "<sip:bob@" HOME ">;tag=b1";

    snprintf(buf, sizeof(buf),
             "%s sip:x@127.0.0.1:9 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-b%u\r\n"
             "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"
             "Call-ID: " CID "\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
             method, from, cseq, from_caller ? a : b, from_caller ? b : a, cseq, method);
    return rx(f, from, buf);
}

static void feed(fx_t *f, sip_msg_t *req, sip_msg_t *r)
{
    pcscf_dialog_on_response(f->ctx, f->px, req, r);
    sip_msg_free(r);
}

/* Originating call up to the 200: RR from the S-CSCF side above ours. */
static void orig_call(fx_t *f, sip_msg_t *req)
{
    char rr[128];

    snprintf(rr, sizeof(rr), "<sip:127.0.0.1:%u;lr>, <sip:127.0.0.1:%u;lr>", f->s_port, f->port);
    feed(f, req, resp(f, f->s_port, 100, "INVITE", 7, NULL, NULL, NULL));
    assert_int_equal(pcscf_dialog_count(f->ctx), 0);
    feed(f, req, resp(f, f->s_port, 180, "INVITE", 7, "b1", rr, "sip:bob@10.0.0.9:5070"));
    feed(f, req, resp(f, f->s_port, 200, "INVITE", 7, "b1", rr, "sip:bob@10.0.0.9:5070"));
}

static void test_orig_call(void **state)
{
    fx_t *f = *state;
    sip_msg_t *req = invite(f, f->ue_port, "alice", NULL), *bye;
    pcscf_dialog_t *d;
    char route[64];

    orig_call(f, req);
    assert_int_equal(pcscf_dialog_count(f->ctx), 1);
    d = pcscf_dialog_get(f->ctx, PCSCF_DLG_ORIG, CID, "a1");
    assert_non_null(d);
    assert_null(pcscf_dialog_get(f->ctx, PCSCF_DLG_TERM, CID, "a1"));
    assert_int_equal(d->state, PCSCF_DLG_CONFIRMED);
    assert_ptr_equal(d->ue, f->ue);
    assert_ptr_equal(f->ue->dialogs, d);
    assert_string_equal(pcscf_dialog_call_id(d), CID);
    assert_string_equal(pcscf_dialog_tag(d, PCSCF_DLG_CALLER), "a1");
    assert_string_equal(pcscf_dialog_tag(d, PCSCF_DLG_CALLEE), "b1");
    assert_string_equal(pcscf_dialog_impu(d), "sip:alice@" HOME);
    assert_string_equal(pcscf_dialog_target(d, PCSCF_DLG_CALLEE), "sip:bob@10.0.0.9:5070");
    assert_non_null(strstr(pcscf_dialog_target(d, PCSCF_DLG_CALLER), "sip:alice@127.0.0.1:"));
    /* Our own entry is in neither route set; the S-CSCF's leads toward the callee. */
    assert_int_equal(d->nroute[PCSCF_DLG_CALLER], 0);
    assert_int_equal(d->nroute[PCSCF_DLG_CALLEE], 1);
    snprintf(route, sizeof(route), "<sip:127.0.0.1:%u;lr>", f->s_port);
    assert_string_equal(pcscf_dialog_route(d, PCSCF_DLG_CALLEE, 0), route);
    assert_null(pcscf_dialog_route(d, PCSCF_DLG_CALLEE, 1));
    assert_int_equal(f->ctx->stats.dialogs_confirmed, 1);

    /* Lookup by Call-ID and tags, either order; a wrong tag is no match. */
    assert_ptr_equal(pcscf_dialog_find(f->ctx, CID, "a1", "b1"), d);
    assert_ptr_equal(pcscf_dialog_find(f->ctx, CID, "b1", "a1"), d);
    assert_null(pcscf_dialog_find(f->ctx, CID, "a1", "zz"));
    assert_null(pcscf_dialog_find(f->ctx, "other", "a1", "b1"));

    /* A re-INVITE's 200 changes nothing; the callee's BYE (from the network) ends it. */
    bye = indialog(f, f->s_port, "BYE", 3, false);
    assert_true(pcscf_dialog_known(f->ctx, bye));
    pcscf_dialog_on_request(f->ctx, bye, false);
    assert_int_equal(d->state, PCSCF_DLG_ENDING);
    assert_int_equal(d->cseq[PCSCF_DLG_CALLEE], 3);
    feed(f, bye, resp(f, f->ue_port, 200, "BYE", 3, "b1", NULL, NULL));
    assert_int_equal(pcscf_dialog_count(f->ctx), 0);
    assert_null(f->ue->dialogs);
    assert_int_equal(f->ctx->stats.dialogs_ended, 1);
    sip_msg_free(bye);
    sip_msg_free(req);
}

static void test_failed_invite(void **state)
{
    fx_t *f = *state;
    sip_msg_t *req = invite(f, f->ue_port, "alice", NULL);

    feed(f, req, resp(f, f->s_port, 180, "INVITE", 7, "b1", NULL, "sip:bob@10.0.0.9"));
    assert_int_equal(pcscf_dialog_count(f->ctx), 1);
    assert_int_equal(pcscf_dialog_find(f->ctx, CID, "a1", "b1")->state, PCSCF_DLG_EARLY);
    /* A 1xx without To tag makes no dialog, a second 1xx no second one. */
    feed(f, req, resp(f, f->s_port, 183, "INVITE", 7, "b2", NULL, "sip:bob@10.0.0.9"));
    assert_int_equal(pcscf_dialog_count(f->ctx), 1);
    feed(f, req, resp(f, f->s_port, 486, "INVITE", 7, "b1", NULL, NULL));
    assert_int_equal(pcscf_dialog_count(f->ctx), 0);
    assert_null(f->ue->dialogs);
    sip_msg_free(req);

    /* Unanswered: an early dialog is forgotten after PCSCF_DLG_EARLY_MS. */
    req = invite(f, f->ue_port, "alice", NULL);
    feed(f, req, resp(f, f->s_port, 180, "INVITE", 7, "b1", NULL, "sip:bob@10.0.0.9"));
    assert_int_equal(pcscf_dialog_count(f->ctx), 1);
    ims_clock_advance(PCSCF_DLG_EARLY_MS - 1);
    ims_loop_run_timers(f->loop);
    assert_int_equal(pcscf_dialog_count(f->ctx), 1);
    ims_clock_advance(1);
    ims_loop_run_timers(f->loop);
    assert_int_equal(pcscf_dialog_count(f->ctx), 0);
    sip_msg_free(req);
}

static void test_term_call(void **state)
{
    fx_t *f = *state;
    char rr_req[64], rr[128];
    sip_msg_t *req, *bye;
    pcscf_dialog_t *d;

    /* From the S-CSCF (it Record-Routed), toward alice; her 200 comes from her address. */
    snprintf(rr_req, sizeof(rr_req), "<sip:127.0.0.1:%u;lr>", f->s_port);
    snprintf(rr, sizeof(rr), "<sip:127.0.0.1:%u;lr>, <sip:127.0.0.1:%u;lr>", f->port, f->s_port);
    req = invite(f, f->s_port, "caller", rr_req);
    feed(f, req, resp(f, f->ue_port, 200, "INVITE", 7, "b1", rr, "sip:alice@127.0.0.1:1"));
    d = pcscf_dialog_get(f->ctx, PCSCF_DLG_TERM, CID, "a1");
    assert_non_null(d);
    assert_null(pcscf_dialog_get(f->ctx, PCSCF_DLG_ORIG, CID, "a1"));
    assert_ptr_equal(d->ue, f->ue);
    assert_int_equal(d->nroute[PCSCF_DLG_CALLER], 1);
    assert_int_equal(d->nroute[PCSCF_DLG_CALLEE], 0);
    assert_string_equal(pcscf_dialog_route(d, PCSCF_DLG_CALLER, 0), rr_req);
    assert_int_equal(sip_addr_port(&d->ue_dst.addr), f->ue_port);

    /* alice (the callee, a UE) hangs up; the final response comes late (its request
     * gone): the leg in ENDING goes all the same. */
    bye = indialog(f, f->ue_port, "BYE", 1, false);
    pcscf_dialog_on_request(f->ctx, bye, true);
    assert_int_equal(d->state, PCSCF_DLG_ENDING);
    feed(f, NULL, resp(f, f->s_port, 100, "BYE", 1, "b1", NULL, NULL));
    assert_int_equal(pcscf_dialog_count(f->ctx), 1);
    feed(f, NULL, resp(f, f->s_port, 481, "BYE", 1, "b1", NULL, NULL));
    assert_int_equal(pcscf_dialog_count(f->ctx), 0);
    sip_msg_free(bye);
    sip_msg_free(req);
}

static void count_cb(void *arg, pcscf_dialog_t *d)
{
    size_t *n = arg;

    assert_int_equal(d->dir, PCSCF_DLG_TERM);
    (*n)++;
}

/* alice calls bob, both behind this P-CSCF: the INVITE passes twice. */
static void test_two_legs(void **state)
{
    fx_t *f = *state;
    char rr_t[192], rr_req[128];
    sip_msg_t *inv_o = invite(f, f->ue_port, "alice", NULL), *inv_t, *bye_o, *bye_t;
    size_t n = 0;

    snprintf(rr_req, sizeof(rr_req), "<sip:127.0.0.1:%u;lr>, <sip:127.0.0.1:%u;lr>", f->s_port,
             f->port);
    inv_t = invite(f, f->s_port, "alice", rr_req);
    snprintf(rr_t, sizeof(rr_t), "<sip:127.0.0.1:%u;lr>, %s", f->port, rr_req);
    feed(f, inv_t, resp(f, f->ue2_port, 200, "INVITE", 7, "b1", rr_t, "sip:bob@127.0.0.1:2"));
    feed(f, inv_o, resp(f, f->s_port, 200, "INVITE", 7, "b1", rr_t, "sip:bob@127.0.0.1:2"));
    assert_int_equal(pcscf_dialog_count(f->ctx), 2);
    assert_ptr_equal(pcscf_dialog_get(f->ctx, PCSCF_DLG_ORIG, CID, "a1")->ue, f->ue);
    assert_ptr_equal(pcscf_dialog_get(f->ctx, PCSCF_DLG_TERM, CID, "a1")->ue, f->ue2);
    /* Toward bob the orig leg routes via the S-CSCF, then our own term-leg entry. */
    assert_int_equal(pcscf_dialog_get(f->ctx, PCSCF_DLG_ORIG, CID, "a1")->nroute[1], 2);
    assert_int_equal(pcscf_dialog_get(f->ctx, PCSCF_DLG_TERM, CID, "a1")->nroute[0], 2);
    assert_int_equal(pcscf_dialogs_of_ue(f->ctx, f->ue2, count_cb, &n), 1);
    assert_int_equal(n, 1);

    /* alice's BYE: from her (orig leg), then from the S-CSCF toward bob (term leg). */
    bye_o = indialog(f, f->ue_port, "BYE", 8, true);
    bye_t = indialog(f, f->s_port, "BYE", 8, true);
    pcscf_dialog_on_request(f->ctx, bye_o, true);
    pcscf_dialog_on_request(f->ctx, bye_t, false);
    feed(f, bye_t, resp(f, f->ue2_port, 200, "BYE", 8, "b1", NULL, NULL));
    n = pcscf_dialog_count(f->ctx);
    assert_int_equal(n, 1);
    assert_null(pcscf_dialog_get(f->ctx, PCSCF_DLG_TERM, CID, "a1"));
    assert_null(f->ue2->dialogs);
    feed(f, bye_o, resp(f, f->s_port, 200, "BYE", 8, "b1", NULL, NULL));
    assert_int_equal(pcscf_dialog_count(f->ctx), 0);
    sip_msg_free(bye_o);
    sip_msg_free(bye_t);
    sip_msg_free(inv_o);
    sip_msg_free(inv_t);
}

/* One datagram from fd within 2 s, parsed. */
static sip_msg_t *catch_msg(int fd, char *text, size_t len)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    sip_msg_t *m = NULL;
    const char *reason;
    sip_rcv_t rcv;
    ssize_t n;

    assert_int_equal(poll(&p, 1, 2000), 1);
    n = recv(fd, text, len - 1, 0);
    assert_true(n > 0);
    text[n] = '\0';
    memset(&rcv, 0, sizeof(rcv));
    assert_int_equal(sip_msg_parse(text, (size_t)n, &rcv, 65535, &m, &reason), SIP_PARSE_OK);
    return m;
}

static void test_release(void **state)
{
    fx_t *f = *state;
    sip_msg_t *req = invite(f, f->ue_port, "alice", NULL), *re, *b;
    const char *ue_key = pcscf_ue_key(f->ue);
    char text[4096], want[64];
    osip_route_t *rt = NULL;

    orig_call(f, req);
    /* alice's re-INVITE (CSeq 9) moves the caller's CSeq on. */
    re = indialog(f, f->ue_port, "INVITE", 9, true);
    pcscf_dialog_on_request(f->ctx, re, true);
    sip_msg_free(re);
    assert_string_equal(ue_key, pcscf_ue_key(f->ue));
    pcscf_ue_remove(f->ctx, f->ue);   /* the registration ends */
    f->ue = NULL;
    assert_int_equal(pcscf_dialog_count(f->ctx), 0);
    assert_int_equal(f->ctx->stats.byes_sent, 2);
    assert_int_equal(f->ctx->stats.dialogs_released, 1);

    /* To alice: her contact, as bob (his tag), bob's first CSeq. */
    b = catch_msg(f->ue_fd, text, sizeof(text));
    assert_string_equal(sip_msg_method(b), "BYE");
    assert_non_null(strstr(text, "BYE sip:alice@127.0.0.1:"));
    assert_string_equal(sip_msg_from_tag(b), "b1");
    assert_string_equal(sip_msg_to_tag(b), "a1");
    assert_string_equal(sip_msg_call_id(b), CID);
    assert_int_equal(sip_msg_cseq_num(b), 1);
    assert_string_equal(sip_msg_header(b, "Reason"), "SIP;cause=503;text=\"De-registered\"");
    assert_int_equal(osip_list_size(&b->m->routes), 0);
    sip_msg_free(b);

    /* To bob: by the S-CSCF's Route, as alice, after her CSeq 9. */
    b = catch_msg(f->s_fd, text, sizeof(text));
    assert_non_null(strstr(text, "BYE sip:bob@10.0.0.9:5070 SIP/2.0"));
    assert_string_equal(sip_msg_from_tag(b), "a1");
    assert_string_equal(sip_msg_to_tag(b), "b1");
    assert_int_equal(sip_msg_cseq_num(b), 10);
    assert_non_null(strstr(text, "Alice"));
    assert_string_equal(sip_msg_header(b, "Reason"), "SIP;cause=503;text=\"De-registered\"");
    osip_message_get_route(b->m, 0, &rt);
    assert_non_null(rt);
    snprintf(want, sizeof(want), "%u", f->s_port);
    assert_string_equal(rt->url->port, want);
    sip_msg_free(b);
    sip_msg_free(req);
}

/* Early dialogs go without a BYE; the context frees what is left at the end. */
static void test_release_early_and_free(void **state)
{
    fx_t *f = *state;
    sip_msg_t *req = invite(f, f->ue_port, "alice", NULL);
    struct pollfd p = { .fd = f->s_fd, .events = POLLIN };

    feed(f, req, resp(f, f->s_port, 180, "INVITE", 7, "b1", NULL, "sip:bob@10.0.0.9"));
    assert_int_equal(pcscf_dialogs_release(f->ctx, f->ue, "Gone"), 0);
    assert_int_equal(pcscf_dialog_count(f->ctx), 0);
    assert_int_equal(poll(&p, 1, 100), 0);
    /* A confirmed one left at shutdown: freed with the context (ASan checks). */
    orig_call(f, req);
    assert_int_equal(pcscf_dialog_count(f->ctx), 1);
    sip_msg_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_orig_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_invite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_term_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_legs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_early_and_free, setup, teardown),
    };

    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
