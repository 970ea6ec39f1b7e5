#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The test PCRF (tests/tools/test-pcrf.c) against an Rx AF on our stack (tests/tools/rx-client.c,
# which builds its Media-Component-Descriptions from SDP with pcscf/sdp.c), over TCP on
# loopback, with Wireshark as a second opinion on every byte.
#
#   tshark captures lo for the PCRF port; test-pcrf starts (recording to a JSON-lines file,
#   control socket on UDP); rx-client runs, one connection each:
#   1. a call: AAR (AMR-WB offer/answer with preconditions) -> AAA 2001; AAR UPDATE for hold
#      (a=sendonly / a=recvonly) and again for resume; STR -> STA 2001; then the registration's
#      signalling AAR (AF_SIGNALLING, SIP) and its STR;
#   2. "reject 5063" through the control socket: AAR -> AAA Experimental-Result 5063 (no
#      session kept); "reject 0"; an UPDATE for an unknown session -> 5002;
#   3. AAR, then the control socket's "asr": the AF gets ASR (Abort-Cause 0) and answers ASA
#      2001, then STR; 4. the same with "rar - 4" (RELEASE_OF_BEARER): RAR -> RAA 2001;
#      5. the same with SIGHUP to the PCRF (ASR on the last session).
# Checked: each step's result as rx-client saw it; the PCRF's record field by field (flow
# rules both ways for RTP and RTCP, media type, bandwidth UL/DL, Flow-Status on hold, Codec-Data,
# Framed-IP-Address, Specific-Actions, Subscription-Id, Rx-Request-Type, the signalling
# component, Termination-Cause, ASA/RAA results); "stats" reports no session left; test-pcrf
# stops cleanly on SIGTERM; tshark_check_clean finds no malformed packet and no expert error,
# the command counts are as sent, and the Flow-Descriptions Wireshark decodes are the ones the
# PCRF recorded. Needs root (capture on lo). Exit 1 on any failure.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tshark.sh"
it_init 20700

command -v tshark >/dev/null || fail "tshark not found in PATH"
PCRF=$(bin tests/test-pcrf) || exit 1
RXC=$(bin tests/rx-client) || exit 1
REALM=ims.test
PCRF_HOST=pcrf.$REALM
AF_HOST=pcscf.$REALM
UE=10.45.0.2
IMPU=sip:001010000000001@$REALM
REC=$IT_WORK/pcrf.jsonl
PCAP=$IT_WORK/rx.pcap
pick_port_into PORT
pick_port_into CPORT

# ---- SDP as handsets send it ----
sdp() { printf '%s\r\n' "$@"; }
sdp v=0 "o=- 1 1 IN IP4 $UE" s=- "c=IN IP4 $UE" b=AS:49 "t=0 0" \
    "m=audio 49152 RTP/AVP 116 111" b=AS:49 b=RR:2500 b=RS:0 "a=rtpmap:116 AMR-WB/16000/1" \
    "a=fmtp:116 mode-change-capability=2;max-red=0" "a=rtpmap:111 telephone-event/16000" \
    "a=curr:qos local none" "a=curr:qos remote none" "a=des:qos mandatory local sendrecv" \
    "a=des:qos optional remote sendrecv" a=sendrecv a=ptime:20 >"$IT_WORK/offer.sdp"
sdp v=0 "o=- 7 7 IN IP4 10.45.0.3" s=- "t=0 0" "m=audio 50000 RTP/AVP 116 111" \
    "c=IN IP4 10.45.0.3" b=AS:41 "a=rtpmap:116 AMR-WB/16000/1" \
    "a=rtpmap:111 telephone-event/16000" "a=curr:qos local sendrecv" \
    "a=des:qos mandatory local sendrecv" >"$IT_WORK/answer.sdp"
sdp v=0 "o=- 1 2 IN IP4 $UE" s=- "c=IN IP4 $UE" "t=0 0" "m=audio 49152 RTP/AVP 116" \
    b=AS:49 "a=rtpmap:116 AMR-WB/16000/1" a=sendonly >"$IT_WORK/hold-offer.sdp"
sdp v=0 "o=- 7 8 IN IP4 10.45.0.3" s=- "c=IN IP4 10.45.0.3" "t=0 0" \
    "m=audio 50000 RTP/AVP 116" b=AS:41 "a=rtpmap:116 AMR-WB/16000/1" a=recvonly \
    >"$IT_WORK/hold-answer.sdp"
