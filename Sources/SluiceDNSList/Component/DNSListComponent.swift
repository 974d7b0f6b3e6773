// DNSListComponent: DNS block and allow lists (RFC 5782) as a component. It
// reads `dnsbl:`, registers the DNSListResults verdict and the `dnsbl:` and
// `dnswl:` rule and policy conditions, and in the daemon asks the lists
// about each client when its connection opens and about its sender domain
// and HELO name at MAIL FROM (on listeners whose rules or policy test them).

import SluiceConfig
import SluiceCore
import SluicePipeline

public struct DNSListComponent: Component {
    public let name = "dnsbl"
    public var sections: [any ConfigSection.Type] { [DNSListSection.self] }
    public var policyConditions: [any PolicyConditionKind] {
        [DNSListPolicyConditionKind(kind: .block), DNSListPolicyConditionKind(kind: .allow)]
    }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        let lists = runtime.config.dnsLists
        try runtime.register(DNSListResults.self)
        try runtime.add(DNSListConditionKind(kind: .block, lists: lists))
        try runtime.add(DNSListConditionKind(kind: .allow, lists: lists))
    }

    public func activate(_ host: inout HostBuilder) throws {
        guard let resolver = host.environment.resolver else { return }
        host.add(check: DNSListCheck(runtime: host.environment.runtime, resolver: resolver, logger: host.environment.logger))
    }
}
