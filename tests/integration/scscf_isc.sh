#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# iFCs and ISC at the S-CSCF (TS 24.229 §5.4.3.2/3, ims-reference §3.2 ODI) on the 127.0.1.x
# lab of lib/reg.sh. The AS is a proxy AS that Record-Routes and forwards (no B2BUA): our own
# node binary without a CSCF section (a transparent stateful proxy) on 127.0.1.50:5070, named
# as.<domain> in the S-CSCF's sip.hosts; it sends the request back along the ODI Route
# (scscf.<domain> in its own sip.hosts). scscf.as_timeout_ms = 1000. Subscribers
# (config/lab/hss.cfg): 9002 originating INVITE iFC -> AS, DefaultHandling CONTINUED; 9003 the
# same with SESSION_TERMINATED; 9004 terminating (registered) INVITE iFC -> AS; 1 and 2 none.
# Handsets register with tests/tools/aka_ue.py and sipp plays them from the same address.
# Checked:
#   1. 9002 calls 2 with the AS up: the call completes; the INVITE to the AS carried the Route
#      <AS;lr>, <sip:odi-...@scscf;lr> (tshark on lo, when it can capture), the S-CSCF logged
#      the iFC and the same ODI coming back; B's INVITE is Record-Routed by the AS, and the BYE
#      passes the AS
#   2. 1 calls 9004: the terminating iFC sends it through the AS, the call completes
#   3. 9003 calls 2 with the AS up: completes through the AS
#   4. AS down, 9002 calls 2 (SESSION_CONTINUED): completes without the AS, within
#      as_timeout + 3 s; the S-CSCF logged the AS failure and the continuation
#   5. AS down, 9003 calls 2 (SESSION_TERMINATED): 408 at the caller within as_timeout + 3 s,
#      nothing reaches B
#   6. 1 sends MESSAGE to 9005 (same profile as 9002, not registered): the S-CSCF gets the
#      unregistered user's profile (SAR UNREGISTERED_USER) and its SessionCase 2 iFC sends the
#      MESSAGE to the AS (now a sipp UAS, which checks the ODI Route) whose 202 reaches 1;
#      with the AS down again (DefaultHandling SESSION_TERMINATED) 1 gets 408 in time
#   7. every daemon stops with exit 0 and no sanitizer report.
# Exit 77 when a tool (sipp, python3, ss) is missing.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
for t in sipp python3 ss; do
    command -v "$t" >/dev/null || { echo "$t not found: skipped"; exit 77; }
done
it_init 18700
D=$REG_DOMAIN
AS_IP=127.0.1.50
AS_PORT=5070
AS_TIMEOUT_MS=1000
# handset addresses: subscriber -> IP
declare -A IP=([9002]=127.0.1.100 [2]=127.0.1.101 [1]=127.0.1.102 [9003]=127.0.1.103
    [9004]=127.0.1.104)
declare -A PORT
impi() { if [ "$1" -gt 9000 ]; then printf '00101000000%04d@%s' "$1" "$D"; else reg_impi "$1"; fi; }
impu() { printf 'sip:%s' "$(impi "$1")"; }
re() { sess_re "$1"; }
slog() { grep -F "[$1]" "$REG_DIR/scscf.log"; }

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
sed -i -E "0,/^([[:space:]]*)hosts[[:space:]]*=[[:space:]]*\\(/s//&\"as.$D=$AS_IP:$AS_PORT\", /" \
    "$REG_DIR/scscf.cfg"
grep -q "as.$D=$AS_IP" "$REG_DIR/scscf.cfg" || fail "could not add the AS to scscf sip.hosts"
reg_cfg_put scscf scscf as_timeout_ms "$AS_TIMEOUT_MS"
reg_lab_start

