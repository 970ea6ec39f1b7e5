#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# ims-hss over real Diameter on loopback, driven by tests/tools/cx-client (our Cx client on
# our peer layer) and by a raw Python Diameter client for malformed requests.
#
#   1. UAR for a new user: 2001 FIRST_REGISTRATION with Server-Capabilities naming the S-CSCF.
#   2. MAR Digest-AKAv1-MD5: a 32-octet SIP-Authenticate, an 8-octet XRES, CK and IK; the
#      vector is checked twice: by cx-client as a USIM would (common/auth Milenage) and by an
#      independent Python Milenage (itself first checked against TS 35.208 test set 1).
#   3. SAR REGISTRATION returns User-Data XML holding the user's IMPUs; then UAR says 2002 +
#      Server-Name and LIR returns it; SAR USER_DEREGISTRATION, and LIR answers 5003.
#   4. Errors: unknown user 5001 (UAR, MAR, LIR), IMPI/IMPU mismatch 5002, barred IMPU 5003
#      (base Result-Code), unknown auth scheme 5006; raw requests: a UAR without
#      Public-Identity gets 5005 with Failed-AVP naming 601, an unknown Cx command 3001 + E bit.
#   5. SIP Digest MAR: HA1 = MD5(impi:realm:password), checked in Python.
#   6. Resync: an AUTS for SQN_MS gives a vector with SQN = SQN_MS + 32; a spoiled MAC-S 4001.
#   7. Control socket: stats counts the requests; PPR and RTR reach cx-client in S-CSCF role
#      (serve) and the control socket replies "ok 2001"; after the RTR the user is
#      de-registered (UAR: 2001 FIRST_REGISTRATION again).
#   8. SQN persistence: after a clean restart and after a SIGKILL, the next MAR's SQN is above
#      every SQN handed out before.
# ims-hss must stop with exit 0 and without sanitizer reports.
. "$(dirname "$0")/lib/common.sh"
it_init 16900

HSS=$(bin ims-hss)
CX=$(bin tests/cx-client)
K=696d73636f72652d6c61622d6b657931
OP=696d73636f72652d6c61622d6f702d31
U1=001010000000001@ims.test
P1=sip:001010000000001@ims.test
T1=tel:+15550000001
STATE=$IT_WORK/state
pick_port_into PORT

cat >"$IT_WORK/hss.cfg" <<EOF
state_dir = "$STATE";
home_domain = "ims.test";
test_redraw_zero_res = true;
sqn = { block = 20; fsync = true; };
diameter = { identity = "hss.ims.test"; realm = "ims.test"; listen = "127.0.0.1"; port = $PORT;
  request_timeout_ms = 3000;
  peers = ( { host = "icscf.ims.test"; }, { host = "scscf.ims.test"; },
            { host = "raw.ims.test"; } ); };
scscfs = ( { name = "sip:scscf.ims.test"; diameter_host = "scscf.ims.test"; } );
capabilities = { mandatory = ( 1 ); optional = ( ); };
profiles = ( { name = "as"; ifcs = ( { priority = 0;
  triggers = ( { group = 0; method = "INVITE"; }, { group = 1; session_case = 0; } );
  as = "sip:as.ims.test:5070"; } ); } );
subscribers = (
  { impi = "alice@ims.test"; impus = ( "sip:alice@ims.test", "tel:+100" );
    barred_impus = ( "tel:+100" ); k = "$K"; op = "$OP"; sqn = 1; password = "pw";
    profile = "as"; }
);
ranges = ( { imsi_from = "001010000000001"; count = 2; tel_prefix = "+1555";
  k = "$K"; op = "$OP"; amf = "8000"; sqn = 1; password = "secret"; } );
EOF

HSS_PID=
start_hss() {
    local log=$IT_WORK/hss-$((${HSS_RUNS:-0} + 1)).log
    HSS_RUNS=$((${HSS_RUNS:-0} + 1))
    "$HSS" -c "$IT_WORK/hss.cfg" -L info >"$log" 2>&1 &
    HSS_PID=$!
    track "$HSS_PID" ims-hss "$log"
    wait_listen "$HSS_PID" tcp "$PORT"
    say "ims-hss pid $HSS_PID listening on 127.0.0.1:$PORT (run $HSS_RUNS)"
}

