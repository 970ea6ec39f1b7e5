#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 6, TLS: the P-CSCF listens for SIP over TLS (sip.tls, 5061), UEs register with SIP
# Digest (MD5) and call each other over it, old TLS versions and garbage are refused. On the
# private lab of lib/reg.sh (HSS, S-CSCF, I-CSCF, P-CSCF on 127.0.1.x), with a throwaway CA
# and P-CSCF certificate (IP 127.0.1.10) made with openssl (lib/tls.sh).
#
# Why socat: Debian's sipp 3.6.1 is built without TLS (no -t l1). Each UE is a sipp over TCP
# (-t t1) to its own socat, which holds one TLS connection to the P-CSCF for it, from a fixed
# source address (bind=): so the P-CSCF sees one TLS connection per UE. Requests toward a UE
# must reuse that connection: socat accepts none. bob's Contact is that address
# (sip:...;transport=tls), the way a UE with its own TLS stack and no NAT looks; carol is
# behind a NAT: her Contact names 10.11.12.13:5061, an address that is not hers (RFC 5626
# §5.3, TS 24.229 annex F), so the P-CSCF must send to her over her connection, found by the
# address she registered from, never to her Contact.
#
# Both UEs keep their TLS connection from REGISTER to the end of the call, so each sipp plays
# its registration and its part of the call as one sipp "call"; sipp maps what arrives to a
# call by Call-ID, so both use the same Call-ID (-cid_str): the callee's INVITE then belongs
# to its registration's call.
#   1. openssl s_client with -tls1 and -tls1_1 (the client's own policy lowered, so that
#      the refusal is the server's) gets a protocol_version alert; -tls1_2 and -tls1_3
#      connect and verify the certificate against the CA;
#   2. plain SIP, random bytes, and a handshake that stops after its first bytes on 5061:
#      the P-CSCF drops each (the last after sip.tls.handshake_ms) and stays up;
#   3. carol (digest-only subscriber added to the lab HSS) registers over TLS: 401 with
#      algorithm=MD5, 200; the P-CSCF registers her from t:<her TLS source address>;
#   4. bob registers the same way and calls carol: INVITE/180/200/ACK/BYE/200 through
#      P -> S -> I -> S -> P; carol gets the INVITE (Request-URI her NATed contact) over her
#      TLS connection with P-Asserted-Identity = bob, and bob's ACK and BYE the same way (the
#      P-CSCF forwarded them to her source address, never to 10.11.12.13); the P-CSCF had 2
#      open TLS connections (ims_tls_connections) during it;
#   5. once carol's connection is gone (her sipp and socat ended; she is still registered)
#      bob calls her again: the P-CSCF cannot reach her and answers 430 Flow Failed (RFC 5626
#      §5.3.2) instead of connecting to her Contact;
#   6. the P-CSCF's log shows the TLS connections up (TLSv1.2/1.3 with their cipher) and the
#      failed handshakes; ims_tls_handshakes_total counts >= 2 ok and >= 4 failed; every
#      daemon stops with exit 0 (ASan clean in a sanitizer build).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
for t in socat openssl curl; do
    command -v "$t" >/dev/null ||
        { echo "$t not found (scripts/install-deps.sh): skipped"; exit 77; }
done
it_init 21600
D=$REG_DOMAIN
TLS=$IT_WORK/tls
A_IP=127.0.1.100   # bob
B_IP=127.0.1.101   # carol
NAT=10.11.12.13:5061  # carol's Contact: her address inside her home network, not one of ours

# ---- a throwaway CA and the P-CSCF's certificate (lib/tls.sh) ----
tls_ca "$TLS"
tls_cert "$TLS" pcscf "$REG_P" "pcscf.$D"

# ---- the lab: TLS at the P-CSCF, a second digest-only subscriber ----
reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_set pcscf record_route true
grep -q '^sip = {' "$REG_DIR/pcscf.cfg" || fail "pcscf.cfg: no 'sip = {' line"
awk -v g="  tls = { listen = \"$REG_P:5061\"; cert = \"$TLS/pcscf.pem\"; \
key = \"$TLS/pcscf.key\"; handshake_ms = 2000; };" \
    '{ print } /^sip = \{/ && !done { print g; done = 1 }' "$REG_DIR/pcscf.cfg" >"$REG_DIR/p.tmp" &&
    mv "$REG_DIR/p.tmp" "$REG_DIR/pcscf.cfg"
