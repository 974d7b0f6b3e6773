// MessagePipeline: what happens at end of DATA, before the reply. Runs the
// verify/inspect checks, asks the planner for the delivery plan, commits the
// message to the queue (fsync'd), and triggers the queue manager. Only when it
// returns does the client get "250 ... queued as ID".

import Foundation
import Logging
import SluiceCore
import SluiceDelivery
import SluiceQueue
import SluiceServer

public struct MessagePipeline: MessageReceiver {
    public var checks: [any MessageCheck]
    public var planner: any RoutePlanner
    public var store: QueueStore
    public var queueManager: QueueManager
    public var fileIO: @Sendable (@escaping @Sendable () throws -> Void) async throws -> Void

    public func receive(
        envelope: Envelope, headers: MessageHeaders, spoolPath: String, size: Int, logger: Logger
    ) async throws -> QueueID {
        var message = ReceivedMessage(envelope: envelope, headers: headers, spoolPath: spoolPath, size: size)
        for check in checks { try await check.check(&message) }
        let plan = try await planner.plan(for: message, logger: logger)
        for r in plan.dropped {
            logger.event(
                .dropped, level: .notice, "recipient dropped by rules",
                [.queueID: envelope.queueID.rawValue, .recipient: r.description])
        }
        if plan.routes.contains(where: \.held) {
            logger.event(.quarantined, level: .notice, "quarantined", [.queueID: envelope.queueID.rawValue])
        }
        let entry = QueueEntry(envelope: message.envelope, plan: plan, size: size, queuedAt: Date())
        let store = self.store
        try await fileIO { try store.commit(entry) }
        logger.event(
            .queued, "queued",
            [
                .queueID: entry.id.rawValue, .from: envelope.senderDescription,
                .recipients: envelope.recipients.map { $0.address.description }.joined(separator: ","), .size: "\(size)",
                .latencyMS: "\(Int(Date().timeIntervalSince(envelope.receivedAt) * 1000))",
            ])
        await queueManager.enqueued(entry.id)
        return entry.id
    }
}


