#!/usr/bin/python3
"""ARC with dkimpy (Debian python3-dkim, python3-authres): the other hops of the ARC tests.

Usage:
  arc.py keygen DOMAIN SELECTOR KEYFILE ZONEFILE   an RSA-2048 key, its TXT record appended to ZONEFILE
  arc.py dkim MESSAGE KEYFILE DOMAIN SELECTOR     DKIM-sign MESSAGE in place
  arc.py seal MESSAGE KEYFILE DOMAIN SELECTOR RESULTS
                                                  add "Authentication-Results: DOMAIN; RESULTS" and seal
                                                  the message as DOMAIN would (arc_sign), in place
  arc.py verify MESSAGE ZONEFILE                  print "cv=pass|fail|none REASON" (arc_verify); exit 0 on pass

A ZONEFILE holds "SELECTOR._domainkey.DOMAIN<TAB>TXT" lines; DNS lookups are answered from it.
"""

import subprocess
import sys

import dkim


def records(path):
    out = {}
    for line in open(path):
        if "\t" in line:
            name, txt = line.rstrip("\n").split("\t", 1)
            out[name.rstrip(".") + "."] = txt.encode()
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "keygen":
        domain, selector, keyfile, zonefile = sys.argv[2:6]
        subprocess.run(["openssl", "genrsa", "-out", keyfile, "2048"], check=True, capture_output=True)
        der = subprocess.run(["openssl", "rsa", "-in", keyfile, "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
        import base64
        with open(zonefile, "a") as f:
            f.write("%s._domainkey.%s\tv=DKIM1; k=rsa; p=%s\n" % (selector, domain, base64.b64encode(der).decode()))
        return 0
    if cmd == "dkim":
        path, keyfile, domain, selector = sys.argv[2:6]
        msg = open(path, "rb").read()
        sig = dkim.sign(msg, selector.encode(), domain.encode(), open(keyfile, "rb").read(), linesep=b"\r\n")
        open(path, "wb").write(sig + msg)
        return 0
    if cmd == "seal":
        path, keyfile, domain, selector, results = sys.argv[2:7]
        msg = b"Authentication-Results: %s; %s\r\n" % (domain.encode(), results.encode()) + open(path, "rb").read()
        fields = dkim.arc_sign(msg, selector.encode(), domain.encode(), open(keyfile, "rb").read(), domain.encode(), linesep=b"\r\n")
        if not fields:
            print("dkimpy made no ARC set", file=sys.stderr)
            return 1
        open(path, "wb").write(b"".join(fields) + msg)
        return 0
    if cmd == "verify":
        path, zonefile = sys.argv[2:4]
        zone = records(zonefile)
        cv, results, reason = dkim.arc_verify(open(path, "rb").read(), dnsfunc=lambda name, timeout=5: zone.get(name.decode()))
        print("cv=%s %s" % (cv.decode() if cv else "none", reason))
        return 0 if cv == b"pass" else 1
    return 2


sys.exit(main())
