// QueueListing: what `sluice queue list`, `summary` and the filters read of a
// queued message — id, size, times, state, sender, recipients and each
// route's target, status, attempts and last error — kept beside the full
// entry in the queue files (QueueListingRecord) so that listing 100,000
// messages reads a few hundred bytes of each instead of decoding its JSON.

import Foundation
import SluiceCore

public struct QueueListing: Sendable, Equatable {
    public struct RouteLine: Sendable, Equatable {
        public var target: String
        public var status: RouteState.Status
        public var attempts: Int
        /// Held in quarantine.
        public var held: Bool
        public var lastError: String?
        public var recipients: [String]
    }

    public var id: QueueID
    public var size: Int
    public var queuedAt: Date
    public var nextAttempt: Date
    /// Held by an operator.
    public var held: Bool
    /// The envelope sender; nil for the null sender (<>).
    public var sender: String?
    public var recipients: [String]
    public var routes: [RouteLine]

    public init(_ e: QueueEntry) {
        id = e.id
        size = e.size
        queuedAt = e.queuedAt
        nextAttempt = e.nextAttempt
        held = e.held
        sender = e.envelope.sender?.description
        recipients = e.envelope.recipients.map { $0.address.description }
        routes = e.routes.map {
            RouteLine(
                target: $0.route.target.description, status: $0.status, attempts: $0.attempts, held: $0.route.held,
                lastError: $0.lastError, recipients: $0.route.recipients.map(\.description))
        }
    }

    init(id: QueueID, size: Int, queuedAt: Date, nextAttempt: Date, held: Bool, sender: String?, recipients: [String], routes: [RouteLine]) {
        (self.id, self.size, self.queuedAt, self.nextAttempt, self.held) = (id, size, queuedAt, nextAttempt, held)
        (self.sender, self.recipients, self.routes) = (sender, recipients, routes)
    }

    /// As QueueEntry.state decides it.
    public var state: QueueState {
        if held { return .held }
        if routes.contains(where: { $0.status == .pending && $0.held }) { return .quarantined }
        return (routes.map(\.attempts).max() ?? 0) == 0 ? .active : .deferred
    }

    /// "<a@b>", or "<>" for the null sender.
    public var senderDescription: String { "<\(sender ?? "")>" }

    /// The lowercased domains the message still has to reach: its pending routes' recipients' (every
    /// recipient's when no route is pending).
    public var pendingDomains: Set<String> {
        let pending = routes.filter { $0.status == .pending }.flatMap(\.recipients)
        return Set((pending.isEmpty ? recipients : pending).map(Self.domain))
    }

    /// The lowercased domain of every envelope recipient.
    public var recipientDomains: [String] { recipients.map(Self.domain) }

    static func domain(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].lowercased()
    }
}
