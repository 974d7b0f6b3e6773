// The two things an SMTP listener asks of the rest of the daemon: the accept
// checks during the dialogue (SessionCheck, from SluiceCore) and, at end of
// data, a MessageReceiver that runs the message stages and commits to the queue.

import SluiceCore

public protocol MessageReceiver: Sendable {
    /// The message is spooled and fsync'd at `spoolPath`. Returns the queue id
    /// once the message is durably queued; throws an SMTPError to refuse it.
    func receive(envelope: Envelope, headers: MessageHeaders, spoolPath: String, size: Int) async throws -> QueueID
}
