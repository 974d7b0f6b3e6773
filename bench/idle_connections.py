#!/usr/bin/env python3
"""Opens N SMTP connections that each read the greeting, send EHLO and then sit.
Prints 'ready' when all are idle, then waits for stdin to close.
usage: idle_connections.py PORT N"""
import selectors
import socket
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    socks.append(s)
for s in socks:
    assert s.recv(512).startswith(b"220"), "no greeting"
    s.sendall(b"EHLO idle.test\r\n")
for s in socks:
    data = b""
    while b"250 " not in data:
        chunk = s.recv(4096)
        assert chunk, "closed"
        data += chunk
print("ready", flush=True)
sys.stdin.read()
