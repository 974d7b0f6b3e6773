#!/usr/bin/python3
"""An HTTPS server of MTA-STS policies, for tests.

Usage: mta_sts_server.py CERT KEY DIR

Listens on 127.0.0.1 (a free port, printed on the first line of stdout) with
the certificate CERT and key KEY, and answers GET /.well-known/mta-sts.txt
for host H (from the Host header, without its port) with DIR/H.txt as
text/plain, or 404 when there is no such file; anything else is 404. Each
request is logged on stderr as "GET HOST PATH STATUS".
"""

import http.server
import os
import ssl
import sys


def main():
    cert, key, root = sys.argv[1:4]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            path = os.path.join(root, host + ".txt")
            status = 404
            body = b"not found\n"
            if self.path == "/.well-known/mta-sts.txt" and "/" not in host and os.path.isfile(path):
                with open(path, "rb") as f:
                    body = f.read()
                status = 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if status == 200 else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            print(f"GET {host} {self.path} {status}", file=sys.stderr, flush=True)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
