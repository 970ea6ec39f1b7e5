# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Shared helpers for the registration acceptance tests (tests/integration/reg_*.sh), sourced
# after lib/common.sh. They build a private copy of the loopback lab (config/lab/*.cfg) on
# 127.0.1.x instead of 127.0.0.x, so a test never collides with a running scripts/lab.sh:
#   P-CSCF 127.0.1.10:5060, I-CSCF 127.0.1.20:5060, S-CSCF 127.0.1.30:5060,
#   ims-hss 127.0.1.40:3868, simulated UEs 127.0.1.100 and up.
# Usage: reg_lab_prepare; (edit $REG_DIR/*.cfg: reg_cfg_set / reg_cfg_put / reg_cfg_add);
# reg_lab_start; with REG_TLS=1 set before reg_lab_prepare the CSCFs talk SIP to each other
# over TLS only (reg_tls_core);
# sipp runs with reg_sipp; checks with reg_hss_show / reg_sar_count; the EXIT trap of
# common.sh stops every daemon by pid.

REG_DOMAIN=ims.mnc001.mcc001.3gppnetwork.org
REG_P=127.0.1.10
REG_I=127.0.1.20
REG_S=127.0.1.30
REG_H=127.0.1.40
REG_UE=127.0.1.100
REG_K=imscore-lab-key1      # sipp takes K and OP as 16 raw octets: the lab's ASCII keys
REG_OP=imscore-lab-op-1
REG_KHEX=696d73636f72652d6c61622d6b657931
REG_OPHEX=696d73636f72652d6c61622d6f702d31
: "${REG_LOG_LEVEL:=info}"      # CSCF log level
: "${REG_HSS_LOG_LEVEL:=debug}" # ims-hss logs one line per UAR/MAR/SAR at debug (SAR types)
declare -A REG_PID             # daemon name -> pid
declare -A REG_WRAP            # daemon name -> command words run before it (e.g. valgrind ...)
declare -A REG_CFG=([ims-hss]=hss [scscf]=scscf [icscf]=icscf [pcscf]=pcscf)
declare -A REG_ADDR=([ims-hss]=$REG_H [scscf]=$REG_S [icscf]=$REG_I [pcscf]=$REG_P)

# shellcheck source=lib/tls.sh
. "$(dirname "${BASH_SOURCE[0]}")/tls.sh"

# reg_impi N: the IMPI of demo subscriber N (1..1000).
reg_impi() { printf '0010100%08d@%s' "$1" "$REG_DOMAIN"; }
reg_impu() { printf 'sip:0010100%08d@%s' "$1" "$REG_DOMAIN"; }

# reg_lab_lock: the private lab's addresses are fixed, so two runs (e.g. two people running
# the suite, or a benchmark during the tests) would share them; UDP sockets with SO_REUSEADDR
# even bind twice without an error. Runs take turns on a lock file (held until exit), and
# then the addresses must be free.
reg_lab_lock() {
    local a i busy
    exec {REG_LOCK_FD}>"${TMPDIR:-/tmp}/ims-core-reg-lab.lock"
    if ! flock -n "$REG_LOCK_FD"; then
        say "another run holds the 127.0.1.x lab; waiting for it (at most 300 s)"
        flock -w 300 "$REG_LOCK_FD" || fail "the 127.0.1.x lab stayed busy for 300 s"
    fi
    for ((i = 0; i < 100; i++)); do
        busy=
        for a in "$REG_P:5060" "$REG_I:5060" "$REG_S:5060" "$REG_H:3868"; do
            [ -n "$(ss -Hlntu "src $a" 2>/dev/null)" ] && busy+=" $a"
        done
        [ -z "$busy" ] && return 0
        sleep 0.1
    done
    fail "addresses in use by another process:$busy"
}

# reg_lab_prepare: copy config/lab/*.cfg into $REG_DIR with the addresses moved to 127.0.1.x
# and the HSS state in the work directory. Tests edit the copies before reg_lab_start.
reg_lab_prepare() {
    reg_lab_lock
    REG_DIR=$IT_WORK/lab
    mkdir -p "$REG_DIR/hss"
    local c
    for c in hss scscf icscf pcscf; do
        [ -f "$IMS_SOURCE_DIR/config/lab/$c.cfg" ] || fail "config/lab/$c.cfg missing"
        sed -e 's/127\.0\.0\.\([0-9][0-9]*\)/127.0.1.\1/g' \
            -e "s|^\\( *state_dir *= *\\).*|\\1\"$REG_DIR/hss\";|" \
            "$IMS_SOURCE_DIR/config/lab/$c.cfg" >"$REG_DIR/$c.cfg"
    done
    REG_CTL=$REG_DIR/hss/hss.ctl
    if [ "${REG_TLS:-0}" = 1 ]; then reg_tls_core; fi
}

