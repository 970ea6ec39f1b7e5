#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Shared state for several instances (issue 8): two S-CSCFs on one Redis
# (store = { backend = "redis"; ... }: common/ops/store_redis.h). On the private lab
# (lib/reg.sh) with a second S-CSCF, "scscf2" on 127.0.1.31 (its own SIP URI and Diameter
# identity), both on a redis-server started here on a private port:
#   1. The caller registers through S-CSCF 2 (the I-CSCF lists it first), then the I-CSCF is
#      restarted listing S-CSCF 1 first and REDIS_UES (20) callees register through S-CSCF 1
#      (the HSS names S-CSCF 1 for them). Redis holds every registration and the IMPU index;
#      S-CSCF 2 lists only the caller.
#   1b. A copy read through that runs out while the user refreshed through the other
#      instance is kept, with no SAR: callee Q registers through S-CSCF 1 for 8 s, a call to Q
#      makes S-CSCF 2 read Q through (its copy runs out at 8 s), Q re-registers through
#      S-CSCF 1 for 3600 s; at 8 s S-CSCF 2 re-reads Redis (scscf_reg_store_refreshed):
#      it logs the refresh, still lists Q, and the HSS saw no timeout SAR (type 4) for Q and
#      still names S-CSCF 1.
#   2. kill -9 S-CSCF 1. A call from the caller to a callee goes P-CSCF -> S-CSCF 2 (the
#      caller's Service-Route); S-CSCF 2 serves callees itself (scscf.local_terminating): its
#      lookup misses, reads the callee through from Redis, and delivers the call to the
#      callee's contact through its Path. No REGISTER reaches S-CSCF 2 meanwhile, and the HSS
#      still names S-CSCF 1 for the callee: no re-registration.
# Why S-CSCF 2 serves the callee itself rather than through the I-CSCF: the I-CSCF's LIR gets
# the HSS's assignment, S-CSCF 1, which is dead; in a deployment both instances stand behind
# one name (a Kubernetes Service, DNS SRV) and the I-CSCF path reaches the live one too.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 20700
command -v jq >/dev/null || fail "jq not found in PATH"
command -v redis-server >/dev/null || fail "redis-server not found (scripts/install-deps.sh)"
command -v redis-cli >/dev/null || fail "redis-cli not found (Debian's redis-tools)"
IMSCTL=$(bin imsctl) || exit 1
NUES=${REDIS_UES:-20}
FIRST=420001
S2=127.0.1.31
UAS_IP=127.0.1.200 UAS_PORT=5090 CALLER_IP=127.0.1.110 CALLER_PORT=5070
BSCEN=$IMS_SOURCE_DIR/bench/sipp

# ---- Redis on a private port ----
pick_port_into RPORT
mkdir -p "$IT_WORK/redis"
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$IT_WORK/redis" --logfile redis.log --daemonize no >/dev/null 2>&1 &
REDIS_PID=$!
track "$REDIS_PID" redis-server "$IT_WORK/redis/redis.log"
for ((i = 0; i < 100; i++)); do
    [ "$(redis-cli -p "$RPORT" ping 2>/dev/null)" = PONG ] && break
    alive "$REDIS_PID" || fail "redis-server exited at start" "$REDIS_PID"
    sleep 0.05
done
[ "$i" -lt 100 ] || fail "redis-server not answering on port $RPORT after 5 s" "$REDIS_PID"
rcli() { redis-cli -p "$RPORT" "$@"; }
say "redis-server pid $REDIS_PID on 127.0.0.1:$RPORT"

# ---- the lab, with a second S-CSCF ----
reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_cfg_add scscf "ctl = { socket = \"$REG_DIR/scscf.ctl\"; };"
reg_cfg_add scscf "store = { backend = \"redis\"; redis = \"127.0.0.1:$RPORT\"; };"
sed -e "s/scscf\\.ims/scscf2.ims/g" -e "s/127\\.0\\.1\\.30/$S2/g" \
    -e "s|$REG_DIR/scscf.ctl|$REG_DIR/scscf2.ctl|" "$REG_DIR/scscf.cfg" >"$REG_DIR/scscf2.cfg"
