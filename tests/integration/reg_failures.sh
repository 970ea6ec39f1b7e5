#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Registration failures end to end (P-CSCF -> I-CSCF -> S-CSCF, ims-hss; lab configuration on
# 127.0.1.x, lib/reg.sh), driven by tests/tools/aka_ue.py (sipp refuses to answer a challenge
# whose MAC it cannot verify, so it cannot send a wrong RES). Checked:
#   1. wrong RES: the first wrong answer gets 401 again (a new challenge), and after the
#      S-CSCF's configured number of attempts the answer is 403;
#   2. unknown IMPI -> 403 (UAR 5001);
#   3. barred IMPU (tel:+15559009001 of subscriber 9001) -> 403;
#   4. HSS down (SIGSTOP): a REGISTER gets 500 with Retry-After, within the I-CSCF's Diameter
#      request timeout + 1 s; after SIGCONT the very next REGISTER succeeds, nothing restarted.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 17300
UE=$IMS_SOURCE_DIR/tests/tools/aka_ue.py

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
# The I-CSCF gives up on the HSS after this (ms); keep the test short.
TMO_MS=2000
reg_cfg_put icscf diameter request_timeout_ms "$TMO_MS"
# Wrong answers the S-CSCF takes from one handset before 403.
ATT=3
reg_cfg_put scscf scscf max_auth_attempts "$ATT"
reg_lab_start

# ue NAME N [aka_ue args...]: register demo subscriber N (or IMPI when N has an @) with
# aka_ue.py; output in $IT_WORK/NAME.out and $OUT, exit status in $RC.
ue() {
    local name=$1 n=$2 impi impu
    shift 2
    if [[ $n == *@* ]]; then
        impi=$n impu=sip:$n
    else
        impi=$(reg_impi "$n") impu=$(reg_impu "$n")
    fi
    python3 "$UE" --pcscf "$REG_P:5060" --local "$REG_UE" --domain "$REG_DOMAIN" \
        --impi "$impi" --impu "$impu" --k "$REG_KHEX" --op "$REG_OPHEX" "$@" \
        >"$IT_WORK/$name.out" 2>&1
    RC=$?
    OUT=$(cat "$IT_WORK/$name.out")
    sed 's/^/    /' "$IT_WORK/$name.out"
}

# 1. Wrong RES.
say "1. wrong RES (handset 31)"
ue wrongres 31 --wrong-res --expect 403 --max-rounds 10
n401=$(grep -c '^recv 401' "$IT_WORK/wrongres.out")
nwrong=$(grep -c 'res=wrong' "$IT_WORK/wrongres.out")
say "wrong RES: $nwrong wrong answers, $((n401 - 1)) re-challenges, final: $(tail -1 <<<"$OUT")"
[ "$RC" -eq 0 ] || fail "wrong RES did not end with 403"
[ "$n401" -ge 2 ] || fail "a wrong RES was not re-challenged with 401 before the 403"
say "S-CSCF max_auth_attempts: $ATT"
[ "$nwrong" -eq "$ATT" ] || fail "403 after $nwrong wrong answers, configured $ATT"
[ "$(reg_hss_show 31 | grep -c 'state=registered')" -eq 0 ] || fail "handset 31 registered"

# 2. Unknown IMPI.
say "2. unknown IMPI"
ue unknown "001010000099999@$REG_DOMAIN" --expect 403
[ "$RC" -eq 0 ] || fail "unknown IMPI: want 403, got: $(tail -1 <<<"$OUT")"

# 3. Barred IMPU.
say "3. barred IMPU tel:+15559009001"
python3 "$UE" --pcscf "$REG_P:5060" --local "$REG_UE" --domain "$REG_DOMAIN" \
    --impi "001010000009001@$REG_DOMAIN" --impu "tel:+15559009001" --k "$REG_KHEX" \
    --op "$REG_OPHEX" --expect 403 >"$IT_WORK/barred.out" 2>&1
RC=$?
sed 's/^/    /' "$IT_WORK/barred.out"
[ "$RC" -eq 0 ] || fail "barred IMPU: want 403, got: $(tail -1 "$IT_WORK/barred.out")"

# 4. HSS down, then back.
say "4. ims-hss stopped (SIGSTOP)"
kill -STOP "${REG_PID[ims-hss]}"
t0=$(date +%s%N)
ue hssdown 32 --expect 500 --timeout 15
ms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "${REG_PID[ims-hss]}"
say "HSS down: answered after $ms ms (I-CSCF timeout $TMO_MS ms): $(grep '^recv' <<<"$OUT")"
[ "$RC" -eq 0 ] || fail "HSS down: want 500, got: $(tail -1 <<<"$OUT")"
grep -q '^recv 500 retry-after=[0-9]' <<<"$OUT" || fail "500 without Retry-After"
[ "$ms" -le $((TMO_MS + 1000)) ] || fail "500 after $ms ms, configured timeout $TMO_MS ms"
say "ims-hss continued (SIGCONT): the next REGISTER"
ue back 33
[ "$RC" -eq 0 ] || fail "after the HSS came back, registration failed: $(tail -1 <<<"$OUT")"
reg_hss_show 33 | grep -q state=registered || fail "handset 33 not registered at the HSS"

reg_lab_stop
ok "wrong RES 401 then 403 ($nwrong attempts); unknown IMPI 403; barred IMPU 403;" \
    "HSS down 500 + Retry-After in $ms ms; recovered by itself"
