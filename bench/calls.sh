#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark (prints figures, not a pass/fail test): voice call setups through the whole IMS
# core on this machine (the lab of tests/integration/lib/reg.sh on 127.0.1.x), with
# BENCH_UES (2 000) handsets registered with IMS AKA.
#
# Who is who: the called handsets are BENCH_UES subscribers whose Contact is one sipp UAS
# (bench/sipp/uas_ims.xml, 127.0.1.200:5090) that answers for all of them; the calling
# handsets are BENCH_CALLERS more subscribers, each a sipp UAC that registered from its own
# address and port and calls from there (the P-CSCF knows a handset by its address and port;
# sipp cannot give each call of one run its own registered address). Each call:
#   INVITE -> P-CSCF -> S-CSCF (originating) -> [I-CSCF (LIR) -> S-CSCF (terminating)]
#          -> P-CSCF -> UAS: 180, 200; ACK; BYE_HOLD_MS (10 s) later BYE -> 200,
# in-dialog requests along the Record-Route set; the callee is drawn in turn from the
# registered ones.
#
# For each rate (calls/s shared by the callers): calls attempted and failed, the rate
# achieved, p50/p99/max post-dial delay (INVITE to 180 at the caller, sipp rtd, 1 ms
# resolution), and the CPU time per call of each daemon (P, I, S and ims-hss) and of the
# three CSCFs together. Then the highest rate sustained (< 1 % failures, >= 95 % achieved).
# Targets (issue 5): >= 1 200 call setups/s, p99 INVITE->180 <= 10 ms at 600/s, <= 0.5 ms CPU
# per call over the daemons.
#
# Usage: bench/calls.sh [BUILD_DIR]   (default: $IMS_BUILD_DIR, else ./build/release)
# Environment: BENCH_RATES="300 600 ..." (the ramp stops after two steps in a row not
# sustained), BENCH_SECONDS=10 per step, BENCH_HOLD_MS=10000, BENCH_UES=2000, BENCH_CALLERS=2.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMS_SOURCE_DIR=$ROOT
IMS_BUILD_DIR=$(cd "${1:-${IMS_BUILD_DIR:-$ROOT/build/release}}" 2>/dev/null && pwd) ||
    { echo "build dir ${1:-${IMS_BUILD_DIR:-$ROOT/build/release}} not found" >&2; exit 1; }
export IMS_SOURCE_DIR IMS_BUILD_DIR
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib/common.sh
. "$ROOT/tests/integration/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib/reg.sh
. "$ROOT/tests/integration/lib/reg.sh"
it_init 18900
REG_LOG_LEVEL=notice
REG_HSS_LOG_LEVEL=info

RATES=(${BENCH_RATES:-300 600 900 1200 1500 2000 2500})
SECS=${BENCH_SECONDS:-10}
HOLD=${BENCH_HOLD_MS:-10000}
NUES=${BENCH_UES:-2000}
NCALLERS=${BENCH_CALLERS:-2}
HZ=$(getconf CLK_TCK)
UAS_IP=127.0.1.200 UAS_PORT=5090
BSCEN=$ROOT/bench/sipp

cache=$IMS_BUILD_DIR/CMakeCache.txt
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache" 2>/dev/null)
sanit=$(sed -n 's/^IMS_SANITIZE:[A-Z]*=//p' "$cache" 2>/dev/null)
say "build $IMS_BUILD_DIR: type ${btype:-unknown}, IMS_SANITIZE=${sanit:-unknown}"
case "$sanit" in ON | 1 | TRUE) say "WARNING: sanitizer build: figures are meaningless" ;; esac

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
FIRST=200001
sed -i -E "s/imsi_from = \"001010000000001\"; count = [0-9]+;/$(
    )imsi_from = \"0010100$(printf %08d $FIRST)\"; count = $((NUES + NCALLERS + 10));/" \
    "$REG_DIR/hss.cfg"
