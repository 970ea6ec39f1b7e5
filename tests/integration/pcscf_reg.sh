#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The P-CSCF alone (TS 24.229 §5.2.2, §5.2.3, §5.2.6.3) between UEs and a fake home network,
# all on 127.0.0.1 UDP: a Python "I-CSCF" and "S-CSCF" (raw sockets, no SIP stack) check every
# message the P-CSCF sends them and answer as the real ones would.
#   1. a UE registers with a forged P-Asserted-Identity, P-Preferred-Identity, integrity-
#      protected="yes", Security-Client and sec-agree (Require, Proxy-Require, Supported): the
#      REGISTER reaching the I-CSCF carries none of them, but our Path on top,
#      P-Visited-Network-ID, a P-Charging-Vector icid and integrity-protected="no", and has no
#      Route left. (Acceptance: a forged P-Asserted-Identity never reaches the S-CSCF side.)
#   2. after the 200 OK the P-CSCF subscribes to the UE's reg event at the S-CSCF by the
#      Service-Route (R-URI, From, To, P-Asserted-Identity, Contact, Event, Accept checked);
#      an active NOTIFY gets 200, a NOTIFY of an unknown subscription 481.
#   3. the registered UE's MESSAGEs go to the S-CSCF by its Service-Route whatever Route the UE
#      set, with P-Asserted-Identity = its preferred identity when registered, else the default.
#      A NOTIFY from the S-CSCF toward the UE's contact goes there (not to the outbound
#      proxy) with the S-CSCF's P-Asserted-Identity kept (a trusted node, in sip.hosts).
#   4. an unregistered UE's MESSAGE is refused with 403 (TS 24.229 §5.2.6.3.1): nothing
#      reaches the I-CSCF or the S-CSCF.
#   5. a NOTIFY terminated/deactivated (what the S-CSCF sends after an RTR) drops the UE: its
#      next MESSAGE is treated as unregistered (403).
#   6. a registration granted 2 s expires by itself; a re-registration followed by Expires: 0
#      de-registers.
# The daemon log must show each step, and the daemon must exit 0 on SIGTERM (ASan clean).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
it_init 17200

pick_port_into P
pick_port_into I
pick_port_into S
pick_port_into U1
pick_port_into U2
pick_port_into U3
cfg=$IT_WORK/pcscf.cfg
cat >"$cfg" <<EOF
log_level = "info";
sip = {
  listen = ( "udp:127.0.0.1:$P" );
  aliases = ( "pcscf.test.example" );
  hosts = ( "icscf.test.example=127.0.0.1:$I", "scscf.test.example=127.0.0.1:$S" );
};
proxy = { record_route = true; outbound = "udp:127.0.0.1:$I"; proxy_require_ok = "sec-agree"; };
pcscf = {
  icscf = "sip:icscf.test.example;lr";
  visited_network = "visited.test";
};
EOF
start_proxy pxpid pcscf "$P" "udp:127.0.0.1:$I" -c "$cfg"
log=$IT_WORK/pcscf-$P.log

python3 - "$P" "$I" "$S" "$U1" "$U2" "$U3" "$log" <<'PY' || fail "fake core: see above" "$pxpid"
import re, socket, sys, time

P, I, S, U1, U2, U3 = (int(x) for x in sys.argv[1:7])
LOG = sys.argv[7]
H = "127.0.0.1"
DOM = "test.example"


def die(msg, text=""):
    print("FAIL: " + msg)
    if text:
        print(text)
    sys.exit(1)


