/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pktcount: UDP datagrams counted twice, on the wire and at the socket, for the IPsec tests
 * that run inside the test VM (tests/vm/, tests/integration/vm_esp.sh).
 *
 *   pktcount recv -p PORT -n WANT [-i IFACE] [-t SECONDS]
 *   pktcount send ADDR PORT COUNT
 *   pktcount watch -i IFACE [-t SECONDS] [-v]
 *
 * recv binds a UDP socket to [::]:PORT (IPv4 and IPv6) and, with -i, a packet socket to IFACE.
 * It prints "pktcount: ready" once both are bound, then counts until WANT datagrams reached
 * the UDP socket, SECONDS (default 10) passed, or SIGINT/SIGTERM came; then prints
 *
 *   pktcount: delivered=N bad=N wire_esp=N wire_udp=N wire_other=N
 *
 * delivered: datagrams read from the UDP socket that carry send's payload; bad: other ones.
 * wire_*: IPv4/IPv6 packets that came in on IFACE (not the ones it sent): ESP (protocol 50),
 * UDP to PORT (cleartext), anything else. With transport-mode ESP a datagram shows up as
 * wire_esp and, once decrypted, as delivered; without IPsec as wire_udp. The packet socket
 * sees a packet before the IP stack hands its payload to the UDP socket, so when the last
 * datagram is delivered its packet is already queued: it is drained before the counts print.
 * Exit status 0 when delivered == WANT and bad == 0, 1 otherwise, 2 on bad arguments.
 *
 * send sends COUNT datagrams (at most 1000) to ADDR (IPv4 or IPv6) port PORT, each 64 bytes
 * starting with "pktcount <n>". Exit status 0 when every sendto succeeded.
 *
 * watch is a capture of whatever crosses IFACE, both directions, while something else runs
 * (a registration over sec-agree SAs): it prints "pktcount: ready iface=IFACE", counts until
 * SIGINT/SIGTERM or SECONDS (default 60), then prints
 *
 *   pktcount: wire_esp=N wire_udp=N wire_tcp=N wire_sip=N wire_other=N
 *
 * wire_udp/wire_tcp: cleartext UDP/TCP packets (any port), wire_sip: those of them whose
 * payload is SIP (a request or status line naming SIP/2.0), so "ESP only, no cleartext SIP"
 * reads wire_esp > 0 and wire_sip == 0. -v prints a line per cleartext SIP packet (addresses
 * and its first line), to see what went in clear. Exit status 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/loop.h"
#include "common/core/rc.h"

#define PAYLOAD_LEN  64
#define PAYLOAD_TAG  "pktcount "
#define MAX_SEND     1000

typedef struct counter {
    ims_loop_t *loop;
    ims_timer_t end_timer;
    int udp_fd;
    int pkt_fd;            /* -1 without -i */
    uint16_t port;
    uint32_t want;
    uint32_t delivered, bad;
    uint32_t wire_esp, wire_udp, wire_other;
    uint32_t wire_tcp, wire_sip;
    bool watch;            /* watch: both directions, any port, SIP recognised */
    bool verbose;          /* watch -v: print each cleartext SIP packet */
    bool done;
} counter_t;

static void usage(void)
{
    fprintf(stderr, "usage: pktcount recv -p PORT -n WANT [-i IFACE] [-t SECONDS]\n"
                    "       pktcount send ADDR PORT COUNT\n"
                    "       pktcount watch -i IFACE [-t SECONDS] [-v]\n");
}

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Whether the L4 payload p[0..len) starts a SIP message: a status line "SIP/2.0 " or a
 * request line ending in " SIP/2.0". */
static bool is_sip(const uint8_t *p, size_t len)
{
    static const char ver[] = "SIP/2.0";
    const uint8_t *eol = memchr(p, '\n', len);
    size_t n = eol ? (size_t)(eol - p) : len;

    if (len >= sizeof(ver) && memcmp(p, ver, sizeof(ver) - 1) == 0)
        return true;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    return n >= sizeof(ver) && memcmp(p + n - (sizeof(ver) - 1), ver, sizeof(ver) - 1) == 0;
}

/* watch -v: "pktcount: clear SIP SRC:PORT -> DST:PORT FIRST-LINE" (IPv4 and IPv6). */
static void print_sip(const uint8_t *p, size_t l4, const uint8_t *body, size_t len)
{
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    const uint8_t *eol = memchr(body, '\r', len);
    int fam = (p[0] >> 4) == 4 ? AF_INET : AF_INET6;
    size_t off = fam == AF_INET ? 12 : 8, alen = fam == AF_INET ? 4 : 16;

    inet_ntop(fam, p + off, src, sizeof(src));
    inet_ntop(fam, p + off + alen, dst, sizeof(dst));
    printf("pktcount: clear SIP %s:%u -> %s:%u %.*s\n", src, (unsigned)(p[l4] << 8 | p[l4 + 1]),
           dst, (unsigned)(p[l4 + 2] << 8 | p[l4 + 3]),
           (int)(eol ? (size_t)(eol - body) : (len < 80 ? len : 80)), (const char *)body);
    fflush(stdout);
}

