// PeerVerification: one connection's check of the server's certificate
// chain by a PeerCertificateVerifier (DANE's TLSA records) in place of the
// trust roots: NIOSSL hands over the chain during the handshake, the
// verifier answers asynchronously, and what it said (what vouched, or why
// not) is kept for the attempt's outcome and its failure reason.

import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import SluiceCore

final class PeerVerification: Sendable {
    let verifier: any PeerCertificateVerifier
    private let said = NIOLockedValueBox<Result<String, PeerVerificationFailure>?>(nil)

    init(_ verifier: any PeerCertificateVerifier) { self.verifier = verifier }

    /// What vouched for the chain, once the verifier accepted it.
    var vouched: String? { if case .success(let name)? = said.withLockedValue({ $0 }) { name } else { nil } }
    /// Why the verifier refused the chain, if it did.
    var refusal: PeerVerificationFailure? { if case .failure(let f)? = said.withLockedValue({ $0 }) { f } else { nil } }

    /// The TLS handler whose verification is this verifier's.
    func handler(context: NIOSSLContext, serverHostname: String?) throws -> NIOSSLClientHandler {
        let verifier = self.verifier
        let said = self.said
        return try NIOSSLClientHandler(context: context, serverHostname: serverHostname) { certificates, promise in
            // A certificate NIOSSL cannot serialise is one the verifier never matches: it is left out.
            let chain = certificates.compactMap { try? $0.toDERBytes() }
            Task {
                let result = await verifier.verify(chain: chain)
                said.withLockedValue { $0 = result }
                switch result {
                case .success: promise.succeed(.certificateVerified)
                case .failure: promise.succeed(.failed)
                }
            }
        }
    }
}
