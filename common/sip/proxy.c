/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Proxy core, request side: RFC 3261 §16.3 validation, §16.4 route
 * preprocessing, §16.5 target determination and §16.6 forwarding.
 * Responses, CANCEL and stateless forwarding are in proxy_resp.c.
 */
#include "common/sip/proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
#include "common/core/rc.h"
#include "common/sip/proxy_int.h"

void sip_proxy_cfg_defaults(sip_proxy_cfg_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->timer_c_ms = 180000;
    cfg->record_route = true;
}

/* ---- addresses ---- */

static void collect_locals(sip_proxy_t *px)
{
    static const sip_proto_t protos[] = { SIP_PROTO_UDP, SIP_PROTO_TCP };
    static const int families[] = { AF_INET, AF_INET6 };

    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 2; j++) {
            sip_addr_t a;

            if (px->nlocal < PROXY_MAX_LOCAL &&
                sip_transport_local(px->tp, protos[i], families[j], &a) == IMS_OK) {
                px->local_proto[px->nlocal] = protos[i];
                px->local[px->nlocal++] = a;
            }
        }
}

bool proxy_addr_is_local(const sip_proxy_t *px, const char *host, const char *port, bool sips)
{
    char buf[64];
    sip_addr_t a;
    long p = sips ? 5061 : 5060;
    size_t n;

    if (!host)
        return false;
    n = strlen(host);
    if (host[0] == '[' && n > 2 && n - 2 < sizeof(buf)) {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        host = buf;
    }
    if (port && *port) {
        char *end;

        p = strtol(port, &end, 10);
        if (*end || p <= 0 || p > 65535)
            return false;
    }
    if (sip_addr_from(&a, host, (uint16_t)p) != IMS_OK)
        return false;
    for (int i = 0; i < px->nlocal; i++)
        if (sip_addr_equal(&a, &px->local[i]))
            return true;
    /* A port opened at run time (the P-CSCF's protected ports Record-Route). */
    return sip_transport_listens(px->tp, &a);
}

static bool port_is_ours(const sip_proxy_t *px, const char *port)
{
    long p = 5060;

    if (port && *port)
        p = strtol(port, NULL, 10);
    for (int i = 0; i < px->nlocal; i++)
        if (sip_addr_port(&px->local[i]) == p)
            return true;
    return false;
}

bool sip_proxy_uri_is_local(const sip_proxy_t *px, const osip_uri_t *uri)
{
    bool sips = uri->scheme && strcasecmp(uri->scheme, "sips") == 0;

    if (!uri->host)
        return false;
    for (int i = 0; i < px->cfg.naliases; i++)
        if (strcasecmp(uri->host, px->cfg.aliases[i]) == 0 && port_is_ours(px, uri->port))
            return true;
    return proxy_addr_is_local(px, uri->host, uri->port, sips);
}

static bool uri_is_local(const sip_proxy_t *px, const osip_uri_t *uri)
{
    return sip_proxy_uri_is_local(px, uri);
}

int sip_proxy_host_parse(const char *s, sip_proxy_host_t *h)
{
    const char *eq = strchr(s, '=');
    const char *ip, *end;
    size_t n;

    memset(h, 0, sizeof(*h));
    if (!eq || eq == s || (size_t)(eq - s) >= sizeof(h->name))
        return IMS_ERROR;
    memcpy(h->name, s, (size_t)(eq - s));
    ip = eq + 1;
    if (*ip == '[') {
        end = strchr(ip, ']');
        if (!end)
            return IMS_ERROR;
        n = (size_t)(end - ip - 1);
        ip++;
        end++;
    } else {
        end = strchr(ip, ':');
        n = end ? (size_t)(end - ip) : strlen(ip);
    }
    if (n == 0 || n >= sizeof(h->ip))
        return IMS_ERROR;
    memcpy(h->ip, ip, n);
    if (end && *end == ':') {
        char *e;
        long p = strtol(end + 1, &e, 10);

        if (*e || p <= 0 || p > 65535)
            return IMS_ERROR;
        h->port = (uint16_t)p;
    } else if (end && *end) {
        return IMS_ERROR;
    }
    {
        sip_addr_t a;

        return sip_addr_from(&a, h->ip, h->port ? h->port : 5060);
    }
}

