// RelayTarget: the `relay` route. Delivers to a named upstream pool (smart
// hosts, security relays, partner servers). Healthy hosts are tried first,
// rotating the starting host to spread load; a host that fails three times in
// a row rests (passive health) until a periodic probe (EHLO, TLS, AUTH, QUIT)
// finds it answering again, or a minute has passed. While every host of a pool
// rests, its backup pool takes the traffic; resting hosts are tried only when
// no healthy host is left anywhere in the chain. Recipients refused by a
// server come back one by one; a server that cannot be reached is someone
// else's turn.

import Foundation
import Logging
import NIOConcurrencyHelpers
import SluiceCore
import SluiceSMTP

public struct UpstreamPool: Sendable {
    public var name: String
    public var hosts: [SMTPClient.Endpoint]
    public var tls: OutboundTLS
    public var backup: String?
    public var credentials: ClientCredentials?
    /// Connections at once to one host of this pool.
    public var maxConnections: Int
    /// Seconds between probes of resting hosts (0: no probes).
    public var probeInterval: Double

    public init(
        name: String, hosts: [SMTPClient.Endpoint], tls: OutboundTLS, backup: String?, credentials: ClientCredentials? = nil,
        maxConnections: Int = 10, probeInterval: Double = 30
    ) {
        self.name = name
        self.hosts = hosts
        self.tls = tls
        self.backup = backup
        self.credentials = credentials
        self.maxConnections = maxConnections
        self.probeInterval = probeInterval
    }
}

/// One upstream host as `sluice status` shows it.
public struct UpstreamHealth: Sendable {
    public var pool: String
    public var host: String
    public var resting: Bool
    public var restingUntil: Date?
    /// Failed attempts in a row (0 once one succeeds).
    public var failures: Int
    public var lastError: String?
    public var lastErrorAt: Date?
}

public final class RelayTarget: DeliveryTarget {
    struct Health {
        var failures = 0
        var restUntil = Date.distantPast
        var lastError: String?
        var lastErrorAt: Date?
    }

    static let failuresBeforeRest = 3
    static let restSeconds: Double = 60

    /// The pools in force: the daemon's current runtime (a pool added by a reload is used by the next delivery).
    /// Host health is kept by address across reloads.
    private let currentPools: @Sendable () -> [UpstreamPool]
    /// Connections at once per pool host, by pool name and limit.
    private let limiters = LimiterTable()
    let deliverer: SMTPDeliverer
    let logger: Logger
    private let health = NIOLockedValueBox<[SMTPClient.Endpoint: Health]>([:])
    private let rotation = NIOLockedValueBox<Int>(0)

    /// The one clock: resting hosts, probes, last errors.
    let clock: any SluiceClock

    public init(pools: @escaping @Sendable () -> [UpstreamPool], deliverer: SMTPDeliverer, clock: any SluiceClock = WallClock(), logger: Logger) {
        self.clock = clock
        currentPools = pools
        self.deliverer = deliverer
        self.logger = logger
    }

    var pools: [String: UpstreamPool] { Dictionary(currentPools().map { ($0.name, $0) }) { a, _ in a } }

    func limiter(_ pool: UpstreamPool) -> KeyedLimiter { limiters.limiter(pool.name, limit: pool.maxConnections) }

