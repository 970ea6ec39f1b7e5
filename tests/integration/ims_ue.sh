#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 6, ims-ue (the simulated handset, tools/ims-ue) against the 127.0.1.x lab of
# lib/reg.sh (P-CSCF, I-CSCF, S-CSCF, ims-hss), without IPsec. Checked, on ims-ue's event
# lines (in order) and exit codes:
#   1. B (subscriber 2, 127.0.1.101) registers with IMS AKA and waits for one call and one
#      MESSAGE; A (subscriber 1, 127.0.1.100) registers, calls B's IMPU (INVITE with SDP ->
#      P -> S -> I -> S -> P -> B; 180, 200, ACK), holds 1 s and hangs up (BYE -> 200), then
#      sends B a MESSAGE; both de-register. A: AKA challenge, registered, call answered,
#      call ended by-local, message delivered, deregistered, done, exit 0. B: registered,
#      call incoming from A's IMPU, call answered (the ACK), call ended by-remote, the
#      message text from A's IMPU, deregistered, done, exit 0. ims-hss then shows both
#      not registered.
#   2. A wrong K (subscriber 3): the network's AUTN fails the MAC check: a "MAC failure" line,
#      a failed register, and a non-zero exit.
#   3. --ipsec: without ESP in the kernel (this machine, CI) a line "ipsec unavailable: ..."
#      naming ESP and a non-zero exit before anything is sent; with ESP (the VM) the lab's
#      P-CSCF (sec-agree off) sends no Security-Server: "ipsec failed: ..." and non-zero.
#   4. Real ESP, in the test VM (tests/vm/run.sh; skipped when qemu or its kernel is missing):
#      the lab (config/lab, sec-agree on) in namespace core, the P-CSCF also on 10.99.0.2;
#      two ims-ue --ipsec in namespace ue register (AKA + sec-agree), B answers, A calls B
#      (180, 200, ACK, BYE after 1 s), both de-register: "ipsec up", every REGISTER after
#      the first protected, the call's events on both sides, exit 0; during the call the ue
#      namespace holds 8 SAs and 8 policies, 4+ of the SAs counted packets, core holds the
#      P-CSCF's 8; after exit the ue namespace holds none.
#   5. Every daemon is alive at the end and stops cleanly; no sanitizer report from ims-ue.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
it_init 20700
UE=$(bin ims-ue) || exit 1
A_IP=127.0.1.100
B_IP=127.0.1.101
C_IP=127.0.1.102
IMPU_A=$(reg_impu 1)
IMPU_B=$(reg_impu 2)

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_lab_start

# ue N IP PORT [options and commands...]: ims-ue as demo subscriber N from IP:PORT.
ue() {
    local n=$1 ip=$2 port=$3
    shift 3
    "$UE" --pcscf "$REG_P:5060" --impi "$(reg_impi "$n")" --impu "$(reg_impu "$n")" \
        --k "$REG_KHEX" --op "$REG_OPHEX" --local "$ip:$port" --timeout-ms 20000 "$@"
}

# wait_line FILE REGEX PID SECONDS: FILE gets a line matching REGEX while PID lives.
wait_line() {
    local i
    for ((i = 0; i < $4 * 20; i++)); do
        grep -qE "$2" "$1" && return 0
        alive "$3" || fail "$(basename "$1"): process exited before '$2': $(tail -3 "$1")" "$3"
        sleep 0.05
    done
    fail "$(basename "$1"): no line '$2' within $4 s"
}

# expect_seq FILE REGEX...: each REGEX matches a line of FILE, in this order.
expect_seq() {
    local f=$1 re last=0 n
    shift
    for re in "$@"; do
        n=$(awk -v re="$re" -v after="$last" 'NR > after && $0 ~ re { print NR; exit }' "$f")
        [ -n "$n" ] || fail "$(basename "$f"): no line /$re/ after line $last:
$(sed 's/^/    /' "$f")"
        last=$n
    done
    say "$(basename "$f"): $# event lines in order"
}

# expect_ok WHO NAME RC REGEX...: the run whose files are $IT_WORK/NAME.out/.err exited 0 and
# printed lines matching each REGEX, in order (its lines are shown, prefixed WHO).
expect_ok() {
    local who=$1 f=$IT_WORK/$2 rc=$3
    shift 3
    sed "s/^/    $who: /" "$f.out"
    [ "$rc" -eq 0 ] || fail "$who: exit status $rc, want 0: $(tail -5 "$f.err")"
    expect_seq "$f.out" "$@"
}

