#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# imsctl and the CSCFs' control sockets (common/ops/ctl.h) on the private lab (lib/reg.sh),
# each daemon with ctl.socket in the work directory. Checked:
#   1. N handsets register with IMS AKA; `imsctl registrations` at the S-CSCF and at the
#      P-CSCF lists exactly their IMPUs (table and --json; at the S-CSCF also their IMPIs),
#      state registered, a contact and 0 < expires <= 600; `registration` shows one in full.
#   2. `peers` at the S-CSCF and I-CSCF shows the HSS peer OPEN (table and --json).
#   3. `counters` moved: S-CSCF registrations >= N, P-CSCF registered >= N, SIP messages in.
#   3b. during a call between two handsets behind the P-CSCF (aka_ue.py registers them, sipp
#      plays them, the caller holding the call 4 s), `dialogs` at the P-CSCF lists its two legs
#      (orig for the caller, term for the callee: the call's Call-ID, each UE's IMPU and
#      address, state confirmed; table and --json; a filter by IMPU keeps one), and none once
#      the BYE is through; `sas` (sec-agree off here: SAs exist only in the VM tests) answers
#      enabled=false, four zero set counts and an empty list.
#   4. `log-level debug` at the S-CSCF: the reply says so and debug lines appear in its log.
#   5. `deregister <IMPU>` at the S-CSCF: gone from its `registrations`, the HSS saw SAR
#      ADMINISTRATIVE_DEREGISTRATION (8) and shows it not registered, the P-CSCF dropped it
#      (reg-event NOTIFY); `deregister` at the P-CSCF drops another UE there.
#   6. `reload` reports the changed settings of an edited file (log level, S-CSCF expiry);
#      SIGHUP to each CSCF reloads too, and every daemon stays up.
#   6b. the I-CSCF reloads its S-CSCF list and Diameter peers: a second S-CSCF (with
#      capabilities) and a second peer added to icscf.cfg show in `scscfs` and `peers` after
#      `reload` (which reports both); the HSS peer taken out gets a DPR (ims-hss logs it) and
#      leaves `peers`; put back (SIGHUP) it connects again (OPEN) and a handset registers
#      through the I-CSCF.
#   7. garbage, a non-object, an oversized line and an unknown command get {"ok":false,...}
#      replies (imsctl exits 1) and the daemons keep answering.
# The daemons stop cleanly (exit 0, no sanitizer report) and remove their socket files.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
it_init 19740
N=5
command -v jq >/dev/null || fail "jq not found in PATH"
IMSCTL=$(bin imsctl) || exit 1

reg_lab_prepare
for s in pcscf icscf scscf; do
    reg_section_needed "$s"
    reg_cfg_add "$s" "ctl = { socket = \"$REG_DIR/$s.ctl\"; };"
done
REG_LOG_LEVEL=info
reg_lab_start

# ctl DAEMON ARGS...: imsctl against that daemon's socket.
ctl() { "$IMSCTL" -s "$REG_DIR/$1.ctl" "${@:2}"; }
# ctl_ok DAEMON ARGS...: the same, and fail the test unless the reply is ok (exit 0).
ctl_ok() {
    local out
    out=$(ctl "$@" 2>&1) || fail "imsctl $* failed: $out"
    printf '%s\n' "$out"
}
# raw DAEMON BYTES: send BYTES (printf format) on the socket, print the reply line.
raw() {
    python3 - "$REG_DIR/$1.ctl" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode('unicode_escape').encode('latin-1'))
buf = b''
while b'\n' not in buf:
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(buf.split(b'\n')[0].decode('ascii', 'replace'))
EOF
}

for d in pcscf icscf scscf; do [ -S "$REG_DIR/$d.ctl" ] || fail "no control socket for $d"; done
c0=$(ctl_ok scscf --json counters | jq '.data.scscf.registrations')
say "S-CSCF counters before: registrations=$c0"

# 1. N handsets register.
reg_users_csv "$IT_WORK/users.csv" 1 "$N"
reg_sipp reg reg_aka.xml "$N" 20 -inf "$IT_WORK/users.csv" -key expires 600 -r 20 \
    -auth_uri "sip:$REG_DOMAIN"
