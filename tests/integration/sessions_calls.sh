#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 5 acceptance: calls between two registered handsets through the whole IMS core (the
# 127.0.1.x lab of lib/reg.sh: P-CSCF, I-CSCF, S-CSCF, ims-hss). A (subscriber 1,
# 127.0.1.100) and B (subscriber 2, 127.0.1.101) register with tests/tools/aka_ue.py from a
# fixed address and port; sipp then plays each handset from that same address and port (the
# P-CSCF knows its UEs by address), one role per sipp run, so the runs are sequential:
#   1. B answers, A places SC_CALLS (100) calls to B's IMPU at SC_RATE (20) calls/s;
#   2. A answers, B places SC_CALLS calls to A's IMPU;
#   each call: INVITE (SDP offer, Supported + Require: 100rel) -> P -> S (originating) -> I
#   (LIR) -> S (terminating) -> P -> callee (the I-CSCF stays out of the dialog); 180 with
#   Require: 100rel and RSeq -> PRACK (RAck) -> 200 (PRACK) -> 200 (INVITE, SDP answer) ->
#   ACK; the caller puts the call on hold with a re-INVITE (a=sendonly, answered
#   a=recvonly) -> 200 -> ACK; the callee hangs up: BYE -> 200. Every in-dialog request
#   follows the Record-Route set, which must hold the P-CSCF and the S-CSCF. The callee
#   checks on every call: its registered contact as Request-URI, P-Asserted-Identity = the
#   caller's IMPU, Require: 100rel, RAck, the hold SDP. Both sipp sides must count SC_CALLS
#   successful and 0 failed calls.
#   3. CANCEL before answer: B rings (180) and never answers, A cancels after the 180
#   (SC_CANCELS = 10 calls): A gets 200 (CANCEL) and 487 (INVITE) and ACKs it; B gets the
#   CANCEL, answers 200 and 487 (with the INVITE's Via set) and receives the hop-by-hop ACK.
#   4. SMS over IP, pager mode: A sends SC_MESSAGES (10) MESSAGEs (text/plain) to B's IMPU
#   along the same path; B gets each at its registered contact with P-Asserted-Identity = A's
#   IMPU and the body, answers 200, A gets the 200.
#   5. OPTIONS out of dialog: A queries B's IMPU SC_OPTIONS (10) times; B checks the same
#   and answers 200 (Allow, Accept), A gets it.
#   6. SC_TIMERS (10) calls A -> B with a session timer (RFC 4028): B checks that the
#   INVITE's Session-Expires: 1800;refresher=uac, Min-SE: 90 and Supported: timer arrive
#   untouched and answers with Require: timer and the same Session-Expires, which A checks
#   in the 200; after the ACK A sends an UPDATE with an SDP offer (B checks its contact as
#   Request-URI, answers 200 with SDP), B sends an INFO (application/dtmf-relay, Signal=5;
#   A checks its contact as Request-URI and the body) -> 200, and A hangs up: BYE -> 200.
#   7. The S-CSCF logged the originating case of every initial INVITE (re-INVITEs are not
#   initial requests), MESSAGE and OPTIONS; the P-CSCF's dialog count is back to 0 after
#   each call part and its stop line counts two dialog records per call (caller's and
#   callee's leg), none left, none given up; every daemon is alive at the end and stops with
#   exit 0 (sanitizer-clean).
# Environment: SC_CALLS, SC_RATE, SC_CANCELS, SC_MESSAGES, SC_OPTIONS, SC_TIMERS (defaults
# 100, 20, 10, 10, 10, 10).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
for t in sipp python3 ss; do
    command -v "$t" >/dev/null || { echo "$t not found: skipped"; exit 77; }
done
it_init 19100
CALLS=${SC_CALLS:-100}
RATE=${SC_RATE:-20}
NCANCEL=${SC_CANCELS:-10}
NMSG=${SC_MESSAGES:-10}
NOPT=${SC_OPTIONS:-10}
NTIMER=${SC_TIMERS:-10}
A_IP=127.0.1.100
B_IP=127.0.1.101
IMPU_A=$(reg_impu 1)
IMPU_B=$(reg_impu 2)
re() { sess_re "$1"; }

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_set pcscf record_route true
reg_lab_start

