#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 7: the P-CSCF's policy client with its Rx backend (pcscf/policy*.c) in the 127.0.1.x
# lab of lib/reg.sh (HSS, S-CSCF, I-CSCF, P-CSCF) with tests/tools/test-pcrf as the PCRF on
# 127.0.1.50:3868 (pcscf.policy = { backend = "rx"; ... }). Handsets A (subscriber 1,
# 127.0.1.100) and B (subscriber 2, 127.0.1.101) register with aka_ue.py, then sipp plays
# them from the same address and port (lib/session.sh). Every call goes P -> S -> I -> S -> P,
# so the P-CSCF holds two legs of it: A's (originating) and B's (terminating), each its own Rx
# session.
#   1. registration: one signalling AAR per UE (Media-Component-Number 0, AF_SIGNALLING, SIP,
#      the flows between the UE's SIP port and the P-CSCF's 5060, Specific-Action 2 and 4);
#   2. a call A -> B with SDP (fixed addresses and ports), hold re-INVITE (A sendonly, B
#      recvonly), resume re-INVITE, BYE by A: per leg one AAR INITIAL at the 200, AAR UPDATE
#      at each re-INVITE's 200 (same Session-Id; Flow-Status ENABLED_UPLINK / _DOWNLINK on
#      hold, ENABLED after), STR at the BYE; the Flow-Descriptions of both directions, RTP and
#      RTCP, checked rule by rule for each leg (uplink = from the leg's UE);
#   3. "reject 5063" at the PCRF: a call A -> B fails with 488 at A (the policy code for a
#      refusal, pcscf/policy.h), B gets the ACK for its dropped 200 and a BYE with
#      Reason: SIP;cause=488; no session stays at the PCRF;
#   3b. B answers 183 with SDP (each leg authorised at the 183, held until then), A cancels:
#      CANCEL/200/487/ACK at both ends, and the 487 ends both legs' sessions (STR);
#   4. "asr SID" on A's leg mid-call: both A and B get a BYE with Reason: SIP;cause=503;
#      text="Bearer released"; the P-CSCF answers ASA 2001 and ends both legs' sessions (STR);
#   4b. the same with "rar SID 2" (INDICATION_OF_LOSS_OF_BEARER) on B's leg: RAA 2001, BYE
#      to both with Reason: SIP;cause=503;text="Loss of bearer", STR for both legs;
#   5. POL_CALLS (200) calls A -> B at 20 calls/s: each leg one AAR and one STR;
#   5b. "mute 1": the PCRF records B's leg's AAR and never answers: after timeout_ms (2 s)
#      the call fails as in 7 below (503 from B's leg, ACK + BYE at B);
#   6. A and B de-register: STR of their signalling sessions; "stats" then shows sessions=0;
#   7. the PCRF stops: A and B register again (their signalling AARs fail, the registrations
#      stand), a call A -> B fails at once: B's leg answers 503 (PCRF unreachable,
#      pcscf/policy.h), which reaches A as 500 (the S-CSCF's §16.7 rule); B gets ACK + BYE
#      with Reason: SIP;cause=503.
# Checked: each sipp side's successful calls; the PCRF's JSON records field by field; every
# Session-Id answered 2001 gets exactly one STR (answered 2001); tshark decodes every Rx
# message (captured on the PCRF's port) with no malformed packet and no expert error and the
# same command counts as recorded; the P-CSCF's stop line counts no policy session left.
# Needs root (capture on lo).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
. "$(dirname "$0")/lib/tshark.sh"
# shellcheck source=lib/policy.sh
. "$(dirname "$0")/lib/policy.sh"
pol_init 21900
PCRF_IP=127.0.1.50
PCRF=$(bin tests/test-pcrf) || exit 1
REC=$IT_WORK/pcrf.jsonl
PCAP=$IT_WORK/rx.pcap
pick_port_into CPORT

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_set pcscf record_route true
POLICY="{ backend = \"rx\"; timeout_ms = 2000; rx = { identity = \"pcscf.$D\";"
POLICY+=" realm = \"$D\"; tc_ms = 1000; dest_realm = \"$D\"; peers = ( { host = \"pcrf.$D\";"
POLICY+=" addr = \"$PCRF_IP\"; port = 3868; connect = true; } ); }; }"
reg_cfg_put pcscf pcscf policy "$POLICY"
reg_cfg_add pcscf "ctl = { socket = \"$REG_DIR/pcscf.ctl\"; };"
IMSCTL=$(bin imsctl) || exit 1
# verdict IMPU: the P-CSCF's `imsctl diagnose` verdict on that UE.
verdict() {
    "$IMSCTL" -s "$REG_DIR/pcscf.ctl" --json diagnose "$1" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["verdict"])'
}

