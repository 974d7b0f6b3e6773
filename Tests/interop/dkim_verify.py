#!/usr/bin/python3
"""Verify the DKIM signatures of a message with dkimpy (Debian python3-dkim).

Usage: dkim_verify.py MESSAGE_FILE TXT_RECORD_FILE [TXT_RECORD_FILE ...]
       dkim_verify.py --dir DIRECTORY TXT_RECORD_FILE ...   (every *.eml in it)

Each record file holds "SELECTOR._domainkey.DOMAIN<TAB>v=DKIM1; k=...; p=..."
lines; DNS lookups are answered from them, nothing goes to the network.
Prints one line per signature, "pass d=DOMAIN s=SELECTOR a=ALG" or "fail ...",
and exits 0 only if every signature verifies. With --dir, prints only the
failures (file name first) and "verified N messages".
"""

import os
import sys

import dkim


def main():
    if sys.argv[1] == "--dir":
        records = load_records(sys.argv[3:])
        names = sorted(n for n in os.listdir(sys.argv[2]) if n.endswith(".eml"))
        failed = unparsed = 0
        for name in names:
            lines = []
            result = verify(open(os.path.join(sys.argv[2], name), "rb").read(), records, lines.append)
            if result is None:
                unparsed += 1
            elif not result:
                failed += 1
                print(name, "; ".join(lines))
        print(f"verified {len(names) - failed - unparsed} messages, {failed} failed, {unparsed} not parsed by dkimpy")
        return 1 if failed else 0
    records = load_records(sys.argv[2:])
    return 0 if verify(open(sys.argv[1], "rb").read(), records, print) else 1


def load_records(paths):
    records = {}
    for path in paths:
        for line in open(path):
            if "\t" in line:
                name, value = line.rstrip("\n").split("\t", 1)
                records[name.rstrip(".").lower() + "."] = value.encode()
    return records


def verify(message, records, say):
    def dnsfunc(name, timeout=5):
        key = (name.decode() if isinstance(name, bytes) else name).lower()
        if not key.endswith("."):
            key += "."
        return records.get(key, b"")

    try:
        d = dkim.DKIM(message)
    except dkim.MessageFormatError as e:
        # dkimpy refuses some header syntax RFC 5322 allows (obsolete space before the colon).
        say(f"not parsed: {e}")
        return None
    count = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
    if count == 0:
        say("no signature")
        return False
    ok = True
    for i in range(count):
        try:
            good = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            good = False
            say(f"error {e}")
        sig = d.signature_fields
        name = f"d={sig.get(b'd', b'').decode()} s={sig.get(b's', b'').decode()} a={sig.get(b'a', b'').decode()}"
        say(("pass " if good else "fail ") + name)
        ok = ok and good
    return ok


if __name__ == "__main__":
    sys.exit(main())
