#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# State that survives restarts (issue 8): the S-CSCF and the P-CSCF keep their registrations
# in a journal (store = { journal = ...; } of their configuration; common/ops/journal.h).
# On the private lab (lib/reg.sh), with the sipp handsets of bench/calls.sh:
#   1. RESTART_UES (1 000) callees register with IMS AKA (Contact: one sipp UAS answering for
#      all), one caller registers from its own address, and 5 more handsets register for 15 s.
#      imsctl lists them all at the S-CSCF and the P-CSCF; a call caller -> callee works.
#   2. kill -9 the S-CSCF; once the 15 s handsets have expired, restart it on the same
#      journal: `imsctl registrations` lists the 1 000 callees and the caller, none of the
#      expired five; a call to a callee completes, and the S-CSCF saw no REGISTER. The
#      reg-event subscriptions came back too: an RTR for a callee makes the S-CSCF NOTIFY
#      the P-CSCF (terminated), which drops that UE.
#   3. kill -9 the P-CSCF, restart it: it knows the same UEs again (imsctl; the UEs it listed
#      before, less the expired five), a call from the caller (known by its address) to another
#      callee completes, with no REGISTER.
#   4. kill -9 the S-CSCF again and append half a record to its journal (a write torn by a
#      crash): the restart cuts it, says so, and restores all 1 001; one more call works.
# Printed: the restore time of each restart (from the daemons' logs) and the journal sizes.
# The daemons then stop cleanly (exit 0, no sanitizer report).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 19860
command -v jq >/dev/null || fail "jq not found in PATH"
IMSCTL=$(bin imsctl) || exit 1
NUES=${RESTART_UES:-1000}
NSHORT=5
FIRST=400001
UAS_IP=127.0.1.200 UAS_PORT=5090 CALLER_IP=127.0.1.110 CALLER_PORT=5070
BSCEN=$IMS_SOURCE_DIR/bench/sipp
REG_LOG_LEVEL=notice

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
for s in pcscf scscf; do
    reg_cfg_add "$s" "ctl = { socket = \"$REG_DIR/$s.ctl\"; };"
    reg_cfg_add "$s" "store = { journal = \"$IT_WORK/$s.journal\"; fsync = \"interval\";
  fsync_ms = 100; };"
done
sed -i -E "s/imsi_from = \"001010000000001\"; count = [0-9]+;/$(
    )imsi_from = \"0010100$(printf %08d $FIRST)\"; count = $((NUES + NSHORT + 10));/" \
    "$REG_DIR/hss.cfg"
grep -q "count = $((NUES + NSHORT + 10));" "$REG_DIR/hss.cfg" || fail "cannot resize the range"
reg_lab_start

ctl() { "$IMSCTL" -s "$REG_DIR/$1.ctl" "${@:2}"; }
ctl_json() {
    local out
    out=$(ctl "$1" --json "${@:2}" 2>&1) || fail "imsctl $* failed: $out"
    printf '%s\n' "$out"
}
# registered DAEMON: the IMPUs listed as registered, sorted.
registered() {
    ctl_json "$1" registrations |
        jq -r '.data.registrations[] | select(.state == null or .state == "registered") | .impu' |
        sort
}

# bsipp NAME IP PORT [args...]: a sipp on IP:PORT (one UDP socket) toward the P-CSCF, in the
# background (SIPP_PID, SIPP_TAG).
bsipp() {
    local name=$1 ip=$2 port=$3 cp
    shift 3
    pick_port_into cp
    IT_NEXT_PORT=$((IT_NEXT_PORT + 6))
    SIPP_TAG=$IT_WORK/$name
    (cd "$IT_WORK" && exec sipp -t u1 -i "$ip" -p "$port" -s "$REG_DOMAIN" -nostdin \
        -ci 127.0.0.2 -cp "$cp" -mp $((cp + 1)) -trace_stat -stf "$SIPP_TAG.csv" -fd 1 \
        -trace_err -error_file "$SIPP_TAG.errors" "$@") >"$SIPP_TAG.out" 2>&1 &
    SIPP_PID=$!
    track "$SIPP_PID" "sipp-$name" "$SIPP_TAG.errors"
}

# call NAME CALLEE_IMPU: one call from the caller's registered address to CALLEE; must work.
call() {
    printf 'SEQUENTIAL\n%s\n' "$2" >"$IT_WORK/$1.target"
    bsipp "$1" "$CALLER_IP" "$CALLER_PORT" -sf "$BSCEN/uac_ims_call.xml" -m 1 -d 200 \
        -inf "$IT_WORK/$1.target" -key caller "$CALLER_IMPU" -recv_timeout 10000 \
        -timeout 40s -timeout_error "$REG_P:5060"
    wait_sipp "$SIPP_PID" 50
    expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "call $CALLER_IMPU -> $2 ($1)"
}

# kill9 DAEMON: SIGKILL, reaped.
kill9() {
    local pid=${REG_PID[$1]}
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    untrack "$pid"
    REG_PID[$1]=
    say "$1 (pid $pid) killed with SIGKILL"
}