CALL="$IT_WORK/offer.sdp,$IT_WORK/answer.sdp"
HOLD="$IT_WORK/hold-offer.sdp,$IT_WORK/hold-answer.sdp"

# ---- capture (as cx_tshark.sh) ----
start_capture() {
    tshark_capture_start "tcp port $PORT" "$PCAP"
}
stop_capture() { tshark_capture_stop "$PCAP"; }

# ctl COMMAND: one datagram to the PCRF's control socket; the reply in $REPLY.
ctl() { udp_ctl "$CPORT" "$@"; }

# rxc TAG STEP...: run rx-client to the end; output in $OUT and $IT_WORK/TAG.out.
RUNS=0
rxc() {
    local tag=$1
    shift
    OUT=$("$RXC" --origin-host "$AF_HOST" --origin-realm "$REALM" \
        --pcrf "$PCRF_HOST@127.0.0.1:$PORT" --ue-ip "$UE" --impu "$IMPU" "$@" 2>&1)
    RC=$?
    RUNS=$((RUNS + 1))
    printf '%s\n' "$OUT" >"$IT_WORK/$tag.out"
    [ "$RC" -eq 0 ] || fail "$tag: rx-client exit $RC: $OUT"
}
# want WHAT REGEX...: each regex matches a whole line of $OUT.
want() {
    local what=$1 re
    shift
    for re in "$@"; do
        grep -qxE -- "$re" <<<"$OUT" || fail "$what: want /$re/, got: $OUT"
    done
}

# network_release TAG CTL-COMMAND|SIGHUP EXPECT-LINE: rx-client opens a session and waits for
# the PCRF's request; the PCRF is told to send it once the AAR is answered.
network_release() {
    local tag=$1 how=$2 expect=$3 wait_step=wait-asr pid i
    [ "${how:0:3}" = rar ] && wait_step=wait-rar
    "$RXC" --origin-host "$AF_HOST" --origin-realm "$REALM" --pcrf "$PCRF_HOST@127.0.0.1:$PORT" \
        --ue-ip "$UE" --impu "$IMPU" --wait-seconds 20 "aar=$CALL" "$wait_step" str \
        >"$IT_WORK/$tag.out" 2>&1 &
    pid=$!
    track "$pid" "rx-client:$tag" "$IT_WORK/$tag.out"
    RUNS=$((RUNS + 1))
    for ((i = 0; i < 200; i++)); do
        grep -q '^aar result=' "$IT_WORK/$tag.out" && break
        alive "$pid" || fail "$tag: rx-client ended early: $(cat "$IT_WORK/$tag.out")"
        sleep 0.05
    done
    grep -q '^aar result=2001 ' "$IT_WORK/$tag.out" || fail "$tag: no AAA 2001"
    if [ "$how" = SIGHUP ]; then
        kill -HUP "$PCRF_PID"
    else
        ctl "$how"
        [[ $REPLY == "ok "* ]] || fail "$tag: control '$how': $REPLY"
    fi
    for ((i = 0; i < 400; i++)); do
        alive "$pid" || break
        sleep 0.05
    done
    alive "$pid" && fail "$tag: rx-client still running 20 s after the PCRF was told"
    wait "$pid" || fail "$tag: rx-client failed: $(cat "$IT_WORK/$tag.out")"
    untrack "$pid"
    OUT=$(cat "$IT_WORK/$tag.out")
    want "$tag" "aar result=2001 experimental=0 sid=.+" "$expect" "str result=2001 .*"
    say "$tag: $(tr '\n' ';' <<<"$OUT")"
}

# ---- the exchanges ----
start_capture
"$PCRF" --origin-host "$PCRF_HOST" --origin-realm "$REALM" --listen "127.0.0.1:$PORT" \
    --af "$AF_HOST@127.0.0.1" --record "$REC" --control "127.0.0.1:$CPORT" \
    >"$IT_WORK/pcrf.log" 2>&1 &
PCRF_PID=$!
track "$PCRF_PID" test-pcrf "$IT_WORK/pcrf.log"
wait_listen "$PCRF_PID" tcp "$PORT"
say "test-pcrf pid $PCRF_PID listening on 127.0.0.1:$PORT, control udp $CPORT"

