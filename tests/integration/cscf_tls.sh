#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 6, TLS between the CSCFs: on the lab of lib/reg.sh with REG_TLS=1 the P-CSCF, I-CSCF
# and S-CSCF talk SIP to each other over TLS only (port 5061, certificates of a test CA made
# here, each naming its node's address; servers verified by their clients, and the I-CSCF
# and S-CSCF require a client certificate of that CA naming the address the client comes
# from). Handsets still reach the P-CSCF over UDP.
#   1. The HSS offers a rogue S-CSCF first (127.0.1.31, a socat TLS server whose certificate
#      another CA signed): the I-CSCF refuses its certificate, gives up on it at once (the
#      failed handshake ends the REGISTER's transaction as a transport error, RFC 3261
#      §17.1.4, not icscf.scscf_timeout_ms later) and registers through the real one.
#   2. tshark captures every packet between the CSCFs' addresses while subscribers 1 and 2
#      register (IMS AKA, tests/tools/aka_ue.py) and 1 calls 2 with sipp (INVITE/180/200/ACK/
#      BYE/200 along P -> S -> I -> S -> P): REGISTER, SUBSCRIBE/NOTIFY (reg event), INVITE and
#      in-dialog requests all cross between CSCFs. The call completes; the callee sees the
#      CSCFs' Record-Route entries with ;transport=tls.
#   3. The capture: every packet between CSCFs is TCP to or from port 5061; Wireshark finds
#      TLS handshakes (ClientHello) for P->I, I->S, S->I and S->P and TLS application data,
#      and not one cleartext SIP message. The daemons' logs show REGISTER and INVITE
#      forwarded over tls: to the next CSCF (Service-Route, Path and the S-CSCF's
#      Record-Route carry ;transport=tls, else a hop would leave TLS).
#   4. /metrics of each CSCF: ims_tls_handshakes_total{result="ok"} >= 2 and
#      ims_tls_connections >= 1 (connections stay up); the I-CSCF's result="failed" >= 1
#      (the rogue S-CSCF), also in `imsctl counters` (sip.tls).
#   5. TLS clients knocking at the S-CSCF with an OPTIONS (socat): without a certificate,
#      with the rogue one, with the P-CSCF's good one from an address it does not name: each
#      refused (its failed count rises by 3, no answer); with the P-CSCF's certificate from
#      the P-CSCF's address: answered.
#   6. Every daemon stops with exit 0 (ASan clean in a sanitizer build).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
# shellcheck source=lib/tshark.sh
. "$(dirname "$0")/lib/tshark.sh"
for t in socat openssl curl tshark jq; do
    command -v "$t" >/dev/null ||
        { echo "$t not found (scripts/install-deps.sh): skipped"; exit 77; }
done
it_init 22400
D=$REG_DOMAIN
A_IP=127.0.1.100
B_IP=127.0.1.101
ROGUE=127.0.1.31
PCAP=$IT_WORK/cscf.pcap
re() { sess_re "$1"; }

# ---- the lab, TLS between the CSCFs; a rogue S-CSCF offered first ----
REG_TLS=1 reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_set pcscf record_route true
reg_cfg_set icscf scscf_timeout_ms 1000
reg_cfg_add icscf "ctl = { socket = \"$REG_DIR/icscf.ctl\"; };"
TLS=$REG_TLS_DIR
tls_ca "$TLS" rogue-ca
tls_cert "$TLS" rogue "$ROGUE" "scscf2.$D" rogue-ca
grep -q '^scscfs = ($' "$REG_DIR/hss.cfg" || fail "hss.cfg: no 'scscfs = (' line"
sed -i "s|^scscfs = (\$|&\\n  { name = \"sip:$ROGUE:5061;transport=tls\"; \
diameter_host = \"scscf2.$D\"; },|" "$REG_DIR/hss.cfg"
socat -d "OPENSSL-LISTEN:5061,bind=$ROGUE,reuseaddr,fork,cert=$TLS/rogue.pem,\
key=$TLS/rogue.key,verify=0" /dev/null >"$IT_WORK/socat-rogue.log" 2>&1 &
track $! socat-rogue "$IT_WORK/socat-rogue.log"
wait_rogue() {
    local i
    for ((i = 0; i < 100; i++)); do
        reg_bound tcp "$ROGUE" 5061 && return 0
        sleep 0.05
    done
    fail "the rogue S-CSCF (socat) does not listen on $ROGUE:5061"
}
wait_rogue
reg_lab_start
for d in pcscf icscf scscf; do
    grep -q "listening on TLS ${REG_ADDR[$d]}:5061" "$REG_DIR/$d.log" ||
        fail "the $d does not listen on TLS ${REG_ADDR[$d]}:5061"
done
say "P-CSCF, I-CSCF, S-CSCF listening on TLS :5061 with certificates of the test CA"

