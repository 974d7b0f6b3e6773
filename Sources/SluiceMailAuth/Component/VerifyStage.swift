// VerifyStage: SPF, DKIM and DMARC for listeners with `verify:` (R-MAUTH-1),
// as typed AuthenticationResults; the decide stage writes them into the
// Authentication-Results header and the rules test them.

import Logging
import SluiceCore
import SluicePipeline

public struct VerifyStage: MessageStage {
    public let name = "verify"
    let verifier: MessageVerifier

    public init(verifier: MessageVerifier) { self.verifier = verifier }

    public func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws {
        let methods = runtime.verifies(listener: message.envelope.client.listener)
        guard !methods.isEmpty else { return }
        let results = try await verifier.verify(
            methods, envelope: message.envelope, headers: message.headers, path: message.spoolPath, size: message.size)
        message.verdicts.authentication = results
        logger.event(.verify, "verified", [.queueID: message.envelope.queueID.rawValue, .reason: results.summary])
    }
}
