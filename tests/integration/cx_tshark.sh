#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Wireshark's view of a whole Cx exchange between cx-client (our Cx client on our peer layer)
# and ims-hss over TCP on loopback: every message we put on the wire must decode cleanly in an
# independent dissector, and carry the values the test asked for.
#
#   tshark captures lo for the HSS port; ims-hss starts; cx-client runs, one connection each:
#   UAR, MAR (Digest-AKAv1-MD5), SAR REGISTRATION (User-Data), LIR, MAR "SIP Digest",
#   SAR USER_DEREGISTRATION, UAR for an unknown user (Experimental-Result-Code 5001);
#   ims-hss stops (SIGTERM, exit 0); tshark stops (SIGINT).
# Then, from the capture (tshark -d tcp.port==P,diameter):
#   - every command is present as request and answer: 257 CER/CEA and 282 DPR/DPA once per
#     cx-client run, 300 UAR/UAA x2, 303 MAR/MAA x2, 301 SAR/SAA x2, 302 LIR/LIA x1; 280 DWR/DWA
#     are counted when present (Tw is 30 s, so normally none); each answer matches a request
#     by hop-by-hop and end-to-end id; no T flag;
#   - lib/tshark.sh's tshark_check_clean: no "Malformed Packet", no expert item of severity
#     Error;
#   - decoded fields: Origin-Host of the CER/CEA, Result-Code 2001 in the CEAs, User-Name and
#     Public-Identity of each request, 3GPP-SIP-Authentication-Scheme and Number-Auth-Items
#     of the MARs, Server-Assignment-Type 1 and 5, Server-Name, Experimental-Result-Code 2001
#     / 5001 of the UAAs, Result-Code 2001 of MAA/SAA/LIA; and the bytes Wireshark shows
#     (3GPP-SIP-Authenticate, 3GPP-SIP-Authorization, Confidentiality-Key, Integrity-Key,
#     Digest-HA1, Cx-User-Data) equal what cx-client parsed from the same answers.
# Needs root (capture on lo). Exit 1 on any failure.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tshark.sh"
it_init 16800

command -v tshark >/dev/null || fail "tshark not found in PATH"
HSS=$(bin ims-hss) || exit 1
CX=$(bin tests/cx-client) || exit 1
K=696d73636f72652d6c61622d6b657931
OP=696d73636f72652d6c61622d6f702d31
U1=001010000000001@ims.test
P1=sip:001010000000001@ims.test
T1=tel:+15550000001
SCSCF=sip:scscf.ims.test
PCAP=$IT_WORK/cx.pcap
pick_port_into PORT

cat >"$IT_WORK/hss.cfg" <<EOF
state_dir = "$IT_WORK/state";
home_domain = "ims.test";
sqn = { block = 20; fsync = false; };
diameter = { identity = "hss.ims.test"; realm = "ims.test"; listen = "127.0.0.1"; port = $PORT;
  peers = ( { host = "icscf.ims.test"; } ); };
scscfs = ( { name = "$SCSCF"; diameter_host = "scscf.ims.test"; } );
capabilities = { mandatory = ( 1 ); optional = ( ); };
subscribers = ( );
ranges = ( { imsi_from = "001010000000001"; count = 2; tel_prefix = "+1555";
  k = "$K"; op = "$OP"; amf = "8000"; sqn = 1; password = "secret"; } );
EOF

# ---- capture ----

start_capture() {
    tshark_capture_start "tcp port $PORT" "$PCAP"
    say "tshark pid $TSHARK_PID capturing lo, tcp port $PORT"
}
stop_capture() { tshark_capture_stop "$PCAP"; }

# ---- the exchange ----

