#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Diameter faults with real processes: ims-hss hung, killed, replaced by a second HSS, and a
# stranger refused. The client is tests/tools/cx-client in "pace" mode (our peer layer as an
# I-CSCF would use it: realm routing, request timeout TMO_MS = 1000, Tc = 1 s, Tw = 30 s): one
# MAR every EVERY_MS = 50 ms, one line per request sent and per outcome (answer + which HSS
# answered + the vector's SQN, or failure + reason + time), wall-clock stamped so that the
# outcomes can be set against the moments this script stops, kills and restarts ims-hss.
# Every pace run must account for every request: exactly one outcome each, never later than
# TMO_MS + 1 s after it was sent, and sent = answered + failed.
#
#   (a) hung HSS: kill -STOP for 2.5 s with requests flowing. Every request sent while it is
#       stopped (and at least TMO_MS before SIGCONT) fails with err=timeout, after_ms within
#       [TMO_MS, TMO_MS + 1 s); no answer arrives while it is stopped; after kill -CONT every
#       request is answered 2001 on the same connection, and the stale answers ims-hss sends
#       for the timed-out requests are dropped by the client (counted).
#   (b) crashed HSS: kill -STOP (so that requests are surely pending), 0.3 s later kill -9;
#       the pending requests fail at once (no_peer: nowhere to fail over to), those sent while
#       it is down fail at once too; ims-hss is started again on the same port and state dir
#       after 0.5 s; the client reconnects (time measured, bounded by its back-off) and every
#       later request is answered 2001; the SQNs of all answers of (a) and (b) keep
#       increasing across the crash (sqn.db).
#   (c) failover: two ims-hss (hss1, hss2: two ports, two state dirs, one realm, each with the
#       client as peer; the client has both, hss1 first). hss1 answers everything, then is
#       stopped (requests pile up on it) and killed 0.3 s later: the pending requests are
#       re-sent to hss2 (the client logs each failover) and answered by it, every later
#       request is answered by hss2, and no request fails at all. (Each HSS keeps its own
#       sqn.db here, so SQNs are not compared across them.)
#   (d) a stranger: dia-peer and cx-client with an Origin-Host ims-hss does not know never
#       reach OPEN and get no answer; ims-hss logs each refusal with 3010, dia-peer logs its
#       CER refused with 3010.
# The surviving ims-hss must stop with exit 0; no log may hold a sanitizer report.
. "$(dirname "$0")/lib/common.sh"
it_init 16900

HSS=$(bin ims-hss) || exit 1
CX=$(bin tests/cx-client) || exit 1
DIA_PEER=$(bin tests/dia-peer) || exit 1
K=696d73636f72652d6c61622d6b657931
OP=696d73636f72652d6c61622d6f702d31
IMPI=001010000000001@ims.test
IMPU=sip:001010000000001@ims.test
TMO_MS=1000
EVERY_MS=50
SLACK_MS=1000     # outcome at most TMO_MS + SLACK_MS after the send
T_START=$SECONDS

now_ms() { date +%s%3N; }

# hss_cfg NAME PORT: the configuration of ims-hss NAME.ims.test on PORT, state in
# $IT_WORK/state-NAME; the client (icscf.ims.test) is its only peer.
hss_cfg() {
    cat >"$IT_WORK/$1.cfg" <<EOF
state_dir = "$IT_WORK/state-$1";
home_domain = "ims.test";
sqn = { block = 20; fsync = false; };
diameter = { identity = "$1.ims.test"; realm = "ims.test"; listen = "127.0.0.1"; port = $2;
  request_timeout_ms = $TMO_MS; peers = ( { host = "icscf.ims.test"; } ); };
scscfs = ( { name = "sip:scscf.ims.test"; diameter_host = "scscf.ims.test"; } );
subscribers = ( );
ranges = ( { imsi_from = "001010000000001"; count = 2; k = "$K"; op = "$OP"; sqn = 1;
  password = "secret"; } );
EOF
}

# start_hss VAR NAME PORT: ims-hss NAME in the background, listening; pid in VAR.
declare -A HSS_RUN
start_hss() {
    local var=$1 name=$2 port=$3 n log pid
    n=$((${HSS_RUN[$name]:-0} + 1))
    HSS_RUN[$name]=$n
    log=$IT_WORK/$name-$n.log
    "$HSS" -c "$IT_WORK/$name.cfg" -L info >"$log" 2>&1 &
    pid=$!
    track "$pid" "ims-hss:$name" "$log"
    wait_listen "$pid" tcp "$port" 10
    printf -v "$var" '%d' "$pid"
}

