// QueueCensus: what the queue holds, by state, as the queue manager knows it —
// for `sluice status` and /metrics without reading a million files. The
// manager records each message's state as it learns it (indexed at start,
// committed, attempted, changed by an operator, removed); until its first
// index of the queue is done the census is partial, and says so.

import Foundation
import SluiceCore
import SluiceQueue

public struct QueueCensus: Sendable {
    /// Messages queued.
    public var depth: Int
    public var byState: [QueueState: Int]
    /// Messages being attempted now.
    public var inFlight: Int
    /// The longest queued (ids are time-ordered).
    public var oldest: QueueID?
    /// False while the queue manager is still indexing what was queued before it started.
    public var complete: Bool
}

/// Each queued message's state, and the count per state.
struct QueueStateBook: Sendable {
    private var states: [QueueID: QueueState] = [:]
    private var counts: [QueueState: Int] = [:]

    /// Records a message's state; nil: no longer queued.
    mutating func record(_ id: QueueID, _ state: QueueState?) {
        let old = state.map { states.updateValue($0, forKey: id) } ?? states.removeValue(forKey: id)
        if let old { counts[old, default: 0] -= 1 }
        if state == nil { states.shrinkIfSparse() }
        if let state { counts[state, default: 0] += 1 }
    }

    func knows(_ id: QueueID) -> Bool { states[id] != nil }
    func state(of id: QueueID) -> QueueState? { states[id] }

    var count: Int { states.count }
    var byState: [QueueState: Int] { counts.filter { $0.value > 0 } }
    /// O(n) over ids in memory: a scrape's cost, not a file read.
    var oldest: QueueID? { states.keys.min() }
}

/// The last `limit` ids inserted (oldest forgotten first).
struct RecentIDs: Sendable {
    let limit: Int
    private var set: Set<QueueID> = []
    private var order: [QueueID] = []
    private var head = 0

    init(limit: Int) { self.limit = limit }

    func contains(_ id: QueueID) -> Bool { set.contains(id) }

    mutating func insert(_ id: QueueID) {
        guard set.insert(id).inserted else { return }
        order.append(id)
        if set.count > limit {
            set.remove(order[head])
            head += 1
            if head > limit {
                order.removeFirst(head)
                head = 0
            }
        }
    }
}
