#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sec-agree over real ESP through the P-CSCF, inside the test VM (tests/integration/ipsec_vm.sh
# boots it once for all four cases). The lab (ims-hss, S-, I-, P-CSCF) runs in namespace core,
# the P-CSCF also on 10.99.0.2 with sec-agree on, every (alg, ealg) pair offered, retire_ms 1500
# and a journal; the S-CSCF challenges every REGISTER (trust_integrity = false), so each
# re-registration brings new SAs. The handsets are ims-ue processes in namespace ue.
#
#   1. Six handsets, one per pair (hmac-sha-1-96 / hmac-md5-96 x aes-cbc / des-ede3-cbc /
#      null, --ipsec-alg), register at once: each got the pair it offered; both namespaces hold
#      24 SAs (12 per integrity, 8 per encryption algorithm) and 24 policies; every handset's
#      inbound and outbound SA counted packets. A capture on veth-ue (pktcount watch) while
#      they de-register sees ESP and no cleartext SIP; afterwards neither namespace holds any
#      SA or policy.
#   2. A MESSAGE from 10.99.0.3 (no SAs) to a registered handset's protected port gets 403 and
#      the P-CSCF logs why; a REGISTER whose Security-Verify differs from the Security-Server
#      (--bad-verify) gets 403 "Security Agreement Mismatch", logged, and its SAs are gone.
#   3. A calls B and re-registers 300 ms into the call: new SAs with new SPIs, a new port-c on
#      each side, and the same port-s on each side (TS 33.203 §7.4: the P-CSCF's port-s, which
#      the call's Record-Route names, is kept, as is the UE's port-s, its Contact). The old
#      SAs leave both sides once the new carried the REGISTER's 200 (the P-CSCF's after
#      retire_ms, counted by reqid in ip xfrm state, before the next step); then, 3.5 s after
#      the re-registration, A sends a re-INVITE in the call and B answers it (200, ACK), and
#      the BYE gets its 200: both over the new SAs to the kept port-s. A capture on veth-ue
#      during the call sees ESP and no cleartext SIP. A handset registered for 6 s and never
#      refreshed: its SAs and policies leave the P-CSCF after the expiry.
#   4. SIGKILL of the P-CSCF with A and B registered (and C, whose registration ends while the
#      P-CSCF is down); two SAs made here with ip xfrm (SPI outside the P-CSCF's range, and one
#      inside it but without its owner tag). Restarted, the P-CSCF restores A's and B's SAs
#      (kept in the kernel), removes C's, leaves the two foreign ones; the journal is 0600. A
#      calls B and B calls A without re-registering, both de-register, over ESP (capture: no
#      cleartext SIP, ACKs included); at the end only the two foreign SAs are left.
# The ACKs of 2xx to a callee with SAs leave the P-CSCF from its protected client port
# (pcscf_on_ack_dest); the captures count any cleartext ACK with the other SIP (W_ACK apart).
# Environment (run.sh -e): K, OP (hex), DOMAIN. Exit status 0 when every check passed.
. /vm/lib.sh

P=$CORE_IP4
RUN=/tmp/run
mkdir -p /tmp/hss "$RUN"

# Background jobs run /usr/bin/ip itself, not the ip or in_* functions: a function put in
# the background is a subshell, and $! would be its pid, not the program's.
impi() { printf '0010100%08d@%s' "$1" "$DOMAIN"; }
impu() { printf 'sip:0010100%08d@%s' "$1" "$DOMAIN"; }
now() { cut -d' ' -f1 /proc/uptime | cut -d. -f1; }

