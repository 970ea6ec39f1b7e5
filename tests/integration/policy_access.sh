#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 7: one P-CSCF serving a 4G and a 5G UE at once (pcscf.policy.access, policy-cfg.c),
# preconditions, late offers and the release at shutdown, in the 127.0.1.x lab of lib/reg.sh
# with tests/tools/test-pcrf (Rx, 127.0.1.50:3868) AND tests/tools/test-pcf (N5,
# 127.0.1.51) as policy servers: backend "rx" by default, access-type 3GPP-NR -> "n5",
# 3GPP-E-UTRAN -> "rx". Handset A (subscriber 1, 127.0.1.100) registers with
# P-Access-Network-Info 3GPP-E-UTRAN-FDD, B (subscriber 2, 127.0.1.101) with 3GPP-NR-FDD
# (aka_ue.py --pani), then sipp plays them (scenarios written here with lib/policy.sh's
# helpers). Every call goes P -> S -> I -> S -> P: A's leg is authorised over Rx, B's over N5.
#   1. registration: a signalling AAR for A only at the PCRF, a signalling POST for B only at
#      the PCF;
#   2. a call A -> B with SDP: the PCRF gets AAR + STR for A's address (and nothing for B's),
#      the PCF POST + delete with ueIpv4 = B (and nothing for A's);
#   3. preconditions (RFC 3312: a=des:qos mandatory local sendrecv, a=curr:qos local none):
#      each leg is authorised on the INVITE's offer, before B answers: A's AAR INITIAL with
#      Service-Info-Status PRELIMINARY (1) and the far end "any", B's POST with servInfStatus
#      PRELIMINARY and B's end "any"; B's 183 answer updates both (AAR UPDATE with FINAL and
#      full flows, PATCH with servInfStatus FINAL);
#   4. late offer answered in the ACK: INVITE without SDP, B's 200 offers, A's ACK answers:
#      both legs authorised from the ACK (flows of both ends), released at BYE;
#   5. late offer answered in the PRACK: B's reliable 183 offers (Require: 100rel, RSeq),
#      A's PRACK answers: both legs authorised from the PRACK;
#   6. the PCRF refuses (reject 5063) the ACK's answer of a late-offer call: the call is up
#      already, so both A and B get a BYE with Reason: SIP;cause=488 from the P-CSCF;
#   6b. it refuses the PRACK's answer: the call is early and nothing is held, so the next
#      INVITE response (B's 200) is held and the INVITE fails 488 at A, B gets ACK + BYE;
#   7. SIGTERM with a call up and both registrations (sip.drain_ms 4000: the drain gives up
#      on the call): the P-CSCF ends every session at its server before it exits, so
#      test-pcrf and test-pcf count sessions=0.
# Checked also: `imsctl policy` shows backend rx+n5 with the sessions per backend, /metrics
# ims_policy_backend_sessions; every Rx session answered 2001 gets one STR, every app session
# one delete; the P-CSCF's stop line. Exit 77 without sipp/python3/ss/tshark.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
# shellcheck source=lib/policy.sh
. "$(dirname "$0")/lib/policy.sh"
pol_init 23300
PCRF_IP=127.0.1.50
PCF_IP=127.0.1.51
PCRF=$(bin tests/test-pcrf) || exit 1
PCF=$(bin tests/test-pcf) || exit 1
IMSCTL=$(bin imsctl) || exit 1
RREC=$IT_WORK/pcrf.jsonl
NREC=$IT_WORK/pcf.jsonl
PANI_A="3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=0010100010019B"
PANI_B="3GPP-NR-FDD; nrcgi=001010000000001"
pick_port_into RPORT
pick_port_into NPORT
pick_port_into PPORT
pick_port_into NOTIF_PORT

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_set pcscf record_route true
reg_cfg_put pcscf sip drain_ms 4000
POLICY="{ backend = \"rx\"; timeout_ms = 2000; release_ms = 1000;"
POLICY+=" access = ( { pani = \"3GPP-NR\"; backend = \"n5\"; },"
POLICY+=" { pani = \"3GPP-E-UTRAN\"; backend = \"rx\"; } );"
POLICY+=" rx = { identity = \"pcscf.$D\"; realm = \"$D\"; tc_ms = 1000; dest_realm = \"$D\";"
POLICY+=" peers = ( { host = \"pcrf.$D\"; addr = \"$PCRF_IP\"; port = 3868; connect = true; } ); };"
POLICY+=" n5 = { pcf = \"$PCF_IP:$PPORT\"; notif_listen = \"$REG_P:$NOTIF_PORT\"; }; }"
reg_cfg_put pcscf pcscf policy "$POLICY"
reg_cfg_add pcscf "ctl = { socket = \"$REG_DIR/pcscf.ctl\"; };"