int sip_proxy_resolve(const sip_proxy_t *px, const osip_uri_t *uri, sip_dest_t *dst)
{
    if (sip_proxy_uri_dest(uri, dst) == IMS_OK)
        return IMS_OK;
    if (!uri || !uri->host)
        return IMS_ERROR;
    for (int i = 0; i < px->cfg.nhosts; i++) {
        const sip_proxy_host_t *h = &px->cfg.hosts[i];
        osip_uri_t u = *uri;
        char port[8];

        if (strcasecmp(uri->host, h->name) != 0)
            continue;
        u.host = (char *)h->ip;
        if (h->port && !(uri->port && *uri->port)) {
            snprintf(port, sizeof(port), "%u", h->port);
            u.port = port;
        }
        return sip_proxy_uri_dest(&u, dst);
    }
    return IMS_ERROR;
}

int sip_proxy_uri_dest(const osip_uri_t *uri, sip_dest_t *dst)
{
    osip_uri_param_t *tp = NULL;
    bool sips;
    long port;
    char host[64];
    const char *h;
    size_t n;

    if (!uri || !uri->host || !uri->scheme)
        return IMS_ERROR;
    sips = strcasecmp(uri->scheme, "sips") == 0;
    if (!sips && strcasecmp(uri->scheme, "sip") != 0)
        return IMS_ERROR;
    memset(dst, 0, sizeof(*dst));
    dst->proto = sips ? SIP_PROTO_TLS : SIP_PROTO_UDP;
    osip_uri_uparam_get_byname((osip_uri_t *)uri, "transport", &tp);
    if (tp && tp->gvalue && !sips) {
        if (strcasecmp(tp->gvalue, "tcp") == 0)
            dst->proto = SIP_PROTO_TCP;
        else if (strcasecmp(tp->gvalue, "tls") == 0)
            dst->proto = SIP_PROTO_TLS;
        else if (strcasecmp(tp->gvalue, "udp") != 0)
            return IMS_ERROR;
    }
    port = dst->proto == SIP_PROTO_TLS ? 5061 : 5060;   /* RFC 3263 §4.2 */
    if (uri->port && *uri->port) {
        char *end;

        port = strtol(uri->port, &end, 10);
        if (*end || port <= 0 || port > 65535)
            return IMS_ERROR;
    }
    h = uri->host;
    n = strlen(h);
    if (h[0] == '[' && n > 2 && n - 2 < sizeof(host)) {
        memcpy(host, h + 1, n - 2);
        host[n - 2] = '\0';
        h = host;
    }
    return sip_addr_from(&dst->addr, h, (uint16_t)port);
}

/* ---- request lifetime ---- */

static void on_server_end(void *arg, sip_txn_t *st)
{
    sip_proxy_req_t *pr = arg;

    pr->st = NULL;
    proxy_req_maybe_free(pr);
}

/* Unhook pr from its transactions (they run on alone) and free it. */
static void req_release(sip_proxy_t *px, sip_proxy_req_t *pr)
{
    for (int i = 0; i < pr->nbranches; i++) {
        proxy_branch_t *b = pr->br[i];

        ims_timer_stop(px->loop, &b->timer_c);
        if (b->ct) {
            sip_txn_set_on_end(b->ct, NULL, NULL);
            sip_txn_client_detach(b->ct);
        }
        free(b->target);
        free(b);
    }
    if (pr->st) {
        sip_txn_set_on_end(pr->st, NULL, NULL);
        sip_txn_set_data(pr->st, NULL);
    }
    sip_msg_free(pr->best);
    while (pr->nheld > 0)
        sip_msg_free(pr->held[--pr->nheld]);
    free(pr);
}

void proxy_req_maybe_free(sip_proxy_req_t *pr)
{
    sip_proxy_t *px = pr->px;

    if (pr->st || pr->retired)
        return;
    for (int i = 0; i < pr->nbranches; i++)
        if (pr->br[i]->ct)
            return;
    ims_hash_remove_n(px->reqs, (const char *)&pr->id, sizeof(pr->id));
    req_release(px, pr);
}

static void reap_retired(ims_loop_t *loop, ims_timer_t *tm, void *arg)
{
    sip_proxy_t *px = arg;
    sip_proxy_req_t *pr;

    while ((pr = px->retired) != NULL) {
        px->retired = pr->next_retired;
        req_release(px, pr);
    }
}