    public func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        let pools = self.pools
        let name = route.instance
        guard route.kind == "relay", pools[name] != nil else {
            throw SMTPError(451, .init(4, 3, 5), "Unknown upstream", reason: "no upstream pool for \(route)")
        }
        let chain = chain(from: name, in: pools)
        var lastFailure = DeliveryReport(
            refused: Dictionary(uniqueKeysWithValues: recipients.map { ($0, SMTPError(451, .init(4, 4, 1), "No upstream host could be reached")) }))
        // Healthy hosts of the whole chain first (primary, then backup ...); resting ones as a last resort.
        for pass in [false, true] {
            for pool in chain {
                for host in order(pool.hosts, resting: pass) {
                    let outcome = await limiter(pool).withSlot(host.description) {
                        await self.deliverer.attempt(message, to: recipients, host: host, tls: pool.tls, credentials: pool.credentials)
                    }
                    let where_ = "\(pool.name) \(host)"
                    let report = outcome.results(for: recipients, remote: outcome.remote(host), context: where_)
                    if let failure = outcome.failure {
                        if failure.isPermanent {
                            // The server understood and said no (e.g. MAIL FROM refused): final for every recipient.
                            record(host, ok: true)
                            return report
                        }
                        record(host, ok: false, error: "\(failure.reply)")
                        logger.event(
                            .attempt, level: .info, "upstream host failed; trying the next",
                            [.route: where_, .reply: "\(failure.reply)", .reason: failure.reason])
                        lastFailure = report
                        continue
                    }
                    record(host, ok: true)
                    return report
                }
            }
        }
        return lastFailure
    }

    /// The pool and its backups in order, each once.
    func chain(from name: String, in pools: [String: UpstreamPool]) -> [UpstreamPool] {
        var out: [UpstreamPool] = []
        var next: String? = name
        while let n = next, let pool = pools[n], !out.contains(where: { $0.name == n }) {
            out.append(pool)
            next = pool.backup
        }
        return out
    }

    /// The healthy hosts (or, with `resting`, the resting ones), starting at a rotating index.
    func order(_ hosts: [SMTPClient.Endpoint], resting: Bool) -> [SMTPClient.Endpoint] {
        guard !hosts.isEmpty else { return [] }
        let start = rotation.withLockedValue { r -> Int in
            r &+= 1
            return r
        }
        let rotated = (0..<hosts.count).map { hosts[(start + $0) % hosts.count] }
        let now = clock.now()
        return health.withLockedValue { map in rotated.filter { ((map[$0]?.restUntil ?? .distantPast) > now) == resting } }
    }

    func isResting(_ host: SMTPClient.Endpoint) -> Bool {
        health.withLockedValue { ($0[host]?.restUntil ?? .distantPast) > clock.now() }
    }

    /// Every host of every pool in force, with its health (for `sluice status`).
    public func healthReport() -> [UpstreamHealth] {
        let now = clock.now()
        let map = health.withLockedValue { $0 }
        return pools.values.sorted { $0.name < $1.name }.flatMap { pool in
            pool.hosts.map { host in
                let h = map[host] ?? Health()
                return UpstreamHealth(
                    pool: pool.name, host: host.description, resting: h.restUntil > now, restingUntil: h.restUntil > now ? h.restUntil : nil,
                    failures: h.failures, lastError: h.lastError, lastErrorAt: h.lastErrorAt)
            }
        }
    }

    private func record(_ host: SMTPClient.Endpoint, ok: Bool, error: String? = nil) {
        let changed = health.withLockedValue { map -> String? in
            var h = map[host] ?? Health()
            let wasResting = h.restUntil > clock.now()
            if ok {
                // Healthy again; the last error stays visible for the operator.
                h.failures = 0
                h.restUntil = .distantPast
                map[host] = h.lastError == nil ? nil : h
                return wasResting ? "upstream host healthy again" : nil
            }
            h.failures += 1
            h.lastError = error
            h.lastErrorAt = clock.now()
            map[host] = h
            if h.failures >= Self.failuresBeforeRest && !wasResting {
                map[host]?.restUntil = clock.now().addingTimeInterval(Self.restSeconds)
                return "upstream host resting after \(h.failures) failures in a row"
            }
            return nil
        }
        if let changed { logger.event(.upstreamHealth, level: .warning, "\(changed)", [.address: "\(host)"]) }
    }

    /// Probes every resting host of every pool whose interval has come, until cancelled.
    public func runProbes() async {
        var last: [String: Date] = [:]
        while !Task.isCancelled {
            // The pools of the current configuration: a reload may add, remove or retime them.
            let tick = pools.values.map(\.probeInterval).filter { $0 > 0 }.min() ?? 30
            await clock.sleep(for: tick)
            let now = clock.now()
            for pool in pools.values where pool.probeInterval > 0 {
                guard now.timeIntervalSince(last[pool.name] ?? .distantPast) >= pool.probeInterval - 0.01 else { continue }
                last[pool.name] = now
                for host in pool.hosts where isResting(host) {
                    let outcome = await deliverer.attempt(nil, to: [], host: host, tls: pool.tls, credentials: pool.credentials)
                    if outcome.failure == nil { record(host, ok: true) }
                }
            }
        }
    }
}
