#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ESP smoke test, run inside the test VM by tests/integration/vm_esp.sh (needs pktcount in PATH).
#
# Namespaces ue and core on a veth pair (/vm/lib.sh). For each algorithm pair IMS sec-agree
# uses (TS 33.203: hmac-sha-1-96 or hmac-md5-96, with aes-cbc, des-ede3-cbc or null):
#   - each side gets 2 transport-mode ESP SAs (ue->core, core->ue) and 2 policies (out, in)
#     that send UDP to PORT through them, installed with `ip xfrm`;
#   - N datagrams ue->core, then N core->ue (pktcount send/recv): all N arrive, the receiving
#     veth saw N ESP packets and no cleartext UDP to PORT;
#   - `ip -s xfrm state`: each SA counted exactly N packets on both sides;
#   - /proc/net/xfrm_stat: no error counter rose.
# Then the negative check that shows the counting can fail: with the policies removed (SAs
# kept), the same datagrams arrive as cleartext UDP, no ESP, and the SA counters stand still.
. /vm/lib.sh

PORT=5064
N=5
AUTH_SHA1=0x6c6162312d617574682d736861312d6b65792d31   # 20 bytes
AUTH_MD5=0x6c6162312d617574682d6d64352d6b31       # 16 bytes
ENC_AES=0x6c6162312d656e632d6165732d6b6579           # 16 bytes
ENC_3DES=0x6c6162312d656e632d336465732d6b65792d313233343536  # 24 bytes

# xfrm_pair NS SRC DST SPI_OUT SPI_IN AUTH AKEY ENC EKEY: in NS (whose address is SRC), an SA
# SRC->DST with SPI_OUT, an SA DST->SRC with SPI_IN, and policies sending UDP to PORT each way
# through them.
xfrm_pair() {
    ns=$1 src=$2 dst=$3 so=$4 si=$5 auth=$6 akey=$7 enc=$8 ekey=$9
    for sa in "$src $dst $so" "$dst $src $si"; do
        # shellcheck disable=SC2086 # split "src dst spi" into $1 $2 $3
        set -- $sa
        vm_run ip -n "$ns" xfrm state add src "$1" dst "$2" proto esp spi "$3" mode transport \
            auth-trunc "$auth" "$akey" 96 enc "$enc" "$ekey"
    done
    vm_run ip -n "$ns" xfrm policy add src "$src" dst "$dst" proto 17 dport $PORT dir out \
        tmpl proto esp mode transport
    vm_run ip -n "$ns" xfrm policy add src "$dst" dst "$src" proto 17 dport $PORT dir in \
        tmpl proto esp mode transport
}

# sa_packets NS SRC DST SPI: the packet counter of that SA in NS ("lifetime current" line).
sa_packets() {
    ip -n "$1" -s xfrm state get src "$2" dst "$3" proto esp spi "$4" |
        awk '/lifetime current:/ { getline; sub(/^[ \t]*/, "")
             for (i = 1; i <= NF; i++) if ($i ~ /\(packets\)$/) { sub(/\(.*/, "", $i); print $i } }'
}

# xfrm_errors: the non-zero counters of /proc/net/xfrm_stat in both namespaces.
xfrm_errors() {
    for ns in "$UE_NS" "$CORE_NS"; do
        ip netns exec "$ns" cat /proc/net/xfrm_stat |
            awk -v ns="$ns" '$2 != 0 { printf " %s:%s=%s", ns, $1, $2 }'
    done
}

# transfer FROM_NS TO_NS TO_IF TO_ADDR: N datagrams FROM_NS -> TO_ADDR:PORT, counted by pktcount
# in TO_NS on TO_IF. Sets DELIVERED, WIRE_ESP, WIRE_UDP; ends the test when pktcount fails to
# start or the sender fails. A short count is left to the caller to judge.
transfer() {
    vm_say "transfer $*"
    out=/tmp/recv.$1.out
    : >"$out"  # exists before the background job opens it, for the grep below
    ip netns exec "$2" pktcount recv -p $PORT -n $N -i "$3" -t 15 >"$out" 2>&1 &
    rpid=$!
    i=0
    until grep -q '^pktcount: ready' "$out"; do
        kill -0 $rpid 2>/dev/null || vm_fail "pktcount recv in $2 exited: $(cat "$out")"
        i=$((i + 1))
        [ $i -lt 400 ] || vm_fail "pktcount recv in $2 not ready after 20 s"
        usleep 50000
    done
    ip netns exec "$1" pktcount send "$4" $PORT $N || vm_fail "pktcount send in $1 failed"
    wait $rpid
    line=$(grep '^pktcount: delivered=' "$out")
    [ -n "$line" ] || vm_fail "pktcount recv in $2 printed no counts: $(cat "$out")"
    DELIVERED=$(echo "$line" | sed 's/.*delivered=\([0-9]*\).*/\1/')
    WIRE_ESP=$(echo "$line" | sed 's/.*wire_esp=\([0-9]*\).*/\1/')
    WIRE_UDP=$(echo "$line" | sed 's/.*wire_udp=\([0-9]*\).*/\1/')
}