reg_expect_ok "$N handsets, IMS AKA" "$N"
want_impus=$(for ((i = 1; i <= N; i++)); do reg_impu "$i"; echo; done | sort)
want_impis=$(for ((i = 1; i <= N; i++)); do reg_impi "$i"; echo; done | sort)

table=$(ctl_ok scscf registrations)
printf '%s\n' "$table" | sed 's/^/    /'
for ((i = 1; i <= N; i++)); do
    grep -qE "^ *$(reg_impu "$i") +$(reg_impi "$i") +sip:.* registered" <<<"$table" ||
        fail "S-CSCF table has no registered row for $(reg_impu "$i")"
done
js=$(ctl_ok scscf --json registrations)
[ "$(jq -r '.data.registrations[].impu' <<<"$js" | sort)" = "$want_impus" ] ||
    fail "S-CSCF --json IMPUs differ from the registered ones: $js"
[ "$(jq -r '.data.registrations[].impi' <<<"$js" | sort)" = "$want_impis" ] ||
    fail "S-CSCF --json IMPIs differ from the registered ones: $js"
[ "$(jq '.data.count' <<<"$js")" = "$N" ] || fail "S-CSCF count is not $N: $js"
bad=$(jq '[.data.registrations[] | select(.state != "registered" or .expires <= 0 or
           .expires > 600 or (.contact | startswith("sip:") | not))] | length' <<<"$js")
[ "$bad" = 0 ] || fail "S-CSCF rows with a wrong state, expiry or contact: $js"
say "S-CSCF: $N registrations listed (table and --json), IMPUs and IMPIs as registered"

table=$(ctl_ok pcscf registrations)
printf '%s\n' "$table" | sed 's/^/    /'
for ((i = 1; i <= N; i++)); do
    grep -qE "^ *$(reg_impu "$i") .* registered" <<<"$table" ||
        fail "P-CSCF table has no registered row for $(reg_impu "$i")"
done
js=$(ctl_ok pcscf --json registrations)
[ "$(jq -r '.data.registrations[].impu' <<<"$js" | sort)" = "$want_impus" ] ||
    fail "P-CSCF --json IMPUs differ from the registered ones: $js"
