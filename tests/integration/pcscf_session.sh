#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# P-CSCF sessions (TS 24.229 §5.2.6, §5.2.7, §5.2.8.1.2) on the private lab of lib/reg.sh
# (HSS, S-CSCF, I-CSCF, P-CSCF on 127.0.1.x; UEs registered with IMS AKA by sipp). The
# S-CSCF's session routing is not needed: in the P-CSCF's sip.hosts the S-CSCF's name points
# at a sipp UAS "standin" on 127.0.1.31, so a registered UE's requests (routed by its
# Service-Route <sip:orig@scscf...;lr>) reach the stand-in, while REGISTERs still go through
# the I-CSCF to the real S-CSCF (which the stand-in replaces only for sessions; the P-CSCF's
# reg-event subscription is off, it would go to the stand-in too).
#   a. an unregistered UE's INVITE is answered 403 by the P-CSCF and nothing leaves the
#      P-CSCF but that answer (tshark on everything it sends; the CSCF logs);
#   b. a registered UE's INVITE reaches the stand-in with P-Asserted-Identity = its IMPU and
#      Route = its Service-Route (checked by the stand-in, a failed check fails its call);
#   c. that call completes INVITE/180/200/ACK/BYE through the P-CSCF along the Record-Route
#      set (the UE checks the P-CSCF's Record-Route in the 200); the P-CSCF's log shows the
#      dialog confirmed with 1 dialog and ended with 0;
#   d. a second UE de-registers while its call is up: the P-CSCF sends BYE to the UE and to
#      the stand-in, each with Reason: SIP;cause=503;text="De-registered" (checked by both
#      sipps), and reports the dialog released with 0 left.
# At the stop the P-CSCF reports 0 active dialogs; every daemon exits 0 (ASan clean).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
it_init 18700
command -v tshark >/dev/null || fail "tshark not found in PATH"
D=$REG_DOMAIN
D_RE=$(printf '%s' "$D" | sed 's/\./\\\\./g')
STANDIN=127.0.1.31
ROGUE=127.0.1.101

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
grep -q "\"scscf.$D=127.0.1.30\"" "$REG_DIR/pcscf.cfg" || fail "pcscf.cfg: no scscf host entry"
sed -i "s|\"scscf.$D=127.0.1.30\"|\"scscf.$D=$STANDIN\"|" "$REG_DIR/pcscf.cfg"
reg_cfg_set pcscf reg_event false
reg_cfg_set pcscf record_route true
mkdir -p "$IT_WORK/sc"
SIPP_SCEN_DIR=$IT_WORK/sc