reg_cfg_put scscf2 scscf local_terminating true
grep -q "scscf2\\.$REG_DOMAIN" "$REG_DIR/scscf2.cfg" || fail "scscf2.cfg: no scscf2 identity"
# the second S-CSCF's name where the first one's is resolved
S1_HOST="scscf\\.ims\\.mnc001\\.mcc001\\.3gppnetwork\\.org=127\\.0\\.1\\.30"
for c in pcscf icscf; do
    sed -i -E "s/\"($S1_HOST)(:5060)?\"/\"\\1\\2\", \"scscf2.$REG_DOMAIN=$S2\\2\"/" \
        "$REG_DIR/$c.cfg"
    grep -q "scscf2\\.$REG_DOMAIN=$S2" "$REG_DIR/$c.cfg" || fail "$c.cfg: sip.hosts not extended"
done
# the HSS: a Cx peer and an S-CSCF more; capabilities without server names, so that the
# I-CSCF's own list decides where a first registration goes
sed -i -E -e "s/^( *)(\\{ host = \"scscf\\.$REG_DOMAIN\"; addr = \"127\\.0\\.1\\.30\"; \\},?)/$(
    )\\1{ host = \"scscf2.$REG_DOMAIN\"; addr = \"$S2\"; },\\n\\1\\2/" \
    -e "s/^( *scscfs *= *\\()/\\1\\n  { name = \"sip:scscf2.$REG_DOMAIN\"; $(
    )diameter_host = \"scscf2.$REG_DOMAIN\"; },/" \
    -e "s/server_names = true/server_names = false/" "$REG_DIR/hss.cfg"
[ "$(grep -o "scscf2\\.$REG_DOMAIN" "$REG_DIR/hss.cfg" | wc -l)" -ge 3 ] ||
    fail "hss.cfg: scscf2 not added as peer and S-CSCF"
sed -i -E "s/imsi_from = \"001010000000001\"; count = [0-9]+;/$(
    )imsi_from = \"0010100$(printf %08d $FIRST)\"; count = $((NUES + 10));/" \
    "$REG_DIR/hss.cfg"
grep -q "count = $((NUES + 10));" "$REG_DIR/hss.cfg" || fail "cannot resize the range"

# icscf_order FIRST SECOND: the I-CSCF's S-CSCF list (and default), FIRST preferred.
icscf_order() {
    reg_cfg_set icscf scscfs "( { uri = \"sip:$1.$REG_DOMAIN\"; capabilities = [ ]; }, $(
        ){ uri = \"sip:$2.$REG_DOMAIN\"; capabilities = [ ]; } )"
    reg_cfg_set icscf default_scscf "\"sip:$1.$REG_DOMAIN\""
}

# opens HOST: how many times the HSS saw HOST's Diameter connection OPEN.
opens() { grep -c "dia: peer $1\\.$REG_DOMAIN OPEN" "$REG_DIR/ims-hss.log"; }

# wait_open HOST N: until HOST's connection was OPEN more than N times (10 s).
wait_open() {
    for ((i = 0; i < 200; i++)); do
        [ "$(opens "$1")" -gt "$2" ] && return 0
        sleep 0.05
    done
    fail "$1 not OPEN at the HSS after 10 s"
}

# start_scscf2: the second S-CSCF (the scscf binary on scscf2.cfg), as reg_start does.
start_scscf2() {
    local exe pid
    exe=$(bin scscf) || exit 1
    "$exe" -c "$REG_DIR/scscf2.cfg" -L "$REG_LOG_LEVEL" -p "$REG_DIR/scscf2.pid" \
        >>"$REG_DIR/scscf2.log" 2>&1 {REG_LOCK_FD}>&- &
    pid=$!
    track "$pid" scscf2 "$REG_DIR/scscf2.log"
    S2_PID=$pid
    for ((i = 0; i < 100; i++)); do
        alive "$pid" || fail "scscf2 exited at start" "$pid"
        reg_bound tcp "$S2" 5060 && return 0
        sleep 0.05
    done
    fail "scscf2 not listening after 5 s" "$pid"
}

icscf_order scscf2 scscf
reg_start ims-hss
reg_start scscf
start_scscf2
reg_start icscf
reg_start pcscf
reg_wait_peers
wait_open scscf2 0
say "lab up with S-CSCF 1 ${REG_PID[scscf]} ($REG_S) and S-CSCF 2 $S2_PID ($S2) on Redis"

ctl() { "$IMSCTL" -s "$REG_DIR/$1.ctl" "${@:2}"; }
ctl_json() {
    local out
    out=$(ctl "$1" --json "${@:2}" 2>&1) || fail "imsctl $* failed: $out"
    printf '%s\n' "$out"
}
# registered DAEMON: the IMPUs it lists as registered, sorted.
registered() {
    ctl_json "$1" registrations |
        jq -r '.data.registrations[] | select(.state == null or .state == "registered") | .impu' |
        sort
}
registers() { ctl_json "$1" counters | jq '.data.scscf.registers'; }

