#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The next hop is down and reached over TCP: the connect is refused after connect() returned
# (EINPROGRESS, then RST), so the failure reaches the transaction layer from the event loop.
# The request must fail at once: the branch gets a 503 (RFC 3261 §17.1.4, transport error),
# which a proxy passes upstream as 500 (§16.7 step 6: a 503 would say the proxy itself is
# out of service). Not a 408 when Timer B or F runs out 32 s later: the upstream node or
# handset learns in milliseconds and can try elsewhere.
#
# 1. INVITE and MESSAGE from a UDP client through pcscf to tcp:<closed port>, three times
#    each (a new connect each time): each answered 500 within 2 s (the proxy's own 100 Trying
#    may come first for the INVITE), none 408.
# 2. The next hop comes up (sipp UAS over TCP): a call through the same pcscf completes, so a
#    failed connection leaves nothing behind that blocks the next one.
# Checked also: pcscf alive throughout and clean exit.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
it_init 16400

pick_port_into PX
pick_port_into DOWN
pick_port_into UAC_PORT
pick_port_into CLI_PORT

# -L info: step 1 counts the proxy's info lines on failed connections.
start_proxy PXPID pcscf "$PX" "tcp:$IT_HOST:$DOWN" -L info

# send NAME METHOD: one request from $CLI_PORT to the proxy; prints every status line
# received within 2 s on one line (Timer B/F would answer 408 after 32 s).
send() {
    cat >"$IT_WORK/$1.sip" <<EOM
$2 sip:service@$IT_HOST:$PX SIP/2.0
Via: SIP/2.0/UDP $IT_HOST:$CLI_PORT;branch=z9hG4bK$1;rport
Max-Forwards: 70
From: <sip:caller@$IT_HOST>;tag=$1
To: <sip:service@$IT_HOST>
Call-ID: $1@$IT_HOST
CSeq: 1 $2
Contact: <sip:caller@$IT_HOST:$CLI_PORT>
Content-Length: 0

EOM
    python3 "$SIPSEND" -a -w 2 -b "$CLI_PORT" "$IT_WORK/$1.sip" "$IT_HOST" "$PX" | tr '\n' ' '
}

say "1. next hop tcp:$IT_HOST:$DOWN has no listener"
for i in 1 2 3; do
    for m in INVITE MESSAGE; do
        got=$(send "down$i$m" "$m")
        case "$got" in
        *"SIP/2.0 408 "*) fail "$m $i: 408 (a timer ran out, the connect failure was not seen): $got" ;;
        *"SIP/2.0 500 "*) ;;
        *) fail "$m $i: expected 500 within 2 s, got: ${got:-nothing}" ;;
        esac
        say "$m $i: $got"
    done
done
n=$(grep -c "connection [0-9]* failed before it was ready" "$IT_WORK/pcscf-$PX.log")
[ "$n" -ge 6 ] || fail "pcscf logged $n requests lost with a failed connection, expected 6"
assert_alive "$PXPID"

say "2. the next hop comes up on tcp:$IT_HOST:$DOWN"
start_sipp_uas UAS uas_call.xml "$DOWN" tcp 1 -recv_timeout 20000 -timeout 40s -timeout_error
UAS_TAG=$SIPP_TAG
run_sipp_uac uac_call.xml "$UAC_PORT" udp "$IT_HOST:$PX" 1 30 -recv_timeout 20000
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "UAC"
wait_sipp "$UAS" 30
expect_calls "$UAS_TAG" "$SIPP_RC" 1 "UAS"
assert_alive "$PXPID"
stop_proxy "$PXPID"

ok "6 requests to a next hop refusing TCP answered 500 at once (no Timer B/F wait)," \
    "then a call through the same proxy once it listened"