/* watch: one cleartext UDP or TCP packet, L4 header at p[l4]. */
static void classify_l4(counter_t *c, unsigned proto, const uint8_t *p, size_t l4, size_t len)
{
    size_t hl = proto == IPPROTO_UDP ? 8 : 0;

    if (proto == IPPROTO_TCP && len >= l4 + 20)
        hl = (size_t)(p[l4 + 12] >> 4) * 4;
    if (proto == IPPROTO_UDP)
        c->wire_udp++;
    else
        c->wire_tcp++;
    if (hl >= 8 && len > l4 + hl && is_sip(p + l4 + hl, len - l4 - hl)) {
        c->wire_sip++;
        if (c->verbose)
            print_sip(p, l4, p + l4 + hl, len - l4 - hl);
    }
}

/* Classify one IPv4/IPv6 packet as seen by a SOCK_DGRAM packet socket (no link header).
 * Truncated or odd packets count as "other": the wire is not trusted to be well formed. */
static void classify(counter_t *c, uint16_t ethertype, const uint8_t *p, size_t len)
{
    size_t l4 = 0;
    unsigned proto = 256;

    if (ethertype == ETH_P_IP && len >= 20 && (p[0] >> 4) == 4) {
        l4 = (size_t)(p[0] & 0x0f) * 4;
        proto = p[9];
    } else if (ethertype == ETH_P_IPV6 && len >= 40 && (p[0] >> 4) == 6) {
        l4 = 40;
        proto = p[6];  /* transport-mode ESP and plain UDP follow the fixed header directly */
    }
    if (proto == IPPROTO_ESP)
        c->wire_esp++;
    else if (c->watch && (proto == IPPROTO_UDP || proto == IPPROTO_TCP) && l4 >= 20 &&
             len >= l4 + 8)
        classify_l4(c, proto, p, l4, len);
    else if (proto == IPPROTO_UDP && l4 >= 20 && len >= l4 + 8 &&
             ((uint16_t)(p[l4 + 2] << 8 | p[l4 + 3])) == c->port)
        c->wire_udp++;
    else
        c->wire_other++;
}

/* Read every queued packet off the packet socket (non-blocking). */
static void drain_wire(counter_t *c)
{
    uint8_t buf[2048];
    struct sockaddr_ll sll;
    socklen_t sl;
    ssize_t n;

    for (;;) {
        sl = sizeof(sll);
        n = recvfrom(c->pkt_fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sll, &sl);
        if (n < 0)
            return;
        if (c->watch || sll.sll_pkttype != PACKET_OUTGOING)
            classify(c, ntohs(sll.sll_protocol), buf, (size_t)n);
    }
}

static void finish(counter_t *c)
{
    if (c->done)
        return;
    c->done = true;
    if (c->pkt_fd >= 0)
        drain_wire(c);
    if (c->watch)
        printf("pktcount: wire_esp=%u wire_udp=%u wire_tcp=%u wire_sip=%u wire_other=%u\n",
               c->wire_esp, c->wire_udp, c->wire_tcp, c->wire_sip, c->wire_other);
    else
        printf("pktcount: delivered=%u bad=%u wire_esp=%u wire_udp=%u wire_other=%u\n",
               c->delivered, c->bad, c->wire_esp, c->wire_udp, c->wire_other);
    fflush(stdout);
    ims_loop_stop(c->loop);
}

static void wire_cb(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    drain_wire(arg);
}

static void udp_cb(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    counter_t *c = arg;
    uint8_t buf[2048];
    ssize_t n;

    while (!c->done && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
        if (n == PAYLOAD_LEN && memcmp(buf, PAYLOAD_TAG, strlen(PAYLOAD_TAG)) == 0)
            c->delivered++;
        else
            c->bad++;
        if (c->delivered + c->bad >= c->want)
            finish(c);
    }
}

static void end_cb(ims_loop_t *loop, ims_timer_t *t, void *arg)
{
    finish(arg);
}

static void signal_cb(ims_loop_t *loop, int signo, void *arg)
{
    finish(arg);
}

