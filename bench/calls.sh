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
# BENCH_CALLGRIND=1: the three CSCFs run under valgrind's callgrind with its cache model, at
# a low rate (defaults: 20 calls/s, 50 callees, 1 s hold), and each step also prints the
# instructions and the simulated L1/last-level data-cache misses per call of each CSCF. CPU
# seconds depend on what else the machine runs; these counts do not, so they tell whether a
# change to a hot path helps even on a busy machine (the CPU columns are then meaningless).
# BENCH_CPUS="D:S" (default "0:1" on a machine with two CPUs or more): the daemons (the CSCFs and
# ims-hss) run on CPU list D and every sipp on S (taskset -c); BENCH_CPUS= (empty) leaves the
# placement to the scheduler. Why: a hand-off between processes on different CPUs wakes the
# other CPU (an inter-processor interrupt, a VM exit under a hypervisor), and that wake-up is
# charged to the sender; perf at 1 200 calls/s, unpinned, put a quarter of the P-CSCF's CPU time
# in those wake-ups and context switches. With the chain P -> S -> I -> S -> P on one CPU each
# hand-off stays local. One CPU then caps the CSCFs at about 2 000 calls/s on this machine; the
# unpinned layout reaches higher rates at a higher cost per call. BENCH_SCHED=batch (default;
# "other" for the default policy) runs the pinned daemons as SCHED_BATCH (chrt -b 0): a daemon
# woken by another's datagram then waits for the running one to block instead of preempting it
# mid-batch, which saves a context switch per hand-off (1 200 calls/s: about 505-528 us per call
# -> 468-503). Neither needs privileges; both are deployment settings, not code. The header line
# says which placement and policy were used. The P-CSCF's sends to the sipp handsets still cross
# CPUs: at 600 calls/s, 29 % of its CPU (perf) is sendto waking sipp's idle CPU, against 7.5 %
# for the S-CSCF, whose peers share its CPU. BENCH_CPUS=0:0 (sipp on the daemons' CPU) takes
# that out of the P-CSCF's figure (600 calls/s: about 310 -> 220 us) and adds a little to the
# I- and S-CSCF's, which then share caches with sipp.
# BENCH_POLICY=rx|n5 (default: off): the P-CSCF's policy client on (issue 7), toward
# tests/tools/test-pcrf (Rx, Diameter on 127.0.1.50:3868) or tests/tools/test-pcf (N5,
# h2c on 127.0.1.50, the P-CSCF's notifUri server on its own address), with timeout_ms 2000:
# every registration opens a signalling session and every call leg one media session (at the
# 200) that the BYE ends; the peer runs on the same cores, and its session count at the end
# (stats) shows whether any was left. Compare the rows with and without it.
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

CG=${BENCH_CALLGRIND:-0}
if [ "$CG" = 1 ]; then
    command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
        fail "BENCH_CALLGRIND=1 needs valgrind (scripts/install-deps.sh)"
    RATES=(${BENCH_RATES:-20})
    HOLD=${BENCH_HOLD_MS:-1000}
    NUES=${BENCH_UES:-50}
else
    RATES=(${BENCH_RATES:-300 600 900 1200 1500 2000 2500})
    HOLD=${BENCH_HOLD_MS:-10000}
    NUES=${BENCH_UES:-2000}
fi
SECS=${BENCH_SECONDS:-10}
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
CSCFS=(pcscf icscf scscf)
SIPP_PIN=() CPUS= SCHED=
if [ "$CG" = 1 ]; then
    for d in "${CSCFS[@]}"; do
        REG_WRAP[$d]="valgrind -q --tool=callgrind --cache-sim=yes"
        REG_WRAP[$d]+=" --callgrind-out-file=$IT_WORK/cg.$d"
    done
else
    CPUS=${BENCH_CPUS-0:1}
    case ${BENCH_SCHED:-batch} in
    batch) SCHED="chrt -b 0" ;;
    other) SCHED= ;;
    *) fail "BENCH_SCHED=$BENCH_SCHED: want batch or other" ;;
    esac
    [ "$(nproc)" -ge 2 ] || CPUS=
    if [ -n "$CPUS" ]; then
        [[ $CPUS == ?*:?* ]] || fail "BENCH_CPUS=$CPUS: want DAEMON_CPUS:SIPP_CPUS (e.g. 0:1)"
        for d in "${CSCFS[@]}" ims-hss; do REG_WRAP[$d]="$SCHED taskset -c ${CPUS%%:*}"; done
        SIPP_PIN=(taskset -c "${CPUS#*:}")
    fi
fi
PLACE="placement by the scheduler"
SCHED_NAME=SCHED_OTHER
[ -z "$SCHED" ] || SCHED_NAME=SCHED_BATCH
[ -z "$CPUS" ] || PLACE="daemons on CPU ${CPUS%%:*} ($SCHED_NAME), sipp on CPU ${CPUS#*:}"
say "placement: $PLACE"
POL=${BENCH_POLICY:-off}
POL_IP=127.0.1.50
pick_port_into POL_CPORT
case "$POL" in
off) ;;
rx)
    D=$REG_DOMAIN
    POLICY="{ backend = \"rx\"; timeout_ms = 2000; rx = { identity = \"pcscf.$D\";"
    POLICY+=" realm = \"$D\"; tc_ms = 1000; dest_realm = \"$D\"; peers = ( { host ="
    POLICY+=" \"pcrf.$D\"; addr = \"$POL_IP\"; port = 3868; connect = true; } ); }; }"
    "$IMS_BUILD_DIR/tests/test-pcrf" --origin-host "pcrf.$D" --origin-realm "$D" \
        --listen "$POL_IP:3868" --af "pcscf.$D@$REG_P" --record /dev/null \
        --control "127.0.0.1:$POL_CPORT" >"$IT_WORK/policy-peer.log" 2>&1 {REG_LOCK_FD}>&- &
    POL_PID=$!
    track "$POL_PID" test-pcrf "$IT_WORK/policy-peer.log"
    wait_listen "$POL_PID" tcp 3868
    ;;