# ---- the PCRF and the capture, before the lab: the P-CSCF connects at start ----
tshark -n -i lo -f "tcp port 3868 and host $PCRF_IP" -w "$PCAP" >"$PCAP.log" 2>&1 &
TSHARK_PID=$!
track "$TSHARK_PID" tshark "$PCAP.log"
for ((i = 0; i < 200; i++)); do
    grep -q "Capturing on" "$PCAP.log" 2>/dev/null && break
    alive "$TSHARK_PID" || fail "tshark exited at start (capturing on lo needs root)"
    sleep 0.05
done
grep -q "Capturing on" "$PCAP.log" || fail "tshark did not start capturing within 10 s"
sleep 1   # dumpcap can miss the first packets just after "Capturing on"
"$PCRF" --origin-host "pcrf.$D" --origin-realm "$D" --listen "$PCRF_IP:3868" \
    --af "pcscf.$D@$REG_P" --record "$REC" --control "127.0.0.1:$CPORT" \
    >"$IT_WORK/pcrf.log" 2>&1 {REG_LOCK_FD}>&- &
PCRF_PID=$!
track "$PCRF_PID" test-pcrf "$IT_WORK/pcrf.log"
for ((i = 0; i < 100; i++)); do
    reg_bound tcp "$PCRF_IP" 3868 && break
    alive "$PCRF_PID" || fail "test-pcrf exited at start"
    sleep 0.05
done

N_AAR_OK='len([x for x in r if x["cmd"] == "AAR" and x.get("answer", {}).get("result") == 2001])'

reg_lab_start
for ((i = 0; i < 100; i++)); do
    grep -q "dia: peer pcrf\\.$(sess_re "$D") OPEN" "$REG_DIR/pcscf.log" && break
    sleep 0.05
done
grep -q "dia: peer pcrf\\.$(sess_re "$D") OPEN" "$REG_DIR/pcscf.log" ||
    fail "the P-CSCF's Rx peer is not OPEN after 5 s" "${REG_PID[pcscf]}"
say "P-CSCF Rx peer pcrf.$D OPEN"

# ---- 1. registrations: a signalling AAR each ----
pick_port_into PA
pick_port_into PB
sess_register 1 "$A_IP" "$PA"
sess_register 2 "$B_IP" "$PB"
wait_recs "$N_AAR_OK" 2 5 || fail "1. no signalling AAR answered for each UE: $(cat "$REC")"
say "1. signalling AARs: $(recs "$N_AAR_OK") answered 2001"
v=$(verdict "$IMPU_A")
say "1. imsctl diagnose $IMPU_A at the P-CSCF: $v"
[[ $v == "registered (the network answered 200)" ]] || fail "1. diagnose A: '$v'"

pol_scenarios


# ---- 2. call with hold and resume ----
part 2 "call, hold, resume, BYE" a_hold b_hold 1
wait_recs 'len([x for x in r if x["cmd"] == "STR"])' 2 5 || fail "2. no STR for both legs"
say "2. call with hold/resume: $(recs '" ".join(x["cmd"] for x in r)')"

# ---- 3. the PCRF refuses ----
ctl reject 5063
[ "$REPLY" = "ok reject 5063" ] || fail "3. reject: $REPLY"
part 3 "PCRF rejects: 488 at A, ACK + BYE at B" a_rejected b_rejected 1
ctl reject 0
va=$(verdict "$IMPU_A") vb=$(verdict "$IMPU_B")
say "3. imsctl diagnose at the P-CSCF: A: $va; B: $vb"
[[ "$va $vb" == *"QoS refused by the policy server: rx rejected, cause 5063"*"(call failed 488)"* ]] ||
    fail "3. no QoS verdict for A or B"
ctl stats
say "3. PCRF stats after the refused call: $REPLY"
[[ $REPLY == "sessions=2 "* ]] || fail "3. sessions left after the refused call: $REPLY"


# ---- 3b. CANCEL after an authorised 183 ----
part 3b "CANCEL after the 183 (SDP answer authorised): 487" a_cancel b_cancel 1
wait_recs 'len([x for x in r if x["cmd"] == "STR"])' 4 5 ||
    fail "3b. the cancelled call's two sessions were not ended"

