#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop of our Diameter peer layer (diameter/base/peer*.c, driven by tests/tools/dia-peer)
# with Debian's freeDiameter daemon (freeDiameterd 1.2.1, package freediameter), base protocol
# only, plain TCP on 127.0.0.1. Three cases, each captured with tshark:
#   (a) freeDiameterd connects to us (we only listen): CER/CEA, then the connection stays OPEN
#       for over three watchdog intervals (Tw = 6 s on both sides, freeDiameter's minimum),
#       DWR/DWA exchanged, and our DPR at the end answered by DPA.
#   (b) we connect to freeDiameterd (it accepts us through its acl_wl whitelist and does not
#       connect itself, so there is no election): the same checks, with our Tw at 10 s so
#       that its watchdog (Tw 6 s, i.e. 4-8 s with its jitter) always fires first: >= 3 of its
#       DWRs are answered by our DWAs. (Both sides restart the watchdog on every message, so
#       with equal Tw the DWRs may all come from one side; (a) usually shows ours.)
#   (c) a freeDiameterd whose Origin-Host we do not know connects: we answer its CER with a
#       CEA 3010 DIAMETER_UNKNOWN_PEER (E bit) and close; nothing goes OPEN.
# Checked, with numbers printed: our peer states and counters (dia-peer summary lines),
# freeDiameterd's own log (state changes, messages it received, no error), and tshark's
# decoding of every message (command counts, Result-Codes, no malformed packet or expert
# error, via lib/tshark.sh). dia-peer must exit 0 with no sanitizer report.
#
# freeDiameter notes that shaped the configuration: it refuses to start without a TLS
# certificate and key even when every peer is No_TLS, and the certificate's CN must equal its
# Identity (a throw-away self-signed one per identity is made here); Tw below 6 s is refused
# by its parser; ListenOn silently drops loopback addresses, so it listens on all addresses
# of its port; SecPort = 0 turns its TLS listener off. Skipped (77) without freeDiameterd.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tshark.sh"
it_init 16700

command -v freeDiameterd >/dev/null || { say "SKIP: freeDiameterd not installed"; exit 77; }
command -v tshark >/dev/null || fail "tshark not found in PATH"
command -v openssl >/dev/null || fail "openssl not found in PATH"
DIA_PEER=$(bin tests/dia-peer) || exit 1

OURS=ims.test.realm
FD_ID=fd.test.realm
ROGUE_ID=rogue.test.realm
REALM=test.realm
TW_S=6              # freeDiameter's minimum Tw; ours in (a) and (c)
TW_B_S=10           # ours in (b): > its 4-8 s, so freeDiameterd sends the DWRs and we answer
RUN_S=26            # OPEN within 2 s, then a DWR every < Tw + 2 s: >= 3 exchanges
MIN_DW=3
say "$(freeDiameterd --version 2>&1 | head -n 1), $(tshark -v 2>/dev/null | head -n 1)"

# make_cert ID: self-signed certificate + key for freeDiameter identity ID (CN must match).
make_cert() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$1" \
        -keyout "$IT_WORK/$1.key.pem" -out "$IT_WORK/$1.cert.pem" >/dev/null 2>&1 ||
        fail "openssl could not make a certificate for $1"
}

# fd_conf FILE ID PORT [LINE...]: a freeDiameterd configuration, base protocol only, TCP, no
# TLS listener; message dumps in full on one line each (dbg_msg_dumps 0x2242); extra lines
# (ConnectPeer, LoadExtension) appended.
fd_conf() {
    local file=$1 id=$2 port=$3 line
    shift 3
    {
        printf 'Identity = "%s";\nRealm = "%s";\n' "$id" "$REALM"
        printf 'Port = %d;\nSecPort = 0;\nNo_SCTP;\nNo_IPv6;\nPrefer_TCP;\n' "$port"
        printf 'ListenOn = "127.0.0.1";\nTcTimer = 1;\nTwTimer = %d;\n' "$TW_S"
        printf 'TLS_Cred = "%s", "%s";\n' "$IT_WORK/$id.cert.pem" "$IT_WORK/$id.key.pem"
        printf 'TLS_CA = "%s";\n' "$IT_WORK/$id.cert.pem"
        printf 'LoadExtension = "dbg_msg_dumps.fdx" : "0x2242";\n'
        for line in "$@"; do printf '%s\n' "$line"; done
    } >"$file"
}

