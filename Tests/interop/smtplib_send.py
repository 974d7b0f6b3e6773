#!/usr/bin/env python3
"""Sends one message to Sluice with Python's smtplib (a client nobody here wrote).

usage: smtplib_send.py MODE PORT MESSAGE_ID
MODE: plain | starttls | ssl | utf8
Prints the server's queue id on success; exits non-zero on any failure.
"""
import smtplib
import ssl
import sys
from email.message import EmailMessage

mode, port, msgid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the test daemon uses a self-signed certificate

msg = EmailMessage()
msg["From"] = "app@example.test"
msg["To"] = "one@example.org, two@example.net"
msg["Subject"] = "smtplib " + mode
msg["Message-ID"] = "<%s>" % msgid
msg.set_content("Sent by Python's smtplib in mode %s.\n.leading dot line\n" % mode)
rcpts = ["one@example.org", "two@example.net"]
if mode == "utf8":
    msg.replace_header("To", "用户@例子.测试")
    msg.replace_header("Subject", "ünïcode ✓")
    rcpts = ["用户@例子.测试"]

if mode == "ssl":
    client = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=20)
else:
    client = smtplib.SMTP("127.0.0.1", port, timeout=20)
with client:
    client.ehlo("python.test")
    if mode == "starttls":
        client.starttls(context=ctx)
        client.ehlo("python.test")
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3"), client.sock.version()
    if mode == "utf8":
        assert client.has_extn("smtputf8")
    # send_message adds SMTPUTF8 and BODY=8BITMIME itself when the message needs them.
    refused = client.send_message(msg, "app@example.test", rcpts)
    assert not refused, refused
    code, text = client.noop()
    assert code == 250
print("ok")
