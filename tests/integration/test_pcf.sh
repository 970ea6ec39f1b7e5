#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The test PCF (tests/tools/test-pcf.c, N5 Npcf_PolicyAuthorization on our HTTP/2 server)
# against the P-CSCF's N5 client (pcscf/n5-client.c, driven by tests/tools/n5-client.c, which
# builds medComponents from SDP with pcscf/sdp.c), h2c over loopback, with Wireshark decoding
# every HTTP/2 frame as a second opinion.
#
#   1. a call: create (AMR-WB offer/answer) -> 201 + Location; update on hold (sendonly /
#      recvonly) and on resume -> 200 (PATCH, merge-patch+json); delete -> 204;
#   2. open5gs's refusals, from raw bodies: no suppFeat / notifUri / medComponents -> 400
#      ProblemDetails; medType TEXT -> 500 "Not implemented"; no UE address -> 404; the
#      control socket's "reject 403" -> 403 with cause REQUESTED_SERVICE_NOT_AUTHORIZED;
#      update and delete of an unknown app session -> 404; curl (a third-party HTTP/2
#      client, prior knowledge) gets the same 400;
#   3. the control socket's "terminate": the PCF POSTs TerminationInfo to {notifUri}/terminate,
#      the client's notification server answers 204 and reports the app session id (from
#      resUri) and termCause, then deletes the session;
#   4. through an SCP, settings read from a config file as the P-CSCF does: the
#      3gpp-sbi-target-apiroot and 3gpp-sbi-discovery-* headers reach the "SCP" (test-pcf);
#   5. PCF down: a port nobody listens on -> "unreachable" at once; a PCF that accepts TCP
#      but never speaks (listen backlog, no accept) -> "timeout" within the configured 1500 ms
#      (elapsed asserted between 1500 and 4000 ms, whole run under 6 s);
#   6. the same over TLS with ALPN h2 (a second test-pcf with a throwaway certificate): create,
#      update, terminate to an https notifUri, delete; a wrong CA and TLS to an h2c PCF fail
#      as "unreachable"; curl --http2 over https gets a 400 (ALPN h2 with a foreign client).
# Checked: each step's result as n5-client saw it; test-pcf's record field by field (paths,
# methods, content types, ascReqData members, medComponents with fDescs both ways for RTP and
# RTCP, fStatus on hold, the terminate answer); "stats" shows no session left; test-pcf stops
# cleanly; tshark decodes the capture as HTTP/2 with no malformed frame and no expert error,
# and the :method/:path sequence it decodes is the one test-pcf recorded. Needs root for the
# capture on lo. Exit 1 on any failure.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tshark.sh"
it_init 22100

for tool in tshark curl openssl; do
    command -v "$tool" >/dev/null || fail "$tool not found in PATH"
done
PCF=$(bin tests/test-pcf) || exit 1
N5C=$(bin tests/n5-client) || exit 1
UE=10.45.0.2
IMPU=tel:+15550001
REC=$IT_WORK/pcf.jsonl
PCAP=$IT_WORK/n5.pcap
pick_port_into PORT
pick_port_into CPORT
pick_port_into NPORT
pick_port_into DEAD
pick_port_into MUTE
pick_port_into TPORT
pick_port_into TCPORT
pick_port_into TNPORT
API=/npcf-policyauthorization/v1/app-sessions

# ---- SDP as handsets send it ----
sdp() { printf '%s\r\n' "$@"; }
sdp v=0 "o=- 1 1 IN IP4 $UE" s=- "c=IN IP4 $UE" b=AS:49 "t=0 0" \
    "m=audio 49152 RTP/AVP 116 111" b=AS:49 b=RR:2500 b=RS:0 "a=rtpmap:116 AMR-WB/16000/1" \
    "a=rtpmap:111 telephone-event/16000" a=sendrecv a=ptime:20 >"$IT_WORK/offer.sdp"