BOB_END='password = "secret"; auth_scheme = "digest"; }'
grep -qF "$BOB_END" "$REG_DIR/hss.cfg" || fail "hss.cfg: bob's digest entry not found"
sed -i "s|$BOB_END|$BOB_END,\\n  { impi = \"carol@$D\"; impus = ( \"sip:carol@$D\" );\
 $BOB_END|" "$REG_DIR/hss.cfg"
reg_lab_start
PLOG=$REG_DIR/pcscf.log
grep -q "listening on TLS $REG_P:5061" "$PLOG" || fail "the P-CSCF does not listen on TLS"
say "P-CSCF listening on TLS $REG_P:5061"

# ---- 1. TLS versions ----
# probe NAME FLAG: openssl s_client with one protocol version; output in $TLS/NAME.out.
probe() {
    timeout 10 openssl s_client -connect "$REG_P:5061" "$2" -CAfile "$TLS/ca.pem" \
        -verify_return_error -verify_ip "$REG_P" -cipher 'DEFAULT:@SECLEVEL=0' </dev/null \
        >"$TLS/$1.out" 2>&1
}
for v in tls1 tls1_1; do
    probe "$v" "-$v" &&
        fail "a client offering only ${v/_/.} connected: $(grep -m1 Protocol "$TLS/$v.out")"
    grep -q "alert protocol version" "$TLS/$v.out" ||
        fail "${v/_/.}: no protocol_version alert from the P-CSCF: $(tail -3 "$TLS/$v.out")"
    say "ok: -${v} refused (protocol_version alert)"
done
for v in tls1_2 tls1_3; do
    probe "$v" "-$v" || fail "a ${v/_/.} client could not connect: $(tail -5 "$TLS/$v.out")"
    want=TLSv1.${v#tls1_}
    grep -qE "(Protocol *: *|New, )$want" "$TLS/$v.out" ||
        fail "$v: not $want: $(grep -m1 New, "$TLS/$v.out")"
    grep -q "Verify return code: 0 (ok)" "$TLS/$v.out" || fail "$v: certificate not verified"
    say "ok: -${v} connected, $want, certificate verified against the test CA"
done

# ---- 2. garbage on 5061 ----
printf 'OPTIONS sip:%s:5061 SIP/2.0\r\nContent-Length: 0\r\n\r\n' "$REG_P" |
    timeout 10 socat -t 5 - "TCP:$REG_P:5061" >/dev/null 2>&1
{ printf '\000'; head -c 4096 /dev/urandom; } |
    timeout 10 socat -t 5 - "TCP:$REG_P:5061" >/dev/null 2>&1
# A TLS record header, then silence: closed after handshake_ms (2 s), the P-CSCF says why.
stall=$(python3 - "$REG_P" <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 5061), timeout=15)
s.sendall(b"\x16\x03\x01\x02\x00")
t0 = time.monotonic()
try:
    closed = s.recv(1) == b""
except ConnectionResetError:
    closed = True
except socket.timeout:
    closed = False
print("%s %.1f" % ("closed" if closed else "open", time.monotonic() - t0))
EOF
)
say "stalled handshake: $stall s"
[[ $stall == closed* ]] || fail "a stalled TLS handshake was not dropped within 15 s ($stall)"
awk -v t="${stall#closed }" 'BEGIN { exit !(t >= 1.5) }' ||
    fail "a stalled TLS handshake was dropped before handshake_ms (2 s): $stall"
assert_alive "${REG_PID[pcscf]}"
grep -q "TLS handshake .* timed out" "$PLOG" || fail "the P-CSCF did not log the handshake timeout"
nfail=$(grep -c "TLS handshake .* failed" "$PLOG")
say "P-CSCF: $nfail failed handshakes logged (2 versions + plain SIP + random bytes), 1 timeout"
[ "$nfail" -ge 4 ] || fail "want >= 4 failed TLS handshakes in the P-CSCF log, got $nfail"

