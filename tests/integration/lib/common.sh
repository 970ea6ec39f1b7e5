# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Shared helpers for tests/integration/*.sh (sourced, never run by CTest: it lives in lib/).
#
# A test sources this file, calls it_init <base-port>, starts daemons and sipp peers with the
# helpers below, and ends with `ok "<summary>"`. Every process started here is recorded and
# stopped by the EXIT trap, whatever way the test ends. Tests run serially (RUN_SERIAL), each
# with its own port range on 127.0.0.1, so ports only collide with unrelated local services;
# pick_port skips ports that are taken.
#
# Environment: IMS_SOURCE_DIR, IMS_BUILD_DIR (set by CTest; defaults: the tree this file is in,
# and $IMS_SOURCE_DIR/build). IMS_KEEP_WORK=1 keeps the work directory after success too.

set -u
set -o pipefail

IT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${IMS_SOURCE_DIR:=$(cd "$IT_LIB_DIR/../../.." && pwd)}"
: "${IMS_BUILD_DIR:=$IMS_SOURCE_DIR/build}"
SIPP_SCEN_DIR=$IMS_SOURCE_DIR/tests/sipp
SIPSEND=$IMS_SOURCE_DIR/tests/tools/sipsend.py  # for the tests that send raw messages
export SIPSEND
IT_NAME=$(basename "$0" .sh)
IT_HOST=127.0.0.1

IT_PIDS=()          # every background process we started, stopped in reverse order at exit
declare -A IT_LOG   # pid -> log file, for fail()
declare -A IT_WHAT  # pid -> short name
IT_WORK=
IT_NEXT_PORT=0
IT_FAILED=0

# say MSG...: progress line; tests print what they check and the numbers they got.
say() { printf '[%s] %s\n' "$IT_NAME" "$*"; }

# it_init BASE_PORT: create the work directory, install the exit trap, set the port range.
it_init() {
    IT_NEXT_PORT=$1
    IT_WORK=$(mktemp -d "/tmp/ims-it-$IT_NAME.XXXXXX")
    trap it_cleanup EXIT
    trap 'fail "interrupted"' INT TERM
    command -v sipp >/dev/null || fail "sipp not found in PATH"
    command -v python3 >/dev/null || fail "python3 not found in PATH"
    command -v ss >/dev/null || fail "ss (iproute2) not found in PATH"
    say "work dir $IT_WORK, build dir $IMS_BUILD_DIR"
}

# bin NAME: absolute path of a built program; fails the test when it is missing.
bin() {
    local p=$IMS_BUILD_DIR/$1
    [ -x "$p" ] || fail "$p not built (set IMS_BUILD_DIR or build the project first)"
    printf '%s\n' "$p"
}

# port_is_free PORT: neither a UDP nor a TCP socket is bound to it on any address.
port_is_free() {
    [ -z "$(ss -Hanu "sport = :$1" 2>/dev/null)" ] && [ -z "$(ss -Hant "sport = :$1" 2>/dev/null)" ]
}

# pick_port_into VAR: store in VAR the next free port of this test's range (UDP and TCP both
# free). It keeps a counter, so it must run in the test's shell, never in $(...).
pick_port_into() {
    local tries=0
    while ! port_is_free "$IT_NEXT_PORT"; do
        IT_NEXT_PORT=$((IT_NEXT_PORT + 1))
        tries=$((tries + 1))
        [ $tries -lt 200 ] || fail "no free port near $IT_NEXT_PORT"
    done
    printf -v "$1" '%d' "$IT_NEXT_PORT"
    IT_NEXT_PORT=$((IT_NEXT_PORT + 1))
}

# track PID NAME LOG: record a background process so that cleanup and fail() know it.
track() {
    IT_PIDS+=("$1")
    IT_WHAT[$1]=$2
    IT_LOG[$1]=$3
}

untrack() {
    local p keep=()
    for p in "${IT_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    IT_PIDS=("${keep[@]+"${keep[@]}"}")
}

alive() { kill -0 "$1" 2>/dev/null; }

