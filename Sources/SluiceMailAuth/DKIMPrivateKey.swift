// DKIMPrivateKey: a DKIM signing key parsed once from its PEM (by OpenSSL)
// when the signer is made (start, reload), and used for the private-key
// operation of every signature. RSA PKCS#1 v1.5 over the SHA-256 digest (RFC
// 6376 rsa-sha256) runs on the OpenSSL key handle, the operation `openssl
// speed rsa2048` measures; Ed25519 over the digest (RFC 8463) runs in
// swift-crypto, which signs faster than OpenSSL 3's provider calls (both are
// deterministic: the same signature). OpenSSL allows one key handle to sign
// from several threads at once; each signature takes a prepared signing
// context from a small pool (as `openssl speed` reuses its context: making one
// costs OpenSSL 3 a quarter of an RSA signature). No C pointer leaves this
// file.

import COpenSSL
import Crypto
import Foundation
import NIOConcurrencyHelpers

final class DKIMPrivateKey: @unchecked Sendable {
    enum Kind { case rsa, ed25519 }

    let kind: Kind
    /// RSA modulus size (the signature's length), or 256 for Ed25519.
    let bits: Int
    /// The parsed key (for RSA signatures).
    private let key: OpaquePointer
    /// The same key in swift-crypto, for Ed25519 signatures.
    private let ed25519: Curve25519.Signing.PrivateKey?
    /// RSA signing contexts ready for EVP_PKEY_sign, not in use; at most `poolLimit` kept.
    private var idle: [OpaquePointer] = []
    private let lock = NIOLock()
    private static let poolLimit = 32

    init(pem: String) throws {
        let parsed: OpaquePointer? = pem.utf8CString.withUnsafeBufferPointer { text in
            guard let bio = BIO_new_mem_buf(text.baseAddress, Int32(text.count - 1)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let parsed else { throw DKIMError("not a PEM private key (\(Self.lastError()))") }
        key = parsed
        bits = Int(EVP_PKEY_get_bits(parsed))
        switch EVP_PKEY_get_base_id(parsed) {
        case EVP_PKEY_RSA:
            kind = .rsa
            ed25519 = nil
        case EVP_PKEY_ED25519:
            kind = .ed25519
            var seed = [UInt8](repeating: 0, count: 32)
            var length = seed.count
            guard EVP_PKEY_get_raw_private_key(parsed, &seed, &length) == 1, length == 32 else {
                EVP_PKEY_free(parsed)
                throw DKIMError("the Ed25519 key cannot be read (\(Self.lastError()))")
            }
            do {
                ed25519 = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
            } catch {
                EVP_PKEY_free(parsed)
                throw DKIMError("the Ed25519 key cannot be used: \(error)")
            }
        default:
            EVP_PKEY_free(parsed)
            throw DKIMError("the key is neither RSA nor Ed25519")
        }
    }

    deinit {
        for ctx in idle { EVP_PKEY_CTX_free(ctx) }
        EVP_PKEY_free(key)
    }

    /// The signature of a SHA-256 digest.
    func sign(digest: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 1024)
        var length = out.count
        switch kind {
        case .rsa:
            let ctx = try takeContext()
            guard EVP_PKEY_sign(ctx, &out, &length, digest, digest.count) == 1 else {
                EVP_PKEY_CTX_free(ctx)
                throw DKIMError("RSA signature failed (\(Self.lastError()))")
            }
            giveBack(ctx)
        case .ed25519:
            guard let ed25519 else { throw DKIMError("no Ed25519 key") }
            return Array(try ed25519.signature(for: digest))
        }
        return Array(out[..<length])
    }

    /// A context set up for RSA PKCS#1 v1.5 signatures of SHA-256 digests with this key.
    private func takeContext() throws -> OpaquePointer {
        if let ctx = lock.withLock({ idle.popLast() }) { return ctx }
        guard let ctx = EVP_PKEY_CTX_new(key, nil) else { throw DKIMError("no signing context (\(Self.lastError()))") }
        guard EVP_PKEY_sign_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1,
            EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1
        else {
            EVP_PKEY_CTX_free(ctx)
            throw DKIMError("no signing context (\(Self.lastError()))")
        }
        return ctx
    }

    private func giveBack(_ ctx: OpaquePointer) {
        let kept = lock.withLock { () -> Bool in
            guard idle.count < Self.poolLimit else { return false }
            idle.append(ctx)
            return true
        }
        if !kept { EVP_PKEY_CTX_free(ctx) }
    }

    /// OpenSSL's queued error, as text (and the queue emptied).
    static func lastError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "no detail" }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
