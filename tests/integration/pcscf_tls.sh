#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 6, TLS: the P-CSCF listens for SIP over TLS (sip.tls, 5061), UEs register with SIP
# Digest (MD5) and call each other over it, old TLS versions and garbage are refused. On the
# private lab of lib/reg.sh (HSS, S-CSCF, I-CSCF, P-CSCF on 127.0.1.x), with a throwaway CA
# and P-CSCF certificate (IP 127.0.1.10) made here with openssl.
#
# Why socat: Debian's sipp 3.6.1 is built without TLS (no -t l1). Each UE is a sipp over TCP
# (-t t1) to its own socat, which holds one TLS connection to the P-CSCF for it, from a fixed
# source address (bind=): so the P-CSCF sees one TLS connection per UE, and the address it
# sees is the UE's Contact (sip:...;transport=tls), the way a UE with its own TLS stack and no
# NAT looks. Requests toward a UE must reuse that connection: socat accepts none.
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
#      P -> S -> I -> S -> P; carol gets the INVITE over her TLS connection at her contact
#      with P-Asserted-Identity = bob; the P-CSCF had 2 open connections (metrics) during it;
#   5. the P-CSCF's log shows the TLS connections up (TLSv1.2/1.3 with their cipher) and the
#      failed handshakes; every daemon stops with exit 0 (ASan clean in a sanitizer build).
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

