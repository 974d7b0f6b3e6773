// SMTPConnectionPool: the outbound connections a finished transaction left
// clean, kept for the next message to the same host (Postfix's connection
// cache), with the idle and reuse limits that retire them politely.

import Foundation
import NIOConcurrencyHelpers
import NIOCore
import SluiceCore
import SluiceSMTP

/// Idle connections by host, TLS policy and credentials; each is used by one session at a time. A connection leaves
/// with QUIT (RFC 5321 §4.1.1.10) when it has been idle too long, when the pool has no room for it, or when it is older
/// than the reuse limit (Postfix's smtp_connection_reuse_time_limit), so a server's new configuration reaches us.
public final class SMTPConnectionPool: Sendable {
    struct Idle: Sendable {
        var channel: any Channel
        var negotiated: SMTPClientSession.Negotiated
        /// When it was parked, and when it was opened.
        var since: Date
        var opened: Date
    }

    /// An idle connection is closed after this long (servers dislike idle clients).
    let idleLimit: Double
    /// A connection opened longer ago than this carries no new message.
    let reuseLimit: Double
    /// At most this many idle connections per key.
    let maxIdle: Int
    let clock: any SluiceClock
    private let idle = NIOLockedValueBox<[String: [Idle]]>([:])

    public init(idleLimit: Double = 10, reuseLimit: Double = 300, maxIdle: Int = 10, clock: any SluiceClock = WallClock()) {
        self.idleLimit = idleLimit
        self.reuseLimit = reuseLimit
        self.maxIdle = maxIdle
        self.clock = clock
    }

    /// An idle connection to reuse; those found too old or gone are closed (with QUIT when still open).
    func take(_ key: String) -> Idle? {
        let now = clock.now()
        var retired: [any Channel] = []
        let found = idle.withLockedValue { map -> Idle? in
            while var list = map[key], !list.isEmpty {
                let c = list.removeLast()
                map[key] = list.isEmpty ? nil : list
                if c.channel.isActive && now.timeIntervalSince(c.since) < idleLimit && now.timeIntervalSince(c.opened) < reuseLimit { return c }
                retired.append(c.channel)
            }
            return nil
        }
        for channel in retired { SMTPClientHandler.quit(channel) }
        return found
    }

    /// Keeps a connection for the next message; false if the pool is full, keeps none, or the connection is past
    /// the reuse limit (the caller ends it with QUIT).
    func park(_ key: String, _ c: Idle) -> Bool {
        guard idleLimit > 0, c.since.timeIntervalSince(c.opened) < reuseLimit else { return false }
        return idle.withLockedValue { map in
            guard (map[key]?.count ?? 0) < maxIdle else { return false }
            map[key, default: []].append(c)
            return true
        }
    }

    func remove(_ channel: any Channel) {
        idle.withLockedValue { map in
            for (k, list) in map { map[k] = list.filter { $0.channel !== channel } }
        }
    }

    public var idleCount: Int { idle.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
}
