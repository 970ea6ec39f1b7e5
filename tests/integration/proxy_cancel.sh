#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# CANCEL through the stateful proxy (RFC 3261 16.10): the caller cancels while the callee rings.
#
# sipp UAC (uac_cancel.xml) -> pcscf -> sipp UAS (uas_ring_forever.xml), 20 calls over UDP and
# 20 over TCP. A call succeeds at the UAC only when its CANCEL gets a 200 and its INVITE a 487
# (matched per transaction); at the UAS only when a CANCEL arrives, it answers 200 and 487, and
# the ACK for the 487 comes back. Checked: all calls succeed at both ends, the proxy is alive
# and exits 0 on SIGTERM.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
it_init 16100

CALLS=20

phase() {
    local tp=$1 px uas_port uac_port uas pxpid uas_tag
    pick_port_into px
    pick_port_into uas_port
    pick_port_into uac_port
    say "phase $tp: $CALLS cancelled calls, UAC -> pcscf :$px -> UAS :$uas_port"
    start_sipp_uas uas uas_ring_forever.xml "$uas_port" "$tp" "$CALLS" -recv_timeout 20000 \
        -timeout 60s -timeout_error
    uas_tag=$SIPP_TAG
    start_proxy pxpid pcscf "$px" "$tp:$IT_HOST:$uas_port"
    run_sipp_uac uac_cancel.xml "$uac_port" "$tp" "$IT_HOST:$px" "$CALLS" 40 \
        -r 10 -rp 1000 -recv_timeout 20000
    expect_calls "$SIPP_TAG" "$SIPP_RC" "$CALLS" "$tp UAC (200 for CANCEL, 487 for INVITE)"
    wait_sipp "$uas" 30
    expect_calls "$uas_tag" "$SIPP_RC" "$CALLS" "$tp UAS (CANCEL received, 487 sent, ACK received)"
    assert_alive "$pxpid"
    stop_proxy "$pxpid"
}

phase udp
phase tcp

ok "$CALLS UDP and $CALLS TCP calls cancelled before answer: 487 at the caller," \
    "CANCEL/487/ACK at the callee, 0 failed"
