// VerifyStage: SPF, DKIM and DMARC for listeners with `verify:` (R-MAUTH-1),
// as typed AuthenticationResults; the decide stage writes them into the
// Authentication-Results header and the rules test them.

import Logging
import SluiceCore
import SluiceMailAuth

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

/// The dry run's verify stage: results given on the command line (`--spf fail --dmarc fail`), since a
/// message file alone says nothing of the client that would send it.
public struct SuppliedAuthenticationStage: MessageStage {
    public let name = "verify"
    let results: AuthenticationResults?

    public init(results: AuthenticationResults?) { self.results = results }

    public func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws {
        message.verdicts.authentication = results
    }
}
