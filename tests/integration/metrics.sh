#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Prometheus metrics and probes of the four daemons (`metrics = { listen = ...; }`), on the
# private lab of lib/reg.sh (127.0.1.x, metrics on port 9101 of each node's address).
# Every /metrics page is parsed with python3-prometheus-client's parser
# (text_string_to_metric_families): a page it rejects fails the test. Checked:
#   1. Before any traffic: /healthz 200 everywhere, /readyz 200 (Cx peers open), the REGISTER
#      counters at 0.
#   2. N handsets register with IMS AKA through P-I-S (sipp, one socket each). Then, exactly:
#      S-CSCF  ims_register_responses_total{code="401"} = N and {code="200"} = N,
#              ims_hss_requests_total{cmd="MAR",result="success"} = N, SAR the same,
#              ims_hss_request_duration_seconds_count{cmd="MAR"} = N (bucket +Inf = N),
#              ims_registrations{state="registered"} = N, ims_diameter_peer_up = 1;
#      I-CSCF  UAR success = 2N (one per REGISTER), no REGISTER answered by itself;
#      P-CSCF  relayed ims_register_responses_total 401 = N, 200 = N; registrations = N;
#      ims-hss ims_hss_events_total mar = N, sar = N, uar = 2N.
#   3. Three unparseable SIP datagrams to the P-CSCF: ims_sip_parse_errors_total + 3.
#   4. Bad HTTP on every metrics port (garbage, an endless head, a body, a flood of idle
#      connections, a half-sent request dropped): each daemon still runs and answers /healthz.
#   5. The HSS stops: /readyz of the S-CSCF and the I-CSCF turns 503 (naming the peer) and
#      ims_diameter_peer_up 0; the HSS restarts: /readyz 200 again once Cx is re-opened.
# The daemons stop cleanly (exit 0, no sanitizer report) at the end.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 19900
N=10
command -v curl >/dev/null || fail "curl not found in PATH"
# Debian's python3-prometheus-client is installed for /usr/bin/python3, which need not be the
# python3 first in PATH (pyenv, venvs).
PY=
for p in python3 /usr/bin/python3; do
    "$p" -c 'import prometheus_client' 2>/dev/null && PY=$p && break
done
[ -n "$PY" ] || fail "python3-prometheus-client missing (scripts/install-deps.sh installs it)"

declare -A MADDR=([pcscf]=$REG_P:9101 [icscf]=$REG_I:9101 [scscf]=$REG_S:9101
    [ims-hss]=$REG_H:9101)
DAEMONS=(ims-hss scscf icscf pcscf)

reg_lab_prepare
for s in pcscf icscf scscf; do reg_section_needed "$s"; done
for d in "${DAEMONS[@]}"; do
    c=${REG_CFG[$d]}
    grep -qE '^metrics *= *\{' "$REG_DIR/$c.cfg" ||
        reg_cfg_add "$c" "metrics = { listen = \"${MADDR[$d]}\"; };"
    grep -q "listen = \"${MADDR[$d]}\"" "$REG_DIR/$c.cfg" ||
        fail "$c.cfg: metrics.listen is not ${MADDR[$d]}"
done

# prom.py FILE NAME [LABEL=VALUE...]: parse FILE as Prometheus text (exit 1 with the parser's
# complaint when it is not), then print the value of sample NAME with exactly those labels
# (exit 3 when absent). With NAME "-" only parse, and print the number of families.
cat >"$IT_WORK/prom.py" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
try:
    fams = list(text_string_to_metric_families(text))
except Exception as e:  # the parser's exceptions are plain ValueErrors and the like
    print("unparseable: %r" % (e,))
    sys.exit(1)
if sys.argv[2] == "-":
    print(len(fams))
    sys.exit(0)
want = dict(a.split("=", 1) for a in sys.argv[3:])
for f in fams:
    for s in f.samples:
        if s.name == sys.argv[2] and s.labels == want:
            print("%.17g" % s.value)
            sys.exit(0)
sys.exit(3)
EOF