# die MSG: the logs' tails, then fail.
die() {
    for f in "$RUN"/*.out "$RUN"/*.err "$RUN"/pcscf*.log; do
        [ -s "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }
    done
    vm_fail "$*"
}

# poll SECONDS WHY CMD...: CMD succeeds within SECONDS (polled every 0.1 s; TCG is slow:
# generous bounds), else the test fails saying WHY (and SEEN, which CMD may set).
poll() {
    n=0 secs=$1 why=$2 SEEN=
    shift 2
    until "$@"; do
        n=$((n + 1))
        [ $n -lt $((secs * 10)) ] || die "$why${SEEN:+ (seen: $SEEN)} (waited $secs s)"
        usleep 100000
    done
}

has_lines() { [ "$(grep -cE "$2" "$1" 2>/dev/null)" -ge "$3" ]; }
no_ports() { [ "$(ports_left "$1" "$2" "$3")" = 0 ]; }
counts_are() {
    SEEN="$(nsas "$CORE_NS") $(npols "$CORE_NS") $(nsas "$UE_NS") $(npols "$UE_NS")"
    [ "$SEEN" = "$1" ]
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# wait_for FILE REGEX SECONDS: FILE gets a line matching REGEX.
wait_for() { poll "$3" "no /$2/ in $1" has_lines "$1" "$2" 1; }
# wait_count FILE REGEX N SECONDS: FILE has N lines matching REGEX.
wait_count() { poll "$4" "fewer than $3 /$2/ in $1" has_lines "$1" "$2" "$3"; }
# wait_gone NS PORT_C PORT_S SECONDS: NS holds no SA or policy naming those ports (retire_ms).
wait_gone() { poll "$4" "$1 still holds SAs of ports $2/$3" no_ports "$1" "$2" "$3"; }
# reqid_sas NS REQID: SAs in NS with that reqid (the P-CSCF gives a set's four its spi-ps,
# ims-ue its spi-uc).
reqid_sas() { ip -n "$1" xfrm state | grep -c "reqid $2 "; }
no_reqid() { [ "$(reqid_sas "$1" "$2")" = 0 ]; }
# wait_empty SECONDS CORE_SAS: core holds CORE_SAS SAs and no policy, ue neither.
wait_empty() {
    poll "$1" "want SAs/policies core, ue: $2 0 0 0" counts_are "$2 0 0 0"
}

# ue NAME SUB PORT ARGS...: ims-ue --ipsec as subscriber SUB from 10.99.0.1:PORT, in the
# background; its lines go to $RUN/NAME.out, its pid to PID_NAME.
ue() {
    name=$1 sub=$2 port=$3
    shift 3
    /usr/bin/ip netns exec "$UE_NS" ims-ue --ipsec --pcscf "$P:5060" \
        --local "$UE_IP4:$port" --timeout-ms 120000 \
        --impi "$(impi "$sub")" --impu "$(impu "$sub")" --k "$K" --op "$OP" "$@" \
        >"$RUN/$name.out" 2>"$RUN/$name.err" &
    eval "PID_$name=$!"
}

# ue_end NAME SECONDS: NAME's ims-ue ended within SECONDS with status 0 and said "done".
ue_end() {
    eval "pid=\$PID_$1"
    poll "$2" "$1 still running" gone "$pid"
    wait "$pid"
    rc=$?
    [ $rc -eq 0 ] && grep -q '^done$' "$RUN/$1.out" || die "$1 exited with $rc"
}

# field NAME WHAT KEY: KEY=value of NAME's first line starting with WHAT.
field() {
    awk -v w="$2" 'index($0, w) == 1 { print; exit }' "$RUN/$1.out" | tr ' ' '\n' |
        sed -n "s/^$3=//p"
}

# short_reg NAME SUB PORT: NAME registers for 6 s and exits (its own SAs go with it; the
# P-CSCF's stay until the registration expires); sets NAME_T (when), NAME_PS, NAME_PC.
short_reg() {
    ue "$1" "$2" "$3" register --expires 6
    eval "${1}_T=$(now)"
    ue_end "$1" 90
    eval "${1}_PS=$(field "$1" "ipsec up" port-ps) ${1}_PC=$(field "$1" "ipsec up" port-pc)"
}

nsas() { ip -n "$1" xfrm state | grep -c '^src'; }
npols() { ip -n "$1" xfrm policy | grep -c '^src'; }
# ports_left NS PORT_C PORT_S: SAs and policies in NS whose selector names one of the ports.
ports_left() {
    { ip -n "$1" xfrm state; ip -n "$1" xfrm policy; } |
        grep -cE "(sport|dport) ($2|$3)( |\$)"
}
# used NS: SAs of NS that counted at least one packet.
used() { ip -n "$1" -s xfrm state | grep -cE ', [1-9][0-9]*\(packets\)'; }

# watch_start / watch_stop: pktcount watch on veth-ue; watch_stop sets W_ESP, W_SIP (all
# cleartext SIP packets) and W_ACK (those of them that are ACKs).
watch_start() {
    : >"$RUN/watch.out"
    /usr/bin/ip netns exec "$UE_NS" pktcount watch -v -i "$UE_IF" -t 600 >"$RUN/watch.out" 2>&1 &
    WATCH=$!
    wait_for "$RUN/watch.out" '^pktcount: ready' 20
}
watch_stop() {
    kill -TERM "$WATCH"
    wait "$WATCH"
    line=$(grep '^pktcount: wire_esp=' "$RUN/watch.out")
    [ -n "$line" ] || die "pktcount watch printed no counts: $(cat "$RUN/watch.out")"
    W_ESP=$(echo "$line" | sed 's/.*wire_esp=\([0-9]*\).*/\1/')
    W_SIP=$(echo "$line" | sed 's/.*wire_sip=\([0-9]*\).*/\1/')
    W_ACK=$(grep -c '^pktcount: clear SIP .* -> [^ ]* ACK ' "$RUN/watch.out")
    cat "$RUN/watch.out"
}