# start_fd VAR CONF PORT: freeDiameterd in the background, listening on PORT; pid in VAR.
start_fd() {
    local var=$1 conf=$2 port=$3 pid log=${2%.conf}.log
    freeDiameterd -c "$conf" >"$log" 2>&1 &
    pid=$!
    track "$pid" "freeDiameterd:$port" "$log"
    wait_listen "$pid" tcp "$port" 10
    printf -v "$var" '%d' "$pid"
}

# stop_fd PID: SIGTERM and a bounded wait (its log is read only after it has exited).
stop_fd() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        alive "$pid" || break
        sleep 0.05
    done
    alive "$pid" && { say "freeDiameterd $pid slow to stop: killed"; kill -KILL "$pid"; }
    wait "$pid" 2>/dev/null
    untrack "$pid"
}

# start_capture VAR PORT PCAP: lib/tshark.sh's capture of one TCP port, its pid in VAR.
start_capture() { tshark_capture_start "tcp port $2" "$3" "$1"; }

# start_dia_peer VAR TAG TW_MS ARGS...: our node (ARGS give --run-seconds, --listen, --peer);
# output in TAG.out, log in TAG.log.
start_dia_peer() {
    local var=$1 tag=$2 tw=$3 pid
    shift 3
    "$DIA_PEER" --origin-host "$OURS" --origin-realm "$REALM" --app 16777216:10415 \
        --tw "$tw" --tc 1000 "$@" >"$tag.out" 2>"$tag.log" &
    pid=$!
    track "$pid" "dia-peer" "$tag.log"
    printf -v "$var" '%d' "$pid"
}