rxc call "aar=$CALL" "update=$HOLD" "update=$CALL" str "sig=$UE:5070,127.0.0.10:5060" str
want call "aar result=2001 experimental=0 sid=$AF_HOST;.+" "update result=2001 experimental=0 .*" \
    "str result=2001 experimental=0 .*" "sig result=2001 experimental=0 .*"
[ "$(grep -c '^update result=2001' <<<"$OUT")" -eq 2 ] || fail "call: two updates: $OUT"
[ "$(grep -c '^str result=2001' <<<"$OUT")" -eq 2 ] || fail "call: two STRs: $OUT"
say "call: AAR, 2 x UPDATE, STR, signalling AAR, STR answered 2001"

ctl reject 5063
[ "$REPLY" = "ok reject 5063" ] || fail "reject: $REPLY"
rxc rejected "aar=$CALL"
want rejected "aar result=5063 experimental=1 .*"
ctl reject 0
rxc unknown "update=$CALL"
want unknown "update result=5002 experimental=0 .*"
say "rejected AAR: Experimental-Result 5063; UPDATE of an unknown session: 5002"

network_release asr "asr" "asr abort_cause=0 sid=.+"
network_release rar "rar - 4" "rar actions=4 sid=.+"
network_release sighup SIGHUP "asr abort_cause=0 sid=.+"

ctl stats
say "test-pcrf stats: $REPLY"
[[ $REPLY == "sessions=0 aar=9 aar_rejected=1 str=5 asr=2 asa=2 rar=1 raa=1" ]] ||
    fail "stats: $REPLY"
stop_proxy "$PCRF_PID"
stop_capture
if grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$IT_WORK"/*.out; then
    fail "an rx-client output holds a sanitizer report"
fi

# ---- what the PCRF recorded ----
python3 - "$REC" "$UE" "$IMPU" <<'EOF' || fail "PCRF record check failed (record: $REC)"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ue, impu = sys.argv[2], sys.argv[3]
def check(cond, what):
    if not cond:
        sys.exit("record: " + what)
# ASA/RAA are recorded when the answer is handled, which may be after the AF's next request
# (STR) on the same connection: they are checked apart, each after its session's AAR.
net = [r for r in recs if r["cmd"] in ("ASA", "RAA")]
recs_all, recs = recs, [r for r in recs if r["cmd"] not in ("ASA", "RAA")]
cmds = [r["cmd"] for r in recs]
want = ["AAR", "AAR", "AAR", "STR", "AAR", "STR", "AAR", "AAR",
        "AAR", "STR", "AAR", "STR", "AAR", "STR"]
check(cmds == want, "commands %s, want %s" % (cmds, want))
check([r["cmd"] for r in net] == ["ASA", "RAA", "ASA"], "network-initiated %s" % net)
def ok(r, code=2001, exp=False):
    return r["answer"] == {"result": code, "experimental": exp}
aar, hold, resume, str1, sig = recs[0], recs[1], recs[2], recs[3], recs[4]
check(ok(aar) and aar["origin_host"].startswith("pcscf."), "AAR answered 2001")
check(aar["rx_request_type"] == 0 and hold["rx_request_type"] == 1, "Rx-Request-Type")
check(aar["sid"] == hold["sid"] == resume["sid"] == str1["sid"] != sig["sid"], "Session-Ids")
check(aar["framed_ip"] == ue, "Framed-IP-Address")
check(aar["specific_actions"] == [2, 4, 1], "Specific-Action")
check(aar["sub_ids"] == [{"type": 2, "data": impu}], "Subscription-Id")
check(aar["af_app_id"] == "IMS Services" and aar["af_charging_id"], "AF ids")
check(aar["service_info_status"] == 0, "Service-Info-Status")
m = aar["media"]
check(len(m) == 1, "one media component")
m = m[0]
check(m["number"] == 1 and m["media_type"] == 0 and m["flow_status"] == 2, "component head")
check(m["max_bw_ul"] == 41000 and m["max_bw_dl"] == 49000, "bandwidth %s" % m)
check(m["rr_bw"] == 2500 and m["rs_bw"] == 0, "RR/RS")
check(m["codec_data"][0].startswith("uplink\noffer\nm=audio 49152 RTP/AVP 116 111\n"), "codec 1")
check(m["codec_data"][1].startswith("downlink\nanswer\nm=audio 50000 RTP/AVP 116 111\n"),
      "codec 2")
