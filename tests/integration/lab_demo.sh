#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's lab: scripts/lab.sh demo starts the daemons on their fixed loopback
# addresses (127.0.0.10/20/30) and handset A (127.0.0.100) calls handset B (127.0.0.101)
# through P-CSCF -> I-CSCF -> S-CSCF. Checked: the demo succeeds, the ladder shows the
# INVITE crossing all three daemons, status reports them running, and stop stops them.
. "$(dirname "$0")/lib/common.sh"
it_init 16600
lab() { IMS_LAB_DIR=$IT_WORK/lab IMS_BUILD_DIR=$IMS_BUILD_DIR bash "$IMS_SOURCE_DIR/scripts/lab.sh" "$@"; }
trap 'rc=$?; lab stop >/dev/null 2>&1; (exit $rc); it_cleanup' EXIT

lab demo >"$IT_WORK/demo.out" 2>&1 || { cat "$IT_WORK/demo.out"; fail "lab.sh demo failed"; }
sed 's/^/  /' "$IT_WORK/demo.out"
for d in pcscf icscf scscf; do
    grep -qE "$d +INVITE forwarded" "$IT_WORK/demo.out" || fail "ladder lacks the INVITE at $d"
done
grep -q "call completed" "$IT_WORK/demo.out" || fail "demo did not report the call completed"
lab status | tee "$IT_WORK/status.out"
[ "$(grep -c running "$IT_WORK/status.out")" -eq 4 ] || fail "not all four daemons (HSS + 3 CSCFs) running"
lab stop
lab status | grep -q running && fail "daemons still running after stop"
ok "lab demo: call through P-CSCF, I-CSCF and S-CSCF; status and stop work"
