/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sec-agree in the P-CSCF (pcscf/secagree.c) with the real proxy core, real
 * UDP sockets on loopback and real netlink xfrm, in a network namespace of
 * its own (unshare(CLONE_NEWNET): the host's SAs and policies are never
 * touched; needs root). The UE and the I-CSCF are plain sockets of the test.
 *
 * This machine's kernel has no ESP, so an ESP SA cannot be installed here:
 * most tests replace only the two SA calls (pcscf_sec_ops_t) by a recorder,
 * while the policies go to the kernel and are checked in its dump. One test
 * keeps the real SA calls and checks that the failed install turns the 401
 * into a 500 and leaves no policy, SA, SPI or port behind. On a kernel with
 * ESP (tests/vm) that test sees the SAs installed instead, and checks that.
 *
 * What the P-CSCF cannot do yet is listen on its protected ports (the
 * transport opens no ports at run time): the requests "over the SA" are
 * handed to the transaction layer as if received on port_ps from
 * UE-IP:port_uc, which is what the transport will report for them.
 *
 *   register_flow         offer -> 401 with Security-Server (exact text, no
 *                         ck/ik) -> 4 policies + 4 SAs (SPIs, keys) -> second
 *                         REGISTER verified, integrity-protected="yes" ->
 *                         2xx: ACTIVE -> de-REGISTER: 2xx to the UE, SAs kept
 *                         retire_ms, then gone, SPIs/ports released
 *   verify_mismatch       a Security-Verify that differs: 403, not forwarded,
 *                         the pending SAs removed
 *   install_fails         real SA calls: 500 to the UE (no challenge), nothing left
 *   malformed / 494       400 with the parser's reason; 494 with our list when
 *                         nothing is acceptable and sec-agree is required;
 *                         forwarded without IPsec when it is not required
 *   await_expiry          no second REGISTER within reg-await-auth: removed
 *   rechallenge           a re-registration challenged again: new set, the old
 *                         one retires once the new one carried the REGISTER;
 *                         the UE kept its port_uc: new port_ps (SA1 would clash)
 *   rotation              a re-registration from a new port_uc (TS 33.203 §7.4):
 *                         the new set keeps port_ps (listener open throughout,
 *                         port held twice, released with the last set), new
 *                         port_pc and SPIs, 8 policies side by side; the UE's
 *                         record moves to the new port_uc at the 2xx (one UE, a
 *                         refresh); requests over the new set pass after the old
 *                         retired; a de-registration that rotates again removes
 *                         the UE and, after retire_ms, everything
 *   rotation_restart      the same rotation with a journal: a restarted P-CSCF
 *                         finds the UE at its new port_uc with the rotated set
 *                         (same port_ps), nothing under the old one
 *   tcp_to_ue_from_port_c a request to the UE's port_us over TCP goes on a
 *                         connection from our port_pc (the SA selectors'); after
 *                         a rotation, on a new one from the new port_pc
 *   config / start-up     pcscf.ipsec keys and errors; start on this kernel
 *                         per require_esp
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/core/clock.h"
#include "common/sip/transport.h"
#include "pcscf/context.c"
#include "pcscf/dialog.c"
#include "pcscf/headers.c"
#include "pcscf/identity.c"
#include "pcscf/init.c"
#include "pcscf/register-handler.c"
#include "pcscf/regevent-path.c"
#include "pcscf/reginfo.c"
#include "pcscf/secagree-cfg.c"
#include "pcscf/secagree.c"
#include "pcscf/secagree-keys.c"
#include "pcscf/secagree-store.c"
#include "pcscf/secagree-ports.c"
#include "pcscf/secagree-rotate.c"
#include "pcscf/secagree-set.c"
#include "pcscf/sip-handler.c"
#include "pcscf/ue-store.c"

#define HOME "ims.example.org"
#define PORT_MIN 40000
#define PORT_MAX 40099
#define SPI_UC 11111u
#define SPI_US 22222u
/* CK and IK the fake S-CSCF puts in its 401 */
#define CK_HEX "00112233445566778899aabbccddeeff"
#define IK_HEX "f769bcd751044604127672711c6d3441"

/* --- the recorder that stands in for the SA calls --------------------------- */

typedef struct rec {
    ims_xfrm_sa_t added[16];
    ims_ipsec_keys_t keys[16];
    size_t nadded;
    uint32_t deleted[16];
    size_t ndeleted;
} rec_t;

static int rec_add(void *arg, ims_xfrm_t *x, const ims_xfrm_sa_t *sa,
                   const ims_ipsec_keys_t *keys)
{
    rec_t *r = arg;

    assert_true(r->nadded < 16);
    r->added[r->nadded] = *sa;
    r->keys[r->nadded++] = *keys;
    return IMS_OK;
}

static int rec_del(void *arg, ims_xfrm_t *x, const ims_xfrm_addr_t *dst, uint32_t spi)
{
    rec_t *r = arg;

    assert_true(r->ndeleted < 16);
    r->deleted[r->ndeleted++] = spi;
    return IMS_OK;
}

static const pcscf_sec_ops_t g_rec_ops = { rec_add, rec_del };

/* --- fixture ------------------------------------------------------------------ */

typedef struct fx {
    ims_loop_t *loop;
    sip_transport_t *tp;
    sip_txn_layer_t *layer;
    sip_proxy_t *px;
    pcscf_ctx_t *ctx;
    pcscf_secagree_t *sec;
    rec_t rec;
    uint16_t port;                  /* the P-CSCF's unprotected port */
    int ue_fd, uc_fd, us_fd, i_fd;  /* UE unprotected, UE port_uc / port_us, I-CSCF */
    uint16_t ue_port, port_uc, port_us, i_port;
    char icscf[64];
    /* what the 401 told the UE */
    uint32_t spi_pc, spi_ps;
    uint16_t port_pc, port_ps;
    char server[512];
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

/* What sip-handler.c will do once it passes the context to the 401 (see the report). */
static void on_response(void *arg, sip_proxy_req_t *pr, sip_msg_t *resp)
{
    const char *m = sip_msg_cseq_method(resp);

    if (m && strcmp(m, "REGISTER") == 0 && sip_msg_status(resp) == 401)
        pcscf_register_on_401(arg, pr, resp);
    else
        pcscf_on_response(arg, pr, resp);
}

static pcscf_sec_cfg_t test_cfg(void)
{
    pcscf_sec_cfg_t c;

    pcscf_sec_cfg_defaults(&c);
    c.enabled = true;
    c.port_min = PORT_MIN;
    c.port_max = PORT_MAX;
    c.spi_min = 70000;
    c.spi_max = 79999;
    c.retire_ms = 5000;
    c.await_ms = 240000;
    return c;
}

static fx_t *fx_new(bool record_sas)
{
    static const sip_proxy_handler_t handler = {
        .on_request = pcscf_on_request, .on_response = on_response, .on_ack = pcscf_on_ack
    };
    fx_t *f = calloc(1, sizeof(*f));
    pcscf_sec_cfg_t c = test_cfg();
    sip_proxy_cfg_t pc;
    ims_xfrm_t *x;
    sip_addr_t me;

    assert_non_null(f);
    ims_clock_drive(true, 1000000);
    f->loop = ims_loop_new();
    f->tp = sip_transport_new(f->loop, NULL, on_message, f);
    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_UDP, "127.0.0.1", 0), IMS_OK);
    assert_int_equal(sip_transport_local(f->tp, SIP_PROTO_UDP, AF_INET, &me), IMS_OK);
    f->port = sip_addr_port(&me);
    f->layer = sip_txn_layer_new(f->loop, f->tp, NULL);
    f->ctx = pcscf_ctx_new(f->loop);
    sip_proxy_cfg_defaults(&pc);
    pc.proxy_require_ok = "sec-agree";     /* as config/pcscf.cfg */
    f->px = sip_proxy_new(f->layer, &pc, &handler, f->ctx);
    f->ue_fd = udp_open(&f->ue_port);
    f->uc_fd = udp_open(&f->port_uc);
    f->us_fd = udp_open(&f->port_us);
    f->i_fd = udp_open(&f->i_port);
    snprintf(f->icscf, sizeof(f->icscf), "sip:127.0.0.1:%u;lr", f->i_port);
    f->ctx->enabled = true;
    f->ctx->cfg.reg_event = false;
    f->ctx->cfg.icscf = f->icscf;
    assert_int_equal(osip_uri_init(&f->ctx->icscf_uri), 0);
    assert_int_equal(osip_uri_parse(f->ctx->icscf_uri, f->icscf), 0);
    assert_non_null(x = ims_xfrm_open());
    assert_non_null(f->sec = pcscf_secagree_new(f->loop, &c, x));
    if (record_sas)
        pcscf_secagree_set_ops(f->sec, &g_rec_ops, &f->rec);
    pcscf_secagree_set_transport(f->sec, f->tp);
    pcscf_sec_attach(f->ctx, f->sec);
    return f;
}

