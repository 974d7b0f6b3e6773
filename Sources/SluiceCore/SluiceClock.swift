// SluiceClock: the one source of time. The daemon's composition root makes a
// WallClock and hands it to everything that reads the time (the queue
// manager, archive retention, credential expiry, rate-limit windows, SRS
// time stamps); tests move a manual clock by hand, so timing is tested
// without waiting. `Date()` is read only at the edges (log lines, file
// names), never to decide.

import Foundation

public protocol SluiceClock: Sendable {
    func now() -> Date
    /// Returns when `deadline` has come (at once if it has), or as soon as the calling task is cancelled.
    func sleep(until deadline: Date) async
}

extension SluiceClock {
    /// Returns after `seconds` of this clock's time, or when the task is cancelled.
    public func sleep(for seconds: Double) async { await sleep(until: now().addingTimeInterval(seconds)) }
}

public struct WallClock: SluiceClock {
    public init() {}

    /// Sleeps whose timer is set and has neither fired nor been cancelled (tests see cancelled sleeps let go).
    public static var pendingTimers: Int { TimerSleep.pending.load(ordering: .relaxed) }

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else { return }
        // Cancellation ends the sleep early, which is what the caller asks for, and frees its timer.
        await TimerSleep.sleep(seconds: min(seconds, 86_400))
    }
}