# ---- a throwaway CA and the P-CSCF's certificate ----
mkdir -p "$TLS"
(
    cd "$TLS" &&
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -keyout ca.key -out ca.pem -subj "/CN=ims-core test CA" &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout pcscf.key -out pcscf.csr -subj "/CN=pcscf.$D" &&
        printf 'subjectAltName=IP:%s,DNS:pcscf.%s\n' "$REG_P" "$D" >ext.cnf &&
        openssl x509 -req -in pcscf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile ext.cnf -out pcscf.pem
) >"$TLS/openssl.log" 2>&1 ||
    fail "openssl could not make the certificates: $(tail -3 "$TLS/openssl.log")"

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
{
    echo "$GLOBAL"
    register bob
    cat <<EOF
<send retrans="500"><![CDATA[

INVITE sip:carol@$D SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:bob@$D>;tag=[pid]i[call_number]
To: <sip:carol@$D>
Call-ID: [call_id]
CSeq: 3 INVITE
Contact: <sip:bob@[\$contact];transport=tls>
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="200" rrs="true"/>
EOF
    in_dialog ACK 3
    echo '<pause milliseconds="1500"/>'
    in_dialog BYE 4
    echo '<recv response="200"/>'
} | scenario bob
B_RE=$(printf '%s' "$B_IP" | sed 's/\./\\./g')
{
    echo "$GLOBAL"
    register carol
    cat <<EOF
<recv request="INVITE"><action>
  <ereg regexp="^INVITE sip:carol@$B_RE:[0-9]+;transport=tls SIP/2\\.0" search_in="msg"
    check_it="true" assign_to="ruri"/>
  <ereg regexp="[Pp]-[Aa]sserted-[Ii]dentity: *&lt;sip:bob@[^&gt;]*&gt;" search_in="msg"
    check_it="true" assign_to="pai"/>
</action></recv>
<Reference variables="ruri,pai"/>
EOF
    answer "180 Ringing" ";tag=[pid]c[call_number]"
    answer "200 OK" ";tag=[pid]c[call_number]"
    echo '<recv request="ACK"/>'
    echo '<recv request="BYE"/>'
    answer "200 OK" ""
    echo '<timewait milliseconds="500"/>'
} | scenario carol

# ---- the UEs: socat (TLS, from IP:SRC) <- TCP <- sipp ----
# ue NAME IP: start socat for the UE on IP (its TLS source port picked here), then its sipp in
# the background; sets UE_SRC (the TLS source port) and UE_PID (sipp's pid).
ue() {
    local name=$1 ip=$2 wrap src sp cp pid i
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
    track "$pid" "socat-$name" "$IT_WORK/socat-$name.log"
    for ((i = 0; i < 100; i++)); do
        reg_bound tcp "$ip" "$wrap" && break
        alive "$pid" || fail "socat for $name exited at start" "$pid"
        sleep 0.05
    done
    (cd "$IT_WORK" && exec timeout -k 5 70 sipp -sf "$IT_WORK/sc/$name.xml" -t t1 -i "$ip" \
        -p "$sp" -m 1 -s "$D" -cid_str "tls-%u@ims-test" -set contact "$ip:$src" \
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

# ---- 3. carol registers over TLS and waits for the call ----
ue carol "$B_IP"
C_PID=$UE_PID C_SRC=$UE_SRC
wait_log "registered sip:carol@$D from t:$B_IP:$C_SRC until" 20 ||
    fail "carol did not register over TLS from $B_IP:$C_SRC" "" "$IT_WORK/carol"
say "ok: carol registered over TLS (MD5 digest) from t:$B_IP:$C_SRC"

# ---- 4. bob registers and calls carol ----
ue bob "$A_IP"
B_PID=$UE_PID B_SRC=$UE_SRC
wait_log "registered sip:bob@$D from t:$A_IP:$B_SRC until" 20 ||
    fail "bob did not register over TLS from $A_IP:$B_SRC" "" "$IT_WORK/bob"
say "ok: bob registered over TLS (MD5 digest) from t:$A_IP:$B_SRC"
# While the call is up both TLS connections are open at the P-CSCF (its metrics).
M=$(sed -n 's/^ *listen *= *"\(127[^"]*\)".*/\1/p' "$REG_DIR/pcscf.cfg" | tail -1)
conns=
for ((i = 0; i < 40; i++)); do
    conns=$(curl -s "http://$M/metrics" | awk '$1 == "ims_sip_connections" { print $2 }')
    [ "${conns%.*}" -ge 2 ] 2>/dev/null && break
    sleep 0.05
done
say "P-CSCF metrics: ims_sip_connections ${conns:-?} during the call"
wait_sipp "$B_PID" 60
expect_calls "$IT_WORK/bob" "$SIPP_RC" 1 "bob: REGISTER (MD5) + INVITE/180/200/ACK/BYE over TLS"
wait_sipp "$C_PID" 30
expect_calls "$IT_WORK/carol" "$SIPP_RC" 1 \
    "carol: REGISTER (MD5), INVITE at her TLS contact with P-Asserted-Identity bob, answered"
[ "${conns%.*}" -ge 2 ] 2>/dev/null ||
    fail "the P-CSCF's metrics never showed the 2 TLS connections"
sed -n '/^INVITE /,/^$/p' "$IT_WORK/carol.msg" | grep -E "^(INVITE|Via|Record-Route|P-Asserted)" |
    sed 's/^/    carol got: /'
P_RE=$(printf '%s' "$REG_P" | sed 's/\./\\./g')
grep -qE "^Via: SIP/2.0/TLS $P_RE:5061;" "$IT_WORK/carol.msg" ||
    fail "the INVITE reached carol without the P-CSCF's TLS Via"

# ---- 5. the P-CSCF's account ----
grep -E "sip: TLS connection [0-9]+ 127\.0\.1\.10[01]:" "$PLOG" | sed 's/^/    pcscf: /'
for ue in "$A_IP:$B_SRC" "$B_IP:$C_SRC"; do
    grep -qE "sip: TLS connection [0-9]+ $ue up: TLSv1\.[23] " "$PLOG" ||
        fail "the P-CSCF did not log the TLS connection of $ue"
done
grep -qE "dialog .* confirmed" "$PLOG" || fail "the P-CSCF tracked no dialog"
reg_lab_stop
ok "TLS at the P-CSCF: TLS 1.0/1.1 refused, 1.2/1.3 verified, garbage and a stalled handshake" \
    "dropped; two UEs registered (MD5 digest) and called each other over TLS"