static void fx_free(fx_t *f)
{
    pcscf_ctx_free(f->ctx);     /* sec-agree with it: SAs and policies removed */
    sip_proxy_free(f->px);
    sip_txn_layer_free(f->layer);
    sip_transport_free(f->tp);
    ims_loop_free(f->loop);
    close(f->ue_fd);
    close(f->uc_fd);
    close(f->us_fd);
    close(f->i_fd);
    ims_clock_drive(false, 0);
    free(f);
}

/* --- messages ------------------------------------------------------------------ */

/* Run the loop until a datagram is waiting on one of fds (or give up): its
 * text, parsed; *which gets the index of the fd. NULL when none came. */
static sip_msg_t *recv_any(fx_t *f, const int *fds, size_t n, size_t *which, char **text)
{
    static char buf[8192];

    for (int round = 0; round < 300; round++) {
        ims_loop_run_once(f->loop, 5);
        for (size_t i = 0; i < n; i++) {
            struct pollfd p = { .fd = fds[i], .events = POLLIN };
            ssize_t len;
            sip_msg_t *m = NULL;
            const char *reason;
            sip_rcv_t rcv;

            if (poll(&p, 1, 0) != 1)
                continue;
            len = recv(fds[i], buf, sizeof(buf) - 1, 0);
            assert_true(len > 0);
            buf[len] = '\0';
            memset(&rcv, 0, sizeof(rcv));
            assert_int_equal(sip_msg_parse(buf, (size_t)len, &rcv, 65535, &m, &reason),
                             SIP_PARSE_OK);
            if (which)
                *which = i;
            if (text)
                *text = buf;
            return m;
        }
    }
    return NULL;
}

static sip_msg_t *recv_on(fx_t *f, int fd, char **text)
{
    return recv_any(f, &fd, 1, NULL, text);
}

/* Nothing arrives on fd for a while. */
static void silent(fx_t *f, int fd)
{
    for (int i = 0; i < 20; i++)
        ims_loop_run_once(f->loop, 5);
    {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        assert_int_equal(poll(&p, 1, 0), 0);
    }
}

static void send_to(int fd, uint16_t port, const char *text)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };

    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(fd, text, strlen(text), 0, (struct sockaddr *)&to, sizeof(to)),
                     (ssize_t)strlen(text));
}

/*
 * A REGISTER of the UE: cseq, Via sent-by port, expires, and extra headers
 * (Security-*, Require) at the end.
 */
static void make_register(char *buf, size_t len, uint32_t cseq, uint16_t via_port,
                          uint16_t contact_port, unsigned expires, const char *extra)
{
    snprintf(buf, len,
             "REGISTER sip:" HOME " SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-reg%u;rport\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@" HOME ">;tag=ue1\r\n"
             "To: <sip:alice@" HOME ">\r\n"
             "Call-ID: reg-sec-1\r\n"
             "CSeq: %u REGISTER\r\n"
             "Contact: <sip:alice@127.0.0.1:%u>;expires=%u\r\n"
             "Expires: %u\r\n"
             "Authorization: Digest username=\"alice@" HOME "\", realm=\"" HOME "\","
             " uri=\"sip:" HOME "\", nonce=\"\", response=\"\"\r\n"
             "%s"
             "Content-Length: 0\r\n\r\n",
             via_port, cseq, cseq, contact_port, expires, expires, extra);
}

/* The UE's offer: ports port_uc/port_us, SPIs spi_c/spi_s, sha1+aes then md5+null. */
static void client_hdr(const fx_t *f, char *buf, size_t len, uint32_t spi_c, uint32_t spi_s)
{
    snprintf(buf, len,
             "Security-Client: ipsec-3gpp; alg=hmac-md5-96; ealg=null; spi-c=%u; spi-s=%u;"
             " port-c=%u; port-s=%u, ipsec-3gpp; alg=hmac-sha-1-96; ealg=aes-cbc;"
             " spi-c=%u; spi-s=%u; port-c=%u; port-s=%u; prot=esp; mod=trans\r\n"
             "Require: sec-agree\r\nProxy-Require: sec-agree\r\n"
             "Supported: path, sec-agree\r\n",
             spi_c, spi_s, f->port_uc, f->port_us, spi_c, spi_s, f->port_uc, f->port_us);
}

/* The first, unprotected REGISTER from the UE's own port. */
static void first_register(fx_t *f, uint32_t cseq, const char *extra)
{
    char buf[4096];

    make_register(buf, sizeof(buf), cseq, f->ue_port, f->ue_port, 600000, extra);
    send_to(f->ue_fd, f->port, buf);
}

/* A request "over the SA": a datagram from UE-IP:port_uc to our port_ps,
 * which the P-CSCF opened with the SAs. */
static void over_sa(fx_t *f, const char *text)
{
    send_to(f->uc_fd, f->port_ps, text);
}

/* The I-CSCF answers req with code and extra headers. */
static void icscf_answer(fx_t *f, const sip_msg_t *req, int code, const char *name,
                         const char *value, const char *name2, const char *value2)
{
    sip_msg_t *r = sip_msg_make_response(req, code, NULL, "scscf1");
    char *text = NULL;
    size_t len;

    assert_non_null(r);
    if (name)
        assert_int_equal(sip_msg_header_add(r, name, value), IMS_OK);
    if (name2)
        assert_int_equal(sip_msg_header_add(r, name2, value2), IMS_OK);
    assert_int_equal(sip_msg_to_str(r, &text, &len), IMS_OK);
    send_to(f->i_fd, f->port, text);
    osip_free(text);
    sip_msg_free(r);
}

/* The UE's protected contact as the registrar's 2xx lists it (600 s). */
static const char *contact_ok(const fx_t *f)
{
    static char buf[96];

    snprintf(buf, sizeof(buf), "<sip:alice@127.0.0.1:%u>;expires=600", f->port_us);
    return buf;
}

