#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 8 acceptance, graceful shutdown: SIGTERM during a DR_RATE (200) calls/s load; no call
# that was set up fails its BYE; the daemon exits 0 within the drain time.
# The 127.0.1.x lab of lib/reg.sh. Handset A (subscriber 1, 127.0.1.100) and handset B
# (subscriber 2, 127.0.1.101) register with IMS AKA (tests/tools/aka_ue.py); sipp then plays
# B (bench/sipp/uas_ims.xml: 180, 200, BYE -> 200) and A, who places DR_CALLS (1000) calls
# to B at DR_RATE, each held DR_HOLD_MS (2000) before A's BYE. DR_SIGTERM_MS (2000) into
# the run the daemon under test gets SIGTERM:
#   round 1 the S-CSCF, round 2 (the lab restarted, the handsets registered again) the
#   P-CSCF, each with sip.drain_ms = DR_DRAIN_MS (6000) and sip.drain_retry_after = 17.
# A's scenario logs each call's outcome with sipp's clock: UP (200 to the INVITE), OK (200 to
# the BYE), REJ (the INVITE refused: 503 from a draining node, or the 500 a proxy makes of a
# downstream 503 per RFC 3261 §16.7, with the Retry-After it carries). Checked per round:
#   - every call that got its 200 - those before the SIGTERM above all - got 200 to its BYE;
#     some calls were up before the SIGTERM, and none came up more than 1 s after it;
#   - the calls placed after the SIGTERM were refused at once (sipp counts no failed call:
#     a hang would end in its recv timeout), each refusal with Retry-After: 17;
#   - the daemon logged the drain, and exited with status 0 within DR_DRAIN_MS of the
#     SIGTERM (DPR included: serving stops 2.3 s before drain_ms);
#   - round 1: the HSS saw the S-CSCF's DPR;
#   - the other daemons are alive and stop with exit 0 (sanitizer-clean).
# Prints the timings: SIGTERM to drain over and to exit, calls up before/after, refusals.
# Environment: DR_CALLS, DR_RATE, DR_HOLD_MS, DR_SIGTERM_MS, DR_DRAIN_MS (defaults above).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
for t in sipp python3 ss; do
    command -v "$t" >/dev/null || { echo "$t not found: skipped"; exit 77; }
done
it_init 21300
CALLS=${DR_CALLS:-1000}
RATE=${DR_RATE:-200}
HOLD=${DR_HOLD_MS:-2000}
SIGTERM_MS=${DR_SIGTERM_MS:-2000}
DRAIN_MS=${DR_DRAIN_MS:-6000}
RETRY_AFTER=17
A_IP=127.0.1.100
B_IP=127.0.1.101
IMPU_A=$(reg_impu 1)
IMPU_B=$(reg_impu 2)
now_ms() { echo $(($(date +%s%N) / 1000000)); }

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
pick_port_into PA
pick_port_into PB

# ---- A's scenario: a call, or its refusal; each outcome logged with the time ----
# Steps (sipp numbers sends, receives, pauses and nops; labels are not steps): the ACK
# for a refusal (step 10) reuses the INVITE's branch (step 0): [branch-10].
# logged WHAT: the action logging WHAT, the Call-ID and sipp's [timestamp] (ends in epoch
# seconds.microseconds).
logged() { printf '<action><log message="%s [call_id] [timestamp]"/></action>' "$1"; }
# refusal CODE: an optional final response to the INVITE that ends the call at label rej.
refusal() {
    cat <<EOF
<recv response="$1" optional="true" response_txn="inv" next="rej"><action>
  <ereg regexp="[0-9]+" search_in="hdr" header="Retry-After:" assign_to="ra"/>
  <log message="REJ [call_id] $1 ra=[\$ra] [timestamp]"/>
</action></recv>
EOF
}
# request METHOD CSEQ RURI BRANCH ATTRS: one of A's requests after the INVITE (along the
# route set when RURI is [next_url]).
request() {
    local routes=''
    [ "$3" = "[next_url]" ] && routes=$'\n[routes]'
    cat <<EOF
<send $5><![CDATA[

$1 $3 SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=$4;rport$routes
From: <$IMPU_A>;tag=[pid]A[call_number]
To: <[target]>[peer_tag_param]
Call-ID: [call_id]
CSeq: $2 $1
Max-Forwards: 70
Content-Length: 0

]]></send>
EOF
}
{
    sess_steps_invite "$IMPU_A" inv
    cat <<EOF
<recv response="100" optional="true" response_txn="inv"/>
<recv response="180" optional="true" response_txn="inv"/>
$(refusal 500)
$(refusal 503)
<recv response="200" rrs="true" response_txn="inv">$(logged UP)</recv>
$(request ACK 1 '[next_url]' '[branch]' 'ack_txn="inv"')
<pause/>
$(request BYE 2 '[next_url]' '[branch]' 'retrans="500" start_txn="bye"')
<recv response="200" response_txn="bye" next="done">$(logged OK)</recv>
<label id="rej"/>
$(request ACK 1 '[target]' '[branch-10]' 'ack_txn="inv"')
<pause milliseconds="500"/>
<label id="done"/>
<nop>$(logged END)</nop>
EOF
} | sess_scenario drain_uac