# The proxy AS: the S-CSCF binary without a scscf section is a transparent stateful proxy.
cat >"$REG_DIR/as.cfg" <<EOF
log_level = "info";
sip = {
  listen = ( "udp:$AS_IP:$AS_PORT", "tcp:$AS_IP:$AS_PORT" );
  aliases = ( "as.$D" );
  hosts = ( "scscf.$D=$REG_S:5060" );
};
proxy = { record_route = true; };
EOF
AS_LOG=$REG_DIR/as.log
as_start() {
    local exe
    exe=$(bin scscf) || exit 1
    "$exe" -c "$REG_DIR/as.cfg" -L info -p "$REG_DIR/as.pid" >>"$AS_LOG" 2>&1 {REG_LOCK_FD}>&- &
    AS_PID=$!
    track "$AS_PID" as "$AS_LOG"
    for ((i = 0; i < 100; i++)); do
        reg_bound udp "$AS_IP" "$AS_PORT" && break
        alive "$AS_PID" || fail "the AS exited at start" "$AS_PID"
        sleep 0.05
    done
    reg_bound udp "$AS_IP" "$AS_PORT" || fail "the AS is not listening" "$AS_PID"
    say "proxy AS pid $AS_PID on $AS_IP:$AS_PORT"
}
as_start

# register N: subscriber N registers from IP[N] (contact sip:ue@IP:PORT).
register() {
    local p
    pick_port_into p
    PORT[$1]=$p
    sess_register "$1" "${IP[$1]}" "$p" "$(impi "$1")" "$(impu "$1")"
}
for n in 9002 2 1 9003 9004; do register "$n"; done

mkdir -p "$IT_WORK/sc"
scenario() { sess_scenario "$@"; }
# The caller (-key caller IMPU, -key target URI): INVITE/180/200/ACK/BYE along the route set.
sess_steps_call "[caller]" | scenario uac_call
sess_steps_fail "[caller]" 408 | scenario uac_408

# callee N VIA: the INVITE for N's contact; VIA=1: Record-Routed by the AS, 0: not.
callee() {
    local check='check_it="true"'
    [ "$2" = 0 ] && check='check_it_inverse="true"'
    cat <<EOF
<recv request="INVITE" rrs="true"><action>
  <ereg regexp="^INVITE sip:ue@$(re "${IP[$1]}"):${PORT[$1]} SIP/2\\.0" search_in="msg"
    check_it="true" assign_to="rl"/>
  <ereg regexp="Record-Route:[^\\r\\n]*$(re "$AS_IP:$AS_PORT")" search_in="msg" $check
    assign_to="rr"/>
</action></recv>
<Reference variables="rl,rr"/>
EOF
    sess_steps_answer
}
callee 2 1 | scenario uas_2_as
callee 2 0 | scenario uas_2_plain
callee 9004 1 | scenario uas_9004_as

# uas VAR NAME SCEN N CALLS: callee N in the background.
uas() { sess_uas "$1" "$2" "$3" "${IP[$4]}" "${PORT[$4]}" "$5"; }
# uac NAME SCEN FROM TO: one call from subscriber FROM to subscriber TO, foreground; the time
# it took in ELAPSED_MS.
uac() {
    sess_uac "$1" "$2" "${IP[$3]}" "${PORT[$3]}" 1 "$(impu "$4")" -key caller "$(impu "$3")"
}
callid() { sess_callid "$1"; }
# odi_of CALLID: the ODI the S-CSCF gave the AS for that call (first one).
odi_of() { slog "$1" | sed -n 's/.*to AS [^ ]*, ODI \(odi-[0-9a-f]*\).*/\1/p' | head -1; }

# tshark on lo sees what the AS received (root only; otherwise the S-CSCF logs must do).
PCAP=$IT_WORK/as.pcap
TSHARK_PID=
if command -v tshark >/dev/null && [ "$(id -u)" = 0 ]; then
    tshark -q -i lo -f "udp and dst host $AS_IP and dst port $AS_PORT" -w "$PCAP" \
        >"$IT_WORK/tshark.out" 2>&1 &
    TSHARK_PID=$!
    track "$TSHARK_PID" tshark "$IT_WORK/tshark.out"
    for ((i = 0; i < 100; i++)); do
        grep -q "Capturing on" "$IT_WORK/tshark.out" && break
        sleep 0.05
    done
fi