def sock(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((H, port))
    s.settimeout(0.2)
    return s


ue1, ue2, ue3, icscf, scscf = sock(U1), sock(U2), sock(U3), sock(I), sock(S)


class Msg:
    def __init__(self, data, src):
        self.text = data.decode("utf-8", "replace")
        head, _, self.body = self.text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.start = lines[0]
        self.hdrs = []
        for line in lines[1:]:
            n, _, v = line.partition(":")
            self.hdrs.append((n.strip().lower(), v.strip()))
        self.src = src

    def all(self, name):
        out = []
        for n, v in self.hdrs:
            if n == name.lower():
                out += [x.strip() for x in re.split(r",(?![^<]*>)", v) if x.strip()]
        return out

    def one(self, name):
        v = self.all(name)
        return v[0] if v else None

    def method(self):
        return self.start.split(" ")[0]

    def status(self):
        return int(self.start.split(" ")[1]) if self.start.startswith("SIP/2.0") else 0


def recv(s, want, timeout=3.0):
    """Next message on s whose start line matches the regex want (others: retransmissions)."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            continue
        m = Msg(data, src)
        if re.match(want, m.start):
            return m
    die("nothing matching %r within %.1fs on port %d" % (want, timeout, s.getsockname()[1]))


def nothing(s, secs=0.6):
    end = time.time() + secs
    while time.time() < end:
        try:
            data, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        m = Msg(data, None)
        if not m.start.startswith("SIP/2.0 100"):
            die("unexpected message on port %d" % s.getsockname()[1], m.text)


def reply(s, req, code, reason, extra="", body="", ctype=None, totag="fake1"):
    hdrs = ["SIP/2.0 %d %s" % (code, reason)]
    for n, v in req.hdrs:
        if n in ("via", "from", "call-id", "cseq"):
            hdrs.append("%s: %s" % (n, v))
        elif n == "to":
            hdrs.append("to: %s%s" % (v, "" if ";tag=" in v else ";tag=" + totag))
    if extra:
        hdrs += extra.strip("\r\n").split("\r\n")
    if ctype:
        hdrs.append("Content-Type: " + ctype)
    hdrs.append("Content-Length: %d" % len(body))
    s.sendto(("\r\n".join(hdrs) + "\r\n\r\n" + body).encode(), req.src)


branch_n = [0]


def send_req(s, method, ruri, frm, to, cid, extra="", body="", ctype=None, cseq=1):
    branch_n[0] += 1
    port = s.getsockname()[1]
    hdrs = ["%s %s SIP/2.0" % (method, ruri),
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-t%d;rport" % (H, port, branch_n[0]),
            "Max-Forwards: 70", "From: %s;tag=f%d" % (frm, branch_n[0]), "To: " + to,
            "Call-ID: " + cid, "CSeq: %d %s" % (cseq, method)]
    if extra:
        hdrs += extra.strip("\r\n").split("\r\n")
    if ctype:
        hdrs.append("Content-Type: " + ctype)
    hdrs.append("Content-Length: %d" % len(body))
    s.sendto(("\r\n".join(hdrs) + "\r\n\r\n" + body).encode(), (H, P))


def check(cond, what, msg=None):
    if not cond:
        die(what, msg.text if msg else "")


def ok(what):
    print("ok: " + what)
    sys.stdout.flush()


ALICE = "sip:alice@" + DOM
CONTACT1 = "sip:alice@%s:%d" % (H, U1)
FORGED = ("P-Asserted-Identity: <sip:boss@%s>\r\nP-Preferred-Identity: <sip:boss@%s>\r\n"
          "Security-Client: ipsec-3gpp; alg=hmac-sha-1-96; spi-c=1; spi-s=2; port-c=3; port-s=4\r\n"
          "Require: sec-agree\r\nProxy-Require: sec-agree\r\nSupported: path, sec-agree\r\n"
          % (DOM, DOM))


def register(s, user, contact, expires, cid, cseq=1, forged=True):
    extra = ("Route: <sip:%s:%d;lr>\r\nContact: <%s>;expires=%d\r\nExpires: %d\r\n"
             'Authorization: Digest username="%s@%s", realm="%s", uri="sip:%s", nonce="", '
             'response="", integrity-protected="yes"\r\n'
             % (H, P, contact, expires, expires, user, DOM, DOM, DOM))
    if forged:
        extra += FORGED
    send_req(s, "REGISTER", "sip:" + DOM, "<sip:%s@%s>" % (user, DOM),
             "<sip:%s@%s>" % (user, DOM), cid, extra, cseq=cseq)


def answer_register(req, contact, granted, pau):
    extra = "Path: %s\r\n" % ", ".join(req.all("path"))
    if granted is not None:
        extra += "Contact: <%s>;expires=%d\r\n" % (contact, granted)
    extra += "P-Associated-URI: %s\r\nService-Route: <sip:orig@scscf.%s;lr>\r\n" % (pau, DOM)
    reply(icscf, req, 200, "OK", extra)


# ---- 1. REGISTER rewritten toward the I-CSCF ----
register(ue1, "alice", CONTACT1, 600000, "reg-alice")
r = recv(icscf, "REGISTER ")
check(r.start == "REGISTER sip:%s SIP/2.0" % DOM, "Request-URI kept", r)
for h in ("p-asserted-identity", "p-preferred-identity", "security-client", "route"):
    check(r.one(h) is None, "forwarded REGISTER still has " + h, r)
check("boss@" not in r.text, "forged identity forwarded", r)
check("sec-agree" not in r.text.lower(), "sec-agree forwarded", r)
check(r.all("path")[:1] == ["<sip:term@pcscf.test.example;lr>"], "our Path on top", r)
check(r.one("p-visited-network-id") == '"visited.test"', "P-Visited-Network-ID", r)
check(re.fullmatch(r"icid-value=[0-9a-f]{32};icid-generated-at=127\.0\.0\.1",
                   r.one("p-charging-vector") or ""), "P-Charging-Vector", r)
auth = [v for n, v in r.hdrs if n == "authorization"]
check(len(auth) == 1 and 'integrity-protected="no"' in auth[0] and '"yes"' not in auth[0]
      and 'username="alice@%s"' % DOM in auth[0], "Authorization integrity-protected", r)
answer_register(r, CONTACT1, 60, "<%s>, <tel:+15550001>" % ALICE)
resp = recv(ue1, r"SIP/2.0 200")
check(resp.one("service-route") == "<sip:orig@scscf.%s;lr>" % DOM, "200 reaches the UE", resp)
ok("REGISTER reached the I-CSCF without forged identities or sec-agree, with Path, "
   "P-Visited-Network-ID, P-Charging-Vector and integrity-protected=\"no\"")

# ---- 2. our reg-event SUBSCRIBE ----
sub = recv(scscf, "SUBSCRIBE ")
check(sub.start == "SUBSCRIBE %s SIP/2.0" % ALICE, "SUBSCRIBE R-URI = default IMPU", sub)
check(sub.one("event") == "reg", "Event: reg", sub)
check(sub.one("accept") == "application/reginfo+xml", "Accept", sub)
check(sub.one("route") == "<sip:orig@scscf.%s;lr>" % DOM, "Route = Service-Route", sub)
check(sub.one("from").startswith("<sip:pcscf.test.example>;tag="), "From", sub)
check(sub.one("to") == "<%s>" % ALICE, "To", sub)
check(sub.one("p-asserted-identity") == "<sip:pcscf.test.example>", "PAI of the P-CSCF", sub)
contact = sub.one("contact")
check(contact == "<sip:pcscf.test.example:%d>" % P, "Contact", sub)
reply(scscf, sub, 200, "OK", "Expires: 60\r\nContact: <sip:scscf.%s>" % DOM, totag="s-sub")
cid = sub.one("call-id")
RI = ('<?xml version="1.0"?><reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="%d" '
      'state="full"><registration aor="%s" id="a1" state="%s"><contact id="c1" state="%s" '
      'event="%s"><uri>%s</uri></contact></registration></reginfo>')


def notify(cid, version, rstate, cstate, event, substate):
    body = RI % (version, ALICE, rstate, cstate, event, CONTACT1)
    send_req(scscf, "NOTIFY", "sip:pcscf.test.example:%d" % P, "<%s>" % ALICE,
             "<sip:pcscf.test.example>;tag=x", cid,
             "Event: reg\r\nSubscription-State: %s\r\nContact: <sip:scscf.%s>" % (substate, DOM),
             body, "application/reginfo+xml", cseq=version + 1)
    return recv(scscf, r"SIP/2.0 \d+")


n = notify(cid, 0, "active", "active", "registered", "active;expires=60")
check(n.status() == 200, "active NOTIFY answered 200", n)
n = notify("no-such-subscription", 0, "active", "active", "registered", "active;expires=60")
check(n.status() == 481, "unknown reg NOTIFY answered 481", n)
ok("reg-event SUBSCRIBE by the Service-Route; NOTIFY 200, unknown subscription 481")

# ---- 3. a registered UE: identity asserted, Service-Route enforced ----
def message(s, cid, extra, route="<sip:evil.example;lr>"):
    """A MESSAGE with a preloaded Route: the P-CSCF, then (a UE's wish) route."""
    routes = "<sip:%s:%d;lr>" % (H, P) + (", " + route if route else "")
    send_req(s, "MESSAGE", "sip:bob@" + DOM, "<%s>" % ALICE, "<sip:bob@%s>" % DOM, cid,
             "Route: %s\r\n%s" % (routes, extra), "hi", "text/plain")


message(ue1, "m1", "P-Asserted-Identity: <sip:boss@%s>\r\nP-Preferred-Identity: <tel:+15550001>"
        % DOM)
m = recv(scscf, "MESSAGE ")
check(m.all("p-asserted-identity") == ["<tel:+15550001>"], "preferred identity asserted", m)
check(m.one("p-preferred-identity") is None and "boss@" not in m.text, "forgery removed", m)
check(m.all("route") == ["<sip:orig@scscf.%s;lr>" % DOM], "Route = Service-Route only", m)
reply(scscf, m, 200, "OK")
check(recv(ue1, r"SIP/2.0 \d+").status() == 200, "MESSAGE answered")
message(ue1, "m2", "P-Preferred-Identity: <sip:boss@%s>" % DOM)
m = recv(scscf, "MESSAGE ")
check(m.all("p-asserted-identity") == ["<%s>" % ALICE], "default identity asserted", m)
reply(scscf, m, 200, "OK")
recv(ue1, r"SIP/2.0 200")
ok("registered UE: P-Asserted-Identity from the registered set, Route = Service-Route")

# ---- 3b. from the network toward the UE (the NOTIFY of the UE's own reg subscription) ----
send_req(scscf, "NOTIFY", CONTACT1, "<%s>;tag=n1" % ALICE, "<%s>;tag=u9" % ALICE, "ue-sub",
         "Route: <sip:%s:%d;lr>\r\nEvent: reg\r\nSubscription-State: active;expires=60\r\n"
         "P-Asserted-Identity: <sip:scscf.%s>" % (H, P, DOM), "<reginfo/>",
         "application/reginfo+xml")
n = recv(ue1, "NOTIFY ")
check(n.start == "NOTIFY %s SIP/2.0" % CONTACT1, "NOTIFY reaches the UE's contact", n)
check(n.one("p-asserted-identity") == "<sip:scscf.%s>" % DOM, "a trusted node's PAI kept", n)
reply(ue1, n, 200, "OK")
check(recv(scscf, r"SIP/2.0 \d+").status() == 200, "UE's 200 back at the S-CSCF")
nothing(icscf)
ok("from the S-CSCF toward the UE: to its contact (not the outbound proxy), PAI kept")

# ---- 4. an unregistered UE: refused (24.229 5.2.6.3.1), nothing forwarded ----
message(ue2, "m3", "P-Asserted-Identity: <%s>" % ALICE, route=None)
check(recv(ue2, r"SIP/2.0 \d+").status() == 403, "unregistered UE's MESSAGE refused")
nothing(icscf)
nothing(scscf)
ok("unregistered UE: 403, nothing forwarded")

# ---- 5. network de-registration by NOTIFY ----
n = notify(cid, 1, "terminated", "terminated", "deactivated", "terminated;reason=deactivated")
check(n.status() == 200, "terminating NOTIFY answered 200", n)
message(ue1, "m4", "P-Asserted-Identity: <%s>" % ALICE, route=None)
check(recv(ue1, r"SIP/2.0 \d+").status() == 403, "dropped UE treated as unregistered")
nothing(icscf)
ok("NOTIFY terminated/deactivated dropped the UE")

# ---- 6. expiry and de-registration ----
CAROL = "sip:carol@%s:%d" % (H, U3)
register(ue3, "carol", CAROL, 600, "reg-carol", forged=False)
r = recv(icscf, "REGISTER ")
answer_register(r, CAROL, 2, "<sip:carol@%s>" % DOM)
recv(ue3, r"SIP/2.0 200")
sub = recv(scscf, "SUBSCRIBE ")
reply(scscf, sub, 200, "OK", "Expires: 2")
time.sleep(2.6)
register(ue3, "carol", CAROL, 600, "reg-carol", cseq=2, forged=False)
r = recv(icscf, "REGISTER ")
answer_register(r, CAROL, 600, "<sip:carol@%s>" % DOM)
recv(ue3, r"SIP/2.0 200")
sub = recv(scscf, "SUBSCRIBE ")
reply(scscf, sub, 403, "Forbidden")
# A refresh: the failed subscription is tried again; one outliving the registration is kept.
register(ue3, "carol", CAROL, 600, "reg-carol", cseq=3, forged=False)
r = recv(icscf, "REGISTER ")
answer_register(r, CAROL, 600, "<sip:carol@%s>" % DOM)
recv(ue3, r"SIP/2.0 200")
sub = recv(scscf, "SUBSCRIBE ")
reply(scscf, sub, 200, "OK", "Expires: 3600")
time.sleep(0.1)
register(ue3, "carol", CAROL, 600, "reg-carol", cseq=4, forged=False)
r = recv(icscf, "REGISTER ")
answer_register(r, CAROL, 600, "<sip:carol@%s>" % DOM)
recv(ue3, r"SIP/2.0 200")
nothing(scscf)
register(ue3, "carol", CAROL, 0, "reg-carol", cseq=5, forged=False)
r = recv(icscf, "REGISTER ")
answer_register(r, CAROL, None, "<sip:carol@%s>" % DOM)
recv(ue3, r"SIP/2.0 200")
ok("expiry after 2 s, re-registration, refreshes, de-registration with Expires: 0")
PY

wait_log() {
    local pat=$1 i
    for ((i = 0; i < 40; i++)); do
        grep -qE "$pat" "$log" && return 0
        sleep 0.05
    done
    fail "pcscf log lacks: $pat" "$pxpid"
}
wait_log "registered sip:alice@test.example from u:127.0.0.1:$U1 until \+60s"
wait_log "dropped sip:alice@test.example from u:127.0.0.1:$U1: reg-event deactivated"
wait_log "registration of sip:carol@test.example from u:127.0.0.1:$U3 expired"
wait_log "reg-event SUBSCRIBE for sip:carol@test.example failed: 403"
wait_log "deregistered sip:carol@test.example from u:127.0.0.1:$U3"
assert_alive "$pxpid"
stop_proxy "$pxpid"
grep -E "P-CSCF: 0 UEs registered; 3 registrations, 2 refreshes, 1 de-registrations, 1 expired,\
 1 dropped by reg-event, 1 identities stripped, 2 asserted, 4 SUBSCRIBEs \(1 failed\), 2 NOTIFYs" \
    "$log" >/dev/null || fail "final counters wrong: $(grep 'P-CSCF: ' "$log")"
ok "P-CSCF registration: forged identities never forwarded; Path, PVNI, PCV," \
    "integrity-protected; reg-event SUBSCRIBE/NOTIFY; identity assertion and Service-Route;" \
    "drop, expiry, de-registration"