sdp v=0 "o=- 7 7 IN IP4 10.45.0.3" s=- "t=0 0" "m=audio 50000 RTP/AVP 116 111" \
    "c=IN IP4 10.45.0.3" b=AS:41 "a=rtpmap:116 AMR-WB/16000/1" \
    "a=rtpmap:111 telephone-event/16000" >"$IT_WORK/answer.sdp"
sdp v=0 "o=- 1 2 IN IP4 $UE" s=- "c=IN IP4 $UE" "t=0 0" "m=audio 49152 RTP/AVP 116" \
    b=AS:49 "a=rtpmap:116 AMR-WB/16000/1" a=sendonly >"$IT_WORK/hold-offer.sdp"
sdp v=0 "o=- 7 8 IN IP4 10.45.0.3" s=- "c=IN IP4 10.45.0.3" "t=0 0" \
    "m=audio 50000 RTP/AVP 116" b=AS:41 "a=rtpmap:116 AMR-WB/16000/1" a=recvonly \
    >"$IT_WORK/hold-answer.sdp"
CALL="$IT_WORK/offer.sdp,$IT_WORK/answer.sdp"
HOLD="$IT_WORK/hold-offer.sdp,$IT_WORK/hold-answer.sdp"

# ---- raw create bodies open5gs refuses ----
raw() { python3 -c "$1" "$UE" >"$IT_WORK/$2.json" || fail "raw body $2"; }
BASE='import json, sys
d = {"afAppId": "mmtel", "dnn": "ims", "ueIpv4": sys.argv[1], "suppFeat": "0",
     "notifUri": "http://127.0.0.1:9/n5",
     "medComponents": {"1": {"medCompN": 1, "medType": "AUDIO"}}}
'
raw "$BASE"'del d["suppFeat"]; print(json.dumps({"ascReqData": d}))' no-suppfeat
raw "$BASE"'del d["notifUri"]; print(json.dumps({"ascReqData": d}))' no-notifuri
raw "$BASE"'del d["medComponents"]; print(json.dumps({"ascReqData": d}))' no-media
raw "$BASE"'d["medComponents"]["1"]["medType"] = "TEXT"; print(json.dumps({"ascReqData": d}))' \
    text-media
raw "$BASE"'del d["ueIpv4"]; print(json.dumps({"ascReqData": d}))' no-ue
raw "$BASE"'print(json.dumps(d))' no-ascreqdata

# ---- capture ----
start_capture() {
    tshark_capture_start "tcp port $PORT or tcp port $NPORT" "$PCAP"
}
stop_capture() { tshark_capture_stop "$PCAP"; }

# ctl COMMAND: one datagram to the PCF's control socket; the reply in $REPLY.
ctl() { udp_ctl "${CTL_PORT:-$CPORT}" "$@"; }

# n5c TAG WANT-RC [options] STEP...: run n5-client to the end; output in $OUT.
n5c() {
    local tag=$1 want_rc=$2
    shift 2
    OUT=$("$N5C" --ue-ip "$UE" --impu "$IMPU" "$@" 2>&1)
    RC=$?
    printf '%s\n' "$OUT" >"$IT_WORK/$tag.out"
    [ "$RC" -eq "$want_rc" ] || fail "$tag: n5-client exit $RC, want $want_rc: $OUT"
}
# want WHAT REGEX...: each regex matches a whole line of $OUT.
want() {
    local what=$1 re
    shift
    for re in "$@"; do
        grep -qxE -- "$re" <<<"$OUT" || fail "$what: want /$re/, got: $OUT"
    done
}

