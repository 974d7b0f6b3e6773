// RateLimiter: messages and recipients per window, per client IP, per
// authenticated user and per sender domain (R-SMTP-7), answered with 451 4.7.1
// so well-behaved senders retry later. Counts use two fixed windows blended
// into a sliding estimate: constant memory per key.

import Foundation
import SluiceConfig
import SluiceCore

public final class RateLimiter: @unchecked Sendable {
    struct Counter {
        var start: Date
        var current: Double
        var previous: Double
    }

    private let lock = NSLock()
    private var limits: [RateLimit]
    private var counters: [String: Counter] = [:]
    private let now: @Sendable () -> Date

    public init(limits: [RateLimit], now: @escaping @Sendable () -> Date = { Date() }) {
        self.limits = limits
        self.now = now
    }

    /// New limits (reload); counts so far are kept.
    public func update(_ limits: [RateLimit]) {
        lock.lock()
        if self.limits != limits { self.limits = limits }
        lock.unlock()
    }

    /// Counts a new message (MAIL FROM); nil when within every limit.
    public func admitMessage(client: ClientInfo, sender: MailAddress?) -> SMTPError? {
        admit(kind: "messages", client: client, sender: sender) { $0.messages }
    }

    /// Counts a recipient (RCPT TO); nil when within every limit.
    public func admitRecipient(client: ClientInfo, sender: MailAddress?) -> SMTPError? {
        admit(kind: "recipients", client: client, sender: sender) { $0.recipients }
    }

    private func admit(kind: String, client: ClientInfo, sender: MailAddress?, limit: (RateLimit) -> Int?) -> SMTPError? {
        let t = now()
        lock.lock()
        defer { lock.unlock() }
        var keys: [(String, RateLimit, Int)] = []
        for l in limits {
            guard let max = limit(l), let k = key(l.key, client: client, sender: sender) else { continue }
            keys.append(("\(kind)|\(l.window)|\(k)", l, max))
        }
        // Refuse without counting if any limit is reached; otherwise count against all.
        for (k, l, max) in keys where estimate(k, window: l.window, at: t) + 1 > Double(max) {
            let what = k.split(separator: "|").last.map(String.init) ?? ""
            return SMTPError(
                451, .init(4, 7, 1), "Rate limit exceeded (\(kind) for \(what)), try again later",
                reason: "rate limit: \(max) \(kind) per \(Int(l.window))s for \(what)")
        }
        for (k, l, _) in keys { count(k, window: l.window, at: t) }
        if counters.count > 200_000 { counters = counters.filter { t.timeIntervalSince($0.value.start) < 2 * 86400 } }
        return nil
    }

    private func key(_ k: RateLimit.Key, client: ClientInfo, sender: MailAddress?) -> String? {
        switch k {
        case .clientIP: return client.address.map { "ip \($0)" }
        case .user: return client.authenticatedUser.map { "user \($0.lowercased())" }
        case .senderDomain: return sender.map { "domain \($0.normalizedDomain)" }
        }
    }

    private func roll(_ c: inout Counter, window: Double, at t: Date) {
        let elapsed = t.timeIntervalSince(c.start)
        if elapsed >= 2 * window {
            c = Counter(start: t, current: 0, previous: 0)
        } else if elapsed >= window {
            c = Counter(start: c.start.addingTimeInterval(window), current: 0, previous: c.current)
        }
    }

    private func estimate(_ k: String, window: Double, at t: Date) -> Double {
        guard var c = counters[k] else { return 0 }
        roll(&c, window: window, at: t)
        let fraction = min(1, max(0, t.timeIntervalSince(c.start) / window))
        return c.previous * (1 - fraction) + c.current
    }

    private func count(_ k: String, window: Double, at t: Date) {
        var c = counters[k] ?? Counter(start: t, current: 0, previous: 0)
        roll(&c, window: window, at: t)
        c.current += 1
        counters[k] = c
    }
}
