#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Sessions through the S-CSCF (TS 24.229 §5.4.3): originating and terminating session cases on
# the 127.0.1.x lab of lib/reg.sh (P-CSCF, I-CSCF, S-CSCF, ims-hss). Handsets register with
# tests/tools/aka_ue.py (IMS AKA through P -> I -> S) from a fixed address and port, and sipp
# then plays the handset from that same address (the P-CSCF knows its UEs by address):
#   A = subscriber 1 on 127.0.1.100, B = subscriber 2 on 127.0.1.101, B2 = subscriber 2 again
#   (a second contact) on 127.0.1.102. Checked:
#   1. A calls B's sip: IMPU: INVITE/180/200/ACK/BYE complete through P -> S -> P -> B; B gets
#      the INVITE with its registered contact as Request-URI and P-Asserted-Identity A; the
#      S-CSCF logged the originating case for A and the terminating case for B via B's Path;
#      ACK and BYE follow the Record-Route set (the BYE passed the S-CSCF)
#   2. A calls tel:+15550000002 (B's tel: IMPU): normalised, delivered to B the same way
#   3. B registers a second contact (B2): A's call forks to both; B answers, B2 (ringing) gets
#      CANCEL and answers 487
#   4. A calls subscriber 3 (known, not registered): the S-CSCF sends it to the I-CSCF, whose
#      LIR gives 480; A calls sip:nobody@<domain> (unknown): 404 the same way
#   5. an originating INVITE straight to the S-CSCF asserting an identity not registered there:
#      403; 5b. the same asserting a registered user from outside the S-CSCF's trust domain
#      (scscf.trust_domain, RFC 3325): 403, the request served nowhere
#   6. every daemon stops with exit 0 and no sanitizer report.
# Exit 77 when a tool (sipp, python3, ss) is missing.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
for t in sipp python3 ss; do
    command -v "$t" >/dev/null || { echo "$t not found: skipped"; exit 77; }