# 1. 9002 -> 2 through the AS
uas UAS2 uas-2-as uas_2_as 2 2
uac call1 uac_call 9002 2
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "1. 9002 calls 2 with an originating iFC, AS up"
C1=$(callid "$IT_WORK/call1")
ODI1=$(odi_of "$C1")
[ -n "$ODI1" ] || fail "1. the S-CSCF did not send the INVITE to the AS with an ODI"
U9002=$(re "$(impu 9002)")
slog "$C1" | grep -q "INVITE originating for $U9002: iFC priority 0 to AS sip:as\\." ||
    fail "1. no originating iFC logged"
slog "$C1" | grep -q "INVITE back from the AS, ODI $ODI1: originating" ||
    fail "1. the INVITE did not come back from the AS by its ODI"
slog "$C1" | grep -q "INVITE originating for $(re "$(impu 9002)") to $(re "$(impu 2)")$" ||
    fail "1. no originating routing after the AS"
grep -F "[$C1]" "$AS_LOG" | grep -q "INVITE forwarded to udp:$REG_S:5060" ||
    fail "1. the AS did not forward the INVITE to the S-CSCF"
grep -F "[$C1]" "$AS_LOG" | grep -q "BYE forwarded" || fail "1. the BYE did not pass the AS"
say "1. ODI $ODI1; S-CSCF: $(slog "$C1" | grep -E 'iFC|back from' | sed 's/.*\] //' | tr '\n' ';')"

# 2. 1 -> 9004: terminating iFC
uas UAST uas-9004-as uas_9004_as 9004 1
uac call2 uac_call 1 9004
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "2. 1 calls 9004 with a terminating iFC, AS up"
C2=$(callid "$IT_WORK/call2")
ODI2=$(odi_of "$C2")
slog "$C2" | grep -q "INVITE terminating for $(re "$(impu 9004)"): iFC priority 0 to AS" ||
    fail "2. no terminating iFC logged"
slog "$C2" | grep -q "INVITE back from the AS, ODI ${ODI2:-none}: terminating" ||
    fail "2. the INVITE did not come back from the AS in the terminating case"
wait_sipp "$UAST" 15
expect_calls "$IT_WORK/uas-9004-as" "$SIPP_RC" 1 "2. 9004: INVITE Record-Routed by the AS"

# 3. 9003 -> 2, AS up
uac call3 uac_call 9003 2
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "3. 9003 calls 2 (SESSION_TERMINATED iFC), AS up"
wait_sipp "$UAS2" 15
expect_calls "$IT_WORK/uas-2-as" "$SIPP_RC" 2 "1, 3. 2: INVITEs Record-Routed by the AS"

if [ -n "$TSHARK_PID" ]; then
    sleep 0.5
    kill -INT "$TSHARK_PID" 2>/dev/null
    wait "$TSHARK_PID" 2>/dev/null
    untrack "$TSHARK_PID"
    routes=$(tshark -n -r "$PCAP" -Y "sip.Method == \"INVITE\" && sip.Call-ID == \"$C1\"" \
        -T fields -e sip.Route 2>/dev/null | head -1)
    say "1. tshark: INVITE to the AS, Route: $routes"
    want="^<sip:as\\.$(re "$D"):$AS_PORT;lr>,<sip:$ODI1@scscf\\.$(re "$D");lr>$"
    printf '%s' "$routes" | grep -qE "$want" ||
        fail "1. the INVITE the AS received does not carry Route <AS;lr>, <ODI $ODI1>: $routes"
else
    say "1. tshark capture not possible (not root or no tshark): Route at the AS not inspected"
fi

# 4. AS down, SESSION_CONTINUED
stop_proxy "$AS_PID"
uas UAS2 uas-2-plain uas_2_plain 2 1
uac call4 uac_call 9002 2
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "4. 9002 calls 2, AS down, SESSION_CONTINUED"
say "4. call took $ELAPSED_MS ms (as_timeout_ms $AS_TIMEOUT_MS)"
[ "$ELAPSED_MS" -ge "$AS_TIMEOUT_MS" ] || fail "4. the call did not wait for the AS at all"
[ "$ELAPSED_MS" -lt $((AS_TIMEOUT_MS + 3000)) ] || fail "4. the call waited too long for the AS"
C4=$(callid "$IT_WORK/call4")
slog "$C4" | grep -q "AS of originating $(re "$(impu 9002)") failed: 408, SESSION_CONTINUED" ||
    fail "4. no SESSION_CONTINUED logged"