# reg_tls_core (reg_lab_prepare runs it when REG_TLS=1): SIP between the CSCFs over TLS only.
# A test CA ($REG_TLS_DIR/ca.pem) signs a certificate per CSCF naming its address; each CSCF
# listens on TLS at its address, port 5061 (sip.tls), verifies the servers it connects to
# against the CA and asks its clients for a certificate of that CA naming the address they
# come from (the I-CSCF and the S-CSCF require one; the P-CSCF's 5061 is open to UEs too, so
# there a certificate is optional but must be good when given). Every name of a CSCF in the
# others' sip.hosts gets port 5061 and every URI by which one CSCF sends to another
# ;transport=tls: the P-CSCF's I-CSCF and outbound proxy (tls:), the I-CSCF's S-CSCF list
# and the HSS's (the names its UAA offers), the S-CSCF's own URI (so its Service-Route and
# Server-Name) and its I-CSCF. The P-CSCF's Path follows the transport of its I-CSCF URI.
# UEs still reach the P-CSCF on 5060.
REG_TLS_DIR=
reg_tls_core() {
    local c ip
    REG_TLS_DIR=$REG_DIR/tls
    tls_ca "$REG_TLS_DIR"
    for c in pcscf icscf scscf; do
        ip=${REG_ADDR[$c]}
        tls_cert "$REG_TLS_DIR" "$c" "$ip" "$c.$REG_DOMAIN"
        reg_tls_group "$c" "$ip:5061" "$c" "$([ $c = pcscf ] && echo optional || echo required)"
        sed -i -E 's/(3gppnetwork\.org=127\.0\.1\.(10|20|30))(:5060)?"/\1:5061"/' \
            "$REG_DIR/$c.cfg"
    done
    reg_cfg_set pcscf outbound "\"tls:$REG_I:5061\""
    reg_cfg_set pcscf icscf "\"sip:icscf.$REG_DOMAIN;transport=tls;lr\""
    sed -i -E 's/"sip:scscf\.([^";]*)"/"sip:scscf.\1;transport=tls"/g' "$REG_DIR/icscf.cfg" \
        "$REG_DIR/hss.cfg"
    reg_cfg_set scscf uri "\"sip:scscf.$REG_DOMAIN;transport=tls\""
    reg_cfg_put scscf scscf icscf "\"sip:icscf.$REG_DOMAIN;transport=tls\""
}

# reg_tls_group CFG LISTEN CERT CLIENT_CERT: a sip.tls group at the top of CFG.cfg's
# "sip = {" (listen on LISTEN with $REG_TLS_DIR/CERT.pem, the test CA, client_cert).
reg_tls_group() {
    local f=$REG_DIR/$1.cfg d=$REG_TLS_DIR
    grep -qE '^sip = \{' "$f" || fail "$1.cfg: no 'sip = {' line"
    sed -i -E "0,/^sip = \{/s||&\n  tls = { listen = \"$2\"; cert = \"$d/$3.pem\"; \
key = \"$d/$3.key\"; ca = \"$d/ca.pem\"; client_cert = \"$4\"; };|" "$f"
}

# reg_cfg_set CFG KEY VALUE: replace the first line "KEY = ...;" of $REG_DIR/CFG.cfg (at any
# indentation) by "KEY = VALUE;"; fails when the key is not there (the test would be vacuous).
reg_cfg_set() {
    local f=$REG_DIR/$1.cfg key=$2 val=$3
    grep -qE "^[[:space:]]*$key[[:space:]]*=" "$f" || fail "$1.cfg has no key $key"
    sed -i -E "0,/^([[:space:]]*)$key[[:space:]]*=.*;/s||\\1$key = $val;|" "$f"
}