# cx TAG ARGS...: run cx-client as the I-CSCF; output in $OUT, also saved as $IT_WORK/TAG.out.
RUNS=0
cx() {
    local tag=$1
    shift
    OUT=$("$CX" --hss "127.0.0.1:$PORT" --hss-host hss.ims.test --realm ims.test \
        --origin-host icscf.ims.test --server-name "$SCSCF" "$@" 2>&1)
    RC=$?
    RUNS=$((RUNS + 1))
    printf '%s\n' "$OUT" >"$IT_WORK/$tag.out"
    [ "$RC" -eq 0 ] || fail "$tag: cx-client exit $RC: $OUT"
}
# f KEY: the first value of KEY in $OUT.
# (Here-strings, not `printf | grep -q`: bash's printf writes line by line, so under pipefail
# a grep -q that matches and exits early can fail the pipeline with SIGPIPE.)
f() { awk -v k="$1=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' <<<"$OUT"; }
want() {
    local what=$1 kv
    shift
    for kv in "$@"; do
        grep -qxF -- "$kv" <<<"$OUT" || fail "$what: want $kv, got: $(echo $OUT)"
    done
}

start_capture
HSS_LOG=$IT_WORK/hss.log
"$HSS" -c "$IT_WORK/hss.cfg" -L info >"$HSS_LOG" 2>&1 &
HSS_PID=$!
track "$HSS_PID" ims-hss "$HSS_LOG"
wait_listen "$HSS_PID" tcp "$PORT"
say "ims-hss pid $HSS_PID listening on 127.0.0.1:$PORT"

cx uar uar --impi "$U1" --impu "$P1"
want UAR result=2001 experimental=1
cx mar_aka mar --impi "$U1" --impu "$P1" --k "$K" --op "$OP"
want "MAR AKA" result=2001 items=1 scheme=Digest-AKAv1-MD5 mac_ok=1 xres_ok=1 ck_ok=1 ik_ok=1
AKA_AUTH=$(f authenticate) AKA_XRES=$(f xres) AKA_CK=$(f ck) AKA_IK=$(f ik)
cx sar_reg sar --impi "$U1" --impu "$P1" --type 1
want "SAR REGISTRATION" result=2001 experimental=0
SAR_UD_LEN=$(f user_data_len)
cx lir lir --impu "$T1"
want LIR result=2001 "server_name=$SCSCF"
cx mar_digest mar --impi "$U1" --impu "$P1" --scheme "SIP Digest"
want "MAR SIP Digest" result=2001 "scheme=SIP Digest"
DIGEST_HA1=$(f digest_ha1)
cx sar_dereg sar --impi "$U1" --impu "$P1" --type 5
want "SAR USER_DEREGISTRATION" result=2001 experimental=0
cx uar_unknown uar --impi nobody@ims.test --impu sip:nobody@ims.test
want "UAR unknown user" result=5001 experimental=1
say "cx-client: $RUNS runs answered as expected"
stop_proxy "$HSS_PID"
stop_capture

# ---- what Wireshark saw ----

if grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$IT_WORK"/*.out; then
    fail "a cx-client output holds a sanitizer report"
fi
CHECK=$(tshark_check_clean "$PCAP" "$PORT") || fail "tshark_check_clean: $CHECK"
printf '%s\n' "$CHECK"

# One line per Diameter message, tab-separated; "," joins repeated occurrences of a field.
FIELDS=(frame.number diameter.cmd.code diameter.flags.request diameter.flags.T
    diameter.hopbyhopid diameter.endtoendid diameter.Origin-Host diameter.Result-Code
    diameter.Experimental-Result-Code diameter.User-Name diameter.Public-Identity
    diameter.3GPP-SIP-Authentication-Scheme diameter.3GPP-SIP-Number-Auth-Items
    diameter.Server-Assignment-Type diameter.Server-Name diameter.3GPP-SIP-Authenticate
    diameter.3GPP-SIP-Authorization diameter.Confidentiality-Key diameter.Integrity-Key
    diameter.Digest-HA1 diameter.Cx-User-Data)
targs=()
for fl in "${FIELDS[@]}"; do targs+=(-e "$fl"); done
TABLE=$IT_WORK/messages.tsv
tshark -n -r "$PCAP" -d "tcp.port==$PORT,diameter" -Y diameter -T fields -E separator=/t \
    -E occurrence=a -E aggregator=, "${targs[@]}" >"$TABLE" 2>"$IT_WORK/tshark-fields.err" ||
    fail "tshark -T fields failed: $(cat "$IT_WORK/tshark-fields.err")"

# The client sends one request at a time and each side answers at once, so a frame never holds
# two Diameter messages here; the per-field checks below rely on that.
multi=$(awk -F'\t' 'index($2, ",") { print $1 }' "$TABLE")
[ -z "$multi" ] || fail "frames holding several Diameter messages: $multi"

# col NAME: the column number of a field.
col() {
    local i
    for i in "${!FIELDS[@]}"; do
        [ "${FIELDS[$i]}" = "diameter.$1" ] && { echo $((i + 1)); return; }
    done
    fail "no column $1"
}
# msgs CODE R|A: the lines of that command's requests (R) or answers (A), in frame order.
msgs() {
    awk -F'\t' -v c="$1" -v r="$2" '$2 == c && (($3 == "1" || $3 == "True") == (r == "R"))' \
        "$TABLE"
}
# count CODE R|A
count() { msgs "$1" "$2" | grep -c .; }
# field CODE R|A N NAME: NAME in the Nth (1-based) such message.
field() {
    local c
    c=$(col "$4")
    msgs "$1" "$2" | sed -n "$3p" | cut -f "$c"
}
# expect_field CODE R|A N NAME VALUE [WHAT]
expect_field() {
    local got
    got=$(field "$1" "$2" "$3" "$4")
    [ "$got" = "$5" ] || fail "${6:-$1$2 #$3}: $4 is '$got', want '$5'"
}
# to_hex: Wireshark prints FT_BYTES as hex (sometimes with ':'); normalise to lower-case hex.
to_hex() { tr -d ':' | tr 'A-F' 'a-f'; }

# Commands and counts: RUNS connections, each CER/CEA ... DPR/DPA; DWR/DWA only in pairs.
ndw=$(count 280 R)
declare -A WANT=([257]=$RUNS [282]=$RUNS [300]=2 [303]=2 [301]=2 [302]=1)
summary=""
expected=$((2 * ndw))
for code in 257 282 300 303 301 302; do
    nr=$(count "$code" R)
    na=$(count "$code" A)
    [ "$nr" -eq "${WANT[$code]}" ] && [ "$na" -eq "${WANT[$code]}" ] ||
        fail "command $code: $nr requests and $na answers, want ${WANT[$code]} of each"
    summary+=" $code=${nr}R/${na}A"
    expected=$((expected + nr + na))
done
[ "$ndw" -eq "$(count 280 A)" ] || fail "DWR/DWA: $ndw DWRs, $(count 280 A) DWAs"
summary+=" 280=${ndw}R/$(count 280 A)A"
total=$(grep -c . "$TABLE")
[ "$total" -eq "$expected" ] ||
    fail "$total Diameter messages, want $expected: $(cut -f2,3 "$TABLE" | tr '\n\t' ' /')"

# Every answer matches exactly one earlier request of its command (hop-by-hop + end-to-end,
# unique per connection here since the client opens one connection per run); no T flag.
bad=$(awk -F'\t' '
    { req = ($3 == "1" || $3 == "True"); t = ($4 == "1" || $4 == "True") }
    t { print "frame " $1 ": T flag"; next }
    req { pend[$2 "/" $5 "/" $6]++; next }
    { k = $2 "/" $5 "/" $6
      if (pend[k] > 0) pend[k]--; else print "frame " $1 ": answer " k " without a request" }
    END { for (k in pend) if (pend[k] > 0) print "request " k " never answered" }' "$TABLE")
[ -z "$bad" ] || fail "request/answer pairing: $bad"

# Capabilities exchange: our identities, CEA 2001, every time.
for ((i = 1; i <= RUNS; i++)); do
    expect_field 257 R "$i" Origin-Host icscf.ims.test CER
    expect_field 257 A "$i" Origin-Host hss.ims.test CEA
    expect_field 257 A "$i" Result-Code 2001 CEA
    expect_field 282 A "$i" Result-Code 2001 DPA
done

# UAR / UAA
expect_field 300 R 1 User-Name "$U1" UAR
expect_field 300 R 1 Public-Identity "$P1" UAR
expect_field 300 A 1 Experimental-Result-Code 2001 "UAA (DIAMETER_FIRST_REGISTRATION)"
expect_field 300 R 2 User-Name nobody@ims.test "UAR unknown"
expect_field 300 R 2 Public-Identity sip:nobody@ims.test "UAR unknown"
expect_field 300 A 2 Experimental-Result-Code 5001 "UAA unknown (DIAMETER_ERROR_USER_UNKNOWN)"
expect_field 300 A 2 Result-Code "" "UAA unknown (no base Result-Code)"

# MAR / MAA, AKA then SIP Digest
expect_field 303 R 1 User-Name "$U1" MAR
expect_field 303 R 1 Public-Identity "$P1" MAR
expect_field 303 R 1 3GPP-SIP-Authentication-Scheme Digest-AKAv1-MD5 MAR
expect_field 303 R 1 3GPP-SIP-Number-Auth-Items 1 MAR
expect_field 303 R 1 Server-Name "$SCSCF" MAR
expect_field 303 A 1 Result-Code 2001 MAA
expect_field 303 A 1 3GPP-SIP-Authentication-Scheme Digest-AKAv1-MD5 MAA
expect_field 303 A 1 3GPP-SIP-Number-Auth-Items 1 MAA
[ "$(field 303 A 1 3GPP-SIP-Authenticate | to_hex)" = "$AKA_AUTH" ] ||
    fail "MAA SIP-Authenticate: $(field 303 A 1 3GPP-SIP-Authenticate), cx-client $AKA_AUTH"
[ ${#AKA_AUTH} -eq 64 ] || fail "SIP-Authenticate is not 32 octets: $AKA_AUTH"
[ "$(field 303 A 1 3GPP-SIP-Authorization | to_hex)" = "$AKA_XRES" ] ||
    fail "MAA SIP-Authorization (XRES) differs: $(field 303 A 1 3GPP-SIP-Authorization)"
[ "$(field 303 A 1 Confidentiality-Key | to_hex)" = "$AKA_CK" ] || fail "MAA CK differs"
[ "$(field 303 A 1 Integrity-Key | to_hex)" = "$AKA_IK" ] || fail "MAA IK differs"
expect_field 303 R 2 3GPP-SIP-Authentication-Scheme "SIP Digest" "MAR digest"
expect_field 303 A 2 Result-Code 2001 "MAA digest"
expect_field 303 A 2 3GPP-SIP-Authentication-Scheme "SIP Digest" "MAA digest"
expect_field 303 A 2 Digest-HA1 "$DIGEST_HA1" "MAA digest"
want_ha1=$(printf '%s:ims.test:secret' "$U1" | md5sum | cut -d' ' -f1)
[ "$DIGEST_HA1" = "$want_ha1" ] || fail "Digest-HA1 $DIGEST_HA1, want MD5(impi:realm:pw)"

# SAR / SAA: REGISTRATION with User-Data, then USER_DEREGISTRATION
expect_field 301 R 1 Server-Assignment-Type 1 "SAR REGISTRATION"
expect_field 301 R 1 User-Name "$U1" "SAR REGISTRATION"
expect_field 301 R 1 Public-Identity "$P1" "SAR REGISTRATION"
expect_field 301 R 1 Server-Name "$SCSCF" "SAR REGISTRATION"
expect_field 301 A 1 Result-Code 2001 "SAA REGISTRATION"
ud=$(field 301 A 1 Cx-User-Data | to_hex |
    python3 -c 'import sys; sys.stdout.write(bytes.fromhex(sys.stdin.read()).decode())') ||
    fail "Cx-User-Data is not hex: $(field 301 A 1 Cx-User-Data)"
[ "${#ud}" -eq "$SAR_UD_LEN" ] || fail "Cx-User-Data ${#ud} octets, cx-client $SAR_UD_LEN"
for s in "<PrivateID>$U1</PrivateID>" "<Identity>$P1</Identity>" "<Identity>$T1</Identity>"; do
    case "$ud" in *"$s"*) ;; *) fail "Cx-User-Data lacks $s: $ud" ;; esac
done
expect_field 301 R 2 Server-Assignment-Type 5 "SAR USER_DEREGISTRATION"
expect_field 301 A 2 Result-Code 2001 "SAA USER_DEREGISTRATION"
expect_field 301 A 2 Cx-User-Data "" "SAA USER_DEREGISTRATION"

# LIR / LIA
expect_field 302 R 1 Public-Identity "$T1" LIR
expect_field 302 A 1 Result-Code 2001 LIA
expect_field 302 A 1 Server-Name "$SCSCF" LIA

say "decoded fields: identities, SAT 1/5, schemes, AKA vector, HA1, User-Data ($SAR_UD_LEN" \
    "octets), Experimental-Result-Code 2001/5001 as sent and as cx-client parsed them"
ok "$total Diameter messages in $RUNS connections ($summary ), decoded clean by" \
    "$(tshark -v 2>/dev/null | head -n 1 | cut -d' ' -f1-3), fields as expected"
