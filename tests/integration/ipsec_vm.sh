#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 6, sec-agree over real ESP through our P-CSCF: the acceptance cases that need ESP, in
# one boot of the test VM (tests/vm/run.sh; this machine's kernel has no ESP). The VM runs
# tests/vm/ipsec_cases.sh (its header lists every check) with the lab's daemons and ims-ue:
#   1. each (alg, ealg) pair the P-CSCF offers (6, --ipsec-alg): 4 SAs per side with those
#      algorithms, counters rose, de-registration seen on the veth as ESP only, nothing left;
#   2. a MESSAGE to a protected port from an address without SA: 403, logged; a REGISTER with
#      a Security-Verify that differs from the Security-Server: 403, logged, SAs removed;
#   3. re-registration during a call rotates the SAs (new SPIs and port-c, port-s kept on both
#      sides, old ones removed after the new carried the 200 and retire_ms), a re-INVITE after
#      retire_ms and the BYE succeed over ESP, no cleartext SIP; expiry removes the SAs;
#   4. SIGKILL and restart of the P-CSCF: the registered UEs' SAs are restored and kept, the
#      expired UE's removed, foreign SAs untouched, journal 0600; the UEs call each other
#      without re-registering, over ESP (no cleartext SIP, ACKs included).
# Here: the configurations (config/lab, edited for the VM), the VM's exit status, each case's
# summary line, no sanitizer report. Exit 77 (skipped) without qemu or the VM kernel
# (scripts/install-deps.sh).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"

if ! command -v qemu-system-x86_64 >/dev/null ||
    ! ls -d /var/cache/ims-core/vm/linux-image-*/ >/dev/null 2>&1; then
    echo "[ipsec_vm] SKIP: no qemu or VM kernel (scripts/install-deps.sh)"
    exit 77
fi
it_init 21900

# vm_configs DIR: config/lab for the VM (127.0.0.x inside namespace core; the P-CSCF also on
# 10.99.0.2, sec-agree on with all six pairs, retire_ms 1500, a journal; the S-CSCF challenges
# every REGISTER; HSS state in /tmp).
vm_configs() {
    local d=$1 c
    mkdir -p "$d"
    for c in hss scscf icscf pcscf; do cp "$IMS_SOURCE_DIR/config/lab/$c.cfg" "$d/"; done
    python3 - "$d" <<'EOF' || fail "could not edit config/lab for the VM (its layout changed?)"
import re, sys
d = sys.argv[1]
def edit(name, subs):
    p = f"{d}/{name}.cfg"
    s = open(p).read()
    for pat, rep in subs:
        s, n = re.subn(pat, rep, s, count=1, flags=re.M | re.S)
        if n != 1:
            sys.exit(f"{name}.cfg: no match for {pat!r}")
    open(p, "w").write(s)
pairs = ", ".join(f'"{a}:{e}"' for a in ("hmac-sha-1-96", "hmac-md5-96")
                  for e in ("aes-cbc", "des-ede3-cbc", "null"))
edit("hss", [(r'^(\s*state_dir\s*=\s*).*?;', r'\1"/tmp/hss";')])
edit("scscf", [(r'^(\s*trust_integrity\s*=\s*)true;', r'\1false;')])
edit("pcscf", [
    (r'listen = \( "udp:127', 'listen = ( "udp:10.99.0.2:5060", "udp:127'),
    (r'(^\s*ipsec = \{.*?)enabled = false;', r'\1enabled = true;'),
    (r'(^\s*ipsec = \{.*?)algorithms = \(.*?\);', r'\1algorithms = ( ' + pairs + ' );'),
    (r'(^\s*ipsec = \{.*?)retire_ms = \d+;', r'\1retire_ms = 1500;'),
    (r'\Z', '\nstore = { journal = "/tmp/pcscf.journal"; fsync = "interval"; };\n'
             'ctl = { socket = "/tmp/pcscf.ctl"; };\n'),
])
EOF
}

vm_configs "$IT_WORK/vm"
LOG=$IT_WORK/vm.log
args=()
for b in ims-hss scscf icscf pcscf ims-ue imsctl tests/pktcount; do args+=(-b "$(bin "$b")"); done
for c in hss scscf icscf pcscf; do args+=(-f "$IT_WORK/vm/$c.cfg:/etc/ims/$c.cfg"); done
start=$(date +%s.%N)
bash "$IMS_SOURCE_DIR/tests/vm/run.sh" -t 300 "${args[@]}" -e "K=$REG_KHEX" -e "OP=$REG_OPHEX" \
    -e "DOMAIN=$REG_DOMAIN" "$IMS_SOURCE_DIR/tests/vm/ipsec_cases.sh" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
total=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

[ "$rc" -eq 0 ] || fail "the VM test exited with status $rc (its console is above)"
if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$LOG"; then
    fail "the VM's console holds a sanitizer report"
fi
for n in 1 2 3 4; do
    grep -q "^\[ipsec_cases\] case $n passed: " "$LOG" || fail "case $n did not report success"
done
grep -q '^\[ipsec_cases\] passed (t=' "$LOG" || fail "ipsec_cases did not reach its end"
vm=$(sed -n 's/^vm: test .* VM ran \([0-9.]*\) s$/\1/p' "$LOG")
ok "ESP through the P-CSCF in the VM: 6 algorithm pairs; no-SA and Security-Verify refusals;" \
    "SA rotation during a call keeping port-s (a re-INVITE after retire_ms) and expiry;" \
    "SIGKILL restart keeping the SAs; no cleartext SIP; VM ${vm:-?} s, total $total s"
