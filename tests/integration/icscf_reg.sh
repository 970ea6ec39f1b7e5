#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The I-CSCF's registration procedures (TS 24.229 §5.3.1) against a real ims-hss over Cx, with
# sipp UASs standing in for the S-CSCFs and a sipp UAC for the UE. I-CSCFs sharing the HSS:
#   icscf A: S-CSCFs "silent" (capabilities 1) and "scscf" (1, 2); default "default".
#   icscf B: "silent" (1, 2) first, then "scscf" (1); one S-CSCF tried after 1 s of silence.
# The HSS asks for mandatory capability 1 and optional 2 (no names), so A picks "scscf" at
# once and B must fall back from the silent one.
#   1. known user through A -> UAS "scscf" (Request-URI kept, Max-Forwards 69, no
#      Record-Route: checked by the UAS), at once (no retry)
#   2. unknown IMPI -> 403; barred IMPU -> 403; IMPI/IMPU of two users -> 403
#   3. through B: the silent S-CSCF first, then after ~1 s the UAS gets it (200)
#   3b. icscf C: "busy" (answers 503) first, then "scscf": the retry is immediate (200);
#      C restarted with one S-CSCF tried: busy's 503 reaches the UE as 500 with its Retry-After
#   3c. the HSS names the silent S-CSCF (a SAR from cx-client stored it): after 1 s A sends a
#      second UAR with REGISTRATION_AND_CAPABILITIES (24.229 §5.3.1.3) and the UAS gets it
#   4. ims-hss stopped (SIGSTOP): 500 with Retry-After within the Diameter timeout (1 s + slack)
#      and continued (SIGCONT): 200 again
#   5. ims-hss killed: 500 + Retry-After at once; restarted in open5gs_mode (UAA without
#      Server-Name or capabilities): A reconnects by itself and the REGISTER reaches the
#      configured default S-CSCF (a second UAS); the control socket refuses rtr in that mode
#   6. other requests keep the default routing: an OPTIONS to A itself is answered 200
# The I-CSCFs and the HSS must stop with exit 0 and no sanitizer report.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
it_init 17100

HSS=$(bin ims-hss)
ICSCF=$(bin icscf)
CX=$(bin tests/cx-client)
K=696d73636f72652d6c61622d6b657931
OP=696d73636f72652d6c61622d6f702d31
STATE=$IT_WORK/state
pick_port_into DPORT     # ims-hss Cx
pick_port_into PA        # icscf A
pick_port_into PB        # icscf B
pick_port_into US        # UAS "scscf"
pick_port_into UD        # UAS "default"
pick_port_into SILENT    # nobody listens here
pick_port_into UB        # UAS "busy" (503)
pick_port_into PC        # icscf C
pick_port_into UAC

# hss_cfg OPEN5GS: write the HSS configuration.
hss_cfg() {
    cat >"$IT_WORK/hss.cfg" <<EOC
state_dir = "$STATE";
home_domain = "ims.test";
test_redraw_zero_res = true;
open5gs_mode = $1;
sqn = { block = 100; fsync = false; };
diameter = { identity = "hss.ims.test"; realm = "ims.test"; listen = "127.0.0.1"; port = $DPORT;
  peers = ( { host = "icscf-a.ims.test"; }, { host = "icscf-b.ims.test"; },
            { host = "icscf-c.ims.test"; }, { host = "cx.ims.test"; } ); };
scscfs = ( { name = "sip:scscf.ims.test"; diameter_host = "scscf.ims.test"; } );
capabilities = { mandatory = ( 1 ); optional = ( 2 ); server_names = false; };
subscribers = (
  { impi = "alice@ims.test"; impus = ( "sip:alice@ims.test", "tel:+100" );
    barred_impus = ( "tel:+100" ); k = "$K"; op = "$OP"; sqn = 1; password = "pw"; }
);
ranges = ( { imsi_from = "001010000000001"; count = 2; tel_prefix = "+1555";
  k = "$K"; op = "$OP"; amf = "8000"; sqn = 1; password = "secret"; } );
EOC
}