[ "$(jq '[.data.registrations[] | select(.state == "registered" and .expires > 0)] |
         length' <<<"$js")" = "$N" ] || fail "P-CSCF rows not all registered: $js"
say "P-CSCF: $N registrations listed (table and --json)"

one=$(ctl_ok scscf --json registration "$(reg_impi 2)")
[ "$(jq -r '.data.impus[0].impu' <<<"$one")" = "$(reg_impu 2)" ] &&
    [ "$(jq '.data.contacts | length' <<<"$one")" -ge 1 ] ||
    fail "registration $(reg_impi 2) at the S-CSCF: $one"
ctl_ok scscf registration "$(reg_impu 2)" | sed 's/^/    /'
out=$(ctl_ok pcscf registration "$(reg_impu 2)")
grep -q "service_route" <<<"$out" ||
    fail "registration $(reg_impu 2) at the P-CSCF shows no service route"
filtered=$(ctl_ok scscf --json registrations "$(printf '%08d' 3)@" | jq '.data.count')
[ "$filtered" = 1 ] || fail "registrations with a filter: $filtered rows, want 1"
ctl scscf registration "sip:nobody@$REG_DOMAIN" >/dev/null 2>&1 &&
    fail "registration of an unknown IMPU answered ok"

# 2. peers
for d in scscf icscf; do
    out=$(ctl_ok "$d" peers)
    printf '%s\n' "$out" | sed 's/^/    /'
    grep -qE "^ *hss\\.$REG_DOMAIN +diameter +OPEN " <<<"$out" ||
        fail "$d peers: the HSS peer is not shown OPEN"
    [ "$(ctl_ok "$d" --json peers | jq -r --arg h "hss.$REG_DOMAIN" \
         '.data.peers[] | select(.host == $h) | .state')" = OPEN ] ||
        fail "$d peers --json: the HSS peer is not OPEN"
done
[ "$(ctl_ok pcscf --json peers | jq '.data.peers | length')" = 0 ] ||
    fail "the P-CSCF lists peers, but it has no Diameter or SBI client"
say "peers: the HSS is OPEN at the S-CSCF and the I-CSCF; the P-CSCF has none"

# 3. counters
cs=$(ctl_ok scscf --json counters)
cp=$(ctl_ok pcscf --json counters)
ci=$(ctl_ok icscf --json counters)
s_reg=$(jq '.data.scscf.registrations' <<<"$cs")
s_rx=$(jq '.data.sip.transport.rx_msgs' <<<"$cs")
p_reg=$(jq '.data.pcscf.registered' <<<"$cp")
i_reg=$(jq '.data.icscf.registers' <<<"$ci")
say "counters: S-CSCF registrations $c0 -> $s_reg, SIP in $s_rx; P-CSCF registered $p_reg;" \
    "I-CSCF REGISTERs $i_reg"
[ "$((s_reg - c0))" -ge "$N" ] && [ "$p_reg" -ge "$N" ] && [ "$i_reg" -ge "$N" ] &&
    [ "$s_rx" -gt 0 ] || fail "counters did not move as expected"
out=$(ctl_ok scscf counters)
sed -n '1,5p' <<<"$out" | sed 's/^/    /'

# 3b. dialogs and sas during a call: A (subscriber 11) calls B (subscriber 12)
A_IP=127.0.1.100 B_IP=127.0.1.101
pick_port_into PA
pick_port_into PB
sess_register 11 "$A_IP" "$PA"
sess_register 12 "$B_IP" "$PB"   # two more registrations from here on
# the caller holds the call 4 s between its ACK and its BYE
sess_steps_call "$(reg_impu 11)" |
    sed 's|^<send retrans="500" start_txn="bye">|<pause milliseconds="4000"/>\n&|' |
    sess_scenario uac_hold
grep -q '<pause milliseconds="4000"/>' "$IT_WORK/sc/uac_hold.xml" || fail "no pause in uac_hold"
{ echo '<recv request="INVITE" rrs="true"/>'; sess_steps_answer; } | sess_scenario uas_b
sess_uas UAS_B uas-b uas_b "$B_IP" "$PB" 1
# In the background while the call is up: the first listing with both legs confirmed.
(
    for ((i = 0; i < 150; i++)); do
        js=$(ctl pcscf --json dialogs 2>/dev/null) &&
            [ "$(jq '[.data.dialogs[] | select(.state == "confirmed")] | length' \
                 <<<"$js")" = 2 ] && {
            printf '%s\n' "$js" >"$IT_WORK/dialogs.json"
            ctl pcscf dialogs >"$IT_WORK/dialogs.txt" 2>&1
            ctl pcscf --json dialogs "$(reg_impu 12)" >"$IT_WORK/dialogs-b.json" 2>&1
            exit 0
        }
        sleep 0.05
    done
    exit 1
) &
POLL=$!
sess_uac call uac_hold "$A_IP" "$PA" 1 "$(reg_impu 12)"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "3b. A calls B, holding the call 4 s"
wait "$POLL" || fail "3b. dialogs never listed two confirmed legs during the call"
CID=$(sess_callid "$SIPP_TAG")
wait_sipp "$UAS_B" 15
expect_calls "$IT_WORK/uas-b" "$SIPP_RC" 1 "3b. B answered and took the BYE"
sed 's/^/    /' "$IT_WORK/dialogs.txt"
js=$(cat "$IT_WORK/dialogs.json")
[ "$(jq '.data.count' <<<"$js")" = 2 ] || fail "3b. dialogs count is not 2: $js"
for leg in "orig $(reg_impu 11) u:$A_IP:$PA" "term $(reg_impu 12) u:$B_IP:$PB"; do
    read -r dir impu ue <<<"$leg"
    jq -e --arg d "$dir" --arg i "$impu" --arg u "$ue" --arg c "$CID" \
        '[.data.dialogs[] | select(.dir == $d and .impu == $i and .ue == $u and
          .call_id == $c and .state == "confirmed" and .age >= 0 and .age < 60)] | length == 1' \
        <<<"$js" >/dev/null || fail "3b. no $dir leg of $impu at $ue in Call-ID $CID: $js"