# cx ARGS...: run cx-client as the I-/S-CSCF; output in $OUT, exit status in $RC.
cx() {
    OUT=$("$CX" --hss "127.0.0.1:$PORT" --hss-host hss.ims.test --realm ims.test \
        --origin-host icscf.ims.test --server-name sip:scscf.ims.test "$@" 2>&1)
    RC=$?
}
# f KEY: the first value of KEY in $OUT.
f() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | head -n 1; }
# expect WHAT KEY=VALUE...: every pair must be in $OUT.
expect() {
    local what=$1 kv
    shift
    [ "$RC" -eq 0 ] || fail "$what: cx-client exit $RC: $OUT"
    for kv in "$@"; do
        grep -qxF -- "$kv" <<<"$OUT" || fail "$what: want $kv, got: $(echo $OUT)"
    done
    say "$what: $*"
}
MAX_SQN=0
note_sqn() {
    local s
    s=$(f sqn)
    [ -n "$s" ] || fail "no sqn= in: $OUT"
    [ "$s" -gt "$MAX_SQN" ] && MAX_SQN=$s
    return 0
}

# The independent Milenage: self-test against TS 35.208 set 1, then check a vector.
milenage_check() {
    python3 - "$IMS_SOURCE_DIR/../shared/vectors/milenage.json" "$K" "$OP" "$(f authenticate)" \
        "$(f xres)" "$(f ck)" "$(f ik)" <<'EOF'
import json, os, sys
try:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    def E(k, x):
        e = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
        return e.update(x) + e.finalize()
except ImportError:
    import subprocess
    def E(k, x):
        return subprocess.run(["openssl", "enc", "-aes-128-ecb", "-nopad", "-K", k.hex()],
                              input=x, capture_output=True, check=True).stdout
def xor(a, b): return bytes(i ^ j for i, j in zip(a, b))
def rot(x, bits): return x[bits // 8:] + x[:bits // 8]
def c(n): return bytes(15) + bytes([n])
def milenage(k, op, rand, sqn, amf):
    opc = xor(E(k, op), op)
    temp = E(k, xor(rand, opc))
    out1 = xor(E(k, xor(temp, rot(xor(sqn + amf + sqn + amf, opc), 64))), opc)
    out = lambda r, n: xor(E(k, xor(rot(xor(temp, opc), r), c(n))), opc)
    o2 = out(0, 1)
    return dict(mac_a=out1[:8], res=o2[8:], ak=o2[:6], ck=out(32, 2), ik=out(64, 4))
vec, k, op = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
if os.path.exists(vec):
    t = json.load(open(vec))["test_sets"][0]
    m = milenage(*(bytes.fromhex(t[x]) for x in ("k", "op", "rand", "sqn", "amf")))
    assert m["mac_a"].hex() == t["f1_mac_a"] and m["res"].hex() == t["f2_res"], "self-test"
    assert m["ck"].hex() == t["f3_ck"] and m["ik"].hex() == t["f4_ik"], "self-test"
auth = bytes.fromhex(sys.argv[4])
rand, autn = auth[:16], auth[16:]
m = milenage(k, op, rand, b"\0" * 6, b"\0\0")
sqn = xor(autn[:6], m["ak"])
m = milenage(k, op, rand, sqn, autn[6:8])
assert m["res"].hex() == sys.argv[5], "XRES differs"
assert m["ck"].hex() == sys.argv[6] and m["ik"].hex() == sys.argv[7], "CK/IK differ"
assert m["mac_a"] == autn[8:], "MAC-A differs"
print(int.from_bytes(sqn, "big"))
EOF
}

# Raw Diameter: CER, then a UAR without Public-Identity and an unknown Cx command.
raw_checks() {
    python3 - "$PORT" <<'EOF'
import socket, struct, sys
def avp(code, data, vendor=0, flags=0x40):
    if isinstance(data, str): data = data.encode()
    if isinstance(data, int): data = struct.pack(">I", data)
    hl = 12 if vendor else 8
    n = hl + len(data)
    h = struct.pack(">II", code, ((flags | (0x80 if vendor else 0)) << 24) | n)
    if vendor: h += struct.pack(">I", vendor)
    return h + data + b"\0" * (-n % 4)
def msg(code, app, avps, flags=0x80, hbh=1):
    body = b"".join(avps)
    return struct.pack(">II", (1 << 24) | (20 + len(body)), (flags << 24) | code) + \
        struct.pack(">II", app, hbh) + struct.pack(">I", hbh) + body
def recvn(s, n):
    b = b""
    while len(b) < n:
        x = s.recv(n - len(b))
        if not x: raise SystemExit("connection closed")
        b += x
    return b
def recv(s):
    h = recvn(s, 20)
    n = int.from_bytes(h[1:4], "big")
    body, avps, i = recvn(s, n - 20), {}, 0
    while i < len(body):
        code, fl = struct.unpack(">II", body[i:i + 8])
        ln = fl & 0xffffff
        off = 12 if fl >> 31 else 8
        avps.setdefault(code, []).append(body[i + off:i + ln])
        i += (ln + 3) & ~3
    return h[4], int.from_bytes(h[5:8], "big"), avps
CX, V3 = 16777216, 10415
vsai = avp(260, avp(266, V3) + avp(258, CX))
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(msg(257, 0, [avp(264, "raw.ims.test"), avp(296, "ims.test"),
                       avp(257, b"\0\1" + bytes([127, 0, 0, 1])), avp(266, 0),
                       avp(269, "raw", flags=0), avp(265, V3), vsai]))
fl, code, a = recv(s)
assert code == 257 and struct.unpack(">I", a[268][0])[0] == 2001, "CEA"
head = [avp(263, "raw.ims.test;1;1"), vsai, avp(277, 1), avp(264, "raw.ims.test"),
        avp(296, "ims.test"), avp(283, "ims.test")]
s.sendall(msg(300, CX, head + [avp(1, "alice@ims.test"), avp(600, "ims.test", V3),
                               avp(623, 0, V3)], flags=0xc0, hbh=2))
fl, code, a = recv(s)
rc = struct.unpack(">I", a[268][0])[0]
failed = struct.unpack(">I", a[279][0][:4])[0] if 279 in a else None
assert code == 300 and rc == 5005 and failed == 601, f"UAR w/o Public-Identity: {rc} {failed}"
print(f"missing AVP: Result-Code {rc}, Failed-AVP {failed}")
s.sendall(msg(399, CX, head, flags=0xc0, hbh=3))
fl, code, a = recv(s)
rc = struct.unpack(">I", a[268][0])[0]
assert code == 399 and rc == 3001 and fl & 0x20, f"unknown command: {rc} flags {fl:#x}"
print(f"unknown command: Result-Code {rc}, E bit set")
EOF
}

start_hss

# 1. UAR, first registration
cx uar --impi "$U1" --impu "$P1"
expect "UAR first registration" result=2001 experimental=1 caps=1 cap_mandatory=1 \
    cap_server_name=sip:scscf.ims.test

# 2. MAR AKA
cx mar --impi "$U1" --impu "$P1" --k "$K" --op "$OP"
expect "MAR AKA" result=2001 experimental=0 items=1 scheme=Digest-AKAv1-MD5 \
    authenticate_len=32 xres_len=8 mac_ok=1 xres_ok=1 ck_ok=1 ik_ok=1
[ "$(f ck | wc -c)" -eq 33 ] && [ "$(f ik | wc -c)" -eq 33 ] || fail "CK/IK not 16 octets"
note_sqn
PY_SQN=$(milenage_check) || fail "independent Milenage disagrees with ims-hss"
[ "$PY_SQN" = "$(f sqn)" ] || fail "SQN: python $PY_SQN, cx-client $(f sqn)"
say "independent Milenage agrees: XRES, CK, IK, MAC-A, SQN $PY_SQN"
cx mar --impi "$U1" --impu "$T1" --k "$K" --op "$OP" --n 3
expect "MAR 3 vectors" result=2001 items=3 mac_ok=1 xres_ok=1
[ "$(printf '%s\n' "$OUT" | grep -c '^xres_ok=1$')" -eq 3 ] || fail "3 good vectors: $OUT"
for s in $(printf '%s\n' "$OUT" | sed -n 's/^sqn=//p'); do
    [ "$s" -gt "$MAX_SQN" ] || fail "SQN $s not above $MAX_SQN"
    MAX_SQN=$s
done

# 3. SAR, then UAR/LIR see the registration; de-registration
cx sar --impi "$U1" --impu "$P1" --type 1
expect "SAR REGISTRATION" result=2001 experimental=0 "user_name=$U1"
ud=$(f user_data)
for id in "$P1" "$T1"; do
    case "$ud" in *"<Identity>$id</Identity>"*) ;; *) fail "User-Data lacks $id: $ud" ;; esac
