# Shared by the bench scripts: start a release Sluice on port 0 with a
# throwaway data dir, and find the ports it bound.

SLUICE_BIN=${SLUICE_BIN:-$(pwd)/.build/release/sluice}

# start_sluice [EXTRA_YAML] [LISTENER_OPTIONS] [RULES_YAML] [DLP_YAML_FILE]
#   EXTRA_YAML: more top-level config (upstreams: ...)
#   LISTENER_OPTIONS: appended to the relay listener, e.g. ", rules: bench"
#   RULES_YAML: written to rules/bench.yaml
#   DLP_YAML_FILE: copied to rules/dlp.yaml (DLP profiles)
# EXTRA_LISTENERS: more entries for the listeners: list.
# SLUICE_LISTEN overrides the relay listener's address (default 127.0.0.1:0).
# Sets BENCH_DIR, SLUICE_PID, SLUICE_PORT.
start_sluice() {
  BENCH_DIR=$(mktemp -d /tmp/sluice-bench.XXXXXX)
  mkdir -p "$BENCH_DIR/etc" "$BENCH_DIR/rules"
  cat > "$BENCH_DIR/etc/sluice.yaml" <<YAML
hostname: bench.sluice.test
data_dir: var
admin: { address: "127.0.0.1:0" }
listeners:
  - { name: relay, address: "${SLUICE_LISTEN:-127.0.0.1:0}", tls: none, max_connections: 20000, max_connections_per_ip: 20000${2:-} }
${EXTRA_LISTENERS:-}
${1:-}
YAML
  [ -n "${3:-}" ] && printf '%s\n' "$3" > "$BENCH_DIR/rules/bench.yaml"
  [ -n "${4:-}" ] && cp "$4" "$BENCH_DIR/rules/dlp.yaml"
  run_sluice
}

# Starts (or, after a kill, restarts) Sluice on the config and data dir in
# BENCH_DIR and waits until its listeners are bound.
run_sluice() {
  rm -f "$BENCH_DIR/var/run/listeners.json"
  "$SLUICE_BIN" serve --config "$BENCH_DIR/etc/sluice.yaml" 2>>"$BENCH_DIR/sluice.log" &
  SLUICE_PID=$!
  for _ in $(seq 1 200); do
    if [ -f "$BENCH_DIR/var/run/listeners.json" ]; then break; fi
    sleep 0.05
  done
  SLUICE_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"]["relay"])' "$BENCH_DIR/var/run/listeners.json")
}

# A Postfix smtp-sink on a free loopback port that counts what arrives (its report in $WORK/sink.out).
# Sets SINK_PORT, SINK_PID. sink_count prints how many messages it has counted.
start_counting_sink() {
  SINK_PORT=$(free_port)
  /usr/sbin/smtp-sink -u nobody -c 127.0.0.1:"$SINK_PORT" 1024 > "$WORK/sink.out" 2>&1 &
  SINK_PID=$!
}
sink_count() { tr '\r' '\n' < "$WORK/sink.out" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2; }

# smtp-source sends MESSAGES messages of SIZE bytes over SESSIONS sessions to Sluice, then waits (at most 60 s)
# until the counting sink has them all. Sets RELAYED to the count at the sink.
send_and_wait_for_sink() {
  /usr/sbin/smtp-source -s "$SESSIONS" -l "$SIZE" -m "$MESSAGES" -f bench@example.test -t sink@example.org \
    -M bench-client.test "127.0.0.1:$SLUICE_PORT"
  for _ in $(seq 1 1200); do
    RELAYED=$(sink_count); RELAYED=${RELAYED:-0}
    [ "$RELAYED" -ge "$MESSAGES" ] && break
    sleep 0.05
  done
}

# The full pipeline (issue 18): DKIM with KEY_FILE, the three DLP profiles of rules/dlp.yaml and rules testing
# them, `archive: default` (unless ARCHIVE is 0) and relay to the smtp-sink on SINK_PORT.
# start_full_pipeline SINK_PORT KEY_FILE [ARCHIVE]
start_full_pipeline() {
  local archive=""
  [ "${3:-1}" = 1 ] && archive="{ archive: default }, "
  start_sluice "archives: { default: { retention: 30d } }
upstreams:
  sink: { hosts: [\"127.0.0.1:$1\"], tls: none }
dkim:
  - { domain: example.test, selector: s1, algorithm: rsa-sha256, key: \"$2\", state: active }" \
    ", rules: bench" "rules:
  - { name: no-cards, when: [ { dlp: pci } ], then: [ { reject: { code: 550, status: 5.7.1 } } ] }
  - { name: no-secrets, when: [ { dlp: secrets } ], then: [ { reject: { code: 550, status: 5.7.1 } } ] }
  - { name: pii, when: [ { dlp: pii } ], then: [ { add_header: { name: X-DLP, value: pii } } ] }
  - name: out
    then: [ $archive{ relay: sink } ]" rules/dlp.yaml
}

stop_sluice() {
  kill "$SLUICE_PID" 2>/dev/null || true
  wait "$SLUICE_PID" 2>/dev/null || true
  rm -rf "$BENCH_DIR"
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# A loopback TCP port free at the moment (for daemons that cannot report the one they bound).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