# ---- 4. ASR on A's leg, RAR (INDICATION_OF_LOSS_OF_BEARER) on B's leg, mid-call ----
# rx_sid IMPU: the records expression for the Session-Id of IMPU's last call leg.
rx_sid() {
    printf '%s' '[x for x in r if x["cmd"] == "AAR" and x["rx_request_type"] == 0 and
        x["sub_ids"][0]["data"] == "'"$1"'" and x["media"][0]["number"] == 1][-1]["sid"]'
}
mid_call 4 "BYE with Reason after the ASR" asr "$N_AAR_OK" "$(rx_sid "$IMPU_A")" asr
for x in a b; do
    sed 's/Bearer released/Loss of bearer/' "$IT_WORK/sc/${x}_asr.xml" >"$IT_WORK/sc/${x}_rar.xml"
done
mid_call 4b "BYE with Reason after the RAR" rar "$N_AAR_OK" "$(rx_sid "$IMPU_B")" rar 2

# ---- 5. many calls ----
t0=$SECONDS
part 5 "plain calls" a_call b_call "$NCALLS" -r 20
say "5. $NCALLS calls in $((SECONDS - t0)) s"
wait_recs 'len([x for x in r if x["cmd"] == "STR"])' $((8 + 2 * NCALLS)) 10 ||
    fail "5. STRs: $(recs 'len([x for x in r if x["cmd"] == "STR"])')"
ctl stats
say "5. PCRF stats: $REPLY"
[[ $REPLY == "sessions=2 "* ]] || fail "5. sessions other than the two signalling ones: $REPLY"

# ---- 5b. the PCRF does not answer: the call fails after timeout_ms ----
ctl mute 1
[ "$REPLY" = "ok mute 1" ] || fail "5b. mute: $REPLY"
t0=$(($(date +%s%N) / 1000000))
part 5b "PCRF silent: 503 from B's leg after 2 s (500 at A), ACK + BYE at B" a_down b_down 1
ms=$(($(date +%s%N) / 1000000 - t0))
ctl mute 0
say "5b. with the PCRF silent the call failed in $ms ms (timeout_ms 2000)"
[ "$ms" -ge 1900 ] && [ "$ms" -lt 8000 ] || fail "5b. the call failed in $ms ms"
ctl stats
[[ $REPLY == "sessions=2 "* ]] || fail "5b. sessions: $REPLY"

# ---- 6. de-registration ----
pol_deregister 6
wait_recs 'len([x for x in r if x["cmd"] == "STR"])' $((10 + 2 * NCALLS)) 5 ||
    fail "6. no STR for the signalling sessions"
ctl stats
say "6. after de-registration: $REPLY"
[[ $REPLY == "sessions=0 "* ]] || fail "6. sessions left: $REPLY"

# ---- 7. the PCRF gone: registration still works, a call fails 503 at once ----
stop_proxy "$PCRF_PID"
sleep 1
kill -INT "$TSHARK_PID"
wait "$TSHARK_PID" 2>/dev/null
untrack "$TSHARK_PID"
down_part PCRF

for d in pcscf icscf scscf ims-hss; do assert_alive "${REG_PID[$d]}"; done
reg_lab_stop
grep -E "P-CSCF policy: " "$REG_DIR/pcscf.log" | sed 's/^/    /'
grep -qE "P-CSCF policy: 0 sessions at stop.* 1 timeouts, 3 unreachable" \
    "$REG_DIR/pcscf.log" || fail "the P-CSCF's stop line: want 0 sessions left, 1 timeout," \
    "3 unreachable (2 signalling, 1 call)"

# ---- what the PCRF recorded ----
python3 - "$REC" "$A_IP" "$B_IP" "$PA" "$PB" "$REG_P" "$IMPU_A" "$IMPU_B" "$NCALLS" <<'EOF' ||
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
a_ip, b_ip, pa, pb, p_ip, impu_a, impu_b, ncalls = sys.argv[2:10]
ncalls = int(ncalls)
def check(cond, what):
    if not cond:
        sys.exit("record: " + what)
def ok(r, code=2001, exp=False):
    return r.get("answer") == {"result": code, "experimental": exp}
