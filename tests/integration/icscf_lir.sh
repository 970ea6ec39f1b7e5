#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The I-CSCF's terminating path (TS 24.229 §5.3.2.1, TS 29.228 §6.2.1): an initial request for
# a user of the home domain gets an LIR, and goes to the S-CSCF the LIA leads to. The lab
# configuration on 127.0.1.x (lib/reg.sh) with ims-hss, the real S-CSCF and P-CSCF; sipp
# peers send the requests straight to the I-CSCF, as an originating S-CSCF would. Changes to
# the lab copy: ims-hss lists Server-Capabilities (mandatory 1) without names, and the I-CSCF
# knows two S-CSCFs: "standin" (capability 2, first in its list; 127.0.1.31, a sipp UAS) and
# the real one (capability 1); the I-CSCF has no outbound proxy (in-dialog requests follow
# their Route / Request-URI). Checked:
#   1. handset 1 registers through P -> I -> S (sipp, IMS AKA; the UAR's capabilities lead to
#      the real S-CSCF, not to "standin"); an INVITE for its IMPU reaches the real S-CSCF
#      (the I-CSCF logged the LIA's Server-Name; the capture of 7 shows what it sent)
#   2. subscriber 4, whose Server-Name is "standin" (a SAR from cx-client): an INVITE for its
#      sip: IMPU and a MESSAGE for its tel: IMPU reach the sipp UAS standing in for that
#      S-CSCF with the Request-URI unchanged, `Route: <sip:standin...;lr>` on top and
#      Max-Forwards decremented (checked by the UAS); the call completes, its ACK and BYE
#      pass the I-CSCF by default routing (in-dialog: no LIR)
#   3. subscriber 9002, not registered, with iFCs for the unregistered state: LIA
#      UNREGISTERED_SERVICE with capabilities, the I-CSCF picks the real S-CSCF by them (not
#      "standin", first in its list but without capability 1), which gets the MESSAGE
#   4. an unknown user: INVITE -> 404 from the I-CSCF; subscriber 3, known but not registered
#      and without unregistered services: MESSAGE -> 480; nothing reaches an S-CSCF
#   5. OPTIONS to the I-CSCF itself: default routing (200), no LIR; ims-hss `stats` counts
#      exactly the 6 LIRs of 1-4
#   6. ims-hss stopped (SIGSTOP): INVITE -> 500 with Retry-After (icscf.retry_after) within
#      the Diameter request timeout (2 s + slack); an INVITE cancelled while its LIR is
#      pending gets 487 at once, and the late LIA (or its timeout) finds the request gone;
#      after SIGCONT the HSS answers again (480 for subscriber 3)
#   7. a capture of the real S-CSCF's port: the INVITE of 1 and the MESSAGE of 3 came from
#      the I-CSCF with the Request-URI kept, Route: <sip:scscf...;lr> and Max-Forwards 69;
#      none of the other requests reached it
#   8. the HSS stopped again, a MESSAGE whose LIR is pending when the daemons get SIGTERM:
#      the I-CSCF stops cleanly; its counters at exit: 10 LIRs, 4 forwarded, 3 answered here,
#      1 HSS failure, 1 request gone; every daemon stops with exit 0 and no sanitizer report.
# tshark (capturing on lo, as root) is required: exit 77 without it.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
it_init 18300
CX=$(bin tests/cx-client) || exit 1
if ! command -v tshark >/dev/null; then
    say "tshark not found in PATH: skipped"
    exit 77
fi

