#!/usr/bin/env bash
# Exact Data Match (issue 34): RECORDS (1,000,000) generated customer records
# (account, e-mail, phone) imported with `sluice dlp edm import` (time, peak
# RSS, index size), then `sluice dlp scan --seconds` on the plain-text corpus
# of dlp.sh with the nine predefined detectors, without and with the EDM
# source (MB/s on one core, and the ratio).
#   RECORDS=1000000 SECONDS_PER=3 bench/edm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE_BIN=${SLUICE_BIN:-.build/release/sluice}
[ -x "$SLUICE_BIN" ] || swift build -c release >/dev/null
RECORDS=${RECORDS:-1000000}
SECONDS_PER=${SECONDS_PER:-3}
OUT=$(mktemp -d /tmp/sluice-edm-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$OUT/etc" "$OUT/rules" "$OUT/data"
cat > "$OUT/rules/dlp.yaml" <<'YAML'
profiles:
  all:
    detectors: [credit_card, us_ssn, iban, aws_access_key_id, aws_secret_access_key, private_key, email_address, phone_number, jwt]
    max_bytes: 64MB
YAML
base='hostname: bench.test\ndata_dir: var\nlisteners:\n  - { name: relay, address: "127.0.0.1:0" }\n'
printf "$base" > "$OUT/etc/plain.yaml"
printf "$base"'dlp:\n  edm:\n    customers: { file: data/customers.csv, columns: [account, email, phone], key_file: etc/edm.key }\n' > "$OUT/etc/sluice.yaml"
/usr/bin/python3 - "$OUT/data/customers.csv" "$RECORDS" <<'PY'
import random, sys
random.seed(34)
with open(sys.argv[1], "w") as f:
    f.write("id,name,account,email,phone\n")
    for i in range(int(sys.argv[2])):
        f.write(f'{i},"Customer {i}",{random.randrange(4_000_000_000, 9_000_000_000)},customer{i}.{random.randrange(1000)}@example-bank.test,'
                f'({random.randrange(200, 1000)}) {random.randrange(200, 1000)}-{random.randrange(10000):04d}\n')
PY
"$SLUICE_BIN" dlp edm keygen --config "$OUT/etc/sluice.yaml" >/dev/null
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$OUT/rss" "$SLUICE_BIN" dlp edm import customers --config "$OUT/etc/sluice.yaml" > "$OUT/import.out"
took=$(echo "$(date +%s.%N) - $start" | bc)
size=$(stat -c %s "$OUT/var/edm/customers.idx")
printf 'import: %d records in %.1f s; index %.1f MB (%.1f bytes per record); peak RSS %d MiB\n' \
  "$RECORDS" "$took" "$(echo "$size / 1000000" | bc -l)" "$(echo "$size / $RECORDS" | bc -l)" $(( $(cat "$OUT/rss") / 1024 ))
/usr/bin/python3 bench/dlp_corpus.py "$OUT" >/dev/null
without=$("$SLUICE_BIN" dlp scan --config "$OUT/etc/plain.yaml" --seconds "$SECONDS_PER" "$OUT"/dlp-plain.eml | sed -E 's/.*: ([0-9.]+) MB\/s.*/\1/')
with=$(/usr/bin/time -f "%M" -o "$OUT/rss2" "$SLUICE_BIN" dlp scan --config "$OUT/etc/sluice.yaml" --seconds "$SECONDS_PER" "$OUT"/dlp-plain.eml | sed -E 's/.*: ([0-9.]+) MB\/s.*/\1/')
printf 'plain text, 9 detectors: %s MB/s without EDM, %s MB/s with the %d-record source (%.0f%%); scan process RSS %d MiB\n' \
  "$without" "$with" "$RECORDS" "$(echo "100 * $with / $without" | bc -l)" $(( $(cat "$OUT/rss2") / 1024 ))