static void challenge(fx_t *f, const sip_msg_t *req)
{
    icscf_answer(f, req, 401, "WWW-Authenticate",
                 "Digest realm=\"" HOME "\", nonce=\"bm9uY2U=\", algorithm=AKAv1-MD5,"
                 " qop=\"auth\", ck=\"" CK_HEX "\", ik=\"" IK_HEX "\"",
                 NULL, NULL);
}

/* A 401 at the UE (text as received): Security-Server read into f with the real
 * parser. m is freed. */
static void check_401(fx_t *f, sip_msg_t *m, const char *text)
{
    sec_agree_list_t l;
    const char *ss;

    assert_non_null(m);
    assert_int_equal(sip_msg_status(m), 401);
    assert_null(strstr(text, "ck="));
    assert_null(strstr(text, "ik="));
    assert_non_null(strstr(text, "nonce=\"bm9uY2U=\""));
    assert_non_null(ss = sip_msg_header(m, "Security-Server"));
    snprintf(f->server, sizeof(f->server), "%s", ss);
    assert_int_equal(sec_agree_parse_msg(&l, m, "Security-Server", NULL), IMS_OK);
    assert_int_equal(l.count, 1);
    f->spi_pc = l.mech[0].spi_c;
    f->spi_ps = l.mech[0].spi_s;
    f->port_pc = l.mech[0].port_c;
    f->port_ps = l.mech[0].port_s;
    sip_msg_free(m);
}

static void take_401(fx_t *f)
{
    char *text = NULL;
    sip_msg_t *m = recv_on(f, f->ue_fd, &text);

    check_401(f, m, text);
}

/* Offer, the I-CSCF's 401, the UE's 401: the set is PENDING. */
static void to_pending(fx_t *f)
{
    char extra[1024];
    sip_msg_t *req;
    char *text;

    client_hdr(f, extra, sizeof(extra), SPI_UC, SPI_US);
    first_register(f, 1, extra);
    assert_non_null(req = recv_on(f, f->i_fd, &text));
    assert_null(strstr(text, "Security-Client"));
    assert_null(strstr(text, "sec-agree"));
    assert_non_null(strstr(text, "integrity-protected=\"no\""));
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_OFFERED), 1);
    challenge(f, req);
    sip_msg_free(req);
    take_401(f);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_OFFERED), 0);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_PENDING), 1);
}

/* The protected REGISTER (Security-Verify = verify) with cseq and expires. */
static void second_register(fx_t *f, uint32_t cseq, unsigned expires, const char *verify,
                            uint32_t spi_c, uint32_t spi_s)
{
    char buf[4096], extra[2048], client[1024];

    client_hdr(f, client, sizeof(client), spi_c, spi_s);
    snprintf(extra, sizeof(extra), "%sSecurity-Verify: %s\r\n", client, verify);
    make_register(buf, sizeof(buf), cseq, f->port_us, f->port_us, expires, extra);
    over_sa(f, buf);
}

/* A final response at the UE, on either of its protected ports. */
static int ue_final(fx_t *f)
{
    int fds[2] = { f->uc_fd, f->us_fd };
    sip_msg_t *m = recv_any(f, fds, 2, NULL, NULL);
    int code;

    assert_non_null(m);
    code = sip_msg_status(m);
    sip_msg_free(m);
    return code;
}

/* --- kernel checks -------------------------------------------------------------- */

typedef struct pols {
    ims_xfrm_policy_t p[64];
    size_t n;
} pols_t;

static int pol_cb(void *arg, const ims_xfrm_policy_t *p)
{
    pols_t *s = arg;

    if (s->n < 64)
        s->p[s->n] = *p;
    s->n++;
    return IMS_OK;
}

static size_t policies(fx_t *f, pols_t *out)
{
    static pols_t tmp;
    pols_t *s = out ? out : &tmp;

    memset(s, 0, sizeof(*s));
    assert_int_equal(ims_xfrm_policy_dump(f->sec->x, pol_cb, s), IMS_OK);
    return s->n;
}

static bool has_policy(const pols_t *s, uint16_t sport, uint16_t dport, ims_xfrm_dir_t dir,
                       uint32_t reqid)
{
    for (size_t i = 0; i < s->n && i < 64; i++) {
        const ims_xfrm_policy_t *p = &s->p[i];

        if (p->sel.sport == sport && p->sel.dport == dport && p->dir == dir &&
            p->reqid == reqid && p->sel.owner == PCSCF_SEC_OWNER && p->sel.l4proto == 0 &&
            p->sel.src.family == AF_INET)
            return true;
    }
    return false;
}

static int sa_cb(void *arg, const ims_xfrm_sa_t *sa)
{
    uint32_t *spis = arg;

    if (spis[0] < 8)
        spis[1 + spis[0]] = sa->spi;
    spis[0]++;
    return IMS_OK;
}

/* SAs in the kernel: how many, their SPIs into spis[1..] (spis[0]: count). */
static size_t kernel_sas(ims_xfrm_t *x, uint32_t spis[9])
{
    memset(spis, 0, 9 * sizeof(*spis));
    assert_int_equal(ims_xfrm_sa_dump(x, sa_cb, spis), IMS_OK);
    return spis[0];
}

static bool has_spi(const uint32_t spis[9], uint32_t spi)
{
    for (uint32_t i = 0; i < spis[0] && i < 8; i++)
        if (spis[1 + i] == spi)
            return true;
    return false;
}

static size_t alloc_live(const fx_t *f)
{
    const ipsec_alloc_t *a = pcscf_secagree_alloc(f->sec);

    return ipsec_alloc_spis_live(a) + ipsec_alloc_ports_live(a);
}