# restart DAEMON: start it again on the same configuration (and journal); for the S-CSCF
# wait until its new Diameter connection is OPEN at the HSS.
restart() {
    local opens i
    opens=$(grep -c "dia: peer scscf\\.$REG_DOMAIN OPEN" "$REG_DIR/ims-hss.log")
    reg_start "$1"
    if [ "$1" = scscf ]; then
        for ((i = 0; i < 200; i++)); do
            [ "$(grep -c "dia: peer scscf\\.$REG_DOMAIN OPEN" "$REG_DIR/ims-hss.log")" -gt \
                "$opens" ] && break
            sleep 0.05
        done
        [ "$i" -lt 200 ] || fail "restarted S-CSCF not OPEN at the HSS after 10 s"
    fi
    for ((i = 0; i < 100; i++)); do
        [ -S "$REG_DIR/$1.ctl" ] && ctl "$1" counters >/dev/null 2>&1 && break
        sleep 0.05
    done
    say "$1 restarted (pid ${REG_PID[$1]}): $(grep -E "store .*restored" "$REG_DIR/$1.log" |
        tail -n 1 | sed 's/^.*store /store /')"
}

# expect_registered DAEMON WANT_FILE WHAT: imsctl at DAEMON lists exactly the IMPUs of WANT_FILE.
expect_registered() {
    local got
    got=$(registered "$1")
    if [ "$got" != "$(cat "$2")" ]; then
        diff <(printf '%s\n' "$got") "$2" | head -n 10 >&2
        fail "$1 lists $(printf '%s\n' "$got" | grep -c .) registrations, want $(wc -l <"$2"):" \
            "$3"
    fi
    say "$1: imsctl registrations lists all $(wc -l <"$2") $3"
}

# 1. registrations
bsipp uas "$UAS_IP" "$UAS_PORT" -sf "$BSCEN/uas_ims.xml" -max_socket 100
UAS_PID=$SIPP_PID
wait_listen "$UAS_PID" udp "$UAS_PORT"
reg_users_csv "$IT_WORK/callees.inf" "$FIRST" "$NUES"
say "registering $NUES callees (Contact $UAS_IP:$UAS_PORT, expires 3600)"
REG_MAX_SOCKET=10000 reg_sipp callees ../../bench/sipp/reg_aka_contact.xml "$NUES" 180 \
    -inf "$IT_WORK/callees.inf" -r 200 -key expires 3600 \
    -key contact "$UAS_IP:$UAS_PORT" -auth_uri "sip:$REG_DOMAIN" -recv_timeout 10000 -nd
reg_expect_ok "$NUES callees registered" "$NUES"
awk -F';' 'NR > 1 { print $4 }' "$IT_WORK/callees.inf" >"$IT_WORK/callee-impus"

reg_users_csv "$IT_WORK/caller.inf" $((FIRST + NUES)) 1
CALLER_IMPU=$(awk -F';' 'NR == 2 { print $4 }' "$IT_WORK/caller.inf")
bsipp caller-reg "$CALLER_IP" "$CALLER_PORT" -sf "$SIPP_SCEN_DIR/reg_aka.xml" -m 1 \
    -inf "$IT_WORK/caller.inf" -key expires 3600 -auth_uri "sip:$REG_DOMAIN" \
    -timeout 30s -timeout_error "$REG_P:5060"
wait_sipp "$SIPP_PID" 40
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "caller $CALLER_IMPU registered from $CALLER_IP"

reg_users_csv "$IT_WORK/short.inf" $((FIRST + NUES + 1)) "$NSHORT"
reg_sipp short ../../bench/sipp/reg_aka_contact.xml "$NSHORT" 30 -inf "$IT_WORK/short.inf" \
    -key expires 15 -key contact "$UAS_IP:$UAS_PORT" -auth_uri "sip:$REG_DOMAIN"
reg_expect_ok "$NSHORT handsets registered for 15 s" "$NSHORT"
SHORT_AT=$(date +%s)
awk -F';' 'NR > 1 { print $4 }' "$IT_WORK/short.inf" >"$IT_WORK/short-impus"

sort "$IT_WORK/callee-impus" <(echo "$CALLER_IMPU") >"$IT_WORK/want"
sort "$IT_WORK/want" "$IT_WORK/short-impus" >"$IT_WORK/want-all"
expect_registered scscf "$IT_WORK/want-all" "registrations before the kill"
# The P-CSCF knows a UE by its source address: sipp's one-socket-per-call (-t un) may give two
# handsets the same port one after the other, and the later one then replaces the earlier at
# the P-CSCF (not at the S-CSCF). Its own list before the kill is the reference.
registered pcscf >"$IT_WORK/want-p-all"
n=$(wc -l <"$IT_WORK/want-p-all")
[ "$n" -ge $((NUES * 9 / 10)) ] || fail "the P-CSCF knows only $n UEs of $((NUES + 1 + NSHORT))"
grep -qxF "$CALLER_IMPU" "$IT_WORK/want-p-all" || fail "the P-CSCF does not know the caller"
grep -vxF -f "$IT_WORK/short-impus" "$IT_WORK/want-p-all" >"$IT_WORK/want-p"
say "pcscf: imsctl lists $n UEs before the kill (address reuse by sipp: see above)"
call call-before "$(sed -n 1p "$IT_WORK/callee-impus")"
say "journals: S-CSCF $(stat -c %s "$IT_WORK/scscf.journal") bytes," \
    "P-CSCF $(stat -c %s "$IT_WORK/pcscf.journal") bytes for $((NUES + 1 + NSHORT)) users"

