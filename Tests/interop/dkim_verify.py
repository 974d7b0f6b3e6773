#!/usr/bin/python3
"""Verify the DKIM signatures of a message with dkimpy (Debian python3-dkim).

Usage: dkim_verify.py MESSAGE_FILE TXT_RECORD_FILE [TXT_RECORD_FILE ...]

Each record file holds "SELECTOR._domainkey.DOMAIN<TAB>v=DKIM1; k=...; p=..."
lines; DNS lookups are answered from them, nothing goes to the network.
Prints one line per signature, "pass d=DOMAIN s=SELECTOR a=ALG" or "fail ...",
and exits 0 only if every signature verifies.
"""

import sys

import dkim


def main():
    message = open(sys.argv[1], "rb").read()
    records = {}
    for path in sys.argv[2:]:
        for line in open(path):
            if "\t" in line:
                name, value = line.rstrip("\n").split("\t", 1)
                records[name.rstrip(".").lower() + "."] = value.encode()

    def dnsfunc(name, timeout=5):
        key = (name.decode() if isinstance(name, bytes) else name).lower()
        if not key.endswith("."):
            key += "."
        return records.get(key, b"")

    d = dkim.DKIM(message)
    count = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
    if count == 0:
        print("no signature")
        return 1
    ok = True
    for i in range(count):
        try:
            good = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            good = False
            print(f"error {e}")
        sig = d.signature_fields
        name = f"d={sig.get(b'd', b'').decode()} s={sig.get(b's', b'').decode()} a={sig.get(b'a', b'').decode()}"
        print(("pass " if good else "fail ") + name)
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