aars = [r for r in recs if r["cmd"] == "AAR"]
strs = [r for r in recs if r["cmd"] == "STR"]
check(all(r["origin_host"].startswith("pcscf.") for r in aars + strs), "Origin-Host")
# 1. signalling
sig = [r for r in aars if r["media"][0]["number"] == 0]
check(len(sig) == 2, "two signalling AARs, got %d" % len(sig))
for r, ip, port, impu in ((sig[0], a_ip, pa, impu_a), (sig[1], b_ip, pb, impu_b)):
    check(ok(r) and r["rx_request_type"] == 0 and r["framed_ip"] == ip, "sig head %s" % r)
    check(r["sub_ids"] == [{"type": 2, "data": impu}], "sig Subscription-Id %s" % r)
    check(r["specific_actions"] == [2, 4] and "service_info_status" not in r, "sig actions")
    check(r["media"][0]["subs"] == [{"flow_number": 1, "flow_usage": 2,
          "af_signalling_protocol": 1, "flow_desc": [
              "permit out 17 from %s %s to %s 5060" % (ip, port, p_ip),
              "permit out 17 from %s 5060 to %s %s" % (p_ip, ip, port)]}],
          "sig flows %s" % r["media"][0])
calls = [r for r in aars if r["media"][0]["number"] == 1]
def leg(impu, i):
    """The i-th initial AAR of impu's leg and everything of its session."""
    first = [r for r in calls if r["rx_request_type"] == 0 and r["sub_ids"][0]["data"] == impu][i]
    return [r for r in recs if r["sid"] == first["sid"]]
def flows(ue, ue_port, rem, rem_port):
    return [{"flow_number": 1, "flow_desc": [
                "permit out 17 from %s %d to %s %d" % (ue, ue_port, rem, rem_port),
                "permit out 17 from %s %d to %s %d" % (rem, rem_port, ue, ue_port)]},
            {"flow_number": 2, "flow_usage": 1, "flow_desc": [
                "permit out 17 from %s %d to %s %d" % (ue, ue_port + 1, rem, rem_port + 1),
                "permit out 17 from %s %d to %s %d" % (rem, rem_port + 1, ue, ue_port + 1)]}]
# 2. hold and resume, leg by leg
for impu, ue, up, rem, rp, hold_status in ((impu_a, a_ip, 40000, b_ip, 42000, 0),
                                           (impu_b, b_ip, 42000, a_ip, 40000, 1)):
    s = leg(impu, 0)
    cmds = [r["cmd"] for r in s]
    check(cmds == ["AAR", "AAR", "AAR", "STR"], "%s leg: %s" % (impu, cmds))
    init, hold, res, st = s
    check([r["rx_request_type"] for r in s[:3]] == [0, 1, 1], "%s Rx-Request-Type" % impu)
    check(all(ok(r) for r in s), "%s answers %s" % (impu, s))
    check(init["framed_ip"] == ue and init["sub_ids"] == [{"type": 2, "data": impu}],
          "%s UE" % impu)
    check(init["specific_actions"] == [2, 4, 1] and init["service_info_status"] == 0,
          "%s actions" % impu)
    check(init["af_app_id"] == "IMS Services", "%s AF-Application-Identifier" % impu)
    m = init["media"]
    check(len(m) == 1 and m[0]["media_type"] == 0 and m[0]["flow_status"] == 2,
          "%s component %s" % (impu, m))
    check(m[0]["subs"] == flows(ue, up, rem, rp), "%s flows %s" % (impu, m[0]["subs"]))
    check(hold["media"][0]["flow_status"] == hold_status, "%s hold: Flow-Status %s"
          % (impu, hold["media"][0].get("flow_status")))
    check(res["media"][0]["flow_status"] == 2, "%s resume: Flow-Status" % impu)
    check(res["media"][0]["subs"] == flows(ue, up, rem, rp), "%s resume flows" % impu)
    check(st["termination_cause"] == 1, "%s STR" % impu)
print("record: call with hold/resume: both legs AAR, 2 UPDATEs, STR, flows both ways")
# 3. refused
rej = [r for r in aars if ok(r, 5063, True)]
check(len(rej) == 1 and rej[0]["sub_ids"][0]["data"] == impu_b, "one refused AAR (B's leg)")
check(not [r for r in strs if r["sid"] == rej[0]["sid"]], "no STR for the refused session")
# 3b. cancelled after the 183: both legs opened at the 183 and ended by the 487
for impu, i in ((impu_a, 1), (impu_b, 2)):
    s3 = leg(impu, i)
    check([r["cmd"] for r in s3] == ["AAR", "STR"] and all(ok(r) for r in s3),
          "%s leg of the cancelled call %s" % (impu, s3))
# 4. ASR
asa = [r for r in recs if r["cmd"] == "ASA"]
check(len(asa) == 1 and asa[0]["answer"] == {"result": 2001, "experimental": False},
      "ASA %s" % asa)