done
case "$ud" in "<?xml"*"<IMSSubscription><PrivateID>$U1</PrivateID><ServiceProfile>"*) ;;
    *) fail "User-Data structure: $ud" ;; esac
say "User-Data holds $P1 and $T1 ($(f user_data_len) octets)"
cx uar --impi "$U1" --impu "$T1"
expect "UAR subsequent registration" result=2002 experimental=1 server_name=sip:scscf.ims.test
cx lir --impu "$T1"
expect "LIR registered" result=2001 experimental=0 server_name=sip:scscf.ims.test
cx sar --impi "$U1" --impu "$P1" --type 5
expect "SAR USER_DEREGISTRATION" result=2001 experimental=0
cx lir --impu "$P1"
expect "LIR after de-registration" result=5003 experimental=1

# 4. errors
cx uar --impi nobody@ims.test --impu sip:nobody@ims.test
expect "UAR unknown user" result=5001 experimental=1
cx mar --impi nobody@ims.test --impu sip:nobody@ims.test
expect "MAR unknown user" result=5001 experimental=1
cx lir --impu sip:nobody@ims.test
expect "LIR unknown user" result=5001 experimental=1
cx uar --impi "$U1" --impu sip:alice@ims.test
expect "UAR identities do not match" result=5002 experimental=1
cx uar --impi alice@ims.test --impu tel:+100
expect "UAR barred IMPU" result=5003 experimental=0
cx mar --impi alice@ims.test --impu sip:alice@ims.test --scheme NASS-Bundled
expect "MAR unsupported scheme" result=5006 experimental=1
RAW=$(raw_checks 2>&1) || fail "raw Diameter checks: $RAW"
say "$(echo $RAW)"

