#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 8, operations of the SBI and the policy client: the P-CSCF with its N5 backend
# (pcscf.policy = { backend = "n5"; ... }) toward tests/tools/test-pcf in the 127.0.1.x lab
# of lib/reg.sh, with its control socket in the work directory and /metrics on
# 127.0.1.10:9101 (config/lab/pcscf.cfg). Handsets A and B register (aka_ue.py) and A calls
# B once with SDP, BYE by A (the a_call/b_call scenarios of lib/policy.sh). Checked:
#   1. /metrics parses as Prometheus text (python3-prometheus-client's parser) and, after the
#      call, ims_sbi_requests_total{op="POST app-sessions",class="2xx"} = 4 (two signalling
#      sessions, two call legs) and {op="POST app-sessions/{id}/delete",class="2xx"} = 2 (the
#      legs, at the BYE), as many as test-pcf recorded; no ims_sbi_errors_total; the
#      ims_sbi_request_seconds histogram counted the 6 answers; ims_sbi_connections = 1;
#      ims_policy_sessions{kind="call"} = 0 and {kind="signalling"} = 2 after the BYE;
#      ims_policy_requests_total{outcome="ok"} = 4;
#   2. `imsctl sbi` (table and --json) lists the open connection to the PCF's address with
#      its requests, and the per-operation counters; `imsctl policy` shows backend n5 and the
#      sessions; `imsctl peers` shows the PCF as an sbi peer;
#   3. SIGTERM to the P-CSCF: it exits 0 and test-pcf logs the GOAWAY it received
#      (diameter/sbi/h2_server.c logs it at NOTICE, test-pcf's default level).
# Exit 1 on any failure, 77 without sipp/python3/ss/tshark (lib/policy.sh) or
# python3-prometheus-client.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
# shellcheck source=lib/policy.sh
. "$(dirname "$0")/lib/policy.sh"
PY=
for p in python3 /usr/bin/python3; do
    "$p" -c 'import prometheus_client' 2>/dev/null && PY=$p && break
done
[ -n "$PY" ] || { echo "python3-prometheus-client missing: skipped"; exit 77; }
command -v curl >/dev/null || { echo "curl missing: skipped"; exit 77; }
pol_init 22500
PCF_IP=127.0.1.50
PCF=$(bin tests/test-pcf) || exit 1
IMSCTL=$(bin imsctl) || exit 1
REC=$IT_WORK/pcf.jsonl
pick_port_into CPORT
pick_port_into PPORT
pick_port_into NPORT

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_set pcscf record_route true
reg_cfg_put pcscf pcscf policy "$(pol_n5_policy "$PCF_IP:$PPORT" "$NPORT")"
reg_cfg_add pcscf "ctl = { socket = \"$REG_DIR/pcscf.ctl\"; };"
MADDR=$REG_P:9101
grep -q "listen = \"$MADDR\"" "$REG_DIR/pcscf.cfg" || fail "pcscf.cfg: metrics.listen is not $MADDR"

"$PCF" --listen "$PCF_IP:$PPORT" --record "$REC" --control "127.0.0.1:$CPORT" \
    >"$IT_WORK/pcf.log" 2>&1 {REG_LOCK_FD}>&- &
PCF_PID=$!
track "$PCF_PID" test-pcf "$IT_WORK/pcf.log"
wait_listen "$PCF_PID" tcp "$PPORT"

reg_lab_start
grep -q "P-CSCF policy: N5 toward $PCF_IP:$PPORT" "$REG_DIR/pcscf.log" ||
    fail "the P-CSCF did not start its N5 backend" "${REG_PID[pcscf]}"

N_CREATED='len([x for x in r if x.get("method") == "POST" and x["status"] == 201])'
N_DELETED='len([x for x in r if x.get("path", "").endswith("/delete") and x["status"] == 204])'

# ---- the traffic: two registrations, one call ----
pick_port_into PA
pick_port_into PB
sess_register 1 "$A_IP" "$PA"
sess_register 2 "$B_IP" "$PB"
wait_recs "$N_CREATED" 2 5 || fail "no signalling app session for each UE: $(cat "$REC")"
pol_scenarios
part 1 "one call with SDP, BYE by A" a_call b_call 1
wait_recs "$N_DELETED" 2 5 || fail "the call's two app sessions were not deleted"
say "test-pcf: $(recs "$N_CREATED") app sessions created, $(recs "$N_DELETED") deleted"

# ---- 1. /metrics ----
cat >"$IT_WORK/prom.py" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
try:
    fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
except Exception as e:
    print("unparseable: %r" % (e,))
    sys.exit(1)
if sys.argv[2] == "-":
    print(len(fams))
    sys.exit(0)
if sys.argv[2] == "--sum":   # the sum of every sample NAME (any labels)
    print("%.0f" % sum(s.value for f in fams for s in f.samples if s.name == sys.argv[3]))
    sys.exit(0)
want = dict(a.split("=", 1) for a in sys.argv[3:])
for f in fams:
    for s in f.samples:
        if s.name == sys.argv[2] and s.labels == want:
            print("%.0f" % s.value)
            sys.exit(0)
sys.exit(3)
EOF
PROM=$IT_WORK/pcscf.prom
code=$(curl -sS -m 5 -o "$PROM" -w '%{http_code}' "http://$MADDR/metrics") ||
    fail "GET /metrics failed" "${REG_PID[pcscf]}"