# register N IP PORT: subscriber N registers from IP:PORT (contact sip:ue@IP:PORT).
register() { sess_register "$@"; }
pick_port_into PA
pick_port_into PB
register 1 "$A_IP" "$PA"
register 2 "$B_IP" "$PB"

# ---- scenarios (generated: the identities and addresses are the lab's) ----
mkdir -p "$IT_WORK/sc"
scenario() { sess_scenario "$@"; }
# sdp DIRECTION: a session description (audio) with that direction attribute.
sdp() {
    cat <<EOF
Content-Type: application/sdp
Content-Length: [len]

v=0
o=ue 1 [cseq] IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=$1
EOF
}
# check NAME REGEXP: an action that fails the call when the message does not match.
check() {
    printf '  <ereg regexp="%s" search_in="msg" check_it="true" assign_to="%s"/>\n' "$2" "$1"
}
# Each whole header block (all lines of Via or Record-Route): the 200 and the 487 for the
# INVITE are sent after other requests of the call, so [last_Via:] would be theirs.
SAVE_INVITE='  <ereg regexp="Via:[^[:cntrl:]]*([[:cntrl:]]+Via:[^[:cntrl:]]*)*" search_in="msg"
    check_it="true" assign_to="vias"/>
  <ereg regexp="Record-Route:[^[:cntrl:]]*([[:cntrl:]]+Record-Route:[^[:cntrl:]]*)*"
    search_in="msg" check_it="true" assign_to="rrs"/>
  <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="from"/>
  <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="to"/>'
# The P-CSCF and the S-CSCF stay in the dialog (their addresses in the Record-Route set).
RR_CHECKS="$(check rr_p "Record-Route:[^[:cntrl:]]*$(re "$REG_P"):5060")
$(check rr_s "Record-Route:[^[:cntrl:]]*$(re "$REG_S"):5060")"