"$PCRF" --origin-host "pcrf.$D" --origin-realm "$D" --listen "$PCRF_IP:3868" \
    --af "pcscf.$D@$REG_P" --record "$RREC" --control "127.0.0.1:$RPORT" \
    >"$IT_WORK/pcrf.log" 2>&1 {REG_LOCK_FD}>&- &
PCRF_PID=$!
track "$PCRF_PID" test-pcrf "$IT_WORK/pcrf.log"
"$PCF" --listen "$PCF_IP:$PPORT" --record "$NREC" --control "127.0.0.1:$NPORT" \
    >"$IT_WORK/pcf.log" 2>&1 {REG_LOCK_FD}>&- &
PCF_PID=$!
track "$PCF_PID" test-pcf "$IT_WORK/pcf.log"
wait_listen "$PCF_PID" tcp "$PPORT"
for ((i = 0; i < 100; i++)); do
    reg_bound tcp "$PCRF_IP" 3868 && break
    alive "$PCRF_PID" || fail "test-pcrf exited at start"
    sleep 0.05
done

# rrecs / nrecs EXPR: over the PCRF's / PCF's records; rwait / nwait EXPR WANT SECONDS.
rrecs() { REC=$RREC recs "$1"; }
nrecs() { REC=$NREC recs "$1"; }
rwait() { REC=$RREC wait_recs "$@"; }
nwait() { REC=$NREC wait_recs "$@"; }
N_STR='len([x for x in r if x["cmd"] == "STR"])'
N_DEL='len([x for x in r if x.get("path", "").endswith("/delete")])'
N_AAR='len([x for x in r if x["cmd"] == "AAR"])'
N_POST='len([x for x in r if x.get("method") == "POST" and not x["path"].endswith("/delete")])'
N_REQ='len([x for x in r if "method" in x])'

reg_lab_start
for ((i = 0; i < 100; i++)); do
    grep -q "dia: peer pcrf\\.$(sess_re "$D") OPEN" "$REG_DIR/pcscf.log" && break
    sleep 0.05
done
grep -q "P-CSCF policy: backend rx+n5" "$REG_DIR/pcscf.log" ||
    fail "the P-CSCF did not start both backends" "${REG_PID[pcscf]}"
grep -q "dia: peer pcrf\\.$(sess_re "$D") OPEN" "$REG_DIR/pcscf.log" ||
    fail "the P-CSCF's Rx peer is not OPEN after 5 s" "${REG_PID[pcscf]}"
say "$(grep -o 'P-CSCF policy: by access type.*' "$REG_DIR/pcscf.log")"

# ---- 1. registrations with P-Access-Network-Info ----
# pani_register N IP PORT PANI: subscriber N registers from IP:PORT on that access.
pani_register() {
    python3 "$IMS_SOURCE_DIR/tests/tools/aka_ue.py" --pcscf "$REG_P:5060" --local "$2" \
        --port "$3" --domain "$D" --impi "$(reg_impi "$1")" --impu "$(reg_impu "$1")" \
        --k "$REG_KHEX" --op "$REG_OPHEX" --pani "$4" >"$IT_WORK/reg-$1.out" 2>&1 ||
        fail "subscriber $1 did not register: $(tail -3 "$IT_WORK/reg-$1.out")"
}
pick_port_into PA
pick_port_into PB
pani_register 1 "$A_IP" "$PA" "$PANI_A"
pani_register 2 "$B_IP" "$PB" "$PANI_B"
rwait "$N_AAR" 1 5 || fail "1. no signalling AAR for A: $(cat "$RREC")"
nwait "$N_POST" 1 5 || fail "1. no signalling POST for B: $(cat "$NREC" 2>/dev/null)"
say "1. A ($PANI_A) -> Rx: $(rrecs "$N_AAR") AAR; B ($PANI_B) -> N5: $(nrecs "$N_POST") POST"

