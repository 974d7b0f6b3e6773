#!/bin/sh
# Server certificates for the outbound TLS tests (MTA-STS), made with the
# openssl command-line tool in DIR: a CA (ca.pem) and, for each NAME=SANS
# argument, NAME.pem and NAME.key valid for the comma-separated DNS names or
# IPv4 addresses SANS, issued by that CA. EC P-256 keys, 30 days.
# Usage: make_server_pki.sh DIR NAME=host1,host2 ...
set -eu
dir=$1
shift
mkdir -p "$dir"
cd "$dir"
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 30 -subj "/O=Example/CN=Example Server CA" 2>/dev/null
for spec in "$@"; do
    name=${spec%%=*}
    # An address (digits and dots) is an IP SAN, anything else a DNS name.
    sans=$(echo "${spec#*=}" | tr ',' '\n' | sed -E 's/^([0-9.]+)$/IP:\1/; /^IP:/!s/^/DNS:/' | paste -sd, -)
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$sans" > "$name.ext"
    openssl req $ec -keyout "$name.key" -out "$name.csr" -subj "/CN=$(echo "${spec#*=}" | cut -d, -f1)" 2>/dev/null
    openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$name.pem" -days 30 -extfile "$name.ext" 2>/dev/null
done