# ---- scenarios ----
scenario() { sess_scenario "$@"; }
# register USER: REGISTER -> 401 (MD5) -> REGISTER with digest -> 200, contact [$contact].
register() {
    local cseq auth
    for cseq in 1 2; do
        auth="Authorization: Digest username=\"$1@$D\", realm=\"$D\", uri=\"sip:$D\","
        auth+=' nonce="", response=""'
        [ $cseq = 2 ] && auth="[authentication username=\"$1@$D\" password=\"secret\"]"
        cat <<EOF
<send retrans="500"><![CDATA[

REGISTER sip:$D SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:$1@$D>;tag=[pid]r[call_number]
To: <sip:$1@$D>
Call-ID: [call_id]
CSeq: $cseq REGISTER
Contact: <sip:$1@[\$contact];transport=tls>;expires=600
Expires: 600
$auth
Supported: path
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="100" optional="true"/>
EOF
        [ $cseq = 1 ] && cat <<'EOF'
<recv response="401" auth="true"><action>
  <ereg regexp="algorithm=.?MD5" search_in="msg" check_it="true" assign_to="md5"/>
</action></recv>
<Reference variables="md5"/>
EOF
    done
    echo '<recv response="200"/>'
}
# The contact host:port comes from -set contact (sipp 3.6 global variable).
GLOBAL='<Global variables="contact"/>'
# in_dialog METHOD CSEQ: bob's ACK / BYE along the route set.
in_dialog() {
    cat <<EOF
<send$([ "$1" = BYE ] && echo ' retrans="500"')><![CDATA[

$1 [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:bob@$D>;tag=[pid]i[call_number]
To: <sip:carol@$D>[peer_tag_param]
Call-ID: [call_id]
CSeq: $2 $1
Contact: <sip:bob@[\$contact];transport=tls>
Max-Forwards: 70
Content-Length: 0

]]></send>
EOF
}
answer() {
    cat <<EOF
<send><![CDATA[

SIP/2.0 $1
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:]$2
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:carol@[\$contact];transport=tls>
Content-Length: 0

]]></send>
EOF
}
# invite CSEQ TAG [TXN]: bob's INVITE to carol (From tag TAG; TXN names its transaction).
invite() {
    cat <<EOF
<send retrans="500"${3:+ start_txn=\"$3\"}><![CDATA[

INVITE sip:carol@$D SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:bob@$D>;tag=[pid]$2[call_number]
To: <sip:carol@$D>
Call-ID: [call_id]
CSeq: $1 INVITE
Contact: <sip:bob@[\$contact];transport=tls>
Max-Forwards: 70
Content-Length: 0

]]></send>
EOF
}
{
    echo "$GLOBAL"
    register bob
    invite 3 i
    cat <<EOF
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="200" rrs="true"/>
EOF
    in_dialog ACK 3
    echo '<pause milliseconds="1500"/>'
    in_dialog BYE 4
    echo '<recv response="200"/>'
    # Again once carol's connection is gone (the test waits for that meanwhile): 430.
    echo '<pause milliseconds="3000"/>'
    invite 5 j again
    cat <<EOF
<recv response="100" optional="true" response_txn="again"/>
<recv response="430" response_txn="again"/>
<send ack_txn="again"><![CDATA[

ACK sip:carol@$D SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
From: <sip:bob@$D>;tag=[pid]j[call_number]
To: <sip:carol@$D>[peer_tag_param]
Call-ID: [call_id]
CSeq: 5 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
EOF
} | scenario bob
NAT_RE=$(printf '%s' "$NAT" | sed 's/\./\\./g')
{
    echo "$GLOBAL"
    register carol
    cat <<EOF
<recv request="INVITE"><action>
  <ereg regexp="^INVITE sip:carol@$NAT_RE;transport=tls SIP/2\\.0" search_in="msg"
    check_it="true" assign_to="ruri"/>
  <ereg regexp="[Pp]-[Aa]sserted-[Ii]dentity: *&lt;sip:bob@[^&gt;]*&gt;" search_in="msg"
    check_it="true" assign_to="pai"/>
</action></recv>
<Reference variables="ruri,pai"/>
EOF
    answer "180 Ringing" ";tag=[pid]c[call_number]"
    answer "200 OK" ";tag=[pid]c[call_number]"
    cat <<EOF
<recv request="ACK"><action>
  <ereg regexp="^ACK sip:carol@$NAT_RE;transport=tls SIP/2\\.0" search_in="msg"
    check_it="true" assign_to="ack"/>
</action></recv>
<recv request="BYE"><action>
  <ereg regexp="^BYE sip:carol@$NAT_RE;transport=tls SIP/2\\.0" search_in="msg"
    check_it="true" assign_to="bye"/>
</action></recv>
<Reference variables="ack,bye"/>
EOF
    answer "200 OK" ""
    echo '<timewait milliseconds="500"/>'
} | scenario carol

# ---- the UEs: socat (TLS, from IP:SRC) <- TCP <- sipp ----
# ue NAME IP [CONTACT]: start socat for the UE on IP (its TLS source port picked here), then its
# sipp in the background, its Contact CONTACT (default: IP and the TLS source port); sets
# UE_SRC (the TLS source port), UE_PID (sipp's pid) and UE_SOCAT (socat's pid).
ue() {
    local name=$1 ip=$2 contact=${3:-} wrap src sp cp pid i
    pick_port_into wrap
    pick_port_into src
    pick_port_into sp
    pick_port_into cp
    IT_NEXT_PORT=$((IT_NEXT_PORT + 4))
    # One connection (no fork): the UE's single TLS connection, verified against the CA.
    socat -d "TCP-LISTEN:$wrap,bind=$ip,reuseaddr" \
        "OPENSSL:$REG_P:5061,bind=$ip:$src,cafile=$TLS/ca.pem,verify=1" \
        >"$IT_WORK/socat-$name.log" 2>&1 &
    pid=$!
    UE_SOCAT=$pid
    track "$pid" "socat-$name" "$IT_WORK/socat-$name.log"
    for ((i = 0; i < 100; i++)); do
        reg_bound tcp "$ip" "$wrap" && break
        alive "$pid" || fail "socat for $name exited at start" "$pid"
        sleep 0.05
    done
    (cd "$IT_WORK" && exec timeout -k 5 70 sipp -sf "$IT_WORK/sc/$name.xml" -t t1 -i "$ip" \
        -p "$sp" -m 1 -s "$D" -cid_str "tls-%u@ims-test" -set contact "${contact:-$ip:$src}" \
        -auth_uri "sip:$D" -timeout 60s -timeout_error -nostdin -ci 127.0.0.2 -cp "$cp" \
        -mp $((cp + 1)) -trace_stat -stf "$IT_WORK/$name.csv" -fd 1 \
        -trace_msg -message_file "$IT_WORK/$name.msg" \
        -trace_err -error_file "$IT_WORK/$name.errors" \
        "$ip:$wrap") >"$IT_WORK/$name.out" 2>&1 &
    UE_PID=$!
    UE_SRC=$src
    track "$UE_PID" "sipp-$name" "$IT_WORK/$name.errors"
}
# wait_log REGEX SECONDS: the P-CSCF's log matches within SECONDS.
wait_log() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        grep -qE "$1" "$PLOG" && return 0
        sleep 0.05
    done
    return 1
}

# ---- 3. carol registers over TLS (behind a NAT) and waits for the call ----
ue carol "$B_IP" "$NAT"
C_PID=$UE_PID C_SRC=$UE_SRC C_SOCAT=$UE_SOCAT
wait_log "registered sip:carol@$D from t:$B_IP:$C_SRC until" 20 ||
    fail "carol did not register over TLS from $B_IP:$C_SRC" "" "$IT_WORK/carol"
say "ok: carol registered over TLS (MD5 digest) from t:$B_IP:$C_SRC, Contact $NAT"

# ---- 4. bob registers and calls carol ----
ue bob "$A_IP"
B_PID=$UE_PID B_SRC=$UE_SRC
wait_log "registered sip:bob@$D from t:$A_IP:$B_SRC until" 20 ||
    fail "bob did not register over TLS from $A_IP:$B_SRC" "" "$IT_WORK/bob"
say "ok: bob registered over TLS (MD5 digest) from t:$A_IP:$B_SRC"
# While the call is up both TLS connections are open at the P-CSCF (its metrics).
M=$(sed -n 's/^ *listen *= *"\(127[^"]*\)".*/\1/p' "$REG_DIR/pcscf.cfg" | tail -1)
# metric NAME [LABELS]: the P-CSCF's sample NAME{LABELS} now, as an integer ("" if absent).
metric() {
    local k=$1
    [ -n "${2:-}" ] && k+="{$2}"
    curl -s -m 5 "http://$M/metrics" | awk -v k="$k" '$1 == k { printf "%d\n", $2 }'
}
# wait_tls N: ims_tls_connections reaches N (or more, with MORE=1) within 5 s.
wait_tls() {
    local i
    for ((i = 0; i < 100; i++)); do
        TLS_CONNS=$(metric ims_tls_connections)
        [ "${TLS_CONNS:-x}" = "$1" ] && return 0
        [ "${MORE:-0}" = 1 ] && [ "${TLS_CONNS:-0}" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}
MORE=1 wait_tls 2 || fail "the P-CSCF's metrics never showed the 2 TLS connections"
say "P-CSCF metrics: ims_tls_connections $TLS_CONNS during the call"
wait_sipp "$C_PID" 30
expect_calls "$IT_WORK/carol" "$SIPP_RC" 1 \
    "carol: REGISTER (MD5), INVITE, ACK, BYE at her NATed contact over her TLS connection"
# Her socat holds one connection: it ends with her sipp. bob calls again 3 s after his BYE.
wait_sipp "$C_SOCAT" 5
wait_tls 1 || fail "carol's TLS connection still counted at the P-CSCF ($TLS_CONNS open)"
say "carol's connection is gone (ims_tls_connections $TLS_CONNS); she is still registered"
wait_sipp "$B_PID" 60
expect_calls "$IT_WORK/bob" "$SIPP_RC" 1 \
    "bob: REGISTER (MD5) + INVITE/180/200/ACK/BYE over TLS, then an INVITE answered 430"
sed -n '/^INVITE /,/^$/p' "$IT_WORK/carol.msg" | grep -E "^(INVITE|Via|Record-Route|P-Asserted)" |
    sed 's/^/    carol got: /'
P_RE=$(printf '%s' "$REG_P" | sed 's/\./\\./g')
grep -qE "^Via: SIP/2.0/TLS $P_RE:5061;" "$IT_WORK/carol.msg" ||
    fail "the INVITE reached carol without the P-CSCF's TLS Via"

# ---- 5. the P-CSCF's account ----
C_RE="$(printf '%s' "$B_IP" | sed 's/\./\\./g'):$C_SRC"
for m in INVITE BYE; do
    grep -qE "$m forwarded to tls:$C_RE$" "$PLOG" ||
        fail "the P-CSCF did not forward the $m to carol's source address tls:$B_IP:$C_SRC"
done
grep -qE "ACK forwarded statelessly to tls:$C_RE$" "$PLOG" ||
    fail "the P-CSCF did not forward the ACK to carol's source address"
say "ok: INVITE, ACK and BYE for carol forwarded to tls:$B_IP:$C_SRC, her connection"
grep -E "(connect to|forwarded (statelessly )?to [a-z]+:|connection [0-9]+ )${NAT_RE%:*}" \
    "$PLOG" && fail "the P-CSCF tried to reach carol's Contact $NAT"
grep -qE "INVITE to ${NAT_RE%:*}:5061: the UE's connection is gone: 430" "$PLOG" ||
    fail "the P-CSCF did not log the 430 for carol's gone connection"
say "ok: with carol's connection gone, bob's INVITE got 430 Flow Failed; nothing went to $NAT"

# ---- 6. ----
grep -E "sip: TLS connection [0-9]+ 127\.0\.1\.10[01]:" "$PLOG" | sed 's/^/    pcscf: /'
for ue in "$A_IP:$B_SRC" "$B_IP:$C_SRC"; do
    grep -qE "sip: TLS connection [0-9]+ $ue up: TLSv1\.[23] " "$PLOG" ||
        fail "the P-CSCF did not log the TLS connection of $ue"
done
grep -qE "dialog .* confirmed" "$PLOG" || fail "the P-CSCF tracked no dialog"
hs_ok=$(metric ims_tls_handshakes_total 'result="ok"')
hs_failed=$(metric ims_tls_handshakes_total 'result="failed"')
say "P-CSCF metrics: ims_tls_handshakes_total ok=${hs_ok:-?} failed=${hs_failed:-?}"
if [ "${hs_ok:-0}" -lt 2 ] || [ "${hs_failed:-0}" -lt 4 ]; then
    fail "ims_tls_handshakes_total: want ok >= 2 (bob, carol) and failed >= 4 (parts 1 and 2)"
fi
reg_lab_stop
ok "TLS at the P-CSCF: TLS 1.0/1.1 refused, 1.2/1.3 verified, garbage and a stalled handshake" \
    "dropped; two UEs registered (MD5 digest) and called each other over TLS, the callee behind" \
    "a NAT reached over her own connection (430 once it was gone); TLS metrics"
