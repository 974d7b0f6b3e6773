#!/usr/bin/env python3
"""Sends message files over SMTP in parallel sessions, as fast as the server takes them.

Usage: send_eml.py PORT SESSIONS COUNT FILE...
COUNT messages in all, FILEs taken in turn, over SESSIONS connections to 127.0.0.1:PORT,
each session reusing its connection (RSET-free: one transaction after another).
Prints "sent N refused R seconds S".
"""
import smtplib
import sys
import threading
import time


def main():
    port, sessions, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    bodies = [open(f, "rb").read() for f in sys.argv[4:]]
    lock = threading.Lock()
    state = {"next": 0, "sent": 0, "refused": 0}

    def worker():
        s = smtplib.SMTP("127.0.0.1", port, timeout=60)
        s.ehlo("bench-client.test")
        while True:
            with lock:
                i = state["next"]
                if i >= count:
                    break
                state["next"] += 1
            try:
                s.sendmail("bench@example.test", ["sink@example.org"], bodies[i % len(bodies)])
                ok = True
            except smtplib.SMTPResponseException as e:
                print("refused: %d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace")), file=sys.stderr)
                s.rset()
                ok = False
            with lock:
                state["sent" if ok else "refused"] += 1
        s.quit()

    start = time.time()
    threads = [threading.Thread(target=worker) for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("sent %d refused %d seconds %.3f" % (state["sent"], state["refused"], time.time() - start))


if __name__ == "__main__":
    main()