# kill9 PID: SIGKILL (works on a stopped process too) and reap.
kill9() {
    kill -KILL "$1"
    wait "$1" 2>/dev/null
    untrack "$1"
}

# start_pace TAG DURATION_MS HSS_ARGS...: cx-client pace in the background (output TAG.out,
# log TAG.log at info level: failovers, dropped answers); returns once it sends.
PACE_PID=
start_pace() {
    local tag=$1 dur=$2 i
    shift 2
    "$CX" "$@" --realm ims.test --origin-host icscf.ims.test --timeout "$TMO_MS" \
        --log-level info --server-name sip:scscf.ims.test pace --impi "$IMPI" --impu "$IMPU" \
        --k "$K" --op "$OP" --every "$EVERY_MS" --duration "$dur" --wait 10000 \
        >"$IT_WORK/$tag.out" 2>"$IT_WORK/$tag.log" &
    PACE_PID=$!
    track "$PACE_PID" "cx-client:$tag" "$IT_WORK/$tag.log"
    for ((i = 0; i < 200; i++)); do
        grep -q ' seq=1 sent' "$IT_WORK/$tag.out" && return 0
        alive "$PACE_PID" || fail "cx-client $tag exited before sending: $(cat "$IT_WORK/$tag.out")"
        sleep 0.05
    done
    fail "cx-client $tag: no request sent within 10 s (peers not OPEN?)"
}

