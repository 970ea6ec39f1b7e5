#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark (prints figures, not a pass/fail test): IMS AKA registrations through
# P-CSCF -> I-CSCF -> S-CSCF with ims-hss over Cx, everything on this machine (the lab
# configuration moved to 127.0.1.x by tests/integration/lib/reg.sh). Each registration is
# REGISTER / 401 / REGISTER / 200 (sipp computes RES from K/OP/AMF), i.e. 2 UARs, 1 MAR and
# 1 SAR, from its own UDP socket (sipp -t un), so the P-CSCF sees a distinct handset; each
# handset is a distinct demo subscriber and stays registered (Expires 3600).
#
# For each rate (sipp -r, BENCH_SIPP instances sharing it, each on its own source address):
# registrations attempted, failed (%), the rate achieved, p50/p99/max registration time
# (sipp rtd from the first REGISTER to the 200, millisecond resolution), the CPU time of the
# four daemons per registration, and the RSS growth of the three CSCFs during the step per
# handset it registered (B/UE: includes the step's transactions still waiting out Timer J).
# Then: the highest rate sustained (< 1 % failures and >= 95 % of the rate achieved) and the
# RSS (VmRSS from /proc) of each daemon at the start, right after the last step, once the
# transactions have ended (BENCH_DRAIN=35 s later), and finally the memory in use: glibc
# keeps freed memory, so each daemon is made to call malloc_trim(0) through gdb (when gdb is
# installed; BENCH_TRIM=0 skips it) before the last reading; the growth per 1 000 registered
# handsets, for each daemon and for the three CSCFs together, uses that one.
# Targets (issue 4): >= 2 000 registrations/s sustained, p99 <= 20 ms at 1 000/s, <= 2 KB per
# registered handset summed over the three CSCFs.
#
# Usage: bench/registration.sh [BUILD_DIR]   (default: $IMS_BUILD_DIR, else ./build/release)
# Environment: BENCH_RATES="500 1000 ..." (registrations/s; the ramp stops after two steps
# in a row not sustained), BENCH_SECONDS=3 per step, BENCH_SIPP=2 sipp instances per step,
# BENCH_DRAIN=35, BENCH_TRIM=1. The steps together register at least 10 000 handsets
# (BENCH_MIN_UES): the last step is lengthened when needed.
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
it_init 18100
REG_LOG_LEVEL=notice       # per-message logging would be what we measure
REG_HSS_LOG_LEVEL=info     # peer state lines only (reg_wait_peers reads them)

RATES=(${BENCH_RATES:-500 1000 1500 2000 2500 3000 4000})
SECS=${BENCH_SECONDS:-3}
NSIPP=${BENCH_SIPP:-2}
MIN_UES=${BENCH_MIN_UES:-10000}
WARMUP=${BENCH_WARMUP:-500}   # handsets registered (and drained) before the baseline
HZ=$(getconf CLK_TCK)

cache=$IMS_BUILD_DIR/CMakeCache.txt
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache" 2>/dev/null)
sanit=$(sed -n 's/^IMS_SANITIZE:[A-Z]*=//p' "$cache" 2>/dev/null)
say "build $IMS_BUILD_DIR: type ${btype:-unknown}, IMS_SANITIZE=${sanit:-unknown}"
case "$btype" in Release | RelWithDebInfo) ;; *) say "WARNING: not a release build" ;; esac
case "$sanit" in ON | 1 | TRUE) say "WARNING: sanitizer build: figures are meaningless" ;; esac
say "machine: $(nproc) cores shared by sipp x$NSIPP, ims-hss and the three CSCFs"

