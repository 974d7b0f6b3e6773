#!/usr/bin/env bash
# Crash test (R-REL-1): kill -9 Sluice at random moments while MESSAGES
# messages arrive over SESSIONS sessions, restart it each time on the same
# data dir, and count by Message-ID at Postfix's smtp-sink (which dumps every
# message it receives) that each message that got a 250 arrived. Reports
# losses (exit status 1) and duplicates.
#   MESSAGES=20000 SESSIONS=20 KILLS=10 bench/crash.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
MESSAGES=${MESSAGES:-20000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-2048}
KILLS=${KILLS:-10}
SMTP_SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}

WORK=$(mktemp -d /tmp/sluice-crash.XXXXXX)
chmod 755 "$WORK"; mkdir -m 777 "$WORK/sink"
sink_port=$(free_port)
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)
"$SMTP_SINK" "${sink_user[@]}" -d "$WORK/sink/%M." 127.0.0.1:"$sink_port" 1024 >/dev/null 2>&1 &
SINK_PID=$!
# A fixed port, so the client finds the restarted daemon where it left it.
SLUICE_LISTEN=127.0.0.1:$(free_port)
start_sluice "upstreams:
  sink: { hosts: [\"127.0.0.1:$sink_port\"], tls: none }
delivery: { retry_schedule: [1s, 2s, 5s] }" ", rules: bench" "rules:
  - name: out
    then: [ { relay: sink } ]"
trap 'stop_sluice; kill $SINK_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 bench/smtp_load.py "$SLUICE_PORT" "$MESSAGES" "$SESSIONS" "$SIZE" "$WORK/acked" &
LOAD_PID=$!
kills=0
while [ "$kills" -lt "$KILLS" ] && kill -0 "$LOAD_PID" 2>/dev/null; do
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.5, 3.0), 2))')"
  kill -0 "$LOAD_PID" 2>/dev/null || break
  kill -9 "$SLUICE_PID"; wait "$SLUICE_PID" 2>/dev/null || true
  kills=$((kills + 1))
  run_sluice
done
wait "$LOAD_PID"
echo "crash: $kills kill -9 during the load, each followed by a restart on the same queue"
python3 bench/count_ids.py "$WORK/acked" "$WORK/sink" --wait 120