# bsipp NAME IP PORT [args...]: a sipp on IP:PORT toward the P-CSCF, in the background.
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

# call NAME CALLEE_IMPU: one call from the caller to CALLEE; it must complete.
call() {
    printf 'SEQUENTIAL\n%s\n' "$2" >"$IT_WORK/$1.target"
    bsipp "$1" "$CALLER_IP" "$CALLER_PORT" -sf "$BSCEN/uac_ims_call.xml" -m 1 -d 200 \
        -inf "$IT_WORK/$1.target" -key caller "$CALLER_IMPU" -recv_timeout 10000 \
        -timeout 40s -timeout_error "$REG_P:5060"
    wait_sipp "$SIPP_PID" 50
    expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "call $CALLER_IMPU -> $2 ($1)"
}

# assigned N: the S-CSCF the HSS names for demo subscriber N.
assigned() { reg_hss_show "$(reg_impi "$1")" | grep -oE 'scscf=[^ ]*'; }

# 1. the caller through S-CSCF 2, the callees through S-CSCF 1
reg_users_csv "$IT_WORK/caller.inf" $((FIRST + NUES)) 1
CALLER_IMPU=$(awk -F';' 'NR == 2 { print $4 }' "$IT_WORK/caller.inf")
bsipp caller-reg "$CALLER_IP" "$CALLER_PORT" -sf "$SIPP_SCEN_DIR/reg_aka.xml" -m 1 \
    -inf "$IT_WORK/caller.inf" -key expires 3600 -auth_uri "sip:$REG_DOMAIN" \
    -timeout 30s -timeout_error "$REG_P:5060"
wait_sipp "$SIPP_PID" 40
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "caller $CALLER_IMPU registered"
[ "$(assigned $((FIRST + NUES)))" = "scscf=sip:scscf2.$REG_DOMAIN" ] ||
    fail "the caller is not assigned to S-CSCF 2: $(assigned $((FIRST + NUES)))"

n=$(opens icscf)
stop_proxy "${REG_PID[icscf]}"
icscf_order scscf scscf2
reg_start icscf
wait_open icscf "$n"
say "I-CSCF restarted preferring S-CSCF 1"

bsipp uas "$UAS_IP" "$UAS_PORT" -sf "$BSCEN/uas_ims.xml" -max_socket 100
UAS_PID=$SIPP_PID
wait_listen "$UAS_PID" udp "$UAS_PORT"
reg_users_csv "$IT_WORK/callees.inf" "$FIRST" "$NUES"
reg_sipp callees ../../bench/sipp/reg_aka_contact.xml "$NUES" 60 \
    -inf "$IT_WORK/callees.inf" -r 50 -key expires 3600 \
    -key contact "$UAS_IP:$UAS_PORT" -auth_uri "sip:$REG_DOMAIN" -recv_timeout 10000
reg_expect_ok "$NUES callees registered" "$NUES"
awk -F';' 'NR > 1 { print $4 }' "$IT_WORK/callees.inf" | sort >"$IT_WORK/callee-impus"
[ "$(assigned "$FIRST")" = "scscf=sip:scscf.$REG_DOMAIN" ] ||
    fail "callee 1 is not assigned to S-CSCF 1: $(assigned "$FIRST")"
got=$(registered scscf)
[ "$got" = "$(cat "$IT_WORK/callee-impus")" ] ||
    fail "S-CSCF 1 lists $(printf '%s\n' "$got" | grep -c .) registrations, want the $NUES callees"
[ "$(registered scscf2)" = "$CALLER_IMPU" ] || fail "S-CSCF 2 lists: $(registered scscf2)"
nreg=$(rcli --scan --pattern 'ims:scscf.reg:*' | wc -l)
nimpu=$(rcli --scan --pattern 'ims:scscf.impu:*' | wc -l)
[ "$nreg" -eq $((NUES + 1)) ] || fail "Redis holds $nreg registrations, want $((NUES + 1))"
[ "$nimpu" -ge $((NUES + 1)) ] || fail "Redis holds $nimpu IMPU entries, want >= $((NUES + 1))"
ttl=$(rcli pttl "ims:scscf.reg:$(reg_impi "$FIRST")")
if [ "$ttl" -le 3000000 ] || [ "$ttl" -gt 3600000 ]; then
    fail "registration TTL $ttl ms in Redis, want about 3600000 (expires 3600)"
