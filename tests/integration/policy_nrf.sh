#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 7: the P-CSCF's N5 backend finding its PCF through the NRF (pcscf/n5-nrf.c:
# Nnrf_NFDiscovery, TS 29.510 §6.2.3.2.3.1) instead of a configured address, in the 127.0.1.x
# lab of lib/reg.sh with pcscf.policy.n5 = { nrf = "http://127.0.1.52:..."; } only. Three
# tests/tools/test-pcf: PCF1 (127.0.1.50), PCF2 (127.0.1.51) and one acting as the NRF
# (127.0.1.52, --nrf-pcf PCF1 --nrf-pcf PCF2: PCF1 priority 1, PCF2 priority 2). Handsets A
# and B and the sipp scenarios as in policy_n5.sh (lib/policy.sh).
#   1. the NRF down (nothing listens yet): A and B register; a call fails at once: B's leg
#      503 (500 at A), B gets ACK + BYE with Reason cause 503; `imsctl policy` counts it
#      unreachable, no timeout; no PCF saw a request;
#   2. the NRF up: A and B register again and make 3 calls: every app session (2 signalling,
#      2 per call) is created at PCF1, and deleted there; the NRF was asked once (its
#      "discover" counter), with target-nf-type=PCF, requester-nf-type=AF,
#      service-names=npcf-policyauthorization and requester-nf-instance-id in the query;
#      `imsctl sbi` and /metrics show the operation "GET nf-instances" answered 2xx once
#      (and step 1's refused connects);
#   3. PCF1 stopped: the next call gets both legs' app sessions at PCF2 (the P-CSCF moves to
#      the next PCF the NRF named when PCF1 refuses the connection), still without asking
#      the NRF again;
#   4. de-registration: the signalling sessions (at the gone PCF1) leave the table; the
#      P-CSCF stops with 0 policy sessions.
# Checked from the PCFs' and the NRF's JSON records, their counters and the P-CSCF's log.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
# shellcheck source=lib/policy.sh
. "$(dirname "$0")/lib/policy.sh"
pol_init 22900
command -v curl >/dev/null || { echo "curl missing: skipped"; exit 77; }
NCALLS=3
PCF1_IP=127.0.1.50
PCF2_IP=127.0.1.51
NRF_IP=127.0.1.52
UUID=5b0c5ff2-6a55-4f11-9d39-0a7f1d8e0c01
PCF=$(bin tests/test-pcf) || exit 1
IMSCTL=$(bin imsctl) || exit 1
REC1=$IT_WORK/pcf1.jsonl
REC2=$IT_WORK/pcf2.jsonl
NREC=$IT_WORK/nrf.jsonl
API=/npcf-policyauthorization/v1/app-sessions
for v in P1 C1 P2 C2 NP NC NPORT; do pick_port_into "$v"; done

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_set pcscf record_route true
NRF=http://$NRF_IP:$NP
POLICY="{ backend = \"n5\"; timeout_ms = 2000; n5 = { nrf = \"@NRF@\";"
POLICY+=" nf_instance_id = \"$UUID\"; notif_listen = \"$REG_P:$NPORT\"; }; }"
reg_cfg_put pcscf pcscf policy "$POLICY"
sed -i "s|@NRF@|$NRF|" "$REG_DIR/pcscf.cfg"   # reg_cfg_put's sed takes no '/' in values
reg_cfg_add pcscf "ctl = { socket = \"$REG_DIR/pcscf.ctl\"; };"
MADDR=$REG_P:9101
grep -q "listen = \"$MADDR\"" "$REG_DIR/pcscf.cfg" || fail "pcscf.cfg: metrics.listen is not $MADDR"

# start_peer NAME IP PORT CPORT RECORD [args]: a test-pcf in the background, tracked.
start_peer() {
    local name=$1 ip=$2 port=$3 cport=$4 rec=$5 pid
    shift 5
    "$PCF" --listen "$ip:$port" --record "$rec" --control "127.0.0.1:$cport" "$@" \
        >"$IT_WORK/$name.log" 2>&1 {REG_LOCK_FD}>&- &
    pid=$!
    track "$pid" "$name" "$IT_WORK/$name.log"
    wait_listen "$pid" tcp "$port"
    printf -v "${name^^}_PID" '%d' "$pid"
}
start_peer pcf1 "$PCF1_IP" "$P1" "$C1" "$REC1"
start_peer pcf2 "$PCF2_IP" "$P2" "$C2" "$REC2"
touch "$NREC"