# told TAG LINE CTL-PORT CTL-COMMAND REPLY -- N5C-ARGS...: run n5-client in the background;
# once its output has a line starting with LINE, send CTL-COMMAND to the PCF on CTL-PORT (the
# reply must be REPLY); then wait (20 s at most) for n5-client to end well. Output in $OUT.
told() {
    local tag=$1 line=$2 port=$3 cmd=$4 reply=$5 pid i
    shift 6
    "$N5C" --ue-ip "$UE" --impu "$IMPU" --wait-seconds 20 "$@" >"$IT_WORK/$tag.out" 2>&1 &
    pid=$!
    track "$pid" "n5-client:$tag" "$IT_WORK/$tag.out"
    for ((i = 0; i < 200; i++)); do
        grep -q "^$line" "$IT_WORK/$tag.out" && break
        alive "$pid" || fail "$tag: n5-client ended early: $(cat "$IT_WORK/$tag.out")"
        sleep 0.05
    done
    CTL_PORT=$port ctl "$cmd"
    [ "$REPLY" = "$reply" ] || fail "$tag: control '$cmd': $REPLY"
    for ((i = 0; i < 400; i++)); do
        alive "$pid" || break
        sleep 0.05
    done
    alive "$pid" && fail "$tag: n5-client still running 20 s after the PCF was told"
    wait "$pid" || fail "$tag: n5-client failed: $(cat "$IT_WORK/$tag.out")"
    untrack "$pid"
    OUT=$(cat "$IT_WORK/$tag.out")
}

# ---- the exchanges ----
start_capture
"$PCF" --listen "127.0.0.1:$PORT" --record "$REC" --control "127.0.0.1:$CPORT" \
    >"$IT_WORK/pcf.log" 2>&1 &
PCF_PID=$!
track "$PCF_PID" test-pcf "$IT_WORK/pcf.log"
wait_listen "$PCF_PID" tcp "$PORT"
say "test-pcf pid $PCF_PID listening on 127.0.0.1:$PORT, control udp $CPORT"
TO=(--pcf "127.0.0.1:$PORT")

n5c call 0 "${TO[@]}" --notif-listen "127.0.0.1:$NPORT" "create=$CALL" "update=$HOLD" \
    "update=$CALL" delete
want call "create result=ok status=201 id=1 .*" "update result=ok status=200 id=1 .*" \
    "delete result=ok status=204 id=1 .*"
[ "$(grep -c '^update result=ok' <<<"$OUT")" -eq 2 ] || fail "call: two updates: $OUT"
say "call: create 201 (id 1), 2 x update 200, delete 204"

n5c refusals 0 "${TO[@]}" "raw=$IT_WORK/no-suppfeat.json" "raw=$IT_WORK/no-notifuri.json" \
    "raw=$IT_WORK/no-media.json" "raw=$IT_WORK/text-media.json" "raw=$IT_WORK/no-ue.json" \
    "raw=$IT_WORK/no-ascreqdata.json"
want refusals "raw result=rejected status=400 .* cause=No AscReqData->suppFeat" \
    "raw result=rejected status=400 .* cause=No AscReqData->notifUri" \
    "raw result=rejected status=400 .* cause=No AscReqData->medComponents" \
    "raw result=rejected status=500 .* cause=Not implemented : \[Media-Type:TEXT\]" \
    "raw result=rejected status=404 .* cause=PDU_SESSION_NOT_AVAILABLE" \
    "raw result=rejected status=400 .* cause=No AscReqData"
say "open5gs refusals: 400 x 4 (suppFeat, notifUri, medComponents, ascReqData), 500, 404"

# a third-party HTTP/2 client (curl on nghttp2, prior knowledge) gets the same answer
CURL=$(curl -sS --http2-prior-knowledge -o "$IT_WORK/curl.body" -w '%{http_code} %{http_version}' \
    -H 'content-type: application/json' --data-binary "@$IT_WORK/no-suppfeat.json" \
    "http://127.0.0.1:$PORT$API") || fail "curl h2c: $CURL"
[ "$CURL" = "400 2" ] && grep -q '"detail":"No AscReqData->suppFeat"' "$IT_WORK/curl.body" ||
    fail "curl h2c: $CURL $(cat "$IT_WORK/curl.body")"
say "curl --http2-prior-knowledge: 400 over HTTP/2 with the ProblemDetails"