/* The four policies and SAs of ims-reference §2.3 for the set the 401 announced. */
static void check_installed(fx_t *f)
{
    static const uint8_t ik_esp[20] = { 0xf7, 0x69, 0xbc, 0xd7, 0x51, 0x04, 0x46, 0x04, 0x12,
                                        0x76, 0x72, 0x71, 0x1c, 0x6d, 0x34, 0x41, 0, 0, 0, 0 };
    static const uint8_t ck[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    const uint32_t spis[4] = { f->spi_ps, SPI_US, SPI_UC, f->spi_pc };
    pols_t s;

    assert_int_equal(policies(f, &s), 4);
    assert_true(has_policy(&s, f->port_uc, f->port_ps, IMS_XFRM_DIR_IN, f->spi_ps));
    assert_true(has_policy(&s, f->port_pc, f->port_us, IMS_XFRM_DIR_OUT, f->spi_ps));
    assert_true(has_policy(&s, f->port_ps, f->port_uc, IMS_XFRM_DIR_OUT, f->spi_ps));
    assert_true(has_policy(&s, f->port_us, f->port_pc, IMS_XFRM_DIR_IN, f->spi_ps));
    assert_int_equal(f->rec.nadded, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(f->rec.added[i].spi, spis[i]);
        assert_int_equal(f->rec.added[i].reqid, f->spi_ps);
        assert_int_equal(f->rec.keys[i].alg, SEC_AGREE_ALG_HMAC_SHA1_96);
        assert_int_equal(f->rec.keys[i].ealg, SEC_AGREE_EALG_AES_CBC);
        assert_int_equal(f->rec.keys[i].ik_len, 20);
        assert_memory_equal(f->rec.keys[i].ik, ik_esp, 20);
        assert_int_equal(f->rec.keys[i].ck_len, 16);
        assert_memory_equal(f->rec.keys[i].ck, ck, 16);
    }
}

/* --- tests ---------------------------------------------------------------------- */

/* Whether the P-CSCF listens on 127.0.0.1:port (UDP): opening it again is
 * refused exactly while it does. */
static bool port_open(fx_t *f, uint16_t port)
{
    sip_addr_t a;

    sip_addr_from(&a, "127.0.0.1", port);
    if (sip_transport_listen_at(f->tp, SIP_PROTO_UDP, &a) == IMS_DECLINED)
        return true;
    sip_transport_unlisten(f->tp, SIP_PROTO_UDP, &a);
    return false;
}

static void test_register_flow(void **state)
{
    fx_t *f = fx_new(true);
    char expect[512], *text;
    sip_msg_t *req;

    to_pending(f);
    /* Security-Server: our SPIs and ports from the ranges, the UE's first choice */
    assert_true(f->spi_pc >= 70000 && f->spi_pc <= 79999 && f->spi_ps >= 70000 &&
                f->spi_ps <= 79999 && f->spi_pc != f->spi_ps);
    assert_true(f->port_pc >= PORT_MIN && f->port_ps <= PORT_MAX && f->port_pc != f->port_ps);
    snprintf(expect, sizeof(expect),
             "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=%u;spi-s=%u;port-c=%u;"
             "port-s=%u;prot=esp;mod=trans", f->spi_pc, f->spi_ps, f->port_pc, f->port_ps);
    assert_string_equal(f->server, expect);
    check_installed(f);
    assert_int_equal(alloc_live(f), 4);
    assert_true(port_open(f, f->port_ps) && port_open(f, f->port_pc));

    /* the second REGISTER over the SA: verified, integrity-protected="yes" */
    second_register(f, 2, 600000, f->server, SPI_UC, SPI_US);
    assert_non_null(req = recv_on(f, f->i_fd, &text));
    assert_non_null(strstr(text, "integrity-protected=\"yes\""));
    assert_null(strstr(text, "Security-Verify"));
    assert_null(strstr(text, "Security-Client"));
    icscf_answer(f, req, 200, "Contact", contact_ok(f),
                 "P-Associated-URI", "<sip:alice@" HOME ">");
    sip_msg_free(req);
    assert_int_equal(ue_final(f), 200);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_ACTIVE), 1);
    assert_int_equal(pcscf_secagree_stats(f->sec)->verified, 1);
    assert_true(pcscf_ue_count(f->ctx) == 1);

    /* de-registration over the SA: the 200 goes out, the SAs stay retire_ms */
    second_register(f, 3, 0, f->server, SPI_UC, SPI_US);
    assert_non_null(req = recv_on(f, f->i_fd, &text));
    assert_non_null(strstr(text, "integrity-protected=\"yes\""));
    icscf_answer(f, req, 200, NULL, NULL, NULL, NULL);
    sip_msg_free(req);
    assert_int_equal(ue_final(f), 200);
    assert_int_equal(pcscf_ue_count(f->ctx), 0);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_RETIRING), 1);
    assert_int_equal(policies(f, NULL), 4);
    assert_int_equal(f->rec.ndeleted, 0);
    ims_clock_advance(4999);
    ims_loop_run_timers(f->loop);
    assert_int_equal(policies(f, NULL), 4);
    ims_clock_advance(1);
    ims_loop_run_timers(f->loop);
    assert_int_equal(policies(f, NULL), 0);
    assert_int_equal(f->rec.ndeleted, 4);
    assert_int_equal(alloc_live(f), 0);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_RETIRING), 0);
    assert_false(port_open(f, f->port_ps) || port_open(f, f->port_pc));
    fx_free(f);
}

static void test_verify_mismatch(void **state)
{
    fx_t *f = fx_new(true);
    char bad[512];

    to_pending(f);
    /* an spi-s that is not ours: a bidding-down or a broken UE (TS 33.203 §7.2) */
    snprintf(bad, sizeof(bad),
             "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=%u;spi-s=%u;port-c=%u;"
             "port-s=%u;prot=esp;mod=trans", f->spi_pc, f->spi_ps + 1000, f->port_pc,
             f->port_ps);
    second_register(f, 2, 600000, bad, SPI_UC, SPI_US);
    assert_int_equal(ue_final(f), 403);
    silent(f, f->i_fd);
    assert_int_equal(pcscf_secagree_stats(f->sec)->verify_failed, 1);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_PENDING), 0);
    assert_int_equal(policies(f, NULL), 0);
    assert_int_equal(f->rec.ndeleted, 4);
    assert_int_equal(alloc_live(f), 0);
    fx_free(f);
}

static void test_client_changed(void **state)
{
    fx_t *f = fx_new(true);

    to_pending(f);
    /* the right Security-Verify but a Security-Client that changed its SPIs */
    second_register(f, 2, 600000, f->server, SPI_UC + 1, SPI_US);
    assert_int_equal(ue_final(f), 403);
    silent(f, f->i_fd);
    assert_int_equal(policies(f, NULL), 0);
    fx_free(f);
}

static void test_install_fails(void **state)
{
    fx_t *f = fx_new(false);    /* the kernel's own SA calls */
    ims_xfrm_t *probe = ims_xfrm_open();
    bool esp = ims_xfrm_probe_esp(probe) == IMS_OK;
    char extra[1024], *text;
    uint32_t spis[9];
    sip_msg_t *req, *m;

    ims_xfrm_close(probe);
    client_hdr(f, extra, sizeof(extra), SPI_UC, SPI_US);
    first_register(f, 1, extra);
    assert_non_null(req = recv_on(f, f->i_fd, NULL));
    challenge(f, req);
    sip_msg_free(req);
    assert_non_null(m = recv_on(f, f->ue_fd, &text));
    if (esp) {
        /* a kernel with ESP (tests/vm): the real thing got installed, and goes with free */
        check_401(f, m, text);
        assert_int_equal(policies(f, NULL), 4);
        assert_int_equal(kernel_sas(f->sec->x, spis), 4);
        assert_true(has_spi(spis, f->spi_pc) && has_spi(spis, f->spi_ps) &&
                    has_spi(spis, SPI_UC) && has_spi(spis, SPI_US));
        assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_PENDING), 1);
        fx_free(f);
        assert_non_null(probe = ims_xfrm_open());
        assert_int_equal(kernel_sas(probe, spis), 0);
        ims_xfrm_close(probe);
        return;
    } else {
        assert_int_equal(sip_msg_status(m), 500);
        assert_null(strstr(text, "WWW-Authenticate"));
        assert_null(strstr(text, "Security-Server"));
        assert_null(strstr(text, "ck="));
        assert_int_equal(policies(f, NULL), 0);
        assert_int_equal(kernel_sas(f->sec->x, spis), 0);
        assert_int_equal(alloc_live(f), 0);
        assert_int_equal(pcscf_secagree_stats(f->sec)->install_failed, 1);
        assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_PENDING), 0);
        assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_OFFERED), 0);
    }
    sip_msg_free(m);
    fx_free(f);
}

