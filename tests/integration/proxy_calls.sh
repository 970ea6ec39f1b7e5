#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Calls through the transparent stateful proxy (RFC 3261 16): sipp UAC -> pcscf -> sipp UAS.
#
#   1. 200 calls over UDP     (UAC udp -> proxy -> UAS udp)
#   2. 200 calls over TCP     (UAC tcp -> proxy -> UAS tcp)
#   3. 100 calls UDP in, TCP out (the proxy changes transport; the UAS's Contact carries
#      transport=TCP, which the proxy must follow for the ACK and BYE)
# Each call is INVITE/180/200/ACK/BYE/200 with Record-Route honoured by both ends, at 50 calls/s.
# Checked: both sipp ends report every call successful and none failed; the proxy is still
# running after each phase and exits 0 on SIGTERM with no sanitizer report.
. "$(dirname "$0")/lib/common.sh"
it_init 16000

CALLS=200
MIXED_CALLS=100

# phase NAME UAC_TRANSPORT UAS_TRANSPORT CALLS
phase() {
    local name=$1 utp=$2 stp=$3 calls=$4 px uas_port uac_port uas pxpid uas_tag
    pick_port_into px
    pick_port_into uas_port
    pick_port_into uac_port
    say "phase $name: $calls calls, UAC $utp -> pcscf :$px -> UAS $stp :$uas_port"
    start_sipp_uas uas uas_call.xml "$uas_port" "$stp" "$calls" -recv_timeout 20000 \
        -timeout 90s -timeout_error
    uas_tag=$SIPP_TAG
    start_proxy pxpid pcscf "$px" "$stp:$IT_HOST:$uas_port"
    run_sipp_uac uac_call.xml "$uac_port" "$utp" "$IT_HOST:$px" "$calls" 60 \
        -r 50 -rp 1000 -d 20 -recv_timeout 20000
    expect_calls "$SIPP_TAG" "$SIPP_RC" "$calls" "$name UAC"
    wait_sipp "$uas" 30
    expect_calls "$uas_tag" "$SIPP_RC" "$calls" "$name UAS"
    assert_alive "$pxpid"
    stop_proxy "$pxpid"
}

phase udp udp udp "$CALLS"
phase tcp tcp tcp "$CALLS"
phase udp-to-tcp udp tcp "$MIXED_CALLS"

ok "$CALLS UDP calls, $CALLS TCP calls and $MIXED_CALLS UDP->TCP calls through pcscf," \
    "0 failed; proxy alive and stopped cleanly"