# icscf_cfg NAME PORT SCSCFS ATTEMPTS: write $IT_WORK/icscf-NAME.cfg.
icscf_cfg() {
    cat >"$IT_WORK/icscf-$1.cfg" <<EOC
sip = {
  listen = ( "udp:127.0.0.1:$2", "tcp:127.0.0.1:$2" );
  aliases = ( "icscf-$1.ims.test" );
  hosts = ( "scscf.ims.test=127.0.0.1:$US", "default.ims.test=127.0.0.1:$UD",
            "silent.ims.test=127.0.0.1:$SILENT", "busy.ims.test=127.0.0.1:$UB" );
};
proxy = { outbound = "udp:127.0.0.1:$US"; };
icscf = {
  home_domain = "ims.test";
  scscfs = ( $3 );
  default_scscf = "sip:default.ims.test";
  scscf_attempts = $4;
  scscf_timeout_ms = 1000;
  retry_after = 17;
};
diameter = { identity = "icscf-$1.ims.test"; realm = "ims.test"; request_timeout_ms = 1000;
  tc_ms = 300;
  peers = ( { host = "hss.ims.test"; addr = "127.0.0.1"; port = $DPORT; connect = true; } ); };
EOC
}

HSS_PID=
start_hss() {
    HSS_RUNS=$((${HSS_RUNS:-0} + 1))
    local log=$IT_WORK/hss-$HSS_RUNS.log
    hss_cfg "$1"
    "$HSS" -c "$IT_WORK/hss.cfg" -L debug >"$log" 2>&1 &
    HSS_PID=$!
    track "$HSS_PID" ims-hss "$log"
    wait_listen "$HSS_PID" tcp "$DPORT"
    say "ims-hss pid $HSS_PID on 127.0.0.1:$DPORT (open5gs_mode $1)"
}

start_icscf() {
    local var=$1 name=$2 port=$3 log pid
    log=$IT_WORK/icscf-$name.log
    "$ICSCF" -c "$IT_WORK/icscf-$name.cfg" -L info >"$log" 2>&1 &
    pid=$!
    track "$pid" "icscf-$name" "$log"
    wait_listen "$pid" udp "$port"
    printf -v "$var" '%d' "$pid"
}

# wait_cx N: N Diameter connections to the HSS are up (both I-CSCFs connected), within 10 s.
wait_cx() {
    local i n
    for ((i = 0; i < 200; i++)); do
        n=$(ss -Htn state established "sport = :$DPORT" 2>/dev/null | wc -l)
        [ "$n" -ge "$1" ] && sleep 0.2 && return 0
        sleep 0.05
    done
    fail "only $n of $1 Cx connections up after 10 s"
}

# reg SCENARIO ICSCF_PORT IMPI IMPU: one REGISTER; sets SIPP_RC, SIPP_TAG and MS (duration).
reg() {
    local t0 t1
    t0=$(date +%s%N)
    rm -f "$IT_WORK/uac.log"
    run_sipp_uac "$1" "$UAC" udp "127.0.0.1:$2" 1 10 -key domain ims.test -key impi "$3" \
        -key impu "$4" -key expires 600000 -trace_logs -log_file "$IT_WORK/uac.log"
    t1=$(date +%s%N)
    MS=$(((t1 - t0) / 1000000))
}
expect_reg() {
    local what=$1
    shift
    reg "$@"
    expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "$what (${MS} ms)"
}

U1=001010000000001@ims.test
P1=sip:001010000000001@ims.test
U2=001010000000002@ims.test
P2=sip:001010000000002@ims.test

icscf_cfg a "$PA" '{ uri = "sip:silent.ims.test"; capabilities = [ 1 ]; },
  { uri = "sip:scscf.ims.test"; capabilities = [ 1, 2 ]; }' 2
icscf_cfg b "$PB" '{ uri = "sip:silent.ims.test"; capabilities = [ 1, 2 ]; },
  { uri = "sip:scscf.ims.test"; capabilities = [ 1 ]; }' 2

