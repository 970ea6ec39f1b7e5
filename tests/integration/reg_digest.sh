#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# SIP Digest (MD5) registration end to end through P-CSCF -> I-CSCF -> S-CSCF (lab
# configuration on 127.0.1.x, lib/reg.sh). The lab's digest-only subscriber
# bob@ims.mnc001.mcc001.3gppnetwork.org (password "secret", no AKA keys) registers with sipp:
# the 401 offers algorithm=MD5 (the scheme the HSS answered for bob, not AKA), the 200 OK
# carries Service-Route, P-Associated-URI and Path, ims-hss shows the S-CSCF assigned and saw a
# SAR REGISTRATION; a wrong password gets no 200 (401 again or 403).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 17200

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_lab_start
IMPI=bob@$REG_DOMAIN

printf 'SEQUENTIAL\n%s;secret;sip:%s;bob\n' "$IMPI" "$IMPI" >"$IT_WORK/bob.csv"
reg_sipp digest reg_digest.xml 1 15 -inf "$IT_WORK/bob.csv" -key expires 600 \
    -auth_uri "sip:$REG_DOMAIN"
reg_expect_ok "bob, MD5 digest" 1
www=$(grep -m1 -i '^WWW-Authenticate:' "$SIPP_TAG.msg")
say "challenge: $www"
[[ $www == *AKAv1* ]] && fail "bob (digest only) was offered AKA"
sed -n '/^SIP\/2.0 200/,/^$/p' "$SIPP_TAG.msg" |
    grep -iE '^(Service-Route|P-Associated-URI|Path):' |
    sed 's/^/    /'
out=$(reg_hss_show "$IMPI")
say "ims-hss: $out; SAR REGISTRATION: $(reg_sar_count "$IMPI" 1)"
[[ $out == *"state=registered scscf=sip:scscf.$REG_DOMAIN"* ]] || fail "S-CSCF not assigned: $out"
[ "$(reg_sar_count "$IMPI" 1)" -ge 1 ] || fail "no SAR REGISTRATION for $IMPI"

# A wrong password never gets a 200: the scenario then fails (401 again / 403).
printf 'SEQUENTIAL\n%s;wrong;sip:%s;bob\n' "$IMPI" "$IMPI" >"$IT_WORK/bad.csv"
reg_sipp digestbad reg_digest.xml 1 10 -inf "$IT_WORK/bad.csv" -key expires 600 \
    -auth_uri "sip:$REG_DOMAIN"
last=$(grep -E '^SIP/2.0 [0-9]{3}' "$SIPP_TAG.msg" | tail -1)
say "wrong password: sipp exit $SIPP_RC, last response: $last"
[ "$SIPP_RC" -ne 0 ] || fail "a wrong digest password was accepted"
[[ $last == *" 200 "* ]] && fail "a wrong digest password got a 200"
[[ $last =~ \ (401|403)\  ]] || fail "wrong password: want 401 or 403, got: $last"

reg_lab_stop
ok "SIP Digest: bob registered through P/I/S (Service-Route, P-Associated-URI, Path)," \
    "S-CSCF assigned at the HSS; wrong password refused"
