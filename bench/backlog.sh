#!/usr/bin/env bash
# The queue after a long outage (issue 33). Fills a queue of N messages over
# SMTP (smtp-source, SESSIONS sessions, SIZE bytes) through a `relay:` rule to
# an upstream that is down (nothing listens on its port: every attempt
# defers, retry schedule [1h]); then measures, on that backlog:
#   - idle CPU while nothing is due, and the resident set at the peak of the fill
#   - a restart: time to listening, and until the queue is indexed
#   - `queue list` and `--json`: total time and time to the first line
#   - the drain: a Postfix smtp-sink comes up on the upstream's port and
#     `sluice queue retry --all`; delivered msg/s per tenth of the backlog and
#     the daemon's CPU per message
#   - the resident set after the drain (and after the daemon's next trim)
#   - beside it, the fresh-relay rate of the same daemon with the sink up
# Release build; needs postfix's smtp-source and smtp-sink (installed if missing).
#   N=100000 SESSIONS=20 SIZE=4096 bench/backlog.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-100000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
FRESH=${FRESH:-$(( N / 10 > 20000 ? 20000 : (N / 10 < 5000 ? 5000 : N / 10) ))}
[ -x /usr/sbin/smtp-sink ] || DEBIAN_FRONTEND=noninteractive apt-get -y -q install --no-install-recommends postfix >/dev/null
[ -x "$SLUICE_BIN" ] || { echo "build first: swift build -c release" >&2; exit 1; }

