#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The S-CSCF alone with ims-hss (no P-/I-CSCF): sipp handsets send REGISTER and SUBSCRIBE
# straight to it. Checks what the end-to-end reg_*.sh tests do not reach:
#   1. a REGISTER without Authorization: IMPI derived from the IMPU, AKA challenge (ck/ik in
#      the 401), 200 OK with Service-Route and P-Associated-URI (the implicit set, tel: too);
#   2. reg-event dialog: SUBSCRIBE -> 200 with Expires shortened to the registration, NOTIFY
#      version 0 active; an in-dialog refresh -> NOTIFY version 1; un-SUBSCRIBE (Expires 0)
#      -> 200 and a final NOTIFY with Subscription-State terminated; the de-registration that
#      follows sends no NOTIFY (the subscription is gone) and gives SAR USER_DEREGISTRATION;
#   3. a NOTIFY answered 481 drops the subscription (RFC 6665; logged), and the user's next
#      re-registration notifies nobody;
#   4. min_expires: a binding asked for 10 s gets 423 with Min-Expires;
#   5. unknown IMPI: MAR 5001 -> 403;
#   6. HSS stopped (SIGSTOP): 500 with Retry-After within the Diameter request timeout; after
#      SIGCONT the next registration succeeds.
. "$(dirname "$0")/lib/common.sh"
it_init 17800

HSS=$(bin ims-hss)
S=$(bin scscf)
pick_port_into DPORT
pick_port_into SPORT
pick_port_into UPORT
STATE=$IT_WORK/state
K=696d73636f72652d6c61622d6b657931
AKA_K=imscore-lab-key1   # sipp takes K and OP as 16 raw octets: the lab's ASCII keys
AKA_OP=imscore-lab-op-1
OP=696d73636f72652d6c61622d6f702d31
cat >"$IT_WORK/hss.cfg" <<EOF
state_dir = "$STATE";
home_domain = "ims.test";
test_redraw_zero_res = true;
sqn = { block = 100; fsync = false; };
diameter = { identity = "hss.ims.test"; realm = "ims.test"; listen = "127.0.0.1"; port = $DPORT;
  peers = ( { host = "scscf.ims.test"; connect = false; } ); };
scscfs = ( { name = "sip:scscf.ims.test:$SPORT"; diameter_host = "scscf.ims.test"; } );
ranges = ( { imsi_from = "001010000000001"; count = 20; tel_prefix = "+1555"; domain = "ims.test";
  k = "$K"; op = "$OP"; amf = "8000"; sqn = 1; password = "secret"; } );
EOF
cat >"$IT_WORK/scscf.cfg" <<EOF
sip = { listen = ( "udp:127.0.0.1:$SPORT" ); aliases = ( "scscf.ims.test" ); };
scscf = { domain = "ims.test"; uri = "sip:scscf.ims.test:$SPORT"; max_expires = 300;
  min_expires = 20; max_sub_expires = 3600; retry_after = 17; };
diameter = { identity = "scscf.ims.test"; realm = "ims.test"; request_timeout_ms = 1500;
  tc_ms = 300; peers = ( { host = "hss.ims.test"; addr = "127.0.0.1"; port = $DPORT; } ); };
EOF

"$HSS" -c "$IT_WORK/hss.cfg" -L debug >"$IT_WORK/hss.log" 2>&1 &
HPID=$!
track "$HPID" ims-hss "$IT_WORK/hss.log"
wait_listen "$HPID" tcp "$DPORT"
"$S" -c "$IT_WORK/scscf.cfg" -L info >"$IT_WORK/scscf.log" 2>&1 &
SPID=$!
track "$SPID" scscf "$IT_WORK/scscf.log"
wait_listen "$SPID" udp "$SPORT"
for ((i = 0; i < 100; i++)); do
    grep -q 'hss.ims.test OPEN' "$IT_WORK/scscf.log" && break
    sleep 0.05
done
grep -q 'hss.ims.test OPEN' "$IT_WORK/scscf.log" || fail "Cx peer not open"
say "ims-hss pid $HPID, scscf pid $SPID on udp 127.0.0.1:$SPORT"

