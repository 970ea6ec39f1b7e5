#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 7: the P-CSCF's policy client with its Rx backend (pcscf/policy*.c) in the 127.0.1.x
# lab of lib/reg.sh (HSS, S-CSCF, I-CSCF, P-CSCF) with tests/tools/test-pcrf as the PCRF on
# 127.0.1.50:3868 (pcscf.policy = { backend = "rx"; ... }). Handsets A (subscriber 1,
# 127.0.1.100) and B (subscriber 2, 127.0.1.101) register with aka_ue.py, then sipp plays
# them from the same address and port (lib/session.sh). Every call goes P -> S -> I -> S -> P,
# so the P-CSCF holds two legs of it: A's (originating) and B's (terminating), each its own Rx
# session.
#   1. registration: one signalling AAR per UE (Media-Component-Number 0, AF_SIGNALLING, SIP,
#      the flows between the UE's SIP port and the P-CSCF's 5060, Specific-Action 2 and 4);
#   2. a call A -> B with SDP (fixed addresses and ports), hold re-INVITE (A sendonly, B
#      recvonly), resume re-INVITE, BYE by A: per leg one AAR INITIAL at the 200, AAR UPDATE
#      at each re-INVITE's 200 (same Session-Id; Flow-Status ENABLED_UPLINK / _DOWNLINK on
#      hold, ENABLED after), STR at the BYE; the Flow-Descriptions of both directions, RTP and
#      RTCP, checked rule by rule for each leg (uplink = from the leg's UE);
#   3. "reject 5063" at the PCRF: a call A -> B fails with 488 at A (the policy code for a
#      refusal, pcscf/policy.h), B gets the ACK for its dropped 200 and a BYE with
#      Reason: SIP;cause=488; no session stays at the PCRF;
#   3b. B answers 183 with SDP (each leg authorised at the 183, held until then), A cancels:
#      CANCEL/200/487/ACK at both ends, and the 487 ends both legs' sessions (STR);
#   4. "asr SID" on A's leg mid-call: both A and B get a BYE with Reason: SIP;cause=503;
#      text="Bearer released"; the P-CSCF answers ASA 2001 and ends both legs' sessions (STR);
#   4b. the same with "rar SID 2" (INDICATION_OF_LOSS_OF_BEARER) on B's leg: RAA 2001, BYE
#      to both with Reason: SIP;cause=503;text="Loss of bearer", STR for both legs;
#   5. POL_CALLS (200) calls A -> B at 20 calls/s: each leg one AAR and one STR;
#   5b. "mute 1": the PCRF records B's leg's AAR and never answers: after timeout_ms (2 s)
#      the call fails as in 7 below (503 from B's leg, ACK + BYE at B);
#   6. A and B de-register: STR of their signalling sessions; "stats" then shows sessions=0;
#   7. the PCRF stops: A and B register again (their signalling AARs fail, the registrations
#      stand), a call A -> B fails at once: B's leg answers 503 (PCRF unreachable,
#      pcscf/policy.h), which reaches A as 500 (the S-CSCF's §16.7 rule); B gets ACK + BYE
#      with Reason: SIP;cause=503.
# Checked: each sipp side's successful calls; the PCRF's JSON records field by field; every
# Session-Id answered 2001 gets exactly one STR (answered 2001); tshark decodes every Rx
# message (captured on the PCRF's port) with no malformed packet and no expert error and the
# same command counts as recorded; the P-CSCF's stop line counts no policy session left.
# Needs root (capture on lo).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
. "$(dirname "$0")/lib/tshark.sh"
for t in sipp python3 ss tshark; do
    command -v "$t" >/dev/null || { echo "$t not found: skipped"; exit 77; }
done
it_init 21900
NCALLS=${POL_CALLS:-200}
A_IP=127.0.1.100
B_IP=127.0.1.101
PCRF_IP=127.0.1.50
D=$REG_DOMAIN
IMPU_A=$(reg_impu 1)
IMPU_B=$(reg_impu 2)
PCRF=$(bin tests/test-pcrf) || exit 1
REC=$IT_WORK/pcrf.jsonl
PCAP=$IT_WORK/rx.pcap
pick_port_into CPORT

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_set pcscf record_route true
POLICY="{ backend = \"rx\"; timeout_ms = 2000; rx = { identity = \"pcscf.$D\";"
POLICY+=" realm = \"$D\"; tc_ms = 1000; dest_realm = \"$D\"; peers = ( { host = \"pcrf.$D\";"
POLICY+=" addr = \"$PCRF_IP\"; port = 3868; connect = true; } ); }; }"
reg_cfg_put pcscf pcscf policy "$POLICY"

