#!/usr/bin/python3
"""Writes the DLP benchmark inputs and measures a naive baseline on them.

Usage: dlp_corpus.py OUTDIR [--baseline SECONDS]

Makes three ~16 MB messages: plain text (sparse sensitive values), a base64
attachment (a CSV), and a mixed message (HTML + quoted-printable + attachment).
With --baseline, scans each with Python's re, one detector regex after
another over the same bytes (what R-DLP-5 says not to do), and prints MB/s.
"""

import base64
import os
import random
import re
import sys
import time

random.seed(7)
WORDS = "the quarterly report shows shipment budget review notes draft team schedule meeting invoice update".split()
SENSITIVE = ["card 4111 1111 1111 1111", "ssn 536-22-1234", "iban DE89 3704 0044 0532 0130 00",
             "key AKIAIOSFODNN7EXAMPLE", "mail jane.doe@example.com", "call (415) 555-2671"]


def text(size):
    lines = []
    total = 0
    while total < size:
        line = " ".join(random.choice(WORDS) for _ in range(12))
        if random.random() < 0.01:
            line += " " + random.choice(SENSITIVE)
        lines.append(line)
        total += len(line) + 2
    return "\r\n".join(lines) + "\r\n"


def write(outdir):
    body = text(16 << 20)
    head = "From: a@example.test\r\nTo: b@example.org\r\nSubject: bench\r\nMIME-Version: 1.0\r\n"
    plain = head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
    b64 = base64.encodebytes(text(12 << 20).encode()).decode().replace("\n", "\r\n")
    attach = (head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n'
              '--b\r\nContent-Type: text/csv; name="data.csv"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + b64 + "--b--\r\n")
    html = "".join(f"<p>{l}</p>\r\n" for l in text(5 << 20).split("\r\n"))
    qp = text(5 << 20).replace("=", "=3D")
    mixed = (head + 'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: text/html\r\n\r\n' + html +
             '--m\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' + qp +
             '--m\r\nContent-Type: text/csv; name="x.csv"\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
             base64.encodebytes(text(4 << 20).encode()).decode().replace("\n", "\r\n") + "--m--\r\n")
    paths = []
    for name, content in [("plain", plain), ("base64", attach), ("mixed", mixed)]:
        path = os.path.join(outdir, f"dlp-{name}.eml")
        with open(path, "w", newline="") as f:
            f.write(content)
        paths.append(path)
    return paths


PATTERNS = [rb"\d(?:[ -]?\d){12,18}", rb"\d{3}-\d{2}-\d{4}", rb"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}",
            rb"(?:AKIA|ASIA)[A-Z0-9]{16}", rb"[A-Za-z0-9/+]{40}", rb"-----BEGIN [A-Z ]*PRIVATE KEY-----",
            rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", rb"\(\d{3}\) \d{3}-\d{4}",
            rb"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}"]


def baseline(paths, seconds):
    compiled = [re.compile(p) for p in PATTERNS]
    for path in paths:
        data = open(path, "rb").read()
        start = time.time()
        rounds = 0
        while time.time() - start < seconds:
            for c in compiled:
                for _ in c.finditer(data):
                    pass
            rounds += 1
        mbps = len(data) * rounds / (time.time() - start) / 1e6
        print(f"{path}: naive baseline (Python re, {len(PATTERNS)} regexes one after another, no MIME decoding): {mbps:.1f} MB/s")


if __name__ == "__main__":
    paths = write(sys.argv[1])
    if "--baseline" in sys.argv:
        baseline(paths, float(sys.argv[sys.argv.index("--baseline") + 1]))
    else:
        print("\n".join(paths))
