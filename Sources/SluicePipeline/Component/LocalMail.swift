// LocalMail: how a component queues a message this host writes itself (a
// TLS report): the message is decided by the current runtime's rules of a
// listener, as mail that arrives there is, signed for its From: domain when
// a key covers it (this host vouches for it), committed to the queue and
// handed to the queue manager. The daemon connects the submitter once its
// queue manager runs; elsewhere (a dry run) nothing can be queued.

import SluiceCore
import Synchronization

/// A message this host writes.
public struct LocalMessage: Sendable {
    public var sender: MailAddress?
    public var recipients: [MailAddress]
    /// The whole message, CRLF line ends.
    public var bytes: [UInt8]
    /// The listener whose rules decide where it goes.
    public var listener: String
    /// Who vouches for it, for the signing decision and the log ("this host (TLS report)").
    public var principal: String
    /// Its From: domain.
    public var fromDomain: String

    public init(sender: MailAddress?, recipients: [MailAddress], bytes: [UInt8], listener: String, principal: String, fromDomain: String) {
        self.sender = sender
        self.recipients = recipients
        self.bytes = bytes
        self.listener = listener
        self.principal = principal
        self.fromDomain = fromDomain
    }
}

public protocol LocalMailSubmitter: Sendable {
    func submit(_ message: LocalMessage) async throws -> QueueID
}

public final class LocalMail: Sendable {
    private let submitter = Mutex<(any LocalMailSubmitter)?>(nil)

    public init() {}

    /// The daemon's submitter (set once its queue manager runs).
    public func connect(_ s: any LocalMailSubmitter) { submitter.withLock { $0 = s } }

    public func submit(_ message: LocalMessage) async throws -> QueueID {
        guard let s = submitter.withLock({ $0 }) else { throw RuntimeError("this process queues no mail of its own") }
        return try await s.submit(message)
    }
}
