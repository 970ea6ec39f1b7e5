#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs a test script inside a qemu VM that boots Debian's cloud kernel, which has ESP (this
# machine's kernel has not: see ../shared/docs/ipsec-testing.md and tests/vm/README.md).
#
#   tests/vm/run.sh [-b PROGRAM]... [-f SRC:DEST]... [-e NAME=VALUE]... [-m MB] [-t SECONDS]
#                   TEST_SCRIPT [ARGS...]
#
#   -b PROGRAM    copy PROGRAM to /opt/ims/bin in the VM (first in PATH), with the shared
#                 libraries ldd lists for it (ASan builds included)
#   -f SRC:DEST   copy the file SRC to the absolute path DEST in the VM
#   -e NAME=VALUE export NAME to the test (ASAN_OPTIONS, UBSAN_OPTIONS and LSAN_OPTIONS are
#                 passed on from this environment by default)
#   -m MB         guest memory (default 512; 1024 when a program is an ASan build)
#   -t SECONDS    the whole VM run, boot included, must end within this (default 120)
#
# TEST_SCRIPT runs under busybox sh as /test/test.sh, with ARGS, after the IPsec modules are
# loaded; it can source /vm/lib.sh (tests/vm/lib.sh: ue/core namespaces on a veth pair). Its
# output appears on this script's stdout, live. Exit status: the test script's; 1 when the VM
# did not report one (it died, or hung past -t: it is then killed); 2 on bad usage or a missing
# kernel/qemu (run scripts/install-deps.sh).
#
# Environment: IMS_VM_CACHE (unpacked kernels, default /var/cache/ims-core/vm, filled by
# scripts/install-deps.sh), IMS_VM_WORK (cached base initrd and per-run files; default
# $IMS_BUILD_DIR/vm, else ${TMPDIR:-/tmp}/ims-vm-<uid>), IMS_KEEP_WORK=1 keeps the run's files.
set -uo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$VM_DIR/mkinitrd.sh"

