// DKIMSigner: DKIM-Signature header fields made with OpenSSL key handles
// parsed once (DKIMPrivateKey), our own canonicalization and swift-crypto's
// SHA-256: byte-identical to libopendkim's.

import Crypto
import Foundation

public struct DKIMError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum DKIMAlgorithm: String, Sendable, CaseIterable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"
}

public enum DKIMCanonicalization: String, Sendable {
    case simple, relaxed
}

/// Signs messages with one key (RFC 6376; Ed25519 per RFC 8463). The key is
/// parsed once, when the signer is made (at start and on reload), and its
/// handle is reused for every signature: libopendkim parses the PEM again for
/// each one. Canonicalization, header selection and the header's text follow
/// libopendkim exactly (see DKIMSignatureHeader), so a signature is the one
/// libopendkim would make; DKIMSignerParityTests prove it on 200+ messages.
/// Relaxed/relaxed by default; `l=` is never used. The caller feeds the final
/// message (header section, then body in chunks) and gets back one header
/// field to prepend. Thread-safe: a signature uses no shared mutable state.
public final class DKIMSigner: Sendable {
    public struct Key: Sendable {
        public var domain: String
        public var selector: String
        public var algorithm: DKIMAlgorithm
        /// The private key, PEM (PKCS#8 or PKCS#1 for RSA).
        public var privateKeyPEM: String
        public var signedHeaders: [String]
        public var oversignedHeaders: [String]
        public var headerCanonicalization: DKIMCanonicalization
        public var bodyCanonicalization: DKIMCanonicalization

        public init(
            domain: String, selector: String, algorithm: DKIMAlgorithm, privateKeyPEM: String,
            signedHeaders: [String] = DKIMSigner.defaultSignedHeaders, oversignedHeaders: [String] = ["From"],
            headerCanonicalization: DKIMCanonicalization = .relaxed, bodyCanonicalization: DKIMCanonicalization = .relaxed
        ) {
            self.domain = domain
            self.selector = selector
            self.algorithm = algorithm
            self.privateKeyPEM = privateKeyPEM
            self.signedHeaders = signedHeaders
            self.oversignedHeaders = oversignedHeaders
            self.headerCanonicalization = headerCanonicalization
            self.bodyCanonicalization = bodyCanonicalization
        }
    }

    /// Headers a receiver relies on; those absent from a message are not listed in h= (From always is).
    public static let defaultSignedHeaders = [
        "From", "Sender", "Reply-To", "Subject", "Date", "Message-ID", "To", "Cc", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Content-ID", "Content-Description", "In-Reply-To", "References", "List-Id",
        "List-Unsubscribe", "List-Unsubscribe-Post",
    ]

    public let key: Key
    private let privateKey: DKIMPrivateKey
    /// Lowercased names of the fields to sign; From always is (RFC 6376 §5.4).
    private let signedNames: Set<String>

    public init(key: Key) throws {
        self.key = key
        let name = "\(key.selector)._domainkey.\(key.domain)"
        do {
            privateKey = try DKIMPrivateKey(pem: key.privateKeyPEM)
        } catch {
            throw DKIMError("the key of \(name) cannot be read: \(error)")
        }
        switch (key.algorithm, privateKey.kind) {
        case (.rsaSHA256, .rsa):
            guard privateKey.bits >= 1024 else { throw DKIMError("the RSA key of \(name) has \(privateKey.bits) bits; DKIM needs at least 1024") }
        case (.ed25519SHA256, .ed25519): break
        default: throw DKIMError("the key of \(name) is not an \(key.algorithm.rawValue) key")
        }
        signedNames = Set(key.signedHeaders.map { $0.lowercased() } + ["from"])
    }

