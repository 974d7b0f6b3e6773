// DKIMKeys: making DKIM key pairs and the TXT records that publish them
// (RFC 6376 §3.6.1; RFC 8463 for Ed25519: p= is the raw 32-byte public key).
// Private keys are PKCS#8 PEM, which libopendkim and OpenSSL read.

import Crypto
import Foundation
import _CryptoExtras

public enum DKIMKeys {
    /// A new private key as PEM.
    public static func generate(_ algorithm: DKIMAlgorithm, bits: Int = 2048) throws -> String {
        switch algorithm {
        case .rsaSHA256:
            guard [1024, 2048, 3072, 4096].contains(bits) else { throw DKIMError("RSA keys are 1024, 2048, 3072 or 4096 bits") }
            return try _RSA.Signing.PrivateKey(keySize: .init(bitCount: bits)).pkcs8PEMRepresentation
        case .ed25519SHA256:
            return pem(ed25519PKCS8Prefix + Curve25519.Signing.PrivateKey().rawRepresentation, label: "PRIVATE KEY")
        }
    }

    /// The value of the TXT record at SELECTOR._domainkey.DOMAIN for this private key.
    public static func txtRecord(privateKeyPEM: String, algorithm: DKIMAlgorithm) throws -> String {
        switch algorithm {
        case .rsaSHA256:
            let key = try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
            return "v=DKIM1; k=rsa; p=\(key.publicKey.derRepresentation.base64EncodedString())"
        case .ed25519SHA256:
            let der = try derFromPEM(privateKeyPEM)
            guard der.count == 48, Array(der.prefix(16)) == ed25519PKCS8Prefix else {
                throw DKIMError("not an Ed25519 PKCS#8 private key")
            }
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32))
            return "v=DKIM1; k=ed25519; p=\(key.publicKey.rawRepresentation.base64EncodedString())"
        }
    }

    /// The record split into quoted strings of at most 255 bytes, as zone files and DNS panels take it.
    public static func quoted(_ record: String) -> String {
        var parts: [String] = []
        var rest = Substring(record)
        while !rest.isEmpty {
            parts.append("\"\(rest.prefix(250))\"")
            rest = rest.dropFirst(250)
        }
        return parts.joined(separator: " ")
    }

    /// PKCS#8 header of an Ed25519 private key (RFC 8410), before the 32-byte seed.
    static let ed25519PKCS8Prefix: [UInt8] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    static func pem(_ der: some Collection<UInt8>, label: String) -> String {
        let b64 = Data(der).base64EncodedString()
        var lines: [String] = []
        var rest = Substring(b64)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(64)))
            rest = rest.dropFirst(64)
        }
        return "-----BEGIN \(label)-----\n" + lines.joined(separator: "\n") + "\n-----END \(label)-----\n"
    }

    static func derFromPEM(_ pem: String) throws -> [UInt8] {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: body) else { throw DKIMError("the key file is not PEM") }
        return [UInt8](data)
    }
}