# scrape D: fetch D's /metrics into $IT_WORK/D.prom and check that it parses.
scrape() {
    local d=$1 code n
    code=$(curl -sS -m 5 -o "$IT_WORK/$d.prom" -w '%{http_code}' "http://${MADDR[$d]}/metrics") ||
        fail "$d: GET /metrics failed" "${REG_PID[$d]}"
    [ "$code" = 200 ] || fail "$d: GET /metrics answered $code" "${REG_PID[$d]}"
    n=$("$PY" "$IT_WORK/prom.py" "$IT_WORK/$d.prom" -) ||
        fail "$d: /metrics does not parse as Prometheus text: $n"
    say "$d: /metrics parses: $n families, $(wc -c <"$IT_WORK/$d.prom") bytes"
}

# metric D NAME [LABEL=VALUE...]: the value in D's last scrape (integers printed as such).
metric() {
    local d=$1 v
    shift
    v=$("$PY" "$IT_WORK/prom.py" "$IT_WORK/$d.prom" "$@") ||
        fail "$d: no sample $* in /metrics"
    printf '%.0f\n' "$v"
}

# expect D WANT NAME [LABEL=VALUE...]: the sample equals WANT.
expect() {
    local d=$1 want=$2 got
    shift 2
    got=$(metric "$d" "$@")
    say "$d: $* = $got"
    [ "$got" = "$want" ] || fail "$d: $* is $got, want $want"
}

# http_code D PATH: the status code of GET PATH (000 when nothing answered).
http_code() {
    curl -s -m 5 -o /dev/null -w '%{http_code}' "http://${MADDR[$1]}$2" || true
}

# wait_ready D WANT SECONDS: /readyz of D answers WANT within SECONDS.
wait_ready() {
    local d=$1 want=$2 i code=
    for ((i = 0; i < $3 * 5; i++)); do
        code=$(http_code "$d" /readyz)
        [ "$code" = "$want" ] && return 0
        sleep 0.2
    done
    fail "$d: /readyz still $code after $3 s (want $want)" "${REG_PID[$d]}"
}

reg_lab_start

# 1. Probes and counters before traffic.
for d in "${DAEMONS[@]}"; do
    [ "$(http_code "$d" /healthz)" = 200 ] || fail "$d: /healthz is not 200" "${REG_PID[$d]}"
    wait_ready "$d" 200 10
    scrape "$d"
done
say "all four: /healthz 200, /readyz 200"
expect scscf 0 ims_register_responses_total code=200
expect pcscf 0 ims_register_responses_total code=401
expect scscf 1 ims_diameter_peer_up peer="hss.$REG_DOMAIN"

# 2. N handsets register (401 then 200 each).
reg_users_csv "$IT_WORK/users.csv" 1 "$N"
reg_sipp reg reg_aka.xml "$N" 30 -inf "$IT_WORK/users.csv" -key expires 600 -r 20 \
    -auth_uri "sip:$REG_DOMAIN"
reg_expect_ok "$N handsets, IMS AKA" "$N"
n401=$(grep -c '^SIP/2.0 401' "$SIPP_TAG.msg")
n200=$(grep -c '^SIP/2.0 200' "$SIPP_TAG.msg")
say "sipp saw $n401 x 401 and $n200 x 200"
[ "$n401" -eq "$N" ] && [ "$n200" -eq "$N" ] || fail "sipp saw $n401 x 401, $n200 x 200"
for d in "${DAEMONS[@]}"; do scrape "$d"; done
expect scscf "$N" ims_register_responses_total code=401
expect scscf "$N" ims_register_responses_total code=200
expect scscf 0 ims_register_responses_total code=403
expect scscf "$N" ims_hss_requests_total cmd=MAR result=success
expect scscf "$N" ims_hss_requests_total cmd=SAR result=success
expect scscf 0 ims_hss_requests_total cmd=MAR result=timeout
expect scscf "$N" ims_hss_request_duration_seconds_count cmd=MAR
expect scscf "$N" ims_hss_request_duration_seconds_bucket cmd=SAR le=+Inf
expect scscf "$N" ims_registrations state=registered
expect scscf "$N" ims_scscf_events_total event=challenges
expect icscf $((2 * N)) ims_hss_requests_total cmd=UAR result=success
expect icscf $((2 * N)) ims_hss_request_duration_seconds_count cmd=UAR
expect icscf 0 ims_register_responses_total code=500
expect icscf $((2 * N)) ims_icscf_events_total event=forwarded
# The transaction layer's count of final responses sent: the I-CSCF relays each REGISTER's
# 401 and 200 and sees nothing else.
expect icscf "$N" ims_sip_other_outcomes_total class=4xx
expect icscf "$N" ims_sip_other_outcomes_total class=2xx
expect icscf 0 ims_sip_invite_outcomes_total class=2xx
expect pcscf "$N" ims_register_responses_total code=401
expect pcscf "$N" ims_register_responses_total code=200
expect pcscf "$N" ims_registrations state=registered
expect ims-hss "$N" ims_hss_events_total event=mar
expect ims-hss "$N" ims_hss_events_total event=sar
expect ims-hss $((2 * N)) ims_hss_events_total event=uar

