// DANEHosts: what DANE requires of each MX host of a domain (RFC 7672 §2):
// only where the MX answer is DNSSEC-secure (or, without MX records, the
// domain's own address) and the host's address records are secure too, the
// host's TLSA records at _PORT._tcp.HOST are looked up: secure and usable →
// its chain must match them; secure but none usable → TLS without
// authentication; bogus or not to be had → the host is not used now;
// insecure or none → no DANE for it (the rest of the policy applies). All
// lookups go through the resolver, which caches them.

import SluiceCore

struct DANEHosts: Sendable {
    let resolver: any DNSResolver
    let port: Int
    let clock: any SluiceClock
    /// At most this many MX hosts are asked about (as many as `send` tries).
    static let hostLimit = 5

    func requirements(for domain: String) async -> [String: HostTLSRequirement] {
        let answer: DNSAnswer
        do {
            answer = try await resolver.lookup(domain, .mx)
        } catch {
            return [:]  // send's own MX lookup reports it
        }
        guard answer.security == .secure else { return [:] }
        let exchanges = answer.mx.sorted { $0.preference < $1.preference }.map { $0.exchange.lowercased() }.filter { !$0.isEmpty }
        let hosts = answer.status == .ok ? exchanges : [domain]
        var out: [String: HostTLSRequirement] = [:]
        for host in hosts.prefix(Self.hostLimit) {
            if let r = await requirement(host) { out[host] = r }
        }
        return out
    }

    /// The host's requirement, or nil when DANE does not apply to it.
    func requirement(_ host: String) async -> HostTLSRequirement? {
        // Only a host whose address DNSSEC vouches for is looked up for TLSA (RFC 7672 §2.2.2).
        guard let address = try? await resolver.lookup(host, .a), address.security == .secure else { return nil }  // no address now: send says so
        do {
            let answer = try await resolver.lookup("_\(port)._tcp.\(host)", .tlsa)
            guard answer.security == .secure, !answer.tlsa.isEmpty else { return nil }
            let usable = answer.tlsa.filter(TLSAMatch.usable)
            return usable.isEmpty ? .encrypted : .verified(by: DANEVerifier(records: usable, hostname: host, clock: clock))
        } catch {
            let what = error.bogus ? "its TLSA records fail DNSSEC validation" : "its TLSA records could not be looked up"
            return .unusable("\(what) (\(error.message)); not used until they can be")
        }
    }
}
