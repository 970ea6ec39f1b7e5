# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash disable=SC2034  # UAS_PID, REPLY: for the sourcing test
# Helpers of the policy call tests (policy_rx.sh, policy_n5.sh) on the lab of lib/reg.sh and
# lib/session.sh (source those first): the test peer's control socket and JSON records, the
# sipp scenarios of the two handsets, and the call patterns. pol_init sets A_IP, B_IP (the
# handsets' addresses), IMPU_A, IMPU_B; the sourcing test sets
#   PA PB               the handsets' SIP ports (once they registered)
#   REC                 the test peer's record file (one JSON object per line)
#   CPORT               the test peer's UDP control port
# Scenarios written by pol_scenarios into $IT_WORK/sc (A calls, B answers; SDP with fixed
# addresses A_IP:40000 and B_IP:42000):
#   a_hold/b_hold         call, hold re-INVITE (A sendonly, B recvonly), resume, BYE by A
#   a_rejected/b_rejected A gets 488 (ACKs it); B's 200 is ACKed by the P-CSCF, then BYE
#                         with Reason: SIP;cause=488
#   a_down/b_down         the same with 500 at A and Reason cause 503 at B
#   a_cancel/b_cancel     B answers 183 with SDP, A cancels: 487
#   a_asr/b_asr           the call stays up until the P-CSCF's BYE with Reason cause 503
#                         text "Bearer released" (sed the text for other releases)
#   a_call/b_call         call and BYE by A

# pol_init BASE-PORT: it_init, the tools checked (exit 77 without them), and the handsets:
# A_IP, B_IP, IMPU_A, IMPU_B; NCALLS (POL_CALLS, 200) for the many-calls step; D the domain.
pol_init() {
    local t
    for t in sipp python3 ss tshark; do
        command -v "$t" >/dev/null || { echo "$t not found: skipped"; exit 77; }
    done
    it_init "$1"
    NCALLS=${POL_CALLS:-200}
    A_IP=127.0.1.100
    B_IP=127.0.1.101
    D=$REG_DOMAIN
    IMPU_A=$(reg_impu 1)
    IMPU_B=$(reg_impu 2)
}

# pol_deregister STEP: A and B (registered from A_IP:PA, B_IP:PB) de-register.
pol_deregister() {
    local n ip port
    for n in 1 2; do
        ip=$A_IP port=$PA
        [ "$n" = 2 ] && ip=$B_IP port=$PB
        python3 "$IMS_SOURCE_DIR/tests/tools/aka_ue.py" --pcscf "$REG_P:5060" --local "$ip" \
            --port "$port" --domain "$D" --impi "$(reg_impi $n)" --impu "$(reg_impu $n)" \
            --k "$REG_KHEX" --op "$REG_OPHEX" --expires 0 >"$IT_WORK/dereg-$n.out" 2>&1 ||
            fail "$1. subscriber $n did not de-register: $(tail -3 "$IT_WORK/dereg-$n.out")"
    done
}

# ctl COMMAND: one datagram to the test peer's control socket; the reply in $REPLY.
ctl() { udp_ctl "$CPORT" "$@"; }
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

# pol_scenarios: write the scenarios listed above.
pol_scenarios() {
    local A_SDP="$A_IP 40000" B_SDP="$B_IP 42000"

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
    sess_step_ack_fail IMPU branch-4
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
EOF
    sess_step_cancel IMPU
    sess_step_ack_fail IMPU branch-7
    printf '%s\n' '<timewait milliseconds="500"/>' '<Reference variables="early"/>'
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
}

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

# pol_n5_policy PCF_ADDR NOTIF_PORT: the P-CSCF's policy group for the N5 backend toward a
# test-pcf at PCF_ADDR (IP:PORT), its notifUri server on NOTIF_PORT, timeout 2 s.
pol_n5_policy() {
    printf '{ backend = "n5"; timeout_ms = 2000; n5 = { pcf = "%s"; notif_listen = "%s";%s' \
        "$1" "$REG_P:$2" ' dnn = "ims"; }; }'
}

# down_part WHO: step 7 of the policy tests, the policy server (WHO) gone: registration still
# works, and a call fails at once (503 from B's leg, 500 at A, ACK + BYE at B), well within
# the policy timeout.
down_part() {
    local t0 ms
    sess_register 1 "$A_IP" "$PA"
    sess_register 2 "$B_IP" "$PB"
    t0=$(($(date +%s%N) / 1000000))
    part 7 "$1 down: 503 from B's leg (500 at A), ACK + BYE at B" a_down b_down 1
    ms=$(($(date +%s%N) / 1000000 - t0))
    say "7. with the $1 down the call failed in $ms ms (timeout_ms 2000)"
    [ "$ms" -lt 8000 ] || fail "7. the refused call took $ms ms"
}

# mid_call N WHAT SCEN COUNT SID CTL-CMD [CTL-ARG]: a call A -> B (scenarios a_SCEN, b_SCEN)
# that stays up until the test peer is told "CTL-CMD <SID> CTL-ARG" once both legs are
# authorised (the records' COUNT expression has grown by 2; SID, a records expression, is
# then evaluated); both handsets must then get the P-CSCF's BYE (their scenarios check
# Reason).
mid_call() {
    local n=$1 what=$2 scen=$3 count=$4 sidx=$5 before sid uac_pid uac_rc
    shift 5
    before=$(recs "$count")
    sess_uas UAS_PID "uas-$n" "b_$scen" "$B_IP" "$PB" 1
    ( sess_uac "uac-$n" "a_$scen" "$A_IP" "$PA" 1 "$IMPU_B"; exit "$SIPP_RC" ) &
    uac_pid=$!
    track "$uac_pid" "sipp-uac-$n" "$IT_WORK/uac-$n.errors"
    wait_recs "$count" $((before + 2)) 10 || fail "$n. the call's two legs were not authorised"
    sleep 1   # the 200 reaches A and A's ACK goes out
    sid=$(recs "$sidx")
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
