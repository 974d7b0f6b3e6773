// LMTPComponent: delivery to mail stores over LMTP (RFC 2033) as a
// component: `lmtp:` read here, the `lmtp` target kind (instances checked at
// load), the `deliver_lmtp:` action, and in the daemon the target, on a
// connection pool of its own.

import SluiceConfig
import SluiceCore
import SluiceDelivery
import SluicePipeline

public struct LMTPComponent: Component {
    public let name = "lmtp"
    public var sections: [any ConfigSection.Type] { [LMTPSection.self] }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        let names = Set(runtime.config.lmtpServers.keys)
        try runtime.declareTarget(kind: "lmtp", instances: names)
        try runtime.add(DeliverLMTPActionKind(servers: names))
    }

    public func review(_ runtime: Runtime) -> [CheckNote] {
        runtime.config.lmtpServers.values.sorted { $0.name < $1.name }.map { s in
            .info("lmtp \(s.name): \(s.endpoint) (tls: \(s.tls.rawValue)\(s.mailbox.map { ", mailbox \($0)" } ?? ""))")
        }
    }

    public func activate(_ host: inout HostBuilder) throws {
        guard host.mode == .daemon else { return }
        let env = host.environment
        let config = host.config
        guard let group = env.eventLoops else { throw RuntimeError("LMTP delivery needs the event loops") }
        let pool = SMTPConnectionPool(
            idleLimit: config.delivery.connectionIdleTimeout, reuseLimit: config.delivery.connectionReuseLimit, clock: env.clock)
        let deliverer = try SMTPDeliverer(
            heloName: config.hostname, group: group, io: env.executors.files, pool: pool, caFile: config.delivery.caFile)
        let runtime = env.runtime
        try host.add(target: LMTPTarget(servers: { runtime.current.config.lmtpServers }, deliverer: deliverer), kind: "lmtp")
    }
}
