// QueueEntry: the envelope file of a queued message: envelope, the plan the
// decide stage made, and per-route delivery state. Its presence on disk is what
// makes a message part of the queue.

import Foundation
import SluiceCore

public struct RouteState: Sendable, Codable {
    public enum Status: String, Sendable, Codable {
        case pending, delivered, failed
    }

    public var route: Route
    public var status: Status = .pending
    public var attempts = 0
    public var lastError: String?
    /// The reply behind lastError, for the DSN.
    public var lastErrorReply: SMTPReplyRecord?
    /// A DSN for this route's failure was queued (so it is sent once).
    public var bounced = false
    /// What the last attempt did: its reply (the final one when delivered), the host it reached with what the
    /// transport did, whether the reply was the remote's, and when it ended. nil before the first attempt, and in
    /// files of release 0.9.0.
    public var lastReply: SMTPReplyRecord?
    public var lastRemote: RemoteEnd?
    public var lastReplyFromRemote: Bool?
    public var lastAttemptAt: Date?
    /// A target said "not before then": the route waits, without counting an attempt or growing the back-off.
    public var notBefore: Date?

    public init(route: Route) { self.route = route }
}

public struct QueueEntry: Sendable, Codable {
    public var envelope: Envelope
    public var plan: DeliveryPlan
    public var routes: [RouteState]
    public var size: Int
    public var queuedAt: Date
    public var nextAttempt: Date
    public var held = false
    /// What the verify and inspect stages found (without the findings' samples), kept for the archive.
    public var results: MessageVerdicts?
    /// CRC-32 of the message bytes (before the end record), set at commit: lets recovery finish a commit whose
    /// rename into active/ a crash lost (queue files of earlier versions have none).
    public var checksum: UInt32?

    public init(envelope: Envelope, plan: DeliveryPlan, size: Int, queuedAt: Date) {
        self.envelope = envelope
        self.plan = plan
        self.routes = plan.routes.map(RouteState.init)
        self.size = size
        self.queuedAt = queuedAt
        self.nextAttempt = queuedAt
    }

    public var id: QueueID { envelope.queueID }
    public var isFinished: Bool { routes.allSatisfy { $0.status != .pending } }
    /// Pending routes held in quarantine, waiting for `sluice queue release`.
    public var isQuarantined: Bool { routes.contains { $0.status == .pending && $0.route.held } }
    /// Whether anything is left that the queue manager may deliver now.
    public var hasDeliverableRoutes: Bool { !held && routes.contains { $0.status == .pending && !$0.route.held } }
    public var attempts: Int { routes.map(\.attempts).max() ?? 0 }
    public var lastError: String? { routes.compactMap(\.lastError).last }
}

/// An SMTP reply as stored in the queue.
public struct SMTPReplyRecord: Sendable, Codable {
    public var code: Int
    public var status: EnhancedStatus?
    public var lines: [String]
}

extension SMTPError {
    public init(_ record: SMTPReplyRecord, reason: String) {
        self.init(SMTPReply(code: record.code, status: record.status, lines: record.lines), reason: reason)
    }
}

extension SMTPReply {
    public var record: SMTPReplyRecord { SMTPReplyRecord(code: code, status: status, lines: lines) }
}

/// Where a queued message stands, as `sluice queue list --state` and `sluice status` name it.
public enum QueueState: String, Sendable, CaseIterable {
    /// Not tried yet (or due now).
    case active
    /// Tried, waiting for its next attempt.
    case deferred
    /// Held by an operator (`sluice queue hold`).
    case held
    /// Held in quarantine by a rule until released.
    case quarantined
}

extension QueueEntry {
    public var state: QueueState {
        if held { return .held }
        if isQuarantined { return .quarantined }
        return attempts == 0 ? .active : .deferred
    }
}
