#!/usr/bin/env bash
# Fault test: Sluice relays MESSAGES messages to a next hop (bench/fault_sink.py)
# that, for its first FAULT_SECONDS, answers 421/451 to a third of attempts
# and drops a tenth of connections without a reply. Counts by Message-ID that
# every message Sluice acknowledged arrived once the faults stopped; reports
# duplicates (a connection dropped after the data but before the 250 leaves
# the sender no way to know the message arrived: RFC 5321 section 6.1).
#   MESSAGES=3000 SESSIONS=20 FAULT_SECONDS=30 bench/faults.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
MESSAGES=${MESSAGES:-3000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-2048}
FAULT_SECONDS=${FAULT_SECONDS:-30}
PYTHON=${PYTHON:-python3}

WORK=$(mktemp -d /tmp/sluice-faults.XXXXXX)
sink_port=$(free_port)
coproc SINK { exec "$PYTHON" bench/fault_sink.py "$sink_port" "$WORK/received" "$FAULT_SECONDS" 2>"$WORK/sink.log"; }
read -r line <&"${SINK[0]}"
[ "$line" = ready ] || { echo "fault sink failed" >&2; exit 1; }
start_sluice "upstreams:
  sink: { hosts: [\"127.0.0.1:$sink_port\"], tls: none, probe_interval: 2s }
delivery: { retry_schedule: [1s, 2s, 5s] }" ", rules: bench" "rules:
  - name: out
    then: [ { relay: sink } ]"
trap 'stop_sluice; kill $SINK_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$PYTHON" bench/smtp_load.py "$SLUICE_PORT" "$MESSAGES" "$SESSIONS" "$SIZE" "$WORK/acked"
status=0
python3 bench/count_ids.py "$WORK/acked" "$WORK/received" --wait $((FAULT_SECONDS + 120)) || status=$?
deferred=$(grep -c '"event":"deferred"' "$BENCH_DIR/sluice.log" || true)
attempts=$(grep -c '"event":"attempt"' "$BENCH_DIR/sluice.log" || true)
echo "faults: $FAULT_SECONDS s of faults; Sluice logged $attempts failed attempts and $deferred deferrals; sink $(tail -1 "$WORK/sink.log")"
exit $status
