#!/usr/bin/env python3
"""SMTP load for the crash test: N messages with unique Message-IDs over S
concurrent sessions (Python's smtplib). Records every Message-ID that got a
250 after DATA in ACKED (one per line, flushed at once), so a checker can
prove that each acknowledged message reached the sink. The server may vanish
at any moment (kill -9): a session that loses its connection reconnects (for
at most 120 s) and goes on with the next message; a message whose DATA got no
250 is never retried, so every duplicate at the sink is the server's.

  smtp_load.py PORT MESSAGES SESSIONS SIZE ACKED
"""
import smtplib
import sys
import threading
import time

port, messages, sessions, size, acked_path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
lock = threading.Lock()
next_index = 0
counts = {"acked": 0, "failed": 0, "reconnects": 0}
acked = open(acked_path, "a", buffering=1)
body = ("x" * 76 + "\r\n") * max(1, size // 78)


def take():
    global next_index
    with lock:
        if next_index >= messages:
            return None
        next_index += 1
        return next_index


def connect():
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            client = smtplib.SMTP("127.0.0.1", port, local_hostname="load.test", timeout=30)
            client.ehlo("load.test")
            return client
        except (OSError, smtplib.SMTPException):
            with lock:
                counts["reconnects"] += 1
            time.sleep(0.05)
    raise SystemExit("server did not come back within 120 s")


def session():
    client = None
    while (i := take()) is not None:
        message_id = f"<load-{i}@load.test>"
        data = (f"From: <load@example.test>\r\nTo: <sink@example.org>\r\nSubject: load {i}\r\n"
                f"Message-ID: {message_id}\r\n\r\n{body}")
        try:
            if client is None:
                client = connect()
            client.sendmail("load@example.test", ["sink@example.org"], data.encode())
        except (OSError, smtplib.SMTPException):
            with lock:
                counts["failed"] += 1
            try:
                client and client.close()
            except OSError:
                pass
            client = None
            continue
        with lock:
            acked.write(message_id + "\n")
            counts["acked"] += 1
    if client is not None:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            pass


threads = [threading.Thread(target=session) for _ in range(sessions)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"load: {messages} messages sent: {counts['acked']} got 250, {counts['failed']} failed "
      f"(connection lost or refused), {counts['reconnects']} refused connects while the server was down")