# ---- the scenarios ----
pol_scenarios
A_SDP="$A_IP 40000" B_SDP="$B_IP 42000"
# sdp_pre IP PORT VERSION LOCAL REMOTE: an audio SDP with qos preconditions (RFC 3312 §5):
# current status none both ways, LOCAL / REMOTE the strength wanted for each end.
sdp_pre() {
    sdp "$1" "$2" sendrecv "$3" | sed '$d'
    printf 'a=curr:qos local none\na=curr:qos remote none\n'
    printf 'a=des:qos %s local sendrecv\na=des:qos %s remote sendrecv\na=sendrecv\n' "$4" "$5"
}
# The INVITE's headers, for B's 200 after a PRACK (sipp's [last_*] are the PRACK's then).
KEEP_INVITE=$(
    echo '<recv request="INVITE" rrs="true"><action>'
    check vias 'Via:[^[:cntrl:]]*([[:cntrl:]]+Via:[^[:cntrl:]]*)*'
    check rrs 'Record-Route:[^[:cntrl:]]*([[:cntrl:]]+Record-Route:[^[:cntrl:]]*)*'
    echo '  <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="from"/>'
    echo '  <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="to"/>'
    echo '</action></recv>')
INVITE_200='<send retrans="500"><![CDATA[

SIP/2.0 200 OK
[$vias]
[$rrs]
From:[$from]
To:[$to];tag=[pid]B[call_number]
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:ue@[local_ip]:[local_port]>
Content-Length: 0

]]></send>'
# 3. preconditions: A offers, B answers at once in 183 and 200.
{
    req INVITE 1 inv "$(sdp_pre $A_SDP 1 mandatory optional)"
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="183" response_txn="inv"/>'
    echo '<recv response="200" response_txn="inv" rrs="true"/>'
    req ACK 1 inv
    echo '<pause milliseconds="200"/>'
    req BYE 2 bye
    echo '<recv response="200" response_txn="bye"/>'
} | sess_scenario a_pre
{
    echo '<recv request="INVITE" rrs="true"><action>'
    check des 'a=des:qos mandatory local sendrecv'; echo '</action></recv>'
    TAG=1 resp 183 "$(sdp_pre $B_SDP 1 mandatory mandatory)"
    TAG=1 resp 200 "$(sdp_pre $B_SDP 1 mandatory mandatory)"
    echo '<recv request="ACK"/><recv request="BYE"/>'
    ok200
    echo '<timewait milliseconds="500"/><Reference variables="des"/>'
} | sess_scenario b_pre
# 4. late offer: B's 200 offers, A's ACK answers.
{
    req INVITE 1 inv
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="180" optional="true" response_txn="inv"/>'
    echo '<recv response="200" response_txn="inv" rrs="true"><action>'
    check offer "m=audio 42000"; echo '</action></recv>'
    req ACK 1 inv "$(sdp $A_SDP sendrecv 1)"
    echo '<pause milliseconds="300"/>'
    req BYE 2 bye
    echo '<recv response="200" response_txn="bye"/><Reference variables="offer"/>'
} | sess_scenario a_ack
{
    echo '<recv request="INVITE" rrs="true"/>'
    TAG=1 resp 180
    TAG=1 resp 200 "$(sdp $B_SDP sendrecv 1)"
    echo '<recv request="ACK"><action>'; check answer "m=audio 40000"; echo '</action></recv>'
    echo '<recv request="BYE"/>'
    ok200
    echo '<timewait milliseconds="500"/><Reference variables="answer"/>'
} | sess_scenario b_ack
# 6. the same, the PCRF refusing A's leg at the ACK: BYE from the P-CSCF to both.
{
    req INVITE 1 inv
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="180" optional="true" response_txn="inv"/>'
    echo '<recv response="200" response_txn="inv" rrs="true"/>'
    req ACK 1 inv "$(sdp $A_SDP sendrecv 1)"
    echo "<recv request=\"BYE\">$(REASON 488 'Not Acceptable Here - Policy')</recv>"
    ok200
    echo '<timewait milliseconds="500"/><Reference variables="reason"/>'
} | sess_scenario a_ack_rej
{
    echo '<recv request="INVITE" rrs="true"/>'
    TAG=1 resp 180
    TAG=1 resp 200 "$(sdp $B_SDP sendrecv 1)"
    echo '<recv request="ACK"/>'
    echo "<recv request=\"BYE\">$(REASON 488 'Not Acceptable Here - Policy')</recv>"
    ok200
    echo '<timewait milliseconds="500"/><Reference variables="reason"/>'
} | sess_scenario b_ack_rej
# 5. late offer in a reliable 183, answered in the PRACK.
{
    req INVITE 1 inv "Supported: 100rel
Content-Length: 0"
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="183" response_txn="inv" rrs="true"><action>'
    check rseq "RSeq: 1"; echo '</action></recv>'
    req PRACK 2 prack "RAck: 1 1 INVITE
$(sdp $A_SDP sendrecv 1)"
    echo '<recv response="200" response_txn="prack"/>'
    echo '<recv response="200" response_txn="inv" rrs="true"/>'
    req ACK 1 inv
    echo '<pause milliseconds="200"/>'
    req BYE 3 bye
    echo '<recv response="200" response_txn="bye"/><Reference variables="rseq"/>'
} | sess_scenario a_prack
{
    echo "$KEEP_INVITE"
    TAG=1 resp 183 "Require: 100rel
RSeq: 1
$(sdp $B_SDP sendrecv 1)"
    echo '<recv request="PRACK"><action>'; check answer "m=audio 40000"; echo '</action></recv>'
    TAG='' resp 200
    echo "$INVITE_200"
    echo '<recv request="ACK"/><recv request="BYE"/>'
    ok200
    echo '<timewait milliseconds="500"/><Reference variables="vias,rrs,from,to,answer"/>'
} | sess_scenario b_prack
# 6b. the same with the PRACK's answer refused: the call is early, nothing is held then, so
# its next INVITE response (B's 200) is held and the INVITE fails 488 at A; B's 200 gets
# the P-CSCF's ACK and a BYE with Reason: SIP;cause=488.
{
    req INVITE 1 inv "Supported: 100rel
Content-Length: 0"
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="183" response_txn="inv" rrs="true"/>'
    req PRACK 2 prack "RAck: 1 1 INVITE
$(sdp $A_SDP sendrecv 1)"
    echo '<recv response="200" response_txn="prack"/>'
    echo '<recv response="488" response_txn="inv"/>'
    sess_step_ack_fail "$IMPU_A" branch-6
    echo '<timewait milliseconds="500"/>'
} | sess_scenario a_prack_rej
{
    echo "$KEEP_INVITE"
    TAG=1 resp 183 "Require: 100rel
RSeq: 1
$(sdp $B_SDP sendrecv 1)"
    echo '<recv request="PRACK"/>'
    TAG='' resp 200
    echo "$INVITE_200"
    echo '<recv request="ACK"/>'
    echo "<recv request=\"BYE\">$(REASON 488 'Not Acceptable Here - Policy')</recv>"
    ok200
    echo '<timewait milliseconds="500"/><Reference variables="vias,rrs,from,to,reason"/>'
} | sess_scenario b_prack_rej
# 7. a call that stays up (the P-CSCF stops under it).
{
    req INVITE 1 inv "$(sdp $A_SDP sendrecv 1)"
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="180" optional="true" response_txn="inv"/>'
    echo '<recv response="200" response_txn="inv" rrs="true"/>'
    req ACK 1 inv
    echo '<pause milliseconds="30000"/>'
} | sess_scenario a_up
{
    echo '<recv request="INVITE" rrs="true"/>'
    TAG=1 resp 180
    TAG=1 resp 200 "$(sdp $B_SDP sendrecv 1)"
    echo '<recv request="ACK"/><pause milliseconds="30000"/>'
} | sess_scenario b_up

