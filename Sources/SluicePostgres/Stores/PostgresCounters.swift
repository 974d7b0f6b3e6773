// The shared counters: rate limits and the AUTH throttle's failures, counted
// in the database so that a limit holds across every node. Each check is one
// round trip (one function call that locks, tests and counts), exact: the
// nodes never admit more than the limit between them (error bound 0), and no
// local cache can let a burst through on each node. When the database cannot
// answer within `timeout`, `on_unavailable` decides: fail_closed refuses (a
// rate limit defers with 451 4.7.1; AUTH answers 454 4.7.0), fail_open lets
// the attempt through uncounted; either way it is logged, at most once a
// minute per store.

import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import SluiceCredentials
import SluicePolicy

/// Logs a database failure at most once a minute.
final class UnavailableLog: Sendable {
    private let last = NIOLockedValueBox<Date?>(nil)
    let db: PostgresDatabase
    let what: String

    init(_ db: PostgresDatabase, what: String) {
        self.db = db
        self.what = what
    }

    func note(_ error: any Error, failOpen: Bool) {
        let now = db.clock.now()
        let due = last.withLockedValue { last -> Bool in
            guard last.map({ now.timeIntervalSince($0) >= 60 }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        db.logger.error(
            "shared store unavailable",
            metadata: ["store": "\(what)", "error": "\(error)", "on_unavailable": "\(failOpen ? "fail_open: not counted" : "fail_closed: refused")"])
    }
}

public final class PostgresRateLimitCounters: RateLimitCounting {
    let db: PostgresDatabase
    let log: UnavailableLog

    public init(_ db: PostgresDatabase) {
        self.db = db
        log = UnavailableLog(db, what: "rate limits")
    }

    public func admit(_ requests: [RateLimitRequest], at t: Date) async -> RateLimitRequest? {
        guard !requests.isEmpty else { return nil }
        let keys = requests.map(\.key)
        let windows = requests.map(\.window)
        let limits = requests.map { Int64($0.limit) }
        let at = t.timeIntervalSince1970
        do {
            let refused = try await db.run { client in
                var index = -1
                let rows = try await client.query(
                    "SELECT sluice_admit(\(keys), \(windows), \(limits), \(at))", logger: self.db.logger)
                for try await i in rows.decode(Int.self) { index = i }
                return index
            }
            return refused >= 0 && refused < requests.count ? requests[refused] : nil
        } catch {
            let open = db.settings.onUnavailable == .failOpen
            log.note(error, failOpen: open)
            return open ? nil : requests[0]
        }
    }
}

public final class PostgresAuthFailures: AuthFailureCounting {
    let db: PostgresDatabase
    let log: UnavailableLog

    public init(_ db: PostgresDatabase) {
        self.db = db
        log = UnavailableLog(db, what: "AUTH throttle")
    }

    /// What a count is while the database cannot say: none (fail_open) or past any limit (fail_closed).
    var unknownCount: Int { db.settings.onUnavailable == .failOpen ? 0 : Int(Int32.max) }

    public func recordFailure(keys: [String], at t: Date, window: Double) async -> [Int] {
        guard !keys.isEmpty else { return [] }
        let at = t.timeIntervalSince1970
        do {
            return try await db.run { client in
                var counts: [Int] = []
                let rows = try await client.query("SELECT sluice_auth_failure(\(keys), \(at), \(window))", logger: self.db.logger)
                for try await c in rows.decode([Int].self) { counts = c }
                return counts
            }
        } catch {
            log.note(error, failOpen: db.settings.onUnavailable == .failOpen)
            return keys.map { _ in max(1, unknownCount) }
        }
    }

    public func failures(key: String, at t: Date, window: Double) async -> Int {
        let at = t.timeIntervalSince1970
        do {
            return try await db.run { client in
                var n = 0
                let rows = try await client.query(
                    "SELECT count(*) FROM auth_failure WHERE key = \(key) AND at > \(at - window)", logger: self.db.logger)
                for try await c in rows.decode(Int.self) { n = c }
                return n
            }
        } catch {
            log.note(error, failOpen: db.settings.onUnavailable == .failOpen)
            return unknownCount
        }
    }

    public func clear(key: String) async {
        do {
            try await db.run { client in
                try await client.query("DELETE FROM auth_failure WHERE key = \(key)", logger: self.db.logger)
                return ()
            }
        } catch {
            log.note(error, failOpen: db.settings.onUnavailable == .failOpen)
        }
    }
}
