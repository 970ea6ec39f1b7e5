#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Odd but parseable session requests against the CSCFs of the lib/reg.sh lab (house rule: bad
# input never crashes and never loses state). Subscribers 1 (A, 127.0.1.100) and 2 (B,
# 127.0.1.101) register with IMS AKA; then a table of requests is sent raw over UDP straight to
# the S-CSCF and the I-CSCF, and through the P-CSCF from A's registered address:
#   - originating INVITEs (Route orig) with odd P-Asserted-Identity values: empty <>,
#     unterminated, 40 values, a 3000-byte URI, tel: with letters, tel:+ alone, quoted display
#     names with commas;
#   - INVITEs with an ODI Route token that is too long, not hex, empty, or well-formed unknown;
#   - INVITEs to tel: with phone-context, sip:...;user=phone with odd characters, a Request-URI
#     with 200 parameters;
#   - CANCEL / ACK / BYE / PRACK / UPDATE matching no transaction or dialog;
#   - MESSAGE / OPTIONS / INFO / SUBSCRIBE (Event: reg, garbage Expires).
# Each must get a final response within 2 s of the class the table names (ACK: none), and
# every daemon must still run after each request. Then a normal call A -> B (INVITE/180/200/
# ACK/BYE) must still complete, and every daemon stops with exit 0 and no sanitizer report.
# Every mismatch is listed before the test fails. Exit 77 when a tool is missing.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/reg.sh
. "$(dirname "$0")/lib/reg.sh"
# shellcheck source=lib/session.sh
. "$(dirname "$0")/lib/session.sh"
for t in sipp python3 ss; do
    command -v "$t" >/dev/null || { echo "$t not found: skipped"; exit 77; }
done
it_init 19500
A_IP=127.0.1.100
B_IP=127.0.1.101
IMPU1=$(reg_impu 1)
IMPU2=$(reg_impu 2)

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
reg_lab_start
pick_port_into PA
pick_port_into PB
pick_port_into PX   # the raw sender's port for the S-CSCF and I-CSCF (an unregistered address)
pick_port_into PDEAD  # a UE contact where nothing listens
sess_register 1 "$A_IP" "$PA"
sess_register 2 "$B_IP" "$PB"

# The raw sender: builds each request of the table, sends it from the given address and port,
# waits for its final response (1xx skipped; requests reaching us, e.g. a NOTIFY, get a 200),
# and checks that every daemon still runs. One line per case; exit status: mismatches.
cat >"$IT_WORK/raw.py" <<'PY'
import os, re, socket, sys, time

D, IMPU1, IMPU2, A, PA, PX, B_CONTACT = sys.argv[1:8]
PIDS = dict(a.split("=") for a in sys.argv[8:])
P, I, S = "127.0.1.10", "127.0.1.20", "127.0.1.30"
WAIT, WAIT_DROP = 2.0, 0.5
socks = {}

def sock(ip, port):
    if (ip, port) not in socks:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, int(port)))
        socks[(ip, port)] = s
    return socks[(ip, port)]

def build(n, method, ruri, src, hdrs=(), to_tag=False, cseq=None):
    ip, port = src
    lines = [f"{method} {ruri} SIP/2.0",
             f"Via: SIP/2.0/UDP {ip}:{port};branch=z9hG4bK-smf-{n};rport",
             f"From: <{IMPU1}>;tag=smf-f{n}",
             f"To: <{ruri if ruri.startswith(('sip:', 'tel:')) else IMPU2}>"
             + (f";tag=smf-t{n}" if to_tag else ""),
             f"Call-ID: smf-{n}@{ip}",
             f"CSeq: {cseq or 1} {method}",
             f"Contact: <sip:ue@{ip}:{port}>",
             "Max-Forwards: 70"] + list(hdrs) + ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()

def answer(data, s, peer):
    keep = [h for h in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
            if re.match(rb"(?i)(via|from|to|call-id|cseq)[ \t]*:", h)]
    if not data.startswith(b"ACK "):
        s.sendto(b"\r\n".join([b"SIP/2.0 200 OK"] + keep + [b"Content-Length: 0", b"", b""]),
                 peer)

