#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark (prints figures, not a pass/fail test): call throughput of the transparent stateful
# proxy. sipp UAC -> pcscf -> sipp UAS over UDP on 127.0.0.1, INVITE/180/200/ACK/BYE/200 with
# Record-Route, 10 ms between ACK and BYE, at rising call rates for BENCH_SECONDS each.
#
# Per rate: calls placed, successful, failed (%), the rate achieved, and the proxy's CPU time
# (utime + stime from /proc/<pid>/stat, counted from the start of the step to 2 s after its
# last call) divided by the successful calls, in microseconds per call. Also the CPU share of
# the proxy and of both sipp processes: on a small machine the sipp peers compete with the
# proxy for the same cores, so the limit found may be sipp's rather than the proxy's.
#
# Usage: bench/proxy_calls.sh [BUILD_DIR]     (default: $IMS_BUILD_DIR, else ./build)
# Environment: BENCH_RATES="500 1000 ..." (calls/s; default 500 to 8000, the ramp stops after
# two steps with 1% or more failed calls), BENCH_SECONDS=10.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMS_SOURCE_DIR=$ROOT
IMS_BUILD_DIR=$(cd "${1:-${IMS_BUILD_DIR:-$ROOT/build}}" 2>/dev/null && pwd) ||
    { echo "build dir ${1:-${IMS_BUILD_DIR:-$ROOT/build}} not found" >&2; exit 1; }
export IMS_SOURCE_DIR IMS_BUILD_DIR
export IT_PROXY_LOG_LEVEL=notice   # per-message logging would be what we measure
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib/common.sh
. "$ROOT/tests/integration/lib/common.sh"
it_init 16900

RATES=${BENCH_RATES:-500 1000 1500 2000 3000 4000 5000 6000 8000}
SECONDS_PER_RATE=${BENCH_SECONDS:-10}
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

cache=$IMS_BUILD_DIR/CMakeCache.txt
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache" 2>/dev/null)
sanit=$(sed -n 's/^IMS_SANITIZE:[A-Z]*=//p' "$cache" 2>/dev/null)
say "build $IMS_BUILD_DIR: type ${btype:-unknown}, IMS_SANITIZE=${sanit:-unknown}"
case "$btype" in Release | RelWithDebInfo) ;; *) say "WARNING: not a release build" ;; esac
case "$sanit" in ON | 1 | TRUE) say "WARNING: sanitizer build: figures are meaningless" ;; esac
say "machine: $NCPU cores; sipp UAC, sipp UAS and the proxy compete for them"

# ticks PID: utime + stime of a live process, in clock ticks (fields 14 and 15; field 2, the
# command name, has no spaces for our processes).
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

pick_port_into PX
pick_port_into UAS_PORT
pick_port_into UAC_PORT
# The UAS answers everything the steps send; it is stopped at the end (its -m is never hit).
start_sipp_uas UAS uas_call.xml "$UAS_PORT" udp 1000000000 -recv_timeout 10000 \
    -buff_size 4194304 -timeout 1800s
start_proxy PXPID pcscf "$PX" "udp:$IT_HOST:$UAS_PORT"

