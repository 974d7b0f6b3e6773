// PeerCertificate: the client certificate NIOSSL verified in the handshake,
// read into the session's ClientCertificate fact (subject and issuer in RFC
// 4514 form, subjectAltNames, SHA-256 fingerprint, serial number) with
// swift-certificates. A listener without `client_ca:` asks for no
// certificate, so there is none to read.

import Crypto
import Foundation
import NIOCore
import NIOSSL
import SluiceCore
import X509

enum PeerCertificate {
    /// The verified peer certificate of the TLS handler in `pipeline`, if the client presented one.
    static func read(_ pipeline: ChannelPipeline.SynchronousOperations) -> ClientCertificate? {
        guard let handler = try? pipeline.handler(type: NIOSSLServerHandler.self),
            let certificate = handler.peerCertificate,
            let der = try? certificate.toDERBytes()
        else { return nil }
        return fact(der: der)
    }

    /// The fact a DER certificate makes; nil when swift-certificates cannot parse what BoringSSL accepted.
    static func fact(der: [UInt8]) -> ClientCertificate? {
        guard let parsed = try? Certificate(derEncoded: der) else { return nil }
        var names: [String] = []
        for name in (try? parsed.extensions.subjectAlternativeNames) ?? nil ?? SubjectAlternativeNames([]) {
            switch name {
            case .dnsName(let n), .rfc822Name(let n), .uniformResourceIdentifier(let n): names.append(n)
            case .ipAddress(let octets):
                if let ip = IPAddress(bytes: Array(octets.bytes)) { names.append(ip.description) }
            default: continue
            }
        }
        let digest = SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
        let serial = parsed.serialNumber.bytes.map { String(format: "%02x", $0) }.joined()
        return ClientCertificate(
            subject: parsed.subject.description, issuer: parsed.issuer.description, subjectAlternativeNames: names,
            fingerprint: "sha256:" + digest, serialNumber: serial)
    }
}
