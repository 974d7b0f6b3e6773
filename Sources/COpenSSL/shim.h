// OpenSSL's libcrypto (Debian: libssl-dev), for DKIM private-key operations on
// key handles parsed once (the library libopendkim itself signs with), and
// for client-certificate revocation lists (X509_CRL).
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
