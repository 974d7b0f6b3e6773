// DeliveryComponent: the delivery targets of this module as a component:
// `store` (a directory of .eml files; also where mail of a listener without
// rules goes, delivery.store), `relay` (the pools of `upstreams:`, with
// passive health and probes), `send` (each domain's MX hosts) and `bounce`
// (a DSN with a rule's reply), their rule actions, the Subject tags of
// `tag_subject`, and the upstreams' health in `sluice status`.

import Foundation
import SluiceConfig
import SluiceCore
import SluicePipeline

public struct DeliveryComponent: Component {
    public let name = "delivery"
    public var sections: [any ConfigSection.Type] { [UpstreamsSection.self] }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        let config = runtime.config
        var warnings: [String] = []
        let pools = try UpstreamPools.load(config, warnings: &warnings)
        for w in warnings { runtime.warn(w) }
        runtime.set(pools)
        try runtime.declareTarget(kind: "store")
        try runtime.declareTarget(kind: "relay", instances: Set(config.upstreams.keys))
        try runtime.declareTarget(kind: "send")
        try runtime.declareTarget(kind: "bounce")
        runtime.fallbackRoute = .store(directory: config.delivery.storeDirectory)
        try runtime.add(StoreActionKind())
        try runtime.add(RelayActionKind(upstreams: Set(config.upstreams.keys)))
        try runtime.add(SendActionKind())
        try runtime.add(BounceAction.Kind())
    }

    public func activate(_ host: inout HostBuilder) throws {
        guard host.mode == .daemon else { return }
        let env = host.environment
        let config = host.config
        guard let group = env.eventLoops, let resolver = env.resolver else {
            throw RuntimeError("delivery needs the event loops and the DNS resolver")
        }
        let runtime = env.runtime
        // Connection reuse is read at start (a reload keeps the connections it has).
        let pool = SMTPConnectionPool(
            idleLimit: config.delivery.connectionIdleTimeout, reuseLimit: config.delivery.connectionReuseLimit, clock: env.clock)
        let deliverer = try SMTPDeliverer(
            heloName: config.hostname, group: group, io: env.executors.files, pool: pool, caFile: config.delivery.caFile)
        let relay = RelayTarget(
            pools: { runtime.current.part(UpstreamPools.self)?.pools ?? [] }, deliverer: deliverer, clock: env.clock, logger: env.logger)
        let send = SendTarget(
            resolver: resolver, deliverer: deliverer, port: config.delivery.sendPort, policies: host.outboundTLSPolicy, hostname: config.hostname,
            destinationConcurrency: config.delivery.destinationConcurrency, logger: env.logger, clock: env.clock)
        try host.add(target: StoreTarget(io: env.executors.files), kind: "store")
        try host.add(target: relay, kind: "relay")
        try host.add(target: send, kind: "send")
        try host.add(target: BounceTarget(), kind: "bounce")
        host.add(modifier: SubjectTagModifier(io: env.executors.files), at: .transform)
        host.add(service: UpstreamProbeService(relay: relay))
        host.add(status: StatusSection(name: "upstreams") { .array(relay.healthReport().map(\.json)) })
    }
}

extension UpstreamHealth {
    /// As `/status` and `sluice status --json` show it.
    var json: JSONValue {
        func time(_ d: Date?) -> JSONValue { d.map { .string(ISO8601Time.utc($0)) } ?? .null }
        return .object([
            "pool": .string(pool), "host": .string(host), "state": .string(resting ? "resting" : "healthy"), "failures": .int(Int64(failures)),
            "resting_until": time(restingUntil), "last_error": lastError.map(JSONValue.string) ?? .null, "last_error_at": time(lastErrorAt),
        ])
    }
}
