#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Malformed SIP against the proxy: every file of tests/corpus/malformed/ is sent as is, over UDP
# and over TCP (one connection per file), and the answer must be what EXPECT says: a given
# status code with a non-empty reason phrase (e.g. 400), no answer and nothing forwarded
# ("drop"), or the request forwarded to its Request-URI, a sink we run ("fwd"). After
# every batch of files, and at the end, a normal call (sipp UAC -> pcscf -> sipp UAS) must
# still succeed, and the proxy must still run; at the end it must exit 0 on SIGTERM.
#
# Corpus conventions (see tests/tools/gen_malformed_corpus.py): requests carry a top Via with
# sent-by 127.0.0.1:16390 and rport, so we send UDP from port 16390; for TCP, sipsend rewrites
# "SIP/2.0/UDP" to "SIP/2.0/TCP" and "mal-" to "tcp-" (branch, tag, Call-ID: no transaction
# of the UDP run is matched), both at equal length. Requests are
# addressed to sip:bob@127.0.0.1:16391, the sink (UDP and TCP) that logs what reaches it.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
it_init 16300

CORPUS=$IMS_SOURCE_DIR/tests/corpus/malformed
SRC_PORT=16390          # fixed by the corpus' Via sent-by
SINK_PORT=16391         # fixed by the corpus' Request-URIs
BATCH=5                 # files per transport between two sanity calls
WAIT=0.5                # seconds to wait for an answer (every "drop" costs this much)

[ -r "$CORPUS/EXPECT" ] || fail "$CORPUS/EXPECT missing"
port_is_free "$SRC_PORT" || fail "port $SRC_PORT (the corpus' Via sent-by) is in use"
port_is_free "$SINK_PORT" || fail "port $SINK_PORT (the corpus' Request-URI) is in use"

# Read the manifest: FILES[i], EXP_UDP[i], EXP_TCP[i].
FILES=() EXP_UDP=() EXP_TCP=()
while read -r f e1 e2 _; do
    case "$f" in '' | '#'*) continue ;; esac
    [ -r "$CORPUS/$f" ] || fail "EXPECT names $f, which is not in $CORPUS"
    case "$e2" in '#'*) e2= ;; esac
    FILES+=("$f")
    EXP_UDP+=("$e1")
    EXP_TCP+=("${e2:-$e1}")