void proxy_req_settle(sip_proxy_req_t *pr)
{
    sip_proxy_t *px = pr->px;

    if (pr->retired || !pr->final_sent || pr->pending > 0 || pr->holds > 0)
        return;
    /* Out of the id table now: a handler's later lookup finds nothing. */
    pr->retired = true;
    ims_hash_remove_n(px->reqs, (const char *)&pr->id, sizeof(pr->id));
    pr->next_retired = px->retired;
    px->retired = pr;
    if (!ims_timer_armed(&px->reaper))
        ims_timer_start(px->loop, &px->reaper, 0, reap_retired, px);
}

uint64_t sip_proxy_req_id(const sip_proxy_req_t *pr)
{
    return pr->id;
}

sip_proxy_req_t *sip_proxy_req_find(sip_proxy_t *px, uint64_t id)
{
    sip_proxy_req_t *pr = ims_hash_find_n(px->reqs, (const char *)&id, sizeof(id));

    return pr && pr->st && !pr->retired ? pr : NULL;
}

const char *sip_proxy_req_route_user(const sip_proxy_req_t *pr)
{
    return pr->route.user;
}

bool sip_proxy_req_route_orig(const sip_proxy_req_t *pr)
{
    return pr->route.orig;
}

bool sip_proxy_req_route_ours(const sip_proxy_req_t *pr)
{
    return pr->route.seen;
}

const sip_msg_t *sip_proxy_req_msg(const sip_proxy_req_t *pr)
{
    return proxy_req(pr);
}

int sip_proxy_reply(sip_proxy_req_t *pr, int code, const char *reason)
{
    int rc;

    if (!pr->st || pr->final_sent)
        return IMS_ERROR;
    if (code >= 200) {
        pr->final_sent = true;
        pr->px->stats.local_replies++;
    }
    rc = sip_txn_server_reply_code(pr->st, code, reason);
    proxy_req_settle(pr);
    return rc;
}

int sip_proxy_reply_msg(sip_proxy_req_t *pr, sip_msg_t *resp)
{
    int code = sip_msg_status(resp);
    int rc;

    if (!pr->st || pr->final_sent) {
        sip_msg_free(resp);
        return IMS_ERROR;
    }
    if (code >= 200) {
        pr->final_sent = true;
        pr->px->stats.local_replies++;
    }
    rc = sip_txn_server_reply(pr->st, resp);
    proxy_req_settle(pr);
    return rc;
}

sip_txn_layer_t *sip_proxy_layer(const sip_proxy_t *px)
{
    return px->layer;
}

sip_proxy_t *sip_proxy_req_proxy(const sip_proxy_req_t *pr)
{
    return pr->px;
}

/* ---- §16.3 validation ---- */

static int max_forwards(const sip_msg_t *req, osip_header_t **h)
{
    char *end;
    long v;

    *h = NULL;
    osip_message_get_max_forwards(req->m, 0, h);
    if (!*h || !(*h)->hvalue)
        return -1;
    v = strtol((*h)->hvalue, &end, 10);
    return (*end || v < 0 || v > 255) ? -1 : (int)v;
}

/* Every Proxy-Require option tag must be in cfg.proxy_require_ok; the first one
 * that is not goes into unsupported. */
