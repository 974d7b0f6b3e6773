#!/usr/bin/env bash
# What spamd and clamd cost (issue 27): the same relay (smtp-source -> Sluice
# -> smtp-sink, MESSAGES of SIZE bytes over SESSIONS sessions) without
# scanners, with clamd (a rule testing `virus:`), with spamd (`spam:`), and
# with both; relayed msg/s and Sluice's p50/p99 end-of-DATA-to-250 time
# (`reply_ms` of its `queued` lines), i.e. the latency the scanners add.
# clamd runs with a one-signature database (no download), spamd with the
# rules Debian ships, local tests only; both on loopback, started and
# stopped by this script.
#   MESSAGES=1000 SIZE=4096 SESSIONS=20 bench/scanners.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
MESSAGES=${MESSAGES:-1000}
SIZE=${SIZE:-4096}
SESSIONS=${SESSIONS:-20}
[ -x "$SLUICE_BIN" ] || { echo "build first: swift build -c release" >&2; exit 1; }
for p in /usr/sbin/clamd /usr/sbin/spamd /usr/sbin/smtp-sink; do [ -x "$p" ] || { echo "needs $p (make deps-test, make deps-bench)" >&2; exit 1; }; done
WORK=$(mktemp -d /tmp/sluice-scanners-bench.XXXXXX)
chmod 777 "$WORK"
CLAMD_PID= SPAMD_PID= SINK_PID=
cleanup() {
  [ -n "${SLUICE_PID:-}" ] && stop_sluice
  for p in $CLAMD_PID $SPAMD_PID $SINK_PID; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/clamd/db"
python3 -c 'print("Sluice-Test-Eicar:0:*:" + rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*".hex())' > "$WORK/clamd/db/test.ndb"
printf 'LocalSocket %s/clamd/clamd.sock\nDatabaseDirectory %s/clamd/db\nForeground yes\nLogFile %s/clamd/log\n' "$WORK" "$WORK" "$WORK" > "$WORK/clamd/clamd.conf"
/usr/sbin/clamd -c "$WORK/clamd/clamd.conf" >/dev/null 2>&1 &
CLAMD_PID=$!
SPAMD_PORT=$(free_port)
/usr/sbin/spamd --listen=127.0.0.1:"$SPAMD_PORT" --local --nouser-config --pidfile="$WORK/spamd.pid" --helper-home-dir="$WORK" \
  --max-children=4 --min-children=2 --syslog="$WORK/spamd.log" -u nobody >/dev/null 2>&1 &
SPAMD_PID=$!
for _ in $(seq 1 900); do
  [ -S "$WORK/clamd/clamd.sock" ] && (exec 3<>/dev/tcp/127.0.0.1/"$SPAMD_PORT") 2>/dev/null && break
  sleep 0.1
done
start_counting_sink

scanners="scanners:
  spam: { spamd: \"127.0.0.1:$SPAMD_PORT\", timeout: 20s }
  virus: { socket: $WORK/clamd/clamd.sock, timeout: 20s }"
echo "# $(date -u +%FT%TZ) $(nproc) cores; $MESSAGES messages of $SIZE bytes, $SESSIONS sessions"
for mode in none virus spam both; do
  when=""
  case $mode in
    virus) when="[ { virus: true } ]" ;;
    spam) when="[ { spam: true } ]" ;;
    both) when="[ { any: [ { virus: true }, { spam: true } ] } ]" ;;
  esac
  rules="rules:"
  [ -n "$when" ] && rules="$rules
  - name: scanned
    when: $when
    then: [ quarantine, { relay: sink } ]"
  rules="$rules
  - name: out
    then: [ { relay: sink } ]"
  start_sluice "$scanners
upstreams:
  sink: { hosts: [\"127.0.0.1:$SINK_PORT\"], tls: none }" ", rules: bench" "$rules"
  base=$(sink_count || true); base=${base:-0}
  start=$(date +%s.%N)
  /usr/sbin/smtp-source -s "$SESSIONS" -l "$SIZE" -m "$MESSAGES" -f bench@example.test -t sink@example.org -M bench-client.test "127.0.0.1:$SLUICE_PORT"
  for _ in $(seq 1 6000); do got=$(sink_count || true); got=${got:-0}; [ $(( got - base )) -ge "$MESSAGES" ] && break; sleep 0.05; done
  done_at=$(date +%s.%N)
  python3 - "$mode" "$MESSAGES" "$start" "$done_at" "$BENCH_DIR/sluice.log" "$(( got - base ))" <<'PY'
import json, sys
mode, n, start, end, log, got = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], int(sys.argv[6])
reply = sorted(float(json.loads(l)["reply_ms"]) for l in open(log, errors="replace") if '"reply_ms"' in l)
pct = lambda p: reply[min(len(reply) - 1, int(p * len(reply)))] if reply else float("nan")
print(f"{mode:6s}  relayed {got}/{n} in {end - start:.1f} s = {got / (end - start):.0f} msg/s; reply p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms")
PY
  stop_sluice
done
