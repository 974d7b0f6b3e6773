#!/usr/bin/env python3
"""A next hop that misbehaves, for the fault test: while faults are on, a
third of transactions get a temporary failure (421 at the greeting, 451 to
MAIL, or 451 after the data) and a tenth of connections are dropped without
a reply (after the greeting, after RCPT, or after the data, before the 250:
the case that makes duplicates). When FAULT_SECONDS have passed it behaves.
Every message it answers 250 to is recorded by Message-ID in RECEIVED.

  fault_sink.py PORT RECEIVED FAULT_SECONDS
"""
import asyncio
import random
import re
import sys
import time

port, received_path, fault_seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
faults_until = time.monotonic() + fault_seconds
received = open(received_path, "a", buffering=1)
stats = {"connections": 0, "soft": 0, "dropped": 0, "accepted": 0}
message_id = re.compile(rb"^message-id:\s*(<[^>]*>)", re.I | re.M)


def faulty():
    return time.monotonic() < faults_until


def fault():
    """None, or (kind, where) for this transaction."""
    if not faulty():
        return None
    r = random.random()
    if r < 0.10:
        return ("drop", random.choice(["greeting", "rcpt", "data"]))
    if r < 0.43:
        return ("soft", random.choice(["greeting", "mail", "data"]))
    return None


async def session(reader, writer):
    stats["connections"] += 1
    f = fault()

    async def reply(line):
        writer.write(line.encode() + b"\r\n")
        await writer.drain()

    try:
        if f == ("drop", "greeting"):
            stats["dropped"] += 1
            return
        if f == ("soft", "greeting"):
            stats["soft"] += 1
            await reply("421 4.3.2 fault injected: service not available")
            return
        await reply("220 faults.test ESMTP")
        while True:
            line = await reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                await reply("250-faults.test\r\n250-PIPELINING\r\n250 8BITMIME")
            elif verb == b"MAIL":
                if f == ("soft", "mail"):
                    stats["soft"] += 1
                    await reply("451 4.3.0 fault injected: try again")
                    f = fault()
                    continue
                await reply("250 2.1.0 ok")
            elif verb == b"RCPT":
                if f == ("drop", "rcpt"):
                    stats["dropped"] += 1
                    return
                await reply("250 2.1.5 ok")
            elif verb == b"DATA":
                await reply("354 go ahead")
                data = bytearray()
                while True:
                    l = await reader.readline()
                    if not l:
                        return
                    if l in (b".\r\n", b".\n"):
                        break
                    data += l
                if f == ("drop", "data"):
                    stats["dropped"] += 1
                    return
                if f == ("soft", "data"):
                    stats["soft"] += 1
                    await reply("451 4.3.0 fault injected: try again")
                else:
                    m = message_id.search(bytes(data))
                    received.write((m.group(1).decode() if m else "<none>") + "\n")
                    stats["accepted"] += 1
                    await reply("250 2.0.0 ok")
                f = fault()
            elif verb == b"RSET" or verb == b"NOOP":
                await reply("250 2.0.0 ok")
            elif verb == b"QUIT":
                await reply("221 2.0.0 bye")
                return
            else:
                await reply("502 5.5.2 not implemented")
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(session, "127.0.0.1", port, limit=1 << 20)
    print("ready", flush=True)
    async with server:
        while True:
            await asyncio.sleep(1)
            print(f"sink: {stats}", file=sys.stderr, flush=True)


asyncio.run(main())