# 2. the S-CSCF
kill9 scscf
left=$((SHORT_AT + 17 - $(date +%s)))
if [ "$left" -gt 0 ]; then
    say "waiting ${left}s for the 15 s registrations to expire while the S-CSCF is down"
    sleep "$left"
fi
restart scscf
expect_registered scscf "$IT_WORK/want" "registrations after kill -9 (the expired five gone)"
call call-after-scscf "$(sed -n "$((NUES / 2))p" "$IT_WORK/callee-impus")"
regs=$(ctl_json scscf counters | jq '.data.scscf.registers')
[ "$regs" = 0 ] || fail "the restarted S-CSCF received $regs REGISTERs; want none"
say "S-CSCF: the call went through without any REGISTER since the restart"
# 2b. the reg-event subscriptions came back too: the HSS de-registers a callee (RTR), and
# the restarted S-CSCF's NOTIFY (terminated) reaches the P-CSCF, which drops the UE.
gone=$(sed -n 3p "$IT_WORK/callee-impus")
out=$(reg_hss rtr "${gone#sip:}" 1)
say "ims-hss rtr ${gone#sip:} 1: $out"
for ((i = 0; i < 50; i++)); do
    registered pcscf | grep -qxF "$gone" || break
    sleep 0.1
done
registered pcscf | grep -qxF "$gone" &&
    fail "the P-CSCF still lists $gone: no NOTIFY from the restored subscription"
grep -vxF "$gone" "$IT_WORK/want" >"$IT_WORK/want.2" && mv "$IT_WORK/want.2" "$IT_WORK/want"
grep -vxF "$gone" "$IT_WORK/want-p" >"$IT_WORK/want-p.2" && mv "$IT_WORK/want-p.2" "$IT_WORK/want-p"
say "RTR after the restart: the P-CSCF dropped $gone on the restored subscription's NOTIFY"

# 3. the P-CSCF (the five short ones expired there by themselves meanwhile)
kill9 pcscf
restart pcscf
expect_registered pcscf "$IT_WORK/want-p" "UEs after kill -9"
call call-after-pcscf "$(sed -n "$((NUES - 1))p" "$IT_WORK/callee-impus")"
c=$(ctl_json pcscf counters | jq '.data.pcscf.registered + .data.pcscf.refreshed')
[ "$c" = 0 ] || fail "the restarted P-CSCF saw $c registrations; want none"
regs=$(ctl_json scscf counters | jq '.data.scscf.registers')
[ "$regs" = 0 ] || fail "the S-CSCF received $regs REGISTERs; want none"
say "P-CSCF: the call from the restored caller went through without any REGISTER"

# 4. a torn last record
kill9 scscf
size=$(stat -c %s "$IT_WORK/scscf.journal")
# the start of a record (body length 200, a CRC) and 20 of its 200 bytes: a write cut short
printf '\310\000\000\000\001\002\003\004\001\011\014\000' >>"$IT_WORK/scscf.journal"
head -c 20 /dev/zero >>"$IT_WORK/scscf.journal"
restart scscf
grep -q "32 bytes after offset $size torn or corrupt: cut" "$REG_DIR/scscf.log" ||
    fail "the S-CSCF did not report the torn record it cut"
[ "$(stat -c %s "$IT_WORK/scscf.journal")" -le "$size" ] || fail "torn tail not cut"
expect_registered scscf "$IT_WORK/want" "registrations after a torn journal tail"
call call-after-torn "$(sed -n 2p "$IT_WORK/callee-impus")"

say "restore times: $(grep -hoE "[0-9]+ (registrations|UEs) restored in [0-9]+ ms" \
    "$REG_DIR/scscf.log" "$REG_DIR/pcscf.log" | paste -sd ',' | sed 's/,/, /g')"
say "journals now: S-CSCF $(stat -c %s "$IT_WORK/scscf.journal") bytes," \
    "P-CSCF $(stat -c %s "$IT_WORK/pcscf.journal") bytes"
kill "$UAS_PID" 2>/dev/null
wait "$UAS_PID" 2>/dev/null
untrack "$UAS_PID"
reg_lab_stop
ok "$NUES registrations survived kill -9 of the S-CSCF and of the P-CSCF; calls without" \
    "re-registration; expired ones dropped; a torn record cut"
