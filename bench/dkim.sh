#!/usr/bin/env bash
# DKIM signing speed on one core (issue 18): `sluice dkim speed` (a 4 KiB
# message: header selection, relaxed canonicalisation, SHA-256 and the
# private-key operation) with Sluice's signer (key parsed once) and with
# libopendkim (key parsed per signature), next to `openssl speed` (the raw
# private-key operation alone) on the same machine, RUNS times alternated;
# prints the medians and Sluice's share of `openssl speed`.
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE_BIN=${SLUICE_BIN:-.build/release/sluice}
RUNS=${RUNS:-3}
[ -x "$SLUICE_BIN" ] || swift build -c release >/dev/null
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
for _ in $(seq 1 "$RUNS"); do
  "$SLUICE_BIN" dkim speed --seconds 2 >> "$OUT"
  openssl speed -seconds 2 rsa2048 ed25519 2>/dev/null | grep -E "^rsa 2048|Ed25519\)" >> "$OUT"
done
python3 - "$OUT" <<'PY'
import re, statistics, sys
rates = {}
for line in open(sys.argv[1]):
    m = re.match(r"(sluice|libopendkim) (\S+) .*: (\d+) signatures/s", line)
    if m:
        rates.setdefault((m.group(1), m.group(2)), []).append(float(m.group(3)))
    elif line.startswith("rsa 2048"):
        rates.setdefault(("openssl speed", "rsa-sha256"), []).append(float(line.split()[5]))
    elif "Ed25519" in line:
        rates.setdefault(("openssl speed", "ed25519-sha256"), []).append(float(line.split()[-2]))
print(f"{'signer':<14} {'algorithm':<15} {'signatures/s (median of runs)':>30}")
for (who, alg), v in sorted(rates.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"{who:<14} {alg:<15} {statistics.median(v):>30.0f}")
for alg in ("rsa-sha256", "ed25519-sha256"):
    s, o = rates.get(("sluice", alg)), rates.get(("openssl speed", alg))
    l = rates.get(("libopendkim", alg))
    if s and o:
        print(f"{alg}: Sluice signs a 4 KiB message at {100 * statistics.median(s) / statistics.median(o):.0f}% of openssl speed's raw signatures"
              + (f" (libopendkim: {100 * statistics.median(l) / statistics.median(o):.0f}%)" if l else ""))
PY