ctl reject 403
[ "$REPLY" = "ok reject 403" ] || fail "reject: $REPLY"
n5c rejected 0 "${TO[@]}" --notif-listen "127.0.0.1:$NPORT" "create=$CALL"
want rejected "create result=rejected status=403 id= .* cause=REQUESTED_SERVICE_NOT_AUTHORIZED"
ctl reject 0
n5c unknown 0 "${TO[@]}" id=999 "update=$CALL" delete
want unknown "update result=rejected status=404 .*" "delete result=rejected status=404 .*"
say "reject 403 -> 403 REQUESTED_SERVICE_NOT_AUTHORIZED; unknown app session -> 404"

# terminate: n5-client opens a session and waits; the PCF is told once the create is answered
told terminate "create result=" "$CPORT" "terminate - PDU_SESSION_TERMINATION" \
    "ok terminate id=2" -- "${TO[@]}" --notif-listen "127.0.0.1:$NPORT" "create=$CALL" \
    wait-terminate delete
TID=2
want terminate "create result=ok status=201 id=$TID .*" \
    "terminate id=$TID cause=PDU_SESSION_TERMINATION" "delete result=ok status=204 id=$TID .*"
say "terminate: notification for app session $TID answered 204, then deleted"

# through an SCP, configured as the P-CSCF reads it (pcscf_n5_cfg_from_conf): test-pcf
# plays the SCP and records the routing headers
cat >"$IT_WORK/n5.cfg" <<CFG
pcscf: { policy: { n5: { pcf = "127.0.0.13:7777"; scp = "127.0.0.1:$PORT";
                         notif_uri = "http://127.0.0.1:9/pcscf/n5"; dnn = "ims.test";
                         timeout_ms = 3000; }; }; };
CFG
n5c scp 0 --config "$IT_WORK/n5.cfg:pcscf.policy.n5" "create=$CALL" delete
want scp "create result=ok status=201 id=3 .*" "delete result=ok status=204 id=3 .*"
say "through an SCP from the config file: create 201, delete 204"

ctl stats
say "test-pcf stats: $REPLY"
WANT_STATS="sessions=0 create=11 update=2 delete=3 rejected=1 terminate=1 terminate_answered=1"
[ "$REPLY" = "$WANT_STATS" ] || fail "stats: $REPLY"

# ---- PCF down ----
n5c dead 1 --pcf "127.0.0.1:$DEAD" --notif-listen 127.0.0.1:0 --timeout-ms 1500 "create=$CALL"
want dead "create result=unreachable status=0 id= elapsed_ms=[0-9]+ cause=connect"
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
time.sleep(60)' "$MUTE" >"$IT_WORK/mute.log" 2>&1 &
MUTE_PID=$!
track "$MUTE_PID" "mute-pcf" "$IT_WORK/mute.log"
wait_listen "$MUTE_PID" tcp "$MUTE"
T0=$(date +%s%N)
n5c mute 1 --pcf "127.0.0.1:$MUTE" --notif-listen 127.0.0.1:0 --timeout-ms 1500 "create=$CALL"
WALL=$((($(date +%s%N) - T0) / 1000000))
want mute "create result=timeout status=0 id= elapsed_ms=[0-9]+ cause=timeout"
EL=$(sed -n 's/.* elapsed_ms=\([0-9]*\) .*/\1/p' <<<"$OUT")
[ "$EL" -ge 1500 ] && [ "$EL" -lt 4000 ] && [ "$WALL" -lt 6000 ] ||
    fail "mute PCF: reported after $EL ms (run $WALL ms), want 1500..4000 (< 6000)"
kill "$MUTE_PID" 2>/dev/null
wait "$MUTE_PID" 2>/dev/null
untrack "$MUTE_PID"
say "PCF down: refused -> unreachable at once; mute -> timeout after $EL ms (run $WALL ms)"

# ---- the same over TLS: https with ALPN h2 both ways (not in the capture: encrypted) ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=pcf \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$IT_WORK/key.pem" -out "$IT_WORK/cert.pem" \
    >"$IT_WORK/openssl.log" 2>&1 || fail "openssl req: $(cat "$IT_WORK/openssl.log")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$IT_WORK/key2.pem" -out "$IT_WORK/cert2.pem" \
    >>"$IT_WORK/openssl.log" 2>&1 || fail "openssl req: $(cat "$IT_WORK/openssl.log")"
