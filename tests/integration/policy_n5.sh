#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 7: the P-CSCF's policy client with its N5 backend (pcscf/policy-n5.c on
# pcscf/n5-client.c, Npcf_PolicyAuthorization over h2c) in the 127.0.1.x lab of lib/reg.sh,
# with tests/tools/test-pcf as the PCF on 127.0.1.50 and the P-CSCF's notifUri server on
# its own address (pcscf.policy = { backend = "n5"; n5 = { ... } }). Handsets A (subscriber
# 1, 127.0.1.100) and B (subscriber 2, 127.0.1.101) register with aka_ue.py and are played
# by sipp with the scenarios of lib/policy.sh (the ones policy_rx.sh uses). Every call goes
# P -> S -> I -> S -> P, so the P-CSCF holds two legs of it, each its own app session.
#   1. registration: one app session per UE for the signalling path (medComponents "0");
#   2. a call A -> B, hold re-INVITE (A sendonly, B recvonly), resume, BYE by A: per leg a
#      POST app-sessions at the 200 (ueIpv4 = the leg's UE's registered address, afAppId
#      MMTEL, dnn, notifUri, suppFeat, medComponents with fDescs both ways for RTP and
#      RTCP), a PATCH at each re-INVITE's 200 (fStatus ENABLED-UPLINK / -DOWNLINK on hold,
#      ENABLED on resume), POST .../delete at the BYE;
#   3. "reject 403" at the PCF: the call fails with 488 at A, B gets ACK + BYE (Reason
#      cause 488); no app session stays;
#   4. "terminate" of A's leg mid-call: the notification is answered 204, both UEs get a
#      BYE with Reason: SIP;cause=503;text="PCF terminated (ALL_SDF_DEACTIVATION)", both
#      legs' app sessions are deleted;
#   5. POL_CALLS (200) calls at 20 calls/s: each leg one POST and one delete; "stats" then
#      shows only the two signalling sessions;
#   5b. the PCF stopped (SIGSTOP) mid-connection: after timeout_ms (2 s) the call fails as
#      in 7; once it runs again (SIGCONT) it creates the late app session, which the P-CSCF
#      deletes at once (no session outlives its call);
#   6. de-registration deletes the signalling sessions: "stats" shows sessions=0;
#   7. the PCF killed: A and B register again (the registrations stand), a call fails at
#      once: B's leg answers 503, which reaches A as 500 (the S-CSCF's RFC 3261 §16.7 rule);
#      B gets ACK + BYE with Reason: SIP;cause=503.
# Checked: each sipp side's calls; the PCF's JSON records field by field; every app session
# created is deleted once; tshark decodes the HTTP/2 (PCF port and notifUri port) with no
# malformed frame and no expert error, and the requests it decodes are the ones recorded;
# the P-CSCF's stop line counts no policy session left. Needs root (capture on lo).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
# shellcheck source=lib/tshark.sh
. "$(dirname "$0")/lib/tshark.sh"
# shellcheck source=lib/policy.sh
. "$(dirname "$0")/lib/policy.sh"
pol_init 22300
PCF_IP=127.0.1.50
PCF=$(bin tests/test-pcf) || exit 1
REC=$IT_WORK/pcf.jsonl
PCAP=$IT_WORK/n5.pcap
API=/npcf-policyauthorization/v1/app-sessions
pick_port_into CPORT
pick_port_into PPORT
pick_port_into NPORT

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_set pcscf record_route true
reg_cfg_put pcscf pcscf policy "$(pol_n5_policy "$PCF_IP:$PPORT" "$NPORT")"
NOTIF=http://$REG_P:$NPORT/pcscf/n5

tshark_capture_start "tcp port $PPORT or tcp port $NPORT" "$PCAP"
"$PCF" --listen "$PCF_IP:$PPORT" --record "$REC" --control "127.0.0.1:$CPORT" \
    >"$IT_WORK/pcf.log" 2>&1 {REG_LOCK_FD}>&- &
PCF_PID=$!
track "$PCF_PID" test-pcf "$IT_WORK/pcf.log"
wait_listen "$PCF_PID" tcp "$PPORT"

N_CREATED='len([x for x in r if x.get("method") == "POST" and x["status"] == 201])'
N_DELETED='len([x for x in r if x.get("path", "").endswith("/delete") and x["status"] == 204])'
# n5_id IP: the records expression for the app session id of IP's last call leg.
n5_id() {
    printf '%s' '[x["location"].rsplit("/", 1)[1] for x in r if x.get("status") == 201 and
        x["json"]["ascReqData"].get("ueIpv4") == "'"$1"'" and
        "1" in x["json"]["ascReqData"]["medComponents"]][-1]'
}

