// ARCPublicKey: a signer's public key from its DNS record ("v=DKIM1; k=rsa;
// p=BASE64"), parsed by OpenSSL's libcrypto, and the check of an RSA
// PKCS#1 v1.5 signature over a SHA-256 digest (rsa-sha256, the algorithm ARC
// uses). No C pointer leaves this file.

import COpenSSL
import Foundation

final class ARCPublicKey: @unchecked Sendable {
    private let key: OpaquePointer
    let bits: Int

    /// The key of a TXT record's tags; nil when it has none (p= empty: revoked) or it is not an RSA key.
    init?(record: String) {
        guard let tags = TagList.parse(record), let p = tags["p"], !p.isEmpty, (tags["k"] ?? "rsa").lowercased() == "rsa",
            let der = Data(base64Encoded: p)
        else { return nil }
        let parsed: OpaquePointer? = der.withUnsafeBytes { raw in
            var pointer = raw.bindMemory(to: UInt8.self).baseAddress
            return d2i_PUBKEY(nil, &pointer, raw.count)
        }
        guard let parsed else {
            ERR_clear_error()
            return nil
        }
        guard EVP_PKEY_get_base_id(parsed) == EVP_PKEY_RSA else {
            EVP_PKEY_free(parsed)
            return nil
        }
        key = parsed
        bits = Int(EVP_PKEY_get_bits(parsed))
    }

    deinit { EVP_PKEY_free(key) }

    func verify(signature: [UInt8], digest: [UInt8]) -> Bool {
        guard let ctx = EVP_PKEY_CTX_new(key, nil) else { return false }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_verify_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1,
            EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1
        else {
            ERR_clear_error()
            return false
        }
        let ok = EVP_PKEY_verify(ctx, signature, signature.count, digest, digest.count) == 1
        ERR_clear_error()
        return ok
    }
}
