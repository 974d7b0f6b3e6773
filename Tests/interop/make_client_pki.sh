#!/bin/sh
# A small client-certificate PKI for the mTLS tests, made with the openssl
# command-line tool in DIR: a CA (ca.pem), clients app1 (CN=app1, O=Example,
# SAN app1@example.test) and app2 (revoked: ca.crl lists it), and a rogue
# client rogue (also CN=app1) from another CA. EC P-256 keys, 30 days.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 30 -subj "/O=Example/CN=Example Client CA" 2>/dev/null
openssl req -x509 $ec -keyout other-ca.key -out other-ca.pem -days 30 -subj "/CN=Someone Else CA" 2>/dev/null
printf 'subjectAltName=email:app1@example.test,DNS:app1.example.test\nextendedKeyUsage=clientAuth\n' > app1.ext
printf 'subjectAltName=DNS:app2.example.test\nextendedKeyUsage=clientAuth\n' > app2.ext
client() { # name subject ca ext
    openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -out "$1.pem" -days 30 -extfile "$4" 2>/dev/null
}
client app1 "/O=Example/CN=app1" ca app1.ext
client app2 "/O=Example/CN=app2" ca app2.ext
client rogue "/O=Example/CN=app1" other-ca app1.ext
cat > ca.cnf <<CNF
[ ca ]
default_ca = this
[ this ]
database = $dir/index.txt
crlnumber = $dir/crlnumber
default_md = sha256
default_crl_days = 30
CNF
: > index.txt
echo 01 > crlnumber
openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -revoke app2.pem 2>/dev/null
openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl -out ca.crl 2>/dev/null
openssl x509 -in app1.pem -noout -fingerprint -sha256 | sed 's/.*=//' > app1.fingerprint
