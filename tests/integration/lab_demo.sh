#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's lab: scripts/lab.sh demo starts the daemons on their fixed loopback
# addresses (127.0.0.10/20/30, ims-hss 127.0.0.40), handsets A (127.0.0.100) and B
# (127.0.0.101) register with IMS AKA through P-CSCF -> I-CSCF -> S-CSCF, and A calls B
# (P-CSCF -> S-CSCF along A's Service-Route -> B).
# Checked: the demo succeeds; each registration's 200 OK shows Service-Route,
# P-Associated-URI and Path and ims-hss shows both subscribers registered at the S-CSCF; the
# registration ladder shows the REGISTERs crossing the P-CSCF and the I-CSCF and the S-CSCF
# registering both; the call ladder shows the INVITE at the P-CSCF and the S-CSCF; status
# reports the four daemons running, and stop stops them.
. "$(dirname "$0")/lib/common.sh"
it_init 16600
lab() { IMS_LAB_DIR=$IT_WORK/lab IMS_BUILD_DIR=$IMS_BUILD_DIR bash "$IMS_SOURCE_DIR/scripts/lab.sh" "$@"; }
trap 'rc=$?; lab stop >/dev/null 2>&1; (exit $rc); it_cleanup' EXIT

lab demo >"$IT_WORK/demo.out" 2>&1 || { cat "$IT_WORK/demo.out"; fail "lab.sh demo failed"; }
sed 's/^/  /' "$IT_WORK/demo.out"
for h in Service-Route P-Associated-URI Path; do
    n=$(grep -ci "200 OK  $h:" "$IT_WORK/demo.out")
    [ "$n" -ge 2 ] || fail "want $h in both registrations' 200 OK, got $n"
done
n=$(grep -c "ims-hss: ok state=registered scscf=sip:scscf.ims.mnc001.mcc001.3gppnetwork.org" \
    "$IT_WORK/demo.out")
[ "$n" -eq 2 ] || fail "ims-hss shows $n of the 2 handsets registered at the S-CSCF"
for d in pcscf icscf; do
    n=$(grep -cE "$d +REGISTER forwarded" "$IT_WORK/demo.out")
    [ "$n" -ge 4 ] || fail "registration ladder: $n REGISTERs forwarded by $d, want >= 4"
done
n=$(grep -cE "scscf +.*registered as" "$IT_WORK/demo.out")
[ "$n" -eq 2 ] || fail "registration ladder: the S-CSCF registered $n handsets, want 2"
for d in pcscf scscf; do
    grep -qE "$d +INVITE forwarded" "$IT_WORK/demo.out" || fail "ladder lacks the INVITE at $d"
done
grep -q "call completed" "$IT_WORK/demo.out" || fail "demo did not report the call completed"
lab status | tee "$IT_WORK/status.out"
[ "$(grep -c running "$IT_WORK/status.out")" -eq 4 ] ||
    fail "not all four daemons (HSS + 3 CSCFs) running"
lab stop
lab status | grep -q running && fail "daemons still running after stop"
ok "lab demo: 2 handsets registered with IMS AKA through P-CSCF, I-CSCF, S-CSCF; call" \
    "through P-CSCF and S-CSCF; status and stop work"
