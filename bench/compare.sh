#!/usr/bin/env bash
# Sluice next to Postfix on the same job, in one run (R-PERF-1).
#
# Each system accepts mail from Postfix's smtp-source (SESSIONS concurrent
# sessions) on a loopback port, queues it durably and relays it to a fresh
# Postfix smtp-sink; the sink counts what arrives. Systems, run in turn for
# every size and every run so drift on the machine hits all of them alike:
#   harness          smtp-source straight into smtp-sink (the harness limit)
#   postfix          Postfix 3.7, private instance, relayhost = the sink
#   postfix+opendkim the same with OpenDKIM signing (milter on a unix socket)
#   sluice+dkim      Sluice, rule `relay`, DKIM signing (RSA-2048, same key)
#   sluice+dkim+dlp  the same with the predefined DLP profiles scanning every message
#   sluice+full      the full pipeline: DKIM + the three DLP profiles + `archive:
#                    default` (the default rule set's archive) + relay
# Prints one line per run, then min/median/max per system, the ratios of
# medians Sluice / Postfix+OpenDKIM and Sluice / Postfix, what the archive
# costs (full vs dkim+dlp), and Sluice's p50/p99 time from end of DATA to the
# 250 reply (the `reply_ms` of its `queued` log lines). Needs root (Postfix, OpenDKIM); installs
# postfix and opendkim from apt when they are missing.
#   RUNS=3 MESSAGES=3000 SIZES="4096 102400" SESSIONS=20 bench/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
. bench/postfix.sh
RUNS=${RUNS:-3}
MESSAGES=${MESSAGES:-3000}
SESSIONS=${SESSIONS:-20}
SIZES=${SIZES:-4096 102400}
SYSTEMS=${SYSTEMS:-harness postfix postfix+opendkim sluice+dkim sluice+dkim+dlp sluice+full}
SMTP_SOURCE=/usr/sbin/smtp-source
SMTP_SINK=/usr/sbin/smtp-sink

[ "$(id -u)" = 0 ] || { echo "compare.sh needs root (it starts Postfix and OpenDKIM)" >&2; exit 1; }
missing=""
for p in postfix opendkim; do dpkg -s $p >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get -y -q install --no-install-recommends $missing >/dev/null
fi
[ -x "$SLUICE_BIN" ] || { echo "build first: swift build -c release" >&2; exit 1; }
# The Debian packages start system instances; they would compete for the CPU.
systemctl stop postfix opendkim >/dev/null 2>&1 || true

WORK=$(mktemp -d /tmp/sluice-compare.XXXXXX)
chmod 755 "$WORK"      # the sink (user nobody) writes its dumps below it
RESULTS=$WORK/results
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/dkim.pem" 2>/dev/null
chmod 644 "$WORK/dkim.pem"
SINK_PID=
cleanup() {
  [ -n "${SLUICE_PID:-}" ] && stop_sluice
  stop_postfix; stop_opendkim
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT


start_sink() {
  SINK_PORT=$(free_port)
  "$SMTP_SINK" -u nobody -c 127.0.0.1:"$SINK_PORT" 1024 > "$WORK/sink.out" 2>&1 &
  SINK_PID=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$SINK_PORT") 2>/dev/null && break; sleep 0.05; done
}

start_system() {
  case $1 in
    harness) TARGET_PORT=$SINK_PORT ;;
    postfix) TARGET_PORT=$(free_port); start_postfix "$TARGET_PORT" "$SINK_PORT" ;;
    postfix+opendkim)
      start_opendkim example.test s1 "$WORK/dkim.pem"
      TARGET_PORT=$(free_port); start_postfix "$TARGET_PORT" "$SINK_PORT" "$DKIM_SOCKET" ;;
    sluice+dkim|sluice+dkim+dlp|sluice+full)
      local rules="rules:
  - name: out
    then: [ { relay: sink } ]" dlp="" archive=""
      if [ "$1" != sluice+dkim ]; then
        dlp=rules/dlp.yaml
        [ "$1" = sluice+full ] && archive="{ archive: default }, "
        rules="rules:
  - { name: no-cards, when: [ { dlp: pci } ], then: [ { reject: { code: 550, status: 5.7.1 } } ] }
  - { name: no-secrets, when: [ { dlp: secrets } ], then: [ { reject: { code: 550, status: 5.7.1 } } ] }
  - { name: pii, when: [ { dlp: pii } ], then: [ { add_header: { name: X-DLP, value: pii } } ] }
  - name: out
    then: [ $archive{ relay: sink } ]"
      fi
      start_sluice "archives: { default: { retention: 30d } }
upstreams:
  sink: { hosts: [\"127.0.0.1:$SINK_PORT\"], tls: none }
dkim:
  - { domain: example.test, selector: s1, algorithm: rsa-sha256, key: \"$WORK/dkim.pem\", state: active }" \
        ", rules: bench" "$rules" "$dlp"
      TARGET_PORT=$SLUICE_PORT ;;
  esac
}

stop_system() {
  case $1 in
    postfix) stop_postfix ;;
    postfix+opendkim) stop_postfix; stop_opendkim ;;
    sluice*) stop_sluice; SLUICE_PID= ;;
  esac
  kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=
}