    /// Signs a message. `header`: its header section (through the empty line), CRLF line endings;
    /// `body` is called with a feeder the caller uses for the body in chunks. Returns the whole
    /// "DKIM-Signature: ..." field, folded, without the final CRLF. `time`: t= (now when nil).
    public func sign(
        id: String, header: [UInt8], time: Int? = nil, body: (([UInt8]) throws -> Void) throws -> Void
    ) throws -> String {
        let fields = HeaderFields.split(header)
        var names: [String] = []
        names.reserveCapacity(fields.count)
        for field in fields { names.append(try Self.fieldName(field)) }
        let lowered = names.map { $0.lowercased() }
        guard lowered.contains("from") else { throw DKIMError("signing: the message has no From field") }

        var bodyHash = SHA256()
        var canonicalizer = DKIMBodyCanonicalizer(key.bodyCanonicalization)
        try body { chunk in
            chunk.withUnsafeBytes { canonicalizer.update($0) { bodyHash.update(bufferPointer: $0) } }
        }
        canonicalizer.finish { bodyHash.update(bufferPointer: $0) }

        // h=: every field to sign, in message order. They are hashed in that order of names, each name taking
        // the last instance not yet taken (how a verifier reads h=, RFC 6376 §5.4.2).
        let signed = fields.indices.filter { signedNames.contains(lowered[$0]) }
        var taken = Set<Int>()
        var headerHash = SHA256()
        for i in signed {
            guard let pick = signed.last(where: { lowered[$0] == lowered[i] && !taken.contains($0) }) else { continue }
            taken.insert(pick)
            headerHash.update(data: DKIMHeaderCanonicalizer.canonicalize(fields[pick], key.headerCanonicalization))
        }
        var signature = DKIMSignatureHeader(
            algorithm: key.algorithm, headerCanonicalization: key.headerCanonicalization,
            bodyCanonicalization: key.bodyCanonicalization, domain: key.domain, selector: key.selector,
            timestamp: time ?? Int(Date().timeIntervalSince1970),
            bodyHash: Data(bodyHash.finalize()).base64EncodedString(),
            signedFields: signed.map { names[$0] } + key.oversignedHeaders.map { $0.lowercased() },
            rsaSignatureLength: nil)
        let signatureLength: Int
        switch privateKey.kind {
        case .rsa:
            signatureLength = (privateKey.bits / 8 + 2) / 3 * 4
            signature.rsaSignatureLength = signatureLength
        case .ed25519: signatureLength = 88
        }
        // The signature covers its own field as it will be sent, with the value of b= deleted (RFC 6376 §3.7),
        // canonicalized, without a final CRLF. The layout depends only on the signature's length.
        let unsigned = signature.fieldForHashing(signatureLength: signatureLength)
        headerHash.update(data: DKIMHeaderCanonicalizer.canonicalize(unsigned, key.headerCanonicalization, crlf: false))
        let bytes: [UInt8]
        do {
            bytes = try privateKey.sign(digest: Array(headerHash.finalize()))
        } catch {
            throw DKIMError("signing with \(key.selector)._domainkey.\(key.domain) failed: \(error)")
        }
        return signature.field(signature: Data(bytes).base64EncodedString())
    }

    /// The signature of a SHA-256 digest with this key (RSA PKCS#1 v1.5, or Ed25519 over the digest), for a
    /// signature of another shape made with the same key (an ARC seal).
    public func sign(digest: [UInt8]) throws -> [UInt8] {
        do {
            return try privateKey.sign(digest: digest)
        } catch {
            throw DKIMError("signing with \(key.selector)._domainkey.\(key.domain) failed: \(error)")
        }
    }

    /// A field's name: the bytes before its colon, trailing whitespace dropped; printable ASCII only.
    static func fieldName(_ field: [UInt8]) throws -> String {
        guard let colon = field.firstIndex(of: 0x3A) else { throw DKIMError("signing: a header line has no colon") }
        guard field[..<colon].allSatisfy({ $0 >= 32 && $0 <= 126 }) else {
            throw DKIMError("signing: a header field name is not printable ASCII")
        }
        var end = colon
        while end > 0 && (field[end - 1] == 0x20 || field[end - 1] == 0x09) { end -= 1 }
        return String(decoding: field[..<end], as: UTF8.self)
    }
}

/// Header fields of a header section, each with its folding, without the final CRLF (as libopendkim wants them).
public enum HeaderFields {
    public static func split(_ header: [UInt8]) -> [[UInt8]] {
        var fields: [[UInt8]] = []
        var current: [UInt8] = []
        var i = 0
        while i < header.count {
            var end = i
            while end < header.count && header[end] != 10 { end += 1 }
            var line = Array(header[i..<end])
            if line.last == 13 { line.removeLast() }
            i = end + 1
            if line.isEmpty { break }  // the empty line that ends the header section
            if line.first == 32 || line.first == 9, !current.isEmpty {
                current += [13, 10] + line
            } else {
                if !current.isEmpty { fields.append(current) }
                current = line
            }
        }
        if !current.isEmpty { fields.append(current) }
        return fields
    }
}