def exchange(msg, dst, src, wait):
    s = sock(*src)
    cid = re.search(rb"\r\nCall-ID: ([^\r]*)", msg).group(1)
    s.sendto(msg, (dst, 5060))
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "none"
        s.settimeout(left)
        try:
            data, peer = s.recvfrom(70000)
        except socket.timeout:
            return "none"
        if not data.startswith(b"SIP/2.0 "):
            answer(data, s, peer)
            continue
        m = re.search(rb"(?i)\r\n(?:call-id|i)[ \t]*:[ \t]*([^\r]*)", data)
        if not m or m.group(1) != cid:
            continue
        line = data.split(b"\r\n", 1)[0].decode("utf-8", "replace")
        if not line[8:9].isdigit() or line[8] != "1":
            return line[8:]

def matches(got, want):
    code = got.split(" ", 1)[0]
    for alt in want.split("|"):
        if alt == "drop" and got == "none":
            return True
        if alt != "drop" and len(code) == 3 and re.fullmatch(alt.replace("x", "[0-9]"), code):
            return True
    return False

HEX = "0123456789abcdef"
PAIS = {
    "pai-empty": "<>",
    "pai-unterminated": "<sip:a@b",
    "pai-40-values": ", ".join(f"<sip:x{i}@{D}>" for i in range(40)),
    "pai-3000-byte-uri": f"<sip:{'u' * 3000}@{D}>",
    "pai-tel-letters": "<tel:+1555abcdef>",
    "pai-tel-plus-alone": "<tel:+>",
    "pai-display-quotes": f'"Eve, \\"the\\" ,spy" <sip:eve@{D}>, "x,y" <tel:+1>',
}
ODIS = {
    "odi-500-hex": "odi-" + (HEX * 32)[:500],
    "odi-not-hex": "odi-zzzzzzzzzzzzzzzzzzzz",
    "odi-empty": "odi-",
    "odi-unknown": "odi-0123456789abcdef0123",
}
ORIG = f"Route: <sip:orig@scscf.{D};lr>"
NOBODY = f"sip:nobody@{D}"
cases = []  # name, destination, source, method, R-URI, headers, expected, options

def case(name, dst, src, method, ruri, hdrs=(), want="4xx", **kw):
    cases.append((name, dst, src, method, ruri, hdrs, want, kw))

X, UE = (A, PX), (A, PA)
for k, v in PAIS.items():
    # Originating for nobody registered here: 403 (no served user).
    case(f"S {k}", S, X, "INVITE", IMPU2, [ORIG, f"P-Asserted-Identity: {v}"], "403")
    # The same value preferred by the UE: the P-CSCF asserts A's identity instead (or refuses);
    # B is not listening, so the target is nobody: 404 from the I-CSCF's LIR.
    case(f"P {k} (preferred)", P, UE, "INVITE", NOBODY, [f"P-Preferred-Identity: {v}"], "4xx")
case("S pai A behind 3 odd values", S, X, "INVITE", NOBODY,
     [ORIG, f'P-Asserted-Identity: <>, <tel:+>, "a,\\"b" <sip:x@y>, <{IMPU1}>'], "404")
for k, v in ODIS.items():
    case(f"S route {k}", S, X, "INVITE", NOBODY, [f"Route: <sip:{v}@scscf.{D};lr>"],
         "500" if k == "odi-unknown" else "404|480")
odd_targets = {
    "tel phone-context": "tel:+1234;phone-context=ims.example.com",
    "tel letters": "tel:+12ab34;phone-context=+1",
    "user=phone odd chars": f"sip:+1-2.3(4)%41*#@{D};user=phone",
    "200 uri params": NOBODY + "".join(f";p{i}=v{i}" for i in range(200)),
}
for k, v in odd_targets.items():
    case(f"S orig to {k}", S, X, "INVITE", v, [ORIG, f"P-Asserted-Identity: <{IMPU1}>"], "4xx")
    case(f"S term to {k}", S, X, "INVITE", v, [], "4xx")
    case(f"I to {k}", I, X, "INVITE", v, [], "4xx")
    case(f"P from A to {k}", P, UE, "INVITE", v, [], "4xx")
