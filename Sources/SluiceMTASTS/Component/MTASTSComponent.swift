// MTASTSComponent: MTA-STS (RFC 8461) for direct delivery as a component: in
// the daemon it decides each recipient domain's outbound TLS policy for
// `send` (the administrator's `delivery.tls_policy` entry for the domain,
// else the domain's published policy, else the `*` default), fetches
// policies with async-http-client through Sluice's resolver, keeps them
// under data_dir/mta-sts/, and shows them in `sluice status`. It reads
// `delivery.mta_sts` (https_port, ca_file; ca_file defaults to
// delivery.ca_file); the keys are read with `delivery:`.

import Foundation
import SluiceConfig
import SluiceCore
import SluicePipeline

public struct MTASTSComponent: Component {
    public let name = "mta-sts"

    public init() {}

    public func review(_ runtime: Runtime) -> [CheckNote] {
        let d = runtime.config.delivery
        var notes: [CheckNote] = []
        let own = d.tlsPolicy.filter { $0.key != "*" }.sorted { $0.key < $1.key }
        if !own.isEmpty {
            notes.append(.info("delivery: TLS per domain overrides what the domains publish: \(own.map { "\($0.key) \($0.value.rawValue)" }.joined(separator: ", "))"))
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
        let policies = MTASTSPolicies(
            resolver: resolver, fetcher: fetcher, directory: PolicyDirectory(path: (config.dataDir as NSString).appendingPathComponent("mta-sts")),
            clock: env.clock, io: env.executors.files, logger: env.logger) { runtime.current.config.delivery.tlsPolicy }
        try host.setOutboundTLSPolicy(policies)
        let clock = env.clock
        host.add(status: StatusSection(name: "mta_sts") {
            let now = clock.now()
            return .array(await policies.report().map { e in
                .object([
                    "domain": .string(e.domain), "id": .string(e.id), "mode": .string(e.policy.mode.rawValue),
                    "mx": .array(e.policy.mx.map(JSONValue.string)), "fetched": .string(ISO8601Time.utc(e.fetched)),
                    "expires": .string(ISO8601Time.utc(e.expires)), "in_force": .bool(e.expires > now),
                ])
            })
        })
    }
}
