#!/usr/bin/env bash
# Where a message's CPU goes in the full pipeline (issue 18): Sluice with DKIM
# (RSA-2048), the three DLP profiles, `archive: default` and relay to a
# Postfix smtp-sink, loaded by smtp-source (SESSIONS sessions, MESSAGES
# messages of SIZE bytes), sampled by `perf record -g` (cpu-clock: this VM has
# no hardware counters). Prints Sluice's CPU time per message (from
# /proc/PID/stat), that time split by stage (inclusive time of each stage's
# entry points, Swift names demangled), self time by library, and the top
# symbols. KEEP_PERF=FILE keeps perf.data for `perf report -i FILE`.
#   SIZE=4096 MESSAGES=6000 SESSIONS=20 bench/profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZE=${SIZE:-4096}
MESSAGES=${MESSAGES:-6000}
SESSIONS=${SESSIONS:-20}
TOP=${TOP:-25}
command -v perf >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get -y -q install --no-install-recommends linux-perf >/dev/null
[ -x /usr/sbin/smtp-sink ] || DEBIAN_FRONTEND=noninteractive apt-get -y -q install --no-install-recommends postfix >/dev/null
[ -x "$SLUICE_BIN" ] || { echo "build first: swift build -c release" >&2; exit 1; }

WORK=$(mktemp -d /tmp/sluice-profile.XXXXXX)
chmod 755 "$WORK"
SINK_PID= PERF_PID=
cleanup() {
  [ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null
  [ -n "${KEEP_PERF:-}" ] && [ -f "$WORK/perf.data" ] && cp "$WORK/perf.data" "$KEEP_PERF"
  [ -n "${SLUICE_PID:-}" ] && stop_sluice
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/dkim.pem" 2>/dev/null

start_counting_sink
start_full_pipeline "$SINK_PORT" "$WORK/dkim.pem" "${ARCHIVE:-1}"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SLUICE_PID/stat"; }

perf record -F 999 -g -p "$SLUICE_PID" -o "$WORK/perf.data" >/dev/null 2>"$WORK/perf.err" &
PERF_PID=$!
sleep 0.5
before=$(cpu_ticks)
start=$(date +%s.%N)
send_and_wait_for_sink
done_at=$(date +%s.%N)
after=$(cpu_ticks)
kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true; PERF_PID=
hz=$(getconf CLK_TCK)
echo "# $(date -u +%FT%TZ) $(nproc) cores; $MESSAGES messages of $SIZE bytes, $SESSIONS sessions; full pipeline (DKIM + DLP + archive + relay)"
python3 - "$before" "$after" "$hz" "$MESSAGES" "$start" "$done_at" "$RELAYED" <<'PY'
import sys
before, after, hz, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
secs = float(sys.argv[6]) - float(sys.argv[5])
print(f"relayed {sys.argv[7]} in {secs:.1f} s ({int(sys.argv[7]) / secs:.0f} msg/s); Sluice CPU {(after - before) / hz:.1f} s = {1000 * (after - before) / hz / n:.2f} ms per message")
PY
perf report -i "$WORK/perf.data" --children --sort sym --stdio -g none --percent-limit 0.01 2>/dev/null \
  | grep -E '^ +[0-9.]+%' | swift demangle --simplified --compact > "$WORK/children.txt"
perf report -i "$WORK/perf.data" --no-children --sort dso,sym --stdio -g none --percent-limit 0.01 2>/dev/null \
  | grep -E '^ +[0-9.]+%' | swift demangle --simplified --compact > "$WORK/self.txt"
python3 - "$WORK/children.txt" "$WORK/self.txt" "$TOP" "$before" "$after" "$hz" "$MESSAGES" <<'PY'
import re, sys
children = []
for line in open(sys.argv[1]):
    m = re.match(r"\s*([0-9.]+)%\s+([0-9.]+)%\s+\[(.)\]\s+(.*)", line)
    if m:
        children.append((float(m.group(1)), m.group(4).strip()))
ms = 1000 * (int(sys.argv[5]) - int(sys.argv[4])) / int(sys.argv[6]) / int(sys.argv[7])
# Each stage: the entry points whose inclusive time (with everything they call) is the stage's cost. Entry
# points on different threads are added; for one entry point the largest of its symbols (thunks, closures)
# counts. Stages nest in places (logging happens inside the others), so the shares do not add up to 100%.
stages = [
    ("SMTP server (parse, replies, spool)", [r"^SMTPServerHandler\.channelRead", r"SpoolWriter\.flush\(\)$"]),
    ("checks and rules before the 250 (DLP, rules)", [r"^MessageIntake\.receive|closure #\d+ in MessageIntake\.receive"]),
    ("  of which DLP inspect", [r"^DLPScanner\.inspect"]),
    ("queue commit (end record, fsync)", [r"^QueueStore\.commit"]),
    ("queue state reads and updates", [r"^QueueStore\.modify"]),
    ("DKIM signing", [r"DKIMSignModifier\.modify"]),
    ("relay (SMTP client)", [r"^SMTPClientHandler\.channelRead", r"SMTPClientHandler\.sendChunk"]),
    ("archive (entry, compression, SQLite)", [r"^ArchiveTarget\.deliver", r"closure #\d+ in SQLiteArchiveStore\.add"]),
    ("logging", [r"^Logger\.event"]),
    ("kernel: fsync", [r"^do_fsync$"]),
    ("kernel: TCP send", [r"^tcp_sendmsg$"]),
]
print("\nCPU by stage (inclusive share of Sluice's samples; ms of CPU per message):")
for name, patterns in stages:
    share = 0.0
    for p in patterns:
        share += max((pct for pct, sym in children if re.search(p, sym)), default=0.0)
    print(f"  {name:<46} {share:5.1f}%  {ms * share / 100:5.2f} ms")
rows = []
for line in open(sys.argv[2]):
    m = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
    if m:
        rows.append((float(m.group(1)), m.group(2), m.group(4).strip()))
dso = {}
for pct, d, sym in rows:
    dso[d] = dso.get(d, 0) + pct
# C libraries built without frame pointers do not unwind to their Swift callers: their self time is added here.
print("C libraries whose frames do not unwind (self time):")
for name, libs in [("DKIM RSA signatures (libcrypto)", ["libcrypto.so.3"]), ("archive compression and SQLite (libz, libsqlite3)", [k for k in dso if k.startswith("libz.") or k.startswith("libsqlite3")]), ("DLP matching (libhs)", [k for k in dso if k.startswith("libhs")])]:
    share = sum(dso.get(k, 0) for k in libs)
    print(f"  {name:<46} {share:5.1f}%  {ms * share / 100:5.2f} ms")
print("\nSelf time by library:")
for d, v in sorted(dso.items(), key=lambda kv: -kv[1])[:8]:
    print(f"  {d:<28} {v:5.1f}%")
print(f"\nTop {sys.argv[3]} symbols (self):")
for pct, d, sym in sorted(rows, key=lambda r: -r[0])[: int(sys.argv[3])]:
    print(f"  {pct:6.2f}%  {d:<24} {sym[:100]}")
PY
