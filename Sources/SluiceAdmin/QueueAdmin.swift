// QueueAdmin: `sluice queue list|show|summary|retry|hold|release|delete` (R-QUEUE-2)
// and `sluice quarantine release|delete`, as operations on this node's queue:
// the CLI parses and prints, an HTTP admin API will call the same. Every
// change is made under the message's lock (QueueStore.modify), so it never
// loses a race with a delivery in flight; the queue manager is then told
// (directly in the daemon, by a signal from another process), and the
// quarantine index follows.

import Foundation
import SluiceCore
import SluiceQueue

/// Tells the queue manager that messages changed (held, released, retried, deleted): it schedules them as they now say.
public protocol QueueChangeNotifier: Sendable {
    func queueChanged(_ ids: [QueueID]) async
    /// Asks the running daemon to attempt these messages now, writing nothing; false when no daemon took it.
    func retryNow(_ ids: [QueueID]) async -> Bool
    /// The same for every waiting message.
    func retryAll() async -> Bool
}

extension QueueChangeNotifier {
    public func retryNow(_ ids: [QueueID]) async -> Bool { false }
    public func retryAll() async -> Bool { false }
}

public struct QueueAdmin: Sendable {
    public let store: QueueStore
    let notifier: any QueueChangeNotifier
    /// Told of each change (the quarantine index follows the queue).
    let observer: (any QueueObserver)?
    let clock: any SluiceClock

    public init(store: QueueStore, notifier: any QueueChangeNotifier, observer: (any QueueObserver)?, clock: any SluiceClock) {
        self.store = store
        self.notifier = notifier
        self.observer = observer
        self.clock = clock
    }

    public static func parseID(_ text: String) throws -> QueueID {
        guard let id = QueueID(text.uppercased()) else { throw AdminError("'\(text)' is not a queue id") }
        return id
    }

    public func entry(_ id: String) throws -> QueueEntry {
        let qid = try Self.parseID(id)
        guard let entry = try store.load(qid) else { throw AdminError("no message \(qid) in the queue") }
        return entry
    }

    /// The matches a chunk at a time, read on every core, for listings that print as they go; unreadable messages go to
    /// `unreadable`.
    public func forEachMatch(
        _ selection: QueueSelection, unreadable: (QueueID, any Error) -> Void = { _, _ in }, _ body: ([QueueListing]) throws -> Void
    ) throws {
        let now = clock.now()
        try store.forEachListingChunk(threads: ProcessInfo.processInfo.activeProcessorCount) { chunk in
            var found: [QueueListing] = []
            for (id, result) in chunk {
                switch result {
                case .success(let e): if selection.matches(e, now: now) { found.append(e) }
                case .failure(let error): unreadable(id, error)
                }
            }
            try body(found)
        }
    }

    public func select(_ selection: QueueSelection, unreadable: (QueueID, any Error) -> Void = { _, _ in }) throws -> [QueueListing] {
        var out: [QueueListing] = []
        try forEachMatch(selection, unreadable: unreadable) { out += $0 }
        return out
    }

    /// The ids an operation acts on: the one given (which must be queued), or every match of the selection.
    public func targets(_ id: String?, _ selection: QueueSelection) throws -> [QueueID] {
        if let id { return [try entry(id).id] }
        return try select(selection).map(\.id)
    }

    public func summary(_ selection: QueueSelection) throws -> (total: QueueSummary.Row, domains: [QueueSummary.Row]) {
        QueueSummary.rows(try select(selection), now: clock.now())
    }

    /// Deletes the messages (they will not be delivered); returns those that were still queued.
    public func delete(_ ids: [QueueID]) async throws -> [QueueID] {
        var deleted: [QueueID] = []
        for id in ids {
            // Under the message's lock; one delivered meanwhile is simply gone.
            var existed = false
            try store.modify(id) { _ in
                existed = true
                return .remove
            }
            if existed {
                deleted.append(id)
                await observer?.changed(id, to: nil)
            }
        }
        // The manager takes them off its schedule and its census.
        await notifier.queueChanged(deleted)
        return deleted
    }