static void test_malformed_client(void **state)
{
    fx_t *f = fx_new(true);
    sip_msg_t *m;
    char *text;

    /* spi-c=0 is invalid (RFC 4303 §2.1) */
    first_register(f, 1, "Security-Client: ipsec-3gpp; alg=hmac-sha-1-96; spi-c=0;"
                         " spi-s=300; port-c=5000; port-s=5001\r\nRequire: sec-agree\r\n");
    assert_non_null(m = recv_on(f, f->ue_fd, &text));
    assert_int_equal(sip_msg_status(m), 400);
    assert_non_null(m->m->reason_phrase);
    assert_true(strlen(m->m->reason_phrase) > 0);
    assert_string_not_equal(m->m->reason_phrase, "Bad Request");
    sip_msg_free(m);
    silent(f, f->i_fd);
    assert_int_equal(pcscf_secagree_stats(f->sec)->malformed, 1);
    fx_free(f);
}

static void test_494_when_required(void **state)
{
    fx_t *f = fx_new(true);
    sip_msg_t *m;
    char *text;
    const char *md5only = "Security-Client: ipsec-3gpp; alg=hmac-md5-96; ealg=des-ede3-cbc;"
                          " spi-c=300; spi-s=301; port-c=5000; port-s=5001\r\n";
    char extra[512];

    /* our list without md5+3des: nothing acceptable */
    snprintf(extra, sizeof(extra), "%sProxy-Require: sec-agree\r\n", md5only);
    first_register(f, 1, extra);
    assert_non_null(m = recv_on(f, f->ue_fd, &text));
    assert_int_equal(sip_msg_status(m), 494);
    assert_non_null(strstr(text, "Security-Server: ipsec-3gpp;alg=hmac-sha-1-96;"
                                 "ealg=aes-cbc;prot=esp;mod=trans, ipsec-3gpp;"
                                 "alg=hmac-sha-1-96;ealg=null;"));
    sip_msg_free(m);
    silent(f, f->i_fd);
    assert_int_equal(pcscf_secagree_stats(f->sec)->refused_494, 1);

    /* not required: it registers without IPsec */
    first_register(f, 2, md5only);
    assert_non_null(m = recv_on(f, f->i_fd, &text));
    assert_null(strstr(text, "Security-Client"));
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_OFFERED), 0);
    sip_msg_free(m);
    fx_free(f);
}

static void test_await_expiry(void **state)
{
    fx_t *f = fx_new(true);

    to_pending(f);
    assert_int_equal(policies(f, NULL), 4);
    ims_clock_advance(240000);
    ims_loop_run_timers(f->loop);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_PENDING), 0);
    assert_int_equal(policies(f, NULL), 0);
    assert_int_equal(f->rec.ndeleted, 4);
    assert_int_equal(alloc_live(f), 0);
    fx_free(f);
}

/* A 401 without ck/ik (an MD5 challenge): no SAs, the 401 goes on untouched. */
static void test_no_keys(void **state)
{
    fx_t *f = fx_new(true);
    char extra[1024];
    sip_msg_t *req, *m;
    char *text;

    client_hdr(f, extra, sizeof(extra), SPI_UC, SPI_US);
    first_register(f, 1, extra);
    assert_non_null(req = recv_on(f, f->i_fd, NULL));
    icscf_answer(f, req, 401, "WWW-Authenticate",
                 "Digest realm=\"" HOME "\", nonce=\"abc\", algorithm=MD5", NULL, NULL);
    sip_msg_free(req);
    assert_non_null(m = recv_on(f, f->ue_fd, &text));
    assert_int_equal(sip_msg_status(m), 401);
    assert_null(strstr(text, "Security-Server"));
    sip_msg_free(m);
    assert_int_equal(f->rec.nadded, 0);
    assert_int_equal(policies(f, NULL), 0);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_OFFERED), 0);
    fx_free(f);
}

/* A REGISTER over the SAs in use (from fd, offering f->port_uc and new SPIs)
 * that the S-CSCF challenges: the 401 at the UE, its Security-Server into f. */
static void rotate_401(fx_t *f, uint32_t cseq, unsigned expires, int fd)
{
    int fds[2] = { fd, f->us_fd };
    sec_agree_list_t l;
    sip_msg_t *m, *req;
    int keep = f->uc_fd;

    f->uc_fd = fd;
    second_register(f, cseq, expires, f->server, SPI_UC + cseq, SPI_US + cseq);
    f->uc_fd = keep;
    assert_non_null(req = recv_on(f, f->i_fd, NULL));
    challenge(f, req);
    sip_msg_free(req);
    assert_non_null(m = recv_any(f, fds, 2, NULL, NULL));
    assert_int_equal(sip_msg_status(m), 401);
    assert_int_equal(sec_agree_parse_msg(&l, m, "Security-Server", NULL), IMS_OK);
    snprintf(f->server, sizeof(f->server), "%s", sip_msg_header(m, "Security-Server"));
    f->spi_pc = l.mech[0].spi_c;
    f->spi_ps = l.mech[0].spi_s;
    f->port_pc = l.mech[0].port_c;
    f->port_ps = l.mech[0].port_s;
    sip_msg_free(m);
}

/* Re-registration challenged again (TS 33.203 §7.4): a new set; the old one
 * carries traffic until the new one has carried a REGISTER, then retires. */
static void test_rechallenge(void **state)
{
    fx_t *f = fx_new(true);
    char old_server[512];
    uint32_t old_ps;
    sip_msg_t *req;

    to_pending(f);
    second_register(f, 2, 600000, f->server, SPI_UC, SPI_US);
    assert_non_null(req = recv_on(f, f->i_fd, NULL));
    icscf_answer(f, req, 200, "Contact", contact_ok(f), NULL, NULL);
    sip_msg_free(req);
    assert_int_equal(ue_final(f), 200);
    snprintf(old_server, sizeof(old_server), "%s", f->server);
    old_ps = f->port_ps;

    /* re-REGISTER over the old SAs with new SPIs; the S-CSCF challenges */
    rotate_401(f, 3, 600000, f->uc_fd);
    assert_int_not_equal(f->port_ps, old_ps);   /* port_uc kept: SA1 would clash */
    assert_int_equal(policies(f, NULL), 8);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_ACTIVE), 1);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_PENDING), 1);
    /* the old SAs still count as protected */
    {
        sip_rcv_t rcv;

        memset(&rcv, 0, sizeof(rcv));
        sip_addr_from(&rcv.remote, "127.0.0.1", f->port_uc);
        sip_addr_from(&rcv.local, "127.0.0.1", old_ps);
        assert_true(pcscf_sec_protected(f->ctx, &rcv));
    }
    /* the answer over the new SAs; its 2xx retires the old set */
    second_register(f, 4, 600000, f->server, SPI_UC + 3, SPI_US + 3);
    assert_non_null(req = recv_on(f, f->i_fd, NULL));
    icscf_answer(f, req, 200, "Contact", contact_ok(f), NULL, NULL);
    sip_msg_free(req);
    assert_int_equal(ue_final(f), 200);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_ACTIVE), 1);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_RETIRING), 1);
    ims_clock_advance(5000);
    ims_loop_run_timers(f->loop);
    assert_int_equal(policies(f, NULL), 4);
    assert_int_equal(alloc_live(f), 4);
    /* the registration ends by expiry: everything goes */
    ims_clock_advance(600000);
    ims_loop_run_timers(f->loop);
    ims_clock_advance(5000);
    ims_loop_run_timers(f->loop);
    assert_int_equal(policies(f, NULL), 0);
    assert_int_equal(alloc_live(f), 0);
    (void)old_server;
    fx_free(f);
}

/* --- configuration and start-up ------------------------------------------------ */

