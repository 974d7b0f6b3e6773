// MessageStage: one step between end of DATA and the decision: it reads the
// spooled message and adds its typed verdict to it, or refuses the message by
// throwing an SMTPError. The sender identity check, verification and DLP are
// stages; a spam or virus scanner is one more stage in the list the daemon
// builds, with no other change to the daemon.

import Logging
import SluiceCore

public protocol MessageStage: Sendable {
    /// A short name for logs ("sender", "verify", "inspect").
    var name: String { get }
    /// Adds this stage's verdict to `message.verdicts`, with the settings of `runtime` (the version this
    /// message is processed with), or throws the SMTPError to answer.
    func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws
}
