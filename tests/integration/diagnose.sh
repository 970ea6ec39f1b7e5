#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Per-UE diagnosis (imsctl diagnose, scscf/diagnose.c and icscf/diagnose.c) on the private lab
# (lib/reg.sh): each failure is provoked for real with tests/tools/aka_ue.py or sipp, then the
# verdict for that UE is asserted at the CSCF that refused it, with the events behind it:
#   1. a good UE registers: "registered"; found by IMPI, by IMPU and by its address (ip:port
#      and ip alone); --json gives {verdict, events[]} with the challenge and the 200; at the
#      I-CSCF "registered: the S-CSCF ... answered 200" after a 401 from it;
#   2. wrong K (aka_ue --wrong-k: the UE finds the AUTN's MAC wrong and answers with neither
#      response nor AUTS, 24.229 5.1.1.5.3): 403 and "MAC mismatch: the UE's K/OPc differ
#      from the HSS's";
#   3. SQN out of range (aka_ue --sqn-ms far ahead): AUTS, resync MAR, 200, and "SQN out of
#      range: resynchronised with AUTS";
#   4. wrong digest password (sipp, bob): "wrong password (digest response mismatch)";
#   5. unknown IMPI: through P and I the I-CSCF's UAR gets 5001: the I-CSCF says "unknown
#      IMPI: the HSS does not know <impi>" (event hss-refused, code 5001), the S-CSCF never
#      sees it and says "nothing seen"; sent to the S-CSCF itself (as when no I-CSCF is on the
#      path) its MAR gets 5001 and the S-CSCF says "unknown IMPI" too;
#   6. HSS down (ims-hss SIGSTOPped): through P and I the UAR times out: 500 and, at the
#      I-CSCF, "HSS timeout: UAR: no answer from hss..."; sent to the S-CSCF itself: 500 and
#      "HSS timeout: MAR: ..." there; after SIGCONT the same UE registers through P and I and
#      its verdict is "registered" again at both;
#   7. unknown IMPU: an INVITE for sip:nobody@<domain> sent to the I-CSCF gets 404 (LIA 5001):
#      "unknown IMPU: the HSS does not know sip:nobody@<domain>" at the I-CSCF;
#   8. RTR: ims-hss de-registers a registered UE (rtr IMPI 0, PERMANENT_TERMINATION): the
#      S-CSCF says "de-registered by the HSS (RTR): PERMANENT_TERMINATION".
# The daemons must stop cleanly at the end.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
it_init 20300
UE=$IMS_SOURCE_DIR/tests/tools/aka_ue.py
IMSCTL=$(bin imsctl) || exit 1
command -v jq >/dev/null || fail "jq not found in PATH"

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
for d in scscf icscf; do reg_cfg_add "$d" "ctl = { socket = \"$REG_DIR/$d.ctl\"; };"; done
reg_lab_start
for d in scscf icscf; do [ -S "$REG_DIR/$d.ctl" ] || fail "no $d control socket"; done