static ims_conf_t *conf_text(const char *text)
{
    char path[] = "/tmp/test_pcscf_sec_cfg.XXXXXX", err[256];
    int fd = mkstemp(path);
    ims_conf_t *conf;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    conf = ims_conf_load(path, err, sizeof(err));
    unlink(path);
    assert_non_null(conf);
    return conf;
}

static void test_config(void **state)
{
    pcscf_sec_cfg_t c;
    char err[512];
    ims_conf_t *conf;

    assert_int_equal(pcscf_sec_load_config(&c, NULL, err, sizeof(err)), IMS_OK);
    assert_false(c.enabled);
    assert_true(c.require_esp);
    assert_int_equal(c.nprefs, 4);
    conf = conf_text("pcscf = { ipsec = { enabled = true; require_esp = false;"
                     " algorithms = (\"hmac-md5-96:null\", \"hmac-sha-1-96:des-ede3-cbc\");"
                     " spi_min = 1000; spi_max = 1999; port_min = 7000; port_max = 7999;"
                     " retire_ms = 100; reg_await_auth_ms = 60000; }; };\n");
    assert_int_equal(pcscf_sec_load_config(&c, conf, err, sizeof(err)), IMS_OK);
    assert_true(c.enabled);
    assert_false(c.require_esp);
    assert_int_equal(c.nprefs, 2);
    assert_int_equal(c.prefs[0].alg, SEC_AGREE_ALG_HMAC_MD5_96);
    assert_int_equal(c.prefs[0].ealg, SEC_AGREE_EALG_NULL);
    assert_int_equal(c.prefs[1].ealg, SEC_AGREE_EALG_DES_EDE3_CBC);
    assert_int_equal(c.spi_min, 1000);
    assert_int_equal(c.spi_max, 1999);
    assert_int_equal(c.port_min, 7000);
    assert_int_equal(c.port_max, 7999);
    assert_int_equal(c.retire_ms, 100);
    assert_int_equal(c.await_ms, 60000);
    ims_conf_free(conf);

    conf = conf_text("pcscf = { ipsec = { algorithms = (\"hmac-sha-256-128:aes-gcm\"); }; };\n");
    assert_int_equal(pcscf_sec_load_config(&c, conf, err, sizeof(err)), IMS_ERROR);
    assert_non_null(strstr(err, "pcscf.ipsec.algorithms"));
    assert_non_null(strstr(err, "hmac-sha-256-128:aes-gcm"));
    ims_conf_free(conf);
    conf = conf_text("pcscf = { ipsec = { spi_min = 100; }; };\n");
    assert_int_equal(pcscf_sec_load_config(&c, conf, err, sizeof(err)), IMS_ERROR);
    assert_non_null(strstr(err, "spi_min"));
    ims_conf_free(conf);
    conf = conf_text("pcscf = { ipsec = { port_min = 7000; port_max = 7000; }; };\n");
    assert_int_equal(pcscf_sec_load_config(&c, conf, err, sizeof(err)), IMS_ERROR);
    assert_non_null(strstr(err, "port_min"));
    ims_conf_free(conf);
}

/* On this kernel (no ESP) require_esp decides; with ESP (tests/vm) it starts. */
static void test_start(void **state)
{
    ims_xfrm_t *x = ims_xfrm_open();
    bool esp = ims_xfrm_probe_esp(x) == IMS_OK;
    pcscf_ctx_t *ctx;
    ims_conf_t *conf;

    ims_xfrm_close(x);
    conf = conf_text("pcscf = { ipsec = { enabled = true; require_esp = true; }; };\n");
    ctx = pcscf_ctx_new(NULL);
    assert_int_equal(pcscf_sec_start(ctx, NULL, conf), esp ? IMS_OK : IMS_ERROR);
    assert_true((ctx->sec != NULL) == esp);
    pcscf_ctx_free(ctx);
    ims_conf_free(conf);

    conf = conf_text("pcscf = { ipsec = { enabled = true; require_esp = false; }; };\n");
    ctx = pcscf_ctx_new(NULL);
    assert_int_equal(pcscf_sec_start(ctx, NULL, conf), IMS_OK);
    assert_true((ctx->sec != NULL) == esp);
    pcscf_ctx_free(ctx);
    ims_conf_free(conf);

    /* disabled: nothing opened, nothing attached */
    conf = conf_text("pcscf = { ipsec = { enabled = false; }; };\n");
    ctx = pcscf_ctx_new(NULL);
    assert_int_equal(pcscf_sec_start(ctx, NULL, conf), IMS_OK);
    assert_null(ctx->sec);
    assert_null(ctx->sec_hooks);
    pcscf_ctx_free(ctx);
    ims_conf_free(conf);
}

/* A namespace starts with lo down: the UDP sockets need it up. */
static int lo_up(void)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags |= IFF_UP;
    if (rc == 0)
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    close(fd);
    return rc;
}

/* A MESSAGE of the registered UE from UE-IP:port_uc, to port (ours). */
static void ue_message(fx_t *f, uint16_t port, uint32_t cseq)
{
    char buf[2048];

    snprintf(buf, sizeof(buf),
             "MESSAGE sip:bob@127.0.0.1:%u SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKmsg%u;rport\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@" HOME ">;tag=m%u\r\n"
             "To: <sip:bob@" HOME ">\r\n"
             "Call-ID: msg-%u@ue\r\n"
             "CSeq: %u MESSAGE\r\n"
             "Security-Verify: %s\r\n"
             "Content-Length: 0\r\n\r\n",
             f->i_port, f->port_uc, cseq, cseq, cseq, cseq, f->server);
    send_to(f->uc_fd, port, buf);
}

/* TS 33.203 §7.1: once registered over its SAs, the UE's requests are taken
 * over them only; what comes by the unprotected port is refused, and what comes
 * over them goes on without the sec-agree headers. */
static void test_only_over_sa(void **state)
{
    fx_t *f = fx_new(true);
    sip_msg_t *req;
    char *text;

    to_pending(f);
    second_register(f, 2, 600000, f->server, SPI_UC, SPI_US);
    assert_non_null(req = recv_on(f, f->i_fd, &text));
    icscf_answer(f, req, 200, "Contact", contact_ok(f),
                 "P-Associated-URI", "<sip:alice@" HOME ">");
    sip_msg_free(req);
    assert_int_equal(ue_final(f), 200);

    ue_message(f, f->port, 10);                 /* the P-CSCF's unprotected port */
    assert_int_equal(ue_final(f), 403);
    silent(f, f->i_fd);
    ue_message(f, f->port_ps, 11);              /* over the SA */
    assert_non_null(req = recv_on(f, f->i_fd, &text));
    assert_string_equal(sip_msg_method(req), "MESSAGE");
    assert_null(strstr(text, "Security-Verify"));
    sip_msg_free(req);
    fx_free(f);
}

/* From the network to a UE with SAs: the request leaves from our port-c and
 * reaches the UE's port-s (the kernel's policies put it in ESP). */