reg_lab_start
grep -q "P-CSCF policy: N5 toward $PCF_IP:$PPORT, notifUri $NOTIF" "$REG_DIR/pcscf.log" ||
    fail "the P-CSCF did not start its N5 backend" "${REG_PID[pcscf]}"
say "P-CSCF policy: N5 toward $PCF_IP:$PPORT, notifUri $NOTIF"

# ---- 1. registrations: a signalling app session each ----
pick_port_into PA
pick_port_into PB
sess_register 1 "$A_IP" "$PA"
sess_register 2 "$B_IP" "$PB"
wait_recs "$N_CREATED" 2 5 || fail "1. no signalling app session for each UE: $(cat "$REC")"
say "1. signalling app sessions: $(recs "$N_CREATED") created"

pol_scenarios
for x in a b; do
    sed 's/Bearer released/PCF terminated .ALL_SDF_DEACTIVATION./' "$IT_WORK/sc/${x}_asr.xml" \
        >"$IT_WORK/sc/${x}_term.xml"
done

# ---- 2. call with hold and resume ----
part 2 "call, hold, resume, BYE" a_hold b_hold 1
wait_recs "$N_DELETED" 2 5 || fail "2. the two legs were not deleted"
say "2. call with hold/resume: $(recs '" ".join(x["method"] for x in r if "method" in x)')"

# ---- 3. the PCF refuses ----
ctl reject 403
[ "$REPLY" = "ok reject 403" ] || fail "3. reject: $REPLY"
part 3 "PCF rejects (403): 488 at A, ACK + BYE at B" a_rejected b_rejected 1
ctl reject 0
ctl stats
say "3. PCF stats after the refused call: $REPLY"
[[ $REPLY == "sessions=2 "* ]] || fail "3. sessions left after the refused call: $REPLY"

# ---- 4. terminate of A's leg mid-call ----
mid_call 4 "BYE with Reason after the terminate" term "$N_CREATED" "$(n5_id "$A_IP")" terminate
wait_recs "$N_DELETED" 4 5 || fail "4. the terminated call's app sessions were not deleted"

# ---- 5. many calls ----
t0=$SECONDS
part 5 "plain calls" a_call b_call "$NCALLS" -r 20
say "5. $NCALLS calls in $((SECONDS - t0)) s"
wait_recs "$N_DELETED" $((4 + 2 * NCALLS)) 10 || fail "5. deletes: $(recs "$N_DELETED")"
ctl stats
say "5. PCF stats: $REPLY"
[[ $REPLY == "sessions=2 "* ]] || fail "5. sessions other than the two signalling ones: $REPLY"

# ---- 5b. the PCF stops answering: 503 after timeout_ms; its late session is deleted ----
kill -STOP "$PCF_PID"
t0=$(($(date +%s%N) / 1000000))
part 5b "PCF silent: 503 from B's leg after 2 s (500 at A), ACK + BYE at B" a_down b_down 1
ms=$(($(date +%s%N) / 1000000 - t0))
kill -CONT "$PCF_PID"
say "5b. with the PCF stopped the call failed in $ms ms (timeout_ms 2000)"
[ "$ms" -ge 1900 ] && [ "$ms" -lt 8000 ] || fail "5b. the call failed in $ms ms"
wait_recs "$N_DELETED" $((5 + 2 * NCALLS)) 5 || fail "5b. the late app session was not deleted"
ctl stats
[[ $REPLY == "sessions=2 "* ]] || fail "5b. sessions: $REPLY"

# ---- 6. de-registration ----
pol_deregister 6
wait_recs "$N_DELETED" $((7 + 2 * NCALLS)) 5 || fail "6. the signalling sessions were not deleted"
ctl stats
say "6. after de-registration: $REPLY"
[[ $REPLY == "sessions=0 "* ]] || fail "6. sessions left: $REPLY"

# ---- 7. the PCF gone: registration still works, a call fails 503 at once ----
stop_proxy "$PCF_PID"
tshark_capture_stop "$PCAP"
down_part PCF

for d in pcscf icscf scscf ims-hss; do assert_alive "${REG_PID[$d]}"; done
reg_lab_stop
grep -E "P-CSCF policy: " "$REG_DIR/pcscf.log" | sed 's/^/    /'
grep -qE "P-CSCF policy: 0 sessions at stop" "$REG_DIR/pcscf.log" ||
    fail "the P-CSCF's stop line: want 0 sessions left"

# ---- what the PCF recorded ----
python3 - "$REC" "$A_IP" "$B_IP" "$PA" "$PB" "$REG_P" "$NOTIF" "$API" "$NCALLS" <<'EOF' ||
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
a_ip, b_ip, pa, pb, p_ip, notif, api, ncalls = sys.argv[2:10]
ncalls = int(ncalls)
MMTEL = '+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"'
def check(cond, what):
    if not cond:
        sys.exit("record: " + what)