static int open_udp(uint16_t port)
{
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port),
                              .sin6_addr = IN6ADDR_ANY_INIT };
    int off = 0, fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int open_packet(const char *ifname)
{
    struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
    int fd;

    a.sll_ifindex = (int)if_nametoindex(ifname);
    if (a.sll_ifindex == 0)
        return -1;
    fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Parse recv's options into c and *seconds; false on anything unexpected. */
static bool parse_recv(int argc, char **argv, counter_t *c, const char **ifname,
                       uint32_t *seconds)
{
    uint32_t port = 0;
    int o;

    while ((o = getopt(argc, argv, "p:n:i:t:")) != -1) {
        if (o == 'p' && parse_u32(optarg, 1, 65535, &port))
            c->port = (uint16_t)port;
        else if (o == 'n' && parse_u32(optarg, 1, 1000000, &c->want))
            continue;
        else if (o == 'i')
            *ifname = optarg;
        else if (o == 't' && parse_u32(optarg, 1, 3600, seconds))
            continue;
        else
            return false;
    }
    return optind == argc && c->port != 0 && c->want != 0;
}

static int run_recv(int argc, char **argv)
{
    counter_t c = { .udp_fd = -1, .pkt_fd = -1 };
    const char *ifname = NULL;
    uint32_t seconds = 10;
    int rc = 1;

    if (!parse_recv(argc, argv, &c, &ifname, &seconds)) {
        usage();
        return 2;
    }
    ims_timer_init(&c.end_timer);
    c.loop = ims_loop_new();
    if (!c.loop)
        return 1;
    c.udp_fd = open_udp(c.port);
    if (c.udp_fd < 0 || (ifname && (c.pkt_fd = open_packet(ifname)) < 0)) {
        fprintf(stderr, "pktcount: cannot bind port %u%s%s: %s\n", c.port,
                ifname ? " or interface " : "", ifname ? ifname : "", strerror(errno));
        goto out;
    }
    if (ims_loop_add_fd(c.loop, c.udp_fd, IMS_EV_READ, udp_cb, &c) != IMS_OK ||
        (c.pkt_fd >= 0 && ims_loop_add_fd(c.loop, c.pkt_fd, IMS_EV_READ, wire_cb, &c) != IMS_OK) ||
        ims_loop_handle_signals(c.loop, signal_cb, &c) != IMS_OK)
        goto out;
    ims_timer_start(c.loop, &c.end_timer, (uint64_t)seconds * 1000, end_cb, &c);
    printf("pktcount: ready port=%u%s%s\n", c.port, ifname ? " iface=" : "", ifname ? ifname : "");
    fflush(stdout);
    if (ims_loop_run(c.loop) == IMS_OK)
        rc = c.delivered == c.want && c.bad == 0 ? 0 : 1;
out:
    ims_timer_stop(c.loop, &c.end_timer);
    if (c.udp_fd >= 0)
        close(c.udp_fd);
    if (c.pkt_fd >= 0)
        close(c.pkt_fd);
    ims_loop_free(c.loop);
    return rc;
}

static int run_watch(int argc, char **argv)
{
    counter_t c = { .udp_fd = -1, .pkt_fd = -1, .watch = true };
    const char *ifname = NULL;
    uint32_t seconds = 60;
    bool bad = false;
    int o, rc = 1;

    while ((o = getopt(argc, argv, "i:t:v")) != -1) {
        if (o == 'i')
            ifname = optarg;
        else if (o == 'v')
            c.verbose = true;
        else if (o != 't' || !parse_u32(optarg, 1, 3600, &seconds))
            bad = true;
    }
    if (bad || !ifname || optind != argc) {
        usage();
        return 2;
    }
    ims_timer_init(&c.end_timer);
    if (!(c.loop = ims_loop_new()))
        return 1;
    if ((c.pkt_fd = open_packet(ifname)) < 0) {
        fprintf(stderr, "pktcount: cannot capture on %s: %s\n", ifname, strerror(errno));
    } else if (ims_loop_add_fd(c.loop, c.pkt_fd, IMS_EV_READ, wire_cb, &c) == IMS_OK &&
               ims_loop_handle_signals(c.loop, signal_cb, &c) == IMS_OK) {
        ims_timer_start(c.loop, &c.end_timer, (uint64_t)seconds * 1000, end_cb, &c);
        printf("pktcount: ready iface=%s\n", ifname);
        fflush(stdout);
        rc = ims_loop_run(c.loop) == IMS_OK ? 0 : 1;
    }
    ims_timer_stop(c.loop, &c.end_timer);
    if (c.pkt_fd >= 0)
        close(c.pkt_fd);
    ims_loop_free(c.loop);
    return rc;
}

static int run_send(int argc, char **argv)
{
    struct sockaddr_storage ss = { 0 };
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    socklen_t sl;
    uint32_t port, count;
    char buf[PAYLOAD_LEN];
    int fd;

    if (argc != 4 || !parse_u32(argv[2], 1, 65535, &port) ||
        !parse_u32(argv[3], 1, MAX_SEND, &count)) {
        usage();
        return 2;
    }
    if (inet_pton(AF_INET, argv[1], &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        sl = sizeof(*a4);
    } else if (inet_pton(AF_INET6, argv[1], &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        sl = sizeof(*a6);
    } else {
        usage();
        return 2;
    }
    fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("pktcount: socket");
        return 1;
    }
    for (uint32_t i = 0; i < count; i++) {
        memset(buf, '.', sizeof(buf));
        snprintf(buf, sizeof(buf), PAYLOAD_TAG "%u", i);
        if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, sl) != (ssize_t)sizeof(buf)) {
            fprintf(stderr, "pktcount: sendto %s port %u: %s\n", argv[1], port, strerror(errno));
            close(fd);
            return 1;
        }
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "recv") == 0)
        return run_recv(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "send") == 0)
        return run_send(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "watch") == 0)
        return run_watch(argc - 1, argv + 1);
    usage();
    return 2;
}