# 5. SIP Digest
cx mar --impi alice@ims.test --impu sip:alice@ims.test --scheme "SIP Digest"
want=$(printf 'alice@ims.test:ims.test:pw' | md5sum | cut -d' ' -f1)
expect "MAR SIP Digest" result=2001 "scheme=SIP Digest" digest_realm=ims.test \
    digest_algorithm=MD5 digest_qop=auth "digest_ha1=$want"

# 6. resync
SQN_MS=$((32 * 100000))
cx mar --impi "$U1" --impu "$P1" --k "$K" --op "$OP" --resync "$SQN_MS"
expect "MAR resync" first_result=2001 result=2001 mac_ok=1 xres_ok=1 "sqn=$((SQN_MS + 32))"
note_sqn
cx mar --impi "$U1" --impu "$P1" --k "$K" --op "$OP" --resync "$SQN_MS" --bad-auts
expect "MAR resync with a bad MAC-S" first_result=2001 result=4001 experimental=0
first=$(f first_sqn)
[ "$first" -gt "$MAX_SQN" ] || fail "first_sqn $first not above $MAX_SQN"
MAX_SQN=$first

# 7. control socket: stats, PPR and RTR to cx-client as the S-CSCF
CTL=$STATE/hss.ctl
st=$("$HSS" --ctl "$CTL" stats) || fail "ctl stats: $st"
case "$st" in *" mar=9 "*" redraws="*" resyncs=1 "*" errors=1 "*) ;; *) fail "stats: $st" ;; esac
say "stats: $st"
SERVE_OUT=$IT_WORK/serve.out
"$CX" --hss "127.0.0.1:$PORT" --hss-host hss.ims.test --realm ims.test \
    --origin-host scscf.ims.test --timeout 20000 serve --count 2 >"$SERVE_OUT" 2>&1 &