reqs = [r for r in recs if "method" in r]
creates = [r for r in reqs if r["method"] == "POST" and r["path"] == api]
check(all(r["headers"]["content-type"] == "application/json" for r in creates), "create ctype")
for r in creates:
    d = r["json"]["ascReqData"]
    check(d["afAppId"] == MMTEL and d["dnn"] == "ims" and d["suppFeat"] == "0" and
          d["notifUri"] == notif and "ueIpv6" not in d, "create head %s" % d)
def sid(r):
    return r["location"].rsplit("/", 1)[1]
def session(r):
    """r's app session: its create and every request on its path."""
    p = api + "/" + sid(r)
    return [r] + [x for x in reqs if x["path"] == p or x["path"].startswith(p + "/")]
# 1. signalling
sig = [r for r in creates if list(r["json"]["ascReqData"]["medComponents"]) == ["0"]]
check(len(sig) >= 2, "signalling creates: %d" % len(sig))
for r, ip, port in ((sig[0], a_ip, pa), (sig[1], b_ip, pb)):
    d = r["json"]["ascReqData"]
    check(r["status"] == 201 and d["ueIpv4"] == ip and "afChargId" not in d, "sig %s" % d)
    m = d["medComponents"]["0"]
    check(m["medCompN"] == 0 and m["medSubComps"] == {"1": {"fNum": 1,
          "flowUsage": "AF_SIGNALLING", "fDescs": [
              "permit out 17 from %s %s to %s 5060" % (ip, port, p_ip),
              "permit out 17 from %s 5060 to %s %s" % (p_ip, ip, port)]}}, "sig media %s" % m)
calls = [r for r in creates if "1" in r["json"]["ascReqData"]["medComponents"]]
def leg(ip, i):
    return session([r for r in calls if r["status"] == 201 and
                    r["json"]["ascReqData"]["ueIpv4"] == ip][i])
def flows(ue, ue_port, rem, rem_port):
    return {"1": {"fNum": 1, "flowUsage": "NO_INFO", "fDescs": [
                "permit out 17 from %s %d to %s %d" % (ue, ue_port, rem, rem_port),
                "permit out 17 from %s %d to %s %d" % (rem, rem_port, ue, ue_port)]},
            "2": {"fNum": 2, "flowUsage": "RTCP", "fDescs": [
                "permit out 17 from %s %d to %s %d" % (ue, ue_port + 1, rem, rem_port + 1),
                "permit out 17 from %s %d to %s %d" % (rem, rem_port + 1, ue, ue_port + 1)]}}
# 2. hold and resume, leg by leg
for ue, up, rem, rp, hold_status in ((a_ip, 40000, b_ip, 42000, "ENABLED-UPLINK"),
                                     (b_ip, 42000, a_ip, 40000, "ENABLED-DOWNLINK")):
    s = leg(ue, 0)
    seq = [(r["method"], r["status"]) for r in s]
    check(seq == [("POST", 201), ("PATCH", 200), ("PATCH", 200), ("POST", 204)],
          "%s leg: %s" % (ue, seq))
    init, hold, res, dele = s
    check(dele["path"].endswith("/delete") and "json" not in dele, "%s delete" % ue)
    d = init["json"]["ascReqData"]
    check(isinstance(d.get("afChargId", ""), str), "%s afChargId (ICID)" % ue)
    m = d["medComponents"]
    check(list(m) == ["1"] and m["1"]["medCompN"] == 1 and m["1"]["medType"] == "AUDIO" and
          m["1"]["fStatus"] == "ENABLED", "%s component %s" % (ue, m))
    check(m["1"]["medSubComps"] == flows(ue, up, rem, rp), "%s flows %s" % (ue, m))
    check(m["1"].get("codecs"), "%s codec data" % ue)
    for r, st in ((hold, hold_status), (res, "ENABLED")):
        check(r["headers"]["content-type"] == "application/merge-patch+json", "PATCH ctype")
        check(list(r["json"]) == ["ascReqData"] and
              sorted(r["json"]["ascReqData"]) == ["medComponents", "servInfStatus"] and
              r["json"]["ascReqData"]["servInfStatus"] == "FINAL", "PATCH body %s" % r["json"])
        hm = r["json"]["ascReqData"]["medComponents"]["1"]
        check(hm["fStatus"] == st, "%s PATCH fStatus %s, want %s" % (ue, hm["fStatus"], st))
        check(hm["medSubComps"] == flows(ue, up, rem, rp), "%s PATCH flows" % ue)
