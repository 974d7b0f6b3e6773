// The resolver a configuration names (`dns:`). DNS settings need a restart,
// so the resolver lives beside the runtime, not in it; `sluice check` makes
// one too, so a resolver that cannot start is reported before the daemon's
// start (a bad nameserver, an unreadable resolv.conf).

import SluiceConfig

extension UnboundResolver {
    public static func configured(_ config: SluiceConfiguration) throws -> UnboundResolver {
        do {
            let nameserver: UnboundResolver.Nameserver = config.dns.nameserver.map { .address($0.host, port: $0.port) } ?? .system
            return try UnboundResolver(nameserver: nameserver, timeout: config.dns.timeout, trustAnchor: config.dns.trustAnchor)
        } catch {
            throw ResolverSetupError(description: "DNS resolver: \(error)")
        }
    }
}

public struct ResolverSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
