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
    /// Per listener: how long the checks and rules may take before the client gets a 451.
    public var budgets: [String: Double] = [:]

    public func receive(
        envelope: Envelope, headers: MessageHeaders, spoolPath: String, size: Int, logger: Logger
    ) async throws -> QueueID {
        let checks = self.checks
        let planner = self.planner
        let budget = budgets[envelope.client.listener] ?? 30
        // R-RULES-3: bounded time before the reply. Past the budget the client is told
        // to try again later; nothing has been queued, so nothing is lost.
        let (message, plan) = try await withDeadline(
            seconds: budget,
            onTimeout: {
                SMTPError(451, .init(4, 3, 0), "Temporary local problem, try again later", reason: "checks and rules exceeded \(budget)s")
            }
        ) { () async throws -> (ReceivedMessage, DeliveryPlan) in
            var message = ReceivedMessage(envelope: envelope, headers: headers, spoolPath: spoolPath, size: size)
            for check in checks { try await check.check(&message) }
            var plan = try await planner.plan(for: message, logger: logger)
            // What the checks add (Authentication-Results) goes on top, above each route's own headers.
            for i in plan.routes.indices { plan.routes[i].addHeaders.insert(contentsOf: message.addedHeaders, at: 0) }
            return (message, plan)
        }
        for r in plan.dropped {
            logger.event(
                .dropped, level: .notice, "recipient dropped by rules",
                [.queueID: envelope.queueID.rawValue, .recipient: r.description])
        }
        if plan.routes.contains(where: \.held) {
            logger.event(.quarantined, level: .notice, "quarantined", [.queueID: envelope.queueID.rawValue])
        }
        var queued = QueueEntry(envelope: message.envelope, plan: plan, size: size, queuedAt: Date())
        let kept = message.annotations.filter { !$0.key.hasPrefix("attachment.") && !$0.key.hasSuffix(".min") }
        queued.verdicts = kept.isEmpty ? nil : kept
        let entry = queued
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


