#!/usr/bin/env python3
"""Sends one message over STARTTLS with Python's ssl presenting a client certificate (or none).

usage: smtplib_mtls.py PORT CERT|- KEY|- FROM TO MESSAGE_ID
Prints "sent" on success, or the SMTP reply that refused it ("refused CODE TEXT"); exits 0 either way
when the dialogue ran, non-zero on anything else (a TLS failure prints "tls ERROR").
"""
import smtplib
import ssl
import sys
from email.message import EmailMessage

port, cert, key, sender, rcpt, msgid = sys.argv[1:7]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the test daemon's own certificate is self-signed
if cert != "-":
    ctx.load_cert_chain(cert, key)

msg = EmailMessage()
msg["From"] = sender
msg["To"] = rcpt
msg["Subject"] = "mtls from Python"
msg["Message-ID"] = "<%s>" % msgid
msg.set_content("Sent by Python's ssl with a client certificate.\n")
try:
    with smtplib.SMTP("127.0.0.1", int(port), timeout=20) as s:
        s.ehlo("python.example")
        s.starttls(context=ctx)
        s.ehlo("python.example")
        s.send_message(msg, from_addr=sender, to_addrs=[rcpt])
    print("sent")
except smtplib.SMTPResponseException as e:
    print("refused %d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace")))
except smtplib.SMTPRecipientsRefused as e:
    code, text = list(e.recipients.values())[0]
    print("refused %d %s" % (code, text.decode(errors="replace")))
except (ssl.SSLError, ConnectionError, smtplib.SMTPServerDisconnected) as e:
    print("tls %s" % e)