# udp_ctl PORT COMMAND...: one datagram to a test peer's control socket on 127.0.0.1:PORT
# (test-pcrf, test-pcf); its reply in $REPLY; fails the test after 5 s without one.
udp_ctl() {
    local port=$1
    shift
    REPLY=$(python3 - "$port" "$*" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
print(s.recvfrom(512)[0].decode())
PY
) || fail "control command '$*' to port $port: no reply"
}

# listening PROTO PORT: some socket is bound (udp) / listening (tcp) on 127.0.0.1:PORT or any.
listening() {
    local opt=-Hlnu
    [ "$1" = tcp ] && opt=-Hlnt
    [ -n "$(ss $opt "sport = :$2" 2>/dev/null)" ]
}

# wait_listen PID PROTO PORT [SECONDS]: wait (bounded, default 5 s) until PID's port is bound;
# fails the test when the process dies first or the time runs out.
wait_listen() {
    local pid=$1 proto=$2 port=$3 limit=${4:-5} i
    for ((i = 0; i < limit * 20; i++)); do
        alive "$pid" ||
            fail "${IT_WHAT[$pid]:-process $pid} exited before listening on $proto:$port"
        listening "$proto" "$port" && return 0
        sleep 0.05
    done
    fail "${IT_WHAT[$pid]:-process $pid} not listening on $proto:$port after ${limit}s"
}

# start_proxy VAR NAME LISTEN_PORT NEXT_HOP [extra args...]: start $IMS_BUILD_DIR/NAME (pcscf,
# icscf or scscf) listening on udp and tcp 127.0.0.1:LISTEN_PORT with -n NEXT_HOP; wait until
# both sockets are bound; store its pid in VAR. Logs go to $IT_WORK/NAME-PORT.log, at level
# $IT_PROXY_LOG_LEVEL (default info: one line per forwarded message, for fail()).
: "${IT_PROXY_LOG_LEVEL:=info}"
start_proxy() {
    local var=$1 name=$2 port=$3 next=$4
    shift 4
    local exe log pid
    exe=$(bin "$name") || exit 1
    log=$IT_WORK/$name-$port.log
    "$exe" -l "udp:$IT_HOST:$port" -l "tcp:$IT_HOST:$port" -n "$next" -L "$IT_PROXY_LOG_LEVEL" \
        -p "$IT_WORK/$name-$port.pid" "$@" >"$log" 2>&1 &
    pid=$!
    track "$pid" "$name" "$log"
    wait_listen "$pid" udp "$port"
    wait_listen "$pid" tcp "$port"
    say "$name pid $pid listening on udp+tcp $IT_HOST:$port, next hop $next"
    printf -v "$var" '%d' "$pid"
}

# stop_proxy PID: SIGTERM, wait up to 5 s, check the exit status is 0 and that the log holds no
# sanitizer report. Fails the test otherwise (a daemon must stop cleanly when asked).
stop_proxy() {
    local pid=$1 i rc
    alive "$pid" || fail "${IT_WHAT[$pid]} (pid $pid) is not running any more"
    kill -TERM "$pid"
    for ((i = 0; i < 100; i++)); do
        alive "$pid" || break
        sleep 0.05
    done
    if alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        untrack "$pid"
        fail "${IT_WHAT[$pid]} (pid $pid) did not stop within 5 s of SIGTERM"
    fi
    wait "$pid"
    rc=$?
    untrack "$pid"
    [ "$rc" -eq 0 ] || fail "${IT_WHAT[$pid]} exited with status $rc after SIGTERM" "$pid"
    if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
        "${IT_LOG[$pid]}"; then
        fail "${IT_WHAT[$pid]} log holds a sanitizer report" "$pid"
    fi
    say "${IT_WHAT[$pid]} stopped cleanly (exit 0)"
}

# assert_alive PID: the daemon is still running.
assert_alive() {
    alive "$1" || fail "${IT_WHAT[$1]:-pid $1} died" "$1"
}

