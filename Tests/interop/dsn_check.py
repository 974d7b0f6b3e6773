#!/usr/bin/env python3
"""Checks a DSN with Python's email package (a parser nobody here wrote).

usage: dsn_check.py FILE RECIPIENT STATUS [--diagnostic PREFIX] [--remote-mta VALUE]
Exit 0 when FILE is a multipart/report; report-type=delivery-status whose
delivery-status part reports RECIPIENT as failed with STATUS (and, when given,
a Diagnostic-Code starting with PREFIX and that Remote-MTA)."""
import email
import sys
from email import policy

path, recipient, status = sys.argv[1], sys.argv[2], sys.argv[3]
options = dict(zip(sys.argv[4::2], sys.argv[5::2]))
msg = email.message_from_binary_file(open(path, "rb"), policy=policy.default)
assert msg.get_content_type() == "multipart/report", msg.get_content_type()
assert msg.get_param("report-type") == "delivery-status", msg.get_param("report-type")
parts = list(msg.iter_parts())
assert len(parts) == 3, [p.get_content_type() for p in parts]
assert parts[1].get_content_type() == "message/delivery-status"
blocks = parts[1].get_payload()
per_recipient = [b for b in blocks if b.get("Final-Recipient")]
found = [b for b in per_recipient if recipient in b.get("Final-Recipient")]
assert found, [str(b.get("Final-Recipient")) for b in per_recipient]
assert found[0].get("Action").strip() == "failed", found[0].get("Action")
assert found[0].get("Status").strip() == status, found[0].get("Status")
assert blocks[0].get("Reporting-MTA"), "no Reporting-MTA"
if "--diagnostic" in options:
    diagnostic = " ".join(str(found[0].get("Diagnostic-Code")).split())
    assert diagnostic.startswith(options["--diagnostic"]), diagnostic
if "--remote-mta" in options:
    assert str(found[0].get("Remote-MTA")).strip() == options["--remote-mta"], found[0].get("Remote-MTA")
assert parts[2].get_content_type() in ("message/rfc822", "text/rfc822-headers")
print("ok", len(per_recipient), "recipient(s)")
