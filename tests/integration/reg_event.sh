#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# reg-event package (RFC 3680) and network-initiated changes, end to end (P-CSCF -> I-CSCF ->
# S-CSCF, ims-hss; lab configuration on 127.0.1.x, lib/reg.sh). Checked:
#   1. A sipp handset registers with IMS AKA, SUBSCRIBEs to its reg event along the
#      Service-Route, gets 200 and a NOTIFY whose reginfo has state="active" (Subscription-State
#      active) (tests/sipp/reg_event.xml);
#   2. `ims-hss --ctl rtr IMPI 1` (NEW_SERVER_ASSIGNED): the control socket says ok 2001, the
#      handset receives a NOTIFY whose reginfo registration is state="terminated" with a contact
#      event="deactivated", and Subscription-State: terminated; the P-CSCF logs that it drops
#      the handset's registration; ims-hss shows the user not registered;
#   3. `ims-hss --ctl ppr IMPI` for a registered subscriber with iFCs (9002, profile mmtel-as):
#      ok 2001 and the S-CSCF logs the iFC count it now holds.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 17500

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_lab_start
IMPI=$(reg_impi 51)
IMPU=$(reg_impu 51)

# 1. Register and subscribe (in the background: it waits for the terminating NOTIFY).
reg_users_csv "$IT_WORK/u51.csv" 51 1
REG_BG=1 reg_sipp event reg_event.xml 1 40 -inf "$IT_WORK/u51.csv" \
    -auth_uri "sip:$REG_DOMAIN"
SPID=$SIPP_PID
for ((i = 0; i < 200; i++)); do
    grep -q '^NOTIFY ' "$SIPP_TAG.msg" 2>/dev/null && break
    alive "$SPID" || break
    sleep 0.05
done
grep -q '^NOTIFY ' "$SIPP_TAG.msg" 2>/dev/null ||
    fail "no NOTIFY reached the handset within 10 s of its SUBSCRIBE" "" "$SIPP_TAG"
sleep 0.2   # sipp answers the NOTIFY (200), then waits for the next one
alive "$SPID" || fail "the handset's scenario ended early (NOTIFY not active?)" "" "$SIPP_TAG"
st=$(awk '/^NOTIFY /{ n++ } n == 1 && /<registration/' "$SIPP_TAG.msg" | head -1)
say "registered, subscribed; first NOTIFY: $(grep -m1 -i '^Subscription-State:' "$SIPP_TAG.msg")"
say "  ${st## }"
say "ims-hss before RTR: $(reg_hss_show 51)"
PLINES=$(wc -l <"$REG_DIR/pcscf.log")

# 2. RTR from the HSS.
out=$(reg_hss rtr "$IMPI" 1)
say "ims-hss --ctl rtr $IMPI 1: $out"
[[ $out == ok*2001* ]] || fail "RTR not answered with 2001: $out"
wait_sipp "$SPID" 30
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "handset (terminated NOTIFY after RTR)"
awk '/^NOTIFY /{ n++ } n == 2' "$SIPP_TAG.msg" |
    grep -iE '^Subscription-State:|<registration|<contact' | sed 's/^ */    /'
drop=
for ((i = 0; i < 40; i++)); do
    drop=$(tail -n +"$((PLINES + 1))" "$REG_DIR/pcscf.log" | grep -F "$IMPU" |
        grep -iE 'terminat|deregist|de-regist|drop|remov|deactivat' | head -1)
    [ -n "$drop" ] && break
    sleep 0.05
done
say "P-CSCF: ${drop:-<nothing>}"
[ -n "$drop" ] || fail "the P-CSCF logged no de-registration of $IMPU after the RTR"
out=$(reg_hss_show 51)
say "ims-hss after RTR: $out"
[[ $out == *state=not-registered* ]] || fail "ims-hss still has $IMPI registered: $out"

# 3. PPR for a registered subscriber with iFCs.
I2=001010000009002@$REG_DOMAIN
printf 'SEQUENTIAL\n%s;%s;%s;sip:%s;001010000009002\n' "$I2" "$REG_K" "$REG_OP" "$I2" \
    >"$IT_WORK/u9002.csv"
reg_sipp ifcreg reg_aka.xml 1 15 -inf "$IT_WORK/u9002.csv" -auth_uri "sip:$REG_DOMAIN"
reg_expect_ok "subscriber 9002 (iFCs) registers" 1
SLINES=$(wc -l <"$REG_DIR/scscf.log")
out=$(reg_hss ppr "$I2")
say "ims-hss --ctl ppr $I2: $out"
[[ $out == ok*2001* ]] || fail "PPR not answered with 2001: $out"
line=
for ((i = 0; i < 40; i++)); do
    line=$(tail -n +"$((SLINES + 1))" "$REG_DIR/scscf.log" | grep -iE 'ppr|profile' |
        grep -iE '[0-9]+ *ifc|ifcs?[ =:]*[0-9]+' | head -1)
    [ -n "$line" ] && break
    sleep 0.05
done
say "S-CSCF: ${line:-<nothing>}"
[ -n "$line" ] || fail "the S-CSCF logged no iFC count after the PPR"
# config/lab/hss.cfg: profile mmtel-as has 2 iFCs.
grep -qE '(^|[^0-9])2 iFCs' <<<"$line" ||
    fail "the S-CSCF holds other iFCs than profile mmtel-as's 2"

reg_lab_stop
ok "reg-event: NOTIFY active, RTR -> NOTIFY terminated/deactivated + Subscription-State" \
    "terminated, P-CSCF dropped the UE; PPR -> new iFCs at the S-CSCF"