static bool proxy_require_ok(const sip_proxy_t *px, const sip_msg_t *req, char *unsupported,
                             size_t len)
{
    osip_header_t *h = NULL;

    for (int pos = 0; osip_message_get_proxy_require(req->m, pos, &h) >= 0 && h; pos++) {
        char tag[64];
        const char *p = h->hvalue;

        while (p && *p) {
            size_t n = strcspn(p, ",");
            size_t s = 0;

            while (s < n && (p[s] == ' ' || p[s] == '\t'))
                s++;
            while (n > s && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
            if (n > s && n - s < sizeof(tag)) {
                const char *ok = px->cfg.proxy_require_ok;
                size_t tl = n - s;
                bool found = false;

                memcpy(tag, p + s, tl);
                tag[tl] = '\0';
                while (ok && *ok && !found) {
                    size_t m = strcspn(ok, ",");

                    found = m == tl && strncasecmp(ok, tag, tl) == 0;
                    ok += m + (ok[m] == ',');
                }
                if (!found) {
                    snprintf(unsupported, len, "%s", tag);
                    return false;
                }
            }
            p += strcspn(p, ",");
            if (*p == ',')
                p++;
        }
    }
    return true;
}

static uint32_t fnv(uint32_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return (h ^ 0xff) * 16777619u;  /* field separator */
}

/* §16.6 item 8: a hash of what, when unchanged, means the request came back to us
 * unchanged: a loop rather than a spiral. */
static uint32_t loop_hash(const sip_msg_t *req)
{
    const osip_message_t *m = req->m;
    osip_route_t *rt = NULL;
    uint32_t h = 2166136261u;

    h = fnv(h, m->req_uri->scheme);
    h = fnv(h, m->req_uri->username);
    h = fnv(h, m->req_uri->host);
    h = fnv(h, m->req_uri->port);
    h = fnv(h, sip_msg_from_tag(req));
    h = fnv(h, sip_msg_to_tag(req));
    h = fnv(h, m->call_id->number);
    h = fnv(h, m->call_id->host);
    h = fnv(h, m->cseq->number);
    if (osip_message_get_route(m, 0, &rt) >= 0 && rt && rt->url) {
        h = fnv(h, rt->url->host);
        h = fnv(h, rt->url->port);
    }
    return h;
}

/* "L%08x." of the loop hash: the branch's prefix the loop check looks for. */
static void loop_hint(uint32_t h, char hint[11])
{
    hint[0] = 'L';
    for (int i = 0; i < 8; i++)
        hint[1 + i] = "0123456789abcdef"[(h >> (28 - 4 * i)) & 15];
    hint[9] = '.';
    hint[10] = '\0';
}

static bool is_loop(const sip_proxy_t *px, const sip_msg_t *req, uint32_t hash)
{
    char prefix[32] = "z9hG4bK";
    osip_via_t *via;
    size_t plen = 7 + 10;

    loop_hint(hash, prefix + 7);
    /* Our branch in a Via kept as text: parse them to look at its host. */
    if (sip_msg_vias_kept_contain(req->m, prefix))
        sip_msg_vias_parse_all(req->m);
    for (int pos = 0; (via = osip_list_get(&req->m->vias, pos)) != NULL; pos++) {
        const char *br = sip_msg_via_branch(via);

        if (br && strncmp(br, prefix, plen) == 0 &&
            proxy_addr_is_local(px, via->host, via->port, false))
            return true;
    }
    return false;
}

/* ---- §16.4 route preprocessing ---- */

/* What the first of our Route entries said besides our address: its user part
 * ("orig" in a Service-Route, an AS's ODI token) and an "orig" parameter. */
static void note_route(proxy_route_note_t *note, const osip_uri_t *u)
{
    osip_uri_param_t *p = NULL;

    if (!note || note->seen)
        return;
    note->seen = true;
    if (u->username && strlen(u->username) < sizeof(note->user))
        strcpy(note->user, u->username);
    note->orig = osip_uri_uparam_get_byname((osip_uri_t *)u, "orig", &p) == 0 ||
                 strcmp(note->user, "orig") == 0;
}

void proxy_preprocess_routes(sip_proxy_t *px, sip_msg_t *req, proxy_route_note_t *note)
{
    osip_message_t *m = req->m;
    osip_route_t *rt;
    int n = osip_list_size(&m->routes);

    /* A Request-URI we put in a Record-Route (no user part) came from a strict
     * router: the real target is the last Route. */
    if (n > 0 && !m->req_uri->username && uri_is_local(px, m->req_uri)) {
        rt = osip_list_get(&m->routes, n - 1);
        if (rt && rt->url) {
            osip_uri_t *u = NULL;

            if (osip_uri_clone(rt->url, &u) == 0) {
                osip_uri_free(m->req_uri);
                m->req_uri = u;
                osip_list_remove(&m->routes, n - 1);
                osip_route_free(rt);
            }
        }
    }
    /* Our own entries on top (one, or two after double record-routing). */
    while ((rt = osip_list_get(&m->routes, 0)) != NULL && rt->url && uri_is_local(px, rt->url)) {
        note_route(note, rt->url);
        osip_list_remove(&m->routes, 0);
        osip_route_free(rt);
    }
}

/* ---- §16.6 forwarding ---- */

static int set_max_forwards(sip_msg_t *msg)
{
    osip_header_t *h;
    int v = max_forwards(msg, &h);
    char buf[16];

    snprintf(buf, sizeof(buf), "%d", v < 0 ? 70 : v - 1);
    if (!h)
        return osip_message_set_max_forwards(msg->m, buf) == 0 ? IMS_OK : IMS_ERROR;
    osip_free(h->hvalue);
    h->hvalue = osip_strdup(buf);
    return IMS_OK;
}

/* Our Record-Route value for an interface, as libosip2 prints it. */
static void record_route_put(sip_tb_t *t, sip_proto_t proto, const sip_addr_t *a)
{
    char addr[64];

    sip_addr_str(a, addr, sizeof(addr));
    sip_tb_str(t, "<sip:");
    sip_tb_str(t, addr);
    sip_tb_str(t, proto == SIP_PROTO_TCP   ? ";transport=tcp;lr>"
                  : proto == SIP_PROTO_TLS ? ";transport=tls;lr>"
                                           : ";lr>");
}

/* The Record-Route header lines of a forward (add_record_routes), pushed
 * in their order on top of msg's (the copying path). */
static int push_record_routes(sip_msg_t *msg, const char *lines, size_t len)
{
    const char *p = lines, *end = lines + len, *v, *e;
    osip_record_route_t *rr;
    char val[160];
    int pos = 0;

    for (; p < end; p = e + 2) {
        v = p + sizeof("Record-Route: ") - 1;
        if (!(e = strstr(v, "\r\n")) || (size_t)(e - v) >= sizeof(val))
            return IMS_ERROR;
        memcpy(val, v, (size_t)(e - v));
        val[e - v] = '\0';
        if (osip_record_route_init(&rr) != 0)
            return IMS_ERROR;
        if (osip_record_route_parse(rr, val) != 0 ||
            osip_list_add(&msg->m->record_routes, rr, pos++) < 0) {
            osip_record_route_free(rr);
            return IMS_ERROR;
        }
    }
    return IMS_OK;
}

static bool wants_record_route(const sip_msg_t *req)
{
    const char *m = sip_msg_method(req);

    if (sip_msg_to_tag(req))
        return false;  /* mid-dialog: the route set is fixed */
    return strcmp(m, "INVITE") == 0 || strcmp(m, "SUBSCRIBE") == 0 ||
           strcmp(m, "REFER") == 0 || strcmp(m, "NOTIFY") == 0;
}

/* Record-Route for the interface toward the target and, when the request
 * arrived on another one, for the incoming interface as well (RFC 5658), as
 * header lines into lines, the one on top first. */
static int add_record_routes(sip_proxy_t *px, sip_proxy_req_t *pr, const sip_dest_t *dst,
                             char *lines, size_t cap, size_t *n)
{
    sip_addr_t out;
    const sip_rcv_t *in = &proxy_req(pr)->rcv;
    sip_tb_t t = sip_tb(lines, cap);
    bool both;

    if (sip_transport_local(px->tp, dst->proto, dst->addr.ss.ss_family, &out) != IMS_OK)
        return IMS_ERROR;
    both = in->local.len && (in->proto != dst->proto || !sip_addr_equal(&in->local, &out));
    sip_tb_str(&t, "Record-Route: ");
    record_route_put(&t, dst->proto, &out);
    if (both) {
        sip_tb_str(&t, "\r\nRecord-Route: ");
        record_route_put(&t, in->proto, &in->local);
    }
    sip_tb_str(&t, "\r\n");
    *n = (size_t)(t.p - lines);
    return t.ok ? IMS_OK : IMS_ERROR;
}

/* Where req goes with uri as its Request-URI. */
static int next_hop_of(sip_proxy_t *px, const sip_msg_t *req, const osip_uri_t *uri,
                       sip_dest_t *dst)
{
    osip_route_t *rt = NULL;

    if (osip_message_get_route(req->m, 0, &rt) >= 0 && rt)
        return sip_proxy_resolve(px, rt->url, dst);
    if (uri_is_local(px, (osip_uri_t *)uri)) {
        if (!px->cfg.has_next_hop)
            return IMS_DECLINED;
        *dst = px->cfg.next_hop;
        return IMS_OK;
    }
    /* The outbound proxy is for requests outside a dialog: within one, the route
     * set (used up here) and the remote target are the path (RFC 3261 §12.2.1.1). */
    if (px->cfg.has_outbound && !sip_msg_to_tag(req)) {
        *dst = px->cfg.outbound;
        return IMS_OK;
    }
    return sip_proxy_resolve(px, (osip_uri_t *)uri, dst);
}

int proxy_next_hop(sip_proxy_t *px, const sip_msg_t *req, sip_dest_t *dst)
{
    return next_hop_of(px, req, req->m->req_uri, dst);
}

int sip_proxy_add_target(sip_proxy_req_t *pr, const char *uri, const sip_dest_t *dst)
{
    proxy_branch_t *b;

    if (pr->nbranches >= SIP_PROXY_MAX_BRANCHES || pr->forwarded)
        return IMS_ERROR;
    b = calloc(1, sizeof(*b));
    if (!b)
        return IMS_ERROR;
    pr->br[pr->nbranches++] = b;
    b->pr = pr;
    ims_timer_init(&b->timer_c);
    if (uri)
        b->target = strdup(uri);
    if (dst) {
        b->has_dst = true;
        b->dst = *dst;
    }
    return IMS_OK;
}

/* Send the branch on a copy of the request with the changes made on it: for
 * what sip_msg_print_over cannot print (a multipart body, a URI only
 * libosip2 prints, no Max-Forwards). u, the target's URI, is taken. */
static int forward_copy(sip_proxy_t *px, sip_proxy_req_t *pr, proxy_branch_t *b, osip_uri_t *u,
                        const sip_print_over_t *over, const char *hint)
{
    sip_msg_t *msg = sip_msg_clone(proxy_req(pr));
    int rc;

    if (!msg) {
        osip_uri_free(u);
        b->final_code = 500;
        return IMS_ERROR;
    }
    if (u) {
        osip_uri_free(msg->m->req_uri);
        msg->m->req_uri = u;
    }
    rc = set_max_forwards(msg);
    if (rc == IMS_OK && over->rr_len)
        rc = push_record_routes(msg, over->rr, over->rr_len);
    if (rc != IMS_OK) {
        sip_msg_free(msg);
        b->final_code = 503;
        return IMS_ERROR;
    }
    b->ct = sip_txn_client_start(px->layer, msg, &b->dst, hint, proxy_branch_response, b);
    return b->ct ? IMS_OK : IMS_ERROR;
}

/* Send the branch: the request printed with the changes over it (no copy),
 * else forward_copy. u, the target's URI, is taken. */
static int forward_send(sip_proxy_t *px, sip_proxy_req_t *pr, proxy_branch_t *b, osip_uri_t *u,
                        const char *hint)
{
    const sip_msg_t *req = proxy_req(pr);
    sip_print_over_t over = { .req_uri = u };
    osip_header_t *h;
    char mf[16], rr[2 * 160];
    int v = max_forwards(req, &h), rc = IMS_OK;

    sip_utoa(v < 0 ? 70 : v > 0 ? (unsigned long)v - 1 : 0, mf);
    over.mf = h;
    over.mf_value = mf;
    if (px->cfg.record_route && wants_record_route(req)) {
        rc = add_record_routes(px, pr, &b->dst, rr, sizeof(rr), &over.rr_len);
        over.rr = rr;
    }
    /* Logged before sending so that, across daemons, the log order is the wire order. */
    if (rc == IMS_OK && ims_log_get_level() >= IMS_LOG_INFO) {
        char to[64];

        IMS_INFO("%s forwarded to %s:%s", sip_msg_method(req), sip_proto_lname(b->dst.proto),
                 sip_addr_str(&b->dst.addr, to, sizeof(to)));
    }
    if (rc == IMS_OK)
        rc = sip_txn_client_forward(px->layer, req, &over, &b->dst, hint, proxy_branch_response,
                                    b, &b->ct);
    if (rc == IMS_DECLINED)
        return forward_copy(px, pr, b, u, &over, hint);
    osip_uri_free(u);
    if (rc != IMS_OK && !b->final_code)
        b->final_code = 503;
    return rc;
}

/* Build and send one branch. IMS_OK, or IMS_ERROR with b->final_code set. */
static int forward_branch(sip_proxy_t *px, sip_proxy_req_t *pr, proxy_branch_t *b)
{
    const sip_msg_t *req = proxy_req(pr);
    osip_uri_t *u = NULL;
    char hint[16];
    int rc;

    if (b->target && (osip_uri_init(&u) != 0 || osip_uri_parse(u, b->target) != 0)) {
        osip_uri_free(u);
        b->final_code = 400;
        return IMS_ERROR;
    }
    rc = b->has_dst ? IMS_OK : next_hop_of(px, req, u ? u : req->m->req_uri, &b->dst);
    if (rc != IMS_OK) {
        osip_uri_free(u);
        b->final_code = rc == IMS_DECLINED ? 404 : 503;
        return IMS_ERROR;
    }
    loop_hint(pr->loop_hash, hint);
    if (forward_send(px, pr, b, u, hint) != IMS_OK) {
        if (!b->final_code)
            b->final_code = 503;  /* §16.9: a transport error counts as 503 */
        return IMS_ERROR;
    }
    sip_txn_set_on_end(b->ct, proxy_branch_end, b);
    if (pr->reply_timeout_ms) {
        b->reply_wait = true;
        ims_timer_start(px->loop, &b->timer_c, pr->reply_timeout_ms, proxy_reply_timeout, b);
    } else if (pr->is_invite) {
        ims_timer_start(px->loop, &b->timer_c, px->cfg.timer_c_ms, proxy_timer_c, b);
    }
    px->stats.forwarded++;
    return IMS_OK;
}

int sip_proxy_forward(sip_proxy_req_t *pr)
{
    sip_proxy_t *px = pr->px;
    int sent = 0, first;

    if (!pr->st || pr->forwarded || pr->final_sent)
        return IMS_ERROR;
    if (pr->cancelled)
        return sip_proxy_reply(pr, 487, NULL) == IMS_OK ? IMS_OK : IMS_ERROR;
    first = pr->round;
    if (pr->nbranches == first && sip_proxy_add_target(pr, NULL, NULL) != IMS_OK) {
        sip_proxy_reply(pr, 500, NULL);
        return IMS_ERROR;
    }
    if (first > 0) {
        /* A new round from on_failure: the last one's best is not this one's. */
        sip_msg_free(pr->best);
        pr->best = NULL;
        pr->best_code = 0;
    }
    pr->forwarded = true;
    pr->pending = pr->nbranches - first;
    for (int i = first; i < pr->nbranches; i++)
        if (forward_branch(px, pr, pr->br[i]) == IMS_OK)
            sent++;
    /* Record each failure as that branch's outcome; the last one to complete
     * sends the best response (possibly now, if nothing could be sent). */
    for (int i = first; i < pr->nbranches; i++)
        if (!pr->br[i]->ct && pr->br[i]->final_code)
            proxy_branch_failed(pr->br[i], pr->br[i]->final_code);
    return sent ? IMS_OK : IMS_ERROR;
}

void sip_proxy_set_reply_timeout(sip_proxy_req_t *pr, uint32_t ms)
{
    sip_proxy_t *px = pr->px;

    pr->reply_timeout_ms = ms;
    for (int i = pr->round; i < pr->nbranches; i++) {
        proxy_branch_t *b = pr->br[i];

        if (!b->reply_wait || b->done || !b->ct)
            continue;
        if (ms) {
            ims_timer_start(px->loop, &b->timer_c, ms, proxy_reply_timeout, b);
            continue;
        }
        b->reply_wait = false;
        ims_timer_stop(px->loop, &b->timer_c);
        if (pr->is_invite)
            ims_timer_start(px->loop, &b->timer_c, px->cfg.timer_c_ms, proxy_timer_c, b);
    }
}

/* ---- entry from the transaction layer ---- */

static bool validate(sip_proxy_t *px, sip_proxy_req_t *pr)
{
    osip_header_t *h;
    char unsupported[64];

    if (max_forwards(proxy_req(pr), &h) == 0) {
        px->stats.too_many_hops++;
        sip_proxy_reply(pr, 483, NULL);
        return false;
    }
    if (!proxy_require_ok(px, proxy_req(pr), unsupported, sizeof(unsupported))) {
        sip_msg_t *r = sip_msg_make_response(proxy_req(pr), 420, NULL, NULL);

        if (r) {
            sip_msg_header_add(r, "Unsupported", unsupported);
            pr->final_sent = true;
            sip_txn_server_reply(pr->st, r);
            proxy_req_settle(pr);
        }
        return false;
    }
    return true;
}

static void on_request(void *arg, sip_txn_t *st, const sip_msg_t *creq)
{
    sip_proxy_t *px = arg;
    /* The server transaction keeps the request only to match retransmissions
     * (Via, CSeq) and to build responses; rewriting its Route and Request-URI
     * here saves a copy per request and changes neither. */
    sip_msg_t *req = (sip_msg_t *)creq;
    sip_proxy_req_t *pr;

    px->stats.requests++;
    if (strcmp(sip_msg_method(req), "CANCEL") == 0) {
        proxy_handle_cancel(px, st, req);
        return;
    }
    pr = calloc(1, sizeof(*pr));
    if (!pr)
        abort();
    pr->px = px;
    pr->id = ++px->next_id;
    pr->st = st;
    pr->is_invite = sip_txn_is_invite(st);
    if (ims_hash_insert_n(px->reqs, (const char *)&pr->id, sizeof(pr->id), pr) != IMS_OK)
        abort();
    sip_txn_set_data(st, pr);
    sip_txn_set_on_end(st, on_server_end, pr);

    if (pr->is_invite)
        sip_txn_server_trying(st);
    if (!validate(px, pr))
        return;
    proxy_preprocess_routes(px, req, &pr->route);
    /* A request back from an AS, or spiralling through us toward the other
     * side, differs from its earlier self only in the Route entry it reached
     * us by (its ODI, orig): that is part of its identity for loop detection. */
    pr->loop_hash = fnv(loop_hash(req), pr->route.user) ^ (pr->route.orig ? 0x9e3779b9u : 0);
    if (is_loop(px, req, pr->loop_hash)) {
        px->stats.loops++;
        sip_proxy_reply(pr, 482, NULL);
        return;
    }
    if (px->handler.on_request && px->handler.on_request(px->arg, pr, req) != IMS_DECLINED)
        return;
    if (osip_list_size(&req->m->routes) == 0 && uri_is_local(px, req->m->req_uri) &&
        !px->cfg.has_next_hop) {
        /* Addressed to us with nowhere to go: answer keep-alive OPTIONS, refuse the rest. */
        sip_proxy_reply(pr, strcmp(sip_msg_method(req), "OPTIONS") == 0 ? 200 : 404, NULL);
        return;
    }
    sip_proxy_forward(pr);
}

sip_proxy_t *sip_proxy_new(sip_txn_layer_t *layer, const sip_proxy_cfg_t *cfg,
                           const sip_proxy_handler_t *handler, void *arg)
{
    sip_proxy_t *px = calloc(1, sizeof(*px));
    sip_txn_user_t user = {
        .on_request = on_request,
        .on_ack = proxy_on_ack,
        .on_stray_response = proxy_on_stray_response,
    };

    if (!px)
        abort();
    px->layer = layer;
    px->tp = sip_txn_layer_transport(layer);
    px->loop = sip_txn_layer_loop(layer);
    if (cfg)
        px->cfg = *cfg;
    else
        sip_proxy_cfg_defaults(&px->cfg);
    if (handler)
        px->handler = *handler;
    px->arg = arg;
    px->reqs = ims_hash_new(1024);
    if (!px->reqs)
        abort();
    ims_timer_init(&px->reaper);
    collect_locals(px);
    sip_txn_layer_set_user(layer, &user, px);
    return px;
}

static void drop_req(void *arg, const char *key, void *value)
{
    req_release(arg, value);
}

void sip_proxy_free(sip_proxy_t *px)
{
    if (!px)
        return;
    /* The layer is freed by its owner after us, without on_end hooks; drop our
     * requests and their timers here. */
    ims_hash_foreach(px->reqs, drop_req, px);
    reap_retired(px->loop, &px->reaper, px);
    ims_timer_stop(px->loop, &px->reaper);
    ims_hash_free(px->reqs);
    free(px);
}

const sip_proxy_stats_t *sip_proxy_stats(const sip_proxy_t *px)
{
    return &px->stats;
}
