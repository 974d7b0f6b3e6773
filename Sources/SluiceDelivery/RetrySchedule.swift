// RetrySchedule: when to try a deferred message again, as a pure function of
// the attempts made so far (the last interval repeats), and when to give up.

import Foundation

public struct RetrySchedule: Sendable {
    public var intervals: [Double]
    public var maxDeliveryTime: Double

    public init(intervals: [Double], maxDeliveryTime: Double) {
        self.intervals = intervals.isEmpty ? [60] : intervals
        self.maxDeliveryTime = maxDeliveryTime
    }

    /// The wait after the `attempts`-th failed attempt (1-based).
    public func delay(afterAttempt attempts: Int) -> Double {
        intervals[min(max(attempts, 1), intervals.count) - 1]
    }

    /// `limit`: a route's own max_delivery_time, when its rule set one.
    public func hasExpired(queuedAt: Date, now: Date, limit: Double? = nil) -> Bool {
        now.timeIntervalSince(queuedAt) >= (limit ?? maxDeliveryTime)
    }
}
