#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Calls through the stateful proxy over a lossy network: sipp drops 10 % of the messages it
# sends and receives, at both the UAC and the UAS (-lost 10), over UDP. The calls must still
# all complete: sipp retransmits its requests and 2xx (T1 = 500 ms), the proxy's transactions
# retransmit on its side (Timers A, E, G) and absorb or answer retransmissions.
#
# 50 calls at 10 calls/s, each held 1 s (PROXY_LOSS_CALLS=N for more, to measure how often a
# call fails). The UAS runs uas_call_lossy.xml, which works around
# sipp's own limits under loss: its first answer, a 100 Trying, is never lost (sipp cannot
# absorb a retransmitted INVITE once it has answered), its ACK is optional (the BYE may
# overtake a recovered ACK) and it lingers 16 s to answer retransmitted BYEs. Everything else
# (INVITE, 180, 200s, ACK, BYE, in both directions) is subject to the 10 % loss.
# Checked: 0 failed calls at both ends, proxy alive, clean exit.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
it_init 16200

CALLS=${PROXY_LOSS_CALLS:-50}
pick_port_into PX
pick_port_into UAS_PORT
pick_port_into UAC_PORT

say "$CALLS calls over UDP with 10% loss at both sipp ends: UAC -> pcscf :$PX -> UAS :$UAS_PORT"
# A late ACK retransmission (the UAC answering a 200 retransmitted before it saw the BYE
# through) may reach the UAS after its call ended: sipp must ignore it, not abort the call
# (-default_behaviors without abortunexp). A call still fails if its BYE never arrives.
start_sipp_uas UAS uas_call_lossy.xml "$UAS_PORT" udp "$CALLS" -lost 10 -recv_timeout 30000 \
    -timeout "$((CALLS / 10 + 95))s" -timeout_error -default_behaviors pingreply
UAS_TAG=$SIPP_TAG
start_proxy PXPID pcscf "$PX" "udp:$IT_HOST:$UAS_PORT"
run_sipp_uac uac_call.xml "$UAC_PORT" udp "$IT_HOST:$PX" "$CALLS" "$((CALLS / 10 + 85))" \
    -r 10 -rp 1000 -d 1000 -lost 10 -recv_timeout 30000
expect_calls "$SIPP_TAG" "$SIPP_RC" "$CALLS" "UAC"
say "UAC retransmissions: $(stat_of "$SIPP_TAG" 'Retransmissions(C)')"
wait_sipp "$UAS" 60
expect_calls "$UAS_TAG" "$SIPP_RC" "$CALLS" "UAS"
assert_alive "$PXPID"
stop_proxy "$PXPID"

ok "$CALLS calls with 10% loss at both ends completed through pcscf, 0 failed"
