// DSNBouncer: queues the RFC 3464 bounce for recipients that failed for good.
// The DSN is a new message from the null sender to the original sender; the
// rules of the listener the original came in on decide where it goes, as for
// any message (the pipeline's decide stage, on the current runtime), and it
// is committed to the queue like any other. This host vouches for it: it is
// signed for its From: domain (MAILER-DAEMON@hostname) when a key covers it.

import Foundation
import Logging
import SluiceCore
import SluiceDelivery
import SluicePipeline
import SluiceQueue

struct DSNBouncer: Bouncer {
    let store: QueueStore
    let runtime: RuntimeHolder
    let hostname: String
    let observer: any QueueObserver
    let clock: any SluiceClock
    let fileIO: @Sendable (@escaping @Sendable () throws -> Void) async throws -> Void
    let logger: Logger
    /// Larger originals are returned as headers only.
    let maxReturnedBytes = 10 << 20

    func bounce(_ entry: QueueEntry, failed: [DeliveryStatusNotification.FailedRecipient]) async throws -> QueueID? {
        guard let sender = entry.envelope.sender else { return nil }
        let store = self.store
        var original: [UInt8] = []
        let limit = min(entry.size, maxReturnedBytes)
        let path = store.messagePath(for: entry.id)
        let box = OriginalBox()
        try await fileIO {
            guard let h = FileHandle(forReadingAtPath: path) else { return }
            defer { try? h.close() }
            box.bytes = [UInt8](try h.read(upToCount: limit) ?? Data())
        }
        original = box.bytes
        var envelope = entry.envelope
        if entry.size > maxReturnedBytes { envelope.dsnReturn = .headers }
        let id = QueueID.generate()
        let bytes = DeliveryStatusNotification.build(
            envelope: envelope, failed: failed, reportingMTA: hostname, original: original, date: clock.now(),
            boundaryID: id.rawValue)
        var client = ClientInfo(address: nil, listener: entry.envelope.client.listener)
        client.helo = hostname
        var dsn = Envelope(
            queueID: id, sender: nil, recipients: [Recipient(address: sender, notify: .never)], bodyType: .eightBitMIME,
            smtpUTF8: !sender.isASCII, client: client, receivedAt: clock.now())
        dsn.dsnReturn = nil
        let headerEnd = DeliveryStatusNotification.headerSection(bytes).count
        var message = ReceivedMessage(
            envelope: dsn, headers: MessageHeaders(parsing: bytes[..<headerEnd]), spoolPath: store.spoolPath(for: id), size: bytes.count)
        message.verdicts.sender = SenderAuthorization(principal: "this host (delivery status notification)", fromDomains: [hostname.lowercased()])
        let decision = Decide.decide(message, runtime: runtime.current)
        decision.log(logger, queueID: id)
        if let reject = decision.reject { throw reject }
        let queued = QueueEntry(envelope: dsn, plan: decision.plan, size: bytes.count, queuedAt: clock.now())
        try await fileIO { try store.submit(bytes, queued) }
        await observer.queued(queued)
        return id
    }
}

/// Carries bytes out of a blocking closure.
final class OriginalBox: @unchecked Sendable {
    var bytes: [UInt8] = []
}
