#!/usr/bin/env bash
# fsyncs per accepted message (issue 18), amortised over a run: Sluice with
# the full pipeline (DKIM + the three DLP profiles + `archive: default` +
# relay to Postfix's smtp-sink; ARCHIVE=0 leaves the archive out), loaded by
# smtp-source (SESSIONS sessions, MESSAGES messages of SIZE bytes), counted
# by `strace -f -c` attached to the daemon for the whole run (fsync,
# fdatasync and sync_file_range: queue files, queue directories, SQLite).
#   MESSAGES=3000 SESSIONS=20 SIZE=4096 ARCHIVE=1 bench/fsync.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
MESSAGES=${MESSAGES:-3000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
ARCHIVE=${ARCHIVE:-1}
command -v strace >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get -y -q install --no-install-recommends strace >/dev/null
[ -x /usr/sbin/smtp-sink ] || DEBIAN_FRONTEND=noninteractive apt-get -y -q install --no-install-recommends postfix >/dev/null
[ -x "$SLUICE_BIN" ] || { echo "build first: swift build -c release" >&2; exit 1; }

WORK=$(mktemp -d /tmp/sluice-fsync.XXXXXX)
chmod 755 "$WORK"
SINK_PID= STRACE_PID=
cleanup() {
  [ -n "$STRACE_PID" ] && kill -INT "$STRACE_PID" 2>/dev/null
  [ -n "${SLUICE_PID:-}" ] && stop_sluice
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/dkim.pem" 2>/dev/null

start_counting_sink
start_full_pipeline "$SINK_PORT" "$WORK/dkim.pem" "$ARCHIVE"

strace -f -c -e trace=fsync,fdatasync,sync_file_range -o "$WORK/strace.txt" -p "$SLUICE_PID" 2>/dev/null &
STRACE_PID=$!
sleep 0.5
send_and_wait_for_sink
sleep 1   # the last removals and archive commits
kill -INT "$STRACE_PID"; wait "$STRACE_PID" 2>/dev/null || true; STRACE_PID=
calls=$(awk '$NF ~ /^(fsync|fdatasync|sync_file_range)$/ {n += $4} END {print n + 0}' "$WORK/strace.txt")
python3 -c "import sys; c, m = int(sys.argv[1]), int(sys.argv[2]); print(f'fsync: {c} calls for {m} messages = {c / m:.2f} per accepted message (archive {\"on\" if sys.argv[3] == \"1\" else \"off\"}, {sys.argv[4]} bytes, {sys.argv[5]} sessions)')" \
  "$calls" "$MESSAGES" "$ARCHIVE" "$SIZE" "$SESSIONS"
grep -E "fsync|fdatasync|sync_file_range" "$WORK/strace.txt" | sed 's/^/  /'