grep -q "count = $((NUES + NCALLERS + 10));" "$REG_DIR/hss.cfg" || fail "cannot resize the range"
reg_lab_start

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
percentile() {
    sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
        if (!NR) { print "-"; exit } i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'
}
# bsipp NAME IP PORT [args...]: a sipp on IP:PORT toward the P-CSCF, in the background
# (SIPP_PID, SIPP_TAG); UDP from that one socket.
bsipp() {
    local name=$1 ip=$2 port=$3 cp
    shift 3
    pick_port_into cp
    IT_NEXT_PORT=$((IT_NEXT_PORT + 6))
    SIPP_TAG=$IT_WORK/$name
    (cd "$IT_WORK" && exec sipp -t u1 -i "$ip" -p "$port" -s "$REG_DOMAIN" -nostdin \
        -ci 127.0.0.2 -cp "$cp" -mp $((cp + 1)) -trace_stat -stf "$SIPP_TAG.csv" -fd 1 \
        -trace_err -error_file "$SIPP_TAG.errors" -buff_size 4194304 "$@") \
        >"$SIPP_TAG.out" 2>&1 &
    SIPP_PID=$!
    track "$SIPP_PID" "sipp-$name" "$SIPP_TAG.errors"
}

# 1. the UAS every callee's Contact names
bsipp uas "$UAS_IP" "$UAS_PORT" -sf "$BSCEN/uas_ims.xml" -max_socket 100
UAS_PID=$SIPP_PID
wait_listen "$UAS_PID" udp "$UAS_PORT"

# 2. the callees: NUES registrations, Contact the UAS
say "registering $NUES called handsets (Contact $UAS_IP:$UAS_PORT)"
reg_users_csv "$IT_WORK/callees.inf" "$FIRST" "$NUES"
REG_MAX_SOCKET=10000 reg_sipp callees ../../bench/sipp/reg_aka_contact.xml "$NUES" 120 \
    -inf "$IT_WORK/callees.inf" -r 1000 -key expires 3600 \
    -key contact "$UAS_IP:$UAS_PORT" -auth_uri "sip:$REG_DOMAIN" -recv_timeout 5000 -nd
reg_expect_ok "$NUES callees registered" "$NUES"
awk -F';' 'NR > 1 { print $4 }' "$IT_WORK/callees.inf" >"$IT_WORK/callee-impus"
{ echo SEQUENTIAL; cat "$IT_WORK/callee-impus"; } >"$IT_WORK/targets.csv"

# 3. the callers: each registers from its own address and port, then calls from there
declare -a CIP CIMPU
for ((j = 0; j < NCALLERS; j++)); do
    CIP[j]=127.0.1.$((110 + j))
    reg_users_csv "$IT_WORK/caller-$j.inf" $((FIRST + NUES + j)) 1
    CIMPU[j]=$(awk -F';' 'NR == 2 { print $4 }' "$IT_WORK/caller-$j.inf")
    bsipp "caller-reg-$j" "${CIP[j]}" 5070 -sf "$SIPP_SCEN_DIR/reg_aka.xml" -m 1 \
        -inf "$IT_WORK/caller-$j.inf" -key expires 3600 -auth_uri "sip:$REG_DOMAIN" \
        -timeout 20s -timeout_error "$REG_P:5060"
    wait "$SIPP_PID"
    rc=$?
    untrack "$SIPP_PID"
    expect_calls "$SIPP_TAG" "$rc" 1 "caller ${CIMPU[j]} registered from ${CIP[j]}:5070"
done

