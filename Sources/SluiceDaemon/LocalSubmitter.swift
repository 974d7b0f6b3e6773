// LocalSubmitter: queues a message this host writes (a DSN, a TLS report):
// the current runtime's rules of a listener decide where it goes, as for
// mail that arrives there (the pipeline's decide stage); it is signed for
// its From: domain when a key covers it (this host vouches for it), and
// committed to the queue like any other.

import Foundation
import Logging
import SluiceCore
import SluiceDelivery
import SluicePipeline
import SluiceQueue

struct LocalSubmitter: LocalMailSubmitter {
    let store: QueueStore
    let runtime: RuntimeHolder
    let hostname: String
    let observer: any QueueObserver
    let clock: any SluiceClock
    let fileIO: @Sendable (@escaping @Sendable () throws -> Void) async throws -> Void
    let logger: Logger
    /// Told of each message queued here (the daemon's queue manager); nil when the caller schedules it itself.
    var manager: QueueManager? = nil

    /// Decides, commits and (with a manager) schedules a message; its queue id.
    func submit(_ m: LocalMessage) async throws -> QueueID {
        let id = QueueID.generate()
        var client = ClientInfo(address: nil, listener: m.listener)
        client.helo = hostname
        let utf8 = !(m.sender?.isASCII ?? true) || m.recipients.contains { !$0.isASCII }
        var envelope = Envelope(
            queueID: id, sender: m.sender, recipients: m.recipients.map { Recipient(address: $0, notify: .never) }, bodyType: .eightBitMIME,
            smtpUTF8: utf8, client: client, receivedAt: clock.now())
        envelope.dsnReturn = nil
        let headerEnd = DeliveryStatusNotification.headerSection(m.bytes).count
        var message = ReceivedMessage(
            envelope: envelope, headers: MessageHeaders(parsing: m.bytes[..<headerEnd]), spoolPath: store.spoolPath(for: id), size: m.bytes.count)
        message.verdicts.sender = SenderAuthorization(principal: m.principal, fromDomains: [m.fromDomain.lowercased()])
        let decision = Decide.decide(message, runtime: runtime.current)
        decision.log(logger, queueID: id)
        if let reject = decision.reject { throw reject }
        let queued = QueueEntry(envelope: envelope, plan: decision.plan, size: m.bytes.count, queuedAt: clock.now())
        let store = self.store
        let bytes = m.bytes
        try await fileIO { try store.submit(bytes, queued) }
        await observer.queued(queued)
        await manager?.enqueued(queued)
        return id
    }
}