STANDIN=127.0.1.31
D=$REG_DOMAIN
D_RE=${D//./\\.}
S_URI=sip:scscf.$D
SI_URI=sip:standin.$D

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_set hss capabilities '{ mandatory = ( 1 ); optional = ( ); server_names = false; }'
sed -i -E "0,/^([[:space:]]*)peers = \\(/s//&\\n    { host = \"cx.$D\"; },/" "$REG_DIR/hss.cfg"
grep -q "host = \"cx.$D\"" "$REG_DIR/hss.cfg" || fail "could not add the cx-client peer"
reg_cfg_set icscf scscfs "( { uri = \"$SI_URI\"; capabilities = [ 2 ]; }, \
{ uri = \"$S_URI\"; capabilities = [ 1 ]; } )"
reg_cfg_set icscf retry_after 17
reg_cfg_set icscf request_timeout_ms 2000
sed -i "s|\"scscf.$D=127.0.1.30:5060\"|&, \"standin.$D=$STANDIN:5060\"|" "$REG_DIR/icscf.cfg"
grep -q "standin.$D=$STANDIN" "$REG_DIR/icscf.cfg" || fail "could not add the standin host"
sed -i -E '/^[[:space:]]*outbound[[:space:]]*=/d' "$REG_DIR/icscf.cfg"
reg_lab_start

# Everything to and from the real S-CSCF's SIP port, to see what the I-CSCF sent it.
PCAP=$IT_WORK/scscf.pcap
tshark -n -i lo -f "udp and host $REG_S and port 5060" -w "$PCAP" >"$PCAP.log" 2>&1 &
TSHARK_PID=$!
track "$TSHARK_PID" tshark "$PCAP.log"
for ((i = 0; i < 200; i++)); do
    grep -q "Capturing on" "$PCAP.log" 2>/dev/null && break
    alive "$TSHARK_PID" || fail "tshark exited at start (capturing on lo needs root)"
    sleep 0.05
done
grep -q "Capturing on" "$PCAP.log" || fail "tshark did not start capturing within 10 s"
sleep 1 # dumpcap may still miss the first packets right after "Capturing on"

# ---- sipp peers of this test (scenarios written here: their checks need the lab's names) ----
mkdir -p "$IT_WORK/sc"

# Scenario pieces (sipp XML on stdout), as in scscf_alone.sh.
# req METHOD RURI CSEQ ATTRS [BRANCH] [tag|dialog]: a request from the caller to -key impu;
# "tag" adds the To tag of the answer (ACK for a non-2xx), "dialog" also the route set.
req() {
    local to="<[impu]>" routes=''
    case "${6:-}" in
    tag) to="${to}[peer_tag_param]" ;;
    dialog) to="${to}[peer_tag_param]" routes=$'\n[routes]' ;;
    esac
    cat <<EOF
