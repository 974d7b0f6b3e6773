// What the queue manager can say about the queue from memory, without
// reading a file: for `sluice status`, /metrics and the tests.

import SluiceCore

extension QueueManager {
    /// Whether the message waits on the schedule (not being attempted).
    public func isScheduled(_ id: QueueID) -> Bool { due.contains(id) }

    public var depth: Int { due.count + due.runningCount }

    /// What the queue holds by state, from memory (no file is read).
    public func census() -> QueueCensus {
        QueueCensus(depth: book.count, byState: book.byState, inFlight: due.runningCount, oldest: book.oldest, complete: indexed)
    }

    /// Messages being attempted now.
    public var inFlight: Int { due.runningCount }

    /// Attempts running now to one destination.
    public func inFlight(to destination: String) -> Int { due.running(to: destination) }
}
