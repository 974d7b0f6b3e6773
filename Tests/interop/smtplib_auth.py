#!/usr/bin/env python3
"""Authenticates to Sluice with Python's smtplib and sends one message.

usage: smtplib_auth.py MODE PORT USER SECRET FROM MESSAGE_ID
MODE: starttls | ssl.  Exit 0 when sent; 2 when authentication failed
(prints the server's reply); 3 when the message was refused."""
import smtplib
import ssl
import sys
from email.message import EmailMessage

mode, port, user, secret, sender, msgid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
msg = EmailMessage()
msg["From"] = sender
msg["To"] = "someone@example.org"
msg["Subject"] = "authenticated " + mode
msg["Message-ID"] = "<%s>" % msgid
msg.set_content("hello\n")
client = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=20) if mode == "ssl" else smtplib.SMTP("127.0.0.1", port, timeout=20)
with client:
    client.ehlo("py.test")
    if mode == "starttls":
        client.starttls(context=ctx)
        client.ehlo("py.test")
    try:
        client.login(user, secret)
    except smtplib.SMTPAuthenticationError as e:
        print(e.smtp_code, e.smtp_error.decode())
        sys.exit(2)
    try:
        client.send_message(msg)
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError, smtplib.SMTPRecipientsRefused) as e:
        print(e)
        sys.exit(3)
print("ok")
