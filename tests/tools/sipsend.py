#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Send one file's bytes, unchanged, to a SIP peer and print the status line of any response.

    sipsend.py [-t udp|tcp] [-w SECONDS] [-a] [-b PORT] [-r OLD=NEW]... FILE HOST PORT

The file is sent exactly as stored (malformed test messages must reach the wire byte for byte).
Over UDP the file is one datagram (at most 65507 bytes; larger files are refused with exit 2).
Over TCP we connect, send everything, half-close nothing (a SIP peer may legitimately wait for
more bytes), and read until a complete response (headers + Content-Length body), close or
timeout.

Output: for each response received, its status line ("SIP/2.0 400 Bad Request"), or the line
"NORESPONSE" when none arrived within the wait. Responses whose Call-ID differs from the
one sent (late answers to an earlier message on the same port) are ignored. With -a every
response is printed (e.g. a 100 Trying followed by a final one); without it only the first.
-b binds the local UDP port (so that a peer answering to the Via sent-by port, without rport,
reaches us). -r replaces every occurrence of the bytes OLD by NEW before sending (use equal
lengths to keep Content-Length right), e.g. -r SIP/2.0/UDP=SIP/2.0/TCP to send a UDP test
message over TCP with a matching Via.
Exit status: 0 when something was printed as asked, 2 on local errors (file, connect refused).
"""

import argparse
import re
import select
import socket
import sys
import time

MAX_UDP = 65507


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-t", "--transport", choices=("udp", "tcp"), default="udp")
    p.add_argument("-w", "--wait", type=float, default=1.0,
                   help="seconds to wait for a response (default 1.0)")
    p.add_argument("-a", "--all", action="store_true",
                   help="print every response received within the wait, not only the first")
    p.add_argument("-b", "--bind-port", type=int, default=0,
                   help="local UDP port to send from (default: any)")
    p.add_argument("-r", "--replace", action="append", default=[], metavar="OLD=NEW",
                   help="replace bytes OLD by NEW in the file before sending (repeatable)")
    p.add_argument("file")
    p.add_argument("host")
    p.add_argument("port", type=int)
    return p.parse_args()


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def status_line(data):
    """First line of a datagram or framed message, printable even when the peer sent junk."""
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    return line.decode("utf-8", "replace")


def call_id_of(data):
    """The Call-ID value of a message (long or compact form), or None."""
    m = re.search(rb"(?im)^(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$", data)
    return m.group(1) if m else None


def is_ours(sent_call_id, data):
    if sent_call_id is None:
        return True
    got = call_id_of(data)
    if got is not None and got != sent_call_id:
        print(f"sipsend: ignoring stray response for Call-ID {got!r}", file=sys.stderr)
        return False
    return True


def split_responses(buf):
    """Cut complete SIP messages off the front of a stream buffer (RFC 3261 §18.3 framing).

    Returns (messages, rest). A message without Content-Length counts as having no body, which
    is what a stream peer must assume; keep-alive CRLFs between messages are skipped.
    """
    msgs = []
    while True:
        buf = buf.lstrip(b"\r\n")
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return msgs, buf
        head = buf[:end]
        m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
        clen = int(m.group(1)) if m else 0
        total = end + 4 + clen
        if len(buf) < total:
            return msgs, buf
        msgs.append(buf[:total])
        buf = buf[total:]


def send_udp(data, host, port, wait, want_all, bind_port):
    if len(data) > MAX_UDP:
        print(f"sipsend: {len(data)} bytes do not fit one UDP datagram", file=sys.stderr)
        return None
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
        if bind_port:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::" if family_of(host) == socket.AF_INET6 else "0.0.0.0", bind_port))
        s.connect((host, port))
        s.send(data)
        out = []
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            try:
                pkt = s.recv(70000)
            except ConnectionRefusedError:
                # ICMP port unreachable: nobody listens; that is "no response" for the caller.
                break
            if not is_ours(call_id_of(data), pkt):
                continue
            out.append(status_line(pkt))
            if not want_all:
                break
        return out


def send_tcp(data, host, port, wait, want_all):
    try:
        s = socket.create_connection((host, port), timeout=wait)
    except OSError as e:
        print(f"sipsend: connect {host}:{port}: {e}", file=sys.stderr)
        return None
    out = []
    with s:
        s.settimeout(wait)
        try:
            s.sendall(data)
        except OSError:
            # The peer may close on us mid-send when it rejects the framing; read what it said.
            pass
        buf = b""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            msgs, buf = split_responses(buf)
            out.extend(status_line(m) for m in msgs)
            if out and not want_all:
                break
        if not out and buf.strip():
            # Peer closed after a partial message: still report what it started to say.
            out.append(status_line(buf.lstrip(b"\r\n")))
    return out


def main():
    args = parse_args()
    try:
        with open(args.file, "rb") as f:
            data = f.read()
    except OSError as e:
        print(f"sipsend: {e}", file=sys.stderr)
        return 2
    for rep in args.replace:
        old, sep, new = rep.partition("=")
        if not sep or not old:
            print(f"sipsend: bad -r {rep!r}, want OLD=NEW", file=sys.stderr)
            return 2
        data = data.replace(old.encode(), new.encode())
    if args.transport == "udp":
        out = send_udp(data, args.host, args.port, args.wait, args.all, args.bind_port)
    else:
        out = send_tcp(data, args.host, args.port, args.wait, args.all)
    if out is None:
        return 2
    if not out:
        print("NORESPONSE")
    for line in (out if args.all else out[:1]):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