done
grep -qE "^ *(orig|term) +$(sess_re "$CID") +.*confirmed" "$IT_WORK/dialogs.txt" ||
    fail "3b. the dialogs table lacks the call: $(cat "$IT_WORK/dialogs.txt")"
jq -e --arg i "$(reg_impu 12)" '.data.count == 1 and .data.dialogs[0].impu == $i and
      .data.dialogs[0].dir == "term"' "$IT_WORK/dialogs-b.json" >/dev/null ||
    fail "3b. dialogs filtered by B's IMPU: $(cat "$IT_WORK/dialogs-b.json")"
for ((i = 0; i < 100; i++)); do
    [ "$(ctl_ok pcscf --json dialogs | jq .data.count)" = 0 ] && break
    sleep 0.05
done
[ "$(ctl_ok pcscf --json dialogs | jq .data.count)" = 0 ] ||
    fail "3b. dialogs still listed after the BYE: $(ctl_ok pcscf --json dialogs)"
js=$(ctl_ok pcscf --json sas)
jq -e '.data.enabled == false and .data.count == 0 and .data.truncated == false and
       (.data.sas | type == "array" and length == 0) and
       (.data.sets | keys == ["active", "offered", "pending", "retiring"]) and
       ([.data.sets[]] | all(. == 0))' <<<"$js" >/dev/null || fail "3b. sas: $js"
ctl_ok pcscf sas | sed 's/^/    /'
say "3b. dialogs: both legs of call $CID listed confirmed during the call, gone after it;" \
    "sas: off, empty"

# 4. log-level
[ "$(ctl_ok scscf --json log-level | jq -r .data.log_level)" = info ] ||
    fail "S-CSCF log level is not info at start"
[ "$(ctl_ok scscf --json log-level debug | jq -r .data.log_level)" = debug ] ||
    fail "log-level debug not acknowledged"
dbg0=$(grep -c ' debug ' "$REG_DIR/scscf.log" || true)
ctl scscf log-level loud >/dev/null 2>&1 && fail "log-level accepted an unknown level"

# 5. deregister at the S-CSCF (IMS AKA user 1) and at the P-CSCF (user 2)
out=$(ctl_ok scscf deregister "$(reg_impu 1)")
say "deregister at the S-CSCF: $(tr '\n' ' ' <<<"$out")"
reg_wait_sar "$(reg_impi 1)" 8 1 10 ||
    fail "no SAR ADMINISTRATIVE_DEREGISTRATION (8) at the HSS for $(reg_impi 1)"
[[ $(reg_hss_show 1) == *state=not-registered* ]] ||
    fail "HSS still shows $(reg_impi 1) registered: $(reg_hss_show 1)"
out=$(ctl_ok scscf registrations)
grep -q "$(reg_impu 1) " <<<"$out" &&
    fail "S-CSCF still lists $(reg_impu 1) after deregister"
[ "$(ctl_ok scscf --json registrations | jq .data.count)" = $((N + 2 - 1)) ] ||
    fail "S-CSCF does not list $((N + 2 - 1)) registrations after deregister"
dbg1=$(grep -c ' debug ' "$REG_DIR/scscf.log" || true)
say "S-CSCF debug lines in its log: $dbg0 -> $dbg1"
[ "$dbg1" -gt "$dbg0" ] || fail "no debug lines after log-level debug"
ctl_ok scscf log-level info >/dev/null
gone=
for ((i = 0; i < 100; i++)); do
    out=$(ctl_ok pcscf registrations)
    grep -q "$(reg_impu 1) " <<<"$out" || { gone=1; break; }
    sleep 0.05
done
[ -n "$gone" ] || fail "P-CSCF still lists $(reg_impu 1) after the S-CSCF de-registered it"
ctl_ok pcscf deregister "$(reg_impu 2)" >/dev/null
out=$(ctl_ok pcscf registrations)
grep -q "$(reg_impu 2) " <<<"$out" &&
    fail "P-CSCF still lists $(reg_impu 2) after deregister"
[ "$(ctl_ok pcscf --json registrations | jq .data.count)" = $((N + 2 - 2)) ] ||
    fail "P-CSCF does not list $((N + 2 - 2)) registrations"
say "deregister: $(reg_impu 1) gone at S, HSS (SAR 8) and P (NOTIFY); $(reg_impu 2) dropped at P"