[ "$code" = 200 ] || fail "GET /metrics answered $code"
n=$("$PY" "$IT_WORK/prom.py" "$PROM" -) || fail "/metrics does not parse: $n"
say "1. /metrics parses: $n families"
# expect WANT NAME [LABEL=VALUE...]
expect() {
    local want=$1 got
    shift
    got=$("$PY" "$IT_WORK/prom.py" "$PROM" "$@") || fail "1. no sample $* in /metrics"
    say "1. $* = $got"
    [ "$got" = "$want" ] || fail "1. $* is $got, want $want"
}
expect "$(recs "$N_CREATED")" ims_sbi_requests_total "op=POST app-sessions" class=2xx
expect 4 ims_sbi_requests_total "op=POST app-sessions" class=2xx
expect 2 ims_sbi_requests_total "op=POST app-sessions/{id}/delete" class=2xx
expect 0 ims_sbi_requests_total "op=POST app-sessions" class=4xx
expect 0 ims_sbi_requests_total "op=other" class=2xx
expect 0 ims_sbi_errors_total "op=POST app-sessions" kind=timeout
[ "$("$PY" "$IT_WORK/prom.py" "$PROM" --sum ims_sbi_errors_total)" = 0 ] ||
    fail "1. SBI errors counted: $(grep '^ims_sbi_errors_total' "$PROM" | grep -v ' 0$')"
expect 4 ims_sbi_request_seconds_count "op=POST app-sessions"
expect 2 ims_sbi_request_seconds_count "op=POST app-sessions/{id}/delete"
expect 4 ims_sbi_request_seconds_bucket "op=POST app-sessions" le=+Inf
expect 1 ims_sbi_connections
expect 0 ims_policy_sessions kind=call
expect 2 ims_policy_sessions kind=signalling
expect 4 ims_policy_requests_total outcome=ok
expect 0 ims_policy_requests_total outcome=timeouts

# ---- 2. imsctl sbi, policy, peers ----
ctl() { "$IMSCTL" -s "$REG_DIR/pcscf.ctl" "$@"; }
out=$(ctl sbi 2>&1) || fail "2. imsctl sbi: $out"
printf '%s\n' "$out" | sed 's/^/    /'
grep -qE "$PCF_IP:$PPORT +open" <<<"$out" || fail "2. imsctl sbi: no open connection to the PCF"
grep -q "POST app-sessions/{id}/delete" <<<"$out" || fail "2. imsctl sbi: no delete operation"
js=$(ctl --json sbi) || fail "2. imsctl --json sbi: $js"
python3 - "$js" "$PCF_IP:$PPORT" <<'EOF' || fail "2. imsctl --json sbi: $js"
import json, sys
d = json.loads(sys.argv[1])["data"]
c = [x for x in d["connections"] if x["authority"] == sys.argv[2]]
assert d["count"] == 1 and len(c) == 1, d["connections"]
assert c[0]["state"] == "open" and c[0]["streams"] == 0 and c[0]["requests"] == 6, c
ops = {o["op"]: o for o in d["operations"]}
assert ops["POST app-sessions"]["requests"] == 4 and ops["POST app-sessions"]["2xx"] == 4, ops
assert ops["POST app-sessions/{id}/delete"]["2xx"] == 2, ops
assert all(o["timeout"] == 0 and o["connect"] == 0 for o in ops.values()), ops
EOF
out=$(ctl policy 2>&1) || fail "2. imsctl policy: $out"
printf '%s\n' "$out" | sed 's/^/    /'
grep -qE "backend: +n5" <<<"$out" || fail "2. imsctl policy: backend is not n5"
js=$(ctl --json policy) || fail "2. imsctl --json policy: $js"
python3 - "$js" <<'EOF' || fail "2. imsctl --json policy: $js"
import json, sys
d = json.loads(sys.argv[1])["data"]
assert d["backend"] == "n5", d
assert d["sessions"] == {"total": 2, "call": 0, "signalling": 2}, d["sessions"]
assert d["outcomes"]["ok"] == 4 and d["requests"]["new"] == 4, d
EOF
out=$(ctl peers 2>&1) || fail "2. imsctl peers: $out"
grep -qE "$PCF_IP:$PPORT +sbi +open" <<<"$out" || fail "2. imsctl peers: no sbi peer: $out"
say "2. imsctl sbi, policy, peers: the connection to $PCF_IP:$PPORT, backend n5"

# ---- 3. SIGTERM: GOAWAY to the PCF ----
grep -q "GOAWAY received" "$IT_WORK/pcf.log" && fail "3. test-pcf saw a GOAWAY before SIGTERM"
reg_lab_stop
for ((i = 0; i < 50; i++)); do
    grep -q "GOAWAY received" "$IT_WORK/pcf.log" && break
    sleep 0.1
done
grep -E "GOAWAY received from a client \(last stream 0, error 0\)" "$IT_WORK/pcf.log" ||
    fail "3. test-pcf logged no GOAWAY (NO_ERROR) from the P-CSCF"
assert_alive "$PCF_PID"
stop_proxy "$PCF_PID"
ok "SBI and policy operations: /metrics counts the N5 requests per operation and class," \
    "the policy sessions and outcomes; imsctl sbi/policy/peers show the PCF connection and" \
    "backend n5; SIGTERM sends GOAWAY to the PCF"