# reg_cfg_put CFG SECTION KEY VALUE: set KEY when the file has it, else insert it at the top
# of "SECTION = {" (fails when neither exists).
reg_cfg_put() {
    local f=$REG_DIR/$1.cfg
    if reg_cfg_has "$1" "$3"; then
        reg_cfg_set "$1" "$3" "$4"
    else
        grep -qE "^[[:space:]]*$2[[:space:]]*=[[:space:]]*\\{" "$f" ||
            fail "$1.cfg has no $2 section"
        sed -i -E "0,/^([[:space:]]*)$2[[:space:]]*=[[:space:]]*\\{/s//&\\n  $3 = $4;/" "$f"
    fi
}

# reg_cfg_has CFG KEY: the copy of CFG.cfg sets KEY.
reg_cfg_has() { grep -qE "^[[:space:]]*$2[[:space:]]*=" "$REG_DIR/$1.cfg"; }

# reg_cfg_add CFG TEXT: append a top-level setting.
reg_cfg_add() { printf '%s\n' "$2" >>"$REG_DIR/$1.cfg"; }

# reg_section_needed NAME: config/lab/NAME.cfg must carry its CSCF section ("NAME = {"),
# otherwise the daemon is a transparent proxy and registration cannot work yet.
reg_section_needed() {
    grep -qE "^[[:space:]]*$1[[:space:]]*=[[:space:]]*\\{" "$REG_DIR/$1.cfg" ||
        fail "config/lab/$1.cfg has no '$1 = { ... }' section: the $1 registration logic is \
not configured (not landed yet?)"
}

# reg_bound PROTO ADDR PORT: a socket is bound (udp) / listening (tcp) on ADDR:PORT.
reg_bound() {
    local opt=-Hlnu
    [ "$1" = tcp ] && opt=-Hlnt
    [ -n "$(ss $opt "src $2:$3" 2>/dev/null)" ]
}

# reg_start NAME: start one daemon of the private lab, wait until its socket is bound.
reg_start() {
    local d=$1 exe log pid i port=5060 level=$REG_LOG_LEVEL extra=() wrap=() tries=100
    exe=$(bin "$d") || exit 1
    if [ -n "${REG_WRAP[$d]:-}" ]; then
        read -ra wrap <<<"${REG_WRAP[$d]}"
        tries=1200  # a daemon under valgrind takes seconds to start
    fi
    log=$REG_DIR/$d.log
    if [ "$d" = ims-hss ]; then
        port=3868 level=$REG_HSS_LOG_LEVEL extra=(-s "$REG_DIR/hss")
    fi
    # The daemons must not inherit the lab lock: one left behind would hold it.
    "${wrap[@]}" "$exe" -c "$REG_DIR/${REG_CFG[$d]}.cfg" -L "$level" -p "$REG_DIR/$d.pid" \
        "${extra[@]}" >>"$log" 2>&1 {REG_LOCK_FD}>&- &
    pid=$!
    track "$pid" "$d" "$log"
    REG_PID[$d]=$pid
    # TCP for all: a listening TCP socket cannot be shared, a UDP one can.
    for ((i = 0; i < tries; i++)); do
        alive "$pid" || fail "$d exited at start" "$pid"
        reg_bound tcp "${REG_ADDR[$d]}" "$port" && break
        sleep 0.05
    done
    reg_bound tcp "${REG_ADDR[$d]}" "$port" && alive "$pid" ||
        fail "$d not listening after $((tries / 20)) s" "$pid"
}

# reg_wait_peers: both Cx clients (S-CSCF, I-CSCF) have an OPEN Diameter connection with the
# HSS (its log says "dia: peer <host> OPEN"); 10 s at most.
reg_wait_peers() {
    local i h missing
    for ((i = 0; i < 200; i++)); do
        missing=
        for h in scscf icscf; do
            grep -q "dia: peer $h\\.$REG_DOMAIN OPEN" "$REG_DIR/ims-hss.log" || missing+=" $h"
        done
        [ -z "$missing" ] && return 0
        sleep 0.05
    done
    fail "Diameter peers not OPEN at the HSS after 10 s:$missing" "${REG_PID[ims-hss]}"
}

# reg_lab_start: start ims-hss, scscf, icscf, pcscf in that order; wait for Cx.
reg_lab_start() {
    local d
    for d in ims-hss scscf icscf pcscf; do reg_start "$d"; done
    reg_wait_peers
    say "lab up: P $REG_P I $REG_I S $REG_S HSS $REG_H (pids ${REG_PID[pcscf]}" \
        "${REG_PID[icscf]} ${REG_PID[scscf]} ${REG_PID[ims-hss]}), Cx peers OPEN"
}