# ---- 1 + 2. registrations and a call, captured ----
C=(127.0.1.10 127.0.1.20 127.0.1.30)
tshark_capture_start "(src host ${C[0]} or src host ${C[1]} or src host ${C[2]}) and \
(dst host ${C[0]} or dst host ${C[1]} or dst host ${C[2]})" "$PCAP"
pick_port_into PA
pick_port_into PB
sess_register 1 "$A_IP" "$PA"
sess_register 2 "$B_IP" "$PB"
IMPU_A=$(reg_impu 1)
IMPU_B=$(reg_impu 2)
ILOG=$REG_DIR/icscf.log
grep -qE "TLS handshake [0-9]+ with $(re "$ROGUE"):5061 failed: .*certificate verify failed" \
    "$ILOG" || fail "the I-CSCF did not refuse the rogue S-CSCF's certificate" "${REG_PID[icscf]}"
grep -q "S-CSCF sip:$(re "$ROGUE"):5061;transport=tls: unreachable" "$ILOG" ||
    fail "the I-CSCF did not move on from the rogue S-CSCF at its failed handshake" \
        "${REG_PID[icscf]}"
! grep -q "S-CSCF sip:$(re "$ROGUE"):5061;transport=tls silent for" "$ILOG" ||
    fail "the I-CSCF waited out scscf_timeout_ms on the rogue S-CSCF's failed handshake" \
        "${REG_PID[icscf]}"
say "ok: the I-CSCF refused the rogue S-CSCF's certificate (another CA) and moved on"

{
    echo '<recv request="INVITE"><action>'
    echo '  <ereg regexp="Record-Route: &lt;sip:[^&gt;]*;transport=tls" search_in="msg"'
    echo '    check_it="true" assign_to="rr"/>'
    echo '</action></recv>'
    echo '<Reference variables="rr"/>'
    sess_steps_answer
} | sess_scenario uas_b
sess_steps_call "$IMPU_A" | sess_scenario uac_a
sess_uas UAS_PID uas "uas_b" "$B_IP" "$PB" 1
sess_uac uac "uac_a" "$A_IP" "$PA" 1 "$IMPU_B"
UAC_RC=$SIPP_RC
wait_sipp "$UAS_PID" 30
expect_calls "$IT_WORK/uac" "$UAC_RC" 1 "caller (subscriber 1): INVITE/ACK/BYE answered"
expect_calls "$IT_WORK/uas" "$SIPP_RC" 1 "callee (subscriber 2): Record-Route with transport=tls"
tshark_capture_stop "$PCAP"

# ---- 3. the capture and the logs ----
set=$(IFS=,; echo "${C[*]}")
between="ip.src in {$set} && ip.dst in {$set}"
count() { tshark -n -r "$PCAP" -d tcp.port==5061,tls -Y "$1" 2>/dev/null | wc -l; }
all=$(count "$between")
not5061=$(count "$between && !(tcp.port == 5061)")
sip=$(count "$between && (sip || frame contains \"SIP/2.0\")")
appdata=$(count "$between && tls.app_data")
say "capture: $all packets between CSCFs, $not5061 not TCP 5061, $sip SIP in clear," \
    "$appdata with TLS application data"
[ "$all" -gt 0 ] || fail "nothing captured between the CSCFs"
[ "$not5061" = 0 ] || fail "$not5061 packets between CSCFs outside TLS port 5061: \
$(tshark -n -r "$PCAP" -Y "$between && !(tcp.port == 5061)" 2>/dev/null | head -3)"
[ "$sip" = 0 ] || fail "$sip cleartext SIP messages between CSCFs"
[ "$appdata" -gt 0 ] || fail "no TLS application data between CSCFs"
hellos=$(tshark -n -r "$PCAP" -d tcp.port==5061,tls -Y "$between && tls.handshake.type == 1" \
    -T fields -e ip.src -e ip.dst 2>/dev/null | sort -u | tr '\t\n' '> ')
say "TLS ClientHellos (client>server): $hellos"
for pair in "${C[0]}>${C[1]}" "${C[1]}>${C[2]}" "${C[2]}>${C[1]}" "${C[2]}>${C[0]}"; do
    [[ " $hellos" == *" $pair "* ]] || fail "no TLS handshake $pair in the capture"
done
logged() {  # logged DAEMON LINE-REGEX WHAT
    grep -qE "$2" "$REG_DIR/$1.log" || fail "$1: $3 not logged" "${REG_PID[$1]}"
    say "ok: $1: $3"
}
logged pcscf "REGISTER forwarded to tls:$(re "$REG_I"):5061" "REGISTER forwarded over TLS"
logged icscf "REGISTER forwarded to sip:scscf\\.[^ ]*;transport=tls \\(tls:$(re "$REG_S"):5061\\)" \
    "REGISTER forwarded over TLS"
logged pcscf "INVITE forwarded to tls:$(re "$REG_S"):5061" \
    "INVITE forwarded over TLS (Service-Route)"
logged scscf "INVITE forwarded to tls:$(re "$REG_I"):5061" \
    "INVITE forwarded over TLS (to the I-CSCF)"