# start_pcscf LOG: the P-CSCF in core, up.
start_pcscf() {
    /usr/bin/ip netns exec "$CORE_NS" pcscf -c /etc/ims/pcscf.cfg -L info >"$RUN/$1" 2>&1 &
    PCSCF=$!
    wait_for "$RUN/$1" "pcscf running" 60
}

# ---- the lab ----
vm_netns_pair
for d in ims-hss scscf icscf; do
    x=
    [ $d = ims-hss ] && x="-s /tmp/hss"
    # shellcheck disable=SC2086 # $x: no option or two words
    in_core $d -c /etc/ims/${d#ims-}.cfg -L info $x >"$RUN/$d.log" 2>&1 &
    [ $d = ims-hss ] && sleep 1
done
start_pcscf pcscf.log
wait_for "$RUN/ims-hss.log" "dia: peer scscf.* OPEN" 60
wait_for "$RUN/ims-hss.log" "dia: peer icscf.* OPEN" 60
vm_say "lab up"

# ---- 1. every pair ----
i=0
for pair in hmac-sha-1-96:aes-cbc hmac-sha-1-96:des-ede3-cbc hmac-sha-1-96:null \
    hmac-md5-96:aes-cbc hmac-md5-96:des-ede3-cbc hmac-md5-96:null; do
    i=$((i + 1))
    ue "alg$i" $((10 + i)) $((5100 + i)) --ipsec-alg "$pair" register wait-file /tmp/go1 \
        deregister
done
for i in 1 2 3 4 5 6; do wait_for "$RUN/alg$i.out" '^registered expires=' 90; done
i=0
for pair in hmac-sha-1-96:aes-cbc hmac-sha-1-96:des-ede3-cbc hmac-sha-1-96:null \
    hmac-md5-96:aes-cbc hmac-md5-96:des-ede3-cbc hmac-md5-96:null; do
    i=$((i + 1))
    grep -q "^ipsec up alg=${pair%%:*} ealg=${pair#*:} " "$RUN/alg$i.out" ||
        die "alg$i: no 'ipsec up' with $pair"
done
for ns in "$UE_NS" "$CORE_NS"; do
    st=$(ip -n "$ns" xfrm state)
    got="$(echo "$st" | grep -c '^src') $(echo "$st" | grep -c 'auth-trunc hmac(sha1)')"
    got="$got $(echo "$st" | grep -c 'auth-trunc hmac(md5)') $(echo "$st" | grep -c 'cbc(aes)')"
    got="$got $(echo "$st" | grep -c 'cbc(des3_ede)') $(echo "$st" | grep -c 'ecb(cipher_null)')"
    got="$got $(npols "$ns")"
    [ "$got" = "24 12 12 8 8 8 24" ] || die "$ns: SAs, sha1, md5, aes, 3des, null, policies:" \
        "'$got', want '24 12 12 8 8 8 24'"
    u=$(used "$ns")
    [ "$u" -ge 12 ] || die "$ns: $u SAs counted packets, want 12+ (2 per handset)"
    vm_say "$ns: 24 SAs (12 hmac-sha-1-96, 12 hmac-md5-96; 8 aes-cbc, 8 des-ede3-cbc, 8 null)," \
        "24 policies, $u SAs counted packets"
done
# imsctl sas: the six sets, active, each with the pair its handset got, as the kernel holds them.
sas=$(imsctl -s /tmp/pcscf.ctl --json sas) || die "imsctl sas failed"
got=$(echo "$sas" | tr -d ' ' | grep -o '"state":"active","alg":"[^"]*","ealg":"[^"]*"' |
    sed 's/.*"alg":"\([^"]*\)","ealg":"\([^"]*\)"/\1:\2/' | sort | tr '\n' ' ')
want="hmac-md5-96:aes-cbc hmac-md5-96:des-ede3-cbc hmac-md5-96:null hmac-sha-1-96:aes-cbc "
want="${want}hmac-sha-1-96:des-ede3-cbc hmac-sha-1-96:null "
[ "$got" = "$want" ] || die "imsctl sas: active sets '$got', want '$want' ($sas)"
echo "$sas" | grep -q '"count": *6' || die "imsctl sas: want count 6 ($sas)"
vm_say "imsctl sas: 6 active sets with their algorithms"
m=$(/usr/bin/ip netns exec "$CORE_NS" wget -qO- http://127.0.0.10:9101/metrics) ||
    die "no /metrics from the P-CSCF"
echo "$m" | grep -q '^ims_ipsec_sets{state="active"} 6$' ||
    die "/metrics: want ims_ipsec_sets{state=\"active\"} 6: $(echo "$m" | grep ims_ipsec_sets)"
vm_say "/metrics: ims_ipsec_sets{state=\"active\"} 6"
watch_start
touch /tmp/go1
for i in 1 2 3 4 5 6; do ue_end "alg$i" 90; done
watch_stop
for i in 1 2 3 4 5 6; do
    grep -qE '^sent REGISTER cseq=[0-9]+ expires=0 protected$' "$RUN/alg$i.out" &&
        grep -q '^deregistered$' "$RUN/alg$i.out" || die "alg$i: no protected de-registration"
done
[ "$W_ESP" -gt 0 ] && [ "$W_SIP" -eq 0 ] ||
    die "de-registrations on the wire: ESP $W_ESP (want > 0), cleartext SIP $W_SIP (want 0)"
wait_empty 20 0     # retire_ms: the SAs carried the last 200 OKs, then go
vm_say "case 1 passed: 6 pairs registered, 4 SAs each per side with their algorithms, counters" \
    "rose; de-registration on the wire: $W_ESP ESP, 0 cleartext SIP; nothing left"

# ---- 2. no SA, wrong Security-Verify ----
ue b 2 5080 register answer --count 2 wait-file /tmp/go_b call "$(impu 1)" --hold-ms 300 \
    deregister
wait_for "$RUN/b.out" '^registered expires=' 90
ue a 1 5070 register wait-file /tmp/go_a1 call "$(impu 2)" --hold-ms 1000 --reregister-ms 300 \
    --indialog-after-ms 3500 \
    wait-file /tmp/go_a2 call "$(impu 2)" --hold-ms 300 answer --count 1 deregister
wait_for "$RUN/a.out" '^registered expires=' 90
A_PS=$(field a "ipsec up" port-ps)
A_PC=$(field a "ipsec up" port-pc)
vm_run ip -n "$UE_NS" addr add 10.99.0.3/24 dev "$UE_IF"
in_ue ims-ue --pcscf "$P:$A_PS" --local 10.99.0.3:5099 --timeout-ms 30000 --impi "$(impi 9)" \
    --impu "$(impu 9)" --k "$K" --op "$OP" message "$(impu 2)" "no SA" >"$RUN/nosa.out" 2>&1
grep -q '^message failed code=403' "$RUN/nosa.out" ||
    die "MESSAGE without SA to port-s $A_PS: $(cat "$RUN/nosa.out")"
grep -q 'MESSAGE from u:10.99.0.3:5099 refused: not registered' "$RUN/pcscf.log" ||
    die "the P-CSCF did not log why it refused the MESSAGE without SA"
before=$(nsas "$CORE_NS")
ue d 4 5090 --bad-verify register
ue_end_rc=0
eval "pid=\$PID_d"
wait "$pid" || ue_end_rc=$?
[ $ue_end_rc -ne 0 ] || die "d: registered with a wrong Security-Verify"
grep -q '^register failed: code=403 Forbidden - Security Agreement Mismatch' "$RUN/d.out" ||
    die "d: no 403 Security Agreement Mismatch"
grep -q 'Security-Verify or Security-Client differs from what was agreed: 403' \
    "$RUN/pcscf.log" || die "the P-CSCF did not log the Security-Verify mismatch"
v=$(imsctl -s /tmp/pcscf.ctl --json diagnose "$(impi 4)" | grep -o '"verdict": *"[^"]*"') ||
    die "imsctl diagnose $(impi 4) at the P-CSCF failed"
case "$v" in
*"Security-Verify mismatch: the protected REGISTER did not repeat our Security-Server"*) ;;
*) die "P-CSCF diagnose of d: '$v'" ;;
esac
vm_say "P-CSCF imsctl diagnose of d: $v"
D_PS=$(field d "ipsec up" port-ps)
D_PC=$(field d "ipsec up" port-pc)
[ -n "$D_PS" ] && [ "$(ports_left "$CORE_NS" "$D_PC" "$D_PS")" = 0 ] &&
    [ "$(nsas "$CORE_NS")" = "$before" ] || die "d's SAs are still in core"