reg_lab_start
grep -q "P-CSCF policy: N5 toward the PCFs the NRF $NRF names" "$REG_DIR/pcscf.log" ||
    fail "the P-CSCF did not start its N5 backend with the NRF" "${REG_PID[pcscf]}"
say "P-CSCF policy: N5 toward the PCFs the NRF $NRF names"

# n_created / n_deleted: the app sessions a PCF's records show created / deleted.
N_CREATED='len([x for x in r if x.get("method") == "POST" and x["status"] == 201])'
N_DELETED='len([x for x in r if x.get("path", "").endswith("/delete") and x["status"] == 204])'
at() { REC=$1 recs "$2"; }
imsctl_json() { "$IMSCTL" -s "$REG_DIR/pcscf.ctl" --json "$@"; }

# ---- 1. the NRF down: registration works, a call fails 503 at once ----
pick_port_into PA
pick_port_into PB
sess_register 1 "$A_IP" "$PA"
sess_register 2 "$B_IP" "$PB"
pol_scenarios
t0=$(($(date +%s%N) / 1000000))
part 1 "NRF down: 503 from B's leg (500 at A), ACK + BYE at B" a_down b_down 1
ms=$(($(date +%s%N) / 1000000 - t0))
say "1. with the NRF down the call failed in $ms ms"
[ "$ms" -lt 8000 ] || fail "1. the refused call took $ms ms"
python3 - "$(imsctl_json policy)" <<'EOF' || fail "1. imsctl policy: $(imsctl_json policy)"
import json, sys
o = json.loads(sys.argv[1])["data"]["outcomes"]
assert o["unreachable"] >= 1 and o["timeouts"] == 0 and o["ok"] == 0, o
print("1. imsctl policy: %d unreachable, 0 timeouts" % o["unreachable"])
EOF
if [ -s "$REC1" ] || [ -s "$REC2" ]; then fail "1. a PCF got a request while the NRF was down"; fi
grep -q "n5: NRF $NRF_IP:$NP: discovery failed: connect" "$REG_DIR/pcscf.log" ||
    fail "1. the P-CSCF did not log the failed discovery"

# ---- 2. the NRF up: one discovery, everything at PCF1 ----
start_peer nrf "$NRF_IP" "$NP" "$NC" "$NREC" --nrf-pcf "http://$PCF1_IP:$P1" \
    --nrf-pcf "http://$PCF2_IP:$P2"
sleep 1   # the P-CSCF asks a failed NRF again after a second (PCSCF_N5_NRF_RETRY_MS)
sess_register 1 "$A_IP" "$PA"
sess_register 2 "$B_IP" "$PB"
REC=$REC1 wait_recs "$N_CREATED" 2 5 ||
    fail "2. no signalling app session at PCF1: $(cat "$REC1") / NRF: $(cat "$NREC")"
part 2 "calls with the PCF from the NRF" a_call b_call "$NCALLS"
REC=$REC1 wait_recs "$N_DELETED" $((2 * NCALLS)) 5 ||
    fail "2. PCF1 deleted $(at "$REC1" "$N_DELETED") app sessions, want $((2 * NCALLS))"
udp_ctl "$NC" stats
[[ $REPLY == *" discover=1" ]] || fail "2. NRF stats: $REPLY (want discover=1)"
say "2. PCF1: $(at "$REC1" "$N_CREATED") created, $(at "$REC1" "$N_DELETED") deleted;" \
    "NRF: $REPLY"
udp_ctl "$C2" stats
[[ $REPLY == "sessions=0 create=0 "* ]] || fail "2. PCF2 got requests: $REPLY"
python3 - "$NREC" "$UUID" <<'EOF' || fail "2. the NRF's record: $(cat "$NREC")"
import json, sys
from urllib.parse import urlsplit, parse_qs
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 1 and r[0]["method"] == "GET" and r[0]["status"] == 200, r
u = urlsplit(r[0]["path"])
q = parse_qs(u.query)
assert u.path == "/nnrf-disc/v1/nf-instances", u.path
assert q == {"target-nf-type": ["PCF"], "requester-nf-type": ["AF"],
             "service-names": ["npcf-policyauthorization"],
             "requester-nf-instance-id": [sys.argv[2]]}, q