    /// Stops delivering the messages until released; returns those held.
    public func hold(_ ids: [QueueID]) async throws -> [QueueID] {
        var held: [QueueID] = []
        for id in ids {
            // Under the message's lock: a delivery attempt finishing meanwhile keeps the hold.
            if let after = try store.modify(id, { current in
                var e = current
                e.held = true
                return .update(e)
            }) {
                held.append(id)
                await observer?.changed(id, to: after)
            }
        }
        await notifier.queueChanged(held)
        return held
    }

    public struct RetryResult: Sendable {
        public var scheduled: [QueueID] = []
        /// Held by an operator: release them first.
        public var held: [QueueID] = []
        public var gone: [QueueID] = []
    }

    /// Makes the messages due now (a "not before" a target gave included: an operator's retry means now). Written a
    /// batch at a time with one flush each, and the queue manager told after each batch: with a large backlog, the
    /// first messages leave while the rest are still being written.
    /// `queue retry` of many messages while a daemon runs: it makes them due now in memory (no state file is
    /// rewritten first: each attempt writes its message's state); false when no daemon runs (then `retry`).
    public func retryInDaemon(_ ids: [QueueID]) async -> Bool { await notifier.retryNow(ids) }

    /// The same for every waiting message.
    public func retryAllInDaemon() async -> Bool { await notifier.retryAll() }

    public func retry(_ ids: [QueueID]) async throws -> RetryResult {
        var result = RetryResult()
        let now = clock.now()
        for start in stride(from: 0, to: ids.count, by: QueueStore.batchLimit) {
            let batch = Array(ids[start..<min(ids.count, start + QueueStore.batchLimit)])
            var held: Set<QueueID> = []
            let after = try store.modify(batch: batch) { e in
                guard !e.held else {
                    held.insert(e.id)
                    return .keep
                }
                var e = e
                e.nextAttempt = now
                for i in e.routes.indices { e.routes[i].notBefore = nil }
                return .update(e)
            }
            var scheduled: [QueueID] = []
            for (id, entry) in after {
                if entry == nil {
                    result.gone.append(id)
                } else if held.contains(id) {
                    result.held.append(id)
                } else {
                    scheduled.append(id)
                }
            }
            result.scheduled += scheduled
            await notifier.queueChanged(scheduled)
        }
        return result
    }

    public struct ReleaseResult: Sendable {
        public var released: [QueueID] = []
        /// Neither held nor quarantined.
        public var notHeld: [QueueID] = []
        public var gone: [QueueID] = []
        /// With `only`: the recipients released.
        public var recipients: [MailAddress] = []
    }

    /// Releases held or quarantined messages: delivered as their rules decided. `only`: release just this quarantined
    /// recipient; the others stay in quarantine.
    public func release(_ ids: [QueueID], only: String? = nil) async throws -> ReleaseResult {
        var result = ReleaseResult()
        let now = clock.now()
        let only = only?.lowercased()
        for id in ids {
            var wasHeld = true
            var freed: [MailAddress] = []
            let after = try store.modify(id) { current in
                guard current.isQuarantined || current.held else {
                    wasHeld = false
                    return .keep
                }
                var next = current
                next.held = false
                var routes: [RouteState] = []
                for state in current.routes {
                    guard state.status == .pending && state.route.held else {
                        routes.append(state)
                        continue
                    }
                    let (go, stay) = state.route.recipients.reduce(into: ([MailAddress](), [MailAddress]())) { acc, r in
                        if only == nil || r.description.lowercased() == only { acc.0.append(r) } else { acc.1.append(r) }
                    }
                    if !stay.isEmpty {
                        var held = state
                        held.route.recipients = stay
                        routes.append(held)
                    }
                    if !go.isEmpty {
                        var free = state
                        free.route.recipients = go
                        free.route.held = false
                        routes.append(free)
                        freed += go
                    }
                }
                next.routes = routes
                next.nextAttempt = now
                return .update(next)
            }
            if after == nil {
                result.gone.append(id)
            } else if !wasHeld {
                result.notHeld.append(id)
            } else {
                result.released.append(id)
                result.recipients += freed
                await observer?.changed(id, to: after)
            }
        }
        await notifier.queueChanged(result.released)
        return result
    }
}
