// AuthThrottle: failed AUTH attempts per client IP and per user name in a
// sliding window (R-AUTH-3). Each failure is answered after a growing delay;
// past the limit, that IP or user is refused (454 4.7.0) until old failures
// leave the window. Pure logic with an injected clock, behind a lock.

import Foundation
import NIOConcurrencyHelpers

public struct AuthThrottlePolicy: Sendable {
    /// Failures allowed per key within the window before refusing.
    public var maxFailures: Int
    public var window: Double
    /// Delay before a failure reply: base * 2^(n-1), capped at 8 * base.
    public var baseDelay: Double

    public init(maxFailures: Int = 10, window: Double = 60, baseDelay: Double = 1) {
        self.maxFailures = maxFailures
        self.window = window
        self.baseDelay = baseDelay
    }
}

public final class AuthThrottle: Sendable {
    public let policy: AuthThrottlePolicy
    private let failures = NIOLockedValueBox<[String: [Date]]>([:])
    private let now: @Sendable () -> Date

    public init(policy: AuthThrottlePolicy, now: @escaping @Sendable () -> Date = { Date() }) {
        self.policy = policy
        self.now = now
    }

    static func ipKey(_ ip: String) -> String { "ip:\(ip)" }
    static func userKey(_ user: String) -> String { "user:\(user.lowercased())" }

    /// Whether this IP (and user, when known) may try now.
    public func isBlocked(ip: String, user: String?) -> Bool {
        let t = now()
        return failures.withLockedValue { map in
            var keys = [Self.ipKey(ip)]
            if let user { keys.append(Self.userKey(user)) }
            return keys.contains { key in
                (map[key] ?? []).filter { t.timeIntervalSince($0) < policy.window }.count >= policy.maxFailures
            }
        }
    }

    /// Records a failure; returns the delay to wait before answering.
    public func recordFailure(ip: String, user: String?) -> Double {
        let t = now()
        let count = failures.withLockedValue { map -> Int in
            var worst = 0
            var keys = [Self.ipKey(ip)]
            if let user { keys.append(Self.userKey(user)) }
            for key in keys {
                var list = (map[key] ?? []).filter { t.timeIntervalSince($0) < policy.window }
                list.append(t)
                map[key] = list
                worst = max(worst, list.count)
            }
            if map.count > 100_000 { map = map.filter { !$0.value.isEmpty && t.timeIntervalSince($0.value.last!) < policy.window } }
            return worst
        }
        return policy.baseDelay * Double(min(1 << min(count - 1, 3), 8))
    }

    /// A success clears the user's failures (not the IP's).
    public func recordSuccess(user: String) {
        _ = failures.withLockedValue { $0.removeValue(forKey: Self.userKey(user)) }
    }
}
