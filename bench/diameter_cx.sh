#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Cx throughput of ims-hss: cx-client runs N MAR+SAR pairs (one AKA vector per MAR, SAR
# REGISTRATION returning User-Data) over the 1000 lab subscribers with W requests in flight,
# against ims-hss from a release build, on loopback. Prints the client's figures (round trips
# per second, MAR per second, client CPU per request) and ims-hss's CPU per request from
# /proc/<pid>/stat, with the single-core capacity that implies. A benchmark prints figures;
# it does not pass or fail (the target is >= 20 000 MAR/s on one core).
#
#   bench/diameter_cx.sh [N [WINDOW]]        defaults: 100000 pairs, window 256
# Environment: IMS_BUILD_DIR (default build/release; configured and built when missing),
# IMS_BENCH_PORT (default 13868), IMS_BENCH_FSYNC (default true: sqn.db writes as in service).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${IMS_BUILD_DIR:-$root/build/release}
n=${1:-100000}
window=${2:-256}
port=${IMS_BENCH_PORT:-13868}
fsync=${IMS_BENCH_FSYNC:-true}

if [ ! -x "$build/ims-hss" ] || [ ! -x "$build/tests/cx-client" ]; then
    echo "building release into $build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j"$(nproc)" --target ims-hss cx-client >/dev/null
fi

work=$(mktemp -d /tmp/ims-bench-cx.XXXXXX)
hss_pid=
cleanup() {
    if [ -n "$hss_pid" ] && kill -0 "$hss_pid" 2>/dev/null; then
        kill -TERM "$hss_pid"
        wait "$hss_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/hss.cfg" <<EOF
state_dir = "$work/state";
home_domain = "ims.mnc001.mcc001.3gppnetwork.org";
sqn = { block = 1000; fsync = $fsync; };
diameter = { identity = "hss.ims.mnc001.mcc001.3gppnetwork.org";
  realm = "ims.mnc001.mcc001.3gppnetwork.org"; listen = "127.0.0.1"; port = $port;
  peers = ( { host = "scscf.ims.mnc001.mcc001.3gppnetwork.org"; } ); };
scscfs = ( { name = "sip:scscf.ims.mnc001.mcc001.3gppnetwork.org";
  diameter_host = "scscf.ims.mnc001.mcc001.3gppnetwork.org"; } );
ranges = ( { imsi_from = "001010000000001"; count = 1000;
  domain = "ims.mnc001.mcc001.3gppnetwork.org"; tel_prefix = "+1555";
  k = "696d73636f72652d6c61622d6b657931"; op = "696d73636f72652d6c61622d6f702d31";
  amf = "8000"; sqn = 1; password = "secret"; } );
EOF

# One core each when taskset is there (the machine may have only two).
pin_hss=() pin_cli=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin_hss=(taskset -c 0) pin_cli=(taskset -c 1)
fi

"${pin_hss[@]}" "$build/ims-hss" -c "$work/hss.cfg" -L notice >"$work/hss.log" 2>&1 &
hss_pid=$!
for _ in $(seq 100); do
    [ -n "$(ss -Hlnt "sport = :$port" 2>/dev/null)" ] && break
    kill -0 "$hss_pid" 2>/dev/null || { cat "$work/hss.log"; exit 1; }
    sleep 0.05
done

ticks() { awk '{ print $14 + $15 }' "/proc/$hss_pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
"${pin_cli[@]}" "$build/tests/cx-client" --hss "127.0.0.1:$port" --realm \
    ims.mnc001.mcc001.3gppnetwork.org --origin-host scscf.ims.mnc001.mcc001.3gppnetwork.org \
    --timeout 10000 bench --n "$n" --window "$window" >"$work/client.out" ||
    { cat "$work/client.out" "$work/hss.log"; exit 1; }
t1=$(ticks)
stats=$("$build/ims-hss" --ctl "$work/state/hss.ctl" stats)

cat "$work/client.out"
awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$n" 'BEGIN {
    us = t * 1e6 / hz / (2 * n)
    printf "hss_cpu_s=%.2f\nhss_cpu_us_per_request=%.2f\n", t / hz, us
    if (us > 0)
        printf "hss_capacity_requests_per_s_one_core=%.0f\nhss_capacity_mar_sar_pairs_per_s=%.0f\n",
               1e6 / us, 1e6 / us / 2
}'
echo "hss_stats: $stats"
echo "(target: >= 20000 MAR/s on one core; sqn fsync=$fsync; cores: $(nproc))"