# 6. reload and SIGHUP
reg_cfg_set scscf max_expires 1800
reg_cfg_set scscf log_level '"notice"'
js=$(ctl_ok scscf --json reload)
say "reload at the S-CSCF: $(jq -c .data.changed <<<"$js")"
[ "$(jq '.data.changed."scscf.max_expires"' <<<"$js")" = 1800 ] &&
    [ "$(jq -r '.data.changed.log_level' <<<"$js")" = notice ] ||
    fail "reload did not report the changed settings: $js"
[ "$(ctl_ok scscf --json log-level | jq -r .data.log_level)" = notice ] ||
    fail "log level after reload is not notice"
reg_cfg_set scscf max_expires 1200
for d in scscf icscf pcscf; do
    n0=$(grep -c 'reloaded' "$REG_DIR/$d.log" || true)
    kill -HUP "${REG_PID[$d]}"
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c 'reloaded' "$REG_DIR/$d.log" || true)" -gt "$n0" ] && break
        sleep 0.05
    done
    [ "$(grep -c 'reloaded' "$REG_DIR/$d.log" || true)" -gt "$n0" ] ||
        fail "$d did not log a reload after SIGHUP" "${REG_PID[$d]}"
    assert_alive "${REG_PID[$d]}"
    ctl_ok "$d" help >/dev/null
done
say "SIGHUP: the three CSCFs reloaded and still answer"
reg_cfg_set scscf max_expires 1201
[ "$(ctl_ok scscf --json reload | jq '.data.changed."scscf.max_expires"')" = 1201 ] ||
    fail "the SIGHUP reload did not take max_expires 1200"

# 6b. the I-CSCF's S-CSCF list and Diameter peers
[ "$(ctl_ok icscf --json scscfs | jq .data.count)" = 1 ] || fail "6b. I-CSCF scscfs: not 1"
cp "$REG_DIR/icscf.cfg" "$IT_WORK/icscf.cfg.orig"
reg_cfg_set icscf scscfs "( { uri = \"sip:scscf.$REG_DOMAIN\"; capabilities = [ ]; },\
 { uri = \"sip:scscf2.$REG_DOMAIN\"; capabilities = [ 5, 7 ]; } )"
# peers_cfg NAME=ADDR...: the diameter peers of icscf.cfg made these (connect = true)
peers_cfg() {
    python3 - "$REG_DIR/icscf.cfg" "$REG_DOMAIN" "$@" <<'EOF'
import re, sys
path, dom, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
s = open(path).read()
peers = ",\n".join('    { host = "%s.%s"; addr = "%s"; port = 3868; connect = true; }'
                   % (h.split("=")[0], dom, h.split("=")[1]) for h in hosts)
s, n = re.subn(r"peers = \(.*?\n  \);", "peers = (\n" + peers + "\n  );", s, flags=re.S)
assert n == 1, "no peers list in " + path
open(path, "w").write(s)
EOF
}
# dpr_count: DPRs from the I-CSCF that ims-hss logged
dpr_count() { grep -c "peer icscf\\.$(sess_re "$REG_DOMAIN") sent DPR" "$REG_DIR/ims-hss.log"; }
# peer_state HOST JSON: the state of HOST in a --json peers reply ("" when not listed)
peer_state() { jq -r --arg h "$1" '.data.peers[] | select(.host == $h) | .state' <<<"$2"; }
peers_cfg "hss=$REG_H" "hss2=127.0.1.41"
js=$(ctl_ok icscf --json reload)
say "6b. reload at the I-CSCF: $(jq -c .data.changed <<<"$js")"
jq -e --arg s2 "sip:scscf2.$REG_DOMAIN" '.data.changed."diameter.peers" == {"added": 1,
       "removed": 0} and (.data.changed."icscf.scscfs" | length == 2) and
       (.data.changed."icscf.scscfs"[1] == {"uri": $s2, "capabilities": [5, 7]})' \
    <<<"$js" >/dev/null || fail "6b. reload did not report the new S-CSCF and peer: $js"