# sipp_common ROLE PORT: options every sipp run gets: local address and ports of our range for
# SIP, media and control (sipp binds 6000/8888 by default, which other tools may hold), no
# stdin, and the files it writes kept in the work directory. sipp's control socket takes any
# datagram as a keystroke ('q' quits, exit status 0, calls silently missing): we bind it to
# 127.0.0.2, where no test sends anything, after seeing sipp peers quit early a few times
# while other jobs shared the machine; expect_calls also counts the calls, so a quit fails.
# Sets SIPP_ARGS (array) and SIPP_TAG (file prefix).
# The media and control ports are picked once per role and SIP port and reused by later runs.
declare -A IT_SIPP_PORTS
sipp_common() {
    local role=$1 port=$2 mp cp key=$1-$2
    if [ -z "${IT_SIPP_PORTS[$key]:-}" ]; then
        pick_port_into mp
        IT_NEXT_PORT=$((IT_NEXT_PORT + 3))  # sipp also binds media port + 2
        pick_port_into cp
        IT_SIPP_PORTS[$key]="$mp $cp"
    fi
    read -r mp cp <<<"${IT_SIPP_PORTS[$key]}"
    IT_SIPP_RUN=$((${IT_SIPP_RUN:-0} + 1))
    SIPP_TAG=$IT_WORK/sipp-$role-$port-$IT_SIPP_RUN
    SIPP_ARGS=(-i "$IT_HOST" -p "$port" -mp "$mp" -ci 127.0.0.2 -cp "$cp" -nostdin
        -trace_stat -stf "$SIPP_TAG.csv" -fd 1
        -trace_screen -screen_file "$SIPP_TAG.screen"
        -trace_err -error_file "$SIPP_TAG.errors")
}

# start_sipp_uas VAR SCENARIO PORT TRANSPORT CALLS [extra args...]: background sipp UAS that
# exits by itself after CALLS calls (exit 0 only when all of them succeeded); pid in VAR.
start_sipp_uas() {
    local var=$1 scen=$2 port=$3 tp=$4 calls=$5 pid
    shift 5
    sipp_common uas "$port"
    local tflag=u1
    [ "$tp" = tcp ] && tflag=t1
    (cd "$IT_WORK" && exec sipp -sf "$SIPP_SCEN_DIR/$scen" -t "$tflag" -m "$calls" \
        "${SIPP_ARGS[@]}" "$@") >"$SIPP_TAG.out" 2>&1 &
    pid=$!
    track "$pid" "sipp-uas:$port" "$SIPP_TAG.errors"
    wait_listen "$pid" "$tp" "$port"
    printf -v "$var" '%d' "$pid"
}

# run_sipp_uac SCENARIO PORT TRANSPORT REMOTE CALLS TIMEOUT [extra args...]: run a sipp UAC in
# the foreground (bounded by TIMEOUT seconds, with -timeout_error) placing CALLS calls to
# REMOTE (host:port). Sets SIPP_RC (exit status) and SIPP_TAG; never fails by itself.
run_sipp_uac() {
    local scen=$1 port=$2 tp=$3 remote=$4 calls=$5 tmo=$6
    shift 6
    sipp_common uac "$port"
    local tflag=u1
    [ "$tp" = tcp ] && tflag=t1
    (cd "$IT_WORK" && exec timeout -k 5 $((tmo + 10)) sipp -sf "$SIPP_SCEN_DIR/$scen" \
        -t "$tflag" -m "$calls" -s service -timeout "${tmo}s" -timeout_error \
        "${SIPP_ARGS[@]}" "$@" "$remote") >"$SIPP_TAG.out" 2>&1 &
    local pid=$!
    track "$pid" "sipp-uac:$port" "$SIPP_TAG.errors"
    wait "$pid"
    SIPP_RC=$?
    untrack "$pid"
}