static void test_to_ue_from_port_c(void **state)
{
    fx_t *f = fx_new(true);
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    char buf[2048], *text;
    sip_msg_t *req;
    ssize_t n;

    /* the core sends from here */
    assert_int_equal(sip_trust_add(&f->ctx->cfg.trusted, "127.0.0.1", f->i_port), IMS_OK);
    to_pending(f);
    second_register(f, 2, 600000, f->server, SPI_UC, SPI_US);
    assert_non_null(req = recv_on(f, f->i_fd, &text));
    icscf_answer(f, req, 200, "Contact", contact_ok(f),
                 "P-Associated-URI", "<sip:alice@" HOME ">");
    sip_msg_free(req);
    assert_int_equal(ue_final(f), 200);

    snprintf(buf, sizeof(buf),
             "MESSAGE sip:alice@127.0.0.1:%u SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKterm1\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:bob@" HOME ">;tag=t1\r\n"
             "To: <sip:alice@" HOME ">\r\n"
             "Call-ID: term-1@core\r\n"
             "CSeq: 1 MESSAGE\r\n"
             "Content-Length: 0\r\n\r\n", f->port_us, f->i_port);
    send_to(f->i_fd, f->port, buf);
    for (int i = 0; i < 200; i++) {
        ims_loop_run_once(f->loop, 5);
        n = recvfrom(f->us_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n > 0)
            break;
    }
    assert_true(n > 0);
    buf[n] = '\0';
    assert_memory_equal(buf, "MESSAGE ", 8);
    assert_int_equal(ntohs(from.sin_port), f->port_pc);
    fx_free(f);
}

/* Registered over the first set (to_pending, the protected REGISTER, 200). */
static void registered(fx_t *f)
{
    sip_msg_t *req;

    to_pending(f);
    second_register(f, 2, 600000, f->server, SPI_UC, SPI_US);
    assert_non_null(req = recv_on(f, f->i_fd, NULL));
    icscf_answer(f, req, 200, "Contact", contact_ok(f),
                 "P-Associated-URI", "<sip:alice@" HOME ">");
    sip_msg_free(req);
    assert_int_equal(ue_final(f), 200);
}

/* A rotation to a new port_uc (a new socket, into f->uc_fd / f->port_uc): the
 * REGISTER over the set in use, challenged; the answer over the new set with
 * expires, its 2xx (a binding, or none for a de-registration). The old fd is
 * closed. */
static void rotate(fx_t *f, uint32_t cseq, unsigned expires)
{
    int old_fd = f->uc_fd;
    sip_msg_t *req;

    f->uc_fd = udp_open(&f->port_uc);
    rotate_401(f, cseq, expires, old_fd);
    close(old_fd);
    second_register(f, cseq + 1, expires, f->server, SPI_UC + cseq, SPI_US + cseq);
    assert_non_null(req = recv_on(f, f->i_fd, NULL));
    icscf_answer(f, req, 200, expires ? "Contact" : NULL, contact_ok(f),
                 "P-Associated-URI", "<sip:alice@" HOME ">");
    sip_msg_free(req);
    assert_int_equal(ue_final(f), 200);
}

/* rcv from 127.0.0.1:from to our port lport: came over a live set? */
static bool protected_from(fx_t *f, uint16_t from, uint16_t lport)
{
    sip_rcv_t rcv;

    memset(&rcv, 0, sizeof(rcv));
    sip_addr_from(&rcv.remote, "127.0.0.1", from);
    sip_addr_from(&rcv.local, "127.0.0.1", lport);
    return pcscf_sec_protected(f->ctx, &rcv);
}

static pcscf_ue_t *ue_by_port(fx_t *f, uint16_t port_uc)
{
    char key[PCSCF_KEY_LEN];

    snprintf(key, sizeof(key), "u:127.0.0.1:%u", port_uc);
    return pcscf_ue_find_addr(f->ctx, key);
}

/* TS 33.203 §7.4: a re-registration keeps port_ps; the UE moves to its new
 * port_uc (see the list at the top). */
static void test_rotation(void **state)
{
    fx_t *f = fx_new(true);
    const ipsec_alloc_t *a = pcscf_secagree_alloc(f->sec);
    uint16_t ps, pc1, uc1, uc2;
    uint32_t spi_ps1;
    sip_msg_t *req;
    char *text;

    registered(f);
    ps = f->port_ps, pc1 = f->port_pc, uc1 = f->port_uc, spi_ps1 = f->spi_ps;
    assert_non_null(ue_by_port(f, uc1));

    /* the REGISTER over the old set offers a new port_uc: 401 with port_ps kept */
    {
        int old_fd = f->uc_fd;

        f->uc_fd = udp_open(&f->port_uc);
        uc2 = f->port_uc;
        rotate_401(f, 3, 600000, old_fd);
        close(old_fd);
    }
    assert_int_equal(f->port_ps, ps);
    assert_int_not_equal(f->port_pc, pc1);
    assert_int_not_equal(f->spi_ps, spi_ps1);
    assert_int_equal(policies(f, NULL), 8);     /* no selector clashes */
    assert_int_equal(ipsec_alloc_port_holders(a, ps), 2);
    assert_int_equal(ipsec_alloc_ports_live(a), 3);
    assert_true(protected_from(f, uc1, ps) && protected_from(f, uc2, ps));
    assert_non_null(ue_by_port(f, uc1));             /* until the 2xx */
    assert_null(ue_by_port(f, uc2));

    /* the answer over the new set: its 2xx moves the UE, the old set retires */
    second_register(f, 4, 600000, f->server, SPI_UC + 3, SPI_US + 3);
    assert_non_null(req = recv_on(f, f->i_fd, NULL));
    icscf_answer(f, req, 200, "Contact", contact_ok(f),
                 "P-Associated-URI", "<sip:alice@" HOME ">");
    sip_msg_free(req);
    assert_int_equal(ue_final(f), 200);
    assert_int_equal(pcscf_ue_count(f->ctx), 1);
    assert_null(ue_by_port(f, uc1));
    assert_non_null(ue_by_port(f, uc2));
    assert_true(ue_by_port(f, uc2)->ipsec);
    assert_int_equal(f->ctx->stats.registered, 1);
    assert_int_equal(f->ctx->stats.refreshed, 1);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_ACTIVE), 1);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_RETIRING), 1);
    assert_false(protected_from(f, uc1, ps));

    /* retire_ms later: the old set is gone, port_ps still open and held */
    ims_clock_advance(5000);
    ims_loop_run_timers(f->loop);
    assert_int_equal(policies(f, NULL), 4);
    assert_int_equal(ipsec_alloc_port_holders(a, ps), 1);
    assert_int_equal(ipsec_alloc_ports_live(a), 2);
    assert_true(port_open(f, ps));
    assert_false(port_open(f, pc1));
    assert_true(port_open(f, f->port_pc));
    ue_message(f, ps, 20);                      /* e.g. in a dialog Record-Routed on ps */
    assert_non_null(req = recv_on(f, f->i_fd, &text));
    assert_string_equal(sip_msg_method(req), "MESSAGE");
    sip_msg_free(req);

    /* a de-registration that rotates again: the UE goes, then every set */
    uc1 = f->port_uc;
    rotate(f, 5, 0);
    assert_int_equal(f->port_ps, ps);
    assert_int_equal(pcscf_ue_count(f->ctx), 0);
    assert_null(ue_by_port(f, uc1));
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_RETIRING), 2);
    ims_clock_advance(5000);
    ims_loop_run_timers(f->loop);
    assert_int_equal(policies(f, NULL), 0);
    assert_int_equal(alloc_live(f), 0);
    assert_false(port_open(f, ps));
    fx_free(f);
}

