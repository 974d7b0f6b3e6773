// The two things an SMTP listener asks of the rest of the daemon: the accept
// checks during the dialogue (SessionCheck, from SluiceCore) and, at end of
// data, a MessageReceiver that runs the message stages and commits to the queue.

import Logging
import SluiceCore

public protocol MessageReceiver: Sendable {
    /// The message is spooled at `spoolPath`; `facts` are what the session checks recorded (of the connection and of
    /// this transaction). Returns the queue id once the message is durably queued (and logs `queued` with `logger`,
    /// the session's, before delivery can start); throws an SMTPError to refuse it.
    func receive(
        envelope: Envelope, headers: MessageHeaders, spoolPath: String, size: Int, facts: MessageVerdicts, logger: Logger
    ) async throws -> QueueID
}