a4, b4 = leg(impu_a, 2), leg(impu_b, 3)   # B's refused leg was its second
check(a4[0]["sid"] == asa[0]["sid"], "ASR on A's leg of the third call")
check([r["cmd"] for r in a4] == ["AAR", "ASA", "STR"] or
      [r["cmd"] for r in a4] == ["AAR", "STR", "ASA"], "A's leg after the ASR %s" % a4)
check([r["cmd"] for r in b4] == ["AAR", "STR"], "B's leg after the ASR %s" % b4)
# 4b. RAR on B's leg: RAA 2001, then both legs end
raa = [r for r in recs if r["cmd"] == "RAA"]
check(len(raa) == 1 and raa[0]["answer"] == {"result": 2001, "experimental": False},
      "RAA %s" % raa)
a5, b5 = leg(impu_a, 3), leg(impu_b, 4)
check(b5[0]["sid"] == raa[0]["sid"], "RAR on B's leg of the fourth call")
check(sorted(r["cmd"] for r in b5) == ["AAR", "RAA", "STR"], "B's leg after the RAR %s" % b5)
check([r["cmd"] for r in a5] == ["AAR", "STR"], "A's leg after the RAR %s" % a5)
# 5b. the unanswered AAR: B's leg, no session, no STR
drop = [r for r in aars if r.get("dropped")]
check(len(drop) == 1 and "answer" not in drop[0] and drop[0]["sub_ids"][0]["data"] == impu_b,
      "one unanswered AAR %s" % drop)
check(not [r for r in strs if r["sid"] == drop[0]["sid"]], "no STR for the unanswered AAR")
# every session opened is closed once
opened = {r["sid"] for r in aars if ok(r) and r["rx_request_type"] == 0}
closed = [r["sid"] for r in strs]
check(sorted(closed) == sorted(opened), "STR per session: %d opened, %d STRs, %d distinct"
      % (len(opened), len(closed), len(set(closed))))
check(all(ok(r) for r in strs), "STAs")
check(len(opened) == 2 + 2 + 2 + 2 + 2 + 2 * ncalls, "sessions opened: %d" % len(opened))
print("record: %d sessions opened, each ended by one STR; %d messages checked"
      % (len(opened), len(recs)))
EOF
    fail "PCRF record check failed (record: $REC)"

# ---- what Wireshark saw ----
CHECK=$(tshark_check_clean "$PCAP" 3868) || fail "tshark_check_clean: $CHECK"
printf '%s\n' "$CHECK" | tail -5
TABLE=$IT_WORK/messages.tsv
tshark -n -r "$PCAP" -d "tcp.port==3868,diameter" -Y diameter -T fields -E separator=/t \
    -E occurrence=a -E aggregator=';' -e diameter.cmd.code -e diameter.flags.request \
    >"$TABLE" 2>"$IT_WORK/tshark-fields.err" ||
    fail "tshark -T fields failed: $(cat "$IT_WORK/tshark-fields.err")"
count() {
    awk -F'\t' -v c="$1" -v r="$2" '{
        n = split($1, cs, ";"); split($2, rs, ";")
        for (i = 1; i <= n; i++)
            if (cs[i] == c && ((rs[i] == "1" || rs[i] == "True") == (r == "R"))) k++
    } END { print k + 0 }' "$TABLE"
}
summary=""
for spec in 265:AAR 275:STR 274:ASA 258:RAA; do
    code=${spec%%:*} cmd=${spec#*:}
    n=$(recs "len([x for x in r if x['cmd'] == '$cmd'])")
    na=$(recs "len([x for x in r if x['cmd'] == '$cmd' and not x.get('dropped')])")
    [ "$(count "$code" R)" -eq "$n" ] && [ "$(count "$code" A)" -eq "$na" ] ||
        fail "tshark: command $code: $(count "$code" R) requests, $(count "$code" A) answers," \
            "recorded $n ($na answered)"
    summary+=" $code=$n"
done
say "tshark: Rx commands (requests = recorded; answers = recorded - 1 unanswered AAR):" \
    "$summary; no malformed packet"
ok "Rx policy: signalling AAR per registration, AAR at answer (flows both ways, both legs)," \
    "UPDATE on hold/resume, STR at BYE; refusal -> 488; ASR and RAR -> BYE with Reason to" \
    "both UEs; PCRF silent or down -> 503;" \
    "$NCALLS calls and de-registration leave no session"
