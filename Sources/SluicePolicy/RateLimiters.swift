// RateLimiters: one rate limiter per traffic policy name, kept across
// reloads: the counts survive a reload and the limits change with it. A
// runtime being built takes its limiters from here; a reload's new limits
// apply only when that runtime is swapped in (a refused reload changes none).

import NIOConcurrencyHelpers
import SluiceConfig

public final class RateLimiters: Sendable {
    private let box = NIOLockedValueBox<[String: RateLimiter]>([:])

    public init() {}

    /// The limiter of a policy with rate limits (new ones start with the policy's limits).
    public func limiter(for policy: TrafficPolicy) -> RateLimiter? {
        guard !policy.rateLimits.isEmpty else { return nil }
        return box.withLockedValue { map in
            if let l = map[policy.name] { return l }
            let l = RateLimiter(limits: policy.rateLimits)
            map[policy.name] = l
            return l
        }
    }

    /// The limits of the policies now in force.
    public func apply(_ policies: [TrafficPolicy]) {
        for p in policies where !p.rateLimits.isEmpty { limiter(for: p)?.update(p.rateLimits) }
    }
}