done <"$CORPUS/EXPECT"
for f in "$CORPUS"/*.sip; do
    grep -q "^$(basename "$f") " "$CORPUS/EXPECT" || fail "$(basename "$f") has no EXPECT line"
done
NFILES=${#FILES[@]}
[ "$NFILES" -ge 30 ] || fail "only $NFILES corpus files"

# One sanity call per batch and transport, plus the final one: the UAS expects exactly that many.
NBATCH=$(((NFILES + BATCH - 1) / BATCH))
NSANITY=$((2 * NBATCH + 1))

pick_port_into PX
pick_port_into UAS_PORT
pick_port_into UAC_PORT
start_sipp_uas UAS uas_call.xml "$UAS_PORT" udp "$NSANITY" -recv_timeout 20000 \
    -timeout 300s -timeout_error
UAS_TAG=$SIPP_TAG
start_proxy PXPID pcscf "$PX" "udp:$IT_HOST:$UAS_PORT"

# The sink: one line per datagram or TCP read that reaches the corpus' Request-URI.
SINK_LOG=$IT_WORK/sink.log
: >"$SINK_LOG"
cat >"$IT_WORK/sink.py" <<'PY'
# Logs the first copy of every message that reaches it (retransmissions are the same bytes)
# and answers requests with a 200, so that the proxy stops retransmitting them.
import re, selectors, socket, sys
port, log = int(sys.argv[1]), open(sys.argv[2], "a")
seen = set()
sel = selectors.DefaultSelector()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", port))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", port))
t.listen(16)
sel.register(u, selectors.EVENT_READ, "udp")
sel.register(t, selectors.EVENT_READ, "accept")

def answer(data):
    if data.startswith(b"SIP/") or b"\r\n\r\n" not in data:
        return None
    keep = [h for h in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
            if re.match(rb"(?i)(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:", h)]
    return b"\r\n".join([b"SIP/2.0 200 OK"] + keep + [b"Content-Length: 0", b"", b""])

while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data == "accept":
            c, _ = s.accept()
            sel.register(c, selectors.EVENT_READ, "tcp")
            continue
        data, src = (s.recvfrom(70000) if key.data == "udp" else (s.recv(70000), None))
        if not data and key.data == "tcp":
            sel.unregister(s)
            s.close()
            continue
        if data in seen:
            continue
        seen.add(data)
        log.write(key.data + " " + data.split(b"\n", 1)[0].decode("utf-8", "replace") + "\n")
        log.flush()
        resp = answer(data)
        if resp and key.data == "udp":
            s.sendto(resp, src)
        elif resp:
            s.sendall(resp)
PY
python3 "$IT_WORK/sink.py" "$SINK_PORT" "$SINK_LOG" 2>"$IT_WORK/sink.err" &
SINK_PID=$!
track "$SINK_PID" sink "$IT_WORK/sink.err"
wait_listen "$SINK_PID" udp "$SINK_PORT"
wait_listen "$SINK_PID" tcp "$SINK_PORT"
say "$NFILES corpus files x {udp,tcp} against pcscf :$PX; a sanity call every $BATCH files"

SANITY=0
sanity_call() {
    run_sipp_uac uac_call.xml "$UAC_PORT" udp "$IT_HOST:$PX" 1 15 -recv_timeout 10000
    SANITY=$((SANITY + 1))
    [ "$SIPP_RC" -eq 0 ] || fail "sanity call $SANITY after $1 failed (sipp exit $SIPP_RC)" \
        "$PXPID" "$SIPP_TAG"
    assert_alive "$PXPID"
}

# matches VERDICT EXPECT: VERDICT is "drop", "fwd" or "<code> <reason>"; EXPECT alternatives
# are joined by '|'.
matches() {
    local verdict=$1 alt code=${1%% *} reason=${1#* }
    local IFS='|'
    for alt in $2; do
        if [ "$alt" = drop ] || [ "$alt" = fwd ]; then
            [ "$verdict" = "$alt" ] && return 0
        elif [ "$code" = "$alt" ] && [ "$reason" != "$verdict" ] && [ -n "${reason// /}" ]; then
            return 0
        fi
    done
    return 1
}

PASSED=0 SKIPPED=0 N400=0 NDROP=0 NFWD=0
check_file() {
    local tp=$1 f=$2 exp=$3 out line verdict sunk
    local args=(-t "$tp" -w "$WAIT")
    if [ "$exp" = skip ]; then
        SKIPPED=$((SKIPPED + 1))
        return
    fi
    if [ "$tp" = udp ]; then
        args+=(-b "$SRC_PORT")
    else
        args+=(-r SIP/2.0/UDP=SIP/2.0/TCP -r mal-=tcp-)
    fi
    sunk=$(wc -l <"$SINK_LOG")
    out=$(python3 "$SIPSEND" "${args[@]}" "$CORPUS/$f" "$IT_HOST" "$PX" 2>"$IT_WORK/sipsend.err") ||
        fail "sipsend $tp $f failed: $(cat "$IT_WORK/sipsend.err")"
    line=$(printf '%s\n' "$out" | head -n 1)
    if [ "$line" = NORESPONSE ]; then
        verdict=drop
    elif [[ "$line" =~ ^SIP/2\.0\ ([0-9]{3})(\ (.*))?$ ]]; then
        verdict="${BASH_REMATCH[1]} ${BASH_REMATCH[3]}"
    else
        verdict="garbage: $line"
    fi
    # Anything reaching the sink means the request was forwarded, whatever came back.
    if [ "$(wc -l <"$SINK_LOG")" -ne "$sunk" ]; then
        verdict=fwd
        line="(forwarded) $line"
    fi
    if ! matches "$verdict" "$exp"; then
        # Keep going: one run lists every mismatch; the test fails at the end.
        MISMATCHES+=("$tp $f: got '$line', expected $exp")
        printf '  %-4s %-32s %-16s -> %s   <-- MISMATCH\n' "$tp" "$f" "$exp" "$line"
        return
    fi
    case "$verdict" in
        drop) NDROP=$((NDROP + 1)) ;;
        fwd) NFWD=$((NFWD + 1)) ;;
        *) N400=$((N400 + 1)) ;;
    esac
    PASSED=$((PASSED + 1))
    printf '  %-4s %-32s %-16s -> %s\n' "$tp" "$f" "$exp" "$line"
}
MISMATCHES=()

for tp in udp tcp; do
    for ((i = 0; i < NFILES; i++)); do
        if [ "$tp" = udp ]; then exp=${EXP_UDP[$i]}; else exp=${EXP_TCP[$i]}; fi
        check_file "$tp" "${FILES[$i]}" "$exp"
        if (((i + 1) % BATCH == 0 || i + 1 == NFILES)); then
            assert_alive "$PXPID"
            sanity_call "$tp batch ending with ${FILES[$i]}"
        fi
    done
    say "$tp: all $NFILES files done, proxy alive, $SANITY sanity calls ok so far"
done

sanity_call "the whole corpus"
wait_sipp "$UAS" 20
expect_calls "$UAS_TAG" "$SIPP_RC" "$NSANITY" "sanity calls at the UAS"
stop_proxy "$PXPID"
if [ ${#MISMATCHES[@]} -gt 0 ]; then
    printf '  %s\n' "${MISMATCHES[@]}" >&2
    fail "${#MISMATCHES[@]} answers differ from EXPECT (a status needs a non-empty reason phrase)"
fi

ok "$PASSED checks as expected ($N400 answered, $NDROP dropped, $NFWD forwarded," \
    "$SKIPPED skipped) over" \
    "$NFILES files x udp/tcp; $SANITY sanity calls succeeded; proxy alive, clean exit"