"$PCF" --listen "127.0.0.1:$TPORT" --record "$IT_WORK/pcf-tls.jsonl" \
    --control "127.0.0.1:$TCPORT" --tls-cert "$IT_WORK/cert.pem" --tls-key "$IT_WORK/key.pem" \
    >"$IT_WORK/pcf-tls.log" 2>&1 &
TPCF_PID=$!
track "$TPCF_PID" test-pcf-tls "$IT_WORK/pcf-tls.log"
wait_listen "$TPCF_PID" tcp "$TPORT"
TLS=(--pcf "127.0.0.1:$TPORT" --tls --tls-ca "$IT_WORK/cert.pem")
told tls "update result=" "$TCPORT" terminate "ok terminate id=1" -- "${TLS[@]}" \
    --notif-listen "127.0.0.1:$TNPORT" --notif-cert "$IT_WORK/cert2.pem" \
    --notif-key "$IT_WORK/key2.pem" "create=$CALL" "update=$HOLD" wait-terminate delete
want tls "notif_uri=https://127.0.0.1:$TNPORT/pcscf/n5" "create result=ok status=201 id=1 .*" \
    "update result=ok status=200 id=1 .*" "terminate id=1 cause=ALL_SDF_DEACTIVATION" \
    "delete result=ok status=204 id=1 .*"
n5c tls-badca 1 --pcf "127.0.0.1:$TPORT" --tls --tls-ca "$IT_WORK/cert2.pem" \
    --notif-listen 127.0.0.1:0 "create=$CALL"
want tls-badca "create result=unreachable status=0 .* cause=connect"
n5c tls-to-h2c 1 --pcf "127.0.0.1:$PORT" --tls --notif-listen 127.0.0.1:0 "create=$CALL"
want tls-to-h2c "create result=unreachable status=0 .* cause=connect"
CURL=$(curl -sS --http2 --cacert "$IT_WORK/cert.pem" -o "$IT_WORK/curl-tls.body" \
    -w '%{http_code} %{http_version}' -H 'content-type: application/json' \
    --data-binary "@$IT_WORK/no-notifuri.json" "https://127.0.0.1:$TPORT$API") ||
    fail "curl https: $CURL"
[ "$CURL" = "400 2" ] || fail "curl https (ALPN h2): $CURL $(cat "$IT_WORK/curl-tls.body")"
CTL_PORT=$TCPORT ctl stats
WANT_STATS="sessions=0 create=2 update=1 delete=1 rejected=0 terminate=1 terminate_answered=1"
[ "$REPLY" = "$WANT_STATS" ] || fail "tls stats: $REPLY"
stop_proxy "$TPCF_PID"
python3 - "$IT_WORK/pcf-tls.jsonl" "$TPORT" "$TNPORT" <<'PY' || fail "TLS record check failed"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
reqs = [r for r in recs if "method" in r]
if [(r["method"], r["status"]) for r in reqs] != [("POST", 201), ("PATCH", 200), ("POST", 204),
                                                   ("POST", 400)]:
    sys.exit("requests %s" % [(r["method"], r["path"], r["status"]) for r in reqs])
if any(r["headers"][":scheme"] != "https" for r in reqs):
    sys.exit("scheme %s" % [r["headers"][":scheme"] for r in reqs])
d = reqs[0]["json"]["ascReqData"]
if d["notifUri"] != "https://127.0.0.1:%s/pcscf/n5" % sys.argv[3]:
    sys.exit("notifUri %s" % d["notifUri"])
term = [r for r in recs if r.get("cmd") == "terminate"]
if len(term) != 1 or term[0].get("status") != 204:
    sys.exit("terminate answer %s" % term)
PY
say "TLS (ALPN h2): create, update, terminate over https (answered 204), delete; a wrong CA" \
    "and TLS to an h2c PCF -> unreachable; curl --http2 over https: 400"

