// DANEVerifier: checks the chain an MX host presents against its usable TLSA
// records (RFC 7672 §3): DANE-EE matches the host's own certificate and
// nothing else is checked (not its names, not its dates); DANE-TA matches a
// certificate of the chain, which must then issue a valid chain to the
// host's certificate, valid for the MX host's name (swift-certificates'
// verifier with that one root, on the injected clock).

import Foundation
import SluiceCore
// The injected clock decides validity (tests run on a manual one): swift-certificates offers a fixed validation
// time to those who ask for it by this SPI.
@_spi(FixedExpiryValidationTime) import X509

struct DANEVerifier: PeerCertificateVerifier {
    let records: [TLSARecord]
    let hostname: String
    let clock: any SluiceClock

    var description: String { "DANE \(hostname): \(records.map(\.description).joined(separator: ", "))" }

    func verify(chain: [[UInt8]]) async -> Result<String, PeerVerificationFailure> {
        guard let leaf = chain.first else { return .failure(PeerVerificationFailure("DANE: the server presented no certificate")) }
        if records.contains(where: { $0.usage == 3 && TLSAMatch.matches($0, certificate: leaf) }) { return .success("DANE-EE") }
        let anchors = records.filter { $0.usage == 2 }
        // A chain that swift-certificates cannot read matches no DANE-TA record: the refusal below says so.
        if !anchors.isEmpty, let certificates = try? chain.map({ try Certificate(derEncoded: $0) }) {
            for (i, der) in chain.enumerated() where anchors.contains(where: { TLSAMatch.matches($0, certificate: der) }) {
                let now = clock.now()
                var verifier = Verifier(rootCertificates: CertificateStore([certificates[i]])) {
                    RFC5280Policy(fixedExpiryValidationTime: now)
                    ServerIdentityPolicy(serverHostname: hostname, serverIP: nil)
                }
                let between = i > 1 ? Array(certificates[1..<i]) : []
                if case .validCertificate = await verifier.validate(leaf: certificates[0], intermediates: CertificateStore(between)) {
                    return .success("DANE-TA")
                }
            }
        }
        return .failure(PeerVerificationFailure("DANE: no TLSA record of \(hostname) (\(records.map(\.description).joined(separator: ", "))) matches the certificate chain it presented"))
    }
}