# no_sanitizer FILE: ims-ue's stderr holds no sanitizer report.
no_sanitizer() {
    if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$1"
    then
        fail "$(basename "$1") holds a sanitizer report: $(head -20 "$1")"
    fi
}

# ---- 1. B answers a call and takes a MESSAGE; A calls and sends it ----
pick_port_into PA
pick_port_into PB
ue 2 "$B_IP" "$PB" register answer --count 1 wait-message deregister \
    >"$IT_WORK/b.out" 2>"$IT_WORK/b.err" &
BPID=$!
track "$BPID" ims-ue-B "$IT_WORK/b.err"
wait_line "$IT_WORK/b.out" '^registered expires=[0-9]+$' "$BPID" 20
say "B registered from $B_IP:$PB"
t0=$SECONDS
timeout -k 5 60 "$UE" --pcscf "$REG_P:5060" --impi "$(reg_impi 1)" --impu "$IMPU_A" \
    --k "$REG_KHEX" --op "$REG_OPHEX" --local "$A_IP:$PA" --timeout-ms 20000 \
    register call "$IMPU_B" --hold-ms 1000 message "$IMPU_B" "hello from A" deregister \
    >"$IT_WORK/a.out" 2>"$IT_WORK/a.err"
arc=$?
say "A exited with $arc after $((SECONDS - t0)) s"
expect_ok A a "$arc" '^sent REGISTER cseq=1 expires=600$' '^auth AKA challenge sqn=[0-9]+$' \
    '^registered expires=[0-9]+$' "^call calling $IMPU_B\$" '^call answered$' \
    '^call ended by-local$' "^message sent to=$IMPU_B\$" '^message delivered code=200$' \
    '^sent REGISTER cseq=[0-9]+ expires=0$' '^deregistered$' '^done$'
for ((i = 0; i < 200; i++)); do
    alive "$BPID" || break
    sleep 0.05
done
alive "$BPID" && fail "B still running 10 s after A ended" "$BPID"
wait "$BPID"
brc=$?
untrack "$BPID"
expect_ok B b "$brc" '^registered expires=[0-9]+$' "^call incoming from=$IMPU_A\$" \
    '^call answered$' '^call ended by-remote$' "^message from=$IMPU_A text=hello from A\$" \
    '^deregistered$' '^done$'
for n in 1 2; do
    out=$(reg_hss_show "$n")
    say "ims-hss after de-registration: $out"
    [[ $out == *state=not-registered* ]] || fail "ims-hss still has subscriber $n registered"
done

# ---- 2. wrong K: MAC failure ----
pick_port_into PC
"$UE" --pcscf "$REG_P:5060" --impi "$(reg_impi 3)" --impu "$(reg_impu 3)" \
    --k 000102030405060708090a0b0c0d0e0f --op "$REG_OPHEX" --local "$C_IP:$PC" \
    --timeout-ms 20000 register >"$IT_WORK/c.out" 2>"$IT_WORK/c.err"
crc=$?
sed 's/^/    wrong K: /' "$IT_WORK/c.out"
[ "$crc" -ne 0 ] || fail "wrong K: exit status 0, want non-zero"
expect_seq "$IT_WORK/c.out" '^auth MAC failure: ' '^register failed: .*MAC failure'
grep -q '^registered' "$IT_WORK/c.out" && fail "wrong K: registered all the same"

# ---- 3. --ipsec ----
pick_port_into PD
ue 4 "$C_IP" "$PD" --ipsec register >"$IT_WORK/d.out" 2>"$IT_WORK/d.err"
drc=$?
sed 's/^/    --ipsec: /' "$IT_WORK/d.out"
[ "$drc" -ne 0 ] || fail "--ipsec: exit status 0 against a P-CSCF without sec-agree"
if grep -q '^ipsec unavailable: ' "$IT_WORK/d.out"; then
    grep -qE '^ipsec unavailable: .*(ESP|CAP_NET_ADMIN|EPERM|permitted)' "$IT_WORK/d.out" ||
        fail "--ipsec: the unavailable line does not say why"
    grep -q '^sent REGISTER' "$IT_WORK/d.out" && fail "--ipsec: a REGISTER went out without ESP"
    ipsec_case="kernel without ESP reported before any REGISTER"