# wait_sipp PID SECONDS: wait for a background sipp to exit by itself; sets SIPP_RC; fails when it
# runs past SECONDS (it is then killed).
wait_sipp() {
    local pid=$1 limit=$2 i
    for ((i = 0; i < limit * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        sleep 0.5
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        untrack "$pid"
        fail "${IT_WHAT[$pid]} still running after ${limit}s" "$pid"
    fi
    wait "$pid"
    SIPP_RC=$?
    untrack "$pid"
}

# stat_of TAG COLUMN: the cumulative value of a sipp -trace_stat column, e.g. SuccessfulCall(C),
# from the last line of TAG.csv (empty when the file or the column is missing).
stat_of() {
    local csv=$1.csv
    [ -s "$csv" ] || return 0
    awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i }
        END { if (c) print $c }' "$csv" | tr -d ' \r'
}

# calls_summary TAG: "ok=N failed=M" from a sipp stat file.
calls_summary() {
    printf 'ok=%s failed=%s' "$(stat_of "$1" 'SuccessfulCall(C)')" "$(stat_of "$1" 'FailedCall(C)')"
}

# expect_calls TAG RC WANT WHO: assert sipp RC is 0 and its stat file shows WANT successful and 0
# failed calls. WHO names the peer in messages.
expect_calls() {
    local tag=$1 rc=$2 want=$3 who=$4 okc failc
    okc=$(stat_of "$tag" 'SuccessfulCall(C)')
    failc=$(stat_of "$tag" 'FailedCall(C)')
    say "$who: exit $rc, successful calls ${okc:-?}/$want, failed ${failc:-?}"
    [ "$rc" -eq 0 ] || fail "$who: sipp exited with $rc (0 = all calls succeeded)" "" "$tag"
    [ "${okc:-x}" = "$want" ] || fail "$who: $okc successful calls, expected $want" "" "$tag"
    [ "${failc:-x}" = 0 ] || fail "$who: $failc failed calls" "" "$tag"
}

# fail REASON [PID] [SIPP_TAG]: print the reason, the tail of every tracked daemon log (or only
# PID's), and of sipp's error/screen files; exit 1 (the EXIT trap stops everything).
fail() {
    local reason=$1 only=${2:-} tag=${3:-} p f
    IT_FAILED=1
    trap - INT TERM
    printf '[%s] FAIL: %s\n' "$IT_NAME" "$reason" >&2
    for p in "${!IT_LOG[@]}"; do
        [ -z "$only" ] || [ "$p" = "$only" ] || continue
        f=${IT_LOG[$p]}
        case "${IT_WHAT[$p]}" in sipp-*) continue ;; esac
        [ -s "$f" ] || continue
        printf -- '--- last lines of %s (%s) ---\n' "$f" "${IT_WHAT[$p]}" >&2
        tail -n 40 "$f" >&2
    done
    for f in ${tag:+"$tag.errors" "$tag.screen" "$tag.out"}; do
        [ -s "$f" ] || continue
        printf -- '--- last lines of %s ---\n' "$f" >&2
        tail -n 30 "$f" >&2
    done
    exit 1
}

# ok SUMMARY: the test passed.
ok() {
    printf 'ok: %s: %s\n' "$IT_NAME" "$*"
    exit 0
}

# it_cleanup: EXIT trap. Stop whatever still runs (newest first: peers before daemons), by pid.
it_cleanup() {
    local rc=$? i p
    for ((i = ${#IT_PIDS[@]} - 1; i >= 0; i--)); do
        p=${IT_PIDS[$i]}
        alive "$p" && kill -TERM "$p" 2>/dev/null
    done
    for ((i = ${#IT_PIDS[@]} - 1; i >= 0; i--)); do
        p=${IT_PIDS[$i]}
        local n=0
        while alive "$p" && [ $n -lt 40 ]; do
            sleep 0.05
            n=$((n + 1))
        done
        alive "$p" && kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ -n "$IT_WORK" ] && [ -d "$IT_WORK" ]; then
        if [ "$rc" -ne 0 ] || [ "$IT_FAILED" -ne 0 ] || [ "${IMS_KEEP_WORK:-0}" = 1 ]; then
            printf '[%s] logs kept in %s\n' "$IT_NAME" "$IT_WORK" >&2
        else
            rm -rf "$IT_WORK"
        fi
    fi
    exit "$rc"
}