/* The network's MESSAGE to the UE's contact over TCP (from the trusted core). */
static void core_message_tcp(fx_t *f, unsigned n)
{
    char buf[1024];

    snprintf(buf, sizeof(buf),
             "MESSAGE sip:alice@127.0.0.1:%u;transport=tcp SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKtcp%u\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:bob@" HOME ">;tag=t%u\r\n"
             "To: <sip:alice@" HOME ">\r\n"
             "Call-ID: tcp-%u@core\r\n"
             "CSeq: 1 MESSAGE\r\n"
             "Content-Length: 0\r\n\r\n", f->port_us, f->i_port, n, n, n);
    send_to(f->i_fd, f->port, buf);
}

/* The next connection to the UE's TCP port_us (lfd), into *cfd (left open):
 * its peer's port, once the MESSAGE came over it. */
static uint16_t accept_message(fx_t *f, int lfd, int *cfd)
{
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    char buf[2048];
    ssize_t n = 0;

    *cfd = -1;
    for (int i = 0; i < 400 && n <= 0; i++) {
        ims_loop_run_once(f->loop, 5);
        if (*cfd < 0)
            *cfd = accept4(lfd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK);
        if (*cfd >= 0)
            n = recv(*cfd, buf, sizeof(buf) - 1, 0);
    }
    assert_true(*cfd >= 0 && n > 8);
    assert_memory_equal(buf, "MESSAGE ", 8);
    return ntohs(from.sin_port);
}

/* TS 33.203 §7.1 over TCP: the P-CSCF connects from port_pc to the UE's port_us. */
static void test_tcp_to_ue_from_port_c(void **state)
{
    fx_t *f = fx_new(true);
    struct sockaddr_in us = { .sin_family = AF_INET };
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), c1, c2;

    assert_int_equal(sip_trust_add(&f->ctx->cfg.trusted, "127.0.0.1", f->i_port), IMS_OK);
    assert_int_equal(sip_transport_listen(f->tp, SIP_PROTO_TCP, "127.0.0.1", 0), IMS_OK);
    registered(f);
    us.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    us.sin_port = htons(f->port_us);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&us, sizeof(us)), 0);
    assert_int_equal(listen(lfd, 4), 0);

    core_message_tcp(f, 1);
    assert_int_equal(accept_message(f, lfd, &c1), f->port_pc);
    /* new SAs, new port_pc: a new connection from there, not the old one (open) */
    rotate(f, 3, 600000);
    core_message_tcp(f, 2);
    assert_int_equal(accept_message(f, lfd, &c2), f->port_pc);
    /* and the next request takes that one */
    core_message_tcp(f, 3);
    {
        char buf[2048];
        ssize_t n = 0;

        for (int i = 0; i < 400 && n <= 0; i++) {
            ims_loop_run_once(f->loop, 5);
            n = recv(c2, buf, sizeof(buf), 0);
        }
        assert_true(n > 8);
        assert_int_equal(accept(lfd, NULL, NULL), -1);
    }
    close(c1);
    close(c2);
    close(lfd);
    fx_free(f);
}

static char g_journal[64];

/* f's UEs kept in a journal (as pcscf_store_start does), restored from it; the
 * loop's first turn brings their sets back. */
static void fx_store(fx_t *f)
{
    ims_journal_cfg_t jc;
    ims_journal_t *j;
    char err[256];

    ims_journal_cfg_defaults(&jc);
    snprintf(jc.path, sizeof(jc.path), "%s", g_journal);
    assert_non_null(j = ims_journal_open(f->loop, &jc, err, sizeof(err)));
    f->ctx->store = ims_journal_kv(j);
    pcscf_store_restore(f->ctx, f->ctx->store);
    f->ctx->ue_saved_hook = pcscf_store_save_ue;
    f->ctx->ue_removed_hook = pcscf_store_forget_ue;
    for (int i = 0; i < 5 && !f->sec->started; i++)
        ims_loop_run_once(f->loop, 10);
    assert_true(f->sec->started);
}

/* Whether the journal holds table's entry for the UE at port_uc. */
static bool stored(fx_t *f, const char *table, uint16_t port_uc)
{
    char key[PCSCF_KEY_LEN];
    size_t len;

    snprintf(key, sizeof(key), "u:127.0.0.1:%u", port_uc);
    return ims_kv_get(f->ctx->store, table, key, &len) != NULL;
}

/* A rotated UE survives a restart at its new port_uc with the kept port_ps. */
static void test_rotation_restart(void **state)
{
    fx_t *f = fx_new(true);
    uint16_t ps, pc, uc1, uc2;
    pcscf_sec_set_t *t;
    char key[PCSCF_KEY_LEN];

    snprintf(g_journal, sizeof(g_journal), "/tmp/test_pcscf_secagree.%ld.journal",
             (long)getpid());
    unlink(g_journal);
    fx_store(f);
    registered(f);
    uc1 = f->port_uc;
    ps = f->port_ps;
    assert_true(stored(f, PCSCF_STORE_UE, uc1) && stored(f, PCSCF_STORE_SEC, uc1));
    rotate(f, 3, 600000);
    uc2 = f->port_uc;
    pc = f->port_pc;
    assert_int_equal(f->port_ps, ps);
    assert_false(stored(f, PCSCF_STORE_UE, uc1) || stored(f, PCSCF_STORE_SEC, uc1));
    assert_true(stored(f, PCSCF_STORE_UE, uc2) && stored(f, PCSCF_STORE_SEC, uc2));
    pcscf_store_stop(f->ctx);   /* as main.c: the store first; the old set is removed */
    fx_free(f);

    f = fx_new(true);
    fx_store(f);
    assert_int_equal(pcscf_ue_count(f->ctx), 1);
    assert_null(ue_by_port(f, uc1));
    assert_non_null(ue_by_port(f, uc2));
    assert_true(ue_by_port(f, uc2)->ipsec);
    assert_int_equal(pcscf_secagree_count(f->sec, PCSCF_SEC_ACTIVE), 1);
    snprintf(key, sizeof(key), "127.0.0.1:%u", uc2);
    assert_non_null(t = ims_hash_find(f->sec->sets, key));
    assert_int_equal(t->port_ps, ps);
    assert_int_equal(t->port_pc, pc);
    assert_int_equal(ipsec_alloc_port_holders(pcscf_secagree_alloc(f->sec), ps), 1);
    assert_true(protected_from(f, uc2, ps));
    assert_false(protected_from(f, uc1, ps));
    assert_true(port_open(f, ps) && port_open(f, pc));
    assert_int_equal(policies(f, NULL), 4);     /* the rotated set's, kept in the kernel */
    pcscf_store_stop(f->ctx);
    f->sec->persist = false;    /* this time they go: the next tests start clean */
    fx_free(f);
    unlink(g_journal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_flow),
        cmocka_unit_test(test_only_over_sa),
        cmocka_unit_test(test_to_ue_from_port_c),
        cmocka_unit_test(test_verify_mismatch),
        cmocka_unit_test(test_client_changed),
        cmocka_unit_test(test_install_fails),
        cmocka_unit_test(test_malformed_client),
        cmocka_unit_test(test_494_when_required),
        cmocka_unit_test(test_await_expiry),
        cmocka_unit_test(test_no_keys),
        cmocka_unit_test(test_rechallenge),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_rotation_restart),
        cmocka_unit_test(test_tcp_to_ue_from_port_c),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_start),
    };

    /* Our own network namespace: the host's xfrm tables stay untouched. */
    if (unshare(CLONE_NEWNET) != 0 || lo_up() != 0) {
        fprintf(stderr, "test_pcscf_secagree: own network namespace: %s (needs root)\n",
                strerror(errno));
        return 1;
    }
    sip_msg_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