# diag WHAT: the human-readable reply of imsctl diagnose WHAT at $AT (default the S-CSCF)
# into $DIAG (shown indented), its first line's verdict into $VERDICT.
diag() {
    local at=${AT:-scscf}
    DIAG=$("$IMSCTL" -s "$REG_DIR/$at.ctl" diagnose "$1" 2>&1) ||
        fail "imsctl diagnose $1 at $at failed: $DIAG"
    sed 's/^/    | /' <<<"$DIAG"
    VERDICT=$(head -n 1 <<<"$DIAG")
    [[ $VERDICT == "verdict: "* ]] || fail "diagnose $1: the first line is no verdict: $VERDICT"
    VERDICT=${VERDICT#verdict: }
}

# expect_verdict WHAT TEXT: the verdict for WHAT at $AT (default the S-CSCF) starts with TEXT.
expect_verdict() {
    diag "$1"
    [[ $VERDICT == "$2"* ]] ||
        fail "diagnose $1 at ${AT:-scscf}: verdict \"$VERDICT\", want \"$2...\""
    say "diagnose $1 at ${AT:-scscf}: $VERDICT"
}
# icscf_verdict WHAT TEXT: the same at the I-CSCF.
icscf_verdict() { AT=icscf expect_verdict "$@"; }

# ue NAME N VIA [aka_ue args...]: register demo subscriber N (or the IMPI N when it has an @)
# with aka_ue.py sending to VIA (host:port); output in $IT_WORK/NAME.out, exit status in $RC.
ue() {
    local name=$1 n=$2 via=$3 impi impu
    shift 3
    if [[ $n == *@* ]]; then
        impi=$n impu=sip:$n
    else
        impi=$(reg_impi "$n") impu=$(reg_impu "$n")
    fi
    python3 "$UE" --pcscf "$via" --local "$REG_UE" --domain "$REG_DOMAIN" \
        --impi "$impi" --impu "$impu" --k "$REG_KHEX" --op "$REG_OPHEX" "$@" \
        >"$IT_WORK/$name.out" 2>&1
    RC=$?
    sed 's/^/    /' "$IT_WORK/$name.out"
}

# 1. A good UE, on a known port.
say "1. good UE (subscriber 61)"
pick_port_into UPORT
ue good 61 "$REG_P:5060" --port "$UPORT"
[ "$RC" -eq 0 ] || fail "the good UE did not register: $(tail -1 "$IT_WORK/good.out")"
expect_verdict "$(reg_impi 61)" "registered"
expect_verdict "$(reg_impu 61)" "registered"
expect_verdict "$REG_UE:$UPORT" "registered"
grep -q "^impi: *$(reg_impi 61)\$" <<<"$DIAG" || fail "by address: not subscriber 61's record"
expect_verdict "$REG_UE" "registered"
js=$("$IMSCTL" -s "$REG_DIR/scscf.ctl" --json diagnose "$(reg_impi 61)") ||
    fail "imsctl --json diagnose failed: $js"
[ "$(jq -r '.data.verdict' <<<"$js")" = registered ] || fail "--json verdict: $js"
[ "$(jq -r '.data.address' <<<"$js")" = "$REG_UE:$UPORT" ] || fail "--json address: $js"
jq -e '.data.events | map(.event) | (index("challenge") != null) and
       (.[-1] == "registered")' <<<"$js" >/dev/null ||
    fail "--json events: want a challenge and then registered: $js"
jq -e '.data.events | all(has("time") and has("code") and has("detail"))' <<<"$js" \
    >/dev/null || fail "--json events lack time/code/detail: $js"
icscf_verdict "$(reg_impi 61)" "registered: the S-CSCF sip:scscf.$REG_DOMAIN answered 200"
js=$("$IMSCTL" -s "$REG_DIR/icscf.ctl" --json diagnose "$(reg_impu 61)") ||
    fail "imsctl --json diagnose at the I-CSCF failed: $js"
jq -e '[.data.events[] | .event + " " + (.code | tostring)] | . as $e |
       (index("answered 401") != null) and (.[-1] == "answered 200") and
       (index("forwarded 0") != null)' <<<"$js" >/dev/null ||
    fail "I-CSCF --json events: want forwarded, answered 401, answered 200: $js"

# 2. Wrong K.
say "2. wrong K (subscriber 62)"
ue wrongk 62 "$REG_P:5060" --wrong-k --expect 403
[ "$RC" -eq 0 ] || fail "wrong K: want 403, got: $(tail -1 "$IT_WORK/wrongk.out")"
grep -q '^sent REGISTER cseq=2 mac-failure' "$IT_WORK/wrongk.out" ||
    fail "the handset did not answer the MAC failure"
expect_verdict "$(reg_impi 62)" "MAC mismatch: the UE's K/OPc differ from the HSS's"

# 3. SQN out of range.
say "3. SQN out of range (subscriber 63)"
ue sqn 63 "$REG_P:5060" --sqn-ms 1000000
[ "$RC" -eq 0 ] || fail "resync registration failed: $(tail -1 "$IT_WORK/sqn.out")"
grep -q '^sent REGISTER cseq=2 auts' "$IT_WORK/sqn.out" || fail "the handset never sent AUTS"
expect_verdict "$(reg_impi 63)" "SQN out of range: resynchronised with AUTS"

# 4. Wrong digest password.
say "4. wrong digest password (bob)"
BOB=bob@$REG_DOMAIN
printf 'SEQUENTIAL\n%s;wrong;sip:%s;bob\n' "$BOB" "$BOB" >"$IT_WORK/bad.csv"
reg_sipp digestbad reg_digest.xml 1 10 -inf "$IT_WORK/bad.csv" -key expires 600 \
    -auth_uri "sip:$REG_DOMAIN"
[ "$SIPP_RC" -ne 0 ] || fail "a wrong digest password was accepted"
expect_verdict "$BOB" "wrong password (digest response mismatch)"

# 5. Unknown IMPI.
NOBODY=001010000099999@$REG_DOMAIN
say "5. unknown IMPI $NOBODY"
ue unknown "$NOBODY" "$REG_P:5060" --expect 403
[ "$RC" -eq 0 ] || fail "unknown IMPI through P/I: want 403, got: $(tail -1 "$IT_WORK/unknown.out")"
icscf_verdict "$NOBODY" "unknown IMPI: the HSS does not know $NOBODY"
grep -qE 'hss-refused +5001 +UAR: USER_UNKNOWN' <<<"$DIAG" ||
    fail "the I-CSCF's events do not show the UAA 5001"
expect_verdict "$NOBODY" "nothing seen: no REGISTER of $NOBODY reached this S-CSCF"
ue unknown-s "$NOBODY" "$REG_S:5060" --expect 403
[ "$RC" -eq 0 ] ||
    fail "unknown IMPI at the S-CSCF: want 403, got: $(tail -1 "$IT_WORK/unknown-s.out")"
expect_verdict "$NOBODY" "unknown IMPI: the HSS does not know $NOBODY"

# 6. HSS down, then back.
say "6. ims-hss stopped (SIGSTOP)"
kill -STOP "${REG_PID[ims-hss]}"
ue hssdown-i 65 "$REG_P:5060" --expect 500 --timeout 15
RC_I=$RC
ue hssdown 64 "$REG_S:5060" --expect 500 --timeout 15
kill -CONT "${REG_PID[ims-hss]}"
[ "$RC_I" -eq 0 ] ||
    fail "HSS down through P/I: want 500, got: $(tail -1 "$IT_WORK/hssdown-i.out")"
[ "$RC" -eq 0 ] || fail "HSS down: want 500, got: $(tail -1 "$IT_WORK/hssdown.out")"
icscf_verdict "$(reg_impi 65)" "HSS timeout: UAR: no answer from hss.$REG_DOMAIN"
expect_verdict "$(reg_impi 65)" "nothing seen"
expect_verdict "$(reg_impi 64)" "HSS timeout: MAR: no answer from hss.$REG_DOMAIN"
say "ims-hss continued (SIGCONT): subscriber 64 again"
ue hssback 64 "$REG_P:5060"
[ "$RC" -eq 0 ] || fail "after the HSS came back: $(tail -1 "$IT_WORK/hssback.out")"
expect_verdict "$(reg_impi 64)" "registered"
icscf_verdict "$(reg_impi 64)" "registered: the S-CSCF"

# 7. Unknown IMPU: a terminating INVITE straight to the I-CSCF.
say "7. unknown IMPU sip:nobody@$REG_DOMAIN (INVITE to the I-CSCF)"
sess_steps_fail "sip:caller@example.net" 404 | sess_scenario uac_404
pick_port_into CPORT
SESS_TO=$REG_I:5060 sess_uac nobody uac_404 "$REG_UE" "$CPORT" 1 "sip:nobody@$REG_DOMAIN"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "7. INVITE for sip:nobody@$REG_DOMAIN answered 404"
icscf_verdict "sip:nobody@$REG_DOMAIN" \
    "unknown IMPU: the HSS does not know sip:nobody@$REG_DOMAIN (LIR: USER_UNKNOWN)"

# 8. RTR: the HSS de-registers subscriber 61.
say "8. RTR for $(reg_impi 61) (PERMANENT_TERMINATION)"
r=$(reg_hss rtr "$(reg_impi 61)" 0)
[[ $r == ok* ]] || fail "ims-hss rtr: $r"
for ((i = 0; i < 100; i++)); do
    diag "$(reg_impi 61)" >/dev/null
    [[ $VERDICT == "de-registered by the HSS"* ]] && break
    sleep 0.05
done
expect_verdict "$(reg_impi 61)" "de-registered by the HSS (RTR): PERMANENT_TERMINATION"

reg_lab_stop
ok "verdicts: registered (by IMPI, IMPU, ip:port, ip; --json; S and I), MAC mismatch" \
    "(wrong K), SQN resynchronised, wrong digest password, unknown IMPI (UAA 5001 at the" \
    "I-CSCF; MAR 5001 at the S-CSCF), HSS timeout (UAR at I, MAR at S), registered again," \
    "unknown IMPU (LIA 5001 at I), RTR at S"
