#!/usr/bin/env bash
# RSS of Sluice holding N idle SMTP connections (after EHLO).
#   CONNECTIONS=1000 bench/idle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
CONNECTIONS=${CONNECTIONS:-1000}
# Raise the descriptor limit as far as the hard limit allows (client and daemon each need one per connection).
want=$((CONNECTIONS + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$want" -gt "$hard" ]; then want=$hard; fi
ulimit -n "$want"
start_sluice
trap stop_sluice EXIT
before=$(rss_kib "$SLUICE_PID")
coproc IDLE { python3 bench/idle_connections.py "$SLUICE_PORT" "$CONNECTIONS"; }
read -r line <&"${IDLE[0]}"
[ "$line" = ready ] || { echo "idle clients failed" >&2; exit 1; }
sleep 1
after=$(rss_kib "$SLUICE_PID")
exec {IDLE[1]}>&-
wait "$IDLE_PID" 2>/dev/null || true
echo "idle: $CONNECTIONS connections after EHLO: RSS $((before / 1024)) MiB before, $((after / 1024)) MiB with them open ($(( (after - before) / CONNECTIONS )) KiB per connection)"