# ---- 2. a plain call: Rx for A's leg, N5 for B's ----
part 2 "call A -> B with SDP" a_call b_call 1
rwait "$N_STR" 1 5 || fail "2. no STR for A's leg"
nwait "$N_DEL" 1 5 || fail "2. no delete for B's leg"
say "2. PCRF: $(rrecs '" ".join(x["cmd"] for x in r)'); PCF: $(nrecs \
    '" ".join(x["method"] for x in r if "method" in x)')"

# ---- 3. preconditions: authorised on the offer ----
# The PCRF answers 600 ms late: B's 183 reaches A's leg while its preliminary AAR is out,
# so the 183 (and the 200 behind it) wait, and the answer's update waits for that AAA.
udp_ctl "$RPORT" delay 600
t0=$(($(date +%s%N) / 1000000))
part 3 "preconditions: offer authorised before the answer" a_pre b_pre 1
ms=$(($(date +%s%N) / 1000000 - t0))
udp_ctl "$RPORT" delay 0
rwait "$N_STR" 2 5 || fail "3. no STR for A's leg"
nwait "$N_DEL" 2 5 || fail "3. no delete for B's leg"
grep -q "policy o|[^ ]*: queued for $(sess_re "$IMPU_A") over rx" "$REG_DIR/pcscf.log" ||
    fail "3. the answer's update for A's leg was not queued behind the preliminary AAR"