done
it_init 18500
D=$REG_DOMAIN
D_RE=${D//./\\.}
A_IP=127.0.1.100
B_IP=127.0.1.101
B2_IP=127.0.1.102
IMPU1=$(reg_impu 1)
IMPU2=$(reg_impu 2)
IMPU3=$(reg_impu 3)
re() { sess_re "$1"; }

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
# The S-CSCF's trust domain (RFC 3325): the lab's nodes (sip.hosts) and A's address, so that
# step 5 reaches the served-user check; step 5b comes from elsewhere.
reg_cfg_put scscf scscf trust_domain true
reg_cfg_put scscf scscf trusted "( \"$A_IP\" )"
reg_lab_start

# register N IP PORT: subscriber N registers from IP:PORT (contact sip:ue@IP:PORT).
register() { sess_register "$@"; }
pick_port_into PA
pick_port_into PB
pick_port_into PB2
register 1 "$A_IP" "$PA"
register 2 "$B_IP" "$PB"

mkdir -p "$IT_WORK/sc"
scenario() { sess_scenario "$@"; }
# The caller: INVITE -> (100, 180) -> 200 -> ACK -> BYE -> 200, in-dialog along the route set.
# -key target URI.
sess_steps_call "$IMPU1" | scenario uac_call
# uac_fail NAME CODE: the INVITE is answered CODE; ACK hop by hop.
uac_fail() { sess_steps_fail "$IMPU1" "$2" | scenario "$1"; }
uac_fail uac_480 480
uac_fail uac_404 404
# orig_direct IMPU: an originating INVITE (Route orig) straight to the S-CSCF asserting IMPU,
# answered 403 (IMPU not registered there, or the sender outside the trust domain).
orig_direct() {
    cat <<EOF
<send retrans="500" start_txn="inv"><![CDATA[

INVITE [target] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
Route: <sip:orig@scscf.$REG_DOMAIN;lr>
P-Asserted-Identity: <$1>
From: <$1>;tag=[pid]X[call_number]
To: <[target]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:ue@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="100" optional="true" response_txn="inv"/>
<recv response="403" response_txn="inv"/>
EOF
    sess_step_ack_fail "$1" branch-3 X
}
orig_direct "$IMPU3" | scenario uac_403_orig
orig_direct "$IMPU1" | scenario uac_403_trust

# The callee at IP:PORT: the INVITE must be for its contact and assert A's identity.
inv_checks() {
    cat <<EOF
<recv request="INVITE" rrs="true"><action>
  <ereg regexp="^INVITE sip:ue@$(re "$1"):$2 SIP/2\\.0" search_in="msg" check_it="true"
    assign_to="rl"/>
  <ereg regexp="P-Asserted-Identity: *&lt;$(re "$IMPU1")&gt;" search_in="msg" check_it="true"
    assign_to="pai"/>
</action></recv>
<Reference variables="rl,pai"/>
EOF
}
# resp CODE [CSEQ]: a response to the last request, echoing the Record-Route set.
resp() {
    cat <<EOF
<send${3:+ $3}><![CDATA[

SIP/2.0 $1 X
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]B[call_number]
[last_Call-ID:]
${2:-[last_CSeq:]}
Contact: <sip:ue@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
EOF
}
{
    inv_checks "$B_IP" "$PB"
    resp 180
    echo '<pause milliseconds="300"/>'
    resp 200 '' 'retrans="500"'
    cat <<'EOF'
<recv request="ACK"/>
<recv request="BYE"/>
<send><![CDATA[

SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
<timewait milliseconds="500"/>
EOF
} | scenario uas_b
{
    inv_checks "$B2_IP" "$PB2"
    resp 180
    echo '<recv request="CANCEL"/>'
    resp 200
    resp 487 'CSeq: 1 INVITE'
    echo '<recv request="ACK"/><timewait milliseconds="500"/>'
} | scenario uas_b2

# uas VAR NAME SCEN IP PORT CALLS: a callee in the background.
uas() { sess_uas "$@"; }
# uac NAME SCEN TARGET [TO]: one call from A (127.0.1.100:$PA) to the P-CSCF (or TO), foreground.
uac() { SESS_TO=${4:-} sess_uac "$1" "$2" "$A_IP" "$PA" 1 "$3"; }
callid() { sess_callid "$1"; }
slog() { grep -F "[$1]" "$REG_DIR/scscf.log"; }

# 1. A calls B
uas UAS_B uas-b uas_b "$B_IP" "$PB" 3
uac call1 uac_call "$IMPU2"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "1. A calls $IMPU2 (INVITE/180/200/ACK/BYE)"
C1=$(callid "$IT_WORK/call1")
slog "$C1" | grep -q "INVITE originating for $IMPU1 to $IMPU2$" ||
    fail "1. no originating case for A at the S-CSCF"
slog "$C1" | grep -q "INVITE terminating for $IMPU2: 1 contact via <sip:term@pcscf\\.$D_RE;lr>" ||
    fail "1. no terminating case for B via its Path"
slog "$C1" | grep -q "BYE forwarded to" || fail "1. the BYE did not pass the S-CSCF"
say "1. S-CSCF: $(slog "$C1" | grep -E 'originating|terminating' | sed 's/.*\] //' | tr '\n' ';')"

# 2. tel: URI of B
uac call2 uac_call "tel:+15550000002"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "2. A calls tel:+15550000002"
C2=$(callid "$IT_WORK/call2")
slog "$C2" | grep -q "INVITE terminating for tel:+15550000002: 1 contact" ||
    fail "2. tel: target not found in the registrations"

# 3. B's second contact: the call forks; B answers, B2 is cancelled
register 2 "$B2_IP" "$PB2"
uas UAS_B2 uas-b2 uas_b2 "$B2_IP" "$PB2" 1
uac call3 uac_call "$IMPU2"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "3. A calls $IMPU2 with two contacts"
C3=$(callid "$IT_WORK/call3")
slog "$C3" | grep -q "INVITE terminating for $IMPU2: 2 contacts (fork)" ||
    fail "3. no fork to both contacts"
wait_sipp "$UAS_B" 15
expect_calls "$IT_WORK/uas-b" "$SIPP_RC" 3 "1-3. B: 3 calls, contact R-URI and P-Asserted-Identity"
wait_sipp "$UAS_B2" 15
expect_calls "$IT_WORK/uas-b2" "$SIPP_RC" 1 "3. B2: forked INVITE, CANCEL, 487"

# 4. not registered, unknown
uac call4 uac_480 "$IMPU3"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "4. A calls $IMPU3 (known, not registered) -> 480"
C4=$(callid "$IT_WORK/call4")
slog "$C4" | grep -q "INVITE to $IMPU3: via the I-CSCF sip:icscf\\.$D_RE" ||
    fail "4. the S-CSCF did not send the INVITE for $IMPU3 to the I-CSCF"
uac call5 uac_404 "sip:nobody@$D"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "4. A calls sip:nobody@$D (unknown) -> 404"
grep -q "LIA 5001 (exp) for sip:nobody@$D: 404" "$REG_DIR/icscf.log" || fail "4. no LIA 5001"

# 5. originating (Route orig) for an identity not registered here -> 403 at the S-CSCF
uac call6 uac_403_orig "$IMPU2" "$REG_S:5060"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "5. originating INVITE asserting $IMPU3 (not registered) -> 403"
C6=$(callid "$IT_WORK/call6")
slog "$C6" | grep -q "no asserted identity registered here: 403" || fail "5. no 403 logged"
slog "$C6" | grep -q "forwarded" && fail "5. the refused INVITE was forwarded"

# 5b. the same from outside the trust domain, asserting a registered user (A): 403, forwarded
# nowhere; inside it this would have been A's call.
pick_port_into PX
SESS_TO="$REG_S:5060" sess_uac call7 uac_403_trust 127.0.1.103 "$PX" 1 "$IMPU2"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "5b. originating INVITE from 127.0.1.103 asserting $IMPU1 -> 403"
C7=$(callid "$IT_WORK/call7")
slog "$C7" | grep -q "originating from 127.0.1.103:$PX, outside the trust domain: 403" ||
    fail "5b. no trust-domain 403 logged"
slog "$C7" | grep -qE "forwarded|originating for" && fail "5b. the untrusted INVITE was served"

# 6. clean stop
assert_alive "${REG_PID[scscf]}"
reg_lab_stop
ok "A -> B through P -> S -> I -> S -> P (sip: and tel: targets, P-Asserted-Identity A, Path as Route," \
    "fork to two contacts with CANCEL of the loser), 480 / 404 via the I-CSCF's LIR," \
    "403 for an originating request from an unregistered identity or from outside the trust domain"
