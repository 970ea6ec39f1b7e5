#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# /init of the test VM (busybox sh; built into the initrd by tests/vm/mkinitrd.sh).
#
# Mounts the pseudo file systems, loads the IPsec modules, runs /test/test.sh with the
# parameters and environment of /test/env.sh, prints "IMS-VM-RESULT rc=<status>" on the console
# (tests/vm/run.sh looks for that line) and reboots, which ends qemu (-no-reboot). Whatever
# goes wrong, the line is printed; only a hang or a kernel panic can keep it from appearing, and
# run.sh's timeout covers those.
export PATH=/opt/ims/bin:/usr/bin:/bin:/sbin
export HOME=/root
umask 022

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=755 run /run
mkdir -p /dev/pts /dev/shm /run/netns
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
# The kernel's default (1 on Debian) would page in a kernel log line per module: keep the
# console for the test's output.
echo 1 >/proc/sys/kernel/printk
ip link set lo up
hostname ims-vm

# Loaded up front so that the test sees failures here, not as an ENOENT from XFRM_MSG_NEWSA.
# cbc, hmac, md5, sha1, aes are built into this kernel; modprobe accepts built-ins.
VM_MODULES="xfrm_algo xfrm_user esp4 esp6 authenc echainiv seqiv cbc aes_generic sha1_generic
    hmac md5 des_generic crypto_null veth"
vm_missing=
for m in $VM_MODULES; do
    modprobe "$m" 2>/dev/null || vm_missing="$vm_missing $m"
done
if [ -n "$vm_missing" ]; then
    echo "IMS-VM: modules failed to load:$vm_missing"
fi
echo "IMS-VM: kernel $(uname -r) up after $(cut -d' ' -f1 /proc/uptime) s," \
    "$(grep -c . /proc/modules) modules loaded"

if [ -n "$vm_missing" ]; then
    vm_rc=97
else
    # A subshell, so that a test that calls exit still reaches the result line.
    (
        cd /test || exit 98
        . /test/env.sh
        exec sh /test/test.sh "$@"
    )
    vm_rc=$?
fi
echo "IMS-VM: test finished after $(cut -d' ' -f1 /proc/uptime) s"
echo "IMS-VM-RESULT rc=$vm_rc"
sync
reboot -f
# reboot -f does not return; should it, the kernel panics when init exits (panic=-1 reboots).
exit 1