# invite FROM_IMPU CSEQ [EXTRA]: the caller's INVITE to [target] (SDP sendrecv).
invite() {
    cat <<EOF
<send retrans="500" start_txn="inv"><![CDATA[

INVITE [target] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <$1>;tag=[pid]U[call_number]
To: <[target]>
Call-ID: [call_id]
CSeq: $2 INVITE
Contact: <sip:ue@[local_ip]:[local_port]>
Max-Forwards: 70
${3:+$3
}$(sdp sendrecv)

]]></send>
<recv response="100" optional="true" response_txn="inv"/>
EOF
}
# in_dialog METHOD CSEQ FROM_IMPU [TXN] [BODY]: the caller's request along the route set
# (an ACK names the INVITE transaction it acknowledges).
in_dialog() {
    local attr=${4:+ retrans=\"500\" start_txn=\"$4\"}
    [ "$1" = ACK ] && attr=" ack_txn=\"$4\""
    cat <<EOF
<send$attr><![CDATA[

$1 [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
[routes]
From: <$3>;tag=[pid]U[call_number]
To: <[target]>[peer_tag_param]
Call-ID: [call_id]
CSeq: $2 $1
Contact: <sip:ue@[local_ip]:[local_port]>
Max-Forwards: 70
${5:-Content-Length: 0}

]]></send>
EOF
}
# answer CODE [BODY] [ATTRS]: a response to the last request received, as it came.
answer() {
    cat <<EOF
<send${3:+ $3}><![CDATA[

SIP/2.0 $1 X
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:ue@[local_ip]:[local_port]>
${2:-Content-Length: 0}

]]></send>
EOF
}
# to_invite CODE [EXTRA] [BODY] [ATTRS]: the callee's response to the INVITE (saved headers).
to_invite() {
    cat <<EOF
<send${4:+ $4}><![CDATA[

SIP/2.0 $1 X
[\$vias]
[\$rrs]
From:[\$from]
To:[\$to];tag=[pid]C[call_number]
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:ue@[local_ip]:[local_port]>
${2:+$2
}${3:-Content-Length: 0}

]]></send>
EOF
}

# uac_call NAME ME: the caller (-key target: the callee's IMPU).
uac_call() {
    {
        invite "$2" 1 'Supported: 100rel
Require: 100rel'
        cat <<EOF
<recv response="180" response_txn="inv" rrs="true"><action>
  <ereg regexp="RSeq: *([0-9]+)" search_in="msg" check_it="true" assign_to="rs,rseq"/>
$(check req100rel "Require: *100rel")
</action></recv>
EOF
        # shellcheck disable=SC2016 # [$rseq] is sipp's
        in_dialog PRACK 2 "$2" prack 'RAck: [$rseq] 1 INVITE
Content-Length: 0'
        cat <<EOF
<recv response="200" response_txn="prack"/>
<recv response="200" response_txn="inv" rrs="true"><action>
$RR_CHECKS
$(check answer "a=sendrecv")
</action></recv>
EOF
        in_dialog ACK 1 "$2" inv
        echo '<pause milliseconds="300"/>'
        in_dialog INVITE 3 "$2" reinv "$(sdp sendonly)"
        cat <<EOF
<recv response="100" optional="true" response_txn="reinv"/>
<recv response="200" response_txn="reinv"><action>
$(check held "a=recvonly")
</action></recv>
EOF
        in_dialog ACK 3 "$2" reinv
        echo '<recv request="BYE"/>'
        answer 200
        echo '<timewait milliseconds="500"/>'
        echo '<Reference variables="rs,req100rel,rr_p,rr_s,answer,held"/>'
    } | scenario "$1"
}
# The callee's checks of the INVITE: its contact as R-URI, the caller asserted, 100rel.
# invite_checks CALLER_IMPU IP PORT
invite_checks() {
    cat <<EOF
<recv request="INVITE" rrs="true"><action>
$(check rl "^INVITE sip:ue@$(re "$2"):$3 SIP/2\\.0")
$(check pai "P-Asserted-Identity: *&lt;$(re "$1")&gt;")
$SAVE_INVITE
EOF
}
# ring [EXTRA]: the callee's 180 to the INVITE just received (to-tag, Record-Route echoed).
ring() {
    cat <<EOF
<send><![CDATA[

SIP/2.0 180 Ringing
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]C[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:ue@[local_ip]:[local_port]>
${1:+$1
}Content-Length: 0

]]></send>
EOF
}
# uas_call NAME CALLER_IMPU IP PORT: the callee (answers, hangs up).
uas_call() {
    {
        invite_checks "$2" "$3" "$4"
        check req100rel "Require: *100rel"
        echo '</action></recv>'
        ring 'Require: 100rel
RSeq: 1'
        cat <<'EOF'
<recv request="PRACK"><action>
  <ereg regexp="RAck: *1 1 INVITE" search_in="msg" check_it="true" assign_to="rack"/>
</action></recv>
EOF
        answer 200
        to_invite 200 '' "$(sdp sendrecv)" 'retrans="500"'
        echo '<recv request="ACK"/>'
        echo '<recv request="INVITE"><action>'
        check hold "a=sendonly"
        echo '</action></recv>'
        answer 200 "$(sdp recvonly)" 'retrans="500"'
        echo '<recv request="ACK"/><pause milliseconds="200"/>'
        cat <<'EOF'
<send retrans="500"><![CDATA[

BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
[routes]
From:[$to];tag=[pid]C[call_number]
To:[$from]
Call-ID: [call_id]
CSeq: 1 BYE
Contact: <sip:ue@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200"/>
<Reference variables="rl,pai,vias,rrs,from,to,req100rel,rack,hold"/>
EOF
    } | scenario "$1"
}
uac_call uac_a "$IMPU_A"
uac_call uac_b "$IMPU_B"
uas_call uas_b "$IMPU_A" "$B_IP" "$PB"
uas_call uas_a "$IMPU_B" "$A_IP" "$PA"

# CANCEL: A's INVITE (step 0), the CANCEL and the ACK for the 487 reuse its branch.
{
    invite "$IMPU_A" 1
    cat <<EOF
<recv response="180" response_txn="inv"/>
<pause milliseconds="100"/>
EOF
    sess_step_cancel "$IMPU_A" branch-4 U
    sess_step_ack_fail "$IMPU_A" branch-7 U
    echo '<timewait milliseconds="500"/>'
} | scenario uac_cancel
{
    invite_checks "$IMPU_A" "$B_IP" "$PB"
    echo '</action></recv>'
    ring
    echo '<recv request="CANCEL"/>'
    answer 200
    to_invite 487
    echo '<recv request="ACK"><action>'
    check ack "^ACK sip:ue@$(re "$B_IP"):$PB SIP/2\\.0"
    echo '</action></recv><timewait milliseconds="500"/>'
    echo '<Reference variables="rl,pai,vias,rrs,from,to,ack"/>'
} | scenario uas_ring

# ---- standalone requests and the other dialog methods (parts 4-6) ----
# standalone METHOD FROM_IMPU [HEADERS+BODY]: an out-of-dialog request to [target] and its 200.
standalone() {
    cat <<EOF
<send retrans="500"><![CDATA[

$1 [target] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <$2>;tag=[pid]U[call_number]
To: <[target]>
Call-ID: [call_id]
CSeq: 1 $1
Max-Forwards: 70
${3:-Content-Length: 0}

]]></send>
<recv response="200"/>
<timewait milliseconds="500"/>
EOF
}
# standalone_uas METHOD CALLER_IMPU IP PORT CHECKS: the receiver checks the request (its
# contact as Request-URI, the caller asserted, CHECKS) and answers 200 with a to-tag.
standalone_uas() {
    cat <<EOF
<recv request="$1"><action>
$(check rl "^$1 sip:ue@$(re "$3"):$4 SIP/2\\.0")
$(check pai "P-Asserted-Identity: *&lt;$(re "$2")&gt;")
$5
</action></recv>
<send><![CDATA[

SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]C[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:ue@[local_ip]:[local_port]>
${6:-Content-Length: 0}

]]></send>
<Reference variables="rl,pai$7"/>
EOF
}
# 4. SMS over IP, pager mode (TS 24.341): MESSAGE with a text/plain body.
standalone MESSAGE "$IMPU_A" 'Content-Type: text/plain
Content-Length: [len]

SMS [call_number] from A' | scenario uac_msg
standalone_uas MESSAGE "$IMPU_A" "$B_IP" "$PB" \
    "$(check ctype "Content-Type: *text/plain")
$(check sms "SMS [0-9]+ from A")" '' ',ctype,sms' | scenario uas_msg
# 5. OPTIONS (capabilities query) to the other handset's IMPU.
standalone OPTIONS "$IMPU_A" 'Accept: application/sdp
Content-Length: 0' | scenario uac_opt
standalone_uas OPTIONS "$IMPU_A" "$B_IP" "$PB" "$(check accept "Accept: *application/sdp")" \
    'Allow: INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, INFO, MESSAGE, OPTIONS
Accept: application/sdp
Content-Length: 0' ',accept' | scenario uas_opt
# 6. A call with a session timer (RFC 4028): the INVITE's Session-Expires, Min-SE and
# Supported: timer reach B untouched and B's 200 brings Session-Expires (Require: timer) back
# to A; A sends an UPDATE with an SDP offer, B an INFO (DTMF relay); A hangs up.
SE='Session-Expires: 1800;refresher=uac'
DTMF='Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=5
Duration=160'
{
    invite "$IMPU_A" 1 "Supported: timer
$SE
Min-SE: 90"
    cat <<EOF
<recv response="180" response_txn="inv"/>
<recv response="200" response_txn="inv" rrs="true"><action>
$RR_CHECKS
$(check se "Session-Expires: *1800;refresher=uac")
$(check reqtimer "Require: *timer")
</action></recv>
EOF
    in_dialog ACK 1 "$IMPU_A" inv
    echo '<pause milliseconds="200"/>'
    in_dialog UPDATE 2 "$IMPU_A" upd "$(sdp sendrecv)"
    cat <<EOF
<recv response="200" response_txn="upd"><action>
$(check updans "a=sendrecv")
</action></recv>
<recv request="INFO"><action>
$(check inforl "^INFO sip:ue@$(re "$A_IP"):$PA SIP/2\\.0")
$(check dtmf "Content-Type: *application/dtmf-relay")
$(check sig "Signal=5")
</action></recv>
EOF
    answer 200
    echo '<pause milliseconds="200"/>'
    in_dialog BYE 3 "$IMPU_A" bye
    cat <<'EOF'
<recv response="200" response_txn="bye"/>
<timewait milliseconds="500"/>
<Reference variables="rr_p,rr_s,se,reqtimer,updans,inforl,dtmf,sig"/>
EOF
} | scenario uac_timer
{
    invite_checks "$IMPU_A" "$B_IP" "$PB"
    check se "Session-Expires: *1800;refresher=uac"
    check minse "Min-SE: *90"
    check suptimer "Supported:[^[:cntrl:]]*timer"
    echo '</action></recv>'
    ring
    to_invite 200 "Require: timer
$SE" "$(sdp sendrecv)" 'retrans="500"'
    echo '<recv request="ACK"/>'
    echo '<recv request="UPDATE"><action>'
    check updrl "^UPDATE sip:ue@$(re "$B_IP"):$PB SIP/2\\.0"
    check offer "m=audio"
    echo '</action></recv>'
    answer 200 "$(sdp sendrecv)"
    echo '<pause milliseconds="200"/>'
    cat <<EOF
<send retrans="500"><![CDATA[

INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
[routes]
From:[\$to];tag=[pid]C[call_number]
To:[\$from]
Call-ID: [call_id]
CSeq: 1 INFO
Contact: <sip:ue@[local_ip]:[local_port]>
Max-Forwards: 70
$DTMF

]]></send>
<recv response="200"/>
<recv request="BYE"/>
EOF
    answer 200
    echo '<Reference variables="rl,pai,vias,rrs,from,to,se,minse,suptimer,updrl,offer"/>'
} | scenario uas_timer

# ---- runs ----
# uas VAR NAME SCEN IP PORT CALLS: a handset answering in the background.
uas() { sess_uas "$@"; }
# uac NAME SCEN IP PORT TARGET CALLS: a handset calling through the P-CSCF, foreground.
uac() { SESS_TIMEOUT=60 sess_uac "$1" "$2" "$3" "$4" "$6" "$5" -r "$RATE"; }
# dialogs_now: the P-CSCF's dialog count after its latest dialog event ("(N dialogs)").
dialogs_now() {
    grep -oE '\([0-9]+ dialogs\)$' "$REG_DIR/pcscf.log" | tail -1 | tr -dc '0-9'
}
# dialogs_zero PART: the P-CSCF's last dialog event left 0 dialogs (1 s for late BYE 200s).
dialogs_zero() {
    local i n
    for ((i = 0; i < 20; i++)); do
        n=$(dialogs_now)
        [ "$n" = 0 ] && break
        sleep 0.05
    done
    say "$1. P-CSCF dialogs now: ${n:-none logged}"
    [ "$n" = 0 ] || fail "$1. the P-CSCF still has ${n:-?} dialogs (want 0)" "${REG_PID[pcscf]}"
}
# originated FROM TO: initial INVITEs the S-CSCF treated as originating for FROM to TO.
originated() { grep -c "INVITE originating for $(re "$1") to $(re "$2")$" "$REG_DIR/scscf.log"; }

# part N WHAT UAS_SCEN UAS_IP UAS_PORT UAC_SCEN UAC_IP UAC_PORT TARGET CALLS: one handset
# answers, the other calls; both must count CALLS successful calls.
part() {
    local t0=$SECONDS uas_rc
    uas UAS_PID "uas-$1" "$3" "$4" "$5" "${10}"
    uac "uac-$1" "$6" "$7" "$8" "$9" "${10}"
    local uac_rc=$SIPP_RC
    wait_sipp "$UAS_PID" 30
    uas_rc=$SIPP_RC
    expect_calls "$IT_WORK/uac-$1" "$uac_rc" "${10}" "$1. caller: $2"
    expect_calls "$IT_WORK/uas-$1" "$uas_rc" "${10}" "$1. callee: $2"
    say "$1. took $((SECONDS - t0)) s"
}

part 1 "A -> B, 100rel/PRACK, hold re-INVITE, BYE by B" uas_b "$B_IP" "$PB" \
    uac_a "$A_IP" "$PA" "$IMPU_B" "$CALLS"
dialogs_zero 1
part 2 "B -> A, 100rel/PRACK, hold re-INVITE, BYE by A" uas_a "$A_IP" "$PA" \
    uac_b "$B_IP" "$PB" "$IMPU_A" "$CALLS"
dialogs_zero 2
part 3 "A -> B cancelled after 180: 200 + 487 at A, CANCEL + ACK of the 487 at B" \
    uas_ring "$B_IP" "$PB" uac_cancel "$A_IP" "$PA" "$IMPU_B" "$NCANCEL"
dialogs_zero 3
part 4 "A -> B MESSAGE (SMS over IP, text/plain), 200 from B" \
    uas_msg "$B_IP" "$PB" uac_msg "$A_IP" "$PA" "$IMPU_B" "$NMSG"
part 5 "A -> B OPTIONS out of dialog, 200 from B" \
    uas_opt "$B_IP" "$PB" uac_opt "$A_IP" "$PA" "$IMPU_B" "$NOPT"
dialogs_zero 5
part 6 "A -> B session timer untouched, UPDATE by A, INFO (DTMF) by B, BYE by A" \
    uas_timer "$B_IP" "$PB" uac_timer "$A_IP" "$PA" "$IMPU_B" "$NTIMER"
dialogs_zero 6

# ---- 7. the S-CSCF's session cases, the P-CSCF's dialog records, clean stop ----
n_ab=$(originated "$IMPU_A" "$IMPU_B")
n_ba=$(originated "$IMPU_B" "$IMPU_A")
say "7. S-CSCF originating cases: A -> B $n_ab, B -> A $n_ba"
[ "$n_ab" -eq $((CALLS + NCANCEL + NTIMER)) ] ||
    fail "7. S-CSCF: $n_ab originating INVITEs A -> B, want $((CALLS + NCANCEL + NTIMER))"
[ "$n_ba" -eq "$CALLS" ] || fail "7. S-CSCF: $n_ba originating INVITEs B -> A, want $CALLS"
for m in MESSAGE:$NMSG OPTIONS:$NOPT; do
    n=$(grep -c "${m%:*} originating for $(re "$IMPU_A") to $(re "$IMPU_B")$" \
        "$REG_DIR/scscf.log")
    say "7. S-CSCF originating ${m%:*} A -> B: $n"
    [ "$n" -eq "${m#*:}" ] || fail "7. S-CSCF: $n originating ${m%:*}s A -> B, want ${m#*:}"
done
grep -q "given up" "$REG_DIR/pcscf.log" && fail "7. the P-CSCF gave up dialogs"
for d in pcscf icscf scscf ims-hss; do assert_alive "${REG_PID[$d]}"; done
reg_lab_stop
grep -E "P-CSCF dialogs:" "$REG_DIR/pcscf.log" | sed 's/^/    /'
legs=$((2 * (2 * CALLS + NCANCEL + NTIMER)))
confirmed=$((4 * CALLS + 2 * NTIMER))
grep -qE "P-CSCF dialogs: 0 active at stop; $legs early, $confirmed confirmed, $legs \
ended, 0 released \(0 BYEs sent\), 0 requests" "$REG_DIR/pcscf.log" ||
    fail "7. P-CSCF stop line: want 0 active, $legs early, $confirmed confirmed, \
$legs ended, 0 released"
ok "$CALLS calls A -> B and $CALLS B -> A with 100rel/PRACK, hold re-INVITE and BYE," \
    "$NCANCEL cancelled (487 at both ends), $NMSG MESSAGEs, $NOPT OPTIONS, $NTIMER calls" \
    "with session timer, UPDATE and INFO, through P -> S -> I -> S -> P, 0 failures;" \
    "P-CSCF dialogs back to 0, daemons stopped cleanly"
