#!/usr/bin/env python3
"""A webhook receiver for the tests (Python's http.server, nothing of Sluice's):
checks each request's Sluice-Signature with the secret and its body against the
JSON schema (the jsonschema package), answers from a script, and logs every
request as a JSON line.

usage: webhook_server.py PORT_FILE LOG_FILE SECRET SCHEMA PATH=CODES ...
PATH=CODES: e.g. /tickets=503,503,200 answers 503 twice, then 200 for ever; /gone=410;
/slow=sleep5 answers 200 after 5 seconds (longer than the webhook's timeout); /moved=302 redirects to /elsewhere.
"""
import hashlib
import hmac
import http.server
import json
import sys
import time

port_file, log_file, secret, schema_file = sys.argv[1:5]
scripts = {}
for arg in sys.argv[5:]:
    path, codes = arg.split("=", 1)
    scripts[path] = [c if c.startswith("sleep") else int(c) for c in codes.split(",")]
schema = json.load(open(schema_file))
try:
    import jsonschema
except ImportError:
    jsonschema = None


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        sig = self.headers.get("Sluice-Signature", "")
        fields = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
        expected = hmac.new(secret.encode(), (fields.get("t", "") + ".").encode() + body, hashlib.sha256).hexdigest()
        verified = hmac.compare_digest(expected, fields.get("v1", ""))
        schema_error = None
        try:
            doc = json.loads(body)
            if jsonschema is None:
                schema_error = "jsonschema is not installed"
            else:
                jsonschema.validate(doc, schema, format_checker=jsonschema.FormatChecker())
        except Exception as e:  # noqa: BLE001 - any failure is reported to the test
            schema_error = str(e)[:500]
            doc = None
        codes = scripts.get(self.path, [404])
        code = codes.pop(0) if len(codes) > 1 else codes[0]
        if isinstance(code, str):
            time.sleep(int(code[5:]))
            code = 200
        with open(log_file, "a") as f:
            f.write(json.dumps({"path": self.path, "code": code, "verified": verified, "schema_error": schema_error,
                                "length": length, "tenant": self.headers.get("X-Tenant"), "doc": doc}) + "\n")
        self.send_response(code)
        if code in (301, 302, 307, 308):
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