fi
say "Redis: $nreg registrations, $nimpu IMPU entries, TTL ${ttl} ms; S-CSCF 1 lists the" \
    "$NUES callees, S-CSCF 2 only the caller"

# 1b. S-CSCF 2's copy of Q runs out while Q refreshed through S-CSCF 1: kept, no SAR
Q=$((FIRST + NUES + 1))
reg_users_csv "$IT_WORK/q.inf" "$Q" 1
# qreg NAME EXPIRES: Q registers (through S-CSCF 1, which the I-CSCF prefers now)
qreg() {
    reg_sipp "$1" ../../bench/sipp/reg_aka_contact.xml 1 30 -inf "$IT_WORK/q.inf" \
        -key expires "$2" -key contact "$UAS_IP:$UAS_PORT" -auth_uri "sip:$REG_DOMAIN" \
        -recv_timeout 10000
    reg_expect_ok "Q registered for $2 s ($1)" 1
}
qreg q-short 8
t0=$(date +%s)
call call-q "$(reg_impu "$Q")"
grep -q "$(reg_impi "$Q"): registered through another S-CSCF: read from the shared store" \
    "$REG_DIR/scscf2.log" || fail "1b. S-CSCF 2 did not read Q through"
qreg q-refresh 3600
for ((i = 0; i < 200; i++)); do
    grep -q "$(reg_impi "$Q"): expired here, refreshed through another S-CSCF: 1 contact read" \
        "$REG_DIR/scscf2.log" && break
    sleep 0.1
done
grep -q "$(reg_impi "$Q"): expired here, refreshed through another S-CSCF: 1 contact read" \
    "$REG_DIR/scscf2.log" ||
    fail "1b. S-CSCF 2 did not re-read Q's refreshed registration $(($(date +%s) - t0)) s on"
sleep 0.5   # a SAR would have been sent at once
[ "$(reg_sar_count "$(reg_impi "$Q")" 4)" = 0 ] || fail "1b. a timeout SAR reached the HSS for Q"
[ "$(assigned "$Q")" = "scscf=sip:scscf.$REG_DOMAIN" ] ||
    fail "1b. the HSS no longer names S-CSCF 1 for Q: $(assigned "$Q")"
registered scscf2 | grep -qxF "$(reg_impu "$Q")" || fail "1b. S-CSCF 2 dropped Q"
say "1b. S-CSCF 2's copy of Q ran out after $(($(date +%s) - t0)) s: refreshed from Redis, no SAR"

# 2. S-CSCF 1 dies; S-CSCF 2 serves its users
pid=${REG_PID[scscf]}
kill -KILL "$pid"
wait "$pid" 2>/dev/null
untrack "$pid"
REG_PID[scscf]=
say "S-CSCF 1 (pid $pid) killed with SIGKILL"
before=$(registers scscf2)
target=$(sed -n "$((NUES / 2))p" "$IT_WORK/callee-impus")
target_impi=${target#sip:}
call call-after-kill "$target"
grep -q "$target_impi: registered through another S-CSCF: read from the shared store" \
    "$REG_DIR/scscf2.log" || fail "S-CSCF 2 does not say it read $target_impi from Redis"
registered scscf2 | grep -qxF "$target" || fail "S-CSCF 2 does not list $target after the call"
after=$(registers scscf2)
[ "$after" = "$before" ] || fail "S-CSCF 2 received $((after - before)) REGISTERs; want none"
[ "$(assigned $((FIRST + NUES / 2 - 1)))" = "scscf=sip:scscf.$REG_DOMAIN" ] ||
    fail "the callee was re-assigned: $(assigned $((FIRST + NUES / 2 - 1)))"
call call-after-kill-2 "$(sed -n 1p "$IT_WORK/callee-impus")"
say "S-CSCF 2 delivered calls to users registered through the killed S-CSCF 1, without" \
    "any REGISTER"

kill "$UAS_PID" 2>/dev/null
wait "$UAS_PID" 2>/dev/null
untrack "$UAS_PID"
stop_proxy "$S2_PID"
reg_lab_stop
ok "two S-CSCFs on Redis: registrations made through S-CSCF 1 served by S-CSCF 2 after" \
    "kill -9 of S-CSCF 1, without re-registration"