# expect_esp WHAT: the last transfer delivered N datagrams, all of them ESP on the wire.
expect_esp() {
    [ "$DELIVERED" = $N ] && [ "$WIRE_ESP" = $N ] && [ "$WIRE_UDP" = 0 ] ||
        vm_fail "$1: delivered $DELIVERED/$N, ESP $WIRE_ESP (want $N), cleartext $WIRE_UDP (want 0)"
}

# run_case NAME FAMILY SPI AUTH AKEY ENC EKEY: one algorithm pair over IPv4 (4) or IPv6 (6).
run_case() {
    name=$1 fam=$2 spi=$3
    if [ "$fam" = 6 ]; then ue=$UE_IP6 core=$CORE_IP6; else ue=$UE_IP4 core=$CORE_IP4; fi
    s_uc=$((spi)) s_cu=$((spi + 1))
    for ns in "$UE_NS" "$CORE_NS"; do
        vm_run ip -n "$ns" xfrm policy flush
        vm_run ip -n "$ns" xfrm state flush
    done
    xfrm_pair "$UE_NS" "$ue" "$core" $s_uc $s_cu "$4" "$5" "$6" "$7"
    xfrm_pair "$CORE_NS" "$core" "$ue" $s_cu $s_uc "$4" "$5" "$6" "$7"

    transfer "$UE_NS" "$CORE_NS" "$CORE_IF" "$core"
    expect_esp "$name ue->core"
    transfer "$CORE_NS" "$UE_NS" "$UE_IF" "$ue"
    expect_esp "$name core->ue"

    counts="$(sa_packets "$UE_NS" "$ue" "$core" $s_uc) $(sa_packets "$CORE_NS" "$ue" "$core" $s_uc)"
    counts="$counts $(sa_packets "$CORE_NS" "$core" "$ue" $s_cu)"
    counts="$counts $(sa_packets "$UE_NS" "$core" "$ue" $s_cu)"
    [ "$counts" = "$N $N $N $N" ] || vm_fail "$name: SA packet counters" \
        "(ue out, core in, core out, ue in) are '$counts', want $N each"
    errs=$(xfrm_errors)
    [ -z "$errs" ] || vm_fail "$name: xfrm_stat error counters:$errs"
    vm_say "case $name IPv$fam: $N/$N datagrams each way, all ESP on the veth, none in clear;" \
        "SA packets $counts (spi $(printf 0x%x $s_uc), $(printf 0x%x $s_cu))"
}

vm_netns_pair
run_case hmac-sha-1-96+aes-cbc 4 0x1000 'hmac(sha1)' $AUTH_SHA1 'cbc(aes)' $ENC_AES
run_case hmac-md5-96+null 4 0x2000 'hmac(md5)' $AUTH_MD5 'ecb(cipher_null)' ''
run_case hmac-sha-1-96+des3_ede-cbc 4 0x3000 'hmac(sha1)' $AUTH_SHA1 'cbc(des3_ede)' $ENC_3DES
run_case hmac-sha-1-96+aes-cbc 6 0x4000 'hmac(sha1)' $AUTH_SHA1 'cbc(aes)' $ENC_AES

# The negative check: same SAs (the IPv6 ones), policies gone, so the datagrams go in clear.
vm_run ip -n "$UE_NS" xfrm policy flush
vm_run ip -n "$CORE_NS" xfrm policy flush
transfer "$UE_NS" "$CORE_NS" "$CORE_IF" "$CORE_IP6"
[ "$DELIVERED" = $N ] && [ "$WIRE_UDP" = $N ] && [ "$WIRE_ESP" = 0 ] ||
    vm_fail "without policies: delivered $DELIVERED/$N, cleartext $WIRE_UDP (want $N)," \
        "ESP $WIRE_ESP (want 0)"
after=$(sa_packets "$UE_NS" "$UE_IP6" "$CORE_IP6" $((0x4000)))
[ "$after" = $N ] || vm_fail "without policies the ue->core SA counted $after packets, want $N"
vm_say "without policies: $N/$N datagrams arrived as cleartext UDP (0 ESP), SA counter stayed $N"
vm_say "passed"