stop_proxy "$PCF_PID"
stop_capture
if grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$IT_WORK"/*.out; then
    fail "an n5-client output holds a sanitizer report"
fi

# ---- what the PCF recorded ----
python3 - "$REC" "$UE" "$API" "$NPORT" <<'PY' || fail "PCF record check failed (record: $REC)"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ue, api, nport = sys.argv[2], sys.argv[3], sys.argv[4]
def check(cond, what):
    if not cond:
        sys.exit("record: " + what)
reqs = [r for r in recs if "method" in r]
seq = [(r["method"], r["path"].replace(api, "A"), r["status"]) for r in reqs]
want = [("POST", "A", 201), ("PATCH", "A/1", 200), ("PATCH", "A/1", 200),
        ("POST", "A/1/delete", 204)] + [
        ("POST", "A", s) for s in (400, 400, 400, 500, 404, 400, 400)] + [
        ("POST", "A", 403), ("PATCH", "A/999", 404), ("POST", "A/999/delete", 404),
        ("POST", "A", 201), ("POST", "A/2/delete", 204), ("POST", "A", 201),
        ("POST", "A/3/delete", 204)]
check(seq == want, "requests %s,\nwant %s" % (seq, want))
create, hold, resume, delete = reqs[0], reqs[1], reqs[2], reqs[3]
check(create["headers"]["content-type"] == "application/json", "create content-type")
check(hold["headers"]["content-type"] == "application/merge-patch+json", "PATCH content-type")
check("content-type" not in delete["headers"] and "json" not in delete, "delete has no body")
d = create["json"]["ascReqData"]
notif = "http://127.0.0.1:%s/pcscf/n5" % nport
check(d["afAppId"] == '+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"', "afAppId")
check(d["dnn"] == "ims" and d["ueIpv4"] == ue and "ueIpv6" not in d, "dnn / ueIpv4")
check(d["suppFeat"] == "0" and d["notifUri"] == notif, "suppFeat / notifUri")
check(d["gpsi"] == "msisdn-15550001" and d["afChargId"] == "icid-n5-client", "gpsi / afChargId")
check(d["evSubsc"] == {"events": [{"event": "FAILED_RESOURCES_ALLOCATION"},
      {"event": "SUCCESSFUL_RESOURCES_ALLOCATION"}], "notifUri": notif}, "evSubsc")
m = d["medComponents"]
check(list(m) == ["1"], "one media component")
m = m["1"]
check(m["medCompN"] == 1 and m["medType"] == "AUDIO" and m["fStatus"] == "ENABLED", "head %s" % m)
check(m["marBwUl"] == "41 Kbps" and m["marBwDl"] == "49 Kbps", "bandwidth %s" % m)
check(m["rrBw"] == "2500 bps" and m["rsBw"] == "0 Kbps", "RR/RS")
check(m["codecs"][0].startswith("uplink\noffer\nm=audio 49152 RTP/AVP 116 111\n"), "codec 1")
check(m["codecs"][1].startswith("downlink\nanswer\nm=audio 50000 RTP/AVP 116 111\n"), "codec 2")
check(m["medSubComps"] == {
    "1": {"fNum": 1, "flowUsage": "NO_INFO", "fDescs": [
        "permit out 17 from %s 49152 to 10.45.0.3 50000" % ue,
        "permit out 17 from 10.45.0.3 50000 to %s 49152" % ue]},
    "2": {"fNum": 2, "flowUsage": "RTCP", "fDescs": [
        "permit out 17 from %s 49153 to 10.45.0.3 50001" % ue,
        "permit out 17 from 10.45.0.3 50001 to %s 49153" % ue]}}, "medSubComps %s" % m)
hm = hold["json"]["ascReqData"]["medComponents"]["1"]
check(list(hold["json"]) == ["ascReqData"] and sorted(hold["json"]["ascReqData"]) ==
      ["medComponents", "servInfStatus"] and hold["json"]["ascReqData"]["servInfStatus"] ==
      "FINAL", "PATCH body: AppSessionContextUpdateDataPatch{ascReqData{medComponents,"
      " servInfStatus FINAL}}")
