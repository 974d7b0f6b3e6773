#!/usr/bin/python3
"""An SMTP server that defers every message slowly: it answers 451 to DATA's
end after DELAY seconds, so a sender always has delivery attempts in flight.

Usage: slow_defer.py PORT DELAY   (listens on 127.0.0.1; prints "ready" when bound)
"""

import asyncio
import sys


async def session(reader, writer, delay):
    writer.write(b"220 slow.test ESMTP\r\n")
    await writer.drain()
    in_data = False
    while True:
        line = await reader.readline()
        if not line:
            break
        if in_data:
            if line in (b".\r\n", b".\n"):
                in_data = False
                await asyncio.sleep(delay)
                writer.write(b"451 4.3.0 try again later\r\n")
            continue
        verb = line[:4].upper()
        if verb == b"EHLO":
            writer.write(b"250-slow.test\r\n250 8BITMIME\r\n")
        elif verb == b"DATA":
            in_data = True
            writer.write(b"354 go on\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 bye\r\n")
            await writer.drain()
            break
        else:
            writer.write(b"250 ok\r\n")
        await writer.drain()
    writer.close()


async def main():
    port, delay = int(sys.argv[1]), float(sys.argv[2])
    server = await asyncio.start_server(lambda r, w: session(r, w, delay), "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
