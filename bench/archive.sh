#!/usr/bin/env bash
# Archive ingest rate and search latency per filter: `sluice archive bench`
# fills a scratch SQLite archive with synthetic messages (a year of an
# organisation's mail) in batches of 1000 and times every search filter
# (p50/p99 over 50 runs), at each size of SIZES (default 200,000 and
# 2,000,000): the p99 should grow no more than logarithmically with the size.
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE_BIN=${SLUICE_BIN:-.build/release/sluice}
[ -x "$SLUICE_BIN" ] || swift build -c release >/dev/null
OUT=$(mktemp -d /tmp/sluice-archive-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
for size in ${SIZES:-${MESSAGES:-200000 2000000}}; do
  echo "== $size messages =="
  "$SLUICE_BIN" archive bench --messages "$size" --db "$OUT/archive.sqlite"
  rm -f "$OUT"/archive.sqlite*
done
