// RateLimitCounting: the storage contract of rate-limit counts (R-SMTP-7):
// per key, two fixed windows blended into a sliding estimate. Async, so that
// the nodes of a cluster can share the counts in a database;
// MemoryRateLimitCounters is the embedded one (this process's memory,
// constant per key, bounded).

import Foundation
import NIOConcurrencyHelpers

/// One limit a message or recipient is counted against.
public struct RateLimitRequest: Sendable, Equatable {
    /// What is counted, and for whom ("messages|60.0|ip 192.0.2.1").
    public var key: String
    public var window: Double
    public var limit: Int

    public init(key: String, window: Double, limit: Int) {
        self.key = key
        self.window = window
        self.limit = limit
    }
}

public protocol RateLimitCounting: Sendable {
    /// If one more stays within every request's limit, counts one for each and returns nil; otherwise counts nothing and
    /// returns the first request that would go over.
    func admit(_ requests: [RateLimitRequest], at: Date) async -> RateLimitRequest?
}

public final class MemoryRateLimitCounters: RateLimitCounting {
    struct Counter {
        var start: Date
        var current: Double
        var previous: Double
    }

    private let counters = NIOLockedValueBox<[String: Counter]>([:])

    public init() {}

    public func admit(_ requests: [RateLimitRequest], at t: Date) async -> RateLimitRequest? {
        counters.withLockedValue { counters in
            // Refuse without counting if any limit is reached; otherwise count against all.
            for r in requests where Self.estimate(counters[r.key], window: r.window, at: t) + 1 > Double(r.limit) { return r }
            for r in requests {
                var c = counters[r.key] ?? Counter(start: t, current: 0, previous: 0)
                Self.roll(&c, window: r.window, at: t)
                c.current += 1
                counters[r.key] = c
            }
            if counters.count > 200_000 { counters = counters.filter { t.timeIntervalSince($0.value.start) < 2 * 86400 } }
            return nil
        }
    }

    static func roll(_ c: inout Counter, window: Double, at t: Date) {
        let elapsed = t.timeIntervalSince(c.start)
        if elapsed >= 2 * window {
            c = Counter(start: t, current: 0, previous: 0)
        } else if elapsed >= window {
            c = Counter(start: c.start.addingTimeInterval(window), current: 0, previous: c.current)
        }
    }

    static func estimate(_ counter: Counter?, window: Double, at t: Date) -> Double {
        guard var c = counter else { return 0 }
        roll(&c, window: window, at: t)
        let fraction = min(1, max(0, t.timeIntervalSince(c.start) / window))
        return c.previous * (1 - fraction) + c.current
    }
}