out=$(ctl_ok icscf scscfs)
printf '%s\n' "$out" | sed 's/^/    /'
grep -qE "sip:scscf2\\.$(sess_re "$REG_DOMAIN") +5,7$" <<<"$out" ||
    fail "6b. scscfs does not show the second S-CSCF with its capabilities"
js=$(ctl_ok icscf --json peers)
[ -n "$(peer_state "hss2.$REG_DOMAIN" "$js")" ] || fail "6b. no hss2 in peers: $js"
[ "$(peer_state "hss.$REG_DOMAIN" "$js")" = OPEN ] || fail "6b. the HSS is not OPEN: $js"
# the HSS taken out: DPR, gone from peers
dpr0=$(dpr_count)
peers_cfg "hss2=127.0.1.41"
js=$(ctl_ok icscf --json reload)
[ "$(jq -c '.data.changed."diameter.peers"' <<<"$js")" = '{"added":0,"removed":1}' ] ||
    fail "6b. reload without the HSS peer: $js"
for ((i = 0; i < 100; i++)); do
    [ "$(dpr_count)" -gt "$dpr0" ] && break
    sleep 0.05
done
[ "$(dpr_count)" -gt "$dpr0" ] || fail "6b. ims-hss saw no DPR from the I-CSCF"
js=$(ctl_ok icscf --json peers)
[ -z "$(peer_state "hss.$REG_DOMAIN" "$js")" ] || fail "6b. the HSS is still listed: $js"
# back as it was, by SIGHUP: the HSS peer connects again
cp "$IT_WORK/icscf.cfg.orig" "$REG_DIR/icscf.cfg"
kill -HUP "${REG_PID[icscf]}"
for ((i = 0; i < 200; i++)); do
    js=$(ctl_ok icscf --json peers)
    [ "$(peer_state "hss.$REG_DOMAIN" "$js")" = OPEN ] && break
    sleep 0.05
done
jq -e --arg h "hss.$REG_DOMAIN" '[.data.peers[] | .host] == [$h] and
      .data.peers[0].state == "OPEN"' <<<"$js" >/dev/null ||
    fail "6b. after SIGHUP the peers are not just the HSS, OPEN: $js"
[ "$(ctl_ok icscf --json scscfs | jq .data.count)" = 1 ] || fail "6b. scscfs not back to 1"
reg_users_csv "$IT_WORK/users6b.csv" 20 1
reg_sipp reg6b reg_aka.xml 1 20 -inf "$IT_WORK/users6b.csv" -key expires 600 -r 20 \
    -auth_uri "sip:$REG_DOMAIN"
reg_expect_ok "6b. a handset registers through the I-CSCF after the reloads" 1
say "6b. S-CSCF list and Diameter peers reloaded at the I-CSCF (added, DPR on removal, back)"

# 7. garbage and other bad input
for d in scscf pcscf icscf; do
    for line in 'garbage\n' '[1,2,3]\n' '{"cmd":"registrations","args":"x"}\n' \
                '\x00\xff\xfe{\n'; do
        r=$(raw "$d" "$line")
        [ "$(jq -r .ok <<<"$r")" = false ] || fail "$d answered \"$line\" with: $r"
    done
    r=$(raw "$d" "$(head -c 5000 /dev/zero | tr '\0' 'a')\\n")
    [[ $r == *'"ok":false'*longer* ]] || fail "$d: oversized line answered with: $r"
    out=$(ctl "$d" no-such-command 2>&1)
    rc=$?
    [ "$rc" = 1 ] && [[ $out == *unknown\ command* ]] ||
        fail "$d: unknown command: exit $rc, $out"
    assert_alive "${REG_PID[$d]}"
    out=$(ctl_ok "$d" --json help)
    jq -e '.data.commands | length > 3' <<<"$out" >/dev/null ||
        fail "$d: help after bad input"
done
say "bad input: error replies, the daemons keep answering"

reg_lab_stop
for d in pcscf icscf scscf; do
    [ -e "$REG_DIR/$d.ctl" ] && fail "$d left its control socket file behind"
done
ok "registrations (S, P; table and JSON), peers OPEN, counters, dialogs, sas, log-level," \
    "deregister (S: SAR 8 + NOTIFY; P), reload + SIGHUP (S-CSCF list, Diameter peers)," \
    "bad input refused"
