#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The loopback lab: the daemons on their fixed addresses (shared design.md), with
# pid files and logs under one run directory.
#   lab.sh start | stop | status   run the daemons in the background
#   lab.sh demo                    start if needed, then handset A calls handset B
#   lab.sh quickstart              install dependencies, build, demo (the README's first command)
# ims-hss serves the demo subscribers over Cx. Until the CSCF procedures land, the
# CSCFs are transparent stateful proxies: the call goes UE-A -> P-CSCF -> I-CSCF ->
# S-CSCF -> UE-B.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${IMS_BUILD_DIR:-$root/build/release}
run=${IMS_LAB_DIR:-$root/run/lab}
daemons=(ims-hss scscf icscf pcscf)   # started in this order, the HSS first
cscfs=(pcscf icscf scscf)
declare -A addr=([pcscf]=127.0.0.10:5060 [icscf]=127.0.0.20:5060 [scscf]=127.0.0.30:5060
                 [ims-hss]=127.0.0.40:3868)
declare -A cfg=([pcscf]=pcscf [icscf]=icscf [scscf]=scscf [ims-hss]=hss)
ue_a=127.0.0.100
ue_b=127.0.0.101
demo_impi=001010000000001@ims.mnc001.mcc001.3gppnetwork.org

say() { printf '\033[1m%s\033[0m\n' "$*"; }

needs_build() {
  for d in "${daemons[@]}"; do [ -x "$build/$d" ] || return 0; done
  [ -n "$(find "$root/common" "$root/diameter" "$root/hss" "$root/pcscf" "$root/icscf" \
          "$root/scscf" "$root/CMakeLists.txt" \
          -newer "$build/pcscf" -name '*.[ch]' -o -newer "$build/pcscf" -name CMakeLists.txt \
          2>/dev/null | head -1)" ]
}

do_build() {
  if needs_build; then
    say "building into $build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j"$(nproc)" >/dev/null
  fi
}

running() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

do_start() {
  do_build
  mkdir -p "$run"
  for d in "${daemons[@]}"; do
    if running "$d"; then echo "$d already running (pid $(cat "$run/$d.pid"))"; continue; fi
    extra=()
    [ "$d" = ims-hss ] && extra=(-s "$run/hss")
    "$build/$d" -c "$root/config/lab/${cfg[$d]}.cfg" -p "$run/$d.pid" "${extra[@]}" \
      >"$run/$d.log" 2>&1 &
    for _ in $(seq 50); do [ -s "$run/$d.pid" ] && break; sleep 0.1; done
    running "$d" || { echo "$d failed to start:"; tail -5 "$run/$d.log"; exit 1; }
    echo "$d started on ${addr[$d]} (pid $(cat "$run/$d.pid"), log $run/$d.log)"
  done
}

do_stop() {
  for d in "${daemons[@]}"; do
    if running "$d"; then
      pid=$(cat "$run/$d.pid"); kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "$d stopped"
    fi
  done
}

do_status() {
  for d in "${daemons[@]}"; do
    if running "$d"; then echo "$d running (pid $(cat "$run/$d.pid")) on ${addr[$d]}"
    else echo "$d stopped"; fi
  done
}

# A ladder of what the three daemons did, in time order, from their logs
# (only the lines written since the demo began: see since[]).
declare -A since
ladder() {
  for d in "${cscfs[@]}"; do
    tail -n +"${since[$d]}" "$run/$d.log" | grep "forwarded" |
      awk -v d="$d" '{ m = $0; sub(/^[^]]*\] /, "", m); print $1, d, m }' || true
  done | sort -s -k1,1 | awk '{ t = $1; d = $2; $1 = $2 = ""; printf "  %s  %-6s %s\n", t, d, substr($0, 3) }'
}

do_demo() {
  do_start
  for d in "${cscfs[@]}"; do since[$d]=$(( $(wc -l <"$run/$d.log") + 1 )); done
  say "ims-hss knows the demo subscribers, e.g.:"
  "$build/ims-hss" --ctl "$run/hss/hss.ctl" "show $demo_impi" 2>&1 | sed 's/^/  /' || true
  say "UE-B ($ue_b) waits for a call; UE-A ($ue_a) calls it through P-CSCF -> I-CSCF -> S-CSCF"
  # UE-A addresses sip:ue-b@<S-CSCF> and sends to its P-CSCF (-rsa), as a handset
  # sends everything to its P-CSCF.
  sipp -sf "$root/tests/sipp/uas_call.xml" -i "$ue_b" -p 5060 -m 1 -bg \
       -trace_err -error_file "$run/ue-b.err" >/dev/null 2>&1 || true
  sipp -sf "$root/tests/sipp/uac_call.xml" -i "$ue_a" -p 5060 -m 1 -s ue-b \
       "${addr[scscf]}" -rsa "${addr[pcscf]}" -timeout 20 -timeout_error \
       -trace_msg -message_file "$run/ue-a.msg" -trace_err -error_file "$run/ue-a.err" \
       >/dev/null 2>&1 && rc=0 || rc=$?
  pkill -f "sipp -sf $root/tests/sipp/uas_call.xml" 2>/dev/null || true
  say "SIP ladder (from the daemons' logs):"
  ladder
  if [ "$rc" = 0 ]; then
    say "call completed: INVITE/100/180/200/ACK/BYE/200 through the three CSCFs"
  else
    say "call FAILED (sipp exit $rc); see $run/ue-a.msg and $run/*.log"; exit 1
  fi
  echo "the lab keeps running: scripts/lab.sh status | stop"
}

case "${1:-}" in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  demo) do_demo ;;
  quickstart) bash "$root/scripts/install-deps.sh"; do_demo ;;
  *) echo "usage: $0 start|stop|status|demo|quickstart" >&2; exit 2 ;;
esac