say "3. preconditions: PCRF $(rrecs "$N_AAR") AARs, PCF $(nrecs "$N_REQ") requests; with" \
    "AAAs 600 ms late the call took $ms ms (the 183 held for the preliminary and the final AAA)"
[ "$ms" -ge 1200 ] || fail "3. the call took $ms ms: the 183 did not wait for both AAAs"

# ---- 4. late offer, answer in the ACK ----
part 4 "late offer answered in the ACK" a_ack b_ack 1
rwait "$N_STR" 3 5 || fail "4. no STR for A's leg"
nwait "$N_DEL" 3 5 || fail "4. no delete for B's leg"

# ---- 5. late offer in a reliable 183, answer in the PRACK ----
part 5 "late offer in a reliable 183 answered in the PRACK" a_prack b_prack 1
rwait "$N_STR" 4 5 || fail "5. no STR for A's leg"
nwait "$N_DEL" 4 5 || fail "5. no delete for B's leg"

# ---- 6. the ACK's answer refused: BYE to both ----
udp_ctl "$RPORT" reject 5063
part 6 "ACK's answer refused by the PCRF: BYE with Reason 488 to both" a_ack_rej b_ack_rej 1
nwait "$N_DEL" 5 5 || fail "6. B's leg was not deleted"
grep -h -i '^Reason:' "$IT_WORK/uac-6.msg" "$IT_WORK/uas-6.msg" | sort | uniq -c |
    sed 's/^/    got /'
part 6b "PRACK's answer refused by the PCRF: 488 at A, ACK + BYE (Reason 488) at B" \
    a_prack_rej b_prack_rej 1
udp_ctl "$RPORT" reject 0
nwait "$N_DEL" 6 5 || fail "6b. B's leg was not deleted"

# ---- imsctl and /metrics: both backends ----
js=$("$IMSCTL" -s "$REG_DIR/pcscf.ctl" --json policy) || fail "imsctl policy: $js"
python3 - "$js" <<'EOF' || fail "imsctl --json policy: $js"
import json, sys
d = json.loads(sys.argv[1])["data"]
assert d["backend"] == "rx+n5", d
assert d["sessions"] == {"total": 2, "call": 0, "signalling": 2}, d["sessions"]
b = d["backends"]
assert b["rx"]["sessions"] == 1 and b["rx"]["signalling"] == 1, b
assert b["n5"]["sessions"] == 1 and b["n5"]["signalling"] == 1, b
assert b["rx"]["rejected"] == 2 and b["n5"]["rejected"] == 0, b
print("imsctl policy: backend %s, rx %s, n5 %s" % (d["backend"], b["rx"], b["n5"]))
EOF
MADDR=$REG_P:9101
if curl -sS -m 5 -o "$IT_WORK/pcscf.prom" "http://$MADDR/metrics" 2>/dev/null; then
    for be in rx n5; do
        grep -q "^ims_policy_backend_sessions{backend=\"$be\"} 1\$" "$IT_WORK/pcscf.prom" ||
            fail "/metrics: ims_policy_backend_sessions for $be: $(grep backend_sessions \
                "$IT_WORK/pcscf.prom")"
    done
    say "/metrics: $(grep '^ims_policy_backend_sessions' "$IT_WORK/pcscf.prom" | tr '\n' ' ')"
fi

