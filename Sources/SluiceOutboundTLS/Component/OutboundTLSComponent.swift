// OutboundTLSComponent: outbound transport security for direct delivery as
// a component (R-DELIVER-6): in the daemon it decides each recipient
// domain's TLS policy for `send` (the administrator's `delivery.tls_policy`
// entry for the domain; else DANE, RFC 7672, for MX hosts with DNSSEC-secure
// TLSA records when `dns.trust_anchor` is set; else the domain's MTA-STS
// policy, RFC 8461, fetched with async-http-client through Sluice's resolver
// and kept under data_dir/mta-sts/; else the `*` default), and shows the
// cached MTA-STS policies in `sluice status`. It reads `delivery.mta_sts`
// (https_port, ca_file; ca_file defaults to delivery.ca_file) and
// `delivery.send_port` (the port TLSA records are asked for).

import Foundation
import SluiceConfig
import SluiceCore
import SluicePipeline

public struct OutboundTLSComponent: Component {
    public let name = "outbound-tls"

    public init() {}

    public func review(_ runtime: Runtime) -> [CheckNote] {
        let d = runtime.config.delivery
        var notes: [CheckNote] = []
        let own = d.tlsPolicy.filter { $0.key != "*" }.sorted { $0.key < $1.key }
        if !own.isEmpty {
            notes.append(.info("delivery: TLS per domain overrides what the domains publish: \(own.map { "\($0.key) \($0.value.rawValue)" }.joined(separator: ", "))"))
        }
        if runtime.config.dns.trustAnchor != nil {
            notes.append(.info("delivery: DANE (TLSA records validated from \(runtime.config.dns.trustAnchor ?? "")) comes before MTA-STS for MX hosts that publish them"))
        }
        if d.tlsPolicy["*"] == DomainTLSPolicy.Mode.none {
            notes.append(.warning("delivery.tls_policy '*': none sends mail in clear to every domain without its own entry or an MTA-STS policy"))
        }
        return notes
    }

    public func activate(_ host: inout HostBuilder) throws {
        guard host.mode == .daemon else { return }
        let env = host.environment
        let config = host.config
        guard let group = env.eventLoops, let resolver = env.resolver else { throw RuntimeError("MTA-STS needs the event loops and the resolver") }
        let runtime = env.runtime
        // The port and trust roots of policy hosts are read at start (a reload names them as needing a restart).
        let fetcher = PolicyFetcher(
            group: group, resolver: resolver, port: config.delivery.mtaSTS.httpsPort, caFile: config.delivery.mtaSTS.caFile ?? config.delivery.caFile)
        let published = MTASTSPolicies(
            resolver: resolver, fetcher: fetcher, directory: PolicyDirectory(path: (config.dataDir as NSString).appendingPathComponent("mta-sts")),
            clock: env.clock, io: env.executors.files, logger: env.logger)
        let dane = config.dns.trustAnchor == nil ? nil : DANEHosts(resolver: resolver, port: config.delivery.sendPort, clock: env.clock)
        var policies = OutboundTLSPolicies(mtaSTS: published, dane: dane) { runtime.current.config.delivery.tlsPolicy }
        let reports = (config.dataDir as NSString).appendingPathComponent("tlsrpt")
        policies.log = TLSResultLog(directory: reports + "/results", io: env.executors.files, logger: env.logger)
        try host.setOutboundTLSPolicy(policies)
        let mailer = TLSReportMailer(resolver: resolver, localMail: env.localMail, clock: env.clock, logger: env.logger)
        host.add(service: DailyReportService(config: config, clock: env.clock, io: env.executors.files, mailer: mailer, logger: env.logger))
        let clock = env.clock
        host.add(status: StatusSection(name: "mta_sts") {
            let now = clock.now()
            return .array(await published.report().map { e in
                .object([
                    "domain": .string(e.domain), "id": .string(e.id), "mode": .string(e.policy.mode.rawValue),
                    "mx": .array(e.policy.mx.map(JSONValue.string)), "fetched": .string(ISO8601Time.utc(e.fetched)),
                    "expires": .string(ISO8601Time.utc(e.expires)), "in_force": .bool(e.expires > now),
                ])
            })
        })
    }
}
