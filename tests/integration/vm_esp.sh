#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Real ESP in the test VM (tests/vm/): this machine's kernel has no ESP, so tests/vm/run.sh
# boots Debian's cloud kernel under qemu and runs tests/vm/esp_smoke.sh there:
#   namespaces ue and core on a veth pair; for hmac-sha-1-96 + aes-cbc, hmac-md5-96 + null,
#   hmac-sha-1-96 + des3_ede-cbc (IPv4) and hmac-sha-1-96 + aes-cbc (IPv6), 2 transport-mode
#   SAs and 2 policies per side (ip xfrm); 5 UDP datagrams ue->core and 5 back all arrive;
#   the receiving veth saw them as ESP, none as cleartext UDP (tests/tools/pktcount, a packet
#   socket); every SA counted 5 packets on both sides (ip -s xfrm state); no xfrm_stat error.
#   Then, policies removed, the same datagrams do show up as cleartext UDP: the counts can fail.
# Here: the VM's exit status, no sanitizer report on its console (pktcount is an ASan build in
# the ASan build dir), every case's summary line present; boot and total times are printed.
# Needs qemu and the kernel that scripts/install-deps.sh fetches. Exit 1 on any failure.
. "$(dirname "$0")/lib/common.sh"
it_init 17900

PKTCOUNT=$(bin tests/pktcount) || exit 1
command -v qemu-system-x86_64 >/dev/null ||
    fail "qemu-system-x86_64 not found: run scripts/install-deps.sh"
LOG=$IT_WORK/vm.log
start=$(date +%s.%N)
bash "$IMS_SOURCE_DIR/tests/vm/run.sh" -b "$PKTCOUNT" -t 240 \
    "$IMS_SOURCE_DIR/tests/vm/esp_smoke.sh" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
total=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

[ "$rc" -eq 0 ] || fail "the VM test exited with status $rc (its console is above)"
if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$LOG"; then
    fail "the VM's console holds a sanitizer report"
fi
cases=$(grep -c '^\[esp_smoke\] case .*all ESP on the veth, none in clear' "$LOG")
[ "$cases" -eq 4 ] || fail "$cases of 4 algorithm cases reported success"
grep -q '^\[esp_smoke\] without policies: .* arrived as cleartext UDP' "$LOG" ||
    fail "the cleartext counter-check did not report"
grep -q '^\[esp_smoke\] passed (t=' "$LOG" || fail "esp_smoke did not reach its end"
boot=$(sed -n 's/^IMS-VM: kernel .* up after \([0-9.]*\) s.*/\1/p' "$LOG")
vm=$(sed -n 's/^vm: test .* VM ran \([0-9.]*\) s$/\1/p' "$LOG")
ok "ESP in the VM: 4 algorithm cases x 5 datagrams each way, all ESP, SA counters 5/5;" \
    "cleartext without policies; kernel up in ${boot:-?} s, VM ${vm:-?} s, total $total s"
