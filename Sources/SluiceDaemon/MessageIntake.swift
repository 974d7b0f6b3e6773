// MessageIntake: what happens at end of DATA, before the reply. Runs the
// pipeline (stages, then rules and signing) on the runtime current when DATA
// ended, commits the message with its plan to the queue (fsync'd), and wakes
// the queue manager; what the stages computed for reuse (the archive's text)
// is handed to the deliveries in memory. Only when it returns does the client get
// "250 ... queued as ID".

import Foundation
import Logging
import SluiceCore
import SluiceDelivery
import SluicePipeline
import SluiceQueue
import SluiceServer

struct MessageIntake: MessageReceiver {
    let pipeline: Pipeline
    let runtime: RuntimeHolder
    let store: QueueStore
    let queueManager: QueueManager
    /// The components told of what is queued (the quarantine index).
    let observer: any QueueObserver
    /// What the stages computed that the deliveries reuse (the archive's text).
    let handoff: MessageHandoff
    let clock: any SluiceClock
    let fileIO: @Sendable (@escaping @Sendable () throws -> Void) async throws -> Void

    func receive(
        envelope: Envelope, headers: MessageHeaders, spoolPath: String, size: Int, facts: MessageVerdicts, logger: Logger
    ) async throws -> QueueID {
        let endOfData = clock.now()
        let runtime = self.runtime.current
        let pipeline = self.pipeline
        let budget = runtime.config.listeners.first { $0.name == envelope.client.listener }?.rulesTimeout ?? 30
        // R-RULES-3: bounded time before the reply. Past the budget the client is told
        // to try again later; nothing has been queued, so nothing is lost.
        let (message, decision) = try await withDeadline(
            seconds: budget,
            onTimeout: {
                SMTPError(451, .init(4, 3, 0), "Temporary local problem, try again later", reason: "checks and rules exceeded \(budget)s")
            }
        ) { () async throws -> (ReceivedMessage, Decision) in
            var message = ReceivedMessage(envelope: envelope, headers: headers, spoolPath: spoolPath, size: size)
            message.verdicts = facts
            let decision = try await pipeline.run(&message, runtime: runtime, logger: logger)
            return (message, decision)
        }
        let id = envelope.queueID
        decision.log(logger, queueID: id)
        if let reject = decision.reject { throw reject }
        for r in decision.plan.dropped {
            logger.event(.dropped, level: .notice, "recipient dropped by rules", [.queueID: id.rawValue, .recipient: r.description])
        }
        if decision.plan.routes.contains(where: \.held) {
            logger.event(.quarantined, level: .notice, "quarantined", [.queueID: id.rawValue])
        }
        var queued = QueueEntry(envelope: message.envelope, plan: decision.plan, size: size, queuedAt: clock.now())
        queued.results = message.verdicts.forQueue
        let entry = queued
        let store = self.store
        try await fileIO { try store.commit(entry) }
        handoff.keep(message.derived, for: id)
        logger.event(
            .queued, "queued",
            [
                .queueID: id.rawValue, .from: envelope.senderDescription,
                .recipients: envelope.recipients.map { $0.address.description }.joined(separator: ","), .size: "\(size)",
                .latencyMS: "\(Int(clock.now().timeIntervalSince(envelope.receivedAt) * 1000))",
                .replyMS: String(format: "%.1f", clock.now().timeIntervalSince(endOfData) * 1000),
                .signing: decision.plan.signingNote ?? decision.signing.note,
            ])
        await observer.queued(entry)
        await queueManager.enqueued(entry)
        return id
    }
}
