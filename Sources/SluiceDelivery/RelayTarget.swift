// RelayTarget: the `relay` route. Delivers to a named upstream pool (smart
// hosts, security relays, partner servers): hosts are tried healthy-first,
// rotating the starting host to spread load; a host that fails three times in
// a row rests for a minute (passive health); when every host of the pool
// fails, the pool's backup pool is tried. Recipients refused by a server come
// back one by one; a server that cannot be reached is someone else's turn.

import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SluiceCore
import SluiceSMTP

public struct UpstreamPool: Sendable {
    public var name: String
    public var hosts: [SMTPClient.Endpoint]
    public var tls: OutboundTLS
    public var backup: String?

    public init(name: String, hosts: [SMTPClient.Endpoint], tls: OutboundTLS, backup: String?) {
        self.name = name
        self.hosts = hosts
        self.tls = tls
        self.backup = backup
    }
}

public final class RelayTarget: DeliveryTarget {
    struct Health {
        var failures = 0
        var restUntil = Date.distantPast
    }

    let pools: [String: UpstreamPool]
    let heloName: String
    let group: any EventLoopGroup
    let io: NIOThreadPool
    let verifying: NIOSSLContext
    let opportunistic: NIOSSLContext
    private let health = NIOLockedValueBox<[String: Health]>([:])
    private let rotation = NIOLockedValueBox<Int>(0)

    public init(pools: [UpstreamPool], heloName: String, group: any EventLoopGroup, io: NIOThreadPool) throws {
        self.pools = Dictionary(uniqueKeysWithValues: pools.map { ($0.name, $0) })
        self.heloName = heloName
        self.group = group
        self.io = io
        var strict = TLSConfiguration.makeClientConfiguration()
        strict.minimumTLSVersion = .tlsv12
        verifying = try NIOSSLContext(configuration: strict)
        var loose = TLSConfiguration.makeClientConfiguration()
        loose.certificateVerification = .none
        opportunistic = try NIOSSLContext(configuration: loose)
    }

    public func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        guard case .relay(let name) = route, var pool = pools[name] else {
            throw SMTPError(451, .init(4, 3, 5), "Unknown upstream", reason: "no upstream pool for \(route)")
        }
        var lastFailure = SMTPError(451, .init(4, 4, 1), "No upstream host could be reached")
        var visited: Set<String> = []
        while visited.insert(pool.name).inserted {
            for host in order(pool.hosts) {
                let job = SMTPClientSession.Job(
                    sender: message.envelope.sender, recipients: recipients, bodyType: message.envelope.bodyType,
                    smtpUTF8: message.envelope.smtpUTF8, size: message.bodyLength + message.prefixBytes.count)
                let session = SMTPClientSession(heloName: heloName, tls: pool.tls, job: job)
                let outcome = await SMTPClient.deliver(
                    to: host, session: session, tls: pool.tls == .required ? verifying : opportunistic,
                    bodyPath: message.bodyPath, bodyLength: message.bodyLength, prefix: message.prefixBytes, group: group, io: io)
                let where_ = "\(pool.name) \(host.host):\(host.port)"
                if let failure = outcome.failure {
                    if failure.isPermanent {
                        // The server understood and said no (e.g. MAIL FROM refused): final for every recipient.
                        record(host, ok: true)
                        return DeliveryReport(
                            refused: Dictionary(uniqueKeysWithValues: recipients.map { ($0, failure) }), detail: "\(where_): \(failure.reply)")
                    }
                    record(host, ok: false)
                    lastFailure = SMTPError(failure.reply, reason: "\(where_): \(failure.reason)")
                    continue
                }
                record(host, ok: true)
                var refused: [MailAddress: SMTPError] = [:]
                for (r, e) in outcome.refused { refused[r] = SMTPError(e.reply, reason: "\(where_): \(e.reason)") }
                let tls = outcome.usedTLS ? " (TLS)" : ""
                return DeliveryReport(refused: refused, detail: "\(where_)\(tls): \(outcome.lastReply.map { "\($0)" } ?? "")")
            }
            guard let backup = pool.backup, let next = pools[backup] else { break }
            pool = next
        }
        throw lastFailure
    }

    /// Healthy hosts first, starting at a rotating index; resting hosts last.
    func order(_ hosts: [SMTPClient.Endpoint]) -> [SMTPClient.Endpoint] {
        guard !hosts.isEmpty else { return [] }
        let start = rotation.withLockedValue { r -> Int in
            r &+= 1
            return r
        }
        let rotated = (0..<hosts.count).map { hosts[(start + $0) % hosts.count] }
        let now = Date()
        let resting = health.withLockedValue { map in Set(rotated.filter { (map[key($0)]?.restUntil ?? .distantPast) > now }.map(key)) }
        return rotated.filter { !resting.contains(key($0)) } + rotated.filter { resting.contains(key($0)) }
    }

    private func key(_ h: SMTPClient.Endpoint) -> String { "\(h.host):\(h.port)" }

    private func record(_ host: SMTPClient.Endpoint, ok: Bool) {
        health.withLockedValue { map in
            var h = map[key(host)] ?? Health()
            if ok {
                h = Health()
            } else {
                h.failures += 1
                if h.failures >= 3 { h.restUntil = Date().addingTimeInterval(60) }
            }
            map[key(host)] = h
        }
    }
}