# ---- the PCRF and the capture, before the lab: the P-CSCF connects at start ----
tshark -n -i lo -f "tcp port 3868 and host $PCRF_IP" -w "$PCAP" >"$PCAP.log" 2>&1 &
TSHARK_PID=$!
track "$TSHARK_PID" tshark "$PCAP.log"
for ((i = 0; i < 200; i++)); do
    grep -q "Capturing on" "$PCAP.log" 2>/dev/null && break
    alive "$TSHARK_PID" || fail "tshark exited at start (capturing on lo needs root)"
    sleep 0.05
done
grep -q "Capturing on" "$PCAP.log" || fail "tshark did not start capturing within 10 s"
sleep 1   # dumpcap can miss the first packets just after "Capturing on"
"$PCRF" --origin-host "pcrf.$D" --origin-realm "$D" --listen "$PCRF_IP:3868" \
    --af "pcscf.$D@$REG_P" --record "$REC" --control "127.0.0.1:$CPORT" \
    >"$IT_WORK/pcrf.log" 2>&1 {REG_LOCK_FD}>&- &
PCRF_PID=$!
track "$PCRF_PID" test-pcrf "$IT_WORK/pcrf.log"
for ((i = 0; i < 100; i++)); do
    reg_bound tcp "$PCRF_IP" 3868 && break
    alive "$PCRF_PID" || fail "test-pcrf exited at start"
    sleep 0.05
done

# ctl COMMAND: one datagram to the PCRF's control socket; the reply in $REPLY.
ctl() {
    REPLY=$(python3 - "$CPORT" "$*" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
print(s.recvfrom(512)[0].decode())
EOF
) || fail "control command '$*': no reply"
}
# recs PYTHON-EXPR: evaluate over the records so far (r: the list of dicts).
recs() {
    python3 - "$REC" "$1" <<'EOF'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(eval(sys.argv[2]))
EOF
}
# wait_recs EXPR WANT SECONDS: until recs EXPR prints WANT.
wait_recs() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ "$(recs "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
N_AAR_OK='len([x for x in r if x["cmd"] == "AAR" and x.get("answer", {}).get("result") == 2001])'

reg_lab_start
for ((i = 0; i < 100; i++)); do
    grep -q "dia: peer pcrf\\.$(sess_re "$D") OPEN" "$REG_DIR/pcscf.log" && break
    sleep 0.05
done
grep -q "dia: peer pcrf\\.$(sess_re "$D") OPEN" "$REG_DIR/pcscf.log" ||
    fail "the P-CSCF's Rx peer is not OPEN after 5 s" "${REG_PID[pcscf]}"
say "P-CSCF Rx peer pcrf.$D OPEN"

# ---- 1. registrations: a signalling AAR each ----
pick_port_into PA
pick_port_into PB
sess_register 1 "$A_IP" "$PA"
sess_register 2 "$B_IP" "$PB"
wait_recs "$N_AAR_OK" 2 5 || fail "1. no signalling AAR answered for each UE: $(cat "$REC")"
say "1. signalling AARs: $(recs "$N_AAR_OK") answered 2001"

# ---- scenarios ----
# sdp IP PORT DIRECTION VERSION: an audio offer or answer with fixed addresses.
sdp() {
    cat <<EOF
Content-Type: application/sdp
Content-Length: [len]

v=0
o=ue 1 $4 IN IP4 $1
s=-
c=IN IP4 $1
t=0 0
m=audio $2 RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=$3
EOF
}
check() {
    printf '  <ereg regexp="%s" search_in="msg" check_it="true" assign_to="%s"/>\n' "$2" "$1"
}
# req METHOD CSEQ TXN BODY...: the caller's request (INVITE out of dialog when CSEQ is 1).
req() {
    local m=$1 cseq=$2 txn=$3 ruri='[next_url]' routes=$'\n[routes]'
    local to='<[target]>[peer_tag_param]'
    shift 3
    local attr=" retrans=\"500\" start_txn=\"$txn\""
    [ "$m" = ACK ] && attr=" ack_txn=\"$txn\""
    if [ "$m" = INVITE ] && [ "$cseq" = 1 ]; then
        ruri='[target]' routes='' to='<[target]>'
    fi
    cat <<EOF
<send$attr><![CDATA[

$m $ruri SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport$routes
From: <$IMPU_A>;tag=[pid]A[call_number]
To: $to
Call-ID: [call_id]
CSeq: $cseq $m
Contact: <sip:ue@[local_ip]:[local_port]>
Max-Forwards: 70
${*:-Content-Length: 0}

]]></send>
EOF
}
# resp CODE [BODY]: B's answer to the request just received (to-tag on the initial INVITE).
resp() {
    local to='[last_To:]'
    [ "$1" -lt 300 ] && [ -n "${TAG:-}" ] && to='[last_To:];tag=[pid]B[call_number]'
    cat <<EOF
<send$([ "$1" -ge 200 ] && [ -n "${2:-}" ] && echo ' retrans="500"')><![CDATA[

SIP/2.0 $1 X
[last_Via:]
[last_Record-Route:]
[last_From:]
$to
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:ue@[local_ip]:[local_port]>
${2:-Content-Length: 0}

]]></send>
EOF
}
REASON() {   # REASON CAUSE TEXT: the check of a BYE's Reason header
    printf '<action>%s</action>' "$(check reason "[Rr]eason: *SIP;cause=$1;text=&quot;$2&quot;")"
}
ok200() { TAG= resp 200; }
A_SDP="$A_IP 40000" B_SDP="$B_IP 42000"