# ---- 7. SIGTERM with a call up: every session ended at its server ----
sess_uas UAS_PID uas-7 b_up "$B_IP" "$PB" 1
( sess_uac uac-7 a_up "$A_IP" "$PA" 1 "$IMPU_B"; exit "$SIPP_RC" ) &
UAC_PID=$!
track "$UAC_PID" sipp-uac-7 "$IT_WORK/uac-7.errors"
rwait "$N_AAR" 9 10 || fail "7. A's leg of the call up was not authorised"
nwait "$N_POST" 8 10 || fail "7. B's leg of the call up was not authorised"
udp_ctl "$RPORT" stats
say "7. before SIGTERM: PCRF $REPLY"
udp_ctl "$NPORT" stats
say "7. before SIGTERM: PCF $REPLY"
t0=$(($(date +%s%N) / 1000000))
stop_proxy "${REG_PID[pcscf]}"
REG_PID[pcscf]=
say "7. the P-CSCF (drain_ms 4000) exited $(($(date +%s%N) / 1000000 - t0)) ms after SIGTERM"
udp_ctl "$RPORT" stats
[[ $REPLY == "sessions=0 "* ]] || fail "7. the PCRF keeps sessions after the P-CSCF stopped: $REPLY"
say "7. after SIGTERM: PCRF $REPLY"
udp_ctl "$NPORT" stats
[[ $REPLY == "sessions=0 "* ]] || fail "7. the PCF keeps sessions after the P-CSCF stopped: $REPLY"
say "7. after SIGTERM: PCF $REPLY"
grep -E "P-CSCF policy: " "$REG_DIR/pcscf.log" | sed 's/^/    /'
grep -q "P-CSCF policy: 4 sessions ended at their servers at stop" "$REG_DIR/pcscf.log" ||
    fail "7. the P-CSCF did not say it ended 4 sessions at stop"
for p in "$UAC_PID" "$UAS_PID"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    untrack "$p"
done
reg_lab_stop
stop_proxy "$PCRF_PID"
stop_proxy "$PCF_PID"

# ---- what the servers recorded ----
python3 - "$RREC" "$NREC" "$A_IP" "$B_IP" <<'EOF' || fail "record check failed ($RREC, $NREC)"
import json, sys
rx = [json.loads(l) for l in open(sys.argv[1])]
n5 = [json.loads(l) for l in open(sys.argv[2])]
a_ip, b_ip = sys.argv[3:5]
api = "/npcf-policyauthorization/v1/app-sessions"
def check(cond, what):
    if not cond:
        sys.exit("record: " + what)
def ok(r, code=2001):
    return r.get("answer", {}).get("result") == code
aars = [r for r in rx if r["cmd"] == "AAR"]
check(all(r.get("framed_ip") == a_ip for r in aars), "an AAR for another address than A's")
posts = [r for r in n5 if r.get("method") == "POST" and r["path"] == api]
check(all(r["json"]["ascReqData"]["ueIpv4"] == b_ip for r in posts),
      "a POST for another address than B's")
def rx_session(i):
    """The i-th call session of A at the PCRF (its requests, in order)."""
    init = [r for r in aars if r["rx_request_type"] == 0 and r["media"][0]["number"] == 1][i]
    return [r for r in rx if r["sid"] == init["sid"]]
def n5_session(i):
    init = [r for r in posts if "1" in r["json"]["ascReqData"]["medComponents"]][i]
    p = api + "/" + init["location"].rsplit("/", 1)[1]
    return [init] + [r for r in n5 if "method" in r and r["path"].startswith(p)]
def fd(up, down):
    return ["permit out 17 from %s to %s" % (up[0], up[1]),
            "permit out 17 from %s to %s" % (down[0], down[1])]
A, B = a_ip + " 40000", b_ip + " 42000"
# 1. signalling: one each
check([r["media"][0]["number"] for r in aars].count(0) == 1, "signalling AARs")
check(sum(1 for r in posts if list(r["json"]["ascReqData"]["medComponents"]) == ["0"]) == 1,
      "signalling POSTs")
# 2. plain call
s = rx_session(0)
check([r["cmd"] for r in s] == ["AAR", "STR"] and s[0].get("service_info_status") == 0,
      "2. A's leg %s" % s)
s = n5_session(0)
check([r["method"] for r in s] == ["POST", "POST"] and s[1]["path"].endswith("/delete"),
      "2. B's leg %s" % [(r["method"], r["path"]) for r in s])