start_hss false
start_icscf IA a "$PA"
start_icscf IB b "$PB"
wait_cx 2
# UAS "scscf" gets the REGISTERs of phases 1, 3, 3b, 3c and 4; "default" the one of phase 5;
# "busy" the two of phase 3b.
start_sipp_uas UAS_S icscf_reg_uas.xml "$US" udp 5 -timeout 120s -timeout_error
TAG_S=$SIPP_TAG
start_sipp_uas UAS_D icscf_reg_uas.xml "$UD" udp 1 -timeout 120s -timeout_error
TAG_D=$SIPP_TAG
start_sipp_uas UAS_B icscf_reg_uas_503.xml "$UB" udp 2 -timeout 120s -timeout_error
TAG_B=$SIPP_TAG

# 1. known user, the best S-CSCF by capabilities, no retry
expect_reg "1. known user via A -> scscf" icscf_reg_uac.xml "$PA" "$U1" "$P1"
[ "$MS" -lt 900 ] || fail "took $MS ms: A should not have waited on the silent S-CSCF"
grep -q "silent" "$IT_WORK/icscf-a.log" && fail "A tried the silent S-CSCF"

# 2. refusals from the HSS
expect_reg "2. unknown IMPI -> 403" icscf_reg_uac_403.xml "$PA" nobody@ims.test \
    sip:nobody@ims.test
expect_reg "2. barred IMPU -> 403" icscf_reg_uac_403.xml "$PA" alice@ims.test tel:+100
expect_reg "2. identities of two users -> 403" icscf_reg_uac_403.xml "$PA" "$U2" "$P1"

# 3. the first S-CSCF is silent: the next one gets the REGISTER after scscf_timeout_ms
expect_reg "3. via B: silent S-CSCF, then scscf" icscf_reg_uac.xml "$PB" "$U1" "$P1"
[ "$MS" -ge 900 ] || fail "B answered in $MS ms: it cannot have waited on the silent one"
grep -q "S-CSCF sip:silent.ims.test silent for 1000 ms" "$IT_WORK/icscf-b.log" ||
    fail "B's log does not show the fallback"

# 3b. an S-CSCF answering 503: the next one at once; with none left, 500 + its Retry-After
icscf_cfg c "$PC" '{ uri = "sip:busy.ims.test"; capabilities = [ 1, 2 ]; },
  { uri = "sip:scscf.ims.test"; capabilities = [ 1 ]; }' 2
start_icscf IC c "$PC"
wait_cx 3
expect_reg "3b. via C: busy S-CSCF (503), then scscf" icscf_reg_uac.xml "$PC" "$U1" "$P1"
[ "$MS" -lt 900 ] || fail "C took $MS ms for a retry after a 503"
stop_proxy "$IC"
icscf_cfg c "$PC" '{ uri = "sip:busy.ims.test"; capabilities = [ 1, 2 ]; },
  { uri = "sip:scscf.ims.test"; capabilities = [ 1 ]; }' 1
start_icscf IC c "$PC"
wait_cx 3
expect_reg "3b. via C, one S-CSCF tried: 503 -> 500" icscf_reg_uac_500.xml "$PC" "$U1" "$P1"
grep -q "^Retry-After 5$" "$IT_WORK/uac.log" || fail "the S-CSCF's Retry-After was lost"
stop_proxy "$IC"

# 3c. the S-CSCF the HSS names is silent: a second UAR, for capabilities
out=$("$CX" --hss "127.0.0.1:$DPORT" --hss-host hss.ims.test --realm ims.test \
    --origin-host cx.ims.test sar --impi "$U2" --impu "$P2" --type 1 \
    --server-name sip:silent.ims.test 2>&1) || fail "cx-client sar: $out"