ROWS=()
BEST_RATE=
BEST_US=
BAD_STEPS=0
for rate in $RATES; do
    calls=$((rate * SECONDS_PER_RATE))
    sipp_common uac "$UAC_PORT"
    tag=$SIPP_TAG
    say "rate $rate calls/s: $calls calls"
    px0=$(ticks "$PXPID")
    uas0=$(ticks "$UAS")
    t0=$(date +%s.%N)
    # -l bounds open calls (2 s worth); -recv_timeout bounds a stuck call; the UAC's own CPU time
    # comes from time(1), as it is gone when we could read /proc.
    # (timeout outermost: it signals its whole process group, time(1) and sipp included.)
    (cd "$IT_WORK" && exec timeout -k 5 $((SECONDS_PER_RATE * 4 + 30)) \
        /usr/bin/time -f '%U %S' -o "$tag.time" sipp -sf "$SIPP_SCEN_DIR/uac_call.xml" \
        -t u1 -s service -m "$calls" -r "$rate" -rp 1000 -l $((rate * 2)) -d 10 \
        -recv_timeout 5000 -buff_size 4194304 -timeout $((SECONDS_PER_RATE * 4 + 20))s \
        "${SIPP_ARGS[@]}" "$IT_HOST:$PX") >"$tag.out" 2>&1 &
    uac=$!
    track "$uac" "sipp-uac:$UAC_PORT" "$tag.errors"
    wait "$uac"
    untrack "$uac"
    t1=$(date +%s.%N)
    sleep 2
    px1=$(ticks "$PXPID")
    uas1=$(ticks "$UAS")
    t2=$(date +%s.%N)
    assert_alive "$PXPID"

    okc=$(stat_of "$tag" 'SuccessfulCall(C)')
    failc=$(stat_of "$tag" 'FailedCall(C)')
    # time(1) writes "Command exited with non-zero status N" first when sipp saw failures.
    read -r uacu uacs < <(tail -n 1 "$tag.time" 2>/dev/null) || { uacu=0; uacs=0; }
    row=$(awk -v rate="$rate" -v calls="$calls" -v ok="${okc:-0}" -v failed="${failc:-0}" \
        -v t0="$t0" -v t1="$t1" -v t2="$t2" -v hz="$HZ" \
        -v px="$((px1 - px0))" -v uas="$((uas1 - uas0))" -v uacu="$uacu" -v uacs="$uacs" 'BEGIN {
            done = ok + failed
            pct = done ? 100 * failed / done : 100
            wall = t1 - t0
            us = ok ? px / hz * 1e6 / ok : 0
            printf "%6d %7d %7d %7d %7.2f %8.0f %8.1f %8.0f %7.0f %7.0f\n", rate, calls, ok, \
                failed, pct, ok / wall, 100 * px / hz / (t2 - t0), us, \
                100 * uas / hz / (t2 - t0), 100 * (uacu + uacs) / wall
        }')
    ROWS+=("$row")
    say "$(printf '%s' "$row" | awk '{ printf "ok %s failed %s (%s%%), %s calls/s, " \
        "proxy %s us/call", $3, $4, $5, $6, $8 }')"
    if awk -v p="$(echo "$row" | awk '{print $5}')" -v ok="${okc:-0}" \
        'BEGIN { exit !(ok > 0 && p < 1) }'; then
        BEST_RATE=$rate
        BEST_US=$(echo "$row" | awk '{print $8}')
        BAD_STEPS=0
    else
        BAD_STEPS=$((BAD_STEPS + 1))
        [ $BAD_STEPS -lt 2 ] || { say "two steps over 1% failed: stopping the ramp"; break; }
    fi
done

stop_proxy "$PXPID"

echo
echo "pcscf transparent stateful proxy, UDP, 127.0.0.1, ${SECONDS_PER_RATE}s per rate," \
    "build ${btype:-?} ($IMS_BUILD_DIR)"
echo "Machine: $NCPU cores shared by sipp UAC, sipp UAS and the proxy (CPU% is of one core)."
printf '%6s %7s %7s %7s %7s %8s %8s %8s %7s %7s\n' rate calls ok failed 'fail%' 'got/s' \
    'pxCPU%' 'us/call' 'uasCPU%' 'uacCPU%'
printf '%s\n' "${ROWS[@]}"
if [ -n "$BEST_RATE" ]; then
    echo "Highest rate with <1% failed calls: $BEST_RATE calls/s;" \
        "proxy CPU at that rate: $BEST_US us per call."
else
    echo "No rate had <1% failed calls."
fi
echo "(When uasCPU% or uacCPU% nears 100, sipp and not the proxy is the bottleneck.)"