# wait_pace TAG SECONDS: wait for the pace run to end by itself (exit 0), then check that
# every request has exactly one outcome, at most TMO_MS + SLACK_MS after it was sent, and
# that the summary agrees. Prints the summary.
wait_pace() {
    local tag=$1 limit=$2 i rc out=$IT_WORK/$1.out bad
    for ((i = 0; i < limit * 20; i++)); do
        alive "$PACE_PID" || break
        sleep 0.05
    done
    alive "$PACE_PID" && fail "cx-client $tag still running after ${limit}s"
    wait "$PACE_PID"
    rc=$?
    untrack "$PACE_PID"
    [ "$rc" -eq 0 ] || fail "cx-client $tag exit $rc: $(tail -n 5 "$IT_WORK/$tag.log")"
    bad=$(awk -v lim=$((TMO_MS + SLACK_MS)) '
        / sent$/ { s = seq($2); if (s in sent) print "seq " s " sent twice"; sent[s] = ts($1) }
        / (answer|fail) / {
            s = seq($2)
            if (!(s in sent)) print "seq " s ": outcome without a send"
            if (s in done) print "seq " s ": two outcomes"
            done[s] = 1
            if (ts($1) - sent[s] > lim)
                print "seq " s ": outcome " ts($1) - sent[s] " ms after the send"
        }
        /^sent=/ { summary = $0 }
        function ts(x) { sub(/^t=/, "", x); return x + 0 }
        function seq(x) { sub(/^seq=/, "", x); return x + 0 }
        END {
            n = 0
            for (s in sent) { n++; if (!(s in done)) print "seq " s ": no outcome" }
            if (summary == "") { print "no summary line"; exit }
            split(summary, f, /[ =]/)
            if (f[2] != n || f[2] != f[4] + f[6])
                print "summary " summary " disagrees with " n " requests"
        }' "$out")
    [ -z "$bad" ] || fail "cx-client $tag: $(echo "$bad" | head -n 5)"
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$IT_WORK/$tag.log"; then
        fail "cx-client $tag log holds a sanitizer report" "$PACE_PID"
    fi
    say "$tag: $(tail -n 1 "$out")"
}

# lines TAG AWK-CONDITION: the outcome lines of TAG whose fields satisfy the condition;
# available: t (outcome time), st (send time), seq, kind (answer|fail), peer, result, err,
# sqn (-1 when absent), ms (rtt_ms or after_ms).
lines() {
    awk "
        function ts(x) { sub(/^t=/, \"\", x); return x + 0 }
        function val(k,   i, a) {
            for (i = 3; i <= NF; i++)
                if (index(\$i, k \"=\") == 1) return substr(\$i, length(k) + 2)
            return \"\"
        }
        / sent\$/ { s = \$2; sub(/^seq=/, \"\", s); sent[s + 0] = ts(\$1); next }
        / (answer|fail) / {
            t = ts(\$1); seq = \$2; sub(/^seq=/, \"\", seq); seq += 0; st = sent[seq]; kind = \$3
            peer = val(\"peer\"); result = val(\"result\"); err = val(\"err\")
            sqn = val(\"sqn\"); sqn = sqn == \"\" ? -1 : sqn + 0
            ms = val(\"rtt_ms\"); if (ms == \"\") ms = val(\"after_ms\"); ms += 0
            if ($2) print
        }" "$IT_WORK/$1.out"
}
n_lines() { lines "$@" | grep -c .; }
# state_time TAG HOST STATE AFTER_MS: the first time HOST entered STATE at or after AFTER_MS.
state_time() {
    awk -v h="peer=$2" -v st="state=$3" -v after="$4" '
        $2 == h && $3 == st { t = $1; sub(/^t=/, "", t); if (t + 0 >= after) { print t; exit } }' \
        "$IT_WORK/$1.out"
}
# check_sqn TAG: the SQNs of TAG's answers rise strictly (answer order), all above MAX_SQN;
# MAX_SQN becomes the last one.
MAX_SQN=0
check_sqn() {
    local r
    r=$(lines "$1" 'kind == "answer"' | sed -n 's/.* sqn=\([0-9]*\).*/\1/p' |
        awk -v max="$MAX_SQN" '$1 <= max { print "SQN " $1 " after " max; exit }
            { max = $1 } END { print "max=" max }')
    case "$r" in max=*) MAX_SQN=${r#max=} ;; *) fail "$1: SQN did not increase: $r" ;; esac
}

pick_port_into P1
pick_port_into P2
hss_cfg hss1 "$P1"
hss_cfg hss2 "$P2"
start_hss H1 hss1 "$P1"
say "hss1 pid $H1 on 127.0.0.1:$P1; pace: a MAR every $EVERY_MS ms, request timeout $TMO_MS ms"

# ---- (a) hung HSS ----
start_pace a 5000 --hss "127.0.0.1:$P1" --hss-host hss1.ims.test
sleep 1
STOP_AT=$(now_ms)
kill -STOP "$H1"
sleep 2.5
CONT_AT=$(now_ms)
kill -CONT "$H1"
wait_pace a 10
assert_alive "$H1"
n_to=$(n_lines a 'kind == "fail"')
[ "$n_to" -eq "$(n_lines a 'kind == "fail" && err == "timeout"')" ] ||
    fail "(a) failures other than timeouts: $(lines a 'kind == "fail" && err != "timeout"')"
# Timers run on a millisecond clock: due = now (truncated) + TMO_MS, so 999.x ms shows as 999.
early=$(lines a "kind == \"fail\" && (ms < $TMO_MS - 1 || ms >= $TMO_MS + $SLACK_MS)")
[ -z "$early" ] || fail "(a) timeouts outside [$TMO_MS, $((TMO_MS + SLACK_MS))) ms: $early"
want_to=$(n_lines a "st > $STOP_AT + 20 && st < $CONT_AT - $TMO_MS - 20")
got_to=$(n_lines a "st > $STOP_AT + 20 && st < $CONT_AT - $TMO_MS - 20 && err == \"timeout\"")
[ "$want_to" -ge 15 ] && [ "$got_to" -eq "$want_to" ] ||
    fail "(a) $got_to of the $want_to requests sent while hung timed out (want all, >= 15)"
hung=$(lines a "kind == \"answer\" && t > $STOP_AT + 20 && t < $CONT_AT")
[ -z "$hung" ] || fail "(a) answers while ims-hss was stopped: $hung"
after=$(n_lines a "st > $CONT_AT + 20")
after_ok=$(n_lines a "st > $CONT_AT + 20 && kind == \"answer\" && result == 2001")
[ "$after" -ge 10 ] && [ "$after_ok" -eq "$after" ] ||
    fail "(a) after SIGCONT $after_ok of $after requests answered 2001 (want all, >= 10)"
late=$(n_lines a "kind == \"answer\" && st < $CONT_AT && t >= $CONT_AT")
dropped=$(grep -c 'with unknown hop-by-hop id .* dropped' "$IT_WORK/a.log")
[ "$dropped" -eq "$n_to" ] ||
    fail "(a) $dropped stale answers dropped by the client, want one per timeout ($n_to)"
check_sqn a
range=$(lines a 'kind == "fail"' | sed -n 's/.*after_ms=//p' | sort -n | sed -n '1p;$p' |
    paste -sd' ' | sed 's/ /../')
say "(a) hung 2.5 s: $n_to timeouts (after $range ms), $late answered late after SIGCONT," \
    "$dropped stale answers dropped, $after_ok/$after answered after SIGCONT"

# ---- (b) crashed HSS, restarted ----
start_pace b 6000 --hss "127.0.0.1:$P1" --hss-host hss1.ims.test
sleep 1
STOP_AT=$(now_ms)
kill -STOP "$H1"
sleep 0.3
KILL_AT=$(now_ms)
kill9 "$H1"
sleep 0.5
start_hss H1 hss1 "$P1"
UP_AT=$(now_ms)
wait_pace b 12
pend=$(n_lines b "st > $STOP_AT + 20 && st < $KILL_AT - 20")
pend_fail=$(n_lines b "st > $STOP_AT + 20 && st < $KILL_AT - 20 && err == \"no_peer\" &&
    t >= $KILL_AT && t < $KILL_AT + 500")
[ "$pend" -ge 3 ] && [ "$pend_fail" -eq "$pend" ] ||
    fail "(b) $pend_fail of $pend requests pending at the kill failed no_peer within 0.5 s"
REOPEN_AT=$(state_time b hss1.ims.test OPEN "$KILL_AT")
[ -n "$REOPEN_AT" ] || fail "(b) the client never reconnected to the restarted ims-hss"
[ $((REOPEN_AT - UP_AT)) -le 8000 ] ||
    fail "(b) reconnected $((REOPEN_AT - UP_AT)) ms after the restart (back-off cap 8 s)"
# The poll sees OPEN up to 5 ms late: a request sent just before may already be answered.
down=$(n_lines b "st >= $KILL_AT && st < $REOPEN_AT - 10")
down_fast=$(n_lines b "st >= $KILL_AT && st < $REOPEN_AT - 10 && err == \"no_peer\" && ms < 100")
[ "$down_fast" -eq "$down" ] || fail "(b) $down_fast of $down requests sent while down failed fast"
after=$(n_lines b "st > $REOPEN_AT")
after_ok=$(n_lines b "st > $REOPEN_AT && kind == \"answer\" && result == 2001")
[ "$after" -ge 10 ] && [ "$after_ok" -eq "$after" ] ||
    fail "(b) after reconnecting $after_ok of $after requests answered 2001 (want all, >= 10)"
sqn_before=$MAX_SQN
check_sqn b
first_after=$(lines b "st > $REOPEN_AT && kind == \"answer\"" | head -n 1 |
    sed -n 's/.* sqn=\([0-9]*\).*/\1/p')
say "(b) kill -9: $pend_fail pending failed at the kill, $down failed fast while down;" \
    "reconnected $((REOPEN_AT - KILL_AT)) ms after the kill, $((REOPEN_AT - UP_AT)) ms after" \
    "the restart; $after_ok/$after answered after; SQN $sqn_before -> $first_after -> $MAX_SQN"

# ---- (c) failover to a second HSS ----
start_hss H2 hss2 "$P2"
say "hss2 pid $H2 on 127.0.0.1:$P2"
start_pace c 4000 --hss "127.0.0.1:$P1" --hss-host hss1.ims.test \
    --hss "127.0.0.1:$P2" --hss-host hss2.ims.test
sleep 1
STOP_AT=$(now_ms)
kill -STOP "$H1"
sleep 0.3
KILL_AT=$(now_ms)
kill9 "$H1"
wait_pace c 10
nfail=$(n_lines c 'kind == "fail"')
[ "$nfail" -eq 0 ] || fail "(c) $nfail requests failed: $(lines c 'kind == "fail"' | head -n 3)"
before=$(n_lines c "st < $STOP_AT - 20")
[ "$before" -ge 10 ] && [ "$(n_lines c "st < $STOP_AT - 20 && peer == \"hss1.ims.test\"")" \
    -eq "$before" ] || fail "(c) hss1 did not answer all of the $before requests before the stop"
moved=$(n_lines c "st > $STOP_AT + 20 && st < $KILL_AT - 20")
moved_ok=$(n_lines c "st > $STOP_AT + 20 && st < $KILL_AT - 20 && peer == \"hss2.ims.test\" &&
    result == 2001 && t >= $KILL_AT")
[ "$moved" -ge 3 ] && [ "$moved_ok" -eq "$moved" ] ||
    fail "(c) $moved_ok of the $moved requests pending on hss1 were answered by hss2"
nfo=$(grep -c 'fails over from hss1.ims.test to hss2.ims.test' "$IT_WORK/c.log")
[ "$nfo" -ge "$moved" ] || fail "(c) the client logged $nfo failovers, want >= $moved"
after=$(n_lines c "st >= $KILL_AT")
after_ok=$(n_lines c "st >= $KILL_AT && peer == \"hss2.ims.test\" && result == 2001")
[ "$after" -ge 10 ] && [ "$after_ok" -eq "$after" ] ||
    fail "(c) after the kill $after_ok of $after requests answered 2001 by hss2"
fo_ms=$(lines c "st > $STOP_AT + 20 && st < $KILL_AT - 20" | sed -n 's/^t=\([0-9]*\).*/\1/p' |
    sort -n | tail -n 1)
say "(c) failover: $before answered by hss1, $moved pending on it re-sent ($nfo failovers" \
    "logged) and answered by hss2 within $((fo_ms - KILL_AT)) ms of the kill, $after_ok/$after" \
    "later ones by hss2, 0 failed"

# ---- (d) a stranger ----
"$DIA_PEER" --origin-host rogue.ims.test --origin-realm ims.test --app 16777216:10415 \
    --peer "hss2.ims.test@127.0.0.1:$P2:connect" --tc 1000 --run-seconds 2 \
    --log-level notice >"$IT_WORK/d-peer.out" 2>"$IT_WORK/d-peer.log" &
DP=$!
track "$DP" dia-peer "$IT_WORK/d-peer.log"
"$CX" --hss "127.0.0.1:$P2" --hss-host hss2.ims.test --realm ims.test \
    --origin-host stranger.ims.test --timeout 1500 uar --impi "$IMPI" --impu "$IMPU" \
    >"$IT_WORK/d-cx.out" 2>"$IT_WORK/d-cx.log"
cx_rc=$?
wait "$DP"
dp_rc=$?
untrack "$DP"
[ "$cx_rc" -eq 1 ] && grep -q 'no connection to the HSS' "$IT_WORK/d-cx.log" ||
    fail "(d) cx-client as a stranger: exit $cx_rc, $(cat "$IT_WORK"/d-cx.*)"
grep -q '^result=' "$IT_WORK/d-cx.out" && fail "(d) the stranger got an answer"
[ "$dp_rc" -eq 0 ] || fail "(d) dia-peer exit $dp_rc"
if grep -qE ' OPEN|state=OPEN' "$IT_WORK/d-peer.out"; then
    fail "(d) dia-peer reached OPEN: $(cat "$IT_WORK/d-peer.out")"
fi
grep -q 'refused our CER with 3010' "$IT_WORK/d-peer.log" ||
    fail "(d) dia-peer did not log a 3010 refusal: $(cat "$IT_WORK/d-peer.log")"
HSS2_LOG=$IT_WORK/hss2-1.log
nrog=$(grep -c 'CER from .* refused with 3010: rogue.ims.test' "$HSS2_LOG")
nstr=$(grep -c 'CER from .* refused with 3010: stranger.ims.test' "$HSS2_LOG")
[ "$nrog" -ge 1 ] && [ "$nstr" -ge 1 ] ||
    fail "(d) ims-hss logged $nrog refusals of rogue and $nstr of stranger (want >= 1 each)"
say "(d) strangers refused: rogue.ims.test $nrog CER(s), stranger.ims.test $nstr, both 3010," \
    "never OPEN, no answer"

stop_proxy "$H2"
# The killed ims-hss never reached a clean exit: a report would be in its log all the same.
for f in "$IT_WORK"/*.log "$IT_WORK"/*.out; do
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$f"; then
        fail "sanitizer report in $f: $(grep -m1 -E 'Sanitizer|runtime error:' "$f")"
    fi
done
ok "hung: $n_to timeouts after $range ms; crash: pending failed at once, reconnect" \
    "$((REOPEN_AT - UP_AT)) ms after restart, SQN rising to $MAX_SQN; failover: $moved re-sent," \
    "0 failed; strangers refused 3010; $((SECONDS - T_START)) s"