n5)
    pick_port_into POL_PORT
    pick_port_into POL_NPORT
    POLICY="{ backend = \"n5\"; timeout_ms = 2000; n5 = { pcf = \"$POL_IP:$POL_PORT\";"
    POLICY+=" notif_listen = \"$REG_P:$POL_NPORT\"; }; }"
    "$IMS_BUILD_DIR/tests/test-pcf" --listen "$POL_IP:$POL_PORT" --record /dev/null \
        --control "127.0.0.1:$POL_CPORT" >"$IT_WORK/policy-peer.log" 2>&1 {REG_LOCK_FD}>&- &
    POL_PID=$!
    track "$POL_PID" test-pcf "$IT_WORK/policy-peer.log"
    wait_listen "$POL_PID" tcp "$POL_PORT"
    ;;
*) fail "BENCH_POLICY=$POL: want rx, n5 or off" ;;
esac
[ "$POL" = off ] || reg_cfg_put pcscf pcscf policy "$POLICY"
say "policy: $POL"
reg_lab_start

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
percentile() {
    sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
        if (!NR) { print "-"; exit } i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'
}
# cg_zero: the CSCFs' callgrind counters back to 0 (at the start of a step).
cg_zero() {
    local d
    for d in "${CSCFS[@]}"; do callgrind_control -z "${REG_PID[$d]}" >/dev/null; done
}
# cg_step RATE OK: dump each CSCF's counters since cg_zero, add a row of per-call figures.
declare -a CG_ROWS=()
cg_step() {
    local d f ev tot row=() d1=() ll=() sum=0 v
    for d in "${CSCFS[@]}"; do
        rm -f "$IT_WORK/cg.$d".*
        callgrind_control -d "${REG_PID[$d]}" >/dev/null
        f=$(ls -t "$IT_WORK/cg.$d".* 2>/dev/null | head -n 1)
        [ -n "$f" ] || fail "callgrind wrote no dump for $d"
        ev=$(sed -n 's/^events: //p' "$f")
        tot=$(sed -n 's/^\(summary\|totals\): //p' "$f" | tail -n 1)
        read -r v d1v llv < <(awk -v ev="$ev" -v tot="$tot" -v n="$2" 'BEGIN {
            k = split(ev, e, " "); split(tot, t, " ")
            for (i = 1; i <= k; i++) c[e[i]] = t[i]
            n = n > 0 ? n : 1
            printf "%.0f %.0f %.0f\n", c["Ir"] / n, (c["D1mr"] + c["D1mw"]) / n,
                (c["DLmr"] + c["DLmw"]) / n }')
        row+=("$v") d1+=("$d1v") ll+=("$llv")
        sum=$((sum + v))
    done
    say "  callgrind per call: Ir P ${row[0]} I ${row[1]} S ${row[2]} (sum $sum)," \
        "D1 misses P ${d1[0]} I ${d1[1]} S ${d1[2]}, LL misses P ${ll[0]} I ${ll[1]} S ${ll[2]}"
    CG_ROWS+=("$(printf '%6s %7s %9s %9s %9s %9s %8s %8s %8s %8s %8s %8s' "$1" "$2" \
        "${row[@]}" "$sum" "${d1[@]}" "${ll[@]}")")
}

# bsipp NAME IP PORT [args...]: a sipp on IP:PORT toward the P-CSCF, in the background
# (SIPP_PID, SIPP_TAG); UDP from that one socket.
bsipp() {
    local name=$1 ip=$2 port=$3 cp
    shift 3
    pick_port_into cp
    IT_NEXT_PORT=$((IT_NEXT_PORT + 6))
    SIPP_TAG=$IT_WORK/$name
    (cd "$IT_WORK" && exec "${SIPP_PIN[@]}" sipp -t u1 -i "$ip" -p "$port" -s "$REG_DOMAIN" -nostdin \
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
    [ "$CG" = 1 ] && cg_zero
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
    [ "$CG" = 1 ] && cg_step "$rate" "$okc"
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
    "$NCALLERS callers, $(nproc) cores shared with sipp; policy $POL;" \
    "$PLACE"
printf '%6s %7s %7s %8s %8s %6s %6s %6s %7s %7s %7s %7s %8s\n' rate/s calls ok failed \
    achieved "PDD50" "PDD99" "max" "P us" "I us" "S us" "HSS us" "CSCFs us"
for r in "${ROWS[@]}"; do echo "$r"; done
echo "highest call setup rate sustained (< 1 % failures, >= 95 % achieved): ${BEST:-none}/s"
if [ "$CG" = 1 ]; then
    echo
    echo "per call under callgrind (instructions; simulated D1 and LL data misses, reads + writes)"
    printf '%6s %7s %9s %9s %9s %9s %8s %8s %8s %8s %8s %8s\n' rate/s ok "P Ir" "I Ir" "S Ir" \
        "CSCFs Ir" "P D1" "I D1" "S D1" "P LL" "I LL" "S LL"
    for r in "${CG_ROWS[@]}"; do echo "$r"; done
fi
if [ "$POL" != off ]; then
    udp_ctl "$POL_CPORT" stats
    echo "policy peer ($POL) after the last step's BYEs: $REPLY"
fi
reg_lab_stop
grep -h "P-CSCF policy: .* at stop" "$REG_DIR/pcscf.log" | sed 's/^.*P-CSCF/P-CSCF/'
ok "calls benchmark done"
