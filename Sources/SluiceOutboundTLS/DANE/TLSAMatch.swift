// TLSAMatch: whether a TLSA record (RFC 6698) is one SMTP can use (RFC 7672
// §3.1: DANE-TA(2) and DANE-EE(3) only; PKIX-TA and PKIX-EE are unusable,
// as are unknown selectors and matching types and digests of the wrong
// length), and whether it matches a certificate: its whole DER (selector 0)
// or its SubjectPublicKeyInfo (1), as is (0) or by SHA-256 (1) or SHA-512 (2).

import Crypto
import NIOSSL
import SluiceCore

enum TLSAMatch {
    static func usable(_ r: TLSARecord) -> Bool {
        guard r.usage == 2 || r.usage == 3, r.selector <= 1 else { return false }
        switch r.matchingType {
        case 0: return !r.data.isEmpty
        case 1: return r.data.count == 32
        case 2: return r.data.count == 64
        default: return false
        }
    }

    /// Whether `record` matches the certificate `der` (a certificate that does not parse matches nothing).
    static func matches(_ record: TLSARecord, certificate der: [UInt8]) -> Bool {
        let selected: [UInt8]
        if record.selector == 0 {
            selected = der
        } else {
            guard let spki = subjectPublicKeyInfo(der) else { return false }
            selected = spki
        }
        switch record.matchingType {
        case 0: return selected == record.data
        case 1: return Array(SHA256.hash(data: selected)) == record.data
        case 2: return Array(SHA512.hash(data: selected)) == record.data
        default: return false
        }
    }

    /// The DER of the certificate's SubjectPublicKeyInfo.
    static func subjectPublicKeyInfo(_ der: [UInt8]) -> [UInt8]? {
        // A certificate that does not parse, or whose key cannot be read, has no SPKI to match.
        try? NIOSSLCertificate(bytes: der, format: .der).extractPublicKey().toSPKIBytes()
    }
}
