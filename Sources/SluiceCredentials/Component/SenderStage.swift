// SenderStage: who vouches for the message (R-AUTH-2): an authenticated
// user, a trusted network, or nobody. A From: address the principal may not
// use is refused (550 5.7.1); otherwise the authorization is the verdict the
// signing policy reads.

import Logging
import SluiceCore
import SluicePipeline

public struct SenderStage: MessageStage {
    public let name = "sender"
    let check: SenderIdentityCheck

    public init(check: SenderIdentityCheck) { self.check = check }

    public func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws {
        message.verdicts.sender = try await check.authorize(
            client: message.envelope.client, headers: message.headers, settings: runtime.senderIdentity)
    }
}