# 3. Parse errors at the P-CSCF.
before=$(metric pcscf ims_sip_parse_errors_total)
python3 - "$REG_P" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in (b"NOT SIP AT ALL\r\n\r\n", b"INVITE\r\n\r\n", b"SIP/2.0 abc\r\nVia: \x00\r\n\r\n"):
    s.sendto(m, (sys.argv[1], 5060))
EOF
sleep 0.5
scrape pcscf
expect pcscf $((before + 3)) ims_sip_parse_errors_total

# 4. Bad HTTP on every metrics port.
for d in "${DAEMONS[@]}"; do
    python3 - "${MADDR[$d]}" <<'EOF' || fail "$d: the bad-HTTP client failed"
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
addr = (host, int(port))
def talk(data, shut=False):
    s = socket.create_connection(addr, timeout=5)
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out
r = talk(b"\x00\xff\x16\x03\x01 garbage\r\n\r\n")
assert r.startswith(b"HTTP/1.1 400 "), r[:60]
head = b"GET /metrics HTTP/1.1\r\nX: "
r = talk(head + b"a" * (4096 - len(head)))  # exactly fills the head buffer: no reset
assert r.startswith(b"HTTP/1.1 431 "), r[:60]
r = talk(b"PUT /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
assert r.startswith(b"HTTP/1.1 405 "), r[:60]
r = talk(b"GET /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
assert r.startswith(b"HTTP/1.1 413 "), r[:60]
r = talk(b"GET /x HTTP/1.1\r\n\r\n", shut=True)
assert r.startswith(b"HTTP/1.1 404 "), r[:60]
# more idle connections than the server keeps, and a request cut in the middle
idle = [socket.create_connection(addr, timeout=5) for _ in range(40)]
idle[0].sendall(b"GET /metr")
for s in idle:
    s.close()
time.sleep(0.2)
r = talk(b"GET /healthz HTTP/1.0\r\n\r\n")
assert r.startswith(b"HTTP/1.1 200 ") and r.endswith(b"\r\n\r\nok\n"), r
EOF
    assert_alive "${REG_PID[$d]}"
    [ "$(http_code "$d" /healthz)" = 200 ] || fail "$d: /healthz after bad HTTP" "${REG_PID[$d]}"
done
say "bad HTTP (400, 431, 405, 413, 404, 40 idle connections): all four still answer /healthz"

# 5. Readiness follows the HSS.
stop_proxy "${REG_PID[ims-hss]}"
REG_PID[ims-hss]=
wait_ready scscf 503 15
wait_ready icscf 503 15
why=$(curl -s -m 5 "http://${MADDR[scscf]}/readyz")
say "HSS stopped: S-CSCF and I-CSCF /readyz 503 (\"$why\")"
[[ $why == *"hss.$REG_DOMAIN"* ]] || fail "the 503 does not name the HSS peer: $why"
scrape scscf
expect scscf 0 ims_diameter_peer_up peer="hss.$REG_DOMAIN"
[ "$(http_code scscf /healthz)" = 200 ] || fail "scscf: /healthz is not 200 while not ready"
reg_start ims-hss
wait_ready scscf 200 40
wait_ready icscf 200 40
scrape scscf
expect scscf 1 ims_diameter_peer_up peer="hss.$REG_DOMAIN"
say "HSS back: S-CSCF and I-CSCF /readyz 200"

reg_lab_stop
ok "$N AKA registrations counted exactly at P, I, S and the HSS (401/200, UAR/MAR/SAR," \
    "latency histograms), parse errors, /healthz, /readyz 503 without and 200 with the HSS," \
    "bad HTTP survived"