for dst, name, src in ((S, "S", X), (I, "I", X), (P, "P", UE)):
    case(f"{name} CANCEL no txn", dst, src, "CANCEL", IMPU2, [], "481")
    case(f"{name} ACK no txn", dst, src, "ACK", IMPU2, [], "drop", to_tag=True)
    for m in ("BYE", "PRACK", "UPDATE"):
        # To B's IMPU (our own domain, no Route): nowhere to go, 4xx or 500 (§16.7: a 503 of
        # the next hop goes upstream as 500).
        case(f"{name} {m} no dialog", dst, src, m, IMPU2, [], "4xx|500", to_tag=True, cseq=2)
    # A stray BYE to a UE contact on B's address where nothing listens: the P-CSCF must not
    # pass a UE's request outside any dialog straight to another UE (refusal). The S- and
    # I-CSCF forward it by its Request-URI as a proxy does; the ICMP port unreachable is not
    # fed back to the transaction yet, so they answer 408 at Timer F (32 s), not within
    # the 2 s here: "none" is accepted for them ("drop") until that is done.
    case(f"{name} BYE to dead contact no dialog", dst, src, "BYE", B_CONTACT, [],
         "4xx" if name == "P" else "4xx|5xx|drop", to_tag=True, cseq=2)
    case(f"{name} INFO no dialog", dst, src, "INFO", NOBODY, [], "4xx")
for dst, name in ((S, "S"), (I, "I")):
    case(f"{name} MESSAGE to nobody", dst, X, "MESSAGE", NOBODY, [], "404|480")
    case(f"{name} OPTIONS to nobody", dst, X, "OPTIONS", NOBODY, [], "404|480")
    case(f"{name} OPTIONS to itself", dst, X, "OPTIONS",
         f"sip:{'scscf' if dst == S else 'icscf'}.{D}", [], "200")
    for e in ("abc", "-5", "99999999999999999999", ""):
        case(f"{name} SUBSCRIBE reg Expires '{e}' stranger", dst, X, "SUBSCRIBE", IMPU1,
             ["Event: reg", f"Expires: {e}", f"P-Asserted-Identity: <sip:eve@{D}>"], "4xx")
        case(f"{name} SUBSCRIBE reg Expires '{e}' as A", dst, X, "SUBSCRIBE", IMPU1,
             ["Event: reg", f"Expires: {e}", f"P-Asserted-Identity: <{IMPU1}>"], "400|2xx")

bad = 0
for n, (name, dst, src, method, ruri, hdrs, want, kw) in enumerate(cases):
    msg = build(n, method, ruri, src, hdrs, **kw)
    t0 = time.monotonic()
    got = exchange(msg, dst, src, WAIT_DROP if want == "drop" else WAIT)
    ms = int((time.monotonic() - t0) * 1000)
    dead = [d for d, p in PIDS.items() if not os.path.exists(f"/proc/{p}")]
    ok = matches(got, want) and not dead
    bad += not ok
    print(f"  {name:46.46} want {want:8} got {got[:40]:40} {ms:5d} ms"
          + (f"  DEAD: {' '.join(dead)}" if dead else "") + ("" if ok else "  <-- MISMATCH"),
          flush=True)
    if dead:
        break
print(f"{len(cases)} cases, {bad} mismatches", flush=True)
sys.exit(min(bad, 100))
PY
pids=()
for d in pcscf icscf scscf ims-hss; do pids+=("$d=${REG_PID[$d]}"); done
RAW_RC=0
python3 "$IT_WORK/raw.py" "$REG_DOMAIN" "$IMPU1" "$IMPU2" "$A_IP" "$PA" "$PX" \
    "sip:ue@$B_IP:$PDEAD" "${pids[@]}" \
    | tee "$IT_WORK/raw.out" || RAW_RC=$?
for d in pcscf icscf scscf ims-hss; do assert_alive "${REG_PID[$d]}"; done

# After the batch: a normal call A -> B through P -> S -> I -> S -> P still completes.
sess_steps_call "$IMPU1" | sess_scenario uac_call
{
    echo '<recv request="INVITE" rrs="true"/>'
    sess_steps_answer
} | sess_scenario uas_b
sess_uas UAS_B uas-b uas_b "$B_IP" "$PB" 1
SESS_TIMEOUT=15 sess_uac call uac_call "$A_IP" "$PA" 1 "$IMPU2"
expect_calls "$SIPP_TAG" "$SIPP_RC" 1 "A calls B after the batch (INVITE/180/200/ACK/BYE)"
wait_sipp "$UAS_B" 10
expect_calls "$IT_WORK/uas-b" "$SIPP_RC" 1 "B answered the call after the batch"

reg_lab_stop
[ "$RAW_RC" -eq 0 ] || fail "$RAW_RC odd requests were not answered as expected (see MISMATCH)"
ok "$(tail -1 "$IT_WORK/raw.out"): every CSCF answered in time and stayed alive;" \
    "A -> B call completed after the batch; clean exit of all daemons"
