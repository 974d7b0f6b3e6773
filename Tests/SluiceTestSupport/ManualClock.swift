// ManualClock: the one clock, moved by hand in tests, so that what depends on
// time (retries, retention, expiry, rate-limit windows) is tested without
// waiting for it.

import Foundation
import SluiceCore

/// A clock moved by `advance`; `sleep` returns when the clock reaches its deadline or the task is cancelled.
public final class ManualClock: SluiceClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var sleepers: [(deadline: Date, resume: CheckedContinuation<Void, Never>)] = []

    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    public func now() -> Date { lock.withLock { current } }

    /// The deadlines someone is sleeping until now.
    public var deadlines: [Date] { lock.withLock { sleepers.map(\.deadline) } }

    public func advance(by seconds: Double) {
        let due = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            current += seconds
            let (ready, waiting) = (sleepers.filter { $0.deadline <= current }, sleepers.filter { $0.deadline > current })
            sleepers = waiting
            return ready.map(\.resume)
        }
        for c in due { c.resume() }
    }

    public func sleep(until deadline: Date) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = lock.withLock { () -> Bool in
                    if deadline <= current || Task.isCancelled { return true }
                    sleepers.append((deadline, c))
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            // Wake every sleeper whose task is gone: they re-check and return (the manager re-arms its wait).
            let all = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
                defer { sleepers = [] }
                return sleepers.map(\.resume)
            }
            for c in all { c.resume() }
        }
    }
}