<send $4><![CDATA[

$1 $2 SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${5:-[branch]}$routes
From: <sip:caller@$D>;tag=[pid]L[call_number]
To: $to
Call-ID: [call_id]
CSeq: $3 $1
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
EOF
}
# ok200 [new|rr]: the stand-in's 200 to the last request; "new" adds a To tag (out of dialog),
# "rr" also echoes the Record-Route set and is retransmitted until the ACK (INVITE).
ok200() {
    local rr='' tag='' attr=''
    [ -n "${1:-}" ] && tag=';tag=[pid]S[call_number]'
    [ "${1:-}" = rr ] && rr=$'\n[last_Record-Route:]' attr=' retrans="500"'
    cat <<EOF
<send$attr><![CDATA[

SIP/2.0 200 OK
[last_Via:]$rr
[last_From:]
[last_To:]$tag
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:standin@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
EOF
}
# scenario NAME: the pieces on stdin become $IT_WORK/sc/NAME.xml.
scenario() {
    {
        echo "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?><scenario name=\"$1\">"
        cat
        echo '</scenario>'
    } >"$IT_WORK/sc/$1.xml"
}

# A call: INVITE -> 200 -> ACK -> BYE -> 200, in-dialog along the Record-Route set.
{
    req INVITE '[impu]' 1 'retrans="500"'
    echo '<recv response="100" optional="true"/><recv response="180" optional="true"/>'
    echo '<recv response="200" rrs="true"/>'
    req ACK '[next_url]' 1 '' '' dialog
    req BYE '[next_url]' 2 'retrans="500" start_txn="bye"' '' dialog
    echo '<recv response="200" response_txn="bye"/>'
} | scenario uac_call
# A call cancelled while its LIR waits: INVITE -> 100 -> CANCEL -> 200 -> 487 -> ACK.
{
    req INVITE '[impu]' 1 'retrans="500" start_txn="invite"'
    echo '<recv response="100" response_txn="invite"/><pause milliseconds="300"/>'
    req CANCEL '[impu]' 1 'retrans="500" start_txn="cancel"' '[branch-3]'
    echo '<recv response="200" response_txn="cancel"/>'
    echo '<recv response="487" response_txn="invite"/>'
    req ACK '[impu]' 1 'ack_txn="invite"' '[branch-6]' tag
} | scenario uac_cancel
# A MESSAGE answered 200.
{
    req MESSAGE '[impu]' 1 'retrans="500"'
    echo '<recv response="200"/>'
} | scenario uac_message

# uac_expect NAME METHOD CODE: METHOD answered CODE (INVITE: then the ACK, hop by hop); a 500
# must carry Retry-After, logged for the test (-trace_logs).
uac_expect() {
    {
        req "$2" '[impu]' 1 'retrans="500" start_txn="t"'
        echo '<recv response="100" optional="true" response_txn="t"/>'
        if [ "$3" = 500 ]; then
            cat <<'EOF'
<recv response="500" response_txn="t"><action>
  <ereg regexp="[Rr]etry-[Aa]fter: *([0-9]+)" search_in="msg" check_it="true"
    assign_to="ra_line,ra"/>
  <log message="Retry-After [$ra]"/>
</action></recv>
<Reference variables="ra_line,ra"/>
EOF
        else
            echo "<recv response=\"$3\" response_txn=\"t\"/>"
        fi
        [ "$2" = INVITE ] && req ACK '[impu]' 1 'ack_txn="t"' '[branch-3]' tag
    } | scenario "$1"
}

# uas_scenario NAME METHOD RURI_RE: the S-CSCF standing in, for one INVITE call or one MESSAGE.
# The first request must keep its Request-URI (RURI_RE), carry Route: <sip:standin...;lr> and
# Max-Forwards 69 (the caller sends 70); the BYE must come without a Route (the I-CSCF removed
# its own). A failed check fails the call (sipp statistics).
uas_scenario() {
    {
        cat <<EOF
<recv request="$2" rrs="true"><action>
  <ereg regexp="^$2 $3 SIP/2\\.0" search_in="msg" check_it="true" assign_to="rl"/>
  <ereg regexp="[^-]Route: *&lt;sip:standin\\.$D_RE;lr&gt;" search_in="msg" check_it="true"
    assign_to="route"/>
  <ereg regexp="[Mm]ax-[Ff]orwards: *69[^0-9]" search_in="msg" check_it="true" assign_to="mf"/>
</action></recv>
<Reference variables="rl,route,mf"/>
EOF
        if [ "$2" = INVITE ]; then
            ok200 rr
            cat <<'EOF'
<recv request="ACK"/>
<recv request="BYE"><action>
  <ereg regexp="[^-]Route:" search_in="msg" check_it_inverse="true" assign_to="bye_route"/>
</action></recv>
<Reference variables="bye_route"/>
EOF
            ok200
            echo '<timewait milliseconds="1000"/>'
        else
            ok200 new
        fi
    } | scenario "$1"
}

# uac NAME SCENARIO IMPU [extra sipp args]: one call from 127.0.1.100 to the I-CSCF, foreground;
# sets SIPP_RC, SIPP_TAG and MS (its duration).
uac() {
    local name=$1 scen=$2 impu=$3 port t0
    shift 3
    pick_port_into port
    IT_NEXT_PORT=$((IT_NEXT_PORT + 6))
    SIPP_TAG=$IT_WORK/$name
    t0=$(date +%s%N)
    (cd "$IT_WORK" && exec timeout -k 5 30 sipp -sf "$IT_WORK/sc/$scen.xml" -t u1 -i "$REG_UE" \
        -p "$port" -m 1 -timeout 20s -timeout_error -key impu "$impu" \
        -ci 127.0.0.2 -cp $((port + 1)) -mp $((port + 2)) -nostdin \
        -trace_stat -stf "$SIPP_TAG.csv" -fd 1 -trace_msg -message_file "$SIPP_TAG.msg" \
        -trace_err -error_file "$SIPP_TAG.errors" -trace_logs -log_file "$SIPP_TAG.log" \
        "$@" "$REG_I:5060") >"$SIPP_TAG.out" 2>&1 &
    local pid=$!
    track "$pid" "sipp-$name" "$SIPP_TAG.errors"
    wait "$pid"
    SIPP_RC=$?
    untrack "$pid"
    MS=$((($(date +%s%N) - t0) / 1000000))
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
    wait_listen "$pid" udp 5060
    printf -v "$var" '%d' "$pid"
}

# callid TAG: the Call-ID of the request a uac run sent.
callid() { sed -n 's/^Call-ID: *//p' "$1.msg" | head -1 | tr -d '\r'; }
hss_lirs() { reg_hss stats | grep -oE 'lir=[0-9]+' | cut -d= -f2; }
# re TEXT: TEXT as a regular expression matching itself (the characters of our URIs).
re() { printf '%s' "$1" | sed 's/[.+]/\\&/g'; }

# send_raw NAME METHOD RURI: one request (no To tag) from 127.0.1.100 straight to the I-CSCF
# with sipsend.py; prints the status line of every response within $SEND_WAIT s (default 2)
# on one line. Call-ID: NAME@127.0.1.100.
send_raw() {
    cat >"$IT_WORK/$1.sip" <<EOM
$2 $3 SIP/2.0
Via: SIP/2.0/UDP $REG_UE:5099;branch=z9hG4bK$1;rport
Max-Forwards: 70
From: <sip:caller@$D>;tag=$1
To: <$3>
Call-ID: $1@$REG_UE
CSeq: 1 $2
Contact: <sip:caller@$REG_UE:5099>
Content-Length: 0

EOM
    python3 "$SIPSEND" -a -w "${SEND_WAIT:-2}" "$IT_WORK/$1.sip" "$REG_I" 5060 | tr '\n' ' '
}

IMPU1=$(reg_impu 1)
IMPU3=$(reg_impu 3)
IMPU4=$(reg_impu 4)
IMPU9002=sip:001010000009002@$D

# 1. handset 1 registers through the chain; an INVITE for it reaches the real S-CSCF
reg_users_csv "$IT_WORK/u1.csv" 1 1
reg_sipp reg1 reg_aka.xml 1 20 -inf "$IT_WORK/u1.csv" -auth_uri "sip:$D"
reg_expect_ok "1. handset 1 registers (P -> I -> S)" 1
out=$(reg_hss_show 1)
[[ $out == *"state=registered scscf=$S_URI"* ]] || fail "handset 1 not registered at $S_URI: $out"
grep -q "REGISTER forwarded to $SI_URI" "$REG_DIR/icscf.log" &&
    fail "the REGISTER went to standin (capabilities ignored?)"

r=$(send_raw lir-inv1 INVITE "$IMPU1")
say "1. INVITE for $IMPU1 at the I-CSCF: $r"
grep -q "\\[lir-inv1@$REG_UE\\] LIA 2001 for $IMPU1: INVITE to $S_URI$" "$REG_DIR/icscf.log" ||
    fail "the I-CSCF did not route the INVITE by the LIA's Server-Name"
grep -q "\\[lir-inv1@$REG_UE\\] INVITE forwarded to udp:127.0.1.30:5060" "$REG_DIR/icscf.log" ||
    fail "the I-CSCF did not forward the INVITE to the S-CSCF's address"

# 2. subscriber 4 served by the S-CSCF standing in
out=$("$CX" --hss "$REG_H:3868" --hss-host "hss.$D" --realm "$D" --origin-host "cx.$D" \
    sar --impi "$(reg_impi 4)" --impu "$IMPU4" --type 1 --server-name "$SI_URI" 2>&1) ||
    fail "cx-client sar: $out"
printf '%s\n' "$out" | grep -qx "result=2001" || fail "SAR naming standin: $out"
uas_scenario standin_call INVITE "$(re "$IMPU4")"
standin UAS standin-call standin_call
uac call4 uac_call "$IMPU4"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "2. INVITE for $IMPU4 -> standin, ACK, BYE (${MS} ms)"
wait_sipp "$UAS" 10
expect_calls "$IT_WORK/standin-call" "$SIPP_RC" 1 "2. standin: R-URI, Route, Max-Forwards"
sed -n '/^INVITE /,/^$/p' "$IT_WORK/standin-call.msg" | grep -iE "^(INVITE|Route|Max-Forwards)" |
    sed 's/^/    standin got: /'
C4=$(callid "$IT_WORK/call4")
[ "$(grep -c "\\[$C4\\] LIA" "$REG_DIR/icscf.log")" = 1 ] ||
    fail "want one LIA for the call (not for its ACK/BYE)"

TEL4=tel:+15550000004
uas_scenario standin_msg MESSAGE "$(re "$TEL4")"
standin UAS standin-msg standin_msg
uac msg4 uac_message "$TEL4"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "2. MESSAGE for $TEL4 -> standin"
wait_sipp "$UAS" 10
expect_calls "$IT_WORK/standin-msg" "$SIPP_RC" 1 "2. standin: MESSAGE to the tel: URI"

# 3. unregistered user with unregistered services: capabilities, the real S-CSCF
r=$(send_raw lir-msg9002 MESSAGE "$IMPU9002")
C9002=lir-msg9002@$REG_UE
say "3. MESSAGE for $IMPU9002 (unregistered services) at the I-CSCF: $r"
grep -q "\\[$C9002\\] LIA 2003 (exp) for $IMPU9002: MESSAGE to $S_URI (chosen here)" \
    "$REG_DIR/icscf.log" || fail "no choice by capabilities for the unregistered user"

# 4. unknown and not registered
uac_expect inv_404 INVITE 404
uac unknown inv_404 "sip:nobody@$D"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "4. INVITE for an unknown user -> 404"
uac_expect msg_480 MESSAGE 480
uac unreg3 msg_480 "$IMPU3"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "4. MESSAGE for $IMPU3 (not registered) -> 480"
grep -q "LIA 5001 (exp) for sip:nobody@$D: 404" "$REG_DIR/icscf.log" || fail "no 5001 -> 404"
grep -q "LIA 5003 (exp) for $IMPU3: 480" "$REG_DIR/icscf.log" || fail "no 5003 -> 480"

# 5. the I-CSCF itself: no LIR; the HSS counted each LIR
cat >"$IT_WORK/options.sip" <<EOM
OPTIONS sip:icscf.$D SIP/2.0
Via: SIP/2.0/UDP $REG_UE:5098;branch=z9hG4bKlo1;rport
Max-Forwards: 70
From: <sip:probe@$D>;tag=o1
To: <sip:icscf.$D>
Call-ID: lir-o1@$REG_UE
CSeq: 1 OPTIONS
Content-Length: 0

EOM
r=$(python3 "$SIPSEND" -w 2 "$IT_WORK/options.sip" "$REG_I" 5060)
[ "$r" = "SIP/2.0 200 OK" ] || fail "OPTIONS to the I-CSCF: $r"
n=$(hss_lirs)
say "5. OPTIONS to the I-CSCF: $r; ims-hss: $(reg_hss stats)"
[ "$n" = 6 ] || fail "ims-hss counted $n LIRs, want 6"

# 6. the HSS frozen: 500 + Retry-After within the request timeout; CANCEL while waiting
kill -STOP "${REG_PID[ims-hss]}"
uac_expect inv_500 INVITE 500
uac frozen inv_500 "$IMPU1"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "6. HSS stopped: INVITE -> 500 (${MS} ms)"
grep -q "^Retry-After 17$" "$SIPP_TAG.log" || fail "no Retry-After: 17 (icscf.retry_after)"
if [ "$MS" -lt 1900 ] || [ "$MS" -ge 3500 ]; then
    fail "500 after $MS ms, want ~2000 (request timeout)"
fi
uac cancel uac_cancel "$IMPU1"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "6. INVITE cancelled while its LIR waits -> 487 (${MS} ms)"
[ "$MS" -lt 1500 ] || fail "the CANCEL took $MS ms: the request waited on the HSS"
for ((i = 0; i < 60; i++)); do
    grep -q "LIA for $IMPU1: the request has gone" "$REG_DIR/icscf.log" && break
    sleep 0.05
done
grep -q "LIA for $IMPU1: the request has gone" "$REG_DIR/icscf.log" ||
    fail "no 'request has gone' after the LIR of the cancelled INVITE timed out"
kill -CONT "${REG_PID[ims-hss]}"
uac again msg_480 "$IMPU3"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "6. HSS continued: MESSAGE for $IMPU3 -> 480 again"
assert_alive "${REG_PID[icscf]}"

# 7. what reached the real S-CSCF (capture): the two requests it serves, from the I-CSCF, with
# the Request-URI kept, a Route to it on top and Max-Forwards 69; none of the others
kill -INT "$TSHARK_PID"
for ((i = 0; i < 100; i++)); do alive "$TSHARK_PID" || break; sleep 0.05; done
wait "$TSHARK_PID" 2>/dev/null
untrack "$TSHARK_PID"
tshark -n -r "$PCAP" -Y sip.Request-Line -T fields -E separator='|' -E occurrence=f \
    -e ip.src -e ip.dst -e sip.Request-Line -e sip.Call-ID -e sip.Route -e sip.Max-Forwards \
    >"$IT_WORK/scscf.req" 2>"$IT_WORK/scscf.req.err" ||
    fail "tshark -r: $(cat "$IT_WORK/scscf.req.err")"
say "7. requests to/from the S-CSCF in the capture: $(wc -l <"$IT_WORK/scscf.req")"
for want in "INVITE $IMPU1|lir-inv1@$REG_UE" "MESSAGE $IMPU9002|lir-msg9002@$REG_UE"; do
    line="$REG_I|$REG_S|${want%%|*} SIP/2.0|${want#*|}|<$S_URI;lr>|69"
    grep -qxF "$line" "$IT_WORK/scscf.req" || {
        grep -F "${want#*|}" "$IT_WORK/scscf.req" >&2
        fail "the S-CSCF did not get: $line"
    }
    say "7. S-CSCF got: $line"
done
for t in call4 msg4 unknown unreg3 frozen cancel again; do
    c=$(callid "$IT_WORK/$t")
    [ -n "$c" ] || fail "no Call-ID in $t.msg"
    grep -qF "|$c|" "$IT_WORK/scscf.req" && fail "$t ($c) reached the S-CSCF"
done

# 8. shutdown with an LIR pending (the HSS stopped again): the I-CSCF stops at once and
# cleanly (its LIR record freed, no callback after the HSS client is gone); its counters
kill -STOP "${REG_PID[ims-hss]}"
r=$(SEND_WAIT=0.3 send_raw lir-pending MESSAGE "$IMPU3")
say "8. MESSAGE for $IMPU3 with the HSS stopped, then SIGTERM to the daemons: ${r:-no answer yet}"
stop_proxy "${REG_PID[pcscf]}"
stop_proxy "${REG_PID[icscf]}"
kill -CONT "${REG_PID[ims-hss]}"
stop_proxy "${REG_PID[scscf]}"
stop_proxy "${REG_PID[ims-hss]}"
line=$(grep -o "I-CSCF: [0-9]* LIRs.*" "$REG_DIR/icscf.log" | tail -1)
say "8. $line"
[ "$line" = "I-CSCF: 10 LIRs, 4 forwarded, 3 answered here, 1 HSS failures, 1 requests gone \
before the LIA" ] || fail "I-CSCF counters: $line"
ok "LIR for initial requests: Server-Name -> that S-CSCF (real and sipp stand-in, Route on" \
    "top, R-URI kept, sip: and tel:), unregistered services -> S-CSCF by capabilities," \
    "404 unknown, 480 not registered, 500 + Retry-After with the HSS stopped, CANCEL while" \
    "waiting -> 487, in-dialog requests by default routing"