# Plan the steps: handsets per step; the last one grows so that the total reaches MIN_UES.
declare -a PLAN
total=0
for ((s = 0; s < ${#RATES[@]}; s++)); do
    PLAN[s]=$((RATES[s] * SECS))
    total=$((total + PLAN[s]))
done
last=$((${#RATES[@]} - 1))
[ "$total" -ge "$MIN_UES" ] || { PLAN[last]=$((PLAN[last] + MIN_UES - total)); total=$MIN_UES; }

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
# Enough subscribers for every handset of the plan: the demo range moved to IMSI
# 001010000100001 and up, clear of the explicit test subscribers (9001, 9002).
FIRST=100001
sed -i -E "s/imsi_from = \"001010000000001\"; count = [0-9]+;/$(
    )imsi_from = \"0010100$(printf %08d $FIRST)\"; count = $((total + WARMUP + 10));/" "$REG_DIR/hss.cfg"
grep -q "count = $((total + WARMUP + 10));" "$REG_DIR/hss.cfg" || fail "cannot resize the demo range"
reg_lab_start

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }  # KiB
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
DAEMONS=(pcscf icscf scscf ims-hss)
# heap_in_use DAEMON: the bytes glibc's malloc has handed out and not had back (malloc_stats,
# called through gdb, prints to the daemon's stderr, i.e. its log), or nothing without gdb.
heap_in_use() {
    local log=$REG_DIR/$1.log
    # (gdb's exit status is no guide: sandboxes make it fail after the call ran)
    gdb -batch -p "${REG_PID[$1]}" -ex 'call (void)malloc_stats()' >/dev/null 2>&1
    awk '/^in use bytes/ { v = $NF } END { if (v != "") print v }' "$log"
}
# baseline: RSS and heap in use of every daemon, after malloc_trim when gdb is there.
declare -A RSS0 HEAP0 HEAP3 RSSC HEAPC
baseline() {
    for d in "${DAEMONS[@]}"; do
        command -v gdb >/dev/null && {
            gdb -batch -p "${REG_PID[$d]}" -ex 'call (int)malloc_trim(0)' >/dev/null 2>&1
            HEAP0[$d]=$(heap_in_use "$d")
        }
        RSS0[$d]=$(rss "${REG_PID[$d]}")
    done
}
baseline
for d in "${DAEMONS[@]}"; do RSSC[$d]=${RSS0[$d]} HEAPC[$d]=${HEAP0[$d]:-0}; done
# What a daemon allocates once, on its first traffic (a spare slab block per size class,
# tables sized for the load), is not memory per handset: a warm-up batch is registered
# and drained first (from its own address: the P-CSCF knows a UE by its address and port),
# and the per-handset figures count from there (the cold figure, from
# the daemons' start, is printed too).
if [ "$WARMUP" -gt 0 ]; then
    say "warm-up: $WARMUP handsets, then ${BENCH_DRAIN:-35} s for their transactions to end"
    reg_users_csv "$IT_WORK/u-warm.csv" "$FIRST" "$WARMUP"
    REG_UE=127.0.1.90 REG_MAX_SOCKET=10000 reg_sipp warm reg_aka.xml "$WARMUP" 60 \
        -inf "$IT_WORK/u-warm.csv" -r 500 -key expires 3600 -auth_uri "sip:$REG_DOMAIN" \
        -recv_timeout 5000 -buff_size 4194304 -nd ||
        say "warm-up: some registrations failed"
    FIRST=$((FIRST + WARMUP))
    sleep "${BENCH_DRAIN:-35}"
    baseline
fi
PREV_CSUM=$((RSS0[pcscf] + RSS0[icscf] + RSS0[scscf]))

# percentile FILE P: the P-th percentile of the numbers in FILE (one per line), nearest rank.
percentile() {
    sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
        if (!NR) { print "-"; exit } i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'
}

first=$FIRST
ROWS=()
BEST=
BAD=0
REGISTERED=0
for ((s = 0; s < ${#RATES[@]}; s++)); do
    rate=${RATES[s]} n=${PLAN[s]}
    say "rate $rate/s: $n handsets (subscribers $first..$((first + n - 1))), $NSIPP sipp"
    declare -A T0=()
    for d in "${DAEMONS[@]}"; do T0[$d]=$(ticks "${REG_PID[$d]}"); done
    pids=() tags=()
    t0=$(date +%s%N)
    for ((j = 0; j < NSIPP; j++)); do
        m=$((n / NSIPP + (j < n % NSIPP ? 1 : 0)))
        r=$((rate / NSIPP + (j < rate % NSIPP ? 1 : 0)))
        reg_users_csv "$IT_WORK/u-$s-$j.csv" "$first" "$m"
        first=$((first + m))
        REG_UE=127.0.1.$((100 + j)) REG_BG=1 REG_MAX_SOCKET=10000 \
            reg_sipp "b$s-$j" reg_aka.xml "$m" $((SECS * 4 + 30)) -inf "$IT_WORK/u-$s-$j.csv" \
            -r "$r" -key expires 3600 -auth_uri "sip:$REG_DOMAIN" -recv_timeout 5000 \
            -trace_rtt -rtt_freq 100 -buff_size 4194304 -nd
        pids+=("$SIPP_PID") tags+=("$SIPP_TAG")
    done
    okc=0 failc=0
    : >"$IT_WORK/rtt-$s"
    for ((j = 0; j < NSIPP; j++)); do
        wait "${pids[j]}" 2>/dev/null
        untrack "${pids[j]}"
        okc=$((okc + $(stat_of "${tags[j]}" 'SuccessfulCall(C)' || echo 0)))
        failc=$((failc + $(stat_of "${tags[j]}" 'FailedCall(C)' || echo 0)))
    done
    el=$((($(date +%s%N) - t0) / 1000000))
    # sipp writes its rtt files in its working directory as <scenario>_<pid>_rtt.csv.
    for f in "$IT_WORK"/reg_aka_*_rtt.csv; do
        [ -f "$f" ] || continue
        awk -F';' 'NR > 1 && $3 == 1 { print $2 }' "$f" >>"$IT_WORK/rtt-$s"
        mv "$f" "$f.step$s"
    done
    cpu=0
    for d in "${DAEMONS[@]}"; do cpu=$((cpu + $(ticks "${REG_PID[$d]}") - T0[$d])); done
    att=$((okc + failc))
    [ "$att" -gt 0 ] || att=1
    pct=$(awk -v f="$failc" -v a="$att" 'BEGIN { printf "%.2f", 100 * f / a }')
    achieved=$(awk -v o="$okc" -v e="$el" 'BEGIN { printf "%.0f", e ? o * 1000 / e : 0 }')
    us=$(awk -v t="$cpu" -v hz="$HZ" -v o="$okc" \
        'BEGIN { printf "%.0f", o ? t * 1e6 / hz / o : 0 }')
    p50=$(percentile "$IT_WORK/rtt-$s" 50) p99=$(percentile "$IT_WORK/rtt-$s" 99)
    mx=$(percentile "$IT_WORK/rtt-$s" 100)
    REGISTERED=$((REGISTERED + okc))
    # RSS growth of the three CSCFs during this step, per handset registered in it.
    csum=0
    for d in pcscf icscf scscf; do csum=$((csum + $(rss "${REG_PID[$d]}"))); done
    step_b=$(awk -v g="$((csum - PREV_CSUM))" -v o="$okc" \
        'BEGIN { printf "%.0f", o ? g * 1024 / o : 0 }')
    PREV_CSUM=$csum
    ROWS+=("$(printf '%7s %9s %7s %8s%% %9s %6s %6s %6s %10s %10s' "$rate" "$n" "$okc" "$pct" \
        "$achieved" "$p50" "$p99" "$mx" "$us" "$step_b")")
    say "  ok $okc failed $failc ($pct %), $achieved/s over $el ms, p50 $p50 ms p99 $p99 ms," \
        "daemons' CPU $us us per registration"
    for d in pcscf icscf scscf ims-hss; do assert_alive "${REG_PID[$d]}"; done
    # A step sustains its rate with < 1 % failures and >= 95 % of the rate achieved.
    if awk -v p="$pct" -v a="$achieved" -v r="$rate" 'BEGIN { exit !(p < 1 && a >= 0.95 * r) }'
    then
        BEST=$rate BAD=0
    else
        BAD=$((BAD + 1))
        [ "$BAD" -ge 2 ] && { say "two steps in a row not sustained: stopping the ramp"; break; }
    fi
done

sleep 1   # let the last SARs and reg-event SUBSCRIBEs settle
declare -A RSS1 RSS2
for d in "${DAEMONS[@]}"; do RSS1[$d]=$(rss "${REG_PID[$d]}"); done
# Each registration leaves server and client transactions waiting out Timer J/K (64*T1 =
# 32 s with the lab's T1 = 500 ms) and Diameter state: measure once more when they are gone.
say "waiting ${BENCH_DRAIN:-35} s for the transactions to end (Timer J = 64*T1)"
sleep "${BENCH_DRAIN:-35}"
for d in "${DAEMONS[@]}"; do RSS2[$d]=$(rss "${REG_PID[$d]}"); done
# glibc keeps freed memory (RSS never shrinks by itself): malloc_trim(0), called in each daemon
# through gdb, returns every free page to the kernel, so RSS is then the memory in use.
declare -A RSS3
TRIMMED=0
if [ "${BENCH_TRIM:-1}" = 1 ] && command -v gdb >/dev/null; then
    TRIMMED=1
    for d in "${DAEMONS[@]}"; do
        gdb -batch -p "${REG_PID[$d]}" -ex 'call (int)malloc_trim(0)' >"$IT_WORK/gdb-$d.out" 2>&1
        RSS3[$d]=$(rss "${REG_PID[$d]}")
        HEAP3[$d]=$(heap_in_use "$d")
        # Some kernels (sandboxes) let the call run but fail to restore the FPU state after it.
        grep -q "Couldn't write extended state" "$IT_WORK/gdb-$d.out" &&
            say "note: gdb on $d: $(grep -m1 "Couldn't write" "$IT_WORK/gdb-$d.out")"
        assert_alive "${REG_PID[$d]}"
    done
fi
[ "$TRIMMED" = 1 ] || say "no gdb (or BENCH_TRIM=0): no in-use figure, only RSS"
echo
echo "IMS AKA registrations through P-CSCF -> I-CSCF -> S-CSCF (+ ims-hss), $(nproc) cores"
printf '%7s %9s %7s %9s %9s %6s %6s %6s %10s %10s\n' "rate/s" handsets ok failed "achieved" \
    "p50ms" "p99ms" "maxms" "us/reg" "B/UE(CSCF)"
for r in "${ROWS[@]}"; do echo "$r"; done
top=$(printf '%s\n' "${ROWS[@]}" | awk '$5 > m { m = $5 } END { print m }')
echo "highest rate sustained (< 1 % failures, >= 95 % of it achieved): ${BEST:-none}/s;" \
    "highest throughput seen: ${top}/s"
echo "registered handsets: $REGISTERED"
echo "RSS (KiB) at start / right after the last step / ${BENCH_DRAIN:-35} s later / after" \
    "malloc_trim; growth per registered handset (from the last column):"
s1=0 s2=0 s3=0
for d in "${DAEMONS[@]}"; do
    g3=$((${RSS3[$d]:-${RSS2[$d]}} - RSS0[$d]))
    printf '  %-8s %7d %8d %8d %8s   %s\n' "$d" "${RSS0[$d]}" "${RSS1[$d]}" "${RSS2[$d]}" \
        "${RSS3[$d]:--}" "$(awk -v g="$g3" -v n="$REGISTERED" 'BEGIN { if (n) printf \
            "%.0f KiB per 1000 handsets (%.0f bytes per handset)", g * 1000 / n, g * 1024 / n }')"
    [ "$d" = ims-hss ] && continue
    s1=$((s1 + RSS1[$d] - RSS0[$d])) s2=$((s2 + RSS2[$d] - RSS0[$d])) s3=$((s3 + g3))
done
if [ "$TRIMMED" = 1 ]; then
    echo "malloc heap in use (bytes, glibc malloc_stats) at start / at the end; per handset:"
    h=0
    for d in "${DAEMONS[@]}"; do
        a=${HEAP0[$d]:-0} b=${HEAP3[$d]:-0}
        printf '  %-8s %10d %10d   %s\n' "$d" "$a" "$b" \
            "$(awk -v g=$((b - a)) -v n="$REGISTERED" 'BEGIN { if (n) printf "%.0f B", g / n }')"
        [ "$d" = ims-hss ] || h=$((h + b - a))
    done
    awk -v h="$h" -v n="$REGISTERED" 'BEGIN { if (n) printf "malloc heap in use by the three " \
        "CSCFs per registered handset: %.0f bytes\n", h / n }'
fi
if [ "$TRIMMED" = 1 ] && [ "$WARMUP" -gt 0 ]; then
    cr=0 ch=0
    for d in pcscf icscf scscf; do
        cr=$((cr + ${RSS3[$d]:-0} - RSSC[$d])) ch=$((ch + ${HEAP3[$d]:-0} - HEAPC[$d]))
    done
    awk -v r="$cr" -v h="$ch" -v n="$((REGISTERED + WARMUP))" 'BEGIN { if (n) printf \
        "cold (from the daemons'"'"' start, %d handsets incl. the warm-up, one-off allocations " \
        "included): %.0f bytes RSS, %.0f bytes heap per handset\n", n, r * 1024 / n, h / n }'
fi
awk -v a="$s1" -v b="$s2" -v c="$s3" -v n="$REGISTERED" -v t="$TRIMMED" 'BEGIN { if (n) {
    printf "RSS growth of the three CSCFs per registered handset: %.0f bytes right after the " \
        "last step (transactions included), %.0f bytes %s later", a * 1024 / n, b * 1024 / n, \
        ENVIRON["BENCH_DRAIN"] ? ENVIRON["BENCH_DRAIN"] " s" : "35 s"
    if (t) printf ", %.0f bytes in use (after malloc_trim)", c * 1024 / n
    printf "; target <= 2 KB\n" } }'
reg_lab_stop
ok "registration benchmark done"