# ---- helpers ----
# bg_sipp NAME IP PORT [args...]: sipp on IP:PORT in the background (SIPP_PID, SIPP_TAG).
bg_sipp() {
    local name=$1 ip=$2 port=$3 cp
    shift 3
    pick_port_into cp
    IT_NEXT_PORT=$((IT_NEXT_PORT + 6))
    SIPP_TAG=$IT_WORK/$name
    (cd "$IT_WORK" && exec sipp -t u1 -i "$ip" -p "$port" -ci 127.0.0.2 -cp "$cp" \
        -mp $((cp + 1)) -nostdin -trace_stat -stf "$SIPP_TAG.csv" -fd 1 \
        -trace_err -error_file "$SIPP_TAG.errors" -buff_size 4194304 "$@") \
        >"$SIPP_TAG.out" 2>&1 &
    SIPP_PID=$!
    track "$SIPP_PID" "sipp-$name" "$SIPP_TAG.errors"
}

# stop_peer PID: a sipp that runs until killed.
stop_peer() {
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    untrack "$1"
}

# wait_exit PID LIMIT_MS: wait for the daemon to exit; sets EXIT_RC and EXIT_MS (from
# SIG_MS); fails when it is still running after LIMIT_MS.
wait_exit() {
    local pid=$1 limit=$2
    while alive "$pid"; do
        [ $(($(now_ms) - SIG_MS)) -le "$limit" ] ||
            fail "${IT_WHAT[$pid]} still running $limit ms after SIGTERM" "$pid"
        sleep 0.02
    done
    EXIT_MS=$(($(now_ms) - SIG_MS))
    wait "$pid"
    EXIT_RC=$?
    untrack "$pid"
}

# outcomes LOG WHAT: "callid epoch_ms" of each WHAT line in A's sipp log.
outcomes() {
    awk -v w="$2" '$1 == w { t = $NF; sub(/^[^0-9]*/, "", t); printf "%s %.0f\n", $2, t * 1000 }' \
        "$1" | LC_ALL=C sort
}