print("record: call with hold/resume: both legs POST (flows both ways, RTP and RTCP),"
      " 2 PATCHes (fStatus), delete")
# 3. refused: one create answered 403 (B's leg: its 200 comes first), nothing to delete
rej = [r for r in creates if r["status"] == 403]
check(len(rej) == 1 and rej[0]["json"]["ascReqData"]["ueIpv4"] == b_ip, "refused %s" % rej)
# 4. terminate on A's leg: answered 204, then both legs deleted
term = [r for r in recs if r.get("cmd") == "terminate"]
a4, b4 = leg(a_ip, 1), leg(b_ip, 1)
check(len(term) == 1 and term[0].get("status") == 204 and term[0]["id"] == sid(a4[0]),
      "terminate %s (A's leg %s)" % (term, sid(a4[0])))
for s in (a4, b4):
    check([(r["method"], r["status"]) for r in s] == [("POST", 201), ("POST", 204)],
          "terminated call's leg %s" % [(r["method"], r["path"]) for r in s])
# 5b. the late create (PCF stopped): created after the P-CSCF gave up, deleted at once
late = [r for r in calls if r["status"] == 201][-1]
check(late["json"]["ascReqData"]["ueIpv4"] == b_ip and
      [x["method"] for x in session(late)] == ["POST", "POST"], "late session %s" % late)
# every app session created is deleted once
opened = [sid(r) for r in creates if r["status"] == 201]
deleted = [r["path"][len(api) + 1:-len("/delete")] for r in reqs if r["path"].endswith("/delete")]
check(len(set(opened)) == len(opened), "app session ids reused")
check(sorted(deleted) == sorted(opened), "delete per session: %d opened, %d deletes"
      % (len(opened), len(deleted)))
check(all(r["status"] == 204 for r in reqs if r["path"].endswith("/delete")), "204s")
check(len(opened) == 2 + 2 + 2 + 2 * ncalls + 1, "sessions opened: %d" % len(opened))
print("record: %d app sessions opened, each deleted once; %d requests checked"
      % (len(opened), len(reqs)))
EOF
    fail "PCF record check failed (record: $REC)"

# ---- what Wireshark saw ----
FIELDS=$IT_WORK/h2.tsv
tshark -n -r "$PCAP" -d "tcp.port==$PPORT,http2" -d "tcp.port==$NPORT,http2" -T fields \
    -E separator=/t -E occurrence=a -E aggregator=';' -e frame.number \
    -e http2.headers.method -e http2.headers.path -e http2.headers.status \
    -e _ws.expert.severity -e _ws.expert.message -e _ws.malformed >"$FIELDS" \
    2>"$IT_WORK/tshark.err" || fail "tshark failed: $(cat "$IT_WORK/tshark.err")"
python3 - "$FIELDS" "$REC" <<'EOF' || fail "tshark HTTP/2 check failed ($FIELDS)"
import json, sys
ERR = 0x00800000
methods, nstatus, bad = [], 0, []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t") + [""] * 7
    num, meth, path, status, sev, msg, malformed = f[:7]
    methods += list(zip(meth.split(";") if meth else [], path.split(";") if path else []))
    nstatus += len([s for s in status.split(";") if s])
    for s, m in zip(sev.split(";") if sev else [], msg.split(";") if msg else []):
        if int(s, 0) >= ERR:
            bad.append("frame %s: %s" % (num, m))
    if malformed:
        bad.append("frame %s: malformed" % num)
if bad:
    sys.exit("expert errors: %s" % bad[:10])
recs = [json.loads(l) for l in open(sys.argv[2])]
want = [(r["method"], r["path"]) for r in recs if "method" in r]
pcf_side = [mp for mp in methods if "/npcf-policyauthorization/" in mp[1]]
if pcf_side != want:
    sys.exit("decoded %d requests, recorded %d; first difference at %s" % (
        len(pcf_side), len(want),
        next((i for i, (x, y) in enumerate(zip(pcf_side, want)) if x != y), "the end")))
if [mp for mp in methods if mp[1].endswith("/terminate")] != [("POST", "/pcscf/n5/terminate")]:
    sys.exit("terminate notification not decoded")
print("tshark: %d HTTP/2 requests decoded (%d to the PCF, 1 notification), %d responses, "
      "no malformed frame, no expert error" % (len(methods), len(pcf_side), nstatus))
EOF

ok "N5 policy: signalling app session per registration, POST at answer (flows both ways," \
    "both legs), PATCH on hold/resume, delete at BYE; 403 -> 488; terminate -> BYE with" \
    "Reason to both UEs; PCF silent or down -> 503; $NCALLS calls and de-registration leave" \
    "no app session; Wireshark clean"
