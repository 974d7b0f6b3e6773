// RateLimiters: one rate limiter per traffic policy name, kept across
// reloads: the counts survive a reload and the limits change with it. The
// limits are those of the policy in the runtime current at each check, so a
// reload's new limits apply only once that runtime is swapped in (a refused
// reload changes none).

import NIOConcurrencyHelpers
import SluiceConfig
import SluiceCore

public final class RateLimiters: Sendable {
    private let box = NIOLockedValueBox<[String: RateLimiter]>([:])
    let counters: any RateLimitCounting
    let clock: any SluiceClock

    public init(counters: any RateLimitCounting = MemoryRateLimitCounters(), clock: any SluiceClock = WallClock()) {
        self.counters = counters
        self.clock = clock
    }

    /// The limiter of a policy with rate limits, with that policy's limits (new ones start with them).
    public func limiter(for policy: TrafficPolicy) -> RateLimiter? {
        guard !policy.rateLimits.isEmpty else { return nil }
        let limiter = box.withLockedValue { map in
            if let l = map[policy.name] { return l }
            let l = RateLimiter(limits: policy.rateLimits, counters: counters, clock: clock, scope: policy.name)
            map[policy.name] = l
            return l
        }
        limiter.update(policy.rateLimits)
        return limiter
    }
}
