#!/usr/bin/env bash
# Archive ingest rate and search latency: `sluice archive bench` fills a
# scratch SQLite archive with MESSAGES synthetic messages (default 1,000,000)
# in batches of 1000 and times five query shapes (p50/p99 over 50 runs).
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE_BIN=${SLUICE_BIN:-.build/release/sluice}
[ -x "$SLUICE_BIN" ] || swift build -c release >/dev/null
OUT=$(mktemp -d /tmp/sluice-archive-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
"$SLUICE_BIN" archive bench --messages "${MESSAGES:-1000000}" --db "$OUT/archive.sqlite"
