// RateLimiter: messages and recipients per window, per client IP, per
// authenticated user and per sender domain (R-SMTP-7), answered with 451 4.7.1
// so well-behaved senders retry later. The limits are a traffic policy's; the
// counts live in a RateLimitCounting store (shared by the policy's
// listeners, and by a cluster's nodes with a shared backend); the time is the
// injected clock's.

import Foundation
import NIOConcurrencyHelpers
import SluiceConfig
import SluiceCore

public final class RateLimiter: Sendable {
    private let limits: NIOLockedValueBox<[RateLimit]>
    let counters: any RateLimitCounting
    let clock: any SluiceClock
    /// Keeps the counts of different policies apart in one store.
    let scope: String

    public init(limits: [RateLimit], counters: any RateLimitCounting = MemoryRateLimitCounters(), clock: any SluiceClock = WallClock(), scope: String = "") {
        self.limits = NIOLockedValueBox(limits)
        self.counters = counters
        self.clock = clock
        self.scope = scope
    }

    /// New limits (reload); counts so far are kept.
    public func update(_ limits: [RateLimit]) {
        self.limits.withLockedValue { if $0 != limits { $0 = limits } }
    }

    /// Counts a new message (MAIL FROM); nil when within every limit.
    public func admitMessage(client: ClientInfo, sender: MailAddress?) async -> SMTPError? {
        await admit(kind: "messages", client: client, sender: sender) { $0.messages }
    }

    /// Counts a recipient (RCPT TO); nil when within every limit.
    public func admitRecipient(client: ClientInfo, sender: MailAddress?) async -> SMTPError? {
        await admit(kind: "recipients", client: client, sender: sender) { $0.recipients }
    }

    private func admit(kind: String, client: ClientInfo, sender: MailAddress?, limit: (RateLimit) -> Int?) async -> SMTPError? {
        var requests: [RateLimitRequest] = []
        var whose: [String: String] = [:]
        for l in limits.withLockedValue({ $0 }) {
            guard let max = limit(l), let k = key(l.key, client: client, sender: sender) else { continue }
            let key = "\(scope)|\(kind)|\(l.window)|\(k)"
            whose[key] = k
            requests.append(RateLimitRequest(key: key, window: l.window, limit: max))
        }
        guard !requests.isEmpty, let over = await counters.admit(requests, at: clock.now()) else { return nil }
        let what = whose[over.key] ?? ""
        return SMTPError(
            451, .init(4, 7, 1), "Rate limit exceeded (\(kind) for \(what)), try again later",
            reason: "rate limit: \(over.limit) \(kind) per \(Int(over.window))s for \(what)")
    }

    private func key(_ k: RateLimit.Key, client: ClientInfo, sender: MailAddress?) -> String? {
        switch k {
        case .clientIP: return client.address.map { "ip \($0)" }
        case .user: return client.authenticatedUser.map { "user \($0.lowercased())" }
        case .senderDomain: return sender.map { "domain \($0.normalizedDomain)" }
        }
    }
}
