// OpenSSL's libcrypto (Debian: libssl-dev), for DKIM private-key operations on
// key handles parsed once (the library libopendkim itself signs with).
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
