#!/usr/bin/env bash
# Messages per second accepted into Sluice's durable queue (fsync before 250)
# and written to the outbox, with Postfix's smtp-source as the client:
# 20 concurrent sessions, 4 KiB messages. Prints one line of figures.
#   MESSAGES=5000 SESSIONS=20 SIZE=4096 bench/ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
MESSAGES=${MESSAGES:-5000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
SMTP_SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}

start_sluice
trap stop_sluice EXIT
start=$(date +%s.%N)
"$SMTP_SOURCE" -s "$SESSIONS" -l "$SIZE" -m "$MESSAGES" -f bench@example.test -t sink@example.org \
  -M bench-client.test "127.0.0.1:$SLUICE_PORT"
end=$(date +%s.%N)
accepted=$(grep -c '"event":"queued"' "$BENCH_DIR/sluice.log" || true)
# Wait for the queue to drain into the outbox.
for _ in $(seq 1 600); do
  delivered=$(find "$BENCH_DIR/var/outbox" -name '*.eml' | wc -l)
  [ "$delivered" -ge "$accepted" ] && break
  sleep 0.1
done
drained=$(date +%s.%N)
python3 - "$start" "$end" "$drained" "$accepted" "$delivered" "$MESSAGES" "$SESSIONS" "$SIZE" "$(rss_kib "$SLUICE_PID")" <<'PY'
import sys
start, end, drained = map(float, sys.argv[1:4])
accepted, delivered, messages, sessions, size, rss = map(int, sys.argv[4:10])
print(f"ingest: {accepted}/{messages} accepted, {sessions} sessions, {size} B messages: "
      f"{accepted / (end - start):.0f} msg/s accepted into the queue, "
      f"{delivered / (drained - start):.0f} msg/s through to the outbox, RSS {rss // 1024} MiB")
PY
