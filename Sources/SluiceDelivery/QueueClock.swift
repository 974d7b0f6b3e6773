// QueueClock: the time the queue manager schedules by. The daemon uses the
// wall clock; tests move a manual clock by hand, so retry timing is tested
// without waiting for it.

import Foundation

public protocol QueueClock: Sendable {
    func now() -> Date
    /// Returns when `deadline` has come (at once if it has), or as soon as the calling task is cancelled.
    func sleep(until deadline: Date) async
}

public struct WallClock: QueueClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else { return }
        // Cancellation ends the sleep early, which is what the caller asks for.
        try? await Task.sleep(nanoseconds: UInt64(min(seconds, 86_400) * 1e9))
    }
}
