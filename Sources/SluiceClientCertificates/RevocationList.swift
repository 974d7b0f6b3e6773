// RevocationList: a listener's `client_crl`, read with OpenSSL's libcrypto:
// every CRL in the file (PEM, several allowed, or one DER), each signature
// checked against the CA of `client_ca` that issued it, so a forged or
// foreign list is a load error rather than a silent hole. What remains is
// the revoked serial numbers by issuer and when each list expects its next
// update (a list past it is still applied, and `check` warns).

import COpenSSL
import Foundation
import SwiftASN1
import X509

public struct RevocationList: Sendable {
    /// Revoked serial numbers (lowercase hex, no leading zeros) by issuer (RFC 4514, as ClientCertificate has it).
    public let revoked: [String: Set<String>]
    /// The earliest nextUpdate of the lists read; nil when none says.
    public let nextUpdate: Date?
    public let file: String

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads `crlFile`, checking each list against the certificates of `caFile`.
    public static func load(crlFile: String, caFile: String) throws -> RevocationList {
        let authorities = try readAll(caFile, what: "CA certificate", pem: { PEM_read_bio_X509($0, nil, nil, nil) }, der: { d2i_X509_bio($0, nil) })
        defer { authorities.forEach { X509_free($0) } }
        let lists = try readAll(crlFile, what: "revocation list", pem: { PEM_read_bio_X509_CRL($0, nil, nil, nil) }, der: { d2i_X509_CRL_bio($0, nil) })
        defer { lists.forEach { X509_CRL_free($0) } }
        var revoked: [String: Set<String>] = [:]
        var earliest: Date?
        for crl in lists {
            let issuerName = X509_CRL_get_issuer(crl)
            guard let ca = authorities.first(where: { X509_NAME_cmp(X509_get_subject_name($0), issuerName) == 0 }) else {
                throw LoadError(description: "\(crlFile): a revocation list of \(name(issuerName)), which is not a CA in \(caFile)")
            }
            guard X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1 else {
                ERR_clear_error()
                throw LoadError(description: "\(crlFile): the revocation list of \(name(issuerName)) is not signed by that CA's key")
            }
            var serials = revoked[name(issuerName), default: []]
            if let stack = X509_CRL_get_REVOKED(crl) {
                let entries = stack
                for i in 0..<OPENSSL_sk_num(entries) {
                    guard let entry = OPENSSL_sk_value(entries, i) else { continue }
                    let item = OpaquePointer(entry)
                    if let serial = hex(X509_REVOKED_get0_serialNumber(item)) { serials.insert(serial) }
                }
            }
            revoked[name(issuerName)] = serials
            if let next = date(X509_CRL_get0_nextUpdate(crl)) { earliest = min(earliest ?? next, next) }
        }
        return RevocationList(revoked: revoked, nextUpdate: earliest, file: crlFile)
    }

    /// Whether the certificate's issuer lists its serial number.
    public func isRevoked(serialNumber: String, issuer: String) -> Bool {
        revoked[issuer]?.contains(Self.normalizedSerial(serialNumber)) ?? false
    }

    static func normalizedSerial(_ hex: String) -> String {
        let t = hex.lowercased().drop { $0 == "0" }
        return t.isEmpty ? "0" : String(t)
    }

    /// Every object of one kind in a PEM file, or the single DER object it holds.
    static func readAll(
        _ path: String, what: String, pem: (OpaquePointer?) -> OpaquePointer?, der: (OpaquePointer?) -> OpaquePointer?
    ) throws -> [OpaquePointer] {
        guard let data = FileManager.default.contents(atPath: path) else { throw LoadError(description: "cannot read \(path)") }
        var out: [OpaquePointer] = []
        data.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return }
            defer { BIO_free(bio) }
            while let object = pem(bio) { out.append(object) }
            ERR_clear_error()
            if out.isEmpty {
                _ = BIO_ctrl(bio, BIO_CTRL_RESET, 0, nil)  // BIO_reset, a macro
                if let object = der(bio) { out.append(object) }
                ERR_clear_error()
            }
        }
        guard !out.isEmpty else { throw LoadError(description: "\(path): no \(what) in it (PEM or DER expected)") }
        return out
    }

    /// An X509_NAME in RFC 4514 form, by the same formatter that names the clients' issuers.
    static func name(_ x509Name: OpaquePointer?) -> String {
        var buffer: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509_NAME(x509Name, &buffer)
        guard length > 0, let buffer else { return "?" }
        defer { CRYPTO_free(buffer, #file, #line) }
        let der = Array(UnsafeBufferPointer(start: buffer, count: Int(length)))
        // OpenSSL parsed this name already; swift-certificates failing on it leaves "?" (the list's entries then match no
        // issuer, and the signature check above has already named the list's issuer for the load error).
        return (try? DistinguishedName(derEncoded: DER.parse(der)))?.description ?? "?"
    }

    static func hex(_ integer: UnsafePointer<ASN1_INTEGER>?) -> String? {
        guard let integer, let bn = ASN1_INTEGER_to_BN(integer, nil) else { return nil }
        defer { BN_free(bn) }
        guard let text = BN_bn2hex(bn) else { return nil }
        defer { CRYPTO_free(text, #file, #line) }
        return normalizedSerial(String(cString: text))
    }

    static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