# One measurement: accepted msg/s (smtp-source finished) and relayed msg/s
# (the sink counted every message), both from the first connection.
measure() {
  local system=$1 size=$2 run=$3
  start_sink
  start_system "$system"
  local start accepted_at done_at count=0 last=0 idle=0
  start=$(date +%s.%N)
  "$SMTP_SOURCE" -s "$SESSIONS" -l "$size" -m "$MESSAGES" -f bench@example.test -t sink@example.org \
    -M bench-client.test "127.0.0.1:$TARGET_PORT"
  accepted_at=$(date +%s.%N)
  while :; do
    count=$(sink_count); count=${count:-0}
    [ "$count" -ge "$MESSAGES" ] && break
    if [ "$count" = "$last" ]; then idle=$((idle + 1)); else idle=0; last=$count; fi
    [ "$idle" -ge 600 ] && break          # 30 s without progress
    sleep 0.05
  done
  done_at=$(date +%s.%N)
  local log=/dev/null
  case $system in sluice*) log=$WORK/sluice-run.log; cp "$BENCH_DIR/sluice.log" "$log" ;; esac
  stop_system "$system"
  python3 - "$system" "$size" "$run" "$start" "$accepted_at" "$done_at" "$count" "$MESSAGES" "$log" <<'PY' | tee -a "$RESULTS"
import json, sys
system, size, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start, accepted, done = map(float, sys.argv[4:7])
count, messages = int(sys.argv[7]), int(sys.argv[8])
# End of DATA -> 250, from Sluice's queued lines (Postfix does not log it).
reply = sorted(float(json.loads(l)["reply_ms"]) for l in open(sys.argv[9], errors="replace") if '"reply_ms"' in l)
pct = lambda q: f"{reply[min(len(reply) - 1, int(q * len(reply)))]:.1f}" if reply else "-"
print(f"{system}\t{size}\t{run}\t{messages / (accepted - start):.0f}\t{count / (done - start):.0f}\t{count}\t{pct(0.5)}\t{pct(0.99)}")
PY
}

# Proof that both signers sign: one message through each, dumped at a sink.
signature_check() {
  local system=$1 dump=$WORK/dump
  rm -rf "$dump"; mkdir -p "$dump"; chmod 777 "$dump"
  SINK_PORT=$(free_port)
  "$SMTP_SINK" -u nobody -d "$dump/%M." 127.0.0.1:"$SINK_PORT" 64 >/dev/null 2>&1 &
  SINK_PID=$!
  sleep 0.3
  start_system "$system"
  "$SMTP_SOURCE" -s 1 -m 1 -l 500 -f bench@example.test -t sink@example.org "127.0.0.1:$TARGET_PORT"
  for _ in $(seq 1 100); do [ -n "$(find "$dump" -type f)" ] && break; sleep 0.1; done
  if grep -A3 -i '^DKIM-Signature' $(find "$dump" -type f) 2>/dev/null | grep -q 'd=example.test'; then
    echo "# $system: relayed mail carries a DKIM-Signature from example.test"
  else
    echo "# $system: NO DKIM-Signature at the sink; figures for it are not comparable" >&2
  fi
  stop_system "$system"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(postconf -d mail_version 2>/dev/null), $(opendkim -V 2>/dev/null | head -1)"
echo "# $MESSAGES messages per run, $SESSIONS sessions, sizes $SIZES, $RUNS runs"
for s in $SYSTEMS; do case $s in postfix+opendkim|sluice+*) signature_check "$s" ;; esac; done
echo -e "system\tsize\trun\taccepted/s\trelayed/s\tat sink\treply p50 ms\treply p99 ms"
for size in $SIZES; do
  for run in $(seq 1 "$RUNS"); do
    for system in $SYSTEMS; do measure "$system" "$size" "$run"; done
  done
done

python3 - "$RESULTS" "$MESSAGES" <<'PY'
import sys, statistics
messages = int(sys.argv[2])
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by, lat = {}, {}
for system, size, run, acc, rel, count, p50, p99 in rows:
    by.setdefault((int(size), system), []).append((float(acc), float(rel), int(count)))
    if p99 != "-":
        lat.setdefault((int(size), system), []).append((float(p50), float(p99)))
print()
print(f"{'size':>7}  {'system':<17} {'accepted msg/s (min/med/max)':>30} {'relayed msg/s (min/med/max)':>30}  missing  reply p50/p99 ms (median run)")
for (size, system), v in sorted(by.items(), key=lambda kv: (kv[0][0], list(by).index(kv[0]))):
    acc = sorted(x[0] for x in v); rel = sorted(x[1] for x in v)
    fmt = lambda xs: f"{xs[0]:.0f} / {statistics.median(xs):.0f} / {xs[-1]:.0f}"
    l = lat.get((size, system))
    lt = f"{statistics.median(x[0] for x in l):.1f} / {statistics.median(x[1] for x in l):.1f}" if l else "-"
    print(f"{size:>7}  {system:<17} {fmt(acc):>30} {fmt(rel):>30}  {sum(messages - x[2] for x in v):>7}  {lt}")
print()
med = lambda size, system: statistics.median(x[1] for x in by[(size, system)]) if (size, system) in by else None
for size in sorted({k[0] for k in by}):
    for system in ("sluice+dkim", "sluice+dkim+dlp", "sluice+full"):
        for base in ("postfix+opendkim", "postfix"):
            a, b = med(size, system), med(size, base)
            if a and b:
                print(f"{size:>7} B  {system} / {base}: {a / b:.2f}x relayed msg/s (medians {a:.0f} vs {b:.0f})")
    a, b = med(size, "sluice+full"), med(size, "sluice+dkim+dlp")
    if a and b:
        print(f"{size:>7} B  the archive costs {100 * (1 - a / b):.0f}% of throughput (sluice+full {a:.0f} vs sluice+dkim+dlp {b:.0f})")
PY