# 3. preconditions: preliminary on the offer, final at the answer
s = rx_session(1)
check([r["cmd"] for r in s] == ["AAR", "AAR", "STR"], "3. A's leg %s" % [r["cmd"] for r in s])
pre, fin = s[0], s[1]
check(pre["rx_request_type"] == 0 and pre["service_info_status"] == 1, "3. preliminary %s" % pre)
check(pre["media"][0]["subs"][0]["flow_desc"] == fd((A, "any"), ("any", A)),
      "3. preliminary flows %s" % pre["media"][0]["subs"][0])
check(fin["rx_request_type"] == 1 and fin["service_info_status"] == 0, "3. final %s" % fin)
check(fin["media"][0]["subs"][0]["flow_desc"] == fd((A, B), (B, A)),
      "3. final flows %s" % fin["media"][0]["subs"][0])
s = n5_session(1)
check([r["method"] for r in s] == ["POST", "PATCH", "POST"], "3. B's leg %s" % s)
m = s[0]["json"]["ascReqData"]["medComponents"]["1"]["medSubComps"]["1"]["fDescs"]
check(m == fd(("any", A), (A, "any")), "3. B's preliminary fDescs %s" % m)
check(s[0]["json"]["ascReqData"].get("servInfStatus") == "PRELIMINARY",
      "3. B's POST servInfStatus %s" % s[0]["json"]["ascReqData"].get("servInfStatus"))
m = s[1]["json"]["ascReqData"]["medComponents"]["1"]["medSubComps"]["1"]["fDescs"]
check(m == fd((B, A), (A, B)), "3. B's final fDescs %s" % m)
check(s[1]["json"]["ascReqData"].get("servInfStatus") == "FINAL",
      "3. B's PATCH servInfStatus %s" % s[1]["json"]["ascReqData"].get("servInfStatus"))
print("record: preconditions: AAR INITIAL PRELIMINARY + POST on the offer (far end any),"
      " AAR UPDATE FINAL + PATCH at the answer")
# 4. and 5. late offers: one request per leg with both ends, then the end
for i, what in ((2, "4. ACK"), (3, "5. PRACK")):
    s = rx_session(i)
    check([r["cmd"] for r in s] == ["AAR", "STR"] and
          s[0]["media"][0]["subs"][0]["flow_desc"] == fd((A, B), (B, A)), "%s: A %s" % (what, s))
    s = n5_session(i)
    m = s[0]["json"]["ascReqData"]["medComponents"]["1"]["medSubComps"]["1"]["fDescs"]
    check([r["method"] for r in s] == ["POST", "POST"] and m == fd((B, A), (A, B)),
          "%s: B %s" % (what, s))
print("record: late offers: both legs authorised from the ACK's / PRACK's answer")
# 6. refused at the ACK and at the PRACK: no STR for them; B's legs deleted (below)
rej = [r for r in aars if ok(r, 5063)]
check(len(rej) == 2 and not [r for r in rx if r["cmd"] == "STR" and
                             r["sid"] in (rej[0]["sid"], rej[1]["sid"])], "6. refused AARs %s" % rej)
# every session opened is closed once, at the end (7) too
opened = {r["sid"] for r in aars if ok(r) and r["rx_request_type"] == 0}
closed = [r["sid"] for r in rx if r["cmd"] == "STR"]
check(sorted(closed) == sorted(opened), "STR per Rx session: %d opened, %d STRs"
      % (len(opened), len(closed)))
ids = [r["location"].rsplit("/", 1)[1] for r in posts if r["status"] == 201]
dels = [r["path"][len(api) + 1:-len("/delete")] for r in n5
        if r.get("path", "").endswith("/delete")]
check(sorted(dels) == sorted(ids), "delete per app session: %d opened, %d deletes"
      % (len(ids), len(dels)))
print("record: %d Rx sessions, %d app sessions, each ended once (2 of each at SIGTERM)"
      % (len(opened), len(ids)))
EOF

ok "policy per access type: A (E-UTRAN) over Rx, B (NR) over N5 in one P-CSCF, each server" \
    "seeing only its UE; preconditions authorised on the offer (PRELIMINARY) and updated at" \
    "the answer; late offers authorised from the ACK and the PRACK; a refusal at the ACK" \
    "ends the call with BYE to both, at the PRACK fails it 488; SIGTERM leaves no session at" \
    "either server"
