#!/usr/bin/env bash
# Where a message's CPU goes in the full pipeline (issue 18): Sluice with DKIM
# (RSA-2048), the three DLP profiles, `archive: default` and relay to a
# Postfix smtp-sink, loaded by smtp-source (SESSIONS sessions, MESSAGES
# messages of SIZE bytes), sampled by `perf record -g` (cpu-clock: this VM has
# no hardware counters). Prints Sluice's CPU time per message (from
# /proc/PID/stat), that time split by stage (self time of each sampled symbol,
# Swift names demangled, grouped by module), and the top symbols.
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

SINK_PORT=$(free_port)
/usr/sbin/smtp-sink -u nobody -c 127.0.0.1:"$SINK_PORT" 1024 > "$WORK/sink.out" 2>&1 &
SINK_PID=$!
start_sluice "archives: { default: { retention: 30d } }
upstreams:
  sink: { hosts: [\"127.0.0.1:$SINK_PORT\"], tls: none }
dkim:
  - { domain: example.test, selector: s1, algorithm: rsa-sha256, key: \"$WORK/dkim.pem\", state: active }" \
  ", rules: bench" "rules:
  - { name: no-cards, when: [ { dlp: pci } ], then: [ { reject: { code: 550, status: 5.7.1 } } ] }
  - { name: no-secrets, when: [ { dlp: secrets } ], then: [ { reject: { code: 550, status: 5.7.1 } } ] }
  - { name: pii, when: [ { dlp: pii } ], then: [ { add_header: { name: X-DLP, value: pii } } ] }
  - name: out
    then: [ { archive: default }, { relay: sink } ]" rules/dlp.yaml

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SLUICE_PID/stat"; }
sink_count() { tr '\r' '\n' < "$WORK/sink.out" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2; }

perf record -F 999 -g -p "$SLUICE_PID" -o "$WORK/perf.data" >/dev/null 2>"$WORK/perf.err" &
PERF_PID=$!
sleep 0.5
before=$(cpu_ticks)
start=$(date +%s.%N)
/usr/sbin/smtp-source -s "$SESSIONS" -l "$SIZE" -m "$MESSAGES" -f bench@example.test -t sink@example.org \
  -M bench-client.test "127.0.0.1:$SLUICE_PORT"
for _ in $(seq 1 1200); do
  c=$(sink_count); [ "${c:-0}" -ge "$MESSAGES" ] && break
  sleep 0.05
done
done_at=$(date +%s.%N)
after=$(cpu_ticks)
kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true; PERF_PID=
hz=$(getconf CLK_TCK)
echo "# $(date -u +%FT%TZ) $(nproc) cores; $MESSAGES messages of $SIZE bytes, $SESSIONS sessions; full pipeline (DKIM + DLP + archive + relay)"
python3 - "$before" "$after" "$hz" "$MESSAGES" "$start" "$done_at" "${c:-0}" <<'PY'
import sys
before, after, hz, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
secs = float(sys.argv[6]) - float(sys.argv[5])
print(f"relayed {sys.argv[7]} in {secs:.1f} s ({int(sys.argv[7]) / secs:.0f} msg/s); Sluice CPU {(after - before) / hz:.1f} s = {1000 * (after - before) / hz / n:.2f} ms per message")
PY
perf report -i "$WORK/perf.data" --no-children --sort dso,sym --stdio -g none --percent-limit 0.01 2>/dev/null \
  | grep -E "^ +[0-9.]+%" | swift demangle --compact > "$WORK/symbols.txt"
python3 - "$WORK/symbols.txt" "$TOP" <<'PY'
import re, sys
rows = []
for line in open(sys.argv[1]):
    m = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
    if m:
        rows.append((float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()))
# Stage of a sample, by the module of its symbol (or its library).
stages = [
    ("dkim", r"SluiceMailAuth|DKIM|CCryptoBoringSSL|BoringSSL|bn_|rsaz|sha256_block|_RSA|Curve25519|ed25519"),
    ("dlp", r"SluiceDLP|libhs|hs_scan|avx2_|fdr|teddy|roseBlock|nfa|MIMEWalker|vectorscan"),
    ("archive", r"SluiceArchive|GRDB|sqlite3|libsqlite|fts5|libz\.|deflate|crc32|adler32|longest_match"),
    ("rules+pipeline", r"SluiceRules|SluicePipeline|SluicePolicy|SluiceConfig"),
    ("queue", r"SluiceQueue|SluiceDelivery|QueueManager"),
    ("smtp+nio", r"SluiceSMTP|SluiceServer|NIO|SMTPClient|epoll"),
    ("swift runtime+malloc", r"swift_|libswiftCore|libswift_Concurrency|malloc|free|memcpy|memmove|_int_|libc\.so|ld-linux|Foundation|libdispatch"),
    ("kernel", r"kernel"),
]
totals = {}
for pct, dso, kind, sym in rows:
    key = "other"
    text = dso + " " + sym
    if kind == "k":
        key = "kernel"
    else:
        for name, pattern in stages:
            if re.search(pattern, text):
                key = name
                break
    totals[key] = totals.get(key, 0) + pct
print("\nCPU by stage (share of Sluice's samples):")
for k, v in sorted(totals.items(), key=lambda kv: -kv[1]):
    print(f"  {k:<22} {v:6.1f}%")
print(f"\nTop {sys.argv[2]} symbols (self):")
for pct, dso, kind, sym in sorted(rows, key=lambda r: -r[0])[: int(sys.argv[2])]:
    print(f"  {pct:6.2f}%  {dso:<28} {sym[:110]}")
PY
