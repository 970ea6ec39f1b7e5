#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Regenerate tests/corpus/malformed/*.sip and its EXPECT manifest.

The files are committed; this script documents how each was made and rewrites them all
(byte-exact, deterministic) when run:  tests/tools/gen_malformed_corpus.py [OUTDIR]

Conventions every message follows, so that tests/integration/malformed.sh can use them as is:
- Requests target sip:bob@127.0.0.1:16391, where malformed.sh runs a sink that records
  whatever reaches it: a request the proxy forwards is seen there ("fwd"), never confused
  with one it dropped, and never reaches a real service.
- The top Via is "SIP/2.0/UDP 127.0.0.1:16390;branch=z9hG4bK-mal-<name>;rport": malformed.sh
  sends from UDP port 16390, so the answer reaches it with or without rport; for TCP it rewrites
  "SIP/2.0/UDP" and "z9hG4bK-mal-" to same-length TCP variants (new branch, no transaction
  collision with the UDP run).
- Non-INVITE methods, so that no 100 Trying comes before the verdict.

EXPECT lines: <file> <expect> [<expect-tcp>]. <expect> is one or more alternatives joined by
'|': a 3-digit status code the element must answer with (and a non-empty reason phrase),
"drop" (no answer within the wait and nothing forwarded), "fwd" (forwarded to the sink), or
"skip" (not sent over that transport, e.g. too large for one UDP datagram). With one column,
the same expectation holds for UDP and TCP. Lines starting with '#' are comments.
"""

import os
import random
import sys

CRLF = b"\r\n"
RURI = b"sip:bob@127.0.0.1:16391"


def via(name):
    return b"Via: SIP/2.0/UDP 127.0.0.1:16390;branch=z9hG4bK-mal-" + name.encode() + b";rport"


def headers(name, method=b"OPTIONS", skip=(), extra=(), replace=None):
    """A well-formed header list for request `name`, minus the names in skip, with replacements
    (name -> full header line or list of lines) and extra lines appended before Content-Length."""
    base = [
        (b"via", via(name)),
        (b"max-forwards", b"Max-Forwards: 70"),
        (b"from", b"From: \"Alice\" <sip:alice@127.0.0.1>;tag=mal-" + name.encode()),
        (b"to", b"To: <sip:bob@127.0.0.1>"),
        (b"call-id", b"Call-ID: mal-" + name.encode() + b"@127.0.0.1"),
        (b"cseq", b"CSeq: 1 " + method),
    ]
    replace = replace or {}
    out = []
    for key, line in base:
        if key in skip:
            continue
        rep = replace.get(key, line)
        out.extend(rep if isinstance(rep, list) else [rep])
    out.extend(extra)
    return out


def request(name, method=b"OPTIONS", start=None, skip=(), extra=(), replace=None, body=b"",
            clen=None, eol=CRLF, blank=True):
    start = start if start is not None else method + b" " + RURI + b" SIP/2.0"
    lines = [start] + headers(name, method, skip, extra, replace)
    if clen is not False:
        lines.append(b"Content-Length: " + (str(len(body)).encode() if clen is None else clen))
    msg = eol.join(lines) + eol
    if blank:
        msg += eol + body
    return msg


def response(status_line, name, top_via=None):
    lines = [status_line,
             top_via or b"Via: SIP/2.0/UDP 127.0.0.1:16390;branch=z9hG4bK-mal-" + name.encode(),
             b"From: <sip:alice@127.0.0.1>;tag=mal-" + name.encode(),
             b"To: <sip:bob@127.0.0.1>;tag=x",
             b"Call-ID: mal-" + name.encode() + b"@127.0.0.1",
             b"CSeq: 1 OPTIONS",
             b"Content-Length: 0"]
    return CRLF.join(lines) + CRLF + CRLF


def corpus():
    """Yield (file name, bytes, expect-udp, expect-tcp or None, comment)."""
    c = []

    def add(name, data, exp, exp_tcp=None, why=""):
        c.append((name + ".sip", data, exp, exp_tcp, why))

    # --- Via: without a usable Via no response can be routed (RFC 3261 18.2.2) ---
    add("no_via", request("no_via", skip=(b"via",)), "drop",
        why="no Via: nowhere to send a response")
    add("via_garbage", request("via_garbage", replace={b"via": b"Via: %%garbage;;;==,,"}),
        "400|drop", why="unparseable Via without branch")
    add("via_bad_port", request("via_bad_port", replace={
        b"via": b"Via: SIP/2.0/UDP 127.0.0.1:99999;branch=z9hG4bK-mal-via_bad_port;rport"}),
        "400|drop", why="sent-by port out of range")
    add("via_ipv6_unclosed", request("via_ipv6_unclosed", replace={
        b"via": b"Via: SIP/2.0/UDP [::1;branch=z9hG4bK-mal-via_ipv6_unclosed;rport"}),
        "400|drop", why="IPv6 reference without ]")
    add("via_4000", request("via_4000", extra=[
        b"Via: " + b",".join([b"SIP/2.0/UDP h"] * 3999)]),
        "400|513|drop", why="4000 Via values in one header (fits a datagram)")
    add("via_4000_lines", request("via_4000_lines", extra=[
        b"Via: SIP/2.0/UDP 10.0.0.%d:5060;branch=z9hG4bK%d" % (i % 250 + 1, i)
        for i in range(3999)]),
        "skip", "400|513|drop", why="4000 Via lines, 180 KB: stream framing must be bounded")

    # --- CSeq ---
    add("cseq_non_numeric", request("cseq_non_numeric", replace={b"cseq": b"CSeq: abc OPTIONS"}),
        "400|drop", why="unusable CSeq: a response could not echo a valid one")
    add("cseq_method_mismatch", request("cseq_method_mismatch",
                                        replace={b"cseq": b"CSeq: 1 INVITE"}),
        "400", why="CSeq method must equal the request method (RFC 3261 8.1.1.5)")
    add("cseq_missing", request("cseq_missing", skip=(b"cseq",)), "400|drop",
        why="no CSeq to echo: 400 or silence")
    add("cseq_negative", request("cseq_negative", replace={b"cseq": b"CSeq: -1 OPTIONS"}),
        "400|drop")
    add("cseq_too_big", request("cseq_too_big",
                                replace={b"cseq": b"CSeq: 99999999999999999999 OPTIONS"}),
        "400|drop", why="CSeq number must be < 2**31")
    add("cseq_no_method", request("cseq_no_method", replace={b"cseq": b"CSeq: 1"}), "400|drop")

    # --- Content-Length ---
    add("clen_duplicate", request("clen_duplicate", body=b"hello",
                                  extra=[b"Content-Length: 0"]),
        "400", "400|drop", why="two Content-Length values, 0 and 5")
    add("clen_larger_than_body", request("clen_larger_than_body", body=b"0123456789",
                                         clen=b"100"),
        "400", "drop", why="UDP: 400 (RFC 3261 18.3); TCP: waits for the rest of the body")
    add("clen_negative", request("clen_negative", clen=b"-5"), "400", "400|drop")
    add("clen_non_numeric", request("clen_non_numeric", clen=b"five"), "400", "400|drop")
    add("clen_huge", request("clen_huge", clen=b"99999999999999999999"), "400|513", "400|513|drop",
        why="a stream peer must not wait for or allocate this")

    # --- Sizes ---
    add("header_64k", request("header_64k", extra=[b"X-Long: " + b"a" * 65536]),
        "skip", "400|513|drop", why="one 64 KiB header line: too large for UDP")
    add("header_60k", request("header_60k", extra=[b"X-Long: " + b"a" * 61440]),
        "400|513|drop", why="60 KiB header line in one datagram")
    add("headers_300", request("headers_300",
                               extra=[b"X-H-%d: value-%d" % (i, i) for i in range(300)]),
        "400|513|drop", why="300 headers")
    add("ruri_16k", request("ruri_16k",
                            start=b"OPTIONS sip:" + b"b" * 16384 + b"@127.0.0.1:16391 SIP/2.0"),
        "400|414|513|drop", why="16 KiB Request-URI")

    # --- Bytes that have no place in SIP ---
    add("nul_in_header", request("nul_in_header", extra=[b"Subject: abc\x00def"]), "400|drop")
    add("nul_in_start_line", request("nul_in_start_line",
                                     start=b"OPT\x00IONS " + RURI + b" SIP/2.0"), "400|drop")
    add("nul_in_call_id", request("nul_in_call_id",
                                  replace={b"call-id": b"Call-ID: mal-\x00@127.0.0.1"}),
        "400|drop")
    add("bad_utf8_display_name", request("bad_utf8_display_name", replace={
        b"from": b"From: \"\xff\xfe\xc3\x28\xed\xa0\x80\" <sip:alice@127.0.0.1>;tag=mal-u"}),
        "400|drop", why="invalid UTF-8 in a quoted display name")
    add("empty", b"", "drop")
    add("only_crlfs", b"\r\n" * 8, "drop", why="keep-alives, never answered with a status")
    rnd = random.Random(20240601)
    garbage = bytes(rnd.getrandbits(8) for _ in range(512))
    add("binary_garbage", b"\x80" + garbage, "drop")
    add("http_request", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "drop|400",
        why="not SIP at all")

    # --- Request line ---
    add("start_line_4_parts", request("start_line_4_parts",
                                      start=b"OPTIONS " + RURI + b" SIP/2.0 extra"), "400")
    add("start_line_2_parts", request("start_line_2_parts", start=b"OPTIONS " + RURI),
        "400|drop")
    add("bad_sip_version", request("bad_sip_version", start=b"OPTIONS " + RURI + b" SIP/3.0"),
        "505|400", why="RFC 3261 21.5.6: 505 Version Not Supported")
    add("bad_method_chars", request("bad_method_chars", method=b"OPT<>IONS"), "400")
    add("bad_ruri_scheme", request("bad_ruri_scheme",
                                   start=b"OPTIONS xyz:bob@127.0.0.1:16391 SIP/2.0"),
        "416|400", why="unknown scheme: 416 (RFC 3261 16.3 step 2)")
    add("bad_ruri_garbage", request("bad_ruri_garbage", start=b"OPTIONS <<@@>> SIP/2.0"), "400")

    # --- Mandatory headers (RFC 3261 8.1.1) ---
    # A response copies From, To, Call-ID and CSeq (RFC 3261 8.2.6.2): without them, 400 or
    # silence; with them present but broken, a 400 is due.
    add("missing_from", request("missing_from", skip=(b"from",)), "400|drop")
    add("missing_to", request("missing_to", skip=(b"to",)), "400|drop")
    add("missing_call_id", request("missing_call_id", skip=(b"call-id",)), "400|drop")
    add("empty_call_id", request("empty_call_id", replace={b"call-id": b"Call-ID: "}),
        "400|drop")
    add("duplicate_call_id", request("duplicate_call_id",
                                     extra=[b"Call-ID: another-one@127.0.0.1"]), "400")
    add("bad_uri_in_to", request("bad_uri_in_to", replace={b"to": b"To: <sip:@@@:::>"}), "400")
    add("bad_uri_in_from", request("bad_uri_in_from",
                                   replace={b"from": b"From: <sip:al ice@[x>;tag=1"}), "400")
    add("from_unterminated_quote", request("from_unterminated_quote", replace={
        b"from": b"From: \"Alice <sip:alice@127.0.0.1>;tag=mal-q"}), "400")

    # --- Max-Forwards (RFC 3261 20.22: 0-255; 16.3 step 3) ---
    add("max_forwards_non_numeric", request("max_forwards_non_numeric",
                                            replace={b"max-forwards": b"Max-Forwards: abc"}),
        "400")
    add("max_forwards_300", request("max_forwards_300",
                                    replace={b"max-forwards": b"Max-Forwards: 300"}), "400")
    add("max_forwards_zero", request("max_forwards_zero", method=b"MESSAGE",
                                     replace={b"max-forwards": b"Max-Forwards: 0"}),
        "483", why="well-formed, but out of hops: 483 Too Many Hops")

    # --- Header syntax ---
    add("header_without_colon", request("header_without_colon",
                                        extra=[b"Subject this has no colon"]), "400")
    add("continuation_first", request("continuation_first", start=b"OPTIONS " + RURI +
                                      b" SIP/2.0\r\n  folded-without-header"), "400")
    add("truncated_no_blank_line", request("truncated_no_blank_line", blank=False),
        "400|drop", "drop", why="ends after a header line; TCP: waits for the rest")
    add("bare_lf", request("bare_lf", eol=b"\n"), "400|drop|fwd",
        why="LF line ends: rejected, or tolerated and forwarded")

    # --- Responses: never answered (RFC 3261 16.7 / 18.1.2) ---
    add("response_bad_status", response(b"SIP/2.0 99999 Weird", "response_bad_status"), "drop")
    add("response_status_alpha", response(b"SIP/2.0 2x0 OK", "response_status_alpha"), "drop")
    add("response_status_700", response(b"SIP/2.0 700 Beyond", "response_status_700"), "drop")
    add("response_no_via", CRLF.join([b"SIP/2.0 200 OK", b"From: <sip:a@b>;tag=1",
                                      b"To: <sip:c@d>;tag=2", b"Call-ID: mal-rnv",
                                      b"CSeq: 1 OPTIONS", b"Content-Length: 0"]) + CRLF + CRLF,
        "drop")
    add("response_foreign_via", response(b"SIP/2.0 200 OK", "response_foreign_via"), "drop",
        why="top Via is not the proxy's: discard")
    return c


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "corpus", "malformed")
    os.makedirs(out, exist_ok=True)
    manifest = ["# Generated by tests/tools/gen_malformed_corpus.py (its header gives the format).",
                "# <file> <expect> [<expect-tcp>]: status code(s) and/or drop|skip, '|' = any of."]
    for name, data, exp, exp_tcp, why in corpus():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        line = f"{name} {exp}" + (f" {exp_tcp}" if exp_tcp else "")
        if why:
            line = f"{line:<48} # {why}"
        manifest.append(line)
    with open(os.path.join(out, "EXPECT"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    print(f"{len(manifest) - 2} files in {out}")


if __name__ == "__main__":
    main()