WORK=$(mktemp -d /tmp/sluice-backlog.XXXXXX)
chmod 755 "$WORK"
SINK_PID=
cleanup() {
  [ -n "${SLUICE_PID:-}" ] && stop_sluice
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
queue_cli() { "$SLUICE_BIN" queue "$@" --config "$BENCH_DIR/etc/sluice.yaml"; }
count() { grep -c "$1" "$BENCH_DIR/sluice.log" || true; }

SINK_PORT=$(free_port)
start_sluice "upstreams:
  down: { hosts: [\"127.0.0.1:$SINK_PORT\"], tls: none, probe_interval: 0s }
delivery: { retry_schedule: [1h] }" ", rules: bench" "rules:
  - name: out
    then: [ { relay: down } ]"
echo "# $(date -u +%FT%TZ) $(nproc) cores; backlog of $N messages of $SIZE B over $SESSIONS sessions; upstream down (connection refused)"
idle_rss=$(rss_kib "$SLUICE_PID")

# 1. The outage: N messages accepted, each deferred once.
t0=$(now)
/usr/sbin/smtp-source -s "$SESSIONS" -l "$SIZE" -m "$N" -f bench@example.test -t sink@example.org -M bench-client.test "127.0.0.1:$SLUICE_PORT"
t1=$(now)
for _ in $(seq 1 6000); do [ "$(count '"event":"deferred"')" -ge "$N" ] && break; sleep 0.1; done
fill_rss=$(rss_kib "$SLUICE_PID"); fill_hwm=$(hwm_kib "$SLUICE_PID")
c0=$(cpu_ticks "$SLUICE_PID"); sleep 10; c1=$(cpu_ticks "$SLUICE_PID")
settled_rss=$(rss_kib "$SLUICE_PID")
if [ -n "${PERF_IDLE:-}" ]; then
  perf record -q -o "$WORK/idle.perf" -p "$SLUICE_PID" -- sleep 5 >/dev/null 2>&1 || true
  perf report -q -i "$WORK/idle.perf" --stdio --no-children --sort dso,symbol 2>/dev/null | grep -v '^$' | head -15 || true
fi
python3 -c "import sys; n,a,b=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(f'fill: {n} accepted in {b-a:.1f} s ({n/(b-a):.0f} msg/s)')" "$N" "$t0" "$t1"
echo "memory: idle ${idle_rss} KiB before; ${fill_rss} KiB resident when the last message deferred (peak ${fill_hwm} KiB), ${settled_rss} KiB 10 s later"
python3 -c "import sys; print(f'idle CPU with {sys.argv[1]} queued, nothing due: {(int(sys.argv[3])-int(sys.argv[2]))/int(sys.argv[4])/10*100:.1f}% of a core')" "$N" "$c0" "$c1" "$hz"

# 2. A restart with the backlog.
kill "$SLUICE_PID"; wait "$SLUICE_PID" 2>/dev/null || true
before=$(wc -l < "$BENCH_DIR/sluice.log")
t0=$(now)
run_sluice
t1=$(now)
# The restarted daemon's line, not the first start's (the log is appended to).
for _ in $(seq 1 30000); do tail -n +"$(( before + 1 ))" "$BENCH_DIR/sluice.log" | grep -q '"msg":"queue indexed"' && break; sleep 0.02; done
t2=$(now)
python3 -c "import sys; a,b,c=map(float,sys.argv[1:4]); print(f'restart with {sys.argv[4]} queued: listening after {b-a:.2f} s, queue indexed after {c-a:.2f} s')" "$t0" "$t1" "$t2" "$N"
restart_rss=$(rss_kib "$SLUICE_PID")

# 3. queue list on the backlog.
for form in "" "--json"; do
  t0=$(now); { queue_cli list $form || true; } | head -1 >/dev/null; t1=$(now)
  queue_cli list $form >/dev/null; t2=$(now)
  python3 -c "import sys; a,b,c=map(float,sys.argv[1:4]); print(f'queue list {sys.argv[4]}: first line after {b-a:.2f} s, all in {c-a:.2f} s')" "$t0" "$t1" "$t2" "$form"
done

# 4. The upstream returns: the drain, per tenth of the backlog.
/usr/sbin/smtp-sink -u nobody -c 127.0.0.1:"$SINK_PORT" 1024 > "$WORK/sink.out" 2>&1 &
SINK_PID=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$SINK_PORT") 2>/dev/null && break; sleep 0.05; done
sleep 0.5; base=$(sink_count); base=${base:-0}
c0=$(cpu_ticks "$SLUICE_PID"); t0=$(now)
# The retry: with the daemon running, a notice; the daemon makes every message due now in memory (nothing rewritten).
( queue_cli retry --all >/dev/null; now > "$WORK/retry.done" ) &
RETRY_PID=$!
marks=("$t0")
for tenth in $(seq 1 10); do
  want=$(( N * tenth / 10 ))
  for _ in $(seq 1 60000); do got=$(sink_count); got=${got:-0}; [ $(( got - base )) -ge "$want" ] && break; sleep 0.01; done
  marks+=("$(now)")
done
c1=$(cpu_ticks "$SLUICE_PID"); drain_hwm=$(hwm_kib "$SLUICE_PID"); drained_rss=$(rss_kib "$SLUICE_PID")
wait "$RETRY_PID"
python3 -c "import sys; print(f'queue retry --all: {sys.argv[3]} messages handed to the daemon in {float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$t0" "$(cat "$WORK/retry.done")" "$N"
python3 - "$N" "$hz" "$c0" "$c1" "${marks[@]}" <<'PY'
import sys
n, hz, c0, c1 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
marks = list(map(float, sys.argv[5:]))
rates = [n / 10 / (b - a) for a, b in zip(marks, marks[1:])]
print(f"drain: {n} delivered in {marks[-1] - marks[0]:.1f} s ({n / (marks[-1] - marks[0]):.0f} msg/s); per tenth: "
      + " ".join(f"{r:.0f}" for r in rates))
print(f"drain CPU: {(c1 - c0) / hz / n * 1000:.2f} ms per message")
open("/tmp/sluice-backlog-drain", "w").write(f"{min(rates)} {n / (marks[-1] - marks[0])}\n")
PY
sleep 12  # the daemon looks at its heap every 10 s
after_rss=$(rss_kib "$SLUICE_PID")
echo "memory: ${restart_rss} KiB after the restart with $N queued; peak during the drain ${drain_hwm} KiB; ${drained_rss} KiB when drained, ${after_rss} KiB 12 s later (idle was ${idle_rss} KiB: $(python3 -c "print(f'{$after_rss/$idle_rss:.1f}x')"))"

# 5. Fresh mail through the same daemon, the sink up.
base=$(sink_count); base=${base:-0}
t0=$(now)
/usr/sbin/smtp-source -s "$SESSIONS" -l "$SIZE" -m "$FRESH" -f bench@example.test -t sink@example.org -M bench-client.test "127.0.0.1:$SLUICE_PORT"
for _ in $(seq 1 60000); do got=$(sink_count); got=${got:-0}; [ $(( got - base )) -ge "$FRESH" ] && break; sleep 0.01; done
t1=$(now)
python3 - "$FRESH" "$t0" "$t1" <<'PY'
import sys
n, a, b = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
fresh = n / (b - a)
worst, drain = map(float, open("/tmp/sluice-backlog-drain").read().split())
print(f"fresh relay: {n} in {b - a:.1f} s ({fresh:.0f} msg/s); the drain ran at {drain / fresh:.0%} of it overall, "
      f"{worst / fresh:.0%} in its slowest tenth")
PY
