#!/usr/bin/env bash
# OCR (issue 34): images per second Tesseract reads on one core (a screenshot
# of a card number made by Tests/interop/make_images.py, `sluice dlp scan
# --seconds` with a profile that has `ocr: true`), the time a message with that
# screenshot attached takes with and without `ocr: true` (the latency OCR adds
# per message), and a message without images both ways (what OCR costs mail
# that has none: nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE_BIN=${SLUICE_BIN:-.build/release/sluice}
[ -x "$SLUICE_BIN" ] || swift build -c release >/dev/null
SECONDS_PER=${SECONDS_PER:-5}
WORK=$(mktemp -d /tmp/sluice-ocr-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 Tests/interop/make_images.py "$WORK/images" "Card 4111 1111 1111 1111 exp 12/29"
python3 - "$WORK" <<'PY'
import base64, sys
w = sys.argv[1]
png = base64.encodebytes(open(w + "/images/card.png", "rb").read()).decode()
prose = "\n".join("The quarterly plan keeps the same figures as last year, see the attached screenshot." for _ in range(50))
open(w + "/screenshot.eml", "w").write(
    "Subject: figures\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n" + prose
    + "\n--b\nContent-Type: image/png; name=card.png\nContent-Disposition: attachment; filename=card.png\nContent-Transfer-Encoding: base64\n\n"
    + png + "--b--\n")
open(w + "/plain.eml", "w").write("Subject: figures\n\n" + prose + "\n")
PY
for ocr in false true; do
  mkdir -p "$WORK/$ocr/etc" "$WORK/$ocr/rules"
  printf 'hostname: bench.test\ndata_dir: var\nlisteners:\n  - { name: relay, address: "127.0.0.1:0" }\n' > "$WORK/$ocr/etc/sluice.yaml"
  printf 'profiles:\n  all: { detectors: [credit_card, us_ssn, iban, private_key], ocr: %s }\n' "$ocr" > "$WORK/$ocr/rules/dlp.yaml"
done
per_second() {  # scans per second of one file with one configuration
  "$SLUICE_BIN" dlp scan --config "$WORK/$1/etc/sluice.yaml" --seconds "$SECONDS_PER" "$2" \
    | sed -E 's/.*\(([0-9]+) bytes, ([0-9]+) rounds.*/\2/' | awk -v s="$SECONDS_PER" '{ printf "%.1f", $1 / s }'
}
images=$(per_second true "$WORK/images/card.png")
printf 'OCR: %s images/s on one core (card.png, %dx%d)\n' "$images" $(python3 -c "from PIL import Image; print(*Image.open('$WORK/images/card.png').size)")
for m in screenshot plain; do
  off=$(per_second false "$WORK/$m.eml")
  on=$(per_second true "$WORK/$m.eml")
  printf '%s.eml: %s msg/s without ocr, %s with: %.2f ms added per message\n' "$m" "$off" "$on" "$(echo "1000 / $on - 1000 / $off" | bc -l)"
done
