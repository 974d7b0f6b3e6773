// DueSchedule: when each queued message is due next, as a binary heap keyed
// by (due time, queue id): the earliest first, and among equals the longest
// waiting (ids are time-ordered), so retries and new arrivals are served in
// order and nothing starves. Taking the due messages costs O(log n) each and
// the next due time O(1), whatever the backlog: the queue manager once
// filtered and sorted every queued message at each dispatch. A changed or
// removed time leaves its old heap entry behind, skipped when it surfaces and
// swept out when stale entries outnumber live ones. Pure logic: the time is
// given by the caller (the queue manager's injected clock).

import Foundation
import SluiceCore

public struct DueSchedule: Sendable {
    private struct Item: Comparable, Sendable {
        var at: Date
        var id: QueueID

        static func < (a: Item, b: Item) -> Bool { a.at != b.at ? a.at < b.at : a.id < b.id }
    }

    /// The current due time of each scheduled message (the truth; heap entries that disagree are stale).
    private var times: [QueueID: Date] = [:]
    private var heap = BinaryHeap<Item>()
    /// Comparisons made so far (tests count work, not seconds).
    public var comparisons: Int { heap.comparisons }

    public init() {}

    /// Messages scheduled.
    public var count: Int { times.count }

    public func contains(_ id: QueueID) -> Bool { times[id] != nil }

    /// Slots allocated (tests see a drained schedule give its memory back).
    var capacity: Int { times.capacity + heap.capacity }

    public func dueTime(of id: QueueID) -> Date? { times[id] }

    /// Schedules a message at `at` (replacing its earlier time).
    public mutating func set(_ id: QueueID, at: Date) {
        guard times.updateValue(at, forKey: id) != at else { return }
        heap.push(Item(at: at, id: id))
        sweepIfStale()
    }

    /// The message is no longer scheduled (delivered, held, being attempted).
    public mutating func remove(_ id: QueueID) {
        guard times.removeValue(forKey: id) != nil else { return }
        sweepIfStale()
        times.shrinkIfSparse()
    }

    /// The earliest due time.
    public mutating func next() -> Date? {
        dropStaleTop()
        return heap.first?.at
    }

    /// The message due first, and when.
    public mutating func first() -> (at: Date, id: QueueID)? {
        dropStaleTop()
        return heap.first.map { ($0.at, $0.id) }
    }

    /// Up to `limit` messages due at `now`, earliest (then longest waiting) first; they leave the schedule.
    public mutating func takeDue(now: Date, limit: Int) -> [QueueID] {
        var taken: [QueueID] = []
        while taken.count < limit {
            dropStaleTop()
            guard let top = heap.first, top.at <= now else { break }
            heap.popFirst()
            times[top.id] = nil
            taken.append(top.id)
        }
        if !taken.isEmpty {
            times.shrinkIfSparse()
            heap.shrinkIfSparse()
        }
        return taken
    }

    private func isCurrent(_ item: Item) -> Bool { times[item.id] == item.at }

    private mutating func dropStaleTop() {
        while let top = heap.first, !isCurrent(top) { heap.popFirst() }
    }

    /// Rebuilds the heap from the live times when stale entries are more than half of it.
    private mutating func sweepIfStale() {
        guard heap.count > 64, heap.count > 2 * times.count else { return }
        heap.rebuild(times.map { Item(at: $0.value, id: $0.key) })
    }
}
