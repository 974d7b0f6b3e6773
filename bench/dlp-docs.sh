#!/usr/bin/env bash
# DLP in documents (issue 19): how fast one core reads each carrier, and what
# attachments cost the full pipeline.
#  1. `sluice dlp scan --seconds` on each file of bench/docs_corpus.py (made by
#     python-docx, openpyxl, python-pptx and reportlab; each holds one card
#     number): MB/s of the file's bytes, one core, with every predefined
#     detector; plain text is the reference (R-PERF-3: >= 1 GB/s).
#  2. The full pipeline (DKIM, the three DLP profiles, archive, relay to an
#     smtp-sink; bench/lib.sh) fed by bench/send_eml.py, 20 sessions: messages/s
#     for 100 KiB of prose (the size of the attachment messages), then each
#     attachment kind.
#     These messages hold no card number (docs_corpus.py's clean/), so that they are relayed.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
[ -x "$SLUICE_BIN" ] || swift build -c release >/dev/null
WORK=$(mktemp -d /tmp/sluice-docs-bench.XXXXXX)
trap 'kill ${SINK_PID:-} 2>/dev/null || true; [ -n "${SLUICE_PID:-}" ] && stop_sluice; rm -rf "$WORK"' EXIT
SECONDS_PER=${SECONDS_PER:-3}
MESSAGES=${MESSAGES:-400}
SESSIONS=${SESSIONS:-20}

python3 bench/docs_corpus.py "$WORK/corpus"
mkdir -p "$WORK/etc" "$WORK/rules"
printf 'hostname: bench.test\ndata_dir: var\nlisteners:\n  - { name: relay, address: "127.0.0.1:0" }\n' > "$WORK/etc/sluice.yaml"
cat > "$WORK/rules/dlp.yaml" <<'YAML'
profiles:
  all:
    detectors: [credit_card, us_ssn, iban, aws_access_key_id, aws_secret_access_key, private_key, email_address, phone_number, jwt]
    max_bytes: 64MB
YAML

echo "== 1. one core, sluice dlp scan --seconds $SECONDS_PER (MB/s of the file's bytes) =="
cd "$WORK/corpus"
for f in plain.txt report.docx cards.xlsx slides.pptx report.pdf files.zip app.log.gz blob.bin plain.eml report.docx.eml report.pdf.eml; do
  "$SLUICE_BIN" dlp scan --config "$WORK/etc/sluice.yaml" --seconds "$SECONDS_PER" "$f"
done
cd - >/dev/null

echo
echo "== 2. full pipeline (DKIM + 3 DLP profiles + archive + relay), $MESSAGES messages, $SESSIONS sessions =="
openssl genrsa -out "$WORK/dkim.pem" 2048 2>/dev/null
printf '%-22s %10s %10s %10s\n' "messages" "KiB each" "msg/s" "MB/s in"
for name in plain-100k report.docx cards.xlsx slides.pptx report.pdf files.zip app.log.gz; do
  file="$WORK/corpus/clean/$name.eml"
  size=$(stat -c %s "$file")
  start_counting_sink
  start_full_pipeline "$SINK_PORT" "$WORK/dkim.pem"
  start=$(date +%s.%N)
  result=$(python3 bench/send_eml.py "$SLUICE_PORT" "$SESSIONS" "$MESSAGES" "$file")
  for _ in $(seq 1 1200); do
    RELAYED=$(sink_count); RELAYED=${RELAYED:-0}
    [ "$RELAYED" -ge "$MESSAGES" ] && break
    sleep 0.05
  done
  end=$(date +%s.%N)
  seconds=$(echo "$end - $start" | bc -l)   # first message sent to the last one at the sink
  refused=$(echo "$result" | awk '{print $4}')
  printf '%-22s %10d %10.0f %10.1f   (refused %s, relayed %s)\n' "$name" $((size / 1024)) \
    "$(echo "$MESSAGES / $seconds" | bc -l)" "$(echo "$MESSAGES * $size / $seconds / 1000000" | bc -l)" "$refused" "$RELAYED"
  stop_sluice; SLUICE_PID=
  kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true
done
