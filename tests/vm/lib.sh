# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# Helpers for test scripts that run inside the test VM (busybox sh), at /vm/lib.sh there:
#
#   . /vm/lib.sh
#   vm_netns_pair            # namespaces ue and core, joined by a veth pair
#   in_ue pktcount send "$CORE_IP4" 5000 3
#
# A VM test script ends with its exit status (0 = passed); tests/vm/run.sh reports it.

# Addresses of the two ends of the veth pair made by vm_netns_pair.
UE_NS=ue
CORE_NS=core
UE_IF=veth-ue
CORE_IF=veth-core
UE_IP4=10.99.0.1
CORE_IP4=10.99.0.2
UE_IP6=fd00:99::1
CORE_IP6=fd00:99::2

VM_TEST=${VM_TEST:-vm-test}

# busybox sh runs its own applets before looking at PATH, and busybox's ip knows neither netns
# nor xfrm: `ip` in a test script means iproute2's.
ip() { /usr/bin/ip "$@"; }

# vm_say MSG...: a progress line, prefixed with the test's name and followed by the VM's
# uptime (where the time goes shows in the log).
vm_say() {
    echo "[$VM_TEST] $* (t=$(cut -d' ' -f1 /proc/uptime))"
}

# vm_fail MSG...: report a failure and end the test with status 1.
vm_fail() {
    echo "[$VM_TEST] FAIL: $* (t=$(cut -d' ' -f1 /proc/uptime))"
    exit 1
}

# vm_run CMD...: run CMD; on failure, report it (with its output) and end the test.
vm_run() {
    vm_out=$("$@" 2>&1) || vm_fail "'$*' failed: $vm_out"
    [ -z "$vm_out" ] || echo "$vm_out"
}

in_ue() { ip netns exec "$UE_NS" "$@"; }
in_core() { ip netns exec "$CORE_NS" "$@"; }

# vm_netns_pair: create network namespaces ue and core, each with lo up and one end of a veth
# pair: ue has veth-ue with 10.99.0.1/24 and fd00:99::1/64, core has veth-core with
# 10.99.0.2/24 and fd00:99::2/64. The IPv6 addresses skip duplicate address detection, so both
# families are usable as soon as this returns. Ends the test on any failure.
vm_netns_pair() {
    vm_run ip netns add "$UE_NS"
    vm_run ip netns add "$CORE_NS"
    vm_run ip link add "$UE_IF" netns "$UE_NS" type veth peer name "$CORE_IF" netns "$CORE_NS"
    vm_netns_addr "$UE_NS" "$UE_IF" "$UE_IP4" "$UE_IP6"
    vm_netns_addr "$CORE_NS" "$CORE_IF" "$CORE_IP4" "$CORE_IP6"
    in_ue ping -c 1 -W 5 "$CORE_IP4" >/dev/null || vm_fail "no IPv4 between ue and core"
    in_ue ping6 -c 1 -W 5 "$CORE_IP6" >/dev/null || vm_fail "no IPv6 between ue and core"
    vm_say "namespaces $UE_NS ($UE_IF $UE_IP4 $UE_IP6) and $CORE_NS ($CORE_IF $CORE_IP4" \
        "$CORE_IP6) up"
}

# vm_netns_addr NS IFACE IP4 IP6: lo and IFACE up in NS, with the two addresses.
vm_netns_addr() {
    vm_run ip -n "$1" link set lo up
    vm_run ip -n "$1" addr add "$3/24" dev "$2"
    vm_run ip -n "$1" addr add "$4/64" dev "$2" nodad
    vm_run ip -n "$1" link set "$2" up
}