SERVE_PID=$!
track "$SERVE_PID" cx-client-serve "$SERVE_OUT"
for ((i = 0; i < 100; i++)); do grep -q '^ready=1' "$SERVE_OUT" && break; sleep 0.05; done
grep -q '^ready=1' "$SERVE_OUT" || fail "cx-client serve did not connect"
cx sar --impi alice@ims.test --impu sip:alice@ims.test --type 1
expect "SAR REGISTRATION alice" result=2001
r=$("$HSS" --ctl "$CTL" "ppr alice@ims.test") || fail "ctl ppr: $r"
[ "$r" = "ok 2001" ] || fail "ppr reply: $r"
r=$("$HSS" --ctl "$CTL" "rtr alice@ims.test 1") || fail "ctl rtr: $r"
[ "$r" = "ok 2001" ] || fail "rtr reply: $r"
for ((i = 0; i < 100; i++)); do alive "$SERVE_PID" || break; sleep 0.05; done
wait "$SERVE_PID" || fail "cx-client serve failed: $(cat "$SERVE_OUT")"
untrack "$SERVE_PID"
for kv in request=PPR request=RTR user_name=alice@ims.test reason=1 \
    public_identity=sip:alice@ims.test public_identity=tel:+100; do
    grep -qxF "$kv" "$SERVE_OUT" || fail "S-CSCF side lacks $kv: $(cat "$SERVE_OUT")"
done
grep -q '^user_data_len=[1-9]' "$SERVE_OUT" || fail "PPR without User-Data"
say "PPR and RTR reached the S-CSCF, control socket replied ok 2001"
cx uar --impi alice@ims.test --impu sip:alice@ims.test
expect "UAR after RTR" result=2001 experimental=1
r=$("$HSS" --ctl "$CTL" "rtr nobody@ims.test 0") && fail "rtr for an unknown user: $r"
r=$("$HSS" --ctl "$CTL" "show $U1") || fail "ctl show: $r"
case "$r" in "ok state=not-registered scscf=- pending=sip:scscf.ims.test sqn="*) ;;
    *) fail "show: $r" ;; esac

# 8. SQN persistence across a clean restart and a crash
stop_proxy "$HSS_PID"
start_hss
cx mar --impi "$U1" --impu "$P1" --k "$K" --op "$OP"
expect "MAR after restart" result=2001 xres_ok=1
[ "$(f sqn)" -gt "$MAX_SQN" ] || fail "SQN $(f sqn) after restart, not above $MAX_SQN"
say "SQN after restart $(f sqn) > $MAX_SQN"
MAX_SQN=$(f sqn)
for ((i = 0; i < 25; i++)); do   # cross a block (20) so that a fresh mark is written
    cx mar --impi "$U1" --impu "$P1" --k "$K" --op "$OP"
    note_sqn
done
kill -KILL "$HSS_PID"
wait "$HSS_PID" 2>/dev/null
untrack "$HSS_PID"
start_hss
cx mar --impi "$U1" --impu "$P1" --k "$K" --op "$OP"
expect "MAR after SIGKILL" result=2001 xres_ok=1
[ "$(f sqn)" -gt "$MAX_SQN" ] || fail "SQN $(f sqn) after SIGKILL, not above $MAX_SQN"
say "SQN after SIGKILL $(f sqn) > $MAX_SQN"
stop_proxy "$HSS_PID"

ok "UAR/MAR/SAR/LIR answers, errors 5001/5002/5003/5005/5006/3001/4001, AKA vectors" \
    "match an independent Milenage, resync, RTR/PPR via the control socket, SQN never" \
    "reused across restart and SIGKILL"
