#!/usr/bin/python3
"""A local authoritative DNS server holding fixture records, for tests.

Usage: fixture_dns.py ZONEFILE [--port N]

Reads RFC 1035 zone text (parsed by dnslib) and answers UDP and TCP queries on
127.0.0.1 with the semantics a resolver relies on: the records of the asked
type (following CNAMEs inside the zone), NOERROR with no answer (NODATA) for a
name that exists with other types or has names below it, NXDOMAIN otherwise.
Two fixture suffixes simulate broken DNS: names ending in ".servfail.test"
answer SERVFAIL, names ending in ".timeout.test" never answer.

Prints the port it listens on (port 0 picks a free one) on the first line of
stdout, then serves until killed. Each query is logged on stderr.
"""

import socket
import socketserver
import sys
import threading

from dnslib import QTYPE, RCODE, RR, DNSRecord


def load(path):
    with open(path) as f:
        return list(RR.fromZone(f.read()))


def norm(name):
    return str(name).lower().rstrip(".")


class Zone:
    def __init__(self, records):
        self.records = records
        self.names = {norm(r.rname) for r in records}

    def exists(self, name):
        return name in self.names or any(n.endswith("." + name) for n in self.names)

    def answer(self, request):
        reply = request.reply()
        reply.header.aa = 1
        qname = norm(request.q.qname)
        qtype = request.q.qtype
        if qname.endswith(".servfail.test"):
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        name, seen = qname, set()
        while name not in seen:
            seen.add(name)
            matches = [r for r in self.records if norm(r.rname) == name]
            cname = [r for r in matches if r.rtype == QTYPE.CNAME]
            if cname and qtype != QTYPE.CNAME:
                reply.add_answer(cname[0])
                name = norm(cname[0].rdata.label)
                continue
            for r in matches:
                if r.rtype == qtype or qtype == QTYPE.ANY:
                    reply.add_answer(r)
            break
        if not reply.rr and not self.exists(qname):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


def respond(zone, data):
    request = DNSRecord.parse(data)
    qname = norm(request.q.qname)
    print(f"query {qname} {QTYPE[request.q.qtype]}", file=sys.stderr, flush=True)
    if qname.endswith(".timeout.test"):
        return None
    return zone.answer(request).pack()


def main():
    args = sys.argv[1:]
    port = 0
    if "--port" in args:
        i = args.index("--port")
        port = int(args[i + 1])
        del args[i : i + 2]
    zone = Zone(load(args[0]))

    class UDP(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            out = respond(zone, data)
            if out is not None:
                sock.sendto(out, self.client_address)

    class TCP(socketserver.BaseRequestHandler):
        def handle(self):
            length = int.from_bytes(self.request.recv(2), "big")
            data = b""
            while len(data) < length:
                chunk = self.request.recv(length - len(data))
                if not chunk:
                    return
                data += chunk
            out = respond(zone, data)
            if out is not None:
                self.request.sendall(len(out).to_bytes(2, "big") + out)

    socketserver.ThreadingUDPServer.allow_reuse_address = True
    # A free UDP port may be taken for TCP (by a daemon under test): try again with another one.
    for attempt in range(50):
        udp = socketserver.ThreadingUDPServer(("127.0.0.1", port), UDP)
        try:
            tcp = socketserver.ThreadingTCPServer(("127.0.0.1", udp.server_address[1]), TCP)
            break
        except OSError:
            udp.server_close()
            if port != 0 or attempt == 49:
                raise
    port = udp.server_address[1]
    for server in (udp, tcp):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(port, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
