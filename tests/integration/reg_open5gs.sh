#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Registration against an HSS that answers like open5gs's (ims-hss open5gs_mode = true: a
# first-registration UAA with neither Server-Name nor Server-Capabilities, AKAv1-MD5 only, no
# RTR/PPR), end to end through P-CSCF -> I-CSCF -> S-CSCF (lab configuration on 127.0.1.x,
# lib/reg.sh). The I-CSCF's S-CSCF list names only a dead S-CSCF (127.0.1.31, nothing
# listens) and its default_scscf is the live one: registration succeeds at once (no S-CSCF
# failover delay) only if the I-CSCF takes its configured default. Checked: 5 sipp handsets
# register with IMS AKA in less than the I-CSCF's S-CSCF timeout, ims-hss shows the default
# S-CSCF assigned, and its control socket refuses rtr (open5gs_mode is really on).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 17700
N=5

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
if reg_cfg_has hss open5gs_mode; then reg_cfg_set hss open5gs_mode true
else reg_cfg_add hss "open5gs_mode = true;"; fi
DEAD=sip:scscf-dead.$REG_DOMAIN
reg_cfg_set icscf scscfs "( { uri = \"$DEAD\"; capabilities = [ ]; } )"
grep -qE '^[[:space:]]*hosts[[:space:]]*=[[:space:]]*\(' "$REG_DIR/icscf.cfg" ||
    fail "icscf.cfg: no sip.hosts list on one line"
sed -i -E "0,/^([[:space:]]*hosts[[:space:]]*=[[:space:]]*\\()/s//\\1 \"$(
    )scscf-dead.$REG_DOMAIN=127.0.1.31:5060\",/" "$REG_DIR/icscf.cfg"
reg_cfg_set icscf default_scscf "\"sip:scscf.$REG_DOMAIN\""
reg_cfg_set icscf scscf_timeout_ms 3000
grep -nE 'scscfs|default_scscf|hosts' "$REG_DIR/icscf.cfg" | sed 's/^/    icscf.cfg:/'
reg_lab_start

reg_users_csv "$IT_WORK/users.csv" 71 "$N"
t0=$(date +%s%N)
reg_sipp o5gs reg_aka.xml "$N" 15 -inf "$IT_WORK/users.csv" -r 50 -auth_uri "sip:$REG_DOMAIN"
ms=$((($(date +%s%N) - t0) / 1000000))
reg_expect_ok "$N handsets against an open5gs-like HSS" "$N"
say "$N registrations in $ms ms (a failover from the dead S-CSCF would take 3000 ms)"
[ "$ms" -lt 3000 ] || fail "registrations took $ms ms: the I-CSCF tried the dead S-CSCF first"
# The HSS's debug log dumps every answer: the first-registration UAAs carry neither.
uaas=$(grep -c 'send to icscf[^:]*: UAA .*Experimental-Result-Code=2001' "$REG_DIR/ims-hss.log")
named=$(grep 'send to icscf[^:]*: UAA .*Experimental-Result-Code=2001' "$REG_DIR/ims-hss.log" |
    grep -cE 'Server-Name|Server-Capabilities')
say "ims-hss sent $uaas first-registration UAAs, $named of them with Server-Name/-Capabilities"
[ "$uaas" -ge "$N" ] || fail "want >= $N UAAs with 2001 in the HSS log, got $uaas"
[ "$named" -eq 0 ] || fail "open5gs_mode UAAs named an S-CSCF or capabilities"
for ((i = 71; i < 71 + N; i++)); do
    out=$(reg_hss_show "$i")
    [[ $out == *"state=registered scscf=sip:scscf.$REG_DOMAIN"* ]] ||
        fail "handset $i: ims-hss shows $out"
done
say "ims-hss: $(reg_hss_show 71)"
out=$(reg_hss rtr "$(reg_impi 71)" 1)
say "rtr in open5gs_mode: $out"
[[ $out == error*open5gs* ]] || fail "ims-hss is not in open5gs_mode (rtr answered: $out)"

reg_lab_stop
ok "open5gs-like HSS: $N handsets registered via the I-CSCF's default S-CSCF in $ms ms"