vm_log() { printf 'vm: %s\n' "$*"; }
vm_usage() {
    sed -n '6,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

bins=() files=() envs=() mem='' tmo=120
while getopts 'b:f:e:m:t:h' opt; do
    case $opt in
    b) [ -x "$OPTARG" ] || { vm_log "-b $OPTARG: not an executable" >&2; exit 2; }
       bins+=("$OPTARG") ;;
    f) [[ $OPTARG == *:/* && -r ${OPTARG%%:*} ]] ||
           { vm_log "-f $OPTARG: want READABLE_SRC:/ABSOLUTE/DEST" >&2; exit 2; }
       files+=("$OPTARG") ;;
    e) [[ $OPTARG =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || { vm_log "-e $OPTARG: want NAME=VALUE" >&2
           exit 2; }
       envs+=("$OPTARG") ;;
    m) mem=$OPTARG ;;
    t) tmo=$OPTARG ;;
    *) vm_usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] && [ -r "$1" ] || vm_usage
script=$1
shift
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
    [ -n "${!v:-}" ] && envs=("$v=${!v}" "${envs[@]+"${envs[@]}"}")
done
envs+=("VM_TEST=$(basename "$script" .sh)")

# ---- kernel and qemu ----

cache=${IMS_VM_CACHE:-/var/cache/ims-core/vm}
kdir=$(ls -d "$cache"/linux-image-*/ 2>/dev/null | sort -V | while read -r d; do
    [ -f "$d/.complete" ] && printf '%s\n' "${d%/}"; done | tail -n 1)
if [ -z "$kdir" ]; then
    vm_log "no unpacked kernel in $cache: run scripts/install-deps.sh (as root)" >&2
    exit 2
fi
kver=$(ls "$kdir/lib/modules" | head -n 1)
kernel=$kdir/boot/vmlinuz-$kver
for p in qemu-system-x86_64 cpio depmod modinfo ip /bin/busybox; do
    command -v "$p" >/dev/null ||
        { vm_log "$p not found: run scripts/install-deps.sh" >&2; exit 2; }
done
[ -r "$kernel" ] || { vm_log "$kernel not readable" >&2; exit 2; }

if [ -z "$mem" ]; then
    mem=512
    for b in "${bins[@]+"${bins[@]}"}"; do
        ldd "$b" 2>/dev/null | grep -q libasan && mem=1024
    done
fi

# ---- initrd: cached base + this run's overlay ----

if [ -n "${IMS_VM_WORK:-}" ]; then
    work=$IMS_VM_WORK
elif [ -n "${IMS_BUILD_DIR:-}" ]; then
    work=$IMS_BUILD_DIR/vm
else
    work=${TMPDIR:-/tmp}/ims-vm-$(id -u)
fi
mkdir -p "$work" || exit 2

# The base archive changes only with the kernel, this harness, busybox or iproute2.
key=$({
    printf '%s\n' "$kdir" "${VM_MOD_TREES[@]}"
    cat "$VM_DIR/init.sh" "$VM_DIR/lib.sh" "$VM_DIR/mkinitrd.sh"
    stat -L -c '%n %s %Y' /bin/busybox "$(command -v ip)"
} | sha256sum | cut -c1-16)
base=$work/base-$kver-$key.cpio.gz
t0=$(date +%s.%N)
if [ ! -s "$base" ]; then
    vm_log "building the base initrd (kernel $kver, cached as $base)"
    vm_build_base "$kdir" "$kver" "$VM_DIR" "$base" || { vm_log "base initrd failed" >&2; exit 2; }
    find "$work" -maxdepth 1 -name 'base-*.cpio.gz' ! -path "$base" -delete
fi

run=$(mktemp -d "$work/run.XXXXXX") || exit 2
vm_build_overlay "$run/overlay.cpio.gz" "$script" bins files envs "$@" ||
    { vm_log "overlay initrd failed; files in $run" >&2; exit 2; }
cat "$base" "$run/overlay.cpio.gz" >"$run/initrd.gz" || exit 2
t1=$(date +%s.%N)
vm_log "initrd $(($(stat -c %s "$run/initrd.gz") / 1024)) KiB ready in" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; booting $kver," \
    "${mem} MiB, timeout ${tmo} s"

# ---- boot ----

# TCG: KVM is unusable on these machines. One vCPU keeps the host's second core for others.
# The console is the first serial port on stdio; init's reboot ends qemu (-no-reboot), and so
# does a panic (panic=-1 reboots at once). The VM runs as a background job so that a SIGTERM
# (CTest's timeout, the calling test's cleanup) reaches the trap below, which stops qemu.
(
    timeout -k 5 "$tmo" qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m "$mem" \
        -nodefaults -no-user-config -display none -serial stdio -monitor none -no-reboot \
        -pidfile "$run/qemu.pid" -kernel "$kernel" -initrd "$run/initrd.gz" \
        -append "console=ttyS0 quiet loglevel=3 panic=-1" </dev/null 2>"$run/qemu.err" |
        tr -d '\r' | tee "$run/console.log"
    exit "${PIPESTATUS[0]}"
) &
vm_job=$!
vm_stop() {
    local qpid
    qpid=$(cat "$run/qemu.pid" 2>/dev/null)
    [ -n "$qpid" ] && kill -TERM "$qpid" 2>/dev/null
    wait "$vm_job" 2>/dev/null
    vm_log "interrupted; qemu stopped; files in $run" >&2
    exit 1
}
trap vm_stop INT TERM
wait "$vm_job"
qrc=$?
trap - INT TERM
t2=$(date +%s.%N)
secs=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')

rc=$(sed -n 's/^IMS-VM-RESULT rc=\([0-9]\{1,3\}\)$/\1/p' "$run/console.log" | tail -n 1)
# A VM that hung after printing a result line (or a test that printed one itself) still fails.
if [ -z "$rc" ] || [ "$qrc" -ne 0 ]; then
    if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
        vm_log "FAIL: the VM was still running after ${tmo} s (killed)"
    elif [ -z "$rc" ]; then
        vm_log "FAIL: the VM ended (qemu status $qrc) after $secs s without a result line"
    else
        vm_log "FAIL: qemu failed (status $qrc) after $secs s"
    fi
    [ -s "$run/qemu.err" ] && { vm_log "qemu said:"; cat "$run/qemu.err"; }
    vm_log "console log and initrd kept in $run"
    exit 1
fi
vm_log "test $(basename "$script") exit status $rc; VM ran $secs s"
if [ "$rc" -ne 0 ] || [ "${IMS_KEEP_WORK:-0}" = 1 ]; then
    vm_log "console log and initrd kept in $run"
else
    rm -rf "$run"
fi
exit "$rc"