# 2. A: call, hold, resume, BYE.
{
    req INVITE 1 inv "$(sdp $A_SDP sendrecv 1)"
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="180" optional="true" response_txn="inv"/>'
    echo "<recv response=\"200\" response_txn=\"inv\" rrs=\"true\"><action>"
    check ans "a=sendrecv"; echo '</action></recv>'
    req ACK 1 inv
    echo '<pause milliseconds="300"/>'
    req INVITE 2 hold "$(sdp $A_SDP sendonly 2)"
    echo '<recv response="100" optional="true" response_txn="hold"/>'
    echo '<recv response="200" response_txn="hold"><action>'
    check held "a=recvonly"; echo '</action></recv>'
    req ACK 2 hold
    echo '<pause milliseconds="300"/>'
    req INVITE 3 res "$(sdp $A_SDP sendrecv 3)"
    echo '<recv response="100" optional="true" response_txn="res"/>'
    echo '<recv response="200" response_txn="res"><action>'
    check resumed "a=sendrecv"; echo '</action></recv>'
    req ACK 3 res
    echo '<pause milliseconds="300"/>'
    req BYE 4 bye
    echo '<recv response="200" response_txn="bye"/>'
    echo '<Reference variables="ans,held,resumed"/>'
} | sess_scenario a_hold
# B: answer, the two re-INVITEs, the BYE.
{
    echo '<recv request="INVITE" rrs="true"/>'
    TAG=1 resp 180
    TAG=1 resp 200 "$(sdp $B_SDP sendrecv 1)"
    echo '<recv request="ACK"/>'
    echo '<recv request="INVITE"><action>'; check hold "a=sendonly"; echo '</action></recv>'
    TAG= resp 200 "$(sdp $B_SDP recvonly 2)"
    echo '<recv request="ACK"/>'
    echo '<recv request="INVITE"><action>'; check res "a=sendrecv"; echo '</action></recv>'
    TAG= resp 200 "$(sdp $B_SDP sendrecv 3)"
    echo '<recv request="ACK"/><recv request="BYE"/>'
    ok200
    echo '<timewait milliseconds="500"/><Reference variables="hold,res"/>'
} | sess_scenario b_hold
# 3. A: the INVITE fails 488; ACK hop by hop.
{
    req INVITE 1 inv "$(sdp $A_SDP sendrecv 1)"
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="180" optional="true" response_txn="inv"/>'
    echo '<recv response="488" response_txn="inv"/>'
    cat <<'EOF'
<send ack_txn="inv"><![CDATA[

ACK [target] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-4];rport
From: <IMPU>;tag=[pid]A[call_number]
To: <[target]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
EOF
} | sed "s|IMPU|$IMPU_A|" | sess_scenario a_rejected
# B: answers; the P-CSCF drops the 200, ACKs it and sends BYE (Reason cause 488).
{
    echo '<recv request="INVITE" rrs="true"/>'
    TAG=1 resp 180
    TAG=1 resp 200 "$(sdp $B_SDP sendrecv 1)"
    echo '<recv request="ACK"/>'
    echo "<recv request=\"BYE\">$(REASON 488 'Not Acceptable Here - Policy')</recv>"
    ok200
    echo '<Reference variables="reason"/>'
} | sess_scenario b_rejected
# 3b. A cancels after B's 183 with the SDP answer (authorised, then released by the 487).
{
    req INVITE 1 inv "$(sdp $A_SDP sendrecv 1)"
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="183" response_txn="inv"><action>'
    check early "a=sendrecv"; echo '</action></recv>'
    cat <<'EOF'
<pause milliseconds="100"/>
<send retrans="500" start_txn="cancel"><![CDATA[

CANCEL [target] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-4];rport
From: <IMPU>;tag=[pid]A[call_number]
To: <[target]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200" response_txn="cancel"/>
<recv response="487" response_txn="inv"/>
<send ack_txn="inv"><![CDATA[

ACK [target] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-7];rport
From: <IMPU>;tag=[pid]A[call_number]
To: <[target]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
<timewait milliseconds="500"/>
<Reference variables="early"/>
EOF
} | sed "s|IMPU|$IMPU_A|" | sess_scenario a_cancel
{
    echo '<recv request="INVITE" rrs="true"><action>'
    check vias 'Via:[^[:cntrl:]]*([[:cntrl:]]+Via:[^[:cntrl:]]*)*'
    check rrs 'Record-Route:[^[:cntrl:]]*([[:cntrl:]]+Record-Route:[^[:cntrl:]]*)*'
    echo '  <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="from"/>'
    echo '  <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="to"/>'
    echo '</action></recv>'
    TAG=1 resp 183 "$(sdp $B_SDP sendrecv 1)" | sed 's/ retrans="500"//'
    echo '<recv request="CANCEL"/>'
    ok200
    cat <<'EOF'
<send><![CDATA[

SIP/2.0 487 Request Terminated
[$vias]
[$rrs]
From:[$from]
To:[$to];tag=[pid]B[call_number]
Call-ID: [call_id]
CSeq: 1 INVITE
Content-Length: 0

]]></send>
<recv request="ACK"/>
<timewait milliseconds="500"/>
<Reference variables="vias,rrs,from,to"/>
EOF
} | sess_scenario b_cancel
# 4. both: the call is up until the P-CSCF's BYE (Reason: bearer released).
{
    req INVITE 1 inv "$(sdp $A_SDP sendrecv 1)"
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="180" optional="true" response_txn="inv"/>'
    echo '<recv response="200" response_txn="inv" rrs="true"/>'
    req ACK 1 inv
    echo "<recv request=\"BYE\">$(REASON 503 'Bearer released')</recv>"
    ok200
    echo '<timewait milliseconds="500"/><Reference variables="reason"/>'
} | sess_scenario a_asr
{
    echo '<recv request="INVITE" rrs="true"/>'
    TAG=1 resp 180
    TAG=1 resp 200 "$(sdp $B_SDP sendrecv 1)"
    echo '<recv request="ACK"/>'
    echo "<recv request=\"BYE\">$(REASON 503 'Bearer released')</recv>"
    ok200
    echo '<timewait milliseconds="500"/><Reference variables="reason"/>'
} | sess_scenario b_asr
# 5. plain calls.
{
    req INVITE 1 inv "$(sdp $A_SDP sendrecv 1)"
    echo '<recv response="100" optional="true" response_txn="inv"/>'
    echo '<recv response="180" optional="true" response_txn="inv"/>'
    echo '<recv response="200" response_txn="inv" rrs="true"/>'
    req ACK 1 inv
    req BYE 2 bye
    echo '<recv response="200" response_txn="bye"/>'
} | sess_scenario a_call
{
    echo '<recv request="INVITE" rrs="true"/>'
    TAG=1 resp 180
    TAG=1 resp 200 "$(sdp $B_SDP sendrecv 1)"
    echo '<recv request="ACK"/><recv request="BYE"/>'
    ok200
    echo '<timewait milliseconds="500"/>'
} | sess_scenario b_call

# 5b, 7. the PCRF silent or gone: as 3 with 503 (B's leg); the S-CSCF, a proxy, passes it on
# as 500 (RFC 3261 §16.7).
sed "s/cause=488;text=&quot;Not Acceptable Here/cause=503;text=\&quot;Service Unavailable/" \
    "$IT_WORK/sc/b_rejected.xml" >"$IT_WORK/sc/b_down.xml"
sed 's/response="488"/response="500"/' "$IT_WORK/sc/a_rejected.xml" >"$IT_WORK/sc/a_down.xml"

# part N WHAT A_SCEN B_SCEN CALLS [sipp args for A]: B answers, A calls; both must succeed.
part() {
    local n=$1 what=$2 a=$3 b=$4 calls=$5 uas_rc
    shift 5
    sess_uas UAS_PID "uas-$n" "$b" "$B_IP" "$PB" "$calls"
    sess_uac "uac-$n" "$a" "$A_IP" "$PA" "$calls" "$IMPU_B" "$@"
    local uac_rc=$SIPP_RC
    wait_sipp "$UAS_PID" 30
    uas_rc=$SIPP_RC
    expect_calls "$IT_WORK/uac-$n" "$uac_rc" "$calls" "$n. A: $what"
    expect_calls "$IT_WORK/uas-$n" "$uas_rc" "$calls" "$n. B: $what"
}

# ---- 2. call with hold and resume ----
part 2 "call, hold, resume, BYE" a_hold b_hold 1
wait_recs 'len([x for x in r if x["cmd"] == "STR"])' 2 5 || fail "2. no STR for both legs"
say "2. call with hold/resume: $(recs '" ".join(x["cmd"] for x in r)')"

# ---- 3. the PCRF refuses ----
ctl reject 5063
[ "$REPLY" = "ok reject 5063" ] || fail "3. reject: $REPLY"
part 3 "PCRF rejects: 488 at A, ACK + BYE at B" a_rejected b_rejected 1
ctl reject 0
ctl stats
say "3. PCRF stats after the refused call: $REPLY"
[[ $REPLY == "sessions=2 "* ]] || fail "3. sessions left after the refused call: $REPLY"

# mid_call N WHAT SCEN IMPU CTL-CMD [CTL-ARG]: a call A -> B (scenarios a_SCEN, b_SCEN) that
# stays up until the PCRF is told "CTL-CMD <sid of IMPU's leg> CTL-ARG" once both legs are
# authorised; both handsets must then get the P-CSCF's BYE (their scenarios check Reason).
mid_call() {
    local n=$1 what=$2 scen=$3 impu=$4 before sid uac_pid uac_rc
    shift 4
    before=$(recs "$N_AAR_OK")
    sess_uas UAS_PID "uas-$n" "b_$scen" "$B_IP" "$PB" 1
    ( sess_uac "uac-$n" "a_$scen" "$A_IP" "$PA" 1 "$IMPU_B"; exit "$SIPP_RC" ) &
    uac_pid=$!
    track "$uac_pid" "sipp-uac-$n" "$IT_WORK/uac-$n.errors"
    wait_recs "$N_AAR_OK" $((before + 2)) 10 || fail "$n. the call's two AARs were not answered"
    sleep 1   # the 200 reaches A and A's ACK goes out
    sid=$(recs '[x for x in r if x["cmd"] == "AAR" and x["rx_request_type"] == 0 and
        x["sub_ids"][0]["data"] == "'"$impu"'" and x["media"][0]["number"] == 1][-1]["sid"]')
    ctl "$1" "$sid" "${2:-}"
    [[ $REPLY == "ok $1 "* ]] || fail "$n. $1: $REPLY"
    wait "$uac_pid"
    uac_rc=$?
    untrack "$uac_pid"
    wait_sipp "$UAS_PID" 20
    expect_calls "$IT_WORK/uac-$n" "$uac_rc" 1 "$n. A: $what"
    expect_calls "$IT_WORK/uas-$n" "$SIPP_RC" 1 "$n. B: $what"
    grep -h -i '^Reason:' "$IT_WORK/uac-$n.msg" "$IT_WORK/uas-$n.msg" | sort | uniq -c |
        sed 's/^/    got /'
}

# ---- 3b. CANCEL after an authorised 183 ----
part 3b "CANCEL after the 183 (SDP answer authorised): 487" a_cancel b_cancel 1
wait_recs 'len([x for x in r if x["cmd"] == "STR"])' 4 5 ||
    fail "3b. the cancelled call's two sessions were not ended"

# ---- 4. ASR on A's leg, RAR (INDICATION_OF_LOSS_OF_BEARER) on B's leg, mid-call ----
mid_call 4 "BYE with Reason after the ASR" asr "$IMPU_A" asr
for x in a b; do
    sed 's/Bearer released/Loss of bearer/' "$IT_WORK/sc/${x}_asr.xml" >"$IT_WORK/sc/${x}_rar.xml"
done
mid_call 4b "BYE with Reason after the RAR" rar "$IMPU_B" rar 2

# ---- 5. many calls ----
t0=$SECONDS
part 5 "plain calls" a_call b_call "$NCALLS" -r 20
say "5. $NCALLS calls in $((SECONDS - t0)) s"
wait_recs 'len([x for x in r if x["cmd"] == "STR"])' $((8 + 2 * NCALLS)) 10 ||
    fail "5. STRs: $(recs 'len([x for x in r if x["cmd"] == "STR"])')"
ctl stats
say "5. PCRF stats: $REPLY"
[[ $REPLY == "sessions=2 "* ]] || fail "5. sessions other than the two signalling ones: $REPLY"

# ---- 5b. the PCRF does not answer: the call fails after timeout_ms ----
ctl mute 1
[ "$REPLY" = "ok mute 1" ] || fail "5b. mute: $REPLY"
t0=$(($(date +%s%N) / 1000000))
part 5b "PCRF silent: 503 from B's leg after 2 s (500 at A), ACK + BYE at B" a_down b_down 1
ms=$(($(date +%s%N) / 1000000 - t0))
ctl mute 0
say "5b. with the PCRF silent the call failed in $ms ms (timeout_ms 2000)"
[ "$ms" -ge 1900 ] && [ "$ms" -lt 8000 ] || fail "5b. the call failed in $ms ms"
ctl stats
[[ $REPLY == "sessions=2 "* ]] || fail "5b. sessions: $REPLY"

# ---- 6. de-registration ----
for n in 1 2; do
    ip=$A_IP port=$PA
    [ "$n" = 2 ] && ip=$B_IP port=$PB
    python3 "$IMS_SOURCE_DIR/tests/tools/aka_ue.py" --pcscf "$REG_P:5060" --local "$ip" \
        --port "$port" --domain "$D" --impi "$(reg_impi $n)" --impu "$(reg_impu $n)" \
        --k "$REG_KHEX" --op "$REG_OPHEX" --expires 0 >"$IT_WORK/dereg-$n.out" 2>&1 ||
        fail "6. subscriber $n did not de-register: $(tail -3 "$IT_WORK/dereg-$n.out")"
done
wait_recs 'len([x for x in r if x["cmd"] == "STR"])' $((10 + 2 * NCALLS)) 5 ||
    fail "6. no STR for the signalling sessions"
ctl stats
say "6. after de-registration: $REPLY"
[[ $REPLY == "sessions=0 "* ]] || fail "6. sessions left: $REPLY"

# ---- 7. the PCRF gone: registration still works, a call fails 503 at once ----
stop_proxy "$PCRF_PID"
sleep 1
kill -INT "$TSHARK_PID"
wait "$TSHARK_PID" 2>/dev/null
untrack "$TSHARK_PID"
sess_register 1 "$A_IP" "$PA"
sess_register 2 "$B_IP" "$PB"
t0=$(($(date +%s%N) / 1000000))
part 7 "PCRF down: 503 from B's leg (500 at A), ACK + BYE at B" a_down b_down 1
ms=$(($(date +%s%N) / 1000000 - t0))
say "7. with the PCRF down the call failed in $ms ms (timeout_ms 2000)"
[ "$ms" -lt 8000 ] || fail "7. the refused call took $ms ms"

for d in pcscf icscf scscf ims-hss; do assert_alive "${REG_PID[$d]}"; done
reg_lab_stop
grep -E "P-CSCF policy: " "$REG_DIR/pcscf.log" | sed 's/^/    /'
grep -qE "P-CSCF policy: 0 sessions at stop.* 1 timeouts, 3 unreachable" \
    "$REG_DIR/pcscf.log" || fail "the P-CSCF's stop line: want 0 sessions left, 1 timeout," \
    "3 unreachable (2 signalling, 1 call)"

# ---- what the PCRF recorded ----
python3 - "$REC" "$A_IP" "$B_IP" "$PA" "$PB" "$REG_P" "$IMPU_A" "$IMPU_B" "$NCALLS" <<'EOF' ||
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
a_ip, b_ip, pa, pb, p_ip, impu_a, impu_b, ncalls = sys.argv[2:10]
ncalls = int(ncalls)
def check(cond, what):
    if not cond:
        sys.exit("record: " + what)
def ok(r, code=2001, exp=False):
    return r.get("answer") == {"result": code, "experimental": exp}
aars = [r for r in recs if r["cmd"] == "AAR"]
strs = [r for r in recs if r["cmd"] == "STR"]
check(all(r["origin_host"].startswith("pcscf.") for r in aars + strs), "Origin-Host")
# 1. signalling
sig = [r for r in aars if r["media"][0]["number"] == 0]
check(len(sig) == 2, "two signalling AARs, got %d" % len(sig))
for r, ip, port, impu in ((sig[0], a_ip, pa, impu_a), (sig[1], b_ip, pb, impu_b)):
    check(ok(r) and r["rx_request_type"] == 0 and r["framed_ip"] == ip, "sig head %s" % r)
    check(r["sub_ids"] == [{"type": 2, "data": impu}], "sig Subscription-Id %s" % r)
    check(r["specific_actions"] == [2, 4] and "service_info_status" not in r, "sig actions")
    check(r["media"][0]["subs"] == [{"flow_number": 1, "flow_usage": 2,
          "af_signalling_protocol": 1, "flow_desc": [
              "permit out 17 from %s %s to %s 5060" % (ip, port, p_ip),
              "permit out 17 from %s 5060 to %s %s" % (p_ip, ip, port)]}],
          "sig flows %s" % r["media"][0])
calls = [r for r in aars if r["media"][0]["number"] == 1]
def leg(impu, i):
    """The i-th initial AAR of impu's leg and everything of its session."""
    first = [r for r in calls if r["rx_request_type"] == 0 and r["sub_ids"][0]["data"] == impu][i]
    return [r for r in recs if r["sid"] == first["sid"]]
def flows(ue, ue_port, rem, rem_port):
    return [{"flow_number": 1, "flow_desc": [
                "permit out 17 from %s %d to %s %d" % (ue, ue_port, rem, rem_port),
                "permit out 17 from %s %d to %s %d" % (rem, rem_port, ue, ue_port)]},
            {"flow_number": 2, "flow_usage": 1, "flow_desc": [
                "permit out 17 from %s %d to %s %d" % (ue, ue_port + 1, rem, rem_port + 1),
                "permit out 17 from %s %d to %s %d" % (rem, rem_port + 1, ue, ue_port + 1)]}]
# 2. hold and resume, leg by leg
for impu, ue, up, rem, rp, hold_status in ((impu_a, a_ip, 40000, b_ip, 42000, 0),
                                           (impu_b, b_ip, 42000, a_ip, 40000, 1)):
    s = leg(impu, 0)
    cmds = [r["cmd"] for r in s]
    check(cmds == ["AAR", "AAR", "AAR", "STR"], "%s leg: %s" % (impu, cmds))
    init, hold, res, st = s
    check([r["rx_request_type"] for r in s[:3]] == [0, 1, 1], "%s Rx-Request-Type" % impu)
    check(all(ok(r) for r in s), "%s answers %s" % (impu, s))
    check(init["framed_ip"] == ue and init["sub_ids"] == [{"type": 2, "data": impu}],
          "%s UE" % impu)
    check(init["specific_actions"] == [2, 4, 1] and init["service_info_status"] == 0,
          "%s actions" % impu)
    check(init["af_app_id"] == "IMS Services", "%s AF-Application-Identifier" % impu)
    m = init["media"]
    check(len(m) == 1 and m[0]["media_type"] == 0 and m[0]["flow_status"] == 2,
          "%s component %s" % (impu, m))
    check(m[0]["subs"] == flows(ue, up, rem, rp), "%s flows %s" % (impu, m[0]["subs"]))
    check(hold["media"][0]["flow_status"] == hold_status, "%s hold: Flow-Status %s"
          % (impu, hold["media"][0].get("flow_status")))
    check(res["media"][0]["flow_status"] == 2, "%s resume: Flow-Status" % impu)
    check(res["media"][0]["subs"] == flows(ue, up, rem, rp), "%s resume flows" % impu)
    check(st["termination_cause"] == 1, "%s STR" % impu)
print("record: call with hold/resume: both legs AAR, 2 UPDATEs, STR, flows both ways")
# 3. refused
rej = [r for r in aars if ok(r, 5063, True)]
check(len(rej) == 1 and rej[0]["sub_ids"][0]["data"] == impu_b, "one refused AAR (B's leg)")
check(not [r for r in strs if r["sid"] == rej[0]["sid"]], "no STR for the refused session")
# 3b. cancelled after the 183: both legs opened at the 183 and ended by the 487
for impu, i in ((impu_a, 1), (impu_b, 2)):
    s3 = leg(impu, i)
    check([r["cmd"] for r in s3] == ["AAR", "STR"] and all(ok(r) for r in s3),
          "%s leg of the cancelled call %s" % (impu, s3))
# 4. ASR
asa = [r for r in recs if r["cmd"] == "ASA"]
check(len(asa) == 1 and asa[0]["answer"] == {"result": 2001, "experimental": False},
      "ASA %s" % asa)
a4, b4 = leg(impu_a, 2), leg(impu_b, 3)   # B's refused leg was its second
check(a4[0]["sid"] == asa[0]["sid"], "ASR on A's leg of the third call")
check([r["cmd"] for r in a4] == ["AAR", "ASA", "STR"] or
      [r["cmd"] for r in a4] == ["AAR", "STR", "ASA"], "A's leg after the ASR %s" % a4)
check([r["cmd"] for r in b4] == ["AAR", "STR"], "B's leg after the ASR %s" % b4)
# 4b. RAR on B's leg: RAA 2001, then both legs end
raa = [r for r in recs if r["cmd"] == "RAA"]
check(len(raa) == 1 and raa[0]["answer"] == {"result": 2001, "experimental": False},
      "RAA %s" % raa)
a5, b5 = leg(impu_a, 3), leg(impu_b, 4)
check(b5[0]["sid"] == raa[0]["sid"], "RAR on B's leg of the fourth call")
check(sorted(r["cmd"] for r in b5) == ["AAR", "RAA", "STR"], "B's leg after the RAR %s" % b5)
check([r["cmd"] for r in a5] == ["AAR", "STR"], "A's leg after the RAR %s" % a5)
# 5b. the unanswered AAR: B's leg, no session, no STR
drop = [r for r in aars if r.get("dropped")]
check(len(drop) == 1 and "answer" not in drop[0] and drop[0]["sub_ids"][0]["data"] == impu_b,
      "one unanswered AAR %s" % drop)
check(not [r for r in strs if r["sid"] == drop[0]["sid"]], "no STR for the unanswered AAR")
# every session opened is closed once
opened = {r["sid"] for r in aars if ok(r) and r["rx_request_type"] == 0}
closed = [r["sid"] for r in strs]
check(sorted(closed) == sorted(opened), "STR per session: %d opened, %d STRs, %d distinct"
      % (len(opened), len(closed), len(set(closed))))
check(all(ok(r) for r in strs), "STAs")
check(len(opened) == 2 + 2 + 2 + 2 + 2 + 2 * ncalls, "sessions opened: %d" % len(opened))
print("record: %d sessions opened, each ended by one STR; %d messages checked"
      % (len(opened), len(recs)))
EOF
    fail "PCRF record check failed (record: $REC)"

# ---- what Wireshark saw ----
CHECK=$(tshark_check_clean "$PCAP" 3868) || fail "tshark_check_clean: $CHECK"
printf '%s\n' "$CHECK" | tail -5
TABLE=$IT_WORK/messages.tsv
tshark -n -r "$PCAP" -d "tcp.port==3868,diameter" -Y diameter -T fields -E separator=/t \
    -E occurrence=a -E aggregator=';' -e diameter.cmd.code -e diameter.flags.request \
    >"$TABLE" 2>"$IT_WORK/tshark-fields.err" ||
    fail "tshark -T fields failed: $(cat "$IT_WORK/tshark-fields.err")"
count() {
    awk -F'\t' -v c="$1" -v r="$2" '{
        n = split($1, cs, ";"); split($2, rs, ";")
        for (i = 1; i <= n; i++)
            if (cs[i] == c && ((rs[i] == "1" || rs[i] == "True") == (r == "R"))) k++
    } END { print k + 0 }' "$TABLE"
}
summary=""
for spec in 265:AAR 275:STR 274:ASA 258:RAA; do
    code=${spec%%:*} cmd=${spec#*:}
    n=$(recs "len([x for x in r if x['cmd'] == '$cmd'])")
    na=$(recs "len([x for x in r if x['cmd'] == '$cmd' and not x.get('dropped')])")
    [ "$(count "$code" R)" -eq "$n" ] && [ "$(count "$code" A)" -eq "$na" ] ||
        fail "tshark: command $code: $(count "$code" R) requests, $(count "$code" A) answers," \
            "recorded $n ($na answered)"
    summary+=" $code=$n"
done
say "tshark: Rx commands (requests = recorded; answers = recorded - 1 unanswered AAR):" \
    "$summary; no malformed packet"
ok "Rx policy: signalling AAR per registration, AAR at answer (flows both ways, both legs)," \
    "UPDATE on hold/resume, STR at BYE; refusal -> 488; ASR and RAR -> BYE with Reason to" \
    "both UEs; PCRF silent or down -> 503;" \
    "$NCALLS calls and de-registration leave no session"
