# SPDX-License-Identifier: BSD-2-Clause
# Wireshark as a second opinion on our Diameter bytes (sourced by tests; also runnable:
# `bash tests/integration/lib/tshark.sh <pcap> <port>`).
#
# tshark_check_clean PCAP PORT
#   Decodes PCAP with TCP port PORT as Diameter and prints the Diameter commands in frame
#   order (code + R for a request, A for an answer) with a count per code, and every expert
#   item of severity Warning or above with its frame number. Returns 0 when no expert item
#   of severity Error and no "Malformed Packet" marker appears and at least one Diameter
#   message was decoded; 1 otherwise; 2 on a usage problem or when tshark cannot read PCAP.
#   Warnings are shown but do not fail: Wireshark warns "Data is empty" on the zero-length
#   example AVP that RFC 6733 §7.5 asks for in a 5005 answer's Failed-AVP.
#
# How Wireshark reports trouble (tshark 4.0, `tshark -G fields`):
#   _ws.expert.severity  FT_UINT32, one per expert item; printed as a number with -T fields:
#                        0x00200000 Chat, 0x00400000 Note, 0x00600000 Warning, 0x00800000 Error.
#                        A bad AVP length, a wrong-size Unsigned32 etc. are Error items.
#   _ws.malformed        the "Malformed Packet" protocol item, added when a dissector threw
#                        (message cut short and the like); -T fields prints its name when present.
# A capture to check: as root, `tshark -i lo -f "tcp port P" -w file.pcap -a duration:N &`,
# run the traffic, wait for tshark to stop (no tcpdump needed).
#
# tshark_capture_start FILTER PCAP [VAR]   (tests that source lib/common.sh)
#   tshark on lo with capture filter FILTER into PCAP, in the background, tracked, its pid in
#   VAR (default TSHARK_PID); returns once it really captures (fails the test after 10 s).
# tshark_capture_stop PCAP [PID]
#   Waits a second for the last segments, stops it (default $TSHARK_PID) with SIGINT (5 s at
#   most), fails the test when the capture is empty.

tshark_check_clean() {
    local pcap=${1:-} port=${2:-} agg=$'\x1f' fields
    if [ -z "$pcap" ] || [ -z "$port" ]; then
        echo "usage: tshark_check_clean PCAP PORT" >&2
        return 2
    fi
    if ! command -v tshark >/dev/null 2>&1; then
        echo "tshark_check_clean: tshark not found in PATH" >&2
        return 2
    fi
    if [ ! -r "$pcap" ]; then
        echo "tshark_check_clean: cannot read $pcap" >&2
        return 2
    fi
    # Several Diameter messages can share a frame: every occurrence, joined by \x1f.
    if ! fields=$(tshark -n -r "$pcap" -d "tcp.port==$port,diameter" -T fields \
            -E separator=/t -E occurrence=a -E "aggregator=$agg" \
            -e frame.number -e diameter.cmd.code -e diameter.flags.request \
            -e _ws.expert.severity -e _ws.expert.message -e _ws.malformed 2>/dev/null); then
        echo "tshark_check_clean: tshark failed on $pcap" >&2
        return 2
    fi
    printf '%s\n' "$fields" | awk -F'\t' -v agg="$agg" -v pcap="$pcap" -v port="$port" '
        BEGIN { WARN = 6291456; ERR = 8388608; total = 0; bad = 0; ncodes = 0; seq = "" }
        NF == 0 { next }
        {
            if ($2 != "") {
                n = split($2, code, agg)
                split($3, req, agg)
                for (i = 1; i <= n; i++) {
                    r = (req[i] == "1" || req[i] == "True") ? "R" : "A"
                    seq = seq " " code[i] r
                    if (!(code[i] r in count))
                        order[++ncodes] = code[i] r
                    count[code[i] r]++
                    total++
                }
            }
            if ($4 != "") {
                n = split($4, sev, agg)
                split($5, msg, agg)
                for (i = 1; i <= n; i++) {
                    if (sev[i] + 0 >= ERR) {
                        printf "  frame %s: ERROR: %s\n", $1, msg[i]
                        bad++
                    } else if (sev[i] + 0 >= WARN) {
                        printf "  frame %s: warning: %s\n", $1, msg[i]
                    }
                }
            }
            if ($6 != "") {
                printf "  frame %s: ERROR: malformed packet\n", $1
                bad++
            }
        }
        END {
            printf "tshark: %s, tcp port %s as Diameter: %d messages\n", pcap, port, total
            printf "  commands:%s\n", seq
            line = ""
            for (i = 1; i <= ncodes; i++)
                line = line " " order[i] "=" count[order[i]]
            printf "  counts:%s\n", line
            if (total == 0) {
                print "  FAIL: no Diameter message decoded"
                exit 1
            }
            if (bad > 0) {
                printf "  FAIL: %d error(s) or malformed packet(s)\n", bad
                exit 1
            }
            print "  clean: no expert error, no malformed packet"
        }'
}

TSHARK_PID=
tshark_capture_start() {
    local filter=$1 pcap=$2 var=${3:-TSHARK_PID} pid i
    tshark -n -i lo -f "$filter" -w "$pcap" >"$pcap.log" 2>&1 &
    pid=$!
    track "$pid" "tshark" "$pcap.log"
    for ((i = 0; i < 200; i++)); do
        grep -q "Capturing on" "$pcap.log" 2>/dev/null && break
        alive "$pid" || fail "tshark exited at start (capturing on lo needs root)"
        sleep 0.05
    done
    grep -q "Capturing on" "$pcap.log" || fail "tshark did not start capturing within 10 s"
    # "Capturing on" is printed as dumpcap opens the interface; on a loaded machine the
    # first packets after it can still be missed: give it a moment.
    sleep 1
    printf -v "$var" '%d' "$pid"
}

tshark_capture_stop() {
    local pcap=$1 pid=${2:-$TSHARK_PID} i
    sleep 1  # let the last segments reach the capture (dumpcap lags on a loaded machine)
    kill -INT "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        alive "$pid" || break
        sleep 0.05
    done
    alive "$pid" && fail "tshark still running 5 s after SIGINT"
    wait "$pid" 2>/dev/null
    untrack "$pid"
    [ -s "$pcap" ] || fail "tshark wrote no capture ($(cat "$pcap.log"))"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    tshark_check_clean "$@"
fi
