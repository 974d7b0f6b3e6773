#!/usr/bin/env bash
# One node's throughput on the embedded store (SQLite) and on the shared
# store (PostgreSQL 15, private instance on loopback), on the same job: the
# full pipeline (DKIM, the three DLP profiles, `archive: default`, relay to a
# Postfix smtp-sink) plus a per-client rate limit, so that every message pays
# the shared state a cluster needs (one rate-limit round trip, the archive
# row and its index). Runs alternate so drift hits both alike. Prints one
# line per run, the medians and the ratio PostgreSQL / SQLite.
#   RUNS=3 MESSAGES=3000 SIZE=4096 SESSIONS=20 bench/shared-store.sh
# LIMIT= (empty) leaves the rate limit out, ARCHIVE= the archive: what each costs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-3}
MESSAGES=${MESSAGES:-3000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
[ "$(id -u)" = 0 ] || { echo "shared-store.sh needs root (it starts PostgreSQL as the postgres user)" >&2; exit 1; }
for p in postfix postgresql; do dpkg -s $p >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get -y -q install --no-install-recommends $p >/dev/null; done
[ -x "$SLUICE_BIN" ] || { echo "build first: swift build -c release" >&2; exit 1; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

WORK=$(mktemp -d /tmp/sluice-shared.XXXXXX)
chmod 755 "$WORK"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/dkim.pem" 2>/dev/null
chmod 644 "$WORK/dkim.pem"
# On PostgreSQL the signing key lives in the store, sealed with this key-encryption key (storage copy puts it there).
"$SLUICE_BIN" archive keygen --out "$WORK/kek" >/dev/null
PG_PORT=$(free_port)
mkdir -p "$WORK/pg" && chown postgres "$WORK/pg"
setpriv --reuid=postgres --regid=postgres --clear-groups -- "$PGBIN/initdb" -D "$WORK/pg/data" -U sluice --auth=trust -E UTF8 --no-locale >/dev/null
# setpriv execs the server: PG_PID is the postmaster's own, and SIGINT (a fast shutdown) reaches it.
setpriv --reuid=postgres --regid=postgres --clear-groups -- "$PGBIN/postgres" -D "$WORK/pg/data" -p "$PG_PORT" \
  -c listen_addresses=127.0.0.1 -c unix_socket_directories="$WORK/pg" -c shared_buffers=256MB > "$WORK/pg/log" 2>&1 &
PG_PID=$!
SINK_PID=
cleanup() {
  [ -n "${SLUICE_PID:-}" ] && stop_sluice
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
  kill -INT "$PG_PID" 2>/dev/null; wait "$PG_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 200); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.05; done
psql() { "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U sluice "$@"; }

run() {  # run BACKEND RUN -> prints msg/s
  local storage=""
  if [ "$1" = postgres ]; then
    psql -d postgres -c "CREATE DATABASE bench$2" >/dev/null
    storage="storage: { backend: postgres, postgres: { url: \"postgres://sluice@127.0.0.1:$PG_PORT/bench$2?sslmode=disable\", pool_size: 20, kek_file: \"$WORK/kek\" } }"
  fi
  start_counting_sink
  EXTRA="policies:
  bench: { default: allow, rate_limits: [ ${LIMIT-{ per: client_ip, messages: 100000000, window: 1m \}} ] }
$storage"
  # The full pipeline of lib.sh, with the policy and the storage block.
  BENCH_DIR=$(mktemp -d /tmp/sluice-bench.XXXXXX)
  mkdir -p "$BENCH_DIR/etc" "$BENCH_DIR/rules"
  cat > "$BENCH_DIR/etc/sluice.yaml" <<YAML
hostname: bench.sluice.test
data_dir: var
admin: { address: "127.0.0.1:0" }
listeners:
  - { name: relay, address: "127.0.0.1:0", tls: none, max_connections: 20000, max_connections_per_ip: 20000, rules: bench, policy: bench }
archives: { default: { retention: 30d } }
upstreams:
  sink: { hosts: ["127.0.0.1:$SINK_PORT"], tls: none }
dkim:
  - { domain: example.test, selector: s1, algorithm: rsa-sha256, key: "$WORK/dkim.pem", state: active }
$EXTRA
YAML
  cat > "$BENCH_DIR/rules/bench.yaml" <<'YAML'
rules:
  - { name: no-cards, when: [ { dlp: pci } ], then: [ { reject: { code: 550, status: 5.7.1 } } ] }
  - { name: no-secrets, when: [ { dlp: secrets } ], then: [ { reject: { code: 550, status: 5.7.1 } } ] }
  - { name: pii, when: [ { dlp: pii } ], then: [ { add_header: { name: X-DLP, value: pii } } ] }
  - name: out
    then: [ ARCHIVE{ relay: sink } ]
YAML
  sed -i "s/ARCHIVE/${ARCHIVE-\{ archive: default \}, }/" "$BENCH_DIR/rules/bench.yaml"
  cp rules/dlp.yaml "$BENCH_DIR/rules/dlp.yaml"
  if [ "$1" = postgres ]; then
    "$SLUICE_BIN" storage migrate --config "$BENCH_DIR/etc/sluice.yaml" >/dev/null
    "$SLUICE_BIN" storage copy --from sqlite --to postgres --config "$BENCH_DIR/etc/sluice.yaml" >/dev/null
  fi
  "$SLUICE_BIN" check --config "$BENCH_DIR/etc/sluice.yaml" >/dev/null || { echo "$1: the configuration does not check" >&2; exit 1; }
  run_sluice
  local start end
  start=$(date +%s.%N)
  send_and_wait_for_sink
  end=$(date +%s.%N)
  local archived=""
  if [ "$1" = postgres ]; then archived=$(psql -d "bench$2" -At -c "SELECT count(*) FROM archive_message"); fi
  stop_sluice
  kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=
  [ "$RELAYED" -ge "$MESSAGES" ] || { echo "$1: only $RELAYED of $MESSAGES relayed" >&2; exit 1; }
  python3 -c "import sys; print(f'{int(sys.argv[1])/(float(sys.argv[3])-float(sys.argv[2])):.0f}')" "$MESSAGES" "$start" "$end"
  [ -n "$archived" ] && echo "  postgres run $2: $archived messages in archive_message" >&2
  return 0
}

declare -A rates
for r in $(seq 1 "$RUNS"); do
  for backend in sqlite postgres; do
    rate=$(run $backend "$r")
    rates[$backend]="${rates[$backend]:-} $rate"
    echo "run $r $backend: $rate msg/s ($MESSAGES x $SIZE bytes, $SESSIONS sessions)"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(echo "${rates[sqlite]}" | median); p=$(echo "${rates[postgres]}" | median)
echo "median: sqlite $s msg/s, postgres $p msg/s, postgres/sqlite $(python3 -c "print(f'{$p/$s:.2f}')")"
