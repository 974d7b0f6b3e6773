#!/usr/bin/env python3
"""Counts by Message-ID what a sink received against what the server
acknowledged. RECEIVED is smtp-sink's dump directory (one file per message)
or a file of Message-IDs, one per line. Prints lost (acknowledged, never
arrived), duplicates (arrived more than once) and arrivals the client never
saw a 250 for (the server had the message when the connection died: not a
loss). Exit status 1 when anything acknowledged is lost.

  count_ids.py ACKED RECEIVED [--wait SECONDS]
"""
import collections
import os
import re
import sys
import time

acked_path, received_path = sys.argv[1], sys.argv[2]
wait = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--wait" else 0
header = re.compile(rb"^message-id:\s*(<[^>]*>)", re.I | re.M)


def received():
    ids = []
    if os.path.isdir(received_path):
        for name in os.listdir(received_path):
            with open(os.path.join(received_path, name), "rb") as f:
                m = header.search(f.read(65536))
                if m:
                    ids.append(m.group(1).decode())
    else:
        with open(received_path) as f:
            ids = [line.strip() for line in f if line.strip()]
    return collections.Counter(ids)


acked = {line.strip() for line in open(acked_path) if line.strip()}
# Wait (bounded) until every acknowledged message has arrived, or nothing has arrived for 20 s.
deadline, seen = time.monotonic() + wait, received()
last, moved = sum(seen.values()), time.monotonic()
while time.monotonic() < deadline and time.monotonic() - moved < 20 and not acked <= set(seen):
    time.sleep(1)
    seen = received()
    if sum(seen.values()) != last:
        last, moved = sum(seen.values()), time.monotonic()
lost = acked - set(seen)
duplicates = {k: v for k, v in seen.items() if v > 1}
unacked = set(seen) - acked
print(f"count: {len(acked)} acknowledged, {sum(seen.values())} received ({len(seen)} distinct): "
      f"{len(lost)} lost, {sum(v - 1 for v in duplicates.values())} duplicates, "
      f"{len(unacked)} arrived without the client seeing the 250")
for message_id in sorted(lost)[:10]:
    print(f"  lost: {message_id}")
sys.exit(1 if lost else 0)
