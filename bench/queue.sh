#!/usr/bin/env bash
# Queue listing at scale (issue 20: `queue list` took 5.3 s and --json 14 s
# at 20,000 deferred messages): `sluice queue bench` fills a scratch queue on
# tmpfs with deferred messages (end record and state file each, as after a
# failed attempt) and times `queue list`, `--json`, a filtered list and
# `queue summary` in-process (output rendered, not printed), at each size of
# SIZES (default 20,000 and 100,000).
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE_BIN=${SLUICE_BIN:-.build/release/sluice}
[ -x "$SLUICE_BIN" ] || swift build -c release >/dev/null
OUT=$(mktemp -d /dev/shm/sluice-queue-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
for size in ${SIZES:-20000 100000}; do
  echo "== $size deferred messages =="
  "$SLUICE_BIN" queue bench --messages "$size" --dir "$OUT/queue"
  rm -rf "$OUT/queue"
done