logged scscf "INVITE forwarded to tls:$(re "$REG_P"):5061" "INVITE forwarded over TLS (Path)"

# ---- 4. metrics ----
# metric D NAME [LABELS]: the sample of D's /metrics (NAME{LABELS} as printed), or "".
metric() {
    local k=$2
    [ -n "${3:-}" ] && k+="{$3}"
    curl -s -m 5 "http://${REG_ADDR[$1]}:9101/metrics" |
        awk -v k="$k" '$1 == k { printf "%d\n", $2 }'
}
for d in pcscf icscf scscf; do
    hs_ok=$(metric "$d" ims_tls_handshakes_total 'result="ok"')
    hs_failed=$(metric "$d" ims_tls_handshakes_total 'result="failed"')
    conns=$(metric "$d" ims_tls_connections)
    say "$d: ims_tls_handshakes_total ok=${hs_ok:-?} failed=${hs_failed:-?}," \
        "ims_tls_connections ${conns:-?}"
    [ "${hs_ok:-0}" -ge 2 ] || fail "$d: want >= 2 TLS handshakes completed"
    [ "${conns:-0}" -ge 1 ] || fail "$d: want >= 1 TLS connection open"
done
[ "$(metric icscf ims_tls_handshakes_total 'result="failed"')" -ge 1 ] ||
    fail "the I-CSCF's metrics do not count the refused rogue handshake"
out=$("$(bin imsctl)" -s "$REG_DIR/icscf.ctl" --json counters 2>&1) ||
    fail "imsctl counters at the I-CSCF: $out"
say "I-CSCF imsctl counters: sip.tls $(jq -c '.data.sip.tls' <<<"$out")"
if [ "$(jq '.data.sip.tls.handshakes_failed' <<<"$out")" -lt 1 ] ||
    [ "$(jq '.data.sip.tls.conns_open' <<<"$out")" -lt 1 ]; then
    fail "imsctl counters: sip.tls does not show the connections and the refused handshake"
fi

# ---- 5. clients at the S-CSCF's TLS port ----
# knock NAME FROM [CERT]: an OPTIONS to the S-CSCF over TLS from address FROM, presenting
# $TLS/CERT.pem (none without CERT); the answer (if any) in $IT_WORK/knock-NAME.out.
knock() {
    local name=$1 from=$2 cert=${3:-} opts
    opts="cafile=$TLS/ca.pem,verify=1,bind=$from"
    [ -n "$cert" ] && opts+=",cert=$TLS/$cert.pem,key=$TLS/$cert.key"
    printf 'OPTIONS sip:%s:5061;transport=tls SIP/2.0\r
Via: SIP/2.0/TLS %s:5061;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r
From: <sip:probe@%s>;tag=%s\r\nTo: <sip:%s:5061>\r\nCall-ID: %s@cscf-tls\r
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' "$REG_S" "$from" "$name" "$D" "$name" "$REG_S" \
        "$name" | timeout 10 socat -t 3 - "OPENSSL:$REG_S:5061,$opts" \
        >"$IT_WORK/knock-$name.out" 2>"$IT_WORK/knock-$name.err"
}
failed0=$(metric scscf ims_tls_handshakes_total 'result="failed"')
knock nocert "$REG_P"
knock rogue "$ROGUE" rogue
knock wrongaddr "$A_IP" pcscf
for k in nocert rogue wrongaddr; do
    grep -q "^SIP/2.0" "$IT_WORK/knock-$k.out" && fail "the S-CSCF answered a client ($k)"
done
failed1=$(metric scscf ims_tls_handshakes_total 'result="failed"')
say "S-CSCF: TLS handshakes failed $failed0 -> $failed1 (no certificate, rogue CA," \
    "good certificate from an address it does not name)"
[ "$failed1" -ge $((failed0 + 3)) ] || fail "the S-CSCF did not refuse the 3 bad clients"
grep -qE "TLS handshake [0-9]+ with $(re "$A_IP"):[0-9]+ failed: .*certificate verify failed" \
    "$REG_DIR/scscf.log" || fail "the S-CSCF did not log refusing a certificate for another address"
knock good "$REG_P" pcscf
grep -qE "^SIP/2.0 [0-9]{3} " "$IT_WORK/knock-good.out" ||
    fail "the S-CSCF did not answer a client with a good certificate: \
$(cat "$IT_WORK/knock-good.err")"
say "ok: S-CSCF answered the client with the P-CSCF's certificate from its address:" \
    "$(head -1 "$IT_WORK/knock-good.out" | tr -d '\r')"

# ---- 6. ----
for d in pcscf icscf scscf ims-hss; do assert_alive "${REG_PID[$d]}"; done
reg_lab_stop
ok "SIP between the CSCFs over TLS only (capture: no cleartext SIP, handshakes P->I, I->S," \
    "S->I, S->P); register + call through it; a rogue S-CSCF and bad client certificates" \
    "refused; TLS metrics"
