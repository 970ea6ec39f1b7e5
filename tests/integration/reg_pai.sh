#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Identity assertion at the P-CSCF (TS 24.229 5.2.2, RFC 3325): a handset's REGISTER carrying a
# forged P-Asserted-Identity (and P-Preferred-Identity) never reaches the S-CSCF with it.
# tshark captures everything to and from the S-CSCF (127.0.1.30 port 5060, lab configuration
# on 127.0.1.x, lib/reg.sh) while tests/tools/aka_ue.py registers with IMS AKA, sending the
# forged headers on both REGISTERs. Checked: the registration succeeds; the capture holds the
# REGISTERs that reached the S-CSCF (so the check is not vacuous); no packet to the S-CSCF
# contains the forged identity, nor a P-Preferred-Identity.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 17600
command -v tshark >/dev/null || fail "tshark not found in PATH"
UE=$IMS_SOURCE_DIR/tests/tools/aka_ue.py
FORGED=sip:forged-boss@evil.example

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_lab_start

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
# "Capturing on" is printed as dumpcap opens the interface; on a loaded machine the
# first packets after it can still be missed: give it a moment.
sleep 1

python3 "$UE" --pcscf "$REG_P:5060" --local "$REG_UE" --domain "$REG_DOMAIN" \
    --impi "$(reg_impi 61)" --impu "$(reg_impu 61)" --k "$REG_KHEX" --op "$REG_OPHEX" \
    --pai "$FORGED" >"$IT_WORK/ue.out" 2>&1
RC=$?
sed 's/^/    /' "$IT_WORK/ue.out"
sleep 1
kill -INT "$TSHARK_PID"
wait "$TSHARK_PID" 2>/dev/null
untrack "$TSHARK_PID"
[ "$RC" -eq 0 ] || fail "registration with a forged P-Asserted-Identity failed"

tshark -n -r "$PCAP" -d "udp.port==5060,sip" -Y "ip.dst == $REG_S" -V >"$IT_WORK/to-s.txt" 2>&1
nreg=$(grep -cE '^ *Request-Line: REGISTER ' "$IT_WORK/to-s.txt")
nforged=$(grep -ciF "forged-boss" "$IT_WORK/to-s.txt")
nppi=$(grep -ciE '^ *P-Preferred-Identity:' "$IT_WORK/to-s.txt")
pai=$(grep -iE '^ *P-Asserted-Identity:' "$IT_WORK/to-s.txt" | sort -u | sed 's/^ *//' | head -3)
say "packets to the S-CSCF: $nreg REGISTERs; forged identity seen $nforged times;" \
    "P-Preferred-Identity $nppi times; P-Asserted-Identity: ${pai:-<none>}"
[ "$nreg" -ge 2 ] || fail "the capture holds $nreg REGISTERs to the S-CSCF (want >= 2)"
[ "$nforged" -eq 0 ] || fail "the forged identity reached the S-CSCF: \
$(grep -iF forged-boss "$IT_WORK/to-s.txt" | head -3)"
[ "$nppi" -eq 0 ] || fail "a P-Preferred-Identity reached the S-CSCF"

reg_lab_stop
ok "forged P-Asserted-Identity stripped: $nreg REGISTERs reached the S-CSCF without it"
