// DeliverySchedule: the queue manager's view of what is due, per destination
// (an upstream pool, a recipient domain, a mailbox store: what a target says a
// route goes to). Each destination has its own DueSchedule; a heap of the
// destinations' first messages gives the next message to attempt across
// them, earliest due and then longest waiting first, skipping a destination
// that already has its limit of attempts running. So one slow or failing
// destination takes at most `destinationLimit` of the manager's attempts and
// the others go on, and a dispatch costs O(log n) per message taken whatever
// the backlog (Postfix's per-destination queues in qmgr; Stalwart's
// next_event). It also knows which messages are being attempted: a message is
// either waiting here or running, never both. Pure logic: time comes from the
// caller's clock.

import Foundation
import SluiceCore

public struct DeliverySchedule: Sendable {
    /// A destination's first message, as it was when pushed (stale once that changes).
    private struct Head: Comparable, Sendable {
        var at: Date
        var id: QueueID
        var destination: String

        static func < (a: Head, b: Head) -> Bool { a.at != b.at ? a.at < b.at : a.id < b.id }
    }

    /// Attempts at once to one destination, at most.
    public let destinationLimit: Int
    private var queues: [String: DueSchedule] = [:]
    private var destinationOf: [QueueID: String] = [:]
    /// Messages being attempted, by destination.
    private var runningTo: [QueueID: String] = [:]
    private var active: [String: Int] = [:]
    private var heads = BinaryHeap<Head>()
    private var retiredComparisons = 0

    public init(destinationLimit: Int) {
        precondition(destinationLimit > 0)
        self.destinationLimit = destinationLimit
    }

    /// Messages waiting (not being attempted).
    public var count: Int { destinationOf.count }
    /// Messages being attempted.
    public var runningCount: Int { runningTo.count }
    /// Destinations with a message waiting or running.
    public var destinations: Int { Set(queues.keys).union(active.keys).count }

    public func contains(_ id: QueueID) -> Bool { destinationOf[id] != nil }
    /// Every message it holds: waiting and being attempted.
    public var ids: [QueueID] { Array(destinationOf.keys) + Array(runningTo.keys) }
    public func isRunning(_ id: QueueID) -> Bool { runningTo[id] != nil }
    public func destination(of id: QueueID) -> String? { destinationOf[id] ?? runningTo[id] }
    public func dueTime(of id: QueueID) -> Date? { destinationOf[id].flatMap { queues[$0]?.dueTime(of: id) } }
    public func running(to destination: String) -> Int { active[destination] ?? 0 }

    /// Slots allocated across its collections (tests see a drained schedule give its memory back).
    var capacity: Int { destinationOf.capacity + runningTo.capacity + heads.capacity + queues.values.reduce(0) { $0 + $1.capacity } }

    /// Comparisons made so far, in every heap (tests count work, not seconds).
    public var comparisons: Int { heads.comparisons + retiredComparisons + queues.values.reduce(0) { $0 + $1.comparisons } }

    /// Schedules a waiting message at `at` for `destination` (replacing its earlier time and destination).
    /// A message being attempted is not scheduled: its attempt's end does that (`finished`, then `set`).
    public mutating func set(_ id: QueueID, at: Date, destination: String) {
        guard runningTo[id] == nil else { return }
        if let old = destinationOf[id], old != destination { remove(id) }
        destinationOf[id] = destination
        changingHead(of: destination) { $0.set(id, at: at) }
    }

    /// The message no longer waits (delivered, held, deleted).
    public mutating func remove(_ id: QueueID) {
        guard let d = destinationOf.removeValue(forKey: id) else { return }
        destinationOf.shrinkIfSparse()
        changingHead(of: d) { $0.remove(id) }
        forgetIfIdle(d)
    }

    /// The earliest due time of a message whose destination can take another attempt.
    public mutating func next() -> Date? { validTop()?.at }

    /// Up to `limit` messages due at `now`, earliest then longest waiting first, at most `destinationLimit` running
    /// per destination; they leave the schedule and count as running until `finished`.
    public mutating func takeDue(now: Date, limit: Int) -> [QueueID] {
        var taken: [QueueID] = []
        while taken.count < limit, let top = validTop(), top.at <= now {
            heads.popFirst()
            let d = top.destination
            _ = queues[d]?.takeDue(now: now, limit: 1)
            destinationOf[top.id] = nil
            destinationOf.shrinkIfSparse()
            runningTo[top.id] = d
            active[d, default: 0] += 1
            taken.append(top.id)
            pushHead(of: d)
        }
        return taken
    }

    /// The message's attempt ended: its destination can take another.
    public mutating func finished(_ id: QueueID) {
        guard let d = runningTo.removeValue(forKey: id) else { return }
        heads.shrinkIfSparse()
        let before = active[d] ?? 0
        active[d] = before > 1 ? before - 1 : nil
        // At its limit until now: its first message was left out of the heap.
        if before >= destinationLimit { pushHead(of: d) }
        forgetIfIdle(d)
    }

    // MARK: the heap of heads

    /// Applies `change` to a destination's schedule and pushes its first message if that changed.
    private mutating func changingHead(of d: String, _ change: (inout DueSchedule) -> Void) {
        let before = queues[d]?.first()
        change(&queues[d, default: DueSchedule()])
        let after = queues[d]?.first()
        if after?.at != before?.at || after?.id != before?.id { pushHead(of: d) }
    }

    private mutating func pushHead(of d: String) {
        guard (active[d] ?? 0) < destinationLimit, let first = queues[d]?.first() else { return }
        heads.push(Head(at: first.at, id: first.id, destination: d))
        sweepIfStale()
    }

    /// The heap's top, once the entries that no longer describe a destination's first message (or describe a
    /// destination at its limit) are dropped.
    private mutating func validTop() -> Head? {
        while let top = heads.first {
            if (active[top.destination] ?? 0) < destinationLimit, let first = queues[top.destination]?.first(),
                first.id == top.id, first.at == top.at
            {
                return top
            }
            heads.popFirst()
        }
        return nil
    }

    /// Rebuilds the heap from the destinations' first messages when stale entries are most of it.
    private mutating func sweepIfStale() {
        guard heads.count > 64, heads.count > 2 * queues.count else { return }
        var fresh: [Head] = []
        for d in Array(queues.keys) where (active[d] ?? 0) < destinationLimit {
            if let first = queues[d]?.first() { fresh.append(Head(at: first.at, id: first.id, destination: d)) }
        }
        heads.rebuild(fresh)
    }

    /// A destination with nothing waiting and nothing running is forgotten (recipient domains come and go).
    private mutating func forgetIfIdle(_ d: String) {
        guard active[d] == nil, let q = queues[d], q.count == 0 else { return }
        retiredComparisons += q.comparisons
        queues[d] = nil
    }
}
