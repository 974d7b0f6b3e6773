#!/usr/bin/env python3
"""CVE-2011-0411: a command pipelined after STARTTLS, in the same packet, must be
discarded, not answered inside the TLS session.

usage: starttls_injection.py PORT
Exits 0 when the server ignored the injected command.
"""
import socket
import ssl
import sys

port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")

def reply():
    lines = []
    while True:
        line = f.readline().decode()
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return lines

reply()
s.sendall(b"EHLO attacker.test\r\n")
reply()
# STARTTLS and an injected NOOP in one write.
s.sendall(b"STARTTLS\r\nNOOP injected\r\n")
first = reply()
assert first[0].startswith("220"), first
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="mx.sluice.test")
t.settimeout(2)
tf = t.makefile("rb")
# If the injected NOOP was executed, its 250 arrives now, unasked.
try:
    data = t.recv(4096)
except (socket.timeout, TimeoutError):
    data = b""
if data:
    print("server answered the injected command: %r" % data)
    sys.exit(1)
t.settimeout(10)
t.sendall(b"EHLO attacker.test\r\n")
line = tf.readline().decode()
assert line.startswith("250"), line
print("ok")
