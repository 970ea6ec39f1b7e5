#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The loopback lab: the daemons on their fixed addresses (shared design.md), with
# pid files and logs under one run directory.
#   lab.sh start | stop | status   run the daemons in the background
#   lab.sh demo                    start if needed, register handsets A and B with IMS AKA,
#                                  then handset A calls handset B
#   lab.sh quickstart              install dependencies, build, demo (the README's first command)
# ims-hss serves the demo subscribers over Cx. The demo's sipp handsets register with IMS
# AKA (sipp computes RES from K/OP/AMF) through P-CSCF -> I-CSCF -> S-CSCF, which ask the HSS
# (UAR, MAR, SAR); then UE-A calls UE-B's IMPU: the P-CSCF sends the INVITE along UE-A's
# Service-Route to the S-CSCF (originating case), which routes it to B's registered contact
# (terminating case) through B's P-CSCF (its Path).
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
domain=ims.mnc001.mcc001.3gppnetwork.org
imsi_a=001010000000001
imsi_b=001010000000002
demo_impi=$imsi_a@$domain
# sipp takes K and OP as 16 raw octets: the lab's keys are printable ASCII for that reason.
lab_k=imscore-lab-key1
lab_op=imscore-lab-op-1

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
    tail -n +"${since[$d]}" "$run/$d.log" |
      grep -E -e "forwarded|REGISTER|UA[RA] |MA[RA] |SA[RA] |LI[RA] |[Rr]egistered|challenge" \
        -e "originating|terminating" |
      awk -v d="$d" '{ m = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ (\[[^]]*\] )?/, "", m)
                     print $1, d, m }' || true
  done | sort -s -k1,1 | awk '{ t = $1; d = $2; $1 = $2 = ""; printf "  %s  %-6s %s\n", t, d, substr($0, 3) }'
}

# register NAME IP IMSI: one sipp handset on IP:5060 registers IMSI with IMS AKA through the
# P-CSCF (REGISTER / 401 / REGISTER with RES / 200); the message trace goes to $run.
register() {
  local name=$1 ip=$2 imsi=$3
  printf 'SEQUENTIAL\n%s@%s;%s;%s;sip:%s@%s;%s\n' "$imsi" "$domain" "$lab_k" "$lab_op" \
    "$imsi" "$domain" "$imsi" >"$run/$name.csv"
  sipp -sf "$root/tests/sipp/reg_aka.xml" -inf "$run/$name.csv" -i "$ip" -p 5060 -m 1 \
       -s "$domain" -key expires 3600 -auth_uri "sip:$domain" "${addr[pcscf]}" \
       -timeout 15 -timeout_error -trace_msg -message_file "$run/$name-reg.msg" \
       -trace_err -error_file "$run/$name-reg.err" >/dev/null 2>&1
}

do_demo() {
  do_start
  for d in "${cscfs[@]}"; do since[$d]=$(( $(wc -l <"$run/$d.log") + 1 )); done
  say "ims-hss knows the demo subscribers, e.g.:"
  "$build/ims-hss" --ctl "$run/hss/hss.ctl" "show $demo_impi" 2>&1 | sed 's/^/  /' || true
  for ue in "a $ue_a $imsi_a" "b $ue_b $imsi_b"; do
    read -r n ip imsi <<<"$ue"
    say "UE-${n^^} ($ip) registers $imsi@$domain with IMS AKA through P-CSCF -> I-CSCF -> S-CSCF"
    if ! register "ue-$n" "$ip" "$imsi"; then
      say "SIP ladder (from the daemons' logs):"
      ladder
      say "registration of UE-${n^^} FAILED; see $run/ue-$n-reg.msg and $run/*.log"
      exit 1
    fi
    sed -n '/^SIP\/2.0 200/,/^$/p' "$run/ue-$n-reg.msg" |
      grep -iE '^(Service-Route|P-Associated-URI|Path|Contact):' | sed 's/^/  200 OK  /'
    "$build/ims-hss" --ctl "$run/hss/hss.ctl" "show $imsi@$domain" 2>&1 |
      sed 's/^/  ims-hss: /' || true
  done
  say "registration ladder (from the daemons' logs):"
  ladder
  for d in "${cscfs[@]}"; do since[$d]=$(( $(wc -l <"$run/$d.log") + 1 )); done
  say "UE-B ($ue_b) waits for a call; UE-A ($ue_a) calls sip:$imsi_b@$domain through its P-CSCF"
  # A handset calls an IMPU and sends everything to its P-CSCF; the S-CSCF serving A
  # (originating), the I-CSCF (LIR) and the S-CSCF serving B (terminating) route it to
  # B's registered contact through B's P-CSCF.
  printf 'SEQUENTIAL\nsip:%s@%s\n' "$imsi_b" "$domain" >"$run/callee.csv"
  sipp -sf "$root/bench/sipp/uas_ims.xml" -i "$ue_b" -p 5060 -m 1 -timeout 30 -nostdin \
       -trace_err -error_file "$run/ue-b.err" </dev/null >/dev/null 2>&1 &
  uas_pid=$!
  for _ in $(seq 50); do
    [ -n "$(ss -Hlnu "src $ue_b:5060" 2>/dev/null)" ] && break; sleep 0.1
  done
  sipp -sf "$root/bench/sipp/uac_ims_call.xml" -inf "$run/callee.csv" -i "$ue_a" -p 5060 \
       -m 1 -d 1000 -key caller "sip:$imsi_a@$domain" "${addr[pcscf]}" -timeout 20 \
       -timeout_error -trace_msg -message_file "$run/ue-a.msg" \
       -trace_err -error_file "$run/ue-a.err" >/dev/null 2>&1 && rc=0 || rc=$?
  kill "$uas_pid" 2>/dev/null || true
  wait "$uas_pid" 2>/dev/null || true
  say "call ladder (from the daemons' logs):"
  ladder
  if [ "$rc" = 0 ]; then
    say "call completed: INVITE/100/180/200/ACK/BYE/200 through the CSCFs above"
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