rtp, rtcp = m["subs"]
check(rtp == {"flow_number": 1, "flow_desc": [
    "permit out 17 from %s 49152 to 10.45.0.3 50000" % ue,
    "permit out 17 from 10.45.0.3 50000 to %s 49152" % ue]}, "RTP flows %s" % rtp)
check(rtcp == {"flow_number": 2, "flow_usage": 1, "flow_desc": [
    "permit out 17 from %s 49153 to 10.45.0.3 50001" % ue,
    "permit out 17 from 10.45.0.3 50001 to %s 49153" % ue]}, "RTCP flows %s" % rtcp)
check(hold["media"][0]["flow_status"] == 0, "hold: ENABLED-UPLINK")
check(resume["media"][0]["flow_status"] == 2, "resume: ENABLED")
check(str1["termination_cause"] == 1 and ok(str1), "STR")
s = sig["media"][0]
check(s["number"] == 0 and s["subs"] == [{"flow_number": 1, "flow_usage": 2,
      "af_signalling_protocol": 1, "flow_desc": [
          "permit out 17 from %s 5070 to 127.0.0.10 5060" % ue,
          "permit out 17 from 127.0.0.10 5060 to %s 5070" % ue]}], "signalling %s" % s)
check(sig["specific_actions"] == [2, 4] and ok(sig), "signalling AAR")
check(ok(recs[6], 5063, True), "rejected AAR")
check(ok(recs[7], 5002), "UPDATE of an unknown session")
for aar_i, r in zip((8, 10, 12), net):
    check(r["answer"] == {"result": 2001, "experimental": False}, "%s result" % r)
    check(r["sid"] == recs[aar_i]["sid"] and ok(recs[aar_i]), "%s session" % r)
    check(recs_all.index(r) > recs_all.index(recs[aar_i]), "%s after its AAR" % r)
    check(recs[aar_i + 1]["cmd"] == "STR" and recs[aar_i + 1]["sid"] == r["sid"], "STR after")
print("record: %d messages checked field by field" % len(recs_all))
EOF

# ---- what Wireshark saw ----
CHECK=$(tshark_check_clean "$PCAP" "$PORT") || fail "tshark_check_clean: $CHECK"
printf '%s\n' "$CHECK"
TABLE=$IT_WORK/messages.tsv
tshark -n -r "$PCAP" -d "tcp.port==$PORT,diameter" -Y diameter -T fields -E separator=/t \
    -E occurrence=a -E aggregator=';' -e diameter.cmd.code -e diameter.flags.request \
    -e diameter.Flow-Description >"$TABLE" 2>"$IT_WORK/tshark-fields.err" ||
    fail "tshark -T fields failed: $(cat "$IT_WORK/tshark-fields.err")"
# count CODE R|A: requests / answers of a command (a frame may hold several messages).
count() {
    awk -F'\t' -v c="$1" -v r="$2" '{
        n = split($1, cs, ";"); split($2, rs, ";")
        for (i = 1; i <= n; i++)
            if (cs[i] == c && ((rs[i] == "1" || rs[i] == "True") == (r == "R"))) k++
    } END { print k + 0 }' "$TABLE"
}
summary=""
for spec in 257:$RUNS 282:$RUNS 265:9 275:5 274:2 258:1; do
    code=${spec%%:*} n=${spec#*:}
    [ "$(count "$code" R)" -eq "$n" ] && [ "$(count "$code" A)" -eq "$n" ] ||
        fail "command $code: $(count "$code" R) requests, $(count "$code" A) answers, want $n"
    summary+=" $code=$n"
done
WS_RULES=$(awk -F'\t' '$3 != "" { print $3 }' "$TABLE" | tr ';' '\n' | sort)
REC_RULES=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    for m in r.get("media", []):
        for s in m["subs"]:
            for d in s["flow_desc"]:
                print(d)' "$REC" | sort)
[ -n "$WS_RULES" ] && [ "$WS_RULES" = "$REC_RULES" ] ||
    fail "Flow-Descriptions: Wireshark decoded $(echo $WS_RULES), recorded $(echo $REC_RULES)"
say "tshark: commands (requests and answers):$summary;" \
    "$(grep -c . <<<"$WS_RULES") Flow-Descriptions agree"

ok "test PCRF: AAR/AAA, UPDATE (hold/resume), STR/STA, signalling AAR, rejected AAR (5063)," \
    "ASR/ASA, RAR/RAA, SIGHUP ASR; $RUNS rx-client runs, Wireshark clean"