# reg_lab_stop: stop the daemons (pcscf first), each must exit 0 without sanitizer reports.
reg_lab_stop() {
    local d
    for d in pcscf icscf scscf ims-hss; do
        [ -n "${REG_PID[$d]:-}" ] && stop_proxy "${REG_PID[$d]}"
        REG_PID[$d]=
    done
}

# reg_hss CMD...: one control-socket command; reply on stdout.
reg_hss() { "$(bin ims-hss)" --ctl "$REG_CTL" "$*" 2>&1; }

# reg_hss_show N: "ok state=... scscf=..." of demo subscriber N (or of IMPI when N has an @).
reg_hss_show() {
    local impi=$1
    [[ $impi == *@* ]] || impi=$(reg_impi "$1")
    reg_hss show "$impi"
}

# reg_sar_count IMPI TYPE: SARs of TYPE (Cx Server-Assignment-Type number) for IMPI in the
# ims-hss debug log ("SAR <impi> type <n> from <server> -> <code>").
reg_sar_count() {
    grep -c "SAR $1 type $2 " "$REG_DIR/ims-hss.log" || true
}

# reg_wait_sar IMPI TYPE COUNT SECONDS: wait until the HSS saw COUNT such SARs.
reg_wait_sar() {
    local i
    for ((i = 0; i < $4 * 20; i++)); do
        [ "$(reg_sar_count "$1" "$2")" -ge "$3" ] && return 0
        sleep 0.05
    done
    return 1
}

# reg_users_csv FILE FIRST COUNT [K] [OP]: sipp injection file (SEQUENTIAL) of demo
# subscribers FIRST.. with fields IMPI;K;OP;IMPU;IMSI.
reg_users_csv() {
    local f=$1 first=$2 n=$3 k=${4:-$REG_K} op=${5:-$REG_OP}
    {
        echo SEQUENTIAL
        awk -v a="$first" -v n="$n" -v d="$REG_DOMAIN" -v k="$k" -v op="$op" \
            'BEGIN { for (i = a; i < a + n; i++) {
                     imsi = sprintf("0010100%08d", i)
                     printf "%s@%s;%s;%s;sip:%s@%s;%s\n", imsi, d, k, op, imsi, d, imsi } }'
    } >"$f"
}

# reg_sipp NAME SCENARIO CALLS TIMEOUT [extra sipp args...]: run a sipp UE (UDP, one socket
# per call: -t un) on 127.0.1.100 toward the P-CSCF, foreground. Sets SIPP_RC, SIPP_TAG
# ($IT_WORK/NAME: .csv stats, .msg messages, .errors, .out). With REG_BG=1 it returns at once
# with the pid in SIPP_PID (then wait_sipp PID SECONDS). Defaults (the first -key of a name
# wins in sipp, so the caller's come first): -key expires 600.
reg_sipp() {
    local name=$1 scen=$2 calls=$3 tmo=$4 cp
    shift 4
    pick_port_into cp
    IT_NEXT_PORT=$((IT_NEXT_PORT + 6))  # control, media (+2) ports
    SIPP_TAG=$IT_WORK/$name
    (cd "$IT_WORK" && exec timeout -k 5 $((tmo + 10)) sipp -sf "$SIPP_SCEN_DIR/$scen" \
        -t un -i "$REG_UE" -p "$cp" -m "$calls" -s "$REG_DOMAIN" -timeout "${tmo}s" -timeout_error \
        -ci 127.0.0.2 -cp $((cp + 1)) -nostdin -mp $((cp + 2)) \
        -trace_stat -stf "$SIPP_TAG.csv" -fd 1 -trace_msg -message_file "$SIPP_TAG.msg" \
        -trace_err -error_file "$SIPP_TAG.errors" -trace_screen -screen_file "$SIPP_TAG.screen" \
        -max_socket "${REG_MAX_SOCKET:-1000}" \
        "$@" -key expires 600 "$REG_P:5060") >"$SIPP_TAG.out" 2>&1 &
    local pid=$!
    track "$pid" "sipp-$name" "$SIPP_TAG.errors"
    if [ "${REG_BG:-0}" = 1 ]; then
        SIPP_PID=$pid
        return 0
    fi
    wait "$pid"
    SIPP_RC=$?
    untrack "$pid"
}

# reg_expect_ok NAME WANT: the last reg_sipp run ended with exit 0 and WANT successful calls.
reg_expect_ok() { expect_calls "$SIPP_TAG" "$SIPP_RC" "$2" "$1"; }

