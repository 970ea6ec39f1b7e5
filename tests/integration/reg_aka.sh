#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# IMS AKA registration end to end: sipp handsets -> P-CSCF -> I-CSCF -> S-CSCF, with ims-hss
# over Cx (the lab configuration moved to 127.0.1.x, see lib/reg.sh). Checked:
#   1. 20 handsets (one socket each) register with IMS AKA: sipp computes RES from K/OP/AMF;
#      every 200 OK carries Service-Route (S-CSCF), P-Associated-URI and Path (P-CSCF)
#      (check_it in tests/sipp/reg_aka.xml, counted again in the message trace); ims-hss
#      `show` names the S-CSCF for each, and logged one SAR REGISTRATION (1) for each.
#   2. One handset re-registers (same Call-ID, higher CSeq) and de-registers (Expires 0):
#      the HSS sees SAR RE_REGISTRATION (2), then USER_DEREGISTRATION (5), and `show` says
#      not-registered.
#   3. One handset registers for 5 s (S-CSCF min_expires lowered to 1 for this) and stays
#      silent: the S-CSCF's timer sends SAR TIMEOUT_DEREGISTRATION (4) within 10 s, and the
#      HSS then shows the user not registered.
# The four daemons stop cleanly (exit 0) at the end.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 17100
N=20

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
# Expiry in seconds: the S-CSCF must accept a 5 s registration in this test.
reg_cfg_put scscf scscf min_expires 1
reg_lab_start
S_URI="sip:scscf.$REG_DOMAIN"

# 1. N handsets register.
reg_users_csv "$IT_WORK/users.csv" 1 "$N"
reg_sipp reg20 reg_aka.xml "$N" 20 -inf "$IT_WORK/users.csv" -key expires 600 -r 20 \
    -auth_uri "sip:$REG_DOMAIN"
reg_expect_ok "$N handsets, IMS AKA" "$N"
n200=$(grep -c '^SIP/2.0 200' "$SIPP_TAG.msg")
for h in Service-Route P-Associated-URI Path; do
    c=$(awk '/^SIP\/2.0 /{ r = ($2 == 200) } r && tolower($0) ~ "^" tolower(h) ":" { n++ }
             END { print n + 0 }' h="$h" "$SIPP_TAG.msg")
    say "200 OKs: $n200, with $h: $c"
    [ "$c" -ge "$N" ] || fail "only $c of the $n200 200 OKs carry $h"
done
# The S-CSCF's 401 carries CK and IK for the P-CSCF (TS 24.229 §5.2.2.1); the P-CSCF must
# take them out before the challenge reaches the UE.
w401=$(grep -ciE '^WWW-Authenticate:.*nonce=' "$SIPP_TAG.msg")
leaks=$(grep -iE '^WWW-Authenticate:' "$SIPP_TAG.msg" | grep -ciE '[ ,](ck|ik)=')
say "401s at the handsets: $w401 challenges, $leaks with ck/ik"
[ "$w401" -ge "$N" ] || fail "only $w401 challenges reached the handsets"
[ "$leaks" -eq 0 ] || fail "$leaks challenges reached the handsets with CK/IK in them"
sed -n '/^SIP\/2.0 200/,/^$/p' "$SIPP_TAG.msg" |
    grep -iE '^(Service-Route|P-Associated-URI|Path):' |
    head -3 | sed 's/^/    e.g. /'
assigned=0
for ((i = 1; i <= N; i++)); do
    out=$(reg_hss_show "$i")
    if [[ $out == *"state=registered scscf=$S_URI"* ]]; then
        assigned=$((assigned + 1))
    else
        say "show $(reg_impi "$i"): $out"
    fi
done
say "ims-hss: $assigned/$N handsets registered with scscf=$S_URI; e.g. $(reg_hss_show 1)"
[ "$assigned" -eq "$N" ] || fail "ims-hss shows only $assigned/$N registered at $S_URI"
sars=0
for ((i = 1; i <= N; i++)); do
    [ "$(reg_sar_count "$(reg_impi "$i")" 1)" -ge 1 ] && sars=$((sars + 1))
done
say "ims-hss: SAR REGISTRATION (type 1) for $sars/$N handsets"
[ "$sars" -eq "$N" ] || fail "SAR REGISTRATION seen for $sars/$N handsets"

# 2. Re-registration and de-registration of handset 21.
IMPI=$(reg_impi 21)
reg_users_csv "$IT_WORK/u21.csv" 21 1
reg_sipp cycle reg_aka_cycle.xml 1 20 -inf "$IT_WORK/u21.csv" -key expires 600 \
    -auth_uri "sip:$REG_DOMAIN"
reg_expect_ok "register, re-register, de-register" 1
reg_wait_sar "$IMPI" 5 1 5 || true
r1=$(reg_sar_count "$IMPI" 1) r2=$(reg_sar_count "$IMPI" 2) r5=$(reg_sar_count "$IMPI" 5)
say "SARs for $IMPI: REGISTRATION $r1, RE_REGISTRATION $r2, USER_DEREGISTRATION $r5"
[ "$r1" -eq 1 ] || fail "want 1 SAR REGISTRATION for $IMPI, got $r1"
[ "$r2" -ge 1 ] || fail "re-registration sent no SAR RE_REGISTRATION (2)"
[ "$r5" -eq 1 ] || fail "de-registration: want 1 SAR USER_DEREGISTRATION (5), got $r5"
out=$(reg_hss_show 21)
say "after de-registration: $out"
[[ $out == *state=not-registered* ]] || fail "ims-hss still has $IMPI registered: $out"

# 3. Expiry of handset 22 (5 s).
IMPI=$(reg_impi 22)
reg_users_csv "$IT_WORK/u22.csv" 22 1
reg_sipp exp5 reg_aka.xml 1 20 -inf "$IT_WORK/u22.csv" -key expires 5 \
    -auth_uri "sip:$REG_DOMAIN"
reg_expect_ok "5 s registration" 1
granted=$(sed -n '/^SIP\/2.0 200/,/^$/p' "$SIPP_TAG.msg" | grep -ioE 'expires=[0-9]+' | head -1)
say "registered for 5 s (200 OK contact $granted); waiting for the S-CSCF's timer"
t0=$(date +%s%N)
reg_wait_sar "$IMPI" 4 1 10 || fail "no SAR TIMEOUT_DEREGISTRATION (4) for $IMPI within 10 s"
out=$(reg_hss_show 22)
say "SAR TIMEOUT_DEREGISTRATION $((($(date +%s%N) - t0) / 1000000)) ms after the 200 OK; $out"
[[ $out == *state=not-registered* ]] || fail "ims-hss still has $IMPI registered: $out"

reg_lab_stop
ok "IMS AKA: $N handsets registered (Service-Route, P-Associated-URI, Path; S-CSCF assigned)," \
    "SAR types 1/2/5/4 for register, re-register, de-register, expiry"