# ---- scenarios ----
# register CSEQ EXPIRES AUTH: one REGISTER of the UE (fields IMPI;K;OP;IMPU;IMSI).
register() {
    local auth='Authorization: Digest username="[field0]", realm="[service]",'
    auth+=' uri="sip:[service]", nonce="", response=""'
    [ "$3" = aka ] && auth='[authentication username="[field0]" aka_K="[field1]"'\
' aka_OP="[field2]" aka_AMF=0x8000]'
    cat <<EOF
<send retrans="500"><![CDATA[

REGISTER sip:[service] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <[field3]>;tag=[pid]r[call_number]
To: <[field3]>
Call-ID: [call_id]
CSeq: $1 REGISTER
Contact: <sip:[field4]@[local_ip]:[local_port]>;expires=$2
Expires: $2
$auth
Supported: path
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="100" optional="true"/>
EOF
}
# in_dialog METHOD CSEQ: ACK or BYE along the route set learnt from the 200.
in_dialog() {
    cat <<EOF
<send$([ "$1" = BYE ] && echo ' retrans="500"')><![CDATA[

$1 [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
[routes]
From: <[field3]>;tag=[pid]i[call_number]
To: <sip:callee@[service]>[peer_tag_param]
Call-ID: [call_id]
CSeq: $2 $1
Contact: <sip:[field4]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
EOF
}
# ok200: the answer to the last request received.
ok200() {
    cat <<'EOF'
<send><![CDATA[

SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
EOF
}
REASON_CHECK='<action><ereg regexp="[Rr]eason: *SIP;cause=503;text=&quot;De-registered&quot;"
  search_in="msg" check_it="true" assign_to="reason"/></action>'
invite() {
    cat <<'EOF'
<send retrans="500"><![CDATA[

INVITE sip:callee@[service] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
Route: <sip:[remote_ip]:[remote_port];lr>
From: <[field3]>;tag=[pid]i[call_number]
To: <sip:callee@[service]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[field4]@[local_ip]:[local_port]>
P-Preferred-Identity: <[field3]>
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="100" optional="true"/>
EOF
    echo "<recv response=\"$1\" optional=\"true\"/>"
}
scenario() {
    {
        echo "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?><scenario name=\"$1\">"
        cat
        echo '</scenario>'
    } >"$IT_WORK/sc/$1.xml"
}
ue_registers() {
    register 1 600 none
    echo '<recv response="401" auth="true"/>'
    register 2 600 aka
    echo '<recv response="200"/>'
}
ue_calls() {
    invite 180
    cat <<EOF
<recv response="200" rrs="true"><action>
  <ereg regexp="[Rr]ecord-[Rr]oute:[^\\r\\n]*&lt;sip:$(printf '%s' "$REG_P" |
      sed 's/\./\\\\./g'):5060;lr&gt;" search_in="msg" check_it="true" assign_to="rr"/>
</action></recv>
<Reference variables="rr"/>
EOF
    in_dialog ACK 1
    echo '<pause milliseconds="500"/>'
}
# c. register, call, hang up.
{ ue_registers; ue_calls; in_dialog BYE 2; echo '<recv response="200"/>'; } | scenario ue_call
# d. register, call, de-register (challenged or not); the P-CSCF's BYE comes before the 200.
{
    ue_registers
    ue_calls
    register 3 0 none
    echo '<recv response="401" auth="true" optional="true" next="2"/>'
    echo "<recv request=\"BYE\" next=\"3\">$REASON_CHECK</recv>"
    echo '<label id="2"/>'
    register 4 0 aka
    echo "<recv request=\"BYE\">$REASON_CHECK</recv>"
    echo '<label id="3"/>'
    ok200
    echo '<recv response="200"/><Reference variables="reason"/>'
} | scenario ue_dereg
# a. an unregistered source: 403, then the ACK for it (hop by hop).
{
    invite 180
    cat <<'EOF'
<recv response="403"/>
<send><![CDATA[

ACK sip:callee@[service] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-4];rport
From: <sip:rogue@[service]>;tag=[pid]i[call_number]
To: <sip:callee@[service]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
EOF
} | sed 's/\[field3\]/sip:rogue@[service]/; s/\[field4\]/rogue/' | scenario rogue_invite
# The S-CSCF standing in: INVITE with PAI and Service-Route checked; 180, 200 (its own
# Record-Route on top of the P-CSCF's), ACK, then the BYE (REASON: with the Reason check).
standin_scenario() {
    local name=$1 impu_re=$2 bye_check=${3:-}
    {
        cat <<EOF
<recv request="INVITE" rrs="true"><action>
  <ereg regexp="[Pp]-[Aa]sserted-[Ii]dentity: *&lt;$impu_re&gt;" search_in="msg"
    check_it="true" assign_to="pai"/>
  <ereg regexp="[^-]Route: *&lt;sip:orig@scscf\\.$D_RE;lr&gt;" search_in="msg" check_it="true"
    assign_to="route"/>
</action></recv>
<Reference variables="pai,route"/>
EOF
        for code in 180 200; do
            cat <<EOF
<send$([ $code = 200 ] && echo ' retrans="500"')><![CDATA[

SIP/2.0 $code X
[last_Via:]
Record-Route: <sip:[local_ip]:[local_port];lr>
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]S[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:callee@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
EOF
        done
        echo '<recv request="ACK"/>'
        if [ -n "$bye_check" ]; then
            echo "<recv request=\"BYE\">$REASON_CHECK</recv><Reference variables=\"reason\"/>"
        else
            echo '<recv request="BYE"/>'
        fi
        ok200
    } | scenario "$name"
}

# standin VAR NAME SCENARIO: the sipp UAS on $STANDIN:5060 for one call, in the background.
standin() {
    local var=$1 name=$2 scen=$3 cp pid
    pick_port_into cp
    IT_NEXT_PORT=$((IT_NEXT_PORT + 6))
    (cd "$IT_WORK" && exec sipp -sf "$IT_WORK/sc/$scen.xml" -t u1 -i "$STANDIN" -p 5060 -m 1 \
        -ci 127.0.0.2 -cp "$cp" -mp $((cp + 1)) -nostdin -timeout 60s -timeout_error \
        -trace_stat -stf "$IT_WORK/$name.csv" -fd 1 -trace_msg -message_file "$IT_WORK/$name.msg" \
        -trace_err -error_file "$IT_WORK/$name.errors") >"$IT_WORK/$name.out" 2>&1 &
    pid=$!
    track "$pid" "sipp-$name" "$IT_WORK/$name.errors"
    for ((i = 0; i < 100; i++)); do
        reg_bound udp "$STANDIN" 5060 && break
        alive "$pid" || fail "stand-in sipp exited at start" "" "$IT_WORK/$name"
        sleep 0.05
    done
    printf -v "$var" '%d' "$pid"
}
plog() { cat "$REG_DIR/pcscf.log"; }
plines() { plog | wc -l; }

reg_lab_start
reg_users_csv "$IT_WORK/ue.csv" 81 2

# ---- a. unregistered: 403 and nothing forwarded ----
PCAP=$IT_WORK/pcscf-out.pcap
tshark -n -i lo -f "udp and src host $REG_P" -w "$PCAP" >"$PCAP.log" 2>&1 &
TSHARK_PID=$!
track "$TSHARK_PID" tshark "$PCAP.log"
for ((i = 0; i < 200; i++)); do
    grep -q "Capturing on" "$PCAP.log" 2>/dev/null && break
    alive "$TSHARK_PID" || fail "tshark exited at start (capturing on lo needs root)"
    sleep 0.05
done
grep -q "Capturing on" "$PCAP.log" || fail "tshark did not start capturing within 10 s"
sleep 1
s_before=$(grep -c "INVITE" "$REG_DIR/scscf.log")
i_before=$(grep -c "INVITE" "$REG_DIR/icscf.log")
pick_port_into RP
(cd "$IT_WORK" && exec timeout -k 5 30 sipp -sf "$IT_WORK/sc/rogue_invite.xml" -t u1 \
    -i "$ROGUE" -p "$RP" -m 1 -s "$D" -timeout 15s -timeout_error -nostdin \
    -ci 127.0.0.2 -cp $((RP + 1)) -mp $((RP + 2)) -trace_stat -stf "$IT_WORK/rogue.csv" -fd 1 \
    -trace_msg -message_file "$IT_WORK/rogue.msg" -trace_err -error_file "$IT_WORK/rogue.errors" \
    "$REG_P:5060") >"$IT_WORK/rogue.out" 2>&1
RC=$?
IT_NEXT_PORT=$((IT_NEXT_PORT + 6))
sleep 1
kill -INT "$TSHARK_PID"
wait "$TSHARK_PID" 2>/dev/null
untrack "$TSHARK_PID"
expect_calls "$IT_WORK/rogue" "$RC" 1 "a. INVITE from unregistered $ROGUE answered 403"
tshark -n -r "$PCAP" -d "udp.port==5060,sip" -V >"$IT_WORK/out.txt" 2>&1
ninv=$(grep -cE '^ *Request-Line: INVITE ' "$IT_WORK/out.txt")
n403=$(grep -cE '^ *Status-Line: SIP/2.0 403' "$IT_WORK/out.txt")
say "a. packets sent by the P-CSCF: $ninv INVITEs, $n403 403s"
[ "$n403" -ge 1 ] || fail "the capture holds no 403 from the P-CSCF (capture broken?)"
[ "$ninv" -eq 0 ] || fail "the P-CSCF forwarded the unregistered INVITE"
[ "$(grep -c "INVITE" "$REG_DIR/scscf.log")" -eq "$s_before" ] ||
    fail "an INVITE reached the S-CSCF"
[ "$(grep -c "INVITE" "$REG_DIR/icscf.log")" -eq "$i_before" ] ||
    fail "an INVITE reached the I-CSCF"
plog | grep -q "INVITE from u:$ROGUE:$RP refused: not registered" ||
    fail "the P-CSCF log does not show the refusal"
say "ok: a. unregistered INVITE: 403, nothing forwarded"

# ---- b + c. registered UE: PAI + Service-Route at the stand-in; the call through us ----
IMPU1_RE=$(reg_impu 81 | sed 's/\./\\./g')
standin_scenario standin_call "$IMPU1_RE"
standin SPID standin-c standin_call
since=$(plines)
reg_sipp ue-c ue_call.xml 1 30 -inf "$IT_WORK/ue.csv"
reg_expect_ok "c. UE $(reg_impu 81): REGISTER (AKA), INVITE/180/200/ACK/BYE via P-CSCF" 1
wait_sipp "$SPID" 10
expect_calls "$IT_WORK/standin-c" "$SIPP_RC" 1 \
    "b. stand-in S-CSCF: INVITE with P-Asserted-Identity and Service-Route, BYE by Record-Route"
sed -n '/^INVITE /,/^$/p' "$IT_WORK/standin-c.msg" | grep -iE "^(INVITE|Route|P-Asserted|Record)" |
    sed 's/^/    stand-in got: /'
plog | tail -n +"$since" | grep -E "dialog " | sed 's/^/    pcscf: /'
plog | tail -n +"$since" | grep -qE "dialog .* confirmed \(1 dialogs\)" ||
    fail "c. the P-CSCF did not report the dialog confirmed (1 dialog)"
plog | tail -n +"$since" | grep -qE "dialog .* ended: BYE \(0 dialogs\)" ||
    fail "c. the P-CSCF did not report the dialog ended (0 dialogs)"
say "ok: b+c. call with PAI and Service-Route, Record-Routed both ways; dialogs 1 then 0"

# ---- d. de-registration during a call: BYE both ways with Reason ----
IMPU2_RE=$(reg_impu 82 | sed 's/\./\\./g')
standin_scenario standin_dereg "$IMPU2_RE" reason
standin SPID standin-d standin_dereg
since=$(plines)
reg_users_csv "$IT_WORK/ue2.csv" 82 1
reg_sipp ue-d ue_dereg.xml 1 30 -inf "$IT_WORK/ue2.csv"
reg_expect_ok "d. UE $(reg_impu 82): call, then de-REGISTER; P-CSCF's BYE with Reason" 1
wait_sipp "$SPID" 10
expect_calls "$IT_WORK/standin-d" "$SIPP_RC" 1 "d. stand-in: the P-CSCF's BYE with Reason"
grep -iE "^Reason:" "$IT_WORK/standin-d.msg" | sed 's/^/    stand-in got: /'
plog | tail -n +"$since" | grep -E "dialog |released call" | sed 's/^/    pcscf: /'
plog | tail -n +"$since" | grep -qE "released: De-registered, 2 BYEs sent \(0 dialogs\)" ||
    fail "d. the P-CSCF did not report the release with 2 BYEs"

reg_lab_stop
grep -E "P-CSCF dialogs:" "$REG_DIR/pcscf.log" | sed 's/^/    /'
grep -qE "P-CSCF dialogs: 0 active at stop; 2 early, 2 confirmed, 1 ended, 1 released \
\(2 BYEs sent\), 1 requests" "$REG_DIR/pcscf.log" ||
    fail "the P-CSCF's stop line does not show the expected dialog counts"
ok "P-CSCF sessions: unregistered refused, PAI + Service-Route, dialog tracked," \
    "released on de-registration"