# Scenario pieces. reg N CSEQ EXPIRES: an AKA registration of the CSV user (no Authorization
# in the first REGISTER) ending in 200.
reg() {
    cat <<EOF
<send retrans="500"><![CDATA[
REGISTER sip:ims.test SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@ims.test>;tag=[pid]r[call_number]
To: <sip:[field0]@ims.test>
Call-ID: [call_id]
CSeq: $1 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>;expires=$3
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="401" auth="true">
  <action><ereg regexp="ck=&quot;[0-9a-f]{32}&quot;, ik=&quot;[0-9a-f]{32}&quot;" search_in="hdr"
    header="WWW-Authenticate:" check_it="true" assign_to="ckik$1"/></action>
</recv>
<send retrans="500"><![CDATA[
REGISTER sip:ims.test SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@ims.test>;tag=[pid]r[call_number]
To: <sip:[field0]@ims.test>
Call-ID: [call_id]
CSeq: $2 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>;expires=$3
[authentication username="[field0]@ims.test" aka_K="$AKA_K" aka_OP="$AKA_OP" aka_AMF=0x8000]
Max-Forwards: 70
Content-Length: 0

]]></send>
EOF
}
# sub CSEQ EXPIRES [TOTAG]: a SUBSCRIBE for Event: reg.
sub() {
    local to="<sip:[field0]@ims.test>"
    [ -n "${3:-}" ] && to="$to;tag=[\$totag]"
    cat <<EOF
<send retrans="500"><![CDATA[
SUBSCRIBE ${4:-sip:[field0]@ims.test} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@ims.test>;tag=[pid]s[call_number]
To: $to
Call-ID: [call_id]
CSeq: $1 SUBSCRIBE
Event: reg
Accept: application/reginfo+xml
Contact: <sip:[field0]@[local_ip]:[local_port]>
Expires: $2
Max-Forwards: 70
Content-Length: 0

]]></send>
EOF
}
ok200() {
    cat <<EOF
<send><![CDATA[
SIP/2.0 ${1:-200 OK}
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
EOF
}
notify() {   # notify VAR REGEXP...: a NOTIFY whose message matches every regexp
    local v=$1 i=0
    shift
    echo '<recv request="NOTIFY"><action>'
    for re in "$@"; do
        i=$((i + 1))
        echo "<ereg regexp=\"$re\" search_in=\"msg\" check_it=\"true\" assign_to=\"$v$i\"/>"
    done
    echo '</action></recv>'
}

# 1 + 2: register, subscribe, refresh, unsubscribe, de-register.
{
    echo '<?xml version="1.0" encoding="ISO-8859-1" ?><scenario name="alone">'
    reg 1 2 600000
    cat <<'EOF'
<recv response="200"><action>
  <ereg regexp="Service-Route: &lt;sip:orig@scscf.ims.test:[0-9]+;lr&gt;" search_in="msg"
    check_it="true" assign_to="sr"/>
  <ereg regexp="P-Associated-URI: &lt;sip:[0-9]+@ims.test&gt;, &lt;tel:\+1555[0-9]+&gt;"
    search_in="msg" check_it="true" assign_to="pau"/>
  <ereg regexp="Contact: &lt;[^&gt;]*&gt;;expires=300" search_in="msg" check_it="true"
    assign_to="exp"/>
</action></recv>
EOF
    sub 3 600000
    cat <<'EOF'
<recv response="200"><action>
  <ereg regexp="tag=([0-9a-f]+)" search_in="hdr" header="To:" check_it="true"
    assign_to="tt,totag"/>
  <ereg regexp="Expires: (29[0-9]|300)" search_in="msg" check_it="true" assign_to="sx"/>
</action></recv>
EOF
    notify n1 "Subscription-State: active;expires=[0-9]+" 'version=.0.' \
        'registration aor=.sip:[0-9]+@ims.test. id=.a1. state=.active.' \
        'registration aor=.tel:\+1555[0-9]+.' 'event=.registered.'
    ok200
    sub 4 600 tag
    echo '<recv response="200"/>'
    notify n2 'version=.1.' 'Subscription-State: active'
    ok200
    sub 5 0 tag
    echo '<recv response="200"/>'
    notify n3 'Subscription-State: terminated' 'version=.2.'
    ok200
    reg 6 7 0
    echo '<recv response="200"/>'
    echo '<Reference variables="ckik1,ckik6,sr,pau,exp,tt,sx,n11,n12,n13,n14,n15,n21,n22,n31,n32"/>'
    echo '</scenario>'
} >"$IT_WORK/alone.xml"

# 3: a NOTIFY refused with 481, then a re-registration.
{
    echo '<?xml version="1.0" encoding="ISO-8859-1" ?><scenario name="drop">'
    reg 1 2 600
    echo '<recv response="200"/>'
    sub 3 600
    echo '<recv response="200"/>'
    echo '<recv request="NOTIFY"/>'
    ok200 "481 Subscription Does Not Exist"
    echo '<pause milliseconds="300"/>'
    reg 4 5 600
    echo '<recv response="200"/>'
    # a NOTIFY now would go to a dropped subscriber: one within 700 ms is an unexpected
    # message, which fails the call
    echo '<pause milliseconds="700"/>'
    echo '<Reference variables="ckik1,ckik4"/>'
    echo '</scenario>'
} >"$IT_WORK/drop.xml"

# 4 and 6: a REGISTER that ends in one final response (after the challenge, or before it).
{
    echo '<?xml version="1.0" encoding="ISO-8859-1" ?><scenario name="brief">'
    reg 1 2 10
    echo '<recv response="423"><action><ereg regexp="Min-Expires: 20" search_in="msg"'
    echo '  check_it="true" assign_to="me"/></action></recv>'
    echo '<Reference variables="ckik1,me"/>'
    echo '</scenario>'
} >"$IT_WORK/brief.xml"
one_shot() {   # one_shot NAME CODE: REGISTER without credentials answered CODE at once
    cat <<EOF >"$IT_WORK/$1.xml"
<?xml version="1.0" encoding="ISO-8859-1" ?><scenario name="$1">
<send retrans="500"><![CDATA[
REGISTER sip:ims.test SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@ims.test>;tag=[pid]o[call_number]
To: <sip:[field0]@ims.test>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="$2"><action>$3</action></recv>
$4
</scenario>
EOF
}
one_shot unknown 403 "" ""
one_shot down 500 \
    '<ereg regexp="Retry-After: 17" search_in="msg" check_it="true" assign_to="ra"/>' \
    '<Reference variables="ra"/>'

# run SCENARIO USER [TIMEOUT]: one sipp call as subscriber USER.
run() {
    printf 'SEQUENTIAL\n%s;\n' "$2" >"$IT_WORK/u.csv"
    run_sipp_uac_file "$1" "${3:-20}"
}
run_sipp_uac_file() {
    sipp_common uac "$UPORT"
    (cd "$IT_WORK" && exec timeout -k 5 $(($2 + 10)) sipp -sf "$IT_WORK/$1.xml" -inf u.csv \
        -t u1 -m 1 -timeout "${2}s" -timeout_error -auth_uri ims.test "${SIPP_ARGS[@]}" \
        "127.0.0.1:$SPORT") >"$SIPP_TAG.out" 2>&1
    SIPP_RC=$?
}
sars() { grep -c "SAR 0010100000000$1@ims.test type $2 " "$IT_WORK/hss.log"; }

run alone 001010000000001
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "1+2 register, subscribe, refresh, unsubscribe, de-register"
n=$(grep -c 'reg-event: ' "$IT_WORK/scscf.log")
[ "$(sars 01 1)" = 1 ] && [ "$(sars 01 5)" = 1 ] ||
    fail "SAR types: $(grep 'SAR 001010000000001' "$IT_WORK/hss.log")"
say "SAR REGISTRATION and USER_DEREGISTRATION seen at the HSS; $n reg-event log lines"

run drop 001010000000002
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "3 NOTIFY 481 drops the subscription"
grep -q 'NOTIFY to .* failed (481): subscription dropped' "$IT_WORK/scscf.log" ||
    fail "no 'subscription dropped' in the S-CSCF log"
[ "$(sars 02 2)" = 1 ] || fail "re-registration: no SAR RE_REGISTRATION"
say "$(grep -m1 'subscription dropped' "$IT_WORK/scscf.log" | sed 's/^.*reg-event: //')"

run brief 001010000000003
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "4 expires 10 < min_expires 20: 423"

run unknown 001010000009999
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "5 unknown IMPI: 403"

kill -STOP "$HPID"
t0=$(date +%s%N)
run down 001010000000004
ms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$HPID"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "6 HSS stopped: 500 + Retry-After after $ms ms"
[ "$ms" -lt 3500 ] || fail "500 after $ms ms (request timeout 1500 ms)"
run drop 001010000000005
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "6 HSS back: registration"

stop_proxy "$SPID"
stop_proxy "$HPID"
ok "S-CSCF alone: derived IMPI + AKA, reg-event refresh/unsubscribe/NOTIFY failure," \
    "423, 403 unknown, 500 + Retry-After with the HSS stopped, recovery"
