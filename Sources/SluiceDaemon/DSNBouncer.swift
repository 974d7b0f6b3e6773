// DSNBouncer: queues the RFC 3464 bounce for recipients that failed for good.
// The DSN is a new message from the null sender to the original sender; the
// rules of the listener the original came in on decide where it goes, as for
// any message (the pipeline's decide stage, on the current runtime), and it
// is committed to the queue like any other (LocalSubmitter). This host
// vouches for it: it is signed for its From: domain (MAILER-DAEMON@hostname)
// when a key covers it.

import Foundation
import Logging
import SluiceCore
import SluiceDelivery
import SluicePipeline
import SluiceQueue

struct DSNBouncer: Bouncer {
    /// Decides and commits the DSN (without telling the queue manager, which schedules the DSN it asked for).
    let submitter: LocalSubmitter
    /// Larger originals are returned as headers only.
    let maxReturnedBytes = 10 << 20

    func bounce(_ entry: QueueEntry, failed: [DeliveryStatusNotification.FailedRecipient]) async throws -> QueueID? {
        guard let sender = entry.envelope.sender else { return nil }
        let store = submitter.store
        var original: [UInt8] = []
        let limit = min(entry.size, maxReturnedBytes)
        let path = store.messagePath(for: entry.id)
        let box = OriginalBox()
        try await submitter.fileIO {
            guard let h = FileHandle(forReadingAtPath: path) else { return }
            defer { try? h.close() }
            box.bytes = [UInt8](try h.read(upToCount: limit) ?? Data())
        }
        original = box.bytes
        var envelope = entry.envelope
        if entry.size > maxReturnedBytes { envelope.dsnReturn = .headers }
        let bytes = DeliveryStatusNotification.build(
            envelope: envelope, failed: failed, reportingMTA: submitter.hostname, original: original, date: submitter.clock.now(),
            boundaryID: QueueID.generate().rawValue)
        return try await submitter.submit(
            LocalMessage(
                sender: nil, recipients: [sender], bytes: bytes, listener: entry.envelope.client.listener,
                principal: "this host (delivery status notification)", fromDomain: submitter.hostname))
    }
}

/// Carries bytes out of a blocking closure.
final class OriginalBox: @unchecked Sendable {
    var bytes: [UInt8] = []
}