wait_sipp "$UAS2" 15
expect_calls "$IT_WORK/uas-2-plain" "$SIPP_RC" 1 "4. 2: INVITE not Record-Routed by the AS"

# 5. AS down, SESSION_TERMINATED
uac call5 uac_408 9003 2
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "5. 9003 calls 2, AS down, SESSION_TERMINATED -> 408"
say "5. 408 after $ELAPSED_MS ms"
[ "$ELAPSED_MS" -lt $((AS_TIMEOUT_MS + 3000)) ] || fail "5. the 408 came too late"
C5=$(callid "$IT_WORK/call5")
slog "$C5" | grep -q "failed: 408, SESSION_TERMINATED" || fail "5. no SESSION_TERMINATED logged"
slog "$C5" | grep -q "originating for $(re "$(impu 9003)") to" &&
    fail "5. the INVITE was routed on after SESSION_TERMINATED"

# 6. MESSAGE to an unregistered user: the unregistered iFC's AS answers
msg_uac() {
    cat <<EOF
<send retrans="500"><![CDATA[

MESSAGE [target] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <[caller]>;tag=[pid]A[call_number]
To: <[target]>
Call-ID: [call_id]
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain
Content-Length: [len]

hello
]]></send>
<recv response="$1"/>
EOF
}
msg_uac 202 | scenario uac_msg_202
msg_uac 408 | scenario uac_msg_408
cat <<EOF | scenario as_msg
<recv request="MESSAGE"><action>
  <ereg regexp="Route: *&lt;sip:odi-[0-9a-f]{20}@scscf\\.$(re "$D");lr&gt;" search_in="msg"
    check_it="true" assign_to="odi"/>
</action></recv>
<Reference variables="odi"/>
<send><![CDATA[

SIP/2.0 202 Accepted
[last_Via:]
[last_From:]
[last_To:];tag=[pid]AS[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
<timewait milliseconds="200"/>
EOF
IP[as]=$AS_IP
PORT[as]=$AS_PORT
uas ASMSG as-msg as_msg as 1
uac msg1 uac_msg_202 1 9005
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "6. 1 sends MESSAGE to 9005 (not registered): 202 from the AS"
wait_sipp "$ASMSG" 15
expect_calls "$IT_WORK/as-msg" "$SIPP_RC" 1 "6. AS: MESSAGE with the ODI Route, answered 202"
M1=$(callid "$IT_WORK/msg1")
U9005=$(re "$(impu 9005)")
slog "$M1" | grep -q "MESSAGE terminating for $U9005: not registered, profile by SAR" ||
    fail "6. no SAR UNREGISTERED_USER for 9005"
slog "$M1" | grep -q "MESSAGE terminating-unregistered for $U9005: iFC priority 1" ||
    fail "6. the unregistered iFC did not fire"
HSS9005=$(reg_hss_show "$(impi 9005)")
say "6. HSS: 9005 $HSS9005"
[[ $HSS9005 == *state=unregistered*scscf=sip:scscf.* ]] ||
    fail "6. the HSS does not hold 9005 as unregistered at the S-CSCF: $HSS9005"
uac msg2 uac_msg_408 1 9005
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "6. AS down: MESSAGE to 9005 -> 408 (SESSION_TERMINATED)"
say "6. 408 after $ELAPSED_MS ms"
[ "$ELAPSED_MS" -lt $((AS_TIMEOUT_MS + 3000)) ] || fail "6. the 408 came too late"

# 7. clean stop
assert_alive "${REG_PID[scscf]}"
reg_lab_stop
ok "originating and terminating iFCs through a proxy AS with an ODI Route (seen on the wire)," \
    "evaluation resumed on its return, DefaultHandling SESSION_CONTINUED and" \
    "SESSION_TERMINATED when the AS is down, within scscf.as_timeout_ms; MESSAGE to an" \
    "unregistered user answered by its unregistered iFC's AS (SAR UNREGISTERED_USER)"
