// AuthThrottle: failed AUTH attempts per client IP and per user name in a
// sliding window (R-AUTH-3), counted in an AuthFailureCounting store (in
// memory on one machine; shared by the nodes of a cluster). Each failure is
// answered after a growing delay; past the limit, that IP or user is refused
// (454 4.7.0) until old failures leave the window. The time comes from the
// injected clock.

import Foundation
import NIOConcurrencyHelpers
import SluiceCore

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

public struct AuthThrottle: Sendable {
    public let policy: AuthThrottlePolicy
    let failures: any AuthFailureCounting
    let clock: any SluiceClock

    public init(policy: AuthThrottlePolicy, failures: any AuthFailureCounting, clock: any SluiceClock) {
        self.policy = policy
        self.failures = failures
        self.clock = clock
    }

    static func ipKey(_ ip: String) -> String { "ip:\(ip)" }
    static func userKey(_ user: String) -> String { "user:\(user.lowercased())" }

    static func keys(ip: String, user: String?) -> [String] { [ipKey(ip)] + (user.map { [userKey($0)] } ?? []) }

    /// Whether this IP (and user, when known) may try now.
    public func isBlocked(ip: String, user: String?) async -> Bool {
        let now = clock.now()
        for key in Self.keys(ip: ip, user: user) where await failures.failures(key: key, at: now, window: policy.window) >= policy.maxFailures {
            return true
        }
        return false
    }

    /// Records a failure; returns the delay to wait before answering.
    public func recordFailure(ip: String, user: String?) async -> Double {
        let counts = await failures.recordFailure(keys: Self.keys(ip: ip, user: user), at: clock.now(), window: policy.window)
        let worst = counts.max() ?? 1
        return policy.baseDelay * Double(min(1 << min(worst - 1, 3), 8))
    }

    /// A success clears the user's failures (not the IP's).
    public func recordSuccess(user: String) async { await failures.clear(key: Self.userKey(user)) }
}

/// The embedded AuthFailureCounting: the failures of the last window per key, in this process's memory (bounded).
public final class MemoryAuthFailures: AuthFailureCounting {
    private let box = NIOLockedValueBox<[String: [Date]]>([:])

    public init() {}

    public func recordFailure(keys: [String], at t: Date, window: Double) async -> [Int] {
        box.withLockedValue { map in
            let counts = keys.map { key -> Int in
                var list = (map[key] ?? []).filter { t.timeIntervalSince($0) < window }
                list.append(t)
                map[key] = list
                return list.count
            }
            if map.count > 100_000 { map = map.filter { !$0.value.isEmpty && t.timeIntervalSince($0.value.last!) < window } }
            return counts
        }
    }

    public func failures(key: String, at t: Date, window: Double) async -> Int {
        box.withLockedValue { ($0[key] ?? []).filter { t.timeIntervalSince($0) < window }.count }
    }

    public func clear(key: String) async { _ = box.withLockedValue { $0.removeValue(forKey: key) } }
}
