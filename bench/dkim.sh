#!/usr/bin/env bash
# DKIM signing speed on one core: `sluice dkim speed` (libopendkim, 4 KiB
# message: header + relaxed canonicalisation + SHA-256 + the signature) next
# to `openssl speed` (the raw private-key operation) on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE_BIN=${SLUICE_BIN:-.build/release/sluice}
[ -x "$SLUICE_BIN" ] || swift build -c release >/dev/null
echo "== sluice dkim speed (4096-byte message, 3 s per algorithm)"
"$SLUICE_BIN" dkim speed --seconds 3
echo "== openssl speed -seconds 3 rsa2048 ed25519 (sign/s column)"
openssl speed -seconds 3 rsa2048 ed25519 2>/dev/null | grep -E "^rsa 2048|^ +[0-9.]+s .*Ed25519|Ed25519\)" || true
