#!/usr/bin/python3
"""Sign a message with dkimpy (Debian python3-dkim), for verification tests.

Usage: dkim_sign.py MESSAGE_FILE KEY_PEM_FILE DOMAIN SELECTOR > SIGNED_FILE
"""

import sys

import dkim

message = open(sys.argv[1], "rb").read()
key = open(sys.argv[2], "rb").read()
sig = dkim.sign(message, sys.argv[4].encode(), sys.argv[3].encode(), key,
                canonicalize=(b"relaxed", b"simple"), include_headers=[b"from", b"subject", b"to"])
sys.stdout.buffer.write(sig + message)