DAEMONS=(pcscf icscf scscf ims-hss)
ROWS=()
BEST=
BAD=0
for ((s = 0; s < ${#RATES[@]}; s++)); do
    rate=${RATES[s]} n=$((RATES[s] * SECS))
    say "rate $rate calls/s: $n calls, hold ${HOLD} ms, $NCALLERS callers"
    declare -A T0=()
    for d in "${DAEMONS[@]}"; do T0[$d]=$(ticks "${REG_PID[$d]}"); done
    pids=() tags=()
    t0=$(date +%s%N)
    for ((j = 0; j < NCALLERS; j++)); do
        m=$((n / NCALLERS + (j < n % NCALLERS ? 1 : 0)))
        r=$((rate / NCALLERS + (j < rate % NCALLERS ? 1 : 0)))
        bsipp "s$s-$j" "${CIP[j]}" 5070 -sf "$BSCEN/uac_ims_call.xml" -m "$m" -r "$r" \
            -d "$HOLD" -inf "$IT_WORK/targets.csv" -key caller "${CIMPU[j]}" \
            -max_socket 100 -recv_timeout 8000 -timeout $((SECS + HOLD / 1000 + 40))s \
            -trace_rtt -rtt_freq 200 -nd "$REG_P:5060"
        pids+=("$SIPP_PID") tags+=("$SIPP_TAG")
    done
    okc=0 failc=0
    for ((j = 0; j < NCALLERS; j++)); do
        wait "${pids[j]}" 2>/dev/null
        untrack "${pids[j]}"
        okc=$((okc + $(stat_of "${tags[j]}" 'SuccessfulCall(C)' || echo 0)))
        failc=$((failc + $(stat_of "${tags[j]}" 'FailedCall(C)' || echo 0)))
    done
    el=$((($(date +%s%N) - t0) / 1000000 - HOLD))
    : >"$IT_WORK/rtt-$s"
    for f in "$IT_WORK"/uac_ims_call_*_rtt.csv; do
        [ -f "$f" ] || continue
        awk -F';' 'NR > 1 && $3 == 1 { print $2 }' "$f" >>"$IT_WORK/rtt-$s"
        mv "$f" "$f.step$s"
    done
    # per_call TICKS: microseconds of CPU per successful call.
    per_call() {
        awk -v t="$1" -v hz="$HZ" -v o="$okc" 'BEGIN { printf "%.0f", o ? t * 1e6 / hz / o : 0 }'
    }
    declare -A US=()
    cs=0
    for d in "${DAEMONS[@]}"; do
        t=$(($(ticks "${REG_PID[$d]}") - T0[$d]))
        US[$d]=$(per_call "$t")
        [ "$d" = ims-hss ] || cs=$((cs + t))
    done
    csum=$(per_call "$cs")
    att=$((okc + failc))
    [ "$att" -gt 0 ] || att=1
    pct=$(awk -v f="$failc" -v a="$att" 'BEGIN { printf "%.2f", 100 * f / a }')
    achieved=$(awk -v o="$okc" -v e="$el" \
        'BEGIN { printf "%.0f", (e > 0 ? o * 1000 / e : 0) }')
    p50=$(percentile "$IT_WORK/rtt-$s" 50) p99=$(percentile "$IT_WORK/rtt-$s" 99)
    mx=$(percentile "$IT_WORK/rtt-$s" 100)
    say "  ok $okc failed $failc ($pct %), $achieved/s, PDD p50 $p50 p99 $p99 max $mx ms," \
        "CPU/call P ${US[pcscf]} I ${US[icscf]} S ${US[scscf]} HSS ${US[ims-hss]} us"
    ROWS+=("$(printf '%6s %7s %7s %7s%% %8s %6s %6s %6s %7s %7s %7s %7s %8s' "$rate" "$n" \
        "$okc" "$pct" "$achieved" "$p50" "$p99" "$mx" "${US[pcscf]}" "${US[icscf]}" \
        "${US[scscf]}" "${US[ims-hss]}" "$csum")")
    if awk -v p="$pct" -v a="$achieved" -v r="$rate" 'BEGIN { exit !(p < 1 && a >= 0.95 * r) }'
    then
        BEST=$rate BAD=0
    else
        BAD=$((BAD + 1))
        [ "$BAD" -ge 2 ] && { say "two steps in a row not sustained: stopping the ramp"; break; }
    fi
done
kill "$UAS_PID" 2>/dev/null
wait "$UAS_PID" 2>/dev/null
untrack "$UAS_PID"
echo
echo "IMS calls (INVITE/180/200/ACK, ${HOLD} ms hold, BYE) with $NUES registered callees," \
    "$NCALLERS callers, $(nproc) cores shared with sipp"
printf '%6s %7s %7s %8s %8s %6s %6s %6s %7s %7s %7s %7s %8s\n' rate/s calls ok failed \
    achieved "PDD50" "PDD99" "max" "P us" "I us" "S us" "HSS us" "CSCFs us"
for r in "${ROWS[@]}"; do echo "$r"; done
echo "highest call setup rate sustained (< 1 % failures, >= 95 % achieved): ${BEST:-none}/s"
reg_lab_stop
ok "calls benchmark done"
