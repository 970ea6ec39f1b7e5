#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# SQN resynchronisation end to end (TS 33.102 6.3.5, RFC 3310 3.4) through P-CSCF -> I-CSCF ->
# S-CSCF and ims-hss (lab configuration on 127.0.1.x, lib/reg.sh). sipp never sends AUTS, so
# the handset is tests/tools/aka_ue.py (Milenage self-tested against TS 35.208 set 1) whose
# stored SQN_MS is far above the HSS's: it refuses the first challenge with AUTS and an
# empty-password digest; the S-CSCF sends a MAR with RAND||AUTS, the HSS resynchronises, and
# the new 401 carries an SQN above SQN_MS, which the handset accepts: 200 OK. Checked on
# both sides: the handset's transcript and the HSS's "resync" log line.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 17400
UE=$IMS_SOURCE_DIR/tests/tools/aka_ue.py
SQN_MS=1000000

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_lab_start
IMPI=$(reg_impi 41)

python3 "$UE" --pcscf "$REG_P:5060" --local "$REG_UE" --domain "$REG_DOMAIN" \
    --impi "$IMPI" --impu "$(reg_impu 41)" --k "$REG_KHEX" --op "$REG_OPHEX" \
    --sqn-ms "$SQN_MS" --selftest "$IMS_SOURCE_DIR/../shared/vectors/milenage.json" \
    >"$IT_WORK/ue.out" 2>&1
RC=$?
sed 's/^/    /' "$IT_WORK/ue.out"
[ "$RC" -eq 0 ] || fail "resync registration failed: $(tail -1 "$IT_WORK/ue.out")"
grep -q '^sent REGISTER cseq=2 auts' "$IT_WORK/ue.out" || fail "the handset never sent AUTS"
mapfile -t sqns < <(sed -n 's/^recv 401 sqn=//p' "$IT_WORK/ue.out")
say "challenge SQNs: ${sqns[*]} (handset SQN_MS $SQN_MS)"
[ "${#sqns[@]}" -eq 2 ] || fail "want exactly 2 challenges (stale, resynchronised), got ${#sqns[@]}"
[ "${sqns[0]}" -le "$SQN_MS" ] || fail "first challenge SQN ${sqns[0]} not stale"
[ "${sqns[1]}" -gt "$SQN_MS" ] || fail "after AUTS the SQN ${sqns[1]} is still <= $SQN_MS"
line=$(grep "MAR for $IMPI: resync" "$REG_DIR/ims-hss.log" | tail -1)
say "ims-hss: ${line#*] }"
[ -n "$line" ] || fail "ims-hss logged no resync for $IMPI"
out=$(reg_hss_show 41)
say "ims-hss: $out"
[[ $out == *state=registered* ]] || fail "not registered at the HSS after the resync: $out"

reg_lab_stop
ok "SQN resync: AUTS accepted, new challenge SQN ${sqns[1]} > $SQN_MS, registered"