# ---- one round ----
round() {
    local who=$1 n_up n_ok n_rej n_before n_late lost bad_ra early okc failc pid
    say "round $who: lab up with sip.drain_ms = $DRAIN_MS on the $who"
    reg_lab_start
    sess_register 1 "$A_IP" "$PA"
    sess_register 2 "$B_IP" "$PB"
    bg_sipp "uas-$who" "$B_IP" "$PB" -sf "$IMS_SOURCE_DIR/bench/sipp/uas_ims.xml"
    local uas=$SIPP_PID
    wait_listen "$uas" udp "$PB"
    bg_sipp "uac-$who" "$A_IP" "$PA" -sf "$IT_WORK/sc/drain_uac.xml" -m "$CALLS" -r "$RATE" \
        -d "$HOLD" -key target "$IMPU_B" -recv_timeout 10000 -timeout 60s -timeout_error \
        -trace_logs -log_file "$IT_WORK/uac-$who.log" "$REG_P:5060"
    local uac=$SIPP_PID tag=$SIPP_TAG
    pid=${REG_PID[$who]}
    sleep "$(awk -v ms="$SIGTERM_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
    assert_alive "$pid"
    SIG_MS=$(now_ms)
    kill -TERM "$pid"
    if [ "$who" = scscf ]; then
        # Not ready while draining, so a load balancer stops sending new work.
        sleep 0.3
        code=$(curl -s -o "$IT_WORK/readyz" -w '%{http_code}' "http://$REG_S:9101/readyz")
        say "$who: /readyz while draining: $code $(head -c 80 "$IT_WORK/readyz")"
        [ "$code" = 503 ] && grep -q draining "$IT_WORK/readyz" ||
            fail "$who: /readyz answered $code while draining" "$pid"
    fi
    wait_exit "$pid" $((DRAIN_MS + 10000))
    REG_PID[$who]=
    say "$who: exit status $EXIT_RC $EXIT_MS ms after SIGTERM"
    wait_sipp "$uac" 90
    stop_peer "$uas"

    local f=$IT_WORK/uac-$who.log
    [ -s "$f" ] || fail "sipp wrote no call log $f" "" "$tag"
    outcomes "$f" UP >"$IT_WORK/up-$who"
    outcomes "$f" OK >"$IT_WORK/ok-$who"
    n_up=$(wc -l <"$IT_WORK/up-$who")
    n_ok=$(wc -l <"$IT_WORK/ok-$who")
    n_rej=$(grep -c '^REJ ' "$f" || true)
    n_before=$(awk -v s="$SIG_MS" '$2 < s' "$IT_WORK/up-$who" | wc -l)
    n_late=$(awk -v s="$SIG_MS" '$2 > s + 1000' "$IT_WORK/up-$who" | wc -l)
    lost=$(LC_ALL=C join -v 1 "$IT_WORK/up-$who" "$IT_WORK/ok-$who" | wc -l)
    bad_ra=$(grep '^REJ ' "$f" | grep -vc " ra=$RETRY_AFTER " || true)
    early=$(awk -v s="$SIG_MS" '$1 == "REJ" { t = $NF; sub(/^[^0-9]*/, "", t);
        if (t * 1000 < s) n++ } END { print n + 0 }' "$f")
    okc=$(stat_of "$tag" 'SuccessfulCall(C)')
    failc=$(stat_of "$tag" 'FailedCall(C)')
    say "$who: $CALLS calls at $RATE/s: $n_up set up ($n_before before the SIGTERM), $n_ok" \
        "BYEs answered 200, $n_rej refused ($(grep '^REJ ' "$f" | awk '{ print $3 }' |
            sort | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')); sipp:" \
        "successful ${okc:-?}, failed ${failc:-?}, exit $SIPP_RC"
    grep -hE 'drain: (refusing|over)' "$REG_DIR/$who.log" | sed "s/^/[$IT_NAME] $who log: /"
    [ "$EXIT_RC" -eq 0 ] || fail "$who exited with status $EXIT_RC after SIGTERM" ""
    # drain_ms bounds the whole exit (DPR included); 150 ms for this script's polling.
    [ "$EXIT_MS" -le $((DRAIN_MS + 150)) ] ||
        fail "$who took $EXIT_MS ms to exit (drain_ms $DRAIN_MS)"
    grep -q 'drain: over after' "$REG_DIR/$who.log" || fail "$who logged no drain"
    ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$REG_DIR/$who.log" ||
        fail "$who log holds a sanitizer report"
    [ "$n_before" -gt 0 ] || fail "no call was up before the SIGTERM (load too slow?)"
    [ "$lost" -eq 0 ] || fail "$lost calls that were set up got no 200 to their BYE" "" "$tag"
    [ "$n_ok" -eq "$n_up" ] || fail "$n_up calls set up, $n_ok BYEs answered" "" "$tag"
    [ "$n_rej" -gt 0 ] || fail "no INVITE was refused after the SIGTERM" "" "$tag"
    [ "$early" -eq 0 ] || fail "$early INVITEs refused before the SIGTERM" "" "$tag"
    [ "$bad_ra" -eq 0 ] || fail "$bad_ra refusals without Retry-After: $RETRY_AFTER" "" "$tag"
    [ "$n_late" -eq 0 ] || fail "$n_late calls set up more than 1 s after the SIGTERM"
    [ "${failc:-x}" = 0 ] || fail "sipp counted $failc failed calls (a hang, or a lost BYE)" \
        "" "$tag"
    [ "$((n_up + n_rej))" -eq "$CALLS" ] ||
        fail "$n_up calls up + $n_rej refused != $CALLS placed" "" "$tag"
    [ "$SIPP_RC" -eq 0 ] || fail "A's sipp exited with $SIPP_RC" "" "$tag"
    local sum="$who: $n_before calls up before SIGTERM all hung up with 200, $n_rej refused,"
    ROUND_SUMMARY+=("$sum exit 0 after $EXIT_MS ms (drain_ms $DRAIN_MS)")
}

ROUND_SUMMARY=()
# round 1: the S-CSCF
reg_cfg_put scscf sip drain_ms "$DRAIN_MS"
reg_cfg_put scscf sip drain_retry_after "$RETRY_AFTER"
round scscf
grep -q "dia: peer scscf\\.$REG_DOMAIN sent DPR" "$REG_DIR/ims-hss.log" ||
    fail "the HSS saw no DPR from the S-CSCF" "${REG_PID[ims-hss]}"
say "the HSS saw the S-CSCF's DPR: $(grep -h "dia: peer scscf\\.$REG_DOMAIN sent DPR" \
    "$REG_DIR/ims-hss.log" | tail -1)"
for d in pcscf icscf ims-hss; do assert_alive "${REG_PID[$d]}"; done
reg_lab_stop
reg_cfg_set scscf drain_ms 0
# the daemons append to their logs: round 2 greps (and waits for Cx OPEN) in fresh ones
for f in "$REG_DIR"/*.log; do mv "$f" "${f%.log}.round1"; done

# round 2: the P-CSCF
reg_cfg_put pcscf sip drain_ms "$DRAIN_MS"
reg_cfg_put pcscf sip drain_retry_after "$RETRY_AFTER"
round pcscf
for d in icscf scscf ims-hss; do assert_alive "${REG_PID[$d]}"; done
reg_lab_stop

ok "${ROUND_SUMMARY[0]}; ${ROUND_SUMMARY[1]}"
