#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A minimal IMS AKA handset for the registration tests: what sipp cannot do.

Speaks SIP over UDP from one socket (one UE for the P-CSCF), runs Milenage (TS 35.206) in
Python with AES-128 from the `cryptography` package when present, else `openssl enc`, and
prints one line per event so that shell tests can assert on it:
    sent REGISTER cseq=N [auts] [res=wrong] [mac-failure] [pai=...]
    recv CODE [sqn=N] [retry-after=N]
    sqn out of range: SQN_HE N <= SQN_MS M: sending AUTS
    result CODE
Exit status 0 when the registration ends as --expect says (default 200), 1 otherwise.

Modes: --sqn-ms N makes the UE's stored SQN N, so a challenge with SQN <= N is refused with
AUTS (resynchronisation, TS 33.102 6.3.5) and the digest computed with an empty password
(RFC 3310 3.4); --wrong-res answers every challenge with a spoiled RES; --pai adds a forged
P-Asserted-Identity and P-Preferred-Identity to every REGISTER (--pani a P-Access-Network-Info,
e.g. "3GPP-NR-FDD; nrcgi=001010000000001"); --wrong-k makes the UE's K
differ from --k (its last octet flipped), so the network's AUTN fails the MAC check (TS 33.102
6.3.3) and the UE answers as TS 24.229 5.1.1.5.3 says: a REGISTER whose Authorization carries
the challenge's nonce with an empty response and no auts (without --wrong-k a MAC failure ends
the run).
"""
import argparse
import base64
import hashlib
import os
import random
import re
import socket
import subprocess
import sys
import time

try:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    def aes(k, x):
        e = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
        return e.update(x) + e.finalize()
except ImportError:
    def aes(k, x):
        return subprocess.run(["openssl", "enc", "-aes-128-ecb", "-nopad", "-K", k.hex()],
                              input=x, capture_output=True, check=True).stdout


def xor(a, b):
    return bytes(i ^ j for i, j in zip(a, b))


def rot(x, bits):
    return x[bits // 8:] + x[:bits // 8]


def milenage(k, op, rand, sqn, amf):
    """f1, f1*, f2..f5, f5* of TS 35.206 (r1..r5 = 64, 0, 32, 64, 96; c1..c5 = 0, 1, 2, 4, 8)."""
    opc = xor(aes(k, op), op)
    temp = aes(k, xor(rand, opc))
    out1 = xor(aes(k, xor(temp, rot(xor(sqn + amf + sqn + amf, opc), 64))), opc)

    def out(r, c):
        return xor(aes(k, xor(rot(xor(temp, opc), r), bytes(15) + bytes([c]))), opc)
    o2, o5 = out(0, 1), out(96, 8)
    return dict(mac_a=out1[:8], mac_s=out1[8:], res=o2[8:], ak=o2[:6], ck=out(32, 2),
                ik=out(64, 4), ak_star=o5[:6])


def selftest(path):
    import json
    t = json.load(open(path))["test_sets"][0]
    m = milenage(*(bytes.fromhex(t[x]) for x in ("k", "op", "rand", "sqn", "amf")))
    for ours, theirs in (("mac_a", "f1_mac_a"), ("mac_s", "f1star_mac_s"), ("res", "f2_res"),
                         ("ck", "f3_ck"), ("ik", "f4_ik"), ("ak", "f5_ak"),
                         ("ak_star", "f5star_ak_star")):
        if m[ours].hex() != t[theirs]:
            sys.exit("milenage self-test failed on %s" % theirs)


def md5(s):
    return hashlib.md5(s).hexdigest()


def key(s):
    """A key given as 32 hex digits or as 16 raw characters (sipp style)."""
    return bytes.fromhex(s) if len(s) == 32 else s.encode()


class UE:
    def __init__(self, a):
        self.a = a
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((a.local, a.port))
        self.lport = self.sock.getsockname()[1]
        host, port = a.pcscf.rsplit(":", 1)
        self.dst = (host, int(port))
        self.call_id = "%x@aka-ue" % random.getrandbits(64)
        self.tag = "%x" % random.getrandbits(32)
        self.cseq = 0
        self.sqn_ms = a.sqn_ms

    def register(self, auth):
        self.cseq += 1
        branch = "z9hG4bK%x" % random.getrandbits(48)
        d = self.a.domain
        extra = ""
        if self.a.pai:
            extra = "P-Asserted-Identity: <%s>\r\nP-Preferred-Identity: <%s>\r\n" % (
                self.a.pai, self.a.pai)
        if self.a.pani:
            extra += "P-Access-Network-Info: %s\r\n" % self.a.pani
        msg = ("REGISTER sip:%s SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <%s>;tag=%s\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\n"
               "Contact: <sip:ue@%s:%d>;expires=%d\r\nExpires: %d\r\n"
               "%s\r\n%sSupported: path\r\nContent-Length: 0\r\n\r\n") % (
            d, self.a.local, self.lport, branch, self.a.impu, self.tag, self.a.impu,
            self.call_id, self.cseq, self.a.local, self.lport, self.a.expires,
            self.a.expires, auth, extra)
        return self.transact(msg.encode())

    def transact(self, data):
        """Send (retransmitting like timer E) and return the first final response."""
        deadline = time.time() + self.a.timeout
        wait, sent = 0.5, 0.0
        while time.time() < deadline:
            if time.time() >= sent + wait:
                self.sock.sendto(data, self.dst)
                sent, wait = time.time(), min(wait * 2, 4.0)
            self.sock.settimeout(max(0.05, min(sent + wait, deadline) - time.time()))
            try:
                pkt = self.sock.recv(65535).decode("utf-8", "replace")
            except socket.timeout:
                continue
            m = re.match(r"SIP/2\.0 (\d{3})", pkt)
            if not m:
                continue  # a request to the UE (NOTIFY...): not ours to answer here
            cs = re.search(r"^CSeq:\s*(\d+)", pkt, re.M | re.I)
            if not cs or int(cs.group(1)) != self.cseq:
                continue
            code = int(m.group(1))
            if code >= 200:
                return code, pkt
            wait = 4.0  # provisional: only timer E's T2 pacing from now on
        return 0, ""

    def respond(self, www, res=None, auts=None):
        p = dict(re.findall(r'(\w+)="?([^",]*)"?', www))
        realm, nonce = p.get("realm", self.a.domain), p.get("nonce", "")
        uri = "sip:%s" % self.a.domain
        cnonce, nc = "%08x" % random.getrandbits(32), "00000001"
        pw = res if res is not None else b""
        ha1 = md5(self.a.impi.encode() + b":" + realm.encode() + b":" + pw)
        ha2 = md5(("REGISTER:%s" % uri).encode())
        resp = md5(("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2)).encode())
        h = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
             'response="%s", algorithm=AKAv1-MD5, qop=auth, nc=%s, cnonce="%s"') % (
            self.a.impi, realm, nonce, uri, resp, nc, cnonce)
        if auts is not None:
            h += ', auts="%s"' % base64.b64encode(auts).decode()
        return h

    def mac_failure(self, www):
        """24.229 5.1.1.5.3: the challenge deemed invalid: its nonce, an empty response, no auts."""
        p = dict(re.findall(r'(\w+)="?([^",]*)"?', www))
        return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="sip:%s", '
                'response="", algorithm=AKAv1-MD5') % (
            self.a.impi, p.get("realm", self.a.domain), p.get("nonce", ""), self.a.domain)

    def challenge(self, www):
        """RES for a 401's nonce, or (None, AUTS) when the SQN is not fresh."""
        p = dict(re.findall(r'(\w+)="?([^",]*)"?', www))
        raw = base64.b64decode(p["nonce"] + "=" * (-len(p["nonce"]) % 4))
        rand, autn = raw[:16], raw[16:32]
        k, op = key(self.a.k), key(self.a.op)
        if self.a.wrong_k:
            k = k[:-1] + bytes([k[-1] ^ 0x01])
        m = milenage(k, op, rand, bytes(6), autn[6:8])
        sqn_b = xor(autn[:6], m["ak"])
        sqn = int.from_bytes(sqn_b, "big")
        m = milenage(k, op, rand, sqn_b, autn[6:8])
        if m["mac_a"] != autn[8:16]:
            print("MAC-A check failed", flush=True)
            return sqn, None, None
        if self.sqn_ms is not None and sqn <= self.sqn_ms:
            print("sqn out of range: SQN_HE %d <= SQN_MS %d: sending AUTS" % (sqn, self.sqn_ms),
                  flush=True)
            sms = self.sqn_ms.to_bytes(6, "big")
            ms = milenage(k, op, rand, sms, b"\0\0")
            return sqn, None, xor(sms, ms["ak_star"]) + ms["mac_s"]
        self.sqn_ms = sqn if self.sqn_ms is None else max(sqn, self.sqn_ms)
        res = m["res"]
        if self.a.wrong_res:
            res = bytes([res[0] ^ 0xff]) + res[1:]
        return sqn, res, None

    def run(self):
        empty = ('Authorization: Digest username="%s", realm="%s", uri="sip:%s", nonce="", '
                 'response=""') % (self.a.impi, self.a.domain, self.a.domain)
        auth, note = empty, ""
        for _ in range(self.a.max_rounds):
            print("sent REGISTER cseq=%d%s%s" % (
                self.cseq + 1, note, " pai=%s" % self.a.pai if self.a.pai else ""), flush=True)
            code, pkt = self.register(auth)
            if code == 0:
                print("result timeout", flush=True)
                return 1
            ra = re.search(r"^Retry-After:\s*(\d+)", pkt, re.M | re.I)
            if code != 401:
                print("recv %d%s" % (code, " retry-after=%s" % ra.group(1) if ra else ""),
                      flush=True)
                for h in ("Service-Route", "P-Associated-URI", "Path"):
                    for v in re.findall(r"^%s:\s*(.*?)\r?$" % h, pkt, re.M | re.I):
                        print("  %s: %s" % (h, v), flush=True)
                print("result %d" % code, flush=True)
                return 0 if code == self.a.expect else 1
            www = re.search(r"^WWW-Authenticate:\s*(.*?)\r?$", pkt, re.M | re.I)
            if not www:
                print("recv 401 without WWW-Authenticate", flush=True)
                return 1
            sqn, res, auts = self.challenge(www.group(1))
            print("recv 401 sqn=%d" % sqn, flush=True)
            if res is None and auts is None and self.a.wrong_k:
                auth, note = self.mac_failure(www.group(1)), " mac-failure"
                continue
            if res is None and auts is None:
                return 1
            auth = self.respond(www.group(1), res=res, auts=auts)
            note = " auts" if auts is not None else (" res=wrong" if self.a.wrong_res else "")
        print("result too-many-rounds", flush=True)
        return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pcscf", required=True, help="P-CSCF IP:PORT (UDP)")
    ap.add_argument("--local", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--impi", required=True)
    ap.add_argument("--impu", required=True)
    ap.add_argument("--domain", required=True)
    ap.add_argument("--k", required=True, help="32 hex digits or 16 characters")
    ap.add_argument("--op", required=True, help="32 hex digits or 16 characters")
    ap.add_argument("--sqn-ms", type=int, default=None)
    ap.add_argument("--wrong-res", action="store_true")
    ap.add_argument("--wrong-k", action="store_true",
                    help="the UE's K differs from --k: answer the MAC failure (24.229 5.1.1.5.3)")
    ap.add_argument("--pai", default=None)
    ap.add_argument("--pani", default=None, help="P-Access-Network-Info of every REGISTER")
    ap.add_argument("--expires", type=int, default=600)
    ap.add_argument("--expect", type=int, default=200)
    ap.add_argument("--max-rounds", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=10.0, help="per transaction, seconds")
    ap.add_argument("--selftest", default=None, help="milenage.json: check test set 1 first")
    a = ap.parse_args()
    if a.selftest and os.path.exists(a.selftest):
        selftest(a.selftest)
    sys.exit(UE(a).run())


if __name__ == "__main__":
    main()
