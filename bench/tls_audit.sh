#!/usr/bin/env bash
# TLS audit with testssl.sh (Debian package testssl.sh): the STARTTLS
# listener (--starttls smtp) and the implicit-TLS listener. Prints the
# protocols offered and every finding rated LOW or worse; exits 1 if a
# protocol below TLS 1.2 is offered or any finding is HIGH or CRITICAL.
#
# The certificate is what a site would install: issued by a CA (a test CA
# made here and handed to testssl.sh with --add-ca), for the name and address
# the audit connects to, with a CRL location. With the self-signed pair Sluice
# makes when none is configured, testssl.sh also reports the certificate
# itself (untrusted, no CRL/OCSP URI, name mismatch): CERT=self-signed shows it.
#   bench/tls_audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
TESTSSL=${TESTSSL:-testssl}
command -v "$TESTSSL" >/dev/null || { echo "testssl.sh not found (apt install testssl.sh)" >&2; exit 1; }

CERTS=$(mktemp -d /tmp/sluice-tls-audit.XXXXXX)
tls_yaml="tls: { certificate: $CERTS/cert.pem, key: $CERTS/key.pem }"
add_ca=(--add-ca "$CERTS/ca.pem")
if [ "${CERT:-ca}" = self-signed ]; then
  tls_yaml="tls: { certificate: var/tls/cert.pem, key: var/tls/key.pem }"
  add_ca=()
else
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=Sluice test CA" \
    -keyout "$CERTS/ca.key" -out "$CERTS/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$CERTS/key.pem" -out "$CERTS/req.pem" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "extendedKeyUsage=serverAuth" \
    "keyUsage=critical,digitalSignature" "crlDistributionPoints=URI:http://crl.sluice.test/ca.crl" > "$CERTS/ext.cnf"
  openssl x509 -req -in "$CERTS/req.pem" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" -CAcreateserial -days 365 \
    -extfile "$CERTS/ext.cnf" -out "$CERTS/cert.pem" 2>/dev/null
fi
EXTRA_LISTENERS='  - { name: starttls, address: "127.0.0.1:0", tls: starttls }
  - { name: implicit, address: "127.0.0.1:0", tls: implicit }'
start_sluice "$tls_yaml"
trap 'stop_sluice; rm -rf "$CERTS"' EXIT
ports() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][sys.argv[2]])' "$BENCH_DIR/var/run/listeners.json" "$1"; }
status=0
for listener in starttls implicit; do
  port=$(ports "$listener")
  args=()
  [ "$listener" = starttls ] && args=(--starttls smtp)
  json=$BENCH_DIR/$listener.json
  "$TESTSSL" --quiet --color 0 --warnings batch --nodns min --jsonfile "$json" "${add_ca[@]}" "${args[@]}" "127.0.0.1:$port" >"$BENCH_DIR/$listener.txt" 2>&1 || true
  python3 - "$listener" "$json" <<'PY' || status=1
import json, sys
listener, path = sys.argv[1], sys.argv[2]
findings = json.load(open(path))
rank = {"OK": 0, "INFO": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4, "WARN": 1, "DEBUG": 0}
offered = [f["id"] for f in findings if f["id"] in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")
           and f["finding"].startswith("offered")]
bad = [f for f in findings if rank.get(f["severity"], 0) >= 1]
print(f"tls_audit {listener}: protocols offered: {', '.join(offered) or 'none'}; "
      f"{sum(1 for f in findings if f['severity'] in ('HIGH', 'CRITICAL'))} HIGH/CRITICAL, "
      f"{sum(1 for f in findings if f['severity'] == 'MEDIUM')} MEDIUM, {sum(1 for f in findings if f['severity'] == 'LOW')} LOW")
for f in bad:
    print(f"  {f['severity']:8} {f['id']}: {f['finding']}")
old = [p for p in offered if p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1")]
sys.exit(1 if old or any(f["severity"] in ("HIGH", "CRITICAL") for f in findings) else 0)
PY
done
exit $status
