#!/usr/bin/env bash
# Every archive format at the speed of zip (issue 34): the same members (a
# docx, an xlsx and a 10,000-row CSV from bench/docs_corpus.py) as files.zip
# (Sluice's own zip reader) and as files.tar.gz (libarchive), each scanned
# for SECONDS_PER seconds on one core by `sluice dlp scan --seconds` with every
# predefined detector: archives per second, and tar.gz's time over zip's.
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE_BIN=${SLUICE_BIN:-.build/release/sluice}
[ -x "$SLUICE_BIN" ] || swift build -c release >/dev/null
SECONDS_PER=${SECONDS_PER:-5}
WORK=$(mktemp -d /tmp/sluice-archives-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 bench/docs_corpus.py "$WORK/corpus" >/dev/null
mkdir -p "$WORK/etc" "$WORK/rules"
printf 'hostname: bench.test\ndata_dir: var\nlisteners:\n  - { name: relay, address: "127.0.0.1:0" }\n' > "$WORK/etc/sluice.yaml"
printf 'profiles:\n  all:\n    detectors: [credit_card, us_ssn, iban, aws_access_key_id, aws_secret_access_key, private_key, email_address, phone_number, jwt]\n    max_bytes: 64MB\n' > "$WORK/rules/dlp.yaml"
rate() {  # archives per second of one file
  "$SLUICE_BIN" dlp scan --config "$WORK/etc/sluice.yaml" --seconds "$SECONDS_PER" "$1" \
    | sed -E 's/.*: ([0-9.]+) MB\/s \(([0-9]+) bytes.*/\1 \2/' | awk '{ printf "%.2f", $1 * 1000000 / $2 }'
}
zip=$(rate "$WORK/corpus/files.zip")
tgz=$(rate "$WORK/corpus/files.tar.gz")
printf 'files.zip %s/s (%d bytes), files.tar.gz %s/s (%d bytes): tar.gz takes %.0f%% of zip'"'"'s time\n' \
  "$zip" "$(stat -c %s "$WORK/corpus/files.zip")" "$tgz" "$(stat -c %s "$WORK/corpus/files.tar.gz")" "$(echo "100 * $zip / $tgz" | bc -l)"
