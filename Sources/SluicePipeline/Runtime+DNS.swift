// The resolver a configuration names (`dns:`). DNS settings need a restart,
// so the resolver lives beside the runtime, not in it; `sluice check` builds
// one too, so a resolver that cannot start is reported before the daemon's
// start (a bad nameserver, an unreadable resolv.conf).

import SluiceConfig
import SluiceDNS

extension Runtime {
    public static func resolver(_ config: SluiceConfiguration) throws -> UnboundResolver {
        do {
            let nameserver: UnboundResolver.Nameserver =
                config.dns.nameserver.map { .address($0.host, port: $0.port) } ?? .system
            return try UnboundResolver(nameserver: nameserver, timeout: config.dns.timeout)
        } catch {
            throw RuntimeError("DNS resolver: \(error)")
        }
    }
}