vm_say "case 2 passed: no SA -> 403 (logged 'not registered'); Security-Verify mismatch ->" \
    "403 Security Agreement Mismatch (logged), its SAs removed at once"

# ---- 3. rotation during a call, an in-dialog request after retire_ms; expiry ----
short_reg e 5 5064
watch_start
touch /tmp/go_a1
wait_for "$RUN/a.out" '^reregistered expires=' 120
O_SPS=$(field a "ipsec up" spi-ps)
O_SUC=$(field a "ipsec up" spi-uc)
poll 20 "core still holds a's old SAs (reqid $O_SPS) after retire_ms" no_reqid "$CORE_NS" "$O_SPS"
grep -q '^call reinvite' "$RUN/a.out" &&
    die "a: the re-INVITE went before the old SAs left the P-CSCF (raise --indialog-after-ms)"
vm_say "a's old SAs left the P-CSCF (retire_ms); the call goes on"
wait_for "$RUN/a.out" '^call ended ' 120
watch_stop
grep -q '^call reinvite code=200$' "$RUN/a.out" || die "a: the re-INVITE after retire_ms failed"
grep -q '^call ended by-local$' "$RUN/a.out" || die "a: the call's BYE failed"
ROT=$(awk '/^call answered$/ && !a { a = NR }
    /^ipsec rotated / && a && !r { r = NR }
    /^ipsec old SAs removed / && r && !o { o = NR }
    /^reregistered expires=/ && o && !g { g = NR }
    /^call reinvite code=200$/ && g && !i { i = NR }
    /^call ended by-local$/ && i && !e { e = NR }
    END { print (e ? "ok" : "no") }' "$RUN/a.out")
[ "$ROT" = ok ] ||
    die "a: want answered, rotated, old SAs removed, reregistered, reinvite 200, ended in order"
N_PS=$(field a "ipsec rotated" port-ps)
N_PC=$(field a "ipsec rotated" port-pc)
N_SPS=$(field a "ipsec rotated" spi-ps)
O_UC=$(field a "ipsec up" port-uc)
N_UC=$(field a "ipsec rotated" port-uc)
O_US=$(field a "ipsec up" port-us)
N_US=$(field a "ipsec rotated" port-us)
[ "$N_PS" = "$A_PS" ] && [ "$N_US" = "$O_US" ] ||
    die "a: port-s changed across the rotation (P-CSCF $A_PS -> $N_PS, UE $O_US ->" \
        "$N_US): TS 33.203 §7.4 keeps both"
[ "$N_PC" != "$A_PC" ] && [ "$N_UC" != "$O_UC" ] && [ "$N_SPS" != "$O_SPS" ] ||
    die "a: the rotated SAs kept a port-c ($A_PC -> $N_PC, $O_UC -> $N_UC) or an SPI"
[ "$(reqid_sas "$CORE_NS" "$N_SPS")" = 4 ] || die "core lacks a's new SAs (reqid $N_SPS)"
[ "$(reqid_sas "$UE_NS" "$O_SUC")" = 0 ] || die "ue still holds a's old SAs (reqid $O_SUC)"
[ "$(ports_left "$CORE_NS" "$A_PC" "$O_UC")" = 0 ] || die "core still names a's old ports"
[ "$W_ESP" -gt 0 ] && [ "$W_SIP" -eq 0 ] ||
    die "the call on the wire: ESP $W_ESP (want > 0), cleartext SIP $W_SIP (want 0)"
wait_gone "$CORE_NS" "$e_PC" "$e_PS" 30
vm_say "case 3 passed: re-registered in the call on new SAs (port-s kept: P-CSCF $A_PS, UE" \
    "$O_US; port-c $A_PC -> $N_PC, $O_UC -> $N_UC), old ones removed on both" \
    "sides; re-INVITE after retire_ms 200, BYE 200; $W_ESP ESP, no cleartext SIP; expiry" \
    "removed e's SAs and policies after $(($(now) - e_T)) s"

# ---- 4. restart ----
short_reg c 3 5062
KEY=0x6c6162312d617574682d736861312d6b65792d31
EKEY=0x6c6162312d656e632d6165732d6b6579
vm_run ip -n "$CORE_NS" xfrm state add src "$UE_IP4" dst "$P" proto esp spi 0x300 \
    mode transport auth-trunc 'hmac(sha1)' $KEY 96 enc 'cbc(aes)' $EKEY
vm_run ip -n "$CORE_NS" xfrm state add src 10.99.0.77 dst "$P" proto esp spi 0x20000 \
    mode transport auth-trunc 'hmac(sha1)' $KEY 96 enc 'cbc(aes)' $EKEY
mode=$(stat -c %a /tmp/pcscf.journal)
[ "$mode" = 600 ] || die "the journal holds keys but is mode $mode"
kill -9 "$PCSCF"
wait "$PCSCF" 2>/dev/null
vm_say "P-CSCF killed (SIGKILL) with a, b and c registered"
while [ $(($(now) - c_T)) -lt 8 ]; do usleep 200000; done
start_pcscf pcscf2.log
wait_for "$RUN/pcscf2.log" 'sec-agree: [0-9]+ UEs. SAs restored' 30
grep -E 'store|sec-agree: .*(restored|removed)' "$RUN/pcscf2.log"
grep -q 'sec-agree: 2 UEs. SAs restored' "$RUN/pcscf2.log" || die "2 UEs' SAs not restored"
[ "$(ports_left "$CORE_NS" "$c_PC" "$c_PS")" = 0 ] || die "c's SAs survived the restart"
[ "$(ports_left "$CORE_NS" "$N_PC" "$N_PS")" = 8 ] || die "a's SAs did not survive"
ip -n "$CORE_NS" xfrm state get src "$UE_IP4" dst "$P" proto esp spi 0x300 >/dev/null &&
    ip -n "$CORE_NS" xfrm state get src 10.99.0.77 dst "$P" proto esp spi 0x20000 >/dev/null ||
    die "a foreign SA was removed"
watch_start
touch /tmp/go_a2
wait_count "$RUN/a.out" '^call ended ' 2 120
touch /tmp/go_b
ue_end b 120
ue_end a 120
watch_stop
[ "$(grep -c '^call ended by-local$' "$RUN/a.out")" = 2 ] ||
    die "a: want 2 calls ended by-local"
grep -q '^call ended by-local$' "$RUN/b.out" || die "b: its call to a failed"
[ "$(grep -c '^sent REGISTER' "$RUN/a.out")" -le 6 ] || die "a re-registered after the restart"
[ "$W_ESP" -gt 0 ] && [ "$W_SIP" -eq 0 ] ||
    die "after the restart: ESP $W_ESP (want > 0), cleartext SIP $W_SIP, $W_ACK of them ACKs" \
        "(want 0)"
wait_empty 20 2
vm_say "case 4 passed: restarted after SIGKILL, a's and b's SAs kept, c's (expired) removed," \
    "foreign SAs untouched, journal 0600; a->b and b->a called without re-registering," \
    "$W_ESP ESP, no cleartext SIP (ACKs included); at the end only the 2" \
    "foreign SAs"
kill -TERM "$PCSCF"
wait "$PCSCF"
if grep -lE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
    "$RUN"/*; then
    die "a sanitizer report (files above)"
fi
vm_say "passed"
