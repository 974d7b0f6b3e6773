#!/usr/bin/env bash
# DLP scan throughput on one core: `sluice dlp scan --seconds` (MIME walk,
# decoding, one vectorscan pass, validation) on a plain-text message, a base64
# attachment and a mixed message, next to a naive baseline measured in the
# same run: Python's re with one regex after another over the raw bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE_BIN=${SLUICE_BIN:-.build/release/sluice}
[ -x "$SLUICE_BIN" ] || swift build -c release >/dev/null
OUT=$(mktemp -d /tmp/sluice-dlp-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
SECONDS_PER=${SECONDS_PER:-3}
mkdir -p "$OUT/etc" "$OUT/rules"
printf 'hostname: bench.test\ndata_dir: var\nlisteners:\n  - { name: relay, address: "127.0.0.1:0" }\n' > "$OUT/etc/sluice.yaml"
cat > "$OUT/rules/dlp.yaml" <<'YAML'
profiles:
  all:
    detectors: [credit_card, us_ssn, iban, aws_access_key_id, aws_secret_access_key, private_key, email_address, phone_number, jwt]
    max_bytes: 64MB                     # the whole message is scanned (the default stops at 10 MB)
YAML
/usr/bin/python3 bench/dlp_corpus.py "$OUT" --baseline "$SECONDS_PER"
"$SLUICE_BIN" dlp scan --config "$OUT/etc/sluice.yaml" --seconds "$SECONDS_PER" "$OUT"/dlp-plain.eml "$OUT"/dlp-base64.eml "$OUT"/dlp-mixed.eml