check(hm["fStatus"] == "ENABLED-UPLINK", "hold: fStatus %s" % hm["fStatus"])
check(resume["json"]["ascReqData"]["medComponents"]["1"]["fStatus"] == "ENABLED", "resume")
term = [r for r in recs if r.get("cmd") == "terminate"]
check(term == [dict(term[0], cmd="terminate", id="2", status=204)], "terminate answer %s" % term)
check(recs.index(term[0]) < recs.index(reqs[-1]), "terminate answered before the delete")
for r in reqs[-2:]:
    h = r["headers"]
    check(h[":authority"] != "127.0.0.13:7777" and
          h["3gpp-sbi-target-apiroot"] == "http://127.0.0.13:7777" and
          h["3gpp-sbi-discovery-target-nf-type"] == "PCF" and
          h["3gpp-sbi-discovery-requester-nf-type"] == "AF" and
          h["3gpp-sbi-discovery-service-names"] == "npcf-policyauthorization", "SCP headers %s" % h)
check(reqs[-2]["json"]["ascReqData"]["dnn"] == "ims.test", "dnn from the config")
check(all("3gpp-sbi-target-apiroot" not in r["headers"] for r in reqs[:-2]),
      "direct: no SCP headers")
print("record: %d requests and 1 terminate answer checked field by field" % len(reqs))
PY

# ---- what Wireshark saw ----
FIELDS=$IT_WORK/h2.tsv
tshark -n -r "$PCAP" -d "tcp.port==$PORT,http2" -d "tcp.port==$NPORT,http2" -T fields \
    -E separator=/t -E occurrence=a -E aggregator=';' -e frame.number -e http2.type \
    -e http2.headers.method -e http2.headers.path -e http2.headers.status \
    -e _ws.expert.severity -e _ws.expert.message -e _ws.malformed >"$FIELDS" \
    2>"$IT_WORK/tshark.err" || fail "tshark failed: $(cat "$IT_WORK/tshark.err")"
python3 - "$FIELDS" "$REC" <<'PY' || fail "tshark HTTP/2 check failed ($FIELDS)"
import json, sys
ERR = 0x00800000
methods, statuses, bad = [], [], []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    f += [""] * (8 - len(f))
    num, types, meth, path, status, sev, msg, malformed = f[:8]
    for m, p in zip(meth.split(";") if meth else [], path.split(";") if path else []):
        methods.append((m, p))
    statuses += [int(s) for s in status.split(";") if s]
    for s, m in zip(sev.split(";") if sev else [], msg.split(";") if msg else []):
        if int(s, 0) >= ERR:
            bad.append("frame %s: %s" % (num, m))
    if malformed:
        bad.append("frame %s: malformed" % num)
if bad:
    sys.exit("expert errors: %s" % bad)
recs = [json.loads(l) for l in open(sys.argv[2])]
want = [(r["method"], r["path"]) for r in recs if "method" in r]
pcf_side = [mp for mp in methods if "/npcf-policyauthorization/" in mp[1]]
if pcf_side != want:
    sys.exit("decoded requests %s,\nrecorded %s" % (pcf_side, want))
term = [mp for mp in methods if mp[1].endswith("/terminate")]
if term != [("POST", "/pcscf/n5/terminate")]:
    sys.exit("terminate notification decoded as %s" % term)
if 204 not in statuses or statuses.count(201) != 3:
    sys.exit("statuses %s" % statuses)
print("tshark: %d HTTP/2 requests decoded (%d to the PCF, 1 notification), %d responses, "
      "no expert error" % (len(methods), len(pcf_side), len(statuses)))
PY

ok "test PCF: N5 create/update/delete, open5gs 400/404/500 refusals, reject 403, terminate" \
    "notification answered 204, SCP headers, PCF down -> unreachable / timeout in bound," \
    "TLS with ALPN h2, curl interop, Wireshark clean"
