#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Calls through the transparent stateful proxy (RFC 3261 16): sipp UAC -> pcscf -> sipp UAS.
#
#   1. 200 calls over UDP     (UAC udp -> proxy -> UAS udp)
#   2. 200 calls over TCP     (UAC tcp -> proxy -> UAS tcp)
#   3. 100 calls UDP in, TCP out (the proxy changes transport; the UAS's Contact carries
#      transport=TCP, which the proxy must follow for the ACK and BYE)
#   4. 100 calls over UDP through pcscf -> icscf -> scscf, named by a Route set the UAC
#      preloads (uac_call_routed.xml): each proxy pops its own Route and loose-routes to the
#      next; all three record-route, so the ACK and BYE carry three Routes
# Each call is INVITE/180/200/ACK/BYE/200 with Record-Route honoured by both ends, at 50 calls/s.
# Checked: both sipp ends report every call successful and none failed; the proxy is still
# running after each phase and exits 0 on SIGTERM with no sanitizer report.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
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

# chain CALLS: UAC -> pcscf -> icscf -> scscf -> UAS by preloaded loose routes.
chain() {
    local calls=$1 p1 p2 p3 uas_port uac_port uas uas_tag pid1 pid2 pid3 routes
    pick_port_into p1
    pick_port_into p2
    pick_port_into p3
    pick_port_into uas_port
    pick_port_into uac_port
    say "phase chain: $calls calls, UAC -> pcscf :$p1 -> icscf :$p2 -> scscf :$p3 -> UAS" \
        ":$uas_port, by Route"
    start_sipp_uas uas uas_call.xml "$uas_port" udp "$calls" -recv_timeout 20000 \
        -timeout 90s -timeout_error
    uas_tag=$SIPP_TAG
    # -n is not used on this path (no request is addressed to a proxy itself).
    start_proxy pid1 pcscf "$p1" "udp:$IT_HOST:$p2"
    start_proxy pid2 icscf "$p2" "udp:$IT_HOST:$p3"
    start_proxy pid3 scscf "$p3" "udp:$IT_HOST:$uas_port"
    routes="<sip:$IT_HOST:$p1;lr>,<sip:$IT_HOST:$p2;lr>,<sip:$IT_HOST:$p3;lr>"
    run_sipp_uac uac_call_routed.xml "$uac_port" udp "$IT_HOST:$uas_port" "$calls" 60 \
        -rsa "$IT_HOST:$p1" -key route_set "$routes" -r 50 -rp 1000 -d 20 -recv_timeout 20000
    expect_calls "$SIPP_TAG" "$SIPP_RC" "$calls" "chain UAC"
    wait_sipp "$uas" 30
    expect_calls "$uas_tag" "$SIPP_RC" "$calls" "chain UAS"
    assert_alive "$pid1"
    assert_alive "$pid2"
    assert_alive "$pid3"
    stop_proxy "$pid3"
    stop_proxy "$pid2"
    stop_proxy "$pid1"
}

phase udp udp udp "$CALLS"
phase tcp tcp tcp "$CALLS"
phase udp-to-tcp udp tcp "$MIXED_CALLS"
chain "$MIXED_CALLS"

ok "$CALLS UDP calls, $CALLS TCP calls and $MIXED_CALLS UDP->TCP calls through pcscf," \
    "$MIXED_CALLS calls through pcscf, icscf and scscf by Route; 0 failed; proxies alive" \
    "and stopped cleanly"