# wait_dia_peer PID SECONDS: it must exit by itself, with 0 and no sanitizer report.
wait_dia_peer() {
    local pid=$1 limit=$2 i rc
    for ((i = 0; i < limit * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    alive "$pid" && fail "dia-peer still running after ${limit}s" "$pid"
    wait "$pid"
    rc=$?
    [ "$rc" -eq 0 ] || fail "dia-peer exited with status $rc" "$pid"
    if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
        "${IT_LOG[$pid]}"; then
        fail "dia-peer log holds a sanitizer report" "$pid"
    fi
    untrack "$pid"
}

# kv LINE KEY: the value of KEY=value in a dia-peer summary line.
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# dia_msgs PCAP PORT: one line per Diameter message:
# "<code> R|A <Result-Code or -> <E bit: E or -> <L: sent by the side listening on PORT, or C>".
dia_msgs() {
    tshark -n -r "$1" -d "tcp.port==$2,diameter" -Y diameter -T fields -E occurrence=a \
        -E aggregator=';' -e diameter.cmd.code -e diameter.flags.request \
        -e diameter.flags.error -e diameter.Result-Code -e tcp.srcport 2>/dev/null |
        awk -F'\t' -v port="$2" '{ n = split($1, c, ";"); split($2, r, ";"); split($3, e, ";")
            split($4, rc, ";"); k = 0
            for (i = 1; i <= n; i++) {
                q = (r[i] == "1" || r[i] == "True") ? "R" : "A"
                v = "-"
                if (q == "A") v = rc[++k]
                printf "%s %s %s %s %s\n", c[i], q, v,
                    (e[i] == "1" || e[i] == "True") ? "E" : "-", $5 == port ? "L" : "C"
            } }'
}

# count_msgs FILE CODE R|A [RESULT [L|C]]: how many such messages dia_msgs listed.
count_msgs() {
    awk -v c="$2" -v q="$3" -v r="${4:-}" -v s="${5:-}" \
        '$1 == c && $2 == q && (r == "" || $3 == r) && (s == "" || $5 == s)' "$1" | wc -l
}

# fd_errors LOG: freeDiameterd's error lines up to its shutdown. After SIGTERM its own
# dbg_msg_dumps extension always logs "fd_hook_unregister( md_hdl[3] )" (a bug in its
# fd_ext_fini), which says nothing about the peers.
fd_errors() {
    sed '/Initiating freeDiameter shutdown/q' "$1" |
        grep -E " ERROR |PARSING ERROR|DROPPED|CONNECT FAILED|FAILOVER"
}

# check_open_run CASE TAG PCAP PORT FDLOG FD_OPEN_RE FD_SIDE FD_DWR: the assertions shared by
# (a) and (b). FD_SIDE: L when freeDiameterd listens on PORT, C when it connected to it;
# FD_DWR: how many DWRs freeDiameterd must have sent (and we answered) at least.
check_open_run() {
    local case=$1 tag=$2 pcap=$3 port=$4 fdlog=$5 open_re=$6 fd_side=$7 want_fd_dwr=$8
    local line state sent recv stopped fd_dw fd_err cer cea dwr dwa dwa_ok dpr dpa fd_dwr
    local msgs=$3.msgs
    grep -q "^peer $FD_ID OPEN" "$tag.out" || fail "($case) our peer $FD_ID never went OPEN"
    line=$(grep "^peer=$FD_ID " "$tag.out") || fail "($case) no summary line for $FD_ID"
    state=$(kv "$line" state)
    sent=$(kv "$line" sent)
    recv=$(kv "$line" received)
    say "($case) ours after ${RUN_S}s: state=$state sent=$sent received=$recv" \
        "(want OPEN, received >= $MIN_DW)"
    [ "$state" = OPEN ] || fail "($case) $FD_ID is $state at the end, not OPEN"
    [ "$recv" -ge "$MIN_DW" ] || fail "($case) received $recv messages, want >= $MIN_DW"
    stopped=$(kv "$(grep "^stopped: peer=$FD_ID " "$tag.out")" state)
    say "($case) after dia_node_stop: state=$stopped (want CLOSED: DPR answered by DPA)"
    [ "$stopped" = CLOSED ] || fail "($case) $FD_ID is '$stopped' after stop, not CLOSED"

    grep -qE "$open_re" "$fdlog" || fail "($case) freeDiameterd never logged '$open_re'"
    fd_dw=$(grep -cE "RCV from '$OURS': Device-Watchdog-(Request|Answer)" "$fdlog")
    fd_err=$(fd_errors "$fdlog" | wc -l)
    say "($case) freeDiameterd: peer $OURS went OPEN, received $fd_dw DWR/DWA from us," \
        "$fd_err error lines (want >= $MIN_DW, 0)"
    [ "$fd_dw" -ge "$MIN_DW" ] || fail "($case) freeDiameterd received only $fd_dw DWR/DWA"
    [ "$fd_err" -eq 0 ] || { fd_errors "$fdlog" >&2; fail "($case) freeDiameterd logged errors"; }
    grep -q "Peer '$OURS' sent a DPR with cause: REBOOTING" "$fdlog" ||
        fail "($case) freeDiameterd did not log our DPR (REBOOTING)"

    tshark_check_clean "$pcap" "$port" || fail "($case) tshark: $pcap is not clean"
    dia_msgs "$pcap" "$port" >"$msgs"
    cer=$(count_msgs "$msgs" 257 R)
    cea=$(count_msgs "$msgs" 257 A 2001)
    dwr=$(count_msgs "$msgs" 280 R)
    dwa=$(count_msgs "$msgs" 280 A)
    dwa_ok=$(count_msgs "$msgs" 280 A 2001)
    dpr=$(count_msgs "$msgs" 282 R)
    dpa=$(count_msgs "$msgs" 282 A 2001)
    fd_dwr=$(count_msgs "$msgs" 280 R "" "$fd_side")
    say "($case) tshark: CER=$cer CEA(2001)=$cea DWR=$dwr ($fd_dwr from freeDiameterd)" \
        "DWA=$dwa (2001: $dwa_ok) DPR=$dpr DPA(2001)=$dpa" \
        "(want 1 1 >=$MIN_DW (>=$want_fd_dwr) =DWR =DWA 1 1)"
    [ "$cer" -eq 1 ] && [ "$cea" -eq 1 ] || fail "($case) want one CER and one CEA 2001"
    [ "$dwr" -ge "$MIN_DW" ] && [ "$dwa" -eq "$dwr" ] && [ "$dwa_ok" -eq "$dwa" ] ||
        fail "($case) want >= $MIN_DW DWR, each answered by a DWA 2001"
    [ "$fd_dwr" -ge "$want_fd_dwr" ] || fail "($case) want >= $want_fd_dwr DWR from freeDiameterd"
    [ "$dpr" -eq 1 ] && [ "$dpa" -eq 1 ] || fail "($case) want one DPR and one DPA 2001"
}

make_cert "$FD_ID"
make_cert "$ROGUE_ID"

# The cases run one after the other: run side by side, freeDiameterd (a) was seen opening
# extra connections (CER on new sockets every ~12 s) while (b), with the same Identity, ran.

# ---- (a) freeDiameterd connects to us ----
pick_port_into A_OURS
pick_port_into A_FD
say "(a) freeDiameterd $FD_ID :$A_FD connects to us ($OURS :$A_OURS), Tw=${TW_S}s, ${RUN_S}s"
fd_conf "$IT_WORK/fd-a.conf" "$FD_ID" "$A_FD" \
    "ConnectPeer = \"$OURS\" { ConnectTo = \"127.0.0.1\"; No_TLS; Port = $A_OURS; };"
start_capture CAP_A "$A_OURS" "$IT_WORK/a.pcap"
start_dia_peer DP_A "$IT_WORK/dia-a" $((TW_S * 1000)) --listen "127.0.0.1:$A_OURS" \
    --run-seconds "$RUN_S" --peer "$FD_ID@127.0.0.1:$A_FD"
wait_listen "$DP_A" tcp "$A_OURS"
start_fd FD_A "$IT_WORK/fd-a.conf" "$A_FD"
wait_dia_peer "$DP_A" $((RUN_S + 10))
stop_fd "$FD_A"
tshark_capture_stop "$IT_WORK/a.pcap" "$CAP_A"
check_open_run a "$IT_WORK/dia-a" "$IT_WORK/a.pcap" "$A_OURS" "$IT_WORK/fd-a.log" \
    "'STATE_WAITCEA'.*-> 'STATE_OPEN'.*'$OURS'" C 0

# ---- (b) we connect to freeDiameterd ----
pick_port_into B_FD
say "(b) we ($OURS) connect to freeDiameterd $FD_ID :$B_FD (acl_wl)," \
    "Tw=${TW_S}s there, ${TW_B_S}s here, ${RUN_S}s"
printf 'ALLOW_IPSEC %s\n' "$OURS" >"$IT_WORK/acl_wl.conf"
fd_conf "$IT_WORK/fd-b.conf" "$FD_ID" "$B_FD" \
    "LoadExtension = \"acl_wl.fdx\" : \"$IT_WORK/acl_wl.conf\";"
start_capture CAP_B "$B_FD" "$IT_WORK/b.pcap"
start_fd FD_B "$IT_WORK/fd-b.conf" "$B_FD"
start_dia_peer DP_B "$IT_WORK/dia-b" $((TW_B_S * 1000)) --run-seconds "$RUN_S" \
    --peer "$FD_ID@127.0.0.1:$B_FD:connect"
wait_dia_peer "$DP_B" $((RUN_S + 10))
stop_fd "$FD_B"
tshark_capture_stop "$IT_WORK/b.pcap" "$CAP_B"
check_open_run b "$IT_WORK/dia-b" "$IT_WORK/b.pcap" "$B_FD" "$IT_WORK/fd-b.log" \
    "'STATE_CLOSED'.*-> 'STATE_OPEN'.*'$OURS'" L "$MIN_DW"

# ---- (c) an unknown freeDiameterd is refused ----
pick_port_into C_OURS
pick_port_into C_FD
say "(c) freeDiameterd $ROGUE_ID :$C_FD (not configured here) connects to us :$C_OURS"
fd_conf "$IT_WORK/fd-c.conf" "$ROGUE_ID" "$C_FD" \
    "ConnectPeer = \"$OURS\" { ConnectTo = \"127.0.0.1\"; No_TLS; Port = $C_OURS; };"
start_capture CAP_C "$C_OURS" "$IT_WORK/c.pcap"
start_dia_peer DP_C "$IT_WORK/dia-c" $((TW_S * 1000)) --listen "127.0.0.1:$C_OURS" --run-seconds 4 \
    --peer "$FD_ID@127.0.0.1:$C_FD"
wait_listen "$DP_C" tcp "$C_OURS"
start_fd FD_C "$IT_WORK/fd-c.conf" "$C_FD"
wait_dia_peer "$DP_C" 15
stop_fd "$FD_C"
tshark_capture_stop "$IT_WORK/c.pcap" "$CAP_C"

opened=$(grep -c " OPEN" "$IT_WORK/dia-c.out")
refused=$(grep -c "refused with 3010" "$IT_WORK/dia-c.log")
line=$(grep "^peer=$FD_ID " "$IT_WORK/dia-c.out") || fail "(c) no summary line"
say "(c) ours: $opened OPEN transitions, $refused CER(s) refused with 3010," \
    "$FD_ID state=$(kv "$line" state) received=$(kv "$line" received) (want 0, >= 1, CLOSED, 0)"
[ "$opened" -eq 0 ] || fail "(c) a peer went OPEN"
[ "$refused" -ge 1 ] || fail "(c) dia-peer did not log the 3010 refusal" "$DP"
[ "$(kv "$line" state)" = CLOSED ] && [ "$(kv "$line" received)" -eq 0 ] ||
    fail "(c) the configured peer $FD_ID saw traffic"
FDLOG=$IT_WORK/fd-c.log
fd_rcv=$(grep -cE "RCV from '$OURS': Capabilities-Exchange-Answer.*DIAMETER_UNKNOWN_PEER' \(3010" \
    "$FDLOG")
fd_fail=$(grep -c "CONNECT FAILED to $OURS: CEA with unexpected error code" "$FDLOG")
fd_open=$(grep -c -e "-> 'STATE_OPEN'" "$FDLOG")
say "(c) freeDiameterd: $fd_rcv CEA 3010 received, $fd_fail connect failures, $fd_open OPEN" \
    "(want >= 1, >= 1, 0)"
[ "$fd_rcv" -ge 1 ] && [ "$fd_fail" -ge 1 ] && [ "$fd_open" -eq 0 ] ||
    fail "(c) freeDiameterd did not see the refusal"
tshark_check_clean "$IT_WORK/c.pcap" "$C_OURS" || fail "(c) tshark: c.pcap is not clean"
dia_msgs "$IT_WORK/c.pcap" "$C_OURS" >"$IT_WORK/c.msgs"
cer=$(count_msgs "$IT_WORK/c.msgs" 257 R)
cea3010=$(awk '$1 == 257 && $2 == "A" && $3 == 3010 && $4 == "E"' "$IT_WORK/c.msgs" | wc -l)
cea=$(count_msgs "$IT_WORK/c.msgs" 257 A)
other=$(awk '$1 != 257' "$IT_WORK/c.msgs" | wc -l)
say "(c) tshark: CER=$cer CEA=$cea of which 3010 with E bit=$cea3010, other messages=$other" \
    "(want >= 1, =CER, =CEA, 0)"
[ "$cer" -ge 1 ] && [ "$cea" -eq "$cer" ] && [ "$cea3010" -eq "$cea" ] && [ "$other" -eq 0 ] ||
    fail "(c) want every CER answered by a CEA 3010 with the E bit, and nothing else"

ok "freeDiameter $FD_ID stayed OPEN ${RUN_S}s both ways (Tw ${TW_S}s, >= $MIN_DW DWR/DWA)," \
    "unknown $ROGUE_ID refused with 3010; tshark clean"