assert r[0]["headers"].get("accept", "").startswith("application/json"), r[0]["headers"]
print("2. NRF: one discovery, query %s" % u.query)
EOF
python3 - "$(imsctl_json sbi)" "$NRF_IP:$NP" "$PCF1_IP:$P1" <<'EOF' ||
import json, sys
d = json.loads(sys.argv[1])["data"]
ops = {o["op"]: o for o in d["operations"]}
nrf = ops["GET nf-instances"]
# step 1's attempts (a connect refused each; at most one a second) and step 2's one
assert nrf["2xx"] == 1 and nrf["connect"] >= 1 and nrf["requests"] == 1 + nrf["connect"], nrf
auths = {c["authority"] for c in d["connections"]}
assert sys.argv[2] in auths and sys.argv[3] in auths, auths
print("2. imsctl sbi: GET nf-instances %d requests, %d 2xx, %d connect errors; connections %s"
      % (nrf["requests"], nrf["2xx"], nrf["connect"], sorted(auths)))
EOF
    fail "2. imsctl sbi: $(imsctl_json sbi)"
curl -sS -m 5 "http://$MADDR/metrics" >"$IT_WORK/metrics.txt" || fail "2. GET /metrics failed"
grep -qx 'ims_sbi_requests_total{op="GET nf-instances",class="2xx"} 1' "$IT_WORK/metrics.txt" ||
    fail "2. /metrics: $(grep 'nf-instances' "$IT_WORK/metrics.txt")"
say "2. /metrics: $(grep 'ims_sbi_requests_total{op="GET nf-instances",class="2xx"}' \
    "$IT_WORK/metrics.txt")"

# ---- 3. PCF1 gone: the next call at PCF2, no new discovery ----
stop_proxy "$PCF1_PID"
part 3 "PCF1 stopped: the call's app sessions at PCF2" a_call b_call 1
REC=$REC2 wait_recs "$N_DELETED" 2 5 || fail "3. PCF2: $(cat "$REC2")"
python3 - "$REC2" "$A_IP" "$B_IP" "$API" <<'EOF' || fail "3. PCF2's record: $(cat "$REC2")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
a_ip, b_ip, api = sys.argv[2:5]
creates = [x for x in r if x["method"] == "POST" and x["path"] == api]
ips = sorted(x["json"]["ascReqData"]["ueIpv4"] for x in creates)
assert ips == sorted([a_ip, b_ip]) and all(x["status"] == 201 for x in creates), creates
assert all("1" in x["json"]["ascReqData"]["medComponents"] for x in creates), creates
ids = sorted(x["location"].rsplit("/", 1)[1] for x in creates)
dels = sorted(x["path"][len(api) + 1:-len("/delete")] for x in r if x["path"].endswith("/delete"))
assert dels == ids, (dels, ids)
print("3. PCF2: both legs created (ueIpv4 %s) and deleted" % ", ".join(ips))
EOF
udp_ctl "$NC" stats
[[ $REPLY == *" discover=1" ]] || fail "3. NRF stats: $REPLY (want still discover=1)"
grep -q "n5: PCF $PCF1_IP:$P1 failed; next: $PCF2_IP:$P2" "$REG_DIR/pcscf.log" ||
    fail "3. the P-CSCF did not log the move to PCF2"
say "3. PCF1 gone: the call went to PCF2; NRF: $REPLY"

# ---- 4. de-registration, stop ----
pol_deregister 4
for d in pcscf icscf scscf ims-hss; do assert_alive "${REG_PID[$d]}"; done
reg_lab_stop
grep -E "P-CSCF policy: " "$REG_DIR/pcscf.log" | sed 's/^/    /'
grep -qE "P-CSCF policy: 0 sessions at stop" "$REG_DIR/pcscf.log" ||
    fail "4. the P-CSCF's stop line: want 0 sessions left"
stop_proxy "$NRF_PID"
stop_proxy "$PCF2_PID"

ok "N5 with the NRF: NRF down -> 503 at once; one discovery (target-nf-type=PCF," \
    "requester-nf-type=AF) for 2 registrations and $NCALLS calls, all at PCF1; PCF1 gone ->" \
    "the next call at PCF2 without a new discovery; GET nf-instances in imsctl sbi and /metrics"
