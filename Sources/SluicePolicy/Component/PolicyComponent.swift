// PolicyComponent: the accept stage as a component: each listener's traffic
// policy (`policies:`), relay control (never an open relay) and the policy's
// rate limits, checked during the SMTP dialogue. Each runtime holds the
// policies; the process holds the rate-limit counts, which survive a reload
// while the limits change with it (a refused reload changes none: its
// runtime is never current).

import SluiceConfig
import SluiceCore
import SluicePipeline

public struct PolicyComponent: Component {
    public let name = "policy"

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        runtime.set(AcceptPolicies(runtime.config))
    }

    public func provideStores(_ stores: inout StoreRegistry) {
        stores.provide((any RateLimitCounting).self) { _ in MemoryRateLimitCounters() }
    }

    public func activate(_ host: inout HostBuilder) throws {
        let env = host.environment
        let limiters = RateLimiters(counters: try env.storage.store((any RateLimitCounting).self), clock: env.clock)
        host.add(check: PolicyCheck(runtime: env.runtime, limiters: limiters))
    }
}

/// Each listener's traffic policy and the relay control of one runtime.
public struct AcceptPolicies: Sendable {
    public let relay: RelayControl
    public let byListener: [String: TrafficPolicy]

    public init(_ config: SluiceConfiguration) {
        relay = RelayControl(
            localDomains: config.localDomains + config.servedDomains, trustedNetworks: config.trustedNetworks, ownNames: [config.hostname],
            certificates: config.certificates)
        var map: [String: TrafficPolicy] = [:]
        for l in config.listeners { map[l.name] = l.policy.flatMap { config.policies[$0] } }
        byListener = map
    }

    /// A listener's accept policy; one the configuration no longer names (removed by a reload, still bound until the
    /// restart) keeps relay control: never an open relay.
    public func acceptPolicy(forListener name: String, limiters: RateLimiters) -> AcceptPolicy {
        let policy = byListener[name]
        return AcceptPolicy(relay: relay, policy: policy, limiter: policy.flatMap { limiters.limiter(for: $0) })
    }
}

/// The accept stage of every listener, read from the runtime current at each check.
struct PolicyCheck: SessionCheck {
    let runtime: RuntimeHolder
    let limiters: RateLimiters

    func policy(_ client: ClientInfo) -> AcceptPolicy {
        let current = runtime.current
        let policies = current.part(AcceptPolicies.self) ?? AcceptPolicies(current.config)
        return policies.acceptPolicy(forListener: client.listener, limiters: limiters)
    }

    func checkConnection(_ client: ClientInfo, facts: inout MessageVerdicts) async throws {
        try await policy(client).checkConnection(client, facts: &facts)
    }

    func checkSender(_ sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        try await policy(client).checkSender(sender, client: client, facts: &facts)
    }

    func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        try await policy(client).checkRecipient(recipient, sender: sender, client: client, facts: &facts)
    }
}