else
    expect_seq "$IT_WORK/d.out" '^sent REGISTER cseq=1 ' '^ipsec failed: .*Security-Server'
    ipsec_case="P-CSCF without sec-agree reported (no Security-Server)"
fi

# ---- 4. real ESP in the test VM ----
# vm_files: the lab's configuration for the VM (127.0.0.x inside namespace core, the P-CSCF
# also on the veth, sec-agree on, HSS state in /tmp) and the script the VM runs.
vm_files() {
    local c
    mkdir -p "$IT_WORK/vm"
    for c in hss scscf icscf pcscf; do cp "$IMS_SOURCE_DIR/config/lab/$c.cfg" "$IT_WORK/vm/"; done
    sed -i 's|^\( *state_dir *= *\).*|\1"/tmp/hss";|' "$IT_WORK/vm/hss.cfg"
    sed -i -e 's|listen = ( "udp:127|listen = ( "udp:10.99.0.2:5060", "udp:127|' \
        -e '/^ *ipsec = {/,/}/s/enabled = false;/enabled = true;/' "$IT_WORK/vm/pcscf.cfg"
    if ! grep -q '"udp:10.99.0.2:5060"' "$IT_WORK/vm/pcscf.cfg" ||
        ! sed -n '/^ *ipsec = {/,/}/p' "$IT_WORK/vm/pcscf.cfg" | grep -q 'enabled = true;'; then
        fail "could not edit config/lab/pcscf.cfg for the VM (its layout changed?)"
    fi
    sed -e "s|@IMPI@|$(reg_impi 1)|; s|@IMPU@|$(reg_impu 1)|" \
        -e "s|@IMPIB@|$(reg_impi 2)|; s|@IMPUB@|$(reg_impu 2)|" \
        -e "s|@K@|$REG_KHEX|; s|@OP@|$REG_OPHEX|" >"$IT_WORK/vm/ue_ipsec.sh" <<'EOF'
#!/bin/sh
. /vm/lib.sh
vm_netns_pair
mkdir -p /tmp/hss /tmp/run
# wait_for FILE REGEX SECONDS: FILE gets a line matching REGEX (TCG is slow: generous bounds).
wait_for() {
    n=0
    until grep -qE "$2" "$1" 2>/dev/null; do
        n=$((n + 1))
        [ $n -lt $(($3 * 10)) ] || vm_fail "no '$2' in $1: $(tail -5 "$1")"
        sleep 0.1
    done
}
for d in ims-hss scscf icscf pcscf; do
    x=
    [ $d = ims-hss ] && x="-s /tmp/hss"
    # shellcheck disable=SC2086 # $x: no option or two words
    in_core $d -c /etc/ims/${d#ims-}.cfg -L info $x >/tmp/run/$d.log 2>&1 &
    [ $d = ims-hss ] && sleep 1
done
wait_for /tmp/run/pcscf.log "pcscf running" 60
wait_for /tmp/run/ims-hss.log "dia: peer scscf.* OPEN" 60
wait_for /tmp/run/ims-hss.log "dia: peer icscf.* OPEN" 60
in_ue ims-ue --ipsec --pcscf 10.99.0.2:5060 --local 10.99.0.1:5080 --timeout-ms 60000 \
    --impi @IMPIB@ --impu @IMPUB@ --k @K@ --op @OP@ \
    register answer deregister >/tmp/run/ueb.out 2>/tmp/run/ueb.err &
ueb=$!
wait_for /tmp/run/ueb.out "^registered" 60
in_ue ims-ue --ipsec --pcscf 10.99.0.2:5060 --local 10.99.0.1:5070 --timeout-ms 60000 \
    --impi @IMPI@ --impu @IMPU@ --k @K@ --op @OP@ \
    register call @IMPUB@ --hold-ms 1000 deregister >/tmp/run/ue.out 2>/tmp/run/ue.err &
ue=$!
wait_for /tmp/run/ue.out "^call answered" 90
echo "ue-sas=$(in_ue ip xfrm state | grep -c '^src')" \
    "ue-pols=$(in_ue ip xfrm policy | grep -c '^src')" \
    "used-sas=$(in_ue ip -s xfrm state | grep -cE ', [1-9][0-9]*\(packets\)')" \
    "core-sas=$(in_core ip xfrm state | grep -c '^src')"
wait $ue
rca=$?
wait $ueb
echo "ue-rc=$rca ueb-rc=$? left-sas=$(in_ue ip xfrm state | grep -c '^src')" \
    "left-pols=$(in_ue ip xfrm policy | grep -c '^src')"
sed 's/^/ueb: /' /tmp/run/ueb.out
sed 's/^/ueb-err: /' /tmp/run/ueb.err
sed 's/^/ue: /' /tmp/run/ue.out
sed 's/^/ue-err: /' /tmp/run/ue.err
exit 0
EOF
}

if ! command -v qemu-system-x86_64 >/dev/null ||
    ! ls -d /var/cache/ims-core/vm/linux-image-* >/dev/null 2>&1; then
    vm_case="VM part skipped (no qemu or VM kernel: scripts/install-deps.sh)"
    say "4. $vm_case"
else
    vm_files
    vm_args=()
    for b in ims-hss scscf icscf pcscf ims-ue; do vm_args+=(-b "$(bin "$b")"); done
    for c in hss scscf icscf pcscf; do vm_args+=(-f "$IT_WORK/vm/$c.cfg:/etc/ims/$c.cfg"); done
    bash "$IMS_SOURCE_DIR/tests/vm/run.sh" -t 240 "${vm_args[@]}" "$IT_WORK/vm/ue_ipsec.sh" \
        >"$IT_WORK/vm.log" 2>&1
    vrc=$?
    grep -E '^(ue: |ue-err: |ueb: |ueb-err: |ue-sas=|ue-rc=|vm: )' "$IT_WORK/vm.log" |
        sed 's/^/    VM: /'
    [ "$vrc" -eq 0 ] || fail "4. the VM test exited with $vrc: $(tail -20 "$IT_WORK/vm.log")"
    no_sanitizer "$IT_WORK/vm.log"
    sed -n 's/^ue: //p' "$IT_WORK/vm.log" >"$IT_WORK/vm-ue.out"
    sed -n 's/^ueb: //p' "$IT_WORK/vm.log" >"$IT_WORK/vm-ueb.out"
    expect_seq "$IT_WORK/vm-ueb.out" '^ipsec up alg=hmac-sha-1-96 ealg=aes-cbc ' \
        '^sent REGISTER cseq=2 expires=600 protected$' '^registered expires=' \
        '^call incoming from=' '^call answered$' '^call ended by-remote$' \
        '^sent REGISTER cseq=[0-9]+ expires=0 protected$' '^deregistered$' '^done$'
    expect_seq "$IT_WORK/vm-ue.out" '^sent REGISTER cseq=1 expires=600$' \
        '^auth AKA challenge sqn=' '^ipsec up alg=hmac-sha-1-96 ealg=aes-cbc ' \
        '^sent REGISTER cseq=2 expires=600 protected$' '^registered expires=' \
        '^call calling ' '^call ringing code=180$' '^call answered$' '^call ended by-local$' \
        '^sent REGISTER cseq=[0-9]+ expires=0 protected$' '^deregistered$' '^done$'
    # Two handsets with 4 SAs and 4 policies each, in use; the P-CSCF's 8 in core.
    grep -qE '^ue-sas=8 ue-pols=8 used-sas=[4-8] core-sas=8$' "$IT_WORK/vm.log" ||
        fail "4. during the call: want 8 SAs and 8 policies in ue (4+ used), 8 SAs in core"
    grep -qE '^ue-rc=0 ueb-rc=0 left-sas=0 left-pols=0$' "$IT_WORK/vm.log" ||
        fail "4. the handsets' exit status, or what they left in the kernel, is wrong"
    vm_case="ESP in the VM: two handsets registered over their SAs, called (180, 200, BYE)"
    vm_case+=" and de-registered, nothing left"
fi

# ---- 5. clean end ----
for f in a b c d; do no_sanitizer "$IT_WORK/$f.err"; done
for d in pcscf icscf scscf ims-hss; do assert_alive "${REG_PID[$d]}"; done
reg_lab_stop
ok "ims-ue: A and B registered with IMS AKA, A called B (answered, 1 s, BYE by A)," \
    "MESSAGE A -> B delivered, both de-registered (exit 0); wrong K -> MAC failure (exit $crc);" \
    "--ipsec: $ipsec_case (exit $drc); $vm_case"
