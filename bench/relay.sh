#!/usr/bin/env bash
# Messages per second relayed end to end: Postfix's smtp-source -> Sluice
# (durable queue, rule `relay`) -> Postfix's smtp-sink as the next hop.
# 20 sessions, 4 KiB by default. Prints one line of figures.
#   MESSAGES=5000 SESSIONS=20 SIZE=4096 bench/relay.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
MESSAGES=${MESSAGES:-5000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
SMTP_SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
SMTP_SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}

sink_port=$(free_port)
# smtp-sink refuses to run as root without -u.
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)
"$SMTP_SINK" "${sink_user[@]}" 127.0.0.1:"$sink_port" 256 > /tmp/sluice-bench-sink.$$ 2>&1 &
SINK_PID=$!
start_sluice "upstreams:
  sink: { hosts: [\"127.0.0.1:$sink_port\"], tls: none }" ", rules: bench" "rules:
  - name: out
    then: [ { relay: sink } ]"
trap 'stop_sluice; kill $SINK_PID 2>/dev/null || true; rm -f /tmp/sluice-bench-sink.$$' EXIT

start=$(date +%s.%N)
"$SMTP_SOURCE" -s "$SESSIONS" -l "$SIZE" -m "$MESSAGES" -f bench@example.test -t sink@example.org \
  -M bench-client.test "127.0.0.1:$SLUICE_PORT"
accepted_at=$(date +%s.%N)
for _ in $(seq 1 1200); do
  delivered=$(grep -c '"event":"delivered"' "$BENCH_DIR/sluice.log" || true)
  [ "$delivered" -ge "$MESSAGES" ] && break
  sleep 0.1
done
done_at=$(date +%s.%N)
python3 - "$start" "$accepted_at" "$done_at" "$delivered" "$MESSAGES" "$SESSIONS" "$SIZE" <<'PY'
import sys
start, accepted, done = map(float, sys.argv[1:4])
delivered, messages, sessions, size = map(int, sys.argv[4:8])
print(f"relay: {delivered}/{messages} relayed to smtp-sink, {sessions} sessions, {size} B: "
      f"{messages / (accepted - start):.0f} msg/s accepted, {delivered / (done - start):.0f} msg/s relayed end to end")
PY