printf '%s\n' "$out" | grep -qx "result=2001" || fail "SAR storing the silent S-CSCF: $out"
expect_reg "3c. via A: HSS names the silent S-CSCF" icscf_reg_uac.xml "$PA" "$U2" "$P2"
[ "$MS" -ge 900 ] || fail "A answered in $MS ms: it cannot have waited on the silent one"
grep -q "UAR $U2 $P2 type 2 -> 2001" "$IT_WORK/hss-1.log" ||
    fail "no UAR with REGISTRATION_AND_CAPABILITIES at the HSS"
grep -q "named by the HSS failed: UAR for capabilities" "$IT_WORK/icscf-a.log" ||
    fail "A's log does not show the second UAR"

# 4. HSS frozen: 500 + Retry-After within the Diameter request timeout; then back
kill -STOP "$HSS_PID"
expect_reg "4. HSS stopped -> 500 + Retry-After" icscf_reg_uac_500.xml "$PA" "$U1" "$P1"
kill -CONT "$HSS_PID"
[ "$MS" -ge 900 ] && [ "$MS" -lt 2500 ] || fail "500 after $MS ms, want ~1000 (request timeout)"
grep -q "^Retry-After 17$" "$IT_WORK/uac.log" || fail "no Retry-After: 17 (retry_after)"
expect_reg "4. HSS continued -> 200" icscf_reg_uac.xml "$PA" "$U1" "$P1"

# 5. HSS killed: 500 at once; restarted as open5gs's HSS: default S-CSCF
kill -KILL "$HSS_PID"
wait "$HSS_PID" 2>/dev/null
untrack "$HSS_PID"
sleep 0.2
expect_reg "5. HSS killed -> 500 + Retry-After" icscf_reg_uac_500.xml "$PA" "$U1" "$P1"
[ "$MS" -lt 900 ] || fail "500 after $MS ms with no HSS connection: want it at once"
grep -q "^Retry-After 17$" "$IT_WORK/uac.log" || fail "no Retry-After: 17 (retry_after)"
start_hss true
wait_cx 2
expect_reg "5. open5gs-mode HSS -> default S-CSCF" icscf_reg_uac.xml "$PA" "$U2" \
    sip:001010000000002@ims.test
r=$("$HSS" --ctl "$STATE/hss.ctl" "rtr $U1 1") && fail "rtr accepted in open5gs_mode: $r"
case "$r" in *open5gs_mode*) say "control socket: $r" ;; *) fail "rtr refusal: $r" ;; esac

# 6. not a REGISTER: the proxy's default routing (addressed to A itself: OPTIONS gets 200)
cat >"$IT_WORK/options.sip" <<EOM
OPTIONS sip:icscf-a.ims.test:$PA SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:$UAC;branch=z9hG4bKo1;rport
Max-Forwards: 70
From: <sip:probe@ims.test>;tag=o1
To: <sip:icscf-a.ims.test>
Call-ID: o1@127.0.0.1
CSeq: 1 OPTIONS
Content-Length: 0

EOM
r=$(python3 "$SIPSEND" -w 2 "$IT_WORK/options.sip" 127.0.0.1 "$PA")
[ "$r" = "SIP/2.0 200 OK" ] || fail "OPTIONS to A: $r"
say "6. OPTIONS to A: $r (default routing)"
grep -q "UAR.*probe" "$IT_WORK/hss-2.log" && fail "an OPTIONS caused a UAR"

wait_sipp "$UAS_S" 20
expect_calls "$TAG_S" "$SIPP_RC" 5 "UAS scscf"
wait_sipp "$UAS_D" 20
expect_calls "$TAG_D" "$SIPP_RC" 1 "UAS default"
wait_sipp "$UAS_B" 20
expect_calls "$TAG_B" "$SIPP_RC" 2 "UAS busy"

stop_proxy "$IB"
stop_proxy "$IA"
stop_proxy "$HSS_PID"
ok "UAR on REGISTER: forwarded by capabilities, 403 for unknown/barred/mismatched," \
    "fallback from a silent and from a 503 S-CSCF, second UAR when the named one is silent," \
    "500 + Retry-After with the HSS stopped or killed," \
    "recovery without restart, open5gs-mode HSS -> default S-CSCF"
